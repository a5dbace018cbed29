//! n-dimensional arrays as whole buffers: `#[serde(with = "anam::array")]`.
//!
//! A field of type [`ndarray::Array`] (any dimension) with this attribute is written as one
//! HDF5 dataset of the element's dtype and the array's shape, in one call, without copying
//! a standard-layout buffer. Empty and 0-d arrays use the `AnamEmptyArray` group layout
//! that Python anamnesis uses.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use ndarray::{ArrayD, Array2};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Stats {
//!     #[serde(with = "anam::array")]
//!     zstats: Array2<f64>,
//!     #[serde(with = "anam::array::option", default)]
//!     rts: Option<ArrayD<f32>>,
//! }
//! ```
//!
//! In other Serde formats the array is a struct `{dtype, shape, data}`: `data` is a
//! sequence of elements in human-readable formats (JSON) and the little-endian bytes of
//! the buffer in binary ones, so it round-trips everywhere.
//!
//! Element types are those of [`Element`]: `bool`, `i8`..`i64`, `u8`..`u64`, `f32`, `f64`,
//! `Complex<f32>` and `Complex<f64>`. Reading converts losslessly (an `int32` dataset loads
//! into `Array<i64, _>` or `Array<f64, _>`) and refuses narrowing conversions.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;

use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};
use num_complex::{Complex32, Complex64};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[cfg(target_endian = "big")]
compile_error!(
    "serde-anam moves array buffers as little-endian bytes and supports little-endian targets only"
);

/// Newtype-struct name that marks an array payload for the crate's own formats.
pub(crate) const ARRAY_TOKEN: &str = "$anam::private::Array";
/// String a format passes to the array visitor to say "take the array from the slot".
pub(crate) const SLOT_MARKER: &str = "$anam::private::ArraySlot";
/// Like [`SLOT_MARKER`], for a typed scalar carried as a one-element array.
pub(crate) const SCALAR_SLOT_MARKER: &str = "$anam::private::ScalarSlot";
const PAYLOAD_FIELDS: &[&str] = &["dtype", "shape", "data"];

/// The element type of an array, named as numpy names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DType {
    /// `bool` (h5py's boolean enum in HDF5).
    Bool,
    /// `int8`
    I8,
    /// `int16`
    I16,
    /// `int32`
    I32,
    /// `int64`
    I64,
    /// `uint8`
    U8,
    /// `uint16`
    U16,
    /// `uint32`
    U32,
    /// `uint64`
    U64,
    /// `float32`
    F32,
    /// `float64`
    F64,
    /// `complex64` (two `f32`)
    C64,
    /// `complex128` (two `f64`)
    C128,
}

impl DType {
    /// Every dtype, in a fixed order.
    pub const ALL: [DType; 13] = [
        DType::Bool,
        DType::I8,
        DType::I16,
        DType::I32,
        DType::I64,
        DType::U8,
        DType::U16,
        DType::U32,
        DType::U64,
        DType::F32,
        DType::F64,
        DType::C64,
        DType::C128,
    ];

    /// The numpy name (`"float64"`, `"complex64"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            DType::Bool => "bool",
            DType::I8 => "int8",
            DType::I16 => "int16",
            DType::I32 => "int32",
            DType::I64 => "int64",
            DType::U8 => "uint8",
            DType::U16 => "uint16",
            DType::U32 => "uint32",
            DType::U64 => "uint64",
            DType::F32 => "float32",
            DType::F64 => "float64",
            DType::C64 => "complex64",
            DType::C128 => "complex128",
        }
    }

    /// Parses a numpy dtype name.
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::Bool | DType::I8 | DType::U8 => 1,
            DType::I16 | DType::U16 => 2,
            DType::I32 | DType::U32 | DType::F32 => 4,
            DType::I64 | DType::U64 | DType::F64 | DType::C64 => 8,
            DType::C128 => 16,
        }
    }
}

impl fmt::Display for DType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

mod sealed {
    pub trait Sealed {}
}

