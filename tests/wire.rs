//! The wire format (`anam::wire`) beyond the round trips of the data-model suite
//! (`tests/data_model.rs`, which runs every type of the Serde data model, arrays of every
//! dtype and rank and dynamic values through the wire format, HDF5 and `Value`): raw
//! array buffers, views, widening; stores, collections and classes (`bcast_only` members
//! are sent, `init` hooks run once); the envelope; untrusted input (truncations,
//! corruptions, huge lengths and shapes, deep nesting); the size of the encoding against
//! bincode's; and a bounded fuzz smoke test (`make fuzz` runs it when no nightly toolchain
//! is installed for `cargo fuzz`).
//!
//! `cargo test --test wire -- --nocapture` shows the size table.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use anam::wire::{from_bytes, object_from_bytes, tag_of, to_bytes};
use anam::{AnamCollection, AnamObject, Element, ExtraData, Store, TypedArray, Value};
use ndarray::{array, Array, Array2, ArrayView, Dimension, IxDyn};
use num_complex::{Complex32, Complex64};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_bytes::ByteBuf;

#[path = "common/samples.rs"]
mod samples;
use samples::*;

/// The shared samples: the Values of the fuzz corpus and of the untrusted-input selection,
/// and `fred`.
#[path = "common/data_model.rs"]
mod data_model;
use data_model::{every_value, fred, rich_object, Person as SimplePerson};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// Encodes `value`, checks the envelope is `tag`, decodes it as a `T` and checks it is
/// equal; returns the decoded value.
fn round_trip<T>(value: &T, tag: &str) -> T
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let bytes = to_bytes(value).unwrap_or_else(|e| panic!("encoding {value:?}: {e}"));
    assert_eq!(tag_of(&bytes).unwrap(), tag, "envelope of {value:?}");
    let back: T = from_bytes(&bytes).unwrap_or_else(|e| panic!("decoding {value:?}: {e}"));
    assert_eq!(&back, value);
    back
}

/// Encodes `value` and decodes it as a `T`, for types without a useful `PartialEq`.
fn encode_decode<T: Serialize + DeserializeOwned>(value: &T) -> T {
    let bytes = to_bytes(value).unwrap_or_else(|e| panic!("encoding: {e}"));
    from_bytes(&bytes).unwrap_or_else(|e| panic!("decoding: {e}"))
}

/// A varint as the wire format (and bincode) writes it.
fn varint(v: u64) -> Vec<u8> {
    if v < 251 {
        vec![v as u8]
    } else if let Ok(v) = u16::try_from(v) {
        let mut out = vec![251];
        out.extend_from_slice(&v.to_le_bytes());
        out
    } else if let Ok(v) = u32::try_from(v) {
        let mut out = vec![252];
        out.extend_from_slice(&v.to_le_bytes());
        out
    } else {
        let mut out = vec![253];
        out.extend_from_slice(&v.to_le_bytes());
        out
    }
}

/// The encoded envelope: the tag as a length-prefixed string.
fn envelope(tag: &str) -> Vec<u8> {
    let mut out = varint(tag.len() as u64);
    out.extend_from_slice(tag.as_bytes());
    out
}

/// A message: the envelope `tag`, then `body`.
fn message(tag: &str, body: &[u8]) -> Vec<u8> {
    let mut out = envelope(tag);
    out.extend_from_slice(body);
    out
}

/// The error message of a decoding that must fail.
fn decode_err<T: DeserializeOwned + Debug>(bytes: &[u8]) -> String {
    match from_bytes::<T>(bytes) {
        Ok(v) => panic!("decoding succeeded: {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// Runs `f` on a thread with Rust's default stack for spawned threads (2 MiB), whatever
/// `RUST_MIN_STACK` the test harness runs with.
fn on_default_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

// ---------------------------------------------------------------------------------------
// Arrays
// ---------------------------------------------------------------------------------------

/// An array at top level through the with-module: the envelope is `array`.
#[derive(Debug, Clone, PartialEq)]
struct Arr<T: Element, D: Dimension>(Array<T, D>);

impl<T: Element, D: Dimension> Serialize for Arr<T, D> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        anam::array::serialize(&self.0, s)
    }
}

impl<'de, T: Element, D: Dimension> Deserialize<'de> for Arr<T, D> {
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        anam::array::deserialize(d).map(Arr)
    }
}

/// A view (any strides) at top level.
struct View<'a, T: Element, D: Dimension>(ArrayView<'a, T, D>);

impl<T: Element, D: Dimension> Serialize for View<'_, T, D> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        anam::array::serialize(&self.0, s)
    }
}

