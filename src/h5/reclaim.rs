//! Giving back the file space of a replaced object's variable-length data.
//!
//! Variable-length strings (every `class` attribute, every string member) live in HDF5's
//! global heap, not in the object that holds them, and deleting the object does not free
//! them: measured, each `to_file` that replaced a small object left a new 4 KiB heap
//! collection behind, forever (see `docs/FORMAT.md`, "File space"). HDF5 frees a heap
//! object only when the value that points to it is overwritten: so, once a replaced object
//! is unlinked (and the write is complete), its variable-length values are overwritten with
//! empty ones before it is closed and deleted. HDF5 1.10.8 does so for datasets only (its
//! attributes are not cleared: that would cost time and free nothing); the bundled HDF5 2.2
//! for attributes too (versions between were not tried: attributes are cleared from 1.12 on).
//!
//! A program that still holds an `hdf5` handle of the replaced object (not through this
//! crate) sees its strings empty from then on; the object is deleted when that handle goes.
//!
//! The next write reuses the space of collections it has loaded: [`load_heap`] reads one
//! string of the object about to be replaced, which loads the collection that holds it.

use hdf5::Group;
use hdf5_sys::h5i::hid_t;

use super::ffi::{self, c_name, OwnedId};
use crate::error::Result;

/// Loads the heap collection of the `class` string of the object at `path` (if it is a
/// group that has one), so that the new object's strings go into its free space rather
/// than into a new collection. Best effort: the write does not depend on it.
pub(crate) fn load_heap(file: &hdf5::File, path: &str) {
    if !file.link_exists(path) {
        return;
    }
    if let Ok(group) = file.group(path) {
        if let Ok(attr) = group.attr("class") {
            let _ = attr.read_scalar::<hdf5::types::VarLenUnicode>();
        }
    }
}

/// A replaced object, held open from before its link goes until its values are cleared.
pub(crate) enum Replaced {
    Group(Group),
    Dataset(hdf5::Dataset),
}

/// Opens the object at `path` if it goes with its link: a hard link, the object's only
/// one (an object linked elsewhere too is left alone).
pub(crate) fn open_replaced(file: &hdf5::File, path: &str) -> Option<Replaced> {
    let (parent, leaf) = path.rsplit_once('/').unwrap_or(("", path));
    let parent = if parent.is_empty() {
        file.as_group().ok()?
    } else {
        file.group(parent).ok()?
    };
    if !is_sole_hard_link(&parent, leaf) {
        return None;
    }
    if let Ok(group) = parent.group(leaf) {
        Some(Replaced::Group(group))
    } else {
        parent.dataset(leaf).ok().map(Replaced::Dataset)
    }
}

/// Whether `name` is a hard link of `group` and its object's only link.
fn is_sole_hard_link(group: &Group, name: &str) -> bool {
    let mut hard = false;
    let _ = group.iter_visit(
        hdf5::IndexType::Name,
        hdf5::IterationOrder::Native,
        |link, info| {
            hard |= link == name && info.link_type == hdf5::LinkType::Hard;
            Ok(())
        },
    );
    hard && group
        .loc_info_by_name(name)
        .is_ok_and(|info| info.num_links == 1)
}

/// Overwrites the variable-length values of `object` (now unlinked: its link is gone) and
/// of the members only it links to with empty values, so that HDF5 frees their heap
/// objects; it is deleted when closed. Best effort: an error leaves some heap space
/// unused, nothing else.
pub(crate) fn clear_unlinked(object: Replaced) {
    match &object {
        Replaced::Group(group) => {
            clear_attributes(group);
            clear_members(group, 0);
        }
        Replaced::Dataset(dataset) => {
            clear_attributes(dataset);
            clear_dataset(dataset);
        }
    }
}

/// How deep [`clear_members`] goes (the layout nests one group per level).
const MAX_DEPTH: usize = 256;

fn clear_members(group: &Group, depth: usize) {
    if depth >= MAX_DEPTH {
        return;
    }
    let mut hard = Vec::new();
    let _ = group.iter_visit(
        hdf5::IndexType::Name,
        hdf5::IterationOrder::Native,
        |name, info| {
            if info.link_type == hdf5::LinkType::Hard {
                hard.push(name.to_owned());
            }
            Ok(())
        },
    );
    for name in hard {
        // Only members whose one link is this one go with the object.
        if !group
            .loc_info_by_name(&name)
            .is_ok_and(|info| info.num_links == 1)
        {
            continue;
        }
        if let Ok(child) = group.group(&name) {
            clear_attributes(&child);
            clear_members(&child, depth + 1);
        } else if let Ok(dataset) = group.dataset(&name) {
            clear_attributes(&dataset);
            clear_dataset(&dataset);
        }
    }
}

