//! HDF5 benchmarks: each workload written and read with `anam` beside its floor, the same
//! layout written and read with direct `hdf5` crate calls (no Serde).
//!
//! * **W1** many small objects: an `anam::collection!` of N objects (a `String`, an `i64`
//!   and a 3-element `f64` array), `anam::to_file` then `anam::from_file`; N = 2,000, and
//!   the per-object curve for N = 1,000, 10,000, 20,000 and 100,000.
//! * **W2** large arrays: one object holding a 4096x4096 `f64` array (128 MiB) and a
//!   2048x4096 `complex64` array (64 MiB); also the peak memory (max RSS) of a child
//!   process writing and reading them.
//! * **W3** deep and wide trees: an object nested 200 levels deep, a map of 10,000 entries,
//!   a list of 10,000 items mixing scalars, strings and small objects (as `anam::Value`s
//!   and as an untagged enum).
//! * **W4** lazy arrays (JSON mode only): a struct with a 1 GiB `anam::Lazy<Array2<f64>>`
//!   field (64 MiB quick): the resident memory reading it adds, and the medians of a full
//!   `load` and of a 1 MiB `slice` (`lazy.rs`).
//! * **W5** a compressed array: a 4096x8192 `f64` array (256 MiB) of numbers that
//!   compress, written with `anam::to_file_with` and gzip level 1 after shuffle in chunks
//!   of 16x8192 (`WriteOptions`), then read; the floor writes the same filters and chunks.
//!   The JSON mode also records each file's size (`benches/python/bench_hdf5.py` writes
//!   the same array with h5py, for `BENCHMARKS.md`).
//!
//! The files: `workloads.rs` (types, sizes and data), `floor.rs` (the floors), `check.rs`
//! (each side reads the other's files), `cases.rs` (the timed writes and reads),
//! `runner.rs` (the JSON and Criterion modes), `child.rs` (the child processes).
//!
//! W1 (N = 2,000 with the array) and W2 have two more cases, write-only, for like-for-like
//! writes: `anam::to_file` makes a new file durable (it fsyncs the file and its directory
//! before linking it into place), the floors do not. `anam_nosync` is `anam`'s write with
//! `anam::to_file_with` and `WriteOptions::new().sync(false)` (no fsync); `floor_sync` is
//! the floor's write followed by an fsync of the file and then of its directory. Their
//! reads would be `anam`'s and `floor`'s, and are not timed.
//!
//! Modes:
//!
//! * `cargo bench --bench hdf5` (`make bench`): Criterion groups `W1`, `W2`, `W5` and
//!   `W3`, each with `anam/...` and `floor/...` functions side by side (and, in W1 and
//!   W2, `anam_nosync/write` and `floor_sync/write`);
//! * `ANAM_BENCH_JSON=out.json target/release/deps/hdf5-HASH`: times every workload with a
//!   fixed number of repetitions and writes the medians as JSON (`make bench-compare`,
//!   `tools/bench_compare.py`, reads them): one record per case and op (`group`, `case`,
//!   `op`, `impl`, `median_s`, ...), the write-only cases with a `write` record only;
//! * `ANAM_BENCH_QUICK=1` shrinks the sizes and repetitions of either mode (a smoke run);
//! * `ANAM_BENCH_LARGE=1` adds W1's N = 100,000 to the Criterion mode (10 samples of
//!   several seconds each; the JSON mode always measures it);
//! * `ANAM_BENCH_ONLY=W4` (or `W1,W2`, ...): the JSON mode runs only those workloads;
//! * `ANAM_BENCH_DIR=dir`: where the scratch files go (the system temp dir by default);
//! * `ANAM_BENCH_W3_MAP=n`, `ANAM_BENCH_W3_LIST=n`: other sizes for W3's map and list;
//! * `ANAM_BENCH_KEEP=dir`: keep the files of the check below (to compare with `h5dump`).
//!
//! Without `--bench` and without `ANAM_BENCH_JSON` (`cargo test --all-targets` runs the
//! bench that way, in a debug build), only the check runs.
//!
//! Before timing anything, each workload's floor reads the file `anam` wrote and `anam`
//! reads the floor's, and both must give back the data: the floors write the same layout.
//!
//! W3's cases run in child processes with a time limit (60 s a case in the JSON mode,
//! 30 s quick; in the Criterion mode, one write first, limited to 20 s, and a write slower
//! than 5 s is not benchmarked). They finish far within it: `BENCHMARKS.md` has anam
//! writing the map of 10,000 entries in 79 ms and the list of 10,000 items in 82 ms (the
//! floors in about twice that), since `anam::to_file` and the floors write the HDF5 1.8
//! format, whose groups index their attributes. (In HDF5's earliest format a group keeps
//! its attributes in its object header and scans them all to add one, so a group of n
//! attributes costs O(n²): the map took minutes and the list about 40 s.) The limits stay
//! as a guard: should a change or larger sizes (`ANAM_BENCH_W3_MAP`, `ANAM_BENCH_W3_LIST`)
//! make a case that slow again, it is reported as out of time instead of holding the run
//! up, and its reads read the floor's file (the same layout).

mod cases;
mod check;
mod child;
mod floor;
mod lazy;
mod runner;
mod workloads;

use std::path::Path;

/// Whether the environment variable `name` is set to something other than empty or `0`.
fn env_flag(name: &str) -> bool {
    std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// The environment variable `name`, parsed, if set and valid.
fn env_parse<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn main() {
    match std::env::var("ANAM_BENCH_CHILD").as_deref() {
        Ok("case") => return child::case_child(),
        Ok(which) => return child::w2_child(which),
        Err(_) => {}
    }
    let sizes = workloads::Sizes::from_env();
    let dir = cases::scratch_dir();
    check::check(dir.path());
    match std::env::var_os("ANAM_BENCH_JSON") {
        Some(out) => runner::json_main(&sizes, dir.path(), Path::new(&out)),
        // `cargo test --all-targets` runs benches without `--bench`, in a debug build: the
        // check above is the test, and the workloads are left to `cargo bench`.
        None if !std::env::args().any(|a| a == "--bench") => {
            println!(
                "benches/hdf5: the floors and anam read each other's files: 1 passed, 0 failed"
            );
        }
        None => runner::criterion_main(&sizes, dir.path()),
    }
}
