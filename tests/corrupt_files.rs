//! Corrupt files: seeded mutants of the Python fixtures and of files this crate writes,
//! each loaded in a child process, must never make the crate panic, and (with HDF5 2.x)
//! never crash or hang outside the explained hangs below.
//!
//! # How it works
//!
//! - **Sources**: every file of `tests/fixtures/anamnesis-1.0.4` (h5py's default format:
//!   superblock v0, version-1 object headers, symbol tables) and 9 files this test writes
//!   with `anam::to_file` (the HDF5 1.8 format: superblock v2, `OHDR` object headers,
//!   fractal heaps and version-2 B-trees for groups of more than 8 entries): scalars,
//!   strings, lists, dicts, arrays of every dtype, nested objects (`samples::Lab`), a class
//!   with a name map, a 150-entry map and a `Value` with name maps and legacy lists.
//! - **Mutants**: mutant `i` of seed `s` is a function of `(s, i)` and the sources only:
//!   its source is `sources()[i % 22]`, its mutation one of: one byte XORed anywhere or in
//!   the first 4 KiB (where the superblock, root group and first headers are), one bit
//!   flipped, 2 to 8 bytes XORed, the file truncated, a run of 1 to 256 bytes zeroed, or a
//!   run of 4 to 256 bytes copied over another place. (Our own files are written anew by
//!   each run, and their object headers hold the time of writing: a mutant of one is the
//!   same change at the same offset of a file that differs only there, as long as the
//!   crate writes the same layout.)
//! - **Loads**: a child process (this binary, restricted to the `#[ignore]`d
//!   `child_loads_one_mutant`) loads the mutant three ways, each under `catch_unwind`:
//!   `from_file::<Value>(path, None)`, `from_file::<T>(path, None)` with the source's type
//!   (the `tests/common` mirrors for the fixtures; none for the `Value` source), and
//!   `obj_from_file(path, None)` (the fixtures' classes are registered here, as in
//!   `tests/dynamic.rs`). The child caps its address space (`RLIMIT_AS`,
//!   `ANAM_CORRUPT_CHILD_MEM_MIB`, 1536 MiB) and core dumps, and turns HDF5's error
//!   printing on, so that a checksum failure deep in HDF5's error stack is seen. When a
//!   load crashes or hangs, a new child runs the loads after it.
//! - **Outcomes**, per load: `ok-same` (the value of the pristine file: exact fingerprint,
//!   floats bit for bit), `ok-wrong` (another value, or a value where the pristine file is
//!   refused), `err`, `err-csum` (an error for which HDF5 reported a metadata checksum
//!   mismatch), `panic`, `signal` (which, and where: the load is run again under gdb for
//!   its stack, after the same loads before it, as a later load can crash on heap damage
//!   an earlier failed one left in libhdf5), `h5assert` (SIGABRT from an `assert()` of
//!   HDF5 itself, which only a build of HDF5 without `NDEBUG` has), `oom` (Rust's "memory
//!   allocation of N bytes failed" under the limit), `timeout` (over 10 s,
//!   `ANAM_CORRUPT_TIMEOUT`).
//! - **Hangs found early**: a load still running after 0.5 s (`ANAM_CORRUPT_EARLY_HANG`;
//!   `0`: never) is looked at: if gdb finds it in an explained hang (below) and the file
//!   holds what causes it, it is recorded as that hang at once, instead of after 10 s
//!   (without gdb, or when ptrace is not allowed, the file content alone decides). Every
//!   other load gets the full limit. Giving the full limit to the hangs of the default run
//!   confirms each one runs past 10 s.
//! - **Report**: outcomes per source, per load kind and per mutation; for our own files,
//!   per HDF5 structure the changed bytes are in (a map of the pristine file from its
//!   structure signatures and its datasets' storage), with whether that structure has a
//!   checksum; the share of wrong values; the most frequent errors; and every crash, hang
//!   and panic with the mutant's number.
//!
//! # What is asserted
//!
//! - No panic (a Rust panic is a bug of ours), no Rust allocation failure (`oom`), no
//!   stack overflow, no abnormal exit, whatever the HDF5 version.
//! - No signal when the HDF5 library is 2.x or newer (`hdf5::library_version()` at run
//!   time). With HDF5 1.x signals are printed and counted, not failed: libhdf5 1.10.8 (the
//!   Debian 12 package) crashes on corrupt files in its own code (the crash sites below),
//!   which this crate cannot prevent short of not calling it; HDF5 2.2 has none (below).
//!   A signal whose crash site (gdb) is in our code (this crate, hdf5-metno, this test)
//!   fails with any version. An `h5assert` is reported and not failed: HDF5 checks its
//!   own invariants with `assert()` only when built without `NDEBUG` (the `bundled`
//!   build in Cargo's dev profile is a CMake Debug build); the same mutants return a
//!   checksum error from a release build of the same HDF5.
//! - Every timeout is one of the explained hangs below (stack and file content).
//!
//! # Explained hangs
//!
//! 1. **HDF5 parses a global heap collection forever** (in HDF5, not ours; HDF5 1.10.8 and
//!    the current 2.x source alike). Stack, 1.10.8 (static functions show as `??`):
//!    `H5HG__cache_heap_deserialize (??) < H5C_protect < H5AC_protect < H5HG__protect <
//!    H5HG_read < H5T_vlen_disk_read (??) < H5T__conv_vlen < H5T_convert < H5A__read <
//!    H5Aread < anam::h5::node::Node::read_raw < read_vlen_scalar < read_string`, reading a
//!    variable-length string attribute (the `class` tag first of all). The loop is the
//!    object walk of `H5HG__cache_heap_deserialize` (H5HGcache.c): each object of a
//!    collection (`GCOL`) has a 16-byte header (heap index u16, reference count u16, 4
//!    reserved bytes, size u64); the walk advances by `16 + align8(size)` past an object of
//!    index > 0, but by `size` past index 0 (the free space, whose size counts its own
//!    header), so an object header of index 0 and size 0 does not advance it and the loop
//!    never ends. The file content shows it: zeroed bytes inside a collection, a run copied
//!    over one, a flipped byte that puts the walk out of step onto the zero padding after a
//!    string, or a collection that runs past the end of a truncated file (read as zeros).
//!    [`global_heap_that_spins`] runs the same walk on the mutant. The metadata cache
//!    loads the collection before anything checks it, and global heap collections have no
//!    checksum, so every reader of a vlen string in such a file hangs, h5py's included.
//!    HDF5 2.2 (the `bundled` build) hangs the same way: `H5HG__cache_heap_deserialize <
//!    H5C__load_entry < H5C_protect < H5AC_protect < H5HG__protect < H5HG_get_obj_size <
//!    H5VL__native_blob_get < ... < H5T__vlen_disk_read < H5T__conv_vlen`.
//!
//! # Crashes seen
//!
//! With libhdf5 1.10.8, all in HDF5 (reported, not failed), by where they happen:
//!
//! - SIGSEGV in `H5HG_read` (a `memcpy` of a global heap object whose corrupt size or
//!   offset points outside its collection) under `H5T__conv_vlen`, reading a vlen string
//!   attribute: most of them; SIGSEGV in `H5FL_blk_free` under `H5T__conv_vlen`;
//! - SIGSEGV in a static function called by `H5O__msg_iterate_real` under
//!   `H5A__compact_build_table` (`H5Aiterate2`): a corrupt attribute message of a
//!   version-1 object header (the fixtures);
//! - SIGSEGV in `free` from `H5MM_xfree < H5O_msg_reset < H5G__link_release_table <
//!   H5G__dense_iterate` (`H5Literate`), in the load *after* one that failed on a checksum
//!   mismatch in the same group's dense link storage: the failed load left libhdf5's heap
//!   damaged;
//! - SIGABRT (glibc: `munmap_chunk(): invalid pointer`) in `H5MM_xfree` and SIGSEGV in
//!   `H5A__close`, both under `H5C__flush_single_entry < H5C_dest < H5F__dest`: closing
//!   the file frees corrupt cached metadata.
//!
//! Not a crash, but worth knowing: a corrupt length of a vlen string makes HDF5 (1.10.8)
//! allocate and zero that many bytes in `H5T__conv_vlen` before it finds the data past the
//! end of the file (1.4 GB seen, about 1 s per read); a larger one fails to allocate, an
//! error.
//!
//! With HDF5 2.2 built with `NDEBUG` (`--release`): none. Its debug build aborts
//! (`h5assert`) on `assert(atable->attrs == NULL)` in `H5A__attr_release_table`
//! (H5Aint.c) under `H5A__dense_iterate`, when a group's dense attribute storage fails its
//! checksum; the release build returns the checksum error for the same mutants.
//!
//! # What checksums catch
//!
//! Files this crate writes are in the HDF5 1.8 format, whose object headers, fractal heap
//! headers and blocks, version-2 B-trees and superblock carry checksums: a change there is
//! refused ("incorrect metadata checksum") or does not matter. Every wrong value read from
//! our own files came from bytes without a checksum: datasets' raw data and global heap
//! collections (the variable-length strings: class tags, names, string members). The
//! fixtures (h5py's default format) have checksums nowhere but in their data-less parts.
//!
//! # Running it
//!
//! `cargo test --test corrupt_files` runs 2,400 mutants of the fixed default seed, 2 children
//! at a time: about 2 minutes on an idle 2-core machine (3.5 under a load of 9), most of
//! it in the few hangs and crashes (gdb);
//! `make fuzz-files` runs for `FUZZ_FILES_SECONDS` with a new seed. The environment:
//!
//! | variable | default | |
//! |---|---|---|
//! | `ANAM_CORRUPT_SEED` | `0xa7a3c022025001` | a number (`0x` for hex) or `random` |
//! | `ANAM_CORRUPT_MUTANTS` | 2400 | mutants 0..n |
//! | `ANAM_CORRUPT_SECONDS` | | run mutants 0, 1, ... until this many seconds have passed |
//! | `ANAM_CORRUPT_ONLY` | | only these mutants (`12,345`), with details; their files are kept |
//! | `ANAM_CORRUPT_TIMEOUT` | 10 | seconds per load |
//! | `ANAM_CORRUPT_EARLY_HANG` | 0.5 | seconds before a running load is checked for an explained hang; 0: never |
//! | `ANAM_CORRUPT_MEM_MIB` | 1536 | the children's address space |
//! | `ANAM_CORRUPT_JOBS` | 2 | children at a time |
//! | `ANAM_CORRUPT_GDB` | | `0`: no gdb stacks |
//! | `ANAM_CORRUPT_STACKS` | | `all`: a stack for every crash and hang, not only the first of each mutant |
//! | `ANAM_CORRUPT_KEEP` | | keep the mutants that crashed, hung, panicked or loaded wrong here |
//!
//! To reproduce mutant 123 of the report:
//! `ANAM_CORRUPT_SEED=<seed> ANAM_CORRUPT_ONLY=123 cargo test --test corrupt_files -- --nocapture`
//! prints its outcomes, keeps its file in `<target>/tmp/corrupt-mutants/`, and prints the
//! command that runs its loads in a child by hand (to run under `gdb --args`).

