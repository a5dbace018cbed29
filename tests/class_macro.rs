//! `#[anam::class]`: the `AnamClass` constants, the registry entries, the init hook (once
//! per object, nested objects and every Serde format included), default groups, loading by
//! tag and aliases.
//!
//! The HDF5 behaviour of `name`, `bcast_only` and `extra_data` is tested with the format;
//! here only their registration is.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use anam::registry::ClassInfo;
use anam::AnamClass;
use serde::{Deserialize, Serialize};
use tempfile::TempDir;

// ---------------------------------------------------------------------------------------
// Classes
// ---------------------------------------------------------------------------------------

/// Every option at once (the example of the macro's documentation).
#[anam::class(
    class = "test_classes2.ComplexPerson",
    default_group = "person",
    aliases("test_classes2.OldComplexPerson"),
    init = ComplexPerson::after_load_hook,
)]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ComplexPerson {
    pub name: String,
    pub age: i64,
    #[anam(extra_data)]
    pub extra: anam::ExtraData,
    #[anam(bcast_only)]
    pub cache: Vec<f64>,
    #[anam(name = "order")]
    pub _order: Vec<i64>,
}

impl ComplexPerson {
    fn after_load_hook(&mut self) {
        self.cache = vec![self.age as f64];
    }
}

/// No options: the tag is the struct's name.
#[anam::class]
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Plain {
    x: i64,
}

/// Serde names: `rename_all` and `rename` give the member names the registry knows.
#[anam::class(class = "tests.Renamed")]
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Renamed {
    #[anam(bcast_only)]
    first_name: String,
    #[serde(rename = "x")]
    #[anam(name = "stored_x")]
    y: i64,
    #[anam(extra_data)]
    more_data: HashMap<String, i64>,
}

/// `extra_data` as a plain `BTreeMap`; `init` as a string naming a free function.
#[anam::class(class = "tests.WithMap", init = "hooks::with_map")]
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct WithMap {
    #[anam(extra_data)]
    extra: BTreeMap<String, i64>,
    #[serde(skip)]
    loads: u32,
}

mod hooks {
    pub fn with_map(w: &mut super::WithMap) {
        w.loads += 1;
    }
}

/// A class in a module: `type_name` is its full path.
mod nested {
    #[anam::class(class = "tests.Inner")]
    #[derive(serde::Serialize, serde::Deserialize, Debug)]
    pub struct Inner {
        pub v: i64,
    }
}

/// Counts its loads in `loads`, which is not stored: each loaded object must have 1.
#[anam::class(class = "tests.Counted", default_group = "counted", init = Counted::loaded)]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Counted {
    id: i64,
    /// Serde's field attributes work in the shadow struct too.
    #[serde(with = "as_string")]
    label: i64,
    #[serde(skip)]
    loads: u32,
    /// A field configured out is left out of the shadow struct and its conversion.
    #[cfg(any())]
    ghost: NotSerializable,
}

#[cfg(any())]
struct NotSerializable;

impl Counted {
    fn new(id: i64) -> Self {
        Counted {
            id,
            label: id * 10,
            loads: 0,
        }
    }

    fn loaded(&mut self) {
        self.loads += 1;
    }
}

/// Serializes an `i64` as a string.
mod as_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Holds `Counted` objects every way: its hook records whether theirs had run before it.
#[anam::class(class = "tests.Holder", init = Holder::check_children)]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Holder {
    one: Counted,
    many: Vec<Counted>,
    by_name: BTreeMap<String, Counted>,
    maybe: Option<Counted>,
    #[serde(skip)]
    loads: u32,
    #[serde(skip)]
    children_loaded_first: bool,
}

impl Holder {
    fn new() -> Self {
        Holder {
            one: Counted::new(1),
            many: vec![Counted::new(2), Counted::new(3)],
            by_name: [("a", 4), ("b", 5)]
                .map(|(k, id)| (k.to_string(), Counted::new(id)))
                .into(),
            maybe: Some(Counted::new(6)),
            loads: 0,
            children_loaded_first: false,
        }
    }

    fn check_children(&mut self) {
        self.loads += 1;
        self.children_loaded_first = self.counted().iter().all(|c| c.loads == 1);
    }

