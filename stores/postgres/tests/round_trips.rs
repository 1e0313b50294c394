//! R-PER-5: a refresh that succeeds costs at most two database round trips, the read and the
//! conditional update; with the clients in the store too, a refresh of a family the store read or
//! advanced last costs one (its answer from memory, checked by the advance itself).
//!
//! Counted on the wire, not inside the store: the store talks to the server through a loopback proxy
//! that reads the frontend messages it forwards. In PostgreSQL's protocol a client waits for the server
//! only at a `Sync` (the end of an extended-query exchange) or a simple `Query`, so their number is the
//! number of round trips. `Parse` messages show statements being prepared; there must be none once the
//! connection has served its first refresh.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use refresh_rotation::clock::{Clock, SystemClock};
use refresh_rotation::config::RefreshTokenRotation;
use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::{AsyncRefreshTokenStore, SecretSealer};
use refresh_rotation::ClientId;
use refresh_rotation::{
    AppClientConfig, AsyncTokenIssuer, ClientRegistry, NewClientSecret, RefreshRequest,
    RefreshTokenKey, RefreshTokenKeys, SignInRequest,
};
use refresh_rotation_postgres::{PgClientStore, PgRefreshTokenStore, PgUserJoin};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How many frontend messages of each type went through the proxy.
struct Counts([AtomicUsize; 256]);

impl Counts {
    fn new() -> Self {
        Counts(std::array::from_fn(|_| AtomicUsize::new(0)))
    }
    fn get(&self, kind: u8) -> usize {
        self.0[usize::from(kind)].load(Ordering::SeqCst)
    }
    fn reset(&self) {
        for c in &self.0 {
            c.store(0, Ordering::SeqCst);
        }
    }
}

/// Forwards the client's messages to the server, counting them by type.
async fn pump_frontend(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    counts: Arc<Counts>,
) -> std::io::Result<()> {
    // The StartupMessage has a length but no type byte (the store sends no SSLRequest in plain text).
    let mut len = [0u8; 4];
    from.read_exact(&mut len).await?;
    let mut body = vec![0u8; (u32::from_be_bytes(len) as usize).saturating_sub(4)];
    from.read_exact(&mut body).await?;
    to.write_all(&len).await?;
    to.write_all(&body).await?;
    loop {
        let mut head = [0u8; 5];
        from.read_exact(&mut head).await?;
        let n = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
        let mut body = vec![0u8; n.saturating_sub(4)];
        from.read_exact(&mut body).await?;
        counts.0[usize::from(head[0])].fetch_add(1, Ordering::SeqCst);
        to.write_all(&head).await?;
        to.write_all(&body).await?;
    }
}

/// A counting proxy in front of the test database; returns a connection string that goes through it.
async fn proxy(url: &str) -> (String, Arc<Counts>) {
    let cfg: postgres::Config = url.parse().unwrap();
    let host = match &cfg.get_hosts()[0] {
        postgres::config::Host::Tcp(h) => h.clone(),
        #[allow(unreachable_patterns)]
        _ => panic!("the test database must be reached over TCP"),
    };
    let upstream = format!(
        "{host}:{}",
        cfg.get_ports().first().copied().unwrap_or(5432)
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let counts = Arc::new(Counts::new());
    let c = Arc::clone(&counts);
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let server = TcpStream::connect(&upstream).await.unwrap();
            let (cr, cw) = client.into_split();
            let (mut sr, sw) = server.into_split();
            tokio::spawn(pump_frontend(cr, sw, Arc::clone(&c)));
            tokio::spawn(async move {
                let mut cw = cw;
                let _ = tokio::io::copy(&mut sr, &mut cw).await;
            });
        }
    });
    let proxied = format!(
        "host=127.0.0.1 port={port} user={} dbname={} password={}",
        cfg.get_user().unwrap(),
        cfg.get_dbname().unwrap(),
        String::from_utf8(cfg.get_password().unwrap().to_vec()).unwrap(),
    );
    (proxied, counts)
}

