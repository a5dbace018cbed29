//! Files written by Rust load in Python anamnesis 1.0.4 with the same values.
//!
//! The test writes, with the Rust mirrors of the generator's classes, the same objects that
//! `tests/fixtures/generator/make_fixtures.py` writes, then runs
//! `tests/python/check_manifest.py` (Python anamnesis + the generator's class modules) on
//! them, which checks every value of the fixtures' manifest. `h5dump` must read every file.
//!
//! The Python interpreter is `$ANAM_PYTHON`, else `.venv/bin/python` (made by `make venv`).
//! Without either the test is skipped with a message, unless `ANAM_REQUIRE_INTEROP=1`
//! (set by `make test`), where that is a failure.

mod common;

#[path = "common/python.rs"]
mod python;
use python::python;
use std::path::Path;
use std::process::Command;

use common::*;
use ndarray::{Array1, Array2, ArrayD};
use num_complex::{Complex32, Complex64};
use serde::Serialize;

fn write<T: Serialize>(dir: &Path, file: &str, groups: &[(&str, &T)]) {
    for (group, value) in groups {
        anam::to_file(dir.join(file), group, value)
            .unwrap_or_else(|e| panic!("{file}/{group}: {e}"));
    }
}

#[derive(Serialize)]
#[serde(rename = "test_classes2.OldComplexPerson")]
struct OldComplexPerson {
    name: String,
    age: i64,
}

#[derive(Serialize)]
#[serde(rename = "deliberately.missing.Class")]
struct Unregistered {
    foo: i64,
}

fn example_writer(dat: Dyn) -> Dyn {
    Dyn::Object {
        class: "fixture_classes.ExampleWriter".into(),
        fields: vec![("dat".into(), dat)],
    }
}

