//! Serde `Serializer` writing the anamnesis layout into an HDF5 group.
//!
//! A value is written either *into* a group that already exists (the object itself, see
//! [`Target::InPlace`]) or as a named *entry* of a parent group ([`Target::Entry`]):
//! scalars become attributes, arrays and numeric sequences datasets, and everything else a
//! subgroup with its own `class` tag.

use hdf5::Group;
use serde::ser::{self, Impossible, Serialize};

use super::{
    create_group, write_dataset_bytes, write_fixed_strings_attr, write_i64_attr, write_null_attr,
    write_num_attr, write_str_attr, Num,
};
use crate::array::{self, DType};
use crate::error::{Error, Result};
use crate::format;
use crate::registry::{self, ClassInfo};
use crate::value::{self, Value};

/// Whether a newtype name is one of the crate's private tokens (array, list, object,
/// scalar), which never fit a numeric column.
fn is_token(name: &str) -> bool {
    name.starts_with("$anam::private::")
}

/// Writes `value` into `group`, which becomes the object (struct, map or sequence).
pub(crate) fn to_group<T: ?Sized + Serialize>(value: &T, group: &Group) -> Result<()> {
    value
        .serialize(ValueSerializer::new(Target::InPlace(group)))
        .map_err(|e| e.at_with(|| group.name()))
}

/// Where a value goes.
#[derive(Clone, Copy)]
pub(crate) enum Target<'a> {
    /// The value *is* this group (top level): only groups layouts are possible.
    InPlace(&'a Group),
    /// The value is the member `name` of `parent`.
    Entry { parent: &'a Group, name: &'a str },
}

impl Target<'_> {
    /// The group that holds a compound value of about `entries` attributes and links: the
    /// target itself, or a new subgroup.
    fn group(&self, entries: usize) -> Result<Group> {
        match *self {
            Target::InPlace(g) => Ok(g.clone()),
            Target::Entry { parent, name } => Ok(create_group(parent, name, entries)?),
        }
    }

    fn scalar_slot(&self, what: &str) -> Result<(&Group, &str)> {
        match *self {
            Target::InPlace(_) => Err(Error::unsupported(format!(
                "a top-level value must be a struct, map or sequence, not {what}"
            ))),
            Target::Entry { parent, name } => Ok((parent, name)),
        }
    }

    fn num(&self, value: Num) -> Result<()> {
        let (parent, name) = self.scalar_slot(value.dtype().name())?;
        write_num_attr(parent, name, value)
    }

    fn str(&self, value: &str) -> Result<()> {
        let (parent, name) = self.scalar_slot("a string")?;
        write_str_attr(parent, name, value)
    }

    /// Writes an array: a dataset, or the `AnamEmptyArray` group when it has no elements
    /// (or no dimensions), as Python anamnesis does.
    fn array(&self, dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<()> {
        let (parent, name) = self.scalar_slot("an array")?;
        if shape.is_empty() || shape.contains(&0) {
            // class, shape, dtype and value.
            let group = create_group(parent, name, 4)?;
            write_str_attr(&group, format::CLASS_ATTR, format::EMPTY_ARRAY_CLASS)?;
            if !shape.is_empty() {
                let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
                write_dataset_bytes(
                    &group,
                    format::EMPTY_SHAPE,
                    DType::I64,
                    &[dims.len()],
                    array::as_bytes(&dims),
                )?;
            }
            // Python reads only the dtype of this 2-element dataset.
            let zeros = vec![0u8; 2 * dtype.size()];
            write_dataset_bytes(&group, format::EMPTY_DTYPE, dtype, &[2], &zeros)?;
            // A zero reads back as zero without it, as Python wrote it.
            if shape.is_empty() && bytes.iter().any(|&b| b != 0) {
                write_dataset_bytes(&group, format::EMPTY_VALUE, dtype, &[], bytes)?;
            }
            Ok(())
        } else {
            write_dataset_bytes(parent, name, dtype, shape, bytes)
        }
    }
}

