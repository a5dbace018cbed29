//! Class tags known at run time: aliases (old tag -> current tag), filled at link time.
//!
//! Until the `Anam` derive registers classes automatically, an alias is declared with
//! [`alias!`](crate::alias), which submits an [`Alias`] to this registry.

use std::collections::HashMap;
use std::sync::OnceLock;

/// One alias: files whose `class` is `old` load as the type whose tag is `current`.
#[derive(Debug)]
pub struct Alias {
    /// The tag found in older files.
    pub old: &'static str,
    /// The tag of the type that reads them.
    pub current: &'static str,
}

inventory::collect!(Alias);

/// Declares that groups tagged `old` load as the type tagged `current`.
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

fn aliases() -> &'static HashMap<&'static str, Vec<&'static str>> {
    static MAP: OnceLock<HashMap<&'static str, Vec<&'static str>>> = OnceLock::new();
    MAP.get_or_init(|| {
        let mut map: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        for a in inventory::iter::<Alias> {
            map.entry(a.old).or_default().push(a.current);
        }
        map
    })
}

/// Whether a group tagged `found` may be read as the type tagged `expected`.
pub(crate) fn tag_matches(expected: &str, found: &str) -> bool {
    expected == found
        || aliases()
            .get(found)
            .is_some_and(|targets| targets.contains(&expected))
}
