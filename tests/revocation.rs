//! RevokeToken, global sign-out and purging: SPEC section 7 (R-REV-1..5).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fixture, Opts};
use refresh_rotation::store::PurgeCutoff;
use refresh_rotation::ClientId;
use refresh_rotation::{Error, RefreshToken};

#[test]
fn r_rev_1_revoke_token_error_cases() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = f.sign_in();
    let tok = RefreshToken::new(t0.clone());
    // Unknown client.
    let e = f
        .issuer
        .revoke_token(
            &tok,
            ClientId::parse("abcdefghijklmnopqrstuvwxyz").unwrap(),
            None,
        )
        .unwrap_err();
    assert_eq!(e.exception_name(), "ResourceNotFoundException");
    // Something that is not one of our refresh tokens: an access token.
    let access = RefreshToken::new(f.sign_in_full().access_token);
    let e = f.issuer.revoke_token(&access, f.id(), None).unwrap_err();
    assert_eq!(e.exception_name(), "UnsupportedTokenTypeException");
    // A refresh token of another client.
    let other = f.create_client(Opts::rotating(10));
    let e = f
        .issuer
        .revoke_token(&tok, ClientId::parse(&other).unwrap(), None)
        .unwrap_err();
    assert_eq!(e.exception_name(), "UnauthorizedException");
    // Wrong MAC / unknown family / already revoked: success, nothing changes (RFC 7009 §2.2).
    let forged = f.token_with_wrong_mac(&t0);
    f.issuer
        .revoke_token(&RefreshToken::new(forged), f.id(), None)
        .unwrap();
    f.issuer
        .revoke_token(
            &RefreshToken::new(f.token_of_unknown_family()),
            f.id(),
            None,
        )
        .unwrap();
    // A generation the family never reached is no token of it (R-FAM-4): success, nothing revoked.
    f.revoke(&f.token_of_generation(&t0, 5)).unwrap();
    assert!(f.refresh(&t0).is_ok(), "nothing was revoked by the no-ops");
}

#[test]
fn r_rev_1_revocation_disabled_client() {
    let f = Fixture::new(Opts::rotating(10).revocation_disabled());
    let t0 = f.sign_in();
    let e = f.revoke(&t0).unwrap_err();
    assert_eq!(e.exception_name(), "UnsupportedOperationException");
    assert!(f.refresh(&t0).is_ok());
}

#[test]
fn r_rev_1_secret_rules_apply_to_revoke() {
    let f = Fixture::new(Opts::rotating(10).with_secret());
    let t0 = RefreshToken::new(f.sign_in());
    let e = f.issuer.revoke_token(&t0, f.id(), None).unwrap_err();
    assert_eq!(
        e.message(),
        format!(
            "Client {} is configured for secret but secret was not received",
            f.client_id
        )
    );
    f.issuer.revoke_token(&t0, f.id(), f.presented()).unwrap();
}

#[test]
fn r_rev_2_revoking_any_generation_revokes_the_family_and_its_jwts() {
    let f = Fixture::new(Opts::rotating(60));
    let signed = f.sign_in_full();
    let t0 = signed.refresh_token.clone().unwrap();
    let r1 = f.refresh(&t0).unwrap();
    let t1 = r1.refresh_token.clone().unwrap();
    let t2 = f.refresh(&t1).unwrap().refresh_token.unwrap();
    let verifier = f.verifier();
    assert!(f.verify_access(&verifier, &r1.access_token).is_ok());
    // Revoke with the oldest generation.
    f.revoke(&t0).unwrap();
    for t in [&t0, &t1, &t2] {
        assert_eq!(f.refresh(t).unwrap_err(), Error::RefreshTokenRevoked);
    }
    // Every JWT of the family is refused from now on.
    assert!(f.verify_access(&verifier, &r1.access_token).is_err());
    assert!(f.verify_access(&verifier, &signed.access_token).is_err());
    assert!(f.verify_id(&verifier, &signed.id_token).is_err());
    // Revoking again is a no-op success.
    f.revoke(&t2).unwrap();
}

