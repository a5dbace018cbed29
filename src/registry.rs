//! The class registry: every class tag the program knows, filled at link time.
//!
//! `#[anam::class]` submits one [`ClassInfo`] per class (through `inventory`); plain
//! aliases can be declared with [`alias!`](crate::alias). The registry is built on first
//! use. Two types claiming one tag (or alias) is an error naming both types, reported by
//! [`check`] and by every call that needs the registry, never a silent overwrite.
//!
//! Hints (old tag -> new tag, as Python's `ClassRegister().add_hint`) can be added at run
//! time with [`add_hint`].

use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

use crate::error::{Error, ErrorKind, Result};
use crate::object::AnamObject;
use crate::write_options::FieldStorage;

/// What the registry knows of one class, submitted by `#[anam::class]` (and by
/// [`Store`](crate::Store) and [`collection!`](crate::collection)) through a hidden
/// constructor; read it with the accessors.
#[derive(Debug)]
pub struct ClassInfo {
    tag: &'static str,
    type_name: &'static str,
    aliases: &'static [&'static str],
    default_group: Option<&'static str>,
    name_maps: &'static [(&'static str, &'static str)],
    bcast_only: &'static [&'static str],
    extra_data: Option<&'static str>,
    load: LoadFn,
    storage: &'static [(&'static str, FieldStorage)],
}

/// Deserializes a registered class into a boxed [`AnamObject`].
#[doc(hidden)]
pub type LoadFn = fn(
    &mut dyn erased_serde::Deserializer<'_>,
) -> std::result::Result<Box<dyn AnamObject>, erased_serde::Error>;

/// What a field of a registered class is when the class is written: not written
/// (`bcast_only`), the class's `extra_data` (its entries become members), or a member
/// stored under `name` (the field's own name, or the stored name its name map gives,
/// with `mapped_from` the field's name).
pub(crate) enum FieldRole {
    Skipped,
    ExtraData,
    Stored {
        name: &'static str,
        mapped_from: Option<&'static str>,
    },
}

impl ClassInfo {
    /// The registration of a class: its tag, Rust type, aliases, default group, name maps
    /// (`(member, stored)`), `bcast_only` members, `extra_data` member and load function.
    /// For the crate's macros, which name every part.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn new(
        tag: &'static str,
        type_name: &'static str,
        aliases: &'static [&'static str],
        default_group: Option<&'static str>,
        name_maps: &'static [(&'static str, &'static str)],
        bcast_only: &'static [&'static str],
        extra_data: Option<&'static str>,
        load: LoadFn,
    ) -> ClassInfo {
        ClassInfo {
            tag,
            type_name,
            aliases,
            default_group,
            name_maps,
            bcast_only,
            extra_data,
            load,
            storage: &[],
        }
    }

    /// This registration with the storage options of fields (`(member, options)`, from
    /// their `#[anam(compress = ..., chunks = ...)]`). For the crate's macros.
    #[doc(hidden)]
    pub const fn with_storage(
        mut self,
        storage: &'static [(&'static str, FieldStorage)],
    ) -> ClassInfo {
        self.storage = storage;
        self
    }

    /// The class tag (Python's fully qualified class name).
    pub fn tag(&self) -> &'static str {
        self.tag
    }

    /// The Rust type, for error messages.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// Older tags this class also reads.
    pub fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }

    /// The group `T::from_file` reads and `obj.to_file` writes.
    pub fn default_group(&self) -> Option<&'static str> {
        self.default_group
    }

    /// `(member name, stored name)` pairs: the member is stored under another name and the
    /// group gets a `namemaps` attribute (Python's `hdf5_mapnames`).
    pub fn name_maps(&self) -> &'static [(&'static str, &'static str)] {
        self.name_maps
    }

    /// Members sent over MPI but never written to HDF5 (Python's `extra_bcast`).
    pub fn bcast_only(&self) -> &'static [&'static str] {
        self.bcast_only
    }

    /// The member holding `extra_data`, if any: stored entries that are not members load
    /// into it, and its entries are written beside the members.
    pub fn extra_data(&self) -> Option<&'static str> {
        self.extra_data
    }

    /// What the field `key` of this class is when the class is written (see
    /// [`FieldRole`]).
    pub(crate) fn field_role(&self, key: &'static str) -> FieldRole {
        if self.bcast_only.contains(&key) {
            return FieldRole::Skipped;
        }
        if self.extra_data == Some(key) {
            return FieldRole::ExtraData;
        }
        match self.name_maps.iter().find(|(member, _)| *member == key) {
            Some(&(member, stored)) => FieldRole::Stored {
                name: stored,
                mapped_from: Some(member),
            },
            None => FieldRole::Stored {
                name: key,
                mapped_from: None,
            },
        }
    }

    /// The storage options of the member `field` (its Serde name), if it has any: they
    /// replace the write's [`WriteOptions`](crate::WriteOptions) for its datasets.
    pub fn storage(&self, field: &str) -> Option<&'static FieldStorage> {
        self.storage
            .iter()
            .find(|(member, _)| *member == field)
            .map(|(_, storage)| storage)
    }

    /// Deserializes one object of this class from any of the crate's formats, through its
    /// type-erased load function.
    pub(crate) fn load<'de, D>(&self, de: D) -> Result<Box<dyn AnamObject>>
    where
        D: serde::Deserializer<'de, Error = Error>,
    {
        (self.load)(&mut <dyn erased_serde::Deserializer>::erase(de))
            .map_err(|e| Error::new(ErrorKind::Message(e.to_string())))
    }
}

