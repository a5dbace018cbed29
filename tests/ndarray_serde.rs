//! Arrays serialized through ndarray's own `serde` impl (an `ndarray` field without
//! `#[serde(with = "anam::array")]`, which compiles as soon as any crate of the build enables
//! ndarray's `serde` feature, as this test build does): written as `anam::array` writes
//! them (a dataset of the element dtype and shape, or an `AnamEmptyArray` group), read back
//! through ndarray's own `Deserialize`, loaded by Python anamnesis as numpy arrays; the same
//! in `Value`; a struct of the wire format. A user's struct named `Array` with other fields
//! keeps the struct layout.

#[path = "common/h5.rs"]
mod h5;

#[path = "common/python.rs"]
mod python;
use python::python;
use std::path::{Path, PathBuf};

use anam::format::EMPTY_ARRAY_CLASS;
use anam::hdf5;
use anam::Value;
use h5::class_of;
use ndarray::{arr0, array, Array0, Array1, Array2, Array3, ArrayD, IxDyn};
use num_complex::{Complex32, Complex64};
use serde::{Deserialize, Serialize};

/// The same fields, through ndarray's own `serde` impl.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "anamnesis.store.Store")]
struct Plain {
    matrix: Array2<f64>,
    counts: Array1<i32>,
    flags: Array1<bool>,
    waves: Array1<Complex64>,
    small_waves: Array2<Complex32>,
    empty: Array2<f64>,
    empty_ints: Array1<u16>,
    scalar: Array0<f64>,
    zero: Array0<i64>,
    cube: Array3<f32>,
    dynamic: ArrayD<u8>,
    strided: Array2<i64>,
}

/// The same fields through `anam::array` (the same tag, so that the files compare).
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "anamnesis.store.Store")]
struct WithAnamArray {
    #[serde(with = "anam::array")]
    matrix: Array2<f64>,
    #[serde(with = "anam::array")]
    counts: Array1<i32>,
    #[serde(with = "anam::array")]
    flags: Array1<bool>,
    #[serde(with = "anam::array")]
    waves: Array1<Complex64>,
    #[serde(with = "anam::array")]
    small_waves: Array2<Complex32>,
    #[serde(with = "anam::array")]
    empty: Array2<f64>,
    #[serde(with = "anam::array")]
    empty_ints: Array1<u16>,
    #[serde(with = "anam::array")]
    scalar: Array0<f64>,
    #[serde(with = "anam::array")]
    zero: Array0<i64>,
    #[serde(with = "anam::array")]
    cube: Array3<f32>,
    #[serde(with = "anam::array")]
    dynamic: ArrayD<u8>,
    #[serde(with = "anam::array")]
    strided: Array2<i64>,
}

const MEMBERS: [&str; 12] = [
    "matrix",
    "counts",
    "flags",
    "waves",
    "small_waves",
    "empty",
    "empty_ints",
    "scalar",
    "zero",
    "cube",
    "dynamic",
    "strided",
];

fn plain() -> Plain {
    // A transposed array: ndarray serializes it in logical order.
    let strided = Array2::from_shape_fn((3, 2), |(i, j)| (10 * i + j) as i64)
        .t()
        .to_owned();
    Plain {
        matrix: array![[1.5, -2.0, 3.25], [4.0, 5.5, -0.0]],
        counts: array![1, -2, 3, i32::MAX],
        flags: array![true, false, true],
        waves: array![Complex64::new(1.0, -1.0), Complex64::new(0.5, 2.0)],
        small_waves: Array2::from_shape_fn((2, 2), |(i, j)| {
            Complex32::new(i as f32, j as f32 - 0.5)
        }),
        empty: Array2::zeros((0, 3)),
        empty_ints: Array1::zeros(0),
        scalar: arr0(2.5),
        zero: arr0(0),
        cube: Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as f32 / 4.0),
        dynamic: ArrayD::from_shape_vec(IxDyn(&[2, 1, 3]), vec![1, 2, 3, 4, 5, 255]).unwrap(),
        strided,
    }
}

fn with_anam_array(p: &Plain) -> WithAnamArray {
    let p = p.clone();
    WithAnamArray {
        matrix: p.matrix,
        counts: p.counts,
        flags: p.flags,
        waves: p.waves,
        small_waves: p.small_waves,
        empty: p.empty,
        empty_ints: p.empty_ints,
        scalar: p.scalar,
        zero: p.zero,
        cube: p.cube,
        dynamic: p.dynamic,
        strided: p.strided,
    }
}

