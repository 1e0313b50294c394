//! `--database-url` (R-SRV-6, R-PER-4): the service's state in PostgreSQL, so that a restart loses
//! nothing and several processes started with the same URL serve the same pools as one service.
//!
//! What lives where:
//! - refresh-token families: the crate's [`PgRefreshTokenStore`] (table `srv_families`, all pools);
//!   a rotation is one conditional `UPDATE`, so one token presented to two processes at once advances
//!   its family at most once (R-ROT-5);
//! - app clients and custom scopes: one [`PgClientStore`] per pool (tables `srv_app_clients`,
//!   `srv_app_client_scopes`, `srv_app_client_pools`), client secrets sealed with a [`SecretSealer`];
//! - the example's own tables, created at start (idempotent, behind an advisory lock):
//!   `srv_pools` (name, device configuration, algorithm and the two signing keys, PKCS#8 sealed),
//!   `srv_users` (attributes, enabled, the PBKDF2 hash of the password) and `srv_keys` (the refresh-token
//!   key, sealed; and the sealing key itself when none is given, see [`SealingKey`]).
//!
//! Per request, a pool is found in the database; only its immutable parts (keys, issuer) are cached.
//! Clients and users are never cached: another process's writes are seen at once. Every handler awaits
//! the crate's asynchronous driver ([`AsyncTokenIssuer`]) and the `_async` client operations; only the
//! CPU work (PBKDF2, RSA key generation) runs on blocking threads.
//!
//! The example's tables are read over one plain tokio-postgres connection (no TLS: the database is
//! expected on loopback or a trusted network), re-opened if it drops.

use std::collections::{BTreeMap, HashMap};
use std::num::NonZeroU32;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::pbkdf2;
use tokio_postgres::{Client, NoTls, Row, Statement};

use refresh_rotation::directory::{AsyncUserDirectory, UserRecord};
use refresh_rotation::driver::telemetry;
use refresh_rotation::engine::Operation as Counted;
use refresh_rotation::error::StoreError;
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::oauth::{self, OAuthError, OAuthRequest, OAuthResponse};
use refresh_rotation::random::RandomSource;
use refresh_rotation::store::{AsyncRefreshTokenStore, SecretSealer};
use refresh_rotation::wire::password::{AsyncPasswordVerifier, PasswordCheck};
use refresh_rotation::wire::{
    self, AuthCall, CreateUserPoolClientRequest, DeleteUserPoolClientRequest,
    DescribeUserPoolClientRequest, GetTokensFromRefreshTokenRequest,
    GetTokensFromRefreshTokenResponse, ListUserPoolClientsRequest, Operation, RevokeTokenRequest,
    RevokeTokenResponse, UpdateUserPoolClientRequest, UserPoolClientOperations as _,
};
use refresh_rotation::{
    AsyncTokenIssuer, ClientRegistry, ClientSecret, Error, RefreshTokenKey, RefreshTokenKeys,
};
use refresh_rotation_postgres::{PgClientStore, PgRefreshTokenStore, PgUserJoin};

use super::{
    auth_operation, check_new_user, check_user_ref, created_user, new_kid, new_password,
    new_pool_id, new_user, pool_name, required, AppState, CreateUserPoolRequest,
    CreateUserPoolResponse, DeviceConfiguration, OAuthEndpoint, Signing, UserPoolType, UserRef,
    MAX_USERS_PER_POOL, RSA_BITS,
};

/// The columns a user read returns, in the order [`decode_user`] reads them (a macro, so that the
/// prepared statements can be `&'static str`s built with `concat!`).
macro_rules! user_columns {
    () => {
        "sub, username, enabled, attributes::text"
    };
}

type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The example's own tables. One transaction behind an advisory lock, so that two instances starting
/// at once do not race on `CREATE TABLE IF NOT EXISTS`.
const MIGRATE: &str = "
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('cognito_server migrate'));
CREATE TABLE IF NOT EXISTS srv_pools (
    pool_id        TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    device_config  TEXT NULL,
    algorithm      TEXT NOT NULL,
    id_kid         TEXT NULL,
    id_key_pkcs8   BYTEA NULL,
    access_kid     TEXT NULL,
    access_key_pkcs8 BYTEA NULL,
    created        BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS srv_users (
    pool_id        TEXT NOT NULL,
    sub            TEXT NOT NULL,
    username       TEXT NOT NULL,
    password_hash  TEXT NULL,
    enabled        BOOLEAN NOT NULL,
    attributes     JSONB NOT NULL,
    PRIMARY KEY (pool_id, username),
    UNIQUE (pool_id, sub)
);
CREATE TABLE IF NOT EXISTS srv_keys (
    name   TEXT PRIMARY KEY,
    sealed BYTEA NOT NULL
);
COMMIT;";

/// The `srv_keys` row of the sealing key when it is kept in the database.
const SEALING_KEY_ROW: &str = "sealing-key";
/// The `srv_keys` row of the refresh-token key (id 1), shared by every pool and instance.
const REFRESH_KEY_ROW: &str = "refresh-token-key-1";
/// What the sealed values other than client secrets are bound to (the sealer's "pool").
const SEALED_DOMAIN: &str = "cognito_server";

/// The 256-bit key that seals client secrets, signing keys and the refresh-token key in the database.
/// `Debug` shows nothing of it.
#[derive(Clone)]
pub struct SealingKey([u8; 32]);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(..)")
    }
}

impl SealingKey {
    /// 32 raw bytes, or 64 hexadecimal digits (surrounding whitespace ignored).
    pub fn parse(bytes: &[u8]) -> Result<SealingKey, String> {
        if let Ok(raw) = <[u8; 32]>::try_from(bytes) {
            return Ok(SealingKey(raw));
        }
        let text = std::str::from_utf8(bytes)
            .map(str::trim)
            .map_err(|_| "expected 32 bytes or 64 hexadecimal digits".to_owned())?;
        let mut key = [0u8; 32];
        if text.len() != 64 || !text.is_ascii() {
            return Err(format!(
                "expected 32 bytes or 64 hexadecimal digits, found {} bytes",
                bytes.len()
            ));
        }
        for (i, b) in key.iter_mut().enumerate() {
            *b = u8::from_str_radix(text.get(2 * i..2 * i + 2).unwrap_or("x"), 16)
                .map_err(|_| "expected 64 hexadecimal digits".to_owned())?;
        }
        Ok(SealingKey(key))
    }

