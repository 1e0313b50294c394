//! Refresh-token family state: the [`RefreshTokenStore`] contract (SPEC 3, R-SAFE-5).
//!
//! A sign-in starts a **family**. The store keeps one small record per family, never a token (R-FAM-2):
//! tokens are recomputed from `(family id, generation)` and the refresh-token key (R-FAM-3). A rotation is
//! one compare-and-set of the generation, so any backend with a conditional write can implement the trait:
//! `UPDATE families SET generation = $2 + 1, grace_deadline = $3 WHERE family_id = $1 AND generation = $2
//! AND NOT revoked` in SQL, a Lua script in Redis, a conditional put in DynamoDB.
//!
//! The trait is synchronous and object-safe; [`AsyncRefreshTokenStore`] is its asynchronous form, for
//! stores that await I/O and for the asynchronous driver. Every synchronous store is also an
//! asynchronous one.
//!
//! App clients and declared custom scopes have a store of their own, [`ClientStore`] and
//! [`AsyncClientStore`] (R-PER-1), built the same way; a persistent one seals client secrets with a
//! [`SecretSealer`].

mod clients;
mod memory;
mod nonblocking;
mod sealing;

use std::fmt;
use std::sync::Arc;

pub use memory::InMemoryRefreshTokenStore;
pub use nonblocking::{AsyncRefreshTokenStore, FamilyAndClient, ReadWitness, WitnessedAdvance};

pub use clients::{AsyncClientStore, ClientStore, InMemoryClientStore, Replace};
pub use sealing::SecretSealer;

pub use crate::client::{AppClient, AppClientParts};

pub use crate::error::StoreError;
pub use crate::future::BoxFuture;

use crate::clock::Timestamp;

/// A family id: 128 random bits (R-FAM-1). Public: it is the `origin_jti` of the family's JWTs.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FamilyId([u8; 16]);

impl FamilyId {
    /// A family id from its 16 bytes.
    pub const fn from_bytes(bytes: [u8; 16]) -> Self {
        FamilyId(bytes)
    }

    /// The 16 bytes.
    pub const fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// The id as a lowercase hyphenated UUID-format string: the family's `origin_jti` (R-SIGN-2).
    ///
    /// All 128 bits are written as they are (no version bits are forced), so the string maps back to
    /// the same id with [`FamilyId::from_uuid_str`]: the verifier relies on that to find the family of a
    /// JWT (R-REV-2).
    pub fn to_uuid_string(&self) -> String {
        crate::random::hyphenated_hex(&self.0)
    }

    /// Parses a hyphenated UUID-format string (either case), as [`FamilyId::to_uuid_string`] writes it.
    pub fn from_uuid_str(s: &str) -> Option<FamilyId> {
        let b = s.as_bytes();
        if b.len() != 36 {
            return None;
        }
        let mut out = [0u8; 16];
        let mut nibbles = 0usize;
        for (i, &c) in b.iter().enumerate() {
            if matches!(i, 8 | 13 | 18 | 23) {
                if c != b'-' {
                    return None;
                }
                continue;
            }
            let v = u8::try_from(char::from(c).to_digit(16)?).ok()?;
            let byte = out.get_mut(nibbles / 2)?;
            *byte = (*byte << 4) | v;
            nibbles += 1;
        }
        Some(FamilyId(out))
    }
}

impl fmt::Debug for FamilyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FamilyId({})", self.to_uuid_string())
    }
}

/// What never changes about a family after sign-in (R-FAM-2), except the device binding of R-REF-9,
/// which [`RefreshTokenStore::bind_device`] sets at most once.
///
/// Handed around behind an `Arc` so that the issuer can pass it along without copying. A store may keep
/// it in a more compact form and build the `Arc` on read (the in-memory store does, to stay small).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyInfo {
    /// The app client the family was issued to (R-REF-5).
    pub client_id: Arc<str>,
    /// The user's `sub`.
    pub subject: Box<str>,
    /// The user's username (`cognito:username`, `username`).
    pub username: Box<str>,
    /// The device the family is bound to, if any (R-REF-9).
    pub device_key: Option<Box<str>>,
    /// The granted scopes, space-separated, as the access token's `scope` claim writes them.
    pub scopes: Arc<str>,
    /// When the user authenticated (`auth_time`).
    pub auth_time: Timestamp,
    /// The sign-in's `event_id`, 128 bits.
    pub event_id: [u8; 16],
    /// The family's absolute expiry, fixed at sign-in (R-FAM-5).
    pub expires_at: Timestamp,
}

