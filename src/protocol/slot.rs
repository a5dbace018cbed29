//! The slot: how the crate's deserializers hand a decoded array to a visitor that
//! understands it, without copying it through Serde's visitor API.

use std::cell::Cell;

use serde::de::{self, Visitor};

use crate::dtype::TypedArray;

/// String passed to the visitor to say "take the array from the slot".
const SLOT_MARKER: &str = "$anam::private::ArraySlot";
/// Like [`SLOT_MARKER`], for a typed scalar carried as a one-element array.
const SCALAR_SLOT_MARKER: &str = "$anam::private::ScalarSlot";

thread_local! {
    /// Filled and emptied within one `visit_str(marker)` call.
    static SLOT: Cell<Option<TypedArray>> = const { Cell::new(None) };
}

/// Passes `array` to a visitor that understands the slot protocol (the array visitor of
/// [`anam::array`](crate::array) or the [`Value`](crate::Value) visitor).
pub(crate) fn hand_over<'de, V: Visitor<'de>, E: de::Error>(
    array: TypedArray,
    visitor: V,
) -> Result<V::Value, E> {
    hand_over_as(SLOT_MARKER, array, visitor)
}

/// Passes a typed scalar (as a one-element array) to the [`Value`](crate::Value) visitor.
pub(crate) fn hand_over_scalar<'de, V: Visitor<'de>, E: de::Error>(
    scalar: TypedArray,
    visitor: V,
) -> Result<V::Value, E> {
    hand_over_as(SCALAR_SLOT_MARKER, scalar, visitor)
}

fn hand_over_as<'de, V: Visitor<'de>, E: de::Error>(
    marker: &str,
    array: TypedArray,
    visitor: V,
) -> Result<V::Value, E> {
    SLOT.set(Some(array));
    let result = visitor.visit_str(marker);
    // A visitor that did not take the array must not leave it for an unrelated one.
    SLOT.take();
    result
}

/// Takes the array placed by [`hand_over`], if `marker` is its marker.
pub(crate) fn take_from_slot(marker: &str) -> Option<TypedArray> {
    (marker == SLOT_MARKER).then(|| SLOT.take()).flatten()
}

/// Takes the scalar placed by [`hand_over_scalar`], if `marker` is its marker.
pub(crate) fn take_scalar_from_slot(marker: &str) -> Option<TypedArray> {
    (marker == SCALAR_SLOT_MARKER)
        .then(|| SLOT.take())
        .flatten()
}
