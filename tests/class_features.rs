//! The HDF5 side of the `#[anam::class]` field options: name maps (`#[anam(name)]`, with
//! the `namemaps` attribute), `bcast_only` (never written) and `extra_data` (entries beside
//! the members; unknown entries on load), alone and in classes nested in a class, a `Vec`
//! and a map; and `Store` equality.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anam::hdf5;
use anam::hdf5::types::{FixedAscii, TypeDescriptor, VarLenAscii};
use anam::{AnamClass, ExtraData, Object, Store, TypedArray, Value};
use ndarray::{Array2, ArrayD};
use serde::{Deserialize, Serialize};
use tempfile::TempDir;

#[path = "common/h5.rs"]
mod h5;
use h5::{class_of, sorted};

// ---------------------------------------------------------------------------------------
// Classes
// ---------------------------------------------------------------------------------------

/// All three options at once.
#[anam::class(class = "features.Featured")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Featured {
    /// Python's `_order`, stored as `order`.
    #[anam(name = "order")]
    pub _order: Vec<i64>,
    pub plain: String,
    /// Sent over MPI, never written to HDF5.
    #[anam(bcast_only)]
    pub scratch: Vec<f64>,
    #[anam(extra_data)]
    pub extra_data: ExtraData,
}

/// `Featured` nested every way.
#[anam::class(class = "features.Holder")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Holder {
    pub one: Featured,
    pub many: Vec<Featured>,
    pub by_name: BTreeMap<String, Featured>,
    pub maybe: Option<Featured>,
}

/// What another program (or a newer version) wrote under the same tag: `Featured`'s
/// stored members and more.
#[derive(Serialize)]
#[serde(rename = "features.Featured")]
struct Wider {
    order: Vec<i64>,
    plain: String,
    note: String,
    count: i32,
    flag: bool,
    #[serde(with = "anam::array")]
    weights: Array2<u16>,
    #[serde(with = "anam::array")]
    empty: ArrayD<f32>,
    sub: Sub,
    names: Vec<String>,
    table: BTreeMap<String, i64>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename = "features.Sub")]
struct Sub {
    v: f64,
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn temp_file() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("features.hdf5");
    (dir, path)
}

fn featured(tag: i64) -> Featured {
    let mut extra = ExtraData::new();
    extra.insert("hometown".into(), Value::from("Oxford"));
    extra.insert("gate".into(), Value::I64(12 + tag));
    extra.insert(
        "visits".into(),
        Value::from(ArrayD::from_shape_vec(vec![2, 3], vec![1i16, 2, 3, 4, 5, 6]).unwrap()),
    );
    let mut sub = Object::new("features.Sub");
    sub.insert("v", Value::F64(0.5));
    extra.insert("sub".into(), Value::Object(sub));
    extra.insert(
        "things".into(),
        Value::List(vec![Value::from("a"), Value::I64(2)]),
    );
    extra.insert(
        "lookup".into(),
        Value::Dict(vec![(Value::I64(3), Value::from("three"))]),
    );
    Featured {
        _order: vec![3, 1, tag],
        plain: format!("p{tag}"),
        scratch: vec![1.5, 2.5],
        extra_data: extra,
    }
}

/// `f` as it loads: `bcast_only` fields are not stored, so they take their default.
fn as_loaded(f: &Featured) -> Featured {
    Featured {
        scratch: Vec::new(),
        ..f.clone()
    }
}

fn open(path: &Path, group: &str) -> (hdf5::File, hdf5::Group) {
    let file = hdf5::File::open(path).unwrap();
    let g = file.group(group).unwrap();
    (file, g)
}

/// The `namemaps` attribute as Rust writes it: fixed-length byte strings, N x 2.
fn namemaps(g: &hdf5::Group) -> Vec<[String; 2]> {
    let attr = g.attr("namemaps").expect("a namemaps attribute");
    let td = attr.dtype().unwrap().to_descriptor().unwrap();
    assert!(
        matches!(td, TypeDescriptor::FixedAscii(_)),
        "{}: namemaps of fixed-length byte strings, found {td:?}",
        g.name()
    );
    namemap_rows(&attr)
}