    fn counted(&self) -> Vec<&Counted> {
        let mut all = vec![&self.one];
        all.extend(&self.many);
        all.extend(self.by_name.values());
        all.extend(&self.maybe);
        all
    }
}

/// Container attributes are kept in the shadow struct: `default` (from the class's own
/// `Default`) and `deny_unknown_fields`.
#[anam::class(class = "tests.Defaults", init = Defaults::loaded)]
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
struct Defaults {
    a: i64,
    b: String,
    #[serde(skip)]
    loads: u32,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            a: 7,
            b: "seven".into(),
            loads: 0,
        }
    }
}

impl Defaults {
    fn loaded(&mut self) {
        self.loads += 1;
    }
}

/// A container `default = "path"`, a raw identifier and documentation, with `init`.
#[anam::class(class = "tests.Odd", init = Odd::loaded)]
/// Documentation after the macro is kept.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(default = "Odd::preset")]
struct Odd {
    /// Stored as `type`.
    r#type: String,
    #[anam(bcast_only)]
    r#loop: Vec<u8>,
    #[serde(skip)]
    loads: u32,
}

impl Odd {
    fn preset() -> Self {
        Odd {
            r#type: "preset".into(),
            r#loop: vec![1],
            loads: 0,
        }
    }

    fn loaded(&mut self) {
        self.loads += 1;
    }
}

/// A renamed class: files of older programs have its alias.
#[anam::class(class = "tests.Person", aliases("tests.OldPerson", "old_tests.Person"),
              init = Person::loaded)]
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Person {
    name: String,
    age: i64,
    #[serde(skip)]
    loads: u32,
}

impl Person {
    fn loaded(&mut self) {
        self.loads += 1;
    }
}

/// Written with an alias as its tag, as an older program would have; not a class (it
/// would claim the alias).
#[derive(Serialize)]
#[serde(rename = "tests.OldPerson")]
struct OldPerson {
    name: String,
    age: i64,
}

/// Serde attributes that keep a class a struct with its tag (`#[anam::class]` refuses
/// `flatten`, `transparent`, `into`, `from`, `try_from`, and `tag` beside `extra_data`):
/// field `rename`, `alias`, `default` and `skip_serializing_if`, alone and in one list; a
/// container `tag`, which adds a member holding the class tag.
#[anam::class(class = "tests.Allowed")]
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(tag = "kind")]
struct Allowed {
    #[serde(rename = "label", alias = "old_label")]
    name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    values: Vec<i64>,
    #[serde(default)]
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

/// `tag = "class"` is the class attribute itself, so it may sit beside `extra_data`.
#[anam::class(class = "tests.TaggedOnClass")]
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(tag = "class")]
struct TaggedOnClass {
    x: i64,
    #[anam(extra_data)]
    extra: BTreeMap<String, i64>,
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

fn temp_file() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("classes.hdf5");
    (dir, path)
}

fn info(tag: &str) -> &'static ClassInfo {
    anam::registry::lookup(tag)
        .expect("registry without conflicts")
        .unwrap_or_else(|| panic!("`{tag}` is not registered"))
}

/// Checks that every `Counted` of `holder` and the holder itself were loaded exactly once.
fn assert_loaded_once(holder: &Holder) {
    assert_eq!(holder.loads, 1, "holder hook runs");
    assert!(
        holder.children_loaded_first,
        "nested hooks run before the holder's"
    );
    for c in holder.counted() {
        assert_eq!(c.loads, 1, "hook runs once on {c:?}");
    }
    let mut expected = Holder::new();
    expected.loads = 1;
    expected.children_loaded_first = true;
    for c in [&mut expected.one]
        .into_iter()
        .chain(&mut expected.many)
        .chain(expected.by_name.values_mut())
    {
        c.loads = 1;
    }
    expected.maybe.as_mut().unwrap().loads = 1;
    assert_eq!(holder, &expected);
}

// ---------------------------------------------------------------------------------------
// Constants and registry
// ---------------------------------------------------------------------------------------

