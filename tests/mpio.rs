//! Parallel HDF5 (the `mpio` feature): `MpiHandler::write_collection`,
//! `write_array_rows`, `read_collection_share` and `read_array_rows` under `mpiexec -n 1`,
//! `-n 2` and `-n 3`, with uneven and empty shares (a rank with nothing to write takes part),
//! and with the local backend (one process, no MPI).
//!
//! Each child writes the parallel file and, on rank 0, the serial file of the same data
//! (`anam::to_file` of the concatenated collection, `File::write` of the whole array); rank
//! 0 checks that the two read back equal as `Value`s (class tags, dtypes, shapes and values)
//! and that `h5diff` finds no difference; every rank checks its share read back. The parent
//! then loads both files with Python anamnesis 1.0.4 and checks they are the same.
//! A rank that fails during a collective write ends the whole job with its message within
//! 10 s.
#![cfg(feature = "mpio")]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anam::{AnamCollection, MpiHandler, Value};
use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

#[path = "common/mpiexec.rs"]
mod mpiexec;
use mpiexec::*;

#[path = "common/python.rs"]
mod python;

/// The directory a child writes its files in (set by the parent).
const DIR_ENV: &str = "ANAM_MPIO_DIR";

/// A member of the distributed collection: scalars, a string, a small array (sent to every
/// rank in the exchange), a big one (written by its own rank only), a list and a map; and
/// the other things the writer makes datasets of, big enough to be written by their own
/// rank too (1 KiB and more): a sequence of numbers, bytes, and such sequences as the
/// values of a map that the writer stores sorted by key (so in another order than a
/// `HashMap` serializes them).
#[anam::class(class = "mpio_tests.Sample")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Sample {
    pub index: i64,
    pub score: f64,
    pub label: String,
    #[serde(with = "anam::array")]
    pub small: Array1<f32>,
    #[serde(with = "anam::array")]
    pub big: Array2<f64>,
    pub counts: Vec<i32>,
    pub tags: BTreeMap<String, i64>,
    pub waves: Vec<f64>,
    pub blob: serde_bytes::ByteBuf,
    pub spectra: HashMap<String, Vec<f64>>,
}

/// The object the distributed arrays are members of.
#[anam::class(class = "mpio_tests.Arrays")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Arrays {
    #[serde(with = "anam::array")]
    pub rows: Array2<f64>,
    #[serde(with = "anam::array")]
    pub last: Array1<i32>,
}

/// The member with global index `i`.
fn sample(i: usize) -> Sample {
    let x = i as f64;
    Sample {
        index: i as i64,
        score: x * 0.5 - 3.0,
        label: format!("sample {i}"),
        small: Array1::from_iter((0..4).map(|k| (i * 10 + k) as f32)),
        big: Array2::from_shape_fn((20, 10), |(r, c)| x * 1000.0 + (r * 10 + c) as f64),
        counts: (0..i as i32 % 4 + 1).collect(),
        tags: BTreeMap::from([
            ("rank order".into(), i as i64),
            ("twice".into(), 2 * i as i64),
        ]),
        waves: (0..200).map(|k| x + k as f64 / 8.0).collect(),
        blob: serde_bytes::ByteBuf::from((0..1500).map(|k| (i + k) as u8).collect::<Vec<_>>()),
        spectra: ["d", "a", "c", "b", "e"]
            .iter()
            .enumerate()
            .map(|(j, key)| {
                (
                    key.to_string(),
                    (0..150).map(|k| x * 10.0 + (j * 150 + k) as f64).collect(),
                )
            })
            .collect(),
    }
}

/// How many members (and rows) each rank of a job of `size` has: uneven, with an empty
/// rank whenever there are two ranks or more.
fn shares(size: usize) -> Vec<usize> {
    match size {
        1 => vec![5],
        2 => vec![0, 4],
        3 => vec![3, 0, 5],
        n => (0..n).map(|r| r % 3).collect(),
    }
}

/// The global range of rank `rank`'s part.
fn my_range(size: usize, rank: usize) -> std::ops::Range<usize> {
    let counts = shares(size);
    let start: usize = counts[..rank].iter().sum();
    start..start + counts[rank]
}

/// Row `i` of the distributed array (3 columns).
fn row(i: usize) -> [f64; 3] {
    [i as f64, i as f64 + 0.25, -(i as f64)]
}

fn rows(range: std::ops::Range<usize>) -> Array2<f64> {
    let n = range.len();
    Array2::from_shape_vec((n, 3), range.flat_map(row).collect()).unwrap()
}

