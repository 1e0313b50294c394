//! The service: AWS JSON 1.1 over HTTP (R-WIRE-3), every operation of R-SRV-2, the JWKS route, the
//! manual clock route of R-SRV-3, and the OAuth 2.0 routes of R-SRV-7 (`/oauth2/token`, `/oauth2/revoke`,
//! the discovery document of each pool, and `/oauth2/introspect` when enabled).
//!
//! Each handler parses the body into the crate's wire types, makes one call into the crate and renders
//! the answer or the R-WIRE-2 error. What is here and not in the crate is what a host owns: user pools
//! (one [`TokenIssuer`] each, with its own keys, client registry, family store and user directory), the
//! users themselves, and their passwords, kept only as salted PBKDF2 hashes ([`PasswordHash`]).
//!
//! Everything is in memory, or with `--database-url` in PostgreSQL (see `pg.rs`). No request is
//! authenticated (no SigV4 check): the service is for local use and binds to loopback unless told
//! otherwise (see `cli.rs`).
//!
//! Tokens are signed RS256 by default, as Cognito's are (R-SRV-5): each pool gets two fresh RSA-2048 keys.
//! ring signs but cannot generate RSA keys, so the `rsa` crate generates them here and hands them to ring
//! as PKCS#8; it is a dev-dependency of the example only, never a dependency of the library.
//!
//! The service bounds its own resources (R-SRV-9): a deadline for a request's headers (which also closes
//! idle kept-alive connections) and one for its body, a cap on requests in flight beyond which requests are
//! answered 503 at once, the pool limit checked before the expensive key generation, and
//! `Cache-Control: no-store` on every operation's response, since those carry tokens and secrets.
//!
//! This file is also compiled into the end-to-end tests of the `refresh-rotation-e2e` crate, which start
//! the service in-process with [`start`] and stop it with [`RunningServer::stop`].

#![allow(dead_code)] // Each includer (the example's `main`, the e2e tests) uses a different part.

// `--database-url` (R-SRV-6, R-PER-4). A path relative to this file, so that every includer finds it.
#[path = "pg.rs"]
pub mod pg;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinHandle, JoinSet};

use refresh_rotation::clock::{Clock, ManualClock, SystemClock, Timestamp};
use refresh_rotation::directory::{InMemoryUserDirectory, UserDirectory, UserRecord};
use refresh_rotation::driver::telemetry;
use refresh_rotation::engine::Operation as Counted;
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::oauth::{self, OAuthError, OAuthRequest, OAuthResponse};
use refresh_rotation::random::{RandomSource, SystemRandom};
use refresh_rotation::store::InMemoryRefreshTokenStore;
use refresh_rotation::wire::password::{PasswordCheck, PasswordHash, PasswordVerifier};
use refresh_rotation::wire::{
    self, AuthCall, CreateUserPoolClientRequest, DeleteUserPoolClientRequest,
    DescribeUserPoolClientRequest, GetTokensFromRefreshTokenRequest,
    GetTokensFromRefreshTokenResponse, ListUserPoolClientsRequest, Operation, RevokeTokenRequest,
    RevokeTokenResponse, SensitiveString, UpdateUserPoolClientRequest,
    UserPoolClientOperations as _, MAX_REQUEST_BYTES,
};
use refresh_rotation::{
    ClientRegistry, Error, RefreshTokenKey, RefreshTokenKeys, ReusePolicy, TokenIssuer,
};

/// The content type of AWS JSON 1.1 (R-WIRE-3).
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
/// At most this many user pools by default, so that a loop in a test cannot eat the machine.
pub const MAX_POOLS: usize = 1_000;
/// At most this many requests in flight by default; more are answered 503 at once.
pub const MAX_IN_FLIGHT: usize = 64;
/// Default time a client has to send a request's headers, and how long a kept-alive connection may idle.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a client has to send a request's body once its headers have arrived.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time a call to the database may go unanswered in PostgreSQL mode (`--database-timeout`):
/// then the request is answered as an outage.
pub const DATABASE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time a response may wait for a client to take its bytes: then the connection is closed.
pub const WRITE_STALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time the connections still open at shutdown have to finish: then they are closed.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// Size of the RSA keys generated for RS256 pools: Cognito's.
pub const RSA_BITS: usize = 2048;
/// Largest `--signing-keys` file read; a few PEM keys take a few KiB.
pub const MAX_KEY_FILE_BYTES: u64 = 1024 * 1024;
/// At most this many users per pool.
pub const MAX_USERS_PER_POOL: usize = 100_000;

/// How the service is configured.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The region in pool ids and issuer URLs. Defaults to `us-east-1`.
    pub region: String,
    /// Whether the clock moves only through `POST /_clock` (R-SRV-3). Defaults to `false`.
    pub manual_clock: bool,
    /// What happens on refresh-token reuse (R-ROT-4). Defaults to [`ReusePolicy::Reject`].
    pub reuse_policy: ReusePolicy,
    /// PBKDF2 rounds per password hash. Defaults to [`PasswordHash::DEFAULT_ITERATIONS`]; tests lower
    /// it to keep debug builds fast.
    pub pbkdf2_iterations: u32,
    /// Where each new pool's signing keys come from (R-SRV-5). Defaults to fresh RSA-2048 keys, RS256.
    pub signing: Signing,
    /// At most this many user pools; CreateUserPool beyond it is LimitExceededException, decided before
    /// any key is generated. Defaults to [`MAX_POOLS`].
    pub max_pools: usize,
    /// At most this many requests in flight (at least 1); the next is answered 503 at once, never
    /// queued. Defaults to [`MAX_IN_FLIGHT`].
    pub max_in_flight: usize,
    /// Time a client has to send a request's headers; also closes a kept-alive connection idle for that
    /// long. Defaults to [`HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
    /// Time a client has to send a request's body once its headers arrived; then 408. Defaults to
    /// [`BODY_READ_TIMEOUT`].
    pub body_read_timeout: Duration,
    /// Time a response may wait for a client that does not read it (its socket buffers full); then the
    /// connection is closed. Defaults to [`WRITE_STALL_TIMEOUT`].
    pub write_stall_timeout: Duration,
    /// Time the connections open at shutdown have to finish their request; then they are closed, so a
    /// client that stopped reading cannot hold the shutdown. Defaults to [`SHUTDOWN_GRACE`].
    pub shutdown_grace: Duration,
    /// Whether `POST /oauth2/introspect` is served (R-SRV-7, R-OAUTH-7). Defaults to `false`.
    pub introspection: bool,
    /// With `--metrics`: the Prometheus exporter's handle, rendered at `GET /metrics` (R-SRV-8).
    /// Defaults to none (no route).
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// With `--database-url`: pools, users, app clients, families and keys in this PostgreSQL database
    /// (R-SRV-6), shared with every other instance started with the same URL (R-PER-4). Defaults to
    /// none: everything in memory.
    pub database_url: Option<String>,
    /// With `--database-url`: the key that seals what the database keeps secret (client secrets,
    /// signing keys, the refresh-token key). Defaults to none: generated at first start and kept in the
    /// database itself (see [`pg::SealingKey`]).
    pub sealing_key: Option<pg::SealingKey>,
    /// With `--database-url`: how long the start, and each connect, prepare or statement of the
    /// service's own connection, may go unanswered before it fails as an outage
    /// (`StoreError::Unavailable`), so that a database that accepts connections and never answers
    /// cannot hold requests, and their in-flight permits, for ever. The CPU work of a request (a
    /// password hash) is not counted. Defaults to [`DATABASE_TIMEOUT`].
    pub database_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            region: "us-east-1".into(),
            manual_clock: false,
            reuse_policy: ReusePolicy::Reject,
            pbkdf2_iterations: PasswordHash::DEFAULT_ITERATIONS,
            signing: Signing::default(),
            max_pools: MAX_POOLS,
            max_in_flight: MAX_IN_FLIGHT,
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
            write_stall_timeout: WRITE_STALL_TIMEOUT,
            shutdown_grace: SHUTDOWN_GRACE,
            introspection: false,
            metrics: None,
            database_url: None,
            sealing_key: None,
            database_timeout: DATABASE_TIMEOUT,
        }
    }
}