/// An array element type the format stores natively. Sealed: the list is the format's.
pub trait Element:
    sealed::Sealed + Copy + Default + Serialize + for<'de> Deserialize<'de> + 'static
{
    /// The dtype of this element type.
    const DTYPE: DType;
    #[doc(hidden)]
    fn wrap(array: ArrayD<Self>) -> TypedArray;
    #[doc(hidden)]
    fn unwrap(array: TypedArray) -> Result<ArrayD<Self>, TypedArray>;
    #[doc(hidden)]
    /// Lossless conversion from an array of another dtype, if one exists.
    fn widen(array: &TypedArray) -> Option<ArrayD<Self>>;
}

/// An owned n-dimensional array of any [`Element`] type, tagged with its dtype.
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum TypedArray {
    Bool(ArrayD<bool>),
    I8(ArrayD<i8>),
    I16(ArrayD<i16>),
    I32(ArrayD<i32>),
    I64(ArrayD<i64>),
    U8(ArrayD<u8>),
    U16(ArrayD<u16>),
    U32(ArrayD<u32>),
    U64(ArrayD<u64>),
    F32(ArrayD<f32>),
    F64(ArrayD<f64>),
    C64(ArrayD<Complex32>),
    C128(ArrayD<Complex64>),
}

/// Calls `$body` with `$a` bound to the inner `ArrayD<T>` of any [`TypedArray`] variant.
macro_rules! with_typed_array {
    ($value:expr, $a:ident => $body:expr) => {
        match $value {
            TypedArray::Bool($a) => $body,
            TypedArray::I8($a) => $body,
            TypedArray::I16($a) => $body,
            TypedArray::I32($a) => $body,
            TypedArray::I64($a) => $body,
            TypedArray::U8($a) => $body,
            TypedArray::U16($a) => $body,
            TypedArray::U32($a) => $body,
            TypedArray::U64($a) => $body,
            TypedArray::F32($a) => $body,
            TypedArray::F64($a) => $body,
            TypedArray::C64($a) => $body,
            TypedArray::C128($a) => $body,
        }
    };
}
pub(crate) use with_typed_array;

/// Calls `$body` with the type alias `$t` set to the Rust element type of a [`DType`].
macro_rules! with_dtype {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            DType::Bool => {
                type $t = bool;
                $body
            }
            DType::I8 => {
                type $t = i8;
                $body
            }
            DType::I16 => {
                type $t = i16;
                $body
            }
            DType::I32 => {
                type $t = i32;
                $body
            }
            DType::I64 => {
                type $t = i64;
                $body
            }
            DType::U8 => {
                type $t = u8;
                $body
            }
            DType::U16 => {
                type $t = u16;
                $body
            }
            DType::U32 => {
                type $t = u32;
                $body
            }
            DType::U64 => {
                type $t = u64;
                $body
            }
            DType::F32 => {
                type $t = f32;
                $body
            }
            DType::F64 => {
                type $t = f64;
                $body
            }
            DType::C64 => {
                type $t = num_complex::Complex32;
                $body
            }
            DType::C128 => {
                type $t = num_complex::Complex64;
                $body
            }
        }
    };
}
pub(crate) use with_dtype;

macro_rules! element {
    ($t:ty, $variant:ident, [$($src:ident => $conv:expr),*]) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DType = DType::$variant;
            fn wrap(array: ArrayD<Self>) -> TypedArray {
                TypedArray::$variant(array)
            }
            fn unwrap(array: TypedArray) -> Result<ArrayD<Self>, TypedArray> {
                match array {
                    TypedArray::$variant(a) => Ok(a),
                    other => Err(other),
                }
            }
            #[allow(unused_variables)]
            fn widen(array: &TypedArray) -> Option<ArrayD<Self>> {
                match array {
                    $(TypedArray::$src(a) => Some(a.mapv($conv)),)*
                    _ => None,
                }
            }
        }
    };
}

element!(bool, Bool, []);
element!(i8, I8, []);
element!(i16, I16, [I8 => i16::from, U8 => i16::from]);
element!(i32, I32, [I8 => i32::from, I16 => i32::from, U8 => i32::from, U16 => i32::from]);
element!(i64, I64, [I8 => i64::from, I16 => i64::from, I32 => i64::from,
                    U8 => i64::from, U16 => i64::from, U32 => i64::from]);
