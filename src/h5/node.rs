//! Attributes and datasets ("nodes": where values are stored), read and written whole.
//!
//! Each operation exists once and picks its fast path inside: plain numbers and strings go
//! straight through C calls with the shared types of [`ffi`](super::ffi); booleans and
//! complex numbers are read in the native form of their stored type and checked; anything
//! else is classified by the `hdf5` crate's type descriptor and reported. Whether a node is
//! an attribute or a dataset matters only where HDF5's calls differ ([`NodeKind`]).

use std::ffi::{c_char, c_void, CStr};

use hdf5::Group;
use hdf5_sys::h5i::hid_t;

use super::ffi::{self, c_name, call, OwnedId};
use super::{filters, scope, write_scope};
use crate::dtype::{filled_bytes, filled_elements, with_dtype, DType, Element, Scalar, TypedArray};
use crate::error::{Error, Result};

/// Whether a node is an attribute or a dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Attribute,
    Dataset,
}

impl NodeKind {
    fn name(self) -> &'static str {
        match self {
            NodeKind::Attribute => "attribute",
            NodeKind::Dataset => "dataset",
        }
    }
}

/// What an HDF5 datatype holds, as far as the layout is concerned.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Stored {
    /// A numeric, boolean or complex element.
    Num(DType),
    /// A string, in any of HDF5's encodings.
    Str(StrKind),
    /// Anything else (references, other compounds, ...): reported, never read.
    Other(String),
}

impl Stored {
    /// A short description for error messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Stored::Num(d) => d.name().to_string(),
            Stored::Str(_) => "string".into(),
            Stored::Other(s) => s.clone(),
        }
    }
}

/// The encodings of HDF5 strings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum StrKind {
    VarUtf8,
    VarAscii,
    Fixed,
}

/// An attribute or dataset with what it holds: its type, shape, and whether its dataspace
/// is null (a name with no value). Open in the file, or an attribute whose value was read
/// ahead ([`Loaded`]).
pub(crate) struct Node {
    handle: Handle,
    kind: NodeKind,
    pub stored: Stored,
    pub shape: Vec<usize>,
    pub null: bool,
}

/// Where a node's value comes from.
enum Handle {
    Open {
        id: OwnedId,
        /// The stored type, kept to read strings and to derive memory types from.
        type_id: OwnedId,
    },
    Loaded(Loaded),
}

/// The value of a scalar attribute read ahead of its use, in one pass over a group's
/// attributes (see [`load_attributes`]). Only what needs no budget check to hold is read
/// ahead; the reads of a [`Node`] made from it charge the budget and check the value (UTF-8)
/// as reading the attribute would have, at the same point.
pub(crate) enum Loaded {
    /// A number, bool or complex number (as read with the node's memory type).
    Scalar(Scalar),
    /// The bytes of a variable-length string.
    Vlen(StrKind, Vec<u8>),
    /// A null dataspace, and the type stored with it.
    Null(Stored),
}

impl Node {
    /// Opens the attribute `name` of the object `loc`.
    pub(crate) fn attribute(loc: hid_t, name: &str) -> Result<Node> {
        use hdf5_sys::h5a::{H5Aclose, H5Aopen};
        use hdf5_sys::h5p::H5P_DEFAULT;

        let cname = c_name(name, "attribute")?;
        let op = || format!("cannot open the attribute `{name}`");
        // SAFETY: a valid location id and a NUL-terminated name; the id is owned.
        let id = OwnedId::new(op, H5Aclose, || unsafe {
            H5Aopen(loc, cname.as_ptr(), H5P_DEFAULT)
        })?;
        Node::probe(id, NodeKind::Attribute)
    }

    /// A dataset opened by [`open_link`](super::group::open_link). Its data must be in
    /// the file (external raw storage and virtual datasets are refused unless the read
    /// allows data outside the file), and behind filters this program can decode.
    pub(crate) fn dataset(id: OwnedId) -> Result<Node> {
        check_storage(&id)?;
        Node::probe(id, NodeKind::Dataset)
    }

    /// Asks the node its type and extent.
    fn probe(id: OwnedId, kind: NodeKind) -> Result<Node> {
        use hdf5_sys::h5a::{H5Aget_space, H5Aget_type};
        use hdf5_sys::h5d::{H5Dget_space, H5Dget_type};
        use hdf5_sys::h5s::{
            H5S_class_t, H5Sclose, H5Sget_simple_extent_dims, H5Sget_simple_extent_ndims,
            H5Sget_simple_extent_type,
        };
        use hdf5_sys::h5t::H5Tclose;

        let node = id.id();
        let what = kind.name();
        // SAFETY: `node` is an open node of `kind`; the type id made is owned.
        let type_id = OwnedId::new(
            || format!("cannot read the datatype of the {what}"),
            H5Tclose,
            || unsafe {
                match kind {
                    NodeKind::Attribute => H5Aget_type(node),
                    NodeKind::Dataset => H5Dget_type(node),
                }
            },
        )?;
        let space_op = || format!("cannot read the dataspace of the {what}");
        // SAFETY: `node` is an open node of `kind`; the dataspace id made is owned.
        let space = OwnedId::new(space_op, H5Sclose, || unsafe {
            match kind {
                NodeKind::Attribute => H5Aget_space(node),
                NodeKind::Dataset => H5Dget_space(node),
            }
        })?;
        // SAFETY: queries a dataspace we own.
        let class = hdf5::sync::sync(|| unsafe { H5Sget_simple_extent_type(space.id()) });
        let (shape, null) = match class {
            H5S_class_t::H5S_NULL => (Vec::new(), true),
            H5S_class_t::H5S_SCALAR => (Vec::new(), false),
            H5S_class_t::H5S_SIMPLE => {
                // SAFETY: queries a dataspace we own.
                let ndims = call(space_op, || unsafe {
                    H5Sget_simple_extent_ndims(space.id())
                })?;
                let mut dims = vec![0u64; ndims as usize];
                // SAFETY: `dims` has room for the `ndims` dimensions of a dataspace we own.
                call(space_op, || unsafe {
                    H5Sget_simple_extent_dims(space.id(), dims.as_mut_ptr(), std::ptr::null_mut())
                })?;
                let shape = dims
                    .iter()
                    .map(|&d| usize::try_from(d))
                    .collect::<std::result::Result<Vec<usize>, _>>()
                    .map_err(|_| Error::invalid(format!("{what} too large for this machine")))?;
                (shape, false)
            }
            _ => return Err(Error::invalid(format!("{what} has an invalid dataspace"))),
        };
        let stored = classify(type_id.id())?;
        Ok(Node {
            handle: Handle::Open { id, type_id },
            kind,
            stored,
            shape,
            null,
        })
    }

