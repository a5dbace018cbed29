//! Reading files you do not trust, in a child process: [`from_file`].
//!
//! A damaged or hostile file can crash or hang libhdf5 itself (in HDF5 1.10.8 we measured
//! segmentation faults and double frees inside the library on corrupted files, and loops
//! that never end in HDF5 1.10.8 and 2.2). No check in this crate can prevent that, since
//! it happens inside the C library. An isolated read runs the load in a child process
//! (`fork`) with a time and a memory limit, and hands the [`Value`] back through the
//! [wire format](crate::wire): a crash, a hang or an allocation beyond the limit becomes an
//! `Err`, and the program goes on.
//!
//! Unix only. The cost is a `fork` and the copy of the value through a pipe: a few
//! milliseconds for a small file (see the crate's BENCHMARKS.md).

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::options::ReadOptions;
use crate::value::Value;

/// The limits of an isolated read.
#[derive(Clone, Debug)]
pub struct Limits {
    /// How long the child may take (default 10 s).
    pub time: Duration,
    /// How much memory the child may map beyond what it inherits from this process
    /// (default 1 GiB).
    pub memory: u64,
    /// The read's own options (its byte budget, data outside the file).
    pub read: ReadOptions,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            time: Duration::from_secs(10),
            memory: 1 << 30,
            read: ReadOptions::default(),
        }
    }
}

/// Loads the group `group_name` of the file at `path` (or its first group) as a [`Value`]
/// in a child process under `limits`: whatever the file does to libhdf5, this returns.
///
/// ```
/// # fn main() -> anam::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("from-elsewhere.hdf5");
/// # anam::to_file(&path, "data", &anam::Store::new())?;
/// let value = anam::isolate::from_file(&path, None, &anam::isolate::Limits::default())?;
/// # Ok(())
/// # }
/// ```
#[cfg(unix)]
pub fn from_file(
    path: impl AsRef<Path>,
    group_name: Option<&str>,
    limits: &Limits,
) -> Result<Value> {
    let path = path.as_ref();
    let fail = |what: String| -> Error {
        ErrorKind::Invalid(format!("{}: isolated read: {what}", path.display())).into()
    };
    let mut fds = [0; 2];
    // SAFETY: makes a pipe whose two descriptors are written into `fds`.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(fail(format!(
            "no pipe: {}",
            std::io::Error::last_os_error()
        )));
    }
    // SAFETY: the pipe's descriptors are new and owned here.
    let (reader, writer) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let memory = virtual_size().saturating_add(limits.memory);
    // Fork while holding HDF5's lock, so that no other thread is inside HDF5 at that
    // moment: the child's one thread then owns the lock (it is reentrant) instead of
    // finding it taken for ever. The child never leaves this closure: releasing the lock
    // there would wake the parent's threads waiting for it, through bookkeeping that one
    // of them may have held at the fork.
    let pid = hdf5::sync::sync(|| {
        // SAFETY: in the child, only `child_read` runs, and it ends in `_exit`.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            child_read(path, group_name, &limits.read, memory, &writer);
        }
        pid
    });
    drop(writer);
    if pid < 0 {
        return Err(fail(format!(
            "cannot fork: {}",
            std::io::Error::last_os_error()
        )));
    }
    let (bytes, ended) = read_message(reader, pid, Instant::now() + limits.time);
    let mut status = 0;
    match ended {
        Ended::Exited(s) => status = s,
        Ended::Message | Ended::TimedOut => {
            if matches!(ended, Ended::TimedOut) {
                // SAFETY: signals our own child.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            // SAFETY: reaps our own child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
        }
    }
    if matches!(ended, Ended::TimedOut) {
        return Err(fail(format!("took more than {:?}", limits.time)));
    }
    if !matches!(ended, Ended::Message) && libc::WIFSIGNALED(status) {
        return Err(fail(format!(
            "the reading process died of signal {} (a crash inside HDF5, or memory over \
             the limit of {} bytes)",
            libc::WTERMSIG(status),
            limits.memory
        )));
    }
    match bytes.split_first() {
        Some((b'O', value)) => crate::wire::from_bytes::<Value>(value),
        Some((b'E', message)) => Err(fail(String::from_utf8_lossy(message).into_owned())),
        _ => Err(fail(format!(
            "the reading process ended without a value ({status})"
        ))),
    }
}

