//! The HDF5 C calls: identifiers we own, the one check every call goes through (which keeps
//! HDF5's own error stack in the error), and the HDF5 objects made once per process.
//!
//! Why direct C calls: reading or writing one small object means opening a few attributes,
//! asking each its type and extent, and reading or writing a number or a string. Through the
//! `hdf5` crate each step makes handle objects (datatype, dataspace, memory type), each
//! registered, validated and released with several more library calls; profiled on W1
//! (`benches/hdf5`), that bookkeeping was most of the time. Here the same steps are a
//! handful of C calls on identifiers we own and close ourselves.

use std::sync::OnceLock;

use hdf5_sys::h5::herr_t;
use hdf5_sys::h5i::hid_t;

use crate::dtype::{with_dtype, DType};
use crate::error::{Error, Result};

/// A status an HDF5 call returns: negative is failure (`herr_t`, `htri_t`, `hid_t`,
/// `hssize_t`).
pub(crate) trait Status: Copy {
    fn failed(self) -> bool;
}

impl Status for i32 {
    fn failed(self) -> bool {
        self < 0
    }
}

impl Status for i64 {
    fn failed(self) -> bool {
        self < 0
    }
}

/// Runs one HDF5 call under the library lock and checks its status: on failure the error
/// says what was asked (`op`, made only then) and carries HDF5's error stack, whose
/// `Display` is HDF5's own reason (`H5Acreate2(): unable to create attribute: attribute
/// already exists`).
pub(crate) fn call<S: Status>(op: impl FnOnce() -> String, f: impl FnOnce() -> S) -> Result<S> {
    hdf5::sync::sync(|| {
        let status = f();
        if status.failed() {
            // The stack describes the call that just failed: take it before anything else
            // calls into HDF5.
            let stack = hdf5::Error::query().unwrap_or_else(|e| e);
            Err(Error::hdf5_call(op(), stack))
        } else {
            Ok(status)
        }
    })
}

/// How an identifier is closed.
pub(crate) type CloseFn = unsafe extern "C" fn(hid_t) -> herr_t;

/// An HDF5 identifier we own, closed on drop.
pub(crate) struct OwnedId {
    id: hid_t,
    close: CloseFn,
}

impl OwnedId {
    /// Makes an identifier with `f` (checked as [`call`] does) and takes ownership of it.
    pub(crate) fn new(
        op: impl FnOnce() -> String,
        close: CloseFn,
        f: impl FnOnce() -> hid_t,
    ) -> Result<OwnedId> {
        call(op, f).map(|id| OwnedId { id, close })
    }

    pub(crate) fn id(&self) -> hid_t {
        self.id
    }

    /// Gives up ownership: the identifier stays open for the life of the process.
    fn keep(self) -> hid_t {
        let id = self.id;
        std::mem::forget(self);
        id
    }
}

impl Drop for OwnedId {
    fn drop(&mut self) {
        // SAFETY: `id` is a valid identifier we own (made by a checked call) and is closed
        // once. A failed close leaves nothing to do.
        hdf5::sync::sync(|| unsafe { (self.close)(self.id) });
    }
}

/// A NUL-terminated copy of a name for HDF5; an error naming `what` if it holds a NUL.
pub(crate) fn c_name(name: &str, what: &str) -> Result<std::ffi::CString> {
    std::ffi::CString::new(name).map_err(|_| {
        Error::invalid(format!(
            "{what} name `{}` contains a NUL byte",
            name.escape_debug()
        ))
    })
}

