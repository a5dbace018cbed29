//! HDF5 beyond the round trips of the data-model suite (`tests/data_model.rs`, which runs
//! every type of the Serde data model through HDF5, the wire format and `Value`): the
//! layout written (checked with the `hdf5` crate directly) for scalars, options, tuples,
//! sequences, maps, enums, bytes, nested structs and arrays of every dtype and rank;
//! `Option<Option<T>>`; defaults for absent fields; several objects in one file; views
//! and non-standard layouts; the lossless conversions the reader allows; and arrays
//! through JSON.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use anam::format::{DICT_CLASS, EMPTY_ARRAY_CLASS, LIST_CLASS};
use anam::hdf5;
use anam::hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenUnicode};
use anam::hdf5::H5Type;
use ndarray::{array, s, Array0, Array1, Array2, ArrayD, IxDyn};
use num_complex::{Complex, Complex32, Complex64};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The group every test writes its object into.
const GROUP: &str = "obj";

/// Writes `value` as the group [`GROUP`] of a new file; the directory lives as long as the
/// returned guard.
fn write<T: Serialize + ?Sized>(value: &T) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("roundtrip.hdf5");
    anam::to_file(&path, GROUP, value).unwrap_or_else(|e| panic!("to_file failed: {e}"));
    (dir, path)
}

/// Reads the group [`GROUP`] of `path` as a `T`.
fn read<T: DeserializeOwned>(path: &Path) -> T {
    anam::from_file(path, Some(GROUP)).unwrap_or_else(|e| panic!("from_file failed: {e}"))
}

/// Writes `value` and reads it back as a `U` (for lossless conversions).
fn write_read<T: Serialize + ?Sized, U: DeserializeOwned>(value: &T) -> U {
    let (_dir, path) = write(value);
    read(&path)
}

/// Writes `value` and reads it back as the same type.
fn roundtrip<T: Serialize + DeserializeOwned>(value: &T) -> T {
    write_read(value)
}

/// Round trip through `to_group`/`from_group` at a nested group of a file opened with the
/// `hdf5` crate.
fn roundtrip_group<T: Serialize + DeserializeOwned>(value: &T) -> T {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("group.hdf5");
    {
        let file = hdf5::File::create(&path).unwrap();
        let group = file.create_group("a").unwrap().create_group("b").unwrap();
        anam::to_group(value, &group).unwrap_or_else(|e| panic!("to_group failed: {e}"));
    }
    let file = hdf5::File::open(&path).unwrap();
    let group = file.group("a/b").unwrap();
    anam::from_group(&group).unwrap_or_else(|e| panic!("from_group failed: {e}"))
}

#[track_caller]
fn assert_roundtrip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let back = roundtrip(value);
    assert_eq!(&back, value, "to_file/from_file round trip");
    let back = roundtrip_group(value);
    assert_eq!(&back, value, "to_group/from_group round trip");
}

/// The `class` attribute of a group (written as a variable-length UTF-8 string).
fn class_of(group: &hdf5::Group) -> String {
    group
        .attr("class")
        .unwrap_or_else(|e| panic!("{} has no class attribute: {e}", group.name()))
        .read_scalar::<VarLenUnicode>()
        .unwrap()
        .as_str()
        .to_owned()
}

fn open_obj(path: &Path) -> (hdf5::File, hdf5::Group) {
    let file = hdf5::File::open(path).unwrap();
    let group = file.group(GROUP).unwrap();
    (file, group)
}

// ---------------------------------------------------------------------------------------
// Options and tuples
// ---------------------------------------------------------------------------------------

/// `None` is an absent entry and `Some(x)` is stored as `x`, so `Some(None)` is stored as
/// nothing and reads back as the outer `None`: `Option<Option<T>>` keeps `Some(Some(x))`
/// and `None` but collapses `Some(None)` into `None` (as Python, which has only one
/// `None`). `Option<()>` is different: `()` is a null-dataspace attribute, so `Some(())`
/// survives.
#[test]
fn option_of_option_collapses_some_none() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.OptOpt")]
    struct OptOpt {
        a: Option<Option<i32>>,
        b: Option<Option<String>>,
        list: Vec<Option<Option<i32>>>,
    }
    let v = OptOpt {
        a: Some(None),
        b: Some(None),
        list: vec![Some(None), Some(Some(4))],
    };
    let back: OptOpt = roundtrip(&v);
    assert_eq!(
        back,
        OptOpt {
            a: None,
            b: None,
            list: vec![None, Some(Some(4))],
        }
    );
    let (_dir, path) = write(&v);
    let (_file, group) = open_obj(&path);
    assert!(group
        .attr_names()
        .unwrap()
        .iter()
        .all(|n| n != "a" && n != "b"));
    assert!(!group.link_exists("a") && !group.link_exists("b"));
}

