//! `AnamCollection`: a `Vec` of members, written as Python's `AnamCollection` (an object
//! whose one member `members` is an `AnamList`), with `update_cache` stacking the combined
//! fields along a new last axis.

use std::path::PathBuf;

use anam::hdf5;
use anam::{AnamCollection, CollectionKind, DType, DefaultCollection, Object, TypedArray, Value};
use ndarray::{Array1, Array2, ArrayD};
use serde::{Deserialize, Serialize};
use tempfile::TempDir;

#[path = "common/h5.rs"]
mod h5;
use h5::{class_of, sorted};

// ---------------------------------------------------------------------------------------
// Classes
// ---------------------------------------------------------------------------------------

#[anam::class(class = "coll_tests.Stats")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Stats {
    #[serde(with = "anam::array")]
    pub zstats: Array2<f64>,
    #[serde(with = "anam::array")]
    pub rts: Array1<f64>,
    pub score: f64,
    pub n: i32,
    /// Not combined.
    pub label: String,
}

anam::collection! {
    /// A collection that stacks every numeric field of `Stats`.
    pub StatsCollection: "coll_tests.StatsCollection", kind StatsKind,
        of Stats, combine [zstats, rts, score, n]
}

/// A kind for collections of dynamic members (not registered: `Value` is no class).
#[derive(Debug, Clone, Copy, Default)]
pub struct ValueKind;

impl CollectionKind for ValueKind {
    const CLASS: &'static str = "coll_tests.ValueCollection";
    const COMBINE: &'static [&'static str] = &["zstats", "score"];
}

type ValueCollection = AnamCollection<Value, ValueKind>;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn temp_file() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("collection.hdf5");
    (dir, path)
}

fn stats(p: usize) -> Stats {
    Stats {
        zstats: Array2::from_shape_fn((10, 10), |(i, j)| (i * 10 + j) as f64 * 0.5 + p as f64),
        rts: Array1::from_shape_fn(100, |k| k as f64 * 4.5 + p as f64),
        score: p as f64 / 2.0,
        n: p as i32 * 10,
        label: format!("subject {p}"),
    }
}

fn collection(n: usize) -> StatsCollection {
    (0..n).map(stats).collect()
}

/// A dynamic member with the given fields.
fn member(fields: Vec<(&str, Value)>) -> Value {
    let mut o = Object::new("coll_tests.Stats");
    for (k, v) in fields {
        o.insert(k, v);
    }
    Value::Object(o)
}

fn zeros(dtype: DType, shape: &[usize]) -> Value {
    Value::Array(TypedArray::zeros(dtype, shape))
}

/// Asserts that `msg` names the field and the member index, and what went wrong.
fn assert_names(msg: &str, field: &str, index: usize, what: &str) {
    assert!(
        msg.contains(&format!("`{field}`")),
        "names the field: {msg}"
    );
    assert!(
        msg.contains(&format!("member {index}")),
        "names member {index}: {msg}"
    );
    assert!(msg.contains(what), "says `{what}`: {msg}");
}

// ---------------------------------------------------------------------------------------
// A Vec of members
// ---------------------------------------------------------------------------------------

#[test]
fn behaves_like_a_vec() {
    let mut c = StatsCollection::new();
    assert!(c.is_empty());
    assert_eq!(c.len(), 0);
    c.push(stats(0));
    c.push(stats(2));
    c.insert(1, stats(1));
    assert_eq!(c.len(), 3);
    assert_eq!(c[1], stats(1));
    assert_eq!(c.first(), Some(&stats(0)));
    let labels: Vec<&str> = c.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["subject 0", "subject 1", "subject 2"]);
    let by_ref: Vec<i32> = (&c).into_iter().map(|s| s.n).collect();
    assert_eq!(by_ref, [0, 10, 20]);
    c[2].label = "changed".into();
    assert_eq!(c[2].label, "changed");
    let removed = c.remove(0);
    assert_eq!(removed, stats(0));
    assert_eq!(c.len(), 2);
    let mut changed = stats(2);
    changed.label = "changed".into();
    assert_eq!(c.members(), &vec![stats(1), changed.clone()]);
    c.members_mut().push(stats(5));
    assert_eq!(c.len(), 3);
    assert_eq!(&c[1..], &[changed, stats(5)]);
    let cloned = c.clone();
    assert_eq!(cloned, c);
    let owned: Vec<Stats> = c.into_iter().collect();
    assert_eq!(owned.len(), 3);
    let from_vec = StatsCollection::from(owned.clone());
    assert_eq!(from_vec.into_members(), owned);
    assert_eq!(StatsCollection::default(), StatsCollection::new());
}

