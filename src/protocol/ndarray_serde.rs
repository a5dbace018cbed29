//! ndarray's own Serde form: an array written without `#[serde(with = "anam::array")]`.
//!
//! When any crate of a build enables ndarray's `serde` feature, an `ndarray` array field
//! compiles without `anam::array` and serializes through ndarray's impl: a struct named
//! `Array` with the fields `v` (the format version, `1u8`), `dim` (the shape: a tuple for a
//! fixed rank, a sequence for `IxDyn`) and `data` (a sequence of the elements in logical
//! order, one by one). Written as any struct, that is a group of class `Array` that Python
//! cannot use as an array.
//!
//! The crate's formats recognise that form strictly ([`may_be_ndarray`]: the name `Array`
//! and 3 fields; then `v`, `dim`, `data` in that order, `v == 1`, `dim` integers, `data`
//! numbers of one dtype whose count is the shape's product) and store what `anam::array`
//! stores: [`MaybeNdarray`] collects the elements into one little-endian buffer and hands
//! it to the format's [`NdarrayTarget::array`]; anything else is replayed, unchanged, into
//! the format's ordinary struct ([`NdarrayTarget::plain`]). Reading, a format asked for that
//! struct ([`wants_ndarray`]) where it holds an array presents the array as the map
//! `{v: 1, dim: shape, data: elements}` that ndarray's visitor takes ([`visit_array`]).
//!
//! Elements: the numbers of the [dtype table](crate::dtype) (plus `usize`/`isize`, which
//! Serde writes as `u64`/`i64`), through newtypes and [`Value`](crate::Value) scalars, and
//! complex numbers: `num_complex::Complex` serializes as the pair `(re, im)`, taken as a
//! complex number only when the elements' Rust type is `num_complex::Complex<f32 | f64>`
//! ([`std::any::type_name`] of the `data` sequence, whose first type argument is the
//! element type), so that an array of `[f64; 2]` is not mistaken for one. The same name
//! gives the dtype of an empty array (which has no element to tell it), `float64` (numpy's
//! default) when it names no dtype. The name is only a hint: an unexpected form of it
//! (another compiler) makes complex arrays keep the struct layout and empty arrays
//! `float64`, never a wrong value.

use std::borrow::Cow;

use num_complex::Complex;
use serde::de::value::{SeqDeserializer, StrDeserializer, U8Deserializer};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;
use serde::ser::{self, Impossible, Serialize, SerializeStruct};

use super::{is_token, SCALAR_TOKEN, VALUE_TOKEN};
use crate::dtype::{with_scalar, with_typed_array, DType, Element, Scalar, TypedArray};
use crate::error::{Error, ErrorKind, Result};

/// The Serde name of ndarray's array struct.
const NAME: &str = "Array";
/// Its fields, in the order ndarray writes them.
const FIELDS: [&str; 3] = ["v", "dim", "data"];
/// ndarray's `ARRAY_FORMAT_VERSION`.
const VERSION: u8 = 1;

/// Whether a struct of this name and field count may be ndarray's (a serializer then
/// starts a [`MaybeNdarray`] instead of its own struct).
pub(crate) fn may_be_ndarray(name: &str, len: usize) -> bool {
    name == NAME && len == FIELDS.len()
}

/// Whether `deserialize_struct(name, fields)` is ndarray's `Deserialize` asking for an array.
pub(crate) fn wants_ndarray(name: &str, fields: &[&str]) -> bool {
    name == NAME && fields == FIELDS
}

/// What a format does with a struct that may be ndarray's.
pub(crate) trait NdarrayTarget: Sized {
    /// What the format's serializer returns.
    type Ok;
    /// The format's ordinary struct serializer.
    type Plain: ser::SerializeStruct<Ok = Self::Ok, Error = Error>;

