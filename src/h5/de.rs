//! Serde `Deserializer` reading the anamnesis layout from an HDF5 group.
//!
//! The layout is self-describing: every group, attribute and dataset answers
//! `deserialize_any` (objects as maps that start with their `class`, lists as sequences,
//! dicts as maps, arrays as nested sequences), while typed reads use the hints Serde gives
//! (struct field names for name maps, the array token for whole-buffer arrays).

use std::collections::HashMap;
use std::rc::Rc;

use hdf5::{Container, Group};
use serde::de::value::{SeqDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::raw::{open_attr, Probe};
use super::{
    describe, join, open_link, read_array, read_class, read_num, read_strings, stored_type, Linked,
    Members, Num, Stored, StrKind,
};
use crate::array::{self, with_typed_array, DType, TypedArray};
use crate::depth::DepthGuard;
use crate::error::{Error, ErrorKind, Result};
use crate::format;
use crate::value;

/// Reads a `T` from `group` (the group is the object).
pub(crate) fn from_group<'de, T: de::Deserialize<'de>>(group: &Group) -> Result<T> {
    GroupDe::new(group.clone())
        .and_then(T::deserialize)
        .map_err(|e| e.at_with(|| group.name()))
}

/// Loads the object in `group` as the registered class its tag names.
pub(crate) fn object_from_group(group: &Group) -> Result<Box<dyn crate::AnamObject>> {
    let at = || group.name();
    let de = GroupDe::new(group.clone()).map_err(|e| e.at_with(at))?;
    let tag = de
        .class
        .clone()
        .ok_or_else(|| Error::invalid("group has no `class` attribute").at_with(at))?;
    let info = crate::class::class_for(&tag).map_err(|e| e.at_with(at))?;
    crate::class::load_erased(info, de).map_err(|e| e.at_with(at))
}

/// Lists longer than the entries present by more than this are refused: the missing items
/// would all be `None`, and a corrupt count must not make us loop or allocate for ever.
const MAX_ABSENT_ITEMS: usize = 1 << 24;

// ---------------------------------------------------------------------------------------
// Groups
// ---------------------------------------------------------------------------------------

/// A group: an object, a list, a dict or an empty array, by its `class`.
pub(crate) struct GroupDe {
    group: Group,
    members: Members,
    class: Option<String>,
}

impl GroupDe {
    pub(crate) fn new(group: Group) -> Result<GroupDe> {
        let members = Members::of(&group)?;
        let class = if members.has_attr(format::CLASS_ATTR) {
            Some(read_class(&group).map_err(|e| e.at_with(|| join(&group, format::CLASS_ATTR)))?)
        } else {
            None
        };
        Ok(GroupDe {
            group,
            members,
            class,
        })
    }

    fn class_is(&self, tag: &str) -> bool {
        self.class.as_deref() == Some(tag)
    }

    fn describe(&self) -> String {
        match &self.class {
            Some(c) => format!("a group of class `{c}`"),
            None => "a group without class".into(),
        }
    }

    fn unexpected(&self, expected: &str) -> Error {
        Error::invalid(format!("expected {expected}, found {}", self.describe()))
    }

    /// The list (`AnamList`) items of this group.
    fn list_items(self) -> Result<Items> {
        Items::list(self.group, self.members)
    }

    fn dict(self) -> Result<DictAccess> {
        DictAccess::new(&self.group)
    }

    fn object(self, view: ObjectView) -> Result<ObjectAccess> {
        ObjectAccess::new(self.group, self.members, self.class, view)
    }

    /// Reads an `AnamEmptyArray` group: zeros of the stored dtype and shape (or the stored
    /// value of a 0-d array).
    fn empty_array(&self) -> Result<TypedArray> {
        let dtype_ds = self.group.dataset(format::EMPTY_DTYPE)?;
        let dtype = match stored_type(&dtype_ds)? {
            Stored::Num(d) => d,
            other => {
                return Err(Error::invalid(format!(
                    "empty array of {}",
                    describe(&other)
                )))
            }
        };
        if !self.members.has_link(format::EMPTY_SHAPE) {
            // 0-d: Python stores no value (and reads zero); we may have stored one.
            if self.members.has_link(format::EMPTY_VALUE) {
                let value = read_array(&*self.group.dataset(format::EMPTY_VALUE)?, dtype)?;
                if value.shape().iter().product::<usize>() == 1 {
                    return reshape_0d(value);
                }
            }
            return Ok(TypedArray::zeros(dtype, &[]));
        }
        let shape_ds = self.group.dataset(format::EMPTY_SHAPE)?;
        let dims = match stored_type(&shape_ds)? {
            Stored::Num(d) if d != DType::Bool && d != DType::C64 && d != DType::C128 => {
                read_array(&shape_ds, d)?.into_array::<i64>().ok()
            }
            _ => None,
        }
        .ok_or_else(|| Error::invalid("empty array shape is not a list of integers"))?;
        let shape = dims
            .iter()
            .map(|&d| {
                usize::try_from(d).map_err(|_| Error::invalid(format!("negative dimension {d}")))
            })
            .collect::<Result<Vec<usize>>>()?;
        if !shape.contains(&0) {
            return Err(Error::invalid(format!(
                "an empty array cannot have shape {shape:?}"
            )));
        }
        TypedArray::check_shape(&shape)?;
        Ok(TypedArray::zeros(dtype, &shape))
    }
}

fn reshape_0d(value: TypedArray) -> Result<TypedArray> {
    with_typed_array!(value, a => a
        .into_shape_with_order(ndarray::IxDyn(&[]))
        .map(crate::array::Element::wrap)
        .map_err(|e| Error::invalid(e.to_string())))
}

macro_rules! group_scalars {
    ($($method:ident),*) => {
        $(fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
            Err(self.unexpected("a scalar attribute"))
        })*
    };
}

