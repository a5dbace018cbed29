//! `Deserialize` for [`Value`]: through the value token in the crate's formats (typed
//! scalars, whole arrays, objects with their layout), through `deserialize_any` elsewhere.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Object, Value};
use crate::protocol::{self, CLASS_KEY, LEGACY_KEY, NAME_MAPS_KEY, VALUE_TOKEN};

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        let human_readable = d.is_human_readable();
        d.deserialize_newtype_struct(VALUE_TOKEN, ValueVisitor { human_readable })
    }
}

struct ValueVisitor {
    /// Human-readable formats (JSON) mark objects as maps whose first key is `class`; the
    /// crate's formats mark them unambiguously.
    human_readable: bool,
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any anamnesis value")
    }

    protocol::macros::visit_scalars!(v => Ok(Value::from(v)));

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }

    fn visit_char<E: de::Error>(self, v: char) -> Result<Value, E> {
        Ok(Value::Str(v.to_string()))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        if let Some(array) = protocol::take_from_slot(v) {
            return Ok(Value::Array(array));
        }
        if let Some(scalar) = protocol::take_scalar_from_slot(v) {
            return Ok(scalar.first().map_or(Value::None, Value::from));
        }
        Ok(Value::Str(v.to_string()))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::from(
            ndarray::ArrayD::from_shape_vec(vec![v.len()], v.to_vec()).expect("1-d"),
        ))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Unit)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        Value::deserialize(d)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        // Formats without the value token pass the token's newtype through: read the value
        // itself (calling `Value::deserialize` here would ask for the token again).
        d.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(Value, Value)> = Vec::new();
        let mut object: Option<Object> = None;
        while let Some(key) = map.next_key::<Value>()? {
            match (&mut object, key.as_str()) {
                // The crate's formats mark objects with a key no dict can have.
                (None, Some(CLASS_KEY)) if entries.is_empty() => {
                    object = Some(Object::new(map.next_value::<String>()?));
                }
                (Some(o), Some(NAME_MAPS_KEY)) => o.name_maps = map.next_value()?,
                (Some(o), Some(LEGACY_KEY)) => o.legacy_lists = map.next_value()?,
                (Some(o), Some(name)) => {
                    let name = name.to_string();
                    o.fields.push((name, map.next_value()?));
                }
                (Some(_), None) => {
                    return Err(de::Error::custom("object member names are strings"))
                }
                (None, _) => entries.push((key, map.next_value()?)),
            }
        }
        if let Some(o) = object {
            return Ok(Value::Object(o));
        }
        // Other formats: an object is a map whose first key is `class` (as written by
        // `Value`'s `Serialize`).
        match entries.first() {
            Some((Value::Str(k), Value::Str(_)))
                if self.human_readable && k == crate::format::CLASS_ATTR =>
            {
                super::object_from_entries(entries)
                    .map(Value::Object)
                    .map_err(de::Error::custom)
            }
            _ => Ok(Value::Dict(entries)),
        }
    }
}
