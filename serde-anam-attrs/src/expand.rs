//! The expansion of `#[anam::class]`: the struct with its Serde attributes, the
//! `AnamClass` impl, the registry entry and, with `init`, the shadow struct that runs the
//! hook after every deserialization.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Error, Field, Fields, Ident, Item, ItemStruct, LitStr, Meta, Result, Token, Type};

use crate::args::{
    combine, lit_str, rename_field, serde_metas, serde_metas_any_cfg, serialize_str, ClassArgs,
    FieldArgs,
};

/// One field of the class, with what the expansion needs of it.
struct ClassField {
    /// The field as output (`#[anam]` removed, `#[serde(default)]` added if needed).
    field: Field,
    /// The field's Serde name.
    serde_name: String,
    args: FieldArgs,
}

/// What the expansion keeps of the container's `#[serde(...)]` attributes.
#[derive(Default)]
struct Container {
    rename_all: Option<String>,
    default: Option<Meta>,
    /// `tag = "name"` (see [`check_tag`]).
    tag: Option<Meta>,
}

/// The class: its struct (as output) and what was parsed from it.
struct Class {
    item: ItemStruct,
    tag: LitStr,
    fields: Vec<ClassField>,
    container: Container,
    /// The struct's `#[cfg]` attributes, repeated on every generated item.
    cfgs: TokenStream,
}