#[test]
fn tuples_numeric_become_datasets_and_mixed_become_lists() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Tuples")]
    struct Tuples {
        ints: (i32, i32, i32),
        floats: (f64, f64),
        mixed: (i32, String, f64),
        mixed_numeric: (u8, i64, f32),
        nested: ((i32, i32), (String, bool)),
        single: (i16,),
        array: [u16; 4],
    }
    let v = Tuples {
        ints: (1, -2, 3),
        floats: (0.5, f64::INFINITY),
        mixed: (7, "seven".into(), 7.5),
        mixed_numeric: (255, i64::MIN, -1.5),
        nested: ((1, 2), ("x".into(), true)),
        single: (-9,),
        array: [1, 2, 3, u16::MAX],
    };
    assert_roundtrip(&v);

    let (_dir, path) = write(&v);
    let (_file, group) = open_obj(&path);
    let ints = group
        .dataset("ints")
        .expect("homogeneous tuple is a dataset");
    assert_eq!(ints.shape(), vec![3]);
    assert_eq!(
        ints.dtype().unwrap().to_descriptor().unwrap(),
        TypeDescriptor::Integer(IntSize::U4)
    );
    assert_eq!(group.dataset("array").unwrap().shape(), vec![4]);
    assert_eq!(class_of(&group.group("mixed").unwrap()), LIST_CLASS);
    assert_eq!(class_of(&group.group("mixed_numeric").unwrap()), LIST_CLASS);
}

// ---------------------------------------------------------------------------------------
// Sequences
// ---------------------------------------------------------------------------------------

#[test]
fn vec_of_every_numeric_type() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Vecs")]
    struct Vecs {
        b: Vec<bool>,
        i8: Vec<i8>,
        i16: Vec<i16>,
        i32: Vec<i32>,
        i64: Vec<i64>,
        u8: Vec<u8>,
        u16: Vec<u16>,
        u32: Vec<u32>,
        u64: Vec<u64>,
        f32: Vec<f32>,
        f64: Vec<f64>,
        one: Vec<i32>,
        empty: Vec<f64>,
        empty_strings: Vec<String>,
    }
    let v = Vecs {
        b: vec![true, false, true],
        i8: vec![i8::MIN, 0, i8::MAX],
        i16: vec![i16::MIN, 0, i16::MAX],
        i32: vec![i32::MIN, 0, i32::MAX],
        i64: vec![i64::MIN, 0, i64::MAX],
        u8: vec![0, 1, u8::MAX],
        u16: vec![0, 1, u16::MAX],
        u32: vec![0, 1, u32::MAX],
        u64: vec![0, 1, u64::MAX],
        f32: vec![f32::MIN, -0.5, f32::MAX],
        f64: vec![f64::MIN, 1e-300, f64::MAX],
        one: vec![42],
        empty: vec![],
        empty_strings: vec![],
    };
    assert_roundtrip(&v);

    let (_dir, path) = write(&v);
    let (_file, group) = open_obj(&path);
    let expected: [(&str, TypeDescriptor); 11] = [
        ("b", bool::type_descriptor()),
        ("i8", i8::type_descriptor()),
        ("i16", i16::type_descriptor()),
        ("i32", i32::type_descriptor()),
        ("i64", i64::type_descriptor()),
        ("u8", u8::type_descriptor()),
        ("u16", u16::type_descriptor()),
        ("u32", u32::type_descriptor()),
        ("u64", u64::type_descriptor()),
        ("f32", f32::type_descriptor()),
        ("f64", f64::type_descriptor()),
    ];
    for (name, td) in expected {
        let ds = group
            .dataset(name)
            .unwrap_or_else(|e| panic!("Vec field `{name}` is not a dataset: {e}"));
        assert_eq!(ds.shape(), vec![3], "shape of `{name}`");
        assert_eq!(
            ds.dtype().unwrap().to_descriptor().unwrap(),
            td,
            "dtype of `{name}`"
        );
    }
    // An empty Vec is an empty float64 array, the same kind in Python as a non-empty one.
    let empty = group.group("empty").unwrap();
    assert_eq!(class_of(&empty), EMPTY_ARRAY_CLASS);
    assert_eq!(
        empty.dataset("shape").unwrap().read_raw::<i64>().unwrap(),
        [0]
    );
    assert_eq!(
        empty
            .dataset("dtype")
            .unwrap()
            .dtype()
            .unwrap()
            .to_descriptor()
            .unwrap(),
        f64::type_descriptor()
    );
}

// ---------------------------------------------------------------------------------------
// Maps
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Debug, PartialEq, Eq, PartialOrd, Ord, Clone, Hash)]
enum Color {
    Red,
    Green,
}