element!(u8, U8, []);
element!(u16, U16, [U8 => u16::from]);
element!(u32, U32, [U8 => u32::from, U16 => u32::from]);
element!(u64, U64, [U8 => u64::from, U16 => u64::from, U32 => u64::from]);
element!(f32, F32, [I8 => f32::from, I16 => f32::from, U8 => f32::from, U16 => f32::from]);
element!(f64, F64, [F32 => f64::from, I8 => f64::from, I16 => f64::from, I32 => f64::from,
                    U8 => f64::from, U16 => f64::from, U32 => f64::from]);
element!(Complex32, C64, [F32 => |x| Complex32::new(x, 0.0)]);
element!(Complex64, C128, [C64 => |c| Complex64::new(c.re.into(), c.im.into()),
                           F64 => |x| Complex64::new(x, 0.0),
                           F32 => |x| Complex64::new(x.into(), 0.0)]);

impl TypedArray {
    /// The dtype of the elements.
    pub fn dtype(&self) -> DType {
        with_typed_array!(self, a => element_dtype(a))
    }

    /// The shape.
    pub fn shape(&self) -> &[usize] {
        with_typed_array!(self, a => a.shape())
    }

    /// Converts into an array of `T`: free when the dtype is `T`'s, a lossless conversion
    /// when one exists (`int32` to `i64` or `f64`), an error otherwise.
    pub fn into_array<T: Element>(self) -> Result<ArrayD<T>, String> {
        match T::unwrap(self) {
            Ok(a) => Ok(a),
            Err(other) => T::widen(&other).ok_or_else(|| {
                format!(
                    "cannot convert a {} array to {} without loss",
                    other.dtype(),
                    T::DTYPE
                )
            }),
        }
    }

    /// Copies a little-endian buffer of `dtype` elements into an array of `shape`.
    pub(crate) fn from_le_bytes(
        dtype: DType,
        shape: &[usize],
        bytes: &[u8],
    ) -> crate::Result<TypedArray> {
        let flat = with_dtype!(dtype, T => {
            let v = from_bytes::<T>(bytes).map_err(crate::Error::invalid)?;
            let n = v.len();
            T::wrap(ArrayD::from_shape_vec(IxDyn(&[n]), v).expect("1-d shape matches length"))
        });
        reshape(flat, shape).map_err(crate::Error::invalid)
    }

    /// Checks that ndarray can hold an array of `shape`: the product of the non-zero axis
    /// lengths must fit an `isize` (ndarray panics otherwise, even for an empty array).
    pub(crate) fn check_shape(shape: &[usize]) -> crate::Result<()> {
        let fits = shape
            .iter()
            .filter(|&&d| d != 0)
            .try_fold(1isize, |acc, &d| {
                isize::try_from(d).ok().and_then(|d| acc.checked_mul(d))
            });
        match fits {
            Some(_) => Ok(()),
            None => Err(crate::Error::invalid(format!(
                "array shape {shape:?} is too large"
            ))),
        }
    }

    /// An array of zeros (false for bool) of the given dtype and shape.
    pub fn zeros(dtype: DType, shape: &[usize]) -> TypedArray {
        with_dtype!(dtype, T => T::wrap(ArrayD::<T>::from_elem(IxDyn(shape), T::default())))
    }
}

fn element_dtype<T: Element>(_: &ArrayD<T>) -> DType {
    T::DTYPE
}

/// The bytes of a slice of elements (little-endian: see the crate-level `compile_error!`).
pub(crate) fn as_bytes<T: Element>(data: &[T]) -> &[u8] {
    // SAFETY: `Element` is sealed to plain-old-data types without padding (bool, integers,
    // floats and `Complex` of floats, which is `repr(C)`), so every byte is initialized.
    unsafe { std::slice::from_raw_parts(data.as_ptr().cast::<u8>(), std::mem::size_of_val(data)) }
}

