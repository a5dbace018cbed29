//! One value as the member `name` of a group: scalars as attributes, arrays as datasets,
//! anything else as a subgroup written by [`GroupSerializer`].

use hdf5::Group;
use serde::ser::{self, Serialize};

use super::map::{MapSerializer, VariantFields};
use super::object::{GroupSerializer, StructSerializer};
use super::seq::SeqSerializer;
use super::{list_entries, node, DICT_ENTRIES, UNKNOWN_ENTRIES};
use crate::dtype::{self, DType, Scalar};
use crate::error::{Error, Result};
use crate::format;
use crate::h5::group::create_group;
use crate::protocol::{self, ARRAY_TOKEN, LIST_TOKEN, OBJECT_TOKEN, SCALAR_TOKEN};

/// The serializer for the member `name` of `parent`.
pub(crate) struct MemberSerializer<'a> {
    pub parent: &'a Group,
    pub name: &'a str,
    /// Set by [`crate::as_list`]: a sequence keeps the list layout even when numeric.
    pub force_list: bool,
}

impl<'a> MemberSerializer<'a> {
    pub(crate) fn new(parent: &'a Group, name: &'a str) -> Self {
        MemberSerializer {
            parent,
            name,
            force_list: false,
        }
    }

    /// The subgroup `name`, made for about `entries` attributes and links, to be written
    /// as a whole.
    fn subgroup(&self, entries: usize) -> Result<GroupSerializer> {
        Ok(GroupSerializer::new(create_group(
            self.parent,
            self.name,
            entries,
        )?))
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
        // class, shape, dtype and value.
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
    type Ok = ();
    type Error = Error;
    type SerializeSeq = SeqSerializer;
    type SerializeTuple = SeqSerializer;
    type SerializeTupleStruct = SeqSerializer;
    type SerializeTupleVariant = SeqSerializer;
    type SerializeMap = MapSerializer;
    type SerializeStruct = StructSerializer;
    type SerializeStructVariant = VariantFields;

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

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<()> {
        match name {
            ARRAY_TOKEN => {
                protocol::capture(value, |dtype, shape, bytes| self.array(dtype, shape, bytes))
            }
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
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        self.subgroup(DICT_ENTRIES)?
            .serialize_newtype_variant(name, index, variant, value)
    }

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

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSerializer> {
        self.subgroup(DICT_ENTRIES)?
            .serialize_tuple_variant(name, index, variant, len)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<MapSerializer> {
        self.subgroup(DICT_ENTRIES)?.serialize_map(len)
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<StructSerializer> {
        // The fields and the class.
        self.subgroup(len + 1)?.serialize_struct(name, len)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<VariantFields> {
        self.subgroup(DICT_ENTRIES)?
            .serialize_struct_variant(name, index, variant, len)
    }
}
