//! Small serializers that pull known shapes out of a `Serialize` value: the array payload
//! (`dtype`, `shape`, borrowed data bytes) and plain strings. Shared by every format of the
//! crate, so that an array's buffer reaches the backend without a copy.

use serde::ser::{self, Impossible, Serialize, SerializeSeq, SerializeStruct};

use crate::array::DType;
use crate::error::{Error, Result};

/// What a [`Part`] serializer expects to see.
#[derive(Clone, Copy, PartialEq)]
enum Expect {
    Str,
    Shape,
    Dim,
}

/// Accepts exactly one kind of value and stores it in `out`.
struct Part<'o> {
    expect: Expect,
    out: &'o mut Captured,
}

#[derive(Default)]
struct Captured {
    text: Option<String>,
    shape: Vec<usize>,
    dim: Option<u64>,
}

fn unexpected(what: &str) -> Error {
    Error::invalid(format!("unexpected {what} in an array payload"))
}

/// A narrow serializer's error for anything it does not accept.
pub(crate) trait Rejects {
    fn rejected(&self) -> Error;
}

/// The compound methods a narrow serializer ([`Rejects`]) refuses.
macro_rules! reject_common {
    () => {
        fn serialize_none(self) -> Result<()> {
            Err($crate::capture::Rejects::rejected(&self))
        }
        fn serialize_unit(self) -> Result<()> {
            Err($crate::capture::Rejects::rejected(&self))
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<()> {
            Err($crate::capture::Rejects::rejected(&self))
        }
        fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<()> {
            Err($crate::capture::Rejects::rejected(&self))
        }
        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<()> {
            Err($crate::capture::Rejects::rejected(&self))
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
            Err($crate::capture::Rejects::rejected(&self))
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct> {
            Err($crate::capture::Rejects::rejected(&self))
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant> {
            Err($crate::capture::Rejects::rejected(&self))
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant> {
            Err($crate::capture::Rejects::rejected(&self))
        }
    };
}

/// Scalar methods a narrow serializer ([`Rejects`]) refuses.
macro_rules! reject {
    ($($method:ident($t:ty)),*) => {
        $(fn $method(self, _: $t) -> Result<Self::Ok> {
            Err($crate::capture::Rejects::rejected(&self))
        })*
    };
}
/// Rejects every scalar: numbers, `char`, strings and bytes.
macro_rules! reject_scalars {
    () => {
        $crate::capture::reject!(
            serialize_bool(bool),
            serialize_i8(i8),
            serialize_i16(i16),
            serialize_i32(i32),
            serialize_i64(i64),
            serialize_u8(u8),
            serialize_u16(u16),
            serialize_u32(u32),
            serialize_u64(u64),
            serialize_f32(f32),
            serialize_f64(f64),
            serialize_char(char),
            serialize_str(&str),
            serialize_bytes(&[u8])
        );
    };
}
pub(crate) use {reject, reject_common, reject_scalars};

fn bad_payload() -> Error {
    Error::invalid("unexpected value in an array payload")
}

impl Rejects for Part<'_> {
    fn rejected(&self) -> Error {
        bad_payload()
    }
}

impl<F> Rejects for PayloadTop<'_, F> {
    fn rejected(&self) -> Error {
        bad_payload()
    }
}

impl<F> Rejects for DataSer<'_, F> {
    fn rejected(&self) -> Error {
        bad_payload()
    }
}

impl<'o> ser::Serializer for Part<'o> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = ShapeSeq<'o>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    reject!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char)
    );

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_i64(self, v: i64) -> Result<()> {
        let v = u64::try_from(v).map_err(|_| unexpected("negative dimension"))?;
        self.serialize_u64(v)
    }
    fn serialize_u64(self, v: u64) -> Result<()> {
        if self.expect != Expect::Dim {
            return Err(unexpected("integer"));
        }
        self.out.dim = Some(v);
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<()> {
        if self.expect != Expect::Str {
            return Err(unexpected("string"));
        }
        self.out.text = Some(v.to_owned());
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<()> {
        // Bytes are handled by `capture` itself, which owns the callback.
        Err(unexpected("bytes"))
    }
    reject_common!();
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(bad_payload())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> Result<()> {
        v.serialize(self)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, v: &T) -> Result<()> {
        v.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<ShapeSeq<'o>> {
        if self.expect != Expect::Shape {
            return Err(unexpected("sequence"));
        }
        Ok(ShapeSeq { out: self.out })
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(unexpected("struct"))
    }
}

struct ShapeSeq<'o> {
    out: &'o mut Captured,
}