#[test]
fn r_rev_3_global_sign_out_revokes_every_family_of_the_user_only() {
    let f = Fixture::new(Opts::rotating(10));
    let a1 = f.sign_in();
    let a2 = f.sign_in();
    let bob = f.sign_in_as("bob");
    assert_eq!(f.issuer.global_sign_out_username("alice").unwrap(), 2);
    assert_eq!(f.refresh(&a1).unwrap_err(), Error::RefreshTokenRevoked);
    assert_eq!(f.refresh(&a2).unwrap_err(), Error::RefreshTokenRevoked);
    assert!(f.refresh(&bob).is_ok());
    assert_eq!(
        f.issuer
            .global_sign_out_username("nobody")
            .unwrap_err()
            .exception_name(),
        "UserNotFoundException"
    );
}

#[test]
fn r_rev_4_revoked_families_keep_their_error_until_expiry_then_are_purged() {
    let f = Fixture::new(Opts::rotating(10).refresh_validity_minutes(60));
    let t0 = f.sign_in();
    f.revoke(&t0).unwrap();
    assert_eq!(f.issuer.purge_expired(100).unwrap(), 0, "kept until expiry");
    f.clock.advance(3599);
    assert_eq!(f.refresh(&t0).unwrap_err(), Error::RefreshTokenRevoked);
    f.clock.advance(1);
    // Expired, and kept for one more day so the revocation of its JWTs stays visible.
    assert_eq!(f.issuer.purge_expired(100).unwrap(), 0);
    f.clock.advance(PurgeCutoff::MARGIN_SECS);
    assert_eq!(f.issuer.purge_expired(100).unwrap(), 1);
    assert_eq!(f.refresh(&t0).unwrap_err(), Error::InvalidRefreshToken);
}

#[test]
fn r_rev_2_a_revoked_jwt_stays_revoked_until_it_expires_even_past_the_familys_expiry() {
    // Refresh validity 60 minutes, access tokens 1 hour: a token minted near the family's end
    // outlives the family.
    let f = Fixture::new(Opts::rotating(10).refresh_validity_minutes(60));
    let t0 = f.sign_in();
    f.clock.advance(3000);
    let late = f.refresh(&t0).unwrap();
    f.revoke(&t0).unwrap();
    f.clock.advance(700); // the family expired 100 s ago; the access token lives 2900 s more
    f.issuer.purge_expired(usize::MAX).unwrap();
    let v = f.verifier();
    assert!(
        f.verify_access(&v, &late.access_token).is_err(),
        "still revoked"
    );
    assert!(f.verify_id(&v, &late.id_token).is_err());
}

#[test]
fn r_rev_5_purge_is_bounded_and_never_touches_live_families() {
    let f = Fixture::new(Opts::rotating(10).refresh_validity_minutes(60));
    let old: Vec<String> = (0..25).map(|_| f.sign_in()).collect();
    f.clock.advance(1800);
    let live = f.sign_in();
    f.clock.advance(1800 + PurgeCutoff::MARGIN_SECS);
    // `live` expired 1800 s ago: inside the purge delay, so it is not purged either.
    assert_eq!(f.issuer.purge_expired(10).unwrap(), 10);
    assert_eq!(f.issuer.purge_expired(10).unwrap(), 10);
    assert_eq!(f.issuer.purge_expired(10).unwrap(), 5);
    assert_eq!(f.issuer.purge_expired(10).unwrap(), 0);
    assert_eq!(f.refresh(&live).unwrap_err(), Error::RefreshTokenExpired);
    for t in &old {
        assert_eq!(f.refresh(t).unwrap_err(), Error::InvalidRefreshToken);
    }
}

