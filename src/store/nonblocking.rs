//! The asynchronous form of the family store (R-ENG-2), for stores that await I/O (the PostgreSQL store)
//! and for asynchronous drivers.
//!
//! The contract is [`RefreshTokenStore`]'s, operation for operation. Every synchronous store is also an
//! asynchronous one (a blanket implementation answers with a completed future), so the in-memory store
//! serves both drivers: its critical sections are a few hash-map operations and never block an executor
//! for long. A store that blocks on I/O must implement this trait natively instead, or be called through
//! the synchronous driver on a blocking thread.

use std::any::Any;
use std::sync::Arc;

use crate::client::AppClient;
use crate::clock::Timestamp;
use crate::directory::UserRecord;
use crate::error::StoreError;
use crate::future::{ready, BoxFuture};

use super::{Advance, Family, FamilyId, FamilyRead, PurgeCutoff, RefreshTokenStore};

/// What a store gives with an answer from memory ([`AsyncRefreshTokenStore::remembered`]), for the
/// advance that relies on it ([`AsyncRefreshTokenStore::advance_witnessed`]): whatever the store needs
/// to verify, in that advance, that everything the answer said is still true. Opaque to the engine and
/// the drivers; `Debug` shows nothing of it.
#[derive(Clone)]
pub struct ReadWitness(Arc<dyn Any + Send + Sync>);

impl ReadWitness {
    /// A witness holding `value`.
    pub fn new<T: Any + Send + Sync>(value: T) -> ReadWitness {
        ReadWitness(Arc::new(value))
    }

    /// The value, if it is a `T`.
    pub fn downcast_ref<T: Any>(&self) -> Option<&T> {
        self.0.downcast_ref()
    }
}

impl std::fmt::Debug for ReadWitness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReadWitness(..)")
    }
}

/// The answer to [`AsyncRefreshTokenStore::read_with_client`]: the family as read and, if the store
/// read it in the same round trip, the app client.
#[derive(Debug)]
pub struct FamilyAndClient {
    /// The family, as [`AsyncRefreshTokenStore::read`] answers it.
    pub family: FamilyRead,
    /// `Some(answer)` if the store read the client (`Some(None)`: there is no such client); `None` if
    /// it did not, and the driver asks the pool's client registry.
    pub client: Option<Option<Arc<AppClient>>>,
    /// `Some(answer)` if the store also read the family's user, the one the issuer's user directory
    /// would answer for the family's `sub` (`Some(None)`: there is no such user); `None` if it did
    /// not, and the driver asks the directory. The engine uses it only if its `sub` is the family's.
    pub user: Option<Option<Arc<UserRecord>>>,
    /// `Some` for an answer from memory ([`AsyncRefreshTokenStore::remembered`]); `None` for a read.
    pub witness: Option<ReadWitness>,
}

/// The answer to [`AsyncRefreshTokenStore::advance_witnessed`].
#[derive(Debug)]
pub struct WitnessedAdvance {
    /// The compare-and-set, as [`AsyncRefreshTokenStore::advance`] answers it: anything but
    /// [`Advance::Advanced`] sends the engine back to decide on a read.
    pub advance: Advance,
    /// When it did not advance: the family, the client and the user as the store read them in the same
    /// round trip, as [`read_with_client`](AsyncRefreshTokenStore::read_with_client) would answer them
    /// (its `witness` is ignored), the family as of after the refused compare-and-set. The engine
    /// decides on this read instead of asking for another, so an answer from memory that proves stale
    /// still costs a refresh only two round trips, this one and the advance (R-PER-5). `None` where the store read nothing; the driver then reads.
    pub read: Option<FamilyAndClient>,
}

impl From<Advance> for WitnessedAdvance {
    /// A witnessed advance's answer without a read.
    fn from(advance: Advance) -> Self {
        WitnessedAdvance {
            advance,
            read: None,
        }
    }
}

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

    /// Reads family `id` and, if this store also keeps the app clients of the pool it serves, the
    /// client `client_id`, in one round trip: what lets a refresh cost one read and the
    /// compare-and-set (R-PER-5). The client read must be the one the pool's registry would give, so
    /// a store answers it only when it was built over the registry's own client store.
    ///
    /// The default reads only the family ([`read`](Self::read)) and leaves the client to the registry.
    fn read_with_client<'a>(
        &'a self,
        id: &'a FamilyId,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<FamilyAndClient, StoreError>> {
        let _ = client_id;
        Box::pin(async move {
            Ok(FamilyAndClient {
                family: self.read(id).await?,
                client: None,
                user: None,
                witness: None,
            })
        })
    }

    /// What the store remembers of family `id` and client `client_id` from its last read or write of
    /// them, without any I/O, or `None` (the default). A refresh decided on such an answer may only
    /// advance, and only through [`advance_witnessed`](Self::advance_witnessed) with its witness, which
    /// must verify in the same statement that every part of the answer is still true (the family's
    /// state, the client, the user); any other decision, and a witnessed advance that does not happen,
    /// sends the engine back for a read (the one that advance made, if it made one). So a refresh that
    /// succeeds costs one round trip, two if the memory proved stale (R-PER-5). The
    /// answer's time is the store's estimate of its clock: the advance verifies the family's expiry on
    /// the store's clock itself, and sets the grace deadline from it.
    fn remembered(&self, id: &FamilyId, client_id: &str) -> Option<FamilyAndClient> {
        let _ = (id, client_id);
        None
    }

    /// The compare-and-set of [`advance`](Self::advance) for a refresh decided on an answer from memory:
    /// it advances only if, besides the generation, everything the witness holds is still true, and
    /// then answers [`Advance::Advanced`]; otherwise anything else, and the engine decides again on a
    /// read: the one this call made in the same round trip, if it made one
    /// ([`WitnessedAdvance::read`]), else one the driver asks for. A store that gives no witness never
    /// receives this call; the default refuses it.
    fn advance_witnessed<'a>(
        &'a self,
        id: &'a FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
        witness: &'a ReadWitness,
    ) -> BoxFuture<'a, Result<WitnessedAdvance, StoreError>> {
        let _ = (id, expected, grace_deadline, key_id, witness);
        ready(Err(StoreError::Backend(
            "an advance with a witness this store did not give".into(),
        )))
    }

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