/// A transposed (non-standard layout) view of every dtype arrives in logical order.
/// (Arrays of every dtype and rank round-trip in `tests/data_model.rs`.)
#[test]
fn views_arrive_in_logical_order() {
    fn of<T: Sample>() {
        let a = Array2::from_shape_fn((3, 4), |(i, j)| T::sample(4 * i + j));
        let bytes = to_bytes(&View(a.t())).unwrap();
        let back: Arr<T, ndarray::Ix2> = from_bytes(&bytes).unwrap();
        assert_eq!(back.0, a.t());
    }
    of::<bool>();
    of::<i8>();
    of::<i16>();
    of::<i32>();
    of::<i64>();
    of::<u8>();
    of::<u16>();
    of::<u32>();
    of::<u64>();
    of::<f32>();
    of::<f64>();
    of::<Complex32>();
    of::<Complex64>();
}

#[test]
fn array_buffers_are_raw_and_keep_nan_bits() {
    let a = array![
        [f64::NAN, -0.0],
        [f64::INFINITY, f64::from_bits(0x7ff8_0000_0000_0001)]
    ];
    let bytes = to_bytes(&Arr(a.clone())).unwrap();
    // Envelope, dtype byte, rank 2, dims 2 and 2, then the 32 bytes of the buffer.
    assert_eq!(bytes.len(), envelope("array").len() + 1 + 1 + 2 + 32);
    let back: Arr<f64, ndarray::Ix2> = from_bytes(&bytes).unwrap();
    let bits = |a: &Array2<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&back.0), bits(&a));
}

#[test]
fn arrays_widen_losslessly_and_refuse_other_ranks() {
    let a = array![[1i32, -2], [3, 4]];
    let back: Arr<f64, ndarray::Ix2> = from_bytes(&to_bytes(&Arr(a)).unwrap()).unwrap();
    assert_eq!(back.0, array![[1.0, -2.0], [3.0, 4.0]]);
    let wide = to_bytes(&Arr(array![1i64, 2])).unwrap();
    assert!(from_bytes::<Arr<i32, ndarray::Ix1>>(&wide).is_err());
    assert!(from_bytes::<Arr<i64, ndarray::Ix2>>(&wide).is_err());
}

// ---------------------------------------------------------------------------------------
// Dynamic values, stores, collections
// ---------------------------------------------------------------------------------------

/// A Value object keeps its layout details (name maps, legacy lists) through the wire.
/// (Values of every variant round-trip in `tests/data_model.rs`.)
#[test]
fn value_objects_keep_their_layout_details() {
    let Value::Object(back) = round_trip(&Value::Object(rich_object()), "value") else {
        panic!("not an object");
    };
    assert_eq!(
        back.name_maps,
        [("order".to_string(), "_order".to_string())]
    );
    assert_eq!(back.legacy_lists, ["children"]);
    assert_eq!(back.member("_order"), back.get("order"));
}

#[test]
fn a_store() {
    let mut s = Store::new();
    round_trip(&s, "anamnesis.store.Store");
    s.insert("airport_from", "Manchester");
    s.insert("gate", 12i64);
    s.insert("delay", 2.5f64);
    s.insert("grid", TypedArray::F32(sample_array(&[2, 3])));
    s.insert("obj", Value::Object(rich_object()));
    s.insert("list", Value::List(every_value()));
    let back = round_trip(&s, "anamnesis.store.Store");
    assert_eq!(
        back.get("airport_from").and_then(Value::as_str),
        Some("Manchester")
    );
    let object = object_from_bytes(&to_bytes(&s).unwrap()).unwrap();
    assert_eq!(object.class_tag(), "anamnesis.store.Store");
    assert_eq!(*object.downcast::<Store>().unwrap(), s);
}

#[test]
fn a_collection() {
    let c: StatsCollection = (0..3).map(stats).collect();
    let mut back = round_trip(&c, "samples.StatsCollection");
    back.update_cache().unwrap();
    assert_eq!(back.combined("zstats").unwrap().shape(), &[2, 2, 3]);
    assert_eq!(back.combined("rt").unwrap().shape(), &[3]);
    let object = object_from_bytes(&to_bytes(&c).unwrap()).unwrap();
    assert_eq!(*object.downcast::<StatsCollection>().unwrap(), c);
    round_trip(&StatsCollection::new(), "samples.StatsCollection");
    // Python's base class.
    let plain: AnamCollection<Stats> = (0..2).map(stats).collect();
    round_trip(&plain, "anamnesis.abstract.AnamCollection");
}

// ---------------------------------------------------------------------------------------
// Classes: bcast_only members, init hooks, dynamic loading
// ---------------------------------------------------------------------------------------

#[test]
fn bcast_only_members_are_sent_and_init_runs_once() {
    let p = Probe::new("fred");
    let bytes = to_bytes(&p).unwrap();
    assert_eq!(tag_of(&bytes).unwrap(), "samples.Probe");
    let runs = hook_runs();
    let back: Probe = from_bytes(&bytes).unwrap();
    assert_eq!(
        hook_runs() - runs,
        1,
        "the hook runs once per decoded object"
    );
    assert_eq!(back.loads, 1);
    assert!(back.same(&p), "{back:?}");
    assert_eq!(back.cache.len(), 3, "bcast_only members are sent");
    assert_eq!(back.note.as_deref(), Some("scratch"));
    assert_eq!(back.extra, p.extra);

    // Nested objects: each hook once.
    let l = lab();
    let runs = hook_runs();
    let back: Lab = from_bytes(&to_bytes(&l).unwrap()).unwrap();
    assert_eq!(hook_runs() - runs, 5);
    let all = [&back.lead, &back.team[0], &back.team[1], &back.by_name["c"]]
        .into_iter()
        .chain(back.spare.as_ref());
    for probe in all {
        assert_eq!(probe.loads, 1, "{}", probe.name);
        assert_eq!(probe.cache, [1.5, -2.5, f64::INFINITY]);
    }
    assert!(back.lead.same(&l.lead));
}

