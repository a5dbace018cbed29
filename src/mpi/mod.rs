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
//! Failures do not hang the other ranks:
//!
//! - a panic that escapes the closure of [`run`], or unwinds through a live handler, prints
//!   `rank N: <message>` and aborts the whole job (`MPI_Abort`); so does an error returned
//!   by the closure of [`run`], and a handler dropped without [`done`](MpiHandler::done).
//!   A panic the program catches (`catch_unwind`, a thread's panic seen through `join`)
//!   is left to the program: no panic hook is installed.
//! - [`done`](MpiHandler::done) is collective and checks that every message sent was
//!   received, on every rank alike: `rank 1 sent 3 objects to rank 2, which received 2`.
//! - a rank waiting in [`recv`](MpiHandler::recv) for a message from a rank that has
//!   called `done()` without sending it gets an error naming the source and the tag,
//!   instead of waiting for ever; [`recv_timeout`](MpiHandler::recv_timeout) bounds the
//!   wait.
//!
//! ```
//! # fn main() -> anam::Result<()> {
//! let m = anam::MpiHandler::new(false)?; // local: rank 0 of 1
//! let data: Vec<f64> = m.bcast(Some(vec![1.0, 2.0]), 0)?;
//! assert_eq!((m.rank(), m.size(), data), (0, 1, vec![1.0, 2.0]));
//! assert_eq!(m.get_scatter_indices(100), vec![(0, 100)]);
//! m.done()?;
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "mpi")]
mod buffer;
#[cfg(feature = "mpi")]
mod collective;
#[cfg(feature = "mpi")]
mod finish;
#[cfg(feature = "mpi")]
mod frame;
#[cfg(feature = "mpio")]
mod pio;
#[cfg(feature = "mpi")]
mod point_to_point;
#[cfg(feature = "mpi")]
mod world;

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use ndarray::{Array, ArrayBase, Data, DataMut, Dimension};
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
    Local(Local),
    #[cfg(feature = "mpi")]
    Mpi(world::World),
}

/// One process: messages a rank sends itself wait in a queue.
#[derive(Default)]
struct Local {
    queue: RefCell<VecDeque<(i32, Vec<u8>)>>,
    /// Messages sent, and taken from the queue.
    sent: Cell<u64>,
    received: Cell<u64>,
}

/// Runs `f` with a handler, then calls [`done`](MpiHandler::done).
///
/// An error returned by `f`, or a panic escaping it, is printed as `rank N: <message>` and
/// aborts the whole job (under MPI; without MPI, an error exits the process with status 1
/// and a panic goes on unwinding), so no rank waits for ever. The error of `done()`
/// (messages sent and never received) is returned: every rank gets it alike, MPI is
/// finalised.
pub fn run<F>(use_mpi: bool, f: F) -> Result<()>
where
    F: FnOnce(&MpiHandler) -> Result<()>,
{
    let m = MpiHandler::new(use_mpi)?;
    match std::panic::catch_unwind(AssertUnwindSafe(|| f(&m))) {
        Ok(Ok(())) => m.done(),
        Ok(Err(e)) => m.fail(&e.to_string()),
        Err(payload) if !m.is_mpi() => std::panic::resume_unwind(payload),
        Err(payload) => m.fail(&panic_message(payload.as_ref())),
    }
}

