//! Property test: the issuer and the in-memory store against a small reference model of SPEC sections 6
//! and 7, over random sequences of sign-in, refresh with current / old / forged tokens, clock moves,
//! rotation and grace changes, revocation, global sign-out and purging.
//!
//! The default run is short. Set `REFRESH_ROTATION_LONG_PROPTEST=1` (and `PROPTEST_CASES=N`) for a long
//! run; CI does so with a bounded case count.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{Fixture, Opts};
use proptest::prelude::*;
use refresh_rotation::store::PurgeCutoff;
use refresh_rotation::{Error, ReusePolicy};

#[derive(Debug, Clone)]
enum Op {
    SignIn {
        bob: bool,
    },
    /// Refresh family `f` (modulo the count) with the token `back` generations behind its newest known.
    Refresh {
        f: usize,
        back: usize,
    },
    Forged {
        f: usize,
    },
    Clock {
        secs: u64,
    },
    Rotation {
        grace: Option<u8>,
    },
    Revoke {
        f: usize,
        back: usize,
    },
    GlobalSignOut {
        bob: bool,
    },
    Purge,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => any::<bool>().prop_map(|bob| Op::SignIn { bob }),
        8 => (0..8usize, prop_oneof![4 => Just(0usize), 2 => Just(1), 1 => 2..4usize])
            .prop_map(|(f, back)| Op::Refresh { f, back }),
        1 => (0..8usize).prop_map(|f| Op::Forged { f }),
        3 => prop_oneof![0..3u64, 3..70u64, Just(1800u64), Just(3600u64), Just(86_400u64)]
            .prop_map(|secs| Op::Clock { secs }),
        1 => prop_oneof![Just(None), (0u8..=60).prop_map(Some)]
            .prop_map(|grace| Op::Rotation { grace }),
        1 => (0..8usize, 0..3usize).prop_map(|(f, back)| Op::Revoke { f, back }),
        1 => any::<bool>().prop_map(|bob| Op::GlobalSignOut { bob }),
        1 => Just(Op::Purge),
    ]
}

/// One family as the model sees it.
#[derive(Debug)]
struct MFamily {
    bob: bool,
    generation: u32,
    deadline: i64,
    revoked: bool,
    expires_at: i64,
    purged: bool,
    /// Token strings by generation, as far as the client has seen them.
    tokens: Vec<String>,
}

#[derive(Debug)]
struct Model {
    now: i64,
    grace: Option<u8>,
    policy: ReusePolicy,
    families: Vec<MFamily>,
}

/// What the model expects from a refresh.
#[derive(Debug, PartialEq)]
enum Expect {
    /// Success with the token of this generation (None: no refresh token).
    Ok(Option<u32>),
    Err(Error),
}

impl Model {
    fn refresh(&mut self, i: usize, g: u32) -> Expect {
        let now = self.now;
        let grace = self.grace;
        let policy = self.policy;
        let fam = &mut self.families[i];
        if fam.purged {
            return Expect::Err(Error::InvalidRefreshToken);
        }
        if fam.revoked {
            return Expect::Err(Error::RefreshTokenRevoked);
        }
        if now >= fam.expires_at {
            return Expect::Err(Error::RefreshTokenExpired);
        }
        let c = fam.generation;
        match grace {
            Some(grace) if g == c => {
                fam.generation += 1;
                fam.deadline = now + i64::from(grace);
                Expect::Ok(Some(c + 1))
            }
            // R-ROT-2, with R-ROT-9: with the client's grace now 0, nothing is a retry, whatever
            // deadline an earlier grace period left.
            Some(grace) if grace > 0 && g + 1 == c && now < fam.deadline => Expect::Ok(Some(c)),
            None if g == c => Expect::Ok(None),
            _ => {
                if policy == ReusePolicy::RevokeFamily {
                    fam.revoked = true;
                }
                Expect::Err(Error::RefreshTokenReused)
            }
        }
    }
}

fn cases() -> u32 {
    if std::env::var_os("REFRESH_ROTATION_LONG_PROPTEST").is_some() {
        ProptestConfig::default().cases
    } else {
        24
    }
}

