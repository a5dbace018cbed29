//! The MPI backend (rsmpi). Values move as wire messages; array buffers move with
//! `MPI_Bcast`/`MPI_Scatterv`/`MPI_Gatherv` or point-to-point messages straight between the
//! arrays' memory, in chunks under MPI's `int` count limit.

use std::mem::MaybeUninit;
use std::os::raw::c_void;

use mpi::datatype::{Partition, PartitionMut};
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use ndarray::{ArrayD, IxDyn};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{scatter_indices, tag_mismatch};
use crate::dtype::{self as array, DType, Element};
use crate::error::{Error, Result};
use crate::wire::{self, OutOfBand};

/// Arrays of at least this many bytes travel apart from the message, without a copy.
const OUT_OF_BAND_BYTES: usize = 1 << 20;
/// The largest piece one MPI call moves (counts are C `int`s).
const CHUNK: usize = 1 << 30;
/// The first broadcast of a message: its length, and the message itself when it fits.
const FIRST_BLOCK: usize = 256;
/// Most dimensions an array may have in `gather`.
const MAX_GATHER_RANK: usize = 16;

/// One byte of a receive buffer, which need not be initialised before MPI writes it.
///
/// Why: a received array is new memory. Zeroing it first (`calloc`, `vec![0; n]`) costs a
/// full pass over it whenever the allocator hands back reused memory (glibc reuses blocks
/// up to 32 MiB): a 32 MiB `scatter_array` took 1.3-1.4x a raw `MPI_Scatterv` because of
/// it, 1.0x without. `MaybeUninit` makes a slice over such memory a valid Rust value.
#[repr(transparent)]
#[derive(Clone, Copy)]
struct RecvByte(MaybeUninit<u8>);

// SAFETY: a `RecvByte` is one byte in memory (transparent over `MaybeUninit<u8>`), sent and
// received as MPI's byte type; every bit pattern MPI writes is a valid `MaybeUninit<u8>`.
unsafe impl Equivalence for RecvByte {
    type Out = <u8 as Equivalence>::Out;
    fn equivalent_datatype() -> Self::Out {
        u8::equivalent_datatype()
    }
}

/// An initialised byte buffer as a receive buffer.
fn recv_bytes(buf: &mut [u8]) -> &mut [RecvByte] {
    // SAFETY: same size and alignment (`RecvByte` is transparent over a byte); MPI only
    // writes whole bytes into it, so the `u8`s stay initialised.
    unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast(), buf.len()) }
}

/// Possibly uninitialised memory as a receive buffer.
fn recv_uninit(buf: &mut [MaybeUninit<u8>]) -> &mut [RecvByte] {
    // SAFETY: `RecvByte` is transparent over `MaybeUninit<u8>`.
    unsafe { std::slice::from_raw_parts_mut(buf.as_mut_ptr().cast(), buf.len()) }
}

/// Copies `src` into the receive buffer `dst` of the same length.
fn copy_into(dst: &mut [RecvByte], src: &[u8]) {
    assert_eq!(
        dst.len(),
        src.len(),
        "copy between buffers of different lengths"
    );
    // SAFETY: both are `src.len()` bytes long (checked), and distinct (one is borrowed
    // mutably).
    unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast(), src.len()) };
}

pub(super) struct World {
    comm: SimpleCommunicator,
    /// A duplicate of `comm` for the library's own point-to-point traffic, so that it never
    /// matches the user's messages.
    internal: SimpleCommunicator,
    rank: usize,
    size: usize,
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

    // ---- broadcast ---------------------------------------------------------------------

    /// Broadcasts `bytes` (the root's) into `buf` (everyone else's), in chunks.
    fn bcast_raw(&self, root: usize, data: BcastData<'_>) {
        let root = self.comm.process_at_rank(root as i32);
        match data {
            BcastData::Send(bytes) => {
                for chunk in bytes.chunks(CHUNK) {
                    // SAFETY: the root's buffer is only read by MPI_Bcast; the count is the
                    // chunk's length (below 2^30).
                    unsafe {
                        mpi::ffi::MPI_Bcast(
                            chunk.as_ptr() as *mut c_void,
                            chunk.len() as i32,
                            u8::equivalent_datatype().as_raw(),
                            root.rank(),
                            self.comm.as_raw(),
                        );
                    }
                }
            }
            BcastData::Receive(buf) => {
                for chunk in buf.chunks_mut(CHUNK) {
                    root.broadcast_into(chunk);
                }
            }
        }
    }