    /// The attribute whose value was read ahead.
    pub(crate) fn loaded(value: Loaded) -> Node {
        let (stored, null) = match &value {
            Loaded::Scalar(s) => (Stored::Num(s.dtype()), false),
            Loaded::Vlen(kind, _) => (Stored::Str(*kind), false),
            Loaded::Null(stored) => (stored.clone(), true),
        };
        Node {
            handle: Handle::Loaded(value),
            kind: NodeKind::Attribute,
            stored,
            shape: Vec::new(),
            null,
        }
    }

    /// Reads the value of a scalar or null attribute ahead of its use, or `None` for
    /// anything else (arrays, fixed-length strings, other types) and on any error: those
    /// are read when used, which reports the error in its place.
    fn load(&self) -> Option<Loaded> {
        if self.kind != NodeKind::Attribute {
            return None;
        }
        if self.null {
            return Some(Loaded::Null(self.stored.clone()));
        }
        if !self.shape.is_empty() {
            return None;
        }
        match self.stored {
            Stored::Num(dtype) => {
                // The memory type `read_scalar` and `read_array` use, so the value is the
                // one they would read.
                let (mem, _native) = self.memory_type(dtype).ok()?;
                let mut buf = [0u8; 16];
                let bytes = buf.get_mut(..dtype.size())?;
                // SAFETY: one element of `mem`, whose size is `dtype.size()` (checked by
                // `memory_type`).
                unsafe { self.read_raw(mem, bytes.as_mut_ptr().cast()).ok()? };
                Scalar::from_le_bytes(dtype, bytes).ok().map(Loaded::Scalar)
            }
            Stored::Str(kind @ (StrKind::VarUtf8 | StrKind::VarAscii)) => {
                self.vlen_scalar_bytes().ok().map(|b| Loaded::Vlen(kind, b))
            }
            _ => None,
        }
    }

    /// The node's identifier and stored type, for a read from the file.
    fn open_ids(&self) -> Result<(hid_t, hid_t)> {
        match &self.handle {
            Handle::Open { id, type_id } => Ok((id.id(), type_id.id())),
            Handle::Loaded(_) => Err(Error::invalid(
                "internal error: a value read ahead was read again from the file",
            )),
        }
    }

    /// The value read ahead, if the node has one.
    fn loaded_value(&self) -> Option<&Loaded> {
        match &self.handle {
            Handle::Loaded(value) => Some(value),
            Handle::Open { .. } => None,
        }
    }

    pub(crate) fn kind(&self) -> NodeKind {
        self.kind
    }

    /// The number of elements.
    fn len(&self) -> usize {
        if self.null {
            0
        } else {
            self.shape.iter().product()
        }
    }

    /// Reads the whole node with memory type `mem` into `buf`, which must hold
    /// [`len`](Self::len) elements of it: the one place that knows how to read an
    /// attribute and how a dataset.
    ///
    /// # Safety
    /// `buf` must point to writable memory for all the node's elements in type `mem`.
    unsafe fn read_raw(&self, mem: hid_t, buf: *mut c_void) -> Result<()> {
        use hdf5_sys::h5a::H5Aread;
        use hdf5_sys::h5d::H5Dread;
        use hdf5_sys::h5p::H5P_DEFAULT;
        use hdf5_sys::h5s::H5S_ALL;

        let op = || format!("cannot read the {}", self.kind.name());
        let (id, _) = self.open_ids()?;
        call(op, || unsafe {
            // SAFETY: as the caller promises.
            match self.kind {
                NodeKind::Attribute => H5Aread(id, mem, buf),
                NodeKind::Dataset => H5Dread(id, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf),
            }
        })?;
        Ok(())
    }

    /// Whether a read writes every element: HDF5 leaves the buffer as it is where a
    /// dataset has no storage yet and no fill value to write (fill time "never").
    /// Attributes always have their data (HDF5 zero-fills unwritten ones).
    fn read_fills_all(&self) -> bool {
        use hdf5_sys::h5d::{H5D_space_status_t, H5Dget_space_status};
        let Ok((id, _)) = self.open_ids() else {
            return true;
        };
        if self.kind == NodeKind::Attribute {
            return true;
        }
        let mut status = H5D_space_status_t::H5D_SPACE_STATUS_ERROR;
        let ok = hdf5::sync::sync(|| unsafe {
            // SAFETY: a valid dataset id and a place for the status.
            H5Dget_space_status(id, &mut status)
        }) >= 0;
        ok && status == H5D_space_status_t::H5D_SPACE_STATUS_ALLOCATED
    }

    /// The stored dtype of a numeric node, or an error naming what it holds.
    fn numeric(&self) -> Result<DType> {
        match self.stored {
            Stored::Num(d) => Ok(d),
            ref other => Err(Error::invalid(format!(
                "expected a number, found {}",
                other.describe()
            ))),
        }
    }

    /// Reads the one value of a scalar numeric node (or the first of a one-element one).
    pub(crate) fn read_scalar(&self) -> Result<Scalar> {
        let dtype = self.numeric()?;
        if dtype.is_plain_number() && !self.null && self.len() == 1 {
            if let Some(Loaded::Scalar(value)) = self.loaded_value() {
                return Ok(*value);
            }
            // One element straight into its native type (HDF5 converts width and order).
            let mem = ffi::shared()?.type_of(dtype);
            return with_dtype!(dtype, T => {
                let mut value = T::default();
                // SAFETY: one element of `mem`, the type of `T`; every bit pattern is a
                // valid number.
                unsafe { self.read_raw(mem, (&mut value as *mut T).cast())? };
                Ok(Scalar::from(value))
            });
        }
        self.read_array()?
            .first()
            .ok_or_else(|| Error::invalid("empty attribute"))
    }

