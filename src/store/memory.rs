//! The in-memory [`RefreshTokenStore`]: sharded hash maps under `parking_lot` mutexes.
//!
//! Families are spread over 64 shards by their id (ids are random), each a `HashMap` behind its
//! own mutex, so threads working on different families almost never wait on one another, and every
//! operation on one family — in particular the compare-and-set of [`advance`](RefreshTokenStore::advance)
//! — is a single critical section on one shard (R-SAFE-5).
//!
//! # Memory
//! The store keeps one compact record per family (R-FAM-2), not the [`FamilyInfo`] it was given: an
//! `Arc<FamilyInfo>` plus its separately allocated subject and username strings costs about 224 bytes of
//! heap per family on its own, before the id, the state and the hash table, which would overshoot the
//! 256-bytes-per-family target at a million families. A record keeps the shared `client_id` and `scopes`
//! `Arc`s as given, the fixed-size fields inline, and subject, username and device key concatenated in one
//! allocation; the map holds only the 16-byte id and a `Box` (24 bytes a bucket, so the power-of-two
//! sizing of the table costs little). Reading a family therefore builds a fresh `Arc<FamilyInfo>` (one
//! allocation plus copies of three short strings), a cost well below that of the JWT signatures the
//! refresh that reads it goes on to make. `examples/store_memory.rs` measures the result.
//!
//! # Costs
//! `create`, `get`, `advance`, `bind_device` and `revoke` are O(1) and lock one shard.
//! [`revoke_subject`](RefreshTokenStore::revoke_subject) scans every family, one shard at a time: global
//! sign-out is rare, and an index from subject to families would cost more memory per family than the
//! target leaves. [`purge_expired`](RefreshTokenStore::purge_expired) skips in O(1) every shard whose
//! earliest expiry is still in the future, and resumes round-robin where the previous call stopped.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

use super::{Advance, Family, FamilyId, FamilyInfo, FamilyState, RefreshTokenStore};
use crate::clock::Timestamp;
use crate::error::StoreError;

/// The number of shards. A power of two well above the core counts the crate targets, so that two
/// threads rarely meet on a shard, and small enough that a scan of all shards stays cheap.
const SHARDS: usize = 64;

/// One family as stored: everything in [`Family`] except the id (the map key), without the separate
/// allocations of a `FamilyInfo`.
struct Record {
    grace_deadline: Timestamp,
    auth_time: Timestamp,
    expires_at: Timestamp,
    client_id: Arc<str>,
    scopes: Arc<str>,
    /// `subject`, then `username`, then the device key if `has_device`.
    text: Box<str>,
    event_id: [u8; 16],
    generation: u32,
    subject_len: u32,
    username_len: u32,
    revoked: bool,
    has_device: bool,
}

impl Record {
    fn new(info: &FamilyInfo, state: FamilyState) -> Result<Record, StoreError> {
        let device = info.device_key.as_deref();
        let text: String = [&*info.subject, &*info.username, device.unwrap_or("")].concat();
        let too_large = || StoreError::Backend("family record too large".into());
        Ok(Record {
            grace_deadline: state.grace_deadline,
            auth_time: info.auth_time,
            expires_at: info.expires_at,
            client_id: Arc::clone(&info.client_id),
            scopes: Arc::clone(&info.scopes),
            text: text.into_boxed_str(),
            event_id: info.event_id,
            generation: state.generation,
            subject_len: u32::try_from(info.subject.len()).map_err(|_| too_large())?,
            username_len: u32::try_from(info.username.len()).map_err(|_| too_large())?,
            revoked: state.revoked,
            has_device: device.is_some(),
        })
    }

    fn state(&self) -> FamilyState {
        FamilyState {
            generation: self.generation,
            grace_deadline: self.grace_deadline,
            revoked: self.revoked,
        }
    }

    /// Splits `text` into subject, username and device key. The lengths were checked against `text` when
    /// the record was built and `text` only ever grows at its end, so the `get`s cannot fail; an empty
    /// string stands in should that invariant ever break, rather than a panic.
    fn parts(&self) -> (&str, &str, Option<&str>) {
        let s = self.subject_len as usize;
        let u = s.saturating_add(self.username_len as usize);
        let subject = self.text.get(..s).unwrap_or("");
        let username = self.text.get(s..u).unwrap_or("");
        let device = self.has_device.then(|| self.text.get(u..).unwrap_or(""));
        (subject, username, device)
    }

    fn subject(&self) -> &str {
        self.parts().0
    }

