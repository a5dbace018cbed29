//! Dynamic loading: every fixture written by Python anamnesis 1.0.4 loads through
//! `anam::obj_from_file` as the registered Rust class its `class` tag names (`#[anam::class]`
//! mirrors), with every manifest value checked after `downcast`; unknown tags and hints.

use anam::{AnamObject, DType, Store, TypedArray, Value};
use ndarray::{Array2, ArrayD};
use num_complex::{Complex32, Complex64};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------
// Mirrors of the Python classes (tests/fixtures/generator/classes): the tutorial modules
// are those of the examples, the `fixture_classes` ones those of `tests/common` but for
// the two below.
// ---------------------------------------------------------------------------------------

mod common;
#[path = "../examples/classes/test_classes1.rs"]
mod test_classes1;
#[path = "../examples/classes/test_classes2.rs"]
mod test_classes2;
#[path = "../examples/classes/test_classes3.rs"]
mod test_classes3;

use common::{
    check_nested, check_tutorial3_formulas, check_tutorial3_member, close, entry, fixture,
    linspace, manifest, ArrayHolder, NameMapped, Parent,
};
use test_classes1::SimplePerson;
use test_classes2::{ComplexPerson, ComplexPlace, ComplexTrain};
use test_classes3::StatsCollection;

/// Python's `Scalars`, its integers read as `i64` (`tests/common` reads them narrower).
#[anam::class(class = "fixture_classes.Scalars", default_group = "scalars")]
#[derive(Serialize, Deserialize, Debug)]
pub struct Scalars {
    pub an_int: i64,
    pub a_float: f64,
    pub a_str: String,
    pub a_bool: bool,
    pub a_none: Option<i64>,
    pub neg: i64,
    pub big: i64,
}

/// Python's `ExampleWriter`, whose `dat` may be anything.
#[anam::class(class = "fixture_classes.ExampleWriter")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ExampleWriter {
    pub dat: Value,
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn obj(file: &str, group: &str) -> Box<dyn AnamObject> {
    anam::obj_from_file(fixture(file), Some(group))
        .unwrap_or_else(|e| panic!("obj_from_file {file}/{group}: {e}"))
}

/// Loads `file`/`group` dynamically and downcasts it to `T`, checking the class tag.
fn load<T: anam::AnamClass>(file: &str, group: &str) -> T {
    let o = obj(file, group);
    assert_eq!(o.class_tag(), T::CLASS, "{file}/{group}");
    *o.downcast::<T>()
        .unwrap_or_else(|e| panic!("downcast {file}/{group}: {e}"))
}

// ---------------------------------------------------------------------------------------
// Tutorials
// ---------------------------------------------------------------------------------------

#[test]
fn tutorial1() {
    let m = entry("tutorial1.hdf5", "person");
    let p: SimplePerson = load("tutorial1.hdf5", "person");
    assert_eq!(m["class"], "test_classes1.SimplePerson");
    assert_eq!(m["name"], p.name);
    assert_eq!(m["age"], p.age);
    // No group name: the first group of the file.
    let first = anam::obj_from_file(fixture("tutorial1.hdf5"), None).unwrap();
    assert_eq!(first.downcast_ref::<SimplePerson>(), Some(&p));
}

#[test]
fn tutorial2() {
    let file = "tutorial2.hdf5";
    let m = entry(file, "person");
    let p: ComplexPerson = load(file, "person");
    assert_eq!(m["class"], "test_classes2.ComplexPerson");
    assert_eq!(m["name"], p.name);
    assert_eq!(m["age"], p.age);
    assert!(p.extra_data.is_empty(), "{:?}", p.extra_data);
    let place: ComplexPlace = load(file, "place");
    assert_eq!(entry(file, "place")["location"], place.location);
    let train: ComplexTrain = load(file, "train");
    assert_eq!(entry(file, "train")["destination"], train.destination);
    // The first group (`person`) by name order.
    let first = anam::obj_from_file(fixture(file), None).unwrap();
    assert!(first.is::<ComplexPerson>());
}

#[test]
fn tutorial2_aliases() {
    let file = "tutorial2_aliases.hdf5";
    let m = entry(file, "person");
    assert_eq!(m["class (in file)"], "test_classes2.OldComplexPerson");
    let o = obj(file, "person");
    assert_eq!(o.class_tag(), m["loads as"]);
    let p = o.downcast::<ComplexPerson>().unwrap();
    assert_eq!(m["name"], p.name);
    assert_eq!(m["age"], p.age);
    assert!(p.extra_data.is_empty());
}

