//! Sample values and classes shared by the round-trip tests of the wire format and of MPI
//! (`tests/wire.rs`, `tests/mpi.rs`, `tests/mpi_local.rs`).
//!
//! Included on its own with `#[path = "common/samples.rs"] mod samples;` (not through
//! `mod common;`), so that its classes are registered only in the binaries that use them.
#![allow(dead_code)]

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt::Debug;

use anam::{Element, ExtraData, Value};
use ndarray::{Array2, ArrayD, IxDyn};
use num_complex::Complex;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------
// Every type of the Serde data model
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "samples.Unit")]
pub struct UnitStruct;

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "samples.Meters")]
pub struct Meters(pub f64);

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "samples.Rgb")]
pub struct Rgb(pub u8, pub u8, pub u8);

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "samples.Shape")]
pub enum Shape {
    Point,
    Circle(f64),
    Rect(f32, f32),
    Polygon {
        corners: Vec<(i32, i32)>,
        label: Option<String>,
    },
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "samples.Address")]
pub struct Address {
    pub street: String,
    pub city: String,
    pub zip: u32,
}

/// One field of every type of the Serde data model.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "samples.AllTypes")]
pub struct AllTypes {
    pub b: bool,
    pub i8: i8,
    pub i16: i16,
    pub i32: i32,
    pub i64: i64,
    pub i128: i128,
    pub u8: u8,
    pub u16: u16,
    pub u32: u32,
    pub u64: u64,
    pub u128: u128,
    pub f32: f32,
    pub f64: f64,
    pub c: char,
    pub s: String,
    #[serde(with = "serde_bytes")]
    pub bytes: Vec<u8>,
    pub opt_some: Option<i32>,
    pub opt_none: Option<String>,
    pub opt_nested: Option<Option<u8>>,
    pub unit: (),
    pub unit_struct: UnitStruct,
    pub newtype: Meters,
    pub tuple_struct: Rgb,
    pub tuple: (u8, String, f64),
    pub vec: Vec<i64>,
    pub nested: Vec<Vec<String>>,
    pub map: BTreeMap<String, Vec<u16>>,
    pub shapes: Vec<Shape>,
    pub address: Address,
    pub units: Vec<()>,
}

pub fn all_types() -> AllTypes {
    AllTypes {
        b: true,
        i8: i8::MIN,
        i16: i16::MAX,
        i32: i32::MIN,
        i64: i64::MAX,
        i128: i128::MIN,
        u8: u8::MAX,
        u16: 251,
        u32: u32::MAX,
        u64: u64::MAX,
        u128: u128::MAX,
        f32: f32::NEG_INFINITY,
        f64: -0.1,
        c: '😀',
        s: "Zürich € 😀".into(),
        bytes: (0..=255).collect(),
        opt_some: Some(-7),
        opt_none: None,
        opt_nested: Some(None),
        unit: (),
        unit_struct: UnitStruct,
        newtype: Meters(1.5),
        tuple_struct: Rgb(1, 2, 255),
        tuple: (9, "nine".into(), 9.5),
        vec: vec![0, -1, 250, 251, 65_536, i64::MIN],
        nested: vec![vec![], vec!["a".into(), String::new()], vec!["é".into()]],
        map: BTreeMap::from([("a".into(), vec![1, 2]), ("".into(), vec![])]),
        shapes: vec![
            Shape::Point,
            Shape::Circle(2.0),
            Shape::Rect(1.0, -1.0),
            Shape::Polygon {
                corners: vec![(0, 0), (-1, 1)],
                label: Some("tri".into()),
            },
        ],
        address: Address {
            street: "1 Main St".into(),
            city: "Leeds".into(),
            zip: 70_000,
        },
        units: vec![(), (), ()],
    }
}

// ---------------------------------------------------------------------------------------
// Arrays
// ---------------------------------------------------------------------------------------

/// Distinct values of an element type, extremes first.
pub trait Sample: Element + PartialEq + Debug + Clone {
    fn sample(i: usize) -> Self;
}

impl Sample for bool {
    fn sample(i: usize) -> bool {
        i % 3 == 1
    }
}

macro_rules! sample_ints {
    ($($t:ty),*) => {$(
        impl Sample for $t {
            fn sample(i: usize) -> $t {
                match i {
                    0 => <$t>::MIN,
                    1 => <$t>::MAX,
                    _ => (i as $t).wrapping_mul(37).wrapping_sub(20),
                }
            }
        }
    )*};
}
sample_ints!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! sample_floats {
    ($($t:ident),*) => {$(
        impl Sample for $t {
            fn sample(i: usize) -> $t {
                match i {
                    0 => $t::MIN,
                    1 => $t::MAX,
                    2 => $t::INFINITY,
                    3 => $t::NEG_INFINITY,
                    4 => $t::MIN_POSITIVE / 4.0,
                    _ => i as $t * 0.37 - 3.0,
                }
            }
        }
    )*};
}
sample_floats!(f32, f64);