/// A new vector of `n` elements whose bytes `fill` writes, all of them: allocated but not
/// zeroed, since zeroing memory that is about to be overwritten costs a whole pass over it
/// whenever the allocator hands back reused memory (a 32 MiB `scatter_array` took 1.3-1.4x
/// a raw `MPI_Scatterv` with zeroed buffers, 1.0x without). Not for `bool` (not every byte
/// is one): see [`filled_bytes`] and [`TypedArray::from_le_bytes`].
///
/// # Safety
///
/// When `fill` returns `Ok`, it must have written every byte of the buffer it was given.
pub(crate) unsafe fn filled_elements<T: Element>(
    n: usize,
    fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> crate::Result<()>,
) -> crate::Result<Vec<T>> {
    if T::DTYPE == DType::Bool {
        return Err(crate::Error::invalid(
            "booleans are filled as bytes, then checked",
        ));
    }
    let mut elements: Vec<T> = Vec::new();
    elements
        .try_reserve_exact(n)
        .map_err(|_| crate::Error::invalid(format!("cannot allocate {n} array elements")))?;
    let spare = &mut elements.spare_capacity_mut()[..n];
    // SAFETY: the `n` uninitialised elements viewed as their bytes (`MaybeUninit<u8>` holds
    // whatever is there, and bytes need no alignment).
    let bytes = unsafe {
        std::slice::from_raw_parts_mut(
            spare.as_mut_ptr().cast::<MaybeUninit<u8>>(),
            std::mem::size_of_val(spare),
        )
    };
    fill(bytes)?;
    // SAFETY: `fill` succeeded, so it wrote every byte of the `n` elements (the caller's
    // promise), and every bit pattern is a valid integer, float or complex number
    // (booleans are refused above).
    unsafe { elements.set_len(n) };
    Ok(elements)
}

/// A new byte vector of `n` bytes that `fill` writes, all of them (not zeroed first).
///
/// # Safety
///
/// When `fill` returns `Ok`, it must have written every byte of the buffer it was given.
pub(crate) unsafe fn filled_bytes(
    n: usize,
    fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> crate::Result<()>,
) -> crate::Result<Vec<u8>> {
    let mut bytes: Vec<u8> = Vec::new();
    bytes
        .try_reserve_exact(n)
        .map_err(|_| crate::Error::invalid(format!("cannot allocate {n} bytes")))?;
    fill(&mut bytes.spare_capacity_mut()[..n])?;
    // SAFETY: `fill` succeeded, so it wrote all `n` bytes (the caller's promise).
    unsafe { bytes.set_len(n) };
    Ok(bytes)
}

/// Copies little-endian bytes into a new vector of elements, validating bool bytes.
pub(crate) fn from_bytes<T: Element>(bytes: &[u8]) -> Result<Vec<T>, String> {
    let size = T::DTYPE.size();
    if bytes.len() % size != 0 {
        return Err(format!(
            "{} bytes is not a whole number of {} elements",
            bytes.len(),
            T::DTYPE
        ));
    }
    if T::DTYPE == DType::Bool && bytes.iter().any(|&b| b > 1) {
        return Err("bool array holds a byte that is neither 0 nor 1".into());
    }
    let n = bytes.len() / size;
    let mut out = vec![T::default(); n];
    // SAFETY: `out` has room for exactly `bytes.len()` bytes, every bit pattern is valid for
    // the sealed element types except bool, whose bytes were checked to be 0 or 1 above.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.as_mut_ptr().cast::<u8>(), bytes.len());
    }
    Ok(out)
}

/// The serialized form of an array: a newtype around `{dtype, shape, data}`.
struct Payload<'a, T> {
    shape: &'a [usize],
    data: &'a [T],
}

struct PayloadData<'a, T>(&'a [T]);

impl<T: Element> Serialize for PayloadData<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_seq(self.0)
        } else {
            s.serialize_bytes(as_bytes(self.0))
        }
    }
}

impl<T: Element> Serialize for Payload<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Array", 3)?;
        st.serialize_field("dtype", T::DTYPE.name())?;
        st.serialize_field("shape", self.shape)?;
        st.serialize_field("data", &PayloadData(self.data))?;
        st.end()
    }
}

