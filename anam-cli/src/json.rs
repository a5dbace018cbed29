//! `anam json`: the file as JSON, written as it is read (member by member, list items one
//! at a time).

use std::cell::RefCell;
use std::io::{BufWriter, Write};
use std::process::ExitCode;

use anam::ndarray::{ArrayViewD, Axis};
use anam::{Entry, EntryKind, Value};
use base64::Engine;
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::elem::{scalar_repr, with_array, Elem};
use crate::util::{self, clean, join, Failure, Result};
use crate::{ArraysAs, JsonArgs};

struct Ctx<'a> {
    file: &'a anam::File,
    arrays: ArraysAs,
    /// The first error, with its path (serde's own error keeps only a message).
    error: RefCell<Option<String>>,
}

impl Ctx<'_> {
    fn fail<E: serde::ser::Error>(&self, path: &str, e: impl std::fmt::Display) -> E {
        let msg = Failure::at(self.file.path(), path, e).0;
        self.error.borrow_mut().get_or_insert(msg.clone());
        E::custom(msg)
    }
}

pub fn run(args: &JsonArgs) -> Result<ExitCode> {
    let file = util::open(&args.file)?;
    let ctx = Ctx {
        file: &file,
        arrays: args.arrays,
        error: RefCell::new(None),
    };
    let stdout = std::io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    let path = args.path.as_deref().map(clean).unwrap_or_default();
    let result = if path.is_empty() {
        write(&mut out, &Group { ctx: &ctx, path }, args.compact)
    } else {
        let entry = file
            .entry(&path)
            .map_err(|e| Failure::at(&args.file, &path, e))?;
        write(&mut out, &Node { ctx: &ctx, entry }, args.compact)
    };
    if let Err(e) = result {
        let _ = out.flush();
        return Err(ctx
            .error
            .borrow_mut()
            .take()
            .map_or_else(|| Failure::from(std::io::Error::from(e)), Failure));
    }
    writeln!(out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn write<T: Serialize>(out: &mut impl Write, v: &T, compact: bool) -> serde_json::Result<()> {
    if compact {
        serde_json::to_writer(out, v)
    } else {
        serde_json::to_writer_pretty(out, v)
    }
}

/// A group without a class tag (the root, or plain HDF5): its attributes and links by name.
struct Group<'a> {
    ctx: &'a Ctx<'a>,
    path: String,
}

impl Serialize for Group<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let ctx = self.ctx;
        let h5 = ctx.file.hdf5();
        let group = h5
            .group(if self.path.is_empty() {
                "/"
            } else {
                &self.path
            })
            .map_err(|e| ctx.fail::<S::Error>(&self.path, e))?;
        let attrs = group
            .attr_names()
            .map_err(|e| ctx.fail::<S::Error>(&self.path, e))?;
        let links = group
            .member_names()
            .map_err(|e| ctx.fail::<S::Error>(&self.path, e))?;
        let mut map = s.serialize_map(None)?;
        for name in attrs.iter().chain(&links) {
            let p = join(&self.path, name);
            let entry = ctx
                .file
                .entry(&p)
                .map_err(|e| ctx.fail::<S::Error>(&p, e))?;
            map.serialize_entry(name, &Node { ctx, entry })?;
        }
        map.end()
    }
}

/// An entry, written from its metadata down.
struct Node<'a> {
    ctx: &'a Ctx<'a>,
    entry: Entry,
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let ctx = self.ctx;
        let file = ctx.file;
        let path = &self.entry.path;
        let fail = |e: anam::Error| ctx.fail::<S::Error>(path, e);
        match self.entry.kind {
            EntryKind::Object if file.contains(&join(path, "LISTS")) => {
                // The legacy layout (old files, small): the object read whole.
                let v: Value = file.read(path).map_err(fail)?;
                Val {
                    v: &v,
                    arrays: ctx.arrays,
                }
                .serialize(s)
            }
            EntryKind::Object => {
                let members = file.entries(path).map_err(fail)?;
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("class", &self.entry.class)?;
                for m in members {
                    map.serialize_entry(&m.name.clone(), &Node { ctx, entry: m })?;
                }
                map.end()
            }
            EntryKind::List => {
                let items = file.items::<Value>(path).map_err(fail)?;
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for (i, item) in items.enumerate() {
                    let item =
                        item.map_err(|e| ctx.fail::<S::Error>(&join(path, &util::item(i)), e))?;
                    seq.serialize_element(&Val {
                        v: &item,
                        arrays: ctx.arrays,
                    })?;
                }
                seq.end()
            }
            EntryKind::Dict => {
                let keys: Vec<Value> = file.read(&join(path, "dictkeys")).map_err(fail)?;
                let mut map = s.serialize_map(Some(keys.len()))?;
                for (i, key) in keys.iter().enumerate() {
                    let p = join(path, &format!("dictdata/{}", util::item(i)));
                    if file.contains(&p) {
                        let entry = file.entry(&p).map_err(|e| ctx.fail::<S::Error>(&p, e))?;
                        map.serialize_entry(&key_string(key), &Node { ctx, entry })?;
                    } else {
                        map.serialize_entry(&key_string(key), &())?;
                    }
                }
                map.end()
            }
            EntryKind::Array | EntryKind::Scalar => {
                let v: Value = file.read(path).map_err(fail)?;
                Val {
                    v: &v,
                    arrays: ctx.arrays,
                }
                .serialize(s)
            }
            _ => {
                if self.entry.class.is_none() && file.hdf5().group(path).is_ok() {
                    Group {
                        ctx,
                        path: path.clone(),
                    }
                    .serialize(s)
                } else {
                    match file.read::<Value>(path) {
                        Ok(v) => Val {
                            v: &v,
                            arrays: ctx.arrays,
                        }
                        .serialize(s),
                        Err(e) => Err(fail(e)),
                    }
                }
            }
        }
    }
}