    /// Reads the whole node as an array of its stored dtype, in one read call into a new
    /// buffer (not zeroed first where HDF5 writes every byte).
    pub(crate) fn read_array(&self) -> Result<TypedArray> {
        let dtype = self.numeric()?;
        TypedArray::check_shape(&self.shape)?;
        let n = self.len();
        let nbytes = n
            .checked_mul(dtype.size())
            .ok_or_else(|| Error::invalid(format!("array shape {:?} is too large", self.shape)))?;
        if n == 0 {
            return Ok(TypedArray::zeros(dtype, &self.shape));
        }
        scope::charge(nbytes as u64, || {
            format!(
                "the {} of shape {:?} ({nbytes} bytes of {dtype})",
                self.kind.name(),
                self.shape
            )
        })?;
        if let Some(Loaded::Scalar(value)) = self.loaded_value() {
            let mut bytes = Vec::with_capacity(16);
            value.extend_bytes(&mut bytes);
            return TypedArray::from_le_bytes(dtype, &self.shape, &bytes);
        }
        let (mem, _native) = self.memory_type(dtype)?;
        let fill = |bytes: &mut [std::mem::MaybeUninit<u8>]| {
            if !self.read_fills_all() {
                bytes.fill(std::mem::MaybeUninit::new(0));
            }
            // SAFETY: `bytes` holds all elements of the node in `mem`, whose size is
            // `dtype.size()` (checked by `memory_type`).
            unsafe { self.read_raw(mem, bytes.as_mut_ptr().cast()) }
        };
        if dtype == DType::Bool {
            // Not every byte is a `bool`: read bytes, then check each is 0 or 1.
            // SAFETY: `fill` writes every byte when it succeeds (see above).
            let raw = unsafe { filled_bytes(nbytes, fill)? };
            return TypedArray::from_le_bytes(dtype, &self.shape, &raw);
        }
        with_dtype!(dtype, T => {
            // SAFETY: as above; every bit pattern is a valid number (bool is handled above).
            let elements: Vec<T> = unsafe { filled_elements(n, fill)? };
            ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&self.shape), elements)
                .map(T::wrap)
                .map_err(|e| Error::invalid(e.to_string()))
        })
    }

    /// The dataset's identifier (for the lazy arrays and row appends of
    /// [`lazy`](super::lazy), which read and write parts of it).
    pub(crate) fn id(&self) -> Result<hid_t> {
        self.open_ids().map(|(id, _)| id)
    }

    /// Reads the hyperslab `start`/`stride`/`count` (one entry per axis) of a numeric
    /// dataset, in its stored dtype, with one read call into a new buffer of the
    /// selection's size. An empty selection reads nothing.
    pub(crate) fn read_selection(
        &self,
        start: &[u64],
        stride: &[u64],
        count: &[u64],
    ) -> Result<TypedArray> {
        use hdf5_sys::h5d::{H5Dget_space, H5Dread};
        use hdf5_sys::h5p::H5P_DEFAULT;
        use hdf5_sys::h5s::{H5S_seloper_t, H5Sclose, H5Screate_simple, H5Sselect_hyperslab};

        let dtype = self.numeric()?;
        if self.kind != NodeKind::Dataset || self.null || count.len() != self.shape.len() {
            return Err(Error::invalid(
                "a selection is read from a dataset of as many dimensions",
            ));
        }
        let shape = count
            .iter()
            .map(|&c| usize::try_from(c))
            .collect::<std::result::Result<Vec<usize>, _>>()
            .map_err(|_| Error::invalid("selection too large for this machine"))?;
        TypedArray::check_shape(&shape)?;
        let n = shape.iter().product::<usize>();
        if n == 0 {
            return Ok(TypedArray::zeros(dtype, &shape));
        }
        let op = || "cannot read the selection of the dataset".to_string();
        let id = self.id()?;
        // SAFETY: the dataspace made is owned.
        let file_space = OwnedId::new(op, H5Sclose, || unsafe { H5Dget_space(id) })?;
        // SAFETY: `start`, `stride` and `count` have one entry per axis of the dataspace.
        call(op, || unsafe {
            H5Sselect_hyperslab(
                file_space.id(),
                H5S_seloper_t::H5S_SELECT_SET,
                start.as_ptr(),
                stride.as_ptr(),
                count.as_ptr(),
                std::ptr::null(),
            )
        })?;
        let rank = count.len() as i32;
        // SAFETY: `count` has `rank` entries; the dataspace made is owned.
        let mem_space = OwnedId::new(op, H5Sclose, || unsafe {
            H5Screate_simple(rank, count.as_ptr(), std::ptr::null())
        })?;
        let (mem, _native) = self.memory_type(dtype)?;
        let fill = |bytes: &mut [std::mem::MaybeUninit<u8>]| {
            if !self.read_fills_all() {
                bytes.fill(std::mem::MaybeUninit::new(0));
            }
            // SAFETY: `bytes` holds the `n` selected elements in `mem`, whose size is
            // `dtype.size()` (checked by `memory_type`).
            call(op, || unsafe {
                H5Dread(
                    id,
                    mem,
                    mem_space.id(),
                    file_space.id(),
                    H5P_DEFAULT,
                    bytes.as_mut_ptr().cast(),
                )
            })
            .map(|_| ())
        };
        if dtype == DType::Bool {
            // SAFETY: `fill` writes every byte when it succeeds.
            let raw = unsafe { filled_bytes(n * dtype.size(), fill)? };
            return TypedArray::from_le_bytes(dtype, &shape, &raw);
        }
        with_dtype!(dtype, T => {
            // SAFETY: as above; every bit pattern is a valid number (bool is handled above).
            let elements: Vec<T> = unsafe { filled_elements(n, fill)? };
            ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), elements)
                .map(T::wrap)
                .map_err(|e| Error::invalid(e.to_string()))
        })
    }

    /// The memory type to read a numeric node of `dtype` with: the shared type for plain
    /// numbers (HDF5 converts from any stored width and byte order); for booleans and
    /// complex numbers the native form of the stored type (HDF5 converts compounds and
    /// enums by member name, and files name complex parts `r`/`i`, `real`/`imag` or
    /// `re`/`im`), checked to have the element's size. The second value owns a type made
    /// for this read.
    fn memory_type(&self, dtype: DType) -> Result<(hid_t, Option<OwnedId>)> {
        use hdf5_sys::h5t::{H5T_direction_t, H5Tclose, H5Tget_native_type, H5Tget_size};
        if dtype.is_plain_number() {
            return Ok((ffi::shared()?.type_of(dtype), None));
        }
        let op = || "cannot make the memory type".to_string();
        let (_, type_id) = self.open_ids()?;
        // SAFETY: derives a new type (owned) from the node's stored type.
        let native = OwnedId::new(op, H5Tclose, || unsafe {
            H5Tget_native_type(type_id, H5T_direction_t::H5T_DIR_ASCEND)
        })?;
        // SAFETY: queries a type we own.
        let size = hdf5::sync::sync(|| unsafe { H5Tget_size(native.id()) });
        if size != dtype.size() {
            return Err(Error::invalid(format!(
                "a {dtype} stored in {size} bytes per element"
            )));
        }
        Ok((native.id(), Some(native)))
    }

    /// Reads the string of a scalar string node.
    pub(crate) fn read_string(&self) -> Result<String> {
        if let Stored::Str(StrKind::VarUtf8 | StrKind::VarAscii) = self.stored {
            if self.shape.is_empty() && !self.null {
                return self.read_vlen_scalar();
            }
        }
        self.read_strings()?
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid("empty string attribute"))
    }

    /// Reads the one variable-length string of a scalar node.
    fn read_vlen_scalar(&self) -> Result<String> {
        let bytes = match self.loaded_value() {
            Some(Loaded::Vlen(_, bytes)) => bytes.clone(),
            _ => self.vlen_scalar_bytes()?,
        };
        scope::charge(bytes.len() as u64, || {
            format!("a string of {} bytes", bytes.len())
        })?;
        utf8(bytes)
    }

    /// The bytes of the one variable-length string of a scalar node (empty for an unset
    /// string), read from the file.
    fn vlen_scalar_bytes(&self) -> Result<Vec<u8>> {
        use hdf5_sys::h5::H5free_memory;
        let (_, type_id) = self.open_ids()?;
        let mut ptr: *mut c_char = std::ptr::null_mut();
        // SAFETY: the node is scalar and its type a variable-length string, so HDF5 writes
        // one `char *` (allocated by HDF5, or null for an unset string) into `ptr`.
        unsafe {
            self.read_raw(type_id, (&mut ptr as *mut *mut c_char).cast())?;
        }
        if ptr.is_null() {
            return Ok(Vec::new());
        }
        Ok(hdf5::sync::sync(|| unsafe {
            // SAFETY: a NUL-terminated string HDF5 allocated; copied out, then freed with
            // HDF5's allocator.
            let bytes = CStr::from_ptr(ptr).to_bytes().to_vec();
            H5free_memory(ptr.cast());
            bytes
        }))
    }

    /// Reads all strings of a node, in storage order.
    pub(crate) fn read_strings(&self) -> Result<Vec<String>> {
        use hdf5_sys::h5::H5free_memory;
        use hdf5_sys::h5t::H5Tget_size;

        let kind = match self.stored {
            Stored::Str(kind) => kind,
            ref other => {
                return Err(Error::invalid(format!(
                    "expected a string, found {}",
                    other.describe()
                )))
            }
        };
        let n = self.len();
        if n == 0 {
            return Ok(Vec::new());
        }
        let what = || format!("the {} of {n} strings", self.kind.name());
        scope::charge((n as u64).saturating_mul(STRING_BYTES), what)?;
        if let Some(Loaded::Vlen(_, bytes)) = self.loaded_value() {
            scope::charge(bytes.len() as u64, what)?;
            return utf8(bytes.clone()).map(|s| vec![s]);
        }
        let (_, type_id) = self.open_ids()?;
        if kind == StrKind::Fixed {
            // SAFETY: queries a type we own.
            let width = hdf5::sync::sync(|| unsafe { H5Tget_size(type_id) });
            let nbytes = width
                .checked_mul(n)
                .ok_or_else(|| Error::invalid("string array too large"))?;
            scope::charge(nbytes as u64, what)?;
            if width == 0 {
                return Ok(vec![String::new(); n]);
            }
            // SAFETY: `n` strings of `width` bytes in the stored type; `fill` below writes
            // them all (or zeroes first).
            let bytes = unsafe {
                filled_bytes(nbytes, |buf| {
                    if !self.read_fills_all() {
                        buf.fill(std::mem::MaybeUninit::new(0));
                    }
                    self.read_raw(type_id, buf.as_mut_ptr().cast())
                })?
            };
            return bytes
                .chunks(width)
                .map(|chunk| {
                    // Fixed-length strings are NUL-padded (h5py) or NUL-terminated.
                    let end = chunk.iter().position(|&b| b == 0).unwrap_or(chunk.len());
                    utf8(chunk[..end].to_vec())
                })
                .collect();
        }
        let mut ptrs: Vec<*mut c_char> = Vec::new();
        ptrs.try_reserve_exact(n)
            .map_err(|_| Error::invalid(format!("cannot allocate {n} strings")))?;
        ptrs.resize(n, std::ptr::null_mut());
        // SAFETY: `n` variable-length strings: HDF5 writes one `char *` each.
        unsafe { self.read_raw(type_id, ptrs.as_mut_ptr().cast())? };
        let texts: Vec<Vec<u8>> = hdf5::sync::sync(|| {
            ptrs.iter()
                .map(|&p| {
                    if p.is_null() {
                        return Vec::new();
                    }
                    // SAFETY: NUL-terminated strings HDF5 allocated; copied, then freed.
                    unsafe {
                        let bytes = CStr::from_ptr(p).to_bytes().to_vec();
                        H5free_memory(p.cast());
                        bytes
                    }
                })
                .collect()
        });
        let total: usize = texts.iter().map(Vec::len).sum();
        scope::charge(total as u64, what)?;
        texts.into_iter().map(utf8).collect()
    }
}

