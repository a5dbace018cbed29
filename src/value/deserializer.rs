//! The Serde `Deserializer` over a [`Value`]: [`from_value`], [`from_value_ref`], and
//! `Deserializer` for `Value` and `&Value`.
//!
//! It presents a Value to `Deserialize` impls as the HDF5 reader presents the file the
//! Value stands for (`src/h5/de/`), through the same private protocol: arrays are handed
//! over whole through the slot, `Value` fields get the sub-value as it is, objects are
//! checked against the struct's class (tag, aliases, hints) and have their name maps and
//! `extra_data` applied, dicts are maps, lists and arrays sequences, and the self-describing
//! view (`deserialize_any`) is the HDF5 reader's. So `from_value(v)` of the Value read from a
//! file gives what `from_file` gives, and `from_value(to_value(&x)?)` gives `x` back (but for
//! what the file does not keep either: `bcast_only` members, `Some(None)`).
//!
//! The owned and the borrowed forms share one implementation over a `Cow<Value>`: an owned
//! Value's arrays and strings move to the visitor; a borrowed one's strings are lent
//! (`visit_borrowed_str`, so `&str` fields borrow from it) and its arrays copied when a
//! field takes one whole.

use std::borrow::Cow;

use serde::de::value::{BorrowedStrDeserializer, StrDeserializer, StringDeserializer};
use serde::de::Deserializer as _;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};
use serde::{forward_to_deserialize_any, Deserialize};

use super::{scalar_array, Object, Value};
use crate::depth::DepthGuard;
use crate::dtype::{with_typed_array, DType, Element, Scalar, TypedArray};
use crate::error::{Error, ErrorKind, Result};
use crate::format;
use crate::protocol::{
    self, ndarray_serde, ARRAY_TOKEN, CLASS_KEY, LEGACY_KEY, NAME_MAPS_KEY, VALUE_TOKEN,
};
use crate::registry::{self, ClassInfo};

/// Deserializes a `T` from a [`Value`], as [`from_file`](crate::from_file) would from the file
/// the Value stands for: the inverse of [`to_value`](crate::to_value).
///
/// Arrays move into `anam::array` fields without a copy; a struct must find an
/// [`Object`] of its class (its tag, an alias or a hinted tag: otherwise
/// [`ErrorKind::ClassMismatch`], or [`ErrorKind::MissingClass`] for an object with an empty
/// tag) or a [`Dict`](Value::Dict), and reads the object's members through the class's and
/// the object's name maps, with the members it does not declare in its `extra_data`; a
/// missing member is `None` for an `Option` field; a dict is a map with keys of any type;
/// a list or an array is a sequence. An error's [`path`](Error::path) is where in the Value
/// it happened: members by name, list items by position, dict values by their string key
/// (or `[position]`), as in `/team/1/name`.
///
/// ```
/// use anam::{Object, Value};
/// use serde::Deserialize;
///
/// #[derive(Deserialize, Debug, PartialEq)]
/// #[serde(rename = "test_classes1.SimplePerson")]
/// struct SimplePerson {
///     name: String,
///     age: i64,
///     nickname: Option<String>,
/// }
///
/// let mut o = Object::new("test_classes1.SimplePerson");
/// o.insert("name", Value::from("Fred"));
/// o.insert("age", Value::I64(42));
/// let fred: SimplePerson = anam::from_value(Value::Object(o))?;
/// assert_eq!(fred, SimplePerson { name: "Fred".into(), age: 42, nickname: None });
///
/// let wrong = Value::Object(Object::new("other.Class"));
/// let err = anam::from_value::<SimplePerson>(wrong).unwrap_err();
/// assert!(matches!(err.kind(), anam::ErrorKind::ClassMismatch { .. }));
/// # Ok::<(), anam::Error>(())
/// ```
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T> {
    T::deserialize(ValueDe::new(Cow::Owned(value), Loc::Root))
}

/// [`from_value`] of a borrowed [`Value`]: its strings are lent (a `&str` field borrows from
/// the Value), its arrays copied into `anam::array` fields.
///
/// ```
/// use anam::Value;
/// let v = Value::List(vec![Value::from("a"), Value::from("b")]);
/// let words: Vec<&str> = anam::from_value_ref(&v)?;
/// assert_eq!(words, ["a", "b"]);
/// # Ok::<(), anam::Error>(())
/// ```
pub fn from_value_ref<'de, T: Deserialize<'de>>(value: &'de Value) -> Result<T> {
    T::deserialize(ValueDe::new(Cow::Borrowed(value), Loc::Root))
}

/// Forwards a `Deserializer` method of `Value` (or `&Value`) to the deserializer over it.
macro_rules! forward_to_value_de {
    ($cow:ident: $s:ident, $method:ident($($arg:ident),*) $(, $dtype:expr)?) => {
        ValueDe::new(Cow::$cow($s), Loc::Root).$method($($arg),*)
    };
}