/// The rows of a `namemaps` attribute of any string type.
fn namemap_rows(attr: &hdf5::Attribute) -> Vec<[String; 2]> {
    let shape = attr.shape();
    assert_eq!(shape.len(), 2, "{}: namemaps is N x 2", attr.name());
    assert_eq!(shape[1], 2, "{}: namemaps is N x 2", attr.name());
    let cells: Vec<String> = match attr.dtype().unwrap().to_descriptor().unwrap() {
        TypeDescriptor::FixedAscii(_) => attr
            .read_raw::<FixedAscii<64>>()
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        TypeDescriptor::VarLenAscii => attr
            .read_raw::<VarLenAscii>()
            .unwrap()
            .iter()
            .map(|s| s.to_string())
            .collect(),
        other => panic!("{}: namemaps of {other:?}", attr.name()),
    };
    cells
        .chunks(2)
        .map(|row| [row[0].clone(), row[1].clone()])
        .collect()
}

/// What kind of entry `name` is in `g`: "attribute", "dataset", "group <class>" or "absent".
fn kind(g: &hdf5::Group, name: &str) -> String {
    if g.attr_names().unwrap().iter().any(|n| n == name) {
        return "attribute".into();
    }
    if !g.link_exists(name) {
        return "absent".into();
    }
    match g.loc_type_by_name(name).unwrap() {
        hdf5::LocationType::Dataset => "dataset".into(),
        hdf5::LocationType::Group => format!("group {}", class_of(&g.group(name).unwrap())),
        other => format!("{other:?}"),
    }
}

/// Checks the stored layout of a `Featured` group: the three options applied.
fn check_featured_group(g: &hdf5::Group, f: &Featured) {
    let at = g.name();
    assert_eq!(class_of(g), "features.Featured", "{at}");
    // Name map: stored as `order`, with the `namemaps` row.
    assert_eq!(kind(g, "order"), "dataset", "{at}");
    assert_eq!(kind(g, "_order"), "absent", "{at}");
    assert_eq!(
        g.dataset("order").unwrap().read_raw::<i64>().unwrap(),
        f._order,
        "{at}"
    );
    assert_eq!(
        namemaps(g),
        [["order".to_string(), "_order".to_string()]],
        "{at}"
    );
    // bcast_only: not stored at all.
    assert_eq!(kind(g, "scratch"), "absent", "{at}");
    // extra_data: beside the members, each by its kind; the map itself is not stored.
    assert_eq!(kind(g, "extra_data"), "absent", "{at}");
    assert_eq!(kind(g, "plain"), "attribute", "{at}");
    assert_eq!(kind(g, "hometown"), "attribute", "{at}");
    assert_eq!(kind(g, "gate"), "attribute", "{at}");
    assert_eq!(kind(g, "visits"), "dataset", "{at}");
    assert_eq!(kind(g, "sub"), "group features.Sub", "{at}");
    assert_eq!(
        kind(g, "things"),
        "group anamnesis.abstract.AnamList",
        "{at}"
    );
    assert_eq!(
        kind(g, "lookup"),
        "group anamnesis.abstract.AnamDict",
        "{at}"
    );
    let visits = g.dataset("visits").unwrap();
    assert_eq!(visits.shape(), [2, 3], "{at}");
    assert_eq!(
        visits.dtype().unwrap().to_descriptor().unwrap(),
        TypeDescriptor::Integer(hdf5::types::IntSize::U2),
        "{at}"
    );
    assert_eq!(
        g.attr("gate").unwrap().read_scalar::<i64>().unwrap(),
        f.extra_data["gate"].as_i64().unwrap(),
        "{at}"
    );
    let mut want = vec![
        "class", "namemaps", "order", "plain", "hometown", "gate", "visits", "sub", "things",
        "lookup",
    ];
    want.sort();
    let mut have = g.attr_names().unwrap();
    have.extend(g.member_names().unwrap());
    assert_eq!(sorted(have), want, "{at}: everything stored");
}

