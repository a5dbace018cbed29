//! The Serde `Serializer` of the anamnesis layout.
//!
//! A value is written either *as* a group that exists ([`object::GroupSerializer`]: the
//! object, list or dict that the group is) or as a named *member* of a group
//! ([`member::MemberSerializer`]): scalars become attributes, arrays and numeric sequences
//! datasets, and everything else a subgroup written as a group. Sequences ([`seq`]) and
//! maps ([`map`]) have files of their own.

mod map;
mod member;
mod object;
mod seq;

use hdf5::Group;
use serde::Serialize;

use super::node;
use crate::error::Result;
use crate::format;

/// Writes `value` into `group`, which becomes the object (struct, map or sequence).
pub(crate) fn to_group<T: ?Sized + Serialize>(value: &T, group: &Group) -> Result<()> {
    value
        .serialize(object::GroupSerializer::new(group.clone()))
        .map_err(|e| e.at_with(|| group.name()))
}

/// The entries of a dict group: `class`, `count`, `dictkeys` and `dictdata`.
const DICT_ENTRIES: usize = 4;
/// The entries expected of a group whose size is not known when it is made (a few fields).
pub(crate) const UNKNOWN_ENTRIES: usize = 4;

/// The entries of a list group of `len` items (if known): `class`, `count` and the items.
fn list_entries(len: Option<usize>) -> usize {
    len.map_or(UNKNOWN_ENTRIES, |n| n.saturating_add(2))
}

/// Marks `group` as a list, writing the count now when it is known.
fn list_group(group: Group, count: Option<usize>) -> Result<Group> {
    node::write_str(&group, format::CLASS_ATTR, format::LIST_CLASS)?;
    if let Some(n) = count {
        write_count(&group, n)?;
    }
    Ok(group)
}

/// Writes the `count` attribute of a list or dict (`int64`, as Python writes it).
fn write_count(group: &Group, n: usize) -> Result<()> {
    node::write_scalar(group, format::COUNT_ATTR, (n as i64).into())
}
