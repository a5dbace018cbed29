//! Files: opened for reading or writing with the other users of the same file in mind, in
//! this process and in others; and new files created complete or not at all.
//!
//! # Locks
//!
//! HDF5 locks a file with `flock` on the descriptor it opens, without `O_CLOEXEC`: a child
//! process started meanwhile by any thread inherits that descriptor, and the lock with it,
//! for as long as the child runs (measured: 8 threads opening files while one spawns
//! children gave 23,215 "unable to lock file" errors in 30 s). So HDF5's own locking is
//! turned off for the files we open (where the library has `H5Pset_file_locking`,
//! HDF5 1.10.7+) and we lock them ourselves: one descriptor per file per process, opened
//! with `O_CLOEXEC`, holding a shared `flock` while the file is read and an exclusive one
//! while it is written. Other processes (ours, h5py, HDF5 tools) that lock with `flock`
//! see it, so a process that opens a file being written gets an error, not a crash.
//!
//! In one process, HDF5 refuses to open a file for writing while it is open for reading
//! ("file is already open for read-only"). A writer therefore waits until the file's
//! readers in other threads are done, readers that come meanwhile wait for the writer, and
//! readers may open a file that is being written (HDF5 allows that; they see what was
//! linked before they opened it).

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use hdf5_sys::h5i::hid_t;

use super::{ffi, write_scope};
use crate::error::{Error, ErrorKind, Result};

/// How long a writer waits for the file's readers in other threads of this process, and
/// how long a lock is retried while another process holds it briefly (a child between
/// `fork` and `exec` still holds our descriptor for a moment).
const WAIT: Duration = Duration::from_secs(60);
const LOCK_RETRY: Duration = Duration::from_millis(500);

/// A file identified by device and inode (two paths to one file are one file).
type Key = (u64, u64);

/// What this process has open of one file.
struct Entry {
    /// Our lock descriptor (`O_CLOEXEC`).
    lock: OwnedFd,
    /// Whether `lock` holds the exclusive lock.
    exclusive: bool,
    /// HDF5 handles open for reading, and the threads that hold them.
    readers: Vec<ThreadId>,
    /// HDF5 handles open for writing.
    writers: usize,
    /// Writers waiting for the readers to be done.
    waiting_writers: usize,
}

struct Registry {
    entries: Mutex<HashMap<Key, Entry>>,
    changed: Condvar,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| Registry {
        entries: Mutex::new(HashMap::new()),
        changed: Condvar::new(),
    })
}

fn entries() -> MutexGuard<'static, HashMap<Key, Entry>> {
    registry().entries.lock().unwrap_or_else(|e| e.into_inner())
}

/// An open HDF5 file, registered for as long as it lives.
pub(crate) struct FileHandle {
    file: Option<hdf5::File>,
    key: Key,
    /// `None` for a writer, the reading thread for a reader.
    reader: Option<ThreadId>,
    /// The file's size when opened (for the read budget).
    pub size: u64,
}

impl std::ops::Deref for FileHandle {
    type Target = hdf5::File;
    fn deref(&self) -> &hdf5::File {
        self.file.as_ref().expect("the file is open until dropped")
    }
}

impl Drop for FileHandle {
    fn drop(&mut self) {
        // HDF5's handle first: the registry must not count it once HDF5 has closed it.
        drop(self.file.take());
        let mut entries = entries();
        unregister(&mut entries, self.key, self.reader);
        drop(entries);
        registry().changed.notify_all();
    }
}

/// Takes a handle (a reader's, or a writer's for `None`) off the file's entry, and forgets
/// the entry (releasing our lock) once nobody uses it.
fn unregister(entries: &mut HashMap<Key, Entry>, key: Key, reader: Option<ThreadId>) {
    let Some(entry) = entries.get_mut(&key) else {
        return;
    };
    match reader {
        None => entry.writers -= 1,
        Some(me) => {
            if let Some(i) = entry.readers.iter().position(|&t| t == me) {
                entry.readers.swap_remove(i);
            }
        }
    }
    if entry.writers == 0 && entry.readers.is_empty() && entry.waiting_writers == 0 {
        // Unlocked before the descriptor is closed: a child another thread is starting
        // holds a copy of the descriptor until it `exec`s (`O_CLOEXEC` closes it only
        // then), and closing ours alone would leave the lock held by that copy meanwhile
        // (seen in CI: a test's `hdf5::File::open` right after a failed `to_file` got
        // "unable to lock file" while other tests spawned Python). `LOCK_UN` releases
        // the lock of the open file description, whichever copy holds it.
        let _ = flock(&entry.lock, libc::LOCK_UN);
        entries.remove(&key);
    } else if entry.writers == 0 && entry.exclusive {
        let _ = flock(&entry.lock, libc::LOCK_SH);
        entry.exclusive = false;
    }
}