/// Where a new pool's signing keys come from (R-SRV-5).
#[derive(Debug, Clone)]
pub enum Signing {
    /// Two fresh keys per pool (ID tokens, access tokens): RSA-2048 for RS256 (the default, as
    /// Cognito), P-256 for ES256, Ed25519 for EdDSA.
    Generate(Algorithm),
    /// The same keys for every pool, as loaded by [`signing_keys_from_pem`] (`--signing-keys`).
    Keys {
        /// Signs ID tokens.
        id: Arc<SigningKey>,
        /// Signs access tokens.
        access: Arc<SigningKey>,
    },
}

impl Default for Signing {
    fn default() -> Self {
        Signing::Generate(Algorithm::RS256)
    }
}

impl Signing {
    /// The algorithm the pools' tokens are signed with.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Signing::Generate(alg) => *alg,
            Signing::Keys { id, .. } => id.algorithm(),
        }
    }
}

/// A fresh signing key. RS256 keys are RSA-2048, generated with the `rsa` crate (ring cannot generate
/// RSA keys) and handed to ring as PKCS#8: ring does all the signing. The `rsa` crate's timing advisory
/// (RUSTSEC-2023-0071) concerns its own private-key operations, which are never used here.
pub fn generate_signing_key(alg: Algorithm, kid: String) -> Result<SigningKey, Error> {
    match alg {
        Algorithm::RS256 => {
            use rsa::pkcs8::EncodePrivateKey as _;
            let failed = |_| Error::Internal {
                detail: "RSA key generation failed",
            };
            let key =
                rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS).map_err(failed)?;
            // A zeroizing document: the private key's DER is wiped when it drops.
            let der = key.to_pkcs8_der().map_err(|_| Error::Internal {
                detail: "RSA key encoding failed",
            })?;
            SigningKey::from_pkcs8_der(alg, kid, der.as_bytes())
        }
        other => SigningKey::generate(other, kid),
    }
}

/// The keys of a `--signing-keys` file: PEM text with one or two unencrypted private keys of algorithm
/// `alg` (`-----BEGIN PRIVATE KEY-----`, PKCS#8; for RS256 also `-----BEGIN RSA PRIVATE KEY-----`,
/// PKCS#1). The first signs ID tokens, the second access tokens; a single key signs both. Text outside
/// the blocks (comments) is ignored. Each key's kid is derived from its public key
/// (`<alg>-<16 hex digits of SHA-256>`), so it is the same on every start with the same file.
///
/// The error says which key is wrong and how, never showing key material.
pub fn signing_keys_from_pem(alg: Algorithm, text: &str) -> Result<Signing, String> {
    let blocks = pem_blocks(text);
    let keys = match blocks.len() {
        0 => {
            return Err(
                "no PEM key found; expected one or two '-----BEGIN PRIVATE KEY-----' blocks \
                 (unencrypted PKCS#8, e.g. from `openssl genpkey -algorithm RSA -pkeyopt \
                 rsa_keygen_bits:2048`)"
                    .into(),
            )
        }
        1 | 2 => blocks
            .iter()
            .enumerate()
            .map(|(i, pem)| load_key(alg, i + 1, pem))
            .collect::<Result<Vec<_>, _>>()?,
        n => {
            return Err(format!(
                "{n} PEM blocks found; expected one key (for both token types) or two \
                 (ID tokens first, then access tokens)"
            ))
        }
    };
    let id = Arc::clone(&keys[0]);
    let access = Arc::clone(keys.last().unwrap_or(&keys[0]));
    Ok(Signing::Keys { id, access })
}

/// [`signing_keys_from_pem`] on the file at `path` (at most [`MAX_KEY_FILE_BYTES`]). The error names the
/// file and says what is wrong with it.
pub fn signing_keys_from_file(alg: Algorithm, path: &std::path::Path) -> Result<Signing, String> {
    use std::io::Read as _;
    let shown = path.display();
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_KEY_FILE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("--signing-keys {shown}: cannot read it: {e}"))?;
    if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
        return Err(format!(
            "--signing-keys {shown}: larger than {MAX_KEY_FILE_BYTES} bytes; a key file holds one or \
             two PEM keys"
        ));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("--signing-keys {shown}: not text; expected PEM"))?;
    signing_keys_from_pem(alg, &text).map_err(|e| format!("--signing-keys {shown}: {e}"))
}

/// The PEM blocks of `text`, each from its `-----BEGIN ` line to the end of its `-----END ...-----` line.
fn pem_blocks(text: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let from_begin = rest.get(start..).unwrap_or_default();
        let Some(end) = from_begin.find("-----END ") else {
            // An unterminated block: hand it over as is, so the key parser says what is wrong.
            blocks.push(from_begin);
            break;
        };
        let after_end = from_begin
            .get(end + "-----END ".len()..)
            .unwrap_or_default();
        let close = after_end
            .find("-----")
            .map_or(after_end.len(), |i| i + "-----".len());
        let len = end + "-----END ".len() + close;
        blocks.push(from_begin.get(..len).unwrap_or(from_begin));
        rest = from_begin.get(len..).unwrap_or_default();
    }
    blocks
}

fn load_key(alg: Algorithm, n: usize, pem: &str) -> Result<Arc<SigningKey>, String> {
    let explain = |e: Error| {
        let hint = match alg {
            Algorithm::RS256 => {
                "an RSA key of 2048 to 4096 bits; for a P-256 or Ed25519 key pass --algorithm es256 or eddsa"
            }
            Algorithm::ES256 => {
                "a P-256 key; for an RSA or Ed25519 key pass --algorithm rs256 or eddsa"
            }
            Algorithm::EdDSA => {
                "an Ed25519 key; for an RSA or P-256 key pass --algorithm rs256 or es256"
            }
        };
        let detail = match e {
            // The key's messages name it by kid; the probe's placeholder kid means nothing to a user.
            Error::InvalidParameter { message } => message
                .strip_prefix("signing key probe: ")
                .map_or_else(|| message.clone(), str::to_owned),
            other => other.to_string(),
        };
        format!(
            "key {n}: {detail}; with --algorithm {} it must be {hint}",
            alg.as_str().to_ascii_lowercase()
        )
    };
    // Parsed once under a placeholder kid to learn the public key, then again under the derived kid.
    let probe = SigningKey::from_pkcs8_pem(alg, "probe", pem).map_err(explain)?;
    let mut jwk = probe.public_jwk().clone();
    jwk.kid = None;
    let public = serde_json::to_vec(&jwk)
        .map_err(|e| format!("key {n}: cannot encode its public key: {e}"))?;
    let digest = ring::digest::digest(&ring::digest::SHA256, &public);
    let hex: String = digest
        .as_ref()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let kid = format!("{}-{hex}", alg.as_str().to_ascii_lowercase());
    SigningKey::from_pkcs8_pem(alg, kid, pem)
        .map(Arc::new)
        .map_err(explain)
}

/// One user pool: an issuer and what the host keeps beside it.
struct Pool {
    id: String,
    name: String,
    created: Timestamp,
    device_configuration: Option<DeviceConfiguration>,
    issuer: TokenIssuer,
    directory: Arc<InMemoryUserDirectory>,
    /// Password hashes by subject. The lock also serialises the user admin operations of this pool.
    passwords: Mutex<HashMap<String, PasswordHash>>,
    /// Verified against when the user does not exist, so that a miss costs what a wrong password costs.
    dummy_hash: PasswordHash,
}

