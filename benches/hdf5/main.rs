//! HDF5 benchmarks: each workload written and read with `anam` beside its floor, the same
//! layout written and read with direct `hdf5` crate calls (no Serde).
//!
//! * **W1** many small objects: an `anam::collection!` of N objects (a `String`, an `i64`
//!   and a 3-element `f64` array), `anam::to_file` then `anam::from_file`; N = 2,000, and
//!   the per-object curve for N = 1,000, 10,000, 20,000 and 100,000.
//! * **W2** large arrays: one object holding a 4096x4096 `f64` array (128 MiB) and a
//!   2048x4096 `complex64` array (64 MiB); also the peak memory (max RSS) of a child
//!   process writing and reading them.
//! * **W3** deep and wide trees: an object nested 200 levels deep, a map of 10,000 entries,
//!   a list of 10,000 items mixing scalars, strings and small objects (as `anam::Value`s
//!   and as an untagged enum).
//!
//! Modes:
//!
//! * `cargo bench --bench hdf5` (`make bench`): Criterion groups `W1`, `W2`, `W3`, each
//!   with `anam/...` and `floor/...` functions side by side;
//! * `ANAM_BENCH_JSON=out.json target/release/deps/hdf5-HASH`: times every workload with a
//!   fixed number of repetitions and writes the medians as JSON (`make bench-compare`,
//!   `tools/bench_compare.py`, reads them);
//! * `ANAM_BENCH_QUICK=1` shrinks the sizes and repetitions of either mode (a smoke run);
//! * `ANAM_BENCH_LARGE=1` adds W1's N = 100,000 to the Criterion mode (10 samples of
//!   10-20 s each; the JSON mode always measures it);
//! * `ANAM_BENCH_DIR=dir`: where the scratch files go (the system temp dir by default);
//! * `ANAM_BENCH_W3_MAP=n`, `ANAM_BENCH_W3_LIST=n`: other sizes for W3's map and list;
//! * `ANAM_BENCH_KEEP=dir`: keep the files of the check below (to compare with `h5dump`).
//!
//! Before timing anything, each workload's floor reads the file `anam` wrote and `anam`
//! reads the floor's, and both must give back the data: the floors write the same layout.
//!
//! W3's cases run in child processes with a time limit: anam's write of a map takes time
//! that grows faster than the square of its entries (it adds the key and value attributes
//! to the `dictkeys` and `dictdata` groups in turn, and HDF5's compact attribute storage,
//! in files of the earliest format, then grows both object headers by continuation
//! blocks), minutes for 10,000 entries. A case that runs out of time is reported as such,
//! and its reads read the floor's file (the same layout). The mixed list is slow to write
//! for the same reason, on every side (its subgroups come between its attributes): about
//! 40 s for 10,000 items, floor included.

use std::collections::{BTreeMap, HashSet};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anam::hdf5;
use anam::{Object, Value};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenUnicode};
use ndarray::{Array1, Array2, Ix2};
use num_complex::Complex32;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------
// Types. Tags are `bench_classes.*`, the classes of `benches/python/bench_classes.py`.

const LIST_CLASS: &str = "anamnesis.abstract.AnamList";
const DICT_CLASS: &str = "anamnesis.abstract.AnamDict";

const SMALL_CLASS: &str = "bench_classes.SmallObject";
const SMALL_NOARRAY_CLASS: &str = "bench_classes.SmallObjectNoArray";
const COLLECTION_CLASS: &str = "bench_classes.SmallCollection";
const COLLECTION_NOARRAY_CLASS: &str = "bench_classes.SmallCollectionNoArray";
const BIG_CLASS: &str = "bench_classes.BigArrays";
const NODE_CLASS: &str = "bench_classes.Node";
const MAP_CLASS: &str = "bench_classes.MapHolder";
const LIST_HOLDER_CLASS: &str = "bench_classes.ListHolder";
const ITEM_CLASS: &str = "bench_classes.Item";

/// W1's object: a string, an integer and a 3-element array.
#[anam::class(class = "bench_classes.SmallObject")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct SmallObject {
    name: String,
    value: i64,
    #[serde(with = "anam::array")]
    data: Array1<f64>,
}

/// W1 without the array (Python's figures in the issue are for this one).
#[anam::class(class = "bench_classes.SmallObjectNoArray")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct SmallObjectNoArray {
    name: String,
    value: i64,
}

anam::collection! {
    /// W1's collection.
    SmallCollection: "bench_classes.SmallCollection", kind SmallKind, of SmallObject, combine []
}

anam::collection! {
    /// W1's collection, without the arrays.
    SmallCollectionNoArray: "bench_classes.SmallCollectionNoArray", kind SmallNoArrayKind,
        of SmallObjectNoArray, combine []
}

/// W2's object: 128 MiB of `f64` and 64 MiB of `complex64`.
#[anam::class(class = "bench_classes.BigArrays")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct BigArrays {
    #[serde(with = "anam::array")]
    real: Array2<f64>,
    #[serde(with = "anam::array")]
    cplx: Array2<Complex32>,
}

/// W3's deep tree: each node holds the next.
#[anam::class(class = "bench_classes.Node")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct Node {
    level: i64,
    child: Option<Box<Node>>,
}

/// W3's wide map.
#[anam::class(class = "bench_classes.MapHolder")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct MapHolder {
    entries: BTreeMap<String, i64>,
}

/// W3's mixed list, as dynamic values.
#[anam::class(class = "bench_classes.ListHolder")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
struct ListHolder {
    items: Vec<Value>,
}

/// W3's mixed list, as an untagged enum (written under the same class tag as
/// [`ListHolder`], so it is not registered: it is only read and written as a type).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "bench_classes.ListHolder")]
struct UntaggedListHolder {
    items: Vec<Item>,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
enum Item {
    Int(i64),
    Float(f64),
    Str(String),
    Obj(ItemObject),
}

/// The small object in W3's list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "bench_classes.Item")]
struct ItemObject {
    name: String,
    value: i64,
}

// ---------------------------------------------------------------------------------------
// Sizes.

#[derive(Clone, Debug)]
struct Sizes {
    quick: bool,
    /// W1's main comparison.
    w1_n: usize,
    /// W1's per-object curve.
    w1_curve: Vec<usize>,
    /// W2's arrays: `real` is `w2_side x w2_side`, `cplx` is `w2_side / 2 x w2_side`.
    w2_side: usize,
    w3_depth: usize,
    w3_map: usize,
    w3_list: usize,
}

impl Sizes {
    /// The sizes of the mode, then `ANAM_BENCH_W3_MAP` and `ANAM_BENCH_W3_LIST` if set.
    fn from_env() -> Sizes {
        let mut sizes = Sizes::of_mode();
        let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
        if let Some(n) = var("ANAM_BENCH_W3_MAP") {
            sizes.w3_map = n;
        }
        if let Some(n) = var("ANAM_BENCH_W3_LIST") {
            sizes.w3_list = n;
        }
        sizes
    }

