//! [`WriteOptions`]: how the arrays of a write are stored (compression, shuffle, checksums,
//! chunks), and [`FieldStorage`], the same per field of an `#[anam::class]`.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// How the arrays of one write are stored in HDF5 (`to_file_with`, `to_group_with`); the
/// plain functions use [`WriteOptions::default`], which stores every array contiguous and
/// unfiltered, as Python anamnesis does.
///
/// * **Compression** ([`compression`](Self::compression)): gzip (HDF5's deflate, in every
///   HDF5), LZF (h5py's filter, registered by this crate) or zstd (the registered HDF5
///   filter 32015 as `hdf5plugin` writes it; cargo feature `zstd`, on by default).
/// * **Shuffle** ([`shuffle`](Self::shuffle)): HDF5's byte shuffle before compression, which
///   groups the bytes of equal significance; usually a much better ratio for numbers.
/// * **Checksums** ([`fletcher32`](Self::fletcher32)): HDF5's Fletcher-32 checksum of each
///   stored chunk, checked on every read: a corrupted chunk is an error, never wrong values.
/// * **Chunks**: filters work on chunks. By default a chunk is a slab of whole rows (the
///   last axes whole, the first ones cut) of at most 1 MiB
///   ([`chunk_bytes`](Self::chunk_bytes) sets another size), or an explicit shape for the
///   arrays of its rank ([`chunks`](Self::chunks)). Chunks are clipped to the array's shape.
/// * **A minimum size** ([`min_size`](Self::min_size), default 64 KiB): smaller arrays stay
///   contiguous and unfiltered, as without options (a chunked dataset costs a chunk index
///   of a few KiB, more than compressing a small array saves).
///
/// Only the datasets of arrays and numeric sequences (`anam::array`, [`NdArray`](crate::NdArray),
/// numeric `Vec`s, ndarray's own serde form, bytes, `Value::Array`) are filtered; scalars
/// and strings (attributes) never are, and empty or 0-d arrays stay `AnamEmptyArray` groups.
/// Fields of an `#[anam::class]` can override any of these (`#[anam(compress = "gzip:4",
/// chunks = [64, 64])]`, see [`FieldStorage`]).
///
/// Readers need the filters: gzip, shuffle, Fletcher-32 and LZF files load in h5py and
/// Python anamnesis without plugins; zstd needs `import hdf5plugin` in Python first.
///
/// Reads keep their byte budget ([`ReadOptions`](crate::ReadOptions): by default 64 times
/// the file's size, at least 256 MiB): data that compresses more than 64 times, above
/// 256 MiB, needs [`ReadOptions::max_bytes`](crate::ReadOptions::max_bytes) raised to be
/// read back.
///
/// ```
/// use anam::{Compression, WriteOptions};
///
/// # fn main() -> anam::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("data.hdf5");
/// #[derive(serde::Serialize, serde::Deserialize)]
/// #[serde(rename = "lab.Scan")]
/// struct Scan {
///     #[serde(with = "anam::array")]
///     image: anam::ndarray::Array2<f64>,
/// }
///
/// let scan = Scan { image: anam::ndarray::Array2::zeros((512, 512)) };
/// let options = WriteOptions::new()
///     .compression(Compression::Gzip(4))
///     .shuffle(true)
///     .fletcher32(true);
/// anam::to_file_with(&path, "scan", &scan, &options)?;
///
/// // Reading needs no options: the filters are properties of the datasets.
/// let back: Scan = anam::from_file(&path, Some("scan"))?;
/// # assert_eq!(back.image, scan.image);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteOptions {
    pub(crate) compression: Compression,
    pub(crate) shuffle: bool,
    pub(crate) fletcher32: bool,
    pub(crate) chunking: Chunking,
    pub(crate) min_size: usize,
    pub(crate) sync: bool,
}

/// The default chunk size: 1 MiB, HDF5's default chunk cache (a chunk that fits in it is
/// read once for a partial read of several of its rows).
pub(crate) const DEFAULT_CHUNK_BYTES: usize = 1 << 20;

/// The default [`WriteOptions::min_size`]: 64 KiB.
pub(crate) const DEFAULT_MIN_SIZE: usize = 64 << 10;

impl Default for WriteOptions {
    fn default() -> WriteOptions {
        WriteOptions {
            compression: Compression::None,
            shuffle: false,
            fletcher32: false,
            chunking: Chunking::Auto,
            min_size: DEFAULT_MIN_SIZE,
            sync: true,
        }
    }
}