/// Writes, checks and reads back; rank 0 also writes the serial files.
fn write_and_check(m: &MpiHandler, dir: &Path) -> anam::Result<()> {
    let (size, rank) = (m.size(), m.rank());
    let total: usize = shares(size).iter().sum();
    let parallel = dir.join("parallel.hdf5");
    let serial = dir.join("serial.hdf5");

    // The collection: each rank its members.
    // First other members, then (into the existing file: built unlinked, replacing) the
    // members the file must hold.
    let other: AnamCollection<Sample> = my_range(size, rank)
        .map(|i| sample(i + 1000))
        .collect::<Vec<_>>()
        .into();
    m.write_collection(&parallel, "results", &other)?;
    let share: AnamCollection<Sample> = my_range(size, rank).map(sample).collect::<Vec<_>>().into();
    m.write_collection(&parallel, "results", &share)?;
    // The arrays, into the same (now existing) file, as members of an object rank 0 writes
    // first (with empty arrays, which the rows replace); the i32 array's rows are all on
    // the last rank.
    if rank == 0 {
        let empty = Arrays {
            rows: Array2::zeros((0, 3)),
            last: Array1::zeros(0),
        };
        anam::to_file(&parallel, "arrays", &empty)?;
    }
    m.write_array_rows(&parallel, "arrays/rows", &rows(my_range(size, rank)))?;
    let last: Array1<i32> = if rank == size - 1 {
        Array1::from_iter(0..7)
    } else {
        Array1::zeros(0)
    };
    m.write_array_rows(&parallel, "arrays/last", &last)?;

    if rank == 0 {
        let all: AnamCollection<Sample> = (0..total).map(sample).collect::<Vec<_>>().into();
        anam::to_file(&serial, "results", &all)?;
        let arrays = Arrays {
            rows: rows(0..total),
            last: Array1::from_iter(0..7),
        };
        anam::to_file(&serial, "arrays", &arrays)?;
        for group in ["results", "arrays"] {
            let p: Value = anam::from_file(&parallel, Some(group))?;
            let s: Value = anam::from_file(&serial, Some(group))?;
            assert_eq!(p, s, "the parallel and serial `{group}` differ");
        }
        let back: AnamCollection<Sample> = anam::from_file(&parallel, Some("results"))?;
        assert_eq!(back.len(), total);
        for (i, member) in back.iter().enumerate() {
            assert_eq!(member, &sample(i));
        }
        let out = std::process::Command::new("h5diff")
            .arg(&parallel)
            .arg(&serial)
            .output()
            .expect("h5diff (hdf5-tools)");
        assert!(
            out.status.success(),
            "h5diff finds differences: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    // Each rank its share back: the split of get_scatter_indices.
    let (start, end) = m.get_scatter_indices(total)[rank];
    let mine: AnamCollection<Sample> = m.read_collection_share(&parallel, Some("results"))?;
    let expected: Vec<Sample> = (start..end).map(sample).collect();
    assert_eq!(
        mine.iter().cloned().collect::<Vec<_>>(),
        expected,
        "rank {rank}"
    );
    let my_rows: Array2<f64> = m.read_array_rows(&parallel, "arrays/rows")?;
    assert_eq!(my_rows, rows(start..end), "rank {rank}");
    let (start, end) = m.get_scatter_indices(7)[rank];
    let my_last: Array1<i32> = m.read_array_rows(&parallel, "arrays/last")?;
    assert_eq!(
        my_last,
        Array1::from_iter(start as i32..end as i32),
        "rank {rank}"
    );
    Ok(())
}

#[test]
#[ignore = "MPI child: run by parallel_files_equal_serial_ones"]
fn child_write_and_check() {
    if !is_child() {
        return;
    }
    let dir = PathBuf::from(std::env::var_os(DIR_ENV).expect("the parent sets the directory"));
    anam::mpi::run(true, |m| write_and_check(m, &dir)).unwrap();
}

/// Python anamnesis loads both files, and finds the same members.
fn python_loads_both(dir: &Path, total: usize) {
    let Some(python) = python::python() else {
        return;
    };
    let script = r#"
import sys
import numpy as np
from anamnesis import AbstractAnam, obj_from_hdf5file, register_class

class Sample(AbstractAnam):
    hdf5_outputs = ["index", "score", "label", "small", "big", "counts", "tags", "waves",
                    "blob", "spectra"]
    def __init__(self):
        AbstractAnam.__init__(self)
Sample.__module__ = "mpio_tests"
register_class(Sample)

def fields(path):
    c = obj_from_hdf5file(path, "results")
    out = []
    for m in c.members:
        assert type(m).__name__ == "Sample", type(m)
        out.append([getattr(m, f) for f in Sample.hdf5_outputs])
    return out

def same(a, b):
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b), (a, b)
    elif isinstance(a, dict):
        assert type(b) is dict and sorted(a) == sorted(b), (a, b)
        for k in a:
            same(a[k], b[k])
    else:
        assert type(a) is type(b) and a == b, (a, b)

par, ser = fields(sys.argv[1]), fields(sys.argv[2])
assert len(par) == len(ser) == int(sys.argv[3]), (len(par), len(ser))
for p, s in zip(par, ser):
    for a, b in zip(p, s):
        same(a, b)
print("python: same", len(par))
"#;
    let out = std::process::Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(dir.join("parallel.hdf5"))
        .arg(dir.join("serial.hdf5"))
        .arg(total.to_string())
        .output()
        .expect("running Python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("python: same"),
        "Python anamnesis: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn parallel_files_equal_serial_ones() {
    for n in [1, 2, 3] {
        let dir = tempfile::tempdir().unwrap();
        let run = run_child_with_env(
            "child_write_and_check",
            n,
            &[(DIR_ENV, dir.path().to_str().unwrap())],
            Duration::from_secs(300),
        );
        assert!(run.status.success(), "child failed: {}", run.report());
        assert_eq!(ranks_passed(&run), n, "{}", run.report());
        python_loads_both(dir.path(), shares(n).iter().sum());
        println!("{n} ranks: {:.2?}", run.elapsed);
    }
}

/// The local backend (one process, no MPI): the same calls write the same file.
#[test]
fn local_backend_writes_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    anam::mpi::run(false, |m| write_and_check(m, dir.path())).unwrap();
    python_loads_both(dir.path(), shares(1).iter().sum());
}

/// A member that cannot be written (on one rank only).
struct Refuses;

#[derive(Serialize)]
#[serde(untagged)]
enum MaybeBad {
    Good(Box<Sample>),
    Bad(Refuses),
}

impl Serialize for Refuses {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        Err(serde::ser::Error::custom(
            "this member refuses to be written",
        ))
    }
}

