//! `anam::Lazy`: array fields read from HDF5 only when asked for (issue 12, item 4).

#[path = "common/python.rs"]
mod python;

use std::time::{Duration, Instant};

use anam::ndarray::{arr1, arr2, s, Array1, Array2, Array3, ArrayD, Axis};
use anam::{DType, Lazy};
use serde::{Deserialize, Serialize};

// The timing and memory tests measure this process: one at a time (`serial()`).
#[path = "common/serial.rs"]
mod serial;
use serial::serial;

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "lab.Recording")]
struct Recording {
    name: String,
    samples: Lazy<Array2<f64>>,
}

/// The same object, with the array read eagerly.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "lab.Recording")]
struct Eager {
    name: String,
    #[serde(with = "anam::array")]
    samples: Array2<f64>,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "lab.Recording")]
struct Dyn {
    name: String,
    samples: Lazy<ArrayD<f64>>,
}

fn grid(rows: usize, cols: usize) -> Array2<f64> {
    Array2::from_shape_fn((rows, cols), |(i, j)| (i * cols + j) as f64)
}

fn write(path: &std::path::Path, samples: Array2<f64>) {
    let eager = Eager {
        name: "r".into(),
        samples,
    };
    anam::to_file(path, "rec", &eager).unwrap();
}

/// This process's resident memory (Linux).
fn resident_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

#[test]
fn shape_dtype_load_and_slices_of_a_file_backed_array() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.hdf5");
    let data = grid(50, 7);
    write(&path, data.clone());

    let rec: Recording = anam::from_file(&path, None).unwrap();
    assert!(!rec.samples.is_loaded());
    assert_eq!(rec.samples.shape(), &[50, 7]);
    assert_eq!(rec.samples.dtype(), DType::F64);
    let location = rec.samples.location().unwrap();
    assert!(location.ends_with(":/rec/samples"), "{location}");
    assert_eq!(rec.samples.load().unwrap(), data);

    // Every kind of slice, against ndarray's own slicing of the same array.
    let lazy = &rec.samples;
    assert_eq!(
        lazy.slice(s![3..9, 2..5]).unwrap(),
        data.slice(s![3..9, 2..5])
    );
    assert_eq!(lazy.slice(s![.., 6]).unwrap(), data.slice(s![.., 6]));
    assert_eq!(lazy.slice(s![-1, ..]).unwrap(), data.slice(s![-1, ..]));
    assert_eq!(
        lazy.slice(s![1..40;7, ..;3]).unwrap(),
        data.slice(s![1..40;7, ..;3])
    );
    assert_eq!(lazy.slice(s![..;-3, 4]).unwrap(), data.slice(s![..;-3, 4]));
    assert_eq!(
        lazy.slice(s![2..9;-2, -3..]).unwrap(),
        data.slice(s![2..9;-2, -3..])
    );
    assert_eq!(
        lazy.slice(s![4, ndarray::NewAxis, 1..3]).unwrap(),
        data.slice(s![4, ndarray::NewAxis, 1..3])
    );
    assert_eq!(lazy.slice(s![5..5, ..]).unwrap().shape(), &[0, 7]);
    assert_eq!(lazy.slice(s![3, 3]).unwrap(), data.slice(s![3, 3]));

    // The same slices of an in-memory Lazy.
    let memory = Lazy::from(data.clone());
    assert!(memory.is_loaded() && memory.location().is_none());
    assert_eq!(memory.clone().into_array().unwrap(), data);
    assert_eq!(rec.samples.clone().into_array().unwrap(), data);
    assert_eq!(Lazy::<Array2<f64>>::default().shape(), &[0, 0]);
    assert_eq!(
        Lazy::<ndarray::Array0<i8>>::default().load().unwrap(),
        ndarray::arr0(0)
    );
    assert_eq!(
        memory.slice(s![1..40;7, ..;3]).unwrap(),
        data.slice(s![1..40;7, ..;3])
    );
    assert_eq!(
        memory.slice(s![2..9;-2, -3..]).unwrap(),
        data.slice(s![2..9;-2, -3..])
    );

    // A dynamic-dimension field slices with the same macro.
    let rec: Dyn = anam::from_file(&path, None).unwrap();
    let part = rec.samples.slice(s![10..12, 0..2]).unwrap();
    assert_eq!(part, data.slice(s![10..12, 0..2]));
}