/// Writes every fixture that Rust can write (not `oldlist.hdf5`: the legacy layout is
/// read-only, as in Python).
fn write_fixtures(dir: &Path) -> Vec<&'static str> {
    write(
        dir,
        "tutorial1.hdf5",
        &[(
            "person",
            &SimplePerson {
                name: "Fred".into(),
                age: 42,
            },
        )],
    );

    let anna = ComplexPerson {
        name: "Anna".into(),
        age: 45,
    };
    write(dir, "tutorial2.hdf5", &[("person", &anna)]);
    write(
        dir,
        "tutorial2.hdf5",
        &[(
            "place",
            &ComplexPlace {
                location: "York".into(),
            },
        )],
    );
    write(
        dir,
        "tutorial2.hdf5",
        &[(
            "train",
            &ComplexTrain {
                destination: "Glasgow".into(),
            },
        )],
    );
    write(
        dir,
        "tutorial2_aliases.hdf5",
        &[(
            "person",
            &OldComplexPerson {
                name: "Anna".into(),
                age: 45,
            },
        )],
    );
    let bob = ComplexPersonWithExtra {
        name: "Bob".into(),
        age: 75,
        hometown: "Oxford".into(),
        visits: Array1::from(vec![1990, 2001, 2024]),
    };
    write(dir, "tutorial2_extradata.hdf5", &[("person", &bob)]);

    let members = (0..5)
        .map(|p| {
            let p = p as f64;
            let step = 450.0 / 99.0;
            let mut rts: Vec<f64> = (0..100).map(|i| i as f64 * step).collect();
            rts[99] = 450.0;
            CollectableSubjectStats {
                zstats: Array2::from_shape_fn((10, 10), |(i, j)| (i * 10 + j) as f64 * 0.5 + p),
                rts: Array1::from(rts) + p,
            }
        })
        .collect();
    write(
        dir,
        "tutorial3.hdf5",
        &[("data", &StatsCollection { members })],
    );

    let store = AirportStore {
        airport_from: "Manchester".into(),
        airport_to: "Schipol".into(),
        gate: 12,
        delays: Array1::from(vec![0.5, 1.25, 3.0]),
    };
    write(dir, "tutorial4.hdf5", &[("data", &store)]);

    let base = Array2::from_shape_fn((2, 3), |(i, j)| (i * 3 + j + 1) as i64);
    let arrays = ArrayHolder {
        i8: base.mapv(|x| x as i8),
        i16: base.mapv(|x| x as i16),
        i32: base.mapv(|x| x as i32),
        i64: base.clone(),
        u8: base.mapv(|x| x as u8),
        u16: base.mapv(|x| x as u16),
        u32: base.mapv(|x| x as u32),
        u64: base.mapv(|x| x as u64),
        f32: base.mapv(|x| x as f32 / 4.0),
        f64: base.mapv(|x| x as f64 / 8.0),
        c64: base.mapv(|x| Complex32::new(x as f32, x as f32)),
        c128: base.mapv(|x| Complex64::new(x as f64, -2.0)),
        b: base.mapv(|x| x % 2 == 0),
        empty0d: ArrayD::zeros(vec![]),
        empty1d: Array1::zeros(0),
        empty2d: Array2::zeros((2, 0)),
        empty3d_f32: ndarray::Array3::zeros((2, 3, 0)),
        empty3d_i16: ndarray::Array3::zeros((2, 3, 0)),
    };
    write(dir, "arrays.hdf5", &[("arrays", &arrays)]);

    let scalars = Scalars {
        an_int: 7,
        a_float: 2.5,
        a_str: "hello".into(),
        a_bool: true,
        a_none: None,
        neg: -123456789,
        big: 1 << 62,
    };
    write(dir, "scalars.hdf5", &[("scalars", &scalars)]);

    use Dyn::{Dict, Float, Int, List, Str};
    let lists = example_writer(List(vec![
        Int(1),
        List(vec![example_writer(Int(5)), Int(2)]),
        Str("a".into()),
        Float(4.5),
        example_writer(Str("x".into())),
        List(vec![Int(1), Dyn::None, Str("foo".into())]),
        List(vec![]),
        List(vec![List(vec![])]),
    ]));
    let dicts = example_writer(Dict(vec![
        (Str("A".into()), Int(1)),
        (Str("B".into()), Str("two".into())),
        (Int(3), example_writer(Int(3))),
        (
            Str("nested".into()),
            Dict(vec![
                (Str("c".into()), Int(99)),
                (Str("e".into()), List(vec![Int(1), Int(2)])),
            ]),
        ),
    ]));
    write(
        dir,
        "containers.hdf5",
        &[("lists", &lists), ("dicts", &dicts)],
    );
    let strings = StringsWriter {
        dat: vec!["Foo".into(), "Blah".into(), "Baz".into()],
    };
    write(dir, "containers.hdf5", &[("strings", &strings)]);

    let kid = SimplePerson {
        name: "Kid".into(),
        age: 9,
    };
    let inner = Parent {
        child: Some(Child::Person(kid)),
        label: "inner".into(),
    };
    let outer = Parent {
        child: Some(Child::Parent(Box::new(inner))),
        label: "outer".into(),
    };
    write(dir, "nested.hdf5", &[("parent", &outer)]);

    let nmap = NameMapped {
        _order: vec![3, 1, 2],
        plain: "p".into(),
    };
    write(dir, "namemap.hdf5", &[("nmap", &nmap)]);

    write(dir, "badclass.hdf5", &[("store", &Unregistered { foo: 1 })]);

    vec![
        "tutorial1.hdf5",
        "tutorial2.hdf5",
        "tutorial2_aliases.hdf5",
        "tutorial2_extradata.hdf5",
        "tutorial3.hdf5",
        "tutorial4.hdf5",
        "arrays.hdf5",
        "scalars.hdf5",
        "containers.hdf5",
        "nested.hdf5",
        "namemap.hdf5",
        "badclass.hdf5",
    ]
}

#[test]
fn rust_files_load_in_python_anamnesis() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_fixtures(dir.path());

    // h5dump reads every file.
    for file in &files {
        let out = Command::new("h5dump").arg(dir.path().join(file)).output();
        match out {
            Ok(out) => assert!(
                out.status.success(),
                "h5dump {file}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(e) => {
                assert!(
                    std::env::var("ANAM_REQUIRE_INTEROP").as_deref() != Ok("1"),
                    "h5dump: {e}"
                );
                eprintln!("skipping h5dump: {e}");
            }
        }
    }

    let Some(python) = python() else { return };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/check_manifest.py");
    let out = Command::new(python)
        .arg(&script)
        .arg(dir.path())
        .arg("--files")
        .arg(files.join(","))
        .output()
        .expect("run the Python checker");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "Python anamnesis rejected Rust files:\n{stdout}\n{stderr}"
    );
    let groups = files.len() + 4; // tutorial2 and containers hold 3 groups each
    assert!(
        stdout.contains(&format!("{groups} passed, 0 failed")),
        "{stdout}"
    );
}
