//! Operations (SPEC 15): traces without secrets (R-OPS-1), metrics (R-OPS-2), security events
//! (R-OPS-3) and live key rotation (R-OPS-4), through the public API of both drivers.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::fmt::{Debug, Write as _};
use std::sync::{Arc, Barrier, Mutex};

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use refresh_rotation::clock::{ManualClock, Timestamp};
use refresh_rotation::config::RefreshTokenRotation;
use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
use refresh_rotation::driver::telemetry;
use refresh_rotation::engine::{ClientId, DeviceKey, PresentedSecret, SecretHash};
use refresh_rotation::events::RevocationCause;
use refresh_rotation::events::SecurityEvent;
use refresh_rotation::jwt::{Algorithm, JwtVerifier, NoRevocationCheck, SigningKey, TokenSigner};
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::{FamilyId, InMemoryRefreshTokenStore, RefreshTokenStore};
use refresh_rotation::*;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

const SECRET: &str = "MarkerClientSecret000000000000000000000001";
const WRONG_SECRET: &str = "MarkerWrongSecret0000000000000000000000002";
const START: i64 = 1_700_000_000;

/// Every security event the sink received, with whether the store already showed the family revoked
/// when the sink was called.
type Received = Arc<Mutex<Vec<(SecurityEvent, Option<bool>)>>>;

struct Pool {
    issuer: TokenIssuer,
    clock: Arc<ManualClock>,
    store: Arc<InMemoryRefreshTokenStore>,
    users: Arc<InMemoryUserDirectory>,
    registry: Arc<ClientRegistry>,
    rotating: String,
    legacy: String,
    events: Received,
}

fn signing_key(kid: &str) -> Arc<SigningKey> {
    Arc::new(SigningKey::generate(Algorithm::EdDSA, kid).unwrap())
}

fn pool(grace: u8, policy: ReusePolicy, device_tracking: bool) -> Pool {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(START)));
    let rng = Arc::new(SystemRandom::new());
    let registry = Arc::new(ClientRegistry::new(
        "us-east-1_Ops",
        clock.clone(),
        rng.clone(),
    ));
    let users = Arc::new(InMemoryUserDirectory::new());
    users
        .put(UserRecord::new(
            "0f6c3a4e-0000-4000-8000-000000000001",
            "alice",
        ))
        .unwrap();
    let rotating = registry
        .create_client(
            AppClientConfig::builder("rotating")
                .refresh_token_rotation(RefreshTokenRotation::enabled(grace).unwrap()),
            NewClientSecret::Provided(ClientSecret::new(SECRET)),
        )
        .unwrap()
        .client_id()
        .to_string();
    let legacy = registry
        .create_client(
            AppClientConfig::builder("legacy"),
            NewClientSecret::Provided(ClientSecret::new(SECRET)),
        )
        .unwrap()
        .client_id()
        .to_string();
    let store = Arc::new(InMemoryRefreshTokenStore::new());
    let events: Received = Arc::default();
    let sink = {
        let (events, store) = (events.clone(), store.clone());
        move |e: &SecurityEvent| {
            // What the store says at the moment of the call: the event must follow the write.
            let revoked = match e {
                SecurityEvent::FamilyRevoked { family, .. }
                | SecurityEvent::ReuseDetected { family, .. } => {
                    let id = FamilyId::from_uuid_str(family).unwrap();
                    RefreshTokenStore::read(&*store, &id)
                        .unwrap()
                        .family
                        .map(|f| f.state.revoked)
                }
                _ => None,
            };
            events.lock().unwrap().push((e.clone(), revoked));
        }
    };
    let issuer = TokenIssuer::builder(
        "us-east-1",
        TokenSigner::new(signing_key("k1")),
        RefreshTokenKeys::new(RefreshTokenKey::new(1, &[7; 32]).unwrap()),
        registry.clone(),
        store.clone(),
        users.clone(),
    )
    .clock(clock.clone())
    .reuse_policy(policy)
    .device_tracking(device_tracking)
    .security_events(Arc::new(sink))
    .build();
    Pool {
        issuer,
        clock,
        store,
        users,
        registry,
        rotating,
        legacy,
        events,
    }
}

impl Pool {
    fn sign_in(&self, client_id: &str) -> TokenSet {
        let mut req = SignInRequest::new(ClientId::parse(client_id).unwrap(), "alice");
        req.client_secret = Some(PresentedSecret::parse(SECRET).unwrap());
        self.issuer.sign_in(&req).unwrap()
    }

    fn refresh(&self, token: &RefreshToken) -> Result<TokenSet, Error> {
        let mut req = RefreshRequest::new(token, ClientId::parse(&self.rotating).unwrap());
        req.client_secret = Some(PresentedSecret::parse(SECRET).unwrap());
        self.issuer.get_tokens_from_refresh_token(&req)
    }

    fn events(&self) -> Vec<(SecurityEvent, Option<bool>)> {
        self.events.lock().unwrap().clone()
    }

    fn verifier(&self) -> JwtVerifier {
        JwtVerifier::new(self.issuer.issuer_url(), &self.issuer.keys().jwks()).unwrap()
    }
}

