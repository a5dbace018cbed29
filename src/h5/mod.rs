//! The HDF5 backend: the Serde serializer and deserializer for the anamnesis layout, and
//! the few typed HDF5 operations they need (attributes, whole-buffer datasets, strings).
//!
//! Everything that touches the `hdf5` crate lives under this module.

pub(crate) mod de;
mod raw;

pub(crate) use raw::{close_on_exec, create_group};
pub(crate) use ser::UNKNOWN_ENTRIES;
pub(crate) mod ser;

use hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenAscii, VarLenUnicode};
use hdf5::{Attribute, Container, Dataset, Group, H5Type, Location};
use ndarray::{ArrayD, IxDyn};
use num_complex::{Complex32, Complex64};

use crate::array::{from_bytes, with_dtype, DType, Element, TypedArray};
use crate::error::{Error, Result};
use crate::format;

/// How files are opened for writing: objects in the HDF5 1.8 file format.
///
/// HDF5's default ("earliest") format keeps every attribute of a group in its object
/// header and finds one by scanning them all, so a list or dict of n scalars costs O(n²)
/// to write and read (10,000 `int64` attributes: 1.9 s to write, 0.4 s to read here).
/// The 1.8 format moves an object's attributes and links to indexed storage once there
/// are more than 8 (35 ms and 13 ms for the same), and makes small groups smaller (W1's
/// file: 1.4 MB instead of 3.4 MB). Objects are written in the 1.8 format, readable by
/// every HDF5 since 1.8 (2008), h5py and Python anamnesis included; the upper bound is
/// the library's latest so that files made in a newer format (h5py's `libver="latest"`)
/// can still be opened to add to.
pub(crate) fn file_builder() -> hdf5::FileBuilder {
    use hdf5::file::LibraryVersion;
    let mut builder = hdf5::File::with_options();
    builder.with_fapl(|fapl| fapl.libver_bounds(LibraryVersion::V18, LibraryVersion::latest()));
    builder
}

/// A numeric or boolean scalar, as stored in an attribute or buffered from a sequence.
#[derive(Clone, Copy, Debug, PartialEq)]
#[allow(missing_docs)]
pub(crate) enum Num {
    Bool(bool),
    I8(i8),
    I16(i16),
    I32(i32),
    I64(i64),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    F32(f32),
    F64(f64),
    C64(Complex32),
    C128(Complex64),
}

/// Calls `$body` with `$v` bound to the typed value of any [`Num`].
macro_rules! with_num {
    ($value:expr, $v:ident => $body:expr) => {
        match $value {
            Num::Bool($v) => $body,
            Num::I8($v) => $body,
            Num::I16($v) => $body,
            Num::I32($v) => $body,
            Num::I64($v) => $body,
            Num::U8($v) => $body,
            Num::U16($v) => $body,
            Num::U32($v) => $body,
            Num::U64($v) => $body,
            Num::F32($v) => $body,
            Num::F64($v) => $body,
            Num::C64($v) => $body,
            Num::C128($v) => $body,
        }
    };
}

impl Num {
    pub(crate) fn dtype(self) -> DType {
        with_num!(self, v => dtype_of(&v))
    }

    /// Appends the little-endian bytes of the value.
    pub(crate) fn extend_bytes(self, out: &mut Vec<u8>) {
        with_num!(self, v => out.extend_from_slice(crate::array::as_bytes(std::slice::from_ref(&v))))
    }

    /// Decodes one element of `dtype` from exactly `dtype.size()` bytes.
    pub(crate) fn from_bytes(dtype: DType, bytes: &[u8]) -> Result<Num> {
        with_dtype!(dtype, T => from_bytes::<T>(bytes)
            .map_err(Error::invalid)?
            .first()
            .copied()
            .map(Num::from)
            .ok_or_else(|| Error::invalid("no element")))
    }

    /// The first element of an array (used for scalar containers, which read as 0-d arrays).
    fn first_of(array: &TypedArray) -> Option<Num> {
        crate::array::with_typed_array!(array, a => a.iter().next().copied().map(Num::from))
    }
}

fn dtype_of<T: Element>(_: &T) -> DType {
    T::DTYPE
}

macro_rules! num_from {
    ($($t:ty => $variant:ident),*) => {
        $(impl From<$t> for Num {
            fn from(v: $t) -> Num {
                Num::$variant(v)
            }
        })*
    };
}
num_from!(bool => Bool, i8 => I8, i16 => I16, i32 => I32, i64 => I64, u8 => U8, u16 => U16,
          u32 => U32, u64 => U64, f32 => F32, f64 => F64, Complex32 => C64, Complex64 => C128);

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

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum StrKind {
    VarUtf8,
    VarAscii,
    Fixed,
}

