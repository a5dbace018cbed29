//! Serialisation tutorial 3, `test_script3_write.py`: writes a `StatsCollection` of five
//! `CollectableSubjectStats` to the group `data` of `test_script3.hdf5`.
//!
//! The Python tutorial simulates the data with `np.random.randn`; this uses deterministic
//! data instead, so that the output and the files can be checked (the Python script in
//! `tests/python/tutorial_scripts/test_script3_write.py` writes the same):
//! for person `p` in `0..5`, `zstats = np.arange(100).reshape(10, 10) * 0.5 + p` and
//! `rts = np.linspace(0, 450, 100) + p`.

#[path = "classes/test_classes3.rs"]
mod test_classes3;

use ndarray::{Array1, Array2};
use test_classes3::{CollectableSubjectStats, StatsCollection};

fn main() -> anam::Result<()> {
    // Create a collection to put our data into
    let mut collection = StatsCollection::new();

    // Five people's worth of data
    for person in 0..5 {
        let p = person as f64;
        // 10x10 zstats - low resolution image!
        let zstats = Array2::from_shape_fn((10, 10), |(i, j)| (i * 10 + j) as f64 * 0.5 + p);
        // 100 trials - from 0 to 450ms
        let rts = linspace(0.0, 450.0, 100) + p;
        collection.push(CollectableSubjectStats::new(zstats, rts));
    }

    // Write the data to a file
    let f = anam::hdf5::File::create("test_script3.hdf5")?;
    anam::to_group(&collection, &f.create_group("data")?)?;
    f.close()?;
    Ok(())
}

/// `np.linspace(start, stop, num)`, computed as numpy computes it (`i * step + start`, the
/// last element exactly `stop`), so that both write the same bits.
fn linspace(start: f64, stop: f64, num: usize) -> Array1<f64> {
    let step = (stop - start) / (num - 1) as f64;
    let mut a = Array1::from_shape_fn(num, |i| i as f64 * step + start);
    a[num - 1] = stop;
    a
}