    /// Starts the struct as the format writes any struct: it is not an ndarray after all.
    fn plain(self, name: &'static str, len: usize) -> Result<Self::Plain>;

    /// Stores an array of `dtype` and `shape` whose elements are `bytes` (little-endian,
    /// C order), as the format stores an `anam::array` one.
    fn array(self, dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<Self::Ok>;
}

/// The struct serializer of a format's member values: its ordinary struct, or, for a
/// struct that [may be ndarray's](may_be_ndarray), the fields checked and collected until
/// they prove an array (written at `end`) or not (replayed into the ordinary struct).
pub(crate) struct MaybeNdarray<T: NdarrayTarget> {
    name: &'static str,
    len: usize,
    state: State<T>,
}

enum State<T: NdarrayTarget> {
    Probing(T, Seen),
    Plain(T::Plain),
    /// Only while switching from one state to the other (or after an error).
    Switching,
}

/// The fields of ndarray's form seen so far.
enum Seen {
    Nothing,
    Version,
    Dim(Vec<usize>),
    Data(Column, Vec<usize>),
}

/// What a probed field turned out to be.
enum Field {
    /// Taken as the next field of an array.
    Taken,
    /// Not an array: the struct is an ordinary one.
    Plain,
}

impl<T: NdarrayTarget> MaybeNdarray<T> {
    /// Starts a struct for `target`.
    pub(crate) fn start(target: T, name: &'static str, len: usize) -> Result<Self> {
        if !may_be_ndarray(name, len) {
            return target.plain(name, len).map(Self::ordinary);
        }
        Ok(MaybeNdarray {
            name,
            len,
            state: State::Probing(target, Seen::Nothing),
        })
    }

    /// An ordinary struct, already started (for a format that must not build a target for
    /// every struct, when [`may_be_ndarray`] says no).
    pub(crate) fn ordinary(plain: T::Plain) -> Self {
        MaybeNdarray {
            name: "",
            len: 0,
            state: State::Plain(plain),
        }
    }

    /// Checks field `key` against the next field of ndarray's form.
    fn probe<V: ?Sized + Serialize>(seen: &mut Seen, key: &str, value: &V) -> Result<Field> {
        let next = match (&*seen, key) {
            (Seen::Nothing, "v") => match probe(value, Want::Number)? {
                Some(Probed::Number(Scalar::U8(VERSION))) => Seen::Version,
                _ => return Ok(Field::Plain),
            },
            (Seen::Version, "dim") => match probe(value, Want::Shape)? {
                Some(Probed::Shape(shape)) => Seen::Dim(shape),
                _ => return Ok(Field::Plain),
            },
            (Seen::Dim(shape), "data") => {
                let hint = element_type::<V>();
                let pairs = matches!(hint, Some(Hint::Complex(_)));
                match probe(value, Want::Data { pairs })? {
                    Some(Probed::Data(mut column)) if Some(column.count) == count(shape) => {
                        if let Some(Hint::Number(d) | Hint::Complex(d)) = hint {
                            column.empty_dtype = d;
                        }
                        Seen::Data(column, shape.clone())
                    }
                    _ => return Ok(Field::Plain),
                }
            }
            (Seen::Data(..), _) => {
                return Err(Error::invalid(format!(
                    "a struct named `{NAME}` with the fields `v`, `dim`, `data` is taken for an \
                     ndarray, but it has a field `{key}` after them"
                )))
            }
            _ => return Ok(Field::Plain),
        };
        *seen = next;
        Ok(Field::Taken)
    }

    /// Switches to the ordinary struct, replaying the fields taken so far (as they were
    /// serialized: `v` a `u8`, `dim` integers, which the formats store alike as a tuple
    /// or a sequence).
    fn switch_to_plain(&mut self) -> Result<&mut T::Plain> {
        match std::mem::replace(&mut self.state, State::Switching) {
            State::Probing(target, seen) => {
                let mut plain = target.plain(self.name, self.len)?;
                match seen {
                    Seen::Nothing => {}
                    Seen::Version => plain.serialize_field("v", &VERSION)?,
                    Seen::Dim(shape) => {
                        plain.serialize_field("v", &VERSION)?;
                        plain.serialize_field("dim", &shape[..])?;
                    }
                    // (Not reached: a field after `data` is an error, and `end` writes the
                    // array.)
                    Seen::Data(..) => {
                        return Err(Error::invalid("ndarray struct already complete"))
                    }
                }
                self.state = State::Plain(plain);
            }
            other => self.state = other,
        }
        match &mut self.state {
            State::Plain(plain) => Ok(plain),
            _ => Err(Error::invalid("struct serializer used after an error")),
        }
    }
}

impl<T: NdarrayTarget> ser::SerializeStruct for MaybeNdarray<T> {
    type Ok = T::Ok;
    type Error = Error;

    fn serialize_field<V: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &V,
    ) -> Result<()> {
        if let State::Probing(_, seen) = &mut self.state {
            if let Field::Taken = Self::probe(seen, key, value)? {
                return Ok(());
            }
        }
        // The value is serialized again, as the ordinary struct's field.
        self.switch_to_plain()?.serialize_field(key, value)
    }

    fn skip_field(&mut self, key: &'static str) -> Result<()> {
        match &mut self.state {
            State::Plain(plain) => plain.skip_field(key),
            // A skipped field writes nothing.
            _ => Ok(()),
        }
    }

    fn end(mut self) -> Result<T::Ok> {
        if let State::Probing(_, Seen::Data(..)) = self.state {
            let State::Probing(target, Seen::Data(column, shape)) = self.state else {
                unreachable!("matched above")
            };
            let dtype = column.dtype.unwrap_or(column.empty_dtype);
            return target.array(dtype, &shape, &column.bytes);
        }
        self.switch_to_plain()?;
        match self.state {
            State::Plain(plain) => plain.end(),
            _ => Err(Error::invalid("struct serializer used after an error")),
        }
    }
}

/// The number of elements of `shape`, if it fits a `usize`.
fn count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d))
}

