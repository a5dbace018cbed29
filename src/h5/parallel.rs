//! Parallel HDF5 (feature `mpio`): one file written by every rank of an MPI job at once
//! through HDF5's MPI-IO driver, and read back a share per rank.
//!
//! Two ways, chosen by what is measured to be fast (`benches/mpio.rs`):
//!
//! - **A distributed array** is one dataset whose rows every rank writes with one collective
//!   hyperslab write through HDF5's MPI-IO driver ([`ParallelFile::write_rows`]). Parallel
//!   HDF5 asks every rank to make the same metadata calls in the same order; here there are
//!   few (one dataset), and they are.
//! - **A distributed collection** has many small objects, and parallel HDF5's metadata
//!   calls are slow. With every rank making all of them through the MPI-IO driver (each
//!   dataset's contents written by its own rank), 20,000 members of 8 KiB on 2 ranks took
//!   1.90 s, no faster than gathering everything to rank 0 and writing serially (1.80-1.89 s
//!   in the runs of that hour, same machine); collective metadata writes and a larger
//!   metadata cache did not change it. So rank 0 writes the whole structure with the serial
//!   writer ([`write_structure`]): the big arrays (every rank's, its own too) reach it only
//!   as their dtype and shape, it creates their datasets with their space allocated and
//!   nothing written, and tells each rank where its arrays go in the file ([`Placed`]);
//!   every rank then writes its arrays' bytes there itself, all at once (plain positioned
//!   writes: a contiguous dataset without filters holds exactly the little-endian bytes
//!   HDF5 would write), and rank 0 links the object (or the new file) into place once all
//!   have.
//!
//! The file and its objects are those of the serial writer: a new file is made under a
//! temporary name and moved into place by one rank once every rank has closed it; into an
//! existing file, an object is built unlinked (or a dataset under a temporary name) and
//! linked last (`docs/FORMAT.md`, "Writes"). What no rank may do is fail between two
//! collective calls and leave the others waiting: the callers (`crate::mpi`'s `pio`) decide
//! what a failure does; errors here say which rank's rows failed ([`Failure`]).
//!
//! Without a communicator (`Comm` = `None`: one process, no MPI) the same code writes
//! through HDF5's default driver.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use hdf5::Group;
use hdf5_sys::h5i::hid_t;
use serde::{Deserialize, Serialize};

use super::ffi::{self, c_name, call, OwnedId};
use super::file::{self, FileHandle};
use super::group::{self, create_group, Linked, TEMPORARY_PREFIX};
pub(crate) use super::raw_data::Placed;
use super::raw_data::{self, unfilled_list, with_raw_data};
use super::ser::{self, MemberSerializer};
use super::{de, scope};
use crate::dtype::{DType, TypedArray};
use crate::error::{Error, Result};
use crate::format;
use crate::options::ReadOptions;
use crate::value::Value;

/// The communicator a parallel file is opened on: `None` for one process without MPI.
pub(crate) type Comm = Option<mpi::ffi::MPI_Comm>;

// ---------------------------------------------------------------------------------------
// A distributed collection: rank 0 writes the structure, each rank its arrays
// ---------------------------------------------------------------------------------------

/// Rank 0's part of a distributed collection's write: `value` written as
/// [`to_file`](super::to_file) writes it, except that the arrays whose buffers are in
/// `wanted` (address -> owner and index) get their space and nothing else; `payloads` is
/// then given the file (open, and its path: a new file's temporary one, or `path`) and
/// where those arrays go, and returns once their owners have written them; last, the
/// object is linked (or the new file moved) into place.
pub(crate) fn write_structure<V: ?Sized + Serialize>(
    path: &Path,
    name: &str,
    value: &V,
    wanted: HashMap<usize, (usize, usize)>,
    payloads: impl FnOnce(&hdf5::File, &Path, Vec<Placed>) -> Result<()>,
) -> Result<()> {
    let expected = wanted.len();
    let scope = raw_data::Elsewhere::begin(wanted);
    let mut payloads = Some(payloads);
    let mut before_link = |file: &hdf5::File| -> Result<()> {
        let placed = scope.placed();
        if placed.len() != expected {
            return Err(Error::invalid(format!(
                "{}: {} of the other ranks' {expected} arrays were placed in the file",
                path.display(),
                placed.len()
            )));
        }
        match payloads.take() {
            Some(f) => f(file, Path::new(&file.filename()), placed),
            None => Err(Error::invalid(format!(
                "{}: another writer created the file during the parallel write",
                path.display()
            ))),
        }
    };
    super::write_file(path, name, value, &mut before_link)
}