// ---------------------------------------------------------------------------------------
// Name maps
// ---------------------------------------------------------------------------------------

#[anam::class(class = "features.OnlyMapped")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct OnlyMapped {
    #[anam(name = "order")]
    pub _order: Vec<i64>,
    #[anam(name = "the_name")]
    pub name: String,
    pub plain: String,
}

#[test]
fn name_maps_store_the_member_under_its_file_name() {
    let (_dir, path) = temp_file();
    let m = OnlyMapped {
        _order: vec![3, 1, 2],
        name: "n".into(),
        plain: "p".into(),
    };
    anam::to_file(&path, "m", &m).unwrap();
    let (file, g) = open(&path, "m");
    assert_eq!(
        sorted(g.attr_names().unwrap()),
        ["class", "namemaps", "plain", "the_name"]
    );
    assert_eq!(g.member_names().unwrap(), ["order"]);
    let mut rows = namemaps(&g);
    rows.sort();
    assert_eq!(
        rows,
        [
            ["order".to_string(), "_order".to_string()],
            ["the_name".to_string(), "name".to_string()]
        ]
    );
    drop(file);
    let back: OnlyMapped = anam::from_file(&path, Some("m")).unwrap();
    assert_eq!(back, m);
    let dynamic = anam::obj_from_file(&path, Some("m")).unwrap();
    assert_eq!(dynamic.downcast_ref::<OnlyMapped>(), Some(&m));
}

/// The attribute Python wrote (fixture `namemap.hdf5`) holds the same rows. Found: Python
/// anamnesis 1.0.4 with current h5py writes it as *variable-length* ASCII strings (the first
/// notes on the layout said fixed-length); Rust writes fixed-length ones, which Python reads
/// too (docs/FORMAT.md, "Name maps").
#[test]
fn name_maps_attribute_as_python_wrote_it() {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/anamnesis-1.0.4/namemap.hdf5");
    let (_file, g) = open(&fixture, "nmap");
    let attr = g.attr("namemaps").unwrap();
    assert_eq!(
        attr.dtype().unwrap().to_descriptor().unwrap(),
        TypeDescriptor::VarLenAscii
    );
    assert_eq!(
        namemap_rows(&attr),
        [["order".to_string(), "_order".to_string()]]
    );
}

/// A file without a `namemaps` attribute (e.g. written by hand) still maps the class's
/// stored name to the member.
#[test]
fn name_maps_of_the_class_apply_without_the_attribute() {
    #[derive(Serialize)]
    #[serde(rename = "features.OnlyMapped")]
    struct ByHand {
        order: Vec<i64>,
        the_name: String,
        plain: String,
    }
    let (_dir, path) = temp_file();
    anam::to_file(
        &path,
        "m",
        &ByHand {
            order: vec![1],
            the_name: "n".into(),
            plain: "p".into(),
        },
    )
    .unwrap();
    let (file, g) = open(&path, "m");
    assert!(g.attr("namemaps").is_err());
    drop(file);
    let back: OnlyMapped = anam::from_file(&path, Some("m")).unwrap();
    assert_eq!(
        back,
        OnlyMapped {
            _order: vec![1],
            name: "n".into(),
            plain: "p".into()
        }
    );
}

// ---------------------------------------------------------------------------------------
// bcast_only
// ---------------------------------------------------------------------------------------

#[anam::class(class = "features.Bcast")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Bcast {
    pub kept: i64,
    #[anam(bcast_only)]
    pub cache: Vec<f64>,
    #[anam(bcast_only)]
    pub label: String,
}

