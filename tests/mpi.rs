//! `MpiHandler` over MPI (the `mpi` feature): every test starts `mpiexec` itself.
//!
//! - The four MPI tutorial examples run under `mpiexec -n 3 -prepend-rank`; each rank's
//!   lines are checked, in order, against what the Python scripts of the anamnesis
//!   tutorials print (`tests/mpi_expected/*.txt`). The examples must be built:
//!   `cargo test --all-targets --features mpi` builds them, or
//!   `cargo build --features mpi --examples`.
//! - Round trips: a parent test runs this test binary under `mpiexec`, restricted to one
//!   `#[ignore]`d child test (`--ignored --exact child_...`, with `ANAM_MPI_CHILD=1`) that
//!   does the MPI work and asserts on every rank. A failed assertion inside
//!   `anam::mpi::run` aborts the job (`run` catches the panic and calls `MPI_Abort`; so
//!   does a panic through a live handler): the parent reports the child's output.
//!   Without `ANAM_MPI_CHILD` a child test does nothing, so `cargo test -- --ignored`
//!   stays harmless.
//! - Failures: a panic, an error returned inside `anam::mpi::run`, or a handler dropped
//!   without `done()` on one rank aborts the whole job quickly while the other ranks wait;
//!   a caught panic does not. `done()` names the messages sent and never received, and a
//!   `recv` from a rank that has called `done()` fails instead of waiting for ever.
//! - `large_bcast_of_2_5_gib` (ignored: `make test-large`, i.e.
//!   `cargo test --release --features mpi --test mpi -- --ignored large`) broadcasts a
//!   2.5 GiB array between 2 ranks.
//!
//! `mpiexec` runs one at a time (a lock), so that timings are not skewed by other jobs on
//! the machine's cores. `HYDRA_LAUNCHER=fork` is always set (no ssh).
#![cfg(feature = "mpi")]

use std::any::type_name;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::path::PathBuf;
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

