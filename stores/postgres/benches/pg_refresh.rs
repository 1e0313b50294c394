//! The store's share of a refresh, PostgreSQL against in-process, in one run so the ratio is visible.
//!
//! - `advance`: one rotation (R-ROT-1), the conditional UPDATE.
//! - `get_advance`: what the issuer asks of the store on a refresh: read the family, then advance it.
//! - `refresh`: a whole rotating GetTokensFromRefreshToken through `TokenIssuer` (EdDSA JWTs), so the
//!   store's share of a refresh is visible next to the signatures.
//!
//! The PostgreSQL store is asynchronous; these figures go through its blocking adapter
//! (`BlockingPgStore`, a `Handle::block_on` per operation on a one-worker runtime), which adds a thread
//! hand-off per operation to the round trips. `refresh_async/postgres` is the same refresh through
//! `AsyncTokenIssuer` awaiting the store natively.
//!
//! Bound compared against: the in-memory store (`InMemoryRefreshTokenStore`), whose cost is a lock and a
//! hash-map probe. The
//! PostgreSQL figures are dominated by round trips (one for `advance`, two for `get_advance`), so on
//! loopback they measure the server's per-statement cost; across a network, add the RTT per trip.
//!
//! Needs `REFRESH_ROTATION_PG_URL` (for example through `stores/postgres/ci.sh cargo bench -p
//! refresh-rotation-postgres`); without it only the in-process figures are measured, after a loud
//! notice.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use refresh_rotation::clock::{Clock, ManualClock, SystemClock, Timestamp};
use refresh_rotation::config::RefreshTokenRotation;
use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::random::{RandomSource, SystemRandom};
use refresh_rotation::store::AsyncRefreshTokenStore;
use refresh_rotation::store::{
    Advance, Family, FamilyId, FamilyInfo, FamilyState, InMemoryRefreshTokenStore,
    RefreshTokenStore,
};
use refresh_rotation::ClientId;
use refresh_rotation::{
    AppClientConfig, AsyncTokenIssuer, ClientRegistry, NewClientSecret, RefreshRequest,
    RefreshTokenKey, RefreshTokenKeys, SignInRequest, TokenIssuer,
};
use refresh_rotation_postgres::PgRefreshTokenStore;

const URL_VAR: &str = "REFRESH_ROTATION_PG_URL";

/// The in-process store to compare with.
fn memory_store() -> InMemoryRefreshTokenStore {
    InMemoryRefreshTokenStore::new()
}

fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).expect("OS random source");
    b
}

fn new_family() -> Family {
    Family {
        id: FamilyId::from_bytes(random()),
        info: Arc::new(FamilyInfo {
            client_id: Arc::from("bench-client"),
            subject: "bench-subject".into(),
            username: "bench-user".into(),
            device_key: None,
            scopes: Arc::from("openid email aws.cognito.signin.user.admin"),
            auth_time: Timestamp::from_unix_seconds(1_750_000_000),
            event_id: random(),
            expires_at: Timestamp::from_unix_seconds(4_000_000_000),
        }),
        state: FamilyState::new(1),
    }
}

/// Benchmarks `advance` and `get` + `advance` on `store` under `name`.
fn bench_store(c: &mut Criterion, name: &str, store: &dyn RefreshTokenStore) {
    let deadline = Timestamp::from_unix_seconds(1_750_000_100);
    // Fresh families now and then, so that no run advances one family past u32::MAX.
    let fresh = || {
        let f = new_family();
        store.create(f.clone()).expect("create");
        (f.id, 0u32)
    };

    let (mut id, mut generation) = fresh();
    c.bench_function(&format!("advance/{name}"), |b| {
        b.iter(|| {
            if generation == u32::MAX - 1 {
                (id, generation) = fresh();
            }
            let r = store
                .advance(&id, generation, deadline, 1)
                .expect("advance");
            debug_assert!(matches!(r, Advance::Advanced(_)));
            generation += 1;
            black_box(r)
        })
    });

    let (mut id, mut generation) = fresh();
    c.bench_function(&format!("get_advance/{name}"), |b| {
        b.iter(|| {
            if generation == u32::MAX - 1 {
                (id, generation) = fresh();
            }
            let f = store.get(&id).expect("get").expect("family");
            let r = store
                .advance(&id, f.state.generation, deadline, 1)
                .expect("advance");
            generation += 1;
            black_box(r)
        })
    });
}

/// What both drivers need: a registry with one rotating client (grace 0), one user, keys and a clock.
struct Fixture {
    clock: Arc<ManualClock>,
    rng: Arc<SystemRandom>,
    registry: Arc<ClientRegistry>,
    users: Arc<InMemoryUserDirectory>,
    client_id: String,
}