#[test]
fn bcast_only_fields_are_not_stored_and_read_back_as_default() {
    let (_dir, path) = temp_file();
    let b = Bcast {
        kept: 4,
        cache: vec![1.0, 2.0],
        label: "not stored".into(),
    };
    anam::to_file(&path, "b", &b).unwrap();
    let (file, g) = open(&path, "b");
    assert_eq!(sorted(g.attr_names().unwrap()), ["class", "kept"]);
    assert!(g.member_names().unwrap().is_empty());
    drop(file);
    let back: Bcast = anam::from_file(&path, Some("b")).unwrap();
    assert_eq!(
        back,
        Bcast {
            kept: 4,
            cache: Vec::new(),
            label: String::new()
        }
    );
    // As a Value: not there either.
    let v: Value = anam::from_file(&path, Some("b")).unwrap();
    let o = v.as_object().unwrap();
    assert_eq!(o.fields, [("kept".to_string(), Value::I64(4))]);
}

// ---------------------------------------------------------------------------------------
// extra_data
// ---------------------------------------------------------------------------------------

#[test]
fn all_three_options_together() {
    let (_dir, path) = temp_file();
    let f = featured(7);
    anam::to_file(&path, "f", &f).unwrap();
    let (file, g) = open(&path, "f");
    check_featured_group(&g, &f);
    drop(file);
    let back: Featured = anam::from_file(&path, Some("f")).unwrap();
    assert_eq!(back, as_loaded(&f));
    let dynamic = anam::obj_from_file(&path, Some("f")).unwrap();
    assert_eq!(dynamic.downcast_ref::<Featured>(), Some(&as_loaded(&f)));
}

#[test]
fn entries_that_are_not_members_load_into_extra_data() {
    let (_dir, path) = temp_file();
    let weights = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as u16);
    let wider = Wider {
        order: vec![5, 6],
        plain: "wide".into(),
        note: "a note".into(),
        count: -3,
        flag: true,
        weights: weights.clone(),
        empty: ArrayD::zeros(vec![2, 0]),
        sub: Sub { v: 2.5 },
        names: vec!["x".into(), "y".into()],
        table: [("k".to_string(), 1)].into(),
    };
    anam::to_file(&path, "w", &wider).unwrap();
    let f: Featured = anam::from_file(&path, Some("w")).unwrap();
    assert_eq!(f._order, [5, 6], "`order` is the mapped member");
    assert_eq!(f.plain, "wide");
    assert!(f.scratch.is_empty());

    let x = &f.extra_data;
    let keys: Vec<&str> = x.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["count", "empty", "flag", "names", "note", "sub", "table", "weights"],
        "members, `class` and `namemaps` are not extra data"
    );
    assert_eq!(x["note"], Value::from("a note"));
    assert_eq!(x["count"], Value::I32(-3), "scalars keep their type");
    assert_eq!(x["flag"], Value::Bool(true));
    assert_eq!(
        x["weights"],
        Value::Array(TypedArray::U16(weights.into_dyn())),
        "arrays keep dtype and shape"
    );
    let empty = x["empty"].as_array().expect("an array");
    assert_eq!(
        (empty.dtype(), empty.shape()),
        (anam::DType::F32, &[2, 0][..])
    );
    let sub = x["sub"].as_object().expect("an object");
    assert_eq!(sub.class, "features.Sub");
    assert_eq!(sub.get("v"), Some(&Value::F64(2.5)));
    assert_eq!(
        x["names"],
        Value::List(vec![Value::from("x"), Value::from("y")])
    );
    assert_eq!(
        x["table"],
        Value::Dict(vec![(Value::from("k"), Value::I64(1))])
    );

    // Written back, the extra data is where it was: the same file, at h5dump level.
    anam::to_file(&path, "again", &f).unwrap();
    let first: Value = anam::from_file(&path, Some("w")).unwrap();
    let second: Value = anam::from_file(&path, Some("again")).unwrap();
    let (first, second) = (first.as_object().unwrap(), second.as_object().unwrap());
    assert_eq!(first.fields.len(), second.fields.len());
    for (name, value) in &first.fields {
        assert_eq!(second.get(name), Some(value), "{name}");
    }
}

