//! The client store on PostgreSQL (R-PER-1..4): the shared client-store conformance suite, each check
//! against fresh tables, then what only a database shows: secrets sealed at rest, rows validated on
//! read, pools kept apart, and two independent connection pools (two "instances") seeing each other's
//! writes at once.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use refresh_rotation::clock::ManualClock;
use refresh_rotation::config::RefreshTokenRotation;
use refresh_rotation::error::StoreError;
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::{AsyncClientStore, Replace, SecretSealer};
use refresh_rotation::testkit::clients::{block_on, random_client_id, sample_client, POOL};
use refresh_rotation::{AppClientConfig, ClientRegistry, NewClientSecret};
use refresh_rotation_postgres::{PgClientStore, PgRefreshTokenStore};

const KEY: [u8; 32] = [7; 32];

fn sealer() -> Arc<SecretSealer> {
    Arc::new(SecretSealer::new(1, &KEY, Arc::new(SystemRandom::new())).unwrap())
}

/// Connections to the test database (an "instance"), on the tests' multi-thread runtime.
fn connections(url: &str) -> PgRefreshTokenStore {
    common::rt().block_on(async {
        PgRefreshTokenStore::builder()
            .table(&common::unique_table())
            .max_connections(8)
            .min_idle(Some(0))
            .connect(url)
            .await
            .expect("connect to the test database")
    })
}

/// A client store of [`POOL`] on fresh tables (a unique prefix), migrated.
fn fresh_on(conns: &PgRefreshTokenStore, prefix: &str) -> PgClientStore {
    let store = PgClientStore::with_table_prefix(conns, POOL, sealer(), prefix)
        .unwrap()
        .runtime(common::rt().clone());
    common::rt().block_on(store.migrate()).expect("migrate");
    store
}

fn prefix() -> String {
    format!("{}_", common::unique_table())
}

fn try_fresh() -> Option<(String, PgRefreshTokenStore, PgClientStore, String)> {
    let url = common::pg_url()?;
    let conns = connections(&url);
    let p = prefix();
    let store = fresh_on(&conns, &p);
    Some((url, conns, store, p))
}

/// Every check of the public client-store suite (R-PER-3), each against fresh tables.
#[test]
fn r_per_3_client_store_conformance_suite() {
    let Some(url) = common::pg_url() else { return };
    let conns = connections(&url);
    refresh_rotation::testkit::clients::run_all(|| fresh_on(&conns, &prefix()));
}

/// R-PER-5 (explicit migration): client tables of the store's names that something else made are
/// refused, naming the difference, and left as they were; the clients table's byte-order collation,
/// which ListUserPoolClients pages by (R-CLI-7), is part of the shape.
#[test]
fn r_per_5_migrate_refuses_client_tables_of_another_shape() {
    let Some(url) = common::pg_url() else { return };
    let conns = connections(&url);
    let mut admin = common::raw_client(&url);
    let p = prefix();
    admin
        .batch_execute(&format!(
            "CREATE TABLE \"{p}app_clients\" (pool_id TEXT NOT NULL, client_id TEXT NOT NULL, \
             config JSONB NOT NULL, secret_sealed BYTEA NULL, creation_date BIGINT NOT NULL, \
             last_modified_date BIGINT NOT NULL, revision BIGINT NOT NULL, \
             PRIMARY KEY (pool_id, client_id))"
        ))
        .unwrap();
    let store = PgClientStore::with_table_prefix(&conns, POOL, sealer(), &p)
        .unwrap()
        .runtime(common::rt().clone());
    let err = common::rt()
        .block_on(store.migrate())
        .expect_err("a clients table without COLLATE \"C\" was accepted");
    assert!(
        err.to_string()
            .contains("column client_id is text NOT NULL (expected text NOT NULL COLLATE \"C\")"),
        "{err}"
    );
    // The whole migration was one transaction: the other two tables were not created either.
    let made = admin
        .query(
            "SELECT 1 FROM information_schema.tables WHERE table_name = ANY($1)",
            &[&vec![
                format!("{p}app_client_pools"),
                format!("{p}app_client_scopes"),
            ]],
        )
        .unwrap();
    assert!(made.is_empty(), "the migration was not rolled back");
}

#[test]
fn r_per_1_migrate_is_idempotent() {
    let Some((_, _, store, _)) = try_fresh() else {
        return;
    };
    for _ in 0..3 {
        common::rt()
            .block_on(store.migrate())
            .expect("migrate again");
    }
}

/// How many B-tree indexes on `client_id` alone the clients table `table` has.
fn client_id_indexes(admin: &mut postgres::Client, table: &str) -> i64 {
    admin
        .query_one(
            "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() \
             AND tablename = $1 AND indexdef LIKE '%USING btree (client_id)'",
            &[&table],
        )
        .unwrap()
        .get(0)
}

