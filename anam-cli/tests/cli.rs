//! The `anam` binary on the Python fixtures and on files made here: snapshots of `tree` and
//! `show`, `json` against the fixtures' manifest, `diff`, `check` on corrupt files,
//! `repack`, exit statuses.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anam::{Object, Value};
use assert_cmd::Command;
use serde_json::Value as Json;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/anamnesis-1.0.4")
}

/// The fixtures' `manifest.json`: an object with an entry per fixture file.
fn manifest() -> Json {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).expect("manifest.json");
    serde_json::from_str(&text).expect("the manifest is JSON")
}

/// `anam ARGS` run in the fixtures directory (so that file names in the output are short).
fn anam(args: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("anam").expect("the anam binary");
    cmd.current_dir(fixtures())
        .args(args)
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("NO_COLOR");
    cmd
}

/// Runs `anam ARGS`, expects exit status `code`, returns stdout.
fn run(args: &[&str], code: i32) -> String {
    let out = anam(args).output().expect("anam runs");
    let stdout = String::from_utf8(out.stdout).expect("UTF-8 output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(code),
        "anam {args:?}: stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

/// Runs `anam ARGS`, expects exit status `code`, returns stderr.
fn run_err(args: &[&str], code: i32) -> String {
    let out = anam(args).output().expect("anam runs");
    assert_eq!(out.status.code(), Some(code), "anam {args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

// ---------------------------------------------------------------------------------------
// tree and show: snapshots
// ---------------------------------------------------------------------------------------

#[test]
fn tree_of_every_fixture() {
    // The manifest lists every fixture file (tests/fixtures.rs checks it against the
    // directory), so each has a snapshot.
    for f in manifest().as_object().unwrap().keys() {
        let out = run(&["tree", f], 0);
        insta::assert_snapshot!(format!("tree_{f}"), out);
    }
}

#[test]
fn tree_options() {
    insta::assert_snapshot!(
        "tree_containers_all",
        run(&["tree", "containers.hdf5", "--all"], 0)
    );
    insta::assert_snapshot!(
        "tree_tutorial3_depth2",
        run(&["tree", "tutorial3.hdf5", "--depth", "2"], 0)
    );
    insta::assert_snapshot!(
        "tree_tutorial3_path",
        run(&["tree", "tutorial3.hdf5", "data/members/LIST_item4"], 0)
    );
    insta::assert_snapshot!(
        "tree_tutorial2_extradata_json",
        run(&["tree", "tutorial2_extradata.hdf5", "--json"], 0)
    );
}

#[test]
fn show_objects_and_values() {
    let cases: &[(&str, &str)] = &[
        ("arrays.hdf5", "arrays"),
        ("containers.hdf5", "dicts"),
        ("containers.hdf5", "lists"),
        ("oldlist.hdf5", "holder"),
        ("scalars.hdf5", "scalars"),
        ("scalars.hdf5", "scalars/big"),
        ("tutorial3.hdf5", "data/members/LIST_item1"),
        ("tutorial4.hdf5", "data"),
    ];
    for (file, path) in cases {
        let out = run(&["show", file, path], 0);
        insta::assert_snapshot!(format!("show_{file}_{}", path.replace('/', "_")), out);
    }
}

#[test]
fn show_summarises_big_arrays_unless_full() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.hdf5");
    let mut o = Object::new("m.Big");
    let a = anam::ndarray::Array::from_shape_fn((50, 40), |(i, j)| (i * 40 + j) as i64);
    o.insert("a", Value::from(a.into_dyn()));
    anam::to_file(&path, "big", &Value::Object(o)).unwrap();
    let short = run(&["show", s(&path), "big/a"], 0);
    insta::assert_snapshot!("show_big_summarised", short);
    let full = run(&["show", s(&path), "big/a", "--full"], 0);
    assert!(!full.contains("..."));
    assert!(full.contains("1999"));
    assert!(full.contains("1000, 1001"), "every element printed");
    assert_eq!(
        full.lines().count(),
        50 * 4,
        "50 rows of 40 over 4 lines each"
    );
}

// ---------------------------------------------------------------------------------------
// json
// ---------------------------------------------------------------------------------------

/// Compares the manifest's statement `m` about an entry with the exported `got`; counts the
/// values compared. Descriptive strings (formulas, notes) are skipped.
fn compare(m: &Json, got: &Json, at: &str, compared: &mut usize) {
    match m {
        Json::Object(entries) if entries.contains_key("data") && entries.contains_key("dtype") => {
            assert_eq!(got, &entries["data"], "{at}");
            *compared += 1;
        }
        Json::Object(entries) => {
            for (k, v) in entries {
                if k.contains(' ') {
                    continue; // "class (in file)", "member class", ...: statements, not members
                }
                if k == "extra_data" {
                    // Stored beside the members.
                    compare(v, got, at, compared);
                    continue;
                }
                let at = format!("{at}/{k}");
                if k == "base" && !got.as_object().is_some_and(|o| o.contains_key(k)) {
                    // arrays.hdf5: the array the members are computed from, not a member.
                    for name in ["i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64"] {
                        assert_eq!(&got[name], v, "{at}: {name} is base in its dtype");
                        *compared += 1;
                    }
                    continue;
                }
                match got.get(k) {
                    Some(g) => compare(v, g, &at, compared),
                    // A note for people ("expect": "a clear unknown-class error ...").
                    None if v.as_str().is_some_and(|t| t.contains(' ')) => {}
                    None => {
                        assert!(v.is_null(), "{at}: missing from the export");
                        *compared += 1;
                    }
                }
            }
        }
        // "members": 5, the number of members of a collection.
        Json::Number(n) if got.is_array() => {
            assert_eq!(
                got.as_array().map(Vec::len),
                n.as_u64().map(|n| n as usize),
                "{at}"
            );
            *compared += 1;
        }
        Json::String(text) if !got.is_string() => {
            let _ = text; // a formula or a repr: checked elsewhere
        }
        _ => {
            assert_eq!(got, m, "{at}");
            *compared += 1;
        }
    }
}

#[test]
fn json_matches_the_manifest() {
    let manifest = manifest();
    let mut compared = 0;
    for (file, groups) in manifest.as_object().unwrap() {
        let out = run(&["json", file], 0);
        let got: Json = serde_json::from_str(&out).expect("valid JSON");
        compare(groups, &got, file, &mut compared);
    }
    assert!(compared >= 30, "only {compared} values compared");

    // Formulas the comparison skips.
    let got: Json = serde_json::from_str(&run(&["json", "tutorial3.hdf5", "data"], 0)).unwrap();
    let members = got["members"].as_array().unwrap();
    assert_eq!(members.len(), 5);
    for (p, m) in members.iter().enumerate() {
        assert_eq!(m["class"], "test_classes3.CollectableSubjectStats");
        let z = &m["zstats"];
        for i in 0..10 {
            for j in 0..10 {
                assert_eq!(z[i][j].as_f64(), Some((i * 10 + j) as f64 * 0.5 + p as f64));
            }
        }
        assert_eq!(m["rts"].as_array().unwrap().len(), 100);
    }
    let got: Json = serde_json::from_str(&run(&["json", "containers.hdf5"], 0)).unwrap();
    assert_eq!(
        got["lists"]["dat"],
        serde_json::json!([1, [{"class": "fixture_classes.ExampleWriter", "dat": 5}, 2], "a",
            4.5, {"class": "fixture_classes.ExampleWriter", "dat": "x"}, [1, null, "foo"], [], [[]]])
    );
    assert_eq!(got["dicts"]["dat"]["3"]["dat"], 3);
    assert_eq!(
        got["dicts"]["dat"]["nested"]["e"],
        serde_json::json!([1, 2])
    );
}

#[test]
fn json_array_forms() {
    let got: Json = serde_json::from_str(&run(
        &["json", "arrays.hdf5", "arrays", "--arrays", "summary"],
        0,
    ))
    .unwrap();
    assert_eq!(
        got["c64"],
        serde_json::json!({"dtype": "complex64", "shape": [2, 3]})
    );
    assert_eq!(
        got["empty3d_i16"],
        serde_json::json!({"dtype": "int16", "shape": [2, 3, 0]})
    );
    let got: Json = serde_json::from_str(&run(
        &["json", "arrays.hdf5", "arrays/i32", "--arrays", "base64"],
        0,
    ))
    .unwrap();
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(got["base64"].as_str().unwrap())
        .unwrap();
    let values: Vec<i32> = bytes
        .chunks(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(values, [1, 2, 3, 4, 5, 6]);
    let got: Json = serde_json::from_str(&run(&["json", "arrays.hdf5", "arrays"], 0)).unwrap();
    assert_eq!(got["c128"][1][2], serde_json::json!([6.0, -2.0]));
    assert_eq!(got["b"][0], serde_json::json!([false, true, false]));
}

// ---------------------------------------------------------------------------------------
// diff
// ---------------------------------------------------------------------------------------

fn sample() -> Object {
    let mut o = Object::new("lab.Run");
    o.insert("id", Value::I64(7));
    o.insert("name", Value::from("first"));
    o.insert(
        "samples",
        Value::from(anam::ndarray::arr1(&[1.0, 2.0, f64::NAN, 4.0]).into_dyn()),
    );
    o.insert(
        "tags",
        Value::List(vec![Value::from("a"), Value::I64(2), Value::None]),
    );
    o.insert(
        "meta",
        Value::Dict(vec![(Value::from("k"), Value::F64(0.5))]),
    );
    o
}

fn write(dir: &Path, name: &str, o: &Object) -> PathBuf {
    let path = dir.join(name);
    anam::to_file(&path, "run", &Value::Object(o.clone())).unwrap();
    path
}

#[test]
fn diff_finds_each_kind_of_difference() {
    let dir = tempfile::tempdir().unwrap();
    let base = write(dir.path(), "base.hdf5", &sample());
    let same = write(dir.path(), "same.hdf5", &sample());
    // Equal files (NaN equal to NaN): status 0, nothing printed.
    assert_eq!(run(&["diff", s(&base), s(&same)], 0), "");

    // One value.
    let mut o = sample();
    o.insert(
        "samples",
        Value::from(anam::ndarray::arr1(&[1.0, 2.5, f64::NAN, 4.0]).into_dyn()),
    );
    let value = write(dir.path(), "value.hdf5", &o);
    let out = run(&["diff", s(&base), s(&value)], 1);
    assert!(
        out.contains("~ run/samples: 1 of 4 values differ (first at [1]: 2.0 -> 2.5"),
        "{out}"
    );
    assert!(out.ends_with("1 differences\n"), "{out}");
    // Within tolerance: equal.
    run(&["diff", s(&base), s(&value), "--atol", "0.5"], 0);
    run(&["diff", s(&base), s(&value), "--rtol", "0.2"], 0);
    run(&["diff", s(&base), s(&value), "--rtol", "0.1"], 1);

    // One member more, one less; a list item more.
    let mut o = sample();
    o.insert("extra", Value::Bool(true));
    o.fields.retain(|(n, _)| n != "name");
    o.insert(
        "tags",
        Value::List(vec![
            Value::from("a"),
            Value::I64(2),
            Value::None,
            Value::from("d"),
        ]),
    );
    let member = write(dir.path(), "member.hdf5", &o);
    let out = run(&["diff", s(&base), s(&member)], 1);
    assert!(out.contains("- run/name: only in A ('first')"), "{out}");
    assert!(out.contains("+ run/extra: only in B (True)"), "{out}");
    assert!(out.contains("~ run/tags: length 3 -> 4"), "{out}");
    assert!(out.contains("+ run/tags[3]: only in B ('d')"), "{out}");

    // One dtype (array and scalar), one class, a dict value.
    let mut o = sample();
    o.class = "lab.OtherRun".into();
    o.insert("id", Value::I32(7));
    o.insert(
        "samples",
        Value::from(anam::ndarray::arr1(&[1.0f32, 2.0, f32::NAN, 4.0]).into_dyn()),
    );
    o.insert(
        "meta",
        Value::Dict(vec![(Value::from("k"), Value::F64(0.75))]),
    );
    let dtype = write(dir.path(), "dtype.hdf5", &o);
    let out = run(&["diff", s(&base), s(&dtype)], 1);
    insta::assert_snapshot!("diff_dtype_class_dict", out);

    // Only a path: the other differences are not looked at.
    run(&["diff", s(&base), s(&dtype), "run/name"], 0);
    run(&["diff", s(&base), s(&dtype), "run/id"], 1);
    // A missing file is an I/O error.
    let err = run_err(&["diff", s(&base), "nothing.hdf5"], 2);
    assert!(err.contains("nothing.hdf5"), "{err}");
}

// ---------------------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------------------

#[test]
fn check_passes_good_files_and_reports_python_problems() {
    let out = run(&["check", "tutorial3.hdf5"], 0);
    assert!(
        out.contains("1 top-level entries loaded; 0 errors"),
        "{out}"
    );
    // Python 1.0.4 with current h5py cannot read its own name maps.
    let out = run(&["check", "namemap.hdf5"], 1);
    assert!(out.contains("python: nmap/namemaps: "), "{out}");
    let report: Json = serde_json::from_str(&run(&["check", "arrays.hdf5", "--json"], 0)).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["problems"][0]["level"], "note");
    assert_eq!(report["problems"][0]["path"], "arrays/b");
}

#[test]
fn check_reports_corrupt_files_with_their_paths() {
    let dir = tempfile::tempdir().unwrap();
    // A truncated copy.
    let bytes = std::fs::read(fixtures().join("tutorial3.hdf5")).unwrap();
    let cut = dir.path().join("cut.hdf5");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let out = run(&["check", s(&cut)], 1);
    assert!(out.contains("error: "), "{out}");

    // A list whose `count` is a string, and a dict whose lists disagree with its count.
    let path = write(dir.path(), "bad.hdf5", &sample());
    let second = dir.path().join("second.hdf5");
    std::fs::copy(&path, &second).unwrap();
    {
        let f = anam::hdf5::File::open_rw(&path).unwrap();
        let tags = f.group("run/tags").unwrap();
        tags.delete_attr("count").unwrap();
        let text: anam::hdf5::types::VarLenUnicode = "three".parse().unwrap();
        tags.new_attr::<anam::hdf5::types::VarLenUnicode>()
            .create("count")
            .unwrap()
            .write_scalar(&text)
            .unwrap();
    }
    let out = run(&["check", s(&path)], 1);
    assert!(out.contains("error: run: "), "{out}");
    assert!(out.contains("run/tags"), "the path of the bad list: {out}");
    let report: Json = serde_json::from_str(&run(&["check", s(&path), "--json"], 1)).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"][0]["level"], "error");

    {
        let f = anam::hdf5::File::open_rw(&second).unwrap();
        let meta = f.group("run/meta").unwrap();
        meta.delete_attr("count").unwrap();
        meta.new_attr::<i64>()
            .create("count")
            .unwrap()
            .write_scalar(&5i64)
            .unwrap();
    }
    let out = run(&["check", s(&second)], 1);
    assert!(
        out.contains(
            "python: run/meta: the dict's `count` (5) differs from its lists' (1 keys, 1 values)"
        ),
        "{out}"
    );

    // A load that takes longer than allowed is reported, not waited for.
    let out = run(&["check", "tutorial3.hdf5", "--timeout", "0"], 1);
    assert!(out.contains("error: data: "), "{out}");

    // No file at all: an I/O error.
    let err = run_err(&["check", "nothing.hdf5"], 2);
    assert!(err.contains("nothing.hdf5"), "{err}");
}

// ---------------------------------------------------------------------------------------
// repack
// ---------------------------------------------------------------------------------------

#[test]
fn repack_drops_the_space_of_replaced_objects() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.hdf5");
    let mut o = sample();
    // No NaN here: the loaded values are compared with `==` below.
    o.insert(
        "samples",
        Value::from(anam::ndarray::arr1(&[1.0, -0.0, f64::INFINITY]).into_dyn()),
    );
    o.insert(
        "big",
        Value::from(anam::ndarray::Array1::<f64>::linspace(0.0, 1.0, 10_000).into_dyn()),
    );
    for i in 0..200 {
        o.insert("id", Value::I64(i));
        anam::to_file(&src, "run", &Value::Object(o.clone())).unwrap();
    }
    o.insert("id", Value::I64(-1));
    anam::to_file(&src, "nested/deeper/other", &Value::Object(o)).unwrap();
    let dst = dir.path().join("dst.hdf5");
    let out = run(&["repack", s(&src), s(&dst)], 0);
    assert!(out.starts_with("2 objects: "), "{out}");
    let before = std::fs::metadata(&src).unwrap().len();
    let after = std::fs::metadata(&dst).unwrap().len();
    assert!(
        after * 10 < before,
        "repacked {after} bytes, from {before}: not compact"
    );
    // The same objects.
    run(&["diff", s(&src), s(&dst)], 0);
    for p in ["run", "nested/deeper/other"] {
        let a: Value = anam::File::open(&src).unwrap().read(p).unwrap();
        let b: Value = anam::File::open(&dst).unwrap().read(p).unwrap();
        assert_eq!(a, b, "{p}");
    }
    // The destination is never replaced.
    let err = run_err(&["repack", s(&src), s(&dst)], 2);
    assert!(err.contains("already there"), "{err}");

    // Compressed: the big array becomes a chunked, deflated dataset with the same values.
    let gz = dir.path().join("gz.hdf5");
    run(
        &[
            "repack",
            s(&src),
            s(&gz),
            "--compress",
            "gzip:4",
            "--shuffle",
        ],
        0,
    );
    let big = anam::hdf5::File::open(&gz)
        .unwrap()
        .dataset("run/big")
        .unwrap();
    let filters = format!("{:?}", big.filters());
    assert!(filters.to_lowercase().contains("deflate"), "{filters}");
    assert!(big.is_chunked());
    run(&["diff", s(&src), s(&gz)], 0);
    let err = run_err(
        &[
            "repack",
            s(&src),
            s(&dir.path().join("x.hdf5")),
            "--compress",
            "gzip:12",
        ],
        2,
    );
    assert!(err.contains("gzip:12"), "{err}");

    // An object that does not load: an error naming it, and no half copy.
    {
        let f = anam::hdf5::File::open_rw(&src).unwrap();
        let tags = f.group("nested/deeper/other/tags").unwrap();
        tags.delete_attr("count").unwrap();
        tags.new_attr::<f64>()
            .create("count")
            .unwrap()
            .write_scalar(&1.5)
            .unwrap();
    }
    let dst2 = dir.path().join("dst2.hdf5");
    let err = run_err(&["repack", s(&src), s(&dst2)], 2);
    assert!(err.contains("nested/deeper/other"), "{err}");
    assert!(!dst2.exists());
}

// ---------------------------------------------------------------------------------------
// Big collections, plain HDF5, errors
// ---------------------------------------------------------------------------------------

#[test]
fn tree_of_a_100000_member_collection_is_quick() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.hdf5");
    let member = |i: i64| {
        let mut o = Object::new("lab.Sample");
        o.insert("id", Value::I64(i));
        Value::Object(o)
    };
    let mut c = Object::new("lab.Samples");
    c.insert("members", Value::List((0..100_000).map(member).collect()));
    anam::to_file(&path, "data", &Value::Object(c)).unwrap();
    let start = Instant::now();
    let out = run(&["tree", s(&path)], 0);
    let took = start.elapsed();
    assert!(out.contains("data  lab.Samples  [100000 members]"), "{out}");
    assert!(out.contains("... 99997 more items"), "{out}");
    assert!(took.as_secs_f64() < 1.0, "tree took {took:?}");
    let out = run(&["tree", s(&path), "data/members", "--depth", "1"], 0);
    assert!(out.contains("[2]  lab.Sample"), "{out}");
}

#[test]
fn plain_hdf5_files_show_groups_datasets_and_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plain.hdf5");
    {
        let f = anam::hdf5::File::create(&path).unwrap();
        let g = f.create_group("grp").unwrap();
        g.new_attr::<i32>()
            .create("version")
            .unwrap()
            .write_scalar(&3)
            .unwrap();
        let data = anam::ndarray::Array2::<f64>::zeros((100, 100));
        g.new_dataset_builder()
            .deflate(4)
            .chunk((10, 100))
            .with_data(&data)
            .create("zeros")
            .unwrap();
        f.new_dataset_builder()
            .with_data(&anam::ndarray::arr1(&[1u16, 2, 3]))
            .create("plain")
            .unwrap();
    }
    let out = run(&["tree", s(&path)], 0);
    assert!(out.contains("grp/"), "{out}");
    assert!(out.contains("@version = 3  int32"), "{out}");
    assert!(
        out.contains("plain  uint16 (3,)  contiguous, 6 B on disk"),
        "{out}"
    );
    assert!(
        out.contains("zeros  float64 (100, 100)  chunked (10, 100), gzip(4), ratio "),
        "{out}"
    );
    let tree: Json = serde_json::from_str(&run(&["tree", s(&path), "--json"], 0)).unwrap();
    let zeros = &tree["children"][0]["children"][1];
    assert_eq!(zeros["storage"]["layout"], "chunked");
    assert!(zeros["storage"]["ratio"].as_f64().unwrap() > 10.0);
    let got: Json = serde_json::from_str(&run(&["json", s(&path)], 0)).unwrap();
    assert_eq!(got["plain"], serde_json::json!([1, 2, 3]));
    assert_eq!(got["grp"]["version"], 3);
}

