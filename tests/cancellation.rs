//! Cancellation with the asynchronous driver: a request's future dropped at an await (a caller that
//! hung up, a timeout) leaves no family live that should be revoked (R-REV-7), and the request is still
//! traced and counted, with the reuse it detected (R-OPS-1 to R-OPS-3).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use common::{Fixture, Opts};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use refresh_rotation::clock::Timestamp;
use refresh_rotation::driver::telemetry::{REFRESH_TOTAL, REUSE_DETECTED_TOTAL};
use refresh_rotation::driver::AsyncTokenIssuerBuilder;
use refresh_rotation::error::StoreError;
use refresh_rotation::events::{AsyncSecurityEventSink, SecurityEvent};
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::store::{
    Advance, AsyncRefreshTokenStore, BoxFuture, Family, FamilyId, FamilyRead,
    InMemoryRefreshTokenStore, PurgeCutoff, RefreshTokenStore,
};
use refresh_rotation::{AsyncTokenIssuer, RefreshRequest, ReusePolicy, SignInRequest};

/// Pending once, then ready: an await point, as a network round trip is.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// The in-memory store, whose every call yields once before answering; `revoke` and `revoke_client`
/// apply their write *before* yielding (a database that committed, whose reply is still on its way).
#[derive(Default)]
struct Store(InMemoryRefreshTokenStore);

impl AsyncRefreshTokenStore for Store {
    fn create(&self, family: Family) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            yield_once().await;
            RefreshTokenStore::create(&self.0, family)
        })
    }
    fn read<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<FamilyRead, StoreError>> {
        Box::pin(async move {
            yield_once().await;
            RefreshTokenStore::read(&self.0, id)
        })
    }
    fn advance<'a>(
        &'a self,
        id: &'a FamilyId,
        expected: u32,
        deadline: Timestamp,
        key_id: u32,
    ) -> BoxFuture<'a, Result<Advance, StoreError>> {
        Box::pin(async move {
            yield_once().await;
            RefreshTokenStore::advance(&self.0, id, expected, deadline, key_id)
        })
    }
    fn bind_device<'a>(
        &'a self,
        id: &'a FamilyId,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Family>, StoreError>> {
        Box::pin(async move {
            yield_once().await;
            RefreshTokenStore::bind_device(&self.0, id, key)
        })
    }
    fn confirm_device<'a>(
        &'a self,
        id: &'a FamilyId,
        key: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            yield_once().await;
            RefreshTokenStore::confirm_device(&self.0, id, key)
        })
    }
    fn revoke<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let r = RefreshTokenStore::revoke(&self.0, id);
            yield_once().await;
            r
        })
    }
    fn revoke_subject<'a>(&'a self, s: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        Box::pin(async move {
            let r = RefreshTokenStore::revoke_subject(&self.0, s);
            yield_once().await;
            r
        })
    }
    fn revoke_client<'a>(&'a self, c: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        // Yields first: the request is still on its way to the database.
        Box::pin(async move {
            yield_once().await;
            RefreshTokenStore::revoke_client(&self.0, c)
        })
    }
    fn purge_expired(
        &self,
        cutoff: PurgeCutoff,
        max: usize,
    ) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(async move {
            yield_once().await;
            RefreshTokenStore::purge_expired(&self.0, cutoff, max)
        })
    }
}

/// Polls `fut` until `stop()` holds or it completes; answers whether it completed.
fn poll_until<F: Future>(fut: F, stop: impl Fn() -> bool) -> bool {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..1000 {
        if stop() {
            return false;
        }
        if fut.as_mut().poll(&mut cx).is_ready() {
            return true;
        }
    }
    panic!("never stopped");
}

fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// An issuer of `registry`'s pool over `store`, on the fixture's clock, keys and directory.
fn builder(
    f: &Fixture,
    registry: Arc<refresh_rotation::ClientRegistry>,
    store: Arc<Store>,
) -> AsyncTokenIssuerBuilder {
    AsyncTokenIssuer::builder(
        "us-east-1",
        TokenSigner::new(Arc::new(
            SigningKey::generate(Algorithm::EdDSA, "cancel-key").unwrap(),
        )),
        f.refresh_keys(),
        registry,
        store,
        f.directory.clone(),
    )
    .clock(f.clock.clone())
}

/// The fixture's issuer over `store`, with `policy` and, if given, `sink`.
fn issuer(
    f: &Fixture,
    store: Arc<Store>,
    policy: ReusePolicy,
    sink: Option<Arc<dyn AsyncSecurityEventSink>>,
) -> AsyncTokenIssuer {
    let builder = builder(f, f.registry.clone(), store).reuse_policy(policy);
    match sink {
        Some(sink) => builder.security_events(sink).build(),
        None => builder.build(),
    }
}

/// Whether `family` is revoked in `store`.
fn is_revoked(store: &Store, family: &FamilyId) -> bool {
    RefreshTokenStore::get(&store.0, family)
        .unwrap()
        .unwrap()
        .state
        .revoked
}

