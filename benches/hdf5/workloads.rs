//! The workloads W1-W3: their types, sizes and data. The class tags are `bench_classes.*`,
//! the classes of `benches/python/bench_classes.py`, so that either side's files load in
//! the other.

use std::collections::BTreeMap;

use anam::{Object, Value};
use ndarray::{Array1, Array2};
use num_complex::Complex32;
use serde::{Deserialize, Serialize};

use crate::{env_flag, env_parse};

pub const LIST_CLASS: &str = "anamnesis.abstract.AnamList";
pub const DICT_CLASS: &str = "anamnesis.abstract.AnamDict";

pub const SMALL_CLASS: &str = "bench_classes.SmallObject";
pub const SMALL_NOARRAY_CLASS: &str = "bench_classes.SmallObjectNoArray";
pub const COLLECTION_CLASS: &str = "bench_classes.SmallCollection";
pub const COLLECTION_NOARRAY_CLASS: &str = "bench_classes.SmallCollectionNoArray";
pub const BIG_CLASS: &str = "bench_classes.BigArrays";
/// W5's class.
pub const COMPRESSED_CLASS: &str = "bench_classes.CompressedArray";
pub const NODE_CLASS: &str = "bench_classes.Node";
pub const MAP_CLASS: &str = "bench_classes.MapHolder";
pub const LIST_HOLDER_CLASS: &str = "bench_classes.ListHolder";
pub const ITEM_CLASS: &str = "bench_classes.Item";

// ---------------------------------------------------------------------------------------
// Types.

/// W1's object: a string, an integer and a 3-element array.
#[anam::class(class = "bench_classes.SmallObject")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SmallObject {
    pub name: String,
    pub value: i64,
    #[serde(with = "anam::array")]
    pub data: Array1<f64>,
}

/// W1 without the array (Python's figures in the issue are for this one).
#[anam::class(class = "bench_classes.SmallObjectNoArray")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SmallObjectNoArray {
    pub name: String,
    pub value: i64,
}

anam::collection! {
    /// W1's collection.
    pub SmallCollection: "bench_classes.SmallCollection", kind SmallKind, of SmallObject,
        combine []
}

anam::collection! {
    /// W1's collection, without the arrays.
    pub SmallCollectionNoArray: "bench_classes.SmallCollectionNoArray", kind SmallNoArrayKind,
        of SmallObjectNoArray, combine []
}

/// W2's object: 128 MiB of `f64` and 64 MiB of `complex64` (at the full size).
#[anam::class(class = "bench_classes.BigArrays")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct BigArrays {
    #[serde(with = "anam::array")]
    pub real: Array2<f64>,
    #[serde(with = "anam::array")]
    pub cplx: Array2<Complex32>,
}

/// W5's object: one `f64` array that compresses (256 MiB at the full size), written with
/// gzip level 1 and shuffle in chunks of [`W5_CHUNKS`].
#[anam::class(class = "bench_classes.CompressedArray")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct CompressedArray {
    #[serde(with = "anam::array")]
    pub data: Array2<f64>,
}

/// W5's chunk shape: 16 rows of 8,192 (1 MiB, the slab `WriteOptions` picks by default for
/// the full-size array), for anam, its floor and h5py alike.
pub const W5_CHUNKS: [usize; 2] = [16, 8192];

/// W5's storage: gzip level 1 after shuffle, in chunks of [`W5_CHUNKS`].
pub fn w5_options() -> anam::WriteOptions {
    anam::WriteOptions::new()
        .compression(anam::Compression::Gzip(1))
        .shuffle(true)
        .chunks(W5_CHUNKS)
}

/// W3's deep tree: each node holds the next.
#[anam::class(class = "bench_classes.Node")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Node {
    pub level: i64,
    pub child: Option<Box<Node>>,
}

/// W3's wide map.
#[anam::class(class = "bench_classes.MapHolder")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MapHolder {
    pub entries: BTreeMap<String, i64>,
}

/// W3's mixed list, as dynamic values.
#[anam::class(class = "bench_classes.ListHolder")]
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ListHolder {
    pub items: Vec<Value>,
}

/// W3's mixed list, as an untagged enum (written under the same class tag as
/// [`ListHolder`], so it is not registered: it is only read and written as a type).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "bench_classes.ListHolder")]
pub struct UntaggedListHolder {
    pub items: Vec<Item>,
}

