//! Groups: creating them, listing their members, and opening what their links point to.

use hdf5::Group;

use super::ffi::{self, c_name, OwnedId};
use super::node::Node;
use super::scope;
use crate::error::{Error, ErrorKind, Result};

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
/// names into a hash set. The writer's temporary links (a killed write's leftovers) are
/// not listed.
pub(crate) struct Members {
    pub attrs: Vec<String>,
    pub links: Vec<String>,
}

impl Members {
    pub(crate) fn of(group: &Group) -> Result<Members> {
        let attrs = group.attr_names_by(hdf5::IndexType::Name, hdf5::IterationOrder::Native)?;
        Members::with_attrs(group, attrs)
    }

    /// The links of `group` beside the attribute names `attrs` (found by
    /// [`node::load_attributes`](super::node::load_attributes) for a list).
    pub(crate) fn with_attrs(group: &Group, attrs: Vec<String>) -> Result<Members> {
        // Listed in the index's own order and sorted here: asked for increasing name order,
        // HDF5 copies every attribute (value included) or link of dense storage into a
        // table and sorts it, visiting the heap in hash order (1,000,000 string attributes:
        // 13.2 s, against 10.8 s in native order for a list written in item order and
        // 0.35 s for one written in hash order, see `node::defer_attributes`).
        let sorted = |mut names: Vec<String>| {
            if !names.is_sorted() {
                names.sort_unstable();
            }
            names
        };
        let mut links =
            group.member_names_by(hdf5::IndexType::Name, hdf5::IterationOrder::Native)?;
        links.retain(|n| !is_temporary(n));
        Ok(Members {
            attrs: sorted(attrs),
            links: sorted(links),
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
    let lapl = if scope::allow_external() {
        H5P_DEFAULT
    } else {
        ffi::shared()?.no_external_links
    };
    // SAFETY: a valid group id, a NUL-terminated name and a valid property list; the id is
    // owned (H5Oclose closes groups and datasets alike).
    let id = OwnedId::new(op, H5Oclose, || unsafe {
        H5Oopen(parent.id(), cname.as_ptr(), lapl)
    })
    .map_err(|e| {
        if is_external_link(parent, name) {
            Error::unsupported(format!(
                "`{name}` is an external link (its object is in another file): refused by \
                 default; read it with `ReadOptions::allow_external(true)` if the file is \
                 trusted"
            ))
        } else {
            e
        }
    })?;
    // SAFETY: only queries the type of an open identifier.
    match hdf5::sync::sync(|| unsafe { H5Iget_type(id.id()) }) {
        H5I_type_t::H5I_GROUP => into_group(id).map(Linked::Group),
        H5I_type_t::H5I_DATASET => Node::dataset(id).map(Linked::Dataset),
        other => Err(Error::unsupported(format!("HDF5 object of type {other:?}"))),
    }
}

/// Whether `name` is an external link of `parent` (asked only when opening it failed).
fn is_external_link(parent: &Group, name: &str) -> bool {
    let mut external = false;
    let _ = parent.iter_visit(
        hdf5::IndexType::Name,
        hdf5::IterationOrder::Native,
        |link, info| {
            external |= link == name && info.link_type == hdf5::LinkType::External;
            Ok(())
        },
    );
    external
}

pub(crate) use crate::format::TEMPORARY_PREFIX;

/// Whether a link name is one of the writer's temporary names.
pub(crate) fn is_temporary(name: &str) -> bool {
    name.starts_with(TEMPORARY_PREFIX)
}

/// A group with no link to it yet (HDF5's anonymous group), built before it is linked in
/// with [`link_replacing`]; dropped unlinked, HDF5 deletes it and frees its space.
///
/// It holds one reference count of its own until it is linked. Why: with HDF5 1.10.8 and
/// 2.2 alike, an anonymous group whose members no longer all fit in the metadata cache
/// (some 8,000 member groups) is deleted when its handle closes *even after it was
/// linked*, and the file is cut back to its size before the write (h5dump and h5py then
/// fail with `addr overflow`). With a count of its own the group is never at zero links
/// while we build it; the count goes back once the link is made
/// (`tests/reliability.rs`, a big object written into an existing file).
pub(crate) struct Unlinked {
    pub group: Group,
    held: bool,
}

impl Unlinked {
    /// Creates the group in `file`, expected to hold about `entries` members.
    pub(crate) fn create(file: &hdf5::File, entries: usize) -> Result<Unlinked> {
        use hdf5_sys::h5g::{H5Gclose, H5Gcreate_anon};
        use hdf5_sys::h5o::H5Oincr_refcount;
        use hdf5_sys::h5p::H5P_DEFAULT;

        let gcpl = ffi::group_create_list(entries);
        // SAFETY: a valid file id and property lists; the group id is owned.
        let id = OwnedId::new(
            || "cannot create a group".into(),
            H5Gclose,
            || unsafe { H5Gcreate_anon(file.id(), gcpl, H5P_DEFAULT) },
        )?;
        let group = into_group(id)?;
        ffi::call(
            || "cannot hold the new group".into(),
            // SAFETY: a valid object id.
            || unsafe { H5Oincr_refcount(group.id()) },
        )?;
        Ok(Unlinked { group, held: true })
    }

    /// Gives back the reference count the group held for itself.
    fn release(&mut self) -> Result<()> {
        use hdf5_sys::h5o::H5Odecr_refcount;
        if std::mem::take(&mut self.held) {
            ffi::call(
                || "cannot release the new group".into(),
                // SAFETY: a valid object id whose count we raised in `create`.
                || unsafe { H5Odecr_refcount(self.group.id()) },
            )?;
        }
        Ok(())
    }
}

impl Drop for Unlinked {
    fn drop(&mut self) {
        // Runs before the group's handle closes: unlinked, HDF5 then deletes it.
        let _ = self.release();
    }
}

/// Links `object` (unlinked so far) as `path` in `file`, making missing parent groups, and
/// replacing an object linked there: the new object is linked under a temporary name and
/// flushed first, then the old link is removed and the temporary one renamed, so that the
/// file never lacks an object at `path` in what is on disk between flushes.
pub(crate) fn link_replacing(file: &hdf5::File, mut object: Unlinked, path: &str) -> Result<()> {
    use hdf5_sys::h5o::H5Olink;
    use hdf5_sys::h5p::H5P_DEFAULT;

    let path = path.trim_start_matches('/');
    let (parent, leaf) = path.rsplit_once('/').unwrap_or(("", path));
    let temp = if parent.is_empty() {
        format!("{TEMPORARY_PREFIX}{leaf}")
    } else {
        format!("{parent}/{TEMPORARY_PREFIX}{leaf}")
    };
    let lcpl = ffi::shared()?.lcpl;
    let link = |name: &str| -> Result<()> {
        let cname = c_name(name, "link")?;
        // SAFETY: valid object and file ids, a NUL-terminated name, a valid property list.
        ffi::call(
            || format!("cannot link the new object as `{name}`"),
            || unsafe {
                H5Olink(
                    object.group.id(),
                    file.id(),
                    cname.as_ptr(),
                    lcpl,
                    H5P_DEFAULT,
                )
            },
        )
        .map(drop)
    };
    // A temporary link left by a writer that was killed.
    if file.link_exists(&temp) {
        delete_link(file, &temp)?;
    }
    if file.link_exists(path) {
        link(&temp)?;
        file.flush()?;
        replace_by_temporary(file, &temp, path)?;
    } else {
        link(path)?;
    }
    // Linked: the group's own count can go. Were that to fail, the group would only keep
    // one count too many (it would outlive a later unlink); the write itself is complete.
    let _ = object.release();
    Ok(())
}

/// Removes the link `path` of `file` (or of any group) and renames `temp` to it.
pub(crate) fn replace_by_temporary(file: &Group, temp: &str, path: &str) -> Result<()> {
    use hdf5_sys::h5l::H5Lmove;
    use hdf5_sys::h5p::H5P_DEFAULT;

    let (ctemp, cpath) = (c_name(temp, "link")?, c_name(path, "link")?);
    // Under HDF5's lock as one step: other threads of this process share the file's state
    // with us, and must never find `path` missing between the two calls.
    hdf5::sync::sync(|| {
        delete_link(file, path)?;
        ffi::call(
            || format!("cannot rename `{temp}` to `{path}`"),
            // SAFETY: a valid file id, NUL-terminated names and valid property lists.
            || unsafe {
                H5Lmove(
                    file.id(),
                    ctemp.as_ptr(),
                    file.id(),
                    cpath.as_ptr(),
                    H5P_DEFAULT,
                    H5P_DEFAULT,
                )
            },
        )
        .map(drop)
    })
}

/// Removes the link `name` of `file` (or of any group).
pub(crate) fn delete_link(file: &Group, name: &str) -> Result<()> {
    use hdf5_sys::h5l::H5Ldelete;
    use hdf5_sys::h5p::H5P_DEFAULT;

    let cname = c_name(name, "link")?;
    // SAFETY: a valid file id and a NUL-terminated name.
    ffi::call(
        || format!("cannot remove the link `{name}`"),
        || unsafe { H5Ldelete(file.id(), cname.as_ptr(), H5P_DEFAULT) },
    )
    .map(drop)
}

/// Removes the attributes and links of `group` that `before` does not list (what a failed
/// write added).
pub(crate) fn remove_added(group: &Group, before: &Members) {
    let Ok(now) = Members::of(group) else {
        return;
    };
    for name in now.attrs.iter().filter(|n| !before.has_attr(n)) {
        let _ = group.delete_attr(name);
    }
    for name in now.links.iter().filter(|n| !before.has_link(n)) {
        let _ = group.unlink(name);
    }
}

/// Opens the group `name`, or the first group of the file in name order (not counting the
/// writer's temporary links), naming the file in errors.
pub(crate) fn open_group_or_first(file: &hdf5::File, name: Option<&str>) -> Result<Group> {
    let name = match name {
        Some(name) => name.to_string(),
        None => file
            .member_names()?
            .into_iter()
            .filter(|n| !is_temporary(n))
            .find(|n| matches!(file.loc_type_by_name(n), Ok(hdf5::LocationType::Group)))
            .ok_or_else(|| {
                ErrorKind::GroupNotFound(format!("{}: the file has no group", file.filename()))
            })?,
    };
    if !file.link_exists(&name) {
        return Err(
            ErrorKind::GroupNotFound(format!("{}: no group `{name}`", file.filename())).into(),
        );
    }
    match file.loc_type_by_name(&name) {
        Ok(hdf5::LocationType::Group) => Ok(file.group(&name)?),
        _ => Err(ErrorKind::GroupNotFound(format!(
            "{}: `{name}` is not a group (a dataset or another object)",
            file.filename()
        ))
        .into()),
    }
}

/// The size of the file `group` is in (0 if HDF5 cannot tell).
pub(crate) fn file_size(group: &Group) -> u64 {
    use hdf5_sys::h5f::H5Fget_filesize;
    let mut size: u64 = 0;
    // SAFETY: a valid object id (any object names its file) and a place for the size.
    let status = hdf5::sync::sync(|| unsafe { H5Fget_filesize(group.id(), &mut size) });
    if status < 0 {
        0
    } else {
        size
    }
}