/// Bytes charged per string read (a `String`'s own size).
const STRING_BYTES: u64 = 24;

/// What one pass over the attributes of a group found (see [`load_attributes`]).
pub(crate) struct AttributePass<K> {
    /// The values read ahead, with their keys, in the order of the pass.
    pub loaded: Vec<(K, Loaded)>,
    /// The names of the other attributes, in the order of the pass.
    pub others: Vec<String>,
    /// Whether the pass went through every attribute (it ends at an error).
    pub complete: bool,
}

/// Reads ahead the values of the attributes of `group` that `select` picks by name (giving
/// each a key), in one pass over the attributes in the order of HDF5's name index, and lists
/// the names of the others. It holds at most `limit` bytes of values (the read's budget
/// left; the reads of the nodes made from them charge the budget as they are used).
/// Attributes it cannot read ahead (see [`Node::load`]) or past the limit are listed with
/// the others, to be opened by name when used.
///
/// Why one pass: HDF5 keeps the attributes of a group with more than 8 in "dense" storage,
/// a fractal heap of attribute messages (in creation order) indexed by a v2 B-tree ordered
/// by the hash of the name ([`name_hash`]). Opening n attributes by name one at a time walks
/// that B-tree from its root n times, at places spread over all of it; past some 100,000
/// attributes the walks no longer stay in HDF5's metadata cache, and the cache's own index
/// slows down as it fills (its 65,536 buckets are keyed on bits 3-18 of the file address,
/// and the B-tree nodes, heap blocks and global heap collections of such a group all sit at
/// multiples of 512 bytes, so only 1,024 buckets are used). Iterating in the index's order
/// walks the B-tree once, leaf after leaf, and for groups we write (whose attributes are
/// created in that order, see [`defer_attributes`]) the heap in order too. 1,000,000 string
/// attributes, HDF5 calls alone: opened by name and read in item order 6.2 s (0.40 s for
/// 100,000: 15x); read in one pass 1.96 s (0.19 s: 10x).
pub(crate) fn load_attributes<K>(
    group: &Group,
    mut select: impl FnMut(&str) -> Option<K>,
    limit: u64,
) -> AttributePass<K> {
    use hdf5::{IndexType, IterationOrder};

    let (mut loaded, mut others) = (Vec::new(), Vec::new());
    let mut held: u64 = 0;
    let per_value = std::mem::size_of::<(K, Loaded)>() as u64;
    let mut load = |name: &str| -> Option<(K, Loaded)> {
        let key = select(name)?;
        let value = Node::attribute(group.id(), name).ok()?.load()?;
        let extra = match &value {
            Loaded::Vlen(_, bytes) => bytes.len() as u64,
            _ => 0,
        };
        let total = held.saturating_add(per_value + extra);
        (total <= limit).then(|| {
            held = total;
            (key, value)
        })
    };
    let pass = group.iter_attrs(IndexType::Name, IterationOrder::Native, |name, _| {
        match load(name) {
            Some(entry) => loaded.push(entry),
            None => others.push(name.to_owned()),
        }
        Ok(())
    });
    AttributePass {
        loaded,
        others,
        complete: pass.is_ok(),
    }
}

