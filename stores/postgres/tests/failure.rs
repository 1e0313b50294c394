//! Failure behaviour: an unreachable database or a failing statement gives a prompt
//! `Err(StoreError)` — which the issuer answers as InternalErrorException, HTTP 500 — never a panic, never
//! a secret in the message, and never a half-applied change.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{accept_startup, fake_server, family, message, new_id, read_body, ts};
use refresh_rotation::error::StoreError;
use refresh_rotation::store::{Advance, RefreshTokenStore};
use refresh_rotation::testkit::cutoff_for;
use refresh_rotation::Error;
use refresh_rotation_postgres::PgRefreshTokenStore;

const FAR: i64 = 4_000_000_000;
const PASSWORD: &str = "s3cret-Pa55word-xyzzy";

/// A loopback port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
    // `l` drops here: the port is closed (and, being ephemeral, unlikely to be reused at once).
}

fn assert_safe(e: &StoreError) {
    let text = format!("{e} / {e:?}");
    assert!(!text.contains(PASSWORD), "password leaked: {text}");
    let issuer = Error::from(e.clone());
    assert_eq!(issuer.exception_name(), "InternalErrorException");
    assert_eq!(issuer.http_status(), 500);
}

#[test]
fn unreachable_database_fails_every_operation_promptly_without_leaking_the_password() {
    let url = format!(
        "postgresql://rr:{PASSWORD}@127.0.0.1:{}/nowhere",
        closed_port()
    );
    let started = Instant::now();
    let eager = PgRefreshTokenStore::builder()
        .connect_timeout(Duration::from_millis(500))
        .connect_blocking(&url, common::rt())
        .unwrap_err();
    assert!(matches!(eager, StoreError::Unavailable(_)), "{eager:?}");
    assert_safe(&eager);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );

    let s = common::connect_lazy(
        PgRefreshTokenStore::builder().connect_timeout(Duration::from_millis(500)),
        &url,
    )
    .unwrap();
    let f = family("a", FAR);
    let results: Vec<(&str, StoreError)> = vec![
        ("migrate", s.migrate().unwrap_err()),
        ("create", s.create(f.clone()).unwrap_err()),
        ("get", s.get(&f.id).unwrap_err()),
        ("advance", s.advance(&f.id, 0, ts(1), 1).unwrap_err()),
        ("bind_device", s.bind_device(&f.id, "d").unwrap_err()),
        ("revoke", s.revoke(&f.id).unwrap_err()),
        ("revoke_subject", s.revoke_subject("a").unwrap_err()),
        (
            "purge_expired",
            s.purge_expired(cutoff_for(ts(1)), 10).unwrap_err(),
        ),
    ];
    for (op, e) in &results {
        assert!(matches!(e, StoreError::Unavailable(_)), "{op}: {e:?}");
        assert_safe(e);
    }
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert!(!format!("{s:?}").contains(PASSWORD));
}

// ---- A server (or proxy) that sends malformed error codes ----------------------------------------------

/// A loopback "server" that accepts any startup without authentication and answers every statement
/// with an ErrorResponse whose SQLSTATE field is `code`, as a buggy proxy or a hostile server might.
fn server_sending_sqlstate(code: &'static str) -> u16 {
    use std::io::{Read, Write};
    fake_server(move |mut s| {
        accept_startup(&mut s)?; // NoTls sends no SSLRequest
        loop {
            let mut kind = [0u8; 1];
            s.read_exact(&mut kind)?;
            read_body(&mut s)?;
            match kind[0] {
                b'X' => return Ok(()),
                // Sync, or a simple Query: answer the whole exchange with the error.
                b'S' | b'Q' => {
                    let mut fields = Vec::new();
                    for (tag, value) in [
                        (b'S', "ERROR"),
                        (b'V', "ERROR"),
                        (b'C', code),
                        (b'M', "malformed"),
                    ] {
                        fields.push(tag);
                        fields.extend_from_slice(value.as_bytes());
                        fields.push(0);
                    }
                    fields.push(0);
                    let mut reply = message(b'E', &fields);
                    reply.extend(message(b'Z', b"I"));
                    s.write_all(&reply)?;
                }
                _ => {}
            }
        }
    })
}