    /// Broadcasts a message: a first block with its length (and the message, if short),
    /// then the rest.
    fn bcast_message(&self, root: usize, message: Option<&[u8]>) -> Vec<u8> {
        let mut first = [0u8; FIRST_BLOCK];
        match message {
            Some(msg) => {
                first[..8].copy_from_slice(&(msg.len() as u64).to_le_bytes());
                let n = msg.len().min(FIRST_BLOCK - 8);
                first[8..8 + n].copy_from_slice(&msg[..n]);
                self.bcast_raw(root, BcastData::Send(&first));
                if msg.len() > n {
                    self.bcast_raw(root, BcastData::Send(&msg[n..]));
                }
                Vec::new()
            }
            None => {
                self.bcast_raw(root, BcastData::Receive(recv_bytes(&mut first)));
                let len = u64::from_le_bytes(first[..8].try_into().expect("8 bytes")) as usize;
                let n = len.min(FIRST_BLOCK - 8);
                let mut msg = vec![0u8; len];
                msg[..n].copy_from_slice(&first[8..8 + n]);
                if len > n {
                    self.bcast_raw(root, BcastData::Receive(recv_bytes(&mut msg[n..])));
                }
                msg
            }
        }
    }

    /// The root's side of a broadcast.
    pub(super) fn bcast_send<T: ?Sized + Serialize>(&self, value: &T, root: usize) -> Result<()> {
        // Pass 1 writes the message and lists the arrays that travel apart; pass 2 broadcasts
        // those straight from the arrays (the message is not sent again).
        let (frame, parts) = frame(value)?;
        self.bcast_message(root, Some(&frame));
        if parts > 0 {
            wire::encode(value, Some(&mut BcastArrays { world: self, root }))?;
        }
        Ok(())
    }

    /// A receiver's side of a broadcast.
    pub(super) fn bcast_receive<R>(
        &self,
        root: usize,
        decode: impl FnOnce(&[u8], Option<&mut dyn OutOfBand>) -> Result<R>,
    ) -> Result<R> {
        let message = self.bcast_message(root, None);
        receive_framed(&message, BcastArrays { world: self, root }, decode)
    }

    // ---- point to point ----------------------------------------------------------------

    fn send_chunks(&self, comm: &SimpleCommunicator, bytes: &[u8], dest: usize, tag: i32) {
        let dest = comm.process_at_rank(dest as i32);
        for chunk in bytes.chunks(CHUNK) {
            dest.send_with_tag(chunk, tag);
        }
    }

    /// Receives `buf.len()` bytes in chunks; `false` if a message was shorter than its
    /// chunk (another sender's message on this tag). The buffer is initialised either way:
    /// whatever a short message left is zeroed.
    #[must_use]
    fn receive_chunks(
        &self,
        comm: &SimpleCommunicator,
        buf: &mut [RecvByte],
        source: usize,
        tag: i32,
    ) -> bool {
        let source = comm.process_at_rank(source as i32);
        let mut complete = true;
        for chunk in buf.chunks_mut(CHUNK) {
            let status = source.receive_into_with_tag(chunk, tag);
            let got = usize::try_from(status.count(u8::equivalent_datatype())).unwrap_or(0);
            if got < chunk.len() {
                complete = false;
                for b in &mut chunk[got..] {
                    *b = RecvByte(MaybeUninit::new(0));
                }
            }
        }
        complete
    }

