//! MPI benchmarks: each operation of `MpiHandler` beside the raw MPI call moving the same
//! bytes, medians side by side. Run with 2 ranks (`make bench-compare` runs it):
//!
//! ```sh
//! cargo build --release --features mpi --bench mpi
//! HYDRA_LAUNCHER=fork mpiexec -n 2 target/release/deps/mpi-HASH --bench
//! ```
//!
//! Each sample is `barrier; start; operation; barrier; stop` on rank 0, so it covers the
//! operation on every rank; the raw floor is measured the same way.

use std::hint::black_box;
use std::time::{Duration, Instant};

use anam::{AnamCollection, MpiHandler, NdArray};
use mpi::datatype::{Partition, PartitionMut};
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use ndarray::{Array1, ArrayD, IxDyn};
use serde::{Deserialize, Serialize};

#[anam::class(class = "bench.SmallObject")]
#[derive(Serialize, Deserialize, Clone)]
struct SmallObject {
    name: String,
    age: i64,
}

#[anam::class(class = "bench.ArrayObject")]
#[derive(Serialize, Deserialize, Clone)]
struct ArrayObject {
    label: String,
    #[serde(with = "anam::array")]
    data: ArrayD<f64>,
}

#[anam::class(class = "bench.Member")]
#[derive(Serialize, Deserialize, Clone)]
struct Member {
    name: String,
    index: i64,
    #[serde(with = "anam::array")]
    values: Array1<f64>,
}

anam::collection! {
    /// 50 members for M2.
    Members: "bench.Members", kind MembersKind, of Member, combine [values]
}

const MIB32: usize = 32 << 20;

/// Median of `samples` timings of `op` (with barriers around), on rank 0.
fn time(world: &SimpleCommunicator, samples: usize, mut op: impl FnMut()) -> Duration {
    op(); // warm-up
    let mut t = Vec::with_capacity(samples);
    for _ in 0..samples {
        world.barrier();
        let start = Instant::now();
        op();
        world.barrier();
        t.push(start.elapsed());
    }
    t.sort();
    t[samples / 2]
}