#[test]
fn object_from_bytes_gives_the_registered_class() {
    let runs = hook_runs();
    let object: Box<dyn AnamObject> =
        object_from_bytes(&to_bytes(&Probe::new("x")).unwrap()).unwrap();
    assert_eq!(hook_runs() - runs, 1);
    assert_eq!(object.class_tag(), "samples.Probe");
    assert!(object.is::<Probe>());
    assert!(object.downcast_ref::<Lab>().is_none());
    let probe = object.downcast::<Probe>().unwrap();
    assert_eq!(probe.loads, 1);
    assert!(probe.same(&Probe::new("x")));

    let object = object_from_bytes(&to_bytes(&lab()).unwrap()).unwrap();
    let l = object.downcast_ref::<Lab>().expect("a Lab");
    assert_eq!(l.team[1].name, "b");
    // The object encodes again as itself.
    let again = to_bytes(&*object).unwrap();
    assert_eq!(again, to_bytes(l).unwrap());
    // Downcasting to the wrong class names both.
    let err = object.downcast::<Probe>().unwrap_err().to_string();
    assert!(
        err.contains("samples.Lab") && err.contains("samples.Probe"),
        "{err}"
    );
}

#[test]
fn tag_of_names_the_envelope() {
    assert_eq!(
        tag_of(&to_bytes(&fred()).unwrap()).unwrap(),
        "test_classes1.SimplePerson"
    );
    assert_eq!(tag_of(&to_bytes(&vec![1u8]).unwrap()).unwrap(), "seq");
    assert_eq!(tag_of(&to_bytes(&Value::I8(1)).unwrap()).unwrap(), "value");
    assert_eq!(
        tag_of(&to_bytes(&Store::new()).unwrap()).unwrap(),
        "anamnesis.store.Store"
    );
    assert_eq!(
        tag_of(&to_bytes(&Arr(array![1u8])).unwrap()).unwrap(),
        "array"
    );
    assert_eq!(tag_of(&to_bytes(&lab()).unwrap()).unwrap(), "samples.Lab");
    assert_eq!(tag_of(&message("x.Y", &[1, 2, 3])).unwrap(), "x.Y");
    assert!(tag_of(&[]).is_err());
    assert!(tag_of(&[5, b'a']).is_err(), "truncated tag");
    assert!(tag_of(&[2, 0xff, 0xfe]).is_err(), "tag not UTF-8");
}

// ---------------------------------------------------------------------------------------
// The envelope
// ---------------------------------------------------------------------------------------

#[anam::class(class = "a.X")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct AX {
    pub v: i32,
}

#[anam::class(class = "b.Y")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct BY {
    pub v: i32,
}

#[anam::class(class = "wire.Renamed", aliases("wire.Legacy"))]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Renamed {
    pub v: i32,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "wire.Legacy")]
struct Legacy {
    v: i32,
}

/// Asserts that decoding `value`'s message as a `T` fails naming both tags.
fn mismatch<T: DeserializeOwned + Debug>(value: &impl Serialize, found: &str, expected: &str) {
    let bytes = to_bytes(value).unwrap();
    assert_eq!(tag_of(&bytes).unwrap(), found);
    let err = decode_err::<T>(&bytes);
    assert!(
        err.contains(&format!("`{found}`")) && err.contains(&format!("`{expected}`")),
        "{found} read as {expected}: {err}"
    );
}

#[test]
fn a_mismatched_type_is_an_error_naming_both_tags() {
    mismatch::<BY>(&AX { v: 1 }, "a.X", "b.Y");
    mismatch::<AX>(&BY { v: 1 }, "b.Y", "a.X");
    mismatch::<SimplePerson>(&vec![1i32, 2], "seq", "test_classes1.SimplePerson");
    mismatch::<Vec<i32>>(&fred(), "test_classes1.SimplePerson", "seq");
    mismatch::<i64>(&1i32, "i32", "i64");
    mismatch::<String>(&ByteBuf::from(vec![1]), "bytes", "str");
    mismatch::<Value>(&Store::new(), "anamnesis.store.Store", "value");
    mismatch::<Store>(&Value::None, "value", "anamnesis.store.Store");
    mismatch::<Vec<f64>>(&Arr(array![1.0]), "array", "seq");
    mismatch::<Arr<f64, ndarray::Ix1>>(&vec![1.0], "seq", "array");
    mismatch::<i32>(&Some(1i32), "option", "i32");
    mismatch::<Shape>(&(), "unit", "samples.Shape");
    mismatch::<(i32,)>(&BTreeMap::from([(1, 2)]), "map", "tuple");
    mismatch::<Probe>(&lab(), "samples.Lab", "samples.Probe");
}