    fn of_mode() -> Sizes {
        let quick = std::env::var("ANAM_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
        if quick {
            Sizes {
                quick,
                w1_n: 500,
                w1_curve: vec![200, 1_000, 5_000],
                w2_side: 1024,
                w3_depth: 200,
                w3_map: 1_000,
                w3_list: 1_000,
            }
        } else {
            Sizes {
                quick,
                w1_n: 2_000,
                w1_curve: vec![1_000, 10_000, 20_000, 100_000],
                w2_side: 4096,
                w3_depth: 200,
                w3_map: 10_000,
                w3_list: 10_000,
            }
        }
    }

    /// Seconds of samples after which a measurement of the JSON mode stops repeating.
    fn budget(&self) -> f64 {
        if self.quick {
            5.0
        } else {
            30.0
        }
    }

    fn w2_bytes(&self) -> usize {
        // f64 side x side, plus complex64 (8 bytes) side/2 x side.
        self.w2_side * self.w2_side * 8 + self.w2_side / 2 * self.w2_side * 8
    }
}

// ---------------------------------------------------------------------------------------
// Data.

fn small_objects(n: usize) -> SmallCollection {
    (0..n)
        .map(|i| SmallObject {
            name: format!("object {i}"),
            value: i as i64,
            data: Array1::from(vec![i as f64, i as f64 + 0.5, -(i as f64)]),
        })
        .collect()
}

fn small_objects_noarray(n: usize) -> SmallCollectionNoArray {
    (0..n)
        .map(|i| SmallObjectNoArray {
            name: format!("object {i}"),
            value: i as i64,
        })
        .collect()
}

fn big_arrays(side: usize) -> BigArrays {
    BigArrays {
        real: Array2::from_shape_fn((side, side), |(i, j)| (i * side + j) as f64 * 0.25),
        cplx: Array2::from_shape_fn((side / 2, side), |(i, j)| {
            Complex32::new(i as f32, j as f32 * 0.5)
        }),
    }
}

fn deep_tree(depth: usize) -> Node {
    let mut node = Node {
        level: depth as i64 - 1,
        child: None,
    };
    for level in (0..depth - 1).rev() {
        node = Node {
            level: level as i64,
            child: Some(Box::new(node)),
        };
    }
    node
}

fn wide_map(n: usize) -> MapHolder {
    MapHolder {
        entries: (0..n).map(|i| (format!("k{i:06}"), i as i64 * 3)).collect(),
    }
}

/// Item `i` of the mixed list: an integer, a float, a string or a small object in turn.
fn list_item(i: usize) -> Item {
    match i % 4 {
        0 => Item::Int(i as i64),
        1 => Item::Float(i as f64 + 0.5),
        2 => Item::Str(format!("item {i}")),
        _ => Item::Obj(ItemObject {
            name: format!("obj {i}"),
            value: i as i64,
        }),
    }
}

fn item_value(item: &Item) -> Value {
    match item {
        Item::Int(v) => Value::I64(*v),
        Item::Float(v) => Value::F64(*v),
        Item::Str(s) => Value::Str(s.clone()),
        Item::Obj(o) => {
            let mut obj = Object::new(ITEM_CLASS);
            obj.insert("name", Value::Str(o.name.clone()));
            obj.insert("value", Value::I64(o.value));
            Value::Object(obj)
        }
    }
}

fn mixed_list(n: usize) -> ListHolder {
    ListHolder {
        items: (0..n).map(|i| item_value(&list_item(i))).collect(),
    }
}

fn mixed_list_untagged(n: usize) -> UntaggedListHolder {
    UntaggedListHolder {
        items: (0..n).map(list_item).collect(),
    }
}

// ---------------------------------------------------------------------------------------
// The floors: the same layout with direct hdf5-crate calls.

mod floor {
    use super::*;

    pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

    fn vlu(s: &str) -> VarLenUnicode {
        s.parse().expect("no NUL in the benchmark's strings")
    }

    pub fn write_str(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
        loc.new_attr::<VarLenUnicode>()
            .create(name)?
            .write_scalar(&vlu(value))
    }

    pub fn write_i64(loc: &hdf5::Location, name: &str, value: i64) -> hdf5::Result<()> {
        loc.new_attr::<i64>().create(name)?.write_scalar(&value)
    }

    fn write_f64(loc: &hdf5::Location, name: &str, value: f64) -> hdf5::Result<()> {
        loc.new_attr::<f64>().create(name)?.write_scalar(&value)
    }

    fn read_str(loc: &hdf5::Location, name: &str) -> hdf5::Result<String> {
        Ok(loc
            .attr(name)?
            .read_scalar::<VarLenUnicode>()?
            .as_str()
            .to_owned())
    }

    fn read_i64(loc: &hdf5::Location, name: &str) -> hdf5::Result<i64> {
        loc.attr(name)?.read_scalar::<i64>()
    }

    fn check_class(loc: &hdf5::Location, class: &str) -> Result<()> {
        let found = read_str(loc, "class")?;
        if found != class {
            return Err(format!("{}: class {found}, expected {class}", loc.name()).into());
        }
        Ok(())
    }

    /// A new AnamList group: class and count.
    fn list_group(parent: &hdf5::Group, name: &str, count: usize) -> hdf5::Result<hdf5::Group> {
        let g = parent.create_group(name)?;
        write_str(&g, "class", LIST_CLASS)?;
        write_i64(&g, "count", count as i64)?;
        Ok(g)
    }

    /// Opens an AnamList group and reads its count.
    fn open_list(parent: &hdf5::Group, name: &str) -> Result<(hdf5::Group, usize)> {
        let g = parent.group(name)?;
        check_class(&g, LIST_CLASS)?;
        let count = read_i64(&g, "count")?;
        Ok((g, count as usize))
    }

    /// A new file in the format `anam::to_file` writes (HDF5 1.8 objects: indexed
    /// attribute and link storage for groups with many of them).
    fn create(path: &Path, group: &str, class: &str) -> hdf5::Result<(hdf5::File, hdf5::Group)> {
        use hdf5::file::LibraryVersion::V18;
        let file = hdf5::File::with_options()
            .with_fapl(|fapl| fapl.libver_bounds(V18, V18))
            .create(path)?;
        let g = file.create_group(group)?;
        write_str(&g, "class", class)?;
        Ok((file, g))
    }

    fn open(path: &Path, group: &str, class: &str) -> Result<(hdf5::File, hdf5::Group)> {
        let file = hdf5::File::open(path)?;
        let g = file.group(group)?;
        check_class(&g, class)?;
        Ok((file, g))
    }

    /// W1's object as plain Rust.
    #[derive(Debug, PartialEq)]
    pub struct Small {
        pub name: String,
        pub value: i64,
        pub data: Option<[f64; 3]>,
    }

