//! Reading what a test wrote with the hdf5 crate. Included on its own with
//! `#[path = "common/h5.rs"] mod h5;` by the tests that need no mirror classes.
#![allow(dead_code)]

use anam::hdf5;
use anam::hdf5::types::VarLenUnicode;

/// The `class` attribute of a group.
pub fn class_of(g: &hdf5::Group) -> String {
    g.attr("class")
        .unwrap()
        .read_scalar::<VarLenUnicode>()
        .unwrap()
        .to_string()
}

pub fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}
