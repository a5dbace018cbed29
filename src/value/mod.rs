//! [`Value`]: a dynamic value that loads any anamnesis file, even of classes no Rust type
//! exists for, and writes the same layout back.
//!
//! Scalars keep their HDF5 type (an `int32` attribute is [`Value::I32`]), arrays their dtype
//! and shape ([`Value::Array`]), lists, dicts and objects their order; an [`Object`] keeps its
//! class tag, its name maps and its legacy lists, so that read -> write -> read gives the same
//! classes, names, dtypes and shapes.
//!
//! [`to_value`] gives the Value that writing a typed value would store (the object of a
//! registered class as its file holds it), and [`from_value`] reads a typed value back from
//! a Value as [`from_file`](crate::from_file) reads it from the file. A Value is navigated as
//! a `serde_json::Value` is: `v["member"][0]`, [`Value::get`], `as_i64`, `as_str`, ..., and
//! typed array access ([`Value::as_array_of`], [`Value::to_array`]).
//!
//! ```
//! # fn main() -> anam::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! # let path = dir.path().join("v.hdf5");
//! use anam::Value;
//! let mut obj = anam::Object::new("anamnesis.store.Store");
//! obj.insert("gate", Value::I64(12));
//! obj.insert("airport", Value::from("Manchester"));
//! anam::to_file(&path, "data", &Value::Object(obj.clone()))?;
//! let back: Value = anam::from_file(&path, None)?;
//! assert_eq!(back, Value::Object(obj));
//! # Ok(())
//! # }
//! ```

mod de;
mod deserializer;
mod index;
mod order;
mod ser;
#[cfg(feature = "mpio")]
pub(crate) mod stand_in;

use std::collections::BTreeMap;

use crate::dtype::{dtype_table, with_scalar, Scalar, TypedArray};
use crate::protocol::{LEGACY_KEY, NAME_MAPS_KEY};

pub use deserializer::{from_value, from_value_ref};
pub use index::ValueIndex;
pub(crate) use order::{compare_keys, sort_entries};
pub use ser::to_value;
pub(crate) use ser::to_value_as_written;

/// The `extra_data` of a class: entries stored beside its members.
pub type ExtraData = BTreeMap<String, Value>;

