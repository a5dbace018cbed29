//! Where the contents of the datasets the writer creates go, in a parallel write (feature
//! `mpio`): written here, left to rank 0 ([`writes_raw_data`]), or, while rank 0 writes a
//! distributed collection's structure, left to the rank the array belongs to, which writes
//! its bytes where [`create_for_payload`] placed them (`h5::parallel`). The node writer
//! ([`node::write_dataset`](super::node::write_dataset)) asks here; this module sits below
//! it and imports only the C-call layer.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use hdf5::Group;
use hdf5_sys::h5i::hid_t;
use serde::{Deserialize, Serialize};

use super::ffi::{self, call, OwnedId};
use crate::error::{Error, Result};

thread_local! {
    /// Whether the datasets created now get their contents written by this rank (in a
    /// collective write, the small datasets of an empty array's group are written by rank 0
    /// only).
    static RAW_DATA: Cell<bool> = const { Cell::new(true) };
}

/// Whether [`node::write_dataset`](super::node) writes the contents of the dataset it
/// creates (false on the ranks that leave it to rank 0).
pub(crate) fn writes_raw_data() -> bool {
    RAW_DATA.get()
}

/// Runs `f` with the datasets' contents written (`on`) or left to another rank.
pub(crate) fn with_raw_data<R>(on: bool, f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            RAW_DATA.set(self.0);
        }
    }
    let _restore = Restore(RAW_DATA.replace(on));
    f()
}

/// Where an array another rank writes was given its space: the array is that rank's
/// `index`-th, its `len` bytes go at `offset` in the file.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Placed {
    pub owner: usize,
    pub index: usize,
    pub offset: u64,
    pub len: u64,
}

/// While rank 0 writes a collection's structure: the arrays whose contents other ranks
/// write, by the address of the (zeroed, never written) stand-in bytes of each
/// (`value::stand_in`), and where each was placed.
struct Payloads {
    wanted: HashMap<usize, (usize, usize)>,
    placed: Vec<Placed>,
    /// The creation list of their datasets ([`unfilled_list`]), made once per write.
    dcpl: Option<OwnedId>,
}

thread_local! {
    static PAYLOADS: RefCell<Option<Payloads>> = const { RefCell::new(None) };
}

/// The owner and index of the array whose stand-in buffer is `bytes`, when rank 0 is
/// writing a collection's structure and `bytes` is one ([`node::write_dataset`] then
/// creates the dataset with [`create_for_payload`] instead of writing it).
///
/// [`node::write_dataset`]: super::node::write_dataset
pub(crate) fn payload_elsewhere(bytes: &[u8]) -> Option<(usize, usize)> {
    if bytes.is_empty() {
        return None;
    }
    PAYLOADS.with_borrow(|p| p.as_ref()?.wanted.get(&(bytes.as_ptr() as usize)).copied())
}

/// Creates the dataset `name` for an array another rank writes: contiguous, its space
/// allocated now (so that it has an address) and never filled, and records where it is.
#[allow(clippy::too_many_arguments)]
pub(crate) fn create_for_payload(
    group: &Group,
    name: &std::ffi::CStr,
    h5type: hid_t,
    space: hid_t,
    chunked: bool,
    (owner, index): (usize, usize),
    len: usize,
    op: impl Fn() -> String + Copy,
) -> Result<()> {
    use hdf5_sys::h5d::H5Dget_offset;
    if chunked {
        return Err(Error::invalid(
            "a distributed collection's arrays are written contiguous: storage options \
             (compression, chunks) are not supported for them",
        ));
    }
    // One creation list for all of a write's datasets: with one copied and closed per
    // dataset, rank 0 took 653 ms to write the structure of 20,000 members (2 ranks,
    // `benches/mpio.rs`), with one for all 585 ms.
    let dcpl =
        match PAYLOADS.with_borrow(|p| p.as_ref().and_then(|p| p.dcpl.as_ref().map(OwnedId::id))) {
            Some(id) => id,
            None => {
                let made = unfilled_list(op)?;
                let id = made.id();
                PAYLOADS.with_borrow_mut(|p| {
                    if let Some(p) = p {
                        p.dcpl = Some(made);
                    }
                });
                id
            }
        };
    let ds = ffi::create_dataset(group.id(), name, h5type, space, dcpl, op)?;
    // SAFETY: a valid dataset id.
    let offset = hdf5::sync::sync(|| unsafe { H5Dget_offset(ds.id()) });
    if offset == hdf5_sys::h5::HADDR_UNDEF {
        return Err(Error::invalid(format!(
            "{}: HDF5 gave the dataset no address",
            op()
        )));
    }
    PAYLOADS.with_borrow_mut(|p| {
        if let Some(p) = p {
            p.placed.push(Placed {
                owner,
                index,
                offset,
                len: len as u64,
            });
        }
    });
    Ok(())
}

/// A dataset creation list (the shared one's: no timestamps) whose datasets get their
/// space when created and are never filled: every byte of them is written by the ranks.
/// (HDF5 allocates early in parallel files anyway; in the serial file of a collection it
/// gives the datasets of other ranks' arrays an address to write at.)
pub(crate) fn unfilled_list(op: impl Fn() -> String + Copy) -> Result<OwnedId> {
    use hdf5_sys::h5d::{H5D_alloc_time_t, H5D_fill_time_t};
    use hdf5_sys::h5p::{H5Pclose, H5Pcopy, H5Pset_alloc_time, H5Pset_fill_time};
    let shared = ffi::shared()?.dcpl;
    // SAFETY: copies the shared dataset creation list into one we own.
    let dcpl = OwnedId::new(op, H5Pclose, || unsafe { H5Pcopy(shared) })?;
    // SAFETY: configures a property list we own.
    call(op, || unsafe {
        H5Pset_alloc_time(dcpl.id(), H5D_alloc_time_t::H5D_ALLOC_TIME_EARLY)
    })?;
    // SAFETY: configures a property list we own.
    call(op, || unsafe {
        H5Pset_fill_time(dcpl.id(), H5D_fill_time_t::H5D_FILL_TIME_NEVER)
    })?;
    Ok(dcpl)
}

/// The arrays of other ranks while rank 0 writes a collection's structure: from
/// [`begin`](Elsewhere::begin) until dropped, [`payload_elsewhere`] recognises their
/// buffers.
pub(crate) struct Elsewhere(());

impl Elsewhere {
    /// Starts recognising the buffers in `wanted` (address -> owner and index).
    pub(crate) fn begin(wanted: HashMap<usize, (usize, usize)>) -> Elsewhere {
        let placed = Vec::with_capacity(wanted.len());
        PAYLOADS.set(Some(Payloads {
            wanted,
            placed,
            dcpl: None,
        }));
        Elsewhere(())
    }

    /// Where the arrays were placed so far (taken: later ones are not recorded).
    pub(crate) fn placed(&self) -> Vec<Placed> {
        PAYLOADS
            .with_borrow_mut(|p| p.take())
            .map(|p| p.placed)
            .unwrap_or_default()
    }
}

impl Drop for Elsewhere {
    fn drop(&mut self) {
        PAYLOADS.set(None);
    }
}
