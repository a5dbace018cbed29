//! The wire encoder: a Serde `Serializer` writing the compact format into a `Vec<u8>`.

use serde::ser::{self, Serialize};

use super::{kind, tags, zigzag, zigzag128, OutOfBand, U128_MARK, U16_MARK, U32_MARK, U64_MARK};
use crate::depth::DepthGuard;
use crate::dtype::{DType, Scalar};
use crate::error::{Error, Result};
use crate::protocol::{self, ARRAY_TOKEN, LIST_TOKEN, OBJECT_TOKEN, SCALAR_TOKEN, VALUE_TOKEN};

/// Encodes the envelope and body of `value`; arrays of at least `oob.threshold()` bytes go
/// to `oob` instead of into the message.
pub(crate) fn encode<T: ?Sized + Serialize>(
    value: &T,
    oob: Option<&mut dyn OutOfBand>,
) -> Result<Vec<u8>> {
    let mut enc = Encoder {
        out: Vec::new(),
        oob,
        envelope: true,
        tagged: false,
        object_next: false,
    };
    value.serialize(&mut enc)?;
    Ok(enc.out)
}

pub(crate) struct Encoder<'o> {
    out: Vec<u8>,
    oob: Option<&'o mut dyn OutOfBand>,
    /// The envelope (the value's tag) is still to be written: by the first method called,
    /// which knows what the top-level value is.
    envelope: bool,
    /// Inside a [`Value`](crate::Value): every value starts with a type byte.
    tagged: bool,
    /// The next map is an object's body (its type byte is already written).
    object_next: bool,
}

