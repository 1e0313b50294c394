//! [`PgClientStore`]: the app clients and declared custom scopes of a user pool in PostgreSQL
//! (SPEC R-PER-1), awaited ([`AsyncClientStore`]), on the connections of a [`PgRefreshTokenStore`].
//!
//! Three tables, shared by every pool (a `pool_id` column in every key):
//! - `app_clients(pool_id, client_id, config, secret_sealed, creation_date, last_modified_date,
//!   revision)`: one row per client. `config` is the core's stored form of the configuration
//!   ([`AppClientConfig::to_stored_json`]), validated again on every read; `secret_sealed` is the
//!   client secret sealed with the host's [`SecretSealer`], never the secret itself. Besides its primary
//!   key, an index on `client_id` alone: a global sign-out looks each of the user's families' clients up
//!   in every pool (R-REV-3), which without it would read the whole table on every such sign-out (and
//!   once per family when the table's ids do not fit in the query's hash memory).
//! - `app_client_scopes(pool_id, scope)`: the declared custom scopes (R-CFG-13).
//! - `app_client_pools(pool_id)`: one row per pool, locked by the two bounded inserts (a client, a
//!   scope) so that concurrent inserts from any number of processes cannot pass the bound.
//!
//! The conditional writes of the [`ClientStore`](refresh_rotation::store::ClientStore) contract map to
//! SQL as its docs say: an insert is `INSERT ... ON CONFLICT DO NOTHING` behind a count made under the
//! pool row's lock, in one short transaction; a replace is one `UPDATE ... WHERE revision = $expected`
//! (a compare-and-set: under READ COMMITTED a concurrent update of the row waits for the row lock and
//! then re-checks the revision against the committed row, so exactly one of two updates at one revision
//! wins). A read is one prepared statement on an autocommitted session, so it sees every write that
//! returned before it, from any process (R-PER-4).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use refresh_rotation::clock::Timestamp;
use refresh_rotation::error::StoreError;
use refresh_rotation::store::{
    AppClient, AppClientParts, AsyncClientStore, BoxFuture, Replace, SecretSealer,
};
use refresh_rotation::AppClientConfig;
use tokio::runtime::Handle;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

use crate::error::Redactor;
use crate::joined::PgPoolFamilies;
use crate::pool::{within, Conn, LastError, Manager};
use crate::schema::{has_index_sql, shape_check_sql, Column, TableName};
use crate::store::storable;
use crate::PgRefreshTokenStore;

/// How many times a statement or transaction is sent when a concurrent transaction rolled it back.
const CONFLICT_ATTEMPTS: u32 = 4;

/// The columns a client-reading statement returns, in the order [`decode`] reads them. The last one is
/// the declared custom scopes among those the configuration names, for its validation on read.
pub(crate) fn client_columns(scopes: &TableName) -> String {
    format!(
        "c.client_id, c.config::text, c.secret_sealed, c.creation_date, c.last_modified_date, \
         c.revision, {}",
        scopes_array(scopes)
    )
}

/// The declared custom scopes among those the configuration of client `c` names.
pub(crate) fn scopes_array(scopes: &TableName) -> String {
    format!(
        "ARRAY(SELECT s.scope FROM {scopes} s WHERE s.pool_id = c.pool_id \
         AND jsonb_exists(c.config -> 'allowed_oauth_scopes', s.scope) ORDER BY s.scope)"
    )
}

/// The pools table's columns, as the migration creates them.
const POOLS_TABLE: [Column; 1] = [Column::not_null("pool_id", "text")];

/// The clients table's columns, as the migration creates them.
const CLIENTS_TABLE: [Column; 7] = [
    Column::not_null("pool_id", "text"),
    Column::not_null("client_id", "text").collate("C"),
    Column::not_null("config", "jsonb"),
    Column::nullable("secret_sealed", "bytea"),
    Column::not_null("creation_date", "bigint"),
    Column::not_null("last_modified_date", "bigint"),
    Column::not_null("revision", "bigint"),
];

