//! The wire decoder: a Serde `Deserializer` over a byte slice, checking every length
//! against the bytes that remain.

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::{
    dtype_of_code, kind, tags, unzigzag, unzigzag128, OutOfBand, U128_MARK, U16_MARK, U32_MARK,
    U64_MARK,
};
use crate::depth::DepthGuard;
use crate::dtype::{self, with_dtype, DType, Element, Scalar, TypedArray};
use crate::error::{Error, ErrorKind, Result};
use crate::object::AnamObject;
use crate::protocol::{self, ARRAY_TOKEN, CLASS_KEY, VALUE_TOKEN};

/// Sequences may announce at most this many more elements than bytes remain (elements of
/// zero-sized types take no bytes; anything beyond is a corrupt length).
const ZERO_SIZED_SLACK: usize = 4096;
/// Arrays have at most this many dimensions.
const MAX_RANK: usize = 64;

/// Reads primitive items from a byte slice.
pub(crate) struct Reader<'de> {
    buf: &'de [u8],
    pos: usize,
}

fn truncated() -> Error {
    Error::invalid("message truncated")
}

impl<'de> Reader<'de> {
    pub(crate) fn new(buf: &'de [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'de [u8]> {
        if n > self.remaining() {
            return Err(Error::invalid(format!(
                "length {n} exceeds the {} bytes left in the message",
                self.remaining()
            )));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8> {
        let b = *self.buf.get(self.pos).ok_or_else(truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn peek(&self) -> Result<u8> {
        self.buf.get(self.pos).copied().ok_or_else(truncated)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        Ok(self.take(N)?.try_into().expect("took N bytes"))
    }

    fn varint(&mut self) -> Result<u64> {
        Ok(match self.byte()? {
            U16_MARK => u16::from_le_bytes(self.array()?).into(),
            U32_MARK => u32::from_le_bytes(self.array()?).into(),
            U64_MARK => u64::from_le_bytes(self.array()?),
            U128_MARK => return Err(Error::invalid("integer does not fit 64 bits")),
            b => b.into(),
        })
    }

    fn varint128(&mut self) -> Result<u128> {
        if self.peek()? == U128_MARK {
            self.byte()?;
            return Ok(u128::from_le_bytes(self.array()?));
        }
        self.varint().map(u128::from)
    }

    fn narrow<T: TryFrom<u64>>(&mut self, what: &str) -> Result<T> {
        let v = self.varint()?;
        T::try_from(v).map_err(|_| Error::invalid(format!("{v} does not fit {what}")))
    }

    fn len(&mut self) -> Result<usize> {
        self.narrow("a length")
    }

    /// A length-prefixed byte string.
    fn bytes(&mut self) -> Result<&'de [u8]> {
        let n = self.len()?;
        self.take(n)
    }

    pub(crate) fn str(&mut self) -> Result<&'de str> {
        std::str::from_utf8(self.bytes()?).map_err(|_| Error::invalid("string is not valid UTF-8"))
    }
}

/// Decodes a `T` from a message, checking the envelope against `T`.
pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    oob: Option<&mut dyn OutOfBand>,
) -> Result<T> {
    let mut d = Decoder {
        r: Reader::new(bytes),
        oob,
        tagged: false,
    };
    let tag = d.r.str()?;
    let value = T::deserialize(Top { tag, de: &mut d })?;
    d.finish()?;
    Ok(value)
}

/// Decodes an object of the registered class its envelope names.
pub(crate) fn decode_object(
    bytes: &[u8],
    oob: Option<&mut dyn OutOfBand>,
) -> Result<Box<dyn AnamObject>> {
    let mut d = Decoder {
        r: Reader::new(bytes),
        oob,
        tagged: false,
    };
    let tag = d.r.str()?;
    let info = crate::registry::class_for(tag)?;
    let object = info.load(Top { tag, de: &mut d })?;
    d.finish()?;
    Ok(object)
}

pub(crate) struct Decoder<'de, 'o> {
    r: Reader<'de>,
    oob: Option<&'o mut dyn OutOfBand>,
    /// Inside a [`Value`](crate::Value): every value starts with a type byte.
    tagged: bool,
}

impl<'de> Decoder<'de, '_> {
    fn finish(&self) -> Result<()> {
        match self.r.remaining() {
            0 => Ok(()),
            n => Err(Error::invalid(format!("{n} bytes left after the value"))),
        }
    }

    /// An array written by the encoder: dtype byte, rank, dims, buffer (or out of band).
    fn array(&mut self) -> Result<TypedArray> {
        let code = self.r.byte()?;
        let apart = code & 0x80 != 0;
        let dtype = dtype_of_code(code & 0x7f)?;
        let rank = self.r.len()?;
        if rank > MAX_RANK {
            return Err(Error::invalid(format!("array of rank {rank}")));
        }
        let shape = (0..rank)
            .map(|_| self.r.len())
            .collect::<Result<Vec<usize>>>()?;
        TypedArray::check_shape(&shape)?;
        let nbytes = shape
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
            .filter(|&n| isize::try_from(n).is_ok())
            .ok_or_else(|| Error::invalid(format!("array shape {shape:?} is too large")))?;
        if !apart {
            return TypedArray::from_le_bytes(dtype, &shape, self.r.take(nbytes)?);
        }
        let oob = self
            .oob
            .as_mut()
            .ok_or_else(|| Error::invalid("array data was sent apart from this message"))?;
        if dtype == DType::Bool {
            // Receive bytes, then check each is 0 or 1 before they become `bool`s.
            // SAFETY: `OutOfBand::receive` writes the whole buffer when it returns `Ok`.
            let raw: Vec<u8> = unsafe { dtype::filled_bytes(nbytes, |buf| oob.receive(buf))? };
            return TypedArray::from_le_bytes(dtype, &shape, &raw);
        }
        let n = shape.iter().product();
        with_dtype!(dtype, T => {
            // SAFETY: as above.
            let elements: Vec<T> = unsafe { dtype::filled_elements(n, |buf| oob.receive(buf))? };
            ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), elements)
                .map(T::wrap)
                .map_err(|e| Error::invalid(e.to_string()))
        })
    }

    fn seq_len(&mut self) -> Result<usize> {
        let n = self.r.len()?;
        if n > self.r.remaining().saturating_add(ZERO_SIZED_SLACK) {
            return Err(Error::invalid(format!(
                "length {n} exceeds the {} bytes left in the message",
                self.r.remaining()
            )));
        }
        Ok(n)
    }

    /// Reads a number, bool or complex number of `dtype` (see the encoder's `scalar`).
    fn read_scalar(&mut self, dtype: DType) -> Result<Scalar> {
        Ok(match dtype {
            DType::Bool => Scalar::Bool(self.bool()?),
            DType::I8 => Scalar::I8(self.r.byte()? as i8),
            DType::U8 => Scalar::U8(self.r.byte()?),
            DType::I16 => Scalar::I16(self.signed("i16")?),
            DType::I32 => Scalar::I32(self.signed("i32")?),
            DType::I64 => Scalar::I64(unzigzag(self.r.varint()?)),
            DType::U16 => Scalar::U16(self.r.narrow("u16")?),
            DType::U32 => Scalar::U32(self.r.narrow("u32")?),
            DType::U64 => Scalar::U64(self.r.varint()?),
            _ => Scalar::from_le_bytes(dtype, self.r.take(dtype.size())?)?,
        })
    }

    /// Reads one self-describing value (inside a `Value`).
    fn tagged_any<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        let k = self.r.byte()?;
        if let Some(dtype) = kind::scalar_dtype(k) {
            return match dtype {
                // Complex numbers have no visitor method: handed over typed.
                DType::C64 | DType::C128 => {
                    let bytes = self.r.take(dtype.size())?;
                    protocol::hand_over_scalar(
                        TypedArray::from_le_bytes(dtype, &[], bytes)?,
                        visitor,
                    )
                }
                _ => self.read_scalar(dtype)?.visit(visitor),
            };
        }
        match k {
            kind::NONE => visitor.visit_none(),
            kind::UNIT => visitor.visit_unit(),
            kind::STR => visitor.visit_string(self.r.str()?.to_string()),
            kind::BYTES => visitor.visit_byte_buf(self.r.bytes()?.to_vec()),
            kind::ARRAY => protocol::hand_over(self.array()?, visitor),
            kind::LIST => {
                let _depth = DepthGuard::enter()?;
                let n = self.seq_len()?;
                visitor.visit_seq(Items { de: self, left: n })
            }
            kind::DICT | kind::OBJECT => {
                let _depth = DepthGuard::enter()?;
                let n = self.seq_len()?;
                let first = (k == kind::OBJECT).then_some(CLASS_KEY);
                visitor.visit_map(Entries {
                    de: self,
                    left: n,
                    rename_first: first,
                })
            }
            other => Err(Error::invalid(format!("unknown value type {other}"))),
        }
    }

    fn bool(&mut self) -> Result<bool> {
        match self.r.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(Error::invalid(format!("{b} is not a bool"))),
        }
    }

    fn signed<T: TryFrom<i64>>(&mut self, what: &str) -> Result<T> {
        let v = unzigzag(self.r.varint()?);
        T::try_from(v).map_err(|_| Error::invalid(format!("{v} does not fit {what}")))
    }
}