/// The message of a panic's payload (`panic!("...")` carries a `&str` or a `String`).
fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
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
            backend: Backend::Local(Local::default()),
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

    /// Sends `value` to rank `dest` with message tag `tag` (under MPI, from 0 to
    /// `MPI_TAG_UB - 1`: the largest tag is the library's own).
    pub fn send<T: ?Sized + Serialize>(&self, value: &T, dest: usize, tag: i32) -> Result<()> {
        self.check_rank(dest, "destination")?;
        match &self.backend {
            Backend::Local(local) => {
                let bytes = wire::encode(value, None)?;
                local.queue.borrow_mut().push_back((tag, bytes));
                local.sent.set(local.sent.get() + 1);
                Ok(())
            }
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.send(value, dest, tag),
        }
    }

    /// Receives a `T` sent from rank `source` with tag `tag`. The next message from `source`
    /// must have that tag and type: otherwise the error names both tags (a message of
    /// another type is consumed, one with another tag stays for the receive that expects
    /// it).
    ///
    /// Waits until the message comes, or until `source` calls [`done`](Self::done) without
    /// having sent it: then the error names `source` and `tag`. See also
    /// [`recv_timeout`](Self::recv_timeout).
    pub fn recv<T: DeserializeOwned>(&self, source: usize, tag: i32) -> Result<T> {
        self.recv_with(source, tag, None, |bytes, oob| wire::decode(bytes, oob))
    }

    /// As [`recv`](Self::recv), but a message that has not started to arrive after
    /// `timeout` is an error naming `source` and `tag` (the message, if it comes later,
    /// waits for the next receive; [`done`](Self::done) reports it as not received).
    pub fn recv_timeout<T: DeserializeOwned>(
        &self,
        source: usize,
        tag: i32,
        timeout: Duration,
    ) -> Result<T> {
        self.recv_with(source, tag, Some(timeout), |bytes, oob| {
            wire::decode(bytes, oob)
        })
    }

    /// Receives an object of any registered class from rank `source`.
    pub fn recv_obj(&self, source: usize, tag: i32) -> Result<Box<dyn AnamObject>> {
        self.recv_with(source, tag, None, |bytes, oob| {
            wire::decode_object(bytes, oob)
        })
    }

    #[cfg_attr(not(feature = "mpi"), allow(unused_variables))]
    fn recv_with<R>(
        &self,
        source: usize,
        tag: i32,
        timeout: Option<Duration>,
        decode: impl FnOnce(&[u8], Option<&mut dyn wire::OutOfBand>) -> Result<R>,
    ) -> Result<R> {
        self.check_rank(source, "source")?;
        match &self.backend {
            Backend::Local(local) => {
                // One process: a message not sent yet never will be, so there is no wait.
                let mut queue = local.queue.borrow_mut();
                let found = queue.front().map(|(t, _)| *t).ok_or_else(|| {
                    Error::invalid(format!("recv: no message from rank {source} (tag {tag})"))
                })?;
                if found != tag {
                    // The message stays for the receive that expects its tag.
                    return Err(tag_mismatch(source, tag, found));
                }
                let (_, bytes) = queue.pop_front().expect("checked above");
                drop(queue);
                local.received.set(local.received.get() + 1);
                decode(&bytes, None)
            }
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.recv(source, tag, timeout, decode),
        }
    }

    /// The `(start, end)` rows of each rank when `n` rows are split among the ranks: the
    /// first `n % size` ranks get one more.
    pub fn get_scatter_indices(&self, n: usize) -> Vec<(usize, usize)> {
        scatter_indices(n, self.size())
    }

    /// Splits the root's array along axis 0 among the ranks (see
    /// [`get_scatter_indices`](Self::get_scatter_indices)); each rank gets its rows, as an
    /// array of the same dimension.
    ///
    /// The root passes any array or view (`&Array2<f64>`, `&ArrayView3<i32>`, a slice of a
    /// larger array); only the root's is read, and the other ranks may pass `None` (typed:
    /// `None::<&Array2<f64>>`, or the same `Option` the root passes). A 0-d array has no
    /// rows: an error. A rank whose `T` or `D` does not match the root's array gets an error
    /// (after taking part, so the other ranks are not left waiting).
    pub fn scatter_array<T, S, D>(
        &self,
        array: Option<&ArrayBase<S, D>>,
        root: usize,
    ) -> Result<Array<T, D>>
    where
        T: Element,
        S: Data<Elem = T>,
        D: Dimension,
    {
        let array = self.at_root(array, root, "scatter_array: the root has no array")?;
        if array.is_some_and(|a| a.ndim() == 0) {
            return Err(Error::invalid(
                "scatter_array: a 0-d array has no rows to split",
            ));
        }
        match &self.backend {
            Backend::Local(_) => Ok(array.expect("the only rank is the root").to_owned()),
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => {
                let rows = w.scatter_array(array.map(|a| a.view().into_dyn()), root)?;
                with_dimension(rows, "scatter_array", self.rank())
            }
        }
    }

    /// Gathers every rank's array (or view) along axis 0 on `root` (`Some` there, `None`
    /// elsewhere), as an array of the same dimension. All arrays must have the same dtype
    /// and the same shape after axis 0 (each rank its own number of rows); 0-d arrays are
    /// an error.
    pub fn gather<T, S, D>(
        &self,
        array: &ArrayBase<S, D>,
        root: usize,
    ) -> Result<Option<Array<T, D>>>
    where
        T: Element,
        S: Data<Elem = T>,
        D: Dimension,
    {
        self.check_rank(root, "root")?;
        check_gather_rank(array.ndim(), "gather")?;
        match &self.backend {
            Backend::Local(_) => Ok(Some(array.to_owned())),
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w
                .gather(array.view().into_dyn(), Some(root))?
                .map(|all| with_dimension(all, "gather", self.rank()))
                .transpose(),
        }
    }

    /// Gathers every rank's array (or view) along axis 0 on every rank, as an array of the
    /// same dimension (as [`gather`](Self::gather)).
    pub fn allgather<T, S, D>(&self, array: &ArrayBase<S, D>) -> Result<Array<T, D>>
    where
        T: Element,
        S: Data<Elem = T>,
        D: Dimension,
    {
        check_gather_rank(array.ndim(), "allgather")?;
        match &self.backend {
            Backend::Local(_) => Ok(array.to_owned()),
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => {
                let all = w
                    .gather(array.view().into_dyn(), None)?
                    .expect("allgather returns everywhere");
                with_dimension(all, "allgather", self.rank())
            }
        }
    }

    /// Broadcasts the root's array into `array` on every other rank, in place: the data
    /// lands straight in `array`'s memory (no new allocation) when it is contiguous in
    /// standard layout (for `bool` arrays and other layouts it passes through a new array,
    /// then is copied in). The root's `array` is only read.
    ///
    /// `array` may be any mutable array or view (`&mut Array2<f64>`, a slice of a larger
    /// array). On every rank but the root its dtype and shape must be the root's: otherwise
    /// that rank gets an error naming both shapes, its array unchanged (it still takes part,
    /// so the other ranks are not left waiting).
    #[cfg_attr(not(feature = "mpi"), allow(unused_variables))]
    pub fn bcast_array_into<T, S, D>(&self, array: &mut ArrayBase<S, D>, root: usize) -> Result<()>
    where
        T: Element,
        S: DataMut<Elem = T>,
        D: Dimension,
    {
        self.check_rank(root, "root")?;
        match &self.backend {
            Backend::Local(_) => Ok(()),
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.bcast_array_into(array, root),
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

    /// Gathers every rank's part of a list: ranks passing `return_all` get the whole list
    /// in rank order (however many items each rank holds), the others an empty list (as
    /// Python's `gather_list`, without its `total`). Each rank passes its own flag; the
    /// items travel only to the ranks that ask.
    pub fn gather_list<T: Serialize + DeserializeOwned>(
        &self,
        items: &[T],
        return_all: bool,
    ) -> Result<Vec<T>> {
        match &self.backend {
            Backend::Local(_) if !return_all => Ok(Vec::new()),
            Backend::Local(_) => wire::decode(&wire::encode(items, None)?, None),
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.gather_list(items, return_all),
        }
    }

    /// Ends the job; under MPI, a collective: every rank must call it.
    ///
    /// Every rank learns how many messages ([`send`](Self::send) calls) each rank sent to
    /// each other and how many each received; if a pair differs, `done()` returns, on every
    /// rank alike, an error naming them (`rank 1 sent 3 objects to rank 2, which received
    /// 2`). Messages sent and never received are taken in and dropped first, so MPI is
    /// finalised cleanly either way (here, when the handler is dropped). A rank waiting in
    /// [`recv`](Self::recv) for a message from a rank that calls `done()` gets an error
    /// instead.
    pub fn done(mut self) -> Result<()> {
        let result = match &self.backend {
            Backend::Local(local) => {
                let (sent, received) = (local.sent.get(), local.received.get());
                if sent == received {
                    Ok(())
                } else {
                    Err(Error::invalid(format!(
                        "done(): messages sent but never received: rank 0 sent {} to rank \
                         0, which received {received}",
                        objects(sent)
                    )))
                }
            }
            #[cfg(feature = "mpi")]
            Backend::Mpi(w) => w.finish(),
        };
        self.done = true;
        result
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
        // Other ranks may be waiting for this one: do not leave them hanging. (The panic's
        // own message was printed by the panic hook, Rust's default one unless the program
        // installed another.)
        let why = if std::thread::panicking() {
            "dropped by a panic"
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

/// `1 object`, `3 objects`.
fn objects(n: u64) -> String {
    format!("{n} object{}", if n == 1 { "" } else { "s" })
}

/// Most dimensions an array may have in `gather` and `allgather`.
const MAX_GATHER_RANK: usize = 16;

fn check_gather_rank(ndim: usize, what: &str) -> Result<()> {
    if ndim == 0 || ndim > MAX_GATHER_RANK {
        return Err(Error::invalid(format!(
            "{what}: arrays of rank 1 to {MAX_GATHER_RANK}, not {ndim}"
        )));
    }
    Ok(())
}

/// A received array as the caller's dimension type.
#[cfg(feature = "mpi")]
fn with_dimension<T, D: Dimension>(
    array: ndarray::ArrayD<T>,
    what: &str,
    rank: usize,
) -> Result<Array<T, D>> {
    let shape = array.shape().to_vec();
    array.into_dimensionality::<D>().map_err(|_| {
        Error::invalid(format!(
            "{what}: rank {rank} expects a {}-d array, the data has shape {shape:?}",
            D::NDIM.unwrap_or(0)
        ))
    })
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
