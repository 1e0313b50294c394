//! Rotation and the grace window: one scenario per rule of section 6 of the behaviour contract
//! (R-ROT-1..11).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Barrier, Mutex};

use common::{Fixture, Opts};
use refresh_rotation::clock::{Clock, ManualClock, Timestamp};
use refresh_rotation::engine::ClientId;
use refresh_rotation::store::{Advance, FamilyId, InMemoryRefreshTokenStore, RefreshTokenStore};
use refresh_rotation::{
    Error, RefreshRequest, RefreshToken, RefreshTokenKey, ReusePolicy, SignInRequest,
};

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
    // Without ALLOW_REFRESH_TOKEN_AUTH the flow is not enabled: a bad parameter, as Cognito answers it.
    let f = Fixture::new(Opts::non_rotating().without_refresh_flow());
    let t0 = f.sign_in();
    let e = f.legacy_refresh(&t0).unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert_eq!(
        e.message(),
        "REFRESH_TOKEN_AUTH flow not enabled for this client"
    );
}

#[test]
fn r_rot_8_a_client_with_only_legacy_flow_names_allows_refresh_implicitly() {
    use refresh_rotation::config::ExplicitAuthFlow::{AllowUserSrpAuth, UserPasswordAuth};
    let f = Fixture::new(Opts::non_rotating());
    let t0 = f.sign_in();
    // Legacy names only: such a client cannot also carry ALLOW_REFRESH_TOKEN_AUTH (R-CFG-6), and
    // refreshes as Cognito let it before the ALLOW_ names existed.
    f.registry
        .update_client_with(&f.client_id, |b| b.explicit_auth_flows([UserPasswordAuth]))
        .unwrap();
    let r = f.legacy_refresh(&t0).unwrap();
    assert!(r.refresh_token.is_none(), "R-ROT-6");
    // ALLOW_ names without ALLOW_REFRESH_TOKEN_AUTH: not enabled.
    f.registry
        .update_client_with(&f.client_id, |b| b.explicit_auth_flows([AllowUserSrpAuth]))
        .unwrap();
    let e = f.legacy_refresh(&t0).unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
}

#[test]
fn r_rot_9_a_grace_period_turned_to_0_ends_an_open_window_at_once() {
    // Found by the reference model: the window opened under grace 1; the client's grace is now 0, so
    // the old token is reuse although its deadline has not passed.
    let f = Fixture::new(Opts::rotating(1));
    let t0 = f.sign_in();
    f.refresh(&t0).unwrap();
    f.set_rotation(Some(0));
    assert_eq!(f.refresh(&t0).unwrap_err(), Error::RefreshTokenReused);
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
            f.id(),
        ))
        .unwrap();
    assert_eq!(
        retry.refresh_token.unwrap().expose_secret(),
        first,
        "R-FAM-3: the very same successor"
    );
    // The next rotation moves the family onto the new key.
    let next = rotated
        .get_tokens_from_refresh_token(&refresh_rotation::RefreshRequest::new(
            &refresh_rotation::RefreshToken::new(first.clone()),
            f.id(),
        ))
        .unwrap()
        .refresh_token
        .unwrap()
        .into_secret();
    assert_ne!(next[..8], first[..8], "new key id in the token");
}

/// A winner's advance of the family from its current generation, under key 1, at deadline `deadline`.
fn win(store: &InMemoryRefreshTokenStore, id: &FamilyId, deadline: Timestamp) {
    let current = store.get(id).unwrap().unwrap().state.generation;
    let won = store.advance(id, current, deadline, 1).unwrap();
    assert!(matches!(won, Advance::Advanced(_)));
}

/// A slow request: it read the family and the clock at `start`, then a winner advanced the family at
/// `start + 1`, and the clock moved on by `then_wait` before the slow request's compare-and-set.
fn slow_loser(grace: u8, then_wait: u64) -> Result<refresh_rotation::TokenSet, Error> {
    let f = Fixture::new(Opts::rotating(grace));
    let start = Clock::now(&*f.clock);
    let store = Arc::new(common::Intercepted::over(f.store.clone()));
    let issuer = f.issuer_over(store.clone(), f.clock.clone());
    let t0 = issuer
        .sign_in(&SignInRequest::new(f.id(), "alice"))
        .unwrap()
        .refresh_token
        .unwrap();
    f.clock.set(start);
    let clock = f.clock.clone();
    store.arm(move |store, id| {
        let winner_at = start.checked_add_secs(1).unwrap();
        clock.set(winner_at);
        win(
            store,
            id,
            winner_at.checked_add_secs(u64::from(grace)).unwrap(),
        );
        clock.advance(then_wait);
    });
    issuer.get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))
}

