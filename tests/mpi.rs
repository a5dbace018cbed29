//! `MpiHandler` over MPI (the `mpi` feature): every test starts `mpiexec` itself.
//!
//! - The four MPI tutorial examples run under `mpiexec -n 3 -prepend-rank`; each rank's
//!   lines are checked, in order, against what the Python scripts of the anamnesis
//!   tutorials print (`tests/mpi_expected/*.txt`). The examples must be built:
//!   `cargo test --all-targets --features mpi` builds them, or
//!   `cargo build --features mpi --examples`.
//! - Round trips: a parent test runs this test binary under `mpiexec`, restricted to one
//!   `#[ignore]`d child test (`--ignored --exact child_...`, with `ANAM_MPI_CHILD=1`) that
//!   does the MPI work and asserts on every rank. A failed assertion aborts the job (the
//!   handler's panic hook calls `MPI_Abort`): the parent reports the child's output.
//!   Without `ANAM_MPI_CHILD` a child test does nothing, so `cargo test -- --ignored`
//!   stays harmless.
//! - Failures: a panic, an error returned inside `anam::mpi::run`, or a handler dropped
//!   without `done()` on one rank aborts the whole job quickly while the other ranks wait.
//! - `large_bcast_of_2_5_gib` (ignored: `make test-large`, i.e.
//!   `cargo test --release --features mpi --test mpi -- --ignored large`) broadcasts a
//!   2.5 GiB array between 2 ranks.
//!
//! `mpiexec` runs one at a time (a lock), so that timings are not skewed by other jobs on
//! the machine's cores. `HYDRA_LAUNCHER=fork` is always set (no ssh).
#![cfg(feature = "mpi")]

use std::any::type_name;
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fmt::Debug;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use anam::{
    AnamCollection, AnamObject, Element, MpiHandler, NdArray, Object, Store, TypedArray, Value,
};
use ndarray::{s, Array1, Array2, Array3, ArrayD, Axis, Ix1, Ix2, IxDyn};
use num_complex::{Complex32, Complex64};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_bytes::ByteBuf;

#[path = "common/samples.rs"]
mod samples;
use samples::*;

// ---------------------------------------------------------------------------------------
// Running mpiexec
// ---------------------------------------------------------------------------------------

/// The environment variable that makes a child test do its work.
const CHILD_ENV: &str = "ANAM_MPI_CHILD";

/// One `mpiexec` at a time.
static MPIEXEC: Mutex<()> = Mutex::new(());

