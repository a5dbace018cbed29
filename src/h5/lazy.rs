//! [`Lazy`]: an array field whose data stays in the file until asked for.
//!
//! Reading, the HDF5 deserializer hands the open dataset (not its data) to the visitor of
//! [`Lazy`] through a thread-local slot, as [`anam::array`](crate::array) is handed a
//! decoded buffer (see [`protocol`](crate::protocol)). Writing, a file-backed `Lazy` marks
//! itself with [`LAZY_TOKEN`] and leaves its source in another thread-local slot, where the
//! HDF5 serializer finds it and copies dataset to dataset in blocks of rows; every other
//! format sees the newtype's content, the loaded array in the [`anam::array`](crate::array)
//! form.

use std::cell::RefCell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use hdf5::Group;
use hdf5_sys::h5i::hid_t;
use ndarray::{Array, ArrayD, Dimension, IxDyn, SliceArg, SliceInfo, SliceInfoElem};
use serde::de::{self, Visitor};
use serde::{ser, Deserialize, Deserializer, Serialize, Serializer};

use super::ffi::{self, c_name, call, OwnedId};
use super::node::Node;
use crate::dtype::{as_bytes, with_typed_array, DType, Element, TypedArray};
use crate::error::{Error, Result};
use crate::protocol::LAZY_TOKEN;

/// The string passed to [`Lazy`]'s visitor to say "take the dataset from the slot".
const LAZY_MARKER: &str = "$anam::private::LazySlot";

/// Bytes copied per block when a file-backed [`Lazy`] is written to HDF5.
const COPY_BLOCK_BYTES: usize = 8 << 20;

/// An array in a file: the open dataset, what it holds, and where it is.
pub(crate) struct Source {
    node: Node,
    dtype: DType,
    shape: Vec<usize>,
    /// `file:/path/in/file`, for errors.
    path: String,
}

thread_local! {
    /// A dataset being handed to [`Lazy`]'s visitor (reading).
    static READ_SLOT: RefCell<Option<Source>> = const { RefCell::new(None) };
    /// The source of the file-backed [`Lazy`] being serialized (writing).
    static WRITE_SLOT: RefCell<Option<Arc<Source>>> = const { RefCell::new(None) };
}

