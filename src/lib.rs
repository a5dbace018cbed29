//! # serde-anam
//!
//! A [Serde](https://serde.rs) data format for HDF5 files in the layout of the Python
//! library [anamnesis](https://pypi.org/project/anamnesis/): any
//! `#[derive(Serialize, Deserialize)]` type is saved as one HDF5 group per object, with a
//! `class` tag on each, scalars as attributes and arrays as datasets, and files written by
//! Python anamnesis load back into Rust types (and the other way round).
//!
//! ## Quick start
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! #[serde(rename = "test_classes1.SimplePerson")] // the class tag Python uses
//! struct SimplePerson {
//!     name: String,
//!     age: i64,
//! }
//!
//! # fn main() -> anam::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("test_script1.hdf5");
//! let fred = SimplePerson { name: "Fred".into(), age: 42 };
//! anam::to_file(&path, "person", &fred)?;
//!
//! // No group name: the first group in the file, as Python's `obj_from_hdf5file`.
//! let back: SimplePerson = anam::from_file(&path, None)?;
//! assert_eq!(back, fred);
//! # Ok(())
//! # }
//! ```
//!
//! ## The layout
//!
//! | Rust (Serde data model)                         | HDF5                                              |
//! |-------------------------------------------------|---------------------------------------------------|
//! | struct                                          | group, attribute `class` = the Serde name          |
//! | `bool`, integers, floats                        | attribute of that type (bool: h5py's enum)         |
//! | `char`, `String`                                | variable-length UTF-8 string attribute             |
//! | `Option::None`                                  | nothing (absent entries read as `None`)            |
//! | `()`                                            | null-dataspace attribute (h5py's `Empty`)          |
//! | `ndarray` array with [`array`](mod@array)        | dataset of its dtype and shape, one buffer         |
//! | `ndarray` array through ndarray's `serde` feature | the same dataset (elements collected one by one)   |
//! | empty or 0-d array                              | `AnamEmptyArray` group                             |
//! | `Vec`/tuple of one numeric type                 | 1-D dataset                                        |
//! | other sequences                                 | `AnamList` group (`count`, `LIST_item{i}`)         |
//! | maps                                            | `AnamDict` group (`dictkeys`, `dictdata` lists)    |
//! | unit enum variant                               | string attribute with the variant name             |
//! | newtype/tuple/struct variant                    | `AnamDict` of one entry `{variant: value}`         |
//! | bytes (`serde_bytes`)                           | `uint8` dataset                                    |
//!
//! A field named `class` (for example the tag of a `#[serde(tag = "class")]` enum) *is*
//! the class attribute, so internally tagged enums give polymorphic members.
//!
//! Reading is lenient: integers load into any integer type that holds the value (an `int64`
//! attribute into `i32` when in range), arrays convert only without loss (`int32` into
//! `f64`), other scalars follow Serde's own conversions (an `int64` read into an `f64`
//! field rounds above 2^53), strings load in every HDF5 encoding, sequences load from either
//! a dataset or a list, and the legacy `LISTS` layout and `namemaps` attributes are
//! understood. Every error names the HDF5 path where it happened, and a failed HDF5 call
//! keeps HDF5's own reason.
//!
//! The repository's `docs/FORMAT.md` specifies the layout in full (what Python anamnesis
//! writes, what this crate adds, how the two interoperate), and `docs/WIRE.md` the wire
//! format.
//!
//! Files made by [`to_file`] are in the HDF5 1.8 file format (HDF5 since 2008, h5py and
//! Python anamnesis read them): groups with many attributes or links keep them indexed, so
//! a list or dict of 10,000 scalars writes in a fraction of a second instead of tens of
//! seconds. Every group this crate creates tracks its attributes' creation order, which
//! gives it the same indexed storage in a file the caller created in HDF5's default
//! ("earliest") format and passed to [`to_group`].
//!
//! ## Classes
//!
//! [`macro@class`] gives a struct what Python anamnesis configures with class variables: its
//! tag, default group, aliases, name maps, `extra_data`, `bcast_only` members and an init
//! hook, and registers it so that files load without naming the type:
//!
//! ```
//! use serde::{Deserialize, Serialize};
//!
//! #[anam::class(class = "test_classes2.ComplexPerson", default_group = "person",
//!               aliases("test_classes2.OldComplexPerson"))]
//! #[derive(Serialize, Deserialize, Debug)]
//! struct ComplexPerson {
//!     name: String,
//!     age: i64,
//!     #[anam(extra_data)]
//!     extra_data: anam::ExtraData,
//! }
//!
//! # fn main() -> anam::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("test_script2.hdf5");
//! use anam::AnamClass;
//! let mut bob = ComplexPerson { name: "Bob".into(), age: 75, extra_data: Default::default() };
//! bob.extra_data.insert("hometown".into(), "Oxford".into());
//! bob.to_file(&path)?; // the default group, "person"
//!
//! let obj = anam::obj_from_file(&path, None)?; // the class comes from the file
//! let bob = obj.downcast::<ComplexPerson>()?;
//! assert_eq!(bob.extra_data["hometown"].as_str(), Some("Oxford"));
//! # Ok(())
//! # }
//! ```
//!
//! [`Value`] loads any file, even of classes no Rust type exists for, and writes the same
//! layout back; [`Store`] is Python's `Store`; [`AnamCollection`] is a list of objects that
//! stacks their fields into arrays ([`collection!`]).
//!
//! ## MPI and the wire format
//!
//! [`MpiHandler`] broadcasts, sends, scatters and gathers objects and arrays between MPI
//! ranks (feature `mpi`; without it, or with `MpiHandler::new(false)`, a one-rank local
//! backend runs the same code). Values travel in the compact [`wire`] format, driven by the
//! same Serde impls; array buffers move as raw bytes, without copies.

