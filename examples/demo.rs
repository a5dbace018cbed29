//! Writes an object tree to `demo.hdf5`, loads it back and prints it.
//!
//! Run with `make demo` (which also prints the `h5dump` of the file) or
//! `cargo run --example demo`.

use std::collections::BTreeMap;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

/// One subject of an experiment: scalars become attributes, arrays datasets.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "demo.Subject")]
struct Subject {
    name: String,
    age: u8,
    #[serde(with = "anam::array")]
    reaction_times: Array1<f64>,
}

/// The whole experiment: nested objects, a list, a dict and a 2-D array.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "demo.Experiment")]
struct Experiment {
    title: String,
    subjects: Vec<Subject>,
    #[serde(with = "anam::array")]
    zstats: Array2<f64>,
    settings: BTreeMap<String, f64>,
    notes: Option<String>,
}

fn main() -> anam::Result<()> {
    let experiment = Experiment {
        title: "Stroop task".into(),
        subjects: vec![
            Subject {
                name: "Anna".into(),
                age: 45,
                reaction_times: Array1::from(vec![0.45, 0.52, 0.61]),
            },
            Subject {
                name: "Bob".into(),
                age: 75,
                reaction_times: Array1::from(vec![0.71, 0.66]),
            },
        ],
        zstats: Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64 * 0.5),
        settings: BTreeMap::from([
            ("threshold".to_string(), 2.3),
            ("smoothing".to_string(), 6.0),
        ]),
        notes: None,
    };

    anam::to_file("demo.hdf5", "experiment", &experiment)?;
    println!("wrote demo.hdf5 (group /experiment)");

    let loaded: Experiment = anam::from_file("demo.hdf5", Some("experiment"))?;
    println!("{loaded:#?}");
    assert_eq!(
        loaded, experiment,
        "the object tree survives the round trip"
    );
    println!("loaded back: identical");
    Ok(())
}