#[path = "common/mpiexec.rs"]
mod mpiexec;
use mpiexec::*;

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
    // Tags out of range: negative ones, and MPI_TAG_UB (anam's own).
    for tag in [-1, i32::MAX] {
        let e = m.send(&1u8, (rank + 1) % 3, tag).unwrap_err().to_string();
        assert!(
            e.contains("out of range") && e.contains("MPI_TAG_UB"),
            "{e}"
        );
        let e = m.recv::<u8>((rank + 1) % 3, tag).unwrap_err().to_string();
        assert!(e.contains(&format!("tag {tag} is out of range")), "{e}");
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
    let all = m.gather_list(&mine, return_all).unwrap();
    if return_all {
        assert_eq!(all, items);
    } else {
        assert!(all.is_empty());
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
    let all = m.gather_list(&mine, rank == 0).unwrap();
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
    assert_eq!(m.gather_list(&mine, true).unwrap(), two);
    let none: Vec<Value> = Vec::new();
    let mine = m.scatter_list(on_root(m, 0, &none).as_deref(), 0).unwrap();
    assert!(mine.is_empty());
    assert!(m.gather_list(&mine, true).unwrap().is_empty());
    // A list with arrays larger than 1 MiB.
    let arrays: Vec<NdArray<f64>> = (0..4).map(|i| NdArray(big_array(i))).collect();
    let mine = m
        .scatter_list(on_root(m, 0, &arrays).as_deref(), 0)
        .unwrap();
    assert_eq!(mine.len(), [2, 1, 1][rank]);
    assert!(m.gather_list(&mine, true).unwrap() == arrays);
    // Roots that do not exist.
    assert!(m.scatter_array(None::<&ArrayD<f64>>, 3).is_err());
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
        let got = m.gather_list(&mine, return_all).unwrap();
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
    }
    // Arrays larger than 1 MiB, to two of the three ranks.
    let arrays: Vec<NdArray<f64>> = (0..4).map(|i| NdArray(big_array(i))).collect();
    let (a, b) = [(0, 2), (2, 3), (3, 4)][rank];
    let got = m.gather_list(&arrays[a..b], rank != 0).unwrap();
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
// (b) Views and fixed dimensions in scatter and gather
// ---------------------------------------------------------------------------------------

/// `scatter_array`, `gather` and `allgather` on views and arrays of fixed dimension: the
/// result has the dimension of the argument. A rank asking for another dimension or dtype
/// than the root sends gets an error, and the job stays in step.
fn child_views_body(m: &MpiHandler) {
    let rank = m.rank();
    let rows = m.get_scatter_indices(10);
    let (a, b) = rows[rank];
    // A 2-d array: Array2 in, Array2 out, on every rank.
    let full = Array2::from_shape_fn((10, 4), |(i, j)| (i * 4 + j) as i64);
    let mine: Array2<i64> = m.scatter_array((rank == 0).then_some(&full), 0).unwrap();
    assert_eq!(mine, full.slice(s![a..b, ..]));
    let back: Option<Array2<i64>> = m.gather(&mine, 0).unwrap();
    assert_eq!(back, (rank == 0).then(|| full.clone()));
    let all: Array2<i64> = m.allgather(&mine.view()).unwrap();
    assert_eq!(all, full);
    // Other ranks may pass a typed `None`.
    let root_view = full.view();
    let arg = if rank == 1 { Some(&root_view) } else { None };
    let mine: Array2<i64> = m.scatter_array(arg, 1).unwrap();
    assert_eq!(mine, full.slice(s![a..b, ..]));

    // A strided slice of a larger 3-d array (every other row, two of five columns).
    let big = Array3::from_shape_fn((20, 5, 3), |(i, j, k)| (i * 100 + j * 10 + k) as f32);
    let view = big.slice(s![..;2, 1..3, ..]);
    assert!(!view.is_standard_layout());
    let mine: Array3<f32> = m.scatter_array((rank == 2).then_some(&view), 2).unwrap();
    assert_eq!(mine.shape(), &[b - a, 2, 3]);
    assert_eq!(mine, view.slice(s![a..b, .., ..]));
    // Gather slices of each rank's rows, as views.
    let part = view.slice(s![a..b, .., ..]);
    let got = m.gather(&part, 2).unwrap();
    assert_eq!(got, (rank == 2).then(|| view.to_owned()));
    let all: Array3<f32> = m.allgather(&part).unwrap();
    assert_eq!(all, view);
    // A 1-d array, its rows spread unevenly (2 rows over 3 ranks).
    let line = Array1::from_shape_fn(2, |i| Complex64::new(i as f64, -1.0));
    let mine: Array1<Complex64> = m.scatter_array((rank == 0).then_some(&line), 0).unwrap();
    assert_eq!(mine.len(), [1, 1, 0][rank]);
    assert_eq!(m.allgather(&mine).unwrap(), line);
    // Dynamic and fixed dimensions mixed: the root's ArrayD, rank 1's Array2.
    let dynamic = full.clone().into_dyn();
    if rank == 1 {
        let mine: Array2<i64> = m.scatter_array(None::<&Array2<i64>>, 0).unwrap();
        assert_eq!(mine, full.slice(s![a..b, ..]));
    } else {
        let mine: ArrayD<i64> = m.scatter_array((rank == 0).then_some(&dynamic), 0).unwrap();
        assert_eq!(mine, full.slice(s![a..b, ..]).into_dyn());
    }

    // Rank 2 asks for a 1-d array of a 2-d one: an error there only, naming the dimension.
    if rank == 2 {
        let e = m
            .scatter_array(None::<&Array1<i64>>, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("1-d") && e.contains("rank 2"), "{e}");
    } else {
        let arg = (rank == 0).then_some(&full);
        assert_eq!(m.scatter_array(arg, 0).unwrap(), full.slice(s![a..b, ..]));
    }
    // Rank 1 asks for f32 of an i64 array: an error naming both, after taking part.
    if rank == 1 {
        let e = m
            .scatter_array(None::<&Array2<f32>>, 0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("int64") && e.contains("float32"), "{e}");
    } else {
        let arg = (rank == 0).then_some(&full);
        assert_eq!(m.scatter_array(arg, 0).unwrap(), full.slice(s![a..b, ..]));
    }
    // Still in step.
    assert_eq!(
        m.allgather(&mine_row(rank)).unwrap(),
        Array2::from_shape_fn((3, 2), |(i, j)| (i * 2 + j) as u8)
    );
    // 0-d arrays have no rows: an error on every rank, before any communication.
    let zero_d = ndarray::arr0(1.5f64);
    assert!(m
        .gather(&zero_d, 0)
        .unwrap_err()
        .to_string()
        .contains("not 0"));
    assert!(m.allgather(&zero_d.view()).is_err());

    // Lists of uneven lengths: no total to give, the ranks' items are counted.
    let items: Vec<u32> = (0..rank as u32 * 2 + 1)
        .map(|i| 10 * rank as u32 + i)
        .collect();
    let all = m.gather_list(&items, true).unwrap();
    assert_eq!(all, [0, 10, 11, 12, 20, 21, 22, 23, 24]);
    let some = m.gather_list(&items, rank == 2).unwrap();
    assert_eq!(some.len(), if rank == 2 { 9 } else { 0 });
}

/// Row `rank` of a 3x2 array of `u8`.
fn mine_row(rank: usize) -> Array2<u8> {
    Array2::from_shape_fn((1, 2), |(_, j)| (rank * 2 + j) as u8)
}

#[test]
#[ignore = "MPI child: run by scatter_and_gather_take_views_and_keep_their_dimension"]
fn child_views() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        assert_eq!(m.size(), 3);
        child_views_body(m);
        Ok(())
    })
    .unwrap();
}

