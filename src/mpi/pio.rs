//! Parallel HDF5 (feature `mpio`): every rank writes its part of one file, collectively,
//! and reads its share of it back. See [`MpiHandler::write_collection`],
//! [`MpiHandler::write_array_rows`], [`MpiHandler::read_collection_share`] and
//! [`MpiHandler::read_array_rows`].
//!
//! A write goes in two steps:
//!
//! 1. **Exchange.** Each rank tells the others what it will write (the file, the name, the
//!    class or dtype and shape, how many members, whether it could make them; rank 0 adds
//!    whether the file exists) in the wire format (`gather_list`), and every rank checks
//!    every rank's description the same way.
//! 2. **Write.** A distributed array: every rank opens the file through HDF5's MPI-IO driver
//!    and writes its rows with one collective hyperslab write. A distributed collection:
//!    the members go to rank 0 as the [`Value`]s the serial writer would store, arrays of
//!    1 KiB and more as their dtype and shape only (`value::stand_in`: not copied); rank 0
//!    writes the structure with the serial writer, giving those arrays their space in the
//!    file, and every rank writes its arrays' bytes there, serializing its members once more
//!    (`h5::parallel` says why this and not parallel HDF5's collective metadata calls:
//!    measured 10x slower).
//!
//! A rank that fails aborts the job with its message (`rank N: <message>`), whether it
//! fails before the exchange (every rank learns it there; the others wait for the abort) or
//! during the write (where the others may be waiting in a collective call).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use ndarray::{Array, ArrayBase, Data, Dimension};
use serde::de::{self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::{scatter_indices, Backend, MpiHandler};
use crate::collection::{AnamCollection, CollectionKind};
use crate::dtype::{self, DType, Element};
use crate::error::{Error, Result};
use crate::h5::parallel::{write_structure, Comm, Failure, ParallelFile, Placed, Plan, ReadFile};
use crate::value::stand_in::{self, StandIns};
use crate::value::{to_value_as_written, Value};

/// Arrays of at least this many bytes travel in the exchange as their dtype and shape only:
/// their contents are written by their own rank, the others only create the dataset.
const PLACEHOLDER_BYTES: usize = 1024;

/// How long a rank whose part is fine waits for a failing rank to abort the job, before it
/// aborts it itself.
const WAIT_FOR_ABORT: Duration = Duration::from_secs(5);

/// What each rank tells the others before a parallel write.
#[derive(Serialize, Deserialize)]
struct Part {
    /// The file, and the group (collection) or dataset (array) written.
    path: String,
    name: String,
    /// The collection's class, or the array's dtype.
    kind: String,
    /// The array's shape on this rank (empty for a collection).
    shape: Vec<u64>,
    /// Why this rank cannot write its part.
    failed: Option<String>,
    /// Rank 0's: how the file is reached.
    plan: Option<Plan>,
    /// How many members a collection has on this rank.
    count: u64,
}

impl MpiHandler {
    /// Writes an [`AnamCollection`] whose members are spread over the ranks, collectively:
    /// every rank calls it with its own members (`share`, possibly none) and the same `path`
    /// and `group`; the file then holds, as the group `group`, one collection of class
    /// `K::CLASS` whose members are every rank's members in rank order: the file that
    /// [`anam::to_file`](crate::to_file) writes for the concatenated collection (the same
    /// groups, attributes, datasets, class tags, dtypes and shapes), which Python anamnesis
    /// loads.
    ///
    /// As with `to_file`, a new file appears at `path` complete (written under a temporary
    /// name, synced, linked into place by rank 0), and in an existing file the group is
    /// built unlinked and linked last, replacing an object of that name. No rank returns
    /// before the file is in place. Rank 0 holds the file's lock while it writes (as
    /// `to_file` does); the other ranks write their arrays' bytes without one, so no other
    /// program may use the file meanwhile.
    ///
    /// Memory: no copy of the arrays of 1 KiB and more (arrays, bytes, sequences of numbers
    /// the file stores as datasets) is kept: each rank serializes its members twice, once to
    /// describe them to rank 0 (the arrays as dtype and shape) and once to write the arrays'
    /// bytes where rank 0 placed them, from the members' own buffers (an array that
    /// `Serialize` has to make first, such as a strided view made contiguous, a sequence of
    /// numbers or a file-backed [`Lazy`](crate::Lazy) read from disk, is made once in each
    /// pass, one at a time). So each member's `Serialize` must give the same arrays in the
    /// same order both times (a different dtype, shape or count is an error). Rank 0 holds
    /// every member's other values, and one zeroed buffer the size of the largest array.
    /// (Writing 20,000 members of 8,000 bytes of arrays each, all on rank 1 of 2: rank 0's
    /// peak memory grew by 77 MB and rank 1's by 37 MB during the call, for 160 MB of
    /// arrays; with each array copied, and a zeroed array on rank 0 for each, 213 MB and
    /// 192 MB. `make bench-compare` measures the even split, *PM* in BENCHMARKS.md.)
    ///
    /// Under MPI, a rank that fails (a member that cannot be written, another `path`,
    /// `group` or class than rank 0's, an HDF5 error) aborts the whole job with its message
    /// (`rank N: <message>`), so that no rank is left waiting in a collective call; this
    /// returns only `Ok`. With the local backend (one process) the error is returned.
    ///
    /// Needs the `mpio` feature (parallel HDF5).
    pub fn write_collection<T, K>(
        &self,
        path: impl AsRef<Path>,
        group: &str,
        share: &AnamCollection<T, K>,
    ) -> Result<()>
    where
        T: Serialize,
        K: CollectionKind,
    {
        let path = path.as_ref();
        if !self.is_mpi() {
            return crate::to_file(path, group, share);
        }
        let me = self.rank();
        // 1. This rank's members as the Values the serial writer would store, but for the
        //    big arrays: placeholders (dtype, shape, index), the arrays not copied.
        let (mine, arrays, error) = match describe(share.as_slice()) {
            Ok((values, arrays)) => (values, arrays, None),
            Err(e) => (Vec::new(), Vec::new(), Some(e)),
        };
        let part = Part {
            count: mine.len() as u64,
            ..self.part(path, group, K::CLASS, Vec::new(), error.as_ref())
        };
        let (parts, _) = self.exchange_parts(part, error, "write_collection")?;
        self.check_parts(&parts, "write_collection", |mine, first| {
            (mine.kind != first.kind).then(|| {
                format!(
                    "writes a collection of class `{}`, rank 0 one of class `{}`",
                    mine.kind, first.kind
                )
            })
        })?;
        // Rank 0 keeps its own members (not sent to itself through the wire format).
        let sent: &[Value] = if me == 0 { &[] } else { &mine };
        let members = self.gather_list(sent, me == 0);
        let members = self.settle(members.map_err(Failure::from), "write_collection")?;

        // 2. Rank 0 writes the structure; every rank then writes its big arrays where rank 0
        //    placed them; rank 0 links the collection into place.
        if me == 0 {
            let written = self.write_as_root(path, group, parts, (mine, members), share, &arrays);
            self.settle(written.map_err(Failure::from), "write_collection")?;
        } else {
            drop(mine); // sent
            let (target, placed): (String, Vec<Placed>) = self.bcast(None, 0)?;
            let mine = Payloads {
                share: share.as_slice(),
                arrays: &arrays,
                me,
            };
            let written = write_payloads(Path::new(&target), &placed, mine, true);
            self.settle(written.map_err(Failure::from), "write_collection")?;
            // Written: rank 0 may link.
            self.gather_list(&[()], false)?;
        }
        self.wait_for_commit()
    }

    /// Rank 0's part of [`write_collection`](Self::write_collection): the collection of every
    /// rank's `members` (in rank order, `parts` saying how many each), every placeholder
    /// serialized as a stand-in array that [`write_structure`] only gives space; then where
    /// those go, to every rank, this rank's own arrays (from `share`) written there too, and
    /// the link once every rank has written its arrays. (Rank 0's own arrays wait for the
    /// structure too, so that every rank writes its bytes at the same time.)
    fn write_as_root<T: Serialize, K: CollectionKind>(
        &self,
        path: &Path,
        group: &str,
        parts: Vec<Part>,
        (mine, theirs): (Vec<Value>, Vec<Value>),
        share: &AnamCollection<T, K>,
        arrays: &[(DType, Vec<usize>)],
    ) -> Result<()> {
        let mut all = Vec::with_capacity(mine.len() + theirs.len());
        // Each placeholder's owner and index, by slot (its place in the stand-ins' buffer).
        let mut slots = Vec::new();
        let mut max_bytes = 0;
        let (mut mine, mut theirs) = (mine.into_iter(), theirs.into_iter());
        for (owner, part) in parts.iter().enumerate() {
            let members = if owner == 0 { &mut mine } else { &mut theirs };
            for mut v in members.take(part.count as usize) {
                slot_placeholders(&mut v, &mut |dtype, shape, index| {
                    let bytes = stand_in::byte_len(dtype, shape).ok_or_else(|| {
                        Error::invalid(format!(
                            "rank {owner} sent an array of {dtype} and shape {shape:?}: too big"
                        ))
                    })?;
                    max_bytes = max_bytes.max(bytes);
                    slots.push((owner, index));
                    Ok(slots.len() - 1)
                })?;
                all.push(v);
            }
        }
        let stand_ins = StandIns::new(slots.len(), max_bytes);
        let wanted: HashMap<usize, (usize, usize)> = (slots.into_iter().enumerate())
            .map(|(slot, owner_index)| (stand_ins.address(slot), owner_index))
            .collect();
        let collection = AnamCollection::<Value, K>::from(all);
        stand_in::with_stand_ins(&stand_ins, || {
            write_structure(path, group, &collection, wanted, |file, target, placed| {
                self.bcast(
                    Some((target.to_string_lossy().into_owned(), placed.clone())),
                    0,
                )?;
                // Not synced here: the whole file is, before it is linked into place.
                let mine = Payloads {
                    share: share.as_slice(),
                    arrays,
                    me: 0,
                };
                write_payloads(target, &placed, mine, false)?;
                // Our metadata written while the other ranks write their arrays.
                file.flush()?;
                // Every rank has written its arrays (or aborted the job).
                self.gather_list(&[()], true).map(drop)
            })
        })
    }

    /// Writes an array whose rows are spread over the ranks, collectively: every rank
    /// calls it with its own rows (`rows`, any array or view of one dtype and the same
    /// shape after axis 0 everywhere, possibly with no rows) and the same `path` and `name`;
    /// the file then holds one dataset `name` (a path: `group/member`, groups made where
    /// missing, an object of that name replaced) whose rows are every rank's rows in rank
    /// order, written with one collective hyperslab write. An array with no elements is
    /// stored as Python anamnesis stores one (an `AnamEmptyArray` group).
    ///
    /// To make the array a member of an object, write the object first (say on rank 0,
    /// with [`anam::to_file`](crate::to_file)), then the rows as `object/member`: every
    /// rank enters this call before the file is opened. The file is written as
    /// [`write_collection`](Self::write_collection) writes it (new files complete or absent,
    /// no rank returning before the file is in place), and failures abort the job alike
    /// (another `path`, `name`, dtype or shape after axis 0 than rank 0's, a 0-d array).
    ///
    /// Needs the `mpio` feature (parallel HDF5).
    pub fn write_array_rows<T, S, D>(
        &self,
        path: impl AsRef<Path>,
        name: &str,
        rows: &ArrayBase<S, D>,
    ) -> Result<()>
    where
        T: Element,
        S: Data<Elem = T>,
        D: Dimension,
    {
        let path = path.as_ref();
        let me = self.rank();
        let error = (rows.ndim() == 0).then(|| Error::invalid("a 0-d array has no rows"));
        let shape: Vec<u64> = rows.shape().iter().map(|&d| d as u64).collect();
        let part = self.part(path, name, T::DTYPE.name(), shape, error.as_ref());
        let (mut parts, _) = self.exchange_parts(part, error, "write_array_rows")?;
        self.check_parts(&parts, "write_array_rows", |mine, first| {
            (mine.kind != first.kind || mine.shape.get(1..) != first.shape.get(1..)).then(|| {
                format!(
                    "passes rows of {} and shape {:?}, rank 0 of {} and shape {:?}: the rows \
                     of every rank must have one dtype and the same shape after axis 0",
                    mine.kind, mine.shape, first.kind, first.shape
                )
            })
        })?;
        let plan = parts[0].plan.take().expect("checked by check_parts");
        let counts: Vec<usize> = parts.iter().map(|p| p.shape[0] as usize).collect();
        let first: usize = counts[..me].iter().sum();
        let mut shape: Vec<usize> = rows.shape().to_vec();
        shape[0] = counts.iter().sum();
        let standard = rows.as_standard_layout();
        let bytes = dtype::as_bytes(standard.as_slice().expect("standard layout is contiguous"));

        let written = (|| -> std::result::Result<(), Failure> {
            let file = ParallelFile::open(self.comm(), path, plan)?;
            file.write_rows(name, T::DTYPE, &shape, first, bytes, me)?;
            Ok(file.close()?.commit_on(me == 0)?)
        })();
        self.settle(written, "write_array_rows")?;
        self.wait_for_commit()
    }

    /// Reads this rank's share of the members of the collection in the group `group` (or,
    /// with `None`, the first group) of the file at `path`: the members
    /// [`get_scatter_indices`](Self::get_scatter_indices) gives this rank for the
    /// collection's length, read as [`from_file`](crate::from_file) reads them (the
    /// collection's class checked, the other members not opened).
    ///
    /// Every rank must call it (the file is opened and closed collectively). Errors are
    /// returned as from a serial read, on the rank that meets them.
    ///
    /// Needs the `mpio` feature (parallel HDF5).
    pub fn read_collection_share<T, K>(
        &self,
        path: impl AsRef<Path>,
        group: Option<&str>,
    ) -> Result<AnamCollection<T, K>>
    where
        T: DeserializeOwned,
        K: CollectionKind,
    {
        let file = ReadFile::open(self.comm(), path.as_ref())?;
        file.read_group(
            group,
            ShareSeed::<T, K> {
                size: self.size(),
                rank: self.rank(),
                kind: PhantomData,
            },
        )
    }

    /// Reads this rank's rows of the array stored as `name` (a dataset, or an empty array's
    /// group) in the file at `path`: the rows
    /// [`get_scatter_indices`](Self::get_scatter_indices) gives this rank, with one
    /// hyperslab read, converted to `T` without loss as
    /// [`TypedArray::into_array`](crate::TypedArray::into_array) does.
    ///
    /// Every rank must call it (the file is opened and closed collectively). Errors are
    /// returned as from a serial read, on the rank that meets them.
    ///
    /// Needs the `mpio` feature (parallel HDF5).
    pub fn read_array_rows<T, D>(&self, path: impl AsRef<Path>, name: &str) -> Result<Array<T, D>>
    where
        T: Element,
        D: Dimension,
    {
        let (size, rank) = (self.size(), self.rank());
        let file = ReadFile::open(self.comm(), path.as_ref())?;
        let rows = file.read_rows(name, |n| scatter_indices(n, size)[rank]);
        drop(file);
        let rows = rows?.into_array::<T>()?;
        let shape = rows.shape().to_vec();
        rows.into_dimensionality::<D>().map_err(|_| {
            Error::invalid(format!(
                "read_array_rows: `{name}` has {} dimensions (rows of shape {shape:?}), not {}",
                shape.len(),
                D::NDIM.unwrap_or(0)
            ))
        })
    }

    // ---- the steps of a write -----------------------------------------------------------

    /// The communicator HDF5 opens files on (`None` for the local backend).
    fn comm(&self) -> Comm {
        match &self.backend {
            Backend::Local(_) => None,
            Backend::Mpi(w) => {
                use mpi::traits::AsRaw;
                Some(w.internal.as_raw())
            }
        }
    }

    /// This rank's part, but for a collection's members; rank 0 adds the plan.
    fn part(
        &self,
        path: &Path,
        name: &str,
        kind: &str,
        shape: Vec<u64>,
        error: Option<&Error>,
    ) -> Part {
        let mut failed = error.map(|e| e.to_string());
        let plan = if self.rank() == 0 {
            match Plan::for_path(path) {
                Ok(plan) => Some(plan),
                Err(e) => {
                    failed.get_or_insert_with(|| e.to_string());
                    None
                }
            }
        } else {
            None
        };
        Part {
            path: path.to_string_lossy().into_owned(),
            name: name.to_string(),
            kind: kind.to_string(),
            shape,
            failed,
            plan,
            count: 0,
        }
    }

    /// Every rank's part, in rank order, and this rank's own (as it was). With the local
    /// backend, a part that failed returns its error.
    fn exchange_parts(
        &self,
        part: Part,
        error: Option<Error>,
        what: &str,
    ) -> Result<(Vec<Part>, Part)> {
        if let Backend::Local(_) = self.backend {
            if let Some(e) = error {
                return Err(e);
            }
            if let Some(failed) = &part.failed {
                return Err(Error::invalid(failed.clone()));
            }
            // One process: its part is every part (the members stay with the caller).
            let header = Part {
                count: part.count,
                plan: part.plan.clone(),
                shape: part.shape.clone(),
                path: part.path.clone(),
                name: part.name.clone(),
                kind: part.kind.clone(),
                failed: None,
            };
            return Ok((vec![header], part));
        }
        let parts = self.gather_list(std::slice::from_ref(&part), true);
        let parts = self.settle(parts.map_err(Failure::from), what)?;
        Ok((parts, part))
    }

    /// Checks the parts before anything is written: a rank that failed, or whose `path` or
    /// `name` differs from rank 0's (or whose part `differs` otherwise), aborts the job
    /// with its message; the other ranks wait for that.
    fn check_parts(
        &self,
        parts: &[Part],
        what: &str,
        differs: impl Fn(&Part, &Part) -> Option<String>,
    ) -> Result<()> {
        let first = &parts[0];
        let problem = |r: usize, p: &Part| -> Option<String> {
            if let Some(failed) = &p.failed {
                return Some(failed.clone());
            }
            if r == 0 && p.plan.is_none() {
                return Some("rank 0 sent no plan".into());
            }
            if (&p.path, &p.name) != (&first.path, &first.name) {
                return Some(format!(
                    "writes `{}` in `{}`, rank 0 `{}` in `{}`: every rank must pass the same \
                     file and name",
                    p.name, p.path, first.name, first.path
                ));
            }
            differs(p, first)
        };
        let problems: Vec<(usize, String)> = parts
            .iter()
            .enumerate()
            .filter_map(|(r, p)| problem(r, p).map(|m| (r, m)))
            .collect();
        let Some((culprit, message)) = problems.first() else {
            return Ok(());
        };
        if !self.is_mpi() {
            return Err(Error::invalid(format!("{what}: {message}")));
        }
        let me = self.rank();
        if let Some((_, message)) = problems.iter().find(|(r, _)| *r == me) {
            self.fail(&format!("{what}: {message}"));
        }
        std::thread::sleep(WAIT_FOR_ABORT);
        self.fail(&format!(
            "{what}: rank {culprit} failed and did not end the job: {message}"
        ))
    }

    /// The outcome of a step of a write on this rank: `Ok`, an error returned (local
    /// backend), or, under MPI, the job aborted with the message of the rank the failure
    /// belongs to (this rank at once if it is its own or nobody's; otherwise after waiting
    /// for that rank to do it).
    fn settle<R>(&self, outcome: std::result::Result<R, Failure>, what: &str) -> Result<R> {
        let failure = match outcome {
            Ok(r) => return Ok(r),
            Err(f) => f,
        };
        if !self.is_mpi() {
            return Err(failure.error);
        }
        let me = self.rank();
        match failure.owner {
            Some(owner) if owner != me => {
                std::thread::sleep(WAIT_FOR_ABORT);
                self.fail(&format!(
                    "{what}: a value of rank {owner} failed, and rank {owner} did not end the \
                     job: {}",
                    failure.error
                ))
            }
            _ => self.fail(&format!("{what}: {}", failure.error)),
        }
    }

    /// The end of a write: rank 0 has committed the file (or aborted the job); the others
    /// wait for it, so that no rank returns before the file is in place.
    fn wait_for_commit(&self) -> Result<()> {
        if self.is_mpi() {
            self.bcast(self.is_master().then_some(()), 0)?;
        }
        Ok(())
    }
}

impl crate::h5::parallel::Closed {
    /// Commits the file on the rank that does it, for all.
    fn commit_on(self, here: bool) -> Result<()> {
        if here {
            self.commit()
        } else {
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------
// Placeholders of big arrays
// ---------------------------------------------------------------------------------------

/// The dtype and shape of each of a rank's big arrays, by index.
type ArrayShapes = Vec<(DType, Vec<usize>)>;

/// `members` as the Values the serial writer would store, each array of at least
/// [`PLACEHOLDER_BYTES`] replaced by a placeholder (its dtype, shape and index on this
/// rank, in the order they are serialized), the arrays not copied; and those arrays'
/// dtypes and shapes, by index.
fn describe<T: Serialize>(members: &[T]) -> Result<(Vec<Value>, ArrayShapes)> {
    let arrays = Rc::new(RefCell::new(Vec::new()));
    let seen = Rc::clone(&arrays);
    let sink = Box::new(move |dtype: DType, shape: &[usize], _: &[u8]| {
        let mut seen = seen.borrow_mut();
        seen.push((dtype, shape.to_vec()));
        Ok(stand_in::placeholder(dtype, shape, seen.len() - 1))
    });
    let values = stand_in::with_array_sink(PLACEHOLDER_BYTES, sink, || {
        members
            .iter()
            .map(to_value_as_written)
            .collect::<Result<Vec<_>>>()
    })?;
    Ok((values, arrays.take()))
}

/// What a rank writes in [`write_payloads`]: its members, the dtype and shape of each of
/// their big arrays (from [`describe`]), and its rank.
struct Payloads<'a, T> {
    share: &'a [T],
    arrays: &'a [(DType, Vec<usize>)],
    me: usize,
}

/// Gives each placeholder in `v` (depth first) the slot `slot(dtype, shape, index)` returns.
fn slot_placeholders<F>(v: &mut Value, slot: &mut F) -> Result<()>
where
    F: FnMut(DType, &[usize], usize) -> Result<usize>,
{
    crate::depth::grow(|| {
        if let Some((dtype, shape, index)) = stand_in::parts(v) {
            let k = slot(dtype, &shape, index)?;
            stand_in::set_slot(v, k);
            Ok(())
        } else {
            let mut result = Ok(());
            each_child(v, &mut |c| {
                if result.is_ok() {
                    result = slot_placeholders(c, slot);
                }
            });
            result
        }
    })
}

/// Writes this rank's big arrays where rank 0 `placed` them in the file at `target`: the
/// members (this rank's `share`) are serialized once more, as [`describe`] did, and each
/// array's bytes, borrowed from the member, written at its place; with `sync`, synced to
/// disk (rank 0 links the object into place after: on a file system shared by several
/// machines, a rank's writes are its machine's to sync).
fn write_payloads<T: Serialize>(
    target: &Path,
    placed: &[Placed],
    Payloads { share, arrays, me }: Payloads<'_, T>,
    sync: bool,
) -> Result<()> {
    use std::os::unix::fs::FileExt;
    let path = target.display().to_string();
    let io = move |what: &str, e: std::io::Error| Error::invalid(format!("{path}: {what}: {e}"));
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(target)
        .map_err(|e| io("cannot open the file to write this rank's arrays", e))?;
    // Where each of this rank's arrays goes, by index.
    let mut places: Vec<Option<Placed>> = Vec::new();
    for p in placed.iter().filter(|p| p.owner == me) {
        if places.len() <= p.index {
            places.resize(p.index + 1, None);
        }
        places[p.index] = Some(*p);
    }
    let expected = places.len();
    if expected != arrays.len() {
        return Err(Error::invalid(format!(
            "rank 0 placed {expected} arrays of this rank, which has {}",
            arrays.len()
        )));
    }
    let described: ArrayShapes = arrays.to_vec();
    let file = Rc::new(file);
    let count = Rc::new(Cell::new(0));
    let sink = {
        let (file, next, io) = (Rc::clone(&file), Rc::clone(&count), io.clone());
        Box::new(move |dtype: DType, shape: &[usize], bytes: &[u8]| {
            let index = next.get();
            next.set(index + 1);
            if described.get(index) != Some(&(dtype, shape.to_vec())) {
                return Err(Error::invalid(format!(
                    "array {index} of this rank is of {dtype} and shape {shape:?} when written, \
                     {:?} when described: its members serialized other arrays the second time",
                    described.get(index)
                )));
            }
            let p = places.get(index).copied().flatten().ok_or_else(|| {
                Error::invalid(format!(
                    "array {index} of this rank was not placed in the file ({expected} were): \
                     its members serialized other arrays the second time"
                ))
            })?;
            if bytes.len() as u64 != p.len {
                return Err(Error::invalid(format!(
                    "rank 0 placed {} bytes for array {index} of this rank, of {} bytes: its \
                     members serialized other arrays the second time",
                    p.len,
                    bytes.len()
                )));
            }
            file.write_all_at(bytes, p.offset)
                .map_err(|e| io("cannot write this rank's arrays", e))?;
            Ok(Value::None)
        })
    };
    stand_in::with_array_sink(PLACEHOLDER_BYTES, sink, || {
        share
            .iter()
            .try_for_each(|m| to_value_as_written(m).map(drop))
    })?;
    if count.get() != expected {
        return Err(Error::invalid(format!(
            "{expected} arrays of this rank were placed in the file, {} written: its members \
             serialized other arrays the second time",
            count.get()
        )));
    }
    if sync {
        file.sync_data()
            .map_err(|e| io("cannot sync this rank's arrays to disk", e))?;
    }
    Ok(())
}

fn each_child(v: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    match v {
        Value::List(items) => items.iter_mut().for_each(f),
        Value::Dict(entries) => entries.iter_mut().for_each(|(k, x)| {
            f(k);
            f(x);
        }),
        Value::Object(o) => o.fields.iter_mut().for_each(|(_, x)| f(x)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Reading a collection's share
// ---------------------------------------------------------------------------------------

/// Reads a collection of class `K` as [`AnamCollection`]'s `Deserialize` does, keeping only
/// the members of rank `rank` of `size` (the others are skipped unopened).
struct ShareSeed<T, K> {
    size: usize,
    rank: usize,
    kind: PhantomData<fn() -> (T, K)>,
}

impl<'de, T: DeserializeOwned, K: CollectionKind> DeserializeSeed<'de> for ShareSeed<T, K> {
    type Value = AnamCollection<T, K>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Self::Value, D::Error> {
        d.deserialize_struct(K::CLASS, &["members"], self)
    }
}

impl<'de, T: DeserializeOwned, K: CollectionKind> Visitor<'de> for ShareSeed<T, K> {
    type Value = AnamCollection<T, K>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a collection of class `{}`", K::CLASS)
    }

    fn visit_map<A: MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Self::Value, A::Error> {
        let mut members = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "members" {
                members = Some(map.next_value_seed(RangeSeed::<T> {
                    size: self.size,
                    rank: self.rank,
                    item: PhantomData,
                })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(AnamCollection::from(members.unwrap_or_default()))
    }
}

/// This rank's items of a sequence whose length the reader knows in advance.
struct RangeSeed<T> {
    size: usize,
    rank: usize,
    item: PhantomData<fn() -> T>,
}

impl<'de, T: DeserializeOwned> DeserializeSeed<'de> for RangeSeed<T> {
    type Value = Vec<T>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> std::result::Result<Vec<T>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned> Visitor<'de> for RangeSeed<T> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of members")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Vec<T>, A::Error> {
        let n = seq
            .size_hint()
            .ok_or_else(|| de::Error::custom("the collection's length is not stored"))?;
        let (start, end) = scatter_indices(n, self.size)[self.rank];
        let mut out = Vec::with_capacity(end - start);
        for i in 0..n {
            let read = if (start..end).contains(&i) {
                seq.next_element::<T>()?.map(|v| out.push(v))
            } else {
                seq.next_element::<IgnoredAny>()?.map(drop)
            };
            if read.is_none() {
                return Err(de::Error::invalid_length(i, &self));
            }
        }
        Ok(out)
    }
}
