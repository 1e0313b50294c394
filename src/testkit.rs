//! The conformance suite for [`RefreshTokenStore`] implementations (behind the `test-kit` feature).
//!
//! The crate's security rests on a store keeping its contract: one atomic compare-and-set per rotation
//! (R-ROT-5, R-SAFE-5), revocation that wins over a later advance (R-REV-2), purge that never touches a
//! live family (R-REV-5). Each check here exercises one transition of SPEC 6 and 7 through the trait
//! alone, so the same suite runs against the in-memory store and any other backend.
//!
//! # Running it against a store
//! In the store crate's `Cargo.toml`:
//!
//! ```toml
//! [dev-dependencies]
//! refresh-rotation = { version = "0.1", features = ["test-kit"] }
//! ```
//!
//! and in a test file (for example `tests/conformance.rs`):
//!
//! ```ignore
//! refresh_rotation::store_conformance_tests!(pg_store, || my_crate::PgStore::connect_fresh_schema());
//! ```
//!
//! which expands to a module `pg_store` with one `#[test]` per check, named after it. The factory is called
//! once per check and must return an **empty store that no other running check shares** (a new schema or
//! table prefix per call, for a database): the purge checks count what they delete. It may return the
//! store or an `Arc` of it. Where tests cannot be generated (a custom harness, an async runtime that must
//! build the store), iterate over [`CHECKS`] instead, or call [`run_all`].
//!
//! A store that awaits I/O and implements only [`AsyncRefreshTokenStore`] runs the same checks through
//! [`Awaited`], which drives each of its futures to completion on the calling thread:
//!
//! ```ignore
//! use refresh_rotation::testkit::Awaited;
//! refresh_rotation::store_conformance_tests!(pg_store, || Awaited(my_crate::PgStore::fresh_schema()));
//! ```
//!
//! The checks use random family ids and unique subjects, and timestamps near [`T0`]. The concurrency checks
//! start 8 threads; they pass a `&dyn RefreshTokenStore` to scoped threads, so a store that blocks is fine.
//!
//! Client stores have a suite of their own, [`clients`] (R-PER-3), with
//! [`client_store_conformance_tests!`](crate::client_store_conformance_tests).
//!
//! This module is test code: a check reports a broken contract by panicking, and it calls `expect` on the
//! store's results, since a store error fails the check.

// Test code: a check reports a broken contract by panicking.
#![allow(clippy::expect_used, clippy::panic, clippy::unwrap_used)]

pub mod clients;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;

use crate::clock::Timestamp;
use crate::error::StoreError;
use crate::random::{random_array, SystemRandom};
use crate::store::{
    Advance, AsyncRefreshTokenStore, Family, FamilyId, FamilyInfo, FamilyRead, FamilyState,
    PurgeCutoff, RefreshTokenStore,
};

use clients::block_on;

/// A conformance check: panics if the store breaks the contract.
pub type Check = fn(&dyn RefreshTokenStore);

/// The time the checks start at (2023-11-14T22:13:20Z).
pub const T0: Timestamp = Timestamp::from_unix_seconds(1_700_000_000);

/// The refresh-token key id of the checks' new families.
pub const KEY_ID: u32 = 1;

/// The key id a check's advance from generation `expected` records (R-ROT-10): different for each
/// generation, so a store that does not record it fails.
fn key_for(expected: u32) -> u32 {
    expected.wrapping_add(100)
}

/// The state of a new family in the checks.
const NEW: FamilyState = FamilyState::new(KEY_ID);

/// How long the checks' families live unless a check says otherwise: 30 days, Cognito's default.
const LIFETIME: u64 = 30 * 24 * 3600;

/// An asynchronous store as the checks take one: each operation of `S`'s [`AsyncRefreshTokenStore`] is
/// driven to completion on the calling thread by [`clients::block_on`], which parks the thread while
/// the future is pending. So `S`'s futures must make progress without that thread, as tokio-postgres
/// futures do when the connection task runs on a runtime of its own; the concurrency checks call from
/// 8 threads at once.
///
/// ```
/// use refresh_rotation::store::InMemoryRefreshTokenStore;
/// use refresh_rotation::testkit::{run_all, Awaited};
///
/// // Any `AsyncRefreshTokenStore`: here the in-memory store, through its blanket asynchronous form.
/// run_all(|| Awaited(InMemoryRefreshTokenStore::new()));
/// ```
#[derive(Debug, Default)]
pub struct Awaited<S>(pub S);