inventory::collect!(ClassInfo);

/// One alias declared with [`alias!`](crate::alias): groups tagged `old` load as the type
/// whose tag is `current`.
#[derive(Debug)]
pub struct Alias {
    /// The tag found in older files.
    pub old: &'static str,
    /// The tag of the type that reads them.
    pub current: &'static str,
}

inventory::collect!(Alias);

/// Declares that groups tagged `old` load as the type tagged `current` (for types without
/// `#[anam::class(aliases(...))]`).
///
/// ```
/// anam::alias!("test_classes2.OldComplexPerson" => "test_classes2.ComplexPerson");
/// ```
#[macro_export]
macro_rules! alias {
    ($old:expr => $current:expr) => {
        $crate::__private::inventory::submit! {
            $crate::registry::Alias { old: $old, current: $current }
        }
    };
}

struct Registry {
    /// Tag -> class.
    classes: HashMap<&'static str, &'static ClassInfo>,
    /// Alias -> current tags (an alias may be claimed by several only through `alias!`).
    aliases: HashMap<&'static str, Vec<&'static str>>,
    /// Conflicts by tag (or alias), reported by every lookup of that tag.
    conflicts: HashMap<&'static str, String>,
}

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut classes: HashMap<&'static str, &'static ClassInfo> = HashMap::new();
        let mut aliases: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        let mut conflicts: HashMap<&'static str, String> = HashMap::new();
        for info in inventory::iter::<ClassInfo> {
            if let Some(other) = classes.insert(info.tag, info) {
                conflicts.entry(info.tag).or_insert(format!(
                    "class tag `{}` is claimed by both `{}` and `{}`",
                    info.tag, other.type_name, info.type_name
                ));
            }
        }
        for info in inventory::iter::<ClassInfo> {
            for &alias in info.aliases {
                if let Some(owner) = classes.get(alias) {
                    conflicts.entry(alias).or_insert(format!(
                        "alias `{alias}` of `{}` is the tag of `{}`",
                        info.type_name, owner.type_name
                    ));
                }
                let targets = aliases.entry(alias).or_default();
                if let Some(prev) = targets.first() {
                    let prev = classes.get(prev).map_or(*prev, |c| c.type_name);
                    conflicts.entry(alias).or_insert(format!(
                        "alias `{alias}` is claimed by both `{prev}` and `{}`",
                        info.type_name
                    ));
                }
                targets.push(info.tag);
            }
        }
        for a in inventory::iter::<Alias> {
            let targets = aliases.entry(a.old).or_default();
            if !targets.contains(&a.current) {
                targets.push(a.current);
            }
        }
        Registry {
            classes,
            aliases,
            conflicts,
        }
    })
}

fn hints() -> &'static RwLock<HashMap<String, String>> {
    static HINTS: OnceLock<RwLock<HashMap<String, String>>> = OnceLock::new();
    HINTS.get_or_init(Default::default)
}

/// Checks the registry: `Err` names both types when two claim one tag or alias.
///
/// Call it at the start of `main` to fail fast; every registry lookup reports the same
/// error anyway.
pub fn check() -> Result<()> {
    let mut all: Vec<&String> = registry().conflicts.values().collect();
    all.sort();
    match all.first() {
        Some(msg) => Err(ErrorKind::Registry((*msg).clone()).into()),
        None => Ok(()),
    }
}

/// Adds a hint: groups tagged `old` load as the class tagged `new` (a renamed class).
pub fn add_hint(old: impl Into<String>, new: impl Into<String>) {
    hints()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(old.into(), new.into());
}

/// The class information for `tag`, following hints and aliases.
pub fn lookup(tag: &str) -> Result<Option<&'static ClassInfo>> {
    let reg = registry();
    let hinted = hints()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(tag)
        .cloned();
    let tag = hinted.as_deref().unwrap_or(tag);
    check()?;
    if let Some(info) = reg.classes.get(tag) {
        return Ok(Some(info));
    }
    Ok(reg
        .aliases
        .get(tag)
        .and_then(|targets| targets.iter().find_map(|t| reg.classes.get(t).copied())))
}

/// The class information of the type whose tag is exactly `tag` (no hints or aliases).
///
/// Fails when the registry has a conflict: a typed read or write must not silently use
/// the options of whichever claimant happened to be registered.
pub(crate) fn info_for(tag: &str) -> Result<Option<&'static ClassInfo>> {
    check()?;
    Ok(registry().classes.get(tag).copied())
}

/// Whether a group tagged `found` may be read as the type tagged `expected`.
pub(crate) fn tag_matches(expected: &str, found: &str) -> bool {
    if expected == found {
        return true;
    }
    let reg = registry();
    let via_alias = |tag: &str| reg.aliases.get(tag).is_some_and(|t| t.contains(&expected));
    if via_alias(found) {
        return true;
    }
    let hinted = hints()
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .get(found)
        .cloned();
    hinted.is_some_and(|h| h == expected || via_alias(&h))
}

/// The class for `tag` (following hints and aliases), or an error naming the tag.
pub(crate) fn class_for(tag: &str) -> Result<&'static ClassInfo> {
    lookup(tag)?.ok_or_else(|| ErrorKind::UnknownClass(tag.to_string()).into())
}