#[test]
fn scatter_and_gather_take_views_and_keep_their_dimension() {
    child_passes("child_views", 3);
}

// ---------------------------------------------------------------------------------------
// (c) Broadcast into an existing array
// ---------------------------------------------------------------------------------------

fn child_bcast_into_body(m: &MpiHandler) {
    let rank = m.rank();
    for root in [0, 2] {
        // 3 MiB of f64 (sent apart from the message): straight into the array's memory.
        let want = Array2::from_shape_fn((1024, 384), |(i, j)| (i * 384 + j + root) as f64);
        let mut a = if rank == root {
            want.clone()
        } else {
            Array2::<f64>::zeros((1024, 384))
        };
        let before = a.as_ptr();
        m.bcast_array_into(&mut a, root).unwrap();
        assert_eq!(a, want, "rank {rank}, root {root}");
        assert_eq!(a.as_ptr(), before, "received in place");
        // Again, into the same (now warm) memory.
        a.fill(0.0);
        if rank == root {
            a.assign(&want);
        }
        m.bcast_array_into(&mut a, root).unwrap();
        assert_eq!(a, want);
        assert_eq!(a.as_ptr(), before);
    }
    // Small arrays, other dtypes, dynamic dimension, 0-d.
    let want = Array1::from_shape_fn(5, |i| i as i32 - 2);
    let mut small = if rank == 1 {
        want.clone()
    } else {
        Array1::zeros(5)
    };
    m.bcast_array_into(&mut small, 1).unwrap();
    assert_eq!(small, want);
    let want = ArrayD::from_shape_fn(IxDyn(&[2, 3, 4]), |d| {
        Complex32::new(d[0] as f32, d[2] as f32)
    });
    let mut dynamic = if rank == 0 {
        want.clone()
    } else {
        ArrayD::zeros(IxDyn(&[2, 3, 4]))
    };
    m.bcast_array_into(&mut dynamic, 0).unwrap();
    assert_eq!(dynamic, want);
    let mut scalar = ndarray::arr0(if rank == 0 { 7u16 } else { 0 });
    m.bcast_array_into(&mut scalar, 0).unwrap();
    assert_eq!(scalar[()], 7);
    // Booleans (checked as bytes), large and small.
    let want = Array2::from_shape_fn((1100, 1000), |(i, j)| (i + j) % 3 == 0);
    let mut flags = if rank == 0 {
        want.clone()
    } else {
        Array2::from_elem((1100, 1000), false)
    };
    m.bcast_array_into(&mut flags, 0).unwrap();
    assert!(flags == want);
    // Into a slice of a larger array, and into a transposed (non-standard) array; from a
    // transposed array on the root.
    let want = Array2::from_shape_fn((4, 6), |(i, j)| (10 * i + j) as u64);
    let mut bigger = Array2::<u64>::zeros((10, 6));
    if rank == 0 {
        bigger.slice_mut(s![3..7, ..]).assign(&want);
    }
    m.bcast_array_into(&mut bigger.slice_mut(s![3..7, ..]), 0)
        .unwrap();
    assert_eq!(bigger.slice(s![3..7, ..]), want);
    assert!(bigger.slice(s![..3, ..]).iter().all(|&x| x == 0));
    let mut t = Array2::<u64>::zeros((6, 4)).reversed_axes();
    if rank == 1 {
        t.assign(&want);
    }
    assert!(!t.is_standard_layout());
    m.bcast_array_into(&mut t, 1).unwrap();
    assert_eq!(t, want);

    // A rank whose array has another shape: an error there naming both shapes, the array
    // unchanged; the others receive, and the job stays in step.
    let want = Array2::from_shape_fn((512, 300), |(i, j)| (i * 300 + j) as f64);
    let shape = if rank == 2 { (512, 299) } else { (512, 300) };
    let mut a = if rank == 0 {
        want.clone()
    } else {
        Array2::from_elem(shape, -1.0)
    };
    let r = m.bcast_array_into(&mut a, 0);
    if rank == 2 {
        let e = r.unwrap_err().to_string();
        assert!(e.contains("[512, 300]") && e.contains("[512, 299]"), "{e}");
        assert!(a.iter().all(|&x| x == -1.0));
    } else {
        r.unwrap();
        assert_eq!(a, want);
    }
    // Another dtype on rank 1: an error naming both dtypes.
    let want = Array1::from_shape_fn(4, |i| i as f64);
    if rank == 1 {
        let mut wrong = Array1::<f32>::zeros(4);
        let e = m.bcast_array_into(&mut wrong, 0).unwrap_err().to_string();
        assert!(e.contains("float64") && e.contains("float32"), "{e}");
    } else {
        let mut a = if rank == 0 {
            want.clone()
        } else {
            Array1::zeros(4)
        };
        m.bcast_array_into(&mut a, 0).unwrap();
        assert_eq!(a, want);
    }
    let v: String = m.bcast(on_root(m, 0, &"in step".to_string()), 0).unwrap();
    assert_eq!(v, "in step");
    // A root that does not exist.
    assert!(m.bcast_array_into(&mut small, 3).is_err());
}

