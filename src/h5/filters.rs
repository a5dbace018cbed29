//! The HDF5 filters beyond libhdf5's own: LZF (h5py's, id 32000) and zstd (the registered
//! filter 32015, as `hdf5plugin` writes it), and the check that a dataset's filters can be
//! decoded before it is read.
//!
//! LZF is registered by the `hdf5` crate (its `lzf` feature: h5py's filter over liblzf, the
//! same `set_local` and chunk format as h5py's `lzf_filter.c`) when the library starts, which
//! every call here goes through. Zstd is registered here, once, before the first dataset
//! is written with it or read.

use std::ffi::{c_char, c_uint};

use hdf5_sys::h5i::hid_t;
use hdf5_sys::h5z::H5Z_filter_t;

use super::ffi::{call, OwnedId};
use crate::error::{Error, Result};

/// h5py's LZF filter.
pub(crate) const LZF_ID: H5Z_filter_t = 32000;
/// The zstd filter (HDF5 registered filters; `hdf5plugin.Zstd`).
pub(crate) const ZSTD_ID: H5Z_filter_t = 32015;

/// Adds h5py's LZF filter to a dataset-creation list (optional, as h5py does: a chunk that
/// does not shrink is stored as it is).
pub(crate) fn set_lzf(dcpl: hid_t) -> Result<()> {
    set_optional(dcpl, LZF_ID, &[], "lzf")
}

/// Adds the zstd filter at `level` to a dataset-creation list (optional, as `hdf5plugin`
/// does with h5py).
pub(crate) fn set_zstd(dcpl: hid_t, level: i32) -> Result<()> {
    #[cfg(feature = "zstd")]
    {
        register()?;
        set_optional(dcpl, ZSTD_ID, &[level as c_uint], "zstd")
    }
    #[cfg(not(feature = "zstd"))]
    {
        let _ = (dcpl, level);
        Err(Error::unsupported(
            "zstd compression needs the cargo feature `zstd` of serde-anam, which this build \
             was made without",
        ))
    }
}

fn set_optional(dcpl: hid_t, id: H5Z_filter_t, values: &[c_uint], name: &str) -> Result<()> {
    use hdf5_sys::h5p::H5Pset_filter;
    use hdf5_sys::h5z::H5Z_FLAG_OPTIONAL;

    let values_ptr = if values.is_empty() {
        std::ptr::null()
    } else {
        values.as_ptr()
    };
    call(
        || format!("cannot add the {name} filter (id {id})"),
        // SAFETY: a valid list and `values.len()` values.
        || unsafe { H5Pset_filter(dcpl, id, H5Z_FLAG_OPTIONAL, values.len(), values_ptr) },
    )?;
    Ok(())
}

/// Registers the filters this crate implements (once; later calls return the first
/// result).
pub(crate) fn register() -> Result<()> {
    #[cfg(feature = "zstd")]
    {
        use std::sync::OnceLock;
        static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
        REGISTERED
            .get_or_init(|| zstd_filter::register().map_err(|e| e.to_string()))
            .clone()
            .map_err(Error::invalid)
    }
    #[cfg(not(feature = "zstd"))]
    Ok(())
}

/// A short name for the filters this crate knows (the file's own name otherwise).
fn known_name(id: H5Z_filter_t) -> Option<&'static str> {
    use hdf5_sys::h5z::{
        H5Z_FILTER_DEFLATE, H5Z_FILTER_FLETCHER32, H5Z_FILTER_NBIT, H5Z_FILTER_SCALEOFFSET,
        H5Z_FILTER_SHUFFLE, H5Z_FILTER_SZIP,
    };
    Some(match id {
        H5Z_FILTER_DEFLATE => "gzip (deflate)",
        H5Z_FILTER_SHUFFLE => "shuffle",
        H5Z_FILTER_FLETCHER32 => "fletcher32",
        H5Z_FILTER_SZIP => "szip",
        H5Z_FILTER_NBIT => "nbit",
        H5Z_FILTER_SCALEOFFSET => "scaleoffset",
        LZF_ID => "lzf",
        ZSTD_ID => "zstd",
        32001 => "blosc",
        32004 => "lz4",
        32008 => "bitshuffle",
        32013 => "zfp",
        32017 => "sz",
        32026 => "blosc2",
        _ => return None,
    })
}