#[test]
fn class_constants() {
    assert_eq!(ComplexPerson::CLASS, "test_classes2.ComplexPerson");
    assert_eq!(ComplexPerson::DEFAULT_GROUP, Some("person"));
    assert_eq!(ComplexPerson::ALIASES, ["test_classes2.OldComplexPerson"]);

    assert_eq!(Plain::CLASS, "Plain");
    assert_eq!(Plain::DEFAULT_GROUP, None);
    assert!(Plain::ALIASES.is_empty());

    assert_eq!(Counted::CLASS, "tests.Counted");
    assert_eq!(Counted::DEFAULT_GROUP, Some("counted"));
    assert_eq!(nested::Inner::CLASS, "tests.Inner");
}

#[test]
fn registry_entry_with_every_option() {
    let info = info("test_classes2.ComplexPerson");
    assert_eq!(info.tag(), "test_classes2.ComplexPerson");
    assert_eq!(info.type_name(), "class_macro::ComplexPerson");
    assert_eq!(info.aliases(), ["test_classes2.OldComplexPerson"]);
    assert_eq!(info.default_group(), Some("person"));
    assert_eq!(info.name_maps(), [("_order", "order")]);
    assert_eq!(info.bcast_only(), ["cache"]);
    assert_eq!(info.extra_data(), Some("extra"));

    // The alias finds the same class.
    let by_alias = anam::registry::lookup("test_classes2.OldComplexPerson")
        .unwrap()
        .unwrap();
    assert!(std::ptr::eq(by_alias, info));
}

#[test]
fn registry_entry_without_options() {
    let info = info("Plain");
    assert_eq!(info.tag(), "Plain");
    assert_eq!(info.type_name(), "class_macro::Plain");
    assert!(info.aliases().is_empty());
    assert_eq!(info.default_group(), None);
    assert!(info.name_maps().is_empty());
    assert!(info.bcast_only().is_empty());
    assert_eq!(info.extra_data(), None);
}

#[test]
fn registry_uses_serde_names() {
    let info = info("tests.Renamed");
    assert_eq!(info.type_name(), "class_macro::Renamed");
    assert_eq!(info.bcast_only(), ["firstName"]);
    assert_eq!(info.name_maps(), [("x", "stored_x")]);
    assert_eq!(info.extra_data(), Some("moreData"));

    let info = self::info("tests.WithMap");
    assert_eq!(info.extra_data(), Some("extra"));
    assert!(info.name_maps().is_empty() && info.bcast_only().is_empty());
}

#[test]
fn registry_type_name_has_module_path() {
    assert_eq!(
        info("tests.Inner").type_name(),
        "class_macro::nested::Inner"
    );
    assert!(anam::registry::lookup("tests.NoSuchClass")
        .unwrap()
        .is_none());
    anam::registry::check().expect("no conflicts");
}

