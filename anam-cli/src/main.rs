//! `anam`: look into, export, compare, check and repack HDF5 files in the layout of Python
//! anamnesis, with the `serde-anam` library (`anam::File`, `anam::Value`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod check;
mod diff;
mod elem;
mod json;
mod repack;
mod show;
mod tree;
mod util;

use util::Failure;

/// Inspect, export, compare, check and repack HDF5 files written by Python anamnesis or
/// serde-anam.
///
/// Exit status: 0 on success (and for `diff`, when the files are equal); 1 when `diff` finds
/// differences or `check` finds problems; 2 on usage errors and on errors reading or
/// writing files.
#[derive(Parser, Debug)]
#[command(name = "anam", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    Tree(TreeArgs),
    Show(ShowArgs),
    Json(JsonArgs),
    Diff(DiffArgs),
    Check(CheckArgs),
    Repack(RepackArgs),
}

/// Print the object tree: class tags, lists and dicts with their lengths, arrays with dtype,
/// shape and storage, scalars inline.
///
/// Reads metadata only: lists and collections show their first few members (`--all` for
/// every one), so a file of 100,000 objects prints at once. Groups without a class tag
/// (files not written by anamnesis) are shown as plain HDF5: groups, datasets and
/// attributes (`@name`).
#[derive(clap::Args, Debug)]
pub struct TreeArgs {
    /// The HDF5 file.
    pub file: PathBuf,
    /// Start at this path in the file (`person`, `runs/LIST_item3`); the whole file by
    /// default.
    pub path: Option<String>,
    /// Show every member of lists, collections and dicts, not only the first few.
    #[arg(long)]
    pub all: bool,
    /// Show this many levels below the start (0: the start alone).
    #[arg(long, value_name = "N")]
    pub depth: Option<usize>,
    /// Print the tree as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Pretty-print one object or value as Python would show what anamnesis loads.
///
/// Arrays of more than 1,000 elements are summarised as numpy does (the first and last three
/// items of each axis) unless `--full` is given.
#[derive(clap::Args, Debug)]
pub struct ShowArgs {
    /// The HDF5 file.
    pub file: PathBuf,
    /// The path of the object or value (`person`, `person/age`, `data/members/LIST_item0`).
    pub path: String,
    /// Print arrays in full.
    #[arg(long)]
    pub full: bool,
}

/// How `json` writes arrays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ArraysAs {
    /// Nested lists of numbers (complex numbers as `[re, im]`).
    Lists,
    /// `{"dtype", "shape"}` only.
    Summary,
    /// `{"dtype", "shape", "base64"}`: the elements' little-endian bytes in C order.
    Base64,
}

/// Export the file, or the object at PATH, as JSON.
///
/// Objects are JSON objects whose first key is `class`; dicts are JSON objects (keys that
/// are not strings are written as their Python repr: `3`, `True`); lists are arrays;
/// `None`, h5py's `Empty` and non-finite floats are `null`. The file is read member by
/// member (list items one at a time), so memory stays bounded on big files.
#[derive(clap::Args, Debug)]
pub struct JsonArgs {
    /// The HDF5 file.
    pub file: PathBuf,
    /// Export only the object or value at this path.
    pub path: Option<String>,
    /// How to write arrays.
    #[arg(long, value_enum, default_value_t = ArraysAs::Lists)]
    pub arrays: ArraysAs,
    /// One line, without indentation.
    #[arg(long)]
    pub compact: bool,
}

/// Report the semantic differences between two files (or the objects at PATH in both).
///
/// Missing and extra members, class changes, dtype and shape changes, and values that differ
/// beyond the tolerance (|a - b| <= atol + rtol * |b|, as numpy's `isclose`; NaN equals NaN),
/// each with its path. Exit status 1 when they differ, 0 when they are equal.
#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The first file.
    pub a: PathBuf,
    /// The second file.
    pub b: PathBuf,
    /// Compare only the objects at this path.
    pub path: Option<String>,
    /// Relative tolerance for numbers.
    #[arg(long, value_name = "R", default_value_t = 0.0)]
    pub rtol: f64,
    /// Absolute tolerance for numbers.
    #[arg(long, value_name = "A", default_value_t = 0.0)]
    pub atol: f64,
}

/// Load every object of the file and report what fails, with its path, and what Python
/// anamnesis 1.0.4 would not read back the same (from the layout rules of docs/FORMAT.md).
///
/// Each top-level object is loaded in a child process (`anam::isolate`), so a file that
/// crashes libhdf5 is reported, not fatal. Exit status 1 when there are errors or Python
/// problems (notes alone do not count).
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The HDF5 file.
    pub file: PathBuf,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The time each top-level object may take to load, in seconds (a load that takes
    /// longer is reported as an error).
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub timeout: u64,
    /// The memory each load may take, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 8192)]
    pub memory: u64,
}

/// Write a compact copy: every object read as a Value and written to a new file, so the
/// space left by removed and replaced objects is gone.
///
/// DST must not exist. Groups without a class tag on the way to objects are kept as groups.
/// With `--compress`, arrays of 64 KiB and more are stored chunked and compressed (Python
/// reads gzip and lzf as they are; zstd needs `import hdf5plugin`).
#[derive(clap::Args, Debug)]
pub struct RepackArgs {
    /// The file to copy.
    pub src: PathBuf,
    /// The new file.
    pub dst: PathBuf,
    /// Compress the copy's arrays: `none`, `gzip`, `gzip:N` (0-9), `lzf`, `zstd`, `zstd:N`
    /// (1-22). Default: the arrays are stored contiguous, uncompressed.
    #[arg(long, value_name = "HOW", value_parser = parse_compression)]
    pub compress: Option<anam::Compression>,
    /// HDF5's shuffle filter before the compression (helps numbers compress).
    #[arg(long, requires = "compress")]
    pub shuffle: bool,
}

/// `--compress`: the library's own parser, so the CLI accepts what `WriteOptions` does.
fn parse_compression(s: &str) -> std::result::Result<anam::Compression, String> {
    s.parse().map_err(|e: anam::Error| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Tree(a) => tree::run(&a),
        Command::Show(a) => show::run(&a),
        Command::Json(a) => json::run(&a),
        Command::Diff(a) => diff::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Repack(a) => repack::run(&a),
    };
    match result {
        Ok(code) => code,
        Err(Failure(message)) if message.is_empty() => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            use owo_colors::OwoColorize;
            use std::io::Write;
            let mut err = anstream::stderr();
            let _ = writeln!(err, "{} {message}", "error:".red().bold());
            ExitCode::from(2)
        }
    }
}