impl SerializeSeq for ShapeSeq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<()> {
        v.serialize(Part {
            expect: Expect::Dim,
            out: self.out,
        })?;
        let dim = self.out.dim.take().ok_or_else(|| unexpected("dimension"))?;
        self.out
            .shape
            .push(usize::try_from(dim).map_err(|_| unexpected("dimension too large"))?);
        Ok(())
    }
    fn end(self) -> Result<()> {
        Ok(())
    }
}

/// The top-level serializer: the payload struct `{dtype, shape, data}`.
struct PayloadSer<'c, F> {
    captured: Captured,
    sink: &'c mut Option<F>,
}

/// Runs `f(dtype, shape, bytes)` on an array payload (the value passed with the array
/// token), with the bytes borrowed from the array itself.
pub(crate) fn capture<T, F>(value: &T, f: F) -> Result<()>
where
    T: ?Sized + Serialize,
    F: FnOnce(DType, &[usize], &[u8]) -> Result<()>,
{
    let mut sink = Some(f);
    value.serialize(PayloadTop { sink: &mut sink })?;
    if sink.is_some() {
        return Err(Error::invalid("array payload has no data"));
    }
    Ok(())
}

/// Extracts a string value (e.g. a `class` field).
pub(crate) fn capture_str<T: ?Sized + Serialize>(value: &T) -> Result<String> {
    let mut out = Captured::default();
    value
        .serialize(Part {
            expect: Expect::Str,
            out: &mut out,
        })
        .map_err(|_| Error::invalid("a `class` field must be a string"))?;
    out.text
        .ok_or_else(|| Error::invalid("a `class` field must be a string"))
}

struct PayloadTop<'c, F> {
    sink: &'c mut Option<F>,
}

impl<'c, F> ser::Serializer for PayloadTop<'c, F>
where
    F: FnOnce(DType, &[usize], &[u8]) -> Result<()>,
{
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = PayloadSer<'c, F>;
    type SerializeStructVariant = Impossible<(), Error>;

    reject_scalars!();

    fn is_human_readable(&self) -> bool {
        false
    }
    reject_common!();
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(bad_payload())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<()> {
        Err(unexpected("option"))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, _: &T) -> Result<()> {
        Err(unexpected("newtype"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(unexpected("sequence"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<PayloadSer<'c, F>> {
        Ok(PayloadSer {
            captured: Captured::default(),
            sink: self.sink,
        })
    }
}

impl<F> SerializeStruct for PayloadSer<'_, F>
where
    F: FnOnce(DType, &[usize], &[u8]) -> Result<()>,
{
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, v: &T) -> Result<()> {
        match key {
            "dtype" => v.serialize(Part {
                expect: Expect::Str,
                out: &mut self.captured,
            }),
            "shape" => v.serialize(Part {
                expect: Expect::Shape,
                out: &mut self.captured,
            }),
            "data" => {
                let name = self
                    .captured
                    .text
                    .as_deref()
                    .ok_or_else(|| unexpected("data before dtype"))?;
                let dtype = DType::from_name(name).ok_or_else(|| unexpected("dtype name"))?;
                let f = self
                    .sink
                    .take()
                    .ok_or_else(|| unexpected("second data field"))?;
                v.serialize(DataSer {
                    dtype,
                    shape: &self.captured.shape,
                    f,
                })
            }
            _ => Err(unexpected("field")),
        }
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

/// Receives the data bytes and calls the callback with them.
struct DataSer<'s, F> {
    dtype: DType,
    shape: &'s [usize],
    f: F,
}

impl<F> ser::Serializer for DataSer<'_, F>
where
    F: FnOnce(DType, &[usize], &[u8]) -> Result<()>,
{
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = Impossible<(), Error>;
    type SerializeStruct = Impossible<(), Error>;
    type SerializeStructVariant = Impossible<(), Error>;

    reject!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str)
    );

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        (self.f)(self.dtype, self.shape, v)
    }
    reject_common!();
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(bad_payload())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<()> {
        Err(unexpected("option"))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, _: &T) -> Result<()> {
        Err(unexpected("newtype"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(unexpected("sequence"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(unexpected("struct"))
    }
}