impl PasswordVerifier for Pool {
    fn check_password(&self, username: &str, password: &str) -> Result<PasswordCheck, Error> {
        let user = self.directory.user_by_username(username)?;
        let hash = user
            .as_ref()
            .and_then(|u| lock(&self.passwords).get(&u.subject).cloned());
        Ok(match (user, hash) {
            (None, _) => {
                let _ = self.dummy_hash.verify(password);
                PasswordCheck::NoSuchUser
            }
            // A user without a permanent password cannot sign in: this service issues no
            // NEW_PASSWORD_REQUIRED challenge.
            (Some(_), None) => {
                let _ = self.dummy_hash.verify(password);
                PasswordCheck::Invalid
            }
            (Some(_), Some(h)) if h.verify(password) => PasswordCheck::Valid,
            (Some(_), Some(_)) => PasswordCheck::Invalid,
        })
    }
}

/// The operation an InitiateAuth call is counted as: the legacy refresh, or a sign-in.
pub(crate) fn auth_operation(call: &AuthCall) -> Counted {
    if call.is_refresh() {
        Counted::LegacyRefresh
    } else {
        Counted::SignIn
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the maps half-written (each change is one insert or
    // remove), so a poisoned lock is still safe to use.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The service's state: its configuration, clock and pools.
pub struct AppState {
    config: ServerConfig,
    clock: Arc<dyn Clock>,
    manual: Option<Arc<ManualClock>>,
    rng: Arc<SystemRandom>,
    pools: RwLock<BTreeMap<String, Arc<Pool>>>,
    /// Pools created or being created: a slot is taken before the keys are generated (R-SRV-9).
    pool_slots: AtomicUsize,
    /// Signing keys generated so far, for tests of R-SRV-9.
    keys_generated: AtomicUsize,
    /// One permit per request in flight (R-SRV-9).
    in_flight: Arc<Semaphore>,
    /// The listener's address once it is bound: the discovery documents name the endpoints on it, or,
    /// bound to every interface, on the address the client used (see [`base_url`]).
    bound: OnceLock<SocketAddr>,
    /// With `--database-url`: the PostgreSQL backend, which then serves every pool instead of `pools`.
    pg: Option<pg::PgBackend>,
    /// The registry of no pool (its id matches no well-formed one). A client operation that names a
    /// pool this service does not have runs on it: the library judges the request against the API
    /// model first and only then finds the pool missing, so a malformed request is refused as such
    /// rather than as ResourceNotFoundException (R-CFG-1, R-CFG-2 before R-CLI-5).
    nowhere: ClientRegistry,
}

impl AppState {
    /// A service with no pools.
    pub fn new(config: ServerConfig) -> Self {
        let manual = config
            .manual_clock
            .then(|| Arc::new(ManualClock::starting_now()));
        let clock: Arc<dyn Clock> = match &manual {
            Some(m) => m.clone(),
            None => Arc::new(SystemClock),
        };
        let nowhere = ClientRegistry::new("-", clock.clone(), Arc::new(SystemRandom::new()));
        AppState {
            clock,
            manual,
            rng: Arc::new(SystemRandom::new()),
            pools: RwLock::new(BTreeMap::new()),
            pool_slots: AtomicUsize::new(0),
            keys_generated: AtomicUsize::new(0),
            in_flight: Arc::new(Semaphore::new(config.max_in_flight.max(1))),
            bound: OnceLock::new(),
            pg: None,
            nowhere,
            config,
        }
    }

    /// [`AppState::new`], connected to the database of [`ServerConfig::database_url`] if there is one
    /// (its tables created if missing).
    pub async fn connect(config: ServerConfig) -> std::io::Result<Self> {
        let mut state = AppState::new(config);
        if let Some(url) = state.config.database_url.clone() {
            let limit = state.config.database_timeout;
            let backend = tokio::time::timeout(limit, pg::PgBackend::connect(&url, &state))
                .await
                .map_err(|_| {
                    io::Error::other(format!(
                        "--database-url: the database did not answer within {} s",
                        limit.as_secs()
                    ))
                })??;
            state.pg = Some(backend);
        }
        Ok(state)
    }

    /// How many signing keys the service has generated.
    pub fn keys_generated(&self) -> usize {
        self.keys_generated.load(Ordering::Relaxed)
    }

    /// Runs a client operation on the registry of the pool `id` names, or on [`nowhere`](Self::nowhere)
    /// when there is no such pool (or `id` is not a pool id), which refuses it in the library's order.
    fn with_registry<R>(
        &self,
        id: Option<&str>,
        operation: impl FnOnce(&ClientRegistry) -> Result<R, Error>,
    ) -> Result<R, Error> {
        match self.pool(id) {
            Ok(pool) => operation(pool.issuer.registry()),
            Err(Error::UserPoolNotFound { .. } | Error::InvalidParameter { .. }) => {
                operation(&self.nowhere)
            }
            Err(e) => Err(e),
        }
    }

    /// [`nowhere`](Self::nowhere), for the PostgreSQL backend's client operations.
    pub(crate) fn nowhere(&self) -> &ClientRegistry {
        &self.nowhere
    }

    fn pool(&self, id: Option<&str>) -> Result<Arc<Pool>, Error> {
        let id = wire::user_pool_id(id)?;
        self.pools
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
            .ok_or_else(|| Error::UserPoolNotFound {
                user_pool_id: id.to_owned(),
            })
    }

    /// The pool that has this app client (InitiateAuth, GetTokensFromRefreshToken and RevokeToken name
    /// only the client). A request no pool can take is traced and counted as `operation`, as the issuer
    /// would have (R-OPS-1, R-OPS-2).
    fn pool_of_client(&self, client_id: &str, operation: Counted) -> Result<Arc<Pool>, Error> {
        self.find_pool_of_client(client_id)
            .inspect_err(|e| telemetry::record_refusal(operation, Some(client_id), e))
    }

    fn find_pool_of_client(&self, client_id: &str) -> Result<Arc<Pool>, Error> {
        // Copied out of the lock first: a store failure is reported, not taken for "no such client".
        let pools: Vec<Arc<Pool>> = self
            .pools
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for pool in pools {
            if pool.issuer.registry().get(client_id)?.is_some() {
                return Ok(pool);
            }
        }
        Err(Error::ClientNotFound {
            client_id: client_id.to_owned(),
        })
    }
}

/// The router: `POST /` for every operation, the JWKS route, the OAuth 2.0 routes (R-SRV-7), and
/// `POST /_clock` with a manual clock; every route behind the cap on requests in flight.
pub fn router(state: Arc<AppState>) -> Router {
    let mut app = Router::new()
        // Another method on `/` is answered in the operations' error shape, as an unknown route is.
        .route("/", post(dispatch).fallback(method_not_allowed))
        .route("/{pool}/.well-known/jwks.json", get(jwks))
        .route(
            "/{pool}/.well-known/openid-configuration",
            get(openid_configuration),
        )
        // Every method reaches the adapter, which answers anything but POST with its own 405
        // (`invalid_request`, `Allow: POST`, uncacheable; R-OAUTH-1, R-OAUTH-3).
        .route("/oauth2/token", any(oauth_token))
        .route("/oauth2/revoke", any(oauth_revoke));
    if state.config.introspection {
        app = app.route("/oauth2/introspect", any(oauth_introspect));
    }
    if state.manual.is_some() {
        app = app.route("/_clock", post(advance_clock));
    }
    if state.config.metrics.is_some() {
        app = app.route("/metrics", get(metrics));
    }
    app.fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            limit_in_flight,
        ))
        .with_state(state)
}

tokio::task_local! {
    /// The in-flight permit of the request this task is serving (see [`spawn_counted`]).
    static IN_FLIGHT: Arc<OwnedSemaphorePermit>;
}

/// `spawn_blocking` for a request's work: the work holds the request's in-flight permit until it ends.
/// A caller that hangs up drops its request's future, and with it the middleware's hold on the permit,
/// but not the blocking work it started (a password hash, a key generation): without this, callers that
/// send and hang up could start any number of them past the limit.
pub(crate) fn spawn_counted<R: Send + 'static>(
    work: impl FnOnce() -> R + Send + 'static,
) -> JoinHandle<R> {
    let permit = IN_FLIGHT.try_with(Arc::clone).ok();
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        work()
    })
}

