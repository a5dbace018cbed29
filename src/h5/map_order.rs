//! The order of a map's entries in the file, and which keys a map may have.
//!
//! The same map must give the same file, byte for byte, whatever order its type iterates
//! in: a `HashMap`'s order changes from run to run. So a map whose keys do not come in
//! order is written sorted by key ([`compare_keys`]); one whose keys come in order (a
//! `BTreeMap` of strings or numbers, the common case) is written as it comes, without
//! holding its values. A [`Value`] dict keeps its own order (it is what a file held).
//!
//! Deciding needs a look at the keys before the first value is written: [`needs_sorting`]
//! runs the value's `Serialize` impl once through a probe that sees only the keys (values
//! are not visited), and stops at the first key out of order or at the first thing that
//! is not a map (at once for scalars, sequences, structs and arrays).

use std::cmp::Ordering;
use std::fmt;

use serde::ser::{self, Impossible, Serialize};

use crate::protocol::{self, VALUE_TOKEN};
use crate::value::{self, compare_keys, Value};

/// Why `key` cannot be a map key, if it cannot: Python would fail to load the dict
/// (`unhashable type: 'list'`) for keys that are lists, dicts, objects or arrays.
pub(crate) fn key_problem(key: &Value) -> Option<&'static str> {
    match key {
        Value::List(_) => Some(
            "is a sequence (a tuple or a list), which Python reads as a list: a list cannot \
             be a dict key in Python (unhashable)",
        ),
        Value::Dict(_) => Some("is a map: a dict cannot be a dict key in Python (unhashable)"),
        Value::Object(_) => Some("is an object, which cannot be a dict key in Python"),
        Value::Array(_) => Some(
            "is an array (or bytes), which Python reads as an ndarray: an ndarray cannot be a \
             dict key in Python (unhashable)",
        ),
        _ => None,
    }
}

/// Whether `value` is a map whose keys do not come in the order of [`compare_keys`] (then
/// the writer holds its entries and writes them sorted).
pub(crate) fn needs_sorting<T: ?Sized + Serialize>(value: &T) -> bool {
    matches!(value.serialize(Probe), Err(Stop::Unsorted))
}

/// What the probe found when it looked at every key: they come in order (or there was
/// nothing to compare).
struct Found;

/// How the probe stops early (Serde has no way to end a map early with a result).
#[derive(Debug)]
enum Stop {
    /// Not a map (or a value or key the probe does not look into).
    Other,
    /// A map whose keys do not come in order.
    Unsorted,
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the map-order probe stopped")
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<M: fmt::Display>(_: M) -> Stop {
        Stop::Other
    }
}

/// Sees through options and newtypes to a map, and stops at anything else.
struct Probe;

macro_rules! stop {
    ($($method:ident($($t:ty),*)),*) => {
        $(fn $method(self, $(_: $t),*) -> Result<Found, Stop> {
            Err(Stop::Other)
        })*
    };
}

impl ser::Serializer for Probe {
    type Ok = Found;
    type Error = Stop;
    type SerializeSeq = Impossible<Found, Stop>;
    type SerializeTuple = Impossible<Found, Stop>;
    type SerializeTupleStruct = Impossible<Found, Stop>;
    type SerializeTupleVariant = Impossible<Found, Stop>;
    type SerializeMap = Keys;
    type SerializeStruct = Impossible<Found, Stop>;
    type SerializeStructVariant = Impossible<Found, Stop>;

    fn is_human_readable(&self) -> bool {
        false
    }

    stop!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str)
    );

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Found, Stop> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<Found, Stop> {
        match name {
            // A Value: a dict keeps its order.
            VALUE_TOKEN => Ok(Found),
            // The crate's arrays, scalars, objects and lists.
            name if protocol::is_token(name) => Err(Stop::Other),
            _ => value.serialize(self),
        }
    }

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Found, Stop> {
        Err(Stop::Other)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Stop> {
        Err(Stop::Other)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Stop> {
        Err(Stop::Other)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Stop> {
        Err(Stop::Other)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Stop> {
        Err(Stop::Other)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Keys, Stop> {
        Ok(Keys { last: None })
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Stop> {
        Err(Stop::Other)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Stop> {
        Err(Stop::Other)
    }
}

/// A map's keys, compared as they come; its values are not visited.
struct Keys {
    last: Option<Value>,
}

impl ser::SerializeMap for Keys {
    type Ok = Found;
    type Error = Stop;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Stop> {
        let key = value::to_value(key).map_err(|_| Stop::Other)?;
        if self
            .last
            .as_ref()
            .is_some_and(|last| compare_keys(last, &key) == Ordering::Greater)
        {
            return Err(Stop::Unsorted);
        }
        self.last = Some(key);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, _: &T) -> Result<(), Stop> {
        Ok(())
    }

    fn end(self) -> Result<Found, Stop> {
        Ok(Found)
    }
}
