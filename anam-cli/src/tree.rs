//! `anam tree`: the object tree, from metadata only.

use std::io::Write;
use std::process::ExitCode;

use anam::{Entry, EntryKind, Value};
use owo_colors::OwoColorize;
use serde::Serialize;

use crate::elem::{scalar_dtype, scalar_repr, shape_str};
use crate::util::{self, clean, join, Failure, Result};
use crate::TreeArgs;

/// How many members of a list, collection or dict are shown without `--all`.
pub const FEW: usize = 3;

/// How an array's data is stored.
#[derive(Serialize, Debug)]
pub struct Storage {
    /// `contiguous`, `chunked` or `compact`.
    pub layout: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<Vec<usize>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
    /// Bytes on disk.
    pub bytes: u64,
    /// Logical size over bytes on disk, when filters are applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
}

/// One node of the tree (also its JSON form).
#[derive(Serialize, Debug, Default)]
pub struct Node {
    pub name: String,
    pub path: String,
    /// `file`, `object`, `list`, `dict`, `array`, `scalar`, `none`, `group`, `dataset`,
    /// `attribute` or `other`.
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub len: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dtype: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shape: Option<Vec<usize>>,
    /// Whether the array is an attribute (not a dataset).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub attribute: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<Storage>,
    /// A scalar's value, as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<serde_json::Value>,
    /// A scalar's value as Python shows it.
    #[serde(skip)]
    pub repr: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Node>,
    /// Members not shown (past the first few, or below `--depth`).
    #[serde(skip_serializing_if = "is_zero")]
    pub more: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

struct Ctx<'a> {
    file: &'a anam::File,
    all: bool,
    depth: Option<usize>,
    errors: usize,
}

pub fn run(args: &TreeArgs) -> Result<ExitCode> {
    let file = util::open(&args.file)?;
    let mut ctx = Ctx {
        file: &file,
        all: args.all,
        depth: args.depth,
        errors: 0,
    };
    let root = match args.path.as_deref().map(clean).filter(|p| !p.is_empty()) {
        None => {
            let mut root = Node {
                name: args.file.display().to_string(),
                kind: "file",
                ..Node::default()
            };
            if ctx.depth != Some(0) {
                root.children = plain_group(&mut ctx, "", 1);
            }
            root
        }
        Some(path) => {
            let entry = file
                .entry(&path)
                .map_err(|e| Failure::at(&args.file, &path, e))?;
            build(&mut ctx, &entry, path.clone(), 0)
        }
    };
    let mut out = anstream::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &root)
            .map_err(|e| Failure(format!("writing the output: {e}")))?;
        writeln!(out)?;
    } else {
        write!(out, "{}", to_termtree(&root))?;
    }
    out.flush()?;
    if ctx.errors > 0 {
        return Err(Failure(format!(
            "{}: {} entries could not be read (marked in the tree)",
            args.file.display(),
            ctx.errors
        )));
    }
    Ok(ExitCode::SUCCESS)
}

fn expand(ctx: &Ctx, level: usize) -> bool {
    ctx.depth.is_none_or(|d| level < d)
}