/// Runs the request if a permit is free, else answers 503 at once: excess load is shed, never queued
/// (a queue would only grow while the service is slower than its callers). The permit is held until the
/// response is built, so it also covers reading the body, and by blocking work the request started
/// until that work ends ([`spawn_counted`]).
async fn limit_in_flight(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let Ok(permit) = state.in_flight.clone().try_acquire_owned() else {
        let limit = state.config.max_in_flight.max(1);
        // The OAuth endpoints answer in their own error shape (R-OAUTH-3).
        if req.uri().path().starts_with("/oauth2/") {
            let mut resp = from_oauth(
                OAuthError::temporarily_unavailable(format!(
                    "The service is at its limit of {limit} requests in flight; retry later."
                ))
                .to_response(),
            );
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return resp;
        }
        // Not an `Error` of the crate: this is the service's own limit, not an operation's outcome.
        let body = serde_json::json!({
            "__type": "TooManyRequestsException",
            "message": format!(
                "The service is at its limit of {limit} requests in flight; retry later."
            ),
        });
        let mut resp = json_response(StatusCode::SERVICE_UNAVAILABLE, body.to_string());
        let h = resp.headers_mut();
        h.insert(
            "x-amzn-errortype",
            HeaderValue::from_static("TooManyRequestsException"),
        );
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return resp;
    };
    run_counted(Arc::new(permit), next.run(req)).await
}

/// Runs a request's future with its in-flight permit, which blocking work it starts shares.
pub(crate) async fn run_counted<F: Future>(
    permit: Arc<OwnedSemaphorePermit>,
    request: F,
) -> F::Output {
    IN_FLIGHT.scope(permit, request).await
}

/// A service started with [`start`].
pub struct RunningServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// How many signing keys it has generated (two per pool without `--signing-keys`).
    pub fn keys_generated(&self) -> usize {
        self.state.keys_generated()
    }

    /// `http://<addr>`, for an SDK's `endpoint_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets requests in flight finish within
    /// [`ServerConfig::shutdown_grace`] (then closes the connections left), and waits for the server
    /// to end.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(());
        self.task
            .await
            .map_err(|e| std::io::Error::other(format!("server task failed: {e}")))?
    }
}

/// Binds `listen` (port 0 picks a free port) and serves in a background task until
/// [`RunningServer::stop`].
pub async fn start(config: ServerConfig, listen: SocketAddr) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let state = Arc::new(AppState::connect(config).await?);
    let task = tokio::spawn(serve_state(listener, state.clone(), async {
        let _ = rx.await;
    }));
    Ok(RunningServer {
        addr,
        state,
        shutdown: tx,
        task,
    })
}

/// Serves on `listener` until `shutdown` completes, then finishes the requests in flight within
/// [`ServerConfig::shutdown_grace`] and closes the connections left.
pub async fn serve(
    listener: TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_state(
        listener,
        Arc::new(AppState::connect(config).await?),
        shutdown,
    )
    .await
}

/// [`serve`] with a state already made (and connected) by [`AppState::connect`].
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_state(listener, Arc::new(state), shutdown).await
}

/// The accept loop. Not `axum::serve`, which gives hyper no timer, so that hyper's header read timeout
/// never fires: a client could hold a connection open forever by sending its headers a byte at a time.
async fn serve_state(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        let _ = state.bound.set(addr);
    }
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(state.config.header_read_timeout);
    let (write_stall, grace) = (
        state.config.write_stall_timeout,
        state.config.shutdown_grace,
    );
    let app = router(state);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) if is_per_connection(&e) => continue,
                // Out of file descriptors and the like: wait instead of spinning on the error.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let stream = StallGuard::new(stream, write_stall);
        let conn =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let mut stop = stop_rx.clone();
        connections.spawn(async move {
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = async { let _ = stop.wait_for(|s| *s).await; } => {
                    // Finish the request in flight, if any, then close (or be closed, after the
                    // shutdown grace).
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
        // Reap finished connections so the set does not grow with every connection ever served.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // The requests in flight finish, within the grace; what is left then is closed.
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drained).await.is_err() {
        connections.shutdown().await;
    }
    Ok(())
}

/// A connection's socket whose writes may not stall: a write or flush that cannot go on (the client
/// does not read, its buffers and ours are full) for longer than `limit` fails with `TimedOut`, and
/// hyper closes the connection. Without it a client could pipeline requests, never read the answers,
/// and hold the connection (and the service's shutdown) for as long as it liked: the read timeouts
/// only run while hyper waits for a request.
struct StallGuard<S> {
    inner: S,
    limit: Duration,
    /// Armed when a write first found the socket full; cleared by any write that goes through.
    stalled: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S> StallGuard<S> {
    fn new(inner: S, limit: Duration) -> Self {
        StallGuard {
            inner,
            limit,
            stalled: None,
        }
    }

    /// A write's outcome: one that went through ends the stall; one that could not go on is pending
    /// until the stall has lasted `limit`, then an error.
    fn settle<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client did not read the response in time",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for StallGuard<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for StallGuard<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.settle(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.settle(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_flush(cx);
        self.settle(cx, polled)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let polled = Pin::new(&mut self.inner).poll_shutdown(cx);
        self.settle(cx, polled)
    }
}

/// Accept errors that concern one connection only (it was reset before we took it).
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind as K;
    matches!(
        e.kind(),
        K::ConnectionRefused | K::ConnectionAborted | K::ConnectionReset
    )
}

// ------------------------------------------------------------------------------------------ rendering

fn json_response(status: StatusCode, body: String) -> Response {
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    resp
}

fn render(result: Result<String, Error>) -> Response {
    match result {
        Ok(body) => json_response(StatusCode::OK, body),
        Err(e) => error_response(&e, None),
    }
}

/// The R-WIRE-2 body with the error's own status, or `status` where HTTP has a better one (404, 413).
/// The pool id of a JWKS or discovery path. A path segment that is not UTF-8 names no pool, and is
/// answered as one, in the service's JSON error shape (R-WIRE-2), not the router's plain text.
fn pool_in_path(pool: Result<Path<String>, PathRejection>) -> Result<String, Error> {
    pool.map(|Path(pool)| pool)
        .map_err(|_| Error::InvalidParameter {
            message: "The path names no user pool.".into(),
        })
}

/// The answer of a pool's JWKS or discovery document that cannot be served: 404 for a pool that does
/// not exist (or a path that names none), the error's own status otherwise. A verifier may take a 404
/// for a pool that is gone; a database outage must not look like one.
pub(crate) fn pool_document_error(e: &Error) -> Response {
    match e {
        Error::UserPoolNotFound { .. } | Error::InvalidParameter { .. } => {
            error_response(e, Some(StatusCode::NOT_FOUND))
        }
        _ => error_response(e, None),
    }
}

fn error_response(e: &Error, status: Option<StatusCode>) -> Response {
    let status = status.unwrap_or_else(|| {
        StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    });
    let mut resp = json_response(status, e.to_wire_body());
    if let Ok(v) = HeaderValue::from_str(e.exception_name()) {
        resp.headers_mut().insert("x-amzn-errortype", v);
    }
    resp
}

async fn method_not_allowed() -> Response {
    let mut resp = error_response(
        &Error::UnknownOperation {
            message: "Use POST: operations are POST / with an X-Amz-Target header.".into(),
        },
        Some(StatusCode::METHOD_NOT_ALLOWED),
    );
    resp.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("POST"));
    resp
}

async fn not_found() -> Response {
    error_response(
        &Error::UnknownOperation {
            message: "No such route: operations are POST / with an X-Amz-Target header.".into(),
        },
        Some(StatusCode::NOT_FOUND),
    )
}

// ------------------------------------------------------------------------------------------ routes