macro_rules! forward_owned {
    ($($t:tt)*) => { forward_to_value_de!(Owned: $($t)*) };
}

macro_rules! forward_borrowed {
    ($($t:tt)*) => { forward_to_value_de!(Borrowed: $($t)*) };
}

/// A [`Value`] is a Serde `Deserializer` (as `serde_json::Value` is): `T::deserialize(value)`
/// is [`from_value`].
///
/// ```
/// use serde::Deserialize;
/// let v = anam::Value::List(vec![anam::Value::U8(1), anam::Value::U8(2)]);
/// assert_eq!(Vec::<u32>::deserialize(v)?, [1, 2]);
/// # Ok::<(), anam::Error>(())
/// ```
impl<'de> de::Deserializer<'de> for Value {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    protocol::macros::deserialize_all!(forward_owned);
}

/// A borrowed [`Value`] is a Serde `Deserializer`: `T::deserialize(&value)` is
/// [`from_value_ref`].
///
/// ```
/// use serde::Deserialize;
/// let v = anam::Value::from("text");
/// assert_eq!(<&str>::deserialize(&v)?, "text");
/// # Ok::<(), anam::Error>(())
/// ```
impl<'de> de::Deserializer<'de> for &'de Value {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    protocol::macros::deserialize_all!(forward_borrowed);
}

/// `value.into_deserializer()`, for Serde APIs that take one.
///
/// ```
/// use serde::de::{Deserialize, IntoDeserializer};
/// let v = anam::Value::I32(-4);
/// assert_eq!(i64::deserialize(v.into_deserializer())?, -4);
/// # Ok::<(), anam::Error>(())
/// ```
impl<'de> IntoDeserializer<'de, Error> for Value {
    type Deserializer = Value;

    fn into_deserializer(self) -> Value {
        self
    }
}

/// `(&value).into_deserializer()`, for Serde APIs that take one.
///
/// ```
/// use serde::de::{Deserialize, IntoDeserializer};
/// let v = anam::Value::from("x");
/// assert_eq!(<&str>::deserialize((&v).into_deserializer())?, "x");
/// # Ok::<(), anam::Error>(())
/// ```
impl<'de> IntoDeserializer<'de, Error> for &'de Value {
    type Deserializer = &'de Value;

    fn into_deserializer(self) -> &'de Value {
        self
    }
}

// ---------------------------------------------------------------------------------------
// Where a value is, for errors
// ---------------------------------------------------------------------------------------

/// The place of a value inside the Value deserialized, as a chain up to the root (built on
/// the stack as the deserializer descends; rendered only for an error).
#[derive(Clone, Copy)]
enum Loc<'p> {
    Root,
    /// An object's member, or a dict's value under a string key.
    Member(&'p Loc<'p>, &'p str),
    /// A list's item.
    Item(&'p Loc<'p>, usize),
    /// A dict's entry (key, or value under a key that is not a string), by position.
    Entry(&'p Loc<'p>, usize),
}

