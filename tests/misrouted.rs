//! The engine against collaborators that answer for something else than what they were asked: a store
//! returning another family (a misrouted query, a cache keyed wrongly), a directory returning another
//! user. Such an answer is refused as the service's fault; it never becomes another family's revocation,
//! another user's introspection or another user's tokens.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{Fixture, Intercepted, Opts};
use refresh_rotation::engine::Introspection;
use refresh_rotation::store::{FamilyId, InMemoryRefreshTokenStore, RefreshTokenStore};
use refresh_rotation::{Error, RefreshToken};

fn family_of(f: &Fixture, token: &str) -> FamilyId {
    f.refresh_keys().decode(token).unwrap().family()
}

/// `f`'s store, except that a read of the family of token `from` answers the family of token `to` (a
/// misrouted query, a cache keyed wrongly).
fn misrouted(f: &Fixture, from: &str, to: &str) -> Arc<dyn RefreshTokenStore> {
    let (from, to) = (family_of(f, from), family_of(f, to));
    Arc::new(Intercepted::on_read(
        f.store.clone(),
        move |s: &InMemoryRefreshTokenStore, id: &FamilyId| {
            s.read(if *id == from { &to } else { id })
        },
    ))
}

/// RevokeToken of alice's token, against a store that answers the read of her family with bob's: the
/// engine refuses (as a refresh does: "store answered another family than the one asked for"), and
/// neither revokes bob's family nor reports alice's as revoked.
#[test]
fn r_rev_2_revoke_token_refuses_a_store_answer_about_another_family() {
    let f = Fixture::new(Opts::rotating(10));
    let alice = f.sign_in_as("alice");
    let bob = f.sign_in_as("bob");
    let issuer = f.issuer_over(misrouted(&f, &alice, &bob), f.clock.clone());
    let answer = issuer.revoke_token(&RefreshToken::new(alice.clone()), f.id(), f.presented());
    let bob_revoked = f
        .store
        .get(&family_of(&f, &bob))
        .unwrap()
        .unwrap()
        .state
        .revoked;
    assert!(
        !bob_revoked,
        "bob's family was revoked by a RevokeToken of alice's token (answer {answer:?})"
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
    f.revoke(&alice).unwrap(); // alice's token is no longer active
    let issuer = f.issuer_over(misrouted(&f, &alice, &bob), f.clock.clone());
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

/// A refresh of alice's family does not mint tokens whose `sub` is bob's: a directory answer of
/// another `sub` is refused, as a user the store read with the family is.
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