mod common;
#[path = "common/data_model.rs"]
mod data_model;
#[path = "common/samples.rs"]
mod samples;
#[path = "../examples/classes/test_classes1.rs"]
mod test_classes1;
#[path = "../examples/classes/test_classes2.rs"]
mod test_classes2;
#[path = "../examples/classes/test_classes3.rs"]
mod test_classes3;

use std::collections::BTreeMap;
use std::fmt::{Debug, Write as _};
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anam::hdf5;
use anam::Value;
use ndarray::{Array2, Ix2};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------
// Classes: the fixtures' mirrors (registered ones for `obj_from_file`) and our own
// ---------------------------------------------------------------------------------------

/// Python's `Scalars`, registered for `obj_from_file` (as in `tests/dynamic.rs`).
#[anam::class(class = "fixture_classes.Scalars", default_group = "scalars")]
#[derive(Serialize, Deserialize, Debug)]
pub struct RegScalars {
    pub an_int: i64,
    pub a_float: f64,
    pub a_str: String,
    pub a_bool: bool,
    pub a_none: Option<i64>,
    pub neg: i64,
    pub big: i64,
}

/// Python's `ExampleWriter`, registered, whose `dat` may be anything.
#[anam::class(class = "fixture_classes.ExampleWriter")]
#[derive(Serialize, Deserialize, Debug)]
pub struct RegExampleWriter {
    pub dat: Value,
}

/// The class of `badclass.hdf5`, which no Python class (and no registration) has.
#[derive(Serialize, Deserialize, Debug)]
#[serde(rename = "deliberately.missing.Class")]
pub struct MissingClass {
    pub foo: i64,
}

#[anam::class(class = "corrupt.Scalars")]
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct OwnScalars {
    pub b: bool,
    pub i8: i8,
    pub i16: i16,
    pub i32: i32,
    pub i64: i64,
    pub u8: u8,
    pub u16: u16,
    pub u32: u32,
    pub u64: u64,
    pub f32: f32,
    pub f64: f64,
    pub c: char,
    pub s: String,
    pub unicode: String,
    pub empty: String,
    pub none: Option<i64>,
    pub some: Option<f64>,
    pub unit: (),
}

#[anam::class(class = "corrupt.Strings")]
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct OwnStrings {
    pub words: Vec<String>,
    pub long: String,
    pub tag: String,
}

#[anam::class(class = "corrupt.Lists")]
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct OwnLists {
    pub ints: Vec<i64>,
    pub floats: Vec<f32>,
    pub people: Vec<test_classes1::SimplePerson>,
    pub nested: Vec<Vec<String>>,
    pub mixed: Vec<Value>,
}

#[anam::class(class = "corrupt.Dicts")]
#[derive(Serialize, Deserialize, Debug, Clone)]
pub struct OwnDicts {
    pub by_name: BTreeMap<String, i64>,
    pub by_int: BTreeMap<i64, String>,
    pub people: BTreeMap<String, test_classes1::SimplePerson>,
}

fn own_scalars() -> OwnScalars {
    OwnScalars {
        b: true,
        i8: -8,
        i16: -1600,
        i32: 32_000_000,
        i64: -64_000_000_000,
        u8: 200,
        u16: 60_000,
        u32: 4_000_000_000,
        u64: u64::MAX - 7,
        f32: 1.25,
        f64: -2.0e-300,
        c: 'é',
        s: "Fred".into(),
        unicode: "Zürich € 😀".into(),
        empty: String::new(),
        none: None,
        some: Some(0.5),
        unit: (),
    }
}

fn own_strings() -> OwnStrings {
    OwnStrings {
        words: (0..12).map(|i| format!("word number {i}")).collect(),
        long: "the quick brown fox jumps over the lazy dog; ".repeat(40),
        tag: "strings".into(),
    }
}

fn own_lists() -> OwnLists {
    OwnLists {
        ints: (0..100).map(|i| i * i - 50).collect(),
        floats: (0..30).map(|i| i as f32 / 3.0).collect(),
        people: (0..3)
            .map(|i| test_classes1::SimplePerson::new(&format!("person {i}"), 20 + i))
            .collect(),
        nested: vec![vec!["a".into(), "b".into()], vec![], vec!["c".into()]],
        mixed: data_model::every_value(),
    }
}

fn own_dicts() -> OwnDicts {
    OwnDicts {
        by_name: (0..20).map(|i| (format!("key{i:02}"), i * 3)).collect(),
        by_int: (0..5).map(|i| (i - 2, format!("value {i}"))).collect(),
        people: (0..2)
            .map(|i| {
                (
                    format!("p{i}"),
                    test_classes1::SimplePerson::new("someone", i),
                )
            })
            .collect(),
    }
}

fn own_arrays() -> common::ArrayHolder {
    fn a<T: samples::Sample>(rows: usize, cols: usize) -> Array2<T> {
        samples::sample_array::<T>(&[rows, cols])
            .into_dimensionality::<Ix2>()
            .expect("2-D")
    }
    common::ArrayHolder {
        i8: a(8, 16),
        i16: a(8, 16),
        i32: a(8, 16),
        i64: a(8, 16),
        u8: a(8, 16),
        u16: a(8, 16),
        u32: a(8, 16),
        u64: a(8, 16),
        f32: a(16, 16),
        f64: a(16, 16),
        c64: a(4, 8),
        c128: a(4, 8),
        b: a(5, 5),
        empty0d: ndarray::ArrayD::zeros(ndarray::IxDyn(&[])),
        empty1d: ndarray::Array1::zeros(0),
        empty2d: Array2::zeros((0, 3)),
        empty3d_f32: ndarray::Array3::zeros((2, 0, 4)),
        empty3d_i16: ndarray::Array3::zeros((0, 0, 0)),
    }
}

