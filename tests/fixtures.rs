//! Every file written by Python anamnesis 1.0.4 (tests/fixtures/anamnesis-1.0.4) loads into
//! Rust types mirroring its Python classes, with every value of `manifest.json` checked.
//!
//! Values the manifest gives literally are compared with the manifest; values it gives as a
//! formula (arrays) are computed here, after checking that the manifest still states the
//! formula this file implements.

mod common;

use common::*;
use ndarray::Array2;
use num_complex::{Complex32, Complex64};

fn load<T: serde::de::DeserializeOwned>(file: &str, group: &str) -> T {
    anam::from_file(fixture(file), Some(group))
        .unwrap_or_else(|e| panic!("loading {file}/{group}: {e}"))
}

/// Reads the `class` attribute of a group with the hdf5 crate.
fn class_in_file(file: &str, group: &str) -> String {
    let f = anam::hdf5::File::open(fixture(file)).unwrap();
    let a = f.group(group).unwrap().attr("class").unwrap();
    a.read_scalar::<anam::hdf5::types::VarLenUnicode>()
        .unwrap()
        .to_string()
}

// ----- tutorial 1 and 2 ----------------------------------------------------------------

#[test]
fn tutorial1() {
    let m = entry("tutorial1.hdf5", "person");
    let p: SimplePerson = load("tutorial1.hdf5", "person");
    assert_eq!(m["class"], "test_classes1.SimplePerson");
    assert_eq!(class_in_file("tutorial1.hdf5", "person"), m["class"]);
    assert_eq!(m["name"], p.name);
    assert_eq!(m["age"], p.age);
    // Without a group name: the first group of the file.
    let first: SimplePerson = anam::from_file(fixture("tutorial1.hdf5"), None).unwrap();
    assert_eq!(first.name, p.name);
}

#[test]
fn tutorial2() {
    let file = "tutorial2.hdf5";
    let m = entry(file, "person");
    let p: ComplexPerson = load(file, "person");
    assert_eq!(m["class"], "test_classes2.ComplexPerson");
    assert_eq!(
        (m["name"].as_str(), m["age"].as_i64()),
        (Some(p.name.as_str()), Some(p.age))
    );
    let place: ComplexPlace = load(file, "place");
    assert_eq!(entry(file, "place")["location"], place.location);
    let train: ComplexTrain = load(file, "train");
    assert_eq!(entry(file, "train")["destination"], train.destination);
    for g in ["person", "place", "train"] {
        assert_eq!(class_in_file(file, g), entry(file, g)["class"]);
    }
}

#[test]
fn tutorial2_aliases() {
    let file = "tutorial2_aliases.hdf5";
    let m = entry(file, "person");
    assert_eq!(class_in_file(file, "person"), m["class (in file)"]);
    assert_eq!(m["loads as"], "test_classes2.ComplexPerson");
    let p: ComplexPerson = load(file, "person");
    assert_eq!(m["name"], p.name);
    assert_eq!(m["age"], p.age);
}

#[test]
fn tutorial2_extradata() {
    let file = "tutorial2_extradata.hdf5";
    let m = entry(file, "person");
    let p: ComplexPersonWithExtra = load(file, "person");
    assert_eq!(m["class"], "test_classes2.ComplexPerson");
    assert_eq!(m["name"], p.name);
    assert_eq!(m["age"], p.age);
    let extra = &m["extra_data"];
    assert_eq!(extra["hometown"], p.hometown);
    assert_eq!(extra["visits"]["dtype"], "int32");
    let expected: Vec<i32> = serde_json::from_value(extra["visits"]["data"].clone()).unwrap();
    assert_eq!(p.visits.to_vec(), expected);
    assert_eq!(
        extra.as_object().unwrap().len(),
        2,
        "every extra_data entry is checked"
    );
}

// ----- tutorial 3: a collection -----------------------------------------------------------

#[test]
fn tutorial3() {
    let file = "tutorial3.hdf5";
    let m = entry(file, "data");
    check_tutorial3_formulas(&m);
    let c: StatsCollection = load(file, "data");
    assert_eq!(m["members"], c.members.len());
    let f = anam::hdf5::File::open(fixture(file)).unwrap();
    for (p, member) in c.members.iter().enumerate() {
        let group = f.group(&format!("data/members/LIST_item{p}")).unwrap();
        let tag: anam::hdf5::types::VarLenUnicode =
            group.attr("class").unwrap().read_scalar().unwrap();
        assert_eq!(m["member class"], tag.as_str());
        check_tutorial3_member(p, &member.zstats, &member.rts);
    }
    // The combined shapes the manifest states follow from the member shapes and count
    // (stacking itself is `AnamCollection::update_cache`, tested with the collection type).
    let zshape: Vec<usize> = serde_json::from_value(m["combined zstats shape"].clone()).unwrap();
    let rshape: Vec<usize> = serde_json::from_value(m["combined rts shape"].clone()).unwrap();
    let mut want_z = c.members[0].zstats.shape().to_vec();
    want_z.push(c.members.len());
    let want_r = vec![c.members[0].rts.len(), c.members.len()];
    assert_eq!(zshape, want_z);
    assert_eq!(rshape, want_r);
}

