//! Storage options (`WriteOptions`, `#[anam(compress = ...)]`): every option round-trips,
//! and the datasets carry the filters and chunks asked for; Fletcher-32 turns a corrupted
//! chunk into an error; small arrays stay contiguous; a missing filter is an error naming
//! it; h5py and Python anamnesis read gzip, shuffle and LZF files (and h5py's files read
//! here).

#[path = "common/python.rs"]
mod python;

use std::path::Path;

use anam::hdf5::filters::Filter;
use anam::{Compression, Store, Value, WriteOptions};
use ndarray::{Array1, Array2, Array3, ArrayD};
use num_complex::Complex32;
use serde::{Deserialize, Serialize};

const ZSTD: i32 = 32015;

/// Arrays of every kind the writer stores as datasets, each above the default minimum size
/// (64 KiB) except `tiny`; values that compress (so that a filter does something).
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "write_options.Arrays")]
struct Arrays {
    #[serde(with = "anam::array")]
    real: Array2<f64>,
    #[serde(with = "anam::array")]
    cube: Array3<f32>,
    #[serde(with = "anam::array")]
    cplx: Array2<Complex32>,
    #[serde(with = "anam::array")]
    flags: Array1<bool>,
    column: Vec<i32>,
    #[serde(with = "serde_bytes")]
    bytes: Vec<u8>,
    /// ndarray's own serde form (no `anam::array`).
    plain: ArrayD<u16>,
    #[serde(with = "anam::array")]
    tiny: Array1<f64>,
    name: String,
    count: i64,
}

fn arrays() -> Arrays {
    Arrays {
        real: Array2::from_shape_fn((200, 100), |(i, j)| (i * 100 + j) as f64 * 0.25),
        cube: Array3::from_shape_fn((10, 40, 50), |(i, j, k)| (i + j * k) as f32 * 0.5),
        cplx: Array2::from_shape_fn((100, 100), |(i, j)| Complex32::new(i as f32, -(j as f32))),
        flags: Array1::from_shape_fn(70_000, |i| i % 3 == 0),
        column: (0..20_000).map(|i| i / 7).collect(),
        bytes: (0..70_000u32).map(|i| (i / 100) as u8).collect(),
        plain: ArrayD::from_shape_fn(vec![300, 200], |d| (d[0] * 7 + d[1]) as u16),
        tiny: Array1::from(vec![1.0, 2.5, -3.0]),
        name: "scan".into(),
        count: 7,
    }
}

/// The big datasets of [`Arrays`].
const BIG: [&str; 7] = ["real", "cube", "cplx", "flags", "column", "bytes", "plain"];

