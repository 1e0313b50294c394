//! The issuers on PostgreSQL: rotation end to end, a race between two issuers (two service instances
//! sharing one database), the issuer's answer when the database is down, and the
//! database clock (R-ROT-11). `TokenIssuer` runs over the blocking adapter, `AsyncTokenIssuer` awaits
//! the store natively.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpListener;
use std::sync::{Arc, Barrier};
use std::time::Duration;

use refresh_rotation::clock::{Clock, ManualClock, Timestamp};
use refresh_rotation::config::RefreshTokenRotation;
use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::AsyncRefreshTokenStore;
use refresh_rotation::store::RefreshTokenStore;
use refresh_rotation::ClientId;
use refresh_rotation::{
    AppClientConfig, AsyncTokenIssuer, ClientRegistry, Error, NewClientSecret, RefreshRequest,
    RefreshToken, RefreshTokenKey, RefreshTokenKeys, SignInRequest, TokenIssuer,
};
use refresh_rotation_postgres::PgRefreshTokenStore;

const KEY: &[u8] = b"test-only refresh token key, 32 bytes or more";

struct Pool {
    registry: Arc<ClientRegistry>,
    users: Arc<InMemoryUserDirectory>,
    clock: Arc<ManualClock>,
    client_id: String,
}

fn pool(grace: u8) -> Pool {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(
        1_700_000_000,
    )));
    let registry = Arc::new(ClientRegistry::new(
        "us-east-1_PgPool",
        clock.clone(),
        Arc::new(SystemRandom::new()),
    ));
    let client = registry
        .create_client(
            AppClientConfig::builder("pg-app")
                .refresh_token_rotation(RefreshTokenRotation::enabled(grace).unwrap()),
            NewClientSecret::None,
        )
        .unwrap();
    let users = Arc::new(InMemoryUserDirectory::new());
    users
        .put(UserRecord::new(
            "3a0c6f1e-0000-4000-8000-00000000000a",
            "alice",
        ))
        .unwrap();
    Pool {
        registry,
        users,
        clock,
        client_id: client.client_id().to_string(),
    }
}

/// An issuer of `pool` on `store`: two calls give two independent issuers, as two service instances
/// would be, sharing only the database.
fn issuer(pool: &Pool, store: Arc<dyn RefreshTokenStore>) -> TokenIssuer {
    TokenIssuer::builder(
        "us-east-1",
        TokenSigner::new(Arc::new(
            SigningKey::generate(Algorithm::EdDSA, "pg-key").unwrap(),
        )),
        RefreshTokenKeys::new(RefreshTokenKey::new(1, KEY).unwrap()),
        pool.registry.clone(),
        store,
        pool.users.clone(),
    )
    .clock(pool.clock.clone())
    .build()
}

fn refresh(
    issuer: &TokenIssuer,
    pool: &Pool,
    token: &RefreshToken,
) -> Result<Option<RefreshToken>, Error> {
    issuer
        .get_tokens_from_refresh_token(&RefreshRequest::new(
            token,
            ClientId::parse(&pool.client_id).unwrap(),
        ))
        .map(|r| r.refresh_token)
}

#[test]
fn rotation_grace_and_reuse_through_postgres() {
    let Some(store) = common::try_store_on_host_clock() else {
        return;
    };
    let p = pool(10);
    let issuer = issuer(&p, Arc::new(store));
    let t0 = issuer
        .sign_in(&SignInRequest::new(
            ClientId::parse(&p.client_id).unwrap(),
            "alice",
        ))
        .unwrap()
        .refresh_token
        .unwrap();
    let t1 = refresh(&issuer, &p, &t0).unwrap().unwrap();
    assert_eq!(refresh(&issuer, &p, &t0).unwrap().unwrap(), t1, "R-ROT-2");
    p.clock.advance(10);
    assert_eq!(refresh(&issuer, &p, &t0), Err(Error::RefreshTokenReused));
    let t2 = refresh(&issuer, &p, &t1).unwrap().unwrap();
    issuer
        .revoke_token(&t2, ClientId::parse(&p.client_id).unwrap(), None)
        .unwrap();
    assert_eq!(refresh(&issuer, &p, &t2), Err(Error::RefreshTokenRevoked));
    assert!(p.clock.now() > Timestamp::EPOCH);
}

