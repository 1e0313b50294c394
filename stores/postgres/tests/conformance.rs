//! Every transition of the `RefreshTokenStore` contract, against a real PostgreSQL server.
//!
//! The shared conformance suite (`refresh_rotation::testkit`, the one every store runs) comes first;
//! the tests after it check PostgreSQL-specific edges (extreme values, long strings, Unicode).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::{family, new_id, ts};
use refresh_rotation::clock::Timestamp;
use refresh_rotation::error::StoreError;
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::{
    Advance, Family, FamilyId, FamilyRead, FamilyState, PurgeCutoff, RefreshTokenStore,
    SecretSealer,
};
use refresh_rotation::testkit::cutoff_for;
use refresh_rotation_postgres::{PgClientStore, PgRefreshTokenStore};

/// Skips the test (loudly) when no database is configured.
macro_rules! store {
    () => {
        match common::try_store() {
            Some(s) => s,
            None => return,
        }
    };
}

const FAR: i64 = 4_000_000_000;

/// Every check of the crate's shared suite, each against a fresh table (SPEC 6 and 7, R-SAFE-5).
#[test]
fn shared_conformance_suite() {
    if common::try_store().is_none() {
        return;
    }
    refresh_rotation::testkit::run_all(common::make_store);
}

#[test]
fn create_then_get_round_trips_every_field() {
    let s = store!();
    let mut f = family("sub-é🦀", FAR);
    let info = Arc::make_mut(&mut f.info);
    info.device_key = Some("us-east-1_device-key".into());
    info.scopes = Arc::from("openid ".repeat(500).trim_end());
    info.auth_time = Timestamp::from_unix_seconds(i64::MIN);
    f.state = FamilyState {
        generation: u32::MAX,
        grace_deadline: Timestamp::from_unix_seconds(i64::MAX),
        revoked: true,
        key_id: 1,
        device_confirmed: true,
    };
    s.create(f.clone()).unwrap();
    assert_eq!(s.get(&f.id).unwrap(), Some(f));

    let plain = family("sub-2", 0);
    s.create(plain.clone()).unwrap();
    assert_eq!(s.get(&plain.id).unwrap(), Some(plain));
}

#[test]
fn get_of_unknown_family_is_none() {
    let s = store!();
    assert_eq!(s.get(&new_id()).unwrap(), None);
}

#[test]
fn create_of_taken_id_is_already_exists_and_leaves_the_family_untouched() {
    let s = store!();
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    s.advance(&f.id, 0, ts(10), 1).unwrap();
    let before = s.get(&f.id).unwrap();

    let mut other = family("b", FAR + 1);
    other.id = f.id;
    assert_eq!(s.create(other), Err(StoreError::AlreadyExists));
    assert_eq!(s.get(&f.id).unwrap(), before);
}

#[test]
fn r_rot_1_advance_at_expected_generation_advances_and_sets_grace() {
    let s = store!();
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    let st = FamilyState {
        generation: 1,
        grace_deadline: ts(1_000),
        revoked: false,
        key_id: 1,
        device_confirmed: true,
    };
    assert_eq!(
        s.advance(&f.id, 0, ts(1_000), 1).unwrap(),
        Advance::Advanced(st)
    );
    let got = s.get(&f.id).unwrap().unwrap();
    assert_eq!(got.state, st);
    assert_eq!(
        got.info, f.info,
        "rotation changes no sign-in data (R-FAM-5)"
    );
}

#[test]
fn r_rot_3_advance_chain_moves_one_generation_at_a_time() {
    let s = store!();
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    for g in 0..5u32 {
        let d = ts(100 + i64::from(g));
        assert_eq!(
            s.advance(&f.id, g, d, 1).unwrap(),
            Advance::Advanced(FamilyState {
                generation: g + 1,
                grace_deadline: d,
                revoked: false,
                key_id: 1,
                device_confirmed: true,
            })
        );
    }
    assert_eq!(s.get(&f.id).unwrap().unwrap().state.generation, 5);
}

#[test]
fn r_rot_5_advance_with_stale_generation_is_unchanged_with_current_state() {
    let s = store!();
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    s.advance(&f.id, 0, ts(50), 1).unwrap();
    let now = FamilyState {
        generation: 1,
        grace_deadline: ts(50),
        revoked: false,
        key_id: 1,
        device_confirmed: true,
    };
    // The loser of a race presents the generation the winner already advanced.
    assert_eq!(
        s.advance(&f.id, 0, ts(99), 1).unwrap(),
        Advance::Unchanged(now)
    );
    assert_eq!(s.get(&f.id).unwrap().unwrap().state, now, "nothing written");
}