#[test]
fn maps_with_all_kinds_of_keys_and_values() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Maps")]
    struct Maps {
        string_keys: BTreeMap<String, i32>,
        hash: HashMap<String, String>,
        int_keys: BTreeMap<i64, String>,
        negative_keys: BTreeMap<i8, f64>,
        u64_keys: BTreeMap<u64, bool>,
        bool_keys: BTreeMap<bool, i32>,
        char_keys: BTreeMap<char, u8>,
        enum_keys: BTreeMap<Color, i32>,
        struct_values: BTreeMap<String, Person>,
        list_values: HashMap<String, Vec<f64>>,
        string_list_values: BTreeMap<u32, Vec<String>>,
        map_values: BTreeMap<String, BTreeMap<i32, Option<String>>>,
        empty: BTreeMap<String, i32>,
        unicode_keys: BTreeMap<String, i32>,
    }
    let v = Maps {
        string_keys: [("a".to_string(), 1), ("b".into(), 2)].into(),
        hash: [("k".to_string(), "v".to_string())].into(),
        int_keys: [
            (i64::MIN, "min".to_string()),
            (0, "zero".into()),
            (i64::MAX, "max".into()),
        ]
        .into(),
        negative_keys: [(-1, 0.5), (3, -0.5)].into(),
        u64_keys: [(u64::MAX, true), (0, false)].into(),
        bool_keys: [(true, 1), (false, 0)].into(),
        char_keys: [('x', 1), ('ü', 2)].into(),
        enum_keys: [(Color::Red, 1), (Color::Green, 2)].into(),
        struct_values: [("ann".to_string(), Person::new("Ann", 30))].into(),
        list_values: [("xs".to_string(), vec![1.0, 2.0]), ("none".into(), vec![])].into(),
        string_list_values: [(7, vec!["seven".to_string()])].into(),
        map_values: [(
            "inner".to_string(),
            [(1, Some("one".to_string())), (2, None)].into(),
        )]
        .into(),
        empty: BTreeMap::new(),
        unicode_keys: [
            ("東京".to_string(), 1),
            ("🚀".into(), 2),
            (String::new(), 3),
        ]
        .into(),
    };
    assert_roundtrip(&v);

    let (_dir, path) = write(&v);
    let (_file, group) = open_obj(&path);
    let dict = group.group("string_keys").unwrap();
    assert_eq!(class_of(&dict), DICT_CLASS);
    assert_eq!(dict.attr("count").unwrap().read_scalar::<i64>().unwrap(), 2);
    assert_eq!(class_of(&dict.group("dictkeys").unwrap()), LIST_CLASS);
    assert_eq!(class_of(&dict.group("dictdata").unwrap()), LIST_CLASS);
}

// ---------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Ext {
    Unit,
    Newtype(i32),
}

#[test]
fn enum_layout() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.EnumLayout")]
    struct EnumLayout {
        unit: Ext,
        newtype: Ext,
    }
    let (_dir, path) = write(&EnumLayout {
        unit: Ext::Unit,
        newtype: Ext::Newtype(3),
    });
    let (_file, group) = open_obj(&path);
    // A unit variant is a string attribute holding the variant name.
    let unit = group
        .attr("unit")
        .unwrap()
        .read_scalar::<VarLenUnicode>()
        .unwrap();
    assert_eq!(unit.as_str(), "Unit");
    // A variant with data is a one-entry dict {variant: value}.
    let newtype = group.group("newtype").unwrap();
    assert_eq!(class_of(&newtype), DICT_CLASS);
    let key = newtype
        .group("dictkeys")
        .unwrap()
        .attr("LIST_item0")
        .unwrap()
        .read_scalar::<VarLenUnicode>()
        .unwrap();
    assert_eq!(key.as_str(), "Newtype");
}

/// Internally tagged on `class`: the tag *is* the group's class attribute.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(tag = "class")]
enum Shape {
    #[serde(rename = "shapes.Circle")]
    Circle { r: f64 },
    #[serde(rename = "shapes.Rect")]
    Rect {
        w: f64,
        h: f64,
        label: Option<String>,
    },
    #[serde(rename = "shapes.Labelled")]
    Labelled(Label),
    #[serde(rename = "shapes.Empty")]
    Empty,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "shapes.Label")]
struct Label {
    text: String,
    at: (f64, f64),
    tags: Vec<String>,
    size: i32,
}

#[test]
fn internally_tagged_enum_uses_class_attribute() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Drawing")]
    struct Drawing {
        main: Shape,
        shapes: Vec<Shape>,
        by_name: BTreeMap<String, Shape>,
        maybe: Option<Shape>,
        nothing: Option<Shape>,
    }
    let label = Label {
        text: "hi 🚀".into(),
        at: (1.0, 2.0),
        tags: vec!["a".into()],
        size: 12,
    };
    let v = Drawing {
        main: Shape::Circle { r: 1.5 },
        shapes: vec![
            Shape::Circle { r: 2.0 },
            Shape::Rect {
                w: 1.0,
                h: 2.0,
                label: Some("r".into()),
            },
            Shape::Labelled(label.clone()),
            Shape::Empty,
            Shape::Rect {
                w: 3.0,
                h: 4.0,
                label: None,
            },
        ],
        by_name: [("c".to_string(), Shape::Circle { r: 0.5 })].into(),
        maybe: Some(Shape::Labelled(label)),
        nothing: None,
    };
    assert_roundtrip(&v);

    let (_dir, path) = write(&v);
    let (_file, group) = open_obj(&path);
    assert_eq!(class_of(&group), "tests.Drawing");
    let main = group.group("main").unwrap();
    assert_eq!(class_of(&main), "shapes.Circle");
    assert!(
        !main.link_exists("class"),
        "the tag must be the attribute, not a member"
    );
    assert_eq!(main.attr("r").unwrap().read_scalar::<f64>().unwrap(), 1.5);
    let shapes = group.group("shapes").unwrap();
    assert_eq!(class_of(&shapes), LIST_CLASS);
    let tags: Vec<String> = (0..5)
        .map(|i| class_of(&shapes.group(&format!("LIST_item{i}")).unwrap()))
        .collect();
    assert_eq!(
        tags,
        [
            "shapes.Circle",
            "shapes.Rect",
            "shapes.Labelled",
            "shapes.Empty",
            "shapes.Rect"
        ]
    );
    // The tag appears exactly once: as the attribute, never as a second `class` entry.
    let attrs = main.attr_names().unwrap();
    assert_eq!(attrs.iter().filter(|n| *n == "class").count(), 1);

    // Top level too.
    assert_roundtrip(&Shape::Circle { r: 3.0 });
    let (_dir, path) = write(&Shape::Rect {
        w: 1.0,
        h: 1.0,
        label: None,
    });
    let (_file, group) = open_obj(&path);
    assert_eq!(class_of(&group), "shapes.Rect");
}

