//! The store conformance suite (`refresh_rotation::testkit`) run against the in-memory store, plus what
//! only the in-memory store promises (its size bound, `len`).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::yielding::YieldingStore;

use refresh_rotation::error::StoreError;
use refresh_rotation::store::{InMemoryRefreshTokenStore, RefreshTokenStore};
use refresh_rotation::testkit::{
    cutoff_for, random_family_id, sample_family, Awaited, CHECKS, KEY_ID, T0,
};

refresh_rotation::store_conformance_tests!(in_memory, InMemoryRefreshTokenStore::new);

// The suite also accepts a store behind an `Arc` (as the issuer holds it), with a capacity hint.
refresh_rotation::store_conformance_tests!(in_memory_arc, || Arc::new(
    InMemoryRefreshTokenStore::with_capacity(1_000)
));

// A store that awaits (each of its futures is pending once before it answers) runs the same checks
// through `Awaited`, from every thread of the concurrency checks at once.
refresh_rotation::store_conformance_tests!(awaited, || Awaited(YieldingStore::default()));

#[test]
fn the_suite_lists_every_check_once() {
    let mut names: Vec<_> = CHECKS.iter().map(|(n, _)| *n).collect();
    assert!(names.len() >= 20);
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CHECKS.len());
}

#[test]
fn max_families_bounds_the_store_until_purge_makes_room() {
    let store = InMemoryRefreshTokenStore::new().with_max_families(3);
    let expires = T0.checked_add_secs(10).unwrap();
    for _ in 0..3 {
        store
            .create(sample_family(random_family_id(), "s", expires))
            .unwrap();
    }
    assert_eq!(store.len(), 3);
    let extra = sample_family(random_family_id(), "s", expires);
    assert_eq!(store.create(extra.clone()), Err(StoreError::Full));
    assert_eq!(store.get(&extra.id).unwrap(), None);
    assert_eq!(store.purge_expired(cutoff_for(expires), 1).unwrap(), 1);
    assert_eq!(store.len(), 2);
    store.create(extra).unwrap();
    assert_eq!(store.len(), 3);
}

#[test]
fn len_counts_families_until_purged() {
    let store = InMemoryRefreshTokenStore::default();
    assert!(store.is_empty());
    let f = sample_family(random_family_id(), "s", T0);
    store.create(f.clone()).unwrap();
    assert_eq!(store.create(f.clone()), Err(StoreError::AlreadyExists));
    store.revoke(&f.id).unwrap();
    assert_eq!(store.len(), 1, "revoked families are kept (R-REV-4)");
    assert_eq!(store.purge_expired(cutoff_for(T0), 10).unwrap(), 1);
    assert!(store.is_empty());
}

#[test]
fn purge_in_small_batches_drains_a_larger_store() {
    let store = InMemoryRefreshTokenStore::new();
    let expires = T0.checked_add_secs(1).unwrap();
    for i in 0..5_000 {
        let e = if i % 2 == 0 {
            expires
        } else {
            T0.checked_add_secs(999).unwrap()
        };
        store
            .create(sample_family(random_family_id(), "s", e))
            .unwrap();
    }
    let mut total = 0;
    loop {
        let n = store.purge_expired(cutoff_for(expires), 64).unwrap();
        total += n;
        if n < 64 {
            break;
        }
    }
    assert_eq!(total, 2_500);
    assert_eq!(store.len(), 2_500);
}

#[test]
fn debug_shows_no_family_data() {
    let store = InMemoryRefreshTokenStore::new().with_max_families(10);
    store
        .create(sample_family(random_family_id(), "alice-subject", T0))
        .unwrap();
    let d = format!("{store:?}");
    assert!(!d.contains("alice"), "{d}");
    assert!(d.contains("len: 1"), "{d}");
}

#[test]
fn r_fam_2_one_record_per_family_however_often_it_rotates() {
    use refresh_rotation::store::{Advance, RefreshTokenStore};
    let store = InMemoryRefreshTokenStore::new();
    let id = random_family_id();
    let original = sample_family(id, "s", T0.checked_add_secs(86_400).unwrap());
    store.create(original.clone()).unwrap();
    for g in 0..10_000u32 {
        let r = store.advance(&id, g, T0, KEY_ID).unwrap();
        assert!(matches!(r, Advance::Advanced(s) if s.generation == g + 1));
    }
    assert_eq!(store.len(), 1, "one record, not one per generation");
    let now = store.get(&id).unwrap().unwrap();
    // Only the generation and grace deadline moved: the record holds no token.
    assert_eq!(now.info, original.info);
    assert_eq!(now.state.generation, 10_000);
}

/// R-SAFE-5: the atomicity the contract demands, checked on the in-memory store by the shared suite's
/// concurrency checks (8 threads racing one compare-and-set, revoke against advances).
#[test]
fn r_safe_5_in_memory_store_is_atomic_per_family() {
    let store = InMemoryRefreshTokenStore::new();
    refresh_rotation::testkit::concurrent_same_generation_advances_exactly_once(&store);
    let store = InMemoryRefreshTokenStore::new();
    refresh_rotation::testkit::concurrent_revoke_wins_over_later_advances(&store);
}