/// R-REV-3, R-PER-1: `migrate` gives the clients table a B-tree index on `client_id` alone, which a
/// global sign-out's lookup of a family's client in every pool needs (the primary key is led by
/// `pool_id`); tables migrated by an earlier version, without it, get it; migrating again adds none.
#[test]
fn r_rev_3_migrate_indexes_client_ids_once() {
    let Some((url, _conns, store, p)) = try_fresh() else {
        return;
    };
    let mut admin = common::raw_client(&url);
    let table = format!("{p}app_clients");
    assert_eq!(client_id_indexes(&mut admin, &table), 1);
    // The tables as an earlier version left them.
    admin
        .batch_execute(&format!("DROP INDEX \"{table}_client_id_idx\""))
        .unwrap();
    for _ in 0..2 {
        common::rt().block_on(store.migrate()).expect("migrate");
        assert_eq!(client_id_indexes(&mut admin, &table), 1);
    }
}

/// R-PER-1: only a table's owner may index it. A service whose role may create in the schema and use
/// the tables, but does not own them (another role made them), still migrates an earlier version's
/// tables: without the index, which it leaves to the owner (with a server warning), rather than
/// failing every start-up. The owner's migration then builds it.
#[test]
fn r_per_1_a_role_that_does_not_own_the_tables_migrates_without_the_index() {
    let Some((url, _conns, owner_store, p)) = try_fresh() else {
        return;
    };
    let mut admin = common::raw_client(&url);
    let table = format!("{p}app_clients");
    let role = format!("{p}role");
    let schema: String = admin
        .query_one("SELECT current_schema()", &[])
        .unwrap()
        .get(0);
    admin
        .batch_execute(&format!(
            "DROP INDEX \"{table}_client_id_idx\"; \
             CREATE ROLE {role} NOLOGIN; \
             GRANT USAGE, CREATE ON SCHEMA \"{schema}\" TO {role}; \
             GRANT SELECT, INSERT, UPDATE, DELETE ON \"{p}app_clients\", \
             \"{p}app_client_scopes\", \"{p}app_client_pools\" TO {role}"
        ))
        .unwrap();
    // Connections that act as that role from their start.
    let as_role = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        common::with_param(&url, "options", &format!("-c%20role%3D{role}"))
    } else {
        common::with_param(&url, "options", &format!("'-c role={role}'"))
    };
    let conns = connections(&as_role);
    let service = PgClientStore::with_table_prefix(&conns, POOL, sealer(), &p)
        .unwrap()
        .runtime(common::rt().clone());
    let migrated = common::rt().block_on(service.migrate());
    let unindexed = client_id_indexes(&mut admin, &table);
    let counted = common::rt().block_on(AsyncClientStore::count(&service));
    drop((service, conns));
    common::rt()
        .block_on(owner_store.migrate())
        .expect("the owner's migration");
    let indexed = client_id_indexes(&mut admin, &table);
    admin
        .batch_execute(&format!(
            "DROP TABLE \"{p}app_clients\", \"{p}app_client_scopes\", \"{p}app_client_pools\"; \
             REVOKE ALL ON SCHEMA \"{schema}\" FROM {role}; DROP ROLE {role}"
        ))
        .unwrap();
    migrated.expect("a migration by a role that does not own the tables");
    assert_eq!(counted, Ok(0), "the store works without the index");
    assert_eq!((unindexed, indexed), (0, 1));
}

#[test]
fn r_per_1_secret_is_sealed_at_rest_and_given_back() {
    let Some((url, _, store, p)) = try_fresh() else {
        return;
    };
    let client = sample_client(&random_client_id(), "web");
    let secret = client.secret().unwrap().expose_secret().to_owned();
    block_on(AsyncClientStore::insert(&store, client.clone(), 10)).unwrap();
    let mut raw = common::raw_client(&url);
    let row = raw
        .query_one(
            &format!("SELECT secret_sealed, config::text FROM {p}app_clients WHERE client_id = $1"),
            &[&&**client.client_id()],
        )
        .unwrap();
    let sealed: Vec<u8> = row.get(0);
    let config: String = row.get(1);
    assert!(!sealed.windows(secret.len()).any(|w| w == secret.as_bytes()));
    assert!(!config.contains(&secret));
    let read = block_on(AsyncClientStore::get(&store, client.client_id()))
        .unwrap()
        .unwrap();
    assert_eq!(read.secret().unwrap().expose_secret(), secret);
    // Another key cannot open it: the secret is not readable from the database alone.
    let other = Arc::new(SecretSealer::new(2, &[9; 32], Arc::new(SystemRandom::new())).unwrap());
    let conns = connections(&url);
    let thief = PgClientStore::with_table_prefix(&conns, POOL, other, &p)
        .unwrap()
        .runtime(common::rt().clone());
    assert!(block_on(AsyncClientStore::get(&thief, client.client_id())).is_err());
}