/// What rotation, device confirmation and revocation change: copied out on every read, so it is small
/// and `Copy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FamilyState {
    /// The current generation `c`; the token of generation `c` is the live one (SPEC 6).
    pub generation: u32,
    /// Until when the token of generation `c - 1` may still be retried (R-ROT-2). Meaningless while
    /// `generation` is 0. A retry is allowed only while `now < grace_deadline`.
    pub grace_deadline: Timestamp,
    /// The refresh-token key id under which the token of generation `c` was issued (R-ROT-10). A retry
    /// of `c - 1` and every loser of a race is answered with the generation-`c` token encoded under this
    /// key, so all of them get the byte-identical string even if the current key changed since.
    pub key_id: u32,
    /// Whether the family was revoked (R-REV-2). Revoked families stay until `expires_at` (R-REV-4).
    pub revoked: bool,
    /// Whether a request has presented the family's device key since it was bound (R-REF-9). A device
    /// bound at sign-in is confirmed at once; one issued at a refresh is not, and until it is, a request
    /// without a DeviceKey is answered with the same device announced again. Meaningless without a device.
    pub device_confirmed: bool,
}

impl FamilyState {
    /// The state of a family that has just been created, whose generation-0 token is issued under the
    /// refresh-token key `key_id`.
    pub const fn new(key_id: u32) -> FamilyState {
        FamilyState {
            generation: 0,
            grace_deadline: Timestamp::EPOCH,
            key_id,
            revoked: false,
            device_confirmed: true,
        }
    }
}

/// A family as read from a store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Family {
    /// The family id.
    pub id: FamilyId,
    /// The parts fixed at sign-in.
    pub info: Arc<FamilyInfo>,
    /// The parts rotation and revocation change.
    pub state: FamilyState,
}

/// A family read from a store, with the store's clock reading when the store keeps the time (R-ROT-11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyRead {
    /// The family, or `None` if there is none with this id (never created, or purged).
    pub family: Option<Family>,
    /// The time of the read by the store's own clock, for a store that supplies the time of decisions
    /// (R-ROT-11): a store shared between hosts (the PostgreSQL store reads the database clock in the
    /// same statement) so that clock skew between hosts cannot widen a grace window. `None` for a store
    /// that leaves time to the host's injected clock, as the in-memory store does.
    pub time: Option<Timestamp>,
}

/// The result of [`RefreshTokenStore::advance`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advance {
    /// The generation was `expected` and is now `expected + 1`; this is the state after the write.
    Advanced(FamilyState),
    /// Nothing was written: the family's generation was no longer `expected`, or it was revoked. This is
    /// its state as the store saw it.
    Unchanged(FamilyState),
    /// No family with that id (never created, or purged).
    NotFound,
}

/// The cutoff of a purge (R-REV-6): families whose absolute expiry is at or before
/// [`expired_at_or_before`](Self::expired_at_or_before) may be deleted.
///
/// The only constructor, [`PurgeCutoff::at`], keeps [`PurgeCutoff::MARGIN_SECS`] between `now` and the
/// cutoff, so no caller can delete a family while a JWT it minted might still verify: the verifier
/// learns that such a JWT was revoked from its family's record (R-REV-2), and an ID or access token
/// minted just before the family expired lives up to a day past it, plus the verifier's leeway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeCutoff(Timestamp);

impl PurgeCutoff {
    /// How long past its absolute expiry a family is kept: the longest ID or access token validity
    /// (one day, R-CFG-3) plus the largest leeway a verifier accepts (300 seconds).
    pub const MARGIN_SECS: u64 = 86_400 + crate::jwt::MAX_LEEWAY_SECS;

    /// The cutoff for a purge run at `now`: [`MARGIN_SECS`](Self::MARGIN_SECS) before it. `None` if that
    /// underflows the timestamp range.
    pub fn at(now: Timestamp) -> Option<PurgeCutoff> {
        now.checked_sub_secs(Self::MARGIN_SECS).map(PurgeCutoff)
    }

    /// Families whose `expires_at` is at or before this instant may be deleted.
    pub fn expired_at_or_before(self) -> Timestamp {
        self.0
    }
}