/// Opens the HDF5 file for a handle just registered, while the registry is still locked:
/// a reader and a writer must not both be between registering and opening (HDF5 would
/// refuse the writer if the reader's read-only open came first). On an error the handle
/// is unregistered.
fn open_registered(
    mut entries: MutexGuard<'static, HashMap<Key, Entry>>,
    path: &Path,
    key: Key,
    reader: Option<ThreadId>,
    size: u64,
) -> Result<FileHandle> {
    let opened = open_hdf5(path, |builder| match reader {
        Some(_) => builder.open(path),
        None => builder.open_rw(path),
    });
    match opened {
        Ok(file) => {
            drop(entries);
            ffi::close_on_exec(&file);
            Ok(FileHandle {
                file: Some(file),
                key,
                reader,
                size,
            })
        }
        Err(e) => {
            unregister(&mut entries, key, reader);
            drop(entries);
            registry().changed.notify_all();
            Err(e)
        }
    }
}

pub(crate) fn file_error(path: &Path, source: hdf5::Error) -> Error {
    ErrorKind::File {
        path: path.display().to_string(),
        source,
    }
    .into()
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::invalid(format!("{}: {what}: {e}", path.display()))
}

fn key_of(path: &Path) -> Result<(Key, u64)> {
    let meta = std::fs::metadata(path).map_err(|e| {
        file_error(
            path,
            hdf5::Error::from(format!("unable to open file: {e}").as_str()),
        )
    })?;
    Ok(((meta.dev(), meta.ino()), meta.len()))
}