/// HDF5's hash of an attribute name, the key of the name index of dense attribute storage
/// (`H5_checksum_lookup3(name, strlen(name), 0)`: Bob Jenkins's lookup3 `hashlittle`,
/// public domain, as HDF5 1.8 to 2.x compute it).
pub(crate) fn name_hash(key: &[u8]) -> u32 {
    fn mix(a: &mut u32, b: &mut u32, c: &mut u32) {
        *a = a.wrapping_sub(*c) ^ c.rotate_left(4);
        *c = c.wrapping_add(*b);
        *b = b.wrapping_sub(*a) ^ a.rotate_left(6);
        *a = a.wrapping_add(*c);
        *c = c.wrapping_sub(*b) ^ b.rotate_left(8);
        *b = b.wrapping_add(*a);
        *a = a.wrapping_sub(*c) ^ c.rotate_left(16);
        *c = c.wrapping_add(*b);
        *b = b.wrapping_sub(*a) ^ a.rotate_left(19);
        *a = a.wrapping_add(*c);
        *c = c.wrapping_sub(*b) ^ b.rotate_left(4);
        *b = b.wrapping_add(*a);
    }
    fn word(bytes: &[u8]) -> u32 {
        u32::from_le_bytes(bytes.try_into().expect("four bytes"))
    }
    let mut a = 0xdead_beef_u32.wrapping_add(key.len() as u32);
    let (mut b, mut c) = (a, a);
    let mut rest = key;
    while rest.len() > 12 {
        a = a.wrapping_add(word(&rest[0..4]));
        b = b.wrapping_add(word(&rest[4..8]));
        c = c.wrapping_add(word(&rest[8..12]));
        mix(&mut a, &mut b, &mut c);
        rest = &rest[12..];
    }
    if rest.is_empty() {
        return c;
    }
    // The last 1 to 12 bytes, as little-endian words padded with zeros.
    let mut last = [0u8; 12];
    last[..rest.len()].copy_from_slice(rest);
    a = a.wrapping_add(word(&last[0..4]));
    b = b.wrapping_add(word(&last[4..8]));
    c = c.wrapping_add(word(&last[8..12]));
    c = (c ^ b).wrapping_sub(b.rotate_left(14));
    a = (a ^ c).wrapping_sub(c.rotate_left(11));
    b = (b ^ a).wrapping_sub(a.rotate_left(25));
    c = (c ^ b).wrapping_sub(b.rotate_left(16));
    a = (a ^ c).wrapping_sub(c.rotate_left(4));
    b = (b ^ a).wrapping_sub(a.rotate_left(14));
    (c ^ b).wrapping_sub(b.rotate_left(24))
}

/// Refuses a dataset whose data is outside the file (external raw storage, a virtual
/// dataset), unless the read allows it, and one whose data is behind a filter this program
/// cannot decode (see [`filters::check_decodable`]). A contiguous dataset with storage in
/// the file (which has no filters) answers one cheap query (its address); only the others
/// are asked their layout and filters.
fn check_storage(dataset: &OwnedId) -> Result<()> {
    use hdf5_sys::h5d::{H5D_layout_t, H5Dget_create_plist, H5Dget_offset, H5Dget_storage_size};
    use hdf5_sys::h5p::{H5Pclose, H5Pget_external_count, H5Pget_layout};

    // SAFETY: queries an open dataset.
    let offset = hdf5::sync::sync(|| unsafe { H5Dget_offset(dataset.id()) });
    if offset != u64::MAX {
        return Ok(());
    }
    // SAFETY: a copy of the dataset's creation properties, owned and closed.
    let dcpl = OwnedId::new(
        || "cannot read the dataset's creation properties".into(),
        H5Pclose,
        || unsafe { H5Dget_create_plist(dataset.id()) },
    )?;
    if !scope::allow_external() {
        // SAFETY: queries a property list we own.
        let (layout, external) = hdf5::sync::sync(|| unsafe {
            (H5Pget_layout(dcpl.id()), H5Pget_external_count(dcpl.id()))
        });
        let outside = if layout == H5D_layout_t::H5D_VIRTUAL {
            Some("a virtual dataset (its data is in other datasets, possibly in other files)")
        } else if external > 0 {
            Some("a dataset with external raw storage (its data is in other files)")
        } else {
            None
        };
        if let Some(outside) = outside {
            return Err(Error::unsupported(format!(
                "{outside}: refused by default; read it with \
                 `ReadOptions::allow_external(true)` if the file is trusted"
            )));
        }
    }
    // Nothing stored yet reads as fill values, without the filters.
    // SAFETY: queries an open dataset.
    if hdf5::sync::sync(|| unsafe { H5Dget_storage_size(dataset.id()) }) == 0 {
        return Ok(());
    }
    filters::check_decodable(&dcpl)
}

fn utf8(bytes: Vec<u8>) -> Result<String> {
    String::from_utf8(bytes).map_err(|_| Error::invalid("string is not valid UTF-8"))
}

/// Classifies a datatype: integers, floats and strings from a few type queries; enums and
/// compounds (booleans, complex numbers) through the `hdf5` crate's type descriptor.
fn classify(type_id: hid_t) -> Result<Stored> {
    use hdf5_sys::h5t::{
        H5T_class_t, H5T_cset_t, H5T_sign_t, H5Tget_class, H5Tget_cset, H5Tget_sign, H5Tget_size,
        H5Tis_variable_str,
    };
    let fast = hdf5::sync::sync(|| unsafe {
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
    });
    match fast {
        Some(stored) => Ok(stored),
        None => classify_descriptor(type_id),
    }
}

/// Classifies a datatype by the `hdf5` crate's descriptor (enums, compounds, odd sizes).
fn classify_descriptor(type_id: hid_t) -> Result<Stored> {
    use hdf5::types::{FloatSize, TypeDescriptor as T};
    use hdf5_sys::h5t::H5Tcopy;

    // SAFETY: a copy of an open datatype, handed to the crate's handle (which closes it).
    let copy = call(
        || "cannot copy the datatype".into(),
        || unsafe { H5Tcopy(type_id) },
    )?;
    // SAFETY: `copy` is a new datatype id whose ownership moves to the handle.
    let datatype = unsafe { hdf5::from_id::<hdf5::Datatype>(copy)? };
    let td = datatype.to_descriptor()?;
    Ok(match td {
        T::Boolean => Stored::Num(DType::Bool),
        T::Compound(ref c)
            if c.fields.len() == 2
                && c.fields[0].ty == c.fields[1].ty
                && c.fields[0].offset == 0
                && c.fields[1].offset == c.fields[0].ty.size()
                && c.size == 2 * c.fields[0].ty.size()
                && matches!(
                    (c.fields[0].name.as_str(), c.fields[1].name.as_str()),
                    ("r", "i") | ("real", "imag") | ("re", "im")
                ) =>
        {
            match c.fields[0].ty {
                T::Float(FloatSize::U4) => Stored::Num(DType::C64),
                T::Float(FloatSize::U8) => Stored::Num(DType::C128),
                _ => Stored::Other(td.to_string()),
            }
        }
        T::VarLenUnicode => Stored::Str(StrKind::VarUtf8),
        T::VarLenAscii => Stored::Str(StrKind::VarAscii),
        T::FixedAscii(_) | T::FixedUnicode(_) => Stored::Str(StrKind::Fixed),
        other => Stored::Other(other.to_string()),
    })
}