/// Storage for refresh-token families.
///
/// # Contract
/// Implementations must be safe to call from many threads (and, for shared backends, many processes)
/// at once. The one operation whose atomicity carries the crate's security guarantee is
/// [`advance`](Self::advance): it must read and write the generation in a single atomic step per family
/// (R-SAFE-5). A store that reads and then writes without a condition lets two concurrent refreshes both
/// advance a family, so that **two different successors of one generation are both valid** — exactly the
/// failure R-ROT-5 forbids, and a stolen token could then live on undetected beside the victim's.
///
/// Likewise [`revoke`](Self::revoke), [`revoke_subject`](Self::revoke_subject) and
/// [`revoke_client`](Self::revoke_client) must be durable before they return and must win against a
/// concurrent `advance` (an advance after a revoke must report `Unchanged` with `revoked: true`), or a
/// revoked session could be extended. [`purge_expired`](Self::purge_expired) must never delete a family
/// whose `expires_at` is after the cutoff it is given (R-REV-5, R-REV-6).
///
/// A refused operation (`Ok` with `Unchanged`, `NotFound`, `false`) wrote nothing. An `Err` is
/// ambiguous for a backend across a network: the write may have been committed before the reply was
/// lost, so the family may have advanced (or been revoked, or had its device bound). The issuer never
/// hands out a token it has not seen committed, and a client that retries inside the grace window gets
/// the successor the committed advance fixed (R-ROT-2, R-ROT-10), which repairs the lost answer.
///
/// The crate's conformance suite (`testkit`, behind the `test-kit` feature) checks all of this and
/// should be run against every implementation.
pub trait RefreshTokenStore: Send + Sync {
    /// Stores a new family. Fails with [`StoreError::AlreadyExists`] if the id is taken, leaving the
    /// existing family untouched.
    fn create(&self, family: Family) -> Result<(), StoreError>;

    /// Reads a family, with the store's clock reading if the store supplies the time of decisions
    /// (R-ROT-11; see [`FamilyRead::time`]). The family answered is `id` or none: every flow refuses an
    /// answer about another family with `InternalErrorException`, rather than act on it.
    fn read(&self, id: &FamilyId) -> Result<FamilyRead, StoreError>;

    /// Reads a family, or `None` if there is none with this id.
    fn get(&self, id: &FamilyId) -> Result<Option<Family>, StoreError> {
        Ok(self.read(id)?.family)
    }