/// The top of a message: checks the envelope tag against the type being read.
struct Top<'d, 'de, 'o> {
    tag: &'de str,
    de: &'d mut Decoder<'de, 'o>,
}

impl<'d, 'de, 'o> Top<'d, 'de, 'o> {
    fn expect(self, expected: &str) -> Result<&'d mut Decoder<'de, 'o>> {
        if self.tag == expected || crate::registry::tag_matches(expected, self.tag) {
            Ok(self.de)
        } else {
            Err(ErrorKind::ClassMismatch {
                found: self.tag.to_string(),
                expected: expected.to_string(),
            }
            .into())
        }
    }
}

/// The envelope tag that the top-level value read by `method` must have (the method's
/// name without `deserialize_`, as the encoder names what it writes).
fn envelope_of(method: &'static str) -> &'static str {
    match method.trim_start_matches("deserialize_") {
        "string" | "identifier" => "str",
        "byte_buf" => "bytes",
        other => other,
    }
}

/// A top-level method: checks the envelope, then reads the value.
macro_rules! top {
    ($s:ident, deserialize_any($v:ident)) => {{
        let _ = $v;
        Err(Error::unsupported(format!(
            "a `{}` message is not self-describing: read it as its type",
            $s.tag
        )))
    }};
    ($s:ident, deserialize_ignored_any($v:ident)) => {
        top!($s, deserialize_any($v))
    };
    ($s:ident, deserialize_identifier($v:ident)) => {
        de::Deserializer::deserialize_str($s.expect(tags::STR)?, $v)
    };
    ($s:ident, $m:ident($v:ident), $dtype:expr) => {
        de::Deserializer::$m($s.expect($dtype.rust_name())?, $v)
    };
    ($s:ident, $m:ident($v:ident)) => {
        de::Deserializer::$m($s.expect(envelope_of(stringify!($m)))?, $v)
    };
    ($s:ident, deserialize_tuple($len:ident, $v:ident)) => {
        de::Deserializer::deserialize_tuple($s.expect(tags::TUPLE)?, $len, $v)
    };
    ($s:ident, deserialize_newtype_struct($name:ident, $v:ident)) => {{
        let expected = match $name {
            VALUE_TOKEN => tags::VALUE,
            ARRAY_TOKEN => tags::ARRAY,
            other => other,
        };
        de::Deserializer::deserialize_newtype_struct($s.expect(expected)?, $name, $v)
    }};
    // Named types: the envelope is their name.
    ($s:ident, $m:ident($name:ident, $v:ident)) => {
        de::Deserializer::$m($s.expect($name)?, $name, $v)
    };
    ($s:ident, $m:ident($name:ident, $arg:ident, $v:ident)) => {
        de::Deserializer::$m($s.expect($name)?, $name, $arg, $v)
    };
}

impl<'de> de::Deserializer<'de> for Top<'_, 'de, '_> {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    protocol::macros::deserialize_all!(top);
}