impl<'de> de::Deserializer<'de> for GroupDe {
    type Error = Error;

    group_scalars!(
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_identifier
    );

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.class.as_deref() {
            Some(format::LIST_CLASS) => visit_items(self.list_items()?, visitor),
            Some(format::DICT_CLASS) => visitor.visit_map(self.dict()?),
            Some(format::EMPTY_ARRAY_CLASS) => {
                let array = self.empty_array()?;
                ArrayDe::whole(array).deserialize_any(visitor)
            }
            _ => visitor.visit_map(self.object(ObjectView::Any)?),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.class.as_deref() {
            // A Python dict can stand for a struct.
            Some(format::DICT_CLASS) => visitor.visit_map(self.dict()?),
            Some(found) => {
                if !crate::registry::tag_matches(name, found) {
                    return Err(ErrorKind::ClassMismatch {
                        found: found.to_string(),
                        expected: name.to_string(),
                    }
                    .into());
                }
                visitor.visit_map(self.object(ObjectView::Typed {
                    fields,
                    info: crate::registry::info_for(name)?,
                })?)
            }
            None => Err(ErrorKind::MissingClass {
                expected: name.to_string(),
            }
            .into()),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.class.as_deref() {
            Some(format::DICT_CLASS) => visitor.visit_map(self.dict()?),
            Some(format::LIST_CLASS) | Some(format::EMPTY_ARRAY_CLASS) => {
                Err(self.unexpected("a map or an object"))
            }
            _ => visitor.visit_map(self.object(ObjectView::Typed {
                fields: &[],
                info: None,
            })?),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.class.as_deref() {
            Some(format::LIST_CLASS) => visit_items(self.list_items()?, visitor),
            Some(format::EMPTY_ARRAY_CLASS) => {
                ArrayDe::whole(self.empty_array()?).deserialize_seq(visitor)
            }
            _ => Err(self.unexpected("a list")),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.class_is(format::EMPTY_ARRAY_CLASS) {
            visitor.visit_byte_buf(Vec::new())
        } else {
            self.deserialize_seq(visitor)
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == array::ARRAY_TOKEN {
            if self.class_is(format::EMPTY_ARRAY_CLASS) {
                return array::hand_over(self.empty_array()?, visitor);
            }
            return Err(self.unexpected("an array"));
        }
        if name == value::VALUE_TOKEN {
            return match self.class.as_deref() {
                Some(format::LIST_CLASS) => visit_items(self.list_items()?, visitor),
                Some(format::DICT_CLASS) => visitor.visit_map(self.dict()?),
                Some(format::EMPTY_ARRAY_CLASS) => array::hand_over(self.empty_array()?, visitor),
                _ => visitor.visit_map(self.object(ObjectView::Value)?),
            };
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        if !self.class_is(format::DICT_CLASS) {
            return Err(self.unexpected("an enum variant (a one-entry dict)"));
        }
        let dict = self.dict()?;
        if dict.keys.len() != 1 {
            return Err(Error::invalid(format!(
                "an enum variant is a dict of one entry, found {} entries",
                dict.keys.len()
            )));
        }
        visitor.visit_enum(&dict)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }
}

// ---------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------

/// Where a member's value lives.
enum Source {
    Attr(String),
    Link(String),
    LegacyList(String),
    Str(String),
    Strings(Vec<String>),
    Pairs(Vec<Vec<String>>),
    /// The `extra_data` of a class: the entries that are not members.
    Extra(Box<ObjectAccess>),
}

/// How an object group is presented.
pub(crate) enum ObjectView {
    /// To a typed struct: `fields` are its Serde field names, `info` its registration.
    Typed {
        fields: &'static [&'static str],
        info: Option<&'static crate::registry::ClassInfo>,
    },
    /// To `deserialize_any`: `class` first, then the members (stored names).
    Any,
    /// To [`Value`](crate::Value): the class and layout details under private keys.
    Value,
}

/// The members of an object group, as a map from member name to value.
struct ObjectAccess {
    group: Group,
    entries: std::vec::IntoIter<(String, Source)>,
    pending: Option<Source>,
}

impl ObjectAccess {
    fn new(
        group: Group,
        members: Members,
        class: Option<String>,
        view: ObjectView,
    ) -> Result<ObjectAccess> {
        let stored_maps = if members.has_attr(format::NAMEMAPS_ATTR) {
            read_namemaps(&group)?
        } else {
            Vec::new()
        };
        let legacy = if members.has_attr(format::LEGACY_LISTS_ATTR) {
            let attr = group.attr(format::LEGACY_LISTS_ATTR)?;
            match stored_type(&attr)? {
                Stored::Str(kind) => read_strings(&attr, kind)?,
                other => {
                    return Err(
                        Error::invalid(format!("LISTS attribute of {}", describe(&other)))
                            .at_with(|| join(&group, format::LEGACY_LISTS_ATTR)),
                    )
                }
            }
        } else {
            Vec::new()
        };
        let mut entries = Vec::with_capacity(members.attrs.len() + members.links.len() + 3);
        let stored = members
            .attrs
            .iter()
            .filter(|n| !format::is_reserved(n))
            .map(|n| (n.clone(), Source::Attr(n.clone())))
            .chain(
                members
                    .links
                    .iter()
                    .filter(|n| !format::is_reserved(n))
                    .map(|n| (n.clone(), Source::Link(n.clone()))),
            )
            .chain(
                legacy
                    .iter()
                    .map(|m| (m.clone(), Source::LegacyList(m.clone()))),
            );
        match view {
            ObjectView::Any => {
                entries.extend(class.map(|c| (format::CLASS_ATTR.to_string(), Source::Str(c))));
                entries.extend(stored);
            }
            ObjectView::Value => {
                entries.extend(class.map(|c| (value::CLASS_KEY.to_string(), Source::Str(c))));
                if !stored_maps.is_empty() {
                    let pairs = stored_maps
                        .iter()
                        .map(|(s, m)| vec![s.clone(), m.clone()])
                        .collect();
                    entries.push((value::NAME_MAPS_KEY.to_string(), Source::Pairs(pairs)));
                }
                if !legacy.is_empty() {
                    entries.push((
                        value::LEGACY_KEY.to_string(),
                        Source::Strings(legacy.clone()),
                    ));
                }
                entries.extend(stored);
            }
            ObjectView::Typed { fields, info } => {
                // A stored name that is a field stays as it is; otherwise the file's name
                // maps, then the class's, give the member name (Python's `hdf5_mapnames`).
                let maps: HashMap<&str, &str> = info
                    .into_iter()
                    .flat_map(|i| i.name_maps.iter().map(|&(m, s)| (s, m)))
                    .chain(stored_maps.iter().map(|(s, m)| (s.as_str(), m.as_str())))
                    .collect();
                let extra_field = info.and_then(|i| i.extra_data);
                let mut extra = Vec::new();
                for (name, source) in stored {
                    let key = if fields.contains(&name.as_str()) {
                        name
                    } else {
                        maps.get(name.as_str()).map_or(name, |m| m.to_string())
                    };
                    match extra_field {
                        Some(x) if key != x && !fields.contains(&key.as_str()) => {
                            extra.push((key, source))
                        }
                        _ => entries.push((key, source)),
                    }
                }
                if let Some(x) = extra_field {
                    let access = ObjectAccess {
                        group: group.clone(),
                        entries: extra.into_iter(),
                        pending: None,
                    };
                    entries.push((x.to_string(), Source::Extra(Box::new(access))));
                }
            }
        }
        Ok(ObjectAccess {
            group,
            entries: entries.into_iter(),
            pending: None,
        })
    }
}

/// Reads the `namemaps` attribute: rows of `[stored name, member name]`.
fn read_namemaps(group: &Group) -> Result<Vec<(String, String)>> {
    let attr = group.attr(format::NAMEMAPS_ATTR)?;
    let err =
        |msg: &str| Error::invalid(msg.to_string()).at_with(|| join(group, format::NAMEMAPS_ATTR));
    let strings = match stored_type(&attr)? {
        Stored::Str(kind) => read_strings(&attr, kind)?,
        _ => return Err(err("namemaps must be strings")),
    };
    let shape = attr.shape();
    if shape.len() != 2 || shape[1] != 2 {
        return Err(err("namemaps must be an N x 2 array"));
    }
    Ok(strings
        .chunks_exact(2)
        .map(|row| (row[0].clone(), row[1].clone()))
        .collect())
}

/// A map of members as one value (a class's `extra_data`).
struct MapDe(ObjectAccess);

impl<'de> de::Deserializer<'de> for MapDe {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_map(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> de::MapAccess<'de> for ObjectAccess {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.entries.next() {
            Some((key, source)) => {
                self.pending = Some(source);
                seed.deserialize(StringDeserializer::<Error>::new(key))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let group = &self.group;
        match self
            .pending
            .take()
            .expect("next_value_seed after next_key_seed")
        {
            Source::Str(text) => seed.deserialize(StringDeserializer::<Error>::new(text)),
            Source::Strings(v) => seed.deserialize(SeqDeserializer::<_, Error>::new(v.into_iter())),
            Source::Pairs(v) => seed.deserialize(SeqDeserializer::<_, Error>::new(v.into_iter())),
            Source::Extra(access) => seed.deserialize(MapDe(*access)),
            Source::Attr(name) => open_attr(group, &name)
                .and_then(|a| seed.deserialize(ContainerDe::new(a.into())?))
                .map_err(|e| e.at_with(|| join(group, &name))),
            Source::Link(name) => seed
                .deserialize(ItemDe::Link(group, name.clone()))
                .map_err(|e| e.at_with(|| join(group, &name))),
            Source::LegacyList(member) => Items::legacy(group.clone(), &member)
                .and_then(|items| seed.deserialize(ItemsDe(items)))
                .map_err(|e| e.at_with(|| join(group, &format::legacy_list_count(&member)))),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

// ---------------------------------------------------------------------------------------
// Lists and dicts
// ---------------------------------------------------------------------------------------

/// The items of a sequence, in whichever layout it is stored.
enum Items {
    /// An `AnamList` group (`LIST_item{i}` attributes, datasets and subgroups).
    List {
        group: Group,
        members: Members,
        count: usize,
    },
    /// A legacy `LIST_<member>{i}` list of subgroups of an object.
    Legacy {
        group: Group,
        member: String,
        count: usize,
    },
    /// A 1-D dataset or attribute (numbers or strings).
    Array(ArrayDe),
}

impl Items {
    fn list(group: Group, members: Members) -> Result<Items> {
        let count = read_count(&group, format::COUNT_ATTR, &members)?;
        let present = members.attrs.len() + members.links.len();
        if count > present + MAX_ABSENT_ITEMS {
            return Err(Error::invalid(format!(
                "list count {count} is implausible for {present} stored items"
            )));
        }
        Ok(Items::List {
            group,
            members,
            count,
        })
    }

    fn legacy(group: Group, member: &str) -> Result<Items> {
        let members = Members::of(&group)?;
        let count = read_count(&group, &format::legacy_list_count(member), &members)?;
        if count > members.links.len() {
            return Err(Error::invalid(format!(
                "legacy list `{member}` claims {count} items but the group has {} subgroups",
                members.links.len()
            )));
        }
        Ok(Items::Legacy {
            group,
            member: member.to_string(),
            count,
        })
    }

    fn len(&self) -> usize {
        match self {
            Items::List { count, .. } | Items::Legacy { count, .. } => *count,
            Items::Array(a) => a.len(),
        }
    }

    /// The deserializer of item `i` (`i < len`), and the path to name in errors.
    fn item(&self, i: usize) -> Result<(ItemDe<'_>, ItemPath<'_>)> {
        let (de, name) = match self {
            Items::List { group, members, .. } => {
                let name = format::list_item(i);
                let de = if members.has_attr(&name) {
                    ItemDe::Attr(group, name.clone())
                } else if members.has_link(&name) {
                    ItemDe::Link(group, name.clone())
                } else {
                    ItemDe::Absent
                };
                (de, Some((group, name)))
            }
            Items::Legacy { group, member, .. } => {
                let name = format::legacy_list_item(member, i);
                (ItemDe::Link(group, name.clone()), Some((group, name)))
            }
            Items::Array(a) => (ItemDe::Element(a.element(i)), None),
        };
        Ok((
            de,
            ItemPath {
                list: name,
                index: i,
            },
        ))
    }

    fn access(self) -> ItemsAccess {
        ItemsAccess {
            items: self,
            next: 0,
        }
    }
}

/// Where an item is: a named entry of a list group, or an element of an array (whose
/// container names the path; the element adds its index to the message).
struct ItemPath<'a> {
    list: Option<(&'a Group, String)>,
    index: usize,
}

impl ItemPath<'_> {
    fn locate(self, e: Error) -> Error {
        match self.list {
            Some((group, name)) => e.at_with(|| join(group, &name)),
            None => e.in_element(self.index),
        }
    }
}

/// Reads a non-negative count attribute.
fn read_count(group: &Group, name: &str, members: &Members) -> Result<usize> {
    if !members.has_attr(name) {
        return Err(Error::invalid(format!("missing `{name}` attribute")).at_with(|| group.name()));
    }
    let attr = group.attr(name)?;
    let count = match stored_type(&attr)? {
        Stored::Num(d) if d != DType::Bool && d != DType::C64 && d != DType::C128 => {
            match read_num(&attr, d)? {
                Num::I8(v) => i128::from(v),
                Num::I16(v) => i128::from(v),
                Num::I32(v) => i128::from(v),
                Num::I64(v) => i128::from(v),
                Num::U8(v) => i128::from(v),
                Num::U16(v) => i128::from(v),
                Num::U32(v) => i128::from(v),
                Num::U64(v) => i128::from(v),
                _ => -1,
            }
        }
        _ => -1,
    };
    usize::try_from(count).map_err(|_| {
        Error::invalid(format!("`{name}` is not a valid count")).at_with(|| join(group, name))
    })
}

/// A sequence over [`Items`].
struct ItemsAccess {
    items: Items,
    next: usize,
}

/// Visits a sequence and fails when the visitor left items unread (a tuple or array
/// shorter than the stored sequence), as Serde's own sequence deserializers do.
fn visit_items<'de, V: Visitor<'de>>(items: Items, visitor: V) -> Result<V::Value> {
    let mut access = items.access();
    let value = visitor.visit_seq(&mut access)?;
    let len = access.items.len();
    if access.next < len {
        return Err(de::Error::invalid_length(len, &ExpectedIn(access.next)));
    }
    Ok(value)
}

struct ExpectedIn(usize);

impl de::Expected for ExpectedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} elements in sequence", self.0)
    }
}

impl<'de> de::SeqAccess<'de> for ItemsAccess {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.next >= self.items.len() {
            return Ok(None);
        }
        let i = self.next;
        self.next += 1;
        let (de, path) = self.items.item(i)?;
        let value = seed.deserialize(de);
        value.map(Some).map_err(|e| path.locate(e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.next)
    }
}

/// A whole [`Items`] as one value (the legacy list of an object member).
struct ItemsDe(Items);

impl<'de> de::Deserializer<'de> for ItemsDe {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visit_items(self.0, visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// A dict: keys and values from the `dictkeys` and `dictdata` lists.
struct DictAccess {
    keys: Items,
    data: Items,
    next: usize,
}

impl DictAccess {
    fn new(group: &Group) -> Result<DictAccess> {
        let side = |name: &str| -> Result<Items> {
            match open_link(group, name).map_err(|e| e.at_with(|| join(group, name)))? {
                Linked::Group(g) => {
                    let members = Members::of(&g)?;
                    Items::list(g, members)
                }
                Linked::Dataset(ds) => Ok(Items::Array(ContainerDe::new(ds.into())?.whole()?)),
            }
            .map_err(|e| e.at_with(|| join(group, name)))
        };
        let keys = side(format::DICT_KEYS)?;
        let data = side(format::DICT_DATA)?;
        if keys.len() != data.len() {
            return Err(Error::invalid(format!(
                "dict has {} keys but {} values",
                keys.len(),
                data.len()
            )));
        }
        Ok(DictAccess {
            keys,
            data,
            next: 0,
        })
    }
}

impl<'de> de::MapAccess<'de> for DictAccess {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.next >= self.keys.len() {
            return Ok(None);
        }
        let (de, path) = self.keys.item(self.next)?;
        seed.deserialize(de).map(Some).map_err(|e| path.locate(e))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let i = self.next;
        self.next += 1;
        let (de, path) = self.data.item(i)?;
        seed.deserialize(de).map_err(|e| path.locate(e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.keys.len() - self.next)
    }
}

impl<'a, 'de> de::EnumAccess<'de> for &'a DictAccess {
    type Error = Error;
    type Variant = ItemDe<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, ItemDe<'a>)> {
        let (key, path) = self.keys.item(0)?;
        let variant = seed.deserialize(key).map_err(|e| path.locate(e))?;
        let (value, _) = self.data.item(0)?;
        Ok((variant, value))
    }
}

impl<'de> de::VariantAccess<'de> for ItemDe<'_> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_seq(self, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_map(self, visitor)
    }
}

// ---------------------------------------------------------------------------------------
// One item: an attribute, a linked object, an array element, or nothing
// ---------------------------------------------------------------------------------------

/// A value found by name (or absent), opened only when it is deserialized.
pub(crate) enum ItemDe<'g> {
    Attr(&'g Group, String),
    Link(&'g Group, String),
    Element(ElementDe),
    Absent,
}

macro_rules! item_forward {
    ($($method:ident),*) => {
                $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
            let _depth = DepthGuard::enter()?;
            match self {
                ItemDe::Attr(g, n) => ContainerDe::new(g.attr(&n)?.into())?.$method(visitor),
                ItemDe::Link(g, n) => match open_link(g, &n)? {
                    Linked::Group(sub) => GroupDe::new(sub)?.$method(visitor),
                    Linked::Dataset(ds) => ContainerDe::new(ds.into())?.$method(visitor),
                },
                ItemDe::Element(e) => e.$method(visitor),
                ItemDe::Absent => AbsentDe.$method(visitor),
            }
        })*
    };
}

impl<'de> de::Deserializer<'de> for ItemDe<'_> {
    type Error = Error;

    item_forward!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
        deserialize_ignored_any
    );

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        let _depth = DepthGuard::enter()?;
        match self {
            ItemDe::Absent => visitor.visit_unit(),
            other => match other.open()? {
                Opened::Group(g) => g.deserialize_unit_struct(name, visitor),
                Opened::Container(c) => c.deserialize_unit_struct(name, visitor),
                Opened::Element(e) => e.deserialize_unit_struct(name, visitor),
            },
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if let ItemDe::Absent = self {
            return AbsentDe.deserialize_newtype_struct(name, visitor);
        }
        let _depth = DepthGuard::enter()?;
        match self.open()? {
            Opened::Group(g) => g.deserialize_newtype_struct(name, visitor),
            Opened::Container(c) => c.deserialize_newtype_struct(name, visitor),
            Opened::Element(e) => e.deserialize_newtype_struct(name, visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        let _depth = DepthGuard::enter()?;
        match self.open()? {
            Opened::Group(g) => g.deserialize_tuple(len, visitor),
            Opened::Container(c) => c.deserialize_tuple(len, visitor),
            Opened::Element(e) => e.deserialize_tuple(len, visitor),
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value> {
        let _depth = DepthGuard::enter()?;
        match self.open()? {
            Opened::Group(g) => g.deserialize_tuple_struct(name, len, visitor),
            Opened::Container(c) => c.deserialize_tuple_struct(name, len, visitor),
            Opened::Element(e) => e.deserialize_tuple_struct(name, len, visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let _depth = DepthGuard::enter()?;
        match self.open()? {
            Opened::Group(g) => g.deserialize_struct(name, fields, visitor),
            Opened::Container(c) => c.deserialize_struct(name, fields, visitor),
            Opened::Element(e) => e.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let _depth = DepthGuard::enter()?;
        match self.open()? {
            Opened::Group(g) => g.deserialize_enum(name, variants, visitor),
            Opened::Container(c) => c.deserialize_enum(name, variants, visitor),
            Opened::Element(e) => e.deserialize_enum(name, variants, visitor),
        }
    }
}

enum Opened {
    Group(GroupDe),
    Container(ContainerDe),
    Element(ElementDe),
}

impl ItemDe<'_> {
    fn open(self) -> Result<Opened> {
        Ok(match self {
            ItemDe::Attr(g, n) => Opened::Container(ContainerDe::new(g.attr(&n)?.into())?),
            ItemDe::Link(g, n) => match open_link(g, &n)? {
                Linked::Group(sub) => Opened::Group(GroupDe::new(sub)?),
                Linked::Dataset(ds) => Opened::Container(ContainerDe::new(ds.into())?),
            },
            ItemDe::Element(e) => Opened::Element(e),
            ItemDe::Absent => return Err(Error::invalid("missing value (stored as None)")),
        })
    }
}

/// An absent entry: Python's `None`.
struct AbsentDe;

impl<'de> de::Deserializer<'de> for AbsentDe {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_none()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == value::VALUE_TOKEN {
            visitor.visit_none()
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

// ---------------------------------------------------------------------------------------
// Attributes and datasets
// ---------------------------------------------------------------------------------------

/// An attribute or a dataset: a scalar, or an array read as one buffer.
pub(crate) struct ContainerDe {
    held: Held,
    /// Its type and extent (a null dataspace is the unit value).
    probe: Probe,
}

/// An open attribute or dataset, owned (moved in, not cloned: a clone is HDF5 reference
/// counting on the hot path).
pub(crate) enum Held {
    Attr(hdf5::Attribute),
    Data(hdf5::Dataset),
}

impl From<hdf5::Attribute> for Held {
    fn from(a: hdf5::Attribute) -> Held {
        Held::Attr(a)
    }
}

impl From<hdf5::Dataset> for Held {
    fn from(d: hdf5::Dataset) -> Held {
        Held::Data(d)
    }
}

impl Held {
    fn is_attr(&self) -> bool {
        matches!(self, Held::Attr(_))
    }

    fn container(&self) -> &Container {
        match self {
            Held::Attr(a) => a,
            Held::Data(d) => d,
        }
    }
}

impl ContainerDe {
    fn new(held: Held) -> Result<ContainerDe> {
        let probe = Probe::of(held.container(), held.is_attr())?;
        Ok(ContainerDe { held, probe })
    }

    fn c(&self) -> &Container {
        self.held.container()
    }

    /// Reads the whole container as `dtype`.
    fn read_array(&self, dtype: DType) -> Result<TypedArray> {
        match self
            .probe
            .read_numeric(self.c(), self.held.is_attr(), dtype)?
        {
            Some(array) => Ok(array),
            None => read_array(self.c(), dtype),
        }
    }

    /// Reads the string of a scalar string container.
    fn read_scalar_string(&self, kind: StrKind) -> Result<String> {
        match self
            .probe
            .read_vlen_scalar_string(self.c(), self.held.is_attr())?
        {
            Some(s) => Ok(s),
            None => Ok(read_strings(self.c(), kind)?
                .into_iter()
                .next()
                .unwrap_or_default()),
        }
    }

    fn whole(self) -> Result<ArrayDe> {
        let flat = match self.probe.stored {
            Stored::Num(d) => Flat::Num(self.read_array(d)?),
            Stored::Str(kind) => Flat::Str(read_strings(self.c(), kind)?),
            Stored::Other(ref t) => return Err(Error::unsupported(format!("HDF5 type {t}"))),
        };
        Ok(ArrayDe::new(flat, self.probe.shape.into()))
    }

    fn scalar_string(&self) -> Result<Option<String>> {
        match self.probe.stored {
            Stored::Str(kind) if self.probe.shape.is_empty() && !self.probe.null => {
                self.read_scalar_string(kind).map(Some)
            }
            _ => Ok(None),
        }
    }
}

impl<'de> de::Deserializer<'de> for ContainerDe {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.probe.null {
            return visitor.visit_unit();
        }
        match (&self.probe.stored, self.probe.shape.is_empty()) {
            (Stored::Num(d), true) => {
                match self.probe.read_scalar(self.c(), self.held.is_attr(), *d)? {
                    Some(n) => n.visit(visitor),
                    None => read_num(self.c(), *d)?.visit(visitor),
                }
            }
            (Stored::Str(kind), true) => visitor.visit_string(self.read_scalar_string(*kind)?),
            (Stored::Other(t), _) => Err(Error::unsupported(format!("HDF5 type {t}"))),
            (_, false) => self.whole()?.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == value::VALUE_TOKEN && !self.probe.null {
            // Typed scalars (complex ones too) and whole arrays for the dynamic value.
            return match (&self.probe.stored, self.probe.shape.is_empty()) {
                (Stored::Num(d @ (DType::C64 | DType::C128)), true) => {
                    array::hand_over_scalar(self.read_array(*d)?, visitor)
                }
                (Stored::Num(d), false) => array::hand_over(self.read_array(*d)?, visitor),
                _ => self.deserialize_any(visitor),
            };
        }
        if name == array::ARRAY_TOKEN {
            return match self.probe.stored {
                Stored::Num(d) => array::hand_over(self.read_array(d)?, visitor),
                ref other => Err(Error::invalid(format!(
                    "expected a numeric array, found {}",
                    describe(other)
                ))),
            };
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match (&self.probe.stored, self.probe.shape.len()) {
            (Stored::Num(DType::U8), 1) => {
                let bytes = self
                    .read_array(DType::U8)?
                    .into_array::<u8>()
                    .map_err(Error::invalid)?;
                visitor.visit_byte_buf(bytes.into_raw_vec_and_offset().0)
            }
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.scalar_string()? {
            // A unit variant is stored as its name.
            Some(s) => visitor.visit_enum(s.into_deserializer()),
            None => Err(Error::invalid(format!(
                "expected an enum variant name, found {}",
                describe(&self.probe.stored)
            ))),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value> {
        Err(Error::invalid(format!(
            "expected a group of class `{name}`, found {} {}",
            if matches!(self.held, Held::Attr(_)) {
                "an attribute of"
            } else {
                "a dataset of"
            },
            describe(&self.probe.stored)
        )))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

// ---------------------------------------------------------------------------------------
// Whole arrays as (nested) sequences
// ---------------------------------------------------------------------------------------

/// The elements of an array in storage order.
enum Flat {
    Num(TypedArray),
    Str(Vec<String>),
}

/// An array (numbers or strings) read in one call, presented as nested sequences along its
/// axes; `deserialize_newtype_struct(ARRAY_TOKEN)` hands the whole buffer over instead.
#[derive(Clone)]
pub(crate) struct ArrayDe {
    flat: Rc<Flat>,
    shape: Rc<[usize]>,
    level: usize,
    offset: usize,
}

impl ArrayDe {
    fn new(flat: Flat, shape: Rc<[usize]>) -> ArrayDe {
        ArrayDe {
            flat: Rc::new(flat),
            shape,
            level: 0,
            offset: 0,
        }
    }

    fn whole(array: TypedArray) -> ArrayDe {
        let shape: Rc<[usize]> = array.shape().into();
        ArrayDe::new(Flat::Num(array), shape)
    }

    /// Number of items along the current axis.
    fn len(&self) -> usize {
        self.shape.get(self.level).copied().unwrap_or(0)
    }

    fn stride(&self) -> usize {
        self.shape[self.level + 1..].iter().product()
    }

    /// Item `i` along the current axis: a sub-array, or an element at the last axis.
    fn element(&self, i: usize) -> ElementDe {
        let offset = self.offset + i * self.stride();
        ElementDe(ArrayDe {
            level: self.level + 1,
            offset,
            ..self.clone()
        })
    }

    fn visit_leaf<'de, V: Visitor<'de>>(&self, visitor: V) -> Result<V::Value> {
        match &*self.flat {
            Flat::Num(a) => {
                let num = with_typed_array!(a, arr => arr
                    .as_slice_memory_order()
                    .and_then(|s| s.get(self.offset))
                    .copied()
                    .map(Num::from));
                num.ok_or_else(|| Error::invalid("array element out of range"))?
                    .visit(visitor)
            }
            Flat::Str(s) => visitor.visit_str(s.get(self.offset).map_or("", String::as_str)),
        }
    }

    fn deserialize_any<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.level == self.shape.len() {
            self.visit_leaf(visitor)
        } else {
            visit_items(Items::Array(self), visitor)
        }
    }

    fn deserialize_seq<'de, V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_any(visitor)
    }
}

/// One item of an [`ArrayDe`].
pub(crate) struct ElementDe(ArrayDe);

impl<'de> de::Deserializer<'de> for ElementDe {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == array::ARRAY_TOKEN {
            return Err(Error::unsupported(
                "an array nested inside another array's elements",
            ));
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match &*self.0.flat {
            Flat::Str(s) if self.0.level == self.0.shape.len() => {
                let name = s.get(self.0.offset).cloned().unwrap_or_default();
                visitor.visit_enum(name.into_deserializer())
            }
            _ => Err(Error::invalid("expected an enum variant name")),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

impl Num {
    /// Visits the value with the matching `visit_*` method (complex numbers as `[re, im]`,
    /// the form `num_complex::Complex` deserializes from).
    pub(crate) fn visit<'de, V: Visitor<'de>, E: de::Error>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, E> {
        match self {
            Num::Bool(v) => visitor.visit_bool(v),
            Num::I8(v) => visitor.visit_i8(v),
            Num::I16(v) => visitor.visit_i16(v),
            Num::I32(v) => visitor.visit_i32(v),
            Num::I64(v) => visitor.visit_i64(v),
            Num::U8(v) => visitor.visit_u8(v),
            Num::U16(v) => visitor.visit_u16(v),
            Num::U32(v) => visitor.visit_u32(v),
            Num::U64(v) => visitor.visit_u64(v),
            Num::F32(v) => visitor.visit_f32(v),
            Num::F64(v) => visitor.visit_f64(v),
            Num::C64(c) => {
                visitor.visit_seq(SeqDeserializer::<_, E>::new([c.re, c.im].into_iter()))
            }
            Num::C128(c) => {
                visitor.visit_seq(SeqDeserializer::<_, E>::new([c.re, c.im].into_iter()))
            }
        }
    }
}
