//! Threads and processes sharing files: 8 threads mix reads and writes of one shared file
//! and of files of their own while another thread starts child processes; a second
//! process reading a file being written gets a clean error or the data, never a crash.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
#[serde(rename = "concurrency.Record")]
struct Record {
    id: i64,
    label: String,
    #[serde(with = "anam::array")]
    data: ndarray::Array1<f64>,
}

/// The record stored under `id`: any read of group `id` must give exactly this.
fn record(id: i64) -> Record {
    Record {
        id,
        label: format!("record {id}"),
        data: ndarray::Array1::from_shape_fn(64, |i| (id * 1000 + i as i64) as f64),
    }
}

#[anam::class(class = "concurrency.Sendable")]
#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Sendable {
    x: i64,
}

#[test]
fn loaded_objects_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let obj: Box<dyn anam::AnamObject> = Box::new(Sendable { x: 1 });
    assert_send(&obj);
    let back = std::thread::spawn(move || obj.downcast::<Sendable>().unwrap().x)
        .join()
        .unwrap();
    assert_eq!(back, 1);
}

#[test]
fn eight_threads_reading_writing_and_spawning() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared.hdf5");
    for id in 0..4 {
        anam::to_file(&shared, &format!("r{id}"), &record(id)).unwrap();
    }
    let duration = Duration::from_secs(
        std::env::var("ANAM_CONCURRENCY_SECONDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(8),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let operations = Arc::new(AtomicUsize::new(0));
    let mut threads = Vec::new();
    for t in 0..8 {
        let (stop, errors, operations) = (stop.clone(), errors.clone(), operations.clone());
        let (shared, own) = (shared.clone(), dir.path().join(format!("own{t}.hdf5")));
        threads.push(std::thread::spawn(move || {
            let mut round = 0i64;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                let result = step(t, round, &shared, &own);
                operations.fetch_add(1, Ordering::Relaxed);
                if let Err(e) = result {
                    errors.lock().unwrap().push(format!("thread {t}: {e}"));
                }
            }
        }));
    }
    // A thread that starts child processes all the time (they would inherit descriptors
    // opened without close-on-exec, and their locks).
    let spawner = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut children = 0;
            while !stop.load(Ordering::Relaxed) {
                let _ = Command::new("sleep").arg("0.2").spawn().map(|mut c| {
                    std::thread::spawn(move || c.wait());
                });
                children += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            children
        })
    };
    let start = Instant::now();
    while start.elapsed() < duration {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let children = spawner.join().unwrap();
    let errors = errors.lock().unwrap();
    let operations = operations.load(Ordering::Relaxed);
    eprintln!(
        "{operations} operations, {children} child processes, {} errors",
        errors.len()
    );
    assert!(operations > 100, "only {operations} operations");
    assert!(
        errors.is_empty(),
        "{} errors, first: {:?}",
        errors.len(),
        &errors[..errors.len().min(5)]
    );
}

/// One operation of thread `t`: threads 0-1 write the shared file (new and replaced
/// groups), 2-4 read it, 5-7 write and read files of their own.
fn step(t: usize, round: i64, shared: &Path, own: &Path) -> anam::Result<()> {
    match t {
        0 | 1 => {
            let id = (round % 4) + 4 * (t as i64 + 1);
            anam::to_file(shared, &format!("r{id}"), &record(id))
        }
        2..=4 => {
            let id = round % 4;
            let back: Record = anam::from_file(shared, Some(&format!("r{id}")))?;
            check(&back, id)?;
            let _: anam::Value = anam::from_file(shared, None)?;
            Ok(())
        }
        _ => {
            let id = round % 7;
            anam::to_file(own, "mine", &record(id))?;
            let back: Record = anam::from_file(own, Some("mine"))?;
            check(&back, id)
        }
    }
}

