//! The HDF5 storage choices that keep wide groups linear: files from `to_file` in the
//! HDF5 1.8 format, and every group we create tracking its attributes' creation order
//! (which gives it indexed attribute storage in a file of HDF5's earliest format too).

#[path = "common/python.rs"]
mod python;
#[path = "common/serial.rs"]
mod serial;
use serial::serial;

use std::collections::BTreeMap;
use std::path::Path;

use anam::hdf5;
use anam::hdf5::plist::group_create::AttrCreationOrder;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "storage_test.Wide")]
struct Wide {
    numbers: Vec<anam::Value>,
    table: BTreeMap<String, i64>,
}

fn wide(n: usize) -> Wide {
    Wide {
        // Mixed values: a list group with one attribute per item.
        numbers: (0..n)
            .map(|i| {
                if i % 2 == 0 {
                    anam::Value::from(i as i64)
                } else {
                    anam::Value::from(format!("item {i}"))
                }
            })
            .collect(),
        table: (0..n).map(|i| (format!("key{i:05}"), i as i64)).collect(),
    }
}

/// The version byte of the superblock, right after the 8-byte HDF5 signature (0 for the
/// earliest format, 2 or more for files that need HDF5 1.8).
fn superblock_version(path: &Path) -> u8 {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        &bytes[..8],
        b"\x89HDF\r\n\x1a\n",
        "not an HDF5 file at offset 0"
    );
    bytes[8]
}

fn tracks_attribute_order(group: &hdf5::Group) -> bool {
    let order = group.create_plist().unwrap().attr_creation_order();
    matches!(
        order,
        AttrCreationOrder::Tracked | AttrCreationOrder::Indexed
    )
}

#[test]
fn to_file_writes_the_hdf5_1_8_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wide.hdf5");
    let value = wide(50);
    anam::to_file(&path, "wide", &value).unwrap();
    assert_eq!(superblock_version(&path), 2);
    let back: Wide = anam::from_file(&path, Some("wide")).unwrap();
    assert_eq!(back, value);
}

#[test]
fn groups_written_into_an_earliest_format_file_track_attribute_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("earliest.hdf5");
    let value = wide(50);
    {
        // The user's file, in HDF5's earliest format (the default of HDF5 before 2.0, and of
        // h5py; HDF5 2.x creates the 1.8 format unless asked).
        let file = hdf5::File::with_options()
            .with_fapl(|p| p.libver_earliest())
            .create(&path)
            .unwrap();
        let group = file.create_group("wide").unwrap();
        anam::to_group(&value, &group).unwrap();
    }
    assert_eq!(superblock_version(&path), 0);
    let file = hdf5::File::open(&path).unwrap();
    let top = file.group("wide").unwrap();
    for name in ["numbers", "table", "table/dictkeys", "table/dictdata"] {
        let g = top.group(name).unwrap();
        assert!(
            tracks_attribute_order(&g),
            "{name} does not track attribute order"
        );
    }
    // The lists' items are attributes of their groups (a dict's are in its two lists).
    for name in ["numbers", "table/dictkeys", "table/dictdata"] {
        let items = top.group(name).unwrap().attr_names().unwrap().len();
        assert!(items >= 50, "{name} has {items} attributes");
    }
    let back: Wide = anam::from_group(&top).unwrap();
    assert_eq!(back, value);
}

#[test]
fn a_wide_list_reads_back_in_order_with_every_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.hdf5");
    // Past the 8 attributes of compact storage, in both layouts of the numbers.
    let value = wide(1000);
    anam::to_file(&path, "wide", &value).unwrap();
    let back: Wide = anam::from_file(&path, None).unwrap();
    assert_eq!(back.numbers.len(), 1000);
    assert_eq!(back, value);
}