/// What an `mpiexec` run printed, and how long it took.
struct Run {
    what: String,
    status: ExitStatus,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

impl Run {
    fn report(&self) -> String {
        format!(
            "{}: {} after {:.2?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what, self.status, self.elapsed, self.stdout, self.stderr
        )
    }
}

fn read_all(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs `mpiexec -n <n> <args>`; past `limit` it stops the job and fails the test.
fn mpiexec(n: usize, args: &[OsString], env: &[(&str, &str)], limit: Duration) -> Run {
    let _one_at_a_time = MPIEXEC.lock().unwrap_or_else(PoisonError::into_inner);
    let what = format!(
        "mpiexec -n {n} {}",
        args.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut cmd = Command::new("mpiexec");
    cmd.env("HYDRA_LAUNCHER", "fork")
        .arg("-n")
        .arg(n.to_string())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{what}` (is MPICH installed?): {e}"));
    let stdout = read_all(child.stdout.take().expect("piped"));
    let stderr = read_all(child.stderr.take().expect("piped"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for mpiexec") {
            break status;
        }
        if start.elapsed() > limit {
            // SIGTERM: hydra stops every rank (the ranks run in sessions of their own, so
            // killing mpiexec alone would leave them running). Then SIGKILL.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let asked = Instant::now();
            while child.try_wait().ok().flatten().is_none()
                && asked.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let status = child.wait().expect("waiting for mpiexec");
            let run = Run {
                what,
                status,
                stdout: stdout.join().unwrap_or_default(),
                stderr: stderr.join().unwrap_or_default(),
                elapsed: start.elapsed(),
            };
            panic!("timed out after {limit:?}, stopped: {}", run.report());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    Run {
        what,
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
        elapsed,
    }
}

/// Runs the child test `name` of this binary on `n` ranks.
fn run_child(name: &str, n: usize, limit: Duration) -> Run {
    let exe = std::env::current_exe().expect("the test binary");
    // `-prepend-rank`: the ranks' lines may interleave; the prefix tells them apart.
    let args: Vec<OsString> = [
        "-prepend-rank".into(),
        exe.into_os_string(),
        "--ignored".into(),
        "--exact".into(),
        name.into(),
        "--nocapture".into(),
        "--test-threads=1".into(),
    ]
    .into();
    mpiexec(n, &args, &[(CHILD_ENV, "1")], limit)
}

/// Runs a child that must succeed on every rank, with no noise on stderr.
fn child_passes(name: &str, n: usize) {
    let run = run_child(name, n, Duration::from_secs(300));
    assert!(run.status.success(), "child failed: {}", run.report());
    assert_eq!(
        ranks_passed(&run),
        n,
        "the child test should pass once per rank: {}",
        run.report()
    );
    assert_no_stderr(&run);
    println!("{name} on {n} ranks: {:.2?}", run.elapsed);
}

/// Each rank's output, reassembled: with `-prepend-rank`, hydra prefixes every chunk it
/// forwards with `[r] `, and chunks of different ranks (even parts of one line) interleave.
fn per_rank(stdout: &str) -> std::collections::BTreeMap<usize, String> {
    let mut streams = std::collections::BTreeMap::<usize, String>::new();
    let mut rank = None;
    let mut rest = stdout;
    loop {
        // The next `[digits] ` marker: (its start, its rank, where the text after it starts).
        let marker = rest.match_indices('[').find_map(|(i, _)| {
            let tail = &rest[i + 1..];
            let end = tail.find("] ")?;
            let r = tail[..end].parse::<usize>().ok()?;
            Some((i, r, i + 1 + end + 2))
        });
        let text = marker.map_or(rest, |(i, _, _)| &rest[..i]);
        if let Some(r) = rank {
            streams.entry(r).or_default().push_str(text);
        }
        match marker {
            Some((_, r, after)) => {
                rank = Some(r);
                rest = &rest[after..];
            }
            None => return streams,
        }
    }
}

/// The number of ranks whose child test passed.
fn ranks_passed(run: &Run) -> usize {
    per_rank(&run.stdout)
        .values()
        .filter(|s| s.contains("test result: ok. 1 passed"))
        .count()
}

fn assert_no_stderr(run: &Run) {
    assert!(
        run.stderr.trim().is_empty(),
        "nothing should be printed on stderr (e.g. \"Attempting to use an MPI routine\"): {}",
        run.report()
    );
}

/// Whether this process is a child started by a parent test.
fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

// ---------------------------------------------------------------------------------------
// The tutorial examples
// ---------------------------------------------------------------------------------------

/// An example binary of this build: from `target/<profile>/deps/mpi-HASH` to
/// `target/<profile>/examples/<name>`.
fn example_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("the test binary is in target/<profile>/deps");
    let path = profile_dir.join("examples").join(name);
    assert!(
        path.is_file(),
        "{} not found: build the examples first (`cargo build --features mpi --examples`, \
         or run the tests with `cargo test --all-targets --features mpi`)",
        path.display()
    );
    path
}

/// Lines grouped by their `[rank] ` prefix, in order.
fn lines_by_rank(text: &str, what: &str) -> BTreeMap<usize, Vec<String>> {
    let mut by_rank: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for line in text.lines() {
        let parsed = line.strip_prefix('[').and_then(|l| {
            let (rank, rest) = l.split_once(']')?;
            Some((rank.parse::<usize>().ok()?, rest))
        });
        let (rank, rest) =
            parsed.unwrap_or_else(|| panic!("{what}: a line without a rank prefix: {line:?}"));
        let rest = rest.strip_prefix(' ').unwrap_or(rest);
        by_rank.entry(rank).or_default().push(rest.to_string());
    }
    by_rank
}

fn expected_output(name: &str) -> &'static str {
    match name {
        "mpi_tutorial1" => include_str!("mpi_expected/mpi_tutorial1.txt"),
        "mpi_tutorial2" => include_str!("mpi_expected/mpi_tutorial2.txt"),
        "mpi_tutorial3a" => include_str!("mpi_expected/mpi_tutorial3a.txt"),
        "mpi_tutorial3b" => include_str!("mpi_expected/mpi_tutorial3b.txt"),
        _ => panic!("no expected output for {name}"),
    }
}

fn check_tutorial(name: &str) {
    let bin = example_binary(name);
    let run = mpiexec(
        3,
        &["-prepend-rank".into(), bin.into_os_string()],
        &[],
        Duration::from_secs(120),
    );
    assert!(run.status.success(), "{}", run.report());
    assert_no_stderr(&run);
    let expected = lines_by_rank(expected_output(name), "expected");
    let got = lines_by_rank(&run.stdout, name);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        vec![&0, &1, &2],
        "{}",
        run.report()
    );
    for (rank, want) in &expected {
        assert_eq!(
            &got[rank],
            want,
            "{name}: the lines of rank {rank}\n{}",
            run.report()
        );
    }
    println!("{name} on 3 ranks: {:.2?}", run.elapsed);
}

#[test]
fn tutorial1_broadcasts_objects() {
    check_tutorial("mpi_tutorial1");
}

#[test]
fn tutorial2_bcast_from_any_rank_send_and_recv() {
    check_tutorial("mpi_tutorial2");
}

#[test]
fn tutorial3a_scatter_array_and_gather() {
    check_tutorial("mpi_tutorial3a");
}

#[test]
fn tutorial3b_scatter_list_and_gather_list() {
    check_tutorial("mpi_tutorial3b");
}

// ---------------------------------------------------------------------------------------
// Types and values for the round trips
// ---------------------------------------------------------------------------------------

/// `{:?}` cut short, for assertion messages about large values.
fn short(v: &impl Debug) -> String {
    let s = format!("{v:?}");
    if s.len() > 300 {
        let mut end = 300;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}... ({} chars)", &s[..end], s.len())
    } else {
        s
    }
}

/// The value on the root, `None` elsewhere.
fn on_root<T: Clone>(m: &MpiHandler, root: usize, value: &T) -> Option<T> {
    (m.rank() == root).then(|| value.clone())
}

/// Broadcasts `value` (built identically on every rank) from `root` and checks that every
/// rank gets it.
fn bc<T>(m: &MpiHandler, root: usize, value: &T) -> T
where
    T: Serialize + DeserializeOwned + PartialEq + Debug + Clone,
{
    let got: T = m.bcast(on_root(m, root, value), root).unwrap_or_else(|e| {
        panic!(
            "bcast from {root} of {}: {e}: {}",
            type_name::<T>(),
            short(value)
        )
    });
    assert!(
        got == *value,
        "rank {}: bcast from {root} of {}: got {}, expected {}",
        m.rank(),
        type_name::<T>(),
        short(&got),
        short(value)
    );
    got
}

/// Arrays between other fields, small and large (out of band) mixed.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "mpitest.Mixed")]
struct Mixed {
    before: u8,
    #[serde(with = "anam::array")]
    big_a: ArrayD<f64>,
    #[serde(with = "anam::array")]
    small: ArrayD<i16>,
    #[serde(with = "anam::array::option")]
    big_b: Option<ArrayD<Complex32>>,
    many: Vec<NdArray<u8>>,
    after: String,
}

fn mixed(seed: usize) -> Mixed {
    Mixed {
        before: seed as u8,
        big_a: big_array::<f64>(seed),
        small: sample_array(&[3, 2]),
        big_b: Some(big_array::<Complex32>(seed + 1)),
        many: vec![
            NdArray(sample_array(&[4])),
            NdArray(big_array::<u8>(seed + 2)),
            NdArray(sample_array(&[0, 2])),
        ],
        after: format!("after {seed}"),
    }
}

// ---------------------------------------------------------------------------------------
// (a) Broadcasts
// ---------------------------------------------------------------------------------------

fn bcast_arrays_of<T: Sample>(m: &MpiHandler, root: usize) {
    for &shape in SHAPES {
        let a = sample_array::<T>(shape);
        let got = bc(m, root, &NdArray(a));
        assert_eq!(got.shape(), shape);
    }
    bc(
        m,
        root,
        &NdArray::<T, Ix1>(Array1::from_shape_fn(5, T::sample)),
    );
    bc(
        m,
        root,
        &NdArray::<T, Ix2>(Array2::from_shape_fn((2, 3), |(i, j)| T::sample(3 * i + j))),
    );
    // Out of band: larger than 1 MiB, in standard and in transposed (Fortran) layout.
    let big = big_array::<T>(root);
    bc(m, root, &NdArray(big.clone()));
    let transposed = big.t().to_owned();
    assert!(!transposed.is_standard_layout());
    let got = bc(m, root, &NdArray(transposed.clone()));
    assert_eq!(got.0, transposed);
}

fn bcast_everything(m: &MpiHandler, root: usize) {
    let rank = m.rank();
    // Scalars.
    bc(m, root, &true);
    bc(m, root, &i8::MIN);
    bc(m, root, &i16::MAX);
    bc(m, root, &i32::MIN);
    bc(m, root, &i64::MAX);
    bc(m, root, &i128::MIN);
    bc(m, root, &u8::MAX);
    bc(m, root, &u16::MAX);
    bc(m, root, &u32::MAX);
    bc(m, root, &u64::MAX);
    bc(m, root, &u128::MAX);
    bc(m, root, &f32::MIN_POSITIVE);
    bc(m, root, &-1.5e300f64);
    bc(m, root, &'😀');
    for bits in [0x7ff8_0000_0000_0001u64, (-0.0f64).to_bits()] {
        let got: f64 = m
            .bcast(on_root(m, root, &f64::from_bits(bits)), root)
            .unwrap();
        assert_eq!(got.to_bits(), bits);
    }
    // Strings and bytes, short, longer than the first block, and larger than 1 MiB.
    for s in [
        String::new(),
        "Zürich € 😀".to_string(),
        "x".repeat(300),
        "é".repeat(600_000),
    ] {
        bc(m, root, &s);
    }
    bc(m, root, &ByteBuf::from((0..=255).collect::<Vec<u8>>()));
    bc(m, root, &ByteBuf::from(vec![7u8; 3 << 20]));
    // Options, units, structs, tuples, sequences, maps, enums.
    bc(m, root, &());
    bc(m, root, &Some(5i32));
    bc(m, root, &None::<String>);
    bc(m, root, &Some(Some("x".to_string())));
    bc(m, root, &UnitStruct);
    bc(m, root, &Meters(-2.5));
    bc(m, root, &Rgb(0, 128, 255));
    bc(m, root, &(1u8, "a".to_string(), 2.5f64));
    bc(m, root, &Vec::<i32>::new());
    bc(m, root, &vec![vec![1u8], vec![], vec![2, 3]]);
    bc(
        m,
        root,
        &(0..100_000).map(|i| i * 7919).collect::<Vec<i64>>(),
    );
    bc(
        m,
        root,
        &BTreeMap::from([("a".to_string(), 1i64), ("b".to_string(), -2)]),
    );
    bc(m, root, &HashMap::from([(1u32, vec!["x".to_string()])]));
    for shape in all_types().shapes {
        bc(m, root, &shape);
    }
    let _: Result<Shape, String> = bc(m, root, &Ok(Shape::Point));
    bc(m, root, &all_types());
    bc(m, root, &vec![all_types(); 3]);

    // Arrays of every dtype.
    bcast_arrays_of::<bool>(m, root);
    bcast_arrays_of::<i8>(m, root);
    bcast_arrays_of::<i16>(m, root);
    bcast_arrays_of::<i32>(m, root);
    bcast_arrays_of::<i64>(m, root);
    bcast_arrays_of::<u8>(m, root);
    bcast_arrays_of::<u16>(m, root);
    bcast_arrays_of::<u32>(m, root);
    bcast_arrays_of::<u64>(m, root);
    bcast_arrays_of::<f32>(m, root);
    bcast_arrays_of::<f64>(m, root);
    bcast_arrays_of::<Complex32>(m, root);
    bcast_arrays_of::<Complex64>(m, root);
    bc(m, root, &mixed(root));
    bc(m, root, &vec![mixed(1), mixed(2)]);

    // Dynamic values, stores, collections.
    let mut child = Object::new("mpitest.Child");
    child.insert("v", Value::I64(7));
    let mut object = Object::new("mpitest.Thing");
    object.insert("name", Value::from("thing"));
    object.insert("child", Value::Object(child));
    object.insert("grid", Value::from(sample_array::<f64>(&[2, 2])));
    object.insert("big", Value::from(big_array::<i32>(3)));
    let values = Value::List(vec![
        Value::None,
        Value::Unit,
        Value::Bool(true),
        Value::I8(i8::MIN),
        Value::I16(i16::MAX),
        Value::I32(i32::MIN),
        Value::I64(i64::MAX),
        Value::U8(u8::MAX),
        Value::U16(u16::MAX),
        Value::U32(u32::MAX),
        Value::U64(u64::MAX),
        Value::F32(f32::INFINITY),
        Value::F64(-0.5),
        Value::C64(Complex32::new(1.5, -2.0)),
        Value::C128(Complex64::new(f64::MAX, f64::MIN_POSITIVE)),
        Value::from("Zürich"),
        Value::Array(TypedArray::Bool(sample_array(&[2, 3]))),
        Value::Array(TypedArray::C64(sample_array(&[0, 2]))),
        Value::Array(TypedArray::U64(big_array(5))),
        Value::List(vec![]),
        Value::Dict(vec![
            (Value::from("key"), Value::I32(1)),
            (Value::I64(2), Value::List(vec![Value::U8(1)])),
        ]),
        Value::Object(object),
    ]);
    bc(m, root, &values);

    let mut store = Store::new();
    store.insert("airport_from", "Manchester");
    store.insert("gate", 12i64);
    store.insert("delay", 2.5f64);
    for (i, a) in [
        TypedArray::F32(sample_array(&[2, 3])),
        TypedArray::I8(sample_array(&[4])),
        TypedArray::Bool(sample_array(&[3, 0])),
        TypedArray::C128(sample_array(&[2, 1, 2])),
        TypedArray::F64(big_array(7)),
        TypedArray::Bool(big_array(8)),
    ]
    .into_iter()
    .enumerate()
    {
        store.insert(format!("array{i}"), a);
    }
    bc(m, root, &store);
    let got = m
        .bcast_obj(on_root(m, root, &store).map(|s| Box::new(s) as _), root)
        .unwrap();
    assert_eq!(got.class_tag(), "anamnesis.store.Store");
    assert_eq!(*got.downcast::<Store>().unwrap(), store);

    let c: StatsCollection = (0..4).map(stats).collect();
    let mut got = bc(m, root, &c);
    got.update_cache().unwrap();
    assert_eq!(got.combined("zstats").unwrap().shape(), &[2, 2, 4]);
    assert_eq!(got.combined("rt").unwrap().shape(), &[4]);
    bc(m, root, &StatsCollection::new());
    let plain: AnamCollection<Stats> = (0..2).map(stats).collect();
    bc(m, root, &plain);
    let got = m
        .bcast_obj(on_root(m, root, &c).map(|c| Box::new(c) as _), root)
        .unwrap();
    assert_eq!(got.class_tag(), "samples.StatsCollection");
    assert_eq!(*got.downcast::<StatsCollection>().unwrap(), c);

    // A class: bcast_only members arrive; the init hook runs once on each receiver, never
    // on the root (which gets its own object back).
    let loads = u32::from(rank != root);
    let before = hook_runs();
    let p: Probe = m
        .bcast(on_root(m, root, &Probe::new("fred")), root)
        .unwrap();
    assert_eq!(hook_runs() - before, loads as usize, "rank {rank}");
    p.check("fred", loads);

    let before = hook_runs();
    let l: Lab = m.bcast(on_root(m, root, &lab()), root).unwrap();
    assert_eq!(hook_runs() - before, 5 * loads as usize, "rank {rank}");
    for (probe, name) in [
        (&l.lead, "lead"),
        (&l.team[0], "a"),
        (&l.team[1], "b"),
        (&l.by_name["c"], "c"),
        (l.spare.as_ref().unwrap(), "spare"),
    ] {
        probe.check(name, loads);
    }

    // bcast_obj: the receivers learn the class from the message.
    let before = hook_runs();
    let obj: Box<dyn AnamObject> = m
        .bcast_obj(
            on_root(m, root, &Probe::new("obj")).map(|p| Box::new(p) as _),
            root,
        )
        .unwrap();
    assert_eq!(hook_runs() - before, loads as usize, "rank {rank}");
    assert_eq!(obj.class_tag(), "samples.Probe");
    assert!(obj.is::<Probe>() && obj.downcast_ref::<Lab>().is_none());
    obj.downcast::<Probe>().unwrap().check("obj", loads);
    let obj = m
        .bcast_obj(on_root(m, root, &lab()).map(|l| Box::new(l) as _), root)
        .unwrap();
    let e = obj.downcast::<Probe>().unwrap_err().to_string();
    assert!(
        e.contains("samples.Lab") && e.contains("samples.Probe"),
        "{e}"
    );

    // Errors found before any communication leave the job in step: a root without a value
    // (then a proper broadcast), a root that does not exist.
    if rank == root {
        let e = m.bcast::<i64>(None, root).unwrap_err().to_string();
        assert!(
            e.contains("no value") && e.contains(&format!("rank {root}")),
            "{e}"
        );
        assert!(m.bcast_obj(None, root).is_err());
    }
    bc(m, root, &17i64);
    let e = m.bcast(Some(1u8), 3).unwrap_err().to_string();
    assert!(e.contains("rank 3") && e.contains("size 3"), "{e}");
}

#[test]
#[ignore = "MPI child: run by bcast_round_trips_from_roots_0_and_2"]
fn child_bcast() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        assert!(m.is_mpi());
        assert_eq!(m.size(), 3);
        assert_eq!(m.is_master(), m.rank() == 0);
        bcast_everything(m, 0);
        bcast_everything(m, 2);
        Ok(())
    })
    .unwrap();
}

#[test]
fn bcast_round_trips_from_roots_0_and_2() {
    child_passes("child_bcast", 3);
}

// ---------------------------------------------------------------------------------------
// (a) Point to point
// ---------------------------------------------------------------------------------------

/// What `source` sends `dest`.
fn payload(source: usize, dest: usize) -> (usize, usize, String, AllTypes) {
    (
        source,
        dest,
        format!("from {source} to {dest}"),
        all_types(),
    )
}

fn child_p2p_body(m: &MpiHandler) {
    let rank = m.rank();
    let pairs: Vec<(usize, usize)> = (0..3)
        .flat_map(|s| (0..3).map(move |d| (s, d)))
        .filter(|(s, d)| s != d)
        .collect();
    // Every rank goes through the pairs in the same order, so no send waits for ever.
    for (k, &(s, d)) in pairs.iter().enumerate() {
        let tag = 10 * k as i32;
        let seed = 3 * s + d;
        if rank == s {
            m.send(&payload(s, d), d, tag).unwrap();
            m.send(&NdArray(big_array::<f64>(seed)), d, tag + 1)
                .unwrap();
            m.send(&mixed(seed), d, tag + 2).unwrap();
            m.send(&Probe::new(&format!("p{seed}")), d, tag + 3)
                .unwrap();
            m.send(&Probe::new(&format!("q{seed}")), d, tag + 4)
                .unwrap();
            // Two messages with the same tag arrive in order.
            m.send(&1u8, d, tag + 5).unwrap();
            m.send(&2u8, d, tag + 5).unwrap();
            m.send("slice", d, tag + 6).unwrap();
        } else if rank == d {
            let got: (usize, usize, String, AllTypes) = m.recv(s, tag).unwrap();
            assert_eq!(got, payload(s, d));
            let a: NdArray<f64> = m.recv(s, tag + 1).unwrap();
            assert!(a.0 == big_array::<f64>(seed), "big array from {s}");
            let x: Mixed = m.recv(s, tag + 2).unwrap();
            assert!(x == mixed(seed), "mixed from {s}");
            let before = hook_runs();
            let p: Probe = m.recv(s, tag + 3).unwrap();
            assert_eq!(hook_runs() - before, 1);
            p.check(&format!("p{seed}"), 1);
            let obj = m.recv_obj(s, tag + 4).unwrap();
            assert_eq!(hook_runs() - before, 2);
            obj.downcast::<Probe>()
                .unwrap()
                .check(&format!("q{seed}"), 1);
            assert_eq!(m.recv::<u8>(s, tag + 5).unwrap(), 1);
            assert_eq!(m.recv::<u8>(s, tag + 5).unwrap(), 2);
            assert_eq!(m.recv::<String>(s, tag + 6).unwrap(), "slice");
        }
    }

    // A receive with another tag than the next message's: an error naming both tags;
    // the message is still there for the right receive.
    match rank {
        1 => {
            m.send("three", 0, 3).unwrap();
            m.send(&NdArray(big_array::<i64>(9)), 0, 8).unwrap();
            m.send("a string", 0, 4).unwrap();
        }
        0 => {
            let e = m.recv::<String>(1, 5).unwrap_err().to_string();
            assert!(e.contains("tag 5") && e.contains("tag 3"), "{e}");
            assert!(e.contains("rank 1"), "{e}");
            assert_eq!(m.recv::<String>(1, 3).unwrap(), "three");
            let e = m.recv_obj(1, 9).unwrap_err().to_string();
            assert!(e.contains("tag 9") && e.contains("tag 8"), "{e}");
            let a: NdArray<i64> = m.recv(1, 8).unwrap();
            assert!(a.0 == big_array::<i64>(9));
            // A message of another type: an error naming both types' tags.
            let e = m.recv::<i64>(1, 4).unwrap_err().to_string();
            assert!(e.contains("str") && e.contains("i64"), "{e}");
        }
        _ => {}
    }
    // Ranks that do not exist.
    let e = m.send(&1u8, 3, 0).unwrap_err().to_string();
    assert!(e.contains("rank 3") && e.contains("size 3"), "{e}");
    let e = m.recv::<u8>(7, 0).unwrap_err().to_string();
    assert!(e.contains("rank 7"), "{e}");
    assert!(m.recv_obj(3, 0).is_err());
}

#[test]
#[ignore = "MPI child: run by send_and_recv_between_every_pair"]
fn child_p2p() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        assert_eq!(m.size(), 3);
        child_p2p_body(m);
        Ok(())
    })
    .unwrap();
}

#[test]
fn send_and_recv_between_every_pair() {
    child_passes("child_p2p", 3);
}

/// A receive of the wrong type consumes the whole message, its out-of-band arrays
/// included: the next message with the same tag arrives intact.
#[test]
#[ignore = "MPI child: run by a_recv_of_the_wrong_type_consumes_the_whole_message"]
fn child_p2p_wrong_type_big() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        if m.rank() == 1 {
            m.send(&NdArray(big_array::<f64>(1)), 0, 6)?;
            m.send("next", 0, 6)?;
        } else {
            let e = m.recv::<String>(1, 6).unwrap_err().to_string();
            assert!(e.contains("array") && e.contains("str"), "{e}");
            assert_eq!(m.recv::<String>(1, 6)?, "next");
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_recv_of_the_wrong_type_consumes_the_whole_message() {
    child_passes("child_p2p_wrong_type_big", 2);
}

// ---------------------------------------------------------------------------------------
// (b) Scatter and gather
// ---------------------------------------------------------------------------------------

/// Scatters the root's `a` (every rank passes the same array, only the root's is used),
/// checks each rank's rows, gathers them on the root and on every rank.
fn scatter_gather<T: Element + PartialEq + Debug + Clone>(
    m: &MpiHandler,
    root: usize,
    a: &ArrayD<T>,
) {
    let rank = m.rank();
    let mine = m
        .scatter_array(on_root(m, root, a).as_ref(), root)
        .unwrap_or_else(|e| panic!("scatter_array of {:?}: {e}", a.shape()));
    let (start, end) = m.get_scatter_indices(a.shape()[0])[rank];
    let want = a.slice_axis(Axis(0), (start..end).into()).to_owned();
    assert_eq!(mine.shape(), want.shape(), "rank {rank}");
    assert!(mine == want, "rank {rank}: rows {start}..{end}");
    let gathered = m.gather(&mine, root).unwrap();
    if rank == root {
        assert!(gathered.as_ref() == Some(a), "gather on the root");
    } else {
        assert!(gathered.is_none(), "gather elsewhere than the root");
    }
    let all = m.allgather(&mine).unwrap();
    assert!(all == *a, "allgather of {:?}", a.shape());
}

fn scatter_gather_of<T: Sample>(m: &MpiHandler) {
    for rows in [0, 1, 2, 3, 4, 7] {
        scatter_gather(m, 0, &sample_array::<T>(&[rows, 3]));
    }
    scatter_gather(m, 1, &sample_array::<T>(&[5]));
    scatter_gather(m, 2, &big_array::<T>(1));
}

fn child_scatter_body(m: &MpiHandler) {
    let rank = m.rank();
    let a = Array3::from_shape_fn((100, 15, 23), |(i, j, k)| (i * 10_000 + j * 100 + k) as f64)
        .into_dyn();
    assert_eq!(
        m.get_scatter_indices(100),
        vec![(0, 34), (34, 67), (67, 100)]
    );
    for root in [0, 2] {
        let mine = m
            .scatter_array(on_root(m, root, &a).as_ref(), root)
            .unwrap();
        let shape = [[34, 15, 23], [33, 15, 23], [33, 15, 23]][rank];
        assert_eq!(mine.shape(), shape);
        let first = [0, 34, 67][rank];
        assert_eq!(
            mine,
            a.slice(s![first..first + shape[0], .., ..]).into_dyn()
        );
        assert_eq!(mine[[0, 1, 2]], (first * 10_000 + 102) as f64);
        let g = m.gather(&mine, root).unwrap();
        if rank == root {
            assert_eq!(g.as_ref(), Some(&a));
        } else {
            assert_eq!(g, None);
        }
        assert_eq!(m.allgather(&mine).unwrap(), a);
    }
    // Uneven splits: 4 rows (2, 1, 1), 2 rows (1, 1, 0), no rows at all.
    for rows in [4, 2, 1, 0] {
        let a = Array2::from_shape_fn((rows, 5), |(i, j)| (i * 5 + j) as i32).into_dyn();
        scatter_gather(m, 0, &a);
        scatter_gather(m, 1, &a);
    }
    let sizes: Vec<usize> = m
        .get_scatter_indices(2)
        .into_iter()
        .map(|(a, b)| b - a)
        .collect();
    assert_eq!(sizes, [1, 1, 0]);
    // A 1-d array, and a transposed (non-standard layout) one.
    scatter_gather(m, 0, &Array1::from_shape_fn(10, |i| i as u16).into_dyn());
    let t = Array2::from_shape_fn((6, 4), |(i, j)| (i * 4 + j) as i64)
        .t()
        .to_owned()
        .into_dyn();
    assert!(!t.is_standard_layout());
    scatter_gather(m, 2, &t);
    // Every dtype; bool and complex arrays among them.
    scatter_gather_of::<bool>(m);
    scatter_gather_of::<i8>(m);
    scatter_gather_of::<i16>(m);
    scatter_gather_of::<i32>(m);
    scatter_gather_of::<i64>(m);
    scatter_gather_of::<u8>(m);
    scatter_gather_of::<u16>(m);
    scatter_gather_of::<u32>(m);
    scatter_gather_of::<u64>(m);
    scatter_gather_of::<f32>(m);
    scatter_gather_of::<f64>(m);
    scatter_gather_of::<Complex32>(m);
    scatter_gather_of::<Complex64>(m);
    // Large parts (out of the 1 MiB threshold's range) in scatter and gather.
    scatter_gather(
        m,
        1,
        &Array2::from_shape_fn((3000, 100), |(i, j)| (i * 100 + j) as f64).into_dyn(),
    );

    // Each rank its own number of rows: gathered in rank order.
    let mine = Array2::from_shape_fn((rank + 1, 3), |(i, j)| {
        Complex64::new(rank as f64, (i * 3 + j) as f64)
    })
    .into_dyn();
    let want = ndarray::concatenate(
        Axis(0),
        &(0..3)
            .map(|r| {
                Array2::from_shape_fn((r + 1, 3), |(i, j)| {
                    Complex64::new(r as f64, (i * 3 + j) as f64)
                })
                .into_dyn()
            })
            .collect::<Vec<_>>()
            .iter()
            .map(|a| a.view())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert_eq!(
        m.gather(&mine, 1).unwrap(),
        (rank == 1).then(|| want.clone())
    );
    assert_eq!(m.allgather(&mine).unwrap(), want);
    // Different trailing shapes: an error on every rank (they all see every header).
    let odd = ArrayD::<f32>::zeros(IxDyn(&[2, if rank == 1 { 4 } else { 3 }]));
    let e = m.gather(&odd, 0).unwrap_err().to_string();
    assert!(e.contains("trailing shape"), "rank {rank}: {e}");
    let e = m.allgather(&odd).unwrap_err().to_string();
    assert!(e.contains("trailing shape"), "rank {rank}: {e}");

    // Lists: 10 items over 3 ranks (4, 3, 3), whole lists only where asked for.
    let items: Vec<String> = (0..10).map(|x| x.to_string()).collect();
    let mine = m.scatter_list(on_root(m, 0, &items).as_deref(), 0).unwrap();
    let (a, b) = [(0, 4), (4, 7), (7, 10)][rank];
    assert_eq!(mine, items[a..b]);
    let return_all = rank != 1;
    let all = m.gather_list(&mine, 10, return_all).unwrap();
    if return_all {
        assert_eq!(all, items);
    } else {
        assert!(all.is_empty());
    }
    // The wrong total: an error where the list is returned.
    let r = m.gather_list(&mine, 11, return_all);
    if return_all {
        let e = r.unwrap_err().to_string();
        assert!(e.contains("11") && e.contains("10"), "{e}");
    } else {
        assert_eq!(r.unwrap(), Vec::<String>::new());
    }
    // Objects from root 2: each rank decodes its part (hooks run once per object).
    let probes: Vec<Probe> = (0..5).map(|i| Probe::new(&format!("p{i}"))).collect();
    let before = hook_runs();
    let mine = m
        .scatter_list(on_root(m, 2, &probes).as_deref(), 2)
        .unwrap();
    let (a, b) = [(0, 2), (2, 4), (4, 5)][rank];
    assert_eq!(mine.len(), b - a);
    assert_eq!(hook_runs() - before, b - a);
    for (p, i) in mine.iter().zip(a..b) {
        p.check(&format!("p{i}"), 1);
    }
    let all = m.gather_list(&mine, 5, rank == 0).unwrap();
    if rank == 0 {
        assert_eq!(all.len(), 5);
        for (i, p) in all.iter().enumerate() {
            p.check(&format!("p{i}"), 1);
        }
    } else {
        assert!(all.is_empty());
    }
    // Fewer items than ranks, and none.
    let two = vec![(1u8, 'a'), (2, 'b')];
    let mine = m.scatter_list(on_root(m, 1, &two).as_deref(), 1).unwrap();
    assert_eq!(mine.len(), [1, 1, 0][rank]);
    assert_eq!(m.gather_list(&mine, 2, true).unwrap(), two);
    let none: Vec<Value> = Vec::new();
    let mine = m.scatter_list(on_root(m, 0, &none).as_deref(), 0).unwrap();
    assert!(mine.is_empty());
    assert!(m.gather_list(&mine, 0, true).unwrap().is_empty());
    // A list with arrays larger than 1 MiB.
    let arrays: Vec<NdArray<f64>> = (0..4).map(|i| NdArray(big_array(i))).collect();
    let mine = m
        .scatter_list(on_root(m, 0, &arrays).as_deref(), 0)
        .unwrap();
    assert_eq!(mine.len(), [2, 1, 1][rank]);
    assert!(m.gather_list(&mine, 4, true).unwrap() == arrays);
    // Roots that do not exist.
    assert!(m.scatter_array::<f64>(None, 3).is_err());
    assert!(m.gather(&mine[0].0, 3).is_err());
    assert!(m.scatter_list::<u8>(None, 3).is_err());
}

#[test]
#[ignore = "MPI child: run by scatter_and_gather_arrays_and_lists"]
fn child_scatter() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        assert_eq!(m.size(), 3);
        child_scatter_body(m);
        Ok(())
    })
    .unwrap();
}

#[test]
fn scatter_and_gather_arrays_and_lists() {
    child_passes("child_scatter", 3);
}

/// `gather_list` where each rank passes its own `return_all`: the ranks that ask get every
/// rank's items in rank order, each decoded once there (one init hook run per item); the
/// others get an empty list and decode nothing (no hook runs: the items are not sent to
/// them, as in Python, where only those ranks unpickle them).
fn child_gather_list_body(m: &MpiHandler) {
    let rank = m.rank();
    // Rank r holds r + 1 probes, named after their rank: 6 in all.
    let names = |r: usize| (0..=r).map(move |i| format!("r{r}-{i}"));
    let mine: Vec<Probe> = names(rank).map(|n| Probe::new(&n)).collect();
    let all: Vec<String> = (0..3).flat_map(names).collect();
    let cases = [
        [true, false, true],
        [false, true, false],
        [false, false, true],
        [false, false, false],
        [true, true, true],
        [true, true, false],
    ];
    for wants in cases {
        let return_all = wants[rank];
        let before = hook_runs();
        let got = m.gather_list(&mine, 6, return_all).unwrap();
        let runs = hook_runs() - before;
        if return_all {
            assert_eq!(got.len(), 6, "rank {rank}, {wants:?}");
            for (p, name) in got.iter().zip(&all) {
                p.check(name, 1);
            }
            assert_eq!(runs, 6, "rank {rank}, {wants:?}: one hook run per item");
        } else {
            assert!(got.is_empty(), "rank {rank}, {wants:?}: {got:?}");
            assert_eq!(
                runs, 0,
                "rank {rank}, {wants:?}: a rank not asking decodes nothing"
            );
        }
        // The wrong total: an error only where the list is returned.
        let r = m.gather_list(&mine, 7, return_all);
        if return_all {
            let e = r.unwrap_err().to_string();
            assert!(e.contains('7') && e.contains('6'), "{e}");
        } else {
            assert!(r.unwrap().is_empty());
        }
    }
    // Arrays larger than 1 MiB, to two of the three ranks.
    let arrays: Vec<NdArray<f64>> = (0..4).map(|i| NdArray(big_array(i))).collect();
    let (a, b) = [(0, 2), (2, 3), (3, 4)][rank];
    let got = m.gather_list(&arrays[a..b], 4, rank != 0).unwrap();
    if rank == 0 {
        assert!(got.is_empty());
    } else {
        assert!(got == arrays, "rank {rank}");
    }
}

#[test]
#[ignore = "MPI child: run by gather_list_returns_the_list_only_where_asked"]
fn child_gather_list() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        assert_eq!(m.size(), 3);
        child_gather_list_body(m);
        Ok(())
    })
    .unwrap();
}

#[test]
fn gather_list_returns_the_list_only_where_asked() {
    child_passes("child_gather_list", 3);
}

// ---------------------------------------------------------------------------------------
// Failures abort the whole job
// ---------------------------------------------------------------------------------------

/// Runs a child that fails on rank 1: the job must stop (non-zero) within 10 s, with
/// `rank 1:` and `message` on stderr.
fn job_aborts(child: &str, n: usize, message: &str) {
    let run = run_child(child, n, Duration::from_secs(60));
    println!("{child} on {n} ranks: aborted after {:.2?}", run.elapsed);
    assert!(
        !run.status.success(),
        "the job should fail: {}",
        run.report()
    );
    assert!(
        run.elapsed < Duration::from_secs(10),
        "the job should stop within 10 s: {}",
        run.report()
    );
    assert!(run.stderr.contains("rank 1:"), "{}", run.report());
    assert!(run.stderr.contains(message), "{}", run.report());
    assert!(
        !run.stdout.contains("after the failure"),
        "the other ranks should not get past the collective: {}",
        run.report()
    );
}

/// A broadcast everyone takes part in, then rank 1 fails while the others wait in an
/// allgather.
fn fail_on_rank_1(m: &MpiHandler, fail: impl FnOnce()) {
    let v: i32 = m.bcast(on_root(m, 0, &5), 0).unwrap();
    assert_eq!(v, 5);
    if m.rank() == 1 {
        fail();
    }
    m.allgather(&ArrayD::<f64>::zeros(IxDyn(&[1, 2]))).unwrap();
    println!("rank {}: after the failure", m.rank());
}

/// As [`fail_on_rank_1`], with the handler given up to `fail` on rank 1.
fn fail_on_rank_1_by(m: MpiHandler, fail: impl FnOnce(MpiHandler)) {
    let v: i32 = m.bcast(on_root(&m, 0, &5), 0).unwrap();
    assert_eq!(v, 5);
    if m.rank() == 1 {
        fail(m);
        return;
    }
    m.allgather(&ArrayD::<f64>::zeros(IxDyn(&[1, 2]))).unwrap();
    println!("rank {}: after the failure", m.rank());
    m.done();
}

#[test]
#[ignore = "MPI child: run by a_panic_on_one_rank_aborts_the_job"]
fn child_panic() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        fail_on_rank_1(m, || panic!("deliberate panic on rank 1"));
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_panic_on_one_rank_aborts_the_job() {
    job_aborts("child_panic", 3, "deliberate panic on rank 1");
}

#[test]
#[ignore = "MPI child: run by an_error_inside_run_aborts_the_job"]
fn child_error() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        let v: i32 = m.bcast(on_root(m, 0, &5), 0)?;
        assert_eq!(v, 5);
        if m.rank() == 1 {
            return Err(anam::Error::new(anam::ErrorKind::Invalid(
                "deliberate error on rank 1".into(),
            )));
        }
        m.allgather(&ArrayD::<f64>::zeros(IxDyn(&[1, 2])))?;
        println!("rank {}: after the failure", m.rank());
        Ok(())
    })
    .unwrap();
}

#[test]
fn an_error_inside_run_aborts_the_job() {
    job_aborts("child_error", 2, "deliberate error on rank 1");
}

#[test]
#[ignore = "MPI child: run by a_handler_dropped_without_done_aborts_the_job"]
fn child_drop() {
    if !is_child() {
        return;
    }
    let m = MpiHandler::new(true).unwrap();
    fail_on_rank_1_by(m, |m| {
        // Dropping the handler must abort the job; the sleep only makes a failure to
        // abort visible (as a timeout).
        std::mem::drop(m);
        std::thread::sleep(Duration::from_secs(120));
        panic!("the dropped handler did not abort the job");
    });
}

/// Rank 1 drops its handler (without `done()`) while the others wait in an allgather.
#[test]
fn a_handler_dropped_without_done_aborts_the_job() {
    job_aborts("child_drop", 2, "dropped");
}

// ---------------------------------------------------------------------------------------
// A 2.5 GiB broadcast (ignored: `make test-large`)
// ---------------------------------------------------------------------------------------

/// 2.5 GiB.
const HUGE: usize = 5 << 29;

/// The byte at position `i`: not periodic in any power of two.
fn pattern(i: usize) -> u8 {
    ((i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8
}

/// Positions to check: the ends, around every GiB (MPI's chunks are 1 GiB) and a few
/// thousand pseudo-random ones.
fn sample_positions(n: usize) -> Vec<usize> {
    let mut v = vec![0, 1, n - 2, n - 1];
    for g in 1..=(n >> 30) {
        let at = g << 30;
        v.extend([at - 1, at, at + 1].into_iter().filter(|&i| i < n));
    }
    let mut x: u64 = 0x2545_F491_4F6C_DD1D;
    for _ in 0..4000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.push((x % n as u64) as usize);
    }
    v
}

#[test]
#[ignore = "MPI child: run by large_bcast_of_2_5_gib"]
fn child_huge_bcast() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        let rank = m.rank();
        let value = (rank == 0).then(|| {
            let t = Instant::now();
            let mut v = vec![0u8; HUGE];
            for (i, b) in v.iter_mut().enumerate() {
                *b = pattern(i);
            }
            println!("rank 0: filled {HUGE} bytes in {:.2?}", t.elapsed());
            NdArray(Array1::from_vec(v))
        });
        // In step before timing (rank 0 took a while to fill the array).
        m.bcast(on_root(m, 0, &0u8), 0)?;
        let t = Instant::now();
        let got: NdArray<u8, Ix1> = m.bcast(value, 0)?;
        println!("rank {rank}: bcast of {HUGE} bytes in {:.2?}", t.elapsed());
        assert_eq!(got.len(), HUGE);
        if rank != 0 {
            for i in sample_positions(HUGE) {
                assert_eq!(got[i], pattern(i), "byte {i}");
            }
            println!("rank {rank}: sampled positions match");
        }
        Ok(())
    })
    .unwrap();
}

/// Needs about 6 GiB of memory: run with `make test-large`.
#[test]
#[ignore = "a 2.5 GiB broadcast: make test-large"]
fn large_bcast_of_2_5_gib() {
    let run = run_child("child_huge_bcast", 2, Duration::from_secs(1200));
    assert!(run.status.success(), "child failed: {}", run.report());
    assert_eq!(ranks_passed(&run), 2, "{}", run.report());
    assert!(
        run.stdout.contains("rank 1: sampled positions match"),
        "{}",
        run.report()
    );
    assert_no_stderr(&run);
    for line in run.stdout.lines().filter(|l| l.contains(" bytes in ")) {
        println!("{}", &line[line.find("rank ").unwrap_or(0)..]);
    }
    println!("2.5 GiB broadcast job on 2 ranks: {:.2?}", run.elapsed);
}
