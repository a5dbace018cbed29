//! [`ReadOptions`]: the limits and permissions of a read.

/// The limits and permissions of one read from HDF5 (`from_file_with`, `from_group_with`,
/// `obj_from_file_with`); the plain functions use [`ReadOptions::default`].
///
/// * **A byte budget.** A file can claim more than it holds: a dataset with a declared
///   shape and a fill value but no data, a list whose `count` says millions of items it
///   does not store. A read counts the bytes it allocates for what it reads (array
///   buffers, strings, and 64 bytes per list item, dict entry or object member) and stops
///   with an error naming the place once they pass the budget. The default is
///   64 times the file's size, and at least 256 MiB: a file written plainly (contiguous,
///   uncompressed) always reads within it; a compressed or sparse dataset that expands
///   further needs [`max_bytes`](Self::max_bytes) or [`unlimited`](Self::unlimited).
/// * **Data outside the file.** External links, datasets with external raw storage and
///   virtual datasets read other files (a file from elsewhere could point at any file
///   the program can read). They are refused, with an error naming them, unless
///   [`allow_external`](Self::allow_external) is set.
/// * **The class check.** A struct reads only from a group whose `class` is its tag (or an
///   alias or hint of it); [`check_class(false)`](Self::check_class) reads any object
///   group into it, by member names (a "view" struct of a few fields of a bigger class,
///   or a class renamed since the file was written).
///
/// ```
/// # fn main() -> anam::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// # let path = dir.path().join("big.hdf5");
/// # anam::to_file(&path, "data", &anam::Store::new())?;
/// let options = anam::ReadOptions::new().max_bytes(64 << 30);
/// let store: anam::Store = anam::from_file_with(&path, None, &options)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadOptions {
    pub(crate) max_bytes: Option<u64>,
    pub(crate) allow_external: bool,
    pub(crate) skip_class_check: bool,
}

/// The least default byte budget (see [`ReadOptions`]).
pub(crate) const MIN_DEFAULT_BUDGET: u64 = 256 << 20;
/// The default byte budget per byte of the file (see [`ReadOptions`]).
pub(crate) const DEFAULT_BUDGET_PER_FILE_BYTE: u64 = 64;

impl ReadOptions {
    /// The defaults: the default budget, nothing read from outside the file.
    pub fn new() -> ReadOptions {
        ReadOptions::default()
    }

    /// Allows the read to allocate up to `bytes` (instead of the default budget).
    pub fn max_bytes(mut self, bytes: u64) -> ReadOptions {
        self.max_bytes = Some(bytes);
        self
    }

    /// No byte budget: the read allocates whatever the file asks for (allocation failures
    /// are still errors, not aborts).
    pub fn unlimited(self) -> ReadOptions {
        self.max_bytes(u64::MAX)
    }

    /// Whether external links, external raw storage and virtual datasets are followed.
    pub fn allow_external(mut self, allow: bool) -> ReadOptions {
        self.allow_external = allow;
        self
    }

    /// Whether a struct checks the class tag of the group it reads (default: yes). With
    /// `false`, any object group reads into any struct whose fields it has: for a "view"
    /// of a few members of another class (members the struct leaves out are not read), or
    /// a file written before a class was renamed. Aliases (`#[anam::class(aliases(...))]`,
    /// [`anam::alias!`](crate::alias)) and [`registry::add_hint`](crate::registry::add_hint)
    /// accept named other tags while keeping the check.
    ///
    /// ```
    /// # fn main() -> anam::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let path = dir.path().join("run.hdf5");
    /// #[derive(serde::Serialize)]
    /// #[serde(rename = "lab.Run")]
    /// struct Run { id: i64, samples: Vec<f64>, notes: String }
    /// anam::to_file(&path, "run", &Run { id: 7, samples: vec![1.0; 1000], notes: "ok".into() })?;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct RunId { id: i64 }
    /// let options = anam::ReadOptions::new().check_class(false);
    /// let head: RunId = anam::from_file_with(&path, Some("run"), &options)?;
    /// assert_eq!(head.id, 7);
    /// # Ok(())
    /// # }
    /// ```
    pub fn check_class(mut self, check: bool) -> ReadOptions {
        self.skip_class_check = !check;
        self
    }

    /// The budget for a file of `file_size` bytes.
    pub(crate) fn budget(&self, file_size: u64) -> u64 {
        self.max_bytes.unwrap_or_else(|| {
            file_size
                .saturating_mul(DEFAULT_BUDGET_PER_FILE_BYTE)
                .max(MIN_DEFAULT_BUDGET)
        })
    }
}
