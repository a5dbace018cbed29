//! Bad input never panics: every case below is an `Err` whose message says what went wrong
//! and where (the HDF5 path of the group, attribute or dataset).
//!
//! Files are either written by the crate and read back as an incompatible type, or crafted
//! with the `hdf5` crate directly.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use anam::format::{DICT_CLASS, EMPTY_ARRAY_CLASS, LIST_CLASS};
use anam::hdf5;
use anam::hdf5::types::{FixedAscii, TypeDescriptor, VarLenAscii, VarLenUnicode};
use anam::hdf5::H5Type;
use ndarray::{Array0, Array1, Array2, Array3, ArrayD, IxDyn};
use num_complex::Complex64;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The group every test writes or crafts.
const GRP: &str = "grp";

fn temp_path() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("bad.hdf5");
    (dir, path)
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "<non-string panic>".into())
}

/// Runs `f`, turning a panic into a test failure that says so.
fn no_panic<R>(what: &str, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(p) => panic!(
            "{what} panicked instead of returning an error: {}",
            panic_message(p)
        ),
    }
}

/// Reads `T` from the group [`GRP`] of `path`, expecting an error.
fn load_err<T: DeserializeOwned + Debug>(path: &Path) -> anam::Error {
    match no_panic("from_file", || anam::from_file::<T>(path, Some(GRP))) {
        Ok(v) => panic!("expected an error, but read {v:?}"),
        Err(e) => e,
    }
}

/// Writes `value` with the crate, then reads it back as `R`, expecting an error.
fn write_then_load_err<W: Serialize, R: DeserializeOwned + Debug>(value: &W) -> anam::Error {
    let (_dir, path) = temp_path();
    anam::to_file(&path, GRP, value).unwrap_or_else(|e| panic!("writing failed: {e}"));
    load_err::<R>(&path)
}

/// Writes `value` with the crate, expecting an error.
fn write_err<W: Serialize + ?Sized>(value: &W) -> anam::Error {
    let (_dir, path) = temp_path();
    match no_panic("to_file", || anam::to_file(&path, GRP, value)) {
        Ok(()) => panic!("expected writing to fail"),
        Err(e) => e,
    }
}

/// Creates a file with the group [`GRP`] and lets `f` fill it with the `hdf5` crate.
fn craft(f: impl FnOnce(&hdf5::Group) -> hdf5::Result<()>) -> (TempDir, PathBuf) {
    let (dir, path) = temp_path();
    {
        let file = hdf5::File::create(&path).unwrap();
        let group = file.create_group(GRP).unwrap();
        f(&group).unwrap_or_else(|e| panic!("crafting the file failed: {e}"));
    }
    (dir, path)
}

fn str_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = value.parse().unwrap();
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&v)
}

fn i64_attr(loc: &hdf5::Location, name: &str, value: i64) -> hdf5::Result<()> {
    loc.new_attr::<i64>().create(name)?.write_scalar(&value)
}

/// A subgroup with a `class` attribute.
fn class_group(parent: &hdf5::Group, name: &str, class: &str) -> hdf5::Result<hdf5::Group> {
    let g = parent.create_group(name)?;
    str_attr(&g, "class", class)?;
    Ok(g)
}

/// Asserts that `err` is located at `path` (or below it) and that its message contains
/// `path` and every one of `words`.
#[track_caller]
fn assert_error(err: &anam::Error, path: &str, words: &[&str]) {
    let msg = err.to_string();
    assert!(
        msg.contains(path),
        "error `{msg}` should name the path `{path}`"
    );
    let at = err
        .path()
        .unwrap_or_else(|| panic!("error `{msg}` has no path"));
    assert!(
        at == path || at.starts_with(&format!("{path}/")),
        "error `{msg}` should be located at `{path}`, is at `{at}`"
    );
    for w in words {
        assert!(msg.contains(w), "error `{msg}` should mention `{w}`");
    }
}

/// A one-field object, generic in the field's type, to write one type and read another.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "tests.X")]
struct X<T> {
    x: T,
}

/// Same tag and field as [`X`], for arrays.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "tests.X", bound = "T: anam::Element, D: ndarray::Dimension")]
struct XArr<T: anam::Element, D: ndarray::Dimension> {
    #[serde(with = "anam::array")]
    x: ndarray::Array<T, D>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "tests.Person")]
struct Person {
    name: String,
    age: i64,
}

fn person() -> Person {
    Person {
        name: "Fred".into(),
        age: 42,
    }
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum Ext {
    Unit,
    Newtype(i32),
    Tuple(i32, String),
    Struct { a: i32 },
}

// ---------------------------------------------------------------------------------------
// Class tags
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "tests.Cat")]
struct Cat {
    name: String,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "tests.Dog")]
