//! [`BlockingPgStore`]: the asynchronous store behind the synchronous [`RefreshTokenStore`] trait, for
//! hosts that run the synchronous [`TokenIssuer`](refresh_rotation::TokenIssuer).
//!
//! Each operation is the asynchronous one, run to completion with [`Handle::block_on`] on the runtime
//! that owns the store's connections. That runtime must be a multi-thread one: its worker threads drive
//! the connections' background tasks while the calling thread waits. On a current-thread runtime
//! nothing would drive them (only `Runtime::block_on` does), and every call would hang, so the adapter
//! refuses such a handle when it is built.

use std::fmt;

use refresh_rotation::clock::Timestamp;
use refresh_rotation::error::StoreError;
use refresh_rotation::store::AsyncRefreshTokenStore;
use refresh_rotation::store::{
    Advance, Family, FamilyId, FamilyRead, PurgeCutoff, RefreshTokenStore,
};
use tokio::runtime::{Handle, RuntimeFlavor};

use crate::PgRefreshTokenStore;

/// Refuses a runtime that [`Handle::block_on`] cannot make progress on by itself.
pub(crate) fn check_flavor(handle: &Handle) -> Result<(), StoreError> {
    match handle.runtime_flavor() {
        RuntimeFlavor::CurrentThread => Err(StoreError::Backend(
            "BlockingPgStore needs a multi-thread tokio runtime: on a current-thread runtime nothing \
             drives the connections while a caller blocks"
                .to_owned(),
        )),
        _ => Ok(()),
    }
}

/// A [`PgRefreshTokenStore`] as a synchronous [`RefreshTokenStore`], for the synchronous
/// [`TokenIssuer`](refresh_rotation::TokenIssuer). Make one with [`PgRefreshTokenStore::blocking`] or
/// [`PgStoreBuilder::connect_blocking`](crate::PgStoreBuilder::connect_blocking).
///
/// Every call blocks the calling thread until the database answers (a round trip or two). Call it from
/// plain threads (a synchronous server's workers, `tokio::task::spawn_blocking`), **never from inside
/// an asynchronous context** (a task or an `async fn` on a runtime): tokio panics when `block_on` is
/// called there. An async service uses [`PgRefreshTokenStore`] with
/// [`AsyncTokenIssuer`](refresh_rotation::AsyncTokenIssuer) instead. For the same reason, do not hand a
/// `BlockingPgStore` to an `AsyncTokenIssuer`, although the core's blanket implementation makes every
/// synchronous store an asynchronous one too.
///
/// Cheap to clone: clones share the pool.
#[derive(Clone)]
pub struct BlockingPgStore {
    store: PgRefreshTokenStore,
    handle: Handle,
}

impl fmt::Debug for BlockingPgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingPgStore")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl PgRefreshTokenStore {
    /// This store as a synchronous [`RefreshTokenStore`], running its operations on the runtime of
    /// `handle`, which must be the multi-thread runtime the store was connected on (its connections'
    /// tasks run there). Fails for a current-thread runtime, on which blocking calls could never finish.
    /// See [`BlockingPgStore`] for where it may be called from.
    pub fn blocking(&self, handle: Handle) -> Result<BlockingPgStore, StoreError> {
        check_flavor(&handle)?;
        Ok(BlockingPgStore {
            store: self.clone(),
            handle,
        })
    }
}

impl BlockingPgStore {
    /// The asynchronous store underneath (sharing the pool).
    pub fn as_async(&self) -> &PgRefreshTokenStore {
        &self.store
    }

    /// The quoted, qualified table name the store uses.
    pub fn table_name(&self) -> String {
        self.store.table_name()
    }

    /// [`PgRefreshTokenStore::migrate`], blocking.
    pub fn migrate(&self) -> Result<(), StoreError> {
        self.handle.block_on(self.store.migrate())
    }
}

impl RefreshTokenStore for BlockingPgStore {
    fn create(&self, family: Family) -> Result<(), StoreError> {
        self.handle
            .block_on(AsyncRefreshTokenStore::create(&self.store, family))
    }

    fn read(&self, id: &FamilyId) -> Result<FamilyRead, StoreError> {
        self.handle
            .block_on(AsyncRefreshTokenStore::read(&self.store, id))
    }

    fn advance(
        &self,
        id: &FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> Result<Advance, StoreError> {
        self.handle.block_on(AsyncRefreshTokenStore::advance(
            &self.store,
            id,
            expected,
            grace_deadline,
            key_id,
        ))
    }

    fn bind_device(&self, id: &FamilyId, device_key: &str) -> Result<Option<Family>, StoreError> {
        self.handle.block_on(AsyncRefreshTokenStore::bind_device(
            &self.store,
            id,
            device_key,
        ))
    }

    fn confirm_device(&self, id: &FamilyId, device_key: &str) -> Result<bool, StoreError> {
        self.handle.block_on(AsyncRefreshTokenStore::confirm_device(
            &self.store,
            id,
            device_key,
        ))
    }

    fn revoke(&self, id: &FamilyId) -> Result<bool, StoreError> {
        self.handle
            .block_on(AsyncRefreshTokenStore::revoke(&self.store, id))
    }

    fn revoke_subject(&self, subject: &str) -> Result<usize, StoreError> {
        self.handle
            .block_on(AsyncRefreshTokenStore::revoke_subject(&self.store, subject))
    }

    fn revoke_client(&self, client_id: &str) -> Result<usize, StoreError> {
        self.handle.block_on(AsyncRefreshTokenStore::revoke_client(
            &self.store,
            client_id,
        ))
    }

    fn purge_expired(&self, cutoff: PurgeCutoff, max: usize) -> Result<usize, StoreError> {
        self.handle.block_on(AsyncRefreshTokenStore::purge_expired(
            &self.store,
            cutoff,
            max,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_current_thread_runtime_is_refused_a_multi_thread_one_accepted() {
        let current = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(matches!(
            check_flavor(current.handle()),
            Err(StoreError::Backend(m)) if m.contains("multi-thread")
        ));
        let multi = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        assert!(check_flavor(multi.handle()).is_ok());
    }
}
