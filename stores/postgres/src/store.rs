//! [`PgRefreshTokenStore`]: the family-store contract on one PostgreSQL table, awaited
//! ([`AsyncRefreshTokenStore`]), and its builder.
//!
//! Every operation is a single autocommitted statement, or a statement followed by a plain read, on one
//! pooled connection. No operation holds a transaction open across round trips, so a crash or a dropped
//! connection at any point leaves each row either as it was or as one complete statement left it; which
//! of the two the caller cannot always tell (an error after the commit, see the README).
//!
//! The sessions run at READ COMMITTED whatever the server's or the role's default: the compare-and-set
//! relies on it (see [`Statements`](crate::schema::Statements)). A statement that a concurrent
//! transaction rolled back all the same (a serialization failure or a deadlock, possible behind a proxy
//! that drops the session setting) wrote nothing, and is sent again a bounded number of times.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use refresh_rotation::clock::Timestamp;
use refresh_rotation::error::StoreError;
use refresh_rotation::store::{
    Advance, Family, FamilyId, FamilyInfo, FamilyRead, FamilyState, PurgeCutoff,
};
use refresh_rotation::store::{AsyncRefreshTokenStore, BoxFuture};
use tokio_postgres::config::SslMode;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Config, NoTls, Row};

use crate::error::Redactor;
use crate::pool::{within, Conn, Connector, LastError, Manager, ANSWER_MARGIN};
use crate::schema::{self, Statements, Stmt, TableName};
use crate::tls::PgTls;

/// The startup option that pins the session's isolation level. The server splits `options` on spaces,
/// so the space inside the value is escaped.
const SESSION_ISOLATION: &str = "-c default_transaction_isolation=read\\ committed";

/// How many times a statement is sent when a concurrent transaction rolled it back (serialization failure
/// or deadlock). Each attempt is a new autocommitted transaction with a fresh snapshot, so the second one
/// normally sees the committed state; the bound keeps a pathological conflict from looping.
const CONFLICT_ATTEMPTS: u32 = 4;

/// The parameters of one statement.
type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Settings for a [`PgRefreshTokenStore`]; start from [`PgRefreshTokenStore::builder`].
///
/// Every setting has a default, documented on its method, chosen for a service that answers refresh
/// requests: fail within seconds rather than queue forever when the database is away.
#[derive(Clone)]
pub struct PgStoreBuilder {
    table: String,
    max_connections: u32,
    min_idle: Option<u32>,
    connect_timeout: Duration,
    statement_timeout: Option<Duration>,
    test_on_check_out: bool,
    database_clock: bool,
    tls: Option<PgTls>,
}

impl fmt::Debug for PgStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStoreBuilder")
            .field("table", &self.table)
            .field("max_connections", &self.max_connections)
            .field("min_idle", &self.min_idle)
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("test_on_check_out", &self.test_on_check_out)
            .field("database_clock", &self.database_clock)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Default for PgStoreBuilder {
    fn default() -> Self {
        PgStoreBuilder {
            table: schema::DEFAULT_TABLE.to_owned(),
            max_connections: 16,
            min_idle: Some(1),
            connect_timeout: Duration::from_secs(5),
            statement_timeout: Some(Duration::from_secs(5)),
            test_on_check_out: false,
            database_clock: true,
            tls: None,
        }
    }
}

/// The longest `statement_timeout` PostgreSQL accepts, in milliseconds (`INT_MAX`).
const MAX_STATEMENT_TIMEOUT_MS: u128 = 2_147_483_647;

impl PgStoreBuilder {
    /// The table, `name` or `schema.name`, each part `[a-z_][a-z0-9_]*` (the table part at most 48 bytes).
    /// Defaults to `refresh_token_families` in the connection's `search_path`.
    pub fn table(mut self, name: &str) -> Self {
        name.clone_into(&mut self.table);
        self
    }