#[test]
fn aliases_are_accepted_in_the_envelope() {
    let bytes = to_bytes(&Legacy { v: 5 }).unwrap();
    assert_eq!(from_bytes::<Renamed>(&bytes).unwrap(), Renamed { v: 5 });
    let object = object_from_bytes(&bytes).unwrap();
    assert_eq!(object.downcast_ref::<Renamed>(), Some(&Renamed { v: 5 }));
}

#[test]
fn object_from_bytes_refuses_what_is_no_registered_class() {
    for bytes in [
        to_bytes(&fred()).unwrap(),
        to_bytes(&vec![1u8]).unwrap(),
        to_bytes(&Value::Object(rich_object())).unwrap(),
        message("no.Such", &[]),
    ] {
        let tag = tag_of(&bytes).unwrap();
        let err = object_from_bytes(&bytes).unwrap_err().to_string();
        assert!(err.contains(&tag), "{tag}: {err}");
    }
}

#[test]
fn bytes_after_the_value_are_an_error() {
    let mut bytes = to_bytes(&fred()).unwrap();
    bytes.push(0);
    let err = decode_err::<SimplePerson>(&bytes);
    assert!(err.contains("left"), "{err}");
    let mut bytes = to_bytes(&Probe::new("p")).unwrap();
    bytes.push(0);
    assert!(object_from_bytes(&bytes).is_err());
}

// ---------------------------------------------------------------------------------------
// Untrusted input
// ---------------------------------------------------------------------------------------

/// Decodes a message as one type, reporting only success.
type Decode = fn(&[u8]) -> bool;

fn decodes<T: DeserializeOwned>(bytes: &[u8]) -> bool {
    from_bytes::<T>(bytes).is_ok()
}

fn decodes_object(bytes: &[u8]) -> bool {
    object_from_bytes(bytes).is_ok()
}

/// Valid messages and how to decode each.
fn selection() -> Vec<(&'static str, Vec<u8>, Decode)> {
    let mut record = fuzzed::record(3);
    record.next = Some(Box::new(fuzzed::record(1)));
    vec![
        (
            "SimplePerson",
            to_bytes(&fred()).unwrap(),
            decodes::<SimplePerson>,
        ),
        (
            "AllTypes",
            to_bytes(&all_types()).unwrap(),
            decodes::<AllTypes>,
        ),
        (
            "Vec<u8>",
            to_bytes(&vec![1u8, 2, 3]).unwrap(),
            decodes::<Vec<u8>>,
        ),
        ("String", to_bytes("Zürich").unwrap(), decodes::<String>),
        (
            "map",
            to_bytes(&BTreeMap::from([(1u64, "one"), (300, "three hundred")])).unwrap(),
            decodes::<BTreeMap<u64, String>>,
        ),
        (
            "f64 array",
            to_bytes(&Arr(array![[1.0, 2.0], [3.0, 4.0]])).unwrap(),
            decodes::<Arr<f64, ndarray::Ix2>>,
        ),
        (
            "bool array",
            to_bytes(&Arr(array![true, false, true])).unwrap(),
            decodes::<Arr<bool, ndarray::Ix1>>,
        ),
        (
            "complex array",
            to_bytes(&Arr(sample_array::<Complex64>(&[2]))).unwrap(),
            decodes::<Arr<Complex64, IxDyn>>,
        ),
        (
            "Value",
            to_bytes(&Value::List(every_value())).unwrap(),
            decodes::<Value>,
        ),
        (
            "Store",
            to_bytes(&fuzzed::store()).unwrap(),
            decodes::<Store>,
        ),
        (
            "Record",
            to_bytes(&record).unwrap(),
            decodes::<fuzzed::Record>,
        ),
        (
            "Probe",
            to_bytes(&Probe::new("p")).unwrap(),
            decodes::<Probe>,
        ),
        ("Lab object", to_bytes(&lab()).unwrap(), decodes_object),
        (
            "Sensor object",
            to_bytes(&fuzzed::sensor(2)).unwrap(),
            decodes_object,
        ),
    ]
}

/// Runs `f` and fails the test, naming the input, if it panics.
fn no_panic(what: &str, input: &[u8], f: impl FnOnce() -> bool) -> bool {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(ok) => ok,
        Err(_) => panic!("{what}: the decoder panicked on {input:02x?}"),
    }
}

#[test]
fn every_truncation_is_an_error() {
    for (name, bytes, decode) in selection() {
        assert!(decode(&bytes), "{name}: the full message decodes");
        for cut in 0..bytes.len() {
            let part = &bytes[..cut];
            let ok = no_panic(name, part, || decode(part));
            assert!(
                !ok,
                "{name}: the first {cut} of {} bytes decoded",
                bytes.len()
            );
            no_panic(name, part, || {
                fuzzed::decode_everything(part);
                true
            });
        }
    }
}