/// A failure of a parallel write, and the rank whose value (or rows) it was, when it was
/// one rank's: that rank reports it.
#[derive(Debug)]
pub(crate) struct Failure {
    pub owner: Option<usize>,
    pub error: Error,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure { owner: None, error }
    }
}

impl From<hdf5::Error> for Failure {
    fn from(error: hdf5::Error) -> Failure {
        Error::from(error).into()
    }
}

// ---------------------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------------------

/// How a parallel write reaches its file, decided by one rank for all (the ranks must not
/// see the file system differently, e.g. one finding the file created by another).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub(crate) enum Plan {
    /// The file does not exist: written under `temp` (in its directory), then moved into
    /// place complete.
    New { temp: PathBuf },
    /// The file exists: the new object is built unlinked and linked in last.
    Existing,
}

impl Plan {
    /// The plan for a write to `path`, as the file system is now.
    pub(crate) fn for_path(path: &Path) -> Result<Plan> {
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Plan::New {
                temp: file::temporary_path(path)?,
            }),
            _ => Ok(Plan::Existing),
        }
    }
}

/// File access: the serial writer's (the 1.8 format, HDF5's locking off), through MPI-IO
/// on `comm`.
fn access(comm: Comm) -> Result<hdf5::FileBuilder> {
    let mut builder = ffi::file_access(false)?;
    if let Some(comm) = comm {
        builder.with_fapl(|fapl| fapl.mpio(comm, None));
    }
    Ok(builder)
}

/// A file open for a parallel write.
pub(crate) struct ParallelFile {
    file: Option<hdf5::File>,
    plan: Plan,
    path: PathBuf,
    comm: Comm,
}

impl ParallelFile {
    /// Creates (collectively, on every rank of `comm`) the new file of `plan`, or opens the
    /// existing one for writing.
    pub(crate) fn open(comm: Comm, path: &Path, plan: Plan) -> Result<ParallelFile> {
        let mut builder = access(comm)?;
        let file = match &plan {
            Plan::New { temp } => {
                // No timestamp on the root group (as the serial writer's new files).
                builder.with_fcpl(|fcpl| fcpl.obj_track_times(false));
                builder.create_excl(temp)
            }
            Plan::Existing => builder.open_rw(path),
        }
        .map_err(|source| file::file_error(path, source))?;
        if comm.is_none() {
            ffi::close_on_exec(&file);
        }
        Ok(ParallelFile {
            file: Some(file),
            plan,
            path: path.to_path_buf(),
            comm,
        })
    }

    fn file(&self) -> &hdf5::File {
        self.file.as_ref().expect("open until closed")
    }

