//! Running `mpiexec` from a test: a parent test runs its own test binary under `mpiexec`,
//! restricted to one `#[ignore]`d child test (`--ignored --exact child_...`, with
//! `ANAM_MPI_CHILD=1`) that does the MPI work and asserts on every rank (`tests/mpi.rs`,
//! `tests/mpio.rs`). `mpiexec` runs one at a time (a lock), so that timings are not skewed
//! by other jobs on the machine's cores; `HYDRA_LAUNCHER=fork` is always set (no ssh).
#![allow(dead_code)]

use std::ffi::OsString;
use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The environment variable that makes a child test do its work.
pub(crate) const CHILD_ENV: &str = "ANAM_MPI_CHILD";

/// One `mpiexec` at a time.
pub(crate) static MPIEXEC: Mutex<()> = Mutex::new(());

/// What an `mpiexec` run printed, and how long it took.
pub(crate) struct Run {
    pub what: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    pub(crate) fn report(&self) -> String {
        format!(
            "{}: {} after {:.2?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.what, self.status, self.elapsed, self.stdout, self.stderr
        )
    }
}

pub(crate) fn read_all(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs `mpiexec -n <n> <args>`; past `limit` it stops the job and fails the test.
pub(crate) fn mpiexec(n: usize, args: &[OsString], env: &[(&str, &str)], limit: Duration) -> Run {
    let _one_at_a_time = MPIEXEC.lock().unwrap_or_else(PoisonError::into_inner);
    let what = format!(
        "mpiexec -n {n} {}",
        args.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut cmd = Command::new("mpiexec");
    cmd.env("HYDRA_LAUNCHER", "fork")
        .arg("-n")
        .arg(n.to_string())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start `{what}` (is MPICH installed?): {e}"));
    let stdout = read_all(child.stdout.take().expect("piped"));
    let stderr = read_all(child.stderr.take().expect("piped"));
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for mpiexec") {
            break status;
        }
        if start.elapsed() > limit {
            // SIGTERM: hydra stops every rank (the ranks run in sessions of their own, so
            // killing mpiexec alone would leave them running). Then SIGKILL.
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let asked = Instant::now();
            while child.try_wait().ok().flatten().is_none()
                && asked.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let status = child.wait().expect("waiting for mpiexec");
            let run = Run {
                what,
                status,
                stdout: stdout.join().unwrap_or_default(),
                stderr: stderr.join().unwrap_or_default(),
                elapsed: start.elapsed(),
            };
            panic!("timed out after {limit:?}, stopped: {}", run.report());
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = start.elapsed();
    Run {
        what,
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
        elapsed,
    }
}

/// Runs the child test `name` of this binary on `n` ranks.
pub(crate) fn run_child(name: &str, n: usize, limit: Duration) -> Run {
    run_child_with_env(name, n, &[], limit)
}

/// Runs the child test `name` of this binary on `n` ranks, with `env` set.
pub(crate) fn run_child_with_env(
    name: &str,
    n: usize,
    env: &[(&str, &str)],
    limit: Duration,
) -> Run {
    let exe = std::env::current_exe().expect("the test binary");
    // `-prepend-rank`: the ranks' lines may interleave; the prefix tells them apart.
    let args: Vec<OsString> = [
        "-prepend-rank".into(),
        exe.into_os_string(),
        "--ignored".into(),
        "--exact".into(),
        name.into(),
        "--nocapture".into(),
        "--test-threads=1".into(),
    ]
    .into();
    let mut all_env = vec![(CHILD_ENV, "1")];
    all_env.extend_from_slice(env);
    mpiexec(n, &args, &all_env, limit)
}

/// Runs a child that must succeed on every rank, with no noise on stderr.
pub(crate) fn child_passes(name: &str, n: usize) {
    let run = run_child(name, n, Duration::from_secs(300));
    assert!(run.status.success(), "child failed: {}", run.report());
    assert_eq!(
        ranks_passed(&run),
        n,
        "the child test should pass once per rank: {}",
        run.report()
    );
    assert_no_stderr(&run);
    println!("{name} on {n} ranks: {:.2?}", run.elapsed);
}

/// Each rank's output, reassembled: with `-prepend-rank`, hydra prefixes every chunk it
/// forwards with `[r] `, and chunks of different ranks (even parts of one line) interleave.
pub(crate) fn per_rank(stdout: &str) -> std::collections::BTreeMap<usize, String> {
    let mut streams = std::collections::BTreeMap::<usize, String>::new();
    let mut rank = None;
    let mut rest = stdout;
    loop {
        // The next `[digits] ` marker: (its start, its rank, where the text after it starts).
        let marker = rest.match_indices('[').find_map(|(i, _)| {
            let tail = &rest[i + 1..];
            let end = tail.find("] ")?;
            let r = tail[..end].parse::<usize>().ok()?;
            Some((i, r, i + 1 + end + 2))
        });
        let text = marker.map_or(rest, |(i, _, _)| &rest[..i]);
        if let Some(r) = rank {
            streams.entry(r).or_default().push_str(text);
        }
        match marker {
            Some((_, r, after)) => {
                rank = Some(r);
                rest = &rest[after..];
            }
            None => return streams,
        }
    }
}

/// The number of ranks whose child test passed.
pub(crate) fn ranks_passed(run: &Run) -> usize {
    per_rank(&run.stdout)
        .values()
        .filter(|s| s.contains("test result: ok. 1 passed"))
        .count()
}

pub(crate) fn assert_no_stderr(run: &Run) {
    assert!(
        run.stderr.trim().is_empty(),
        "nothing should be printed on stderr (e.g. \"Attempting to use an MPI routine\"): {}",
        run.report()
    );
}

/// Whether this process is a child started by a parent test.
pub(crate) fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}
