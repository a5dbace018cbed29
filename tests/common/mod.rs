//! Rust mirrors of the Python classes that wrote the fixtures
//! (tests/fixtures/generator/classes), shared by the fixture, dynamic-loading and interop
//! tests, and the fixtures' manifest.
//!
//! The tutorial classes here are plain Serde types (not registered): `tests/dynamic.rs`
//! registers its own, those of `examples/classes`. The `fixture_classes` ones that are
//! `#[anam::class]` serve both typed and dynamic loading.
#![allow(dead_code)]

use ndarray::{Array1, Array2, Array3, ArrayD};
use num_complex::{Complex32, Complex64};
use serde::{Deserialize, Serialize};

pub use dynamic::Dyn;
#[allow(unused_imports)] // not every binary that includes `common` reads the manifest
pub use manifest::*;

mod dynamic;
pub mod manifest;

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "test_classes1.SimplePerson")]
pub struct SimplePerson {
    pub name: String,
    pub age: i64,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "test_classes2.ComplexPerson")]
pub struct ComplexPerson {
    pub name: String,
    pub age: i64,
}

// Tutorial 2's alias, declared until the `Anam` derive registers aliases itself.
anam::alias!("test_classes2.OldComplexPerson" => "test_classes2.ComplexPerson");

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "test_classes2.ComplexPlace")]
pub struct ComplexPlace {
    pub location: String,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "test_classes2.ComplexTrain")]
pub struct ComplexTrain {
    pub destination: String,
}

/// `ComplexPerson` with the extra data of tutorial 2 as plain fields.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "test_classes2.ComplexPerson")]
pub struct ComplexPersonWithExtra {
    pub name: String,
    pub age: i64,
    pub hometown: String,
    #[serde(with = "anam::array")]
    pub visits: Array1<i32>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "test_classes3.CollectableSubjectStats")]
pub struct CollectableSubjectStats {
    #[serde(with = "anam::array")]
    pub zstats: Array2<f64>,
    #[serde(with = "anam::array")]
    pub rts: Array1<f64>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "test_classes3.StatsCollection")]
pub struct StatsCollection {
    pub members: Vec<CollectableSubjectStats>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "anamnesis.store.Store")]
pub struct AirportStore {
    pub airport_from: String,
    pub airport_to: String,
    pub gate: i64,
    #[serde(with = "anam::array")]
    pub delays: Array1<f64>,
}

#[anam::class(class = "fixture_classes.ArrayHolder", default_group = "arrays")]
#[derive(Serialize, Deserialize, Debug)]
pub struct ArrayHolder {
    #[serde(with = "anam::array")]
    pub i8: Array2<i8>,
    #[serde(with = "anam::array")]
    pub i16: Array2<i16>,
    #[serde(with = "anam::array")]
    pub i32: Array2<i32>,
    #[serde(with = "anam::array")]
    pub i64: Array2<i64>,
    #[serde(with = "anam::array")]
    pub u8: Array2<u8>,
    #[serde(with = "anam::array")]
    pub u16: Array2<u16>,
    #[serde(with = "anam::array")]
    pub u32: Array2<u32>,
    #[serde(with = "anam::array")]
    pub u64: Array2<u64>,
    #[serde(with = "anam::array")]
    pub f32: Array2<f32>,
    #[serde(with = "anam::array")]
    pub f64: Array2<f64>,
    #[serde(with = "anam::array")]
    pub c64: Array2<Complex32>,
    #[serde(with = "anam::array")]
    pub c128: Array2<Complex64>,
    #[serde(with = "anam::array")]
    pub b: Array2<bool>,
    #[serde(with = "anam::array")]
    pub empty0d: ArrayD<f64>,
    #[serde(with = "anam::array")]
    pub empty1d: Array1<f64>,
    #[serde(with = "anam::array")]
    pub empty2d: Array2<f64>,
    #[serde(with = "anam::array")]
    pub empty3d_f32: Array3<f32>,
    #[serde(with = "anam::array")]
    pub empty3d_i16: Array3<i16>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "fixture_classes.Scalars")]
pub struct Scalars {
    pub an_int: i64,
    pub a_float: f64,
    pub a_str: String,
    pub a_bool: bool,
    pub a_none: Option<i64>,
    pub neg: i32,
    pub big: u64,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "fixture_classes.ExampleWriter")]
pub struct ExampleWriter {
    pub dat: Option<Dyn>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "fixture_classes.ExampleWriter")]
pub struct StringsWriter {
    pub dat: Vec<String>,
}

/// The legacy list holder: `dat` is a `LISTS` member of ExampleWriter objects.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "fixture_classes.ExampleWriter")]
pub struct OldListHolder {
    pub dat: Vec<IntWriter>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "fixture_classes.ExampleWriter")]
pub struct IntWriter {
    pub dat: i64,
}

#[anam::class(class = "fixture_classes.NameMapped", default_group = "nmap")]
#[derive(Serialize, Deserialize, Debug)]
pub struct NameMapped {
    /// Python's `_order`, stored as `order` with a `namemaps` attribute.
    #[anam(name = "order")]
    #[serde(with = "anam::as_list")]
    pub _order: Vec<i64>,
    pub plain: String,
}

#[anam::class(class = "fixture_classes.Parent", default_group = "parent")]
#[derive(Serialize, Deserialize, Debug)]
pub struct Parent {
    pub child: Option<Child>,
    pub label: String,
}

/// A member whose class varies: an internally tagged enum on the `class` attribute.
#[derive(Serialize, Deserialize, Debug)]
#[serde(tag = "class")]
pub enum Child {
    #[serde(rename = "fixture_classes.Parent")]
    Parent(Box<Parent>),
    #[serde(rename = "test_classes1.SimplePerson")]
    Person(SimplePerson),
}

/// Checks `nested.hdf5`'s `parent` against its manifest entry `m`: a Parent holding a
/// Parent holding a SimplePerson.
pub fn check_nested(m: &serde_json::Value, outer: Parent) {
    assert_eq!(m["label"], outer.label);
    let Some(Child::Parent(inner)) = outer.child else {
        panic!("the outer child is a Parent")
    };
    assert_eq!(m["child"]["class"], "fixture_classes.Parent");
    assert_eq!(m["child"]["label"], inner.label);
    let Some(Child::Person(kid)) = inner.child else {
        panic!("the inner child is a SimplePerson")
    };
    let k = &m["child"]["child"];
    assert_eq!(k["class"], "test_classes1.SimplePerson");
    assert_eq!(k["name"], kid.name);
    assert_eq!(k["age"], kid.age);
}