/// A dict key as a JSON object key: a string as it is, anything else as its Python repr.
fn key_string(k: &Value) -> String {
    match k {
        Value::Str(s) => s.clone(),
        other => scalar_repr(other).unwrap_or_else(|| crate::elem::compact(other, false)),
    }
}

/// A value in JSON.
pub struct Val<'a> {
    pub v: &'a Value,
    pub arrays: ArraysAs,
}

/// A value as a `serde_json::Value` (for small values: scalars in `tree --json`).
pub fn value_json(v: &Value, arrays: ArraysAs) -> serde_json::Value {
    serde_json::to_value(Val { v, arrays }).unwrap_or(serde_json::Value::Null)
}

impl Serialize for Val<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let arrays = self.arrays;
        match self.v {
            Value::None | Value::Unit => s.serialize_unit(),
            Value::Bool(x) => x.json().serialize(s),
            Value::I8(x) => x.json().serialize(s),
            Value::I16(x) => x.json().serialize(s),
            Value::I32(x) => x.json().serialize(s),
            Value::I64(x) => x.json().serialize(s),
            Value::U8(x) => x.json().serialize(s),
            Value::U16(x) => x.json().serialize(s),
            Value::U32(x) => x.json().serialize(s),
            Value::U64(x) => x.json().serialize(s),
            Value::F32(x) => x.json().serialize(s),
            Value::F64(x) => x.json().serialize(s),
            Value::C64(x) => x.json().serialize(s),
            Value::C128(x) => x.json().serialize(s),
            Value::Str(x) => s.serialize_str(x),
            Value::Array(a) => match arrays {
                ArraysAs::Lists => {
                    with_array!(a, arr => Nested { a: arr.view() }.serialize(s))
                }
                ArraysAs::Summary | ArraysAs::Base64 => {
                    let mut map = s.serialize_map(None)?;
                    map.serialize_entry("dtype", a.dtype().name())?;
                    map.serialize_entry("shape", a.shape())?;
                    if arrays == ArraysAs::Base64 {
                        let mut bytes = Vec::new();
                        with_array!(a, arr => arr.iter().for_each(|e| e.le_bytes(&mut bytes)));
                        let text = base64::engine::general_purpose::STANDARD.encode(&bytes);
                        map.serialize_entry("base64", &text)?;
                    }
                    map.end()
                }
            },
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&Val { v, arrays })?;
                }
                seq.end()
            }
            Value::Dict(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(&key_string(k), &Val { v, arrays })?;
                }
                map.end()
            }
            Value::Object(o) => {
                let mut map = s.serialize_map(Some(o.fields.len() + 1))?;
                map.serialize_entry("class", &o.class)?;
                for (name, v) in &o.fields {
                    map.serialize_entry(name, &Val { v, arrays })?;
                }
                map.end()
            }
        }
    }
}

/// An array as nested JSON lists.
struct Nested<'a, T> {
    a: ArrayViewD<'a, T>,
}

impl<T: Elem> Serialize for Nested<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if self.a.ndim() == 0 {
            return match self.a.iter().next() {
                Some(e) => e.json().serialize(s),
                None => Err(S::Error::custom("a 0-d array without an element")),
            };
        }
        let n = self.a.len_of(Axis(0));
        let mut seq = s.serialize_seq(Some(n))?;
        for i in 0..n {
            seq.serialize_element(&Nested {
                a: self.a.index_axis(Axis(0), i),
            })?;
        }
        seq.end()
    }
}
