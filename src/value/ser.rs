//! `Serialize` for [`Value`], and [`to_value`]: any `Serialize` type as a [`Value`].

use crate::registry::FieldRole;
use serde::ser::{self, Serialize, SerializeMap, Serializer};

use super::{object_from_entries, Object, Value};
use crate::depth::DepthGuard;
use crate::dtype::{with_scalar, with_typed_array, DType, Scalar, TypedArray};
use crate::error::{Error, Result};
use crate::protocol::ndarray_serde::{MaybeNdarray, NdarrayTarget};
use crate::protocol::{
    self, ARRAY_TOKEN, LEGACY_KEY, LIST_TOKEN, NAME_MAPS_KEY, OBJECT_TOKEN, SCALAR_TOKEN,
    VALUE_TOKEN,
};
use crate::registry::{self, ClassInfo};

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        // The token lets binary formats switch to their self-describing encoding; other
        // formats see a plain newtype.
        s.serialize_newtype_struct(VALUE_TOKEN, &Body(self))
    }
}

/// The value itself, inside the value token.
struct Body<'a>(&'a Value);

impl Serialize for Body<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if let Some(scalar) = self.0.scalar() {
            return match scalar {
                // Complex numbers have no Serde method: a 0-d array payload.
                Scalar::C64(c) => {
                    s.serialize_newtype_struct(SCALAR_TOKEN, &protocol::payload(&[], &[c]))
                }
                Scalar::C128(c) => {
                    s.serialize_newtype_struct(SCALAR_TOKEN, &protocol::payload(&[], &[c]))
                }
                other => with_scalar!(other, v => v.serialize(s)),
            };
        }
        match self.0 {
            Value::None => s.serialize_none(),
            Value::Unit => s.serialize_unit(),
            Value::Str(v) => s.serialize_str(v),
            Value::Array(a) => with_typed_array!(a, arr => crate::array::serialize(arr, s)),
            // Lists stay lists (not datasets), as Python wrote them.
            Value::List(v) => crate::as_list::serialize(v, s),
            Value::Dict(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
            // Rank 0 writing a distributed collection: another rank's array.
            #[cfg(feature = "mpio")]
            Value::Object(o) if super::stand_in::is_stand_in(o) => super::stand_in::serialize(o, s),
            Value::Object(o) => s.serialize_newtype_struct(OBJECT_TOKEN, &ObjectBody(o)),
            _ => unreachable!("scalars are serialized above"),
        }
    }
}

/// An object as a map: `class` first, then its layout details, then its members.
struct ObjectBody<'a>(&'a Object);

