//! The Serde `Serializer` of the anamnesis layout.
//!
//! A value is written either *as* a group that exists ([`GroupSerializer`]: the object,
//! list or dict that the group is) or as a named *member* of a group
//! ([`MemberSerializer`]): scalars become attributes, arrays and numeric sequences
//! datasets, and everything else a subgroup written as a group. The serializers call each
//! other as values nest, so they share this file.

use std::borrow::Cow;
use std::collections::HashSet;

use hdf5::Group;
use serde::ser::{self, Impossible, Serialize};

use super::group::{create_group, join};
use super::map_order;
use super::node;
use super::write_scope;
use crate::depth::DepthGuard;
use crate::dtype::{self, DType, Scalar};
use crate::error::{Error, Result};
use crate::format;
use crate::protocol::{
    self, Narrow, Narrowed, ARRAY_TOKEN, LAZY_TOKEN, LEGACY_KEY, LIST_TOKEN, NAME_MAPS_KEY,
    OBJECT_TOKEN, SCALAR_TOKEN,
};
use crate::registry::FieldRole;
use crate::registry::{self, ClassInfo};
use crate::value::{self, Value};

/// Writes `value` into `group`, which becomes the object (struct, map or sequence).
pub(crate) fn to_group<T: ?Sized + Serialize>(value: &T, group: &Group) -> Result<()> {
    let _deferred = node::DeferredScope::enter();
    let mut top = GroupSerializer::new(group.clone())?;
    top.sort_map = map_order::needs_sorting(value);
    value.serialize(top).map_err(|e| e.at_with(|| group.name()))
}

/// Writes `value` as the member `name` of `parent` (a map whose keys do not come in order
/// is written sorted, see [`map_order`]).
pub(crate) fn write_member<T: ?Sized + Serialize>(
    parent: &Group,
    name: &str,
    value: &T,
) -> Result<()> {
    let _deferred = node::DeferredScope::enter();
    let member = MemberSerializer {
        sort_map: map_order::needs_sorting(value),
        ..MemberSerializer::new(parent, name)
    };
    crate::depth::grow(|| value.serialize(member))
}

/// Refuses a member name that would not read back (see [`format::member_name_problem`]).
fn check_member_name(group: &Group, name: &str) -> Result<()> {
    match format::member_name_problem(name) {
        None => Ok(()),
        Some(problem) => Err(Error::invalid(format!(
            "the member name `{name}` {problem}: rename it (for a field, \
             `#[serde(rename = \"...\")]` or `#[anam(name = \"...\")]`)"
        ))
        .at_with(|| join(group, name))),
    }
}

mod ndarray_serde;

/// The associated types of the layout's serializers (each compound has one writer,
/// whichever serializer starts it; a member's struct may be ndarray's array).
macro_rules! compound_types {
    () => {
        compound_types!(StructSerializer);
    };
    ($structure:ty) => {
        protocol::macros::serializer_types!((), Error; SeqSerializer, SeqSerializer,
            SeqSerializer, SeqSerializer, MapSerializer, $structure, VariantFields);
    };
}

/// The entries of a dict group: `class`, `count`, `dictkeys` and `dictdata`.
const DICT_ENTRIES: usize = 4;
/// The entries expected of a group whose size is not known when it is made (a few fields).
pub(crate) const UNKNOWN_ENTRIES: usize = 4;

/// The entries of a list group of `len` items (if known): `class`, `count` and the items.
fn list_entries(len: Option<usize>) -> usize {
    len.map_or(UNKNOWN_ENTRIES, |n| n.saturating_add(2))
}

/// Marks `group` as a list, writing the count now when it is known.
fn list_group(group: Group, count: Option<usize>) -> Result<Group> {
    node::write_str(&group, format::CLASS_ATTR, format::LIST_CLASS)?;
    if let Some(n) = count {
        write_count(&group, n)?;
    } else {
        // Scalar items are created with the count, in HDF5's index order (see there).
        node::defer_attributes(&group);
    }
    Ok(group)
}

