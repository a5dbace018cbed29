//! Receive buffers: bytes MPI may write without their being initialised first, received
//! arrays made from them, and the size of the chunks every transfer is split into.

use std::mem::MaybeUninit;

use mpi::traits::*;
use ndarray::{ArrayD, IxDyn};

use crate::dtype;
use crate::dtype::{DType, Element, TypedArray};
use crate::error::{Error, Result};

/// The largest piece one MPI call moves (counts are C `int`s).
pub(super) const CHUNK: usize = 1 << 30;

/// One byte of a receive buffer, which need not be initialised before MPI writes it.
///
/// Why: a received array is new memory. Zeroing it first (`calloc`, `vec![0; n]`) costs a
/// full pass over it whenever the allocator hands back reused memory (glibc reuses blocks
/// up to 32 MiB): a 32 MiB `scatter_array` took 1.3-1.4x a raw `MPI_Scatterv` because of
/// it, 1.0x without. `MaybeUninit` makes a slice over such memory a valid Rust value.
#[repr(transparent)]
#[derive(Clone, Copy)]
pub(super) struct RecvByte(pub(super) MaybeUninit<u8>);

// SAFETY: a `RecvByte` is one byte in memory (transparent over `MaybeUninit<u8>`), sent and
// received as MPI's byte type; every bit pattern MPI writes is a valid `MaybeUninit<u8>`.
unsafe impl Equivalence for RecvByte {
    type Out = <u8 as Equivalence>::Out;
    fn equivalent_datatype() -> Self::Out {
        u8::equivalent_datatype()
    }
}

/// An initialised byte buffer as a receive buffer.
pub(super) fn recv_bytes(buf: &mut [u8]) -> &mut [RecvByte] {
    // SAFETY: same size and alignment (`RecvByte` is transparent over a byte); MPI only
    // writes whole bytes into it, so the `u8`s stay initialised.
    unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast(), buf.len()) }
}

/// Possibly uninitialised memory as a receive buffer.
pub(super) fn recv_uninit(buf: &mut [MaybeUninit<u8>]) -> &mut [RecvByte] {
    // SAFETY: `RecvByte` is transparent over `MaybeUninit<u8>`.
    unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast(), buf.len()) }
}

/// Copies `src` into the receive buffer `dst` of the same length.
pub(super) fn copy_into(dst: &mut [RecvByte], src: &[u8]) {
    assert_eq!(
        dst.len(),
        src.len(),
        "copy between buffers of different lengths"
    );
    // SAFETY: both are `src.len()` bytes long (checked), and distinct (one is borrowed
    // mutably).
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast(), src.len()) };
}

/// Asks the kernel for transparent huge pages for a large buffer about to be received into
/// (numpy does the same for large arrays): a fresh 32 MiB buffer otherwise takes 8,192 page
/// faults on first touch, which cost more than the transfer itself.
pub(super) fn advise_huge_pages(buf: &mut [RecvByte]) {
    const WORTH_IT: usize = 4 << 20;
    const PAGE: usize = 4096;
    if buf.len() < WORTH_IT {
        return;
    }
    let start = (buf.as_ptr() as usize).div_ceil(PAGE) * PAGE;
    let end = (buf.as_ptr() as usize + buf.len()) / PAGE * PAGE;
    if end > start {
        // SAFETY: the range lies inside `buf` (page-aligned inward); MADV_HUGEPAGE only
        // changes how the kernel backs the pages, never their contents. Failure is harmless.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

/// The memory of an array's elements as a receive buffer (`receive into`: MPI writes over
/// the elements in place). Not for `bool`: not every byte is one.
pub(super) fn elements_as_recv<T: Element>(elements: &mut [T]) -> &mut [RecvByte] {
    assert!(
        T::DTYPE != DType::Bool,
        "booleans are received as bytes, then checked"
    );
    // SAFETY: `Element` is sealed to plain-old-data types without padding; but for `bool`
    // (refused above) every bit pattern MPI may write is a valid element. The slice covers
    // exactly the elements' bytes, borrowed mutably.
    unsafe {
        std::slice::from_raw_parts_mut(
            elements.as_mut_ptr().cast(),
            std::mem::size_of_val(elements),
        )
    }
}

/// Makes an array of `rows` rows of shape `rest` whose memory `fill` receives (not zeroed
/// first: see [`dtype::filled_elements`]).
pub(super) fn receive_rows<T: Element>(
    rows: usize,
    rest: &[usize],
    fill: impl FnOnce(&mut [RecvByte]),
) -> Result<ArrayD<T>> {
    let mut shape = vec![rows];
    shape.extend_from_slice(rest);
    receive_array(&shape, fill)
}

/// Makes an array of `shape` whose memory `fill` receives (not zeroed first: see
/// [`dtype::filled_elements`]).
pub(super) fn receive_array<T: Element>(
    shape: &[usize],
    fill: impl FnOnce(&mut [RecvByte]),
) -> Result<ArrayD<T>> {
    let n: usize = shape.iter().product();
    // `fill` writes the whole buffer: MPI_Bcast/Scatterv/Gatherv counts are the buffer's
    // length, and `receive_chunks` zeroes whatever a short message leaves.
    let receive = |buf: &mut [MaybeUninit<u8>]| {
        let buf = recv_uninit(buf);
        advise_huge_pages(buf);
        fill(buf);
        Ok(())
    };
    if T::DTYPE == DType::Bool {
        // Bytes first, checked before they become `bool`s.
        // SAFETY: `receive` writes the whole buffer (see `fill`'s contract above).
        let raw = unsafe { dtype::filled_bytes(n, receive)? };
        let flags = TypedArray::from_le_bytes(DType::Bool, &[n], &raw)?;
        return flags
            .into_array::<T>()?
            .into_shape_with_order(IxDyn(shape))
            .map_err(|e| Error::invalid(e.to_string()));
    }
    // SAFETY: as above.
    let elements = unsafe { dtype::filled_elements::<T>(n, receive)? };
    ArrayD::from_shape_vec(IxDyn(shape), elements).map_err(|e| Error::invalid(e.to_string()))
}
