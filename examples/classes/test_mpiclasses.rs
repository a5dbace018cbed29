//! The classes of the MPI tutorials (Python's `test_mpiclasses.py`).
#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// A person with a name and an age.
#[anam::class(class = "test_mpiclasses.ComplexPerson", default_group = "person")]
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ComplexPerson {
    pub name: String,
    pub age: i64,
}

/// A place.
#[anam::class(class = "test_mpiclasses.ComplexPlace", default_group = "place")]
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ComplexPlace {
    pub location: String,
}

/// A train, whose init hook reports each load (from HDF5 or MPI).
#[anam::class(class = "test_mpiclasses.ComplexTrain", default_group = "train", init = ComplexTrain::init_from_hdf5)]
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct ComplexTrain {
    pub destination: String,
}

impl ComplexTrain {
    fn init_from_hdf5(&mut self) {
        println!("ComplexTrain.init_from_hdf5");
        println!("We have already set destination: {}", self.destination);
    }
}