/// The CPU time this thread has used (user and system), in seconds: unlike the wall clock,
/// it does not count the time other processes of a loaded machine take from us.
fn thread_cpu_seconds() -> f64 {
    // SAFETY: `usage` is a place for the answer; RUSAGE_THREAD asks about this thread.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_THREAD, &mut usage), 0);
        usage
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The thread CPU time per item of writing `value` (of `n` items) to a new file and of
/// reading it back, in microseconds.
fn per_item_times<T>(dir: &Path, n: usize, value: &T) -> (f64, f64)
where
    T: Serialize + serde::de::DeserializeOwned + PartialEq,
{
    let path = dir.join(format!("items-{n}.hdf5"));
    let start = thread_cpu_seconds();
    anam::to_file(&path, "data", value).unwrap();
    let written = thread_cpu_seconds();
    let back: T = anam::from_file(&path, None).unwrap();
    let read = thread_cpu_seconds();
    assert!(back == *value, "the {n} items did not read back");
    std::fs::remove_file(&path).unwrap();
    let per_item = |seconds: f64| seconds / n as f64 * 1e6;
    (per_item(written - start), per_item(read - written))
}

// The tests of this binary that time HDF5 work or do much of it hold `serial()`, so that
// they do not run beside each other: on the bundled build, the dict of 100,000 entries took
// 1.35-1.63x per item beside the million-item list (over the bound of 1.5x in 3 of 9 runs
// of this binary); not beside it, 1.04-1.08x in 6 of 6.
/// Writes and reads `make(small)` three times and `make(big)` once (up to three times while
/// it is over the bound), and asserts that the per-item times of the big one are under `bound`
/// times the small one's (the fastest runs, the ones least disturbed by the tests running
/// beside this one).
fn assert_linear<T>(what: &str, small: usize, big: usize, bound: f64, make: impl Fn(usize) -> T)
where
    T: Serialize + serde::de::DeserializeOwned + PartialEq,
{
    let _alone = serial();
    let dir = tempfile::tempdir().unwrap();
    let value = make(small);
    let (mut small_write, mut small_read) = (f64::MAX, f64::MAX);
    for _ in 0..3 {
        let (w, r) = per_item_times(dir.path(), small, &value);
        (small_write, small_read) = (small_write.min(w), small_read.min(r));
    }
    let big_value = make(big);
    let (mut big_write, mut big_read) = per_item_times(dir.path(), big, &big_value);
    for _ in 1..3 {
        if big_write / small_write < bound && big_read / small_read < bound {
            break;
        }
        // Measured again before failing (up to three times, as the small one), the fastest
        // kept: in CI, beside the other tests of this binary, a 100,000-entry dict took 1.55x
        // per item once and, measured twice, 1.97x another time; alone, 0.92-1.21x.
        let (w, r) = per_item_times(dir.path(), big, &big_value);
        (big_write, big_read) = (big_write.min(w), big_read.min(r));
    }
    let (write, read) = (big_write / small_write, big_read / small_read);
    eprintln!(
        "{what}, per item: {small}: write {small_write:.2} us, read {small_read:.2} us; \
         {big}: write {big_write:.2} us ({write:.2}x), read {big_read:.2} us ({read:.2}x)"
    );
    assert!(
        write < bound,
        "{what}: writing {big} items took {write:.2}x the time per item of {small}"
    );
    assert!(
        read < bound,
        "{what}: reading {big} items took {read:.2}x the time per item of {small}"
    );
}

/// Integers and strings, alternately, as `anam::Value`s.
fn scalars(n: usize) -> Vec<anam::Value> {
    (0..n)
        .map(|i| match i % 2 {
            0 => anam::Value::from(i as i64),
            _ => anam::Value::from(format!("s{i}")),
        })
        .collect()
}

/// A list is a group with one attribute per scalar item: its write and read must stay
/// linear at a million items (issue 11). Per item, 1,000,000 items against 10,000, release
/// build: 3.0x (write) and 4.5x (read) before attributes were created and read in the
/// order of HDF5's name index, about 1.05x since.
#[test]
fn a_list_of_a_million_scalars_writes_and_reads_in_linear_time() {
    assert_linear("a list of scalars", 10_000, 1_000_000, 2.0, scalars);
}

/// Maps (a dict's two lists) and objects whose entries are attributes (a class's
/// `extra_data`): 100,000 entries against 10,000, per item. Before, release build: a dict
/// 1.5x (write) and 1.8x (read), an object 13x and 1.8x (its writer looked for each name
/// among those written before); about 1.05x since.
#[test]
fn a_dict_and_an_object_of_100_000_scalars_write_and_read_in_linear_time() {
    let dict = |n: usize| -> BTreeMap<String, i64> {
        (0..n).map(|i| (format!("k{i}"), i as i64)).collect()
    };
    assert_linear("a dict", 10_000, 100_000, 1.5, dict);
    let store = |n: usize| {
        let mut store = anam::Store::new();
        for i in 0..n {
            store.insert(format!("k{i}"), i as i64);
        }
        store
    };
    assert_linear("an object", 10_000, 100_000, 1.5, store);
}

/// The dict and the object at a million entries (a minute in a debug build: run with
/// `--ignored`).
#[test]
#[ignore]
fn a_dict_and_an_object_of_a_million_scalars_write_and_read_in_linear_time() {
    let dict = |n: usize| -> BTreeMap<String, i64> {
        (0..n).map(|i| (format!("k{i}"), i as i64)).collect()
    };
    assert_linear("a dict", 10_000, 1_000_000, 2.0, dict);
    let store = |n: usize| {
        let mut store = anam::Store::new();
        for i in 0..n {
            store.insert(format!("k{i}"), i as i64);
        }
        store
    };
    assert_linear("an object", 10_000, 1_000_000, 2.0, store);
}

/// Python anamnesis 1.0.4 reads a list of 100,000 scalars we wrote (items created in the
/// order of HDF5's name index), item for item. Its `AnamList.from_hdf5` lists every
/// attribute name again for each item (`hname in list(subgroup.attrs.keys())`), so it takes
/// time quadratic in the items whoever wrote the file (a list of 4,000 items Python wrote
/// itself: over a minute to read); the script runs that method as it is on a list of 1,000
/// items we wrote, and its steps with the names listed once on the 100,000.
#[test]
fn python_anamnesis_reads_a_list_of_100_000_scalars() {
    let Some(python) = python::python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.hdf5");
    let small = dir.path().join("small.hdf5");
    {
        let _alone = serial();
        anam::to_file(&path, "data", &scalars(100_000)).unwrap();
        anam::to_file(&small, "data", &scalars(1_000)).unwrap();
    }
    let script = r#"
import sys, h5py
from anamnesis import obj_from_hdf5file
from anamnesis.abstract import AnamList, parse_hdf5_value

path, small = sys.argv[1], sys.argv[2]

def expected(n):
    return [i if i % 2 == 0 else "s%d" % i for i in range(n)]

def same(got, n):
    return len(got) == n and all(
        g == e and type(g) is not bytes for g, e in zip(got, expected(n))
    )

# AnamList.from_hdf5 as it is, on 1,000 items.
got = obj_from_hdf5file(small, "data")
print("from_hdf5 1000", same(got, 1000))

# Its steps, with the names listed once, on all the items.
with h5py.File(path, "r") as f:
    g = f["data"]
    assert AnamList().check_classname(g.attrs["class"])
    cnt = g.attrs["count"]
    attrs, links = set(g.attrs.keys()), set(g.keys())
    got = []
    for j in range(cnt):
        hname = "LIST_item%d" % j
        if hname in attrs:
            got.append(g.attrs[hname])
        elif hname in links:
            got.append(parse_hdf5_value(g, hname, None, g[hname]))
        else:
            got.append(None)
    print("items", cnt, same(got, 100000))
"#;
    let stdout = python::run_script(python, script, &[&path, &small]);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["from_hdf5 1000 True", "items 100000 True"]
    );
}