    /// Writes one array of `shape` (`dtype`) as the dataset `name` (a path: `group/member`;
    /// missing groups are made), whose rows `first..first + rows.len()` are this rank's
    /// `bytes` (rows of `shape[1..]`). Every rank calls it with the same `name`, `dtype` and
    /// `shape`, and its own rows; the rows are written with one collective hyperslab write.
    /// An array without elements is an `AnamEmptyArray` group, as the serial writer's.
    ///
    /// In an existing file, an object linked as `name` is replaced: the dataset is made
    /// under a temporary name and renamed once written.
    pub(crate) fn write_rows(
        &self,
        name: &str,
        dtype: DType,
        shape: &[usize],
        first: usize,
        bytes: &[u8],
        me: usize,
    ) -> std::result::Result<(), Failure> {
        let (parent_path, leaf) = split_member_path(name)?;
        let file = self.file();
        let parent = if parent_path.is_empty() {
            file.group("/")?
        } else if file.link_exists(parent_path) {
            match group::open_link(file, parent_path)? {
                Linked::Group(g) => g,
                Linked::Dataset(_) => {
                    return Err(Error::invalid(format!(
                        "`{parent_path}` is a dataset, not a group"
                    ))
                    .into())
                }
            }
        } else {
            create_group(file, parent_path, ser::UNKNOWN_ENTRIES)?
        };
        let replacing = parent.link_exists(leaf);
        let temp = format!("{TEMPORARY_PREFIX}{leaf}");
        let target = if replacing { temp.as_str() } else { leaf };
        if replacing && parent.link_exists(&temp) {
            // A temporary link left by a writer that was killed.
            group::delete_link(&parent, &temp)?;
        }
        let row_bytes = shape[1..].iter().product::<usize>() * dtype.size();
        if shape.contains(&0) {
            // No elements: the empty-array group, whose small datasets rank 0 fills.
            with_raw_data(me == 0, || {
                MemberSerializer::new(&parent, target).array(dtype, shape, &[])
            })?;
        } else {
            let rows = bytes.len().checked_div(row_bytes).unwrap_or(0);
            create_and_write_rows(&parent, target, dtype, shape, first, rows, bytes, self.comm)
                .map_err(|error| Failure {
                    owner: Some(me),
                    error,
                })?;
        }
        if replacing {
            file.flush()?;
            group::replace_by_temporary(&parent, &temp, leaf)?;
        }
        Ok(())
    }

    /// Flushes and closes the file (collectively). For a new file, the rank `committer`
    /// then makes it durable and moves it into place ([`commit`](Self::commit)); the others
    /// only close it.
    pub(crate) fn close(mut self) -> Result<Closed> {
        let file = self.file.take().expect("open until closed");
        file.flush()?;
        drop(file);
        Ok(Closed {
            plan: std::mem::replace(&mut self.plan, Plan::Existing),
            path: std::mem::take(&mut self.path),
        })
    }
}

impl Drop for ParallelFile {
    fn drop(&mut self) {
        // Not closed (an error): a new file is left nowhere.
        drop(self.file.take());
        if let Plan::New { temp } = &self.plan {
            let _ = std::fs::remove_file(temp);
        }
    }
}

/// A parallel file every rank has closed.
pub(crate) struct Closed {
    plan: Plan,
    path: PathBuf,
}