struct Dog {
    name: String,
}

#[test]
fn wrong_class_tag_names_found_expected_and_group() {
    let cat = || Cat { name: "Tom".into() };
    let err = write_then_load_err::<_, Dog>(&cat());
    assert_error(&err, "/grp", &["tests.Cat", "tests.Dog", "class"]);
    assert!(
        matches!(err.kind(), anam::ErrorKind::ClassMismatch { .. }),
        "{err:?}"
    );

    let err = write_then_load_err::<_, X<Dog>>(&X { x: cat() });
    assert_error(&err, "/grp/x", &["tests.Cat", "tests.Dog"]);

    let err = write_then_load_err::<_, X<Vec<Dog>>>(&X {
        x: vec![cat(), cat()],
    });
    assert_error(&err, "/grp/x/LIST_item0", &["tests.Cat", "tests.Dog"]);

    let err = write_then_load_err::<_, X<BTreeMap<String, Dog>>>(&X {
        x: BTreeMap::from([("tom".to_string(), cat())]),
    });
    assert_error(
        &err,
        "/grp/x/dictdata/LIST_item0",
        &["tests.Cat", "tests.Dog"],
    );

    // A list where an object was expected: the found tag is the list's.
    let err = write_then_load_err::<_, X<Dog>>(&X {
        x: vec!["a".to_string()],
    });
    assert_error(&err, "/grp/x", &[LIST_CLASS, "tests.Dog"]);
}

#[test]
fn group_without_class_attribute() {
    let (_dir, path) = craft(|g| {
        str_attr(g, "name", "Fred")?;
        i64_attr(g, "age", 42)
    });
    let err = load_err::<Person>(&path);
    assert_error(&err, "/grp", &["class", "tests.Person"]);
    assert!(
        matches!(err.kind(), anam::ErrorKind::MissingClass { .. }),
        "{err:?}"
    );

    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        let p = g.create_group("x")?;
        str_attr(&p, "name", "Fred")?;
        i64_attr(&p, "age", 42)
    });
    let err = load_err::<X<Person>>(&path);
    assert_error(&err, "/grp/x", &["class", "tests.Person"]);
}

#[test]
fn class_attribute_of_the_wrong_type() {
    let (_dir, path) = craft(|g| {
        i64_attr(g, "class", 7)?;
        str_attr(g, "name", "Fred")?;
        i64_attr(g, "age", 42)
    });
    let err = load_err::<Person>(&path);
    // Says which attribute is wrong, not only that some string was expected.
    assert_error(&err, "/grp", &["class", "string", "int64"]);
}

// ---------------------------------------------------------------------------------------
// Missing fields and wrong types
// ---------------------------------------------------------------------------------------

#[test]
fn missing_non_optional_field_names_the_field() {
    #[derive(Serialize, Deserialize, Debug)]
    #[serde(rename = "tests.Person")]
    struct NameOnly {
        name: String,
    }
    let err = write_then_load_err::<_, Person>(&NameOnly { name: "F".into() });
    assert_error(&err, "/grp", &["missing field", "age"]);

    let err = write_then_load_err::<_, X<Vec<Person>>>(&X {
        x: vec![NameOnly { name: "F".into() }],
    });
    assert_error(&err, "/grp/x/LIST_item0", &["missing field", "age"]);

    // A None list element read into a non-optional type.
    let err = write_then_load_err::<_, X<Vec<i32>>>(&X {
        x: vec![Some(1), None, Some(3)],
    });
    assert_error(&err, "/grp/x/LIST_item1", &["i32"]);
}