// ---------------------------------------------------------------------------------------------------
// A capturing subscriber: every span, every recorded field, every event, as text.

/// Lines captured on each thread.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(std::thread::ThreadId, String)>>>);

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let m = attrs.metadata();
        let mut line = format!("span {} target={}", m.name(), m.target());
        attrs.record(&mut Fields(&mut line));
        self.push(line);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let name = ctx.span(id).map(|s| s.name()).unwrap_or("?");
        let mut line = format!("record {name}");
        values.record(&mut Fields(&mut line));
        self.push(line);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let parent = ctx.event_span(event).map(|s| s.name()).unwrap_or("-");
        let mut line = format!("event {} in {parent}", event.metadata().level());
        event.record(&mut Fields(&mut line));
        self.push(line);
    }
}

/// One global subscriber for the whole test binary, installed once; each test reads the lines of its own
/// thread. (Scoped subscribers that come and go on parallel test threads race `tracing`'s per-call-site
/// cache of whether anyone is interested, and can miss spans.)
fn capture() -> Capture {
    static GLOBAL: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
    GLOBAL
        .get_or_init(|| {
            let capture = Capture::default();
            tracing::subscriber::set_global_default(Registry::default().with(capture.clone()))
                .expect("the only global subscriber");
            capture
        })
        .clone()
}

impl Capture {
    fn push(&self, line: String) {
        let me = std::thread::current().id();
        self.0.lock().unwrap().push((me, line));
    }

    /// Everything captured on this thread.
    fn text(&self) -> String {
        let me = std::thread::current().id();
        let lines = self.0.lock().unwrap();
        let mine: Vec<&str> = lines
            .iter()
            .filter(|(t, _)| *t == me)
            .map(|(_, l)| l.as_str())
            .collect();
        mine.join("\n")
    }
}

#[test]
fn r_ops_1_every_operation_has_a_span_with_its_outcome_and_no_secret() {
    let p = pool(5, ReusePolicy::RevokeFamily, true);
    let capture = capture();
    let mut markers: Vec<String> = vec![SECRET.into(), WRONG_SECRET.into()];
    {
        // Sign-in with the client secret; the pool issues a device.
        let first = p.sign_in(&p.rotating);
        let t0 = first.refresh_token.clone().unwrap();
        let device = first.new_device.clone().unwrap().device_key;
        markers.extend([
            t0.expose_secret().to_owned(),
            device.clone(),
            first.access_token.clone(),
            first.id_token.clone(),
        ]);
        // Refresh with the device key: advanced, then a retry.
        let mut req = RefreshRequest::new(&t0, ClientId::parse(&p.rotating).unwrap());
        req.client_secret = Some(PresentedSecret::parse(SECRET).unwrap());
        req.device_key = Some(DeviceKey::parse(&device).unwrap());
        let r1 = p.issuer.get_tokens_from_refresh_token(&req).unwrap();
        let t1 = r1.refresh_token.clone().unwrap();
        markers.extend([t1.expose_secret().to_owned(), r1.access_token.clone()]);
        p.issuer.get_tokens_from_refresh_token(&req).unwrap();
        // Failures: a wrong secret, a garbage token, reuse after the window.
        let mut bad = RefreshRequest::new(&t1, ClientId::parse(&p.rotating).unwrap());
        bad.client_secret = Some(PresentedSecret::parse(WRONG_SECRET).unwrap());
        bad.device_key = Some(DeviceKey::parse(&device).unwrap());
        assert!(p.issuer.get_tokens_from_refresh_token(&bad).is_err());
        let garbage = RefreshToken::new("MarkerGarbageRefreshToken");
        markers.push(garbage.expose_secret().to_owned());
        assert!(p.refresh(&garbage).is_err());
        p.clock.advance(10);
        assert_eq!(
            p.issuer.get_tokens_from_refresh_token(&req).unwrap_err(),
            Error::RefreshTokenReused
        );
        // The legacy flow with a SECRET_HASH.
        let legacy = p.sign_in(&p.legacy);
        let lt = legacy.refresh_token.clone().unwrap();
        let hash = ClientSecret::new(SECRET).secret_hash("alice", &p.legacy);
        markers.extend([lt.expose_secret().to_owned(), hash.clone()]);
        let mut lreq = LegacyRefreshRequest::new(&lt, ClientId::parse(&p.legacy).unwrap());
        lreq.secret_hash = Some(SecretHash::parse(&hash).unwrap());
        lreq.device_key = legacy
            .new_device
            .as_ref()
            .map(|d| DeviceKey::parse(&d.device_key).unwrap());
        p.issuer.legacy_refresh(&lreq).unwrap();
        // RevokeToken and global sign-out.
        p.issuer
            .revoke_token(
                &lt,
                ClientId::parse(&p.legacy).unwrap(),
                Some(PresentedSecret::parse(SECRET).unwrap()),
            )
            .unwrap();
        let again = p.sign_in(&p.rotating);
        markers.push(again.refresh_token.unwrap().expose_secret().to_owned());
        assert_eq!(p.issuer.global_sign_out_username("alice").unwrap(), 1);
        // The asynchronous driver, with the same subscriber.
        let async_issuer = AsyncTokenIssuer::builder(
            "us-east-1",
            TokenSigner::new(signing_key("k9")),
            RefreshTokenKeys::new(RefreshTokenKey::new(1, &[7; 32]).unwrap()),
            p.registry.clone(),
            p.store.clone(),
            p.users.clone(),
        )
        .clock(p.clock.clone())
        .build();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let mut req = SignInRequest::new(ClientId::parse(&p.rotating).unwrap(), "alice");
            req.client_secret = Some(PresentedSecret::parse(SECRET).unwrap());
            let a = async_issuer.sign_in(&req).await.unwrap();
            let at = a.refresh_token.unwrap();
            markers.push(at.expose_secret().to_owned());
            let mut r = RefreshRequest::new(&at, ClientId::parse(&p.rotating).unwrap());
            r.client_secret = Some(PresentedSecret::parse(SECRET).unwrap());
            let next = async_issuer
                .get_tokens_from_refresh_token(&r)
                .await
                .unwrap();
            markers.push(next.refresh_token.unwrap().expose_secret().to_owned());
            async_issuer
                .revoke_token(
                    &at,
                    ClientId::parse(&p.rotating).unwrap(),
                    Some(PresentedSecret::parse(SECRET).unwrap()),
                )
                .await
                .unwrap();
        });
    }
    let text = capture.text();
    for m in &markers {
        assert!(
            !text.contains(m.as_str()),
            "{m} appears in the traces:\n{text}"
        );
        // Nor any long piece of one (a prefix, a suffix).
        for piece in [&m[..20], &m[m.len() - 20..]] {
            assert!(!text.contains(piece), "{piece} appears in the traces");
        }
    }
    for line in [
        "span sign_in target=refresh_rotation client_id=",
        "record sign_in outcome=issued",
        "record refresh outcome=advanced",
        "record refresh outcome=retry",
        "record refresh outcome=client_error",
        "record refresh outcome=invalid",
        "record refresh outcome=reuse",
        "record legacy_refresh outcome=no_rotation",
        "record revoke outcome=revoked",
        "record global_sign_out outcome=revoked",
        "event WARN in refresh",
        "refresh token reuse detected",
        "record refresh error=RefreshTokenReuseException",
    ] {
        assert!(text.contains(line), "no `{line}` in:\n{text}");
    }
    // The family appears as its origin_jti, a UUID.
    let family_line = text
        .lines()
        .find(|l| l.starts_with("record refresh family="))
        .unwrap();
    let jti = family_line.trim_start_matches("record refresh family=");
    assert!(FamilyId::from_uuid_str(jti).is_some(), "{family_line}");
    // Two spans of the async driver are there too (sign_in, refresh, revoke).
    assert!(text.matches("span sign_in").count() >= 4);
}

