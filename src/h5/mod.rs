//! The HDF5 format: the Serde serializer ([`ser`]) and deserializer ([`de`]) of the
//! anamnesis layout, and the HDF5 operations under them, one file per kind of HDF5 object
//! ([`group`], [`node`]: attributes and datasets) over the C calls of [`ffi`].
//!
//! Everything that touches HDF5 lives under this module; the layout it writes and reads is
//! `docs/FORMAT.md`.

mod de;
mod ffi;
mod file;
mod filters;
mod group;
mod handle;
mod lazy;
mod map_order;
mod node;
#[cfg(feature = "mpio")]
pub(crate) mod parallel;
#[cfg(feature = "mpio")]
mod raw_data;
mod scope;
mod ser;
mod write_scope;

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::object::AnamObject;
use crate::options::ReadOptions;
use crate::write_options::WriteOptions;

pub use handle::{Entry, EntryKind, File, Items};
pub use lazy::Lazy;

/// Writes `value` into `group`: the group becomes the object. On an error, the entries
/// written so far are removed again, so that the group holds what it held before.
pub(crate) fn to_group<T: ?Sized + Serialize>(value: &T, group: &hdf5::Group) -> Result<()> {
    let _track = ffi::track_attribute_order(ffi::in_earliest_format(group));
    let before = group::Members::of(group)?;
    ser::to_group(value, group).inspect_err(|_| group::remove_added(group, &before))
}

/// Runs `write` (any of the writes of this module, or one of the file handle's) with
/// `options` as the storage of the arrays it writes on this thread: the entry point of
/// every write with [`WriteOptions`]. Fails before writing anything on options no array
/// could be stored with (a gzip level above 9, a chunk length of 0).
///
/// A write without options inside it (a plain `to_group` in a `Serialize` impl) keeps these
/// options; one with options of its own uses those, then these again.
pub(crate) fn with_write_options<R>(
    options: &WriteOptions,
    write: impl FnOnce() -> Result<R>,
) -> Result<R> {
    let _storage = write_scope::enter(options)?;
    write()
}

/// [`to_group`] with `options`.
pub(crate) fn to_group_with<T: ?Sized + Serialize>(
    value: &T,
    group: &hdf5::Group,
    options: &WriteOptions,
) -> Result<()> {
    with_write_options(options, || to_group(value, group))
}

/// Reads a `T` from `group`.
pub(crate) fn from_group<T: DeserializeOwned>(
    group: &hdf5::Group,
    options: &ReadOptions,
) -> Result<T> {
    let _scope = scope::enter(options, group::file_size(group));
    de::from_group(group)
}

/// Loads the object in `group` as the registered class its tag names.
pub(crate) fn obj_from_group(
    group: &hdf5::Group,
    options: &ReadOptions,
) -> Result<Box<dyn AnamObject>> {
    let _scope = scope::enter(options, group::file_size(group));
    de::object_from_group(group)
}

/// Writes `value` as the group `group_name` of the file at `path`.
///
/// A new file is written under a temporary name in its directory, made durable and moved
/// into place: the path holds a complete file or none. In an existing file the object is
/// built unlinked (HDF5's anonymous group), flushed, and only then linked under its name,
/// replacing an object of that name: until that moment the file is as it was (see
/// `docs/FORMAT.md`, "Writes").
pub(crate) fn to_file<T: ?Sized + Serialize>(
    path: &Path,
    group_name: &str,
    value: &T,
) -> Result<()> {
    write_file(path, group_name, value, &mut |_| Ok(()))
}

/// [`to_file`], with `before_link` run once the object is written, before it is linked into
/// place (given the file written: a new file still under its temporary name, or the file
/// at `path`). If another writer created the file meanwhile, our object goes into theirs,
/// `before_link` called again (it may refuse).
pub(crate) fn write_file<T: ?Sized + Serialize>(
    path: &Path,
    group_name: &str,
    value: &T,
    before_link: &mut dyn FnMut(&hdf5::File) -> Result<()>,
) -> Result<()> {
    check_group_name(group_name)?;
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let new = file::NewFile::create(path)?;
            let group = group::create_group(new.file(), group_name, ser::UNKNOWN_ENTRIES)?;
            ser::to_group(value, &group)?;
            drop(group);
            before_link(new.file())?;
            new.commit(|| {
                let file = file::open_write(path)?;
                write_object_then(&file, group_name, value, before_link)
            })
        }
        _ => {
            let file = file::open_write(path)?;
            write_object_then(&file, group_name, value, before_link)
        }
    }
}

