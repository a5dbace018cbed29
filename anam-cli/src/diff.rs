//! `anam diff`: semantic differences between two files.

use std::io::Write;
use std::process::ExitCode;

use anam::ndarray::{ArrayViewD, Dimension};
use anam::{TypedArray, Value};
use owo_colors::OwoColorize;

use crate::elem::{compact, kind, scalar_dtype, shape_str, Elem};
use crate::util::{self, clean, Failure, Result};
use crate::DiffArgs;

/// One difference.
#[derive(Debug)]
pub enum Change {
    /// Only in the first file.
    Removed(String),
    /// Only in the second file.
    Added(String),
    /// In both, different.
    Changed(String),
}

pub struct Tol {
    rtol: f64,
    atol: f64,
}

impl Tol {
    /// numpy's `isclose(a, b)`, NaN equal to NaN.
    fn close(&self, a: (f64, f64), b: (f64, f64)) -> bool {
        let one = |x: f64, y: f64| {
            (x.is_nan() && y.is_nan()) || x == y || (x - y).abs() <= self.atol + self.rtol * y.abs()
        };
        one(a.0, b.0) && one(a.1, b.1)
    }
}

/// A path for people: members joined by `/`, list items as `[i]`, dict keys as `['k']`.
fn sub(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_string()
    } else {
        format!("{path}/{member}")
    }
}

fn short(v: &Value) -> String {
    let s = compact(v, false).replace('\n', " ");
    if s.chars().count() > 60 {
        format!("{}...", s.chars().take(57).collect::<String>())
    } else {
        s
    }
}

pub fn run(args: &DiffArgs) -> Result<ExitCode> {
    if args.rtol.is_nan() || args.rtol < 0.0 || args.atol.is_nan() || args.atol < 0.0 {
        return Err(Failure(
            "--rtol and --atol must be non-negative numbers".into(),
        ));
    }
    let fa = util::open(&args.a)?;
    let fb = util::open(&args.b)?;
    let tol = Tol {
        rtol: args.rtol,
        atol: args.atol,
    };
    let mut changes = Vec::new();
    let path = args.path.as_deref().map(clean).unwrap_or_default();
    let read = |f: &anam::File, file: &std::path::Path, p: &str| -> Result<Value> {
        f.read::<Value>(p).map_err(|e| Failure::at(file, p, e))
    };
    if path.is_empty() {
        // Top-level entries one at a time: one object of each file in memory.
        let names = |f: &anam::File, file: &std::path::Path| -> Result<Vec<String>> {
            let root = f.hdf5().group("/").map_err(|e| Failure::at(file, "", e))?;
            let mut names = root.attr_names().map_err(|e| Failure::at(file, "", e))?;
            names.extend(root.member_names().map_err(|e| Failure::at(file, "", e))?);
            Ok(names)
        };
        let na = names(&fa, &args.a)?;
        let nb = names(&fb, &args.b)?;
        for n in &na {
            if nb.contains(n) {
                let a = read(&fa, &args.a, n)?;
                let b = read(&fb, &args.b, n)?;
                diff(&a, &b, n, &tol, &mut changes);
            } else {
                changes.push(Change::Removed(format!("{}: only in A", n)));
            }
        }
        for n in nb.iter().filter(|n| !na.contains(n)) {
            changes.push(Change::Added(format!("{}: only in B", n)));
        }
    } else {
        let a = read(&fa, &args.a, &path)?;
        let b = read(&fb, &args.b, &path)?;
        diff(&a, &b, &path, &tol, &mut changes);
    }
    let mut out = anstream::stdout().lock();
    for c in &changes {
        match c {
            Change::Removed(s) => writeln!(out, "{} {s}", "-".red().bold())?,
            Change::Added(s) => writeln!(out, "{} {s}", "+".green().bold())?,
            Change::Changed(s) => writeln!(out, "{} {s}", "~".yellow().bold())?,
        }
    }
    if changes.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        writeln!(out, "{} differences", changes.len())?;
        Ok(ExitCode::from(1))
    }
}