#[test]
fn r_per_1_a_row_altered_by_hand_is_refused_not_trusted() {
    let Some((url, _, store, p)) = try_fresh() else {
        return;
    };
    let client = sample_client(&random_client_id(), "web");
    block_on(AsyncClientStore::insert(&store, client.clone(), 10)).unwrap();
    // Read twice first: an unchanged row gives the client decoded before (the same allocation), and
    // what is kept of it must not hide the change below, made without a new revision.
    let first = block_on(AsyncClientStore::get(&store, client.client_id()))
        .unwrap()
        .unwrap();
    let again = block_on(AsyncClientStore::get(&store, client.client_id()))
        .unwrap()
        .unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    let mut raw = common::raw_client(&url);
    raw.execute(
        &format!(
            "UPDATE {p}app_clients SET config = jsonb_set(config, '{{access_token_validity}}', '999999') \
             WHERE client_id = $1"
        ),
        &[&&**client.client_id()],
    )
    .unwrap();
    let e = block_on(AsyncClientStore::get(&store, client.client_id())).unwrap_err();
    assert!(matches!(e, StoreError::Backend(_)), "{e:?}");
}

#[test]
fn r_per_1_pools_are_kept_apart() {
    let Some((_, _, store, _)) = try_fresh() else {
        return;
    };
    let other = store.for_pool("us-east-1_Other");
    let client = sample_client(&random_client_id(), "web");
    block_on(AsyncClientStore::insert(&store, client.clone(), 10)).unwrap();
    assert!(block_on(AsyncClientStore::get(&other, client.client_id()))
        .unwrap()
        .is_none());
    assert_eq!(block_on(AsyncClientStore::count(&other)).unwrap(), 0);
    // A client of one pool handed to another pool's store is refused, not written under the wrong pool.
    assert!(block_on(AsyncClientStore::replace(&other, client.clone(), 0)).is_err());
    assert!(block_on(AsyncClientStore::insert(&other, client.clone(), 10)).is_err());
    assert_eq!(
        block_on(AsyncClientStore::replace(&store, client.clone(), 7)).unwrap(),
        Replace::Conflict
    );
    block_on(AsyncClientStore::declare_scope(&store, "api/read", 1)).unwrap();
    assert!(!block_on(AsyncClientStore::is_scope_declared(&other, "api/read")).unwrap());
}

/// R-PER-4 at the store level: two independent connection pools (two instances) over one database; a
/// client created through one is read by the other at once, with its secret and declared scope, and an
/// update through one is what the other reads next.
#[test]
fn r_per_4_two_instances_see_each_others_clients_at_once() {
    let Some((url, _, a, p)) = try_fresh() else {
        return;
    };
    let conns_b = connections(&url);
    let b = PgClientStore::with_table_prefix(&conns_b, POOL, sealer(), &p)
        .unwrap()
        .runtime(common::rt().clone());
    let clock = Arc::new(ManualClock::starting_now());
    let registry_a = ClientRegistry::new(POOL, clock.clone(), Arc::new(SystemRandom::new()))
        .with_store(Arc::new(a));
    let registry_b =
        ClientRegistry::new(POOL, clock, Arc::new(SystemRandom::new())).with_store(Arc::new(b));
    block_on(registry_a.declare_custom_scope_async("api/read")).unwrap();
    let created = block_on(
        registry_a.create_client_async(
            AppClientConfig::builder("web")
                .allowed_oauth_flows([refresh_rotation::config::OAuthFlow::ClientCredentials])
                .allowed_oauth_flows_user_pool_client(true)
                .allowed_oauth_scopes(["api/read"]),
            NewClientSecret::Generate,
        ),
    )
    .unwrap();
    let seen = block_on(registry_b.get_async(created.client_id()))
        .unwrap()
        .expect("created through A, visible through B at once");
    assert_eq!(seen.config(), created.config());
    assert_eq!(
        seen.secret().unwrap().expose_secret(),
        created.secret().unwrap().expose_secret()
    );
    let updated = block_on(
        registry_b.update_client_with_async(created.client_id(), |b| {
            b.refresh_token_rotation(RefreshTokenRotation::enabled(30).unwrap())
        }),
    )
    .unwrap();
    let seen = block_on(registry_a.get_async(created.client_id()))
        .unwrap()
        .unwrap();
    assert_eq!(seen.revision(), updated.revision());
    assert_eq!(
        seen.config()
            .refresh_token_rotation()
            .retry_grace_period_seconds(),
        30
    );
}

