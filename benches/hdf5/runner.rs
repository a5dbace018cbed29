//! Timing the cases: the JSON mode (fixed repetitions, medians, for `make bench-compare`)
//! and the Criterion mode (`cargo bench --bench hdf5`).

use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};

use crate::cases::{w1_cases, w1_sync_cases, w2_cases, w3_cases, w5_cases, write_with_floor, Case};
use crate::child::{peak_rss_kib, run_case, ChildMode};
use crate::env_flag;
use crate::workloads::Sizes;

// ---------------------------------------------------------------------------------------
// Time limits: W3's cases run in child processes with one (see the notes in `main.rs`).

/// JSON mode: the time limit of each W3 case's child (writes and reads).
fn w3_limit(sizes: &Sizes) -> Duration {
    Duration::from_secs(if sizes.quick { 30 } else { 60 })
}

/// Criterion mode: a W3 write slower than this (one write, in a child process with a limit
/// of [`PROBE_LIMIT_S`]) is not benchmarked, since Criterion takes at least 10 samples; its
/// case's reads are, on the file the floor writes (the same layout).
const SLOW_WRITE_S: f64 = 5.0;
const PROBE_LIMIT_S: f64 = 20.0;

// ---------------------------------------------------------------------------------------
// Timing.

fn median(t: &[f64]) -> Option<f64> {
    let mut t = t.to_vec();
    t.sort_by(f64::total_cmp);
    let n = t.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(t[n / 2]),
        _ => Some((t[n / 2 - 1] + t[n / 2]) / 2.0),
    }
}

// ---------------------------------------------------------------------------------------
// JSON mode: fixed repetitions, medians.

fn push_records(
    out: &mut Vec<serde_json::Value>,
    group: &str,
    c: &Case,
    ops: Vec<(&str, &[f64], serde_json::Value)>,
) {
    let mut line = format!("{group} {:<20} {:<11}", c.case, c.imp);
    for (op, samples, note) in ops {
        let m = median(samples);
        match m {
            Some(m) => line += &format!(" {op} {:>10.3} ms ({} reps)", m * 1e3, samples.len()),
            None => line += &format!(" {op} {:>13}", "-"),
        }
        let mut r = serde_json::json!({
            "group": group, "case": c.case, "op": op, "impl": c.imp, "items": c.items,
            "median_s": m, "reps": samples.len(), "samples_s": samples,
        });
        if let serde_json::Value::Object(extra) = note {
            for (k, v) in extra {
                line += &format!(" [{k}: {v}]");
                r[k] = v;
            }
        }
        out.push(r);
    }
    eprintln!("{line}");
}

/// Times the cases of one workload (anam and its floor) side by side: each round writes
/// once with every case in turn, then each round reads once with every case, so that
/// whatever the machine does meanwhile (page-cache writeback of the previous files, other
/// load) falls on both alike. Stops after `reps` rounds or when a case's samples add up
/// to `budget` seconds. A write-only case (no `read`) gets a write record only.
fn record(
    out: &mut Vec<serde_json::Value>,
    group: &str,
    cases: &mut [Case],
    reps: usize,
    warm: bool,
    budget: f64,
) {
    let rounds = |cases: &mut [Case], op: &dyn Fn(&mut Case) -> Option<f64>| {
        let mut samples = vec![Vec::with_capacity(reps); cases.len()];
        for _ in 0..reps {
            for (c, s) in cases.iter_mut().zip(samples.iter_mut()) {
                s.extend(op(c));
            }
            if samples.iter().any(|s| s.iter().sum::<f64>() >= budget) {
                break;
            }
        }
        samples
    };
    let writes = rounds(cases, &|c| {
        let _ = std::fs::remove_file(&c.path);
        let start = Instant::now();
        (c.write)();
        Some(start.elapsed().as_secs_f64())
    });
    if warm {
        for read in cases.iter_mut().filter_map(|c| c.read.as_mut()) {
            read();
        }
    }
    let reads = rounds(cases, &|c| {
        let read = c.read.as_mut()?;
        let start = Instant::now();
        read();
        Some(start.elapsed().as_secs_f64())
    });
    let none = serde_json::Value::Null;
    for ((c, w), r) in cases.iter().zip(&writes).zip(&reads) {
        // W5 compares file sizes too (the file of the last write).
        let size = match group {
            "W5" => std::fs::metadata(&c.path)
                .map(|m| serde_json::json!({ "file_bytes": m.len() }))
                .unwrap_or(serde_json::Value::Null),
            _ => none.clone(),
        };
        let _ = std::fs::remove_file(&c.path);
        let mut ops = vec![("write", &w[..], size)];
        if c.read.is_some() {
            ops.push(("read", &r[..], none.clone()));
        }
        push_records(out, group, c, ops);
    }
}