    /// W1: the collection group, its `members` list, one group per object.
    pub fn w1_write(path: &Path, objects: &[Small]) -> Result<()> {
        let with_array = objects.first().is_some_and(|o| o.data.is_some());
        let (class, member_class) = if with_array {
            (COLLECTION_CLASS, SMALL_CLASS)
        } else {
            (COLLECTION_NOARRAY_CLASS, SMALL_NOARRAY_CLASS)
        };
        let (file, top) = create(path, "collection", class)?;
        let members = list_group(&top, "members", objects.len())?;
        for (i, o) in objects.iter().enumerate() {
            let g = members.create_group(&format!("LIST_item{i}"))?;
            write_str(&g, "class", member_class)?;
            write_str(&g, "name", &o.name)?;
            write_i64(&g, "value", o.value)?;
            if let Some(data) = &o.data {
                g.new_dataset_builder()
                    .with_data(&data[..])
                    .create("data")?;
            }
        }
        file.flush()?;
        Ok(())
    }

    pub fn w1_read(path: &Path, with_array: bool) -> Result<Vec<Small>> {
        let (class, member_class) = if with_array {
            (COLLECTION_CLASS, SMALL_CLASS)
        } else {
            (COLLECTION_NOARRAY_CLASS, SMALL_NOARRAY_CLASS)
        };
        let (_file, top) = open(path, "collection", class)?;
        let (members, count) = open_list(&top, "members")?;
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            let g = members.group(&format!("LIST_item{i}"))?;
            check_class(&g, member_class)?;
            let data = if with_array {
                let v = g.dataset("data")?.read_raw::<f64>()?;
                Some(<[f64; 3]>::try_from(v.as_slice()).map_err(|_| "data is not 3 long")?)
            } else {
                None
            };
            out.push(Small {
                name: read_str(&g, "name")?,
                value: read_i64(&g, "value")?,
                data,
            });
        }
        Ok(out)
    }

    /// W2: one group, two datasets, each written and read as one buffer.
    pub fn w2_write(path: &Path, real: &Array2<f64>, cplx: &Array2<Complex32>) -> Result<()> {
        let (file, g) = create(path, "big", BIG_CLASS)?;
        g.new_dataset_builder().with_data(real).create("real")?;
        g.new_dataset_builder().with_data(cplx).create("cplx")?;
        file.flush()?;
        Ok(())
    }

    pub fn w2_read(path: &Path) -> Result<(Array2<f64>, Array2<Complex32>)> {
        let (_file, g) = open(path, "big", BIG_CLASS)?;
        let real = g.dataset("real")?.read_dyn::<f64>()?;
        let cplx = g.dataset("cplx")?.read_dyn::<Complex32>()?;
        Ok((
            real.into_dimensionality::<Ix2>()?,
            cplx.into_dimensionality::<Ix2>()?,
        ))
    }

    /// W3 deep: a chain of `child` groups, each with its class and `level`.
    pub fn deep_write(path: &Path, levels: &[i64]) -> Result<()> {
        let (file, mut g) = create(path, "deep", NODE_CLASS)?;
        for (i, &level) in levels.iter().enumerate() {
            if i > 0 {
                g = g.create_group("child")?;
                write_str(&g, "class", NODE_CLASS)?;
            }
            write_i64(&g, "level", level)?;
        }
        file.flush()?;
        Ok(())
    }

    pub fn deep_read(path: &Path) -> Result<Vec<i64>> {
        let (_file, mut g) = open(path, "deep", NODE_CLASS)?;
        let mut levels = Vec::new();
        loop {
            levels.push(read_i64(&g, "level")?);
            if !g.link_exists("child") {
                return Ok(levels);
            }
            g = g.group("child")?;
            check_class(&g, NODE_CLASS)?;
        }
    }

    /// W3 map: an AnamDict of two AnamLists of attributes.
    pub fn map_write(path: &Path, entries: &[(String, i64)]) -> Result<()> {
        let (file, top) = create(path, "map", MAP_CLASS)?;
        let dict = top.create_group("entries")?;
        write_str(&dict, "class", DICT_CLASS)?;
        write_i64(&dict, "count", entries.len() as i64)?;
        let keys = list_group(&dict, "dictkeys", entries.len())?;
        for (i, (k, _)) in entries.iter().enumerate() {
            write_str(&keys, &format!("LIST_item{i}"), k)?;
        }
        let data = list_group(&dict, "dictdata", entries.len())?;
        for (i, (_, v)) in entries.iter().enumerate() {
            write_i64(&data, &format!("LIST_item{i}"), *v)?;
        }
        file.flush()?;
        Ok(())
    }

    pub fn map_read(path: &Path) -> Result<BTreeMap<String, i64>> {
        let (_file, top) = open(path, "map", MAP_CLASS)?;
        let dict = top.group("entries")?;
        check_class(&dict, DICT_CLASS)?;
        let (keys, n) = open_list(&dict, "dictkeys")?;
        let (data, m) = open_list(&dict, "dictdata")?;
        if n != m {
            return Err("dictkeys and dictdata differ in length".into());
        }
        let mut out = BTreeMap::new();
        for i in 0..n {
            let name = format!("LIST_item{i}");
            out.insert(read_str(&keys, &name)?, read_i64(&data, &name)?);
        }
        Ok(out)
    }

    /// W3 list: scalars and strings as attributes, objects as groups.
    pub fn list_write(path: &Path, items: &[Item]) -> Result<()> {
        let (file, top) = create(path, "list", LIST_HOLDER_CLASS)?;
        let list = list_group(&top, "items", items.len())?;
        for (i, item) in items.iter().enumerate() {
            let name = format!("LIST_item{i}");
            match item {
                Item::Int(v) => write_i64(&list, &name, *v)?,
                Item::Float(v) => write_f64(&list, &name, *v)?,
                Item::Str(s) => write_str(&list, &name, s)?,
                Item::Obj(o) => {
                    let g = list.create_group(&name)?;
                    write_str(&g, "class", ITEM_CLASS)?;
                    write_str(&g, "name", &o.name)?;
                    write_i64(&g, "value", o.value)?;
                }
            }
        }
        file.flush()?;
        Ok(())
    }

    /// Reads the list without knowing its items' types: an attribute's type decides.
    pub fn list_read(path: &Path) -> Result<Vec<Item>> {
        let (_file, top) = open(path, "list", LIST_HOLDER_CLASS)?;
        let (list, count) = open_list(&top, "items")?;
        let attrs: HashSet<String> = list.attr_names()?.into_iter().collect();
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            let name = format!("LIST_item{i}");
            if attrs.contains(&name) {
                let attr = list.attr(&name)?;
                out.push(match attr.dtype()?.to_descriptor()? {
                    TypeDescriptor::Integer(IntSize::U8) => Item::Int(attr.read_scalar()?),
                    TypeDescriptor::Float(FloatSize::U8) => Item::Float(attr.read_scalar()?),
                    TypeDescriptor::VarLenUnicode => {
                        Item::Str(attr.read_scalar::<VarLenUnicode>()?.as_str().to_owned())
                    }
                    other => return Err(format!("{name}: unexpected type {other}").into()),
                });
            } else {
                let g = list.group(&name)?;
                check_class(&g, ITEM_CLASS)?;
                out.push(Item::Obj(ItemObject {
                    name: read_str(&g, "name")?,
                    value: read_i64(&g, "value")?,
                }));
            }
        }
        Ok(out)
    }
}