fn dataset(path: &Path, name: &str) -> anam::hdf5::Dataset {
    anam::hdf5::File::open(path)
        .unwrap()
        .dataset(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn filters(path: &Path, name: &str) -> Vec<Filter> {
    dataset(path, name).filters()
}

fn chunk(path: &Path, name: &str) -> Option<Vec<usize>> {
    dataset(path, name).chunk()
}

/// Writes `value` with `options` as the group `g` of a new file, reads it back (equal), and
/// returns the file's path.
fn round_trip<T>(dir: &Path, file: &str, value: &T, options: &WriteOptions) -> std::path::PathBuf
where
    T: Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let path = dir.join(file);
    anam::to_file_with(&path, "g", value, options).unwrap_or_else(|e| panic!("{file}: {e}"));
    let back: T = anam::from_file(&path, Some("g")).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert_eq!(&back, value, "{file}");
    path
}

#[test]
fn every_option_round_trips_with_its_filters_on_every_array() {
    let dir = tempfile::tempdir().unwrap();
    let value = arrays();
    let cases: Vec<(&str, WriteOptions, Vec<Filter>)> = vec![
        (
            "gzip0",
            WriteOptions::new().compression(Compression::Gzip(0)),
            vec![Filter::Deflate(0)],
        ),
        (
            "gzip1",
            WriteOptions::new().compression(Compression::Gzip(1)),
            vec![Filter::Deflate(1)],
        ),
        (
            "gzip9",
            WriteOptions::new().compression(Compression::Gzip(9)),
            vec![Filter::Deflate(9)],
        ),
        (
            "shuffle",
            WriteOptions::new().shuffle(true),
            vec![Filter::Shuffle],
        ),
        (
            "fletcher32",
            WriteOptions::new().fletcher32(true),
            vec![Filter::Fletcher32],
        ),
        (
            "lzf",
            WriteOptions::new().compression(Compression::Lzf),
            vec![Filter::LZF],
        ),
        (
            "zstd",
            WriteOptions::new().compression(Compression::Zstd(5)),
            vec![Filter::User(ZSTD, vec![5])],
        ),
        (
            "all",
            WriteOptions::new()
                .compression(Compression::Gzip(4))
                .shuffle(true)
                .fletcher32(true),
            vec![Filter::Shuffle, Filter::Deflate(4), Filter::Fletcher32],
        ),
        (
            "lzf_shuffle",
            WriteOptions::new()
                .compression(Compression::Lzf)
                .shuffle(true),
            vec![Filter::Shuffle, Filter::LZF],
        ),
        (
            "zstd_shuffle_fletcher32",
            WriteOptions::new()
                .compression(Compression::Zstd(1))
                .shuffle(true)
                .fletcher32(true),
            vec![
                Filter::Shuffle,
                Filter::User(ZSTD, vec![1]),
                Filter::Fletcher32,
            ],
        ),
        ("chunks_only", WriteOptions::new().chunks([16, 16]), vec![]),
        (
            "chunk_bytes_only",
            WriteOptions::new().chunk_bytes(4096),
            vec![],
        ),
        ("defaults", WriteOptions::new(), vec![]),
    ];
    // Zstd needs the cargo feature `zstd` (on by default).
    let with_zstd = |name: &str| cfg!(feature = "zstd") || !name.contains("zstd");
    for (name, options, expected) in cases.into_iter().filter(|c| with_zstd(c.0)) {
        let path = round_trip(dir.path(), &format!("{name}.hdf5"), &value, &options);
        for member in BIG {
            let ds = format!("g/{member}");
            assert_eq!(filters(&path, &ds), expected, "{name}: {ds}");
            let chunked = chunk(&path, &ds).is_some();
            assert_eq!(chunked, name != "defaults", "{name}: {ds} chunked");
        }
        // Below the minimum size: contiguous and unfiltered whatever the options.
        assert_eq!(chunk(&path, "g/tiny"), None, "{name}");
        assert_eq!(filters(&path, "g/tiny"), vec![], "{name}");
        // Scalars stay attributes.
        let file = anam::hdf5::File::open(&path).unwrap();
        let g = file.group("g").unwrap();
        assert!(g.attr("name").is_ok() && g.attr("count").is_ok(), "{name}");
    }
}

#[test]
fn compression_shrinks_the_file_and_the_plain_functions_write_contiguous() {
    let dir = tempfile::tempdir().unwrap();
    let value = arrays();
    let plain = dir.path().join("plain.hdf5");
    anam::to_file(&plain, "g", &value).unwrap();
    for member in BIG {
        assert_eq!(chunk(&plain, &format!("g/{member}")), None);
    }
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    for (name, compression) in [
        ("gzip", Compression::Gzip(6)),
        ("lzf", Compression::Lzf),
        ("zstd", Compression::Zstd(3)),
    ]
    .into_iter()
    .filter(|(name, _)| cfg!(feature = "zstd") || *name != "zstd")
    {
        let options = WriteOptions::new().compression(compression).shuffle(true);
        let path = round_trip(dir.path(), &format!("{name}.hdf5"), &value, &options);
        assert!(
            size(&path) * 3 < size(&plain),
            "{name}: {} bytes against {} uncompressed",
            size(&path),
            size(&plain)
        );
    }
}

#[test]
fn values_stores_and_to_group_with_take_options_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new();
    store.insert(
        "signal",
        ArrayD::from_shape_fn(vec![50_000], |d| (d[0] % 100) as f64),
    );
    store.insert("label", "x");
    let options = WriteOptions::new().compression(Compression::Lzf);
    let path = round_trip(dir.path(), "store.hdf5", &store, &options);
    assert_eq!(filters(&path, "g/signal"), vec![Filter::LZF]);

    let value = anam::to_value(&store).unwrap();
    let path = round_trip(dir.path(), "value.hdf5", &value, &options);
    assert_eq!(filters(&path, "g/signal"), vec![Filter::LZF]);

    // into a group of a file the caller made
    let path = dir.path().join("group.hdf5");
    {
        let file = anam::hdf5::File::create(&path).unwrap();
        let group = file.create_group("mine").unwrap();
        anam::to_group_with(&store, &group, &options).unwrap();
    }
    assert_eq!(filters(&path, "mine/signal"), vec![Filter::LZF]);
    let back: Store = anam::from_file(&path, Some("mine")).unwrap();
    assert_eq!(back, store);
}