    pub(super) fn send<T: ?Sized + Serialize>(
        &self,
        value: &T,
        dest: usize,
        tag: i32,
    ) -> Result<()> {
        let (frame, parts) = frame(value)?;
        // The first message: the magic number, the frame's length, and as much of the frame
        // as fits a chunk; the rest follows in chunks, then the arrays sent apart.
        let n = frame.len().min(CHUNK - P2P_HEAD);
        let mut first = Vec::with_capacity(P2P_HEAD + n);
        first.extend_from_slice(&MAGIC);
        first.extend_from_slice(&(frame.len() as u64).to_le_bytes());
        first.extend_from_slice(&frame[..n]);
        self.comm
            .process_at_rank(dest as i32)
            .send_with_tag(&first[..], tag);
        self.send_chunks(&self.comm, &frame[n..], dest, tag);
        if parts > 0 {
            wire::encode(
                value,
                Some(&mut PeerArrays {
                    world: self,
                    peer: dest,
                    tag,
                }),
            )?;
        }
        Ok(())
    }

    pub(super) fn recv<R>(
        &self,
        source: usize,
        tag: i32,
        decode: impl FnOnce(&[u8], Option<&mut dyn OutOfBand>) -> Result<R>,
    ) -> Result<R> {
        let process = self.comm.process_at_rank(source as i32);
        let status = process.probe();
        if status.tag() != tag {
            return Err(tag_mismatch(source, tag, status.tag()));
        }
        let count = status.count(u8::equivalent_datatype()) as usize;
        let mut first = vec![0u8; count];
        process.receive_into_with_tag(&mut first[..], tag);
        // Only trust a length that comes with the magic number of this format.
        if count < P2P_HEAD || first[..4] != MAGIC {
            return Err(Error::invalid(format!(
                "recv: the {count}-byte message from rank {source} (tag {tag}) is not an anam message"
            )));
        }
        let len = u64::from_le_bytes(first[4..P2P_HEAD].try_into().expect("8 bytes")) as usize;
        let n = count - P2P_HEAD;
        if n > len {
            return Err(Error::invalid("recv: message longer than it says"));
        }
        let mut frame = first.split_off(P2P_HEAD);
        frame.resize(len, 0);
        if !self.receive_chunks(&self.comm, recv_bytes(&mut frame[n..]), source, tag) {
            return Err(Error::invalid(format!(
                "recv: the message from rank {source} (tag {tag}) is shorter than it says"
            )));
        }
        receive_framed(
            &frame,
            PeerArrays {
                world: self,
                peer: source,
                tag,
            },
            decode,
        )
    }

    // ---- scatter and gather ------------------------------------------------------------

    /// Scatters `counts[r]` bytes at `displs[r]` of the root's buffer to each rank `r`.
    fn scatterv(&self, root: usize, send: Option<(&[u8], &[usize])>, recv: &mut [RecvByte]) {
        let counts = send.map(|(_, c)| c.to_vec());
        let fits = counts.as_ref().is_none_or(|c| fits_int(c));
        let fits = self.agree(root, fits);
        let root_process = self.comm.process_at_rank(root as i32);
        match (send, fits) {
            (Some((bytes, counts)), true) => {
                let (c, d) = counts_displs(counts);
                root_process.scatter_varcount_into_root(&Partition::new(bytes, c, d), recv);
            }
            (None, true) => root_process.scatter_varcount_into(recv),
            (Some((bytes, counts)), false) => {
                let mut start = 0;
                for (r, &n) in counts.iter().enumerate() {
                    let part = &bytes[start..start + n];
                    if r == self.rank {
                        copy_into(recv, part);
                    } else {
                        self.send_chunks(&self.internal, part, r, 0);
                    }
                    start += n;
                }
            }
            (None, false) => {
                // Anam's own messages on its internal communicator: the sizes match.
                let _ = self.receive_chunks(&self.internal, recv, root, 0);
            }
        }
    }

