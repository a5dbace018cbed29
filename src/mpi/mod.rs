//! [`MpiHandler`]: objects and arrays between MPI ranks (Python's `anamnesis.MPIHandler`).
//!
//! Every value travels as one message in the crate's [wire format](crate::wire); large array
//! buffers (1 MiB and more) travel apart from it, straight out of and into the arrays'
//! memory. Messages of any size work: transfers are split in chunks under MPI's 2 GiB limit.
//!
//! Built with the `mpi` feature, `MpiHandler::new(true)` uses MPI (rsmpi); otherwise, or
//! with `new(false)`, a local backend with rank 0 and size 1 behaves as Python's
//! `NullMPIImplementor`, so one program runs with and without MPI.
//!
//! Failures do not hang the other ranks: a panic on a rank prints `rank N: <message>` and
//! aborts the whole job (`MPI_Abort`), and so does a handler dropped without
//! [`done`](MpiHandler::done). [`run`] does the same for an error returned by the program.
//!
//! ```
//! # fn main() -> anam::Result<()> {
//! let m = anam::MpiHandler::new(false)?; // local: rank 0 of 1
//! let data: Vec<f64> = m.bcast(Some(vec![1.0, 2.0]), 0)?;
//! assert_eq!((m.rank(), m.size(), data), (0, 1, vec![1.0, 2.0]));
//! assert_eq!(m.get_scatter_indices(100), vec![(0, 100)]);
//! m.done();
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "mpi")]
mod buffer;
#[cfg(feature = "mpi")]
mod collective;
#[cfg(feature = "mpi")]
mod frame;
#[cfg(feature = "mpi")]
mod point_to_point;
#[cfg(feature = "mpi")]
mod world;

use std::cell::RefCell;
use std::collections::VecDeque;

use ndarray::ArrayD;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::dtype::Element;
use crate::error::{Error, ErrorKind, Result};
use crate::object::AnamObject;
use crate::wire;

/// Objects and arrays between MPI ranks; see the [module documentation](self).
pub struct MpiHandler {
    backend: Backend,
    done: bool,
}

enum Backend {
    /// One process: messages a rank sends itself wait in a queue.
    Local(RefCell<VecDeque<(i32, Vec<u8>)>>),
    #[cfg(feature = "mpi")]
    Mpi(world::World),
}

/// Runs `f` with a handler, then calls [`done`](MpiHandler::done); an error from `f` is
/// printed as `rank N: <error>` and aborts the whole job, so no rank waits for ever.
pub fn run<F>(use_mpi: bool, f: F) -> Result<()>
where
    F: FnOnce(&MpiHandler) -> Result<()>,
{
    let m = MpiHandler::new(use_mpi)?;
    match f(&m) {
        Ok(()) => {
            m.done();
            Ok(())
        }
        Err(e) => m.fail(&e.to_string()),
    }
}

impl MpiHandler {
    /// A handler: MPI when `use_mpi` is true and the crate is built with the `mpi` feature
    /// (an error if MPI cannot be initialised, e.g. twice), the local backend otherwise.
    pub fn new(use_mpi: bool) -> Result<MpiHandler> {
        #[cfg(feature = "mpi")]
        if use_mpi {
            return Ok(MpiHandler {
                backend: Backend::Mpi(world::World::init()?),
                done: false,
            });
        }
        let _ = use_mpi;
        Ok(MpiHandler {
            backend: Backend::Local(RefCell::new(VecDeque::new())),
            done: false,
        })
    }

    /// Whether MPI is in use (false for the local backend).
    pub fn is_mpi(&self) -> bool {
        !matches!(self.backend, Backend::Local(_))
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        match &self.backend {
            Backend::Local(_) => 0,
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.rank(),
        }
    }

    /// The number of ranks.
    pub fn size(&self) -> usize {
        match &self.backend {
            Backend::Local(_) => 1,
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.size(),
        }
    }

    /// Whether this is rank 0.
    pub fn is_master(&self) -> bool {
        self.rank() == 0
    }