/// The serializer for one value at one [`Target`].
pub(crate) struct ValueSerializer<'a> {
    target: Target<'a>,
    /// Set by [`crate::as_list`]: a sequence keeps the list layout even when numeric.
    force_list: bool,
}

impl<'a> ValueSerializer<'a> {
    fn new(target: Target<'a>) -> Self {
        ValueSerializer {
            target,
            force_list: false,
        }
    }

    fn num(self, v: Num) -> Result<()> {
        self.target.num(v)
    }

    /// A dict with the single entry `{variant: value}`: the layout of enum variants with data.
    fn variant_dict(&self, variant: &'static str) -> Result<(Group, Group)> {
        let group = self.target.group(DICT_ENTRIES)?;
        let (keys, data) = dict_header(&group, 1)?;
        write_str_attr(&keys, &format::list_item(0), variant)?;
        Ok((group, data))
    }
}

/// The entries of a dict group: `class`, `count`, `dictkeys` and `dictdata`.
const DICT_ENTRIES: usize = 4;
/// The entries expected of a group whose size is not known when it is made (a few fields).
pub(crate) const UNKNOWN_ENTRIES: usize = 4;

/// The entries of a list group of `len` items (if known): `class`, `count` and the items.
fn list_entries(len: Option<usize>) -> usize {
    len.map_or(UNKNOWN_ENTRIES, |n| n.saturating_add(2))
}

/// Writes the class and counts of a dict of `count` entries; returns its key and data lists.
fn dict_header(group: &Group, count: usize) -> Result<(Group, Group)> {
    write_str_attr(group, format::CLASS_ATTR, format::DICT_CLASS)?;
    write_i64_attr(group, format::COUNT_ATTR, count as i64)?;
    let keys = list_group(
        create_group(group, format::DICT_KEYS, list_entries(Some(count)))?,
        Some(count),
    )?;
    let data = list_group(
        create_group(group, format::DICT_DATA, list_entries(Some(count)))?,
        Some(count),
    )?;
    Ok((keys, data))
}

/// Marks `group` as a list, writing the count now when it is known.
fn list_group(group: Group, count: Option<usize>) -> Result<Group> {
    write_str_attr(&group, format::CLASS_ATTR, format::LIST_CLASS)?;
    if let Some(n) = count {
        write_i64_attr(&group, format::COUNT_ATTR, n as i64)?;
    }
    Ok(group)
}

macro_rules! num_methods {
    ($($method:ident($t:ty)),*) => {
        $(fn $method(self, v: $t) -> Result<()> {
            self.num(Num::from(v))
        })*
    };
}

