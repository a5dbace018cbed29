//! [`AnamObject`]: an object of any registered class, type-erased (what loading by class
//! tag returns), serializable and downcastable to its type.
//!
//! The trait sits below the [registry](crate::registry), whose load functions return it;
//! [`AnamClass`](crate::AnamClass) types implement it (in [`class`](crate::class)).

use std::any::Any;
use std::fmt;

use crate::error::{ErrorKind, Result};

/// A loaded object of any registered class: serializable, downcastable to its type, and
/// `Send` (a loaded object can go to another thread).
pub trait AnamObject: erased_serde::Serialize + Any + Send {
    /// The class tag of the object's type.
    fn class_tag(&self) -> &'static str;
    /// The class tag of the type (for the error of a failed [`downcast`](dyn AnamObject::downcast)).
    #[doc(hidden)]
    fn type_class_tag() -> &'static str
    where
        Self: Sized;
    /// The object as `Any`, for downcasting.
    fn as_any(&self) -> &dyn Any;
    /// The object as mutable `Any`, for downcasting.
    fn as_any_mut(&mut self) -> &mut dyn Any;
    /// The boxed object as `Box<dyn Any>`, for downcasting by value.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
}

erased_serde::serialize_trait_object!(AnamObject);

impl dyn AnamObject {
    /// Whether the object is a `T`.
    pub fn is<T: AnamObject>(&self) -> bool {
        self.as_any().is::<T>()
    }

    /// The object as a `T`, if it is one.
    pub fn downcast_ref<T: AnamObject>(&self) -> Option<&T> {
        self.as_any().downcast_ref()
    }

    /// The object as a mutable `T`, if it is one.
    pub fn downcast_mut<T: AnamObject>(&mut self) -> Option<&mut T> {
        self.as_any_mut().downcast_mut()
    }

    /// The object as a `Box<T>`; an error naming both classes if it is not one.
    pub fn downcast<T: AnamObject>(self: Box<Self>) -> Result<Box<T>> {
        let found = self.class_tag();
        self.into_any().downcast::<T>().map_err(|_| {
            ErrorKind::ClassMismatch {
                found: found.to_string(),
                expected: T::type_class_tag().to_string(),
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