#[test]
fn every_single_byte_corruption_is_an_error_or_a_value_never_a_panic() {
    let mut decoded = 0;
    let mut total = 0;
    for (name, bytes, decode) in selection() {
        for pos in 0..bytes.len() {
            for b in [0x00, 0xFF, 0xFB, 0xFC, 0xFD, 0xFE] {
                if bytes[pos] == b {
                    continue;
                }
                let mut bad = bytes.clone();
                bad[pos] = b;
                total += 1;
                decoded += usize::from(no_panic(name, &bad, || decode(&bad)));
                no_panic(name, &bad, || {
                    fuzzed::decode_everything(&bad);
                    true
                });
            }
        }
    }
    println!("single-byte corruptions: {total}, of which {decoded} still decoded");
}

#[test]
fn a_length_larger_than_the_input_is_an_error() {
    let huge = varint(1 << 40);
    let mut body = huge.clone();
    body.extend_from_slice(&[1, 2, 3]);
    for err in [
        decode_err::<Vec<u8>>(&message("seq", &body)),
        decode_err::<ByteBuf>(&message("bytes", &body)),
        decode_err::<String>(&message("str", &body)),
        decode_err::<BTreeMap<u8, u8>>(&message("map", &body)),
        decode_err::<Value>(&message("value", &[&[15u8][..], &body[..]].concat())), // Str
        decode_err::<Value>(&message("value", &[&[20u8][..], &body[..]].concat())), // bytes
        decode_err::<Value>(&message("value", &[&[17u8][..], &body[..]].concat())), // List
        decode_err::<Value>(&message("value", &[&[18u8][..], &body[..]].concat())), // Dict
    ] {
        assert!(err.contains("exceeds"), "{err}");
    }
    // The envelope's own length.
    assert!(tag_of(&[&huge[..], &b"seq"[..]].concat()).is_err());
    assert!(decode_err::<Vec<u8>>(&[&huge[..], &b"seq"[..]].concat()).contains("exceeds"));
    // One more than what is there.
    assert!(decode_err::<String>(&message("str", &[4, b'a', b'b', b'c'])).contains("exceeds"));
    // A 128-bit length.
    let mut body = vec![254];
    body.extend_from_slice(&u128::MAX.to_le_bytes());
    decode_err::<Vec<u8>>(&message("seq", &body));
}

#[test]
fn a_sequence_of_u64_max_units_is_an_error() {
    let body = varint(u64::MAX);
    let err = decode_err::<Vec<()>>(&message("seq", &body));
    assert!(err.contains("exceeds"), "{err}");
    decode_err::<Vec<UnitStruct>>(&message("seq", &body));
    decode_err::<BTreeMap<(), ()>>(&message("map", &body));
    decode_err::<Value>(&message("value", &[&[17u8][..], &body[..]].concat()));
    decode_err::<Value>(&message("value", &[&[18u8][..], &body[..]].concat()));
}

/// An array body: dtype code, rank, dims, then `data`.
fn array_body(dtype_code: u8, dims: &[u64], data: &[u8]) -> Vec<u8> {
    let mut body = vec![dtype_code];
    body.extend(varint(dims.len() as u64));
    for &d in dims {
        body.extend(varint(d));
    }
    body.extend_from_slice(data);
    body
}

#[test]
fn a_huge_array_shape_is_an_error() {
    let f64_code = 10; // anam::DType::ALL[10] == F64
    assert_eq!(anam::DType::ALL[f64_code as usize], anam::DType::F64);
    let shapes: &[&[u64]] = &[
        &[1 << 40, 1 << 40],
        &[u64::MAX, 2],
        &[1 << 62],
        &[1 << 60, 1],
        &[0, u64::MAX],
        &[0, 1 << 62, 1 << 62],
        &[1 << 31, 1 << 31, 1 << 31],
        &[1000, 1000],
    ];
    for &dims in shapes {
        let body = array_body(f64_code, dims, &[0; 64]);
        let err = decode_err::<Arr<f64, IxDyn>>(&message("array", &body));
        assert!(!err.is_empty());
        decode_err::<Value>(&message("value", &[&[16u8][..], &body[..]].concat()));
    }
    // A rank past any real array.
    let body = array_body(f64_code, &[1; 65], &[0; 8]);
    assert!(decode_err::<Arr<f64, IxDyn>>(&message("array", &body)).contains("rank"));
    let body = [&[f64_code][..], &varint(u64::MAX)[..]].concat();
    decode_err::<Arr<f64, IxDyn>>(&message("array", &body));
    // Unknown dtypes, and a buffer said to be sent apart (there is none).
    for code in [13, 0x7f, 0x80 | f64_code] {
        decode_err::<Arr<f64, IxDyn>>(&message("array", &array_body(code, &[1], &[0; 8])));
    }
    // Bool bytes other than 0 and 1.
    decode_err::<Arr<bool, IxDyn>>(&message("array", &array_body(0, &[2], &[1, 2])));
    // A small shape whose buffer is short.
    decode_err::<Arr<f64, IxDyn>>(&message("array", &array_body(f64_code, &[2], &[0; 15])));
}