impl<'a> ser::Serializer for ValueSerializer<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = SeqSerializer;
    type SerializeMap = MapSerializer;
    type SerializeStruct = StructSerializer;
    type SerializeStructVariant = VariantFieldsSerializer;

    num_methods!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64)
    );

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_char(self, v: char) -> Result<()> {
        self.target.str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        self.target.str(v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.target.array(DType::U8, &[v.len()], v)
    }

    fn serialize_none(self) -> Result<()> {
        // `None` is an absent entry, as in Python anamnesis.
        Ok(())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<()> {
        // `()` is a null-dataspace attribute (HDF5's "no value", h5py's `Empty`), so that
        // unit fields and `Some(())` survive; `None` is the absent entry.
        match self.target {
            Target::InPlace(_) => Ok(()),
            Target::Entry { parent, name } => write_null_attr(parent, name),
        }
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<()> {
        let group = self.target.group(1)?;
        write_str_attr(&group, format::CLASS_ATTR, name)
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        self.target.str(variant)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        if name == array::ARRAY_TOKEN {
            let target = self.target;
            crate::capture::capture(value, |dtype, shape, bytes| {
                target.array(dtype, shape, bytes)
            })
        } else if name == crate::as_list::LIST_TOKEN {
            value.serialize(ValueSerializer {
                target: self.target,
                force_list: true,
            })
        } else if name == value::SCALAR_TOKEN {
            let target = self.target;
            crate::capture::capture(value, |dtype, _, bytes| {
                target.num(Num::from_bytes(dtype, bytes)?)
            })
        } else if name == value::OBJECT_TOKEN {
            let group = self.target.group(UNKNOWN_ENTRIES)?;
            value.serialize(MapOnly::new(
                || {
                    Ok(ObjectWriter {
                        group,
                        key: None,
                        name_maps: Vec::new(),
                        legacy: Vec::new(),
                    })
                },
                not_an_object,
            ))
        } else {
            value.serialize(self)
        }
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        let (_group, data) = self.variant_dict(variant)?;
        value.serialize(ValueSerializer::new(Target::Entry {
            parent: &data,
            name: &format::list_item(0),
        }))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer> {
        if self.force_list {
            return SeqSerializer::new(
                Target::InPlace(&self.target.group(list_entries(len))?),
                len,
            );
        }
        SeqSerializer::new(self.target, len)
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer> {
        SeqSerializer::new(self.target, Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqSerializer> {
        SeqSerializer::new(self.target, Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSerializer> {
        let (_group, data) = self.variant_dict(variant)?;
        let list = list_group(
            create_group(&data, &format::list_item(0), list_entries(Some(len)))?,
            None,
        )?;
        Ok(SeqSerializer::list(list, Some(len)))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<MapSerializer> {
        let group = self.target.group(DICT_ENTRIES)?;
        write_str_attr(&group, format::CLASS_ATTR, format::DICT_CLASS)?;
        let keys = list_group(
            create_group(&group, format::DICT_KEYS, list_entries(len))?,
            None,
        )?;
        let data = list_group(
            create_group(&group, format::DICT_DATA, list_entries(len))?,
            None,
        )?;
        Ok(MapSerializer {
            group,
            keys,
            data,
            pending_keys: Vec::new(),
        })
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<StructSerializer> {
        Ok(StructSerializer {
            // The fields and the class.
            group: self.target.group(len + 1)?,
            class: Some(name),
            info: registry::info_for(name)?,
            written: Vec::new(),
            mapped: Vec::new(),
        })
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantFieldsSerializer> {
        // The fields of a struct variant form a dict (it has no class tag of its own).
        let (_group, data) = self.variant_dict(variant)?;
        let fields = create_group(&data, &format::list_item(0), DICT_ENTRIES)?;
        let (keys, data) = dict_header(&fields, len)?;
        Ok(VariantFieldsSerializer {
            keys,
            data,
            count: 0,
        })
    }
}

/// A struct: a group with a `class` attribute and one entry per field. A registered class
/// ([`ClassInfo`]) also maps member names, leaves out `bcast_only` members and writes its
/// `extra_data` entries beside the members.
pub(crate) struct StructSerializer {
    group: Group,
    /// The class tag still to be written (`None` once written).
    class: Option<&'static str>,
    info: Option<&'static ClassInfo>,
    /// `(stored, member)` names mapped so far, for the `namemaps` attribute.
    mapped: Vec<(&'static str, &'static str)>,
    /// Names written so far (members, and extra_data entries of a registered class).
    written: Vec<String>,
}

impl StructSerializer {
    /// Refuses a second entry under one name (an extra_data key equal to a member's stored
    /// name): HDF5 would keep an attribute and a link of the same name, or fail obscurely.
    fn claim(written: &mut Vec<String>, group: &Group, name: &str) -> Result<()> {
        if written.iter().any(|w| w == name) {
            return Err(Error::invalid(format!(
                "`{name}` is written twice (a member and an extra_data entry?)"
            ))
            .at_with(|| super::join(group, name)));
        }
        written.push(name.to_string());
        Ok(())
    }
}

impl ser::SerializeStruct for StructSerializer {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        if key == format::CLASS_ATTR && self.class.is_some() {
            // A field named `class` (e.g. the tag of `#[serde(tag = "class")]` enums) *is*
            // the class attribute, replacing the container name.
            let tag =
                crate::capture::capture_str(value).map_err(|e| e.at_with(|| self.group.name()))?;
            write_str_attr(&self.group, format::CLASS_ATTR, &tag)?;
            self.class = None;
            return Ok(());
        }
        let mut name = key;
        if let Some(info) = self.info {
            if info.bcast_only.contains(&key) {
                return Ok(());
            }
            if info.extra_data == Some(key) {
                return value
                    .serialize(MapOnly::new(
                        || {
                            Ok(InlineMap {
                                group: &self.group,
                                written: &mut self.written,
                                key: None,
                            })
                        },
                        not_a_map,
                    ))
                    .map_err(|e| e.at_with(|| self.group.name()));
            }
            if let Some(&(member, stored)) = info.name_maps.iter().find(|(m, _)| *m == key) {
                self.mapped.push((stored, member));
                name = stored;
            }
        }
        if self.info.is_some() {
            Self::claim(&mut self.written, &self.group, name)?;
        }
        value
            .serialize(ValueSerializer::new(Target::Entry {
                parent: &self.group,
                name,
            }))
            .map_err(|e| e.at_with(|| super::join(&self.group, name)))
    }

    fn end(self) -> Result<()> {
        if let Some(class) = self.class {
            write_str_attr(&self.group, format::CLASS_ATTR, class)?;
        }
        if !self.mapped.is_empty() {
            let cells: Vec<&str> = self.mapped.iter().flat_map(|&(s, m)| [s, m]).collect();
            write_fixed_strings_attr(
                &self.group,
                format::NAMEMAPS_ATTR,
                &cells,
                &[self.mapped.len(), 2],
            )?;
        }
        Ok(())
    }
}

/// A serializer that accepts only a map (through options and newtypes), handing it to the
/// `SerializeMap` that `make` builds; anything else is `not_a_map()`.
struct MapOnly<F> {
    make: F,
    not_a_map: fn() -> Error,
}

impl<F> MapOnly<F> {
    /// (The bound makes `make` a `FnOnce`, so it may hand out what it captured.)
    fn new<M>(make: F, not_a_map: fn() -> Error) -> Self
    where
        F: FnOnce() -> Result<M>,
    {
        MapOnly { make, not_a_map }
    }
}

fn not_a_map() -> Error {
    Error::invalid("extra_data must be a map with string keys")
}

fn not_an_object() -> Error {
    Error::invalid("an object body must be a map")
}

impl<F> crate::capture::Rejects for MapOnly<F> {
    fn rejected(&self) -> Error {
        (self.not_a_map)()
    }
}

impl<M, F> ser::Serializer for MapOnly<F>
where
    M: ser::SerializeMap<Ok = (), Error = Error>,
    F: FnOnce() -> Result<M>,
{
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = M;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    crate::capture::reject_scalars!();
    crate::capture::reject_common!();

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err((self.not_a_map)())
    }
    fn serialize_map(self, _: Option<usize>) -> Result<M> {
        (self.make)()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err((self.not_a_map)())
    }
}

struct InlineMap<'g> {
    group: &'g Group,
    written: &'g mut Vec<String>,
    key: Option<String>,
}

impl ser::SerializeMap for InlineMap<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        let key = crate::capture::capture_str(key).map_err(|_| not_a_map())?;
        if format::is_reserved(&key) {
            return Err(Error::invalid(format!(
                "extra_data key `{key}` is reserved by the layout"
            )));
        }
        self.key = Some(key);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let key = self.key.take().ok_or_else(not_a_map)?;
        StructSerializer::claim(self.written, self.group, &key)?;
        value
            .serialize(ValueSerializer::new(Target::Entry {
                parent: self.group,
                name: &key,
            }))
            .map_err(|e| e.at_with(|| super::join(self.group, &key)))
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

/// An [`Object`](crate::Object) of [`Value`](crate::Value): written with its class, name
/// maps and legacy lists as they were read.
struct ObjectWriter {
    group: Group,
    key: Option<String>,
    name_maps: Vec<(String, String)>,
    legacy: Vec<String>,
}

impl ser::SerializeMap for ObjectWriter {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        self.key = Some(crate::capture::capture_str(key)?);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error::invalid("object value before its key"))?;
        let at = |e: Error| e.at_with(|| super::join(&self.group, &key));
        match key.as_str() {
            format::CLASS_ATTR => {
                let class = crate::capture::capture_str(value)?;
                write_str_attr(&self.group, format::CLASS_ATTR, &class)
            }
            value::NAME_MAPS_KEY | value::LEGACY_KEY => {
                let v = value::to_value(value)?;
                let mut probe = vec![(Value::from(format::CLASS_ATTR), Value::from(""))];
                probe.push((Value::from(key.as_str()), v));
                let o = value::object_from_entries(probe).map_err(Error::invalid)?;
                self.name_maps.extend(o.name_maps);
                self.legacy.extend(o.legacy_lists);
                Ok(())
            }
            name if self.legacy.iter().any(|l| l == name) => {
                // The legacy layout: `LIST_<name>_count` and subgroups `LIST_<name><i>`.
                let items = match value::to_value(value)? {
                    Value::List(items) => items,
                    _ => return Err(at(Error::invalid("a legacy list member must be a list"))),
                };
                write_i64_attr(
                    &self.group,
                    &format::legacy_list_count(name),
                    items.len() as i64,
                )?;
                for (i, item) in items.iter().enumerate() {
                    let sub = create_group(
                        &self.group,
                        &format::legacy_list_item(name, i),
                        UNKNOWN_ENTRIES,
                    )?;
                    item.serialize(ValueSerializer::new(Target::InPlace(&sub)))
                        .map_err(at)?;
                }
                Ok(())
            }
            name => value
                .serialize(ValueSerializer::new(Target::Entry {
                    parent: &self.group,
                    name,
                }))
                .map_err(at),
        }
    }

    fn end(self) -> Result<()> {
        if !self.name_maps.is_empty() {
            let cells: Vec<&str> = self
                .name_maps
                .iter()
                .flat_map(|(s, m)| [s.as_str(), m.as_str()])
                .collect();
            write_fixed_strings_attr(
                &self.group,
                format::NAMEMAPS_ATTR,
                &cells,
                &[self.name_maps.len(), 2],
            )?;
        }
        if !self.legacy.is_empty() {
            let names: Vec<&str> = self.legacy.iter().map(String::as_str).collect();
            write_fixed_strings_attr(
                &self.group,
                format::LEGACY_LISTS_ATTR,
                &names,
                &[names.len()],
            )?;
        }
        Ok(())
    }
}

/// The fields of a struct variant: a dict whose count was written up front.
pub(crate) struct VariantFieldsSerializer {
    keys: Group,
    data: Group,
    count: usize,
}

impl ser::SerializeStructVariant for VariantFieldsSerializer {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<()> {
        let item = format::list_item(self.count);
        self.count += 1;
        write_str_attr(&self.keys, &item, key)?;
        value
            .serialize(ValueSerializer::new(Target::Entry {
                parent: &self.data,
                name: &item,
            }))
            .map_err(|e| e.at_with(|| super::join(&self.data, &item)))
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

/// A map: the `AnamDict` layout (keys and values in two lists).
pub(crate) struct MapSerializer {
    group: Group,
    keys: Group,
    data: Group,
    /// The keys, written after the values: writing into two groups alternately makes HDF5
    /// grow and reload both object headers for every entry (minutes for 10,000 entries);
    /// keys are scalars, so holding them costs little. Python writes keys, then values.
    pending_keys: Vec<Value>,
}

impl ser::SerializeMap for MapSerializer {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        let item = format::list_item(self.pending_keys.len());
        let key = value::to_value(key).map_err(|e| e.at_with(|| super::join(&self.keys, &item)))?;
        self.pending_keys.push(key);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let item = format::list_item(self.pending_keys.len().saturating_sub(1));
        value
            .serialize(ValueSerializer::new(Target::Entry {
                parent: &self.data,
                name: &item,
            }))
            .map_err(|e| e.at_with(|| super::join(&self.data, &item)))
    }

    fn end(self) -> Result<()> {
        for (i, key) in self.pending_keys.iter().enumerate() {
            let item = format::list_item(i);
            key.serialize(ValueSerializer::new(Target::Entry {
                parent: &self.keys,
                name: &item,
            }))
            .map_err(|e| e.at_with(|| super::join(&self.keys, &item)))?;
        }
        let n = self.pending_keys.len() as i64;
        write_i64_attr(&self.group, format::COUNT_ATTR, n)?;
        write_i64_attr(&self.keys, format::COUNT_ATTR, n)?;
        write_i64_attr(&self.data, format::COUNT_ATTR, n)
    }
}

/// A sequence. Numeric elements of one dtype are buffered and written as one 1-D dataset;
/// the first element that does not fit switches to the `AnamList` layout.
pub(crate) struct SeqSerializer {
    state: SeqState,
    /// Where the sequence goes when it stays numeric (`None`: list layout only).
    entry: Option<(Group, String)>,
    /// The length Serde announced, for sizing the list group if one is made.
    len_hint: Option<usize>,
}

enum SeqState {
    Column {
        dtype: Option<DType>,
        bytes: Vec<u8>,
        len: usize,
    },
    List {
        group: Group,
        len: usize,
    },
}

impl SeqSerializer {
    fn new(target: Target<'_>, len: Option<usize>) -> Result<SeqSerializer> {
        match target {
            Target::InPlace(g) => Ok(SeqSerializer::list(list_group(g.clone(), None)?, len)),
            Target::Entry { parent, name } => Ok(SeqSerializer {
                state: SeqState::Column {
                    dtype: None,
                    bytes: Vec::new(),
                    len: 0,
                },
                entry: Some((parent.clone(), name.to_string())),
                len_hint: len,
            }),
        }
    }

    fn list(group: Group, len: Option<usize>) -> SeqSerializer {
        SeqSerializer {
            state: SeqState::List { group, len: 0 },
            entry: None,
            len_hint: len,
        }
    }

    /// Tries to buffer a numeric element; returns false when the sequence must be a list.
    fn push_num(&mut self, v: Num) -> bool {
        match &mut self.state {
            SeqState::Column { dtype, bytes, len } if dtype.is_none_or(|d| d == v.dtype()) => {
                *dtype = Some(v.dtype());
                v.extend_bytes(bytes);
                *len += 1;
                true
            }
            _ => false,
        }
    }

    /// Switches to the list layout if needed and returns the list group and the next item
    /// name.
    fn next_item(&mut self) -> Result<(Group, String)> {
        if let SeqState::Column { dtype, bytes, len } = &mut self.state {
            let (parent, name) = self.entry.as_ref().expect("column sequences have an entry");
            let entries = list_entries(self.len_hint);
            let group = list_group(create_group(parent, name, entries)?, None)?;
            if let Some(dtype) = *dtype {
                for (i, chunk) in bytes.chunks_exact(dtype.size()).enumerate() {
                    write_num_attr(
                        &group,
                        &format::list_item(i),
                        Num::from_bytes(dtype, chunk)?,
                    )?;
                }
            }
            self.state = SeqState::List { group, len: *len };
        }
        match &mut self.state {
            SeqState::List { group, len } => {
                *len += 1;
                Ok((group.clone(), format::list_item(*len - 1)))
            }
            SeqState::Column { .. } => unreachable!("switched to a list above"),
        }
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        value.serialize(ElementProbe { seq: self })
    }

    fn finish(self) -> Result<()> {
        match self.state {
            SeqState::List { group, len } => write_i64_attr(&group, format::COUNT_ATTR, len as i64),
            SeqState::Column {
                dtype: Some(dtype),
                bytes,
                len,
            } => {
                let (parent, name) = self.entry.expect("column sequences have an entry");
                write_dataset_bytes(&parent, &name, dtype, &[len], &bytes)
            }
            SeqState::Column { dtype: None, .. } => {
                // An empty sequence is an empty list, as Python writes `[]`.
                let (parent, name) = self.entry.expect("column sequences have an entry");
                let group = list_group(
                    create_group(&parent, &name, list_entries(Some(0)))?,
                    Some(0),
                )?;
                drop(group);
                Ok(())
            }
        }
    }
}

macro_rules! seq_impl {
    ($($trait:ident :: $method:ident),*) => {
        $(impl ser::$trait for SeqSerializer {
            type Ok = ();
            type Error = Error;
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
                self.element(value)
            }
            fn end(self) -> Result<()> {
                self.finish()
            }
        })*
    };
}
seq_impl!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// Serializes one sequence element: numbers go to the column buffer when they fit, anything
/// else becomes the next `LIST_item{i}` entry of the list.
struct ElementProbe<'s> {
    seq: &'s mut SeqSerializer,
}

impl ElementProbe<'_> {
    fn num(self, v: Num) -> Result<()> {
        if self.seq.push_num(v) {
            Ok(())
        } else {
            self.entry(|s| s.num(v))
        }
    }

    fn entry<R>(self, f: impl FnOnce(ValueSerializer<'_>) -> Result<R>) -> Result<R> {
        let (group, item) = self.seq.next_item()?;
        f(ValueSerializer::new(Target::Entry {
            parent: &group,
            name: &item,
        }))
        .map_err(|e| e.at_with(|| super::join(&group, &item)))
    }
}

macro_rules! probe_num_methods {
    ($($method:ident($t:ty)),*) => {
        $(fn $method(self, v: $t) -> Result<()> {
            self.num(Num::from(v))
        })*
    };
}

impl ser::Serializer for ElementProbe<'_> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = SeqSerializer;
    type SerializeMap = MapSerializer;
    type SerializeStruct = StructSerializer;
    type SerializeStructVariant = VariantFieldsSerializer;

    probe_num_methods!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64)
    );

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_char(self, v: char) -> Result<()> {
        self.entry(|s| s.serialize_char(v))
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.entry(|s| s.serialize_str(v))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.entry(|s| s.serialize_bytes(v))
    }
    fn serialize_none(self) -> Result<()> {
        // A `None` element is an absent item: it forces the list layout.
        self.entry(|_| Ok(()))
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.entry(|s| s.serialize_unit())
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<()> {
        self.entry(|s| s.serialize_unit_struct(name))
    }
    fn serialize_unit_variant(self, n: &'static str, i: u32, variant: &'static str) -> Result<()> {
        self.entry(|s| s.serialize_unit_variant(n, i, variant))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        if is_token(name) {
            self.entry(|s| s.serialize_newtype_struct(name, value))
        } else {
            value.serialize(self)
        }
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        n: &'static str,
        i: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.entry(|s| s.serialize_newtype_variant(n, i, variant, value))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer> {
        self.entry(|s| s.serialize_seq(len))
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer> {
        self.entry(|s| s.serialize_tuple(len))
    }
    fn serialize_tuple_struct(self, n: &'static str, len: usize) -> Result<SeqSerializer> {
        self.entry(|s| s.serialize_tuple_struct(n, len))
    }
    fn serialize_tuple_variant(
        self,
        n: &'static str,
        i: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSerializer> {
        self.entry(|s| s.serialize_tuple_variant(n, i, variant, len))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<MapSerializer> {
        self.entry(|s| s.serialize_map(len))
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<StructSerializer> {
        self.entry(|s| s.serialize_struct(name, len))
    }
    fn serialize_struct_variant(
        self,
        n: &'static str,
        i: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantFieldsSerializer> {
        self.entry(|s| s.serialize_struct_variant(n, i, variant, len))
    }
}
