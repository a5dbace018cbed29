//! Two types claiming one class tag: the registry reports the conflict, naming the tag and
//! both types, from `check` and from every load that needs the registry (never a silent
//! choice of one of them).
//!
//! Its own test binary: the conflict poisons the registry of the whole binary.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

const TAG: &str = "conflict_tests.Claimed";

/// Its options differ from `Second`'s, so that using one's for the other shows.
#[anam::class(class = "conflict_tests.Claimed")]
#[derive(Serialize, Deserialize, Debug, Default, PartialEq)]
pub struct First {
    pub x: i64,
    #[anam(bcast_only)]
    pub secret: String,
}

mod other {
    use serde::{Deserialize, Serialize};

    #[anam::class(class = "conflict_tests.Claimed")]
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    pub struct Second {
        #[anam(name = "why")]
        pub y: String,
    }
}

/// A class without a conflict of its own.
#[anam::class(class = "conflict_tests.Innocent")]
#[derive(Serialize, Deserialize, Debug, PartialEq)]
pub struct Innocent {
    pub z: i64,
}

fn assert_names_the_conflict(msg: &str) {
    assert!(msg.contains(TAG), "names the tag: {msg}");
    assert!(
        msg.contains("registry_conflict::First"),
        "names the first type: {msg}"
    );
    assert!(
        msg.contains("registry_conflict::other::Second"),
        "names the second type: {msg}"
    );
}

fn check_message() -> String {
    anam::registry::check().unwrap_err().to_string()
}

#[test]
fn check_reports_both_types_and_the_tag() {
    let err = anam::registry::check().unwrap_err();
    assert!(
        matches!(err.kind(), anam::ErrorKind::Registry(_)),
        "{err:?}"
    );
    assert_names_the_conflict(&err.to_string());
    // Every lookup reports it, even of another tag.
    let err = anam::registry::lookup("conflict_tests.Innocent").unwrap_err();
    assert_names_the_conflict(&err.to_string());
    let err = anam::registry::lookup(TAG).unwrap_err();
    assert_names_the_conflict(&err.to_string());
}

#[test]
fn obj_from_file_reports_the_conflict() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("conflict.hdf5");
    write_by_hand(&path, "claimed");
    // Writing through the crate reports the conflict too.
    let err = anam::to_file(&path, "innocent", &Innocent { z: 2 }).unwrap_err();
    assert!(
        matches!(err.kind(), anam::ErrorKind::Registry(_)),
        "{err:?}"
    );
    let file = anam::hdf5::File::append(&path).unwrap();
    let g = file
        .group("innocent")
        .unwrap_or_else(|_| file.create_group("innocent").unwrap());
    if g.attr("class").is_err() {
        let tag: anam::hdf5::types::VarLenUnicode = "conflict_tests.Innocent".parse().unwrap();
        g.new_attr::<anam::hdf5::types::VarLenUnicode>()
            .create("class")
            .unwrap()
            .write_scalar(&tag)
            .unwrap();
        g.new_attr::<i64>()
            .create("z")
            .unwrap()
            .write_scalar(&2)
            .unwrap();
    }
    drop(file);
    let conflict = check_message();

    let err = anam::obj_from_file(&path, Some("claimed")).unwrap_err();
    let msg = err.to_string();
    assert_names_the_conflict(&msg);
    assert!(msg.contains(&conflict), "the error of `check`: {msg}");
    assert!(msg.contains("/claimed"), "names the group: {msg}");
    assert!(
        matches!(err.kind(), anam::ErrorKind::Registry(_)),
        "{err:?}"
    );

    // A group of another class fails too: the registry is not trusted.
    let err = anam::obj_from_file(&path, Some("innocent")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&conflict), "the error of `check`: {msg}");
    assert!(msg.contains("/innocent"), "names the group: {msg}");

    // So does a fixture written by Python.
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/anamnesis-1.0.4/tutorial1.hdf5");
    let err = anam::obj_from_file(&fixture, None).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&conflict), "the error of `check`: {msg}");
    assert!(msg.contains("/person"), "names the group: {msg}");
}

/// A group tagged with the claimed tag, written without either class.
#[derive(Serialize)]
#[serde(rename = "conflict_tests.Claimed")]
struct ByHand {
    x: i64,
    why: String,
}

fn write_by_hand(path: &std::path::Path, group: &str) {
    // With the hdf5 crate: every registry-dependent write reports the conflict, so the
    // fixture is written without the crate's serializer.
    let _ = ByHand {
        x: 1,
        why: String::new(),
    };
    let file = anam::hdf5::File::append(path).unwrap();
    let g = file.create_group(group).unwrap();
    let s = |v: &str| v.parse::<anam::hdf5::types::VarLenUnicode>().unwrap();
    g.new_attr::<anam::hdf5::types::VarLenUnicode>()
        .create("class")
        .unwrap()
        .write_scalar(&s("conflict_tests.Claimed"))
        .unwrap();
    g.new_attr::<i64>()
        .create("x")
        .unwrap()
        .write_scalar(&1)
        .unwrap();
    g.new_attr::<anam::hdf5::types::VarLenUnicode>()
        .create("why")
        .unwrap()
        .write_scalar(&s("because"))
        .unwrap();
}

/// Writing or reading either claimant by its type does not silently use the other's
/// options (`bcast_only`, name maps): it reports the conflict, or does what the type says.
#[test]
fn typed_files_do_not_silently_use_the_other_claimant() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typed.hdf5");
    let names = |group: &str| {
        let f = anam::hdf5::File::open(&path).unwrap();
        let g = f.group(group).unwrap();
        let mut n = g.attr_names().unwrap();
        n.extend(g.member_names().unwrap());
        n.sort();
        n
    };

    let first = First {
        x: 1,
        secret: "not stored".into(),
    };
    match anam::to_file(&path, "first", &first) {
        Err(e) => assert_names_the_conflict(&e.to_string()),
        Ok(()) => assert_eq!(names("first"), ["class", "x"], "bcast_only is not stored"),
    }
    let second = other::Second { y: "y".into() };
    match anam::to_file(&path, "second", &second) {
        Err(e) => assert_names_the_conflict(&e.to_string()),
        Ok(()) => assert_eq!(
            names("second"),
            ["class", "namemaps", "why"],
            "`y` is stored as `why`"
        ),
    }

    write_by_hand(&path, "by_hand");
    match anam::from_file::<other::Second>(&path, Some("by_hand")) {
        Err(e) => assert_names_the_conflict(&e.to_string()),
        Ok(s) => assert_eq!(s.y, "because", "`why` is read as `y`"),
    }
}