/// A file with the same value written both ways: `plain` through ndarray's serde impl,
/// `anam` through `anam::array`.
fn write_both(dir: &Path) -> PathBuf {
    let path = dir.join("arrays.hdf5");
    let p = plain();
    anam::to_file(&path, "plain", &p).unwrap();
    anam::to_file(&path, "anam", &with_anam_array(&p)).unwrap();
    path
}

/// How an entry is stored: its kind, HDF5 type and shape, and for a group its class and
/// entries (recursively), as the `hdf5` crate sees them.
fn layout(group: &hdf5::Group, name: &str) -> String {
    if let Ok(ds) = group.dataset(name) {
        return format!(
            "dataset {:?} {:?}",
            ds.dtype().unwrap().to_descriptor().unwrap(),
            ds.shape()
        );
    }
    if let Ok(attr) = group.attr(name) {
        return format!(
            "attribute {:?} {:?}",
            attr.dtype().unwrap().to_descriptor().unwrap(),
            attr.shape()
        );
    }
    let sub = group.group(name).unwrap();
    let mut entries: Vec<String> = sub
        .attr_names()
        .unwrap()
        .into_iter()
        .chain(sub.member_names().unwrap())
        .filter(|n| n != "class")
        .map(|n| format!("{n}: {}", layout(&sub, &n)))
        .collect();
    entries.sort();
    format!("group {} {{{}}}", class_of(&sub), entries.join(", "))
}

#[test]
fn ndarray_fields_are_stored_as_anam_array_stores_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_both(dir.path());
    let file = hdf5::File::open(&path).unwrap();
    let (ours, theirs) = (file.group("plain").unwrap(), file.group("anam").unwrap());
    for member in MEMBERS {
        let layout_ours = layout(&ours, member);
        assert_eq!(layout_ours, layout(&theirs, member), "{member}");
        let expected = match member {
            "empty" | "empty_ints" | "scalar" | "zero" => "group",
            _ => "dataset",
        };
        assert!(layout_ours.starts_with(expected), "{member}: {layout_ours}");
    }
    assert_eq!(
        layout(&file, "plain"),
        layout(&file, "anam"),
        "the groups hold the same entries"
    );
    assert_eq!(class_of(&ours.group("empty").unwrap()), EMPTY_ARRAY_CLASS);
    // The same values, dtypes and shapes.
    let ours: Value = anam::from_file(&path, Some("plain")).unwrap();
    let theirs: Value = anam::from_file(&path, Some("anam")).unwrap();
    assert_eq!(ours, theirs);
    assert_eq!(
        ours["matrix"].as_array_of::<f64>().unwrap(),
        plain().matrix.into_dyn().view()
    );
    assert_eq!(
        ours["strided"].as_array_of::<i64>().unwrap(),
        plain().strided.into_dyn().view()
    );
    // The elements of a dataset are in C order, whatever the array's memory order.
    let strided = file.group("plain/strided");
    assert!(strided.is_err(), "a dataset, not a group");
    let raw = file
        .dataset("plain/strided")
        .unwrap()
        .read_raw::<i64>()
        .unwrap();
    assert_eq!(raw, [0, 10, 20, 1, 11, 21]);
    // The non-zero 0-d value is kept, as `anam::array` keeps it.
    assert_eq!(ours["scalar"].as_array_of::<f64>().unwrap()[[]], 2.5);
    assert_eq!(
        ours["empty_ints"].as_array().unwrap().dtype(),
        anam::DType::U16
    );
}

#[test]
fn ndarray_fields_read_back_through_ndarray_deserialize() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_both(dir.path());
    let back: Plain = anam::from_file(&path, Some("plain")).unwrap();
    assert_eq!(back, plain());
    // Either layout reads into either kind of field: the files are the same.
    let cross: Plain = anam::from_file(&path, Some("anam")).unwrap();
    assert_eq!(cross, plain());
    let cross: WithAnamArray = anam::from_file(&path, Some("plain")).unwrap();
    assert_eq!(cross, with_anam_array(&plain()));
}

#[test]
fn ndarray_reads_convert_elements_as_serde_does() {
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "t.Ints")]
    struct Ints {
        a: Array1<i32>,
    }
    #[derive(Deserialize, Debug)]
    #[serde(rename = "t.Ints")]
    struct Floats {
        a: Array1<f64>,
    }
    #[derive(Deserialize, Debug)]
    #[serde(rename = "t.Ints")]
    #[allow(dead_code)]
    struct Matrix {
        a: Array2<i32>,
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ints.hdf5");
    anam::to_file(&path, "g", &Ints { a: array![1, -2] }).unwrap();
    let f: Floats = anam::from_file(&path, Some("g")).unwrap();
    assert_eq!(f.a, array![1.0, -2.0]);
    // The rank must match the field's dimension type.
    let err = anam::from_file::<Matrix>(&path, Some("g")).unwrap_err();
    assert_eq!(err.path(), Some("/g/a"), "{err}");
}

