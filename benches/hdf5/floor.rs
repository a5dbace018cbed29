//! The floors: each workload's layout written and read with direct `hdf5` crate calls, no
//! Serde. They take and give back plain Rust data (the `plain_*` functions below make it
//! from the workloads' types), and write the same files as `anam` (`check.rs` makes sure).

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use anam::hdf5;
use hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenUnicode};
use ndarray::{Array2, Ix2};
use num_complex::Complex32;

use crate::workloads::*;

pub type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

// ---------------------------------------------------------------------------------------
// Attributes and groups.

fn vlu(s: &str) -> VarLenUnicode {
    s.parse().expect("no NUL in the benchmark's strings")
}

fn write_str(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&vlu(value))
}

fn write_i64(loc: &hdf5::Location, name: &str, value: i64) -> hdf5::Result<()> {
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

/// A new group of class `class`.
fn class_group(parent: &hdf5::Group, name: &str, class: &str) -> hdf5::Result<hdf5::Group> {
    let g = parent.create_group(name)?;
    write_str(&g, "class", class)?;
    Ok(g)
}

/// Opens the group `name` of `parent` and checks its class.
fn open_group(parent: &hdf5::Group, name: &str, class: &str) -> Result<hdf5::Group> {
    let g = parent.group(name)?;
    check_class(&g, class)?;
    Ok(g)
}

/// A new AnamList or AnamDict group (`class`): class and count.
fn counted_group(
    parent: &hdf5::Group,
    name: &str,
    class: &str,
    count: usize,
) -> hdf5::Result<hdf5::Group> {
    let g = class_group(parent, name, class)?;
    write_i64(&g, "count", count as i64)?;
    Ok(g)
}

/// Opens an AnamList group and reads its count.
fn open_list(parent: &hdf5::Group, name: &str) -> Result<(hdf5::Group, usize)> {
    let g = open_group(parent, name, LIST_CLASS)?;
    let count = read_i64(&g, "count")?;
    Ok((g, count as usize))
}

/// A new group for an object with a `name` and a `value` (W1's objects, W3's list items).
fn named_object(
    parent: &hdf5::Group,
    group: &str,
    class: &str,
    name: &str,
    value: i64,
) -> hdf5::Result<hdf5::Group> {
    let g = class_group(parent, group, class)?;
    write_str(&g, "name", name)?;
    write_i64(&g, "value", value)?;
    Ok(g)
}

/// A new file in the format `anam::to_file` writes (HDF5 1.8 objects: indexed
/// attribute and link storage for groups with many of them), with the top group `group`.
fn create(path: &Path, group: &str, class: &str) -> hdf5::Result<(hdf5::File, hdf5::Group)> {
    use hdf5::file::LibraryVersion::V18;
    let file = hdf5::File::with_options()
        .with_fapl(|fapl| fapl.libver_bounds(V18, V18))
        .create(path)?;
    let g = class_group(&file, group, class)?;
    Ok((file, g))
}

fn open(path: &Path, group: &str, class: &str) -> Result<(hdf5::File, hdf5::Group)> {
    let file = hdf5::File::open(path)?;
    let g = open_group(&file, group, class)?;
    Ok((file, g))
}

// ---------------------------------------------------------------------------------------
// W1.

/// W1's object as plain Rust.
#[derive(Debug, PartialEq)]
pub struct Small {
    pub name: String,
    pub value: i64,
    pub data: Option<[f64; 3]>,
}

pub fn plain_small(c: &SmallCollection) -> Vec<Small> {
    c.iter()
        .map(|o| Small {
            name: o.name.clone(),
            value: o.value,
            data: Some([o.data[0], o.data[1], o.data[2]]),
        })
        .collect()
}

pub fn plain_small_noarray(c: &SmallCollectionNoArray) -> Vec<Small> {
    c.iter()
        .map(|o| Small {
            name: o.name.clone(),
            value: o.value,
            data: None,
        })
        .collect()
}

/// The classes of W1's collection and of its members.
fn w1_classes(with_array: bool) -> (&'static str, &'static str) {
    if with_array {
        (COLLECTION_CLASS, SMALL_CLASS)
    } else {
        (COLLECTION_NOARRAY_CLASS, SMALL_NOARRAY_CLASS)
    }
}

/// W1: the collection group, its `members` list, one group per object.
pub fn w1_write(path: &Path, objects: &[Small]) -> Result<()> {
    let with_array = objects.first().is_some_and(|o| o.data.is_some());
    let (class, member_class) = w1_classes(with_array);
    let (file, top) = create(path, "collection", class)?;
    let members = counted_group(&top, "members", LIST_CLASS, objects.len())?;
    for (i, o) in objects.iter().enumerate() {
        let g = named_object(
            &members,
            &format!("LIST_item{i}"),
            member_class,
            &o.name,
            o.value,
        )?;
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
    let (class, member_class) = w1_classes(with_array);
    let (_file, top) = open(path, "collection", class)?;
    let (members, count) = open_list(&top, "members")?;
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let g = open_group(&members, &format!("LIST_item{i}"), member_class)?;
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

// ---------------------------------------------------------------------------------------
// W2.

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

// ---------------------------------------------------------------------------------------
// W5.

/// W5: one group, one dataset, chunked as [`W5_CHUNKS`] with shuffle and gzip level 1.
pub fn w5_write(path: &Path, data: &Array2<f64>) -> Result<()> {
    let (file, g) = create(path, "compressed", COMPRESSED_CLASS)?;
    g.new_dataset_builder()
        .chunk(W5_CHUNKS)
        .shuffle()
        .deflate(1)
        .with_data(data)
        .create("data")?;
    file.flush()?;
    Ok(())
}

pub fn w5_read(path: &Path) -> Result<Array2<f64>> {
    let (_file, g) = open(path, "compressed", COMPRESSED_CLASS)?;
    Ok(g.dataset("data")?
        .read_dyn::<f64>()?
        .into_dimensionality::<Ix2>()?)
}

// ---------------------------------------------------------------------------------------
// W3.

/// The levels of a deep tree, from the top.
pub fn levels(node: &Node) -> Vec<i64> {
    let mut out = vec![node.level];
    let mut n = node;
    while let Some(child) = &n.child {
        out.push(child.level);
        n = child;
    }
    out
}

pub fn map_entries(m: &MapHolder) -> Vec<(String, i64)> {
    m.entries.iter().map(|(k, v)| (k.clone(), *v)).collect()
}

/// W3 deep: a chain of `child` groups, each with its class and `level`.
pub fn deep_write(path: &Path, levels: &[i64]) -> Result<()> {
    let (file, mut g) = create(path, "deep", NODE_CLASS)?;
    for (i, &level) in levels.iter().enumerate() {
        if i > 0 {
            g = class_group(&g, "child", NODE_CLASS)?;
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
        g = open_group(&g, "child", NODE_CLASS)?;
    }
}

/// W3 map: an AnamDict of two AnamLists of attributes.
pub fn map_write(path: &Path, entries: &[(String, i64)]) -> Result<()> {
    let (file, top) = create(path, "map", MAP_CLASS)?;
    let dict = counted_group(&top, "entries", DICT_CLASS, entries.len())?;
    let keys = counted_group(&dict, "dictkeys", LIST_CLASS, entries.len())?;
    for (i, (k, _)) in entries.iter().enumerate() {
        write_str(&keys, &format!("LIST_item{i}"), k)?;
    }
    let data = counted_group(&dict, "dictdata", LIST_CLASS, entries.len())?;
    for (i, (_, v)) in entries.iter().enumerate() {
        write_i64(&data, &format!("LIST_item{i}"), *v)?;
    }
    file.flush()?;
    Ok(())
}

pub fn map_read(path: &Path) -> Result<BTreeMap<String, i64>> {
    let (_file, top) = open(path, "map", MAP_CLASS)?;
    let dict = open_group(&top, "entries", DICT_CLASS)?;
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
    let list = counted_group(&top, "items", LIST_CLASS, items.len())?;
    for (i, item) in items.iter().enumerate() {
        let name = format!("LIST_item{i}");
        match item {
            Item::Int(v) => write_i64(&list, &name, *v)?,
            Item::Float(v) => write_f64(&list, &name, *v)?,
            Item::Str(s) => write_str(&list, &name, s)?,
            Item::Obj(o) => {
                named_object(&list, &name, ITEM_CLASS, &o.name, o.value)?;
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
            let g = open_group(&list, &name, ITEM_CLASS)?;
            out.push(Item::Obj(ItemObject {
                name: read_str(&g, "name")?,
                value: read_i64(&g, "value")?,
            }));
        }
    }
    Ok(out)
}
