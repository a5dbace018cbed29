//! Parsing: the arguments of `#[anam::class(...)]`, the `#[anam(...)]` field attributes, and
//! the few `#[serde(...)]` attributes the expansion has to know about.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Error, Expr, ExprLit, ExprPath, Lit, LitBool, LitInt, LitStr, Meta, Result, Token,
};

const CLASS_KEYS: &str = "`class`, `default_group`, `aliases`, `init`";
const FIELD_KEYS: &str = "`extra_data`, `bcast_only`, `name`, `compress`, `shuffle`, \
                          `fletcher32`, `chunks`, `chunk_bytes`, `min_size`, `contiguous`";

/// The arguments of `#[anam::class(...)]`.
#[derive(Default)]
pub struct ClassArgs {
    /// `class = "module.Name"`.
    pub class: Option<LitStr>,
    /// `default_group = "name"`.
    pub default_group: Option<LitStr>,
    /// `aliases("old.Name", ...)`.
    pub aliases: Option<Vec<LitStr>>,
    /// `init = path::to::hook` or `init = "path::to::hook"`.
    pub init: Option<ExprPath>,
}

impl ClassArgs {
    /// Parses one `key = value` or `key(...)` of the argument list.
    pub fn parse(&mut self, meta: &ParseNestedMeta) -> Result<()> {
        let key = key_of(meta);
        match key.as_str() {
            "class" => {
                let tag: LitStr = meta.value()?.parse()?;
                check_tag(&tag, "class tag")?;
                set_once(&mut self.class, tag, meta)
            }
            "default_group" => {
                let group: LitStr = meta.value()?.parse()?;
                if group.value().is_empty() {
                    return Err(Error::new(
                        group.span(),
                        "`default_group` must not be empty",
                    ));
                }
                set_once(&mut self.default_group, group, meta)
            }
            "aliases" => {
                if meta.input.peek(Token![=]) {
                    return Err(meta.error(r#"expected `aliases("old.Tag", ...)`"#));
                }
                let content;
                syn::parenthesized!(content in meta.input);
                let list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                for alias in &list {
                    check_tag(alias, "alias")?;
                }
                set_once(&mut self.aliases, list.into_iter().collect(), meta)
            }
            "init" => {
                let value = meta.value()?;
                let path = if value.peek(LitStr) {
                    value.parse::<LitStr>()?.parse::<ExprPath>()?
                } else {
                    value.parse::<ExprPath>()?
                };
                set_once(&mut self.init, path, meta)
            }
            _ => Err(meta.error(format!(
                "unknown key `{key}` in #[anam::class(...)]; expected one of {CLASS_KEYS}"
            ))),
        }
    }
}

/// The `#[anam(...)]` attributes of one field (each key gives the span of its mention).
#[derive(Default)]
pub struct FieldArgs {
    pub extra_data: Option<Span>,
    pub bcast_only: Option<Span>,
    pub name: Option<LitStr>,
    pub storage: StorageArgs,
}

/// The storage options of a field's datasets (`anam::FieldStorage`).
#[derive(Default)]
pub struct StorageArgs {
    /// `compress = "gzip:4"`: the literal and the compression it names.
    pub compress: Option<(LitStr, Compression)>,
    /// `shuffle` or `shuffle = bool`.
    pub shuffle: Option<(Span, bool)>,
    /// `fletcher32` or `fletcher32 = bool`.
    pub fletcher32: Option<(Span, bool)>,
    /// `chunks = [a, b, ...]`.
    pub chunks: Option<(Span, Vec<u64>)>,
    /// `chunk_bytes = n`.
    pub chunk_bytes: Option<(Span, u64)>,
    /// `min_size = n`.
    pub min_size: Option<(Span, u64)>,
    /// `contiguous`.
    pub contiguous: Option<Span>,
}

impl StorageArgs {
    /// The span of the first storage key given, if any.
    pub fn first(&self) -> Option<Span> {
        [
            self.compress.as_ref().map(|(l, _)| l.span()),
            self.shuffle.map(|(s, _)| s),
            self.fletcher32.map(|(s, _)| s),
            self.chunks.as_ref().map(|(s, _)| *s),
            self.chunk_bytes.map(|(s, _)| s),
            self.min_size.map(|(s, _)| s),
            self.contiguous,
        ]
        .into_iter()
        .flatten()
        .next()
    }

    /// Fails on keys that contradict each other.
    fn check(&self) -> Result<()> {
        if let Some(span) = self.contiguous {
            let others = [
                self.compress.is_some(),
                self.shuffle.is_some_and(|(_, on)| on),
                self.fletcher32.is_some_and(|(_, on)| on),
                self.chunks.is_some(),
                self.chunk_bytes.is_some(),
            ];
            if others.iter().any(|&o| o) {
                return Err(Error::new(
                    span,
                    "`contiguous` stores the field's arrays unchunked and unfiltered: it \
                     cannot be combined with `compress`, `shuffle`, `fletcher32`, `chunks` or \
                     `chunk_bytes`",
                ));
            }
        }
        if let (Some((span, _)), Some(_)) = (&self.chunks, &self.chunk_bytes) {
            return Err(Error::new(
                *span,
                "`chunks` and `chunk_bytes` cannot be combined: give a chunk shape or a chunk \
                 size",
            ));
        }
        Ok(())
    }
}

/// A compression named by `compress = "..."` (`anam::Compression`).
#[derive(Clone, Copy)]
pub enum Compression {
    None,
    Gzip(u8),
    Lzf,
    Zstd(i32),
}

impl Compression {
    /// Parses `none`, `gzip`, `gzip:N` (0-9), `lzf`, `zstd`, `zstd:N` (1-22), as
    /// `anam::Compression`'s `FromStr` does.
    fn parse(lit: &LitStr) -> Result<Compression> {
        let text = lit.value();
        let bad = |why: &str| {
            Error::new(
                lit.span(),
                format!(
                    "`{text}` is not a compression{why}: expected \"none\", \"gzip\", \
                     \"gzip:N\" (N from 0 to 9), \"lzf\", \"zstd\" or \"zstd:N\" (N from 1 to 22)"
                ),
            )
        };
        let (name, level) = match text.split_once(':') {
            Some((name, level)) => (name, Some(level)),
            None => (text.as_str(), None),
        };
        match (name, level) {
            ("none", None) => Ok(Compression::None),
            ("lzf", None) => Ok(Compression::Lzf),
            ("gzip", None) => Ok(Compression::Gzip(4)),
            ("zstd", None) => Ok(Compression::Zstd(3)),
            ("gzip", Some(l)) => match l.parse::<u8>() {
                Ok(level) if level <= 9 => Ok(Compression::Gzip(level)),
                _ => Err(bad(" (a gzip level is 0 to 9)")),
            },
            ("zstd", Some(l)) => match l.parse::<i32>() {
                Ok(level) if (1..=22).contains(&level) => Ok(Compression::Zstd(level)),
                _ => Err(bad(" (a zstd level is 1 to 22)")),
            },
            ("none" | "lzf", Some(_)) => Err(bad(" (it takes no level)")),
            _ => Err(bad("")),
        }
    }
}

/// A flag key: `key` alone is `true`, or `key = true|false`.
fn flag(meta: &ParseNestedMeta) -> Result<bool> {
    if meta.input.peek(Token![=]) {
        Ok(meta.value()?.parse::<LitBool>()?.value)
    } else {
        Ok(true)
    }
}

/// `key = N`, an integer literal of at least `min`.
fn integer(meta: &ParseNestedMeta, min: u64) -> Result<u64> {
    let lit: LitInt = meta.value()?.parse()?;
    let value: u64 = lit.base10_parse()?;
    if value < min {
        return Err(Error::new(
            lit.span(),
            format!("`{}` must be at least {min}", key_of(meta)),
        ));
    }
    Ok(value)
}

impl FieldArgs {
    /// Parses and removes the `#[anam(...)]` attributes of a field.
    pub fn take(attrs: &mut Vec<Attribute>) -> Result<Self> {
        let mut args = FieldArgs::default();
        let mut error: Option<Error> = None;
        attrs.retain(|attr| {
            if !attr.path().is_ident("anam") {
                return true;
            }
            if let Err(e) = attr.parse_nested_meta(|meta| args.parse(&meta)) {
                combine(&mut error, e);
            }
            false
        });
        if error.is_none() {
            if let Err(e) = args.storage.check() {
                combine(&mut error, e);
            }
        }
        match error {
            Some(e) => Err(e),
            None => Ok(args),
        }
    }

    fn parse(&mut self, meta: &ParseNestedMeta) -> Result<()> {
        let key = key_of(meta);
        let span = meta.path.span();
        match key.as_str() {
            "extra_data" => set_once(&mut self.extra_data, span, meta),
            "bcast_only" => set_once(&mut self.bcast_only, span, meta),
            "name" => {
                let name: LitStr = meta.value()?.parse()?;
                if name.value().is_empty() || name.value().contains('/') {
                    return Err(Error::new(
                        name.span(),
                        "the stored `name` must be non-empty and contain no `/`",
                    ));
                }
                set_once(&mut self.name, name, meta)
            }
            "compress" => {
                let lit: LitStr = meta.value()?.parse()?;
                let compression = Compression::parse(&lit)?;
                set_once(&mut self.storage.compress, (lit, compression), meta)
            }
            "shuffle" => set_once(&mut self.storage.shuffle, (span, flag(meta)?), meta),
            "fletcher32" => set_once(&mut self.storage.fletcher32, (span, flag(meta)?), meta),
            "chunks" => {
                let value = meta.value()?;
                let content;
                syn::bracketed!(content in value);
                let list = Punctuated::<LitInt, Token![,]>::parse_terminated(&content)?;
                let mut chunks = Vec::new();
                for lit in &list {
                    let n: u64 = lit.base10_parse()?;
                    if n == 0 {
                        return Err(Error::new(lit.span(), "a chunk length must be at least 1"));
                    }
                    chunks.push(n);
                }
                if chunks.is_empty() {
                    return Err(meta.error(
                        "`chunks` needs at least one length, one per axis: `chunks = [64, 64]`",
                    ));
                }
                set_once(&mut self.storage.chunks, (span, chunks), meta)
            }
            "chunk_bytes" => {
                let bytes = integer(meta, 1)?;
                set_once(&mut self.storage.chunk_bytes, (span, bytes), meta)
            }
            "min_size" => {
                let bytes = integer(meta, 0)?;
                set_once(&mut self.storage.min_size, (span, bytes), meta)
            }
            "contiguous" => set_once(&mut self.storage.contiguous, span, meta),
            _ => Err(meta.error(format!(
                "unknown key `{key}` in #[anam(...)]; expected one of {FIELD_KEYS}"
            ))),
        }
    }
}

/// The key of a nested meta, as written.
fn key_of(meta: &ParseNestedMeta) -> String {
    let path = &meta.path;
    quote::quote!(#path).to_string().replace(' ', "")
}

/// Stores `value` in `slot`, or fails on the key if the key was given before.
fn set_once<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta) -> Result<()> {
    if slot.is_some() {
        return Err(Error::new_spanned(
            &meta.path,
            format!("duplicate key `{}`", key_of(meta)),
        ));
    }
    *slot = Some(value);
    Ok(())
}

/// Adds `e` to the errors collected so far.
pub fn combine(errors: &mut Option<Error>, e: Error) {
    match errors {
        Some(all) => all.combine(e),
        None => *errors = Some(e),
    }
}

/// Fails unless `tag` is dot-separated identifiers (`anam::format::is_valid_tag`).
fn check_tag(tag: &LitStr, what: &str) -> Result<()> {
    let value = tag.value();
    let valid = !value.is_empty()
        && value.split('.').all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_')
        });
    if valid {
        Ok(())
    } else {
        Err(Error::new(
            tag.span(),
            format!(
                "`{value}` is not a valid {what}: expected dot-separated identifiers, such as \
                 `module.ClassName`"
            ),
        ))
    }
}