/// [`to_file`] with `options`.
pub(crate) fn to_file_with<T: ?Sized + Serialize>(
    path: &Path,
    group_name: &str,
    value: &T,
    options: &WriteOptions,
) -> Result<()> {
    with_write_options(options, || to_file(path, group_name, value))
}

/// Writes `value` as the object `name` of the open `file`, failure-atomic: built unlinked,
/// flushed, then linked in place of an object of that name (see [`to_file`]).
pub(crate) fn write_object<T: ?Sized + Serialize>(
    file: &hdf5::File,
    name: &str,
    value: &T,
) -> Result<()> {
    write_object_then(file, name, value, &mut |_| Ok(()))
}

/// [`write_object`], with `before_link` run once the object is
/// written and flushed, before it is linked.
fn write_object_then<T: ?Sized + Serialize>(
    file: &hdf5::File,
    name: &str,
    value: &T,
    before_link: &mut dyn FnMut(&hdf5::File) -> Result<()>,
) -> Result<()> {
    check_group_name(name)?;
    // Groups of a file of HDF5's earliest format (Python's) need it for indexed attributes.
    let _track = ffi::track_attribute_order(ffi::in_earliest_format(&file.as_group()?));
    let object = group::Unlinked::create(file, ser::UNKNOWN_ENTRIES)?;
    ser::to_group(value, &object.group).map_err(|e| e.under(name))?;
    // The new object is on disk before any link to it is.
    file.flush()?;
    before_link(file)?;
    group::link_replacing(file, object, name)?;
    file.flush()?;
    Ok(())
}

/// Group names the writer accepts: a path of non-empty names, none of them reserved for the
/// writer's temporary links.
fn check_group_name(name: &str) -> Result<()> {
    let parts: Vec<&str> = name.trim_start_matches('/').split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        return Err(Error::invalid(format!(
            "`{name}` is not a group name (a path of non-empty names)"
        )));
    }
    if parts.iter().any(|p| group::is_temporary(p)) {
        return Err(Error::invalid(format!(
            "`{name}`: names starting with `{}` are the writer's temporary names",
            group::TEMPORARY_PREFIX
        )));
    }
    Ok(())
}

/// Reads a `T` from the group `group_name` of the file at `path`, or from its first group.
pub(crate) fn from_file<T: DeserializeOwned>(
    path: &Path,
    group_name: Option<&str>,
    options: &ReadOptions,
) -> Result<T> {
    let file = file::open_read(path)?;
    let _scope = scope::enter(options, file.size);
    // Declared after `file`, so closed before it: the file is closed when its handle goes.
    let group = group::open_group_or_first(&file, group_name)?;
    de::from_group(&group)
}

/// Reads like [`from_file`], but opens the file directly, outside the registry of files and
/// without locks: for the child process of an isolated read, which has one thread and may
/// not wait for the parent's other threads (they are not in the child).
pub(crate) fn from_file_unregistered<T: DeserializeOwned>(
    path: &Path,
    group_name: Option<&str>,
    options: &ReadOptions,
) -> Result<T> {
    let file = ffi::file_access(false)?
        .open(path)
        .map_err(|source| file::file_error(path, source))?;
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    let _scope = scope::enter(options, size);
    let group = group::open_group_or_first(&file, group_name)?;
    de::from_group(&group)
}

/// Loads the object in the group `group_name` of the file at `path` (or its first group).
pub(crate) fn obj_from_file(
    path: &Path,
    group_name: Option<&str>,
    options: &ReadOptions,
) -> Result<Box<dyn AnamObject>> {
    let file = file::open_read(path)?;
    let _scope = scope::enter(options, file.size);
    let group = group::open_group_or_first(&file, group_name)?;
    de::object_from_group(&group)
}
