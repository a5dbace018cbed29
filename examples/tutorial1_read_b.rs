//! Serialisation tutorial 1, `test_script1_read_B.py`: opens `test_script1.hdf5` once and
//! loads the object of its group `person`.
//!
//! Run `tutorial1_write` (or Python's `test_script1_write.py`) first.

#[path = "classes/test_classes1.rs"]
mod test_classes1;

use test_classes1::SimplePerson;

fn main() -> anam::Result<()> {
    // Python calls `ClassRegister().add_permitted_prefix('test_classes1')` here so that the
    // module of the class is imported when a file names it. Rust has no equivalent and
    // needs none: registration is automatic, every `#[anam::class]` compiled into the
    // program (here those of the `test_classes1` module) is registered by its tag.

    // Open our HDF5 file
    let f = anam::hdf5::File::open("test_script1.hdf5")?;

    // Load the class from the HDF5 file using `obj_from_group`
    let s = anam::obj_from_group(&f.group("person")?)?;

    // Show that we have reconstructed the object
    println!("<class '{}'>", s.class_tag());
    let person: &SimplePerson = s.downcast_ref().expect("a SimplePerson");
    println!("{}", person.name);
    println!("{}", person.age);

    // Close our HDF5 file
    f.close()?;
    Ok(())
}