impl<F: Sample> Sample for Complex<F>
where
    Complex<F>: Element,
{
    fn sample(i: usize) -> Complex<F> {
        Complex::new(F::sample(i), F::sample(i + 7))
    }
}

/// Shapes of ranks 0 to 4, empty ones included.
pub const SHAPES: &[&[usize]] = &[
    &[],
    &[0],
    &[1],
    &[7],
    &[2, 3],
    &[0, 3],
    &[3, 0],
    &[2, 3, 4],
    &[2, 0, 4],
    &[0, 0, 0],
    &[1, 2, 3, 2],
    &[2, 2, 0, 2],
];

pub fn sample_array<T: Sample>(shape: &[usize]) -> ArrayD<T> {
    let mut i = 0;
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        i += 1;
        T::sample(i - 1)
    })
}

/// An array of a little more than 1 MiB (it travels apart from an MPI message), of shape
/// `(rows, 7)`, with values depending on `seed`.
pub fn big_array<T: Sample>(seed: usize) -> ArrayD<T> {
    let elements = (1 << 20) / std::mem::size_of::<T>() + 1000;
    let rows = elements.div_ceil(7);
    Array2::from_shape_fn((rows, 7), |(i, j)| T::sample((i * 7 + j) * 3 + seed)).into_dyn()
}

// ---------------------------------------------------------------------------------------
// Classes: bcast_only members, an init hook, nesting, a collection
// ---------------------------------------------------------------------------------------

thread_local! {
    /// `Probe::loaded` runs on this thread so far (tests run in parallel, each on a thread).
    static HOOK_RUNS: Cell<usize> = const { Cell::new(0) };
}

/// Runs of `Probe::loaded` on this thread.
pub fn hook_runs() -> usize {
    HOOK_RUNS.get()
}

#[anam::class(class = "samples.Probe", default_group = "probe", init = Probe::loaded)]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Probe {
    pub name: String,
    pub age: i64,
    /// Sent over MPI (and so by the wire format), never written to HDF5.
    #[anam(bcast_only)]
    pub cache: Vec<f64>,
    #[anam(bcast_only)]
    pub note: Option<String>,
    #[anam(extra_data)]
    pub extra: ExtraData,
    /// Not sent: counts the hook's runs on this object.
    #[serde(skip)]
    pub loads: u32,
}

impl Probe {
    pub fn new(name: &str) -> Probe {
        Probe {
            name: name.into(),
            age: 42,
            cache: vec![1.5, -2.5, f64::INFINITY],
            note: Some("scratch".into()),
            extra: ExtraData::from([
                ("colour".to_string(), Value::from("blue")),
                (
                    "grid".to_string(),
                    Value::from(sample_array::<u16>(&[2, 2])),
                ),
            ]),
            loads: 0,
        }
    }

    fn loaded(&mut self) {
        self.loads += 1;
        HOOK_RUNS.set(HOOK_RUNS.get() + 1);
    }

    /// Equal but for `loads`.
    pub fn same(&self, other: &Probe) -> bool {
        Probe {
            loads: 0,
            ..self.clone()
        } == Probe {
            loads: 0,
            ..other.clone()
        }
    }

    /// Checks that this is a copy of `Probe::new(name)`, its bcast_only members included.
    pub fn check(&self, name: &str, loads: u32) {
        assert!(self.same(&Probe::new(name)), "{self:?}");
        assert_eq!(self.cache, [1.5, -2.5, f64::INFINITY], "bcast_only member");
        assert_eq!(self.note.as_deref(), Some("scratch"), "bcast_only member");
        assert_eq!(self.loads, loads, "hook runs on {name}");
    }
}

#[anam::class(class = "samples.Lab")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Lab {
    pub lead: Probe,
    pub team: Vec<Probe>,
    pub by_name: BTreeMap<String, Probe>,
    pub spare: Option<Probe>,
}

pub fn lab() -> Lab {
    Lab {
        lead: Probe::new("lead"),
        team: vec![Probe::new("a"), Probe::new("b")],
        by_name: BTreeMap::from([("c".to_string(), Probe::new("c"))]),
        spare: Some(Probe::new("spare")),
    }
}

#[anam::class(class = "samples.Stats")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Stats {
    #[serde(with = "anam::array")]
    pub zstats: Array2<f64>,
    pub rt: f64,
}

anam::collection! {
    /// A collection stacking both fields of its members.
    pub StatsCollection: "samples.StatsCollection", kind StatsKind, of Stats, combine [zstats, rt]
}

pub fn stats(i: usize) -> Stats {
    Stats {
        zstats: Array2::from_shape_fn((2, 2), |(a, b)| (i * 10 + a * 2 + b) as f64),
        rt: i as f64 / 2.0,
    }
}