fn plain_small(c: &SmallCollection) -> Vec<floor::Small> {
    c.iter()
        .map(|o| floor::Small {
            name: o.name.clone(),
            value: o.value,
            data: Some([o.data[0], o.data[1], o.data[2]]),
        })
        .collect()
}

fn plain_small_noarray(c: &SmallCollectionNoArray) -> Vec<floor::Small> {
    c.iter()
        .map(|o| floor::Small {
            name: o.name.clone(),
            value: o.value,
            data: None,
        })
        .collect()
}

fn levels(node: &Node) -> Vec<i64> {
    let mut out = vec![node.level];
    let mut n = node;
    while let Some(child) = &n.child {
        out.push(child.level);
        n = child;
    }
    out
}

fn map_entries(m: &MapHolder) -> Vec<(String, i64)> {
    m.entries.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

// ---------------------------------------------------------------------------------------
// The workloads, as write/read closures over a scratch file.

/// A timed operation of a case.
type Op = Box<dyn FnMut()>;

/// One write and one read of one implementation, on its own file.
struct Case {
    /// `anam` or `floor`.
    imp: &'static str,
    /// The case within the group (`n=2000`, `deep200`, ...).
    case: String,
    /// Nodes (objects, entries, items) or bytes the case moves, for per-item times.
    items: usize,
    write: Op,
    read: Op,
    path: PathBuf,
}

fn scratch_dir() -> tempfile::TempDir {
    match std::env::var_os("ANAM_BENCH_DIR") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).expect("ANAM_BENCH_DIR");
            tempfile::tempdir_in(dir).expect("scratch dir")
        }
        None => tempfile::tempdir().expect("scratch dir"),
    }
}

fn w1_cases(dir: &Path, n: usize, with_array: bool) -> Vec<Case> {
    let suffix = if with_array { "" } else { " noarray" };
    let anam_path = dir.join(format!("w1_anam_{n}{suffix}.hdf5"));
    let floor_path = dir.join(format!("w1_floor_{n}{suffix}.hdf5"));
    let case = format!("n={n}{suffix}");
    let (anam_write, anam_read): (Op, Op) = if with_array {
        let data = small_objects(n);
        let (pw, pr) = (anam_path.clone(), anam_path.clone());
        (
            Box::new(move || anam::to_file(&pw, "collection", &data).unwrap()),
            Box::new(move || {
                black_box(anam::from_file::<SmallCollection>(&pr, Some("collection")).unwrap());
            }),
        )
    } else {
        let data = small_objects_noarray(n);
        let (pw, pr) = (anam_path.clone(), anam_path.clone());
        (
            Box::new(move || anam::to_file(&pw, "collection", &data).unwrap()),
            Box::new(move || {
                black_box(
                    anam::from_file::<SmallCollectionNoArray>(&pr, Some("collection")).unwrap(),
                );
            }),
        )
    };
    let plain = if with_array {
        plain_small(&small_objects(n))
    } else {
        plain_small_noarray(&small_objects_noarray(n))
    };
    let (pw, pr) = (floor_path.clone(), floor_path.clone());
    vec![
        Case {
            imp: "anam",
            case: case.clone(),
            items: n,
            write: anam_write,
            read: anam_read,
            path: anam_path,
        },
        Case {
            imp: "floor",
            case,
            items: n,
            write: Box::new(move || floor::w1_write(&pw, &plain).unwrap()),
            read: Box::new(move || {
                black_box(floor::w1_read(&pr, with_array).unwrap());
            }),
            path: floor_path,
        },
    ]
}

fn w2_cases(dir: &Path, sizes: &Sizes) -> Vec<Case> {
    let anam_path = dir.join("w2_anam.hdf5");
    let floor_path = dir.join("w2_floor.hdf5");
    let data = std::rc::Rc::new(big_arrays(sizes.w2_side));
    let case = format!("{} MiB", sizes.w2_bytes() >> 20);
    let (d1, d2) = (data.clone(), data);
    let (aw, ar) = (anam_path.clone(), anam_path.clone());
    let (fw, fr) = (floor_path.clone(), floor_path.clone());
    vec![
        Case {
            imp: "anam",
            case: case.clone(),
            items: sizes.w2_bytes(),
            write: Box::new(move || anam::to_file(&aw, "big", &*d1).unwrap()),
            read: Box::new(move || {
                black_box(anam::from_file::<BigArrays>(&ar, Some("big")).unwrap());
            }),
            path: anam_path,
        },
        Case {
            imp: "floor",
            case,
            items: sizes.w2_bytes(),
            write: Box::new(move || floor::w2_write(&fw, &d2.real, &d2.cplx).unwrap()),
            read: Box::new(move || {
                black_box(floor::w2_read(&fr).unwrap());
            }),
            path: floor_path,
        },
    ]
}

/// Boxes a pair of cases (anam, floor) writing `value` with `anam::to_file` and reading a
/// `T` back, beside the floor's closures.
#[allow(clippy::too_many_arguments)]
fn pair<T, F, G>(
    dir: &Path,
    case: &str,
    group: &'static str,
    items: usize,
    value: T,
    floor_write: F,
    floor_read: G,
) -> Vec<Case>
where
    T: Serialize + serde::de::DeserializeOwned + 'static,
    F: FnMut(&Path) + 'static,
    G: FnMut(&Path) + 'static,
{
    let file = case.replace(' ', "_");
    let anam_path = dir.join(format!("w3_anam_{file}.hdf5"));
    let floor_path = dir.join(format!("w3_floor_{file}.hdf5"));
    let (aw, ar) = (anam_path.clone(), anam_path.clone());
    let (fw, fr) = (floor_path.clone(), floor_path.clone());
    let (mut floor_write, mut floor_read) = (floor_write, floor_read);
    vec![
        Case {
            imp: "anam",
            case: case.to_string(),
            items,
            write: Box::new(move || anam::to_file(&aw, group, &value).unwrap()),
            read: Box::new(move || {
                black_box(anam::from_file::<T>(&ar, Some(group)).unwrap());
            }),
            path: anam_path,
        },
        Case {
            imp: "floor",
            case: case.to_string(),
            items,
            write: Box::new(move || floor_write(&fw)),
            read: Box::new(move || floor_read(&fr)),
            path: floor_path,
        },
    ]
}