/// Like [`record`], in child processes with a time limit: when no write finishes in time,
/// the reads are of the file the floor writes (the same layout), and say so.
fn record_guarded(
    out: &mut Vec<serde_json::Value>,
    group: &str,
    c: &Case,
    reps: usize,
    dir: &Path,
    timeout: Duration,
) {
    let (writes, mut reads, timed_out) =
        run_case(group, &c.case, c.imp, ChildMode::Both, reps, dir, timeout);
    let limit = serde_json::json!({ "timeout_s": timeout.as_secs_f64() });
    let mut write_note = serde_json::Value::Null;
    let mut read_note = serde_json::Value::Null;
    if timed_out && writes.is_empty() {
        write_note = limit.clone();
        let (_, r, read_timed_out) = run_case(
            group,
            &c.case,
            c.imp,
            ChildMode::ReadFloorFile,
            reps,
            dir,
            timeout,
        );
        reads = r;
        read_note = if read_timed_out {
            serde_json::json!({ "timeout_s": timeout.as_secs_f64(), "file": "floor" })
        } else {
            serde_json::json!({ "file": "floor" })
        };
    } else if timed_out {
        read_note = limit;
    }
    push_records(
        out,
        group,
        c,
        vec![
            ("write", &writes[..], write_note),
            ("read", &reads[..], read_note),
        ],
    );
}

