//! Concurrency: the issuer and the in-memory store under many threads (R-ROT-5, R-SAFE-5).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;

use common::{Fixture, Opts};
use refresh_rotation::Error;

#[test]
fn r_rot_5_sixteen_presentations_of_one_token_advance_once_round_after_round() {
    for grace in [0u8, 15] {
        let f = Fixture::new(Opts::rotating(grace));
        let mut token = f.sign_in();
        for round in 0..10u32 {
            let results = f.refresh_concurrently(&token, 16);
            let winners: Vec<String> = results
                .iter()
                .filter_map(|r| r.as_ref().ok()?.refresh_token.clone())
                .collect();
            assert!(!winners.is_empty(), "round {round}: someone wins");
            assert!(
                winners.iter().all(|w| *w == winners[0]),
                "round {round}: one successor only"
            );
            if grace == 0 {
                assert_eq!(winners.len(), 1, "round {round}: exactly one success");
                assert!(results
                    .iter()
                    .filter_map(|r| r.as_ref().err())
                    .all(|e| *e == Error::RefreshTokenReused));
            } else {
                assert_eq!(winners.len(), 16, "round {round}: every loser is a retry");
            }
            assert_eq!(f.generation_of(&token), round + 1);
            token = winners[0].clone();
        }
    }
}

#[test]
fn distinct_families_rotate_independently_on_many_threads() {
    let f = Fixture::new(Opts::rotating(0));
    let threads = 8;
    let tokens: Vec<String> = (0..threads).map(|_| f.sign_in()).collect();
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        for t in &tokens {
            let (f, barrier) = (&f, &barrier);
            s.spawn(move || {
                barrier.wait();
                let mut current = t.clone();
                for _ in 0..25 {
                    current = f.refresh(&current).unwrap().refresh_token.unwrap();
                }
                assert_eq!(f.generation_of(&current), 25);
            });
        }
    });
}

#[test]
fn r_rev_2_no_refresh_succeeds_after_a_concurrent_revoke_returns() {
    for _ in 0..5 {
        let f = Fixture::new(Opts::rotating(30));
        let t0 = f.sign_in();
        let revoked = AtomicBool::new(false);
        let barrier = Barrier::new(5);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    barrier.wait();
                    let mut current = t0.clone();
                    for _ in 0..40 {
                        // Read the flag before the request: a refresh that *starts* after the revoke
                        // returned must fail.
                        let after_revoke = revoked.load(Ordering::SeqCst);
                        match f.refresh(&current) {
                            Ok(r) => {
                                assert!(!after_revoke, "a refresh succeeded after revoke returned");
                                current = r.refresh_token.unwrap();
                            }
                            Err(Error::RefreshTokenRevoked) => {}
                            // Another thread moved the family on: follow from the start again.
                            Err(Error::RefreshTokenReused) => current = t0.clone(),
                            Err(e) => panic!("unexpected {e:?}"),
                        }
                    }
                });
            }
            s.spawn(|| {
                barrier.wait();
                std::thread::yield_now();
                f.revoke(&t0).unwrap();
                revoked.store(true, Ordering::SeqCst);
            });
        });
        assert_eq!(f.refresh(&t0).unwrap_err(), Error::RefreshTokenRevoked);
    }
}

/// R-REV-3 under concurrency: a global sign-out takes effect at one instant. While another thread signs
/// the same user in, one sign-in after another, the families it revokes are a prefix of that sequence:
/// never a later sign-in's family revoked while an earlier one's, completed before the later began,
/// stays live (which a sign-out that visits the store's shards one at a time allows).
#[test]
fn r_rev_3_global_sign_out_takes_effect_at_one_instant() {
    use refresh_rotation::engine::ClientId;
    use refresh_rotation::store::RefreshTokenStore;
    use refresh_rotation::SignInRequest;
    let f = Fixture::new(Opts::rotating(0));
    let keys = f.refresh_keys();
    let far = refresh_rotation::clock::Timestamp::from_unix_seconds(4_000_000_000);
    for round in 0..60 {
        // Many families of the user already, so that the sign-out's pass takes long enough for the
        // other thread's sign-ins to land during it.
        for _ in 0..2_000 {
            let id = refresh_rotation::testkit::random_family_id();
            f.store
                .create(refresh_rotation::testkit::sample_family(
                    id, &f.subject, far,
                ))
                .unwrap();
        }
        let stop = AtomicBool::new(false);
        let tokens = std::thread::scope(|s| {
            let signer = s.spawn(|| {
                let mut tokens = Vec::new();
                while !stop.load(Ordering::SeqCst) || tokens.len() < 2 {
                    let req = SignInRequest::new(ClientId::parse(&f.client_id).unwrap(), "alice");
                    tokens.push(f.issuer.sign_in(&req).unwrap().refresh_token.unwrap());
                }
                tokens
            });
            std::thread::yield_now();
            f.issuer.global_sign_out(&f.subject).unwrap();
            stop.store(true, Ordering::SeqCst);
            signer.join().unwrap()
        });
        let revoked: Vec<bool> = tokens
            .iter()
            .map(|t| {
                let id = keys.decode(t.expose_secret()).unwrap().family();
                f.store.get(&id).unwrap().unwrap().state.revoked
            })
            .collect();
        if let Some(last) = revoked.iter().rposition(|r| *r) {
            assert!(
                revoked[..last].iter().all(|r| *r),
                "round {round}: an earlier sign-in's family outlived a later one's: {revoked:?}"
            );
        }
    }
}
