//! Serialisation tutorial 1, `test_script1_read.py`: loads the object in
//! `test_script1.hdf5` without naming its class (it is chosen by the file's `class` tag),
//! first from the file's only group, then from the group `person`.
//!
//! Run `tutorial1_write` (or Python's `test_script1_write.py`) first.

#[path = "classes/test_classes1.rs"]
mod test_classes1;

use test_classes1::SimplePerson;

fn main() -> anam::Result<()> {
    // Load the class from the HDF5 file: with no group name, the first group of the file.
    // `obj_from_file` returns a `Box<dyn AnamObject>` of the class the file names; Python's
    // `import test_classes1` is the `mod test_classes1` above, which registers its classes.
    let s = anam::obj_from_file("test_script1.hdf5", None)?;

    // Show that we have reconstructed the object
    println!("<class '{}'>", s.class_tag());
    let person: &SimplePerson = s.downcast_ref().expect("a SimplePerson");
    println!("{}", person.name);
    println!("{}", person.age);

    // Demonstrate how to specifically choose which group to load
    let s2 = anam::obj_from_file("test_script1.hdf5", Some("person"))?;

    // Show that we have reconstructed the object (the Python script prints `s` again,
    // which is the same)
    println!("<class '{}'>", s2.class_tag());
    let person: &SimplePerson = s2.downcast_ref().expect("a SimplePerson");
    println!("{}", person.name);
    println!("{}", person.age);
    Ok(())
}