/// HDF5 objects made once for the life of the process and shared by every call (HDF5
/// identifiers are process-wide).
pub(crate) struct Shared {
    /// A scalar dataspace.
    pub scalar: hid_t,
    /// A null dataspace (an attribute that has a name and no value).
    pub null: hid_t,
    /// The variable-length UTF-8 string type (what h5py writes for `str`).
    pub vlen_utf8: hid_t,
    /// Link creation that makes missing intermediate groups (`to_file(path, "a/b", ..)`).
    pub lcpl: hid_t,
    /// Dataset creation without timestamps (see [`group_create_list`]).
    ///
    /// Its price, for small datasets: HDF5 (1.10.8) has a fast path for the default
    /// dataset-creation list only. With any other it copies the list into every dataset it
    /// creates (`H5D__new`), runs the filter callbacks (`H5Z_can_apply`, `H5Z_set_local`),
    /// reads the list's properties, and frees the copy when the dataset closes: about
    /// 35,000 instructions a dataset. W1's write (2,000 objects with a 3-element array
    /// each) takes 466.9 M instructions with this list and 396.5 M with `H5P_DEFAULT`
    /// (callgrind): most of the instructions that write gained when timestamps went (the
    /// rest of its slowdown is time, the `fsync`s of a new file: `file::NewFile::commit`).
    /// Only the creation list can turn a dataset's timestamps off, so that is the cost of
    /// identical files. HDF5's default list cannot be made to do it for us: turning its
    /// timestamps off (`H5Pset_obj_track_times(H5P_DATASET_CREATE_DEFAULT, 0)`, under the
    /// library lock for the time of a write) gets the fast path but not the setting, since
    /// HDF5 takes a dataset's header flags for the default list from the copy of its
    /// defaults it made at start (`H5CX_get_ohdr_flags` in `H5O_create_ohdr`): the files
    /// kept their timestamps (tried: `tests/correctness.rs`'s byte-for-byte test failed).
    pub dcpl: hid_t,
    /// Link access that refuses to follow external links (see
    /// [`ReadOptions`](crate::ReadOptions)).
    pub no_external_links: hid_t,
    /// The type of each dtype, in memory and in files alike (we run on little-endian
    /// machines only): the `hdf5` crate's, which is what h5py writes (`H5T_STD_I64LE`...,
    /// the `FALSE`/`TRUE` enum for bool, the compound `{r, i}` for complex). Indexed by
    /// [`DType::code`].
    pub types: Vec<hid_t>,
}

/// The shared objects (made on first use).
pub(crate) fn shared() -> Result<&'static Shared> {
    static SHARED: OnceLock<std::result::Result<Shared, String>> = OnceLock::new();
    SHARED
        .get_or_init(|| make_shared().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| Error::invalid(format!("HDF5 could not make its shared types: {e}")))
}

fn make_shared() -> Result<Shared> {
    use hdf5_sys::h5p::{
        H5Pclose, H5Pcreate, H5Pset_create_intermediate_group, H5Pset_elink_cb,
        H5Pset_obj_track_times, H5P_CLS_DATASET_CREATE, H5P_CLS_LINK_ACCESS, H5P_CLS_LINK_CREATE,
    };
    use hdf5_sys::h5s::{H5S_class_t, H5Sclose, H5Screate};
    use hdf5_sys::h5t::{
        H5T_cset_t, H5Tclose, H5Tcopy, H5Tset_cset, H5Tset_size, H5T_C_S1, H5T_VARIABLE,
    };

    let op = || "cannot make the shared HDF5 types".to_string();
    // SAFETY: makes a new dataspace, owned.
    let scalar = OwnedId::new(op, H5Sclose, || unsafe {
        H5Screate(H5S_class_t::H5S_SCALAR)
    })?;
    // SAFETY: makes a new dataspace, owned.
    let null = OwnedId::new(op, H5Sclose, || unsafe { H5Screate(H5S_class_t::H5S_NULL) })?;
    // SAFETY: copies a predefined type into a new one, owned.
    let vlen_utf8 = OwnedId::new(op, H5Tclose, || unsafe { H5Tcopy(*H5T_C_S1) })?;
    // SAFETY: configures a type we own.
    call(op, || unsafe { H5Tset_size(vlen_utf8.id, H5T_VARIABLE) })?;
    // SAFETY: configures a type we own.
    call(op, || unsafe {
        H5Tset_cset(vlen_utf8.id, H5T_cset_t::H5T_CSET_UTF8)
    })?;
    // SAFETY: makes a new property list, owned.
    let lcpl = OwnedId::new(op, H5Pclose, || unsafe { H5Pcreate(*H5P_CLS_LINK_CREATE) })?;
    // SAFETY: configures a property list we own.
    call(op, || unsafe {
        H5Pset_create_intermediate_group(lcpl.id, 1)
    })?;
    // SAFETY: makes a new property list, owned.
    let dcpl = OwnedId::new(op, H5Pclose, || unsafe {
        H5Pcreate(*H5P_CLS_DATASET_CREATE)
    })?;
    // SAFETY: configures a property list we own.
    call(op, || unsafe { H5Pset_obj_track_times(dcpl.id, 0) })?;
    // SAFETY: makes a new property list, owned.
    let no_external_links =
        OwnedId::new(op, H5Pclose, || unsafe { H5Pcreate(*H5P_CLS_LINK_ACCESS) })?;
    // SAFETY: configures a property list we own with a callback that lives for ever.
    call(op, || unsafe {
        H5Pset_elink_cb(
            no_external_links.id,
            Some(refuse_external_link),
            std::ptr::null_mut(),
        )
    })?;
    let types = DType::ALL
        .iter()
        .map(|&dtype| {
            let crate_type = with_dtype!(dtype, T => hdf5::Datatype::from_type::<T>())?;
            // SAFETY: copies a valid datatype into a new identifier we own.
            OwnedId::new(op, H5Tclose, || unsafe { H5Tcopy(crate_type.id()) })
        })
        .collect::<Result<Vec<OwnedId>>>()?;
    Ok(Shared {
        scalar: scalar.keep(),
        null: null.keep(),
        vlen_utf8: vlen_utf8.keep(),
        lcpl: lcpl.keep(),
        dcpl: dcpl.keep(),
        no_external_links: no_external_links.keep(),
        types: types.into_iter().map(OwnedId::keep).collect(),
    })
}