pub fn json_main(sizes: &Sizes, dir: &Path, out_path: &Path) {
    let q = sizes.quick;
    let budget = sizes.budget();
    let mut out = Vec::new();
    let started = Instant::now();
    // `ANAM_BENCH_ONLY=W4` (or `W1,W2`): only those workloads.
    let only = std::env::var("ANAM_BENCH_ONLY").ok();
    let run = |g: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|x| x.trim() == g))
    };

    // W1: the main comparison, with and without the array (with it, also the write-only
    // anam_nosync and floor_sync), then the curve.
    let reps = if q { 3 } else { 11 };
    for with_array in [true, false].into_iter().filter(|_| run("W1")) {
        let mut cases = w1_cases(dir, sizes.w1_n, with_array);
        if with_array {
            cases.extend(w1_sync_cases(dir, sizes.w1_n));
        }
        record(&mut out, "W1", &mut cases, reps, true, budget);
    }
    for &n in sizes.w1_curve.iter().filter(|_| run("W1")) {
        let reps = match (q, n) {
            (true, _) => 3,
            (false, n) if n >= 50_000 => 2,
            (false, n) if n >= 5_000 => 5,
            _ => 11,
        };
        let mut cases = w1_cases(dir, n, true);
        record(&mut out, "W1", &mut cases, reps, n < 50_000, budget);
    }

    // W2: times, then peak memory in child processes.
    let reps = if q { 3 } else { 5 };
    if run("W2") {
        record(
            &mut out,
            "W2",
            &mut w2_cases(dir, sizes),
            reps,
            true,
            budget,
        );
    }
    for which in ["data", "anam", "floor"].into_iter().filter(|_| run("W2")) {
        let kib = peak_rss_kib(which, sizes, dir);
        eprintln!("W2 peak RSS {which}: {kib:?} KiB");
        out.push(serde_json::json!({
            "group": "W2", "case": "peak_rss", "op": "write+read", "impl": which,
            "max_rss_kib": kib, "bytes": sizes.w2_bytes(),
        }));
    }

    // W4: lazy arrays (a 1 GiB `anam::Lazy` field: memory of the read, slice vs load).
    if run("W4") {
        crate::lazy::w4_json(q, dir, &mut out);
    }

    // W3, each case in a child process with a time limit.
    let timeout = w3_limit(sizes);
    for c in w3_cases(dir, sizes).into_iter().filter(|_| run("W3")) {
        let reps = if q { 3 } else { 11 };
        record_guarded(&mut out, "W3", &c, reps, dir, timeout);
    }

    // W5: a compressed array (gzip 1 + shuffle), times and file sizes.
    if run("W5") {
        let reps = if q { 3 } else { 5 };
        record(
            &mut out,
            "W5",
            &mut w5_cases(dir, sizes),
            reps,
            true,
            budget,
        );
    }

    let doc = serde_json::json!({
        "harness": "benches/hdf5",
        "quick": q,
        "sizes": {
            "w1_n": sizes.w1_n, "w1_curve": sizes.w1_curve, "w2_side": sizes.w2_side,
            "w2_bytes": sizes.w2_bytes(), "w3_depth": sizes.w3_depth,
            "w3_map": sizes.w3_map, "w3_list": sizes.w3_list,
            "w5_rows": sizes.w5_rows, "w5_cols": crate::workloads::W5_CHUNKS[1],
            "w5_chunks": crate::workloads::W5_CHUNKS, "w5_bytes": sizes.w5_bytes(),
        },
        "elapsed_s": started.elapsed().as_secs_f64(),
        "results": out,
    });
    std::fs::write(out_path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    eprintln!(
        "wrote {} in {:.0} s",
        out_path.display(),
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------------------------------
// Criterion mode.

/// Times `iters` runs of `op`, each after `prepare` (not timed).
fn timed(iters: u64, prepare: &mut dyn FnMut(), op: &mut dyn FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        prepare();
        let start = Instant::now();
        op();
        total += start.elapsed();
    }
    total
}

/// Registers the write and read of each case in `group`: `anam/write`, `floor/write`,
/// `anam/read`, `floor/read`, with the case as the parameter (a write-only case, such as
/// `anam_nosync` and `floor_sync`, has its write only). The writes of the cases in `slow`
/// are left out, and their reads read the floor's file.
fn bench_cases(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    cases: &mut [Case],
    slow: &[(String, &str)],
    throughput: impl Fn(&Case) -> Throughput,
) {
    let is_slow = |c: &Case| {
        slow.iter()
            .any(|(case, imp)| *case == c.case && *imp == c.imp)
    };
    for c in cases.iter_mut() {
        if is_slow(c) {
            continue;
        }
        group.throughput(throughput(c));
        let path = c.path.clone();
        let write = &mut c.write;
        group.bench_function(BenchmarkId::new(format!("{}/write", c.imp), &c.case), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    &mut || {
                        let _ = std::fs::remove_file(&path);
                    },
                    write,
                )
            })
        });
    }
    for i in 0..cases.len() {
        let c = &mut cases[i];
        if c.read.is_none() {
            continue;
        }
        group.throughput(throughput(c));
        let _ = std::fs::remove_file(&c.path);
        if is_slow(c) {
            write_with_floor(cases, i);
        } else {
            (c.write)();
        }
        let c = &mut cases[i];
        let read = c.read.as_mut().expect("a case with a read");
        group.bench_function(BenchmarkId::new(format!("{}/read", c.imp), &c.case), |b| {
            b.iter_custom(|iters| timed(iters, &mut || {}, read))
        });
        let _ = std::fs::remove_file(&c.path);
    }
}

