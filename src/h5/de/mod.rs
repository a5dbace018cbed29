//! The Serde `Deserializer` of the anamnesis layout.
//!
//! The layout is self-describing: every group, attribute and dataset answers
//! `deserialize_any` (objects as maps that start with their `class`, lists as sequences,
//! dicts as maps, arrays as nested sequences), while typed reads use the hints Serde gives
//! (struct field names for name maps, the array token for whole-buffer arrays).
//!
//! A group is read by [`group::GroupDe`] (by its class: an object, a list, a dict or an
//! empty array), an attribute or dataset by [`node::NodeDe`], and the elements of an array
//! read whole by [`array`].

mod array;
mod group;
mod node;

use hdf5::Group;
use serde::de;

use crate::depth::DepthGuard;
use crate::error::{Error, Result};
use crate::object::AnamObject;
use group::GroupDe;

/// Reads a `T` from `group` (the group is the object).
pub(crate) fn from_group<'de, T: de::Deserialize<'de>>(group: &Group) -> Result<T> {
    let read = || {
        let _depth = DepthGuard::enter()?;
        crate::depth::grow(|| GroupDe::new(group.clone()).and_then(T::deserialize))
    };
    read().map_err(|e| e.at_with(|| group.name()))
}

/// Reads a `T` from the member `name` of `parent`: an attribute, a dataset or a group
/// (`None` where it is absent, as an absent list item is).
pub(crate) fn from_member<'de, T: de::Deserialize<'de>>(parent: &Group, name: &str) -> Result<T> {
    let read = || {
        let item = if crate::h5::node::attribute_exists(parent.id(), name)? {
            group::ItemDe::Attr(parent, name.to_string())
        } else if parent.link_exists(name) {
            group::ItemDe::Link(parent, name.to_string())
        } else {
            group::ItemDe::Absent
        };
        crate::depth::grow(|| T::deserialize(item))
    };
    read().map_err(|e| e.at_with(|| crate::h5::group::join(parent, name)))
}

/// Reads the value `seed` deserializes from `group` (a parallel read of one rank's share).
#[cfg(feature = "mpio")]
pub(crate) fn from_group_seed<'de, S: de::DeserializeSeed<'de>>(
    group: &Group,
    seed: S,
) -> Result<S::Value> {
    let read = || {
        let _depth = DepthGuard::enter()?;
        crate::depth::grow(|| GroupDe::new(group.clone()).and_then(|d| seed.deserialize(d)))
    };
    read().map_err(|e| e.at_with(|| group.name()))
}

/// Loads the object in `group` as the registered class its tag names.
pub(crate) fn object_from_group(group: &Group) -> Result<Box<dyn AnamObject>> {
    let at = || group.name();
    let de = GroupDe::new(group.clone()).map_err(|e| e.at_with(at))?;
    let tag = de
        .class()
        .ok_or_else(|| Error::invalid("group has no `class` attribute").at_with(at))?
        .to_string();
    let info = crate::registry::class_for(&tag).map_err(|e| e.at_with(at))?;
    let _depth = DepthGuard::enter()?;
    crate::depth::grow(|| info.load(de)).map_err(|e| e.at_with(at))
}