#[test]
#[ignore = "MPI child: run by bcast_array_into_receives_in_place"]
fn child_bcast_into() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        assert_eq!(m.size(), 3);
        child_bcast_into_body(m);
        Ok(())
    })
    .unwrap();
}

#[test]
fn bcast_array_into_receives_in_place() {
    child_passes("child_bcast_into", 3);
}

// ---------------------------------------------------------------------------------------
// (d) Panics the program catches
// ---------------------------------------------------------------------------------------

#[test]
#[ignore = "MPI child: run by caught_panics_do_not_abort_the_job"]
fn child_caught_panics() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        let rank = m.rank();
        let caught = std::panic::catch_unwind(|| panic!("a panic caught by catch_unwind"));
        assert!(caught.is_err());
        let joined = std::thread::spawn(|| panic!("a panic in a worker thread")).join();
        assert!(joined.is_err());
        // The job goes on: a broadcast, a message each way.
        let v: u32 = m.bcast(on_root(m, 0, &42), 0)?;
        assert_eq!(v, 42);
        m.send(&rank, 1 - rank, 9)?;
        assert_eq!(m.recv::<usize>(1 - rank, 9)?, 1 - rank);
        Ok(())
    })
    .unwrap();
    // After done(), MPI is finalised: a caught panic must not reach MPI at all.
    let caught = std::panic::catch_unwind(|| panic!("a panic caught after done()"));
    assert!(caught.is_err());
    println!("alive after done");
}

