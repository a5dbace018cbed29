use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "test_classes1.SimplePerson")]
struct SimplePerson {
    name: String,
    age: i64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum E {
    A,
    B(i32),
    C(i32, String),
    D { x: f64 },
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct All {
    b: bool,
    i: i8,
    u: u64,
    f: f32,
    c: char,
    s: String,
    o: Option<i32>,
    n: Option<i32>,
    v: Vec<f64>,
    vs: Vec<String>,
    ve: Vec<i32>,
    mixed: (i32, String),
    m: BTreeMap<String, i32>,
    mi: BTreeMap<i64, SimplePerson>,
    e: Vec<E>,
    #[serde(with = "anam::array")]
    a: ndarray::Array2<f64>,
    #[serde(with = "anam::array")]
    z: ndarray::ArrayD<i16>,
    #[serde(with = "anam::array")]
    s0: ndarray::ArrayD<f64>,
    #[serde(with = "serde_bytes")]
    bytes: Vec<u8>,
    p: SimplePerson,
    unit: (),
}

#[test]
fn smoke() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.hdf5");
    let v = All {
        b: true,
        i: -3,
        u: u64::MAX,
        f: 1.5,
        c: 'é',
        s: "héllo".into(),
        o: Some(3),
        n: None,
        v: vec![1.0, f64::NAN, f64::INFINITY],
        vs: vec!["a".into(), "b".into()],
        ve: vec![],
        mixed: (1, "x".into()),
        m: [("k".to_string(), 1)].into(),
        mi: [(
            3,
            SimplePerson {
                name: "a".into(),
                age: 1,
            },
        )]
        .into(),
        e: vec![E::A, E::B(2), E::C(3, "s".into()), E::D { x: 2.5 }],
        a: ndarray::array![[1.0, 2.0], [3.0, 4.0]],
        z: ndarray::ArrayD::zeros(vec![2, 0, 3]),
        s0: ndarray::arr0(7.5).into_dyn(),
        bytes: vec![1, 2, 3],
        p: SimplePerson {
            name: "Fred".into(),
            age: 42,
        },
        unit: (),
    };
    anam::to_file(&path, "all", &v).unwrap();
    let back: All = anam::from_file(&path, None).unwrap();
    assert_eq!(format!("{v:?}"), format!("{back:?}"));
    let out = std::process::Command::new("h5dump")
        .arg(&path)
        .output()
        .unwrap();
    println!("{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn fixture1() {
    let p: SimplePerson =
        anam::from_file("tests/fixtures/anamnesis-1.0.4/tutorial1.hdf5", None).unwrap();
    assert_eq!(
        p,
        SimplePerson {
            name: "Fred".into(),
            age: 42
        }
    );
}