/// The scopes table's columns, as the migration creates them.
const SCOPES_TABLE: [Column; 2] = [
    Column::not_null("pool_id", "text"),
    Column::not_null("scope", "text"),
];

/// The statements of the client store, generated once per set of table names.
struct Sql {
    get: Arc<str>,
    lock_pool: Arc<str>,
    insert: Arc<str>,
    exists: Arc<str>,
    replace: Arc<str>,
    delete: Arc<str>,
    list_first: Arc<str>,
    list_after: Arc<str>,
    count: Arc<str>,
    declare: Arc<str>,
    is_declared: Arc<str>,
    scopes: Arc<str>,
    migrate: String,
}

impl Sql {
    fn new(clients: &TableName, scopes: &TableName, pools: &TableName) -> Sql {
        let cols = client_columns(scopes);
        let s = |x: String| -> Arc<str> { Arc::from(x) };
        Sql {
            get: s(format!(
                "SELECT {cols} FROM {clients} c WHERE c.pool_id = $1 AND c.client_id = $2"
            )),
            // Creates the pool's row if missing and takes its lock until the transaction ends: every
            // bounded insert of the pool queues here, so each count below sees the others' commits.
            lock_pool: s(format!(
                "INSERT INTO {pools} (pool_id) VALUES ($1) \
                 ON CONFLICT (pool_id) DO UPDATE SET pool_id = EXCLUDED.pool_id"
            )),
            insert: s(format!(
                "INSERT INTO {clients} (pool_id, client_id, config, secret_sealed, creation_date, \
                 last_modified_date, revision) \
                 SELECT $1, $2, $3::text::jsonb, $4, $5, $6, $7 \
                 WHERE (SELECT count(*) FROM {clients} WHERE pool_id = $1) < $8 \
                 ON CONFLICT (pool_id, client_id) DO NOTHING"
            )),
            exists: s(format!(
                "SELECT 1 FROM {clients} WHERE pool_id = $1 AND client_id = $2"
            )),
            replace: s(format!(
                "UPDATE {clients} SET config = $3::text::jsonb, secret_sealed = $4, \
                 creation_date = $5, last_modified_date = $6, revision = $7 \
                 WHERE pool_id = $1 AND client_id = $2 AND revision = $8"
            )),
            delete: s(format!(
                "DELETE FROM {clients} WHERE pool_id = $1 AND client_id = $2"
            )),
            list_first: s(format!(
                "SELECT {cols} FROM {clients} c WHERE c.pool_id = $1 \
                 ORDER BY c.client_id COLLATE \"C\" LIMIT $2"
            )),
            list_after: s(format!(
                "SELECT {cols} FROM {clients} c WHERE c.pool_id = $1 \
                 AND c.client_id COLLATE \"C\" > $2 ORDER BY c.client_id COLLATE \"C\" LIMIT $3"
            )),
            count: s(format!("SELECT count(*) FROM {clients} WHERE pool_id = $1")),
            declare: s(format!(
                "INSERT INTO {scopes} (pool_id, scope) SELECT $1, $2 \
                 WHERE (SELECT count(*) FROM {scopes} WHERE pool_id = $1) < $3 \
                 ON CONFLICT (pool_id, scope) DO NOTHING"
            )),
            is_declared: s(format!(
                "SELECT 1 FROM {scopes} WHERE pool_id = $1 AND scope = $2"
            )),
            scopes: s(format!("SELECT scope FROM {scopes} WHERE pool_id = $1")),
            // `client_id COLLATE "C"`: the primary key's index is then in byte order, which is the
            // order ListUserPoolClients pages in (R-CLI-7).
            migrate: format!(
                "CREATE TABLE IF NOT EXISTS {pools} (
                    pool_id TEXT PRIMARY KEY
                );
                CREATE TABLE IF NOT EXISTS {clients} (
                    pool_id            TEXT    NOT NULL,
                    client_id          TEXT    COLLATE \"C\" NOT NULL,
                    config             JSONB   NOT NULL,
                    secret_sealed      BYTEA   NULL,
                    creation_date      BIGINT  NOT NULL,
                    last_modified_date BIGINT  NOT NULL,
                    revision           BIGINT  NOT NULL CHECK (revision >= 0),
                    PRIMARY KEY (pool_id, client_id)
                );
                CREATE TABLE IF NOT EXISTS {scopes} (
                    pool_id TEXT NOT NULL,
                    scope   TEXT NOT NULL,
                    PRIMARY KEY (pool_id, scope)
                );
                {}
                {}
                {}
                DO $migrate$
                BEGIN
                    -- Global sign-out looks a family's client up in every pool (R-REV-3): by
                    -- `client_id` alone, which the primary key, led by `pool_id`, cannot serve.
                    -- Unnamed, as the family table's, and built only when missing. Only the table's
                    -- owner may build it: a role that is not (the tables made by another role) is
                    -- warned, and the store works on without it.
                    IF NOT {} THEN
                        IF pg_has_role((SELECT relowner FROM pg_class
                                        WHERE oid = '{clients}'::regclass), 'USAGE') THEN
                            CREATE INDEX ON {clients} (client_id);
                        ELSE
                            RAISE WARNING 'refresh-rotation: % has no index on client_id, which global sign-out needs to stay fast; as its owner, run: CREATE INDEX ON % (client_id)',
                                '{clients}', '{clients}';
                        END IF;
                    END IF;
                END
                $migrate$;",
                shape_check_sql(pools, &POOLS_TABLE, &[], &["pool_id"]),
                shape_check_sql(clients, &CLIENTS_TABLE, &[], &["pool_id", "client_id"]),
                shape_check_sql(scopes, &SCOPES_TABLE, &[], &["pool_id", "scope"]),
                has_index_sql(clients, "client_id"),
            ),
        }
    }
}