/// The items of every `#[serde(...)]` attribute in `attrs` (attributes serde itself would
/// reject are skipped: serde reports them).
pub fn serde_metas(attrs: &[Attribute]) -> Vec<Meta> {
    attrs
        .iter()
        .filter(|attr| attr.path().is_ident("serde"))
        .filter_map(|attr| {
            attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
        .collect()
}

/// The items of every `#[serde(...)]` attribute in `attrs`, and of those behind
/// `#[cfg_attr(predicate, serde(...))]` whatever the predicate (an attribute macro sees
/// `cfg_attr` unexpanded). For the checks of the items a class refuses, which must hold in
/// every configuration; the names and defaults the expansion computes come from
/// [`serde_metas`] only.
pub fn serde_metas_any_cfg(attrs: &[Attribute]) -> Vec<Meta> {
    let mut metas = serde_metas(attrs);
    for attr in attrs.iter().filter(|a| a.path().is_ident("cfg_attr")) {
        if let Meta::List(list) = &attr.meta {
            metas.extend(cfg_attr_serde_metas(list));
        }
    }
    metas
}

/// The serde items of `cfg_attr(predicate, attr, ...)`, nested `cfg_attr`s included.
fn cfg_attr_serde_metas(list: &syn::MetaList) -> Vec<Meta> {
    let Ok(items) = list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) else {
        return Vec::new();
    };
    let mut metas = Vec::new();
    // The first item is the predicate.
    for item in items.iter().skip(1) {
        let Meta::List(inner) = item else { continue };
        if inner.path.is_ident("serde") {
            if let Ok(nested) =
                inner.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            {
                metas.extend(nested);
            }
        } else if inner.path.is_ident("cfg_attr") {
            metas.extend(cfg_attr_serde_metas(inner));
        }
    }
    metas
}

/// The string a serde item gives for serialization: `key = "s"` or
/// `key(serialize = "s", ...)`.
pub fn serialize_str(meta: &Meta) -> Option<String> {
    match meta {
        Meta::NameValue(nv) => lit_str(&nv.value).map(LitStr::value),
        Meta::List(list) => list
            .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .ok()?
            .iter()
            .find(|m| m.path().is_ident("serialize"))
            .and_then(serialize_str),
        Meta::Path(_) => None,
    }
}

/// The string literal `expr` is, if it is one.
pub fn lit_str(expr: &Expr) -> Option<&LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s),
        _ => None,
    }
}

/// The name serde gives a field under a container `rename_all = rule` (serde's rules for
/// `snake_case` field names).
pub fn rename_field(rule: &str, field: &str) -> Option<String> {
    let pascal = || {
        field
            .split('_')
            .map(|word| {
                let mut chars = word.chars();
                chars.next().map_or_else(String::new, |c| {
                    c.to_ascii_uppercase().to_string() + chars.as_str()
                })
            })
            .collect::<String>()
    };
    Some(match rule {
        "lowercase" | "snake_case" => field.to_string(),
        "UPPERCASE" | "SCREAMING_SNAKE_CASE" => field.to_ascii_uppercase(),
        "PascalCase" => pascal(),
        "camelCase" => {
            let p = pascal();
            let mut chars = p.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_lowercase().to_string() + chars.as_str()
            })
        }
        "kebab-case" => field.replace('_', "-"),
        "SCREAMING-KEBAB-CASE" => field.to_ascii_uppercase().replace('_', "-"),
        _ => return None,
    })
}