/// A typed scalar read: self-describing inside a `Value`, else by its type.
macro_rules! typed_scalar {
    ($self:ident, $method:ident($visitor:ident), $dtype:expr) => {{
        if $self.tagged {
            return $self.tagged_any($visitor);
        }
        $self.read_scalar($dtype)?.visit($visitor)
    }};
}

impl<'de> de::Deserializer<'de> for &mut Decoder<'de, '_> {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.tagged {
            return self.tagged_any(visitor);
        }
        Err(Error::unsupported("typed wire data is not self-describing"))
    }

    protocol::macros::deserialize_scalars!(typed_scalar);

    fn deserialize_i128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.tagged {
            return self.tagged_any(visitor);
        }
        visitor.visit_i128(unzigzag128(self.r.varint128()?))
    }
    fn deserialize_u128<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.tagged {
            return self.tagged_any(visitor);
        }
        visitor.visit_u128(self.r.varint128()?)
    }
    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.tagged {
            return self.tagged_any(visitor);
        }
        let width = match self.r.peek()? {
            b if b < 0x80 => 1,
            b if b >= 0xF0 => 4,
            b if b >= 0xE0 => 3,
            _ => 2,
        };
        let s =
            std::str::from_utf8(self.r.take(width)?).map_err(|_| Error::invalid("invalid char"))?;
        visitor.visit_char(
            s.chars()
                .next()
                .ok_or_else(|| Error::invalid("invalid char"))?,
        )
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.tagged {
            return self.tagged_any(visitor);
        }
        visitor.visit_borrowed_str(self.r.str()?)
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.tagged {
            return self.tagged_any(visitor);
        }
        visitor.visit_borrowed_bytes(self.r.bytes()?)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_bytes(visitor)
    }
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.tagged {
            if self.r.peek()? == kind::NONE {
                self.r.byte()?;
                return visitor.visit_none();
            }
            return visitor.visit_some(self);
        }
        match self.r.byte()? {
            0 => visitor.visit_none(),
            1 => {
                let _depth = DepthGuard::enter()?;
                crate::depth::grow(|| visitor.visit_some(self))
            }
            b => Err(Error::invalid(format!("{b} is not an option marker"))),
        }
    }
    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.tagged {
            return self.tagged_any(visitor);
        }
        visitor.visit_unit()
    }
    crate::protocol::macros::deserialize_fn!(deserialize_unit_struct(self, _, visitor) => {
        self.deserialize_unit(visitor)
    });
    crate::protocol::macros::deserialize_fn!(deserialize_newtype_struct(self, name, visitor) => {
        match name {
            VALUE_TOKEN => {
                let outer = std::mem::replace(&mut self.tagged, true);
                let result = self.tagged_any(visitor);
                self.tagged = outer;
                result
            }
            ARRAY_TOKEN if self.tagged => self.tagged_any(visitor),
            ARRAY_TOKEN => {
                let a = self.array()?;
                protocol::hand_over(a, visitor)
            }
            _ => visitor.visit_newtype_struct(self),
        }
    });
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.tagged {
            return self.tagged_any(visitor);
        }
        let _depth = DepthGuard::enter()?;
        let n = self.seq_len()?;
        visitor.visit_seq(Items { de: self, left: n })
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        if self.tagged {
            return self.tagged_any(visitor);
        }
        let _depth = DepthGuard::enter()?;
        visitor.visit_seq(Items {
            de: self,
            left: len,
        })
    }
    crate::protocol::macros::deserialize_fn!(deserialize_tuple_struct(self, _, len, visitor) => {
        self.deserialize_tuple(len, visitor)
    });
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.tagged {
            return self.tagged_any(visitor);
        }
        let _depth = DepthGuard::enter()?;
        let n = self.seq_len()?;
        visitor.visit_map(Entries {
            de: self,
            left: n,
            rename_first: None,
        })
    }
    crate::protocol::macros::deserialize_fn!(deserialize_struct(self, _, fields, visitor) => {
        if self.tagged {
            return self.tagged_any(visitor);
        }
        self.deserialize_tuple(fields.len(), visitor)
    });
    crate::protocol::macros::deserialize_fn!(deserialize_enum(self, _, _, visitor) => {
        if self.tagged {
            return Err(Error::unsupported("an enum inside a dynamic value"));
        }
        let _depth = DepthGuard::enter()?;
        crate::depth::grow(|| visitor.visit_enum(self))
    });
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_str(visitor)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_any(visitor)
    }
}