fn w3_cases(dir: &Path, sizes: &Sizes) -> Vec<Case> {
    let mut cases = Vec::new();

    let depth = sizes.w3_depth;
    let deep_levels = levels(&deep_tree(depth));
    cases.extend(pair(
        dir,
        &format!("deep{depth}"),
        "deep",
        depth,
        deep_tree(depth),
        move |p| floor::deep_write(p, &deep_levels).unwrap(),
        |p| {
            black_box(floor::deep_read(p).unwrap());
        },
    ));

    let n = sizes.w3_map;
    let entries = map_entries(&wide_map(n));
    cases.extend(pair(
        dir,
        &format!("map{n}"),
        "map",
        n,
        wide_map(n),
        move |p| floor::map_write(p, &entries).unwrap(),
        |p| {
            black_box(floor::map_read(p).unwrap());
        },
    ));

    let n = sizes.w3_list;
    let items = mixed_list_untagged(n).items;
    cases.extend(pair(
        dir,
        &format!("list{n}"),
        "list",
        n,
        mixed_list(n),
        move |p| floor::list_write(p, &items).unwrap(),
        |p| {
            black_box(floor::list_read(p).unwrap());
        },
    ));
    // The same list as an untagged enum (anam only; its floor is the one above).
    let mut untagged = pair(
        dir,
        &format!("list{n} untagged"),
        "list",
        n,
        mixed_list_untagged(n),
        |_| {},
        |_| {},
    );
    untagged.truncate(1);
    cases.extend(untagged);
    cases
}

// ---------------------------------------------------------------------------------------
// The check: each side reads what the other wrote.

/// With `ANAM_BENCH_KEEP=dir`, the files of the check are kept there, each workload's as
/// `W*_anam.hdf5` and `W*_floor.hdf5` (to compare with `h5dump`).
fn check(dir: &Path) {
    let keep = std::env::var_os("ANAM_BENCH_KEEP").map(PathBuf::from);
    let dir = dir.join("check");
    std::fs::create_dir_all(&dir).unwrap();
    let (a, f) = (dir.join("anam.hdf5"), dir.join("floor.hdf5"));
    let fresh = |p: &Path| {
        let _ = std::fs::remove_file(p);
    };
    let keep_as = |name: &str| {
        if let Some(keep) = &keep {
            std::fs::create_dir_all(keep).unwrap();
            std::fs::copy(&a, keep.join(format!("{name}_anam.hdf5"))).unwrap();
            std::fs::copy(&f, keep.join(format!("{name}_floor.hdf5"))).unwrap();
        }
    };

    // W1, with and without the array.
    let c = small_objects(50);
    fresh(&a);
    fresh(&f);
    anam::to_file(&a, "collection", &c).unwrap();
    floor::w1_write(&f, &plain_small(&c)).unwrap();
    assert_eq!(
        floor::w1_read(&a, true).unwrap(),
        plain_small(&c),
        "W1 floor reads anam"
    );
    let back: SmallCollection = anam::from_file(&f, Some("collection")).unwrap();
    assert_eq!(back, c, "W1 anam reads floor");
    keep_as("W1");
    let c = small_objects_noarray(50);
    fresh(&a);
    fresh(&f);
    anam::to_file(&a, "collection", &c).unwrap();
    floor::w1_write(&f, &plain_small_noarray(&c)).unwrap();
    assert_eq!(floor::w1_read(&a, false).unwrap(), plain_small_noarray(&c));
    let back: SmallCollectionNoArray = anam::from_file(&f, Some("collection")).unwrap();
    assert_eq!(back, c, "W1 (no array) anam reads floor");
    keep_as("W1_noarray");

    // W2, small.
    let big = big_arrays(64);
    fresh(&a);
    fresh(&f);
    anam::to_file(&a, "big", &big).unwrap();
    floor::w2_write(&f, &big.real, &big.cplx).unwrap();
    assert_eq!(
        floor::w2_read(&a).unwrap(),
        (big.real.clone(), big.cplx.clone())
    );
    assert_eq!(anam::from_file::<BigArrays>(&f, Some("big")).unwrap(), big);
    keep_as("W2");

    // W3.
    let deep = deep_tree(30);
    fresh(&a);
    fresh(&f);
    anam::to_file(&a, "deep", &deep).unwrap();
    floor::deep_write(&f, &levels(&deep)).unwrap();
    assert_eq!(floor::deep_read(&a).unwrap(), levels(&deep), "W3 deep");
    assert_eq!(anam::from_file::<Node>(&f, Some("deep")).unwrap(), deep);
    keep_as("W3_deep");

    let map = wide_map(100);
    fresh(&a);
    fresh(&f);
    anam::to_file(&a, "map", &map).unwrap();
    floor::map_write(&f, &map_entries(&map)).unwrap();
    assert_eq!(floor::map_read(&a).unwrap(), map.entries, "W3 map");
    assert_eq!(anam::from_file::<MapHolder>(&f, Some("map")).unwrap(), map);
    keep_as("W3_map");

    let list = mixed_list(100);
    let untagged = mixed_list_untagged(100);
    fresh(&a);
    fresh(&f);
    anam::to_file(&a, "list", &list).unwrap();
    floor::list_write(&f, &untagged.items).unwrap();
    assert_eq!(floor::list_read(&a).unwrap(), untagged.items, "W3 list");
    assert_eq!(
        anam::from_file::<ListHolder>(&f, Some("list")).unwrap(),
        list
    );
    assert_eq!(
        anam::from_file::<UntaggedListHolder>(&f, Some("list")).unwrap(),
        untagged
    );
    keep_as("W3_list");
    fresh(&a);
    anam::to_file(&a, "list", &untagged).unwrap();
    assert_eq!(floor::list_read(&a).unwrap(), untagged.items, "W3 untagged");
    let _ = std::fs::remove_dir_all(&dir);
}

// ---------------------------------------------------------------------------------------
// Cases in child processes, with a time limit: a case that takes minutes (W3's map, see
// `SLOW_WRITE_S`) is reported as such instead of holding the run up.

/// Criterion mode: a W3 write slower than this (one write, in a child process with a limit
/// of [`PROBE_LIMIT_S`]) is not benchmarked, since Criterion takes at least 10 samples; its
/// case's reads are, on the file the floor writes (the same layout).
const SLOW_WRITE_S: f64 = 5.0;
const PROBE_LIMIT_S: f64 = 20.0;

/// Writes the file `cases[i]` reads with the floor of its case instead (the same layout;
/// the floor of `list10000 untagged` is `list10000`'s). The floor's file is kept beside
/// (`*.prepared`) and copied for the next case that needs it.
fn write_with_floor(cases: &mut [Case], i: usize) {
    let (case, path) = (cases[i].case.clone(), cases[i].path.clone());
    let floor = cases
        .iter_mut()
        .filter(|f| f.imp == "floor" && case.starts_with(f.case.as_str()))
        .max_by_key(|f| f.case.len())
        .expect("a floor for the case");
    let prepared = floor.path.with_extension("prepared");
    if !prepared.exists() {
        let _ = std::fs::remove_file(&floor.path);
        (floor.write)();
        std::fs::rename(&floor.path, &prepared).expect("keep the floor's file");
    }
    std::fs::copy(&prepared, &path).expect("copy the floor's file");
}