/// The node of an entry described by `File::entry`/`entries`, with its children.
fn build(ctx: &mut Ctx, entry: &Entry, name: String, level: usize) -> Node {
    let mut node = Node {
        name,
        path: entry.path.clone(),
        class: entry.class.clone(),
        len: entry.len,
        shape: entry.shape.clone(),
        dtype: entry.dtype.map(|d| d.to_string()),
        ..Node::default()
    };
    let path = entry.path.clone();
    match entry.kind {
        EntryKind::Object => {
            node.kind = "object";
            if expand(ctx, level) {
                match ctx.file.entries(&path) {
                    Ok(members) => {
                        for m in members {
                            let child = build(ctx, &m, m.name.clone(), level + 1);
                            node.children.push(child);
                        }
                        legacy_lists(ctx, &mut node, level);
                    }
                    Err(e) => fail(ctx, &mut node, e),
                }
            } else {
                node.more = 1;
            }
        }
        EntryKind::List => {
            node.kind = "list";
            node.class = None;
            let n = entry.len.unwrap_or(0);
            let shown = if ctx.all { n } else { n.min(FEW) };
            if expand(ctx, level) {
                for i in 0..shown {
                    let p = join(&path, &util::item(i));
                    let child = member(ctx, &p, format!("[{i}]"), level + 1);
                    node.children.push(child);
                }
                node.more = n - shown;
            } else {
                node.more = n;
            }
        }
        EntryKind::Dict => {
            node.kind = "dict";
            node.class = None;
            let n = entry.len.unwrap_or(0);
            let shown = if ctx.all { n } else { n.min(FEW) };
            if expand(ctx, level) {
                for i in 0..shown {
                    let key_path = join(&path, &format!("dictkeys/{}", util::item(i)));
                    let key = match ctx.file.read::<Value>(&key_path) {
                        Ok(k) => scalar_repr(&k).unwrap_or_else(|| format!("{k:?}")),
                        Err(e) => {
                            let mut child = Node {
                                name: format!("key {i}"),
                                path: key_path,
                                kind: "other",
                                ..Node::default()
                            };
                            fail(ctx, &mut child, e);
                            node.children.push(child);
                            continue;
                        }
                    };
                    let p = join(&path, &format!("dictdata/{}", util::item(i)));
                    let child = member(ctx, &p, key, level + 1);
                    node.children.push(child);
                }
                node.more = n - shown;
            } else {
                node.more = n;
            }
        }
        EntryKind::Array => {
            node.kind = "array";
            if entry.class.is_none() {
                node.storage = storage(ctx.file.hdf5(), &path);
                node.attribute = node.storage.is_none();
            }
            if node.dtype.is_none() {
                node.dtype = hdf5_dtype(ctx.file.hdf5(), &path);
            }
        }
        EntryKind::Scalar => {
            node.kind = "scalar";
            match ctx.file.read::<Value>(&path) {
                Ok(v) => set_scalar(&mut node, &v),
                Err(e) => {
                    node.dtype = node.dtype.or_else(|| hdf5_dtype(ctx.file.hdf5(), &path));
                    fail(ctx, &mut node, e);
                }
            }
        }
        _ => {
            if entry.class.is_none() && ctx.file.hdf5().group(&path).is_ok() {
                node.kind = "group";
                if expand(ctx, level) {
                    node.children = plain_group(ctx, &path, level + 1);
                } else {
                    node.more = 1;
                }
            } else if let Some(storage) = storage(ctx.file.hdf5(), &path) {
                // A dataset of a type the layout does not use.
                node.kind = "dataset";
                node.dtype = hdf5_dtype(ctx.file.hdf5(), &path);
                node.shape = ctx.file.hdf5().dataset(&path).ok().map(|d| d.shape());
                node.storage = Some(storage);
            } else {
                node.kind = "other";
            }
        }
    }
    node
}

/// The members of an object stored in the legacy `LISTS` layout (`LIST_<m>{i}` groups).
fn legacy_lists(ctx: &mut Ctx, node: &mut Node, level: usize) {
    let path = node.path.clone();
    let Ok(Value::List(names)) = ctx.file.read::<Value>(&join(&path, "LISTS")) else {
        return;
    };
    for name in names.iter().filter_map(Value::as_str) {
        let count = ctx
            .file
            .read::<Value>(&join(&path, &format!("LIST_{name}_count")))
            .ok()
            .and_then(|c| c.as_u64())
            .unwrap_or(0) as usize;
        let shown = if ctx.all { count } else { count.min(FEW) };
        let mut list = Node {
            name: name.to_string(),
            path: path.clone(),
            kind: "list",
            class: Some("legacy LISTS".into()),
            len: Some(count),
            ..Node::default()
        };
        if expand(ctx, level + 1) {
            for i in 0..shown {
                let p = join(&path, &format!("LIST_{name}{i}"));
                let child = member(ctx, &p, format!("[{i}]"), level + 2);
                list.children.push(child);
            }
            list.more = count - shown;
        } else {
            list.more = count;
        }
        node.children.push(list);
    }
}

