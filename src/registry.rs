//! The client registry: CreateUserPoolClient / DescribeUserPoolClient / UpdateUserPoolClient /
//! DeleteUserPoolClient / ListUserPoolClients semantics for one user pool (SPEC 2.3).
//!
//! A [`ClientRegistry`] holds the app clients of one pool behind a read-write lock. Clients are immutable
//! [`AppClient`] values behind `Arc`s: a refresh takes one read lock and one `Arc` clone
//! ([`ClientRegistry::get`]) and then works on a snapshot, while Create/Update/Delete swap whole values.
//! Every operation validates first and changes nothing when validation fails. Client ids and secrets come
//! from the injected [`RandomSource`], dates from the injected [`Clock`].
//!
//! The registry speaks typed Rust ([`ClientRegistry::create_client`],
//! [`ClientRegistry::update_client_with`], ...) and knows nothing of Cognito's JSON shapes (R-ENG-3):
//! the wire adapter implements CreateUserPoolClient and the other client operations over it
//! ([`wire::UserPoolClientOperations`](crate::wire::UserPoolClientOperations)).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound;
use std::sync::Arc;

use base64::Engine as _;
use parking_lot::RwLock;

use crate::clock::{Clock, Timestamp};
use crate::config::{
    check_max_results, check_next_token, check_secret_request, patterns, validate_config,
    AppClientConfig, AppClientConfigBuilder, RawConfig, ValidationContext,
};
use crate::error::{Error, Violation};
use crate::random::{random_string, RandomSource};
use crate::secret::ClientSecret;
use crate::store::RefreshTokenStore;

/// Alphabet of client ids and generated secrets (R-CLI-1).
const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Length of a client id (R-CLI-1).
pub const CLIENT_ID_LEN: usize = 26;
/// Length of a generated client secret (R-CLI-1).
pub const CLIENT_SECRET_LEN: usize = 51;
/// Default bound on the number of clients in one registry ([`ClientRegistry::with_max_clients`]); Cognito's
/// default quota of app clients per user pool.
pub const DEFAULT_MAX_CLIENTS: usize = 1_000;
/// Bound on the number of declared custom scopes (Cognito: 25 resource servers of 100 scopes each).
pub const MAX_CUSTOM_SCOPES: usize = 2_500;
/// Attempts at a compare-and-swap update, or at drawing a fresh client id, before giving up.
const ATTEMPTS: usize = 8;

/// A registered app client: its id, secret, configuration and dates.
///
/// `Debug` shows the secret as `ClientSecret([REDACTED])`.
#[derive(Debug, Clone)]
pub struct AppClient {
    client_id: Arc<str>,
    user_pool_id: Arc<str>,
    secret: Option<ClientSecret>,
    config: AppClientConfig,
    creation_date: Timestamp,
    last_modified_date: Timestamp,
}

impl AppClient {
    /// The 26-character client id (R-CLI-1). Shared, so families can hold it without a copy.
    pub fn client_id(&self) -> &Arc<str> {
        &self.client_id
    }
    /// The pool the client belongs to.
    pub fn user_pool_id(&self) -> &str {
        &self.user_pool_id
    }
    /// The client secret, if the client has one.
    pub fn secret(&self) -> Option<&ClientSecret> {
        self.secret.as_ref()
    }
    /// The validated configuration.
    pub fn config(&self) -> &AppClientConfig {
        &self.config
    }
    /// CreationDate (R-CLI-2).
    pub fn creation_date(&self) -> Timestamp {
        self.creation_date
    }
    /// LastModifiedDate (R-CLI-2).
    pub fn last_modified_date(&self) -> Timestamp {
        self.last_modified_date
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

/// The app clients of one user pool.
pub struct ClientRegistry {
    user_pool_id: Arc<str>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn RandomSource>,
    max_clients: usize,
    clients: RwLock<BTreeMap<Arc<str>, Arc<AppClient>>>,
    custom_scopes: RwLock<BTreeSet<String>>,
    /// The family stores of the issuers built over this registry (one, in any sensible set-up), so that
    /// deleting a client revokes its families (R-REV-7).
    families: RwLock<Vec<Arc<dyn RefreshTokenStore>>>,
}

impl fmt::Debug for ClientRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientRegistry")
            .field("user_pool_id", &self.user_pool_id)
            .field("clients", &self.len())
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

impl ClientRegistry {
    /// An empty registry for pool `user_pool_id` (a UserPoolIdType such as `us-east-1_Example`), taking
    /// dates from `clock` and ids and secrets from `rng`.
    ///
    /// Holds at most [`DEFAULT_MAX_CLIENTS`] clients unless changed with [`with_max_clients`](Self::with_max_clients).
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
            clients: RwLock::new(BTreeMap::new()),
            custom_scopes: RwLock::new(BTreeSet::new()),
            families: RwLock::new(Vec::new()),
        }
    }

