//! Compile-fail tests of `#[anam::class]`: every misuse gives a clear error on the
//! offending token. Snapshots: `TRYBUILD=overwrite cargo test --test ui`.

#[test]
fn compile_fail() {
    trybuild::TestCases::new().compile_fail("tests/compile_fail/*.rs");
}
