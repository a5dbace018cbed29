//! Sequences: numeric elements of one dtype are buffered and written as one 1-D dataset;
//! the first element that does not fit switches to the `AnamList` layout.

use hdf5::Group;
use serde::ser::{self, Serialize};

use super::map::{MapSerializer, VariantFields};
use super::member::MemberSerializer;
use super::object::StructSerializer;
use super::{list_entries, list_group, node, write_count};
use crate::dtype::{DType, Scalar};
use crate::error::{Error, Result};
use crate::format;
use crate::h5::group::{create_group, join};
use crate::protocol;

/// A sequence being written.
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
        }
    }

    /// A sequence in the list layout, in `group` (already marked as a list).
    pub(crate) fn list(group: Group, len: Option<usize>) -> SeqSerializer {
        SeqSerializer {
            state: SeqState::List { group, len: 0 },
            entry: None,
            len_hint: len,
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
    /// name.
    fn next_item(&mut self) -> Result<(Group, String)> {
        if let SeqState::Column { dtype, bytes, len } = &mut self.state {
            let (parent, name) = self.entry.as_ref().expect("column sequences have an entry");
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
                Ok((group.clone(), format::list_item(*len - 1)))
            }
            SeqState::Column { .. } => unreachable!("switched to a list above"),
        }
    }

    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        value.serialize(ElementProbe { seq: self })
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
                // An empty sequence is an empty list, as Python writes `[]`.
                let (parent, name) = self.entry.expect("column sequences have an entry");
                list_group(
                    create_group(&parent, &name, list_entries(Some(0)))?,
                    Some(0),
                )?;
                Ok(())
            }
        }
    }
}

protocol::macros::forward_compound!(SeqSerializer, (), element: element, end: finish);

/// Serializes one sequence element: numbers go to the column buffer when they fit, anything
/// else becomes the next `LIST_item{i}` entry of the list.
struct ElementProbe<'s> {
    seq: &'s mut SeqSerializer,
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
        f(MemberSerializer::new(&group, &item)).map_err(|e| e.at_with(|| join(&group, &item)))
    }
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
    type SerializeStructVariant = VariantFields;

    protocol::macros::serialize_scalars!(self, v => self.num(Scalar::from(v)));

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
        if protocol::is_token(name) {
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
    ) -> Result<VariantFields> {
        self.entry(|s| s.serialize_struct_variant(n, i, variant, len))
    }
}