/// `flock` without blocking; `Err` when another descriptor holds a conflicting lock.
fn flock(fd: &OwnedFd, op: i32) -> std::io::Result<()> {
    // SAFETY: `fd` is an open descriptor; flock only changes its lock.
    let status = unsafe { libc::flock(fd.as_raw_fd(), op | libc::LOCK_NB) };
    if status == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Takes our lock on the file `key`: `false` when another process holds a conflicting one.
///
/// The lock may be held by this very process, through an `hdf5` handle the program opened
/// itself (HDF5's own lock): that one protects the file as well, so ours is not needed. A
/// lock held elsewhere is retried for a moment (see [`LOCK_RETRY`]).
fn take_lock(fd: &OwnedFd, op: i32, key: Key) -> bool {
    if flock(fd, op).is_ok() || open_in_hdf5(key) {
        return true;
    }
    let start = Instant::now();
    while start.elapsed() < LOCK_RETRY {
        std::thread::sleep(Duration::from_millis(5));
        if flock(fd, op).is_ok() {
            return true;
        }
    }
    false
}

/// Opens our lock descriptor for `path`, close-on-exec from the start.
fn open_lock(path: &Path) -> Result<OwnedFd> {
    std::fs::File::options()
        .read(true)
        .open(path)
        .map(OwnedFd::from)
        .map_err(|e| io_error(path, "cannot open the file to lock it", e))
}

fn locked_by_other(path: &Path, writing: bool) -> Error {
    Error::invalid(format!(
        "{}: the file is locked by another process ({}); try again when it is done",
        path.display(),
        if writing {
            "it is being read or written"
        } else {
            "it is being written"
        }
    ))
}

/// Opens an existing file for reading.
pub(crate) fn open_read(path: &Path) -> Result<FileHandle> {
    let (key, size) = key_of(path)?;
    let me = std::thread::current().id();
    let mut entries = entries();
    loop {
        match entries.get_mut(&key) {
            None => {
                let lock = open_lock(path)?;
                if !take_lock(&lock, libc::LOCK_SH, key) {
                    return Err(locked_by_other(path, false));
                }
                entries.insert(
                    key,
                    Entry {
                        lock,
                        exclusive: false,
                        readers: vec![me],
                        writers: 0,
                        waiting_writers: 0,
                    },
                );
                break;
            }
            // A writer is waiting for the readers to be done: let it go first.
            Some(entry) if entry.waiting_writers > 0 && entry.writers == 0 => {
                entries = wait(entries)?;
            }
            Some(entry) => {
                entry.readers.push(me);
                break;
            }
        }
    }
    open_registered(entries, path, key, Some(me), size)
}

/// Opens an existing file for writing.
pub(crate) fn open_write(path: &Path) -> Result<FileHandle> {
    let (key, size) = key_of(path)?;
    let me = std::thread::current().id();
    let mut entries = entries();
    if let std::collections::hash_map::Entry::Vacant(vacant) = entries.entry(key) {
        vacant.insert(Entry {
            lock: open_lock(path)?,
            exclusive: false,
            readers: Vec::new(),
            writers: 0,
            waiting_writers: 0,
        });
    }
    let entry = entries.get_mut(&key).expect("inserted above");
    if entry.readers.contains(&me) {
        let e = Error::invalid(format!(
            "{}: this thread has the file open for reading (an `anam` handle or value \
             that reads from it is still alive): drop it before writing to the file",
            path.display()
        ));
        drop(entries);
        release_if_unused(key);
        return Err(e);
    }
    entry.waiting_writers += 1;
    let start = Instant::now();
    while !entries[&key].readers.is_empty() {
        if start.elapsed() > WAIT {
            let entry = entries.get_mut(&key).expect("present while waited for");
            entry.waiting_writers -= 1;
            let n = entry.readers.len();
            drop(entries);
            release_if_unused(key);
            return Err(Error::invalid(format!(
                "{}: {n} reader(s) in other threads kept the file open for more than {} s",
                path.display(),
                WAIT.as_secs()
            )));
        }
        entries = wait(entries)?;
    }
    let entry = entries.get_mut(&key).expect("present while waited for");
    entry.waiting_writers -= 1;
    if !entry.exclusive {
        if !take_lock(&entry.lock, libc::LOCK_EX, key) {
            drop(entries);
            release_if_unused(key);
            return Err(locked_by_other(path, true));
        }
        entry.exclusive = true;
    }
    entry.writers += 1;
    open_registered(entries, path, key, None, size).map_err(|e| {
        if e.to_string().contains("already open for read-only") {
            Error::invalid(format!(
                "{}: this process has the file open for reading through an `hdf5` handle \
                 of its own (a File, Group, Dataset or Attribute of the hdf5 crate) or an \
                 `anam::Lazy` array read from it: drop it before writing to the file with \
                 anam",
                path.display()
            ))
        } else {
            e
        }
    })
}

/// Opens a file with HDF5 through `open`, with HDF5's locking off; if the program has the
/// file open itself through an `hdf5` handle with HDF5's locking on, HDF5 insists on the
/// same setting, so it is opened that way.
fn open_hdf5(
    path: &Path,
    open: impl Fn(&hdf5::FileBuilder) -> hdf5::Result<hdf5::File>,
) -> Result<hdf5::File> {
    match open(&ffi::file_access(false)?) {
        Err(e)
            if e.to_string()
                .contains("file locking flag values don't match") =>
        {
            open(&ffi::file_access(true)?).map_err(|source| file_error(path, source))
        }
        other => other.map_err(|source| file_error(path, source)),
    }
}

/// Whether HDF5 has the file open in this process (through the program's own handles: a
/// file, or any object of it that keeps it open).
fn open_in_hdf5(key: Key) -> bool {
    use hdf5_sys::h5f::{H5Fget_name, H5Fget_obj_count, H5Fget_obj_ids, H5F_OBJ_ALL};
    let all_files = hid_t::from(H5F_OBJ_ALL as i32);
    let names: Vec<PathBuf> = hdf5::sync::sync(|| {
        // SAFETY: counts and lists the open object ids into a buffer of that size, and
        // asks each the name of its file into a buffer of the size HDF5 reports.
        unsafe {
            let n = H5Fget_obj_count(all_files, H5F_OBJ_ALL);
            if n <= 0 {
                return Vec::new();
            }
            let mut ids = vec![0 as hid_t; n as usize];
            let n = H5Fget_obj_ids(all_files, H5F_OBJ_ALL, ids.len(), ids.as_mut_ptr());
            ids.truncate(n.max(0) as usize);
            ids.iter()
                .filter_map(|&id| {
                    let len = H5Fget_name(id, std::ptr::null_mut(), 0);
                    let mut buf = vec![0u8; usize::try_from(len).ok()? + 1];
                    H5Fget_name(id, buf.as_mut_ptr().cast(), buf.len());
                    buf.truncate(len as usize);
                    Some(PathBuf::from(String::from_utf8(buf).ok()?))
                })
                .collect()
        }
    });
    let mut names = names;
    names.sort();
    names.dedup();
    names.iter().any(|p| key_of(p).is_ok_and(|(k, _)| k == key))
}

/// Forgets an entry nobody uses (after a failed open).
fn release_if_unused(key: Key) {
    let mut entries = entries();
    if let Some(entry) = entries.get(&key) {
        if entry.writers == 0 && entry.readers.is_empty() && entry.waiting_writers == 0 {
            entries.remove(&key);
        }
    }
    drop(entries);
    registry().changed.notify_all();
}

fn wait(
    entries: MutexGuard<'static, HashMap<Key, Entry>>,
) -> Result<MutexGuard<'static, HashMap<Key, Entry>>> {
    let (guard, _) = registry()
        .changed
        .wait_timeout(entries, Duration::from_millis(200))
        .unwrap_or_else(|e| e.into_inner());
    Ok(guard)
}