struct Shared {
    pool: bb8::Pool<Manager>,
    redactor: Redactor,
    last_error: LastError,
    sealer: Arc<SecretSealer>,
    sql: Sql,
    tables: String,
    /// The clients and scopes tables, for a statement that joins them with the families.
    clients: TableName,
    scopes: TableName,
    /// The clients decoded so far, by pool and id, with the row each came from.
    decoded: Mutex<HashMap<ClientKey, (StoredClient, Arc<AppClient>)>>,
}

/// A client's pool and id.
type ClientKey = (Arc<str>, Arc<str>);

/// How many decoded clients [`Shared::decoded`] keeps before it starts over.
const MAX_DECODED: usize = 10_000;

/// A client's columns as read, but for its id: what its decoding is a function of.
struct StoredClient {
    config: Box<str>,
    sealed: Option<Box<[u8]>>,
    created: i64,
    modified: i64,
    revision: i64,
    scopes: Vec<String>,
}

/// The app clients and declared custom scopes of one user pool, in PostgreSQL (R-PER-1): an
/// [`AsyncClientStore`] for the pool's [`ClientRegistry`](refresh_rotation::ClientRegistry).
///
/// It runs on the connections of a [`PgRefreshTokenStore`] (one pool of connections for families and
/// clients), seals every client secret with the host's [`SecretSealer`] before it is written (a dump
/// of the tables alone hands out no secret; Describe still returns it, R-PER-1), and validates every
/// configuration it reads again. [`for_pool`](Self::for_pool) gives the store of another user pool on
/// the same tables and connections. Call [`migrate`](Self::migrate) once, as for the family store.
///
/// Cheap to clone. Like the family store, its futures run on the runtime the connections were opened
/// on; a synchronous host drives them as it drives [`BlockingPgStore`](crate::BlockingPgStore)'s.
#[derive(Clone)]
pub struct PgClientStore {
    shared: Arc<Shared>,
    user_pool_id: Arc<str>,
    runtime: Option<Handle>,
}

/// A future polled inside the runtime context of `handle`: the pool's timeouts register with that
/// runtime's timer, so the future can be awaited from any executor, or a thread that parks while it
/// waits (a synchronous host, the conformance checks), as long as that runtime runs elsewhere.
struct InRuntime<'a, T> {
    handle: Option<Handle>,
    future: BoxFuture<'a, T>,
}

