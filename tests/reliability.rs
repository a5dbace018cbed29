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

/// HDF5's own tool reads the whole file (skipped where h5dump is not installed).
fn h5dump_reads_whole(path: &std::path::Path) {
    if let Ok(out) = std::process::Command::new("h5dump")
        .arg("-H")
        .arg(path)
        .output()
    {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Regression: an object built as an anonymous group (`H5Gcreate_anon`) with a member group
/// of some 8,000 groups or more was deleted by HDF5 when its handle closed, after it was
/// linked, and the file cut back to its old size (h5dump: "addr overflow"), in HDF5 1.10.8
/// and 2.2 alike. The writer now holds a reference count on the group until it is linked.
#[test]
fn a_big_object_written_into_an_existing_file_reads_back_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.hdf5");
    anam::to_file(&path, "small", &Inner { name: "x".into() }).unwrap();
    // The anonymous group holds a group holding the items: the shape that failed.
    let mut big = good();
    big.nested = (0..10_000)
        .map(|i| Inner {
            name: format!("item {i}"),
        })
        .collect();
    anam::to_file(&path, "items", &big).unwrap();
    h5dump_reads_whole(&path);
    big.nested.truncate(9_000);
    anam::to_file(&path, "items", &big).unwrap();
    h5dump_reads_whole(&path);
    let back: Results = anam::from_file(&path, Some("items")).unwrap();
    assert_eq!(back, big);
    assert_eq!(names_in(&path), ["items", "small"]);
}

/// A killed writer's temporary link is not read as a member, and the next write of that
/// name removes it.
#[test]
fn a_killed_writers_temporary_link_is_skipped_and_then_removed() {
    use std::collections::BTreeMap;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("left.hdf5");
    let mut map = BTreeMap::new();
    map.insert("a".to_string(), good());
    anam::to_file(&path, "runs", &map).unwrap();
    {
        // What a writer killed while building `runs/b` leaves.
        let file = anam::hdf5::File::open_rw(&path).unwrap();
        file.create_group("runs/.anam-tmp.b").unwrap();
    }
    let back: BTreeMap<String, Results> = anam::from_file(&path, Some("runs")).unwrap();
    assert_eq!(back, map, "the leftover is not a member");
    anam::to_file(&path, "runs/b", &good()).unwrap();
    let file = anam::hdf5::File::open(&path).unwrap();
    let names = file.group("runs").unwrap().member_names().unwrap();
    assert!(names.iter().any(|n| n == "b"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with(".anam-tmp.")),
        "the leftover is gone: {names:?}"
    );
}
