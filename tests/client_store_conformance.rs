//! The client-store conformance suite (`refresh_rotation::testkit::clients`, R-PER-3) run against the
//! in-memory client store, and the restore of known clients through the registry over it (R-PER-2).

// Test code: a panic here is the test failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use refresh_rotation::store::{AsyncClientStore, InMemoryClientStore};
use refresh_rotation::testkit::clients::{run_all, CHECKS};

refresh_rotation::client_store_conformance_tests!(in_memory, InMemoryClientStore::new);

// The suite also takes a store behind an `Arc`, or already as the registry holds it.
refresh_rotation::client_store_conformance_tests!(in_memory_arc, || Arc::new(
    InMemoryClientStore::new()
));

#[test]
fn r_per_3_run_all_passes_for_the_in_memory_store() {
    run_all(|| Arc::new(InMemoryClientStore::new()) as Arc<dyn AsyncClientStore>);
}

#[test]
fn r_per_3_the_suite_lists_every_check_once() {
    let mut names: Vec<_> = CHECKS.iter().map(|(n, _)| *n).collect();
    assert!(names.len() >= 15);
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CHECKS.len());
}

#[test]
fn debug_of_the_in_memory_store_shows_counts_only() {
    let store = InMemoryClientStore::new();
    let d = format!("{store:?}");
    assert!(d.contains("clients: 0"), "{d}");
}
