//! The Python with anamnesis 1.0.4 that interop checks run: `$ANAM_PYTHON`, else
//! `.venv/bin/python` (made by `make venv`). Without either a check is skipped with a
//! message, unless `ANAM_REQUIRE_INTEROP=1` (as in `make test`), which makes it fail.
//!
//! Included on its own with `#[path = "common/python.rs"] mod python;`.
#![allow(dead_code)] // not every test that includes it uses both functions

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The interpreter, or `None` (after saying so) when there is none and none is required.
pub fn python() -> Option<PathBuf> {
    let from_env = std::env::var_os("ANAM_PYTHON").map(PathBuf::from);
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let found = from_env.or_else(|| venv.exists().then_some(venv));
    if found.is_none() {
        let msg = "no Python with anamnesis 1.0.4: set ANAM_PYTHON or run `make venv`";
        assert!(
            std::env::var("ANAM_REQUIRE_INTEROP").as_deref() != Ok("1"),
            "{msg}"
        );
        eprintln!("skipping the Python check: {msg}");
    }
    found
}

/// Runs `python -c SCRIPT ARGS...` and returns its stdout; panics, showing the arguments,
/// the exit status, stdout and stderr, when it does not succeed.
pub fn run_script(python: impl AsRef<OsStr>, script: &str, args: &[&dyn AsRef<OsStr>]) -> String {
    let python = python.as_ref();
    let args: Vec<&OsStr> = args.iter().map(|a| (*a).as_ref()).collect();
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", Path::new(python).display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "python -c SCRIPT {args:?}: {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