impl Serialize for ObjectBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let o = self.0;
        let len = 1
            + usize::from(!o.name_maps.is_empty())
            + usize::from(!o.legacy_lists.is_empty())
            + o.fields.len();
        let mut map = s.serialize_map(Some(len))?;
        map.serialize_entry(crate::format::CLASS_ATTR, &o.class)?;
        if !o.name_maps.is_empty() {
            map.serialize_entry(NAME_MAPS_KEY, &o.name_maps)?;
        }
        if !o.legacy_lists.is_empty() {
            map.serialize_entry(LEGACY_KEY, &o.legacy_lists)?;
        }
        for (k, v) in &o.fields {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Converts any `Serialize` value into a [`Value`] (arrays are copied into the value): the
/// Value that [`to_file`](crate::to_file) would write, so that writing it gives the same
/// file as writing `value`, and [`from_value`](crate::from_value) gives `value` back.
///
/// A struct is an [`Object`] tagged with its Serde name (or its `class` field), its members
/// in field order, a `None` field a [`Value::None`] member; sequences are
/// [`List`](Value::List)s, maps [`Dict`](Value::Dict)s, `anam::array` fields (and arrays
/// serialized through ndarray's own `serde` impl) [`Array`](Value::Array)s. A class registered with [`#[anam::class]`](macro@crate::class)
/// is the object its file holds: members under their stored names (`#[anam(name)]`, with
/// the object's [`name_maps`](Object::name_maps)), the `extra_data` entries as members in
/// the place of that field, and no `bcast_only` members. As in a file, an `extra_data` key
/// that is not a string, is a [reserved name](crate::format::is_reserved) or repeats a
/// member's stored name is an error.
///
/// ```
/// use anam::{ExtraData, Value};
/// use serde::Serialize;
///
/// #[anam::class(class = "doc.Sample")]
/// #[derive(Serialize, serde::Deserialize)]
/// struct Sample {
///     #[anam(name = "order")]
///     _order: Vec<i64>,
///     #[anam(extra_data)]
///     extra: ExtraData,
///     #[anam(bcast_only)]
///     scratch: Vec<f64>,
/// }
///
/// let s = Sample {
///     _order: vec![3, 1],
///     extra: ExtraData::from([("hometown".to_string(), Value::from("Oxford"))]),
///     scratch: vec![1.5],
/// };
/// let v = anam::to_value(&s)?;
/// let o = v.as_object().unwrap();
/// let names: Vec<&str> = o.fields.iter().map(|(n, _)| n.as_str()).collect();
/// assert_eq!(names, ["order", "hometown"]);
/// assert_eq!(o.name_maps, [("order".to_string(), "_order".to_string())]);
/// assert_eq!(v["_order"][1], Value::I64(1));
/// # Ok::<(), anam::Error>(())
/// ```
pub fn to_value<T: ?Sized + Serialize>(value: &T) -> Result<Value> {
    // Called once per nested value: with enough stack, as the other writers (see
    // `crate::depth`); the compound builders count the levels.
    crate::depth::grow(|| {
        value.serialize(ValueBuilder {
            object: false,
            keep_order: false,
            as_list: false,
        })
    })
}

thread_local! {
    /// Set by [`to_value_as_written`] for the conversion it makes.
    static AS_WRITTEN: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Converts `value` to the [`Value`] that writes the same HDF5 group as `value` itself:
/// unlike [`to_value`], a sequence the writer would make a dataset (numbers of one type, or
/// nothing) is an array, not a list. For the HDF5 writer, which holds the values of a map
/// whose keys come out of order until it can write them sorted.
pub(crate) fn to_value_as_written<T: ?Sized + Serialize>(value: &T) -> Result<Value> {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            AS_WRITTEN.set(self.0);
        }
    }
    let _restore = Restore(AS_WRITTEN.replace(true));
    to_value(value)
}

/// Builds a [`Value`]; `object` is set while serializing an [`Object`]'s body,
/// `keep_order` while serializing a `Value` (whose dicts keep their order; the maps of other
/// types are sorted by key, as the HDF5 writer writes them).
struct ValueBuilder {
    object: bool,
    keep_order: bool,
    /// Under [`crate::as_list`]: a sequence is a list (for [`to_value_as_written`]).
    as_list: bool,
}

impl Serializer for ValueBuilder {
    protocol::macros::serializer_types!(Value, Error; SeqBuilder, SeqBuilder, SeqBuilder,
        SeqBuilder, MapBuilder, MaybeNdarray<ObjectTarget>, MapBuilder);

    protocol::macros::serialize_scalars!(self, v => Ok(Value::from(v)));

    fn serialize_str(self, v: &str) -> Result<Value> {
        Ok(Value::Str(v.to_string()))
    }

    fn is_human_readable(&self) -> bool {
        false
    }