#[test]
fn r_cli_6_deleting_a_client_makes_its_refresh_tokens_unusable() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = f.sign_in();
    f.delete_client();
    assert_eq!(
        f.refresh(&t0).unwrap_err().exception_name(),
        "ResourceNotFoundException"
    );
}

#[test]
fn r_rev_6_no_public_purge_path_un_revokes_a_jwt() {
    // Access tokens live a day, as long as the family: a token minted a second before the family
    // expires outlives it by a day, and a verifier may allow 300 s of leeway on top.
    let f = Fixture::new(Opts::rotating(10).refresh_validity_minutes(24 * 60));
    f.registry
        .update_client_with(&f.client_id, |b| {
            b.access_token_validity(24, refresh_rotation::config::TimeUnit::Hours)
                .id_token_validity(24, refresh_rotation::config::TimeUnit::Hours)
                .refresh_token_validity(24 * 60, refresh_rotation::config::TimeUnit::Minutes)
        })
        .unwrap();
    let t0 = f.sign_in();
    f.clock.advance(86_399);
    let late = f.refresh(&t0).unwrap();
    f.revoke(&t0).unwrap();
    let v = f
        .verifier()
        .with_leeway(refresh_rotation::jwt::MAX_LEEWAY_SECS);
    // The last instant the access token verifies: exp + leeway - 1.
    f.clock
        .advance(86_400 + refresh_rotation::jwt::MAX_LEEWAY_SECS - 1);
    // Purge through every public path, as documented: the issuer, and the store with the only cutoff
    // there is.
    assert_eq!(f.issuer.purge_expired(usize::MAX).unwrap(), 0);
    let now = refresh_rotation::clock::Clock::now(&*f.clock);
    use refresh_rotation::store::RefreshTokenStore;
    let cutoff = PurgeCutoff::at(now).unwrap();
    assert_eq!(f.store.purge_expired(cutoff, usize::MAX).unwrap(), 0);
    let e = f.verify_access(&v, &late.access_token).unwrap_err();
    assert!(e.message().contains("revoked"), "{e:?}");
    // One second later the token is expired on its own; the family goes once the margin has passed
    // since its own expiry, a second after that.
    f.clock.advance(1);
    let e = f.verify_access(&v, &late.access_token).unwrap_err();
    assert!(e.message().contains("expired"), "{e:?}");
    assert_eq!(f.issuer.purge_expired(usize::MAX).unwrap(), 0);
    f.clock.advance(1);
    assert_eq!(f.issuer.purge_expired(usize::MAX).unwrap(), 1);
}

#[test]
fn r_rev_7_deleting_a_client_revokes_its_families_and_their_jwts() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = f.sign_in();
    let r = f.refresh(&t0).unwrap();
    let other_client = f
        .registry
        .create_client(
            refresh_rotation::AppClientConfig::builder("other"),
            refresh_rotation::NewClientSecret::None,
        )
        .unwrap();
    let other = f
        .issuer
        .sign_in(&refresh_rotation::SignInRequest::new(
            ClientId::parse(other_client.client_id()).unwrap(),
            "alice",
        ))
        .unwrap();
    let v = f.verifier();
    assert!(f.verify_access(&v, &r.access_token).is_ok());
    f.registry.delete_client(&f.client_id).unwrap();
    // R-CLI-6: its refresh tokens are unusable.
    assert_eq!(
        f.refresh(r.refresh_token.as_deref().unwrap())
            .unwrap_err()
            .exception_name(),
        "ResourceNotFoundException"
    );
    // R-REV-7: its outstanding JWTs fail store-backed verification.
    let e = f.verify_access(&v, &r.access_token).unwrap_err();
    assert!(e.message().contains("revoked"), "{e:?}");
    assert!(f.verify_id(&v, &r.id_token).is_err());
    // Another client's session is untouched.
    let claims = v
        .verify_access_token(
            &other.access_token,
            other_client.client_id(),
            refresh_rotation::clock::Clock::now(&*f.clock),
            &*f.store,
        )
        .unwrap();
    assert_eq!(claims.sub(), f.subject);
}