impl<T> Future for InRuntime<'_, T> {
    type Output = T;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let _entered = self.handle.as_ref().map(Handle::enter);
        self.future.as_mut().poll(cx)
    }
}

impl fmt::Debug for PgClientStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgClientStore")
            .field("user_pool_id", &self.user_pool_id)
            .field("tables", &self.shared.tables)
            .field("sealer", &self.shared.sealer)
            .finish()
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Backend(format!("corrupt client row: {what}"))
}

impl PgClientStore {
    /// The client store of `user_pool_id` on `connections`' pool, in the tables `app_clients`,
    /// `app_client_scopes` and `app_client_pools` of the connection's `search_path`; client secrets
    /// sealed with `sealer`.
    pub fn new(
        connections: &PgRefreshTokenStore,
        user_pool_id: &str,
        sealer: Arc<SecretSealer>,
    ) -> Result<PgClientStore, StoreError> {
        Self::with_table_prefix(connections, user_pool_id, sealer, "")
    }

    /// As [`new`](Self::new), with the three table names prefixed by `prefix`: `schema.`, `name_`, or
    /// `schema.name_` (each part `[a-z_][a-z0-9_]*`).
    pub fn with_table_prefix(
        connections: &PgRefreshTokenStore,
        user_pool_id: &str,
        sealer: Arc<SecretSealer>,
        prefix: &str,
    ) -> Result<PgClientStore, StoreError> {
        let clients = TableName::parse(&format!("{prefix}app_clients"))?;
        let scopes = TableName::parse(&format!("{prefix}app_client_scopes"))?;
        let pools = TableName::parse(&format!("{prefix}app_client_pools"))?;
        let (pool, redactor, last_error) = connections.shared();
        Ok(PgClientStore {
            shared: Arc::new(Shared {
                pool,
                redactor,
                last_error,
                sealer,
                sql: Sql::new(&clients, &scopes, &pools),
                tables: format!("{clients}, {scopes}, {pools}"),
                clients,
                scopes,
                decoded: Mutex::new(HashMap::new()),
            }),
            user_pool_id: Arc::from(user_pool_id),
            runtime: Handle::try_current().ok(),
        })
    }

    /// Runs every operation's future inside the context of the runtime of `handle`, the one the
    /// connections were opened on. Defaults to the runtime current when the store was made, if any.
    /// Needed only to await the store from outside that runtime (a thread that parks while it waits).
    pub fn runtime(mut self, handle: Handle) -> PgClientStore {
        self.runtime = Some(handle);
        self
    }

