//! `anam::File`: many objects in one open file, paths to their members, entries described
//! without reading data, and lists and collections read and extended a member at a time.

mod common;

#[path = "common/python.rs"]
mod python;

use std::time::{Duration, Instant};

use anam::{AnamCollection, DType, EntryKind, File, Value};
use common::{entry as manifest_entry, fixture, manifest};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "test_classes1.SimplePerson")]
struct Person {
    name: String,
    age: i64,
}

// The tests of this file run one at a time (`serial()`): two of them time things, which
// other tests running beside them (taking HDF5's global lock) would disturb.
#[path = "common/serial.rs"]
mod serial;
use serial::serial;

fn person(i: usize) -> Person {
    Person {
        name: format!("p{i}"),
        age: i as i64,
    }
}

#[test]
fn create_refuses_an_existing_file_and_open_is_read_only() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.hdf5");
    let file = File::create(&path).unwrap();
    file.write("p", &person(1)).unwrap();
    drop(file);
    let err = File::create(&path).unwrap_err().to_string();
    assert!(err.contains("already there"), "{err}");
    let back: Person = anam::from_file(&path, Some("p")).unwrap();
    assert_eq!(back, person(1), "the file was kept");
    let ro = File::open(&path).unwrap();
    let err = ro.write("q", &person(2)).unwrap_err().to_string();
    assert!(err.contains("reading only"), "{err}");
    assert_eq!(ro.read::<Person>("p").unwrap(), person(1));
}

#[test]
fn many_objects_nested_paths_members_and_removal() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.hdf5");
    let file = File::create(&path).unwrap();
    for i in 0..50 {
        file.write(&format!("runs/{}/p", i % 5), &person(i))
            .unwrap();
    }
    file.write("runs/0/q", &person(7)).unwrap();
    assert_eq!(file.read::<Person>("runs/4/p").unwrap(), person(49));
    assert_eq!(file.read::<i64>("runs/0/q/age").unwrap(), 7);
    assert_eq!(file.read::<String>("/runs/0/q/name").unwrap(), "p7");
    assert!(file.contains("runs/0/q") && file.contains("runs/0/q/age"));
    assert!(!file.contains("runs/0/r") && !file.contains("nowhere/at/all"));
    let obj = file.read_obj("tutorial").err();
    assert!(obj.is_some());
    file.remove("runs/0/q").unwrap();
    assert!(!file.contains("runs/0/q"));
    let err = file.read::<Person>("runs/0/q").unwrap_err().to_string();
    assert!(err.contains("nothing at `runs/0/q`"), "{err}");
    file.remove("runs/1/p/age").unwrap();
    let err = file.read::<Person>("runs/1/p").unwrap_err().to_string();
    assert!(err.contains("age"), "{err}");
    drop(file);
    // The file reads back with the one-call functions too.
    let back: Person = anam::from_file(&path, Some("runs/2/p")).unwrap();
    assert_eq!(back, person(47));
}

#[test]
fn a_failed_write_leaves_the_object_it_would_replace() {
    let _serial = serial();
    #[derive(Serialize)]
    #[serde(rename = "test_classes1.SimplePerson")]
    struct Bad {
        name: String,
        age: i64,
    }
    let dir = tempfile::tempdir().unwrap();
    let file = File::create(dir.path().join("f.hdf5")).unwrap();
    file.write("p", &person(3)).unwrap();
    let bad = Bad {
        name: "nul\0".into(),
        age: 1,
    };
    file.write("p", &bad).unwrap_err();
    assert_eq!(file.read::<Person>("p").unwrap(), person(3));
}