fn fixture() -> Fixture {
    // Starts at the real time: the PostgreSQL store decides on the database clock (R-ROT-11), so a
    // family signed in at a made-up date would already have expired by it.
    let clock = Arc::new(ManualClock::new(SystemClock.now()));
    let rng = Arc::new(SystemRandom::new());
    let registry = Arc::new(ClientRegistry::new(
        "us-east-1_Bench",
        clock.clone(),
        rng.clone(),
    ));
    let client = registry
        .create_client(
            AppClientConfig::builder("bench")
                .refresh_token_rotation(RefreshTokenRotation::enabled(0).expect("grace 0")),
            NewClientSecret::None,
        )
        .expect("client");
    let users = Arc::new(InMemoryUserDirectory::new());
    users
        .put(UserRecord::new(
            "b3c1a2d4-0000-4000-8000-000000000001",
            "bench-user",
        ))
        .expect("user");
    Fixture {
        clock,
        rng,
        registry,
        users,
        client_id: client.client_id().to_string(),
    }
}

fn signer() -> TokenSigner {
    TokenSigner::new(Arc::new(
        SigningKey::generate(Algorithm::EdDSA, "bench").expect("key"),
    ))
}

/// A whole rotating refresh through the issuer on `store`, one family rotated again and again.
fn bench_refresh(c: &mut Criterion, name: &str, store: Arc<dyn RefreshTokenStore>) {
    let f = fixture();
    let issuer = TokenIssuer::builder(
        "us-east-1",
        signer(),
        RefreshTokenKeys::new(RefreshTokenKey::generate(1, &*f.rng).expect("refresh key")),
        f.registry,
        store,
        f.users,
    )
    .clock(f.clock)
    .build();
    let first = issuer
        .sign_in(&SignInRequest::new(
            ClientId::parse(&f.client_id).unwrap(),
            "bench-user",
        ))
        .expect("sign-in");
    let mut token = first.refresh_token.expect("refresh token");
    c.bench_function(&format!("refresh/{name}"), |b| {
        b.iter(|| {
            let r = issuer
                .get_tokens_from_refresh_token(&RefreshRequest::new(
                    &token,
                    ClientId::parse(&f.client_id).unwrap(),
                ))
                .expect("refresh");
            token = r.refresh_token.expect("rotated");
            black_box(r.access_token.len())
        })
    });
}

/// The same refresh through `AsyncTokenIssuer`, awaiting `store` natively; each iteration is one
/// `block_on` of the whole refresh.
fn bench_refresh_async(
    c: &mut Criterion,
    name: &str,
    runtime: &tokio::runtime::Runtime,
    store: Arc<dyn AsyncRefreshTokenStore>,
) {
    let f = fixture();
    let issuer = AsyncTokenIssuer::builder(
        "us-east-1",
        signer(),
        RefreshTokenKeys::new(RefreshTokenKey::generate(1, &*f.rng).expect("refresh key")),
        f.registry,
        store,
        f.users,
    )
    .clock(f.clock)
    .build();
    let first = runtime
        .block_on(issuer.sign_in(&SignInRequest::new(
            ClientId::parse(&f.client_id).unwrap(),
            "bench-user",
        )))
        .expect("sign-in");
    let mut token = first.refresh_token.expect("refresh token");
    c.bench_function(&format!("refresh_async/{name}"), |b| {
        b.iter(|| {
            let r = runtime
                .block_on(issuer.get_tokens_from_refresh_token(&RefreshRequest::new(
                    &token,
                    ClientId::parse(&f.client_id).unwrap(),
                )))
                .expect("refresh");
            token = r.refresh_token.expect("rotated");
            black_box(r.access_token.len())
        })
    });
}

fn benches(c: &mut Criterion) {
    let memory = memory_store();
    bench_store(c, "memory", &memory);
    bench_refresh(c, "memory", Arc::new(memory_store()));

    let url = match std::env::var(URL_VAR) {
        Ok(u) if !u.trim().is_empty() => u,
        _ => {
            eprintln!(
                "\n*** SKIPPED the PostgreSQL benchmarks: {URL_VAR} is not set. Run \
                 `stores/postgres/ci.sh cargo bench -p refresh-rotation-postgres` (as root). ***\n"
            );
            return;
        }
    };
    let table = format!("rr_bench_{}", std::process::id());
    // The synchronous host's runtime: the blocking adapter runs each operation on it.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let pg = PgRefreshTokenStore::builder()
        .table(&table)
        .max_connections(2)
        .connect_blocking(&url, runtime.handle())
        .expect("connect to the benchmark database");
    pg.migrate().expect("migrate");
    bench_store(c, "postgres", &pg);
    bench_refresh_async(c, "postgres", &runtime, Arc::new(pg.as_async().clone()));
    bench_refresh(c, "postgres", Arc::new(pg));
}

criterion_group! {
    name = pg_refresh;
    // Short runs: the machine is small and shared.
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = benches
}
criterion_main!(pg_refresh);