#[test]
fn r_rot_5_two_instances_racing_on_one_token_advance_once() {
    let Some(store) = common::try_store_on_host_clock() else {
        return;
    };
    let store: Arc<dyn RefreshTokenStore> = Arc::new(store);
    let p = pool(0);
    let a = issuer(&p, store.clone());
    let b = issuer(&p, store);
    for _ in 0..5 {
        let t0 = a
            .sign_in(&SignInRequest::new(
                ClientId::parse(&p.client_id).unwrap(),
                "alice",
            ))
            .unwrap()
            .refresh_token
            .unwrap();
        let barrier = Barrier::new(8);
        let results: Vec<_> = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|i| {
                    let (issuer, barrier, p, t0) =
                        (if i % 2 == 0 { &a } else { &b }, &barrier, &p, &t0);
                    s.spawn(move || {
                        barrier.wait();
                        refresh(issuer, p, t0)
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(
            wins, 1,
            "grace 0: exactly one instance advances: {results:?}"
        );
        assert!(results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| *e == Error::RefreshTokenReused));
    }
}

#[test]
fn database_down_is_internal_error_500_and_changes_nothing() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let down = common::connect_lazy(
        PgRefreshTokenStore::builder().connect_timeout(Duration::from_millis(300)),
        &format!("postgresql://rr:pw@127.0.0.1:{port}/nowhere"),
    )
    .unwrap();
    let p = pool(10);
    let issuer = issuer(&p, Arc::new(down));
    let e = issuer
        .sign_in(&SignInRequest::new(
            ClientId::parse(&p.client_id).unwrap(),
            "alice",
        ))
        .unwrap_err();
    assert_eq!(e.exception_name(), "InternalErrorException");
    assert_eq!(e.http_status(), 500);
    assert!(!e.message().contains("pw"), "{e}");
    // A well-formed token of this issuer's key: the store is consulted, fails, and the answer is a 500.
    let token = RefreshTokenKeys::new(RefreshTokenKey::new(1, KEY).unwrap())
        .encode(&refresh_rotation::store::FamilyId::from_bytes([9; 16]), 0);
    let e = issuer
        .get_tokens_from_refresh_token(&RefreshRequest::new(
            &token,
            ClientId::parse(&p.client_id).unwrap(),
        ))
        .unwrap_err();
    assert_eq!(e.http_status(), 500);
}

/// A host clock `behind` seconds behind the system clock.
struct LaggingClock {
    behind: u64,
}

impl Clock for LaggingClock {
    fn now(&self) -> Timestamp {
        refresh_rotation::clock::SystemClock
            .now()
            .checked_sub_secs(self.behind)
            .expect("in range")
    }
}

#[test]
fn r_rot_11_two_instances_with_skewed_clocks_decide_on_the_database_clock() {
    // Two instances whose clocks are 5 s apart share one database that keeps the time; grace 2.
    let Some(store) = common::try_store() else {
        return;
    };
    let store: Arc<dyn RefreshTokenStore> = Arc::new(store);
    let p = pool(2);
    let on = |clock: Arc<dyn Clock>| {
        TokenIssuer::builder(
            "us-east-1",
            TokenSigner::new(Arc::new(
                SigningKey::generate(Algorithm::EdDSA, "pg-key").unwrap(),
            )),
            RefreshTokenKeys::new(RefreshTokenKey::new(1, KEY).unwrap()),
            p.registry.clone(),
            store.clone(),
            p.users.clone(),
        )
        .clock(clock)
        .build()
    };
    let ahead = on(Arc::new(refresh_rotation::clock::SystemClock));
    let lagging = on(Arc::new(LaggingClock { behind: 5 }));
    let t0 = ahead
        .sign_in(&SignInRequest::new(
            ClientId::parse(&p.client_id).unwrap(),
            "alice",
        ))
        .unwrap()
        .refresh_token
        .unwrap();
    refresh(&ahead, &p, &t0).unwrap().unwrap();
    // After the window by the database clock; the lagging host's own clock would still be inside it.
    std::thread::sleep(std::time::Duration::from_millis(3_100));
    assert_eq!(refresh(&lagging, &p, &t0), Err(Error::RefreshTokenReused));
}

// ---- The same through AsyncTokenIssuer, awaiting the store natively --------------------------------------

/// An asynchronous issuer of `pool` on `store`, deciding on `clock` when the store does not keep time.
fn async_issuer(
    pool: &Pool,
    store: Arc<dyn AsyncRefreshTokenStore>,
    clock: Arc<dyn Clock>,
) -> AsyncTokenIssuer {
    AsyncTokenIssuer::builder(
        "us-east-1",
        TokenSigner::new(Arc::new(
            SigningKey::generate(Algorithm::EdDSA, "pg-key").unwrap(),
        )),
        RefreshTokenKeys::new(RefreshTokenKey::new(1, KEY).unwrap()),
        pool.registry.clone(),
        store,
        pool.users.clone(),
    )
    .clock(clock)
    .build()
}

async fn refresh_async(
    issuer: &AsyncTokenIssuer,
    pool: &Pool,
    token: &RefreshToken,
) -> Result<Option<RefreshToken>, Error> {
    issuer
        .get_tokens_from_refresh_token(&RefreshRequest::new(
            token,
            ClientId::parse(&pool.client_id).unwrap(),
        ))
        .await
        .map(|r| r.refresh_token)
}

#[tokio::test]
async fn rotation_grace_and_reuse_through_postgres_async() {
    let Some(store) = common::try_async_store(false).await else {
        return;
    };
    let p = pool(10);
    let issuer = async_issuer(&p, Arc::new(store), p.clock.clone());
    let t0 = issuer
        .sign_in(&SignInRequest::new(
            ClientId::parse(&p.client_id).unwrap(),
            "alice",
        ))
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let t1 = refresh_async(&issuer, &p, &t0).await.unwrap().unwrap();
    assert_eq!(
        refresh_async(&issuer, &p, &t0).await.unwrap().unwrap(),
        t1,
        "R-ROT-2"
    );
    p.clock.advance(10);
    assert_eq!(
        refresh_async(&issuer, &p, &t0).await,
        Err(Error::RefreshTokenReused)
    );
    let t2 = refresh_async(&issuer, &p, &t1).await.unwrap().unwrap();
    issuer
        .revoke_token(&t2, ClientId::parse(&p.client_id).unwrap(), None)
        .await
        .unwrap();
    assert_eq!(
        refresh_async(&issuer, &p, &t2).await,
        Err(Error::RefreshTokenRevoked)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_rot_5_two_async_instances_racing_on_one_token_advance_once() {
    let Some(store) = common::try_async_store(false).await else {
        return;
    };
    let store: Arc<dyn AsyncRefreshTokenStore> = Arc::new(store);
    let p = Arc::new(pool(0));
    let a = Arc::new(async_issuer(&p, store.clone(), p.clock.clone()));
    let b = Arc::new(async_issuer(&p, store, p.clock.clone()));
    for _ in 0..5 {
        let t0 = a
            .sign_in(&SignInRequest::new(
                ClientId::parse(&p.client_id).unwrap(),
                "alice",
            ))
            .await
            .unwrap()
            .refresh_token
            .unwrap();
        let barrier = Arc::new(tokio::sync::Barrier::new(8));
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let issuer = Arc::clone(if i % 2 == 0 { &a } else { &b });
                let (barrier, p, t0) = (Arc::clone(&barrier), Arc::clone(&p), t0.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    refresh_async(&issuer, &p, &t0).await
                })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(
            wins, 1,
            "grace 0: exactly one instance advances: {results:?}"
        );
        assert!(results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| *e == Error::RefreshTokenReused));
    }
}

#[tokio::test]
async fn r_rot_11_two_async_instances_with_skewed_clocks_decide_on_the_database_clock() {
    let Some(store) = common::try_async_store(true).await else {
        return;
    };
    let store: Arc<dyn AsyncRefreshTokenStore> = Arc::new(store);
    let p = pool(2);
    let ahead = async_issuer(
        &p,
        store.clone(),
        Arc::new(refresh_rotation::clock::SystemClock),
    );
    let lagging = async_issuer(&p, store, Arc::new(LaggingClock { behind: 5 }));
    let t0 = ahead
        .sign_in(&SignInRequest::new(
            ClientId::parse(&p.client_id).unwrap(),
            "alice",
        ))
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    refresh_async(&ahead, &p, &t0).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(3_100)).await;
    assert_eq!(
        refresh_async(&lagging, &p, &t0).await,
        Err(Error::RefreshTokenReused)
    );
}