/// Builder methods that set one field: `fn name(arg: Type) => field;`, each with its docs.
macro_rules! setters {
    ($($(#[$doc:meta])* fn $name:ident($arg:ident: $t:ty) => $field:ident;)*) => {$(
        $(#[$doc])*
        pub fn $name(mut self, $arg: $t) -> WriteOptions {
            self.$field = $arg;
            self
        }
    )*};
}

impl WriteOptions {
    /// The defaults: contiguous, unfiltered arrays (the layout without options).
    pub fn new() -> WriteOptions {
        WriteOptions::default()
    }

    setters! {
        /// Compresses each chunk with `compression` (default [`Compression::None`]).
        fn compression(compression: Compression) => compression;

        /// HDF5's shuffle filter before compression (default off).
        fn shuffle(shuffle: bool) => shuffle;

        /// A Fletcher-32 checksum of each stored chunk, checked when it is read (default
        /// off): a corrupted chunk is then an error instead of wrong values.
        fn fletcher32(fletcher32: bool) => fletcher32;
    }

    /// The chunk shape of the arrays of rank `shape.len()` (clipped to each array's shape);
    /// arrays of other ranks are chunked by bytes ([`chunk_bytes`](Self::chunk_bytes)).
    /// Arrays of at least [`min_size`](Self::min_size) bytes are then chunked even without
    /// a filter. Every entry must be at least 1, and a chunk at most 4 GiB (HDF5's limit):
    /// otherwise the write fails naming the array.
    pub fn chunks(mut self, shape: impl Into<Vec<usize>>) -> WriteOptions {
        self.chunking = Chunking::Shape(Cow::Owned(shape.into()));
        self
    }

    /// Chunks of about `bytes` (at most, unless one element is larger): the last axes
    /// whole while they fit, the first ones cut (default 1 MiB). Arrays of at least
    /// [`min_size`](Self::min_size) bytes are then chunked even without a filter.
    pub fn chunk_bytes(mut self, bytes: usize) -> WriteOptions {
        self.chunking = Chunking::Bytes(bytes);
        self
    }

    setters! {
        /// Arrays of fewer than `bytes` bytes stay contiguous and unfiltered (default 64 KiB;
        /// 0 filters every array).
        fn min_size(bytes: usize) => min_size;

        /// Whether a new file is made durable before it appears at its path (default `true`).
        ///
        /// A write that creates a file (`to_file_with` where no file is) writes it under a
        /// temporary name in the same directory, `fsync`s it and then its directory, and
        /// only then links it at its path: once the call returns, the file survives a power
        /// loss or an operating-system crash. With `false` the two `fsync`s are left out.
        /// The write stays failure-atomic against errors and a killed process (the path
        /// holds the complete file or none), but after a power loss or OS crash within the
        /// next seconds (until the kernel has written the file back) the file may be
        /// missing, empty or incomplete at its path. No earlier data is at risk: a new file
        /// is only ever written where there was none. This is what h5py and the `hdf5` crate
        /// do, and what scratch files or a file system where `fsync` is slow may want: a new
        /// file's data is then written to the disk before the call returns (`BENCHMARKS.md`,
        /// W2: a 192 MiB write took 2.4-3.1 times as long as the page-cache write of the
        /// `hdf5` crate in our runs, and 0.97-1.11 times as long with `sync(false)`).
        ///
        /// [`File::create_with`](crate::File::create_with) makes its (empty) file the same
        /// way; writes into an existing file (and through a [`File`](crate::File)) are
        /// flushed to it, never synced, either way.
        fn sync(sync: bool) => sync;
    }

    /// Fails on options no array could be stored with: a gzip level above 9, a zstd level
    /// outside 1 to 22, a chunk shape without axes or with a zero.
    pub(crate) fn check(&self) -> Result<()> {
        self.compression.check()?;
        if let Chunking::Shape(shape) = &self.chunking {
            if shape.is_empty() || shape.contains(&0) {
                return Err(Error::invalid(format!(
                    "chunk shape {shape:?}: a chunk shape has at least one axis, each of \
                     length 1 or more"
                )));
            }
        }
        Ok(())
    }
}

/// The compression of a chunked array.
///
/// Parsed from the strings of `#[anam(compress = "...")]` too: `"none"`, `"gzip"` (level
/// 4, h5py's default), `"gzip:N"`, `"lzf"`, `"zstd"` (level 3, zstd's default), `"zstd:N"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Compression {
    /// No compression.
    #[default]
    None,
    /// HDF5's deflate filter (zlib), level 0 (stored) to 9 (smallest). Built into every
    /// HDF5; h5py's `compression="gzip"`.
    Gzip(u8),
    /// h5py's LZF filter (HDF5 filter 32000): fast, a lower ratio than gzip. h5py (so
    /// Python anamnesis) reads it without plugins; this crate registers it with libhdf5.
    Lzf,
    /// The zstd filter (HDF5 registered filter 32015, as `hdf5plugin.Zstd` writes it), level
    /// 1 to 22. Python needs `import hdf5plugin` to read it. Needs the cargo feature `zstd`
    /// (on by default) to write and to read.
    Zstd(i32),
}

impl Compression {
    /// Checks the level, naming what is wrong.
    pub(crate) fn check(self) -> Result<()> {
        match self {
            Compression::Gzip(level) if level > 9 => Err(Error::invalid(format!(
                "gzip level {level}: levels are 0 to 9"
            ))),
            Compression::Zstd(level) if !(1..=22).contains(&level) => Err(Error::invalid(format!(
                "zstd level {level}: levels are 1 to 22"
            ))),
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Compression::None => f.write_str("none"),
            Compression::Gzip(level) => write!(f, "gzip:{level}"),
            Compression::Lzf => f.write_str("lzf"),
            Compression::Zstd(level) => write!(f, "zstd:{level}"),
        }
    }
}

impl FromStr for Compression {
    type Err = Error;

    /// `"none"`, `"gzip"`, `"gzip:N"`, `"lzf"`, `"zstd"`, `"zstd:N"`.
    fn from_str(s: &str) -> Result<Compression> {
        let bad = || {
            Error::invalid(format!(
                "`{s}` is not a compression: expected `none`, `gzip`, `gzip:N` (0-9), `lzf`, \
                 `zstd` or `zstd:N` (1-22)"
            ))
        };
        let (name, level) = match s.split_once(':') {
            Some((name, level)) => (name, Some(level)),
            None => (s, None),
        };
        let compression = match (name, level) {
            ("none", None) => Compression::None,
            ("lzf", None) => Compression::Lzf,
            ("gzip", None) => Compression::Gzip(4),
            ("zstd", None) => Compression::Zstd(3),
            ("gzip", Some(l)) => Compression::Gzip(l.parse().map_err(|_| bad())?),
            ("zstd", Some(l)) => Compression::Zstd(l.parse().map_err(|_| bad())?),
            _ => return Err(bad()),
        };
        compression.check().map(|()| compression)
    }
}

/// How arrays are cut into chunks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Chunking {
    /// Chunks of [`DEFAULT_CHUNK_BYTES`], and only when a filter asks for chunks.
    Auto,
    /// Chunks of about this many bytes.
    Bytes(usize),
    /// This shape for arrays of its rank.
    Shape(Cow<'static, [usize]>),
}

/// The storage options of one field of an `#[anam::class]`, from its `#[anam(...)]`
/// attribute: each one set replaces the write's [`WriteOptions`] for the datasets of that
/// member (and of what it holds); the others are the write's.
///
/// | attribute | effect |
/// |---|---|
/// | `compress = "gzip:4"` | [`Compression`] (`"none"`, `"gzip"`, `"gzip:N"`, `"lzf"`, `"zstd"`, `"zstd:N"`) |
/// | `shuffle`, `shuffle = false` | [`WriteOptions::shuffle`] |
/// | `fletcher32`, `fletcher32 = false` | [`WriteOptions::fletcher32`] |
/// | `chunks = [64, 64]` | the chunk shape; an array of another rank is an error |
/// | `chunk_bytes = 262144` | [`WriteOptions::chunk_bytes`] |
/// | `min_size = 0` | [`WriteOptions::min_size`] |
/// | `contiguous` | contiguous and unfiltered whatever the write's options (alone) |
///
/// ```
/// # fn main() -> anam::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("run.hdf5");
/// use serde::{Deserialize, Serialize};
///
/// #[anam::class(class = "lab.Run")]
/// #[derive(Serialize, Deserialize)]
/// struct Run {
///     #[anam(compress = "gzip:4", shuffle, chunks = [64, 64])]
///     #[serde(with = "anam::array")]
///     image: anam::ndarray::Array2<f32>,
///     #[anam(contiguous)]
///     #[serde(with = "anam::array")]
///     index: anam::ndarray::Array1<i64>,
/// }
///
/// let run = Run {
///     image: anam::ndarray::Array2::zeros((256, 256)),
///     index: anam::ndarray::Array1::zeros(100_000),
/// };
/// // `image` is gzip-compressed in 64x64 chunks, `index` contiguous, even under options
/// // that compress everything else.
/// let options = anam::WriteOptions::new().compression(anam::Compression::Lzf);
/// anam::to_file_with(&path, "run", &run, &options)?;
/// # let file = anam::hdf5::File::open(&path).unwrap();
/// # assert_eq!(file.dataset("run/image").unwrap().chunk(), Some(vec![64, 64]));
/// # assert_eq!(file.dataset("run/index").unwrap().chunk(), None);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldStorage {
    compression: Option<Compression>,
    shuffle: Option<bool>,
    fletcher32: Option<bool>,
    chunks: Option<&'static [usize]>,
    chunk_bytes: Option<usize>,
    min_size: Option<usize>,
    contiguous: bool,
}

