//! A value as a whole group: an object (struct, or [`Object`](crate::Object) of a
//! [`Value`](crate::Value)), a list or a dict written into a group that exists.

use hdf5::Group;
use serde::ser::{self, Impossible, Serialize};

use super::map::{variant_dict, MapSerializer, VariantFields};
use super::member::MemberSerializer;
use super::seq::SeqSerializer;
use super::{list_entries, list_group, node, UNKNOWN_ENTRIES};
use crate::error::{Error, Result};
use crate::format;
use crate::h5::group::{create_group, join};
use crate::protocol::{
    self, Narrow, ARRAY_TOKEN, LEGACY_KEY, NAME_MAPS_KEY, OBJECT_TOKEN, SCALAR_TOKEN,
};
use crate::registry::{self, ClassInfo};
use crate::value::{self, Value};

/// Writes a value as the group `group`: only objects, lists and dicts are groups.
pub(crate) struct GroupSerializer {
    group: Group,
}

impl GroupSerializer {
    pub(crate) fn new(group: Group) -> Self {
        GroupSerializer { group }
    }

    fn not_a_group(&self, what: &str) -> Error {
        Error::unsupported(format!(
            "a top-level value must be a struct, map or sequence, not {what}"
        ))
    }
}

impl Narrow for GroupSerializer {
    fn rejected(&self) -> Error {
        self.not_a_group("a scalar")
    }
    fn scalar(self, v: crate::dtype::Scalar) -> Result<()> {
        Err(self.not_a_group(v.dtype().name()))
    }
    fn text(self, _: &str) -> Result<()> {
        Err(self.not_a_group("a string"))
    }
    fn bytes(self, _: &[u8]) -> Result<()> {
        Err(self.not_a_group("an array"))
    }
}

impl ser::Serializer for GroupSerializer {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = SeqSerializer;
    type SerializeMap = MapSerializer;
    type SerializeStruct = StructSerializer;
    type SerializeStructVariant = VariantFields;