/// A map of 150 entries: its `dictkeys`/`dictdata` lists keep their items in indexed
/// ("dense") storage, a fractal heap and a version-2 B-tree.
fn own_big_dict() -> BTreeMap<i64, String> {
    (0..150)
        .map(|i| (i * 7 - 300, format!("item {i}")))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Fingerprints of loaded values
// ---------------------------------------------------------------------------------------

/// A loaded value, reduced to what the parent compares: a hash of its exact fingerprint
/// (`data_model::fingerprint`: floats bit for bit) and a short rendering for reports.
struct Loaded {
    hash: u64,
    summary: String,
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn short(s: &str, max: usize) -> String {
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if one_line.len() <= max {
        return one_line;
    }
    let cut = (0..=max)
        .rev()
        .find(|&i| one_line.is_char_boundary(i))
        .unwrap_or(0);
    format!("{}...", &one_line[..cut])
}

fn loaded<T: Serialize + Debug + ?Sized>(v: &T) -> Loaded {
    let fp = match data_model::fingerprint(v) {
        Ok(toks) => format!("{toks:?}"),
        Err(e) => format!("fingerprint failed: {e}"),
    };
    Loaded {
        hash: fnv1a(&fp),
        summary: short(&format!("{v:?}"), 160),
    }
}

// ---------------------------------------------------------------------------------------
// Sources: the fixtures, and files we write
// ---------------------------------------------------------------------------------------

/// A typed read of the first group of a file.
type Loader = fn(&Path) -> anam::Result<Loaded>;

fn typed<T: DeserializeOwned + Serialize + Debug>(path: &Path) -> anam::Result<Loaded> {
    anam::from_file::<T>(path, None).map(|v| loaded(&v))
}

enum Origin {
    /// A file of `tests/fixtures/anamnesis-1.0.4`.
    Fixture(&'static str),
    /// A file this test writes with the crate (`to_file(path, group, value)`).
    Own(fn(&Path) -> anam::Result<()>),
}

struct SourceDef {
    name: &'static str,
    origin: Origin,
    /// The typed read, with the type's name.
    typed: Option<(&'static str, Loader)>,
}

macro_rules! fixture {
    ($file:literal, $t:ty) => {
        SourceDef {
            name: $file,
            origin: Origin::Fixture($file),
            typed: Some((stringify!($t), typed::<$t>)),
        }
    };
}

macro_rules! own {
    ($name:literal, $group:literal, $value:expr, $t:ty) => {
        SourceDef {
            name: $name,
            origin: Origin::Own(|p| anam::to_file(p, $group, &$value)),
            typed: Some((stringify!($t), typed::<$t>)),
        }
    };
}

/// Every source, in a fixed order (a mutant's source is `index % sources().len()`).
fn sources() -> Vec<SourceDef> {
    vec![
        // The first group of each fixture (in name order) read as its mirror type.
        fixture!("arrays.hdf5", common::ArrayHolder),
        fixture!("badclass.hdf5", MissingClass),
        fixture!("containers.hdf5", common::ExampleWriter), // `dicts`
        fixture!("namemap.hdf5", common::NameMapped),
        fixture!("nested.hdf5", common::Parent),
        fixture!("oldlist.hdf5", common::OldListHolder),
        fixture!("scalars.hdf5", common::Scalars),
        fixture!("tutorial1.hdf5", common::SimplePerson),
        fixture!("tutorial2.hdf5", common::ComplexPerson), // `person`
        fixture!("tutorial2_aliases.hdf5", common::ComplexPerson),
        fixture!("tutorial2_extradata.hdf5", common::ComplexPersonWithExtra),
        fixture!("tutorial3.hdf5", common::StatsCollection),
        fixture!("tutorial4.hdf5", common::AirportStore),
        own!("own/scalars", "scalars", own_scalars(), OwnScalars),
        own!("own/strings", "strings", own_strings(), OwnStrings),
        own!("own/lists", "lists", own_lists(), OwnLists),
        own!("own/dicts", "dicts", own_dicts(), OwnDicts),
        own!("own/arrays", "arrays", own_arrays(), common::ArrayHolder),
        own!("own/nested", "lab", samples::lab(), samples::Lab),
        own!(
            "own/namemaps",
            "mapped",
            data_model::mapped(),
            data_model::Mapped
        ),
        own!(
            "own/big_dict",
            "big",
            own_big_dict(),
            BTreeMap<i64, String>
        ),
        SourceDef {
            // A Value with name maps, legacy lists, nested objects and an array; its
            // typed read would be the Value read, and its class is not registered.
            name: "own/value",
            origin: Origin::Own(|p| {
                anam::to_file(p, "rich", &Value::Object(data_model::rich_object()))
            }),
            typed: None,
        },
    ]
}

// ---------------------------------------------------------------------------------------
// Loads
// ---------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Kind {
    /// `from_file::<Value>(path, None)`.
    Value,
    /// `from_file::<T>(path, None)` with the source's type.
    Typed,
    /// `obj_from_file(path, None)`.
    Obj,
}

const KINDS: [Kind; 3] = [Kind::Value, Kind::Typed, Kind::Obj];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Value => "value",
            Kind::Typed => "typed",
            Kind::Obj => "obj",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        KINDS.into_iter().find(|k| k.name() == s)
    }
}

fn load(kind: Kind, src: &SourceDef, path: &Path) -> anam::Result<Loaded> {
    match kind {
        Kind::Value => {
            anam::from_file::<Value>(path, None).map(|v| loaded(&data_model::canonical(&v)))
        }
        Kind::Typed => (src.typed.expect("a typed read").1)(path),
        Kind::Obj => anam::obj_from_file(path, None).map(|o| {
            let mut l = loaded(&*o);
            if let Ok(v) = anam::to_value(&*o) {
                l.summary = short(&format!("{v:?}"), 160);
            }
            l
        }),
    }
}

fn kinds_of(src: &SourceDef) -> Vec<Kind> {
    KINDS
        .into_iter()
        .filter(|&k| k != Kind::Typed || src.typed.is_some())
        .collect()
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "<non-string panic>".into())
}

// ---------------------------------------------------------------------------------------
// The child process
// ---------------------------------------------------------------------------------------

const CHILD_FILE: &str = "ANAM_CORRUPT_CHILD_FILE";
const CHILD_SOURCE: &str = "ANAM_CORRUPT_CHILD_SOURCE";
const CHILD_KINDS: &str = "ANAM_CORRUPT_CHILD_KINDS";
const CHILD_MEM: &str = "ANAM_CORRUPT_CHILD_MEM_MIB";
const CHILD_TEST: &str = "child_loads_one_mutant";

/// Caps the address space (a huge allocation fails instead of swapping) and disables core
/// dumps.
fn limit_child(mem_mib: u64) {
    let set = |resource, value: u64| {
        let lim = libc::rlimit {
            rlim_cur: value as libc::rlim_t,
            rlim_max: value as libc::rlim_t,
        };
        // SAFETY: setrlimit reads the struct it is given, which lives across the call.
        let rc = unsafe { libc::setrlimit(resource, &lim) };
        assert_eq!(rc, 0, "setrlimit failed");
    };
    set(libc::RLIMIT_CORE, 0);
    if mem_mib > 0 {
        set(libc::RLIMIT_AS, mem_mib << 20);
    }
}

/// The child: loads one file in the ways `ANAM_CORRUPT_CHILD_KINDS` lists, printing one
/// `@@start` line before and one `@@ok`/`@@err`/`@@panic` line after each load (stdout;
/// `@@start` on stderr too, where HDF5 prints its error stacks), then `@@done`.
#[test]
#[ignore = "child process of corrupt_files_load_without_crashing (does nothing on its own)"]
fn child_loads_one_mutant() {
    let Some(file) = std::env::var_os(CHILD_FILE) else {
        return;
    };
    let path = PathBuf::from(file);
    let source = std::env::var(CHILD_SOURCE).expect("the source name");
    let mem: u64 = std::env::var(CHILD_MEM).map_or(0, |v| v.parse().expect("MiB"));
    limit_child(mem);
    // HDF5 prints each error stack to stderr: a checksum failure deep in the stack shows
    // there even where the crate's message gives only the outermost reason.
    hdf5::silence_errors(false);
    let srcs = sources();
    let src = srcs
        .iter()
        .find(|s| s.name == source)
        .expect("a known source");
    let kinds = std::env::var(CHILD_KINDS).expect("the kinds");
    let mut out = std::io::stdout();
    for kind in kinds.split(',').map(|k| Kind::parse(k).expect("a kind")) {
        let k = kind.name();
        writeln!(out, "@@start {k}").unwrap();
        out.flush().unwrap();
        eprintln!("@@start {k}");
        let line = match catch_unwind(AssertUnwindSafe(|| load(kind, src, &path))) {
            Ok(Ok(l)) => format!("@@ok {k} {:016x} {}", l.hash, l.summary),
            Ok(Err(e)) => format!("@@err {k} {}", short(&e.to_string(), 400)),
            Err(p) => format!("@@panic {k} {}", short(&panic_message(&*p), 400)),
        };
        writeln!(out, "{line}").unwrap();
        out.flush().unwrap();
    }
    writeln!(out, "@@done").unwrap();
    out.flush().unwrap();
}

// ---------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------

const DEFAULT_SEED: u64 = 0x00A7_A3C0_2202_5001;
const DEFAULT_MUTANTS: usize = 2400;

struct Config {
    seed: u64,
    /// Run this many mutants (indices 0..n) ...
    mutants: usize,
    /// ... or as many as fit in this time.
    seconds: Option<f64>,
    /// Only these mutant indices (reproducing): their files are kept.
    only: Option<Vec<usize>>,
    timeout: Duration,
    mem_mib: u64,
    jobs: usize,
    /// Attach gdb to a child that timed out, for its stack.
    gdb: bool,
    /// Look (with gdb) at a load still running after this long: one in an explained hang
    /// is recorded as that hang without waiting for the full limit.
    early: Option<Duration>,
    /// A stack for every crash and hang (else for the first of each mutant).
    all_stacks: bool,
    /// Keep the file of every mutant with an outcome worth a look here.
    keep: Option<PathBuf>,
}

fn env_parse<T: std::str::FromStr>(name: &str) -> Option<T> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    Some(
        v.parse()
            .unwrap_or_else(|_| panic!("{name}={v} does not parse")),
    )
}

fn parse_seed(s: &str) -> u64 {
    let s = s.trim();
    let r = match s.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
        None => s.replace('_', "").parse(),
    };
    r.unwrap_or_else(|_| panic!("ANAM_CORRUPT_SEED={s} is not a number"))
}