/// What a child does with its case (`ANAM_BENCH_MODE`).
#[derive(Clone, Copy, PartialEq)]
enum ChildMode {
    /// Writes, then reads its own file (`ANAM_BENCH_REPS` of each, within the budget).
    Both,
    /// One write only.
    WriteOnce,
    /// Reads the file the floor writes.
    ReadFloorFile,
}

impl ChildMode {
    fn name(self) -> &'static str {
        match self {
            ChildMode::Both => "both",
            ChildMode::WriteOnce => "write-once",
            ChildMode::ReadFloorFile => "read-floor-file",
        }
    }
}

/// Samples of a case run in a child process: `(writes, reads, timed out)`. The child
/// prints each sample as it completes, so that a time limit keeps the finished ones.
fn run_child_case(
    group: &str,
    case: &str,
    imp: &str,
    mode: ChildMode,
    reps: usize,
    dir: &Path,
    timeout: Duration,
) -> (Vec<f64>, Vec<f64>, bool) {
    use std::io::BufRead;
    let mut child = Command::new(std::env::current_exe().expect("the bench executable"))
        .env("ANAM_BENCH_CHILD", "case")
        .env("ANAM_BENCH_CASE", format!("{group}\t{case}\t{imp}"))
        .env("ANAM_BENCH_MODE", mode.name())
        .env("ANAM_BENCH_REPS", reps.to_string())
        // Inside the parent's scratch dir, removed with it even when the child is killed.
        .env("ANAM_BENCH_DIR", dir)
        .env_remove("ANAM_BENCH_JSON")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the bench executable");
    let stdout = child.stdout.take().expect("piped stdout");
    let lines = std::thread::spawn(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(std::result::Result::ok)
            .collect::<Vec<String>>()
    });
    let start = Instant::now();
    let timed_out = loop {
        if child.try_wait().expect("wait for the child").is_some() {
            break false;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break true;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut writes, mut reads) = (Vec::new(), Vec::new());
    for line in lines.join().unwrap_or_default() {
        let mut words = line.split_whitespace();
        if words.next() != Some("sample") {
            continue;
        }
        let (op, secs) = (words.next(), words.next().and_then(|v| v.parse().ok()));
        match (op, secs) {
            (Some("write"), Some(t)) => writes.push(t),
            (Some("read"), Some(t)) => reads.push(t),
            _ => {}
        }
    }
    (writes, reads, timed_out)
}

/// The child of [`run_child_case`].
fn case_child() {
    let spec = std::env::var("ANAM_BENCH_CASE").expect("ANAM_BENCH_CASE");
    let mut spec = spec.split('\t');
    let (group, case, imp) = (
        spec.next().unwrap_or_default(),
        spec.next().unwrap_or_default(),
        spec.next().unwrap_or_default(),
    );
    let mode = match std::env::var("ANAM_BENCH_MODE").as_deref() {
        Ok("write-once") => ChildMode::WriteOnce,
        Ok("read-floor-file") => ChildMode::ReadFloorFile,
        _ => ChildMode::Both,
    };
    let reps: usize = std::env::var("ANAM_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1);
    let sizes = Sizes::from_env();
    let dir = scratch_dir();
    let mut cases = match group {
        "W1" => {
            let n = case
                .trim_start_matches("n=")
                .trim_end_matches(" noarray")
                .parse()
                .expect("W1 case n=N");
            w1_cases(dir.path(), n, !case.ends_with("noarray"))
        }
        "W2" => w2_cases(dir.path(), &sizes),
        "W3" => w3_cases(dir.path(), &sizes),
        other => panic!("unknown group {other}"),
    };
    let i = cases
        .iter()
        .position(|c| c.case == case && c.imp == imp)
        .unwrap_or_else(|| panic!("no case {group} {case} {imp}"));
    let print = |op: &str, t: f64| {
        use std::io::Write;
        println!("sample {op} {t}");
        let _ = std::io::stdout().flush();
    };
    match mode {
        ChildMode::WriteOnce => {
            measure(&mut cases[i], 1, 0, false, f64::INFINITY, &mut |op, t| {
                print(op, t)
            });
        }
        ChildMode::Both => {
            let budget = sizes.budget();
            measure(&mut cases[i], reps, reps, true, budget, &mut |op, t| {
                print(op, t)
            });
        }
        ChildMode::ReadFloorFile => {
            write_with_floor(&mut cases, i);
            let budget = sizes.budget();
            measure(&mut cases[i], 0, reps, true, budget, &mut |op, t| {
                print(op, t)
            });
        }
    }
}

// ---------------------------------------------------------------------------------------
// Criterion mode.

/// Times `iters` runs of `op`, each after `prepare` (not timed).
fn timed(iters: u64, prepare: &mut dyn FnMut(), op: &mut dyn FnMut()) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        prepare();
        let start = Instant::now();
        op();
        total += start.elapsed();
    }
    total
}

/// Registers the write and read of each case in `group`: `anam/write`, `floor/write`,
/// `anam/read`, `floor/read`, with the case as the parameter. The writes of the cases in
/// `slow` are left out, and their reads read the floor's file.
fn bench_cases(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    cases: &mut [Case],
    slow: &[(String, &str)],
    throughput: impl Fn(&Case) -> Throughput,
) {
    let is_slow = |c: &Case| {
        slow.iter()
            .any(|(case, imp)| *case == c.case && *imp == c.imp)
    };
    for c in cases.iter_mut() {
        if is_slow(c) {
            continue;
        }
        group.throughput(throughput(c));
        let path = c.path.clone();
        let write = &mut c.write;
        group.bench_function(BenchmarkId::new(format!("{}/write", c.imp), &c.case), |b| {
            b.iter_custom(|iters| {
                timed(
                    iters,
                    &mut || {
                        let _ = std::fs::remove_file(&path);
                    },
                    write,
                )
            })
        });
    }
    for i in 0..cases.len() {
        let c = &mut cases[i];
        group.throughput(throughput(c));
        let _ = std::fs::remove_file(&c.path);
        if is_slow(c) {
            write_with_floor(cases, i);
        } else {
            (c.write)();
        }
        let c = &mut cases[i];
        let read = &mut c.read;
        group.bench_function(BenchmarkId::new(format!("{}/read", c.imp), &c.case), |b| {
            b.iter_custom(|iters| timed(iters, &mut || {}, read))
        });
        let _ = std::fs::remove_file(&c.path);
    }
}