/// Alice's sign-in through `issuer`: her tokens, and the family they belong to.
fn signed_in(issuer: &AsyncTokenIssuer, f: &Fixture) -> (refresh_rotation::TokenSet, FamilyId) {
    let tokens = block_on(issuer.sign_in(&SignInRequest::new(f.id(), "alice"))).unwrap();
    let token = tokens.refresh_token.as_ref().unwrap();
    let family = f
        .refresh_keys()
        .decode(token.expose_secret())
        .unwrap()
        .family();
    (tokens, family)
}

#[test]
fn r_rev_7_a_client_deletion_dropped_part_way_leaves_no_family_live() {
    let f = Fixture::new(Opts::rotating(10));
    let store = Arc::new(Store::default());
    let issuer = issuer(&f, store.clone(), ReusePolicy::Reject, None);
    let (tokens, family) = signed_in(&issuer, &f);
    let revoked = || is_revoked(&store, &family);

    // Dropped at its first await once the client is gone, before the store answers the revocation
    // that follows: the families were revoked before the client was removed.
    let completed = poll_until(issuer.delete_client(&f.client_id), || {
        f.registry.get(&f.client_id).unwrap().is_none()
    });
    assert!(!completed);
    assert!(revoked(), "the family is revoked once the client is gone");
    let verifier = issuer.signer().verifier(issuer.issuer_url()).unwrap();
    let now = Timestamp::from_unix_seconds(f.clock_now());
    assert!(
        verifier
            .verify_access_token(&tokens.access_token, &f.client_id, now, &store.0)
            .is_err(),
        "the client's outstanding access token fails store-backed verification"
    );
    // Deleting again answers that the client is unknown.
    let again = block_on(issuer.delete_client(&f.client_id)).unwrap_err();
    assert_eq!(again.exception_name(), "ResourceNotFoundException");
    assert!(revoked());
}

/// Pool A's registry over pool B's family store: A holds no client of B's (R-REV-7).
fn other_pool(f: &Fixture, store: Arc<Store>) -> Arc<refresh_rotation::ClientRegistry> {
    let registry_a = Arc::new(refresh_rotation::ClientRegistry::new(
        "us-east-1_PoolA",
        f.clock.clone(),
        Arc::new(refresh_rotation::random::SystemRandom::new()),
    ));
    let _issuer_a = builder(f, registry_a.clone(), store).build();
    registry_a
}

#[test]
fn r_rev_7_deleting_an_id_the_pool_does_not_hold_revokes_nothing() {
    use refresh_rotation::wire::{DeleteUserPoolClientRequest, UserPoolClientOperations as _};
    let f = Fixture::new(Opts::rotating(10));
    let store = Arc::new(Store::default());
    let issuer = issuer(&f, store.clone(), ReusePolicy::Reject, None);
    let (tokens, family) = signed_in(&issuer, &f);
    let t0 = tokens.refresh_token.unwrap();
    let registry_a = other_pool(&f, store.clone());
    // Through the registry and through the wire adapter: unknown to pool A, and nothing revoked.
    let e = block_on(registry_a.delete_client_async(&f.client_id)).unwrap_err();
    assert_eq!(e.exception_name(), "ResourceNotFoundException");
    let req = DeleteUserPoolClientRequest {
        user_pool_id: Some("us-east-1_PoolA".to_owned()),
        client_id: Some(f.client_id.clone()),
    };
    let e = block_on(registry_a.delete_user_pool_client_async(&req)).unwrap_err();
    assert_eq!(e.exception_name(), "ResourceNotFoundException");
    assert!(
        !is_revoked(&store, &family),
        "pool A revoked pool B's family"
    );
    assert!(
        block_on(issuer.get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))).is_ok()
    );
}

/// A sink that completes at once (a channel send, say).
#[derive(Default)]
struct ImmediateSink {
    got: Mutex<Vec<SecurityEvent>>,
}

impl AsyncSecurityEventSink for ImmediateSink {
    fn security_event<'a>(&'a self, event: &'a SecurityEvent) -> BoxFuture<'a, ()> {
        self.got.lock().unwrap().push(event.clone());
        Box::pin(std::future::ready(()))
    }
}

/// A counter's name, labels and value.
type Counted = (String, Vec<(String, String)>, u64);

/// Every counter the recorder behind `snapshotter` holds, as name, labels and value (a snapshot
/// resets them).
fn counters(snapshotter: &Snapshotter) -> Vec<Counted> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(k, _, _, v)| {
            let DebugValue::Counter(n) = v else {
                return None;
            };
            let key = k.key();
            let labels = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            Some((key.name().to_owned(), labels, n))
        })
        .collect()
}

/// The counter `name` with label `label` among `counters`, 0 if absent.
fn counter(counters: &[Counted], name: &str, label: (&str, &str)) -> u64 {
    counters
        .iter()
        .find(|(n, labels, _)| {
            n == name
                && labels
                    .iter()
                    .any(|(k, v)| (k.as_str(), v.as_str()) == label)
        })
        .map_or(0, |(_, _, v)| *v)
}