/// Classifies a datatype descriptor.
pub(crate) fn classify(td: &TypeDescriptor) -> Stored {
    use TypeDescriptor as T;
    let int = |s: IntSize, signed: bool| match (s, signed) {
        (IntSize::U1, true) => DType::I8,
        (IntSize::U2, true) => DType::I16,
        (IntSize::U4, true) => DType::I32,
        (IntSize::U8, true) => DType::I64,
        (IntSize::U1, false) => DType::U8,
        (IntSize::U2, false) => DType::U16,
        (IntSize::U4, false) => DType::U32,
        (IntSize::U8, false) => DType::U64,
    };
    match td {
        T::Integer(s) => Stored::Num(int(*s, true)),
        T::Unsigned(s) => Stored::Num(int(*s, false)),
        T::Float(FloatSize::U4) => Stored::Num(DType::F32),
        T::Float(FloatSize::U8) => Stored::Num(DType::F64),
        T::Boolean => Stored::Num(DType::Bool),
        T::Compound(c)
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
    }
}

/// Reads the datatype of an attribute or dataset and classifies it.
pub(crate) fn stored_type(c: &Container) -> Result<Stored> {
    Ok(classify(&c.dtype()?.to_descriptor()?))
}

/// Reads a numeric attribute or dataset of `dtype` as one whole buffer.
pub(crate) fn read_array(c: &Container, dtype: DType) -> Result<TypedArray> {
    if dtype == DType::Bool {
        // Read the stored enum bytes as they are and check them: a file with a byte other
        // than 0 or 1 must not become an invalid Rust `bool`.
        let shape = c.shape();
        let bytes = read_raw_bytes(c)?;
        let flags = from_bytes::<bool>(&bytes).map_err(Error::invalid)?;
        return ArrayD::from_shape_vec(IxDyn(&shape), flags)
            .map(TypedArray::Bool)
            .map_err(|e| Error::invalid(e.to_string()));
    }
    with_dtype!(dtype, T => Ok(T::wrap(c.read_dyn::<T>()?)))
}

/// Reads a numeric scalar (or the only element of a one-element container).
pub(crate) fn read_num(c: &Container, dtype: DType) -> Result<Num> {
    let array = read_array(c, dtype)?;
    Num::first_of(&array).ok_or_else(|| Error::invalid("empty attribute"))
}

/// Reads all strings of an attribute or dataset, in storage order.
pub(crate) fn read_strings(c: &Container, kind: StrKind) -> Result<Vec<String>> {
    let decode = |bytes: &[u8]| {
        String::from_utf8(bytes.to_vec()).map_err(|_| Error::invalid("string is not valid UTF-8"))
    };
    match kind {
        StrKind::VarUtf8 => c
            .read_raw::<VarLenUnicode>()?
            .iter()
            .map(|s| decode(s.as_bytes()))
            .collect(),
        StrKind::VarAscii => c
            .read_raw::<VarLenAscii>()?
            .iter()
            .map(|s| decode(s.as_bytes()))
            .collect(),
        StrKind::Fixed => {
            let width = c.dtype()?.size();
            let bytes = read_raw_bytes(c)?;
            if width == 0 {
                return Ok(vec![String::new(); c.size()]);
            }
            bytes
                .chunks(width)
                .map(|chunk| {
                    // Fixed-length strings are NUL-padded (h5py) or NUL-terminated.
                    let end = chunk.iter().position(|&b| b == 0).unwrap_or(chunk.len());
                    decode(&chunk[..end])
                })
                .collect()
        }
    }
}

/// Reads a container's bytes exactly as stored (no conversion), one call.
fn read_raw_bytes(c: &Container) -> Result<Vec<u8>> {
    use hdf5_sys::h5a::H5Aread;
    use hdf5_sys::h5d::H5Dread;
    use hdf5_sys::h5i::{H5I_type_t, H5Iget_type};
    use hdf5_sys::h5p::H5P_DEFAULT;
    use hdf5_sys::h5s::H5S_ALL;

    let dtype = c.dtype()?;
    let len = dtype
        .size()
        .checked_mul(c.size())
        .ok_or_else(|| Error::invalid("container too large"))?;
    let mut buf = vec![0u8; len];
    let status = hdf5::sync::sync(|| unsafe {
        // SAFETY: `buf` holds exactly size(dtype) * number-of-elements bytes, and the memory
        // type is the container's own type, so HDF5 writes at most that many bytes.
        if H5Iget_type(c.id()) == H5I_type_t::H5I_ATTR {
            H5Aread(c.id(), dtype.id(), buf.as_mut_ptr().cast())
        } else {
            H5Dread(
                c.id(),
                dtype.id(),
                H5S_ALL,
                H5S_ALL,
                H5P_DEFAULT,
                buf.as_mut_ptr().cast(),
            )
        }
    });
    if status < 0 {
        return Err(Error::invalid("HDF5 could not read the raw data"));
    }
    Ok(buf)
}