/// The output of `#[anam::class(args)] item`, or the errors to report.
pub fn expand(args: &ClassArgs, item: Item) -> Result<TokenStream> {
    let mut class = parse_class(args, item)?;
    let ident = class.item.ident.clone();
    let shadow_ident = format_ident!("__AnamLoad{}", ident.unraw());
    let shadow = args
        .init
        .as_ref()
        .map(|_| shadow_struct(&class, &shadow_ident));

    // Last, after the user's derive, which is where Serde's helper attributes belong.
    let tag = &class.tag;
    class
        .item
        .attrs
        .push(syn::parse_quote!(#[serde(rename = #tag)]));
    if args.init.is_some() {
        let from = LitStr::new(&shadow_ident.to_string(), Span::call_site());
        class
            .item
            .attrs
            .push(syn::parse_quote!(#[serde(from = #from)]));
    }
    let class_impl = class_impl(args, &class);
    let registration = registration(args, &class);
    let item = &class.item;
    Ok(quote! {
        #item
        #shadow
        #class_impl
        #registration
    })
}

/// Checks the item and the options, and gives the struct as output (less the `#[anam]`
/// attributes, plus the field defaults).
fn parse_class(args: &ClassArgs, item: Item) -> Result<Class> {
    let mut item = check_item(item)?;
    check_derives(&item)?;
    let mut errors = None;
    let container = container(&item).unwrap_or_else(|e| {
        combine(&mut errors, e);
        Container::default()
    });
    let mut fields = Vec::new();
    for field in &mut item.fields {
        let args = FieldArgs::take(&mut field.attrs).unwrap_or_else(|e| {
            combine(&mut errors, e);
            FieldArgs::default()
        });
        if let Err(e) = check_flatten(field, &args) {
            combine(&mut errors, e);
        }
        let serde_name = serde_name(field, container.rename_all.as_deref());
        // A container `default` already fills them in, from the class's default.
        if (args.extra_data.is_some() || args.bcast_only.is_some()) && container.default.is_none() {
            add_default(field);
        }
        fields.push(ClassField {
            field: field.clone(),
            serde_name,
            args,
        });
    }
    if let Err(e) = check_fields(&fields) {
        combine(&mut errors, e);
    }
    if let Err(e) = check_tag(&container, &fields) {
        combine(&mut errors, e);
    }
    if let Some(e) = errors {
        return Err(e);
    }
    let tag = match &args.class {
        Some(tag) => tag.clone(),
        None => LitStr::new(&item.ident.unraw().to_string(), item.ident.span()),
    };
    let cfgs = item.attrs.iter().filter(|a| a.path().is_ident("cfg"));
    let cfgs = quote!(#(#cfgs)*);
    Ok(Class {
        item,
        tag,
        fields,
        container,
        cfgs,
    })
}

/// The item as a non-generic struct with named fields, or the error saying why not.
fn check_item(item: Item) -> Result<ItemStruct> {
    const NAMED: &str = "anam classes are structs with named fields";
    let item = match item {
        Item::Struct(s) => s,
        Item::Enum(e) => {
            let msg = format!("{NAMED}; #[anam::class] cannot be used on an enum");
            return Err(Error::new_spanned(e.enum_token, msg));
        }
        Item::Union(u) => return Err(Error::new_spanned(u.union_token, NAMED)),
        other => return Err(Error::new_spanned(other, NAMED)),
    };
    match &item.fields {
        Fields::Named(_) => {}
        Fields::Unnamed(fields) => {
            return Err(Error::new_spanned(
                fields,
                format!("{NAMED}, not a tuple struct"),
            ));
        }
        Fields::Unit => {
            return Err(Error::new_spanned(
                &item.ident,
                format!("{NAMED}, not a unit struct"),
            ));
        }
    }
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        return Err(Error::new_spanned(
            &item.generics,
            "anam classes are registered by concrete type; generic structs are not supported",
        ));
    }
    Ok(item)
}

/// Fails unless the struct derives `Serialize` and `Deserialize` after the macro: a derive
/// above it has already run, without the attributes the macro adds.
fn check_derives(item: &ItemStruct) -> Result<()> {
    let mut derived = Vec::new();
    for attr in item.attrs.iter().filter(|a| a.path().is_ident("derive")) {
        // An unparsable derive list is left for rustc to report.
        let Ok(paths) = attr.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
        else {
            return Ok(());
        };
        derived.extend(
            paths
                .into_iter()
                .filter_map(|p| p.segments.last().map(|s| s.ident.clone())),
        );
    }
    if ["Serialize", "Deserialize"]
        .iter()
        .all(|d| derived.iter().any(|i| i == d))
    {
        return Ok(());
    }
    Err(Error::new(
        Span::call_site(),
        "#[anam::class] must come before #[derive(Serialize, Deserialize)]: it adds Serde \
         attributes the derives must see",
    ))
}

/// Container Serde items that make a class serialize as something other than its own
/// struct, and why (each was tried with `to_file`, `from_file` and `obj_from_file`):
///
/// * `transparent`: the class is written as its one field, so the group has the field's
///   tag (a struct field's `class`) or is no group at all (any other field);
/// * `into = "T"`: the class is written as `T`, under `T`'s Serde name: its own
///   `from_file` then fails ("class mismatch: found `T`"), and `obj_from_file` does not
///   know the tag (only a `T` renamed to the class tag would do, which the macro cannot
///   check);
/// * `from = "T"`, `try_from = "T"`: the class is read as `T`, which checks `T`'s Serde
///   name, not the class tag: the class cannot read its own files ("class mismatch: found
///   `module.Name`, expected `T`"); `init` is the hook after loading (and is itself a
///   `from`).
///
/// Not refused:
///
/// * `tag = "name"`: the class stays a struct with its tag, plus a member `name` holding the
///   tag (`tag = "class"` is the class attribute itself); only beside `extra_data` does it
///   break (see [`check_tag`]);
/// * `untagged` and `content`: Serde itself refuses them on a struct ("can only be used on
///   enums").
const REFUSED: &[(&str, &str)] = &[
    (
        "transparent",
        "Serde would write the class as its one field, without the class tag",
    ),
    (
        "into",
        "Serde would write the class as the other type, under that type's tag, so the class \
         could not read it back",
    ),
    ("from", READ_AS_OTHER),
    ("try_from", READ_AS_OTHER),
];

/// Why `from` and `try_from` are refused.
const READ_AS_OTHER: &str = "Serde would read the class as the other type, which checks that \
                             type's tag instead of the class's, so the class could not read \
                             its own files; to run code after every load, use \
                             `#[anam::class(init = path)]`";

/// Reads the container's attributes: anam owns the Serde name and the (de)serialization
/// path.
fn container(item: &ItemStruct) -> Result<Container> {
    let mut errors = None;
    if let Some(attr) = item.attrs.iter().find(|a| a.path().is_ident("anam")) {
        let msg = "`#[anam(...)]` is for fields; class options go in `#[anam::class(...)]`";
        combine(&mut errors, Error::new_spanned(attr, msg));
    }
    // Also behind `cfg_attr`: a class must keep its layout in every configuration.
    for meta in serde_metas_any_cfg(&item.attrs) {
        let key = meta.path();
        if let Some((k, why)) = REFUSED.iter().find(|(k, _)| key.is_ident(k)) {
            let msg = format!("`#[serde({k})]` is not supported on an anam class: {why}");
            combine(&mut errors, Error::new_spanned(key, msg));
        }
    }
    let mut container = Container::default();
    for meta in serde_metas(&item.attrs) {
        let key = meta.path();
        if key.is_ident("rename") {
            let msg = "anam sets the Serde name of a class to its tag: use \
                       `#[anam::class(class = \"module.Name\")]` instead of `#[serde(rename)]`";
            combine(&mut errors, Error::new_spanned(key, msg));
        } else if key.is_ident("rename_all") {
            container.rename_all = serialize_str(&meta);
        } else if key.is_ident("default") {
            container.default = Some(meta);
        } else if key.is_ident("tag") {
            container.tag = Some(meta);
        }
    }
    errors.map_or(Ok(container), Err)
}

/// Fails on a field's `#[serde(flatten)]` (in any of its forms, `cfg_attr` included): Serde
/// then serializes the whole class with `serialize_map`, so it is written as an `AnamDict`
/// group without the class tag, which `obj_from_file` cannot load ("unknown class
/// `anamnesis.abstract.AnamDict`"). Entries beside the members are what `extra_data` is for:
/// the error says so, or, for a field that is not a map, how else to keep its members.
fn check_flatten(field: &Field, args: &FieldArgs) -> Result<()> {
    let Some(meta) = serde_metas_any_cfg(&field.attrs)
        .into_iter()
        .find(|m| m.path().is_ident("flatten"))
    else {
        return Ok(());
    };
    let instead = if args.extra_data.is_some() {
        "remove `flatten`: `#[anam(extra_data)]` already stores this map's entries beside the \
         members"
            .to_string()
    } else if is_map(&field.ty) {
        "use `#[anam(extra_data)]` instead: its entries are stored beside the members, and \
         stored entries that are not members load into it"
            .to_string()
    } else {
        let name = field.ident.as_ref().expect("named field").unraw();
        format!(
            "declare the flattened fields in the class, or store `{name}` as a member object \
             (without `flatten`); for open-ended entries beside the members, use \
             `#[anam(extra_data)]` on a map field"
        )
    };
    Err(Error::new_spanned(
        meta.path(),
        format!(
            "`#[serde(flatten)]` is not supported in an anam class: Serde would write the class \
             as a map (an `AnamDict` group, without the class tag); {instead}"
        ),
    ))
}

/// Fails on a container `tag = "name"` (other than `class`) beside an `extra_data` field:
/// the tag is written as a member `name`, which is no field, so on reading it goes into
/// `extra_data`, and the next write has `name` twice (an error). Without `extra_data` the
/// tag is one more member and round-trips; `tag = "class"` is the class attribute itself.
fn check_tag(container: &Container, fields: &[ClassField]) -> Result<()> {
    let Some(Meta::NameValue(tag)) = &container.tag else {
        return Ok(());
    };
    let Some(name) = lit_str(&tag.value).map(LitStr::value) else {
        return Ok(());
    };
    let Some(extra) = fields.iter().find(|f| f.args.extra_data.is_some()) else {
        return Ok(());
    };
    if name == "class" {
        return Ok(());
    }
    let msg = format!(
        "`#[serde(tag = \"{name}\")]` cannot be used beside `#[anam(extra_data)]`: the tag is \
         stored as a member `{name}`, which would load into `{}` and then be written twice; \
         remove `tag` (the class tag is already the `class` attribute)",
        extra.serde_name
    );
    Err(Error::new_spanned(&tag.path, msg))
}

/// The Serde name of a field: its `rename`, or its name under the container's
/// `rename_all`.
fn serde_name(field: &Field, rename_all: Option<&str>) -> String {
    let ident = field
        .ident
        .as_ref()
        .expect("named field")
        .unraw()
        .to_string();
    serde_metas(&field.attrs)
        .iter()
        .find(|m| m.path().is_ident("rename"))
        .and_then(serialize_str)
        .or_else(|| rename_all.and_then(|rule| rename_field(rule, &ident)))
        .unwrap_or(ident)
}

/// Adds `#[serde(default)]` to a field that has no `default` yet.
fn add_default(field: &mut Field) {
    if !serde_metas(&field.attrs)
        .iter()
        .any(|m| m.path().is_ident("default"))
    {
        field.attrs.push(syn::parse_quote!(#[serde(default)]));
    }
}

/// Checks the anam options of the fields against each other.
fn check_fields(fields: &[ClassField]) -> Result<()> {
    let mut errors = None;
    let mut extra_data: Option<&ClassField> = None;
    for f in fields {
        let FieldArgs {
            extra_data: extra,
            bcast_only,
            name,
        } = &f.args;
        if let Some(span) = extra {
            if !is_map(&f.field.ty) {
                let msg =
                    "`extra_data` must be a map: `anam::ExtraData`, a `BTreeMap` or a `HashMap`";
                combine(&mut errors, Error::new_spanned(&f.field.ty, msg));
            }
            if let Some(first) = extra_data {
                let msg = format!(
                    "a class has at most one `extra_data` field, and `{}` is one already",
                    first.serde_name
                );
                combine(&mut errors, Error::new(*span, msg));
            }
            extra_data = Some(f);
            if bcast_only.is_some() || name.is_some() {
                let msg = "`extra_data` cannot be combined with `bcast_only` or `name`: its \
                           entries are stored beside the members, under their own names";
                combine(&mut errors, Error::new(*span, msg));
            }
        }
        if let (Some(span), Some(_)) = (bcast_only, name) {
            let msg = "`bcast_only` and `name` cannot be combined: a `bcast_only` member is never \
                       written to HDF5, so it has no stored name";
            combine(&mut errors, Error::new(*span, msg));
        }
        if let Some(name) = name {
            if let Err(e) = check_stored_name(name, f, fields) {
                combine(&mut errors, e);
            }
        }
    }
    errors.map_or(Ok(()), Err)
}

/// Checks that the stored `name` of field `f` is no other member's name.
fn check_stored_name(name: &LitStr, f: &ClassField, fields: &[ClassField]) -> Result<()> {
    let stored = name.value();
    if stored == f.serde_name {
        let msg = format!("`{stored}` is already the field's Serde name; remove `name`");
        return Err(Error::new(name.span(), msg));
    }
    let clash = fields.iter().find(|other| {
        !std::ptr::eq(*other, f)
            && (other.serde_name == stored
                || other
                    .args
                    .name
                    .as_ref()
                    .is_some_and(|n| n.value() == stored))
    });
    match clash {
        Some(other) => {
            let msg = format!(
                "stored name `{stored}` clashes with field `{}`: each member needs its own name \
                 in HDF5",
                other.field.ident.as_ref().expect("named field")
            );
            Err(Error::new(name.span(), msg))
        }
        None => Ok(()),
    }
}

/// Whether a type's last path segment is a map `extra_data` can be.
fn is_map(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| {
            s.ident == "ExtraData" || s.ident == "BTreeMap" || s.ident == "HashMap"
        }),
        Type::Group(g) => is_map(&g.elem),
        Type::Paren(p) => is_map(&p.elem),
        _ => false,
    }
}

/// `impl AnamClass`.
fn class_impl(args: &ClassArgs, class: &Class) -> TokenStream {
    let Class {
        item, tag, cfgs, ..
    } = class;
    let ident = &item.ident;
    let default_group = option(args.default_group.as_ref());
    let aliases = args.aliases.as_deref().unwrap_or_default();
    let after_load = args.init.as_ref().map(|init| {
        // Through a fn pointer, so that a hook of another signature is reported as such.
        let hook = quote_spanned!(init.span()=> let hook: fn(&mut Self) = #init;);
        quote! {
            fn after_load(&mut self) {
                #hook
                hook(self)
            }
        }
    });
    quote! {
        #cfgs
        impl ::anam::AnamClass for #ident {
            const CLASS: &'static str = #tag;
            const DEFAULT_GROUP: ::core::option::Option<&'static str> = #default_group;
            const ALIASES: &'static [&'static str] = &[#(#aliases),*];
            #after_load
        }
    }
}

/// The class's entry in the registry.
fn registration(args: &ClassArgs, class: &Class) -> TokenStream {
    let Class {
        item,
        tag,
        fields,
        cfgs,
        ..
    } = class;
    let ident = &item.ident;
    let type_name = ident.to_string();
    let default_group = option(args.default_group.as_ref());
    let aliases = args.aliases.as_deref().unwrap_or_default();
    let name_maps = fields.iter().filter_map(|f| {
        let member = &f.serde_name;
        f.args
            .name
            .as_ref()
            .map(|stored| quote!((#member, #stored)))
    });
    let bcast_only = fields
        .iter()
        .filter(|f| f.args.bcast_only.is_some())
        .map(|f| &f.serde_name);
    let extra_data = option(
        fields
            .iter()
            .find(|f| f.args.extra_data.is_some())
            .map(|f| &f.serde_name),
    );
    quote! {
        #cfgs
        ::anam::__private::inventory::submit! {
            ::anam::registry::ClassInfo::new(
                #tag,
                ::core::concat!(::core::module_path!(), "::", #type_name),
                &[#(#aliases),*],
                #default_group,
                &[#(#name_maps),*],
                &[#(#bcast_only),*],
                #extra_data,
                ::anam::__private::load_object::<#ident>,
            )
        }
    }
}

/// `Some(value)` or `None`, as tokens.
fn option(value: Option<impl ToTokens>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

/// The shadow struct deserialized in place of the class (through `#[serde(from)]`), and the
/// conversion that runs the init hook.
fn shadow_struct(class: &Class, shadow: &Ident) -> TokenStream {
    let Class {
        item,
        tag,
        fields,
        container,
        cfgs,
    } = class;
    let ident = &item.ident;
    // The container's serde items, less those anam owns or rewrites.
    let mut serde_items: Vec<TokenStream> = serde_metas(&item.attrs)
        .into_iter()
        .filter(|m| !["crate", "default"].iter().any(|k| m.path().is_ident(k)))
        .map(ToTokens::into_token_stream)
        .collect();
    // `Self { a: value.a, ... }`.
    let copy_from = |value: TokenStream| {
        let copies = fields.iter().map(|f| {
            let cfg = f.field.attrs.iter().filter(|a| a.path().is_ident("cfg"));
            let name = &f.field.ident;
            quote!(#(#cfg)* #name: #value.#name)
        });
        quote!(Self { #(#copies),* })
    };
    // A container `default` makes the class's default, converted.
    let default_fn = container.default.as_ref().map(|meta| {
        let custom = match meta {
            Meta::NameValue(nv) => lit_str(&nv.value).and_then(|s| s.parse::<syn::ExprPath>().ok()),
            _ => None,
        };
        let make = custom.map_or_else(
            || quote!(::core::default::Default::default()),
            |path| quote!(#path()),
        );
        let path = LitStr::new(&format!("{shadow}::__anam_default"), Span::call_site());
        serde_items.push(quote!(default = #path));
        let copy = copy_from(quote!(__anam_default));
        quote! {
            #cfgs
            impl #shadow {
                fn __anam_default() -> Self {
                    let __anam_default: #ident = #make;
                    #copy
                }
            }
        }
    });
    let shadow_fields = fields.iter().map(|f| {
        let keep = f
            .field
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("serde") || a.path().is_ident("cfg"));
        let (name, ty) = (&f.field.ident, &f.field.ty);
        quote!(#(#keep)* #name: #ty)
    });
    let serde_attr = (!serde_items.is_empty()).then(|| quote!(#[serde(#(#serde_items),*)]));
    let copy = copy_from(quote!(__anam_load));
    quote! {
        #cfgs
        #[doc(hidden)]
        #[derive(::anam::__private::serde::Deserialize)]
        #[serde(crate = "::anam::__private::serde")]
        #[serde(rename = #tag)]
        #serde_attr
        struct #shadow {
            #(#shadow_fields),*
        }

        #default_fn

        #cfgs
        impl ::core::convert::From<#shadow> for #ident {
            fn from(__anam_load: #shadow) -> Self {
                let mut __anam_value = #copy;
                <Self as ::anam::AnamClass>::after_load(&mut __anam_value);
                __anam_value
            }
        }
    }
}