    /// The most connections the pool opens. Defaults to 16.
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n;
        self
    }

    /// How many idle connections the pool keeps open; `None` keeps `max_connections`. Defaults to
    /// `Some(1)`. [`connect`](Self::connect) waits until this many are open.
    pub fn min_idle(mut self, n: Option<u32>) -> Self {
        self.min_idle = n;
        self
    }

    /// How long opening a connection may take (TCP, TLS and the startup exchange: a server that accepts
    /// the connection and then says nothing is given up), and how long an operation waits for a free
    /// pooled connection, before failing with [`StoreError::Unavailable`]. Defaults to 5 seconds. A
    /// `connect_timeout` given in the connection string wins for the TCP part.
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// The server-side `statement_timeout` of the store's sessions: a statement that runs longer (for
    /// example one queued behind a row lock) is cancelled, rolled back, and reported as
    /// [`StoreError::Unavailable`]. `None` leaves the server's setting, or the one given in the
    /// connection string's `options` (which this setting, when `Some`, overrides). Defaults to 5 seconds.
    /// [`PgRefreshTokenStore::migrate`] lifts it for its own transaction.
    ///
    /// When `Some`, the store also stops waiting 2 seconds after it: a server (or a path to it) that
    /// goes silent makes the operation fail with [`StoreError::Unavailable`] and the connection is
    /// given up, instead of the operation hanging (R-SAFE-1). PostgreSQL takes at most 2,147,483,647 ms
    /// (about 24.8 days): a longer one makes `connect` fail with [`StoreError::Backend`] saying so.
    pub fn statement_timeout(mut self, t: Option<Duration>) -> Self {
        self.statement_timeout = t;
        self
    }

    /// Whether the pool pings a connection (an empty query, one round trip) before handing it out.
    /// Defaults to `false`: a connection the server closed is noticed on use instead, that one operation
    /// fails with [`StoreError::Unavailable`] (changing nothing) and the pool replaces the connection. Turn
    /// it on to trade a round trip per operation (a refresh then costs four) for not failing that one
    /// operation after a restart.
    pub fn test_on_check_out(mut self, on: bool) -> Self {
        self.test_on_check_out = on;
        self
    }

    /// Whether the store supplies the time of every decision from the database clock (R-ROT-11).
    /// Defaults to `true`: every instance that shares the table then decides on one clock, so clock skew
    /// between hosts cannot widen a grace window or extend a family past its expiry. Turn it off only
    /// to decide on the issuer's injected clock, as tests with a manual clock do.
    pub fn database_clock(mut self, on: bool) -> Self {
        self.database_clock = on;
        self
    }

    /// Connects through TLS, verifying the server's certificate (R-SAFE-9). TLS is then required: a
    /// server that does not offer it is refused, whatever `sslmode` the connection string gives.
    /// Defaults to no TLS (plain text): fine on loopback or a private network, not across an untrusted
    /// one.
    pub fn tls(mut self, tls: PgTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Builds the store and waits until the pool holds [`min_idle`](Self::min_idle) connections, so that
    /// an unreachable server or wrong credentials are reported here (as [`StoreError::Unavailable`])
    /// rather than on the first request. `url` is a libpq-style connection string or
    /// `postgresql://` URL. Does not create the table: call [`PgRefreshTokenStore::migrate`].
    ///
    /// Await it on the tokio runtime that is to run the store's connections: each connection's
    /// background task is spawned there, and they stop if that runtime shuts down.
    pub async fn connect(self, url: &str) -> Result<PgRefreshTokenStore, StoreError> {
        self.build(url, true).await
    }

    /// Builds the store without opening any connection now; connections are opened on first use. An
    /// unreachable server then shows as [`StoreError::Unavailable`] from each operation. Await it on
    /// the runtime that is to run the store's connections, as [`connect`](Self::connect).
    pub async fn connect_lazy(self, url: &str) -> Result<PgRefreshTokenStore, StoreError> {
        self.build(url, false).await
    }

    /// For a synchronous host: connects on the multi-thread runtime of `handle` and wraps the store in
    /// the [`BlockingPgStore`](crate::BlockingPgStore) adapter; see
    /// [`PgRefreshTokenStore::blocking`]. Must not be called from inside an asynchronous context.
    pub fn connect_blocking(
        self,
        url: &str,
        handle: &tokio::runtime::Handle,
    ) -> Result<crate::BlockingPgStore, StoreError> {
        crate::blocking::check_flavor(handle)?;
        handle.block_on(self.connect(url))?.blocking(handle.clone())
    }

    async fn build(self, url: &str, eager: bool) -> Result<PgRefreshTokenStore, StoreError> {
        let table = TableName::parse(&self.table)?;
        // PostgreSQL takes at most `INT_MAX` milliseconds, and refuses every connection that asks for
        // more: say so here, not as the server's refusal of each connection.
        if self
            .statement_timeout
            .is_some_and(|t| t.as_millis() > MAX_STATEMENT_TIMEOUT_MS)
        {
            return Err(StoreError::Backend(format!(
                "statement_timeout is longer than PostgreSQL allows ({MAX_STATEMENT_TIMEOUT_MS} ms, \
                 about 24.8 days); use None for no timeout"
            )));
        }
        let (url, verify_asked) = libpq_sslmode(url);
        if verify_asked && self.tls.is_none() {
            return Err(StoreError::Backend(
                "the connection string asks for sslmode=verify-ca or verify-full, but the store has \
                 no TLS configuration: give it one with .tls(...)"
                    .to_owned(),
            ));
        }
        // The parse error text could quote the connection string, password included: say only where.
        let mut config = Config::from_str(&url).map_err(|_| {
            StoreError::Backend("invalid PostgreSQL connection string (not shown)".to_owned())
        })?;
        let redactor = Redactor::new(config.get_password());
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(self.connect_timeout);
        }
        if config.get_application_name().is_none() {
            config.application_name("refresh-rotation");
        }
        // Appended after any `options` of the connection string, so these win. Settings from the
        // connection request also override `ALTER DATABASE/ROLE ... SET` and postgresql.conf.
        let mut opts: Vec<String> = config
            .get_options()
            .filter(|o| !o.is_empty())
            .map(str::to_owned)
            .into_iter()
            .collect();
        // The rotation is a compare-and-set that must see the committed row when it waited on the row
        // lock (SPEC R-ROT-5). Under REPEATABLE READ or SERIALIZABLE, the loser of a race would instead
        // fail with a serialization error; pin READ COMMITTED so that it gets its answer.
        opts.push(SESSION_ISOLATION.to_owned());
        if let Some(t) = self.statement_timeout {
            opts.push(format!("-c statement_timeout={}", t.as_millis().max(1)));
        }
        config.options(opts.join(" "));
        let connect: Connector = match self.tls {
            Some(tls) => {
                // `prefer` (the default) would fall back to plain text when the server declines TLS,
                // which an attacker in the middle can make it do.
                config.ssl_mode(SslMode::Require);
                let config = Arc::new(config);
                Arc::new(move || {
                    let (config, tls) = (Arc::clone(&config), tls.connector.clone());
                    Box::pin(async move {
                        let (client, connection) = config.connect(tls).await?;
                        tokio::spawn(connection);
                        Ok(client)
                    })
                })
            }
            None => {
                let config = Arc::new(config);
                Arc::new(move || {
                    let config = Arc::clone(&config);
                    Box::pin(async move {
                        let (client, connection) = config.connect(NoTls).await?;
                        tokio::spawn(connection);
                        Ok(client)
                    })
                })
            }
        };
        let statements = Arc::new(Statements::new(&table));
        let last_error = LastError::new(redactor.clone());
        let manager = Manager::new(
            connect,
            statements,
            last_error.clone(),
            self.connect_timeout,
            self.statement_timeout
                .map(|t| t.saturating_add(ANSWER_MARGIN)),
        );
        let max = self.max_connections.max(1);
        let builder = bb8::Pool::builder()
            .max_size(max)
            // bb8 reads `None` as "no minimum"; this builder documents it as "keep them all".
            .min_idle(Some(self.min_idle.unwrap_or(max).min(max)))
            // bb8 panics on a zero timeout; a millisecond is as good as "fail at once".
            .connection_timeout(self.connect_timeout.max(Duration::from_millis(1)))
            .test_on_check_out(self.test_on_check_out)
            // The reason a background connection attempt failed, for the caller's error message.
            .error_sink(Box::new(last_error.clone()));
        let pool = if eager {
            builder
                .build(manager)
                .await
                .map_err(|e| redactor.connect(&e))?
        } else {
            builder.build_unchecked(manager)
        };
        Ok(PgRefreshTokenStore {
            pool,
            table: Arc::new(table),
            redactor,
            database_clock: self.database_clock,
            last_error,
        })
    }
}

