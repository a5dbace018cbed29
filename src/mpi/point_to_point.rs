//! Point-to-point messages: `send` and `recv` on the user's communicator, each message
//! led by the magic number and its frame's length; arrays sent apart follow it with the
//! same tag.
//!
//! `recv` probes for the source's next message with any tag: the one expected, one with
//! another tag (an error naming both), or the source's `done()` notice (see `finish`),
//! which MPI delivers after every message the source sent before it: then nothing more
//! will come, and the receive is an error naming the source and the tag instead of a
//! hang. `recv_timeout` polls (`MPI_Iprobe`) until its deadline.

use std::mem::MaybeUninit;
use std::time::{Duration, Instant};

use mpi::point_to_point::Status;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use serde::Serialize;

use super::buffer::{advise_huge_pages, recv_bytes, recv_uninit, RecvByte, CHUNK};
use super::frame::{frame, receive_framed, Drain, MAGIC, OUT_OF_BAND_BYTES, P2P_HEAD};
use super::world::World;
use super::{objects, tag_mismatch};
use crate::error::{Error, Result};
use crate::wire::{self, OutOfBand};

impl World {
    /// Sends `bytes` to `dest` on `comm` as messages of at most [`CHUNK`] bytes.
    pub(super) fn send_chunks(
        &self,
        comm: &SimpleCommunicator,
        bytes: &[u8],
        dest: usize,
        tag: i32,
    ) {
        let dest = comm.process_at_rank(dest as i32);
        for chunk in bytes.chunks(CHUNK) {
            dest.send_with_tag(chunk, tag);
        }
    }

    /// Receives `buf.len()` bytes in chunks; `false` if a message was shorter than its
    /// chunk (another sender's message on this tag). The buffer is initialised either way:
    /// whatever a short message left is zeroed.
    #[must_use]
    pub(super) fn receive_chunks(
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
        self.check_tag(tag)?;
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
        // Counted once its first part is out: the receiver counts it when it takes that in.
        let sent = &self.sent[dest];
        sent.set(sent.get() + 1);
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

    /// Checks a user's tag: `0..done_tag` (the largest tag MPI allows is the library's own).
    pub(super) fn check_tag(&self, tag: i32) -> Result<()> {
        if (0..self.done_tag).contains(&tag) {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "tag {tag} is out of range: tags go from 0 to {} (MPI_TAG_UB, {}, is \
                 reserved by anam)",
                self.done_tag - 1,
                self.done_tag
            )))
        }
    }

    /// Receives the next message from `source`, which must have tag `tag`; waits at most
    /// `timeout` for it to start arriving (for ever with `None`, unless `source` calls
    /// `done()` without sending it).
    pub(super) fn recv<R>(
        &self,
        source: usize,
        tag: i32,
        timeout: Option<Duration>,
        decode: impl FnOnce(&[u8], Option<&mut dyn OutOfBand>) -> Result<R>,
    ) -> Result<R> {
        self.check_tag(tag)?;
        let status = self.next_message(source, tag, timeout)?;
        if status.tag() != tag {
            return Err(tag_mismatch(source, tag, status.tag()));
        }
        let count = status.count(u8::equivalent_datatype()) as usize;
        let received = &self.received[source];
        received.set(received.get() + 1);
        self.receive_message(source, tag, count, decode)
    }

    /// The status of the next user message from `source` (waiting at most `timeout` for
    /// it), or an error if `source` has called `done()` first.
    fn next_message(&self, source: usize, tag: i32, timeout: Option<Duration>) -> Result<Status> {
        if let Some(sent) = self.peer_done[source].get() {
            return Err(self.finished_error(source, tag, sent));
        }
        let process = self.comm.process_at_rank(source as i32);
        let status = match timeout {
            None => process.probe(),
            Some(timeout) => {
                let deadline = Instant::now() + timeout;
                let mut polls = 0u32;
                loop {
                    if let Some(status) = process.immediate_probe() {
                        break status;
                    }
                    polls = polls.wrapping_add(1);
                    // The clock every 64 polls: it costs about as much as a poll.
                    if polls % 64 == 0 {
                        if Instant::now() >= deadline {
                            return Err(Error::invalid(format!(
                                "recv: no message from rank {source} (tag {tag}) within \
                                 {timeout:?}"
                            )));
                        }
                        // Past the first thousand polls, leave the core to others between
                        // polls: ranks often outnumber cores.
                        if polls >= 1024 {
                            std::thread::yield_now();
                        }
                    }
                }
            }
        };
        if status.tag() == self.done_tag {
            let sent = self.take_notice(source);
            return Err(self.finished_error(source, tag, sent));
        }
        Ok(status)
    }

    /// The error of a receive from `source`, which has called `done()` after sending this
    /// rank `sent` messages, all received.
    fn finished_error(&self, source: usize, tag: i32, sent: u64) -> Error {
        let rank = self.rank;
        Error::invalid(format!(
            "recv: rank {source} has called done() and will send nothing more; rank {rank} \
             waits for a message with tag {tag} from it (rank {source} sent {} to rank {rank}, \
             all received)",
            objects(sent)
        ))
    }

    /// Receives the message from `source` whose first part (`count` bytes, tag `tag`) was
    /// probed, its remaining parts and its arrays, and decodes it.
    pub(super) fn receive_message<R>(
        &self,
        source: usize,
        tag: i32,
        count: usize,
        decode: impl FnOnce(&[u8], Option<&mut dyn OutOfBand>) -> Result<R>,
    ) -> Result<R> {
        let process = self.comm.process_at_rank(source as i32);
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
}

impl Drain for PeerArrays<'_> {}

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
