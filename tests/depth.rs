//! One nesting limit for writing and reading, in every format, in debug and release builds
//! and on threads with small stacks: what the writer accepts reads back; what the reader
//! would refuse, the writer refuses first, with an error.

use anam::Value;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize, Debug, PartialEq)]
#[serde(rename = "depth.Node")]
struct Node {
    level: i64,
    next: Option<Box<Node>>,
}

fn chain(depth: usize) -> Node {
    let mut node = Node {
        level: depth as i64,
        next: None,
    };
    for level in (1..depth).rev() {
        node = Node {
            level: level as i64,
            next: Some(Box::new(node)),
        };
    }
    node
}

fn nested_lists(depth: usize) -> Value {
    let mut v = Value::I64(0);
    for _ in 0..depth {
        v = Value::List(vec![v]);
    }
    v
}

/// Runs `f` on a thread with a small stack (1 MiB): the limit must not depend on it.
fn on_small_stack<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn the_deepest_value_the_writer_accepts_reads_back() {
    on_small_stack(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deep.hdf5");
        // The top group is level 1: the chain may be MAX_DEPTH objects long.
        let deepest = chain(anam::MAX_DEPTH);
        anam::to_file(&path, "deep", &deepest).unwrap();
        let back: Node = anam::from_file(&path, None).unwrap();
        assert_eq!(back, deepest);
        let value: Value = anam::from_file(&path, None).unwrap();
        anam::to_file(&path, "again", &value).unwrap();
        std::mem::forget(back);
        std::mem::forget(deepest);
    });
}

#[test]
fn one_level_more_is_refused_by_the_writer() {
    on_small_stack(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deeper.hdf5");
        let deeper = chain(anam::MAX_DEPTH + 1);
        let err = anam::to_file(&path, "deep", &deeper).unwrap_err();
        assert!(err.to_string().contains("nested too deep"), "{err}");
        assert!(!path.exists(), "nothing written");
        std::mem::forget(deeper);
    });
}

#[test]
fn very_deep_values_are_errors_in_every_format() {
    on_small_stack(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("very.hdf5");
        let typed = chain(10_000);
        let err = anam::to_file(&path, "deep", &typed).unwrap_err();
        assert!(err.to_string().contains("nested too deep"), "{err}");
        std::mem::forget(typed);

        let value = nested_lists(10_000);
        let err = anam::to_file(&path, "deep", &value).unwrap_err();
        assert!(err.to_string().contains("nested too deep"), "{err}");
        let err = anam::wire::to_bytes(&value).unwrap_err();
        assert!(err.to_string().contains("nested too deep"), "{err}");
        std::mem::forget(value);

        let value = nested_lists(100_000);
        let err = anam::wire::to_bytes(&value).unwrap_err();
        assert!(err.to_string().contains("nested too deep"), "{err}");
        std::mem::forget(value);
    });
}

#[test]
fn the_wire_format_has_the_same_limit() {
    on_small_stack(|| {
        let deepest = nested_lists(anam::MAX_DEPTH - 1);
        let bytes = anam::wire::to_bytes(&deepest).unwrap();
        let back: Value = anam::wire::from_bytes(&bytes).unwrap();
        assert_eq!(back, deepest);
        std::mem::forget((deepest, back));
        let typed = chain(anam::MAX_DEPTH / 2);
        let bytes = anam::wire::to_bytes(&typed).unwrap();
        let back: Node = anam::wire::from_bytes(&bytes).unwrap();
        assert_eq!(back, typed);
        std::mem::forget((typed, back));
    });
}

#[test]
fn to_value_and_from_value_have_the_same_limit() {
    on_small_stack(|| {
        let deepest = chain(anam::MAX_DEPTH);
        let value = anam::to_value(&deepest).unwrap();
        let back: Node = anam::from_value_ref(&value).unwrap();
        assert_eq!(back, deepest);
        std::mem::forget(back);
        let back: Node = anam::from_value(value).unwrap();
        assert_eq!(back, deepest);
        std::mem::forget((deepest, back));

        let deeper = chain(anam::MAX_DEPTH + 1);
        let err = anam::to_value(&deeper).unwrap_err();
        assert!(err.to_string().contains("nested too deep"), "{err}");
        std::mem::forget(deeper);

        let very = nested_lists(100_000);
        let err = anam::to_value(&very).unwrap_err();
        assert!(err.to_string().contains("nested too deep"), "{err}");
        std::mem::forget(very);

        // A Value deeper than the limit (made by hand) read into the typed chain.
        let mut very = Value::None;
        for level in (1..=10_000).rev() {
            let mut o = anam::Object::new("depth.Node");
            o.fields.push(("level".into(), Value::I64(level)));
            o.fields.push(("next".into(), very));
            very = Value::Object(o);
        }
        let err = match anam::from_value_ref::<Node>(&very) {
            Ok(back) => {
                std::mem::forget(back);
                panic!("read a 10,000-deep chain")
            }
            Err(e) => e,
        };
        assert!(err.to_string().contains("nested too deep"), "{err}");
        std::mem::forget(very);
    });
}