#[test]
fn r_rev_8_global_sign_out_among_many_families_revokes_exactly_the_users() {
    // The in-memory store answers from its subject index (its unit tests prove no scan happens); here,
    // the result among many families of other users.
    let f = Fixture::new(Opts::rotating(10));
    let alice: Vec<String> = (0..3).map(|_| f.sign_in()).collect();
    let bob: Vec<String> = (0..200).map(|_| f.sign_in_as("bob")).collect();
    assert_eq!(f.issuer.global_sign_out(&f.subject).unwrap(), 3);
    for t in &alice {
        assert_eq!(f.refresh(t).unwrap_err(), Error::RefreshTokenRevoked);
    }
    for t in &bob {
        assert!(f.refresh(t).is_ok());
    }
    assert_eq!(f.issuer.global_sign_out(&f.subject).unwrap(), 0);
}

/// AdminUserGlobalSignOut's Username is UsernameType (1..=128 characters, no white space), checked as
/// sign-in checks it, before the directory is asked (R-SAFE-1): an empty, spaced or oversized name is
/// `InvalidParameterException`, not `UserNotFoundException`.
#[test]
fn r_safe_1_global_sign_out_checks_the_username_shape_first() {
    let f = Fixture::new(Opts::rotating(0));
    for bad in [String::new(), "a b".to_owned(), "u".repeat(1 << 20)] {
        let e = f.issuer.global_sign_out_username(&bad).unwrap_err();
        assert_eq!(
            e.exception_name(),
            "InvalidParameterException",
            "global sign-out of a {}-byte username: {e}",
            bad.len()
        );
    }
    // A well-formed name that no user has is still UserNotFoundException.
    let e = f.issuer.global_sign_out_username("nobody").unwrap_err();
    assert_eq!(e.exception_name(), "UserNotFoundException");
}

/// R-CFG-2 (a refusal names the member by its wire name): a malformed token is refused under
/// RevokeToken's member `Token`, both by the wire adapter's shape check and by the engine's, not under
/// GetTokensFromRefreshToken's `RefreshToken`.
#[test]
fn r_cfg_2_revoke_token_names_its_token_member() {
    use refresh_rotation::wire::{self, RevokeTokenRequest};
    let f = Fixture::new(Opts::rotating(0));
    let body = serde_json::json!({"Token": "a b", "ClientId": f.client_id}).to_string();
    let parsed = wire::from_json::<RevokeTokenRequest>(body.as_bytes()).unwrap();
    let e = parsed.into_call().unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert!(e.message().contains("at 'Token'"), "{}", e.message());
    let e = f
        .issuer
        .revoke_token(
            &RefreshToken::new("a b"),
            ClientId::parse(&f.client_id).unwrap(),
            None,
        )
        .unwrap_err();
    assert!(e.message().contains("at 'Token'"), "{}", e.message());
    assert!(!e.message().contains("RefreshToken"), "{}", e.message());
}

/// R-REV-1: RevokeAssociatedSessions takes either value of the model's enum, `NONE` or `LINKED`;
/// anything else is refused.
#[test]
fn r_rev_1_revoke_associated_sessions_takes_none_and_linked() {
    use refresh_rotation::wire::{self, RevokeCall, RevokeTokenRequest};
    let parse = |v: &str| -> Result<RevokeCall, Error> {
        let body =
            serde_json::json!({"Token": "abc", "ClientId": "c1", "RevokeAssociatedSessions": v})
                .to_string();
        wire::from_json::<RevokeTokenRequest>(body.as_bytes())?.into_call()
    };
    assert!(parse("NONE").is_ok());
    assert!(parse("LINKED").is_ok());
    for bad in ["ALL", "none", ""] {
        let e = parse(bad).unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException", "{bad:?}");
    }
}
