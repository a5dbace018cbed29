//! The element types of arrays and scalars, from one table.
//!
//! [`dtype_table!`] lists every element type the crate stores natively, once: its
//! [`DType`] variant, its Rust type, its numpy name and (for the types Serde knows) its
//! Serde method names. [`DType`], [`TypedArray`], [`Scalar`], the `with_dtype!`,
//! `with_typed_array!` and `with_scalar!` dispatch macros, [`Value`](crate::Value)'s numeric
//! variants, the scalar methods of the crate's serializers and the wire format's type bytes
//! all come from it, so adding a type (`f16`, say) touches the table and the places that
//! must decide something about the new type (its lossless conversions in [`Element`], its
//! HDF5 classification).

use std::fmt;
use std::mem::MaybeUninit;

use ndarray::{ArrayD, ArrayViewD, IxDyn};
use num_complex::{Complex32, Complex64};
use serde::de::{self, value::SeqDeserializer, Visitor};
use serde::{Deserialize, Serialize};

#[cfg(target_endian = "big")]
compile_error!(
    "serde-anam moves array buffers as little-endian bytes and supports little-endian targets only"
);

/// The table: calls `$callback! { ($($extra)*) primitives [...] complex [...] }`.
///
/// `primitives` are the types Serde has methods for, as
/// `(Variant, type, "numpy name", serialize_method, deserialize_method, visit_method)`;
/// `complex` the complex types, as `(Variant, type, "numpy name", component type)`. The
/// order is the order of [`DType::ALL`], which the wire format's dtype codes follow.
macro_rules! dtype_table {
    ($($callback:ident)::+ $(, $($extra:tt)*)?) => {
        $($callback)::+! {
            ($($($extra)*)?)
            primitives [
                (Bool, bool, "bool", serialize_bool, deserialize_bool, visit_bool),
                (I8, i8, "int8", serialize_i8, deserialize_i8, visit_i8),
                (I16, i16, "int16", serialize_i16, deserialize_i16, visit_i16),
                (I32, i32, "int32", serialize_i32, deserialize_i32, visit_i32),
                (I64, i64, "int64", serialize_i64, deserialize_i64, visit_i64),
                (U8, u8, "uint8", serialize_u8, deserialize_u8, visit_u8),
                (U16, u16, "uint16", serialize_u16, deserialize_u16, visit_u16),
                (U32, u32, "uint32", serialize_u32, deserialize_u32, visit_u32),
                (U64, u64, "uint64", serialize_u64, deserialize_u64, visit_u64),
                (F32, f32, "float32", serialize_f32, deserialize_f32, visit_f32),
                (F64, f64, "float64", serialize_f64, deserialize_f64, visit_f64)
            ]
            complex [
                (C64, ::num_complex::Complex32, "complex64", f32),
                (C128, ::num_complex::Complex64, "complex128", f64)
            ]
        }
    };
}
pub(crate) use dtype_table;

