//! The store's share of a refresh, PostgreSQL against in-process, in one run so the ratio is visible.
//!
//! - `advance`: one rotation (R-ROT-1), the conditional UPDATE.
//! - `get_advance`: what the issuer asks of the store on a refresh: read the family, then advance it.
//!
//! Bound compared against: the in-process store, whose cost is a lock and a hash-map probe. The
//! PostgreSQL figures are dominated by round trips (one for `advance`, two for `get_advance`), so on
//! loopback they measure the server's per-statement cost; across a network, add the RTT per trip.
//!
//! Needs `REFRESH_ROTATION_PG_URL` (for example through `stores/postgres/ci.sh cargo bench -p
//! refresh-rotation-postgres`); without it only the in-process figures are measured, after a loud
//! notice.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use refresh_rotation::{
    Advance, Family, FamilyId, FamilyInfo, FamilyState, RandomSource, RefreshTokenStore,
    StoreError, SystemRandom, Timestamp,
};
use refresh_rotation_postgres::PgRefreshTokenStore;

const URL_VAR: &str = "REFRESH_ROTATION_PG_URL";

/// The in-process store to compare with.
///
/// `refresh_rotation::InMemoryRefreshTokenStore` is still a skeleton on this branch, so this is a
/// stand-in with the same cost model (one mutex, one hash map). Once the real one lands, replace the
/// body of `memory_store` with `InMemoryRefreshTokenStore::default()`.
fn memory_store() -> impl RefreshTokenStore {
    MutexMapStore::default()
}

#[derive(Default)]
struct MutexMapStore(Mutex<HashMap<FamilyId, Family>>);

impl RefreshTokenStore for MutexMapStore {
    fn create(&self, family: Family) -> Result<(), StoreError> {
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if m.contains_key(&family.id) {
            return Err(StoreError::AlreadyExists);
        }
        m.insert(family.id, family);
        Ok(())
    }
    fn get(&self, id: &FamilyId) -> Result<Option<Family>, StoreError> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned())
    }
    fn advance(&self, id: &FamilyId, expected: u32, d: Timestamp) -> Result<Advance, StoreError> {
        let mut m = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(f) = m.get_mut(id) else {
            return Ok(Advance::NotFound);
        };
        if f.state.revoked || f.state.generation != expected || expected == u32::MAX {
            return Ok(Advance::Unchanged(f.state));
        }
        f.state.generation += 1;
        f.state.grace_deadline = d;
        Ok(Advance::Advanced(f.state))
    }
    fn bind_device(&self, _: &FamilyId, _: &str) -> Result<Option<Family>, StoreError> {
        unimplemented!("not benchmarked")
    }
    fn revoke(&self, _: &FamilyId) -> Result<bool, StoreError> {
        unimplemented!("not benchmarked")
    }
    fn revoke_subject(&self, _: &str) -> Result<usize, StoreError> {
        unimplemented!("not benchmarked")
    }
    fn purge_expired(&self, _: Timestamp, _: usize) -> Result<usize, StoreError> {
        unimplemented!("not benchmarked")
    }
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
        state: FamilyState::NEW,
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
            let r = store.advance(&id, generation, deadline).expect("advance");
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
                .advance(&id, f.state.generation, deadline)
                .expect("advance");
            generation += 1;
            black_box(r)
        })
    });
}

fn benches(c: &mut Criterion) {
    let memory = memory_store();
    bench_store(c, "memory", &memory);

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
    let pg = PgRefreshTokenStore::builder()
        .table(&table)
        .max_connections(2)
        .connect(&url)
        .expect("connect to the benchmark database");
    pg.migrate().expect("migrate");
    bench_store(c, "postgres", &pg);
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
