//! W4, lazy arrays (`anam::Lazy`): a struct whose array field is 1 GiB of `f64`
//! (16384 x 8192; 64 MiB in the quick mode), stored as one contiguous dataset as
//! `anam::array` writes it. Measured: the resident memory that reading the struct adds
//! (`/proc/self/statm`, before and after `from_file`), the median time of a full
//! `Lazy::load`, and of a 1 MiB `Lazy::slice` (128 rows x 1024 columns).

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use anam::ndarray::{s, Array2};
use anam::Lazy;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
#[serde(rename = "bench.LazyHolder")]
struct Holder {
    label: String,
    #[serde(default, skip_serializing)]
    samples: Option<Lazy<Array2<f64>>>,
}

/// The rows and columns of W4's array.
fn dims(quick: bool) -> (usize, usize) {
    if quick {
        (1024, 8192)
    } else {
        (16384, 8192)
    }
}

fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}

fn median(mut t: Vec<f64>) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// Writes the file: the object with anam, then its array a block of rows at a time with
/// direct `hdf5` calls (a contiguous dataset, as `anam::array` writes one).
fn make_file(path: &Path, rows: usize, cols: usize) {
    anam::to_file(
        path,
        "holder",
        &Holder {
            label: "w4".into(),
            samples: None,
        },
    )
    .unwrap();
    let file = anam::File::open_rw(path).unwrap();
    let group = file.hdf5().group("holder").unwrap();
    let ds = group
        .new_dataset::<f64>()
        .shape([rows, cols])
        .create("samples")
        .unwrap();
    let block = 512;
    for start in (0..rows).step_by(block) {
        let n = block.min(rows - start);
        let a = Array2::from_shape_fn((n, cols), |(i, j)| ((start + i) * cols + j) as f64);
        ds.write_slice(&a, s![start..start + n, ..]).unwrap();
    }
    file.hdf5().flush().unwrap();
}

/// Runs W4 and appends its records (JSON mode).
pub fn w4_json(quick: bool, dir: &Path, out: &mut Vec<serde_json::Value>) {
    let (rows, cols) = dims(quick);
    let bytes = rows * cols * 8;
    let path = dir.join("w4_lazy.hdf5");
    let _ = std::fs::remove_file(&path);
    make_file(&path, rows, cols);

    let before = resident_bytes();
    let holder: Holder = anam::from_file(&path, None).unwrap();
    let grown = resident_bytes().saturating_sub(before);
    let lazy = holder.samples.as_ref().expect("the array field");
    assert_eq!(lazy.shape(), &[rows, cols]);
    eprintln!("W4 resident growth reading the struct: {grown} bytes");
    out.push(serde_json::json!({
        "group": "W4", "case": "lazy", "op": "from_file", "impl": "anam",
        "rss_growth_bytes": grown, "bytes": bytes,
    }));

    let full_reps = if quick { 3 } else { 5 };
    let slice_reps = 21;
    // Warm the page cache once, as for the other reads.
    black_box(lazy.load().unwrap());
    let full: Vec<f64> = (0..full_reps)
        .map(|_| {
            let start = Instant::now();
            black_box(lazy.load().unwrap());
            start.elapsed().as_secs_f64()
        })
        .collect();
    let (r0, c0) = (rows / 2, cols / 4);
    let slice: Vec<f64> = (0..slice_reps)
        .map(|_| {
            let start = Instant::now();
            let a = lazy.slice(s![r0..r0 + 128, c0..c0 + 1024]).unwrap();
            let t = start.elapsed().as_secs_f64();
            assert_eq!(a[[1, 2]], ((r0 + 1) * cols + c0 + 2) as f64);
            t
        })
        .collect();
    let (full_m, slice_m) = (median(full.clone()), median(slice.clone()));
    eprintln!(
        "W4 full load {:.1} ms, 1 MiB slice {:.3} ms, ratio {:.4}",
        full_m * 1e3,
        slice_m * 1e3,
        slice_m / full_m
    );
    for (op, samples, m) in [("load", full, full_m), ("slice_1mib", slice, slice_m)] {
        out.push(serde_json::json!({
            "group": "W4", "case": "lazy", "op": op, "impl": "anam", "bytes": bytes,
            "median_s": m, "reps": samples.len(), "samples_s": samples,
        }));
    }
    drop(holder);
    let _ = std::fs::remove_file(&path);
}
