//! Classes: the [`AnamClass`] trait that `#[anam::class]` implements, type-erased
//! [`AnamObject`]s, and loading an object whose type is chosen by its `class` tag.

use std::any::Any;
use std::fmt;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};
use crate::registry;

/// A class: a Serde type with a class tag, implemented by `#[anam::class]`.
///
/// The tag is the type's Serde name (the macro sets `#[serde(rename)]` to it), so plain
/// [`to_group`](crate::to_group)/[`from_group`](crate::from_group) use it too; the trait adds
/// what Python anamnesis configures with class variables.
pub trait AnamClass: Serialize + DeserializeOwned + 'static {
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
        crate::from_file(path, Self::DEFAULT_GROUP)
    }

    /// Writes the object as its default group of the file (see [`crate::to_file`]).
    fn to_file(&self, path: impl AsRef<Path>) -> Result<()> {
        let group = Self::DEFAULT_GROUP.ok_or_else(|| {
            Error::new(ErrorKind::Invalid(format!(
                "class `{}` has no default group: use anam::to_file with a group name",
                Self::CLASS
            )))
        })?;
        crate::to_file(path, group, self)
    }
}

/// A loaded object of any registered class: serializable, and downcastable to its type.
pub trait AnamObject: erased_serde::Serialize + Any {
    /// The class tag of the object's type.
    fn class_tag(&self) -> &'static str;
    /// The object as `Any`, for downcasting.
    fn as_any(&self) -> &dyn Any;
    /// The object as mutable `Any`, for downcasting.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// The boxed object as `Box<dyn Any>`, for downcasting by value.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

impl<T: AnamClass> AnamObject for T {
    fn class_tag(&self) -> &'static str {
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

erased_serde::serialize_trait_object!(AnamObject);

impl dyn AnamObject {
    /// Whether the object is a `T`.
    pub fn is<T: AnamClass>(&self) -> bool {
        self.as_any().is::<T>()
    }

    /// The object as a `T`, if it is one.
    pub fn downcast_ref<T: AnamClass>(&self) -> Option<&T> {
        self.as_any().downcast_ref()
    }

    /// The object as a mutable `T`, if it is one.
    pub fn downcast_mut<T: AnamClass>(&mut self) -> Option<&mut T> {
        self.as_any_mut().downcast_mut()
    }

    /// The object as a `Box<T>`; an error naming both classes if it is not one.
    pub fn downcast<T: AnamClass>(self: Box<Self>) -> Result<Box<T>> {
        let found = self.class_tag();
        self.into_any().downcast::<T>().map_err(|_| {
            ErrorKind::ClassMismatch {
                found: found.to_string(),
                expected: T::CLASS.to_string(),
            }
            .into()
        })
    }
}

impl fmt::Debug for dyn AnamObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{} object>", self.class_tag())
    }
}

/// Loads the object stored in `group`, of the registered class its `class` tag names
/// (following hints and aliases). An unknown tag is an error naming the tag and the group.
pub fn obj_from_group(group: &hdf5::Group) -> Result<Box<dyn AnamObject>> {
    crate::h5::de::object_from_group(group)
}

/// Loads the object stored in the group `group_name` of the file at `path`, or with `None`
/// in the first group of the file (Python's `obj_from_hdf5file`).
pub fn obj_from_file(
    path: impl AsRef<Path>,
    group_name: Option<&str>,
) -> Result<Box<dyn AnamObject>> {
    let file = crate::open_file(path.as_ref())?;
    let group = crate::open_group(&file, group_name)?;
    obj_from_group(&group)
}

/// Deserializes a `T` as a boxed object; the `load` function of its [`registry::ClassInfo`].
#[doc(hidden)]
pub fn load_object<T: AnamClass>(
    d: &mut dyn erased_serde::Deserializer<'_>,
) -> std::result::Result<Box<dyn AnamObject>, erased_serde::Error> {
    Ok(Box::new(erased_serde::deserialize::<T>(d)?))
}

/// Deserializes an object through its class's type-erased `load`.
pub(crate) fn load_erased<'de, D>(info: &registry::ClassInfo, de: D) -> Result<Box<dyn AnamObject>>
where
    D: serde::Deserializer<'de, Error = Error>,
{
    (info.load)(&mut <dyn erased_serde::Deserializer>::erase(de))
        .map_err(|e| Error::new(ErrorKind::Message(e.to_string())))
}

/// Finds the class for `tag` or fails naming the tag.
pub(crate) fn class_for(tag: &str) -> Result<&'static registry::ClassInfo> {
    registry::lookup(tag)?.ok_or_else(|| registry::unknown(tag))
}