// ---------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------

/// Creates the attribute `name` of `loc` with `file_type` and `space`, and writes `value`
/// (in `mem_type`) into it, unless `value` is null (a null dataspace has nothing to write).
///
/// # Safety
/// `value`, when not null, must point to the attribute's elements in `mem_type`.
unsafe fn write_attribute(
    loc: hid_t,
    name: &CStr,
    file_type: hid_t,
    mem_type: hid_t,
    space: hid_t,
    value: *const c_void,
) -> Result<()> {
    use hdf5_sys::h5a::{H5Aclose, H5Acreate2, H5Awrite};
    use hdf5_sys::h5p::H5P_DEFAULT;

    let op = || format!("cannot write the attribute `{}`", name.to_string_lossy());
    // SAFETY: valid ids and a NUL-terminated name; the attribute id is owned.
    let attr = OwnedId::new(op, H5Aclose, || unsafe {
        H5Acreate2(
            loc,
            name.as_ptr(),
            file_type,
            space,
            H5P_DEFAULT,
            H5P_DEFAULT,
        )
    })?;
    if !value.is_null() {
        // SAFETY: `value` as the caller promises.
        call(op, || unsafe { H5Awrite(attr.id(), mem_type, value) })?;
    }
    Ok(())
}

/// Writes a scalar attribute of a number, bool or complex number, in its dtype's type
/// (what h5py writes).
pub(crate) fn write_scalar(loc: &Group, name: &str, value: Scalar) -> Result<()> {
    if defer(loc, name, |_| Held::Scalar(value))? {
        return Ok(());
    }
    write_scalar_now(loc.id(), &c_name(name, "attribute")?, value)
}

fn write_scalar_now(loc: hid_t, name: &CStr, value: Scalar) -> Result<()> {
    let shared = ffi::shared()?;
    let h5type = shared.type_of(value.dtype());
    let mut bytes = Vec::with_capacity(16);
    value.extend_bytes(&mut bytes);
    // SAFETY: `bytes` holds one value of the dtype's type (HDF5 copies it out, so its
    // alignment is no matter).
    unsafe {
        write_attribute(
            loc,
            name,
            h5type,
            h5type,
            shared.scalar,
            bytes.as_ptr().cast(),
        )
    }
}

/// Writes `value` into the existing scalar attribute `name` of `loc`, in place (HDF5
/// converts it to the attribute's stored type): the attribute is never missing, as it
/// would be between a delete and a create.
pub(crate) fn update_scalar(loc: &Group, name: &str, value: Scalar) -> Result<()> {
    use hdf5_sys::h5a::{H5Aclose, H5Aopen, H5Awrite};
    use hdf5_sys::h5p::H5P_DEFAULT;

    let shared = ffi::shared()?;
    let mut bytes = Vec::with_capacity(16);
    value.extend_bytes(&mut bytes);
    let cname = c_name(name, "attribute")?;
    let op = || format!("cannot update the attribute `{name}`");
    // SAFETY: a valid location id and a NUL-terminated name; the id is owned.
    let attr = OwnedId::new(op, H5Aclose, || unsafe {
        H5Aopen(loc.id(), cname.as_ptr(), H5P_DEFAULT)
    })?;
    // SAFETY: `bytes` holds one value of the dtype's type.
    call(op, || unsafe {
        H5Awrite(
            attr.id(),
            shared.type_of(value.dtype()),
            bytes.as_ptr().cast(),
        )
    })?;
    Ok(())
}

/// Whether `loc` has an attribute `name`.
pub(crate) fn attribute_exists(loc: hid_t, name: &str) -> Result<bool> {
    use hdf5_sys::h5a::H5Aexists;
    let cname = c_name(name, "attribute")?;
    // SAFETY: a valid location id and a NUL-terminated name.
    let found = call(
        || format!("cannot look for the attribute `{name}`"),
        || unsafe { H5Aexists(loc, cname.as_ptr()) },
    )?;
    Ok(found > 0)
}

/// Removes the attribute `name` of `loc`.
pub(crate) fn delete_attribute(loc: hid_t, name: &str) -> Result<()> {
    use hdf5_sys::h5a::H5Adelete;
    let cname = c_name(name, "attribute")?;
    call(
        || format!("cannot remove the attribute `{name}`"),
        // SAFETY: a valid location id and a NUL-terminated name.
        || unsafe { H5Adelete(loc, cname.as_ptr()) },
    )?;
    Ok(())
}

/// Writes a variable-length UTF-8 string attribute (what h5py writes for `str`).
pub(crate) fn write_str(loc: &Group, name: &str, value: &str) -> Result<()> {
    let text = std::ffi::CString::new(value).map_err(|_| {
        Error::unsupported(format!(
            "the string of `{name}` contains a NUL byte, which HDF5 strings cannot hold"
        ))
    })?;
    let held = |buf: &mut Vec<u8>| {
        let at = buf.len();
        buf.extend_from_slice(text.as_bytes_with_nul());
        Held::Str(at)
    };
    if defer(loc, name, held)? {
        return Ok(());
    }
    write_str_now(loc.id(), &c_name(name, "attribute")?, &text)
}

fn write_str_now(loc: hid_t, name: &CStr, text: &CStr) -> Result<()> {
    let shared = ffi::shared()?;
    let ptr: *const c_char = text.as_ptr();
    // SAFETY: a variable-length string in memory is one `char *` to NUL-terminated text.
    unsafe {
        write_attribute(
            loc,
            name,
            shared.vlen_utf8,
            shared.vlen_utf8,
            shared.scalar,
            (&ptr as *const *const c_char).cast(),
        )
    }
}

/// Writes an attribute with a null dataspace: a name with no value (h5py's `Empty`).
pub(crate) fn write_null(loc: &Group, name: &str) -> Result<()> {
    if defer(loc, name, |_| Held::Null)? {
        return Ok(());
    }
    write_null_now(loc.id(), &c_name(name, "attribute")?)
}

fn write_null_now(loc: hid_t, name: &CStr) -> Result<()> {
    let shared = ffi::shared()?;
    let u8_type = shared.type_of(DType::U8);
    // SAFETY: nothing is written to a null dataspace.
    unsafe { write_attribute(loc, name, u8_type, u8_type, shared.null, std::ptr::null()) }
}

