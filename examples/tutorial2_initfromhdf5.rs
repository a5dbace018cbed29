//! Serialisation tutorial 2, `test_script2_initfromhdf5.py`: loading a `ComplexTrain`
//! runs its init hook (Python's `init_from_hdf5`), which prints two lines.
//!
//! Run `tutorial2_write` (or Python's `test_script2_write.py`) first.

#[path = "classes/test_classes2.rs"]
mod test_classes2;

fn main() -> anam::Result<()> {
    // Load the train object and watch for the printed output from the init hook
    let _p = anam::obj_from_file("test_script2.hdf5", Some("train"))?;
    Ok(())
}
