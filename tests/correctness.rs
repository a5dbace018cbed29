//! What a newcomer ran into (issue 11): skipped members read anyway, names and values the
//! writer accepted but the reader rejected, strict class tags with no way out, files that
//! differed from run to run, empty sequences of another kind in Python, and a write that
//! failed obscurely while the program held the file open through `anam::hdf5`.
//!
//! The ndarray, `from_value`, flatten, MPI and nesting points have their own suites
//! (`tests/ndarray_serde.rs`, `tests/value.rs`, `tests/compile_fail/`, `tests/mpi*.rs`,
//! `tests/depth.rs`).

#[path = "common/python.rs"]
mod python;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::{Duration, Instant};

use anam::hdf5;
use serde::{Deserialize, Serialize};

fn class_of(path: &Path, group: &str) -> String {
    let file = hdf5::File::open(path).unwrap();
    file.group(group)
        .unwrap()
        .attr("class")
        .unwrap()
        .read_scalar::<hdf5::types::VarLenUnicode>()
        .unwrap()
        .to_string()
}

// ---------------------------------------------------------------------------------------
// 1. Skipped members cost no I/O
// ---------------------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename = "correctness.Run")]
struct Run {
    id: i64,
    #[serde(with = "anam::array")]
    samples: ndarray::Array1<f64>,
    notes: Vec<Note>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "correctness.Note")]
struct Note {
    text: String,
}

/// A run without its samples and notes.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "correctness.Run")]
struct Head {
    id: i64,
}

/// The median of `n` timings of `f`.
fn median(n: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[n / 2]
}

#[test]
fn reading_a_few_members_skips_a_256_mib_array_and_a_list_of_groups() {
    let dir = tempfile::tempdir().unwrap();
    let (big, small) = (dir.path().join("big.hdf5"), dir.path().join("small.hdf5"));
    let notes = || {
        (0..2_000)
            .map(|i| Note {
                text: format!("note {i}"),
            })
            .collect()
    };
    anam::to_file(
        &big,
        "run",
        &Run {
            id: 7,
            samples: ndarray::Array1::from_elem(32 << 20, 0.5),
            notes: notes(),
        },
    )
    .unwrap();
    anam::to_file(&small, "run", &Head { id: 7 }).unwrap();
    assert!(std::fs::metadata(&big).unwrap().len() >= 256 << 20);
    let read = |path: &Path| {
        let head: Head = anam::from_file(path, Some("run")).unwrap();
        assert_eq!(head, Head { id: 7 });
    };
    // Both warm in the page cache first; then medians of reads taken in turns.
    read(&big);
    read(&small);
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        with.push(median(5, || read(&big)));
        without.push(median(5, || read(&small)));
    }
    with.sort();
    without.sort();
    let ratio = with[2].as_secs_f64() / without[2].as_secs_f64();
    // Reading the array would take some 100 ms (more than 20 times a small read); the
    // struct's own members differ by one attribute and one link.
    assert!(
        ratio < 2.0,
        "reading `Head` from the file with the array took {ratio:.2}x as long \
         ({:?} against {:?})",
        with[2],
        without[2]
    );
}

// ---------------------------------------------------------------------------------------
// 2. The writer accepts only what reads back
// ---------------------------------------------------------------------------------------

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "correctness.Tagged")]
struct Tagged {
    class: String,
    x: i64,
}

#[test]
fn a_field_named_class_is_the_class_tag_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tagged.hdf5");
    let v = Tagged {
        class: "lab.Hello".into(),
        x: 5,
    };
    anam::to_file(&path, "t", &v).unwrap();
    assert_eq!(class_of(&path, "t"), "lab.Hello");
    let back: Tagged = anam::from_file(&path, Some("t")).unwrap();
    assert_eq!(back, v);
}

#[derive(Serialize)]
#[serde(rename = "correctness.NameMaps")]
struct NameMapsField {
    namemaps: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename = "correctness.ListName")]
struct ListName {
    #[serde(rename = "LIST_x")]
    x: i64,
}

#[derive(Serialize)]
#[serde(rename = "correctness.Slash")]
struct Slash {
    #[serde(rename = "a/b")]
    x: i64,
}

#[derive(Serialize)]
#[serde(rename = "correctness.Empty")]
struct EmptyName {
    #[serde(rename = "")]
    x: i64,
}

/// `value` is refused with an error naming `name` and `why`, and the file is as it was.
fn refused<T: Serialize>(value: &T, name: &str, why: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("refused.hdf5");
    let err = anam::to_file(&path, "g", value).unwrap_err().to_string();
    assert!(err.contains(name) && err.contains(why), "{err}");
    assert!(!path.exists(), "nothing written: {err}");
    anam::to_file(&path, "kept", &Head { id: 1 }).unwrap();
    anam::to_file(&path, "g", value).unwrap_err();
    let file = hdf5::File::open(&path).unwrap();
    assert_eq!(file.member_names().unwrap(), ["kept"], "{err}");
}

#[test]
fn member_names_that_would_not_read_back_are_refused_naming_the_member() {
    refused(
        &NameMapsField {
            namemaps: vec!["a".into()],
        },
        "`namemaps`",
        "name maps",
    );
    refused(&ListName { x: 1 }, "`LIST_x`", "list items");
    refused(&Slash { x: 1 }, "`a/b`", "`/`");
    refused(&EmptyName { x: 1 }, "``", "is empty");
}