#![warn(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

// Lets `::anam::...` paths (as the `class` macro writes them) resolve inside this crate too.
extern crate self as anam;

pub mod array;
pub mod as_list;
mod class;
mod collection;
mod depth;
mod dtype;
mod error;
pub mod format;
mod h5;
#[cfg(unix)]
pub mod isolate;
pub mod mpi;
mod object;
mod options;
mod protocol;
pub mod registry;
mod store;
pub mod value;
pub mod wire;

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

pub use crate::array::NdArray;
pub use crate::class::AnamClass;
pub use crate::collection::{AnamCollection, CollectionKind, DefaultCollection};
pub use crate::depth::MAX_DEPTH;
pub use crate::dtype::{DType, Element, TypedArray};
pub use crate::error::{Error, ErrorKind, Result};
pub use crate::h5::{Entry, EntryKind, File, Items};
pub use crate::mpi::MpiHandler;
pub use crate::object::AnamObject;
pub use crate::options::ReadOptions;
pub use crate::store::Store;
pub use crate::value::{from_value, from_value_ref, ValueIndex};
pub use crate::value::{to_value, ExtraData, Object, Value};
/// The `hdf5` crate (hdf5-metno) this crate is built on, so that users need not match its
/// version.
pub use hdf5;
/// The `ndarray` crate (0.17) whose arrays [`array`](mod@array), [`NdArray`] and
/// [`TypedArray`] hold: an array type from another major version of ndarray is another type,
/// which these do not accept. Use `anam::ndarray` to be sure of the version.
pub use ndarray;
/// The `num_complex` crate (0.4) of the complex element types ([`DType::C64`],
/// [`DType::C128`]) and of [`Value::C64`]/[`Value::C128`].
pub use num_complex;
/// The `#[anam::class]` attribute macro, defined in `serde-anam-attrs` (its documentation
/// follows).
pub use serde_anam_attrs::class;

#[doc(hidden)]
pub mod __private {
    pub use crate::class::load_object;
    pub use inventory;
    pub use serde;
}

/// Writes `value` into `group`: the group becomes the object (its `class` attribute and its
/// members).
///
/// `value` must be a struct, map or sequence (an object, a dict or a list in Python terms).
pub fn to_group<T: ?Sized + Serialize>(value: &T, group: &hdf5::Group) -> Result<()> {
    h5::to_group(value, group)
}

/// Reads a `T` from `group`.
///
/// For a struct, the group's `class` must be the struct's tag (its Serde name) or one of
/// its aliases; otherwise the error names the group, the tag found and the tag expected.
pub fn from_group<T: DeserializeOwned>(group: &hdf5::Group) -> Result<T> {
    h5::from_group(group, &ReadOptions::default())
}

/// [`from_group`] with other [`ReadOptions`] (a larger byte budget, data outside the file).
pub fn from_group_with<T: DeserializeOwned>(
    group: &hdf5::Group,
    options: &ReadOptions,
) -> Result<T> {
    h5::from_group(group, options)
}

/// Writes `value` as the group `group_name` of the file at `path`.
///
/// The file is created if it does not exist; otherwise it is opened for writing, other
/// groups are kept, and a group of the same name is replaced.
pub fn to_file<T: ?Sized + Serialize>(
    path: impl AsRef<Path>,
    group_name: &str,
    value: &T,
) -> Result<()> {
    h5::to_file(path.as_ref(), group_name, value)
}

/// Reads a `T` from the group `group_name` of the file at `path`, or, with `None`, from
/// the first group of the file in name order (as Python's `obj_from_hdf5file`).
pub fn from_file<T: DeserializeOwned>(
    path: impl AsRef<Path>,
    group_name: Option<&str>,
) -> Result<T> {
    h5::from_file(path.as_ref(), group_name, &ReadOptions::default())
}

/// [`from_file`] with other [`ReadOptions`] (a larger byte budget, data outside the file).
pub fn from_file_with<T: DeserializeOwned>(
    path: impl AsRef<Path>,
    group_name: Option<&str>,
    options: &ReadOptions,
) -> Result<T> {
    h5::from_file(path.as_ref(), group_name, options)
}

/// Loads the object stored in `group`, of the registered class its `class` tag names
/// (following hints and aliases). An unknown tag is an error naming the tag and the group.
pub fn obj_from_group(group: &hdf5::Group) -> Result<Box<dyn AnamObject>> {
    h5::obj_from_group(group, &ReadOptions::default())
}

/// Loads the object stored in the group `group_name` of the file at `path`, or with `None`
/// in the first group of the file (Python's `obj_from_hdf5file`).
pub fn obj_from_file(
    path: impl AsRef<Path>,
    group_name: Option<&str>,
) -> Result<Box<dyn AnamObject>> {
    h5::obj_from_file(path.as_ref(), group_name, &ReadOptions::default())
}

/// [`obj_from_file`] with other [`ReadOptions`].
pub fn obj_from_file_with(
    path: impl AsRef<Path>,
    group_name: Option<&str>,
    options: &ReadOptions,
) -> Result<Box<dyn AnamObject>> {
    h5::obj_from_file(path.as_ref(), group_name, options)
}
