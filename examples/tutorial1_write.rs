//! Serialisation tutorial 1, `test_script1_write.py`: writes a `SimplePerson` to the group
//! `person` of `test_script1.hdf5`.
//!
//! Run with `make demo`, which runs every tutorial in order in `target/examples-run`, or
//! `cargo run --example tutorial1_write`.

#[path = "classes/test_classes1.rs"]
mod test_classes1;

use test_classes1::SimplePerson;

fn main() -> anam::Result<()> {
    // Create a person
    let s = SimplePerson::new("Fred", 42);
    println!("{}", s.name);
    println!("{}", s.age);

    // Serialise the person to disk (`h5py.File(.., 'w')` truncates the file, as `create`)
    let f = anam::hdf5::File::create("test_script1.hdf5")?;
    anam::to_group(&s, &f.create_group("person")?)?;
    f.close()?;
    Ok(())
}
