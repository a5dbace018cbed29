//! The crate's private Serde protocol: how values ask the crate's own formats (HDF5, wire,
//! [`Value`](crate::Value)) for what Serde's data model cannot say, while every other
//! format sees plain Serde.
//!
//! A value marks itself by serializing as a newtype struct with one of these names, which
//! no user type can have (`$` is not valid in a Rust identifier):
//!
//! | token | sent by | the newtype's content | the crate's formats |
//! |---|---|---|---|
//! | [`ARRAY_TOKEN`] | [`anam::array`](crate::array), [`NdArray`](crate::NdArray) | the array payload `{dtype, shape, data}` ([`payload`]) | take the buffer whole ([`capture`]): a dataset, raw bytes on the wire |
//! | [`LIST_TOKEN`] | [`anam::as_list`](crate::as_list), `Value::List` | the sequence | keep the list layout even for numbers |
//! | [`VALUE_TOKEN`] | [`Value`](crate::Value) | the value | switch to their self-describing encoding (typed scalars, whole arrays) |
//! | [`OBJECT_TOKEN`] | `Value::Object` | a map: `class` first, [layout keys](CLASS_KEY), members | write an object group (HDF5), an object kind byte (wire) |
//! | [`LAZY_TOKEN`] | [`Lazy`](crate::Lazy) | the array, as [`ARRAY_TOKEN`] | HDF5: the open dataset handed over (reading), copied in blocks (writing); others: the array |
//! | [`SCALAR_TOKEN`] | `Value::C64`/`C128` | a 0-d array payload | a typed scalar (complex numbers have no Serde method) |
//!
//! ndarray's own Serde form of an array (a struct `Array {v, dim, data}`, when a crate of
//! the build enables ndarray's `serde` feature) carries no token: the formats recognise it
//! by its name and fields and store it as an `anam::array` one ([`ndarray_serde`]).
//!
//! Reading, the crate's formats hand a decoded array (or complex scalar) to the visitor of
//! [`anam::array`](crate::array) or [`Value`](crate::Value) through a thread-local [`slot`]:
//! Serde's visitor API has no way to move a typed buffer.

pub(crate) mod macros;
mod narrow;
pub(crate) mod ndarray_serde;
mod payload;
mod slot;

pub(crate) use narrow::{Narrow, Narrowed};
pub(crate) use payload::{capture, capture_str, payload};
pub(crate) use slot::{hand_over, hand_over_scalar, take_from_slot, take_scalar_from_slot};

/// An array payload (`{dtype, shape, data}`) follows.
pub(crate) const ARRAY_TOKEN: &str = "$anam::private::Array";
/// A sequence that keeps the list layout.
pub(crate) const LIST_TOKEN: &str = "$anam::private::List";
/// A [`Value`](crate::Value): the format may switch to its native, self-describing view.
pub(crate) const VALUE_TOKEN: &str = "$anam::private::Value";
/// The body of an [`Object`](crate::Object): a map that starts with `class`.
pub(crate) const OBJECT_TOKEN: &str = "$anam::private::Object";
/// A typed scalar carried as a 0-d array payload (complex numbers).
pub(crate) const SCALAR_TOKEN: &str = "$anam::private::Scalar";
/// An [`anam::Lazy`](crate::Lazy) array: an HDF5 reader hands over the open dataset, an
/// HDF5 writer copies a file-backed one dataset to dataset; the content is the array in the
/// [`ARRAY_TOKEN`] form for every other format.
pub(crate) const LAZY_TOKEN: &str = "$anam::private::Lazy";

/// Map key of an object's class tag, when a format presents an object to [`Value`] as a map
/// (no dict key can be it, so objects and dicts stay apart).
///
/// [`Value`]: crate::Value
pub(crate) const CLASS_KEY: &str = "$anam::class";
/// Map key of an object's name maps (`[stored, member]` pairs).
pub(crate) const NAME_MAPS_KEY: &str = "$anam::namemaps";
/// Map key of an object's members in the legacy `LISTS` layout.
pub(crate) const LEGACY_KEY: &str = "$anam::legacy_lists";

/// Whether a newtype name is one of the tokens above.
pub(crate) fn is_token(name: &str) -> bool {
    name.starts_with("$anam::private::")
}

/// The key a map's `serialize_value` (or `next_value_seed`) pairs its value with: taken
/// from where the key call left it; an error for a value without one (`what`: the kind of
/// map, for the message).
pub(crate) fn key_of_value<K>(pending: &mut Option<K>, what: &str) -> crate::error::Result<K> {
    pending
        .take()
        .ok_or_else(|| crate::error::Error::invalid(format!("{what} value before its key")))
}
