//! Writers killed with SIGKILL at random moments: a new file is at its path complete or not
//! at all; in an existing file the other objects always read back identical, and HDF5's
//! own tools (and h5py, when `ANAM_PYTHON` names a Python with it) read the whole file.
//!
//! `ANAM_KILL_LONG=1` (`make test-kill`) kills more often and writes 300,000 small
//! objects in the many-objects case (the default, 10,000, keeps `make test` short).

#[path = "common/python.rs"]
mod python;

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "kill.Small")]
struct Small {
    name: String,
    value: i64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "kill.Many")]
struct Many {
    items: Vec<Small>,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "kill.Big")]
struct Big {
    label: String,
    #[serde(with = "anam::array")]
    data: ndarray::Array1<f64>,
}

fn long() -> bool {
    std::env::var("ANAM_KILL_LONG").is_ok_and(|v| v == "1")
}

fn many(n: usize, salt: i64) -> Many {
    Many {
        items: (0..n)
            .map(|i| Small {
                name: format!("item {i}"),
                value: i as i64 * 7 + salt,
            })
            .collect(),
    }
}

fn big(salt: f64) -> Big {
    Big {
        label: format!("big {salt}"),
        data: ndarray::Array1::from_shape_fn(8 << 20, |i| i as f64 + salt),
    }
}

/// What the child writes, by mode.
#[test]
#[ignore = "run by the tests below in a child process"]
fn writer() {
    let path = PathBuf::from(std::env::var("ANAM_KILL_FILE").unwrap());
    let n: usize = std::env::var("ANAM_KILL_N").unwrap().parse().unwrap();
    match std::env::var("ANAM_KILL_MODE").unwrap().as_str() {
        "many" => anam::to_file(&path, "many", &many(n, 1)).unwrap(),
        "big" => anam::to_file(&path, "big", &big(1.0)).unwrap(),
        other => panic!("mode {other}"),
    }
    println!("WROTE");
}

fn spawn_writer(mode: &str, path: &Path, n: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "writer",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ANAM_KILL_MODE", mode)
        .env("ANAM_KILL_FILE", path)
        .env("ANAM_KILL_N", n.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// The time one uninterrupted write takes (of a new copy of `base`, or a new file).
fn time_one(mode: &str, dir: &Path, base: Option<&Path>, n: usize) -> Duration {
    let path = dir.join("timing.hdf5");
    let _ = std::fs::remove_file(&path);
    if let Some(base) = base {
        std::fs::copy(base, &path).unwrap();
    }
    let start = Instant::now();
    let status = spawn_writer(mode, &path, n).wait().unwrap();
    assert!(status.success(), "the writer failed on its own");
    start.elapsed()
}

/// A small random number generator (seeded, so a failure can be replayed).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

fn seed() -> u64 {
    let seed = std::env::var("ANAM_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("ANAM_KILL_SEED={seed}");
    seed
}

/// Starts a writer and kills it after a random part of `full` (a third of the kills come
/// early, in the first tenth, where a new file is being made).
fn kill_during(rng: &mut Rng, mode: &str, path: &Path, n: usize, full: Duration) {
    let mut child = spawn_writer(mode, path, n);
    let limit = full.as_micros() as u64;
    let delay = if rng.below(3) == 0 {
        rng.below(limit / 10)
    } else {
        rng.below(limit)
    };
    std::thread::sleep(Duration::from_micros(delay));
    let _ = child.kill();
    let _ = child.wait();
}

/// HDF5's own tool (and h5py, if available) read the whole file.
fn tools_read_whole(path: &Path) {
    if let Ok(out) = Command::new("h5dump").arg("-H").arg(path).output() {
        if !out.status.success() {
            let kept = std::env::temp_dir().join("anam-kill-failure.hdf5");
            let _ = std::fs::copy(path, &kept);
            panic!(
                "h5dump: {} (the file is kept as {})",
                String::from_utf8_lossy(&out.stderr),
                kept.display()
            );
        }
    }
    if let Ok(python) = std::env::var("ANAM_PYTHON") {
        let script = "import sys, h5py\nwith h5py.File(sys.argv[1], 'r') as f:\n    f.visititems(lambda n, o: None)\n";
        python::run_script(python, script, &[&path]);
    }
}

#[test]
fn killed_while_creating_a_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let n = 2_000;
    let full = time_one("many", dir.path(), None, n);
    let mut rng = Rng(seed());
    let kills = if long() { 60 } else { 20 };
    let (mut absent, mut complete) = (0, 0);
    for i in 0..kills {
        let path = dir.path().join(format!("new{i}.hdf5"));
        kill_during(&mut rng, "many", &path, n, full);
        if path.exists() {
            let back: Many = anam::from_file(&path, Some("many"))
                .unwrap_or_else(|e| panic!("kill {i}: a file at the path that does not read: {e}"));
            assert_eq!(back, many(n, 1), "kill {i}");
            tools_read_whole(&path);
            complete += 1;
        } else {
            absent += 1;
        }
    }
    eprintln!("{kills} kills: {absent} left no file, {complete} a complete one");
}

/// A file with two objects the writer must not disturb, and an older version of the
/// object it replaces.
fn existing(dir: &Path) -> PathBuf {
    let base = dir.join("base.hdf5");
    anam::to_file(&base, "first", &many(100, 5)).unwrap();
    anam::to_file(&base, "second", &big(3.0)).unwrap();
    anam::to_file(&base, "many", &many(10, 9)).unwrap();
    anam::to_file(&base, "big", &big(9.0)).unwrap();
    base
}

fn check_existing(path: &Path, what: &str) {
    let first: Many = anam::from_file(path, Some("first"))
        .unwrap_or_else(|e| panic!("{what}: `first` does not read: {e}"));
    assert_eq!(first, many(100, 5), "{what}: `first` changed");
    let second: Big = anam::from_file(path, Some("second")).unwrap();
    assert_eq!(second, big(3.0), "{what}: `second` changed");
    tools_read_whole(path);
}

fn killed_while_adding(mode: &str, n: usize) {
    let dir = tempfile::tempdir().unwrap();
    let base = existing(dir.path());
    let full = time_one(mode, dir.path(), Some(&base), n);
    let mut rng = Rng(seed());
    let kills = if long() { 30 } else { 10 };
    let (mut old, mut new) = (0, 0);
    for i in 0..kills {
        let path = dir.path().join(format!("{mode}{i}.hdf5"));
        std::fs::copy(&base, &path).unwrap();
        kill_during(&mut rng, mode, &path, n, full);
        let what = format!("{mode}, kill {i}");
        check_existing(&path, &what);
        // The object being replaced is the old one or the new one.
        let replaced_is_new = match mode {
            "many" => {
                let v: Many = anam::from_file(&path, Some("many")).unwrap();
                assert!(
                    v == many(10, 9) || v == many(n, 1),
                    "{what}: `many` is neither"
                );
                v == many(n, 1)
            }
            _ => {
                let v: Big = anam::from_file(&path, Some("big")).unwrap();
                assert!(v == big(9.0) || v == big(1.0), "{what}: `big` is neither");
                v == big(1.0)
            }
        };
        if replaced_is_new {
            new += 1;
        } else {
            old += 1;
        }
    }
    eprintln!("{mode}: {kills} kills: {old} kept the old object, {new} have the new one");
}

#[test]
fn killed_while_writing_a_big_array_into_a_file() {
    killed_while_adding("big", 0);
}

#[test]
fn killed_while_writing_many_small_objects_into_a_file() {
    killed_while_adding("many", if long() { 300_000 } else { 10_000 });
}
