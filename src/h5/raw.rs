//! Direct HDF5 C calls for the per-member hot path of reading.
//!
//! Reading one small object means opening a few attributes, asking each its type and
//! extent, and reading a number or a string. Through the `hdf5` crate each of those steps
//! makes handle objects (datatype, dataspace, memory type), each registered, validated and
//! released with several more library calls; for a variable-length string the crate also
//! builds a memory type and looks up a conversion path. Profiled on W1 (`benches/hdf5.rs`),
//! that bookkeeping was most of the read time. Here the same steps are a handful of C
//! calls on identifiers we own and close ourselves; anything unusual (enums, compounds,
//! odd sizes) still goes through the crate's general path.

use std::ffi::{c_char, CStr, CString};

use hdf5::Container;
use hdf5_sys::h5i::hid_t;

use super::{Stored, StrKind};
use crate::array::{with_dtype, DType, Element, TypedArray};
use crate::error::{Error, Result};

/// An HDF5 identifier we own, closed on drop.
struct OwnedId {
    id: hid_t,
    close: unsafe extern "C" fn(hid_t) -> hdf5_sys::h5::herr_t,
}

impl OwnedId {
    /// Takes ownership of `id`, or `None` if the call that made it failed.
    fn new(id: hid_t, close: unsafe extern "C" fn(hid_t) -> hdf5_sys::h5::herr_t) -> Option<Self> {
        (id >= 0).then_some(OwnedId { id, close })
    }
}

impl OwnedId {
    /// Gives up ownership: the identifier stays open (for the life of the process).
    fn keep(self) -> hid_t {
        let id = self.id;
        std::mem::forget(self);
        id
    }
}

impl Drop for OwnedId {
    fn drop(&mut self) {
        // SAFETY: `id` is a valid identifier we own (checked in `new`) and is closed once.
        hdf5::sync::sync(|| unsafe { (self.close)(self.id) });
    }
}

/// What a container (attribute or dataset) holds: its type, its shape, whether its
/// dataspace is null, and for variable-length strings the type to read them with.
pub(crate) struct Probe {
    pub stored: Stored,
    pub shape: Vec<usize>,
    pub null: bool,
    /// The container's own type (memory-located), kept to read strings without building
    /// another one.
    dtype: OwnedId,
}

impl Probe {
    /// Asks the container its type and extent (five to eight C calls).
    pub(crate) fn of(c: &Container, is_attr: bool) -> Result<Probe> {
        use hdf5_sys::h5a::{H5Aget_space, H5Aget_type};
        use hdf5_sys::h5d::{H5Dget_space, H5Dget_type};
        use hdf5_sys::h5s::{
            H5S_class_t, H5Sclose, H5Sget_simple_extent_dims, H5Sget_simple_extent_ndims,
            H5Sget_simple_extent_type,
        };
        use hdf5_sys::h5t::H5Tclose;

        let id = c.id();
        let (dtype, extent) = hdf5::sync::sync(|| unsafe {
            // SAFETY: `id` is an open attribute or dataset (by `is_attr`); the identifiers
            // returned are owned by `OwnedId`s, and `dims` has room for `ndims` entries.
            let (t, s) = if is_attr {
                (H5Aget_type(id), H5Aget_space(id))
            } else {
                (H5Dget_type(id), H5Dget_space(id))
            };
            let dtype = OwnedId::new(t, H5Tclose);
            let space = OwnedId::new(s, H5Sclose);
            let extent = space.map(|space| match H5Sget_simple_extent_type(space.id) {
                H5S_class_t::H5S_NULL => Some((Vec::new(), true)),
                H5S_class_t::H5S_SCALAR => Some((Vec::new(), false)),
                H5S_class_t::H5S_SIMPLE => {
                    let ndims = usize::try_from(H5Sget_simple_extent_ndims(space.id)).ok()?;
                    let mut dims = vec![0u64; ndims];
                    if H5Sget_simple_extent_dims(space.id, dims.as_mut_ptr(), std::ptr::null_mut())
                        < 0
                    {
                        return None;
                    }
                    let shape: Option<Vec<usize>> =
                        dims.iter().map(|&d| usize::try_from(d).ok()).collect();
                    Some((shape?, false))
                }
                _ => None,
            });
            (dtype, extent.flatten())
        });
        let dtype = dtype.ok_or_else(|| Error::invalid("HDF5 could not give the datatype"))?;
        let (shape, null) =
            extent.ok_or_else(|| Error::invalid("HDF5 could not give the dataspace"))?;
        let stored = match classify_fast(dtype.id) {
            Some(stored) => stored,
            None => super::stored_type(c)?,
        };
        Ok(Probe {
            stored,
            shape,
            null,
            dtype,
        })
    }

