//! The cases: each workload's write and read, with `anam` and with its floor, as closures
//! over a scratch file, for the runner to time.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::floor;
use crate::workloads::*;

/// A timed operation of a case.
pub type Op = Box<dyn FnMut()>;

/// One write and one read of one implementation, on its own file (or one write only).
pub struct Case {
    /// `anam` or `floor`; or, write-only, `anam_nosync` or `floor_sync` ([`sync_cases`]).
    pub imp: &'static str,
    /// The case within the group (`n=2000`, `deep200`, ...).
    pub case: String,
    /// Nodes (objects, entries, items) or bytes the case moves, for per-item times.
    pub items: usize,
    pub write: Op,
    /// `None` for a write-only case (its file would read as `anam`'s or `floor`'s).
    pub read: Option<Op>,
    pub path: PathBuf,
}

/// A new scratch directory in `ANAM_BENCH_DIR`, or in the system temp dir; removed when
/// dropped.
pub fn scratch_dir() -> tempfile::TempDir {
    match std::env::var_os("ANAM_BENCH_DIR") {
        Some(dir) => {
            std::fs::create_dir_all(&dir).expect("ANAM_BENCH_DIR");
            tempfile::tempdir_in(dir).expect("scratch dir")
        }
        None => tempfile::tempdir().expect("scratch dir"),
    }
}

/// The file of a case: `{prefix}_{imp}_{case}.hdf5` in `dir`.
fn case_file(dir: &Path, prefix: &str, imp: &str, case: &str) -> PathBuf {
    dir.join(format!("{prefix}_{imp}_{}.hdf5", case.replace(' ', "_")))
}

/// The `anam` case: `value` written with `anam::to_file` under `group`, read back as a `T`
/// with `anam::from_file`.
fn anam_case<T>(
    dir: &Path,
    prefix: &str,
    case: &str,
    group: &'static str,
    items: usize,
    value: Rc<T>,
) -> Case
where
    T: Serialize + DeserializeOwned + 'static,
{
    let path = case_file(dir, prefix, "anam", case);
    let (pw, pr) = (path.clone(), path.clone());
    Case {
        imp: "anam",
        case: case.to_string(),
        items,
        write: Box::new(move || anam::to_file(&pw, group, &*value).unwrap()),
        read: Some(Box::new(move || {
            black_box(anam::from_file::<T>(&pr, Some(group)).unwrap());
        })),
        path,
    }
}

/// The `floor` case: the floor's write and read of a workload.
fn floor_case<R>(
    dir: &Path,
    prefix: &str,
    case: &str,
    items: usize,
    mut write: impl FnMut(&Path) -> floor::Result<()> + 'static,
    mut read: impl FnMut(&Path) -> floor::Result<R> + 'static,
) -> Case {
    let path = case_file(dir, prefix, "floor", case);
    let (pw, pr) = (path.clone(), path.clone());
    Case {
        imp: "floor",
        case: case.to_string(),
        items,
        write: Box::new(move || write(&pw).unwrap()),
        read: Some(Box::new(move || {
            black_box(read(&pr).unwrap());
        })),
        path,
    }
}

/// The write-only cases beside `anam` and `floor`, for like-for-like writes (`anam::to_file`
/// makes a new file durable, fsyncing it and its directory before linking it; the floor
/// does not): `anam_nosync` writes `value` as `anam` does but with
/// `WriteOptions::new().sync(false)` (no fsync), `floor_sync` writes with the floor's
/// `write` and then fsyncs the file and its directory (what `anam::to_file` does). They
/// read nothing: their files are `anam`'s and `floor`'s.
fn sync_cases<T>(
    dir: &Path,
    prefix: &str,
    case: &str,
    group: &'static str,
    items: usize,
    value: Rc<T>,
    mut write: impl FnMut(&Path) -> floor::Result<()> + 'static,
) -> [Case; 2]
where
    T: Serialize + 'static,
{
    let options = anam::WriteOptions::new().sync(false);
    let nosync = write_only_case(dir, prefix, "anam_nosync", case, items, move |p| {
        anam::to_file_with(p, group, &*value, &options).unwrap()
    });
    let floor_sync = write_only_case(dir, prefix, "floor_sync", case, items, move |p| {
        write(p).unwrap();
        fsync_with_dir(p).unwrap();
    });
    [nosync, floor_sync]
}

