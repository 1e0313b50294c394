//! A store whose every call yields to the executor before answering.

use refresh_rotation::clock::Timestamp;
use refresh_rotation::error::StoreError;
use refresh_rotation::store::{
    Advance, AsyncRefreshTokenStore, BoxFuture, Family, FamilyId, FamilyRead,
    InMemoryRefreshTokenStore, PurgeCutoff, RefreshTokenStore,
};

/// The in-memory store behind futures that yield to the executor before answering, so that requests
/// interleave at every store call as they would against a database.
#[derive(Default)]
pub struct YieldingStore(pub InMemoryRefreshTokenStore);

pub async fn yielded<T>(value: T) -> T {
    tokio::task::yield_now().await;
    value
}

impl AsyncRefreshTokenStore for YieldingStore {
    fn create(&self, family: Family) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move { yielded(RefreshTokenStore::create(&self.0, family)).await })
    }
    fn read<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<FamilyRead, StoreError>> {
        Box::pin(async move { yielded(RefreshTokenStore::read(&self.0, id)).await })
    }
    fn advance<'a>(
        &'a self,
        id: &'a FamilyId,
        expected: u32,
        deadline: Timestamp,
        key_id: u32,
    ) -> BoxFuture<'a, Result<Advance, StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            RefreshTokenStore::advance(&self.0, id, expected, deadline, key_id)
        })
    }
    fn bind_device<'a>(
        &'a self,
        id: &'a FamilyId,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Family>, StoreError>> {
        Box::pin(async move { yielded(RefreshTokenStore::bind_device(&self.0, id, key)).await })
    }
    fn confirm_device<'a>(
        &'a self,
        id: &'a FamilyId,
        key: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { yielded(RefreshTokenStore::confirm_device(&self.0, id, key)).await })
    }
    fn revoke<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move { yielded(RefreshTokenStore::revoke(&self.0, id)).await })
    }
    fn revoke_subject<'a>(&'a self, s: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        Box::pin(async move { yielded(RefreshTokenStore::revoke_subject(&self.0, s)).await })
    }
    fn revoke_client<'a>(&'a self, c: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        Box::pin(async move { yielded(RefreshTokenStore::revoke_client(&self.0, c)).await })
    }
    fn purge_expired(
        &self,
        cutoff: PurgeCutoff,
        max: usize,
    ) -> BoxFuture<'_, Result<usize, StoreError>> {
        Box::pin(
            async move { yielded(RefreshTokenStore::purge_expired(&self.0, cutoff, max)).await },
        )
    }
}
