//! The data-model suite: every sample of `tests/common/data_model.rs` through every format,
//! so that the formats cannot drift apart.
//!
//! For each group of samples there is one test per format:
//!
//! - `hdf5::<group>`: `to_file` then `from_file` give the value back, as a struct field, at
//!   top level and through `to_group`/`from_group` in a file the `hdf5` crate made (where
//!   the sample declares HDF5 cannot hold it at top level, the write is checked to fail);
//! - `wire::<group>`: `wire::to_bytes` then `from_bytes` give it back, under the envelope
//!   the sample declares (or decoding fails where the sample says the format cannot read
//!   it back), and the body is no larger than bincode's encoding (typed values);
//! - `value_hdf5::<group>`, as a struct field and at top level: `to_value(&v)` written to
//!   HDF5 reads back as the typed value; read back as a Value it is `to_value(&v)` with
//!   its `None` members absent (None is an absent entry); and the Value read from the file
//!   of `v` itself is the Value read from the file of `to_value(&v)` (the two files hold
//!   the same, as `tests/value.rs` checks for one struct), or, for samples with numeric
//!   sequences, the same once numeric lists are 1-D arrays (the typed value writes
//!   datasets where a Value writes lists). Together: the Value read from the file of `v`
//!   is `to_value(&v)` but for absent `None` members and, where declared, arrays for
//!   numeric lists;
//! - `value_wire::<group>`: `to_value(&v)` through the wire format is itself, members in
//!   the same order;
//! - `from_value::<group>`: `from_value(to_value(&v))` and `from_value_ref(&to_value(&v))`
//!   give `v` back (but for what the sample declares `to_value` leaves out, as the file
//!   does: `bcast_only` members, `Some(None)`), and, as a struct field and at top level,
//!   `from_value` of the Value read from the typed value's file gives what the typed read
//!   of that file gives (`from_value` reads a Value as the HDF5 reader reads the file).
//!
//! Values compare exactly: floats bit for bit (`data_model::fingerprint`).
//!
//! A failure names the sample, the check and the place. A check a sample marks as a known
//! bug still runs, must still fail (it is printed, run with `--nocapture`), and fails the
//! test once it passes, so that the mark is removed.

use std::path::Path;

use anam::{Object, Value};
use ndarray::ArrayD;

#[path = "common/samples.rs"]
mod samples;

#[path = "common/data_model.rs"]
mod data_model;
use data_model::{At, Check, Hdf5, SameFile, Sample, GROUP};

// ---------------------------------------------------------------------------------------
// Running the checks
// ---------------------------------------------------------------------------------------

/// The results of one check of one sample: where (in HDF5), what was done, and how it went.
type Results = Vec<(Option<At>, String, Result<(), String>)>;

#[derive(Clone, Copy, Debug)]
enum Format {
    Hdf5,
    Wire,
    ValueHdf5,
    ValueWire,
    FromValue,
}

/// Runs the checks of `format` on every sample of `group`, and fails listing every sample
/// that failed.
fn run(group: &str, format: Format) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let samples = data_model::group(group);
    assert!(!samples.is_empty(), "group {group} has samples");
    let mut failures = Vec::new();
    let mut known = Vec::new();
    let mut checks_made = 0;
    for (i, s) in samples.iter().enumerate() {
        let sdir = dir.path().join(i.to_string());
        std::fs::create_dir(&sdir).unwrap();
        let checks: Vec<(Check, Results)> = match format {
            Format::Hdf5 => vec![(Check::Hdf5, hdf5(s, &sdir))],
            Format::Wire => vec![(Check::Wire, wire(s))],
            Format::ValueHdf5 => value_hdf5(s, &sdir),
            Format::ValueWire => vec![(Check::ValueWire, value_wire(s))],
            Format::FromValue => vec![(Check::FromValue, from_value(s, &sdir))],
        };
        for (check, results) in checks {
            checks_made += results.len();
            judge(s, check, results, &mut failures, &mut known);
        }
    }
    for k in &known {
        println!("{k}");
    }
    println!(
        "{format:?}, group {group}: {} samples, {checks_made} checks, {} failing as known bugs",
        samples.len(),
        known.len()
    );
    assert!(
        failures.is_empty(),
        "{format:?}, group {group}: {} failure(s) in {} samples:\n{}",
        failures.len(),
        samples.len(),
        failures.join("\n")
    );
}

/// Sorts the results of one check into failures and known bugs.
fn judge(
    s: &Sample,
    check: Check,
    results: Results,
    failures: &mut Vec<String>,
    known: &mut Vec<String>,
) {
    for (at, what, r) in results {
        match (s.known_bug(check, at), r) {
            (None, Ok(())) => {}
            (None, Err(e)) => failures.push(format!("- sample `{}`: {what}: {e}", s.name)),
            (Some(note), Ok(())) => failures.push(format!(
                "- sample `{}`: {what}: passes, but is marked as a known bug ({note}): \
                 remove the mark",
                s.name
            )),
            (Some(note), Err(e)) => known.push(format!(
                "known bug, sample `{}`: {what}: {e}\n  ({note})",
                s.name
            )),
        }
    }
}