/// Writes the `count` attribute of a list or dict (`int64`, as Python writes it), after
/// the items held back for it.
fn write_count(group: &Group, n: usize) -> Result<()> {
    node::write_deferred(group)?;
    node::write_scalar(group, format::COUNT_ATTR, (n as i64).into())
}

/// Writes a value as the group `group`: only objects, lists and dicts are groups. The group
/// is one level of nesting (see [`crate::depth`]) for as long as it is being written.
pub(crate) struct GroupSerializer {
    group: Group,
    depth: DepthGuard,
    /// The value is a map whose keys do not come in order: write it sorted.
    sort_map: bool,
}

impl GroupSerializer {
    pub(crate) fn new(group: Group) -> Result<Self> {
        Ok(GroupSerializer {
            group,
            depth: DepthGuard::enter()?,
            sort_map: false,
        })
    }

    fn not_a_group<T>(&self, what: &str) -> Result<T> {
        Err(Error::unsupported(format!(
            "a top-level value must be a struct, map or sequence, not {what}"
        )))
    }
}

impl ser::Serializer for GroupSerializer {
    compound_types!();

    protocol::macros::serialize_scalars!(self, v => self.not_a_group(Scalar::from(v).dtype().name()));

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_char(self, _: char) -> Result<()> {
        self.not_a_group("a string")
    }