/// Defines [`Value`] with a variant per dtype of the [table](crate::dtype), and its
/// conversions from and to [`Scalar`].
macro_rules! define_value {
    (() primitives [$(($p:ident, $pt:ty, $pname:literal, $ser:ident, $de:ident, $visit:ident)),*]
        complex [$(($c:ident, $ct:ty, $cname:literal, $cpart:ty)),*]) => {
        /// Any value an anamnesis file can hold.
        #[derive(Clone, Debug, PartialEq, Default)]
        pub enum Value {
            /// Python's `None`: an absent entry.
            #[default]
            None,
            /// `()`: a null-dataspace attribute (h5py's `Empty`).
            Unit,
            $(#[doc = concat!("A scalar of numpy's `", $pname, "`.")] $p($pt),)*
            $(#[doc = concat!("A scalar of numpy's `", $cname, "`.")] $c($ct),)*
            /// A string.
            Str(String),
            /// An n-dimensional array of any dtype (a dataset, or an empty-array group).
            Array(TypedArray),
            /// A list (`AnamList`).
            List(Vec<Value>),
            /// A dict (`AnamDict`), in stored order; keys may be any value.
            Dict(Vec<(Value, Value)>),
            /// An object of any class.
            Object(Object),
        }

        impl From<Scalar> for Value {
            fn from(v: Scalar) -> Value {
                match v {
                    $(Scalar::$p(v) => Value::$p(v),)*
                    $(Scalar::$c(v) => Value::$c(v),)*
                }
            }
        }

        impl Value {
            /// The number, bool or complex number, if this is one.
            pub(crate) fn scalar(&self) -> Option<Scalar> {
                match *self {
                    $(Value::$p(v) => Some(Scalar::$p(v)),)*
                    $(Value::$c(v) => Some(Scalar::$c(v)),)*
                    _ => None,
                }
            }
        }
    };
}
dtype_table!(define_value);

/// An object: a class tag and members, in stored order, with the layout details needed to
/// write it back as it was.
///
/// Equality ignores the order of the members (HDF5 lists attributes by name, not in the
/// order they were written), as Python's attribute dictionaries do.
#[derive(Clone, Debug, Default)]
pub struct Object {
    /// The class tag.
    pub class: String,
    /// Members by stored name, in stored order (attributes first, then links).
    pub fields: Vec<(String, Value)>,
    /// `(stored name, member name)` pairs of the `namemaps` attribute.
    pub name_maps: Vec<(String, String)>,
    /// Members stored in the legacy `LISTS` layout (lists of objects).
    pub legacy_lists: Vec<String>,
}

impl PartialEq for Object {
    fn eq(&self, other: &Object) -> bool {
        fn sorted(o: &Object) -> Vec<&(String, Value)> {
            let mut f: Vec<&(String, Value)> = o.fields.iter().collect();
            f.sort_by(|a, b| a.0.cmp(&b.0));
            f
        }
        self.class == other.class
            && self.name_maps == other.name_maps
            && self.legacy_lists == other.legacy_lists
            && self.fields.len() == other.fields.len()
            && sorted(self) == sorted(other)
    }
}

impl Object {
    /// An object of class `class` with no members.
    pub fn new(class: impl Into<String>) -> Object {
        Object {
            class: class.into(),
            ..Object::default()
        }
    }

    /// The member stored as `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The member stored as `name`, mutably.
    ///
    /// ```
    /// use anam::{Object, Value};
    /// let mut o = Object::new("m.C");
    /// o.insert("n", Value::I64(1));
    /// *o.get_mut("n").unwrap() = Value::I64(2);
    /// assert_eq!(o.get("n"), Some(&Value::I64(2)));
    /// ```
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.fields
            .iter_mut()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The stored name of the member whose Python name is `member`, by the name maps (or
    /// `member` itself).
    fn stored_name<'a>(&'a self, member: &'a str) -> &'a str {
        self.name_maps
            .iter()
            .find(|(_, m)| m == member)
            .map_or(member, |(s, _)| s.as_str())
    }

    /// The member whose Python name is `member`, following the name maps.
    pub fn member(&self, member: &str) -> Option<&Value> {
        self.get(self.stored_name(member))
    }

    /// Sets the member stored as `name` (replacing it, or appending it).
    pub fn insert(&mut self, name: impl Into<String>, value: Value) {
        let name = name.into();
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some((_, v)) => *v = value,
            None => self.fields.push((name, value)),
        }
    }
}

impl Value {
    /// The shared `Value::None` that indexing returns for what is not there.
    pub(crate) const NONE: &'static Value = &Value::None;

    /// Whether this is [`Value::None`] (Python's `None`, an absent entry).
    ///
    /// ```
    /// use anam::Value;
    /// assert!(Value::None.is_none());
    /// assert!(!Value::Unit.is_none());
    /// ```
    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    /// The entry at `index`: an [`Object`]'s member or a [`Dict`](Value::Dict)'s entry by a
    /// string, a [`List`](Value::List)'s item or a dict's entry by an integer key by a
    /// `usize` (see [`ValueIndex`] for the exact rules); `None` when there is none.
    ///
    /// ```
    /// use anam::{Object, Value};
    /// let mut o = Object::new("m.C");
    /// o.insert("xs", Value::List(vec![Value::I64(1), Value::I64(2)]));
    /// let v = Value::Object(o);
    /// assert_eq!(v.get("xs").and_then(|xs| xs.get(1)), Some(&Value::I64(2)));
    /// assert_eq!(v.get("ys"), None);
    /// assert_eq!(v.get(0), None); // an object has no items
    /// ```
    pub fn get<I: ValueIndex>(&self, index: I) -> Option<&Value> {
        index.index_into(self)
    }

    /// The entry at `index`, mutably (the rules of [`get`](Value::get)).
    ///
    /// ```
    /// use anam::Value;
    /// let mut v = Value::List(vec![Value::I64(1)]);
    /// *v.get_mut(0).unwrap() = Value::from("one");
    /// assert_eq!(v[0].as_str(), Some("one"));
    /// assert!(v.get_mut(1).is_none());
    /// ```
    pub fn get_mut<I: ValueIndex>(&mut self, index: I) -> Option<&mut Value> {
        index.index_into_mut(self)
    }

    /// The bool, if this is a [`Bool`](Value::Bool).
    ///
    /// ```
    /// use anam::Value;
    /// assert_eq!(Value::Bool(true).as_bool(), Some(true));
    /// assert_eq!(Value::I8(1).as_bool(), None);
    /// ```
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The string, if this is one.
    ///
    /// ```
    /// use anam::Value;
    /// assert_eq!(Value::from("Oxford").as_str(), Some("Oxford"));
    /// assert_eq!(Value::I64(1).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// An integer of any width whose value fits an `i64` (not a bool, float or string).
    ///
    /// ```
    /// use anam::Value;
    /// assert_eq!(Value::U8(7).as_i64(), Some(7));
    /// assert_eq!(Value::U64(u64::MAX).as_i64(), None);
    /// assert_eq!(Value::F64(1.0).as_i64(), None);
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        self.scalar()?.as_i128().and_then(|v| i64::try_from(v).ok())
    }

    /// An integer of any width whose value fits a `u64` (so not a negative one).
    ///
    /// ```
    /// use anam::Value;
    /// assert_eq!(Value::I32(7).as_u64(), Some(7));
    /// assert_eq!(Value::U64(u64::MAX).as_u64(), Some(u64::MAX));
    /// assert_eq!(Value::I64(-1).as_u64(), None);
    /// ```
    pub fn as_u64(&self) -> Option<u64> {
        self.scalar()?.as_i128().and_then(|v| u64::try_from(v).ok())
    }

    /// A real number as an `f64`: a float (an `f32` widened), or an integer of any width
    /// converted with `as` (which rounds past 2^53, as `serde_json`'s `as_f64`). Not a bool
    /// or a complex number.
    ///
    /// ```
    /// use anam::Value;
    /// assert_eq!(Value::F32(0.5).as_f64(), Some(0.5));
    /// assert_eq!(Value::I16(-3).as_f64(), Some(-3.0));
    /// assert_eq!(Value::U64(u64::MAX).as_f64(), Some(u64::MAX as f64));
    /// assert_eq!(Value::Bool(true).as_f64(), None);
    /// ```
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            _ => self.scalar()?.as_i128().map(|v| v as f64),
        }
    }

    /// The array, if this is one (of any dtype; see [`as_array_of`](Value::as_array_of) and
    /// [`to_array`](Value::to_array) for typed access).
    ///
    /// ```
    /// use anam::{DType, Value};
    /// let v = Value::from(ndarray::ArrayD::<u16>::zeros(vec![2, 3]));
    /// assert_eq!(v.as_array().map(|a| (a.dtype(), a.shape())), Some((DType::U16, &[2, 3][..])));
    /// ```
    pub fn as_array(&self) -> Option<&TypedArray> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The array as a view of `T`, borrowed, when this is an [`Array`](Value::Array) of
    /// `T`'s dtype; `None` otherwise (no conversion: see [`to_array`](Value::to_array)).
    ///
    /// ```
    /// use anam::Value;
    /// let v = Value::from(ndarray::arr2(&[[1.5, 2.5]]).into_dyn());
    /// let view = v.as_array_of::<f64>().unwrap();
    /// assert_eq!(view[[0, 1]], 2.5);
    /// assert!(v.as_array_of::<f32>().is_none());
    /// ```
    pub fn as_array_of<T: crate::Element>(&self) -> Option<ndarray::ArrayViewD<'_, T>> {
        self.as_array()?.view::<T>()
    }

    /// The array as an `ArrayD<T>`, converted without loss: what an `anam::array` field of
    /// `ArrayD<T>` reads from this value. An [`Array`](Value::Array) of `T`'s dtype is
    /// copied, one of another dtype converted when no value can change (`int32` into `i64` or
    /// `f64`, the conversions of `TypedArray::into_array`), and a number, bool or complex
    /// scalar is a 0-d array. Anything else (a narrowing conversion, a list, a string) is an
    /// error.
    ///
    /// ```
    /// use anam::Value;
    /// let v = Value::from(ndarray::arr1(&[1i32, -2]).into_dyn());
    /// assert_eq!(v.to_array::<f64>()?, ndarray::arr1(&[1.0, -2.0]).into_dyn());
    /// assert!(v.to_array::<i16>().is_err());
    /// assert_eq!(Value::U8(3).to_array::<u8>()?, ndarray::arr0(3u8).into_dyn());
    /// # Ok::<(), anam::Error>(())
    /// ```
    pub fn to_array<T: crate::Element>(&self) -> crate::Result<ndarray::ArrayD<T>> {
        match self {
            Value::Array(a) => a.to_array::<T>(),
            other => match other.scalar() {
                Some(s) => scalar_array(s).into_array::<T>(),
                None => Err(crate::Error::invalid(format!(
                    "expected an array of {}, found {}",
                    T::DTYPE,
                    other.describe()
                ))),
            },
        }
    }

    /// The object, if this is one.
    ///
    /// ```
    /// use anam::{Object, Value};
    /// let v = Value::Object(Object::new("m.C"));
    /// assert_eq!(v.as_object().map(|o| o.class.as_str()), Some("m.C"));
    /// ```
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The list's items, if this is a list.
    ///
    /// ```
    /// use anam::Value;
    /// let v = Value::List(vec![Value::I64(1), Value::None]);
    /// assert_eq!(v.as_list().map(<[Value]>::len), Some(2));
    /// ```
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) => Some(v),
            _ => None,
        }
    }

    /// The dict's entries, in stored order, if this is a dict (for access by position:
    /// indexing a dict looks keys up).
    ///
    /// ```
    /// use anam::Value;
    /// let v = Value::Dict(vec![(Value::from("a"), Value::I64(1))]);
    /// let (k, x) = &v.as_dict().unwrap()[0];
    /// assert_eq!((k.as_str(), x.as_i64()), (Some("a"), Some(1)));
    /// ```
    pub fn as_dict(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Dict(entries) => Some(entries),
            _ => None,
        }
    }

    /// What the value is, for error messages (`"a list"`, `"an int32 scalar"`).
    pub(crate) fn describe(&self) -> String {
        match self {
            Value::None => "None".into(),
            Value::Unit => "()".into(),
            Value::Str(_) => "a string".into(),
            Value::Array(a) => format!("an array of {} and shape {:?}", a.dtype(), a.shape()),
            Value::List(_) => "a list".into(),
            Value::Dict(_) => "a dict".into(),
            Value::Object(o) => format!("an object of class `{}`", o.class),
            other => match other.scalar() {
                Some(s) => format!("a {} scalar", s.dtype()),
                None => "a value".into(),
            },
        }
    }
}