#[test]
fn extra_data_keys_reserved_by_the_layout_are_an_error() {
    for key in ["class", "namemaps", "LIST_x", "LISTS", "LIST_item0"] {
        let (_dir, path) = temp_file();
        let mut f = featured(1);
        f.extra_data.insert(key.to_string(), Value::I64(1));
        let err = anam::to_file(&path, "f", &f).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("`{key}`")),
            "{key}: names the key: {msg}"
        );
        assert!(msg.contains("reserved"), "{key}: says what is wrong: {msg}");
        assert!(msg.contains("/f"), "{key}: names the group: {msg}");
        assert_eq!(err.path(), Some("/f"), "{key}: {msg}");

        // Nested, the path is the nested group's.
        let mut h = holder();
        h.many[1]
            .extra_data
            .insert(key.to_string(), Value::from("x"));
        let err = anam::to_file(&path, "h", &h).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&format!("`{key}`")), "{key}: {msg}");
        assert_eq!(err.path(), Some("/h/many/LIST_item1"), "{key}: {msg}");
    }
}

/// An `extra_data` key that is also a stored member name cannot be written beside it: an
/// error naming the entry.
#[test]
fn extra_data_keys_that_are_member_names_are_an_error() {
    for key in ["plain", "order"] {
        let (_dir, path) = temp_file();
        let mut f = featured(1);
        f.extra_data.insert(key.to_string(), Value::I64(1));
        let err = match anam::to_file(&path, "f", &f) {
            Err(e) => e,
            Ok(()) => panic!(
                "{key}: written without an error, the file holds {:?}",
                anam::from_file::<Value>(&path, Some("f")).map_err(|e| e.to_string())
            ),
        };
        let msg = err.to_string();
        assert!(msg.contains(&format!("/f/{key}")), "{key}: {msg}");
    }
}

// ---------------------------------------------------------------------------------------
// Nested classes keep all three options
// ---------------------------------------------------------------------------------------

fn holder() -> Holder {
    Holder {
        one: featured(1),
        many: vec![featured(2), featured(3)],
        by_name: [
            ("a".to_string(), featured(4)),
            ("b".to_string(), featured(5)),
        ]
        .into(),
        maybe: Some(featured(6)),
    }
}

#[test]
fn nested_in_a_class_a_vec_and_a_map() {
    let (_dir, path) = temp_file();
    let h = holder();
    anam::to_file(&path, "h", &h).unwrap();
    let (file, g) = open(&path, "h");
    assert_eq!(class_of(&g), "features.Holder");
    assert!(g.attr("namemaps").is_err(), "the holder maps nothing");
    check_featured_group(&g.group("one").unwrap(), &h.one);
    check_featured_group(&g.group("maybe").unwrap(), h.maybe.as_ref().unwrap());
    let many = g.group("many").unwrap();
    assert_eq!(class_of(&many), "anamnesis.abstract.AnamList");
    for (i, f) in h.many.iter().enumerate() {
        check_featured_group(&many.group(&format!("LIST_item{i}")).unwrap(), f);
    }
    let dict = g.group("by_name").unwrap();
    assert_eq!(class_of(&dict), "anamnesis.abstract.AnamDict");
    for (i, f) in h.by_name.values().enumerate() {
        check_featured_group(&dict.group(&format!("dictdata/LIST_item{i}")).unwrap(), f);
    }
    drop(file);

    let back: Holder = anam::from_file(&path, Some("h")).unwrap();
    let want = Holder {
        one: as_loaded(&h.one),
        many: h.many.iter().map(as_loaded).collect(),
        by_name: h
            .by_name
            .iter()
            .map(|(k, f)| (k.clone(), as_loaded(f)))
            .collect(),
        maybe: h.maybe.as_ref().map(as_loaded),
    };
    assert_eq!(back, want);
    let dynamic = anam::obj_from_file(&path, Some("h")).unwrap();
    assert_eq!(dynamic.downcast_ref::<Holder>(), Some(&want));

    // As a Value, each nested object keeps its name maps.
    let v: Value = anam::from_file(&path, Some("h")).unwrap();
    let one = v
        .as_object()
        .unwrap()
        .get("one")
        .unwrap()
        .as_object()
        .unwrap();
    assert_eq!(one.name_maps, [("order".to_string(), "_order".to_string())]);
    assert!(one.member("_order").is_some());
}