    /// [`parse`](Self::parse) on the file at `path`.
    pub fn from_file(path: &std::path::Path) -> Result<SealingKey, String> {
        use std::io::Read as _;
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(1024).read_to_end(&mut bytes))
            .map_err(|e| format!("--secret-key-file {}: {e}", path.display()))?;
        Self::parse(&bytes).map_err(|e| format!("--secret-key-file {}: {e}", path.display()))
    }
}

/// Whether PostgreSQL's TEXT can hold `s` (everything but NUL): a lookup by a name it cannot hold finds
/// nobody, as in memory, instead of the database's encoding error (R-SRV-6).
fn storable(s: &str) -> bool {
    !s.contains('\0')
}

fn store_err(e: tokio_postgres::Error) -> Error {
    use tokio_postgres::error::SqlState;
    // A text PostgreSQL cannot hold (a NUL character) is the request's fault, not the database's: a
    // client error, as in memory, never an outage (R-WIRE-2).
    if matches!(
        e.code(),
        Some(&SqlState::CHARACTER_NOT_IN_REPERTOIRE | &SqlState::UNTRANSLATABLE_CHARACTER)
    ) {
        return Error::InvalidParameter {
            message: "A value holds a character that cannot be stored (NUL).".into(),
        };
    }
    // tokio-postgres's messages name no password.
    if e.is_closed() || e.as_db_error().is_none() {
        Error::from(StoreError::Unavailable(format!("database: {e}")))
    } else {
        Error::from(StoreError::Backend(format!("database: {e}")))
    }
}

/// Pool `pool_id`'s refresh-token key: HMAC-SHA-256 of the pool id under the key the database keeps.
/// Each pool has its own, as in memory mode: a token of one pool's family does not authenticate as a
/// token in another pool, where it is unknown (R-REF-4), and tells its holder nothing of the other
/// pool (the families table is shared by every pool).
fn pool_refresh_key(stored: &[u8; 32], pool_id: &str) -> [u8; 32] {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, stored);
    let tag = ring::hmac::sign(&key, format!("refresh-token key of {pool_id}").as_bytes());
    let mut derived = [0u8; 32];
    derived.copy_from_slice(tag.as_ref());
    derived
}

fn io_err(what: &str, e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("--database-url: {what}: {e}"))
}

/// One connection for the example's own tables, opened again if it drops, with the statements of the
/// hot path prepared on it (a statement sent as text costs a second round trip).
struct Db {
    url: String,
    client: tokio::sync::Mutex<Option<Open>>,
    /// How long a connect, a prepare or a statement may go unanswered: then it fails as an outage
    /// (`--database-timeout`).
    timeout: Duration,
}

/// The open connection and the statements prepared on it so far.
struct Open {
    client: Arc<Client>,
    prepared: HashMap<&'static str, Statement>,
}

impl Db {
    /// The connection, within [`timeout`](Self::timeout).
    async fn client(&self) -> Result<Arc<Client>, Error> {
        self.answer(self.open()).await
    }

    /// A database call's answer within [`timeout`](Self::timeout), else an outage: a database that
    /// accepts connections and never answers cannot hold a request, and its in-flight permit, for
    /// ever. The call's future is dropped then; a statement it sent may still complete, as after any
    /// client that gives up. Only waits on the database are bounded, never the CPU work a request does
    /// between them (a password hash).
    async fn answer<T>(
        &self,
        call: impl std::future::Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, Error> {
        match tokio::time::timeout(self.timeout, call).await {
            Ok(answer) => answer.map_err(store_err),
            Err(_) => Err(Error::from(StoreError::Unavailable(format!(
                "database: no answer within {} s",
                self.timeout.as_secs()
            )))),
        }
    }

    /// The connection, opened again if it dropped; the driver's own error if it cannot be.
    async fn open(&self) -> Result<Arc<Client>, tokio_postgres::Error> {
        let mut slot = self.client.lock().await;
        Ok(Arc::clone(&Self::slot(&self.url, &mut slot).await?.client))
    }

    /// The connection and `sql` prepared on it (prepared on first use after each connect).
    async fn prepared(&self, sql: &'static str) -> Result<(Arc<Client>, Statement), Error> {
        // One bound for the wait for the connection, the connect and the prepare together: a request
        // queued behind others on a silent database fails after the timeout, not after theirs.
        self.answer(async {
            let mut slot = self.client.lock().await;
            let open = Self::slot(&self.url, &mut slot).await?;
            let statement = match open.prepared.get(sql) {
                Some(st) => st.clone(),
                None => {
                    let st = open.client.prepare(sql).await?;
                    open.prepared.insert(sql, st.clone());
                    st
                }
            };
            Ok((Arc::clone(&open.client), statement))
        })
        .await
    }

    async fn slot<'s>(
        url: &str,
        slot: &'s mut Option<Open>,
    ) -> Result<&'s mut Open, tokio_postgres::Error> {
        let open = match slot.take() {
            Some(open) if !open.client.is_closed() => open,
            _ => {
                let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                Open {
                    client: Arc::new(client),
                    prepared: HashMap::new(),
                }
            }
        };
        Ok(slot.insert(open))
    }
}

/// The database side of the service.
pub struct PgBackend {
    db: Arc<Db>,
    families: Arc<PgRefreshTokenStore>,
    clients: PgClientStore,
    sealer: Arc<SecretSealer>,
    refresh_key: [u8; 32],
    /// The immutable parts of the pools seen so far (keys, issuer); clients and users are not cached.
    pools: RwLock<HashMap<String, Arc<PgPool>>>,
    /// Which pool each app client seen so far belongs to: a route only, never the client itself (see
    /// [`PgBackend::on_pool_of_client`]).
    routes: RwLock<HashMap<String, String>>,
}

