//! `anam check`: load everything, report what fails and what Python anamnesis 1.0.4 would
//! not read back the same.

use std::io::Write;
use std::process::ExitCode;

use anam::hdf5;
use anam::Value;
use owo_colors::OwoColorize;
use serde::Serialize;

use crate::util::{join, Failure, Result};
use crate::CheckArgs;

const LIST_CLASS: &str = "anamnesis.abstract.AnamList";
const DICT_CLASS: &str = "anamnesis.abstract.AnamDict";
const EMPTY_CLASS: &str = "anamnesis.abstract.AnamEmptyArray";

/// One finding.
#[derive(Serialize, Debug)]
pub struct Problem {
    /// `error` (does not load), `python` (Python anamnesis 1.0.4 would fail or read it
    /// otherwise), `note` (worth knowing, not a problem).
    pub level: &'static str,
    pub path: String,
    pub message: String,
}

#[derive(Serialize, Debug)]
struct Report {
    file: String,
    /// Top-level entries loaded.
    loaded: usize,
    ok: bool,
    problems: Vec<Problem>,
}

struct Walk<'a> {
    out: &'a mut Vec<Problem>,
}

impl Walk<'_> {
    fn push(&mut self, level: &'static str, path: &str, message: impl Into<String>) {
        self.out.push(Problem {
            level,
            path: path.to_string(),
            message: message.into(),
        });
    }
}