/// A top-level `Vec` and map of classes keep the options too.
#[test]
fn top_level_vec_and_map_of_classes() {
    let (_dir, path) = temp_file();
    let list = vec![featured(1), featured(2)];
    anam::to_file(&path, "list", &list).unwrap();
    let map: BTreeMap<String, Featured> = [("k".to_string(), featured(3))].into();
    anam::to_file(&path, "map", &map).unwrap();
    let (file, g) = open(&path, "list");
    check_featured_group(&g.group("LIST_item1").unwrap(), &list[1]);
    drop(file);
    let (file, g) = open(&path, "map");
    check_featured_group(&g.group("dictdata/LIST_item0").unwrap(), &map["k"]);
    drop(file);
    let back: Vec<Featured> = anam::from_file(&path, Some("list")).unwrap();
    assert_eq!(back, list.iter().map(as_loaded).collect::<Vec<_>>());
    let back: BTreeMap<String, Featured> = anam::from_file(&path, Some("map")).unwrap();
    assert_eq!(back["k"], as_loaded(&map["k"]));
}

// ---------------------------------------------------------------------------------------
// Store
// ---------------------------------------------------------------------------------------

#[test]
fn store_equality_is_pythons() {
    let mut a = Store::new();
    a.insert("airport_from", "Manchester");
    a.insert("gate", 12i64);
    a.insert(
        "delays",
        ArrayD::from_shape_vec(vec![3], vec![0.5, 1.25, 3.0]).unwrap(),
    );
    let mut b = Store::new();
    b.insert(
        "delays",
        ArrayD::from_shape_vec(vec![3], vec![0.5, 1.25, 3.0]).unwrap(),
    );
    b.insert("gate", 12i64);
    b.insert("airport_from", "Manchester");
    assert_eq!(a, b, "same keys and values, in another order");

    let mut c = b.clone();
    c.insert("gate", 13i64);
    assert_ne!(a, c, "a value differs");
    let mut d = b.clone();
    d.insert("extra", "x");
    assert_ne!(a, d, "a key more");
    assert_ne!(a, Store::new());
    assert_eq!(Store::new(), Store::default());

    // Through a file, and against the one Python wrote.
    let (_dir, path) = temp_file();
    anam::to_file(&path, "data", &a).unwrap();
    let back: Store = anam::from_file(&path, Some("data")).unwrap();
    assert_eq!(back, a);
    let dynamic = anam::obj_from_file(&path, Some("data")).unwrap();
    assert_eq!(dynamic.class_tag(), Store::CLASS);
    assert_eq!(dynamic.downcast_ref::<Store>(), Some(&a));

    let python: Store = anam::from_file(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/anamnesis-1.0.4/tutorial4.hdf5"),
        Some("data"),
    )
    .unwrap();
    let mut want = a.clone();
    want.insert("airport_to", "Schipol");
    assert_eq!(python, want);
}

#[test]
fn store_entries_are_stored_by_kind() {
    let (_dir, path) = temp_file();
    let mut s = Store::new();
    s.insert("name", "x");
    s.insert("n", 3i32);
    s.insert("grid", ArrayD::<f32>::zeros(vec![2, 2]));
    s.insert("list", Value::List(vec![Value::I64(1)]));
    anam::to_file(&path, "s", &s).unwrap();
    let (_file, g) = open(&path, "s");
    assert_eq!(class_of(&g), "anamnesis.store.Store");
    assert_eq!(kind(&g, "name"), "attribute");
    assert_eq!(kind(&g, "n"), "attribute");
    assert_eq!(kind(&g, "grid"), "dataset");
    assert_eq!(kind(&g, "list"), "group anamnesis.abstract.AnamList");
    assert_eq!(kind(&g, "extra_data"), "absent");
}