    /// Reads the one variable-length string of a scalar container; `None` if it is not
    /// one (fixed-length strings and arrays take the general path).
    pub(crate) fn read_vlen_scalar_string(
        &self,
        c: &Container,
        is_attr: bool,
    ) -> Result<Option<String>> {
        use hdf5_sys::h5::H5free_memory;
        use hdf5_sys::h5a::H5Aread;
        use hdf5_sys::h5d::H5Dread;
        use hdf5_sys::h5p::H5P_DEFAULT;
        use hdf5_sys::h5s::H5S_ALL;

        if !matches!(
            self.stored,
            Stored::Str(StrKind::VarUtf8 | StrKind::VarAscii)
        ) || !self.shape.is_empty()
            || self.null
        {
            return Ok(None);
        }
        let bytes = hdf5::sync::sync(|| unsafe {
            // SAFETY: the container is scalar and its type a variable-length string, so
            // HDF5 writes one `char *` (NUL-terminated, allocated by HDF5, or null for an
            // unset string) into `ptr`; we copy it out and free it with HDF5's allocator.
            let mut ptr: *mut c_char = std::ptr::null_mut();
            let out = (&mut ptr as *mut *mut c_char).cast();
            let status = if is_attr {
                H5Aread(c.id(), self.dtype.id, out)
            } else {
                H5Dread(c.id(), self.dtype.id, H5S_ALL, H5S_ALL, H5P_DEFAULT, out)
            };
            if status < 0 {
                return None;
            }
            if ptr.is_null() {
                return Some(Vec::new());
            }
            let bytes = CStr::from_ptr(ptr).to_bytes().to_vec();
            H5free_memory(ptr.cast());
            Some(bytes)
        })
        .ok_or_else(|| Error::invalid("HDF5 could not read the string"))?;
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| Error::invalid("string is not valid UTF-8"))
    }
}

impl Probe {
    /// Reads the whole container as `dtype` into a new buffer with one read call (HDF5
    /// converts from the stored type); `None` for booleans and complex numbers, which take
    /// the general path.
    pub(crate) fn read_numeric(
        &self,
        c: &Container,
        is_attr: bool,
        dtype: DType,
    ) -> Result<Option<TypedArray>> {
        let Some(native) = native_type(dtype) else {
            return Ok(None);
        };
        if self.null {
            return Ok(None);
        }
        with_dtype!(dtype, T => read_into::<T>(c, is_attr, native, &self.shape)
            .map(|a| Some(T::wrap(a))))
    }
}

impl Probe {
    /// Reads a scalar integer or float with one read call into its native type; `None` for
    /// booleans and complex numbers, which take the general path.
    pub(crate) fn read_scalar(
        &self,
        c: &Container,
        is_attr: bool,
        dtype: DType,
    ) -> Result<Option<super::Num>> {
        let Some(native) = native_type(dtype) else {
            return Ok(None);
        };
        with_dtype!(dtype, T => read_one::<T>(c, is_attr, native).map(|v| Some(v.into())))
    }
}

/// Reads the one element of a container into a `T` whose native HDF5 type is `native`.
fn read_one<T: Element>(c: &Container, is_attr: bool, native: hid_t) -> Result<T> {
    use hdf5_sys::h5a::H5Aread;
    use hdf5_sys::h5d::H5Dread;
    use hdf5_sys::h5p::H5P_DEFAULT;
    use hdf5_sys::h5s::H5S_ALL;

    if T::DTYPE == DType::Bool {
        // Not every byte is a `bool`: the general path reads and checks them.
        return Err(Error::invalid("booleans are read as bytes"));
    }
    let mut value = T::default();
    let status = hdf5::sync::sync(|| unsafe {
        // SAFETY: one element of `native`, the type of `T` (HDF5 converts from the stored
        // width and order), into a value of that type; any bytes are a valid number.
        let buf = (&mut value as *mut T).cast();
        if is_attr {
            H5Aread(c.id(), native, buf)
        } else {
            H5Dread(c.id(), native, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf)
        }
    });
    if status < 0 {
        return Err(Error::invalid("HDF5 could not read the value"));
    }
    Ok(value)
}