/// Writes a scalar attribute of a numeric value.
pub(crate) fn write_num_attr(loc: &Location, name: &str, value: Num) -> Result<()> {
    if raw::write_num_attr(loc, name, value)? {
        return Ok(());
    }
    with_num!(value, v => write_attr(loc, name, &v))
}

fn write_attr<T: H5Type>(loc: &Location, name: &str, value: &T) -> Result<()> {
    loc.new_attr::<T>().create(name)?.write_scalar(value)?;
    Ok(())
}

/// Writes a variable-length UTF-8 string attribute (what h5py writes for `str`).
pub(crate) fn write_str_attr(loc: &Location, name: &str, value: &str) -> Result<()> {
    if raw::write_str_attr(loc, name, value)? {
        return Ok(());
    }
    let s: VarLenUnicode = value
        .parse()
        .map_err(|_| Error::unsupported("strings containing NUL cannot be stored in HDF5"))?;
    write_attr(loc, name, &s)
}

/// Writes an attribute with a null dataspace: a name with no value.
pub(crate) fn write_null_attr(loc: &Location, name: &str) -> Result<()> {
    loc.new_attr::<u8>()
        .shape(hdf5::Extents::Null)
        .create(name)?;
    Ok(())
}

/// Writes an `int64` attribute (counts and other layout integers, as Python writes them).
pub(crate) fn write_i64_attr(loc: &Location, name: &str, value: i64) -> Result<()> {
    write_num_attr(loc, name, Num::I64(value))
}

/// Creates a dataset of `dtype` and `shape` and writes `bytes` (the little-endian buffer
/// of exactly that many elements) into it in one call.
pub(crate) fn write_dataset_bytes(
    group: &Group,
    name: &str,
    dtype: DType,
    shape: &[usize],
    bytes: &[u8],
) -> Result<()> {
    use hdf5_sys::h5d::H5Dwrite;
    use hdf5_sys::h5p::H5P_DEFAULT;
    use hdf5_sys::h5s::H5S_ALL;

    let n = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if n.and_then(|n| n.checked_mul(dtype.size())) != Some(bytes.len()) {
        return Err(Error::invalid(format!(
            "array buffer of {} bytes does not match shape {shape:?} of {dtype}",
            bytes.len()
        )));
    }
    if raw::write_dataset(group, name, dtype, shape, bytes)? {
        return Ok(());
    }
    if dtype == DType::Bool {
        from_bytes::<bool>(bytes).map_err(Error::invalid)?;
    }
    let h5type = with_dtype!(dtype, T => hdf5::Datatype::from_type::<T>()?);
    let ds = group
        .new_dataset_builder()
        .empty_as(&h5type)
        .shape(shape)
        .create(name)?;
    let status = hdf5::sync::sync(|| unsafe {
        // SAFETY: `bytes` holds exactly shape.product() elements of `h5type` (checked above),
        // and HDF5 only reads from the buffer.
        H5Dwrite(
            ds.id(),
            h5type.id(),
            H5S_ALL,
            H5S_ALL,
            H5P_DEFAULT,
            bytes.as_ptr().cast(),
        )
    });
    if status < 0 {
        return Err(Error::invalid("HDF5 could not write the dataset"));
    }
    Ok(())
}

/// Reads the `class` attribute of a group known to have one.
pub(crate) fn read_class(group: &Group) -> Result<String> {
    read_string_attr(&raw::open_attr(group, format::CLASS_ATTR)?)
}

/// Reads a scalar string attribute in any encoding.
pub(crate) fn read_string_attr(attr: &Attribute) -> Result<String> {
    let probe = raw::Probe::of(attr, true)?;
    if let Some(s) = probe.read_vlen_scalar_string(attr, true)? {
        return Ok(s);
    }
    match probe.stored {
        Stored::Str(kind) => read_strings(attr, kind)?
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid("empty string attribute")),
        other => Err(Error::invalid(format!(
            "expected a string, found {}",
            describe(&other)
        ))),
    }
}

/// A short description of a stored type for error messages.
pub(crate) fn describe(stored: &Stored) -> String {
    match stored {
        Stored::Num(d) => d.name().to_string(),
        Stored::Str(_) => "string".into(),
        Stored::Other(s) => s.clone(),
    }
}

/// The names of a group's attributes and links, read once (two HDF5 iterations), sorted,
/// so that looking up many members of one group costs O(log n) each without copying the
/// names into a hash set.
pub(crate) struct Members {
    pub attrs: Vec<String>,
    pub links: Vec<String>,
}