macro_rules! define_dtypes {
    (() primitives [$(($p:ident, $pt:ty, $pname:literal, $ser:ident, $de:ident, $visit:ident)),*]
        complex [$(($c:ident, $ct:ty, $cname:literal, $cpart:ty)),*]) => {
        /// The element type of an array or scalar, named as numpy names it.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum DType {
            $(#[doc = concat!("`", $pname, "` (Rust `", stringify!($pt), "`)")] $p,)*
            $(#[doc = concat!("`", $cname, "` (two `", stringify!($cpart), "`)")] $c,)*
        }

        impl DType {
            /// Every dtype, in a fixed order (the wire format's dtype codes are the
            /// positions in this list).
            pub const ALL: &'static [DType] = &[$(DType::$p,)* $(DType::$c,)*];

            /// The numpy name (`"float64"`, `"complex64"`, ...).
            pub fn name(self) -> &'static str {
                match self {
                    $(DType::$p => $pname,)*
                    $(DType::$c => $cname,)*
                }
            }

            /// The Rust type's name (`"i64"`), for the primitive types Serde knows.
            pub(crate) fn rust_name(self) -> &'static str {
                match self {
                    $(DType::$p => stringify!($pt),)*
                    $(DType::$c => $cname,)*
                }
            }

            /// Size of one element in bytes.
            pub fn size(self) -> usize {
                match self {
                    $(DType::$p => std::mem::size_of::<$pt>(),)*
                    $(DType::$c => std::mem::size_of::<$ct>(),)*
                }
            }
        }

        /// An owned n-dimensional array of any [`Element`] type, tagged with its dtype.
        #[derive(Clone, Debug, PartialEq)]
        pub enum TypedArray {
            $(#[doc = concat!("An array of `", $pname, "`.")] $p(ArrayD<$pt>),)*
            $(#[doc = concat!("An array of `", $cname, "`.")] $c(ArrayD<$ct>),)*
        }

        /// One numeric, boolean or complex value, tagged with its dtype: what a scalar
        /// attribute holds, and what a numeric sequence buffers.
        #[derive(Clone, Copy, Debug, PartialEq)]
        #[doc(hidden)]
        pub enum Scalar {
            $($p($pt),)*
            $($c($ct),)*
        }


        impl Scalar {
            /// Visits the value with the matching `visit_*` method (complex numbers as
            /// `[re, im]`, the form `num_complex::Complex` deserializes from).
            pub(crate) fn visit<'de, V: Visitor<'de>, E: de::Error>(
                self,
                visitor: V,
            ) -> Result<V::Value, E> {
                match self {
                    $(Scalar::$p(v) => visitor.$visit(v),)*
                    $(Scalar::$c(c) => {
                        visitor.visit_seq(SeqDeserializer::<_, E>::new([c.re, c.im].into_iter()))
                    })*
                }
            }
        }
    };
}
dtype_table!(define_dtypes);

macro_rules! define_with_dtype {
    (($dtype:expr, $t:ident, $body:expr)
        primitives [$(($p:ident, $pt:ty, $($prest:tt)*)),*]
        complex [$(($c:ident, $ct:ty, $($crest:tt)*)),*]) => {
        match $dtype {
            $($crate::dtype::DType::$p => {
                #[allow(dead_code)]
                type $t = $pt;
                $body
            })*
            $($crate::dtype::DType::$c => {
                #[allow(dead_code)]
                type $t = $ct;
                $body
            })*
        }
    };
}
pub(crate) use define_with_dtype;

/// Runs `$body` with the type alias `$t` set to the Rust element type of a [`DType`].
macro_rules! with_dtype {
    ($dtype:expr, $t:ident => $body:expr) => {
        $crate::dtype::dtype_table!($crate::dtype::define_with_dtype, $dtype, $t, $body)
    };
}
pub(crate) use with_dtype;

macro_rules! define_match_each {
    (($enum:ident, $value:expr, $v:ident, $body:expr)
        primitives [$(($p:ident, $($prest:tt)*)),*]
        complex [$(($c:ident, $($crest:tt)*)),*]) => {
        match $value {
            $($crate::dtype::$enum::$p($v) => $body,)*
            $($crate::dtype::$enum::$c($v) => $body,)*
        }
    };
}
pub(crate) use define_match_each;

/// Runs `$body` with `$a` bound to the inner `ArrayD<T>` of any [`TypedArray`].
macro_rules! with_typed_array {
    ($value:expr, $a:ident => $body:expr) => {
        $crate::dtype::dtype_table!(
            $crate::dtype::define_match_each,
            TypedArray,
            $value,
            $a,
            $body
        )
    };
}
pub(crate) use with_typed_array;

/// Runs `$body` with `$v` bound to the typed value of any [`Scalar`].
macro_rules! with_scalar {
    ($value:expr, $v:ident => $body:expr) => {
        $crate::dtype::dtype_table!($crate::dtype::define_match_each, Scalar, $value, $v, $body)
    };
}
pub(crate) use with_scalar;

impl DType {
    /// Parses a numpy dtype name.
    pub fn from_name(name: &str) -> Option<DType> {
        DType::ALL.iter().copied().find(|d| d.name() == name)
    }

    /// The position of the dtype in [`DType::ALL`] (the wire format's dtype code).
    pub(crate) fn code(self) -> u8 {
        DType::ALL
            .iter()
            .position(|&d| d == self)
            .expect("every dtype is listed") as u8
    }

    /// The dtype at position `code` of [`DType::ALL`].
    pub(crate) fn from_code(code: u8) -> Option<DType> {
        DType::ALL.get(usize::from(code)).copied()
    }

    /// Whether the dtype is an integer or a real float (not a bool, not complex).
    pub(crate) fn is_plain_number(self) -> bool {
        !matches!(self, DType::Bool | DType::C64 | DType::C128)
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
    sealed::Sealed + Copy + Default + Serialize + for<'de> Deserialize<'de> + Send + Sync + 'static
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
    #[doc(hidden)]
    fn into_scalar(self) -> Scalar;
}

impl<T: Element> From<T> for Scalar {
    fn from(v: T) -> Scalar {
        v.into_scalar()
    }
}

/// Implements [`Element`] for one type of the table, with its lossless conversions from
/// other dtypes (the only thing the table cannot say).
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
            fn into_scalar(self) -> Scalar {
                Scalar::$variant(self)
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
    /// when one exists (`int32` to `i64` or `f64`, as listed in the crate's `docs/FORMAT.md`,
    /// "Arrays"), otherwise an [`ErrorKind::Invalid`](crate::ErrorKind::Invalid) error
    /// naming both dtypes.
    ///
    /// ```
    /// use anam::TypedArray;
    /// let a = TypedArray::I32(ndarray::arr1(&[1, -2]).into_dyn());
    /// assert_eq!(a.clone().into_array::<f64>()?, ndarray::arr1(&[1.0, -2.0]).into_dyn());
    /// let err = a.into_array::<i16>().unwrap_err();
    /// assert_eq!(err.to_string(), "cannot convert a int32 array to int16 without loss");
    /// # Ok::<(), anam::Error>(())
    /// ```
    pub fn into_array<T: Element>(self) -> crate::Result<ArrayD<T>> {
        match T::unwrap(self) {
            Ok(a) => Ok(a),
            Err(other) => T::widen(&other).ok_or_else(|| lossy(other.dtype(), T::DTYPE)),
        }
    }

    /// [`into_array`](Self::into_array) of a borrowed array: the elements copied (dtype
    /// `T`) or converted without loss, an error naming both dtypes otherwise.
    ///
    /// ```
    /// use anam::TypedArray;
    /// let a = TypedArray::U8(ndarray::arr1(&[1u8, 255]).into_dyn());
    /// assert_eq!(a.to_array::<i64>()?, ndarray::arr1(&[1i64, 255]).into_dyn());
    /// assert!(a.to_array::<i8>().is_err());
    /// # Ok::<(), anam::Error>(())
    /// ```
    pub fn to_array<T: Element>(&self) -> crate::Result<ArrayD<T>> {
        match self.view::<T>() {
            Some(view) => Ok(view.to_owned()),
            None => T::widen(self).ok_or_else(|| lossy(self.dtype(), T::DTYPE)),
        }
    }

    /// The elements as an array view of `T`, borrowed, when the dtype is `T`'s (no
    /// conversion: `None` for any other dtype).
    ///
    /// ```
    /// use anam::TypedArray;
    /// let a = TypedArray::F32(ndarray::arr2(&[[1.0f32, 2.0]]).into_dyn());
    /// assert_eq!(a.view::<f32>().unwrap()[[0, 1]], 2.0);
    /// assert!(a.view::<f64>().is_none());
    /// ```
    pub fn view<T: Element>(&self) -> Option<ArrayViewD<'_, T>> {
        with_typed_array!(self, a => (a as &dyn std::any::Any)
            .downcast_ref::<ArrayD<T>>()
            .map(|a| a.view()))
    }

    /// Copies a little-endian buffer of `dtype` elements into an array of `shape`.
    pub(crate) fn from_le_bytes(
        dtype: DType,
        shape: &[usize],
        bytes: &[u8],
    ) -> crate::Result<TypedArray> {
        Self::check_shape(shape)?;
        let expected = shape
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d));
        if expected != Some(bytes.len()) {
            return Err(crate::Error::invalid(format!(
                "{} bytes of {dtype} do not make an array of shape {shape:?}",
                bytes.len()
            )));
        }
        with_dtype!(dtype, T => {
            let v = from_bytes::<T>(bytes).map_err(crate::Error::invalid)?;
            ArrayD::from_shape_vec(IxDyn(shape), v)
                .map(T::wrap)
                .map_err(|e| crate::Error::invalid(e.to_string()))
        })
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

    /// The first element, if any (a scalar container reads as a one-element array).
    pub(crate) fn first(&self) -> Option<Scalar> {
        with_typed_array!(self, a => a.iter().next().copied().map(Scalar::from))
    }
}