/// HDF5's external-link traversal callback of [`Shared::no_external_links`]: refuses.
extern "C" fn refuse_external_link(
    _parent_file: *const std::ffi::c_char,
    _parent_group: *const std::ffi::c_char,
    _child_file: *const std::ffi::c_char,
    _child_object: *const std::ffi::c_char,
    _access_flags: *mut std::ffi::c_uint,
    _fapl: hid_t,
    _data: *mut std::ffi::c_void,
) -> herr_t {
    -1
}

impl Shared {
    /// The HDF5 type of `dtype` (memory and file alike).
    pub(crate) fn type_of(&self, dtype: DType) -> hid_t {
        self.types[usize::from(dtype.code())]
    }
}

/// How files are opened: objects in the HDF5 1.8 file format, and HDF5's own file locking
/// off (see [`file`](super::file) for the locks we take instead).
///
/// HDF5's default ("earliest") format keeps every attribute of a group in its object
/// header and finds one by scanning them all, so a list or dict of n scalars costs O(n²)
/// to write and read (10,000 `int64` attributes: 1.9 s to write, 0.4 s to read here).
/// The 1.8 format moves an object's attributes and links to indexed storage once there
/// are more than 8 (35 ms and 13 ms for the same), and makes small groups smaller (W1's
/// file: 1.4 MB instead of 3.4 MB). Objects are written in the 1.8 format, readable by
/// every HDF5 since 1.8 (2008), h5py and Python anamnesis included; the upper bound is
/// the library's latest so that files made in a newer format (h5py's `libver="latest"`)
/// can still be opened to add to.
///
/// `hdf5_locking` turns HDF5's locking back on, for a file the program has open itself with
/// it on (HDF5 wants one setting per open file).
pub(crate) fn file_access(hdf5_locking: bool) -> Result<hdf5::FileBuilder> {
    use hdf5::file::LibraryVersion;
    let mut builder = hdf5::File::with_options();
    builder.with_fapl(|fapl| {
        fapl.libver_bounds(LibraryVersion::V18, LibraryVersion::latest());
        #[cfg(hdf5_file_locking)]
        fapl.file_locking(hdf5_locking);
        #[cfg(not(hdf5_file_locking))]
        let _ = hdf5_locking;
        fapl
    });
    Ok(builder)
}

/// Header space, in units of one 16-character link message (about 30 bytes), reserved per
/// expected entry of a group: a scalar attribute takes one and a half to two units (a
/// string's type and heap reference), a link one.
const UNITS_PER_ENTRY: usize = 2;
/// Group-creation lists are made for header sizes of 8, 16, ... up to this many units.
const UNIT_STEP: usize = 8;
const MAX_UNITS: usize = 64;

/// HDF5 numbers tracked attributes with 16 bits: a group that tracks attribute creation
/// order holds at most this many attributes.
const MAX_TRACKED_ATTRIBUTES: usize = 65_535;

thread_local! {
    /// Whether the groups written now track attribute creation order (see
    /// [`group_create_list`]); set by [`track_attribute_order`] for one write.
    static TRACK_ORDER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Until the guard is dropped, the groups this thread creates track attribute creation
/// order (for a write into a file of HDF5's earliest format, see [`group_create_list`]).
pub(crate) fn track_attribute_order(track: bool) -> impl Drop {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            TRACK_ORDER.set(self.0);
        }
    }
    Restore(TRACK_ORDER.replace(track))
}