#[test]
fn tutorial2_extradata() {
    let file = "tutorial2_extradata.hdf5";
    let m = entry(file, "person");
    let p: ComplexPerson = load(file, "person");
    assert_eq!(m["name"], p.name);
    assert_eq!(m["age"], p.age);
    let extra = &m["extra_data"];
    assert_eq!(
        p.extra_data.len(),
        extra.as_object().unwrap().len(),
        "{:?}",
        p.extra_data
    );
    assert_eq!(
        p.extra_data.get("hometown"),
        Some(&Value::Str(extra["hometown"].as_str().unwrap().into()))
    );
    assert_eq!(extra["visits"]["dtype"], "int32");
    let visits: Vec<i32> = serde_json::from_value(extra["visits"]["data"].clone()).unwrap();
    assert_eq!(visits, [1990, 2001, 2024]);
    assert_eq!(
        p.extra_data.get("visits"),
        Some(&Value::Array(TypedArray::I32(
            ArrayD::from_shape_vec(vec![3], visits).unwrap()
        )))
    );
}

#[test]
fn tutorial3_collection() {
    let file = "tutorial3.hdf5";
    let m = entry(file, "data");
    check_tutorial3_formulas(&m);
    let mut c: StatsCollection = load(file, "data");
    assert_eq!(m["members"], c.len());
    for (p, member) in c.iter().enumerate() {
        check_tutorial3_member(p, &member.zstats, &member.rts);
    }

    c.update_cache().unwrap();
    let zshape: Vec<usize> = serde_json::from_value(m["combined zstats shape"].clone()).unwrap();
    let rshape: Vec<usize> = serde_json::from_value(m["combined rts shape"].clone()).unwrap();
    let rts = linspace(0.0, 450.0, 100);
    let z = c.combined("zstats").expect("combined zstats");
    let r = c.combined("rts").expect("combined rts");
    assert_eq!((z.dtype(), z.shape()), (DType::F64, zshape.as_slice()));
    assert_eq!((r.dtype(), r.shape()), (DType::F64, rshape.as_slice()));
    let z = c.combined_as::<f64>("zstats").unwrap().unwrap();
    let r = c.combined_as::<f64>("rts").unwrap().unwrap();
    for i in 0..10 {
        for j in 0..10 {
            for p in 0..5 {
                assert_eq!(z[[i, j, p]], (i * 10 + j) as f64 * 0.5 + p as f64);
            }
        }
    }
    for (k, want) in rts.iter().enumerate() {
        for p in 0..5 {
            assert!(close(r[[k, p]], want + p as f64), "rts[{k},{p}]");
        }
    }
}

#[test]
fn tutorial4_store() {
    let file = "tutorial4.hdf5";
    let m = entry(file, "data");
    assert_eq!(m["class"], "anamnesis.store.Store");
    let s: Store = load(file, "data");
    let extra = &m["extra_data"];
    assert_eq!(s.extra_data.len(), 4, "{:?}", s.extra_data);
    assert_eq!(extra.as_object().unwrap().len(), 4);
    for key in ["airport_from", "airport_to"] {
        assert_eq!(
            s.get(key),
            Some(&Value::Str(extra[key].as_str().unwrap().into())),
            "{key}"
        );
    }
    assert_eq!(
        s.get("gate"),
        Some(&Value::I64(extra["gate"].as_i64().unwrap()))
    );
    assert_eq!(extra["delays"]["dtype"], "float64");
    let delays: Vec<f64> = serde_json::from_value(extra["delays"]["data"].clone()).unwrap();
    assert_eq!(
        s.get("delays"),
        Some(&Value::Array(TypedArray::F64(
            ArrayD::from_shape_vec(vec![3], delays).unwrap()
        )))
    );
}

// ---------------------------------------------------------------------------------------
// The other fixtures
// ---------------------------------------------------------------------------------------

#[test]
fn arrays() {
    let m = entry("arrays.hdf5", "arrays");
    let base: Vec<Vec<i64>> = serde_json::from_value(m["base"].clone()).unwrap();
    let base = Array2::from_shape_fn((2, 3), |(i, j)| base[i][j]);
    let a: ArrayHolder = load("arrays.hdf5", "arrays");
    assert_eq!(a.i8, base.mapv(|x| x as i8));
    assert_eq!(a.i16, base.mapv(|x| x as i16));
    assert_eq!(a.i32, base.mapv(|x| x as i32));
    assert_eq!(a.i64, base);
    assert_eq!(a.u8, base.mapv(|x| x as u8));
    assert_eq!(a.u16, base.mapv(|x| x as u16));
    assert_eq!(a.u32, base.mapv(|x| x as u32));
    assert_eq!(a.u64, base.mapv(|x| x as u64));
    assert_eq!(a.f32, base.mapv(|x| x as f32 / 4.0));
    assert_eq!(a.f64, base.mapv(|x| x as f64 / 8.0));
    assert_eq!(a.c64, base.mapv(|x| Complex32::new(x as f32, x as f32)));
    assert_eq!(a.c128, base.mapv(|x| Complex64::new(x as f64, -2.0)));
    assert_eq!(a.b, base.mapv(|x| x % 2 == 0));
    assert_eq!(a.empty0d.shape(), [0usize; 0]);
    assert_eq!(a.empty1d.shape(), [0]);
    assert_eq!(a.empty2d.shape(), [2, 0]);
    assert_eq!(a.empty3d_f32.shape(), [2, 3, 0]);
    assert_eq!(a.empty3d_i16.shape(), [2, 3, 0]);
}