/// Reads at most [`MAX_REQUEST_BYTES`]: a declared length above it is refused before any byte is read,
/// and a body that grows past it is refused as soon as it does. A body that takes longer than `timeout`
/// to arrive is answered 408 and the connection closed.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    timeout: Duration,
) -> Result<axum::body::Bytes, Response> {
    let too_large = || {
        error_response(
            &Error::InvalidParameter {
                message: format!("The request body exceeds {MAX_REQUEST_BYTES} bytes."),
            },
            Some(StatusCode::PAYLOAD_TOO_LARGE),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_REQUEST_BYTES as u64) {
        return Err(too_large());
    }
    match tokio::time::timeout(timeout, to_bytes(body, MAX_REQUEST_BYTES)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) if over_limit(&e) => Err(too_large()),
        // A body that breaks off or is malformed (bad chunked encoding) is not a large one.
        Ok(Err(_)) => {
            let mut resp = error_response(
                &Error::InvalidParameter {
                    message: "The request body could not be read.".into(),
                },
                Some(StatusCode::BAD_REQUEST),
            );
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(resp)
        }
        Err(_) => {
            let mut resp = error_response(
                &Error::InvalidParameter {
                    message: format!(
                        "The request body was not received within {} ms.",
                        timeout.as_millis()
                    ),
                },
                Some(StatusCode::REQUEST_TIMEOUT),
            );
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(resp)
        }
    }
}

/// Whether a refresh's two signatures take tens of microseconds (ES256, EdDSA) rather than milliseconds
/// (RS256). Such a refresh runs on the I/O thread: the hand-off to the blocking pool and back (two thread
/// wake-ups) cost about as much as the refresh itself, 28 of the service's 91 CPU microseconds per ES256
/// refresh in `service_report`. RS256 refreshes and the PBKDF2 of sign-ins stay off the I/O threads.
fn signs_fast(state: &AppState) -> bool {
    // Only the in-memory backend: with a database the synchronous handlers would block an I/O thread.
    state.pg.is_none() && state.config.signing.algorithm() != Algorithm::RS256
}

async fn dispatch(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let target = headers
        .get("x-amz-target")
        .map(|v| v.to_str().unwrap_or("<non-ASCII X-Amz-Target>"));
    // Two targets would be read differently by whatever reads the first or the last (a proxy, a log):
    // refused, as a JSON key given twice is (R-WIRE-3).
    let op = if headers.get_all("x-amz-target").iter().nth(1).is_some() {
        Err(Error::UnknownOperation {
            message: "More than one X-Amz-Target header: send exactly one.".into(),
        })
    } else {
        Operation::from_target(target)
    };
    let op = match op {
        Ok(op) => op,
        Err(e) => {
            let mut resp = error_response(&e, None);
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return resp;
        }
    };
    let mut resp = match read_body(&headers, body, state.config.body_read_timeout).await {
        Ok(bytes) if state.pg.is_some() => {
            // The database path awaits its stores; only password hashing leaves the I/O threads.
            render(pg::handle(&state, op, &bytes).await)
        }
        Ok(bytes) => {
            // The handlers are synchronous and a password hash takes a while: keep them off the I/O
            // threads. Except a refresh whose signatures are cheap (see `signs_fast`).
            let result = if op == Operation::GetTokensFromRefreshToken && signs_fast(&state) {
                Ok(handle(&state, op, &bytes))
            } else {
                spawn_counted(move || handle(&state, op, &bytes)).await
            };
            match result {
                Ok(result) => render(result),
                Err(_) => render(Err(Error::Internal {
                    detail: "handler panicked",
                })),
            }
        }
        Err(resp) => resp,
    };
    // Operations answer with tokens (sign-in, refresh) and client secrets (Create/Describe/Update
    // UserPoolClient): no cache on the way may keep them (R-SRV-9, RFC 6749 §5.1).
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// `GET /metrics` (R-SRV-8): the metrics of SPEC 15 in the Prometheus text format.
async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let Some(handle) = &state.config.metrics else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut resp = (StatusCode::OK, handle.render()).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}

async fn jwks(
    State(state): State<Arc<AppState>>,
    pool: Result<Path<String>, PathRejection>,
) -> Response {
    let pool = match pool_in_path(pool) {
        Ok(pool) => pool,
        Err(e) => return pool_document_error(&e),
    };
    let jwks = match &state.pg {
        Some(pg) => pg.pool(&state, Some(&pool)).await.map(|p| p.jwks_json()),
        None => state
            .pool(Some(&pool))
            .map(|p| p.issuer.signer().jwks_json()),
    };
    match jwks {
        Ok(jwks) => {
            let mut resp = (StatusCode::OK, jwks).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(e) => pool_document_error(&e),
    }
}

// ------------------------------------------------------------------------------- OAuth 2.0 (R-SRV-7)

/// The crate's framework-agnostic response as an axum response.
/// Whether reading a body failed because it grew past the limit, rather than because it broke off or
/// was malformed.
fn over_limit(e: &axum::Error) -> bool {
    std::error::Error::source(e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>())
}

fn from_oauth(resp: OAuthResponse) -> Response {
    let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let empty = resp.body.is_empty();
    let mut out = (status, resp.body).into_response();
    if empty {
        // An empty answer (a revocation's 200) has no content to type; axum would say octet-stream.
        out.headers_mut().remove(header::CONTENT_TYPE);
    }
    for (name, value) in resp.headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            out.headers_mut().insert(name, v);
        }
    }
    out
}

/// Which OAuth endpoint a request is for.
#[derive(Clone, Copy)]
enum OAuthEndpoint {
    Token,
    Revoke,
    Introspect,
}

/// One OAuth endpoint: the body read within the service's bounds (at most the adapter's own limit,
/// R-SAFE-1, R-SRV-9), parsed by the crate, routed to the pool that has the client, answered by that
/// pool's issuer and rendered by the crate. Every pool is served from the same routes: the client id
/// finds the pool.
async fn oauth_endpoint(
    state: Arc<AppState>,
    endpoint: OAuthEndpoint,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let too_large = || {
        let mut resp = from_oauth(
            OAuthError::invalid_request(format!(
                "The request body is larger than {} bytes.",
                oauth::MAX_FORM_BYTES
            ))
            .to_response(),
        );
        resp.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        resp
    };
    // A declared length over the limit is refused before any byte is read (R-SAFE-1), as `POST /`
    // refuses its own: no `100 Continue` for an upload that would be refused anyway.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > oauth::MAX_FORM_BYTES as u64) {
        return too_large();
    }
    let read = tokio::time::timeout(
        state.config.body_read_timeout,
        to_bytes(body, oauth::MAX_FORM_BYTES),
    )
    .await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) if over_limit(&e) => return too_large(),
        Ok(Err(_)) => {
            let mut resp = from_oauth(
                OAuthError::invalid_request("The request body could not be read.").to_response(),
            );
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return resp;
        }
        Err(_) => {
            let mut resp = from_oauth(
                OAuthError::invalid_request("The request body was not received in time.")
                    .to_response(),
            );
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return resp;
        }
    };
    if state.pg.is_some() {
        let req = OAuthRequest::new(method.as_str(), &bytes)
            .headers(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
        return from_oauth(pg::oauth_handle(&state, endpoint, &req).await);
    }
    // The issuer's calls are synchronous (the store, RSA signing): keep them off the I/O threads,
    // except a token request whose signatures are cheap (see `signs_fast`).
    let fast = matches!(endpoint, OAuthEndpoint::Token) && signs_fast(&state);
    let work = move || {
        let req = OAuthRequest::new(method.as_str(), &bytes)
            .headers(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
        oauth_handle(&state, endpoint, &req)
    };
    let handled = if fast {
        Ok(work())
    } else {
        spawn_counted(work).await
    };
    from_oauth(handled.unwrap_or_else(|_| OAuthError::server_error().to_response()))
}

fn oauth_handle(
    state: &AppState,
    endpoint: OAuthEndpoint,
    req: &OAuthRequest<'_>,
) -> OAuthResponse {
    match endpoint {
        OAuthEndpoint::Token => match oauth::TokenRequest::parse(req) {
            Ok(r) => r.respond(
                state
                    .pool_of_client(r.client_id().as_str(), Counted::Refresh)
                    .and_then(|pool| {
                        pool.issuer
                            .get_tokens_from_refresh_token(&r.refresh_request())
                    }),
            ),
            Err(e) => e.to_response(),
        },
        OAuthEndpoint::Revoke => match oauth::RevocationRequest::parse(req) {
            Ok(r) => r.respond(
                state
                    .pool_of_client(r.client_id().as_str(), Counted::Revoke)
                    .and_then(|pool| {
                        pool.issuer
                            .revoke_token(r.token(), r.client_id(), r.client_secret())
                    }),
            ),
            Err(e) => e.to_response(),
        },
        OAuthEndpoint::Introspect => match oauth::IntrospectionRequest::parse(req) {
            Ok(r) => r.respond(
                state
                    .pool_of_client(r.client_id().as_str(), Counted::Introspect)
                    .and_then(|pool| {
                        pool.issuer
                            .introspect(r.expose_token(), r.client_id(), r.client_secret())
                    }),
            ),
            Err(e) => e.to_response(),
        },
    }
}

/// `POST /oauth2/token` (R-OAUTH-1 to R-OAUTH-4).
async fn oauth_token(
    State(state): State<Arc<AppState>>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    oauth_endpoint(state, OAuthEndpoint::Token, method, headers, body).await
}

/// `POST /oauth2/revoke` (R-OAUTH-5).
async fn oauth_revoke(
    State(state): State<Arc<AppState>>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    oauth_endpoint(state, OAuthEndpoint::Revoke, method, headers, body).await
}

/// `POST /oauth2/introspect` (R-OAUTH-7), with `--introspection` only.
async fn oauth_introspect(
    State(state): State<Arc<AppState>>,
    method: axum::http::Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    oauth_endpoint(state, OAuthEndpoint::Introspect, method, headers, body).await
}

/// The service's address as a client can use it, `http://<host:port>`: the listener's, unless it is
/// bound to every interface (`0.0.0.0`, `[::]`), an address no client can connect to; then the `Host`
/// the request was sent to, if it is a plain `host[:port]` (R-SRV-7).
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let Some(bound) = state.bound.get() else {
        return String::new();
    };
    if bound.ip().is_unspecified() {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.len() <= 255
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            });
        if let Some(host) = host {
            return format!("http://{host}");
        }
    }
    format!("http://{bound}")
}