/// Whether the file of `group` is in HDF5's earliest format (its low library-version bound),
/// where groups keep every attribute in their object header unless they track attribute
/// creation order.
pub(crate) fn in_earliest_format(group: &hdf5::Group) -> bool {
    use hdf5_sys::h5f::{H5F_libver_t, H5Fget_access_plist};
    use hdf5_sys::h5p::{H5Pclose, H5Pget_libver_bounds};
    let Ok(fapl) = OwnedId::new(String::new, H5Pclose, || {
        // SAFETY: the access properties of the group's file, a new list we own.
        unsafe { H5Fget_access_plist(group.id()) }
    }) else {
        return true;
    };
    let (mut low, mut high) = (
        H5F_libver_t::H5F_LIBVER_EARLIEST,
        H5F_libver_t::H5F_LIBVER_EARLIEST,
    );
    // SAFETY: a property list we own and two places for the bounds.
    let status =
        hdf5::sync::sync(|| unsafe { H5Pget_libver_bounds(fapl.id(), &mut low, &mut high) });
    status < 0 || low == H5F_libver_t::H5F_LIBVER_EARLIEST
}

/// The group-creation property list for a group expected to hold `entries` attributes and
/// links (or `H5P_DEFAULT` if HDF5 could not make one). Made once per kind.
///
/// Both settings exist for speed:
/// * in a file of HDF5's earliest format (a user's file handed to `to_group`), the group
///   tracks attribute creation order, which gives it a version-2 object header: its
///   attributes move to indexed ("dense") storage past 8. Without it a list or dict of n
///   scalars is O(n²) to write and read (10,000 `int64` attributes: 1.9 s to write and
///   0.4 s to read here, against 35 ms and 12 ms). Files of the 1.8 format (those
///   `to_file` makes) give every group such a header anyway, so there it is not tracked:
///   tracking numbers attributes with 16 bits, which stopped lists of more than 65,533
///   items; it is left off for a group expected to hold more than that in any file;
/// * in files of the 1.8 format, the first block of the object header is sized for its
///   entries (`est_link_info`; HDF5 ignores it for groups of the earliest format), so that
///   the attributes written after the group is made fit in it instead of in continuation
///   blocks elsewhere in the file, each one more metadata read later. W1's layout in C,
///   20,000 objects: read 0.66-0.72 s -> 0.41-0.44 s, write 0.64-0.66 s -> 0.47-0.51 s,
///   file 14.4 MB -> 14.8 MB;
/// * no timestamps (nor on datasets, [`Shared::dcpl`], nor on a new file's root group): the
///   same value gives the same file, byte for byte (as h5py, whose default is the same).
pub(crate) fn group_create_list(entries: usize) -> hid_t {
    use hdf5_sys::h5p::{
        H5Pcreate, H5Pset_attr_creation_order, H5Pset_est_link_info, H5Pset_obj_track_times,
        H5P_CLS_GROUP_CREATE, H5P_CRT_ORDER_TRACKED, H5P_DEFAULT,
    };

    const CLASSES: usize = MAX_UNITS / UNIT_STEP;
    static LISTS: [[OnceLock<Option<hid_t>>; CLASSES]; 2] =
        [const { [const { OnceLock::new() }; CLASSES] }; 2];
    let track = TRACK_ORDER.get() && entries < MAX_TRACKED_ATTRIBUTES;
    let units = (entries.saturating_mul(UNITS_PER_ENTRY)).clamp(UNIT_STEP, MAX_UNITS);
    let class = units.div_ceil(UNIT_STEP) - 1;
    let units = (class + 1) * UNIT_STEP;
    LISTS[usize::from(track)][class]
        .get_or_init(|| {
            hdf5::sync::sync(|| unsafe {
                // SAFETY: creates a group-creation property list and sets its properties;
                // the list is kept for the life of the process.
                let id = H5Pcreate(*H5P_CLS_GROUP_CREATE);
                (id >= 0
                    && (!track || H5Pset_attr_creation_order(id, H5P_CRT_ORDER_TRACKED) >= 0)
                    && H5Pset_est_link_info(id, units as u32, 16) >= 0
                    && H5Pset_obj_track_times(id, 0) >= 0)
                    .then_some(id)
            })
        })
        .unwrap_or(H5P_DEFAULT)
}

