//! The local backend of [`MpiHandler`] (one process: rank 0 of 1, Python's
//! `NullMPIImplementor`): the API behaves as with MPI on a single rank.
//!
//! Runs with plain `cargo test`; no `mpiexec`. With `--features mpi` this file is compiled
//! too: every test then uses `MpiHandler::new(false)` (the local backend), so no test
//! initialises MPI, but for `new(true)` in a build without the feature, which is the local
//! backend as well.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::process::Command;

use anam::{AnamCollection, AnamObject, MpiHandler, NdArray, Object, Store, TypedArray, Value};
use ndarray::{s, Array1, Array2, Array3, ArrayD, Ix2, IxDyn};
use num_complex::{Complex32, Complex64};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_bytes::ByteBuf;

#[path = "common/samples.rs"]
mod samples;
use samples::*;

// ---------------------------------------------------------------------------------------
// Helpers and types
// ---------------------------------------------------------------------------------------

/// The local handler (never MPI, whatever the build).
fn local() -> MpiHandler {
    let m = MpiHandler::new(false).expect("the local backend");
    assert!(!m.is_mpi());
    m
}

/// Broadcasts `value` from rank 0 (the only rank) and checks it comes back unchanged.
fn bcast_back<T>(m: &MpiHandler, value: T)
where
    T: Serialize + DeserializeOwned + PartialEq + Debug + Clone,
{
    let got: T = m
        .bcast(Some(value.clone()), 0)
        .unwrap_or_else(|e| panic!("bcast of {value:?}: {e}"));
    assert_eq!(got, value);
}