/// The child: reads, writes `O` and the value's wire bytes or `E` and the error to `out`,
/// and ends without running this process's exit handlers.
#[cfg(unix)]
fn child_read(
    path: &Path,
    group: Option<&str>,
    read: &ReadOptions,
    memory: u64,
    out: &OwnedFd,
) -> ! {
    use std::io::Write;
    let limit = libc::rlimit {
        rlim_cur: memory,
        rlim_max: memory,
    };
    // SAFETY: sets this (child) process's address-space limit.
    unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) };
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::h5::from_file_unregistered::<Value>(path, group, read)
            .and_then(|v| crate::wire::to_bytes(&v))
    }));
    let message = match result {
        Ok(Ok(bytes)) => [&b"O"[..], &bytes].concat(),
        Ok(Err(e)) => format!("E{e}").into_bytes(),
        Err(_) => b"Ethe read panicked".to_vec(),
    };
    // The parent's descriptor of the reading end is ours too, but unread here; the
    // writing end is closed by `_exit`.
    let mut out = std::fs::File::from(out.try_clone().expect("a descriptor to write to"));
    // Length first: other children forked meanwhile hold copies of this pipe's writing
    // end, so the parent cannot wait for its end.
    let _ = out.write_all(&(message.len() as u64).to_le_bytes());
    let _ = out.write_all(&message);
    // SAFETY: ends the child at once; it shares the parent's copies of everything.
    unsafe { libc::_exit(0) }
}

/// How a child's read ended.
enum Ended {
    /// Its whole message arrived (then it exits).
    Message,
    /// It exited with this wait status before sending all of it.
    Exited(i32),
    /// The deadline passed.
    TimedOut,
}

/// Reads the child's message (its length, then its bytes) from `fd` until `deadline`,
/// watching the child `pid`: other children forked meanwhile may hold copies of the pipe's
/// writing end, so neither the pipe's end nor its silence says that `pid` is gone.
#[cfg(unix)]
fn read_message(fd: OwnedFd, pid: libc::pid_t, deadline: Instant) -> (Vec<u8>, Ended) {
    let mut file = std::fs::File::from(fd);
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    let mut expected: Option<usize> = None;
    loop {
        if expected.is_none() && bytes.len() >= 8 {
            let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"));
            expected = Some(usize::try_from(n).unwrap_or(usize::MAX));
            bytes.drain(..8);
        }
        if expected.is_some_and(|n| bytes.len() >= n) {
            return (bytes, Ended::Message);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (bytes, Ended::TimedOut);
        }
        let mut poll = libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&file),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = i32::try_from(left.as_millis())
            .unwrap_or(i32::MAX)
            .clamp(1, 50);
        // SAFETY: waits on one descriptor we own.
        if unsafe { libc::poll(&mut poll, 1, ms) } > 0 {
            match file.read(&mut chunk) {
                Ok(n) if n > 0 => {
                    bytes.extend_from_slice(&chunk[..n]);
                    continue;
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                _ => {}
            }
        }
        let mut status = 0;
        // SAFETY: asks after our own child without waiting.
        if unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } == pid {
            // Whatever it wrote is in the pipe already.
            while !poll_empty(&file) {
                match file.read(&mut chunk) {
                    Ok(n) if n > 0 => bytes.extend_from_slice(&chunk[..n]),
                    _ => break,
                }
            }
            if expected.is_none() && bytes.len() >= 8 {
                expected =
                    usize::try_from(u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")))
                        .ok();
                bytes.drain(..8);
            }
            if expected.is_some_and(|n| bytes.len() >= n) {
                return (bytes, Ended::Message);
            }
            return (bytes, Ended::Exited(status));
        }
    }
}

/// Whether nothing more is ready to read on `file` now.
#[cfg(unix)]
fn poll_empty(file: &std::fs::File) -> bool {
    let mut poll = libc::pollfd {
        fd: std::os::fd::AsRawFd::as_raw_fd(file),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: asks one descriptor we own, without waiting.
    unsafe { libc::poll(&mut poll, 1, 0) <= 0 }
}

/// This process's virtual size in bytes (the child starts with as much mapped).
#[cfg(unix)]
fn virtual_size() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        // SAFETY: asks the page size.
        .map(|pages| pages * unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64)
        .unwrap_or(0)
}
