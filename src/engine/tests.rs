//! The engine driven by hand with plain values: no store, no directory, no clock (R-ENG-1).

use super::refresh::{decide, Decision};
use super::*;
use super::{ClientId, PresentedSecret};
use crate::events::SecurityEvent;
use crate::store::FamilyState;

fn state(generation: u32, grace_deadline: i64) -> FamilyState {
    FamilyState {
        generation,
        grace_deadline: Timestamp::from_unix_seconds(grace_deadline),
        ..FamilyState::new(1)
    }
}

#[test]
fn decision_table_matches_spec_section_6() {
    let now = Timestamp::from_unix_seconds(100);
    // R-ROT-1
    assert_eq!(
        decide(3, &state(3, 0), true, 10, now),
        Decision::Advance { current: 3 }
    );
    // R-ROT-2: inside the window (now < d)
    assert_eq!(
        decide(2, &state(3, 101), true, 10, now),
        Decision::Retry { successor: 3 }
    );
    // grace 0 means d == now at the advance: closed at once
    assert_eq!(decide(2, &state(3, 100), true, 10, now), Decision::Reuse);
    // R-ROT-3/R-ROT-4: two generations behind, even inside the window
    assert_eq!(decide(1, &state(3, 1_000), true, 10, now), Decision::Reuse);
    // R-ROT-6, R-ROT-7
    assert_eq!(
        decide(3, &state(3, 0), false, 10, now),
        Decision::NoRotation
    );
    assert_eq!(decide(2, &state(3, 1_000), false, 10, now), Decision::Reuse);
}

#[test]
fn r_rot_9_with_grace_0_nothing_is_a_retry_whatever_the_clocks_say() {
    // A deadline in the future of `now` (a clock read before the winner's advance) must not make a
    // presentation of c - 1 a retry when the client's grace period is 0.
    let now = Timestamp::from_unix_seconds(100);
    assert_eq!(decide(2, &state(3, 105), true, 0, now), Decision::Reuse);
    assert_eq!(
        decide(2, &state(3, 105), true, 5, now),
        Decision::Retry { successor: 3 }
    );
}

// ------------------------------------------------------------------------------------------------
// Flows driven by hand: each test feeds the inputs a driver would, from plain values, and checks what
// the engine asks for next. No store, no directory, no clock.

use std::sync::Arc;

use crate::client::AppClient;
use crate::clock::ManualClock;
use crate::config::{AppClientConfig, RefreshTokenRotation};
use crate::directory::UserRecord;
use crate::error::StoreError;
use crate::jwt::{Algorithm, SigningKey, TokenSigner};
use crate::random::SystemRandom;
use crate::registry::{ClientRegistry, NewClientSecret};
use crate::secret::RefreshToken;
use crate::store::{Advance, Family, FamilyId, FamilyInfo, FamilyRead};
use crate::token::{RefreshTokenKey, RefreshTokenKeys};

const T: Timestamp = Timestamp::from_unix_seconds(1_700_000_000);

fn at(secs: u64) -> Timestamp {
    T.checked_add_secs(secs).unwrap()
}

struct World {
    engine: Engine,
    client: Arc<AppClient>,
    user: Arc<UserRecord>,
    keys: RefreshTokenKeys,
}

impl World {
    /// The world's client id, as a request names it.
    fn client_id(&self) -> ClientId<'_> {
        ClientId::parse(self.client.client_id()).unwrap()
    }
}

fn world(grace: Option<u8>, policy: ReusePolicy) -> World {
    world_with(grace, policy, NewClientSecret::None, false)
}

fn world_with(
    grace: Option<u8>,
    policy: ReusePolicy,
    secret: NewClientSecret,
    device_tracking: bool,
) -> World {
    let registry = ClientRegistry::new(
        "us-east-1_Engine",
        Arc::new(ManualClock::new(T)),
        Arc::new(SystemRandom::new()),
    );
    let rotation = match grace {
        Some(g) => RefreshTokenRotation::enabled(g).unwrap(),
        None => RefreshTokenRotation::DISABLED,
    };
    let client = registry
        .create_client(
            AppClientConfig::builder("engine").refresh_token_rotation(rotation),
            secret,
        )
        .unwrap();
    // Key 1 signs; key 2, an older one, still verifies: a store answer naming key 2 could be encoded,
    // so a check on the key recorded by an advance is tested by its answer, not by a failed encoding.
    let keys = RefreshTokenKeys::new(RefreshTokenKey::new(1, &[7; 32]).unwrap())
        .with_previous(RefreshTokenKey::new(2, &[8; 32]).unwrap())
        .unwrap();
    let engine = Engine::new(EngineSettings {
        region: "us-east-1".into(),
        issuer_url: "https://issuer.example".into(),
        signer: TokenSigner::new(Arc::new(
            SigningKey::generate(Algorithm::EdDSA, "k").unwrap(),
        )),
        refresh_keys: keys.clone(),
        rng: Arc::new(SystemRandom::new()),
        device_tracking,
        reuse_policy: policy,
        hook: false,
    });
    World {
        engine,
        client,
        user: Arc::new(UserRecord::new("sub-1", "alice")),
        keys,
    }
}

fn family(w: &World, generation: u32, grace_deadline: Timestamp) -> Family {
    Family {
        id: FamilyId::from_bytes([5; 16]),
        info: Arc::new(FamilyInfo {
            client_id: Arc::clone(w.client.client_id()),
            subject: "sub-1".into(),
            username: "alice".into(),
            device_key: None,
            scopes: "aws.cognito.signin.user.admin".into(),
            auth_time: T,
            event_id: [1; 16],
            expires_at: at(30 * 86_400),
        }),
        state: FamilyState {
            generation,
            grace_deadline,
            ..FamilyState::new(1)
        },
    }
}