#[test]
fn r_rot_9_a_race_loser_decides_on_a_clock_read_after_the_lost_race() {
    // Grace 0: the winner's deadline is `start + 1`, later than the loser's first clock reading.
    assert_eq!(slow_loser(0, 0).unwrap_err(), Error::RefreshTokenReused);
    // Grace 2: the window closed (`start + 3`) while the loser waited (clock at `start + 4`).
    assert_eq!(slow_loser(2, 3).unwrap_err(), Error::RefreshTokenReused);
    // Grace 2, the window still open when the loser looks again: a retry, with the winner's successor.
    let r = slow_loser(2, 1).unwrap();
    assert!(r.refresh_token.is_some());
}

/// R-ROT-9: the synchronous driver reads the host's clock after the family read, for a refresh and
/// for an introspection alike: a family that expires while the store answers (its read takes the
/// one second left) is expired, not judged on a clock read before the store was asked.
#[test]
fn r_rot_9_the_sync_driver_reads_the_clock_after_the_family_read() {
    use refresh_rotation::engine::Introspection;
    let f = Fixture::new(Opts::rotating(10).refresh_validity_minutes(60));
    let t0 = f.sign_in();
    let clock = f.clock.clone();
    let store = Arc::new(common::Intercepted::on_read(
        f.store.clone(),
        move |s, id| {
            clock.advance(1);
            s.read(id)
        },
    ));
    let issuer = f.issuer_over(store, f.clock.clone());
    // One second before the family's absolute expiry as each request starts.
    f.clock.advance(3600 - 1);
    let start = Clock::now(&*f.clock);
    let token = RefreshToken::new(t0.as_str());
    let mut req = RefreshRequest::new(&token, f.id());
    req.client_secret = f.presented();
    assert_eq!(
        issuer.get_tokens_from_refresh_token(&req).unwrap_err(),
        Error::RefreshTokenExpired
    );
    f.clock.set(start);
    assert_eq!(
        issuer.introspect(&t0, f.id(), f.presented()).unwrap(),
        Introspection::Inactive
    );
}

/// R-ROT-5 with R-REF-9: a race loser is answered on what it read again, device included. Here the
/// winner presented the family's device key and confirmed the device; the loser, without a DeviceKey,
/// is refused as the same request made after the race is, and is not told of the device again.
#[test]
fn r_rot_5_a_race_loser_checks_the_device_on_what_it_read_again() {
    let f = Fixture::new(Opts::rotating(30).device_tracking());
    let store = Arc::new(common::Intercepted::over(f.store.clone()));
    let issuer = f.issuer_over(store.clone(), f.clock.clone());
    // Signed in where devices are not tracked; the first refresh here issues one.
    let t0 = f
        .issuer_without_device_tracking()
        .sign_in(&SignInRequest::new(f.id(), "alice"))
        .unwrap()
        .refresh_token
        .unwrap();
    let r1 = issuer
        .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))
        .unwrap();
    assert!(
        r1.new_device.is_some(),
        "a device issued, not confirmed yet"
    );
    let t1 = r1.refresh_token.unwrap();
    let deadline = Clock::now(&*f.clock).checked_add_secs(30).unwrap();
    store.arm(move |store, id| {
        win(store, id, deadline);
        let family = store.get(id).unwrap().unwrap();
        let device = family.info.device_key.as_deref().unwrap();
        assert!(store.confirm_device(id, device).unwrap());
    });
    let loser = issuer.get_tokens_from_refresh_token(&RefreshRequest::new(&t1, f.id()));
    let after = issuer.get_tokens_from_refresh_token(&RefreshRequest::new(&t1, f.id()));
    assert_eq!(after.unwrap_err(), Error::InvalidRefreshToken);
    assert_eq!(loser.unwrap_err(), Error::InvalidRefreshToken);
}