    /// Gathers every rank's bytes into `recv` (`counts[r]` from rank `r`) on `root`, or on
    /// every rank when `root` is `None`.
    fn gatherv(
        &self,
        root: Option<usize>,
        send: &[u8],
        recv: Option<&mut [RecvByte]>,
        counts: &[usize],
    ) {
        let fits = fits_int(counts);
        match (root, recv, fits) {
            (None, Some(recv), true) => {
                let (c, d) = counts_displs(counts);
                self.comm
                    .all_gather_varcount_into(send, &mut PartitionMut::new(recv, c, d));
            }
            (Some(root), Some(recv), true) => {
                let (c, d) = counts_displs(counts);
                self.comm
                    .process_at_rank(root as i32)
                    .gather_varcount_into_root(send, &mut PartitionMut::new(recv, c, d));
            }
            (Some(root), None, true) => self
                .comm
                .process_at_rank(root as i32)
                .gather_varcount_into(send),
            (None, None, true) => unreachable!("allgather always has a receive buffer"),
            (root, recv, false) => {
                // Chunked messages, gathered on the root (or rank 0 for allgather), then
                // broadcast for allgather.
                let at = root.unwrap_or(0);
                let mut all = if self.rank == at || root.is_none() {
                    Some(vec![0u8; counts.iter().sum()])
                } else {
                    None
                };
                if self.rank == at {
                    let buf = all.as_mut().expect("the root collects");
                    let mut start = 0;
                    for (r, &n) in counts.iter().enumerate() {
                        let part = &mut buf[start..start + n];
                        if r == self.rank {
                            part.copy_from_slice(send);
                        } else {
                            // Anam's own messages on its internal communicator.
                            let _ = self.receive_chunks(&self.internal, recv_bytes(part), r, 1);
                        }
                        start += n;
                    }
                } else {
                    self.send_chunks(&self.internal, send, at, 1);
                }
                if root.is_none() {
                    let buf = all.as_mut().expect("everyone collects");
                    if self.rank == at {
                        self.bcast_raw(at, BcastData::Send(buf));
                    } else {
                        self.bcast_raw(at, BcastData::Receive(recv_bytes(buf)));
                    }
                }
                if let (Some(recv), Some(all)) = (recv, all) {
                    copy_into(recv, &all);
                }
            }
        }
    }

    /// The root's `flag`, known to every rank.
    fn agree(&self, root: usize, flag: bool) -> bool {
        let mut b = u8::from(flag);
        self.comm
            .process_at_rank(root as i32)
            .broadcast_into(&mut b);
        b == 1
    }

    fn allgather_u64s(&self, mine: &[u64]) -> Vec<u64> {
        let mut all = vec![0u64; mine.len() * self.size];
        self.comm.all_gather_into(mine, &mut all[..]);
        all
    }

    pub(super) fn scatter_array<T: Element>(
        &self,
        array: Option<&ArrayD<T>>,
        root: usize,
    ) -> Result<ArrayD<T>> {
        // Every rank learns the dtype and shape; each checks the dtype against its own `T`.
        let meta = array.map(|a| (T::DTYPE.name().to_string(), a.shape().to_vec()));
        let meta = if self.rank == root {
            let m = meta.expect("the root has the array");
            self.bcast_message(root, Some(&wire::encode(&m, None)?));
            m
        } else {
            wire::decode::<(String, Vec<usize>)>(&self.bcast_message(root, None), None)?
        };
        let (dtype, shape) = meta;
        if dtype != T::DTYPE.name() {
            return Err(Error::invalid(format!(
                "scatter_array: the root sends {dtype}, rank {} expects {}",
                self.rank,
                T::DTYPE
            )));
        }
        let row_bytes = shape[1..].iter().product::<usize>() * T::DTYPE.size();
        let rows = scatter_indices(shape[0], self.size);
        let counts: Vec<usize> = rows.iter().map(|(a, b)| (b - a) * row_bytes).collect();
        let (a, b) = rows[self.rank];
        let standard = array.map(|a| a.as_standard_layout());
        let send = standard.as_ref().map(|s| {
            (
                array::as_bytes(s.as_slice().expect("standard layout is contiguous")),
                &counts[..],
            )
        });
        receive_rows(b - a, &shape[1..], |buf| self.scatterv(root, send, buf))
    }