impl<S: AsyncRefreshTokenStore> RefreshTokenStore for Awaited<S> {
    fn create(&self, family: Family) -> Result<(), StoreError> {
        block_on(self.0.create(family))
    }
    fn read(&self, id: &FamilyId) -> Result<FamilyRead, StoreError> {
        block_on(self.0.read(id))
    }
    fn advance(
        &self,
        id: &FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> Result<Advance, StoreError> {
        block_on(self.0.advance(id, expected, grace_deadline, key_id))
    }
    fn bind_device(&self, id: &FamilyId, device_key: &str) -> Result<Option<Family>, StoreError> {
        block_on(self.0.bind_device(id, device_key))
    }
    fn confirm_device(&self, id: &FamilyId, device_key: &str) -> Result<bool, StoreError> {
        block_on(self.0.confirm_device(id, device_key))
    }
    fn revoke(&self, id: &FamilyId) -> Result<bool, StoreError> {
        block_on(self.0.revoke(id))
    }
    fn revoke_subject(&self, subject: &str) -> Result<usize, StoreError> {
        block_on(self.0.revoke_subject(subject))
    }
    fn revoke_client(&self, client_id: &str) -> Result<usize, StoreError> {
        block_on(self.0.revoke_client(client_id))
    }
    fn purge_expired(&self, cutoff: PurgeCutoff, max: usize) -> Result<usize, StoreError> {
        block_on(self.0.purge_expired(cutoff, max))
    }
}

/// A fresh random family id.
pub fn random_family_id() -> FamilyId {
    // The OS CSPRNG failing is an environment failure; the test cannot proceed.
    FamilyId::from_bytes(random_array(&SystemRandom::new()).expect("system random source"))
}

/// A new family (generation 0, live) of `subject` for client `client-under-test`, expiring at `expires_at`.
pub fn sample_family(id: FamilyId, subject: &str, expires_at: Timestamp) -> Family {
    Family {
        id,
        info: Arc::new(FamilyInfo {
            client_id: Arc::from("client-under-test"),
            subject: subject.into(),
            username: format!("user-{subject}").into(),
            device_key: None,
            scopes: Arc::from("aws.cognito.signin.user.admin"),
            auth_time: T0,
            event_id: *id.as_bytes(),
            expires_at,
        }),
        state: NEW,
    }
}

/// A unique subject, so that checks sharing a backend never see each other's families.
fn unique_subject() -> String {
    random_family_id().to_uuid_string()
}

fn at(seconds: u64) -> Timestamp {
    T0.checked_add_secs(seconds).expect("test times are small")
}

/// Creates a live family with the default lifetime and returns its id.
fn new_family(store: &dyn RefreshTokenStore, subject: &str) -> FamilyId {
    let id = random_family_id();
    store
        .create(sample_family(id, subject, at(LIFETIME)))
        .expect("create");
    id
}

fn state(store: &dyn RefreshTokenStore, id: &FamilyId) -> FamilyState {
    store.get(id).expect("get").expect("family exists").state
}

fn advance(store: &dyn RefreshTokenStore, id: &FamilyId, expected: u32, grace: u64) -> Advance {
    store
        .advance(id, expected, at(grace), key_for(expected))
        .expect("advance")
}

/// The cutoff that lets a purge delete the families whose expiry is at or before `expired_by`: that of a
/// purge run [`PurgeCutoff::MARGIN_SECS`] later, the only way there is to make one (R-REV-6).
pub fn cutoff_for(expired_by: Timestamp) -> PurgeCutoff {
    let run_at = expired_by
        .checked_add_secs(PurgeCutoff::MARGIN_SECS)
        .expect("test times are small");
    let cutoff = PurgeCutoff::at(run_at).expect("test times are small");
    assert_eq!(cutoff.expired_at_or_before(), expired_by);
    cutoff
}

/// Purges at most `max` families whose expiry is at or before `expired_by`.
fn purge(store: &dyn RefreshTokenStore, expired_by: Timestamp, max: usize) -> usize {
    store
        .purge_expired(cutoff_for(expired_by), max)
        .expect("purge")
}

/// R-FAM-2: what `create` stores, `get` returns, every field of it; state included.
pub fn create_then_get_round_trips(store: &dyn RefreshTokenStore) {
    let id = random_family_id();
    let mut family = sample_family(id, &unique_subject(), at(LIFETIME));
    family.info = Arc::new(FamilyInfo {
        device_key: Some("us-east-1_4f1c6ad1-59de-4c43-9a0e-0f3bb5ba3c8a".into()),
        username: "Zoë.Ünïcode+tag@example.com".into(),
        ..(*family.info).clone()
    });
    family.state = FamilyState {
        generation: 7,
        grace_deadline: at(3),
        key_id: 42,
        revoked: false,
        device_confirmed: false,
    };
    store.create(family.clone()).expect("create");
    assert_eq!(store.get(&id).expect("get"), Some(family));
}

/// R-ROT-11: `read` returns what `get` returns, and a store's clock reading, if it gives one, is a
/// plausible time (not before the checks' epoch).
pub fn read_returns_the_family_and_the_stores_time(store: &dyn RefreshTokenStore) {
    let id = new_family(store, &unique_subject());
    let read = store.read(&id).expect("read");
    assert_eq!(read.family, store.get(&id).expect("get"));
    if let Some(t) = read.time {
        assert!(t > T0, "store time {t:?} is before 2023");
    }
    assert_eq!(store.read(&random_family_id()).expect("read").family, None);
}

/// `get` of an id never created is `None`.
pub fn get_of_unknown_family_is_none(store: &dyn RefreshTokenStore) {
    assert_eq!(store.get(&random_family_id()).expect("get"), None);
}

/// Creating an id that exists fails with `AlreadyExists` and leaves the original as it was.
pub fn create_of_existing_id_fails_and_keeps_the_original(store: &dyn RefreshTokenStore) {
    let subject = unique_subject();
    let id = new_family(store, &subject);
    assert!(matches!(advance(store, &id, 0, 5), Advance::Advanced(_)));
    let original = store.get(&id).expect("get");
    let intruder = sample_family(id, "someone-else", at(1));
    assert_eq!(store.create(intruder), Err(StoreError::AlreadyExists));
    assert_eq!(store.get(&id).expect("get"), original);
}

/// R-ROT-1: advancing at the current generation moves it up by one and sets the grace deadline; the
/// returned state is the stored one.
pub fn advance_at_expected_generation_advances_and_sets_grace(store: &dyn RefreshTokenStore) {
    let id = new_family(store, &unique_subject());
    let after = FamilyState {
        generation: 1,
        grace_deadline: at(10),
        key_id: key_for(0),
        ..NEW
    };
    assert_eq!(advance(store, &id, 0, 10), Advance::Advanced(after));
    assert_eq!(state(store, &id), after);
    // R-ROT-3: the successor advances again, with its own deadline (grace 0 included).
    let after2 = FamilyState {
        generation: 2,
        grace_deadline: at(0),
        key_id: key_for(1),
        ..NEW
    };
    assert_eq!(advance(store, &id, 1, 0), Advance::Advanced(after2));
    assert_eq!(state(store, &id), after2);
}

/// R-ROT-2, R-ROT-4, R-FAM-4: advancing at any generation other than the current one writes nothing and
/// reports the current state.
pub fn advance_at_other_generation_is_unchanged(store: &dyn RefreshTokenStore) {
    let id = new_family(store, &unique_subject());
    assert!(matches!(advance(store, &id, 0, 10), Advance::Advanced(_)));
    let current = state(store, &id);
    for expected in [0, 2, 3, u32::MAX] {
        assert_eq!(
            advance(store, &id, expected, 99),
            Advance::Unchanged(current),
            "expected generation {expected}"
        );
    }
    assert_eq!(
        state(store, &id),
        current,
        "the grace deadline is untouched"
    );
}

/// R-REV-2: a revoked family never advances, even at its current generation.
pub fn advance_of_revoked_family_is_unchanged_and_revoked(store: &dyn RefreshTokenStore) {
    let id = new_family(store, &unique_subject());
    assert!(store.revoke(&id).expect("revoke"));
    let revoked = FamilyState {
        revoked: true,
        ..NEW
    };
    assert_eq!(advance(store, &id, 0, 10), Advance::Unchanged(revoked));
    assert_eq!(state(store, &id), revoked);
}

/// Advancing an unknown family is `NotFound`, and does not create it.
pub fn advance_of_unknown_family_is_not_found(store: &dyn RefreshTokenStore) {
    let id = random_family_id();
    assert_eq!(advance(store, &id, 0, 10), Advance::NotFound);
    assert_eq!(store.get(&id).expect("get"), None);
}

/// A generation at `u32::MAX` cannot advance (no wrap to 0): `Unchanged`.
pub fn advance_at_u32_max_is_unchanged(store: &dyn RefreshTokenStore) {
    let id = random_family_id();
    let mut family = sample_family(id, &unique_subject(), at(LIFETIME));
    let top = FamilyState {
        generation: u32::MAX,
        grace_deadline: at(1),
        ..NEW
    };
    family.state = top;
    store.create(family).expect("create");
    assert_eq!(advance(store, &id, u32::MAX, 10), Advance::Unchanged(top));
    assert_eq!(state(store, &id), top);
}

/// An advance changes its own family only.
pub fn advance_touches_only_its_family(store: &dyn RefreshTokenStore) {
    let subject = unique_subject();
    let a = new_family(store, &subject);
    let b = new_family(store, &subject);
    assert!(matches!(advance(store, &a, 0, 10), Advance::Advanced(_)));
    assert_eq!(state(store, &b), NEW);
}

/// R-REF-9: a device binds once; a second bind returns the family bound to the first device.
pub fn bind_device_binds_once(store: &dyn RefreshTokenStore) {
    let id = new_family(store, &unique_subject());
    let first = store
        .bind_device(&id, "us-east-1_aaaa")
        .expect("bind")
        .expect("family exists");
    assert_eq!(first.info.device_key.as_deref(), Some("us-east-1_aaaa"));
    let second = store
        .bind_device(&id, "us-east-1_bbbb")
        .expect("bind")
        .expect("family exists");
    assert_eq!(second.info.device_key.as_deref(), Some("us-east-1_aaaa"));
    let stored = store.get(&id).expect("get").expect("family exists");
    assert_eq!(stored, first);
    // Binding changes nothing else.
    let original = sample_family(id, &stored.info.subject, at(LIFETIME));
    assert_eq!(
        FamilyInfo {
            device_key: None,
            ..(*stored.info).clone()
        },
        *original.info
    );
    assert_eq!(
        stored.state,
        FamilyState {
            device_confirmed: false,
            ..NEW
        },
        "a device bound by `bind_device` is unconfirmed"
    );
}

/// R-REF-9: `confirm_device` confirms the bound device only, is idempotent, and changes nothing else.
pub fn confirm_device_confirms_only_the_bound_device(store: &dyn RefreshTokenStore) {
    let id = new_family(store, &unique_subject());
    assert!(
        !store
            .confirm_device(&id, "us-east-1_aaaa")
            .expect("confirm"),
        "no device bound yet"
    );
    store.bind_device(&id, "us-east-1_aaaa").expect("bind");
    assert!(!state(store, &id).device_confirmed);
    assert!(!store
        .confirm_device(&id, "us-east-1_bbbb")
        .expect("confirm"));
    assert!(
        !state(store, &id).device_confirmed,
        "another device confirms nothing"
    );
    assert!(store
        .confirm_device(&id, "us-east-1_aaaa")
        .expect("confirm"));
    assert!(store
        .confirm_device(&id, "us-east-1_aaaa")
        .expect("confirm"));
    assert_eq!(
        state(store, &id),
        NEW,
        "confirmed, and nothing else changed"
    );
    assert!(!store
        .confirm_device(&random_family_id(), "us-east-1_aaaa")
        .expect("confirm"));
}

/// `bind_device` of an unknown family is `None` and creates nothing.
pub fn bind_device_of_unknown_family_is_none(store: &dyn RefreshTokenStore) {
    let id = random_family_id();
    assert_eq!(
        store.bind_device(&id, "us-east-1_aaaa").expect("bind"),
        None
    );
    assert_eq!(store.get(&id).expect("get"), None);
}

/// R-REV-2: revoke reports whether the family was live, and is idempotent; unknown ids are `false`.
pub fn revoke_is_idempotent_and_reports_whether_live(store: &dyn RefreshTokenStore) {
    let id = new_family(store, &unique_subject());
    assert!(matches!(advance(store, &id, 0, 10), Advance::Advanced(_)));
    assert!(store.revoke(&id).expect("revoke"));
    assert!(!store.revoke(&id).expect("revoke"));
    let s = state(store, &id);
    assert!(s.revoked);
    assert_eq!(s.generation, 1, "revocation keeps the generation");
    assert!(!store.revoke(&random_family_id()).expect("revoke"));
}

/// R-REV-4: a revoked family stays readable until it expires and is purged.
pub fn revoked_family_is_kept_until_purged(store: &dyn RefreshTokenStore) {
    let id = random_family_id();
    store
        .create(sample_family(id, &unique_subject(), at(100)))
        .expect("create");
    store.revoke(&id).expect("revoke");
    assert_eq!(purge(store, at(99), 10), 0);
    assert!(state(store, &id).revoked);
    assert_eq!(purge(store, at(100), 10), 1);
    assert_eq!(store.get(&id).expect("get"), None);
}

/// R-REF-9: a family bound to a device at sign-in (confirmed) has its device: a bind returns it as it
/// is, still bound to that device and confirmed, and changes nothing.
pub fn bind_device_keeps_a_device_bound_at_sign_in(store: &dyn RefreshTokenStore) {
    let id = random_family_id();
    let mut family = sample_family(id, &unique_subject(), at(LIFETIME));
    family.info = Arc::new(FamilyInfo {
        device_key: Some("us-east-1_signin".into()),
        ..(*family.info).clone()
    });
    store.create(family.clone()).expect("create");
    let answer = store
        .bind_device(&id, "us-east-1_other")
        .expect("bind")
        .expect("family exists");
    assert_eq!(answer, family, "a bind changed a device bound at sign-in");
    assert_eq!(store.get(&id).expect("get"), Some(family));
}

/// R-REV-3: global sign-out revokes every family of the subject, counts those that were live, and
/// touches no other subject's families.
pub fn revoke_subject_revokes_only_that_subjects_families(store: &dyn RefreshTokenStore) {
    let alice = unique_subject();
    let bob = unique_subject();
    let alice_families: Vec<_> = (0..5).map(|_| new_family(store, &alice)).collect();
    let bob_families: Vec<_> = (0..3).map(|_| new_family(store, &bob)).collect();
    store.revoke(&alice_families[0]).expect("revoke");
    assert_eq!(store.revoke_subject(&alice).expect("revoke_subject"), 4);
    for id in &alice_families {
        assert!(state(store, id).revoked);
        // Revoked for rotation too, not only as read: a signed-out session cannot be extended.
        let r = advance(store, id, 0, 10);
        assert!(
            matches!(r, Advance::Unchanged(s) if s.revoked && s.generation == 0),
            "advance after revoke_subject: {r:?}"
        );
    }
    for id in &bob_families {
        assert_eq!(state(store, id), NEW);
    }
    assert_eq!(store.revoke_subject(&alice).expect("revoke_subject"), 0);
    assert_eq!(
        store
            .revoke_subject(&unique_subject())
            .expect("revoke_subject"),
        0
    );
    // A prefix of a subject is another subject.
    assert_eq!(store.revoke_subject(&bob[..10]).expect("revoke_subject"), 0);
    assert_eq!(state(store, &bob_families[0]), NEW);
    // Subjects are compared exactly: not case-insensitively, not with SQL `LIKE` wildcards, not
    // ignoring trailing spaces. Subjects come from the host's directory and need not be UUIDs.
    let carol = format!("{}_%x", unique_subject());
    let carols: Vec<_> = (0..2).map(|_| new_family(store, &carol)).collect();
    let others: Vec<_> = lookalikes(&carol)
        .iter()
        .map(|other| new_family(store, other))
        .collect();
    assert_eq!(store.revoke_subject(&carol).expect("revoke_subject"), 2);
    for id in &carols {
        assert!(state(store, id).revoked);
    }
    for id in &others {
        assert_eq!(
            state(store, id),
            NEW,
            "only the exact subject is signed out"
        );
    }
}

/// Texts that a sloppy comparison takes for `text`, a text ending in `_%x`: its letters in the other
/// case, a trailing space (which a `PAD SPACE` collation ignores), and other characters where the
/// `_` and `%` are (the wildcards of SQL's `LIKE`).
fn lookalikes(text: &str) -> [String; 4] {
    let stem = text.strip_suffix("_%x").expect("a text ending in _%x");
    [
        text.to_uppercase(),
        format!("{text} "),
        format!("{stem}yzx"),
        format!("{stem}_zzzx"),
    ]
}

/// R-REV-7: deleting a client revokes every family of that client and no other.
pub fn revoke_client_revokes_only_that_clients_families(store: &dyn RefreshTokenStore) {
    let client = format!("client-{}_%x", unique_subject());
    let subject = unique_subject();
    let of_client = |client: &str| {
        let id = random_family_id();
        let mut family = sample_family(id, &subject, at(LIFETIME));
        family.info = Arc::new(FamilyInfo {
            client_id: Arc::from(client),
            ..(*family.info).clone()
        });
        store.create(family).expect("create");
        id
    };
    let ours: Vec<_> = (0..4).map(|_| of_client(&client)).collect();
    let other = new_family(store, &subject);
    // Client ids are compared exactly, as subjects are (see `lookalikes`).
    let alike: Vec<_> = lookalikes(&client).iter().map(|c| of_client(c)).collect();
    store.revoke(&ours[0]).expect("revoke");
    assert_eq!(store.revoke_client(&client).expect("revoke_client"), 3);
    for id in &ours {
        assert!(state(store, id).revoked);
        let r = advance(store, id, 0, 10);
        assert!(
            matches!(r, Advance::Unchanged(s) if s.revoked && s.generation == 0),
            "advance after revoke_client: {r:?}"
        );
    }
    assert_eq!(state(store, &other), NEW);
    for id in &alike {
        assert_eq!(state(store, id), NEW, "only the exact client is revoked");
    }
    assert_eq!(store.revoke_client(&client).expect("revoke_client"), 0);
    assert_eq!(
        store.revoke_client(&client[..10]).expect("revoke_client"),
        0
    );
}

/// R-REV-3, R-REV-7, R-REF-9: revoking by a subject or a client, or confirming a device, that no family
/// holds finds nothing and is no error, whatever the text: empty, or holding U+0000 (which a database's
/// text type may be unable to store, so no stored family can hold it).
pub fn lookups_by_text_no_family_holds_find_nothing(store: &dyn RefreshTokenStore) {
    let subject = unique_subject();
    let id = new_family(store, &subject);
    assert!(store
        .bind_device(&id, "us-east-1_0f0e")
        .expect("bind_device")
        .is_some());
    let with_nul = format!("{subject}\0");
    for text in ["", "\0", "us-east-1_0f0e\0", with_nul.as_str()] {
        assert_eq!(
            store.revoke_subject(text).expect("revoke_subject"),
            0,
            "{text:?}"
        );
        assert_eq!(
            store.revoke_client(text).expect("revoke_client"),
            0,
            "{text:?}"
        );
        assert!(
            !store.confirm_device(&id, text).expect("confirm_device"),
            "{text:?}"
        );
    }
    assert!(!state(store, &id).revoked);
}

/// R-REV-6: a purge run at `now` keeps every family that expired less than
/// [`PurgeCutoff::MARGIN_SECS`] before it.
pub fn purge_keeps_families_for_the_margin(store: &dyn RefreshTokenStore) {
    let id = random_family_id();
    store
        .create(sample_family(id, &unique_subject(), at(100)))
        .expect("create");
    store.revoke(&id).expect("revoke");
    let just_before = at(100 + PurgeCutoff::MARGIN_SECS - 1);
    let cutoff = PurgeCutoff::at(just_before).expect("in range");
    assert_eq!(store.purge_expired(cutoff, 10).expect("purge"), 0);
    assert!(state(store, &id).revoked, "still there, still revoked");
    let cutoff = PurgeCutoff::at(at(100 + PurgeCutoff::MARGIN_SECS)).expect("in range");
    assert_eq!(store.purge_expired(cutoff, 10).expect("purge"), 1);
}

/// R-REV-5: purge deletes exactly the families with `expires_at <= now`, revoked or not, and never a
/// live one.
pub fn purge_removes_only_expired_families(store: &dyn RefreshTokenStore) {
    let subject = unique_subject();
    let make = |expires: u64| {
        let id = random_family_id();
        store
            .create(sample_family(id, &subject, at(expires)))
            .expect("create");
        id
    };
    let expired = make(50);
    let expired_revoked = make(60);
    store.revoke(&expired_revoked).expect("revoke");
    let at_now = make(100);
    let live = make(101);
    let live_revoked = make(5_000);
    store.revoke(&live_revoked).expect("revoke");
    assert_eq!(purge(store, at(100), 1_000), 3);
    for id in [expired, expired_revoked, at_now] {
        assert_eq!(store.get(&id).expect("get"), None);
    }
    assert_eq!(state(store, &live), NEW);
    assert!(state(store, &live_revoked).revoked);
    assert_eq!(purge(store, at(100), 1_000), 0);
}

/// R-REV-5: purge deletes at most `max` per call; repeated calls purge every expired family and no live
/// one; `max == 0` deletes nothing.
pub fn purge_respects_max_and_repeated_calls_purge_all(store: &dyn RefreshTokenStore) {
    let subject = unique_subject();
    let expired: Vec<_> = (0..103)
        .map(|i| {
            let id = random_family_id();
            store
                .create(sample_family(id, &subject, at(10 + i % 7)))
                .expect("create");
            id
        })
        .collect();
    let live: Vec<_> = (0..20).map(|_| new_family(store, &subject)).collect();
    assert_eq!(purge(store, at(1_000), 0), 0);
    let mut total = 0;
    let mut calls = 0;
    loop {
        let n = purge(store, at(1_000), 10);
        assert!(n <= 10, "purged {n} with max 10");
        total += n;
        calls += 1;
        assert!(calls <= 20, "purge makes no progress");
        if n < 10 {
            break;
        }
    }
    assert_eq!(total, expired.len());
    for id in &expired {
        assert_eq!(store.get(id).expect("get"), None);
    }
    for id in &live {
        assert_eq!(state(store, id), NEW);
    }
}

/// Purge with nothing expired deletes nothing, and families created after a purge are purged later.
pub fn purge_with_nothing_expired_changes_nothing(store: &dyn RefreshTokenStore) {
    let subject = unique_subject();
    let a = new_family(store, &subject);
    assert_eq!(purge(store, at(0), 100), 0);
    let id = random_family_id();
    store
        .create(sample_family(id, &subject, at(5)))
        .expect("create");
    assert_eq!(purge(store, at(4), 100), 0);
    assert_eq!(purge(store, at(5), 100), 1);
    assert_eq!(state(store, &a), NEW);
}

const THREADS: usize = 8;

/// R-ROT-5: 8 threads present the same generation at once, several rounds: exactly one advances, and
/// every other gets `Unchanged` with the advanced generation and the winner's grace deadline.
pub fn concurrent_same_generation_advances_exactly_once(store: &dyn RefreshTokenStore) {
    let id = new_family(store, &unique_subject());
    for round in 0..25u32 {
        let barrier = Barrier::new(THREADS);
        let results: Vec<Advance> = thread::scope(|s| {
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        barrier.wait();
                        // Each thread proposes its own deadline, so the losers' answer shows whose won.
                        advance(store, &id, round, 1_000 + t as u64)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread"))
                .collect()
        });
        let winners: Vec<_> = results
            .iter()
            .filter_map(|r| match r {
                Advance::Advanced(s) => Some(*s),
                _ => None,
            })
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: {results:?}");
        let won = winners[0];
        assert_eq!(won.generation, round + 1);
        for r in &results {
            match r {
                Advance::Advanced(_) => {}
                Advance::Unchanged(s) => assert_eq!(*s, won, "round {round}"),
                Advance::NotFound => panic!("round {round}: family vanished"),
            }
        }
        assert_eq!(state(store, &id), won);
    }
}

/// Threads working on distinct families all advance, with no interference.
pub fn concurrent_distinct_families_all_advance(store: &dyn RefreshTokenStore) {
    let subject = unique_subject();
    let ids: Vec<Vec<FamilyId>> = (0..THREADS)
        .map(|_| (0..16).map(|_| new_family(store, &subject)).collect())
        .collect();
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for mine in &ids {
            let barrier = &barrier;
            s.spawn(move || {
                barrier.wait();
                for g in 0..10 {
                    for id in mine {
                        assert!(
                            matches!(advance(store, id, g, 10), Advance::Advanced(_)),
                            "generation {g}"
                        );
                    }
                }
            });
        }
    });
    for id in ids.iter().flatten() {
        assert_eq!(state(store, id).generation, 10);
    }
}

