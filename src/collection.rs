//! [`AnamCollection`]: a list of objects of one class, stored as Python's `AnamCollection`
//! (an object whose one member `members` is a list), with their `combine` fields stacked
//! into arrays on demand.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};

use ndarray::{ArrayD, Axis};
use serde::de::{self, DeserializeOwned, MapAccess, Visitor};
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::dtype::{with_dtype, DType, Element, TypedArray};
use crate::error::{Error, Result};
use crate::value::{to_value, Value};

/// The class of a collection: its tag and the member fields it stacks.
///
/// Define one with [`collection!`](crate::collection); [`DefaultCollection`] is Python's base
/// `anamnesis.abstract.AnamCollection`.
pub trait CollectionKind: 'static {
    /// The class tag of the collection.
    const CLASS: &'static str;
    /// The member fields [`AnamCollection::update_cache`] stacks (Python's `anam_combine`).
    const COMBINE: &'static [&'static str];
}

/// Python's base class `anamnesis.abstract.AnamCollection`, which combines nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultCollection;

impl CollectionKind for DefaultCollection {
    const CLASS: &'static str = "anamnesis.abstract.AnamCollection";
    const COMBINE: &'static [&'static str] = &[];
}

/// A list of `T` objects that behaves like a `Vec<T>` (it derefs to one) and stacks the
/// members' [`COMBINE`](CollectionKind::COMBINE) fields into arrays with a new last axis.
pub struct AnamCollection<T, K: CollectionKind = DefaultCollection> {
    members: Vec<T>,
    cache: BTreeMap<&'static str, Option<TypedArray>>,
    // `fn() -> K`: the kind is a marker, so the collection is `Send` whatever `K` is.
    kind: PhantomData<fn() -> K>,
}

impl<T, K: CollectionKind> AnamCollection<T, K> {
    /// An empty collection.
    pub fn new() -> Self {
        Self::from(Vec::new())
    }

    /// The members.
    pub fn members(&self) -> &Vec<T> {
        &self.members
    }

    /// The members, as the `Vec` they are (the cache is left as it is: call
    /// [`update_cache`](Self::update_cache) after changing them).
    pub fn members_mut(&mut self) -> &mut Vec<T> {
        &mut self.members
    }

    /// The collection's members, by value.
    pub fn into_members(self) -> Vec<T> {
        self.members
    }

    /// Forgets the stacked arrays.
    pub fn clear_cache(&mut self) {
        self.cache.clear();
    }

    /// The stacked array of a combined field, after [`update_cache`](Self::update_cache)
    /// (`None` before, for an empty collection, or for a field left out in flexible mode).
    pub fn combined(&self, field: &str) -> Option<&TypedArray> {
        self.cache.get(field).and_then(Option::as_ref)
    }

    /// The stacked array of a combined field as `ArrayD<E>` (converted losslessly).
    pub fn combined_as<E: Element>(&self, field: &str) -> Option<Result<ArrayD<E>>> {
        self.combined(field).map(|a| a.to_array::<E>())
    }
}

impl<T: Serialize, K: CollectionKind> AnamCollection<T, K> {
    /// Stacks every combined field of the members into one array with a new last axis
    /// (members of shape `(10, 10)` x 5 give `(10, 10, 5)`; scalars give a 1-D array).
    ///
    /// Errors name the field and the member index: a missing field, a field that is not a
    /// number or array, a dtype or a shape that differs from member 0's. The cache changes
    /// only when every field succeeds.
    pub fn update_cache(&mut self) -> Result<()> {
        self.fill_cache(false)
    }

    /// Like [`update_cache`](Self::update_cache), but a field whose shapes differ between
    /// members is left out (its [`combined`](Self::combined) is `None`) instead of failing.
    pub fn update_cache_flexible(&mut self) -> Result<()> {
        self.fill_cache(true)
    }

