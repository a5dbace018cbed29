//! Sequences that stay Python lists: `#[serde(with = "anam::as_list")]`.
//!
//! A `Vec` of one numeric type is written as a 1-D dataset, which Python anamnesis loads as
//! a numpy array. Where Python code expects a `list` (or to write exactly what a Python
//! list would be), mark the field with this module: the sequence is written in the
//! `AnamList` layout whatever its elements. Reading accepts either layout anyway, so
//! `deserialize` is the element type's own. Other Serde formats see no difference.
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Visits {
//!     #[serde(with = "anam::as_list")]
//!     years: Vec<i64>,
//! }
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Serializes `value` (a sequence) in the list layout.
pub fn serialize<T: ?Sized + Serialize, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_newtype_struct(crate::protocol::LIST_TOKEN, value)
}

/// Deserializes the value as usual (both layouts are read).
pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    T::deserialize(deserializer)
}