/// Serializes a buffer of `shape` as the payload newtype `token` (the array token, or the
/// dynamic value's scalar token).
pub(crate) fn serialize_payload<T: Element, Ser: Serializer>(
    token: &'static str,
    shape: &[usize],
    data: &[T],
    serializer: Ser,
) -> Result<Ser::Ok, Ser::Error> {
    serializer.serialize_newtype_struct(token, &Payload { shape, data })
}

/// Serializes an array (use through `#[serde(with = "anam::array")]`).
pub fn serialize<T, S, D, Ser>(
    array: &ArrayBase<S, D>,
    serializer: Ser,
) -> Result<Ser::Ok, Ser::Error>
where
    T: Element,
    S: Data<Elem = T>,
    D: Dimension,
    Ser: Serializer,
{
    // A standard-layout array is borrowed as is; only a strided view is made contiguous.
    let standard = array.as_standard_layout();
    let data = standard
        .as_slice()
        .expect("a standard-layout array is contiguous");
    serialize_payload(ARRAY_TOKEN, array.shape(), data, serializer)
}

/// Deserializes an array (use through `#[serde(with = "anam::array")]`).
pub fn deserialize<'de, T, D, De>(deserializer: De) -> Result<ndarray::Array<T, D>, De::Error>
where
    T: Element,
    D: Dimension,
    De: Deserializer<'de>,
{
    let typed =
        deserializer.deserialize_newtype_struct(ARRAY_TOKEN, ArrayVisitor::new(T::DTYPE))?;
    let array = typed.into_array::<T>().map_err(de::Error::custom)?;
    let shape = array.shape().to_vec();
    array.into_dimensionality::<D>().map_err(|_| {
        de::Error::custom(format!(
            "expected a {}-d array, found shape {:?}",
            D::NDIM.map_or("n".to_string(), |n| n.to_string()),
            shape
        ))
    })
}

/// `Option<Array>` fields: `#[serde(with = "anam::array::option", default)]`.
pub mod option {
    use super::*;

    /// Serializes `None` as nothing (the entry is absent in HDF5) and `Some` as an array.
    pub fn serialize<T, S, D, Ser>(
        array: &Option<ArrayBase<S, D>>,
        serializer: Ser,
    ) -> Result<Ser::Ok, Ser::Error>
    where
        T: Element,
        S: Data<Elem = T>,
        D: Dimension,
        Ser: Serializer,
    {
        struct Some_<'a, S: Data, D>(&'a ArrayBase<S, D>);
        impl<T: Element, S: Data<Elem = T>, D: Dimension> Serialize for Some_<'_, S, D> {
            fn serialize<Ser: Serializer>(&self, s: Ser) -> Result<Ser::Ok, Ser::Error> {
                super::serialize(self.0, s)
            }
        }
        match array {
            Some(a) => serializer.serialize_some(&Some_(a)),
            None => serializer.serialize_none(),
        }
    }

    /// Deserializes an optional array.
    pub fn deserialize<'de, T, D, De>(
        deserializer: De,
    ) -> Result<Option<ndarray::Array<T, D>>, De::Error>
    where
        T: Element,
        D: Dimension,
        De: Deserializer<'de>,
    {
        struct OptVisitor<T, D>(PhantomData<(T, D)>);
        impl<'de, T: Element, D: Dimension> Visitor<'de> for OptVisitor<T, D> {
            type Value = Option<ndarray::Array<T, D>>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an optional array")
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_some<De2: Deserializer<'de>>(self, d: De2) -> Result<Self::Value, De2::Error> {
                super::deserialize(d).map(Some)
            }
        }
        deserializer.deserialize_option(OptVisitor(PhantomData))
    }
}

thread_local! {
    /// Hands a decoded array from one of the crate's deserializers to [`ArrayVisitor`]
    /// without copying it through Serde's visitor API (which has no way to move a typed
    /// buffer). Filled and emptied within one `visit_str(SLOT_MARKER)` call.
    static SLOT: Cell<Option<TypedArray>> = const { Cell::new(None) };
}