impl Loc<'_> {
    fn render(&self) -> String {
        let mut parts = Vec::new();
        let mut at = self;
        loop {
            at = match *at {
                Loc::Root => break,
                Loc::Member(parent, name) => {
                    parts.push(name.to_string());
                    parent
                }
                Loc::Item(parent, i) => {
                    parts.push(i.to_string());
                    parent
                }
                Loc::Entry(parent, i) => {
                    parts.push(format!("[{i}]"));
                    parent
                }
            };
        }
        parts.reverse();
        format!("/{}", parts.join("/"))
    }

    /// Attaches this place to `e`, unless it has a more precise one (or this is the root).
    fn locate(&self, e: Error) -> Error {
        match self {
            Loc::Root => e,
            _ => e.at_with(|| self.render()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Owned or borrowed parts of a Value
// ---------------------------------------------------------------------------------------

/// A Value taken apart, each part owned or borrowed as the Value was.
enum Node<'de> {
    None,
    Unit,
    Scalar(Scalar),
    Str(Cow<'de, str>),
    Array(Cow<'de, TypedArray>),
    List(Cow<'de, [Value]>),
    Dict(Cow<'de, [(Value, Value)]>),
    Object(Cow<'de, Object>),
}

impl<'de> Node<'de> {
    fn of(value: Cow<'de, Value>) -> Node<'de> {
        if let Some(s) = value.scalar() {
            return Node::Scalar(s);
        }
        macro_rules! node_of {
            ($v:expr, $cow:path) => {
                match $v {
                    Value::None => Node::None,
                    Value::Unit => Node::Unit,
                    Value::Str(s) => Node::Str($cow(s)),
                    Value::Array(a) => Node::Array($cow(a)),
                    Value::List(l) => Node::List($cow(l)),
                    Value::Dict(d) => Node::Dict($cow(d)),
                    Value::Object(o) => Node::Object($cow(o)),
                    _ => unreachable!("scalars are taken above"),
                }
            };
        }
        match value {
            Cow::Owned(v) => node_of!(v, Cow::Owned),
            Cow::Borrowed(v) => node_of!(v, Cow::Borrowed),
        }
    }

    /// What it is, for error messages.
    fn describe(&self) -> String {
        match self {
            Node::None => "None".into(),
            Node::Unit => "()".into(),
            Node::Scalar(s) => format!("a {} scalar", s.dtype()),
            Node::Str(_) => "a string".into(),
            Node::Array(a) => format!("an array of {} and shape {:?}", a.dtype(), a.shape()),
            Node::List(_) => "a list".into(),
            Node::Dict(_) => "a dict".into(),
            Node::Object(o) => format!("an object of class `{}`", o.class),
        }
    }
}

/// The items of an owned or borrowed slice, each owned or borrowed.
enum Each<'de, T: Clone> {
    Owned(std::vec::IntoIter<T>),
    Borrowed(std::slice::Iter<'de, T>),
}

impl<'de, T: Clone> Each<'de, T> {
    fn of(items: Cow<'de, [T]>) -> Each<'de, T> {
        match items {
            Cow::Owned(v) => Each::Owned(v.into_iter()),
            Cow::Borrowed(s) => Each::Borrowed(s.iter()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Each::Owned(it) => it.len(),
            Each::Borrowed(it) => it.len(),
        }
    }
}

impl<'de, T: Clone> Iterator for Each<'de, T> {
    type Item = Cow<'de, T>;

    fn next(&mut self) -> Option<Cow<'de, T>> {
        match self {
            Each::Owned(it) => it.next().map(Cow::Owned),
            Each::Borrowed(it) => it.next().map(Cow::Borrowed),
        }
    }
}

fn pair<'de, A: Clone, B: Clone>(p: Cow<'de, (A, B)>) -> (Cow<'de, A>, Cow<'de, B>) {
    match p {
        Cow::Owned((a, b)) => (Cow::Owned(a), Cow::Owned(b)),
        Cow::Borrowed((a, b)) => (Cow::Borrowed(a), Cow::Borrowed(b)),
    }
}

/// A member's name (split from a `(String, Value)` pair) as a string.
#[allow(clippy::owned_cow)]
fn str_of(s: Cow<'_, String>) -> Cow<'_, str> {
    match s {
        Cow::Owned(s) => Cow::Owned(s),
        Cow::Borrowed(s) => Cow::Borrowed(s),
    }
}

/// The string of a [`Value::Str`], or the value back.
fn text_of(v: Cow<'_, Value>) -> std::result::Result<Cow<'_, str>, Cow<'_, Value>> {
    match v {
        Cow::Owned(Value::Str(s)) => Ok(Cow::Owned(s)),
        Cow::Borrowed(Value::Str(s)) => Ok(Cow::Borrowed(s)),
        other => Err(other),
    }
}

/// An object's parts.
struct ObjectParts<'de> {
    class: Cow<'de, str>,
    fields: Each<'de, (String, Value)>,
    name_maps: Cow<'de, [(String, String)]>,
    legacy: Cow<'de, [String]>,
}

impl<'de> ObjectParts<'de> {
    fn of(o: Cow<'de, Object>) -> ObjectParts<'de> {
        match o {
            Cow::Owned(o) => ObjectParts {
                class: Cow::Owned(o.class),
                fields: Each::Owned(o.fields.into_iter()),
                name_maps: Cow::Owned(o.name_maps),
                legacy: Cow::Owned(o.legacy_lists),
            },
            Cow::Borrowed(o) => ObjectParts {
                class: Cow::Borrowed(&o.class),
                fields: Each::Borrowed(o.fields.iter()),
                name_maps: Cow::Borrowed(&o.name_maps),
                legacy: Cow::Borrowed(&o.legacy_lists),
            },
        }
    }
}

/// An object's members, each with its stored name.
fn members<'de>(
    fields: Each<'de, (String, Value)>,
) -> impl Iterator<Item = (Cow<'de, str>, Cow<'de, Value>)> {
    fields.map(|f| {
        let (name, value) = pair(f);
        (str_of(name), value)
    })
}

// ---------------------------------------------------------------------------------------
// The deserializer
// ---------------------------------------------------------------------------------------

/// Deserializes one value (owned or borrowed) found at `loc`.
struct ValueDe<'de, 'p> {
    value: Cow<'de, Value>,
    loc: Loc<'p>,
}

impl<'de, 'p> ValueDe<'de, 'p> {
    fn new(value: Cow<'de, Value>, loc: Loc<'p>) -> Self {
        ValueDe { value, loc }
    }

    /// The self-describing view, as the HDF5 reader's `deserialize_any`: `None` and `()` are
    /// the unit value, numbers their own type (complex ones `[re, im]`), arrays nested
    /// sequences, objects maps with `class` first.
    fn any<V: Visitor<'de>>(node: Node<'de>, loc: Loc<'p>, visitor: V) -> Result<V::Value> {
        match node {
            Node::None | Node::Unit => visitor.visit_unit(),
            Node::Scalar(s) => s.visit(visitor),
            Node::Str(s) => visit_text(s, visitor),
            Node::Array(a) => visit_nested(a, visitor),
            Node::List(l) => visit_list(l, loc, visitor),
            Node::Dict(d) => visitor.visit_map(DictAccess::new(d, loc)),
            Node::Object(o) => visitor.visit_map(ObjectAccess::any(o, loc)),
        }
    }

    /// The view the [`Value`] visitor reads (`VALUE_TOKEN`): typed scalars, whole arrays,
    /// objects with their class and layout under the private keys.
    fn value_view<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let loc = self.loc;
        match Node::of(self.value) {
            Node::None => visitor.visit_none(),
            Node::Unit => visitor.visit_unit(),
            Node::Scalar(s @ (Scalar::C64(_) | Scalar::C128(_))) => {
                protocol::hand_over_scalar(scalar_array(s), visitor)
            }
            Node::Scalar(s) => s.visit(visitor),
            Node::Str(s) => visit_text(s, visitor),
            Node::Array(a) => protocol::hand_over(a.into_owned(), visitor),
            Node::List(l) => visit_list(l, loc, visitor),
            Node::Dict(d) => visitor.visit_map(DictAccess::new(d, loc)),
            Node::Object(o) => visitor.visit_map(ObjectAccess::value(o, loc)),
        }
    }
}

/// A string to a visitor: lent when borrowed from the Value, moved when owned.
fn visit_text<'de, V: Visitor<'de>>(s: Cow<'de, str>, visitor: V) -> Result<V::Value> {
    match s {
        Cow::Owned(s) => visitor.visit_string(s),
        Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
    }
}

/// Whether an array has no elements (an empty or 0-d array: an `AnamEmptyArray` group in a
/// file).
fn is_empty_group(a: &TypedArray) -> bool {
    a.shape().is_empty() || a.shape().contains(&0)
}

impl<'de> de::Deserializer<'de> for ValueDe<'de, '_> {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let node = Node::of(self.value);
        // Lists, dicts and objects are levels of nesting (as groups are in HDF5).
        let _depth = matches!(node, Node::List(_) | Node::Dict(_) | Node::Object(_))
            .then(DepthGuard::enter)
            .transpose()?;
        Self::any(node, self.loc, visitor)
    }

    crate::protocol::macros::deserialize_fn!(deserialize_newtype_struct(self, name, visitor) => {
        match name {
            // `anam::array`: the array whole (a scalar is a 0-d array, as a scalar attribute).
            ARRAY_TOKEN => match Node::of(self.value) {
                Node::Array(a) => protocol::hand_over(a.into_owned(), visitor),
                Node::Scalar(s) => protocol::hand_over(scalar_array(s), visitor),
                other => Err(Error::invalid(format!(
                    "expected an array, found {}",
                    other.describe()
                ))),
            },
            VALUE_TOKEN => self.value_view(visitor),
            _ => visitor.visit_newtype_struct(self),
        }
    });

    crate::protocol::macros::deserialize_fn!(deserialize_struct(self, name, fields, visitor) => {
        let _depth = DepthGuard::enter()?;
        let loc = self.loc;
        match Node::of(self.value) {
            // A Python dict can stand for a struct.
            Node::Dict(d) => visitor.visit_map(DictAccess::new(d, loc)),
            // ndarray's own `Deserialize` (a scalar is a 0-d array, as for `anam::array`).
            Node::Array(a) if ndarray_serde::wants_ndarray(name, fields) => {
                ndarray_serde::visit_array(&a, visitor)
            }
            Node::Scalar(s) if ndarray_serde::wants_ndarray(name, fields) => {
                ndarray_serde::visit_array(&scalar_array(s), visitor)
            }
            Node::Object(o) => {
                if o.class.is_empty() {
                    return Err(ErrorKind::MissingClass {
                        expected: name.to_string(),
                    }
                    .into());
                }
                if !registry::tag_matches(name, &o.class) {
                    return Err(ErrorKind::ClassMismatch {
                        found: o.class.clone(),
                        expected: name.to_string(),
                    }
                    .into());
                }
                let info = registry::info_for(name)?;
                visitor.visit_map(ObjectAccess::typed(o, fields, info, loc))
            }
            // A list is a group of class `AnamList` in a file.
            Node::List(_) => Err(ErrorKind::ClassMismatch {
                found: format::LIST_CLASS.to_string(),
                expected: name.to_string(),
            }
            .into()),
            other => Err(Error::invalid(format!(
                "expected an object of class `{name}`, found {}",
                other.describe()
            ))),
        }
    });

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let _depth = DepthGuard::enter()?;
        let loc = self.loc;
        match Node::of(self.value) {
            Node::Dict(d) => visitor.visit_map(DictAccess::new(d, loc)),
            // An object's members by name (through its own name maps), without `class`.
            Node::Object(o) => visitor.visit_map(ObjectAccess::typed(o, &[], None, loc)),
            other => Self::any(other, loc, visitor),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // Lists, and arrays as nested sequences (the self-describing view does both).
        self.deserialize_any(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_any(visitor)
    }

    crate::protocol::macros::deserialize_fn!(deserialize_tuple_struct(self, _, _len, visitor) => {
        self.deserialize_any(visitor)
    });

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.value.is_none() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // As in a file: nothing, a null-dataspace attribute, or any group.
        match &*self.value {
            Value::None | Value::Unit | Value::List(_) | Value::Dict(_) | Value::Object(_) => {
                visitor.visit_unit()
            }
            Value::Array(a) if is_empty_group(a) => visitor.visit_unit(),
            _ => self.deserialize_any(visitor),
        }
    }

    crate::protocol::macros::deserialize_fn!(deserialize_unit_struct(self, _, visitor) => {
        // The tag is not checked, as the HDF5 reader does not.
        self.deserialize_unit(visitor)
    });

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        let loc = self.loc;
        match Node::of(self.value) {
            Node::Array(a) if a.dtype() == DType::U8 && a.shape().len() == 1 => match a {
                Cow::Owned(TypedArray::U8(x)) => visitor.visit_byte_buf(into_vec(x)),
                Cow::Borrowed(TypedArray::U8(x)) => match x.as_slice() {
                    Some(bytes) => visitor.visit_borrowed_bytes(bytes),
                    None => visitor.visit_byte_buf(x.iter().copied().collect()),
                },
                _ => unreachable!("the dtype is uint8"),
            },
            Node::Array(a) if a.shape().contains(&0) => visitor.visit_byte_buf(Vec::new()),
            other => Self::any(other, loc, visitor),
        }
    }

    crate::protocol::macros::deserialize_fn!(deserialize_enum(self, _, _, visitor) => {
        let _depth = DepthGuard::enter()?;
        let loc = self.loc;
        match Node::of(self.value) {
            // A unit variant is its name.
            Node::Str(Cow::Owned(s)) => visitor.visit_enum(StringDeserializer::<Error>::new(s)),
            Node::Str(Cow::Borrowed(s)) => {
                visitor.visit_enum(BorrowedStrDeserializer::<Error>::new(s))
            }
            // A variant with data is a dict of one entry.
            Node::Dict(d) if d.len() == 1 => {
                let entry = Each::of(d).next().expect("one entry");
                let (key, value) = pair(entry);
                visitor.visit_enum(VariantDe {
                    key: text_of(key),
                    value,
                    loc,
                })
            }
            Node::Dict(d) => Err(Error::invalid(format!(
                "an enum variant is a dict of one entry, found {} entries",
                d.len()
            ))),
            other => Err(Error::invalid(format!(
                "expected an enum variant (a name or a one-entry dict), found {}",
                other.describe()
            ))),
        }
    });

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string identifier
    }
}

/// The elements of a 1-D array, without a copy when it owns exactly its buffer.
fn into_vec<T: Element>(a: ndarray::ArrayD<T>) -> Vec<T> {
    let n = a.len();
    if a.as_slice().is_none() {
        return a.iter().copied().collect();
    }
    // Standard layout and contiguous: the elements are `n` consecutive ones of the buffer.
    let (mut v, offset) = a.into_raw_vec_and_offset();
    let offset = offset.unwrap_or(0);
    if offset == 0 && v.len() == n {
        return v;
    }
    v.truncate(offset + n);
    v.drain(..offset);
    v
}

// ---------------------------------------------------------------------------------------
// Lists and arrays as sequences
// ---------------------------------------------------------------------------------------

/// Visits a list's items, failing when the visitor left some unread (a tuple shorter than
/// the list), as the HDF5 reader does.
fn visit_list<'de, V: Visitor<'de>>(
    items: Cow<'de, [Value]>,
    loc: Loc<'_>,
    visitor: V,
) -> Result<V::Value> {
    let len = items.len();
    let mut access = ListAccess {
        items: Each::of(items),
        next: 0,
        loc,
    };
    let value = visitor.visit_seq(&mut access)?;
    check_all_read(access.next, len)?;
    Ok(value)
}

fn check_all_read(taken: usize, len: usize) -> Result<()> {
    if taken < len {
        let expected = format!("{taken} elements in sequence");
        return Err(de::Error::invalid_length(len, &expected.as_str()));
    }
    Ok(())
}

struct ListAccess<'de, 'p> {
    items: Each<'de, Value>,
    next: usize,
    loc: Loc<'p>,
}

impl<'de> SeqAccess<'de> for ListAccess<'de, '_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let loc = Loc::Item(&self.loc, self.next);
        self.next += 1;
        crate::depth::grow(|| seed.deserialize(ValueDe::new(item, loc)))
            .map(Some)
            .map_err(|e| loc.locate(e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// Presents an array as nested sequences along its axes (a 0-d array as its element), as
/// the HDF5 reader presents a dataset read whole.
fn visit_nested<'de, V: Visitor<'de>>(a: Cow<'_, TypedArray>, visitor: V) -> Result<V::Value> {
    let standard = with_typed_array!(&*a, x => x.is_standard_layout());
    let a = if standard {
        a
    } else {
        Cow::Owned(with_typed_array!(&*a, x => Element::wrap(x.as_standard_layout().into_owned())))
    };
    Nested {
        array: &a,
        shape: a.shape(),
        level: 0,
        offset: 0,
    }
    .deserialize_any(visitor)
}

/// The part of a standard-layout array at `offset` below axis `level`: a sub-array, or an
/// element below the last axis.
#[derive(Clone, Copy)]
struct Nested<'a> {
    array: &'a TypedArray,
    shape: &'a [usize],
    level: usize,
    offset: usize,
}

impl Nested<'_> {
    fn len(&self) -> usize {
        self.shape.get(self.level).copied().unwrap_or(0)
    }

    fn item(&self, i: usize) -> Self {
        let stride: usize = self.shape[self.level + 1..].iter().product();
        Nested {
            level: self.level + 1,
            offset: self.offset + i * stride,
            ..*self
        }
    }
}

impl<'de> de::Deserializer<'de> for Nested<'_> {
    type Error = Error;

    crate::protocol::macros::element_methods!();

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.level < self.shape.len() {
            let mut access = NestedItems {
                array: self,
                next: 0,
            };
            let value = visitor.visit_seq(&mut access)?;
            check_all_read(access.next, self.len())?;
            return Ok(value);
        }
        let element = with_typed_array!(self.array, a => a
            .as_slice()
            .and_then(|s| s.get(self.offset))
            .copied()
            .map(Scalar::from));
        element
            .ok_or_else(|| Error::invalid("array element out of range"))?
            .visit(visitor)
    }

    crate::protocol::macros::deserialize_fn!(deserialize_enum(self, _, _, _) => {
        Err(Error::invalid(
            "expected an enum variant name, found a number",
        ))
    });
}

struct NestedItems<'a> {
    array: Nested<'a>,
    next: usize,
}

