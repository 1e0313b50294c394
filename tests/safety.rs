//! Crate-wide safety properties that are not a function's behaviour.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// R-SAFE-6: the crate forbids `unsafe` code, so no unsafe block can be added without removing this
/// attribute, which this test would notice.
#[test]
fn r_safe_6_unsafe_code_is_forbidden() {
    let lib = include_str!("../src/lib.rs");
    assert!(lib.contains("#![forbid(unsafe_code)]"));
    let pg = include_str!("../stores/postgres/src/lib.rs");
    assert!(pg.contains("#![forbid(unsafe_code)]"));
}
