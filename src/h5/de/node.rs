//! An attribute or a dataset: a scalar, or an array read as one buffer.

use hdf5::Group;
use serde::de::{self, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

use super::array::{ArrayDe, Flat};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::h5::node::{Node, NodeKind, Stored};
use crate::protocol::{self, ndarray_serde, ARRAY_TOKEN, VALUE_TOKEN};

/// Deserializes an attribute or dataset (a null dataspace is the unit value).
pub(crate) struct NodeDe(Node);

impl NodeDe {
    /// The attribute `name` of `group`.
    pub(crate) fn attribute(group: &Group, name: &str) -> Result<NodeDe> {
        Node::attribute(group.id(), name).map(NodeDe)
    }

    /// A dataset (or attribute) already open.
    pub(crate) fn new(node: Node) -> NodeDe {
        NodeDe(node)
    }

    /// The whole node as an array of numbers or strings, for nested-sequence access.
    pub(crate) fn whole(self) -> Result<ArrayDe> {
        let node = self.0;
        let flat = match node.stored {
            Stored::Num(_) => Flat::Num(node.read_array()?),
            Stored::Str(_) => Flat::Str(node.read_strings()?),
            Stored::Other(ref t) => return Err(Error::unsupported(format!("HDF5 type {t}"))),
        };
        Ok(ArrayDe::new(flat, node.shape.into()))
    }

    fn is_scalar(&self) -> bool {
        self.0.shape.is_empty() && !self.0.null
    }

    /// The string of a scalar string node; `None` for anything else.
    fn scalar_string(&self) -> Result<Option<String>> {
        match self.0.stored {
            Stored::Str(_) if self.is_scalar() => self.0.read_string().map(Some),
            _ => Ok(None),
        }
    }
}

impl<'de> de::Deserializer<'de> for NodeDe {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.0.null {
            return visitor.visit_unit();
        }
        match (&self.0.stored, self.0.shape.is_empty()) {
            (Stored::Num(_), true) => self.0.read_scalar()?.visit(visitor),
            (Stored::Str(_), true) => visitor.visit_string(self.0.read_string()?),
            (Stored::Other(t), _) => Err(Error::unsupported(format!("HDF5 type {t}"))),
            (_, false) => self.whole()?.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        if name == VALUE_TOKEN && !self.0.null {
            // Typed scalars (complex ones too) and whole arrays for the dynamic value.
            return match (&self.0.stored, self.0.shape.is_empty()) {
                (Stored::Num(DType::C64 | DType::C128), true) => {
                    protocol::hand_over_scalar(self.0.read_array()?, visitor)
                }
                (Stored::Num(_), false) => protocol::hand_over(self.0.read_array()?, visitor),
                _ => self.deserialize_any(visitor),
            };
        }
        if name == ARRAY_TOKEN {
            return match self.0.stored {
                Stored::Num(_) => protocol::hand_over(self.0.read_array()?, visitor),
                ref other => Err(Error::invalid(format!(
                    "expected a numeric array, found {}",
                    other.describe()
                ))),
            };
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // Skipped: nothing is read.
        visitor.visit_unit()
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match (&self.0.stored, self.0.shape.len()) {
            (Stored::Num(DType::U8), 1) => {
                let bytes = self.0.read_array()?.into_array::<u8>()?;
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
                self.0.stored.describe()
            ))),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        if let (true, Stored::Num(_)) = (ndarray_serde::wants_ndarray(name, fields), &self.0.stored)
        {
            // ndarray's own `Deserialize`: the dataset as its `{v, dim, data}`.
            return ndarray_serde::visit_array(&self.0.read_array()?, visitor);
        }
        Err(Error::invalid(format!(
            "expected a group of class `{name}`, found {} of {}",
            match self.0.kind() {
                NodeKind::Attribute => "an attribute",
                NodeKind::Dataset => "a dataset",
            },
            self.0.stored.describe()
        )))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit unit_struct seq tuple tuple_struct map identifier
    }
}