#[test]
fn r_ops_3_a_reuse_whose_revocation_was_dropped_is_still_traced_counted_and_offered_to_the_sink() {
    let f = Fixture::new(Opts::rotating(0));
    let store = Arc::new(Store::default());
    let sink = Arc::new(ImmediateSink::default());
    let issuer = issuer(
        &f,
        store.clone(),
        ReusePolicy::RevokeFamily,
        Some(sink.clone()),
    );
    let (tokens, family) = signed_in(&issuer, &f);
    let t0 = tokens.refresh_token.unwrap();
    block_on(issuer.get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))).unwrap();
    let revoked = || is_revoked(&store, &family);

    // The rotated-out t0 replayed; the request is dropped once the revocation is written, before the
    // store's answer reaches it.
    let req = RefreshRequest::new(&t0, f.id());
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let completed = metrics::with_local_recorder(&recorder, || {
        poll_until(issuer.get_tokens_from_refresh_token(&req), revoked)
    });
    assert!(
        !completed && revoked(),
        "dropped after the revocation write"
    );

    // R-OPS-2: counted as cancelled, and the reuse counted.
    let counted = counters(&snapshotter);
    assert_eq!(
        counter(&counted, REFRESH_TOTAL, ("outcome", "cancelled")),
        1
    );
    assert_eq!(counter(&counted, REFRESH_TOTAL, ("outcome", "reuse")), 0);
    assert_eq!(
        counter(&counted, REUSE_DETECTED_TOTAL, ("policy", "revoke_family")),
        1
    );
    // R-OPS-3: the reuse reached the sink; whether this request revoked the family it never learnt,
    // so no FamilyRevoked is claimed.
    let got = sink.got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        matches!(
            &got[0],
            SecurityEvent::ReuseDetected {
                policy: ReusePolicy::RevokeFamily,
                ..
            }
        ),
        "{got:?}"
    );
}

#[test]
fn r_ops_1_a_request_dropped_before_any_decision_is_counted_cancelled_without_events() {
    let f = Fixture::new(Opts::rotating(10));
    let store = Arc::new(Store::default());
    let sink = Arc::new(ImmediateSink::default());
    let issuer = issuer(&f, store, ReusePolicy::RevokeFamily, Some(sink.clone()));
    let t0 = signed_in(&issuer, &f).0.refresh_token.unwrap();
    let req = RefreshRequest::new(&t0, f.id());
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        // One poll: the request waits on the store's first answer, and is dropped.
        let mut fut = pin!(issuer.get_tokens_from_refresh_token(&req));
        assert!(fut
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_pending());
    });
    let counted = counters(&snapshotter);
    assert_eq!(
        counter(&counted, REFRESH_TOTAL, ("outcome", "cancelled")),
        1
    );
    assert_eq!(
        counter(&counted, REUSE_DETECTED_TOTAL, ("policy", "revoke_family")),
        0
    );
    assert!(sink.got.lock().unwrap().is_empty());
    // The family is untouched: the live token still refreshes.
    assert!(block_on(issuer.get_tokens_from_refresh_token(&req)).is_ok());
}

/// R-OPS-1, R-OPS-2: a request that ended is counted once, by its outcome, and not also `cancelled`
/// when its finished future is dropped.
#[test]
fn r_ops_2_a_completed_request_is_not_also_counted_cancelled() {
    let f = Fixture::new(Opts::rotating(10));
    let issuer = issuer(&f, Arc::new(Store::default()), ReusePolicy::Reject, None);
    let t0 = signed_in(&issuer, &f).0.refresh_token.unwrap();
    let req = RefreshRequest::new(&t0, f.id());
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        block_on(issuer.get_tokens_from_refresh_token(&req)).unwrap();
    });
    let counted = counters(&snapshotter);
    assert_eq!(counter(&counted, REFRESH_TOTAL, ("outcome", "advanced")), 1);
    assert_eq!(
        counter(&counted, REFRESH_TOTAL, ("outcome", "cancelled")),
        0
    );
}

#[test]
fn r_ops_1_a_request_that_panics_is_not_counted_as_cancelled() {
    use refresh_rotation::hook::{ClaimsOverride, PreTokenGenerationEvent};
    let f = Fixture::new(Opts::rotating(10));
    let sink = Arc::new(ImmediateSink::default());
    // A hook with a bug: the panic unwinds through the request's future.
    let hook = |_: &PreTokenGenerationEvent<'_>| -> Result<ClaimsOverride, String> {
        panic!("a hook's bug")
    };
    let issuer = builder(&f, f.registry.clone(), Arc::new(Store::default()))
        .pre_token_generation(Arc::new(hook))
        .security_events(sink.clone())
        .build();
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let panicked = metrics::with_local_recorder(&recorder, || {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            block_on(issuer.sign_in(&SignInRequest::new(f.id(), "alice")))
        }))
        .is_err()
    });
    assert!(panicked);
    let counted = counters(&snapshotter);
    assert_eq!(
        counter(
            &counted,
            refresh_rotation::driver::telemetry::SIGN_IN_TOTAL,
            ("outcome", "cancelled")
        ),
        0
    );
    assert!(sink.got.lock().unwrap().is_empty());
}
