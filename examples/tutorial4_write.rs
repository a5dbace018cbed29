//! Serialisation tutorial 4, `test_script4_write.py`: an `anam::Store` keeps everything in
//! its `extra_data`; it is written to the group `data` of `test_script4.hdf5`.

use anam::Store;

fn main() -> anam::Result<()> {
    // Create a Store
    let mut s = Store::new();
    s.insert("airport_from", "Manchester");
    s.insert("airport_to", "Schipol");

    // Write the store into a file
    let f = anam::hdf5::File::create("test_script4.hdf5")?;
    anam::to_group(&s, &f.create_group("data")?)?;
    f.close()?;
    Ok(())
}
