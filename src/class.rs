//! [`AnamClass`]: the trait `#[anam::class]` implements, what Python anamnesis configures
//! with class variables; and its link to [`AnamObject`].

use std::any::Any;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::object::AnamObject;

/// A class: a Serde type with a class tag, implemented by `#[anam::class]`.
///
/// The tag is the type's Serde name (the macro sets `#[serde(rename)]` to it), so plain
/// [`to_group`](crate::to_group)/[`from_group`](crate::from_group) use it too; the trait adds
/// what Python anamnesis configures with class variables. Classes are `Send`, so that
/// loaded objects ([`AnamObject`]) can move between threads.
pub trait AnamClass: Serialize + DeserializeOwned + Send + 'static {
    /// The class tag (Python's fully qualified class name, e.g. `test_classes1.SimplePerson`).
    const CLASS: &'static str;
    /// The group [`from_file`](AnamClass::from_file) reads and
    /// [`to_file`](AnamClass::to_file) writes (Python's `hdf5_defaultgroup`).
    const DEFAULT_GROUP: Option<&'static str> = None;
    /// Older tags that load as this class (Python's `hdf5_aliases`).
    const ALIASES: &'static [&'static str] = &[];

    /// Runs after every load, from HDF5 or MPI, nested objects included (Python's
    /// `init_from_hdf5`). The default does nothing.
    fn after_load(&mut self) {}

    /// Reads the object from its default group of the file (the first group when the class
    /// has none).
    fn from_file(path: impl AsRef<Path>) -> Result<Self>
    where
        Self: Sized,
    {
        crate::h5::from_file(path.as_ref(), Self::DEFAULT_GROUP, &Default::default())
    }

    /// Writes the object as its default group of the file (see [`crate::to_file`]).
    fn to_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let group = Self::DEFAULT_GROUP.ok_or_else(|| {
            Error::new(ErrorKind::Invalid(format!(
                "class `{}` has no default group: use anam::to_file with a group name",
                Self::CLASS
            )))
        })?;
        crate::h5::to_file(path.as_ref(), group, self)
    }
}

impl<T: AnamClass> AnamObject for T {
    fn class_tag(&self) -> &'static str {
        T::CLASS
    }
    fn type_class_tag() -> &'static str {
        T::CLASS
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
}

/// Deserializes a `T` as a boxed object: the load function of its registration.
#[doc(hidden)]
pub fn load_object<T: AnamClass>(
    d: &mut dyn erased_serde::Deserializer<'_>,
) -> std::result::Result<Box<dyn AnamObject>, erased_serde::Error> {
    Ok(Box::new(erased_serde::deserialize::<T>(d)?))
}