#[test]
fn out_of_range_slices_are_errors_naming_the_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.hdf5");
    write(&path, grid(10, 4));
    let rec: Recording = anam::from_file(&path, None).unwrap();
    for err in [
        rec.samples.slice(s![10, ..]).unwrap_err(),
        rec.samples.slice(s![..11, ..]).unwrap_err(),
        rec.samples.slice(s![-11.., ..]).unwrap_err(),
        rec.samples.slice(s![.., 4]).unwrap_err(),
    ] {
        let at = err.path().unwrap_or_default().to_string();
        assert!(at.ends_with(":/rec/samples"), "{err}");
        assert!(err.to_string().contains("out of range"), "{err}");
    }
    let err = Lazy::from(grid(2, 2)).slice(s![.., 5]).unwrap_err();
    assert!(err.to_string().contains("axis 1 of length 2"), "{err}");
}

#[test]
fn dtype_mismatch_on_load_names_the_path_and_widening_works() {
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "lab.Ints")]
    struct Ints {
        #[serde(with = "anam::array")]
        v: Array1<f64>,
        #[serde(with = "anam::array")]
        w: Array1<i32>,
    }
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "lab.Ints")]
    struct LazyInts {
        v: Lazy<Array1<i64>>,
        w: Lazy<Array1<f64>>,
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ints.hdf5");
    let ints = Ints {
        v: arr1(&[1.5, 2.5]),
        w: arr1(&[1, -2, 3]),
    };
    anam::to_file(&path, "ints", &ints).unwrap();
    // Reading records the dataset: no dtype check yet.
    let lazy: LazyInts = anam::from_file(&path, None).unwrap();
    assert_eq!(lazy.v.dtype(), DType::F64);
    let err = lazy.v.load().unwrap_err();
    assert!(err.path().unwrap().ends_with(":/ints/v"), "{err}");
    assert!(err.to_string().contains("float64"), "{err}");
    let err = lazy.v.slice(s![..1]).unwrap_err();
    assert!(err.path().unwrap().ends_with(":/ints/v"), "{err}");
    // int32 into f64 is lossless.
    assert_eq!(lazy.w.dtype(), DType::I32);
    assert_eq!(lazy.w.load().unwrap(), arr1(&[1.0, -2.0, 3.0]));
    assert_eq!(lazy.w.slice(s![1..]).unwrap(), arr1(&[-2.0, 3.0]));

    // Written back, the int32 array is converted (loaded), not copied as int32.
    let out = dir.path().join("out.hdf5");
    anam::to_file(&out, "w", &W { w: &lazy.w }).unwrap();
    let back: Value1 = anam::from_file(&out, None).unwrap();
    assert_eq!(back.w, arr1(&[1.0, -2.0, 3.0]));

    // A rank mismatch is found when the struct is read, naming the dataset.
    #[derive(Deserialize, Debug)]
    #[serde(rename = "lab.Ints")]
    struct Wrong {
        #[allow(dead_code)]
        v: Lazy<Array2<f64>>,
    }
    let err = anam::from_file::<Wrong>(&path, None).unwrap_err();
    assert!(err.path().unwrap().ends_with("/ints/v"), "{err}");
    assert!(err.to_string().contains("2-d"), "{err}");
}

#[derive(Serialize)]
#[serde(rename = "lab.W")]
struct W<'a> {
    w: &'a Lazy<Array1<f64>>,
}

#[derive(Deserialize)]
#[serde(rename = "lab.W")]
struct Value1 {
    #[serde(with = "anam::array")]
    w: Array1<f64>,
}