    fn to_family(&self, id: FamilyId) -> Family {
        let (subject, username, device) = self.parts();
        Family {
            id,
            info: Arc::new(FamilyInfo {
                client_id: Arc::clone(&self.client_id),
                subject: subject.into(),
                username: username.into(),
                device_key: device.map(Into::into),
                scopes: Arc::clone(&self.scopes),
                auth_time: self.auth_time,
                event_id: self.event_id,
                expires_at: self.expires_at,
            }),
            state: self.state(),
        }
    }
}

#[derive(Default)]
struct ShardData {
    families: HashMap<FamilyId, Box<Record>>,
    /// No family in this shard expires before this (a lower bound, exact after each purge scan), so
    /// `purge_expired` can skip the shard without looking inside.
    earliest_expiry: Option<Timestamp>,
}

/// Aligned to a cache line so that two shards' locks never share one.
#[repr(align(64))]
#[derive(Default)]
struct Shard(Mutex<ShardData>);

/// A sharded in-memory [`RefreshTokenStore`].
///
/// Thread-safe; share it behind an `Arc` (the trait is implemented for `Arc<S>`). By default it is
/// unbounded; [`with_max_families`](Self::with_max_families) caps it, after which `create` fails with
/// [`StoreError::Full`] until [`purge_expired`](RefreshTokenStore::purge_expired) makes room. Families
/// are kept until purged, revoked ones included (R-REV-4): a host calls `purge_expired` periodically.
///
/// ```
/// use refresh_rotation::{InMemoryRefreshTokenStore, RefreshTokenStore, Timestamp};
///
/// let store = InMemoryRefreshTokenStore::new().with_max_families(1_000_000);
/// assert!(store.is_empty());
/// assert_eq!(store.purge_expired(Timestamp::from_unix_seconds(0), 100), Ok(0));
/// ```
pub struct InMemoryRefreshTokenStore {
    shards: Box<[Shard]>,
    len: AtomicUsize,
    max_families: usize,
    /// Where the next `purge_expired` starts, so that batches go round the shards.
    purge_cursor: AtomicUsize,
}

impl InMemoryRefreshTokenStore {
    /// An empty, unbounded store.
    pub fn new() -> Self {
        InMemoryRefreshTokenStore {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            len: AtomicUsize::new(0),
            max_families: usize::MAX,
            purge_cursor: AtomicUsize::new(0),
        }
    }

    /// An empty, unbounded store with room for about `families` families before any table grows.
    pub fn with_capacity(families: usize) -> Self {
        let store = Self::new();
        let per_shard = families.div_ceil(SHARDS);
        for shard in store.shards.iter() {
            shard.0.lock().families.reserve(per_shard);
        }
        store
    }

    /// Caps the store at `max` families: beyond it `create` fails with [`StoreError::Full`], so memory
    /// cannot grow without bound. Defaults to unbounded.
    pub fn with_max_families(mut self, max: usize) -> Self {
        self.max_families = max;
        self
    }

    /// The number of families held, revoked and expired ones included until purged.
    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Whether the store holds no family.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn shard(&self, id: &FamilyId) -> &Mutex<ShardData> {
        // Ids are random, so folding their bytes spreads families evenly; the fold also keeps structured
        // ids (tests, imports) from all landing in one shard.
        let folded = id.as_bytes().iter().fold(0u8, |acc, b| acc ^ b);
        &self.shards[usize::from(folded) % self.shards.len()].0
    }

    /// Takes one slot of the `max_families` budget, or reports the store full.
    fn reserve_slot(&self) -> Result<(), StoreError> {
        self.len
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_families).then_some(n + 1)
            })
            .map(|_| ())
            .map_err(|_| StoreError::Full)
    }
}

impl Default for InMemoryRefreshTokenStore {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for InMemoryRefreshTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the families themselves: subjects and usernames are personal data.
        let mut d = f.debug_struct("InMemoryRefreshTokenStore");
        d.field("len", &self.len())
            .field("shards", &self.shards.len());
        if self.max_families != usize::MAX {
            d.field("max_families", &self.max_families);
        }
        d.finish()
    }
}

impl RefreshTokenStore for InMemoryRefreshTokenStore {
    fn create(&self, family: Family) -> Result<(), StoreError> {
        let record = Box::new(Record::new(&family.info, family.state)?);
        let mut shard = self.shard(&family.id).lock();
        if shard.families.contains_key(&family.id) {
            return Err(StoreError::AlreadyExists);
        }
        self.reserve_slot()?;
        let expires_at = record.expires_at;
        shard.families.insert(family.id, record);
        shard.earliest_expiry = Some(match shard.earliest_expiry {
            Some(t) => t.min(expires_at),
            None => expires_at,
        });
        Ok(())
    }

