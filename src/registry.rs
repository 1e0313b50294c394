//! The client registry: CreateUserPoolClient / DescribeUserPoolClient / UpdateUserPoolClient /
//! DeleteUserPoolClient / ListUserPoolClients semantics for one user pool (SPEC 2.3).
//!
//! SKELETON: `AppClient` and `ClientRegistry::get` are the interface the issuer relies on; the lifecycle
//! operations are filled in by issue 2.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::clock::Timestamp;
use crate::config::AppClientConfig;
use crate::secret::ClientSecret;

/// A registered app client: its id, secret, configuration and dates.
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

/// The app clients of one user pool.
pub struct ClientRegistry {
    user_pool_id: Arc<str>,
    clients: RwLock<HashMap<Arc<str>, Arc<AppClient>>>,
}

impl ClientRegistry {
    /// The pool this registry serves.
    pub fn user_pool_id(&self) -> &str {
        &self.user_pool_id
    }

    /// The client with this id, as it is now. Cheap: one read lock and an `Arc` clone.
    pub fn get(&self, client_id: &str) -> Option<Arc<AppClient>> {
        self.clients.read().get(client_id).cloned()
    }
}