#[test]
fn arrays_in_options_sequences_and_maps() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "t.Nested")]
    struct Nested {
        maybe: Option<Array2<f64>>,
        nothing: Option<Array1<f64>>,
        many: Vec<Array1<i64>>,
        by_name: std::collections::BTreeMap<String, Array1<f32>>,
    }
    let value = Nested {
        maybe: Some(array![[1.0, 2.0]]),
        nothing: None,
        many: vec![array![1, 2, 3], array![4]],
        by_name: [("x".to_string(), array![0.5f32, 1.5])].into(),
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.hdf5");
    anam::to_file(&path, "g", &value).unwrap();
    let file = hdf5::File::open(&path).unwrap();
    assert_eq!(file.dataset("g/maybe").unwrap().shape(), [1, 2]);
    assert!(!file.link_exists("g/nothing"));
    assert_eq!(file.dataset("g/many/LIST_item1").unwrap().shape(), [1]);
    assert_eq!(
        file.dataset("g/by_name/dictdata/LIST_item0")
            .unwrap()
            .read_raw::<f32>()
            .unwrap(),
        [0.5, 1.5]
    );
    let back: Nested = anam::from_file(&path, Some("g")).unwrap();
    assert_eq!(back, value);
}

#[test]
fn value_holds_ndarray_fields_as_arrays() {
    let p = plain();
    let v = anam::to_value(&p).unwrap();
    let from_file: Value = {
        let dir = tempfile::tempdir().unwrap();
        let path = write_both(dir.path());
        anam::from_file(&path, Some("plain")).unwrap()
    };
    // What a file holds: arrays, not objects of class `Array`.
    assert_eq!(v, from_file);
    assert_eq!(
        v["counts"].as_array_of::<i32>().unwrap(),
        p.counts.view().into_dyn()
    );
    let back: Plain = anam::from_value(v.clone()).unwrap();
    assert_eq!(back, p);
    let back: Plain = anam::from_value_ref(&v).unwrap();
    assert_eq!(back, p);
    // Writing the Value writes the same datasets.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("value.hdf5");
    anam::to_file(&path, "v", &v).unwrap();
    anam::to_file(&path, "p", &p).unwrap();
    let file = hdf5::File::open(&path).unwrap();
    assert_eq!(layout(&file, "v"), layout(&file, "p"));
    // An array of Values keeps each element's dtype, complex ones too.
    let values: Array1<Value> = anam::from_value(Value::from(
        array![Complex64::new(1.0, 2.0), Complex64::new(3.0, 4.0)].into_dyn(),
    ))
    .unwrap();
    assert_eq!(values[1], Value::C128(Complex64::new(3.0, 4.0)));
}

#[test]
fn the_wire_format_keeps_ndarray_fields_as_structs() {
    let p = plain();
    let bytes = anam::wire::to_bytes(&p).unwrap();
    let back: Plain = anam::wire::from_bytes(&bytes).unwrap();
    assert_eq!(back, p);
}

#[test]
fn elements_of_several_types_are_an_error_naming_the_field() {
    #[derive(Serialize)]
    #[serde(rename = "t.Mixed")]
    struct Mixed {
        a: Array1<Value>,
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.hdf5");
    let mixed = Mixed {
        a: array![Value::I32(1), Value::F64(2.0)],
    };
    let err = anam::to_file(&path, "g", &mixed).unwrap_err();
    assert_eq!(err.path(), Some("/g/a"), "{err}");
    assert!(err.to_string().contains("element 1"), "{err}");
    assert!(err.to_string().contains("float64"), "{err}");
    let err = anam::to_value(&mixed).unwrap_err();
    assert!(err.to_string().contains("element 1"), "{err}");
    // Of one type they make a dataset of that type.
    let same = Mixed {
        a: array![Value::I32(1), Value::I32(2)],
    };
    anam::to_file(&path, "h", &same).unwrap();
    let file = hdf5::File::open(&path).unwrap();
    assert_eq!(
        file.dataset("h/a").unwrap().read_raw::<i32>().unwrap(),
        [1, 2]
    );
}

#[test]
fn arrays_of_other_elements_keep_the_struct_layout() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "t.Words")]
    struct Words {
        words: Array1<String>,
        pairs: Array1<[f64; 2]>,
        maybe: Array1<Option<i32>>,
    }
    let value = Words {
        words: array!["a".to_string(), "b".to_string()],
        pairs: Array1::from(vec![[1.0, 2.0], [3.0, 4.0]]),
        maybe: array![Some(1), None],
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("words.hdf5");
    anam::to_file(&path, "g", &value).unwrap();
    let file = hdf5::File::open(&path).unwrap();
    for member in ["words", "pairs", "maybe"] {
        let g = file.group(&format!("g/{member}")).unwrap();
        assert_eq!(class_of(&g), "Array", "{member}");
        assert_eq!(g.attr("v").unwrap().read_scalar::<u8>().unwrap(), 1);
    }
    assert_eq!(
        file.dataset("g/pairs/dim")
            .unwrap()
            .read_raw::<u64>()
            .unwrap(),
        [2]
    );
    let back: Words = anam::from_file(&path, Some("g")).unwrap();
    assert_eq!(back, value);
    let v = anam::to_value(&value).unwrap();
    assert_eq!(v["words"].as_object().unwrap().class, "Array");
}

