//! The wire encoder: a Serde `Serializer` writing the compact format into a `Vec<u8>`.

use serde::ser::{self, Serialize};

use super::{kind, tags, zigzag, zigzag128, OutOfBand, U128_MARK, U16_MARK, U32_MARK, U64_MARK};
use crate::dtype::DType;
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
        tagged: false,
        object_next: false,
    };
    value.serialize(Envelope(&mut enc))?;
    Ok(enc.out)
}

pub(crate) struct Encoder<'o> {
    out: Vec<u8>,
    oob: Option<&'o mut dyn OutOfBand>,
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

    fn not_dynamic(&self, what: &str) -> Result<()> {
        if self.tagged {
            Err(Error::unsupported(format!("{what} inside a dynamic value")))
        } else {
            Ok(())
        }
    }
}

/// The top-level serializer: writes the envelope tag, then the value.
struct Envelope<'e, 'o>(&'e mut Encoder<'o>);

impl<'e, 'o> Envelope<'e, 'o> {
    fn tag(self, tag: &str) -> &'e mut Encoder<'o> {
        self.0.bytes(tag.as_bytes());
        self.0
    }
}

macro_rules! envelope_scalars {
    ($($method:ident($t:ty) => $tag:literal),*) => {
        $(fn $method(self, v: $t) -> Result<()> {
            ser::Serializer::$method(self.tag($tag), v)
        })*
    };
}

