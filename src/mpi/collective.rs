//! Collectives: broadcast of any value, scatter and gather of arrays (rows along axis 0)
//! and of lists. Byte counts above MPI's `int` range fall back to chunked point-to-point
//! messages on the internal communicator.

use std::mem::MaybeUninit;
use std::os::raw::c_void;

use mpi::datatype::{Partition, PartitionMut};
use mpi::traits::*;
use ndarray::{ArrayBase, ArrayD, ArrayViewD, DataMut, Dimension};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::buffer::{
    advise_huge_pages, copy_into, elements_as_recv, receive_array, receive_rows, recv_bytes,
    recv_uninit, RecvByte, CHUNK,
};
use super::frame::{frame, receive_framed, Drain, OUT_OF_BAND_BYTES};
use super::world::{tags, World};
use super::{scatter_indices, MAX_GATHER_RANK};
use crate::dtype;
use crate::dtype::{DType, Element};
use crate::error::{Error, Result};
use crate::wire::{self, OutOfBand};

/// The first broadcast of a message: its length, and the message itself when it fits.
const FIRST_BLOCK: usize = 256;

impl World {
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
                        self.send_chunks(&self.internal, part, r, tags::SCATTER);
                    }
                    start += n;
                }
            }
            (None, false) => {
                // Anam's own messages on its internal communicator: the sizes match.
                let _ = self.receive_chunks(&self.internal, recv, root, tags::SCATTER);
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
                            let _ = self.receive_chunks(
                                &self.internal,
                                recv_bytes(part),
                                r,
                                tags::GATHER,
                            );
                        }
                        start += n;
                    }
                } else {
                    self.send_chunks(&self.internal, send, at, tags::GATHER);
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

    /// The root's `(dtype name, shape)` of an array, broadcast to every rank.
    fn bcast_meta(
        &self,
        root: usize,
        meta: Option<(&str, &[usize])>,
    ) -> Result<(String, Vec<usize>)> {
        match meta {
            Some((dtype, shape)) => {
                let m = (dtype.to_string(), shape.to_vec());
                self.bcast_message(root, Some(&wire::encode(&m, None)?));
                Ok(m)
            }
            None => wire::decode(&self.bcast_message(root, None), None),
        }
    }

    pub(super) fn scatter_array<T: Element>(
        &self,
        array: Option<ArrayViewD<'_, T>>,
        root: usize,
    ) -> Result<ArrayD<T>> {
        // Every rank learns the dtype and shape; each checks the dtype against its own `T`.
        let (dtype, shape) =
            self.bcast_meta(root, array.as_ref().map(|a| (T::DTYPE.name(), a.shape())))?;
        let elem = dtype_named(&dtype)?;
        let row_bytes = shape[1..].iter().product::<usize>() * elem.size();
        let rows = scatter_indices(shape[0], self.size);
        let counts: Vec<usize> = rows.iter().map(|(a, b)| (b - a) * row_bytes).collect();
        let (a, b) = rows[self.rank];
        if elem != T::DTYPE {
            // Take part all the same (the other ranks are in the scatter), then fail.
            let mut scratch = vec![0u8; counts[self.rank]];
            self.scatterv(root, None, recv_bytes(&mut scratch));
            return Err(Error::invalid(format!(
                "scatter_array: the root sends {dtype}, rank {} expects {}",
                self.rank,
                T::DTYPE
            )));
        }
        let standard = array.as_ref().map(|a| a.as_standard_layout());
        let send = standard.as_ref().map(|s| {
            (
                dtype::as_bytes(s.as_slice().expect("standard layout is contiguous")),
                &counts[..],
            )
        });
        receive_rows(b - a, &shape[1..], |buf| self.scatterv(root, send, buf))
    }

    /// Broadcasts the root's `array` into the arrays of the other ranks, straight into
    /// their memory when it is contiguous (standard layout) and not `bool`. A rank whose
    /// array has another dtype or shape than the root's takes part in the broadcast, drops
    /// the data and fails (its array unchanged).
    pub(super) fn bcast_array_into<T, S, D>(
        &self,
        array: &mut ArrayBase<S, D>,
        root: usize,
    ) -> Result<()>
    where
        T: Element,
        S: DataMut<Elem = T>,
        D: Dimension,
    {
        if self.rank == root {
            self.bcast_meta(root, Some((T::DTYPE.name(), array.shape())))?;
            let standard = array.as_standard_layout();
            let bytes =
                dtype::as_bytes(standard.as_slice().expect("standard layout is contiguous"));
            self.bcast_raw(root, BcastData::Send(bytes));
            return Ok(());
        }
        let (dtype, shape) = self.bcast_meta(root, None)?;
        let len = shape
            .iter()
            .try_fold(dtype_named(&dtype)?.size(), |n, &d| n.checked_mul(d))
            .ok_or_else(|| Error::invalid("bcast_array_into: the root's array is too large"))?;
        if dtype != T::DTYPE.name() || shape != array.shape() {
            BcastArrays { world: self, root }.drain(len);
            return Err(Error::invalid(format!(
                "bcast_array_into: the root (rank {root}) sends a {dtype} array of shape \
                 {shape:?}, rank {}'s array is {} of shape {:?}; nothing was received",
                self.rank,
                T::DTYPE,
                array.shape()
            )));
        }
        if T::DTYPE != DType::Bool {
            if let Some(elements) = array.as_slice_mut() {
                self.bcast_raw(root, BcastData::Receive(elements_as_recv(elements)));
                return Ok(());
            }
        }
        // Booleans (checked as bytes first) and arrays not in standard layout: through a
        // new array.
        let got = receive_array::<T>(&shape, |buf| self.bcast_raw(root, BcastData::Receive(buf)))?;
        array.assign(&got);
        Ok(())
    }

    pub(super) fn gather<T: Element>(
        &self,
        array: ArrayViewD<'_, T>,
        root: Option<usize>,
    ) -> Result<Option<ArrayD<T>>> {
        // `MpiHandler::gather` checked the rank: 1 to MAX_GATHER_RANK.
        debug_assert!((1..=MAX_GATHER_RANK).contains(&array.ndim()));
        // Each rank's rows, dtype and trailing shape, so that every rank can check them.
        let mut header = vec![0u64; 3 + MAX_GATHER_RANK];
        header[0] = array.shape()[0] as u64;
        header[1] = u64::from(T::DTYPE.code());
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
        let send = dtype::as_bytes(standard.as_slice().expect("standard layout is contiguous"));
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

    /// Gathers every rank's items, in rank order, on the ranks whose `return_all` is true;
    /// the others get an empty list without receiving (or decoding) anyone's items.
    ///
    /// Each rank passes its own flag, and every rank must take part in the same
    /// collectives: the flags travel with the sizes (one allgather, as before), so that all
    /// ranks agree on the ranks that asked. Then one allgather if they all did, else one
    /// gather to each rank that asked (none if no rank did).
    pub(super) fn gather_list<T: Serialize + DeserializeOwned>(
        &self,
        items: &[T],
        return_all: bool,
    ) -> Result<Vec<T>> {
        let mine = wire::encode(items, None)?;
        let header = self.allgather_u64s(&[mine.len() as u64, u64::from(return_all)]);
        let counts: Vec<usize> = header.chunks(2).map(|h| h[0] as usize).collect();
        let askers: Vec<usize> = (0..self.size).filter(|&r| header[2 * r + 1] == 1).collect();
        let mut all = return_all.then(|| vec![0u8; counts.iter().sum()]);
        if askers.len() == self.size {
            self.gatherv(None, &mine, all.as_deref_mut().map(recv_bytes), &counts);
        } else {
            for &at in &askers {
                let recv = if at == self.rank {
                    all.as_deref_mut().map(recv_bytes)
                } else {
                    None
                };
                self.gatherv(Some(at), &mine, recv, &counts);
            }
        }
        let Some(all) = all else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        let mut start = 0;
        for n in counts {
            out.extend(wire::decode::<Vec<T>>(&all[start..start + n], None)?);
            start += n;
        }
        Ok(out)
    }
}

/// The dtype the root named (the same crate on every rank: a name always matches one).
fn dtype_named(name: &str) -> Result<DType> {
    DType::from_name(name).ok_or_else(|| Error::invalid(format!("unknown dtype {name}")))
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

impl Drain for BcastArrays<'_> {}
