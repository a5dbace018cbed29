//! [`File`]: one open file for many objects, and for reading and writing pieces of them.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use hdf5::Group;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::file::{self, FileHandle, NewFile};
use super::group::{self, join, Linked};
use super::node::{self, Node, Stored};
use super::{de, scope, ser, write_scope};
use crate::dtype::{DType, Scalar};
use crate::error::{Error, ErrorKind, Result};
use crate::format;
use crate::object::AnamObject;
use crate::options::ReadOptions;
use crate::write_options::WriteOptions;

/// An HDF5 file open for many reads and writes, in the anamnesis layout.
///
/// Objects live at *paths*: `"run"`, `"runs/2024/a"` (groups are made as needed when
/// writing). A path may also name a member of an object: an attribute (`"run/id"`), a
/// dataset (`"run/samples"`), a list item (`"runs/LIST_item3"`). [`to_file`](crate::to_file)
/// and [`from_file`](crate::from_file) are one-call shorthands for one object.
///
/// Every [`write`](Self::write) is failure-atomic as `to_file` is (the object is built
/// unlinked and put in place only once complete; `docs/FORMAT.md`, "Writes") and flushed
/// before it returns. Lists and collections can be read and extended a member at a time
/// ([`len`](Self::len), [`item`](Self::item), [`items`](Self::items), [`push`](Self::push)),
/// and [`entries`](Self::entries) describes what a group holds without reading array data.
///
/// Arrays are stored contiguous and unfiltered, as Python anamnesis stores them, unless
/// the file is made or opened with [`WriteOptions`] ([`create_with`](Self::create_with),
/// [`open_rw_with`](Self::open_rw_with): compression, shuffle, checksums, chunks for every
/// write) or a write is given its own ([`write_with`](Self::write_with),
/// [`push_with`](Self::push_with)).
///
/// ```
/// # fn main() -> anam::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("runs.hdf5");
/// #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
/// #[serde(rename = "lab.Run")]
/// struct Run { id: i64, samples: Vec<f64> }
///
/// let file = anam::File::create(&path)?;
/// file.write("runs", &Vec::<Run>::new())?;
/// for id in 0..3 {
///     file.push("runs", &Run { id, samples: vec![0.5; 4] })?;
/// }
/// assert_eq!(file.len("runs")?, 3);
/// let second: Run = file.item("runs", 1)?;
/// assert_eq!(second.id, 1);
/// let id: i64 = file.read("runs/LIST_item2/id")?;
/// assert_eq!(id, 2);
/// # Ok(())
/// # }
/// ```
pub struct File {
    handle: FileHandle,
    path: PathBuf,
    writable: bool,
    /// The storage of the arrays of [`write`](Self::write) and [`push`](Self::push).
    options: WriteOptions,
}

/// What an entry of a group is (see [`File::entries`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryKind {
    /// An object: a group with a class tag.
    Object,
    /// An `AnamList` group.
    List,
    /// An `AnamDict` group.
    Dict,
    /// A dataset, an array attribute or an `AnamEmptyArray` group.
    Array,
    /// A scalar attribute (a number, a string, `()`).
    Scalar,
    /// Anything else: a group without a class, a link we do not follow, a type we do not read.
    Other,
}

/// One entry of a group, described without reading array data (see [`File::entries`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Its name for people: a member's name, a list item's index, a dict entry's key.
    pub name: String,
    /// Its path in the file, for [`File::read`] and the other methods.
    pub path: String,
    /// What it is.
    pub kind: EntryKind,
    /// The class tag of a group that has one (objects, lists, dicts, empty arrays).
    pub class: Option<String>,
    /// The number of items of a list or entries of a dict (its `count`).
    pub len: Option<usize>,
    /// The shape of an array (`[]` for a scalar).
    pub shape: Option<Vec<usize>>,
    /// The element type of a numeric array or scalar (`None` for strings and others).
    pub dtype: Option<DType>,
}

/// What a path names.
enum Target {
    Group(Group),
    Dataset(Node),
    Attribute(Group, String),
}