#[test]
fn top_level_values_that_are_no_group_are_refused() {
    refused(&None::<Head>, "/g", "not None");
    refused(&(), "/g", "not ()");
}

#[test]
fn map_keys_python_cannot_hash_are_refused() {
    let by_pair: BTreeMap<(i32, i32), i64> = [((1, 2), 3)].into();
    refused(&by_pair, "dictkeys/LIST_item0", "unhashable");
    let by_list: BTreeMap<Vec<u8>, i64> = [(vec![1], 3)].into();
    refused(&by_list, "dictkeys/LIST_item0", "unhashable");
}

// ---------------------------------------------------------------------------------------
// 6. Class tags: a way out, and an error that says so
// ---------------------------------------------------------------------------------------

/// A view of a few members of another class.
#[derive(Deserialize, Debug, PartialEq)]
#[serde(rename = "correctness.View")]
struct View {
    id: i64,
}

#[test]
fn a_class_mismatch_says_how_to_accept_the_tag_and_check_class_false_reads_a_view() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.hdf5");
    anam::to_file(
        &path,
        "run",
        &Run {
            id: 3,
            samples: ndarray::Array1::zeros(4),
            notes: vec![],
        },
    )
    .unwrap();
    let err = anam::from_file::<View>(&path, Some("run"))
        .unwrap_err()
        .to_string();
    for hint in ["aliases", "anam::alias!", "add_hint", "check_class(false)"] {
        assert!(err.contains(hint), "`{hint}` not in: {err}");
    }
    let options = anam::ReadOptions::new().check_class(false);
    let view: View = anam::from_file_with(&path, Some("run"), &options).unwrap();
    assert_eq!(view, View { id: 3 });
}

// ---------------------------------------------------------------------------------------
// 7. Reproducible files; Python finds arrays, empty or not
// ---------------------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename = "correctness.Maps")]
struct Maps {
    by_name: HashMap<String, Vec<f64>>,
    by_id: HashMap<i64, Note>,
    nested: HashMap<String, HashMap<String, i64>>,
}

fn maps() -> Maps {
    // Every HashMap has its own random order.
    Maps {
        by_name: (0..40)
            .map(|i| (format!("k{i}"), vec![i as f64; 3]))
            .collect(),
        by_id: (0..40)
            .map(|i| {
                (
                    i,
                    Note {
                        text: format!("{i}"),
                    },
                )
            })
            .collect(),
        nested: (0..10)
            .map(|i| {
                (
                    format!("outer{i}"),
                    (0..10).map(|j| (format!("inner{j}"), j)).collect(),
                )
            })
            .collect(),
    }
}

#[test]
fn the_same_maps_give_the_same_file_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (maps(), maps());
    let order = |m: &Maps| m.by_name.keys().cloned().collect::<Vec<_>>();
    assert_ne!(order(&a), order(&b), "two HashMaps iterating alike (retry)");
    let (pa, pb) = (dir.path().join("a.hdf5"), dir.path().join("b.hdf5"));
    anam::to_file(&pa, "m", &a).unwrap();
    // Timestamps would differ by then, were there any.
    std::thread::sleep(Duration::from_millis(1100));
    anam::to_file(&pb, "m", &b).unwrap();
    assert!(
        std::fs::read(&pa).unwrap() == std::fs::read(&pb).unwrap(),
        "the two files differ"
    );
    // And the entries are in key order.
    let back: anam::Value = anam::from_file(&pa, Some("m")).unwrap();
    let keys: Vec<&str> = back["by_name"]
        .as_dict()
        .unwrap()
        .iter()
        .map(|(k, _)| k.as_str().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

#[derive(Serialize)]
#[serde(rename = "correctness.Seqs")]
struct Seqs {
    empty: Vec<f64>,
    full: Vec<f64>,
}

#[test]
fn empty_and_full_numeric_sequences_are_arrays_in_python() {
    let Some(python) = python::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seqs.hdf5");
    anam::to_file(
        &path,
        "s",
        &Seqs {
            empty: vec![],
            full: vec![1.0, 2.0],
        },
    )
    .unwrap();
    let script = r#"
import sys, h5py, numpy as np
from anamnesis.abstract import parse_hdf5_value
with h5py.File(sys.argv[1], "r") as f:
    g = f["s"]
    for name in ("empty", "full"):
        v = parse_hdf5_value(g, name, name, g[name])
        print(name, type(v).__name__, v.dtype, list(v.shape))
"#;
    let stdout = python::run_script(python, script, &[&path]);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["empty ndarray float64 [0]", "full ndarray float64 [2]"]
    );
}

// ---------------------------------------------------------------------------------------
// 11. A write while the program holds the file open itself
// ---------------------------------------------------------------------------------------

#[test]
fn writing_a_file_the_program_holds_open_says_which_handle() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("held.hdf5");
    anam::to_file(&path, "a", &Head { id: 1 }).unwrap();
    let held = hdf5::File::open(&path).unwrap();
    let err = anam::to_file(&path, "b", &Head { id: 2 })
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`hdf5` handle") && err.contains("drop it"),
        "{err}"
    );
    drop(held);
    anam::to_file(&path, "b", &Head { id: 2 }).unwrap();
}