#[test]
fn options_no_array_could_take_are_refused_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.hdf5");
    for (options, says) in [
        (
            WriteOptions::new().compression(Compression::Gzip(10)),
            "gzip level 10",
        ),
        (
            WriteOptions::new().compression(Compression::Zstd(0)),
            "zstd level 0",
        ),
        (WriteOptions::new().chunks([0, 4]), "chunk shape [0, 4]"),
        (WriteOptions::new().chunks(Vec::new()), "chunk shape []"),
    ] {
        let err = anam::to_file_with(&path, "g", &arrays(), &options).unwrap_err();
        assert!(err.to_string().contains(says), "{err}");
        assert!(!path.exists(), "nothing written for {options:?}");
    }
}

#[test]
fn default_chunks_are_slabs_of_whole_rows_of_at_most_1_mib() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "write_options.Shapes")]
    struct Shapes {
        #[serde(with = "anam::array")]
        wide: Array2<f64>,
        #[serde(with = "anam::array")]
        long: Array1<f64>,
        #[serde(with = "anam::array")]
        rows: Array2<f64>,
        #[serde(with = "anam::array")]
        small: Array2<f64>,
    }
    let value = Shapes {
        wide: Array2::zeros((3, 200_000)),
        long: Array1::zeros(300_000),
        rows: Array2::zeros((1000, 1000)),
        small: Array2::zeros((100, 100)),
    };
    let dir = tempfile::tempdir().unwrap();
    let gzip = WriteOptions::new().compression(Compression::Gzip(1));
    let path = round_trip(dir.path(), "auto.hdf5", &value, &gzip);
    assert_eq!(chunk(&path, "g/wide"), Some(vec![1, 131_072]));
    assert_eq!(chunk(&path, "g/long"), Some(vec![131_072]));
    assert_eq!(chunk(&path, "g/rows"), Some(vec![131, 1000]));
    assert_eq!(chunk(&path, "g/small"), Some(vec![100, 100]));

    let path = round_trip(
        dir.path(),
        "bytes.hdf5",
        &value,
        &gzip.clone().chunk_bytes(64 << 10),
    );
    assert_eq!(chunk(&path, "g/wide"), Some(vec![1, 8192]));
    assert_eq!(chunk(&path, "g/rows"), Some(vec![8, 1000]));

    // A shape for arrays of its rank, clipped to each; other ranks by bytes.
    let path = round_trip(
        dir.path(),
        "shape.hdf5",
        &value,
        &gzip.clone().chunks([64, 4096]),
    );
    assert_eq!(chunk(&path, "g/wide"), Some(vec![3, 4096]));
    assert_eq!(chunk(&path, "g/rows"), Some(vec![64, 1000]));
    assert_eq!(chunk(&path, "g/small"), Some(vec![64, 100]));
    assert_eq!(chunk(&path, "g/long"), Some(vec![131_072]));
}

#[test]
fn arrays_below_min_size_stay_contiguous_and_unfiltered() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "write_options.Sizes")]
    struct Sizes {
        at: Vec<f64>,
        below: Vec<f64>,
        three: Vec<f64>,
    }
    let value = Sizes {
        at: vec![1.5; 1000],
        below: vec![1.5; 999],
        three: vec![1.0, 2.0, 3.0],
    };
    let dir = tempfile::tempdir().unwrap();
    let options = WriteOptions::new()
        .compression(Compression::Gzip(1))
        .min_size(8000);
    let path = round_trip(dir.path(), "min.hdf5", &value, &options);
    assert_eq!(chunk(&path, "g/at"), Some(vec![1000]));
    assert_eq!(filters(&path, "g/at"), vec![Filter::Deflate(1)]);
    assert_eq!(chunk(&path, "g/below"), None);
    assert_eq!(filters(&path, "g/below"), vec![]);

    // The default: 64 KiB.
    let path = round_trip(
        dir.path(),
        "default.hdf5",
        &value,
        &WriteOptions::new().compression(Compression::Gzip(1)),
    );
    assert_eq!(chunk(&path, "g/at"), None);

    // 0: every array, down to three elements.
    let path = round_trip(dir.path(), "zero.hdf5", &value, &options.min_size(0));
    assert_eq!(chunk(&path, "g/three"), Some(vec![3]));
    assert_eq!(filters(&path, "g/three"), vec![Filter::Deflate(1)]);
}

#[test]
fn empty_and_zero_d_arrays_stay_anam_empty_array_groups() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "write_options.Empty")]
    struct Empty {
        #[serde(with = "anam::array")]
        empty: Array2<f64>,
        #[serde(with = "anam::array")]
        scalar: ndarray::Array0<f64>,
        none: Vec<i32>,
    }
    let value = Empty {
        empty: Array2::zeros((0, 5)),
        scalar: ndarray::arr0(2.5),
        none: vec![],
    };
    let dir = tempfile::tempdir().unwrap();
    let options = WriteOptions::new()
        .compression(Compression::Gzip(9))
        .fletcher32(true)
        .min_size(0);
    let path = round_trip(dir.path(), "empty.hdf5", &value, &options);
    for ds in [
        "g/empty/shape",
        "g/empty/dtype",
        "g/scalar/dtype",
        "g/scalar/value",
    ] {
        assert_eq!(chunk(&path, ds), None, "{ds}");
        assert_eq!(filters(&path, ds), vec![], "{ds}");
    }
}