/// The native memory type and the little-endian standard file type (what numpy writes on
/// every common machine) of a plain numeric dtype; `None` for booleans and complex numbers.
fn numeric_types(dtype: DType) -> Option<(hid_t, hid_t)> {
    use hdf5_sys::h5t as t;
    Some(match dtype {
        DType::I8 => (*t::H5T_NATIVE_INT8, *t::H5T_STD_I8LE),
        DType::I16 => (*t::H5T_NATIVE_INT16, *t::H5T_STD_I16LE),
        DType::I32 => (*t::H5T_NATIVE_INT32, *t::H5T_STD_I32LE),
        DType::I64 => (*t::H5T_NATIVE_INT64, *t::H5T_STD_I64LE),
        DType::U8 => (*t::H5T_NATIVE_UINT8, *t::H5T_STD_U8LE),
        DType::U16 => (*t::H5T_NATIVE_UINT16, *t::H5T_STD_U16LE),
        DType::U32 => (*t::H5T_NATIVE_UINT32, *t::H5T_STD_U32LE),
        DType::U64 => (*t::H5T_NATIVE_UINT64, *t::H5T_STD_U64LE),
        DType::F32 => (*t::H5T_NATIVE_FLOAT, *t::H5T_IEEE_F32LE),
        DType::F64 => (*t::H5T_NATIVE_DOUBLE, *t::H5T_IEEE_F64LE),
        DType::Bool | DType::C64 | DType::C128 => return None,
    })
}

/// The native memory type of a plain numeric dtype.
fn native_type(dtype: DType) -> Option<hid_t> {
    numeric_types(dtype).map(|(native, _)| native)
}

/// Reads all elements of a container of `shape` into a new array of `T`, whose native
/// HDF5 type is `native`: one allocation (not zeroed first) and one read call.
fn read_into<T: Element>(
    c: &Container,
    is_attr: bool,
    native: hid_t,
    shape: &[usize],
) -> Result<ndarray::ArrayD<T>> {
    use hdf5_sys::h5a::H5Aread;
    use hdf5_sys::h5d::H5Dread;
    use hdf5_sys::h5p::H5P_DEFAULT;
    use hdf5_sys::h5s::H5S_ALL;

    TypedArray::check_shape(shape)?;
    let len: usize = shape.iter().product();
    let fill = |bytes: &mut [std::mem::MaybeUninit<u8>]| {
        if !is_attr && !storage_allocated(c.id()) {
            // HDF5 leaves the buffer as it is where a dataset has no storage yet and no fill
            // value to write (fill time "never"): start from zeros, not from junk.
            // (Attributes always have their data: HDF5 zero-fills unwritten ones.)
            bytes.fill(std::mem::MaybeUninit::new(0));
        }
        let status = hdf5::sync::sync(|| unsafe {
            // SAFETY: `bytes` is the memory of `len` elements of `T`, the number of
            // elements of the container, and `native` the HDF5 type of `T`: HDF5 writes at
            // most that much, and all of it where the container has storage (the rest was
            // zeroed above).
            let out = bytes.as_mut_ptr().cast();
            if is_attr {
                H5Aread(c.id(), native, out)
            } else {
                H5Dread(c.id(), native, H5S_ALL, H5S_ALL, H5P_DEFAULT, out)
            }
        });
        if status < 0 {
            return Err(Error::invalid("HDF5 could not read the data"));
        }
        Ok(())
    };
    // SAFETY: `fill` writes every byte when it succeeds (see its comments).
    let buf = unsafe { crate::array::filled_elements::<T>(len, fill)? };
    ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(shape), buf)
        .map_err(|e| Error::invalid(e.to_string()))
}

