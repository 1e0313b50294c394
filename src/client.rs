//! An app client as the issuer sees it: id, secret, validated configuration, dates and revision.
//!
//! [`AppClient`] is a value shared by the registry, the client stores and the engine, so it lives below
//! all three: the registry creates and replaces clients, a [`ClientStore`](crate::store::ClientStore)
//! keeps them, and the engine decides with a snapshot of one. Nothing here does I/O.

/// Length of a client id (R-CLI-1).
pub(crate) const CLIENT_ID_LEN: usize = 26;
/// Length of a generated client secret (R-CLI-1).
pub(crate) const CLIENT_SECRET_LEN: usize = 51;

use std::sync::Arc;

use crate::clock::Timestamp;
use crate::config::AppClientConfig;
use crate::secret::ClientSecret;

/// A registered app client: its id, secret, configuration, dates and revision.
///
/// Immutable: an update makes a new value with the next [`revision`](Self::revision), which a client
/// store writes with a compare-and-set, so that two concurrent updates cannot both win (R-CLI-4).
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
    revision: u64,
}

/// Everything an [`AppClient`] is made of, for a client store that rebuilds a client it persisted
/// ([`AppClient::from_parts`]).
///
/// `Debug` shows the secret as `ClientSecret([REDACTED])`.
#[derive(Debug, Clone)]
pub struct AppClientParts {
    /// The client id (26 characters of `[a-z0-9]` for every client the registry creates or restores).
    pub client_id: Arc<str>,
    /// The pool the client belongs to: the pool of the store's registry.
    pub user_pool_id: Arc<str>,
    /// The client secret, if the client has one.
    pub secret: Option<ClientSecret>,
    /// The configuration, as validated when the client was created or last updated.
    pub config: AppClientConfig,
    /// CreationDate (R-CLI-2).
    pub creation_date: Timestamp,
    /// LastModifiedDate (R-CLI-2).
    pub last_modified_date: Timestamp,
    /// The revision: 0 when created, a random value from 2^32 to 2^62 when restored (so that an update
    /// computed from a deleted client of the same id never matches the restored one), one more at each
    /// update.
    pub revision: u64,
}

impl AppClient {
    /// The length of a client id the registry assigns: 26 characters of `[a-z0-9]` (R-CLI-1).
    pub const ID_LEN: usize = CLIENT_ID_LEN;

    /// The length of a client secret the registry generates: 51 characters of `[a-z0-9]` (R-CLI-1).
    pub const SECRET_LEN: usize = CLIENT_SECRET_LEN;

    /// Rebuilds a client from its parts, as a store does after reading one it persisted.
    ///
    /// No check is made beyond what the types guarantee (the configuration is validated by
    /// construction): the parts must be those of a client the registry stored. To bring in a client
    /// from elsewhere, use [`ClientRegistry::restore_client`](crate::ClientRegistry::restore_client),
    /// which validates the id, the secret, the dates and the configuration in the pool's context.
    pub fn from_parts(parts: AppClientParts) -> AppClient {
        AppClient {
            client_id: parts.client_id,
            user_pool_id: parts.user_pool_id,
            secret: parts.secret,
            config: parts.config,
            creation_date: parts.creation_date,
            last_modified_date: parts.last_modified_date,
            revision: parts.revision,
        }
    }

    /// The parts of this client, for a store that persists it.
    pub fn to_parts(&self) -> AppClientParts {
        AppClientParts {
            client_id: self.client_id.clone(),
            user_pool_id: self.user_pool_id.clone(),
            secret: self.secret.clone(),
            config: self.config.clone(),
            creation_date: self.creation_date,
            last_modified_date: self.last_modified_date,
            revision: self.revision,
        }
    }

    /// This client with `config`, modified at `now`: the next revision, with the same id, secret and
    /// CreationDate (R-CLI-2, R-CLI-3). `None` if the revision counter is exhausted.
    ///
    /// LastModifiedDate never moves backwards: a clock that stepped back, or a client restored with
    /// dates ahead of this clock, keeps the previous one (and so never falls before CreationDate).
    pub(crate) fn updated(&self, config: AppClientConfig, now: Timestamp) -> Option<AppClient> {
        Some(AppClient {
            client_id: self.client_id.clone(),
            user_pool_id: self.user_pool_id.clone(),
            secret: self.secret.clone(),
            config,
            creation_date: self.creation_date,
            last_modified_date: now.max(self.last_modified_date),
            revision: self.revision.checked_add(1)?,
        })
    }

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
    /// The revision: 0 when the client was created, a random value from 2^32 to 2^62 when it was restored
    /// (so that an update computed from a deleted client of the same id never matches the restored
    /// one), one more at each update. A client store replaces a client only at the revision the update
    /// was computed from (R-CLI-4).
    pub fn revision(&self) -> u64 {
        self.revision
    }
}