/// The error message of a call that must fail.
fn err<T: Debug>(r: anam::Result<T>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// Broadcasts arrays of `T` of every shape; scatters, gathers and allgathers them.
fn arrays_of<T: Sample + Clone>(m: &MpiHandler) {
    for &shape in SHAPES {
        let a = sample_array::<T>(shape);
        bcast_back(m, NdArray(a.clone()));
        if !shape.is_empty() {
            assert_eq!(m.scatter_array(Some(&a), 0).unwrap(), a);
            assert_eq!(m.gather(&a, 0).unwrap(), Some(a.clone()));
            assert_eq!(m.allgather(&a).unwrap(), a);
        }
    }
    // A fixed dimension, and a transposed (non-standard layout) array.
    let a2 = Array2::from_shape_fn((3, 4), |(i, j)| T::sample(4 * i + j));
    bcast_back(m, NdArray::<T, Ix2>(a2.clone()));
    let t = a2.t().to_owned().into_dyn();
    assert_eq!(m.scatter_array(Some(&t), 0).unwrap(), t);
    assert_eq!(m.allgather(&t).unwrap(), t);
}

// ---------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------

#[test]
fn rank_0_of_1_and_master() {
    let m = local();
    assert_eq!((m.rank(), m.size(), m.is_master()), (0, 1, true));
    m.done().unwrap();
}

/// Without the `mpi` feature, `new(true)` is the local backend too (one code base runs
/// with and without MPI). With the feature it would initialise MPI: not tested here.
#[cfg(not(feature = "mpi"))]
#[test]
fn use_mpi_without_the_feature_is_local() {
    let m = MpiHandler::new(true).unwrap();
    assert!(!m.is_mpi());
    assert_eq!((m.rank(), m.size(), m.is_master()), (0, 1, true));
    let v: Vec<String> = m.bcast(Some(vec!["a".to_string()]), 0).unwrap();
    assert_eq!(v, ["a"]);
    m.send(&5u8, 0, 1).unwrap();
    assert_eq!(m.recv::<u8>(0, 1).unwrap(), 5);
    m.done().unwrap();
    assert!(anam::mpi::run(true, |m| {
        assert!(!m.is_mpi());
        Ok(())
    })
    .is_ok());
}

#[test]
fn bcast_of_scalars_and_strings() {
    let m = local();
    bcast_back(&m, true);
    bcast_back(&m, i8::MIN);
    bcast_back(&m, i16::MAX);
    bcast_back(&m, i32::MIN);
    bcast_back(&m, i64::MAX);
    bcast_back(&m, i128::MIN);
    bcast_back(&m, u8::MAX);
    bcast_back(&m, u16::MAX);
    bcast_back(&m, u32::MAX);
    bcast_back(&m, u64::MAX);
    bcast_back(&m, u128::MAX);
    bcast_back(&m, 1.5f32);
    bcast_back(&m, -0.1f64);
    bcast_back(&m, 'é');
    bcast_back(&m, String::new());
    bcast_back(&m, "Zürich € 😀".to_string());
    bcast_back(&m, ByteBuf::from(vec![0u8, 1, 255]));
    bcast_back(&m, ());
    bcast_back(&m, Some(3i32));
    bcast_back(&m, None::<String>);
    let nan: f64 = m.bcast(Some(f64::NAN), 0).unwrap();
    assert!(nan.is_nan());
    m.done().unwrap();
}

#[test]
fn bcast_of_collections_structs_and_enums() {
    let m = local();
    bcast_back(&m, Vec::<i64>::new());
    bcast_back(&m, vec![1i64, -1, i64::MAX]);
    bcast_back(&m, vec![vec!["a".to_string()], vec![]]);
    bcast_back(&m, (1u8, "two".to_string(), 3.5f64));
    bcast_back(&m, BTreeMap::from([("a".to_string(), 1i32)]));
    bcast_back(&m, HashMap::from([(1u32, vec![2u8])]));
    bcast_back(&m, UnitStruct);
    bcast_back(&m, Meters(2.0));
    bcast_back(&m, Rgb(1, 2, 3));
    for s in all_types().shapes {
        bcast_back(&m, s);
    }
    bcast_back(&m, all_types());
    m.done().unwrap();
}

#[test]
fn bcast_of_values_stores_and_collections() {
    let m = local();
    let mut object = Object::new("mpi_local.Thing");
    object.insert("v", Value::I64(7));
    let values = Value::List(vec![
        Value::None,
        Value::Unit,
        Value::Bool(true),
        Value::I8(-1),
        Value::U64(u64::MAX),
        Value::F32(0.5),
        Value::C64(Complex32::new(1.0, -1.0)),
        Value::C128(Complex64::new(2.0, 3.0)),
        Value::from("text"),
        Value::Array(TypedArray::I16(sample_array(&[2, 2]))),
        Value::Dict(vec![(Value::from("k"), Value::I32(1))]),
        Value::Object(object),
    ]);
    bcast_back(&m, values);

    let mut store = Store::new();
    store.insert("airport_from", "Manchester");
    store.insert("gate", 12i64);
    store.insert("grid", TypedArray::F32(sample_array(&[2, 3])));
    store.insert("flags", TypedArray::Bool(sample_array(&[4])));
    bcast_back(&m, store.clone());
    let obj = m.bcast_obj(Some(Box::new(store.clone())), 0).unwrap();
    assert_eq!(*obj.downcast::<Store>().unwrap(), store);

    let c: StatsCollection = (0..3).map(stats).collect();
    let mut back: StatsCollection = m.bcast(Some(c.clone()), 0).unwrap();
    assert_eq!(back, c);
    back.update_cache().unwrap();
    assert_eq!(back.combined("zstats").unwrap().shape(), &[2, 2, 3]);
    let plain: AnamCollection<Stats> = (0..2).map(stats).collect();
    bcast_back(&m, plain);
    m.done().unwrap();
}

#[test]
fn bcast_of_arrays_of_every_dtype() {
    let m = local();
    arrays_of::<bool>(&m);
    arrays_of::<i8>(&m);
    arrays_of::<i16>(&m);
    arrays_of::<i32>(&m);
    arrays_of::<i64>(&m);
    arrays_of::<u8>(&m);
    arrays_of::<u16>(&m);
    arrays_of::<u32>(&m);
    arrays_of::<u64>(&m);
    arrays_of::<f32>(&m);
    arrays_of::<f64>(&m);
    arrays_of::<Complex32>(&m);
    arrays_of::<Complex64>(&m);
    // Larger than the out-of-band threshold of the MPI backend (1 MiB).
    let big = Array1::from_shape_fn(300_000, |i| i as f64).into_dyn();
    bcast_back(&m, NdArray(big));
    m.done().unwrap();
}

#[test]
fn bcast_of_a_class_with_bcast_only_fields_and_an_init_hook() {
    let m = local();
    let p = Probe::new("fred");
    let before = hook_runs();
    // The root gets its own value back: no copy, so no load and no hook.
    let back: Probe = m.bcast(Some(p.clone()), 0).unwrap();
    assert_eq!(back, p);
    assert_eq!(back.loads, 0);
    let obj = m.bcast_obj(Some(Box::new(p.clone())), 0).unwrap();
    assert_eq!(obj.class_tag(), "samples.Probe");
    let back = obj.downcast::<Probe>().unwrap();
    assert_eq!(*back, p);
    assert_eq!(back.loads, 0);
    // Through the wire format (scatter_list decodes each item): the hook runs once per
    // object and the bcast_only members arrive.
    let items = vec![Probe::new("a"), Probe::new("b")];
    let got = m.scatter_list(Some(&items), 0).unwrap();
    assert_eq!(got.len(), 2);
    for (g, p) in got.iter().zip(&items) {
        assert!(g.same(p), "{g:?}");
        assert_eq!(g.loads, 1);
        assert_eq!(g.cache, [1.5, -2.5, f64::INFINITY]);
        assert_eq!(g.note.as_deref(), Some("scratch"));
    }
    // (Other tests may run hooks in parallel: at least ours ran.)
    assert!(hook_runs() - before >= 2);
    // A downcast to another class names both.
    let obj = m.bcast_obj(Some(Box::new(p)), 0).unwrap();
    let e = obj.downcast::<Store>().unwrap_err().to_string();
    assert!(
        e.contains("samples.Probe") && e.contains("anamnesis.store.Store"),
        "{e}"
    );
    m.done().unwrap();
}

#[test]
fn bcast_with_no_value_on_the_root_is_an_error() {
    let m = local();
    let e = err(m.bcast::<i64>(None, 0));
    assert!(e.contains("root") && e.contains("no value"), "{e}");
    let e = err(m.bcast_obj(None, 0));
    assert!(e.contains("root"), "{e}");
    m.done().unwrap();
}

#[test]
fn send_then_recv_to_self() {
    let m = local();
    m.send(&all_types(), 0, 0).unwrap();
    m.send("a str", 0, 1).unwrap();
    m.send(&NdArray(sample_array::<Complex64>(&[2, 3])), 0, 2)
        .unwrap();
    m.send(&Probe::new("p"), 0, 3).unwrap();
    m.send(&Probe::new("q"), 0, 4).unwrap();
    assert_eq!(m.recv::<AllTypes>(0, 0).unwrap(), all_types());
    assert_eq!(m.recv::<String>(0, 1).unwrap(), "a str");
    let a: NdArray<Complex64> = m.recv(0, 2).unwrap();
    assert_eq!(a.0, sample_array::<Complex64>(&[2, 3]));
    let p: Probe = m.recv(0, 3).unwrap();
    assert!(p.same(&Probe::new("p")));
    assert_eq!(p.loads, 1, "the hook runs once on the received copy");
    assert_eq!(p.cache.len(), 3, "bcast_only members are sent");
    let obj: Box<dyn AnamObject> = m.recv_obj(0, 4).unwrap();
    let q = obj.downcast::<Probe>().unwrap();
    assert!(q.same(&Probe::new("q")));
    assert_eq!(q.loads, 1);
    m.done().unwrap();
}

#[test]
fn recv_with_another_tag_is_an_error_naming_both_tags() {
    let m = local();
    m.send("three", 0, 3).unwrap();
    let e = err(m.recv::<String>(0, 5));
    assert!(e.contains("tag 5") && e.contains("tag 3"), "{e}");
    // The message was never received: done() says so.
    let e = err(m.done());
    assert!(
        e.contains("rank 0 sent 1 object to rank 0, which received 0"),
        "{e}"
    );
}

/// As with MPI (where the mismatched receive only probes), the message is still there to
/// be received with its own tag.
#[test]
fn recv_with_another_tag_keeps_the_message() {
    let m = local();
    m.send("three", 0, 3).unwrap();
    assert!(m.recv::<String>(0, 5).is_err());
    assert_eq!(m.recv::<String>(0, 3).unwrap(), "three");
    m.done().unwrap();
}

#[test]
fn recv_of_another_type_is_an_error_naming_both() {
    let m = local();
    m.send("a string", 0, 4).unwrap();
    let e = err(m.recv::<i64>(0, 4));
    assert!(e.contains("str") && e.contains("i64"), "{e}");
    m.done().unwrap();
}

#[test]
fn recv_with_nothing_sent_is_an_error() {
    let m = local();
    let e = err(m.recv::<i64>(0, 0));
    assert!(e.contains("no message"), "{e}");
    assert!(m.recv_obj(0, 0).is_err());
    m.done().unwrap();
}

#[test]
fn scatter_indices_of_one_rank() {
    let m = local();
    assert_eq!(m.get_scatter_indices(100), vec![(0, 100)]);
    assert_eq!(m.get_scatter_indices(0), vec![(0, 0)]);
    m.done().unwrap();
}

#[test]
fn scatter_and_gather_arrays() {
    let m = local();
    let a = Array3::from_shape_fn((100, 15, 23), |(i, j, k)| (i * 10_000 + j * 100 + k) as f64)
        .into_dyn();
    assert_eq!(m.scatter_array(Some(&a), 0).unwrap(), a);
    assert_eq!(m.gather(&a, 0).unwrap(), Some(a.clone()));
    assert_eq!(m.allgather(&a).unwrap(), a);
    let empty = ArrayD::<i32>::zeros(IxDyn(&[0, 4]));
    assert_eq!(m.scatter_array(Some(&empty), 0).unwrap(), empty);
    assert_eq!(m.gather(&empty, 0).unwrap(), Some(empty.clone()));
    assert_eq!(m.allgather(&empty).unwrap(), empty);
    let e = err(m.scatter_array(None::<&ArrayD<f64>>, 0));
    assert!(e.contains("root"), "{e}");
    let zero_d = ArrayD::<f64>::zeros(IxDyn(&[]));
    assert!(m.scatter_array(Some(&zero_d), 0).is_err());
    m.done().unwrap();
}

#[test]
fn scatter_and_gather_lists() {
    let m = local();
    let items: Vec<String> = (0..300).map(|x| x.to_string()).collect();
    let mine = m.scatter_list(Some(&items), 0).unwrap();
    assert_eq!(mine, items);
    // No total to pass: the list is however many items the ranks hold.
    assert_eq!(m.gather_list(&mine, true).unwrap(), items);
    assert_eq!(m.gather_list(&mine, false).unwrap(), Vec::<String>::new());
    let none: Vec<i32> = m.scatter_list(Some(&[]), 0).unwrap();
    assert!(none.is_empty());
    assert!(m.gather_list(&none, true).unwrap().is_empty());
    assert!(m.scatter_list::<i32>(None, 0).is_err());
    m.done().unwrap();
}

/// Views of any dimension in, arrays of the same dimension out.
#[test]
fn scatter_and_gather_views_of_fixed_dimension() {
    let m = local();
    let big = Array3::from_shape_fn((6, 5, 4), |(i, j, k)| (i * 100 + j * 10 + k) as u32);
    let view = big.slice(s![1..5, ..;2, 2]);
    let rows: Array2<u32> = m.scatter_array(Some(&view), 0).unwrap();
    assert_eq!(rows, view);
    let back: Option<Array2<u32>> = m.gather(&view, 0).unwrap();
    assert_eq!(back.unwrap(), view);
    let all: Array3<u32> = m.allgather(&big.view()).unwrap();
    assert_eq!(all, big);
    let line = Array1::from_vec(vec![1.5f64, 2.5]);
    let got: Array1<f64> = m.scatter_array(Some(&line), 0).unwrap();
    assert_eq!(got, line);
    // 0-d arrays remain an error.
    let zero_d = ndarray::arr0(1u8);
    assert!(err(m.scatter_array(Some(&zero_d), 0)).contains("0-d"));
    assert!(err(m.gather(&zero_d, 0)).contains("not 0"));
    assert!(err(m.allgather(&zero_d.view())).contains("not 0"));
    m.done().unwrap();
}

/// On the only rank, the root's array is left as it is.
#[test]
fn bcast_array_into_on_one_rank() {
    let m = local();
    let want = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f32);
    let mut a = want.clone();
    m.bcast_array_into(&mut a, 0).unwrap();
    assert_eq!(a, want);
    m.bcast_array_into(&mut a.slice_mut(s![1.., ..]), 0)
        .unwrap();
    assert_eq!(a, want);
    assert!(err(m.bcast_array_into(&mut a, 1)).contains("does not exist"));
    m.done().unwrap();
}

