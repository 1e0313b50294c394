//! The engine against collaborators that answer for something else than what they were asked: a store
//! returning another family (a misrouted query, a cache keyed wrongly), a directory returning another
//! user. Such an answer is refused as the service's fault; it never becomes another family's revocation,
//! another user's introspection or another user's tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use common::{Fixture, Opts};
use refresh_rotation::clock::Timestamp;
use refresh_rotation::engine::Introspection;
use refresh_rotation::error::StoreError;
use refresh_rotation::events::SecurityEvent;
use refresh_rotation::store::{
    Advance, Family, FamilyId, FamilyRead, InMemoryRefreshTokenStore, PurgeCutoff,
    RefreshTokenStore,
};
use refresh_rotation::{Error, RefreshToken};

/// A store that answers a read of family `from` with family `to` (a misrouted query, a cache keyed
/// wrongly): every other call goes to the in-memory store as asked.
struct Misdirected {
    inner: Arc<InMemoryRefreshTokenStore>,
    from: FamilyId,
    to: FamilyId,
}

impl RefreshTokenStore for Misdirected {
    fn create(&self, family: Family) -> Result<(), StoreError> {
        self.inner.create(family)
    }
    fn read(&self, id: &FamilyId) -> Result<FamilyRead, StoreError> {
        let id = if *id == self.from { &self.to } else { id };
        self.inner.read(id)
    }
    fn advance(
        &self,
        id: &FamilyId,
        expected: u32,
        deadline: Timestamp,
        key_id: u32,
    ) -> Result<Advance, StoreError> {
        self.inner.advance(id, expected, deadline, key_id)
    }
    fn bind_device(&self, id: &FamilyId, key: &str) -> Result<Option<Family>, StoreError> {
        self.inner.bind_device(id, key)
    }
    fn confirm_device(&self, id: &FamilyId, key: &str) -> Result<bool, StoreError> {
        self.inner.confirm_device(id, key)
    }
    fn revoke(&self, id: &FamilyId) -> Result<bool, StoreError> {
        self.inner.revoke(id)
    }
    fn revoke_subject(&self, s: &str) -> Result<usize, StoreError> {
        self.inner.revoke_subject(s)
    }
    fn revoke_client(&self, c: &str) -> Result<usize, StoreError> {
        self.inner.revoke_client(c)
    }
    fn purge_expired(&self, cutoff: PurgeCutoff, max: usize) -> Result<usize, StoreError> {
        self.inner.purge_expired(cutoff, max)
    }
}

fn family_of(f: &Fixture, token: &str) -> FamilyId {
    f.refresh_keys().decode(token).unwrap().family()
}

/// RevokeToken of alice's token, against a store that answers the read of her family with bob's:
/// the engine must refuse (as a refresh does: "store answered another family than the one asked
/// for"), not revoke bob's family and report alice's as revoked.
#[test]
fn r_rev_2_revoke_token_refuses_a_store_answer_about_another_family() {
    let f = Fixture::new(Opts::rotating(10));
    let alice = f.sign_in_as("alice");
    let bob = f.sign_in_as("bob");
    let (fa, fb) = (family_of(&f, &alice), family_of(&f, &bob));
    let events = Arc::new(Mutex::new(Vec::<SecurityEvent>::new()));
    let sink = events.clone();
    let issuer = refresh_rotation::TokenIssuer::builder(
        "us-east-1",
        (*f.issuer.signer()).clone(),
        f.refresh_keys(),
        f.registry.clone(),
        Arc::new(Misdirected {
            inner: f.store.clone(),
            from: fa,
            to: fb,
        }),
        f.directory.clone(),
    )
    .clock(f.clock.clone())
    .security_events(Arc::new(move |e: &SecurityEvent| {
        sink.lock().unwrap().push(e.clone())
    }))
    .build();
    let answer = issuer.revoke_token(&RefreshToken::new(alice.clone()), f.id(), f.presented());
    let bob_revoked = f.store.get(&fb).unwrap().unwrap().state.revoked;
    let alice_revoked = f.store.get(&fa).unwrap().unwrap().state.revoked;
    println!(
        "answer {answer:?}, bob revoked {bob_revoked}, alice revoked {alice_revoked}, events {:?}",
        events.lock().unwrap()
    );
    assert!(
        !bob_revoked,
        "bob's family was revoked by a RevokeToken of alice's token (answer {answer:?}, events {:?})",
        events.lock().unwrap()
    );
    assert!(matches!(answer, Err(Error::Internal { .. })), "{answer:?}");
}

/// Introspection of alice's refresh token against a store that answers the read of her family with
/// bob's: the answer must not be "active" for bob.
#[test]
fn r_oauth_7_introspection_refuses_a_store_answer_about_another_family() {
    let f = Fixture::new(Opts::rotating(10));
    let alice = f.sign_in_as("alice");
    let bob = f.sign_in_as("bob");
    let (fa, fb) = (family_of(&f, &alice), family_of(&f, &bob));
    f.revoke(&alice).unwrap(); // alice's token is no longer active
    let issuer = f.issuer_over(
        Arc::new(Misdirected {
            inner: f.store.clone(),
            from: fa,
            to: fb,
        }),
        f.clock.clone(),
    );
    match issuer.introspect(&alice, f.id(), f.presented()) {
        Ok(Introspection::Active(t)) => panic!(
            "alice's revoked refresh token introspected active, as user {:?} (sub {:?})",
            t.username, t.subject
        ),
        Ok(Introspection::Inactive) | Err(Error::Internal { .. }) => {}
        Err(e) => panic!("{e:?}"),
    }
}

/// A directory that answers a lookup of alice's `sub` with bob (a misrouted query).
struct WrongUser(Arc<refresh_rotation::directory::InMemoryUserDirectory>);

impl refresh_rotation::directory::UserDirectory for WrongUser {
    fn user_by_subject(
        &self,
        _subject: &str,
    ) -> Result<Option<Arc<refresh_rotation::directory::UserRecord>>, Error> {
        self.0.user_by_username("bob")
    }
    fn user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<Arc<refresh_rotation::directory::UserRecord>>, Error> {
        self.0.user_by_username(username)
    }
}

/// A refresh of alice's family must not mint tokens whose `sub` is bob's: the engine refuses a user
/// the store read with the family unless its `sub` is the family's (refresh.rs:284), but takes the
/// directory's answer without that check.
#[test]
fn r_ref_12_refresh_refuses_a_directory_answer_about_another_user() {
    let f = Fixture::new(Opts::rotating(10));
    let alice = f.sign_in_as("alice");
    let issuer = refresh_rotation::TokenIssuer::builder(
        "us-east-1",
        (*f.issuer.signer()).clone(),
        f.refresh_keys(),
        f.registry.clone(),
        f.store.clone(),
        Arc::new(WrongUser(f.directory.clone())),
    )
    .clock(f.clock.clone())
    .build();
    let t = RefreshToken::new(alice);
    let answer =
        issuer.get_tokens_from_refresh_token(&refresh_rotation::RefreshRequest::new(&t, f.id()));
    match &answer {
        Ok(tokens) => {
            let sub = common::claims_of(&tokens.id_token)["sub"].clone();
            panic!("alice's refresh token minted an ID token for sub {sub}");
        }
        Err(e) => assert!(matches!(e, Error::Internal { .. }), "{e:?}"),
    }
    // Nothing was written: alice's token is still the live one.
    let again = f
        .issuer
        .get_tokens_from_refresh_token(&refresh_rotation::RefreshRequest::new(&t, f.id()));
    assert!(again.is_ok(), "{again:?}");
}