fn clear_attributes(object: &hdf5::Location) {
    if hdf5::library_version() < (1, 12, 0) {
        return;
    }
    let Ok(names) = object.attr_names() else {
        return;
    };
    for name in names {
        let Ok(cname) = c_name(&name, "attribute") else {
            continue;
        };
        // SAFETY: a valid object id and a NUL-terminated name; the id is owned.
        let attr = OwnedId::new(String::new, hdf5_sys::h5a::H5Aclose, || unsafe {
            hdf5_sys::h5a::H5Aopen(object.id(), cname.as_ptr(), hdf5_sys::h5p::H5P_DEFAULT)
        });
        if let Ok(attr) = attr {
            let _ = clear_values(attr.id(), Kind::Attribute);
        }
    }
}

fn clear_dataset(dataset: &hdf5::Dataset) {
    let _ = clear_values(dataset.id(), Kind::Dataset);
}

#[derive(Clone, Copy)]
enum Kind {
    Attribute,
    Dataset,
}

/// Writes zeros (null pointers, empty sequences) over the values of an attribute or
/// dataset whose type holds variable-length data; others are not touched.
fn clear_values(id: hid_t, kind: Kind) -> Result<()> {
    use hdf5_sys::h5a::{H5Aget_space, H5Aget_type, H5Awrite};
    use hdf5_sys::h5d::{H5Dget_space, H5Dget_type, H5Dwrite};
    use hdf5_sys::h5p::H5P_DEFAULT;
    use hdf5_sys::h5s::{H5Sclose, H5Sget_simple_extent_npoints, H5S_ALL};
    use hdf5_sys::h5t::{
        H5T_class_t, H5Tclose, H5Tdetect_class, H5Tget_class, H5Tget_size, H5Tis_variable_str,
    };

    let op = || "cannot clear a replaced value".to_string();
    // SAFETY: a valid attribute or dataset id; the type and space ids are owned. The type
    // of an attribute or dataset comes with its variable-length parts in memory form, so
    // a zeroed buffer of `n` elements of its size is `n` null values.
    let dtype = OwnedId::new(op, H5Tclose, || unsafe {
        match kind {
            Kind::Attribute => H5Aget_type(id),
            Kind::Dataset => H5Dget_type(id),
        }
    })?;
    let t = dtype.id();
    // SAFETY: only queries a valid datatype id.
    let variable = ffi::call(op, || unsafe {
        match H5Tget_class(t) {
            H5T_class_t::H5T_STRING => H5Tis_variable_str(t),
            H5T_class_t::H5T_VLEN => 1,
            H5T_class_t::H5T_COMPOUND | H5T_class_t::H5T_ARRAY => {
                let v = H5Tdetect_class(t, H5T_class_t::H5T_VLEN);
                let s = H5Tdetect_class(t, H5T_class_t::H5T_STRING);
                if v < 0 || s < 0 {
                    -1
                } else {
                    i32::from(v > 0 || s > 0)
                }
            }
            _ => 0,
        }
    })?;
    if variable == 0 {
        return Ok(());
    }
    // SAFETY: a valid attribute or dataset id; the dataspace id is owned.
    let space = OwnedId::new(op, H5Sclose, || unsafe {
        match kind {
            Kind::Attribute => H5Aget_space(id),
            Kind::Dataset => H5Dget_space(id),
        }
    })?;
    // SAFETY: only queries valid dataspace and datatype ids.
    let n = ffi::call(op, || unsafe { H5Sget_simple_extent_npoints(space.id()) })?;
    // SAFETY: as above.
    let size = ffi::call(op, || unsafe { H5Tget_size(t) as i64 })?;
    let bytes = usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_mul(usize::try_from(size).ok()?))
        .unwrap_or(0);
    if bytes == 0 {
        return Ok(());
    }
    let zeros = vec![0u8; bytes];
    // SAFETY: `zeros` holds `n` elements of the type `t` (null pointers and empty
    // sequences in memory form), as the whole-extent write reads.
    ffi::call(op, || unsafe {
        match kind {
            Kind::Attribute => H5Awrite(id, t, zeros.as_ptr().cast()),
            Kind::Dataset => H5Dwrite(id, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.as_ptr().cast()),
        }
    })?;
    Ok(())
}
