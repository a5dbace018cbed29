//! Groups: an object, a list, a dict or an empty array, by its `class`; the members of an
//! object ([`ObjectAccess`]) and the items of lists and dicts ([`Items`]), each of which may
//! be a group again (so they share this file).

use std::collections::HashMap;

use hdf5::Group;
use serde::de::value::{SeqDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Visitor};

use super::array::{visit_all, ArrayDe, ElementDe, Progress};
use super::node::NodeDe;
use crate::depth::DepthGuard;
use crate::dtype::{with_dtype, with_typed_array, Element, TypedArray};
use crate::error::{Error, ErrorKind, Result};
use crate::format;
use crate::h5::group::{join, open_link, Linked, Members};
use crate::h5::node::{self, Loaded, Node, Stored};
use crate::h5::scope;
use crate::protocol::{
    self, ndarray_serde, ARRAY_TOKEN, CLASS_KEY, LEGACY_KEY, NAME_MAPS_KEY, VALUE_TOKEN,
};
use crate::registry::ClassInfo;

/// A group: an object, a list, a dict or an empty array, by its `class`. Its members are
/// listed by what reads it as what it is (a list's attributes with its items, in one pass).
pub(crate) struct GroupDe {
    group: Group,
    class: Option<String>,
}

impl GroupDe {
    pub(crate) fn new(group: Group) -> Result<GroupDe> {
        let read = || -> Result<Option<String>> {
            if !node::attribute_exists(group.id(), format::CLASS_ATTR)? {
                return Ok(None);
            }
            Node::attribute(group.id(), format::CLASS_ATTR)?
                .read_string()
                .map(Some)
        };
        let class = read().map_err(|e| e.at_with(|| join(&group, format::CLASS_ATTR)))?;
        Ok(GroupDe { group, class })
    }

    /// The class tag, if the group has one.
    pub(crate) fn class(&self) -> Option<&str> {
        self.class.as_deref()
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
        Items::list(self.group)
    }

    fn dict(self) -> Result<DictAccess> {
        DictAccess::new(&self.group)
    }

    fn object(self, view: ObjectView) -> Result<ObjectAccess> {
        // The members' scalar values in one pass (see `node::load_attributes`).
        let member = |name: &str| (!format::is_reserved(name)).then(|| name.to_owned());
        let pass = node::load_attributes(&self.group, member, scope::remaining());
        let (members, loaded) = if pass.complete {
            (Members::with_attrs(&self.group, pass.others)?, pass.loaded)
        } else {
            // The pass ended at an error: every attribute is opened by name, in its place.
            (Members::of(&self.group)?, Vec::new())
        };
        ObjectAccess::new(self.group, members, loaded, self.class, view)
    }