// ---------------------------------------------------------------------------------------
// The element type's name
// ---------------------------------------------------------------------------------------

/// What the Rust name of the elements' type says.
#[derive(Clone, Copy)]
enum Hint {
    Number(DType),
    Complex(DType),
}

/// The elements' type of a `data` sequence of type `V` (ndarray's private
/// `Sequence<A, D>`, or any container whose first type argument is the element type), from
/// its [`type_name`](std::any::type_name).
fn element_type<V: ?Sized>() -> Option<Hint> {
    element_type_in(std::any::type_name::<V>())
}

fn element_type_in(name: &str) -> Option<Hint> {
    let element = type_arguments(name)?.find(|arg| !arg.starts_with('\''))?;
    let number = |name: &str| {
        Some(match name {
            "bool" => DType::Bool,
            "i8" => DType::I8,
            "i16" => DType::I16,
            "i32" => DType::I32,
            "i64" | "isize" => DType::I64,
            "u8" => DType::U8,
            "u16" => DType::U16,
            "u32" => DType::U32,
            "u64" | "usize" => DType::U64,
            "f32" => DType::F32,
            "f64" => DType::F64,
            _ => return None,
        })
    };
    match element
        .strip_prefix("num_complex::Complex<")
        .and_then(|c| c.strip_suffix('>'))
    {
        Some("f32") => Some(Hint::Complex(DType::C64)),
        Some("f64") => Some(Hint::Complex(DType::C128)),
        Some(_) => None,
        None => number(element).map(Hint::Number),
    }
}