// ----- tutorial 4: a Store ------------------------------------------------------------------

#[test]
fn tutorial4() {
    let file = "tutorial4.hdf5";
    let m = entry(file, "data");
    assert_eq!(m["class"], "anamnesis.store.Store");
    let s: AirportStore = load(file, "data");
    let extra = &m["extra_data"];
    assert_eq!(extra["airport_from"], s.airport_from);
    assert_eq!(extra["airport_to"], s.airport_to);
    assert_eq!(extra["gate"], s.gate);
    assert_eq!(extra["delays"]["dtype"], "float64");
    let delays: Vec<f64> = serde_json::from_value(extra["delays"]["data"].clone()).unwrap();
    assert_eq!(s.delays.to_vec(), delays);
    assert_eq!(
        extra.as_object().unwrap().len(),
        4,
        "every extra_data entry is checked"
    );
}

// ----- every dtype ----------------------------------------------------------------------------

/// The dtype of a dataset or of an empty-array group, as numpy names it.
fn stored_dtype(group: &anam::hdf5::Group, name: &str) -> String {
    use anam::hdf5::types::{FloatSize, IntSize, TypeDescriptor as T};
    let ds = match group.dataset(name) {
        Ok(ds) => ds,
        Err(_) => group.group(name).unwrap().dataset("dtype").unwrap(),
    };
    let size = |s: IntSize| s as usize * 8;
    match ds.dtype().unwrap().to_descriptor().unwrap() {
        T::Integer(s) => format!("int{}", size(s)),
        T::Unsigned(s) => format!("uint{}", size(s)),
        T::Float(FloatSize::U4) => "float32".into(),
        T::Float(FloatSize::U8) => "float64".into(),
        T::Boolean => "bool".into(),
        T::Compound(c) => format!("complex{}", c.size * 8),
        other => format!("{other:?}"),
    }
}

#[test]
fn arrays() {
    let m = entry("arrays.hdf5", "arrays");
    assert_eq!(m["class"], "fixture_classes.ArrayHolder");
    assert_eq!(
        m["i8..i64, u8..u64"],
        "base (abs for unsigned) in that dtype, shape [2,3]"
    );
    assert_eq!(m["f32"], "base/4 float32");
    assert_eq!(m["f64"], "base/8 float64");
    assert_eq!(m["c64"], "base + 1j*base complex64");
    assert_eq!(m["c128"], "base - 2j complex128");
    assert_eq!(m["b"], "base % 2 == 0 (bool)");
    let base: Vec<Vec<i64>> = serde_json::from_value(m["base"].clone()).unwrap();
    let base = Array2::from_shape_fn((base.len(), base[0].len()), |(i, j)| base[i][j]);
    let a: ArrayHolder = load("arrays.hdf5", "arrays");

    assert_eq!(a.i8, base.mapv(|x| x as i8));
    assert_eq!(a.i16, base.mapv(|x| x as i16));
    assert_eq!(a.i32, base.mapv(|x| x as i32));
    assert_eq!(a.i64, base);
    assert_eq!(a.u8, base.mapv(|x| x.unsigned_abs() as u8));
    assert_eq!(a.u16, base.mapv(|x| x.unsigned_abs() as u16));
    assert_eq!(a.u32, base.mapv(|x| x.unsigned_abs() as u32));
    assert_eq!(a.u64, base.mapv(|x| x.unsigned_abs()));
    assert_eq!(a.f32, base.mapv(|x| x as f32 / 4.0));
    assert_eq!(a.f64, base.mapv(|x| x as f64 / 8.0));
    assert_eq!(a.c64, base.mapv(|x| Complex32::new(x as f32, x as f32)));
    assert_eq!(a.c128, base.mapv(|x| Complex64::new(x as f64, -2.0)));
    assert_eq!(a.b, base.mapv(|x| x % 2 == 0));

    // Stored dtypes are numpy's, as the manifest names them.
    let f = anam::hdf5::File::open(fixture("arrays.hdf5")).unwrap();
    let g = f.group("arrays").unwrap();
    for (name, dtype) in [
        ("i8", "int8"),
        ("i16", "int16"),
        ("i32", "int32"),
        ("i64", "int64"),
        ("u8", "uint8"),
        ("u16", "uint16"),
        ("u32", "uint32"),
        ("u64", "uint64"),
        ("f32", "float32"),
        ("f64", "float64"),
        ("c64", "complex64"),
        ("c128", "complex128"),
        ("b", "bool"),
    ] {
        assert_eq!(stored_dtype(&g, name), dtype, "{name}");
    }

    // Empty arrays: "DTYPE shape [..]" in the manifest.
    let empties: [(&str, &[usize]); 5] = [
        ("empty0d", a.empty0d.shape()),
        ("empty1d", a.empty1d.shape()),
        ("empty2d", a.empty2d.shape()),
        ("empty3d_f32", a.empty3d_f32.shape()),
        ("empty3d_i16", a.empty3d_i16.shape()),
    ];
    for (name, shape) in empties {
        let text = m[name].as_str().unwrap();
        let (dtype, rest) = text.split_once(" shape ").unwrap();
        let shape_text = rest.split(' ').next().unwrap();
        let want: Vec<usize> = serde_json::from_str(shape_text).unwrap();
        assert_eq!(shape, want.as_slice(), "{name}");
        assert_eq!(stored_dtype(&g, name), dtype, "{name}");
    }
    assert_eq!(a.empty0d.ndim(), 0);
    assert_eq!(a.empty0d[[]], 0.0, "Python reads a 0-d empty array as zero");
}

