//! The storage options of the write in progress (see [`WriteOptions`]). Kept per thread, set
//! by the write's entry point and by each field of a class that overrides them, so that the
//! dataset writer below can ask how to store an array without the serializers carrying it.

use std::cell::{Cell, RefCell};

use hdf5_sys::h5i::hid_t;

use super::ffi::{self, call, OwnedId};
use super::filters;
use crate::error::{Error, Result};
use crate::write_options::{Compression, FieldStorage, Storage, WriteOptions};

thread_local! {
    /// The storage of the datasets written now; `None`: contiguous, as without options.
    static STORAGE: RefCell<Option<Storage>> = const { RefCell::new(None) };
    /// Whether a new file is synced before it is linked ([`WriteOptions::sync`]).
    static SYNC: Cell<bool> = const { Cell::new(true) };
}

/// Restores the options that were in force before a write's own, when dropped.
pub(crate) struct WriteGuard {
    _storage: StorageGuard,
    sync_before: bool,
}

impl Drop for WriteGuard {
    fn drop(&mut self) {
        SYNC.set(self.sync_before);
    }
}

/// Whether the write in progress makes a new file durable (`fsync`) before linking it:
/// [`WriteOptions::sync`], `true` without options.
pub(crate) fn sync_new_file() -> bool {
    SYNC.get()
}

/// Restores the storage that was in force before, when dropped.
pub(crate) struct StorageGuard(Option<Option<Storage>>);

impl Drop for StorageGuard {
    fn drop(&mut self) {
        if let Some(before) = self.0.take() {
            STORAGE.set(before);
        }
    }
}

fn replace(storage: Option<Storage>) -> StorageGuard {
    StorageGuard(Some(STORAGE.replace(storage)))
}

/// Starts a write with `options` (until the guard is dropped; a write inside it, e.g. a
/// nested `to_group_with` in a `Serialize` impl, sets its own and gives them back after).
/// Fails on options no dataset could be written with.
pub(crate) fn enter(options: &WriteOptions) -> Result<WriteGuard> {
    options.check()?;
    Ok(WriteGuard {
        _storage: replace(Some(Storage::of(options))),
        sync_before: SYNC.replace(options.sync),
    })
}

/// Until the guard is dropped, datasets are stored with the overrides of a class's field.
pub(crate) fn field(overrides: &FieldStorage) -> StorageGuard {
    let storage = STORAGE.with_borrow(|s| {
        s.as_ref()
            .unwrap_or(&Storage::of(&WriteOptions::default()))
            .with_field(overrides)
    });
    replace(Some(storage))
}

/// Until the guard is dropped, datasets are contiguous and unfiltered (the parts of an
/// `AnamEmptyArray` group, which are the layout, not data).
pub(crate) fn unfiltered() -> StorageGuard {
    replace(Some(Storage::contiguous()))
}

/// The dataset-creation property list for an array of `shape` whose elements are `element`
/// bytes of the HDF5 type `h5type`: `None` for the shared contiguous one, or a new list
/// with the chunks and filters of the write's storage.
pub(crate) fn create_list(shape: &[usize], element: usize) -> Result<Option<OwnedId>> {
    let planned = STORAGE.with_borrow(|s| match s {
        None => Ok(None),
        Some(s) => s
            .chunks_for(shape, element)
            .map(|c| c.map(|c| (c, s.compression, s.shuffle, s.fletcher32))),
    })?;
    let Some((chunks, compression, shuffle, fletcher32)) = planned else {
        return Ok(None);
    };
    chunked_list(&chunks, compression, shuffle, fletcher32).map(Some)
}

/// A copy of the shared dataset-creation list with `chunks` and the filters, in h5py's
/// order: shuffle, the compression, then Fletcher-32 (a checksum of the bytes stored).
fn chunked_list(
    chunks: &[usize],
    compression: Compression,
    shuffle: bool,
    fletcher32: bool,
) -> Result<OwnedId> {
    use hdf5_sys::h5p::{
        H5Pclose, H5Pcopy, H5Pset_chunk, H5Pset_deflate, H5Pset_fletcher32, H5Pset_shuffle,
    };

    let op = || format!("cannot make the dataset-creation list for chunks {chunks:?}");
    let shared = ffi::shared()?;
    // SAFETY: copies a property list we keep; the copy is owned.
    let dcpl = OwnedId::new(op, H5Pclose, || unsafe { H5Pcopy(shared.dcpl) })?;
    let dims: Vec<u64> = chunks.iter().map(|&d| d as u64).collect();
    let rank = i32::try_from(dims.len()).map_err(|_| Error::invalid("too many dimensions"))?;
    // SAFETY: `dims` has `rank` entries; the list is ours.
    call(op, || unsafe {
        H5Pset_chunk(dcpl.id(), rank, dims.as_ptr())
    })?;
    let id: hid_t = dcpl.id();
    if shuffle {
        // SAFETY: configures a list we own.
        call(op, || unsafe { H5Pset_shuffle(id) })?;
    }
    match compression {
        Compression::None => {}
        Compression::Gzip(level) => {
            // SAFETY: configures a list we own.
            call(op, || unsafe { H5Pset_deflate(id, u32::from(level)) })?;
        }
        Compression::Lzf => filters::set_lzf(id)?,
        Compression::Zstd(level) => filters::set_zstd(id, level)?,
    }
    if fletcher32 {
        // SAFETY: configures a list we own.
        call(op, || unsafe { H5Pset_fletcher32(id) })?;
    }
    Ok(dcpl)
}
