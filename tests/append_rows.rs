//! Extendable arrays: `File::create_extendable` and `File::append_rows` (issue 12, item 5).

#[path = "common/python.rs"]
mod python;

use anam::ndarray::{arr1, arr2, s, Array1, Array2, Array3, ArrayD};
use anam::{EntryKind, File, Lazy, Store};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "lab.Run")]
struct Run {
    id: i64,
    #[serde(default, skip_serializing)]
    samples: Option<Lazy<Array2<f64>>>,
}

#[derive(Deserialize, Debug)]
#[serde(rename = "lab.Run")]
struct EagerRun {
    id: i64,
    #[serde(with = "anam::array")]
    samples: Array2<f64>,
}

#[test]
fn rows_appended_read_as_a_normal_array_eagerly_lazily_and_as_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.hdf5");
    let file = File::create(&path).unwrap();
    file.write(
        "run",
        &Run {
            id: 1,
            samples: None,
        },
    )
    .unwrap();
    file.create_extendable::<f64>("run/samples", &[3], 4)
        .unwrap();
    // No rows yet: an empty (0, 3) array.
    let empty: EagerRun = file.read("run").unwrap();
    assert_eq!(empty.samples.shape(), &[0, 3]);

    let mut expected = Array2::<f64>::zeros((0, 3));
    for step in 0..10 {
        // Owned arrays, views and strided views alike.
        let block =
            Array2::from_shape_fn((step % 3 + 1, 3), |(i, j)| (step * 10 + i * 3 + j) as f64);
        let n = if step % 2 == 0 {
            file.append_rows("run/samples", &block).unwrap()
        } else {
            let t = block.t().to_owned();
            file.append_rows("run/samples", &t.t()).unwrap()
        };
        expected.append(ndarray::Axis(0), block.view()).unwrap();
        assert_eq!(n, expected.nrows());
    }
    // Zero rows: nothing changes.
    let n = file
        .append_rows("run/samples", &Array2::<f64>::zeros((0, 3)))
        .unwrap();
    assert_eq!(n, expected.nrows());

    let eager: EagerRun = file.read("run").unwrap();
    assert_eq!((eager.id, &eager.samples), (1, &expected));
    let whole: anam::NdArray<f64, ndarray::Ix2> = file.read("run/samples").unwrap();
    assert_eq!(whole.0, expected);
    let entry = file
        .entries("run")
        .unwrap()
        .into_iter()
        .find(|e| e.name == "samples")
        .unwrap();
    assert_eq!(entry.kind, EntryKind::Array);
    assert_eq!(entry.shape.as_deref(), Some(&[expected.nrows(), 3][..]));

    // A Lazy on the extendable dataset.
    let run: Run = file.read("run").unwrap();
    let lazy = run.samples.unwrap();
    assert_eq!(lazy.shape(), expected.shape());
    assert_eq!(
        lazy.slice(s![3..7, 1]).unwrap(),
        expected.slice(s![3..7, 1])
    );
    drop(lazy);
    let value: anam::Value = file.read("run").unwrap();
    assert_eq!(
        value["samples"].as_array().map(|a| a.shape()),
        Some(&[expected.nrows(), 3][..])
    );
    drop(file);

    // from_file, and a copy written with to_file reads the same.
    let back: EagerRun = anam::from_file(&path, None).unwrap();
    assert_eq!(back.samples, expected);
}