/// R-REV-2: once `revoke` has returned, no advance succeeds, however many are racing it.
pub fn concurrent_revoke_wins_over_later_advances(store: &dyn RefreshTokenStore) {
    let id = new_family(store, &unique_subject());
    let revoked = AtomicBool::new(false);
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (barrier, revoked) = (&barrier, &revoked);
            s.spawn(move || {
                barrier.wait();
                if t == 0 {
                    // Set however this thread ends: should the revoke fail (and this thread panic with
                    // the reason), the advancers stop too instead of waiting for it forever.
                    let _done = SetOnDrop(revoked);
                    thread::yield_now();
                    assert!(store.revoke(&id).expect("revoke"));
                    return;
                }
                loop {
                    let done = revoked.load(Ordering::SeqCst);
                    let current = state(store, &id);
                    let r = advance(store, &id, current.generation, 10);
                    if done {
                        // Revoke had returned before this advance started.
                        assert!(
                            matches!(r, Advance::Unchanged(s) if s.revoked),
                            "advance after revoke: {r:?}"
                        );
                        return;
                    }
                }
            });
        }
    });
    assert!(state(store, &id).revoked);
}

/// R-REV-3, R-REV-2: a global sign-out takes effect at one instant. Families are created and advanced
/// while `revoke_subject` runs: the families that existed when it started are all revoked and never
/// advance again; of the families each creator made one after another, the revoked ones are the first
/// few (never a later one while an earlier one stays live); one created after it returned stays live;
/// and its count is the number of families it revoked.
pub fn concurrent_revoke_subject_takes_effect_at_one_instant(store: &dyn RefreshTokenStore) {
    const EXISTING: usize = 4;
    let subject = unique_subject();
    let existing: Vec<_> = (0..EXISTING).map(|_| new_family(store, &subject)).collect();
    let revoked = AtomicBool::new(false);
    let barrier = Barrier::new(THREADS);
    // Per creator: its families in creation order, each with whether the sign-out had returned before
    // its creation started.
    let (count, created) = thread::scope(|s| {
        let revoker = s.spawn(|| {
            barrier.wait();
            let _done = SetOnDrop(&revoked);
            thread::yield_now();
            store.revoke_subject(&subject).expect("revoke_subject")
        });
        let creators: Vec<_> = (1..THREADS)
            .filter(|t| t % 2 == 0)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    let mut made = Vec::new();
                    loop {
                        let after = revoked.load(Ordering::SeqCst);
                        made.push((new_family(store, &subject), after));
                        if after {
                            return made;
                        }
                    }
                })
            })
            .collect();
        for t in (1..THREADS).filter(|t| t % 2 == 1) {
            let (barrier, revoked, existing) = (&barrier, &revoked, &existing);
            s.spawn(move || {
                barrier.wait();
                for i in (t..).map(|i| i % EXISTING) {
                    let id = &existing[i];
                    let done = revoked.load(Ordering::SeqCst);
                    let r = advance(store, id, state(store, id).generation, 10);
                    if done {
                        assert!(
                            matches!(r, Advance::Unchanged(s) if s.revoked),
                            "advance after revoke_subject: {r:?}"
                        );
                        return;
                    }
                }
            });
        }
        let count = revoker.join().expect("revoker");
        let created: Vec<Vec<(FamilyId, bool)>> = creators
            .into_iter()
            .map(|c| c.join().expect("creator"))
            .collect();
        (count, created)
    });
    for id in &existing {
        assert!(
            state(store, id).revoked,
            "a family that existed was left live"
        );
    }
    let mut revoked_count = EXISTING;
    for made in &created {
        let flags: Vec<bool> = made
            .iter()
            .map(|(id, _)| state(store, id).revoked)
            .collect();
        let live = flags.iter().position(|r| !r).unwrap_or(flags.len());
        assert!(
            flags[live..].iter().all(|r| !r),
            "of {} families created one after another, family {live} stayed live while a later one \
             was revoked",
            flags.len()
        );
        for ((_, after), is_revoked) in made.iter().zip(&flags) {
            assert!(
                !(*after && *is_revoked),
                "a family created after revoke_subject returned was revoked"
            );
        }
        revoked_count += flags.iter().filter(|r| **r).count();
    }
    assert_eq!(
        count, revoked_count,
        "revoke_subject counts what it revoked"
    );
}

