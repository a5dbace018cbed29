//! Child processes: the bench executable runs itself, with `ANAM_BENCH_CHILD` set, to time
//! a case under a time limit (`case`) or to measure W2's peak memory (`w2-anam`,
//! `w2-floor`, `w2-data`). The parent starts them with [`run_case`] and [`peak_rss_kib`];
//! `main` sends the children to [`case_child`] and [`w2_child`].

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cases::{cases_of, measure, scratch_dir, write_with_floor};
use crate::workloads::{big_arrays, BigArrays, Sizes};
use crate::{env_parse, floor};

/// What a child does with its case (`ANAM_BENCH_MODE`).
#[derive(Clone, Copy, PartialEq)]
pub enum ChildMode {
    /// Writes, then reads its own file (`ANAM_BENCH_REPS` of each, within the budget).
    Both,
    /// One write only.
    WriteOnce,
    /// Reads the file the floor writes.
    ReadFloorFile,
}

impl ChildMode {
    fn name(self) -> &'static str {
        match self {
            ChildMode::Both => "both",
            ChildMode::WriteOnce => "write-once",
            ChildMode::ReadFloorFile => "read-floor-file",
        }
    }
}

/// Makes `cmd` a child of role `role` (`ANAM_BENCH_CHILD`) with its scratch files in `dir`.
fn child_env<'a>(cmd: &'a mut Command, role: &str, dir: &Path) -> &'a mut Command {
    cmd.env("ANAM_BENCH_CHILD", role)
        // Inside the parent's scratch dir, removed with it even when the child is killed.
        .env("ANAM_BENCH_DIR", dir)
        .env_remove("ANAM_BENCH_JSON")
}

/// Samples of a case run in a child process: `(writes, reads, timed out)`. The child
/// prints each sample as it completes, so that a time limit keeps the finished ones.
pub fn run_case(
    group: &str,
    case: &str,
    imp: &str,
    mode: ChildMode,
    reps: usize,
    dir: &Path,
    timeout: Duration,
) -> (Vec<f64>, Vec<f64>, bool) {
    use std::io::BufRead;
    let mut cmd = Command::new(std::env::current_exe().expect("the bench executable"));
    let mut child = child_env(&mut cmd, "case", dir)
        .env("ANAM_BENCH_CASE", format!("{group}\t{case}\t{imp}"))
        .env("ANAM_BENCH_MODE", mode.name())
        .env("ANAM_BENCH_REPS", reps.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the bench executable");
    let stdout = child.stdout.take().expect("piped stdout");
    let lines = std::thread::spawn(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(std::result::Result::ok)
            .collect::<Vec<String>>()
    });
    let start = Instant::now();
    let timed_out = loop {
        if child.try_wait().expect("wait for the child").is_some() {
            break false;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break true;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut writes, mut reads) = (Vec::new(), Vec::new());
    for line in lines.join().unwrap_or_default() {
        let mut words = line.split_whitespace();
        if words.next() != Some("sample") {
            continue;
        }
        let (op, secs) = (words.next(), words.next().and_then(|v| v.parse().ok()));
        match (op, secs) {
            (Some("write"), Some(t)) => writes.push(t),
            (Some("read"), Some(t)) => reads.push(t),
            _ => {}
        }
    }
    (writes, reads, timed_out)
}

/// The child of [`run_case`].
pub fn case_child() {
    let spec = std::env::var("ANAM_BENCH_CASE").expect("ANAM_BENCH_CASE");
    let mut spec = spec.split('\t');
    let (group, case, imp) = (
        spec.next().unwrap_or_default(),
        spec.next().unwrap_or_default(),
        spec.next().unwrap_or_default(),
    );
    let mode = match std::env::var("ANAM_BENCH_MODE").as_deref() {
        Ok("write-once") => ChildMode::WriteOnce,
        Ok("read-floor-file") => ChildMode::ReadFloorFile,
        _ => ChildMode::Both,
    };
    let reps: usize = env_parse("ANAM_BENCH_REPS").unwrap_or(1);
    let sizes = Sizes::from_env();
    let dir = scratch_dir();
    let mut cases = cases_of(group, case, dir.path(), &sizes);
    let i = cases
        .iter()
        .position(|c| c.case == case && c.imp == imp)
        .unwrap_or_else(|| panic!("no case {group} {case} {imp}"));
    let mut print = |op: &str, t: f64| {
        use std::io::Write;
        println!("sample {op} {t}");
        let _ = std::io::stdout().flush();
    };
    let budget = sizes.budget();
    match mode {
        ChildMode::WriteOnce => {
            measure(&mut cases[i], 1, 0, false, f64::INFINITY, &mut print);
        }
        ChildMode::Both => {
            measure(&mut cases[i], reps, reps, true, budget, &mut print);
        }
        ChildMode::ReadFloorFile => {
            write_with_floor(&mut cases, i);
            measure(&mut cases[i], 0, reps, true, budget, &mut print);
        }
    }
}

/// Peak RSS of a child process running one W2 write and read (`which` = `anam`, `floor`,
/// or `data`: only building the arrays), from `/usr/bin/time -v`, else from the child's own
/// `VmHWM`.
pub fn peak_rss_kib(which: &str, sizes: &Sizes, dir: &Path) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut cmd = Command::new(time);
        cmd.arg("-v").arg(&exe);
        cmd
    } else {
        Command::new(&exe)
    };
    let out = child_env(&mut cmd, &format!("w2-{which}"), dir)
        .env("ANAM_BENCH_W2_SIDE", sizes.w2_side.to_string())
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "W2 memory child `{which}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let from_time = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok());
    from_time.or_else(|| {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM_kib "))
            .and_then(|v| v.trim().parse().ok())
    })
}

/// The child of [`peak_rss_kib`] (`which`: `w2-anam`, `w2-floor` or `w2-data`).
pub fn w2_child(which: &str) {
    let side: usize = env_parse("ANAM_BENCH_W2_SIDE").unwrap_or(4096);
    let dir = scratch_dir();
    let path = dir.path().join("w2_child.hdf5");
    let data = big_arrays(side);
    // Write, free the source, then read: the floor's peak is one copy of the data.
    match which {
        "w2-anam" => {
            anam::to_file(&path, "big", &data).unwrap();
            drop(data);
            black_box(anam::from_file::<BigArrays>(&path, Some("big")).unwrap());
        }
        "w2-floor" => {
            floor::w2_write(&path, &data.real, &data.cplx).unwrap();
            drop(data);
            black_box(floor::w2_read(&path).unwrap());
        }
        "w2-data" => {
            black_box(&data);
        }
        other => panic!("unknown ANAM_BENCH_CHILD {other}"),
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kib) = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    {
        println!("VmHWM_kib {kib}");
    }
}