fn check(back: &Record, id: i64) -> anam::Result<()> {
    if *back == record(id) {
        Ok(())
    } else {
        Err(anam::Error::new(anam::ErrorKind::Invalid(format!(
            "wrong value for {id}: {back:?}"
        ))))
    }
}

/// The child of `a_second_process_reading_a_file_being_written`: reads for a while and
/// prints what each read gave.
#[test]
#[ignore = "run by the test below in a child process"]
fn reader_child() {
    let path = PathBuf::from(std::env::var("ANAM_READER_FILE").unwrap());
    let start = Instant::now();
    let (mut ok, mut locked, mut other) = (0, 0, Vec::new());
    while start.elapsed() < Duration::from_secs(3) {
        match anam::from_file::<Record>(&path, Some("big")) {
            Ok(r) if r.label.starts_with("record") => ok += 1,
            Ok(r) => other.push(format!("wrong value {}", r.label)),
            Err(e) if e.to_string().contains("locked by another process") => locked += 1,
            Err(e) => other.push(e.to_string()),
        }
        // Leave the writer room to take the file now and then.
        std::thread::sleep(Duration::from_millis(10));
    }
    println!("READS: ok {ok} locked {locked} other {}", other.len());
    for o in other.iter().take(5) {
        println!("OTHER: {o}");
    }
}

#[test]
fn a_second_process_reading_a_file_being_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("written.hdf5");
    let mut big = record(1);
    big.data = ndarray::Array1::from_elem(4 << 20, 1.0);
    anam::to_file(&path, "big", &big).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (stop, path, big) = (stop.clone(), path.clone(), big.clone());
        std::thread::spawn(move || {
            let (mut writes, mut locked) = (0, 0);
            while !stop.load(Ordering::Relaxed) {
                match anam::to_file(&path, "big", &big) {
                    Ok(()) => writes += 1,
                    // The reader process holds the file: a clean error for the writer too.
                    Err(e) if e.to_string().contains("locked by another process") => locked += 1,
                    Err(e) => panic!("{e}"),
                }
            }
            (writes, locked)
        })
    };
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "reader_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("ANAM_READER_FILE", &path)
        .output()
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    let (writes, writer_locked) = writer.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the reader crashed: {:?}\n{stdout}",
        out.status
    );
    let line = stdout
        .lines()
        .find(|l| l.contains("READS:"))
        .expect("a summary");
    eprintln!("{writes} writes ({writer_locked} refused: file locked); {line}");
    assert!(writes > 0, "the writer never wrote");
    assert!(line.ends_with("other 0"), "{stdout}");
}

/// A file `to_file` has written is unlocked when it returns, even while another thread
/// starts child processes (each holds copies of the parent's descriptors until it `exec`s):
/// HDF5's own open (which locks the file with `flock`) must never find it locked.
#[test]
fn a_written_file_is_unlocked_at_once_while_children_start() {
    let dir = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let spawners: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut children = 0;
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(mut c) = Command::new("true").spawn() {
                        let _ = c.wait();
                    }
                    children += 1;
                }
                children
            })
        })
        .collect();
    let mut failures = Vec::new();
    let start = Instant::now();
    let mut rounds = 0;
    while start.elapsed() < Duration::from_secs(3) {
        let path = dir.path().join(format!("f{rounds}.hdf5"));
        anam::to_file(&path, "r", &record(rounds)).unwrap();
        // An existing file too (the writer's lock is the same).
        anam::to_file(&path, "s", &record(rounds)).unwrap();
        if let Err(e) = anam::hdf5::File::open(&path) {
            failures.push(e.to_string());
        }
        rounds += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let children: usize = spawners.into_iter().map(|s| s.join().unwrap()).sum();
    eprintln!(
        "{rounds} rounds, {children} children, {} failures",
        failures.len()
    );
    assert!(children > 10, "only {children} children started");
    assert!(
        failures.is_empty(),
        "{} of {rounds}: {:?}",
        failures.len(),
        &failures[..1]
    );
}