/// Finds `needle` in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn fletcher32_turns_a_corrupted_chunk_into_an_error() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    #[serde(rename = "write_options.Signal")]
    struct Signal {
        #[serde(with = "anam::array")]
        samples: Array1<f64>,
    }
    let value = Signal {
        samples: Array1::from_shape_fn(100_000, |i| i as f64),
    };
    let dir = tempfile::tempdir().unwrap();
    // Unfiltered but for the checksum, so that the stored values can be found in the file.
    let mut needle = Vec::new();
    for x in [54_321.0f64, 54_322.0] {
        needle.extend_from_slice(&x.to_le_bytes());
    }
    let corrupt = |path: &Path| {
        let mut bytes = std::fs::read(path).unwrap();
        let at = find(&bytes, &needle).expect("the stored values");
        bytes[at + 3] ^= 0x10;
        std::fs::write(path, bytes).unwrap();
    };

    let checked = round_trip(
        dir.path(),
        "checked.hdf5",
        &value,
        &WriteOptions::new().fletcher32(true),
    );
    corrupt(&checked);
    let err = anam::from_file::<Signal>(&checked, Some("g")).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("/g/samples"), "{text}");
    assert!(text.to_lowercase().contains("fletcher32"), "{text}");

    // Without the checksum the same damage reads as a wrong value.
    let unchecked = round_trip(
        dir.path(),
        "unchecked.hdf5",
        &value,
        &WriteOptions::new().chunks([16_384]),
    );
    corrupt(&unchecked);
    let back: Signal = anam::from_file(&unchecked, Some("g")).unwrap();
    assert_ne!(back, value);
}

/// A class whose fields override the write's storage options.
#[cfg(feature = "zstd")]
#[anam::class(class = "write_options.Overrides")]
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Overrides {
    #[anam(compress = "gzip:4", chunks = [64, 64])]
    #[serde(with = "anam::array")]
    image: Array2<f64>,
    #[anam(contiguous)]
    #[serde(with = "anam::array")]
    index: Array1<i64>,
    #[anam(compress = "lzf", shuffle = false)]
    column: Vec<f64>,
    #[anam(compress = "zstd:5", fletcher32)]
    #[serde(with = "anam::array")]
    zstd: Array1<f32>,
    #[anam(min_size = 0)]
    tiny: Vec<f64>,
    #[anam(compress = "none", chunk_bytes = 16384)]
    raw: Vec<u16>,
    /// Overrides apply to every dataset under the member...
    #[anam(compress = "gzip:9", shuffle = false)]
    nested: Inner,
    /// ...until a field of a class inside sets its own.
    plain: Inner,
    #[anam(name = "renamed", compress = "gzip:2")]
    mapped: Vec<f64>,
}

#[cfg(feature = "zstd")]
#[anam::class(class = "write_options.Inner")]
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Inner {
    values: Vec<f64>,
    #[anam(contiguous)]
    kept: Vec<f64>,
}

#[cfg(feature = "zstd")]
fn overrides() -> Overrides {
    let inner = Inner {
        values: (0..10_000).map(|i| (i % 50) as f64).collect(),
        kept: vec![0.5; 10_000],
    };
    Overrides {
        image: Array2::from_shape_fn((100, 300), |(i, j)| (i + j) as f64),
        index: Array1::from_shape_fn(20_000, |i| i as i64),
        column: (0..10_000).map(|i| (i / 10) as f64).collect(),
        zstd: Array1::from_shape_fn(30_000, |i| (i % 1000) as f32),
        tiny: vec![1.0, 2.0],
        raw: (0..40_000).map(|i| (i % 300) as u16).collect(),
        nested: inner.clone(),
        plain: inner,
        mapped: vec![2.0; 10_000],
    }
}

