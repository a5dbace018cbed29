//! One set of samples of the Serde data model as the crate supports it, run through every
//! format by `tests/data_model.rs` (HDF5, the wire format, `anam::Value` in both, and
//! `anam::from_value`), so that the formats cannot drift apart. `tests/wire.rs` takes its Value samples (fuzz corpus,
//! untrusted-input selection) from here too.
//!
//! Each [`Sample`] has a name, a value, the wire envelope it must travel under, and what
//! each format does with it where that is not "gives it back equal": a sample that HDF5
//! holds only inside a struct says why ([`Builder::field_only`]), one that HDF5 reads back
//! changed says what it reads and why ([`Builder::hdf5_reads`]), and so on. Nothing is
//! skipped silently: a refusal is asserted to be an error.
//!
//! Values are compared exactly ([`fingerprint`]): the same structure, the same variants,
//! and floats bit for bit (`-0.0` is not `0.0`, a NaN keeps its payload).
//!
//! Included with `#[path = "common/data_model.rs"] mod data_model;` next to
//! `#[path = "common/samples.rs"] mod samples;` at the crate root (its classes are
//! registered once per test binary).
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::fmt::{self, Debug, Display};
use std::path::Path;

use anam::{hdf5, AnamCollection, Element, ExtraData, NdArray, Object, Store, TypedArray, Value};
use ndarray::{array, Array0, Array1, Array2, Array3, Array4, ArrayD, Dimension, IxDyn};
use num_complex::{Complex, Complex32, Complex64};
use serde::de::DeserializeOwned;
use serde::ser::{self, Serializer};
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

use crate::samples::{
    all_types, lab, sample_array, stats, Address, Meters, Probe, Rgb, Sample as Elem, Shape, Stats,
    StatsCollection, UnitStruct, SHAPES,
};

// ---------------------------------------------------------------------------------------
// Exact comparison: the stream of Serde calls a value makes, floats as their bits
// ---------------------------------------------------------------------------------------