// ---------------------------------------------------------------------------------------
// Bytes, nesting, defaults
// ---------------------------------------------------------------------------------------

#[test]
fn bytes_with_serde_bytes() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Bytes")]
    struct Bytes {
        #[serde(with = "serde_bytes")]
        data: Vec<u8>,
        #[serde(with = "serde_bytes")]
        empty: Vec<u8>,
        #[serde(with = "serde_bytes")]
        all_values: Vec<u8>,
        buf: ByteBuf,
        list: Vec<ByteBuf>,
        map: BTreeMap<String, ByteBuf>,
        maybe: Option<ByteBuf>,
        nothing: Option<ByteBuf>,
    }
    let v = Bytes {
        data: vec![1, 2, 3, 0, 255],
        empty: vec![],
        all_values: (0..=255).collect(),
        buf: ByteBuf::from(b"hello\0world".to_vec()),
        list: vec![
            ByteBuf::from(vec![1]),
            ByteBuf::new(),
            ByteBuf::from(vec![2, 3]),
        ],
        map: [("k".to_string(), ByteBuf::from(vec![9u8; 10]))].into(),
        maybe: Some(ByteBuf::from(vec![0])),
        nothing: None,
    };
    assert_roundtrip(&v);

    let (_dir, path) = write(&v);
    let (_file, group) = open_obj(&path);
    let data = group.dataset("data").unwrap();
    assert_eq!(data.shape(), vec![5]);
    assert_eq!(
        data.dtype().unwrap().to_descriptor().unwrap(),
        TypeDescriptor::Unsigned(IntSize::U1)
    );
    assert_eq!(class_of(&group.group("empty").unwrap()), EMPTY_ARRAY_CLASS);
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Person")]
struct Person {
    name: String,
    age: i64,
}

impl Person {
    fn new(name: &str, age: i64) -> Self {
        Person {
            name: name.into(),
            age,
        }
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "tests.Level1")]
struct Level1 {
    name: String,
    two: Level2,
    twos: Vec<Level2>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "tests.Level2")]
struct Level2 {
    id: u32,
    three: Level3,
    by_key: BTreeMap<String, Level3>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "tests.Level3")]
struct Level3 {
    values: Vec<f64>,
    person: Option<Person>,
    #[serde(with = "anam::array")]
    grid: Array2<i32>,
}

#[test]
fn nested_structs_three_levels_deep() {
    let l3 = |k: i32| Level3 {
        values: vec![f64::from(k); 3],
        person: (k % 2 == 0).then(|| Person::new("even", k.into())),
        grid: Array2::from_shape_fn((2, 2), |(i, j)| k + (i * 2 + j) as i32),
    };
    let l2 = |k: u32| Level2 {
        id: k,
        three: l3(k as i32),
        by_key: [("a".to_string(), l3(10 + k as i32))].into(),
    };
    let v = Level1 {
        name: "top".into(),
        two: l2(1),
        twos: vec![l2(2), l2(3)],
    };
    assert_roundtrip(&v);

    let (_dir, path) = write(&v);
    let file = hdf5::File::open(&path).unwrap();
    assert_eq!(
        class_of(&file.group("obj/two/three").unwrap()),
        "tests.Level3"
    );
    assert_eq!(
        class_of(&file.group("obj/twos/LIST_item1/three").unwrap()),
        "tests.Level3"
    );
    assert_eq!(
        file.dataset("obj/twos/LIST_item1/by_key/dictdata/LIST_item0/grid")
            .unwrap()
            .shape(),
        vec![2, 2]
    );
}

#[test]
fn default_fields_absent_from_the_file() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Versioned")]
    struct V1 {
        a: i32,
    }
    fn default_c() -> f64 {
        2.5
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Versioned")]
    struct V2 {
        a: i32,
        #[serde(default)]
        b: Vec<String>,
        #[serde(default = "default_c")]
        c: f64,
        d: Option<i32>,
        #[serde(default)]
        e: BTreeMap<String, i32>,
        #[serde(default)]
        f: Person2,
        #[serde(with = "anam::array::option", default)]
        g: Option<ArrayD<f64>>,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq, Default)]
    #[serde(rename = "tests.Person2")]
    struct Person2 {
        #[serde(default)]
        name: String,
    }
    let back: V2 = write_read(&V1 { a: 7 });
    assert_eq!(
        back,
        V2 {
            a: 7,
            b: vec![],
            c: 2.5,
            d: None,
            e: BTreeMap::new(),
            f: Person2::default(),
            g: None,
        }
    );
    // And a container-level default.
    #[derive(Serialize, Deserialize, Debug, PartialEq, Default)]
    #[serde(rename = "tests.Versioned", default)]
    struct V3 {
        a: i32,
        z: String,
    }
    let back: V3 = write_read(&V1 { a: 1 });
    assert_eq!(
        back,
        V3 {
            a: 1,
            z: String::new()
        }
    );
}