// ----- scalars --------------------------------------------------------------------------------

#[test]
fn scalars() {
    let m = entry("scalars.hdf5", "scalars");
    assert_eq!(m["class"], "fixture_classes.Scalars");
    let s: Scalars = load("scalars.hdf5", "scalars");
    assert_eq!(m["an_int"], s.an_int);
    assert_eq!(m["a_float"], s.a_float);
    assert_eq!(m["a_str"], s.a_str);
    assert_eq!(m["a_bool"], s.a_bool);
    assert!(m["a_none"].is_null() && s.a_none.is_none());
    assert_eq!(m["neg"], s.neg, "int64 attribute read into i32");
    assert_eq!(m["big"], s.big, "int64 attribute read into u64");
    assert_eq!(
        m.as_object().unwrap().len(),
        8,
        "every manifest value is checked"
    );
}

// ----- lists, dicts and objects of any kind (containers, oldlist) ------------------------------

#[test]
fn containers() {
    let file = "containers.hdf5";
    for group in ["lists", "dicts"] {
        let m = entry(file, group);
        assert_eq!(m["class"], "fixture_classes.ExampleWriter");
        let w: ExampleWriter = load(file, group);
        assert_eq!(w.dat.unwrap().repr(), m["dat"].as_str().unwrap(), "{group}");
        // The same group through `deserialize_any` at the top level.
        let any: Dyn = load(file, group);
        assert_eq!(
            any.repr(),
            format!("ExampleWriter(dat={})", m["dat"].as_str().unwrap())
        );
    }
    let m = entry(file, "strings");
    let s: StringsWriter = load(file, "strings");
    let want: Vec<String> = serde_json::from_value(m["dat"].clone()).unwrap();
    assert_eq!(s.dat, want);
}

#[test]
fn oldlist() {
    let m = entry("oldlist.hdf5", "holder");
    assert_eq!(m["class"], "fixture_classes.ExampleWriter");
    let h: OldListHolder = load("oldlist.hdf5", "holder");
    let repr: Vec<String> = h
        .dat
        .iter()
        .map(|w| format!("ExampleWriter(dat={})", w.dat))
        .collect();
    assert_eq!(
        format!("[{}] (legacy LISTS layout)", repr.join(", ")),
        m["dat"]
    );
    // Dynamically, the legacy list is a member like any other.
    let any: Dyn = load("oldlist.hdf5", "holder");
    assert_eq!(
        any.repr(),
        format!("ExampleWriter(dat=[{}])", repr.join(", "))
    );
}

// ----- name maps and nesting --------------------------------------------------------------------

#[test]
fn namemap() {
    let m = entry("namemap.hdf5", "nmap");
    assert_eq!(m["class"], "fixture_classes.NameMapped");
    let n: NameMapped = load("namemap.hdf5", "nmap");
    assert_eq!(
        m["python attribute _order, stored as order"],
        serde_json::json!(n._order)
    );
    assert_eq!(m["plain"], n.plain);
}

#[test]
fn nested() {
    let m = entry("nested.hdf5", "parent");
    let outer: Parent = load("nested.hdf5", "parent");
    assert_eq!(m["class"], "fixture_classes.Parent");
    check_nested(&m, outer);
}

// ----- a class nobody registered ------------------------------------------------------------------

#[test]
fn badclass() {
    let m = entry("badclass.hdf5", "store");
    let class = m["class"].as_str().unwrap();
    let err = anam::from_file::<AirportStore>(fixture("badclass.hdf5"), Some("store")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(class), "{msg}");
    assert!(msg.contains("/store"), "{msg}");
    assert!(msg.contains("anamnesis.store.Store"), "{msg}");
    assert!(matches!(err.kind(), anam::ErrorKind::ClassMismatch { .. }));
}

/// The manifest lists every fixture file there is, and every file it lists is named (as a
/// string literal) by a test above.
#[test]
fn every_fixture_is_covered() {
    let m = manifest();
    let mut files: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
    files.sort();
    let mut on_disk: Vec<String> = std::fs::read_dir(fixture(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| f.ends_with(".hdf5"))
        .collect();
    on_disk.sort();
    assert_eq!(files, on_disk);
    let tests = include_str!("fixtures.rs");
    let uncovered: Vec<&str> = files
        .into_iter()
        .filter(|f| !tests.contains(&format!("\"{f}\"")))
        .collect();
    assert!(uncovered.is_empty(), "no test reads {uncovered:?}");
}
