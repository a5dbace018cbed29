//! Arrays written elsewhere: how a distributed collection (`MpiHandler::write_collection`,
//! feature `mpio`) keeps its big arrays out of the [`Value`]s it sends to rank 0 and out
//! of rank 0's memory, without a copy on either side.
//!
//! - On the rank that owns an array, [`with_array_sink`] hands every array of at least a
//!   given size that [`to_value_as_written`](super::to_value_as_written) meets, as the
//!   borrowed bytes of its own buffer, to a sink; the sink returns what the `Value` holds in
//!   its place (a [`placeholder`]: dtype, shape and the array's index on its rank), or writes
//!   the bytes to the file (the second pass).
//! - On rank 0, [`with_stand_ins`] makes every placeholder serialize as an array of its
//!   dtype and shape whose bytes are a slice of one zeroed buffer, which the HDF5 writer
//!   recognises by address and gives space without writing it: rank 0 holds one buffer of
//!   the largest array plus 8 bytes a placeholder, not every rank's arrays. (With a zeroed
//!   array per placeholder, rank 0's peak memory grew by 213 MB writing 20,000 members of
//!   8,000 bytes of arrays each, all 160 MB of them on rank 1; with one buffer, by 77 MB.)

use std::cell::{Cell, RefCell};

use serde::Serializer;

use super::{Object, Value};
use crate::dtype::{with_dtype, DType};
use crate::error::Result;
use crate::protocol::{self, ARRAY_TOKEN};

/// The class of a placeholder. No written value has it: HDF5 strings cannot hold a NUL.
pub(crate) const CLASS: &str = "\0anam.parallel.array";

/// Where a big array goes: given its dtype, shape and little-endian bytes (borrowed from
/// the array being serialized), returns the value that stands in its place.
pub(crate) type ArraySink = dyn FnMut(DType, &[usize], &[u8]) -> Result<Value>;

thread_local! {
    /// The sink of [`with_array_sink`] and its size threshold, while one runs.
    static SINK: RefCell<Option<(usize, Box<ArraySink>)>> = const { RefCell::new(None) };
    /// The zeroed buffer of [`with_stand_ins`] (address and length in bytes), while one runs.
    static ZEROS: Cell<Option<(*const u64, usize)>> = const { Cell::new(None) };
}

/// Runs `f` with `sink` given every array of at least `min_bytes` bytes that the value
/// builder meets (arrays, byte strings, and the number sequences the HDF5 writer makes
/// datasets of), in the order they are serialized.
pub(crate) fn with_array_sink<R>(
    min_bytes: usize,
    sink: Box<ArraySink>,
    f: impl FnOnce() -> R,
) -> R {
    struct Restore(Option<(usize, Box<ArraySink>)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            SINK.set(self.0.take());
        }
    }
    let _restore = Restore(SINK.replace(Some((min_bytes, sink))));
    f()
}

