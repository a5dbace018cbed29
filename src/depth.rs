//! A bound on the nesting of data being read, shared by the crate's decoders.

use crate::error::{Error, Result};

/// Stack the reading of nested values may use, measured from the outermost group read on
/// the thread. A cycle of hard links would otherwise recurse until the stack overflows
/// (aborting the process); bounding the stack rather than a count of levels lets optimized
/// builds read deep trees (thousands of levels) while debug builds, which use several KiB a
/// level, still stop in time on a thread with Rust's default 2 MiB stack.
const STACK_BUDGET: usize = 1536 * 1024;

thread_local! {
    /// Groups being read on this thread, and the stack address of the outermost one.
    static DEPTH: std::cell::Cell<(usize, usize)> = const { std::cell::Cell::new((0, 0)) };
}

/// Counts the groups being read on this thread (see [`STACK_BUDGET`]).
pub(crate) struct DepthGuard;

impl DepthGuard {
    pub(crate) fn enter() -> Result<DepthGuard> {
        let marker = 0u8;
        let here = std::hint::black_box(&marker) as *const u8 as usize;
        let (depth, base) = DEPTH.get();
        let base = if depth == 0 { here } else { base };
        // The stack grows down on every supported target.
        if base.saturating_sub(here) > STACK_BUDGET {
            return Err(Error::invalid(format!(
                "data nested too deep ({depth} levels; a cycle of links?)"
            )));
        }
        DEPTH.set((depth + 1, base));
        Ok(DepthGuard)
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        let (depth, base) = DEPTH.get();
        DEPTH.set((depth - 1, base));
    }
}
