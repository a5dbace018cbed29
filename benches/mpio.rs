//! Parallel HDF5 benchmarks (feature `mpio`): every rank writing its part of one file,
//! beside gathering everything to rank 0 and writing serially, and beside a C-API parallel
//! HDF5 program writing the same hyperslabs (the floor). Run with 2 ranks against the
//! MPI-enabled HDF5 (`make bench-compare` runs it):
//!
//! ```sh
//! HDF5_DIR=/usr/lib/x86_64-linux-gnu/hdf5/mpich CARGO_TARGET_DIR=target/mpio \
//!   cargo bench --features mpio --bench mpio --no-run
//! HYDRA_LAUNCHER=fork mpiexec -n 2 target/mpio/release/deps/mpio-HASH --bench
//! ```
//!
//! - **PA**: a distributed f64 array of 512 MiB (half on each rank): `write_array_rows`;
//!   `gather` to rank 0 plus `anam::to_file` of it there; the floor: `H5Fcreate` with the
//!   MPI-IO driver, `H5Dcreate2`, one collective `H5Dwrite` of each rank's hyperslab,
//!   closes; then (`floor + sync`) rank 0 syncs the file to disk, as our writers do before a
//!   new file is linked into place (failure-atomic new files, `docs/FORMAT.md`).
//! - **PB**: a collection of 20,000 members (a name, an index and 1,000 f64 values each):
//!   `write_collection`, against `gather_list` to rank 0 plus `anam::to_file` there.
//! - **PM**: PB's memory: each rank's peak resident memory during one call of each variant,
//!   above its resident memory before the call (Linux: `VmHWM`, reset through
//!   `/proc/self/clear_refs`, less `VmRSS` before), beside the bytes of the arrays that rank
//!   holds.
//!
//! Every write makes a new file (removed after it); each sample is `barrier; start; write;
//! barrier; stop` on rank 0, the variants taken in turns so that all see the same load.
//! `ANAM_BENCH_QUICK=1` shrinks the sizes (a smoke run), `ANAM_BENCH_DIR` is where the
//! files go (default: the system's temporary directory).

use std::ffi::CString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anam::{AnamCollection, MpiHandler};
use hdf5_sys::h5::hsize_t;
use hdf5_sys::h5d::{H5Dclose, H5Dcreate2, H5Dwrite};
use hdf5_sys::h5f::{H5Fclose, H5Fcreate, H5F_ACC_TRUNC};
use hdf5_sys::h5p::{
    H5FD_mpio_xfer_t, H5Pclose, H5Pcreate, H5Pset_dxpl_mpio, H5Pset_fapl_mpio,
    H5P_CLS_DATASET_XFER, H5P_CLS_FILE_ACCESS, H5P_DEFAULT,
};
use hdf5_sys::h5s::{H5S_seloper_t, H5Sclose, H5Screate_simple, H5Sselect_hyperslab};
use hdf5_sys::h5t::H5T_NATIVE_DOUBLE;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use ndarray::{s, Array1, Array2};
use serde::{Deserialize, Serialize};

#[anam::class(class = "bench.Member")]
#[derive(Serialize, Deserialize, Clone)]
struct Member {
    name: String,
    index: i64,
    #[serde(with = "anam::array")]
    values: Array1<f64>,
}

/// The gathered array, written serially as one object's member.
#[anam::class(class = "bench.Rows")]
#[derive(Serialize, Deserialize, Clone)]
struct Rows {
    #[serde(with = "anam::array")]
    rows: Array2<f64>,
}

/// Columns of the distributed array (rows of 8 KiB).
const COLUMNS: usize = 1024;

/// Medians of `samples` timings of each operation, taken in turns.
fn time_turns(
    world: &SimpleCommunicator,
    samples: usize,
    ops: &mut [&mut dyn FnMut()],
) -> Vec<Duration> {
    for op in ops.iter_mut() {
        op(); // warm-up
    }
    let mut times = vec![Vec::with_capacity(samples); ops.len()];
    for _ in 0..samples {
        for (op, t) in ops.iter_mut().zip(&mut times) {
            world.barrier();
            let start = Instant::now();
            op();
            world.barrier();
            t.push(start.elapsed());
        }
    }
    times
        .into_iter()
        .map(|mut t| {
            t.sort();
            t[samples / 2]
        })
        .collect()
}

/// Checks an HDF5 status (the floor has no error handling beyond stopping).
fn ok(status: i64, what: &str) -> i64 {
    assert!(status >= 0, "floor: {what} failed");
    status
}