/// An asynchronous family store on PostgreSQL: one row per family, shared by every process that points
/// at the same table (SPEC R-FAM-2, R-SAFE-5, R-PER-5). It implements
/// [`AsyncRefreshTokenStore`], for [`AsyncTokenIssuer`](refresh_rotation::AsyncTokenIssuer); a
/// synchronous host uses it through [`blocking`](Self::blocking).
///
/// Cheap to clone: clones share the pool. Create it with [`PgRefreshTokenStore::builder`] (or
/// [`PgRefreshTokenStore::connect`] for the defaults), then call [`migrate`](Self::migrate) once at
/// deployment or start-up: the store never creates its table by itself.
///
/// A successful refresh costs two round trips: the read, and the conditional `UPDATE` (each statement
/// is prepared once per connection, which costs one more round trip the first time).
#[derive(Clone)]
pub struct PgRefreshTokenStore {
    pool: bb8::Pool<Manager>,
    table: Arc<TableName>,
    redactor: Redactor,
    database_clock: bool,
    last_error: LastError,
}

impl fmt::Debug for PgRefreshTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.pool.state();
        f.debug_struct("PgRefreshTokenStore")
            .field("table", &self.table.to_string())
            .field("connections", &state.connections)
            .field("idle_connections", &state.idle_connections)
            .finish()
    }
}