    fn serialize_str(self, _: &str) -> Result<()> {
        self.not_a_group("a string")
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<()> {
        self.not_a_group("an array")
    }

    fn serialize_none(self) -> Result<()> {
        // An absent entry: there would be nothing to read back.
        self.not_a_group("None")
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<()> {
        // A member `()` is an attribute with no value; a group cannot be one.
        self.not_a_group("()")
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<()> {
        node::write_str(&self.group, format::CLASS_ATTR, name)
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<()> {
        self.not_a_group("an enum variant name")
    }

    protocol::macros::serialize_fn!(serialize_newtype_struct(self, name, value) => {
        match name {
            OBJECT_TOKEN => value.serialize(Narrowed(MapOnly::new(
                || Ok(ObjectWriter::new(self.group, self.depth)),
                not_an_object,
            ))),
            ARRAY_TOKEN => self.not_a_group("an array"),
            SCALAR_TOKEN => self.not_a_group("a complex number"),
            // Sequences written as a group are lists anyway (`LIST_TOKEN`).
            _ => value.serialize(self),
        }
    });

    protocol::macros::serialize_fn!(serialize_newtype_variant(self, _, _, variant, value) => {
        let data = variant_dict(&self.group, variant)?;
        write_member(&data, &format::list_item(0), value)
    });

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer> {
        Ok(SeqSerializer::list(
            list_group(self.group, None)?,
            len,
            self.depth,
        ))
    }

    protocol::macros::tuples_as_sequences!();

    protocol::macros::serialize_fn!(serialize_tuple_variant(self, _, _, variant, len) => {
        let data = variant_dict(&self.group, variant)?;
        let list = list_group(
            create_group(&data, &format::list_item(0), list_entries(Some(len)))?,
            None,
        )?;
        Ok(SeqSerializer::list(list, Some(len), self.depth))
    });

    fn serialize_map(self, len: Option<usize>) -> Result<MapSerializer> {
        MapSerializer::start(self.group, len, self.depth, self.sort_map)
    }

    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<StructSerializer> {
        let info = registry::info_for(name)?;
        if info.is_some_and(|i| i.extra_data().is_some()) {
            // Any number of entries: created at the end, in HDF5's index order (see there).
            node::defer_attributes(&self.group);
        }
        Ok(StructSerializer {
            group: self.group,
            _depth: self.depth,
            class: Some(name),
            info,
            written: Claimed::default(),
            mapped: Vec::new(),
        })
    }

    protocol::macros::serialize_fn!(serialize_struct_variant(self, _, _, variant, len) => {
        // The fields of a struct variant form a dict (it has no class tag of its own).
        let data = variant_dict(&self.group, variant)?;
        VariantFields::start(&data, len, self.depth)
    });
}

/// A struct: a group with a `class` attribute and one entry per field. A registered class
/// ([`ClassInfo`]) also maps member names, leaves out `bcast_only` members and writes its
/// `extra_data` entries beside the members.
pub(crate) struct StructSerializer {
    group: Group,
    _depth: DepthGuard,
    /// The class tag still to be written (`None` once written).
    class: Option<&'static str>,
    info: Option<&'static ClassInfo>,
    /// `(stored, member)` names mapped so far, for the `namemaps` attribute.
    mapped: Vec<(&'static str, &'static str)>,
    /// Names written so far (members, and extra_data entries of a registered class).
    written: Claimed,
}

/// The names written so far into one struct's group (its members, and the extra_data
/// entries of a registered class), to refuse a second entry under one name.
///
/// A struct's members are few and their names static: they are kept in a short list and
/// compared there, neither copied nor hashed. With a `HashSet<String>` (a copy and a
/// SipHash of every name, a table per object) this check cost 2.5 M instructions of the
/// 482 M of W1's write (2,000 objects of 3 members, callgrind); with the list, 0.6 M. Past
/// [`Claimed::SHORT`] names, or once an extra_data entry (any number of them) comes, a
/// hash set, so that the check stays linear in the number of entries.
#[derive(Default)]
struct Claimed {
    short: Vec<&'static str>,
    set: Option<HashSet<Cow<'static, str>>>,
}

impl Claimed {
    const SHORT: usize = 16;

    /// Claims `name`, or gives it back if it was claimed before.
    fn insert(&mut self, name: Cow<'static, str>) -> std::result::Result<(), Cow<'static, str>> {
        let set = match &mut self.set {
            Some(set) => set,
            None => match name {
                Cow::Borrowed(s) if self.short.len() < Self::SHORT => {
                    if self.short.contains(&s) {
                        return Err(name);
                    }
                    self.short.push(s);
                    return Ok(());
                }
                _ => self
                    .set
                    .insert(self.short.drain(..).map(Cow::Borrowed).collect()),
            },
        };
        if set.contains(&name) {
            return Err(name);
        }
        set.insert(name);
        Ok(())
    }
}

/// Refuses a second entry under one name (an extra_data key equal to a member's stored
/// name): HDF5 would keep an attribute and a link of the same name, or fail obscurely.
fn claim(written: &mut Claimed, group: &Group, name: Cow<'static, str>) -> Result<()> {
    written.insert(name).map_err(|name| {
        Error::invalid(format!(
            "`{name}` is written twice (a member and an extra_data entry?)"
        ))
        .at_with(|| join(group, &name))
    })
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
            let (stored, mapped_from) = match info.field_role(key) {
                FieldRole::Skipped => return Ok(()),
                FieldRole::Stored { name, mapped_from } => (name, mapped_from),
                FieldRole::ExtraData => {
                    return value
                        .serialize(Narrowed(MapOnly::new(
                            || {
                                Ok(InlineMap {
                                    group: &self.group,
                                    written: &mut self.written,
                                    key: None,
                                })
                            },
                            not_a_map,
                        )))
                        .map_err(|e| e.at_with(|| self.group.name()))
                }
            };
            if let Some(member) = mapped_from {
                self.mapped.push((stored, member));
            }
            name = stored;
            claim(&mut self.written, &self.group, Cow::Borrowed(name))?;
        }
        check_member_name(&self.group, name)?;
        // The field's own storage options (`#[anam(compress = ...)]`), for its datasets.
        let _storage = self
            .info
            .and_then(|i| i.storage(key))
            .map(write_scope::field);
        write_member(&self.group, name, value).map_err(|e| e.at_with(|| join(&self.group, name)))
    }

    fn finish(self) -> Result<()> {
        if let Some(class) = self.class {
            node::write_str(&self.group, format::CLASS_ATTR, class)?;
        }
        node::write_deferred(&self.group)?;
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

impl<M, F> Narrow for MapOnly<F>
where
    M: ser::SerializeMap<Ok = (), Error = Error>,
    F: FnOnce() -> Result<M>,
{
    type Seq = Impossible<(), Error>;
    type Map = M;
    type Struct = Impossible<(), Error>;

    fn rejected(&self) -> Error {
        (self.not_a_map)()
    }
    fn map(self) -> Result<M> {
        (self.make)()
    }
}

/// The `extra_data` entries of a class, written beside its members.
struct InlineMap<'g> {
    group: &'g Group,
    written: &'g mut Claimed,
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
        check_member_name(self.group, &key)?;
        self.key = Some(key);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let key = self.key.take().ok_or_else(not_a_map)?;
        claim(self.written, self.group, Cow::Owned(key.clone()))?;
        write_member(self.group, &key, value).map_err(|e| e.at_with(|| join(self.group, &key)))
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

/// An [`Object`](crate::Object) of [`Value`]: written with its class, name maps and legacy
/// lists as they were read.
struct ObjectWriter {
    group: Group,
    _depth: DepthGuard,
    key: Option<String>,
    name_maps: Vec<(String, String)>,
    legacy: Vec<String>,
}

impl ObjectWriter {
    fn new(group: Group, depth: DepthGuard) -> ObjectWriter {
        // Any number of members: created at the end, in HDF5's index order (see there).
        node::defer_attributes(&group);
        ObjectWriter {
            group,
            _depth: depth,
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
            item.serialize(GroupSerializer::new(sub)?)?;
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
        let key = crate::protocol::key_of_value(&mut self.key, "object")?;
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
            name => {
                check_member_name(&self.group, name)?;
                write_member(&self.group, name, value).map_err(at)
            }
        }
    }

    fn end(self) -> Result<()> {
        node::write_deferred(&self.group)?;
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

/// The serializer for the member `name` of `parent`.
pub(crate) struct MemberSerializer<'a> {
    pub parent: &'a Group,
    pub name: &'a str,
    /// Set by [`crate::as_list`]: a sequence keeps the list layout even when numeric.
    pub force_list: bool,
    /// The value is a map whose keys do not come in order: write it sorted.
    pub sort_map: bool,
}

impl<'a> MemberSerializer<'a> {
    pub(crate) fn new(parent: &'a Group, name: &'a str) -> Self {
        MemberSerializer {
            parent,
            name,
            force_list: false,
            sort_map: false,
        }
    }

    /// The subgroup `name`, made for about `entries` attributes and links, to be written
    /// as a whole.
    fn subgroup(&self, entries: usize) -> Result<GroupSerializer> {
        let mut group = GroupSerializer::new(create_group(self.parent, self.name, entries)?)?;
        group.sort_map = self.sort_map;
        Ok(group)
    }

    fn scalar(self, value: Scalar) -> Result<()> {
        node::write_scalar(self.parent, self.name, value)
    }

    /// Writes an array: a dataset, or the `AnamEmptyArray` group when it has no elements
    /// (or no dimensions), as Python anamnesis does.
    pub(crate) fn array(&self, dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<()> {
        if !shape.is_empty() && !shape.contains(&0) {
            return node::write_dataset(self.parent, self.name, dtype, shape, bytes);
        }
        // class, shape, dtype and value (the layout: never filtered).
        let _depth = DepthGuard::enter()?;
        let _storage = write_scope::unfiltered();
        let group = create_group(self.parent, self.name, 4)?;
        node::write_str(&group, format::CLASS_ATTR, format::EMPTY_ARRAY_CLASS)?;
        if !shape.is_empty() {
            let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
            node::write_dataset(
                &group,
                format::EMPTY_SHAPE,
                DType::I64,
                &[dims.len()],
                dtype::as_bytes(&dims),
            )?;
        }
        // Python reads only the dtype of this 2-element dataset.
        let zeros = vec![0u8; 2 * dtype.size()];
        node::write_dataset(&group, format::EMPTY_DTYPE, dtype, &[2], &zeros)?;
        // A zero reads back as zero without it, as Python wrote it.
        if shape.is_empty() && bytes.iter().any(|&b| b != 0) {
            node::write_dataset(&group, format::EMPTY_VALUE, dtype, &[], bytes)?;
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for MemberSerializer<'a> {
    compound_types!(ndarray_serde::MemberStruct);

    protocol::macros::serialize_scalars!(self, v => self.scalar(Scalar::from(v)));

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_char(self, v: char) -> Result<()> {
        node::write_str(self.parent, self.name, v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        node::write_str(self.parent, self.name, v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.array(DType::U8, &[v.len()], v)
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
        node::write_null(self.parent, self.name)
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<()> {
        self.subgroup(1)?.serialize_unit_struct(name)
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        node::write_str(self.parent, self.name, variant)
    }

    protocol::macros::serialize_fn!(serialize_newtype_struct(self, name, value) => {
        match name {
            ARRAY_TOKEN => {
                protocol::capture(value, |dtype, shape, bytes| self.array(dtype, shape, bytes))
            }
            // A file-backed `anam::Lazy`: copied dataset to dataset (h5/lazy.rs).
            LAZY_TOKEN => match super::lazy::take_source() {
                Some(source) if super::lazy::copy_into(&source, self.parent, self.name)? => Ok(()),
                _ => value.serialize(self),
            },
            LIST_TOKEN => value.serialize(MemberSerializer {
                force_list: true,
                ..self
            }),
            SCALAR_TOKEN => protocol::capture(value, |dtype, _, bytes| {
                node::write_scalar(self.parent, self.name, Scalar::from_le_bytes(dtype, bytes)?)
            }),
            OBJECT_TOKEN => self
                .subgroup(UNKNOWN_ENTRIES)?
                .serialize_newtype_struct(name, value),
            _ => value.serialize(self),
        }
    });

    protocol::macros::serialize_fn!(serialize_newtype_variant(self, name, index, variant, value) => {
        self.subgroup(DICT_ENTRIES)?
            .serialize_newtype_variant(name, index, variant, value)
    });

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSerializer> {
        if self.force_list {
            return self.subgroup(list_entries(len))?.serialize_seq(len);
        }
        Ok(SeqSerializer::column(self.parent, self.name, len))
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqSerializer> {
        Ok(SeqSerializer::column(self.parent, self.name, Some(len)))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqSerializer> {
        self.serialize_tuple(len)
    }

    protocol::macros::serialize_fn!(serialize_tuple_variant(self, name, index, variant, len) => {
        self.subgroup(DICT_ENTRIES)?
            .serialize_tuple_variant(name, index, variant, len)
    });

    fn serialize_map(self, len: Option<usize>) -> Result<MapSerializer> {
        self.subgroup(DICT_ENTRIES)?.serialize_map(len)
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct> {
        // A subgroup of the fields and the class; ndarray's own form of an array, a dataset.
        ndarray_serde::start(self, name, len)
    }

    protocol::macros::serialize_fn!(serialize_struct_variant(self, name, index, variant, len) => {
        self.subgroup(DICT_ENTRIES)?
            .serialize_struct_variant(name, index, variant, len)
    });
}

/// A sequence being written.
pub(crate) struct SeqSerializer {
    state: SeqState,
    /// The nesting level of the list group, once there is one.
    depth: Option<DepthGuard>,
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
    /// A sequence that is the member `name` of `parent`: a dataset while its elements are
    /// numbers of one dtype.
    pub(crate) fn column(parent: &Group, name: &str, len: Option<usize>) -> SeqSerializer {
        SeqSerializer {
            state: SeqState::Column {
                dtype: None,
                bytes: Vec::new(),
                len: 0,
            },
            entry: Some((parent.clone(), name.to_string())),
            len_hint: len,
            depth: None,
        }
    }

    /// A sequence in the list layout, in `group` (already marked as a list).
    pub(crate) fn list(group: Group, len: Option<usize>, depth: DepthGuard) -> SeqSerializer {
        SeqSerializer {
            state: SeqState::List { group, len: 0 },
            entry: None,
            len_hint: len,
            depth: Some(depth),
        }
    }

    /// Tries to buffer a numeric element; returns false when the sequence must be a list.
    fn push_num(&mut self, v: Scalar) -> bool {
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
    /// name. The group is lent, not cloned: a clone of an `hdf5::Group` is an `H5Iinc_ref`
    /// with two validity checks and its drop as many calls again, about 4,200 instructions
    /// per item (W1's write of 2,000 objects: 8.5 M of 482 M, measured with callgrind).
    fn next_item(&mut self) -> Result<(&Group, String)> {
        if let SeqState::Column { dtype, bytes, len } = &mut self.state {
            let (parent, name) = self.entry.as_ref().expect("column sequences have an entry");
            self.depth = Some(DepthGuard::enter()?);
            let entries = list_entries(self.len_hint);
            let group = list_group(create_group(parent, name, entries)?, None)?;
            if let Some(dtype) = *dtype {
                for (i, chunk) in bytes.chunks_exact(dtype.size()).enumerate() {
                    node::write_scalar(
                        &group,
                        &format::list_item(i),
                        Scalar::from_le_bytes(dtype, chunk)?,
                    )?;
                }
            }
            self.state = SeqState::List { group, len: *len };
        }
        match &mut self.state {
            SeqState::List { group, len } => {
                *len += 1;
                Ok((&*group, format::list_item(*len - 1)))
            }
            SeqState::Column { .. } => unreachable!("switched to a list above"),
        }
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let sort_map = map_order::needs_sorting(value);
        crate::depth::grow(|| {
            value.serialize(ElementProbe {
                seq: self,
                sort_map,
            })
        })
    }

    pub(crate) fn finish(self) -> Result<()> {
        match self.state {
            SeqState::List { group, len } => write_count(&group, len),
            SeqState::Column {
                dtype: Some(dtype),
                bytes,
                len,
            } => {
                let (parent, name) = self.entry.expect("column sequences have an entry");
                node::write_dataset(&parent, &name, dtype, &[len], &bytes)
            }
            SeqState::Column { dtype: None, .. } => {
                // An empty sequence is an empty float64 array: a non-empty numeric one is
                // an array, and Python should find the same kind whatever the length (an
                // empty sequence of anything reads back from it in Rust).
                let (parent, name) = self.entry.expect("column sequences have an entry");
                MemberSerializer::new(&parent, &name).array(DType::F64, &[0], &[])
            }
        }
    }
}

protocol::macros::forward_compound!(SeqSerializer, (), element: element, end: finish);

/// The methods of a serializer that hands every value but numbers, options and newtypes to
/// the serializer `self.$via(|s| ...)` gives it.
macro_rules! serialize_compounds_via {
    ($via:ident) => {
        serialize_compounds_via!(@simple $via:
            serialize_char(v: char),
            serialize_str(v: &str),
            serialize_bytes(v: &[u8]),
            serialize_unit(),
            serialize_unit_struct(name: &'static str),
            serialize_unit_variant(name: &'static str, index: u32, variant: &'static str));
        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            name: &'static str,
            index: u32,
            variant: &'static str,
            value: &T,
        ) -> Result<()> {
            self.$via(|s| s.serialize_newtype_variant(name, index, variant, value))
        }
        serialize_compounds_via!(@open $via:
            serialize_seq(len: Option<usize>) -> SeqSerializer,
            serialize_tuple(len: usize) -> SeqSerializer,
            serialize_tuple_struct(name: &'static str, len: usize) -> SeqSerializer,
            serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize)
                -> SeqSerializer,
            serialize_map(len: Option<usize>) -> MapSerializer,
            serialize_struct(name: &'static str, len: usize) -> ndarray_serde::MemberStruct,
            serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize)
                -> VariantFields);
    };
    (@simple $via:ident: $($method:ident($($arg:ident: $t:ty),*)),*) => {
        $(fn $method(self, $($arg: $t),*) -> Result<()> {
            self.$via(|s| s.$method($($arg),*))
        })*
    };
    (@open $via:ident: $($method:ident($($arg:ident: $t:ty),*) -> $out:ty),*) => {
        $(fn $method(self, $($arg: $t),*) -> Result<$out> {
            self.$via(|s| s.$method($($arg),*))
        })*
    };
}

/// Serializes one sequence element: numbers go to the column buffer when they fit, anything
/// else becomes the next `LIST_item{i}` entry of the list.
struct ElementProbe<'s> {
    seq: &'s mut SeqSerializer,
    /// The element is a map whose keys do not come in order: write it sorted.
    sort_map: bool,
}

impl ElementProbe<'_> {
    fn num(self, v: Scalar) -> Result<()> {
        if self.seq.push_num(v) {
            Ok(())
        } else {
            self.entry(|s| node::write_scalar(s.parent, s.name, v))
        }
    }

    fn entry<R>(self, f: impl FnOnce(MemberSerializer<'_>) -> Result<R>) -> Result<R> {
        let (group, item) = self.seq.next_item()?;
        let member = MemberSerializer {
            sort_map: self.sort_map,
            ..MemberSerializer::new(group, &item)
        };
        f(member).map_err(|e| e.at_with(|| join(group, &item)))
    }
}

impl ser::Serializer for ElementProbe<'_> {
    compound_types!(ndarray_serde::MemberStruct);

    protocol::macros::serialize_scalars!(self, v => self.num(Scalar::from(v)));

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_none(self) -> Result<()> {
        // A `None` element is an absent item: it forces the list layout.
        self.entry(|_| Ok(()))
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }
    protocol::macros::serialize_fn!(serialize_newtype_struct(self, name, value) => {
        if protocol::is_token(name) {
            self.entry(|s| s.serialize_newtype_struct(name, value))
        } else {
            value.serialize(self)
        }
    });
    serialize_compounds_via!(entry);
}

/// Marks `group` as a dict of `len` entries (if known: the lists are sized for them) and
/// makes its key and data lists; with `counted`, writes the counts now (`len` is exact).
fn dict(group: &Group, len: Option<usize>, counted: bool) -> Result<(Group, Group)> {
    node::write_str(group, format::CLASS_ATTR, format::DICT_CLASS)?;
    let count = len.filter(|_| counted);
    if let Some(n) = count {
        write_count(group, n)?;
    }
    let side = |name: &str| list_group(create_group(group, name, list_entries(len))?, count);
    Ok((side(format::DICT_KEYS)?, side(format::DICT_DATA)?))
}

/// Makes `group` the one-entry dict `{variant: ...}` of an enum variant with data; returns
/// its data list, whose item 0 is the variant's value.
pub(crate) fn variant_dict(group: &Group, variant: &str) -> Result<Group> {
    let (keys, data) = dict(group, Some(1), true)?;
    node::write_str(&keys, &format::list_item(0), variant)?;
    Ok(data)
}

/// A map.
pub(crate) struct MapSerializer {
    group: Group,
    _depth: DepthGuard,
    keys: Group,
    data: Group,
    /// The keys, written after the values: writing into two groups alternately makes HDF5
    /// grow and reload both object headers for every entry (minutes for 10,000 entries);
    /// keys are scalars, so holding them costs little. Python writes keys, then values.
    pending_keys: Vec<Value>,
    /// For a map whose keys do not come in order (a `HashMap`): its values, held until
    /// the end and written sorted by key with the keys (see [`map_order`]). `None` for a
    /// map whose keys come in order: its values are written as they come.
    held_values: Option<Vec<Value>>,
}

impl MapSerializer {
    /// Starts a map of `len` entries (if known) in `group`; `sort`: its keys do not come in
    /// order.
    pub(crate) fn start(
        group: Group,
        len: Option<usize>,
        depth: DepthGuard,
        sort: bool,
    ) -> Result<MapSerializer> {
        // The counts are written at the end, when they are known for sure.
        let (keys, data) = dict(&group, len, false)?;
        Ok(MapSerializer {
            group,
            _depth: depth,
            keys,
            data,
            pending_keys: Vec::new(),
            held_values: sort.then(Vec::new),
        })
    }
}

impl ser::SerializeMap for MapSerializer {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        let item = format::list_item(self.pending_keys.len());
        let at = |e: Error| e.at_with(|| join(&self.keys, &item));
        let key = value::to_value(key).map_err(at)?;
        if let Some(problem) = map_order::key_problem(&key) {
            return Err(at(Error::invalid(format!(
                "a map key {problem}: use keys that are strings, numbers or bools"
            ))));
        }
        self.pending_keys.push(key);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let i = self.pending_keys.len().saturating_sub(1);
        if let Some(held) = &mut self.held_values {
            let item = format::list_item(i);
            held.push(
                value::to_value_as_written(value)
                    .map_err(|e| e.at_with(|| join(&self.data, &item)))?,
            );
            return Ok(());
        }
        let item = format::list_item(i);
        write_member(&self.data, &item, value).map_err(|e| e.at_with(|| join(&self.data, &item)))
    }

    fn end(mut self) -> Result<()> {
        if let Some(held) = self.held_values.take() {
            let mut entries: Vec<(Value, Value)> = std::mem::take(&mut self.pending_keys)
                .into_iter()
                .zip(held)
                .collect();
            value::sort_entries(&mut entries);
            let (keys, values): (Vec<Value>, Vec<Value>) = entries.into_iter().unzip();
            for (i, value) in values.iter().enumerate() {
                let item = format::list_item(i);
                write_member(&self.data, &item, value)
                    .map_err(|e| e.at_with(|| join(&self.data, &item)))?;
            }
            self.pending_keys = keys;
        }
        for (i, key) in self.pending_keys.iter().enumerate() {
            let item = format::list_item(i);
            key.serialize(MemberSerializer::new(&self.keys, &item))
                .map_err(|e| e.at_with(|| join(&self.keys, &item)))?;
        }
        let n = self.pending_keys.len();
        write_count(&self.group, n)?;
        write_count(&self.keys, n)?;
        write_count(&self.data, n)
    }
}

/// The fields of a struct variant: a dict whose count was written up front.
pub(crate) struct VariantFields {
    _depth: DepthGuard,
    keys: Group,
    data: Group,
    count: usize,
}

impl VariantFields {
    /// Starts the dict of `len` fields as item 0 of the variant's `data` list.
    pub(crate) fn start(data: &Group, len: usize, depth: DepthGuard) -> Result<VariantFields> {
        let fields = create_group(data, &format::list_item(0), DICT_ENTRIES)?;
        let (keys, data) = dict(&fields, Some(len), true)?;
        Ok(VariantFields {
            _depth: depth,
            keys,
            data,
            count: 0,
        })
    }

    fn field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<()> {
        let item = format::list_item(self.count);
        self.count += 1;
        node::write_str(&self.keys, &item, key)?;
        write_member(&self.data, &item, value).map_err(|e| e.at_with(|| join(&self.data, &item)))
    }

    fn finish(self) -> Result<()> {
        Ok(())
    }
}

crate::protocol::macros::forward_fields!(VariantFields, (), field: field, end: finish);

#[cfg(test)]
mod tests {
    use super::*;

    /// A name claimed twice is refused in the short list, in the hash set past
    /// [`Claimed::SHORT`] names, and after an extra_data entry moved the names there.
    #[test]
    fn claimed_refuses_a_name_twice() {
        const NAMES: [&str; 20] = [
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q",
            "r", "s", "t",
        ];
        let mut short = Claimed::default();
        assert!(short.insert(Cow::Borrowed("a")).is_ok());
        assert!(short.insert(Cow::Borrowed("b")).is_ok());
        assert_eq!(short.insert(Cow::Borrowed("a")), Err(Cow::Borrowed("a")));
        assert!(short.insert(Cow::Owned("c".into())).is_ok());
        assert!(short.insert(Cow::Owned("b".into())).is_err());
        assert!(short.insert(Cow::Borrowed("c")).is_err());

        let mut long = Claimed::default();
        for name in NAMES {
            assert!(long.insert(Cow::Borrowed(name)).is_ok(), "{name}");
        }
        assert!(long.set.is_some(), "past SHORT names, a hash set");
        for name in NAMES {
            assert!(long.insert(Cow::Borrowed(name)).is_err(), "{name}");
            assert!(long.insert(Cow::Owned(name.into())).is_err(), "{name}");
        }
        assert!(long.insert(Cow::Owned("u".into())).is_ok());
    }
}