/// How many client routes are kept before the cache starts over.
const MAX_ROUTES: usize = 100_000;

/// One pool served from the database.
pub struct PgPool {
    pub id: String,
    name: String,
    created: i64,
    device_configuration: Option<DeviceConfiguration>,
    pub issuer: AsyncTokenIssuer,
    users: Arc<PgUsers>,
}

impl PgPool {
    /// The pool's JWKS document.
    pub fn jwks_json(&self) -> String {
        self.issuer.signer().jwks_json()
    }
}

impl PgBackend {
    /// Connects, creates the tables if missing, and loads (or creates, at first start) the keys.
    pub async fn connect(url: &str, state: &AppState) -> std::io::Result<PgBackend> {
        let db = Arc::new(Db {
            url: url.to_owned(),
            client: tokio::sync::Mutex::new(None),
            timeout: state.config.database_timeout,
        });
        let client = db.open().await.map_err(|e| {
            // The driver's message and its cause ("Connection refused"); neither names the password.
            let cause =
                std::error::Error::source(&e).map_or_else(String::new, |c| format!(": {c}"));
            io_err("cannot connect", format!("{e}{cause}"))
        })?;
        client
            .batch_execute(MIGRATE)
            .await
            .map_err(|e| io_err("cannot create the tables", e))?;
        let key = match &state.config.sealing_key {
            Some(k) => k.0,
            None => stored_sealing_key(&client, &*state.rng).await?,
        };
        let sealer = Arc::new(
            SecretSealer::new(1, &key, state.rng.clone()).map_err(|e| io_err("sealing key", e))?,
        );
        let refresh_key = stored_refresh_key(&client, &sealer, &*state.rng).await?;
        let families = PgRefreshTokenStore::builder()
            .table("srv_families")
            // A manual clock (R-SRV-3) must decide expiry, not the database's.
            .database_clock(!state.config.manual_clock)
            .connect(url)
            .await
            .map_err(|e| io_err("family store", e))?;
        families
            .migrate()
            .await
            .map_err(|e| io_err("family store", e))?;
        let clients = PgClientStore::with_table_prefix(&families, "", Arc::clone(&sealer), "srv_")
            .map_err(|e| io_err("client store", e))?;
        clients
            .migrate()
            .await
            .map_err(|e| io_err("client store", e))?;
        Ok(PgBackend {
            db,
            families: Arc::new(families),
            clients,
            sealer,
            refresh_key,
            pools: RwLock::new(HashMap::new()),
            routes: RwLock::new(HashMap::new()),
        })
    }

    /// The pool `id` (validated), from the cache or the database.
    pub async fn pool(&self, state: &AppState, id: Option<&str>) -> Result<Arc<PgPool>, Error> {
        self.load_pool(state, wire::user_pool_id(id)?).await
    }

