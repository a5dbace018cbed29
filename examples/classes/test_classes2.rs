//! Rust mirror of the Python module `test_classes2` of the anamnesis tutorials
//! (`tests/fixtures/generator/classes/test_classes2.py`).
//!
//! Included by the tutorial examples with
//! `#[path = "classes/test_classes2.rs"] mod test_classes2;`.

#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// Python:
///
/// ```python
/// class ComplexPerson(AbstractAnam):
///     hdf5_outputs = ['name', 'age']
///     hdf5_defaultgroup = 'person'
///     hdf5_aliases = ['test_classes2.OldComplexPerson']
/// ```
///
/// Every Python `AbstractAnam` has an `extra_data` dict; in Rust a class has one only if it
/// asks for it with `#[anam(extra_data)]` (tutorial 2's extra_data script uses it).
#[anam::class(
    class = "test_classes2.ComplexPerson",
    default_group = "person",
    aliases("test_classes2.OldComplexPerson")
)]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ComplexPerson {
    pub name: String,
    pub age: i64,
    /// Entries stored beside `name` and `age` (Python's `extra_data`).
    #[anam(extra_data)]
    pub extra_data: anam::ExtraData,
}

impl ComplexPerson {
    pub fn new(name: &str, age: i64) -> Self {
        ComplexPerson {
            name: name.to_string(),
            age,
            extra_data: anam::ExtraData::new(),
        }
    }
}

/// Python's constructor defaults: `name='Unknown', age=0`.
impl Default for ComplexPerson {
    fn default() -> Self {
        ComplexPerson::new("Unknown", 0)
    }
}

/// Python:
///
/// ```python
/// class ComplexPlace(AbstractAnam):
///     hdf5_outputs = ['location']
///     hdf5_defaultgroup = 'place'
/// ```
#[anam::class(class = "test_classes2.ComplexPlace", default_group = "place")]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ComplexPlace {
    pub location: String,
}

impl ComplexPlace {
    pub fn new(location: &str) -> Self {
        ComplexPlace {
            location: location.to_string(),
        }
    }
}

/// Python's constructor default: `location='Somewhere'`.
impl Default for ComplexPlace {
    fn default() -> Self {
        ComplexPlace::new("Somewhere")
    }
}

/// Python:
///
/// ```python
/// class ComplexTrain(AbstractAnam):
///     hdf5_outputs = ['destination']
///     hdf5_defaultgroup = 'train'
///
///     def init_from_hdf5(self):
///         print("ComplexTrain.init_from_hdf5")
///         print("We have already set destination: {}".format(self.destination))
/// ```
#[anam::class(
    class = "test_classes2.ComplexTrain",
    default_group = "train",
    init = ComplexTrain::init_from_hdf5
)]
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct ComplexTrain {
    pub destination: String,
}

impl ComplexTrain {
    pub fn new(destination: &str) -> Self {
        ComplexTrain {
            destination: destination.to_string(),
        }
    }

    /// Runs once the members are loaded (Python's `init_from_hdf5`).
    fn init_from_hdf5(&mut self) {
        println!("ComplexTrain.init_from_hdf5");
        println!("We have already set destination: {}", self.destination);
    }
}

/// Python's constructor default: `destination='Edinburgh'`.
impl Default for ComplexTrain {
    fn default() -> Self {
        ComplexTrain::new("Edinburgh")
    }
}