/// Panics caught with `catch_unwind` or seen through a thread's `join` (before and after
/// `done()`) leave the job running; only the panic messages reach stderr.
#[test]
fn caught_panics_do_not_abort_the_job() {
    let run = run_child("child_caught_panics", 2, Duration::from_secs(120));
    assert!(run.status.success(), "child failed: {}", run.report());
    assert_eq!(ranks_passed(&run), 2, "{}", run.report());
    let streams = per_rank(&run.stdout);
    assert!(
        streams.values().all(|s| s.contains("alive after done")),
        "{}",
        run.report()
    );
    // stderr holds the panics' own reports (Rust's default hook), and no abort.
    for abort in ["rank 0:", "rank 1:", "MPI_Abort", "aborting"] {
        assert!(
            !run.stderr.contains(abort),
            "{abort:?} on stderr: {}",
            run.report()
        );
    }
    assert!(
        run.stderr.contains("a panic in a worker thread"),
        "{}",
        run.report()
    );
}

// ---------------------------------------------------------------------------------------
// (e) done() is collective and checks the messages; recv does not wait for ever
// ---------------------------------------------------------------------------------------

/// Rank 1 sends one message and calls `done()`; rank 0 receives it, then waits for a
/// second one: an error naming rank 1 and the tag, within 10 s; then both finish cleanly.
#[test]
#[ignore = "MPI child: run by recv_from_a_rank_that_called_done_is_an_error"]
fn child_recv_after_done() {
    if !is_child() {
        return;
    }
    let m = MpiHandler::new(true).unwrap();
    if m.rank() == 1 {
        m.send(&NdArray(big_array::<f64>(1)), 0, 3).unwrap();
        m.done().unwrap();
    } else {
        let a: NdArray<f64> = m.recv(1, 3).unwrap();
        assert!(a.0 == big_array::<f64>(1));
        let start = Instant::now();
        let e = m.recv::<String>(1, 7).unwrap_err().to_string();
        println!("rank 0: recv failed after {:.2?}: {e}", start.elapsed());
        assert!(start.elapsed() < Duration::from_secs(10), "{e}");
        assert!(
            e.contains("rank 1 has called done()") && e.contains("tag 7"),
            "{e}"
        );
        // recv_timeout too: the same error, before its deadline.
        let e = m
            .recv_timeout::<String>(1, 8, Duration::from_secs(60))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rank 1 has called done()") && e.contains("tag 8"),
            "{e}"
        );
        m.done().unwrap();
    }
}

#[test]
fn recv_from_a_rank_that_called_done_is_an_error() {
    let run = run_child("child_recv_after_done", 2, Duration::from_secs(60));
    assert!(run.status.success(), "child failed: {}", run.report());
    assert_eq!(ranks_passed(&run), 2, "{}", run.report());
    assert_no_stderr(&run);
    assert!(run.elapsed < Duration::from_secs(10), "{}", run.report());
}