#[cfg(feature = "zstd")]
#[test]
fn fields_override_the_write_options_for_their_datasets() {
    let dir = tempfile::tempdir().unwrap();
    let global = WriteOptions::new()
        .compression(Compression::Gzip(1))
        .shuffle(true);
    let path = round_trip(dir.path(), "overrides.hdf5", &overrides(), &global);
    let expect = |ds: &str, filters_: Vec<Filter>, chunks: Option<Vec<usize>>| {
        assert_eq!(filters(&path, ds), filters_, "{ds}");
        assert_eq!(chunk(&path, ds), chunks, "{ds}");
    };
    expect(
        "g/image",
        vec![Filter::Shuffle, Filter::Deflate(4)],
        Some(vec![64, 64]),
    );
    expect("g/index", vec![], None);
    expect("g/column", vec![Filter::LZF], Some(vec![10_000]));
    expect(
        "g/zstd",
        vec![
            Filter::Shuffle,
            Filter::User(ZSTD, vec![5]),
            Filter::Fletcher32,
        ],
        Some(vec![30_000]),
    );
    expect(
        "g/tiny",
        vec![Filter::Shuffle, Filter::Deflate(1)],
        Some(vec![2]),
    );
    expect("g/raw", vec![Filter::Shuffle], Some(vec![8192]));
    expect(
        "g/nested/values",
        vec![Filter::Deflate(9)],
        Some(vec![10_000]),
    );
    expect("g/nested/kept", vec![], None);
    expect(
        "g/plain/values",
        vec![Filter::Shuffle, Filter::Deflate(1)],
        Some(vec![10_000]),
    );
    expect("g/plain/kept", vec![], None);
    expect(
        "g/renamed",
        vec![Filter::Shuffle, Filter::Deflate(2)],
        Some(vec![10_000]),
    );

    // Without options, only the fields that set a compression or chunks are chunked.
    let path2 = round_trip(dir.path(), "plain.hdf5", &overrides(), &WriteOptions::new());
    assert_eq!(filters(&path2, "g/image"), vec![Filter::Deflate(4)]);
    assert_eq!(filters(&path2, "g/column"), vec![Filter::LZF]);
    assert_eq!(chunk(&path2, "g/plain/values"), None);
    assert_eq!(chunk(&path2, "g/tiny"), None);
    assert_eq!(chunk(&path2, "g/raw"), Some(vec![8192]));
    let plain = dir.path().join("plain2.hdf5");
    anam::to_file(&plain, "g", &overrides()).unwrap();
    assert_eq!(filters(&plain, "g/image"), vec![Filter::Deflate(4)]);

    // Through the registry too (dynamic loading).
    let obj = anam::obj_from_file(&path, Some("g")).unwrap();
    assert_eq!(obj.downcast::<Overrides>().unwrap(), Box::new(overrides()));
}

