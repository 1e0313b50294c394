//! The client registry: CreateUserPoolClient / DescribeUserPoolClient / UpdateUserPoolClient /
//! DeleteUserPoolClient / ListUserPoolClients semantics for one user pool (SPEC 2.3), and the restore of
//! a client known from elsewhere (R-PER-2).
//!
//! A [`ClientRegistry`] decides; a client store keeps ([`AsyncClientStore`], R-PER-1). Clients are
//! immutable [`AppClient`] values behind `Arc`s: a refresh reads one ([`ClientRegistry::get`]) and works on
//! that snapshot, while Create/Update/Delete write whole values through the store's conditional writes
//! (an insert that refuses a taken id or a full pool, a compare-and-set on the client's revision). Every
//! operation validates first and changes nothing when validation fails. Client ids and secrets come from
//! the injected [`RandomSource`], dates from the injected [`Clock`].
//!
//! Every operation is written once, as an `async fn`; the synchronous methods poll it once (see
//! [`ClientRegistry`]).
//!
//! The registry speaks typed Rust ([`ClientRegistry::create_client`],
//! [`ClientRegistry::update_client_with`], ...) and knows nothing of Cognito's JSON shapes (R-ENG-3):
//! the wire adapter implements CreateUserPoolClient and the other client operations over it
//! (`wire::UserPoolClientOperations`).

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use base64::Engine as _;
use parking_lot::RwLock;

use crate::client::AppClient;
use crate::client::{CLIENT_ID_LEN, CLIENT_SECRET_LEN};
use crate::clock::{Clock, Timestamp};
use crate::config::{
    check_max_results, check_next_token, check_secret_request, patterns, validate_config,
    AppClientConfig, AppClientConfigBuilder, RawConfig, ValidationContext,
};
use crate::error::{Error, ExceptionKind, StoreError, Violation};
use crate::random::{random_array, random_string, RandomSource};
use crate::secret::ClientSecret;
use crate::store::{
    AsyncClientStore, AsyncRefreshTokenStore, InMemoryClientStore, RefreshTokenStore, Replace,
};

/// Alphabet of client ids and generated secrets (R-CLI-1).
const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Default bound on the number of clients in one registry ([`ClientRegistry::with_max_clients`]); Cognito's
/// default quota of app clients per user pool.
pub(crate) const DEFAULT_MAX_CLIENTS: usize = 1_000;
/// Bound on the number of declared custom scopes (Cognito: 25 resource servers of 100 scopes each).
pub(crate) const MAX_CUSTOM_SCOPES: usize = 2_500;
/// Attempts at a compare-and-swap update, or at drawing a fresh client id, before giving up. Each
/// failed compare-and-swap means another update succeeded, so up to this many concurrent updaters of
/// one client all get through.
const ATTEMPTS: usize = 8;

/// What a synchronous method answers when the store did not complete on the first poll.
const NEEDS_ASYNC: Error = Error::Internal {
    detail: "the client store is asynchronous: call the registry's `_async` method instead",
};

/// Runs `future` to completion if it completes on its first poll, as every future over a synchronous
/// store does; otherwise drops it and reports [`NEEDS_ASYNC`]. Never blocks. Callers check
/// [`ClientRegistry::answers_at_once`] first, so that nothing is started over a store that awaits I/O.
/// The address of the value an `Arc` shares: the identity of a linked store, whichever trait object
/// it was linked as.
fn address<T: ?Sized>(store: &Arc<T>) -> usize {
    Arc::as_ptr(store).cast::<()>() as usize
}

pub(crate) fn poll_once<T>(future: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(result) => result,
        Poll::Pending => Err(NEEDS_ASYNC),
    }
}

/// The secret a new client gets (R-CLI-1, R-CFG-5).
#[derive(Debug, Clone, Default)]
pub enum NewClientSecret {
    /// No secret (a public client). The default.
    #[default]
    None,
    /// A 51-character secret drawn from the registry's random source (`GenerateSecret: true`).
    Generate,
    /// A caller-chosen secret; it must be a ClientSecretType (24..=64 characters of `[\w+]`).
    Provided(ClientSecret),
}

/// One page of [`ClientRegistry::list_clients`].
#[derive(Debug, Clone)]
pub struct ClientPage {
    /// The clients of this page, in client-id order.
    pub clients: Vec<Arc<AppClient>>,
    /// The token for the next page; `None` on the last page.
    pub next_token: Option<String>,
}

/// A client to bring into the pool with a known id, secret and dates (R-PER-2):
/// [`ClientRegistry::restore_client`].
///
/// `Debug` shows the secret as `ClientSecret([REDACTED])`.
#[derive(Debug, Clone)]
pub struct RestoreClient {
    /// The client id: 26 characters of `[a-z0-9]`, as every id Create assigns (R-CLI-1) and Cognito's.
    pub client_id: String,
    /// The client secret, if the client has one: a ClientSecretType (24..=64 characters of `[\w+]`).
    pub secret: Option<ClientSecret>,
    /// CreationDate.
    pub creation_date: Timestamp,
    /// LastModifiedDate; not before `creation_date`.
    pub last_modified_date: Timestamp,
    /// The configuration, validated as Create validates it.
    pub config: AppClientConfigBuilder,
}