/// A list item or dict value at `path`: absent means `None`.
fn member(ctx: &mut Ctx, path: &str, name: String, level: usize) -> Node {
    if !ctx.file.contains(path) {
        return Node {
            name,
            path: path.to_string(),
            kind: "none",
            repr: Some("None".into()),
            value: Some(serde_json::Value::Null),
            ..Node::default()
        };
    }
    match ctx.file.entry(path) {
        Ok(e) => build(ctx, &e, name, level),
        Err(e) => {
            let mut node = Node {
                name,
                path: path.to_string(),
                kind: "other",
                ..Node::default()
            };
            fail(ctx, &mut node, e);
            node
        }
    }
}

/// The attributes (`@name`) and links of a group without a class tag, as plain HDF5.
fn plain_group(ctx: &mut Ctx, path: &str, level: usize) -> Vec<Node> {
    let file = ctx.file;
    let h5 = file.hdf5();
    let group = match h5.group(if path.is_empty() { "/" } else { path }) {
        Ok(g) => g,
        Err(e) => {
            let mut node = Node {
                name: "?".into(),
                path: path.into(),
                kind: "other",
                ..Node::default()
            };
            fail(ctx, &mut node, e);
            return vec![node];
        }
    };
    let mut out = Vec::new();
    for name in group.attr_names().unwrap_or_default() {
        let p = join(path, &name);
        let mut node = Node {
            name: format!("@{name}"),
            path: p.clone(),
            kind: "attribute",
            attribute: true,
            ..Node::default()
        };
        if let Ok(attr) = group.attr(&name) {
            node.dtype = attr.dtype().ok().map(|t| dtype_name(&t));
            let shape = attr.shape();
            if shape.is_empty() {
                if let Ok(v) = ctx.file.read::<Value>(&p) {
                    set_scalar(&mut node, &v);
                }
            } else {
                node.shape = Some(shape);
            }
        }
        out.push(node);
    }
    for name in group.member_names().unwrap_or_default() {
        let p = join(path, &name);
        out.push(member(ctx, &p, name, level));
    }
    out
}

fn set_scalar(node: &mut Node, v: &Value) {
    node.repr = scalar_repr(v);
    if let Some(d) = scalar_dtype(v) {
        node.dtype = Some(d.into());
    } else if matches!(v, Value::Str(_)) {
        node.dtype = Some("str".into());
    }
    node.shape = None;
    node.value = Some(crate::json::value_json(v, crate::ArraysAs::Summary));
}

fn fail(ctx: &mut Ctx, node: &mut Node, e: impl std::fmt::Display) {
    ctx.errors += 1;
    node.error = Some(e.to_string());
}

fn dtype_name(t: &anam::hdf5::Datatype) -> String {
    match t.to_descriptor() {
        Ok(d) => d.to_string(),
        Err(_) => "unknown type".into(),
    }
}

fn hdf5_dtype(h5: &anam::hdf5::File, path: &str) -> Option<String> {
    if let Ok(ds) = h5.dataset(path) {
        return ds.dtype().ok().map(|t| dtype_name(&t));
    }
    let (parent, name) = path.rsplit_once('/').unwrap_or(("/", path));
    let parent = if parent.is_empty() { "/" } else { parent };
    let attr = h5.group(parent).ok()?.attr(name).ok()?;
    attr.dtype().ok().map(|t| dtype_name(&t))
}