/// `GET /<userPoolId>/.well-known/openid-configuration` (R-OAUTH-6): the endpoints as absolute URLs on
/// the service's own address. On an unspecified address that address is the request's `Host`, so every
/// answer says `Vary: Host`: a shared cache must not hand one host's document to another's clients.
async fn openid_configuration(
    State(state): State<Arc<AppState>>,
    pool: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    let mut response = openid_document(&state, pool, &headers).await;
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("host"));
    response
}

/// The answer of [`openid_configuration`], without its `Vary`.
async fn openid_document(
    state: &Arc<AppState>,
    pool: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
) -> Response {
    let pool = match pool_in_path(pool) {
        Ok(pool) => pool,
        Err(e) => return pool_document_error(&e),
    };
    let base = &base_url(state, headers);
    let endpoints = |id: &str| {
        let endpoints = oauth::Endpoints::at(base, id);
        if state.config.introspection {
            endpoints.with_introspection(format!("{base}/oauth2/introspect"))
        } else {
            endpoints
        }
    };
    if let Some(pg) = &state.pg {
        return match pg.pool(state, Some(&pool)).await {
            Ok(p) => from_oauth(oauth::discovery_document(
                p.issuer.engine(),
                &endpoints(&p.id),
            )),
            Err(e) => pool_document_error(&e),
        };
    }
    let pool = match state.pool(Some(&pool)) {
        Ok(p) => p,
        Err(e) => return pool_document_error(&e),
    };
    from_oauth(oauth::discovery_endpoint(
        &pool.issuer,
        &endpoints(&pool.id),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct AdvanceClock {
    advance_seconds: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ClockNow {
    now: i64,
}

/// `POST /_clock {"AdvanceSeconds": n}` → `{"Now": <epoch seconds>}` (R-SRV-3).
async fn advance_clock(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let bytes = match read_body(&headers, body, state.config.body_read_timeout).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    render((|| {
        let req: AdvanceClock = wire::from_json(&bytes)?;
        let clock = state.manual.as_ref().ok_or(Error::Internal {
            detail: "the clock route exists only with a manual clock",
        })?;
        let now = clock.advance(req.advance_seconds).unix_seconds();
        wire::to_json(&ClockNow { now })
    })())
}

// ------------------------------------------------------------------------------------------ operations

fn handle(state: &AppState, op: Operation, body: &[u8]) -> Result<String, Error> {
    use Operation as Op;
    match op {
        Op::CreateUserPool => create_user_pool(state, wire::from_json(body)?),
        Op::CreateUserPoolClient => {
            let req: CreateUserPoolClientRequest = wire::from_json(body)?;
            state.with_registry(req.user_pool_id.as_deref(), |r| {
                wire::to_json(&r.create_user_pool_client(&req)?)
            })
        }
        Op::DescribeUserPoolClient => {
            let req: DescribeUserPoolClientRequest = wire::from_json(body)?;
            state.with_registry(req.user_pool_id.as_deref(), |r| {
                wire::to_json(&r.describe_user_pool_client(&req)?)
            })
        }
        Op::UpdateUserPoolClient => {
            let req: UpdateUserPoolClientRequest = wire::from_json(body)?;
            state.with_registry(req.user_pool_id.as_deref(), |r| {
                wire::to_json(&r.update_user_pool_client(&req)?)
            })
        }
        Op::DeleteUserPoolClient => {
            let req: DeleteUserPoolClientRequest = wire::from_json(body)?;
            state.with_registry(req.user_pool_id.as_deref(), |r| {
                r.delete_user_pool_client(&req)?;
                Ok("{}".into())
            })
        }
        Op::ListUserPoolClients => {
            let req: ListUserPoolClientsRequest = wire::from_json(body)?;
            state.with_registry(req.user_pool_id.as_deref(), |r| {
                wire::to_json(&r.list_user_pool_clients(&req)?)
            })
        }
        Op::AdminCreateUser => admin_create_user(state, wire::from_json(body)?),
        Op::AdminSetUserPassword => admin_set_user_password(state, wire::from_json(body)?),
        Op::AdminDisableUser => set_enabled(state, wire::from_json(body)?, false),
        Op::AdminEnableUser => set_enabled(state, wire::from_json(body)?, true),
        Op::AdminDeleteUser => admin_delete_user(state, wire::from_json(body)?),
        Op::AdminUserGlobalSignOut => {
            let req: UserRef = wire::from_json(body)?;
            check_user_ref(req.user_pool_id.as_deref(), req.username.as_deref())?;
            let pool = state.pool(req.user_pool_id.as_deref())?;
            pool.issuer
                .global_sign_out_username(required("Username", req.username.as_deref())?)?;
            Ok("{}".into())
        }
        Op::AdminInitiateAuth => {
            let call = AuthCall::from_admin_initiate_auth(wire::from_json(body)?)?;
            let pool = state.pool(call.user_pool_id())?;
            wire::to_json(&pool.issuer.initiate_auth(&call, &*pool)?)
        }
        Op::InitiateAuth => {
            let call = AuthCall::from_initiate_auth(wire::from_json(body)?)?;
            let pool = state.pool_of_client(call.client_id().as_str(), auth_operation(&call))?;
            wire::to_json(&pool.issuer.initiate_auth(&call, &*pool)?)
        }
        Op::GetTokensFromRefreshToken => {
            let call = wire::from_json::<GetTokensFromRefreshTokenRequest>(body)?.into_call()?;
            let pool = state.pool_of_client(call.client_id().as_str(), Counted::Refresh)?;
            let result = pool
                .issuer
                .get_tokens_from_refresh_token(&call.as_request())?;
            wire::to_json(&GetTokensFromRefreshTokenResponse {
                authentication_result: result.into(),
            })
        }
        Op::RevokeToken => {
            let call = wire::from_json::<RevokeTokenRequest>(body)?.into_call()?;
            let pool = state.pool_of_client(call.client_id().as_str(), Counted::Revoke)?;
            pool.issuer
                .revoke_token(call.token(), call.client_id(), call.client_secret())?;
            wire::to_json(&RevokeTokenResponse {})
        }
        // `Operation` is non-exhaustive: an operation added to the crate later is not served here yet.
        _ => Err(Error::UnknownOperation {
            message: format!("Operation {} is not served.", op.name()),
        }),
    }
}

fn required<'a>(member: &str, value: Option<&'a str>) -> Result<&'a str, Error> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Error::InvalidParameter {
            message: format!("Missing required parameter {member}"),
        }),
    }
}