#[test]
fn entries_describe_the_fixtures_as_the_manifest_says() {
    let _serial = serial();
    let manifest = manifest();
    for (name, groups) in manifest.as_object().unwrap() {
        let file = File::open(fixture(name)).unwrap();
        let top = file.entries("").unwrap();
        let names: Vec<&str> = top.iter().map(|e| e.name.as_str()).collect();
        for group in groups.as_object().unwrap().keys() {
            assert!(
                names.contains(&group.as_str()),
                "{name}: {group} in {names:?}"
            );
        }
        for e in top.iter().filter(|e| groups.get(&e.name).is_some()) {
            let m = &groups[&e.name];
            let class = m["class"].as_str().or(m["class (in file)"].as_str());
            assert_eq!(e.class.as_deref(), class, "{name}/{}", e.name);
            assert_eq!(e.kind, EntryKind::Object, "{name}/{}", e.name);
            assert_eq!(e.path, e.name);
        }
    }

    // Scalars: every member the manifest lists, with its type; `a_none` is absent.
    let file = File::open(fixture("scalars.hdf5")).unwrap();
    let want = manifest_entry("scalars.hdf5", "scalars");
    let entries = file.entries("scalars").unwrap();
    for (member, value) in want.as_object().unwrap() {
        if member == "class" {
            continue;
        }
        let e = entries.iter().find(|e| &e.name == member);
        if value.is_null() {
            assert!(e.is_none(), "{member} is None: not stored");
            continue;
        }
        let e = e.unwrap_or_else(|| panic!("{member} not listed"));
        assert_eq!(e.kind, EntryKind::Scalar, "{member}");
        let dtype = match value {
            v if v.is_boolean() => Some(DType::Bool),
            v if v.is_i64() => Some(DType::I64),
            v if v.is_f64() => Some(DType::F64),
            _ => None,
        };
        assert_eq!(e.dtype, dtype, "{member}");
        assert_eq!(e.shape.as_deref(), Some(&[][..]), "{member}");
    }

    // Arrays: shapes and dtypes without reading data, empty ones included.
    let entries = File::open(fixture("arrays.hdf5"))
        .unwrap()
        .entries("arrays")
        .unwrap();
    let get = |n: &str| entries.iter().find(|e| e.name == n).unwrap().clone();
    let base = manifest_entry("arrays.hdf5", "arrays")["base"].clone();
    let shape = vec![
        base.as_array().unwrap().len(),
        base[0].as_array().unwrap().len(),
    ];
    for (n, dtype) in [
        ("f64", DType::F64),
        ("f32", DType::F32),
        ("c128", DType::C128),
    ] {
        let e = get(n);
        assert_eq!((e.kind, e.dtype), (EntryKind::Array, Some(dtype)), "{n}");
        assert_eq!(e.shape.as_ref(), Some(&shape), "{n}");
    }
    let e = get("empty3d_i16");
    assert_eq!(
        (e.kind, e.dtype, e.shape),
        (EntryKind::Array, Some(DType::I16), Some(vec![2, 3, 0]))
    );
    assert_eq!(get("empty0d").shape, Some(vec![]));

    // A collection: its members counted, listed in order.
    let file = File::open(fixture("tutorial3.hdf5")).unwrap();
    let top = file.entry("data").unwrap();
    let members = manifest_entry("tutorial3.hdf5", "data")["combined rts shape"][1]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(top.len, Some(members));
    let list = file.entries("data/members").unwrap();
    assert_eq!(list.len(), members);
    assert!(list.iter().enumerate().all(|(i, e)| e.name == i.to_string()
        && e.kind == EntryKind::Object
        && e.path == format!("data/members/LIST_item{i}")));

    // A dict: entries by key.
    let file = File::open(fixture("containers.hdf5")).unwrap();
    let dict = file.entries("dicts/dat").unwrap();
    let keys: Vec<&str> = dict.iter().map(|e| e.name.as_str()).collect();
    for key in ["A", "B", "nested"] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }
    let nested = dict.iter().find(|e| e.name == "nested").unwrap();
    assert_eq!(nested.kind, EntryKind::Dict);
    let back: Value = file.read(&nested.path).unwrap();
    assert_eq!(back["c"], Value::I64(99));
}

