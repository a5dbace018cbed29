//! Writes that fail or are interrupted leave what was there: failed overwrites, failed new
//! files, failed writes into a caller's group.

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "reliability.Results")]
struct Results {
    label: String,
    values: Vec<f64>,
    nested: Vec<Inner>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "reliability.Inner")]
struct Inner {
    name: String,
}

fn good() -> Results {
    Results {
        label: "good".into(),
        values: vec![1.0, 2.0, 3.0],
        nested: vec![Inner { name: "a".into() }, Inner { name: "b".into() }],
    }
}

/// Fails to serialize: HDF5 strings cannot hold NUL, and the NUL comes after other members
/// (and a nested object) were written.
fn bad() -> Results {
    Results {
        label: "bad".into(),
        values: vec![4.0],
        nested: vec![
            Inner { name: "ok".into() },
            Inner {
                name: "nul\0here".into(),
            },
        ],
    }
}

fn names_in(path: &std::path::Path) -> Vec<String> {
    let file = anam::hdf5::File::open(path).unwrap();
    let mut names = file.member_names().unwrap();
    names.sort();
    names
}

#[test]
fn a_failed_overwrite_leaves_the_old_object() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.hdf5");
    anam::to_file(&path, "results", &good()).unwrap();
    anam::to_file(&path, "other", &Inner { name: "x".into() }).unwrap();

    let err = anam::to_file(&path, "results", &bad()).unwrap_err();
    assert!(err.to_string().contains("NUL"), "{err}");

    let back: Results = anam::from_file(&path, Some("results")).unwrap();
    assert_eq!(back, good(), "the old object reads back identical");
    assert_eq!(
        names_in(&path),
        ["other", "results"],
        "no temporary group left"
    );
    // The file is still whole for other readers.
    let out = std::process::Command::new("h5dump").arg(&path).output();
    if let Ok(out) = out {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_successful_overwrite_replaces_the_object() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.hdf5");
    anam::to_file(&path, "runs/results", &good()).unwrap();
    let mut newer = good();
    newer.label = "newer".into();
    anam::to_file(&path, "runs/results", &newer).unwrap();
    let back: Results = anam::from_file(&path, Some("runs/results")).unwrap();
    assert_eq!(back, newer);
    let file = anam::hdf5::File::open(&path).unwrap();
    assert_eq!(
        file.group("runs").unwrap().member_names().unwrap(),
        ["results"]
    );
}

#[test]
fn a_failed_new_file_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.hdf5");
    let err = anam::to_file(&path, "results", &bad()).unwrap_err();
    assert!(err.to_string().contains("NUL"), "{err}");
    assert!(!path.exists(), "no file at the path");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "no temporary file left: {left:?}");
}

#[test]
fn a_failed_write_into_a_group_removes_what_it_added() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("group.hdf5");
    let file = anam::hdf5::File::create(&path).unwrap();
    let group = file.create_group("g").unwrap();
    group
        .new_attr::<i64>()
        .create("kept")
        .unwrap()
        .write_scalar(&7)
        .unwrap();
    anam::to_group(&bad(), &group).unwrap_err();
    assert_eq!(group.attr_names().unwrap(), ["kept"]);
    assert!(group.member_names().unwrap().is_empty());
}

#[test]
fn bad_group_names_are_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("names.hdf5");
    for name in ["", "a//b", "a/./b", ".anam-tmp.x"] {
        let err = anam::to_file(&path, name, &good()).unwrap_err();
        assert!(err.to_string().contains(name), "{name}: {err}");
    }
    assert!(!path.exists());
}
