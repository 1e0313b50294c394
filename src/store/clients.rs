//! App clients and declared custom scopes of one pool: the [`ClientStore`] contract (R-PER-1), its
//! asynchronous form [`AsyncClientStore`] (R-ENG-2), and the in-memory implementation.
//!
//! The [`ClientRegistry`](crate::ClientRegistry) validates and decides (ids, secrets, dates, Cognito's
//! rules); the store only keeps what the registry hands it, and offers the two conditional writes that
//! make the registry safe when several threads or processes share one store: an insert that refuses a
//! taken id or a full pool, and a compare-and-set replacement on the client's revision. Both map to one
//! SQL statement each, so a PostgreSQL store is natural:
//! `INSERT ... ON CONFLICT (pool_id, client_id) DO NOTHING` behind a per-pool count check, and
//! `UPDATE clients SET ..., revision = $rev + 1 WHERE pool_id = $1 AND client_id = $2 AND revision = $rev`.
//! Listing is keyset pagination on the client id (`WHERE client_id > $after ORDER BY client_id LIMIT n`).
//!
//! A store that persists clients must not write a client secret in the clear: seal it with a
//! [`SecretSealer`](super::SecretSealer), so that a dump of the database alone does not hand out the
//! secrets, while Describe can still return them (R-PER-1) and SECRET_HASH, which uses the secret as its
//! HMAC key, keeps working.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound;
use std::sync::Arc;

use parking_lot::RwLock;

use crate::client::AppClient;
use crate::error::StoreError;
use crate::future::{ready, BoxFuture};

/// The result of [`ClientStore::replace`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// The stored client was at the expected revision and has been replaced.
    Replaced,
    /// Nothing was written: the stored client is at another revision (another update came first).
    Conflict,
    /// Nothing was written: there is no client with this id (never created, or deleted).
    NotFound,
}

/// Storage for the app clients and declared custom scopes of one user pool (R-PER-1).
///
/// # Contract
/// One store serves one pool: every client it is handed belongs to the pool of the registry over it, and
/// a store shared by several pools must keep them apart (a pool id column in every key). Implementations
/// must be safe to call from many threads and, for shared backends, many processes at once; a read after
/// a write that returned must see the write (R-PER-4: a client created or updated through one instance is
/// used by the other's next request).
///
/// What must be atomic, and what a wrong implementation breaks:
/// - [`insert`](Self::insert) checks the id and the pool's size and writes in one atomic step. A store
///   that checks and then writes lets two creations share an id (one client's tokens then authenticate
///   as the other's) or grows the pool past its bound, which is the registry's defence against a
///   caller that creates clients without end.
/// - [`replace`](Self::replace) is a compare-and-set on [`AppClient::revision`]. A store that writes
///   unconditionally loses updates: two merge updates (R-CLI-4) computed from the same revision would
///   both report success while only the last survives, so a caller that turned rotation on or shortened
///   a grace window could see the change silently undone.
/// - [`delete`](Self::delete) is durable before it returns: the registry then revokes the client's
///   families (R-REV-7), and a client that reappears after that would make a deleted client's refresh
///   tokens answer again.
/// - [`declare_scope`](Self::declare_scope) is bounded atomically, like `insert`.
///
/// A refused operation (`Err(AlreadyExists)`, `Err(Full)`, [`Replace::Conflict`], [`Replace::NotFound`],
/// `false`) wrote nothing. As for the family store, an `Err` from a backend across a network is
/// ambiguous: the write may have been committed before the answer was lost.
///
/// Secrets: a persistent store keeps [`AppClient::secret`] sealed
/// ([`SecretSealer`](super::SecretSealer)) and gives it back on read, so that Describe returns it as
/// Cognito does (R-PER-1) and SECRET_HASH can be checked (it needs the secret itself as HMAC key).
///
/// The conformance suite (`testkit::clients`, behind the `test-kit` feature) checks all of this and
/// should be run against every implementation (R-PER-3).
pub trait ClientStore: Send + Sync {
    /// The client with this id, as last written, or `None`.
    fn get(&self, client_id: &str) -> Result<Option<Arc<AppClient>>, StoreError>;

    /// Atomically stores a new client, unless its id is taken ([`StoreError::AlreadyExists`], the
    /// existing client untouched) or the store already holds `max_clients` clients
    /// ([`StoreError::Full`]). The registry draws another id on `AlreadyExists`.
    fn insert(&self, client: Arc<AppClient>, max_clients: usize) -> Result<(), StoreError>;