#[test]
fn a_struct_named_array_with_other_fields_is_untouched() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "Array")]
    struct Mine {
        x: i32,
        label: String,
        data: Vec<f64>,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "Array")]
    struct Version2 {
        v: u8,
        dim: Vec<usize>,
        data: Vec<f64>,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "Array")]
    struct WrongCount {
        v: u8,
        dim: Vec<usize>,
        data: Vec<f64>,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "Array")]
    struct NamedDims {
        v: u8,
        dim: Vec<String>,
        data: Vec<f64>,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "t.Holder")]
    struct Holder {
        mine: Mine,
        version2: Version2,
        wrong_count: WrongCount,
        named_dims: NamedDims,
    }
    let value = Holder {
        mine: Mine {
            x: 3,
            label: "l".into(),
            data: vec![1.0],
        },
        version2: Version2 {
            v: 2,
            dim: vec![1],
            data: vec![1.0],
        },
        wrong_count: WrongCount {
            v: 1,
            dim: vec![2, 2],
            data: vec![1.0, 2.0, 3.0],
        },
        named_dims: NamedDims {
            v: 1,
            dim: vec!["x".into()],
            data: vec![1.0],
        },
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.hdf5");
    anam::to_file(&path, "g", &value).unwrap();
    let file = hdf5::File::open(&path).unwrap();
    assert_eq!(
        layout(&file, "g/mine"),
        "group Array {data: dataset Float(U8) [1], label: attribute VarLenUnicode [], \
         x: attribute Integer(U4) []}"
    );
    assert_eq!(
        layout(&file, "g/version2"),
        "group Array {data: dataset Float(U8) [1], dim: dataset Unsigned(U8) [1], \
         v: attribute Unsigned(U1) []}"
    );
    assert_eq!(
        layout(&file, "g/wrong_count"),
        "group Array {data: dataset Float(U8) [3], dim: dataset Unsigned(U8) [2], \
         v: attribute Unsigned(U1) []}"
    );
    assert_eq!(
        layout(&file, "g/named_dims"),
        "group Array {data: dataset Float(U8) [1], dim: group anamnesis.abstract.AnamList \
         {LIST_item0: attribute VarLenUnicode [], count: attribute Integer(U8) []}, \
         v: attribute Unsigned(U1) []}"
    );
    let back: Holder = anam::from_file(&path, Some("g")).unwrap();
    assert_eq!(back, value);
    // `Value` keeps them objects too.
    let v = anam::to_value(&value).unwrap();
    for member in ["mine", "version2", "wrong_count", "named_dims"] {
        assert_eq!(v[member].as_object().unwrap().class, "Array", "{member}");
    }
    assert_eq!(anam::from_value::<Holder>(v).unwrap(), value);
}

#[test]
fn a_struct_with_exactly_ndarrays_fields_is_taken_for_an_array() {
    // Documented: the name `Array` and the fields `v` (1), `dim`, `data` are ndarray's form.
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "Array")]
    struct Lookalike {
        v: u8,
        dim: Vec<usize>,
        data: Vec<f64>,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "t.Holder")]
    struct Holder {
        a: Lookalike,
    }
    let value = Holder {
        a: Lookalike {
            v: 1,
            dim: vec![2, 2],
            data: vec![1.0, 2.0, 3.0, 4.0],
        },
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lookalike.hdf5");
    anam::to_file(&path, "g", &value).unwrap();
    let file = hdf5::File::open(&path).unwrap();
    assert_eq!(
        layout(&file.group("g").unwrap(), "a"),
        "dataset Float(U8) [2, 2]"
    );
    let back: Holder = anam::from_file(&path, Some("g")).unwrap();
    assert_eq!(back, value);
}