    /// The pool `id` names, or `None` when there is no such pool or `id` is not a pool id: a client
    /// operation then runs on the service's registry of no pool, which refuses it in the library's
    /// order (the API model's constraints before ResourceNotFoundException).
    async fn pool_or_none(
        &self,
        state: &AppState,
        id: Option<&str>,
    ) -> Result<Option<Arc<PgPool>>, Error> {
        let Ok(id) = pool_id(id) else {
            return Ok(None);
        };
        match self.load_pool(state, id).await {
            Ok(pool) => Ok(Some(pool)),
            Err(Error::UserPoolNotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn load_pool(&self, state: &AppState, id: &str) -> Result<Arc<PgPool>, Error> {
        let cached = self
            .pools
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned();
        if let Some(p) = cached {
            return Ok(p);
        }
        let client = self.db.client().await?;
        let row = self
            .db
            .answer(client.query_opt(
                "SELECT name, device_config, algorithm, id_kid, id_key_pkcs8, access_kid, \
                 access_key_pkcs8, created FROM srv_pools WHERE pool_id = $1",
                &[&id],
            ))
            .await?
            .ok_or_else(|| Error::UserPoolNotFound {
                user_pool_id: id.to_owned(),
            })?;
        let corrupt = |what: &'static str| Error::Internal { detail: what };
        let name: String = row.try_get(0).map_err(store_err)?;
        let device_config: Option<String> = row.try_get(1).map_err(store_err)?;
        let algorithm: String = row.try_get(2).map_err(store_err)?;
        let id_kid: Option<String> = row.try_get(3).map_err(store_err)?;
        let id_key: Option<Vec<u8>> = row.try_get(4).map_err(store_err)?;
        let access_kid: Option<String> = row.try_get(5).map_err(store_err)?;
        let access_key: Option<Vec<u8>> = row.try_get(6).map_err(store_err)?;
        let created: i64 = row.try_get(7).map_err(store_err)?;
        let device_configuration = device_config
            .map(|c| serde_json::from_str::<DeviceConfiguration>(&c))
            .transpose()
            .map_err(|_| corrupt("corrupt pool row: device configuration"))?;
        let alg = match algorithm.as_str() {
            "RS256" => Algorithm::RS256,
            "ES256" => Algorithm::ES256,
            "EdDSA" => Algorithm::EdDSA,
            _ => return Err(corrupt("corrupt pool row: algorithm")),
        };
        let signer = match (
            id_kid,
            id_key,
            access_kid,
            access_key,
            &state.config.signing,
        ) {
            (Some(ik), Some(ikey), Some(ak), Some(akey), _) => {
                let id_key = self.open_signing_key(alg, id, ik, "id-signing-key", &ikey)?;
                let access_key = self.open_signing_key(alg, id, ak, "access-signing-key", &akey)?;
                TokenSigner::with_keys(Arc::new(id_key), Arc::new(access_key))?
            }
            // Created with --signing-keys: every instance must be started with the same file.
            (None, None, None, None, Signing::Keys { id, access }) => {
                TokenSigner::with_keys(Arc::clone(id), Arc::clone(access))?
            }
            _ => {
                return Err(Error::InvalidParameter {
                    message: format!(
                        "User pool {id} signs with the keys of a --signing-keys file; start this \
                         instance with the same file."
                    ),
                })
            }
        };
        let clients = self.clients.for_pool(id);
        // The pool's families read with its clients and users: one read and the update per refresh.
        let families: Arc<dyn AsyncRefreshTokenStore> =
            Arc::new(clients.families(&self.families)?.with_users(user_join()));
        let registry = Arc::new(
            ClientRegistry::new(id, state.clock.clone(), state.rng.clone())
                .with_store(Arc::new(clients)),
        );
        // What a password check of nobody costs: a PBKDF2 hash, made on a blocking thread as every
        // other one is.
        let (rng, iterations) = (state.rng.clone(), state.config.pbkdf2_iterations);
        let dummy = super::spawn_counted(move || {
            StoredHashInput {
                password: "no user has this password".into(),
                rng,
            }
            .hash(iterations)
        })
        .await
        .map_err(|_| Error::Internal {
            detail: "password hashing panicked",
        })??;
        let users = Arc::new(PgUsers {
            db: Arc::clone(&self.db),
            pool_id: id.to_owned(),
            iterations: state.config.pbkdf2_iterations,
            dummy,
        });
        // The pool's own region, from its id, not this instance's `--region`: instances on one database
        // that were started with different regions still give the pool one issuer URL (R-JWT-4).
        let region = id.split_once('_').map_or(id, |(region, _)| region);
        let issuer = AsyncTokenIssuer::builder(
            region.to_owned(),
            signer,
            RefreshTokenKeys::new(RefreshTokenKey::new(
                1,
                &pool_refresh_key(&self.refresh_key, id),
            )?),
            registry,
            families,
            users.clone(),
        )
        .clock(state.clock.clone())
        .random(state.rng.clone())
        .device_tracking(device_configuration.is_some())
        .reuse_policy(state.config.reuse_policy)
        .build();
        let pool = Arc::new(PgPool {
            id: id.to_owned(),
            name,
            created,
            device_configuration,
            issuer,
            users,
        });
        // Two requests may load the same pool at once: keep the first.
        let mut pools = self.pools.write().unwrap_or_else(PoisonError::into_inner);
        Ok(Arc::clone(
            pools.entry(id.to_owned()).or_insert_with(|| pool),
        ))
    }

    fn open_signing_key(
        &self,
        alg: Algorithm,
        pool_id: &str,
        kid: String,
        what: &str,
        sealed: &[u8],
    ) -> Result<SigningKey, Error> {
        let opened = self.sealer.open(sealed, pool_id, what)?;
        let der = B64
            .decode(opened.expose_secret())
            .map_err(|_| Error::Internal {
                detail: "corrupt pool row: signing key",
            })?;
        SigningKey::from_pkcs8_der(alg, kid, &der)
    }

    /// Runs `op` on the pool of app client `client_id`.
    ///
    /// The client's pool is remembered: the operations find the client in its pool's registry anyway
    /// (read fresh from the database), so the route saves a query per request without caching anything
    /// another process could change. A remembered route that leads to no client (a client deleted, and
    /// restored with the same id into another pool) is forgotten and looked up again, once. A refresh or
    /// a revocation answers `ClientNotFound` before it writes anything; a sign-in whose client vanished
    /// while it ran has revoked the family it made before it says so (R-SIGN-2), so trying it again in
    /// the pool found now is a new sign-in, not a second use of anything.
    ///
    /// A request no pool can take is traced and counted as `operation`, as the issuer would have
    /// (R-OPS-1, R-OPS-2); once only, if the remembered route's issuer already recorded it.
    async fn on_pool_of_client<'s, T>(
        &'s self,
        state: &'s AppState,
        client_id: &'s str,
        operation: Counted,
        op: impl Fn(Arc<PgPool>) -> BoxFuture<'s, Result<T, Error>> + Send + Sync,
    ) -> Result<T, Error> {
        let route = self
            .routes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(client_id)
            .cloned();
        // Whether an issuer already ran the request and recorded its refusal (the route's, above).
        let mut recorded = false;
        if let Some(pool_id) = route {
            match op(self.load_pool(state, &pool_id).await?).await {
                Err(Error::ClientNotFound { .. }) => {
                    recorded = true;
                    self.routes
                        .write()
                        .unwrap_or_else(PoisonError::into_inner)
                        .remove(client_id);
                }
                answer => return answer,
            }
        }
        let pool = self
            .pool_of_client(state, client_id)
            .await
            .inspect_err(|e| {
                if !recorded {
                    telemetry::record_refusal(operation, Some(client_id), e);
                }
            })?;
        {
            let mut routes = self.routes.write().unwrap_or_else(PoisonError::into_inner);
            if routes.len() >= MAX_ROUTES {
                routes.clear();
            }
            routes.insert(client_id.to_owned(), pool.id.clone());
        }
        op(pool).await
    }

    /// The pool that has app client `client_id`.
    async fn pool_of_client(
        &self,
        state: &AppState,
        client_id: &str,
    ) -> Result<Arc<PgPool>, Error> {
        let client = self.db.client().await?;
        let row = self
            .db
            .answer(client.query_opt(
                "SELECT pool_id FROM srv_app_clients WHERE client_id = $1 LIMIT 1",
                &[&client_id],
            ))
            .await?;
        match row {
            Some(row) => {
                let id: String = row.try_get(0).map_err(store_err)?;
                self.load_pool(state, &id).await
            }
            None => Err(Error::ClientNotFound {
                client_id: client_id.to_owned(),
            }),
        }
    }

    async fn create_user_pool(
        &self,
        state: &AppState,
        req: CreateUserPoolRequest,
    ) -> Result<String, Error> {
        let name = pool_name(&req)?.to_owned();
        let client = self.db.client().await?;
        // Checked before the keys are made (R-SRV-9). Across instances the bound is approximate.
        let count: i64 = self
            .db
            .answer(async {
                client
                    .query_one("SELECT count(*) FROM srv_pools", &[])
                    .await?
                    .try_get(0)
            })
            .await?;
        if count >= i64::try_from(state.config.max_pools).unwrap_or(i64::MAX) {
            return Err(Error::LimitExceeded {
                message: format!(
                    "At most {} user pools can be created.",
                    state.config.max_pools
                ),
            });
        }
        let id = new_pool_id(state)?;
        let alg = state.config.signing.algorithm();
        let keys = match &state.config.signing {
            Signing::Keys { .. } => None,
            Signing::Generate(alg) => {
                let (id_kid, access_kid) = (new_kid(state, "id")?, new_kid(state, "access")?);
                let alg = *alg;
                let (id_der, access_der) = super::spawn_counted(move || {
                    std::thread::scope(|s| {
                        let id = s.spawn(|| generate_pkcs8(alg));
                        let access = generate_pkcs8(alg);
                        (id.join(), access)
                    })
                })
                .await
                .map_err(|_| Error::Internal {
                    detail: "key generation panicked",
                })?;
                let id_der = id_der.map_err(|_| Error::Internal {
                    detail: "key generation panicked",
                })??;
                let access_der = access_der?;
                state
                    .keys_generated
                    .fetch_add(2, std::sync::atomic::Ordering::Relaxed);
                let seal = |der: &[u8], what: &str| {
                    self.sealer
                        .seal(&ClientSecret::new(B64.encode(der)), &id, what)
                        .map_err(Error::from)
                };
                Some((
                    id_kid,
                    seal(&id_der, "id-signing-key")?,
                    access_kid,
                    seal(&access_der, "access-signing-key")?,
                ))
            }
        };
        let (id_kid, id_key, access_kid, access_key) = match keys {
            Some((a, b, c, d)) => (Some(a), Some(b), Some(c), Some(d)),
            None => (None, None, None, None),
        };
        let device_config = req
            .device_configuration
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|_| Error::Internal {
                detail: "device configuration encoding failed",
            })?;
        let created = state.clock.now().unix_seconds();
        self.db
            .answer(client.execute(
                "INSERT INTO srv_pools (pool_id, name, device_config, algorithm, id_kid, \
                 id_key_pkcs8, access_kid, access_key_pkcs8, created) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    &id,
                    &name,
                    &device_config,
                    &alg.as_str(),
                    &id_kid,
                    &id_key,
                    &access_kid,
                    &access_key,
                    &created,
                ],
            ))
            .await?;
        let pool = self.load_pool(state, &id).await?;
        wire::to_json(&CreateUserPoolResponse {
            user_pool: UserPoolType {
                id: &pool.id,
                name: &pool.name,
                arn: format!(
                    "arn:aws:cognito-idp:{}:000000000000:userpool/{}",
                    state.config.region, pool.id
                ),
                creation_date: pool.created,
                last_modified_date: pool.created,
                device_configuration: pool.device_configuration.as_ref(),
            },
        })
    }
}