/// Fails, naming the filter, when the dataset whose creation list is `dcpl` has stored
/// data behind a filter that this program cannot decode (neither built in, registered,
/// nor found as a plugin on `HDF5_PLUGIN_PATH`): HDF5 would fail on the first chunk with
/// a less telling error.
pub(crate) fn check_decodable(dcpl: &OwnedId) -> Result<()> {
    use hdf5_sys::h5p::{H5Pget_filter2, H5Pget_nfilters};
    use hdf5_sys::h5z::H5Zfilter_avail;

    // SAFETY: queries a list we own.
    let n = hdf5::sync::sync(|| unsafe { H5Pget_nfilters(dcpl.id()) });
    if n <= 0 {
        return Ok(());
    }
    register()?;
    for index in 0..n as c_uint {
        let mut flags: c_uint = 0;
        let mut nelmts: usize = 0;
        let mut name = [0 as c_char; 80];
        let mut config: c_uint = 0;
        let id = hdf5::sync::sync(|| unsafe {
            // SAFETY: a list we own, room for no client values (`nelmts` 0) and for a name
            // of `name.len()` bytes (HDF5 NUL-terminates it).
            H5Pget_filter2(
                dcpl.id(),
                index,
                &mut flags,
                &mut nelmts,
                std::ptr::null_mut(),
                name.len(),
                name.as_mut_ptr(),
                &mut config,
            )
        });
        if id < 0 {
            continue;
        }
        // SAFETY: asks whether a filter id is available (HDF5 may look for a plugin).
        let available = hdf5::sync::sync(|| unsafe { H5Zfilter_avail(id) }) > 0;
        if available {
            continue;
        }
        // SAFETY: HDF5 wrote a NUL-terminated name into `name` (it is zeroed otherwise).
        let stored = unsafe { std::ffi::CStr::from_ptr(name.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        let filter = match (known_name(id), stored.is_empty()) {
            (Some(known), _) => known.to_string(),
            (None, false) => stored,
            (None, true) => "unknown".to_string(),
        };
        let hint = match id {
            ZSTD_ID => {
                "; build serde-anam with its `zstd` feature (on by default) to read it".to_string()
            }
            _ => "; it is not built into libhdf5 nor registered, and no plugin for it was found \
                  on HDF5_PLUGIN_PATH"
                .to_string(),
        };
        return Err(Error::unsupported(format!(
            "the dataset is stored with the HDF5 filter `{filter}` (id {id}), which this \
             program cannot decode{hint}"
        )));
    }
    Ok(())
}

/// The zstd filter: each chunk one zstd frame holding its size (`ZSTD_compress`), as the
/// registered filter 32015 (`HDF5Plugin-Zstandard`, `hdf5plugin.Zstd`) writes it, its one
/// client value the level.
#[cfg(feature = "zstd")]
mod zstd_filter {
    use std::ffi::{c_uint, c_void};

    use hdf5_sys::h5z::{H5Z_class2_t, H5Zregister, H5Z_CLASS_T_VERS, H5Z_FLAG_REVERSE};
    use zstd::zstd_safe::zstd_sys;

    use super::ZSTD_ID;
    use crate::error::Result;
    use crate::h5::ffi::call;

    /// The level when the dataset gives none (zstd's default).
    const DEFAULT_LEVEL: i32 = 3;
    /// HDF5 chunks hold less than 4 GiB: a frame claiming more is corrupt.
    const MAX_CHUNK: u64 = u32::MAX as u64;

    const CLASS: &H5Z_class2_t = &H5Z_class2_t {
        version: H5Z_CLASS_T_VERS as _,
        id: ZSTD_ID,
        encoder_present: 1,
        decoder_present: 1,
        name: c"zstd".as_ptr(),
        can_apply: None,
        set_local: None,
        filter: Some(filter),
    };

    pub(super) fn register() -> Result<()> {
        call(
            || "cannot register the zstd filter".to_string(),
            // SAFETY: a filter class that lives for the whole program.
            || unsafe { H5Zregister((CLASS as *const H5Z_class2_t).cast()) },
        )?;
        Ok(())
    }

    /// HDF5's filter callback: compresses (or, with `H5Z_FLAG_REVERSE`, decompresses) the
    /// `nbytes` bytes at `*buf` (a buffer of `*buf_size` bytes from `malloc`) into a new
    /// buffer from `malloc`, which replaces it; returns the bytes in it, or 0 on failure
    /// (for compression, also when the chunk does not shrink: the filter is optional, so
    /// HDF5 stores the chunk as it is).
    ///
    /// # Safety
    /// As HDF5 calls it: `cd_values` holds `cd_nelmts` values, `*buf` `nbytes` bytes.
    unsafe extern "C" fn filter(
        flags: c_uint,
        cd_nelmts: usize,
        cd_values: *const c_uint,
        nbytes: usize,
        buf_size: *mut usize,
        buf: *mut *mut c_void,
    ) -> usize {
        // Never unwind into C.
        std::panic::catch_unwind(|| {
            // SAFETY: as HDF5 promises (see above).
            unsafe {
                let (out, len) = if flags & H5Z_FLAG_REVERSE != 0 {
                    decompress(*buf, nbytes)
                } else {
                    let level = if cd_nelmts > 0 && !cd_values.is_null() {
                        *cd_values as i32
                    } else {
                        DEFAULT_LEVEL
                    };
                    compress(*buf, nbytes, level)
                };
                if out.is_null() {
                    return 0;
                }
                libc::free(*buf);
                *buf = out;
                *buf_size = len;
                len
            }
        })
        .unwrap_or(0)
    }

    /// Compresses `n` bytes at `src` into a new buffer of `malloc`; null when it fails or
    /// does not shrink.
    unsafe fn compress(src: *const c_void, n: usize, level: i32) -> (*mut c_void, usize) {
        let level = level.clamp(1, zstd_sys::ZSTD_maxCLevel());
        // SAFETY: pure function.
        let bound = unsafe { zstd_sys::ZSTD_compressBound(n) };
        // SAFETY: a new buffer, freed below or handed to HDF5.
        let out = unsafe { libc::malloc(bound.max(1)) };
        if out.is_null() {
            return (std::ptr::null_mut(), 0);
        }
        // SAFETY: `out` has room for `bound` bytes, `src` holds `n`.
        let len = unsafe { zstd_sys::ZSTD_compress(out, bound, src, n, level) };
        // SAFETY: pure function.
        if unsafe { zstd_sys::ZSTD_isError(len) } != 0 || len >= n {
            // SAFETY: ours, not handed out.
            unsafe { libc::free(out) };
            return (std::ptr::null_mut(), 0);
        }
        (out, len)
    }

    /// Decompresses the frame of `n` bytes at `src` into a new buffer of `malloc`; null when
    /// the frame is corrupt or claims more than a chunk can hold.
    unsafe fn decompress(src: *const c_void, n: usize) -> (*mut c_void, usize) {
        // SAFETY: reads the frame header within the `n` bytes.
        let size = unsafe { zstd_sys::ZSTD_getFrameContentSize(src, n) };
        const UNKNOWN: u64 = u64::MAX; // ZSTD_CONTENTSIZE_UNKNOWN
        if size == UNKNOWN {
            // A frame written without its size (streaming): decode it whole, then copy.
            // SAFETY: `src` holds `n` bytes.
            let input = unsafe { std::slice::from_raw_parts(src.cast::<u8>(), n) };
            let Ok(data) = zstd::stream::decode_all(input) else {
                return (std::ptr::null_mut(), 0);
            };
            if data.len() as u64 > MAX_CHUNK {
                return (std::ptr::null_mut(), 0);
            }
            // SAFETY: a new buffer of `data.len()` bytes (at least one), filled from `data`.
            let out = unsafe { libc::malloc(data.len().max(1)) };
            if !out.is_null() {
                // SAFETY: both hold `data.len()` bytes and do not overlap.
                unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), out.cast(), data.len()) };
            }
            return (out, data.len());
        }
        if size > MAX_CHUNK {
            // ZSTD_CONTENTSIZE_ERROR, or more than any chunk.
            return (std::ptr::null_mut(), 0);
        }
        let size = size as usize;
        // SAFETY: a new buffer, freed below or handed to HDF5.
        let out = unsafe { libc::malloc(size.max(1)) };
        if out.is_null() {
            return (std::ptr::null_mut(), 0);
        }
        // SAFETY: `out` has room for `size` bytes, `src` holds `n`.
        let len = unsafe { zstd_sys::ZSTD_decompress(out, size, src, n) };
        // SAFETY: pure function.
        if unsafe { zstd_sys::ZSTD_isError(len) } != 0 || len != size {
            // SAFETY: ours, not handed out.
            unsafe { libc::free(out) };
            return (std::ptr::null_mut(), 0);
        }
        (out, len)
    }
}