#[test]
fn several_objects_in_one_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.hdf5");
    anam::to_file(&path, "b_person", &Person::new("B", 2)).unwrap();
    anam::to_file(&path, "a_person", &Person::new("A", 1)).unwrap();
    anam::to_file(&path, "c_list", &vec!["x".to_string()]).unwrap();
    // Rewriting a group replaces it and keeps the others.
    anam::to_file(&path, "b_person", &Person::new("B2", 3)).unwrap();
    let b: Person = anam::from_file(&path, Some("b_person")).unwrap();
    assert_eq!(b, Person::new("B2", 3));
    let first: Person = anam::from_file(&path, None).unwrap();
    assert_eq!(
        first,
        Person::new("A", 1),
        "None loads the first group by name"
    );
    let list: Vec<String> = anam::from_file(&path, Some("c_list")).unwrap();
    assert_eq!(list, ["x"]);
}

// ---------------------------------------------------------------------------------------
// Layout checks with the hdf5 crate
// ---------------------------------------------------------------------------------------

#[test]
fn layout_of_scalars_lists_and_arrays() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Layout")]
    struct Layout {
        flag: bool,
        count: i64,
        ratio: f64,
        text: String,
        nothing: Option<i32>,
        unit: (),
        floats: Vec<f64>,
        words: Vec<String>,
        person: Person,
        #[serde(with = "anam::array")]
        grid: Array2<f64>,
        #[serde(with = "anam::array")]
        empty: ArrayD<i32>,
        #[serde(with = "anam::array")]
        zero_d: Array0<f64>,
    }
    let v = Layout {
        flag: true,
        count: 3,
        ratio: 0.5,
        text: "t".into(),
        nothing: None,
        unit: (),
        floats: vec![1.0, 2.0, 3.0, 4.0],
        words: vec!["a".into(), "b".into(), "c".into()],
        person: Person::new("P", 1),
        grid: Array2::zeros((3, 4)),
        empty: ArrayD::zeros(IxDyn(&[2, 0, 5])),
        zero_d: ndarray::arr0(6.5),
    };
    assert_roundtrip(&v);
    let (_dir, path) = write(&v);
    let (_file, group) = open_obj(&path);

    assert_eq!(class_of(&group), "tests.Layout");
    let td = |a: hdf5::Attribute| a.dtype().unwrap().to_descriptor().unwrap();
    assert_eq!(td(group.attr("flag").unwrap()), TypeDescriptor::Boolean);
    assert_eq!(
        td(group.attr("count").unwrap()),
        TypeDescriptor::Integer(IntSize::U8)
    );
    assert_eq!(
        td(group.attr("ratio").unwrap()),
        TypeDescriptor::Float(FloatSize::U8)
    );
    assert_eq!(
        td(group.attr("text").unwrap()),
        TypeDescriptor::VarLenUnicode
    );
    assert!(!group.attr_names().unwrap().contains(&"nothing".to_string()));
    assert!(!group.link_exists("nothing"));
    assert!(group.attr("unit").unwrap().space().unwrap().is_null());

    let floats = group.dataset("floats").unwrap();
    assert_eq!(floats.shape(), vec![4], "Vec<f64> is a 1-D dataset");
    assert_eq!(floats.read_raw::<f64>().unwrap(), [1.0, 2.0, 3.0, 4.0]);

    let words = group.group("words").unwrap();
    assert_eq!(class_of(&words), LIST_CLASS);
    assert_eq!(
        words.attr("count").unwrap().read_scalar::<i64>().unwrap(),
        3
    );
    assert_eq!(
        words
            .attr("LIST_item2")
            .unwrap()
            .read_scalar::<VarLenUnicode>()
            .unwrap()
            .as_str(),
        "c"
    );

    assert_eq!(class_of(&group.group("person").unwrap()), "tests.Person");

    let grid = group.dataset("grid").unwrap();
    assert_eq!(grid.shape(), vec![3, 4]);
    assert_eq!(
        grid.dtype().unwrap().to_descriptor().unwrap(),
        TypeDescriptor::Float(FloatSize::U8)
    );

    let empty = group.group("empty").unwrap();
    assert_eq!(class_of(&empty), EMPTY_ARRAY_CLASS);
    assert_eq!(
        empty.dataset("shape").unwrap().read_raw::<i64>().unwrap(),
        [2, 0, 5]
    );
    let dtype = empty.dataset("dtype").unwrap();
    assert_eq!(dtype.shape(), vec![2]);
    assert_eq!(
        dtype.dtype().unwrap().to_descriptor().unwrap(),
        TypeDescriptor::Integer(IntSize::U4)
    );

    let zero_d = group.group("zero_d").unwrap();
    assert_eq!(class_of(&zero_d), EMPTY_ARRAY_CLASS);
    assert!(
        !zero_d.link_exists("shape"),
        "0-d arrays have no shape dataset"
    );
}

// ---------------------------------------------------------------------------------------
// Arrays: every dtype x every rank
// ---------------------------------------------------------------------------------------

/// Deterministic, varied element values (never all zero, so 0-d arrays test the value).
trait Sample: anam::Element + H5Type + PartialEq + Debug {
    fn sample(i: usize) -> Self;
}

impl Sample for bool {
    fn sample(i: usize) -> Self {
        i % 3 != 1
    }
}

macro_rules! sample_int {
    ($($t:ty),*) => {
        $(impl Sample for $t {
            fn sample(i: usize) -> Self {
                match i % 4 {
                    0 => <$t>::MAX,
                    1 => <$t>::MIN,
                    2 => (i as $t).wrapping_mul(3),
                    _ => (i as $t).wrapping_sub(7),
                }
            }
        })*
    };
}
sample_int!(i8, i16, i32, i64, u8, u16, u32, u64);