/// Sets its flag when dropped, by a return or a panic alike.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// R-REF-9: devices bound concurrently: every caller sees the same single device.
pub fn concurrent_bind_device_binds_one_device(store: &dyn RefreshTokenStore) {
    let id = new_family(store, &unique_subject());
    let barrier = Barrier::new(THREADS);
    let seen: Vec<Option<String>> = thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let f = store
                        .bind_device(&id, &format!("us-east-1_{t}"))
                        .expect("bind")
                        .expect("family exists");
                    f.info.device_key.as_deref().map(str::to_owned)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert!(seen[0].is_some());
    assert!(seen.iter().all(|d| *d == seen[0]), "{seen:?}");
}

/// Expands `$callback!` with the names of every check, so the list is written once.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_checks {
    ([$($callback:tt)*] $($prefix:tt)*) => {
        $($callback)*! { $($prefix)* ;
            create_then_get_round_trips,
            read_returns_the_family_and_the_stores_time,
            get_of_unknown_family_is_none,
            create_of_existing_id_fails_and_keeps_the_original,
            advance_at_expected_generation_advances_and_sets_grace,
            advance_at_other_generation_is_unchanged,
            advance_of_revoked_family_is_unchanged_and_revoked,
            advance_of_unknown_family_is_not_found,
            advance_at_u32_max_is_unchanged,
            advance_touches_only_its_family,
            bind_device_binds_once,
            bind_device_keeps_a_device_bound_at_sign_in,
            bind_device_of_unknown_family_is_none,
            confirm_device_confirms_only_the_bound_device,
            revoke_is_idempotent_and_reports_whether_live,
            revoked_family_is_kept_until_purged,
            revoke_subject_revokes_only_that_subjects_families,
            revoke_client_revokes_only_that_clients_families,
            lookups_by_text_no_family_holds_find_nothing,
            purge_keeps_families_for_the_margin,
            purge_removes_only_expired_families,
            purge_respects_max_and_repeated_calls_purge_all,
            purge_with_nothing_expired_changes_nothing,
            concurrent_same_generation_advances_exactly_once,
            concurrent_distinct_families_all_advance,
            concurrent_revoke_wins_over_later_advances,
            concurrent_revoke_subject_takes_effect_at_one_instant,
            concurrent_bind_device_binds_one_device
        }
    };
}

