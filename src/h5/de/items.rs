//! Lists and dicts, item by item; and one item: an attribute, a linked object, an array
//! element, or nothing (Python's `None`).

use hdf5::Group;
use serde::de::{self, DeserializeSeed, Visitor};
use serde::forward_to_deserialize_any;

use super::array::{ArrayDe, ElementDe};
use super::group::GroupDe;
use super::node::NodeDe;
use crate::depth::DepthGuard;
use crate::error::{Error, Result};
use crate::format;
use crate::h5::group::{join, open_link, Linked, Members};
use crate::h5::node::{Node, Stored};
use crate::protocol::{self, VALUE_TOKEN};

/// Lists longer than the entries present by more than this are refused: the missing items
/// would all be `None`, and a corrupt count must not make us loop or allocate for ever.
const MAX_ABSENT_ITEMS: usize = 1 << 24;

/// The items of a sequence, in whichever layout it is stored.
pub(crate) enum Items {
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
    pub(crate) fn list(group: Group, members: Members) -> Result<Items> {
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

/// Visits a sequence and fails when the visitor left items unread (a tuple or array
/// shorter than the stored sequence), as Serde's own sequence deserializers do.
pub(crate) fn visit_items<'de, V: Visitor<'de>>(items: Items, visitor: V) -> Result<V::Value> {
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
pub(crate) struct ItemsDe(pub(crate) Items);

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
pub(crate) struct DictAccess {
    pub(crate) keys: Items,
    data: Items,
    next: usize,
}

impl DictAccess {
    pub(crate) fn new(group: &Group) -> Result<DictAccess> {
        let side = |name: &str| -> Result<Items> {
            match open_link(group, name).map_err(|e| e.at_with(|| join(group, name)))? {
                Linked::Group(g) => {
                    let members = Members::of(&g)?;
                    Items::list(g, members)
                }
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
            ItemDe::Link(g, n) => match open_link(g, &n)? {
                Linked::Group(sub) => Opened::Group(GroupDe::new(sub)?),
                Linked::Dataset(node) => Opened::Node(NodeDe::new(node)),
            },
            ItemDe::Element(e) => Opened::Element(e),
            ItemDe::Absent => Opened::Absent(AbsentDe),
        })
    }
}

/// Opens the item (one level deeper: see [`DepthGuard`]) and hands the call to what it is.
macro_rules! via_opened {
    ($item:ident, $method:ident($($arg:expr),*)) => {{
        let _depth = DepthGuard::enter()?;
        match $item.open()? {
            Opened::Group(d) => d.$method($($arg),*),
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
        if name == VALUE_TOKEN {
            visitor.visit_none()
        } else {
            visitor.visit_newtype_struct(self)
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value> {
        Err(missing())
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value> {
        Err(missing())
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value> {
        Err(missing())
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value> {
        Err(missing())
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq map identifier ignored_any
    }
}