/// Where the issuer's clients and users come from in a round-trip count.
#[derive(Clone, Copy, PartialEq)]
enum Setup {
    /// Clients in memory, families in PostgreSQL.
    FamiliesOnly,
    /// Clients in PostgreSQL too, read with the family ([`PgClientStore::families`]).
    Clients,
    /// Clients and users in PostgreSQL, both read with the family ([`PgUserJoin`]).
    ClientsAndUsers,
}

const SUBJECT: &str = "3a0c6f1e-0000-4000-8000-00000000000c";
const POOL: &str = "us-east-1_PgTrips";

/// The database of a round-trip count: the tables every instance shares, reached through the proxy.
struct Db {
    proxied: String,
    counts: Arc<Counts>,
    table: String,
    /// The prefix of the client tables (and the host's user table).
    prefix: String,
    /// With users in PostgreSQL: a direct connection and the host's user table.
    users: Option<(refresh_rotation_postgres::tokio_postgres::Client, String)>,
}

/// The tables of `setup`, created; `None` without a test database.
async fn database(setup: Setup) -> Option<Db> {
    let url = common::pg_url()?;
    let (proxied, counts) = proxy(&url).await;
    let prefix = format!("{}_", common::unique_table());
    let mut users = None;
    if setup == Setup::ClientsAndUsers {
        // A host's user table in the same database, read with the family.
        let table = format!("{prefix}users");
        let (admin, connection) = refresh_rotation_postgres::tokio_postgres::connect(
            &url,
            refresh_rotation_postgres::tokio_postgres::NoTls,
        )
        .await
        .unwrap();
        tokio::spawn(connection);
        admin
            .batch_execute(&format!(
                "CREATE TABLE {table} (pool_id TEXT, sub TEXT, username TEXT, enabled BOOLEAN, \
                 PRIMARY KEY (pool_id, sub)); \
                 INSERT INTO {table} VALUES ('{POOL}', '{SUBJECT}', 'alice', TRUE)"
            ))
            .await
            .unwrap();
        users = Some((admin, table));
    }
    Some(Db {
        proxied,
        counts,
        table: common::unique_table(),
        prefix,
        users,
    })
}

/// One instance of the service over `db`: its own connection (one, so that its first refreshes prepare
/// the statements the measured ones use), client store and memory.
struct Instance {
    issuer: AsyncTokenIssuer,
    registry: Arc<ClientRegistry>,
}

async fn instance(db: &Db, setup: Setup) -> Instance {
    let store = PgRefreshTokenStore::builder()
        .table(&db.table)
        .max_connections(1)
        .min_idle(Some(1))
        .connect(&db.proxied)
        .await
        .unwrap();
    store.migrate().await.unwrap();

    // An issuer deciding on the database clock (the default), as in production.
    let mut registry =
        ClientRegistry::new(POOL, Arc::new(SystemClock), Arc::new(SystemRandom::new()));
    let mut families: Arc<dyn AsyncRefreshTokenStore> = Arc::new(store.clone());
    if setup != Setup::FamiliesOnly {
        let sealer = SecretSealer::new(1, &[7; 32], Arc::new(SystemRandom::new())).unwrap();
        let clients =
            PgClientStore::with_table_prefix(&store, POOL, Arc::new(sealer), &db.prefix).unwrap();
        clients.migrate().await.unwrap();
        let mut joined = clients.families(&store).unwrap();
        if let Some((_, users)) = &db.users {
            joined = joined.with_users(PgUserJoin::new(
                &format!(
                    "SELECT sub, username, enabled FROM {users} WHERE pool_id = $2 AND sub = f.subject"
                ),
                |row, at| {
                    let mut user = UserRecord::new(
                        row.try_get::<_, String>(at).unwrap(),
                        row.try_get::<_, String>(at + 1).unwrap(),
                    );
                    user.enabled = row.try_get(at + 2).unwrap();
                    Ok(user)
                },
            ));
        }
        families = Arc::new(joined);
        registry = registry.with_store(Arc::new(clients));
    }
    let registry = Arc::new(registry);
    let users = Arc::new(InMemoryUserDirectory::new());
    users.put(UserRecord::new(SUBJECT, "alice")).unwrap();
    let issuer = AsyncTokenIssuer::builder(
        "us-east-1",
        TokenSigner::new(Arc::new(
            SigningKey::generate(Algorithm::EdDSA, "trips").unwrap(),
        )),
        RefreshTokenKeys::new(
            RefreshTokenKey::new(1, b"test-only refresh token key, 32 bytes").unwrap(),
        ),
        Arc::clone(&registry),
        families,
        users,
    )
    .build();
    Instance { issuer, registry }
}