impl File {
    /// Creates a new file at `path`, open for reading and writing. An existing file is an
    /// error (it is never replaced): open it with [`open_rw`](Self::open_rw), or remove it
    /// first. The file appears at its path complete (made under a temporary name, made
    /// durable and linked into place), as a new file of `to_file` does.
    pub fn create(path: impl AsRef<Path>) -> Result<File> {
        File::create_with(path, WriteOptions::default())
    }

    /// [`create`](Self::create), with `options` for the arrays of every
    /// [`write`](Self::write) and [`push`](Self::push) through this handle (compression,
    /// shuffle, checksums, chunks; see [`WriteOptions`]). Options no array could be stored
    /// with (a gzip level above 9, a chunk length of 0) are an error here, before the file
    /// is made.
    ///
    /// ```
    /// # fn main() -> anam::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("compressed.hdf5");
    /// use anam::{Compression, WriteOptions};
    ///
    /// let options = WriteOptions::new().compression(Compression::Gzip(1)).shuffle(true);
    /// let file = anam::File::create_with(&path, options)?;
    /// let mut run = anam::Store::new();
    /// run.insert("signal", anam::ndarray::ArrayD::<f64>::zeros(vec![100_000]));
    /// file.write("run", &run)?; // `run/signal`: chunked, shuffled, gzip level 1
    /// # assert!(file.hdf5().dataset("run/signal").unwrap().chunk().is_some());
    /// let back: anam::Store = file.read("run")?;
    /// # assert_eq!(back, run);
    /// # Ok(())
    /// # }
    /// ```
    pub fn create_with(path: impl AsRef<Path>, options: WriteOptions) -> Result<File> {
        let path = path.as_ref();
        options.check().map_err(|e| bad_options(path, e))?;
        if std::fs::symlink_metadata(path).is_ok() {
            return Err(exists(path));
        }
        {
            // The new (empty) file is synced as `options.sync` says.
            let _options = write_scope::enter(&options).map_err(|e| bad_options(path, e))?;
            NewFile::create(path)?.commit(|| Err(exists(path)))?;
        }
        File::open_rw_with(path, options)
    }

    /// Opens an existing file for reading only.
    pub fn open(path: impl AsRef<Path>) -> Result<File> {
        let path = path.as_ref();
        Ok(File {
            handle: file::open_read(path)?,
            path: path.to_path_buf(),
            writable: false,
            options: WriteOptions::default(),
        })
    }

    /// Opens an existing file for reading and writing. While it is open, other threads of
    /// this process that read the file wait for it to be closed, and other processes
    /// cannot open it (see `docs/FORMAT.md`, "Writes", on locks).
    pub fn open_rw(path: impl AsRef<Path>) -> Result<File> {
        File::open_rw_with(path, WriteOptions::default())
    }

    /// [`open_rw`](Self::open_rw), with `options` for the arrays of every
    /// [`write`](Self::write) and [`push`](Self::push) through this handle (see
    /// [`create_with`](Self::create_with)). What the file holds already keeps its storage.
    pub fn open_rw_with(path: impl AsRef<Path>, options: WriteOptions) -> Result<File> {
        let path = path.as_ref();
        options.check().map_err(|e| bad_options(path, e))?;
        Ok(File {
            handle: file::open_write(path)?,
            path: path.to_path_buf(),
            writable: true,
            options,
        })
    }

    /// The storage options of this handle's writes (the defaults unless made with
    /// [`create_with`](Self::create_with) or [`open_rw_with`](Self::open_rw_with)).
    pub fn write_options(&self) -> &WriteOptions {
        &self.options
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `hdf5` crate's handle of the file, for what this type does not do.
    pub fn hdf5(&self) -> &hdf5::File {
        &self.handle
    }

    // -----------------------------------------------------------------------------------
    // Whole objects
    // -----------------------------------------------------------------------------------

    /// Writes `value` as the object at `path` (a struct, map or sequence), replacing what
    /// is there; missing groups on the way are made. Failure-atomic, and flushed.
    pub fn write<T: ?Sized + Serialize>(&self, path: &str, value: &T) -> Result<()> {
        self.write_with(path, value, &self.options)
    }

    /// [`write`](Self::write) with `options` for the arrays of this write instead of the
    /// handle's (compression, shuffle, checksums, chunks; see [`WriteOptions`]).
    /// Failure-atomic as `write` is: options an array cannot be stored with leave the file
    /// as it was.
    pub fn write_with<T: ?Sized + Serialize>(
        &self,
        path: &str,
        value: &T,
        options: &WriteOptions,
    ) -> Result<()> {
        self.check_writable()?;
        super::with_write_options(options, || super::write_object(&self.handle, path, value))
            .map_err(|e| self.name_file(e))
    }

    /// Reads a `T` from what `path` names: an object, a list, a dict, a dataset or an
    /// attribute (`""` or `"/"` is the root group).
    pub fn read<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.read_with(path, &ReadOptions::default())
    }