fn read(f: Family, host_time: Timestamp) -> Input {
    Input::Family {
        read: FamilyRead {
            family: Some(f),
            time: None,
        },
        host_time,
    }
}

/// The answer to a refresh's first read: the world's client and `f`, read at `store_time` if the store
/// keeps the time, and the host's clock after the read.
fn joint(w: &World, f: Family, store_time: Option<Timestamp>, host_time: Timestamp) -> Input {
    Input::ClientAndFamily {
        client: Some(w.client.clone()),
        read: Ok(FamilyRead {
            family: Some(f),
            time: store_time,
        }),
        host_time,
        user: None,
        witness: None,
    }
}

/// Drives a refresh of `presented` through client, family and user, and returns the flow and its
/// fourth step.
fn refresh_until_write<'r>(
    w: &'r World,
    req: &RefreshRequest<'r>,
    f: Family,
    host_time: Timestamp,
) -> (RefreshFlow<'r>, String) {
    let mut flow = w.engine.refresh(req);
    assert!(matches!(
        flow.next(Input::Start),
        Need::ClientAndFamily { client_id, family, fresh: false }
            if client_id == &**w.client.client_id() && family == f.id
    ));
    assert!(matches!(
        flow.next(joint(w, f, None, host_time)),
        Need::UserBySubject("sub-1")
    ));
    let step = format!("{:?}", flow.next(Input::User(Some(w.user.clone()))));
    (flow, step)
}

#[test]
fn r_eng_1_r_rot_1_a_refresh_asks_for_client_family_user_then_one_compare_and_set() {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let mut flow = w.engine.refresh(&req);
    flow.next(Input::Start);
    flow.next(joint(&w, f.clone(), None, at(5)));
    match flow.next(Input::User(Some(w.user.clone()))) {
        Need::Advance {
            family,
            expected,
            grace_deadline,
            key_id,
            ..
        } => {
            assert_eq!((family, expected, key_id), (f.id, 0, 1));
            assert_eq!(grace_deadline, at(15), "decision time + grace");
        }
        other => panic!("expected the compare-and-set, got {other:?}"),
    }
    let advanced = FamilyState {
        generation: 1,
        grace_deadline: at(15),
        ..FamilyState::new(1)
    };
    match flow.next(Input::Advanced(Advance::Advanced(advanced))) {
        Need::Done(Ok(tokens)) => {
            assert_eq!(tokens.refresh_token, Some(w.keys.encode(&f.id, 1)));
            assert!(!tokens.access_token.is_empty() && !tokens.id_token.is_empty());
        }
        other => panic!("expected the answer, got {other:?}"),
    }
}

#[test]
fn r_rot_2_a_retry_writes_nothing_and_gets_the_recorded_successor() {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 1, at(10));
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let (_, step) = refresh_until_write(&w, &req, f.clone(), at(5));
    assert!(step.starts_with("Done(Ok("), "{step}");
    let (mut flow, _) = refresh_until_write(&w, &req, f.clone(), at(5));
    // The flow is over: anything more is out of order.
    assert!(matches!(
        flow.next(Input::Created),
        Need::Done(Err(Error::Internal { .. }))
    ));
}

#[test]
fn r_rot_5_and_r_rot_9_a_lost_race_rereads_and_decides_on_the_new_time() {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let winner = FamilyState {
        generation: 1,
        grace_deadline: at(11),
        ..FamilyState::new(1)
    };
    for (reread_at, retry) in [(at(10), true), (at(11), false)] {
        let (mut flow, step) = refresh_until_write(&w, &req, f.clone(), at(0));
        assert!(step.starts_with("Advance"), "{step}");
        assert!(matches!(
            flow.next(Input::Advanced(Advance::Unchanged(winner))),
            Need::Family(id) if id == f.id
        ));
        let mut after = f.clone();
        after.state = winner;
        match flow.next(read(after, reread_at)) {
            Need::Done(Ok(tokens)) if retry => {
                assert_eq!(tokens.refresh_token, Some(w.keys.encode(&f.id, 1)));
            }
            Need::Done(Err(Error::RefreshTokenReused)) if !retry => {}
            other => panic!("reread at {reread_at:?}: {other:?}"),
        }
    }
}

/// R-ROT-4 with R-OPS-3: a reuse under the RevokeFamily policy asks for the revocation first. The reuse
/// is reported either way; the family's revocation only when this request's revoke took it from live to
/// revoked (the first pass), not when another request revoked it between the read and the write (the
/// second).
#[test]
fn r_rot_4_reuse_under_the_revoke_family_policy_asks_for_the_revocation_first() {
    let w = world(Some(10), ReusePolicy::RevokeFamily);
    let f = family(&w, 2, at(10));
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    for this_write_revoked in [true, false] {
        let (mut flow, step) = refresh_until_write(&w, &req, f.clone(), at(1));
        assert_eq!(step, format!("Revoke({:?})", f.id));
        assert!(matches!(
            flow.next(Input::Revoked(this_write_revoked)),
            Need::Done(Err(Error::RefreshTokenReused))
        ));
        let events = flow.report().events();
        assert!(matches!(events[0], SecurityEvent::ReuseDetected { .. }));
        assert_eq!(
            matches!(events, [_, SecurityEvent::FamilyRevoked { .. }]),
            this_write_revoked,
            "{events:?}"
        );
        assert!(events.len() <= 2, "{events:?}");
    }
}

#[test]
fn r_rot_11_the_stores_time_decides_when_it_gives_one() {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 1, at(10));
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let mut flow = w.engine.refresh(&req);
    flow.next(Input::Start);
    // The host's clock says the window is open; the store's says it closed.
    flow.next(joint(&w, f, Some(at(10)), at(1)));
    assert!(matches!(
        flow.next(Input::User(Some(w.user.clone()))),
        Need::Done(Err(Error::RefreshTokenReused))
    ));
}