impl Config {
    fn from_env() -> Config {
        let seed = match std::env::var("ANAM_CORRUPT_SEED").as_deref() {
            Ok("random") => {
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap();
                splitmix(t.as_nanos() as u64 ^ u64::from(std::process::id()))
            }
            Ok(s) if !s.trim().is_empty() => parse_seed(s),
            _ => DEFAULT_SEED,
        };
        let only = std::env::var("ANAM_CORRUPT_ONLY").ok().map(|v| {
            v.split(',')
                .map(|i| i.trim().parse().expect("ANAM_CORRUPT_ONLY: mutant indices"))
                .collect()
        });
        let gdb = match std::env::var("ANAM_CORRUPT_GDB").as_deref() {
            Ok("0") => false,
            _ => have_gdb(),
        };
        let early: f64 = env_parse("ANAM_CORRUPT_EARLY_HANG").unwrap_or(0.5);
        let all_stacks =
            only.is_some() || std::env::var("ANAM_CORRUPT_STACKS").is_ok_and(|v| v == "all");
        Config {
            all_stacks,
            seed,
            mutants: env_parse("ANAM_CORRUPT_MUTANTS").unwrap_or(DEFAULT_MUTANTS),
            seconds: env_parse("ANAM_CORRUPT_SECONDS"),
            only,
            timeout: Duration::from_secs_f64(env_parse("ANAM_CORRUPT_TIMEOUT").unwrap_or(10.0)),
            mem_mib: env_parse("ANAM_CORRUPT_MEM_MIB").unwrap_or(1536),
            jobs: env_parse("ANAM_CORRUPT_JOBS").unwrap_or(2),
            gdb,
            early: (early > 0.0).then(|| Duration::from_secs_f64(early)),

            keep: std::env::var_os("ANAM_CORRUPT_KEEP").map(PathBuf::from),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64: small, seedable, the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        splitmix(self.0)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + self.below(hi - lo + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn nonzero_byte(&mut self) -> u8 {
        1 + self.below(255) as u8
    }
}

/// Where metadata lives in these small files: superblock, root group, first object headers.
const META: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum MutKind {
    /// One byte XORed anywhere.
    Flip1,
    /// One byte XORed in the first 4 KiB.
    Flip1Meta,
    /// One bit flipped anywhere.
    BitFlip,
    /// 2 to 8 bytes XORed (mostly in the first 4 KiB).
    FlipMany,
    /// The file cut short.
    Truncate,
    /// A run of 1 to 256 bytes zeroed.
    Zero,
    /// A run of 4 to 256 bytes copied over another place of the file.
    Copy,
}

impl MutKind {
    fn name(self) -> &'static str {
        match self {
            MutKind::Flip1 => "flip1",
            MutKind::Flip1Meta => "flip1-meta",
            MutKind::BitFlip => "bitflip",
            MutKind::FlipMany => "flip-many",
            MutKind::Truncate => "truncate",
            MutKind::Zero => "zero-run",
            MutKind::Copy => "copy-run",
        }
    }
}

struct Mutant {
    source: usize,
    kind: MutKind,
    bytes: Vec<u8>,
    /// What was done, for the report.
    what: String,
    /// The byte ranges that changed (a truncation: from the new end to the old one).
    touched: Vec<(usize, usize)>,
}

/// Mutant `index` of `seed`: a function of the seed, the index and the sources' bytes only.
fn mutate(seed: u64, index: usize, pristine: &[Vec<u8>]) -> Mutant {
    let source = index % pristine.len();
    let mut rng = Rng(splitmix(seed ^ splitmix(index as u64)));
    let mut bytes = pristine[source].clone();
    let len = bytes.len();
    let meta = len.min(META);
    let at = |rng: &mut Rng, in_meta: bool| {
        if in_meta {
            rng.below(meta)
        } else {
            rng.below(len)
        }
    };
    let kind = match rng.below(100) {
        0..=14 => MutKind::Flip1,
        15..=34 => MutKind::Flip1Meta,
        35..=44 => MutKind::BitFlip,
        45..=59 => MutKind::FlipMany,
        60..=69 => MutKind::Truncate,
        70..=84 => MutKind::Zero,
        _ => MutKind::Copy,
    };
    let mut touched = Vec::new();
    let mut what = String::new();
    match kind {
        MutKind::Flip1 | MutKind::Flip1Meta | MutKind::FlipMany => {
            let n = if kind == MutKind::FlipMany {
                rng.range(2, 8)
            } else {
                1
            };
            for _ in 0..n {
                let in_meta = match kind {
                    MutKind::Flip1 => false,
                    MutKind::Flip1Meta => true,
                    _ => rng.chance(70),
                };
                let o = at(&mut rng, in_meta);
                let x = rng.nonzero_byte();
                bytes[o] ^= x;
                touched.push((o, o + 1));
                let _ = write!(
                    what,
                    "{}0x{o:x}^0x{x:02x}",
                    if what.is_empty() { "" } else { " " }
                );
            }
        }
        MutKind::BitFlip => {
            let o = at(&mut rng, false);
            let bit = rng.below(8);
            bytes[o] ^= 1 << bit;
            touched.push((o, o + 1));
            what = format!("0x{o:x} bit {bit}");
        }
        MutKind::Truncate => {
            let new_len = if rng.chance(50) {
                rng.below(meta)
            } else {
                rng.below(len)
            };
            bytes.truncate(new_len);
            touched.push((new_len, len));
            what = format!("to {new_len} of {len} bytes");
        }
        MutKind::Zero => {
            let n = if rng.chance(50) {
                rng.range(1, 16)
            } else {
                rng.range(17, 256)
            };
            let in_meta = rng.chance(70);
            let o = at(&mut rng, in_meta);
            let end = (o + n).min(len);
            bytes[o..end].fill(0);
            touched.push((o, end));
            what = format!("0x{o:x}..0x{end:x}");
        }
        MutKind::Copy => {
            let n = rng.range(4, 256).min(len);
            let from = rng.below(len - n + 1);
            let in_meta = rng.chance(70);
            let to = at(&mut rng, in_meta).min(len - n);
            bytes.copy_within(from..from + n, to);
            touched.push((to, to + n));
            what = format!("{n} bytes from 0x{from:x} to 0x{to:x}");
        }
    }
    // The bytes that really changed: a run zeroed over zeros, or copied over its equal,
    // changes nothing.
    if kind != MutKind::Truncate {
        touched = changed_ranges(&pristine[source], &bytes);
        if touched.is_empty() {
            what.push_str(NO_CHANGE);
        }
    }
    Mutant {
        source,
        kind,
        bytes,
        what,
        touched,
    }
}

const NO_CHANGE: &str = " (no byte changed)";

/// The ranges where `b` differs from `a` (of the same length).
fn changed_ranges(a: &[u8], b: &[u8]) -> Vec<(usize, usize)> {
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for i in (0..a.len()).filter(|&i| a[i] != b[i]) {
        match ranges.last_mut() {
            Some(r) if r.1 == i => r.1 = i + 1,
            _ => ranges.push((i, i + 1)),
        }
    }
    ranges
}

// ---------------------------------------------------------------------------------------
// Where a byte is: a map of a file's HDF5 structures
// ---------------------------------------------------------------------------------------

/// The structure a byte of a file belongs to, as far as a scan of the pristine file for
/// HDF5 signatures and the datasets' storage (through the API) can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Region {
    /// Superblock version 2/3 (checksummed; the 1.8 format).
    SuperblockV2,
    /// Superblock version 0/1 (no checksum; h5py's default).
    SuperblockV0,
    /// Object header version 2, `OHDR` (checksummed).
    ObjectHeaderV2,
    /// Object header continuation block, `OCHK` (checksummed).
    Continuation,
    /// Fractal heap header or indirect block, `FRHP`/`FHIB` (checksummed).
    FractalHeap,
    /// Fractal heap direct block, `FHDB`: checksummed when its heap says so (`true`).
    FractalHeapDirect(bool),
    /// Version-2 B-tree header or node, `BTHD`/`BTIN`/`BTLF` (checksummed).
    BTreeV2,
    /// Global heap collection, `GCOL` (no checksum): variable-length strings.
    GlobalHeap,
    /// Version-1 B-tree node `TREE`, local heap `HEAP`, symbol table node `SNOD`, or a
    /// version-1 object header (no signature; what follows them): the old-style
    /// structures, no checksums.
    OldStyle,
    /// Free-space manager or shared-message table (`FSHD`, `FSSE`, `SMTB`, `SMLI`).
    Other,
    /// A dataset's contiguous data (no checksum).
    RawData,
    /// Before the first signature or after the last structure.
    Unknown,
}

impl Region {
    fn name(self) -> &'static str {
        match self {
            Region::SuperblockV2 => "superblock v2",
            Region::SuperblockV0 => "superblock v0",
            Region::ObjectHeaderV2 => "object header v2 (OHDR)",
            Region::Continuation => "continuation (OCHK)",
            Region::FractalHeap => "fractal heap (FRHP/FHIB)",
            Region::FractalHeapDirect(_) => "fractal heap block (FHDB)",
            Region::BTreeV2 => "B-tree v2 (BTHD/BTIN/BTLF)",
            Region::GlobalHeap => "global heap (GCOL)",
            Region::OldStyle => "old-style (TREE/HEAP/SNOD/v1 header)",
            Region::Other => "other metadata",
            Region::RawData => "raw data",
            Region::Unknown => "unknown",
        }
    }

    fn checksummed(self) -> &'static str {
        match self {
            Region::SuperblockV2
            | Region::ObjectHeaderV2
            | Region::Continuation
            | Region::FractalHeap
            | Region::BTreeV2 => "yes",
            Region::FractalHeapDirect(true) => "yes",
            _ => "no",
        }
    }
}

struct FileMap {
    /// `(start, end, region)`, sorted by start; computed extents and signature starts.
    spans: Vec<(usize, usize, Region)>,
}

fn read_le(b: &[u8], at: usize, n: usize) -> Option<u64> {
    let s = b.get(at..at + n)?;
    Some(s.iter().rev().fold(0, |v, &x| (v << 8) | u64::from(x)))
}

impl FileMap {
    fn new(bytes: &[u8], path: &Path) -> FileMap {
        let mut spans = Vec::new();
        // The superblock.
        let sb_version = bytes.get(8).copied().unwrap_or(0);
        if sb_version >= 2 {
            spans.push((0, 48.min(bytes.len()), Region::SuperblockV2));
        } else {
            spans.push((0, 96.min(bytes.len()), Region::SuperblockV0));
        }
        // Signatures, with their extent where the structure states it.
        let sigs: [(&[u8; 4], Region); 14] = [
            (b"OHDR", Region::ObjectHeaderV2),
            (b"OCHK", Region::Continuation),
            (b"FRHP", Region::FractalHeap),
            (b"FHIB", Region::FractalHeap),
            (b"FHDB", Region::FractalHeapDirect(false)),
            (b"BTHD", Region::BTreeV2),
            (b"BTIN", Region::BTreeV2),
            (b"BTLF", Region::BTreeV2),
            (b"GCOL", Region::GlobalHeap),
            (b"TREE", Region::OldStyle),
            (b"HEAP", Region::OldStyle),
            (b"SNOD", Region::OldStyle),
            (b"FSHD", Region::Other),
            (b"SMTB", Region::Other),
        ];
        for at in 0..bytes.len().saturating_sub(4) {
            let Some(&(_, mut region)) = sigs.iter().find(|(s, _)| &bytes[at..at + 4] == *s) else {
                continue;
            };
            if let Region::FractalHeapDirect(_) = region {
                // The heap header's flags, bit 1: "checksum direct blocks".
                let heap = read_le(bytes, at + 5, 8).unwrap_or(0) as usize;
                let flags = bytes.get(heap + 9).copied().unwrap_or(0);
                let is_heap = bytes.get(heap..heap + 4) == Some(b"FRHP".as_slice());
                region = Region::FractalHeapDirect(is_heap && flags & 2 != 0);
            }
            let end = match region {
                Region::ObjectHeaderV2 => {
                    let flags = bytes.get(at + 5).copied().unwrap_or(0);
                    let mut p = at + 6;
                    if flags & 0x20 != 0 {
                        p += 16;
                    }
                    if flags & 0x10 != 0 {
                        p += 4;
                    }
                    let n = 1usize << (flags & 3);
                    read_le(bytes, p, n).map(|size| p + n + size as usize + 4)
                }
                Region::GlobalHeap => read_le(bytes, at + 8, 8).map(|size| at + size as usize),
                _ => None,
            };
            // Without a stated extent: up to the next structure (below).
            spans.push((at, end.unwrap_or(0).min(bytes.len()), region));
        }
        // Datasets' contiguous storage.
        if let Ok(file) = hdf5::File::open(path) {
            let mut todo = vec![file.as_group().expect("the root group")];
            while let Some(g) = todo.pop() {
                for ds in g.datasets().unwrap_or_default() {
                    if let Some(off) = ds.offset() {
                        let size = ds.storage_size() as usize;
                        if size > 0 {
                            spans.push((off as usize, off as usize + size, Region::RawData));
                        }
                    }
                }
                todo.extend(g.groups().unwrap_or_default());
            }
        }
        spans.sort_by_key(|&(s, e, _)| (s, e));
        // Open-ended spans run to the next span's start.
        let starts: Vec<usize> = spans.iter().map(|s| s.0).collect();
        for (i, span) in spans.iter_mut().enumerate() {
            if span.1 == 0 {
                span.1 = starts.get(i + 1).copied().unwrap_or(bytes.len());
            }
        }
        FileMap { spans }
    }