    pub(super) fn gather<T: Element>(
        &self,
        array: &ArrayD<T>,
        root: Option<usize>,
    ) -> Result<Option<ArrayD<T>>> {
        if array.ndim() == 0 || array.ndim() > MAX_GATHER_RANK {
            return Err(Error::invalid(format!(
                "gather: arrays of rank 1 to {MAX_GATHER_RANK}, not {}",
                array.ndim()
            )));
        }
        // Each rank's rows, dtype and trailing shape, so that every rank can check them.
        let mut header = vec![0u64; 3 + MAX_GATHER_RANK];
        header[0] = array.shape()[0] as u64;
        header[1] = u64::from(
            crate::DType::ALL
                .iter()
                .position(|&d| d == T::DTYPE)
                .expect("listed") as u8,
        );
        header[2] = array.ndim() as u64;
        for (h, &d) in header[3..].iter_mut().zip(&array.shape()[1..]) {
            *h = d as u64;
        }
        let all = self.allgather_u64s(&header);
        let rows: Vec<usize> = all.chunks(header.len()).map(|h| h[0] as usize).collect();
        for (r, h) in all.chunks(header.len()).enumerate() {
            if h[1..] != header[1..] {
                return Err(Error::invalid(format!(
                    "gather: rank {r} sends a different dtype or trailing shape than rank {}",
                    self.rank
                )));
            }
        }
        let row_bytes = array.shape()[1..].iter().product::<usize>() * T::DTYPE.size();
        let counts: Vec<usize> = rows.iter().map(|&n| n * row_bytes).collect();
        let standard = array.as_standard_layout();
        let send = array::as_bytes(standard.as_slice().expect("standard layout is contiguous"));
        let here = root.is_none_or(|r| r == self.rank);
        if !here {
            self.gatherv(root, send, None, &counts);
            return Ok(None);
        }
        receive_rows(rows.iter().sum(), &array.shape()[1..], |buf| {
            self.gatherv(root, send, Some(buf), &counts)
        })
        .map(Some)
    }

    pub(super) fn scatter_list<T: Serialize + DeserializeOwned>(
        &self,
        items: Option<&[T]>,
        root: usize,
    ) -> Result<Vec<T>> {
        // The root encodes each rank's part; the parts' sizes go first.
        let parts = match items {
            Some(items) => {
                let parts = scatter_indices(items.len(), self.size)
                    .into_iter()
                    .map(|(a, b)| wire::encode(&items[a..b], None))
                    .collect::<Result<Vec<_>>>()?;
                Some(parts)
            }
            None => None,
        };
        let sizes: Vec<u64> = parts
            .as_ref()
            .map_or_else(Vec::new, |p| p.iter().map(|b| b.len() as u64).collect());
        let sizes = if self.rank == root {
            self.bcast_message(root, Some(&wire::encode(&sizes, None)?));
            sizes
        } else {
            wire::decode::<Vec<u64>>(&self.bcast_message(root, None), None)?
        };
        let counts: Vec<usize> = sizes.iter().map(|&n| n as usize).collect();
        let joined = parts.map(|p| p.concat());
        let mut mine = vec![0u8; counts.get(self.rank).copied().unwrap_or(0)];
        self.scatterv(
            root,
            joined.as_deref().map(|b| (b, &counts[..])),
            recv_bytes(&mut mine),
        );
        wire::decode(&mine, None)
    }

    pub(super) fn gather_list<T: Serialize + DeserializeOwned>(
        &self,
        items: &[T],
        _return_all: bool,
    ) -> Result<Vec<T>> {
        let mine = wire::encode(items, None)?;
        let counts: Vec<usize> = self
            .allgather_u64s(&[mine.len() as u64])
            .iter()
            .map(|&n| n as usize)
            .collect();
        let mut all = vec![0u8; counts.iter().sum()];
        self.gatherv(None, &mine, Some(recv_bytes(&mut all)), &counts);
        let mut out = Vec::new();
        let mut start = 0;
        for n in counts {
            out.extend(wire::decode::<Vec<T>>(&all[start..start + n], None)?);
            start += n;
        }
        Ok(out)
    }
}