fn criterion_main(sizes: &Sizes, dir: &Path) {
    let mut c = Criterion::default().configure_from_args();
    let short = |secs: u64| Duration::from_secs(if sizes.quick { 1 } else { secs });
    let elements = |c: &Case| Throughput::Elements(c.items as u64);

    {
        let mut g = c.benchmark_group("W1");
        g.sample_size(if sizes.quick { 10 } else { 20 })
            .warm_up_time(short(2))
            .measurement_time(short(5));
        let mut cases = w1_cases(dir, sizes.w1_n, true);
        cases.extend(w1_cases(dir, sizes.w1_n, false));
        bench_cases(&mut g, &mut cases, &[], elements);
        drop(cases);
        // The per-object curve: few samples of the large N. Criterion takes at least 10
        // samples, and N = 100,000 takes 10-20 s a write: that point only with
        // ANAM_BENCH_LARGE=1 (the JSON mode always measures it, with 2-3 repetitions).
        let large = std::env::var("ANAM_BENCH_LARGE").is_ok_and(|v| !v.is_empty() && v != "0");
        g.sample_size(10).sampling_mode(SamplingMode::Flat);
        for &n in &sizes.w1_curve {
            if n == sizes.w1_n {
                continue;
            }
            if n >= 50_000 && !large {
                eprintln!("W1 N = {n}: skipped (ANAM_BENCH_LARGE=1 to run it)");
                continue;
            }
            g.measurement_time(short(if n >= 50_000 { 30 } else { 5 }));
            let mut cases = w1_cases(dir, n, true);
            bench_cases(&mut g, &mut cases, &[], elements);
        }
        g.finish();
    }
    {
        let mut g = c.benchmark_group("W2");
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(short(2))
            .measurement_time(short(10));
        let mut cases = w2_cases(dir, sizes);
        bench_cases(&mut g, &mut cases, &[], |c| {
            Throughput::Bytes(c.items as u64)
        });
        g.finish();
    }
    {
        let mut cases = w3_cases(dir, sizes);
        // One write of each case in a child first: a case that takes minutes would hold
        // Criterion up for hours.
        let mut slow = Vec::new();
        for c in &cases {
            let limit = Duration::from_secs_f64(PROBE_LIMIT_S);
            let (writes, _, timed_out) =
                run_child_case("W3", &c.case, c.imp, ChildMode::WriteOnce, 1, dir, limit);
            if timed_out || writes.first().is_none_or(|&t| t > SLOW_WRITE_S) {
                let took = match writes.first() {
                    Some(t) if !timed_out => format!("{t:.1} s"),
                    _ => format!("more than {PROBE_LIMIT_S} s"),
                };
                eprintln!(
                    "W3/{}/write/{}: one write takes {took}; not benchmarked here (see \
                     `make bench-compare`); its reads read the floor's file (the same layout)",
                    c.imp, c.case
                );
                slow.push((c.case.clone(), c.imp));
            }
        }
        let mut g = c.benchmark_group("W3");
        g.sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(short(2))
            .measurement_time(short(5));
        bench_cases(&mut g, &mut cases, &slow, elements);
        g.finish();
    }
    c.final_summary();
}

// ---------------------------------------------------------------------------------------
// JSON mode: fixed repetitions, medians.

fn median(t: &[f64]) -> Option<f64> {
    let mut t = t.to_vec();
    t.sort_by(f64::total_cmp);
    let n = t.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(t[n / 2]),
        _ => Some((t[n / 2 - 1] + t[n / 2]) / 2.0),
    }
}

/// Up to `writes` writes (each on a new file), then, after one untimed read when `warm`,
/// up to `reads` reads of the file; each of the two stops early, after at least one
/// sample, once its samples add up to `budget` seconds. `sample` gets each timing as it
/// completes.
fn measure(
    c: &mut Case,
    writes: usize,
    reads: usize,
    warm: bool,
    budget: f64,
    sample: &mut dyn FnMut(&str, f64),
) -> (Vec<f64>, Vec<f64>) {
    let mut run = |op: &mut dyn FnMut(), prepare: &dyn Fn(), reps: usize, name: &str| {
        let mut samples: Vec<f64> = Vec::with_capacity(reps);
        while samples.len() < reps && (samples.is_empty() || samples.iter().sum::<f64>() < budget) {
            prepare();
            let start = Instant::now();
            op();
            let t = start.elapsed().as_secs_f64();
            sample(name, t);
            samples.push(t);
        }
        samples
    };
    let path = c.path.clone();
    let remove = || {
        let _ = std::fs::remove_file(&path);
    };
    let w = run(&mut c.write, &remove, writes, "write");
    let mut r = Vec::new();
    if reads > 0 {
        if warm {
            (c.read)();
        }
        r = run(&mut c.read, &|| {}, reads, "read");
    }
    remove();
    (w, r)
}

fn push_records(
    out: &mut Vec<serde_json::Value>,
    group: &str,
    c: &Case,
    ops: [(&str, &[f64], serde_json::Value); 2],
) {
    let mut line = format!("{group} {:<20} {:<5}", c.case, c.imp);
    for (op, samples, note) in ops {
        let m = median(samples);
        match m {
            Some(m) => line += &format!(" {op} {:>10.3} ms ({} reps)", m * 1e3, samples.len()),
            None => line += &format!(" {op} {:>13}", "-"),
        }
        let mut r = serde_json::json!({
            "group": group, "case": c.case, "op": op, "impl": c.imp, "items": c.items,
            "median_s": m, "reps": samples.len(), "samples_s": samples,
        });
        if let serde_json::Value::Object(extra) = note {
            for (k, v) in extra {
                line += &format!(" [{k}: {v}]");
                r[k] = v;
            }
        }
        out.push(r);
    }
    eprintln!("{line}");
}

/// Times the cases of one workload (anam and its floor) side by side: each round writes
/// once with every case in turn, then each round reads once with every case, so that
/// whatever the machine does meanwhile (page-cache writeback of the previous files, other
/// load) falls on both alike. Stops after `reps` rounds or when a case's samples add up
/// to the time budget.
fn record(
    out: &mut Vec<serde_json::Value>,
    group: &str,
    cases: &mut [Case],
    reps: usize,
    warm: bool,
) {
    let budget = Sizes::from_env().budget();
    let rounds = |cases: &mut [Case], op: &dyn Fn(&mut Case) -> f64| {
        let mut samples = vec![Vec::with_capacity(reps); cases.len()];
        for _ in 0..reps {
            for (c, s) in cases.iter_mut().zip(samples.iter_mut()) {
                s.push(op(c));
            }
            if samples.iter().any(|s| s.iter().sum::<f64>() >= budget) {
                break;
            }
        }
        samples
    };
    let writes = rounds(cases, &|c| {
        let _ = std::fs::remove_file(&c.path);
        let start = Instant::now();
        (c.write)();
        start.elapsed().as_secs_f64()
    });
    if warm {
        for c in cases.iter_mut() {
            (c.read)();
        }
    }
    let reads = rounds(cases, &|c| {
        let start = Instant::now();
        (c.read)();
        start.elapsed().as_secs_f64()
    });
    let none = serde_json::Value::Null;
    for ((c, w), r) in cases.iter().zip(&writes).zip(&reads) {
        let _ = std::fs::remove_file(&c.path);
        push_records(
            out,
            group,
            c,
            [("write", w, none.clone()), ("read", r, none.clone())],
        );
    }
}