/// Whether all of a dataset's storage is allocated (so a read writes every element).
fn storage_allocated(dataset: hid_t) -> bool {
    use hdf5_sys::h5d::{H5D_space_status_t, H5Dget_space_status};
    let mut status = H5D_space_status_t::H5D_SPACE_STATUS_ERROR;
    let ok = hdf5::sync::sync(|| unsafe {
        // SAFETY: a valid dataset id and a place for the status.
        H5Dget_space_status(dataset, &mut status)
    }) >= 0;
    ok && status == H5D_space_status_t::H5D_SPACE_STATUS_ALLOCATED
}

/// Classifies integers, floats and strings from a few type queries; `None` for the rest
/// (booleans are enums and complex numbers compounds: the general path knows them).
fn classify_fast(type_id: hid_t) -> Option<Stored> {
    use hdf5_sys::h5t::{
        H5T_class_t, H5T_cset_t, H5T_sign_t, H5Tget_class, H5Tget_cset, H5Tget_sign, H5Tget_size,
        H5Tis_variable_str,
    };
    hdf5::sync::sync(|| unsafe {
        // SAFETY: `type_id` is an open datatype; these calls only query it.
        match H5Tget_class(type_id) {
            H5T_class_t::H5T_INTEGER => {
                let signed = match H5Tget_sign(type_id) {
                    H5T_sign_t::H5T_SGN_2 => true,
                    H5T_sign_t::H5T_SGN_NONE => false,
                    _ => return None,
                };
                Some(Stored::Num(match (H5Tget_size(type_id), signed) {
                    (1, true) => DType::I8,
                    (2, true) => DType::I16,
                    (4, true) => DType::I32,
                    (8, true) => DType::I64,
                    (1, false) => DType::U8,
                    (2, false) => DType::U16,
                    (4, false) => DType::U32,
                    (8, false) => DType::U64,
                    _ => return None,
                }))
            }
            H5T_class_t::H5T_FLOAT => match H5Tget_size(type_id) {
                4 => Some(Stored::Num(DType::F32)),
                8 => Some(Stored::Num(DType::F64)),
                _ => None,
            },
            H5T_class_t::H5T_STRING => match H5Tis_variable_str(type_id) {
                0 => Some(Stored::Str(StrKind::Fixed)),
                v if v > 0 => match H5Tget_cset(type_id) {
                    H5T_cset_t::H5T_CSET_UTF8 => Some(Stored::Str(StrKind::VarUtf8)),
                    H5T_cset_t::H5T_CSET_ASCII => Some(Stored::Str(StrKind::VarAscii)),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    })
}

/// Opens the attribute `name` of `loc` as an `hdf5::Attribute` with one C call (the crate's
/// `attr()` adds an existence check and handle validation).
pub(crate) fn open_attr(loc: &hdf5::Location, name: &str) -> Result<hdf5::Attribute> {
    use hdf5_sys::h5a::H5Aopen;
    use hdf5_sys::h5p::H5P_DEFAULT;

    let cname = CString::new(name).map_err(|_| Error::invalid("attribute name contains NUL"))?;
    let id = hdf5::sync::sync(|| unsafe {
        // SAFETY: a valid location id and a NUL-terminated name.
        H5Aopen(loc.id(), cname.as_ptr(), H5P_DEFAULT)
    });
    if id < 0 {
        return Err(Error::invalid(format!(
            "cannot open the attribute `{name}`"
        )));
    }
    // SAFETY: `id` is a new attribute identifier, handed to exactly one owner.
    Ok(unsafe { hdf5::from_id::<hdf5::Attribute>(id)? })
}

/// HDF5 objects made once for the life of the process and shared by every write (HDF5
/// identifiers are global): a scalar dataspace and the variable-length UTF-8 string type.
/// `None` if HDF5 could not make them, and the writes then take the `hdf5` crate's way.
struct Shared {
    scalar: hid_t,
    vlen_utf8: hid_t,
    /// Link creation that makes missing intermediate groups (`to_file(path, "a/b", ..)`).
    lcpl: hid_t,
}

fn shared() -> Option<&'static Shared> {
    use hdf5_sys::h5p::{
        H5Pclose, H5Pcreate, H5Pset_create_intermediate_group, H5P_CLS_LINK_CREATE,
    };
    use hdf5_sys::h5s::{H5S_class_t, H5Sclose, H5Screate};
    use hdf5_sys::h5t::{
        H5T_cset_t, H5Tclose, H5Tcopy, H5Tset_cset, H5Tset_size, H5T_C_S1, H5T_VARIABLE,
    };
    use std::sync::OnceLock;

    static SHARED: OnceLock<Option<Shared>> = OnceLock::new();
    SHARED
        .get_or_init(|| {
            hdf5::sync::sync(|| unsafe {
                // SAFETY: each call makes or configures a new identifier, kept for ever if
                // all succeed and closed here otherwise.
                let scalar = OwnedId::new(H5Screate(H5S_class_t::H5S_SCALAR), H5Sclose)?;
                let vlen_utf8 = OwnedId::new(H5Tcopy(*H5T_C_S1), H5Tclose)?;
                let lcpl = OwnedId::new(H5Pcreate(*H5P_CLS_LINK_CREATE), H5Pclose)?;
                let ok = H5Tset_size(vlen_utf8.id, H5T_VARIABLE) >= 0
                    && H5Tset_cset(vlen_utf8.id, H5T_cset_t::H5T_CSET_UTF8) >= 0
                    && H5Pset_create_intermediate_group(lcpl.id, 1) >= 0;
                ok.then(|| Shared {
                    scalar: scalar.keep(),
                    vlen_utf8: vlen_utf8.keep(),
                    lcpl: lcpl.keep(),
                })
            })
        })
        .as_ref()
}

/// Header space, in units of one 16-character link message (about 30 bytes), reserved per
/// expected entry of a group: a scalar attribute takes one and a half to two units (a
/// string's type and heap reference), a link one.
const UNITS_PER_ENTRY: usize = 2;
/// Group-creation lists are made for header sizes of 8, 16, ... up to this many units.
const UNIT_STEP: usize = 8;
const MAX_UNITS: usize = 64;

/// The group-creation property list for a group expected to hold `entries` attributes and
/// links (or `H5P_DEFAULT` if HDF5 could not make one). Made once per size class.
///
/// Both settings exist for speed:
/// * attribute creation order is tracked, which gives the group a version-2 object header:
///   its attributes move to indexed ("dense") storage past 8, even in a file of HDF5's
///   earliest format (a user's file handed to `to_group`). Without it a list or dict of n
///   scalars is O(n²) to write and read (10,000 `int64` attributes: 1.9 s to write and
///   0.4 s to read here, against 35 ms and 12 ms);
/// * in files of the 1.8 format (those `to_file` makes), the first block of the object
///   header is sized for its entries (`est_link_info`; HDF5 ignores it for groups of the
///   earliest format), so that the attributes written after the group is made fit in it
///   instead of in continuation blocks elsewhere in the file, each one more metadata read
///   later. W1's
///   layout in C, 20,000 objects: read 0.66-0.72 s -> 0.41-0.44 s, write 0.64-0.66 s ->
///   0.47-0.51 s, file 14.4 MB -> 14.8 MB.
fn group_create_list(entries: usize) -> hid_t {
    use hdf5_sys::h5p::{
        H5Pcreate, H5Pset_attr_creation_order, H5Pset_est_link_info, H5P_CLS_GROUP_CREATE,
        H5P_CRT_ORDER_TRACKED, H5P_DEFAULT,
    };
    use std::sync::OnceLock;

    const CLASSES: usize = MAX_UNITS / UNIT_STEP;
    static LISTS: [OnceLock<Option<hid_t>>; CLASSES] = [const { OnceLock::new() }; CLASSES];
    let units = (entries.saturating_mul(UNITS_PER_ENTRY)).clamp(UNIT_STEP, MAX_UNITS);
    let class = units.div_ceil(UNIT_STEP) - 1;
    let units = (class + 1) * UNIT_STEP;
    LISTS[class]
        .get_or_init(|| {
            hdf5::sync::sync(|| unsafe {
                // SAFETY: creates a group-creation property list and sets two properties.
                let id = H5Pcreate(*H5P_CLS_GROUP_CREATE);
                (id >= 0
                    && H5Pset_attr_creation_order(id, H5P_CRT_ORDER_TRACKED) >= 0
                    && H5Pset_est_link_info(id, units as u32, 16) >= 0)
                    .then_some(id)
            })
        })
        .unwrap_or(H5P_DEFAULT)
}

/// Creates the group `name` in `parent`, expected to hold about `entries` attributes and
/// links (see [`group_create_list`] for what that buys).
pub(crate) fn create_group(
    parent: &hdf5::Group,
    name: &str,
    entries: usize,
) -> Result<hdf5::Group> {
    use hdf5_sys::h5g::H5Gcreate2;
    use hdf5_sys::h5p::H5P_DEFAULT;

    let gcpl = group_create_list(entries);
    let lcpl = shared().map_or(H5P_DEFAULT, |s| s.lcpl);
    let cname = CString::new(name).map_err(|_| Error::invalid("group name contains NUL"))?;
    let id = hdf5::sync::sync(|| unsafe {
        // SAFETY: a valid parent id, a NUL-terminated name and valid property lists.
        H5Gcreate2(parent.id(), cname.as_ptr(), lcpl, gcpl, H5P_DEFAULT)
    });
    if id < 0 {
        return Err(Error::invalid(format!(
            "cannot create the group `{name}` (does an entry of that name exist?)"
        )));
    }
    // SAFETY: `id` is a new group identifier, handed to exactly one owner.
    Ok(unsafe { hdf5::from_id::<hdf5::Group>(id)? })
}

/// Creates the scalar attribute `name` of `loc` with `file_type` and writes the value at
/// `value` (of `mem_type`) into it: three C calls.
///
/// # Safety
/// `value` must point to one valid value of `mem_type`.
unsafe fn write_scalar_attr(
    loc: &hdf5::Location,
    name: &str,
    file_type: hid_t,
    mem_type: hid_t,
    value: *const std::ffi::c_void,
    scalar: hid_t,
) -> Result<()> {
    use hdf5_sys::h5a::{H5Aclose, H5Acreate2, H5Awrite};
    use hdf5_sys::h5p::H5P_DEFAULT;

    let cname = CString::new(name).map_err(|_| Error::invalid("attribute name contains NUL"))?;
    let ok = hdf5::sync::sync(|| unsafe {
        // SAFETY: valid ids, a NUL-terminated name, and `value` as the caller promises.
        let attr = H5Acreate2(
            loc.id(),
            cname.as_ptr(),
            file_type,
            scalar,
            H5P_DEFAULT,
            H5P_DEFAULT,
        );
        if attr < 0 {
            return false;
        }
        let written = H5Awrite(attr, mem_type, value) >= 0;
        H5Aclose(attr) >= 0 && written
    });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "cannot write the attribute `{name}` (does one of that name exist?)"
        )))
    }
}