/// Passes `array` to a visitor that understands the slot protocol ([`ArrayVisitor`] or the
/// crate's dynamic value visitor).
pub(crate) fn hand_over<'de, V: Visitor<'de>, E: de::Error>(
    array: TypedArray,
    visitor: V,
) -> Result<V::Value, E> {
    SLOT.set(Some(array));
    let result = visitor.visit_str(SLOT_MARKER);
    // A visitor that did not take the array must not leave it for an unrelated one.
    SLOT.take();
    result
}

/// Passes a typed scalar (as a one-element array) to the dynamic value visitor.
pub(crate) fn hand_over_scalar<'de, V: Visitor<'de>, E: de::Error>(
    scalar: TypedArray,
    visitor: V,
) -> Result<V::Value, E> {
    SLOT.set(Some(scalar));
    let result = visitor.visit_str(SCALAR_SLOT_MARKER);
    SLOT.take();
    result
}

/// Takes the array placed by [`hand_over`], if `marker` is the slot marker.
pub(crate) fn take_from_slot(marker: &str) -> Option<TypedArray> {
    if marker == SLOT_MARKER {
        SLOT.take()
    } else {
        None
    }
}

/// Takes the scalar placed by [`hand_over_scalar`], if `marker` is its marker.
pub(crate) fn take_scalar_from_slot(marker: &str) -> Option<TypedArray> {
    if marker == SCALAR_SLOT_MARKER {
        SLOT.take()
    } else {
        None
    }
}

/// Visits an array: from the slot (the crate's formats), as `{dtype, shape, data}`, or, in
/// self-describing formats, as nested sequences of numbers (how the crate's formats present
/// a dataset to `deserialize_any`, so arrays inside untagged or internally tagged enums load).
pub(crate) struct ArrayVisitor {
    /// The element type wanted: nested numbers are converted to it, with range checks.
    target: DType,
    /// Whether a sequence is the nested form (self-describing formats) rather than the
    /// `[dtype, shape, data]` tuple of binary formats.
    nested: bool,
}

impl ArrayVisitor {
    pub(crate) fn new(target: DType) -> ArrayVisitor {
        ArrayVisitor {
            target,
            nested: false,
        }
    }
}

