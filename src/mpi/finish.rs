//! The end of the job: `done()` is collective and checks that every user message sent was
//! received.
//!
//! Each rank counts the user messages (`send` calls) it sends to each rank and those it
//! takes in (`recv` calls that consumed one) from each rank. `done()` then:
//!
//! 1. sends every other rank a notice on the user's communicator, with the reserved tag
//!    `MPI_TAG_UB`: the number of messages it sent to that rank, one `u64` (`MPI_Isend`:
//!    nobody may be receiving yet). MPI delivers it after every message this rank sent
//!    before on that communicator (messages between two ranks on one communicator do not
//!    overtake each other), so a receiver that finds the notice knows nothing more comes;
//! 2. takes in the messages that reach it until it has every other rank's notice (one may
//!    already be taken in by a `recv`, see below): the user messages among them were never
//!    received, and are dropped (arrays included; a sender blocked in a large, rendezvous
//!    `MPI_Send` to this rank could otherwise never reach its own `done()`); so are the
//!    messages this rank sent itself and did not receive;
//! 3. all-gathers every rank's counts (sent to and received from each rank) on the internal
//!    communicator, so that every rank sees the same table;
//! 4. fails, on every rank alike, if a rank sent another number of messages to a rank than
//!    that rank received: `rank 1 sent 3 objects to rank 2, which received 2`.
//!
//! No message is left unmatched, so MPI is then finalised cleanly even after a mismatch.
//!
//! A rank in `recv` probes for the source's next message with any tag: when that is the
//! source's notice, the receive fails naming the source and the tag, instead of waiting for
//! ever (`point_to_point`).

use mpi::traits::*;

use super::objects;
use super::world::World;
use crate::error::{Error, Result};

impl World {
    /// Takes in the `done()` notice of `source` (probed: the next message from it) and
    /// remembers it: the number of user messages `source` sent to this rank.
    pub(super) fn take_notice(&self, source: usize) -> u64 {
        let mut sent = 0u64;
        self.comm
            .process_at_rank(source as i32)
            .receive_into_with_tag(&mut sent, self.done_tag);
        self.peer_done[source].set(Some(sent));
        sent
    }

    /// Takes in the next user message from `source` (tag `tag`, first part `count` bytes)
    /// and drops it, arrays included.
    fn drop_message(&self, source: usize, tag: i32, count: usize) {
        // A decoder that declines: `receive_framed` then takes in the arrays and drops them.
        let _ = self.receive_message(source, tag, count, |_, _| {
            Err::<(), _>(Error::invalid("dropped"))
        });
    }

    /// `done()`: see the module documentation.
    pub(super) fn finish(&self) -> Result<()> {
        let (rank, size) = (self.rank, self.size);
        let notices: Vec<u64> = self.sent.iter().map(|c| c.get()).collect();
        let mut dropped = vec![0u64; size];
        let table = mpi::request::scope(|scope| {
            // 1. Notices to every other rank.
            let requests: Vec<_> = (0..size)
                .filter(|&r| r != rank)
                .map(|r| {
                    self.comm.process_at_rank(r as i32).immediate_send_with_tag(
                        scope,
                        &notices[r],
                        self.done_tag,
                    )
                })
                .collect();
            // 2. Everyone else's notices; the user messages before them are dropped.
            while (0..size).any(|r| r != rank && self.peer_done[r].get().is_none()) {
                let status = self.comm.any_process().probe();
                let source = status.source_rank() as usize;
                if status.tag() == self.done_tag {
                    self.take_notice(source);
                } else {
                    let count = status.count(u8::equivalent_datatype()) as usize;
                    self.drop_message(source, status.tag(), count);
                    dropped[source] += 1;
                }
            }
            // The messages this rank sent itself and did not receive (already there: a
            // send to oneself that returned has been delivered).
            let unread = notices[rank].saturating_sub(self.received[rank].get());
            while dropped[rank] < unread {
                let status = self.comm.process_at_rank(rank as i32).probe();
                let count = status.count(u8::equivalent_datatype()) as usize;
                self.drop_message(rank, status.tag(), count);
                dropped[rank] += 1;
            }
            // 3. The table of counts: row r holds what rank r sent to each rank, then what
            // it received from each rank.
            let mut mine: Vec<u64> = notices.clone();
            mine.extend(self.received.iter().map(|c| c.get()));
            let mut table = vec![0u64; 2 * size * size];
            self.internal.all_gather_into(&mine[..], &mut table[..]);
            for request in requests {
                request.wait();
            }
            table
        });
        let sent = |s: usize, d: usize| table[2 * size * s + d];
        let received = |d: usize, s: usize| table[2 * size * d + size + s];
        // 4. The check, the same on every rank.
        let mismatches: Vec<String> = (0..size)
            .flat_map(|s| (0..size).map(move |d| (s, d)))
            .filter(|&(s, d)| sent(s, d) != received(d, s))
            .map(|(s, d)| {
                format!(
                    "rank {s} sent {} to rank {d}, which received {}",
                    objects(sent(s, d)),
                    received(d, s)
                )
            })
            .collect();
        if mismatches.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "done(): messages sent but never received: {}",
                mismatches.join("; ")
            )))
        }
    }
}