#[test]
fn r_per_5_a_joined_read_needs_the_client_stores_own_connections() {
    let Some((url, conns, store, _)) = try_fresh() else {
        return;
    };
    assert!(store.families(&conns).is_ok());
    // Another instance's connections (maybe another database): refused, not read from blindly.
    let other = connections(&url);
    let refused = store.families(&other).unwrap_err();
    assert!(
        refused.to_string().contains("other connections"),
        "{refused}"
    );
}

/// R-PER-5 (explicit, idempotent migration, safe from several instances at once): two instances
/// migrating the same tables at the same moment, one naming them with the schema and one without, both
/// succeed; one lock serialises every migration, however the tables are spelled.
#[test]
fn r_per_5_concurrent_migrations_of_one_table_named_two_ways_both_succeed() {
    let Some(url) = common::pg_url() else { return };
    for _ in 0..6 {
        let p = prefix();
        let (a, b) = (connections(&url), connections(&url));
        let store = |conns: &PgRefreshTokenStore, prefix: &str| {
            PgClientStore::with_table_prefix(conns, POOL, sealer(), prefix)
                .unwrap()
                .runtime(common::rt().clone())
        };
        let (a, b) = (store(&a, &p), store(&b, &format!("public.{p}")));
        let (x, y) = std::thread::scope(|s| {
            let x = s.spawn(|| common::rt().block_on(a.migrate()));
            let y = s.spawn(|| common::rt().block_on(b.migrate()));
            (x.join().unwrap(), y.join().unwrap())
        });
        x.unwrap();
        y.unwrap();
    }
}

/// R-PER-3: an insert of an id that exists is `AlreadyExists`, never `Full` for a pool far from its
/// bound, even when the existing client is deleted by another instance between the conditional
/// INSERT (which found the id taken) and the follow-up `exists` read. A statement trigger that sleeps
/// after the INSERT only widens that window so another session's DELETE lands in it.
#[test]
fn r_per_3_an_insert_racing_a_delete_of_its_id_is_not_reported_full() {
    let Some((url, _, store, p)) = try_fresh() else {
        return;
    };
    let id = random_client_id();
    let client = sample_client(&id, "racer");
    block_on(store.insert(client.clone(), 1000)).unwrap();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!(
            "CREATE FUNCTION {p}nap() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$; \
             CREATE TRIGGER {p}nap AFTER INSERT ON {p}app_clients \
             FOR EACH STATEMENT EXECUTE FUNCTION {p}nap();"
        ))
        .unwrap();
    let deleter = {
        let (url, p, id) = (url.clone(), p.clone(), id.clone());
        std::thread::spawn(move || {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(300));
            c.execute(
                &format!("DELETE FROM {p}app_clients WHERE client_id = $1"),
                &[&id],
            )
            .unwrap()
        })
    };
    let outcome = block_on(store.insert(client, 1000));
    assert_eq!(
        deleter.join().unwrap(),
        1,
        "the delete landed in the window"
    );
    assert!(
        !matches!(outcome, Err(StoreError::Full)),
        "a pool holding one client of 1000 answered Full: {outcome:?}"
    );
}

/// R-ENG-2: the pool's family store ([`PgClientStore::families`]) runs every operation in the client
/// store's runtime, as the client store does, so a thread outside that runtime may await any of them
/// (a read with its client used to, and the advance after it panicked: no reactor running).
#[test]
fn r_eng_2_pool_families_run_every_operation_in_the_client_stores_runtime() {
    use refresh_rotation::clock::Timestamp;
    use refresh_rotation::store::{Advance, AsyncRefreshTokenStore, PurgeCutoff};

    let Some((_, conns, clients, _)) = try_fresh() else {
        return;
    };
    common::rt().block_on(conns.migrate()).unwrap();
    let families = clients.families(&conns).unwrap();
    let f = common::family("outside", 4_000_000_000);
    let id = f.id;
    // `block_on` parks this thread, which belongs to no runtime.
    block_on(families.create(f)).unwrap();
    assert!(block_on(families.read(&id)).unwrap().family.is_some());
    assert!(block_on(families.read_with_client(&id, "client-1")).is_ok());
    let deadline = Timestamp::from_unix_seconds(3_999_000_000);
    let advanced = block_on(families.advance(&id, 0, deadline, 1)).unwrap();
    assert!(matches!(advanced, Advance::Advanced(_)), "{advanced:?}");
    assert!(block_on(families.bind_device(&id, "us-east-1_device")).is_ok());
    assert!(block_on(families.confirm_device(&id, "us-east-1_device")).is_ok());
    assert!(block_on(families.revoke(&id)).unwrap());
    assert_eq!(block_on(families.revoke_subject("outside")).unwrap(), 0);
    assert_eq!(block_on(families.revoke_client("client-1")).unwrap(), 0);
    let cutoff = PurgeCutoff::at(Timestamp::from_unix_seconds(1_000_000)).unwrap();
    assert_eq!(block_on(families.purge_expired(cutoff, 10)).unwrap(), 0);
}