/// The sealing key kept in the database: generated and stored at first start, read after. The
/// first instance to insert it wins; every other reads the winner's.
async fn stored_sealing_key(client: &Client, rng: &dyn RandomSource) -> std::io::Result<[u8; 32]> {
    let mut fresh = [0u8; 32];
    rng.fill(&mut fresh)
        .map_err(|e| io_err("random source", e))?;
    let inserted = client
        .execute(
            "INSERT INTO srv_keys (name, sealed) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&SEALING_KEY_ROW, &fresh.as_slice()],
        )
        .await
        .map_err(|e| io_err("sealing key", e))?;
    let row = client
        .query_one(
            "SELECT sealed FROM srv_keys WHERE name = $1",
            &[&SEALING_KEY_ROW],
        )
        .await
        .map_err(|e| io_err("sealing key", e))?;
    let stored: Vec<u8> = row.try_get(0).map_err(|e| io_err("sealing key", e))?;
    let key = <[u8; 32]>::try_from(stored.as_slice())
        .map_err(|_| io_err("sealing key", "the stored key is not 32 bytes"))?;
    eprintln!(
        "cognito_server: WARNING: no --secret-key-file and no COGNITO_SERVER_SECRET_KEY: the key that \
         seals client secrets and signing keys is {} the database itself (srv_keys), so a copy of the \
         database opens them. A real deployment keeps that key outside the database.",
        if inserted == 1 { "generated and kept in" } else { "read from" }
    );
    Ok(key)
}

/// The refresh-token key shared by every pool and instance, sealed in `srv_keys`.
async fn stored_refresh_key(
    client: &Client,
    sealer: &SecretSealer,
    rng: &dyn RandomSource,
) -> std::io::Result<[u8; 32]> {
    let mut fresh = [0u8; 32];
    rng.fill(&mut fresh)
        .map_err(|e| io_err("random source", e))?;
    let sealed = sealer
        .seal(
            &ClientSecret::new(B64.encode(fresh)),
            SEALED_DOMAIN,
            REFRESH_KEY_ROW,
        )
        .map_err(|e| io_err("refresh-token key", e))?;
    client
        .execute(
            "INSERT INTO srv_keys (name, sealed) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&REFRESH_KEY_ROW, &sealed],
        )
        .await
        .map_err(|e| io_err("refresh-token key", e))?;
    let row = client
        .query_one(
            "SELECT sealed FROM srv_keys WHERE name = $1",
            &[&REFRESH_KEY_ROW],
        )
        .await
        .map_err(|e| io_err("refresh-token key", e))?;
    let stored: Vec<u8> = row.try_get(0).map_err(|e| io_err("refresh-token key", e))?;
    let opened = sealer
        .open(&stored, SEALED_DOMAIN, REFRESH_KEY_ROW)
        .map_err(|_| {
            io_err(
                "refresh-token key",
                "cannot open the stored key: this is not the sealing key the database was \
                 started with (--secret-key-file / COGNITO_SERVER_SECRET_KEY)",
            )
        })?;
    let bytes = B64
        .decode(opened.expose_secret())
        .map_err(|e| io_err("refresh-token key", e))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| io_err("refresh-token key", "the stored key is not 32 bytes"))
}