// ---------------------------------------------------------------------------------------------------

/// A metric's name, labels and value.
type Sample = (String, Vec<(String, String)>, DebugValue);

fn metric<'s>(
    snapshot: &'s [Sample],
    name: &str,
    labels: &[(&str, &str)],
) -> Option<&'s DebugValue> {
    snapshot
        .iter()
        .find(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && labels
                    .iter()
                    .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| v)
}

/// Every metric the recorder behind `snapshotter` holds, as name, labels and value.
fn samples(snapshotter: &metrics_util::debugging::Snapshotter) -> Vec<Sample> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(k, _, _, v)| {
            let key = k.key();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            (key.name().to_owned(), labels, v)
        })
        .collect()
}

fn counter(snapshot: &[Sample], name: &str, labels: &[(&str, &str)]) -> u64 {
    match metric(snapshot, name, labels) {
        Some(DebugValue::Counter(n)) => *n,
        None => 0,
        Some(other) => panic!("{name} is not a counter: {other:?}"),
    }
}

#[test]
fn r_ops_2_metrics_count_outcomes_without_identifiers() {
    let p = pool(5, ReusePolicy::Reject, false);
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        telemetry::describe_metrics();
        let t0 = p.sign_in(&p.rotating).refresh_token.unwrap();
        p.refresh(&t0).unwrap();
        p.refresh(&t0).unwrap();
        p.clock.advance(10);
        assert_eq!(p.refresh(&t0).unwrap_err(), Error::RefreshTokenReused);
        assert!(p.refresh(&RefreshToken::new("nope")).is_err());
        let legacy = p.sign_in(&p.legacy).refresh_token.unwrap();
        let hash = ClientSecret::new(SECRET).secret_hash("alice", &p.legacy);
        let mut lreq = LegacyRefreshRequest::new(&legacy, ClientId::parse(&p.legacy).unwrap());
        lreq.secret_hash = Some(SecretHash::parse(&hash).unwrap());
        p.issuer.legacy_refresh(&lreq).unwrap();
        p.issuer
            .revoke_token(
                &legacy,
                ClientId::parse(&p.legacy).unwrap(),
                Some(PresentedSecret::parse(SECRET).unwrap()),
            )
            .unwrap();
        p.issuer
            .revoke_token(
                &legacy,
                ClientId::parse(&p.legacy).unwrap(),
                Some(PresentedSecret::parse(SECRET).unwrap()),
            )
            .unwrap();
        assert_eq!(
            p.issuer
                .global_sign_out("0f6c3a4e-0000-4000-8000-000000000001")
                .unwrap(),
            1
        );
    });
    let snapshot = samples(&snapshotter);
    let s = &snapshot[..];
    let refresh = |outcome| {
        counter(
            s,
            telemetry::REFRESH_TOTAL,
            &[("operation", "refresh"), ("outcome", outcome)],
        )
    };
    assert_eq!(refresh("advanced"), 1);
    assert_eq!(refresh("retry"), 1);
    assert_eq!(refresh("reuse"), 1);
    assert_eq!(refresh("invalid"), 1);
    assert_eq!(
        counter(
            s,
            telemetry::REFRESH_TOTAL,
            &[("operation", "legacy_refresh"), ("outcome", "no_rotation")]
        ),
        1
    );
    assert_eq!(
        counter(s, telemetry::SIGN_IN_TOTAL, &[("outcome", "issued")]),
        2
    );
    assert_eq!(
        counter(s, telemetry::REVOKE_TOTAL, &[("outcome", "revoked")]),
        1
    );
    assert_eq!(
        counter(s, telemetry::REVOKE_TOTAL, &[("outcome", "unchanged")]),
        1
    );
    assert_eq!(
        counter(
            s,
            telemetry::GLOBAL_SIGN_OUT_TOTAL,
            &[("outcome", "revoked")]
        ),
        1
    );
    assert_eq!(
        counter(
            s,
            telemetry::REVOCATIONS_TOTAL,
            &[("cause", "revoke_token")]
        ),
        1
    );
    assert_eq!(
        counter(
            s,
            telemetry::REVOCATIONS_TOTAL,
            &[("cause", "global_sign_out")]
        ),
        1
    );
    assert_eq!(
        counter(s, telemetry::REUSE_DETECTED_TOTAL, &[("policy", "reject")]),
        1
    );
    match metric(
        s,
        telemetry::REFRESH_DURATION_SECONDS,
        &[("operation", "refresh")],
    ) {
        Some(DebugValue::Histogram(v)) => assert_eq!(v.len(), 4, "one sample per refresh"),
        other => panic!("no refresh histogram: {other:?}"),
    }
    // Every metric is one of the documented names, and no label carries a client id or a user.
    let names = [
        telemetry::REFRESH_TOTAL,
        telemetry::REFRESH_DURATION_SECONDS,
        telemetry::SIGN_IN_TOTAL,
        telemetry::REVOKE_TOTAL,
        telemetry::GLOBAL_SIGN_OUT_TOTAL,
        telemetry::REVOCATIONS_TOTAL,
        telemetry::REUSE_DETECTED_TOTAL,
    ];
    for (name, labels, _) in s {
        assert!(names.contains(&name.as_str()), "undocumented metric {name}");
        for (k, v) in labels {
            assert!(
                ["operation", "outcome", "cause", "policy"].contains(&k.as_str()),
                "{k}"
            );
            for id in [
                &p.rotating,
                &p.legacy,
                "alice",
                "0f6c3a4e-0000-4000-8000-000000000001",
            ] {
                assert_ne!(v, id, "{name} carries an identifier");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------

#[test]
fn r_ops_3_reuse_under_reject_is_one_event_and_revokes_nothing() {
    let p = pool(5, ReusePolicy::Reject, false);
    let t0 = p.sign_in(&p.rotating).refresh_token.unwrap();
    p.refresh(&t0).unwrap();
    p.clock.advance(10);
    assert_eq!(p.refresh(&t0).unwrap_err(), Error::RefreshTokenReused);
    let events = p.events();
    assert_eq!(events.len(), 1, "{events:?}");
    match &events[0] {
        (
            SecurityEvent::ReuseDetected {
                client_id,
                subject,
                presented_generation: 0,
                current_generation: 1,
                policy: ReusePolicy::Reject,
                ..
            },
            Some(false),
        ) => {
            assert_eq!(client_id, &p.rotating);
            assert_eq!(subject, "0f6c3a4e-0000-4000-8000-000000000001");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn r_ops_3_sixteen_concurrent_reuses_revoke_the_family_once() {
    let p = Arc::new(pool(5, ReusePolicy::RevokeFamily, false));
    let t0 = p.sign_in(&p.rotating).refresh_token.unwrap();
    p.refresh(&t0).unwrap();
    p.clock.advance(10);
    let barrier = Arc::new(Barrier::new(16));
    let answers: Vec<Error> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..16)
            .map(|_| {
                let (p, t0, barrier) = (p.clone(), t0.clone(), barrier.clone());
                s.spawn(move || {
                    barrier.wait();
                    p.refresh(&t0).unwrap_err()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let reused = answers
        .iter()
        .filter(|e| **e == Error::RefreshTokenReused)
        .count();
    let revoked = answers
        .iter()
        .filter(|e| **e == Error::RefreshTokenRevoked)
        .count();
    assert_eq!(reused + revoked, 16, "{answers:?}");
    assert!(reused >= 1);
    let events = p.events();
    let reuse_events = events
        .iter()
        .filter(|(e, _)| matches!(e, SecurityEvent::ReuseDetected { .. }))
        .count();
    let revocations: Vec<_> = events
        .iter()
        .filter(|(e, _)| matches!(e, SecurityEvent::FamilyRevoked { .. }))
        .collect();
    // One reuse event per request answered RefreshTokenReuseException; one revocation.
    assert_eq!(reuse_events, reused, "{events:?}");
    assert_eq!(revocations.len(), 1, "{events:?}");
    assert!(matches!(
        revocations[0],
        (
            SecurityEvent::FamilyRevoked {
                cause: RevocationCause::Reuse,
                ..
            },
            Some(true)
        )
    ));
    // Every event was delivered after the revocation was written.
    assert!(
        events.iter().all(|(_, revoked)| *revoked == Some(true)),
        "{events:?}"
    );
}

#[test]
fn r_ops_3_revoke_token_and_global_sign_out_are_events_after_the_write() {
    let p = pool(5, ReusePolicy::Reject, false);
    let t0 = p.sign_in(&p.rotating).refresh_token.unwrap();
    p.issuer
        .revoke_token(
            &t0,
            ClientId::parse(&p.rotating).unwrap(),
            Some(PresentedSecret::parse(SECRET).unwrap()),
        )
        .unwrap();
    p.issuer
        .revoke_token(
            &t0,
            ClientId::parse(&p.rotating).unwrap(),
            Some(PresentedSecret::parse(SECRET).unwrap()),
        )
        .unwrap();
    p.sign_in(&p.rotating);
    p.sign_in(&p.legacy);
    assert_eq!(p.issuer.global_sign_out_username("alice").unwrap(), 2);
    assert_eq!(p.issuer.global_sign_out_username("alice").unwrap(), 0);
    let events = p.events();
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(matches!(
        &events[0],
        (
            SecurityEvent::FamilyRevoked {
                cause: RevocationCause::RevokeToken,
                ..
            },
            Some(true)
        )
    ));
    assert!(matches!(
        &events[1].0,
        SecurityEvent::GlobalSignOut {
            families_revoked: 2,
            ..
        }
    ));
    assert!(matches!(
        &events[2].0,
        SecurityEvent::GlobalSignOut {
            families_revoked: 0,
            ..
        }
    ));
}

#[tokio::test]
async fn r_ops_3_the_async_driver_delivers_the_same_events() {
    let p = pool(5, ReusePolicy::RevokeFamily, false);
    let received: Received = Arc::default();
    let sink = {
        let received = received.clone();
        move |e: &SecurityEvent| received.lock().unwrap().push((e.clone(), None))
    };
    let issuer = AsyncTokenIssuer::builder(
        "us-east-1",
        TokenSigner::new(signing_key("k1")),
        RefreshTokenKeys::new(RefreshTokenKey::new(1, &[7; 32]).unwrap()),
        p.registry.clone(),
        p.store.clone(),
        p.users.clone(),
    )
    .clock(p.clock.clone())
    .reuse_policy(ReusePolicy::RevokeFamily)
    .security_events(Arc::new(sink))
    .build();
    let mut req = SignInRequest::new(ClientId::parse(&p.rotating).unwrap(), "alice");
    req.client_secret = Some(PresentedSecret::parse(SECRET).unwrap());
    let t0 = issuer.sign_in(&req).await.unwrap().refresh_token.unwrap();
    let mut r = RefreshRequest::new(&t0, ClientId::parse(&p.rotating).unwrap());
    r.client_secret = Some(PresentedSecret::parse(SECRET).unwrap());
    issuer.get_tokens_from_refresh_token(&r).await.unwrap();
    p.clock.advance(10);
    assert_eq!(
        issuer.get_tokens_from_refresh_token(&r).await.unwrap_err(),
        Error::RefreshTokenReused
    );
    let names: Vec<_> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(e, _)| e.name())
        .collect();
    assert_eq!(names, ["reuse_detected", "family_revoked"]);
}

// ---------------------------------------------------------------------------------------------------

#[test]
fn r_ops_4_rotation_under_concurrent_refreshes_loses_no_request() {
    let p = Arc::new(pool(5, ReusePolicy::Reject, false));
    const WORKERS: usize = 4;
    const ROUNDS: usize = 40;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| {
                let p = p.clone();
                s.spawn(move || {
                    let mut t = p.sign_in(&p.rotating).refresh_token.unwrap();
                    for _ in 0..ROUNDS {
                        let answer = p.refresh(&t).expect("no request fails during rotation");
                        // The JWKS of its time (fetched after the answer) verifies both tokens.
                        let v = p.verifier();
                        let now = Timestamp::from_unix_seconds(START);
                        v.verify_access_token(
                            &answer.access_token,
                            &p.rotating,
                            now,
                            &NoRevocationCheck,
                        )
                        .expect("access token verifies");
                        v.verify_id_token(&answer.id_token, &p.rotating, now, &NoRevocationCheck)
                            .expect("ID token verifies");
                        t = answer.refresh_token.unwrap();
                    }
                })
            })
            .collect();
        let rotator = {
            let (p, stop) = (p.clone(), stop.clone());
            s.spawn(move || {
                // A dozen full rotations (signing key and refresh-token key) while the workers run: the
                // JWKS keeps every retired key, and a verifier accepts at most 100.
                let mut rotations = 0;
                for n in 2u32..14 {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        break;
                    }
                    let kid = format!("k{n}");
                    let keys = p.issuer.keys();
                    keys.add_signing_key(signing_key(&kid)).unwrap();
                    keys.promote_signing_key(&kid).unwrap();
                    keys.add_refresh_key(RefreshTokenKey::new(n, &[n as u8; 32]).unwrap())
                        .unwrap();
                    keys.promote_refresh_key(n).unwrap();
                    rotations += 1;
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                rotations
            })
        };
        for w in workers {
            w.join().unwrap();
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let rotations = rotator.join().unwrap();
        assert!(rotations > 0);
    });
}

#[test]
fn r_ops_4_retired_signing_keys_verify_until_removed_and_jwks_follows_at_once() {
    let p = pool(5, ReusePolicy::Reject, false);
    let old = p.sign_in(&p.rotating);
    let keys = p.issuer.keys();
    let now = Timestamp::from_unix_seconds(START);
    keys.add_signing_key(signing_key("k2")).unwrap();
    assert!(
        p.issuer.keys().jwks_json().contains("\"k2\""),
        "published at once"
    );
    let staged = p.sign_in(&p.rotating);
    assert!(p
        .verifier()
        .verify_access_token(&staged.access_token, &p.rotating, now, &NoRevocationCheck)
        .is_ok());
    let header = |t: &str| t.split('.').next().unwrap().to_owned();
    assert_eq!(
        header(&staged.access_token),
        header(&old.access_token),
        "k1 still signs"
    );
    keys.promote_signing_key("k2").unwrap();
    let new = p.sign_in(&p.rotating);
    assert_ne!(
        header(&new.access_token),
        header(&old.access_token),
        "k2 signs now"
    );
    let v = p.verifier();
    assert!(v
        .verify_access_token(&old.access_token, &p.rotating, now, &NoRevocationCheck)
        .is_ok());
    assert!(v
        .verify_access_token(&new.access_token, &p.rotating, now, &NoRevocationCheck)
        .is_ok());
    // Refused changes change nothing.
    assert!(keys.remove_signing_key("k2").is_err());
    assert!(keys.add_signing_key(signing_key("k1")).is_err());
    assert!(keys.promote_signing_key("k1").is_err());
    assert_eq!(keys.remove_signing_key("k1"), Ok(true));
    assert!(!p.issuer.keys().jwks_json().contains("\"k1\""));
    assert!(p
        .verifier()
        .verify_access_token(&old.access_token, &p.rotating, now, &NoRevocationCheck)
        .is_err());
}

#[test]
fn r_ops_4_r_rot_10_holds_across_a_refresh_key_rotation() {
    let p = pool(5, ReusePolicy::Reject, false);
    let t0 = p.sign_in(&p.rotating).refresh_token.unwrap();
    let t1 = p.refresh(&t0).unwrap().refresh_token.unwrap();
    let keys = p.issuer.keys();
    keys.add_refresh_key(RefreshTokenKey::new(2, &[2; 32]).unwrap())
        .unwrap();
    keys.promote_refresh_key(2).unwrap();
    assert!(keys.remove_refresh_key(2).is_err(), "the current key stays");
    // A retry inside the window gets the byte-identical successor, under the key of the advance.
    let retry = p.refresh(&t0).unwrap().refresh_token.unwrap();
    assert_eq!(retry.expose_secret(), t1.expose_secret());
    let ring = keys.refresh_keys();
    assert_eq!(ring.decode(retry.expose_secret()).unwrap().key_id(), 1);
    // The next advance uses the promoted key.
    let t2 = p.refresh(&t1).unwrap().refresh_token.unwrap();
    assert_eq!(ring.decode(t2.expose_secret()).unwrap().key_id(), 2);
    // Removing the old key invalidates tokens under it (R-FAM-6), and only them.
    assert_eq!(keys.remove_refresh_key(1), Ok(true));
    assert_eq!(p.refresh(&t1).unwrap_err(), Error::InvalidRefreshToken);
    p.refresh(&t2).unwrap();
}

#[test]
fn r_ops_1_client_metadata_is_never_traced() {
    // ClientMetadata is not traced either: a marker in it never reaches a span.
    let p = pool(5, ReusePolicy::Reject, false);
    let capture = capture();
    {
        let t0 = p.sign_in(&p.rotating).refresh_token.unwrap();
        let meta: HashMap<String, String> = [("k".into(), "MarkerMetadataValue".into())].into();
        let mut req = RefreshRequest::new(&t0, ClientId::parse(&p.rotating).unwrap());
        req.client_secret = Some(PresentedSecret::parse(SECRET).unwrap());
        req.client_metadata = Some(&meta);
        p.issuer.get_tokens_from_refresh_token(&req).unwrap();
    }
    let text = capture.text();
    assert!(text.contains("record refresh outcome=advanced"), "{text}");
    assert!(!text.contains("MarkerMetadataValue"));
}

/// A password verifier that knows alice's password only.
struct OnlyAlice;

impl refresh_rotation::wire::password::PasswordVerifier for OnlyAlice {
    fn check_password(
        &self,
        username: &str,
        password: &str,
    ) -> Result<refresh_rotation::wire::password::PasswordCheck, Error> {
        use refresh_rotation::wire::password::PasswordCheck;
        Ok(match (username, password) {
            ("alice", "right password") => PasswordCheck::Valid,
            ("alice", _) => PasswordCheck::Invalid,
            _ => PasswordCheck::NoSuchUser,
        })
    }
}

/// R-OPS-1, R-OPS-2: a password sign-in the wire adapter refuses before the driver's sign-in (a wrong
/// password, an unknown user) is traced and counted as the driver's own answers are, so that password
/// guessing is visible; and so is a refusal a host records for a request no issuer saw
/// ([`telemetry::record_refusal`]), such as one naming a client no pool has. No password is recorded.
#[test]
fn r_ops_1_refused_password_sign_ins_are_traced_and_counted() {
    use refresh_rotation::config::ExplicitAuthFlow;
    use refresh_rotation::engine::Operation;
    use refresh_rotation::wire::{from_json, AuthCall};
    let p = pool(5, ReusePolicy::Reject, false);
    let client = p
        .registry
        .create_client(
            AppClientConfig::builder("passwords")
                .explicit_auth_flows([ExplicitAuthFlow::AllowUserPasswordAuth]),
            NewClientSecret::None,
        )
        .unwrap()
        .client_id()
        .to_string();
    let attempt = |user: &str, password: &str| {
        let body = serde_json::json!({
            "ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": user, "PASSWORD": password},
        });
        let call = AuthCall::from_initiate_auth(from_json(body.to_string().as_bytes())?)?;
        p.issuer.initiate_auth(&call, &OnlyAlice)
    };
    let capture = capture();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        attempt("alice", "right password").unwrap();
        assert!(attempt("alice", "Guess-1").is_err());
        assert!(attempt("mallory", "Guess-2").is_err());
        telemetry::record_refusal(
            Operation::Refresh,
            Some("nosuchclient"),
            &Error::ClientNotFound {
                client_id: "nosuchclient".into(),
            },
        );
        // A malformed id is not echoed: it may be a secret pasted in the wrong field.
        telemetry::record_refusal(
            Operation::Refresh,
            Some("pasted secret+value"),
            &Error::ClientNotFound {
                client_id: "***".into(),
            },
        );
        // AdminInitiateAuth naming another pool: refused before the driver, and still a sign-in seen.
        let body = serde_json::json!({
            "UserPoolId": "us-east-1_Other", "ClientId": client,
            "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "alice", "PASSWORD": "right password"},
        });
        let call =
            AuthCall::from_admin_initiate_auth(from_json(body.to_string().as_bytes()).unwrap())
                .unwrap();
        let err = p.issuer.initiate_auth(&call, &OnlyAlice).unwrap_err();
        assert_eq!(err.exception_name(), "ResourceNotFoundException");
    });
    let snapshot = samples(&snapshotter);
    let sign_ins = |outcome| {
        counter(
            &snapshot,
            "refresh_rotation_sign_in_total",
            &[("outcome", outcome)],
        )
    };
    assert_eq!((sign_ins("issued"), sign_ins("client_error")), (1, 3));
    assert_eq!(
        counter(
            &snapshot,
            "refresh_rotation_refresh_total",
            &[("operation", "refresh"), ("outcome", "client_error")]
        ),
        2
    );
    let text = capture.text();
    assert!(text.contains("error=NotAuthorizedException"), "{text}");
    assert!(
        text.contains("span refresh target=refresh_rotation client_id=nosuchclient"),
        "{text}"
    );
    assert!(text.contains("error=ResourceNotFoundException"), "{text}");
    assert!(text.contains("client_id=***"), "{text}");
    assert_eq!(text.matches("span sign_in").count(), 4, "{text}");
    for secret in [
        "right password",
        "Guess-1",
        "Guess-2",
        "pasted secret+value",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

/// R-OPS-2 with R-REV-7: the families a client's deletion revokes are counted under
/// `cause="client_deleted"`, as global sign-out counts its own; families revoked before are not
/// counted again, and other clients' families are left alone.
#[test]
fn r_ops_2_deleting_a_client_counts_the_families_it_revokes() {
    let p = pool(5, ReusePolicy::Reject, false);
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let tokens: Vec<_> = (0..3)
            .map(|_| p.sign_in(&p.rotating).refresh_token.unwrap())
            .collect();
        p.sign_in(&p.legacy);
        // One of the three is revoked already: the deletion revokes two.
        p.issuer
            .revoke_token(
                &tokens[0],
                ClientId::parse(&p.rotating).unwrap(),
                Some(PresentedSecret::parse(SECRET).unwrap()),
            )
            .unwrap();
        p.registry.delete_client(&p.rotating).unwrap();
    });
    let snapshot = samples(&snapshotter);
    let revoked = |cause| counter(&snapshot, telemetry::REVOCATIONS_TOTAL, &[("cause", cause)]);
    assert_eq!(revoked("client_deleted"), 2);
    assert_eq!(revoked("revoke_token"), 1);
    assert_eq!(p.store.len(), 4);
}

/// R-OPS-1 and R-OPS-2 at the OAuth endpoints: a request refused while it is parsed, before any
/// issuer runs it (a secret without a secret's shape, a Basic header that does not decode, a missing
/// parameter), is traced and counted as its operation's refusal, as a wrong secret of the right shape
/// is, so that guessing with malformed values is as visible; no secret is traced.
#[test]
fn r_ops_1_oauth_requests_refused_while_parsed_are_traced_and_counted() {
    use refresh_rotation::oauth::{self, OAuthRequest};
    let p = pool(5, ReusePolicy::Reject, false);
    let t0 = p.sign_in(&p.rotating).refresh_token.unwrap();
    let form = b"application/x-www-form-urlencoded".as_slice();
    let basic = |id: &str, secret: &str| {
        use base64::Engine as _;
        let pair = format!("{id}:{secret}");
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    let grant = format!(
        "grant_type=refresh_token&refresh_token={}",
        t0.expose_secret()
    );
    let capture = capture();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        for header in [
            basic(&p.rotating, "short-guess"),
            "Basic %%%not-base64".to_owned(),
        ] {
            let req = OAuthRequest::new("POST", grant.as_bytes())
                .header("Content-Type", form)
                .header("Authorization", header.as_bytes());
            assert_eq!(oauth::token_endpoint(&p.issuer, &req).status, 401);
        }
        // A revocation without its token, and an introspection with a malformed secret.
        let no_token = format!("client_id={}", p.rotating);
        let req = OAuthRequest::new("POST", no_token.as_bytes()).header("Content-Type", form);
        assert_eq!(oauth::revocation_endpoint(&p.issuer, &req).status, 400);
        let body = format!(
            "token={}&client_id={}&client_secret=short-guess",
            t0.expose_secret(),
            p.rotating
        );
        let req = OAuthRequest::new("POST", body.as_bytes()).header("Content-Type", form);
        assert_eq!(oauth::introspection_endpoint(&p.issuer, &req).status, 401);
    });
    let snapshot = samples(&snapshotter);
    assert_eq!(
        counter(
            &snapshot,
            "refresh_rotation_refresh_total",
            &[("operation", "refresh"), ("outcome", "client_error")]
        ),
        2
    );
    // Refused before any issuer ran them: no latency sample (it would pull the percentiles down).
    let latency = metric(
        &snapshot,
        telemetry::REFRESH_DURATION_SECONDS,
        &[("operation", "refresh")],
    );
    assert!(
        match latency {
            None => true,
            Some(DebugValue::Histogram(v)) => v.is_empty(),
            Some(_) => false,
        },
        "{latency:?}"
    );
    let text = capture.text();
    assert_eq!(text.matches("span refresh ").count(), 2, "{text}");
    assert_eq!(text.matches("span revoke ").count(), 1, "{text}");
    assert_eq!(text.matches("span introspect ").count(), 1, "{text}");
    assert!(
        text.contains(&format!("client_id={}", p.rotating)),
        "{text}"
    );
    assert!(!text.contains("short-guess"), "{text}");
    assert!(!text.contains(t0.expose_secret()), "{text}");
}

/// R-OPS-1: a request the OAuth adapter refuses while parsing it is traced as the error it stands for:
/// a failed client authentication as a wrong secret (`NotAuthorizedException`), a missing parameter as
/// a malformed request (`InvalidParameterException`).
#[test]
fn r_ops_1_oauth_parse_refusals_are_traced_as_the_error_they_stand_for() {
    use refresh_rotation::oauth::{self, OAuthRequest};
    let p = pool(5, ReusePolicy::Reject, false);
    let form = b"application/x-www-form-urlencoded".as_slice();
    let capture = capture();
    let bad_secret = format!(
        "grant_type=refresh_token&refresh_token=abc&client_id={}&client_secret=short-guess",
        p.rotating
    );
    let req = OAuthRequest::new("POST", bad_secret.as_bytes()).header("Content-Type", form);
    assert_eq!(oauth::token_endpoint(&p.issuer, &req).status, 400);
    let text = capture.text();
    assert!(
        text.contains("record refresh outcome=client_error"),
        "{text}"
    );
    assert!(text.contains("error=NotAuthorizedException"), "{text}");
    assert!(!text.contains("error=InvalidParameterException"), "{text}");
    let no_token = format!("client_id={}", p.rotating);
    let req = OAuthRequest::new("POST", no_token.as_bytes()).header("Content-Type", form);
    assert_eq!(oauth::revocation_endpoint(&p.issuer, &req).status, 400);
    let text = capture.text();
    assert!(text.contains("error=InvalidParameterException"), "{text}");
}