/// One call of a value's `Serialize` impl. Floats are their bits; arrays (`anam::array`)
/// show their dtype, shape and little-endian buffer (a binary format's view).
#[derive(Clone, Debug, PartialEq)]
pub enum Tok {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    I128(i128),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    U128(u128),
    F32(u32),
    F64(u64),
    Char(char),
    Str(String),
    Bytes(Vec<u8>),
    None,
    Some,
    Unit,
    UnitStruct(&'static str),
    UnitVariant(&'static str, &'static str),
    Newtype(&'static str),
    NewtypeVariant(&'static str, &'static str),
    Seq,
    Tuple(usize),
    TupleStruct(&'static str),
    TupleVariant(&'static str, &'static str),
    Map,
    Struct(&'static str),
    StructVariant(&'static str, &'static str),
    Field(&'static str),
    Skipped(&'static str),
    End,
}

#[derive(Debug)]
pub struct FpError(String);

impl Display for FpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FpError {}

impl ser::Error for FpError {
    fn custom<M: Display>(msg: M) -> Self {
        FpError(msg.to_string())
    }
}

/// The fingerprint of `value`: equal fingerprints are equal values, floats bit for bit.
pub fn fingerprint<T: Serialize + ?Sized>(value: &T) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    value
        .serialize(Fp(&mut out))
        .map_err(|e| format!("fingerprint: {e}"))?;
    Ok(out)
}

/// Whether `a` and `b` are exactly equal (see [`fingerprint`]).
pub fn exact<T: Serialize + ?Sized>(a: &T, b: &T) -> bool {
    match (fingerprint(a), fingerprint(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// `v` with the members of every object in name order: an [`Object`]'s equality ignores the
/// order of its members (HDF5 lists attributes before links), and so does [`same_value`].
pub fn canonical(v: &Value) -> Value {
    match v {
        Value::List(items) => Value::List(items.iter().map(canonical).collect()),
        Value::Dict(entries) => Value::Dict(
            entries
                .iter()
                .map(|(k, v)| (canonical(k), canonical(v)))
                .collect(),
        ),
        Value::Object(o) => {
            let mut o = o.clone();
            o.fields = o
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), canonical(v)))
                .collect();
            o.fields.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(o)
        }
        other => other.clone(),
    }
}

/// Exact equality of two Values, objects' members in any order.
pub fn same_value(a: &Value, b: &Value) -> bool {
    exact(&canonical(a), &canonical(b))
}

/// Where `got` first differs from `want`, for a failure message: the Serde calls around
/// the first one that differs.
pub fn first_difference<T: Serialize + ?Sized>(got: &T, want: &T) -> String {
    let (g, w) = match (fingerprint(got), fingerprint(want)) {
        (Ok(g), Ok(w)) => (g, w),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    let i = g.iter().zip(&w).take_while(|(a, b)| a == b).count();
    let around = |t: &[Tok]| {
        let from = i.saturating_sub(6);
        let to = (i + 4).min(t.len());
        shorten(format!("{:?}", &t[from..to]))
    };
    format!(
        "first difference at Serde call {i}:\n        got  ...{}\n        want ...{}",
        around(&g),
        around(&w)
    )
}

/// Where the Value `got` first differs from `want` (objects' members in any order), as a
/// path into the value.
pub fn value_difference(got: &Value, want: &Value) -> String {
    fn walk(path: &str, a: &Value, b: &Value) -> Option<String> {
        let short = |v: &Value| shorten(format!("{v:?}"));
        match (a, b) {
            (Value::List(x), Value::List(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, (a, b))| walk(&format!("{path}[{i}]"), a, b)),
            (Value::Dict(x), Value::Dict(y)) if x.len() == y.len() => x
                .iter()
                .zip(y)
                .enumerate()
                .find_map(|(i, ((ka, va), (kb, vb)))| {
                    walk(&format!("{path}{{key {i}}}"), ka, kb)
                        .or_else(|| walk(&format!("{path}{{{}}}", short(ka)), va, vb))
                }),
            (Value::Object(x), Value::Object(y))
                if x.class == y.class
                    && x.name_maps == y.name_maps
                    && x.legacy_lists == y.legacy_lists =>
            {
                let names =
                    |o: &Object| o.fields.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
                if names(x) != names(y) {
                    return Some(format!(
                        "{path}: members {:?}, expected {:?}",
                        names(x),
                        names(y)
                    ));
                }
                x.fields
                    .iter()
                    .zip(&y.fields)
                    .find_map(|((n, a), (_, b))| walk(&format!("{path}.{n}"), a, b))
            }
            _ if exact(a, b) => None,
            _ => Some(format!("{path}: {}, expected {}", short(a), short(b))),
        }
    }
    walk("", &canonical(got), &canonical(want))
        .map(|d| {
            if d.starts_with(':') {
                format!("(top){d}")
            } else {
                d
            }
        })
        .unwrap_or_else(|| "no difference found".into())
}

/// `v` as HDF5 stores it: `None` is an absent entry, so an object has no `None` members
/// (a `None` list item or dict value is kept: its `LIST_item{i}` is missing).
pub fn absent_nones(v: &Value) -> Value {
    match v {
        Value::List(items) => Value::List(items.iter().map(absent_nones).collect()),
        Value::Dict(entries) => Value::Dict(
            entries
                .iter()
                .map(|(k, v)| (absent_nones(k), absent_nones(v)))
                .collect(),
        ),
        Value::Object(o) => {
            let mut o = o.clone();
            o.fields = o
                .fields
                .iter()
                .filter(|(_, v)| !matches!(v, Value::None))
                .map(|(k, v)| (k.clone(), absent_nones(v)))
                .collect();
            Value::Object(o)
        }
        other => other.clone(),
    }
}

struct Fp<'a>(&'a mut Vec<Tok>);

type FpResult = Result<(), FpError>;

macro_rules! fp_scalars {
    ($($method:ident($t:ty) => $tok:ident $(. $conv:ident())?),*) => {
        $(fn $method(self, v: $t) -> FpResult {
            self.0.push(Tok::$tok(v $(. $conv())?));
            Ok(())
        })*
    };
}

impl<'a> Serializer for Fp<'a> {
    type Ok = ();
    type Error = FpError;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fp_scalars!(
        serialize_bool(bool) => Bool,
        serialize_i8(i8) => I8,
        serialize_i16(i16) => I16,
        serialize_i32(i32) => I32,
        serialize_i64(i64) => I64,
        serialize_i128(i128) => I128,
        serialize_u8(u8) => U8,
        serialize_u16(u16) => U16,
        serialize_u32(u32) => U32,
        serialize_u64(u64) => U64,
        serialize_u128(u128) => U128,
        serialize_f32(f32) => F32.to_bits(),
        serialize_f64(f64) => F64.to_bits(),
        serialize_char(char) => Char,
        serialize_str(&str) => Str.to_string(),
        serialize_bytes(&[u8]) => Bytes.to_vec()
    );

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_none(self) -> FpResult {
        self.0.push(Tok::None);
        Ok(())
    }

    fn serialize_some<T: ?Sized + Serialize>(self, v: &T) -> FpResult {
        self.0.push(Tok::Some);
        v.serialize(self)
    }

    fn serialize_unit(self) -> FpResult {
        self.0.push(Tok::Unit);
        Ok(())
    }

    fn serialize_unit_struct(self, name: &'static str) -> FpResult {
        self.0.push(Tok::UnitStruct(name));
        Ok(())
    }

    fn serialize_unit_variant(self, name: &'static str, _: u32, v: &'static str) -> FpResult {
        self.0.push(Tok::UnitVariant(name, v));
        Ok(())
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        v: &T,
    ) -> FpResult {
        self.0.push(Tok::Newtype(name));
        v.serialize(self)
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> FpResult {
        self.0.push(Tok::NewtypeVariant(name, variant));
        v.serialize(self)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self, FpError> {
        self.0.push(Tok::Seq);
        Ok(self)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self, FpError> {
        self.0.push(Tok::Tuple(len));
        Ok(self)
    }

    fn serialize_tuple_struct(self, name: &'static str, _: usize) -> Result<Self, FpError> {
        self.0.push(Tok::TupleStruct(name));
        Ok(self)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, FpError> {
        self.0.push(Tok::TupleVariant(name, variant));
        Ok(self)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self, FpError> {
        self.0.push(Tok::Map);
        Ok(self)
    }

    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Self, FpError> {
        self.0.push(Tok::Struct(name));
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, FpError> {
        self.0.push(Tok::StructVariant(name, variant));
        Ok(self)
    }
}

macro_rules! fp_compound {
    ($($trait:ident :: $method:ident),*) => {
        $(impl ser::$trait for Fp<'_> {
            type Ok = ();
            type Error = FpError;
            fn $method<T: ?Sized + Serialize>(&mut self, v: &T) -> FpResult {
                v.serialize(Fp(&mut *self.0))
            }
            fn end(self) -> FpResult {
                self.0.push(Tok::End);
                Ok(())
            }
        })*
    };
}
fp_compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Fp<'_> {
    type Ok = ();
    type Error = FpError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, k: &T) -> FpResult {
        k.serialize(Fp(&mut *self.0))
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, v: &T) -> FpResult {
        v.serialize(Fp(&mut *self.0))
    }
    fn end(self) -> FpResult {
        self.0.push(Tok::End);
        Ok(())
    }
}

macro_rules! fp_fields {
    ($($trait:ident),*) => {
        $(impl ser::$trait for Fp<'_> {
            type Ok = ();
            type Error = FpError;
            fn serialize_field<T: ?Sized + Serialize>(
                &mut self,
                key: &'static str,
                v: &T,
            ) -> FpResult {
                self.0.push(Tok::Field(key));
                v.serialize(Fp(&mut *self.0))
            }
            fn skip_field(&mut self, key: &'static str) -> FpResult {
                self.0.push(Tok::Skipped(key));
                Ok(())
            }
            fn end(self) -> FpResult {
                self.0.push(Tok::End);
                Ok(())
            }
        })*
    };
}
fp_fields!(SerializeStruct, SerializeStructVariant);

// ---------------------------------------------------------------------------------------
// Samples
// ---------------------------------------------------------------------------------------

/// What a sample's type must be.
pub trait Model: Serialize + DeserializeOwned + Debug + 'static {}
impl<T: Serialize + DeserializeOwned + Debug + 'static> Model for T {}

/// The group every sample is written as.
pub const GROUP: &str = "obj";

/// Where a sample is put in an HDF5 file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// The object itself: `to_file(path, GROUP, &v)`.
    Top,
    /// The object, through `to_group` on the group `a/b` of a file the `hdf5` crate made
    /// (HDF5's default file format, not the one `to_file` picks).
    Nested,
    /// The field `v` of a struct ([`Field`]), where every value can go.
    Field,
}

/// The struct that holds a sample as a field.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "data_model.Field")]
pub struct Field<T> {
    pub v: T,
}

/// Writes `value` into a new file at `path`, placed as `at` says.
pub fn write_at<S: Serialize + ?Sized>(path: &Path, at: At, value: &S) -> Result<(), String> {
    let r = match at {
        At::Top => anam::to_file(path, GROUP, value),
        At::Field => anam::to_file(path, GROUP, &Field { v: value }),
        At::Nested => {
            let file = hdf5::File::create(path).map_err(|e| format!("creating the file: {e}"))?;
            let group = file
                .create_group("a")
                .and_then(|a| a.create_group("b"))
                .map_err(|e| format!("creating a/b: {e}"))?;
            anam::to_group(value, &group)
        }
    };
    r.map_err(|e| e.to_string())
}

/// Reads what [`write_at`] wrote, as a `D`.
pub fn read_at<D: DeserializeOwned>(path: &Path, at: At) -> Result<D, String> {
    let r = match at {
        At::Top => anam::from_file(path, Some(GROUP)),
        At::Field => anam::from_file::<Field<D>>(path, Some(GROUP)).map(|f| f.v),
        At::Nested => {
            let file = hdf5::File::open(path).map_err(|e| format!("opening the file: {e}"))?;
            let group = file.group("a/b").map_err(|e| format!("opening a/b: {e}"))?;
            anam::from_group(&group)
        }
    };
    r.map_err(|e| e.to_string())
}

/// Shortens a `Debug` rendering for a failure message.
pub fn shorten(s: String) -> String {
    const MAX: usize = 1500;
    if s.len() <= MAX {
        return s;
    }
    let cut = (0..=MAX)
        .rev()
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}... ({} bytes)", &s[..cut], s.len())
}

/// A check of the suite, to attach a known bug to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// HDF5: the typed value written and read back (field, top level, `to_group`).
    Hdf5,
    /// Wire: envelope, size against bincode, and typed round trip.
    Wire,
    /// `to_value(&v)` written to HDF5, read back as the typed value.
    ValueToTyped,
    /// `to_value(&v)` written to HDF5, read back as a Value.
    ValueRoundTrip,
    /// The Value read from the typed file against the one read from the Value's file.
    ValueSameFile,
    /// `to_value(&v)` through the wire format.
    ValueWire,
    /// `from_value(to_value(&v))` (and `from_value_ref`), and `from_value` of the Value read
    /// from the typed file against the typed read of that file.
    FromValue,
}

/// What HDF5 does with a sample (written at every place it can go).
#[derive(Clone, Debug)]
pub enum Hdf5 {
    /// Reads back equal.
    Same,
    /// Reads back as the value given to [`Builder::hdf5_reads`], for the reason given.
    ReadsAs(&'static str),
    /// Refuses to write it, for the reason given.
    Refused(&'static str),
}

/// How the Value read from the file of the typed value relates to the Value read from the
/// file `to_value(&v)` wrote.
#[derive(Clone, Debug)]
pub enum SameFile {
    /// They are equal: `to_value(&v)` writes the file `v` writes (as `tests/value.rs`
    /// `to_value_gives_an_object_with_the_tag_and_fields` checks for one struct).
    Equal,
    /// The typed value wrote numeric sequences as datasets, which read as arrays, where the
    /// Value holds lists (`to_value` makes every sequence a `List`, and a `List` is always
    /// written as a Python list, as `anam::as_list` does): equal once every non-empty list
    /// of one numeric type, in either, is a 1-D array of that type. The sample gives the
    /// reason.
    Datasets(&'static str),
}

/// Type-erased operations on a sample's value.
pub trait Erased {
    fn debug(&self) -> String;
    fn to_value(&self) -> anam::Result<Value>;
    fn to_bytes(&self) -> anam::Result<Vec<u8>>;
    /// The length of bincode's encoding (standard configuration).
    fn bincode_len(&self) -> Result<usize, String>;
    /// Decodes `bytes` as the sample's type and compares it with the value.
    fn check_bytes(&self, bytes: &[u8]) -> Result<(), String>;
    /// Writes the value at `at` of a new file.
    fn write(&self, path: &Path, at: At) -> Result<(), String>;
    /// Reads the sample's type at `at` and compares it with what HDF5 must give back.
    fn check_read(&self, path: &Path, at: At) -> Result<(), String>;
    /// `from_value(to_value(&v))` and `from_value_ref(&to_value(&v))`, compared with the
    /// value (or what the sample declares with [`Builder::value_reads`]).
    fn check_from_value(&self) -> Result<(), String>;
    /// The file at `path` (written at `at`, `Field` or `Top`) read as a Value, then the
    /// sample's type from that Value with `from_value`, compared with what HDF5 must give
    /// back: `from_value` reads a Value as the HDF5 reader reads the file.
    fn check_value_file(&self, path: &Path, at: At) -> Result<(), String>;
}

struct Typed<T> {
    value: T,
    /// What HDF5 gives back, where it is not `value`.
    h5_back: Option<T>,
    /// What `from_value(to_value(&value))` gives back, where it is not `value`.
    value_back: Option<T>,
    same: fn(&T, &T) -> bool,
    /// Describes how two values that are not the same differ.
    diff: fn(&T, &T) -> String,
}

impl<T: Model> Erased for Typed<T> {
    fn debug(&self) -> String {
        shorten(format!("{:?}", self.value))
    }

    fn to_value(&self) -> anam::Result<Value> {
        anam::to_value(&self.value)
    }

    fn to_bytes(&self) -> anam::Result<Vec<u8>> {
        anam::wire::to_bytes(&self.value)
    }

    fn bincode_len(&self) -> Result<usize, String> {
        bincode::serde::encode_to_vec(&self.value, bincode::config::standard())
            .map(|b| b.len())
            .map_err(|e| e.to_string())
    }

    fn check_bytes(&self, bytes: &[u8]) -> Result<(), String> {
        let back: T = anam::wire::from_bytes(bytes).map_err(|e| format!("decoding: {e}"))?;
        if (self.same)(&back, &self.value) {
            Ok(())
        } else {
            Err(format!(
                "decoded value differs: {}",
                (self.diff)(&back, &self.value)
            ))
        }
    }

    fn write(&self, path: &Path, at: At) -> Result<(), String> {
        write_at(path, at, &self.value)
    }

    fn check_read(&self, path: &Path, at: At) -> Result<(), String> {
        let back: T = read_at(path, at).map_err(|e| format!("reading: {e}"))?;
        let want = self.h5_back.as_ref().unwrap_or(&self.value);
        if (self.same)(&back, want) {
            Ok(())
        } else {
            Err(format!(
                "read back a different value: {}",
                (self.diff)(&back, want)
            ))
        }
    }

    fn check_from_value(&self) -> Result<(), String> {
        let v = anam::to_value(&self.value).map_err(|e| format!("to_value: {e}"))?;
        let want = self.value_back.as_ref().unwrap_or(&self.value);
        let by_ref: T = anam::from_value_ref(&v).map_err(|e| format!("from_value_ref: {e}"))?;
        let back: T = anam::from_value(v).map_err(|e| format!("from_value: {e}"))?;
        for (how, got) in [("from_value", &back), ("from_value_ref", &by_ref)] {
            if !(self.same)(got, want) {
                return Err(format!(
                    "{how} gave a different value: {}",
                    (self.diff)(got, want)
                ));
            }
        }
        Ok(())
    }

    fn check_value_file(&self, path: &Path, at: At) -> Result<(), String> {
        // The whole object: the Field struct itself for `Field`.
        let v: Value = read_at(path, At::Top).map_err(|e| format!("reading a Value: {e}"))?;
        let back: T = match at {
            At::Field => anam::from_value::<Field<T>>(v).map(|f| f.v),
            _ => anam::from_value(v),
        }
        .map_err(|e| format!("from_value: {e}"))?;
        let want = self.h5_back.as_ref().unwrap_or(&self.value);
        if (self.same)(&back, want) {
            Ok(())
        } else {
            Err(format!(
                "from_value gave a different value than the file holds: {}",
                (self.diff)(&back, want)
            ))
        }
    }
}

/// One sample of the data model.
pub struct Sample {
    pub name: String,
    /// The envelope tag of its wire encoding.
    pub wire_tag: &'static str,
    /// `Err(why)`: the wire format encodes it but cannot decode it.
    pub wire: Result<(), &'static str>,
    /// Whether its wire body must be no larger than bincode's encoding (`anam::wire`'s
    /// promise for typed values; a `Value` is self-describing: a type byte per value).
    pub bincode_sized: bool,
    /// `Err(why)`: HDF5 refuses it as a top-level object (it is tested as a struct field).
    pub top: Result<(), &'static str>,
    /// `Err(why)`: not checked through `to_group` (`At::Nested`), for the reason given.
    pub nested: Result<(), &'static str>,
    pub hdf5: Hdf5,
    /// `Err(why)`: `to_value` refuses it.
    pub to_value: Result<(), &'static str>,
    pub same_file: SameFile,
    /// Checks known to fail, at the places listed (all if none), each with its note: they
    /// still run, and must still fail.
    pub known_bugs: Vec<(Check, &'static [At], &'static str)>,
    pub data: Box<dyn Erased>,
}

impl Sample {
    /// The known bug of `check` at `at` (`None`: a check not made at a place).
    pub fn known_bug(&self, check: Check, at: Option<At>) -> Option<&'static str> {
        self.known_bugs
            .iter()
            .find(|(c, places, _)| {
                *c == check && (places.is_empty() || at.is_some_and(|at| places.contains(&at)))
            })
            .map(|(_, _, note)| *note)
    }
}

/// Builds a [`Sample`] of type `T`.
pub struct Builder<T> {
    name: String,
    wire_tag: &'static str,
    wire: Result<(), &'static str>,
    bincode_sized: bool,
    typed: Typed<T>,
    top: Result<(), &'static str>,
    nested: Result<(), &'static str>,
    hdf5: Hdf5,
    to_value: Result<(), &'static str>,
    same_file: SameFile,
    known_bugs: Vec<(Check, &'static [At], &'static str)>,
}

/// A sample named `name` whose wire envelope is `wire_tag`; by default every format gives
/// it back equal, HDF5 at top level too.
pub fn sample<T: Model>(name: impl Into<String>, wire_tag: &'static str, value: T) -> Builder<T> {
    Builder {
        name: name.into(),
        wire_tag,
        wire: Ok(()),
        bincode_sized: true,
        typed: Typed {
            value,
            h5_back: None,
            value_back: None,
            same: exact::<T>,
            diff: first_difference::<T>,
        },
        top: Ok(()),
        nested: Ok(()),
        hdf5: Hdf5::Same,
        to_value: Ok(()),
        same_file: SameFile::Equal,
        known_bugs: Vec::new(),
    }
}

/// A top-level value must be a struct, map or sequence.
pub const NOT_AN_OBJECT: &str =
    "HDF5: a top-level value is a group (struct, map or sequence); a scalar, string, \
     unit variant or array is an attribute or dataset of one";
/// Sequences of one numeric type are datasets.
pub const NUMERIC_SEQ: &str = "a sequence of one numeric type is written as a dataset";
/// 128-bit integers.
pub const NO_128: &str = "HDF5 and Value have no 128-bit integers (as Python anamnesis)";
/// NUL in strings.
pub const NUL: &str = "HDF5 strings are NUL-terminated: a string containing NUL is refused";
/// Enums Serde reads through `deserialize_any`.
pub const NOT_SELF_DESCRIBING: &str =
    "the wire format is not self-describing (as bincode): internally tagged and untagged \
     enums are read through `deserialize_any`, which it refuses";
/// Tuple keys.
pub const UNHASHABLE_KEYS: &str = "a tuple key is written as a list, which Python cannot \
     use as a dict key (`unhashable type: 'list'`): the writer refuses it";
/// `Some(None)`.
pub const ONE_NONE: &str = "HDF5 has one None: Some(None) is an absent entry, read as None";
/// `None` members of Value objects.
pub const NONE_ABSENT: &str =
    "None is an absent entry: an object's None member is not stored, and does not read back";

/// Bug: a Value::None field.
pub const BUG_VALUE_NONE_FIELD: &str =
    "BUG: a struct field holding `Value::None` is written as nothing (None is an absent \
     entry), and the struct then cannot be read back (`missing field`): unlike an Option \
     field, a Value field has no default when absent";

impl<T: Model> Builder<T> {
    /// HDF5 cannot hold it at top level (`why`); it is tested as a struct field, and the
    /// top-level write is checked to be an error.
    pub fn field_only(mut self, why: &'static str) -> Self {
        self.top = Err(why);
        self
    }

    /// Not checked through `to_group` (`why`); the run prints that it was not.
    pub fn not_nested(mut self, why: &'static str) -> Self {
        self.nested = Err(why);
        self
    }

    /// HDF5 reads it back as `back`, for the reason `why`.
    pub fn hdf5_reads(mut self, back: T, why: &'static str) -> Self {
        self.typed.h5_back = Some(back);
        self.hdf5 = Hdf5::ReadsAs(why);
        self
    }

    /// `from_value(to_value(&v))` gives `back`, for the reason `why` (what `to_value` leaves
    /// out, as the file does).
    pub fn value_reads(mut self, back: T, why: &'static str) -> Self {
        self.typed.value_back = Some(back);
        let _ = why; // for the reader, as the reason of `hdf5_reads`
        self
    }

    /// HDF5 refuses to write it (`why`), at every place: checked to be an error.
    pub fn hdf5_refuses(mut self, why: &'static str) -> Self {
        self.hdf5 = Hdf5::Refused(why);
        self.top = Err(why);
        self
    }

    /// The wire format encodes it, but cannot decode it (`why`): checked to be an error.
    pub fn wire_refuses(mut self, why: &'static str) -> Self {
        self.wire = Err(why);
        self
    }

    /// It holds [`Value`]s, which the wire format encodes self-describing (a type byte per
    /// value): its body may be larger than bincode's.
    pub fn holds_values(mut self) -> Self {
        self.bincode_sized = false;
        self
    }

    /// `to_value` refuses it (`why`): checked to be an error.
    pub fn no_value(mut self, why: &'static str) -> Self {
        self.to_value = Err(why);
        self
    }

    /// The typed file holds datasets where the Value's file holds lists (see
    /// [`SameFile::Datasets`]).
    pub fn datasets(mut self, why: &'static str) -> Self {
        self.same_file = SameFile::Datasets(why);
        self
    }

    /// Compares with `PartialEq`: the value holds a `HashMap` of several entries, whose
    /// order (and so whose exact fingerprint) differs between two equal maps.
    pub fn unordered(mut self) -> Self
    where
        T: PartialEq,
    {
        self.typed.same = |a, b| a == b;
        self.typed.diff = |a, b| {
            format!(
                "got {}\n        want {}",
                shorten(format!("{a:?}")),
                shorten(format!("{b:?}"))
            )
        };
        self
    }

    /// Compares through `to_value`, objects' members in any order: the value holds
    /// [`Value`] objects, whose members HDF5 reads attributes first, then links.
    pub fn objects_unordered(mut self) -> Self {
        self.typed.same = |a, b| match (anam::to_value(a), anam::to_value(b)) {
            (Ok(a), Ok(b)) => same_value(&a, &b),
            _ => false,
        };
        self.typed.diff = |a, b| match (anam::to_value(a), anam::to_value(b)) {
            (Ok(a), Ok(b)) => value_difference(&a, &b),
            (Err(e), _) | (_, Err(e)) => e.to_string(),
        };
        self
    }

    /// `check` fails for this sample at the places `at` (every place if empty): a bug,
    /// described by `note`. The check still runs there, and must fail.
    pub fn known_bug(mut self, check: Check, at: &'static [At], note: &'static str) -> Self {
        self.known_bugs.push((check, at, note));
        self
    }
}

/// The samples of one group.
#[derive(Default)]
pub struct Samples(pub Vec<Sample>);

impl Samples {
    pub fn add<T: Model>(&mut self, b: Builder<T>) {
        assert!(
            self.0.iter().all(|s| s.name != b.name),
            "two samples are named {}",
            b.name
        );
        self.0.push(Sample {
            name: b.name,
            wire_tag: b.wire_tag,
            wire: b.wire,
            bincode_sized: b.bincode_sized,
            top: b.top,
            nested: b.nested,
            hdf5: b.hdf5,
            to_value: b.to_value,
            same_file: b.same_file,
            known_bugs: b.known_bugs,
            data: Box::new(b.typed),
        });
    }
}

/// Adds the samples of a group.
pub type AddSamples = fn(&mut Samples);

/// The groups of samples, by name.
pub const GROUPS: &[(&str, AddSamples)] = &[
    ("scalars", scalars),
    ("scalars_in_every_position", scalars_in_every_position),
    ("strings_chars_and_bytes", strings_chars_and_bytes),
    ("options_and_units", options_and_units),
    ("structs", structs),
    ("tuples", tuples),
    ("sequences", sequences),
    ("maps", maps),
    ("enums", enums),
    ("tagged_enums", tagged_enums),
    ("arrays", arrays),
    (
        "arrays_of_every_dtype_and_rank",
        arrays_of_every_dtype_and_rank,
    ),
    ("complex_numbers", complex_numbers),
    ("values", values),
    ("classes", classes),
];

/// The samples of the group `name`.
pub fn group(name: &str) -> Vec<Sample> {
    let (_, f) = GROUPS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no sample group {name}"));
    let mut s = Samples::default();
    f(&mut s);
    s.0
}

/// Every sample.
pub fn all() -> Vec<Sample> {
    GROUPS.iter().flat_map(|(n, _)| group(n)).collect()
}

// ---------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "test_classes1.SimplePerson")]
pub struct Person {
    pub name: String,
    pub age: i64,
}

impl Person {
    pub fn new(name: &str, age: i64) -> Person {
        Person {
            name: name.into(),
            age,
        }
    }
}

pub fn fred() -> Person {
    Person::new("Fred", 42)
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Pair")]
pub struct Pair(pub i32, pub i32);

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Mixed")]
pub struct Mixed(pub i32, pub String, pub bool);

/// One value of `T` in every position a value can take inside an object.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "tests.Holder")]
pub struct Positions<T> {
    pub field: T,
    pub some: Option<T>,
    pub none: Option<T>,
    pub list: Vec<T>,
    pub list_of_options: Vec<Option<T>>,
    pub nested: Vec<Vec<T>>,
    pub pair: (T, T),
    pub map: BTreeMap<String, T>,
    /// One entry: its order is the same in every copy.
    pub hash_map: HashMap<String, T>,
    pub map_of_lists: BTreeMap<String, Vec<T>>,
}

impl<T: Clone> Positions<T> {
    pub fn new(v: &T, all: &[T]) -> Self {
        Positions {
            field: v.clone(),
            some: Some(v.clone()),
            none: None,
            list: all.to_vec(),
            list_of_options: vec![Some(v.clone()), None, Some(all[0].clone()), None],
            nested: vec![all.to_vec(), vec![], vec![v.clone()]],
            pair: (v.clone(), all[all.len() - 1].clone()),
            map: [
                ("v".to_string(), v.clone()),
                ("first".into(), all[0].clone()),
            ]
            .into(),
            hash_map: [("v".to_string(), v.clone())].into(),
            map_of_lists: [("all".to_string(), all.to_vec()), ("empty".into(), vec![])].into(),
        }
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Options")]
pub struct Options {
    pub some: Option<i32>,
    pub none: Option<i32>,
    pub some_string: Option<String>,
    pub some_struct: Option<Person>,
    pub none_struct: Option<Person>,
    pub some_list: Option<Vec<f64>>,
    pub some_unit: Option<()>,
    pub none_unit: Option<()>,
    pub some_some: Option<Option<i32>>,
    pub none_outer: Option<Option<i32>>,
    pub list_of_nested: Vec<Option<Option<i32>>>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.OptOpt")]
pub struct OptOpt {
    pub a: Option<Option<i32>>,
    pub b: Option<Option<String>>,
    pub list: Vec<Option<Option<i32>>>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Wrapped")]
pub struct Wrapped(pub Vec<String>);

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Shapes")]
pub struct Shapes {
    pub unit: (),
    pub marker: UnitStruct,
    pub meters: Meters,
    pub wrapped_list: Wrapped,
    pub pair: Pair,
    pub mixed: Mixed,
    pub markers: Vec<UnitStruct>,
    pub units: Vec<()>,
    pub newtypes: Vec<Meters>,
    pub pairs: Vec<Pair>,
    pub by_name: BTreeMap<String, UnitStruct>,
}

/// A newtype struct around a struct: that struct's group.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Boxed")]
pub struct Boxed(pub Person);

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Tuples")]
pub struct Tuples {
    pub ints: (i32, i32, i32),
    pub floats: (f64, f64),
    pub mixed: (i32, String, f64),
    pub mixed_numeric: (u8, i64, f32),
    pub nested: ((i32, i32), (String, bool)),
    pub single: (i16,),
    pub array: [u16; 4],
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Lists")]
pub struct Lists {
    pub strings: Vec<String>,
    pub with_none_in_middle: Vec<Option<i32>>,
    pub with_none_first: Vec<Option<i32>>,
    pub with_none_last: Vec<Option<i32>>,
    pub all_none: Vec<Option<i32>>,
    pub option_strings: Vec<Option<String>>,
    pub nested: Vec<Vec<i32>>,
    pub nested_all_empty: Vec<Vec<i32>>,
    pub deep: Vec<Vec<Vec<String>>>,
    pub chars: Vec<char>,
    pub people: Vec<Person>,
}

/// Numeric sequences, as datasets and (with `anam::as_list`) as lists.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.AsList")]
pub struct AsList {
    pub dataset: Vec<i64>,
    #[serde(with = "anam::as_list")]
    pub list: Vec<i64>,
    #[serde(with = "anam::as_list")]
    pub floats: Vec<f64>,
    #[serde(with = "anam::as_list")]
    pub empty: Vec<u8>,
    #[serde(with = "anam::as_list")]
    pub strings: Vec<String>,
    #[serde(with = "anam::as_list")]
    pub nested: Vec<Vec<i32>>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Eq, PartialOrd, Ord, Clone, Hash)]
pub enum Color {
    Red,
    Green,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Maps")]
pub struct Maps {
    pub string_keys: BTreeMap<String, i32>,
    pub hash: HashMap<String, String>,
    pub int_keys: BTreeMap<i64, String>,
    pub negative_keys: BTreeMap<i8, f64>,
    pub u64_keys: BTreeMap<u64, bool>,
    pub bool_keys: BTreeMap<bool, i32>,
    pub char_keys: BTreeMap<char, u8>,
    pub enum_keys: BTreeMap<Color, i32>,
    pub struct_values: BTreeMap<String, Person>,
    pub list_values: HashMap<String, Vec<f64>>,
    pub string_list_values: BTreeMap<u32, Vec<String>>,
    pub map_values: BTreeMap<String, BTreeMap<i32, Option<String>>>,
    pub empty: BTreeMap<String, i32>,
    pub unicode_keys: BTreeMap<String, i32>,
}

/// An externally tagged enum of every variant kind.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Ext")]
pub enum Ext {
    Unit,
    Newtype(i32),
    NewtypeString(String),
    NewtypeStruct(Person),
    NewtypeList(Vec<f64>),
    NewtypeOption(Option<i32>),
    NewtypeUnit(()),
    Tuple(i32, String),
    TupleNumeric(f64, f64),
    EmptyTuple(),
    Struct {
        x: f64,
        name: String,
        inner: Vec<i32>,
        maybe: Option<String>,
    },
    EmptyStruct {},
    Nested(Box<Ext>),
}

pub fn all_ext() -> Vec<(&'static str, Ext)> {
    vec![
        ("unit", Ext::Unit),
        ("newtype", Ext::Newtype(-5)),
        ("newtype string", Ext::NewtypeString("Grüße".into())),
        ("newtype struct", Ext::NewtypeStruct(Person::new("Eve", 22))),
        ("newtype list", Ext::NewtypeList(vec![1.0, 2.0])),
        ("newtype some", Ext::NewtypeOption(Some(1))),
        ("newtype none", Ext::NewtypeOption(None)),
        ("newtype unit", Ext::NewtypeUnit(())),
        ("tuple", Ext::Tuple(1, "one".into())),
        ("tuple numeric", Ext::TupleNumeric(0.5, -0.5)),
        ("empty tuple", Ext::EmptyTuple()),
        (
            "struct",
            Ext::Struct {
                x: 2.5,
                name: "s".into(),
                inner: vec![1, 2],
                maybe: None,
            },
        ),
        ("empty struct", Ext::EmptyStruct {}),
        (
            "nested twice",
            Ext::Nested(Box::new(Ext::Nested(Box::new(Ext::Tuple(2, "two".into()))))),
        ),
        ("nested unit", Ext::Nested(Box::new(Ext::Unit))),
    ]
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Enums")]
pub struct Enums {
    pub fields: Vec<Ext>,
    pub by_name: BTreeMap<String, Ext>,
    pub maybe: Option<Ext>,
    pub unit: Ext,
    pub newtype: Ext,
    pub structured: Ext,
}

/// Internally tagged on `class`: the tag *is* the group's class attribute.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(tag = "class")]
pub enum Figure {
    #[serde(rename = "shapes.Circle")]
    Circle { r: f64 },
    #[serde(rename = "shapes.Rect")]
    Rect {
        w: f64,
        h: f64,
        label: Option<String>,
    },
    #[serde(rename = "shapes.Labelled")]
    Labelled(Label),
    #[serde(rename = "shapes.Empty")]
    Empty,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "shapes.Label")]
pub struct Label {
    pub text: String,
    pub at: (f64, f64),
    pub tags: Vec<String>,
    pub size: i32,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Drawing")]
pub struct Drawing {
    pub main: Figure,
    pub shapes: Vec<Figure>,
    pub by_name: BTreeMap<String, Figure>,
    pub maybe: Option<Figure>,
    pub nothing: Option<Figure>,
}

/// A polymorphic member holding an array (serde buffers internally tagged enums).
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(tag = "class")]
pub enum Data {
    #[serde(rename = "data.Grid")]
    Grid {
        #[serde(with = "anam::array")]
        values: Array2<f64>,
    },
    #[serde(rename = "data.Nothing")]
    Nothing,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.WithData")]
pub struct WithData {
    pub data: Data,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(untagged)]
pub enum Loose {
    Flag(bool),
    Int(i64),
    Float(f64),
    Text(String),
    Numbers(Vec<f64>),
    Words(Vec<String>),
    Obj(Person),
    Map(BTreeMap<String, i64>),
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Untagged")]
pub struct Untagged {
    pub values: Vec<Loose>,
    pub by_name: BTreeMap<String, Loose>,
    pub flag: Loose,
    pub int: Loose,
    pub float: Loose,
    pub text: Loose,
    pub numbers: Loose,
    pub words: Loose,
    pub obj: Loose,
    pub map: Loose,
    pub maybe: Option<Loose>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Bytes")]
pub struct Bytes {
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub empty: Vec<u8>,
    #[serde(with = "serde_bytes")]
    pub all_values: Vec<u8>,
    pub buf: ByteBuf,
    pub list: Vec<ByteBuf>,
    pub map: BTreeMap<String, ByteBuf>,
    pub maybe: Option<ByteBuf>,
    pub nothing: Option<ByteBuf>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Level1")]
pub struct Level1 {
    pub name: String,
    pub two: Level2,
    pub twos: Vec<Level2>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Level2")]
pub struct Level2 {
    pub id: u32,
    pub three: Level3,
    pub by_key: BTreeMap<String, Level3>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Level3")]
pub struct Level3 {
    pub values: Vec<f64>,
    pub person: Option<Person>,
    #[serde(with = "anam::array")]
    pub grid: Array2<i32>,
}

pub fn level1() -> Level1 {
    let l3 = |k: i32| Level3 {
        values: vec![f64::from(k); 3],
        person: (k % 2 == 0).then(|| Person::new("even", k.into())),
        grid: Array2::from_shape_fn((2, 2), |(i, j)| k + (i * 2 + j) as i32),
    };
    let l2 = |k: u32| Level2 {
        id: k,
        three: l3(k as i32),
        by_key: [("a".to_string(), l3(10 + k as i32))].into(),
    };
    Level1 {
        name: "top".into(),
        two: l2(1),
        twos: vec![l2(2), l2(3)],
    }
}

/// An array between other fields of a struct.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "wire.InStruct", bound = "")]
pub struct InStruct<T: Element> {
    pub before: u8,
    #[serde(with = "anam::array")]
    pub a: ArrayD<T>,
    /// (`default`: HDF5 stores `None` as nothing, so reading needs it.)
    #[serde(with = "anam::array::option", default)]
    pub maybe: Option<ArrayD<T>>,
    pub after: String,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Fixed")]
pub struct Fixed {
    #[serde(with = "anam::array")]
    pub zero: Array0<f64>,
    #[serde(with = "anam::array")]
    pub zero_c: Array0<Complex64>,
    #[serde(with = "anam::array")]
    pub one: Array1<u16>,
    #[serde(with = "anam::array")]
    pub two: Array2<f64>,
    #[serde(with = "anam::array")]
    pub three: Array3<i8>,
    #[serde(with = "anam::array")]
    pub four: Array4<Complex32>,
    #[serde(with = "anam::array")]
    pub empty_two: Array2<bool>,
    #[serde(with = "anam::array")]
    pub empty_three: Array3<u64>,
    #[serde(with = "anam::array::option", default)]
    pub opt_two: Option<Array2<i32>>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.ZeroD")]
pub struct ZeroD {
    #[serde(with = "anam::array")]
    pub f: ArrayD<f64>,
    #[serde(with = "anam::array")]
    pub i: ArrayD<i64>,
    #[serde(with = "anam::array")]
    pub b: ArrayD<bool>,
    #[serde(with = "anam::array")]
    pub c: ArrayD<Complex32>,
}

#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename = "tests.Special")]
pub struct Special {
    #[serde(with = "anam::array")]
    pub f64s: ArrayD<f64>,
    #[serde(with = "anam::array")]
    pub f32s: Array1<f32>,
    #[serde(with = "anam::array")]
    pub complex: Array1<Complex64>,
    #[serde(with = "anam::array")]
    pub nan_0d: Array0<f64>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Extremes")]
pub struct Extremes {
    #[serde(with = "anam::array")]
    pub i64s: Array1<i64>,
    #[serde(with = "anam::array")]
    pub u64s: Array2<u64>,
    #[serde(with = "anam::array")]
    pub i8s: Array1<i8>,
    #[serde(with = "anam::array")]
    pub u8s: Array1<u8>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.OptArrays")]
pub struct OptArrays {
    #[serde(with = "anam::array::option", default)]
    pub some: Option<ArrayD<f64>>,
    #[serde(with = "anam::array::option", default)]
    pub none: Option<ArrayD<f64>>,
    #[serde(with = "anam::array::option", default)]
    pub some_empty: Option<ArrayD<f64>>,
    #[serde(with = "anam::array::option", default)]
    pub some_0d: Option<ArrayD<f64>>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Complexes")]
pub struct Complexes {
    pub c32: Complex32,
    pub c64: Complex64,
    pub list: Vec<Complex64>,
    pub by_name: BTreeMap<String, Complex32>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "wire.WithValues")]
pub struct WithValues {
    pub id: u32,
    pub v: Value,
    pub many: Vec<Value>,
    pub named: BTreeMap<String, Value>,
    pub after: (i8, String),
}

/// A class with every `#[anam::class]` feature a layout sees: a name map (on an
/// `as_list` member), `extra_data`, a `bcast_only` member and an alias.
#[anam::class(
    class = "data_model.Mapped",
    default_group = "mapped",
    aliases("data_model.OldMapped")
)]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Mapped {
    /// Python's `_order`, stored as `order` (a `namemaps` attribute says so).
    #[anam(name = "order")]
    #[serde(with = "anam::as_list")]
    pub _order: Vec<i64>,
    pub plain: String,
    #[anam(extra_data)]
    pub extra: ExtraData,
    /// Sent by the wire format, never written to HDF5.
    #[anam(bcast_only)]
    pub scratch: Vec<f64>,
}

pub fn mapped() -> Mapped {
    Mapped {
        _order: vec![3, 1, 2],
        plain: "plain".into(),
        extra: ExtraData::from([
            ("hometown".to_string(), Value::from("Oxford")),
            ("visits".to_string(), Value::from(sample_array::<i32>(&[3]))),
            ("ratio".to_string(), Value::F32(0.5)),
        ]),
        scratch: vec![1.5, -2.5],
    }
}

// ---------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------

fn bools() -> Vec<bool> {
    vec![true, false]
}

fn i8s() -> Vec<i8> {
    vec![0, 1, -1, i8::MIN, i8::MAX]
}

fn i16s() -> Vec<i16> {
    vec![0, -300, -126, -125, 125, 126, i16::MIN, i16::MAX]
}

fn i32s() -> Vec<i32> {
    vec![0, -70_000, -32_768, 32_767, 65_535, i32::MIN, i32::MAX]
}

fn i64s() -> Vec<i64> {
    vec![
        0,
        -1,
        1,
        i64::from(i32::MIN) - 1,
        (1 << 53) | 1,
        i64::MIN,
        i64::MAX,
    ]
}

fn i128s() -> Vec<i128> {
    vec![i128::MIN, i128::from(i64::MIN) - 1, -1, 0, i128::MAX]
}

fn u8s() -> Vec<u8> {
    vec![0, 1, 200, 250, 251, u8::MAX]
}

fn u16s() -> Vec<u16> {
    vec![0, 250, 251, 252, 40_000, u16::MAX]
}

fn u32s() -> Vec<u32> {
    vec![0, 250, 251, 65_535, 65_536, 3_000_000_000, u32::MAX]
}

fn u64s() -> Vec<u64> {
    vec![
        0,
        250,
        251,
        65_536,
        u64::from(u32::MAX) + 1,
        1 << 63,
        u64::MAX,
    ]
}

fn u128s() -> Vec<u128> {
    vec![
        0,
        250,
        u128::from(u64::MAX),
        u128::from(u64::MAX) + 1,
        u128::MAX,
    ]
}

fn f32s() -> Vec<f32> {
    vec![
        1.5,
        0.0,
        -0.0,
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7fc0_1234), // a NaN with a payload
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::MIN_POSITIVE,
        f32::MIN_POSITIVE / 4.0,     // subnormal
        f32::MIN_POSITIVE / 8.0,     // subnormal
        f32::from_bits(0x0000_0abc), // subnormal
        f32::from_bits(1),           // smallest subnormal
        f32::MAX,
        f32::MIN,
        f32::EPSILON,
    ]
}

fn f64s() -> Vec<f64> {
    vec![
        1.5,
        0.0,
        -0.0,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff8_0000_0000_0001), // a NaN with a payload
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        f64::MIN_POSITIVE / 4.0,               // subnormal
        f64::MIN_POSITIVE / 1024.0,            // subnormal
        f64::from_bits(0x000f_ffff_ffff_ffff), // the largest subnormal
        f64::from_bits(1),                     // the smallest subnormal
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        std::f64::consts::PI,
    ]
}

fn chars() -> Vec<char> {
    vec![
        'a',
        ' ',
        'ß',
        '東',
        '🚀',
        '\u{7f}',
        '\u{80}',
        'é',
        '\u{7ff}',
        '\u{800}',
        '€',
        '\u{ffff}',
        '\u{10000}',
        '😀',
        '\u{10ffff}',
    ]
}

fn strings() -> Vec<String> {
    vec![
        String::new(),
        "plain".into(),
        "hello".into(),
        "Grüße, 東京 🚀".into(),
        "Zürich € 😀".into(),
        "line\nbreak\ttab \"quoted\" \\ backslash".into(),
        "  padded  ".into(),
        "x".repeat(300),
        "long ".repeat(20_000),
        "é".repeat(40_000),
    ]
}

/// A value in a sample name: its `Debug`, cut short.
fn label<T: Debug>(v: &T) -> String {
    let s = format!("{v:?}");
    if s.len() > 24 {
        format!(
            "{}...({} chars)",
            s.chars().take(12).collect::<String>(),
            s.chars().count()
        )
    } else {
        s
    }
}

/// A float in a sample name: its `Debug` and its bits (NaNs differ only there).
fn float_label(bits: u64, v: &dyn Debug) -> String {
    format!("{v:?} ({bits:#x})")
}

/// Every scalar type alone (at top level for the wire format, as a struct field for
/// HDF5), a top-level list of its values, a map of them and a pair; the same collections
/// of `()`, a unit struct, a newtype struct and tuple structs.
fn scalars(s: &mut Samples) {
    fn each<T: Model + Clone>(
        s: &mut Samples,
        ty: &'static str,
        values: Vec<T>,
        name: fn(&T) -> String,
    ) {
        let numeric = !matches!(ty, "char" | "str");
        // (Each value alone: at top level for the wire format, as a field for HDF5.)
        for v in &values {
            s.add(sample(format!("{ty} {}", name(v)), ty, v.clone()).field_only(NOT_AN_OBJECT));
        }
        collections(s, ty, values, numeric);
    }
    /// A top-level list of `values`, a map of them and a pair.
    fn collections<T: Model + Clone>(s: &mut Samples, ty: &str, values: Vec<T>, numeric: bool) {
        let map: BTreeMap<String, T> = values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("k{i}"), v.clone()))
            .collect();
        let pair = (values[0].clone(), values[values.len() - 1].clone());
        let seq = sample(format!("Vec<{ty}>"), "seq", values);
        let map = sample(format!("BTreeMap<String, {ty}>"), "map", map);
        let pair = sample(format!("({ty}, {ty})"), "tuple", pair);
        if numeric {
            s.add(seq.datasets(NUMERIC_SEQ));
            s.add(map.datasets(NUMERIC_SEQ));
            s.add(pair.datasets(NUMERIC_SEQ));
        } else {
            s.add(seq);
            s.add(map);
            s.add(pair);
        }
    }
    each(s, "bool", bools(), label);
    each(s, "i8", i8s(), label);
    each(s, "i16", i16s(), label);
    each(s, "i32", i32s(), label);
    each(s, "i64", i64s(), label);
    each(s, "u8", u8s(), label);
    each(s, "u16", u16s(), label);
    each(s, "u32", u32s(), label);
    each(s, "u64", u64s(), label);
    each(s, "f32", f32s(), |v| float_label(u64::from(v.to_bits()), v));
    each(s, "f64", f64s(), |v| float_label(v.to_bits(), v));
    each(s, "char", chars(), label);
    each(s, "str", strings(), label);
    collections(s, "unit", vec![()], false);
    collections(s, "unit struct", vec![UnitStruct], false);
    collections(s, "newtype struct", vec![Meters(2.5), Meters(-0.125)], true);
    collections(
        s,
        "tuple struct",
        vec![Pair(1, -2), Pair(i32::MIN, i32::MAX)],
        true,
    );
    collections(
        s,
        "mixed tuple struct",
        vec![
            Mixed(1, "one".into(), true),
            Mixed(-2, String::new(), false),
        ],
        true,
    );
    // NUL, a char and a string like any other for the wire format; HDF5 refuses it.
    s.add(sample("char '\\0'", "char", '\0').hdf5_refuses(NUL));
    s.add(sample("str with NUL", "str", "nul \0 inside".to_string()).hdf5_refuses(NUL));
    for v in i128s() {
        s.add(
            sample(format!("i128 {v}"), "i128", v)
                .hdf5_refuses(NO_128)
                .no_value(NO_128),
        );
    }
    for v in u128s() {
        s.add(
            sample(format!("u128 {v}"), "u128", v)
                .hdf5_refuses(NO_128)
                .no_value(NO_128),
        );
    }
}

/// Each value of each scalar type in every position inside an object ([`Positions`]).
fn scalars_in_every_position(s: &mut Samples) {
    fn each<T: Model + Clone>(
        s: &mut Samples,
        ty: &str,
        values: Vec<T>,
        name: fn(&T) -> String,
        numeric: bool,
    ) {
        for v in &values {
            let b = sample(
                format!("Positions<{ty}> {}", name(v)),
                "tests.Holder",
                Positions::new(v, &values),
            );
            s.add(if numeric { b.datasets(NUMERIC_SEQ) } else { b });
        }
    }
    each(s, "bool", bools(), label, true);
    each(s, "i8", i8s(), label, true);
    each(s, "i16", i16s(), label, true);
    each(s, "i32", i32s(), label, true);
    each(s, "i64", i64s(), label, true);
    each(s, "u8", u8s(), label, true);
    each(s, "u16", u16s(), label, true);
    each(s, "u32", u32s(), label, true);
    each(s, "u64", u64s(), label, true);
    each(
        s,
        "f32",
        f32s(),
        |v| float_label(u64::from(v.to_bits()), v),
        true,
    );
    each(s, "f64", f64s(), |v| float_label(v.to_bits(), v), true);
    each(s, "char", chars(), label, false);
    each(s, "String", strings(), label, false);
    each(s, "()", vec![()], label, false);
    each(s, "unit struct", vec![UnitStruct], label, false);
    each(
        s,
        "newtype struct",
        vec![Meters(2.5), Meters(-0.125)],
        label,
        true,
    );
    each(
        s,
        "tuple struct",
        vec![Pair(1, -2), Pair(i32::MIN, i32::MAX)],
        label,
        true,
    );
    each(
        s,
        "mixed tuple struct",
        vec![
            Mixed(1, "one".into(), true),
            Mixed(-2, String::new(), false),
        ],
        label,
        true,
    );
}

fn strings_chars_and_bytes(s: &mut Samples) {
    // A char at top level beside another value, for each UTF-8 width.
    for c in chars() {
        s.add(sample(format!("({c:?}, 1u8)"), "tuple", (c, 1u8)));
    }
    s.add(sample("('\\0', 1u8)", "tuple", ('\0', 1u8)).hdf5_refuses(NUL));
    for b in [vec![], vec![0u8], (0..=255).collect(), vec![7; 70_000]] {
        let n = b.len();
        s.add(
            sample(format!("ByteBuf of {n}"), "bytes", ByteBuf::from(b.clone()))
                .field_only(NOT_AN_OBJECT),
        );
        // A plain Vec<u8> is a sequence (a dataset as a field, a list at top level).
        let b = sample(format!("Vec<u8> of {n}"), "seq", b).datasets(NUMERIC_SEQ);
        s.add(if n > 65_534 {
            // A dataset as a field; a list at top level, and as a Value anywhere (more than
            // the 65,535 attributes a group that tracks creation order can hold).
            b.not_nested(
                "70,000 attributes in a group of a default-format file take about 80 s \
                     to write and read in a debug build (HDF5 does not index them there)",
            )
        } else {
            b
        });
    }
    s.add(sample(
        "struct of bytes",
        "tests.Bytes",
        Bytes {
            data: vec![1, 2, 3, 0, 255],
            empty: vec![],
            all_values: (0..=255).collect(),
            buf: ByteBuf::from(b"hello\0world".to_vec()),
            list: vec![
                ByteBuf::from(vec![1]),
                ByteBuf::new(),
                ByteBuf::from(vec![2, 3]),
            ],
            map: [("k".to_string(), ByteBuf::from(vec![9u8; 10]))].into(),
            maybe: Some(ByteBuf::from(vec![0])),
            nothing: None,
        },
    ));
}

/// A None at top level: HDF5 refuses it as every other value that is not a group.
fn top_none<T: Model>(b: Builder<T>) -> Builder<T> {
    b.field_only(NOT_AN_OBJECT)
}

fn options_and_units(s: &mut Samples) {
    s.add(sample("Some(5i32)", "option", Some(5i32)).field_only(NOT_AN_OBJECT));
    s.add(top_none(sample("None::<i32>", "option", None::<i32>)));
    s.add(top_none(
        sample("Some(None::<String>)", "option", Some(None::<String>))
            .hdf5_reads(None, ONE_NONE)
            .value_reads(None, "to_value(Some(None)) is Value::None, as in a file"),
    ));
    s.add(
        sample("Some(Some(\"x\"))", "option", Some(Some("x".to_string())))
            .field_only(NOT_AN_OBJECT),
    );
    s.add(top_none(sample(
        "None::<Option<String>>",
        "option",
        None::<Option<String>>,
    )));
    s.add(sample("Some(())", "option", Some(())).field_only(NOT_AN_OBJECT));
    s.add(sample("()", "unit", ()).field_only(NOT_AN_OBJECT));
    s.add(sample("unit struct", "samples.Unit", UnitStruct));
    s.add(sample(
        "Some(Vec<Person>)",
        "option",
        Some(vec![fred(), fred()]),
    ));
    s.add(
        sample(
            "Options",
            "tests.Options",
            Options {
                some: Some(3),
                none: None,
                some_string: Some("x".into()),
                some_struct: Some(Person::new("Ann", 31)),
                none_struct: None,
                some_list: Some(vec![1.0, 2.0]),
                some_unit: Some(()),
                none_unit: None,
                some_some: Some(Some(7)),
                none_outer: None,
                list_of_nested: vec![Some(Some(1)), None, Some(Some(2))],
            },
        )
        .datasets(NUMERIC_SEQ),
    );
    // `None` is an absent entry and `Some(x)` is stored as `x`: HDF5 keeps `Some(Some(x))`
    // and `None` but reads `Some(None)` as `None` (README, "Known limits").
    s.add(
        sample(
            "Option<Option<T>> Some(None)",
            "tests.OptOpt",
            OptOpt {
                a: Some(None),
                b: Some(None),
                list: vec![Some(None), Some(Some(4))],
            },
        )
        .hdf5_reads(
            OptOpt {
                a: None,
                b: None,
                list: vec![None, Some(Some(4))],
            },
            ONE_NONE,
        )
        .value_reads(
            OptOpt {
                a: None,
                b: None,
                list: vec![None, Some(Some(4))],
            },
            "to_value(Some(None)) is Value::None, as in a file",
        ),
    );
}

fn structs(s: &mut Samples) {
    s.add(sample("SimplePerson", "test_classes1.SimplePerson", fred()));
    s.add(sample("newtype struct", "samples.Meters", Meters(-2.5)).field_only(NOT_AN_OBJECT));
    s.add(sample("tuple struct", "samples.Rgb", Rgb(0, 128, 255)).datasets(NUMERIC_SEQ));
    s.add(sample("tuple struct of i32", "tests.Pair", Pair(-1, 1)).datasets(NUMERIC_SEQ));
    s.add(sample(
        "mixed tuple struct",
        "tests.Mixed",
        Mixed(1, "x".into(), false),
    ));
    s.add(sample(
        "newtype struct around a struct",
        "tests.Boxed",
        Boxed(Person::new("Bob", 40)),
    ));
    s.add(
        sample(
            "unit, unit struct, newtype and tuple struct fields",
            "tests.Shapes",
            Shapes {
                unit: (),
                marker: UnitStruct,
                meters: Meters(1.25),
                wrapped_list: Wrapped(vec!["a".into(), "b".into()]),
                pair: Pair(3, 4),
                mixed: Mixed(5, "five".into(), true),
                markers: vec![UnitStruct, UnitStruct],
                units: vec![(), (), ()],
                newtypes: vec![Meters(1.0), Meters(2.0)],
                pairs: vec![Pair(1, 2), Pair(3, 4)],
                by_name: [("m".to_string(), UnitStruct)].into(),
            },
        )
        .datasets(NUMERIC_SEQ),
    );
    s.add(
        sample("nested structs three levels deep", "tests.Level1", level1()).datasets(NUMERIC_SEQ),
    );
    s.add(
        sample("AllTypes", "samples.AllTypes", all_types())
            .hdf5_refuses(NO_128)
            .no_value(NO_128),
    );
    s.add(sample(
        "Address",
        "samples.Address",
        Address {
            street: "1 Main St".into(),
            city: "Leeds".into(),
            zip: 70_000,
        },
    ));
}

fn tuples(s: &mut Samples) {
    s.add(sample("(u8,)", "tuple", (1u8,)).datasets(NUMERIC_SEQ));
    s.add(sample("(u8, u8, u8)", "tuple", (1u8, 2u8, 3u8)).datasets(NUMERIC_SEQ));
    s.add(sample(
        "(i32, String, f64)",
        "tuple",
        (1i32, "two".to_string(), 3.0f64),
    ));
    s.add(sample(
        "(u8, String, f64)",
        "tuple",
        (1u8, "a".to_string(), 2.5f64),
    ));
    s.add(
        sample(
            "(i128, u128, (char, ()))",
            "tuple",
            (i128::MIN, u128::MAX, ('é', ())),
        )
        .hdf5_refuses(NO_128)
        .no_value(NO_128),
    );
    s.add(
        sample(
            "((u8, u16), [u32; 3], tuple struct)",
            "tuple",
            ((1u8, 2u16), [3u32, 4, 5], Rgb(1, 2, 3)),
        )
        .datasets(NUMERIC_SEQ),
    );
    s.add(sample(
        "(f32 NaN, f64 -inf, f64 -0.0)",
        "tuple",
        (f32::NAN, f64::NEG_INFINITY, -0.0f64),
    ));
    s.add(
        sample(
            "tuples numeric and mixed",
            "tests.Tuples",
            Tuples {
                ints: (1, -2, 3),
                floats: (0.5, f64::INFINITY),
                mixed: (7, "seven".into(), 7.5),
                mixed_numeric: (255, i64::MIN, -1.5),
                nested: ((1, 2), ("x".into(), true)),
                single: (-9,),
                array: [1, 2, 3, u16::MAX],
            },
        )
        .datasets(NUMERIC_SEQ),
    );
}

fn sequences(s: &mut Samples) {
    s.add(sample("empty Vec<i32>", "seq", Vec::<i32>::new()));
    s.add(sample("Vec<i32> of three", "seq", vec![1i32, -1, i32::MAX]).datasets(NUMERIC_SEQ));
    s.add(sample(
        "Vec<String> of two",
        "seq",
        vec!["a".to_string(), String::new()],
    ));
    s.add(sample("Vec<Vec<u8>>", "seq", vec![vec![1u8], vec![], vec![2, 3]]).datasets(NUMERIC_SEQ));
    s.add(
        sample(
            "Vec<Vec<Vec<i64>>>",
            "seq",
            vec![vec![vec![1i64]], vec![], vec![vec![], vec![2, 3]]],
        )
        .datasets(NUMERIC_SEQ),
    );
    s.add(sample("Vec<()>", "seq", vec![(); 10]));
    s.add(sample("Vec<Option<u8>>", "seq", vec![Some(1u8), None]));
    s.add(sample("Vec<SimplePerson>", "seq", vec![fred(), fred()]));
    s.add(
        sample(
            "Vec<i64> of 1000",
            "seq",
            (0..1000).map(|i| i * 7919).collect::<Vec<i64>>(),
        )
        .datasets(NUMERIC_SEQ),
    );
    s.add(
        sample(
            "lists of strings, options and nested vecs",
            "tests.Lists",
            Lists {
                strings: vec!["a".into(), String::new(), "Grüße, 東京 🚀".into()],
                with_none_in_middle: vec![Some(1), None, Some(3)],
                with_none_first: vec![None, Some(2)],
                with_none_last: vec![Some(1), None],
                all_none: vec![None, None],
                option_strings: vec![Some("x".into()), None],
                nested: vec![vec![1, 2], vec![], vec![3]],
                nested_all_empty: vec![vec![], vec![]],
                deep: vec![vec![vec!["x".into()], vec![]], vec![]],
                chars: vec!['a', '🚀'],
                people: vec![Person::new("A", 1), Person::new("B", 2)],
            },
        )
        .datasets(NUMERIC_SEQ),
    );
    s.add(
        sample(
            "anam::as_list",
            "tests.AsList",
            AsList {
                dataset: vec![1, 2, 3],
                list: vec![1, 2, 3],
                floats: vec![0.5, -0.0],
                empty: vec![],
                strings: vec!["a".into()],
                nested: vec![vec![1, 2], vec![]],
            },
        )
        .datasets("`dataset` is a dataset (`list` is the same numbers with anam::as_list)"),
    );
}

fn maps(s: &mut Samples) {
    s.add(sample(
        "empty BTreeMap",
        "map",
        BTreeMap::<String, i64>::new(),
    ));
    s.add(sample(
        "BTreeMap<String, i64> of two",
        "map",
        BTreeMap::from([("a".to_string(), 1i64), ("b".to_string(), -2)]),
    ));
    s.add(sample(
        "BTreeMap<String, SimplePerson>",
        "map",
        BTreeMap::from([("p".to_string(), Person::new("P", 9))]),
    ));
    s.add(
        sample(
            "HashMap<u32, Vec<String>>",
            "map",
            HashMap::from([(1u32, vec!["x".to_string()]), (2, vec![])]),
        )
        .unordered(),
    );
    s.add(
        sample(
            "HashMap<i32, Vec<String>>",
            "map",
            HashMap::from([(1i32, vec!["a".to_string()]), (2, vec![])]),
        )
        .unordered(),
    );
    s.add(
        sample(
            "BTreeMap<(i32, i32), SimplePerson>",
            "map",
            BTreeMap::from([((1i32, -1i32), fred()), ((0, 0), fred())]),
        )
        .hdf5_refuses(UNHASHABLE_KEYS),
    );
    s.add(sample(
        "BTreeMap<String, BTreeMap<Option<u8>, Vec<()>>>",
        "map",
        BTreeMap::from([(
            "nested".to_string(),
            BTreeMap::from([(Some(1u8), vec![(); 2])]),
        )]),
    ));
    s.add(
        sample(
            "maps with all kinds of keys and values",
            "tests.Maps",
            Maps {
                string_keys: [("a".to_string(), 1), ("b".into(), 2)].into(),
                hash: [("k".to_string(), "v".to_string())].into(),
                int_keys: [
                    (i64::MIN, "min".to_string()),
                    (0, "zero".into()),
                    (i64::MAX, "max".into()),
                ]
                .into(),
                negative_keys: [(-1, 0.5), (3, -0.5)].into(),
                u64_keys: [(u64::MAX, true), (0, false)].into(),
                bool_keys: [(true, 1), (false, 0)].into(),
                char_keys: [('x', 1), ('ü', 2)].into(),
                enum_keys: [(Color::Red, 1), (Color::Green, 2)].into(),
                struct_values: [("ann".to_string(), Person::new("Ann", 30))].into(),
                list_values: [("xs".to_string(), vec![1.0, 2.0]), ("none".into(), vec![])].into(),
                string_list_values: [(7, vec!["seven".to_string()])].into(),
                map_values: [(
                    "inner".to_string(),
                    [(1, Some("one".to_string())), (2, None)].into(),
                )]
                .into(),
                empty: BTreeMap::new(),
                unicode_keys: [
                    ("東京".to_string(), 1),
                    ("🚀".into(), 2),
                    (String::new(), 3),
                ]
                .into(),
            },
        )
        .unordered()
        .datasets(NUMERIC_SEQ),
    );
}

fn enums(s: &mut Samples) {
    for (name, e) in all_ext() {
        let b = sample(format!("Ext {name}"), "tests.Ext", e.clone());
        let b = match e {
            // A unit variant is its name, a string.
            Ext::Unit => b.field_only(NOT_AN_OBJECT),
            Ext::NewtypeList(_) => b.datasets(NUMERIC_SEQ),
            Ext::Struct { .. } => b.datasets(NUMERIC_SEQ),
            _ => b,
        };
        s.add(b);
    }
    let all: Vec<Ext> = all_ext().into_iter().map(|(_, e)| e).collect();
    s.add(sample("Vec<Ext>", "seq", all.clone()).datasets(NUMERIC_SEQ));
    s.add(
        sample(
            "externally tagged enums everywhere",
            "tests.Enums",
            Enums {
                by_name: all
                    .iter()
                    .enumerate()
                    .map(|(i, e)| (format!("e{i}"), e.clone()))
                    .collect(),
                fields: all.clone(),
                maybe: Some(Ext::Tuple(3, "three".into())),
                unit: Ext::Unit,
                newtype: Ext::NewtypeStruct(Person::new("N", 1)),
                structured: all[11].clone(),
            },
        )
        .datasets(NUMERIC_SEQ),
    );
    for shape in all_types().shapes {
        let name = format!("samples::Shape {shape:?}");
        let b = sample(name, "samples.Shape", shape.clone());
        s.add(match shape {
            Shape::Point => b.field_only(NOT_AN_OBJECT),
            Shape::Polygon { .. } => b.datasets(NUMERIC_SEQ),
            _ => b,
        });
    }
    s.add(sample(
        "samples::Shape empty Polygon",
        "samples.Shape",
        Shape::Polygon {
            corners: vec![],
            label: None,
        },
    ));
    s.add(sample(
        "Some(Shape::Circle)",
        "option",
        Some(Shape::Circle(1.0)),
    ));
    s.add(sample(
        "Ok(Shape::Point)",
        "Result",
        Ok::<Shape, String>(Shape::Point),
    ));
    s.add(sample(
        "Err(String)",
        "Result",
        Err::<Shape, String>("bad".into()),
    ));
}

fn tagged_enums(s: &mut Samples) {
    let label = Label {
        text: "hi 🚀".into(),
        at: (1.0, 2.0),
        tags: vec!["a".into()],
        size: 12,
    };
    s.add(
        sample(
            "internally tagged enum on class",
            "tests.Drawing",
            Drawing {
                main: Figure::Circle { r: 1.5 },
                shapes: vec![
                    Figure::Circle { r: 2.0 },
                    Figure::Rect {
                        w: 1.0,
                        h: 2.0,
                        label: Some("r".into()),
                    },
                    Figure::Labelled(label.clone()),
                    Figure::Empty,
                    Figure::Rect {
                        w: 3.0,
                        h: 4.0,
                        label: None,
                    },
                ],
                by_name: [("c".to_string(), Figure::Circle { r: 0.5 })].into(),
                maybe: Some(Figure::Labelled(label.clone())),
                nothing: None,
            },
        )
        .datasets(NUMERIC_SEQ)
        .wire_refuses(NOT_SELF_DESCRIBING),
    );
    // Serde writes an internally tagged enum as a struct (or map) named after the enum: the
    // envelope is the enum's name.
    s.add(
        sample(
            "internally tagged Circle",
            "Figure",
            Figure::Circle { r: 3.0 },
        )
        .wire_refuses(NOT_SELF_DESCRIBING),
    );
    s.add(
        sample(
            "internally tagged Rect",
            "Figure",
            Figure::Rect {
                w: 1.0,
                h: 1.0,
                label: None,
            },
        )
        .wire_refuses(NOT_SELF_DESCRIBING),
    );
    // A newtype variant is the inner struct with the tag added: its name is the envelope.
    s.add(
        sample(
            "internally tagged newtype",
            "shapes.Label",
            Figure::Labelled(label),
        )
        .datasets(NUMERIC_SEQ)
        .wire_refuses(NOT_SELF_DESCRIBING),
    );
    s.add(
        sample("internally tagged unit", "Figure", Figure::Empty).wire_refuses(NOT_SELF_DESCRIBING),
    );
    s.add(
        sample(
            "internally tagged enum with an array member",
            "tests.WithData",
            WithData {
                data: Data::Grid {
                    values: array![[1.0, 2.0], [3.0, 4.0]],
                },
            },
        )
        .wire_refuses(NOT_SELF_DESCRIBING),
    );
    let all = vec![
        Loose::Flag(true),
        Loose::Int(-4),
        Loose::Float(2.5),
        Loose::Text("t".into()),
        Loose::Numbers(vec![1.0, 2.0]),
        Loose::Words(vec!["w".into()]),
        Loose::Obj(Person::new("O", 3)),
        Loose::Map([("k".to_string(), 1)].into()),
    ];
    s.add(
        sample(
            "untagged enums",
            "tests.Untagged",
            Untagged {
                values: all.clone(),
                by_name: all
                    .iter()
                    .enumerate()
                    .map(|(i, l)| (format!("l{i}"), l.clone()))
                    .collect(),
                flag: all[0].clone(),
                int: all[1].clone(),
                float: all[2].clone(),
                text: all[3].clone(),
                numbers: all[4].clone(),
                words: all[5].clone(),
                obj: all[6].clone(),
                map: all[7].clone(),
                maybe: Some(Loose::Int(9)),
            },
        )
        .datasets(NUMERIC_SEQ)
        .wire_refuses(NOT_SELF_DESCRIBING),
    );
}

/// Arrays of fixed dimension, 0-d ones, float specials, integer extremes, optional arrays.
fn arrays(s: &mut Samples) {
    s.add(sample(
        "fixed-dimension arrays",
        "tests.Fixed",
        Fixed {
            zero: ndarray::arr0(-3.5),
            zero_c: ndarray::arr0(Complex64::new(1.0, -1.0)),
            one: array![1, 2, u16::MAX],
            two: array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]],
            three: Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as i8 - 10),
            four: Array4::from_shape_fn((1, 2, 2, 3), |(a, b, c, d)| {
                Complex32::new((a + b) as f32, (c * d) as f32)
            }),
            empty_two: Array2::from_elem((0, 4), false),
            empty_three: Array3::zeros((3, 0, 2)),
            opt_two: Some(array![[1, 2], [3, 4]]),
        },
    ));
    s.add(sample(
        "0-d arrays keep their value",
        "tests.ZeroD",
        ZeroD {
            f: ndarray::arr0(42.5).into_dyn(),
            i: ndarray::arr0(i64::MIN).into_dyn(),
            b: ndarray::arr0(true).into_dyn(),
            c: ndarray::arr0(Complex32::new(0.0, 3.0)).into_dyn(),
        },
    ));
    let specials = [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        0.0,
        f64::from_bits(1),
        f64::MAX,
        f64::MIN_POSITIVE,
    ];
    s.add(sample(
        "float arrays with NaN, infinities and signed zero",
        "tests.Special",
        Special {
            f64s: ArrayD::from_shape_vec(IxDyn(&[2, 4]), specials.to_vec()).unwrap(),
            f32s: specials.iter().map(|&x| x as f32).collect(),
            complex: array![
                Complex64::new(f64::NAN, -0.0),
                Complex64::new(f64::INFINITY, f64::NEG_INFINITY)
            ],
            nan_0d: ndarray::arr0(f64::NAN),
        },
    ));
    s.add(
        sample(
            "NaN bits in an array",
            "array",
            NdArray(array![
                [f64::NAN, -0.0],
                [f64::INFINITY, f64::from_bits(0x7ff8_0000_0000_0001)]
            ]),
        )
        .field_only(NOT_AN_OBJECT),
    );
    s.add(sample(
        "integer arrays with extremes",
        "tests.Extremes",
        Extremes {
            i64s: array![i64::MIN, -1, 0, 1, i64::MAX],
            u64s: array![[u64::MAX, 0], [1 << 63, u64::MAX - 1]],
            i8s: array![i8::MIN, i8::MAX],
            u8s: (0..=255).collect(),
        },
    ));
    s.add(sample(
        "optional arrays",
        "tests.OptArrays",
        OptArrays {
            some: Some(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, 3.0, 4.0]).unwrap()),
            none: None,
            some_empty: Some(ArrayD::zeros(IxDyn(&[0]))),
            some_0d: Some(ndarray::arr0(5.0).into_dyn()),
        },
    ));
}

/// Arrays of every dtype in every shape of [`SHAPES`] (ranks 0 to 4, empty ones
/// included): alone (`anam::NdArray`, for HDF5 as a field) and between the fields of a
/// struct, with and without an optional array; and of fixed dimension 0 to 4.
fn arrays_of_every_dtype_and_rank(s: &mut Samples) {
    fn of<T: Elem + Model>(s: &mut Samples, ty: &str) {
        for &shape in SHAPES {
            let a = sample_array::<T>(shape);
            s.add(
                sample(format!("{ty} {shape:?} alone"), "array", NdArray(a.clone()))
                    .field_only(NOT_AN_OBJECT),
            );
            s.add(sample(
                format!("{ty} {shape:?} in a struct"),
                "wire.InStruct",
                InStruct {
                    before: 1,
                    a: a.clone(),
                    maybe: Some(a.clone()),
                    after: "end".into(),
                },
            ));
            s.add(sample(
                format!("{ty} {shape:?} in a struct, no option"),
                "wire.InStruct",
                InStruct {
                    before: 2,
                    a,
                    maybe: None,
                    after: String::new(),
                },
            ));
        }
        fn fixed<T: Elem + Model, D: Dimension + 'static>(
            s: &mut Samples,
            name: String,
            a: ndarray::Array<T, D>,
        ) {
            s.add(sample(name, "array", NdArray(a)).field_only(NOT_AN_OBJECT));
        }
        fixed(
            s,
            format!("{ty} Array0"),
            Array0::from_elem((), T::sample(1)),
        );
        fixed(
            s,
            format!("{ty} Array1"),
            Array1::from_shape_fn(5, T::sample),
        );
        fixed(
            s,
            format!("{ty} Array2"),
            Array2::from_shape_fn((2, 3), |(i, j)| T::sample(3 * i + j)),
        );
        fixed(
            s,
            format!("{ty} Array3 empty"),
            Array3::from_shape_fn((2, 0, 3), |(i, j, k)| T::sample(i + j + k)),
        );
        fixed(
            s,
            format!("{ty} Array4"),
            Array4::from_shape_fn((1, 2, 2, 3), |(i, j, k, l)| {
                T::sample(i + 2 * j + 3 * k + l)
            }),
        );
    }
    of::<bool>(s, "bool");
    of::<i8>(s, "i8");
    of::<i16>(s, "i16");
    of::<i32>(s, "i32");
    of::<i64>(s, "i64");
    of::<u8>(s, "u8");
    of::<u16>(s, "u16");
    of::<u32>(s, "u32");
    of::<u64>(s, "u64");
    of::<f32>(s, "f32");
    of::<f64>(s, "f64");
    of::<Complex32>(s, "Complex32");
    of::<Complex64>(s, "Complex64");
}

/// Complex numbers outside arrays: Serde fields (num-complex's `(re, im)` pairs) and
/// Value scalars.
fn complex_numbers(s: &mut Samples) {
    s.add(
        sample(
            "complex fields",
            "tests.Complexes",
            Complexes {
                c32: Complex32::new(1.5, -0.0),
                c64: Complex64::new(f64::MAX, f64::MIN_POSITIVE),
                list: vec![Complex64::new(1.0, 2.0), Complex64::new(f64::NAN, -1.0)],
                by_name: [("i".to_string(), Complex32::new(0.0, 1.0))].into(),
            },
        )
        .datasets("a Complex is a (re, im) tuple of one float type, written as a dataset"),
    );
    s.add(
        sample("Complex64 alone", "tuple", Complex::new(-2.5f64, 0.25))
            .datasets("a Complex is a (re, im) tuple of one float type, written as a dataset"),
    );
    for (name, v) in [
        ("Value::C64", Value::C64(Complex32::new(1.5, -2.0))),
        (
            "Value::C128",
            Value::C128(Complex64::new(f64::MAX, f64::MIN_POSITIVE)),
        ),
        (
            "Value::C128 NaN",
            Value::C128(Complex64::new(f64::NAN, -0.0)),
        ),
    ] {
        s.add(value_sample(name, v));
    }
}

// ---------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------

/// An array of every dtype, of various shapes.
pub fn typed_arrays() -> Vec<TypedArray> {
    vec![
        TypedArray::Bool(sample_array(&[2, 3])),
        TypedArray::I8(sample_array(&[4])),
        TypedArray::I16(sample_array(&[2, 2])),
        TypedArray::I32(sample_array(&[])),
        TypedArray::I64(sample_array(&[0])),
        TypedArray::U8(sample_array(&[3, 0, 2])),
        TypedArray::U16(sample_array(&[1, 1, 1, 1])),
        TypedArray::U32(sample_array(&[5])),
        TypedArray::U64(sample_array(&[2, 1])),
        TypedArray::F32(sample_array(&[3])),
        TypedArray::F64(sample_array(&[2, 3, 4])),
        TypedArray::C64(sample_array(&[2])),
        TypedArray::C128(sample_array(&[1, 2])),
    ]
}

/// An object with name maps, legacy lists and nested objects.
pub fn rich_object() -> Object {
    let mut child = Object::new("tests.Child");
    child.insert("v", Value::I64(7));
    let mut o = Object::new("tests.Rich");
    o.insert("order", Value::List(vec![Value::I64(1), Value::I64(2)]));
    o.insert("name", Value::from("rich"));
    o.insert("children", Value::List(vec![Value::Object(child.clone())]));
    o.insert("child", Value::Object(child));
    o.insert("grid", Value::from(sample_array::<f64>(&[2, 2])));
    o.insert("nothing", Value::None);
    o.name_maps = vec![("order".into(), "_order".into())];
    o.legacy_lists = vec!["children".into()];
    o
}

/// A value of every variant (NaN aside: see [`values`]).
pub fn every_value() -> Vec<Value> {
    let mut values = vec![
        Value::None,
        Value::Unit,
        Value::Bool(true),
        Value::Bool(false),
        Value::I8(i8::MIN),
        Value::I8(i8::MAX),
        Value::I16(i16::MIN),
        Value::I16(i16::MAX),
        Value::I32(i32::MIN),
        Value::I32(i32::MAX),
        Value::I64(i64::MIN),
        Value::I64(i64::MAX),
        Value::U8(u8::MAX),
        Value::U16(u16::MAX),
        Value::U32(u32::MAX),
        Value::U64(0),
        Value::U64(u64::MAX),
        Value::F32(f32::MIN_POSITIVE),
        Value::F32(f32::INFINITY),
        Value::F64(-1.5e300),
        Value::F64(f64::NEG_INFINITY),
        Value::C64(Complex32::new(1.5, -2.0)),
        Value::C128(Complex64::new(f64::MAX, f64::MIN_POSITIVE)),
        Value::from(""),
        Value::from("Zürich € 😀"),
        Value::List(vec![]),
        Value::List(vec![Value::I64(1), Value::from("two"), Value::List(vec![])]),
        Value::Dict(vec![]),
        Value::Dict(vec![
            (Value::from("key"), Value::I32(1)),
            (Value::I64(2), Value::from("int key")),
            (Value::U8(1), Value::None),
            (Value::Unit, Value::Unit),
            (
                Value::F64(0.5),
                Value::Dict(vec![(Value::Bool(true), Value::U16(9))]),
            ),
        ]),
        Value::Object(Object::new("tests.Empty")),
        Value::Object(rich_object()),
    ];
    values.extend(typed_arrays().into_iter().map(Value::Array));
    values
}

/// Objects as `tests/value.rs` sends them through JSON: name maps, legacy lists, nesting.
fn json_objects() -> Vec<Value> {
    let mut inner = Object::new("test_classes1.SimplePerson");
    inner.insert("name", Value::from("Kid"));
    inner.insert("ratio", Value::F64(0.25));
    let mut obj = Object::new("fixture_classes.Parent");
    obj.insert("label", Value::from("outer"));
    obj.insert("child", Value::Object(inner));
    obj.insert(
        "flags",
        Value::List(vec![Value::Bool(true), Value::Bool(false)]),
    );
    obj.insert("neg", Value::I64(-5));
    obj.name_maps.push(("order".into(), "_order".into()));
    obj.insert(
        "order",
        Value::List(vec![Value::F64(1.5), Value::from("x"), Value::List(vec![])]),
    );
    let mut legacy = Object::new("fixture_classes.ExampleWriter");
    legacy.legacy_lists.push("dat".into());
    legacy.insert("dat", Value::List(vec![Value::Object(Object::new("a.B"))]));
    vec![Value::Object(obj), Value::Object(legacy)]
}

/// What HDF5 can hold at top level: a group.
fn is_group(v: &Value) -> bool {
    matches!(v, Value::List(_) | Value::Dict(_) | Value::Object(_))
}

/// A sample of a [`Value`]: compared with its objects' members in any order.
fn value_sample(name: impl Into<String>, v: Value) -> Builder<Value> {
    let stored = absent_nones(&v);
    let mut b = sample(name, "value", v.clone())
        .objects_unordered()
        .holds_values();
    if !is_group(&v) {
        b = b.field_only(NOT_AN_OBJECT);
    }
    if !exact(&stored, &v) {
        b = b.hdf5_reads(stored, NONE_ABSENT);
    }
    if matches!(v, Value::None) {
        b = b
            .known_bug(Check::Hdf5, &[At::Field], BUG_VALUE_NONE_FIELD)
            .known_bug(Check::ValueToTyped, &[At::Field], BUG_VALUE_NONE_FIELD);
    }
    b
}

fn values(s: &mut Samples) {
    for (i, v) in every_value().into_iter().enumerate() {
        s.add(value_sample(format!("every_value[{i}] {}", label(&v)), v));
    }
    for (i, v) in json_objects().into_iter().enumerate() {
        s.add(value_sample(format!("JSON test object {i}"), v));
    }
    s.add(value_sample(
        "List of every value",
        Value::List(every_value()),
    ));
    s.add(value_sample(
        "Dict of every value",
        Value::Dict(
            every_value()
                .into_iter()
                .enumerate()
                .map(|(i, v)| (Value::U64(i as u64), v))
                .collect(),
        ),
    ));
    s.add(
        value_sample(
            "Dict with a list key",
            Value::Dict(vec![(Value::List(vec![Value::U8(1)]), Value::I32(2))]),
        )
        .hdf5_refuses(UNHASHABLE_KEYS),
    );
    s.add(value_sample(
        "NaN and -0.0 in a List",
        Value::List(vec![Value::F32(f32::NAN), Value::F64(-0.0)]),
    ));
    let with_values = WithValues {
        id: 1,
        v: Value::Object(rich_object()),
        many: every_value(),
        named: BTreeMap::from([("a".into(), Value::None), ("b".into(), Value::Unit)]),
        after: (-1, "after".into()),
    };
    let stored = WithValues {
        v: absent_nones(&with_values.v),
        many: with_values.many.iter().map(absent_nones).collect(),
        ..with_values.clone()
    };
    s.add(
        sample("Values inside typed data", "wire.WithValues", with_values)
            .objects_unordered()
            .hdf5_reads(stored, NONE_ABSENT),
    );
}

// ---------------------------------------------------------------------------------------
// Classes
// ---------------------------------------------------------------------------------------

fn store() -> Store {
    let mut s = Store::new();
    s.insert("airport_from", "Manchester");
    s.insert("gate", 12i64);
    s.insert("delay", 2.5f64);
    s.insert("grid", TypedArray::F32(sample_array(&[2, 3])));
    s.insert("obj", Value::Object(rich_object()));
    s.insert(
        "list",
        Value::List(vec![Value::I64(1), Value::from("two"), Value::Unit]),
    );
    s
}

/// `bcast_only` members.
const BCAST_ONLY: &str =
    "bcast_only members are not written to HDF5 (they read back as their default)";

fn classes(s: &mut Samples) {
    let m = mapped();
    let m_stored = Mapped {
        scratch: vec![],
        ..m.clone()
    };
    s.add(
        sample(
            "#[anam::class] with name map, extra_data, bcast_only",
            "data_model.Mapped",
            m,
        )
        .hdf5_reads(m_stored.clone(), BCAST_ONLY)
        .value_reads(m_stored, BCAST_ONLY),
    );
    let p = Probe::new("probe");
    let no_bcast = |p: &Probe| Probe {
        cache: vec![],
        note: None,
        ..p.clone()
    };
    s.add(
        sample(
            "Probe (bcast_only, extra_data, init hook)",
            "samples.Probe",
            p.clone(),
        )
        .hdf5_reads(no_bcast(&p), BCAST_ONLY)
        .value_reads(no_bcast(&p), BCAST_ONLY),
    );
    let l = lab();
    let l_stored = crate::samples::Lab {
        lead: no_bcast(&l.lead),
        team: l.team.iter().map(no_bcast).collect(),
        by_name: l
            .by_name
            .iter()
            .map(|(k, p)| (k.clone(), no_bcast(p)))
            .collect(),
        spare: l.spare.as_ref().map(no_bcast),
    };
    s.add(
        sample("Lab of Probes", "samples.Lab", l)
            .hdf5_reads(l_stored.clone(), BCAST_ONLY)
            .value_reads(l_stored, BCAST_ONLY),
    );
    s.add(sample("empty Store", "anamnesis.store.Store", Store::new()));
    let st = store();
    let mut stored = st.clone();
    for v in stored.extra_data.values_mut() {
        *v = absent_nones(v);
    }
    s.add(
        sample("Store", "anamnesis.store.Store", st)
            .objects_unordered()
            .holds_values()
            .hdf5_reads(stored, NONE_ABSENT),
    );
    let c: StatsCollection = (0..3).map(stats).collect();
    s.add(sample("collection", "samples.StatsCollection", c));
    s.add(sample(
        "empty collection",
        "samples.StatsCollection",
        StatsCollection::new(),
    ));
    let plain: AnamCollection<Stats> = (0..2).map(stats).collect();
    s.add(sample(
        "AnamCollection (Python's base class)",
        "anamnesis.abstract.AnamCollection",
        plain,
    ));
}