/// A fresh private key of `alg` as PKCS#8 DER.
fn generate_pkcs8(alg: Algorithm) -> Result<Vec<u8>, Error> {
    let failed = |_| Error::Internal {
        detail: "key generation failed",
    };
    let rng = ring::rand::SystemRandom::new();
    match alg {
        Algorithm::RS256 => {
            use rsa::pkcs8::EncodePrivateKey as _;
            let key =
                rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS).map_err(|_| {
                    Error::Internal {
                        detail: "RSA key generation failed",
                    }
                })?;
            let der = key.to_pkcs8_der().map_err(|_| Error::Internal {
                detail: "RSA key encoding failed",
            })?;
            Ok(der.as_bytes().to_vec())
        }
        Algorithm::ES256 => ring::signature::EcdsaKeyPair::generate_pkcs8(
            &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            &rng,
        )
        .map(|d| d.as_ref().to_vec())
        .map_err(failed),
        Algorithm::EdDSA => ring::signature::Ed25519KeyPair::generate_pkcs8(&rng)
            .map(|d| d.as_ref().to_vec())
            .map_err(failed),
    }
}

// ---------------------------------------------------------------------------------- users

/// A PBKDF2-HMAC-SHA256 hash as stored: `pbkdf2-sha256$<iterations>$<salt>$<hash>` (base64).
#[derive(Clone)]
struct StoredHash {
    iterations: NonZeroU32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl StoredHash {
    fn encode(&self) -> String {
        format!(
            "pbkdf2-sha256${}${}${}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(&self.hash)
        )
    }

    fn decode(text: &str) -> Option<StoredHash> {
        let mut parts = text.split('$');
        if parts.next()? != "pbkdf2-sha256" {
            return None;
        }
        let iterations = NonZeroU32::new(parts.next()?.parse().ok()?)?;
        let salt = B64.decode(parts.next()?).ok()?;
        let hash = B64.decode(parts.next()?).ok()?;
        Some(StoredHash {
            iterations,
            salt,
            hash,
        })
    }

    /// Compared in constant time by ring.
    fn verify(&self, password: &str) -> bool {
        pbkdf2::verify(
            pbkdf2::PBKDF2_HMAC_SHA256,
            self.iterations,
            &self.salt,
            password.as_bytes(),
            &self.hash,
        )
        .is_ok()
    }
}

/// The users of one pool in `srv_users`: the issuer's directory and the sign-in's password verifier.
/// Nothing is cached.
struct PgUsers {
    db: Arc<Db>,
    pool_id: String,
    iterations: u32,
    /// Verified against when there is no usable hash, so that a miss costs what a wrong password costs.
    dummy: StoredHash,
}

impl PgUsers {
    async fn find(&self, by_subject: bool, key: &str) -> Result<Option<Arc<UserRecord>>, Error> {
        // No stored user has a name TEXT cannot hold: nobody, as in memory (R-SRV-6).
        if !storable(key) {
            return Ok(None);
        }
        let sql = if by_subject {
            concat!(
                "SELECT ",
                user_columns!(),
                " FROM srv_users WHERE pool_id = $1 AND sub = $2"
            )
        } else {
            concat!(
                "SELECT ",
                user_columns!(),
                " FROM srv_users WHERE pool_id = $1 AND username = $2"
            )
        };
        let (client, statement) = self.db.prepared(sql).await?;
        let Some(row) = self
            .db
            .answer(client.query_opt(&statement, &[&self.pool_id, &key]))
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Arc::new(decode_user(&row, 0).map_err(Error::from)?)))
    }
}

/// The user in the columns of `user_columns!` of `row`, from column `at` on.
fn decode_user(row: &Row, at: usize) -> Result<UserRecord, StoreError> {
    let corrupt = |what: &str| StoreError::Backend(format!("corrupt user row: {what}"));
    let subject: String = row.try_get(at).map_err(|_| corrupt("sub"))?;
    let username: String = row.try_get(at + 1).map_err(|_| corrupt("username"))?;
    let mut user = UserRecord::new(subject, username);
    user.enabled = row.try_get(at + 2).map_err(|_| corrupt("enabled"))?;
    let attributes: String = row.try_get(at + 3).map_err(|_| corrupt("attributes"))?;
    user.attributes = serde_json::from_str::<BTreeMap<String, String>>(&attributes)
        .map_err(|_| corrupt("attributes"))?;
    Ok(user)
}

/// The users of the family's pool, read with the family (R-PER-5): what [`PgUsers`] answers by `sub`.
fn user_join() -> PgUserJoin {
    PgUserJoin::new(
        concat!(
            "SELECT ",
            user_columns!(),
            " FROM srv_users WHERE pool_id = $2 AND sub = f.subject"
        ),
        decode_user,
    )
}

impl AsyncUserDirectory for PgUsers {
    fn user_by_subject<'a>(
        &'a self,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<UserRecord>>, Error>> {
        Box::pin(self.find(true, subject))
    }

    fn user_by_username<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<UserRecord>>, Error>> {
        Box::pin(self.find(false, username))
    }
}

impl AsyncPasswordVerifier for PgUsers {
    fn check_password<'a>(
        &'a self,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<PasswordCheck, Error>> {
        Box::pin(async move {
            let row = if storable(username) {
                let client = self.db.client().await?;
                self.db
                    .answer(client.query_opt(
                        "SELECT password_hash FROM srv_users WHERE pool_id = $1 AND username = $2",
                        &[&self.pool_id, &username],
                    ))
                    .await?
            } else {
                // Nobody, as in memory; still a password hash's worth of work below.
                None
            };
            // None: no such user; Some(None): a user without a (readable) permanent password.
            let stored: Option<Option<StoredHash>> = match row {
                None => None,
                Some(row) => {
                    let h: Option<String> = row.try_get(0).map_err(store_err)?;
                    Some(h.as_deref().and_then(StoredHash::decode))
                }
            };
            let dummy = self.dummy.clone();
            let password = password.to_owned();
            // PBKDF2 is CPU work: off the I/O threads.
            super::spawn_counted(move || match stored {
                None => {
                    let _ = dummy.verify(&password);
                    PasswordCheck::NoSuchUser
                }
                Some(None) => {
                    let _ = dummy.verify(&password);
                    PasswordCheck::Invalid
                }
                Some(Some(h)) if h.verify(&password) => PasswordCheck::Valid,
                Some(Some(_)) => PasswordCheck::Invalid,
            })
            .await
            .map_err(|_| Error::Internal {
                detail: "password check panicked",
            })
        })
    }
}