    fn serialize_char(self, v: char) -> Result<Value> {
        Ok(Value::Str(v.to_string()))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<Value> {
        array_value(DType::U8, &[v.len()], v)
    }

    fn serialize_none(self) -> Result<Value> {
        Ok(Value::None)
    }

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<Value> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<Value> {
        Ok(Value::Unit)
    }

    fn serialize_unit_struct(self, name: &'static str) -> Result<Value> {
        Ok(Value::Object(Object::new(name)))
    }

    crate::protocol::macros::serialize_fn!(serialize_unit_variant(self, _, _, variant) => {
        Ok(Value::from(variant))
    });

    crate::protocol::macros::serialize_fn!(serialize_newtype_struct(self, name, value) => {
        match name {
            ARRAY_TOKEN | SCALAR_TOKEN => {
                let mut out: Option<Value> = None;
                protocol::capture(value, |dtype, shape, bytes| {
                    out = Some(if name == SCALAR_TOKEN {
                        let array = TypedArray::from_le_bytes(dtype, shape, bytes)?;
                        array.first().map_or(Value::None, Value::from)
                    } else {
                        array_value(dtype, shape, bytes)?
                    });
                    Ok(())
                })?;
                out.ok_or_else(|| Error::invalid("array payload has no data"))
            }
            OBJECT_TOKEN => value.serialize(ValueBuilder {
                object: true,
                keep_order: true,
                as_list: false,
            }),
            LIST_TOKEN => value.serialize(ValueBuilder {
                as_list: true,
                ..self
            }),
            VALUE_TOKEN => value.serialize(ValueBuilder {
                keep_order: true,
                ..self
            }),
            _ => value.serialize(self),
        }
    });

    crate::protocol::macros::serialize_fn!(serialize_newtype_variant(self, _, _, variant, value) => {
        Ok(Value::Dict(vec![(Value::from(variant), to_value(value)?)]))
    });

    fn serialize_seq(self, len: Option<usize>) -> Result<SeqBuilder> {
        Ok(SeqBuilder {
            _depth: DepthGuard::enter()?,
            variant: None,
            items: Vec::with_capacity(len.unwrap_or(0).min(4096)),
            column: !self.as_list && AS_WRITTEN.get(),
        })
    }

    protocol::macros::tuples_as_sequences!();

    crate::protocol::macros::serialize_fn!(serialize_tuple_variant(self, _, _, variant, len) => {
        Ok(SeqBuilder {
            _depth: DepthGuard::enter()?,
            variant: Some(variant),
            items: Vec::with_capacity(len.min(4096)),
            column: false,
        })
    });

    fn serialize_map(self, _len: Option<usize>) -> Result<MapBuilder> {
        Ok(MapBuilder {
            _depth: DepthGuard::enter()?,
            object: self.object,
            sort: !self.keep_order,
            variant: None,
            entries: Vec::new(),
            key: None,
        })
    }

    fn serialize_struct(self, name: &'static str, len: usize) -> Result<Self::SerializeStruct> {
        // An object; ndarray's own form of an array, an `Array` (as in a file).
        MaybeNdarray::start(ObjectTarget, name, len)
    }

    crate::protocol::macros::serialize_fn!(serialize_struct_variant(self, _, _, variant, _len) => {
        Ok(MapBuilder {
            _depth: DepthGuard::enter()?,
            object: false,
            // The fields of a struct variant, in their order.
            sort: false,
            variant: Some(variant),
            entries: Vec::new(),
            key: None,
        })
    });
}

/// Sequences (and tuple variants, as a one-entry dict).
struct SeqBuilder {
    _depth: DepthGuard,
    variant: Option<&'static str>,
    items: Vec<Value>,
    /// Made an array when its items are numbers of one type (see [`to_value_as_written`]).
    column: bool,
}

impl SeqBuilder {
    fn push<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        self.items.push(to_value(value)?);
        Ok(())
    }

    fn finish(self) -> Result<Value> {
        if self.column {
            if let Some(array) = column(&self.items)? {
                return Ok(array);
            }
        }
        let list = Value::List(self.items);
        Ok(match self.variant {
            Some(v) => Value::Dict(vec![(Value::from(v), list)]),
            None => list,
        })
    }
}

/// The 1-D array the HDF5 writer makes of `items` (numbers of one type, or none: an empty
/// `float64` array), as [`array_value`] gives it.
fn column(items: &[Value]) -> Result<Option<Value>> {
    let Some(dtype) = items.first().map_or(Some(crate::dtype::DType::F64), |v| {
        v.scalar().map(|s| s.dtype())
    }) else {
        return Ok(None);
    };
    let mut bytes = Vec::with_capacity(items.len() * dtype.size());
    for item in items {
        match item.scalar() {
            Some(s) if s.dtype() == dtype => s.extend_bytes(&mut bytes),
            _ => return Ok(None),
        }
    }
    array_value(dtype, &[items.len()], &bytes).map(Some)
}