#[test]
fn r_safe_9_a_malformed_sqlstate_from_the_server_is_an_error_not_a_panic() {
    for code in ["", "0", "é", "0é", "08\u{1F600}", "4000000"] {
        let port = server_sending_sqlstate(code);
        let s = PgRefreshTokenStore::builder()
            .connect_timeout(Duration::from_secs(2))
            .min_idle(Some(0))
            .connect_blocking(
                &format!("postgresql://rr:{PASSWORD}@127.0.0.1:{port}/fake"),
                common::rt(),
            )
            .unwrap_or_else(|e| panic!("{code:?}: the fake server accepts sessions: {e:?}"));
        let f = family("a", FAR);
        let results = [
            ("get", s.get(&f.id).map(|_| ())),
            ("create", s.create(f.clone())),
            ("advance", s.advance(&f.id, 0, ts(1), 1).map(|_| ())),
            ("revoke", s.revoke(&f.id).map(|_| ())),
        ];
        for (op, r) in results {
            let e = r.unwrap_err();
            // Not a SQLSTATE at all: nothing to classify it by, so not "retry later".
            assert!(
                matches!(&e, StoreError::Backend(m) if m.contains("malformed")),
                "{code:?} {op}: {e:?}"
            );
            assert_safe(&e);
        }
    }
}

#[test]
fn malformed_connection_string_is_an_error_that_does_not_echo_it() {
    let e = common::connect_lazy(
        PgRefreshTokenStore::builder(),
        &format!("postgresql://u:{PASSWORD}@[bad/x?connect_timeout=nope"),
    )
    .unwrap_err();
    assert!(matches!(e, StoreError::Backend(_)), "{e:?}");
    assert_safe(&e);
    let e = common::connect_lazy(
        PgRefreshTokenStore::builder().table("Robert'); DROP TABLE students;--"),
        "host=127.0.0.1",
    )
    .unwrap_err();
    assert!(matches!(e, StoreError::Backend(_)), "{e:?}");
}

/// R-SAFE-1: a `statement_timeout` longer than PostgreSQL takes (`INT_MAX` ms) is refused when the
/// store is built, saying why, instead of every connection failing with the server's refusal.
#[test]
fn a_statement_timeout_beyond_postgresqls_limit_is_refused_up_front() {
    let builder = |ms: u64| {
        PgRefreshTokenStore::builder().statement_timeout(Some(std::time::Duration::from_millis(ms)))
    };
    let e = common::connect_lazy(builder(2_147_483_648), "host=127.0.0.1 port=1").unwrap_err();
    assert!(
        matches!(&e, StoreError::Backend(m) if m.contains("statement_timeout")),
        "{e:?}"
    );
    // The limit itself is accepted (a lazy store does not connect yet).
    assert!(common::connect_lazy(builder(2_147_483_647), "host=127.0.0.1 port=1").is_ok());
}

#[test]
fn wrong_password_is_an_error_without_the_password() {
    let Some(url) = common::pg_url() else { return };
    let cfg: postgres::Config = url.parse().unwrap();
    let host = match &cfg.get_hosts()[0] {
        postgres::config::Host::Tcp(h) => h.clone(),
        #[allow(unreachable_patterns)]
        _ => return, // a Unix socket with trust authentication has no password to get wrong
    };
    let bad = format!(
        "host={host} port={} user={} dbname={} password={PASSWORD}",
        cfg.get_ports().first().copied().unwrap_or(5432),
        cfg.get_user().unwrap_or("postgres"),
        cfg.get_dbname().unwrap_or("postgres"),
    );
    match PgRefreshTokenStore::builder().connect_blocking(&bad, common::rt()) {
        // The server may trust loopback connections; then there is nothing to check.
        Ok(_) => {}
        Err(e) => assert_safe(&e),
    }
}

#[test]
fn missing_table_is_a_backend_error_not_a_panic() {
    let Some(url) = common::pg_url() else { return };
    let s = PgRefreshTokenStore::builder()
        .table(&common::unique_table())
        .connect_blocking(&url, common::rt())
        .unwrap();
    // migrate() deliberately not called: the store never creates its table implicitly.
    let e = s.get(&new_id()).unwrap_err();
    assert!(
        matches!(&e, StoreError::Backend(m) if m.contains("does not exist")),
        "{e:?}"
    );
    s.migrate().unwrap();
    assert_eq!(s.get(&new_id()).unwrap(), None);
}

#[test]
fn statement_timeout_behind_a_row_lock_fails_promptly_and_changes_nothing() {
    let Some(url) = common::pg_url() else { return };
    let s = PgRefreshTokenStore::builder()
        .table(&common::unique_table())
        .statement_timeout(Some(Duration::from_millis(300)))
        .connect_blocking(&url, common::rt())
        .unwrap();
    s.migrate().unwrap();
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    s.advance(&f.id, 0, ts(10), 1).unwrap();
    let before = s.get(&f.id).unwrap();

    // Another session holds the row (a long transaction, a stuck instance).
    let mut other = common::raw_client(&url);
    let mut tx = other.transaction().unwrap();
    tx.execute(
        &format!(
            "SELECT 1 FROM {} WHERE family_id = $1 FOR UPDATE",
            s.table_name()
        ),
        &[&&f.id.as_bytes()[..]],
    )
    .unwrap();

    let started = Instant::now();
    let e = s.advance(&f.id, 1, ts(20), 1).unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    assert_safe(&e);
    let e = s.revoke(&f.id).unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    let e = s.bind_device(&f.id, "dev").unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    tx.rollback().unwrap();

    assert_eq!(s.get(&f.id).unwrap(), before, "nothing was applied");
    assert!(matches!(
        s.advance(&f.id, 1, ts(20), 1).unwrap(),
        Advance::Advanced(_)
    ));
}