/// Writes an attribute of fixed-length, NUL-padded strings of `shape` (what numpy's `S`
/// dtype is, and what Python anamnesis 1.0.4 reads back in `namemaps` and `LISTS`).
pub(crate) fn write_fixed_strings(
    loc: &Group,
    name: &str,
    cells: &[&str],
    shape: &[usize],
) -> Result<()> {
    use hdf5_sys::h5s::{H5Sclose, H5Screate_simple};
    use hdf5_sys::h5t::{
        H5T_cset_t, H5T_str_t, H5Tclose, H5Tcopy, H5Tset_cset, H5Tset_size, H5Tset_strpad, H5T_C_S1,
    };

    if shape.iter().product::<usize>() != cells.len() {
        return Err(Error::invalid(
            "string array shape does not match its length",
        ));
    }
    if let Some(cell) = cells.iter().find(|c| c.contains('\0')) {
        return Err(Error::unsupported(format!(
            "`{}` contains a NUL byte, which HDF5 strings cannot hold",
            cell.escape_debug()
        )));
    }
    let width = cells.iter().map(|c| c.len()).max().unwrap_or(0).max(1);
    let cset = if cells.iter().all(|c| c.is_ascii()) {
        H5T_cset_t::H5T_CSET_ASCII
    } else {
        H5T_cset_t::H5T_CSET_UTF8
    };
    let op = || format!("cannot write the attribute `{name}`");
    // SAFETY: copies a predefined type into a new one, owned.
    let string_type = OwnedId::new(op, H5Tclose, || unsafe { H5Tcopy(*H5T_C_S1) })?;
    // SAFETY: configures a type we own.
    call(op, || unsafe { H5Tset_size(string_type.id(), width) })?;
    // SAFETY: configures a type we own.
    call(op, || unsafe {
        H5Tset_strpad(string_type.id(), H5T_str_t::H5T_STR_NULLPAD)
    })?;
    // SAFETY: configures a type we own.
    call(op, || unsafe { H5Tset_cset(string_type.id(), cset) })?;
    let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    // SAFETY: `dims` holds the rank's dimensions; the dataspace made is owned.
    let space = OwnedId::new(op, H5Sclose, || unsafe {
        H5Screate_simple(dims.len() as i32, dims.as_ptr(), std::ptr::null())
    })?;
    let mut buf = vec![0u8; width * cells.len()];
    for (chunk, cell) in buf.chunks_exact_mut(width).zip(cells) {
        chunk[..cell.len()].copy_from_slice(cell.as_bytes());
    }
    let cname = c_name(name, "attribute")?;
    // SAFETY: `buf` holds exactly `cells.len()` strings of `width` bytes, the attribute's
    // elements in `string_type`.
    unsafe {
        write_attribute(
            loc.id(),
            &cname,
            string_type.id(),
            string_type.id(),
            space.id(),
            buf.as_ptr().cast(),
        )
    }
}

// ---------------------------------------------------------------------------------------
// Attributes written in the order of the name index
// ---------------------------------------------------------------------------------------