    fn region_of(&self, offset: usize) -> Region {
        // Raw data first (exact extents), then the innermost (latest-starting) structure.
        if let Some(&(_, _, r)) = self
            .spans
            .iter()
            .find(|&&(s, e, r)| r == Region::RawData && s <= offset && offset < e)
        {
            return r;
        }
        self.spans
            .iter()
            .rev()
            .find(|&&(s, e, _)| s <= offset && offset < e)
            .map_or(Region::Unknown, |&(_, _, r)| r)
    }

    /// The one region all changed bytes are in, or `None` (several, or a truncation).
    fn region_of_mutant(&self, m: &Mutant) -> Option<Region> {
        if m.kind == MutKind::Truncate {
            return None;
        }
        let mut regions = m
            .touched
            .iter()
            .flat_map(|&(s, e)| (s..e).map(|o| self.region_of(o)));
        let first = regions.next()?;
        regions.all(|r| r == first).then_some(first)
    }
}

// ---------------------------------------------------------------------------------------
// Outcomes
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum Outcome {
    /// Loaded, the same value as the pristine file.
    Same,
    /// Loaded, a different value (or loaded where the pristine file is refused).
    Wrong(String),
    /// An error; `checksum`: HDF5 reported a metadata checksum mismatch.
    Err { checksum: bool, msg: String },
    /// A Rust panic, caught (a bug of ours).
    Panic(String),
    /// Killed by a signal; `note` says what stderr said (glibc, Rust); `stack`: the load
    /// run again under gdb, if available.
    Signal {
        sig: i32,
        note: String,
        stack: Option<String>,
    },
    /// A Rust allocation failed under the memory limit ("memory allocation of N bytes
    /// failed", then abort): ours.
    Oom(String),
    /// Still running after the time limit (or, `early`, found in an explained hang after
    /// `ANAM_CORRUPT_EARLY_HANG` seconds); the stack if gdb could take it, and which of the
    /// explained hangs it is.
    Timeout {
        stack: Option<String>,
        explained: Option<&'static str>,
        early: bool,
    },
    /// Exited with a status (not a signal) before reporting.
    Exit(i32),
}

impl Outcome {
    fn column(&self) -> usize {
        match self {
            Outcome::Same => 0,
            Outcome::Wrong(_) => 1,
            Outcome::Err {
                checksum: false, ..
            } => 2,
            Outcome::Err { checksum: true, .. } => 3,
            Outcome::Panic(_) => 4,
            Outcome::Signal { note, .. } if hdf5_assertion(note).is_some() => 6,
            Outcome::Signal { .. } | Outcome::Exit(_) => 5,
            Outcome::Oom(_) => 7,
            Outcome::Timeout { .. } => 8,
        }
    }
}

/// The outcome columns of the report; `h5assert`: a signal that is an `assert()` of HDF5
/// failing (SIGABRT), counted apart from the other signals.
const COLUMNS: [&str; 9] = [
    "ok-same", "ok-wrong", "err", "err-csum", "panic", "signal", "h5assert", "oom", "timeout",
];

fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGSEGV => "SIGSEGV".into(),
        libc::SIGABRT => "SIGABRT".into(),
        libc::SIGBUS => "SIGBUS".into(),
        libc::SIGFPE => "SIGFPE".into(),
        libc::SIGILL => "SIGILL".into(),
        libc::SIGKILL => "SIGKILL".into(),
        libc::SIGTRAP => "SIGTRAP".into(),
        s => format!("signal {s}"),
    }
}

/// A load's result as the child printed it.
enum Reported {
    Ok(u64, String),
    Err(String),
    Panic(String),
}

struct Baseline {
    /// Per kind: the hash of the value the pristine file loads as, or its error.
    loads: BTreeMap<Kind, Result<u64, String>>,
}

// ---------------------------------------------------------------------------------------
// Running a child
// ---------------------------------------------------------------------------------------

enum Ended {
    Exited(i32),
    Signalled(i32),
    /// `early`: stopped before the limit, in an explained hang.
    TimedOut {
        stack: Option<String>,
        early: bool,
    },
}

struct ChildRun {
    ended: Ended,
    stdout: String,
    stderr: String,
}

/// Adds to `cmd`, which runs this test binary, the arguments and environment that make it
/// the child: the loads `kinds` of `file` (a mutant of `source`) within `mem_mib` MiB; no
/// stdin.
fn child_test<'c>(
    cmd: &'c mut Command,
    file: &Path,
    source: &str,
    kinds: &[Kind],
    mem_mib: u64,
) -> &'c mut Command {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    cmd.args([
        "--ignored",
        "--exact",
        CHILD_TEST,
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_FILE, file)
    .env(CHILD_SOURCE, source)
    .env(CHILD_KINDS, kinds.join(","))
    .env(CHILD_MEM, mem_mib.to_string())
    .stdin(Stdio::null())
}

/// The stack where the last of the loads `kinds` of `file` crashes, run again under gdb
/// (the loads before it too: a load can crash on heap damage an earlier, failed one left).
fn gdb_crash_stack(
    exe: &Path,
    file: &Path,
    source: &str,
    kinds: &[Kind],
    mem_mib: u64,
) -> Option<String> {
    let mut gdb = Command::new("timeout");
    gdb.args([
        "-s", "KILL", "120", "gdb", "-nx", "-batch", "-ex", "run", "-ex", "bt 60",
    ])
    .arg("--args")
    .arg(exe);
    let out = child_test(&mut gdb, file, source, kinds, mem_mib)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let at = text.find("received signal")?;
    let frames: Vec<&str> = text[at..].lines().filter(|l| l.starts_with('#')).collect();
    (!frames.is_empty()).then(|| frames.join("\n"))
}

/// The frames of a gdb backtrace: (function, library).
fn frames(stack: &str) -> Vec<(String, String)> {
    stack
        .lines()
        .filter(|l| l.starts_with('#'))
        .map(|line| {
            let body = line.split_once(' ').map_or("", |x| x.1).trim_start();
            // "0x... in NAME (ARGS) from LIB" or "NAME (ARGS) at FILE"
            let body = match body.split_once(" in ") {
                Some((addr, rest)) if addr.starts_with("0x") => rest,
                _ => body,
            };
            let name = body.split(" (").next().unwrap_or(body).trim().to_string();
            let lib = body
                .rsplit_once(" from ")
                .map_or(String::new(), |x| x.1.to_string());
            (name, lib)
        })
        .collect()
}

/// Where a crash happened: the innermost frame outside the C library, and whether it is
/// in our code (this crate, hdf5-metno, this test) rather than in libhdf5.
fn crash_site(stack: &str) -> (String, bool) {
    let frames = frames(stack);
    for (i, (name, lib)) in frames.iter().enumerate() {
        if name.starts_with("H5") || lib.contains("hdf5") {
            // A static function has no name in a stripped library: name its caller.
            let caller = frames[i..]
                .iter()
                .find(|(n, _)| n != "??")
                .map_or("?", |(n, _)| n.as_str());
            let site = if name == "??" {
                format!("libhdf5: a static function called by {caller}")
            } else {
                format!("libhdf5: {name}")
            };
            return (site, false);
        }
        if name.contains("anam::") || name.contains("hdf5_metno") || name.contains("corrupt_files")
        {
            return (format!("ours: {name}"), true);
        }
    }
    // Neither libhdf5 nor our code on the stack (the C library, Rust's runtime): the
    // innermost frame.
    let first = frames.first().map_or("?", |(n, _)| n.as_str());
    (format!("elsewhere: {first}"), false)
}

/// The function of HDF5 whose `assert()` failed, if `note` (the child's last words) is
/// such a failure: HDF5 built without `NDEBUG` (a debug build, as the `bundled` feature
/// makes in Cargo's dev profile) checks its own invariants, and some of them do not hold
/// for corrupt files.
fn hdf5_assertion(note: &str) -> Option<&str> {
    // "<hdf5 source>/src/H5Aint.c:1976: H5A__attr_release_table: Assertion `...' failed."
    let (place, rest) = note.split_once(": ")?;
    let (function, _) = rest.split_once(": Assertion `")?;
    let file = place.rsplit('/').next()?;
    (file.starts_with("H5") && place.contains("hdf5")).then_some(function)
}