    protocol::macros::narrow_scalars!();

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_none(self) -> Result<()> {
        Ok(())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<()> {
        Ok(())
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<()> {
        node::write_str(&self.group, format::CLASS_ATTR, name)
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<()> {
        Err(self.not_a_group("an enum variant name"))
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        match name {
            OBJECT_TOKEN => value.serialize(MapOnly::new(
                || Ok(ObjectWriter::new(self.group)),
                not_an_object,
            )),
            ARRAY_TOKEN => Err(self.not_a_group("an array")),
            SCALAR_TOKEN => Err(self.not_a_group("a complex number")),
            // Sequences written as a group are lists anyway (`LIST_TOKEN`).
            _ => value.serialize(self),
        }
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        let data = variant_dict(&self.group, variant)?;
        value.serialize(MemberSerializer::new(&data, &format::list_item(0)))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer> {
        Ok(SeqSerializer::list(list_group(self.group, None)?, len))
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqSerializer> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSerializer> {
        let data = variant_dict(&self.group, variant)?;
        let list = list_group(
            create_group(&data, &format::list_item(0), list_entries(Some(len)))?,
            None,
        )?;
        Ok(SeqSerializer::list(list, Some(len)))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<MapSerializer> {
        MapSerializer::start(self.group, len)
    }

    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<StructSerializer> {
        Ok(StructSerializer {
            group: self.group,
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
    ) -> Result<VariantFields> {
        // The fields of a struct variant form a dict (it has no class tag of its own).
        let data = variant_dict(&self.group, variant)?;
        VariantFields::start(&data, len)
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

/// Refuses a second entry under one name (an extra_data key equal to a member's stored
/// name): HDF5 would keep an attribute and a link of the same name, or fail obscurely.
fn claim(written: &mut Vec<String>, group: &Group, name: &str) -> Result<()> {
    if written.iter().any(|w| w == name) {
        return Err(Error::invalid(format!(
            "`{name}` is written twice (a member and an extra_data entry?)"
        ))
        .at_with(|| join(group, name)));
    }
    written.push(name.to_string());
    Ok(())
}

impl StructSerializer {
    fn field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<()> {
        if key == format::CLASS_ATTR && self.class.is_some() {
            // A field named `class` (e.g. the tag of `#[serde(tag = "class")]` enums) *is*
            // the class attribute, replacing the container name.
            let tag = protocol::capture_str(value).map_err(|e| e.at_with(|| self.group.name()))?;
            node::write_str(&self.group, format::CLASS_ATTR, &tag)?;
            self.class = None;
            return Ok(());
        }
        let mut name = key;
        if let Some(info) = self.info {
            if info.bcast_only().contains(&key) {
                return Ok(());
            }
            if info.extra_data() == Some(key) {
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
            if let Some(&(member, stored)) = info.name_maps().iter().find(|(m, _)| *m == key) {
                self.mapped.push((stored, member));
                name = stored;
            }
            claim(&mut self.written, &self.group, name)?;
        }
        value
            .serialize(MemberSerializer::new(&self.group, name))
            .map_err(|e| e.at_with(|| join(&self.group, name)))
    }

    fn finish(self) -> Result<()> {
        if let Some(class) = self.class {
            node::write_str(&self.group, format::CLASS_ATTR, class)?;
        }
        if !self.mapped.is_empty() {
            let cells: Vec<&str> = self.mapped.iter().flat_map(|&(s, m)| [s, m]).collect();
            node::write_fixed_strings(
                &self.group,
                format::NAMEMAPS_ATTR,
                &cells,
                &[self.mapped.len(), 2],
            )?;
        }
        Ok(())
    }
}

protocol::macros::forward_fields!(StructSerializer, (), field: field, end: finish);

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

impl<F> Narrow for MapOnly<F> {
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

    protocol::macros::narrow_scalars!();
    protocol::macros::narrow_compounds!();

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

/// The `extra_data` entries of a class, written beside its members.
struct InlineMap<'g> {
    group: &'g Group,
    written: &'g mut Vec<String>,
    key: Option<String>,
}

impl ser::SerializeMap for InlineMap<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        let key = protocol::capture_str(key).map_err(|_| not_a_map())?;
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
        claim(self.written, self.group, &key)?;
        value
            .serialize(MemberSerializer::new(self.group, &key))
            .map_err(|e| e.at_with(|| join(self.group, &key)))
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

/// An [`Object`](crate::Object) of [`Value`]: written with its class, name maps and legacy
/// lists as they were read.
struct ObjectWriter {
    group: Group,
    key: Option<String>,
    name_maps: Vec<(String, String)>,
    legacy: Vec<String>,
}

impl ObjectWriter {
    fn new(group: Group) -> ObjectWriter {
        ObjectWriter {
            group,
            key: None,
            name_maps: Vec::new(),
            legacy: Vec::new(),
        }
    }

    /// Writes a member in the legacy layout: `LIST_<name>_count` and subgroups
    /// `LIST_<name><i>`.
    fn legacy_list(&self, name: &str, items: &[Value]) -> Result<()> {
        write_count_as(&self.group, &format::legacy_list_count(name), items.len())?;
        for (i, item) in items.iter().enumerate() {
            let sub = create_group(
                &self.group,
                &format::legacy_list_item(name, i),
                UNKNOWN_ENTRIES,
            )?;
            item.serialize(GroupSerializer::new(sub))?;
        }
        Ok(())
    }
}

/// Writes an `int64` count attribute under another name than `count`.
fn write_count_as(group: &Group, name: &str, n: usize) -> Result<()> {
    node::write_scalar(group, name, (n as i64).into())
}

impl ser::SerializeMap for ObjectWriter {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        self.key = Some(protocol::capture_str(key)?);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| Error::invalid("object value before its key"))?;
        let at = |e: Error| e.at_with(|| join(&self.group, &key));
        match key.as_str() {
            format::CLASS_ATTR => {
                let class = protocol::capture_str(value)?;
                node::write_str(&self.group, format::CLASS_ATTR, &class)
            }
            NAME_MAPS_KEY | LEGACY_KEY => {
                let v = value::to_value(value)?;
                let probe = vec![
                    (Value::from(format::CLASS_ATTR), Value::from("")),
                    (Value::from(key.as_str()), v),
                ];
                let o = value::object_from_entries(probe).map_err(Error::invalid)?;
                self.name_maps.extend(o.name_maps);
                self.legacy.extend(o.legacy_lists);
                Ok(())
            }
            name if self.legacy.iter().any(|l| l == name) => match value::to_value(value)? {
                Value::List(items) => self.legacy_list(name, &items).map_err(at),
                _ => Err(at(Error::invalid("a legacy list member must be a list"))),
            },
            name => value
                .serialize(MemberSerializer::new(&self.group, name))
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
            node::write_fixed_strings(
                &self.group,
                format::NAMEMAPS_ATTR,
                &cells,
                &[self.name_maps.len(), 2],
            )?;
        }
        if !self.legacy.is_empty() {
            let names: Vec<&str> = self.legacy.iter().map(String::as_str).collect();
            node::write_fixed_strings(
                &self.group,
                format::LEGACY_LISTS_ATTR,
                &names,
                &[names.len()],
            )?;
        }
        Ok(())
    }
}