    /// Atomically: if a client with `client`'s id is stored at revision `expected_revision`, replaces it
    /// with `client` (whose revision the registry has set to `expected_revision + 1`) and returns
    /// [`Replace::Replaced`]; otherwise writes nothing and says why.
    fn replace(
        &self,
        client: Arc<AppClient>,
        expected_revision: u64,
    ) -> Result<Replace, StoreError>;

    /// Deletes the client; returns whether it existed. Durable before it returns.
    fn delete(&self, client_id: &str) -> Result<bool, StoreError>;

    /// At most `limit` clients whose id is greater than `after` (all, without `after`), in ascending
    /// client-id order (byte order of the id). Clients created or deleted between two calls do not make
    /// a walk page by page repeat or skip one that stayed.
    fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<Arc<AppClient>>, StoreError>;

    /// How many clients the store holds.
    fn count(&self) -> Result<usize, StoreError>;

    /// Records that the custom scope `scope` exists (R-CFG-13), unless `max_scopes` scopes are declared
    /// already ([`StoreError::Full`]). Declaring a declared scope again succeeds and changes nothing,
    /// even at the bound. The registry has checked the scope's shape.
    fn declare_scope(&self, scope: &str, max_scopes: usize) -> Result<(), StoreError>;

    /// Whether `scope` has been declared.
    fn is_scope_declared(&self, scope: &str) -> Result<bool, StoreError>;

    /// Every declared scope, in any order.
    fn scopes(&self) -> Result<Vec<String>, StoreError>;
}

impl<S: ClientStore + ?Sized> ClientStore for Arc<S> {
    fn get(&self, client_id: &str) -> Result<Option<Arc<AppClient>>, StoreError> {
        (**self).get(client_id)
    }
    fn insert(&self, client: Arc<AppClient>, max_clients: usize) -> Result<(), StoreError> {
        (**self).insert(client, max_clients)
    }
    fn replace(
        &self,
        client: Arc<AppClient>,
        expected_revision: u64,
    ) -> Result<Replace, StoreError> {
        (**self).replace(client, expected_revision)
    }
    fn delete(&self, client_id: &str) -> Result<bool, StoreError> {
        (**self).delete(client_id)
    }
    fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<Arc<AppClient>>, StoreError> {
        (**self).list(after, limit)
    }
    fn count(&self) -> Result<usize, StoreError> {
        (**self).count()
    }
    fn declare_scope(&self, scope: &str, max_scopes: usize) -> Result<(), StoreError> {
        (**self).declare_scope(scope, max_scopes)
    }
    fn is_scope_declared(&self, scope: &str) -> Result<bool, StoreError> {
        (**self).is_scope_declared(scope)
    }
    fn scopes(&self) -> Result<Vec<String>, StoreError> {
        (**self).scopes()
    }
}

/// Storage for the app clients of one pool, awaited (R-ENG-2). The contract is [`ClientStore`]'s,
/// operation for operation.
///
/// Every synchronous store is also an asynchronous one (a blanket implementation answers with a
/// completed future), so the in-memory store serves both drivers. A store that awaits I/O (the
/// PostgreSQL store) implements this trait natively; the registry then must be driven through its
/// `_async` methods.
pub trait AsyncClientStore: Send + Sync {
    /// Whether every future of this store completes on its first poll, as those of a synchronous store
    /// do. The registry's synchronous methods serve only such a store: over a store that awaits I/O they
    /// refuse before starting anything, so no write can be sent and then abandoned. Defaults to `false`.
    fn answers_at_once(&self) -> bool {
        false
    }

    /// As [`ClientStore::get`].
    fn get<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<AppClient>>, StoreError>>;

    /// As [`ClientStore::insert`].
    fn insert(
        &self,
        client: Arc<AppClient>,
        max_clients: usize,
    ) -> BoxFuture<'_, Result<(), StoreError>>;

    /// As [`ClientStore::replace`].
    fn replace(
        &self,
        client: Arc<AppClient>,
        expected_revision: u64,
    ) -> BoxFuture<'_, Result<Replace, StoreError>>;

    /// As [`ClientStore::delete`].
    fn delete<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// As [`ClientStore::list`].
    fn list<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Arc<AppClient>>, StoreError>>;

    /// As [`ClientStore::count`].
    fn count(&self) -> BoxFuture<'_, Result<usize, StoreError>>;