/// The W3 cases whose one write, in a child process, takes longer than [`SLOW_WRITE_S`]
/// or does not finish within [`PROBE_LIMIT_S`]: `(case, imp)`.
fn slow_writes(cases: &[Case], dir: &Path) -> Vec<(String, &'static str)> {
    let mut slow = Vec::new();
    for c in cases {
        let limit = Duration::from_secs_f64(PROBE_LIMIT_S);
        let (writes, _, timed_out) =
            run_case("W3", &c.case, c.imp, ChildMode::WriteOnce, 1, dir, limit);
        if timed_out || writes.first().is_none_or(|&t| t > SLOW_WRITE_S) {
            let took = match writes.first() {
                Some(t) if !timed_out => format!("{t:.1} s"),
                _ => format!("more than {PROBE_LIMIT_S} s"),
            };
            eprintln!(
                "W3/{}/write/{}: one write takes {took}; not benchmarked here (see \
                 `make bench-compare`); its reads read the floor's file (the same layout)",
                c.imp, c.case
            );
            slow.push((c.case.clone(), c.imp));
        }
    }
    slow
}

pub fn criterion_main(sizes: &Sizes, dir: &Path) {
    let mut c = Criterion::default().configure_from_args();
    let short = |secs: u64| Duration::from_secs(if sizes.quick { 1 } else { secs });
    let elements = |c: &Case| Throughput::Elements(c.items as u64);

    {
        let mut g = c.benchmark_group("W1");
        g.sample_size(if sizes.quick { 10 } else { 20 })
            .warm_up_time(short(2))
            .measurement_time(short(5));
        let mut cases = w1_cases(dir, sizes.w1_n, true);
        cases.extend(w1_sync_cases(dir, sizes.w1_n));
        cases.extend(w1_cases(dir, sizes.w1_n, false));
        bench_cases(&mut g, &mut cases, &[], elements);
        drop(cases);
        // The per-object curve: few samples of the large N. Criterion takes at least 10
        // samples, and N = 100,000 takes seconds a write (BENCHMARKS.md's W1 curve): that
        // point only with ANAM_BENCH_LARGE=1 (the JSON mode always measures it, with 2
        // repetitions).
        let large = env_flag("ANAM_BENCH_LARGE");
        g.sample_size(10).sampling_mode(SamplingMode::Flat);
        for &n in &sizes.w1_curve {
            if n == sizes.w1_n {
                continue;
            }
            if n >= 50_000 && !large {
                eprintln!("W1 N = {n}: skipped (ANAM_BENCH_LARGE=1 to run it)");
                continue;
            }
            g.measurement_time(short(if n >= 50_000 { 30 } else { 5 }));
            let mut cases = w1_cases(dir, n, true);
            bench_cases(&mut g, &mut cases, &[], elements);
        }
        g.finish();
    }
    {
        let mut g = c.benchmark_group("W2");
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(short(2))
            .measurement_time(short(10));
        let mut cases = w2_cases(dir, sizes);
        bench_cases(&mut g, &mut cases, &[], |c| {
            Throughput::Bytes(c.items as u64)
        });
        g.finish();
    }
    {
        let mut g = c.benchmark_group("W5");
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(short(2))
            .measurement_time(short(20));
        let mut cases = w5_cases(dir, sizes);
        bench_cases(&mut g, &mut cases, &[], |c| {
            Throughput::Bytes(c.items as u64)
        });
        g.finish();
    }
    {
        let mut cases = w3_cases(dir, sizes);
        // One write of each case in a child first, as a guard: a write that has become
        // slow would hold Criterion up for 10 samples and more.
        let slow = slow_writes(&cases, dir);
        let mut g = c.benchmark_group("W3");
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(short(2))
            .measurement_time(short(5));
        bench_cases(&mut g, &mut cases, &slow, elements);
        g.finish();
    }
    c.final_summary();
}
