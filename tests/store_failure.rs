//! A store that fails: the issuer answers InternalErrorException (HTTP 500) and nothing is half-applied —
//! a refresh either advanced the family and returned its successor, or changed nothing.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use refresh_rotation::clock::{ManualClock, Timestamp};
use refresh_rotation::config::RefreshTokenRotation;
use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
use refresh_rotation::error::StoreError;
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::{
    Advance, Family, FamilyId, FamilyRead, InMemoryRefreshTokenStore, PurgeCutoff,
    RefreshTokenStore,
};
use refresh_rotation::ClientId;
use refresh_rotation::{
    AppClientConfig, ClientRegistry, NewClientSecret, RefreshRequest, RefreshTokenKey,
    RefreshTokenKeys, SignInRequest, TokenIssuer,
};

const NONE: u8 = 0;
const GET: u8 = 1;
const ADVANCE: u8 = 2;
const CREATE: u8 = 3;
const REVOKE: u8 = 4;

/// The in-memory store, with one operation made to fail on demand.
#[derive(Default)]
struct Flaky {
    inner: InMemoryRefreshTokenStore,
    failing: AtomicU8,
}

impl Flaky {
    fn fail(&self, op: u8) -> Result<(), StoreError> {
        if self.failing.load(Ordering::SeqCst) == op {
            Err(StoreError::Unavailable("connection reset".into()))
        } else {
            Ok(())
        }
    }
}

impl RefreshTokenStore for Flaky {
    fn create(&self, family: Family) -> Result<(), StoreError> {
        self.fail(CREATE)?;
        self.inner.create(family)
    }
    fn read(&self, id: &FamilyId) -> Result<FamilyRead, StoreError> {
        self.fail(GET)?;
        self.inner.read(id)
    }
    fn advance(
        &self,
        id: &FamilyId,
        expected: u32,
        deadline: Timestamp,
        key_id: u32,
    ) -> Result<Advance, StoreError> {
        self.fail(ADVANCE)?;
        self.inner.advance(id, expected, deadline, key_id)
    }
    fn bind_device(&self, id: &FamilyId, key: &str) -> Result<Option<Family>, StoreError> {
        self.inner.bind_device(id, key)
    }
    fn confirm_device(&self, id: &FamilyId, key: &str) -> Result<bool, StoreError> {
        self.inner.confirm_device(id, key)
    }
    fn revoke_client(&self, client_id: &str) -> Result<usize, StoreError> {
        self.fail(REVOKE)?;
        self.inner.revoke_client(client_id)
    }
    fn revoke(&self, id: &FamilyId) -> Result<bool, StoreError> {
        self.fail(REVOKE)?;
        self.inner.revoke(id)
    }
    fn revoke_subject(&self, subject: &str) -> Result<usize, StoreError> {
        self.fail(REVOKE)?;
        self.inner.revoke_subject(subject)
    }
    fn purge_expired(&self, cutoff: PurgeCutoff, max: usize) -> Result<usize, StoreError> {
        self.inner.purge_expired(cutoff, max)
    }
}

#[test]
fn store_failures_are_internal_errors_and_leave_the_family_as_it_was() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(
        1_700_000_000,
    )));
    let registry = Arc::new(ClientRegistry::new(
        "us-east-1_Flaky",
        clock.clone(),
        Arc::new(SystemRandom::new()),
    ));
    let client = registry
        .create_client(
            AppClientConfig::builder("app")
                .refresh_token_rotation(RefreshTokenRotation::enabled(0).unwrap()),
            NewClientSecret::None,
        )
        .unwrap();
    let id = client.client_id().to_string();
    let users = Arc::new(InMemoryUserDirectory::new());
    users.put(UserRecord::new("s-1", "alice")).unwrap();
    let store = Arc::new(Flaky::default());
    let issuer = TokenIssuer::builder(
        "us-east-1",
        TokenSigner::new(Arc::new(
            SigningKey::generate(Algorithm::EdDSA, "k").unwrap(),
        )),
        RefreshTokenKeys::new(RefreshTokenKey::new(1, &[7; 32]).unwrap()),
        registry,
        store.clone(),
        users,
    )
    .clock(clock)
    .build();

    // Sign-in whose create fails: a 500 and no family.
    store.failing.store(CREATE, Ordering::SeqCst);
    let e = issuer
        .sign_in(&SignInRequest::new(ClientId::parse(&id).unwrap(), "alice"))
        .unwrap_err();
    assert_eq!(
        (e.exception_name(), e.http_status()),
        ("InternalErrorException", 500)
    );
    assert!(store.inner.is_empty());
    store.failing.store(NONE, Ordering::SeqCst);

    let t0 = issuer
        .sign_in(&SignInRequest::new(ClientId::parse(&id).unwrap(), "alice"))
        .unwrap()
        .refresh_token
        .unwrap();
    for op in [GET, ADVANCE] {
        store.failing.store(op, Ordering::SeqCst);
        let e = issuer
            .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, ClientId::parse(&id).unwrap()))
            .unwrap_err();
        assert_eq!(e.http_status(), 500, "op {op}");
        assert!(
            !e.message().contains("connection reset"),
            "no backend detail: {e}"
        );
        store.failing.store(NONE, Ordering::SeqCst);
    }
    // Nothing was applied: with grace 0, t0 is still the live token and rotates now.
    let t1 = issuer
        .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, ClientId::parse(&id).unwrap()))
        .unwrap()
        .refresh_token
        .unwrap();
    // A revoke that fails leaves the session usable, and can be retried.
    store.failing.store(REVOKE, Ordering::SeqCst);
    assert_eq!(
        issuer
            .revoke_token(&t1, ClientId::parse(&id).unwrap(), None)
            .unwrap_err()
            .http_status(),
        500
    );
    store.failing.store(NONE, Ordering::SeqCst);
    let t2 = issuer
        .get_tokens_from_refresh_token(&RefreshRequest::new(&t1, ClientId::parse(&id).unwrap()))
        .unwrap()
        .refresh_token
        .unwrap();
    issuer
        .revoke_token(&t2, ClientId::parse(&id).unwrap(), None)
        .unwrap();
    assert_eq!(
        issuer
            .get_tokens_from_refresh_token(&RefreshRequest::new(&t2, ClientId::parse(&id).unwrap()))
            .unwrap_err()
            .message(),
        "Refresh Token has been revoked"
    );
}