    /// [`read`](Self::read) with [`ReadOptions`].
    pub fn read_with<T: DeserializeOwned>(&self, path: &str, options: &ReadOptions) -> Result<T> {
        let _scope = scope::enter(options, self.handle.size);
        let (parent, leaf) = self.parent_of(path)?;
        match leaf {
            None => de::from_group(&parent),
            Some(leaf) => {
                self.check_exists(&parent, &leaf, path)?;
                de::from_member(&parent, &leaf)
            }
        }
        .map_err(|e| self.name_file(e))
    }

    /// Loads the object at `path` as the registered class its tag names (see
    /// [`obj_from_file`](crate::obj_from_file)).
    pub fn read_obj(&self, path: &str) -> Result<Box<dyn AnamObject>> {
        let _scope = scope::enter(&ReadOptions::default(), self.handle.size);
        match self.target(path)? {
            Target::Group(g) => de::object_from_group(&g).map_err(|e| self.name_file(e)),
            _ => Err(self.error(path, "is not an object (a group)")),
        }
    }

    /// Removes what `path` names (an object, a dataset, an attribute). HDF5 keeps the space
    /// for later writes into the file (see `docs/FORMAT.md`, "File format").
    pub fn remove(&self, path: &str) -> Result<()> {
        self.check_writable()?;
        let (parent, leaf) = self.parent_of(path)?;
        let Some(leaf) = leaf else {
            return Err(self.error(path, "is the root group, which cannot be removed"));
        };
        if parent.link_exists(&leaf) {
            group::delete_link(&parent, &leaf)?;
        } else if node::attribute_exists(parent.id(), &leaf)? {
            node::delete_attribute(parent.id(), &leaf)?;
        } else {
            return Err(self.not_found(path));
        }
        self.handle.flush()?;
        Ok(())
    }

    /// Whether `path` names something in the file.
    pub fn contains(&self, path: &str) -> bool {
        self.target(path).is_ok()
    }

    /// Makes everything written so far durable in the file (each write already flushes).
    pub fn flush(&self) -> Result<()> {
        self.handle.flush()?;
        Ok(())
    }

    // -----------------------------------------------------------------------------------
    // What is where
    // -----------------------------------------------------------------------------------