/// An item of W3's mixed list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum Item {
    Int(i64),
    Float(f64),
    Str(String),
    Obj(ItemObject),
}

/// The small object in W3's list.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(rename = "bench_classes.Item")]
pub struct ItemObject {
    pub name: String,
    pub value: i64,
}

// ---------------------------------------------------------------------------------------
// Sizes.

#[derive(Clone, Debug)]
pub struct Sizes {
    pub quick: bool,
    /// W1's main comparison.
    pub w1_n: usize,
    /// W1's per-object curve.
    pub w1_curve: Vec<usize>,
    /// W2's arrays: `real` is `w2_side x w2_side`, `cplx` is `w2_side / 2 x w2_side`.
    pub w2_side: usize,
    pub w3_depth: usize,
    pub w3_map: usize,
    pub w3_list: usize,
    /// W5's array: `w5_rows x 8192` `f64`s.
    pub w5_rows: usize,
}

impl Sizes {
    /// The sizes of the mode, then `ANAM_BENCH_W3_MAP` and `ANAM_BENCH_W3_LIST` if set.
    pub fn from_env() -> Sizes {
        let mut sizes = Sizes::of_mode();
        if let Some(n) = env_parse("ANAM_BENCH_W3_MAP") {
            sizes.w3_map = n;
        }
        if let Some(n) = env_parse("ANAM_BENCH_W3_LIST") {
            sizes.w3_list = n;
        }
        sizes
    }

    fn of_mode() -> Sizes {
        let quick = env_flag("ANAM_BENCH_QUICK");
        if quick {
            Sizes {
                quick,
                w1_n: 500,
                w1_curve: vec![200, 1_000, 5_000],
                w2_side: 1024,
                w3_depth: 200,
                w3_map: 1_000,
                w3_list: 1_000,
                w5_rows: 512,
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
                w5_rows: 4096,
            }
        }
    }

    /// Seconds of samples after which a measurement of the JSON mode stops repeating.
    pub fn budget(&self) -> f64 {
        if self.quick {
            5.0
        } else {
            30.0
        }
    }

    pub fn w5_bytes(&self) -> usize {
        self.w5_rows * W5_CHUNKS[1] * 8
    }

    pub fn w2_bytes(&self) -> usize {
        // f64 side x side, plus complex64 (8 bytes) side/2 x side.
        self.w2_side * self.w2_side * 8 + self.w2_side / 2 * self.w2_side * 8
    }
}

// ---------------------------------------------------------------------------------------
// Data.

pub fn small_objects(n: usize) -> SmallCollection {
    (0..n)
        .map(|i| SmallObject {
            name: format!("object {i}"),
            value: i as i64,
            data: Array1::from(vec![i as f64, i as f64 + 0.5, -(i as f64)]),
        })
        .collect()
}

pub fn small_objects_noarray(n: usize) -> SmallCollectionNoArray {
    (0..n)
        .map(|i| SmallObjectNoArray {
            name: format!("object {i}"),
            value: i as i64,
        })
        .collect()
}

pub fn big_arrays(side: usize) -> BigArrays {
    BigArrays {
        real: Array2::from_shape_fn((side, side), |(i, j)| (i * side + j) as f64 * 0.25),
        cplx: Array2::from_shape_fn((side / 2, side), |(i, j)| {
            Complex32::new(i as f32, j as f32 * 0.5)
        }),
    }
}

/// W5's array, `rows x 8192`: `((7 i + j) mod 1024) / 4`, numbers that repeat along and
/// across rows, as measurements on a grid do (benches/python/bench_hdf5.py makes the same).
pub fn compressible(rows: usize) -> CompressedArray {
    CompressedArray {
        data: Array2::from_shape_fn((rows, W5_CHUNKS[1]), |(i, j)| {
            ((i * 7 + j) % 1024) as f64 * 0.25
        }),
    }
}

pub fn deep_tree(depth: usize) -> Node {
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

pub fn wide_map(n: usize) -> MapHolder {
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

pub fn mixed_list(n: usize) -> ListHolder {
    ListHolder {
        items: (0..n).map(|i| item_value(&list_item(i))).collect(),
    }
}

pub fn mixed_list_untagged(n: usize) -> UntaggedListHolder {
    UntaggedListHolder {
        items: (0..n).map(list_item).collect(),
    }
}
