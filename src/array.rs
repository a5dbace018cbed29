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
//!
//! Without the attribute, an array field compiles only when some crate of the build enables
//! ndarray's `serde` feature; it then serializes through ndarray's own impl, element by
//! element, and the crate's formats recognise that form: HDF5 and [`Value`](crate::Value)
//! store the same dataset as this module (the wire format keeps ndarray's struct). This
//! module is still the one to use: it needs no feature and moves the buffer whole. The
//! arrays are those of [`anam::ndarray`](crate::ndarray) (ndarray 0.17).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::dtype::{from_bytes, with_dtype, with_typed_array, DType, Element, Scalar, TypedArray};
use crate::protocol::{self, ARRAY_TOKEN};

const PAYLOAD_FIELDS: &[&str] = &["dtype", "shape", "data"];

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
    let payload = protocol::payload(array.shape(), data);
    serializer.serialize_newtype_struct(ARRAY_TOKEN, &payload)
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
        protocol::take_from_slot(v).ok_or_else(|| E::invalid_type(de::Unexpected::Str(v), &self))
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
    Leaf(Scalar),
    List(Vec<Nested>),
}

impl<'de> Deserialize<'de> for Nested {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Nested, D::Error> {
        struct NestedVisitor;
        impl<'de> Visitor<'de> for NestedVisitor {
            type Value = Nested;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number or a sequence")
            }
            protocol::macros::visit_scalars!(v => Ok(Nested::Leaf(Scalar::from(v))));
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
    Num(Scalar),
    Pair(Scalar, Scalar),
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
