//! The MPI backend (rsmpi). Values move as wire messages; array buffers move with
//! `MPI_Bcast`/`MPI_Scatterv`/`MPI_Gatherv` or point-to-point messages straight between the
//! arrays' memory, in chunks under MPI's `int` count limit.
//!
//! This file holds the `World` itself (initialisation, rank and size, abort, the counts of
//! user messages); its operations live by role in the sibling modules: `collective`
//! (broadcast, scatter, gather), `point_to_point` (send, recv), `finish` (the collective
//! end of the job, and what a waiting `recv` learns from it), `frame` (how a message and its
//! out-of-band arrays are laid out) and `buffer` (receive buffers and chunking).
//!
//! No panic hook is installed: a panic the program catches is none of MPI's business. A
//! panic that escapes the closure of [`run`](super::run) or unwinds through a live handler
//! aborts the job there.

use std::cell::Cell;

use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use crate::error::{Error, Result};

/// Tags of the library's own messages on the internal communicator.
pub(super) mod tags {
    /// Parts of a scatter too large for one `MPI_Scatterv`.
    pub(crate) const SCATTER: i32 = 0;
    /// Parts of a gather too large for one `MPI_Gatherv`.
    pub(crate) const GATHER: i32 = 1;
}

pub(super) struct World {
    pub(super) comm: SimpleCommunicator,
    /// A duplicate of `comm` for the library's own traffic, so that it never matches the
    /// user's messages.
    pub(super) internal: SimpleCommunicator,
    pub(super) rank: usize,
    pub(super) size: usize,
    /// The tag of a rank's `done()` notice on the user's communicator: the largest tag
    /// (`MPI_TAG_UB`), so the user's tags are `0..done_tag`. On the user's communicator, so
    /// that it arrives after every message its sender sent before it.
    pub(super) done_tag: i32,
    /// User messages (`send` calls) this rank sent to each rank.
    pub(super) sent: Vec<Cell<u64>>,
    /// User messages this rank took in from each rank (`recv` calls that consumed one,
    /// whether or not it then decoded).
    pub(super) received: Vec<Cell<u64>>,
    /// For each rank whose `done()` notice has been taken in: how many user messages it
    /// sent to this rank in all.
    pub(super) peer_done: Vec<Cell<Option<u64>>>,
    /// Finalises MPI when dropped: the last field, so the communicators are freed first.
    _universe: Universe,
}

impl World {
    pub(super) fn init() -> Result<World> {
        let universe = mpi::initialize().ok_or_else(|| {
            Error::invalid("MPI is already initialised: create one MpiHandler per process")
        })?;
        let comm = universe.world();
        let internal = comm.duplicate();
        let rank = comm.rank() as usize;
        let size = comm.size() as usize;
        let counters = || (0..size).map(|_| Cell::new(0)).collect::<Vec<_>>();
        Ok(World {
            rank,
            size,
            done_tag: tag_upper_bound(&comm),
            comm,
            internal,
            sent: counters(),
            received: counters(),
            peer_done: (0..size).map(|_| Cell::new(None)).collect(),
            _universe: universe,
        })
    }

    pub(super) fn rank(&self) -> usize {
        self.rank
    }

    pub(super) fn size(&self) -> usize {
        self.size
    }

    pub(super) fn abort(&self, code: i32) -> ! {
        self.comm.abort(code)
    }
}

/// `MPI_TAG_UB`, the largest tag the MPI library accepts (at least 32767).
fn tag_upper_bound(comm: &SimpleCommunicator) -> i32 {
    let mut value: *mut std::os::raw::c_int = std::ptr::null_mut();
    let mut flag: std::os::raw::c_int = 0;
    // SAFETY: MPI_TAG_UB is a predefined attribute of every communicator; MPI stores a
    // pointer to its `int` value in `value` (and sets `flag`) when it has one.
    unsafe {
        mpi::ffi::MPI_Comm_get_attr(
            comm.as_raw(),
            mpi::ffi::MPI_TAG_UB as std::os::raw::c_int,
            (&mut value as *mut *mut std::os::raw::c_int).cast(),
            &mut flag,
        );
    }
    if flag != 0 && !value.is_null() {
        // SAFETY: MPI set `value` to the attribute's `int`, valid while MPI is initialised.
        unsafe { *value }
    } else {
        32767
    }
}
