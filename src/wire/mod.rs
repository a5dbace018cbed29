//! The compact wire format: any `Serialize` value as bytes, for MPI messages.
//!
//! Driven by the same Serde impls as the HDF5 format. A message is an *envelope* (the value's
//! tag: a class tag for objects, the Serde name of other named types, or a kind such as
//! `seq`) followed by the body:
//!
//! - integers as bincode 2 varints (`< 251`: one byte; else a marker byte and 2, 4 or 8
//!   little-endian bytes; signed ones zigzag-encoded), floats as little-endian bytes, `bool`
//!   as one byte, `char` as UTF-8, strings and bytes as a varint length and the bytes;
//! - structs and tuples as their fields in order, sequences and maps as a varint length and
//!   the elements, options as `0`/`1` and the value, enum variants as a varint index;
//! - arrays (`anam::array`) as a dtype byte, the rank and dimensions as varints, and the raw
//!   little-endian buffer (no per-element encoding);
//! - [`Value`](crate::Value)s self-describing: a type byte before each value.
//!
//! So the body of a typed value is never larger than bincode's (standard configuration),
//! and `bcast_only` members are included (they are fields like any other).
//!
//! Decoding never panics on untrusted bytes, and never allocates more than the input could
//! hold: a length larger than the remaining input is an error.
//!
//! ```
//! # fn main() -> anam::Result<()> {
//! #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
//! #[serde(rename = "test_classes1.SimplePerson")]
//! struct SimplePerson { name: String, age: i64 }
//!
//! let bytes = anam::wire::to_bytes(&SimplePerson { name: "Fred".into(), age: 42 })?;
//! assert_eq!(anam::wire::tag_of(&bytes)?, "test_classes1.SimplePerson");
//! let back: SimplePerson = anam::wire::from_bytes(&bytes)?;
//! assert_eq!(back.age, 42);
//! # Ok(())
//! # }
//! ```

mod de;
mod ser;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::object::AnamObject;

/// Encodes `value` (envelope and body).
pub fn to_bytes<T: ?Sized + Serialize>(value: &T) -> Result<Vec<u8>> {
    ser::encode(value, None)
}

/// Decodes a `T`; the envelope must be `T`'s tag (or an alias of it).
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    de::decode(bytes, None)
}

/// Decodes an object of whichever registered class its envelope names.
pub fn object_from_bytes(bytes: &[u8]) -> Result<Box<dyn AnamObject>> {
    de::decode_object(bytes, None)
}

/// The tag in a message's envelope.
pub fn tag_of(bytes: &[u8]) -> Result<String> {
    de::Reader::new(bytes).str().map(str::to_string)
}

/// Receives the buffers of large arrays sent apart from the message (over MPI, straight
/// into or out of the arrays' memory).
pub(crate) trait OutOfBand {
    /// Arrays of at least this many bytes travel apart from the message.
    fn threshold(&self) -> usize;
    /// Called in order for each such array on the sending side.
    fn send(&mut self, bytes: &[u8]) -> Result<()>;
    /// Called in order for each such array on the receiving side, with the array's new
    /// memory, not initialised. Implementations must write every byte of `buf` before
    /// returning `Ok` (the decoder then reads it as the array's elements).
    fn receive(&mut self, buf: &mut [std::mem::MaybeUninit<u8>]) -> Result<()>;
}

pub(crate) use de::{decode, decode_object};
pub(crate) use ser::encode;

// Varints, as bincode 2 writes them.
const U16_MARK: u8 = 251;
const U32_MARK: u8 = 252;
const U64_MARK: u8 = 253;
const U128_MARK: u8 = 254;

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn zigzag128(v: i128) -> u128 {
    ((v << 1) ^ (v >> 127)) as u128
}

fn unzigzag128(v: u128) -> i128 {
    ((v >> 1) as i128) ^ -((v & 1) as i128)
}

/// Type bytes of self-describing ([`Value`](crate::Value)) data. Numbers, bools and complex
/// numbers take `2 + ` their dtype's code (the order of [`DType::ALL`](crate::DType::ALL):
/// bool 2, int8 3, ... complex128 14).
mod kind {
    use crate::dtype::DType;

    pub const NONE: u8 = 0;
    pub const UNIT: u8 = 1;
    const SCALAR_BASE: u8 = 2;
    pub const STR: u8 = 15;
    pub const ARRAY: u8 = 16;
    pub const LIST: u8 = 17;
    pub const DICT: u8 = 18;
    pub const OBJECT: u8 = 19;
    pub const BYTES: u8 = 20;

    /// The type byte of a scalar of `dtype`.
    pub fn of_scalar(dtype: DType) -> u8 {
        SCALAR_BASE + dtype.code()
    }

    /// The dtype whose scalars have type byte `k`, if any.
    pub fn scalar_dtype(k: u8) -> Option<DType> {
        k.checked_sub(SCALAR_BASE).and_then(DType::from_code)
    }
}

/// Envelope tags of values that are not named types.
mod tags {
    pub const VALUE: &str = "value";
    pub const ARRAY: &str = "array";
    pub const SEQ: &str = "seq";
    pub const MAP: &str = "map";
    pub const TUPLE: &str = "tuple";
    pub const UNIT: &str = "unit";
    pub const OPTION: &str = "option";
    pub const STR: &str = "str";
}

fn dtype_of_code(code: u8) -> Result<crate::DType> {
    crate::DType::from_code(code)
        .ok_or_else(|| Error::invalid(format!("unknown dtype code {code}")))
}
