//! Serialisation tutorial 2, `test_script2_extradata.py`: entries of `extra_data` are
//! stored beside the members and loaded back into `extra_data`.
//!
//! Python's `print(p)` shows `<test_classes2.ComplexPerson object at 0x...>`; the `Debug`
//! of a loaded `dyn AnamObject` is the same without the address. `print(p.extra_data)`
//! shows a dict, which `py_dict` renders the same way.

#[path = "classes/test_classes2.rs"]
mod test_classes2;

use anam::{AnamObject, ExtraData, Value};
use test_classes2::ComplexPerson;

fn main() -> anam::Result<()> {
    // Create an example object
    let mut p = ComplexPerson::new("Bob", 75);
    p.extra_data.insert("hometown".into(), "Oxford".into());

    println!("{:?}", &p as &dyn AnamObject);
    println!("{}", py_dict(&p.extra_data));

    // Save the object out (a new file, as Python's 'w')
    let f = anam::hdf5::File::create("test_script2_extradata.hdf5")?;
    anam::to_group(&p, &f.create_group("person")?)?;
    f.close()?;

    // Delete our object
    drop(p);

    // Re-load our object
    let p = anam::obj_from_file("test_script2_extradata.hdf5", None)?;

    // Show that we recovered the object and the extra data
    println!("{p:?}");
    let p: Box<ComplexPerson> = p.downcast()?;
    println!("{}", py_dict(&p.extra_data));
    Ok(())
}

/// `extra_data` as Python prints a dict: `{'hometown': 'Oxford'}`.
fn py_dict(data: &ExtraData) -> String {
    let entries: Vec<String> = data
        .iter()
        .map(|(k, v)| format!("{}: {}", py_str(k), py_value(v)))
        .collect();
    format!("{{{}}}", entries.join(", "))
}

/// A value as Python's `repr` shows it (strings and numbers; others in Rust's `Debug`).
fn py_value(value: &Value) -> String {
    match value {
        Value::None => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Str(s) => py_str(s),
        Value::F32(_) | Value::F64(_) => format!("{:?}", value.as_f64().unwrap_or(f64::NAN)),
        v => match v.as_i64() {
            Some(i) => i.to_string(),
            None => format!("{v:?}"),
        },
    }
}

fn py_str(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}