/// A client with rotation (a 10 s grace period), created through `at`.
async fn rotating_client(at: &Instance) -> String {
    at.registry
        .create_client_async(
            AppClientConfig::builder("trips")
                .refresh_token_rotation(RefreshTokenRotation::enabled(10).unwrap()),
            NewClientSecret::None,
        )
        .await
        .unwrap()
        .client_id()
        .to_string()
}

async fn sign_in(at: &Instance, client_id: &str) -> refresh_rotation::RefreshToken {
    at.issuer
        .sign_in(&SignInRequest::new(
            ClientId::parse(client_id).unwrap(),
            "alice",
        ))
        .await
        .unwrap()
        .refresh_token
        .unwrap()
}

async fn refresh(
    at: &Instance,
    client_id: &str,
    token: &refresh_rotation::RefreshToken,
) -> refresh_rotation::RefreshToken {
    at.issuer
        .get_tokens_from_refresh_token(&RefreshRequest::new(
            token,
            ClientId::parse(client_id).unwrap(),
        ))
        .await
        .unwrap()
        .refresh_token
        .expect("rotated")
}

/// One refresh through `at`, and the round trips it cost.
async fn counted_refresh(
    db: &Db,
    at: &Instance,
    client_id: &str,
    token: &refresh_rotation::RefreshToken,
) -> (refresh_rotation::TokenSet, usize) {
    db.counts.reset();
    let answer = at
        .issuer
        .get_tokens_from_refresh_token(&RefreshRequest::new(
            token,
            ClientId::parse(client_id).unwrap(),
        ))
        .await
        .unwrap();
    (answer, db.counts.get(b'S') + db.counts.get(b'Q'))
}

/// Asserts that `n` refreshes went through `counts` in `per_refresh` round trips each, with nothing
/// prepared again.
fn assert_round_trips(counts: &Counts, n: usize, per_refresh: usize) {
    let (syncs, queries) = (counts.get(b'S'), counts.get(b'Q'));
    let (parses, executes) = (counts.get(b'P'), counts.get(b'E'));
    eprintln!("{n} refreshes: {syncs} Sync, {queries} Query, {parses} Parse, {executes} Execute");
    assert_eq!(
        syncs + queries,
        per_refresh * n,
        "round trips per refresh: {}",
        (syncs + queries) as f64 / n as f64
    );
    assert_eq!(queries, 0, "no statement sent as text");
    assert_eq!(parses, 0, "nothing prepared again");
    assert_eq!(executes, per_refresh * n, "statements per refresh");
}

/// Counts the round trips of ten refreshes after a warm-up, and asserts R-PER-5.
async fn assert_two_round_trips(setup: Setup) {
    let Some(db) = database(setup).await else {
        return;
    };
    let one = instance(&db, setup).await;
    let client_id = rotating_client(&one).await;
    let mut token = sign_in(&one, &client_id).await;
    // Warm-up: the first refreshes on the connection prepare the read and the updates (the second
    // refresh is the first answered from memory).
    token = refresh(&one, &client_id, &token).await;
    token = refresh(&one, &client_id, &token).await;
    assert!(db.counts.get(b'P') >= 2, "the warm-up prepared statements");

    db.counts.reset();
    const N: usize = 10;
    for _ in 0..N {
        token = refresh(&one, &client_id, &token).await;
    }
    // With the clients in the store, a family it read or advanced last is answered from memory and
    // advanced by one statement that checks the answer still holds: one round trip.
    let per_refresh = if setup == Setup::FamiliesOnly { 2 } else { 1 };
    assert_round_trips(&db.counts, N, per_refresh);

    // The user the engine decided on is the one read with the family, not the directory's (which
    // still says enabled): R-REF-8 on the joined read.
    if let Some((admin, users)) = &db.users {
        admin
            .batch_execute(&format!("UPDATE {users} SET enabled = FALSE"))
            .await
            .unwrap();
        let refused = one
            .issuer
            .get_tokens_from_refresh_token(&RefreshRequest::new(
                &token,
                ClientId::parse(&client_id).unwrap(),
            ))
            .await;
        assert!(
            matches!(refused, Err(refresh_rotation::Error::UserDisabled)),
            "{refused:?}"
        );
    }
}

