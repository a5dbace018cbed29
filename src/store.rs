//! [`Store`]: an object whose whole content is `extra_data` (Python's `anamnesis.Store`).

use serde::{Deserialize, Serialize};

use crate::class::AnamClass;
use crate::value::{ExtraData, Value};

/// A class with no declared members: everything lives in [`extra_data`](Store::extra_data).
///
/// Equality is Python's: two stores are equal when they hold the same keys with equal
/// values.
///
/// ```
/// # fn main() -> anam::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("test_script4.hdf5");
/// use anam::{AnamClass, Store, Value};
/// let mut s = Store::new();
/// s.insert("airport_from", "Manchester");
/// s.insert("gate", 12i64);
/// anam::to_file(&path, "data", &s)?;
/// let back: Store = anam::from_file(&path, None)?;
/// assert_eq!(back, s);
/// assert_eq!(back.get("airport_from").and_then(Value::as_str), Some("Manchester"));
/// # Ok(())
/// # }
/// ```
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
#[serde(rename = "anamnesis.store.Store")]
pub struct Store {
    /// The stored entries, by name.
    #[serde(default)]
    pub extra_data: ExtraData,
}

impl Store {
    /// An empty store.
    pub fn new() -> Store {
        Store::default()
    }

    /// Sets an entry.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        self.extra_data.insert(name.into(), value.into());
    }

    /// An entry, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.extra_data.get(name)
    }
}

impl AnamClass for Store {
    const CLASS: &'static str = "anamnesis.store.Store";
}

inventory::submit! {
    crate::registry::ClassInfo::new(
        <Store as AnamClass>::CLASS,
        "anam::Store",
        &[],
        None,
        &[],
        &[],
        Some("extra_data"),
        crate::class::load_object::<Store>,
    )
}
