//! Decodes arbitrary bytes with the wire decoder, as every type of `fuzzed.rs`: it must never
//! panic (nor overflow the stack), and whatever decodes must encode again, stably.
//!
//! `fuzzed.rs` is shared with `tests/wire.rs`, whose `fuzz_smoke` test runs it on stable Rust.

#![no_main]

#[path = "../fuzzed.rs"]
mod fuzzed;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fuzzed::decode_everything(data);
});