// ---------------------------------------------------------------------------------- user pools

/// `DeviceConfigurationType`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct DeviceConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    challenge_required_on_new_device: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device_only_remembered_on_user_prompt: Option<bool>,
}

/// `CreateUserPoolRequest`: only PoolName and DeviceConfiguration are served; any other member is
/// refused by name rather than ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct CreateUserPoolRequest {
    pool_name: Option<String>,
    #[serde(default)]
    device_configuration: Option<DeviceConfiguration>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UserPoolType<'a> {
    id: &'a str,
    name: &'a str,
    arn: String,
    creation_date: i64,
    last_modified_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    device_configuration: Option<&'a DeviceConfiguration>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateUserPoolResponse<'a> {
    user_pool: UserPoolType<'a>,
}

const POOL_ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Holds one of [`ServerConfig::max_pools`] slots until the pool is in the map; gives it back if
/// creation fails on the way.
struct PoolSlot<'a> {
    slots: &'a AtomicUsize,
    kept: bool,
}

impl<'a> PoolSlot<'a> {
    fn take(slots: &'a AtomicUsize, max: usize) -> Result<Self, Error> {
        slots
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .map(|_| PoolSlot { slots, kept: false })
            .map_err(|_| Error::LimitExceeded {
                message: format!("At most {max} user pools can be created."),
            })
    }
}

impl Drop for PoolSlot<'_> {
    fn drop(&mut self) {
        if !self.kept {
            self.slots.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// A fresh pool id: the region, `_`, and 9 characters of [A-Za-z0-9].
fn new_pool_id(state: &AppState) -> Result<String, Error> {
    // An identifier, not a secret, so the slight modulo bias is harmless.
    let mut raw = [0u8; 9];
    state.rng.fill(&mut raw)?;
    let suffix: String = raw
        .iter()
        .map(|b| POOL_ID_ALPHABET[usize::from(*b) % POOL_ID_ALPHABET.len()] as char)
        .collect();
    Ok(format!("{}_{suffix}", state.config.region))
}

/// A fresh key id for a generated signing key: `<use>-<16 hex digits>`.
fn new_kid(state: &AppState, use_: &str) -> Result<String, Error> {
    let mut r = [0u8; 8];
    state.rng.fill(&mut r)?;
    Ok(format!(
        "{use_}-{}",
        r.iter().map(|b| format!("{b:02x}")).collect::<String>()
    ))
}

/// CreateUserPool's checks, both backends: the PoolName.
fn pool_name(req: &CreateUserPoolRequest) -> Result<&str, Error> {
    let name = required("PoolName", req.pool_name.as_deref())?;
    if name.chars().count() > 128 || !name.chars().all(|c| !c.is_control()) {
        return Err(Error::InvalidParameter {
            message:
                "1 validation error detected: Value at 'poolName' failed to satisfy constraint: \
                      Member must have length less than or equal to 128 and satisfy regular \
                      expression pattern: [\\w\\s+=,.@-]+"
                    .into(),
        });
    }
    Ok(name)
}

/// CreateUserPool: a new pool with its signing keys (two fresh RSA-2048 keys by default, one for ID
/// tokens and one for access tokens, as Cognito does; see [`Signing`]) and a fresh refresh-token key.
fn create_user_pool(state: &AppState, req: CreateUserPoolRequest) -> Result<String, Error> {
    let name = pool_name(&req)?.to_owned();
    let id = new_pool_id(state)?;
    let kid = |use_: &str| new_kid(state, use_);
    // The limit is decided before the keys are made: RSA key generation is the expensive part of
    // CreateUserPool, and a caller over the limit must not be able to make the service do it (R-SRV-9).
    let mut slot = PoolSlot::take(&state.pool_slots, state.config.max_pools)?;
    let (id_key, access_key) = match &state.config.signing {
        Signing::Keys { id, access } => (Arc::clone(id), Arc::clone(access)),
        Signing::Generate(alg) => {
            let (id_kid, access_kid) = (kid("id")?, kid("access")?);
            // The two keys in parallel: an RSA-2048 key takes tenths of a second.
            let (id_key, access_key) = std::thread::scope(|s| {
                let id = s.spawn(|| generate_signing_key(*alg, id_kid));
                let access = generate_signing_key(*alg, access_kid);
                (id.join(), access)
            });
            let id_key = id_key.map_err(|_| Error::Internal {
                detail: "key generation panicked",
            })??;
            let access_key = access_key?;
            state.keys_generated.fetch_add(2, Ordering::Relaxed);
            (Arc::new(id_key), Arc::new(access_key))
        }
    };
    let signer = TokenSigner::with_keys(id_key, access_key)?;
    let refresh_keys = RefreshTokenKeys::new(RefreshTokenKey::generate(1, &*state.rng)?);
    let registry = Arc::new(ClientRegistry::new(
        id.as_str(),
        state.clock.clone(),
        state.rng.clone(),
    ));
    let directory = Arc::new(InMemoryUserDirectory::new());
    let issuer = TokenIssuer::builder(
        state.config.region.clone(),
        signer,
        refresh_keys,
        registry,
        Arc::new(InMemoryRefreshTokenStore::new()),
        directory.clone(),
    )
    .clock(state.clock.clone())
    .random(state.rng.clone())
    .device_tracking(req.device_configuration.is_some())
    .reuse_policy(state.config.reuse_policy)
    .build();
    let pool = Arc::new(Pool {
        id: id.clone(),
        name: name.to_owned(),
        created: state.clock.now(),
        device_configuration: req.device_configuration,
        issuer,
        directory,
        passwords: Mutex::new(HashMap::new()),
        dummy_hash: PasswordHash::with_iterations(
            "no user has this password",
            state.config.pbkdf2_iterations,
            &*state.rng,
        )?,
    });
    state
        .pools
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(id, pool.clone());
    slot.kept = true;
    wire::to_json(&CreateUserPoolResponse {
        user_pool: UserPoolType {
            id: &pool.id,
            name: &pool.name,
            arn: format!(
                "arn:aws:cognito-idp:{}:000000000000:userpool/{}",
                state.config.region, pool.id
            ),
            creation_date: pool.created.unix_seconds(),
            last_modified_date: pool.created.unix_seconds(),
            device_configuration: pool.device_configuration.as_ref(),
        },
    })
}

// ---------------------------------------------------------------------------------- users

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct AttributeType {
    name: String,
    #[serde(default)]
    value: Option<String>,
}

/// `AdminCreateUserRequest`. No message is ever sent, so MessageAction must be `SUPPRESS`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct AdminCreateUserRequest {
    user_pool_id: Option<String>,
    username: Option<String>,
    #[serde(default)]
    user_attributes: Option<Vec<AttributeType>>,
    #[serde(default)]
    validation_data: Option<Vec<AttributeType>>,
    /// Accepted but never stored: without challenges a temporary password could not be used.
    #[serde(default)]
    temporary_password: Option<SensitiveString>,
    #[serde(default)]
    force_alias_creation: Option<bool>,
    #[serde(default)]
    message_action: Option<String>,
    #[serde(default)]
    desired_delivery_mediums: Option<Vec<String>>,
    #[serde(default)]
    client_metadata: Option<HashMap<String, String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UserType {
    username: String,
    attributes: Vec<AttributeType>,
    user_create_date: i64,
    user_last_modified_date: i64,
    enabled: bool,
    user_status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AdminCreateUserResponse {
    user: UserType,
}

/// The request of the admin operations that name one user.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct UserRef {
    user_pool_id: Option<String>,
    username: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
struct AdminSetUserPasswordRequest {
    user_pool_id: Option<String>,
    username: Option<String>,
    password: Option<SensitiveString>,
    #[serde(default)]
    permanent: Option<bool>,
}

fn check_username(username: &str) -> Result<(), Error> {
    if username.chars().count() > 128
        || username
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::InvalidParameter {
            message:
                "1 validation error detected: Value at 'username' failed to satisfy constraint: \
                      Member must have length less than or equal to 128 and contain no whitespace"
                    .into(),
        });
    }
    Ok(())
}

fn uuid(rng: &dyn RandomSource) -> Result<String, Error> {
    let mut b = [0u8; 16];
    rng.fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    ))
}

