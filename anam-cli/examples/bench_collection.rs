//! Writes a collection of N small members (`make bench-compare` times `anam tree` on it):
//! `bench_collection PATH N`. An object of class `bench.Samples` whose `members` list holds
//! N objects of class `bench.Sample` (an `id` and a 3-element array each), as
//! `AnamCollection` lays it out.

use anam::{Object, Value};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(path), Some(n)) = (args.next(), args.next()) else {
        return Err("usage: bench_collection PATH N".into());
    };
    let n: usize = n.parse()?;
    let member = |i: usize| {
        let mut o = Object::new("bench.Sample");
        o.insert("id", Value::I64(i as i64));
        let xs = anam::ndarray::arr1(&[i as f64, 0.5, 1.5]).into_dyn();
        o.insert("xs", Value::from(xs));
        Value::Object(o)
    };
    let mut c = Object::new("bench.Samples");
    c.insert("members", Value::List((0..n).map(member).collect()));
    let _ = std::fs::remove_file(&path);
    anam::to_file(&path, "data", &Value::Object(c))?;
    Ok(())
}
