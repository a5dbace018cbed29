//! `anam::Value`: every fixture written by Python anamnesis 1.0.4 loads as a `Value` and
//! writes back the same file "at h5dump level" (classes, attribute and link names, dtypes
//! and shapes), with some contents checked against the manifest; `Value` through JSON; and
//! `anam::to_value`.

use std::collections::BTreeMap;
use std::path::Path;

use anam::hdf5;
use anam::hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenAscii, VarLenUnicode};
use anam::{DType, Object, TypedArray, Value};
use ndarray::ArrayD;
use num_complex::{Complex32, Complex64};
use serde::Serialize;

#[path = "common/manifest.rs"]
mod manifest;
use manifest::{fixture, manifest};

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

/// The fixtures are opened both through the `hdf5` crate (with HDF5's file locking) and
/// through `anam` (without it), by tests running in parallel; HDF5 refuses to open a file
/// the process already holds open with other locking flags ("file locking flag values
/// don't match"), so the two kinds of opens take turns.
static FIXTURE_OPENS: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// Runs `f`, which opens files through `anam`.
fn anam_open<R>(f: impl FnOnce() -> R) -> R {
    let _turn = FIXTURE_OPENS.read().unwrap_or_else(|e| e.into_inner());
    f()
}

/// Runs `f`, which opens files through the `hdf5` crate.
fn hdf5_open<R>(f: impl FnOnce() -> R) -> R {
    let _turn = FIXTURE_OPENS.write().unwrap_or_else(|e| e.into_inner());
    f()
}

/// Every file of the manifest with every group of the file: the groups the manifest lists
/// (checked to exist) and the others (`tutorial2_aliases.hdf5` also holds `place` and
/// `train`, copied from `tutorial2.hdf5`).
fn fixture_groups() -> Vec<(String, Vec<String>)> {
    hdf5_open(fixture_groups_in_turn)
}

fn fixture_groups_in_turn() -> Vec<(String, Vec<String>)> {
    manifest()
        .as_object()
        .unwrap()
        .iter()
        .map(|(file, groups)| {
            let f = hdf5::File::open(fixture(file)).unwrap();
            let in_file = f.member_names().unwrap();
            for g in groups.as_object().unwrap().keys() {
                assert!(in_file.contains(g), "{file} has the manifest's group {g}");
            }
            (file.clone(), in_file)
        })
        .collect()
}

fn load_value(path: &Path, group: &str) -> Value {
    anam_open(|| anam::from_file::<Value>(path, Some(group)))
        .unwrap_or_else(|e| panic!("{}/{group} as Value: {e}", path.display()))
}

fn fixture_object(file: &str, group: &str) -> Object {
    match load_value(&fixture(file), group) {
        Value::Object(o) => o,
        other => panic!("{file}/{group} is not an object: {other:?}"),
    }
}

/// A dtype as h5dump would distinguish it: strings are just "string" (their encoding and
/// padding may differ), numbers are exact, enums and compounds list their members.
fn describe_type(t: &TypeDescriptor) -> String {
    let bits = |s: &IntSize| *s as usize * 8;
    match t {
        TypeDescriptor::Integer(s) => format!("int{}", bits(s)),
        TypeDescriptor::Unsigned(s) => format!("uint{}", bits(s)),
        TypeDescriptor::Float(FloatSize::U4) => "float32".into(),
        TypeDescriptor::Float(FloatSize::U8) => "float64".into(),
        TypeDescriptor::Boolean => "bool (enum int8 {FALSE=0, TRUE=1})".into(),
        TypeDescriptor::Enum(e) => {
            let members: Vec<String> = e
                .members
                .iter()
                .map(|m| format!("{}={}", m.name, m.value))
                .collect();
            let sign = if e.signed { "int" } else { "uint" };
            format!(
                "enum {sign}{} {{{}}}",
                e.size as usize * 8,
                members.join(", ")
            )
        }
        TypeDescriptor::Compound(c) => {
            let fields: Vec<String> = c
                .fields
                .iter()
                .map(|f| format!("{}: {} @{}", f.name, describe_type(&f.ty), f.offset))
                .collect();
            format!("compound[{}] {{{}}}", c.size, fields.join(", "))
        }
        TypeDescriptor::FixedAscii(_)
        | TypeDescriptor::FixedUnicode(_)
        | TypeDescriptor::VarLenAscii
        | TypeDescriptor::VarLenUnicode => "string".into(),
        TypeDescriptor::FixedArray(t, n) => format!("array[{n}] of {}", describe_type(t)),
        TypeDescriptor::VarLenArray(t) => format!("vlen of {}", describe_type(t)),
        other => format!("{other:?}"),
    }
}

fn describe_dtype(dtype: hdf5::Result<hdf5::Datatype>) -> String {
    dtype.and_then(|d| d.to_descriptor()).map_or_else(
        |e| format!("<unreadable dtype: {e}>"),
        |t| describe_type(&t),
    )
}

/// The `class` attribute of a group, whatever its string encoding.
fn class_attr(group: &hdf5::Group) -> Option<String> {
    let attr = group.attr("class").ok()?;
    if let Ok(s) = attr.read_scalar::<VarLenUnicode>() {
        return Some(s.to_string());
    }
    if let Ok(s) = attr.read_scalar::<VarLenAscii>() {
        return Some(s.to_string());
    }
    attr.read_scalar::<hdf5::types::FixedAscii<256>>()
        .ok()
        .map(|s| s.to_string())
}

/// The tree under `group`, one line per group, attribute and dataset, keyed by HDF5 path
/// (`@` before an attribute name). Comparing two dumps compares, per group, its class, the
/// set of attribute names with each one's dtype and shape, the set of links, and each
/// dataset's dtype and shape, recursively.
fn dump(group: &hdf5::Group, path: &str, out: &mut BTreeMap<String, String>) {
    out.insert(
        path.to_string(),
        format!("group class={:?}", class_attr(group)),
    );
    for name in group.attr_names().expect("attribute names") {
        let attr = group.attr(&name).expect("attribute");
        out.insert(
            format!("{path}@{name}"),
            format!(
                "attribute {} shape {:?}",
                describe_dtype(attr.dtype()),
                attr.shape()
            ),
        );
    }
    for name in group.member_names().expect("link names") {
        let child = if path == "/" {
            format!("/{name}")
        } else {
            format!("{path}/{name}")
        };
        match group.loc_type_by_name(&name).expect("link type") {
            hdf5::LocationType::Group => dump(&group.group(&name).unwrap(), &child, out),
            hdf5::LocationType::Dataset => {
                let ds = group.dataset(&name).unwrap();
                out.insert(
                    child,
                    format!(
                        "dataset {} shape {:?}",
                        describe_dtype(ds.dtype()),
                        ds.shape()
                    ),
                );
            }
            other => {
                out.insert(child, format!("{other:?}"));
            }
        }
    }
}