#[test]
fn advance_with_generation_above_current_is_unchanged() {
    let s = store!();
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    assert_eq!(
        s.advance(&f.id, 7, ts(99), 1).unwrap(),
        Advance::Unchanged(FamilyState::new(1))
    );
    assert_eq!(s.get(&f.id).unwrap().unwrap().state, FamilyState::new(1));
}

#[test]
fn advance_of_unknown_family_is_not_found() {
    let s = store!();
    assert_eq!(
        s.advance(&new_id(), 0, ts(1), 1).unwrap(),
        Advance::NotFound
    );
}

#[test]
fn r_rev_2_advance_of_revoked_family_is_unchanged_and_revoked() {
    let s = store!();
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    s.advance(&f.id, 0, ts(5), 1).unwrap();
    assert!(s.revoke(&f.id).unwrap());
    assert_eq!(
        s.advance(&f.id, 1, ts(99), 1).unwrap(),
        Advance::Unchanged(FamilyState {
            generation: 1,
            grace_deadline: ts(5),
            revoked: true,
            key_id: 1,
            device_confirmed: true,
        })
    );
}

#[test]
fn advance_at_u32_max_is_unchanged() {
    let s = store!();
    let mut f = family("a", FAR);
    f.state.generation = u32::MAX;
    s.create(f.clone()).unwrap();
    assert_eq!(
        s.advance(&f.id, u32::MAX, ts(9), 1).unwrap(),
        Advance::Unchanged(f.state)
    );
    // One below still advances, up to the maximum and no further.
    let mut g = family("b", FAR);
    g.state.generation = u32::MAX - 1;
    s.create(g.clone()).unwrap();
    assert!(matches!(
        s.advance(&g.id, u32::MAX - 1, ts(9), 1).unwrap(),
        Advance::Advanced(FamilyState {
            generation: u32::MAX,
            ..
        })
    ));
    assert!(matches!(
        s.advance(&g.id, u32::MAX, ts(9), 1).unwrap(),
        Advance::Unchanged(FamilyState {
            generation: u32::MAX,
            ..
        })
    ));
}

#[test]
fn r_rev_2_revoke_is_idempotent_and_keeps_the_generation() {
    let s = store!();
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    s.advance(&f.id, 0, ts(5), 1).unwrap();
    assert!(s.revoke(&f.id).unwrap(), "was live");
    assert!(!s.revoke(&f.id).unwrap(), "already revoked");
    assert!(!s.revoke(&new_id()).unwrap(), "never existed");
    let got = s.get(&f.id).unwrap().unwrap();
    assert_eq!(
        got.state,
        FamilyState {
            generation: 1,
            grace_deadline: ts(5),
            revoked: true,
            key_id: 1,
            device_confirmed: true,
        }
    );
    assert_eq!(got.info, f.info);
}

#[test]
fn r_rev_3_revoke_subject_revokes_every_family_of_the_user_only() {
    let s = store!();
    let mine: Vec<Family> = (0..3).map(|_| family("alice", FAR)).collect();
    let theirs = family("bob", FAR);
    for f in mine.iter().chain([&theirs]) {
        s.create(f.clone()).unwrap();
    }
    assert!(s.revoke(&mine[0].id).unwrap());
    assert_eq!(
        s.revoke_subject("alice").unwrap(),
        2,
        "counts the live ones"
    );
    for f in &mine {
        assert!(s.get(&f.id).unwrap().unwrap().state.revoked);
    }
    assert!(!s.get(&theirs.id).unwrap().unwrap().state.revoked);
    assert_eq!(s.revoke_subject("alice").unwrap(), 0, "idempotent");
    assert_eq!(s.revoke_subject("nobody").unwrap(), 0);
    assert_eq!(s.revoke_subject("ALICE").unwrap(), 0, "subjects are exact");
}