/// One process: a message not sent yet never comes, so `recv_timeout` fails at once.
#[test]
fn recv_timeout_without_a_message_is_an_error() {
    let m = local();
    let e = err(m.recv_timeout::<i32>(0, 4, std::time::Duration::from_secs(60)));
    assert!(e.contains("rank 0") && e.contains("tag 4"), "{e}");
    m.send(&5i32, 0, 4).unwrap();
    let v: i32 = m
        .recv_timeout(0, 4, std::time::Duration::from_secs(60))
        .unwrap();
    assert_eq!(v, 5);
    m.done().unwrap();
}

#[test]
fn done_counts_the_messages_not_received() {
    let m = local();
    m.send(&1u8, 0, 1).unwrap();
    m.send(&2u8, 0, 1).unwrap();
    m.send(&3u8, 0, 2).unwrap();
    assert_eq!(m.recv::<u8>(0, 1).unwrap(), 1);
    // A receive of the wrong type consumes the message: it counts as received.
    assert!(m.recv::<String>(0, 1).is_err());
    assert_eq!(
        err(m.done()),
        "done(): messages sent but never received: rank 0 sent 3 objects to rank 0, which received 2"
    );
}

/// Without MPI, a panic in `run` goes on unwinding (there is no job to abort).
#[test]
fn a_panic_in_a_local_run_unwinds() {
    let r = std::panic::catch_unwind(|| {
        let _ = anam::mpi::run(false, |_| panic!("deliberate local panic"));
    });
    let payload = r.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"deliberate local panic")
    );
}