impl Members {
    pub(crate) fn of(group: &Group) -> Result<Members> {
        // HDF5 lists both by their name index, in increasing byte order, which is `str`'s
        // order; sort anyway if a file says otherwise, since lookups rely on it.
        let sorted = |mut names: Vec<String>| {
            if !names.is_sorted() {
                names.sort_unstable();
            }
            names
        };
        Ok(Members {
            attrs: sorted(group.attr_names()?),
            links: sorted(
                group.member_names_by(hdf5::IndexType::Name, hdf5::IterationOrder::Increasing)?,
            ),
        })
    }

    pub(crate) fn has_attr(&self, name: &str) -> bool {
        self.attrs
            .binary_search_by(|n| n.as_str().cmp(name))
            .is_ok()
    }

    pub(crate) fn has_link(&self, name: &str) -> bool {
        self.links
            .binary_search_by(|n| n.as_str().cmp(name))
            .is_ok()
    }
}

/// An object reached through a link: a group or a dataset.
pub(crate) enum Linked {
    Group(Group),
    Dataset(Dataset),
}

/// Opens the object a link points to, as whatever it is (one `H5Oopen`, where asking for
/// its type first and then opening it would take two calls).
pub(crate) fn open_link(parent: &Group, name: &str) -> Result<Linked> {
    use hdf5_sys::h5i::{H5I_type_t, H5Iget_type};
    use hdf5_sys::h5o::{H5Oclose, H5Oopen};
    use hdf5_sys::h5p::H5P_DEFAULT;

    let cname =
        std::ffi::CString::new(name).map_err(|_| Error::invalid("link name contains NUL"))?;
    let (id, kind) = hdf5::sync::sync(|| unsafe {
        // SAFETY: a valid group id and a NUL-terminated name; the id returned is owned below.
        let id = H5Oopen(parent.id(), cname.as_ptr(), H5P_DEFAULT);
        let kind = if id < 0 {
            H5I_type_t::H5I_BADID
        } else {
            H5Iget_type(id)
        };
        (id, kind)
    });
    if id < 0 {
        return Err(Error::invalid(format!(
            "cannot open the object linked as `{name}` (a dangling link?)"
        )));
    }
    // SAFETY: `id` comes from H5Oopen and is handed to exactly one owner, which closes it.
    match kind {
        H5I_type_t::H5I_GROUP => Ok(Linked::Group(unsafe { hdf5::from_id::<Group>(id)? })),
        H5I_type_t::H5I_DATASET => Ok(Linked::Dataset(unsafe { hdf5::from_id::<Dataset>(id)? })),
        other => {
            hdf5::sync::sync(|| unsafe { H5Oclose(id) });
            Err(Error::unsupported(format!("HDF5 object of type {other:?}")))
        }
    }
}

/// Joins an HDF5 group path and a member name for error messages.
pub(crate) fn join(parent: &Group, name: &str) -> String {
    let p = parent.name();
    if p.ends_with('/') {
        format!("{p}{name}")
    } else {
        format!("{p}/{name}")
    }
}

/// Writes an attribute of fixed-length, NUL-padded strings (what numpy's `S` dtype is, and
/// what Python anamnesis 1.0.4 reads back in `namemaps` and `LISTS`).
pub(crate) fn write_fixed_strings_attr(
    loc: &Location,
    name: &str,
    cells: &[&str],
    shape: &[usize],
) -> Result<()> {
    use hdf5::types::TypeDescriptor;
    use hdf5_sys::h5a::H5Awrite;

    if shape.iter().product::<usize>() != cells.len() {
        return Err(Error::invalid(
            "string array shape does not match its length",
        ));
    }
    if cells.iter().any(|c| c.contains('\0')) {
        return Err(Error::unsupported(
            "strings containing NUL cannot be stored in HDF5",
        ));
    }
    let width = cells.iter().map(|c| c.len()).max().unwrap_or(0).max(1);
    let descriptor = if cells.iter().all(|c| c.is_ascii()) {
        TypeDescriptor::FixedAscii(width)
    } else {
        TypeDescriptor::FixedUnicode(width)
    };
    let dtype = hdf5::Datatype::from_descriptor(&descriptor)?;
    let mut buf = vec![0u8; width * cells.len()];
    for (chunk, cell) in buf.chunks_exact_mut(width).zip(cells) {
        chunk[..cell.len()].copy_from_slice(cell.as_bytes());
    }
    let attr = loc
        .new_attr_builder()
        .empty_as(&dtype)
        .shape(shape)
        .create(name)?;
    let status = hdf5::sync::sync(|| unsafe {
        // SAFETY: `buf` holds exactly `cells.len()` strings of `width` bytes, the size of the
        // attribute in memory type `dtype`; HDF5 only reads from it.
        H5Awrite(attr.id(), dtype.id(), buf.as_ptr().cast())
    });
    if status < 0 {
        return Err(Error::invalid("HDF5 could not write the string attribute"));
    }
    Ok(())
}
