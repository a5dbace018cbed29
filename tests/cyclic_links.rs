//! A hard-link cycle read as a recursive type must end in an error, not a stack overflow
//! (which would abort the process: the read runs in a child process).
//!
//! This is a test binary of its own because it starts a child process: HDF5 opens files
//! without close-on-exec, so a child started while other test threads of the same
//! process have files open would inherit their descriptors and `flock` locks, and those
//! tests would then fail to reopen their files ("unable to lock file") until it exits.

use anam::hdf5;
use anam::hdf5::types::VarLenUnicode;
use serde::Deserialize;

#[derive(Deserialize, Debug)]
#[serde(rename = "tests.Node")]
#[allow(dead_code)]
struct Node {
    next: Option<Box<Node>>,
}

const CHILD: &str = "ANAM_TEST_CYCLE_FILE";

#[test]
fn cyclic_links_do_not_overflow_the_stack() {
    if let Some(path) = std::env::var_os(CHILD) {
        let err = anam::from_file::<Node>(&path, Some("grp")).expect_err("a cycle must fail");
        println!("child got: {err}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cycle.hdf5");
    {
        let file = hdf5::File::create(&path).unwrap();
        let group = file.create_group("grp").unwrap();
        let class: VarLenUnicode = "tests.Node".parse().unwrap();
        group
            .new_attr::<VarLenUnicode>()
            .create("class")
            .unwrap()
            .write_scalar(&class)
            .unwrap();
        group.link_hard("/grp", "next").unwrap();
    }
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "cyclic_links_do_not_overflow_the_stack",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, &path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("child got: /grp"),
        "reading a cyclic file crashed or did not fail cleanly: {}\nstdout: {stdout}\nstderr: {}",
        out.status,
        stderr.lines().take(5).collect::<Vec<_>>().join("\n")
    );
}
