//! R-ROT-5 whatever the database's default isolation level: on a database whose
//! `default_transaction_isolation` is REPEATABLE READ (a common DBA choice), every request that loses the
//! race on one refresh token still gets its R-ROT-5 answer (the same successor inside the grace window,
//! `RefreshTokenReuseException` with grace 0) and never an internal error. And a statement that a
//! concurrent transaction rolls back anyway (serialization failure, deadlock) is sent again.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::{Arc, Barrier};

use refresh_rotation::clock::{ManualClock, Timestamp};
use refresh_rotation::config::RefreshTokenRotation;
use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
use refresh_rotation::error::StoreError;
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::{Advance, RefreshTokenStore};
use refresh_rotation::ClientId;
use refresh_rotation::{
    AppClientConfig, ClientRegistry, Error, NewClientSecret, RefreshRequest, RefreshToken,
    RefreshTokenKey, RefreshTokenKeys, SignInRequest, TokenIssuer,
};
use refresh_rotation_postgres::{BlockingPgStore, PgRefreshTokenStore};

const KEY: &[u8] = b"test-only refresh token key, 32 bytes or more";
const THREADS: usize = 8;
const ROUNDS: usize = 12;

/// A new database whose default isolation level is REPEATABLE READ, and the URL to reach it.
fn repeatable_read_database(url: &str) -> String {
    let name = format!("rr_iso_{}", common::unique_table());
    let mut admin = common::raw_client(url);
    // Two statements: CREATE DATABASE cannot run inside the implicit transaction of a batch.
    for sql in [
        format!("CREATE DATABASE \"{name}\""),
        format!("ALTER DATABASE \"{name}\" SET default_transaction_isolation = 'repeatable read'"),
    ] {
        admin.batch_execute(&sql).unwrap_or_else(|e| {
            panic!("this test needs CREATEDB on the test server (ci.sh gives it): {sql}: {e:?}")
        });
    }
    let rr_url = common::with_param(url, "dbname", &name);
    // The setting is in force for a session that does not ask otherwise: the test means something.
    let level: String = common::raw_client(&rr_url)
        .query_one("SHOW default_transaction_isolation", &[])
        .unwrap()
        .get(0);
    assert_eq!(level, "repeatable read");
    rr_url
}

/// A store whose pool holds `n` open connections, so that `n` threads each race on their own.
fn warm_store(url: &str, n: u32) -> BlockingPgStore {
    let s = PgRefreshTokenStore::builder()
        .table(&common::unique_table())
        .max_connections(n)
        .min_idle(Some(n))
        // The issuers run on a manual clock (R-ROT-11 lets tests choose the host's clock).
        .database_clock(false)
        .connect_blocking(url, common::rt())
        .expect("connect");
    s.migrate().expect("migrate");
    s
}

struct Fixture {
    issuers: [TokenIssuer; 2],
    client_id: String,
}

/// Two issuers (two service instances) on one store, with a client rotating with `grace` seconds.
fn fixture(store: Arc<dyn RefreshTokenStore>, grace: u8) -> Fixture {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(
        1_700_000_000,
    )));
    let registry = Arc::new(ClientRegistry::new(
        "us-east-1_PgIso",
        clock.clone(),
        Arc::new(SystemRandom::new()),
    ));
    let client = registry
        .create_client(
            AppClientConfig::builder("iso-app")
                .refresh_token_rotation(RefreshTokenRotation::enabled(grace).unwrap()),
            NewClientSecret::None,
        )
        .unwrap();
    let users = Arc::new(InMemoryUserDirectory::new());
    users
        .put(UserRecord::new(
            "3a0c6f1e-0000-4000-8000-00000000000b",
            "alice",
        ))
        .unwrap();
    let issuer = || {
        TokenIssuer::builder(
            "us-east-1",
            TokenSigner::new(Arc::new(
                SigningKey::generate(Algorithm::EdDSA, "iso-key").unwrap(),
            )),
            RefreshTokenKeys::new(RefreshTokenKey::new(1, KEY).unwrap()),
            registry.clone(),
            store.clone(),
            users.clone(),
        )
        .clock(clock.clone())
        .build()
    };
    Fixture {
        issuers: [issuer(), issuer()],
        client_id: client.client_id().to_string(),
    }
}

