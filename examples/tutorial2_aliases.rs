//! Serialisation tutorial 2, `test_script2_aliases.py`: the person in
//! `test_script2_aliases.hdf5` has the old class tag `test_classes2.OldComplexPerson`, an
//! alias of `test_classes2.ComplexPerson`, so it loads as a `ComplexPerson`.
//!
//! Run `tutorial2_write` (or Python's `test_script2_write.py`) first.

#[path = "classes/test_classes2.rs"]
mod test_classes2;

use test_classes2::ComplexPerson;

fn main() -> anam::Result<()> {
    // Demonstrate reading a file which has the old class name in the HDF5 file
    let s = anam::obj_from_file("test_script2_aliases.hdf5", Some("person"))?;

    // Show that we have reconstructed the object
    println!("Person");
    println!("<class '{}'>", s.class_tag());
    let s: Box<ComplexPerson> = s.downcast()?;
    println!("{}", s.name);
    println!("{}", s.age);
    Ok(())
}