impl<'e, 'o> ser::Serializer for Envelope<'e, 'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'e, 'o>;
    type SerializeTuple = Compound<'e, 'o>;
    type SerializeTupleStruct = Compound<'e, 'o>;
    type SerializeTupleVariant = Compound<'e, 'o>;
    type SerializeMap = Compound<'e, 'o>;
    type SerializeStruct = Compound<'e, 'o>;
    type SerializeStructVariant = Compound<'e, 'o>;

    envelope_scalars!(serialize_bool(bool) => "bool", serialize_i8(i8) => "i8", serialize_i16(i16) => "i16",
                      serialize_i32(i32) => "i32", serialize_i64(i64) => "i64", serialize_i128(i128) => "i128",
                      serialize_u8(u8) => "u8", serialize_u16(u16) => "u16", serialize_u32(u32) => "u32",
                      serialize_u64(u64) => "u64", serialize_u128(u128) => "u128", serialize_f32(f32) => "f32",
                      serialize_f64(f64) => "f64", serialize_char(char) => "char", serialize_str(&str) => "str",
                      serialize_bytes(&[u8]) => "bytes");

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_none(self) -> Result<()> {
        ser::Serializer::serialize_none(self.tag(tags::OPTION))
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<()> {
        ser::Serializer::serialize_some(self.tag(tags::OPTION), v)
    }
    fn serialize_unit(self) -> Result<()> {
        ser::Serializer::serialize_unit(self.tag(tags::UNIT))
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<()> {
        ser::Serializer::serialize_unit_struct(self.tag(name), name)
    }
    fn serialize_unit_variant(self, name: &'static str, i: u32, v: &'static str) -> Result<()> {
        ser::Serializer::serialize_unit_variant(self.tag(name), name, i, v)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<()> {
        let tag = match name {
            VALUE_TOKEN => tags::VALUE,
            ARRAY_TOKEN => tags::ARRAY,
            LIST_TOKEN => tags::SEQ,
            other => other,
        };
        ser::Serializer::serialize_newtype_struct(self.tag(tag), name, v)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        i: u32,
        variant: &'static str,
        v: &T,
    ) -> Result<()> {
        ser::Serializer::serialize_newtype_variant(self.tag(name), name, i, variant, v)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'e, 'o>> {
        ser::Serializer::serialize_seq(self.tag(tags::SEQ), len)
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'e, 'o>> {
        ser::Serializer::serialize_tuple(self.tag(tags::TUPLE), len)
    }
    fn serialize_tuple_struct(self, name: &'static str, len: usize) -> Result<Compound<'e, 'o>> {
        ser::Serializer::serialize_tuple_struct(self.tag(name), name, len)
    }
    fn serialize_tuple_variant(
        self,
        name: &'static str,
        i: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'e, 'o>> {
        ser::Serializer::serialize_tuple_variant(self.tag(name), name, i, variant, len)
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'e, 'o>> {
        ser::Serializer::serialize_map(self.tag(tags::MAP), len)
    }
    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Compound<'e, 'o>> {
        ser::Serializer::serialize_struct(self.tag(name), name, len)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        i: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'e, 'o>> {
        ser::Serializer::serialize_struct_variant(self.tag(name), name, i, variant, len)
    }
}

macro_rules! varint_methods {
    ($($method:ident($t:ty) => $kind:ident, $conv:expr),*) => {
        $(fn $method(self, v: $t) -> Result<()> {
            self.kind(kind::$kind);
            #[allow(clippy::redundant_closure_call)]
            self.varint(($conv)(v));
            Ok(())
        })*
    };
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

    varint_methods!(serialize_i16(i16) => I16, |v: i16| zigzag(v.into()),
                    serialize_i32(i32) => I32, |v: i32| zigzag(v.into()),
                    serialize_i64(i64) => I64, zigzag,
                    serialize_u16(u16) => U16, u64::from,
                    serialize_u32(u32) => U32, u64::from,
                    serialize_u64(u64) => U64, |v| v);

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.kind(kind::BOOL);
        self.out.push(u8::from(v));
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<()> {
        self.kind(kind::I8);
        self.out.push(v as u8);
        Ok(())
    }
    fn serialize_u8(self, v: u8) -> Result<()> {
        self.kind(kind::U8);
        self.out.push(v);
        Ok(())
    }
    fn serialize_i128(self, v: i128) -> Result<()> {
        self.not_dynamic("a 128-bit integer")?;
        self.varint128(zigzag128(v));
        Ok(())
    }
    fn serialize_u128(self, v: u128) -> Result<()> {
        self.not_dynamic("a 128-bit integer")?;
        self.varint128(v);
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result<()> {
        self.kind(kind::F32);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_f64(self, v: f64) -> Result<()> {
        self.kind(kind::F64);
        self.out.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result<()> {
        if self.tagged {
            return self.serialize_str(v.encode_utf8(&mut [0; 4]));
        }
        self.out
            .extend_from_slice(v.encode_utf8(&mut [0; 4]).as_bytes());
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        self.kind(kind::STR);
        self.bytes(v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        self.kind(kind::BYTES);
        self.bytes(v);
        Ok(())
    }
    fn serialize_none(self) -> Result<()> {
        if self.tagged {
            self.out.push(kind::NONE);
        } else {
            self.out.push(0);
        }
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<()> {
        if !self.tagged {
            self.out.push(1);
        }
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result<()> {
        self.kind(kind::UNIT);
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<()> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, index: u32, _: &'static str) -> Result<()> {
        self.not_dynamic("an enum")?;
        self.varint(index.into());
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        v: &T,
    ) -> Result<()> {
        match name {
            ARRAY_TOKEN => {
                protocol::capture(v, |dtype, shape, data| self.array(dtype, shape, data))
            }
            SCALAR_TOKEN => protocol::capture(v, |dtype, _, data| {
                self.kind(if dtype == DType::C64 {
                    kind::C64
                } else {
                    kind::C128
                });
                self.out.extend_from_slice(data);
                Ok(())
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
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        v: &T,
    ) -> Result<()> {
        self.not_dynamic("an enum")?;
        self.varint(index.into());
        v.serialize(self)
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'e, 'o>> {
        self.kind(kind::LIST);
        Compound::start(self, len)
    }
    fn serialize_tuple(self, len: usize) -> Result<Compound<'e, 'o>> {
        if self.tagged {
            return self.serialize_seq(Some(len));
        }
        Ok(Compound::fixed(self))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'e, 'o>> {
        self.serialize_tuple(len)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _len: usize,
    ) -> Result<Compound<'e, 'o>> {
        self.not_dynamic("an enum")?;
        self.varint(index.into());
        Ok(Compound::fixed(self))
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'e, 'o>> {
        if std::mem::take(&mut self.object_next) {
            // The object's type byte is written; its body is a map with `class` first.
        } else {
            self.kind(kind::DICT);
        }
        Compound::start(self, len)
    }
    fn serialize_struct(self, _: &'static str, _len: usize) -> Result<Compound<'e, 'o>> {
        self.not_dynamic("a struct")?;
        Ok(Compound::fixed(self))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        index: u32,
        _: &'static str,
        _len: usize,
    ) -> Result<Compound<'e, 'o>> {
        self.not_dynamic("an enum")?;
        self.varint(index.into());
        Ok(Compound::fixed(self))
    }
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
    /// For unknown lengths: the output so far, and the element count.
    pending: Option<(Vec<u8>, usize)>,
}

impl<'e, 'o> Compound<'e, 'o> {
    fn start(enc: &'e mut Encoder<'o>, len: Option<usize>) -> Result<Self> {
        match len {
            Some(n) => {
                enc.len(n);
                Ok(Compound { enc, pending: None })
            }
            None => {
                let outer = std::mem::take(&mut enc.out);
                Ok(Compound {
                    enc,
                    pending: Some((outer, 0)),
                })
            }
        }
    }

    fn fixed(enc: &'e mut Encoder<'o>) -> Self {
        Compound { enc, pending: None }
    }

    fn element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<()> {
        if let Some((_, n)) = &mut self.pending {
            *n += 1;
        }
        v.serialize(&mut *self.enc)
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

macro_rules! compound {
    ($($trait:ident :: $method:ident),*) => {
        $(impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<()> {
                self.element(v)
            }
            fn end(self) -> Result<()> {
                self.finish()
            }
        })*
    };
}
compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

macro_rules! compound_fields {
    ($($trait:ident),*) => {
        $(impl ser::$trait for Compound<'_, '_> {
            type Ok = ();
            type Error = Error;
            fn serialize_field<T: ?Sized + Serialize>(&mut self, _: &'static str, v: &T) -> Result<()> {
                self.element(v)
            }
            fn end(self) -> Result<()> {
                self.finish()
            }
        })*
    };
}
compound_fields!(SerializeStruct, SerializeStructVariant);

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
