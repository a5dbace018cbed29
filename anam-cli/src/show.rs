//! `anam show`: one object or value, pretty-printed.

use std::io::Write;
use std::process::ExitCode;

use anam::Value;

use crate::elem::pretty;
use crate::util::{self, clean, Failure, Result};
use crate::ShowArgs;

pub fn run(args: &ShowArgs) -> Result<ExitCode> {
    let file = util::open(&args.file)?;
    let path = clean(&args.path);
    let value: Value = file
        .read(&path)
        .map_err(|e| Failure::at(&args.file, &path, e))?;
    let mut out = anstream::stdout().lock();
    writeln!(out, "{}", pretty(&value, 0, args.full))?;
    Ok(ExitCode::SUCCESS)
}