macro_rules! sample_float {
    ($($t:ident),*) => {
        $(impl Sample for $t {
            fn sample(i: usize) -> Self {
                match i % 5 {
                    0 => 1.5,
                    1 => -2.25e10,
                    2 => $t::INFINITY,
                    3 => i as $t * 0.125 - 7.0,
                    _ => $t::MIN_POSITIVE / 4.0, // subnormal
                }
            }
        })*
    };
}
sample_float!(f32, f64);

macro_rules! sample_complex {
    ($($t:ident),*) => {
        $(impl Sample for Complex<$t> {
            fn sample(i: usize) -> Self {
                Complex::new($t::sample(i), $t::sample(i + 2))
            }
        })*
    };
}
sample_complex!(f32, f64);

fn sample_array<T: Sample>(shape: &[usize]) -> ArrayD<T> {
    let n = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(T::sample).collect()).unwrap()
}

/// A newtype that makes an array usable as a list element or map value.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "tests.Arr", bound = "T: anam::Element")]
struct Arr<T: anam::Element>(#[serde(with = "anam::array")] ArrayD<T>);

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "tests.ArrayHolder", bound = "T: anam::Element")]
struct ArrayHolder<T: anam::Element> {
    #[serde(with = "anam::array")]
    a: ArrayD<T>,
    #[serde(with = "anam::array::option", default)]
    some: Option<ArrayD<T>>,
    #[serde(with = "anam::array::option", default)]
    none: Option<ArrayD<T>>,
    list: Vec<Arr<T>>,
    map: BTreeMap<String, Arr<T>>,
}

/// Every rank 0..=4, with a zero-length axis in each position.
const SHAPES: &[&[usize]] = &[
    &[],
    &[5],
    &[1],
    &[0],
    &[2, 3],
    &[1, 1],
    &[0, 3],
    &[3, 0],
    &[2, 3, 4],
    &[0, 2, 3],
    &[2, 0, 3],
    &[2, 3, 0],
    &[2, 1, 3, 2],
    &[0, 1, 2, 3],
    &[1, 0, 2, 3],
    &[1, 2, 0, 3],
    &[1, 2, 3, 0],
];

/// Checks that `obj/<name>` is one dataset of the right shape and dtype, or the
/// `AnamEmptyArray` group for an empty or 0-d array.
fn check_array_layout<T: Sample>(path: &Path, name: &str, shape: &[usize], case: &str) {
    let file = hdf5::File::open(path).unwrap();
    let group = file.group(GROUP).unwrap();
    if shape.is_empty() || shape.contains(&0) {
        let g = group
            .group(name)
            .unwrap_or_else(|e| panic!("{case}: empty array is not a group: {e}"));
        assert_eq!(class_of(&g), EMPTY_ARRAY_CLASS, "{case}");
        if shape.is_empty() {
            assert!(!g.link_exists("shape"), "{case}: 0-d has no shape");
        } else {
            let stored: Vec<i64> = g.dataset("shape").unwrap().read_raw().unwrap();
            let expected: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
            assert_eq!(stored, expected, "{case}: shape dataset");
        }
        let dtype = g.dataset("dtype").unwrap();
        assert_eq!(
            dtype.shape(),
            vec![2],
            "{case}: dtype dataset has 2 elements"
        );
        assert_eq!(
            dtype.dtype().unwrap().to_descriptor().unwrap(),
            T::type_descriptor(),
            "{case}: dtype of the dtype dataset"
        );
    } else {
        let ds = group
            .dataset(name)
            .unwrap_or_else(|e| panic!("{case}: non-empty array is not one dataset: {e}"));
        assert_eq!(ds.shape(), shape, "{case}: dataset shape");
        assert_eq!(
            ds.dtype().unwrap().to_descriptor().unwrap(),
            T::type_descriptor(),
            "{case}: dataset dtype"
        );
        let stored = ds.read_dyn::<T>().unwrap();
        assert_eq!(stored, sample_array::<T>(shape), "{case}: dataset content");
    }
}

fn check_array_dtype<T: Sample>(ty: &str) {
    for &shape in SHAPES {
        let case = format!("{ty} shape {shape:?}");
        let a = sample_array::<T>(shape);
        let holder = ArrayHolder {
            a: a.clone(),
            some: Some(a.clone()),
            none: None,
            list: vec![Arr(a.clone()), Arr(a.clone())],
            map: [("k".to_string(), Arr(a.clone()))].into(),
        };
        let (_dir, path) = write(&holder);
        let back: ArrayHolder<T> = read(&path);
        assert_eq!(back, holder, "{case}");
        if shape.is_empty() {
            assert_eq!(back.a.first(), Some(&T::sample(0)), "{case}: 0-d value");
        }
        check_array_layout::<T>(&path, "a", shape, &case);

        // The array at top level (a list of arrays) and via to_group.
        let list = vec![Arr(a.clone())];
        assert_eq!(roundtrip(&list), list, "{case}: top-level list of arrays");
        assert_eq!(roundtrip_group(&holder), holder, "{case}: via to_group");
    }
}

macro_rules! array_matrix {
    ($($name:ident: $t:ty;)*) => {
        $(
            #[test]
            fn $name() {
                check_array_dtype::<$t>(stringify!($t));
            }
        )*
    };
}