impl<'de> Visitor<'de> for ArrayVisitor {
    type Value = TypedArray;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an n-dimensional array")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TypedArray, E> {
        take_from_slot(v).ok_or_else(|| E::invalid_type(de::Unexpected::Str(v), &self))
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<TypedArray, D::Error> {
        // Human-readable formats (and Serde's buffered content) are self-describing.
        if d.is_human_readable() {
            d.deserialize_any(ArrayVisitor {
                nested: true,
                ..self
            })
        } else {
            d.deserialize_struct("Array", PAYLOAD_FIELDS, self)
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TypedArray, A::Error> {
        let mut dtype: Option<DType> = None;
        let mut shape: Option<Vec<usize>> = None;
        let mut data: Option<TypedArray> = None;
        while let Some(key) = map.next_key::<Cow<'_, str>>()? {
            match key.as_ref() {
                "dtype" => {
                    let name = map.next_value::<Cow<'_, str>>()?;
                    dtype = Some(
                        DType::from_name(&name)
                            .ok_or_else(|| de::Error::custom(format!("unknown dtype `{name}`")))?,
                    );
                }
                "shape" => shape = Some(map.next_value()?),
                "data" => {
                    let dt =
                        dtype.ok_or_else(|| de::Error::custom("array `data` before `dtype`"))?;
                    data = Some(map.next_value_seed(DataSeed(dt))?);
                }
                _ => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        let shape = shape.ok_or_else(|| de::Error::missing_field("shape"))?;
        let data = data.ok_or_else(|| de::Error::missing_field("data"))?;
        reshape(data, &shape).map_err(de::Error::custom)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TypedArray, A::Error> {
        if self.nested {
            let mut items = Vec::new();
            while let Some(item) = seq.next_element::<Nested>()? {
                items.push(item);
            }
            return Nested::List(items)
                .into_array(self.target)
                .map_err(de::Error::custom);
        }
        let name: Cow<'_, str> = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let dt = DType::from_name(&name)
            .ok_or_else(|| de::Error::custom(format!("unknown dtype `{name}`")))?;
        let shape: Vec<usize> = seq
            .next_element()?
            .ok_or_else(|| de::Error::invalid_length(1, &self))?;
        let data = seq
            .next_element_seed(DataSeed(dt))?
            .ok_or_else(|| de::Error::invalid_length(2, &self))?;
        reshape(data, &shape).map_err(de::Error::custom)
    }
}

/// Nested sequences of numbers (an array in a self-describing format).
enum Nested {
    Leaf(crate::h5::Num),
    List(Vec<Nested>),
}

impl<'de> Deserialize<'de> for Nested {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Nested, D::Error> {
        struct NestedVisitor;
        macro_rules! leaf {
            ($($method:ident($t:ty)),*) => {
                $(fn $method<E: de::Error>(self, v: $t) -> Result<Nested, E> {
                    Ok(Nested::Leaf(crate::h5::Num::from(v)))
                })*
            };
        }
        impl<'de> Visitor<'de> for NestedVisitor {
            type Value = Nested;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a sequence")
            }
            leaf!(
                visit_bool(bool),
                visit_i8(i8),
                visit_i16(i16),
                visit_i32(i32),
                visit_i64(i64),
                visit_u8(u8),
                visit_u16(u16),
                visit_u32(u32),
                visit_u64(u64),
                visit_f32(f32),
                visit_f64(f64)
            );
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Nested, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Nested::List(items))
            }
        }
        d.deserialize_any(NestedVisitor)
    }
}

impl Nested {
    /// The shape and the leaves (complex targets: innermost pairs are leaves), checking the
    /// nesting is rectangular.
    fn into_array(self, target: DType) -> Result<TypedArray, String> {
        let complex = matches!(target, DType::C64 | DType::C128);
        let mut shape = Vec::new();
        let mut level = &self;
        while let Nested::List(items) = level {
            if complex && items.len() == 2 && items.iter().all(|i| matches!(i, Nested::Leaf(_))) {
                break;
            }
            shape.push(items.len());
            match items.first() {
                Some(first) => level = first,
                None => break,
            }
        }
        let mut leaves = Vec::new();
        self.flatten(&shape, complex, &mut leaves)?;
        with_dtype!(target, T => {
            let values = leaves
                .into_iter()
                .map(T::deserialize)
                .collect::<Result<Vec<T>, crate::Error>>()
                .map_err(|e| e.to_string())?;
            ArrayD::from_shape_vec(IxDyn(&shape), values)
                .map(T::wrap)
                .map_err(|e| e.to_string())
        })
    }