#[test]
fn wrong_types() {
    // String attribute read as an integer.
    let err = write_then_load_err::<_, X<i32>>(&X { x: "forty" });
    assert_error(&err, "/grp/x", &["forty", "i32"]);

    // Bool read as string, float read as integer.
    let err = write_then_load_err::<_, X<String>>(&X { x: true });
    assert_error(&err, "/grp/x", &["true", "string"]);
    let err = write_then_load_err::<_, X<i32>>(&X { x: 1.5 });
    assert_error(&err, "/grp/x", &["1.5", "i32"]);

    // A group (object) where a scalar was expected.
    let err = write_then_load_err::<_, X<f64>>(&X { x: person() });
    assert_error(&err, "/grp/x", &["group", "tests.Person"]);

    // An attribute where an object was expected.
    let err = write_then_load_err::<_, X<Person>>(&X { x: 5i64 });
    assert_error(&err, "/grp/x", &["tests.Person", "attribute", "int64"]);

    // A dataset (array) where a scalar was expected.
    let err = write_then_load_err::<_, X<f64>>(&X { x: vec![1.0, 2.0] });
    assert_error(&err, "/grp/x", &["f64"]);

    // An object where a list was expected.
    let err = write_then_load_err::<_, X<Vec<i32>>>(&X { x: person() });
    assert_error(&err, "/grp/x", &["list", "tests.Person"]);

    // A string where an array was expected; a list of strings where an array was expected.
    let err = write_then_load_err::<_, XArr<f64, ndarray::Ix1>>(&X { x: "s" });
    assert_error(&err, "/grp/x", &["array", "string"]);
    let err = write_then_load_err::<_, XArr<f64, ndarray::Ix1>>(&X {
        x: vec!["a".to_string(), "b".into()],
    });
    assert_error(&err, "/grp/x", &["array", LIST_CLASS]);

    // A multi-character string is not a char.
    let err = write_then_load_err::<_, X<char>>(&X { x: "ab" });
    assert_error(&err, "/grp/x", &["ab", "char"]);
}

#[test]
fn map_key_of_the_wrong_type() {
    let err = write_then_load_err::<_, X<BTreeMap<i32, i32>>>(&X {
        x: BTreeMap::from([("one".to_string(), 1)]),
    });
    assert_error(&err, "/grp/x/dictkeys/LIST_item0", &["one", "i32"]);
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "tests.Aged")]
struct Aged<T> {
    name: String,
    age: T,
}

#[test]
fn out_of_range_integers() {
    fn aged<T>(age: T) -> Aged<T> {
        Aged {
            name: "A".into(),
            age,
        }
    }
    let err = write_then_load_err::<_, Aged<u8>>(&aged(-3i64));
    assert_error(&err, "/grp/age", &["-3", "u8"]);
    let err = write_then_load_err::<_, Aged<u8>>(&aged(300i64));
    assert_error(&err, "/grp/age", &["300", "u8"]);
    let err = write_then_load_err::<_, Aged<i32>>(&aged(1i64 << 40));
    assert_error(&err, "/grp/age", &["1099511627776", "i32"]);
    let err = write_then_load_err::<_, Aged<i64>>(&aged(u64::MAX));
    assert_error(&err, "/grp/age", &["18446744073709551615", "i64"]);
    let err = write_then_load_err::<_, Aged<u64>>(&aged(-1i8));
    assert_error(&err, "/grp/age", &["-1", "u64"]);
    let err = write_then_load_err::<_, Aged<i16>>(&aged(70_000u32));
    assert_error(&err, "/grp/age", &["70000", "i16"]);
}

#[test]
fn out_of_range_integer_deep_in_lists() {
    #[derive(Serialize, Deserialize, Debug)]
    #[serde(rename = "tests.Team")]
    struct Team<T> {
        members: Vec<Aged<T>>,
    }
    #[derive(Serialize, Deserialize, Debug)]
    #[serde(rename = "tests.League")]
    struct League<T> {
        teams: Vec<Team<T>>,
    }
    let aged = |age| Aged {
        name: "A".into(),
        age,
    };
    let league = League {
        teams: vec![
            Team {
                members: vec![aged(1i64)],
            },
            Team {
                members: vec![aged(2), aged(3), aged(-3)],
            },
        ],
    };
    let err = write_then_load_err::<_, League<u8>>(&league);
    assert_error(
        &err,
        "/grp/teams/LIST_item1/members/LIST_item2/age",
        &["-3", "u8"],
    );

    // A list item of the wrong type: a string where a team was expected.
    #[derive(Serialize, Debug)]
    #[serde(untagged)]
    enum TeamOrText {
        Team(Team<i64>),
        Text(String),
    }
    #[derive(Serialize, Debug)]
    #[serde(rename = "tests.League")]
    struct MixedLeague {
        teams: Vec<TeamOrText>,
    }
    let err = write_then_load_err::<_, League<i64>>(&MixedLeague {
        teams: vec![
            TeamOrText::Team(Team {
                members: vec![aged(5)],
            }),
            TeamOrText::Text("not a team".into()),
        ],
    });
    assert_error(&err, "/grp/teams/LIST_item1", &["tests.Team"]);
}

/// Numbers in a 1-D dataset read into a `Vec` of a narrower type: the message must still
/// say which dataset (and which element) holds the bad value.
#[test]
fn out_of_range_element_of_a_numeric_dataset() {
    let err = write_then_load_err::<_, X<Vec<u8>>>(&X {
        x: vec![1i32, 2, 300],
    });
    assert_error(&err, "/grp/x", &["300", "u8"]);
}

