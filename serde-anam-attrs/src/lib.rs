//! Procedural macros for `serde-anam`: the [`class`] attribute, used as `anam::class`.

use proc_macro::TokenStream;

mod args;
mod expand;

/// Makes a struct an anam class: a Serde type with a class tag, registered so that
/// `anam::obj_from_file` can load it by its tag.
///
/// Put it **before** `#[derive(Serialize, Deserialize)]`: it adds Serde attributes the
/// derive has to see.
///
/// ```ignore
/// use anam::AnamClass; // for `from_file` and `to_file`
/// use serde::{Deserialize, Serialize};
///
/// #[anam::class(
///     class = "test_classes2.ComplexPerson",
///     default_group = "person",
///     aliases("test_classes2.OldComplexPerson"),
///     init = ComplexPerson::after_load_hook,
/// )]
/// #[derive(Serialize, Deserialize, Debug)]
/// pub struct ComplexPerson {
///     pub name: String,
///     pub age: i64,
///     /// Stored entries that are not members, and written back beside them.
///     #[anam(extra_data)]
///     pub extra: anam::ExtraData,
///     /// Sent over MPI, never written to HDF5.
///     #[anam(bcast_only)]
///     pub cache: Vec<f64>,
///     /// Stored as `order` (Python's `hdf5_mapnames`).
///     #[anam(name = "order")]
///     pub _order: Vec<i64>,
/// }
///
/// impl ComplexPerson {
///     fn after_load_hook(&mut self) {
///         self.cache = vec![self.age as f64];
///     }
/// }
///
/// # fn main() -> anam::Result<()> {
/// let person = ComplexPerson::from_file("person.hdf5")?; // reads the group `person`
/// person.to_file("copy.hdf5")?;
/// let any = anam::obj_from_file("person.hdf5", None)?; // the class named by the file
/// let person: &ComplexPerson = any.downcast_ref().unwrap();
/// # Ok(())
/// # }
/// ```
///
/// # Class options
///
/// All are optional.
///
/// | option | meaning |
/// |---|---|
/// | `class = "module.Name"` | the class tag (Python's fully qualified class name); the struct's name by default |
/// | `default_group = "name"` | the group `T::from_file` reads and `obj.to_file` writes (Python's `hdf5_defaultgroup`) |
/// | `aliases("old.Name", ...)` | older tags that load as this class (Python's `hdf5_aliases`) |
/// | `init = path` | a `fn(&mut Self)` run after every load, nested objects and every Serde format included (Python's `init_from_hdf5`); a path or a string holding one |
///
/// # Field options
///
/// | option | meaning |
/// |---|---|
/// | `#[anam(extra_data)]` | stored entries that are not members load into this map (`anam::ExtraData`, a `BTreeMap` or a `HashMap`), and its entries are written beside the members; one field at most |
/// | `#[anam(bcast_only)]` | sent over MPI but never written to HDF5 (Python's `extra_bcast`) |
/// | `#[anam(name = "stored")]` | the member is stored under another name (Python's `hdf5_mapnames`) |
///
/// `extra_data` and `bcast_only` fields get `#[serde(default)]` (unless the struct has a
/// container `#[serde(default)]`, which already covers them). Member names are the
/// fields' Serde names (after `#[serde(rename)]` and `rename_all`).
///
/// # What it generates
///
/// * `#[serde(rename = "<tag>")]` on the struct: the tag is its Serde name, so a
///   container `#[serde(rename)]` is an error;
/// * `impl anam::AnamClass` with `CLASS`, `DEFAULT_GROUP`, `ALIASES` and, with `init`,
///   `after_load`;
/// * the class's entry in `anam::registry`;
/// * with `init`, a hidden struct with the same fields that Serde deserializes first and
///   converts (`#[serde(from)]`), running the hook: so the hook runs exactly once per
///   object, however it is loaded.
///
/// # Serde attributes a class refuses
///
/// Those that would make the class serialize as something other than its own struct, so
/// that the group loses its class tag or the class cannot read its own files (also behind
/// `cfg_attr`):
///
/// | attribute | what it would do |
/// |---|---|
/// | `#[serde(flatten)]` on a field | Serde writes the whole class as a map: an `AnamDict` group, not an object. Use `#[anam(extra_data)]` for entries beside the members |
/// | `#[serde(transparent)]` | the class is written as its one field |
/// | `#[serde(into = "T")]` | the class is written as a `T`, under `T`'s tag |
/// | `#[serde(from = "T")]`, `try_from` | the class is read as a `T`, which expects `T`'s tag; use `init` for work after loading |
/// | `#[serde(tag = "name")]` beside `#[anam(extra_data)]` | the tag member loads into `extra_data` and is then written twice |
///
/// Other Serde attributes work as usual: `rename` and `rename_all` of fields, `default`,
/// `skip`, `skip_serializing_if`, `with`, `alias`, `deny_unknown_fields`, and a container
/// `tag` without `extra_data` (one more member, holding the class tag; `tag = "class"` is
/// the class attribute itself). Serde itself refuses `untagged` and `content` on structs.
///
/// Generic structs, tuple and unit structs and enums cannot be classes.
#[proc_macro_attribute]
pub fn class(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut args = args::ClassArgs::default();
    let parser = syn::meta::parser(|meta| args.parse(&meta));
    let args = syn::parse::Parser::parse(parser, attr).map(|()| args);
    let item = syn::parse_macro_input!(item as syn::Item);
    match args.and_then(|args| expand::expand(&args, item.clone())) {
        Ok(tokens) => tokens.into(),
        // The item as written (less the field attributes), so that the error does not
        // cascade into every use of the type.
        Err(e) => {
            let mut item = item;
            if let syn::Item::Struct(s) = &mut item {
                for field in &mut s.fields {
                    field.attrs.retain(|a| !a.path().is_ident("anam"));
                }
            }
            let mut tokens = e.into_compile_error();
            tokens.extend(quote::quote!(#item));
            tokens.into()
        }
    }
}