fn admin_create_user(state: &AppState, req: AdminCreateUserRequest) -> Result<String, Error> {
    wire::user_pool_id(req.user_pool_id.as_deref())?;
    check_new_user(&req)?;
    let pool = state.pool(req.user_pool_id.as_deref())?;
    let (user, attributes) = new_user(state, req)?;
    let username = user.username.as_str();
    {
        let _serialised = lock(&pool.passwords);
        if pool.directory.user_by_username(username)?.is_some() {
            return Err(Error::UsernameExists);
        }
        if pool.directory.len() >= MAX_USERS_PER_POOL {
            return Err(Error::LimitExceeded {
                message: format!("At most {MAX_USERS_PER_POOL} users per pool."),
            });
        }
        pool.directory.put(user.clone())?;
    }
    created_user(state, &user, attributes)
}

/// AdminCreateUser's checks against the API model, both backends, before the pool is looked up (as
/// the library orders its client operations): the username, and every attribute's bounds
/// (AttributeNameType: 1 to 32 characters; AttributeValueType: at most 2048, refused beyond as Cognito
/// does, not cut).
fn check_new_user(req: &AdminCreateUserRequest) -> Result<(), Error> {
    check_username(required("Username", req.username.as_deref())?)?;
    for (i, a) in req.user_attributes.iter().flatten().enumerate() {
        if a.name.is_empty() || a.name.chars().count() > 32 {
            return Err(Error::InvalidParameter {
                message: "Attribute names must have length 1 to 32.".into(),
            });
        }
        if a.value
            .as_deref()
            .is_some_and(|v| v.chars().nth(2048).is_some())
        {
            return Err(Error::InvalidParameter {
                message: format!(
                    "1 validation error detected: Value at 'userAttributes.{}.member.value' \
                     failed to satisfy constraint: Member must have length less than or equal to \
                     2048",
                    i + 1
                ),
            });
        }
    }
    Ok(())
}

/// AdminCreateUser's own rules, both backends, once [`check_new_user`] has passed and the pool is
/// found: the new user (a fresh `sub`) and the attributes as given.
fn new_user(
    state: &AppState,
    req: AdminCreateUserRequest,
) -> Result<(UserRecord, Vec<AttributeType>), Error> {
    let username = required("Username", req.username.as_deref())?;
    if req.message_action.as_deref() != Some("SUPPRESS") {
        return Err(Error::InvalidParameter {
            message:
                "This service sends no messages: AdminCreateUser needs MessageAction SUPPRESS."
                    .into(),
        });
    }
    let subject = uuid(&*state.rng)?;
    let mut user = UserRecord::new(subject, username);
    let attributes = req.user_attributes.unwrap_or_default();
    for a in &attributes {
        if a.name == "sub" {
            return Err(Error::InvalidParameter {
                message: "Cannot modify the non-mutable attribute sub".into(),
            });
        }
        // Neither a PostgreSQL text nor a JSON column holds NUL: refused in both modes, so that the
        // same request gets the same answer (R-SRV-6).
        if a.name.contains('\0') || a.value.as_deref().is_some_and(|v| v.contains('\0')) {
            return Err(Error::InvalidParameter {
                message: "Attribute names and values must not contain NUL.".into(),
            });
        }
        user.attributes
            .insert(a.name.clone(), a.value.clone().unwrap_or_default());
    }
    Ok((user, attributes))
}

/// AdminCreateUser's answer for a user just created.
fn created_user(
    state: &AppState,
    user: &UserRecord,
    attributes: Vec<AttributeType>,
) -> Result<String, Error> {
    let now = state.clock.now().unix_seconds();
    let mut out = vec![AttributeType {
        name: "sub".into(),
        value: Some(user.subject.clone()),
    }];
    out.extend(attributes);
    wire::to_json(&AdminCreateUserResponse {
        user: UserType {
            username: user.username.clone(),
            attributes: out,
            user_create_date: now,
            user_last_modified_date: now,
            enabled: true,
            user_status: "FORCE_CHANGE_PASSWORD",
        },
    })
}

/// The model's checks of a request naming a user of a pool, before the pool is looked up (as the
/// library orders its client operations), both backends: the pool id's shape and a `Username` given.
fn check_user_ref(user_pool_id: Option<&str>, username: Option<&str>) -> Result<(), Error> {
    wire::user_pool_id(user_pool_id)?;
    required("Username", username)?;
    Ok(())
}

fn find_user(pool: &Pool, username: Option<&str>) -> Result<Arc<UserRecord>, Error> {
    let username = required("Username", username)?;
    pool.directory
        .user_by_username(username)?
        .ok_or(Error::UserNotFound)
}

fn admin_set_user_password(
    state: &AppState,
    req: AdminSetUserPasswordRequest,
) -> Result<String, Error> {
    check_user_ref(req.user_pool_id.as_deref(), req.username.as_deref())?;
    let pool = state.pool(req.user_pool_id.as_deref())?;
    let password = new_password(&req)?;
    let user = find_user(&pool, req.username.as_deref())?;
    // Hash outside the lock: it is the slow part.
    let hash =
        PasswordHash::with_iterations(password, state.config.pbkdf2_iterations, &*state.rng)?;
    let mut passwords = lock(&pool.passwords);
    // The user may have been deleted while hashing.
    if pool.directory.user_by_subject(&user.subject)?.is_none() {
        return Err(Error::UserNotFound);
    }
    passwords.insert(user.subject.clone(), hash);
    Ok("{}".into())
}

/// AdminSetUserPassword's checks, both backends: the password, which must be permanent.
fn new_password(req: &AdminSetUserPasswordRequest) -> Result<&str, Error> {
    let password = required("Password", req.password.as_ref().map(|p| p.expose_secret()))?;
    if password.chars().count() > 256 || password.chars().any(char::is_whitespace) {
        return Err(Error::InvalidParameter {
            message:
                "1 validation error detected: Value at 'password' failed to satisfy constraint: \
                      Member must have length less than or equal to 256 and satisfy regular \
                      expression pattern: [\\S]+"
                    .into(),
        });
    }
    if req.permanent != Some(true) {
        return Err(Error::InvalidParameter {
            message: "This service issues no NEW_PASSWORD_REQUIRED challenge: set Permanent true."
                .into(),
        });
    }
    Ok(password)
}

fn set_enabled(state: &AppState, req: UserRef, enabled: bool) -> Result<String, Error> {
    check_user_ref(req.user_pool_id.as_deref(), req.username.as_deref())?;
    let pool = state.pool(req.user_pool_id.as_deref())?;
    let _serialised = lock(&pool.passwords);
    let user = find_user(&pool, req.username.as_deref())?;
    if !pool.directory.set_enabled(&user.subject, enabled) {
        return Err(Error::UserNotFound);
    }
    Ok("{}".into())
}

fn admin_delete_user(state: &AppState, req: UserRef) -> Result<String, Error> {
    check_user_ref(req.user_pool_id.as_deref(), req.username.as_deref())?;
    let pool = state.pool(req.user_pool_id.as_deref())?;
    let mut passwords = lock(&pool.passwords);
    let user = find_user(&pool, req.username.as_deref())?;
    pool.directory.remove(&user.subject);
    passwords.remove(&user.subject);
    Ok("{}".into())
}