/// The app clients of one user pool, kept in a client store (in memory unless
/// [`with_store`](ClientRegistry::with_store) says otherwise).
///
/// # Synchronous and asynchronous calls
/// Each operation is written once, as an `async fn` (`create_client_async`, `get_async`, ...). The
/// synchronous methods of the same names without `_async` poll that future once: with a synchronous
/// store (the in-memory store, any [`ClientStore`](crate::store::ClientStore)) it always completes
/// there. With a store that awaits I/O (the PostgreSQL store) the future is still pending after one
/// poll; the synchronous method then drops it and returns [`Error::Internal`] saying to call the
/// `_async` method. It never blocks and never panics. An asynchronous host calls the `_async` methods;
/// the asynchronous driver does.
pub struct ClientRegistry {
    user_pool_id: Arc<str>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn RandomSource>,
    max_clients: usize,
    store: Arc<dyn AsyncClientStore>,
    /// The family stores of the issuers built over this registry (one, in any sensible set-up), so that
    /// deleting a client revokes its families (R-REV-7), each with the address it was linked by, so that
    /// a store shared by two issuers is revoked once.
    families: RwLock<Vec<LinkedStore>>,
}

/// A family store linked to a registry (R-REV-7).
struct LinkedStore {
    /// The address of the store's value: one store linked by two issuers is revoked once.
    address: usize,
    store: Arc<dyn AsyncRefreshTokenStore>,
    /// Linked as a synchronous store, whose futures complete on their first poll.
    answers_at_once: bool,
    /// Records the families a deletion revoked in this store (the linking driver's telemetry, R-OPS-2).
    on_revoked: RevokedByDeletion,
}

/// How a linking driver records the families a client's deletion revoked: the client id and how many.
pub(crate) type RevokedByDeletion = fn(&str, usize);

impl fmt::Debug for ClientRegistry {
    // No store call here: a Debug line must not do I/O, nor fail.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRegistry")
            .field("user_pool_id", &self.user_pool_id)
            .field("max_clients", &self.max_clients)
            .finish_non_exhaustive()
    }
}

fn not_found(client_id: &str) -> Error {
    // No client id is longer than 128 characters (ClientIdType); a longer one is shown cut there, so the
    // error never copies an oversized input (R-SAFE-1).
    Error::ClientNotFound {
        client_id: client_id.chars().take(128).collect(),
    }
}

/// Whether `id` has the shape of the ids Create assigns: 26 characters of `[a-z0-9]` (R-CLI-1).
fn is_client_id_shape(id: &str) -> bool {
    id.len() == CLIENT_ID_LEN && id.bytes().all(|b| ID_ALPHABET.contains(&b))
}

fn violation(field: &str, message: String) -> Violation {
    Violation {
        rule: 2,
        field: field.to_owned(),
        message,
        kind: ExceptionKind::InvalidParameter,
    }
}

impl ClientRegistry {
    /// Whether the registry's store answers at once, so that the synchronous methods may serve it.
    pub(crate) fn answers_at_once(&self) -> bool {
        self.store.answers_at_once()
    }

    /// Runs a registry operation synchronously over a store that answers at once; over a store that
    /// awaits I/O, refuses before starting it (no write is sent and then abandoned).
    pub(crate) fn poll_now<T>(
        &self,
        future: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        if !self.answers_at_once() {
            return Err(NEEDS_ASYNC);
        }
        poll_once(future)
    }

    /// The default bound on a pool's clients (Cognito's quota); change it with
    /// [`with_max_clients`](Self::with_max_clients).
    pub const DEFAULT_MAX_CLIENTS: usize = DEFAULT_MAX_CLIENTS;

    /// The most custom scopes a pool can declare.
    pub const MAX_CUSTOM_SCOPES: usize = MAX_CUSTOM_SCOPES;

    /// An empty registry for pool `user_pool_id` (a UserPoolIdType such as `us-east-1_Example`), taking
    /// dates from `clock` and ids and secrets from `rng`, keeping its clients in an
    /// [`InMemoryClientStore`].
    ///
    /// Holds at most [`DEFAULT_MAX_CLIENTS`](Self::DEFAULT_MAX_CLIENTS) clients unless changed with [`with_max_clients`](Self::with_max_clients).
    pub fn new(
        user_pool_id: impl Into<Arc<str>>,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn RandomSource>,
    ) -> Self {
        ClientRegistry {
            user_pool_id: user_pool_id.into(),
            clock,
            rng,
            max_clients: DEFAULT_MAX_CLIENTS,
            store: Arc::new(InMemoryClientStore::new()),
            families: RwLock::new(Vec::new()),
        }
    }