#[test]
fn r_ref_9_bind_device_binds_once() {
    let s = store!();
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    let bound = s.bind_device(&f.id, "dev-1").unwrap().unwrap();
    assert_eq!(bound.info.device_key.as_deref(), Some("dev-1"));
    assert_eq!(
        bound.state,
        FamilyState {
            device_confirmed: false,
            ..f.state
        },
        "bound unconfirmed (R-REF-9)"
    );
    let again = s.bind_device(&f.id, "dev-2").unwrap().unwrap();
    assert_eq!(
        again.info.device_key.as_deref(),
        Some("dev-1"),
        "first binding wins"
    );
    assert_eq!(s.get(&f.id).unwrap().unwrap(), bound);
    assert_eq!(s.bind_device(&new_id(), "dev-1").unwrap(), None);
}

#[test]
fn r_ref_9_concurrent_binds_agree_on_one_device() {
    let s = Arc::new(store!());
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    let barrier = Arc::new(std::sync::Barrier::new(4));
    let got: Vec<String> = (0..4)
        .map(|i| {
            let (s, b, id) = (Arc::clone(&s), Arc::clone(&barrier), f.id);
            std::thread::spawn(move || {
                b.wait();
                let fam = s.bind_device(&id, &format!("dev-{i}")).unwrap().unwrap();
                fam.info.device_key.as_deref().unwrap().to_owned()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().unwrap())
        .collect();
    assert!(got.iter().all(|d| *d == got[0]), "{got:?}");
}

#[test]
fn r_rev_4_r_rev_5_purge_deletes_expired_families_only() {
    let s = store!();
    let now = 1_000_000;
    let expired = family("a", now - 1);
    let at_now = family("a", now);
    let live = family("a", now + 1);
    let revoked_expired = family("b", now - 10);
    let revoked_live = family("b", now + 10);
    for f in [&expired, &at_now, &live, &revoked_expired, &revoked_live] {
        s.create(f.clone()).unwrap();
    }
    s.revoke(&revoked_expired.id).unwrap();
    s.revoke(&revoked_live.id).unwrap();

    assert_eq!(s.purge_expired(cutoff_for(ts(now)), 100).unwrap(), 3);
    for gone in [&expired, &at_now, &revoked_expired] {
        assert_eq!(s.get(&gone.id).unwrap(), None);
    }
    assert!(s.get(&live.id).unwrap().is_some(), "live family kept");
    assert!(
        s.get(&revoked_live.id).unwrap().unwrap().state.revoked,
        "revoked families stay until expiry (R-REV-4)"
    );
    assert_eq!(s.purge_expired(cutoff_for(ts(now)), 100).unwrap(), 0);
    assert_eq!(
        s.advance(&expired.id, 0, ts(1), 1).unwrap(),
        Advance::NotFound
    );
}

#[test]
fn r_rev_5_purge_works_in_bounded_batches() {
    let s = store!();
    for _ in 0..25 {
        s.create(family("a", 100)).unwrap();
    }
    let keep = family("a", 1_000);
    s.create(keep.clone()).unwrap();
    assert_eq!(s.purge_expired(cutoff_for(ts(500)), 0).unwrap(), 0);
    assert_eq!(s.purge_expired(cutoff_for(ts(500)), 10).unwrap(), 10);
    assert_eq!(s.purge_expired(cutoff_for(ts(500)), 10).unwrap(), 10);
    assert_eq!(s.purge_expired(cutoff_for(ts(500)), 10).unwrap(), 5);
    assert_eq!(s.purge_expired(cutoff_for(ts(500)), usize::MAX).unwrap(), 0);
    assert!(s.get(&keep.id).unwrap().is_some());
}

#[test]
fn migrate_is_idempotent_and_safe_to_run_concurrently() {
    let Some(url) = common::pg_url() else { return };
    let table = common::unique_table();
    let s = common::store_on(&url, &table, 8);
    s.migrate().unwrap();
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    // Several instances starting at once on a fresh table.
    let fresh = common::unique_table();
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (url, fresh) = (url.clone(), fresh.clone());
            std::thread::spawn(move || {
                common::store_on(&url, &fresh, 1);
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    s.migrate().unwrap();
    assert_eq!(
        s.get(&f.id).unwrap(),
        Some(f),
        "migrating again keeps the data"
    );
}

/// Runs `migrate` on a store of its own for `table`, in a thread: its result, or `None` if it has not
/// answered within a minute (a migration stuck behind a lock; the guard only turns a hang into a failure).
fn migrate_elsewhere(url: &str, table: &str) -> Option<Result<(), StoreError>> {
    let (url, table) = (url.to_owned(), table.to_owned());
    let (done, answer) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let store = PgRefreshTokenStore::builder()
            .table(&table)
            .max_connections(1)
            .min_idle(Some(0))
            .connect_blocking(&url, common::rt())
            .expect("connect to the test database");
        let _ = done.send(store.migrate());
    });
    answer.recv_timeout(std::time::Duration::from_secs(60)).ok()
}

/// Runs `migrate` for `table` after `setup` made a table of that name by hand; returns the error and
/// the table's columns afterwards.
fn migrate_over(url: &str, table: &str, setup: &str) -> (StoreError, Vec<String>) {
    let mut admin = common::raw_client(url);
    admin.batch_execute(setup).unwrap();
    let err = match migrate_elsewhere(url, table) {
        Some(Err(e)) => e,
        other => panic!("a table of another shape was accepted: {other:?}"),
    };
    let columns = admin
        .query(
            "SELECT column_name::text FROM information_schema.columns WHERE table_name = $1 \
             ORDER BY ordinal_position",
            &[&table],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (err, columns)
}

/// R-PER-5 (explicit migration): a table of the store's name that something else made is refused with
/// an error that names the difference, and left exactly as it was: no column or index of this crate is
/// added to it.
#[test]
fn r_per_5_migrate_refuses_a_table_of_another_shape_and_leaves_it_untouched() {
    let Some(url) = common::pg_url() else { return };
    let table = common::unique_table();
    let (err, columns) = migrate_over(
        &url,
        &table,
        &format!("CREATE TABLE \"{table}\" (family_id TEXT PRIMARY KEY, note TEXT)"),
    );
    let text = err.to_string();
    assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
    assert!(
        text.contains("another shape") && text.contains("family_id is text"),
        "{text}"
    );
    assert_eq!(columns, ["family_id", "note"], "the table was changed");
    let mut admin = common::raw_client(&url);
    let indexes = admin
        .query(
            "SELECT indexname::text FROM pg_indexes WHERE tablename = $1",
            &[&table],
        )
        .unwrap();
    assert_eq!(indexes.len(), 1, "only its own primary key's index");
}

/// Each difference is found: a missing column, a column that may be NULL where the store writes none,
/// a later column of another type, a different primary key.
#[test]
fn r_per_5_migrate_names_each_kind_of_shape_difference() {
    let Some(url) = common::pg_url() else { return };
    let base = |table: &str, subject: &str, extra: &str, key: &str| {
        format!(
            "CREATE TABLE \"{table}\" (family_id BYTEA {key}, client_id TEXT NOT NULL, \
             subject {subject}, username TEXT NOT NULL, device_key TEXT NULL, \
             scopes TEXT NOT NULL, auth_time BIGINT NOT NULL, event_id BYTEA NOT NULL, \
             expires_at BIGINT NOT NULL, generation BIGINT NOT NULL, \
             grace_deadline BIGINT NOT NULL, revoked BOOLEAN NOT NULL{extra})"
        )
    };
    let cases = [
        (
            "TEXT NULL",
            "",
            "PRIMARY KEY",
            "column subject is text NULL",
        ),
        (
            "INTEGER NOT NULL",
            "",
            "PRIMARY KEY",
            "column subject is integer NOT NULL",
        ),
        (
            "TEXT NOT NULL",
            ", key_id TEXT NOT NULL",
            "PRIMARY KEY",
            "column key_id is text",
        ),
        (
            "TEXT NOT NULL",
            "",
            "NOT NULL",
            "primary key is not (family_id)",
        ),
    ];
    for (subject, extra, key, expected) in cases {
        let table = common::unique_table();
        let (err, _) = migrate_over(&url, &table, &base(&table, subject, extra, key));
        assert!(err.to_string().contains(expected), "{expected}: {err}");
    }
    let table = common::unique_table();
    let (err, columns) = migrate_over(
        &url,
        &table,
        &format!("CREATE TABLE \"{table}\" (family_id BYTEA PRIMARY KEY, client_id TEXT NOT NULL)"),
    );
    assert!(
        err.to_string().contains("it has no column subject"),
        "{err}"
    );
    assert_eq!(columns, ["family_id", "client_id"]);
    // The shape this crate gives a table passes, an older one (without the later columns) included:
    // r_per_1_a_migration_that_must_change_a_busy_table_gives_up_then_succeeds_later upgrades one.
    let table = common::unique_table();
    let mut admin = common::raw_client(&url);
    admin
        .batch_execute(&base(&table, "TEXT NOT NULL", "", "PRIMARY KEY"))
        .unwrap();
    assert_eq!(migrate_elsewhere(&url, &table), Some(Ok(())));
}

/// A view in the table's place (the table renamed, a view left under the old name) is refused: a view
/// has no nullability or primary key to check, and the store's statements need the key (`ON CONFLICT`).
/// The error says so, and nothing changes.
#[test]
fn r_per_5_migrate_refuses_a_view_in_the_tables_place() {
    let Some(url) = common::pg_url() else { return };
    let table = common::unique_table();
    let _store = common::store_on(&url, &table, 1);
    let (err, columns) = migrate_over(
        &url,
        &table,
        &format!(
            "ALTER TABLE \"{table}\" RENAME TO \"{table}_base\"; \
             CREATE VIEW \"{table}\" AS SELECT * FROM \"{table}_base\";"
        ),
    );
    assert!(
        err.to_string().contains("column family_id is bytea NULL"),
        "{err}"
    );
    assert!(columns.contains(&"family_id".to_owned()), "{columns:?}");
}

#[test]
fn r_per_1_a_migration_with_nothing_to_do_takes_no_lock_on_the_table() {
    let Some(url) = common::pg_url() else { return };
    let table = common::unique_table();
    let s = common::store_on(&url, &table, 2);
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    // A long reader of the table: a backup, a report, a session idle in its transaction.
    let mut reader = common::raw_client(&url);
    let mut tx = reader.transaction().unwrap();
    tx.query(&format!("SELECT count(*) FROM \"{table}\""), &[])
        .unwrap();
    // Another instance starting meanwhile: its migration has nothing to do and does not wait...
    assert_eq!(migrate_elsewhere(&url, &table), Some(Ok(())));
    // ...so nothing queues behind it.
    assert_eq!(s.get(&f.id).unwrap(), Some(f));
    tx.rollback().unwrap();
}

#[test]
fn r_per_1_a_migration_that_must_change_a_busy_table_gives_up_then_succeeds_later() {
    let Some(url) = common::pg_url() else { return };
    let table = common::unique_table();
    let s = common::store_on(&url, &table, 2);
    let f = family("a", FAR);
    s.create(f.clone()).unwrap();
    // A table of an older schema: without the column and index added since.
    let mut admin = common::raw_client(&url);
    admin
        .batch_execute(&format!(
            "ALTER TABLE \"{table}\" DROP COLUMN device_confirmed; \
             DROP INDEX \"{table}_expires_at_idx\";"
        ))
        .unwrap();
    let mut reader = common::raw_client(&url);
    let mut tx = reader.transaction().unwrap();
    tx.query(&format!("SELECT count(*) FROM \"{table}\""), &[])
        .unwrap();
    // The upgrade needs the table's lock, which the reader keeps: it gives up, as unavailable, rather
    // than make everybody else's requests queue behind its wait.
    match migrate_elsewhere(&url, &table) {
        Some(Err(StoreError::Unavailable(_))) => {}
        other => panic!("expected Unavailable after the lock timeout, got {other:?}"),
    }
    tx.rollback().unwrap();
    // Once the table is free, the same migration upgrades it, keeping the data.
    assert_eq!(migrate_elsewhere(&url, &table), Some(Ok(())));
    assert_eq!(s.get(&f.id).unwrap(), Some(f));
    let columns = admin
        .query(
            "SELECT 1 FROM information_schema.columns WHERE table_name = $1 \
             AND column_name = 'device_confirmed'",
            &[&table],
        )
        .unwrap();
    assert_eq!(columns.len(), 1);
    let indexes = admin
        .query(
            "SELECT 1 FROM pg_indexes WHERE tablename = $1 AND indexname = $2",
            &[&table, &format!("{table}_expires_at_idx")],
        )
        .unwrap();
    assert_eq!(indexes.len(), 1);
}

/// R-REV-8 and `migrate`'s promise of the table's two indexes: a table renamed away keeps its indexes'
/// names, and a fresh table migrated under the old name still gets indexes of its own (named with a
/// number added), rather than none because the names are taken.
#[test]
fn r_rev_8_a_fresh_table_gets_its_indexes_when_a_renamed_one_kept_their_names() {
    let Some(url) = common::pg_url() else { return };
    let table = common::unique_table();
    let _old = common::store_on(&url, &table, 1);
    let mut admin = common::raw_client(&url);
    admin
        .batch_execute(&format!(
            "ALTER TABLE \"{table}\" RENAME TO \"{table}_old\""
        ))
        .unwrap();
    let _new = common::store_on(&url, &table, 1);
    let defs: Vec<String> = admin
        .query(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1",
            &[&table],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for column in ["(subject)", "(expires_at)"] {
        assert_eq!(
            defs.iter().filter(|d| d.ends_with(column)).count(),
            1,
            "{column}: {defs:#?}"
        );
    }
    // Migrating again adds nothing.
    drop(common::store_on(&url, &table, 1));
    let count: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1",
            &[&table],
        )
        .unwrap()
        .get(0);
    assert_eq!(count, 3);
    admin
        .batch_execute(&format!(
            "DROP TABLE \"{table}\"; DROP TABLE \"{table}_old\""
        ))
        .unwrap();
}

/// R-REV-8: an index on the column that the purge or global sign-out cannot use (a hash index, which
/// serves neither a range nor an order, or a B-tree in another collation than the column's) does not
/// stand in for the store's own: `migrate` adds a B-tree in the column's collation.
#[test]
fn r_rev_8_an_unusable_index_does_not_stand_in_for_the_stores_own() {
    let Some(url) = common::pg_url() else { return };
    let table = common::unique_table();
    drop(common::store_on(&url, &table, 1));
    let mut admin = common::raw_client(&url);
    admin
        .batch_execute(&format!(
            "DROP INDEX \"{table}_expires_at_idx\"; DROP INDEX \"{table}_subject_idx\"; \
             CREATE INDEX \"{table}_exp_hash\" ON \"{table}\" USING hash (expires_at); \
             CREATE INDEX \"{table}_sub_c\" ON \"{table}\" (subject COLLATE \"C\");"
        ))
        .unwrap();
    drop(common::store_on(&url, &table, 1));
    let mut btree = |column: &str| -> i64 {
        admin
            .query_one(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() \
                 AND tablename = $1 AND indexdef LIKE $2",
                &[&table, &format!("%USING btree ({column})")],
            )
            .unwrap()
            .get(0)
    };
    let counts = (btree("expires_at"), btree("subject"));
    assert_eq!(counts, (1, 1));
    admin
        .batch_execute(&format!("DROP TABLE \"{table}\""))
        .unwrap();
}

#[test]
fn r_per_1_a_table_of_the_same_name_in_another_schema_does_not_hide_a_missing_index() {
    let Some(url) = common::pg_url() else { return };
    let table = common::unique_table();
    let schema = format!("{table}_tenant");
    // The same table name, migrated in `public` (the default search_path) with its indexes.
    let _public = common::store_on(&url, &table, 1);
    let mut admin = common::raw_client(&url);
    admin
        .batch_execute(&format!("CREATE SCHEMA \"{schema}\""))
        .unwrap();
    // A tenant's instance, whose search_path puts its own schema first.
    let tenant_url = if url.starts_with("postgres") {
        common::with_param(
            &url,
            "options",
            &format!("-csearch_path%3D{schema}%2Cpublic"),
        )
    } else {
        format!("{url} options='-csearch_path={schema},public'")
    };
    let _tenant = common::store_on(&tenant_url, &table, 1);
    let indexes = admin
        .query(
            "SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 \
             AND indexname <> $3",
            &[&schema, &table, &format!("{table}_pkey")],
        )
        .unwrap();
    assert_eq!(indexes.len(), 2, "the tenant's table lacks its indexes");
}

#[test]
fn stores_on_different_tables_are_isolated() {
    let a = store!();
    let b = store!();
    let f = family("a", FAR);
    a.create(f.clone()).unwrap();
    assert_eq!(b.get(&f.id).unwrap(), None);
    assert_eq!(b.revoke_subject("a").unwrap(), 0);
    b.create(f.clone()).unwrap();
    assert_eq!(
        a.advance(&f.id, 0, ts(1), 1).unwrap(),
        Advance::Advanced(FamilyState {
            generation: 1,
            grace_deadline: ts(1),
            revoked: false,
            key_id: 1,
            device_confirmed: true,
        })
    );
    assert_eq!(b.get(&f.id).unwrap().unwrap().state, FamilyState::new(1));
}

#[test]
fn clones_share_the_table_and_work_as_trait_objects() {
    let s = store!();
    let dynamic: Arc<dyn RefreshTokenStore> = Arc::new(s.clone());
    let f = family("a", FAR);
    dynamic.create(f.clone()).unwrap();
    assert_eq!(s.get(&f.id).unwrap(), Some(f));
}

/// `PgPoolFamilies` (the family store of a pool whose clients are in PostgreSQL too) as a synchronous
/// store, for the shared suite.
struct SyncPoolFamilies(refresh_rotation_postgres::PgPoolFamilies);

impl RefreshTokenStore for SyncPoolFamilies {
    fn create(&self, family: Family) -> Result<(), StoreError> {
        common::rt().block_on(refresh_rotation::store::AsyncRefreshTokenStore::create(
            &self.0, family,
        ))
    }
    fn read(&self, id: &FamilyId) -> Result<FamilyRead, StoreError> {
        common::rt().block_on(refresh_rotation::store::AsyncRefreshTokenStore::read(
            &self.0, id,
        ))
    }
    fn advance(
        &self,
        id: &FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> Result<Advance, StoreError> {
        common::rt().block_on(refresh_rotation::store::AsyncRefreshTokenStore::advance(
            &self.0,
            id,
            expected,
            grace_deadline,
            key_id,
        ))
    }
    fn bind_device(&self, id: &FamilyId, device_key: &str) -> Result<Option<Family>, StoreError> {
        common::rt().block_on(
            refresh_rotation::store::AsyncRefreshTokenStore::bind_device(&self.0, id, device_key),
        )
    }
    fn confirm_device(&self, id: &FamilyId, device_key: &str) -> Result<bool, StoreError> {
        common::rt().block_on(
            refresh_rotation::store::AsyncRefreshTokenStore::confirm_device(
                &self.0, id, device_key,
            ),
        )
    }
    fn revoke(&self, id: &FamilyId) -> Result<bool, StoreError> {
        common::rt().block_on(refresh_rotation::store::AsyncRefreshTokenStore::revoke(
            &self.0, id,
        ))
    }
    fn revoke_subject(&self, subject: &str) -> Result<usize, StoreError> {
        common::rt().block_on(
            refresh_rotation::store::AsyncRefreshTokenStore::revoke_subject(&self.0, subject),
        )
    }
    fn revoke_client(&self, client_id: &str) -> Result<usize, StoreError> {
        common::rt().block_on(
            refresh_rotation::store::AsyncRefreshTokenStore::revoke_client(&self.0, client_id),
        )
    }
    fn purge_expired(&self, cutoff: PurgeCutoff, max: usize) -> Result<usize, StoreError> {
        common::rt().block_on(
            refresh_rotation::store::AsyncRefreshTokenStore::purge_expired(&self.0, cutoff, max),
        )
    }
}

/// A `PgPoolFamilies` over fresh family and client tables.
fn pool_families() -> SyncPoolFamilies {
    let url = common::pg_url().expect("a database");
    common::rt().block_on(async {
        let families = PgRefreshTokenStore::builder()
            .table(&common::unique_table())
            .max_connections(4)
            .min_idle(Some(0))
            .connect(&url)
            .await
            .expect("connect to the test database");
        families.migrate().await.expect("migrate");
        let sealer = SecretSealer::new(1, &[7; 32], Arc::new(SystemRandom::new())).unwrap();
        let prefix = format!("{}_", common::unique_table());
        let clients = PgClientStore::with_table_prefix(
            &families,
            "us-east-1_Conformance",
            Arc::new(sealer),
            &prefix,
        )
        .unwrap();
        clients.migrate().await.expect("migrate the client tables");
        SyncPoolFamilies(clients.families(&families).unwrap())
    })
}

/// The shared suite again, over `PgPoolFamilies`: the store a host uses when its clients are in
/// PostgreSQL too, whose reads join the client and whose subject revocation is per pool.
#[test]
fn shared_conformance_suite_over_pool_families() {
    if common::pg_url().is_none() {
        return;
    }
    refresh_rotation::testkit::run_all(pool_families);
}