/// A scalar as a 0-d array of its dtype.
pub(crate) fn scalar_array(s: Scalar) -> TypedArray {
    with_scalar!(s, v => crate::Element::wrap(ndarray::arr0(v).into_dyn()))
}

/// Builds an object from map entries whose first key is `class` (the map form of an
/// [`Object`], as [`Value`]'s `Serialize` writes it), reading its layout-detail keys.
pub(crate) fn object_from_entries(entries: Vec<(Value, Value)>) -> Result<Object, String> {
    let mut it = entries.into_iter();
    let mut object = match it.next() {
        Some((Value::Str(k), Value::Str(class))) if k == crate::format::CLASS_ATTR => {
            Object::new(class)
        }
        _ => return Err("an object must start with its `class`".into()),
    };
    let strings = |v: &Value| -> Option<Vec<String>> {
        v.as_list()?
            .iter()
            .map(|s| s.as_str().map(str::to_string))
            .collect()
    };
    for (k, v) in it {
        let Value::Str(k) = k else {
            return Err("object member names are strings".into());
        };
        match k.as_str() {
            NAME_MAPS_KEY => {
                let pairs = v.as_list().ok_or("name maps are a list of pairs")?;
                for pair in pairs {
                    match strings(pair).as_deref() {
                        Some([stored, member]) => {
                            object.name_maps.push((stored.clone(), member.clone()))
                        }
                        _ => return Err("a name map is a pair of strings".into()),
                    }
                }
            }
            LEGACY_KEY => object.legacy_lists = strings(&v).ok_or("legacy lists are names")?,
            _ => object.fields.push((k, v)),
        }
    }
    Ok(object)
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<TypedArray> for Value {
    fn from(a: TypedArray) -> Value {
        Value::Array(a)
    }
}

impl<T: crate::Element> From<T> for Value {
    fn from(v: T) -> Value {
        Value::from(v.into_scalar())
    }
}

impl<T: crate::Element> From<ndarray::ArrayD<T>> for Value {
    fn from(a: ndarray::ArrayD<T>) -> Value {
        Value::Array(T::wrap(a))
    }
}