/// Same for an element of a dataset that is not the object the element type needs.
#[test]
fn object_expected_but_dataset_element_found() {
    let err = write_then_load_err::<_, X<Vec<Person>>>(&X { x: vec![1.0, 2.0] });
    assert_error(&err, "/grp/x", &["Person"]);
}

// ---------------------------------------------------------------------------------------
// Arrays
// ---------------------------------------------------------------------------------------

#[test]
fn narrowing_array_conversions_are_refused() {
    let a2 = |v: f64| ndarray::arr2(&[[v, 2.0], [3.0, 4.0]]);
    let err = write_then_load_err::<_, XArr<f32, ndarray::Ix2>>(&XArr { x: a2(0.5) });
    assert_error(&err, "/grp/x", &["float64", "float32"]);

    let ints = Array1::from(vec![1i64, 2, 3]);
    let err = write_then_load_err::<_, XArr<i32, ndarray::Ix1>>(&XArr { x: ints.clone() });
    assert_error(&err, "/grp/x", &["int64", "int32"]);
    let err = write_then_load_err::<_, XArr<f64, ndarray::Ix1>>(&XArr { x: ints });
    assert_error(&err, "/grp/x", &["int64", "float64"]);

    let err = write_then_load_err::<_, XArr<i16, ndarray::Ix1>>(&XArr {
        x: Array1::from(vec![1u16]),
    });
    assert_error(&err, "/grp/x", &["uint16", "int16"]);
    let err = write_then_load_err::<_, XArr<u8, ndarray::Ix1>>(&XArr {
        x: Array1::from(vec![1i8]),
    });
    assert_error(&err, "/grp/x", &["int8", "uint8"]);
    let err = write_then_load_err::<_, XArr<f64, ndarray::Ix1>>(&XArr {
        x: Array1::from(vec![Complex64::new(1.0, 0.0)]),
    });
    assert_error(&err, "/grp/x", &["complex128", "float64"]);
    let err = write_then_load_err::<_, XArr<i32, ndarray::Ix1>>(&XArr {
        x: Array1::from(vec![true]),
    });
    assert_error(&err, "/grp/x", &["bool", "int32"]);

    // Empty arrays carry their dtype too.
    let err = write_then_load_err::<_, XArr<i32, ndarray::IxDyn>>(&XArr {
        x: ArrayD::<f64>::zeros(IxDyn(&[0, 3])),
    });
    assert_error(&err, "/grp/x", &["float64", "int32"]);
}

#[test]
fn wrong_array_rank() {
    let a3 = Array3::<f64>::zeros((2, 3, 4));
    let err = write_then_load_err::<_, XArr<f64, ndarray::Ix2>>(&XArr { x: a3 });
    assert_error(&err, "/grp/x", &["2-d", "[2, 3, 4]"]);

    let err = write_then_load_err::<_, XArr<i32, ndarray::Ix0>>(&XArr {
        x: Array1::from(vec![1, 2]),
    });
    assert_error(&err, "/grp/x", &["0-d", "[2]"]);

    let err = write_then_load_err::<_, XArr<i32, ndarray::Ix1>>(&XArr {
        x: Array0::from_elem((), 1),
    });
    assert_error(&err, "/grp/x", &["1-d", "[]"]);

    let err = write_then_load_err::<_, XArr<i32, ndarray::Ix1>>(&XArr {
        x: Array2::<i32>::zeros((0, 3)),
    });
    assert_error(&err, "/grp/x", &["1-d", "[0, 3]"]);
}

#[test]
fn empty_array_group_with_bad_shape() {
    fn empty_array(
        shape: Option<&[i64]>,
        with_dtype: bool,
    ) -> impl FnOnce(&hdf5::Group) -> hdf5::Result<()> + '_ {
        move |g| {
            str_attr(g, "class", "tests.X")?;
            let e = class_group(g, "x", EMPTY_ARRAY_CLASS)?;
            if let Some(shape) = shape {
                e.new_dataset::<i64>()
                    .shape(shape.len())
                    .create("shape")?
                    .write_raw(shape)?;
            }
            if with_dtype {
                e.new_dataset::<f64>()
                    .shape(2)
                    .create("dtype")?
                    .write_raw(&[0.0, 0.0])?;
            }
            Ok(())
        }
    }
    type Target = XArr<f64, ndarray::IxDyn>;

    let (_dir, path) = craft(empty_array(Some(&[2, 3]), true));
    let err = load_err::<Target>(&path);
    assert_error(&err, "/grp/x", &["empty", "[2, 3]"]);

    let (_dir, path) = craft(empty_array(Some(&[-1, 0]), true));
    let err = load_err::<Target>(&path);
    assert_error(&err, "/grp/x", &["-1"]);

    let (_dir, path) = craft(empty_array(Some(&[0, 3]), false));
    let err = load_err::<Target>(&path);
    assert_error(&err, "/grp/x", &["dtype"]);

    // Shape stored as floats.
    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        let e = class_group(g, "x", EMPTY_ARRAY_CLASS)?;
        e.new_dataset::<f64>()
            .shape(2)
            .create("shape")?
            .write_raw(&[0.0, 3.0])?;
        e.new_dataset::<f64>()
            .shape(2)
            .create("dtype")?
            .write_raw(&[0.0, 0.0])
    });
    let err = load_err::<Target>(&path);
    assert_error(&err, "/grp/x", &["shape"]);
}