/// A new file being written under a temporary name in its directory; [`NewFile::commit`]
/// makes it appear at its path complete, or not at all.
pub(crate) struct NewFile {
    file: Option<hdf5::File>,
    temp: PathBuf,
    path: PathBuf,
}

/// A temporary name for a new file at `path`, in its directory (`.NAME.anam-PID-N.tmp`).
pub(crate) fn temporary_path(path: &Path) -> Result<PathBuf> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let name = path
        .file_name()
        .ok_or_else(|| Error::invalid(format!("{}: not a file name", path.display())))?;
    let temp_name = format!(
        ".{}.anam-{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    Ok(dir.map_or_else(|| PathBuf::from(&temp_name), |d| d.join(&temp_name)))
}

impl NewFile {
    /// Creates the temporary file for `path`.
    pub(crate) fn create(path: &Path) -> Result<NewFile> {
        let temp = temporary_path(path)?;
        let mut builder = ffi::file_access(false)?;
        // No timestamp on the root group either (see `ffi::group_create_list`).
        builder.with_fcpl(|fcpl| fcpl.obj_track_times(false));
        let file = builder
            .create_excl(&temp)
            .map_err(|source| file_error(path, source))?;
        ffi::close_on_exec(&file);
        Ok(NewFile {
            file: Some(file),
            temp,
            path: path.to_path_buf(),
        })
    }

    pub(crate) fn file(&self) -> &hdf5::File {
        self.file.as_ref().expect("open until committed")
    }

    /// Flushes and closes the file, makes it durable (`fsync`, unless the write's options
    /// say not: [`WriteOptions::sync`](crate::WriteOptions::sync)) and puts it at its path.
    /// If a file appeared at the path meanwhile, `merge` writes our objects into it instead.
    ///
    /// The two `fsync`s (the file, then its directory) are most of what this costs beyond
    /// HDF5's own work, in time but not in instructions: W1's write (2,000 objects, a
    /// 1.4 MB file, ext4) took a median of about 80 ms with them and 62 ms with a no-op
    /// `fsync` preloaded (interleaved runs, a loaded 2-core machine). Leaving out only the
    /// directory's saved nothing and only the file's about 4 ms: whichever comes first
    /// waits for the device to write the file and the journal. Neither starting that
    /// writeback before the close (`sync_file_range`: 93.6 ms against 90.5 ms) nor
    /// `fdatasync` for the file (96.0 ms against 91.1 ms) helped. Both stay: they are what
    /// makes a write that returned survive a power loss.
    pub(crate) fn commit(mut self, merge: impl FnOnce() -> Result<()>) -> Result<()> {
        let file = self.file.take().expect("open until committed");
        file.flush()?;
        drop(file);
        let sync = write_scope::sync_new_file();
        if sync {
            sync_file(&self.temp)?;
        }
        match std::fs::hard_link(&self.temp, &self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => merge()?,
            // No hard links on this file system: a rename (which replaces).
            Err(_) => std::fs::rename(&self.temp, &self.path)
                .map_err(|e| io_error(&self.path, "cannot move the new file into place", e))?,
        }
        let _ = std::fs::remove_file(&self.temp);
        if let Some(dir) = self
            .path
            .parent()
            .filter(|d| sync && !d.as_os_str().is_empty())
        {
            // The new directory entry, durable too (best effort: not every file system
            // can sync a directory).
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Drop for NewFile {
    fn drop(&mut self) {
        // Not committed (an error): leave nothing behind.
        drop(self.file.take());
        let _ = std::fs::remove_file(&self.temp);
    }
}

fn sync_file(path: &Path) -> Result<()> {
    std::fs::File::options()
        .read(true)
        .open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| io_error(path, "cannot sync the new file to disk", e))
}