fn dump_file(path: &Path) -> BTreeMap<String, String> {
    hdf5_open(|| {
        let file = hdf5::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut out = BTreeMap::new();
        dump(&file, "/", &mut out);
        out
    })
}

/// The differences between two dumps, one line each (empty when they agree).
fn diff(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<String> {
    let mut lines = Vec::new();
    for (k, v) in a {
        match b.get(k) {
            None => lines.push(format!("only in the fixture: {k}: {v}")),
            Some(w) if w != v => lines.push(format!("{k}: fixture {v} / rewritten {w}")),
            _ => {}
        }
    }
    for (k, w) in b {
        if !a.contains_key(k) {
            lines.push(format!("only in the rewritten file: {k}: {w}"));
        }
    }
    lines
}

fn array(v: Option<&Value>) -> &TypedArray {
    match v {
        Some(Value::Array(a)) => a,
        other => panic!("expected an array, found {other:?}"),
    }
}

fn list(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::List(l)) => l,
        other => panic!("expected a list, found {other:?}"),
    }
}

fn object(v: Option<&Value>) -> &Object {
    match v {
        Some(Value::Object(o)) => o,
        other => panic!("expected an object, found {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------
// Every fixture: load as Value, write back identically
// ---------------------------------------------------------------------------------------

#[test]
fn every_fixture_loads_as_value_and_writes_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let groups = fixture_groups();
    assert_eq!(groups.len(), 13, "every fixture file of the manifest");
    let mut failures = Vec::new();
    for (file, names) in &groups {
        let original = fixture(file);
        let rewritten = dir.path().join(file);
        let mut values = Vec::new();
        for group in names {
            // Every failure is collected, so that one report shows them all.
            let value = match anam_open(|| anam::from_file::<Value>(&original, Some(group))) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{file}/{group}: loading as Value: {e}"));
                    continue;
                }
            };
            assert!(
                matches!(value, Value::Object(_)),
                "{file}/{group}: every fixture group is an object"
            );
            if let Err(e) = anam::to_file(&rewritten, group, &value) {
                failures.push(format!("{file}/{group}: writing the Value back: {e}"));
                continue;
            }
            values.push((group, value));
        }
        for (group, value) in &values {
            match anam::from_file::<Value>(&rewritten, Some(group)) {
                Ok(back) if &back == value => {}
                Ok(back) => failures.push(format!(
                    "{file}/{group}: read back differs:\n  first  {value:?}\n  second {back:?}"
                )),
                Err(e) => failures.push(format!("{file}/{group}: reading the rewritten file: {e}")),
            }
        }
        if values.len() != names.len() {
            continue;
        }
        let before = dump_file(&original);
        let after = dump_file(&rewritten);
        // One known difference is checked on its own (`zero_d_empty_array_writes_back_as_
        // python_wrote_it`): the `value` dataset Rust adds to a 0-d empty array.
        let lines: Vec<String> = diff(&before, &after)
            .into_iter()
            .filter(|line| !is_zero_d_value_line(&before, line))
            .collect();
        if !lines.is_empty() {
            failures.push(format!("{file}:\n  {}", lines.join("\n  ")));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Whether a diff line is the `value` dataset that Rust adds to a 0-d empty array
/// (`anam::format::EMPTY_VALUE`), absent from the fixture.
fn is_zero_d_value_line(fixture_dump: &BTreeMap<String, String>, line: &str) -> bool {
    let Some(rest) = line.strip_prefix("only in the rewritten file: ") else {
        return false;
    };
    let Some((path, what)) = rest.split_once(": ") else {
        return false;
    };
    let Some(group) = path.strip_suffix("/value") else {
        return false;
    };
    what.ends_with("shape []")
        && fixture_dump.get(group).map(String::as_str)
            == Some("group class=Some(\"anamnesis.abstract.AnamEmptyArray\")")
        && !fixture_dump.contains_key(&format!("{group}/shape"))
}

/// A 0-d empty array read from a Python file writes back as Python wrote it: an
/// `AnamEmptyArray` group with only `dtype` (Python stores no value: it reads zero).
///
/// Found: Rust adds a scalar dataset `value` (`anam::format::EMPTY_VALUE`) to keep the
/// value of 0-d arrays; Python ignores it, but the file is not the one read. Leaving it
/// out when the value is zero (the default) would keep both.
#[test]
fn zero_d_empty_array_writes_back_as_python_wrote_it() {
    let dir = tempfile::tempdir().unwrap();
    let rewritten = dir.path().join("arrays.hdf5");
    let v = load_value(&fixture("arrays.hdf5"), "arrays");
    let a = array(v.as_object().unwrap().get("empty0d"));
    assert_eq!(a, &TypedArray::F64(ArrayD::zeros(vec![])));
    anam::to_file(&rewritten, "arrays", &v).unwrap();
    let subtree = |path: &Path| -> Vec<String> {
        dump_file(path)
            .into_iter()
            .filter(|(k, _)| k.starts_with("/arrays/empty0d"))
            .map(|(k, v)| format!("{k}: {v}"))
            .collect()
    };
    assert_eq!(subtree(&rewritten), subtree(&fixture("arrays.hdf5")));
}

/// The dump itself sees what it must: the class, attribute dtypes (bool enum, strings) and
/// dataset dtypes (complex compound) of a fixture.
#[test]
fn dump_sees_classes_dtypes_and_shapes() {
    let d = dump_file(&fixture("arrays.hdf5"));
    assert_eq!(
        d["/arrays"],
        "group class=Some(\"fixture_classes.ArrayHolder\")"
    );
    assert_eq!(d["/arrays@class"], "attribute string shape []");
    assert_eq!(d["/arrays/i16"], "dataset int16 shape [2, 3]");
    assert_eq!(d["/arrays/u64"], "dataset uint64 shape [2, 3]");
    assert_eq!(
        d["/arrays/b"],
        "dataset bool (enum int8 {FALSE=0, TRUE=1}) shape [2, 3]"
    );
    assert_eq!(
        d["/arrays/c64"],
        "dataset compound[8] {r: float32 @0, i: float32 @4} shape [2, 3]"
    );
    assert_eq!(
        d["/arrays/empty2d"],
        "group class=Some(\"anamnesis.abstract.AnamEmptyArray\")"
    );
    let s = dump_file(&fixture("scalars.hdf5"));
    assert_eq!(
        s["/scalars@a_bool"],
        "attribute bool (enum int8 {FALSE=0, TRUE=1}) shape []"
    );
    assert_eq!(s["/scalars@an_int"], "attribute int64 shape []");
    assert_eq!(s["/scalars@a_float"], "attribute float64 shape []");
    assert!(!s.contains_key("/scalars@a_none"), "None is not stored");
}

// ---------------------------------------------------------------------------------------
// Contents against the manifest
// ---------------------------------------------------------------------------------------

#[test]
fn tutorial1_scalars_are_typed() {
    let m = &manifest()["tutorial1.hdf5"]["person"];
    let o = fixture_object("tutorial1.hdf5", "person");
    assert_eq!(o.class, m["class"].as_str().unwrap());
    assert_eq!(
        o.get("name"),
        Some(&Value::Str(m["name"].as_str().unwrap().into()))
    );
    assert_eq!(o.get("age"), Some(&Value::I64(m["age"].as_i64().unwrap())));
    assert_eq!(o.fields.len(), 2);
    // No group name: the first group.
    let first: Value = anam_open(|| anam::from_file(fixture("tutorial1.hdf5"), None)).unwrap();
    assert_eq!(first, Value::Object(o));
}

#[test]
fn scalars_keep_their_hdf5_types() {
    let m = &manifest()["scalars.hdf5"]["scalars"];
    let o = fixture_object("scalars.hdf5", "scalars");
    assert_eq!(o.class, m["class"].as_str().unwrap());
    assert_eq!(
        o.get("an_int"),
        Some(&Value::I64(m["an_int"].as_i64().unwrap()))
    );
    assert_eq!(
        o.get("a_float"),
        Some(&Value::F64(m["a_float"].as_f64().unwrap()))
    );
    assert_eq!(
        o.get("a_str"),
        Some(&Value::from(m["a_str"].as_str().unwrap()))
    );
    assert_eq!(o.get("a_bool"), Some(&Value::Bool(true)));
    assert_eq!(o.get("neg"), Some(&Value::I64(m["neg"].as_i64().unwrap())));
    assert_eq!(o.get("big"), Some(&Value::I64(m["big"].as_i64().unwrap())));
    assert_eq!(o.get("a_none"), None, "None is absent");
}

#[test]
fn arrays_keep_dtype_and_shape() {
    let m = &manifest()["arrays.hdf5"]["arrays"];
    let o = fixture_object("arrays.hdf5", "arrays");
    assert_eq!(o.class, m["class"].as_str().unwrap());
    let base: Vec<Vec<i64>> = serde_json::from_value(m["base"].clone()).unwrap();
    let base = ndarray::Array2::from_shape_fn((2, 3), |(i, j)| base[i][j]).into_dyn();
    for (name, dtype) in [
        ("i8", DType::I8),
        ("i16", DType::I16),
        ("i32", DType::I32),
        ("i64", DType::I64),
        ("u8", DType::U8),
        ("u16", DType::U16),
        ("u32", DType::U32),
        ("u64", DType::U64),
        ("f32", DType::F32),
        ("f64", DType::F64),
        ("c64", DType::C64),
        ("c128", DType::C128),
        ("b", DType::Bool),
    ] {
        let a = array(o.get(name));
        assert_eq!(a.dtype(), dtype, "{name}");
        assert_eq!(a.shape(), [2, 3], "{name}");
    }
    assert_eq!(array(o.get("i64")), &TypedArray::I64(base.clone()));
    assert_eq!(
        array(o.get("u16")),
        &TypedArray::U16(base.mapv(|x| x as u16))
    );
    assert_eq!(
        array(o.get("f32")),
        &TypedArray::F32(base.mapv(|x| x as f32 / 4.0))
    );
    assert_eq!(
        array(o.get("c64")),
        &TypedArray::C64(base.mapv(|x| Complex32::new(x as f32, x as f32)))
    );
    assert_eq!(
        array(o.get("c128")),
        &TypedArray::C128(base.mapv(|x| Complex64::new(x as f64, -2.0)))
    );
    assert_eq!(
        array(o.get("b")),
        &TypedArray::Bool(base.mapv(|x| x % 2 == 0))
    );
    for (name, dtype, shape) in [
        ("empty0d", DType::F64, &[][..]),
        ("empty1d", DType::F64, &[0][..]),
        ("empty2d", DType::F64, &[2, 0][..]),
        ("empty3d_f32", DType::F32, &[2, 3, 0][..]),
        ("empty3d_i16", DType::I16, &[2, 3, 0][..]),
    ] {
        let a = array(o.get(name));
        assert_eq!((a.dtype(), a.shape()), (dtype, shape), "{name}");
        let text = m[name].as_str().unwrap();
        assert!(text.starts_with(dtype.name()), "manifest {name}: {text}");
    }
}

#[test]
fn namemap_object_keeps_its_name_maps() {
    let m = &manifest()["namemap.hdf5"]["nmap"];
    let o = fixture_object("namemap.hdf5", "nmap");
    assert_eq!(o.class, m["class"].as_str().unwrap());
    assert_eq!(o.name_maps, [("order".to_string(), "_order".to_string())]);
    let want: Vec<Value> = m["python attribute _order, stored as order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Value::I64(v.as_i64().unwrap()))
        .collect();
    assert_eq!(o.member("_order"), Some(&Value::List(want.clone())));
    assert_eq!(o.get("order"), Some(&Value::List(want)), "stored name");
    assert_eq!(o.get("_order"), None, "not stored under the member name");
    assert_eq!(
        o.member("plain"),
        Some(&Value::from(m["plain"].as_str().unwrap()))
    );
    assert!(
        o.get("namemaps").is_none(),
        "the namemaps attribute is layout, not a member"
    );
}

#[test]
fn oldlist_object_keeps_its_legacy_lists() {
    let o = fixture_object("oldlist.hdf5", "holder");
    assert_eq!(o.class, "fixture_classes.ExampleWriter");
    assert_eq!(o.legacy_lists, ["dat"]);
    let items = list(o.get("dat"));
    assert_eq!(items.len(), 3);
    for (i, item) in items.iter().enumerate() {
        let w = object(Some(item));
        assert_eq!(w.class, "fixture_classes.ExampleWriter");
        assert_eq!(w.get("dat"), Some(&Value::I64(i as i64 + 1)));
    }
    assert_eq!(o.fields.len(), 1, "LISTS, LIST_dat_count are layout: {o:?}");
}

#[test]
fn extra_data_and_store_contents() {
    let m = &manifest()["tutorial2_extradata.hdf5"]["person"];
    let o = fixture_object("tutorial2_extradata.hdf5", "person");
    assert_eq!(o.get("hometown"), Some(&Value::from("Oxford")));
    assert_eq!(o.get("age"), Some(&Value::I64(m["age"].as_i64().unwrap())));
    let visits: Vec<i32> =
        serde_json::from_value(m["extra_data"]["visits"]["data"].clone()).unwrap();
    assert_eq!(
        array(o.get("visits")),
        &TypedArray::I32(ArrayD::from_shape_vec(vec![3], visits).unwrap())
    );

    let o = fixture_object("tutorial4.hdf5", "data");
    assert_eq!(o.class, "anamnesis.store.Store");
    assert_eq!(o.get("gate"), Some(&Value::I64(12)));
    assert_eq!(o.get("airport_to"), Some(&Value::from("Schipol")));
    assert_eq!(
        array(o.get("delays")),
        &TypedArray::F64(ArrayD::from_shape_vec(vec![3], vec![0.5, 1.25, 3.0]).unwrap())
    );
    assert_eq!(o.fields.len(), 4);
}

#[test]
fn containers_lists_and_dicts() {
    let o = fixture_object("containers.hdf5", "lists");
    let dat = list(o.get("dat"));
    // [1, [ExampleWriter(dat=5), 2], 'a', 4.5, ExampleWriter(dat='x'), [1, None, 'foo'], [], [[]]]
    assert_eq!(dat.len(), 8);
    assert_eq!(dat[0], Value::I64(1));
    let inner = list(Some(&dat[1]));
    assert_eq!(object(Some(&inner[0])).get("dat"), Some(&Value::I64(5)));
    assert_eq!(inner[1], Value::I64(2));
    assert_eq!(dat[2], Value::from("a"));
    assert_eq!(dat[3], Value::F64(4.5));
    assert_eq!(object(Some(&dat[4])).get("dat"), Some(&Value::from("x")));
    assert_eq!(
        dat[5],
        Value::List(vec![Value::I64(1), Value::None, Value::from("foo")])
    );
    assert_eq!(dat[6], Value::List(vec![]));
    assert_eq!(dat[7], Value::List(vec![Value::List(vec![])]));

    let o = fixture_object("containers.hdf5", "dicts");
    let Some(Value::Dict(d)) = o.get("dat") else {
        panic!("dicts/dat is a dict: {o:?}")
    };
    // {'A': 1, 'B': 'two', 3: ExampleWriter(dat=3), 'nested': {'c': 99, 'e': [1, 2]}}
    let get = |k: &Value| d.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    assert_eq!(d.len(), 4);
    assert_eq!(get(&Value::from("A")), Some(&Value::I64(1)));
    assert_eq!(get(&Value::from("B")), Some(&Value::from("two")));
    let three = object(get(&Value::I64(3)));
    assert_eq!(three.class, "fixture_classes.ExampleWriter");
    assert_eq!(three.get("dat"), Some(&Value::I64(3)));
    let Some(Value::Dict(nested)) = get(&Value::from("nested")) else {
        panic!("nested dict")
    };
    assert!(nested.contains(&(Value::from("c"), Value::I64(99))));
    assert!(nested.contains(&(
        Value::from("e"),
        Value::List(vec![Value::I64(1), Value::I64(2)])
    )));

    let o = fixture_object("containers.hdf5", "strings");
    assert_eq!(
        list(o.get("dat")),
        [Value::from("Foo"), Value::from("Blah"), Value::from("Baz")]
    );
}

#[test]
fn nested_objects_and_collection_members() {
    let o = fixture_object("nested.hdf5", "parent");
    assert_eq!(o.get("label"), Some(&Value::from("outer")));
    let inner = object(o.get("child"));
    assert_eq!(inner.class, "fixture_classes.Parent");
    assert_eq!(inner.get("label"), Some(&Value::from("inner")));
    let kid = object(inner.get("child"));
    assert_eq!(kid.class, "test_classes1.SimplePerson");
    assert_eq!(kid.get("age"), Some(&Value::I64(9)));

    let o = fixture_object("tutorial3.hdf5", "data");
    assert_eq!(o.class, "test_classes3.StatsCollection");
    let members = list(o.get("members"));
    assert_eq!(members.len(), 5);
    for m in members {
        let m = object(Some(m));
        assert_eq!(m.class, "test_classes3.CollectableSubjectStats");
        assert_eq!(array(m.get("zstats")).shape(), [10, 10]);
        assert_eq!(array(m.get("rts")).shape(), [100]);
        assert_eq!(array(m.get("rts")).dtype(), DType::F64);
    }
}

#[test]
fn badclass_loads_as_value() {
    // A Value needs no registered class.
    let o = fixture_object("badclass.hdf5", "store");
    assert_eq!(o.class, "deliberately.missing.Class");
    assert_eq!(o.get("foo"), Some(&Value::I64(1)));
}

// ---------------------------------------------------------------------------------------
// Value through serde_json
// ---------------------------------------------------------------------------------------

fn through_json(v: &Value) -> Value {
    let text = serde_json::to_string(v).unwrap_or_else(|e| panic!("{v:?} to JSON: {e}"));
    serde_json::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{text} from JSON: {e}"))
}

#[test]
fn json_round_trip_of_strings_floats_bools_lists_and_objects() {
    let mut inner = Object::new("test_classes1.SimplePerson");
    inner.insert("name", Value::from("Kid"));
    inner.insert("ratio", Value::F64(0.25));
    let mut obj = Object::new("fixture_classes.Parent");
    obj.insert("label", Value::from("outer"));
    obj.insert("child", Value::Object(inner));
    obj.insert(
        "flags",
        Value::List(vec![Value::Bool(true), Value::Bool(false)]),
    );
    obj.insert("neg", Value::I64(-5));
    obj.name_maps.push(("order".into(), "_order".into()));
    obj.insert(
        "order",
        Value::List(vec![Value::F64(1.5), Value::from("x"), Value::List(vec![])]),
    );
    let mut legacy = Object::new("fixture_classes.ExampleWriter");
    legacy.legacy_lists.push("dat".into());
    legacy.insert("dat", Value::List(vec![Value::Object(Object::new("a.B"))]));

    for v in [
        Value::from("hello"),
        Value::F64(2.5),
        Value::Bool(true),
        Value::I64(-123456789),
        Value::List(vec![Value::from("a"), Value::F64(-1.0), Value::Bool(false)]),
        Value::Object(obj),
        Value::Object(legacy),
        Value::Dict(vec![(Value::from("k"), Value::from("v"))]),
    ] {
        assert_eq!(through_json(&v), v);
    }
}

/// What JSON cannot keep: documented here, as found.
///
/// * non-negative integers of any type come back as `U64` (JSON numbers carry no type;
///   serde_json visits them as `u64`), negative ones as `I64`, `F32` as `F64`: the value
///   is kept, the type is not;
/// * `None` comes back as `Unit` (JSON `null` is visited as a unit);
/// * dict keys come back as strings (JSON object keys are strings);
/// * arrays come back as a dict `{dtype, shape, data}` (the array payload of other formats),
///   with `shape` a list of `U64` and `data` a flat list of elements.
#[test]
fn json_round_trip_loses_what_json_cannot_hold() {
    // Integers keep their value, not their type (found: `I64(42)` -> `U64(42)`,
    // `I32(-7)` -> `I64(-7)`, `U8(7)` -> `U64(7)`).
    for v in [
        Value::I64(42),
        Value::I64(-42),
        Value::I32(-7),
        Value::I16(-3),
        Value::U8(7),
        Value::U32(9),
        Value::I8(0),
    ] {
        let back = through_json(&v);
        assert_eq!(back.as_i64(), v.as_i64(), "{v:?} -> {back:?}");
        assert!(
            matches!(back, Value::I64(_) | Value::U64(_)),
            "{v:?} -> {back:?}"
        );
    }
    assert_eq!(through_json(&Value::U64(u64::MAX)), Value::U64(u64::MAX));
    // Floats keep their value (found: `F32(0.5)` -> `F64(0.5)`).
    assert_eq!(through_json(&Value::F32(0.5)).as_f64(), Some(0.5));
    // `None` is JSON `null`, which comes back as a null (found: `Value::Unit`, which the
    // HDF5 writer stores as an empty attribute where `None` stores nothing).
    let none = through_json(&Value::None);
    assert!(matches!(none, Value::None | Value::Unit), "{none:?}");
    assert_eq!(
        through_json(&Value::Dict(vec![(Value::I64(3), Value::from("three"))])),
        Value::Dict(vec![(Value::from("3"), Value::from("three"))])
    );

    let a = Value::from(ArrayD::from_shape_vec(vec![2, 2], vec![1i32, 2, 3, 4]).unwrap());
    let back = through_json(&a);
    let Value::Dict(entries) = &back else {
        panic!("an array comes back as a dict: {back:?}")
    };
    let get = |k: &str| {
        entries
            .iter()
            .find(|(key, _)| key.as_str() == Some(k))
            .map(|(_, v)| v)
    };
    assert_eq!(get("dtype"), Some(&Value::from("int32")));
    assert_eq!(
        get("shape"),
        Some(&Value::List(vec![Value::U64(2), Value::U64(2)]))
    );
    let data: Vec<i64> = list(get("data"))
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(data, [1, 2, 3, 4]);
}

// ---------------------------------------------------------------------------------------
// to_value
// ---------------------------------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename = "tests.Point")]
struct Point {
    x: i32,
    label: String,
    #[serde(with = "anam::array")]
    grid: ndarray::Array2<f32>,
    tags: Vec<String>,
    inner: Option<Inner>,
    missing: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename = "tests.Inner")]
struct Inner {
    ok: bool,
}

#[test]
fn to_value_gives_an_object_with_the_tag_and_fields() {
    let p = Point {
        x: 3,
        label: "p".into(),
        grid: ndarray::Array2::from_elem((2, 3), 1.5),
        tags: vec!["a".into(), "b".into()],
        inner: Some(Inner { ok: true }),
        missing: None,
    };
    let v = anam::to_value(&p).unwrap();
    let o = object(Some(&v));
    assert_eq!(o.class, "tests.Point");
    let names: Vec<&str> = o.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["x", "label", "grid", "tags", "inner", "missing"]);
    assert_eq!(o.get("x"), Some(&Value::I32(3)));
    assert_eq!(o.get("label"), Some(&Value::from("p")));
    assert_eq!(
        array(o.get("grid")),
        &TypedArray::F32(ndarray::ArrayD::from_elem(vec![2, 3], 1.5))
    );
    assert_eq!(
        o.get("tags"),
        Some(&Value::List(vec![Value::from("a"), Value::from("b")]))
    );
    let inner = object(o.get("inner"));
    assert_eq!(inner.class, "tests.Inner");
    assert_eq!(inner.get("ok"), Some(&Value::Bool(true)));
    assert_eq!(o.get("missing"), Some(&Value::None));

    // The Value writes the same file as the struct.
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.hdf5"), dir.path().join("b.hdf5"));
    anam::to_file(&a, "p", &p).unwrap();
    anam::to_file(&b, "p", &v).unwrap();
    assert_eq!(diff(&dump_file(&a), &dump_file(&b)), Vec::<String>::new());
    assert_eq!(load_value(&a, "p"), load_value(&b, "p"));
}

/// A list with a `None` element (stored as a missing `LIST_item{i}`) loads as a `Value`
/// with `Value::None` there (minimal form of `containers.hdf5/lists`).
#[test]
fn list_with_a_none_element_loads_as_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("none.hdf5");
    let mut o = Object::new("fixture_classes.ExampleWriter");
    o.insert(
        "dat",
        Value::List(vec![Value::I64(1), Value::None, Value::from("foo")]),
    );
    let v = Value::Object(o);
    anam::to_file(&path, "w", &v).unwrap();
    let f = hdf5::File::open(&path).unwrap();
    let mut links = f.group("w/dat").unwrap().attr_names().unwrap();
    links.sort();
    assert_eq!(links, ["LIST_item0", "LIST_item2", "class", "count"]);
    drop(f);
    let back = anam::from_file::<Value>(&path, Some("w"));
    assert_eq!(back.map_err(|e| e.to_string()), Ok(v));
}

// ---------------------------------------------------------------------------------------
// from_value: a Value read as a typed value, as the HDF5 reader reads the file
// ---------------------------------------------------------------------------------------

/// A registered class with every class feature (as `tests/common/data_model.rs`'s
/// `Mapped`), and an alias.
#[anam::class(class = "value_tests.Mapped", aliases("value_tests.OldMapped"))]
#[derive(Serialize, serde::Deserialize, Debug, Clone, PartialEq)]
struct Mapped {
    /// A list, as the Value's `List` (a numeric `Vec` is a dataset in the typed file).
    #[anam(name = "order")]
    #[serde(with = "anam::as_list")]
    _order: Vec<i64>,
    plain: String,
    #[anam(extra_data)]
    extra: anam::ExtraData,
    #[anam(bcast_only)]
    scratch: Vec<f64>,
}

fn mapped() -> Mapped {
    Mapped {
        _order: vec![3, 1, 2],
        plain: "plain".into(),
        extra: anam::ExtraData::from([
            ("hometown".to_string(), Value::from("Oxford")),
            ("ratio".to_string(), Value::F32(0.5)),
        ]),
        scratch: vec![1.5],
    }
}

#[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
#[serde(rename = "value_tests.Grid")]
struct Grid {
    #[serde(with = "anam::array")]
    grid: ndarray::Array2<f64>,
    scale: Complex64,
    any: Value,
    maybe: Option<String>,
    counts: Vec<u16>,
}

#[test]
fn from_value_moves_arrays_whole_into_array_fields() {
    let grid = ndarray::Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
    let moved = grid.clone().into_dyn();
    let buffer = moved.as_ptr();
    let mut o = Object::new("value_tests.Grid");
    o.insert("grid", Value::from(moved));
    o.insert("scale", Value::C128(Complex64::new(1.0, -1.0)));
    o.insert("any", Value::C64(Complex32::new(0.5, 2.0)));
    o.insert("counts", Value::from(ndarray::arr1(&[1u8, 2]).into_dyn()));
    let g: Grid = anam::from_value(Value::Object(o)).unwrap();
    assert_eq!(g.grid, grid);
    assert_eq!(
        g.grid.as_ptr(),
        buffer,
        "the array's buffer moved, not copied"
    );
    assert_eq!(g.scale, Complex64::new(1.0, -1.0));
    assert_eq!(
        g.any,
        Value::C64(Complex32::new(0.5, 2.0)),
        "a Value field as it is"
    );
    assert_eq!(g.maybe, None, "an absent member is None");
    assert_eq!(g.counts, [1, 2], "a uint8 array into a Vec<u16>");
}

#[test]
fn from_value_gives_value_fields_their_sub_value_as_it_is() {
    // Name maps, legacy lists, typed scalars and arrays: nothing is normalized.
    let mut inner = Object::new("fixture_classes.ExampleWriter");
    inner.legacy_lists.push("dat".into());
    inner.insert("dat", Value::List(vec![Value::Object(Object::new("a.B"))]));
    inner.name_maps.push(("order".into(), "_order".into()));
    inner.insert("order", Value::U16(7));
    inner.insert(
        "grid",
        Value::from(ndarray::ArrayD::<i8>::zeros(vec![2, 0])),
    );
    let inner = Value::Object(inner);
    let mut o = Object::new("value_tests.Grid");
    o.insert(
        "grid",
        Value::from(ndarray::ArrayD::<f64>::zeros(vec![1, 1])),
    );
    o.insert("scale", Value::List(vec![Value::F64(0.0), Value::F64(1.0)]));
    o.insert("any", inner.clone());
    o.insert("counts", Value::List(vec![Value::U16(1)]));
    let v = Value::Object(o);
    let g: Grid = anam::from_value_ref(&v).unwrap();
    assert_eq!(g.any, inner);
    assert_eq!(
        g.scale,
        Complex64::new(0.0, 1.0),
        "a complex number from [re, im]"
    );
    let back: Value = anam::from_value(v.clone()).unwrap();
    assert_eq!(back, v, "a Value from a Value is itself");
}

#[derive(serde::Deserialize, Debug, PartialEq)]
#[serde(rename = "value_tests.Mapped")]
struct Unregistered {
    plain: String,
}

#[test]
fn from_value_checks_the_class_as_the_hdf5_reader_does() {
    let kind = |e: anam::Error| match e.kind() {
        anam::ErrorKind::ClassMismatch { found, expected } => {
            format!("mismatch {found} {expected}")
        }
        anam::ErrorKind::MissingClass { expected } => format!("missing {expected}"),
        other => format!("other: {other}"),
    };
    let mut o = Object::new("value_tests.Other");
    o.insert("plain", Value::from("x"));
    let err = anam::from_value::<Unregistered>(Value::Object(o.clone())).unwrap_err();
    assert_eq!(kind(err), "mismatch value_tests.Other value_tests.Mapped");

    // The same error from the file of that Value.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.hdf5");
    anam::to_file(&path, "o", &Value::Object(o.clone())).unwrap();
    let err = anam::from_file::<Unregistered>(&path, Some("o")).unwrap_err();
    assert_eq!(kind(err), "mismatch value_tests.Other value_tests.Mapped");

    o.class = String::new();
    let err = anam::from_value::<Unregistered>(Value::Object(o.clone())).unwrap_err();
    assert_eq!(kind(err), "missing value_tests.Mapped");

    // A list is a group of class AnamList.
    let err = anam::from_value::<Unregistered>(Value::List(vec![])).unwrap_err();
    assert_eq!(
        kind(err),
        "mismatch anamnesis.abstract.AnamList value_tests.Mapped"
    );

    // A dict stands for a struct (as an AnamDict group does).
    let d = Value::Dict(vec![(Value::from("plain"), Value::from("d"))]);
    assert_eq!(
        anam::from_value::<Unregistered>(d).unwrap(),
        Unregistered { plain: "d".into() }
    );

    // Aliases and hints.
    let mut m = anam::to_value(&mapped()).unwrap();
    if let Value::Object(o) = &mut m {
        o.class = "value_tests.OldMapped".into();
    }
    let back: Mapped = anam::from_value(m.clone()).unwrap();
    assert_eq!(back._order, [3, 1, 2], "an alias of the class");
    if let Value::Object(o) = &mut m {
        o.class = "value_tests.HintedMapped".into();
    }
    assert!(anam::from_value::<Mapped>(m.clone()).is_err());
    anam::registry::add_hint("value_tests.HintedMapped", "value_tests.Mapped");
    let back: Mapped = anam::from_value(m).unwrap();
    assert_eq!(back.plain, "plain", "a tag hinted to the class");
}

#[test]
fn from_value_applies_name_maps_and_gathers_extra_data() {
    // The class's own name map, with no `name_maps` on the object (a file written by hand).
    let mut o = Object::new("value_tests.Mapped");
    o.insert("order", Value::List(vec![Value::I64(9)]));
    o.insert("plain", Value::from("p"));
    o.insert("hometown", Value::from("Leeds"));
    o.insert("visits", Value::from(ndarray::arr1(&[1i32, 2]).into_dyn()));
    let m: Mapped = anam::from_value(Value::Object(o.clone())).unwrap();
    assert_eq!(m._order, [9]);
    assert_eq!(m.plain, "p");
    assert_eq!(m.scratch, Vec::<f64>::new(), "bcast_only: its default");
    assert_eq!(
        m.extra.keys().collect::<Vec<_>>(),
        ["hometown", "visits"],
        "the members that are not fields"
    );
    assert_eq!(m.extra["visits"], o.get("visits").unwrap().clone(), "typed");

    // The object's own name maps: `plain` stored as `simple`.
    o.fields.retain(|(n, _)| n != "plain");
    o.insert("simple", Value::from("mapped by the object"));
    o.name_maps.push(("simple".into(), "plain".into()));
    let m: Mapped = anam::from_value(Value::Object(o)).unwrap();
    assert_eq!(m.plain, "mapped by the object");
    assert!(!m.extra.contains_key("simple"));

    // A plain map of an object: its members through its name maps, without `class`.
    let mut o = Object::new("any.Class");
    o.insert("a", Value::I64(1));
    o.insert("_b", Value::I64(2));
    o.name_maps.push(("_b".into(), "b".into()));
    let map: BTreeMap<String, i64> = anam::from_value(Value::Object(o)).unwrap();
    assert_eq!(map, BTreeMap::from([("a".into(), 1), ("b".into(), 2)]));
}

#[test]
fn from_value_reads_dicts_with_any_keys_lists_and_enums() {
    let d = Value::Dict(vec![
        (
            Value::List(vec![Value::I32(1), Value::I32(2)]),
            Value::from("one-two"),
        ),
        (
            Value::List(vec![Value::I32(-1), Value::I32(0)]),
            Value::from("minus"),
        ),
    ]);
    let m: std::collections::HashMap<(i32, i32), String> = anam::from_value(d).unwrap();
    assert_eq!(m[&(1, 2)], "one-two");
    assert_eq!(m[&(-1, 0)], "minus");

    let l = Value::List(vec![Value::I64(1), Value::U8(2), Value::I16(-3)]);
    assert_eq!(
        anam::from_value::<Vec<f64>>(l.clone()).unwrap(),
        [1.0, 2.0, -3.0]
    );
    assert_eq!(
        anam::from_value::<(i8, u64, i32)>(l.clone()).unwrap(),
        (1, 2, -3)
    );
    let err = anam::from_value::<(i8, u64)>(l).unwrap_err().to_string();
    assert!(err.contains("invalid length 3"), "{err}");
    let a = Value::from(ndarray::arr2(&[[1u32, 2], [3, 4]]).into_dyn());
    assert_eq!(
        anam::from_value::<Vec<Vec<u64>>>(a).unwrap(),
        [[1, 2], [3, 4]],
        "an array is nested sequences"
    );

    #[derive(serde::Deserialize, Debug, PartialEq)]
    enum Shape {
        Point,
        Circle(f64),
        Rect { w: f32, h: f32 },
    }
    let shapes = Value::List(vec![
        Value::from("Point"),
        Value::Dict(vec![(Value::from("Circle"), Value::F64(2.0))]),
        Value::Dict(vec![(
            Value::from("Rect"),
            Value::Dict(vec![
                (Value::from("w"), Value::F32(1.0)),
                (Value::from("h"), Value::F32(2.0)),
            ]),
        )]),
    ]);
    assert_eq!(
        anam::from_value::<Vec<Shape>>(shapes).unwrap(),
        [
            Shape::Point,
            Shape::Circle(2.0),
            Shape::Rect { w: 1.0, h: 2.0 }
        ]
    );
}

#[test]
fn from_value_errors_name_the_place_in_the_value() {
    #[derive(serde::Deserialize, Debug)]
    #[serde(rename = "value_tests.Team")]
    #[allow(dead_code)]
    struct Team {
        people: Vec<Person>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[serde(rename = "value_tests.Person")]
    #[allow(dead_code)]
    struct Person {
        age: u8,
    }
    let person = |age: Value| {
        let mut p = Object::new("value_tests.Person");
        p.insert("age", age);
        Value::Object(p)
    };
    let mut team = Object::new("value_tests.Team");
    team.insert(
        "people",
        Value::List(vec![person(Value::I64(30)), person(Value::I64(300))]),
    );
    let err = anam::from_value::<Team>(Value::Object(team)).unwrap_err();
    assert_eq!(err.path(), Some("/people/1/age"), "{err}");
    assert!(err.to_string().contains("300"), "{err}");

    let d = Value::Dict(vec![(Value::from("k"), Value::from("not a number"))]);
    let err = anam::from_value::<BTreeMap<String, i32>>(d).unwrap_err();
    assert_eq!(err.path(), Some("/k"), "{err}");
}

#[test]
fn from_value_of_a_file_value_reads_as_from_file_for_every_fixture() {
    // The self-describing view (`deserialize_any`) through serde_json::Value: from the file,
    // and from the file's Value.
    let (mut same, mut refused) = (0, 0);
    for (file, groups) in fixture_groups() {
        for group in groups {
            let path = fixture(&file);
            let direct = anam_open(|| anam::from_file::<serde_json::Value>(&path, Some(&group)));
            let v = load_value(&path, &group);
            let through = anam::from_value_ref::<serde_json::Value>(&v);
            let owned = anam::from_value::<serde_json::Value>(v);
            match (direct, through, owned) {
                (Ok(d), Ok(t), Ok(o)) => {
                    assert_eq!(t, d, "{file}/{group}");
                    assert_eq!(o, d, "{file}/{group}");
                    same += 1;
                }
                // JSON has string keys only: a dict of integer keys fails both ways.
                (Err(d), Err(t), Err(o)) => {
                    let d = d.kind().to_string();
                    assert_eq!(t.kind().to_string(), d, "{file}/{group}");
                    assert_eq!(o.kind().to_string(), d, "{file}/{group}");
                    refused += 1;
                }
                (d, t, o) => panic!("{file}/{group}: from_file {d:?}, from_value {t:?} / {o:?}"),
            }
        }
    }
    println!("{same} groups read the same, {refused} refused both ways");
    assert!(
        same >= 18 && refused <= 1,
        "{same} groups read the same, {refused} refused"
    );
}

// ---------------------------------------------------------------------------------------
// to_value of registered classes: the object the class's file holds
// ---------------------------------------------------------------------------------------

#[test]
fn to_value_of_a_class_is_the_object_of_its_file() {
    let m = mapped();
    let v = anam::to_value(&m).unwrap();
    let o = object(Some(&v));
    let names: Vec<&str> = o.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["order", "plain", "hometown", "ratio"],
        "stored names, extra_data inline, no bcast_only member"
    );
    assert_eq!(o.name_maps, [("order".to_string(), "_order".to_string())]);
    assert_eq!(o.get("ratio"), Some(&Value::F32(0.5)));

    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.hdf5"), dir.path().join("b.hdf5"));
    anam::to_file(&a, "m", &m).unwrap();
    anam::to_file(&b, "m", &v).unwrap();
    assert_eq!(diff(&dump_file(&a), &dump_file(&b)), Vec::<String>::new());
    assert_eq!(load_value(&a, "m"), v, "the Value of the class's file");
    let want = Mapped {
        scratch: vec![],
        ..m
    };
    assert_eq!(anam::from_file::<Mapped>(&b, Some("m")).unwrap(), want);
    assert_eq!(anam::from_value::<Mapped>(v).unwrap(), want);
}

#[test]
fn to_value_refuses_extra_data_the_file_cannot_hold() {
    let mut m = mapped();
    m.extra.insert("LIST_x".into(), Value::I64(1));
    let err = anam::to_value(&m).unwrap_err().to_string();
    assert!(err.contains("`LIST_x` is reserved"), "{err}");

    let mut m = mapped();
    m.extra.insert("plain".into(), Value::I64(1));
    let err = anam::to_value(&m).unwrap_err().to_string();
    assert!(err.contains("`plain` is written twice"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.hdf5");
    let err = anam::to_file(&path, "m", &m).unwrap_err().to_string();
    assert!(
        err.contains("`plain` is written twice"),
        "the file refuses it too: {err}"
    );
}

// ---------------------------------------------------------------------------------------
// Navigation
// ---------------------------------------------------------------------------------------

fn navigable() -> Value {
    let mut o = Object::new("value_tests.Lab");
    o.insert(
        "order",
        Value::List(vec![Value::I64(3), Value::U64(u64::MAX)]),
    );
    o.name_maps.push(("order".into(), "_order".into()));
    o.insert(
        "by_key",
        Value::Dict(vec![
            (Value::I16(2), Value::from("two")),
            (Value::from("name"), Value::Bool(true)),
            (Value::I64(-1), Value::Unit),
        ]),
    );
    o.insert(
        "grid",
        Value::from(ndarray::arr2(&[[1i32, 2], [3, 4]]).into_dyn()),
    );
    o.insert("ratio", Value::F32(0.25));
    Value::Object(o)
}

#[test]
fn values_index_like_serde_json() {
    let mut v = navigable();
    assert_eq!(v["order"][0], Value::I64(3));
    assert_eq!(v["_order"][1].as_u64(), Some(u64::MAX), "by member name");
    assert_eq!(
        v["by_key"][2].as_str(),
        Some("two"),
        "a dict by integer key"
    );
    assert_eq!(v["by_key"]["name"].as_bool(), Some(true));
    assert!(v["by_key"][0].is_none(), "not by position");
    assert!(v["order"][2].is_none(), "out of range: a shared None");
    assert!(v["missing"]["deeper"][0].is_none());
    assert!(v[0].is_none() && v["ratio"]["x"].is_none());
    assert_eq!(v.get("order").and_then(|o| o.get(0)), Some(&Value::I64(3)));
    assert_eq!(v.get(String::from("ratio")), Some(&Value::F32(0.25)));
    assert_eq!(v.get("nothing"), None);

    *v.get_mut("_order").unwrap().get_mut(0).unwrap() = Value::I64(30);
    *v.get_mut("by_key").unwrap().get_mut(2).unwrap() = Value::from("deux");
    assert_eq!(v["order"][0].as_i64(), Some(30));
    assert_eq!(v["by_key"][2].as_str(), Some("deux"));
    assert!(v.get_mut("nothing").is_none());

    assert_eq!(v["ratio"].as_f64(), Some(0.25));
    assert_eq!(v["order"][1].as_i64(), None, "u64::MAX is no i64");
    assert_eq!(v["order"][1].as_f64(), Some(u64::MAX as f64));
    assert_eq!(v["by_key"].as_dict().map(<[_]>::len), Some(3));
    assert_eq!(v["order"].as_list().map(<[_]>::len), Some(2));
    assert!(v.as_object().is_some() && v.as_list().is_none() && v.as_dict().is_none());
    assert_eq!(
        v["by_key"].as_dict().unwrap()[2].1,
        Value::Unit,
        "positions"
    );
}

#[test]
fn values_give_typed_arrays() {
    let v = navigable();
    let view = v["grid"].as_array_of::<i32>().unwrap();
    assert_eq!(view[[1, 0]], 3);
    assert!(
        std::ptr::eq(
            view.as_ptr(),
            v["grid"]
                .as_array()
                .unwrap()
                .view::<i32>()
                .unwrap()
                .as_ptr()
        ),
        "borrowed"
    );
    assert!(v["grid"].as_array_of::<i64>().is_none(), "no conversion");
    assert_eq!(
        v["grid"].to_array::<f64>().unwrap(),
        ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]).into_dyn(),
        "converted without loss"
    );
    let err = v["grid"].to_array::<i16>().unwrap_err();
    assert!(matches!(err.kind(), anam::ErrorKind::Invalid(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "cannot convert a int32 array to int16 without loss"
    );
    assert_eq!(
        v["ratio"].to_array::<f64>().unwrap(),
        ndarray::arr0(0.25).into_dyn()
    );
    assert!(v["order"].to_array::<i64>().is_err(), "a list is no array");
    assert!(v["missing"].to_array::<i64>().is_err());
}

#[test]
fn typed_array_conversions_fail_with_anam_errors() {
    let a = TypedArray::U16(ndarray::arr1(&[1u16, 2]).into_dyn());
    let err: anam::Error = a.clone().into_array::<i8>().unwrap_err();
    assert!(matches!(err.kind(), anam::ErrorKind::Invalid(_)), "{err}");
    assert_eq!(
        a.into_array::<u64>().unwrap(),
        ndarray::arr1(&[1u64, 2]).into_dyn()
    );
}