#[test]
fn written_back_to_hdf5_by_copy_and_to_other_formats_by_loading() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.hdf5");
    // More than one copy block (8 MiB): 3 blocks and a part.
    let data = grid(3 * 8192 + 100, 128);
    write(&path, data.clone());
    let rec: Recording = anam::from_file(&path, None).unwrap();

    // HDF5 to HDF5, into another file and into a File holding many objects.
    let copy = dir.path().join("copy.hdf5");
    let before = resident_bytes();
    anam::to_file(&copy, "rec", &rec).unwrap();
    // Copied in blocks of 8 MiB: loading the 25.8 MiB array would grow by more.
    let grown = resident_bytes().saturating_sub(before);
    assert!(grown < 16 << 20, "writing grew by {grown} bytes");
    let eager: Eager = anam::from_file(&copy, None).unwrap();
    assert_eq!(eager.samples, data);
    let file = anam::File::create(dir.path().join("many.hdf5")).unwrap();
    file.write("a/rec", &rec).unwrap();
    let again: Recording = file.read("a/rec").unwrap();
    assert_eq!(again.samples.load().unwrap(), data);
    drop(again);

    // The wire format and Value load it, and read back a loaded Lazy.
    let bytes = anam::wire::to_bytes(&rec).unwrap();
    let back: Recording = anam::wire::from_bytes(&bytes).unwrap();
    assert!(back.samples.is_loaded());
    assert_eq!(back.samples.load().unwrap(), data);
    let value = anam::to_value(&rec).unwrap();
    let back: Recording = anam::from_value(value.clone()).unwrap();
    assert!(back.samples.is_loaded());
    assert_eq!(
        back.samples.slice(s![7, ..3]).unwrap(),
        data.slice(s![7, ..3])
    );
    // Value holds the same array `anam::array` gives, so a Value written to HDF5 is read
    // as a Lazy too.
    let from_value: Eager = anam::from_value(value).unwrap();
    assert_eq!(from_value.samples, data);

    // JSON: the array payload.
    let json = serde_json::to_string(&Recording {
        name: "j".into(),
        samples: Lazy::from(grid(2, 2)),
    })
    .unwrap();
    let back: Recording = serde_json::from_str(&json).unwrap();
    assert_eq!(back.samples.load().unwrap(), grid(2, 2));

    // A Lazy made in memory writes a dataset that any reader takes as an array.
    let fresh = Recording {
        name: "m".into(),
        samples: Lazy::from(grid(3, 3)),
    };
    let mem = dir.path().join("mem.hdf5");
    anam::to_file(&mem, "rec", &fresh).unwrap();
    let eager: Eager = anam::from_file(&mem, None).unwrap();
    assert_eq!(eager.samples, grid(3, 3));
}

#[test]
fn empty_and_0d_arrays_and_options_load_at_once() {
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "lab.Odd")]
    struct Odd {
        #[serde(with = "anam::array")]
        empty: Array2<f64>,
        #[serde(with = "anam::array")]
        zero_d: ndarray::Array0<i64>,
        #[serde(with = "anam::array::option")]
        some: Option<Array3<u8>>,
    }
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "lab.Odd")]
    struct LazyOdd {
        empty: Lazy<Array2<f64>>,
        zero_d: Lazy<ndarray::Array0<i64>>,
        some: Option<Lazy<Array3<u8>>>,
        #[serde(default)]
        none: Option<Lazy<Array1<f64>>>,
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd.hdf5");
    let some = Array3::from_shape_fn((2, 3, 4), |(i, j, k)| (i * 12 + j * 4 + k) as u8);
    let odd = Odd {
        empty: Array2::zeros((0, 3)),
        zero_d: ndarray::arr0(7),
        some: Some(some.clone()),
    };
    anam::to_file(&path, "odd", &odd).unwrap();
    let lazy: LazyOdd = anam::from_file(&path, None).unwrap();
    assert!(lazy.empty.is_loaded() && lazy.zero_d.is_loaded());
    assert_eq!(lazy.empty.shape(), &[0, 3]);
    assert_eq!(lazy.zero_d.load().unwrap(), ndarray::arr0(7));
    let l = lazy.some.as_ref().unwrap();
    assert!(!l.is_loaded());
    assert_eq!(l.dtype(), DType::U8);
    assert_eq!(l.slice(s![1, .., 2..]).unwrap(), some.slice(s![1, .., 2..]));
    assert!(lazy.none.is_none());

    // Written back: the same layout (empty-array groups, the 0-d value).
    let out = dir.path().join("out.hdf5");
    anam::to_file(&out, "odd", &lazy).unwrap();
    let back: Odd = anam::from_file(&out, None).unwrap();
    assert_eq!(back.empty.shape(), &[0, 3]);
    assert_eq!(back.zero_d, ndarray::arr0(7));
    assert_eq!(back.some.unwrap(), some);
}

