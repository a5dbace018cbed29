//! Rust mirror of the Python module `test_classes3` of the anamnesis tutorials
//! (`tests/fixtures/generator/classes/test_classes3.py`).
//!
//! Included by the tutorial examples with
//! `#[path = "classes/test_classes3.rs"] mod test_classes3;`.

#![allow(dead_code)]

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

/// Python:
///
/// ```python
/// class CollectableSubjectStats(AbstractAnam):
///     hdf5_outputs = ['zstats', 'rts']
///     hdf5_defaultgroup = 'subjectstats'
/// ```
///
/// `zstats` is a `[width, height]` array and `rts` an `[ntrials]` array; each is stored as
/// one float64 dataset, as numpy arrays are.
#[anam::class(
    class = "test_classes3.CollectableSubjectStats",
    default_group = "subjectstats"
)]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct CollectableSubjectStats {
    #[serde(with = "anam::array")]
    pub zstats: Array2<f64>,
    #[serde(with = "anam::array")]
    pub rts: Array1<f64>,
}

impl CollectableSubjectStats {
    pub fn new(zstats: Array2<f64>, rts: Array1<f64>) -> Self {
        CollectableSubjectStats { zstats, rts }
    }
}

anam::collection! {
    /// Python:
    ///
    /// ```python
    /// class StatsCollection(AnamCollection):
    ///     anam_combine = ['zstats', 'rts']
    /// ```
    ///
    /// A list of [`CollectableSubjectStats`]; after `update_cache()`, `combined("zstats")`
    /// and `combined("rts")` are the members' arrays stacked along a new last axis.
    pub StatsCollection: "test_classes3.StatsCollection", kind StatsCollectionKind,
        of CollectableSubjectStats, combine [zstats, rts]
}
