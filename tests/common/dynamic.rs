//! `Dyn`: a dynamic value built through `deserialize_any` (the format is self-describing)
//! and written back through `Serialize`, printed as Python's `repr` to compare with the
//! manifest.

use std::fmt::Write as _;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Deserialize, Serialize, Serializer};

/// A dynamic view of anything in an anamnesis file, built through `deserialize_any` (the
/// format is self-describing), printed as Python's `repr` to compare with the manifest.
#[derive(Debug, Clone, PartialEq)]
pub enum Dyn {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Dyn>),
    Dict(Vec<(Dyn, Dyn)>),
    Object {
        class: String,
        fields: Vec<(String, Dyn)>,
    },
}

impl<'de> Deserialize<'de> for Dyn {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Dyn, D::Error> {
        d.deserialize_any(DynVisitor)
    }
}

struct DynVisitor;

impl<'de> Visitor<'de> for DynVisitor {
    type Value = Dyn;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("anything")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Dyn, E> {
        Ok(Dyn::None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Dyn, E> {
        Ok(Dyn::None)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Dyn, E> {
        Ok(Dyn::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Dyn, E> {
        Ok(Dyn::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Dyn, E> {
        Ok(Dyn::Int(v as i64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Dyn, E> {
        Ok(Dyn::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Dyn, E> {
        Ok(Dyn::Str(v.to_string()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Dyn, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element()? {
            v.push(x);
        }
        Ok(Dyn::List(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Dyn, A::Error> {
        let mut entries: Vec<(Dyn, Dyn)> = Vec::new();
        while let Some(k) = map.next_key::<Dyn>()? {
            entries.push((k, map.next_value()?));
        }
        // Objects come as maps whose first key is `class`.
        match entries.first() {
            Some((Dyn::Str(k), Dyn::Str(class))) if k == "class" => Ok(Dyn::Object {
                class: class.clone(),
                fields: entries
                    .into_iter()
                    .skip(1)
                    .map(|(k, v)| match k {
                        Dyn::Str(k) => Ok((k, v)),
                        other => Err(de::Error::custom(format!("field name {other:?}"))),
                    })
                    .collect::<Result<_, _>>()?,
            }),
            _ => Ok(Dyn::Dict(entries)),
        }
    }
}

impl Dyn {
    /// Python's `repr`, with objects printed as the manifest prints them.
    pub fn repr(&self) -> String {
        let mut s = String::new();
        match self {
            Dyn::None => s.push_str("None"),
            Dyn::Bool(b) => s.push_str(if *b { "True" } else { "False" }),
            Dyn::Int(i) => write!(s, "{i}").unwrap(),
            Dyn::Float(f) => write!(s, "{f:?}").unwrap(),
            Dyn::Str(t) => write!(s, "'{t}'").unwrap(),
            Dyn::List(v) => {
                let items: Vec<String> = v.iter().map(Dyn::repr).collect();
                write!(s, "[{}]", items.join(", ")).unwrap();
            }
            Dyn::Dict(v) => {
                let items: Vec<String> = v
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.repr(), v.repr()))
                    .collect();
                write!(s, "{{{}}}", items.join(", ")).unwrap();
            }
            Dyn::Object { class, fields } => {
                let short = class.rsplit('.').next().unwrap();
                let items: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.repr()))
                    .collect();
                write!(s, "{short}({})", items.join(", ")).unwrap();
            }
        }
        s
    }
}

impl Serialize for Dyn {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Dyn::None => s.serialize_none(),
            Dyn::Bool(b) => s.serialize_bool(*b),
            Dyn::Int(i) => s.serialize_i64(*i),
            Dyn::Float(f) => s.serialize_f64(*f),
            Dyn::Str(t) => s.serialize_str(t),
            Dyn::List(v) => anam::as_list::serialize(v, s),
            Dyn::Dict(v) => {
                let mut m = s.serialize_map(Some(v.len()))?;
                for (k, v) in v {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            Dyn::Object { class, fields } => {
                // Field names must be `'static`: the fixtures' objects have only `dat`.
                let mut st = s.serialize_struct("Object", fields.len() + 1)?;
                st.serialize_field("class", class)?;
                for (k, v) in fields {
                    match k.as_str() {
                        "dat" => st.serialize_field("dat", v)?,
                        other => return Err(serde::ser::Error::custom(format!("field {other}"))),
                    }
                }
                st.end()
            }
        }
    }
}