impl PgRefreshTokenStore {
    /// A builder with the default settings.
    pub fn builder() -> PgStoreBuilder {
        PgStoreBuilder::default()
    }

    /// `PgRefreshTokenStore::builder().connect(url)`: the default table and pool settings.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::builder().connect(url).await
    }

    /// The quoted, qualified table name the store uses.
    pub fn table_name(&self) -> String {
        self.table.to_string()
    }

    /// Creates the table and its two indexes if they do not exist: the explicit, idempotent schema
    /// migration. The store never runs it implicitly; call it at deployment or at start-up.
    ///
    /// Safe to run again and from several instances at once: it runs in one transaction that first takes
    /// a transaction-scoped advisory lock, one for every migration of this crate whatever the tables
    /// and however they are spelled (with the schema or without), so concurrent runs queue instead of
    /// racing on `CREATE TABLE IF NOT EXISTS` (which is not atomic against itself in PostgreSQL). The
    /// session's `statement_timeout` does not apply to it, since building an index on a large existing
    /// table may take long. Needs the `CREATE` privilege on the schema.
    ///
    /// On an up-to-date table it changes nothing and takes no lock on the table, so it never waits
    /// behind a reader of it (a backup, an idle transaction), nor makes other instances' requests wait
    /// behind it. When it must change the table, it waits at most 5 seconds for the table's lock, then
    /// fails with [`StoreError::Unavailable`] (lock not available), to be run again later.
    ///
    /// A table of that name that exists already must have the shape this crate gives it (each
    /// column's type and nullability, and the primary key; an older version's table, without the
    /// columns added since, is upgraded). One that something else made is refused with
    /// [`StoreError::Backend`] naming the first difference, and left untouched: the migration is one
    /// transaction, and the check comes before anything else in it.
    ///
    /// The schema (version 1) is documented in the crate's README.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let ddl = schema::migration_sql(&self.table);
        let result = async {
            let tx = conn.client().transaction().await?;
            schema::migrate_in(&tx, &ddl).await?;
            tx.commit().await
        }
        .await;
        result.map_err(|e| {
            if crate::error::breaks_connection(&e) {
                conn.mark_broken();
            }
            self.redactor.pg(&e)
        })
    }

    /// The connection pool and what maps its errors, for the client store that shares them.
    pub(crate) fn shared(&self) -> (bb8::Pool<Manager>, Redactor, LastError) {
        (
            self.pool.clone(),
            self.redactor.clone(),
            self.last_error.clone(),
        )
    }

    /// The table's name, and whether the database's clock decides (R-ROT-11): for the joined read.
    pub(crate) fn joined_read_parts(&self) -> (&TableName, bool) {
        (&self.table, self.database_clock)
    }

    async fn conn(&self) -> Result<bb8::PooledConnection<'_, Manager>, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| self.redactor.pool(&e, self.last_error.get()))
    }

    /// What to do after statement `e` failed on attempt `attempt`: `None` to send it again (a conflict
    /// with a concurrent transaction rolled it back), or the error to return.
    fn failed(
        &self,
        conn: &mut Conn,
        e: &tokio_postgres::Error,
        attempt: u32,
    ) -> Option<StoreError> {
        if conn.send_again(e, attempt, CONFLICT_ATTEMPTS) {
            return None;
        }
        if crate::error::breaks_connection(e) {
            conn.mark_broken();
        }
        Some(self.redactor.pg(e))
    }

    /// Runs statement `s` (one autocommitted statement, one round trip once prepared) on `conn` and
    /// returns its row, if any. Sent again, at most [`CONFLICT_ATTEMPTS`] times in all, when a concurrent
    /// transaction rolled it back.
    async fn query_opt(
        &self,
        conn: &mut Conn,
        s: Stmt,
        params: Params<'_>,
    ) -> Result<Option<Row>, StoreError> {
        let mut attempt = 1;
        loop {
            let result = within(conn.answer_limit(), async {
                let (client, st) = conn.prepared(s).await?;
                client.query_opt(&st, params).await
            })
            .await;
            match conn.answered(result)? {
                Ok(row) => return Ok(row),
                Err(e) => match self.failed(conn, &e, attempt) {
                    None => attempt += 1,
                    Some(err) => return Err(err),
                },
            }
        }
    }

    /// As [`query_opt`](Self::query_opt), for a statement whose answer is the number of rows it changed.
    async fn execute(
        &self,
        conn: &mut Conn,
        s: Stmt,
        params: Params<'_>,
    ) -> Result<u64, StoreError> {
        let mut attempt = 1;
        loop {
            let result = within(conn.answer_limit(), async {
                let (client, st) = conn.prepared(s).await?;
                client.execute(&st, params).await
            })
            .await;
            match conn.answered(result)? {
                Ok(n) => return Ok(n),
                Err(e) => match self.failed(conn, &e, attempt) {
                    None => attempt += 1,
                    Some(err) => return Err(err),
                },
            }
        }
    }

    /// Runs one statement that changes rows on a pooled connection and returns how many.
    async fn execute_one(&self, s: Stmt, params: Params<'_>) -> Result<u64, StoreError> {
        let mut conn = self.conn().await?;
        self.execute(&mut conn, s, params).await
    }

    /// The family-reading statement [`Stmt::Get`]: the family (or `None`) and the database time.
    async fn get_row(&self, conn: &mut Conn, id: &FamilyId) -> Result<FamilyRead, StoreError> {
        let key = id.as_bytes().as_slice();
        let row = self
            .query_opt(conn, Stmt::Get, &[&key])
            .await?
            .ok_or_else(|| corrupt("no row from the read"))?;
        // One row always: the database time, and the family's columns (NULL when there is none).
        let time: i64 = row.try_get(14).map_err(|_| corrupt("database time"))?;
        let present: Option<&[u8]> = row.try_get(0).map_err(|_| corrupt("family_id"))?;
        Ok(FamilyRead {
            family: present.map(|_| decode_family(&row)).transpose()?,
            time: self
                .database_clock
                .then_some(Timestamp::from_unix_seconds(time)),
        })
    }

    async fn create_family(&self, family: Family) -> Result<(), StoreError> {
        let i = &family.info;
        let s = &family.state;
        let inserted = self
            .execute_one(
                Stmt::Insert,
                &[
                    &family.id.as_bytes().as_slice(),
                    &&*i.client_id,
                    &&*i.subject,
                    &&*i.username,
                    &i.device_key.as_deref(),
                    &&*i.scopes,
                    &i.auth_time.unix_seconds(),
                    &i.event_id.as_slice(),
                    &i.expires_at.unix_seconds(),
                    &generation_param(s.generation),
                    &s.grace_deadline.unix_seconds(),
                    &i64::from(s.key_id),
                    &s.revoked,
                    &s.device_confirmed,
                ],
            )
            .await?;
        if inserted == 0 {
            Err(StoreError::AlreadyExists)
        } else {
            Ok(())
        }
    }

    async fn read_family(&self, id: &FamilyId) -> Result<FamilyRead, StoreError> {
        let mut conn = self.conn().await?;
        self.get_row(&mut conn, id).await
    }

    async fn advance_family(
        &self,
        id: &FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> Result<Advance, StoreError> {
        let key = id.as_bytes().as_slice();
        let mut conn = self.conn().await?;
        let won = self
            .query_opt(
                &mut conn,
                Stmt::Advance,
                &[
                    &key,
                    &generation_param(expected),
                    &grace_deadline.unix_seconds(),
                    &i64::from(key_id),
                ],
            )
            .await?;
        if let Some(row) = won {
            return Ok(Advance::Advanced(decode_state(&row, 0)?));
        }
        // The UPDATE matched nothing: at its instant the family was missing, revoked, at u32::MAX, or at
        // another generation. This second statement takes a fresh snapshot, so it sees that state or a
        // later one — and every later state is at least as far from "advance now" as the one the UPDATE
        // saw: generations only grow, `revoked` is never cleared, and a row is deleted only once expired.
        // The caller uses the answer to serve the loser of a race (grace retry or reuse, R-ROT-5), and
        // answering from a later state is exactly what it would have done had the request arrived a
        // moment later. Nothing is written here, so no interleaving can turn this read into a second
        // successor. (If `expected` was *above* the generation, which the issuer never sends because it
        // rejects such tokens first, this read may see the family since advanced to `expected`; it is
        // still reported `Unchanged`, truthfully: this call wrote nothing.)
        let now = self.query_opt(&mut conn, Stmt::ReadState, &[&key]).await?;
        match now {
            Some(row) => Ok(Advance::Unchanged(decode_state(&row, 0)?)),
            None => Ok(Advance::NotFound),
        }
    }

    async fn bind_family_device(
        &self,
        id: &FamilyId,
        device_key: &str,
    ) -> Result<Option<Family>, StoreError> {
        let key = id.as_bytes().as_slice();
        let mut conn = self.conn().await?;
        let bound = self
            .query_opt(&mut conn, Stmt::BindDevice, &[&key, &device_key])
            .await?;
        match bound {
            Some(row) => decode_family(&row).map(Some),
            // Already bound (to this device or another), or no such family: read what is there. The
            // binding is write-once, so what this read sees is final.
            None => Ok(self.get_row(&mut conn, id).await?.family),
        }
    }

    async fn count(&self, s: Stmt, params: Params<'_>) -> Result<usize, StoreError> {
        row_count(self.execute_one(s, params).await?)
    }

    async fn purge(&self, cutoff: PurgeCutoff, max: usize) -> Result<usize, StoreError> {
        if max == 0 {
            return Ok(0);
        }
        let limit = i64::try_from(max).unwrap_or(i64::MAX);
        let cutoff = cutoff.expired_at_or_before().unix_seconds();
        self.count(Stmt::Purge, &[&cutoff, &limit]).await
    }
}