/// `THREADS` presentations of one fresh token at once, half through each issuer.
fn race(f: &Fixture) -> Vec<Result<Option<String>, Error>> {
    let t0 = f.issuers[0]
        .sign_in(&SignInRequest::new(
            ClientId::parse(&f.client_id).unwrap(),
            "alice",
        ))
        .unwrap()
        .refresh_token
        .unwrap();
    let barrier = Barrier::new(THREADS);
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..THREADS)
            .map(|i| {
                let (issuer, barrier, t0, client_id) =
                    (&f.issuers[i % 2], &barrier, &t0, &f.client_id);
                s.spawn(move || {
                    barrier.wait();
                    issuer
                        .get_tokens_from_refresh_token(&RefreshRequest::new(
                            t0,
                            ClientId::parse(client_id).unwrap(),
                        ))
                        .map(|r| r.refresh_token.map(RefreshToken::into_secret))
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    })
}

#[test]
fn r_rot_5_race_losers_get_their_answer_under_a_repeatable_read_default() {
    let Some(url) = common::pg_url() else { return };
    let rr_url = repeatable_read_database(&url);
    let store: Arc<dyn RefreshTokenStore> = Arc::new(warm_store(&rr_url, THREADS as u32));

    // Grace open: every request, winner or loser, gets the one successor (R-ROT-2 for the losers).
    let f = fixture(store.clone(), 10);
    for round in 0..ROUNDS {
        let results = race(&f);
        let first = results[0].clone();
        assert!(
            matches!(&first, Ok(Some(_))),
            "round {round}: grace 10: {results:?}"
        );
        assert!(
            results.iter().all(|r| *r == first),
            "round {round}: grace 10: every request gets the same successor: {results:?}"
        );
    }

    // Grace 0: exactly one request advances; every loser is RefreshTokenReuseException (R-ROT-4).
    let f = fixture(store, 0);
    for round in 0..ROUNDS {
        let results = race(&f);
        let wins = results.iter().filter(|r| matches!(r, Ok(Some(_)))).count();
        assert_eq!(wins, 1, "round {round}: grace 0: {results:?}");
        assert!(
            results
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| *e == Error::RefreshTokenReused),
            "round {round}: grace 0: every loser is told of reuse, none gets an internal error: \
             {results:?}"
        );
    }
}

/// Makes the next `n` updates of the store's table fail with SQLSTATE `code` (before any row changes).
fn inject_failures(url: &str, store: &BlockingPgStore, code: &str, n: i64) {
    let t = store.table_name();
    let base = t.trim_matches('"');
    let (seq, fun) = (format!("{base}_seq"), format!("{base}_conflict"));
    common::raw_client(url)
        .batch_execute(&format!(
            "CREATE SEQUENCE \"{seq}\";
             CREATE FUNCTION \"{fun}\"() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN
                 -- nextval is not rolled back with the failing statement, so it counts attempts.
                 IF nextval('\"{seq}\"') <= {n} THEN
                     RAISE EXCEPTION 'injected conflict' USING ERRCODE = '{code}';
                 END IF;
                 RETURN NEW;
             END $$;
             CREATE TRIGGER conflict BEFORE UPDATE ON {t} FOR EACH ROW EXECUTE FUNCTION \"{fun}\"();"
        ))
        .unwrap();
}

#[test]
fn r_rot_5_a_statement_rolled_back_by_a_concurrent_transaction_is_sent_again() {
    let Some(url) = common::pg_url() else { return };
    for code in ["40001", "40P01"] {
        let store = common::store_on(&url, &common::unique_table(), 2);
        let f = common::family("conflicted", 4_000_000_000);
        store.create(f.clone()).unwrap();
        inject_failures(&url, &store, code, 1);
        // The first attempt is rolled back; the store sends it again and it advances exactly once.
        assert!(
            matches!(
                store.advance(&f.id, 0, common::ts(10), 1).unwrap(),
                Advance::Advanced(st) if st.generation == 1
            ),
            "{code}"
        );
        assert_eq!(store.get(&f.id).unwrap().unwrap().state.generation, 1);
        assert!(store.revoke(&f.id).unwrap(), "{code}");
    }
}

#[test]
fn r_rot_5_a_conflict_that_persists_is_a_bounded_unavailable_error() {
    let Some(url) = common::pg_url() else { return };
    let store = common::store_on(&url, &common::unique_table(), 2);
    let f = common::family("stuck", 4_000_000_000);
    store.create(f.clone()).unwrap();
    inject_failures(&url, &store, "40001", i64::MAX);
    let e = store.advance(&f.id, 0, common::ts(10), 1).unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    assert_eq!(store.get(&f.id).unwrap().unwrap().state.generation, 0);
}