// ---------------------------------------------------------------------------------- operations

fn backend(state: &AppState) -> Result<&PgBackend, Error> {
    state.pg.as_ref().ok_or(Error::Internal {
        detail: "no database configured",
    })
}

/// Every operation of R-SRV-2 against the database.
pub async fn handle(state: &AppState, op: Operation, body: &[u8]) -> Result<String, Error> {
    use Operation as Op;
    let pg = backend(state)?;
    // A Cognito client operation: the request, its pool, the registry's async form, the answer.
    macro_rules! client_operation {
        ($request:ty, $operation:ident) => {{
            let req: $request = wire::from_json(body)?;
            let pool = pg.pool_or_none(state, req.user_pool_id.as_deref()).await?;
            let registry = pool
                .as_ref()
                .map_or(state.nowhere(), |p| p.issuer.registry());
            wire::to_json(&registry.$operation(&req).await?)
        }};
    }
    match op {
        Op::CreateUserPool => pg.create_user_pool(state, wire::from_json(body)?).await,
        Op::CreateUserPoolClient => {
            client_operation!(CreateUserPoolClientRequest, create_user_pool_client_async)
        }
        Op::DescribeUserPoolClient => client_operation!(
            DescribeUserPoolClientRequest,
            describe_user_pool_client_async
        ),
        Op::UpdateUserPoolClient => {
            client_operation!(UpdateUserPoolClientRequest, update_user_pool_client_async)
        }
        Op::DeleteUserPoolClient => {
            let req: DeleteUserPoolClientRequest = wire::from_json(body)?;
            let pool = pg.pool_or_none(state, req.user_pool_id.as_deref()).await?;
            // Revokes the client's families in the issuer's store too (R-REV-7).
            pool.as_ref()
                .map_or(state.nowhere(), |p| p.issuer.registry())
                .delete_user_pool_client_async(&req)
                .await?;
            Ok("{}".into())
        }
        Op::ListUserPoolClients => {
            client_operation!(ListUserPoolClientsRequest, list_user_pool_clients_async)
        }
        Op::AdminCreateUser => {
            let req: super::AdminCreateUserRequest = wire::from_json(body)?;
            let id = pool_id(req.user_pool_id.as_deref())?;
            check_new_user(&req)?;
            let pool = pg.load_pool(state, id).await?;
            let (user, attributes) = new_user(state, req)?;
            let client = pg.db.client().await?;
            let count: i64 = pg
                .db
                .answer(async {
                    client
                        .query_one(
                            "SELECT count(*) FROM srv_users WHERE pool_id = $1",
                            &[&pool.id],
                        )
                        .await?
                        .try_get(0)
                })
                .await?;
            if count >= i64::try_from(MAX_USERS_PER_POOL).unwrap_or(i64::MAX) {
                return Err(Error::LimitExceeded {
                    message: format!("At most {MAX_USERS_PER_POOL} users per pool."),
                });
            }
            let attrs = serde_json::to_string(&user.attributes).map_err(|_| Error::Internal {
                detail: "attribute encoding failed",
            })?;
            let inserted = pg
                .db
                .answer(client.execute(
                    "INSERT INTO srv_users (pool_id, sub, username, password_hash, enabled, \
                     attributes) VALUES ($1, $2, $3, NULL, TRUE, $4::text::jsonb) \
                     ON CONFLICT DO NOTHING",
                    &[&pool.id, &user.subject, &user.username, &attrs],
                ))
                .await?;
            if inserted == 0 {
                return Err(Error::UsernameExists);
            }
            created_user(state, &user, attributes)
        }
        Op::AdminSetUserPassword => {
            let req: super::AdminSetUserPasswordRequest = wire::from_json(body)?;
            check_user_ref(req.user_pool_id.as_deref(), req.username.as_deref())?;
            let pool = pg
                .load_pool(state, pool_id(req.user_pool_id.as_deref())?)
                .await?;
            let password = new_password(&req)?.to_owned();
            let username = required("Username", req.username.as_deref())?;
            if pool.users.find(false, username).await?.is_none() {
                return Err(Error::UserNotFound);
            }
            let iterations = pool.users.iterations;
            let rng = state.rng.clone();
            let hash =
                super::spawn_counted(move || StoredHashInput { password, rng }.hash(iterations))
                    .await
                    .map_err(|_| Error::Internal {
                        detail: "password hashing panicked",
                    })??;
            let client = pg.db.client().await?;
            let updated = pg
                .db
                .answer(client.execute(
                    "UPDATE srv_users SET password_hash = $3 WHERE pool_id = $1 AND username = $2",
                    &[&pool.id, &username, &hash.encode()],
                ))
                .await?;
            if updated == 0 {
                return Err(Error::UserNotFound);
            }
            Ok("{}".into())
        }
        Op::AdminDisableUser => set_enabled(pg, state, wire::from_json(body)?, false).await,
        Op::AdminEnableUser => set_enabled(pg, state, wire::from_json(body)?, true).await,
        Op::AdminDeleteUser => {
            let req: UserRef = wire::from_json(body)?;
            check_user_ref(req.user_pool_id.as_deref(), req.username.as_deref())?;
            let pool = pg
                .load_pool(state, pool_id(req.user_pool_id.as_deref())?)
                .await?;
            let username = required("Username", req.username.as_deref())?;
            if !storable(username) {
                return Err(Error::UserNotFound);
            }
            let client = pg.db.client().await?;
            let deleted = pg
                .db
                .answer(client.execute(
                    "DELETE FROM srv_users WHERE pool_id = $1 AND username = $2",
                    &[&pool.id, &username],
                ))
                .await?;
            if deleted == 0 {
                return Err(Error::UserNotFound);
            }
            Ok("{}".into())
        }
        Op::AdminUserGlobalSignOut => {
            let req: UserRef = wire::from_json(body)?;
            check_user_ref(req.user_pool_id.as_deref(), req.username.as_deref())?;
            let pool = pg
                .load_pool(state, pool_id(req.user_pool_id.as_deref())?)
                .await?;
            pool.issuer
                .global_sign_out_username(required("Username", req.username.as_deref())?)
                .await?;
            Ok("{}".into())
        }
        Op::AdminInitiateAuth => {
            let call = AuthCall::from_admin_initiate_auth(wire::from_json(body)?)?;
            let pool = pg.load_pool(state, pool_id(call.user_pool_id())?).await?;
            let resp = pool.issuer.initiate_auth(&call, &*pool.users).await?;
            wire::to_json(&resp)
        }
        Op::InitiateAuth => {
            let call = AuthCall::from_initiate_auth(wire::from_json(body)?)?;
            let call = &call;
            let resp = pg
                .on_pool_of_client(
                    state,
                    call.client_id().as_str(),
                    auth_operation(call),
                    |pool| {
                        Box::pin(async move { pool.issuer.initiate_auth(call, &*pool.users).await })
                    },
                )
                .await?;
            wire::to_json(&resp)
        }
        Op::GetTokensFromRefreshToken => {
            let call = wire::from_json::<GetTokensFromRefreshTokenRequest>(body)?.into_call()?;
            let request = &call.as_request();
            let result = pg
                .on_pool_of_client(state, call.client_id().as_str(), Counted::Refresh, |pool| {
                    Box::pin(
                        async move { pool.issuer.get_tokens_from_refresh_token(request).await },
                    )
                })
                .await?;
            wire::to_json(&GetTokensFromRefreshTokenResponse {
                authentication_result: result.into(),
            })
        }
        Op::RevokeToken => {
            let call = wire::from_json::<RevokeTokenRequest>(body)?.into_call()?;
            let call = &call;
            pg.on_pool_of_client(state, call.client_id().as_str(), Counted::Revoke, |pool| {
                Box::pin(async move {
                    let (token, client_id) = (call.token(), call.client_id());
                    pool.issuer
                        .revoke_token(token, client_id, call.client_secret())
                        .await
                })
            })
            .await?;
            wire::to_json(&RevokeTokenResponse {})
        }
        _ => Err(Error::UnknownOperation {
            message: format!("Operation {} is not served.", op.name()),
        }),
    }
}