/// Whether HDF5 must accept the sample at `at`, or why not.
fn hdf5_accepts(s: &Sample, at: At) -> Result<(), &'static str> {
    match (&s.hdf5, at) {
        (Hdf5::Refused(why), _) => Err(why),
        (_, At::Field) => Ok(()),
        _ => s.top,
    }
}

/// `write`'s result where the write must fail (`why`): an error is the expected outcome.
fn refused(write: Result<(), String>, why: &str) -> Result<(), String> {
    match write {
        Ok(()) => Err(format!(
            "written, but the sample says it cannot be ({why}): update the sample"
        )),
        Err(_) => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------
// HDF5
// ---------------------------------------------------------------------------------------

fn hdf5(s: &Sample, dir: &Path) -> Results {
    if let Err(why) = s.nested {
        println!("not checked: sample `{}` through to_group: {why}", s.name);
    }
    [At::Field, At::Top, At::Nested]
        .into_iter()
        .filter(|&at| at != At::Nested || s.nested.is_ok())
        .map(|at| {
            let path = dir.join(format!("typed-{at:?}.hdf5"));
            let write = s.data.write(&path, at);
            let r = match hdf5_accepts(s, at) {
                Ok(()) => write
                    .map_err(|e| format!("writing: {e}"))
                    .and_then(|()| s.data.check_read(&path, at)),
                Err(why) => refused(write, why),
            };
            (Some(at), format!("HDF5 {at:?}"), r)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Wire
// ---------------------------------------------------------------------------------------

fn wire(s: &Sample) -> Results {
    let r = (|| {
        let bytes = s.data.to_bytes().map_err(|e| format!("encoding: {e}"))?;
        let tag = anam::wire::tag_of(&bytes).map_err(|e| format!("envelope: {e}"))?;
        if tag != s.wire_tag {
            return Err(format!("envelope `{tag}`, expected `{}`", s.wire_tag));
        }
        if s.bincode_sized {
            // The envelope (the tag, length-prefixed), then the body.
            let envelope = varint_len(tag.len() as u64) + tag.len();
            let bincode = s.data.bincode_len()?;
            if bytes.len() - envelope > bincode {
                return Err(format!(
                    "a body of {} bytes, larger than bincode's {bincode}",
                    bytes.len() - envelope
                ));
            }
        }
        match s.wire {
            Ok(()) => s.data.check_bytes(&bytes),
            Err(why) => match s.data.check_bytes(&bytes) {
                Ok(()) => Err(format!(
                    "decoded, but the sample says it cannot be ({why}): update the sample"
                )),
                Err(_) => Ok(()),
            },
        }
    })();
    vec![(None, "wire".to_string(), r)]
}

/// The length of a varint as the wire format (and bincode) writes it.
fn varint_len(v: u64) -> usize {
    match v {
        0..=250 => 1,
        251..=0xffff => 3,
        0x1_0000..=0xffff_ffff => 5,
        _ => 9,
    }
}

// ---------------------------------------------------------------------------------------
// Value
// ---------------------------------------------------------------------------------------

/// `to_value(&v)`, or `None` where the sample says it cannot be made (checked).
fn value_of(s: &Sample) -> Result<Option<Value>, String> {
    match (s.data.to_value(), s.to_value) {
        (Ok(v), Ok(())) => Ok(Some(v)),
        (Err(e), Ok(())) => Err(format!("to_value: {e}")),
        (Err(_), Err(_)) => Ok(None),
        (Ok(v), Err(why)) => Err(format!(
            "to_value gave {}, but the sample says it cannot ({why}): update the sample",
            data_model::shorten(format!("{v:?}"))
        )),
    }
}

/// The whole object at `at` of the file at `path`, as a Value.
fn read_value(path: &Path, at: At) -> Result<Value, String> {
    let at = match at {
        At::Field => At::Top, // the Field struct itself
        at => at,
    };
    data_model::read_at::<Value>(path, at)
}

/// What was written at `at` as a Value: `v`, or the Field struct holding it.
fn placed(v: &Value, at: At) -> Value {
    match at {
        At::Field => {
            let mut o = Object::new("data_model.Field");
            o.insert("v", v.clone());
            Value::Object(o)
        }
        _ => v.clone(),
    }
}

/// `v` with every non-empty list of one numeric type a 1-D array of that type: what the
/// typed serializer writes as a dataset (a `List` is always written as a Python list).
/// `v` with every list that the writer makes a dataset as that array: empty lists (the
/// writer makes every empty sequence an empty `float64` array) and, with `numeric`, lists of
/// numbers of one type.
fn lists_as_written(v: &Value, numeric: bool) -> Value {
    fn column<T: anam::Element>(items: &[Value], get: fn(&Value) -> Option<T>) -> Option<Value> {
        let xs: Option<Vec<T>> = items.iter().map(get).collect();
        xs.map(|xs| Value::from(ArrayD::from_shape_vec(vec![xs.len()], xs).expect("1-D")))
    }
    match v {
        Value::List(items) => {
            let items: Vec<Value> = items.iter().map(|v| lists_as_written(v, numeric)).collect();
            if items.is_empty() {
                return Value::from(ArrayD::<f64>::from_shape_vec(vec![0], vec![]).expect("1-D"));
            }
            if !numeric {
                return Value::List(items);
            }
            let array = match items.first() {
                Some(Value::Bool(_)) => column(&items, |v| match v {
                    Value::Bool(x) => Some(*x),
                    _ => None,
                }),
                Some(Value::I8(_)) => column(&items, |v| match v {
                    Value::I8(x) => Some(*x),
                    _ => None,
                }),
                Some(Value::I16(_)) => column(&items, |v| match v {
                    Value::I16(x) => Some(*x),
                    _ => None,
                }),
                Some(Value::I32(_)) => column(&items, |v| match v {
                    Value::I32(x) => Some(*x),
                    _ => None,
                }),
                Some(Value::I64(_)) => column(&items, |v| match v {
                    Value::I64(x) => Some(*x),
                    _ => None,
                }),
                Some(Value::U8(_)) => column(&items, |v| match v {
                    Value::U8(x) => Some(*x),
                    _ => None,
                }),
                Some(Value::U16(_)) => column(&items, |v| match v {
                    Value::U16(x) => Some(*x),
                    _ => None,
                }),
                Some(Value::U32(_)) => column(&items, |v| match v {
                    Value::U32(x) => Some(*x),
                    _ => None,
                }),
                Some(Value::U64(_)) => column(&items, |v| match v {
                    Value::U64(x) => Some(*x),
                    _ => None,
                }),
                Some(Value::F32(_)) => column(&items, |v| match v {
                    Value::F32(x) => Some(*x),
                    _ => None,
                }),
                Some(Value::F64(_)) => column(&items, |v| match v {
                    Value::F64(x) => Some(*x),
                    _ => None,
                }),
                _ => None,
            };
            array.unwrap_or(Value::List(items))
        }
        Value::Dict(entries) => Value::Dict(
            entries
                .iter()
                .map(|(k, v)| (lists_as_written(k, numeric), lists_as_written(v, numeric)))
                .collect(),
        ),
        Value::Object(o) => {
            let mut o = o.clone();
            o.fields = o
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), lists_as_written(v, numeric)))
                .collect();
            Value::Object(o)
        }
        other => other.clone(),
    }
}

fn compare(got: &Value, want: &Value) -> Result<(), String> {
    if data_model::same_value(got, want) {
        Ok(())
    } else {
        Err(format!(
            "read a different Value: {}",
            data_model::value_difference(got, want)
        ))
    }
}

fn value_hdf5(s: &Sample, dir: &Path) -> Vec<(Check, Results)> {
    let v0 = match value_of(s) {
        Ok(Some(v)) => v,
        Ok(None) => return vec![(Check::ValueToTyped, vec![])],
        Err(e) => return vec![(Check::ValueToTyped, vec![(None, "to_value".into(), Err(e))])],
    };
    let mut to_typed = Vec::new();
    let mut round_trip = Vec::new();
    let mut same_file = Vec::new();
    for at in [At::Field, At::Top] {
        let value_path = dir.join(format!("value-{at:?}.hdf5"));
        let typed_path = dir.join(format!("typed-{at:?}.hdf5"));
        let write = data_model::write_at(&value_path, at, &v0);
        if let Err(why) = hdf5_accepts(s, at) {
            // The Value of a sample HDF5 cannot hold there cannot be held there either.
            to_typed.push((
                Some(at),
                format!("Value written at {at:?}"),
                refused(write, why),
            ));
            continue;
        }
        if let Err(e) = write {
            to_typed.push((Some(at), format!("Value written at {at:?}"), Err(e)));
            continue;
        }
        // (1) The typed value from the Value's file.
        to_typed.push((
            Some(at),
            format!("Value written at {at:?}, read as the type"),
            s.data.check_read(&value_path, at),
        ));
        // (2) The Value from the Value's file.
        let from_value_file = read_value(&value_path, at);
        round_trip.push((
            Some(at),
            format!("Value written at {at:?}, read as a Value"),
            from_value_file
                .clone()
                .and_then(|got| compare(&got, &data_model::absent_nones(&placed(&v0, at)))),
        ));
        // (3) The Value from the typed value's file against the one from the Value's file.
        let r = s
            .data
            .write(&typed_path, at)
            .and_then(|()| read_value(&typed_path, at))
            .and_then(|from_typed| {
                let from_value_file =
                    from_value_file.map_err(|e| format!("reading the Value's file: {e}"))?;
                match s.same_file {
                    SameFile::Equal => compare(
                        &lists_as_written(&from_typed, false),
                        &lists_as_written(&from_value_file, false),
                    ),
                    SameFile::Datasets(_) => compare(
                        &lists_as_written(&from_typed, true),
                        &lists_as_written(&from_value_file, true),
                    ),
                }
            });
        same_file.push((
            Some(at),
            format!("the typed file at {at:?} read as a Value, against the Value's file"),
            r,
        ));
    }
    vec![
        (Check::ValueToTyped, to_typed),
        (Check::ValueRoundTrip, round_trip),
        (Check::ValueSameFile, same_file),
    ]
}

fn value_wire(s: &Sample) -> Results {
    let r = (|| {
        let Some(v0) = value_of(s)? else {
            return Ok(());
        };
        let bytes = anam::wire::to_bytes(&v0).map_err(|e| format!("encoding: {e}"))?;
        let tag = anam::wire::tag_of(&bytes).map_err(|e| format!("envelope: {e}"))?;
        if tag != "value" {
            return Err(format!("envelope `{tag}`, expected `value`"));
        }
        let back: Value = anam::wire::from_bytes(&bytes).map_err(|e| format!("decoding: {e}"))?;
        // Exact: the wire format keeps the order of an object's members too.
        if data_model::exact(&back, &v0) {
            Ok(())
        } else {
            Err(format!(
                "decoded a different Value: {}",
                data_model::first_difference(&back, &v0)
            ))
        }
    })();
    vec![(None, "Value through the wire".to_string(), r)]
}

// ---------------------------------------------------------------------------------------
// from_value
// ---------------------------------------------------------------------------------------

fn from_value(s: &Sample, dir: &Path) -> Results {
    let mut results = Vec::new();
    // Samples `to_value` refuses are checked to be refused by `value_hdf5`.
    if s.to_value.is_ok() {
        results.push((
            None,
            "from_value(to_value(&v))".to_string(),
            s.data.check_from_value(),
        ));
    }
    for at in [At::Field, At::Top] {
        if hdf5_accepts(s, at).is_err() {
            continue;
        }
        if let Some(note) = s.known_bug(Check::Hdf5, Some(at)) {
            println!(
                "not checked: sample `{}`, from_value of the typed file at {at:?}: HDF5 \
                 itself fails there ({note})",
                s.name
            );
            continue;
        }
        let path = dir.join(format!("typed-{at:?}.hdf5"));
        let r = s
            .data
            .write(&path, at)
            .map_err(|e| format!("writing: {e}"))
            .and_then(|()| s.data.check_value_file(&path, at));
        results.push((
            Some(at),
            format!("from_value of the Value read from the typed file at {at:?}"),
            r,
        ));
    }
    results
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

macro_rules! suite {
    ($($group:ident),* $(,)?) => {
        /// The groups this file runs.
        const RUN: &[&str] = &[$(stringify!($group)),*];

        mod hdf5 {
            $(#[test]
            fn $group() {
                super::run(stringify!($group), super::Format::Hdf5);
            })*
        }

        mod wire {
            $(#[test]
            fn $group() {
                super::run(stringify!($group), super::Format::Wire);
            })*
        }

        mod value_hdf5 {
            $(#[test]
            fn $group() {
                super::run(stringify!($group), super::Format::ValueHdf5);
            })*
        }

        mod value_wire {
            $(#[test]
            fn $group() {
                super::run(stringify!($group), super::Format::ValueWire);
            })*
        }

        mod from_value {
            $(#[test]
            fn $group() {
                super::run(stringify!($group), super::Format::FromValue);
            })*
        }
    };
}

suite!(
    scalars,
    scalars_in_every_position,
    strings_chars_and_bytes,
    options_and_units,
    structs,
    tuples,
    sequences,
    maps,
    enums,
    tagged_enums,
    arrays,
    arrays_of_every_dtype_and_rank,
    complex_numbers,
    values,
    classes,
);

#[test]
fn every_sample_group_is_run() {
    let groups: Vec<&str> = data_model::GROUPS.iter().map(|(n, _)| *n).collect();
    assert_eq!(
        RUN,
        groups.as_slice(),
        "list every group of GROUPS in suite!()"
    );
    let all = data_model::all();
    let mut names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all.len(), "sample names are unique");
    println!("{} samples in {} groups", all.len(), groups.len());
    let _ = GROUP;
}