/// The number of rows a statement changed, as the store traits count them.
pub(crate) fn row_count(n: u64) -> Result<usize, StoreError> {
    usize::try_from(n).map_err(|_| StoreError::Backend("row count out of range".to_owned()))
}

/// A `u32` generation as the BIGINT column holds it.
fn generation_param(g: u32) -> i64 {
    i64::from(g)
}

pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt family row: {what}"))
}

/// Decodes the state columns (generation, grace deadline, key id, revoked, device confirmed) from
/// columns `at` to `at + 4`.
pub(crate) fn decode_state(row: &Row, at: usize) -> Result<FamilyState, StoreError> {
    let g: i64 = row.try_get(at).map_err(|_| corrupt("generation"))?;
    let grace: i64 = row.try_get(at + 1).map_err(|_| corrupt("grace_deadline"))?;
    let key_id: i64 = row.try_get(at + 2).map_err(|_| corrupt("key_id"))?;
    let revoked: bool = row.try_get(at + 3).map_err(|_| corrupt("revoked"))?;
    let device_confirmed: bool = row
        .try_get(at + 4)
        .map_err(|_| corrupt("device_confirmed"))?;
    Ok(FamilyState {
        // The CHECK constraints keep the columns in range; a row written around them is reported, not
        // wrapped.
        generation: u32::try_from(g).map_err(|_| corrupt("generation out of range"))?,
        grace_deadline: Timestamp::from_unix_seconds(grace),
        key_id: u32::try_from(key_id).map_err(|_| corrupt("key_id out of range"))?,
        revoked,
        device_confirmed,
    })
}

