//! Serialisation tutorial 3, `test_script3_read.py`: loads the collection of
//! `test_script3.hdf5`, prints each member's `zstats` shape, minimum and maximum, then the
//! shapes of the stacked (combined) `zstats` and `rts`.
//!
//! Run `tutorial3_write` (or Python's `test_script3_write.py`) first.

#[path = "classes/test_classes3.rs"]
mod test_classes3;

use test_classes3::StatsCollection;

fn main() -> anam::Result<()> {
    // Load our collection of data (the first group of the file: `data`)
    let c = anam::obj_from_file("test_script3.hdf5", None)?;
    let mut c: Box<StatsCollection> = c.downcast()?;

    // Demonstrate how we have access to each individual object
    for p in c.iter() {
        let min = p.zstats.iter().copied().fold(f64::INFINITY, f64::min);
        let max = p.zstats.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        println!("{} {min:?} {max:?}", py_shape(p.zstats.shape()));
    }

    // Make sure that our cache is up-to-date before we demonstrate the stacked data methods
    c.update_cache()?;

    // Demonstrate that we have access to stacked versions of the data
    println!(
        "{}",
        py_shape(c.combined("zstats").expect("zstats").shape())
    );
    println!("{}", py_shape(c.combined("rts").expect("rts").shape()));
    Ok(())
}

/// A shape as Python prints a tuple: `(10, 10)`, `(100,)`.
fn py_shape(shape: &[usize]) -> String {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    }
}