    fn get(&self, id: &FamilyId) -> Result<Option<Family>, StoreError> {
        let shard = self.shard(id).lock();
        Ok(shard.families.get(id).map(|r| r.to_family(*id)))
    }

    fn advance(
        &self,
        id: &FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
    ) -> Result<Advance, StoreError> {
        let mut shard = self.shard(id).lock();
        let Some(record) = shard.families.get_mut(id) else {
            return Ok(Advance::NotFound);
        };
        if record.revoked || record.generation != expected {
            return Ok(Advance::Unchanged(record.state()));
        }
        let Some(next) = record.generation.checked_add(1) else {
            return Ok(Advance::Unchanged(record.state()));
        };
        record.generation = next;
        record.grace_deadline = grace_deadline;
        Ok(Advance::Advanced(record.state()))
    }

    fn bind_device(&self, id: &FamilyId, device_key: &str) -> Result<Option<Family>, StoreError> {
        let mut shard = self.shard(id).lock();
        let Some(record) = shard.families.get_mut(id) else {
            return Ok(None);
        };
        if !record.has_device {
            let mut text = String::with_capacity(record.text.len() + device_key.len());
            text.push_str(&record.text);
            text.push_str(device_key);
            record.text = text.into_boxed_str();
            record.has_device = true;
        }
        Ok(Some(record.to_family(*id)))
    }

    fn revoke(&self, id: &FamilyId) -> Result<bool, StoreError> {
        let mut shard = self.shard(id).lock();
        Ok(match shard.families.get_mut(id) {
            Some(record) => !std::mem::replace(&mut record.revoked, true),
            None => false,
        })
    }

    fn revoke_subject(&self, subject: &str) -> Result<usize, StoreError> {
        let mut revoked = 0;
        for shard in self.shards.iter() {
            let mut shard = shard.0.lock();
            for record in shard.families.values_mut() {
                if !record.revoked && record.subject() == subject {
                    record.revoked = true;
                    revoked += 1;
                }
            }
        }
        Ok(revoked)
    }

    fn purge_expired(&self, now: Timestamp, max: usize) -> Result<usize, StoreError> {
        let n = self.shards.len();
        let start = self.purge_cursor.load(Ordering::Relaxed) % n;
        let mut purged = 0;
        for step in 0..n {
            if purged >= max {
                break;
            }
            let index = (start + step) % n;
            let mut shard = self.shards[index].0.lock();
            if shard.earliest_expiry.is_none_or(|t| t > now) {
                continue;
            }
            let budget = max - purged;
            let mut removed = 0;
            let mut earliest: Option<Timestamp> = None;
            shard.families.retain(|_, r| {
                if removed < budget && r.expires_at <= now {
                    removed += 1;
                    return false;
                }
                earliest = Some(earliest.map_or(r.expires_at, |t| t.min(r.expires_at)));
                true
            });
            shard.earliest_expiry = earliest;
            // Give memory back once a shard has shrunk well below its table (keeps a margin so that a
            // shard near a resize boundary does not shrink and regrow on every batch).
            let len = shard.families.len();
            if shard.families.capacity() > len.saturating_mul(4).max(64) {
                shard.families.shrink_to(len.saturating_mul(2));
            }
            drop(shard);
            self.len.fetch_sub(removed, Ordering::AcqRel);
            purged += removed;
            // Resume here next time if this shard may still hold expired families.
            self.purge_cursor.store(
                if removed == budget { index } else { index + 1 },
                Ordering::Relaxed,
            );
        }
        Ok(purged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_stays_small() {
        // The memory target depends on it: see the module docs and examples/store_memory.rs.
        assert!(
            std::mem::size_of::<Record>() <= 104,
            "{}",
            std::mem::size_of::<Record>()
        );
        assert_eq!(std::mem::size_of::<(FamilyId, Box<Record>)>(), 24);
    }

    #[test]
    fn record_parts_round_trip_with_and_without_device() {
        let info = FamilyInfo {
            client_id: "c".into(),
            subject: "sub-é".into(),
            username: "".into(),
            device_key: Some("us-east-1_dev".into()),
            scopes: "openid".into(),
            auth_time: Timestamp::from_unix_seconds(5),
            event_id: [3; 16],
            expires_at: Timestamp::from_unix_seconds(9),
        };
        let r = Record::new(&info, FamilyState::NEW).unwrap();
        assert_eq!(r.parts(), ("sub-é", "", Some("us-east-1_dev")));
        assert_eq!(*r.to_family(FamilyId::from_bytes([1; 16])).info, info);
        let no_device = FamilyInfo {
            device_key: None,
            ..info
        };
        let r = Record::new(&no_device, FamilyState::NEW).unwrap();
        assert_eq!(r.parts(), ("sub-é", "", None));
    }
}
