//! The rules of the anamnesis HDF5 layout, in one place.
//!
//! Every name and tag the layout reserves is defined here; the serializer and deserializer
//! use these and nothing else. `docs/FORMAT.md` is the prose version.

/// Attribute holding an object's class tag.
pub const CLASS_ATTR: &str = "class";
/// Attribute holding the element count of lists and dicts.
pub const COUNT_ATTR: &str = "count";
/// Attribute of an object listing `[file name, member name]` pairs.
pub const NAMEMAPS_ATTR: &str = "namemaps";
/// Legacy attribute listing member names stored in the old `LIST_<name><i>` layout.
pub const LEGACY_LISTS_ATTR: &str = "LISTS";
/// Prefix Python anamnesis reserves for list machinery; entries starting with it are
/// never members.
pub const LIST_PREFIX: &str = "LIST";

/// Class tag of a list group.
pub const LIST_CLASS: &str = "anamnesis.abstract.AnamList";
/// Class tag of a dict group.
pub const DICT_CLASS: &str = "anamnesis.abstract.AnamDict";
/// Class tag of the group standing for an empty or 0-d array.
pub const EMPTY_ARRAY_CLASS: &str = "anamnesis.abstract.AnamEmptyArray";

/// Sub-list of a dict group holding the keys.
pub const DICT_KEYS: &str = "dictkeys";
/// Sub-list of a dict group holding the values.
pub const DICT_DATA: &str = "dictdata";

/// Dataset of an empty-array group holding the shape (absent for 0-d arrays).
pub const EMPTY_SHAPE: &str = "shape";
/// Dataset of an empty-array group whose dtype is the array's dtype (2 elements).
pub const EMPTY_DTYPE: &str = "dtype";
/// Scalar dataset holding the value of a 0-d array.
///
/// Python anamnesis stores 0-d arrays as empty arrays and reads them back as zeros; we add
/// this dataset (which Python ignores) so that Rust round-trips the value.
pub const EMPTY_VALUE: &str = "value";

/// The prefix of the names of a list's elements (followed by the element's index).
pub const LIST_ITEM_PREFIX: &str = "LIST_item";

/// The name of element `i` of a list.
pub fn list_item(i: usize) -> String {
    format!("{LIST_ITEM_PREFIX}{i}")
}

/// The `_count` attribute of a legacy list member.
pub fn legacy_list_count(member: &str) -> String {
    format!("LIST_{member}_count")
}

/// The subgroup holding element `i` of a legacy list member.
pub fn legacy_list_item(member: &str, i: usize) -> String {
    format!("LIST_{member}{i}")
}

/// Whether an attribute or link name belongs to the layout rather than to a member.
///
/// Python anamnesis skips `class` and every name starting with `LIST`; `namemaps` is
/// layout too (Python leaks it into `extra_data`, which we do not reproduce).
pub fn is_reserved(name: &str) -> bool {
    name == CLASS_ATTR || name == NAMEMAPS_ATTR || name.starts_with(LIST_PREFIX)
}

/// Names starting with this are the writer's temporary links (an object being put in place
/// of another); readers skip them.
pub const TEMPORARY_PREFIX: &str = ".anam-tmp.";

/// Why `name` cannot be the name of an object's member, if it cannot: the writer refuses
/// such members (a struct field, an `extra_data` key, a `Value` object's member), since
/// they would not read back (`docs/FORMAT.md`, "Member names"). `class` is not refused
/// here: a struct field named `class` is the object's class tag.
pub fn member_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("is empty")
    } else if name == NAMEMAPS_ATTR {
        Some("is the layout's attribute of name maps")
    } else if name.starts_with(LIST_PREFIX) {
        Some(
            "starts with `LIST`, which the layout keeps for list items (Python anamnesis \
             skips every such name)",
        )
    } else if name.contains('/') {
        Some("contains `/`, which separates the names of an HDF5 path")
    } else if name == "." {
        Some("is `.`, HDF5's name for the group itself")
    } else if name.contains('\0') {
        Some("contains a NUL character, which HDF5 names cannot hold")
    } else if name.starts_with(TEMPORARY_PREFIX) {
        Some("starts with `.anam-tmp.`, the writer's temporary names (readers skip them)")
    } else {
        None
    }
}

/// Whether `tag` is a valid class tag: dot-separated identifiers.
pub fn is_valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.split('.').all(|part| {
            let mut chars = part.chars();
            matches!(chars.next(), Some(c) if c.is_alphabetic() || c == '_')
                && chars.all(|c| c.is_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names() {
        assert!(is_reserved("class"));
        assert!(is_reserved("namemaps"));
        assert!(is_reserved("LIST_item0"));
        assert!(is_reserved("LISTS"));
        assert!(!is_reserved("classes"));
        assert!(!is_reserved("list"));
    }

    #[test]
    fn tags() {
        assert!(is_valid_tag("test_classes1.SimplePerson"));
        assert!(is_valid_tag("Point"));
        assert!(!is_valid_tag(""));
        assert!(!is_valid_tag("a..b"));
        assert!(!is_valid_tag("1abc.X"));
        assert!(!is_valid_tag("a.b-c"));
    }

    #[test]
    fn item_names() {
        assert_eq!(list_item(17), "LIST_item17");
        assert_eq!(legacy_list_count("dat"), "LIST_dat_count");
        assert_eq!(legacy_list_item("dat", 2), "LIST_dat2");
    }
}