array_matrix! {
    array_bool: bool;
    array_i8: i8;
    array_i16: i16;
    array_i32: i32;
    array_i64: i64;
    array_u8: u8;
    array_u16: u16;
    array_u32: u32;
    array_u64: u64;
    array_f32: f32;
    array_f64: f64;
    array_complex32: Complex32;
    array_complex64: Complex64;
}

#[test]
fn non_standard_layout_arrays() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Owned")]
    struct Owned {
        #[serde(with = "anam::array")]
        a: Array2<f64>,
        #[serde(with = "anam::array")]
        d: ArrayD<i32>,
    }
    // Write-only mirror of `Owned` that borrows views.
    #[derive(Serialize)]
    #[serde(rename = "tests.Owned")]
    struct Views<'a> {
        #[serde(serialize_with = "anam::array::serialize")]
        a: ndarray::ArrayView2<'a, f64>,
        #[serde(serialize_with = "anam::array::serialize")]
        d: ndarray::ArrayViewD<'a, i32>,
    }

    let base = Array2::from_shape_fn((2, 3), |(i, j)| (10 * i + j) as f64);
    let base3 = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |ix| {
        (ix[0] * 100 + ix[1] * 10 + ix[2]) as i32
    });

    // Owned arrays in Fortran order (reversed axes): not standard layout.
    let transposed = base.clone().reversed_axes();
    assert!(!transposed.is_standard_layout());
    let permuted = base3.clone().permuted_axes(IxDyn(&[2, 0, 1]));
    assert!(!permuted.is_standard_layout());
    let v = Owned {
        a: transposed.clone(),
        d: permuted.clone(),
    };
    let back: Owned = roundtrip(&v);
    assert_eq!(back, v);
    assert_eq!(back.a, base.t());
    assert_eq!(back.a.shape(), [3, 2]);

    // Views: transposed, strided and reversed.
    let cases: Vec<(&str, Views<'_>, Owned)> = vec![
        (
            "transposed view",
            Views {
                a: base.t(),
                d: base3.view().reversed_axes(),
            },
            Owned {
                a: base.t().to_owned(),
                d: base3.view().reversed_axes().to_owned(),
            },
        ),
        (
            "strided view",
            Views {
                a: base.slice(s![.., ..;2]),
                d: base3.slice(s![.., 1.., ..;3]).into_dyn(),
            },
            Owned {
                a: base.slice(s![.., ..;2]).to_owned(),
                d: base3.slice(s![.., 1.., ..;3]).into_dyn().to_owned(),
            },
        ),
        (
            "reversed view",
            Views {
                a: base.slice(s![..;-1, ..]),
                d: base3.slice(s![.., ..;-1, ..]).into_dyn(),
            },
            Owned {
                a: base.slice(s![..;-1, ..]).to_owned(),
                d: base3.slice(s![.., ..;-1, ..]).into_dyn().to_owned(),
            },
        ),
    ];
    for (case, views, expected) in cases {
        let back: Owned = write_read(&views);
        assert_eq!(back, expected, "{case}");
    }
}

#[test]
fn optional_arrays() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.OptArrays")]
    struct OptArrays {
        #[serde(with = "anam::array::option", default)]
        some: Option<ArrayD<f64>>,
        #[serde(with = "anam::array::option", default)]
        none: Option<ArrayD<f64>>,
        #[serde(with = "anam::array::option", default)]
        some_empty: Option<ArrayD<f64>>,
        #[serde(with = "anam::array::option", default)]
        some_0d: Option<ArrayD<f64>>,
    }
    let v = OptArrays {
        some: Some(ArrayD::from_shape_vec(IxDyn(&[2, 2]), vec![1.0, 2.0, 3.0, 4.0]).unwrap()),
        none: None,
        some_empty: Some(ArrayD::zeros(IxDyn(&[0]))),
        some_0d: Some(ndarray::arr0(5.0).into_dyn()),
    };
    assert_roundtrip(&v);
    let (_dir, path) = write(&v);
    let (_file, group) = open_obj(&path);
    assert!(group.dataset("some").is_ok());
    assert!(!group.link_exists("none") && !group.attr_names().unwrap().contains(&"none".into()));
}

// ---------------------------------------------------------------------------------------
// Lossless reads, and the same types through serde_json
// ---------------------------------------------------------------------------------------

#[test]
fn integers_and_floats_read_into_wider_or_fitting_types() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Num")]
    struct Wide {
        n: i64,
        small: u8,
        f: f32,
        list: Vec<i64>,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Num")]
    struct Narrow {
        n: i32,
        small: i64,
        f: f64,
        list: Vec<i16>,
    }
    for n in [0, -7, i64::from(i32::MAX), i64::from(i32::MIN)] {
        let back: Narrow = write_read(&Wide {
            n,
            small: 200,
            f: 0.5,
            list: vec![1, -2, 300],
        });
        assert_eq!(
            back,
            Narrow {
                n: n as i32,
                small: 200,
                f: 0.5,
                list: vec![1, -2, 300],
            },
            "n = {n}"
        );
    }
}