    fn fill_cache(&mut self, flexible: bool) -> Result<()> {
        let mut cache = BTreeMap::new();
        if self.members.is_empty() {
            cache.extend(K::COMBINE.iter().map(|&f| (f, None)));
            self.cache = cache;
            return Ok(());
        }
        // One conversion per member, shared by all fields.
        let objects = self
            .members
            .iter()
            .map(to_value)
            .collect::<Result<Vec<Value>>>()?;
        for &field in K::COMBINE {
            let mut parts = Vec::with_capacity(objects.len());
            for (i, object) in objects.iter().enumerate() {
                let value = object
                    .as_object()
                    .and_then(|o| o.member(field))
                    .ok_or_else(|| Error::invalid(format!("member {i} has no field `{field}`")))?;
                parts.push(as_array(value).ok_or_else(|| {
                    Error::invalid(format!(
                        "field `{field}` of member {i} is not a number or an array"
                    ))
                })?);
            }
            let (dtype, shape) = (parts[0].dtype(), parts[0].shape().to_vec());
            let mut conformable = true;
            for (i, p) in parts.iter().enumerate() {
                if p.dtype() != dtype {
                    return Err(Error::invalid(format!(
                        "dtype mismatch in field `{field}`: member {i} is {}, member 0 is {dtype}",
                        p.dtype()
                    )));
                }
                if p.shape() != shape.as_slice() {
                    if flexible {
                        conformable = false;
                        break;
                    }
                    return Err(Error::invalid(format!(
                        "shape mismatch in field `{field}`: member {i} has shape {:?}, member 0 {shape:?}",
                        p.shape()
                    )));
                }
            }
            cache.insert(
                field,
                if conformable {
                    Some(stack_last(dtype, &parts)?)
                } else {
                    None
                },
            );
        }
        self.cache = cache;
        Ok(())
    }
}

/// A number or array member as an array (a number is 0-d).
fn as_array(value: &Value) -> Option<TypedArray> {
    let zero_d = |v: TypedArray| Some(v);
    match value {
        Value::Array(a) => Some(a.clone()),
        Value::Bool(v) => zero_d(bool::wrap(ndarray::arr0(*v).into_dyn())),
        Value::I8(v) => zero_d(i8::wrap(ndarray::arr0(*v).into_dyn())),
        Value::I16(v) => zero_d(i16::wrap(ndarray::arr0(*v).into_dyn())),
        Value::I32(v) => zero_d(i32::wrap(ndarray::arr0(*v).into_dyn())),
        Value::I64(v) => zero_d(i64::wrap(ndarray::arr0(*v).into_dyn())),
        Value::U8(v) => zero_d(u8::wrap(ndarray::arr0(*v).into_dyn())),
        Value::U16(v) => zero_d(u16::wrap(ndarray::arr0(*v).into_dyn())),
        Value::U32(v) => zero_d(u32::wrap(ndarray::arr0(*v).into_dyn())),
        Value::U64(v) => zero_d(u64::wrap(ndarray::arr0(*v).into_dyn())),
        Value::F32(v) => zero_d(f32::wrap(ndarray::arr0(*v).into_dyn())),
        Value::F64(v) => zero_d(f64::wrap(ndarray::arr0(*v).into_dyn())),
        Value::C64(v) => zero_d(num_complex::Complex32::wrap(ndarray::arr0(*v).into_dyn())),
        Value::C128(v) => zero_d(num_complex::Complex64::wrap(ndarray::arr0(*v).into_dyn())),
        _ => None,
    }
}

/// Stacks arrays of one dtype and shape along a new last axis.
fn stack_last(dtype: DType, parts: &[TypedArray]) -> Result<TypedArray> {
    with_dtype!(dtype, E => {
        let arrays: Vec<ArrayD<E>> = parts
            .iter()
            .map(|p| p.to_array::<E>())
            .collect::<Result<_>>()?;
        let views: Vec<_> = arrays.iter().map(|a| a.view()).collect();
        let axis = Axis(views[0].ndim());
        ndarray::stack(axis, &views).map(E::wrap).map_err(|e| Error::invalid(e.to_string()))
    })
}

impl<T, K: CollectionKind> Default for AnamCollection<T, K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, K: CollectionKind> From<Vec<T>> for AnamCollection<T, K> {
    fn from(members: Vec<T>) -> Self {
        AnamCollection {
            members,
            cache: BTreeMap::new(),
            kind: PhantomData,
        }
    }
}

impl<T, K: CollectionKind> FromIterator<T> for AnamCollection<T, K> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::from(iter.into_iter().collect::<Vec<T>>())
    }
}

impl<T, K: CollectionKind> IntoIterator for AnamCollection<T, K> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.members.into_iter()
    }
}

impl<'a, T, K: CollectionKind> IntoIterator for &'a AnamCollection<T, K> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.members.iter()
    }
}

/// The collection is a `Vec` of its members: `push`, `insert`, `remove`, `len`, `iter`,
/// indexing and slicing all work on it.
impl<T, K: CollectionKind> Deref for AnamCollection<T, K> {
    type Target = Vec<T>;
    fn deref(&self) -> &Vec<T> {
        &self.members
    }
}