#[test]
fn errors_name_the_file_and_the_path_and_exit_2() {
    let err = run_err(&["show", "tutorial1.hdf5", "person/nothing"], 2);
    assert!(
        err.contains("tutorial1.hdf5") && err.contains("person/nothing"),
        "{err}"
    );
    let err = run_err(&["tree", "nothing.hdf5"], 2);
    assert!(err.contains("nothing.hdf5"), "{err}");
    let err = run_err(&["json", "tutorial1.hdf5", "nothing"], 2);
    assert!(
        err.contains("tutorial1.hdf5") && err.contains("nothing"),
        "{err}"
    );
    // Usage errors.
    run_err(&["tree"], 2);
    run_err(&["frobnicate"], 2);
    run_err(&["diff", "a.hdf5", "b.hdf5", "--rtol", "x"], 2);
    // Help for every subcommand.
    for sub in ["tree", "show", "json", "diff", "check", "repack"] {
        let out = run(&[sub, "--help"], 0);
        assert!(out.contains("Usage: anam"), "{sub}: {out}");
    }
}

#[test]
fn no_colours_when_not_a_terminal_unless_forced() {
    let out = run(&["tree", "tutorial1.hdf5"], 0);
    assert!(!out.contains('\x1b'));
    let out = anam(&["tree", "tutorial1.hdf5"])
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains('\x1b'));
    let out = anam(&["tree", "tutorial1.hdf5"])
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\x1b'));
}
