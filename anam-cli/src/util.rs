//! What the commands share: the error that ends a command with status 2, opening files,
//! paths.

use std::path::Path;

/// An error that ends the command with exit status 2 (usage, I/O, unreadable input); its
/// message names the file and the path.
#[derive(Debug)]
pub struct Failure(pub String);

pub type Result<T> = std::result::Result<T, Failure>;

impl Failure {
    /// An error of `file` at `path` in it.
    pub fn at(file: &Path, path: &str, e: impl std::fmt::Display) -> Failure {
        let e = e.to_string();
        let file_s = file.display().to_string();
        // anam's own messages often name the file or the path already.
        let mut msg = String::new();
        if !e.contains(&file_s) {
            msg.push_str(&format!("{file_s}: "));
        }
        if !path.is_empty() && !e.contains(path) {
            msg.push_str(&format!("`{path}`: "));
        }
        msg.push_str(&e);
        Failure(msg)
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            // The reader went away (`anam json big.hdf5 | head`): stop quietly.
            return Failure(String::new());
        }
        Failure(format!("writing the output: {e}"))
    }
}

/// Opens `path` for reading, or an error naming it (a missing file as such, not as HDF5's
/// reason).
pub fn open(path: &Path) -> Result<anam::File> {
    if let Err(e) = std::fs::File::open(path) {
        return Err(Failure(format!("{}: {e}", path.display())));
    }
    anam::File::open(path).map_err(|e| Failure::at(path, "", e))
}

/// `path` without leading and trailing slashes.
pub fn clean(path: &str) -> String {
    path.trim_matches('/').to_string()
}

/// `base/name`, or `name` at the root.
pub fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}/{name}")
    }
}

/// The HDF5 name of list item `i`.
pub fn item(i: usize) -> String {
    format!("LIST_item{i}")
}

/// Bytes for people: `812 B`, `1.5 KiB`, `3.2 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Whether the group at `path` is an anamnesis object, list, dict or empty array (has a
/// `class` attribute).
pub fn has_class(h5: &anam::hdf5::File, path: &str) -> bool {
    let group = if path.is_empty() {
        h5.group("/")
    } else {
        h5.group(path)
    };
    group.is_ok_and(|g| g.attr("class").is_ok())
}