/// The name HDF5 gives an open object, and the name of its file.
fn names(id: hid_t) -> (String, String) {
    use hdf5_sys::h5f::H5Fget_name;
    use hdf5_sys::h5i::H5Iget_name;
    let get = |f: &dyn Fn(*mut std::ffi::c_char, usize) -> isize| -> String {
        hdf5::sync::sync(|| {
            let len = f(std::ptr::null_mut(), 0);
            let Ok(len) = usize::try_from(len) else {
                return String::from("?");
            };
            let mut buf = vec![0u8; len + 1];
            f(buf.as_mut_ptr().cast(), buf.len());
            buf.truncate(len);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    // SAFETY: `id` is an open object; each call writes at most `size` bytes into `buf`.
    let object = get(&|buf, size| unsafe { H5Iget_name(id, buf, size) });
    // SAFETY: as above.
    let file = get(&|buf, size| unsafe { H5Fget_name(id, buf, size) });
    (file, object)
}

/// Passes the dataset `node` (numeric, not null) to [`Lazy`]'s visitor.
pub(crate) fn hand_over<'de, V: Visitor<'de>>(node: Node, visitor: V) -> Result<V::Value> {
    let dtype = node.numeric()?;
    let (file, object) = names(node.id()?);
    let source = Source {
        dtype,
        shape: node.shape.clone(),
        path: format!("{file}:{object}"),
        node,
    };
    READ_SLOT.with(|s| *s.borrow_mut() = Some(source));
    let result = visitor.visit_str(LAZY_MARKER);
    READ_SLOT.with(|s| s.borrow_mut().take());
    result
}

/// The source of the file-backed [`Lazy`] being serialized, if a `Lazy` left one: taken,
/// so that it is used once.
pub(crate) fn take_source() -> Option<Arc<Source>> {
    WRITE_SLOT.with(|s| s.borrow_mut().take())
}

/// Writes `source` as the dataset `name` of `parent`, copied in blocks of rows (about
/// [`COPY_BLOCK_BYTES`] each, at least one row): never the whole array in memory. Returns
/// `false` (nothing written) for an array the caller should write as usual: one with no
/// element or no dimension (an `AnamEmptyArray` group, not a dataset).
pub(crate) fn copy_into(source: &Source, parent: &Group, name: &str) -> Result<bool> {
    let shape = &source.shape;
    if shape.is_empty() || shape.contains(&0) {
        return Ok(false);
    }
    let dataset = create_dataset(parent, name, source.dtype, shape, None)?;
    let row_bytes = shape[1..].iter().product::<usize>() * source.dtype.size();
    let rows_per_block = (COPY_BLOCK_BYTES / row_bytes.max(1)).max(1);
    let mut start = vec![0u64; shape.len()];
    let stride = vec![1u64; shape.len()];
    let mut count: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let mut row = 0;
    while row < shape[0] {
        let rows = rows_per_block.min(shape[0] - row);
        start[0] = row as u64;
        count[0] = rows as u64;
        let block = source
            .node
            .read_selection(&start, &stride, &count)
            .map_err(|e| e.at_with(|| source.path.clone()))?;
        write_rows(dataset.id(), &block, row)?;
        row += rows;
    }
    Ok(true)
}

/// Creates the dataset `name` of `dtype` and `shape` in `group`: contiguous, or with
/// `chunk_rows` chunked with an unlimited first axis (an extendable array).
pub(crate) fn create_dataset(
    group: &Group,
    name: &str,
    dtype: DType,
    shape: &[usize],
    chunk_rows: Option<usize>,
) -> Result<OwnedId> {
    use hdf5_sys::h5p::{H5Pclose, H5Pcopy, H5Pset_chunk};
    use hdf5_sys::h5s::H5S_UNLIMITED;

    let shared = ffi::shared()?;
    let h5type = shared.type_of(dtype);
    let cname = c_name(name, "dataset")?;
    let op = || format!("cannot create the dataset `{name}`");
    let dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    let rank = i32::try_from(dims.len()).map_err(|_| Error::invalid("too many dimensions"))?;
    let max: Option<Vec<u64>> = chunk_rows.map(|_| {
        let mut max = dims.clone();
        max[0] = H5S_UNLIMITED;
        max
    });
    let space = ffi::simple_space(&dims, max.as_deref(), op)?;
    // SAFETY: copies the shared dataset creation list (no timestamps); owned.
    let dcpl = OwnedId::new(op, H5Pclose, || unsafe { H5Pcopy(shared.dcpl) })?;
    if let Some(rows) = chunk_rows {
        let mut chunk: Vec<u64> = dims.iter().map(|&d| d.max(1)).collect();
        chunk[0] = rows.max(1) as u64;
        // SAFETY: `chunk` has `rank` entries, each at least 1.
        call(op, || unsafe {
            H5Pset_chunk(dcpl.id(), rank, chunk.as_ptr())
        })?;
    }
    ffi::create_dataset(group.id(), &cname, h5type, space.id(), dcpl.id(), op)
}

/// Writes `block` (an array of the dataset's rank and dtype, whose trailing axes are the
/// dataset's) into the open dataset `dataset` from row `first_row` of its first axis, with
/// one write call.
pub(crate) fn write_rows(dataset: hid_t, block: &TypedArray, first_row: usize) -> Result<()> {
    with_typed_array!(block, a => {
        let standard = a.as_standard_layout();
        let data = standard
            .as_slice()
            .ok_or_else(|| Error::invalid("array is not contiguous"))?;
        write_row_bytes(dataset, block.dtype(), a.shape(), as_bytes(data), first_row)
    })
}

/// [`write_rows`] of a block given as its dtype, shape and little-endian bytes (exactly
/// the elements of `shape`).
pub(crate) fn write_row_bytes(
    dataset: hid_t,
    dtype: DType,
    shape: &[usize],
    bytes: &[u8],
    first_row: usize,
) -> Result<()> {
    use hdf5_sys::h5d::{H5Dget_space, H5Dwrite};
    use hdf5_sys::h5p::H5P_DEFAULT;
    use hdf5_sys::h5s::H5Sclose;

    super::node::check_buffer(dtype, shape, bytes)?;
    let shared = ffi::shared()?;
    let h5type = shared.type_of(dtype);
    let count: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    if count.is_empty() || count.contains(&0) {
        return Ok(());
    }
    let mut start = vec![0u64; count.len()];
    start[0] = first_row as u64;
    let op = || "cannot write rows into the dataset".to_string();
    // SAFETY: the dataspace made is owned.
    let file_space = OwnedId::new(op, H5Sclose, || unsafe { H5Dget_space(dataset) })?;
    ffi::select_block(file_space.id(), &start, None, &count, op)?;
    let mem_space = ffi::simple_space(&count, None, op)?;
    // SAFETY: `bytes` holds exactly the selected elements in `h5type` (checked above; the
    // memory dataspace is the block's shape), and HDF5 only reads from it.
    call(op, || unsafe {
        H5Dwrite(
            dataset,
            h5type,
            mem_space.id(),
            file_space.id(),
            H5P_DEFAULT,
            bytes.as_ptr().cast(),
        )
    })?;
    Ok(())
}

/// The current extent and maximum extent of the open dataset `dataset`.
pub(crate) fn extent(dataset: hid_t) -> Result<(Vec<u64>, Vec<u64>)> {
    use hdf5_sys::h5d::H5Dget_space;
    use hdf5_sys::h5s::{H5Sclose, H5Sget_simple_extent_dims, H5Sget_simple_extent_ndims};
    let op = || "cannot read the extent of the dataset".to_string();
    // SAFETY: the dataspace made is owned.
    let space = OwnedId::new(op, H5Sclose, || unsafe { H5Dget_space(dataset) })?;
    // SAFETY: queries a dataspace we own.
    let rank = call(op, || unsafe { H5Sget_simple_extent_ndims(space.id()) })?;
    let mut dims = vec![0u64; rank as usize];
    let mut max = vec![0u64; rank as usize];
    // SAFETY: `dims` and `max` have room for the dataspace's `rank` dimensions.
    call(op, || unsafe {
        H5Sget_simple_extent_dims(space.id(), dims.as_mut_ptr(), max.as_mut_ptr())
    })?;
    Ok((dims, max))
}

/// Sets the extent of the open (chunked) dataset `dataset` to `dims`.
pub(crate) fn set_extent(dataset: hid_t, dims: &[u64]) -> Result<()> {
    use hdf5_sys::h5d::H5Dset_extent;
    call(
        || format!("cannot change the extent of the dataset to {dims:?}"),
        // SAFETY: `dims` has one entry per axis of the dataset (its rank, read before).
        || unsafe { H5Dset_extent(dataset, dims.as_ptr()) },
    )?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// The public type
// ---------------------------------------------------------------------------------------

/// An array struct field that is read from an HDF5 file only when asked for: `Lazy<A>` for
/// `A` an ndarray array (`Lazy<Array2<f64>>`, `Lazy<ArrayD<i32>>`).
///
/// Deserialized from an HDF5 file (by [`from_file`](crate::from_file), [`File::read`]
/// and the other HDF5 readers), a `Lazy` field keeps the dataset open and reads nothing:
/// [`shape`](Self::shape) and [`dtype`](Self::dtype) come from the dataset's header,
/// [`load`](Self::load) reads it whole, and [`slice`](Self::slice) reads only the selected
/// hyperslab, with one HDF5 read of the selection. Deserialized from any other source (the
/// [`wire`](crate::wire) format, a [`Value`](crate::Value), JSON), or from an empty or 0-d
/// array (an `AnamEmptyArray` group) or an array attribute, the array is read at once and
/// the `Lazy` holds it in memory; `Lazy::from(array)` makes one from an array too.
///
/// Serialized to HDF5, a file-backed `Lazy` is copied dataset to dataset in blocks of rows
/// of about 8 MiB (never the whole array in memory) when the stored dtype is the
/// element type `T`; otherwise, and in every other format ([`wire`](crate::wire),
/// [`Value`](crate::Value), JSON), it is loaded and written as
/// [`anam::array`](crate::array) writes an array. The stored layout is the same as
/// `anam::array`'s: a `Lazy` field reads files written with `#[serde(with =
/// "anam::array")]` and the other way round (in the wire format, a `Lazy` is read back
/// as a `Lazy`: its bytes carry an extra envelope).
///
/// While a file-backed `Lazy` lives, HDF5 keeps its file open (read-only for a file read
/// with `from_file`): writing to that file with anam from this process fails until the
/// `Lazy` is dropped, and another process may write to it meanwhile (our lock is held
/// only while the read runs). Reads from a file that was removed from its directory keep
/// working (the file stays open); a failed read is an error naming the file and dataset,
/// never a panic.
///
/// ```
/// use anam::ndarray::{s, Array2};
/// use anam::Lazy;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// #[serde(rename = "lab.Recording")]
/// struct Recording {
///     rate: f64,
///     samples: Lazy<Array2<f64>>,
/// }
///
/// # fn main() -> anam::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("rec.hdf5");
/// let samples = Array2::from_shape_fn((1000, 16), |(i, j)| (i * 16 + j) as f64);
/// anam::to_file(&path, "rec", &Recording { rate: 1e3, samples: Lazy::from(samples) })?;
///
/// let rec: Recording = anam::from_file(&path, None)?; // reads no sample
/// assert_eq!(rec.samples.shape(), &[1000, 16]);
/// assert_eq!(rec.samples.dtype(), anam::DType::F64);
/// let window = rec.samples.slice(s![10..12, 4..6])?; // reads 4 samples
/// assert_eq!(window, anam::ndarray::arr2(&[[164.0, 165.0], [180.0, 181.0]]));
/// let all = rec.samples.load()?;
/// assert_eq!(all[[999, 15]], 15999.0);
/// # Ok(())
/// # }
/// ```
///
/// [`File::read`]: crate::File::read
pub struct Lazy<A> {
    inner: Inner<A>,
}

enum Inner<A> {
    Memory(A),
    File(Arc<Source>),
}

impl<A: Clone> Clone for Lazy<A> {
    fn clone(&self) -> Self {
        Lazy {
            inner: match &self.inner {
                Inner::Memory(a) => Inner::Memory(a.clone()),
                Inner::File(s) => Inner::File(Arc::clone(s)),
            },
        }
    }
}

impl<A: fmt::Debug> fmt::Debug for Lazy<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Memory(a) => f.debug_tuple("Lazy").field(a).finish(),
            Inner::File(s) => f
                .debug_struct("Lazy")
                .field("path", &s.path)
                .field("dtype", &s.dtype)
                .field("shape", &s.shape)
                .finish(),
        }
    }
}

impl<T: Element, D: Dimension> From<Array<T, D>> for Lazy<Array<T, D>> {
    fn from(array: Array<T, D>) -> Self {
        Lazy {
            inner: Inner::Memory(array),
        }
    }
}

/// An empty array in memory (a `#[serde(default)]` field).
impl<T: Element, D: Dimension + Default> Default for Lazy<Array<T, D>> {
    fn default() -> Self {
        Lazy::from(
            Array::from_shape_vec(D::default(), Vec::new()).unwrap_or_else(|_| {
                // A 0-d dimension has one element: the element's default.
                Array::from_elem(D::default(), T::default())
            }),
        )
    }
}

impl<T: Element, D: Dimension> Lazy<Array<T, D>> {
    /// The array: moved out when it is in memory, read from the file (as
    /// [`load`](Self::load)) otherwise.
    pub fn into_array(self) -> Result<Array<T, D>> {
        match self.inner {
            Inner::Memory(a) => Ok(a),
            Inner::File(_) => self.load(),
        }
    }

    /// The array's shape (for a file-backed `Lazy`, the dataset's when it was read).
    pub fn shape(&self) -> &[usize] {
        match &self.inner {
            Inner::Memory(a) => a.shape(),
            Inner::File(s) => &s.shape,
        }
    }

    /// The stored element type (for a file-backed `Lazy`, the dataset's, which may be any
    /// dtype that converts to `T` without loss; [`load`](Self::load) checks).
    pub fn dtype(&self) -> DType {
        match &self.inner {
            Inner::Memory(_) => T::DTYPE,
            Inner::File(s) => s.dtype,
        }
    }

    /// Whether the array is in memory (made from an array, or read from a source other
    /// than an HDF5 dataset) rather than in a file.
    pub fn is_loaded(&self) -> bool {
        matches!(self.inner, Inner::Memory(_))
    }

    /// Where the data is, as `file:/path/in/file`; `None` when it is in memory.
    pub fn location(&self) -> Option<&str> {
        match &self.inner {
            Inner::Memory(_) => None,
            Inner::File(s) => Some(&s.path),
        }
    }

    /// The whole array: a copy of the one in memory, or the dataset read in one call and
    /// converted to `T` without loss (an `int32` dataset into `f64`). A dtype that does not
    /// convert without loss is an error naming the file and the dataset.
    pub fn load(&self) -> Result<Array<T, D>> {
        match &self.inner {
            Inner::Memory(a) => Ok(a.clone()),
            Inner::File(s) => {
                let read = || into_dim::<T, D>(s.node.read_array()?.into_array::<T>()?);
                read().map_err(|e| e.at_with(|| s.path.clone()))
            }
        }
    }

    /// The selection `info` (made with [`ndarray::s!`], as for
    /// [`ArrayRef::slice`](ndarray::ArrayRef::slice)) as a new array. From a file, only
    /// the selected hyperslab is read, with one HDF5 read call; negative steps and new axes
    /// are applied to what was read. Out-of-range indices and ranges are errors (naming the
    /// file and dataset), not panics.
    ///
    /// ```
    /// # use anam::ndarray::{s, arr1, Array1};
    /// let lazy = anam::Lazy::from(Array1::from_iter(0..10i64));
    /// assert_eq!(lazy.slice(s![2..8;3])?, arr1(&[2, 5]));
    /// assert_eq!(lazy.slice(s![..;-4])?, arr1(&[9, 5, 1]));
    /// assert!(lazy.slice(s![11..]).is_err());
    /// # Ok::<(), anam::Error>(())
    /// ```
    pub fn slice<I: SliceArg<D>>(&self, info: I) -> Result<Array<T, I::OutDim>> {
        let at = |e: Error| match &self.inner {
            Inner::Memory(_) => e,
            Inner::File(s) => e.at_with(|| s.path.clone()),
        };
        let plan = Plan::new(self.shape(), info.as_ref()).map_err(at)?;
        let selected: ArrayD<T> = match &self.inner {
            Inner::Memory(a) => {
                let (start, stride, count) = (&plan.start, &plan.stride, &plan.count);
                let view = a.view().into_dyn();
                let info = (0..count.len())
                    .map(|k| SliceInfoElem::Slice {
                        start: start[k] as isize,
                        end: Some(if count[k] == 0 {
                            start[k] as isize
                        } else {
                            (start[k] + stride[k] * (count[k] - 1) + 1) as isize
                        }),
                        step: stride[k] as isize,
                    })
                    .collect::<Vec<_>>();
                let info = SliceInfo::<_, IxDyn, IxDyn>::try_from(info)
                    .map_err(|e| at(Error::invalid(e.to_string())))?;
                view.slice(info).to_owned()
            }
            Inner::File(s) => s
                .node
                .read_selection(&plan.start, &plan.stride, &plan.count)
                .and_then(|a| a.into_array::<T>())
                .map_err(at)?,
        };
        let out = plan.finish(selected).map_err(at)?;
        out.into_dimensionality::<I::OutDim>()
            .map_err(|e| at(Error::invalid(e.to_string())))
    }
}

/// An array of dimension `D` from a dynamic one, or an error naming both.
fn into_dim<T, D: Dimension>(a: ArrayD<T>) -> Result<Array<T, D>> {
    let shape = a.shape().to_vec();
    a.into_dimensionality::<D>()
        .map_err(|_| wrong_rank::<D>(&shape))
}

fn wrong_rank<D: Dimension>(shape: &[usize]) -> Error {
    Error::invalid(format!(
        "expected a {}-d array, found shape {:?}",
        D::NDIM.map_or("n".to_string(), |n| n.to_string()),
        shape
    ))
}

/// A slice as a hyperslab (positive steps, one entry per stored axis) and what to do to
/// the block read: reverse axes of negative steps, drop indexed axes, add new axes.
struct Plan {
    start: Vec<u64>,
    stride: Vec<u64>,
    count: Vec<u64>,
    /// What each element of the slice does to the block, in order.
    post: Vec<Post>,
}

enum Post {
    Keep { reverse: bool },
    Drop,
    New,
}

impl Plan {
    fn new(shape: &[usize], elems: &[SliceInfoElem]) -> Result<Plan> {
        let axes = elems
            .iter()
            .filter(|e| !matches!(e, SliceInfoElem::NewAxis))
            .count();
        if axes != shape.len() {
            return Err(Error::invalid(format!(
                "a slice of {axes} axes for an array of shape {shape:?}"
            )));
        }
        let mut plan = Plan {
            start: Vec::new(),
            stride: Vec::new(),
            count: Vec::new(),
            post: Vec::new(),
        };
        let mut axis = 0;
        for elem in elems {
            match *elem {
                SliceInfoElem::NewAxis => {
                    plan.post.push(Post::New);
                    continue;
                }
                SliceInfoElem::Index(i) => {
                    let len = shape[axis];
                    let index = resolve(i, len).filter(|&i| i < len).ok_or_else(|| {
                        Error::invalid(format!(
                            "index {i} out of range for axis {axis} of length {len}"
                        ))
                    })?;
                    plan.push(index, 1, 1);
                    plan.post.push(Post::Drop);
                }
                SliceInfoElem::Slice { start, end, step } => {
                    let len = shape[axis];
                    let range = || {
                        format!(
                            "range {start}..{} out of range for axis {axis} of length {len}",
                            end.map_or(String::new(), |e| e.to_string())
                        )
                    };
                    let lo = resolve(start, len)
                        .filter(|&s| s <= len)
                        .ok_or_else(|| Error::invalid(range()))?;
                    let hi = match end {
                        None => len,
                        Some(e) => resolve(e, len)
                            .filter(|&e| e <= len)
                            .ok_or_else(|| Error::invalid(range()))?,
                    };
                    if step == 0 {
                        return Err(Error::invalid(format!("a step of 0 on axis {axis}")));
                    }
                    let hi = hi.max(lo);
                    let k = step.unsigned_abs();
                    let n = (hi - lo).div_ceil(k);
                    // A negative step takes the elements from the end of the range
                    // (ndarray's rule): the lowest one is hi - 1 - (n - 1) * k.
                    let first = if step > 0 || n == 0 {
                        lo
                    } else {
                        hi - 1 - (n - 1) * k
                    };
                    plan.push(first, k, n);
                    plan.post.push(Post::Keep { reverse: step < 0 });
                }
            }
            axis += 1;
        }
        Ok(plan)
    }

    fn push(&mut self, start: usize, stride: usize, count: usize) {
        self.start.push(start as u64);
        self.stride.push(stride as u64);
        self.count.push(count as u64);
    }

    /// Applies the reversals, dropped axes and new axes to the block read.
    fn finish<T: Clone>(&self, mut block: ArrayD<T>) -> Result<ArrayD<T>> {
        use ndarray::Axis;
        // Reverse, then drop indexed axes from the last down, then insert new ones.
        let mut axis = 0;
        for post in &self.post {
            match post {
                Post::Keep { reverse } => {
                    if *reverse {
                        block.invert_axis(Axis(axis));
                    }
                    axis += 1;
                }
                Post::Drop => axis += 1,
                Post::New => {}
            }
        }
        let stored: Vec<bool> = self
            .post
            .iter()
            .filter(|p| !matches!(p, Post::New))
            .map(|p| matches!(p, Post::Drop))
            .collect();
        for (axis, &drop) in stored.iter().enumerate().rev() {
            if drop {
                block = block.index_axis_move(Axis(axis), 0);
            }
        }
        let mut out_axis = 0;
        for post in &self.post {
            match post {
                Post::Keep { .. } => out_axis += 1,
                Post::Drop => {}
                Post::New => {
                    block.insert_axis_inplace(Axis(out_axis));
                    out_axis += 1;
                }
            }
        }
        if block.is_standard_layout() {
            Ok(block)
        } else {
            Ok(block.as_standard_layout().into_owned())
        }
    }
}

/// A possibly negative index (from the end) as an offset into an axis of `len`.
fn resolve(i: isize, len: usize) -> Option<usize> {
    if i >= 0 {
        Some(i as usize)
    } else {
        len.checked_sub(i.unsigned_abs())
    }
}

impl<T: Element, D: Dimension> Serialize for Lazy<Array<T, D>> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        struct Restore(Option<Arc<Source>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let outer = self.0.take();
                WRITE_SLOT.with(|s| *s.borrow_mut() = outer);
            }
        }
        let _restore = match &self.inner {
            // Only a dtype the copy keeps as is; others are loaded and converted.
            Inner::File(src) if src.dtype == T::DTYPE => {
                let outer = WRITE_SLOT.with(|s| s.borrow_mut().replace(Arc::clone(src)));
                Some(Restore(outer))
            }
            _ => None,
        };
        s.serialize_newtype_struct(LAZY_TOKEN, &Loaded(self))
    }
}

