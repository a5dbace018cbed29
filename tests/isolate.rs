//! Isolated reads: the load runs in a child process; its value, its error, its timeout and
//! its death all come back as a `Result`.

use std::time::Duration;

use anam::isolate::{self, Limits};
use anam::{Store, Value};

fn sample_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.hdf5");
    let mut store = Store::new();
    store.insert("name", "Fred");
    store.insert(
        "data",
        ndarray::Array1::from_vec(vec![1.0f64, 2.0, 3.0]).into_dyn(),
    );
    anam::to_file(&path, "data", &store).unwrap();
    (dir, path)
}

#[test]
fn an_isolated_read_gives_the_same_value() {
    let (_dir, path) = sample_file();
    let direct: Value = anam::from_file(&path, None).unwrap();
    let isolated = isolate::from_file(&path, None, &Limits::default()).unwrap();
    assert_eq!(isolated, direct);
}

#[test]
fn errors_timeouts_and_memory_limits_are_errors() {
    let (_dir, path) = sample_file();
    let err = isolate::from_file(&path, Some("missing"), &Limits::default()).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");

    let hurried = Limits {
        time: Duration::from_nanos(1),
        ..Limits::default()
    };
    let err = isolate::from_file(&path, None, &hurried).unwrap_err();
    assert!(err.to_string().contains("took more than"), "{err}");

    // A sparse dataset of 8 GiB with no budget: the child's allocation fails under its
    // memory limit, and that is an error here.
    let sparse = path.with_file_name("sparse.hdf5");
    {
        let file = anam::hdf5::File::create(&sparse).unwrap();
        let g = file.create_group("g").unwrap();
        g.new_dataset::<f64>()
            .shape(1usize << 30)
            .chunk(1 << 16)
            .create("x")
            .unwrap();
    }
    let greedy = Limits {
        memory: 256 << 20,
        read: anam::ReadOptions::new().unlimited(),
        ..Limits::default()
    };
    let err = isolate::from_file(&sparse, None, &greedy).unwrap_err();
    assert!(err.to_string().contains("allocate"), "{err}");
}

#[test]
fn isolated_reads_from_many_threads() {
    let (_dir, path) = sample_file();
    let expected: Value = anam::from_file(&path, None).unwrap();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..10 {
                    // Other threads use HDF5 at the same time as the forks.
                    let direct: Value = anam::from_file(&path, None).unwrap();
                    let isolated = isolate::from_file(&path, None, &Limits::default()).unwrap();
                    assert_eq!(direct, expected);
                    assert_eq!(isolated, expected);
                }
            });
        }
    });
}