/// Medians of `samples` timings of `a` and of `b`, taken in turns (`a`, `b`, `a`, ...), so
/// that both see the same load on a busy machine.
fn time_pair(
    world: &SimpleCommunicator,
    samples: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (Duration, Duration) {
    a(); // warm-up
    b();
    let (mut ta, mut tb) = (Vec::with_capacity(samples), Vec::with_capacity(samples));
    for _ in 0..samples {
        for (op, t) in [(&mut a as &mut dyn FnMut(), &mut ta), (&mut b, &mut tb)] {
            world.barrier();
            let start = Instant::now();
            op();
            world.barrier();
            t.push(start.elapsed());
        }
    }
    ta.sort();
    tb.sort();
    (ta[samples / 2], tb[samples / 2])
}

/// A newly allocated receive buffer, backed by transparent huge pages as anam's receive
/// buffers are (and numpy's large arrays): the floor for receiving into new memory.
fn fresh_buffer(len: usize) -> Vec<u8> {
    let mut buf = vec![0u8; len];
    const PAGE: usize = 4096;
    let start = (buf.as_mut_ptr() as usize).div_ceil(PAGE) * PAGE;
    let end = (buf.as_mut_ptr() as usize + len) / PAGE * PAGE;
    if end > start {
        // SAFETY: a page-aligned range inside `buf`; the advice never changes contents.
        unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
    }
    buf
}

fn raw_bcast(world: &SimpleCommunicator, buf: &mut [u8]) {
    world.process_at_rank(0).broadcast_into(buf);
}

fn main() {
    let m = MpiHandler::new(true).expect("MPI");
    let world = SimpleCommunicator::world();
    let (rank, size) = (m.rank(), m.size());
    let mut rows: Vec<(String, Duration, Duration)> = Vec::new();

    // M1: a small object (two scalar fields) against one raw 64-byte broadcast.
    let small = SmallObject {
        name: "Fred".into(),
        age: 42,
    };
    let ours = time(&world, 2001, || {
        let v = (rank == 0).then(|| small.clone());
        black_box(m.bcast(v, 0).unwrap());
    });
    let mut buf64 = [0u8; 64];
    let raw = time(&world, 2001, || raw_bcast(&world, &mut buf64));
    rows.push((
        "M1 bcast small object (vs 64 B MPI_Bcast)".into(),
        ours,
        raw,
    ));

    // P1: a small object sent to rank 1 and back (a round trip of `send`/`recv`) against
    // the same round trip of 64-byte MPI messages. It needs two ranks: `cargo test
    // --all-targets` runs this bench once as a single process.
    if size >= 2 {
        let ours = time(&world, 2001, || match rank {
            0 => {
                m.send(&small, 1, 5).unwrap();
                black_box(m.recv::<SmallObject>(1, 5).unwrap());
            }
            1 => {
                let got: SmallObject = m.recv(0, 5).unwrap();
                m.send(&got, 0, 5).unwrap();
            }
            _ => {}
        });
        let raw = time(&world, 2001, || match rank {
            0 => {
                world.process_at_rank(1).send_with_tag(&buf64[..], 5);
                world
                    .process_at_rank(1)
                    .receive_into_with_tag(&mut buf64[..], 5);
            }
            1 => {
                world
                    .process_at_rank(0)
                    .receive_into_with_tag(&mut buf64[..], 5);
                world.process_at_rank(0).send_with_tag(&buf64[..], 5);
            }
            _ => {}
        });
        rows.push((
            "P1 send/recv round trip of a small object (vs 64 B MPI_Send/MPI_Recv)".into(),
            ours,
            raw,
        ));
    }

    // M2: a collection of 50 members (each a string, an int and a 3-element array).
    let members: Members = (0..50)
        .map(|i| Member {
            name: format!("m{i}"),
            index: i,
            values: Array1::from(vec![i as f64; 3]),
        })
        .collect();
    let encoded = anam::wire::to_bytes(&members).unwrap().len();
    let ours = time(&world, 501, || {
        let v = (rank == 0).then(|| members.clone());
        black_box(
            m.bcast::<AnamCollection<Member, MembersKind>>(v, 0)
                .unwrap(),
        );
    });
    let mut bufc = vec![0u8; encoded];
    let raw = time(&world, 501, || raw_bcast(&world, &mut bufc));
    rows.push((
        format!("M2 bcast 50-member collection (vs {encoded} B MPI_Bcast)"),
        ours,
        raw,
    ));

    // M3: an object holding a 32 MiB f64 array against a raw 32 MiB broadcast.
    let n = MIB32 / 8;
    // The root hands its object over and gets it back (no copy); receivers get a new one.
    let mut held = (rank == 0).then(|| ArrayObject {
        label: "big".into(),
        data: ArrayD::from_elem(IxDyn(&[n]), 1.5),
    });
    let ours = time(&world, 41, || {
        let got = m.bcast(held.take(), 0).unwrap();
        if rank == 0 {
            held = Some(got);
        } else {
            black_box(got);
        }
    });
    let mut raw_buf = vec![1u8; MIB32];
    let raw = time(&world, 41, || raw_bcast(&world, &mut raw_buf));
    rows.push((
        "M3 bcast object with 32 MiB f64 array (vs 32 MiB MPI_Bcast, warm buffer)".into(),
        ours,
        raw,
    ));
    // The same raw broadcast into a newly allocated buffer on the receivers, as a decoded
    // object must be: the page faults of fresh memory are part of this floor.
    let raw_fresh = time(&world, 41, || {
        if rank == 0 {
            raw_bcast(&world, &mut raw_buf);
        } else {
            let mut fresh = fresh_buffer(MIB32);
            raw_bcast(&world, &mut fresh);
            black_box(fresh);
        }
    });
    rows.push((
        "M3 (same) vs 32 MiB MPI_Bcast into a new buffer".into(),
        ours,
        raw_fresh,
    ));

    // M3 into: the same 32 MiB broadcast into an existing array (`bcast_array_into`), beside
    // the raw broadcast into a warm buffer, their samples taken in turns.
    let mut into = ArrayD::from_elem(IxDyn(&[n]), if rank == 0 { 1.5 } else { 0.0 });
    let (ours, raw) = time_pair(
        &world,
        41,
        || m.bcast_array_into(&mut into, 0).unwrap(),
        || raw_bcast(&world, &mut raw_buf),
    );
    assert!(into.iter().all(|&x| x == 1.5));
    rows.push((
        "M3 into: bcast_array_into of a 32 MiB f64 array (vs 32 MiB MPI_Bcast, warm buffer)".into(),
        ours,
        raw,
    ));

    // Scatter and gather of 32 MiB (rows of 1 KiB) against raw Scatterv / Gatherv.
    let total_rows = MIB32 / 1024;
    let full: ArrayD<f64> = ArrayD::from_elem(IxDyn(&[total_rows, 128]), 2.0);
    let ours = time(&world, 41, || {
        black_box(m.scatter_array((rank == 0).then_some(&full), 0).unwrap());
    });
    let parts = m.get_scatter_indices(total_rows);
    let counts: Vec<i32> = parts.iter().map(|(a, b)| ((b - a) * 1024) as i32).collect();
    let displs: Vec<i32> = parts.iter().map(|(a, _)| (a * 1024) as i32).collect();
    // Written memory: an untouched zeroed buffer reads from the kernel's shared zero page.
    let send = vec![1u8; MIB32];
    let mut recv = vec![0u8; counts[rank] as usize];
    let raw = time(&world, 41, || {
        let root = world.process_at_rank(0);
        if rank == 0 {
            root.scatter_varcount_into_root(
                &Partition::new(&send[..], &counts[..], &displs[..]),
                &mut recv[..],
            );
        } else {
            root.scatter_varcount_into(&mut recv[..]);
        }
    });
    rows.push((
        "scatter_array 32 MiB (vs MPI_Scatterv, warm buffers)".into(),
        ours,
        raw,
    ));
    let raw_fresh = time(&world, 41, || {
        let root = world.process_at_rank(0);
        let mut fresh = fresh_buffer(counts[rank] as usize);
        if rank == 0 {
            root.scatter_varcount_into_root(
                &Partition::new(&send[..], &counts[..], &displs[..]),
                &mut fresh[..],
            );
        } else {
            root.scatter_varcount_into(&mut fresh[..]);
        }
        black_box(fresh);
    });
    rows.push((
        "scatter_array 32 MiB vs MPI_Scatterv into new buffers".into(),
        ours,
        raw_fresh,
    ));

    let (a, b) = parts[rank];
    let mine: ArrayD<f64> = ArrayD::from_elem(IxDyn(&[b - a, 128]), 3.0);
    let ours = time(&world, 41, || {
        black_box(m.gather(&mine, 0).unwrap());
    });
    let mine_bytes = vec![1u8; counts[rank] as usize];
    let mut all = vec![0u8; MIB32];
    let raw = time(&world, 41, || {
        let root = world.process_at_rank(0);
        if rank == 0 {
            root.gather_varcount_into_root(
                &mine_bytes[..],
                &mut PartitionMut::new(&mut all[..], &counts[..], &displs[..]),
            );
        } else {
            root.gather_varcount_into(&mine_bytes[..]);
        }
    });
    rows.push((
        "gather 32 MiB (vs MPI_Gatherv, warm buffers)".into(),
        ours,
        raw,
    ));
    let raw_fresh = time(&world, 41, || {
        let root = world.process_at_rank(0);
        if rank == 0 {
            let mut fresh = fresh_buffer(MIB32);
            root.gather_varcount_into_root(
                &mine_bytes[..],
                &mut PartitionMut::new(&mut fresh[..], &counts[..], &displs[..]),
            );
            black_box(fresh);
        } else {
            root.gather_varcount_into(&mine_bytes[..]);
        }
    });
    rows.push((
        "gather 32 MiB vs MPI_Gatherv into a new buffer".into(),
        ours,
        raw_fresh,
    ));

    // Encoded sizes, for the record.
    let small_size = anam::wire::to_bytes(&small).unwrap().len();
    let array_payload = anam::wire::to_bytes(&NdArray(ArrayD::<f64>::zeros(IxDyn(&[1000]))))
        .unwrap()
        .len();

    if rank == 0 {
        println!("MPI benchmarks, {size} ranks, medians (rank 0 wall time, barrier to barrier)");
        println!("| operation | anam | raw MPI | ratio |");
        println!("|---|---:|---:|---:|");
        for (name, ours, raw) in &rows {
            if raw.is_zero() {
                println!("| {name} | {:.1} us | | |", ours.as_secs_f64() * 1e6);
            } else {
                println!(
                    "| {name} | {:.1} us | {:.1} us | {:.2}x |",
                    ours.as_secs_f64() * 1e6,
                    raw.as_secs_f64() * 1e6,
                    ours.as_secs_f64() / raw.as_secs_f64()
                );
            }
        }
        println!("encoded sizes: small object {small_size} B; 1000-element f64 NdArray {array_payload} B");
    }
    m.done().expect("every message sent was received");
}
