//! Reads of files that claim more than they hold: every allocation is fallible, absent
//! items and unwritten data cost budget, and the budget turns a huge claim into a clear
//! error (in a child process with a memory limit, so that a regression shows as a failed
//! child, not as a machine out of memory).

use std::path::{Path, PathBuf};
use std::process::Command;

use anam::hdf5;
use anam::Value;

/// Memory a child may map (an abort or a huge allocation fails the test instead of the
/// machine).
const CHILD_MEMORY: u64 = 1 << 30;

/// Held while a test has a file open through the `hdf5` crate and while a child process is
/// started: HDF5 opens files without close-on-exec and `flock`s them, so a child started by
/// another test thread meanwhile would inherit the lock and keep the file "locked by
/// another process" for as long as it runs.
static HDF5_OPEN_OR_SPAWN: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn hold() -> std::sync::MutexGuard<'static, ()> {
    HDF5_OPEN_OR_SPAWN
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs the case `case` on `file` in a child process under [`CHILD_MEMORY`]; returns what
/// the load printed (`Ok` or `Err: message`).
fn in_child(case: &str, file: &Path) -> String {
    let spawning = hold();
    let child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ANAM_BOUNDED_CASE", case)
        .env("ANAM_BOUNDED_FILE", file)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(spawning);
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{case}: the child failed ({:?}): {stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split_once("RESULT: ").map(|(_, r)| r))
        .unwrap_or_else(|| panic!("{case}: no result: {stdout}"))
        .to_string()
}

#[test]
#[ignore = "run by the tests below in a child process"]
fn child() {
    let case = std::env::var("ANAM_BOUNDED_CASE").unwrap();
    let file = PathBuf::from(std::env::var("ANAM_BOUNDED_FILE").unwrap());
    let limit = libc::rlimit {
        rlim_cur: CHILD_MEMORY,
        rlim_max: CHILD_MEMORY,
    };
    // SAFETY: sets this process's address-space limit.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) }, 0);
    let result = match case.as_str() {
        "value" => anam::from_file::<Value>(&file, None).map(drop),
        "value-unlimited" => {
            anam::from_file_with::<Value>(&file, None, &anam::ReadOptions::new().unlimited())
                .map(drop)
        }
        "value-raised" => anam::from_file_with::<Value>(
            &file,
            None,
            &anam::ReadOptions::new().max_bytes(600 << 20),
        )
        .map(drop),
        other => panic!("unknown case {other}"),
    };
    match result {
        Ok(()) => println!("RESULT: Ok"),
        Err(e) => println!("RESULT: Err: {e}"),
    }
}

/// A file whose group `g` holds one dataset `x` made by `make` (chunked, never written).
fn file_with(name: &str, make: impl FnOnce(&hdf5::Group)) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    let _open = hold();
    let file = hdf5::File::create(&path).unwrap();
    let g = file.create_group("g").unwrap();
    let class: hdf5::types::VarLenUnicode = "tests.Holder".parse().unwrap();
    g.new_attr::<hdf5::types::VarLenUnicode>()
        .create("class")
        .unwrap()
        .write_scalar(&class)
        .unwrap();
    make(&g);
    drop(g);
    drop(file);
    (dir, path)
}

fn assert_budget_error(result: &str, what: &str) {
    assert!(
        result.starts_with("Err") && result.contains("budget") && result.contains("/g/x"),
        "{what}: {result}"
    );
}

/// Makes the dataset `x` in a group.
type MakeDataset = Box<dyn FnOnce(&hdf5::Group)>;

#[test]
fn huge_sparse_datasets_of_every_kind_are_budget_errors() {
    // (name, dataset): a few KB on disk each, terabytes claimed.
    let cases: Vec<(&str, MakeDataset)> = vec![
        (
            "bool",
            Box::new(|g| {
                g.new_dataset::<bool>()
                    .shape(1usize << 40)
                    .chunk(1024)
                    .create("x")
                    .unwrap();
            }),
        ),
        (
            "f64",
            Box::new(|g| {
                g.new_dataset::<f64>()
                    .shape(1usize << 37)
                    .chunk(1024)
                    .create("x")
                    .unwrap();
            }),
        ),
        (
            "complex",
            Box::new(|g| {
                g.new_dataset::<num_complex::Complex64>()
                    .shape(1usize << 36)
                    .chunk(1024)
                    .create("x")
                    .unwrap();
            }),
        ),
        (
            "string",
            Box::new(|g| {
                g.new_dataset::<hdf5::types::VarLenUnicode>()
                    .shape(1usize << 36)
                    .chunk(1024)
                    .create("x")
                    .unwrap();
            }),
        ),
        (
            "fixed string",
            Box::new(|g| {
                g.new_dataset::<hdf5::types::FixedAscii<16>>()
                    .shape(1usize << 36)
                    .chunk(1024)
                    .create("x")
                    .unwrap();
            }),
        ),
    ];
    for (name, make) in cases {
        let (_dir, path) = file_with("sparse.hdf5", make);
        assert!(std::fs::metadata(&path).unwrap().len() < 64 << 10);
        assert_budget_error(&in_child("value", &path), name);
    }
}

#[test]
fn a_sparse_dataset_within_a_raised_budget_loads() {
    // 400 MiB claimed by a small file: over the default budget, within a raised one.
    let (_dir, path) = file_with("sparse.hdf5", |g| {
        g.new_dataset::<f64>()
            .shape(50usize << 20)
            .chunk(1 << 16)
            .create("x")
            .unwrap();
    });
    assert_budget_error(&in_child("value", &path), "default budget");
    assert_eq!(in_child("value-raised", &path), "Ok");
}

#[test]
fn an_unlimited_read_of_an_impossible_size_is_an_error_not_an_abort() {
    let (_dir, path) = file_with("sparse.hdf5", |g| {
        g.new_dataset::<bool>()
            .shape(1usize << 40)
            .chunk(1024)
            .create("x")
            .unwrap();
    });
    let result = in_child("value-unlimited", &path);
    assert!(
        result.starts_with("Err") && result.contains("allocate"),
        "{result}"
    );
}

/// `AnamList`s that claim 2^24 items and store none: each absent item would be a `None`.
#[test]
fn lists_of_absent_items_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent.hdf5");
    let open = hold();
    let file = hdf5::File::create(&path).unwrap();
    let g = file.create_group("g").unwrap();
    let str_attr = |loc: &hdf5::Group, name: &str, value: &str| {
        let v: hdf5::types::VarLenUnicode = value.parse().unwrap();
        loc.new_attr::<hdf5::types::VarLenUnicode>()
            .create(name)
            .unwrap()
            .write_scalar(&v)
            .unwrap();
    };
    str_attr(&g, "class", "tests.Holder");
    for i in 0..4 {
        let list = g.create_group(&format!("x{i}")).unwrap();
        str_attr(&list, "class", anam::format::LIST_CLASS);
        list.new_attr::<i64>()
            .create("count")
            .unwrap()
            .write_scalar(&(1i64 << 24))
            .unwrap();
    }
    drop(g);
    drop(file);
    drop(open);
    assert!(std::fs::metadata(&path).unwrap().len() < 64 << 10);
    let result = in_child("value", &path);
    assert!(
        result.starts_with("Err") && result.contains("budget") && result.contains("/g/x"),
        "{result}"
    );
}