    fn check_rank(&self, rank: usize, what: &str) -> Result<()> {
        if rank < self.size() {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "{what} rank {rank} does not exist (size {})",
                self.size()
            )))
        }
    }

    /// What the root passes to a collective: `Some` on the root (an error with `missing` if
    /// it passed nothing), `None` elsewhere (whatever the rank passed is not used).
    fn at_root<V>(&self, value: Option<V>, root: usize, missing: &str) -> Result<Option<V>> {
        self.check_rank(root, "root")?;
        if self.rank() != root {
            return Ok(None);
        }
        value.map(Some).ok_or_else(|| Error::invalid(missing))
    }

    /// Broadcasts `value` from `root`: the root passes `Some(value)` and gets it back (no
    /// copy), every other rank passes `None` and gets a new copy (its init hooks run, as for
    /// any load).
    ///
    /// Python's `bcast` returns the root its own object too; taking the value by move lets
    /// the root keep it without a copy.
    pub fn bcast<T: Serialize + DeserializeOwned>(
        &self,
        value: Option<T>,
        root: usize,
    ) -> Result<T> {
        match self.bcast_from(value, root)? {
            Ok(own) => Ok(own),
            Err(()) => self.bcast_receive(root, |bytes, oob| wire::decode(bytes, oob)),
        }
    }

    /// Broadcasts an object of any registered class; receivers learn its type from its tag.
    pub fn bcast_obj(
        &self,
        value: Option<Box<dyn AnamObject>>,
        root: usize,
    ) -> Result<Box<dyn AnamObject>> {
        match self.bcast_from(value, root)? {
            Ok(own) => Ok(own),
            Err(()) => self.bcast_receive(root, |bytes, oob| wire::decode_object(bytes, oob)),
        }
    }

    /// On the root: sends the value and returns `Ok(value)`; elsewhere `Err(())` (receive).
    fn bcast_from<B: Serialize>(
        &self,
        value: Option<B>,
        root: usize,
    ) -> Result<std::result::Result<B, ()>> {
        let missing = format!("bcast: the root (rank {root}) has no value");
        let Some(value) = self.at_root(value, root, &missing)? else {
            return Ok(Err(()));
        };
        match &self.backend {
            Backend::Local(_) => {}
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.bcast_send(&value, root)?,
        }
        Ok(Ok(value))
    }

    #[cfg_attr(not(feature = "mpi"), allow(unused_variables))]
    fn bcast_receive<R>(
        &self,
        root: usize,
        decode: impl FnOnce(&[u8], Option<&mut dyn wire::OutOfBand>) -> Result<R>,
    ) -> Result<R> {
        match &self.backend {
            Backend::Local(_) => unreachable!("the only local rank is the root"),
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.bcast_receive(root, decode),
        }
    }

    /// Sends `value` to rank `dest` with message tag `tag`.
    pub fn send<T: ?Sized + Serialize>(&self, value: &T, dest: usize, tag: i32) -> Result<()> {
        self.check_rank(dest, "destination")?;
        match &self.backend {
            Backend::Local(queue) => {
                queue
                    .borrow_mut()
                    .push_back((tag, wire::encode(value, None)?));
                Ok(())
            }
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.send(value, dest, tag),
        }
    }

    /// Receives a `T` sent from rank `source` with tag `tag`. The next message from `source`
    /// must have that tag and type: otherwise the error names both tags.
    pub fn recv<T: DeserializeOwned>(&self, source: usize, tag: i32) -> Result<T> {
        self.recv_with(source, tag, |bytes, oob| wire::decode(bytes, oob))
    }

    /// Receives an object of any registered class from rank `source`.
    pub fn recv_obj(&self, source: usize, tag: i32) -> Result<Box<dyn AnamObject>> {
        self.recv_with(source, tag, |bytes, oob| wire::decode_object(bytes, oob))
    }

    fn recv_with<R>(
        &self,
        source: usize,
        tag: i32,
        decode: impl FnOnce(&[u8], Option<&mut dyn wire::OutOfBand>) -> Result<R>,
    ) -> Result<R> {
        self.check_rank(source, "source")?;
        match &self.backend {
            Backend::Local(queue) => {
                let mut queue = queue.borrow_mut();
                let found = queue.front().map(|(t, _)| *t).ok_or_else(|| {
                    Error::invalid(format!("recv: no message from rank {source} (tag {tag})"))
                })?;
                if found != tag {
                    // The message stays for the receive that expects its tag.
                    return Err(tag_mismatch(source, tag, found));
                }
                let (_, bytes) = queue.pop_front().expect("checked above");
                drop(queue);
                decode(&bytes, None)
            }
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.recv(source, tag, decode),
        }
    }

    /// The `(start, end)` rows of each rank when `n` rows are split among the ranks: the
    /// first `n % size` ranks get one more.
    pub fn get_scatter_indices(&self, n: usize) -> Vec<(usize, usize)> {
        scatter_indices(n, self.size())
    }

    /// Splits the root's array along axis 0 among the ranks (see
    /// [`get_scatter_indices`](Self::get_scatter_indices)); each rank gets its rows.
    pub fn scatter_array<T: Element>(
        &self,
        array: Option<&ArrayD<T>>,
        root: usize,
    ) -> Result<ArrayD<T>> {
        let array = self.at_root(array, root, "scatter_array: the root has no array")?;
        if array.is_some_and(|a| a.ndim() == 0) {
            return Err(Error::invalid(
                "scatter_array: a 0-d array has no rows to split",
            ));
        }
        match &self.backend {
            Backend::Local(_) => Ok(array.expect("the only rank is the root").to_owned()),
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.scatter_array(array, root),
        }
    }

    /// Gathers every rank's array along axis 0 on `root` (`Some` there, `None` elsewhere).
    /// All arrays must have the same dtype and the same shape after axis 0.
    pub fn gather<T: Element>(&self, array: &ArrayD<T>, root: usize) -> Result<Option<ArrayD<T>>> {
        self.check_rank(root, "root")?;
        match &self.backend {
            Backend::Local(_) => Ok(Some(array.to_owned())),
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.gather(array, Some(root)),
        }
    }

    /// Gathers every rank's array along axis 0 on every rank.
    pub fn allgather<T: Element>(&self, array: &ArrayD<T>) -> Result<ArrayD<T>> {
        match &self.backend {
            Backend::Local(_) => Ok(array.to_owned()),
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w
                .gather(array, None)
                .map(|a| a.expect("allgather returns everywhere")),
        }
    }

    /// Splits the root's list among the ranks (as [`get_scatter_indices`](Self::get_scatter_indices)).
    pub fn scatter_list<T: Serialize + DeserializeOwned>(
        &self,
        items: Option<&[T]>,
        root: usize,
    ) -> Result<Vec<T>> {
        let items = self.at_root(items, root, "scatter_list: the root has no list")?;
        match &self.backend {
            Backend::Local(_) => wire::decode(
                &wire::encode(items.expect("the only rank is the root"), None)?,
                None,
            ),
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.scatter_list(items, root),
        }
    }

    /// Gathers every rank's part of a list of `total` items: ranks passing `return_all` get
    /// the whole list in rank order, the others an empty list (as Python's `gather_list`).
    /// Each rank passes its own flag; the items travel only to the ranks that ask.
    pub fn gather_list<T: Serialize + DeserializeOwned>(
        &self,
        items: &[T],
        total: usize,
        return_all: bool,
    ) -> Result<Vec<T>> {
        let all: Vec<T> = match &self.backend {
            Backend::Local(_) => wire::decode(&wire::encode(items, None)?, None)?,
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.gather_list(items, return_all)?,
        };
        if !return_all {
            return Ok(Vec::new());
        }
        if all.len() != total {
            return Err(Error::invalid(format!(
                "gather_list: expected {total} items, the ranks hold {}",
                all.len()
            )));
        }
        Ok(all)
    }

    /// Ends the job normally (MPI is finalised when the handler is dropped here).
    pub fn done(mut self) {
        self.done = true;
    }

    /// Aborts the whole job with `code` (every rank stops).
    pub fn abort(&self, code: i32) -> ! {
        match &self.backend {
            Backend::Local(_) => std::process::exit(code),
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.abort(code),
        }
    }

    /// Prints `rank N: <message>` to stderr and aborts the job.
    fn fail(&self, message: &str) -> ! {
        report(self.rank(), message, self.is_mpi());
        self.abort(1)
    }
}