/// Two instances over one database (R-PER-5). Taking turns on one family, each one's memory of it is
/// one advance behind, which the presented token shows at once: the store reads and advances, two round
/// trips. When what the memory says is stale in a way no token shows (another instance updated the
/// client, the host renamed the user), the witnessed advance does not happen but reads the family, the
/// client and the user in the same statement, and the engine decides on that read: two round trips
/// again, where a read of its own would make three.
async fn assert_two_round_trips_taking_turns(setup: Setup) {
    let Some(db) = database(setup).await else {
        return;
    };
    let (a, b) = (instance(&db, setup).await, instance(&db, setup).await);
    let client_id = rotating_client(&a).await;
    let mut token = sign_in(&a, &client_id).await;
    // Warm-up: each instance reads and advances, then advances from memory, preparing every statement
    // on its connection.
    for at in [&a, &a, &b, &b] {
        token = refresh(at, &client_id, &token).await;
    }

    db.counts.reset();
    const N: usize = 10;
    for _ in 0..N / 2 {
        token = refresh(&a, &client_id, &token).await;
        token = refresh(&b, &client_id, &token).await;
    }
    assert_round_trips(&db.counts, N, 2);

    // The host changes the user's row (a rename): A's memory of it is stale. A's next refresh is two
    // round trips, and the new ID token carries the new username.
    if let Some((admin, users)) = &db.users {
        token = refresh(&a, &client_id, &token).await;
        admin
            .batch_execute(&format!("UPDATE {users} SET username = 'alice-renamed'"))
            .await
            .unwrap();
        let (answer, trips) = counted_refresh(&db, &a, &client_id, &token).await;
        assert_eq!(trips, 2, "round trips after the user's row changed");
        let claims = a
            .issuer
            .signer()
            .verifier(a.issuer.issuer_url())
            .unwrap()
            .verify_id_token(
                &answer.id_token,
                &client_id,
                SystemClock.now(),
                &refresh_rotation::jwt::NoRevocationCheck,
            )
            .unwrap();
        assert_eq!(claims.get_str("cognito:username"), Some("alice-renamed"));
        token = answer.refresh_token.expect("rotated");
    }

    // B updates the client (access tokens valid for 2 hours now, rotation unchanged): A's memory of its
    // row is stale. A's next refresh is two round trips, and follows the update.
    token = refresh(&a, &client_id, &token).await;
    b.registry
        .update_client_with_async(&client_id, |c| {
            c.access_token_validity(2, refresh_rotation::config::TimeUnit::Hours)
        })
        .await
        .unwrap();
    let (after_update, trips) = counted_refresh(&db, &a, &client_id, &token).await;
    assert_eq!(
        trips, 2,
        "round trips after another instance updated the client"
    );
    assert_eq!(after_update.expires_in, 7200, "the updated configuration");
    assert!(after_update.refresh_token.is_some(), "rotated");
}

#[tokio::test]
async fn r_per_5_a_refresh_is_two_round_trips() {
    assert_two_round_trips(Setup::FamiliesOnly).await;
}

#[tokio::test]
async fn r_per_5_with_clients_in_postgresql_a_refresh_is_one_round_trip_from_memory() {
    assert_two_round_trips(Setup::Clients).await;
}

#[tokio::test]
async fn r_per_5_with_clients_and_users_in_postgresql_a_refresh_is_one_round_trip_from_memory() {
    assert_two_round_trips(Setup::ClientsAndUsers).await;
}

#[tokio::test]
async fn r_per_5_two_instances_taking_turns_with_clients_in_postgresql_spend_two_round_trips() {
    assert_two_round_trips_taking_turns(Setup::Clients).await;
}

#[tokio::test]
async fn r_per_5_two_instances_taking_turns_with_clients_and_users_spend_two_round_trips() {
    assert_two_round_trips_taking_turns(Setup::ClientsAndUsers).await;
}