#[test]
fn extra_data_and_bcast_only_fields_default() {
    // `#[serde(default)]` was added to them: they may be missing.
    let p: ComplexPerson =
        serde_json::from_str(r#"{"name": "Bob", "age": 3, "_order": [1]}"#).unwrap();
    assert!(p.extra.is_empty());
    assert_eq!(p.cache, [3.0], "the init hook ran");
    let r: Renamed = serde_json::from_str(r#"{"x": 1}"#).unwrap();
    assert_eq!(
        r,
        Renamed {
            first_name: String::new(),
            y: 1,
            more_data: HashMap::new()
        }
    );
}

// ---------------------------------------------------------------------------------------
// The init hook
// ---------------------------------------------------------------------------------------

#[test]
fn hook_runs_once_per_object_from_hdf5() {
    let (_dir, path) = temp_file();
    anam::to_file(&path, "holder", &Holder::new()).unwrap();
    let back: Holder = anam::from_file(&path, Some("holder")).unwrap();
    assert_loaded_once(&back);
}

#[test]
fn hook_runs_on_top_level_containers_from_hdf5() {
    let (_dir, path) = temp_file();
    let list = vec![Counted::new(1), Counted::new(2), Counted::new(3)];
    anam::to_file(&path, "list", &list).unwrap();
    let back: Vec<Counted> = anam::from_file(&path, Some("list")).unwrap();
    assert_eq!(back.len(), 3);
    assert!(back.iter().all(|c| c.loads == 1), "{back:?}");

    let map: BTreeMap<String, Counted> = [("x".to_string(), Counted::new(4))].into();
    anam::to_file(&path, "map", &map).unwrap();
    let back: BTreeMap<String, Counted> = anam::from_file(&path, Some("map")).unwrap();
    assert_eq!(back["x"].loads, 1);
    assert_eq!(
        back["x"].label, 40,
        "the `with` field attribute applies when loading"
    );

    let holders = vec![Holder::new(), Holder::new()];
    anam::to_file(&path, "holders", &holders).unwrap();
    let back: Vec<Holder> = anam::from_file(&path, Some("holders")).unwrap();
    back.iter().for_each(assert_loaded_once);
}

#[test]
fn hook_runs_once_per_object_from_json() {
    let json = serde_json::to_string(&Holder::new()).unwrap();
    assert!(
        json.contains(r#""label":"10""#),
        "`with` applies when writing: {json}"
    );
    let back: Holder = serde_json::from_str(&json).unwrap();
    assert_loaded_once(&back);

    let with_map = WithMap {
        extra: [("k".to_string(), 1)].into(),
        loads: 0,
    };
    let back: WithMap = serde_json::from_str(&serde_json::to_string(&with_map).unwrap()).unwrap();
    assert_eq!(back.extra, with_map.extra);
    assert_eq!(back.loads, 1, "hook given as a string runs");
}

#[test]
fn shadow_keeps_container_attributes() {
    let d: Defaults = serde_json::from_str("{}").unwrap();
    assert_eq!(
        d,
        Defaults {
            a: 7,
            b: "seven".into(),
            loads: 1
        }
    );
    let d: Defaults = serde_json::from_str(r#"{"a": 1}"#).unwrap();
    assert_eq!(
        d,
        Defaults {
            a: 1,
            b: "seven".into(),
            loads: 1
        }
    );
    let err = serde_json::from_str::<Defaults>(r#"{"c": 1}"#).unwrap_err();
    assert!(err.to_string().contains("unknown field `c`"), "{err}");
}

#[test]
fn shadow_handles_default_paths_and_raw_identifiers() {
    assert_eq!(info("tests.Odd").bcast_only(), ["loop"]);
    let odd: Odd = serde_json::from_str("{}").unwrap();
    assert_eq!(
        odd,
        Odd {
            loads: 1,
            ..Odd::preset()
        }
    );
    let odd: Odd = serde_json::from_str(r#"{"type": "t"}"#).unwrap();
    assert_eq!(
        odd,
        Odd {
            r#type: "t".into(),
            r#loop: vec![1],
            loads: 1
        }
    );
}

#[test]
fn errors_of_with_fields_are_reported() {
    let err = serde_json::from_str::<Counted>(r#"{"id": 1, "label": "ten"}"#).unwrap_err();
    assert!(err.to_string().contains("invalid digit"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Files, default groups, loading by tag, aliases
// ---------------------------------------------------------------------------------------

#[test]
fn default_group_from_file_and_to_file() {
    let (_dir, path) = temp_file();
    // Another group first, so that "the first group" would be the wrong one.
    anam::to_file(&path, "aaa", &Plain { x: 1 }).unwrap();
    Counted::new(8).to_file(&path).unwrap();

    let file = anam::hdf5::File::open(&path).unwrap();
    assert_eq!(file.member_names().unwrap(), ["aaa", "counted"]);
    let class: anam::hdf5::types::VarLenUnicode = file
        .group("counted")
        .unwrap()
        .attr("class")
        .unwrap()
        .read_scalar()
        .unwrap();
    assert_eq!(class.as_str(), "tests.Counted");
    drop(file);

    let back = Counted::from_file(&path).unwrap();
    assert_eq!(
        back,
        Counted {
            loads: 1,
            ..Counted::new(8)
        }
    );

    // No default group: `to_file` says so.
    let err = Plain { x: 1 }.to_file(&path).unwrap_err();
    assert!(err.to_string().contains("no default group"), "{err}");
}

#[test]
fn obj_from_file_gives_the_class_of_the_tag() {
    let (_dir, path) = temp_file();
    Counted::new(9).to_file(&path).unwrap();
    anam::to_file(&path, "plain", &Plain { x: 2 }).unwrap();

    let obj = anam::obj_from_file(&path, None).unwrap();
    assert_eq!(obj.class_tag(), "tests.Counted");
    assert!(obj.is::<Counted>());
    assert!(!obj.is::<Plain>());
    assert!(obj.downcast_ref::<Plain>().is_none());
    assert_eq!(obj.downcast_ref::<Counted>().unwrap().loads, 1, "hook runs");
    let counted: Box<Counted> = obj.downcast::<Counted>().unwrap();
    assert_eq!(
        *counted,
        Counted {
            loads: 1,
            ..Counted::new(9)
        }
    );

    let obj = anam::obj_from_file(&path, Some("plain")).unwrap();
    assert_eq!(obj.downcast_ref::<Plain>(), Some(&Plain { x: 2 }));
    let err = obj.downcast::<Counted>().unwrap_err();
    assert!(
        err.to_string().contains("Plain") && err.to_string().contains("tests.Counted"),
        "{err}"
    );
}

#[test]
fn obj_from_file_loads_nested_objects_with_their_hooks() {
    let (_dir, path) = temp_file();
    anam::to_file(&path, "holder", &Holder::new()).unwrap();
    let obj = anam::obj_from_file(&path, None).unwrap();
    assert_loaded_once(&obj.downcast::<Holder>().unwrap());
}

#[test]
fn alias_loads_as_the_class() {
    let info = info("tests.OldPerson");
    assert_eq!(info.tag(), "tests.Person");
    assert_eq!(info.aliases(), ["tests.OldPerson", "old_tests.Person"]);

    let (_dir, path) = temp_file();
    anam::to_file(
        &path,
        "person",
        &OldPerson {
            name: "Ann".into(),
            age: 30,
        },
    )
    .unwrap();
    let file = anam::hdf5::File::open(&path).unwrap();
    let class: anam::hdf5::types::VarLenUnicode = file
        .group("person")
        .unwrap()
        .attr("class")
        .unwrap()
        .read_scalar()
        .unwrap();
    assert_eq!(class.as_str(), "tests.OldPerson");
    drop(file);

    let expected = Person {
        name: "Ann".into(),
        age: 30,
        loads: 1,
    };
    let p: Person = anam::from_file(&path, None).unwrap();
    assert_eq!(p, expected);

    let obj = anam::obj_from_file(&path, None).unwrap();
    assert_eq!(obj.class_tag(), "tests.Person");
    assert_eq!(obj.downcast_ref::<Person>(), Some(&expected));
    assert_eq!(*obj.downcast::<Person>().unwrap(), expected);
}

#[test]
fn allowed_serde_attributes_keep_the_class_layout() {
    let (_dir, path) = temp_file();
    let allowed = Allowed {
        name: "a".into(),
        values: Vec::new(),
        note: None,
    };
    anam::to_file(&path, "allowed", &allowed).unwrap();
    let file = anam::hdf5::File::open(&path).unwrap();
    let group = file.group("allowed").unwrap();
    let mut names = group.attr_names().unwrap();
    names.sort();
    assert_eq!(names, ["class", "kind", "label"]);
    let class: anam::hdf5::types::VarLenUnicode =
        group.attr("class").unwrap().read_scalar().unwrap();
    assert_eq!(class.as_str(), "tests.Allowed");
    let kind: anam::hdf5::types::VarLenUnicode = group.attr("kind").unwrap().read_scalar().unwrap();
    assert_eq!(kind.as_str(), "tests.Allowed");
    drop((group, file));
    let obj = anam::obj_from_file(&path, None).unwrap();
    assert_eq!(obj.downcast_ref::<Allowed>(), Some(&allowed));

    // Read, written again, read again: the tag does not end up in `extra_data`.
    let tagged = TaggedOnClass {
        x: 1,
        extra: [("e".to_string(), 2)].into(),
    };
    anam::to_file(&path, "tagged", &tagged).unwrap();
    let back: TaggedOnClass = anam::from_file(&path, Some("tagged")).unwrap();
    assert_eq!(back, tagged);
    anam::to_file(&path, "tagged", &back).unwrap();
    let obj = anam::obj_from_file(&path, Some("tagged")).unwrap();
    assert_eq!(obj.downcast_ref::<TaggedOnClass>(), Some(&tagged));
}