impl Drop for MpiHandler {
    fn drop(&mut self) {
        if self.done || !self.is_mpi() {
            return;
        }
        // Other ranks may be waiting for this one: do not leave them hanging.
        let why = if std::thread::panicking() {
            "panicked"
        } else {
            "dropped without done()"
        };
        self.fail(&format!("MpiHandler {why}; aborting the job"));
    }
}

/// Writes `rank N: <message>` to stderr in one write. Under MPI, waits a moment before the
/// caller aborts: the launcher (e.g. MPICH's hydra) tears the job down on `MPI_Abort` and
/// may otherwise drop output the rank has already written.
pub(crate) fn report(rank: usize, message: &str, under_mpi: bool) {
    use std::io::Write;
    let line = format!("rank {rank}: {message}\n");
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(line.as_bytes());
    let _ = err.flush();
    drop(err);
    if under_mpi {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

fn tag_mismatch(source: usize, expected: i32, found: i32) -> Error {
    ErrorKind::Invalid(format!(
        "recv: expected a message with tag {expected} from rank {source}, the next one has tag {found}"
    ))
    .into()
}

/// The `(start, end)` rows of each of `size` ranks for `n` rows.
pub(crate) fn scatter_indices(n: usize, size: usize) -> Vec<(usize, usize)> {
    let (base, extra) = (n / size, n % size);
    let mut start = 0;
    (0..size)
        .map(|r| {
            let len = base + usize::from(r < extra);
            let range = (start, start + len);
            start += len;
            range
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scatter_indices_like_python() {
        assert_eq!(scatter_indices(100, 3), vec![(0, 34), (34, 67), (67, 100)]);
        assert_eq!(scatter_indices(2, 3), vec![(0, 1), (1, 2), (2, 2)]);
        assert_eq!(scatter_indices(0, 2), vec![(0, 0), (0, 0)]);
    }
}
