//! Test setup shared by the integration tests: the database URL, isolated stores, families.
//!
//! Every store made here gets its own freshly migrated table, so tests are isolated from each other when
//! they run in parallel and from earlier runs against the same database. The tables are left behind:
//! point `REFRESH_ROTATION_PG_URL` at a throwaway database (`ci.sh` makes one per run).
#![allow(dead_code)] // each test file uses a different part of this module

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use refresh_rotation::clock::Timestamp;
use refresh_rotation::error::StoreError;
use refresh_rotation::random::{RandomSource, SystemRandom};
use refresh_rotation::store::{Family, FamilyId, FamilyInfo, FamilyState};
use refresh_rotation_postgres::{BlockingPgStore, PgRefreshTokenStore, PgStoreBuilder};
use tokio::runtime::{Handle, Runtime};

/// The environment variable that holds the connection string of the test database.
pub const URL_VAR: &str = "REFRESH_ROTATION_PG_URL";

/// The test database's connection string, or `None` (after a loud message on stderr) when it is not set.
///
/// Panics instead when running under CI (`CI` set to anything but `false`): CI must never skip these.
pub fn pg_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
            assert!(
                !ci,
                "{URL_VAR} is not set but CI is: the PostgreSQL tests must run in CI (use stores/postgres/ci.sh)"
            );
            // Written to the process's stderr directly, not through eprintln!, so that the test
            // harness's output capture cannot hide it.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED: {URL_VAR} is not set; this PostgreSQL test did not run. \
                 Run stores/postgres/ci.sh (as root) or set {URL_VAR}=postgresql://... ***"
            );
            None
        }
    }
}

/// Random bytes from the operating system.
pub fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).expect("OS random source");
    b
}

/// A table name no other test, process or earlier run uses.
pub fn unique_table() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let r = random::<4>();
    format!(
        "rr_t{}_{}_{:02x}{:02x}{:02x}{:02x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        r[0],
        r[1],
        r[2],
        r[3]
    )
}

/// The multi-thread runtime that runs the connections of every blocking store the tests make (the
/// synchronous host's runtime).
pub fn rt() -> &'static Handle {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime")
    })
    .handle()
}

/// `builder.connect_lazy(url)` on [`rt`], as a blocking store.
pub fn connect_lazy(builder: PgStoreBuilder, url: &str) -> Result<BlockingPgStore, StoreError> {
    rt().block_on(builder.connect_lazy(url))?
        .blocking(rt().clone())
}

/// A store on a fresh, migrated table with a small pool, or `None` when no database is configured.
pub fn try_store() -> Option<BlockingPgStore> {
    let url = pg_url()?;
    Some(store_on(&url, &unique_table(), 4))
}

/// Like [`try_store`], but deciding on the issuer's injected clock instead of the database's
/// (R-ROT-11), for tests that drive time with a manual clock.
pub fn try_store_on_host_clock() -> Option<BlockingPgStore> {
    let url = pg_url()?;
    let store = PgRefreshTokenStore::builder()
        .table(&unique_table())
        .max_connections(4)
        .min_idle(Some(0))
        .database_clock(false)
        .connect_blocking(&url, rt())
        .expect("connect to the test database");
    store.migrate().expect("migrate");
    Some(store)
}

/// A store on `table` (migrated) with at most `max_connections` connections.
pub fn store_on(url: &str, table: &str, max_connections: u32) -> BlockingPgStore {
    let store = PgRefreshTokenStore::builder()
        .table(table)
        .max_connections(max_connections)
        .min_idle(Some(0))
        .connect_blocking(url, rt())
        .expect("connect to the test database");
    store.migrate().expect("migrate");
    store
}

/// A fresh, isolated store for the shared conformance suite (`refresh_rotation::testkit`). Panics when
/// no database is configured: the suite's tests have no way to skip.
pub fn make_store() -> BlockingPgStore {
    try_store().unwrap_or_else(|| panic!("{URL_VAR} is not set"))
}

/// A new random family id.
pub fn new_id() -> FamilyId {
    FamilyId::from_bytes(random())
}

/// A new family of `subject`, expiring at `expires_at`, at generation 0.
pub fn family(subject: &str, expires_at: i64) -> Family {
    Family {
        id: new_id(),
        info: Arc::new(FamilyInfo {
            client_id: Arc::from("client-1"),
            subject: subject.into(),
            username: format!("user-{subject}").into(),
            device_key: None,
            scopes: Arc::from("openid email aws.cognito.signin.user.admin"),
            auth_time: Timestamp::from_unix_seconds(expires_at - 3_600),
            event_id: random(),
            expires_at: Timestamp::from_unix_seconds(expires_at),
        }),
        state: FamilyState::new(1),
    }
}

/// A timestamp.
pub fn ts(s: i64) -> Timestamp {
    Timestamp::from_unix_seconds(s)
}

/// `url` with one more connection parameter, in either connection-string syntax.
pub fn with_param(url: &str, key: &str, value: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}{key}={value}")
    } else {
        format!("{url} {key}={value}")
    }
}

/// An asynchronous store on a fresh, migrated table, connected on the calling task's runtime, deciding on
/// the database clock or on the issuer's (R-ROT-11), or `None` when no database is configured.
pub async fn try_async_store(database_clock: bool) -> Option<PgRefreshTokenStore> {
    let url = pg_url()?;
    let store = PgRefreshTokenStore::builder()
        .table(&unique_table())
        .max_connections(4)
        .min_idle(Some(0))
        .database_clock(database_clock)
        .connect(&url)
        .await
        .expect("connect to the test database");
    store.migrate().await.expect("migrate");
    Some(store)
}

/// A plain client on the test database, for setting up what the store cannot (locks, triggers).
pub fn raw_client(url: &str) -> postgres::Client {
    postgres::Client::connect(url, postgres::NoTls).expect("raw connection to the test database")
}

/// Reads one length-prefixed protocol message body (after its type byte, if any), for the tests'
/// loopback "servers".
pub fn read_body(s: &mut std::net::TcpStream) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let len = usize::try_from(u32::from_be_bytes(len)).unwrap();
    let mut body = vec![0u8; len.saturating_sub(4)];
    s.read_exact(&mut body)?;
    Ok(body)
}

/// One backend protocol message: its type byte, its length, `body`.
pub fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![kind];
    m.extend_from_slice(&u32::try_from(body.len() + 4).unwrap().to_be_bytes());
    m.extend_from_slice(body);
    m
}

/// A loopback "server" that runs `serve` on every connection it accepts, each on a thread of its own,
/// for the tests of what the store does against a server that misbehaves. Its port.
pub fn fake_server<F>(serve: F) -> u16
where
    F: Fn(std::net::TcpStream) -> std::io::Result<()> + Send + Sync + Clone + 'static,
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(s) = conn else { return };
            let serve = serve.clone();
            std::thread::spawn(move || serve(s));
        }
    });
    port
}

/// Reads the client's startup message and accepts it without authentication: AuthenticationOk, then
/// ReadyForQuery.
pub fn accept_startup(s: &mut std::net::TcpStream) -> std::io::Result<()> {
    read_body(s)?;
    let mut hello = message(b'R', &0u32.to_be_bytes());
    hello.extend(message(b'Z', b"I"));
    s.write_all(&hello)
}