/// `depth` nested `Value::List`s, encoded by hand.
fn nested_lists(depth: usize) -> Vec<u8> {
    let mut bytes = envelope("value");
    for _ in 0..depth {
        bytes.extend_from_slice(&[17, 1]);
    }
    bytes.push(0);
    bytes
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "wire.Chain")]
struct Chain {
    next: Option<Box<Chain>>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "wire.Tower")]
struct Tower(Vec<Tower>);

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    on_default_stack(|| {
        let err = decode_err::<Value>(&nested_lists(100_000));
        assert!(err.contains("nested too deep"), "{err}");
        // Dicts: key None, value the next dict.
        let mut bytes = envelope("value");
        for _ in 0..100_000 {
            bytes.extend_from_slice(&[18, 1, 0]);
        }
        bytes.push(0);
        assert!(decode_err::<Value>(&bytes).contains("nested too deep"));
        // Typed recursion: options, sequences, enums.
        let chain = message(
            "wire.Chain",
            &[&vec![1u8; 100_000][..], &[0u8][..]].concat(),
        );
        assert!(decode_err::<Chain>(&chain).contains("nested too deep"));
        let tower = message(
            "wire.Tower",
            &[&vec![1u8; 100_000][..], &[0u8][..]].concat(),
        );
        assert!(decode_err::<Tower>(&tower).contains("nested too deep"));
        let mut kinds = envelope("fuzz.Kind");
        for _ in 0..100_000 {
            kinds.push(3); // Kind::Nested
            kinds.extend_from_slice(&1.0f64.to_le_bytes());
            kinds.push(1); // one child
        }
        kinds.push(0); // Kind::Empty
        assert!(decode_err::<fuzzed::Kind>(&kinds).contains("nested too deep"));
        // And they stay errors (no panic) wherever they are read.
        for bytes in [nested_lists(100_000), chain, tower, kinds] {
            fuzzed::decode_everything(&bytes);
        }
    });
}

#[test]
fn moderate_nesting_decodes() {
    on_default_stack(|| {
        // Each level of a `Value` takes several KiB of stack in debug builds (the budget
        // stops at about 145 nested lists there, about 880 in release builds).
        let v: Value = from_bytes(&nested_lists(100)).unwrap();
        let mut depth = 0;
        let mut cur = &v;
        while let Value::List(items) = cur {
            depth += 1;
            match items.first() {
                Some(next) => cur = next,
                None => break,
            }
        }
        assert_eq!(depth, 100);
        let mut chain = Chain { next: None };
        for _ in 0..200 {
            chain = Chain {
                next: Some(Box::new(chain)),
            };
        }
        round_trip(&chain, "wire.Chain");
    });
}

// ---------------------------------------------------------------------------------------
// Size against bincode
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "wire.ManyInts")]
struct ManyInts {
    a: u8,
    b: i8,
    c: u16,
    d: i16,
    e: u32,
    f: i32,
    g: u64,
    h: i64,
    i: u32,
    j: i32,
    k: u64,
    l: i64,
    m: u16,
    n: i16,
    o: usize,
    p: isize,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "wire.Samples")]
struct Samples {
    values: Vec<f64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "wire.Grid")]
struct Grid {
    #[serde(with = "anam::array")]
    data: Array2<f64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "wire.Team")]
struct Team {
    lead: SimplePerson,
    members: Vec<SimplePerson>,
    address: Address,
    scores: BTreeMap<String, u32>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "wire.Event")]
struct Event {
    id: u64,
    when: Option<i64>,
    note: Option<String>,
    place: Option<Address>,
    shape: Shape,
    shapes: Vec<Shape>,
    flag: bool,
    letter: char,
}

/// The envelope's encoded length: the tag's varint length and its bytes.
fn envelope_len(bytes: &[u8]) -> usize {
    envelope(&tag_of(bytes).unwrap()).len()
}