impl<'de> SeqAccess<'de> for NestedItems<'_> {
    type Error = Error;

    crate::protocol::macros::array_items_access!(item);
}

// ---------------------------------------------------------------------------------------
// Dicts, and enum variants with data
// ---------------------------------------------------------------------------------------

/// A dict as a map: keys of any type.
struct DictAccess<'de, 'p> {
    entries: Each<'de, (Value, Value)>,
    next: usize,
    /// The value of the entry whose key was read, and the key if it is a string.
    pending: Option<(Option<Cow<'de, str>>, Cow<'de, Value>)>,
    loc: Loc<'p>,
}

impl<'de, 'p> DictAccess<'de, 'p> {
    fn new(entries: Cow<'de, [(Value, Value)]>, loc: Loc<'p>) -> Self {
        DictAccess {
            entries: Each::of(entries),
            next: 0,
            pending: None,
            loc,
        }
    }
}

impl<'de> MapAccess<'de> for DictAccess<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        let loc = Loc::Entry(&self.loc, self.next);
        self.next += 1;
        let (key, value) = pair(entry);
        // A string key is kept, to name the value's place in errors.
        let (key, text) = match text_of(key) {
            Ok(text) => (seed.deserialize(KeyDe(&text)), Some(text)),
            Err(key) => (seed.deserialize(ValueDe::new(key, loc)), None),
        };
        let key = key.map_err(|e| loc.locate(e))?;
        self.pending = Some((text, value));
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let (text, value) = self
            .pending
            .take()
            .ok_or_else(|| Error::invalid("dict value before its key"))?;
        let loc = match &text {
            Some(text) => Loc::Member(&self.loc, text),
            None => Loc::Entry(&self.loc, self.next - 1),
        };
        crate::depth::grow(|| seed.deserialize(ValueDe::new(value, loc))).map_err(|e| loc.locate(e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enum variant with data: the one entry of a dict.
struct VariantDe<'de, 'p> {
    key: std::result::Result<Cow<'de, str>, Cow<'de, Value>>,
    value: Cow<'de, Value>,
    loc: Loc<'p>,
}

impl<'de, 'p> EnumAccess<'de> for VariantDe<'de, 'p> {
    type Error = Error;
    type Variant = VariantValue<'de, 'p>;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, VariantValue<'de, 'p>)> {
        let loc = Loc::Entry(&self.loc, 0);
        let (variant, name) = match self.key {
            Ok(name) => (seed.deserialize(KeyDe(&name)), Some(name)),
            Err(key) => (seed.deserialize(ValueDe::new(key, loc)), None),
        };
        let variant = variant.map_err(|e| loc.locate(e))?;
        Ok((
            variant,
            VariantValue {
                value: self.value,
                name,
                loc: self.loc,
            },
        ))
    }
}

