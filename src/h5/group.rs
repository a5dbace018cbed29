//! Groups: creating them, listing their members, and opening what their links point to.

use hdf5::Group;

use super::ffi::{self, c_name, OwnedId};
use super::node::Node;
use crate::error::{Error, Result};

/// Creates the group `name` in `parent`, expected to hold about `entries` attributes and
/// links (see [`group_create_list`](ffi::group_create_list) for what that buys). Missing
/// intermediate groups of a path are made too.
pub(crate) fn create_group(parent: &Group, name: &str, entries: usize) -> Result<Group> {
    use hdf5_sys::h5g::{H5Gclose, H5Gcreate2};
    use hdf5_sys::h5p::H5P_DEFAULT;

    let gcpl = ffi::group_create_list(entries);
    let lcpl = ffi::shared()?.lcpl;
    let cname = c_name(name, "group")?;
    let op = || format!("cannot create the group `{name}`");
    // SAFETY: a valid parent id, a NUL-terminated name and valid property lists.
    let id = OwnedId::new(op, H5Gclose, || unsafe {
        H5Gcreate2(parent.id(), cname.as_ptr(), lcpl, gcpl, H5P_DEFAULT)
    })?;
    into_group(id)
}

/// Hands a group identifier we own to the `hdf5` crate's `Group`.
fn into_group(id: OwnedId) -> Result<Group> {
    let raw = id.id();
    std::mem::forget(id);
    // SAFETY: `raw` is a group identifier whose ownership moves to the `Group`.
    Ok(unsafe { hdf5::from_id::<Group>(raw)? })
}

/// Joins an HDF5 group path and a member name for error messages.
pub(crate) fn join(parent: &Group, name: &str) -> String {
    let p = parent.name();
    if p.ends_with('/') {
        format!("{p}{name}")
    } else {
        format!("{p}/{name}")
    }
}

/// The names of a group's attributes and links, read once (two HDF5 iterations), sorted,
/// so that looking up many members of one group costs O(log n) each without copying the
/// names into a hash set.
pub(crate) struct Members {
    pub attrs: Vec<String>,
    pub links: Vec<String>,
}

impl Members {
    pub(crate) fn of(group: &Group) -> Result<Members> {
        // HDF5 lists both by their name index, in increasing byte order, which is `str`'s
        // order; sort anyway if a file says otherwise, since lookups rely on it.
        let sorted = |mut names: Vec<String>| {
            if !names.is_sorted() {
                names.sort_unstable();
            }
            names
        };
        Ok(Members {
            attrs: sorted(group.attr_names()?),
            links: sorted(
                group.member_names_by(hdf5::IndexType::Name, hdf5::IterationOrder::Increasing)?,
            ),
        })
    }

    pub(crate) fn has_attr(&self, name: &str) -> bool {
        self.attrs
            .binary_search_by(|n| n.as_str().cmp(name))
            .is_ok()
    }

    pub(crate) fn has_link(&self, name: &str) -> bool {
        self.links
            .binary_search_by(|n| n.as_str().cmp(name))
            .is_ok()
    }
}

/// An object reached through a link: a group or a dataset.
pub(crate) enum Linked {
    Group(Group),
    Dataset(Node),
}

/// Opens the object a link points to, as whatever it is (one `H5Oopen`, where asking for
/// its type first and then opening it would take two calls).
pub(crate) fn open_link(parent: &Group, name: &str) -> Result<Linked> {
    use hdf5_sys::h5i::{H5I_type_t, H5Iget_type};
    use hdf5_sys::h5o::{H5Oclose, H5Oopen};
    use hdf5_sys::h5p::H5P_DEFAULT;

    let cname = c_name(name, "link")?;
    let op = || format!("cannot open the object linked as `{name}` (a dangling link?)");
    // SAFETY: a valid group id and a NUL-terminated name; the id is owned (H5Oclose closes
    // groups and datasets alike).
    let id = OwnedId::new(op, H5Oclose, || unsafe {
        H5Oopen(parent.id(), cname.as_ptr(), H5P_DEFAULT)
    })?;
    // SAFETY: only queries the type of an open identifier.
    match hdf5::sync::sync(|| unsafe { H5Iget_type(id.id()) }) {
        H5I_type_t::H5I_GROUP => into_group(id).map(Linked::Group),
        H5I_type_t::H5I_DATASET => Node::dataset(id).map(Linked::Dataset),
        other => Err(Error::unsupported(format!("HDF5 object of type {other:?}"))),
    }
}