#[test]
fn scalars() {
    let m = entry("scalars.hdf5", "scalars");
    let s: Scalars = load("scalars.hdf5", "scalars");
    assert_eq!(m["an_int"], s.an_int);
    assert_eq!(m["a_float"], s.a_float);
    assert_eq!(m["a_str"], s.a_str);
    assert_eq!(m["a_bool"], s.a_bool);
    assert!(m["a_none"].is_null() && s.a_none.is_none());
    assert_eq!(m["neg"], s.neg);
    assert_eq!(m["big"], s.big);
}

#[test]
fn containers() {
    let file = "containers.hdf5";
    let w: ExampleWriter = load(file, "lists");
    // [1, [ExampleWriter(dat=5), 2], 'a', 4.5, ExampleWriter(dat='x'), [1, None, 'foo'], [], [[]]]
    assert_eq!(
        entry(file, "lists")["dat"],
        "[1, [ExampleWriter(dat=5), 2], 'a', 4.5, ExampleWriter(dat='x'), [1, None, 'foo'], [], [[]]]"
    );
    let writer = |dat: Value| {
        let mut o = anam::Object::new("fixture_classes.ExampleWriter");
        o.insert("dat", dat);
        Value::Object(o)
    };
    assert_eq!(
        w.dat,
        Value::List(vec![
            Value::I64(1),
            Value::List(vec![writer(Value::I64(5)), Value::I64(2)]),
            Value::from("a"),
            Value::F64(4.5),
            writer(Value::from("x")),
            Value::List(vec![Value::I64(1), Value::None, Value::from("foo")]),
            Value::List(vec![]),
            Value::List(vec![Value::List(vec![])]),
        ])
    );

    let w: ExampleWriter = load(file, "dicts");
    assert_eq!(
        entry(file, "dicts")["dat"],
        "{'A': 1, 'B': 'two', 3: ExampleWriter(dat=3), 'nested': {'c': 99, 'e': [1, 2]}}"
    );
    assert_eq!(
        w.dat,
        Value::Dict(vec![
            (Value::from("A"), Value::I64(1)),
            (Value::from("B"), Value::from("two")),
            (Value::I64(3), writer(Value::I64(3))),
            (
                Value::from("nested"),
                Value::Dict(vec![
                    (Value::from("c"), Value::I64(99)),
                    (
                        Value::from("e"),
                        Value::List(vec![Value::I64(1), Value::I64(2)])
                    ),
                ])
            ),
        ])
    );

    let w: ExampleWriter = load(file, "strings");
    let want: Vec<String> = serde_json::from_value(entry(file, "strings")["dat"].clone()).unwrap();
    assert_eq!(
        w.dat,
        Value::List(want.into_iter().map(Value::Str).collect())
    );
}

#[test]
fn oldlist() {
    let m = entry("oldlist.hdf5", "holder");
    assert_eq!(
        m["dat"],
        "[ExampleWriter(dat=1), ExampleWriter(dat=2), ExampleWriter(dat=3)] (legacy LISTS layout)"
    );
    let h: ExampleWriter = load("oldlist.hdf5", "holder");
    let items = h.dat.as_list().expect("dat is a list");
    assert_eq!(items.len(), 3);
    for (i, item) in items.iter().enumerate() {
        let o = item.as_object().expect("an ExampleWriter");
        assert_eq!(o.class, "fixture_classes.ExampleWriter");
        assert_eq!(o.get("dat"), Some(&Value::I64(i as i64 + 1)));
    }
}

#[test]
fn namemap() {
    let m = entry("namemap.hdf5", "nmap");
    let n: NameMapped = load("namemap.hdf5", "nmap");
    let want: Vec<i64> =
        serde_json::from_value(m["python attribute _order, stored as order"].clone()).unwrap();
    assert_eq!(n._order, want);
    assert_eq!(m["plain"], n.plain);
}