#[test]
fn the_body_is_no_larger_than_bincode() {
    fn row<T: Serialize>(name: &str, value: &T) -> (String, usize, usize, usize) {
        let wire = to_bytes(value).unwrap();
        let bin = bincode::serde::encode_to_vec(value, bincode::config::standard()).unwrap();
        (name.to_string(), wire.len(), envelope_len(&wire), bin.len())
    }
    let team = Team {
        lead: fred(),
        members: (0..10)
            .map(|i| SimplePerson {
                name: format!("member {i}"),
                age: 20 + i,
            })
            .collect(),
        address: Address {
            street: "1 Main St".into(),
            city: "Leeds".into(),
            zip: 70_000,
        },
        scores: (0..5).map(|i| (format!("game{i}"), i * 100)).collect(),
    };
    let event = Event {
        id: 123_456,
        when: Some(-5),
        note: None,
        place: Some(team.address.clone()),
        shape: Shape::Rect(1.0, 2.0),
        shapes: all_types().shapes,
        flag: true,
        letter: '€',
    };
    let many = ManyInts {
        a: 1,
        b: -1,
        c: 2,
        d: -2,
        e: 3,
        f: -3,
        g: 4,
        h: -4,
        i: 300,
        j: -300,
        k: 70_000,
        l: -70_000,
        m: 5,
        n: 6,
        o: 7,
        p: -8,
    };
    let grid = Array2::from_shape_fn((100, 100), |(i, j)| (i * 100 + j) as f64 / 7.0);
    let rows = vec![
        row("SimplePerson {name, age}", &fred()),
        row("16 small ints", &many),
        row(
            "Vec<f64> x 1000",
            &Samples {
                values: (0..1000).map(|i| i as f64 * 0.1).collect(),
            },
        ),
        row(
            "100x100 f64 (with-module field)",
            &Grid { data: grid.clone() },
        ),
        row("100x100 f64 (with-module, top level)", &Arr(grid)),
        row("nested structs (Team)", &team),
        row("Option/enum fields (Event)", &event),
        row("every data model type (AllTypes)", &all_types()),
        row(
            "class with bcast_only (Probe, no Values)",
            &Probe {
                extra: ExtraData::new(),
                ..Probe::new("p")
            },
        ),
        row(
            "Vec<i64> x 1000",
            &(0..1000i64).map(|i| i * i * i).collect::<Vec<_>>(),
        ),
        row("String", &"hello world".to_string()),
    ];
    println!(
        "\n{:<42} {:>8} {:>9} {:>8} {:>9} {:>10}",
        "value", "wire", "envelope", "body", "bincode", "body-bin"
    );
    for (name, wire, env, bin) in &rows {
        println!(
            "{name:<42} {wire:>8} {env:>9} {:>8} {bin:>9} {:>+10}",
            wire - env,
            (wire - env) as i64 - *bin as i64
        );
    }
    for (name, wire, env, bin) in &rows {
        assert!(
            wire <= &(bin + env),
            "{name}: {wire} bytes on the wire, bincode {bin} + envelope {env}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Fuzzing
// ---------------------------------------------------------------------------------------

/// The types and the decoding function of `fuzz/fuzz_targets/from_bytes.rs`: keep the two
/// in sync (the fuzz crate cannot depend on the test).
#[path = "../fuzz/fuzzed.rs"]
mod fuzzed;

/// Valid messages of the fuzzed types: the seed corpus of `cargo fuzz`.
fn fuzz_seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    let mut chained = fuzzed::record(2);
    chained.next = Some(Box::new(fuzzed::record(1)));
    for record in [fuzzed::record(0), fuzzed::record(1), chained] {
        seeds.push(to_bytes(&record).unwrap());
    }
    seeds.push(to_bytes(&Store::new()).unwrap());
    seeds.push(to_bytes(&fuzzed::store()).unwrap());
    seeds.push(to_bytes(&fuzzed::sensor(0)).unwrap());
    seeds.push(to_bytes(&fuzzed::sensors()).unwrap());
    seeds.push(to_bytes(&fuzzed::Sensors::new()).unwrap());
    seeds.push(nested_lists(3));
    seeds.push(to_bytes(&Value::List(every_value())).unwrap());
    seeds.extend(every_value().iter().map(|v| to_bytes(v).unwrap()));
    seeds
}

/// Messages for the smoke test to mutate: the fuzz seeds and the untrusted-input selection.
fn seed_messages() -> Vec<Vec<u8>> {
    let mut seeds = fuzz_seeds();
    seeds.extend(selection().into_iter().map(|(_, b, _)| b));
    seeds
}

/// Tags a fuzzed input may start with.
const TAGS: &[&str] = &[
    "value",
    "seq",
    "map",
    "tuple",
    "option",
    "unit",
    "array",
    "str",
    "bytes",
    "fuzz.Record",
    "fuzz.Kind",
    "fuzz.Sensor",
    "fuzz.Sensors",
    "anamnesis.store.Store",
    "samples.Probe",
    "samples.Lab",
];

/// Bytes the format gives a meaning: varint markers, type bytes, option markers.
const INTERESTING: &[u8] = &[
    0, 1, 2, 0x7f, 0x80, 16, 17, 18, 19, 20, 250, 251, 252, 253, 254, 255,
];

/// xorshift64: reproducible pseudo-random numbers.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// A number below `n` (> 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn byte(&mut self) -> u8 {
        match self.below(4) {
            0 => INTERESTING[self.below(INTERESTING.len())],
            1 => self.below(32) as u8,
            _ => self.next() as u8,
        }
    }
}

/// A random input: an envelope (usually a known tag) and random bytes.
fn random_input(rng: &mut XorShift) -> Vec<u8> {
    let mut input = match rng.below(4) {
        0 => Vec::new(),
        _ => envelope(TAGS[rng.below(TAGS.len())]),
    };
    for _ in 0..rng.below(96) {
        input.push(rng.byte());
    }
    input
}

