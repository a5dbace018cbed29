//! A group: an object, a list, a dict or an empty array, by its `class`.

use hdf5::Group;
use serde::de::{self, Visitor};

use super::array::ArrayDe;
use super::items::{visit_items, DictAccess, Items};
use super::object::{ObjectAccess, ObjectView};
use crate::dtype::{with_dtype, with_typed_array, Element, TypedArray};
use crate::error::{Error, ErrorKind, Result};
use crate::format;
use crate::h5::group::{join, open_link, Linked, Members};
use crate::h5::node::{Node, Stored};
use crate::protocol::{self, ARRAY_TOKEN, VALUE_TOKEN};

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
            let read = || Node::attribute(group.id(), format::CLASS_ATTR)?.read_string();
            Some(read().map_err(|e| e.at_with(|| join(&group, format::CLASS_ATTR)))?)
        } else {
            None
        };
        Ok(GroupDe {
            group,
            members,
            class,
        })
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
        if !self.members.has_link(format::EMPTY_SHAPE) {
            // 0-d: Python stores no value (and reads zero); we may have stored one.
            if self.members.has_link(format::EMPTY_VALUE) {
                let value = dataset(format::EMPTY_VALUE)?.read_array()?;
                let value = with_dtype!(dtype, T => value.into_array::<T>().map(T::wrap))
                    .map_err(Error::invalid)?;
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
    ($self:ident, $method:ident($visitor:ident)) => {{
        let _ = $visitor;
        Err($self.unexpected("a scalar attribute"))
    }};
}

impl<'de> de::Deserializer<'de> for GroupDe {
    type Error = Error;

    protocol::macros::deserialize_scalars!(refuse_scalar);

    fn deserialize_i128<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        Err(self.unexpected("a scalar attribute"))
    }
    fn deserialize_u128<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        Err(self.unexpected("a scalar attribute"))
    }
    fn deserialize_char<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        Err(self.unexpected("a scalar attribute"))
    }
    fn deserialize_str<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        Err(self.unexpected("a scalar attribute"))
    }
    fn deserialize_string<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        Err(self.unexpected("a scalar attribute"))
    }
    fn deserialize_identifier<V: Visitor<'de>>(self, _: V) -> Result<V::Value> {
        Err(self.unexpected("a scalar attribute"))
    }

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
