//! The scope of one read: its byte budget and whether it may read outside the file (see
//! [`ReadOptions`]). Kept per thread, set by the read's entry point, so that every
//! deserializer below can charge what it allocates without carrying it along.

use std::cell::Cell;

use crate::error::{Error, Result};
use crate::options::ReadOptions;

/// Bytes charged per list item, dict entry and object member (about a `Value`'s size).
pub(crate) const ITEM_BYTES: u64 = 64;

#[derive(Clone, Copy)]
struct Scope {
    remaining: u64,
    budget: u64,
    allow_external: bool,
    check_class: bool,
}

thread_local! {
    static SCOPE: Cell<Option<Scope>> = const { Cell::new(None) };
}

/// The read in progress on this thread, until dropped (an inner read, e.g. of a nested
/// `from_group` in a `Deserialize` impl, shares the outer one's scope).
pub(crate) struct ScopeGuard {
    outer: bool,
}

/// Starts a read of a file of `file_size` bytes with `options`.
pub(crate) fn enter(options: &ReadOptions, file_size: u64) -> ScopeGuard {
    if SCOPE.get().is_some() {
        return ScopeGuard { outer: false };
    }
    let budget = options.budget(file_size);
    SCOPE.set(Some(Scope {
        remaining: budget,
        budget,
        allow_external: options.allow_external,
        check_class: !options.skip_class_check,
    }));
    ScopeGuard { outer: true }
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        if self.outer {
            SCOPE.set(None);
        }
    }
}

/// Charges `bytes` to the read's budget; `what` says what they are for, in the error.
pub(crate) fn charge(bytes: u64, what: impl FnOnce() -> String) -> Result<()> {
    let Some(mut scope) = SCOPE.get() else {
        return Ok(());
    };
    match scope.remaining.checked_sub(bytes) {
        Some(left) => {
            scope.remaining = left;
            SCOPE.set(Some(scope));
            Ok(())
        }
        None => Err(Error::invalid(format!(
            "{} would take the read past its budget of {} bytes ({} used): if the file \
             is trusted, raise it with `ReadOptions::max_bytes` or `unlimited`",
            what(),
            scope.budget,
            scope.budget - scope.remaining
        ))),
    }
}

/// What is left of the read's budget (all of memory outside a read).
pub(crate) fn remaining() -> u64 {
    SCOPE.get().map_or(u64::MAX, |s| s.remaining)
}

/// Whether structs check the class tag of what they read (defaults to yes outside a read).
pub(crate) fn check_class() -> bool {
    SCOPE.get().is_none_or(|s| s.check_class)
}

/// Whether the read may follow data outside the file (defaults to no outside a read).
pub(crate) fn allow_external() -> bool {
    SCOPE.get().is_some_and(|s| s.allow_external)
}
