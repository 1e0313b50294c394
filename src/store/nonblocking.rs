//! The asynchronous form of the family store (R-ENG-2), for stores that await I/O (the PostgreSQL store)
//! and for asynchronous drivers.
//!
//! The contract is [`RefreshTokenStore`]'s, operation for operation. Every synchronous store is also an
//! asynchronous one (a blanket implementation answers with a completed future), so the in-memory store
//! serves both drivers: its critical sections are a few hash-map operations and never block an executor
//! for long. A store that blocks on I/O must implement this trait natively instead, or be called through
//! the synchronous driver on a blocking thread.

use crate::clock::Timestamp;
use crate::error::StoreError;
use crate::future::{ready, BoxFuture};

use super::{Advance, Family, FamilyId, FamilyRead, PurgeCutoff, RefreshTokenStore};

/// Storage for refresh-token families, awaited. The contract is [`RefreshTokenStore`]'s.
pub trait AsyncRefreshTokenStore: Send + Sync {
    /// As [`RefreshTokenStore::create`].
    fn create(&self, family: Family) -> BoxFuture<'_, Result<(), StoreError>>;

    /// As [`RefreshTokenStore::read`].
    fn read<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<FamilyRead, StoreError>>;

    /// As [`RefreshTokenStore::advance`].
    fn advance<'a>(
        &'a self,
        id: &'a FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> BoxFuture<'a, Result<Advance, StoreError>>;

    /// As [`RefreshTokenStore::bind_device`].
    fn bind_device<'a>(
        &'a self,
        id: &'a FamilyId,
        device_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Family>, StoreError>>;

    /// As [`RefreshTokenStore::confirm_device`].
    fn confirm_device<'a>(
        &'a self,
        id: &'a FamilyId,
        device_key: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// As [`RefreshTokenStore::revoke`].
    fn revoke<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// As [`RefreshTokenStore::revoke_subject`].
    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<usize, StoreError>>;

    /// As [`RefreshTokenStore::revoke_client`].
    fn revoke_client<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<usize, StoreError>>;

    /// As [`RefreshTokenStore::purge_expired`].
    fn purge_expired(
        &self,
        cutoff: PurgeCutoff,
        max: usize,
    ) -> BoxFuture<'_, Result<usize, StoreError>>;
}

impl<S: RefreshTokenStore + ?Sized> AsyncRefreshTokenStore for S {
    fn create(&self, family: Family) -> BoxFuture<'_, Result<(), StoreError>> {
        ready(RefreshTokenStore::create(self, family))
    }
    fn read<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<FamilyRead, StoreError>> {
        ready(RefreshTokenStore::read(self, id))
    }
    fn advance<'a>(
        &'a self,
        id: &'a FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> BoxFuture<'a, Result<Advance, StoreError>> {
        ready(RefreshTokenStore::advance(
            self,
            id,
            expected,
            grace_deadline,
            key_id,
        ))
    }
    fn bind_device<'a>(
        &'a self,
        id: &'a FamilyId,
        device_key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Family>, StoreError>> {
        ready(RefreshTokenStore::bind_device(self, id, device_key))
    }
    fn confirm_device<'a>(
        &'a self,
        id: &'a FamilyId,
        device_key: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        ready(RefreshTokenStore::confirm_device(self, id, device_key))
    }
    fn revoke<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<bool, StoreError>> {
        ready(RefreshTokenStore::revoke(self, id))
    }
    fn revoke_subject<'a>(&'a self, subject: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        ready(RefreshTokenStore::revoke_subject(self, subject))
    }
    fn revoke_client<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        ready(RefreshTokenStore::revoke_client(self, client_id))
    }
    fn purge_expired(
        &self,
        cutoff: PurgeCutoff,
        max: usize,
    ) -> BoxFuture<'_, Result<usize, StoreError>> {
        ready(RefreshTokenStore::purge_expired(self, cutoff, max))
    }
}