/// Generates one `#[test]` per check of [`testkit`](crate::testkit); see the module docs.
#[doc(hidden)]
#[macro_export]
macro_rules! __store_conformance_each {
    (; $($check:ident),*) => {
        $(
            #[test]
            fn $check() {
                $crate::testkit::$check(&__conformance_store());
            }
        )*
    };
}

/// Generates a module `$name` with one `#[test]` per conformance check, each run against a fresh store
/// from `$factory` (a closure or function returning a store, or an `Arc` of one).
///
/// ```
/// refresh_rotation::store_conformance_tests!(in_memory, refresh_rotation::store::InMemoryRefreshTokenStore::new);
/// # fn main() {}
/// ```
///
/// See [`testkit`](crate::testkit) for what the factory must guarantee.
#[macro_export]
macro_rules! store_conformance_tests {
    ($name:ident, $factory:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn __conformance_store() -> impl $crate::store::RefreshTokenStore {
                ($factory)()
            }

            $crate::__store_conformance_checks!([$crate::__store_conformance_each]);
        }
    };
}

macro_rules! checks_table {
    (; $($check:ident),*) => {
        /// Every check, with its name, for harnesses that cannot use
        /// [`store_conformance_tests!`](crate::store_conformance_tests).
        pub const CHECKS: &[(&str, Check)] = &[$((stringify!($check), $check as Check)),*];
    };
}
crate::__store_conformance_checks!([checks_table]);

/// Runs every check, each against a fresh store from `factory`, and panics naming the first that fails.
pub fn run_all<S: RefreshTokenStore>(factory: impl Fn() -> S) {
    for (name, check) in CHECKS {
        let store = factory();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&store)));
        if let Err(cause) = outcome {
            let detail = cause
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| cause.downcast_ref::<&str>().copied())
                .unwrap_or("");
            panic!("store conformance check `{name}` failed: {detail}");
        }
    }
}
