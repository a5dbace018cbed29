//! The HDF5 format: the Serde serializer ([`ser`]) and deserializer ([`de`]) of the
//! anamnesis layout, and the HDF5 operations under them, one file per kind of HDF5 object
//! ([`group`], [`node`]: attributes and datasets) over the C calls of [`ffi`].
//!
//! Everything that touches HDF5 lives under this module; the layout it writes and reads is
//! `docs/FORMAT.md`.

mod de;
mod ffi;
mod group;
mod node;
mod ser;

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{ErrorKind, Result};
use crate::object::AnamObject;

/// Writes `value` into `group`: the group becomes the object.
pub(crate) fn to_group<T: ?Sized + Serialize>(value: &T, group: &hdf5::Group) -> Result<()> {
    ser::to_group(value, group)
}

/// Reads a `T` from `group`.
pub(crate) fn from_group<T: DeserializeOwned>(group: &hdf5::Group) -> Result<T> {
    de::from_group(group)
}

/// Loads the object in `group` as the registered class its tag names.
pub(crate) fn obj_from_group(group: &hdf5::Group) -> Result<Box<dyn AnamObject>> {
    de::object_from_group(group)
}

/// Writes `value` as the group `group_name` of the file at `path` (created if missing).
pub(crate) fn to_file<T: ?Sized + Serialize>(
    path: &Path,
    group_name: &str,
    value: &T,
) -> Result<()> {
    let file = file_builder()
        .append(path)
        .map_err(|source| ErrorKind::File {
            path: path.display().to_string(),
            source,
        })?;
    ffi::close_on_exec(&file);
    if file.link_exists(group_name) {
        file.unlink(group_name)?;
    }
    let group = group::create_group(&file, group_name, ser::UNKNOWN_ENTRIES)?;
    if let Err(e) = ser::to_group(value, &group) {
        // Leave no half-written object behind.
        drop(group);
        let _ = file.unlink(group_name);
        return Err(e);
    }
    file.flush()?;
    Ok(())
}

/// Reads a `T` from the group `group_name` of the file at `path`, or from its first group.
pub(crate) fn from_file<T: DeserializeOwned>(path: &Path, group_name: Option<&str>) -> Result<T> {
    let file = open_file(path)?;
    de::from_group(&open_group(&file, group_name)?)
}

/// Loads the object in the group `group_name` of the file at `path` (or its first group).
pub(crate) fn obj_from_file(path: &Path, group_name: Option<&str>) -> Result<Box<dyn AnamObject>> {
    let file = open_file(path)?;
    de::object_from_group(&open_group(&file, group_name)?)
}

/// How files are opened for writing: objects in the HDF5 1.8 file format.
///
/// HDF5's default ("earliest") format keeps every attribute of a group in its object
/// header and finds one by scanning them all, so a list or dict of n scalars costs O(n²)
/// to write and read (10,000 `int64` attributes: 1.9 s to write, 0.4 s to read here).
/// The 1.8 format moves an object's attributes and links to indexed storage once there
/// are more than 8 (35 ms and 13 ms for the same), and makes small groups smaller (W1's
/// file: 1.4 MB instead of 3.4 MB). Objects are written in the 1.8 format, readable by
/// every HDF5 since 1.8 (2008), h5py and Python anamnesis included; the upper bound is
/// the library's latest so that files made in a newer format (h5py's `libver="latest"`)
/// can still be opened to add to.
fn file_builder() -> hdf5::FileBuilder {
    use hdf5::file::LibraryVersion;
    let mut builder = hdf5::File::with_options();
    builder.with_fapl(|fapl| fapl.libver_bounds(LibraryVersion::V18, LibraryVersion::latest()));
    builder
}

/// Opens a file for reading, naming it in the error.
fn open_file(path: &Path) -> Result<hdf5::File> {
    let file = hdf5::File::open(path).map_err(|source| ErrorKind::File {
        path: path.display().to_string(),
        source,
    })?;
    ffi::close_on_exec(&file);
    Ok(file)
}

/// Opens the named group, or the first group of the file in name order.
fn open_group(file: &hdf5::File, group_name: Option<&str>) -> Result<hdf5::Group> {
    let name = match group_name {
        Some(name) => name.to_string(),
        None => file
            .member_names()?
            .into_iter()
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