/// A case `imp` that only writes, with `write` given the case's file.
fn write_only_case(
    dir: &Path,
    prefix: &str,
    imp: &'static str,
    case: &str,
    items: usize,
    mut write: impl FnMut(&Path) + 'static,
) -> Case {
    let path = case_file(dir, prefix, imp, case);
    let pw = path.clone();
    Case {
        imp,
        case: case.to_string(),
        items,
        write: Box::new(move || write(&pw)),
        read: None,
        path,
    }
}

/// `fsync` of the file at `path`, then of its directory.
fn fsync_with_dir(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()?;
    std::fs::File::open(path.parent().expect("a file in a directory"))?.sync_all()
}

/// W1's cases (anam, floor) for `n` objects, with or without their arrays.
pub fn w1_cases(dir: &Path, n: usize, with_array: bool) -> Vec<Case> {
    let case = format!("n={n}{}", if with_array { "" } else { " noarray" });
    let (anam, plain) = if with_array {
        (
            anam_case(dir, "w1", &case, "collection", n, Rc::new(small_objects(n))),
            floor::plain_small(&small_objects(n)),
        )
    } else {
        (
            anam_case(
                dir,
                "w1",
                &case,
                "collection",
                n,
                Rc::new(small_objects_noarray(n)),
            ),
            floor::plain_small_noarray(&small_objects_noarray(n)),
        )
    };
    let floor = floor_case(
        dir,
        "w1",
        &case,
        n,
        move |p| floor::w1_write(p, &plain),
        move |p| floor::w1_read(p, with_array),
    );
    vec![anam, floor]
}

/// W1's write-only cases for `n` objects with their arrays (anam_nosync, floor_sync: see
/// [`sync_cases`]), for the main N only.
pub fn w1_sync_cases(dir: &Path, n: usize) -> Vec<Case> {
    let case = format!("n={n}");
    let plain = floor::plain_small(&small_objects(n));
    let value = Rc::new(small_objects(n));
    Vec::from(sync_cases(
        dir,
        "w1",
        &case,
        "collection",
        n,
        value,
        move |p| floor::w1_write(p, &plain),
    ))
}

/// W2's cases (anam, floor, then the write-only anam_nosync and floor_sync of
/// [`sync_cases`]), on one copy of the arrays.
pub fn w2_cases(dir: &Path, sizes: &Sizes) -> Vec<Case> {
    let data = Rc::new(big_arrays(sizes.w2_side));
    let case = format!("{} MiB", sizes.w2_bytes() >> 20);
    let items = sizes.w2_bytes();
    let (arrays, sync_value, sync_arrays) = (data.clone(), data.clone(), data.clone());
    let mut cases = vec![
        anam_case(dir, "w2", &case, "big", items, data),
        floor_case(
            dir,
            "w2",
            &case,
            items,
            move |p| floor::w2_write(p, &arrays.real, &arrays.cplx),
            floor::w2_read,
        ),
    ];
    cases.extend(sync_cases(
        dir,
        "w2",
        &case,
        "big",
        items,
        sync_value,
        move |p| floor::w2_write(p, &sync_arrays.real, &sync_arrays.cplx),
    ));
    cases
}

/// W5's cases (anam with [`w5_options`], floor with the same filters and chunks), on one
/// copy of the array.
pub fn w5_cases(dir: &Path, sizes: &Sizes) -> Vec<Case> {
    let data = Rc::new(compressible(sizes.w5_rows));
    let case = format!("{} MiB gzip1 shuffle", sizes.w5_bytes() >> 20);
    let items = sizes.w5_bytes();
    let path = case_file(dir, "w5", "anam", &case);
    let (pw, pr) = (path.clone(), path.clone());
    let (value, array) = (data.clone(), data);
    let options = w5_options();
    let anam = Case {
        imp: "anam",
        case: case.clone(),
        items,
        write: Box::new(move || anam::to_file_with(&pw, "compressed", &*value, &options).unwrap()),
        // The file is some 90 times smaller than its data, past the default read budget
        // (64 times the file, at least 256 MiB: a guard against files that claim more than
        // they hold): this trusted file is read with a budget of its data.
        read: Some(Box::new(move || {
            let options = anam::ReadOptions::new().max_bytes(2 * items as u64);
            black_box(
                anam::from_file_with::<CompressedArray>(&pr, Some("compressed"), &options).unwrap(),
            );
        })),
        path,
    };
    let floor = floor_case(
        dir,
        "w5",
        &case,
        items,
        move |p| floor::w5_write(p, &array.data),
        floor::w5_read,
    );
    vec![anam, floor]
}