/// The stack of every thread of process `pid`, by gdb (None if gdb is missing or fails).
fn gdb_stack(pid: u32) -> Option<String> {
    let out = Command::new("timeout")
        .args(["-s", "KILL", "120", "gdb", "-nx", "-batch", "-p"])
        .arg(pid.to_string())
        .args(["-ex", "thread apply all bt 60"])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let frames: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with('#') || l.starts_with("Thread "))
        .collect();
    (!frames.is_empty()).then(|| frames.join("\n"))
}

fn run_child(
    exe: &Path,
    file: &Path,
    source: &str,
    kinds: &[Kind],
    cfg: &Config,
    bytes: &[u8],
    gdb: bool,
) -> ChildRun {
    // The child's output goes to files beside the mutant (pipes could fill up).
    let out_path = file.with_extension("out");
    let err_path = file.with_extension("err");
    let stdout = std::fs::File::create(&out_path).expect("child stdout file");
    let stderr = std::fs::File::create(&err_path).expect("child stderr file");
    let mut child = child_test(&mut Command::new(exe), file, source, kinds, cfg.mem_mib)
        .env("RUST_BACKTRACE", "0")
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .expect("starting the child");
    // The limit is per load: `start` moves to the time the child starts each load (its
    // `@@start` lines), and past the time gdb held the child still.
    let mut start = Instant::now();
    let mut loads_started = 0;
    let mut polled = Instant::now();
    let early = cfg.early;
    let mut checked = false;
    let ended = loop {
        if polled.elapsed() > Duration::from_millis(20) {
            polled = Instant::now();
            let out = std::fs::read(&out_path).unwrap_or_default();
            let n = out.windows(8).filter(|w| w == b"@@start ").count();
            if n > loads_started {
                loads_started = n;
                start = Instant::now();
                checked = false;
            }
        }
        match child.try_wait().expect("waiting for the child") {
            Some(status) => {
                use std::os::unix::process::ExitStatusExt;
                break match status.signal() {
                    Some(sig) => Ended::Signalled(sig),
                    None => Ended::Exited(status.code().unwrap_or(-1)),
                };
            }
            None if start.elapsed() > cfg.timeout => {
                let stack = if gdb { gdb_stack(child.id()) } else { None };
                let _ = child.kill();
                let _ = child.wait();
                break Ended::TimedOut {
                    stack,
                    early: false,
                };
            }
            None if !checked && early.is_some_and(|t| start.elapsed() > t) => {
                // A load still running after `early`: if gdb finds it in an explained
                // hang, it is that hang; otherwise it gets the full limit.
                checked = true;
                let looked = Instant::now();
                let stack = if gdb { gdb_stack(child.id()) } else { None };
                if explained_hang(stack.as_deref(), bytes).is_some() {
                    let _ = child.kill();
                    let _ = child.wait();
                    break Ended::TimedOut { stack, early: true };
                }
                start += looked.elapsed();
            }
            None => std::thread::sleep(Duration::from_millis(3)),
        }
    };
    let read = |p: &Path| {
        let b = std::fs::read(p).unwrap_or_default();
        let _ = std::fs::remove_file(p);
        String::from_utf8_lossy(&b).into_owned()
    };
    ChildRun {
        ended,
        stdout: read(&out_path),
        stderr: read(&err_path),
    }
}

/// The part of the child's stderr that belongs to the load of `kind`.
fn stderr_of(stderr: &str, kind: Kind) -> &str {
    let marker = format!("@@start {}\n", kind.name());
    let Some(at) = stderr.find(&marker) else {
        return "";
    };
    let rest = &stderr[at + marker.len()..];
    rest.find("@@start ").map_or(rest, |end| &rest[..end])
}

/// Whether HDF5 refused a load for a metadata checksum mismatch: the innermost frame of
/// one of the error stacks HDF5 printed (`stderr`: the part of this load) says so. Only the
/// innermost frame: HDF5 1.10 also reports "incorrect metadata checksum after all read
/// attempts" for a structure that cannot be decoded (a bad version number, say), with the
/// real reason in a frame below it. Without stacks, the error message decides.
fn is_checksum(stderr: &str, msg: &str) -> bool {
    let stacks: Vec<&str> = stderr.split("HDF5-DIAG:").skip(1).collect();
    if stacks.is_empty() {
        return msg.contains("checksum");
    }
    stacks.iter().any(|stack| {
        stack
            .lines()
            .rfind(|l| l.trim_start().starts_with('#'))
            .is_some_and(|innermost| innermost.contains("checksum"))
    })
}

/// Loads mutant `m` every way its source allows: one child runs the loads in turn; when
/// one crashes or hangs, a new child runs the loads after it.
fn run_mutant(
    exe: &Path,
    file: &Path,
    src: &SourceDef,
    base: &Baseline,
    cfg: &Config,
    bytes: &[u8],
) -> BTreeMap<Kind, Outcome> {
    let mut outcomes = BTreeMap::new();
    let mut todo = kinds_of(src);
    // Stacks (gdb) for the first crash or hang of the mutant, or for all of them.
    let mut gdb = cfg.gdb;
    while !todo.is_empty() {
        let ran = todo.clone();
        let run = run_child(exe, file, src.name, &todo, cfg, bytes, gdb);
        let mut reported: BTreeMap<Kind, Reported> = BTreeMap::new();
        let mut started = None;
        let mut done = false;
        // libtest prints `test child_... ... ` before the first line of the child.
        for line in run
            .stdout
            .lines()
            .filter_map(|l| l.find("@@").map(|i| &l[i..]))
        {
            let mut parts = line.splitn(3, ' ');
            let tag = parts.next().unwrap_or("");
            let kind = parts.next().and_then(Kind::parse);
            let rest = parts.next().unwrap_or("").to_string();
            match (tag, kind) {
                ("@@start", Some(k)) => started = Some(k),
                ("@@ok", Some(k)) => {
                    let (hash, summary) = rest.split_once(' ').unwrap_or((&rest, ""));
                    let hash = u64::from_str_radix(hash, 16).expect("a hash");
                    reported.insert(k, Reported::Ok(hash, summary.to_string()));
                }
                ("@@err", Some(k)) => {
                    reported.insert(k, Reported::Err(rest));
                }
                ("@@panic", Some(k)) => {
                    reported.insert(k, Reported::Panic(rest));
                }
                ("@@done", _) => done = true,
                _ => {}
            }
        }
        for (k, r) in reported {
            let o = match r {
                Reported::Ok(h, summary) => match base.loads[&k] {
                    Ok(b) if b == h => Outcome::Same,
                    _ => Outcome::Wrong(summary),
                },
                Reported::Err(msg) => Outcome::Err {
                    checksum: is_checksum(stderr_of(&run.stderr, k), &msg),
                    msg: msg.replace(&*file.to_string_lossy(), "<file>"),
                },
                Reported::Panic(msg) => Outcome::Panic(msg),
            };
            outcomes.insert(k, o);
        }
        todo.retain(|k| !outcomes.contains_key(k));
        if done || todo.is_empty() {
            assert!(
                todo.is_empty(),
                "child finished without reporting {todo:?}: {}",
                run.stdout
            );
            break;
        }
        // The load in progress crashed or hung (or the child died before starting one).
        let Some(k) = started.filter(|k| todo.contains(k)) else {
            panic!(
                "the child ended before loading anything: stdout {}\nstderr {}",
                run.stdout,
                short(&run.stderr, 2000)
            );
        };
        let ran_k = ran.iter().position(|&x| x == k).expect("a kind of the run");
        let err = stderr_of(&run.stderr, k);
        let note = err
            .lines()
            .rev()
            .find(|l| {
                l.contains("memory allocation of")
                    || l.contains("overflowed its stack")
                    || l.contains("free()")
                    || l.contains("malloc")
                    || l.contains("corrupted")
                    || l.contains("double free")
                    || l.contains("munmap_chunk")
                    || l.contains("invalid pointer")
                    || l.contains("invalid size")
                    || l.contains("Assertion `")
            })
            .unwrap_or("")
            .trim();
        // "<program>: <file>:<line>: <function>: Assertion `...' failed."
        let note = match note.find(": ") {
            Some(i) if note.contains("Assertion `") => &note[i + 2..],
            _ => note,
        }
        .to_string();
        let o = match run.ended {
            Ended::TimedOut { stack, early } => Outcome::Timeout {
                explained: explained_hang(stack.as_deref(), bytes),
                stack,
                early,
            },
            Ended::Signalled(libc::SIGABRT) if note.contains("memory allocation of") => {
                Outcome::Oom(note)
            }
            Ended::Signalled(sig) => Outcome::Signal {
                sig,
                // An assertion of HDF5 names its place: no need for gdb.
                stack: (gdb && hdf5_assertion(&note).is_none())
                    .then(|| gdb_crash_stack(exe, file, src.name, &ran[..=ran_k], cfg.mem_mib))
                    .flatten(),
                note,
            },
            Ended::Exited(code) => Outcome::Exit(code),
        };
        outcomes.insert(k, o);
        todo.retain(|&x| x != k);
        gdb &= cfg.all_stacks;
    }
    outcomes
}

// ---------------------------------------------------------------------------------------
// Explained hangs
// ---------------------------------------------------------------------------------------

