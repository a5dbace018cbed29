//! Rust mirror of the Python module `test_classes1` of the anamnesis tutorials
//! (`tests/fixtures/generator/classes/test_classes1.py`).
//!
//! Included by the tutorial examples with
//! `#[path = "classes/test_classes1.rs"] mod test_classes1;`.

#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// Python:
///
/// ```python
/// class SimplePerson(AbstractAnam):
///     hdf5_outputs = ['name', 'age']
/// ```
///
/// The class tag is the Python module and class name, so that files are interchangeable.
#[anam::class(class = "test_classes1.SimplePerson")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct SimplePerson {
    pub name: String,
    pub age: i64,
}

impl SimplePerson {
    pub fn new(name: &str, age: i64) -> Self {
        SimplePerson {
            name: name.to_string(),
            age,
        }
    }
}

/// Python's constructor defaults: `name='Unknown', age=0`.
impl Default for SimplePerson {
    fn default() -> Self {
        SimplePerson::new("Unknown", 0)
    }
}
