//! File space under replacement (`docs/FORMAT.md`, "File space"): the file's size after an
//! object is written once and after it is written N times in place of itself. Sizes, not
//! times.

use std::path::Path;

use ndarray::Array1;
use serde::Serialize;

use crate::workloads::SmallObject;

/// One 8 MiB `f64` array and a string.
#[derive(Serialize)]
#[serde(rename = "bench_classes.BigObject")]
struct BigObject {
    label: String,
    #[serde(with = "anam::array")]
    data: Array1<f64>,
}

fn small(i: usize) -> SmallObject {
    SmallObject {
        name: format!("object {i}"),
        value: i as i64,
        data: Array1::from(vec![i as f64, i as f64 + 0.5, -(i as f64)]),
    }
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Writes `n` versions of one object (the first makes the file), by `to_file` each time or
/// by `File::write` in one open file; the sizes after the first and after the last.
fn replace<T: Serialize>(
    path: &Path,
    n: usize,
    one_file: bool,
    value: impl Fn(usize) -> T,
) -> (u64, u64) {
    let _ = std::fs::remove_file(path);
    anam::to_file(path, "obj", &value(0)).expect("first write");
    let first = size(path);
    if one_file {
        let file = anam::File::open_rw(path).expect("open");
        for i in 1..n {
            file.write("obj", &value(i)).expect("write");
        }
    } else {
        for i in 1..n {
            anam::to_file(path, "obj", &value(i)).expect("to_file");
        }
    }
    let last = size(path);
    let _ = std::fs::remove_file(path);
    (first, last)
}

/// The records of the space workload: N = 1,000 (100 quick).
pub fn records(dir: &Path, quick: bool) -> Vec<serde_json::Value> {
    let n = if quick { 100 } else { 1000 };
    let data: Array1<f64> = Array1::from_shape_fn(1 << 20, |i| i as f64);
    let big = |i: usize| {
        let mut data = data.clone();
        data[0] = i as f64;
        BigObject {
            label: "big".into(),
            data,
        }
    };
    let path = dir.join("space.hdf5");
    let mut out = Vec::new();
    let mut push = |case: &str, op: &str, (first, last): (u64, u64)| {
        eprintln!("space {case} {op}: {first} bytes after 1, {last} after {n}");
        out.push(serde_json::json!({
            "group": "space", "case": case, "op": op, "impl": "anam", "n": n,
            "bytes_after_1": first, "bytes_after_n": last,
        }));
    };
    push("8 MiB object", "to_file", replace(&path, n, false, big));
    push("8 MiB object", "File::write", replace(&path, n, true, big));
    push("small object", "to_file", replace(&path, n, false, small));
    push(
        "small object",
        "File::write",
        replace(&path, n, true, small),
    );
    out
}