pub fn run(args: &CheckArgs) -> Result<ExitCode> {
    // A file that is not there or cannot be read is an I/O error (status 2); one that is
    // there but is not a readable HDF5 file is a problem found (status 1).
    if let Err(e) = std::fs::File::open(&args.file) {
        return Err(Failure(format!("{}: {e}", args.file.display())));
    }
    let mut problems = Vec::new();
    let loaded = match anam::File::open(&args.file) {
        Ok(file) => {
            let limits = anam::isolate::Limits {
                time: std::time::Duration::from_secs(args.timeout),
                memory: args.memory.saturating_mul(1 << 20),
                ..anam::isolate::Limits::default()
            };
            check_file(&args.file, &file, &limits, &mut problems)
        }
        Err(e) => {
            problems.push(Problem {
                level: "error",
                path: String::new(),
                message: format!("cannot open the file as HDF5: {}", strip(&args.file, e)),
            });
            0
        }
    };
    let ok = !problems.iter().any(|p| p.level != "note");
    let report = Report {
        file: args.file.display().to_string(),
        loaded,
        ok,
        problems,
    };
    let mut out = anstream::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report)
            .map_err(|e| Failure(format!("writing the output: {e}")))?;
        writeln!(out)?;
    } else {
        for p in &report.problems {
            let level = match p.level {
                "error" => "error".red().bold().to_string(),
                "python" => "python".yellow().bold().to_string(),
                _ => "note".blue().to_string(),
            };
            let path = if p.path.is_empty() { "/" } else { &p.path };
            writeln!(out, "{level}: {}: {}", path.bold(), p.message)?;
        }
        let count = |l: &str| report.problems.iter().filter(|p| p.level == l).count();
        writeln!(
            out,
            "{}: {} top-level entries loaded; {} errors, {} Python problems, {} notes",
            report.file,
            report.loaded,
            count("error"),
            count("python"),
            count("note")
        )?;
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn strip(file: &std::path::Path, e: impl std::fmt::Display) -> String {
    let e = e.to_string();
    let prefix = format!("{}: ", file.display());
    e.strip_prefix(&prefix).map_or(e.clone(), str::to_string)
}

/// Loads every top-level entry (groups in a child process), then walks those that loaded for
/// what Python would read otherwise. Returns how many loaded.
fn check_file(
    path: &std::path::Path,
    file: &anam::File,
    limits: &anam::isolate::Limits,
    problems: &mut Vec<Problem>,
) -> usize {
    let mut w = Walk { out: problems };
    let root = match file.hdf5().group("/") {
        Ok(g) => g,
        Err(e) => {
            w.push("error", "", format!("cannot read the root group: {e}"));
            return 0;
        }
    };
    let mut loaded = 0;
    match root.attr_names() {
        Ok(names) => {
            for name in names {
                match file.read::<Value>(&name) {
                    Ok(_) => loaded += 1,
                    Err(e) => w.push("error", &name, strip(path, e)),
                }
            }
        }
        Err(e) => w.push(
            "error",
            "",
            format!("cannot list the root's attributes: {e}"),
        ),
    }
    let links = match root.member_names() {
        Ok(names) => names,
        Err(e) => {
            w.push("error", "", format!("cannot list the root's members: {e}"));
            return loaded;
        }
    };
    for name in links {
        if root.group(&name).is_ok() {
            match anam::isolate::from_file(path, Some(&name), limits) {
                Ok(_) => {
                    loaded += 1;
                    if crate::util::has_class(file.hdf5(), &name) {
                        let top = file.hdf5().group(&name).ok();
                        if let Some(g) = top {
                            if class_of(&g).as_deref() == Some(LIST_CLASS) {
                                w.push(
                                    "note",
                                    &name,
                                    "a list at top level: Python's obj_from_hdf5file returns a \
                                     list, not an object",
                                );
                            }
                        }
                    }
                    walk(file.hdf5(), &name, 0, true, &mut w);
                }
                Err(e) => w.push("error", &name, strip(path, e)),
            }
        } else {
            match file.read::<Value>(&name) {
                Ok(_) => loaded += 1,
                Err(e) => w.push("error", &name, strip(path, e)),
            }
        }
    }
    loaded
}

fn class_of(g: &hdf5::Group) -> Option<String> {
    let attr = g.attr("class").ok()?;
    if let Ok(s) = attr.read_scalar::<hdf5::types::VarLenUnicode>() {
        return Some(s.as_str().to_string());
    }
    if let Ok(s) = attr.read_scalar::<hdf5::types::VarLenAscii>() {
        return Some(s.as_str().to_string());
    }
    Some(String::new())
}

fn count_of(g: &hdf5::Group) -> Option<i64> {
    g.attr("count").ok()?.read_scalar::<i64>().ok()
}

/// Walks the group at `path` (which loaded) for layout details that Python anamnesis 1.0.4
/// reads otherwise. `container`: a group without class is a plain container here (the root's
/// groups and their subgroups), not a member of an object.
fn walk(h5: &hdf5::File, path: &str, depth: usize, container: bool, w: &mut Walk) {
    if depth > anam::MAX_DEPTH {
        return;
    }
    let Ok(g) = h5.group(path) else { return };
    let class = class_of(&g);
    let links = g.member_names().unwrap_or_default();
    let attrs = g.attr_names().unwrap_or_default();
    match class.as_deref() {
        None if container => {
            for name in &links {
                walk(h5, &join(path, name), depth + 1, true, w);
            }
            return;
        }
        None => {
            w.push(
                "python",
                path,
                "a group without a `class` attribute: Python anamnesis cannot load it (we read \
                 it as a dict of its members)",
            );
        }
        Some(EMPTY_CLASS) => {
            if !g.link_exists("shape") && g.link_exists("value") {
                w.push(
                    "python",
                    path,
                    "a 0-d array with a non-zero value: Python anamnesis 1.0.4 reads it as 0 \
                     (it ignores the `value` dataset)",
                );
            }
            return;
        }
        Some(DICT_CLASS) => {
            let count = count_of(&g);
            let keys = g.group("dictkeys").ok().as_ref().and_then(count_of);
            let data = g.group("dictdata").ok().as_ref().and_then(count_of);
            if count.is_none() || count != keys || count != data {
                let show = |c: Option<i64>| c.map_or("none".to_string(), |c| c.to_string());
                w.push(
                    "python",
                    path,
                    format!(
                        "the dict's `count` ({}) differs from its lists' ({} keys, {} values): \
                         Python anamnesis checks them and fails to load it",
                        show(count),
                        show(keys),
                        show(data)
                    ),
                );
            }
        }
        Some(LIST_CLASS) => {
            if let Some(count) = count_of(&g) {
                let beyond = attrs
                    .iter()
                    .chain(&links)
                    .filter_map(|n| n.strip_prefix("LIST_item")?.parse::<i64>().ok())
                    .filter(|&i| i >= count)
                    .count();
                if beyond > 0 {
                    w.push(
                        "note",
                        path,
                        format!("{beyond} items past the list's `count` ({count}) are ignored"),
                    );
                }
            }
        }
        Some(_) => {
            if let Ok(a) = g.attr("namemaps") {
                let varlen = a
                    .dtype()
                    .ok()
                    .and_then(|t| t.to_descriptor().ok())
                    .is_some_and(|d| {
                        matches!(
                            d,
                            hdf5::types::TypeDescriptor::VarLenAscii
                                | hdf5::types::TypeDescriptor::VarLenUnicode
                        )
                    });
                if varlen {
                    w.push(
                        "python",
                        &join(path, "namemaps"),
                        "name maps stored as variable-length strings: Python anamnesis 1.0.4 \
                         with current h5py fails to load them ('str' object has no attribute \
                         'decode')",
                    );
                }
            }
        }
    }
    for name in &attrs {
        if let Ok(a) = g.attr(name) {
            if a.space().is_ok_and(|s| s.is_null()) {
                w.push(
                    "note",
                    &join(path, name),
                    "a null-dataspace attribute: Python reads it as an h5py.Empty object",
                );
            }
        }
    }
    for name in &links {
        let p = join(path, name);
        if let Ok(ds) = g.dataset(name) {
            let is_bool = ds
                .dtype()
                .ok()
                .and_then(|t| t.to_descriptor().ok())
                .is_some_and(|d| matches!(d, hdf5::types::TypeDescriptor::Boolean));
            if is_bool && ds.ndim() > 0 {
                w.push(
                    "note",
                    &p,
                    "a bool array: Python anamnesis 1.0.4 under numpy < 2 needs \
                     `np.bool = np.bool_` to load it",
                );
            }
        } else if g.group(name).is_ok() {
            walk(h5, &p, depth + 1, false, w);
        }
    }
}
