//! Indexing a [`Value`] in the manner of `serde_json::Value`: `value["name"]`,
//! `value[3]`, [`Value::get`] and [`Value::get_mut`].

use std::ops::Index;

use super::{Object, Value};

mod private {
    pub trait Sealed {}
    impl Sealed for usize {}
    impl Sealed for str {}
    impl Sealed for String {}
    impl<T: ?Sized + Sealed> Sealed for &T {}
}

/// Item `$i` of the list items, object fields or dict entries `$v` holds, through `$get`
/// (`get` or `get_mut`).
macro_rules! item_at {
    ($v:expr, $i:expr, $get:ident) => {
        match $v {
            Value::List(items) => items.$get($i),
            Value::Object(o) => o.fields.$get($i).map(|(_, v)| v),
            Value::Dict(entries) => entries.$get($i).map(|(_, v)| v),
            _ => None,
        }
    };
}

/// What a [`Value`] can be indexed by (`value[i]`, [`Value::get`], [`Value::get_mut`]): a
/// string or a `usize`. Sealed: these are the only kinds of index.
///
/// - **A string** (`&str`, `String`): the member of an [`Object`] stored under that name,
///   or else the member whose Python name it is by the object's name maps
///   ([`Object::member`]); the entry of a [`Dict`](Value::Dict) whose key is that string
///   (the first, if several).
/// - **A `usize`**: the item of a [`List`](Value::List) at that position; the entry of a
///   [`Dict`](Value::Dict) whose key is an *integer* of that value, of any integer type (as
///   Python's `d[1]`: a dict is looked up by key, never by position; use
///   [`Value::as_dict`] for positions).
///
/// Anything else (a string on a list, a number on an object, any index on a scalar or an
/// array, a missing name, a position out of range) finds nothing: `get` returns `None`, and
/// `value[i]` a shared [`Value::None`], as `serde_json` returns `Null`, so lookups chain
/// without panicking.
///
/// ```
/// use anam::{Object, Value};
/// let mut o = Object::new("m.Lab");
/// o.insert("order", Value::List(vec![Value::I64(3), Value::I64(1)]));
/// o.name_maps.push(("order".into(), "_order".into()));
/// o.insert(
///     "by_id",
///     Value::Dict(vec![(Value::I32(7), Value::from("seven")), (Value::from("x"), Value::Unit)]),
/// );
/// let v = Value::Object(o);
///
/// assert_eq!(v["order"][0], Value::I64(3)); // stored name
/// assert_eq!(v["_order"][1], Value::I64(1)); // member name, through the name maps
/// assert_eq!(v["by_id"][7].as_str(), Some("seven")); // an integer key, not a position
/// assert_eq!(v["by_id"]["x"], Value::Unit);
/// assert!(v["by_id"][0].is_none()); // no key 0
/// assert!(v["nothing"]["deeper"][3].is_none());
/// ```
pub trait ValueIndex: private::Sealed {
    /// Where this index points in `v`: the position in `v`'s list items, object fields or
    /// dict entries (whichever `v` holds), if it points at anything.
    #[doc(hidden)]
    fn position(&self, v: &Value) -> Option<usize>;

    /// The value at this index of `v`, if there is one.
    #[doc(hidden)]
    fn index_into<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        let i = self.position(v)?;
        item_at!(v, i, get)
    }

    /// The value at this index of `v`, mutably, if there is one.
    #[doc(hidden)]
    fn index_into_mut<'v>(&self, v: &'v mut Value) -> Option<&'v mut Value> {
        let i = self.position(v)?;
        item_at!(v, i, get_mut)
    }
}

/// The position of the member `name` of `o`: stored under it, or mapped to it.
fn member_position(o: &Object, name: &str) -> Option<usize> {
    let find = |n: &str| o.fields.iter().position(|(f, _)| f == n);
    find(name).or_else(|| find(o.stored_name(name)))
}

fn is_key_int(k: &Value, i: usize) -> bool {
    k.scalar()
        .and_then(|s| s.as_i128())
        .is_some_and(|k| k == i as i128)
}

impl ValueIndex for str {
    fn position(&self, v: &Value) -> Option<usize> {
        match v {
            Value::Object(o) => member_position(o, self),
            Value::Dict(entries) => entries.iter().position(|(k, _)| k.as_str() == Some(self)),
            _ => None,
        }
    }
}

impl ValueIndex for usize {
    fn position(&self, v: &Value) -> Option<usize> {
        match v {
            Value::List(_) => Some(*self),
            Value::Dict(entries) => entries.iter().position(|(k, _)| is_key_int(k, *self)),
            _ => None,
        }
    }
}

impl ValueIndex for String {
    fn position(&self, v: &Value) -> Option<usize> {
        self.as_str().position(v)
    }
}

impl<T: ?Sized + ValueIndex> ValueIndex for &T {
    fn position(&self, v: &Value) -> Option<usize> {
        (**self).position(v)
    }
}

/// `value["name"]`, `value[3]`: the rules of [`ValueIndex`]; what is not there is a shared
/// [`Value::None`] (no panic), as `serde_json::Value`'s `Null`.
///
/// ```
/// use anam::Value;
/// let v = Value::List(vec![Value::Dict(vec![(Value::from("k"), Value::F64(0.5))])]);
/// assert_eq!(v[0]["k"].as_f64(), Some(0.5));
/// assert!(v[1]["k"].is_none());
/// ```
impl<I: ValueIndex> Index<I> for Value {
    type Output = Value;

    fn index(&self, index: I) -> &Value {
        index.index_into(self).unwrap_or(Value::NONE)
    }
}
