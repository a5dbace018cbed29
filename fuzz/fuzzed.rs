//! The decoders the fuzz target exercises, shared by `fuzz/fuzz_targets/from_bytes.rs` and
//! the stable replay test in `tests/wire.rs` (`fuzz_smoke`), so the two cannot drift apart.
#![allow(dead_code)]

use std::collections::BTreeMap;

use anam::{ExtraData, Store, Value};
use ndarray::{Array1, Array2, ArrayD};
use num_complex::Complex32;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

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

// Sample values (test side only).

pub fn record(i: usize) -> Record {
    Record {
        name: format!("record {i}"),
        tags: vec!["a".into(), "é".into()],
        maybe: Some(-(i as i64)),
        next: None,
        kind: Kind::Nested {
            weight: 0.5,
            children: vec![Kind::Empty, Kind::Count(300), Kind::Pair(-1, "p".into())],
        },
        raw: vec![0, 1, 255],
        table: BTreeMap::from([("t".into(), vec![1, 65_535])]),
        grid: ArrayD::from_shape_vec(vec![2, 1], vec![1.0, f64::NAN]).unwrap(),
        flags: Array1::from(vec![true, false]),
        waves: (i % 2 == 1).then(|| Array2::from_elem((1, 2), Complex32::new(1.0, -1.0))),
        value: Value::List(vec![Value::I32(i as i32), Value::from("v")]),
        letter: '😀',
        wide: (i128::MIN, u128::MAX),
        ratio: 0.25,
        unit: (),
    }
}

pub fn store() -> Store {
    let mut s = Store::new();
    s.insert("airport_from", "Manchester");
    s.insert("gate", 12i64);
    s.insert("list", Value::List(vec![Value::None, Value::Unit]));
    s
}

pub fn sensor(i: usize) -> Sensor {
    Sensor {
        label: format!("sensor {i}"),
        samples: Array1::from(vec![i as f64, 2.0]),
        cache: vec![0.5],
        extra: ExtraData::from([("unit".to_string(), Value::from("mV"))]),
        loads: 0,
    }
}

pub fn sensors() -> Sensors {
    (0..2).map(sensor).collect()
}