    fn flatten(self, shape: &[usize], complex: bool, out: &mut Vec<LeafDe>) -> Result<(), String> {
        match (self, shape.split_first()) {
            (Nested::List(items), Some((&n, rest))) if items.len() == n => items
                .into_iter()
                .try_for_each(|i| i.flatten(rest, complex, out)),
            (Nested::List(items), None) if complex => match <[Nested; 2]>::try_from(items) {
                Ok([Nested::Leaf(re), Nested::Leaf(im)]) => {
                    out.push(LeafDe::Pair(re, im));
                    Ok(())
                }
                _ => Err("a complex element is a pair of numbers".into()),
            },
            (Nested::Leaf(n), None) if !complex => {
                out.push(LeafDe::Num(n));
                Ok(())
            }
            _ => Err("nested sequences are not a rectangular array".into()),
        }
    }
}

/// One element of a nested array, deserialized into the target type with Serde's checks.
enum LeafDe {
    Num(crate::h5::Num),
    Pair(crate::h5::Num, crate::h5::Num),
}

impl<'de> Deserializer<'de> for LeafDe {
    type Error = crate::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> crate::Result<V::Value> {
        match self {
            LeafDe::Num(n) => n.visit(visitor),
            LeafDe::Pair(re, im) => visitor.visit_seq(de::value::SeqDeserializer::new(
                [LeafDe::Num(re), LeafDe::Num(im)].into_iter(),
            )),
        }
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> de::IntoDeserializer<'de, crate::Error> for LeafDe {
    type Deserializer = LeafDe;
    fn into_deserializer(self) -> LeafDe {
        self
    }
}

/// Reshapes a flat array; errors when the element count does not match.
fn reshape(flat: TypedArray, shape: &[usize]) -> Result<TypedArray, String> {
    let expected = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    with_typed_array!(flat, a => {
        if Some(a.len()) != expected {
            return Err(format!("array data has {} elements but shape {:?}", a.len(), shape));
        }
        a.into_shape_with_order(IxDyn(shape))
            .map(Element::wrap)
            .map_err(|e| e.to_string())
    })
}

/// Reads `data` of a known dtype: a byte string in binary formats, a sequence otherwise.
struct DataSeed(DType);

impl<'de> DeserializeSeed<'de> for DataSeed {
    type Value = TypedArray;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<TypedArray, D::Error> {
        with_dtype!(self.0, T => {
            let v: Vec<T> = if d.is_human_readable() {
                Vec::<T>::deserialize(d)?
            } else {
                let bytes: Cow<'_, [u8]> = serde_bytes::Deserialize::deserialize(d)?;
                from_bytes::<T>(&bytes).map_err(de::Error::custom)?
            };
            let n = v.len();
            Ok(T::wrap(ArrayD::from_shape_vec(IxDyn(&[n]), v).expect("1-d shape matches length")))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn widening_is_lossless_and_narrowing_refused() {
        let a = TypedArray::I32(array![[1, -2], [3, 4]].into_dyn());
        assert_eq!(
            a.clone().into_array::<i64>().unwrap(),
            array![[1i64, -2], [3, 4]].into_dyn()
        );
        assert_eq!(a.clone().into_array::<f64>().unwrap()[[0, 1]], -2.0);
        let err = a.into_array::<i16>().unwrap_err();
        assert!(err.contains("int32") && err.contains("int16"), "{err}");
    }

    #[test]
    fn bool_bytes_are_validated() {
        assert_eq!(from_bytes::<bool>(&[0, 1]).unwrap(), vec![false, true]);
        assert!(from_bytes::<bool>(&[2]).is_err());
        assert!(from_bytes::<f64>(&[0; 7]).is_err());
    }

    #[test]
    fn dtype_names_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::from_name(d.name()), Some(d));
            assert_eq!(TypedArray::zeros(d, &[2, 0]).dtype(), d);
        }
    }
}

/// An `ndarray` array that is itself `Serialize`/`Deserialize` through the whole-buffer
/// path of [this module](self): for values that are not struct fields (e.g. an array passed
/// to [`MpiHandler::bcast`](crate::MpiHandler::bcast)) and for collections of arrays.
///
/// ```
/// use anam::NdArray;
/// let a = NdArray(ndarray::arr2(&[[1.0, 2.0], [3.0, 4.0]]).into_dyn());
/// let bytes = anam::wire::to_bytes(&a).unwrap();
/// let back: NdArray<f64> = anam::wire::from_bytes(&bytes).unwrap();
/// assert_eq!(back, a);
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct NdArray<T, D: Dimension = IxDyn>(pub ndarray::Array<T, D>);

impl<T: Element, D: Dimension> Serialize for NdArray<T, D> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize(&self.0, s)
    }
}

impl<'de, T: Element, D: Dimension> Deserialize<'de> for NdArray<T, D> {
    fn deserialize<De: Deserializer<'de>>(d: De) -> Result<Self, De::Error> {
        deserialize(d).map(NdArray)
    }
}

impl<T, D: Dimension> std::ops::Deref for NdArray<T, D> {
    type Target = ndarray::Array<T, D>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T, D: Dimension> std::ops::DerefMut for NdArray<T, D> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<T, D: Dimension> From<ndarray::Array<T, D>> for NdArray<T, D> {
    fn from(a: ndarray::Array<T, D>) -> Self {
        NdArray(a)
    }
}
