//! Message framing: the head of a point-to-point message, and the frame every message
//! travels in, which lists the sizes of the arrays sent apart from it so that a receiver
//! can check and, on a failed decode, drain them.

use std::mem::MaybeUninit;

use serde::Serialize;

use super::buffer::CHUNK;
use crate::error::{Error, Result};
use crate::wire::{self, OutOfBand};

/// Arrays of at least this many bytes travel apart from the message, without a copy.
pub(super) const OUT_OF_BAND_BYTES: usize = 1 << 20;

/// Starts every point-to-point message, so that a receive never trusts a stray message.
pub(super) const MAGIC: [u8; 4] = *b"ANAM";
/// The magic number and the frame's length.
pub(super) const P2P_HEAD: usize = 12;

/// Encodes `value` as a frame: the number and sizes of the arrays that travel apart, then
/// the message. Returns the frame and the number of such arrays.
pub(super) fn frame<T: ?Sized + Serialize>(value: &T) -> Result<(Vec<u8>, usize)> {
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
pub(super) fn receive_framed<A: Drain, R>(
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
pub(super) trait Drain: OutOfBand {
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