fn bytes16(row: &Row, at: usize, what: &str) -> Result<[u8; 16], StoreError> {
    let b: &[u8] = row.try_get(at).map_err(|_| corrupt(what))?;
    <[u8; 16]>::try_from(b).map_err(|_| corrupt(what))
}

/// Decodes a row of `FAMILY_COLUMNS`.
pub(crate) fn decode_family(row: &Row) -> Result<Family, StoreError> {
    let text = |at: usize, what: &str| -> Result<String, StoreError> {
        row.try_get::<_, String>(at).map_err(|_| corrupt(what))
    };
    let device_key: Option<String> = row.try_get(4).map_err(|_| corrupt("device_key"))?;
    let auth_time: i64 = row.try_get(6).map_err(|_| corrupt("auth_time"))?;
    let expires_at: i64 = row.try_get(8).map_err(|_| corrupt("expires_at"))?;
    let info = FamilyInfo {
        client_id: Arc::from(text(1, "client_id")?),
        subject: text(2, "subject")?.into_boxed_str(),
        username: text(3, "username")?.into_boxed_str(),
        device_key: device_key.map(String::into_boxed_str),
        scopes: Arc::from(text(5, "scopes")?),
        auth_time: Timestamp::from_unix_seconds(auth_time),
        event_id: bytes16(row, 7, "event_id")?,
        expires_at: Timestamp::from_unix_seconds(expires_at),
    };
    Ok(Family {
        id: FamilyId::from_bytes(bytes16(row, 0, "family_id")?),
        info: Arc::new(info),
        state: decode_state(row, 9)?,
    })
}

