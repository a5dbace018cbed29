//! The MPI backend (rsmpi). Values move as wire messages; array buffers move with
//! `MPI_Bcast`/`MPI_Scatterv`/`MPI_Gatherv` or point-to-point messages straight between the
//! arrays' memory, in chunks under MPI's `int` count limit.
//!
//! This file holds the `World` itself (initialisation, rank and size, abort, the panic
//! hook); its operations live by role in the sibling modules: `collective` (broadcast,
//! scatter, gather), `point_to_point` (send, recv), `frame` (how a message and its
//! out-of-band arrays are laid out) and `buffer` (receive buffers and chunking).

use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

use crate::error::{Error, Result};

pub(super) struct World {
    pub(super) comm: SimpleCommunicator,
    /// A duplicate of `comm` for the library's own point-to-point traffic, so that it never
    /// matches the user's messages.
    pub(super) internal: SimpleCommunicator,
    pub(super) rank: usize,
    pub(super) size: usize,
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
        install_panic_hook(rank);
        Ok(World {
            rank,
            size: comm.size() as usize,
            comm,
            internal,
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

/// On a panic: the usual report, then `rank N: <message>`, then `MPI_Abort`, so that the
/// other ranks stop instead of waiting for this one.
fn install_panic_hook(rank: usize) {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        previous(info);
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".to_string());
        let at = info
            .location()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        super::report(rank, &format!("{message}{at}"), true);
        // SAFETY: MPI is initialised (the hook is installed after MPI_Init); MPI_Abort only
        // terminates the job.
        unsafe {
            mpi::ffi::MPI_Abort(mpi::ffi::RSMPI_COMM_WORLD, 1);
        }
    }));
}