/// Asks the kernel for transparent huge pages for a large buffer about to be received into
/// (numpy does the same for large arrays): a fresh 32 MiB buffer otherwise takes 8,192 page
/// faults on first touch, which cost more than the transfer itself.
fn advise_huge_pages(buf: &mut [RecvByte]) {
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

/// Makes an array of `rows` rows of shape `rest` whose memory `fill` receives (not zeroed
/// first: see [`array::filled_elements`]).
fn receive_rows<T: Element>(
    rows: usize,
    rest: &[usize],
    fill: impl FnOnce(&mut [RecvByte]),
) -> Result<ArrayD<T>> {
    let mut shape = vec![rows];
    shape.extend_from_slice(rest);
    let n: usize = shape.iter().product();
    // `fill` writes the whole buffer: MPI_Scatterv/Gatherv counts are the buffer's length,
    // and `receive_chunks` zeroes whatever a short message leaves.
    let receive = |buf: &mut [MaybeUninit<u8>]| {
        let buf = recv_uninit(buf);
        advise_huge_pages(buf);
        fill(buf);
        Ok(())
    };
    if T::DTYPE == DType::Bool {
        // Bytes first, checked before they become `bool`s.
        // SAFETY: `receive` writes the whole buffer (see `fill`'s contract above).
        let raw = unsafe { array::filled_bytes(n, receive)? };
        let flags = crate::dtype::TypedArray::from_le_bytes(DType::Bool, &[n], &raw)?;
        return flags
            .into_array::<T>()
            .map_err(Error::invalid)?
            .into_shape_with_order(IxDyn(&shape))
            .map_err(|e| Error::invalid(e.to_string()));
    }
    // SAFETY: as above.
    let elements = unsafe { array::filled_elements::<T>(n, receive)? };
    ArrayD::from_shape_vec(IxDyn(&shape), elements).map_err(|e| Error::invalid(e.to_string()))
}

fn fits_int(counts: &[usize]) -> bool {
    counts.iter().sum::<usize>() <= i32::MAX as usize
}

fn counts_displs(counts: &[usize]) -> (Vec<i32>, Vec<i32>) {
    let c: Vec<i32> = counts.iter().map(|&n| n as i32).collect();
    let d: Vec<i32> = counts
        .iter()
        .scan(0usize, |acc, &n| {
            let start = *acc;
            *acc += n;
            Some(start as i32)
        })
        .collect();
    (c, d)
}

enum BcastData<'a> {
    Send(&'a [u8]),
    Receive(&'a mut [RecvByte]),
}

/// Starts every point-to-point message, so that a receive never trusts a stray message.
const MAGIC: [u8; 4] = *b"ANAM";
/// The magic number and the frame's length.
const P2P_HEAD: usize = 12;

/// Encodes `value` as a frame: the number and sizes of the arrays that travel apart, then
/// the message. Returns the frame and the number of such arrays.
fn frame<T: ?Sized + Serialize>(value: &T) -> Result<(Vec<u8>, usize)> {
    let mut sizes = Sizes::default();
    let message = wire::encode(value, Some(&mut sizes))?;
    let mut frame = Vec::with_capacity(8 * (1 + sizes.0.len()) + message.len());
    frame.extend_from_slice(&(sizes.0.len() as u64).to_le_bytes());
    for &n in &sizes.0 {
        frame.extend_from_slice(&(n as u64).to_le_bytes());
    }
    frame.extend_from_slice(&message);
    Ok((frame, sizes.0.len()))
}

/// Decodes a frame, receiving its arrays through `arrays`. If decoding fails (e.g. the
/// wrong type), the arrays not yet received are received and dropped, so that they cannot
/// be mistaken for the next message (or, in a broadcast, leave the other ranks waiting).
fn receive_framed<A: Drain, R>(
    frame: &[u8],
    mut arrays: A,
    decode: impl FnOnce(&[u8], Option<&mut dyn OutOfBand>) -> Result<R>,
) -> Result<R> {
    let word = |i: usize| -> Result<usize> {
        frame
            .get(8 * i..8 * i + 8)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize)
            .ok_or_else(|| Error::invalid("message frame truncated"))
    };
    let parts = word(0)?;
    if parts > frame.len() / 8 {
        return Err(Error::invalid("message frame truncated"));
    }
    let sizes = (1..=parts).map(word).collect::<Result<Vec<usize>>>()?;
    let mut tracked = Tracked {
        arrays: &mut arrays,
        sizes: &sizes,
        next: 0,
    };
    let result = decode(&frame[8 * (parts + 1)..], Some(&mut tracked));
    if result.is_err() {
        for &n in &sizes[tracked.next..] {
            arrays.drain(n);
        }
    }
    result
}

/// Receives arrays in order, checking each has the size the sender announced.
struct Tracked<'a, A> {
    arrays: &'a mut A,
    sizes: &'a [usize],
    next: usize,
}