/// Like [`record`], in child processes with a time limit: when no write finishes in time,
/// the reads are of the file the floor writes (the same layout), and say so.
fn record_guarded(
    out: &mut Vec<serde_json::Value>,
    group: &str,
    c: &Case,
    reps: usize,
    dir: &Path,
    timeout: Duration,
) {
    let (writes, mut reads, timed_out) =
        run_child_case(group, &c.case, c.imp, ChildMode::Both, reps, dir, timeout);
    let limit = serde_json::json!({ "timeout_s": timeout.as_secs_f64() });
    let mut write_note = serde_json::Value::Null;
    let mut read_note = serde_json::Value::Null;
    if timed_out && writes.is_empty() {
        write_note = limit.clone();
        let (_, r, read_timed_out) = run_child_case(
            group,
            &c.case,
            c.imp,
            ChildMode::ReadFloorFile,
            reps,
            dir,
            timeout,
        );
        reads = r;
        read_note = if read_timed_out {
            serde_json::json!({ "timeout_s": timeout.as_secs_f64(), "file": "floor" })
        } else {
            serde_json::json!({ "file": "floor" })
        };
    } else if timed_out {
        read_note = limit;
    }
    push_records(
        out,
        group,
        c,
        [("write", &writes, write_note), ("read", &reads, read_note)],
    );
}

/// Peak RSS of a child process running one W2 write and read (`which` = `anam`, `floor`,
/// or `data`: only building the arrays), from `/usr/bin/time -v`, else from the child's own
/// `VmHWM`.
fn peak_rss_kib(which: &str, sizes: &Sizes, dir: &Path) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut cmd = Command::new(time);
        cmd.arg("-v").arg(&exe);
        cmd
    } else {
        Command::new(&exe)
    };
    let out = cmd
        .env("ANAM_BENCH_CHILD", format!("w2-{which}"))
        .env("ANAM_BENCH_W2_SIDE", sizes.w2_side.to_string())
        .env("ANAM_BENCH_DIR", dir)
        .env_remove("ANAM_BENCH_JSON")
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "W2 memory child `{which}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let from_time = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok());
    from_time.or_else(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM_kib "))
            .and_then(|v| v.trim().parse().ok())
    })
}

/// The child of [`peak_rss_kib`].
fn w2_child(which: &str) {
    let side: usize = std::env::var("ANAM_BENCH_W2_SIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4096);
    let dir = scratch_dir();
    let path = dir.path().join("w2_child.hdf5");
    let data = big_arrays(side);
    // Write, free the source, then read: the floor's peak is one copy of the data.
    match which {
        "w2-anam" => {
            anam::to_file(&path, "big", &data).unwrap();
            drop(data);
            black_box(anam::from_file::<BigArrays>(&path, Some("big")).unwrap());
        }
        "w2-floor" => {
            floor::w2_write(&path, &data.real, &data.cplx).unwrap();
            drop(data);
            black_box(floor::w2_read(&path).unwrap());
        }
        "w2-data" => {
            black_box(&data);
        }
        other => panic!("unknown ANAM_BENCH_CHILD {other}"),
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kib) = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    {
        println!("VmHWM_kib {kib}");
    }
}

fn json_main(sizes: &Sizes, dir: &Path, out_path: &Path) {
    let q = sizes.quick;
    let mut out = Vec::new();
    let started = Instant::now();

    // W1: the main comparison, with and without the array, then the curve.
    let reps = if q { 3 } else { 11 };
    for with_array in [true, false] {
        record(
            &mut out,
            "W1",
            &mut w1_cases(dir, sizes.w1_n, with_array),
            reps,
            true,
        );
    }
    for &n in &sizes.w1_curve {
        let reps = match (q, n) {
            (true, _) => 3,
            (false, n) if n >= 50_000 => 2,
            (false, n) if n >= 5_000 => 5,
            _ => 11,
        };
        record(
            &mut out,
            "W1",
            &mut w1_cases(dir, n, true),
            reps,
            n < 50_000,
        );
    }

    // W2: times, then peak memory in child processes.
    let reps = if q { 3 } else { 5 };
    record(&mut out, "W2", &mut w2_cases(dir, sizes), reps, true);
    for which in ["data", "anam", "floor"] {
        let kib = peak_rss_kib(which, sizes, dir);
        eprintln!("W2 peak RSS {which}: {kib:?} KiB");
        out.push(serde_json::json!({
            "group": "W2", "case": "peak_rss", "op": "write+read", "impl": which,
            "max_rss_kib": kib, "bytes": sizes.w2_bytes(),
        }));
    }

    // W3, each case in a child process with a time limit (see `SLOW_WRITE_S`).
    let timeout = Duration::from_secs(if q { 30 } else { 60 });
    for c in w3_cases(dir, sizes) {
        let reps = if q { 3 } else { 11 };
        record_guarded(&mut out, "W3", &c, reps, dir, timeout);
    }

    let doc = serde_json::json!({
        "harness": "benches/hdf5.rs",
        "quick": q,
        "sizes": {
            "w1_n": sizes.w1_n, "w1_curve": sizes.w1_curve, "w2_side": sizes.w2_side,
            "w2_bytes": sizes.w2_bytes(), "w3_depth": sizes.w3_depth,
            "w3_map": sizes.w3_map, "w3_list": sizes.w3_list,
        },
        "elapsed_s": started.elapsed().as_secs_f64(),
        "results": out,
    });
    std::fs::write(out_path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    eprintln!(
        "wrote {} in {:.0} s",
        out_path.display(),
        started.elapsed().as_secs_f64()
    );
}

fn main() {
    match std::env::var("ANAM_BENCH_CHILD").as_deref() {
        Ok("case") => return case_child(),
        Ok(which) => return w2_child(which),
        Err(_) => {}
    }
    let sizes = Sizes::from_env();
    let dir = scratch_dir();
    check(dir.path());
    match std::env::var_os("ANAM_BENCH_JSON") {
        Some(out) => json_main(&sizes, dir.path(), Path::new(&out)),
        // `cargo test --all-targets` runs benches without `--bench`, in a debug build: the
        // check above is the test, and the workloads are left to `cargo bench`.
        None if !std::env::args().any(|a| a == "--bench") => {
            println!(
                "benches/hdf5.rs: the floors and anam read each other's files: 1 passed, 0 failed"
            );
        }
        None => criterion_main(&sizes, dir.path()),
    }
}