/// The link-info estimate a group was created with (HDF5 sizes the first block of the
/// object header from it, so that the attributes written afterwards fit there).
fn est_link_entries(group: &hdf5::Group) -> u32 {
    let gcpl = group.create_plist().unwrap();
    let (mut entries, mut name_len) = (0u32, 0u32);
    // Under the `hdf5` crate's lock, as every HDF5 call: the bundled HDF5 is not built
    // thread-safe, and this call made without it beside the other tests of this binary
    // broke HDF5's state for them (an `H5Acreate2` failing with "no metadata tag
    // provided" in the million-item list test, and a SIGSEGV once in CI).
    // SAFETY: a valid group-creation property list and two places for the values.
    let status = hdf5::sync::sync(|| unsafe {
        hdf5_sys::h5p::H5Pget_est_link_info(gcpl.id(), &mut entries, &mut name_len)
    });
    assert!(status >= 0);
    entries
}

#[test]
fn groups_are_sized_for_their_members() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sized.hdf5");
    anam::to_file(&path, "wide", &wide(20)).unwrap();
    let file = hdf5::File::open(&path).unwrap();
    // A list of 20 items holds 22 entries (with `class` and `count`): room for two link
    // messages each.
    assert!(est_link_entries(&file.group("wide/numbers").unwrap()) >= 44);
    // A dict: `class`, `count` and its two lists.
    assert!(est_link_entries(&file.group("wide/table").unwrap()) >= 8);
}

#[test]
fn to_file_makes_missing_intermediate_groups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested.hdf5");
    let value = wide(3);
    anam::to_file(&path, "runs/run1", &value).unwrap();
    anam::to_file(&path, "runs/run2", &value).unwrap();
    let back: Wide = anam::from_file(&path, Some("runs/run2")).unwrap();
    assert_eq!(back, value);
}

#[test]
fn to_file_adds_to_a_file_of_a_newer_format() {
    use anam::hdf5::file::LibraryVersion;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latest.hdf5");
    {
        // What h5py makes with `libver="latest"`.
        let latest = LibraryVersion::latest();
        let file = hdf5::File::with_options()
            .with_fapl(|fapl| fapl.libver_bounds(latest, latest))
            .create(&path)
            .unwrap();
        file.create_group("other").unwrap();
    }
    let value = wide(3);
    anam::to_file(&path, "wide", &value).unwrap();
    let back: Wide = anam::from_file(&path, Some("wide")).unwrap();
    assert_eq!(back, value);
}

