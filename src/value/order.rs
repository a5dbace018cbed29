//! The order of map keys: the one order in which maps are written, so that the same map
//! gives the same file and the same [`Value`] whatever order its type iterates in.

use std::cmp::Ordering;

use crate::dtype::DType;

use super::Value;

/// The order keys are written in: by kind (None, unit, bools, numbers, complex numbers,
/// strings), then by value (numbers by their value whatever their type, strings byte by
/// byte, as `str` orders them).
pub(crate) fn compare_keys(a: &Value, b: &Value) -> Ordering {
    fn kind(v: &Value) -> u8 {
        match v {
            Value::None => 0,
            Value::Unit => 1,
            Value::Str(_) => 5,
            _ => match v.scalar().map(|s| s.dtype()) {
                Some(DType::Bool) => 2,
                Some(DType::C64 | DType::C128) => 4,
                Some(_) => 3,
                None => 6,
            },
        }
    }
    kind(a).cmp(&kind(b)).then_with(|| match (a, b) {
        (Value::Str(a), Value::Str(b)) => a.cmp(b),
        _ => match (a.scalar(), b.scalar()) {
            (Some(x), Some(y)) => match (x.as_i128(), y.as_i128()) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => match (a.as_f64(), b.as_f64()) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    // Complex numbers: any fixed order will do.
                    _ => format!("{a:?}").cmp(&format!("{b:?}")),
                },
            },
            _ => Ordering::Equal,
        },
    })
}

/// Sorts map entries by key ([`compare_keys`]), keeping the order of equal keys; entries
/// already in order are left as they are.
pub(crate) fn sort_entries(entries: &mut [(Value, Value)]) {
    if !entries.is_sorted_by(|a, b| compare_keys(&a.0, &b.0) != Ordering::Greater) {
        entries.sort_by(|a, b| compare_keys(&a.0, &b.0));
    }
}
