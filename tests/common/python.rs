//! The Python with anamnesis 1.0.4 that interop checks run: `$ANAM_PYTHON`, else
//! `.venv/bin/python` (made by `make venv`). Without either a check is skipped with a
//! message, unless `ANAM_REQUIRE_INTEROP=1` (as in `make test`), which makes it fail.

use std::path::{Path, PathBuf};

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