/// A member whose array is another the second time it is serialized (`write_collection`
/// serializes each member twice: to describe it, then to write its arrays).
struct Fickle(std::cell::Cell<usize>);

impl Serialize for Fickle {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let times = self.0.get();
        self.0.set(times + 1);
        let len = if times == 0 { 200 } else { 300 };
        let mut st = s.serialize_struct("mpio_tests.Fickle", 1)?;
        st.serialize_field(
            "values",
            &anam::Value::from(Array1::<f64>::zeros(len).into_dyn()),
        )?;
        st.end()
    }
}

#[test]
#[ignore = "MPI child: run by a_failing_rank_ends_the_job_with_its_message"]
fn child_failing_rank() {
    if !is_child() {
        return;
    }
    let dir = PathBuf::from(std::env::var_os(DIR_ENV).expect("the parent sets the directory"));
    let mode = std::env::var("ANAM_MPIO_FAIL").unwrap();
    anam::mpi::run(true, |m| {
        let path = dir.join("failed.hdf5");
        match mode.as_str() {
            "member" => {
                let share: AnamCollection<MaybeBad> = if m.rank() == 1 {
                    vec![MaybeBad::Good(Box::new(sample(0))), MaybeBad::Bad(Refuses)]
                } else {
                    vec![MaybeBad::Good(Box::new(sample(m.rank())))]
                }
                .into();
                m.write_collection(&path, "results", &share)?;
            }
            "fickle" => {
                let share: AnamCollection<Fickle> = if m.rank() == 1 {
                    vec![Fickle(std::cell::Cell::new(0))]
                } else {
                    vec![]
                }
                .into();
                m.write_collection(&path, "results", &share)?;
            }
            _ => {
                // Rank 1's rows have another shape after axis 0.
                let cols = if m.rank() == 1 { 4 } else { 3 };
                m.write_array_rows(&path, "rows", &Array2::<f64>::zeros((2, cols)))?;
            }
        }
        Ok(())
    })
    .unwrap();
    panic!("a failed collective write must not return");
}

#[test]
fn a_failing_rank_ends_the_job_with_its_message() {
    for (mode, expected) in [
        ("member", "this member refuses to be written"),
        (
            "fickle",
            "its members serialized other arrays the second time",
        ),
        ("shape", "same shape after axis 0"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let run = run_child_with_env(
            "child_failing_rank",
            3,
            &[
                (DIR_ENV, dir.path().to_str().unwrap()),
                ("ANAM_MPIO_FAIL", mode),
            ],
            Duration::from_secs(60),
        );
        let all = format!("{}{}", run.stdout, run.stderr);
        assert!(!run.status.success(), "{}", run.report());
        assert!(
            all.contains("rank 1") && all.contains(expected),
            "the job should end with rank 1's message: {}",
            run.report()
        );
        assert!(
            run.elapsed < Duration::from_secs(10),
            "the job should end within 10 s: {}",
            run.report()
        );
        assert!(
            !dir.path().join("failed.hdf5").exists(),
            "no file should appear: {}",
            run.report()
        );
        println!("{mode}: ended after {:.2?}", run.elapsed);
    }
}