/// A validated pool id.
fn pool_id(id: Option<&str>) -> Result<&str, Error> {
    wire::user_pool_id(id)
}

/// A password and the randomness for its salt, hashed on a blocking thread.
struct StoredHashInput {
    password: String,
    rng: Arc<refresh_rotation::random::SystemRandom>,
}

impl StoredHashInput {
    fn hash(self, iterations: u32) -> Result<StoredHash, Error> {
        let iterations = NonZeroU32::new(iterations).ok_or(Error::Internal {
            detail: "PBKDF2 iteration count must be at least 1",
        })?;
        let mut salt = vec![0u8; 16];
        self.rng.fill(&mut salt)?;
        let mut hash = vec![0u8; 32];
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            iterations,
            &salt,
            self.password.as_bytes(),
            &mut hash,
        );
        Ok(StoredHash {
            iterations,
            salt,
            hash,
        })
    }
}

async fn set_enabled(
    pg: &PgBackend,
    state: &AppState,
    req: UserRef,
    enabled: bool,
) -> Result<String, Error> {
    check_user_ref(req.user_pool_id.as_deref(), req.username.as_deref())?;
    let pool = pg
        .load_pool(state, pool_id(req.user_pool_id.as_deref())?)
        .await?;
    let username = required("Username", req.username.as_deref())?;
    if !storable(username) {
        return Err(Error::UserNotFound);
    }
    let client = pg.db.client().await?;
    let updated = pg
        .db
        .answer(client.execute(
            "UPDATE srv_users SET enabled = $3 WHERE pool_id = $1 AND username = $2",
            &[&pool.id, &username, &enabled],
        ))
        .await?;
    if updated == 0 {
        return Err(Error::UserNotFound);
    }
    Ok("{}".into())
}

/// The OAuth 2.0 endpoints (R-SRV-7) against the database, introspection included when
/// `--introspection` routes it.
pub(super) async fn oauth_handle(
    state: &AppState,
    endpoint: OAuthEndpoint,
    req: &OAuthRequest<'_>,
) -> OAuthResponse {
    let Ok(pg) = backend(state) else {
        return OAuthError::server_error().to_response();
    };
    match endpoint {
        OAuthEndpoint::Token => match oauth::TokenRequest::parse(req) {
            Ok(r) => {
                let request = &r.refresh_request();
                let result = pg
                    .on_pool_of_client(state, r.client_id().as_str(), Counted::Refresh, |pool| {
                        Box::pin(
                            async move { pool.issuer.get_tokens_from_refresh_token(request).await },
                        )
                    })
                    .await;
                r.respond(result)
            }
            Err(e) => e.to_response(),
        },
        OAuthEndpoint::Revoke => match oauth::RevocationRequest::parse(req) {
            Ok(r) => {
                let r = &r;
                let result = pg
                    .on_pool_of_client(state, r.client_id().as_str(), Counted::Revoke, |pool| {
                        Box::pin(async move {
                            pool.issuer
                                .revoke_token(r.token(), r.client_id(), r.client_secret())
                                .await
                        })
                    })
                    .await;
                r.respond(result)
            }
            Err(e) => e.to_response(),
        },
        OAuthEndpoint::Introspect => match oauth::IntrospectionRequest::parse(req) {
            Ok(r) => {
                let r = &r;
                let result = pg
                    .on_pool_of_client(state, r.client_id().as_str(), Counted::Introspect, |pool| {
                        Box::pin(async move {
                            pool.issuer
                                .introspect(r.expose_token(), r.client_id(), r.client_secret())
                                .await
                        })
                    })
                    .await;
                r.respond(result)
            }
            Err(e) => e.to_response(),
        },
    }
}