    /// As [`ClientStore::declare_scope`].
    fn declare_scope<'a>(
        &'a self,
        scope: &'a str,
        max_scopes: usize,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// As [`ClientStore::is_scope_declared`].
    fn is_scope_declared<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// As [`ClientStore::scopes`].
    fn scopes(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
}

impl<S: ClientStore + ?Sized> AsyncClientStore for S {
    fn answers_at_once(&self) -> bool {
        true
    }
    fn get<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<AppClient>>, StoreError>> {
        ready(ClientStore::get(self, client_id))
    }
    fn insert(
        &self,
        client: Arc<AppClient>,
        max_clients: usize,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        ready(ClientStore::insert(self, client, max_clients))
    }
    fn replace(
        &self,
        client: Arc<AppClient>,
        expected_revision: u64,
    ) -> BoxFuture<'_, Result<Replace, StoreError>> {
        ready(ClientStore::replace(self, client, expected_revision))
    }
    fn delete<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        ready(ClientStore::delete(self, client_id))
    }
    fn list<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Arc<AppClient>>, StoreError>> {
        ready(ClientStore::list(self, after, limit))
    }
    fn count(&self) -> BoxFuture<'_, Result<usize, StoreError>> {
        ready(ClientStore::count(self))
    }
    fn declare_scope<'a>(
        &'a self,
        scope: &'a str,
        max_scopes: usize,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        ready(ClientStore::declare_scope(self, scope, max_scopes))
    }
    fn is_scope_declared<'a>(&'a self, scope: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        ready(ClientStore::is_scope_declared(self, scope))
    }
    fn scopes(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        ready(ClientStore::scopes(self))
    }
}

/// The in-memory client store: a sorted map behind a read-write lock. What a
/// [`ClientRegistry`](crate::ClientRegistry) uses unless given another store.
///
/// A read is one read lock and an `Arc` clone, so the issuer's client lookup on every refresh stays
/// cheap. Every write takes the write lock for a few map operations, which makes `insert` and `replace`
/// atomic as the contract demands. Nothing survives the process.
#[derive(Default)]
pub struct InMemoryClientStore {
    clients: RwLock<BTreeMap<Arc<str>, Arc<AppClient>>>,
    scopes: RwLock<BTreeSet<String>>,
}

impl InMemoryClientStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl fmt::Debug for InMemoryClientStore {
    // Counts only: the clients' secrets are redacted anyway, but their configurations are not the
    // business of a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryClientStore")
            .field("clients", &self.clients.read().len())
            .field("scopes", &self.scopes.read().len())
            .finish()
    }
}

impl ClientStore for InMemoryClientStore {
    fn get(&self, client_id: &str) -> Result<Option<Arc<AppClient>>, StoreError> {
        Ok(self.clients.read().get(client_id).cloned())
    }

    fn insert(&self, client: Arc<AppClient>, max_clients: usize) -> Result<(), StoreError> {
        let mut clients = self.clients.write();
        if clients.contains_key(client.client_id()) {
            return Err(StoreError::AlreadyExists);
        }
        if clients.len() >= max_clients {
            return Err(StoreError::Full);
        }
        clients.insert(client.client_id().clone(), client);
        Ok(())
    }

    fn replace(
        &self,
        client: Arc<AppClient>,
        expected_revision: u64,
    ) -> Result<Replace, StoreError> {
        let mut clients = self.clients.write();
        match clients.get_mut(client.client_id()) {
            None => Ok(Replace::NotFound),
            Some(stored) if stored.revision() != expected_revision => Ok(Replace::Conflict),
            Some(stored) => {
                *stored = client;
                Ok(Replace::Replaced)
            }
        }
    }

    fn delete(&self, client_id: &str) -> Result<bool, StoreError> {
        Ok(self.clients.write().remove(client_id).is_some())
    }

    fn list(&self, after: Option<&str>, limit: usize) -> Result<Vec<Arc<AppClient>>, StoreError> {
        let lower = after.map_or(Bound::Unbounded, Bound::Excluded);
        Ok(self
            .clients
            .read()
            .range::<str, _>((lower, Bound::Unbounded))
            .take(limit)
            .map(|(_, c)| c.clone())
            .collect())
    }

    fn count(&self) -> Result<usize, StoreError> {
        Ok(self.clients.read().len())
    }

    fn declare_scope(&self, scope: &str, max_scopes: usize) -> Result<(), StoreError> {
        let mut scopes = self.scopes.write();
        if scopes.contains(scope) {
            return Ok(());
        }
        if scopes.len() >= max_scopes {
            return Err(StoreError::Full);
        }
        scopes.insert(scope.to_owned());
        Ok(())
    }

    fn is_scope_declared(&self, scope: &str) -> Result<bool, StoreError> {
        Ok(self.scopes.read().contains(scope))
    }

    fn scopes(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.scopes.read().iter().cloned().collect())
    }
}