    /// The entries of the group at `path`, described without reading array data: an
    /// object's members (not the layout's own attributes), a list's items in order, a
    /// dict's entries by key; `""` lists the root.
    pub fn entries(&self, path: &str) -> Result<Vec<Entry>> {
        let group = match self.target(path)? {
            Target::Group(g) => g,
            _ => return Err(self.error(path, "is not a group")),
        };
        let base = path.trim_matches('/');
        let at = |name: &str| {
            if base.is_empty() {
                name.to_string()
            } else {
                format!("{base}/{name}")
            }
        };
        let class = class_of(&group)?;
        let members = group::Members::of(&group)?;
        let mut out = Vec::new();
        match class.as_deref() {
            Some(format::LIST_CLASS) => {
                let mut items: Vec<(usize, &String)> = members
                    .attrs
                    .iter()
                    .chain(&members.links)
                    .filter_map(|n| list_index(n).map(|i| (i, n)))
                    .collect();
                items.sort_unstable();
                for (i, name) in items {
                    out.push(self.describe(&group, name, i.to_string(), at(name))?);
                }
            }
            Some(format::DICT_CLASS) => {
                let keys: Vec<crate::Value> =
                    de::from_member(&group, format::DICT_KEYS).map_err(|e| self.name_file(e))?;
                let Ok(Linked::Group(data)) = group::open_link(&group, format::DICT_DATA) else {
                    return Err(self.error(path, "is a dict without its `dictdata` list"));
                };
                for (i, key) in keys.iter().enumerate() {
                    let item = format::list_item(i);
                    if !data.link_exists(&item) && !node::attribute_exists(data.id(), &item)? {
                        continue;
                    }
                    let name = match key {
                        crate::Value::Str(s) => s.clone(),
                        other => format!("{other:?}"),
                    };
                    let path = at(&format!("{}/{item}", format::DICT_DATA));
                    out.push(self.describe(&data, &item, name, path)?);
                }
            }
            _ => {
                for name in members.attrs.iter().chain(&members.links) {
                    if !format::is_reserved(name) {
                        out.push(self.describe(&group, name, name.clone(), at(name))?);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The entry at `path`, described as [`entries`](Self::entries) does.
    pub fn entry(&self, path: &str) -> Result<Entry> {
        let (parent, leaf) = self.parent_of(path)?;
        let trimmed = path.trim_matches('/').to_string();
        match leaf {
            None => Ok(Entry {
                name: "/".into(),
                path: String::new(),
                kind: EntryKind::Other,
                class: None,
                len: None,
                shape: None,
                dtype: None,
            }),
            Some(leaf) => {
                self.check_exists(&parent, &leaf, path)?;
                self.describe(&parent, &leaf, leaf.clone(), trimmed)
            }
        }
    }

    /// Describes the entry `name` of `parent`.
    fn describe(&self, parent: &Group, name: &str, shown: String, path: String) -> Result<Entry> {
        let mut entry = Entry {
            name: shown,
            path,
            kind: EntryKind::Other,
            class: None,
            len: None,
            shape: None,
            dtype: None,
        };
        let numeric = |stored: &Stored| match stored {
            Stored::Num(d) => Some(*d),
            _ => None,
        };
        if node::attribute_exists(parent.id(), name)? {
            let attr = Node::attribute(parent.id(), name)?;
            entry.kind = if attr.shape.is_empty() || attr.null {
                EntryKind::Scalar
            } else {
                EntryKind::Array
            };
            entry.dtype = numeric(&attr.stored);
            entry.shape = Some(attr.shape.clone());
            return Ok(entry);
        }
        match group::open_link(parent, name) {
            Ok(Linked::Dataset(ds)) => {
                entry.kind = if ds.shape.is_empty() {
                    EntryKind::Scalar
                } else {
                    EntryKind::Array
                };
                entry.dtype = numeric(&ds.stored);
                entry.shape = Some(ds.shape.clone());
            }
            Ok(Linked::Group(g)) => {
                entry.class = class_of(&g)?;
                match entry.class.as_deref() {
                    Some(format::LIST_CLASS) => {
                        entry.kind = EntryKind::List;
                        entry.len = Some(count_of(&g)?);
                    }
                    Some(format::DICT_CLASS) => {
                        entry.kind = EntryKind::Dict;
                        entry.len = Some(count_of(&g)?);
                    }
                    Some(format::EMPTY_ARRAY_CLASS) => {
                        entry.kind = EntryKind::Array;
                        let shape: Vec<usize> = if g.link_exists(format::EMPTY_SHAPE) {
                            de::from_member(&g, format::EMPTY_SHAPE)?
                        } else {
                            Vec::new()
                        };
                        entry.shape = Some(shape);
                        if let Ok(Linked::Dataset(d)) = group::open_link(&g, format::EMPTY_DTYPE) {
                            entry.dtype = numeric(&d.stored);
                        }
                    }
                    Some(_) => {
                        entry.kind = EntryKind::Object;
                        // A collection: the length of its members.
                        if let Ok(Linked::Group(m)) = group::open_link(&g, "members") {
                            if class_of(&m)?.as_deref() == Some(format::LIST_CLASS) {
                                entry.len = Some(count_of(&m)?);
                            }
                        }
                    }
                    None => {}
                }
            }
            // An external link (refused), or something we cannot open: listed as it is.
            Err(_) => {}
        }
        Ok(entry)
    }

    // -----------------------------------------------------------------------------------
    // Lists and collections, a member at a time
    // -----------------------------------------------------------------------------------

    /// The number of items of the list at `path`, of members of the collection at `path`
    /// (an object with a `members` list), of entries of a dict, or of rows of an array.
    pub fn len(&self, path: &str) -> Result<usize> {
        match self.target(path)? {
            Target::Group(g) => match class_of(&g)?.as_deref() {
                Some(format::LIST_CLASS) | Some(format::DICT_CLASS) => count_of(&g),
                Some(format::EMPTY_ARRAY_CLASS) => Ok(0),
                _ => count_of(&self.list_group(path)?),
            },
            Target::Dataset(node) if !node.shape.is_empty() => Ok(node.shape[0]),
            Target::Attribute(g, n) => {
                let attr = Node::attribute(g.id(), &n)?;
                attr.shape
                    .first()
                    .copied()
                    .ok_or_else(|| self.error(path, "is a scalar, which has no length"))
            }
            Target::Dataset(_) => Err(self.error(path, "is a scalar, which has no length")),
        }
    }

    /// Whether [`len`](Self::len) is 0.
    pub fn is_empty(&self, path: &str) -> Result<bool> {
        Ok(self.len(path)? == 0)
    }

    /// Reads item `index` of the list (or collection) at `path`, and only that item: the
    /// cost does not grow with the length of the list.
    pub fn item<T: DeserializeOwned>(&self, path: &str, index: usize) -> Result<T> {
        let list = self.list_group(path)?;
        let len = count_of(&list)?;
        if index >= len {
            return Err(self.error(path, &format!("has {len} items: there is no item {index}")));
        }
        let _scope = scope::enter(&ReadOptions::default(), self.handle.size);
        de::from_member(&list, &format::list_item(index)).map_err(|e| self.name_file(e))
    }

    /// The items of the list (or collection) at `path`, read one at a time as the iterator
    /// is advanced (one item in memory at a time).
    pub fn items<T: DeserializeOwned>(&self, path: &str) -> Result<Items<'_, T>> {
        let list = self.list_group(path)?;
        let len = count_of(&list)?;
        Ok(Items {
            file: self,
            list,
            len,
            next: 0,
            item: PhantomData,
        })
    }

    /// Appends `value` to the list at `path` (or to the members of the collection at
    /// `path`), as its next `LIST_item{i}`, then counts it in the list's `count`: readers
    /// (Python anamnesis too) see the list with or without the new item, never a broken
    /// one. A failed push leaves the list as it was.
    pub fn push<T: ?Sized + Serialize>(&self, path: &str, value: &T) -> Result<()> {
        self.push_with(path, value, &self.options)
    }

    /// [`push`](Self::push) with `options` for the arrays of the new item instead of the
    /// handle's (see [`WriteOptions`]).
    pub fn push_with<T: ?Sized + Serialize>(
        &self,
        path: &str,
        value: &T,
        options: &WriteOptions,
    ) -> Result<()> {
        self.check_writable()?;
        super::with_write_options(options, || self.push_item(path, value))
    }

    /// [`push`](Self::push), under the storage options in force.
    fn push_item<T: ?Sized + Serialize>(&self, path: &str, value: &T) -> Result<()> {
        let list = self.list_group(path)?;
        let len = count_of(&list)?;
        let name = format::list_item(len);
        // What a push killed before counting its item left behind.
        remove_entry(&list, &name)?;
        if let Err(e) = ser::write_member(&list, &name, value) {
            let _ = remove_entry(&list, &name);
            return Err(self.name_file(e.at_with(|| join(&list, &name))));
        }
        self.handle.flush()?;
        node::update_scalar(&list, format::COUNT_ATTR, Scalar::I64(len as i64 + 1))?;
        self.handle.flush()?;
        Ok(())
    }

    /// The `AnamList` group of the list or collection at `path`.
    fn list_group(&self, path: &str) -> Result<Group> {
        let g = match self.target(path)? {
            Target::Group(g) => g,
            Target::Dataset(_) | Target::Attribute(..) => {
                return Err(self.error(
                    path,
                    "is an array, not a list (numbers of one type are stored as a dataset; \
                     write the field with `anam::as_list` to keep a list)",
                ))
            }
        };
        match class_of(&g)?.as_deref() {
            Some(format::LIST_CLASS) => Ok(g),
            Some(format::DICT_CLASS) | Some(format::EMPTY_ARRAY_CLASS) | None => {
                Err(self.error(path, "is not a list or a collection"))
            }
            Some(_) => match group::open_link(&g, "members") {
                Ok(Linked::Group(m)) if class_of(&m)?.as_deref() == Some(format::LIST_CLASS) => {
                    Ok(m)
                }
                _ => Err(self.error(
                    path,
                    "is an object without a `members` list (not a collection)",
                )),
            },
        }
    }

    // -----------------------------------------------------------------------------------
    // Paths
    // -----------------------------------------------------------------------------------

    /// The group holding what `path` names, and its name in it (`None` for the root),
    /// following only links inside the file.
    fn parent_of(&self, path: &str) -> Result<(Group, Option<String>)> {
        let path = path.trim_matches('/');
        let root = self.handle.as_group()?;
        if path.is_empty() {
            return Ok((root, None));
        }
        let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let leaf = parts.pop().map(str::to_string);
        let mut group = root;
        for (i, part) in parts.iter().enumerate() {
            group = match group::open_link(&group, part) {
                Ok(Linked::Group(g)) => g,
                Ok(Linked::Dataset(_)) => {
                    return Err(self.error(&parts[..=i].join("/"), "is a dataset, not a group"))
                }
                Err(_) => return Err(self.not_found(path)),
            };
        }
        Ok((group, leaf))
    }

    /// What `path` names, or an error naming the file and the path.
    fn target(&self, path: &str) -> Result<Target> {
        let (parent, leaf) = self.parent_of(path)?;
        let Some(leaf) = leaf else {
            return Ok(Target::Group(parent));
        };
        if parent.link_exists(&leaf) {
            return match group::open_link(&parent, &leaf).map_err(|e| self.name_file(e))? {
                Linked::Group(g) => Ok(Target::Group(g)),
                Linked::Dataset(d) => Ok(Target::Dataset(d)),
            };
        }
        if node::attribute_exists(parent.id(), &leaf)? {
            return Ok(Target::Attribute(parent, leaf));
        }
        Err(self.not_found(path))
    }

    fn check_exists(&self, parent: &Group, leaf: &str, path: &str) -> Result<()> {
        if parent.link_exists(leaf) || node::attribute_exists(parent.id(), leaf)? {
            Ok(())
        } else {
            Err(self.not_found(path))
        }
    }

    fn check_writable(&self) -> Result<()> {
        if self.writable {
            Ok(())
        } else {
            Err(Error::invalid(format!(
                "{}: the file is open for reading only (`File::open`): use `File::open_rw`",
                self.path.display()
            )))
        }
    }

    fn not_found(&self, path: &str) -> Error {
        ErrorKind::GroupNotFound(format!(
            "{}: nothing at `{}`",
            self.path.display(),
            path.trim_matches('/')
        ))
        .into()
    }

    fn error(&self, path: &str, what: &str) -> Error {
        Error::invalid(format!(
            "{}: `{}` {what}",
            self.path.display(),
            path.trim_matches('/')
        ))
    }

    /// Errors name the path in the file (as `from_file`'s do); kept as one place to change.
    fn name_file(&self, e: Error) -> Error {
        e
    }
}

impl std::fmt::Debug for File {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("File")
            .field("path", &self.path)
            .field("writable", &self.writable)
            .field("options", &self.options)
            .finish()
    }
}

/// The items of a list, read one at a time (see [`File::items`]).
pub struct Items<'f, T> {
    file: &'f File,
    list: Group,
    len: usize,
    next: usize,
    item: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Iterator for Items<'_, T> {
    type Item = Result<T>;

    fn next(&mut self) -> Option<Result<T>> {
        if self.next >= self.len {
            return None;
        }
        let i = self.next;
        self.next += 1;
        let _scope = scope::enter(&ReadOptions::default(), self.file.handle.size);
        Some(de::from_member(&self.list, &format::list_item(i)).map_err(|e| self.file.name_file(e)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.len - self.next;
        (left, Some(left))
    }
}

impl<T: DeserializeOwned> ExactSizeIterator for Items<'_, T> {}

/// Options no array could be stored with, for the file at `path`.
fn bad_options(path: &Path, e: Error) -> Error {
    Error::invalid(format!("{}: write options: {e}", path.display()))
}

fn exists(path: &Path) -> Error {
    Error::invalid(format!(
        "{}: a file is already there (`File::create` never replaces one: open it with \
         `File::open_rw`, or remove it first)",
        path.display()
    ))
}

/// The class tag of `group`, if it has one.
fn class_of(group: &Group) -> Result<Option<String>> {
    if !node::attribute_exists(group.id(), format::CLASS_ATTR)? {
        return Ok(None);
    }
    Node::attribute(group.id(), format::CLASS_ATTR)
        .and_then(|a| a.read_string())
        .map(Some)
        .map_err(|e| e.at_with(|| join(group, format::CLASS_ATTR)))
}

/// The `count` of a list or dict group.
fn count_of(group: &Group) -> Result<usize> {
    let count = Node::attribute(group.id(), format::COUNT_ATTR)
        .and_then(|a| a.read_scalar())
        .map_err(|e| e.at_with(|| join(group, format::COUNT_ATTR)))?;
    count
        .as_i128()
        .and_then(|c| usize::try_from(c).ok())
        .ok_or_else(|| {
            Error::invalid("`count` is not a valid count")
                .at_with(|| join(group, format::COUNT_ATTR))
        })
}

/// The index of a list item's name (`LIST_item12` -> 12).
fn list_index(name: &str) -> Option<usize> {
    name.strip_prefix("LIST_item")?.parse().ok()
}

/// Removes the entry `name` of `group` (a link or an attribute), if there is one.
fn remove_entry(group: &Group, name: &str) -> Result<()> {
    if group.link_exists(name) {
        group::delete_link(group, name)?;
    }
    if node::attribute_exists(group.id(), name)? {
        node::delete_attribute(group.id(), name)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Extendable arrays
// ---------------------------------------------------------------------------------------

impl File {
    /// Creates an empty *extendable* array at `path` (a member of an existing object, such
    /// as `"run/samples"`, or a name at the top of the file): a dataset of `T` with no rows
    /// yet and rows of `row_shape` (`&[]` for a 1-D series of scalars, `&[3]` for rows of
    /// three values), chunked by `chunk_rows` rows with an unlimited first axis, so that
    /// [`append_rows`](Self::append_rows) can grow it while a run goes on. It reads as an
    /// ordinary array (with [`read`](Self::read), [`from_file`](crate::from_file), as a
    /// [`Lazy`](crate::Lazy) field, in Python anamnesis and h5py). An entry already at
    /// `path` is an error (nothing is replaced).
    ///
    /// `chunk_rows` sets the unit HDF5 reads and writes: a chunk of a few hundred KiB to a
    /// few MiB (`chunk_rows` times the size of a row) suits most series.
    ///
    /// ```
    /// # fn main() -> anam::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("run.hdf5");
    /// use anam::ndarray::{arr2, Array2};
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// #[serde(rename = "lab.Run")]
    /// struct Run { id: i64, #[serde(default, skip_serializing)] samples: Option<anam::Lazy<Array2<f64>>> }
    ///
    /// let file = anam::File::create(&path)?;
    /// file.write("run", &Run { id: 7, samples: None })?;
    /// file.create_extendable::<f64>("run/samples", &[2], 1024)?;
    /// for step in 0..3 {
    ///     let t = step as f64;
    ///     file.append_rows("run/samples", &arr2(&[[t, t * t]]))?;
    /// }
    /// assert_eq!(file.append_rows("run/samples", &arr2(&[[3.0, 9.0], [4.0, 16.0]]))?, 5);
    /// let run: Run = file.read("run")?;
    /// let samples = run.samples.unwrap();
    /// assert_eq!(samples.shape(), &[5, 2]);
    /// assert_eq!(samples.load()?.row(4).to_vec(), vec![4.0, 16.0]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn create_extendable<T: crate::Element>(
        &self,
        path: &str,
        row_shape: &[usize],
        chunk_rows: usize,
    ) -> Result<()> {
        self.check_writable()?;
        if chunk_rows == 0 {
            return Err(self.error(path, "cannot have chunks of 0 rows"));
        }
        if row_shape.contains(&0) {
            return Err(self.error(
                path,
                &format!("cannot have rows of shape {row_shape:?} (no elements)"),
            ));
        }
        let (parent, leaf) = self.parent_of(path)?;
        let Some(leaf) = leaf else {
            return Err(self.error(path, "is the root group, not an array"));
        };
        if parent.link_exists(&leaf) || node::attribute_exists(parent.id(), &leaf)? {
            return Err(self.error(path, "already exists (remove it first)"));
        }
        let mut shape = vec![0];
        shape.extend_from_slice(row_shape);
        let at = || format!("/{}", path.trim_matches('/'));
        super::lazy::create_dataset(&parent, &leaf, T::DTYPE, &shape, Some(chunk_rows))
            .map_err(|e| e.at_with(at))?;
        self.handle.flush()?;
        Ok(())
    }

    /// Appends `rows` (any ndarray array or view whose trailing axes are the array's row
    /// shape, and whose element type is its dtype) to the extendable array at `path` (made
    /// by [`create_extendable`](Self::create_extendable)), and returns the number of rows
    /// it has now. The array is extended, the rows written with one HDF5 write, and the
    /// file flushed; if the write fails, the array is shrunk back to its rows before the
    /// call (as far as HDF5 allows: a process killed between the two keeps the longer
    /// extent, whose new rows read as zeros). See
    /// [`create_extendable`](Self::create_extendable) for an example.
    pub fn append_rows<S, D>(&self, path: &str, rows: &ndarray::ArrayBase<S, D>) -> Result<usize>
    where
        S: ndarray::Data,
        S::Elem: crate::Element,
        D: ndarray::Dimension,
    {
        use crate::Element;
        self.check_writable()?;
        let dataset = match self.target(path)? {
            Target::Dataset(node) => node,
            _ => return Err(self.error(path, "is not an extendable array (a dataset)")),
        };
        let at = || format!("/{}", path.trim_matches('/'));
        let dataset_id = dataset.id()?;
        let (dims, max) = super::lazy::extent(dataset_id).map_err(|e| e.at_with(at))?;
        if dims.is_empty() || max[0] != hdf5_sys::h5s::H5S_UNLIMITED {
            return Err(self.error(
                path,
                "is not an extendable array (its first axis is not unlimited: make it with \
                 `File::create_extendable`)",
            ));
        }
        let dtype = <S::Elem as Element>::DTYPE;
        if dataset.stored != Stored::Num(dtype) {
            return Err(self.error(
                path,
                &format!(
                    "holds {}, not {dtype}: rows must have its dtype",
                    dataset.stored.describe()
                ),
            ));
        }
        let row_shape: Vec<usize> = dims[1..].iter().map(|&d| d as usize).collect();
        if rows.ndim() != dims.len() || rows.shape()[1..] != row_shape[..] {
            return Err(self.error(
                path,
                &format!(
                    "has rows of shape {row_shape:?}: cannot append an array of shape {:?}",
                    rows.shape()
                ),
            ));
        }
        let old = dims[0] as usize;
        let added = rows.shape()[0];
        if added == 0 {
            return Ok(old);
        }
        let new_len = old
            .checked_add(added)
            .ok_or_else(|| self.error(path, "would have too many rows"))?;
        let standard = rows.as_standard_layout();
        let data = standard
            .as_slice()
            .ok_or_else(|| Error::invalid("array is not contiguous"))?;
        let mut new_dims = dims.clone();
        new_dims[0] = new_len as u64;
        super::lazy::set_extent(dataset_id, &new_dims).map_err(|e| e.at_with(at))?;
        // HDF5 may keep the rows in its chunk cache until the flush: both are the write.
        let written = super::lazy::write_row_bytes(
            dataset_id,
            dtype,
            rows.shape(),
            crate::dtype::as_bytes(data),
            old,
        )
        .and_then(|()| Ok(self.handle.flush()?));
        if let Err(e) = written {
            // Shrink back (which drops the new rows' chunks from the cache too): the rows
            // before the call are all there is.
            let shrunk = super::lazy::set_extent(dataset_id, &dims)
                .and_then(|()| Ok(self.handle.flush()?));
            return Err(match shrunk {
                Ok(()) => e,
                Err(undo) => Error::invalid(format!(
                    "{e}; and the array could not be shrunk back to its {old} rows (it \
                     keeps the longer extent, and HDF5 may not write the file correctly \
                     again): {undo}"
                )),
            }
            .at_with(at));
        }
        Ok(new_len)
    }
}
