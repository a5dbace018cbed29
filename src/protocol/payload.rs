//! The array payload: the form an array takes inside [`ARRAY_TOKEN`](super::ARRAY_TOKEN)
//! (a struct `{dtype, shape, data}`, `data` the little-endian bytes in binary formats and a
//! sequence in human-readable ones), and [`capture`], which takes it apart again in the
//! crate's own formats, so that an array's buffer reaches the backend borrowed, without a
//! copy.

use serde::ser::{self, Impossible, Serialize, SerializeSeq, SerializeStruct};

use super::narrow::{Narrow, Narrowed};
use crate::dtype::{as_bytes, DType, Element, Scalar};
use crate::error::{Error, Result};

/// The serialized form of an array of `shape` whose elements are `data`.
pub(crate) fn payload<'a, T: Element>(shape: &'a [usize], data: &'a [T]) -> impl Serialize + 'a {
    Payload { shape, data }
}

struct Payload<'a, T> {
    shape: &'a [usize],
    data: &'a [T],
}

struct PayloadData<'a, T>(&'a [T]);

impl<T: Element> Serialize for PayloadData<'_, T> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_seq(self.0)
        } else {
            s.serialize_bytes(as_bytes(self.0))
        }
    }
}

impl<T: Element> Serialize for Payload<'_, T> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Array", 3)?;
        st.serialize_field("dtype", T::DTYPE.name())?;
        st.serialize_field("shape", self.shape)?;
        st.serialize_field("data", &PayloadData(self.data))?;
        st.end()
    }
}

fn unexpected(what: &str) -> Error {
    Error::invalid(format!("unexpected {what} in an array payload"))
}

/// Runs `f(dtype, shape, bytes)` on an array payload (the value passed with the array
/// token), with the bytes borrowed from the array itself.
pub(crate) fn capture<T, F>(value: &T, f: F) -> Result<()>
where
    T: ?Sized + Serialize,
    F: FnOnce(DType, &[usize], &[u8]) -> Result<()>,
{
    let mut sink = Some(f);
    value.serialize(Narrowed(PayloadTop { sink: &mut sink }))?;
    if sink.is_some() {
        return Err(Error::invalid("array payload has no data"));
    }
    Ok(())
}

/// Extracts a string value (e.g. a `class` field).
pub(crate) fn capture_str<T: ?Sized + Serialize>(value: &T) -> Result<String> {
    let mut out = Captured::default();
    value
        .serialize(Narrowed(Part {
            expect: Expect::Str,
            out: &mut out,
        }))
        .map_err(|_| Error::invalid("a `class` field must be a string"))?;
    out.text
        .ok_or_else(|| Error::invalid("a `class` field must be a string"))
}

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

impl<'o> Narrow for Part<'o> {
    type Seq = ShapeSeq<'o>;
    type Map = Impossible<(), Error>;
    type Struct = Impossible<(), Error>;

    fn rejected(&self) -> Error {
        unexpected(match self.expect {
            Expect::Str => "value (a string was expected)",
            Expect::Shape => "value (a shape was expected)",
            Expect::Dim => "value (a dimension was expected)",
        })
    }
    fn scalar(self, v: Scalar) -> Result<()> {
        if self.expect != Expect::Dim {
            return Err(unexpected("number"));
        }
        let dim = v
            .as_i128()
            .ok_or_else(|| unexpected("dimension that is not an integer"))?;
        self.out.dim =
            Some(u64::try_from(dim).map_err(|_| unexpected("negative or huge dimension"))?);
        Ok(())
    }
    fn text(self, v: &str) -> Result<()> {
        if self.expect != Expect::Str {
            return Err(unexpected("string"));
        }
        self.out.text = Some(v.to_owned());
        Ok(())
    }
    fn seq(self) -> Result<ShapeSeq<'o>> {
        if self.expect != Expect::Shape {
            return Err(unexpected("sequence"));
        }
        Ok(ShapeSeq { out: self.out })
    }
}

struct ShapeSeq<'o> {
    out: &'o mut Captured,
}

impl SerializeSeq for ShapeSeq<'_> {
    type Ok = ();
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, v: &T) -> Result<()> {
        v.serialize(Narrowed(Part {
            expect: Expect::Dim,
            out: self.out,
        }))?;
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
struct PayloadTop<'c, F> {
    sink: &'c mut Option<F>,
}

impl<'c, F> Narrow for PayloadTop<'c, F>
where
    F: FnOnce(DType, &[usize], &[u8]) -> Result<()>,
{
    type Seq = Impossible<(), Error>;
    type Map = Impossible<(), Error>;
    type Struct = PayloadFields<'c, F>;

    fn rejected(&self) -> Error {
        Error::invalid("unexpected value in an array payload")
    }
    fn looks_through_wrappers(&self) -> bool {
        false
    }
    fn structure(self) -> Result<PayloadFields<'c, F>> {
        Ok(PayloadFields {
            captured: Captured::default(),
            sink: self.sink,
        })
    }
}

/// The payload's fields.
struct PayloadFields<'c, F> {
    captured: Captured,
    sink: &'c mut Option<F>,
}

impl<F> SerializeStruct for PayloadFields<'_, F>
where
    F: FnOnce(DType, &[usize], &[u8]) -> Result<()>,
{
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, v: &T) -> Result<()> {
        match key {
            "dtype" => v.serialize(Narrowed(Part {
                expect: Expect::Str,
                out: &mut self.captured,
            })),
            "shape" => v.serialize(Narrowed(Part {
                expect: Expect::Shape,
                out: &mut self.captured,
            })),
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
                v.serialize(Narrowed(DataBytes {
                    dtype,
                    shape: &self.captured.shape,
                    f,
                }))
            }
            _ => Err(unexpected("field")),
        }
    }

    fn end(self) -> Result<()> {
        Ok(())
    }
}

/// Receives the data bytes and calls the callback with them.
struct DataBytes<'s, F> {
    dtype: DType,
    shape: &'s [usize],
    f: F,
}

impl<F> Narrow for DataBytes<'_, F>
where
    F: FnOnce(DType, &[usize], &[u8]) -> Result<()>,
{
    type Seq = Impossible<(), Error>;
    type Map = Impossible<(), Error>;
    type Struct = Impossible<(), Error>;

    fn looks_through_wrappers(&self) -> bool {
        false
    }
    fn rejected(&self) -> Error {
        unexpected("value (the data bytes were expected)")
    }
    fn bytes(self, v: &[u8]) -> Result<()> {
        (self.f)(self.dtype, self.shape, v)
    }
}