    /// Keeps the clients and custom scopes in `store` instead of in memory. The store serves this pool
    /// only; it may already hold the pool's clients (a restart, or a second instance over the same
    /// database, R-PER-4). Any [`ClientStore`](crate::store::ClientStore) converts:
    /// `Arc::new(my_store)`.
    ///
    /// With a store that awaits I/O, call the `_async` methods (see
    /// [Synchronous and asynchronous calls](ClientRegistry#synchronous-and-asynchronous-calls)).
    pub fn with_store(mut self, store: Arc<dyn AsyncClientStore>) -> Self {
        self.store = store;
        self
    }

    /// The store the clients are kept in.
    pub fn store(&self) -> &Arc<dyn AsyncClientStore> {
        &self.store
    }

    /// Links a synchronous family store, so that deleting a client revokes its families there
    /// (R-REV-7). [`TokenIssuerBuilder::build`](crate::driver::TokenIssuerBuilder::build) does this for
    /// its store.
    pub(crate) fn link_family_store(
        &self,
        store: &Arc<dyn RefreshTokenStore>,
        on_revoked: RevokedByDeletion,
    ) {
        self.link(LinkedStore {
            address: address(store),
            store: Arc::new(Arc::clone(store)),
            answers_at_once: true,
            on_revoked,
        });
    }

    /// Links an asynchronous family store, as [`link_family_store`](Self::link_family_store);
    /// [`AsyncTokenIssuerBuilder::build`](crate::driver::AsyncTokenIssuerBuilder::build) does this for
    /// its store.
    pub(crate) fn link_async_family_store(
        &self,
        store: &Arc<dyn AsyncRefreshTokenStore>,
        on_revoked: RevokedByDeletion,
    ) {
        self.link(LinkedStore {
            address: address(store),
            store: Arc::clone(store),
            answers_at_once: false,
            on_revoked,
        });
    }

    fn link(&self, store: LinkedStore) {
        let mut stores = self.families.write();
        match stores.iter_mut().find(|s| s.address == store.address) {
            // Linked by both kinds of issuer: it answers at once if either knew it to.
            Some(linked) => linked.answers_at_once |= store.answers_at_once,
            None => stores.push(store),
        }
    }

    /// Sets the bound on the number of clients; Create beyond it is `LimitExceededException`.
    pub fn with_max_clients(mut self, max_clients: usize) -> Self {
        self.max_clients = max_clients;
        self
    }

    /// The pool's clock: dates of clients, and the default clock of the issuers built over the registry.
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// The pool's random source: client ids and secrets, and the default of the issuers built over it.
    pub(crate) fn random(&self) -> &Arc<dyn RandomSource> {
        &self.rng
    }

    /// The pool this registry serves.
    pub fn user_pool_id(&self) -> &str {
        &self.user_pool_id
    }

    // ---------------------------------------------------------------- Reads

    /// The client with this id, as it is now (synchronous form of [`get_async`](Self::get_async)).
    /// With the in-memory store: one read lock and an `Arc` clone.
    pub fn get(&self, client_id: &str) -> Result<Option<Arc<AppClient>>, Error> {
        self.poll_now(self.get_async(client_id))
    }

    /// The client with this id, as it is now, or `None`.
    pub async fn get_async(&self, client_id: &str) -> Result<Option<Arc<AppClient>>, Error> {
        Ok(self.store.get(client_id).await?)
    }

    /// How many clients the pool has (synchronous form of [`len_async`](Self::len_async)).
    pub fn len(&self) -> Result<usize, Error> {
        self.poll_now(self.len_async())
    }

    /// How many clients the pool has.
    pub async fn len_async(&self) -> Result<usize, Error> {
        Ok(self.store.count().await?)
    }