#[test]
fn files_with_the_old_struct_layout_still_read() {
    // Before ndarray's form was recognised, an array was a group of class `Array`.
    let mut old = anam::Object::new("Array");
    old.insert("v", Value::U8(1));
    old.insert("dim", Value::from(array![2u64, 2].into_dyn()));
    old.insert("data", Value::from(array![1.0, 2.0, 3.0, 4.0].into_dyn()));
    let mut holder = anam::Object::new("t.Holder");
    holder.insert("a", Value::Object(old));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.hdf5");
    anam::to_file(&path, "g", &Value::Object(holder)).unwrap();
    #[derive(Deserialize)]
    #[serde(rename = "t.Holder")]
    struct Holder {
        a: Array2<f64>,
    }
    let back: Holder = anam::from_file(&path, Some("g")).unwrap();
    assert_eq!(back.a, array![[1.0, 2.0], [3.0, 4.0]]);
}

#[test]
fn the_crate_reexports_ndarray_and_num_complex() {
    // The same types as the test's own dependencies (one ndarray 0.17, one num-complex 0.4).
    let a: anam::ndarray::Array1<anam::num_complex::Complex64> =
        Array1::from(vec![Complex64::new(1.0, 2.0)]);
    let bytes = anam::wire::to_bytes(&anam::NdArray(a.clone())).unwrap();
    let back: anam::NdArray<Complex64, ndarray::Ix1> = anam::wire::from_bytes(&bytes).unwrap();
    assert_eq!(back.0, a);
}

// ---------------------------------------------------------------------------------------
// Python
// ---------------------------------------------------------------------------------------

/// Loads a Store with Python anamnesis and prints, per entry, its Python type, dtype,
/// shape and elements (complex ones as `[re, im]`) as JSON.
const PY_DESCRIBE: &str = r#"
import json, sys
import numpy as np
if 'bool' not in np.__dict__:
    np.bool = np.bool_  # anamnesis 1.0.4 reads bool datasets with np.bool
import anamnesis
store = anamnesis.obj_from_hdf5file(sys.argv[1], sys.argv[2])
out = {}
for k, v in store.extra_data.items():
    flat = np.asarray(v).ravel()
    if np.iscomplexobj(flat):
        values = [[float(x.real), float(x.imag)] for x in flat]
    else:
        values = flat.tolist()
    out[k] = {"type": type(v).__name__, "dtype": str(v.dtype), "shape": list(v.shape),
              "values": values}
print(json.dumps(out))
"#;

#[test]
fn python_anamnesis_reads_ndarray_fields_as_numpy_arrays() {
    let Some(python) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = write_both(dir.path());
    let describe = |group: &str| -> serde_json::Value {
        let out = python::run_script(&python, PY_DESCRIBE, &[&path, &group]);
        serde_json::from_str(&out).unwrap()
    };
    let ours = describe("plain");
    assert_eq!(ours, describe("anam"));
    let expect = [
        ("matrix", "float64", vec![2, 3]),
        ("counts", "int32", vec![4]),
        ("flags", "bool", vec![3]),
        ("waves", "complex128", vec![2]),
        ("small_waves", "complex64", vec![2, 2]),
        ("empty", "float64", vec![0, 3]),
        ("empty_ints", "uint16", vec![0]),
        ("scalar", "float64", vec![]),
        ("zero", "int64", vec![]),
        ("cube", "float32", vec![2, 3, 4]),
        ("dynamic", "uint8", vec![2, 1, 3]),
        ("strided", "int64", vec![2, 3]),
    ];
    for (member, dtype, shape) in expect {
        let got = &ours[member];
        assert_eq!(got["type"], "ndarray", "{member}: {got}");
        assert_eq!(got["dtype"], dtype, "{member}: {got}");
        assert_eq!(got["shape"], serde_json::json!(shape), "{member}: {got}");
    }
    let p = plain();
    assert_eq!(
        ours["matrix"]["values"],
        serde_json::json!(p.matrix.iter().collect::<Vec<_>>())
    );
    assert_eq!(
        ours["strided"]["values"],
        serde_json::json!([0, 10, 20, 1, 11, 21])
    );
    assert_eq!(
        ours["flags"]["values"],
        serde_json::json!([true, false, true])
    );
    assert_eq!(
        ours["waves"]["values"],
        serde_json::json!([[1.0, -1.0], [0.5, 2.0]])
    );
}