/// A collection of `n` people at `path` of a new file.
fn collection_file(dir: &std::path::Path, n: usize) -> File {
    let path = dir.join(format!("c{n}.hdf5"));
    let mut c: AnamCollection<Person> = AnamCollection::new();
    c.members_mut().extend((0..n).map(person));
    anam::to_file(&path, "c", &c).unwrap();
    File::open(&path).unwrap()
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[test]
fn item_costs_the_same_in_a_collection_100_times_bigger() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let small = collection_file(dir.path(), 1_000);
    let big = collection_file(dir.path(), 100_000);
    assert_eq!(
        (small.len("c").unwrap(), big.len("c").unwrap()),
        (1_000, 100_000)
    );
    assert_eq!(big.item::<Person>("c", 99_999).unwrap(), person(99_999));
    let err = big.item::<Person>("c", 100_000).unwrap_err().to_string();
    assert!(err.contains("no item 100000"), "{err}");
    let time = |file: &File, n: usize| {
        let start = Instant::now();
        for k in 0..50 {
            let i = (k * 7919) % n;
            assert_eq!(file.item::<Person>("c", i).unwrap().age, i as i64);
        }
        start.elapsed()
    };
    // Rounds taken in turns, and the fastest of each kept: load from other processes only
    // ever adds time, so the minimum is the cost itself (medians failed at 2.4-3.3x on this
    // 2-core machine at load 10, and passed at ~1x when it was idle).
    let (mut s, mut b) = (Duration::MAX, Duration::MAX);
    for _ in 0..11 {
        s = s.min(time(&small, 1_000));
        b = b.min(time(&big, 100_000));
    }
    let ratio = b.as_secs_f64() / s.as_secs_f64();
    assert!(
        ratio < 2.0,
        "item: {b:?} at 100,000 members, {s:?} at 1,000 ({ratio:.2}x)"
    );

    // `items` holds one member at a time: resident memory does not grow with the count.
    let before = resident_bytes();
    let mut n = 0;
    for (i, p) in big.items::<Person>("c").unwrap().enumerate() {
        assert_eq!(p.unwrap().age, i as i64);
        n += 1;
    }
    let grown = resident_bytes().saturating_sub(before);
    assert_eq!(n, 100_000);
    println!(
        "items over 100,000 members: resident memory grew by {} KiB",
        grown >> 10
    );
    assert!(
        grown < 16 << 20,
        "items grew resident memory by {grown} bytes"
    );
}

/// This process's resident memory (Linux).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Pushes `n` members one at a time onto a new collection in a new file at `path`: the
/// median time of a push in each thousand, and the open file.
fn push_thousands(path: &std::path::Path, n: usize) -> (Vec<Duration>, File) {
    let file = File::create(path).unwrap();
    file.write("c", &AnamCollection::<Person>::new()).unwrap();
    let mut times = Vec::with_capacity(n);
    for i in 0..n {
        let start = Instant::now();
        file.push("c", &person(i)).unwrap();
        times.push(start.elapsed());
    }
    let block = |k: usize| median(&mut times[k * 1_000..(k + 1) * 1_000].to_vec());
    let blocks: Vec<Duration> = (0..n / 1_000).map(block).collect();
    println!("push: median per thousand pushes: {blocks:?}");
    (blocks, file)
}

#[test]
fn push_appends_in_flat_time_and_python_reads_every_member() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pushed.hdf5");
    let n = 10_000;
    // Measured (debug and release alike): the first ~2,000 pushes are cheaper, while
    // HDF5's index of the list's links and its name heap still grow their blocks; from
    // there on a push costs the same (within a few per cent) up to 10,000. So: flat from
    // the third thousand to the last, and nothing like linear growth overall (linear would
    // make the last thousand ~10x the first).
    let ratios = |b: &[Duration]| {
        (
            b[9].as_secs_f64() / b[2].as_secs_f64(),
            b[9].as_secs_f64() / b[0].as_secs_f64(),
        )
    };
    let (mut blocks, mut file) = push_thousands(&path, n);
    if let (1.5.., _) | (_, 3.0..) = ratios(&blocks) {
        // Measured once more, on a new file, before failing: in CI, beside the other tests
        // of this binary, the last two thousands once took 1.57x the third (alone, on the
        // same machine, 0.98-1.11x).
        drop(file);
        std::fs::remove_file(&path).unwrap();
        (blocks, file) = push_thousands(&path, n);
    }
    let (flat, overall) = ratios(&blocks);
    assert!(
        flat < 1.5,
        "push: last thousand {:?}, third {:?} ({flat:.2}x)",
        blocks[9],
        blocks[2]
    );
    assert!(
        overall < 3.0,
        "push: last thousand {:?}, first {:?} ({overall:.2}x)",
        blocks[9],
        blocks[0]
    );
    assert_eq!(file.len("c").unwrap(), n);
    drop(file);
    let back: AnamCollection<Person> = anam::from_file(&path, Some("c")).unwrap();
    assert_eq!(back.members().len(), n);
    assert_eq!(back.members()[n - 1], person(n - 1));

    let Some(python) = python::python() else {
        return;
    };
    let script = r#"
