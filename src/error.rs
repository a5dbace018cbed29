//! The error type shared by the HDF5 format (and later the wire format and MPI layer).

use std::fmt::{self, Display};

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error from saving or loading, with the HDF5 path where it happened.
///
/// `Display` prints `path: message`, for example
/// `/people/LIST_item17/age: invalid value: integer `-3`, expected u8`; so does `Debug`
/// (what `main` returning `Err` prints).
pub struct Error {
    path: Option<String>,
    kind: ErrorKind,
}

/// What went wrong, without the location.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The HDF5 library reported an error.
    #[error("HDF5: {0}")]
    Hdf5(#[from] hdf5::Error),
    /// A group's `class` attribute is not the tag (or an alias of the tag) of the type read.
    #[error("class mismatch: found `{found}`, expected `{expected}`")]
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
        Error { path: None, kind }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Invalid(msg.into()))
    }

    pub(crate) fn unsupported(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Unsupported(msg.into()))
    }

    /// The HDF5 path of the object (group, attribute or dataset) where the error happened.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Adds an array element's index to the message, while the path (of the dataset) is
    /// still to be attached by the caller.
    pub(crate) fn in_element(self, index: usize) -> Self {
        if self.path.is_some() {
            return self;
        }
        let kind = match self.kind {
            ErrorKind::Message(m) => ErrorKind::Message(format!("element [{index}]: {m}")),
            ErrorKind::Invalid(m) => ErrorKind::Invalid(format!("element [{index}]: {m}")),
            other => ErrorKind::Message(format!("element [{index}]: {other}")),
        };
        Error { path: None, kind }
    }

    /// Attaches a location unless a more precise (inner) one is already set.
    ///
    /// The closure runs only when a path is missing, so the HDF5 name lookup it usually does
    /// costs nothing on the success path.
    pub(crate) fn at_with(mut self, path: impl FnOnce() -> String) -> Self {
        if self.path.is_some() {
            return self;
        }
        // An error that crossed a type-erased boundary (erased-serde carries errors as
        // text) already starts with its precise path: take it back rather than prefixing
        // a less precise one.
        if let ErrorKind::Message(m) = &self.kind {
            if let Some((inner, rest)) = m.split_once(": ").filter(|(p, _)| p.starts_with('/')) {
                let (inner, rest) = (inner.to_string(), rest.to_string());
                self.path = Some(inner);
                self.kind = ErrorKind::Message(rest);
                return self;
            }
        }
        self.path = Some(path());
        self
    }
}

impl Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{p}: {}", self.kind),
            None => Display::fmt(&self.kind, f),
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
        match &self.kind {
            ErrorKind::Hdf5(e) => Some(e),
            ErrorKind::File { source, .. } => Some(source),
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
