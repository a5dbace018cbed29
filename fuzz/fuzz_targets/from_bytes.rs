//! Decodes arbitrary bytes with the wire decoder, as every type below: it must never panic
//! (nor overflow the stack), and whatever decodes must encode again, stably.
//!
//! The types and `decode_everything` are those of the `fuzzed` module of `tests/wire.rs`
//! (whose `fuzz_smoke` test runs them on stable Rust): keep the two in sync.

#![no_main]

use std::collections::BTreeMap;

use anam::{ExtraData, Store, Value};
use libfuzzer_sys::fuzz_target;
use ndarray::{Array1, Array2, ArrayD};
use num_complex::Complex32;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

fuzz_target!(|data: &[u8]| {
    decode_everything(data);
});

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "fuzz.Record")]
pub struct Record {
    pub name: String,
    pub tags: Vec<String>,
    pub maybe: Option<i64>,
    pub next: Option<Box<Record>>,
    pub kind: Kind,
    #[serde(with = "serde_bytes")]
    pub raw: Vec<u8>,
    pub table: BTreeMap<String, Vec<u16>>,
    #[serde(with = "anam::array")]
    pub grid: ArrayD<f64>,
    #[serde(with = "anam::array")]
    pub flags: Array1<bool>,
    #[serde(with = "anam::array::option")]
    pub waves: Option<Array2<Complex32>>,
    pub value: Value,
    pub letter: char,
    pub wide: (i128, u128),
    pub ratio: f32,
    pub unit: (),
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "fuzz.Kind")]
pub enum Kind {
    Empty,
    Count(u32),
    Pair(i8, String),
    Nested { weight: f64, children: Vec<Kind> },
}

#[anam::class(class = "fuzz.Sensor", init = Sensor::loaded)]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Sensor {
    pub label: String,
    #[serde(with = "anam::array")]
    pub samples: Array1<f64>,
    #[anam(bcast_only)]
    pub cache: Vec<f64>,
    #[anam(extra_data)]
    pub extra: ExtraData,
    #[serde(skip)]
    pub loads: u32,
}

impl Sensor {
    fn loaded(&mut self) {
        self.loads += 1;
    }
}

anam::collection! {
    pub Sensors: "fuzz.Sensors", kind SensorsKind, of Sensor, combine [samples]
}

/// Decodes `data` as every fuzzed type: never panics; whatever decodes encodes again,
/// to bytes that decode and encode to the same bytes. Returns how many of the types
/// `data` decoded as.
pub fn decode_everything(data: &[u8]) -> usize {
    let _ = anam::wire::tag_of(data);
    let mut decoded = stable::<Value>(data)
        + stable::<Record>(data)
        + stable::<Store>(data)
        + stable::<Sensors>(data);
    if let Ok(object) = anam::wire::object_from_bytes(data) {
        let once = anam::wire::to_bytes(&*object).expect("a decoded object encodes");
        let back = anam::wire::object_from_bytes(&once).expect("its encoding decodes");
        let twice = anam::wire::to_bytes(&*back).expect("and encodes");
        assert_eq!(once, twice, "the encoding of a decoded object is stable");
        decoded += 1;
    }
    decoded
}

fn stable<T: Serialize + DeserializeOwned>(data: &[u8]) -> usize {
    let Ok(value) = anam::wire::from_bytes::<T>(data) else {
        return 0;
    };
    let once = anam::wire::to_bytes(&value).expect("a decoded value encodes");
    let back: T = anam::wire::from_bytes(&once).expect("its encoding decodes");
    let twice = anam::wire::to_bytes(&back).expect("and encodes");
    assert_eq!(once, twice, "the encoding of a decoded value is stable");
    1
}