thread_local! {
    /// The groups whose scalar attribute writes are held back (see [`defer_attributes`]),
    /// innermost last: as many as lists being written at once (nesting, a dict's two).
    static DEFERRED: std::cell::RefCell<Vec<Deferred>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

/// The attributes held back for one group.
struct Deferred {
    group: hid_t,
    /// Names and strings, each NUL-terminated, one after the other.
    text: Vec<u8>,
    held: Vec<(u32, usize, Held)>,
}

/// One attribute held back: its value (strings in [`Deferred::text`], from an offset).
enum Held {
    Scalar(Scalar),
    Str(usize),
    Null,
}

/// Holds back the scalar, string and null attributes written into `group` (with
/// [`write_scalar`], [`write_str`] and [`write_null`]) until [`write_deferred`], which creates
/// them in the order of HDF5's name index: the lookup3 hash of the name ([`name_hash`]).
///
/// Why: in the dense storage of a group's attributes (past 8 of them) HDF5 indexes names
/// in a v2 B-tree ordered by that hash, and creating an attribute looks its name up there
/// twice (`H5Acreate2` checks it is new, `H5Awrite` finds it) and inserts it once. Created
/// in item order (`LIST_item0`, `LIST_item1`, ...) those are walks to places spread over the
/// whole B-tree; created in hash order they all go to its last leaf, which stays in HDF5's
/// metadata cache, and the heap of attribute messages (appended in creation order) is then
/// in the index's order too, which is what makes reading in one pass fast
/// ([`load_attributes`]). 1,000,000 string attributes, HDF5 calls alone: 11.7 s in item
/// order (0.76 s for 100,000: 15x), 6.1 s in hash order (0.60 s: 10x). A bigger metadata
/// cache does not help: HDF5 grows it only when its hit rate falls below 90% (it stayed
/// at 1 MB), and a fixed 128 MB one is slower still, its index's chains growing with it
/// (12.0 s).
///
/// Deferred: lists and dicts (whose items are written before their `count`), objects of
/// `anam::Object` and of classes with `extra_data` (any number of members). Every group
/// made deferred must get its [`write_deferred`] before the write ends (lists when their
/// `count` is written, objects at their end); what is left when a [`DeferredScope`] ends
/// (a failed write; one is entered by each write of a value or member) is dropped.
pub(crate) fn defer_attributes(group: &Group) {
    DEFERRED.with_borrow_mut(|all| {
        all.push(Deferred {
            group: group.id(),
            text: Vec::new(),
            held: Vec::new(),
        })
    });
}

/// Holds the attribute `name` of `loc` back if `loc`'s writes are deferred (`held` stores
/// its value, strings into the text buffer): `Ok(true)`; `Ok(false)` if they are not.
fn defer(loc: &Group, name: &str, held: impl FnOnce(&mut Vec<u8>) -> Held) -> Result<bool> {
    DEFERRED.with_borrow_mut(|all| {
        let Some(deferred) = all.iter_mut().rev().find(|d| d.group == loc.id()) else {
            return Ok(false);
        };
        if name.as_bytes().contains(&0) {
            c_name(name, "attribute")?;
        }
        let at = deferred.text.len();
        deferred.text.extend_from_slice(name.as_bytes());
        deferred.text.push(0);
        let value = held(&mut deferred.text);
        deferred.held.push((name_hash(name.as_bytes()), at, value));
        Ok(true)
    })
}

/// Creates the attributes held back for `group` (see [`defer_attributes`]), in the order of
/// HDF5's name index, and stops holding its writes back. Nothing if none are.
pub(crate) fn write_deferred(group: &Group) -> Result<()> {
    let deferred = DEFERRED.with_borrow_mut(|all| {
        all.iter()
            .rposition(|d| d.group == group.id())
            .map(|i| all.remove(i))
    });
    let Some(Deferred { text, mut held, .. }) = deferred else {
        return Ok(());
    };
    let c_str = |at: usize| CStr::from_bytes_until_nul(&text[at..]).expect("NUL-terminated");
    // Equal hashes are ordered by name in HDF5's index (for the order only: any is correct).
    held.sort_unstable_by(|x, y| x.0.cmp(&y.0).then_with(|| c_str(x.1).cmp(c_str(y.1))));
    for (_, name_at, value) in &held {
        let name = c_str(*name_at);
        match *value {
            Held::Scalar(v) => write_scalar_now(group.id(), name, v),
            Held::Str(at) => write_str_now(group.id(), name, c_str(at)),
            Held::Null => write_null_now(group.id(), name),
        }
        .map_err(|e| {
            e.at_with(|| {
                let parent = group.name();
                let sep = if parent.ends_with('/') { "" } else { "/" };
                format!("{parent}{sep}{}", name.to_string_lossy())
            })
        })?;
    }
    Ok(())
}

/// While it lives, the deferred attribute writes begun on this thread are this write's:
/// dropped, it forgets those not written (a write that failed midway).
pub(crate) struct DeferredScope(usize);

impl DeferredScope {
    pub(crate) fn enter() -> DeferredScope {
        DeferredScope(DEFERRED.with_borrow(Vec::len))
    }
}

impl Drop for DeferredScope {
    fn drop(&mut self) {
        DEFERRED.with_borrow_mut(|all| all.truncate(self.0));
    }
}

/// Checks that `bytes` holds exactly the elements of an array of `dtype` and `shape`.
pub(crate) fn check_buffer(dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<()> {
    let n = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if n.and_then(|n| n.checked_mul(dtype.size())) != Some(bytes.len()) {
        return Err(Error::invalid(format!(
            "array buffer of {} bytes does not match shape {shape:?} of {dtype}",
            bytes.len()
        )));
    }
    Ok(())
}

thread_local! {
    /// The dataspace of the last array shape [`write_dataset`] wrote on this thread, with
    /// that shape, reused while shapes repeat: HDF5 copies the extent of the dataspace into
    /// each dataset it creates, so one serves them all (the writes use `H5S_ALL`). Made and
    /// closed for every dataset (`H5Screate_simple`, `H5Sclose`), it cost 5.3 M
    /// instructions of the 472 M of W1's write, 2,000 objects with a 3-element array each;
    /// reused, the write takes 4.9 M fewer (callgrind).
    static LAST_SPACE: std::cell::RefCell<Option<(Vec<usize>, OwnedId)>> =
        const { std::cell::RefCell::new(None) };
}

/// The simple dataspace of `shape` (not empty) for [`write_dataset`], valid until the next
/// call on this thread (see [`LAST_SPACE`]).
fn simple_space(shape: &[usize], op: impl FnOnce() -> String) -> Result<hid_t> {
    use hdf5_sys::h5s::{H5Sclose, H5Screate_simple};

    LAST_SPACE.with_borrow_mut(|last| {
        if let Some((cached, space)) = last.as_ref() {
            if cached[..] == *shape {
                return Ok(space.id());
            }
        }
        let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
        let rank = i32::try_from(dims.len()).map_err(|_| Error::invalid("too many dimensions"))?;
        // SAFETY: `dims` has `rank` entries; the dataspace made is owned.
        let space = OwnedId::new(op, H5Sclose, || unsafe {
            H5Screate_simple(rank, dims.as_ptr(), std::ptr::null())
        })?;
        let id = space.id();
        // The previous one, if any, is closed here.
        *last = Some((shape.to_vec(), space));
        Ok(id)
    })
}

/// Creates the dataset `name` of `dtype` and `shape` in `group` and writes `bytes` (the
/// little-endian buffer of exactly that many elements) into it with one write call:
/// contiguous, or chunked and filtered as the write's storage options say for an array of
/// that shape ([`write_scope::create_list`]).
pub(crate) fn write_dataset(
    group: &Group,
    name: &str,
    dtype: DType,
    shape: &[usize],
    bytes: &[u8],
) -> Result<()> {
    use hdf5_sys::h5d::{H5Dclose, H5Dcreate2, H5Dwrite};
    use hdf5_sys::h5p::H5P_DEFAULT;
    use hdf5_sys::h5s::H5S_ALL;

    check_buffer(dtype, shape, bytes)?;
    if dtype == DType::Bool {
        // A `bool` is 0 or 1; check bytes that came from elsewhere before they are stored.
        crate::dtype::from_bytes::<bool>(bytes).map_err(Error::invalid)?;
    }
    let shared = ffi::shared()?;
    let h5type = shared.type_of(dtype);
    let cname = c_name(name, "dataset")?;
    let op = || format!("cannot write the dataset `{name}`");
    let space_id = if shape.is_empty() {
        shared.scalar
    } else {
        simple_space(shape, op)?
    };
    let chunked = write_scope::create_list(shape, dtype.size())?;
    let dcpl = chunked.as_ref().map_or(shared.dcpl, OwnedId::id);
    // SAFETY: a valid group id, NUL-terminated name, type, dataspace and creation list; the
    // dataset is owned.
    let ds = OwnedId::new(op, H5Dclose, || unsafe {
        H5Dcreate2(
            group.id(),
            cname.as_ptr(),
            h5type,
            space_id,
            H5P_DEFAULT,
            dcpl,
            H5P_DEFAULT,
        )
    })?;
    // SAFETY: `bytes` holds exactly the elements of `shape` in `h5type` (checked above),
    // and HDF5 only reads from it.
    call(op, || unsafe {
        H5Dwrite(
            ds.id(),
            h5type,
            H5S_ALL,
            H5S_ALL,
            H5P_DEFAULT,
            bytes.as_ptr().cast(),
        )
    })?;
    Ok(())
}

/// The element type `T`'s size agrees with its dtype (a compile-time property the read
/// paths rely on; checked in the tests).
#[cfg(test)]
mod tests {
    use super::*;

    /// [`name_hash`] is HDF5's: iterated in the native order of its name index (the order
    /// of its B-tree), the attributes of a dense group come in increasing `name_hash`.
    #[test]
    fn name_hash_is_the_order_of_hdf5s_name_index() {
        use hdf5::{IndexType, IterationOrder};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("order.hdf5");
        let items: Vec<String> = (0..300).map(|i| format!("s{i}")).collect();
        crate::to_file(&path, "data", &items).unwrap();
        let file = hdf5::File::open(&path).unwrap();
        let group = file.group("data").unwrap();
        let mut hashes = Vec::new();
        group
            .iter_attrs(IndexType::Name, IterationOrder::Native, |name, _| {
                hashes.push(name_hash(name.as_bytes()));
                Ok(())
            })
            .unwrap();
        assert_eq!(hashes.len(), 302, "class, count and 300 items");
        assert!(hashes.is_sorted(), "not in name_hash order: {hashes:x?}");
    }

    #[test]
    fn element_sizes_match_dtypes() {
        for &d in DType::ALL {
            with_dtype!(d, T => assert_eq!(std::mem::size_of::<T>(), <T as Element>::DTYPE.size()));
        }
    }
}