/// Writes a variable-length UTF-8 string attribute; `false` if the shared types are
/// missing (the caller then takes the general path).
pub(crate) fn write_str_attr(loc: &hdf5::Location, name: &str, value: &str) -> Result<bool> {
    let Some(shared) = shared() else {
        return Ok(false);
    };
    let text = CString::new(value)
        .map_err(|_| Error::unsupported("strings containing NUL cannot be stored in HDF5"))?;
    let ptr: *const c_char = text.as_ptr();
    // SAFETY: a variable-length string in memory is one `char *` to NUL-terminated text.
    unsafe {
        write_scalar_attr(
            loc,
            name,
            shared.vlen_utf8,
            shared.vlen_utf8,
            (&ptr as *const *const c_char).cast(),
            shared.scalar,
        )?
    };
    Ok(true)
}

/// Writes an integer or float attribute as its little-endian standard type (what numpy
/// writes on every common machine); `false` for booleans and complex numbers, and if the
/// shared types are missing (the general path then writes them).
pub(crate) fn write_num_attr(loc: &hdf5::Location, name: &str, value: super::Num) -> Result<bool> {
    let dtype = value.dtype();
    let (Some(shared), Some((native, file))) = (shared(), numeric_types(dtype)) else {
        return Ok(false);
    };
    // The value's bytes in memory order (HDF5 copies them out, so alignment is no matter).
    let mut bytes = Vec::with_capacity(dtype.size());
    value.extend_bytes(&mut bytes);
    // SAFETY: `bytes` holds one value of the native type of `dtype`.
    unsafe {
        write_scalar_attr(
            loc,
            name,
            file,
            native,
            bytes.as_ptr().cast(),
            shared.scalar,
        )?
    };
    Ok(true)
}