#[test]
fn a_removed_file_keeps_reading_and_a_closed_dataset_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.hdf5");
    let data = grid(20, 5);
    write(&path, data.clone());
    let rec: Recording = anam::from_file(&path, None).unwrap();
    // The Lazy keeps the file open: removing it from its directory does not stop reads.
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        rec.samples.slice(s![19, ..]).unwrap(),
        data.slice(s![19, ..])
    );
    assert_eq!(rec.samples.load().unwrap(), data);

    // Closing every HDF5 object of the file behind the Lazy's back (what a program
    // calling H5Fclose with a strong close degree, or H5close, would do) leaves an error,
    // not a crash.
    let path2 = dir.path().join("rec2.hdf5");
    write(&path2, data.clone());
    let rec: Recording = anam::from_file(&path2, None).unwrap();
    let file = anam::File::open(&path2).unwrap();
    close_all_objects_of(file.hdf5());
    drop(file);
    let err = rec.samples.load().unwrap_err();
    assert!(
        err.path().unwrap().ends_with(":/rec/samples") || err.path().unwrap().contains(':'),
        "{err}"
    );
    let err = rec.samples.slice(s![0, ..]).unwrap_err();
    assert!(err.path().is_some(), "{err}");
    drop(rec); // closing an already closed id is harmless
}

/// Closes every open dataset of `file`'s underlying HDF5 file.
fn close_all_objects_of(file: &anam::hdf5::File) {
    use anam::hdf5::sync::sync;
    use hdf5_sys::h5d::H5Dclose;
    use hdf5_sys::h5f::{H5Fget_obj_count, H5Fget_obj_ids, H5F_OBJ_DATASET};
    sync(|| unsafe {
        let n = H5Fget_obj_count(file.id(), H5F_OBJ_DATASET);
        let mut ids = vec![0; n.max(0) as usize];
        let n = H5Fget_obj_ids(file.id(), H5F_OBJ_DATASET, ids.len(), ids.as_mut_ptr());
        assert!(n > 0, "the Lazy holds the dataset open");
        for id in &ids[..n as usize] {
            H5Dclose(*id);
        }
    });
}

#[test]
fn a_lazy_keeps_the_file_open_until_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.hdf5");
    write(&path, grid(4, 4));
    let rec: Recording = anam::from_file(&path, None).unwrap();
    // HDF5 holds it open read-only: a write from this process is an error (no hang).
    let err = anam::to_file(
        &path,
        "other",
        &Eager {
            name: "x".into(),
            samples: grid(1, 1),
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("anam::Lazy"), "{err}");
    drop(rec);
    anam::to_file(
        &path,
        "other",
        &Eager {
            name: "x".into(),
            samples: grid(1, 1),
        },
    )
    .unwrap();
}

#[test]
fn lazy_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Lazy<Array2<f64>>>();
    check::<Recording>();
    // Read on another thread.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rec.hdf5");
    write(&path, grid(6, 6));
    let rec: Recording = anam::from_file(&path, None).unwrap();
    let row = std::thread::spawn(move || rec.samples.slice(s![5, ..]).unwrap())
        .join()
        .unwrap();
    assert_eq!(row, grid(6, 6).slice(s![5, ..]));
}

/// Median of `n` timings of `f`.
fn median(n: usize, mut f: impl FnMut()) -> Duration {
    let mut t: Vec<Duration> = (0..n)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    t.sort();
    t[n / 2]
}

#[test]
fn slicing_1_mib_reads_a_small_fraction_of_the_full_read_time() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.hdf5");
    // 128 MiB of f64 (4096 x 4096); the 1 GiB figure is the bench's (BENCHMARKS.md).
    let n = 4096;
    write(
        &path,
        Array2::from_shape_fn((n, n), |(i, j)| (i ^ j) as f64),
    );
    let rec: Recording = anam::from_file(&path, None).unwrap();
    let full = median(3, || {
        let a = rec.samples.load().unwrap();
        assert_eq!(a.len(), n * n);
    });
    // 1 MiB: 128 rows of 1024 columns.
    let slice = median(9, || {
        let a = rec.samples.slice(s![1000..1128, 2048..3072]).unwrap();
        assert_eq!(a.len(), 128 * 1024);
        assert_eq!(a[[5, 7]], (1005 ^ 2055) as f64);
    });
    let ratio = slice.as_secs_f64() / full.as_secs_f64();
    eprintln!("1 MiB slice {slice:?}, full 128 MiB read {full:?}, ratio {ratio:.4}");
    // A slice reads 1/128 of the bytes: it must not cost more than 2% of the full read
    // (a read of everything, or element by element, would be far above).
    assert!(
        ratio <= 0.02,
        "slice {slice:?} vs full {full:?}: ratio {ratio:.4}"
    );
}

