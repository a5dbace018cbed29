//! [`Value`]: a dynamic value that loads any anamnesis file, even of classes no Rust type
//! exists for, and writes the same layout back.
//!
//! Scalars keep their HDF5 type (an `int32` attribute is [`Value::I32`]), arrays their dtype
//! and shape ([`Value::Array`]), lists, dicts and objects their order; an [`Object`] keeps its
//! class tag, its name maps and its legacy lists, so that read -> write -> read gives the same
//! classes, names, dtypes and shapes.
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
mod ser;

use std::collections::BTreeMap;

use crate::dtype::{dtype_table, Scalar, TypedArray};
use crate::protocol::{LEGACY_KEY, NAME_MAPS_KEY};

pub use ser::to_value;

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

    /// The member whose Python name is `member`, following the name maps.
    pub fn member(&self, member: &str) -> Option<&Value> {
        let stored = self
            .name_maps
            .iter()
            .find(|(_, m)| m == member)
            .map_or(member, |(s, _)| s.as_str());
        self.get(stored)
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
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Any integer that fits an `i64`.
    pub fn as_i64(&self) -> Option<i64> {
        self.scalar()?.as_i128().and_then(|v| i64::try_from(v).ok())
    }

    /// Any real number (or integer) as an `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::F32(v) => Some(v.into()),
            Value::F64(v) => Some(v),
            _ => self.as_i64().map(|v| v as f64),
        }
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&TypedArray> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The list, if this is one.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(v) => Some(v),
            _ => None,
        }
    }
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