/// The data of an enum variant: the value of the dict's entry.
struct VariantValue<'de, 'p> {
    value: Cow<'de, Value>,
    name: Option<Cow<'de, str>>,
    loc: Loc<'p>,
}

impl VariantValue<'_, '_> {
    /// The data's place: under the variant's name.
    fn place<'q>(loc: &'q Loc<'q>, name: &'q Option<Cow<'_, str>>) -> Loc<'q> {
        match name {
            Some(name) => Loc::Member(loc, name),
            None => Loc::Entry(loc, 0),
        }
    }
}

impl<'de> VariantAccess<'de> for VariantValue<'de, '_> {
    type Error = Error;

    fn unit_variant(self) -> Result<()> {
        // A unit variant also reads from a one-entry dict (whatever its value).
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        let loc = Self::place(&self.loc, &self.name);
        crate::depth::grow(|| seed.deserialize(ValueDe::new(self.value, loc)))
            .map_err(|e| loc.locate(e))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value> {
        let loc = Self::place(&self.loc, &self.name);
        ValueDe::new(self.value, loc)
            .deserialize_seq(visitor)
            .map_err(|e| loc.locate(e))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let loc = Self::place(&self.loc, &self.name);
        ValueDe::new(self.value, loc)
            .deserialize_map(visitor)
            .map_err(|e| loc.locate(e))
    }
}

/// A string (a member's name, a dict's string key, a class tag): lent when borrowed from
/// the Value, else visited from the string kept to name the place in errors.
struct KeyDe<'a, 'de>(&'a Cow<'de, str>);

impl<'de> de::Deserializer<'de> for KeyDe<'_, 'de> {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            Cow::Owned(s) => visitor.visit_str(s),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    crate::protocol::macros::deserialize_fn!(deserialize_enum(self, _, _, visitor) => {
        match self.0 {
            Cow::Borrowed(s) => visitor.visit_enum(BorrowedStrDeserializer::<Error>::new(s)),
            Cow::Owned(s) => visitor.visit_enum(StrDeserializer::<Error>::new(s)),
        }
    });

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

// ---------------------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------------------

/// What a key of an object's map holds.
enum Member<'de> {
    /// A member's value.
    Value(Cow<'de, Value>),
    /// The class tag.
    Text(Cow<'de, str>),
    /// A layout detail (name maps, legacy lists) built for the Value visitor.
    Built(Value),
    /// A class's `extra_data`: the members that are not fields.
    Extra(Vec<(Cow<'de, str>, Member<'de>)>),
}

/// An object's members as a map, presented as the HDF5 reader presents an object group.
struct ObjectAccess<'de, 'p> {
    entries: std::vec::IntoIter<(Cow<'de, str>, Member<'de>)>,
    pending: Option<(Cow<'de, str>, Member<'de>)>,
    loc: Loc<'p>,
}

impl<'de, 'p> ObjectAccess<'de, 'p> {
    fn with(entries: Vec<(Cow<'de, str>, Member<'de>)>, loc: Loc<'p>) -> Self {
        ObjectAccess {
            entries: entries.into_iter(),
            pending: None,
            loc,
        }
    }

    /// To `deserialize_any`: `class` first, then the members by stored name.
    fn any(o: Cow<'de, Object>, loc: Loc<'p>) -> Self {
        let parts = ObjectParts::of(o);
        let mut entries = Vec::with_capacity(parts.fields.len() + 1);
        entries.push((Cow::Borrowed(format::CLASS_ATTR), Member::Text(parts.class)));
        entries.extend(
            members(parts.fields)
                .filter(|(n, _)| !format::is_reserved(n))
                .map(|(n, v)| (n, Member::Value(v))),
        );
        Self::with(entries, loc)
    }

    /// To the [`Value`] visitor: the class and the layout details under the private keys,
    /// then every member.
    fn value(o: Cow<'de, Object>, loc: Loc<'p>) -> Self {
        let parts = ObjectParts::of(o);
        let mut entries = Vec::with_capacity(parts.fields.len() + 3);
        entries.push((Cow::Borrowed(CLASS_KEY), Member::Text(parts.class)));
        if !parts.name_maps.is_empty() {
            let pairs = parts
                .name_maps
                .iter()
                .map(|(s, m)| Value::List(vec![Value::from(s.as_str()), Value::from(m.as_str())]))
                .collect();
            entries.push((
                Cow::Borrowed(NAME_MAPS_KEY),
                Member::Built(Value::List(pairs)),
            ));
        }
        if !parts.legacy.is_empty() {
            let names = parts
                .legacy
                .iter()
                .map(|n| Value::from(n.as_str()))
                .collect();
            entries.push((Cow::Borrowed(LEGACY_KEY), Member::Built(Value::List(names))));
        }
        entries.extend(members(parts.fields).map(|(n, v)| (n, Member::Value(v))));
        Self::with(entries, loc)
    }

    /// To a struct with `fields`, of the registered class `info` if any: a stored name that
    /// is a field stays as it is; any other goes through the object's name maps, then the
    /// class's, to its member name; with an `extra_data` field, the members that are not
    /// fields gather into it.
    fn typed(
        o: Cow<'de, Object>,
        fields: &'static [&'static str],
        info: Option<&'static ClassInfo>,
        loc: Loc<'p>,
    ) -> Self {
        let parts = ObjectParts::of(o);
        // (stored, member), the object's own last: they win.
        let mut maps: Vec<(Cow<'de, str>, Cow<'de, str>)> = info
            .map_or(&[][..], ClassInfo::name_maps)
            .iter()
            .map(|&(m, s)| (Cow::Borrowed(s), Cow::Borrowed(m)))
            .collect();
        match parts.name_maps {
            Cow::Owned(v) => {
                maps.extend(v.into_iter().map(|(s, m)| (Cow::Owned(s), Cow::Owned(m))))
            }
            Cow::Borrowed(v) => maps.extend(
                v.iter()
                    .map(|(s, m)| (Cow::Borrowed(s.as_str()), Cow::Borrowed(m.as_str()))),
            ),
        }
        let extra_field = info.and_then(ClassInfo::extra_data);
        let mut entries = Vec::with_capacity(parts.fields.len() + 1);
        let mut extra = Vec::new();
        for (name, value) in members(parts.fields).filter(|(n, _)| !format::is_reserved(n)) {
            let key = if fields.contains(&&*name) {
                name
            } else {
                match maps.iter().rev().find(|(s, _)| *s == name) {
                    Some((_, m)) => m.clone(),
                    None => name,
                }
            };
            match extra_field {
                Some(x) if key != x && !fields.contains(&&*key) => {
                    extra.push((key, Member::Value(value)))
                }
                _ => entries.push((key, Member::Value(value))),
            }
        }
        if let Some(x) = extra_field {
            entries.push((Cow::Borrowed(x), Member::Extra(extra)));
        }
        Self::with(entries, loc)
    }
}

impl<'de> MapAccess<'de> for ObjectAccess<'de, '_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        let Some((name, member)) = self.entries.next() else {
            return Ok(None);
        };
        let key = seed
            .deserialize(KeyDe(&name))
            .map_err(|e| Loc::Member(&self.loc, &name).locate(e))?;
        self.pending = Some((name, member));
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let (name, member) = self
            .pending
            .take()
            .ok_or_else(|| Error::invalid("object member before its name"))?;
        let loc = Loc::Member(&self.loc, &name);
        let object_loc = self.loc;
        crate::depth::grow(|| match member {
            Member::Value(v) => seed.deserialize(ValueDe::new(v, loc)),
            Member::Text(t) => seed.deserialize(KeyDe(&t)),
            Member::Built(v) => seed.deserialize(ValueDe::new(Cow::Owned(v), loc)),
            // The gathered members are the object's own: their places are the object's.
            Member::Extra(entries) => {
                seed.deserialize(Gathered(ObjectAccess::with(entries, object_loc)))
            }
        })
        .map_err(|e| loc.locate(e))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// A class's `extra_data`: a map of the members gathered for it.
struct Gathered<'de, 'p>(ObjectAccess<'de, 'p>);

impl<'de> de::Deserializer<'de> for Gathered<'de, '_> {
    type Error = Error;

    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_map(self.0)
    }

    crate::protocol::macros::any_but_option!();
}