/// A valid message with one to four random mutations.
fn mutated_input(rng: &mut XorShift, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut m = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let len = m.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                m[i] = rng.byte();
            }
            1 if len > 0 => {
                let i = rng.below(len);
                m[i] ^= 1 << rng.below(8);
            }
            2 => {
                let b = rng.byte();
                m.insert(rng.below(len + 1), b);
            }
            3 if len > 0 => {
                m.remove(rng.below(len));
            }
            4 => m.truncate(rng.below(len + 1)),
            5 if len > 0 => {
                // Repeat a chunk in place.
                let start = rng.below(len);
                let end = (start + 1 + rng.below(32)).min(len);
                let chunk = m[start..end].to_vec();
                let at = rng.below(len + 1);
                m.splice(at..at, chunk);
            }
            6 => {
                // This message's head, another's tail.
                let other = &seeds[rng.below(seeds.len())];
                let head = rng.below(len + 1);
                let tail = rng.below(other.len() + 1);
                m.truncate(head);
                m.extend_from_slice(&other[tail..]);
            }
            _ if len > 0 => {
                // A varint of an awkward size.
                let v = [u64::MAX, 1 << 40, 1 << 32, 65_536, 251, 250, 4097][rng.below(7)];
                let i = rng.below(len);
                let end = (i + 1 + rng.below(9)).min(len);
                m.splice(i..end, varint(v));
            }
            _ => {}
        }
    }
    m.truncate(1 << 16);
    m
}

/// Decodes pseudo-random and mutated inputs as every fuzzed type for `ANAM_FUZZ_SECONDS`
/// (default 60) and fails on the first panic, printing the input. `ANAM_FUZZ_SEED` picks
/// the sequence. `make fuzz` runs it (in release, with debug assertions and overflow
/// checks) when `cargo fuzz` cannot run for want of a nightly toolchain.
#[test]
#[ignore = "bounded fuzzing, for `make fuzz`: cargo test --release --test wire -- --ignored fuzz_smoke"]
fn fuzz_smoke() {
    let seconds: u64 = std::env::var("ANAM_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let seed: u64 = std::env::var("ANAM_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x9E37_79B9_7F4A_7C15)
        .max(1);
    let seeds = seed_messages();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut rng = XorShift(seed);
    let mut inputs = 0u64;
    let mut decoded = 0u64;
    on_default_stack(move || {
        while Instant::now() < deadline {
            for _ in 0..64 {
                let input = if rng.below(4) == 0 {
                    random_input(&mut rng)
                } else {
                    mutated_input(&mut rng, &seeds)
                };
                match catch_unwind(|| fuzzed::decode_everything(&input)) {
                    Ok(types) => decoded += u64::from(types > 0),
                    Err(_) => panic!(
                        "fuzz_smoke (ANAM_FUZZ_SEED={seed}): input {inputs} panicked: {input:02x?}"
                    ),
                }
                inputs += 1;
            }
        }
        println!(
            "fuzz_smoke: {inputs} inputs in {seconds} s (ANAM_FUZZ_SEED={seed}), \
             {decoded} of them decoded as some type; no panic"
        );
    });
}

/// Writes the seed messages into the directory `ANAM_FUZZ_CORPUS` (`make fuzz` seeds the
/// corpus of `cargo fuzz` with them).
#[test]
#[ignore = "for `make fuzz`: writes the seed corpus into $ANAM_FUZZ_CORPUS"]
fn fuzz_write_corpus() {
    let Ok(dir) = std::env::var("ANAM_FUZZ_CORPUS") else {
        panic!("set ANAM_FUZZ_CORPUS to the corpus directory");
    };
    std::fs::create_dir_all(&dir).unwrap();
    for (i, seed) in fuzz_seeds().iter().enumerate() {
        std::fs::write(
            std::path::Path::new(&dir).join(format!("seed-{i:03}")),
            seed,
        )
        .unwrap();
    }
}

#[test]
fn the_fuzz_helpers_start_from_valid_messages() {
    // Each seed of the fuzz corpus decodes as one of the fuzzed types at least.
    for seed in fuzz_seeds() {
        let tag = tag_of(&seed).unwrap();
        assert!(
            fuzzed::decode_everything(&seed) > 0,
            "a `{tag}` seed decodes"
        );
    }
    assert!(decodes::<fuzzed::Record>(
        &to_bytes(&fuzzed::record(1)).unwrap()
    ));
    let sensor: fuzzed::Sensor = encode_decode(&fuzzed::sensor(0));
    assert_eq!(sensor.loads, 1);
    assert_eq!(sensor.cache, [0.5]);
    // A short run of the smoke test's generators, so that they stay exercised.
    let seeds = seed_messages();
    let mut rng = XorShift(1);
    for _ in 0..2000 {
        let input = if rng.below(4) == 0 {
            random_input(&mut rng)
        } else {
            mutated_input(&mut rng, &seeds)
        };
        no_panic("generated", &input, || {
            fuzzed::decode_everything(&input);
            true
        });
    }
}