#[test]
fn a_statement_failing_inside_the_server_leaves_the_family_as_it_was() {
    let Some(url) = common::pg_url() else { return };
    let s = common::store_on(&url, &common::unique_table(), 2);
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    s.advance(&f.id, 0, ts(10), 1).unwrap();
    let before = s.get(&f.id).unwrap();

    // A trigger makes every write to the table fail after the row was changed in memory: the failure
    // happens mid-statement, the worst place for a partial write.
    let t = s.table_name();
    let fun = format!("{}_fail", t.trim_matches('"'));
    let mut admin = common::raw_client(&url);
    admin
        .batch_execute(&format!(
            "CREATE FUNCTION \"{fun}\"() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
             CREATE TRIGGER fail AFTER UPDATE OR DELETE ON {t} FOR EACH ROW EXECUTE FUNCTION \"{fun}\"();"
        ))
        .unwrap();

    for (op, e) in [
        ("advance", s.advance(&f.id, 1, ts(20), 1).map(|_| ())),
        ("revoke", s.revoke(&f.id).map(|_| ())),
        ("revoke_subject", s.revoke_subject("a").map(|_| ())),
        ("bind_device", s.bind_device(&f.id, "dev").map(|_| ())),
    ] {
        let e = e.unwrap_err();
        assert!(
            matches!(&e, StoreError::Backend(m) if m.contains("injected failure")),
            "{op}: {e:?}"
        );
        assert_eq!(s.get(&f.id).unwrap(), before, "{op} changed nothing");
    }
    let mut expired = family("a", 5);
    expired.id = new_id();
    s.create(expired.clone()).unwrap();
    assert!(s.purge_expired(cutoff_for(ts(100)), 10).is_err());
    assert!(
        s.get(&expired.id).unwrap().is_some(),
        "purge changed nothing"
    );

    admin
        .batch_execute(&format!("DROP TRIGGER fail ON {t}"))
        .unwrap();
    assert!(matches!(
        s.advance(&f.id, 1, ts(20), 1).unwrap(),
        Advance::Advanced(_)
    ));
}

#[test]
fn out_of_range_generation_in_a_row_is_reported_not_wrapped() {
    let Some(url) = common::pg_url() else { return };
    let s = common::store_on(&url, &common::unique_table(), 2);
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    let t = s.table_name();
    let mut admin = common::raw_client(&url);
    // Someone edits the table by hand around the CHECK constraint.
    admin
        .batch_execute(&format!(
            "ALTER TABLE {t} DROP CONSTRAINT {}; UPDATE {t} SET generation = 4294967296",
            format_args!("\"{}_generation_check\"", t.trim_matches('"'))
        ))
        .unwrap();
    let e = s.get(&f.id).unwrap_err();
    assert!(
        matches!(&e, StoreError::Backend(m) if m.contains("generation")),
        "{e:?}"
    );
    assert!(s.advance(&f.id, 0, ts(1), 1).is_err());
    assert!(s.advance(&f.id, u32::MAX, ts(1), 1).is_err());
}

#[test]
fn connections_killed_by_the_server_fail_at_most_once_each_then_the_pool_recovers() {
    let Some(url) = common::pg_url() else { return };
    let app = format!("rr_kill_{}", common::unique_table());
    let s = Arc::new(common::store_on(
        &common::with_param(&url, "application_name", &app),
        &common::unique_table(),
        4,
    ));
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    s.get(&f.id).unwrap();

    let mut admin = common::raw_client(&url);
    let killed: i64 = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .unwrap()
        .get(0);
    assert!(killed >= 1);

    // Each advance either advanced or failed with nothing applied; the generation counts the successes.
    let mut advanced = 0u32;
    let mut failed = 0;
    for _ in 0..10 {
        match s.advance(&f.id, advanced, ts(1), 1) {
            Ok(Advance::Advanced(st)) => {
                advanced += 1;
                assert_eq!(st.generation, advanced);
            }
            Ok(other) => panic!("{other:?}"),
            Err(e) => {
                assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
                failed += 1;
            }
        }
    }
    assert!(
        failed <= killed,
        "failed {failed} times for {killed} killed connections"
    );
    assert_eq!(s.get(&f.id).unwrap().unwrap().state.generation, advanced);
    assert!(advanced >= 10 - killed as u32);
}
