//! The check run before any timing (and the whole of the bench under `cargo test`): for
//! each workload, the floor reads the file `anam` wrote and `anam` reads the floor's, and
//! both must give back the data, so the floors write the same layout as `anam`.

use std::fmt::Debug;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::floor;
use crate::workloads::*;

/// The two files of the check, and where to keep them.
struct Files {
    /// Written by `anam`.
    anam: PathBuf,
    /// Written by the floor.
    floor: PathBuf,
    /// `ANAM_BENCH_KEEP`.
    keep: Option<PathBuf>,
}

impl Files {
    /// Writes `value` with `anam` (under `group`) and with `floor_write`; `floor_reads`
    /// checks what the floor reads of `anam`'s file, and `anam` must read `value` back from
    /// the floor's.
    fn both_ways<T>(
        &self,
        group: &str,
        value: &T,
        floor_write: impl FnOnce(&Path) -> floor::Result<()>,
        floor_reads: impl FnOnce(&Path),
    ) where
        T: Serialize + DeserializeOwned + PartialEq + Debug,
    {
        let _ = std::fs::remove_file(&self.anam);
        let _ = std::fs::remove_file(&self.floor);
        anam::to_file(&self.anam, group, value).unwrap();
        floor_write(&self.floor).unwrap();
        floor_reads(&self.anam);
        let back: T = anam::from_file(&self.floor, Some(group)).unwrap();
        assert_eq!(&back, value, "{group}: anam reads the floor's file");
    }

    /// With `ANAM_BENCH_KEEP=dir`, copies the two files there as `{name}_anam.hdf5` and
    /// `{name}_floor.hdf5`.
    fn keep_as(&self, name: &str) {
        if let Some(keep) = &self.keep {
            std::fs::create_dir_all(keep).unwrap();
            std::fs::copy(&self.anam, keep.join(format!("{name}_anam.hdf5"))).unwrap();
            std::fs::copy(&self.floor, keep.join(format!("{name}_floor.hdf5"))).unwrap();
        }
    }
}

/// Runs the check in a `check` directory under `dir`. With `ANAM_BENCH_KEEP=dir`, the
/// files are kept there, each workload's as `W*_anam.hdf5` and `W*_floor.hdf5` (to compare
/// with `h5dump`).
pub fn check(dir: &Path) {
    let dir = dir.join("check");
    std::fs::create_dir_all(&dir).unwrap();
    let files = Files {
        anam: dir.join("anam.hdf5"),
        floor: dir.join("floor.hdf5"),
        keep: std::env::var_os("ANAM_BENCH_KEEP").map(PathBuf::from),
    };

    // W1, with and without the array.
    let c = small_objects(50);
    let plain = floor::plain_small(&c);
    files.both_ways(
        "collection",
        &c,
        |f| floor::w1_write(f, &plain),
        |a| {
            assert_eq!(
                floor::w1_read(a, true).unwrap(),
                plain,
                "W1 floor reads anam"
            )
        },
    );
    files.keep_as("W1");
    let c = small_objects_noarray(50);
    let plain = floor::plain_small_noarray(&c);
    files.both_ways(
        "collection",
        &c,
        |f| floor::w1_write(f, &plain),
        |a| assert_eq!(floor::w1_read(a, false).unwrap(), plain, "W1 (no array)"),
    );
    files.keep_as("W1_noarray");

    // W2, small.
    let big = big_arrays(64);
    files.both_ways(
        "big",
        &big,
        |f| floor::w2_write(f, &big.real, &big.cplx),
        |a| {
            let back = floor::w2_read(a).unwrap();
            assert_eq!(back, (big.real.clone(), big.cplx.clone()), "W2");
        },
    );
    files.keep_as("W2");

    // W5, small: the same filters and chunks on both sides.
    let compressed = compressible(64);
    let _ = std::fs::remove_file(&files.anam);
    let _ = std::fs::remove_file(&files.floor);
    anam::to_file_with(&files.anam, "compressed", &compressed, &w5_options()).unwrap();
    floor::w5_write(&files.floor, &compressed.data).unwrap();
    assert_eq!(floor::w5_read(&files.anam).unwrap(), compressed.data, "W5");
    let back: CompressedArray = anam::from_file(&files.floor, Some("compressed")).unwrap();
    assert_eq!(back, compressed, "W5: anam reads the floor's file");
    let storage = |path: &Path| {
        let ds = anam::hdf5::File::open(path)
            .unwrap()
            .dataset("compressed/data")
            .unwrap();
        (ds.chunk(), ds.filters())
    };
    let (anam_storage, floor_storage) = (storage(&files.anam), storage(&files.floor));
    assert_eq!(
        anam_storage, floor_storage,
        "W5: the same chunks and filters"
    );
    assert_eq!(anam_storage.0, Some(vec![16, 8192]), "W5 chunks");
    files.keep_as("W5");

    // W3.
    let deep = deep_tree(30);
    let levels = floor::levels(&deep);
    files.both_ways(
        "deep",
        &deep,
        |f| floor::deep_write(f, &levels),
        |a| assert_eq!(floor::deep_read(a).unwrap(), levels, "W3 deep"),
    );
    files.keep_as("W3_deep");

    let map = wide_map(100);
    files.both_ways(
        "map",
        &map,
        |f| floor::map_write(f, &floor::map_entries(&map)),
        |a| assert_eq!(floor::map_read(a).unwrap(), map.entries, "W3 map"),
    );
    files.keep_as("W3_map");

    let list = mixed_list(100);
    let untagged = mixed_list_untagged(100);
    files.both_ways(
        "list",
        &list,
        |f| floor::list_write(f, &untagged.items),
        |a| assert_eq!(floor::list_read(a).unwrap(), untagged.items, "W3 list"),
    );
    let back: UntaggedListHolder = anam::from_file(&files.floor, Some("list")).unwrap();
    assert_eq!(back, untagged, "W3 untagged: anam reads the floor's file");
    files.keep_as("W3_list");
    let _ = std::fs::remove_file(&files.anam);
    anam::to_file(&files.anam, "list", &untagged).unwrap();
    assert_eq!(
        floor::list_read(&files.anam).unwrap(),
        untagged.items,
        "W3 untagged"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