#[test]
fn arrays_read_into_wider_dtypes() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Widen")]
    struct Stored {
        #[serde(with = "anam::array")]
        a: Array2<i32>,
        #[serde(with = "anam::array")]
        b: Array2<i32>,
        #[serde(with = "anam::array")]
        c: Array1<u8>,
        #[serde(with = "anam::array")]
        d: Array1<f32>,
        #[serde(with = "anam::array")]
        e: Array1<Complex32>,
        #[serde(with = "anam::array")]
        f: ArrayD<u16>,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "tests.Widen")]
    struct Loaded {
        #[serde(with = "anam::array")]
        a: Array2<i64>,
        #[serde(with = "anam::array")]
        b: Array2<f64>,
        #[serde(with = "anam::array")]
        c: Array1<i16>,
        #[serde(with = "anam::array")]
        d: Array1<Complex64>,
        #[serde(with = "anam::array")]
        e: Array1<Complex64>,
        #[serde(with = "anam::array")]
        f: ArrayD<u64>,
    }
    let stored = Stored {
        a: array![[i32::MIN, 0], [1, i32::MAX]],
        b: array![[i32::MIN, 0], [1, i32::MAX]],
        c: array![0, 255],
        d: array![0.5, -1.5],
        e: array![Complex32::new(1.0, -2.0)],
        f: ArrayD::zeros(IxDyn(&[0, 2])),
    };
    let back: Loaded = write_read(&stored);
    assert_eq!(
        back,
        Loaded {
            a: array![[i64::from(i32::MIN), 0], [1, i64::from(i32::MAX)]],
            b: array![[f64::from(i32::MIN), 0.0], [1.0, f64::from(i32::MAX)]],
            c: array![0, 255],
            d: array![Complex64::new(0.5, 0.0), Complex64::new(-1.5, 0.0)],
            e: array![Complex64::new(1.0, -2.0)],
            f: ArrayD::zeros(IxDyn(&[0, 2])),
        }
    );
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "tests.JsonToo")]
struct JsonToo {
    name: String,
    #[serde(with = "anam::array")]
    grid: Array2<f64>,
    #[serde(with = "anam::array")]
    ints: ArrayD<i32>,
    #[serde(with = "anam::array")]
    flags: Array1<bool>,
    #[serde(with = "anam::array")]
    complex: Array1<Complex64>,
    #[serde(with = "anam::array")]
    empty: ArrayD<u8>,
    #[serde(with = "anam::array")]
    scalar: Array0<f32>,
    #[serde(with = "anam::array::option", default)]
    maybe: Option<ArrayD<f64>>,
    #[serde(with = "anam::array::option", default)]
    nothing: Option<ArrayD<f64>>,
}

#[test]
fn array_fields_also_round_trip_through_json() {
    let v = JsonToo {
        name: "j".into(),
        grid: array![[1.0, 2.5, -3.0], [4.0, 5.0, 6.0]],
        ints: ArrayD::from_shape_vec(IxDyn(&[2, 1, 2]), vec![1, -2, i32::MAX, i32::MIN]).unwrap(),
        flags: array![true, false],
        complex: array![Complex64::new(1.0, 2.0)],
        empty: ArrayD::zeros(IxDyn(&[3, 0])),
        scalar: ndarray::arr0(2.5),
        maybe: Some(ArrayD::from_elem(IxDyn(&[2]), 7.0)),
        nothing: None,
    };
    // HDF5.
    assert_roundtrip(&v);

    // JSON: {dtype, shape, data} with `data` a flat list of numbers.
    let json = serde_json::to_value(&v).unwrap();
    let grid = &json["grid"];
    assert_eq!(grid["dtype"], "float64", "{json}");
    assert_eq!(grid["shape"], serde_json::json!([2, 3]), "{json}");
    assert_eq!(
        grid["data"],
        serde_json::json!([1.0, 2.5, -3.0, 4.0, 5.0, 6.0]),
        "{json}"
    );
    assert!(grid["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x.is_number()));
    assert_eq!(json["ints"]["dtype"], "int32");
    assert_eq!(json["ints"]["shape"], serde_json::json!([2, 1, 2]));
    assert_eq!(
        json["ints"]["data"],
        serde_json::json!([1, -2, i32::MAX, i32::MIN])
    );
    assert_eq!(json["flags"]["dtype"], "bool");
    assert_eq!(json["complex"]["dtype"], "complex128");
    assert_eq!(json["empty"]["shape"], serde_json::json!([3, 0]));
    assert_eq!(json["empty"]["data"], serde_json::json!([]));
    assert_eq!(json["scalar"]["shape"], serde_json::json!([]));
    assert_eq!(json["scalar"]["data"], serde_json::json!([2.5]));
    assert_eq!(json["nothing"], serde_json::Value::Null);

    let text = serde_json::to_string(&v).unwrap();
    let back: JsonToo = serde_json::from_str(&text).unwrap();
    assert_eq!(back, v, "JSON round trip of {text}");

    // A JSON array written by hand (integers for a float array) also loads.
    let hand = r#"{"name":"h","grid":{"dtype":"float64","shape":[1,2],"data":[1,2]},
        "ints":{"dtype":"int32","shape":[0],"data":[]},
        "flags":{"dtype":"bool","shape":[1],"data":[true]},
        "complex":{"dtype":"complex128","shape":[1],"data":[[0.0,1.0]]},
        "empty":{"dtype":"uint8","shape":[0,0],"data":[]},
        "scalar":{"dtype":"float32","shape":[],"data":[1.5]}}"#;
    let back: JsonToo = serde_json::from_str(hand).unwrap();
    assert_eq!(back.grid, array![[1.0, 2.0]]);
    assert_eq!(back.maybe, None);
}