/// A dataset whose storage was never written, with no fill value to write ("fill time
/// never"): HDF5 leaves the reader's buffer as it is, so the read must start from zeros.
#[test]
fn a_dataset_without_storage_reads_as_zeros() {
    #[derive(Deserialize, Debug)]
    #[serde(rename = "storage_test.Holder")]
    struct Holder {
        #[serde(with = "anam::array")]
        x: ndarray::Array1<f64>,
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unwritten.hdf5");
    {
        let file = hdf5::File::create(&path).unwrap();
        let group = file.create_group("holder").unwrap();
        let class: hdf5::types::VarLenUnicode = "storage_test.Holder".parse().unwrap();
        group
            .new_attr::<hdf5::types::VarLenUnicode>()
            .create("class")
            .unwrap()
            .write_scalar(&class)
            .unwrap();
        group
            .new_dataset::<f64>()
            .shape(4096)
            .fill_time(hdf5::plist::dataset_create::FillTime::Never)
            .create("x")
            .unwrap();
    }
    // Leave freed memory with non-zero bytes behind for the allocator to hand back.
    for _ in 0..8 {
        std::hint::black_box(vec![0xABu8; 4096 * 8]);
    }
    let holder: Holder = anam::from_file(&path, Some("holder")).unwrap();
    assert_eq!(holder.x.len(), 4096);
    assert!(
        holder.x.iter().all(|&v| v == 0.0),
        "read junk: {:?}",
        &holder.x.as_slice().unwrap()[..8]
    );
}

/// While `anam` has a file open, its descriptor is close-on-exec: a child process started
/// meanwhile (by any thread) must not inherit it and its `flock` lock.
#[cfg(target_os = "linux")]
mod close_on_exec {
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
    use serde::ser::{SerializeStruct, Serializer};
    use serde::{Deserialize, Serialize};

    /// The file the probe below looks for (the probe runs inside `to_file`/`from_file`).
    static WATCHED: Mutex<Option<PathBuf>> = Mutex::new(None);

    /// For each descriptor of this process open on a file in `path`'s directory (a new file
    /// is written under a temporary name there, then moved into place): whether it is
    /// close-on-exec (the `O_CLOEXEC` bit of the octal `flags` in `/proc/self/fdinfo`).
    fn descriptors_of(path: &Path) -> Vec<bool> {
        let dir = path.parent().unwrap().canonicalize().unwrap();
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
            let target = std::fs::read_link(entry.path()).ok();
            if target.as_deref().and_then(Path::parent) != Some(dir.as_path()) {
                continue;
            }
            let info =
                std::fs::read_to_string(Path::new("/proc/self/fdinfo").join(entry.file_name()))
                    .unwrap_or_default();
            let flags = info
                .lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .map(|f| u32::from_str_radix(f.trim(), 8).unwrap())
                .unwrap_or(0);
            found.push(flags & libc_o_cloexec() != 0);
        }
        found
    }

    /// `O_CLOEXEC` on Linux (x86, ARM and most others).
    fn libc_o_cloexec() -> u32 {
        0o2000000
    }

    fn probe() -> Vec<bool> {
        let path = WATCHED.lock().unwrap().clone().unwrap();
        descriptors_of(&path)
    }

    /// Serializes as an object, checking the descriptors on the way.
    struct Probe;

    thread_local! {
        static SEEN: std::cell::RefCell<Vec<bool>> = const { std::cell::RefCell::new(Vec::new()) };
    }

    impl Serialize for Probe {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            SEEN.with(|seen| *seen.borrow_mut() = probe());
            let mut st = s.serialize_struct("storage_test.Probe", 1)?;
            st.serialize_field("x", &1i64)?;
            st.end()
        }
    }

    impl<'de> Deserialize<'de> for Probe {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Probe, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Probe;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a probe")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Probe, A::Error> {
                    SEEN.with(|seen| *seen.borrow_mut() = probe());
                    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                    Ok(Probe)
                }
            }
            d.deserialize_struct("storage_test.Probe", &["x"], V)
                .map_err(de::Error::custom)
        }
    }

    fn seen() -> Vec<bool> {
        SEEN.with(|seen| seen.borrow().clone())
    }

    #[test]
    fn files_opened_by_anam_are_close_on_exec() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cloexec.hdf5");
        *WATCHED.lock().unwrap() = Some(path.clone());

        // A new file, then an existing one.
        for name in ["new", "probe"] {
            anam::to_file(&path, name, &Probe).unwrap();
            let writing = seen();
            assert!(
                !writing.is_empty(),
                "the probe found no descriptor of the file"
            );
            assert!(writing.iter().all(|&c| c), "to_file ({name}): {writing:?}");
        }

        let _: Probe = anam::from_file(&path, Some("probe")).unwrap();
        let reading = seen();
        assert!(
            !reading.is_empty(),
            "the probe found no descriptor of the file"
        );
        assert!(reading.iter().all(|&c| c), "from_file: {reading:?}");
    }
}
