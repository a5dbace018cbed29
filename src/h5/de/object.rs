//! An object group, presented as a map from member name to value.

use std::collections::HashMap;

use hdf5::Group;
use serde::de::value::{SeqDeserializer, StringDeserializer};
use serde::de::{self, DeserializeSeed, Visitor};
use serde::forward_to_deserialize_any;

use super::items::{ItemDe, Items, ItemsDe};
use super::node::NodeDe;
use crate::error::{Error, Result};
use crate::format;
use crate::h5::group::{join, Members};
use crate::h5::node::{Node, Stored};
use crate::protocol::{CLASS_KEY, LEGACY_KEY, NAME_MAPS_KEY};
use crate::registry::ClassInfo;

/// Where a member's value lives.
enum Source {
    Attr(String),
    Link(String),
    LegacyList(String),
    Str(String),
    Strings(Vec<String>),
    Pairs(Vec<Vec<String>>),
    /// The `extra_data` of a class: the entries that are not members.
    Extra(Box<ObjectAccess>),
}

/// How an object group is presented.
pub(crate) enum ObjectView {
    /// To a typed struct: `fields` are its Serde field names, `info` its registration.
    Typed {
        fields: &'static [&'static str],
        info: Option<&'static ClassInfo>,
    },
    /// To `deserialize_any`: `class` first, then the members (stored names).
    Any,
    /// To [`Value`](crate::Value): the class and layout details under private keys.
    Value,
}

/// The members of an object group, as a map from member name to value.
pub(crate) struct ObjectAccess {
    group: Group,
    entries: std::vec::IntoIter<(String, Source)>,
    pending: Option<Source>,
}

impl ObjectAccess {
    pub(crate) fn new(
        group: Group,
        members: Members,
        class: Option<String>,
        view: ObjectView,
    ) -> Result<ObjectAccess> {
        let stored_maps = if members.has_attr(format::NAMEMAPS_ATTR) {
            read_namemaps(&group)?
        } else {
            Vec::new()
        };
        let legacy = if members.has_attr(format::LEGACY_LISTS_ATTR) {
            Node::attribute(group.id(), format::LEGACY_LISTS_ATTR)
                .and_then(|attr| attr.read_strings())
                .map_err(|e| e.at_with(|| join(&group, format::LEGACY_LISTS_ATTR)))?
        } else {
            Vec::new()
        };
        let mut entries = Vec::with_capacity(members.attrs.len() + members.links.len() + 3);
        let stored = members
            .attrs
            .iter()
            .filter(|n| !format::is_reserved(n))
            .map(|n| (n.clone(), Source::Attr(n.clone())))
            .chain(
                members
                    .links
                    .iter()
                    .filter(|n| !format::is_reserved(n))
                    .map(|n| (n.clone(), Source::Link(n.clone()))),
            )
            .chain(
                legacy
                    .iter()
                    .map(|m| (m.clone(), Source::LegacyList(m.clone()))),
            );
        match view {
            ObjectView::Any => {
                entries.extend(class.map(|c| (format::CLASS_ATTR.to_string(), Source::Str(c))));
                entries.extend(stored);
            }
            ObjectView::Value => {
                entries.extend(class.map(|c| (CLASS_KEY.to_string(), Source::Str(c))));
                if !stored_maps.is_empty() {
                    let pairs = stored_maps
                        .iter()
                        .map(|(s, m)| vec![s.clone(), m.clone()])
                        .collect();
                    entries.push((NAME_MAPS_KEY.to_string(), Source::Pairs(pairs)));
                }
                if !legacy.is_empty() {
                    entries.push((LEGACY_KEY.to_string(), Source::Strings(legacy.clone())));
                }
                entries.extend(stored);
            }
            ObjectView::Typed { fields, info } => {
                // A stored name that is a field stays as it is; otherwise the file's name
                // maps, then the class's, give the member name (Python's `hdf5_mapnames`).
                let maps: HashMap<&str, &str> = info
                    .into_iter()
                    .flat_map(|i| i.name_maps().iter().map(|&(m, s)| (s, m)))
                    .chain(stored_maps.iter().map(|(s, m)| (s.as_str(), m.as_str())))
                    .collect();
                let extra_field = info.and_then(|i| i.extra_data());
                let mut extra = Vec::new();
                for (name, source) in stored {
                    let key = if fields.contains(&name.as_str()) {
                        name
                    } else {
                        maps.get(name.as_str()).map_or(name, |m| m.to_string())
                    };
                    match extra_field {
                        Some(x) if key != x && !fields.contains(&key.as_str()) => {
                            extra.push((key, source))
                        }
                        _ => entries.push((key, source)),
                    }
                }
                if let Some(x) = extra_field {
                    let access = ObjectAccess {
                        group: group.clone(),
                        entries: extra.into_iter(),
                        pending: None,
                    };
                    entries.push((x.to_string(), Source::Extra(Box::new(access))));
                }
            }
        }
        Ok(ObjectAccess {
            group,
            entries: entries.into_iter(),
            pending: None,
        })
    }
}

/// Reads the `namemaps` attribute: rows of `[stored name, member name]`.
fn read_namemaps(group: &Group) -> Result<Vec<(String, String)>> {
    let err = |msg: &str| Error::invalid(msg.to_string());
    let read = || -> Result<Vec<(String, String)>> {
        let attr = Node::attribute(group.id(), format::NAMEMAPS_ATTR)?;
        if !matches!(attr.stored, Stored::Str(_)) {
            return Err(err("namemaps must be strings"));
        }
        let strings = attr.read_strings()?;
        if attr.shape.len() != 2 || attr.shape[1] != 2 {
            return Err(err("namemaps must be an N x 2 array"));
        }
        Ok(strings
            .chunks_exact(2)
            .map(|row| (row[0].clone(), row[1].clone()))
            .collect())
    };
    read().map_err(|e| e.at_with(|| join(group, format::NAMEMAPS_ATTR)))
}

/// A map of members as one value (a class's `extra_data`).
pub(crate) struct MapDe(ObjectAccess);

impl<'de> de::Deserializer<'de> for MapDe {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_map(self.0)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_some(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de> de::MapAccess<'de> for ObjectAccess {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.entries.next() {
            Some((key, source)) => {
                self.pending = Some(source);
                seed.deserialize(StringDeserializer::<Error>::new(key))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let group = &self.group;
        match self
            .pending
            .take()
            .expect("next_value_seed after next_key_seed")
        {
            Source::Str(text) => seed.deserialize(StringDeserializer::<Error>::new(text)),
            Source::Strings(v) => seed.deserialize(SeqDeserializer::<_, Error>::new(v.into_iter())),
            Source::Pairs(v) => seed.deserialize(SeqDeserializer::<_, Error>::new(v.into_iter())),
            Source::Extra(access) => seed.deserialize(MapDe(*access)),
            Source::Attr(name) => NodeDe::attribute(group, &name)
                .and_then(|node| seed.deserialize(node))
                .map_err(|e| e.at_with(|| join(group, &name))),
            Source::Link(name) => seed
                .deserialize(ItemDe::Link(group, name.clone()))
                .map_err(|e| e.at_with(|| join(group, &name))),
            Source::LegacyList(member) => Items::legacy(group.clone(), &member)
                .and_then(|items| seed.deserialize(ItemsDe(items)))
                .map_err(|e| e.at_with(|| join(group, &format::legacy_list_count(&member)))),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}
