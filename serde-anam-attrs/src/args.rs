//! Parsing: the arguments of `#[anam::class(...)]`, the `#[anam(...)]` field attributes, and
//! the few `#[serde(...)]` attributes the expansion has to know about.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Error, Expr, ExprLit, ExprPath, Lit, LitStr, Meta, Result, Token};

const CLASS_KEYS: &str = "`class`, `default_group`, `aliases`, `init`";
const FIELD_KEYS: &str = "`extra_data`, `bcast_only`, `name`";

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