    /// Atomically: if the family exists, is not revoked and its generation equals `expected`, sets the
    /// generation to `expected + 1`, the grace deadline to `grace_deadline` and the key id of the new
    /// generation to `key_id` (R-ROT-10), and returns [`Advance::Advanced`]; otherwise writes nothing and
    /// returns its current state (or `NotFound`). A generation at `u32::MAX` cannot advance and is
    /// reported `Unchanged`.
    fn advance(
        &self,
        id: &FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> Result<Advance, StoreError>;

    /// Atomically binds `device_key`, unconfirmed, to a family that has no device yet (R-REF-9), and
    /// returns the family as it is afterwards: bound to `device_key`, or to the device another request
    /// bound first. `None` if there is no such family.
    fn bind_device(&self, id: &FamilyId, device_key: &str) -> Result<Option<Family>, StoreError>;

    /// Marks the family's device confirmed if it is bound to `device_key` (R-REF-9). Returns whether the
    /// family is now bound to `device_key` and confirmed. Idempotent.
    fn confirm_device(&self, id: &FamilyId, device_key: &str) -> Result<bool, StoreError>;

    /// Revokes a family (R-REV-2). Returns whether it existed and was live before. Idempotent.
    fn revoke(&self, id: &FamilyId) -> Result<bool, StoreError>;

    /// Revokes every family whose subject is `subject` (global sign-out, R-REV-3); returns how many
    /// were live before. It must take effect at one instant (one SQL statement, or every shard locked
    /// for the pass): revoking part by part would let a family created in a part already passed stay
    /// live while a later one was revoked. Its cost must be proportional to the subject's families, not
    /// to all families (R-REV-8): keep an index by subject.
    fn revoke_subject(&self, subject: &str) -> Result<usize, StoreError>;

    /// Revokes every family issued to the app client `client_id` (client deletion, R-REV-7); returns how
    /// many were live before. Client deletion is rare: a scan is acceptable.
    fn revoke_client(&self, client_id: &str) -> Result<usize, StoreError>;

    /// Deletes at most `max` families whose `expires_at` is at or before the cutoff, revoked or not
    /// (R-REV-4, R-REV-5, R-REV-6), and returns how many it deleted. Call repeatedly until it returns
    /// less than `max` to purge them all.
    fn purge_expired(&self, cutoff: PurgeCutoff, max: usize) -> Result<usize, StoreError>;
}

/// Every [`RefreshTokenStore`] answers revocation from its family records:
/// - `origin_jti` that is not a UUID string: revoked (no token of this crate has one);
/// - family found: its `revoked` flag;
/// - family not found: **not** revoked. Families are purged only after their absolute expiry
///   (R-REV-4), by which time every JWT of the family has long expired too;
/// - store error: revoked (fails closed).
///
/// `origin_jti` is mapped back to its family with [`FamilyId::from_uuid_str`], the inverse of
/// [`FamilyId::to_uuid_string`].
impl<S: RefreshTokenStore + ?Sized> crate::jwt::RevocationCheck for S {
    fn is_revoked(&self, origin_jti: &str) -> bool {
        let Some(family) = FamilyId::from_uuid_str(origin_jti) else {
            return true;
        };
        match self.get(&family) {
            Ok(Some(family)) => family.state.revoked,
            Ok(None) => false,
            Err(_) => true,
        }
    }
}

impl<S: RefreshTokenStore + ?Sized> RefreshTokenStore for Arc<S> {
    fn create(&self, family: Family) -> Result<(), StoreError> {
        (**self).create(family)
    }
    fn read(&self, id: &FamilyId) -> Result<FamilyRead, StoreError> {
        (**self).read(id)
    }
    fn get(&self, id: &FamilyId) -> Result<Option<Family>, StoreError> {
        (**self).get(id)
    }
    fn advance(
        &self,
        id: &FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> Result<Advance, StoreError> {
        (**self).advance(id, expected, grace_deadline, key_id)
    }
    fn bind_device(&self, id: &FamilyId, device_key: &str) -> Result<Option<Family>, StoreError> {
        (**self).bind_device(id, device_key)
    }
    fn confirm_device(&self, id: &FamilyId, device_key: &str) -> Result<bool, StoreError> {
        (**self).confirm_device(id, device_key)
    }
    fn revoke(&self, id: &FamilyId) -> Result<bool, StoreError> {
        (**self).revoke(id)
    }
    fn revoke_subject(&self, subject: &str) -> Result<usize, StoreError> {
        (**self).revoke_subject(subject)
    }
    fn revoke_client(&self, client_id: &str) -> Result<usize, StoreError> {
        (**self).revoke_client(client_id)
    }
    fn purge_expired(&self, cutoff: PurgeCutoff, max: usize) -> Result<usize, StoreError> {
        (**self).purge_expired(cutoff, max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_uuid_round_trips_family_ids() {
        let id = FamilyId::from_bytes([
            0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0x4d, 0xef, 0x80, 0x01, 0x02, 0x03, 0x04, 0x05,
            0x06, 0x07,
        ]);
        assert_eq!(
            FamilyId::from_uuid_str(&id.to_uuid_string()).map(|f| *f.as_bytes()),
            Some(*id.as_bytes())
        );
        assert_eq!(
            FamilyId::from_uuid_str("12345678-9ABC-4DEF-8001-020304050607").map(|f| *f.as_bytes()),
            Some(*id.as_bytes())
        );
        // Every bit survives the round trip, including those a v4 UUID would fix.
        let all = FamilyId::from_bytes([0xff; 16]);
        assert_eq!(FamilyId::from_uuid_str(&all.to_uuid_string()), Some(all));
        for bad in [
            "",
            "12345678-9abc-4def-8001-02030405060",
            "12345678-9abc-4def-8001-0203040506070",
            "12345678x9abc-4def-8001-020304050607",
            "1234567g-9abc-4def-8001-020304050607",
            "+2345678-9abc-4def-8001-020304050607",
            "é2345678-9abc-4def-8001-02030405060",
        ] {
            assert_eq!(FamilyId::from_uuid_str(bad), None, "{bad}");
        }
    }
}