impl AsyncRefreshTokenStore for PgRefreshTokenStore {
    fn create(&self, family: Family) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(self.create_family(family))
    }

    fn read<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<FamilyRead, StoreError>> {
        Box::pin(self.read_family(id))
    }

    fn advance<'a>(
        &'a self,
        id: &'a FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> BoxFuture<'a, Result<Advance, StoreError>> {
        Box::pin(self.advance_family(id, expected, grace_deadline, key_id))
    }

    fn bind_device<'a>(
        &'a self,
        id: &'a FamilyId,
        device_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Family>, StoreError>> {
        Box::pin(self.bind_family_device(id, device_key))
    }

    fn confirm_device<'a>(
        &'a self,
        id: &'a FamilyId,
        device_key: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            if !storable(device_key) {
                return Ok(false);
            }
            let n = self
                .execute_one(
                    Stmt::ConfirmDevice,
                    &[&id.as_bytes().as_slice(), &device_key],
                )
                .await?;
            Ok(n > 0)
        })
    }

    fn revoke<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<bool, StoreError>> {
        // Autocommit with the server's default synchronous_commit: the revocation is durable when the
        // reply arrives. An advance queued on the row lock re-checks `NOT revoked` after this commits.
        Box::pin(async move {
            let n = self
                .execute_one(Stmt::Revoke, &[&id.as_bytes().as_slice()])
                .await?;
            Ok(n > 0)
        })
    }

    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        Box::pin(async move {
            if !storable(subject) {
                return Ok(0);
            }
            self.count(Stmt::RevokeSubject, &[&subject]).await
        })
    }

    fn revoke_client<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        Box::pin(async move {
            if !storable(client_id) {
                return Ok(0);
            }
            self.count(Stmt::RevokeClient, &[&client_id]).await
        })
    }

    fn purge_expired(
        &self,
        cutoff: PurgeCutoff,
        max: usize,
    ) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(self.purge(cutoff, max))
    }
}

/// Whether PostgreSQL's `TEXT` can hold `s`: everything but U+0000. No stored family holds a string that
/// it cannot, so a lookup by one is answered "none" at once, as the in-memory store answers it, rather
/// than with the server's encoding error (22021).
pub(crate) fn storable(s: &str) -> bool {
    !s.contains('\0')
}

/// libpq's `sslmode=verify-ca` and `sslmode=verify-full`, which managed databases hand out in their
/// connection strings, as `sslmode=require` for tokio-postgres (which knows only `disable`, `prefer`
/// and `require`), and whether the string asked for one of them. With a TLS configuration the store
/// verifies the certificate and the host name whatever the mode (as `verify-full`), so `require` loses
/// nothing; without one, the caller refuses the string. Only the value of an `sslmode` parameter is
/// replaced: a query parameter of a URL (percent-encoded or not), or a `key = value` pair of the keyword
/// form, read as libpq reads it (spaces around `=`, single-quoted values with backslash escapes), so a
/// password that happens to hold the words is left as it is.
fn libpq_sslmode(url: &str) -> (std::borrow::Cow<'_, str>, bool) {
    let is_verify = |v: &str| {
        let v = v.replace("%2D", "-").replace("%2d", "-");
        v == "verify-ca" || v == "verify-full"
    };
    // The byte ranges of the `sslmode` values that ask for verification.
    let mut spans = Vec::new();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let Some(q) = url.find('?') else {
            return (url.into(), false);
        };
        let mut at = q + 1;
        for param in url[q + 1..].split('&') {
            if let Some(value) = param.strip_prefix("sslmode=") {
                if is_verify(value) {
                    let start = at + "sslmode=".len();
                    spans.push((start, start + value.len(), false));
                }
            }
            at += param.len() + 1;
        }
    } else {
        for (key, start, end, quoted) in keyword_pairs(url) {
            let raw = &url[start..end];
            let value = if quoted { &raw[1..raw.len() - 1] } else { raw };
            if key == "sslmode" && is_verify(value) {
                spans.push((start, end, quoted));
            }
        }
    }
    if spans.is_empty() {
        return (url.into(), false);
    }
    let mut out = String::with_capacity(url.len());
    let mut last = 0;
    for (start, end, quoted) in spans {
        out.push_str(&url[last..start]);
        out.push_str(if quoted { "'require'" } else { "require" });
        last = end;
    }
    out.push_str(&url[last..]);
    (out.into(), true)
}