/// The `const` setters of [`FieldStorage`], one per override: `name(arg: T)` sets the
/// field `name` to `Some(arg)`.
macro_rules! field_storage_setters {
    ($($name:ident($arg:ident: $t:ty)),* $(,)?) => {
        $(pub const fn $name(mut self, $arg: $t) -> FieldStorage {
            self.$name = Some($arg);
            self
        })*
    };
}

#[doc(hidden)]
impl FieldStorage {
    /// Nothing overridden (for `#[anam::class]`, which adds what the field sets).
    pub const fn new() -> FieldStorage {
        FieldStorage {
            compression: None,
            shuffle: None,
            fletcher32: None,
            chunks: None,
            chunk_bytes: None,
            min_size: None,
            contiguous: false,
        }
    }

    field_storage_setters! {
        compression(compression: Compression),
        shuffle(shuffle: bool),
        fletcher32(fletcher32: bool),
        chunks(shape: &'static [usize]),
        chunk_bytes(bytes: usize),
        min_size(bytes: usize),
    }

    pub const fn contiguous(mut self) -> FieldStorage {
        self.contiguous = true;
        self
    }
}

/// The storage of the datasets being written: the write's options with the overrides of
/// the fields they are in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Storage {
    pub compression: Compression,
    pub shuffle: bool,
    pub fletcher32: bool,
    pub chunking: Chunking,
    /// The chunk shape came from a field: an array of another rank is an error.
    pub strict_rank: bool,
    pub min_size: usize,
    pub contiguous: bool,
}