/// The differences between `a` (first file) and `b` (second) at `path`.
pub fn diff(a: &Value, b: &Value, path: &str, tol: &Tol, out: &mut Vec<Change>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            if x.class != y.class {
                out.push(Change::Changed(format!(
                    "{path}: class {} -> {}",
                    x.class, y.class
                )));
            }
            for (name, va) in &x.fields {
                match y.get(name) {
                    Some(vb) => diff(va, vb, &sub(path, name), tol, out),
                    None => out.push(Change::Removed(format!(
                        "{}: only in A ({})",
                        sub(path, name),
                        short(va)
                    ))),
                }
            }
            for (name, vb) in &y.fields {
                if x.get(name).is_none() {
                    out.push(Change::Added(format!(
                        "{}: only in B ({})",
                        sub(path, name),
                        short(vb)
                    )));
                }
            }
        }
        (Value::List(x), Value::List(y)) => {
            if x.len() != y.len() {
                out.push(Change::Changed(format!(
                    "{path}: length {} -> {}",
                    x.len(),
                    y.len()
                )));
            }
            for (i, (va, vb)) in x.iter().zip(y).enumerate() {
                diff(va, vb, &format!("{path}[{i}]"), tol, out);
            }
            for (i, va) in x.iter().enumerate().skip(y.len()) {
                out.push(Change::Removed(format!(
                    "{path}[{i}]: only in A ({})",
                    short(va)
                )));
            }
            for (i, vb) in y.iter().enumerate().skip(x.len()) {
                out.push(Change::Added(format!(
                    "{path}[{i}]: only in B ({})",
                    short(vb)
                )));
            }
        }
        (Value::Dict(x), Value::Dict(y)) => {
            for (k, va) in x {
                let at = format!("{path}[{}]", compact(k, false));
                match y.iter().find(|(kb, _)| kb == k) {
                    Some((_, vb)) => diff(va, vb, &at, tol, out),
                    None => out.push(Change::Removed(format!("{at}: only in A ({})", short(va)))),
                }
            }
            for (k, vb) in y {
                if !x.iter().any(|(ka, _)| ka == k) {
                    let at = format!("{path}[{}]", compact(k, false));
                    out.push(Change::Added(format!("{at}: only in B ({})", short(vb))));
                }
            }
        }
        (Value::Array(x), Value::Array(y)) => arrays(x, y, path, tol, out),
        (Value::Str(x), Value::Str(y)) => {
            if x != y {
                out.push(Change::Changed(format!(
                    "{path}: {} -> {}",
                    short(a),
                    short(b)
                )));
            }
        }
        _ => match (scalar_dtype(a), scalar_dtype(b)) {
            (Some(da), Some(db)) if da != db => out.push(Change::Changed(format!(
                "{path}: dtype {da} -> {db} ({} -> {})",
                short(a),
                short(b)
            ))),
            (Some(_), Some(_)) => {
                if !scalars_close(a, b, tol) {
                    out.push(Change::Changed(format!(
                        "{path}: {} -> {}",
                        short(a),
                        short(b)
                    )));
                }
            }
            _ => {
                if a == b {
                    // Equal: None and None, Empty and Empty.
                } else if a.is_none() {
                    out.push(Change::Added(format!("{path}: only in B ({})", short(b))));
                } else if b.is_none() {
                    out.push(Change::Removed(format!("{path}: only in A ({})", short(a))));
                } else {
                    out.push(Change::Changed(format!(
                        "{path}: {} -> {} ({} -> {})",
                        kind(a),
                        kind(b),
                        short(a),
                        short(b)
                    )));
                }
            }
        },
    }
}

fn parts(v: &Value) -> Option<(f64, f64)> {
    Some(match v {
        Value::Bool(x) => x.parts(),
        Value::I8(x) => x.parts(),
        Value::I16(x) => x.parts(),
        Value::I32(x) => x.parts(),
        Value::I64(x) => x.parts(),
        Value::U8(x) => x.parts(),
        Value::U16(x) => x.parts(),
        Value::U32(x) => x.parts(),
        Value::U64(x) => x.parts(),
        Value::F32(x) => x.parts(),
        Value::F64(x) => x.parts(),
        Value::C64(x) => x.parts(),
        Value::C128(x) => x.parts(),
        _ => return None,
    })
}

fn scalars_close(a: &Value, b: &Value, tol: &Tol) -> bool {
    // Same dtype: exact equality first (integers beyond 2^53 too), then the tolerance.
    if a == b {
        return true;
    }
    match (parts(a), parts(b)) {
        (Some(x), Some(y)) => tol.close(x, y),
        _ => false,
    }
}

fn arrays(x: &TypedArray, y: &TypedArray, path: &str, tol: &Tol, out: &mut Vec<Change>) {
    if x.dtype() != y.dtype() {
        out.push(Change::Changed(format!(
            "{path}: dtype {} -> {}",
            x.dtype(),
            y.dtype()
        )));
        return;
    }
    if x.shape() != y.shape() {
        out.push(Change::Changed(format!(
            "{path}: shape {} -> {}",
            shape_str(x.shape()),
            shape_str(y.shape())
        )));
        return;
    }
    macro_rules! same {
        ($($v:ident),*) => {
            match (x, y) {
                $((TypedArray::$v(p), TypedArray::$v(q)) => compare(p.view(), q.view(), path, tol, out),)*
                _ => {}
            }
        };
    }
    same!(Bool, I8, I16, I32, I64, U8, U16, U32, U64, F32, F64, C64, C128);
}

fn compare<T: Elem>(
    p: ArrayViewD<'_, T>,
    q: ArrayViewD<'_, T>,
    path: &str,
    tol: &Tol,
    out: &mut Vec<Change>,
) {
    let mut count = 0usize;
    let mut first: Option<(Vec<usize>, T, T)> = None;
    let mut max_abs = 0.0f64;
    for ((idx, a), b) in p.indexed_iter().zip(q.iter()) {
        if a == b || tol.close(a.parts(), b.parts()) {
            continue;
        }
        count += 1;
        let (ar, ai) = a.parts();
        let (br, bi) = b.parts();
        let d = (ar - br).hypot(ai - bi);
        if d > max_abs || d.is_nan() {
            max_abs = if d.is_nan() { f64::NAN } else { d.max(max_abs) };
        }
        if first.is_none() {
            first = Some((idx.slice().to_vec(), *a, *b));
        }
    }
    if let Some((idx, a, b)) = first {
        let idx = idx
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        out.push(Change::Changed(format!(
            "{path}: {count} of {} values differ (first at [{idx}]: {} -> {}; max abs diff {})",
            p.len(),
            a.py(),
            b.py(),
            crate::elem::py_float(max_abs, format!("{max_abs:?}"))
        )));
    }
}