    /// Links a family store, so that deleting a client revokes its families there (R-REV-7).
    /// [`TokenIssuerBuilder::build`](crate::TokenIssuerBuilder::build) does this for its store.
    pub(crate) fn link_family_store(&self, store: &Arc<dyn RefreshTokenStore>) {
        let mut stores = self.families.write();
        if !stores.iter().any(|s| Arc::ptr_eq(s, store)) {
            stores.push(Arc::clone(store));
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

    /// The client with this id, as it is now. Cheap: one read lock and an `Arc` clone.
    pub fn get(&self, client_id: &str) -> Option<Arc<AppClient>> {
        self.clients.read().get(client_id).cloned()
    }

    /// How many clients the pool has.
    pub fn len(&self) -> usize {
        self.clients.read().len()
    }

    /// Whether the pool has no client.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Declares a custom scope `<resource-server-identifier>/<name>` so that clients may list it in
    /// AllowedOAuthScopes (R-CFG-13), as creating a resource server does in Cognito.
    ///
    /// The scope must be a ScopeType (1..=256 characters of `[\x21\x23-\x5B\x5D-\x7E]`) with a non-empty
    /// identifier and name around its last `/`. Declaring a scope twice is harmless; at most
    /// [`MAX_CUSTOM_SCOPES`] can be declared.
    pub fn declare_custom_scope(&self, scope: &str) -> Result<(), Error> {
        let well_formed = scope.len() <= 256
            && patterns::scope(scope)
            && scope
                .rsplit_once('/')
                .is_some_and(|(id, name)| !id.is_empty() && !name.is_empty());
        if !well_formed {
            let shown: String = scope.chars().take(256).collect();
            return Err(Error::InvalidParameter {
                message: format!(
                    "Custom scope '{shown}' must have the form <resource-server-identifier>/<name> and \
                     satisfy the ScopeType pattern [\\x21\\x23-\\x5B\\x5D-\\x7E]+ (at most 256 characters)."
                ),
            });
        }
        let mut scopes = self.custom_scopes.write();
        if !scopes.contains(scope) && scopes.len() >= MAX_CUSTOM_SCOPES {
            return Err(Error::LimitExceeded {
                message: format!("At most {MAX_CUSTOM_SCOPES} custom scopes can be declared."),
            });
        }
        scopes.insert(scope.to_owned());
        Ok(())
    }

    /// Whether `scope` has been declared with [`declare_custom_scope`](Self::declare_custom_scope).
    pub fn is_custom_scope_declared(&self, scope: &str) -> bool {
        self.custom_scopes.read().contains(scope)
    }

    /// Validates `raw` in this pool's context (its declared custom scopes), appending violations to
    /// `out`. Crate-internal so that the wire adapter can report a request's own violations and the
    /// configuration's in one list; `has_secret` is `None` when the client could not be identified.
    pub(crate) fn validate_in_pool(
        &self,
        raw: &RawConfig,
        has_secret: Option<bool>,
        require_client_name: bool,
        out: &mut Vec<Violation>,
    ) -> Option<AppClientConfig> {
        let scopes = self.custom_scopes.read();
        let ctx = ValidationContext {
            has_secret,
            custom_scopes: Some(&scopes),
            require_client_name,
        };
        validate_config(raw, &ctx, out)
    }

    // ---------------------------------------------------------------- Create

    /// Creates a client with `config` and `secret` (CreateUserPoolClient for Rust callers).
    ///
    /// Validation is that of a wire request, in this pool's context (R-CFG); on any violation nothing is
    /// stored. The client gets a fresh 26-character id and, with [`NewClientSecret::Generate`], a
    /// 51-character secret (R-CLI-1); both dates are now (R-CLI-2).
    pub fn create_client(
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
        let config = self.validate_in_pool(&config.raw, Some(has_secret), true, &mut out);
        match config {
            Some(config) if out.is_empty() => self.insert_new(config, generate, provided),
            _ => Err(Error::invalid_config(out)),
        }
    }

    /// Stores a new client with a validated `config`: a fresh id, and a generated secret, `provided`, or
    /// none. The wire adapter's Create validates itself and then calls this, as `create_client` does.
    pub(crate) fn insert_new(
        &self,
        config: AppClientConfig,
        generate: bool,
        provided: Option<ClientSecret>,
    ) -> Result<Arc<AppClient>, Error> {
        self.check_capacity(self.len())?;
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
            let mut clients = self.clients.write();
            self.check_capacity(clients.len())?;
            if clients.contains_key(&id) {
                continue;
            }
            let client = Arc::new(AppClient {
                client_id: id.clone(),
                user_pool_id: self.user_pool_id.clone(),
                secret: secret.clone(),
                config: config.clone(),
                creation_date: now,
                last_modified_date: now,
            });
            clients.insert(id, client.clone());
            return Ok(client);
        }
        // 36^26 ids: repeated collisions mean the random source is broken.
        Err(Error::Internal {
            detail: "random source keeps producing existing client ids",
        })
    }

    fn check_capacity(&self, len: usize) -> Result<(), Error> {
        if len >= self.max_clients {
            return Err(Error::LimitExceeded {
                message: format!(
                    "User pool {} already has the maximum number of app clients ({}).",
                    self.user_pool_id, self.max_clients
                ),
            });
        }
        Ok(())
    }

    // ---------------------------------------------------------------- Describe

    /// The client with this id, or `ResourceNotFoundException` (R-CLI-5).
    pub fn describe_client(&self, client_id: &str) -> Result<Arc<AppClient>, Error> {
        self.get(client_id).ok_or_else(|| not_found(client_id))
    }

    // ---------------------------------------------------------------- Update

    /// Replaces the configuration of client `client_id` with `config` (UpdateUserPoolClient for Rust
    /// callers, R-CLI-3): every field not set in `config` takes its default. The secret and CreationDate
    /// are kept; LastModifiedDate is now (R-CLI-2).
    pub fn replace_client(
        &self,
        client_id: &str,
        config: AppClientConfigBuilder,
    ) -> Result<Arc<AppClient>, Error> {
        let current = self.describe_client(client_id)?;
        let mut out = Vec::new();
        let config =
            self.validate_in_pool(&config.raw, Some(current.secret.is_some()), true, &mut out);
        match config {
            Some(config) if out.is_empty() => self.store_replacement(client_id, config),
            _ => Err(Error::invalid_config(out)),
        }
    }

    /// Changes some fields of client `client_id` and keeps the rest (R-CLI-4): `change` receives a builder
    /// holding the current configuration and returns the new one, which is validated like any Update.
    ///
    /// The change applies to the configuration it was computed from: if another update lands in between,
    /// `change` runs again on the newer configuration (a few times at most; then the update fails with an
    /// internal error rather than overwrite the other update).
    pub fn update_client_with(
        &self,
        client_id: &str,
        mut change: impl FnMut(AppClientConfigBuilder) -> AppClientConfigBuilder,
    ) -> Result<Arc<AppClient>, Error> {
        for _ in 0..ATTEMPTS {
            let current = self.describe_client(client_id)?;
            let builder = change(current.config.to_builder());
            let mut out = Vec::new();
            let config =
                self.validate_in_pool(&builder.raw, Some(current.secret.is_some()), true, &mut out);
            let config = match config {
                Some(c) if out.is_empty() => c,
                _ => return Err(Error::invalid_config(out)),
            };
            if let Some(client) = self.store_update(client_id, config, Some(&current))? {
                return Ok(client);
            }
        }
        Err(Error::Internal {
            detail: "too many concurrent updates of one client",
        })
    }

    /// Stores a validated `config` for `client_id` whatever its current configuration (a full
    /// replacement, R-CLI-3), keeping id, secret and CreationDate.
    pub(crate) fn store_replacement(
        &self,
        client_id: &str,
        config: AppClientConfig,
    ) -> Result<Arc<AppClient>, Error> {
        self.store_update(client_id, config, None)?
            .ok_or_else(|| not_found(client_id))
    }

    /// Stores `config` for `client_id`, keeping id, secret and CreationDate. With `expected`, only if the
    /// stored client is still that one: `Ok(None)` means another update came first (callers retry).
    fn store_update(
        &self,
        client_id: &str,
        config: AppClientConfig,
        expected: Option<&Arc<AppClient>>,
    ) -> Result<Option<Arc<AppClient>>, Error> {
        let now = self.clock.now();
        let mut clients = self.clients.write();
        let stored = clients.get(client_id).ok_or_else(|| not_found(client_id))?;
        if expected.is_some_and(|e| !Arc::ptr_eq(e, stored)) {
            return Ok(None);
        }
        let client = Arc::new(AppClient {
            client_id: stored.client_id.clone(),
            user_pool_id: stored.user_pool_id.clone(),
            secret: stored.secret.clone(),
            config,
            creation_date: stored.creation_date,
            last_modified_date: now,
        });
        clients.insert(client.client_id.clone(), client.clone());
        Ok(Some(client))
    }

    // ---------------------------------------------------------------- Delete

    /// Deletes client `client_id`; its refresh tokens stop working, as the issuer no longer finds the
    /// client (R-CLI-6), and once an issuer has been built over this registry every family of the client
    /// is revoked, so that its outstanding ID and access tokens fail store-backed verification (R-REV-7).
    /// Unknown client: `ResourceNotFoundException` (R-CLI-5).
    ///
    /// The client is removed first, so no refresh succeeds from that moment; a sign-in that read the
    /// client before and creates its family after the revocation revokes that family itself. If the
    /// store fails to revoke, the error is returned and the client stays deleted: its families can no
    /// longer refresh, and [`RefreshTokenStore::revoke_client`] finishes the revocation of their JWTs.
    pub fn delete_client(&self, client_id: &str) -> Result<(), Error> {
        if self.clients.write().remove(client_id).is_none() {
            return Err(not_found(client_id));
        }
        let stores = self.families.read().clone();
        for store in stores {
            store.revoke_client(client_id)?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- List

    /// One page of at most `max_results` (1..=60) clients in client-id order, starting after the position
    /// `next_token` names (R-CLI-7). Clients created or deleted between pages do not disturb the walk.
    pub fn list_clients(
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
        let clients = self.clients.read();
        let lower = match &after {
            Some(id) => Bound::Excluded(id.as_str()),
            None => Bound::Unbounded,
        };
        let mut page: Vec<Arc<AppClient>> = clients
            .range::<str, _>((lower, Bound::Unbounded))
            .take(limit.saturating_add(1))
            .map(|(_, c)| c.clone())
            .collect();
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

    fn decode_token(&self, token: &str) -> Result<String, Error> {
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
}