impl Encoder<'_> {
    fn varint(&mut self, v: u64) {
        if v < u64::from(U16_MARK) {
            self.out.push(v as u8);
        } else if let Ok(v) = u16::try_from(v) {
            self.out.push(U16_MARK);
            self.out.extend_from_slice(&v.to_le_bytes());
        } else if let Ok(v) = u32::try_from(v) {
            self.out.push(U32_MARK);
            self.out.extend_from_slice(&v.to_le_bytes());
        } else {
            self.out.push(U64_MARK);
            self.out.extend_from_slice(&v.to_le_bytes());
        }
    }

    fn varint128(&mut self, v: u128) {
        match u64::try_from(v) {
            Ok(v) => self.varint(v),
            Err(_) => {
                self.out.push(U128_MARK);
                self.out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }

    fn len(&mut self, n: usize) {
        self.varint(n as u64);
    }

    fn kind(&mut self, k: u8) {
        if self.tagged {
            self.out.push(k);
        }
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.out.extend_from_slice(b);
    }

    /// An array: dtype byte (high bit: buffer sent out of band), rank, dims, buffer.
    fn array(&mut self, dtype: DType, shape: &[usize], data: &[u8]) -> Result<()> {
        self.kind(kind::ARRAY);
        let apart = self
            .oob
            .as_ref()
            .is_some_and(|o| data.len() >= o.threshold() && !data.is_empty());
        self.out.push(dtype.code() | if apart { 0x80 } else { 0 });
        self.len(shape.len());
        for &d in shape {
            self.len(d);
        }
        match (&mut self.oob, apart) {
            (Some(oob), true) => oob.send(data),
            _ => {
                self.out.extend_from_slice(data);
                Ok(())
            }
        }
    }

    /// Writes the envelope with `tag`, if the value being started is the top-level one.
    fn open(&mut self, tag: &str) {
        if std::mem::take(&mut self.envelope) {
            self.bytes(tag.as_bytes());
        }
    }

    /// A number, bool or complex number: its type byte inside a `Value`, then `bool`,
    /// `i8` and `u8` as one byte, other integers as varints (signed ones zigzag-encoded),
    /// floats and complex numbers as their little-endian bytes.
    fn scalar(&mut self, v: Scalar) -> Result<()> {
        self.open(v.dtype().rust_name());
        self.kind(kind::of_scalar(v.dtype()));
        match v {
            Scalar::Bool(b) => self.out.push(u8::from(b)),
            Scalar::I8(x) => self.out.push(x as u8),
            Scalar::U8(x) => self.out.push(x),
            Scalar::I16(x) => self.varint(zigzag(x.into())),
            Scalar::I32(x) => self.varint(zigzag(x.into())),
            Scalar::I64(x) => self.varint(zigzag(x)),
            Scalar::U16(x) => self.varint(x.into()),
            Scalar::U32(x) => self.varint(x.into()),
            Scalar::U64(x) => self.varint(x),
            Scalar::F32(_) | Scalar::F64(_) | Scalar::C64(_) | Scalar::C128(_) => {
                v.extend_bytes(&mut self.out)
            }
        }
        Ok(())
    }

    fn not_dynamic(&self, what: &str) -> Result<()> {
        if self.tagged {
            Err(Error::unsupported(format!("{what} inside a dynamic value")))
        } else {
            Ok(())
        }
    }
}

impl<'e, 'o> ser::Serializer for &'e mut Encoder<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'e, 'o>;
    type SerializeTuple = Compound<'e, 'o>;
    type SerializeTupleStruct = Compound<'e, 'o>;
    type SerializeTupleVariant = Compound<'e, 'o>;
    type SerializeMap = Compound<'e, 'o>;
    type SerializeStruct = Compound<'e, 'o>;
    type SerializeStructVariant = Compound<'e, 'o>;

    protocol::macros::serialize_scalars!(self, v => self.scalar(Scalar::from(v)));

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_i128(self, v: i128) -> Result<()> {
        self.open("i128");
        self.not_dynamic("a 128-bit integer")?;
        self.varint128(zigzag128(v));
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        self.open("u128");
        self.not_dynamic("a 128-bit integer")?;
        self.varint128(v);
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<()> {
        let mut buf = [0; 4];
        let text = v.encode_utf8(&mut buf);
        if self.tagged {
            return self.serialize_str(text);
        }
        self.open("char");
        self.out.extend_from_slice(text.as_bytes());
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.open(tags::STR);
        self.kind(kind::STR);
        self.bytes(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.open("bytes");
        self.kind(kind::BYTES);
        self.bytes(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        self.open(tags::OPTION);
        self.out.push(if self.tagged { kind::NONE } else { 0 });
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<()> {
        self.open(tags::OPTION);
        if !self.tagged {
            self.out.push(1);
        }
        // A level of nesting, as the decoder counts it (see `crate::depth`).
        let _depth = DepthGuard::enter()?;
        crate::depth::grow(|| v.serialize(self))
    }
    fn serialize_unit(self) -> Result<()> {
        self.open(tags::UNIT);
        self.kind(kind::UNIT);
        Ok(())
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<()> {
        self.open(name);
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, name: &'static str, index: u32, _: &'static str) -> Result<()> {
        self.open(name);
        self.not_dynamic("an enum")?;
        self.varint(index.into());
        Ok(())
    }
    crate::protocol::macros::serialize_fn!(serialize_newtype_struct(self, name, v) => {
        self.open(match name {
            VALUE_TOKEN => tags::VALUE,
            ARRAY_TOKEN => tags::ARRAY,
            LIST_TOKEN => tags::SEQ,
            other => other,
        });
        match name {
            ARRAY_TOKEN => {
                protocol::capture(v, |dtype, shape, data| self.array(dtype, shape, data))
            }
            SCALAR_TOKEN => protocol::capture(v, |dtype, _, data| {
                self.scalar(Scalar::from_le_bytes(dtype, data)?)
            }),
            VALUE_TOKEN => {
                let outer = std::mem::replace(&mut self.tagged, true);
                let result = v.serialize(&mut *self);
                self.tagged = outer;
                result
            }
            OBJECT_TOKEN => {
                self.not_dynamic_object()?;
                self.out.push(kind::OBJECT);
                self.object_next = true;
                v.serialize(self)
            }
            _ => v.serialize(self),
        }
    });
    crate::protocol::macros::serialize_fn!(serialize_newtype_variant(self, name, index, _, v) => {
        self.open(name);
        self.not_dynamic("an enum")?;
        self.varint(index.into());
        let _depth = DepthGuard::enter()?;
        crate::depth::grow(|| v.serialize(self))
    });
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'e, 'o>> {
        self.open(tags::SEQ);
        self.kind(kind::LIST);
        Compound::start(self, len)
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'e, 'o>> {
        self.open(tags::TUPLE);
        if self.tagged {
            return self.serialize_seq(Some(len));
        }
        Compound::fixed(self)
    }
    fn serialize_tuple_struct(self, name: &'static str, len: usize) -> Result<Compound<'e, 'o>> {
        self.open(name);
        self.serialize_tuple(len)
    }
    crate::protocol::macros::serialize_fn!(serialize_tuple_variant(self, name, index, _, _len) => {
        self.open(name);
        self.not_dynamic("an enum")?;
        self.varint(index.into());
        Compound::fixed(self)
    });
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'e, 'o>> {
        self.open(tags::MAP);
        if std::mem::take(&mut self.object_next) {
            // The object's type byte is written; its body is a map with `class` first.
        } else {
            self.kind(kind::DICT);
        }
        Compound::start(self, len)
    }
    fn serialize_struct(self, name: &'static str, _len: usize) -> Result<Compound<'e, 'o>> {
        self.open(name);
        self.not_dynamic("a struct")?;
        Compound::fixed(self)
    }
    crate::protocol::macros::serialize_fn!(serialize_struct_variant(self, name, index, variant, len) => {
        // Its fields in order, as a tuple variant's.
        self.serialize_tuple_variant(name, index, variant, len)
    });
}

impl Encoder<'_> {
    fn not_dynamic_object(&self) -> Result<()> {
        if self.tagged {
            Ok(())
        } else {
            Err(Error::unsupported("an object body outside a dynamic value"))
        }
    }
}

/// A sequence, map, tuple or struct being written. A sequence or map of unknown length is
/// written into a side buffer and prefixed with its length at the end.
pub(crate) struct Compound<'e, 'o> {
    enc: &'e mut Encoder<'o>,
    /// A level of nesting while the compound is written (see `crate::depth`).
    _depth: DepthGuard,
    /// For unknown lengths: the output so far, and the element count.
    pending: Option<(Vec<u8>, usize)>,
}

impl<'e, 'o> Compound<'e, 'o> {
    fn start(enc: &'e mut Encoder<'o>, len: Option<usize>) -> Result<Self> {
        let _depth = DepthGuard::enter()?;
        let pending = match len {
            Some(n) => {
                enc.len(n);
                None
            }
            None => Some((std::mem::take(&mut enc.out), 0)),
        };
        Ok(Compound {
            enc,
            _depth,
            pending,
        })
    }

    fn fixed(enc: &'e mut Encoder<'o>) -> Result<Self> {
        Ok(Compound {
            enc,
            _depth: DepthGuard::enter()?,
            pending: None,
        })
    }

    fn element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<()> {
        if let Some((_, n)) = &mut self.pending {
            *n += 1;
        }
        crate::depth::grow(|| v.serialize(&mut *self.enc))
    }

    fn field<T: ?Sized + Serialize>(&mut self, _: &'static str, v: &T) -> Result<()> {
        self.element(v)
    }

    fn finish(self) -> Result<()> {
        if let Some((outer, n)) = self.pending {
            let body = std::mem::replace(&mut self.enc.out, outer);
            self.enc.len(n);
            self.enc.out.extend_from_slice(&body);
        }
        Ok(())
    }
}

protocol::macros::forward_compound!(Compound<'_, '_>, (), element: element, end: finish);
protocol::macros::forward_fields!(Compound<'_, '_>, (), field: field, end: finish);

impl ser::SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = Error;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, k: &T) -> Result<()> {
        self.element(k)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<()> {
        // A key and its value count as one entry.
        if let Some((_, n)) = &mut self.pending {
            *n -= 1;
        }
        self.element(v)
    }
    fn end(self) -> Result<()> {
        self.finish()
    }
}