/// W3's cases: deep, map and list (anam, floor each), then the list as an untagged enum
/// (anam only: its floor is the list's).
pub fn w3_cases(dir: &Path, sizes: &Sizes) -> Vec<Case> {
    let mut cases = Vec::new();

    let depth = sizes.w3_depth;
    let case = format!("deep{depth}");
    let deep_levels = floor::levels(&deep_tree(depth));
    cases.push(anam_case(
        dir,
        "w3",
        &case,
        "deep",
        depth,
        Rc::new(deep_tree(depth)),
    ));
    cases.push(floor_case(
        dir,
        "w3",
        &case,
        depth,
        move |p| floor::deep_write(p, &deep_levels),
        floor::deep_read,
    ));

    let n = sizes.w3_map;
    let case = format!("map{n}");
    let entries = floor::map_entries(&wide_map(n));
    cases.push(anam_case(dir, "w3", &case, "map", n, Rc::new(wide_map(n))));
    cases.push(floor_case(
        dir,
        "w3",
        &case,
        n,
        move |p| floor::map_write(p, &entries),
        floor::map_read,
    ));

    let n = sizes.w3_list;
    let case = format!("list{n}");
    let items = mixed_list_untagged(n).items;
    cases.push(anam_case(
        dir,
        "w3",
        &case,
        "list",
        n,
        Rc::new(mixed_list(n)),
    ));
    cases.push(floor_case(
        dir,
        "w3",
        &case,
        n,
        move |p| floor::list_write(p, &items),
        floor::list_read,
    ));
    let case = format!("list{n} untagged");
    cases.push(anam_case(
        dir,
        "w3",
        &case,
        "list",
        n,
        Rc::new(mixed_list_untagged(n)),
    ));
    cases
}

/// The cases of `group` that include `case` (a child process builds them to run one).
pub fn cases_of(group: &str, case: &str, dir: &Path, sizes: &Sizes) -> Vec<Case> {
    match group {
        "W1" => {
            let n = case
                .trim_start_matches("n=")
                .trim_end_matches(" noarray")
                .parse()
                .expect("W1 case n=N");
            w1_cases(dir, n, !case.ends_with("noarray"))
        }
        "W2" => w2_cases(dir, sizes),
        "W3" => w3_cases(dir, sizes),
        "W5" => w5_cases(dir, sizes),
        other => panic!("unknown group {other}"),
    }
}

/// Writes the file `cases[i]` reads with the floor of its case instead (the same layout;
/// the floor of `list10000 untagged` is `list10000`'s). The floor's file is kept beside
/// (`*.prepared`) and copied for the next case that needs it.
pub fn write_with_floor(cases: &mut [Case], i: usize) {
    let (case, path) = (cases[i].case.clone(), cases[i].path.clone());
    let floor = cases
        .iter_mut()
        .filter(|f| f.imp == "floor" && case.starts_with(f.case.as_str()))
        .max_by_key(|f| f.case.len())
        .expect("a floor for the case");
    let prepared = floor.path.with_extension("prepared");
    if !prepared.exists() {
        let _ = std::fs::remove_file(&floor.path);
        (floor.write)();
        std::fs::rename(&floor.path, &prepared).expect("keep the floor's file");
    }
    std::fs::copy(&prepared, &path).expect("copy the floor's file");
}

/// Up to `writes` writes (each on a new file), then, after one untimed read when `warm`,
/// up to `reads` reads of the file (none for a write-only case); each of the two stops
/// early, after at least one sample, once its samples add up to `budget` seconds. `sample`
/// gets each timing as it completes. (The measurement of a case in a child process.)
pub fn measure(
    c: &mut Case,
    writes: usize,
    reads: usize,
    warm: bool,
    budget: f64,
    sample: &mut dyn FnMut(&str, f64),
) -> (Vec<f64>, Vec<f64>) {
    let mut run = |op: &mut dyn FnMut(), prepare: &dyn Fn(), reps: usize, name: &str| {
        let mut samples: Vec<f64> = Vec::with_capacity(reps);
        while samples.len() < reps && (samples.is_empty() || samples.iter().sum::<f64>() < budget) {
            prepare();
            let start = Instant::now();
            op();
            let t = start.elapsed().as_secs_f64();
            sample(name, t);
            samples.push(t);
        }
        samples
    };
    let path = c.path.clone();
    let remove = || {
        let _ = std::fs::remove_file(&path);
    };
    let w = run(&mut c.write, &remove, writes, "write");
    let mut r = Vec::new();
    if let (true, Some(read)) = (reads > 0, c.read.as_mut()) {
        if warm {
            read();
        }
        r = run(read, &|| {}, reads, "read");
    }
    remove();
    (w, r)
}