fn run(policy: ReusePolicy, initial_grace: Option<u8>, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let opts = match initial_grace {
        Some(g) => Opts::rotating(g),
        None => Opts::non_rotating(),
    }
    .refresh_validity_minutes(120)
    .reuse_policy(policy);
    let f = Fixture::new(opts);
    let mut m = Model {
        now: f.clock_now(),
        grace: initial_grace,
        policy,
        families: Vec::new(),
    };
    for op in ops {
        match op {
            Op::SignIn { bob } => {
                let t = if bob {
                    f.sign_in_as("bob")
                } else {
                    f.sign_in()
                };
                m.families.push(MFamily {
                    bob,
                    generation: 0,
                    deadline: 0,
                    revoked: false,
                    expires_at: m.now + 7200,
                    purged: false,
                    tokens: vec![t],
                });
            }
            Op::Refresh { f: i, back } if !m.families.is_empty() => {
                let i = i % m.families.len();
                let known = m.families[i].tokens.len();
                let g = known.saturating_sub(1 + back) as u32;
                let token = m.families[i].tokens[g as usize].clone();
                let got = f.refresh(&token);
                let want = m.refresh(i, g);
                match (&want, got) {
                    (Expect::Ok(None), Ok(r)) => prop_assert!(r.refresh_token.is_none()),
                    (Expect::Ok(Some(k)), Ok(r)) => {
                        let t = r.refresh_token.expect("a rotating refresh returns a token");
                        let fam = &mut m.families[i];
                        match fam.tokens.get(*k as usize) {
                            Some(seen) => prop_assert_eq!(seen, &t, "same successor (R-ROT-2)"),
                            None => {
                                prop_assert_eq!(fam.tokens.len(), *k as usize);
                                prop_assert!(!fam.tokens.contains(&t));
                                fam.tokens.push(t);
                            }
                        }
                    }
                    (Expect::Err(want), Err(got)) => prop_assert_eq!(want, &got),
                    (want, got) => prop_assert!(false, "model {:?}, issuer {:?}", want, got),
                }
            }
            Op::Forged { f: i } if !m.families.is_empty() => {
                let i = i % m.families.len();
                let t = m.families[i].tokens.last().unwrap().clone();
                let forged = f.token_with_wrong_mac(&t);
                prop_assert_eq!(f.refresh(&forged).unwrap_err(), Error::InvalidRefreshToken);
            }
            Op::Clock { secs } => {
                f.clock.advance(secs);
                m.now += secs as i64;
            }
            Op::Rotation { grace } => {
                f.set_rotation(grace);
                m.grace = grace;
            }
            Op::Revoke { f: i, back } if !m.families.is_empty() => {
                let i = i % m.families.len();
                let fam = &mut m.families[i];
                let g = fam.tokens.len().saturating_sub(1 + back);
                let t = fam.tokens[g].clone();
                f.revoke(&t).unwrap();
                if !fam.purged {
                    fam.revoked = true;
                }
            }
            Op::GlobalSignOut { bob } => {
                let n = f
                    .issuer
                    .global_sign_out_username(if bob { "bob" } else { "alice" })
                    .unwrap();
                let mut live = 0;
                for fam in m.families.iter_mut().filter(|x| x.bob == bob && !x.purged) {
                    if !fam.revoked {
                        live += 1;
                    }
                    fam.revoked = true;
                }
                prop_assert_eq!(n, live);
            }
            Op::Purge => {
                let n = f.issuer.purge_expired(usize::MAX).unwrap();
                let mut expected = 0;
                for fam in m.families.iter_mut().filter(|x| !x.purged) {
                    // Families are kept PurgeCutoff::MARGIN_SECS past expiry for JWT revocation (R-REV-6).
                    if m.now >= fam.expires_at + PurgeCutoff::MARGIN_SECS as i64 {
                        fam.purged = true;
                        expected += 1;
                    }
                }
                prop_assert_eq!(n, expected);
            }
            _ => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn issuer_matches_the_reference_model_with_reject_policy(
        grace in prop_oneof![Just(None), (0u8..=60).prop_map(Some)],
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        run(ReusePolicy::Reject, grace, ops)?;
    }

    #[test]
    fn issuer_matches_the_reference_model_with_revoke_family_policy(
        grace in prop_oneof![Just(None), (0u8..=60).prop_map(Some)],
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        run(ReusePolicy::RevokeFamily, grace, ops)?;
    }
}