/// The array of a `Lazy`, in the [`anam::array`](crate::array) form (loaded from the
/// file if need be).
struct Loaded<'a, A>(&'a Lazy<A>);

impl<T: Element, D: Dimension> Serialize for Loaded<'_, Array<T, D>> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        // A format that did not take the source does not take it later.
        let _ = take_source();
        match &self.0.inner {
            Inner::Memory(a) => crate::array::serialize(a, s),
            Inner::File(_) => {
                let a = self.0.load().map_err(ser::Error::custom)?;
                crate::array::serialize(&a, s)
            }
        }
    }
}

impl<'de, T: Element, D: Dimension> Deserialize<'de> for Lazy<Array<T, D>> {
    fn deserialize<De: Deserializer<'de>>(d: De) -> std::result::Result<Self, De::Error> {
        d.deserialize_newtype_struct(LAZY_TOKEN, LazyVisitor(PhantomData))
    }
}

struct LazyVisitor<T, D>(PhantomData<(T, D)>);

impl<'de, T: Element, D: Dimension> Visitor<'de> for LazyVisitor<T, D> {
    type Value = Lazy<Array<T, D>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an n-dimensional array")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Self::Value, E> {
        let source = (v == LAZY_MARKER)
            .then(|| READ_SLOT.with(|s| s.borrow_mut().take()))
            .flatten()
            .ok_or_else(|| E::invalid_type(de::Unexpected::Str(v), &self))?;
        if D::NDIM.is_some_and(|n| n != source.shape.len()) {
            return Err(E::custom(wrong_rank::<D>(&source.shape)));
        }
        Ok(Lazy {
            inner: Inner::File(Arc::new(source)),
        })
    }

    fn visit_newtype_struct<De: Deserializer<'de>>(
        self,
        d: De,
    ) -> std::result::Result<Self::Value, De::Error> {
        crate::array::deserialize(d).map(Lazy::from)
    }
}