#[test]
fn a_field_chunk_shape_of_another_rank_is_an_error_naming_the_member() {
    #[anam::class(class = "write_options.Mismatch")]
    #[derive(Serialize, Deserialize, Debug)]
    struct Mismatch {
        #[anam(compress = "gzip", chunks = [8, 8])]
        line: Vec<f64>,
    }
    let dir = tempfile::tempdir().unwrap();
    let err = anam::to_file(
        dir.path().join("m.hdf5"),
        "g",
        &Mismatch {
            line: vec![1.0; 10_000],
        },
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("/g/line: "), "{text}");
    assert!(
        text.contains("rank 2") && text.contains("[10000]"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------
// A filter this program cannot decode.
// ---------------------------------------------------------------------------------------

const FAKE_FILTER: hdf5_sys::h5z::H5Z_filter_t = 32_999;

/// A filter that stores chunks as they are.
unsafe extern "C" fn identity(
    _flags: std::ffi::c_uint,
    _n: usize,
    _values: *const std::ffi::c_uint,
    nbytes: usize,
    _buf_size: *mut usize,
    _buf: *mut *mut std::ffi::c_void,
) -> usize {
    nbytes
}

const FAKE_CLASS: &hdf5_sys::h5z::H5Z_class2_t = &hdf5_sys::h5z::H5Z_class2_t {
    version: hdf5_sys::h5z::H5Z_CLASS_T_VERS as _,
    id: FAKE_FILTER,
    encoder_present: 1,
    decoder_present: 1,
    name: c"fake-filter".as_ptr(),
    can_apply: None,
    set_local: None,
    filter: Some(identity),
};

#[test]
fn a_filter_missing_on_read_is_an_error_naming_the_dataset_and_the_filter() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fake.hdf5");
    // Written with a filter of our own, which is then unregistered.
    anam::hdf5::sync::sync(|| unsafe {
        hdf5_sys::h5z::H5Zregister((FAKE_CLASS as *const hdf5_sys::h5z::H5Z_class2_t).cast())
    });
    anam::to_file(&path, "g", &Store::new()).unwrap();
    {
        let file = anam::hdf5::File::open_rw(&path).unwrap();
        file.group("g")
            .unwrap()
            .new_dataset_builder()
            .chunk(100)
            .add_filter(FAKE_FILTER, &[])
            .with_data(&Array1::from_shape_fn(1000, |i| i as f64))
            .create("data")
            .unwrap();
    }
    anam::hdf5::sync::sync(|| unsafe { hdf5_sys::h5z::H5Zunregister(FAKE_FILTER) });
    let err = anam::from_file::<Store>(&path, Some("g")).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("/g/data: "), "{text}");
    assert!(
        text.contains("`fake-filter` (id 32999)") && text.contains("cannot decode"),
        "{text}"
    );
    let err = anam::from_file::<Value>(&path, Some("g")).unwrap_err();
    assert!(err.to_string().contains("(id 32999)"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Python: h5py and anamnesis 1.0.4 read our gzip, shuffle, LZF and Fletcher-32 files; we
// read h5py's.
// ---------------------------------------------------------------------------------------

#[test]
fn python_reads_gzip_shuffle_lzf_and_fletcher32_files_and_we_read_h5pys() {
    let Some(python) = python::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::new();
    store.insert(
        "real",
        ArrayD::from_shape_fn(vec![300, 200], |d| (d[0] * 200 + d[1]) as f64 * 0.25),
    );
    store.insert(
        "ints",
        ArrayD::from_shape_fn(vec![40_000], |d| (d[0] / 3) as i32),
    );
    store.insert("label", "compressed");
    let cases = [
        (
            "gzip_shuffle",
            WriteOptions::new()
                .compression(Compression::Gzip(1))
                .shuffle(true),
            "gzip 1 True False",
        ),
        (
            "lzf",
            WriteOptions::new().compression(Compression::Lzf),
            "lzf None False False",
        ),
        (
            "lzf_shuffle_fletcher32",
            WriteOptions::new()
                .compression(Compression::Lzf)
                .shuffle(true)
                .fletcher32(true),
            "lzf None True True",
        ),
        (
            "shuffle",
            WriteOptions::new().shuffle(true),
            "None None True False",
        ),
    ];
    let script = r#"
import sys, h5py, numpy as np
from anamnesis import obj_from_hdf5file
path = sys.argv[1]
with h5py.File(path, "r") as f:
    for name in ("real", "ints"):
        d = f["g"][name]
        print(name, d.compression, d.compression_opts, d.shuffle, d.fletcher32, d.chunks is not None)
    real = f["g/real"][()]
    ints = f["g/ints"][()]
assert np.array_equal(real, (np.arange(60000, dtype=np.float64) * 0.25).reshape(300, 200))
assert np.array_equal(ints, (np.arange(40000) // 3).astype(np.int32))
store = obj_from_hdf5file(path, "g")
data = store.extra_data
assert np.array_equal(data["real"], real) and data["real"].dtype == np.float64
assert np.array_equal(data["ints"], ints) and data["ints"].dtype == np.int32
assert data["label"] == "compressed"
print("anamnesis ok", type(store).__name__)
"#;
    for (name, options, expected) in cases {
        let path = dir.path().join(format!("{name}.hdf5"));
        anam::to_file_with(&path, "g", &store, &options).unwrap();
        let out = python::run_script(&python, script, &[&path]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines,
            [
                format!("real {expected} True").as_str(),
                format!("ints {expected} True").as_str(),
                "anamnesis ok Store"
            ],
            "{name}"
        );
    }

    // h5py's own filters, read here.
    let path = dir.path().join("h5py.hdf5");
    let script = r#"
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "w") as f:
    g = f.create_group("g")
    g.attrs["class"] = "anamnesis.store.Store"
    x = (np.arange(60000, dtype=np.float64) * 0.25).reshape(300, 200)
    g.create_dataset("gzip", data=x, compression="gzip", compression_opts=1, shuffle=True)
    g.create_dataset("lzf", data=x, compression="lzf")
    g.create_dataset("lzf_f32", data=x, compression="lzf", shuffle=True, fletcher32=True)
    g.create_dataset("random", data=np.random.default_rng(1).random(20000), compression="lzf")
"#;
    python::run_script(&python, script, &[&path]);
    let back: Store = anam::from_file(&path, Some("g")).unwrap();
    let expected = ArrayD::from_shape_fn(vec![300, 200], |d| (d[0] * 200 + d[1]) as f64 * 0.25);
    for name in ["gzip", "lzf", "lzf_f32"] {
        let got = back.get(name).unwrap().to_array::<f64>().unwrap();
        assert_eq!(got, expected, "{name}");
    }
    assert_eq!(
        back.get("random").unwrap().to_array::<f64>().unwrap().len(),
        20000
    );
}

// ---------------------------------------------------------------------------------------
// `anam::File`: options for every write of a handle, or for one write.
// ---------------------------------------------------------------------------------------

#[test]
fn file_handles_take_options_for_all_their_writes_or_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("handle.hdf5");
    let signal: Vec<f64> = (0..50_000).map(|i| (i % 100) as f64).collect();
    let mut store = Store::new();
    store.insert(
        "signal",
        ArrayD::from_shape_vec(vec![50_000], signal.clone()).unwrap(),
    );
    let gzip = WriteOptions::new()
        .compression(Compression::Gzip(1))
        .shuffle(true);
    {
        let file = anam::File::create_with(&path, gzip.clone()).unwrap();
        assert_eq!(file.write_options(), &gzip);
        file.write("a", &store).unwrap();
        let lzf = WriteOptions::new().compression(Compression::Lzf);
        file.write_with("b", &store, &lzf).unwrap();
        // The handle's options again after a write with its own.
        file.write("c", &store).unwrap();
        file.write("list", &Vec::<Vec<f64>>::new()).unwrap();
        file.push("list", &signal).unwrap();
        file.push_with("list", &signal, &WriteOptions::new())
            .unwrap();
        let back: Store = file.read("b").unwrap();
        assert_eq!(back, store);
        assert_eq!(file.len("list").unwrap(), 2);
        let item: Vec<f64> = file.item("list", 0).unwrap();
        assert_eq!(item, signal);
    }
    let deflate = vec![Filter::Shuffle, Filter::Deflate(1)];
    assert_eq!(filters(&path, "a/signal"), deflate);
    assert_eq!(filters(&path, "b/signal"), vec![Filter::LZF]);
    assert_eq!(filters(&path, "c/signal"), deflate);
    assert_eq!(filters(&path, "list/LIST_item0"), deflate);
    assert_eq!(chunk(&path, "list/LIST_item1"), None);

    // Opened again: plain writes are contiguous unless opened with options.
    {
        let file = anam::File::open_rw(&path).unwrap();
        file.write("d", &store).unwrap();
        let file2 = anam::File::open_rw_with(dir.path().join("missing.hdf5"), gzip.clone());
        assert!(file2.is_err());
    }
    assert_eq!(chunk(&path, "d/signal"), None);
    {
        let file = anam::File::open_rw_with(&path, gzip.clone()).unwrap();
        file.write("e", &store).unwrap();
    }
    assert_eq!(filters(&path, "e/signal"), deflate);

    // Bad options: an error naming the file, and no file made.
    let bad = dir.path().join("bad.hdf5");
    let err = anam::File::create_with(&bad, WriteOptions::new().compression(Compression::Gzip(12)))
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("bad.hdf5") && text.contains("gzip level 12"),
        "{text}"
    );
    assert!(!bad.exists());
    // A write whose options fail leaves the file as it was (failure-atomic).
    let file = anam::File::open_rw(&path).unwrap();
    let before = file.entries("").unwrap().len();
    let err = file
        .write_with("f", &signal, &WriteOptions::new().chunks([0]))
        .unwrap_err();
    assert!(err.to_string().contains("chunk shape [0]"), "{err}");
    assert_eq!(file.entries("").unwrap().len(), before);
    assert!(!file.contains("f"));
}

#[test]
fn a_failed_write_with_options_leaves_the_file_as_it_was() {
    // A chunk shape of the wrong rank fails while the object is being written: the object
    // is built unlinked, so nothing of it stays.
    #[anam::class(class = "write_options.Partial")]
    #[derive(Serialize, Deserialize, Debug)]
    struct Partial {
        ok: Vec<f64>,
        #[anam(compress = "gzip", chunks = [8, 8])]
        line: Vec<f64>,
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("partial.hdf5");
    let file = anam::File::create(&path).unwrap();
    file.write("kept", &vec![1.0f64; 10]).unwrap();
    let value = Partial {
        ok: vec![2.0; 20_000],
        line: vec![1.0; 20_000],
    };
    let err = file
        .write_with(
            "p",
            &value,
            &WriteOptions::new().compression(Compression::Lzf),
        )
        .unwrap_err();
    assert!(err.to_string().starts_with("/p/line: "), "{err}");
    assert!(!file.contains("p"));
    let names: Vec<String> = file
        .entries("")
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["kept"]);
}

#[cfg(feature = "zstd")]
#[test]
fn python_with_hdf5plugin_reads_zstd_files() {
    let Some(python) = python::python() else {
        return;
    };
    let probe = std::process::Command::new(&python)
        .args(["-c", "import hdf5plugin"])
        .status()
        .unwrap();
    if !probe.success() {
        assert!(
            std::env::var("ANAM_REQUIRE_HDF5PLUGIN").as_deref() != Ok("1"),
            "hdf5plugin is not importable"
        );
        eprintln!("skipping the zstd check: `import hdf5plugin` fails (pip install hdf5plugin)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zstd.hdf5");
    let mut store = Store::new();
    store.insert(
        "real",
        ArrayD::from_shape_fn(vec![300, 200], |d| (d[0] * 200 + d[1]) as f64 * 0.25),
    );
    let options = WriteOptions::new()
        .compression(Compression::Zstd(5))
        .shuffle(true);
    anam::to_file_with(&path, "g", &store, &options).unwrap();
    let script = r#"
import sys, hdf5plugin, h5py, numpy as np
from anamnesis import obj_from_hdf5file
with h5py.File(sys.argv[1], "r") as f:
    d = f["g/real"]
    print(list(d._filters.keys()))
    x = d[()]
assert np.array_equal(x, (np.arange(60000, dtype=np.float64) * 0.25).reshape(300, 200))
store = obj_from_hdf5file(sys.argv[1], "g")
assert np.array_equal(store.extra_data["real"], x)
# And hdf5plugin's own zstd, read here.
with h5py.File(sys.argv[2], "w") as f:
    g = f.create_group("g")
    g.attrs["class"] = "anamnesis.store.Store"
    g.create_dataset("real", data=x, chunks=(50, 200), **hdf5plugin.Zstd(clevel=7))
print("ok")
"#;
    let theirs = dir.path().join("hdf5plugin.hdf5");
    let out = python::run_script(&python, script, &[&path, &theirs]);
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        ["['shuffle', '32015']", "ok"]
    );
    let back: Store = anam::from_file(&theirs, Some("g")).unwrap();
    assert_eq!(back, store);
    assert_eq!(
        filters(&theirs, "g/real"),
        vec![Filter::User(ZSTD, vec![7])]
    );
}

#[cfg(not(feature = "zstd"))]
#[test]
fn zstd_without_the_cargo_feature_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zstd.hdf5");
    let options = WriteOptions::new().compression(Compression::Zstd(3));
    let err = anam::to_file_with(&path, "g", &arrays(), &options).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("feature `zstd`") && text.starts_with("/g/"),
        "{text}"
    );
    assert!(!path.exists());
}

/// A new file written with `sync` on (the default) and off: the same file either way, no
/// temporary left beside it; the `fsync`s counted with `strace` in a child process (this test
/// binary again, running [`sync_child`], which also makes a file with `File::create_with`):
/// two a new file (the file, its directory) by default, none with `sync(false)`.
#[test]
fn sync_false_leaves_out_the_fsyncs_and_writes_the_same_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut fsyncs = Vec::new();
    for sync in [true, false] {
        let path = dir.path().join(format!("sync-{sync}.h5"));
        let log = dir.path().join(format!("strace-{sync}.log"));
        let exe = std::env::current_exe().unwrap();
        let status = std::process::Command::new("strace")
            .args(["-f", "-qq", "-e", "trace=fsync,fdatasync,syncfs,sync", "-o"])
            .arg(&log)
            .arg(&exe)
            .args(["--exact", "sync_child", "--nocapture", "--test-threads=1"])
            .env("ANAM_SYNC_CHILD", format!("{sync} {}", path.display()))
            .status()
            .expect("strace (make deps installs it)");
        assert!(status.success(), "the child writing {path:?} failed");
        let calls = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .filter(|l| l.contains("sync") && !l.contains("exited"))
            .count();
        fsyncs.push(calls);
        let back: Arrays = anam::from_file(&path, Some("arrays")).unwrap();
        assert_eq!(back, arrays());
    }
    // Two each for `to_file_with` and `File::create_with`: the file, then its directory.
    assert_eq!(fsyncs, [4, 0], "fsync calls with sync(true), sync(false)");
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".h5") || n.contains("tmp"))
        .collect();
    names.sort();
    assert_eq!(names, ["sync-false.h5", "sync-true.h5"]);
    let a = std::fs::read(dir.path().join("sync-true.h5")).unwrap();
    let b = std::fs::read(dir.path().join("sync-false.h5")).unwrap();
    assert!(a == b, "the two files differ");
}

/// The child of [`sync_false_leaves_out_the_fsyncs_and_writes_the_same_file`]: writes
/// [`arrays`] to a new file with `sync` as `ANAM_SYNC_CHILD` says (does nothing without it).
#[test]
fn sync_child() {
    let Ok(job) = std::env::var("ANAM_SYNC_CHILD") else {
        return;
    };
    let (sync, path) = job.split_once(' ').unwrap();
    let options = WriteOptions::new().sync(sync == "true");
    anam::to_file_with(path, "arrays", &arrays(), &options).unwrap();
    // `File::create_with` makes its new file alike.
    drop(anam::File::create_with(format!("{path}.created"), options).unwrap());
}