impl<'de> de::EnumAccess<'de> for &mut Decoder<'de, '_> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Self)> {
        let index: u32 = self.r.narrow("a variant index")?;
        let v = seed.deserialize(IntoDeserializer::<Error>::into_deserializer(index))?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for &mut Decoder<'de, '_> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value> {
        de::Deserializer::deserialize_tuple(self, len, visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        de::Deserializer::deserialize_tuple(self, fields.len(), visitor)
    }
}

/// `left` more elements of a sequence, tuple or struct.
struct Items<'d, 'de, 'o> {
    de: &'d mut Decoder<'de, 'o>,
    left: usize,
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        crate::depth::grow(|| seed.deserialize(&mut *self.de)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// `left` more entries of a map; an object's first key is presented as the class marker.
struct Entries<'d, 'de, 'o> {
    de: &'d mut Decoder<'de, 'o>,
    left: usize,
    rename_first: Option<&'static str>,
}

impl<'de> de::MapAccess<'de> for Entries<'_, 'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        if let Some(marker) = self.rename_first.take() {
            de::IgnoredAny::deserialize(&mut *self.de)?;
            return seed
                .deserialize(IntoDeserializer::<Error>::into_deserializer(marker))
                .map(Some);
        }
        crate::depth::grow(|| seed.deserialize(&mut *self.de)).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        crate::depth::grow(|| seed.deserialize(&mut *self.de))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

use serde::Deserialize as _;