/// The floor: this rank's `rows` (starting at row `first` of `total`) written with the
/// C API of parallel HDF5 into a new file, collectively; with `sync`, rank 0 then syncs the
/// file to disk.
fn floor_write(
    world: &SimpleCommunicator,
    path: &Path,
    rows: &Array2<f64>,
    first: usize,
    total: usize,
    sync: bool,
) {
    let name = CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: plain HDF5 C calls on ids this function creates and closes; the buffer holds
    // the selected elements (a standard-layout array of `rows.len()` f64).
    unsafe {
        let fapl = ok(H5Pcreate(*H5P_CLS_FILE_ACCESS), "H5Pcreate");
        ok(
            H5Pset_fapl_mpio(fapl, world.as_raw(), mpi::ffi::RSMPI_INFO_NULL).into(),
            "H5Pset_fapl_mpio",
        );
        let file = ok(
            H5Fcreate(name.as_ptr(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl),
            "H5Fcreate",
        );
        let dims = [total as hsize_t, COLUMNS as hsize_t];
        let file_space = ok(
            H5Screate_simple(2, dims.as_ptr(), std::ptr::null()),
            "space",
        );
        let dset_name = CString::new("rows").unwrap();
        let dset = ok(
            H5Dcreate2(
                file,
                dset_name.as_ptr(),
                *H5T_NATIVE_DOUBLE,
                file_space,
                H5P_DEFAULT,
                H5P_DEFAULT,
                H5P_DEFAULT,
            ),
            "H5Dcreate2",
        );
        let count = [rows.nrows() as hsize_t, COLUMNS as hsize_t];
        let start = [first as hsize_t, 0];
        ok(
            H5Sselect_hyperslab(
                file_space,
                H5S_seloper_t::H5S_SELECT_SET,
                start.as_ptr(),
                std::ptr::null(),
                count.as_ptr(),
                std::ptr::null(),
            )
            .into(),
            "select",
        );
        let mem_space = ok(H5Screate_simple(2, count.as_ptr(), std::ptr::null()), "mem");
        let dxpl = ok(H5Pcreate(*H5P_CLS_DATASET_XFER), "dxpl");
        ok(
            H5Pset_dxpl_mpio(dxpl, H5FD_mpio_xfer_t::H5FD_MPIO_COLLECTIVE).into(),
            "H5Pset_dxpl_mpio",
        );
        ok(
            H5Dwrite(
                dset,
                *H5T_NATIVE_DOUBLE,
                mem_space,
                file_space,
                dxpl,
                rows.as_ptr().cast(),
            )
            .into(),
            "H5Dwrite",
        );
        for (close, id) in [
            (H5Pclose as unsafe extern "C" fn(i64) -> i32, dxpl),
            (H5Sclose, mem_space),
            (H5Sclose, file_space),
            (H5Dclose, dset),
            (H5Fclose, file),
            (H5Pclose, fapl),
        ] {
            ok(close(id).into(), "close");
        }
    }
    if sync && world.rank() == 0 {
        std::fs::File::open(path).unwrap().sync_all().unwrap();
    }
}

/// A field of `/proc/self/status` in KiB (Linux).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// How far this process's resident memory rose above where it stood while `op` ran, in
/// bytes (`None` where the kernel cannot reset the peak: not Linux).
fn peak_growth(op: &mut dyn FnMut()) -> Option<u64> {
    // "5" resets VmHWM, the peak resident set size, to the current one.
    std::fs::write("/proc/self/clear_refs", "5").ok()?;
    let before = status_kib("VmRSS:")?;
    op();
    let peak = status_kib("VmHWM:")?;
    Some(peak.saturating_sub(before) * 1024)
}

fn remove(m: &MpiHandler, path: &Path) {
    if m.rank() == 0 {
        let _ = std::fs::remove_file(path);
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs benches as tests: nothing to do without mpiexec.
        return;
    }
    let quick = std::env::var_os("ANAM_BENCH_QUICK").is_some_and(|v| !v.is_empty());
    let dir = std::env::var_os("ANAM_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let samples = if quick { 3 } else { 5 };
    anam::mpi::run(true, |m| {
        let world = SimpleCommunicator::world();
        let (size, rank) = (m.size(), m.rank());
        let file = |what: &str| dir.join(format!("mpio-bench-{what}.hdf5"));

        // PB: the distributed collection.
        let members = if quick { 2000 } else { 20000 };
        let (lo, hi) = m.get_scatter_indices(members)[rank];
        let share: AnamCollection<Member> = (lo..hi)
            .map(|i| Member {
                name: format!("member {i}"),
                index: i as i64,
                values: Array1::from_shape_fn(1000, |k| (i * 1000 + k) as f64),
            })
            .collect::<Vec<_>>()
            .into();
        let (ca, cg) = (file("ca"), file("cg"));
        // PM: the memory of one call of each, on every rank, first (before the other
        // workloads leave freed memory resident, which a later call would reuse unseen),
        // write_collection before gather + serial (which needs more).
        let anam_growth = peak_growth(&mut || {
            m.write_collection(&ca, "members", &share).unwrap();
            remove(m, &ca);
        });
        let gather_growth = peak_growth(&mut || {
            let all = m.gather_list(share.as_slice(), rank == 0).unwrap();
            if rank == 0 {
                let all: AnamCollection<Member> = all.into();
                anam::to_file(&cg, "members", &all).unwrap();
                remove(m, &cg);
            }
        });
        let array_bytes = ((hi - lo) * 1000 * 8) as u64;
        let memory = m
            .gather_list(&[(array_bytes, anam_growth, gather_growth)], rank == 0)
            .unwrap();


        // PA: the distributed array.
        let total_rows = if quick { 2048 } else { 65536 }; // 512 MiB of f64 at 8 KiB a row
        let (first, end) = m.get_scatter_indices(total_rows)[rank];
        let rows = Array2::from_shape_fn((end - first, COLUMNS), |(r, c)| {
            ((first + r) * COLUMNS + c) as f64
        });
        let (pa, pg, pf, ps) = (file("pa"), file("pg"), file("pf"), file("ps"));
        let array_times = time_turns(
            &world,
            samples,
            &mut [
                &mut || {
                    m.write_array_rows(&pa, "rows", &rows).unwrap();
                    remove(m, &pa);
                },
                &mut || {
                    if let Some(all) = m.gather(&rows, 0).unwrap() {
                        anam::to_file(&pg, "data", &Rows { rows: all }).unwrap();
                        remove(m, &pg);
                    }
                },
                &mut || {
                    floor_write(&world, &pf, &rows, first, total_rows, false);
                    remove(m, &pf);
                },
                &mut || {
                    floor_write(&world, &ps, &rows, first, total_rows, true);
                    remove(m, &ps);
                },
            ],
        );
        // The array written is the array passed.
        m.write_array_rows(&pa, "rows", &rows).unwrap();
        let back: Array2<f64> = m.read_array_rows(&pa, "rows").unwrap();
        assert_eq!(back.slice(s![.., ..]), rows.slice(s![.., ..]));
        remove(m, &pa);

        let collection_times = time_turns(
            &world,
            samples,
            &mut [
                &mut || {
                    m.write_collection(&ca, "members", &share).unwrap();
                    remove(m, &ca);
                },
                &mut || {
                    let all = m.gather_list(share.as_slice(), rank == 0).unwrap();
                    if rank == 0 {
                        let all: AnamCollection<Member> = all.into();
                        anam::to_file(&cg, "members", &all).unwrap();
                        remove(m, &cg);
                    }
                },
            ],
        );

        if rank == 0 {
            let us = |d: Duration| format!("{:.1} us", d.as_secs_f64() * 1e6);
            let mb = |b: Option<u64>| b.map_or(String::new(), |b| format!("{:.1} MB", b as f64 / 1e6));
            let mib = (total_rows * COLUMNS * 8) >> 20;
            println!("Parallel HDF5 benchmarks, {size} ranks, medians (rank 0 wall time, barrier to barrier)");
            println!("| operation | anam | gather + serial | floor | floor + sync |");
            println!("|---|---:|---:|---:|---:|");
            println!(
                "| PA distributed f64 array, {mib} MiB | {} | {} | {} | {} |",
                us(array_times[0]),
                us(array_times[1]),
                us(array_times[2]),
                us(array_times[3])
            );
            println!(
                "| PB collection of {members} members | {} | {} | | |",
                us(collection_times[0]),
                us(collection_times[1])
            );
            for (r, (bytes, anam, gathered)) in memory.iter().enumerate() {
                println!(
                    "| PM peak memory growth during PB, rank {r} ({} of arrays there) | {} | {} | | |",
                    mb(Some(*bytes)),
                    mb(*anam),
                    mb(*gathered)
                );
            }
        }
        Ok(())
    })
    .unwrap();
}
