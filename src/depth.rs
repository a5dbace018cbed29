//! One bound on the nesting of values, the same for writing and reading, in every format,
//! in debug and release builds and on any thread.
//!
//! Nested values are written and read by recursion. Each level takes stack (several KiB in
//! debug builds, more for big structs), so a bound on the stack used, as this crate had,
//! stopped reads at 184 levels in debug builds and 643 in release, while writes had no
//! bound at all (a 10,000-deep value wrote, and then failed to read; a 100,000-deep `Value`
//! overflowed the stack). Now every recursive step runs through [`grow`], which gives it a
//! new stack segment when little is left (`stacker`, as rustc does), and a level count,
//! [`MAX_DEPTH`], bounds writing and reading alike: what the writer accepts, the reader
//! reads; what the reader would refuse, the writer refuses first.

use crate::error::{Error, Result};

/// The deepest nesting of groups (HDF5) or compound values (wire format, `Value`) written
/// or read. A cycle of hard links in a file stops here too.
pub const MAX_DEPTH: usize = 1000;

/// Stack left below which a recursive step gets a new segment, and the segment's size.
const RED_ZONE: usize = 256 * 1024;
const SEGMENT: usize = 4 * 1024 * 1024;

thread_local! {
    static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// One level of nesting, counted while it lives.
pub(crate) struct DepthGuard(());

impl DepthGuard {
    /// Enters one level deeper; an error past [`MAX_DEPTH`].
    pub(crate) fn enter() -> Result<DepthGuard> {
        let depth = DEPTH.get();
        if depth >= MAX_DEPTH {
            return Err(Error::invalid(format!(
                "data nested too deep: more than {MAX_DEPTH} levels (a cycle of links?)"
            )));
        }
        DEPTH.set(depth + 1);
        Ok(DepthGuard(()))
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH.set(DEPTH.get() - 1);
    }
}

/// Runs one recursive step with enough stack (see the module documentation).
pub(crate) fn grow<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}
