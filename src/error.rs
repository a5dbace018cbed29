//! The error type shared by the HDF5 format, the wire format and the MPI layer.

use std::fmt::{self, Display};

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from saving or loading, with the HDF5 path where it happened.
///
/// `Display` prints `path: message`, for example
/// `/people/LIST_item17/age: invalid value: integer `-3`, expected u8`; so does `Debug`
/// (what `main` returning `Err` prints).
///
/// One pointer wide (the path and the kind are boxed, as in `serde_json`), so that the
/// `Result`s of the hot paths stay small.
pub struct Error(Box<Inner>);

struct Inner {
    path: Option<String>,
    kind: ErrorKind,
}

/// What went wrong, without the location.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The HDF5 library reported an error from a call of the `hdf5` crate.
    #[error("HDF5: {0}")]
    Hdf5(#[from] hdf5::Error),
    /// An HDF5 library call failed: what was asked of it, and HDF5's own error stack
    /// (whose `Display` is the innermost reason, e.g. `H5Acreate2(): unable to create
    /// attribute: attribute already exists`).
    #[error("{op}: {source}")]
    Hdf5Call {
        /// What the crate asked HDF5 to do (`cannot create the attribute `x``).
        op: String,
        /// HDF5's error stack at the failure.
        source: hdf5::Error,
    },
    /// A group's `class` attribute is not the tag (or an alias of the tag) of the type read.
    #[error(
        "class mismatch: found `{found}`, expected `{expected}` (to accept `{found}` too, \
         name it in `#[anam::class(aliases(\"{found}\"))]` or `anam::alias!`, or call \
         `anam::registry::add_hint(\"{found}\", \"{expected}\")`; to read without the \
         check, `ReadOptions::check_class(false)`)"
    )]
    ClassMismatch {
        /// The tag stored in the file.
        found: String,
        /// The tag of the Rust type being read.
        expected: String,
    },
    /// A group that must describe an object has no `class` attribute.
    #[error("group has no `class` attribute (expected `{expected}`)")]
    MissingClass {
        /// The tag of the Rust type being read.
        expected: String,
    },
    /// No registered class has this tag (nor an alias or hint leading to one).
    #[error("unknown class `{0}`: no registered class has this tag")]
    UnknownClass(String),
    /// The class registry is inconsistent (two types claim one tag).
    #[error("class registry: {0}")]
    Registry(String),
    /// No group was found where one was needed (empty file, missing named group).
    #[error("group not found: {0}")]
    GroupNotFound(String),
    /// The file could not be opened or created.
    #[error("cannot open `{path}`: {source}")]
    File {
        /// The file system path.
        path: String,
        /// The underlying HDF5 error.
        source: hdf5::Error,
    },
    /// Data in the file does not have the shape or type the reader needs.
    #[error("{0}")]
    Invalid(String),
    /// A value cannot be represented in the format.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A message raised by a `Serialize`/`Deserialize` implementation.
    #[error("{0}")]
    Message(String),
}

impl Error {
    /// Creates an error of the given kind with no location yet.
    pub fn new(kind: ErrorKind) -> Self {
        Error(Box::new(Inner { path: None, kind }))
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Invalid(msg.into()))
    }

    pub(crate) fn unsupported(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Unsupported(msg.into()))
    }

    /// The HDF5 path of the object (group, attribute or dataset) where the error happened.
    pub fn path(&self) -> Option<&str> {
        self.0.path.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// Adds an array element's index to the message, while the path (of the dataset) is
    /// still to be attached by the caller.
    pub(crate) fn in_element(mut self, index: usize) -> Self {
        if self.0.path.is_some() {
            return self;
        }
        let kind = std::mem::replace(&mut self.0.kind, ErrorKind::Message(String::new()));
        self.0.kind = match kind {
            ErrorKind::Message(m) => ErrorKind::Message(format!("element [{index}]: {m}")),
            ErrorKind::Invalid(m) => ErrorKind::Invalid(format!("element [{index}]: {m}")),
            other => ErrorKind::Message(format!("element [{index}]: {other}")),
        };
        self
    }

    /// Attaches a location unless a more precise (inner) one is already set.
    ///
    /// The closure runs only when a path is missing, so the HDF5 name lookup it usually does
    /// costs nothing on the success path.
    pub(crate) fn at_with(mut self, path: impl FnOnce() -> String) -> Self {
        let inner = &mut *self.0;
        if inner.path.is_some() {
            return self;
        }
        // An error that crossed a type-erased boundary (erased-serde carries errors as
        // text) already starts with its precise path: take it back rather than prefixing
        // a less precise one.
        if let ErrorKind::Message(m) = &inner.kind {
            if let Some((at, rest)) = m.split_once(": ").filter(|(p, _)| p.starts_with('/')) {
                let (at, rest) = (at.to_string(), rest.to_string());
                inner.path = Some(at);
                inner.kind = ErrorKind::Message(rest);
                return self;
            }
        }
        inner.path = Some(path());
        self
    }

    /// An HDF5 call failed: `op` says what was asked, `source` is HDF5's error stack.
    pub(crate) fn hdf5_call(op: String, source: hdf5::Error) -> Self {
        Error::new(ErrorKind::Hdf5Call { op, source })
    }
}

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.path {
            Some(p) => write!(f, "{p}: {}", self.0.kind),
            None => Display::fmt(&self.0.kind, f),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Display::fmt(self, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            ErrorKind::Hdf5(e) => Some(e),
            ErrorKind::Hdf5Call { source, .. } | ErrorKind::File { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<hdf5::Error> for Error {
    fn from(e: hdf5::Error) -> Self {
        Error::new(ErrorKind::Hdf5(e))
    }
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Error::new(kind)
    }
}

impl serde::ser::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error::new(ErrorKind::Message(msg.to_string()))
    }
}

impl serde::de::Error for Error {
    fn custom<T: Display>(msg: T) -> Self {
        Error::new(ErrorKind::Message(msg.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(
            std::mem::size_of::<Result<()>>(),
            std::mem::size_of::<usize>()
        );
    }
}