/// Creates the dataset `name` of `shape` in `group` and writes `bytes` (exactly the
/// elements of `shape`, native order) with one write call; `false` for booleans and
/// complex numbers, which take the general path.
pub(crate) fn write_dataset(
    group: &hdf5::Group,
    name: &str,
    dtype: DType,
    shape: &[usize],
    bytes: &[u8],
) -> Result<bool> {
    use hdf5_sys::h5d::{H5Dclose, H5Dcreate2, H5Dwrite};
    use hdf5_sys::h5p::H5P_DEFAULT;
    use hdf5_sys::h5s::{H5S_class_t, H5Sclose, H5Screate, H5Screate_simple, H5S_ALL};

    let Some((native, file)) = numeric_types(dtype) else {
        return Ok(false);
    };
    debug_assert_eq!(shape.iter().product::<usize>() * dtype.size(), bytes.len());
    let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let cname = CString::new(name).map_err(|_| Error::invalid("dataset name contains NUL"))?;
    let rank = i32::try_from(dims.len()).map_err(|_| Error::invalid("too many dimensions"))?;
    let ok = hdf5::sync::sync(|| unsafe {
        // SAFETY: `dims` has `rank` entries; `bytes` holds exactly the elements of `shape`
        // in the native type (checked by the caller), which HDF5 only reads.
        let space = if dims.is_empty() {
            H5Screate(H5S_class_t::H5S_SCALAR)
        } else {
            H5Screate_simple(rank, dims.as_ptr(), std::ptr::null())
        };
        let Some(space) = OwnedId::new(space, H5Sclose) else {
            return false;
        };
        let ds = H5Dcreate2(
            group.id(),
            cname.as_ptr(),
            file,
            space.id,
            H5P_DEFAULT,
            H5P_DEFAULT,
            H5P_DEFAULT,
        );
        let Some(ds) = OwnedId::new(ds, H5Dclose) else {
            return false;
        };
        H5Dwrite(
            ds.id,
            native,
            H5S_ALL,
            H5S_ALL,
            H5P_DEFAULT,
            bytes.as_ptr().cast(),
        ) >= 0
    });
    if ok {
        Ok(true)
    } else {
        Err(Error::invalid(format!(
            "cannot write the dataset `{name}` (does an entry of that name exist?)"
        )))
    }
}