// ---------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------

#[test]
fn writes_members_as_an_anam_list() {
    let (_dir, path) = temp_file();
    let c = collection(3);
    anam::to_file(&path, "data", &c).unwrap();

    let file = hdf5::File::open(&path).unwrap();
    let g = file.group("data").unwrap();
    assert_eq!(class_of(&g), "coll_tests.StatsCollection");
    assert_eq!(g.attr_names().unwrap(), ["class"]);
    assert_eq!(g.member_names().unwrap(), ["members"]);
    let members = g.group("members").unwrap();
    assert_eq!(class_of(&members), "anamnesis.abstract.AnamList");
    assert_eq!(
        members.attr("count").unwrap().read_scalar::<i64>().unwrap(),
        3
    );
    assert_eq!(
        sorted(members.member_names().unwrap()),
        ["LIST_item0", "LIST_item1", "LIST_item2"]
    );
    for i in 0..3 {
        let m = members.group(&format!("LIST_item{i}")).unwrap();
        assert_eq!(class_of(&m), "coll_tests.Stats");
        assert_eq!(m.dataset("zstats").unwrap().shape(), [10, 10]);
        assert_eq!(m.attr("n").unwrap().read_scalar::<i32>().unwrap(), 10 * i);
    }
    drop(file);

    let back: StatsCollection = anam::from_file(&path, Some("data")).unwrap();
    assert_eq!(back, c);
    let dynamic = anam::obj_from_file(&path, Some("data")).unwrap();
    assert_eq!(dynamic.class_tag(), "coll_tests.StatsCollection");
    assert_eq!(dynamic.downcast_ref::<StatsCollection>(), Some(&c));
}