    /// Reads an `AnamEmptyArray` group: zeros of the stored dtype and shape (or the stored
    /// value of a 0-d array).
    fn empty_array(&self) -> Result<TypedArray> {
        let dataset = |name: &str| match open_link(&self.group, name)? {
            Linked::Dataset(node) => Ok(node),
            Linked::Group(_) => Err(Error::invalid(format!(
                "`{name}` of an empty array is a group"
            ))),
        };
        let dtype = match dataset(format::EMPTY_DTYPE)?.stored {
            Stored::Num(d) => d,
            other => {
                return Err(Error::invalid(format!(
                    "empty array of {}",
                    other.describe()
                )))
            }
        };
        let members = Members::of(&self.group)?;
        if !members.has_link(format::EMPTY_SHAPE) {
            // 0-d: Python stores no value (and reads zero); we may have stored one.
            if members.has_link(format::EMPTY_VALUE) {
                let value = dataset(format::EMPTY_VALUE)?.read_array()?;
                let value = with_dtype!(dtype, T => value.into_array::<T>().map(T::wrap))?;
                if value.shape().iter().product::<usize>() == 1 {
                    return reshape_0d(value);
                }
            }
            return Ok(TypedArray::zeros(dtype, &[]));
        }
        let shape_ds = dataset(format::EMPTY_SHAPE)?;
        let dims = match shape_ds.stored {
            Stored::Num(d) if d.is_plain_number() => {
                shape_ds.read_array()?.into_array::<i64>().ok()
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
        .map(Element::wrap)
        .map_err(|e| Error::invalid(e.to_string())))
}

/// A scalar read from a group: refused, naming the group's class.
macro_rules! refuse_scalar {
    ($self:ident, $method:ident($visitor:ident) $(, $dtype:expr)?) => {{
        let _ = $visitor;
        Err($self.unexpected("a scalar attribute"))
    }};
}

impl<'de> de::Deserializer<'de> for GroupDe {
    type Error = Error;

    protocol::macros::deserialize_scalars!(refuse_scalar);

    protocol::macros::deserialize_methods!(refuse_scalar:
        deserialize_i128(), deserialize_u128(), deserialize_char(), deserialize_str(),
        deserialize_string(), deserialize_identifier());

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

    crate::protocol::macros::deserialize_fn!(deserialize_struct(self, name, fields, visitor) => {
        match self.class.as_deref() {
            // A Python dict can stand for a struct.
            Some(format::DICT_CLASS) => visitor.visit_map(self.dict()?),
            // ndarray's own `Deserialize` reading an empty or 0-d array.
            Some(format::EMPTY_ARRAY_CLASS) if ndarray_serde::wants_ndarray(name, fields) => {
                ndarray_serde::visit_array(&self.empty_array()?, visitor)
            }
            // A struct with a field `class` takes the tag as that field (the writer writes
            // such a field as the tag), whatever it is.
            Some(_) if fields.contains(&format::CLASS_ATTR) => {
                visitor.visit_map(self.object(ObjectView::Typed { fields, info: None })?)
            }
            Some(found) => {
                if scope::check_class() && !crate::registry::tag_matches(name, found) {
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
            None if !scope::check_class() => visitor.visit_map(self.object(ObjectView::Typed {
                fields,
                info: crate::registry::info_for(name)?,
            })?),
            None => Err(ErrorKind::MissingClass {
                expected: name.to_string(),
            }
            .into()),
        }
    });

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

    crate::protocol::macros::deserialize_fn!(deserialize_tuple_struct(self, _, _len, visitor) => {
        self.deserialize_seq(visitor)
    });

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

    crate::protocol::macros::deserialize_fn!(deserialize_unit_struct(self, _, visitor) => {
        visitor.visit_unit()
    });

    crate::protocol::macros::deserialize_fn!(deserialize_newtype_struct(self, name, visitor) => {
        if name == ARRAY_TOKEN {
            if self.class_is(format::EMPTY_ARRAY_CLASS) {
                return protocol::hand_over(self.empty_array()?, visitor);
            }
            return Err(self.unexpected("an array"));
        }
        if name == VALUE_TOKEN {
            return match self.class.as_deref() {
                Some(format::LIST_CLASS) => visit_items(self.list_items()?, visitor),
                Some(format::DICT_CLASS) => visitor.visit_map(self.dict()?),
                Some(format::EMPTY_ARRAY_CLASS) => {
                    protocol::hand_over(self.empty_array()?, visitor)
                }
                _ => visitor.visit_map(self.object(ObjectView::Value)?),
            };
        }
        visitor.visit_newtype_struct(self)
    });

    crate::protocol::macros::deserialize_fn!(deserialize_enum(self, _, _, visitor) => {
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
    });

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
    /// An attribute whose value was read ahead.
    Loaded(String, Loaded),
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
        info: Option<&'static ClassInfo>,
    },
    /// To `deserialize_any`: `class` first, then the members (stored names).
    Any,
    /// To [`Value`](crate::Value): the class and layout details under private keys.
    Value,
}

/// The members of an object group, as a map from member name to value.
pub(crate) struct ObjectAccess {
    group: Group,
    entries: std::vec::IntoIter<(String, Source)>,
    pending: Option<Source>,
}

impl ObjectAccess {
    /// The members of `group`: `members` lists its attributes and links but those of the
    /// attributes in `loaded`, read ahead.
    pub(crate) fn new(
        group: Group,
        members: Members,
        loaded: Vec<(String, Loaded)>,
        class: Option<String>,
        view: ObjectView,
    ) -> Result<ObjectAccess> {
        let stored_maps = if members.has_attr(format::NAMEMAPS_ATTR) {
            read_namemaps(&group)?
        } else {
            Vec::new()
        };
        let legacy = if members.has_attr(format::LEGACY_LISTS_ATTR) {
            Node::attribute(group.id(), format::LEGACY_LISTS_ATTR)
                .and_then(|attr| attr.read_strings())
                .map_err(|e| e.at_with(|| join(&group, format::LEGACY_LISTS_ATTR)))?
        } else {
            Vec::new()
        };
        let mut entries =
            Vec::with_capacity(members.attrs.len() + members.links.len() + loaded.len() + 3);
        // Attributes in name order, those read ahead among them.
        let mut attrs: Vec<(String, Source)> = members
            .attrs
            .iter()
            .filter(|n| !format::is_reserved(n))
            .map(|n| (n.clone(), Source::Attr(n.clone())))
            .chain(
                loaded
                    .into_iter()
                    .map(|(n, v)| (n.clone(), Source::Loaded(n, v))),
            )
            .collect();
        attrs.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let stored = attrs
            .into_iter()
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
                entries.extend(class.map(|c| (CLASS_KEY.to_string(), Source::Str(c))));
                if !stored_maps.is_empty() {
                    let pairs = stored_maps
                        .iter()
                        .map(|(s, m)| vec![s.clone(), m.clone()])
                        .collect();
                    entries.push((NAME_MAPS_KEY.to_string(), Source::Pairs(pairs)));
                }
                if !legacy.is_empty() {
                    entries.push((LEGACY_KEY.to_string(), Source::Strings(legacy.clone())));
                }
                entries.extend(stored);
            }
            ObjectView::Typed { fields, info } => {
                if fields.contains(&format::CLASS_ATTR) {
                    entries.extend(class.map(|c| (format::CLASS_ATTR.to_string(), Source::Str(c))));
                }
                // A stored name that is a field stays as it is; otherwise the file's name
                // maps, then the class's, give the member name (Python's `hdf5_mapnames`).
                let maps: HashMap<&str, &str> = info
                    .into_iter()
                    .flat_map(|i| i.name_maps().iter().map(|&(m, s)| (s, m)))
                    .chain(stored_maps.iter().map(|(s, m)| (s.as_str(), m.as_str())))
                    .collect();
                let extra_field = info.and_then(|i| i.extra_data());
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
    let err = |msg: &str| Error::invalid(msg.to_string());
    let read = || -> Result<Vec<(String, String)>> {
        let attr = Node::attribute(group.id(), format::NAMEMAPS_ATTR)?;
        if !matches!(attr.stored, Stored::Str(_)) {
            return Err(err("namemaps must be strings"));
        }
        let strings = attr.read_strings()?;
        if attr.shape.len() != 2 || attr.shape[1] != 2 {
            return Err(err("namemaps must be an N x 2 array"));
        }
        Ok(strings
            .chunks_exact(2)
            .map(|row| (row[0].clone(), row[1].clone()))
            .collect())
    };
    read().map_err(|e| e.at_with(|| join(group, format::NAMEMAPS_ATTR)))
}

/// Members or items already found, as one value: a class's `extra_data` (a map of the
/// entries that are not members) or an object's member in the legacy list layout.
enum Gathered {
    Members(ObjectAccess),
    Items(Items),
}

impl<'de> de::Deserializer<'de> for Gathered {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self {
            Gathered::Members(access) => visitor.visit_map(access),
            Gathered::Items(items) => visit_items(items, visitor),
        }
    }

    crate::protocol::macros::any_but_option!();
}

impl<'de> de::MapAccess<'de> for ObjectAccess {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.entries.next() {
            Some((key, source)) => {
                charge_item(|| format!("member `{key}`"))?;
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
            Source::Extra(access) => seed.deserialize(Gathered::Members(*access)),
            Source::Attr(name) => seed
                .deserialize(ItemDe::Attr(group, name.clone()))
                .map_err(|e| e.at_with(|| join(group, &name))),
            Source::Loaded(name, value) => seed
                .deserialize(ItemDe::Node(Node::loaded(value)))
                .map_err(|e| e.at_with(|| join(group, &name))),
            Source::Link(name) => seed
                .deserialize(ItemDe::Link(group, name.clone()))
                .map_err(|e| e.at_with(|| join(group, &name))),
            Source::LegacyList(member) => Items::legacy(group.clone(), &member)
                .and_then(|items| seed.deserialize(Gathered::Items(items)))
                .map_err(|e| e.at_with(|| join(group, &format::legacy_list_count(&member)))),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

// ---------------------------------------------------------------------------------------
// Lists, dicts and their items
// ---------------------------------------------------------------------------------------

/// Charges one item, entry or member to the read's budget (absent items of a list cost as
/// much as present ones: the reader builds a value for each).
fn charge_item(what: impl FnOnce() -> String) -> Result<()> {
    scope::charge(scope::ITEM_BYTES, what)
}

/// Lists longer than the entries present by more than this are refused: the missing items
/// would all be `None`, and a corrupt count must not make us loop or allocate for ever.
const MAX_ABSENT_ITEMS: usize = 1 << 24;

/// The items of a sequence, in whichever layout it is stored.
pub(crate) enum Items {
    /// An `AnamList` group (`LIST_item{i}` attributes, datasets and subgroups), its scalar
    /// attributes read ahead (`members` lists the other attributes).
    List {
        group: Group,
        members: Members,
        count: usize,
        loaded: ReadAhead,
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
    pub(crate) fn list(group: Group) -> Result<Items> {
        let pass = node::load_attributes(&group, item_index, scope::remaining());
        let (members, loaded) = if pass.complete {
            (Members::with_attrs(&group, pass.others)?, pass.loaded)
        } else {
            // The pass ended at an error: the items it read are kept, and every attribute
            // is listed (those items too, so that they are found again if read twice).
            (Members::of(&group)?, pass.loaded)
        };
        let loaded = ReadAhead::new(loaded);
        let count = read_count(&group, format::COUNT_ATTR, &members)?;
        let present = members.attrs.len() + members.links.len() + loaded.0.len();
        if count > present + MAX_ABSENT_ITEMS {
            return Err(Error::invalid(format!(
                "list count {count} is implausible for {present} stored items"
            )));
        }
        Ok(Items::List {
            group,
            members,
            count,
            loaded,
        })
    }

    pub(crate) fn legacy(group: Group, member: &str) -> Result<Items> {
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

    pub(crate) fn len(&self) -> usize {
        match self {
            Items::List { count, .. } | Items::Legacy { count, .. } => *count,
            Items::Array(a) => a.len(),
        }
    }

    /// The deserializer of item `i` (`i < len`), and the path to name in errors.
    fn item(&self, i: usize) -> Result<(ItemDe<'_>, ItemPath<'_>)> {
        let (de, name) = match self {
            Items::List {
                group,
                members,
                loaded,
                ..
            } => {
                let name = format::list_item(i);
                let de = if let Some(read_ahead) = loaded.get(i) {
                    match read_ahead.take() {
                        Some(value) => ItemDe::Node(Node::loaded(value)),
                        // Read before: opened again.
                        None => ItemDe::Attr(group, name.clone()),
                    }
                } else if members.has_attr(&name) {
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

/// The scalar attributes of a list group read ahead in one pass (see
/// [`node::load_attributes`]), by item index; each value is taken when its item is read
/// (an item read again is opened by name).
pub(crate) struct ReadAhead(Vec<(usize, std::cell::Cell<Option<Loaded>>)>);

impl ReadAhead {
    fn new(mut loaded: Vec<(usize, Loaded)>) -> ReadAhead {
        // The pass goes in HDF5's order; items are looked up by index.
        loaded.sort_unstable_by_key(|(i, _)| *i);
        ReadAhead(
            loaded
                .into_iter()
                .map(|(i, v)| (i, std::cell::Cell::new(Some(v))))
                .collect(),
        )
    }

    /// The value of item `i`, if it was read ahead (empty once taken).
    fn get(&self, i: usize) -> Option<&std::cell::Cell<Option<Loaded>>> {
        let at = self.0.binary_search_by_key(&i, |(j, _)| *j).ok()?;
        Some(&self.0[at].1)
    }
}

/// The index `i` of an item name `LIST_item{i}` (as [`format::list_item`] writes it).
fn item_index(name: &str) -> Option<usize> {
    let digits = name.strip_prefix(format::LIST_ITEM_PREFIX)?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    canonical.then(|| digits.parse().ok()).flatten()
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
    let count = Node::attribute(group.id(), name).and_then(|attr| match attr.stored {
        Stored::Num(d) if d.is_plain_number() => attr.read_scalar().map(|v| v.as_i128()),
        _ => Ok(None),
    });
    let count = count?.unwrap_or(-1);
    usize::try_from(count).map_err(|_| {
        Error::invalid(format!("`{name}` is not a valid count")).at_with(|| join(group, name))
    })
}

/// A sequence over [`Items`].
struct ItemsAccess {
    items: Items,
    next: usize,
}

/// Visits a sequence of [`Items`], failing when the visitor left items unread.
pub(crate) fn visit_items<'de, V: Visitor<'de>>(items: Items, visitor: V) -> Result<V::Value> {
    visit_all(items.access(), visitor)
}

impl Progress for ItemsAccess {
    fn progress(&self) -> (usize, usize) {
        (self.next, self.items.len())
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
        charge_item(|| format!("item {i} of {}", self.items.len()))?;
        let (de, path) = self.items.item(i)?;
        let value = seed.deserialize(de);
        value.map(Some).map_err(|e| path.locate(e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.next)
    }
}

/// A dict: keys and values from the `dictkeys` and `dictdata` lists.
pub(crate) struct DictAccess {
    pub(crate) keys: Items,
    data: Items,
    next: usize,
}

impl DictAccess {
    pub(crate) fn new(group: &Group) -> Result<DictAccess> {
        let side = |name: &str| -> Result<Items> {
            match open_link(group, name).map_err(|e| e.at_with(|| join(group, name)))? {
                Linked::Group(g) => Items::list(g),
                Linked::Dataset(node) => Ok(Items::Array(NodeDe::new(node).whole()?)),
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
        charge_item(|| format!("entry {} of {}", self.next, self.keys.len()))?;
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
    /// An attribute whose value was read ahead.
    Node(Node),
    Link(&'g Group, String),
    Element(ElementDe),
    Absent,
}

/// What an item is once opened.
enum Opened {
    Group(GroupDe),
    Node(NodeDe),
    Element(ElementDe),
    Absent(AbsentDe),
}

impl ItemDe<'_> {
    fn open(self) -> Result<Opened> {
        Ok(match self {
            ItemDe::Attr(g, n) => Opened::Node(NodeDe::attribute(g, &n)?),
            ItemDe::Node(node) => Opened::Node(NodeDe::new(node)),
            ItemDe::Link(g, n) => match open_link(g, &n)? {
                Linked::Group(sub) => Opened::Group(GroupDe::new(sub)?),
                Linked::Dataset(node) => Opened::Node(NodeDe::new(node)),
            },
            ItemDe::Element(e) => Opened::Element(e),
            ItemDe::Absent => Opened::Absent(AbsentDe),
        })
    }
}

/// Opens the item and hands the call to what it is; a group is one level deeper (see
/// [`crate::depth`]). A value the reader skips (`IgnoredAny`: a member no field wants) is
/// not opened at all, so skipping a big array costs no I/O.
macro_rules! via_opened {
    ($item:ident, deserialize_ignored_any($visitor:ident)) => {{
        let _ = $item;
        $visitor.visit_unit()
    }};
    ($item:ident, $method:ident($($arg:expr),*) $(, $dtype:expr)?) => {{
        match $item.open()? {
            Opened::Group(d) => {
                let _depth = DepthGuard::enter()?;
                crate::depth::grow(|| d.$method($($arg),*))
            }
            Opened::Node(d) => d.$method($($arg),*),
            Opened::Element(d) => d.$method($($arg),*),
            Opened::Absent(d) => d.$method($($arg),*),
        }
    }};
}

impl<'de> de::Deserializer<'de> for ItemDe<'_> {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    protocol::macros::deserialize_all!(via_opened);
}

/// The error for a compound read where nothing is stored.
fn missing() -> Error {
    Error::invalid("missing value (stored as None)")
}

/// An absent entry: Python's `None`.
struct AbsentDe;

/// What nothing stored reads as: `None` for an option (and a `Value`), unit for anything
/// that accepts it, an error for compound types.
macro_rules! absent {
    ($s:ident, deserialize_option($v:ident)) => {
        $v.visit_none()
    };
    ($s:ident, deserialize_newtype_struct($name:ident, $v:ident)) => {
        if $name == VALUE_TOKEN {
            $v.visit_none()
        } else {
            $v.visit_newtype_struct($s)
        }
    };
    ($s:ident, deserialize_unit_struct($name:ident, $v:ident)) => {{
        let _ = $name;
        $v.visit_unit()
    }};
    ($s:ident, $m:ident($v:ident) $(, $dtype:expr)?) => {
        $v.visit_unit()
    };
    // Tuples, structs and enums.
    ($s:ident, $m:ident($($arg:ident),*)) => {{
        let _ = ($($arg),*);
        Err(missing())
    }};
}

impl<'de> de::Deserializer<'de> for AbsentDe {
    type Error = Error;

    protocol::macros::deserialize_all!(absent);
}