import sys, h5py
from anamnesis.abstract import AnamCollection
with h5py.File(sys.argv[1], "r") as f:
    g = f["c"]
    members = g["members"]
    n = int(members.attrs["count"])
    ages = [int(members["LIST_item%d" % i].attrs["age"]) for i in range(n)]
print(n, ages == list(range(n)))
"#;
    let stdout = python::run_script(python, script, &[&path]);
    assert_eq!(stdout.trim(), format!("{n} True"));
}

#[test]
fn push_onto_a_list_and_errors_for_what_is_not_one() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let file = File::create(dir.path().join("l.hdf5")).unwrap();
    file.write("l", &vec![Value::from("a"), Value::I64(1)])
        .unwrap();
    file.push("l", &2.5f64).unwrap();
    file.push("l", &person(4)).unwrap();
    let all: Vec<Value> = file.read("l").unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(all[2], Value::F64(2.5));
    assert_eq!(file.item::<Person>("l", 3).unwrap(), person(4));
    let got: Vec<Value> = file
        .items::<Value>("l")
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(got, all);

    #[derive(Serialize)]
    #[serde(rename = "t.Holder")]
    struct Holder {
        xs: Vec<f64>,
    }
    file.write("h", &Holder { xs: vec![1.0] }).unwrap();
    let err = file.push("h/xs", &2.0).unwrap_err().to_string();
    assert!(err.contains("is an array, not a list"), "{err}");
    let err = file.push("h", &2.0).unwrap_err().to_string();
    assert!(err.contains("not a collection"), "{err}");
    // A push that fails to serialize leaves the list as it was.
    let bad = Person {
        name: "nul\0".into(),
        age: 0,
    };
    file.push("l", &bad).unwrap_err();
    assert_eq!(file.len("l").unwrap(), 4);
    assert!(!file.contains("l/LIST_item4"));
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "space.Big")]
struct Big {
    label: String,
    #[serde(with = "anam::array")]
    data: anam::ndarray::Array1<f64>,
}

/// Within one open `File`, HDF5 tracks the space a replaced object frees and gives it to
/// the next write: replacing an 8 MiB object 1,000 times leaves the file at about twice its
/// size after the first write (the new object is written before the old one is freed).
/// Across `to_file` calls (a close between them) the freed space is forgotten (see
/// `docs/FORMAT.md`, "File space"); `anam repack` makes a compact copy.
#[test]
fn replacing_an_object_in_one_open_file_reuses_its_space() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("space.hdf5");
    let big = |i: usize| Big {
        label: format!("version {i}"),
        data: anam::ndarray::Array1::from_elem(1 << 20, i as f64),
    };
    let file = File::create(&path).unwrap();
    file.write("big", &big(0)).unwrap();
    let first = std::fs::metadata(&path).unwrap().len();
    for i in 1..=1_000 {
        file.write("big", &big(i)).unwrap();
    }
    assert_eq!(file.read::<Big>("big").unwrap(), big(1_000));
    drop(file);
    let after = std::fs::metadata(&path).unwrap().len();
    println!("8 MiB object: {first} bytes after the first write, {after} after 1,000 more");
    assert!(
        after < 3 * first,
        "{after} bytes after 1,000 replacements, {first} after the first"
    );
}
