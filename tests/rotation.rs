//! Rotation and the grace window: one scenario per rule of SPEC section 6 (R-ROT-1..8).

mod common;

use common::{Fixture, Opts};
use refresh_rotation::{Error, ReusePolicy};

#[test]
fn r_rot_1_first_use_advances_and_returns_a_new_token() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = f.sign_in();
    let r = f.refresh(&t0).unwrap();
    let t1 = r
        .refresh_token
        .clone()
        .expect("rotation returns a refresh token");
    assert_ne!(t1, t0);
    assert_eq!(r.token_type, "Bearer");
    assert_eq!(r.expires_in, 3600);
    // The successor works, and advances again.
    let t2 = f.refresh(&t1).unwrap().refresh_token.unwrap();
    assert_ne!(t2, t1);
}

#[test]
fn r_rot_1_with_zero_grace_the_presented_token_is_invalid_at_once() {
    let f = Fixture::new(Opts::rotating(0));
    let t0 = f.sign_in();
    f.refresh(&t0).unwrap();
    assert_eq!(f.refresh(&t0).unwrap_err(), Error::RefreshTokenReused);
}

#[test]
fn r_rot_2_retry_in_grace_returns_same_successor() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = f.sign_in();
    let first = f.refresh(&t0).unwrap();
    f.clock.advance(9);
    let retry = f.refresh(&t0).unwrap();
    assert_eq!(
        retry.refresh_token, first.refresh_token,
        "same successor (R-FAM-3)"
    );
    assert_ne!(retry.access_token, first.access_token, "fresh access token");
    assert_ne!(retry.id_token, first.id_token, "fresh ID token");
    // The family did not advance: the successor is still the live token.
    let t1 = first.refresh_token.unwrap();
    assert!(f.refresh(&t1).unwrap().refresh_token.is_some());
}

#[test]
fn r_rot_2_retry_at_the_deadline_is_refused() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = f.sign_in();
    f.refresh(&t0).unwrap();
    f.clock.advance(10); // now == d: the window is `now < d`
    assert_eq!(f.refresh(&t0).unwrap_err(), Error::RefreshTokenReused);
}

#[test]
fn r_rot_3_using_the_successor_closes_the_window_for_the_old_token() {
    let f = Fixture::new(Opts::rotating(60));
    let t0 = f.sign_in();
    let t1 = f.refresh(&t0).unwrap().refresh_token.unwrap();
    let _t2 = f.refresh(&t1).unwrap().refresh_token.unwrap();
    // Still inside t0's 60-second window by the clock, but two generations behind now.
    assert_eq!(f.refresh(&t0).unwrap_err(), Error::RefreshTokenReused);
}

#[test]
fn r_rot_4_reuse_after_the_window_is_refused_and_reject_policy_changes_nothing() {
    let f = Fixture::new(Opts::rotating(5));
    let t0 = f.sign_in();
    let t1 = f.refresh(&t0).unwrap().refresh_token.unwrap();
    f.clock.advance(6);
    let e = f.refresh(&t0).unwrap_err();
    assert_eq!(e, Error::RefreshTokenReused);
    assert_eq!(e.exception_name(), "RefreshTokenReuseException");
    assert_eq!(
        e.message(),
        "Refresh token has been invalidated by rotation."
    );
    // Reject (Cognito parity): the live token keeps working.
    assert!(f.refresh(&t1).is_ok());
}

#[test]
fn r_rot_4_revoke_family_policy_signs_out_thief_and_victim() {
    let f = Fixture::new(Opts::rotating(5).reuse_policy(ReusePolicy::RevokeFamily));
    let t0 = f.sign_in();
    let t1 = f.refresh(&t0).unwrap().refresh_token.unwrap();
    f.clock.advance(6);
    assert_eq!(f.refresh(&t0).unwrap_err(), Error::RefreshTokenReused);
    assert_eq!(f.refresh(&t1).unwrap_err(), Error::RefreshTokenRevoked);
}

#[test]
fn r_rot_5_concurrent_presentations_advance_at_most_once() {
    for grace in [0u8, 30] {
        let f = Fixture::new(Opts::rotating(grace));
        let t0 = f.sign_in();
        let results = f.refresh_concurrently(&t0, 8);
        let successes: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|r| r.refresh_token.clone().unwrap())
            .collect();
        assert!(!successes.is_empty(), "one request wins");
        assert!(
            successes.windows(2).all(|w| w[0] == w[1]),
            "every success carries the one successor"
        );
        for r in &results {
            match r {
                Ok(_) => {}
                Err(e) => {
                    assert_eq!(grace, 0, "with grace open every loser is a retry: {e:?}");
                    assert_eq!(*e, Error::RefreshTokenReused);
                }
            }
        }
        if grace == 0 {
            assert_eq!(successes.len(), 1, "grace 0: exactly one winner");
        } else {
            assert_eq!(
                successes.len(),
                8,
                "grace open: every loser answered as a retry"
            );
        }
        // The family advanced exactly once: the successor is generation 1 and is live.
        assert_eq!(f.generation_of(&t0), 1);
    }
}