/// R-ROT-10 with R-OPS-4: a refresh-token key added and promoted on the running issuer while a request
/// is in flight, and a winner that advanced under it: the loser still gets the winner's successor, as a
/// retry started later does, not a refusal because its keys predate the promotion.
#[test]
fn r_rot_10_a_race_loser_gets_the_successor_across_a_live_key_promotion() {
    let f = Fixture::new(Opts::rotating(30));
    let store = Arc::new(common::Intercepted::over(f.store.clone()));
    let issuer = Arc::new(f.issuer_over(store.clone(), f.clock.clone()));
    let t0 = issuer
        .sign_in(&SignInRequest::new(f.id(), "alice"))
        .unwrap()
        .refresh_token
        .unwrap();
    let winner: Arc<Mutex<Option<RefreshToken>>> = Arc::default();
    {
        let (issuer, winner, t0) = (Arc::downgrade(&issuer), winner.clone(), t0.clone());
        let client = f.client_id.clone();
        store.arm(move |_, _| {
            let issuer = issuer.upgrade().unwrap();
            let keys = issuer.keys();
            keys.add_refresh_key(RefreshTokenKey::new(2, &[0x5a; 32]).unwrap())
                .unwrap();
            keys.promote_refresh_key(2).unwrap();
            let client = ClientId::parse(&client).unwrap();
            let won = issuer
                .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, client))
                .unwrap();
            *winner.lock().unwrap() = won.refresh_token;
        });
    }
    let loser = issuer
        .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))
        .unwrap();
    let winner = winner
        .lock()
        .unwrap()
        .clone()
        .expect("the winner was answered");
    assert_eq!(loser.refresh_token.as_ref(), Some(&winner));
    let retry = issuer
        .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))
        .unwrap();
    assert_eq!(retry.refresh_token.as_ref(), Some(&winner));
}

#[test]
fn r_rot_10_successor_is_fixed_at_the_advance_across_a_refresh_key_rotation() {
    let f = Fixture::new(Opts::rotating(30));
    let t0 = f.sign_in(); // under key 1
    let rotated = f.issuer_after_refresh_key_rotation(); // key 2 current, key 1 kept
    let refresh = |issuer: &refresh_rotation::TokenIssuer| {
        issuer
            .get_tokens_from_refresh_token(&RefreshRequest::new(
                &RefreshToken::new(t0.clone()),
                f.id(),
            ))
            .unwrap()
            .refresh_token
            .unwrap()
            .into_secret()
    };
    // 16 presentations of t0 at once: one advance (under key 2), 15 losers; all get one string.
    let barrier = Barrier::new(16);
    let answers: Vec<String> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    refresh(&rotated)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    // A retry later in the window gets it again, byte for byte.
    f.clock.advance(10);
    assert_eq!(refresh(&rotated), answers[0]);
    assert_eq!(f.generation_of(&t0), 1);
    // The successor was issued under key 2: an issuer that holds only key 1 cannot hand it out again.
    let only_old_key = f
        .get_tokens(&RefreshRequest::new(&RefreshToken::new(t0.clone()), f.id()))
        .unwrap_err();
    assert_eq!(only_old_key, Error::InvalidRefreshToken);
}

/// An in-memory store that supplies the time of decisions from `clock` (R-ROT-11), as the PostgreSQL
/// store does from the database's.
fn store_keeping_time(clock: Arc<ManualClock>) -> Arc<dyn RefreshTokenStore> {
    Arc::new(common::Intercepted::on_read(
        Arc::new(InMemoryRefreshTokenStore::new()),
        move |s: &InMemoryRefreshTokenStore, id: &FamilyId| {
            let mut read = s.read(id)?;
            read.time = Some(Clock::now(&*clock));
            Ok(read)
        },
    ))
}

#[test]
fn r_rot_11_a_store_that_keeps_the_time_decides_for_every_host() {
    // Two hosts whose clocks are 5 s apart share one store that keeps the time; grace 2.
    let f = Fixture::new(Opts::rotating(2));
    let shared_time = Arc::new(ManualClock::new(Clock::now(&*f.clock)));
    let store = store_keeping_time(shared_time.clone());
    let ahead = Arc::new(ManualClock::new(Clock::now(&*f.clock)));
    let behind = Arc::new(ManualClock::new(
        Clock::now(&*f.clock).checked_sub_secs(5).unwrap(),
    ));
    let host_a = f.issuer_over(store.clone(), ahead.clone());
    let host_b = f.issuer_over(store, behind.clone());
    let t0 = host_a
        .sign_in(&SignInRequest::new(f.id(), "alice"))
        .unwrap()
        .refresh_token
        .unwrap();
    let req = RefreshRequest::new(&t0, f.id());
    host_a.get_tokens_from_refresh_token(&req).unwrap();
    // 3 s later by every clock: the window has closed. The lagging host's own clock would still say
    // the window is open (it reads 2 s before the deadline); the store's time decides.
    for c in [&shared_time, &ahead, &behind] {
        c.advance(3);
    }
    assert_eq!(
        host_b.get_tokens_from_refresh_token(&req).unwrap_err(),
        Error::RefreshTokenReused
    );
    // And the other way round: inside the store's window, a host whose clock runs ahead still retries.
    let t1 = host_a
        .sign_in(&SignInRequest::new(f.id(), "alice"))
        .unwrap()
        .refresh_token
        .unwrap();
    let req = RefreshRequest::new(&t1, f.id());
    let first = host_b.get_tokens_from_refresh_token(&req).unwrap();
    ahead.advance(100);
    let retry = host_a.get_tokens_from_refresh_token(&req).unwrap();
    assert_eq!(retry.refresh_token, first.refresh_token);
}