impl<A: Drain> OutOfBand for Tracked<'_, A> {
    fn threshold(&self) -> usize {
        OUT_OF_BAND_BYTES
    }
    fn send(&mut self, _: &[u8]) -> Result<()> {
        Err(Error::invalid("nothing to send while receiving"))
    }
    fn receive(&mut self, buf: &mut [MaybeUninit<u8>]) -> Result<()> {
        match self.sizes.get(self.next) {
            Some(&n) if n == buf.len() => {
                self.next += 1;
                self.arrays.receive(buf)
            }
            _ => Err(Error::invalid(
                "an array sent apart does not match the message",
            )),
        }
    }
}

/// Array transports that can also receive and drop a part.
trait Drain: OutOfBand {
    /// Receives `len` bytes and drops them, a chunk at a time.
    fn drain(&mut self, len: usize) {
        let mut scratch = vec![MaybeUninit::<u8>::uninit(); len.min(CHUNK)];
        let mut left = len;
        while left > 0 {
            let n = left.min(CHUNK);
            let _ = self.receive(&mut scratch[..n]);
            left -= n;
        }
    }
}

impl Drain for BcastArrays<'_> {}
impl Drain for PeerArrays<'_> {}

/// Records the sizes of the arrays that would travel apart (pass 1 of sending).
#[derive(Default)]
struct Sizes(Vec<usize>);

impl OutOfBand for Sizes {
    fn threshold(&self) -> usize {
        OUT_OF_BAND_BYTES
    }
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.0.push(bytes.len());
        Ok(())
    }
    fn receive(&mut self, _: &mut [MaybeUninit<u8>]) -> Result<()> {
        Err(Error::invalid("nothing to receive"))
    }
}

/// Array buffers by broadcast.
struct BcastArrays<'w> {
    world: &'w World,
    root: usize,
}

impl OutOfBand for BcastArrays<'_> {
    fn threshold(&self) -> usize {
        OUT_OF_BAND_BYTES
    }
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.world.bcast_raw(self.root, BcastData::Send(bytes));
        Ok(())
    }
    fn receive(&mut self, buf: &mut [MaybeUninit<u8>]) -> Result<()> {
        let buf = recv_uninit(buf);
        advise_huge_pages(buf);
        self.world.bcast_raw(self.root, BcastData::Receive(buf));
        Ok(())
    }
}

/// Array buffers by point-to-point messages with the user's tag (they follow the message).
struct PeerArrays<'w> {
    world: &'w World,
    peer: usize,
    tag: i32,
}

impl OutOfBand for PeerArrays<'_> {
    fn threshold(&self) -> usize {
        OUT_OF_BAND_BYTES
    }
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        self.world
            .send_chunks(&self.world.comm, bytes, self.peer, self.tag);
        Ok(())
    }
    fn receive(&mut self, buf: &mut [MaybeUninit<u8>]) -> Result<()> {
        let buf = recv_uninit(buf);
        advise_huge_pages(buf);
        if self
            .world
            .receive_chunks(&self.world.comm, buf, self.peer, self.tag)
        {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "recv: an array from rank {} (tag {}) arrived shorter than announced",
                self.peer, self.tag
            )))
        }
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