/// Marks the file descriptor of `file` close-on-exec.
///
/// Why: HDF5 opens files without `O_CLOEXEC` and locks them with `flock`. A child process
/// started (by any thread) while the file is open inherits the descriptor, and with it the
/// lock, for as long as it runs: reopening the file then fails with "unable to lock file,
/// errno = 11" although this process closed it. Only the default (`sec2`) driver has a
/// plain descriptor; other drivers are left as they are.
pub(crate) fn close_on_exec(file: &hdf5::File) {
    #[cfg(unix)]
    {
        use hdf5::file::FileDriver;
        use hdf5_sys::h5f::H5Fget_vfd_handle;
        use hdf5_sys::h5p::H5P_DEFAULT;

        if !matches!(
            file.access_plist().map(|p| p.driver()),
            Ok(FileDriver::Sec2)
        ) {
            return;
        }
        let mut handle: *mut std::ffi::c_void = std::ptr::null_mut();
        let status = hdf5::sync::sync(|| unsafe {
            // SAFETY: a valid file id; HDF5 stores a pointer to its handle in `handle`.
            H5Fget_vfd_handle(file.id(), H5P_DEFAULT, &mut handle)
        });
        if status < 0 || handle.is_null() {
            return;
        }
        // SAFETY: for the sec2 driver the handle points to the file's `int` descriptor,
        // which stays open while `file` is; F_SETFD only changes the descriptor's flags.
        unsafe {
            let fd = *(handle as *const std::ffi::c_int);
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}