/// Zero elements, but the other axes overflow `isize` when multiplied: ndarray refuses the
/// shape, and the reader must report that rather than let ndarray panic.
#[test]
fn empty_array_group_with_overflowing_shape() {
    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        let e = class_group(g, "x", EMPTY_ARRAY_CLASS)?;
        e.new_dataset::<i64>()
            .shape(3)
            .create("shape")?
            .write_raw(&[0i64, 1 << 62, 1 << 62])?;
        e.new_dataset::<f64>()
            .shape(2)
            .create("dtype")?
            .write_raw(&[0.0, 0.0])
    });
    let err = load_err::<XArr<f64, ndarray::IxDyn>>(&path);
    assert_error(&err, "/grp/x", &["shape"]);
    let err = load_err::<X<Vec<Vec<Vec<f64>>>>>(&path);
    assert_error(&err, "/grp/x", &["shape"]);
}

/// h5py's bool enum type with a raw byte that is neither FALSE (0) nor TRUE (1).
#[derive(Clone, Copy, Debug)]
#[repr(transparent)]
struct RawBool(#[allow(dead_code)] u8);

// SAFETY: one byte, laid out as HDF5's boolean enum (int8 base) is in memory.
unsafe impl H5Type for RawBool {
    fn type_descriptor() -> TypeDescriptor {
        TypeDescriptor::Boolean
    }
}

#[test]
fn bool_holding_byte_two() {
    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        let ds = g.new_dataset::<RawBool>().shape(3).create("x")?;
        ds.write_raw(&[RawBool(0), RawBool(1), RawBool(2)])?;
        // Check the byte really landed in the file.
        assert_eq!(ds.read_raw::<u8>()?, [0, 1, 2]);
        Ok(())
    });
    let err = load_err::<XArr<bool, ndarray::Ix1>>(&path);
    assert_error(&err, "/grp/x", &["bool", "0", "1"]);
    let err = load_err::<X<Vec<bool>>>(&path);
    assert_error(&err, "/grp/x", &["bool"]);

    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        g.new_attr::<RawBool>()
            .create("x")?
            .write_scalar(&RawBool(2))
    });
    let err = load_err::<X<bool>>(&path);
    assert_error(&err, "/grp/x", &["bool"]);
}

// ---------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------

#[test]
fn invalid_utf8_strings() {
    // SAFETY (all three): the hdf5 crate's unchecked constructors only skip the ASCII
    // check; the bytes are stored as they are, which is the point of the test.
    let fixed = || unsafe { FixedAscii::<8>::from_ascii_unchecked(b"ab\xff\xfe") };
    let varlen = || unsafe { VarLenAscii::from_ascii_unchecked(b"\xc3\x28") };

    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        g.new_attr::<FixedAscii<8>>()
            .create("x")?
            .write_scalar(&fixed())
    });
    let err = load_err::<X<String>>(&path);
    assert_error(&err, "/grp/x", &["UTF-8"]);

    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        g.new_attr::<VarLenAscii>()
            .create("x")?
            .write_scalar(&varlen())
    });
    let err = load_err::<X<String>>(&path);
    assert_error(&err, "/grp/x", &["UTF-8"]);

    // In a list.
    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        let l = class_group(g, "x", LIST_CLASS)?;
        i64_attr(&l, "count", 2)?;
        str_attr(&l, "LIST_item0", "fine")?;
        l.new_attr::<FixedAscii<8>>()
            .create("LIST_item1")?
            .write_scalar(&fixed())
    });
    let err = load_err::<X<Vec<String>>>(&path);
    assert_error(&err, "/grp/x/LIST_item1", &["UTF-8"]);
}

#[test]
fn invalid_utf8_in_the_class_attribute() {
    let (_dir, path) = craft(|g| {
        // SAFETY: see `invalid_utf8_strings`.
        let tag = unsafe { FixedAscii::<8>::from_ascii_unchecked(b"ab\xff\xfe") };
        g.new_attr::<FixedAscii<8>>()
            .create("class")?
            .write_scalar(&tag)
    });
    let err = load_err::<X<String>>(&path);
    assert_error(&err, "/grp", &["class", "UTF-8"]);
}