#[test]
fn empty_and_default_collections_in_files() {
    let (_dir, path) = temp_file();
    anam::to_file(&path, "empty", &StatsCollection::new()).unwrap();
    let base: AnamCollection<Stats> = collection(2).into_members().into();
    anam::to_file(&path, "base", &base).unwrap();

    let file = hdf5::File::open(&path).unwrap();
    let members = file.group("empty/members").unwrap();
    assert_eq!(class_of(&members), "anamnesis.abstract.AnamList");
    assert_eq!(
        members.attr("count").unwrap().read_scalar::<i64>().unwrap(),
        0
    );
    assert!(members.member_names().unwrap().is_empty());
    assert_eq!(
        class_of(&file.group("base").unwrap()),
        DefaultCollection::CLASS
    );
    assert_eq!(
        DefaultCollection::CLASS,
        "anamnesis.abstract.AnamCollection"
    );
    drop(file);

    let back: StatsCollection = anam::from_file(&path, Some("empty")).unwrap();
    assert!(back.is_empty());
    let back: AnamCollection<Stats> = anam::from_file(&path, Some("base")).unwrap();
    assert_eq!(back, base);
    // The tag is checked.
    let err = anam::from_file::<StatsCollection>(&path, Some("base")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("/base")
            && msg.contains("anamnesis.abstract.AnamCollection")
            && msg.contains("coll_tests.StatsCollection"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------
// The cache
// ---------------------------------------------------------------------------------------

#[test]
fn update_cache_stacks_along_a_new_last_axis() {
    let mut c = collection(5);
    for f in ["zstats", "rts", "score", "n"] {
        assert!(c.combined(f).is_none(), "{f}: nothing before update_cache");
    }
    c.update_cache().unwrap();

    let z = c.combined("zstats").unwrap();
    assert_eq!((z.dtype(), z.shape()), (DType::F64, &[10, 10, 5][..]));
    let z = c.combined_as::<f64>("zstats").unwrap().unwrap();
    let r = c.combined_as::<f64>("rts").unwrap().unwrap();
    assert_eq!(r.shape(), [100, 5]);
    for p in 0..5 {
        for i in 0..10 {
            for j in 0..10 {
                assert_eq!(z[[i, j, p]], c[p].zstats[[i, j]]);
            }
        }
        for k in 0..100 {
            assert_eq!(r[[k, p]], c[p].rts[k]);
        }
    }
    // Scalars stack into 1-D arrays of their own dtype.
    assert_eq!(
        c.combined("score"),
        Some(&TypedArray::F64(
            ArrayD::from_shape_vec(vec![5], vec![0.0, 0.5, 1.0, 1.5, 2.0]).unwrap()
        ))
    );
    assert_eq!(
        c.combined("n"),
        Some(&TypedArray::I32(
            ArrayD::from_shape_vec(vec![5], vec![0, 10, 20, 30, 40]).unwrap()
        ))
    );
    // Lossless conversion, and its refusal.
    let n = c.combined_as::<i64>("n").unwrap().unwrap();
    assert_eq!(n.as_slice().unwrap(), [0, 10, 20, 30, 40]);
    assert!(c.combined_as::<i16>("n").unwrap().is_err());
    assert!(c.combined("label").is_none(), "not a combined field");
    assert!(c.combined_as::<f64>("label").is_none());

    // The cache is a snapshot: it follows the members only when updated.
    c.push(stats(5));
    assert_eq!(c.combined("zstats").unwrap().shape(), [10, 10, 5]);
    c.update_cache().unwrap();
    assert_eq!(c.combined("zstats").unwrap().shape(), [10, 10, 6]);

    c.clear_cache();
    for f in ["zstats", "rts", "score", "n"] {
        assert!(c.combined(f).is_none(), "{f}: cleared");
    }
    assert_eq!(c.len(), 6, "clearing the cache keeps the members");
}

#[test]
fn one_member_gives_a_last_axis_of_one() {
    let mut c = collection(1);
    c.update_cache().unwrap();
    assert_eq!(c.combined("zstats").unwrap().shape(), [10, 10, 1]);
    assert_eq!(c.combined("score").unwrap().shape(), [1]);
}

#[test]
fn an_empty_collection_combines_to_none() {
    let mut c = StatsCollection::new();
    c.update_cache().unwrap();
    for f in StatsKind::COMBINE {
        assert!(c.combined(f).is_none(), "{f}");
    }
    c.update_cache_flexible().unwrap();
    for f in StatsKind::COMBINE {
        assert!(c.combined(f).is_none(), "{f}");
    }
    // Emptied after a successful update: the old arrays go.
    let mut c = collection(2);
    c.update_cache().unwrap();
    c.clear();
    c.update_cache().unwrap();
    assert!(c.combined("zstats").is_none());
}

#[test]
fn flexible_mode_leaves_out_fields_whose_shapes_differ() {
    let mut c = collection(4);
    c[2].rts = Array1::zeros(99);

    let err = c.update_cache().unwrap_err();
    assert_names(&err.to_string(), "rts", 2, "shape");
    assert!(c.combined("zstats").is_none(), "no change on failure");

    c.update_cache_flexible().unwrap();
    assert!(c.combined("rts").is_none(), "left out");
    assert_eq!(c.combined("zstats").unwrap().shape(), [10, 10, 4]);
    assert_eq!(c.combined("score").unwrap().shape(), [4]);
    assert_eq!(c.combined("n").unwrap().shape(), [4]);

    // Fixed again, the field comes back.
    c[2].rts = Array1::zeros(100);
    c.update_cache_flexible().unwrap();
    assert_eq!(c.combined("rts").unwrap().shape(), [100, 4]);
}

// ---------------------------------------------------------------------------------------
// Errors name the field and the member
// ---------------------------------------------------------------------------------------

fn good_member(p: i64) -> Value {
    member(vec![
        ("zstats", zeros(DType::F64, &[10, 10])),
        ("score", Value::F64(p as f64)),
    ])
}

#[test]
fn dynamic_members_stack_too() {
    let mut c: ValueCollection = (0..3).map(good_member).collect();
    c.update_cache().unwrap();
    assert_eq!(c.combined("zstats").unwrap().shape(), [10, 10, 3]);
    assert_eq!(
        c.combined("score"),
        Some(&TypedArray::F64(
            ArrayD::from_shape_vec(vec![3], vec![0.0, 1.0, 2.0]).unwrap()
        ))
    );
}

#[test]
fn a_missing_field_is_an_error_naming_it_and_the_member() {
    let mut c: ValueCollection = (0..3).map(good_member).collect();
    c.update_cache().unwrap();
    let before = c.combined("zstats").cloned();
    c.push(member(vec![("zstats", zeros(DType::F64, &[10, 10]))]));
    let err = c.update_cache().unwrap_err();
    assert_names(&err.to_string(), "score", 3, "no field");
    assert_eq!(
        c.combined("zstats").cloned(),
        before,
        "no change on failure"
    );
    // Flexible mode does not excuse it.
    let err = c.update_cache_flexible().unwrap_err();
    assert_names(&err.to_string(), "score", 3, "no field");
}

#[test]
fn a_dtype_mismatch_is_an_error_naming_the_field_and_the_member() {
    let mut c: ValueCollection = (0..3).map(good_member).collect();
    c[1] = member(vec![
        ("zstats", zeros(DType::F32, &[10, 10])),
        ("score", Value::F64(1.0)),
    ]);
    let err = c.update_cache().unwrap_err();
    let msg = err.to_string();
    assert_names(&msg, "zstats", 1, "dtype");
    assert!(msg.contains("float32") && msg.contains("float64"), "{msg}");
    let err = c.update_cache_flexible().unwrap_err();
    assert_names(&err.to_string(), "zstats", 1, "dtype");

    // A scalar of another type is a dtype mismatch too.
    let mut c: ValueCollection = (0..3).map(good_member).collect();
    c[2] = member(vec![
        ("zstats", zeros(DType::F64, &[10, 10])),
        ("score", Value::I64(2)),
    ]);
    let err = c.update_cache().unwrap_err();
    let msg = err.to_string();
    assert_names(&msg, "score", 2, "dtype");
    assert!(msg.contains("int64"), "{msg}");
}

#[test]
fn a_shape_mismatch_is_an_error_naming_the_field_and_the_member() {
    let mut c: ValueCollection = (0..4).map(good_member).collect();
    c[3] = member(vec![
        ("zstats", zeros(DType::F64, &[10, 9])),
        ("score", Value::F64(3.0)),
    ]);
    let err = c.update_cache().unwrap_err();
    let msg = err.to_string();
    assert_names(&msg, "zstats", 3, "shape");
    assert!(msg.contains("[10, 9]") && msg.contains("[10, 10]"), "{msg}");

    c.update_cache_flexible().unwrap();
    assert!(c.combined("zstats").is_none());
    assert_eq!(c.combined("score").unwrap().shape(), [4]);
}

#[test]
fn a_field_that_is_not_a_number_is_an_error_naming_it_and_the_member() {
    let mut c: ValueCollection = (0..2).map(good_member).collect();
    c.push(member(vec![
        ("zstats", zeros(DType::F64, &[10, 10])),
        ("score", Value::from("high")),
    ]));
    let err = c.update_cache().unwrap_err();
    assert_names(&err.to_string(), "score", 2, "not a number");
}