#[test]
fn r_rot_6_without_rotation_the_answer_has_no_refresh_token_and_nothing_is_written() {
    let w = world(None, ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let mut flow = w.engine.refresh(&req);
    flow.next(Input::Start);
    flow.next(joint(&w, f, None, at(1)));
    match flow.next(Input::User(Some(w.user.clone()))) {
        Need::Done(Ok(tokens)) => assert!(tokens.refresh_token.is_none()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn r_ref_4_a_forged_token_is_refused_before_the_store_is_asked() {
    let w = world(Some(10), ReusePolicy::Reject);
    let other = RefreshTokenKeys::new(RefreshTokenKey::new(1, &[8; 32]).unwrap());
    let forged = other.encode(&FamilyId::from_bytes([5; 16]), 0);
    let req = RefreshRequest::new(&forged, w.client_id());
    let mut flow = w.engine.refresh(&req);
    // Only the client is asked for, and it is checked first (R-REF-2, R-REF-3).
    assert!(matches!(flow.next(Input::Start), Need::Client(_)));
    assert!(matches!(
        flow.next(Input::Client(Some(w.client.clone()))),
        Need::Done(Err(Error::InvalidRefreshToken))
    ));
    let mut flow = w.engine.refresh(&req);
    flow.next(Input::Start);
    assert!(matches!(
        flow.next(Input::Client(None)),
        Need::Done(Err(Error::ClientNotFound { .. }))
    ));
}

#[test]
fn r_per_5_a_valid_token_names_its_family_with_the_client_and_the_client_is_checked_first() {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let mut req = RefreshRequest::new(&t0, w.client_id());
    req.client_secret = Some(
        PresentedSecret::parse("1b4mrk9t07hpn4olvq0n5t2o8c1tbcaojvjh2ffs5jc2q31lmgv5").unwrap(),
    );
    let mut flow = w.engine.refresh(&req);
    assert!(matches!(
        flow.next(Input::Start),
        Need::ClientAndFamily { family, .. } if family == f.id
    ));
    // The family is live and the client's: still, a wrong secret is what the answer names.
    assert!(matches!(
        flow.next(joint(&w, f, None, at(0))),
        Need::Done(Err(Error::ClientHasNoSecret { .. }))
    ));
}

#[test]
fn r_sign_2_a_sign_in_creates_the_family_then_checks_the_client_is_still_there() {
    let w = world(Some(10), ReusePolicy::Reject);
    for client_still_there in [true, false] {
        let req = SignInRequest::new(w.client_id(), "alice");
        let mut flow = w.engine.sign_in(&req, T);
        assert!(matches!(flow.next(Input::Start), Need::Client(_)));
        assert!(matches!(
            flow.next(Input::Client(Some(w.client.clone()))),
            Need::UserByUsername("alice")
        ));
        let family = match flow.next(Input::User(Some(w.user.clone()))) {
            Need::CreateFamily(f) => f,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            family.state,
            FamilyState::new(1),
            "R-ROT-10: key of generation 0"
        );
        assert_eq!(family.info.auth_time, T);
        assert!(matches!(flow.next(Input::Created), Need::Client(_)));
        let recheck = Input::Client(client_still_there.then(|| w.client.clone()));
        match flow.next(recheck) {
            Need::Done(Ok(tokens)) if client_still_there => {
                assert_eq!(tokens.refresh_token, Some(w.keys.encode(&family.id, 0)));
            }
            Need::Revoke(id) if !client_still_there => {
                assert_eq!(id, family.id);
                assert!(matches!(
                    flow.next(Input::Revoked(true)),
                    Need::Done(Err(Error::ClientNotFound { .. }))
                ));
            }
            other => panic!("{other:?}"),
        }
    }
}

/// Drives a RevokeToken of `f`'s generation-0 token through client and family to its revocation.
fn revoke_until_write<'r>(w: &'r World, t: &'r RefreshToken, f: &Family) -> RevokeFlow<'r> {
    let mut flow = w.engine.revoke(t, w.client_id(), None);
    flow.next(Input::Start);
    assert!(matches!(
        flow.next(Input::Client(Some(w.client.clone()))),
        Need::Family(_)
    ));
    let step = flow.next(read(f.clone(), T));
    assert!(matches!(step, Need::Revoke(id) if id == f.id), "{step:?}");
    flow
}

#[test]
fn r_ops_3_a_revocation_reports_the_family_revoked_only_if_its_write_did_it() {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t = w.keys.encode(&f.id, 0);
    // The write took the family from live to revoked: one event, outcome `revoked`.
    let mut flow = revoke_until_write(&w, &t, &f);
    assert!(matches!(
        flow.next(Input::Revoked(true)),
        Need::Done(Ok(()))
    ));
    assert!(matches!(
        flow.report().events(),
        [SecurityEvent::FamilyRevoked { .. }]
    ));
    assert_eq!(flow.report().outcome(None), Outcome::Revoked);
    // Another request revoked it between the read and the write: that one reports it; this one
    // answers success with no event and outcome `unchanged`.
    let mut flow = revoke_until_write(&w, &t, &f);
    assert!(matches!(
        flow.next(Input::Revoked(false)),
        Need::Done(Ok(()))
    ));
    assert!(flow.report().events().is_empty());
    assert_eq!(flow.report().outcome(None), Outcome::Unchanged);
}

#[test]
fn r_rev_1_revoking_a_generation_the_family_never_reached_writes_nothing() {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 1, Timestamp::EPOCH);
    let t = w.keys.encode(&f.id, 2);
    let mut flow = w.engine.revoke(&t, w.client_id(), None);
    flow.next(Input::Start);
    flow.next(Input::Client(Some(w.client.clone())));
    assert!(matches!(flow.next(read(f, T)), Need::Done(Ok(()))));
    assert_eq!(flow.report().outcome(None), Outcome::Unchanged);
}

#[test]
fn r_ops_1_a_global_sign_out_that_revoked_nothing_is_unchanged() {
    let w = world(Some(10), ReusePolicy::Reject);
    for (count, outcome) in [(0, Outcome::Unchanged), (3, Outcome::Revoked)] {
        let mut flow = w.engine.global_sign_out("sub-1", T);
        assert!(matches!(
            flow.next(Input::Start),
            Need::RevokeSubject("sub-1")
        ));
        assert!(matches!(
            flow.next(Input::RevokedSubject(count)),
            Need::Done(Ok(n)) if n == count
        ));
        assert_eq!(flow.report().outcome(None), outcome, "{count} revoked");
        // The event is there either way, with the count (R-OPS-3).
        assert!(matches!(
            flow.report().events(),
            [SecurityEvent::GlobalSignOut { families_revoked, .. }] if *families_revoked == count
        ));
    }
}

/// R-OPS-3 with R-REV-7: a sign-in that finds its client deleted after creating the family revokes
/// it, and reports the family revoked only if its own write did it.
#[test]
fn r_ops_3_a_sign_in_racing_a_deletion_reports_the_family_only_if_it_revoked_it() {
    let w = world(Some(10), ReusePolicy::Reject);
    for was_live in [true, false] {
        let req = SignInRequest::new(w.client_id(), "alice");
        let mut flow = w.engine.sign_in(&req, T);
        flow.next(Input::Start);
        flow.next(Input::Client(Some(w.client.clone())));
        let family = match flow.next(Input::User(Some(w.user.clone()))) {
            Need::CreateFamily(f) => f,
            other => panic!("{other:?}"),
        };
        assert!(matches!(flow.next(Input::Created), Need::Client(_)));
        assert!(matches!(flow.next(Input::Client(None)), Need::Revoke(_)));
        assert!(matches!(
            flow.next(Input::Revoked(was_live)),
            Need::Done(Err(Error::ClientNotFound { .. }))
        ));
        let events = flow.report().events();
        if was_live {
            let id = family.id.to_uuid_string();
            assert!(
                matches!(events, [SecurityEvent::FamilyRevoked { family, .. }] if *family == id),
                "{events:?}"
            );
        } else {
            assert!(events.is_empty(), "{events:?}");
        }
    }
}

#[test]
fn r_rev_1_revoking_an_unknown_family_answers_success_and_writes_nothing() {
    let w = world(Some(10), ReusePolicy::Reject);
    let t = w.keys.encode(&FamilyId::from_bytes([9; 16]), 0);
    let mut flow = w.engine.revoke(&t, w.client_id(), None);
    flow.next(Input::Start);
    assert!(matches!(
        flow.next(Input::Client(Some(w.client.clone()))),
        Need::Family(_)
    ));
    let none = Input::Family {
        read: FamilyRead {
            family: None,
            time: None,
        },
        host_time: T,
    };
    assert!(matches!(flow.next(none), Need::Done(Ok(()))));
    let not_ours = RefreshToken::new("not-a-token");
    let mut flow = w.engine.revoke(&not_ours, w.client_id(), None);
    flow.next(Input::Start);
    assert!(matches!(
        flow.next(Input::Client(Some(w.client.clone()))),
        Need::Done(Err(Error::UnsupportedTokenType))
    ));
}

#[test]
fn r_per_5_a_user_read_with_the_family_is_used_only_if_it_is_the_familys() {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let with_user = |user: Option<Option<Arc<UserRecord>>>| {
        let Input::ClientAndFamily {
            client,
            read,
            host_time,
            ..
        } = joint(&w, f.clone(), None, at(1))
        else {
            unreachable!("joint answers ClientAndFamily")
        };
        Input::ClientAndFamily {
            client,
            read,
            host_time,
            user,
            witness: None,
        }
    };
    // The family's own user: no need to ask the directory; straight to the compare-and-set.
    let mut flow = w.engine.refresh(&req);
    flow.next(Input::Start);
    let step = format!("{:?}", flow.next(with_user(Some(Some(w.user.clone())))));
    assert!(step.starts_with("Advance"), "{step}");
    // The store found no such user: R-REF-8 at once.
    let mut flow = w.engine.refresh(&req);
    flow.next(Input::Start);
    assert!(matches!(
        flow.next(with_user(Some(None))),
        Need::Done(Err(Error::UserNotFound))
    ));
    // A user of another `sub` is not taken for the family's: the directory is asked.
    let stranger = Arc::new(UserRecord::new("sub-2", "mallory"));
    let mut flow = w.engine.refresh(&req);
    flow.next(Input::Start);
    assert!(matches!(
        flow.next(with_user(Some(Some(stranger)))),
        Need::UserBySubject("sub-1")
    ));
}

/// The first input of a refresh, with every part given.
fn first_read(
    client: Option<Arc<AppClient>>,
    read: Result<Option<Family>, Error>,
    user: Option<Option<Arc<UserRecord>>>,
) -> Input {
    Input::ClientAndFamily {
        client,
        read: read.map(|family| FamilyRead { family, time: None }),
        host_time: at(1),
        user,
        witness: None,
    }
}

#[test]
fn r_ref_2_r_ref_3_the_clients_answer_comes_before_anything_of_the_family() {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let plain = RefreshRequest::new(&t0, w.client_id());
    let mut with_secret = plain;
    with_secret.client_secret = Some(
        PresentedSecret::parse("1b4mrk9t07hpn4olvq0n5t2o8c1tbcaojvjh2ffs5jc2q31lmgv5").unwrap(),
    );
    let mut other_client = f.clone();
    Arc::make_mut(&mut other_client.info).client_id = Arc::from("someotherclient0000000000");
    let store_down = || Err(Error::from(StoreError::Unavailable("down".into())));
    let cases: Vec<(&RefreshRequest<'_>, Input, &str)> = vec![
        // No such client, though the family is live and the client's.
        (
            &plain,
            first_read(None, Ok(Some(f.clone())), None),
            "ClientNotFound",
        ),
        // No such client, and the family read failed.
        (
            &plain,
            first_read(None, store_down(), None),
            "ClientNotFound",
        ),
        // A secret the client does not have, with no family, another client's family, a failed read.
        (
            &with_secret,
            first_read(Some(w.client.clone()), Ok(None), None),
            "ClientHasNoSecret",
        ),
        (
            &with_secret,
            first_read(Some(w.client.clone()), Ok(Some(other_client.clone())), None),
            "ClientHasNoSecret",
        ),
        (
            &with_secret,
            first_read(Some(w.client.clone()), store_down(), None),
            "ClientHasNoSecret",
        ),
        // The client passes: then the family's answers, in their order.
        (
            &plain,
            first_read(Some(w.client.clone()), store_down(), None),
            "Store",
        ),
        (
            &plain,
            first_read(Some(w.client.clone()), Ok(None), None),
            "InvalidRefreshToken",
        ),
        (
            &plain,
            first_read(Some(w.client.clone()), Ok(Some(other_client)), None),
            "RefreshTokenOfOtherClient",
        ),
    ];
    for (req, input, expected) in cases {
        let mut flow = w.engine.refresh(req);
        assert!(matches!(
            flow.next(Input::Start),
            Need::ClientAndFamily { .. }
        ));
        let answer = format!("{:?}", flow.next(input));
        assert!(
            answer.starts_with(&format!("Done(Err({expected}")),
            "{expected}: {answer}"
        );
        // Nothing of the family is reported for a request the client's checks refused.
        if !matches!(
            expected,
            "Store" | "InvalidRefreshToken" | "RefreshTokenOfOtherClient"
        ) {
            assert!(flow.report().family().is_none(), "{expected}");
        }
    }
}

#[test]
fn r_ref_8_a_disabled_user_read_with_the_family_is_refused() {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let mut disabled = UserRecord::new("sub-1", "alice");
    disabled.enabled = false;
    let mut flow = w.engine.refresh(&req);
    flow.next(Input::Start);
    assert!(matches!(
        flow.next(first_read(
            Some(w.client.clone()),
            Ok(Some(f)),
            Some(Some(Arc::new(disabled)))
        )),
        Need::Done(Err(Error::UserDisabled))
    ));
}

/// After a flow went back to read: the read of `f` (without a witness), the directory's user, and the
/// advance that follows, which carries no witness.
fn read_then_advance(w: &World, flow: &mut RefreshFlow<'_>, f: &Family) {
    assert!(matches!(
        flow.next(joint(w, f.clone(), None, at(1))),
        Need::UserBySubject("sub-1")
    ));
    let step = flow.next(Input::User(Some(w.user.clone())));
    assert!(
        matches!(step, Need::Advance { witness: None, .. }),
        "{step:?}"
    );
}

/// The first input of a refresh, answered from the store's memory.
fn remembered(w: &World, f: Family, user: Arc<UserRecord>) -> Input {
    Input::ClientAndFamily {
        client: Some(w.client.clone()),
        read: Ok(FamilyRead {
            family: Some(f),
            time: Some(at(1)),
        }),
        host_time: at(1),
        user: Some(Some(user)),
        witness: Some(crate::store::ReadWitness::new(7u8)),
    }
}

#[test]
fn r_per_5_an_answer_from_memory_leads_only_to_a_witnessed_advance() {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);

    // The current token: a witnessed advance.
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let mut flow = w.engine.refresh(&req);
    assert!(matches!(
        flow.next(Input::Start),
        Need::ClientAndFamily { fresh: false, .. }
    ));
    let step = flow.next(remembered(&w, f.clone(), w.user.clone()));
    assert!(
        matches!(&step, Need::Advance { witness: Some(w), .. } if w.downcast_ref::<u8>() == Some(&7)),
        "{step:?}"
    );
    // It did not happen: read again, then decide on the read, without the witness.
    let step = flow.next(Input::Advanced(Advance::Unchanged(f.state)));
    assert!(
        matches!(step, Need::ClientAndFamily { fresh: true, family, .. } if family == f.id),
        "{step:?}"
    );
    read_then_advance(&w, &mut flow, &f);

    // Anything but an advance on an answer from memory is not answered: a retry in grace (the family
    // is one ahead), a disabled user, a family of another client. Each reads again first.
    let mut ahead = f.clone();
    ahead.state = FamilyState {
        generation: 1,
        grace_deadline: at(11),
        ..FamilyState::new(1)
    };
    let mut disabled = UserRecord::new("sub-1", "alice");
    disabled.enabled = false;
    let mut foreign = f.clone();
    Arc::make_mut(&mut foreign.info).client_id = Arc::from("someotherclient0000000000");
    for (family, user) in [
        (ahead, w.user.clone()),
        (f.clone(), Arc::new(disabled)),
        (foreign, w.user.clone()),
    ] {
        let mut flow = w.engine.refresh(&req);
        flow.next(Input::Start);
        let step = flow.next(remembered(&w, family, user));
        assert!(
            matches!(step, Need::ClientAndFamily { fresh: true, .. }),
            "{step:?}"
        );
        assert!(flow.report().family().is_none(), "nothing reported of it");
    }
}

#[test]
fn r_per_5_no_rotation_a_reuse_revocation_or_a_hook_never_rests_on_an_answer_from_memory() {
    // Rotation off: the answer would need no write; on memory it is not given, the engine reads.
    let w = world(None, ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let mut flow = w.engine.refresh(&req);
    flow.next(Input::Start);
    assert!(matches!(
        flow.next(remembered(&w, f.clone(), w.user.clone())),
        Need::ClientAndFamily { fresh: true, .. }
    ));
    // The read that follows carries a witness (a store that should not have given one): ignored, the
    // answer rests on the read.
    let mut read = remembered(&w, f.clone(), w.user.clone());
    if let Input::ClientAndFamily { read: r, .. } = &mut read {
        *r = Ok(FamilyRead {
            family: Some(f.clone()),
            time: None,
        });
    }
    assert!(matches!(flow.next(read), Need::Done(Ok(t)) if t.refresh_token.is_none()));

    // A reuse under RevokeFamily: no revocation on memory; read first.
    let w = world(Some(0), ReusePolicy::RevokeFamily);
    let mut ahead = family(&w, 1, Timestamp::EPOCH);
    ahead.state.grace_deadline = Timestamp::EPOCH;
    let t0 = w.keys.encode(&ahead.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let mut flow = w.engine.refresh(&req);
    flow.next(Input::Start);
    let step = flow.next(remembered(&w, ahead.clone(), w.user.clone()));
    assert!(
        matches!(step, Need::ClientAndFamily { fresh: true, .. }),
        "{step:?}"
    );
    assert!(flow.report().events().is_empty());
    // On the read: the revocation.
    assert!(matches!(
        flow.next(joint(&w, ahead, None, at(1))),
        Need::UserBySubject(_)
    ));
    assert!(matches!(
        flow.next(Input::User(Some(w.user.clone()))),
        Need::Revoke(_)
    ));

    // An engine with a hook asks for a read from the start.
    let w = world(Some(10), ReusePolicy::Reject);
    let hooked = hooked_engine(&w);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let mut flow = hooked.refresh(&req);
    assert!(matches!(
        flow.next(Input::Start),
        Need::ClientAndFamily { fresh: true, .. }
    ));
    // A witness given anyway is ignored: the hook is asked, on the answer given.
    assert!(matches!(
        flow.next(remembered(&w, f, w.user.clone())),
        Need::Hook(_)
    ));
}

#[test]
fn r_ref_3_the_legacy_flow_refuses_a_missing_secret_hash_before_the_token_or_the_family() {
    // A client with a secret and without rotation (the legacy flow refuses rotating clients).
    let w = world_with(None, ReusePolicy::Reject, NewClientSecret::Generate, false);
    let f = family(&w, 0, Timestamp::EPOCH);
    let missing = |need: Need<'_, TokenSet>| {
        assert!(
            matches!(need, Need::Done(Err(Error::ClientSecretMissing { .. }))),
            "{need:?}"
        );
    };
    // A forged token: refused for the missing hash, as a refresh without its secret would be.
    let forged = RefreshToken::new("forged");
    let req = LegacyRefreshRequest::new(&forged, w.client_id());
    let mut flow = w.engine.legacy_refresh(&req);
    assert!(matches!(flow.next(Input::Start), Need::Client(_)));
    missing(flow.next(Input::Client(Some(w.client.clone()))));
    // A valid token, of another client's family: nothing of the family is told either.
    let t0 = w.keys.encode(&f.id, 0);
    let req = LegacyRefreshRequest::new(&t0, w.client_id());
    let mut other = f.clone();
    Arc::make_mut(&mut other.info).client_id = Arc::from("someotherclient0000000000");
    let mut flow = w.engine.legacy_refresh(&req);
    assert!(matches!(
        flow.next(Input::Start),
        Need::ClientAndFamily { .. }
    ));
    missing(flow.next(joint(&w, other, None, at(5))));
}

#[test]
fn r_fam_4_a_store_answer_about_another_family_is_refused_not_minted_for() {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let mut stranger = f.clone();
    stranger.id = FamilyId::from_bytes([9; 16]);
    let mut flow = w.engine.refresh(&req);
    flow.next(Input::Start);
    let step = flow.next(joint(&w, stranger, None, at(5)));
    assert!(
        matches!(step, Need::Done(Err(Error::Internal { .. }))),
        "{step:?}"
    );
}

#[test]
fn r_rot_1_an_advance_answered_with_another_state_than_the_one_asked_for_is_refused() {
    // The generation must be the next one and the key the one asked for (R-ROT-10): key 2 is in the
    // world's ring, so a successor under it could be minted, and must not be.
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    for (generation, key_id) in [(0, 1), (2, 1), (1, 2)] {
        let (mut flow, step) = refresh_until_write(&w, &req, f.clone(), at(5));
        assert!(step.starts_with("Advance"), "{step}");
        let wrong = FamilyState {
            generation,
            grace_deadline: at(15),
            ..FamilyState::new(key_id)
        };
        let step = flow.next(Input::Advanced(Advance::Advanced(wrong)));
        assert!(
            matches!(step, Need::Done(Err(Error::Internal { .. }))),
            "generation {generation}, key {key_id}: {step:?}"
        );
    }
}

/// Drives a refresh of a family at `generation` to its compare-and-set, and hands the flow and the
/// family to `then`, to answer it.
fn at_advance(generation: u32, then: impl FnOnce(&mut RefreshFlow<'_>, &Family)) {
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, generation, Timestamp::EPOCH);
    let t = w.keys.encode(&f.id, generation);
    let req = RefreshRequest::new(&t, w.client_id());
    let (mut flow, step) = refresh_until_write(&w, &req, f.clone(), at(5));
    assert!(step.starts_with("Advance"), "{step}");
    then(&mut flow, &f);
}

#[test]
fn r_rot_5_an_unchanged_advance_at_the_expected_generation_reads_again() {
    // A store that refuses the compare-and-set without moving the generation (an expired family, say):
    // the engine reads and decides on what it reads, rather than calling the generation exhausted.
    at_advance(0, |flow, f| {
        let step = flow.next(Input::Advanced(Advance::Unchanged(f.state)));
        assert!(matches!(step, Need::Family(id) if id == f.id), "{step:?}");
        let mut expired = f.clone();
        Arc::make_mut(&mut expired.info).expires_at = at(4);
        let step = flow.next(read(expired, at(6)));
        assert!(
            matches!(step, Need::Done(Err(Error::RefreshTokenExpired))),
            "{step:?}"
        );
    });
}

/// R-ROT-1: a generation at `u32::MAX` cannot advance. The store's `Unchanged` at that generation ends
/// the refresh at once: no read again, no second compare-and-set.
#[test]
fn r_rot_1_an_exhausted_generation_is_refused_without_another_read() {
    at_advance(u32::MAX, |flow, f| {
        let step = flow.next(Input::Advanced(Advance::Unchanged(f.state)));
        assert!(
            matches!(step, Need::Done(Err(Error::Internal { .. }))),
            "{step:?}"
        );
    });
}

/// R-REF-6: a compare-and-set refused because the family was revoked since it was read (a concurrent
/// RevokeToken) answers `Refresh Token has been revoked` at once, without reading the family again.
#[test]
fn r_ref_6_an_advance_refused_for_a_revoked_family_answers_revoked_at_once() {
    at_advance(0, |flow, f| {
        let revoked = FamilyState {
            revoked: true,
            ..f.state
        };
        let step = flow.next(Input::Advanced(Advance::Unchanged(revoked)));
        assert!(
            matches!(step, Need::Done(Err(Error::RefreshTokenRevoked))),
            "{step:?}"
        );
    });
}

#[test]
fn r_ref_9_a_device_another_request_bound_first_decides_what_this_one_may_do() {
    // A retry (generation 1 is current, the window open) on a family without a device, in a pool that
    // tracks devices: the engine issues one, but another request binds its own first.
    let w = world_with(Some(10), ReusePolicy::Reject, NewClientSecret::None, true);
    let f = family(&w, 1, at(10));
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let bound_elsewhere = |confirmed: bool, id: [u8; 16]| {
        let mut b = f.clone();
        b.id = FamilyId::from_bytes(id);
        Arc::make_mut(&mut b.info).device_key = Some("us-east-1_d1".into());
        b.state.device_confirmed = confirmed;
        b
    };
    // Confirmed by its owner: this request named no device, so it is refused (R-REF-9).
    // Unconfirmed: it is announced again, as on a read. Another family: the store is wrong.
    for (confirmed, id, expect) in [
        (true, [5; 16], "Done(Err(InvalidRefreshToken))"),
        (false, [5; 16], "announce"),
        (false, [9; 16], "Done(Err(Internal"),
    ] {
        let (mut flow, step) = refresh_until_write(&w, &req, f.clone(), at(5));
        assert!(step.starts_with("BindDevice"), "{step}");
        let step = flow.next(Input::DeviceBound(Some(bound_elsewhere(confirmed, id))));
        match step {
            Need::Done(Ok(tokens)) if expect == "announce" => {
                let device = tokens.new_device.expect("announced");
                assert_eq!(device.device_key, "us-east-1_d1");
            }
            other => {
                let other = format!("{other:?}");
                assert!(other.starts_with(expect), "confirmed {confirmed}: {other}");
            }
        }
    }
}

#[test]
fn r_per_5_a_token_size_refusal_on_an_answer_from_memory_reads_again() {
    // R-PER-5: on an answer from memory, "any other decision (a retry, a reuse, any refusal) ... send[s]
    // the engine back to read and decide again". The remembered user may be stale: here its attributes
    // would make the tokens longer than 16 KiB (R-JWT-6), a refusal that must not rest on memory.
    let w = world(Some(10), ReusePolicy::Reject);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let stale = Arc::new(
        UserRecord::new("sub-1", "alice").with_attribute("custom:blob", "a".repeat(20_000)),
    );
    let mut flow = w.engine.refresh(&req);
    assert!(matches!(
        flow.next(Input::Start),
        Need::ClientAndFamily { fresh: false, .. }
    ));
    let step = flow.next(remembered(&w, f.clone(), stale));
    assert!(
        matches!(step, Need::ClientAndFamily { fresh: true, .. }),
        "a refusal decided on an answer from memory: {step:?}"
    );
    // On the read, with the user as the directory has it now, the refresh advances.
    read_then_advance(&w, &mut flow, &f);
}

/// R-REF-9 with R-REF-1: every device key the pool issues is one the client can present again
/// (DeviceKeyType: 1 to 55 characters of `[\w-]+_[0-9a-f-]+`), whatever region the host configured.
#[test]
fn r_ref_9_issued_device_keys_match_device_key_type_for_any_region() {
    for region in [
        "us-east-1",
        "eu-local-devstack-1",
        "a-region-name-far-longer-than-any-aws-region",
        "région spéciale",
        "",
    ] {
        let engine = Engine::new(EngineSettings {
            region: region.into(),
            issuer_url: "https://issuer.example".into(),
            signer: TokenSigner::new(Arc::new(
                SigningKey::generate(Algorithm::EdDSA, "k").unwrap(),
            )),
            refresh_keys: RefreshTokenKeys::new(RefreshTokenKey::new(1, &[7; 32]).unwrap()),
            rng: Arc::new(SystemRandom::new()),
            device_tracking: true,
            reuse_policy: ReusePolicy::Reject,
            hook: false,
        });
        let key = engine.new_device_key().unwrap();
        assert!(DeviceKey::parse(&key).is_ok(), "{region:?} gave {key:?}");
        if region == "us-east-1" {
            assert!(key.starts_with("us-east-1_"), "{key}");
        }
    }
}

/// R-JWT-6 with R-REF-11: a token too long because of the user's attributes is the pool's failure
/// (`InternalErrorException`), not the hook's, when nothing the hook answered reaches a token: claims
/// the issuer owns are ignored (`sub`, `event_id`), and a claim both added and suppressed is
/// suppressed. Only when its answer is what makes a token too long is the hook refused.
#[test]
fn r_jwt_6_an_oversized_token_is_the_hooks_failure_only_when_its_answer_made_it_so() {
    let w = world(Some(10), ReusePolicy::Reject);
    let hooked = hooked_engine(&w);
    let f = family(&w, 0, Timestamp::EPOCH);
    let t0 = w.keys.encode(&f.id, 0);
    let req = RefreshRequest::new(&t0, w.client_id());
    let run = |user: UserRecord, answer: crate::hook::ClaimsOverride| {
        let mut flow = hooked.refresh(&req);
        assert!(matches!(
            flow.next(Input::Start),
            Need::ClientAndFamily { .. }
        ));
        assert!(matches!(
            flow.next(joint(&w, f.clone(), None, at(5))),
            Need::UserBySubject("sub-1")
        ));
        assert!(matches!(
            flow.next(Input::User(Some(Arc::new(user)))),
            Need::Hook(_)
        ));
        match flow.next(Input::Hook(Ok(answer))) {
            Need::Done(Err(e)) => e.exception_name(),
            other => panic!("{other:?}"),
        }
    };
    let large =
        || UserRecord::new("sub-1", "alice").with_attribute("custom:blob", "a".repeat(17_000));
    // The attributes alone are too long, and nothing of the hook's answer reaches a token: claims the
    // issuer owns, and one both added and suppressed.
    let mut answer = crate::hook::ClaimsOverride::default();
    for name in ["sub", "event_id", "token_use", "custom:gone"] {
        answer
            .claims_to_add_or_override
            .insert(name.into(), serde_json::json!("x".repeat(4_000)));
    }
    answer.claims_to_suppress.push("custom:gone".into());
    assert_eq!(run(large(), answer), "InternalErrorException");
    // Its claims that do reach the ID token are small: still the attributes' failure.
    let mut answer = crate::hook::ClaimsOverride::default();
    answer
        .claims_to_add_or_override
        .insert("tenant".into(), serde_json::json!("t1"));
    assert_eq!(run(large(), answer), "InternalErrorException");
    // The hook's own claim makes the token too long: its failure.
    let mut answer = crate::hook::ClaimsOverride::default();
    answer
        .claims_to_add_or_override
        .insert("tenant".into(), serde_json::json!("t".repeat(17_000)));
    assert_eq!(
        run(UserRecord::new("sub-1", "alice"), answer),
        "UserLambdaValidationException"
    );
    // So do groups it puts in both tokens.
    let answer = crate::hook::ClaimsOverride {
        groups_to_override: Some(vec!["g".repeat(13_000)]),
        ..Default::default()
    };
    assert_eq!(
        run(UserRecord::new("sub-1", "alice"), answer),
        "UserLambdaValidationException"
    );
    // A claim of its own where it removed the user's groups, as long as they were: its failure too
    // (measured without its claim, with its removal of the groups, the tokens fit).
    let mut answer = crate::hook::ClaimsOverride {
        groups_to_override: Some(vec![]),
        ..Default::default()
    };
    answer
        .claims_to_add_or_override
        .insert("tenant".into(), serde_json::json!("t".repeat(17_000)));
    let grouped = UserRecord::new("sub-1", "alice").with_group("g".repeat(17_000));
    assert_eq!(run(grouped, answer), "UserLambdaValidationException");
    // And a claim of its own as long as the attribute it suppresses.
    let mut answer = crate::hook::ClaimsOverride::default();
    answer.claims_to_suppress.push("custom:blob".into());
    answer
        .claims_to_add_or_override
        .insert("tenant".into(), serde_json::json!("t".repeat(17_000)));
    assert_eq!(run(large(), answer), "UserLambdaValidationException");
}

/// The world's engine with a pre-token-generation hook: every flow asks for its answer.
fn hooked_engine(w: &World) -> Engine {
    Engine::new(EngineSettings {
        region: "us-east-1".into(),
        issuer_url: "https://issuer.example".into(),
        signer: TokenSigner::new(Arc::new(
            SigningKey::generate(Algorithm::EdDSA, "k").unwrap(),
        )),
        refresh_keys: w.keys.clone(),
        rng: Arc::new(SystemRandom::new()),
        device_tracking: false,
        reuse_policy: ReusePolicy::Reject,
        hook: true,
    })
}

#[test]
fn r_safe_1_sign_in_refuses_malformed_scopes_with_its_other_shape_checks() {
    // Username and ClientMetadata are checked at Start, before the client, the directory or the hook
    // is asked; a scope list without the shape of one (here a scope with a space) must be too.
    let w = world(Some(10), ReusePolicy::Reject);
    let engine = hooked_engine(&w);
    let scopes = vec!["openid profile".to_string()];
    let mut req = SignInRequest::new(w.client_id(), "alice");
    req.scopes = Some(&scopes);
    let mut flow = engine.sign_in(&req, T);
    let step = flow.next(Input::Start);
    assert!(
        matches!(step, Need::Done(Err(Error::InvalidParameter { .. }))),
        "asked {step:?} before refusing the scopes' shape"
    );
}

/// R-SIGN-3: a scope the client does not allow is refused as soon as the client is read: the user is not
/// looked up and the hook does not run for a sign-in that can only fail, and the answer is the scope's
/// refusal whatever the user or the hook would have said.
#[test]
fn r_sign_3_a_disallowed_scope_is_refused_when_the_client_is_read() {
    let w = world(Some(10), ReusePolicy::Reject);
    let engine = hooked_engine(&w);
    let scopes = vec!["openid".to_owned()];
    let mut req = SignInRequest::new(w.client_id(), "alice");
    req.scopes = Some(&scopes);
    let mut flow = engine.sign_in(&req, T);
    assert!(matches!(flow.next(Input::Start), Need::Client(_)));
    let step = flow.next(Input::Client(Some(w.client.clone())));
    assert!(
        matches!(&step, Need::Done(Err(Error::InvalidParameter { message })) if message.contains("Scope openid is not allowed")),
        "{step:?}"
    );
}
