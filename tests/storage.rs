//! The HDF5 storage choices that keep wide groups linear: files from `to_file` in the
//! HDF5 1.8 format, and every group we create tracking its attributes' creation order
//! (which gives it indexed attribute storage in a file of HDF5's earliest format too).

use std::collections::BTreeMap;
use std::path::Path;

use anam::hdf5;
use anam::hdf5::plist::group_create::AttrCreationOrder;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "storage_test.Wide")]
struct Wide {
    numbers: Vec<anam::Value>,
    table: BTreeMap<String, i64>,
}

fn wide(n: usize) -> Wide {
    Wide {
        // Mixed values: a list group with one attribute per item.
        numbers: (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    anam::Value::from(i as i64)
                } else {
                    anam::Value::from(format!("item {i}"))
                }
            })
            .collect(),
        table: (0..n).map(|i| (format!("key{i:05}"), i as i64)).collect(),
    }
}

/// The version byte of the superblock, right after the 8-byte HDF5 signature (0 for the
/// earliest format, 2 or more for files that need HDF5 1.8).
fn superblock_version(path: &Path) -> u8 {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89HDF\r\n\x1a\n",
        "not an HDF5 file at offset 0"
    );
    bytes[8]
}

fn tracks_attribute_order(group: &hdf5::Group) -> bool {
    let order = group.create_plist().unwrap().attr_creation_order();
    matches!(
        order,
        AttrCreationOrder::Tracked | AttrCreationOrder::Indexed
    )
}

#[test]
fn to_file_writes_the_hdf5_1_8_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.hdf5");
    let value = wide(50);
    anam::to_file(&path, "wide", &value).unwrap();
    assert_eq!(superblock_version(&path), 2);
    let back: Wide = anam::from_file(&path, Some("wide")).unwrap();
    assert_eq!(back, value);
}

#[test]
fn groups_written_into_an_earliest_format_file_track_attribute_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("earliest.hdf5");
    let value = wide(50);
    {
        // The user's file, in HDF5's default (earliest) format.
        let file = hdf5::File::create(&path).unwrap();
        let group = file.create_group("wide").unwrap();
        anam::to_group(&value, &group).unwrap();
    }
    assert_eq!(superblock_version(&path), 0);
    let file = hdf5::File::open(&path).unwrap();
    let top = file.group("wide").unwrap();
    for name in ["numbers", "table", "table/dictkeys", "table/dictdata"] {
        let g = top.group(name).unwrap();
        assert!(
            tracks_attribute_order(&g),
            "{name} does not track attribute order"
        );
    }
    // The lists' items are attributes of their groups (a dict's are in its two lists).
    for name in ["numbers", "table/dictkeys", "table/dictdata"] {
        let items = top.group(name).unwrap().attr_names().unwrap().len();
        assert!(items >= 50, "{name} has {items} attributes");
    }
    let back: Wide = anam::from_group(&top).unwrap();
    assert_eq!(back, value);
}

#[test]
fn a_wide_list_reads_back_in_order_with_every_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.hdf5");
    // Past the 8 attributes of compact storage, in both layouts of the numbers.
    let value = wide(1000);
    anam::to_file(&path, "wide", &value).unwrap();
    let back: Wide = anam::from_file(&path, None).unwrap();
    assert_eq!(back.numbers.len(), 1000);
    assert_eq!(back, value);
}