impl Closed {
    /// On one rank, after every rank has closed the file: a new file is synced to disk and
    /// linked at its path (as the serial writer's new files: complete or absent).
    pub(crate) fn commit(self) -> Result<()> {
        let Plan::New { temp } = &self.plan else {
            return Ok(());
        };
        let io = |what: &str, e: std::io::Error| {
            Error::invalid(format!("{}: {what}: {e}", self.path.display()))
        };
        std::fs::File::options()
            .read(true)
            .open(temp)
            .and_then(|f| f.sync_all())
            .map_err(|e| io("cannot sync the new file to disk", e))?;
        match std::fs::hard_link(temp, &self.path) {
            Ok(()) => {
                let _ = std::fs::remove_file(temp);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::invalid(format!(
                    "{}: another writer created the file during the parallel write; the \
                     file written is left at {}",
                    self.path.display(),
                    temp.display()
                )))
            }
            // No hard links on this file system: a rename.
            Err(_) => std::fs::rename(temp, &self.path)
                .map_err(|e| io("cannot move the new file into place", e))?,
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

/// `group/member` as (`group`, `member`); a member of the root group has an empty group
/// path. The group path follows the rules of group names, the member those of members.
fn split_member_path(name: &str) -> Result<(&str, &str)> {
    super::check_group_name(name)?;
    let name = name.trim_start_matches('/');
    let (parent, leaf) = name.rsplit_once('/').unwrap_or(("", name));
    if let Some(problem) = format::member_name_problem(leaf) {
        return Err(Error::invalid(format!(
            "the member name `{leaf}` {problem}"
        )));
    }
    Ok((parent, leaf))
}

/// Creates the dataset `name` of `shape` in `parent` and writes this rank's `rows` rows
/// (`bytes`) at row `first`, collectively when the file is parallel.
#[allow(clippy::too_many_arguments)]
fn create_and_write_rows(
    parent: &Group,
    name: &str,
    dtype: DType,
    shape: &[usize],
    first: usize,
    rows: usize,
    bytes: &[u8],
    comm: Comm,
) -> Result<()> {
    use hdf5_sys::h5d::H5Dwrite;

    let cname = c_name(name, "dataset")?;
    let op = || format!("cannot write the dataset `{name}`");
    let (h5type, file_space) = super::node::new_dataset_parts(dtype, shape, bytes, op)?;
    let file_space =
        file_space.ok_or_else(|| Error::invalid("a 0-d array has no rows to write"))?;
    // Every row is written below, by one rank or another: no fill values first.
    let dcpl = unfilled_list(op)?;
    let ds = ffi::create_dataset(parent.id(), &cname, h5type, file_space.id(), dcpl.id(), op)?;
    let mut mem_dims: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
    mem_dims[0] = rows as u64;
    let (mem_space, selection) = select_rows(&file_space, &mem_dims, first, op)?;
    let dxpl = transfer_list(comm, op)?;
    // SAFETY: `bytes` holds this rank's `rows` rows of `h5type` (the memory dataspace's
    // elements; none when nothing is selected); HDF5 only reads from it.
    call(op, || unsafe {
        H5Dwrite(
            ds.id(),
            h5type,
            mem_space.id(),
            selection,
            dxpl.id(),
            bytes.as_ptr().cast(),
        )
    })?;
    Ok(())
}

/// The memory dataspace of this rank's rows (`mem_dims`: the rows, then the other
/// dimensions) and the selection of those rows, at row `first`, in `file_space` (which is
/// changed: its selection). Without rows, nothing is selected in either.
fn select_rows(
    file_space: &OwnedId,
    mem_dims: &[u64],
    first: usize,
    op: impl Fn() -> String + Copy,
) -> Result<(OwnedId, hid_t)> {
    use hdf5_sys::h5s::H5Sselect_none;
    if mem_dims[0] == 0 {
        let mem = ffi::simple_space(&[1], None, op)?;
        // SAFETY: dataspaces we own.
        call(op, || unsafe { H5Sselect_none(mem.id()) })?;
        // SAFETY: as above.
        call(op, || unsafe { H5Sselect_none(file_space.id()) })?;
        return Ok((mem, file_space.id()));
    }
    let mem = ffi::simple_space(mem_dims, None, op)?;
    let mut start = vec![0u64; mem_dims.len()];
    start[0] = first as u64;
    ffi::select_block(file_space.id(), &start, None, mem_dims, op)?;
    Ok((mem, file_space.id()))
}

/// A data-transfer property list: collective MPI-IO when the file is parallel.
fn transfer_list(comm: Comm, op: impl Fn() -> String + Copy) -> Result<OwnedId> {
    use hdf5_sys::h5p::{H5Pclose, H5Pcreate, H5P_CLS_DATASET_XFER};
    // SAFETY: a new property list, owned.
    let dxpl = OwnedId::new(op, H5Pclose, || unsafe { H5Pcreate(*H5P_CLS_DATASET_XFER) })?;
    if comm.is_some() {
        use hdf5_sys::h5p::{H5FD_mpio_xfer_t, H5Pset_dxpl_mpio};
        // SAFETY: configures a property list we own.
        call(op, || unsafe {
            H5Pset_dxpl_mpio(dxpl.id(), H5FD_mpio_xfer_t::H5FD_MPIO_COLLECTIVE)
        })?;
    }
    Ok(dxpl)
}

// ---------------------------------------------------------------------------------------
// Reading a share
// ---------------------------------------------------------------------------------------

/// A file open for reading: through MPI-IO on a communicator (opened and closed
/// collectively), or, without one, as the serial reader opens files.
pub(crate) enum ReadFile {
    Parallel(hdf5::File),
    Serial(FileHandle),
}

impl std::ops::Deref for ReadFile {
    type Target = hdf5::File;
    fn deref(&self) -> &hdf5::File {
        match self {
            ReadFile::Parallel(f) => f,
            ReadFile::Serial(f) => f,
        }
    }
}

impl ReadFile {
    /// Opens `path` for reading (collectively on `comm`).
    pub(crate) fn open(comm: Comm, path: &Path) -> Result<ReadFile> {
        if comm.is_none() {
            return file::open_read(path).map(ReadFile::Serial);
        }
        access(comm)?
            .open(path)
            .map(ReadFile::Parallel)
            .map_err(|source| file::file_error(path, source))
    }

    fn size(&self) -> u64 {
        match self {
            ReadFile::Parallel(f) => f.size(),
            ReadFile::Serial(f) => f.size,
        }
    }

    /// Reads what `seed` deserializes from the group `name` (or the first group), with the
    /// default [`ReadOptions`], as [`from_file`](super::from_file) reads a value.
    pub(crate) fn read_group<'de, S: serde::de::DeserializeSeed<'de>>(
        &self,
        name: Option<&str>,
        seed: S,
    ) -> Result<S::Value> {
        let _scope = scope::enter(&ReadOptions::default(), self.size());
        let group = group::open_group_or_first(self, name)?;
        de::from_group_seed(&group, seed)
    }

    /// Reads this rank's rows of the array stored as `name` (a dataset, or an empty array's
    /// group): `rows_of` gives them (`start..end`) from the array's number of rows. One
    /// independent hyperslab read, in the dataset's stored dtype.
    pub(crate) fn read_rows(
        &self,
        name: &str,
        rows_of: impl FnOnce(usize) -> (usize, usize),
    ) -> Result<TypedArray> {
        let _scope = scope::enter(&ReadOptions::default(), self.size());
        let (parent_path, leaf) = split_member_path(name)?;
        let parent = if parent_path.is_empty() {
            self.group("/")?
        } else {
            match group::open_link(self, parent_path)? {
                Linked::Group(g) => g,
                Linked::Dataset(_) => {
                    return Err(Error::invalid(format!(
                        "`{parent_path}` is a dataset, not a group"
                    )))
                }
            }
        };
        let at = |e: Error| e.at_with(|| group::join(&parent, leaf));
        let node = match group::open_link(&parent, leaf).map_err(at)? {
            // An empty array's group: no data to read.
            Linked::Group(g) => {
                let all = match de::from_group::<Value>(&g).map_err(at)? {
                    Value::Array(a) => a,
                    other => {
                        return Err(at(Error::invalid(format!(
                            "expected an array, found {}",
                            other.describe()
                        ))))
                    }
                };
                if all.shape().is_empty() {
                    return Err(at(Error::invalid("a 0-d array has no rows")));
                }
                let (start, end) = rows_of(all.shape()[0]);
                let mut shape = all.shape().to_vec();
                shape[0] = end - start;
                return Ok(TypedArray::zeros(all.dtype(), &shape));
            }
            Linked::Dataset(node) => node,
        };
        if node.shape.is_empty() || node.null {
            return Err(at(Error::invalid("a 0-d array has no rows")));
        }
        TypedArray::check_shape(&node.shape).map_err(at)?;
        let (start, end) = rows_of(node.shape[0]);
        let mut first = vec![0u64; node.shape.len()];
        first[0] = start as u64;
        let mut count: Vec<u64> = node.shape.iter().map(|&d| d as u64).collect();
        count[0] = (end - start) as u64;
        let nbytes = count.iter().product::<u64>() * node.numeric().map_err(at)?.size() as u64;
        scope::charge(nbytes, || format!("rows {start}..{end} ({nbytes} bytes)")).map_err(at)?;
        node.read_selection(&first, &vec![1; count.len()], &count)
            .map_err(at)
    }
}
