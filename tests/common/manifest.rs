//! The fixtures written by Python anamnesis 1.0.4 (tests/fixtures/anamnesis-1.0.4) and
//! their `manifest.json`, with the numpy formulas the manifest states for arrays.
//!
//! Part of `mod common;`; `tests/value.rs` includes it on its own with
//! `#[path = "common/manifest.rs"] mod manifest;` (it needs no mirror classes).
#![allow(dead_code)]

use std::path::PathBuf;

use ndarray::{Array1, Array2};
use serde_json::Value as Json;

/// The path of a fixture file.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/anamnesis-1.0.4")
        .join(name)
}

pub fn manifest() -> Json {
    let text = std::fs::read_to_string(fixture("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("manifest is JSON")
}

/// The manifest entry for `file`/`group`.
pub fn entry(file: &str, group: &str) -> Json {
    manifest()[file][group].clone()
}

/// numpy's `linspace(start, stop, num)`.
pub fn linspace(start: f64, stop: f64, num: usize) -> Vec<f64> {
    let step = (stop - start) / (num - 1) as f64;
    let mut v: Vec<f64> = (0..num).map(|i| start + i as f64 * step).collect();
    v[num - 1] = stop;
    v
}

/// Equal to within 1e-12, relative (absolute below 1).
pub fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * b.abs().max(1.0)
}

/// Checks that the manifest still states the formulas of tutorial 3's collection that
/// [`check_tutorial3_member`] implements.
pub fn check_tutorial3_formulas(m: &Json) {
    assert_eq!(m["class"], "test_classes3.StatsCollection");
    assert_eq!(m["member class"], "test_classes3.CollectableSubjectStats");
    assert_eq!(
        m["member p zstats"],
        "arange(100).reshape(10,10)*0.5 + p  (float64)"
    );
    assert_eq!(m["member p rts"], "linspace(0, 450, 100) + p  (float64)");
}

/// Checks member `p` of tutorial 3's collection against the manifest's formulas.
pub fn check_tutorial3_member(p: usize, zstats: &Array2<f64>, rts: &Array1<f64>) {
    let want = Array2::from_shape_fn((10, 10), |(i, j)| (i * 10 + j) as f64 * 0.5 + p as f64);
    assert_eq!(*zstats, want, "member {p} zstats");
    assert_eq!(rts.len(), 100, "member {p} rts");
    for (k, (got, want)) in rts.iter().zip(linspace(0.0, 450.0, 100)).enumerate() {
        let want = want + p as f64;
        assert!(close(*got, want), "member {p} rts[{k}] = {got}, not {want}");
    }
}