/// The `key = value` pairs of a libpq keyword/value connection string: each key, and the byte range of
/// its value (quotes included) with whether it is quoted. Stops at the first thing that is not a pair;
/// the parser that comes after reports it.
fn keyword_pairs(s: &str) -> Vec<(&str, usize, usize, bool)> {
    let b = s.as_bytes();
    let mut pairs = Vec::new();
    let mut i = 0;
    let skip_space = |mut i: usize| {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    loop {
        i = skip_space(i);
        let key_start = i;
        while i < b.len() && b[i] != b'=' && !b[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &s[key_start..i];
        i = skip_space(i);
        if key.is_empty() || i >= b.len() || b[i] != b'=' {
            return pairs;
        }
        i = skip_space(i + 1);
        let value_start = i;
        let quoted = i < b.len() && b[i] == b'\'';
        if quoted {
            i += 1;
            loop {
                match b.get(i) {
                    None => return pairs,
                    Some(b'\\') => i += 2,
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(_) => i += 1,
                }
            }
        } else {
            // A backslash escapes the next character, a space included, as libpq reads it.
            while i < b.len() && !b[i].is_ascii_whitespace() {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            // A trailing backslash escapes nothing: the value ends with the string.
            i = i.min(b.len());
        }
        pairs.push((key, value_start, i.min(b.len()), quoted));
    }
}

#[cfg(test)]
mod tests {
    use super::libpq_sslmode;

    #[test]
    fn libpq_verify_modes_become_require_and_nothing_else_changes() {
        let cases = [
            (
                "postgresql://u:p@h/db?sslmode=verify-full",
                "postgresql://u:p@h/db?sslmode=require",
                true,
            ),
            (
                "postgres://u:p@h/db?application_name=a&sslmode=verify-ca&connect_timeout=3",
                "postgres://u:p@h/db?application_name=a&sslmode=require&connect_timeout=3",
                true,
            ),
            (
                "host=h password='a b' sslmode=verify-full dbname=d",
                "host=h password='a b' sslmode=require dbname=d",
                true,
            ),
            (
                "postgresql://u:p@h/db?sslmode=require",
                "postgresql://u:p@h/db?sslmode=require",
                false,
            ),
            (
                "postgresql://u:sslmode=verify-full@h/db",
                "postgresql://u:sslmode=verify-full@h/db",
                false,
            ),
            ("host=h sslmode=disable", "host=h sslmode=disable", false),
            ("", "", false),
            // A password holding the words is a quoted value, not a parameter.
            (
                "host=h password='a sslmode=verify-full b'",
                "host=h password='a sslmode=verify-full b'",
                false,
            ),
            (
                "host=h password='it\\'s sslmode=verify-ca' sslmode=verify-ca",
                "host=h password='it\\'s sslmode=verify-ca' sslmode=require",
                true,
            ),
            (
                "host=h sslmode = verify-full",
                "host=h sslmode = require",
                true,
            ),
            (
                "host=h password=a\\ sslmode=verify-full",
                "host=h password=a\\ sslmode=verify-full",
                false,
            ),
            ("host=h password=a\\", "host=h password=a\\", false),
            ("host=h password=a\\ ", "host=h password=a\\ ", false),
            ("host=h password='a\\", "host=h password='a\\", false),
            (
                "host=h sslmode='verify-full'",
                "host=h sslmode='require'",
                true,
            ),
            (
                "host=h\tsslmode=verify-full",
                "host=h\tsslmode=require",
                true,
            ),
            (
                "postgresql://u@h/db?sslmode=verify%2Dfull",
                "postgresql://u@h/db?sslmode=require",
                true,
            ),
            (
                "host=h sslmode=verify-full sslmode=verify-ca",
                "host=h sslmode=require sslmode=require",
                true,
            ),
            (
                "host=h password='unterminated sslmode=verify-full",
                "host=h password='unterminated sslmode=verify-full",
                false,
            ),
        ];
        for (given, want, asked) in cases {
            let (got, verify) = libpq_sslmode(given);
            assert_eq!((got.as_ref(), verify), (want, asked), "{given}");
        }
    }
}