#[test]
fn ranks_that_do_not_exist_are_errors() {
    let m = local();
    let a = ArrayD::<f64>::zeros(IxDyn(&[2, 2]));
    let checks = [
        err(m.bcast(Some(1i32), 1)),
        err(m.bcast_obj(Some(Box::new(Store::new())), 1)),
        err(m.send(&1i32, 5, 0)),
        err(m.recv::<i32>(5, 0)),
        err(m.recv_obj(5, 0)),
        err(m.scatter_array(Some(&a), 1)),
        err(m.gather(&a, 1)),
        err(m.scatter_list(Some(&[1i32][..]), 1)),
    ];
    for e in checks {
        assert!(e.contains("does not exist") && e.contains("size 1"), "{e}");
    }
    assert!(err(m.send(&1i32, 5, 0)).contains("rank 5"));
    assert!(err(m.bcast(Some(1i32), 1)).contains("rank 1"));
    m.done().unwrap();
}

#[test]
fn run_without_mpi_returns_ok() {
    let mut seen = None;
    let r = anam::mpi::run(false, |m| {
        seen = Some((m.is_mpi(), m.rank(), m.size()));
        let v: i32 = m.bcast(Some(7), 0)?;
        assert_eq!(v, 7);
        Ok(())
    });
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(seen, Some((false, 0, 1)));
}

#[test]
fn a_local_handler_dropped_without_done_does_not_abort() {
    let m = local();
    drop(m);
}

// ---------------------------------------------------------------------------------------
// `run` with an error: it exits the process, so it runs in a child process.
// ---------------------------------------------------------------------------------------

const CHILD_ENV: &str = "ANAM_MPI_LOCAL_CHILD";

/// Not a test on its own: run by [`run_with_an_error_exits_with_the_message`].
#[test]
#[ignore = "run by run_with_an_error_exits_with_the_message in a child process"]
fn child_local_run_error() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let r = anam::mpi::run(false, |_| {
        Err(anam::Error::new(anam::ErrorKind::Invalid(
            "deliberate error in the local run".into(),
        )))
    });
    // `run` aborts: it never returns an error.
    panic!("run returned {r:?}");
}

#[test]
fn run_with_an_error_exits_with_the_message() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_local_run_error",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains("rank 0: deliberate error in the local run"),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains("run returned"), "stderr: {stderr}");
}