/// Marks the file descriptor of `file` close-on-exec.
///
/// Why: HDF5 opens files without `O_CLOEXEC` and locks them with `flock`. A child process
/// started (by any thread) while the file is open inherits the descriptor, and with it the
/// lock, for as long as it runs: reopening the file then fails with "unable to lock file,
/// errno = 11" although this process closed it. Only the default (`sec2`) driver has a
/// plain descriptor; other drivers are left as they are.
pub(crate) fn close_on_exec(file: &hdf5::File) {
    #[cfg(unix)]
    {
        use hdf5::file::FileDriver;
        use hdf5_sys::h5f::H5Fget_vfd_handle;
        use hdf5_sys::h5p::H5P_DEFAULT;

        if !matches!(
            file.access_plist().map(|p| p.driver()),
            Ok(FileDriver::Sec2)
        ) {
            return;
        }
        let mut handle: *mut std::ffi::c_void = std::ptr::null_mut();
        let status = hdf5::sync::sync(|| unsafe {
            // SAFETY: a valid file id; HDF5 stores a pointer to its handle in `handle`.
            H5Fget_vfd_handle(file.id(), H5P_DEFAULT, &mut handle)
        });
        if status < 0 || handle.is_null() {
            return;
        }
        // SAFETY: for the sec2 driver the handle points to the file's `int` descriptor,
        // which stays open while `file` is; F_SETFD only changes the descriptor's flags.
        unsafe {
            let fd = *(handle as *const std::ffi::c_int);
            let flags = libc::fcntl(fd, libc::F_GETFD);
            if flags >= 0 {
                libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC);
            }
        }
    }
}

/// A new simple dataspace of `dims` (with `max`, as many maximum dimensions), owned.
pub(crate) fn simple_space(
    dims: &[u64],
    max: Option<&[u64]>,
    op: impl FnOnce() -> String,
) -> Result<OwnedId> {
    use hdf5_sys::h5s::{H5Sclose, H5Screate_simple};
    let rank = i32::try_from(dims.len()).map_err(|_| Error::invalid("too many dimensions"))?;
    if max.is_some_and(|m| m.len() != dims.len()) {
        return Err(Error::invalid("maximum dimensions of another rank"));
    }
    // SAFETY: `dims` (and `max`) have `rank` entries; the dataspace made is owned.
    OwnedId::new(op, H5Sclose, || unsafe {
        H5Screate_simple(
            rank,
            dims.as_ptr(),
            max.map_or(std::ptr::null(), <[u64]>::as_ptr),
        )
    })
}

/// Selects in the dataspace `space` the block of `count` elements per axis from `start`
/// (every `stride`-th element, or each), replacing its selection.
pub(crate) fn select_block(
    space: hid_t,
    start: &[u64],
    stride: Option<&[u64]>,
    count: &[u64],
    op: impl FnOnce() -> String,
) -> Result<()> {
    use hdf5_sys::h5s::{H5S_seloper_t, H5Sget_simple_extent_ndims, H5Sselect_hyperslab};
    // SAFETY: a dataspace id; HDF5 checks it.
    let rank = hdf5::sync::sync(|| unsafe { H5Sget_simple_extent_ndims(space) });
    let axes = count.len();
    if usize::try_from(rank).ok() != Some(axes)
        || start.len() != axes
        || stride.is_some_and(|s| s.len() != axes)
    {
        return Err(Error::invalid(format!(
            "{}: a selection of {axes} axes in a dataspace of {rank}",
            op()
        )));
    }
    // SAFETY: `start`, `count` (and `stride`) have one entry per axis of the dataspace
    // (checked above); HDF5 checks them against its extent.
    call(op, || unsafe {
        H5Sselect_hyperslab(
            space,
            H5S_seloper_t::H5S_SELECT_SET,
            start.as_ptr(),
            stride.map_or(std::ptr::null(), <[u64]>::as_ptr),
            count.as_ptr(),
            std::ptr::null(),
        )
    })
    .map(drop)
}

/// Creates the dataset `name` (of `h5type`, in `space`, with the creation list `dcpl`) in
/// the group `location`, owned.
pub(crate) fn create_dataset(
    location: hid_t,
    name: &std::ffi::CStr,
    h5type: hid_t,
    space: hid_t,
    dcpl: hid_t,
    op: impl FnOnce() -> String,
) -> Result<OwnedId> {
    use hdf5_sys::h5d::{H5Dclose, H5Dcreate2};
    use hdf5_sys::h5p::H5P_DEFAULT;
    // SAFETY: a NUL-terminated name; HDF5 checks the ids; the dataset made is owned.
    OwnedId::new(op, H5Dclose, || unsafe {
        H5Dcreate2(
            location,
            name.as_ptr(),
            h5type,
            space,
            H5P_DEFAULT,
            dcpl,
            H5P_DEFAULT,
        )
    })
}