/// The error of a conversion that could lose values.
fn lossy(from: DType, to: DType) -> crate::Error {
    crate::Error::invalid(format!(
        "cannot convert a {from} array to {to} without loss"
    ))
}

fn element_dtype<T: Element>(_: &ArrayD<T>) -> DType {
    T::DTYPE
}

impl Scalar {
    /// The dtype of the value.
    pub(crate) fn dtype(self) -> DType {
        with_scalar!(self, v => scalar_dtype(&v))
    }

    /// The value's little-endian bytes, appended to `out`.
    pub(crate) fn extend_bytes(self, out: &mut Vec<u8>) {
        with_scalar!(self, v => out.extend_from_slice(as_bytes(std::slice::from_ref(&v))))
    }

    /// Decodes one element of `dtype` from exactly `dtype.size()` bytes.
    pub(crate) fn from_le_bytes(dtype: DType, bytes: &[u8]) -> crate::Result<Scalar> {
        if bytes.len() != dtype.size() {
            return Err(crate::Error::invalid(format!(
                "{} bytes are not one {dtype}",
                bytes.len()
            )));
        }
        with_dtype!(dtype, T => from_bytes::<T>(bytes)
            .map_err(crate::Error::invalid)
            .map(|v| Scalar::from(v[0])))
    }

