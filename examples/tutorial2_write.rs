//! Serialisation tutorial 2, `test_script2_write.py`: writes a person, a place and a
//! train, each to its class's default group, to `test_script2.hdf5`; then copies the file
//! to `test_script2_aliases.hdf5` and gives the person there the class tag
//! `test_classes2.OldComplexPerson`, as a file written by an older program would have.
//!
//! (The Python script opens `test_script2_alias.hdf5` for the edit, a typo that leaves
//! `test_script2_aliases.hdf5` unchanged; this edits the copy, as intended.)

#[path = "classes/test_classes2.rs"]
mod test_classes2;

use anam::hdf5::types::VarLenUnicode;
use anam::AnamClass;
use test_classes2::{ComplexPerson, ComplexPlace, ComplexTrain};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Create a person and a place
    let s = ComplexPerson::new("Anna", 45);
    println!("{}", s.name);
    println!("{}", s.age);

    let loc = ComplexPlace::new("York");
    println!("{}", loc.location);

    let t = ComplexTrain::new("Glasgow");
    println!("{}", t.destination);

    // Serialise the person and place to disk. `to_file` writes each object to its class's
    // default group (`person`, `place`, `train`) and keeps the file's other groups, so the
    // file is removed first (Python opens it with 'w').
    let path = "test_script2.hdf5";
    if std::path::Path::new(path).exists() {
        std::fs::remove_file(path)?;
    }
    s.to_file(path)?;
    loc.to_file(path)?;
    t.to_file(path)?;

    // Serialise the person to disk using a different name.
    // To do this, we copy the HDF5 file and manually edit it: h5py's
    // `attrs['class'] = ...` replaces the attribute with a variable-length UTF-8 string.
    std::fs::copy(path, "test_script2_aliases.hdf5")?;
    let f = anam::hdf5::File::open_rw("test_script2_aliases.hdf5")?;
    let person = f.group("person")?;
    person.delete_attr("class")?;
    let old: VarLenUnicode = "test_classes2.OldComplexPerson".parse()?;
    person
        .new_attr::<VarLenUnicode>()
        .create("class")?
        .write_scalar(&old)?;
    f.close()?;
    Ok(())
}
