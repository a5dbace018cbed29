//! Procedural macros for `serde-anam`.
//!
//! The `Anam` derive (class tags, default groups, aliases and registration) lands with the
//! class registry; this crate is a workspace member from the start so the layout is stable.