impl Storage {
    pub(crate) fn of(options: &WriteOptions) -> Storage {
        Storage {
            compression: options.compression,
            shuffle: options.shuffle,
            fletcher32: options.fletcher32,
            chunking: options.chunking.clone(),
            strict_rank: false,
            min_size: options.min_size,
            contiguous: false,
        }
    }

    /// Contiguous and unfiltered (what a write without options does).
    pub(crate) fn contiguous() -> Storage {
        Storage {
            contiguous: true,
            ..Storage::of(&WriteOptions::default())
        }
    }

    /// These options with the overrides of a field.
    pub(crate) fn with_field(&self, field: &FieldStorage) -> Storage {
        let mut s = self.clone();
        if let Some(c) = field.compression {
            s.compression = c;
        }
        if let Some(v) = field.shuffle {
            s.shuffle = v;
        }
        if let Some(v) = field.fletcher32 {
            s.fletcher32 = v;
        }
        if let Some(bytes) = field.chunk_bytes {
            s.chunking = Chunking::Bytes(bytes);
            s.strict_rank = false;
        }
        if let Some(shape) = field.chunks {
            s.chunking = Chunking::Shape(Cow::Borrowed(shape));
            s.strict_rank = true;
        }
        if let Some(v) = field.min_size {
            s.min_size = v;
        }
        if field.contiguous {
            s.contiguous = true;
        } else if field.compression.is_some()
            || field.shuffle.is_some()
            || field.fletcher32.is_some()
            || field.chunks.is_some()
            || field.chunk_bytes.is_some()
        {
            // A field's own storage options undo a `contiguous` of the member it is in.
            s.contiguous = false;
        }
        s
    }

    fn filtered(&self) -> bool {
        self.compression != Compression::None || self.shuffle || self.fletcher32
    }