#[test]
fn strings_containing_nul_are_refused_on_write() {
    let err = write_err(&X { x: "a\0b" });
    assert_error(&err, "/grp/x", &["NUL"]);

    let err = write_err(&X { x: '\0' });
    assert_error(&err, "/grp/x", &["NUL"]);

    let err = write_err(&X {
        x: vec!["fine".to_string(), "bad\0".into()],
    });
    assert_error(&err, "/grp/x/LIST_item1", &["NUL"]);

    let err = write_err(&X {
        x: BTreeMap::from([("k\0".to_string(), 1)]),
    });
    assert_error(&err, "/grp/x/dictkeys/LIST_item0", &["NUL"]);

    let err = write_err(&X {
        x: BTreeMap::from([("k".to_string(), "v\0".to_string())]),
    });
    assert_error(&err, "/grp/x/dictdata/LIST_item0", &["NUL"]);

    #[derive(Serialize, Debug)]
    #[serde(tag = "class")]
    enum Tagged {
        #[serde(rename = "bad\0tag")]
        Bad { a: i32 },
    }
    let err = write_err(&X {
        x: Tagged::Bad { a: 1 },
    });
    assert_error(&err, "/grp/x", &["NUL"]);

    #[derive(Serialize, Debug)]
    #[serde(rename = "tests.Nul\0")]
    struct BadName {
        a: i32,
    }
    let err = write_err(&BadName { a: 1 });
    assert_error(&err, "/grp", &["NUL"]);
}

// ---------------------------------------------------------------------------------------
// Enums
// ---------------------------------------------------------------------------------------

#[test]
fn enum_read_from_something_else() {
    // An object where an enum (a one-entry dict) was expected.
    let err = write_then_load_err::<_, X<Ext>>(&X { x: person() });
    assert_error(&err, "/grp/x", &["enum", "tests.Person"]);

    // A list where an enum was expected.
    let err = write_then_load_err::<_, X<Ext>>(&X {
        x: vec!["Struct".to_string()],
    });
    assert_error(&err, "/grp/x", &["enum", LIST_CLASS]);

    // A number where an enum was expected.
    let err = write_then_load_err::<_, X<Ext>>(&X { x: 3i64 });
    assert_error(&err, "/grp/x", &["enum", "int64"]);

    // A unit-variant string naming a struct variant.
    let err = write_then_load_err::<_, X<Ext>>(&X { x: "Struct" });
    assert_error(&err, "/grp/x", &["struct variant"]);

    // An unknown variant name, as a string and as a dict key.
    let err = write_then_load_err::<_, X<Ext>>(&X { x: "Purple" });
    assert_error(&err, "/grp/x", &["unknown variant", "Purple"]);
    let err = write_then_load_err::<_, X<Ext>>(&X {
        x: BTreeMap::from([("Purple".to_string(), 1)]),
    });
    assert_error(&err, "/grp/x", &["unknown variant", "Purple"]);

    // A dict of two entries is not a variant.
    let err = write_then_load_err::<_, X<Ext>>(&X {
        x: BTreeMap::from([("Newtype".to_string(), 1), ("Unit".into(), 2)]),
    });
    assert_error(&err, "/grp/x", &["one entry", "2"]);

    // A struct variant whose value is not a dict.
    let err = write_then_load_err::<_, X<Ext>>(&X {
        x: BTreeMap::from([("Struct".to_string(), 5)]),
    });
    assert_error(&err, "/grp/x", &["a"]);
}

// ---------------------------------------------------------------------------------------
// Lists and dicts
// ---------------------------------------------------------------------------------------

fn list_with_count(count: i64) -> impl FnOnce(&hdf5::Group) -> hdf5::Result<()> {
    move |g| {
        str_attr(g, "class", "tests.X")?;
        let l = class_group(g, "x", LIST_CLASS)?;
        i64_attr(&l, "count", count)?;
        i64_attr(&l, "LIST_item0", 1)
    }
}

#[test]
fn list_with_negative_or_absurd_count() {
    let (_dir, path) = craft(list_with_count(-1));
    let err = load_err::<X<Vec<i32>>>(&path);
    assert_error(&err, "/grp/x", &["count"]);

    let (_dir, path) = craft(list_with_count(1 << 40));
    let err = load_err::<X<Vec<Option<i32>>>>(&path);
    assert_error(&err, "/grp/x", &["count", "1099511627776"]);

    // A count that is not an integer, and no count at all.
    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        let l = class_group(g, "x", LIST_CLASS)?;
        str_attr(&l, "count", "three")
    });
    let err = load_err::<X<Vec<i32>>>(&path);
    assert_error(&err, "/grp/x", &["count"]);
    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        class_group(g, "x", LIST_CLASS).map(drop)
    });
    let err = load_err::<X<Vec<i32>>>(&path);
    assert_error(&err, "/grp/x", &["count"]);
}