/// The value of an array of `dtype` and `shape` whose little-endian bytes are `bytes`: the
/// array (copied), or what a distributed write's sink puts in its place (feature `mpio`,
/// [`super::stand_in`]).
fn array_value(dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<Value> {
    #[cfg(feature = "mpio")]
    if let Some(v) = super::stand_in::sunk(dtype, shape, bytes)? {
        return Ok(v);
    }
    TypedArray::from_le_bytes(dtype, shape, bytes).map(Value::Array)
}

protocol::macros::forward_compound!(SeqBuilder, Value, element: push, end: finish);

/// Maps (dicts, object bodies, and struct variants as a one-entry dict of their fields).
struct MapBuilder {
    _depth: DepthGuard,
    object: bool,
    /// Sort the entries by key (a typed map, not a `Value` dict).
    sort: bool,
    variant: Option<&'static str>,
    entries: Vec<(Value, Value)>,
    key: Option<Value>,
}

impl MapBuilder {
    fn finish(mut self) -> Result<Value> {
        if self.object {
            return object_from_entries(self.entries)
                .map(Value::Object)
                .map_err(Error::invalid);
        }
        if self.sort {
            super::sort_entries(&mut self.entries);
        }
        let dict = Value::Dict(self.entries);
        Ok(match self.variant {
            Some(v) => Value::Dict(vec![(Value::from(v), dict)]),
            None => dict,
        })
    }
}

impl ser::SerializeMap for MapBuilder {
    type Ok = Value;
    type Error = Error;

    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<()> {
        self.key = Some(to_value(key)?);
        Ok(())
    }

    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let key = crate::protocol::key_of_value(&mut self.key, "map")?;
        self.entries.push((key, to_value(value)?));
        Ok(())
    }

    fn end(self) -> Result<Value> {
        self.finish()
    }
}

impl MapBuilder {
    /// A field of a struct variant.
    fn field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.entries.push((Value::from(key), to_value(value)?));
        Ok(())
    }
}

protocol::macros::forward_fields!(MapBuilder, Value, field: field, end: finish);

/// A struct as a [`Value`]: an [`Object`], or for ndarray's own form of an array the
/// [`Array`](Value::Array) that a file stores.
struct ObjectTarget;

impl NdarrayTarget for ObjectTarget {
    type Ok = Value;
    type Plain = StructBuilder;

    fn plain(self, name: &'static str, len: usize) -> Result<StructBuilder> {
        let mut object = Object::new(name);
        object.fields.reserve(len.min(4096));
        Ok(StructBuilder {
            _depth: DepthGuard::enter()?,
            object,
            info: registry::info_for(name)?,
        })
    }

    fn array(self, dtype: DType, shape: &[usize], bytes: &[u8]) -> Result<Value> {
        array_value(dtype, shape, bytes)
    }
}

/// Structs: objects whose class is the Serde name (or a `class` field). A registered class
/// ([`ClassInfo`]) also maps member names, leaves out `bcast_only` members and puts its
/// `extra_data` entries beside the members, as the HDF5 writer does.
struct StructBuilder {
    _depth: DepthGuard,
    object: Object,
    info: Option<&'static ClassInfo>,
}

impl StructBuilder {
    fn field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<()> {
        if key == crate::format::CLASS_ATTR {
            self.object.class = protocol::capture_str(value)?;
            return Ok(());
        }
        let mut name = key;
        if let Some(info) = self.info {
            let (stored, mapped_from) = match info.field_role(key) {
                FieldRole::Skipped => return Ok(()),
                FieldRole::ExtraData => return self.extra_data(value),
                FieldRole::Stored { name, mapped_from } => (name, mapped_from),
            };
            if let Some(member) = mapped_from {
                self.object
                    .name_maps
                    .push((stored.to_string(), member.to_string()));
            }
            name = stored;
        }
        self.object
            .fields
            .push((name.to_string(), to_value(value)?));
        Ok(())
    }

    /// The entries of the `extra_data` field, as members.
    fn extra_data<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<()> {
        let not_a_map = || Error::invalid("extra_data must be a map with string keys");
        let Value::Dict(entries) = to_value(value)? else {
            return Err(not_a_map());
        };
        self.object.fields.reserve(entries.len());
        for (key, value) in entries {
            let Value::Str(key) = key else {
                return Err(not_a_map());
            };
            if crate::format::is_reserved(&key) {
                return Err(Error::invalid(format!(
                    "extra_data key `{key}` is reserved by the layout"
                )));
            }
            self.object.fields.push((key, value));
        }
        Ok(())
    }

    fn finish(self) -> Result<Value> {
        if self.info.is_some() {
            // One entry per name, as in the object's group (an extra_data key may repeat a
            // member's stored name).
            let mut names: Vec<&str> = self.object.fields.iter().map(|(n, _)| n.as_str()).collect();
            names.sort_unstable();
            if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
                return Err(Error::invalid(format!(
                    "`{}` is written twice (a member and an extra_data entry?)",
                    w[0]
                )));
            }
        }
        Ok(Value::Object(self.object))
    }
}

protocol::macros::forward_fields!(StructBuilder, Value, field: field, end: finish);