    /// The chunk shape of an array of `shape` whose elements take `element` bytes, or
    /// `None` to store it contiguous; an error for a chunk shape HDF5 cannot take.
    pub(crate) fn chunks_for(&self, shape: &[usize], element: usize) -> Result<Option<Vec<usize>>> {
        if self.contiguous || shape.is_empty() || shape.contains(&0) {
            return Ok(None);
        }
        if !self.filtered() && self.chunking == Chunking::Auto {
            return Ok(None);
        }
        let bytes = shape
            .iter()
            .try_fold(element, |acc, &d| acc.checked_mul(d))
            .unwrap_or(usize::MAX);
        if bytes < self.min_size {
            return Ok(None);
        }
        let chunks = match &self.chunking {
            Chunking::Shape(chunks) if chunks.len() == shape.len() => {
                if chunks.contains(&0) {
                    return Err(Error::invalid(format!(
                        "chunk shape {chunks:?} has a zero: every chunk length must be at \
                         least 1"
                    )));
                }
                chunks.iter().zip(shape).map(|(&c, &d)| c.min(d)).collect()
            }
            Chunking::Shape(chunks) if self.strict_rank => {
                return Err(Error::invalid(format!(
                    "chunk shape {chunks:?} is of rank {}, but the array's shape {shape:?} is \
                     of rank {}",
                    chunks.len(),
                    shape.len()
                )))
            }
            Chunking::Bytes(target) => slab_chunks(shape, element, *target),
            Chunking::Shape(_) | Chunking::Auto => slab_chunks(shape, element, DEFAULT_CHUNK_BYTES),
        };
        let chunk_bytes = chunks
            .iter()
            .try_fold(element as u64, |acc: u64, &d| acc.checked_mul(d as u64));
        if chunk_bytes.is_none_or(|b| b > u64::from(u32::MAX)) {
            return Err(Error::invalid(format!(
                "chunks of shape {chunks:?} take more than 4 GiB, HDF5's limit for a chunk"
            )));
        }
        self.compression.check()?;
        Ok(Some(chunks))
    }
}

/// Chunks of at most `target` bytes (at least one element) that are slabs of the array in
/// C order: the last axes whole while they fit, then as many as fit of the next one, and
/// 1 along the axes before it. A chunk is then one contiguous run of the array's buffer
/// (gathered and scattered with one copy), and holds between half of `target` and
/// `target` bytes for arrays of at least that size.
pub(crate) fn slab_chunks(shape: &[usize], element: usize, target: usize) -> Vec<usize> {
    let mut chunks = vec![1; shape.len()];
    // Elements per chunk still available.
    let mut room = (target / element.max(1)).max(1);
    for (axis, &len) in shape.iter().enumerate().rev() {
        if len <= room {
            chunks[axis] = len;
            room /= len.max(1);
        } else {
            chunks[axis] = room.max(1);
            break;
        }
    }
    chunks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slab_chunks_keep_the_last_axes_whole() {
        assert_eq!(slab_chunks(&[4096, 8192], 8, 1 << 20), vec![16, 8192]);
        assert_eq!(slab_chunks(&[3, 1000], 8, 1 << 20), vec![3, 1000]);
        assert_eq!(slab_chunks(&[10, 200_000], 8, 1 << 20), vec![1, 131_072]);
        assert_eq!(slab_chunks(&[1 << 30], 8, 1 << 20), vec![131_072]);
        assert_eq!(
            slab_chunks(&[7, 100, 100, 100], 8, 1 << 20),
            vec![1, 13, 100, 100]
        );
        assert_eq!(
            slab_chunks(&[100, 100, 100], 8, 1 << 20),
            vec![13, 100, 100]
        );
        assert_eq!(slab_chunks(&[5], 1 << 21, 1 << 20), vec![1]);
    }

    #[test]
    fn compression_strings() {
        assert_eq!("gzip".parse::<Compression>().unwrap(), Compression::Gzip(4));
        assert_eq!(
            "gzip:1".parse::<Compression>().unwrap(),
            Compression::Gzip(1)
        );
        assert_eq!("lzf".parse::<Compression>().unwrap(), Compression::Lzf);
        assert_eq!(
            "zstd:7".parse::<Compression>().unwrap(),
            Compression::Zstd(7)
        );
        assert_eq!("none".parse::<Compression>().unwrap(), Compression::None);
        for bad in ["gzip:10", "zstd:0", "lz4", "gzip:", "lzf:1", ""] {
            assert!(bad.parse::<Compression>().is_err(), "{bad}");
        }
        for c in [
            Compression::Gzip(9),
            Compression::Lzf,
            Compression::Zstd(22),
        ] {
            assert_eq!(c.to_string().parse::<Compression>().unwrap(), c);
        }
    }
}