    pub(crate) fn run<'a, T: Send + 'a>(
        &self,
        future: impl Future<Output = T> + Send + 'a,
    ) -> BoxFuture<'a, T> {
        Box::pin(InRuntime {
            handle: self.runtime.clone(),
            future: Box::pin(future),
        })
    }

    /// The family store of this store's user pool over `families`, which must be the store this one
    /// was made with (the same connections): it reads a refresh's client with its family in one
    /// statement, so that a refresh that succeeds costs one read and the conditional update (R-PER-5).
    /// Give it to the issuer whose registry holds this store. `Backend` if `families` runs on other
    /// connections.
    pub fn families(&self, families: &PgRefreshTokenStore) -> Result<PgPoolFamilies, StoreError> {
        let (_, _, last_error) = families.shared();
        if !last_error.same_pool(&self.shared.last_error) {
            return Err(StoreError::Backend(
                "the family store runs on other connections than the client store".into(),
            ));
        }
        Ok(PgPoolFamilies::new(families.clone(), self.clone()))
    }

    /// The columns of a client read (the client table aliased `c`) and the client table, for the
    /// joined read of [`PgPoolFamilies`].
    pub(crate) fn joined_read_parts(&self) -> (String, &TableName) {
        (client_columns(&self.shared.scopes), &self.shared.clients)
    }

    /// The scopes expression of [`client_columns`], for a statement that checks a client is unchanged.
    pub(crate) fn scopes_expression(&self) -> String {
        scopes_array(&self.shared.scopes)
    }

    /// The store of another user pool on the same tables, connections and sealer.
    pub fn for_pool(&self, user_pool_id: &str) -> PgClientStore {
        PgClientStore {
            shared: Arc::clone(&self.shared),
            user_pool_id: Arc::from(user_pool_id),
            runtime: self.runtime.clone(),
        }
    }

    /// The user pool this store serves.
    pub fn user_pool_id(&self) -> &str {
        &self.user_pool_id
    }

    /// Creates the three tables and the clients' `client_id` index if they do not exist: the explicit,
    /// idempotent migration, safe to run from several instances at once (one transaction behind an
    /// advisory lock, as [`PgRefreshTokenStore::migrate`]). On tables migrated by an earlier version it
    /// builds the index (a plain `CREATE INDEX`, which blocks writes to the clients table while it runs:
    /// a moment for the few thousand clients of a deployment), if the migrating role owns the table;
    /// otherwise it leaves the index to the owner, with a server `WARNING` naming the statement, and
    /// succeeds. Tables of those names that exist already must have the shape it gives them (column
    /// types, nullability, the clients' byte-order collation, primary keys); otherwise it fails with
    /// [`StoreError::Backend`] naming the first difference and changes nothing.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.conn().await?;
        let result = async {
            let tx = conn.client().transaction().await?;
            crate::schema::migrate_in(&tx, &self.shared.sql.migrate).await?;
            tx.commit().await
        }
        .await;
        result.map_err(|e| self.fail(&mut conn, &e))
    }

    async fn conn(&self) -> Result<bb8::PooledConnection<'_, Manager>, StoreError> {
        self.shared
            .pool
            .get()
            .await
            .map_err(|e| self.shared.redactor.pool(&e, self.shared.last_error.get()))
    }

    fn fail(&self, conn: &mut Conn, e: &tokio_postgres::Error) -> StoreError {
        if crate::error::breaks_connection(e) {
            conn.mark_broken();
        }
        self.shared.redactor.pg(e)
    }

    /// Runs one prepared, autocommitted statement and returns its rows; sent again when a concurrent
    /// transaction rolled it back.
    pub(crate) async fn query(
        &self,
        sql: &Arc<str>,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        Ok(self.send(sql, params, Answer::Rows).await?.0)
    }

    /// As [`query`](Self::query), for a statement whose answer is the number of rows it changed.
    pub(crate) async fn execute(
        &self,
        sql: &Arc<str>,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        Ok(self.send(sql, params, Answer::Count).await?.1)
    }

    /// The one retry loop of `query` and `execute`: the rows (for [`Answer::Rows`]) or the count of
    /// changed rows (for [`Answer::Count`]).
    async fn send(
        &self,
        sql: &Arc<str>,
        params: &[&(dyn ToSql + Sync)],
        answer: Answer,
    ) -> Result<(Vec<Row>, u64), StoreError> {
        let mut conn = self.conn().await?;
        let mut attempt = 1;
        loop {
            let result = within(conn.answer_limit(), async {
                let st = conn.prepared_sql(sql).await?;
                match answer {
                    Answer::Rows => conn.client().query(&st, params).await.map(|r| (r, 0)),
                    Answer::Count => conn
                        .client()
                        .execute(&st, params)
                        .await
                        .map(|n| (Vec::new(), n)),
                }
            })
            .await;
            match conn.answered(result)? {
                Ok(out) => return Ok(out),
                Err(e) if conn.send_again(&e, attempt, CONFLICT_ATTEMPTS) => {
                    attempt += 1;
                }
                Err(e) => return Err(self.fail(&mut conn, &e)),
            }
        }
    }

    /// A bounded insert: under the pool row's lock, runs `insert` (which counts and inserts, or does
    /// nothing), and when it inserted nothing, `exists` to tell a taken key from a full pool. One
    /// transaction; `Ok(true)` inserted, `Ok(false)` the key exists, `Err(Full)` the bound is reached.
    async fn bounded_insert(
        &self,
        insert: &Arc<str>,
        params: &[&(dyn ToSql + Sync)],
        exists: &Arc<str>,
        key: &str,
    ) -> Result<bool, StoreError> {
        let sql = &self.shared.sql;
        let pool_id: &str = &self.user_pool_id;
        let mut conn = self.conn().await?;
        let mut attempt = 1;
        loop {
            let result = within(conn.answer_limit(), async {
                let lock = conn.prepared_sql(&sql.lock_pool).await?;
                let ins = conn.prepared_sql(insert).await?;
                let ex = conn.prepared_sql(exists).await?;
                let tx = conn.client().transaction().await?;
                tx.execute(&lock, &[&pool_id]).await?;
                // A new statement: under READ COMMITTED its snapshot is taken now, after the lock,
                // so the count includes every insert that held the lock before.
                let mut outcome = Err(StoreError::Full);
                // Twice at most: a key the insert found taken and `exists` then did not find was
                // deleted in between (a delete does not wait for the pool's lock). The insert is then
                // sent again; nothing can take the key meanwhile (inserts wait for the lock), so its
                // answer, or the count it was refused on, decides.
                for _ in 0..2 {
                    if tx.execute(&ins, params).await? == 1 {
                        outcome = Ok(true);
                        break;
                    }
                    if tx.query_opt(&ex, &[&pool_id, &key]).await?.is_some() {
                        outcome = Ok(false);
                        break;
                    }
                }
                tx.commit().await?;
                Ok::<_, tokio_postgres::Error>(outcome)
            })
            .await;
            match conn.answered(result)? {
                Ok(outcome) => return outcome,
                Err(e) if conn.send_again(&e, attempt, CONFLICT_ATTEMPTS) => {
                    attempt += 1;
                }
                Err(e) => return Err(self.fail(&mut conn, &e)),
            }
        }
    }

    /// The columns of a client as written: stored configuration, sealed secret, dates, revision.
    fn encode(&self, client: &AppClient) -> Result<(String, Option<Vec<u8>>, i64), StoreError> {
        if client.user_pool_id() != &*self.user_pool_id {
            return Err(StoreError::Backend(format!(
                "client of pool {} handed to the store of pool {}",
                client.user_pool_id(),
                self.user_pool_id
            )));
        }
        let config = client.config().to_stored_json()?;
        let sealed = client
            .secret()
            .map(|s| {
                self.shared
                    .sealer
                    .seal(s, &self.user_pool_id, client.client_id())
            })
            .transpose()?;
        let revision = i64::try_from(client.revision())
            .map_err(|_| StoreError::Backend("client revision out of range".to_owned()))?;
        Ok((config, sealed, revision))
    }

    /// A client from a row of [`client_columns`]; its secret opened, its configuration validated.
    fn decode(&self, row: &Row) -> Result<Arc<AppClient>, StoreError> {
        self.decode_at(row, 0)
    }

    /// The client in the columns of [`client_columns`] from column `at` on.
    ///
    /// A row equal, column for column, to one decoded before gives the client decoded then: decoding is
    /// a pure function of the row, and the row is read fresh every time, so nothing another instance
    /// wrote is missed; only the secret's opening and the configuration's parse and validation are saved.
    pub(crate) fn decode_at(&self, row: &Row, at: usize) -> Result<Arc<AppClient>, StoreError> {
        let col = |i: usize| at.saturating_add(i);
        let client_id: &str = row.try_get(col(0)).map_err(|_| corrupt("client_id"))?;
        let config: &str = row.try_get(col(1)).map_err(|_| corrupt("config"))?;
        let sealed: Option<&[u8]> = row.try_get(col(2)).map_err(|_| corrupt("secret_sealed"))?;
        let created: i64 = row.try_get(col(3)).map_err(|_| corrupt("creation_date"))?;
        let modified: i64 = row
            .try_get(col(4))
            .map_err(|_| corrupt("last_modified_date"))?;
        let revision: i64 = row.try_get(col(5)).map_err(|_| corrupt("revision"))?;
        let scopes: Vec<String> = row.try_get(col(6)).map_err(|_| corrupt("scopes"))?;
        let key = (Arc::clone(&self.user_pool_id), Arc::<str>::from(client_id));
        {
            let decoded = self
                .shared
                .decoded
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some((seen, client)) = decoded.get(&key) {
                if *seen.config == *config
                    && seen.sealed.as_deref() == sealed
                    && (seen.created, seen.modified, seen.revision) == (created, modified, revision)
                    && seen.scopes == scopes
                {
                    return Ok(Arc::clone(client));
                }
            }
        }
        let row = StoredClient {
            config: config.into(),
            sealed: sealed.map(Box::from),
            created,
            modified,
            revision,
            scopes,
        };
        let client = self.decode_stored(client_id, &row)?;
        let mut decoded = self
            .shared
            .decoded
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if decoded.len() >= MAX_DECODED {
            decoded.clear();
        }
        decoded.insert(key, (row, Arc::clone(&client)));
        Ok(client)
    }

    /// The client of a stored row: its secret opened, its configuration parsed and validated.
    fn decode_stored(
        &self,
        client_id: &str,
        row: &StoredClient,
    ) -> Result<Arc<AppClient>, StoreError> {
        let StoredClient {
            config,
            sealed,
            created,
            modified,
            revision,
            scopes,
        } = row;
        let (created, modified, revision) = (*created, *modified, *revision);
        let secret = sealed
            .as_deref()
            .map(|b| self.shared.sealer.open(b, &self.user_pool_id, client_id))
            .transpose()?;
        let config = AppClientConfig::from_stored_json(
            config,
            secret.is_some(),
            scopes.iter().map(String::as_str),
        )?;
        Ok(Arc::new(AppClient::from_parts(AppClientParts {
            client_id: Arc::from(client_id),
            user_pool_id: Arc::clone(&self.user_pool_id),
            secret,
            config,
            creation_date: Timestamp::from_unix_seconds(created),
            last_modified_date: Timestamp::from_unix_seconds(modified),
            revision: u64::try_from(revision).map_err(|_| corrupt("revision out of range"))?,
        })))
    }

    async fn get_client(&self, client_id: &str) -> Result<Option<Arc<AppClient>>, StoreError> {
        // No stored client has an id TEXT cannot hold: none, as the in-memory store answers.
        if !storable(client_id) {
            return Ok(None);
        }
        let pool_id: &str = &self.user_pool_id;
        let rows = self
            .query(&self.shared.sql.get, &[&pool_id, &client_id])
            .await?;
        rows.first().map(|r| self.decode(r)).transpose()
    }

    async fn insert_client(
        &self,
        client: Arc<AppClient>,
        max_clients: usize,
    ) -> Result<(), StoreError> {
        let (config, sealed, revision) = self.encode(&client)?;
        let pool_id: &str = &self.user_pool_id;
        let client_id: &str = client.client_id();
        let max = i64::try_from(max_clients).unwrap_or(i64::MAX);
        let sql = &self.shared.sql;
        let inserted = self
            .bounded_insert(
                &sql.insert,
                &[
                    &pool_id,
                    &client_id,
                    &config,
                    &sealed,
                    &client.creation_date().unix_seconds(),
                    &client.last_modified_date().unix_seconds(),
                    &revision,
                    &max,
                ],
                &sql.exists,
                client_id,
            )
            .await?;
        if inserted {
            Ok(())
        } else {
            Err(StoreError::AlreadyExists)
        }
    }

    async fn replace_client(
        &self,
        client: Arc<AppClient>,
        expected_revision: u64,
    ) -> Result<Replace, StoreError> {
        let (config, sealed, revision) = self.encode(&client)?;
        let expected = i64::try_from(expected_revision)
            .map_err(|_| StoreError::Backend("client revision out of range".to_owned()))?;
        let pool_id: &str = &self.user_pool_id;
        let client_id: &str = client.client_id();
        let n = self
            .execute(
                &self.shared.sql.replace,
                &[
                    &pool_id,
                    &client_id,
                    &config,
                    &sealed,
                    &client.creation_date().unix_seconds(),
                    &client.last_modified_date().unix_seconds(),
                    &revision,
                    &expected,
                ],
            )
            .await?;
        if n > 0 {
            return Ok(Replace::Replaced);
        }
        // Nothing written: tell a stale revision from a missing client. A later state is as good an
        // answer as the one the UPDATE saw: either way this call wrote nothing.
        let rows = self
            .query(&self.shared.sql.exists, &[&pool_id, &client_id])
            .await?;
        Ok(if rows.is_empty() {
            Replace::NotFound
        } else {
            Replace::Conflict
        })
    }

    async fn list_clients(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Arc<AppClient>>, StoreError> {
        let pool_id: &str = &self.user_pool_id;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = &self.shared.sql;
        let rows = match after {
            None => self.query(&sql.list_first, &[&pool_id, &limit]).await?,
            Some(after) => {
                self.query(&sql.list_after, &[&pool_id, &after, &limit])
                    .await?
            }
        };
        rows.iter().map(|r| self.decode(r)).collect()
    }

    async fn count_clients(&self) -> Result<usize, StoreError> {
        let pool_id: &str = &self.user_pool_id;
        let rows = self.query(&self.shared.sql.count, &[&pool_id]).await?;
        let n: i64 = rows
            .first()
            .ok_or_else(|| corrupt("no count"))?
            .try_get(0)
            .map_err(|_| corrupt("count"))?;
        usize::try_from(n).map_err(|_| corrupt("count out of range"))
    }

    async fn declare(&self, scope: &str, max_scopes: usize) -> Result<(), StoreError> {
        let pool_id: &str = &self.user_pool_id;
        let max = i64::try_from(max_scopes).unwrap_or(i64::MAX);
        let sql = &self.shared.sql;
        // `Ok(false)`: declared already, which succeeds even at the bound.
        self.bounded_insert(
            &sql.declare,
            &[&pool_id, &scope, &max],
            &sql.is_declared,
            scope,
        )
        .await
        .map(|_| ())
    }
}