#[test]
fn series_of_scalars_and_of_3d_blocks_and_other_dtypes() {
    let dir = tempfile::tempdir().unwrap();
    let file = File::create(dir.path().join("s.hdf5")).unwrap();
    file.create_extendable::<i32>("ticks", &[], 100).unwrap();
    file.append_rows("ticks", &arr1(&[1, 2, 3])).unwrap();
    assert_eq!(file.append_rows("ticks", &arr1(&[4])).unwrap(), 4);
    let ticks: anam::NdArray<i32, ndarray::Ix1> = file.read("ticks").unwrap();
    assert_eq!(ticks.0, arr1(&[1, 2, 3, 4]));
    // int32 widens into i64 as any dataset does.
    let wide: anam::NdArray<i64, ndarray::Ix1> = file.read("ticks").unwrap();
    assert_eq!(wide.0, arr1(&[1i64, 2, 3, 4]));

    file.create_extendable::<u8>("frames", &[2, 2], 1).unwrap();
    let frames = Array3::from_shape_fn((3, 2, 2), |(i, j, k)| (i * 4 + j * 2 + k) as u8);
    file.append_rows("frames", &frames).unwrap();
    file.append_rows("frames", &frames.slice(s![..1, .., ..]))
        .unwrap();
    let back: anam::NdArray<u8, ndarray::Ix3> = file.read("frames").unwrap();
    assert_eq!(back.0.shape(), &[4, 2, 2]);
    assert_eq!(back.0.slice(s![3, .., ..]), frames.slice(s![0, .., ..]));

    file.create_extendable::<bool>("flags", &[], 8).unwrap();
    file.append_rows("flags", &arr1(&[true, false, true]))
        .unwrap();
    let flags: anam::NdArray<bool, ndarray::Ix1> = file.read("flags").unwrap();
    assert_eq!(flags.0, arr1(&[true, false, true]));
}

#[test]
fn refused_appends_and_creations_name_the_path_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("e.hdf5");
    let file = File::create(&path).unwrap();
    file.create_extendable::<f64>("x", &[2], 16).unwrap();
    file.append_rows("x", &arr2(&[[1.0, 2.0]])).unwrap();

    let err = file
        .append_rows("x", &arr2(&[[1.0, 2.0, 3.0]]))
        .unwrap_err();
    assert!(
        err.to_string().contains("`x` has rows of shape [2]"),
        "{err}"
    );
    let err = file.append_rows("x", &arr1(&[1.0, 2.0])).unwrap_err();
    assert!(
        err.to_string().contains("`x` has rows of shape [2]"),
        "{err}"
    );
    let err = file.append_rows("x", &arr2(&[[1i64, 2]])).unwrap_err();
    assert!(
        err.to_string().contains("`x` holds float64, not int64"),
        "{err}"
    );
    let err = file.create_extendable::<f64>("x", &[2], 16).unwrap_err();
    assert!(err.to_string().contains("`x` already exists"), "{err}");
    let err = file.create_extendable::<f64>("y", &[2], 0).unwrap_err();
    assert!(
        err.to_string().contains("`y` cannot have chunks of 0 rows"),
        "{err}"
    );
    let err = file.create_extendable::<f64>("y", &[0], 4).unwrap_err();
    assert!(err.to_string().contains("`y`"), "{err}");
    let err = file
        .create_extendable::<f64>("no/such/y", &[1], 4)
        .unwrap_err();
    assert!(err.to_string().contains("no/such/y"), "{err}");

    // A dataset written whole is not extendable.
    #[derive(Serialize)]
    #[serde(rename = "lab.Fixed")]
    struct Fixed {
        #[serde(with = "anam::array")]
        v: Array1<f64>,
    }
    file.write("fixed", &Fixed { v: arr1(&[1.0]) }).unwrap();
    let err = file.append_rows("fixed/v", &arr1(&[2.0])).unwrap_err();
    assert!(
        err.to_string()
            .contains("`fixed/v` is not an extendable array"),
        "{err}"
    );
    let err = file.append_rows("fixed", &arr1(&[2.0])).unwrap_err();
    assert!(
        err.to_string()
            .contains("`fixed` is not an extendable array"),
        "{err}"
    );
    let err = file.append_rows("missing", &arr1(&[2.0])).unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");

    // Read-only files refuse both.
    drop(file);
    let file = File::open(&path).unwrap();
    assert!(file.append_rows("x", &arr2(&[[1.0, 2.0]])).is_err());
    assert!(file.create_extendable::<f64>("z", &[], 4).is_err());
    // Nothing refused changed the array.
    let x: anam::NdArray<f64, ndarray::Ix2> = file.read("x").unwrap();
    assert_eq!(x.0, arr2(&[[1.0, 2.0]]));
}