/// Whether gdb can be run.
fn have_gdb() -> bool {
    Command::new("gdb")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Hang 1 (see the crate doc): the offset of a global heap collection of `bytes` whose
/// objects HDF5 parses forever. `H5HG__cache_heap_deserialize` walks the objects of a
/// collection, each a 16-byte header (heap index u16, reference count u16, 4 reserved
/// bytes, size u64) and its data, and advances by `16 + align8(size)` for an object of
/// index > 0 but by `size` for index 0 (the free space, whose size includes its header):
/// an object header of index 0 and size 0 (zeroed bytes, or a header read out of step)
/// does not advance, and the loop never ends. A collection that runs past the end of a
/// truncated file reads as zeros there (the sec2 driver), with the same effect.
fn global_heap_that_spins(bytes: &[u8]) -> Option<usize> {
    const HDR: usize = 16; // "GCOL", version, 3 reserved, collection size (8)
    const OBJ: usize = 16;
    let byte = |i: usize| bytes.get(i).copied().unwrap_or(0); // zeros past the end
    let u16_at = |i: usize| u16::from(byte(i)) | u16::from(byte(i + 1)) << 8;
    let u64_at = |i: usize| {
        (0..8)
            .rev()
            .fold(0u64, |v, k| (v << 8) | u64::from(byte(i + k)))
    };
    (0..bytes.len().saturating_sub(4)).find(|&at| {
        if &bytes[at..at + 4] != b"GCOL" || byte(at + 4) != 1 {
            return false;
        }
        let size = u64_at(at + 8);
        if size > 1 << 30 {
            return false; // HDF5 cannot read it (past the end of the file's allocation)
        }
        let size = size as usize;
        let mut p = HDR;
        while p < size {
            if p + OBJ > size {
                return false; // the rest is free space: the walk ends
            }
            let index = u16_at(at + p);
            let obj_size = u64_at(at + p + 8);
            // size_t arithmetic, as in C.
            let need = if index > 0 {
                (OBJ as u64).wrapping_add(obj_size.wrapping_add(7) & !7)
            } else {
                obj_size
            };
            match need {
                0 => return true,
                n if n <= (size - p) as u64 => p += n as usize,
                _ => return false, // past the end: the walk ends
            }
        }
        false
    })
}

/// The explained hang `stack` (gdb, if available) and `bytes` (the mutant) show, if any.
fn explained_hang(stack: Option<&str>, bytes: &[u8]) -> Option<&'static str> {
    let in_global_heap = stack.is_none_or(|s| s.contains("H5HG_read") || s.contains("H5HG__"));
    (in_global_heap && global_heap_that_spins(bytes).is_some()).then_some(
        "hang 1: HDF5 parses a global heap collection forever (object of index 0, size 0)",
    )
}

// ---------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------

struct Record {
    mutant: usize,
    source: usize,
    kind: MutKind,
    what: String,
    region: Option<Region>,
    outcomes: BTreeMap<Kind, Outcome>,
    /// The time its loads took (children, gdb).
    elapsed: Duration,
    /// Its file holds a global heap collection HDF5 parses forever (hang 1).
    spins: bool,
}

fn pristine_sources(dir: &Path) -> (Vec<SourceDef>, Vec<PathBuf>, Vec<Vec<u8>>) {
    let defs = sources();
    let mut paths = Vec::new();
    let mut bytes = Vec::new();
    for (i, s) in defs.iter().enumerate() {
        let path = match s.origin {
            Origin::Fixture(f) => common::fixture(f),
            Origin::Own(write) => {
                let p = dir.join(format!("source{i}.hdf5"));
                write(&p).unwrap_or_else(|e| panic!("writing {}: {e}", s.name));
                p
            }
        };
        bytes.push(std::fs::read(&path).expect("the source file"));
        paths.push(path);
    }
    (defs, paths, bytes)
}

fn version() -> (u8, u8, u8) {
    hdf5::library_version()
}