#[test]
fn tuple_of_the_wrong_length() {
    let err = write_then_load_err::<_, X<(i32, i32, i32)>>(&X { x: (1, 2) });
    assert_error(&err, "/grp/x", &["2", "3"]);
    let err = write_then_load_err::<_, X<(i32, String, i32)>>(&X {
        x: (1, "two".to_string()),
    });
    assert_error(&err, "/grp/x", &["2", "3"]);
}

/// A stored sequence longer than the tuple or fixed-size array read must be an error
/// (as in serde_json), not silently truncated.
#[test]
fn tuple_with_extra_elements_is_refused() {
    let err = write_then_load_err::<_, X<(i32, i32)>>(&X { x: (1, 2, 3) });
    assert_error(&err, "/grp/x", &["3", "2"]);
}

/// Same for a list (mixed tuple) read as a shorter fixed-size array.
#[test]
fn fixed_array_with_extra_list_items_is_refused() {
    // Mixed dtypes make a list rather than a dataset.
    let err = write_then_load_err::<_, X<[i64; 2]>>(&X {
        x: (1i32, 2i64, 3i32),
    });
    assert_error(&err, "/grp/x", &["3", "2"]);
}

#[test]
fn dict_with_mismatched_or_missing_sides() {
    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        let d = class_group(g, "x", DICT_CLASS)?;
        i64_attr(&d, "count", 2)?;
        let keys = class_group(&d, "dictkeys", LIST_CLASS)?;
        i64_attr(&keys, "count", 2)?;
        str_attr(&keys, "LIST_item0", "a")?;
        str_attr(&keys, "LIST_item1", "b")?;
        let data = class_group(&d, "dictdata", LIST_CLASS)?;
        i64_attr(&data, "count", 1)?;
        i64_attr(&data, "LIST_item0", 1)
    });
    let err = load_err::<X<BTreeMap<String, i64>>>(&path);
    assert_error(&err, "/grp/x", &["2", "1", "keys"]);

    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        let d = class_group(g, "x", DICT_CLASS)?;
        i64_attr(&d, "count", 0)?;
        let keys = class_group(&d, "dictkeys", LIST_CLASS)?;
        i64_attr(&keys, "count", 0)
    });
    let err = load_err::<X<BTreeMap<String, i64>>>(&path);
    assert_error(&err, "/grp/x", &["dictdata"]);
}

#[test]
fn legacy_list_claiming_more_items_than_stored() {
    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        let names: [VarLenUnicode; 1] = ["x".parse().unwrap()];
        g.new_attr::<VarLenUnicode>()
            .shape(1)
            .create("LISTS")?
            .write_raw(&names)?;
        i64_attr(g, "LIST_x_count", 5)
    });
    let err = load_err::<X<Vec<Person>>>(&path);
    assert_error(&err, "/grp", &["5"]);
}

// ---------------------------------------------------------------------------------------
// Other HDF5 content the layout does not use
// ---------------------------------------------------------------------------------------

#[test]
fn unsupported_hdf5_types_and_dangling_links() {
    // A fixed-size array type (not a numpy dtype the layout uses).
    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        g.new_attr::<[i32; 3]>()
            .create("x")?
            .write_scalar(&[1, 2, 3])
    });
    let err = load_err::<X<f64>>(&path);
    assert_error(&err, "/grp/x", &["HDF5 type"]);
    let err = load_err::<XArr<i32, ndarray::IxDyn>>(&path);
    assert_error(&err, "/grp/x", &[]);

    // A soft link to nowhere where a member should be.
    let (_dir, path) = craft(|g| {
        str_attr(g, "class", "tests.X")?;
        g.link_soft("/nowhere", "x")
    });
    let err = load_err::<X<Person>>(&path);
    assert_error(&err, "/grp/x", &[]);
}

// ---------------------------------------------------------------------------------------
// Files and groups
// ---------------------------------------------------------------------------------------

#[test]
fn missing_file() {
    let (dir, _path) = temp_path();
    let missing = dir.path().join("does-not-exist.hdf5");
    let err = no_panic("from_file", || anam::from_file::<Person>(&missing, None)).unwrap_err();
    assert!(
        err.to_string().contains("does-not-exist.hdf5"),
        "error `{err}` should name the file"
    );
}