/// How the dataset at `path` is stored (`None` when it is not a dataset).
pub fn storage(h5: &anam::hdf5::File, path: &str) -> Option<Storage> {
    use anam::hdf5::filters::Filter;
    let ds = h5.dataset(path).ok()?;
    let filters: Vec<String> = ds
        .filters()
        .iter()
        .map(|f| match f {
            Filter::Deflate(level) => format!("gzip({level})"),
            Filter::Shuffle => "shuffle".into(),
            Filter::Fletcher32 => "fletcher32".into(),
            Filter::SZip(..) => "szip".into(),
            Filter::NBit => "nbit".into(),
            Filter::ScaleOffset(_) => "scaleoffset".into(),
            other => format!("{other:?}").to_lowercase(),
        })
        .collect();
    let bytes = ds.storage_size();
    let logical = ds.size() as u64 * ds.dtype().map_or(0, |t| t.size() as u64);
    let ratio = (!filters.is_empty() && bytes > 0).then(|| logical as f64 / bytes as f64);
    Some(Storage {
        layout: format!("{:?}", ds.layout()).to_lowercase(),
        chunks: ds.chunk(),
        filters,
        bytes,
        ratio,
    })
}

/// The text of a node's line.
fn label(node: &Node) -> String {
    let mut s = String::new();
    match node.kind {
        "file" => s.push_str(&node.name.bold().to_string()),
        "group" => s.push_str(&format!("{}/", node.name.blue().bold())),
        _ => s.push_str(&node.name.bold().to_string()),
    }
    let dim = |t: String| t.dimmed().to_string();
    match node.kind {
        "object" => {
            s.push_str(&format!("  {}", node.class.as_deref().unwrap_or("").cyan()));
            if let Some(n) = node.len {
                s.push_str(&format!("  {}", dim(format!("[{n} members]"))));
            }
        }
        "list" => s.push_str(&format!(
            "  {} {}",
            match &node.class {
                Some(c) => format!("list ({c})").cyan().to_string(),
                None => "list".cyan().to_string(),
            },
            dim(format!("[{} items]", node.len.unwrap_or(0)))
        )),
        "dict" => s.push_str(&format!(
            "  {} {}",
            "dict".cyan(),
            dim(format!("[{} entries]", node.len.unwrap_or(0)))
        )),
        "array" | "dataset" | "attribute" if node.repr.is_none() => {
            s.push_str(&format!(
                "  {} {}",
                node.dtype.as_deref().unwrap_or("?").yellow(),
                node.shape.as_deref().map(shape_str).unwrap_or_default()
            ));
            if node.class.is_some() {
                s.push_str(&format!("  {}", dim("empty array".into())));
            } else if let Some(st) = &node.storage {
                s.push_str(&format!("  {}", dim(storage_text(st))));
            } else if node.attribute && node.kind != "attribute" {
                s.push_str(&format!("  {}", dim("attribute".into())));
            }
        }
        _ => {}
    }
    if let Some(r) = &node.repr {
        let r = if r.chars().count() > 60 {
            format!("{}...", r.chars().take(57).collect::<String>())
        } else {
            r.clone()
        };
        s.push_str(&format!(" = {}", r.green()));
        if let Some(d) = &node.dtype {
            if d != "str" {
                s.push_str(&format!("  {}", dim(d.clone())));
            }
        }
    }
    if let Some(e) = &node.error {
        s.push_str(&format!("  {}", format!("error: {e}").red()));
    }
    s
}

fn storage_text(st: &Storage) -> String {
    let mut s = st.layout.clone();
    if let Some(c) = &st.chunks {
        s.push_str(&format!(" {}", shape_str(c)));
    }
    for f in &st.filters {
        s.push_str(&format!(", {f}"));
    }
    if let Some(r) = st.ratio {
        s.push_str(&format!(", ratio {r:.2}"));
    }
    s.push_str(&format!(", {} on disk", util::bytes(st.bytes)));
    s
}

fn to_termtree(node: &Node) -> termtree::Tree<String> {
    let mut t = termtree::Tree::new(label(node));
    for c in &node.children {
        t.push(to_termtree(c));
    }
    if node.more > 0 {
        let what = match node.kind {
            "list" => "items",
            "dict" => "entries",
            _ => "",
        };
        let text = if node.children.is_empty() && what.is_empty() {
            "...".to_string()
        } else if what.is_empty() {
            format!("... {} more", node.more)
        } else {
            format!("... {} more {what}", node.more)
        };
        t.push(termtree::Tree::new(text.dimmed().to_string()));
    }
    t
}