/// The value an array of `dtype`, `shape` and `bytes` becomes: what the active sink makes
/// of it when it is big enough, else `None` (the builder keeps the array).
pub(super) fn sunk(dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<Option<Value>> {
    // Taken out while it runs: the sink may build values itself.
    let Some((min_bytes, mut sink)) = SINK.take() else {
        return Ok(None);
    };
    let out = if bytes.len() >= min_bytes {
        Some(sink(dtype, shape, bytes))
    } else {
        None
    };
    SINK.set(Some((min_bytes, sink)));
    out.transpose()
}

/// A placeholder for the `index`-th big array of its rank, of `dtype` and `shape`.
pub(crate) fn placeholder(dtype: DType, shape: &[usize], index: usize) -> Value {
    let mut o = Object::new(CLASS);
    o.insert("dtype", Value::from(dtype.name()));
    o.insert(
        "shape",
        Value::List(shape.iter().map(|&d| Value::U64(d as u64)).collect()),
    );
    o.insert("index", Value::U64(index as u64));
    Value::Object(o)
}

/// A placeholder's dtype, shape and index; `None` for any other value.
pub(crate) fn parts(v: &Value) -> Option<(DType, Vec<usize>, usize)> {
    object_parts(v.as_object()?)
}

fn object_parts(o: &Object) -> Option<(DType, Vec<usize>, usize)> {
    if o.class != CLASS {
        return None;
    }
    let dtype = DType::from_name(o.get("dtype")?.as_str()?)?;
    let shape = o
        .get("shape")?
        .as_list()?
        .iter()
        .map(|d| d.as_u64().map(|d| d as usize))
        .collect::<Option<Vec<_>>>()?;
    let index = o.get("index")?.as_u64()? as usize;
    Some((dtype, shape, index))
}

/// Bytes of an array of `dtype` and `shape`, or `None` on overflow.
pub(crate) fn byte_len(dtype: DType, shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(dtype.size(), |n, &d| n.checked_mul(d))
}

/// The stand-ins' buffer: `count` placeholders, the largest `max_bytes` long. The
/// placeholder serialized `k`-th (see [`with_stand_ins`]) starts at
/// [`address`](Self::address)`(k)`.
pub(crate) struct StandIns {
    zeros: Vec<u64>,
}

impl StandIns {
    pub(crate) fn new(count: usize, max_bytes: usize) -> StandIns {
        // Placeholder k's bytes start at word k: distinct addresses, aligned for every
        // dtype. Zeroed: a valid value of every dtype (the writer checks a bool array's bytes).
        StandIns {
            zeros: vec![0u64; count + max_bytes.div_ceil(8)],
        }
    }

    /// Where the bytes of the placeholder with slot `k` start.
    pub(crate) fn address(&self, k: usize) -> usize {
        self.zeros.as_ptr().wrapping_add(k) as usize
    }
}

/// Runs `f` with every placeholder (with a `slot` field, set by the caller: its position in
/// `stand_ins`) serialized as an array of its dtype and shape, its bytes at
/// `stand_ins.address(slot)`.
pub(crate) fn with_stand_ins<R>(stand_ins: &StandIns, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<(*const u64, usize)>);
    impl Drop for Restore {
        fn drop(&mut self) {
            ZEROS.set(self.0);
        }
    }
    let _restore =
        Restore(ZEROS.replace(Some((stand_ins.zeros.as_ptr(), stand_ins.zeros.len() * 8))));
    f()
}

/// Sets the slot of placeholder `v` (see [`with_stand_ins`]).
pub(crate) fn set_slot(v: &mut Value, slot: usize) {
    if let Value::Object(o) = v {
        o.insert("slot", Value::U64(slot as u64));
    }
}

/// Whether `o` is to be serialized as a stand-in array ([`serialize`]): a placeholder,
/// while [`with_stand_ins`] runs.
pub(super) fn is_stand_in(o: &Object) -> bool {
    o.class == CLASS && ZEROS.get().is_some()
}

/// Serializes placeholder `o` as its stand-in array (see [`with_stand_ins`]).
pub(super) fn serialize<S: Serializer>(o: &Object, s: S) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::Error as _;
    let malformed = || S::Error::custom("a malformed placeholder of a distributed array");
    let (base, len) = ZEROS.get().ok_or_else(malformed)?;
    let (dtype, shape, _) = object_parts(o).ok_or_else(malformed)?;
    let slot = o
        .get("slot")
        .and_then(Value::as_u64)
        .ok_or_else(malformed)? as usize;
    let bytes = byte_len(dtype, &shape).ok_or_else(malformed)?;
    match slot
        .checked_mul(8)
        .and_then(|start| start.checked_add(bytes))
    {
        Some(end) if end <= len => {}
        _ => return Err(malformed()),
    }
    with_dtype!(dtype, T => {
        const { assert!(std::mem::align_of::<T>() <= 8) };
        let n = bytes / std::mem::size_of::<T>();
        // SAFETY: `slot * 8 + bytes` lies inside the zeroed `u64` buffer of `with_stand_ins`
        // (checked above), which outlives this call; it is aligned for every dtype (8 bytes,
        // the largest alignment of an element), and all zero bytes are a valid value of every
        // element type (0, 0.0, false).
        let data: &[T] = unsafe { std::slice::from_raw_parts(base.add(slot).cast::<T>(), n) };
        s.serialize_newtype_struct(ARRAY_TOKEN, &protocol::payload(&shape, data))
    })
}