/// R-ROT-11 with R-OAUTH-7 and R-JWT-6: introspection judges a token's times by the time that decides
/// its family read, as the refresh that minted it took its `iat` from the store's time. A host whose
/// clock lags the store's still reads the access and ID tokens it has just handed out as active, and
/// one past their expiry by the store's time as inactive.
#[test]
fn r_rot_11_introspection_judges_jwt_times_by_the_stores_time() {
    use refresh_rotation::engine::Introspection;
    let f = Fixture::new(Opts::rotating(2));
    let store_clock = Arc::new(ManualClock::new(
        Clock::now(&*f.clock).checked_add_secs(2).unwrap(),
    ));
    let store = store_keeping_time(store_clock.clone());
    let host = f.issuer_over(store, f.clock.clone());
    let t0 = host
        .sign_in(&SignInRequest::new(f.id(), "alice"))
        .unwrap()
        .refresh_token
        .unwrap();
    let r = host
        .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))
        .unwrap();
    let active = |token: &str| {
        matches!(
            host.introspect(token, f.id(), None).unwrap(),
            Introspection::Active(_)
        )
    };
    let rt = r.refresh_token.as_ref().unwrap();
    assert!(active(rt.expose_secret()));
    assert!(active(&r.access_token), "the access token just minted");
    assert!(active(&r.id_token), "the ID token just minted");
    // Past the access token's expiry by the store's time, not yet by the host's.
    store_clock.advance(3_600);
    assert!(!active(&r.access_token));
}

/// R-ROT-11 with R-OAUTH-7, the other way round: a sign-in reads no family and mints on the host's
/// clock, so with the store's clock behind the host's, the tokens it has just handed out are still
/// active: a token is issued already if either clock says so (its expiry is judged by the store's).
#[test]
fn r_rot_11_introspection_of_sign_in_tokens_with_the_stores_clock_behind() {
    use refresh_rotation::engine::Introspection;
    let f = Fixture::new(Opts::rotating(2));
    let store_clock = Arc::new(ManualClock::new(
        Clock::now(&*f.clock).checked_sub_secs(2).unwrap(),
    ));
    let store = store_keeping_time(store_clock.clone());
    let host = f.issuer_over(store, f.clock.clone());
    let s = host.sign_in(&SignInRequest::new(f.id(), "alice")).unwrap();
    let active = |token: &str| {
        matches!(
            host.introspect(token, f.id(), None).unwrap(),
            Introspection::Active(_)
        )
    };
    assert!(active(s.refresh_token.as_ref().unwrap().expose_secret()));
    assert!(
        active(&s.access_token),
        "the access token sign-in just minted"
    );
    assert!(active(&s.id_token), "the ID token sign-in just minted");
}

/// R-OAUTH-7 with R-ROT-11: a refresh token is active exactly when a refresh would pass the decision,
/// and that decision is taken on the store's time when it keeps one: the grace window and the
/// family's expiry close by the store's clock, whatever the host's says.
#[test]
fn r_oauth_7_a_refresh_tokens_activity_is_judged_by_the_stores_time() {
    use refresh_rotation::engine::Introspection;
    let f = Fixture::new(Opts::rotating(2).refresh_validity_minutes(60));
    let store_clock = Arc::new(ManualClock::new(Clock::now(&*f.clock)));
    let store = store_keeping_time(store_clock.clone());
    let host = f.issuer_over(store, f.clock.clone());
    let t0 = host
        .sign_in(&SignInRequest::new(f.id(), "alice"))
        .unwrap()
        .refresh_token
        .unwrap();
    let t1 = host
        .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))
        .unwrap()
        .refresh_token
        .unwrap();
    let active = |token: &RefreshToken| {
        matches!(
            host.introspect(token.expose_secret(), f.id(), None)
                .unwrap(),
            Introspection::Active(_)
        )
    };
    assert!(active(&t0), "inside the grace window");
    assert!(active(&t1));
    // The host's clock stands still; the store's moves past the window, then past the family's expiry.
    store_clock.advance(3);
    assert!(!active(&t0), "the store's time closed the window");
    assert!(active(&t1));
    store_clock.advance(3_600);
    assert!(!active(&t1), "expired by the store's time");
}