/// A write that fails after the extent grew (the file may not grow: RLIMIT_FSIZE) shrinks
/// the array back. Run in a child process, which may limit its own file size. The rows
/// (4 MiB) are more than HDF5's chunk cache holds, so the write call itself fails; a
/// failure in the flush that follows a cached write is reported, but HDF5 cannot always
/// shrink back then (docs/FORMAT.md, "Extendable arrays").
#[test]
fn a_failed_write_shrinks_the_array_back() {
    if std::env::var_os("ANAM_APPEND_CHILD").is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.hdf5");
    {
        let file = File::create(&path).unwrap();
        file.create_extendable::<f64>("x", &[1024], 1).unwrap();
        file.append_rows("x", &Array2::<f64>::ones((2, 1024)))
            .unwrap();
    }
    let child = |rows: usize| {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "failed_write_child",
                "--nocapture",
                "--include-ignored",
            ])
            .env("ANAM_APPEND_CHILD", &path)
            .env("ANAM_APPEND_ROWS", rows.to_string())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success() && stdout.contains("CHILD-OK"),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };
    child(512);
    // The file as it was: two rows of ones.
    let x: anam::NdArray<f64, ndarray::Ix2> = anam::File::open(&path).unwrap().read("x").unwrap();
    assert_eq!(x.0, Array2::<f64>::ones((2, 1024)));

    // 64 rows (512 KiB) stay in HDF5's chunk cache: the write call succeeds and the flush
    // fails. The error is returned, naming the dataset, and says whether the array could be
    // shrunk back (HDF5 1.10 cannot: "B-tree key not found").
    let stdout = child(64);
    eprintln!("{stdout}");
    assert!(
        stdout.contains("shrunk back: true") || stdout.contains("could not be shrunk back"),
        "{stdout}"
    );
}

/// The child of [`a_failed_write_shrinks_the_array_back`].
#[test]
#[ignore = "run by a_failed_write_shrinks_the_array_back in a child process"]
fn failed_write_child() {
    let Some(path) = std::env::var_os("ANAM_APPEND_CHILD") else {
        return;
    };
    let size = std::fs::metadata(&path).unwrap().len();
    let file = File::open_rw(&path).unwrap();
    // SAFETY: ignoring SIGXFSZ (writes past the limit fail with EFBIG instead) and
    // lowering this process's own file size limit.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let limit = libc::rlimit {
            rlim_cur: size + 1024,
            rlim_max: libc::RLIM_INFINITY,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
    // Rows of 8 KiB: far past the limit.
    let rows: usize = std::env::var("ANAM_APPEND_ROWS").unwrap().parse().unwrap();
    let err = file
        .append_rows("x", &Array2::<f64>::from_elem((rows, 1024), 2.0))
        .unwrap_err();
    eprintln!("CHILD-ERR {err}");
    assert_eq!(err.path(), Some("/x"), "{err}");
    // The file system accepts writes again (space freed): the file closes cleanly.
    // SAFETY: raising this process's own limit back.
    unsafe {
        let limit = libc::rlimit {
            rlim_cur: libc::RLIM_INFINITY,
            rlim_max: libc::RLIM_INFINITY,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
    }
    let x: ArrayD<f64> = file.read::<anam::NdArray<f64>>("x").unwrap().0;
    let shrunk = x.shape() == [2, 1024];
    println!("CHILD-OK shrunk back: {shrunk}; {err}");
    if rows == 512 {
        assert!(shrunk, "shrunk back in the open file: {:?}", x.shape());
    }
}

#[test]
fn python_reads_an_extended_array() {
    let Some(python) = python::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("py.hdf5");
    let file = File::create(&path).unwrap();
    file.write("store", &Store::new()).unwrap();
    file.create_extendable::<f64>("store/series", &[2], 3)
        .unwrap();
    for i in 0..5 {
        let t = i as f64;
        file.append_rows("store/series", &arr2(&[[t, 10.0 - t]]))
            .unwrap();
    }
    drop(file);
    let script = r#"
import sys, h5py
import anamnesis
with h5py.File(sys.argv[1], "r") as f:
    d = f["store/series"]
    print(d.shape, d.maxshape, d.chunks)
store = anamnesis.obj_from_hdf5file(sys.argv[1], "store")
a = store.extra_data["series"]
print(type(a).__name__, a.dtype, a.shape, a[:, 0].tolist(), a[:, 1].tolist())
"#;
    let stdout = python::run_script(python, script, &[&path]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], "(5, 2) (None, 2) (3, 2)");
    assert_eq!(
        lines[1],
        "ndarray float64 (5, 2) [0.0, 1.0, 2.0, 3.0, 4.0] [10.0, 9.0, 8.0, 7.0, 6.0]"
    );
}