    /// The value as an integer, if it is one.
    pub(crate) fn as_i128(self) -> Option<i128> {
        match self {
            Scalar::I8(v) => Some(v.into()),
            Scalar::I16(v) => Some(v.into()),
            Scalar::I32(v) => Some(v.into()),
            Scalar::I64(v) => Some(v.into()),
            Scalar::U8(v) => Some(v.into()),
            Scalar::U16(v) => Some(v.into()),
            Scalar::U32(v) => Some(v.into()),
            Scalar::U64(v) => Some(v.into()),
            _ => None,
        }
    }
}

fn scalar_dtype<T: Element>(_: &T) -> DType {
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
    let mut out: Vec<T> = Vec::new();
    out.try_reserve_exact(n)
        .map_err(|_| format!("cannot allocate {n} array elements"))?;
    // SAFETY: `out` has room for exactly `bytes.len()` bytes; every bit pattern is valid
    // for the sealed element types except bool, whose bytes were checked to be 0 or 1.
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), out.as_mut_ptr().cast::<u8>(), bytes.len());
        out.set_len(n);
    }
    Ok(out)
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
        let err = a.clone().into_array::<i16>().unwrap_err();
        assert!(matches!(err.kind(), crate::ErrorKind::Invalid(_)), "{err}");
        let err = err.to_string();
        assert!(err.contains("int32") && err.contains("int16"), "{err}");
        assert_eq!(
            a.to_array::<i64>().unwrap(),
            a.clone().into_array::<i64>().unwrap()
        );
        assert_eq!(
            a.view::<i32>().unwrap(),
            array![[1, -2], [3, 4]].into_dyn().view()
        );
        assert!(a.view::<i64>().is_none());
        assert!(a.to_array::<i16>().is_err());
    }

    #[test]
    fn bool_bytes_are_validated() {
        assert_eq!(from_bytes::<bool>(&[0, 1]).unwrap(), vec![false, true]);
        assert!(from_bytes::<bool>(&[2]).is_err());
        assert!(from_bytes::<f64>(&[0; 7]).is_err());
    }

    #[test]
    fn dtype_names_codes_and_sizes_round_trip() {
        for &d in DType::ALL {
            assert_eq!(DType::from_name(d.name()), Some(d));
            assert_eq!(DType::from_code(d.code()), Some(d));
            assert_eq!(TypedArray::zeros(d, &[2, 0]).dtype(), d);
            with_dtype!(d, T => assert_eq!(std::mem::size_of::<T>(), d.size()));
        }
        assert_eq!(DType::ALL.len(), 13);
    }

    #[test]
    fn scalars_round_trip_through_bytes() {
        for &d in DType::ALL {
            let zero = TypedArray::zeros(d, &[1]).first().unwrap();
            let mut bytes = Vec::new();
            zero.extend_bytes(&mut bytes);
            assert_eq!(Scalar::from_le_bytes(d, &bytes).unwrap(), zero);
            assert_eq!(zero.dtype(), d);
        }
    }
}
