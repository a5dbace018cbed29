//! Data outside the file (external links, external raw storage, virtual datasets) is
//! refused by default, with an error naming it, and read when the caller allows it.

use std::path::{Path, PathBuf};

use anam::hdf5;
use anam::{ReadOptions, Value};

fn class(g: &hdf5::Group, tag: &str) {
    let v: hdf5::types::VarLenUnicode = tag.parse().unwrap();
    g.new_attr::<hdf5::types::VarLenUnicode>()
        .create("class")
        .unwrap()
        .write_scalar(&v)
        .unwrap();
}

/// A file with group `g` whose member `x` is made by `make`.
fn file_with(dir: &Path, make: impl FnOnce(&hdf5::Group)) -> PathBuf {
    let path = dir.join("outer.hdf5");
    let file = hdf5::File::create(&path).unwrap();
    let g = file.create_group("g").unwrap();
    class(&g, "tests.Holder");
    make(&g);
    path
}

fn refused_and_allowed(path: &Path, what: &str) -> Value {
    let err = anam::from_file::<Value>(path, Some("g")).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("/g/x") && msg.contains(what) && msg.contains("allow_external"),
        "{msg}"
    );
    anam::from_file_with::<Value>(path, Some("g"), &ReadOptions::new().allow_external(true))
        .unwrap()
}

fn member(v: &Value, name: &str) -> Value {
    v.as_object().unwrap().get(name).unwrap().clone()
}

#[test]
fn external_links_are_refused_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.hdf5");
    {
        let file = hdf5::File::create(&other).unwrap();
        let t = file.create_group("target").unwrap();
        class(&t, "tests.Target");
        t.new_attr::<i64>()
            .create("secret")
            .unwrap()
            .write_scalar(&42)
            .unwrap();
    }
    let path = file_with(dir.path(), |g| {
        g.link_external(other.to_str().unwrap(), "target", "x")
            .unwrap();
    });
    let v = refused_and_allowed(&path, "external link");
    let target = member(&v, "x");
    assert_eq!(member(&target, "secret"), Value::I64(42));
}

#[test]
fn external_raw_storage_is_refused_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw.bin");
    std::fs::write(&raw, 7i32.to_le_bytes().repeat(4)).unwrap();
    let path = file_with(dir.path(), |g| {
        g.new_dataset::<i32>()
            .shape(4)
            .external(raw.to_str().unwrap(), 0, 16)
            .create("x")
            .unwrap();
    });
    let v = refused_and_allowed(&path, "external raw storage");
    assert_eq!(
        member(&v, "x"),
        Value::from(ndarray::arr1(&[7i32, 7, 7, 7]).into_dyn())
    );
}

#[test]
fn virtual_datasets_are_refused_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.hdf5");
    {
        let file = hdf5::File::create(&source).unwrap();
        file.new_dataset_builder()
            .with_data(&ndarray::arr1(&[1.5f64, 2.5, 3.5]))
            .create("data")
            .unwrap();
    }
    let path = file_with(dir.path(), |g| {
        g.new_dataset::<f64>()
            .shape(3)
            .virtual_map(source.to_str().unwrap(), "data", 3, .., 3, ..)
            .create("x")
            .unwrap();
    });
    let v = refused_and_allowed(&path, "virtual dataset");
    assert_eq!(
        member(&v, "x"),
        Value::from(ndarray::arr1(&[1.5f64, 2.5, 3.5]).into_dyn())
    );
}