#[test]
fn r_rot_6_disabled_rotation_returns_no_refresh_token_and_keeps_the_token_valid() {
    let f = Fixture::new(Opts::non_rotating());
    let t0 = f.sign_in();
    for _ in 0..3 {
        let r = f.refresh(&t0).unwrap();
        assert!(r.refresh_token.is_none());
        f.clock.advance(3600);
    }
    assert_eq!(f.generation_of(&t0), 0);
}

#[test]
fn r_rot_7_token_rotated_out_while_rotation_was_on_is_reuse_after_disabling() {
    let f = Fixture::new(Opts::rotating(60));
    let t0 = f.sign_in();
    let t1 = f.refresh(&t0).unwrap().refresh_token.unwrap();
    f.set_rotation(None);
    assert_eq!(f.refresh(&t0).unwrap_err(), Error::RefreshTokenReused);
    assert!(f.refresh(&t1).unwrap().refresh_token.is_none());
}

#[test]
fn r_rot_8_legacy_refresh_flow() {
    // Rotation disabled, ALLOW_REFRESH_TOKEN_AUTH present: behaves as R-ROT-6.
    let f = Fixture::new(Opts::non_rotating());
    let t0 = f.sign_in();
    let r = f.legacy_refresh(&t0).unwrap();
    assert!(r.refresh_token.is_none());
    // Rotation enabled: refused with a pointer to GetTokensFromRefreshToken.
    let f = Fixture::new(Opts::rotating(10));
    let t0 = f.sign_in();
    let e = f.legacy_refresh(&t0).unwrap_err();
    assert_eq!(e.exception_name(), "NotAuthorizedException");
    assert!(e.message().contains("GetTokensFromRefreshToken"), "{e}");
    // Without ALLOW_REFRESH_TOKEN_AUTH the flow is not enabled.
    let f = Fixture::new(Opts::non_rotating().without_refresh_flow());
    let t0 = f.sign_in();
    let e = f.legacy_refresh(&t0).unwrap_err();
    assert_eq!(e.exception_name(), "NotAuthorizedException");
}

#[test]
fn r_cli_8_grace_change_applies_to_the_next_refresh() {
    let f = Fixture::new(Opts::rotating(0));
    let t0 = f.sign_in();
    let t1 = f.refresh(&t0).unwrap().refresh_token.unwrap();
    f.set_rotation(Some(30));
    // The deadline of t0 was fixed when it was rotated (grace 0 then).
    assert_eq!(f.refresh(&t0).unwrap_err(), Error::RefreshTokenReused);
    // The next rotation uses the new grace.
    let t2 = f.refresh(&t1).unwrap().refresh_token.unwrap();
    f.clock.advance(20);
    assert_eq!(f.refresh(&t1).unwrap().refresh_token.unwrap(), t2);
}

#[test]
fn r_rot_2_retry_after_a_refresh_key_rotation_still_gets_the_same_successor() {
    let f = Fixture::new(Opts::rotating(30));
    let t0 = f.sign_in();
    let first = f.refresh(&t0).unwrap().refresh_token.unwrap();
    // The service rotates its refresh-token key (R-FAM-6) while the client's retry is in flight.
    let rotated = f.issuer_after_refresh_key_rotation();
    let retry = rotated
        .get_tokens_from_refresh_token(&refresh_rotation::RefreshRequest::new(
            &refresh_rotation::RefreshToken::new(t0),
            &f.client_id,
        ))
        .unwrap();
    assert_eq!(
        retry.refresh_token.unwrap(),
        first,
        "R-FAM-3: the very same successor"
    );
    // The next rotation moves the family onto the new key.
    let next = rotated
        .get_tokens_from_refresh_token(&refresh_rotation::RefreshRequest::new(
            &refresh_rotation::RefreshToken::new(first.clone()),
            &f.client_id,
        ))
        .unwrap()
        .refresh_token
        .unwrap();
    assert_ne!(next[..8], first[..8], "new key id in the token");
}