#[test]
fn a_struct_with_a_1_gib_lazy_field_loads_in_a_few_mib() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.hdf5");
    write(&path, grid(1, 1));
    // Replace the dataset with 1 GiB (16384 x 8192 f64) that is never written: HDF5 has
    // allocated no storage, and reads give the fill value. Cheap to make, and read lazily
    // it must stay cheap.
    {
        let file = anam::hdf5::File::open_rw(&path).unwrap();
        let group = file.group("rec").unwrap();
        group.unlink("samples").unwrap();
        group
            .new_dataset::<f64>()
            .shape([16384, 8192])
            .create("samples")
            .unwrap();
    }
    let before = resident_bytes();
    let rec: Recording = anam::from_file(&path, None).unwrap();
    let grown = resident_bytes().saturating_sub(before);
    eprintln!("resident growth reading a struct with a 1 GiB Lazy field: {grown} bytes");
    assert_eq!(rec.samples.shape(), &[16384, 8192]);
    assert!(grown < 8 << 20, "grew by {grown} bytes");
    // A slice of it is read as such (the fill value), still without the whole array.
    let part = rec.samples.slice(s![16000..16002, ..4]).unwrap();
    assert_eq!(part, Array2::<f64>::zeros((2, 4)));
    assert!(resident_bytes().saturating_sub(before) < 16 << 20);
    // And a struct read eagerly would need the whole GiB: the default budget refuses it,
    // which shows the lazy read read nothing.
    let err = anam::from_file::<Eager>(&path, None).unwrap_err();
    assert!(err.to_string().contains("budget"), "{err}");
}

#[test]
fn one_hdf5_read_per_slice_regardless_of_its_rows() {
    // A strided slice over many rows returns the same as ndarray and reads only the
    // selected elements; compare a slice of every 64th row against the full array.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.hdf5");
    let data = grid(4096, 16);
    write(&path, data.clone());
    let rec: Recording = anam::from_file(&path, None).unwrap();
    let got = rec.samples.slice(s![..;64, 3]).unwrap();
    assert_eq!(got, data.slice(s![..;64, 3]));
    assert_eq!(got.len_of(Axis(0)), 64);
    let col = rec.samples.slice(s![-2.., ..;5]).unwrap();
    assert_eq!(
        col,
        arr2(&[
            [65504.0, 65509.0, 65514.0, 65519.0],
            [65520.0, 65525.0, 65530.0, 65535.0]
        ])
    );
}

#[test]
fn python_reads_a_lazy_field_copied_from_another_file() {
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "fixture_classes.ExampleWriter")]
    struct ExampleWriter {
        dat: Lazy<Array2<f64>>,
    }
    let Some(python) = python::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.hdf5");
    write(&src, grid(40, 3));
    let rec: Recording = anam::from_file(&src, None).unwrap();
    let out = dir.path().join("py.hdf5");
    // Copied dataset to dataset into an object Python has a class for.
    anam::to_file(&out, "w", &ExampleWriter { dat: rec.samples }).unwrap();
    let classes = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/generator/classes"
    );
    let script = r#"
import sys
sys.path.insert(0, sys.argv[2])
import anamnesis, fixture_classes
o = anamnesis.obj_from_hdf5file(sys.argv[1], "w")
print(type(o).__name__, type(o.dat).__name__, o.dat.dtype, o.dat.shape, o.dat[39, 2], o.dat.sum())
"#;
    let stdout = python::run_script(python, script, &[&out, &classes]);
    let sum: usize = (0..120).sum();
    assert_eq!(
        stdout.trim(),
        format!("ExampleWriter ndarray float64 (40, 3) 119.0 {sum}.0")
    );
}