    /// Whether the pool has no client.
    pub fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len()? == 0)
    }

    // ---------------------------------------------------------------- Custom scopes

    /// Declares a custom scope (synchronous form of
    /// [`declare_custom_scope_async`](Self::declare_custom_scope_async)).
    pub fn declare_custom_scope(&self, scope: &str) -> Result<(), Error> {
        self.poll_now(self.declare_custom_scope_async(scope))
    }

    /// Declares a custom scope `<resource-server-identifier>/<name>` so that clients may list it in
    /// AllowedOAuthScopes (R-CFG-13), as creating a resource server does in Cognito.
    ///
    /// The scope must be a ScopeType (1..=256 characters of `[\x21\x23-\x5B\x5D-\x7E]`) with a non-empty
    /// identifier and name around its last `/`. Declaring a scope twice is harmless; at most
    /// [`MAX_CUSTOM_SCOPES`](Self::MAX_CUSTOM_SCOPES) can be declared.
    pub async fn declare_custom_scope_async(&self, scope: &str) -> Result<(), Error> {
        let well_formed = scope.len() <= 256
            && patterns::scope(scope)
            && scope
                .rsplit_once('/')
                .is_some_and(|(id, name)| !id.is_empty() && !name.is_empty());
        if !well_formed {
            let shown = crate::error::echoed(scope, 256);
            return Err(Error::InvalidParameter {
                message: format!(
                    "Custom scope '{shown}' must have the form <resource-server-identifier>/<name> and \
                     satisfy the ScopeType pattern [\\x21\\x23-\\x5B\\x5D-\\x7E]+ (at most 256 characters)."
                ),
            });
        }
        match self.store.declare_scope(scope, MAX_CUSTOM_SCOPES).await {
            Err(StoreError::Full) => Err(Error::LimitExceeded {
                message: format!("At most {MAX_CUSTOM_SCOPES} custom scopes can be declared."),
            }),
            other => Ok(other?),
        }
    }

    /// Whether `scope` has been declared (synchronous form of
    /// [`is_custom_scope_declared_async`](Self::is_custom_scope_declared_async)).
    pub fn is_custom_scope_declared(&self, scope: &str) -> Result<bool, Error> {
        self.poll_now(self.is_custom_scope_declared_async(scope))
    }

    /// Whether `scope` has been declared with [`declare_custom_scope`](Self::declare_custom_scope).
    pub async fn is_custom_scope_declared_async(&self, scope: &str) -> Result<bool, Error> {
        Ok(self.store.is_scope_declared(scope).await?)
    }

    /// The declared custom scopes that validating `raw` may ask about: all of them when `raw` names a
    /// custom scope (one with a `/`), none otherwise, so a configuration without custom scopes costs
    /// no store call.
    pub(crate) async fn scopes_for_async(
        &self,
        raw: &RawConfig,
    ) -> Result<BTreeSet<String>, Error> {
        let names_custom = raw
            .allowed_oauth_scopes
            .as_ref()
            .is_some_and(|scopes| scopes.iter().any(|s| s.contains('/')));
        if !names_custom {
            return Ok(BTreeSet::new());
        }
        Ok(self.store.scopes().await?.into_iter().collect())
    }

    /// Validates `raw` in this pool's context (`scopes`: its declared custom scopes, from
    /// [`scopes_for_async`](Self::scopes_for_async)), appending violations to `out`. Crate-internal so that the wire
    /// adapter can report a request's own violations and the configuration's in one list; `has_secret`
    /// is `None` when the client could not be identified.
    pub(crate) fn validate_in_pool(
        raw: &RawConfig,
        scopes: &BTreeSet<String>,
        has_secret: Option<bool>,
        require_client_name: bool,
        out: &mut Vec<Violation>,
    ) -> Option<AppClientConfig> {
        let ctx = ValidationContext {
            has_secret,
            custom_scopes: Some(scopes),
            require_client_name,
        };
        validate_config(raw, &ctx, out)
    }

    /// `raw` validated in this pool's context for a client with a secret or without, a client name
    /// required, after the request's own violations `out`: the configuration, or every violation.
    pub(crate) async fn validated_async(
        &self,
        raw: &RawConfig,
        has_secret: bool,
        mut out: Vec<Violation>,
    ) -> Result<AppClientConfig, Error> {
        let scopes = self.scopes_for_async(raw).await?;
        match Self::validate_in_pool(raw, &scopes, Some(has_secret), true, &mut out) {
            Some(config) if out.is_empty() => Ok(config),
            _ => Err(Error::invalid_config(out)),
        }
    }

    // ---------------------------------------------------------------- Create

    /// Creates a client (synchronous form of [`create_client_async`](Self::create_client_async)).
    pub fn create_client(
        &self,
        config: AppClientConfigBuilder,
        secret: NewClientSecret,
    ) -> Result<Arc<AppClient>, Error> {
        self.poll_now(self.create_client_async(config, secret))
    }

    /// Creates a client with `config` and `secret` (CreateUserPoolClient for Rust callers).
    ///
    /// Validation is that of a wire request, in this pool's context (R-CFG); on any violation nothing is
    /// stored. The client gets a fresh 26-character id and, with [`NewClientSecret::Generate`], a
    /// 51-character secret (R-CLI-1); both dates are now (R-CLI-2).
    pub async fn create_client_async(
        &self,
        config: AppClientConfigBuilder,
        secret: NewClientSecret,
    ) -> Result<Arc<AppClient>, Error> {
        let mut out = Vec::new();
        let (generate, provided) = match secret {
            NewClientSecret::None => (false, None),
            NewClientSecret::Generate => (true, None),
            NewClientSecret::Provided(s) => (false, Some(s)),
        };
        check_secret_request(&mut out, false, provided.as_ref(), false);
        let has_secret = generate || provided.is_some();
        let config = self.validated_async(&config.raw, has_secret, out).await?;
        self.insert_new_async(config, generate, provided).await
    }

    /// Stores a new client with a validated `config`: a fresh id, and a generated secret, `provided`, or
    /// none. The wire adapter's Create validates itself and then calls this, as `create_client` does.
    pub(crate) async fn insert_new_async(
        &self,
        config: AppClientConfig,
        generate: bool,
        provided: Option<ClientSecret>,
    ) -> Result<Arc<AppClient>, Error> {
        let secret = if generate {
            Some(ClientSecret::new(random_string(
                &*self.rng,
                ID_ALPHABET,
                CLIENT_SECRET_LEN,
            )?))
        } else {
            provided
        };
        for _ in 0..ATTEMPTS {
            let id: Arc<str> = random_string(&*self.rng, ID_ALPHABET, CLIENT_ID_LEN)?.into();
            let now = self.clock.now();
            let client = Arc::new(AppClient::from_parts(crate::client::AppClientParts {
                client_id: id,
                user_pool_id: self.user_pool_id.clone(),
                secret: secret.clone(),
                config: config.clone(),
                creation_date: now,
                last_modified_date: now,
                revision: 0,
            }));
            match self.store.insert(client.clone(), self.max_clients).await {
                Ok(()) => return Ok(client),
                Err(StoreError::AlreadyExists) => continue,
                Err(StoreError::Full) => return Err(self.limit_exceeded()),
                Err(e) => return Err(e.into()),
            }
        }
        // 36^26 ids: repeated collisions mean the random source is broken.
        Err(Error::Internal {
            detail: "random source keeps producing existing client ids",
        })
    }

    fn limit_exceeded(&self) -> Error {
        Error::LimitExceeded {
            message: format!(
                "User pool {} already has the maximum number of app clients ({}).",
                self.user_pool_id, self.max_clients
            ),
        }
    }

    // ---------------------------------------------------------------- Restore

    /// Restores a client (synchronous form of [`restore_client_async`](Self::restore_client_async)).
    pub fn restore_client(&self, client: RestoreClient) -> Result<Arc<AppClient>, Error> {
        self.poll_now(self.restore_client_async(client))
    }

    /// Brings in a client with a known id, secret, CreationDate and LastModifiedDate (R-PER-2): a client
    /// imported from Cognito or another deployment, with the id its users' apps already hold.
    ///
    /// Validated as Create validates (R-CFG, in this pool's context, the secret a ClientSecretType), plus
    /// the shape of the id (26 characters of `[a-z0-9]`, R-CLI-1) and the order of the dates
    /// (LastModifiedDate not before CreationDate); every violation is reported together and nothing is
    /// stored when there is any. An id the pool already has is refused (`InvalidParameterException`),
    /// never overwritten; the pool's bound applies as for Create.
    pub async fn restore_client_async(
        &self,
        client: RestoreClient,
    ) -> Result<Arc<AppClient>, Error> {
        let mut out = Vec::new();
        if !is_client_id_shape(&client.client_id) {
            let shown = crate::error::echoed(&client.client_id, 128);
            out.push(violation(
                "ClientId",
                format!(
                    "Value '{shown}' at 'ClientId' failed to satisfy constraint: Member must be \
                     {CLIENT_ID_LEN} characters of [a-z0-9]"
                ),
            ));
        }
        check_secret_request(&mut out, false, client.secret.as_ref(), false);
        if client.last_modified_date < client.creation_date {
            out.push(violation(
                "LastModifiedDate",
                "LastModifiedDate must not be before CreationDate.".to_owned(),
            ));
        }
        let config = self
            .validated_async(&client.config.raw, client.secret.is_some(), out)
            .await?;
        // A restored client starts at a random revision rather than 0: an update computed from a client
        // of the same id that was deleted meanwhile must never match it (R-CLI-4). The deleted one
        // would need 2^32 updates to reach even the lowest start.
        let start = u64::from_le_bytes(random_array(&*self.rng)?);
        let restored = Arc::new(AppClient::from_parts(crate::client::AppClientParts {
            client_id: client.client_id.into(),
            user_pool_id: self.user_pool_id.clone(),
            secret: client.secret,
            config,
            creation_date: client.creation_date,
            last_modified_date: client.last_modified_date,
            revision: (start >> 2) | (1 << 32),
        }));
        match self.store.insert(restored.clone(), self.max_clients).await {
            Ok(()) => Ok(restored),
            Err(StoreError::AlreadyExists) => Err(Error::InvalidParameter {
                message: format!("User pool client {} already exists.", restored.client_id()),
            }),
            Err(StoreError::Full) => Err(self.limit_exceeded()),
            Err(e) => Err(e.into()),
        }
    }

    // ---------------------------------------------------------------- Describe

    /// The client, or `ResourceNotFoundException` (synchronous form of
    /// [`describe_client_async`](Self::describe_client_async)).
    pub fn describe_client(&self, client_id: &str) -> Result<Arc<AppClient>, Error> {
        self.poll_now(self.describe_client_async(client_id))
    }

    /// The client with this id, or `ResourceNotFoundException` (R-CLI-5).
    pub async fn describe_client_async(&self, client_id: &str) -> Result<Arc<AppClient>, Error> {
        self.get_async(client_id)
            .await?
            .ok_or_else(|| not_found(client_id))
    }

    // ---------------------------------------------------------------- Update

    /// Replaces a client's configuration (synchronous form of
    /// [`replace_client_async`](Self::replace_client_async)).
    pub fn replace_client(
        &self,
        client_id: &str,
        config: AppClientConfigBuilder,
    ) -> Result<Arc<AppClient>, Error> {
        self.poll_now(self.replace_client_async(client_id, config))
    }

    /// Replaces the configuration of client `client_id` with `config` (UpdateUserPoolClient for Rust
    /// callers, R-CLI-3): every field not set in `config` takes its default. The secret and CreationDate
    /// are kept; LastModifiedDate is now (R-CLI-2).
    pub async fn replace_client_async(
        &self,
        client_id: &str,
        config: AppClientConfigBuilder,
    ) -> Result<Arc<AppClient>, Error> {
        let current = self.describe_client_async(client_id).await?;
        let has_secret = current.secret().is_some();
        let config = self
            .validated_async(&config.raw, has_secret, Vec::new())
            .await?;
        self.store_replacement_async(client_id, config, has_secret, false)
            .await
    }

    /// Changes some fields of a client (synchronous form of
    /// [`update_client_with_async`](Self::update_client_with_async)).
    pub fn update_client_with(
        &self,
        client_id: &str,
        change: impl FnMut(AppClientConfigBuilder) -> AppClientConfigBuilder,
    ) -> Result<Arc<AppClient>, Error> {
        self.poll_now(self.update_client_with_async(client_id, change))
    }

    /// Changes some fields of client `client_id` and keeps the rest (R-CLI-4): `change` receives a builder
    /// holding the current configuration and returns the new one, which is validated like any Update.
    ///
    /// The change applies to the configuration it was computed from: the store replaces the client only
    /// at the revision that configuration had, and if another update lands in between, `change` runs
    /// again on the newer configuration (a few times at most; then the update fails with an internal
    /// error rather than overwrite the other update). No update is ever lost.
    pub async fn update_client_with_async(
        &self,
        client_id: &str,
        mut change: impl FnMut(AppClientConfigBuilder) -> AppClientConfigBuilder,
    ) -> Result<Arc<AppClient>, Error> {
        for _ in 0..ATTEMPTS {
            let current = self.describe_client_async(client_id).await?;
            let builder = change(current.config().to_builder());
            let config = self
                .validated_async(&builder.raw, current.secret().is_some(), Vec::new())
                .await?;
            if let Some(client) = self.store_update_async(&current, config).await? {
                return Ok(client);
            }
        }
        Err(Error::Internal {
            detail: "too many concurrent updates of one client",
        })
    }

    /// Stores `config`, validated for a client with a secret if `validated_with_secret`, for `client_id`
    /// whatever its current configuration (a full replacement, R-CLI-3), keeping id, secret and
    /// CreationDate. A concurrent update in between only means reading the client again: the result
    /// does not depend on the configuration it replaces. If the client read then has a secret where the
    /// validation assumed none, or the other way round (deleted and restored meanwhile), `config` is
    /// validated again against it: a configuration is never stored on a client it is invalid for.
    ///
    /// With `inherit_name` (an UpdateUserPoolClient without ClientName, R-CLI-3), the name stored is
    /// the one the client has when the replacement is stored, read again on every attempt: an update
    /// that did not name the client never undoes a rename that landed between its read and its write.
    pub(crate) async fn store_replacement_async(
        &self,
        client_id: &str,
        config: AppClientConfig,
        validated_with_secret: bool,
        inherit_name: bool,
    ) -> Result<Arc<AppClient>, Error> {
        for _ in 0..ATTEMPTS {
            let current = self.describe_client_async(client_id).await?;
            let has_secret = current.secret().is_some();
            let current_name = current.config().client_name();
            let renamed = inherit_name && config.client_name() != current_name;
            let config = if has_secret == validated_with_secret && !renamed {
                config.clone()
            } else {
                let mut raw = config.to_builder().raw;
                if inherit_name {
                    raw.client_name = Some(current_name.to_owned());
                }
                self.validated_async(&raw, has_secret, Vec::new()).await?
            };
            if let Some(client) = self.store_update_async(&current, config).await? {
                return Ok(client);
            }
        }
        Err(Error::Internal {
            detail: "too many concurrent updates of one client",
        })
    }

    /// Stores `config` as the next revision of `current`, only if the store still holds `current`'s
    /// revision: `Ok(None)` means another update came first (callers read again and retry).
    async fn store_update_async(
        &self,
        current: &AppClient,
        config: AppClientConfig,
    ) -> Result<Option<Arc<AppClient>>, Error> {
        let next = current
            .updated(config, self.clock.now())
            .ok_or(Error::Internal {
                detail: "client revision counter exhausted",
            })?;
        let next = Arc::new(next);
        match self.store.replace(next.clone(), current.revision()).await? {
            Replace::Replaced => Ok(Some(next)),
            Replace::Conflict => Ok(None),
            Replace::NotFound => Err(not_found(current.client_id())),
        }
    }

    // ---------------------------------------------------------------- Delete

    /// Deletes a client (synchronous form of [`delete_client_async`](Self::delete_client_async)).
    ///
    /// Refused with [`Error::Internal`] before anything is deleted when an asynchronous issuer linked
    /// its family store to this registry: the revocation of the client's families there must be
    /// awaited, with [`delete_client_async`](Self::delete_client_async).
    pub fn delete_client(&self, client_id: &str) -> Result<(), Error> {
        self.families_answer_at_once()?;
        self.poll_now(self.delete_client_async(client_id))
    }

    /// Refuses a synchronous deletion while an asynchronous family store is linked, before anything is
    /// deleted: a client deleted with its families left unrevoked would be the worst of both.
    pub(crate) fn families_answer_at_once(&self) -> Result<(), Error> {
        if self.families.read().iter().any(|s| !s.answers_at_once) {
            return Err(Error::Internal {
                detail:
                    "an asynchronous issuer's family store is linked: call `delete_client_async`",
            });
        }
        Ok(())
    }

    /// Deletes client `client_id`; its refresh tokens stop working, as the issuer no longer finds the
    /// client (R-CLI-6), and once an issuer has been built over this registry every family of the client
    /// is revoked, so that its outstanding ID and access tokens fail store-backed verification (R-REV-7).
    /// Unknown client: `ResourceNotFoundException` (R-CLI-5).
    ///
    /// Nothing is revoked for an id this registry does not hold: a family store may serve several pools,
    /// and client ids are not secret. (Families record their client id, not their pool: pools sharing
    /// a family store must not hold the same client id, which only a restore under a chosen id can
    /// bring about; see R-REV-7 in the behaviour document.) For one it holds, the families are revoked before the client is
    /// removed and again after: a sign-in that read the client in between has its family revoked by the
    /// second pass, and one that creates its family later revokes that family itself. So a deletion
    /// stopped part-way (its future dropped at an await, as when a caller hangs up, or a store failing)
    /// leaves either the client in place with its families revoked (deleting again finishes the job), or
    /// the client gone with every family revoked that existed when the deletion began; only a family
    /// created by a sign-in that ran entirely between the first revocation and the removal could stay
    /// live, if the deletion is dropped before its second revocation. A store failure is returned as it
    /// is; the revocations are idempotent, so a retry is always safe.
    pub async fn delete_client_async(&self, client_id: &str) -> Result<(), Error> {
        if self.get_async(client_id).await?.is_none() {
            return Err(not_found(client_id));
        }
        // Copied out: the lock is not held across the awaits.
        let stores: Vec<_> = self
            .families
            .read()
            .iter()
            .map(|s| (Arc::clone(&s.store), s.on_revoked))
            .collect();
        // Each pass is recorded as it completes, so that a deletion stopped part-way still counts
        // what it revoked (R-OPS-2).
        for (store, on_revoked) in &stores {
            on_revoked(client_id, store.revoke_client(client_id).await?);
        }
        let deleted = self.store.delete(client_id).await?;
        for (store, on_revoked) in &stores {
            on_revoked(client_id, store.revoke_client(client_id).await?);
        }
        if !deleted {
            return Err(not_found(client_id));
        }
        Ok(())
    }

    // ---------------------------------------------------------------- List

    /// One page of clients (synchronous form of [`list_clients_async`](Self::list_clients_async)).
    pub fn list_clients(
        &self,
        max_results: usize,
        next_token: Option<&str>,
    ) -> Result<ClientPage, Error> {
        self.poll_now(self.list_clients_async(max_results, next_token))
    }

    /// One page of at most `max_results` (1..=60) clients in client-id order, starting after the position
    /// `next_token` names (R-CLI-7). Clients created or deleted between pages do not disturb the walk.
    pub async fn list_clients_async(
        &self,
        max_results: usize,
        next_token: Option<&str>,
    ) -> Result<ClientPage, Error> {
        let mut out = Vec::new();
        let limit = check_max_results(&mut out, i64::try_from(max_results).unwrap_or(i64::MAX));
        if let Some(t) = next_token {
            check_next_token(&mut out, t);
        }
        let limit = match limit {
            Some(l) if out.is_empty() => l,
            _ => return Err(Error::invalid_request(out)),
        };
        let after = next_token.map(|t| self.decode_token(t)).transpose()?;
        let mut page = self
            .store
            .list(after.as_deref(), limit.saturating_add(1))
            .await?;
        let next_token = if page.len() > limit {
            page.truncate(limit);
            page.last().map(|c| self.encode_token(c.client_id()))
        } else {
            None
        };
        Ok(ClientPage {
            clients: page,
            next_token,
        })
    }

    /// The opaque NextToken after `client_id`: base64url of a version tag, the pool id and the client id.
    /// It names a position only, which the caller has already seen, so it needs no MAC; it is bound to
    /// this pool so a token of another pool is refused.
    fn encode_token(&self, client_id: &str) -> String {
        let plain = format!("v1\n{}\n{client_id}", self.user_pool_id);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(plain)
    }

    pub(crate) fn decode_token(&self, token: &str) -> Result<String, Error> {
        let bad = || Error::InvalidParameter {
            message:
                "Invalid NextToken: it was not returned by ListUserPoolClients for this user pool."
                    .to_owned(),
        };
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| bad())?;
        let plain = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = plain.splitn(3, '\n');
        match (parts.next(), parts.next(), parts.next()) {
            (Some("v1"), Some(pool), Some(id))
                if pool == &*self.user_pool_id && id.len() <= 128 && patterns::word_plus(id) =>
            {
                Ok(id.to_owned())
            }
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::random::SystemRandom;

    fn registry() -> ClientRegistry {
        ClientRegistry::new(
            "us-east-1_Test",
            Arc::new(ManualClock::new(Timestamp::from_unix_seconds(
                1_700_000_000,
            ))),
            Arc::new(SystemRandom::new()),
        )
    }

    #[test]
    fn r_safe_2_debug_of_client_and_registry_hides_the_secret() {
        let r = registry();
        let c = r
            .create_client(AppClientConfig::builder("app"), NewClientSecret::Generate)
            .unwrap();
        let secret = c.secret().unwrap().expose_secret().to_owned();
        assert!(!format!("{c:?}").contains(&secret));
        assert!(!format!("{r:?}").contains(&secret));
        assert!(format!("{c:?}").contains("ClientSecret([REDACTED])"));
    }

    #[test]
    fn next_token_round_trips_and_rejects_garbage() {
        let r = registry();
        let t = r.encode_token("abc123");
        assert_eq!(r.decode_token(&t).unwrap(), "abc123");
        for bad in ["", "!!!", "djEKdXMtZWFzdC0xX090aGVyCmFiYw", "dj"] {
            assert!(r.decode_token(bad).is_err(), "{bad}");
        }
    }

    /// A store whose every answer is still pending after any number of polls: a store that awaits I/O.
    struct PendingStore;

    thread_local! {
        /// How many operations this thread started on a `PendingStore`.
        static STARTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    fn pending<'a, T: Send + 'a>() -> crate::future::BoxFuture<'a, T> {
        STARTED.with(|n| n.set(n.get() + 1));
        Box::pin(std::future::pending())
    }

    impl AsyncClientStore for PendingStore {
        fn get<'a>(
            &'a self,
            _: &'a str,
        ) -> crate::future::BoxFuture<'a, Result<Option<Arc<AppClient>>, StoreError>> {
            pending()
        }
        fn insert(
            &self,
            _: Arc<AppClient>,
            _: usize,
        ) -> crate::future::BoxFuture<'_, Result<(), StoreError>> {
            pending()
        }
        fn replace(
            &self,
            _: Arc<AppClient>,
            _: u64,
        ) -> crate::future::BoxFuture<'_, Result<Replace, StoreError>> {
            pending()
        }
        fn delete<'a>(
            &'a self,
            _: &'a str,
        ) -> crate::future::BoxFuture<'a, Result<bool, StoreError>> {
            pending()
        }
        fn list<'a>(
            &'a self,
            _: Option<&'a str>,
            _: usize,
        ) -> crate::future::BoxFuture<'a, Result<Vec<Arc<AppClient>>, StoreError>> {
            pending()
        }
        fn count(&self) -> crate::future::BoxFuture<'_, Result<usize, StoreError>> {
            pending()
        }
        fn declare_scope<'a>(
            &'a self,
            _: &'a str,
            _: usize,
        ) -> crate::future::BoxFuture<'a, Result<(), StoreError>> {
            pending()
        }
        fn is_scope_declared<'a>(
            &'a self,
            _: &'a str,
        ) -> crate::future::BoxFuture<'a, Result<bool, StoreError>> {
            pending()
        }
        fn scopes(&self) -> crate::future::BoxFuture<'_, Result<Vec<String>, StoreError>> {
            pending()
        }
    }

    #[test]
    fn r_eng_2_sync_methods_over_an_async_store_say_to_use_async_and_never_block() {
        let r = registry().with_store(Arc::new(PendingStore));
        let needs_async =
            |e: Error| matches!(e, Error::Internal { detail } if detail.contains("_async"));
        assert!(needs_async(r.get("abc").unwrap_err()));
        assert!(needs_async(r.len().unwrap_err()));
        assert!(needs_async(
            r.create_client(AppClientConfig::builder("app"), NewClientSecret::None)
                .unwrap_err()
        ));
        assert!(needs_async(r.delete_client("abc").unwrap_err()));
        assert!(needs_async(r.list_clients(10, None).unwrap_err()));
        assert!(needs_async(r.declare_custom_scope("api/read").unwrap_err()));
        assert!(needs_async(r.update_client_with("abc", |b| b).unwrap_err()));
        // Refused before anything started: no write is sent and then abandoned.
        assert_eq!(STARTED.with(std::cell::Cell::get), 0);
    }

    #[test]
    fn r_cli_1_restore_accepts_only_ids_of_the_create_shape() {
        assert!(is_client_id_shape("abcdefghijklmnopqrstuvwxy0"));
        for bad in [
            "",
            "ABCDEFGHIJKLMNOPQRSTUVWXY0",
            "abcdefghijklmnopqrstuvwxy",
            "abcdefghijklmnopqrstuvwxy_",
        ] {
            assert!(!is_client_id_shape(bad), "{bad}");
        }
    }
}