#[test]
fn missing_group_name() {
    let (_dir, path) = temp_path();
    anam::to_file(&path, "person", &person()).unwrap();
    let err = no_panic("from_file", || {
        anam::from_file::<Person>(&path, Some("nope"))
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("nope") && msg.contains("bad.hdf5"), "{msg}");
    assert!(
        matches!(err.kind(), anam::ErrorKind::GroupNotFound(_)),
        "{err:?}"
    );

    // A nested path that does not exist.
    let err = no_panic("from_file", || {
        anam::from_file::<Person>(&path, Some("person/sub"))
    })
    .unwrap_err();
    assert!(err.to_string().contains("person/sub"), "{err}");
}

#[test]
fn file_without_groups() {
    let (dir, _path) = temp_path();
    let empty = dir.path().join("empty.hdf5");
    hdf5::File::create(&empty).unwrap();
    let err = no_panic("from_file", || anam::from_file::<Person>(&empty, None)).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("empty.hdf5") && msg.contains("no group"),
        "{msg}"
    );

    let only_ds = dir.path().join("dataset.hdf5");
    {
        let f = hdf5::File::create(&only_ds).unwrap();
        f.new_dataset::<f64>().shape(2).create("data").unwrap();
    }
    let err = no_panic("from_file", || anam::from_file::<Person>(&only_ds, None)).unwrap_err();
    assert!(err.to_string().contains("no group"), "{err}");
}

/// The group name given is a dataset: the error must name it (and the file).
#[test]
fn group_name_that_is_a_dataset() {
    let (dir, _path) = temp_path();
    let only_ds = dir.path().join("dataset.hdf5");
    {
        let f = hdf5::File::create(&only_ds).unwrap();
        f.new_dataset::<f64>().shape(2).create("data").unwrap();
    }
    let err = no_panic("from_file", || {
        anam::from_file::<Person>(&only_ds, Some("data"))
    })
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("data") && msg.contains("dataset.hdf5"),
        "{msg}"
    );
}

#[test]
fn not_an_hdf5_file_and_unwritable_path() {
    let (dir, _path) = temp_path();
    let text = dir.path().join("text.hdf5");
    std::fs::write(&text, "this is not HDF5").unwrap();
    let err = no_panic("from_file", || anam::from_file::<Person>(&text, None)).unwrap_err();
    assert!(err.to_string().contains("text.hdf5"), "{err}");

    let nowhere = dir.path().join("no-such-dir").join("x.hdf5");
    let err = no_panic("to_file", || anam::to_file(&nowhere, "p", &person())).unwrap_err();
    assert!(err.to_string().contains("no-such-dir"), "{err}");
}

#[test]
fn top_level_scalars_cannot_be_written() {
    for (case, err) in [
        ("i32", write_err(&5i32)),
        ("string", write_err("text")),
        ("unit variant", write_err(&Ext::Unit)),
        ("array", write_err(&XArrNewtype(ndarray::arr1(&[1.0])))),
    ] {
        let msg = err.to_string();
        assert!(
            msg.contains("/grp"),
            "{case}: error `{msg}` should name the group"
        );
        assert!(msg.contains("top-level"), "{case}: error `{msg}`");
    }
}

#[derive(Serialize, Debug)]
struct XArrNewtype(#[serde(with = "anam::array")] Array1<f64>);

// ---------------------------------------------------------------------------------------
// HDF5's own reasons
// ---------------------------------------------------------------------------------------

/// A failed HDF5 call's error carries what we asked (the attribute and its path) and
/// HDF5's own reason from its error stack.
#[test]
fn failed_hdf5_call_keeps_hdf5_reason() {
    let (_dir, path) = temp_path();
    let file = hdf5::File::create(&path).unwrap();
    let group = file.create_group("grp").unwrap();
    // An attribute that the object's field will collide with.
    group
        .new_attr::<i64>()
        .create("age")
        .unwrap()
        .write_scalar(&1)
        .unwrap();
    let err = no_panic("to_group", || anam::to_group(&person(), &group)).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("/grp/age"), "the path is named: {msg}");
    assert!(msg.contains("`age`"), "the operation is named: {msg}");
    assert!(
        msg.contains("H5Acreate") && msg.contains("already exists"),
        "HDF5's own reason is kept: {msg}"
    );
    assert!(
        matches!(err.kind(), anam::ErrorKind::Hdf5Call { .. }),
        "{err:?}"
    );
    // The HDF5 error is the source, for callers that walk the chain.
    let source = std::error::Error::source(&err).expect("a source");
    assert!(source.to_string().contains("already exists"), "{source}");
}