impl AsyncClientStore for PgClientStore {
    fn get<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<AppClient>>, StoreError>> {
        self.run(self.get_client(client_id))
    }

    fn insert(
        &self,
        client: Arc<AppClient>,
        max_clients: usize,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.run(self.insert_client(client, max_clients))
    }

    fn replace(
        &self,
        client: Arc<AppClient>,
        expected_revision: u64,
    ) -> BoxFuture<'_, Result<Replace, StoreError>> {
        self.run(self.replace_client(client, expected_revision))
    }

    fn delete<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.run(async move {
            if !storable(client_id) {
                return Ok(false);
            }
            let pool_id: &str = &self.user_pool_id;
            let n = self
                .execute(&self.shared.sql.delete, &[&pool_id, &client_id])
                .await?;
            Ok(n > 0)
        })
    }

    fn list<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Arc<AppClient>>, StoreError>> {
        self.run(self.list_clients(after, limit))
    }

    fn count(&self) -> BoxFuture<'_, Result<usize, StoreError>> {
        self.run(self.count_clients())
    }

    fn declare_scope<'a>(
        &'a self,
        scope: &'a str,
        max_scopes: usize,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.run(self.declare(scope, max_scopes))
    }

    fn is_scope_declared<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.run(async move {
            if !storable(scope) {
                return Ok(false);
            }
            let pool_id: &str = &self.user_pool_id;
            let rows = self
                .query(&self.shared.sql.is_declared, &[&pool_id, &scope])
                .await?;
            Ok(!rows.is_empty())
        })
    }

    fn scopes(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        self.run(async move {
            let pool_id: &str = &self.user_pool_id;
            let rows = self.query(&self.shared.sql.scopes, &[&pool_id]).await?;
            rows.iter()
                .map(|r| r.try_get::<_, String>(0).map_err(|_| corrupt("scope")))
                .collect()
        })
    }
}

/// What a statement of [`PgClientStore`] answers with.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// Its rows.
    Rows,
    /// The number of rows it changed.
    Count,
}