#[test]
fn nested() {
    let m = entry("nested.hdf5", "parent");
    let outer: Parent = load("nested.hdf5", "parent");
    check_nested(&m, outer);
}

#[test]
fn badclass() {
    let m = entry("badclass.hdf5", "store");
    let class = m["class"].as_str().unwrap();
    assert_eq!(class, "deliberately.missing.Class");
    for group in [Some("store"), None] {
        let err = anam::obj_from_file(fixture("badclass.hdf5"), group).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(class), "{msg}");
        assert!(msg.contains("/store"), "{msg}");
        assert_eq!(err.path(), Some("/store"), "{msg}");
        assert!(
            matches!(err.kind(), anam::ErrorKind::UnknownClass(t) if t == class),
            "{err:?}"
        );
    }
}

/// Every fixture file and group of the manifest is loaded above.
#[test]
fn every_fixture_loads_dynamically() {
    let m = manifest();
    for (file, groups) in m.as_object().unwrap() {
        for group in groups.as_object().unwrap().keys() {
            let result = anam::obj_from_file(fixture(file), Some(group));
            assert_eq!(
                result.is_err(),
                file == "badclass.hdf5",
                "{file}/{group}: {result:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Hints
// ---------------------------------------------------------------------------------------

#[anam::class(class = "hinted.NewTag")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct NewTag {
    pub x: i64,
    pub label: String,
}

/// What an older program wrote (not a class: it only writes the old tag).
#[derive(Serialize)]
#[serde(rename = "hinted.OldTag")]
struct OldTag {
    x: i64,
    label: String,
}

#[test]
fn hint_loads_an_old_tag_as_the_new_class() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hint.hdf5");
    anam::to_file(
        &path,
        "old",
        &OldTag {
            x: 7,
            label: "seven".into(),
        },
    )
    .unwrap();
    let expected = NewTag {
        x: 7,
        label: "seven".into(),
    };

    // Before the hint: an unknown class for obj_from_file, a mismatch for from_file.
    let err = anam::obj_from_file(&path, Some("old")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("hinted.OldTag") && msg.contains("/old"),
        "{msg}"
    );
    let err = anam::from_file::<NewTag>(&path, Some("old")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("hinted.OldTag") && msg.contains("hinted.NewTag") && msg.contains("/old"),
        "{msg}"
    );

    anam::registry::add_hint("hinted.OldTag", "hinted.NewTag");
    let o = anam::obj_from_file(&path, Some("old")).unwrap();
    assert_eq!(o.class_tag(), "hinted.NewTag");
    assert_eq!(*o.downcast::<NewTag>().unwrap(), expected);
    let direct: NewTag = anam::from_file(&path, Some("old")).unwrap();
    assert_eq!(direct, expected);
    // The file still says what it said.
    let v: Value = anam::from_file(&path, Some("old")).unwrap();
    assert_eq!(v.as_object().unwrap().class, "hinted.OldTag");
}

// ---------------------------------------------------------------------------------------
// Errors through dynamic loading
// ---------------------------------------------------------------------------------------

#[anam::class(class = "dyn_errors.Inner")]
#[derive(Serialize, Deserialize, Debug)]
pub struct Inner {
    pub age: u8,
}

#[anam::class(class = "dyn_errors.Outer")]
#[derive(Serialize, Deserialize, Debug)]
pub struct Outer {
    pub inner: Inner,
}

/// Written with an age no `u8` holds.
#[derive(Serialize)]
#[serde(rename = "dyn_errors.Outer")]
struct BadOuter {
    inner: BadInner,
}

#[derive(Serialize)]
#[serde(rename = "dyn_errors.Inner")]
struct BadInner {
    age: i64,
}

/// An error deep inside an object loaded by tag names the same path, once, as loading the
/// type directly does.
#[test]
fn obj_from_file_errors_name_the_precise_path_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.hdf5");
    anam::to_file(
        &path,
        "outer",
        &BadOuter {
            inner: BadInner { age: 300 },
        },
    )
    .unwrap();
    let direct = anam::from_file::<Outer>(&path, Some("outer")).unwrap_err();
    assert_eq!(direct.path(), Some("/outer/inner/age"), "{direct}");
    assert!(direct.to_string().contains("300"), "{direct}");

    let dynamic = anam::obj_from_file(&path, Some("outer")).unwrap_err();
    let msg = dynamic.to_string();
    assert!(
        msg.contains("300") && msg.contains("/outer/inner/age"),
        "{msg}"
    );
    assert_eq!(msg.matches("/outer").count(), 1, "the path once: {msg}");
    assert_eq!(msg, direct.to_string());
    assert_eq!(dynamic.path(), Some("/outer/inner/age"), "{msg}");
}