/// Inside `run`: rank 0 returns (so calls `done()`) while rank 1 waits for a message from
/// it: rank 1's error aborts the job, naming the ranks and the tag.
#[test]
#[ignore = "MPI child: run by recv_from_a_finished_rank_inside_run_aborts_the_job"]
fn child_recv_after_done_in_run() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        if m.rank() == 1 {
            let _: String = m.recv(0, 11)?;
            println!("rank 1: after the failure");
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn recv_from_a_finished_rank_inside_run_aborts_the_job() {
    job_aborts(
        "child_recv_after_done_in_run",
        2,
        "rank 1: recv: rank 0 has called done() and will send nothing more; rank 1 waits for a message with tag 11",
    );
}

/// Rank 1 sends rank 2 three objects (the last one with an array sent apart, so that its
/// `MPI_Send` waits for a receive) and rank 2 receives two; rank 0 sends itself one it does
/// not receive; rank 0 and rank 1 exchange messages that match. Every rank's `done()` fails with the same message, and the job
/// ends cleanly.
#[test]
#[ignore = "MPI child: run by done_names_the_messages_sent_and_not_received"]
fn child_done_counts() {
    if !is_child() {
        return;
    }
    let m = MpiHandler::new(true).unwrap();
    let rank = m.rank();
    match rank {
        0 => {
            m.send("to rank 1", 1, 0).unwrap();
            assert_eq!(m.recv::<String>(1, 0).unwrap(), "to rank 0");
            // To itself, never received.
            m.send("to myself", 0, 6).unwrap();
        }
        1 => {
            assert_eq!(m.recv::<String>(0, 0).unwrap(), "to rank 1");
            m.send("to rank 0", 0, 0).unwrap();
            m.send(&1u8, 2, 4).unwrap();
            m.send(&2u8, 2, 4).unwrap();
            m.send(&NdArray(big_array::<f64>(3)), 2, 5).unwrap();
        }
        _ => {
            assert_eq!(m.recv::<u8>(1, 4).unwrap(), 1);
            assert_eq!(m.recv::<u8>(1, 4).unwrap(), 2);
        }
    }
    let e = m.done().unwrap_err().to_string();
    assert_eq!(
        e,
        "done(): messages sent but never received: rank 0 sent 1 object to rank 0, which \
         received 0; rank 1 sent 3 objects to rank 2, which received 2",
        "rank {rank}"
    );
    println!("rank {rank}: done() failed as expected");
}

#[test]
fn done_names_the_messages_sent_and_not_received() {
    let run = run_child("child_done_counts", 3, Duration::from_secs(60));
    assert!(run.status.success(), "child failed: {}", run.report());
    assert_eq!(ranks_passed(&run), 3, "{}", run.report());
    assert_no_stderr(&run);
    assert!(run.elapsed < Duration::from_secs(10), "{}", run.report());
}

/// `recv_timeout`: no message within the time is an error naming the source and the tag;
/// a message that comes in time is received.
#[test]
#[ignore = "MPI child: run by recv_timeout_gives_up_with_an_error"]
fn child_recv_timeout() {
    if !is_child() {
        return;
    }
    anam::mpi::run(true, |m| {
        if m.rank() == 0 {
            let start = Instant::now();
            let e = m
                .recv_timeout::<String>(1, 5, Duration::from_millis(300))
                .unwrap_err()
                .to_string();
            let waited = start.elapsed();
            assert!(
                waited >= Duration::from_millis(300) && waited < Duration::from_secs(5),
                "{waited:?}"
            );
            assert!(
                e.contains("no message from rank 1 (tag 5) within 300ms"),
                "{e}"
            );
            m.send("go", 1, 1)?;
            let late: String = m.recv_timeout(1, 5, Duration::from_secs(30))?;
            assert_eq!(late, "late");
        } else {
            assert_eq!(m.recv::<String>(0, 1)?, "go");
            m.send("late", 0, 5)?;
        }
        Ok(())
    })
    .unwrap();
}

#[test]
fn recv_timeout_gives_up_with_an_error() {
    child_passes("child_recv_timeout", 2);
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
    m.done().unwrap();
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
    job_aborts("child_panic", 3, "rank 1: deliberate panic on rank 1");
}

/// Outside `run`: a panic that unwinds through a live handler aborts the job (its `Drop`).
#[test]
#[ignore = "MPI child: run by a_panic_through_a_live_handler_aborts_the_job"]
fn child_panic_outside_run() {
    if !is_child() {
        return;
    }
    let m = MpiHandler::new(true).unwrap();
    fail_on_rank_1_by(m, |_m| panic!("deliberate panic outside run"));
}

#[test]
fn a_panic_through_a_live_handler_aborts_the_job() {
    job_aborts("child_panic_outside_run", 2, "deliberate panic outside run");
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