/// The type arguments of the outermost type in a type's name (`'_` for a lifetime), or
/// `None` if it has none or the brackets do not match.
fn type_arguments(name: &str) -> Option<impl Iterator<Item = &str>> {
    let args = &name[name.find('<')? + 1..];
    let mut depth = 0usize;
    let mut commas = Vec::new();
    for (i, c) in args.char_indices() {
        match c {
            '<' | '[' | '(' => depth += 1,
            '>' | ']' | ')' if depth == 0 => {
                commas.push(i);
                let mut start = 0;
                return Some(commas.into_iter().map(move |end| {
                    let arg = args[start..end].trim();
                    start = end + 1;
                    arg
                }));
            }
            '>' | ']' | ')' => depth -= 1,
            ',' if depth == 0 => commas.push(i),
            _ => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------------------
// Probing a field's value
// ---------------------------------------------------------------------------------------

/// The message of the error that stops probing a value that does not have the form looked
/// for (it may pass through `Serialize` impls on its way out, as a complex number's does).
const NOT_THE_FORM: &str = "$anam::private: not ndarray's form";

fn not_the_form() -> Error {
    Error::invalid(NOT_THE_FORM)
}

fn is_not_the_form(e: &Error) -> bool {
    matches!(e.kind(), ErrorKind::Invalid(m) if m == NOT_THE_FORM)
}

/// Serializes `value` through a [`Probe`]: `None` if it does not have the form wanted.
fn probe<V: ?Sized + Serialize>(value: &V, want: Want) -> Result<Option<Probed>> {
    match value.serialize(Probe(want)) {
        Ok(probed) => Ok(Some(probed)),
        Err(e) if is_not_the_form(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The form a [`Probe`] accepts.
#[derive(Clone, Copy, PartialEq)]
enum Want {
    /// A number (a scalar of the dtype table).
    Number,
    /// A number, or with `pairs` a pair of floats of one type (a complex number).
    Element { pairs: bool },
    /// A tuple or sequence of non-negative integers.
    Shape,
    /// A sequence of elements.
    Data { pairs: bool },
}

enum Probed {
    Number(Scalar),
    Shape(Vec<usize>),
    Data(Column),
}

/// A serializer that accepts one [form](Want) and refuses the rest with [`not_the_form`].
struct Probe(Want);

impl Probe {
    fn number(self, v: Scalar) -> Result<Probed> {
        match self.0 {
            Want::Number | Want::Element { .. } => Ok(Probed::Number(v)),
            _ => Err(not_the_form()),
        }
    }

    fn parts(self, len: Option<usize>) -> Result<Parts> {
        match self.0 {
            Want::Shape => Ok(Parts::Shape(Vec::with_capacity(len.unwrap_or(0).min(32)))),
            Want::Data { pairs } => Ok(Parts::Data(Column::new(pairs, len))),
            _ => Err(not_the_form()),
        }
    }

    fn refuse<R>(self) -> Result<R> {
        Err(not_the_form())
    }
}

impl ser::Serializer for Probe {
    type Ok = Probed;
    type Error = Error;
    type SerializeSeq = Parts;
    type SerializeTuple = Parts;
    type SerializeTupleStruct = Impossible<Probed, Error>;
    type SerializeTupleVariant = Impossible<Probed, Error>;
    type SerializeMap = Impossible<Probed, Error>;
    type SerializeStruct = Impossible<Probed, Error>;
    type SerializeStructVariant = Impossible<Probed, Error>;

    super::macros::serialize_scalars!(self, v => self.number(Scalar::from(v)));

    fn is_human_readable(&self) -> bool {
        false
    }
    fn serialize_char(self, _: char) -> Result<Probed> {
        self.refuse()
    }
    fn serialize_str(self, _: &str) -> Result<Probed> {
        self.refuse()
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<Probed> {
        self.refuse()
    }
    fn serialize_none(self) -> Result<Probed> {
        self.refuse()
    }
    fn serialize_some<V: ?Sized + Serialize>(self, _: &V) -> Result<Probed> {
        self.refuse()
    }
    fn serialize_unit(self) -> Result<Probed> {
        self.refuse()
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Probed> {
        self.refuse()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<Probed> {
        self.refuse()
    }
    fn serialize_newtype_struct<V: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &V,
    ) -> Result<Probed> {
        match name {
            // A complex `Value` scalar.
            SCALAR_TOKEN if matches!(self.0, Want::Element { .. }) => {
                let mut out = None;
                super::capture(value, |dtype, _, bytes| {
                    out = Some(Scalar::from_le_bytes(dtype, bytes)?);
                    Ok(())
                })?;
                out.map(Probed::Number).ok_or_else(not_the_form)
            }
            // A `Value`'s body, and the user's newtypes, are looked through.
            VALUE_TOKEN => value.serialize(self),
            name if is_token(name) => self.refuse(),
            _ => value.serialize(self),
        }
    }
    fn serialize_newtype_variant<V: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &V,
    ) -> Result<Probed> {
        self.refuse()
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<Parts> {
        self.parts(len)
    }
    fn serialize_tuple(self, len: usize) -> Result<Parts> {
        match self.0 {
            Want::Element { pairs: true } if len == 2 => Ok(Parts::Pair(None, None)),
            Want::Shape => self.parts(Some(len)),
            _ => self.refuse(),
        }
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        self.refuse()
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        self.refuse()
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        self.refuse()
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        self.refuse()
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        self.refuse()
    }
}

/// The parts of a shape, a complex number or the data.
enum Parts {
    Shape(Vec<usize>),
    Pair(Option<Scalar>, Option<Scalar>),
    Data(Column),
}

impl Parts {
    fn element<V: ?Sized + Serialize>(&mut self, value: &V) -> Result<()> {
        match self {
            Parts::Shape(dims) => {
                let Probed::Number(n) = value.serialize(Probe(Want::Number))? else {
                    return Err(not_the_form());
                };
                let dim = n.as_i128().and_then(|d| usize::try_from(d).ok());
                dims.push(dim.ok_or_else(not_the_form)?);
                Ok(())
            }
            Parts::Pair(re, im) => {
                let Probed::Number(n) = value.serialize(Probe(Want::Number))? else {
                    return Err(not_the_form());
                };
                match (re.is_none(), im.is_none()) {
                    (true, _) => *re = Some(n),
                    (false, true) => *im = Some(n),
                    _ => return Err(not_the_form()),
                }
                Ok(())
            }
            Parts::Data(column) => column.push(value),
        }
    }

    fn end(self) -> Result<Probed> {
        match self {
            Parts::Shape(dims) => Ok(Probed::Shape(dims)),
            Parts::Pair(Some(Scalar::F32(re)), Some(Scalar::F32(im))) => {
                Ok(Probed::Number(Scalar::C64(Complex::new(re, im))))
            }
            Parts::Pair(Some(Scalar::F64(re)), Some(Scalar::F64(im))) => {
                Ok(Probed::Number(Scalar::C128(Complex::new(re, im))))
            }
            Parts::Pair(..) => Err(not_the_form()),
            Parts::Data(column) => Ok(Probed::Data(column)),
        }
    }
}

super::macros::forward_compound!(Parts, Probed, element: element, end: end);

/// The elements of the data, collected into one buffer of the first element's dtype.
struct Column {
    /// Whether a pair of floats is an element (a complex number).
    pairs: bool,
    /// The dtype, once the first element is seen.
    dtype: Option<DType>,
    /// The dtype of an empty array: the element type's, or `float64`.
    empty_dtype: DType,
    bytes: Vec<u8>,
    count: usize,
    /// The number of elements Serde announced, to size the buffer.
    len: Option<usize>,
}

impl Column {
    fn new(pairs: bool, len: Option<usize>) -> Column {
        Column {
            pairs,
            dtype: None,
            empty_dtype: DType::F64,
            bytes: Vec::new(),
            count: 0,
            len,
        }
    }

    fn push<V: ?Sized + Serialize>(&mut self, value: &V) -> Result<()> {
        let probed = value.serialize(Probe(Want::Element { pairs: self.pairs }));
        let Some(dtype) = self.dtype else {
            // The first element decides: not a number, and the struct is not an array.
            let Probed::Number(n) = probed? else {
                return Err(not_the_form());
            };
            self.dtype = Some(n.dtype());
            if let Some(len) = self.len {
                // Exact for ndarray; a failed reservation just grows the buffer as it goes.
                let _ = self
                    .bytes
                    .try_reserve_exact(len.saturating_mul(n.dtype().size()));
            }
            n.extend_bytes(&mut self.bytes);
            self.count = 1;
            return Ok(());
        };
        let found = match probed {
            Ok(Probed::Number(n)) if n.dtype() == dtype => {
                n.extend_bytes(&mut self.bytes);
                self.count += 1;
                return Ok(());
            }
            Ok(Probed::Number(n)) => format!("of dtype {}", n.dtype()),
            Ok(_) => "not a number".to_string(),
            Err(e) if is_not_the_form(&e) => "not a number".to_string(),
            Err(e) => return Err(e),
        };
        Err(Error::invalid(format!(
            "element {} of an ndarray is {found}, but element 0 is of dtype {dtype}: an array \
             is stored as one dataset, whose elements are numbers of one dtype",
            self.count
        )))
    }
}

impl<T: NdarrayTarget> MaybeNdarray<T> {
    #[cfg(test)]
    fn is_probing(&self) -> bool {
        matches!(self.state, State::Probing(..))
    }
}

// ---------------------------------------------------------------------------------------
// Reading: an array presented as ndarray's struct
// ---------------------------------------------------------------------------------------

/// Presents `array` to ndarray's visitor as the map `{v: 1, dim: shape, data: elements}`
/// (elements in C order; complex ones as `[re, im]`, the form `num_complex` reads).
pub(crate) fn visit_array<'de, V: Visitor<'de>>(
    array: &TypedArray,
    visitor: V,
) -> Result<V::Value> {
    let standard = with_typed_array!(array, a => a.is_standard_layout());
    let array: Cow<'_, TypedArray> = if standard {
        Cow::Borrowed(array)
    } else {
        Cow::Owned(
            with_typed_array!(array, a => Element::wrap(a.as_standard_layout().into_owned())),
        )
    };
    visitor.visit_map(ArrayFields {
        array: &array,
        next: 0,
    })
}

struct ArrayFields<'a> {
    array: &'a TypedArray,
    next: usize,
}

impl<'de> MapAccess<'de> for ArrayFields<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match FIELDS.get(self.next) {
            Some(key) => seed
                .deserialize(StrDeserializer::<Error>::new(key))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value> {
        let field = self.next;
        self.next += 1;
        match field {
            0 => seed.deserialize(U8Deserializer::<Error>::new(VERSION)),
            1 => seed.deserialize(SeqDeserializer::<_, Error>::new(
                self.array.shape().iter().copied(),
            )),
            _ => seed.deserialize(Elements {
                array: self.array,
                next: 0,
            }),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(FIELDS.len() - self.next)
    }
}

/// The elements of a standard-layout array, as a sequence.
struct Elements<'a> {
    array: &'a TypedArray,
    next: usize,
}

impl Elements<'_> {
    fn len(&self) -> usize {
        with_typed_array!(self.array, a => a.len())
    }
}

impl<'de> de::Deserializer<'de> for Elements<'_> {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value> {
        let value = visitor.visit_seq(&mut self)?;
        let len = self.len();
        if self.next < len {
            let read = format!("{} elements in sequence", self.next);
            return Err(de::Error::invalid_length(len, &read.as_str()));
        }
        Ok(value)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> SeqAccess<'de> for Elements<'_> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<Option<S::Value>> {
        let i = self.next;
        let element = with_typed_array!(self.array, a => a
            .as_slice()
            .and_then(|s| s.get(i))
            .copied()
            .map(Scalar::from));
        let Some(element) = element else {
            return Ok(None);
        };
        self.next += 1;
        seed.deserialize(ScalarDe(element))
            .map(Some)
            .map_err(|e| e.in_element(i))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.len() - self.next)
    }
}

/// One element.
struct ScalarDe(Scalar);

impl<'de> de::Deserializer<'de> for ScalarDe {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.0.visit(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        match (name, self.0) {
            // A `Value` element keeps its dtype, complex ones too.
            (VALUE_TOKEN, s @ (Scalar::C64(_) | Scalar::C128(_))) => super::hand_over_scalar(
                with_scalar!(s, v => Element::wrap(ndarray::arr0(v).into_dyn())),
                visitor,
            ),
            (VALUE_TOKEN, s) => s.visit(visitor),
            _ => visitor.visit_newtype_struct(self),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_types_are_read_from_type_names() {
        let dtype = |name: &str| match element_type_in(name) {
            Some(Hint::Number(d)) => Some(("number", d)),
            Some(Hint::Complex(d)) => Some(("complex", d)),
            None => None,
        };
        let seq = "ndarray::array_serde::Sequence<'_,";
        let dim = "ndarray::dimension::dim::Dim<[usize; 2]>";
        assert_eq!(
            dtype(&format!("{seq} f64, {dim}>")),
            Some(("number", DType::F64))
        );
        assert_eq!(
            dtype(&format!("{seq} num_complex::Complex<f32>, {dim}>")),
            Some(("complex", DType::C64))
        );
        assert_eq!(
            dtype("alloc::vec::Vec<usize>"),
            Some(("number", DType::U64))
        );
        assert_eq!(dtype(&format!("{seq} [f64; 2], {dim}>")), None);
        assert_eq!(dtype(&format!("{seq} (f64, f64), {dim}>")), None);
        assert_eq!(dtype(&format!("{seq} my::Complex<f64>, {dim}>")), None);
        assert_eq!(dtype("f64"), None);
        assert_eq!(dtype("Broken<f64"), None);
    }

    #[test]
    fn the_names_are_the_ones_ndarray_uses() {
        assert!(may_be_ndarray("Array", 3));
        assert!(!may_be_ndarray("Array", 2));
        assert!(wants_ndarray("Array", &["v", "dim", "data"]));
        assert!(!wants_ndarray("Array", &["v", "data", "dim"]));
    }

    struct Target;
    impl NdarrayTarget for Target {
        type Ok = ();
        type Plain = Impossible<(), Error>;
        fn plain(self, _: &'static str, _: usize) -> Result<Self::Plain> {
            Err(Error::invalid("plain"))
        }
        fn array(self, _: DType, _: &[usize], _: &[u8]) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn only_the_exact_form_is_probed() {
        assert!(MaybeNdarray::start(Target, "Array", 3)
            .unwrap()
            .is_probing());
        assert!(MaybeNdarray::start(Target, "Array", 4).is_err());
    }
}
