//! Serialisation tutorial 2, `test_script2_defaultgroup.py`: loads the person and the
//! place of `test_script2.hdf5` from their classes' default groups, without naming them.
//!
//! Run `tutorial2_write` (or Python's `test_script2_write.py`) first.

#[path = "classes/test_classes2.rs"]
mod test_classes2;

use anam::AnamClass; // for `from_file`
use test_classes2::{ComplexPerson, ComplexPlace};

fn main() -> anam::Result<()> {
    // Load the classes from the HDF5 file using the default hdf5group names
    let s = ComplexPerson::from_file("test_script2.hdf5")?; // group `person`
    let loc = ComplexPlace::from_file("test_script2.hdf5")?; // group `place`

    // Show that we have reconstructed the object
    println!("Person");
    println!("<class '{}'>", ComplexPerson::CLASS);
    println!("{}", s.name);
    println!("{}", s.age);

    println!("Place");
    println!("<class '{}'>", ComplexPlace::CLASS);
    println!("{}", loc.location);
    Ok(())
}