#[test]
fn corrupt_files_load_without_crashing() {
    let cfg = Config::from_env();
    let exe = std::env::current_exe().expect("the test binary");
    let dir = tempfile::tempdir().expect("a scratch directory");
    let (defs, paths, pristine) = pristine_sources(dir.path());
    let ver = version();
    let strict_signals = ver.0 >= 2;

    // What each pristine file loads as; the map of its structures.
    let mut baselines = Vec::new();
    let mut maps = Vec::new();
    for ((s, p), b) in defs.iter().zip(&paths).zip(&pristine) {
        let mut loads = BTreeMap::new();
        for k in kinds_of(s) {
            let r = catch_unwind(AssertUnwindSafe(|| load(k, s, p))).unwrap_or_else(|p| {
                panic!("{} {}: panic {}", s.name, k.name(), panic_message(&*p))
            });
            loads.insert(k, r.map(|l| l.hash).map_err(|e| e.to_string()));
        }
        baselines.push(Baseline { loads });
        maps.push(FileMap::new(b, p));
    }
    // The pristine loads that fail are those meant to: `obj_from_file` of a class nobody
    // registered.
    for (s, b) in defs.iter().zip(&baselines) {
        for (k, r) in &b.loads {
            if let Err(e) = r {
                println!("pristine {} fails as {}: {e}", s.name, k.name());
            }
        }
    }
    for (s, b) in defs.iter().zip(&baselines) {
        assert!(
            b.loads.iter().all(|(k, r)| r.is_ok() || *k == Kind::Obj)
                && (b.loads[&Kind::Obj].is_ok()
                    || ["badclass.hdf5", "own/big_dict", "own/value"].contains(&s.name)),
            "a pristine source does not load: {} {:?}",
            s.name,
            b.loads
        );
    }

    let limit = match (&cfg.only, cfg.seconds) {
        (Some(v), _) => v.len(),
        (None, Some(_)) => usize::MAX,
        (None, None) => cfg.mutants,
    };
    let keep = cfg.keep.clone().or_else(|| {
        cfg.only
            .is_some()
            .then(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("corrupt-mutants"))
    });
    if let Some(k) = &keep {
        std::fs::create_dir_all(k).expect("the directory for kept mutants");
    }
    println!(
        "corrupt files: HDF5 {}.{}.{}, seed {:#x}, {}, {} s limit per load, {} MiB address \
         space, {} children at a time, {} sources",
        ver.0,
        ver.1,
        ver.2,
        cfg.seed,
        match (&cfg.only, cfg.seconds) {
            (Some(v), _) => format!("mutants {v:?}"),
            (None, Some(s)) => format!("as many mutants as fit in {s} s"),
            (None, None) => format!("{} mutants", cfg.mutants),
        },
        cfg.timeout.as_secs_f64(),
        cfg.mem_mib,
        cfg.jobs,
        defs.len()
    );
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    let deadline = cfg.seconds.map(|s| started + Duration::from_secs_f64(s));
    let records = Mutex::new(Vec::<Record>::new());
    std::thread::scope(|scope| {
        for _ in 0..cfg.jobs.max(1) {
            scope.spawn(|| loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= limit || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                let index = cfg.only.as_ref().map_or(n, |v| v[n]);
                let m = mutate(cfg.seed, index, &pristine);
                let file = dir.path().join(format!("m{index}.hdf5"));
                std::fs::write(&file, &m.bytes).expect("writing the mutant");
                let src = &defs[m.source];
                let t0 = Instant::now();
                let outcomes =
                    run_mutant(&exe, &file, src, &baselines[m.source], &cfg, &m.bytes);
                let elapsed = t0.elapsed();
                let spins = global_heap_that_spins(&m.bytes).is_some();
                let notable = outcomes
                    .values()
                    .any(|o| !matches!(o, Outcome::Same | Outcome::Err { .. }));
                if let Some(k) = &keep {
                    if notable || cfg.only.is_some() {
                        let to = k.join(format!("mutant-{:x}-{index}.hdf5", cfg.seed));
                        std::fs::copy(&file, &to).expect("keeping the mutant");
                    }
                }
                if cfg.only.is_some() {
                    println!(
                        "mutant {index}: {} {} {}\n  run one load by hand (e.g. under gdb --args):\n  \
                         {CHILD_FILE}={} {CHILD_SOURCE}={} {CHILD_KINDS}={} {CHILD_MEM}={} \\\n    \
                         {} --ignored --exact {CHILD_TEST} --nocapture",
                        src.name,
                        m.kind.name(),
                        m.what,
                        keep.as_ref()
                            .unwrap()
                            .join(format!("mutant-{:x}-{index}.hdf5", cfg.seed))
                            .display(),
                        src.name,
                        kinds_of(src)
                            .iter()
                            .map(|k| k.name())
                            .collect::<Vec<_>>()
                            .join(","),
                        cfg.mem_mib,
                        exe.display()
                    );
                    println!(
                        "  changed bytes in: {}",
                        maps[m.source]
                            .region_of_mutant(&m)
                            .map_or("several structures, none, or a truncation", Region::name)
                    );
                    for (k, o) in &outcomes {
                        println!("  {:<5} {o:?}", k.name());
                    }
                }
                let _ = std::fs::remove_file(&file);
                let region = maps[m.source].region_of_mutant(&m);
                let mut recs = records.lock().unwrap();
                recs.push(Record {
                    mutant: index,
                    source: m.source,
                    kind: m.kind,
                    what: m.what,
                    region,
                    outcomes,
                    elapsed,
                    spins,
                });
                if recs.len() % 500 == 0 {
                    println!(
                        "  ... {} mutants in {:.0} s",
                        recs.len(),
                        started.elapsed().as_secs_f64()
                    );
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let mut records = records.into_inner().unwrap();
    records.sort_by_key(|r| r.mutant);
    let failures = report(&cfg, &defs, &records, elapsed, strict_signals);
    assert!(
        failures.is_empty(),
        "{} failure(s) (see the report above):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------------
// The report
// ---------------------------------------------------------------------------------------

/// Function names of a gdb backtrace, innermost first, of the thread that was loading.
fn compact_stack(stack: &str) -> String {
    let mut threads: Vec<String> = vec![String::new()];
    for line in stack.lines() {
        if line.starts_with("Thread ") {
            threads.push(String::new());
        } else {
            let t = threads.last_mut().unwrap();
            t.push_str(line);
            t.push('\n');
        }
    }
    let threads: Vec<Vec<(String, String)>> = threads.iter().map(|t| frames(t)).collect();
    let busy = threads
        .iter()
        .find(|t| {
            t.iter()
                .any(|(f, lib)| f.starts_with("H5") || lib.contains("hdf5") || f.contains("anam::"))
        })
        .or(threads.iter().find(|t| !t.is_empty()));
    let mut names: Vec<String> = Vec::new();
    for (name, _) in busy.into_iter().flatten() {
        let name = name.split('<').next().unwrap_or(name).to_string();
        if ["core::", "std::", "hdf5_metno::sync", "anam::h5::ffi::call"]
            .iter()
            .any(|p| name.starts_with(p))
            || names.last() == Some(&name)
        {
            continue;
        }
        names.push(name);
    }
    names.truncate(14);
    names.join(" < ")
}

fn table(title: &str, rows: &[(String, usize, [usize; 9])]) {
    println!("\n{title}");
    let w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(10);
    print!("  {:<w$} {:>7}", "", "mutants");
    for c in COLUMNS {
        print!(" {c:>8}");
    }
    println!();
    for (name, n, counts) in rows {
        print!("  {name:<w$} {n:>7}");
        for c in counts {
            print!(" {c:>8}");
        }
        println!();
    }
}

fn add(counts: &mut [usize; 9], o: &Outcome) {
    counts[o.column()] += 1;
}

/// Prints the report; returns the failures.
fn report(
    cfg: &Config,
    defs: &[SourceDef],
    records: &[Record],
    elapsed: Duration,
    strict_signals: bool,
) -> Vec<String> {
    let loads: usize = records.iter().map(|r| r.outcomes.len()).sum();
    println!(
        "\n{} mutants, {loads} loads in {:.1} s (seed {:#x})",
        records.len(),
        elapsed.as_secs_f64(),
        cfg.seed
    );

    // Where the time went.
    let mut time: BTreeMap<&str, (usize, f64)> = BTreeMap::new();
    for r in records {
        let what = if r
            .outcomes
            .values()
            .any(|o| matches!(o, Outcome::Timeout { .. }))
        {
            "with a timeout"
        } else if r.outcomes.values().any(|o| {
            matches!(
                o,
                Outcome::Signal { .. } | Outcome::Oom(_) | Outcome::Exit(_)
            )
        }) {
            "with a crash"
        } else {
            "other"
        };
        let e = time.entry(what).or_default();
        e.0 += 1;
        e.1 += r.elapsed.as_secs_f64();
    }
    let time: Vec<String> = time
        .iter()
        .map(|(k, (n, t))| format!("{n} mutants {k}: {t:.1} s"))
        .collect();
    println!(
        "Time in children (and gdb), over all workers: {}",
        time.join("; ")
    );

    // Per source.
    let mut rows = Vec::new();
    for (i, s) in defs.iter().enumerate() {
        let mut c = [0; 9];
        let mut n = 0;
        for r in records.iter().filter(|r| r.source == i) {
            n += 1;
            r.outcomes.values().for_each(|o| add(&mut c, o));
        }
        rows.push((s.name.to_string(), n, c));
    }
    table(
        "Outcomes of the loads, per source file (value + typed + obj):",
        &rows,
    );

    // Per load kind.
    let rows: Vec<_> = KINDS
        .iter()
        .map(|&k| {
            let mut c = [0; 9];
            let mut n = 0;
            for o in records.iter().filter_map(|r| r.outcomes.get(&k)) {
                n += 1;
                add(&mut c, o);
            }
            (k.name().to_string(), n, c)
        })
        .collect();
    table("Outcomes per load kind:", &rows);

    // Per mutation.
    let mut by_mut: BTreeMap<MutKind, (usize, [usize; 9])> = BTreeMap::new();
    for r in records {
        let e = by_mut.entry(r.kind).or_default();
        e.0 += 1;
        r.outcomes.values().for_each(|o| add(&mut e.1, o));
    }
    let rows: Vec<_> = by_mut
        .into_iter()
        .map(|(k, (n, c))| (k.name().to_string(), n, c))
        .collect();
    table("Outcomes per mutation (all sources):", &rows);

    // Our own files: where the changed bytes are, and what it did.
    let own = |r: &&Record| matches!(defs[r.source].origin, Origin::Own(_));
    let mut by_region: BTreeMap<String, (usize, [usize; 9])> = BTreeMap::new();
    for r in records.iter().filter(own) {
        let key = match r.region {
            Some(reg) => format!("{} [checksum: {}]", reg.name(), reg.checksummed()),
            None if r.kind == MutKind::Truncate => "truncation".to_string(),
            None if r.what.ends_with(NO_CHANGE) => "no byte changed".to_string(),
            None => "several structures".to_string(),
        };
        let e = by_region.entry(key).or_default();
        e.0 += 1;
        r.outcomes.values().for_each(|o| add(&mut e.1, o));
    }
    let rows: Vec<_> = by_region.into_iter().map(|(k, (n, c))| (k, n, c)).collect();
    table(
        "Own files (HDF5 1.8 format): loads by the structure the changed bytes are in:",
        &rows,
    );
    let own_loads: Vec<&Outcome> = records
        .iter()
        .filter(own)
        .flat_map(|r| r.outcomes.values())
        .collect();
    let wrong = own_loads
        .iter()
        .filter(|o| matches!(o, Outcome::Wrong(_)))
        .count();
    let own_mutants = records.iter().filter(own).count();
    let wrong_mutants = records
        .iter()
        .filter(own)
        .filter(|r| r.outcomes.values().any(|o| matches!(o, Outcome::Wrong(_))))
        .count();
    let errs = own_loads
        .iter()
        .filter(|o| matches!(o, Outcome::Err { .. }))
        .count();
    let csum = own_loads
        .iter()
        .filter(|o| matches!(o, Outcome::Err { checksum: true, .. }))
        .count();
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "\nOwn files: {wrong} of {} loads ({:.1}%) gave a wrong value; {wrong_mutants} of \
         {own_mutants} mutants ({:.1}%) loaded wrong at least once; {csum} of {errs} errors \
         ({:.1}%) were HDF5 checksum failures",
        own_loads.len(),
        pct(wrong, own_loads.len()),
        pct(wrong_mutants, own_mutants),
        pct(csum, errs)
    );

    // The most frequent errors, paths and numbers left out.
    let mut messages: BTreeMap<String, usize> = BTreeMap::new();
    for o in records.iter().flat_map(|r| r.outcomes.values()) {
        if let Outcome::Err { msg, .. } = o {
            let general: String = msg
                .split_once(": ")
                .filter(|(path, _)| path.starts_with('/'))
                .map_or(msg.as_str(), |x| x.1)
                .chars()
                .map(|c| if c.is_ascii_digit() { '#' } else { c })
                .collect();
            *messages.entry(short(&general, 110)).or_default() += 1;
        }
    }
    let mut messages: Vec<(String, usize)> = messages.into_iter().collect();
    messages.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    println!("\nThe most frequent errors (all loads):");
    for (m, n) in messages.iter().take(12) {
        println!("  {n:>6}  {m}");
    }

    // Hang 1 by content.
    let spinning = records.iter().filter(|r| r.spins).count();
    let hung = |r: &&Record| {
        r.outcomes
            .values()
            .any(|o| matches!(o, Outcome::Timeout { .. }))
    };
    println!(
        "\nHang 1 by content: {spinning} mutants hold a global heap collection HDF5 would parse \
         forever; {} of them timed out (the others never read it); {} mutants without one \
         timed out",
        records.iter().filter(|r| r.spins).filter(hung).count(),
        records.iter().filter(|r| !r.spins).filter(hung).count()
    );

    // Every crash, hang and panic; a few wrong values.
    let mut failures = Vec::new();
    let mut wrong_shown = 0;
    println!("\nEvents (reproduce one: ANAM_CORRUPT_SEED={:#x} ANAM_CORRUPT_ONLY=<mutant> cargo test --test corrupt_files -- --nocapture):", cfg.seed);
    for r in records {
        for (k, o) in &r.outcomes {
            let head = format!(
                "mutant {} ({}, {} {}) {}",
                r.mutant,
                defs[r.source].name,
                r.kind.name(),
                r.what,
                k.name()
            );
            match o {
                Outcome::Same | Outcome::Err { .. } => {}
                Outcome::Wrong(v) => {
                    if wrong_shown < 12 {
                        println!("  wrong value: {head}: {v}");
                        wrong_shown += 1;
                    }
                }
                Outcome::Panic(msg) => {
                    println!("  PANIC: {head}: {msg}");
                    failures.push(format!("panic: {head}: {msg}"));
                }
                Outcome::Oom(note) => {
                    println!("  OOM (ours): {head}: {note}");
                }
                Outcome::Signal { sig, note, stack } => {
                    let assertion = hdf5_assertion(note);
                    let (site, ours_by_stack) = match (stack.as_deref(), assertion) {
                        (Some(s), _) => crash_site(s),
                        (None, Some(f)) => (format!("libhdf5: assert() in {f}"), false),
                        (None, None) => ("no stack (gdb)".to_string(), false),
                    };
                    let ours = ours_by_stack || note.contains("overflowed its stack");
                    println!(
                        "  {}{}: {head}: {note} [{site}]{}",
                        signal_name(*sig),
                        if ours { " (OURS)" } else { "" },
                        stack.as_deref().map_or(String::new(), |s| format!(
                            "\n      stack: {}",
                            compact_stack(s)
                        ))
                    );
                    if (strict_signals && assertion.is_none()) || ours {
                        failures.push(format!("{}: {head}: {note}", signal_name(*sig)));
                    }
                }
                Outcome::Exit(code) => {
                    println!("  EXIT {code}: {head}");
                    failures.push(format!("exit {code}: {head}"));
                }
                Outcome::Timeout {
                    stack,
                    explained,
                    early,
                } => {
                    let compact = stack.as_deref().map(compact_stack);
                    let why = *explained;
                    println!(
                        "  timeout{}{}: {head}{}",
                        if *early { " (found early)" } else { "" },
                        why.map_or(" UNEXPLAINED".to_string(), |w| format!(" ({w})")),
                        compact.map_or(String::new(), |c| format!("\n      stack: {c}"))
                    );
                    if why.is_none() {
                        failures.push(format!("unexplained timeout: {head}"));
                    }
                }
            }
        }
    }
    failures
}