impl<T, K: CollectionKind> DerefMut for AnamCollection<T, K> {
    fn deref_mut(&mut self) -> &mut Vec<T> {
        &mut self.members
    }
}

impl<T: Clone, K: CollectionKind> Clone for AnamCollection<T, K> {
    fn clone(&self) -> Self {
        AnamCollection {
            members: self.members.clone(),
            cache: self.cache.clone(),
            kind: PhantomData,
        }
    }
}

impl<T: fmt::Debug, K: CollectionKind> fmt::Debug for AnamCollection<T, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(K::CLASS)
            .field("members", &self.members)
            .finish()
    }
}

impl<T: PartialEq, K: CollectionKind> PartialEq for AnamCollection<T, K> {
    fn eq(&self, other: &Self) -> bool {
        self.members == other.members
    }
}

impl<T: Serialize, K: CollectionKind> Serialize for AnamCollection<T, K> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct(K::CLASS, 1)?;
        // `members` is always a list (of objects), as in Python.
        st.serialize_field("members", &ListOf(&self.members))?;
        st.end()
    }
}

struct ListOf<'a, T>(&'a [T]);

impl<T: Serialize> Serialize for ListOf<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        crate::as_list::serialize(self.0, s)
    }
}

impl<'de, T: DeserializeOwned, K: CollectionKind> Deserialize<'de> for AnamCollection<T, K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct CollectionVisitor<T, K>(PhantomData<(T, K)>);
        impl<'de, T: DeserializeOwned, K: CollectionKind> Visitor<'de> for CollectionVisitor<T, K> {
            type Value = AnamCollection<T, K>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a collection of class `{}`", K::CLASS)
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let mut members: Option<Vec<T>> = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "members" {
                        members = Some(map.next_value()?);
                    } else {
                        // Python's collections may carry extra data: not members.
                        map.next_value::<de::IgnoredAny>()?;
                    }
                }
                Ok(AnamCollection::from(members.unwrap_or_default()))
            }
            // Binary formats write a struct as its fields in order.
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Self::Value, A::Error> {
                let members: Vec<T> = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                Ok(AnamCollection::from(members))
            }
        }
        d.deserialize_struct(K::CLASS, &["members"], CollectionVisitor(PhantomData))
    }
}

impl<T: crate::AnamClass, K: CollectionKind> crate::AnamClass for AnamCollection<T, K> {
    const CLASS: &'static str = K::CLASS;
}

/// Defines a collection class: a [`CollectionKind`] type, a type alias for the collection,
/// and its registration for dynamic loading (Python: a subclass of `AnamCollection` with
/// `anam_combine`).
///
/// ```
/// use serde::{Deserialize, Serialize};
///
/// #[anam::class(class = "test_classes3.CollectableSubjectStats", default_group = "subjectstats")]
/// #[derive(Serialize, Deserialize)]
/// pub struct CollectableSubjectStats {
///     #[serde(with = "anam::array")]
///     pub zstats: ndarray::Array2<f64>,
///     #[serde(with = "anam::array")]
///     pub rts: ndarray::Array1<f64>,
/// }
///
/// anam::collection! {
///     /// Tutorial 3's collection.
///     pub StatsCollection: "test_classes3.StatsCollection", kind StatsKind,
///         of CollectableSubjectStats, combine [zstats, rts]
/// }
///
/// let mut c = StatsCollection::new();
/// c.push(CollectableSubjectStats { zstats: ndarray::Array2::zeros((10, 10)), rts: ndarray::Array1::zeros(100) });
/// c.update_cache().unwrap();
/// assert_eq!(c.combined("zstats").unwrap().shape(), &[10, 10, 1]);
/// ```
#[macro_export]
macro_rules! collection {
    ($(#[$meta:meta])* $vis:vis $name:ident : $tag:literal, kind $kind:ident, of $member:ty,
     combine [$($field:ident),* $(,)?] $(;)?) => {
        #[doc = concat!("The class of [`", stringify!($name), "`]: tag `", $tag, "`.")]
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $kind;

        impl $crate::CollectionKind for $kind {
            const CLASS: &'static str = $tag;
            const COMBINE: &'static [&'static str] = &[$(stringify!($field)),*];
        }

        $(#[$meta])*
        $vis type $name = $crate::AnamCollection<$member, $kind>;

        $crate::__private::inventory::submit! {
            $crate::registry::ClassInfo::new(
                $tag,
                concat!(module_path!(), "::", stringify!($name)),
                &[],
                None,
                &[],
                &[],
                None,
                $crate::__private::load_object::<$name>,
            )
        }
    };
}
