//! `anam repack`: a compact copy, object by object.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use anam::Value;
use indicatif::{ProgressBar, ProgressStyle};

use crate::util::{self, join, Failure, Result};
use crate::RepackArgs;

pub fn run(args: &RepackArgs) -> Result<ExitCode> {
    if std::fs::symlink_metadata(&args.dst).is_ok() {
        return Err(Failure(format!(
            "{}: a file is already there (repack writes a new file)",
            args.dst.display()
        )));
    }
    let src = util::open(&args.src)?;
    // The objects to copy: groups with a class tag, found through groups without one.
    let mut objects = Vec::new();
    collect(&src, &args.src, "", &mut objects)?;
    let mut options = anam::WriteOptions::new();
    if let Some(compression) = &args.compress {
        options = options.compression(*compression).shuffle(args.shuffle);
    }
    let dst =
        anam::File::create_with(&args.dst, options).map_err(|e| Failure::at(&args.dst, "", e))?;
    let copied = copy(&src, &dst, &objects, args);
    drop(dst);
    if let Err(e) = copied {
        // No half copy left behind.
        let _ = std::fs::remove_file(&args.dst);
        return Err(e);
    }
    let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut out = anstream::stdout().lock();
    writeln!(
        out,
        "{} objects: {} ({}) -> {} ({})",
        objects.len(),
        args.src.display(),
        util::bytes(size(&args.src)),
        args.dst.display(),
        util::bytes(size(&args.dst))
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Copies the objects at `objects` from `src` to `dst`, with a progress bar on a terminal.
fn copy(src: &anam::File, dst: &anam::File, objects: &[String], args: &RepackArgs) -> Result<()> {
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(objects.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} objects {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    for path in objects {
        bar.set_message(path.clone());
        let value: Value = src
            .read(path)
            .map_err(|e| Failure::at(&args.src, path, e))?;
        dst.write(path, &value)
            .map_err(|e| Failure::at(&args.dst, path, e))?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    dst.flush().map_err(|e| Failure::at(&args.dst, "", e))
}

/// The paths of the objects under the group at `path` (a group without a class tag).
fn collect(
    src: &anam::File,
    file: &std::path::Path,
    path: &str,
    out: &mut Vec<String>,
) -> Result<()> {
    let group = src
        .hdf5()
        .group(if path.is_empty() { "/" } else { path })
        .map_err(|e| Failure::at(file, path, e))?;
    let attrs = group.attr_names().map_err(|e| Failure::at(file, path, e))?;
    if let Some(a) = attrs.first() {
        return Err(Failure::at(
            file,
            &join(path, a),
            "an attribute outside any object, which the anamnesis layout cannot hold: not \
             repacked",
        ));
    }
    for name in group
        .member_names()
        .map_err(|e| Failure::at(file, path, e))?
    {
        let p = join(path, &name);
        if util::has_class(src.hdf5(), &p) {
            out.push(p);
        } else if src.hdf5().group(&p).is_ok() {
            collect(src, file, &p, out)?;
        } else {
            return Err(Failure::at(
                file,
                &p,
                "a dataset outside any object, which the anamnesis layout cannot hold: not \
                 repacked",
            ));
        }
    }
    Ok(())
}
