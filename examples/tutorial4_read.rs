//! Serialisation tutorial 4, `test_script4_read.py`: reading back a `Store` is no different
//! to reading any other object.
//!
//! Run `tutorial4_write` (or Python's `test_script4_write.py`) first.

use anam::{Store, Value};

fn main() -> anam::Result<()> {
    // Read from our store
    let s = anam::obj_from_file("test_script4.hdf5", None)?;
    let s: Box<Store> = s.downcast()?;

    // `extra_data` holds `anam::Value`s: the strings are `Value::Str`.
    let text = |name: &str| s.get(name).and_then(Value::as_str).expect("a string entry");
    println!("{}", text("airport_from"));
    println!("{}", text("airport_to"));
    Ok(())
}
