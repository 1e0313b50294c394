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
//! 256-bytes-per-family target at a million families. A record keeps its id, the shared `client_id` and
//! `scopes` `Arc`s as given, the fixed-size fields inline, and subject, username and device key
//! concatenated in one allocation. The tables hold no more than they must, since a hash table's
//! power-of-two sizing can leave half its buckets empty: the family table a `Box` per family (8 bytes a
//! bucket; the id is in the record), the subject index the family's id (16 bytes). Reading a family
//! therefore builds a fresh `Arc<FamilyInfo>` (one allocation plus copies of three short strings), a cost
//! well below that of the JWT signatures the refresh that reads it goes on to make.
//! `examples/store_memory.rs` measures the result.
//!
//! # Costs
//! `create`, `read`, `advance`, `bind_device`, `confirm_device` and `revoke` are O(1) and lock one shard.
//! [`revoke_subject`](RefreshTokenStore::revoke_subject) locks every shard for one pass, so that a
//! global sign-out takes effect at one instant (R-REV-3), and costs one hash lookup per shard plus the
//! subject's own families (R-REV-8): each shard indexes its families' ids by a keyed 64-bit hash of
//! their subject (one 16-byte entry per family, in a multimap for a subject's first eight families in
//! the shard and in a list of the subject's own beyond them, so that a user with many families does not
//! make `create` walk them all), and every hit is checked against the record's subject, so a hash
//! collision costs a comparison, never a wrong revocation. When a shard's index table grows it rehashes
//! each entry by looking its family up: a pause of a few milliseconds under that shard's lock at a
//! million families, once per doubling.
//! [`revoke_client`](RefreshTokenStore::revoke_client) scans every family, one shard at a time: deleting
//! an app client is rare, and an index would cost memory on every family.
//! [`purge_expired`](RefreshTokenStore::purge_expired) skips in O(1) every shard whose earliest expiry is
//! after the cutoff, and resumes round-robin where the previous call stopped.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use hashbrown::HashTable;
use parking_lot::Mutex;

use super::{
    Advance, Family, FamilyId, FamilyInfo, FamilyRead, FamilyState, PurgeCutoff, RefreshTokenStore,
};
use crate::clock::Timestamp;
use crate::error::StoreError;

/// The number of shards. A power of two well above the core counts the crate targets, so that two
/// threads rarely meet on a shard, and small enough that a scan of all shards stays cheap.
const SHARDS: usize = 64;

/// One family as stored: everything in [`Family`], without the separate allocations of a `FamilyInfo`.
struct Record {
    id: FamilyId,
    grace_deadline: Timestamp,
    auth_time: Timestamp,
    expires_at: Timestamp,
    client_id: Arc<str>,
    scopes: Arc<str>,
    /// `subject`, then `username`, then the device key if `has_device`.
    text: Box<str>,
    event_id: [u8; 16],
    generation: u32,
    key_id: u32,
    subject_len: u16,
    username_len: u16,
    revoked: bool,
    has_device: bool,
    device_confirmed: bool,
}

impl Record {
    fn new(id: FamilyId, info: &FamilyInfo, state: FamilyState) -> Result<Record, StoreError> {
        let device = info.device_key.as_deref();
        let text: String = [&*info.subject, &*info.username, device.unwrap_or("")].concat();
        let too_large = || StoreError::Backend("family record too large".into());
        Ok(Record {
            id,
            grace_deadline: state.grace_deadline,
            auth_time: info.auth_time,
            expires_at: info.expires_at,
            client_id: Arc::clone(&info.client_id),
            scopes: Arc::clone(&info.scopes),
            text: text.into_boxed_str(),
            event_id: info.event_id,
            generation: state.generation,
            key_id: state.key_id,
            subject_len: u16::try_from(info.subject.len()).map_err(|_| too_large())?,
            username_len: u16::try_from(info.username.len()).map_err(|_| too_large())?,
            revoked: state.revoked,
            has_device: device.is_some(),
            device_confirmed: state.device_confirmed,
        })
    }

    fn state(&self) -> FamilyState {
        FamilyState {
            generation: self.generation,
            grace_deadline: self.grace_deadline,
            key_id: self.key_id,
            revoked: self.revoked,
            device_confirmed: self.device_confirmed,
        }
    }

    /// Splits `text` into subject, username and device key. The lengths were checked against `text` when
    /// the record was built and `text` only ever grows at its end, so the `get`s cannot fail; an empty
    /// string stands in should that invariant ever break, rather than a panic.
    fn parts(&self) -> (&str, &str, Option<&str>) {
        let s = usize::from(self.subject_len);
        let u = s.saturating_add(usize::from(self.username_len));
        let subject = self.text.get(..s).unwrap_or("");
        let username = self.text.get(s..u).unwrap_or("");
        let device = self.has_device.then(|| self.text.get(u..).unwrap_or(""));
        (subject, username, device)
    }

    fn subject(&self) -> &str {
        self.parts().0
    }

    fn to_family(&self) -> Family {
        let (subject, username, device) = self.parts();
        Family {
            id: self.id,
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

/// The keys of a store's two hashes: of family ids, which pick a family's bucket, and of subjects, which
/// pick its entry in the subject index. Both are keyed with per-store random keys, so that nobody can
/// choose ids or subjects that collide.
struct Hashers {
    id: [u64; 2],
    subject: RandomState,
}

impl Hashers {
    fn new() -> Self {
        let subject = RandomState::new();
        // Two further keys from the same random source, for ids.
        let id = [subject.hash_one(0u8), subject.hash_one(1u8)];
        Hashers { id, subject }
    }

    /// Ids are random (R-FAM-1), so one keyed multiply of their two halves, folded to 64 bits (as
    /// foldhash does), spreads them as well as a general-purpose hash would, at a fraction of its cost
    /// on every read.
    fn id(&self, id: &FamilyId) -> u64 {
        let (lo, hi) = id.as_bytes().split_at(8);
        let half = |bytes: &[u8], key: u64| {
            let mut word = [0u8; 8];
            word.copy_from_slice(bytes);
            u64::from_le_bytes(word) ^ key
        };
        let product = u128::from(half(lo, self.id[0])) * u128::from(half(hi, self.id[1]));
        let [low, high] = [product, product >> 64].map(|p| u64::try_from(p & u128::from(u64::MAX)));
        low.unwrap_or(0) ^ high.unwrap_or(0)
    }

    fn subject(&self, subject: &str) -> u64 {
        self.subject.hash_one(subject)
    }
}

/// How many families of one subject a shard indexes in its multimap before it keeps the subject's
/// further families in a list of their own (`crowded`).
const INDEXED_PER_SUBJECT: usize = 8;

#[derive(Default)]
struct ShardData {
    /// The shard's families, each under the hash of its id.
    families: HashTable<Box<Record>>,
    /// The ids of the shard's families, each under the hash of its subject (R-REV-8): a multimap, one
    /// entry per family, so that a subject with a few families costs no list of its own. Entries of one
    /// hash share a probe sequence, so each subject has at most [`INDEXED_PER_SUBJECT`] here, and
    /// inserting stays O(1) however many families one user signs in.
    by_subject: HashTable<FamilyId>,
    /// The ids of the families of subjects that have more than [`INDEXED_PER_SUBJECT`] in this shard,
    /// beyond those, by the hash of their subject.
    crowded: HashMap<u64, Vec<FamilyId>>,
    /// No family in this shard expires before this (a lower bound, exact after each purge scan), so
    /// `purge_expired` can skip the shard without looking inside.
    earliest_expiry: Option<Timestamp>,
}

impl ShardData {
    fn get(&self, hashers: &Hashers, id: &FamilyId) -> Option<&Record> {
        self.families
            .find(hashers.id(id), |r| r.id == *id)
            .map(|r| &**r)
    }

    fn get_mut(&mut self, hashers: &Hashers, id: &FamilyId) -> Option<&mut Record> {
        self.families
            .find_mut(hashers.id(id), |r| r.id == *id)
            .map(|r| &mut **r)
    }
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
/// use refresh_rotation::clock::Timestamp;
/// use refresh_rotation::store::{InMemoryRefreshTokenStore, PurgeCutoff, RefreshTokenStore};
///
/// let store = InMemoryRefreshTokenStore::new().with_max_families(1_000_000);
/// assert!(store.is_empty());
/// let cutoff = PurgeCutoff::at(Timestamp::from_unix_seconds(1_800_000_000)).expect("in range");
/// assert_eq!(store.purge_expired(cutoff, 100), Ok(0));
/// ```
pub struct InMemoryRefreshTokenStore {
    shards: Box<[Shard]>,
    len: AtomicUsize,
    max_families: usize,
    /// Where the next `purge_expired` starts, so that batches go round the shards.
    purge_cursor: AtomicUsize,
    hashers: Hashers,
}

impl InMemoryRefreshTokenStore {
    /// An empty, unbounded store.
    pub fn new() -> Self {
        InMemoryRefreshTokenStore {
            shards: (0..SHARDS).map(|_| Shard::default()).collect(),
            len: AtomicUsize::new(0),
            max_families: usize::MAX,
            purge_cursor: AtomicUsize::new(0),
            hashers: Hashers::new(),
        }
    }

    /// An empty, unbounded store with room for about `families` families before any table grows. Room
    /// that cannot be had (more than memory allows) is not reserved: the tables then grow as families
    /// arrive, and nothing panics.
    pub fn with_capacity(families: usize) -> Self {
        let store = Self::new();
        let per_shard = families.div_ceil(SHARDS);
        let hashers = &store.hashers;
        for shard in store.shards.iter() {
            let mut shard = shard.0.lock();
            let reserved = shard
                .families
                .try_reserve(per_shard, |r| hashers.id(&r.id))
                // Still empty: there is nothing to rehash.
                .and_then(|()| shard.by_subject.try_reserve(per_shard, |_| 0));
            if reserved.is_err() {
                break;
            }
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

    fn subject_hash(&self, subject: &str) -> u64 {
        self.hashers.subject(subject)
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

/// The subject index's hash of the family `id`, when the index is resized: the hash of its subject.
/// Every family in the index is in the shard's family table (families are indexed after they are
/// inserted and purged from both tables before either shrinks), so the fallback is never taken; were it
/// ever, the entry would only become unreachable, and a family that is not in the table has nothing left
/// to revoke.
fn index_hash(hashers: &Hashers, families: &HashTable<Box<Record>>, id: &FamilyId) -> u64 {
    families
        .find(hashers.id(id), |r| r.id == *id)
        .map_or(0, |r| hashers.subject(r.subject()))
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
        let record = Box::new(Record::new(family.id, &family.info, family.state)?);
        let subject_hash = self.subject_hash(&family.info.subject);
        let hashers = &self.hashers;
        let mut guard = self.shard(&family.id).lock();
        if guard.get(hashers, &family.id).is_some() {
            return Err(StoreError::AlreadyExists);
        }
        self.reserve_slot()?;
        let expires_at = record.expires_at;
        let shard = &mut *guard;
        shard
            .families
            .insert_unique(hashers.id(&family.id), record, |r| hashers.id(&r.id));
        // Entries that may share the hash (a 7-bit tag matches): at most the bound is counted.
        let indexed = shard
            .by_subject
            .iter_hash(subject_hash)
            .take(INDEXED_PER_SUBJECT)
            .count();
        if indexed < INDEXED_PER_SUBJECT {
            let families = &shard.families;
            shard
                .by_subject
                .insert_unique(subject_hash, family.id, |id| {
                    index_hash(hashers, families, id)
                });
        } else {
            shard
                .crowded
                .entry(subject_hash)
                .or_default()
                .push(family.id);
        }
        shard.earliest_expiry = Some(match shard.earliest_expiry {
            Some(t) => t.min(expires_at),
            None => expires_at,
        });
        Ok(())
    }

    fn read(&self, id: &FamilyId) -> Result<FamilyRead, StoreError> {
        let shard = self.shard(id).lock();
        Ok(FamilyRead {
            family: shard.get(&self.hashers, id).map(Record::to_family),
            // The host's injected clock decides (R-ROT-11).
            time: None,
        })
    }

    fn advance(
        &self,
        id: &FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> Result<Advance, StoreError> {
        let mut shard = self.shard(id).lock();
        let Some(record) = shard.get_mut(&self.hashers, id) else {
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
        record.key_id = key_id;
        Ok(Advance::Advanced(record.state()))
    }

    fn bind_device(&self, id: &FamilyId, device_key: &str) -> Result<Option<Family>, StoreError> {
        let mut shard = self.shard(id).lock();
        let Some(record) = shard.get_mut(&self.hashers, id) else {
            return Ok(None);
        };
        if !record.has_device {
            let mut text = String::with_capacity(record.text.len() + device_key.len());
            text.push_str(&record.text);
            text.push_str(device_key);
            record.text = text.into_boxed_str();
            record.has_device = true;
            record.device_confirmed = false;
        }
        Ok(Some(record.to_family()))
    }

    fn confirm_device(&self, id: &FamilyId, device_key: &str) -> Result<bool, StoreError> {
        let mut shard = self.shard(id).lock();
        let Some(record) = shard.get_mut(&self.hashers, id) else {
            return Ok(false);
        };
        if record.parts().2 != Some(device_key) {
            return Ok(false);
        }
        record.device_confirmed = true;
        Ok(true)
    }

    fn revoke(&self, id: &FamilyId) -> Result<bool, StoreError> {
        let mut shard = self.shard(id).lock();
        Ok(match shard.get_mut(&self.hashers, id) {
            Some(record) => !std::mem::replace(&mut record.revoked, true),
            None => false,
        })
    }

    fn revoke_subject(&self, subject: &str) -> Result<usize, StoreError> {
        let hash = self.subject_hash(subject);
        let mut revoked = 0;
        // Every shard is locked, in order, before any is changed: the sign-out takes effect at one
        // instant (R-REV-3). Shard by shard, a family created in a shard already passed would stay live
        // while a later one, in a shard not yet reached, was revoked. Nothing else holds two shards, so
        // the order cannot deadlock; the wait it imposes is one pass over the user's families.
        let mut guards: Vec<_> = self.shards.iter().map(|s| s.0.lock()).collect();
        for guard in guards.iter_mut() {
            let ShardData {
                families,
                by_subject,
                crowded,
                ..
            } = &mut **guard;
            let more = crowded.get(&hash).map_or(&[][..], Vec::as_slice);
            for id in by_subject.iter_hash(hash).chain(more) {
                if let Some(record) = families.find_mut(self.hashers.id(id), |r| r.id == *id) {
                    if !record.revoked && record.subject() == subject {
                        record.revoked = true;
                        revoked += 1;
                    }
                }
            }
        }
        Ok(revoked)
    }

    fn revoke_client(&self, client_id: &str) -> Result<usize, StoreError> {
        let mut revoked = 0;
        for shard in self.shards.iter() {
            let mut shard = shard.0.lock();
            for record in shard.families.iter_mut() {
                if !record.revoked && *record.client_id == *client_id {
                    record.revoked = true;
                    revoked += 1;
                }
            }
        }
        Ok(revoked)
    }

    fn purge_expired(&self, cutoff: PurgeCutoff, max: usize) -> Result<usize, StoreError> {
        let cutoff = cutoff.expired_at_or_before();
        let n = self.shards.len();
        let start = self.purge_cursor.load(Ordering::Relaxed) % n;
        let mut purged = 0;
        for step in 0..n {
            if purged >= max {
                break;
            }
            let index = (start + step) % n;
            let mut guard = self.shards[index].0.lock();
            if guard.earliest_expiry.is_none_or(|t| t > cutoff) {
                continue;
            }
            let budget = max - purged;
            let mut removed = HashSet::new();
            let mut earliest: Option<Timestamp> = None;
            let shard = &mut *guard;
            shard.families.retain(|r| {
                if removed.len() < budget && r.expires_at <= cutoff {
                    removed.insert(r.id);
                    return false;
                }
                earliest = Some(earliest.map_or(r.expires_at, |t| t.min(r.expires_at)));
                true
            });
            // One pass over the index, as over the families, whatever the number of a subject's
            // families purged.
            shard.by_subject.retain(|id| !removed.contains(id));
            shard.crowded.retain(|_, ids| {
                ids.retain(|id| !removed.contains(id));
                !ids.is_empty()
            });
            shard.earliest_expiry = earliest;
            // Give memory back once a shard has shrunk well below its table (keeps a margin so that a
            // shard near a resize boundary does not shrink and regrow on every batch).
            let len = shard.families.len();
            if shard.families.capacity() > len.saturating_mul(4).max(64) {
                let hashers = &self.hashers;
                shard
                    .families
                    .shrink_to(len.saturating_mul(2), |r| hashers.id(&r.id));
                let families = &shard.families;
                shard.by_subject.shrink_to(len.saturating_mul(2), |id| {
                    index_hash(hashers, families, id)
                });
            }
            drop(guard);
            let removed = removed.len();
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

    /// R-SAFE-1: a capacity beyond memory is not reserved, rather than a panic; the store still works.
    #[test]
    fn r_safe_1_an_impossible_capacity_does_not_panic() {
        let store = InMemoryRefreshTokenStore::with_capacity(usize::MAX);
        assert!(store.is_empty());
        let f = crate::testkit::sample_family(
            FamilyId::from_bytes([3; 16]),
            "subject",
            Timestamp::from_unix_seconds(4_000_000_000),
        );
        store.create(f).unwrap();
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn record_stays_small() {
        // The memory target depends on it: see the module docs and examples/store_memory.rs.
        // 120 bytes: a 128-byte allocation.
        assert!(
            std::mem::size_of::<Record>() <= 120,
            "{}",
            std::mem::size_of::<Record>()
        );
        assert_eq!(std::mem::size_of::<Box<Record>>(), 8);
        assert_eq!(std::mem::size_of::<FamilyId>(), 16);
    }

    fn family(subject: &str, byte: u8) -> Family {
        Family {
            id: FamilyId::from_bytes([byte; 16]),
            info: Arc::new(FamilyInfo {
                client_id: "c".into(),
                subject: subject.into(),
                username: "u".into(),
                device_key: None,
                scopes: "openid".into(),
                auth_time: Timestamp::from_unix_seconds(5),
                event_id: [3; 16],
                expires_at: Timestamp::from_unix_seconds(9),
            }),
            state: FamilyState::new(1),
        }
    }

    /// R-REV-3: the subject index is a hash table whose probe also yields entries that only share a
    /// hash tag with the subject's; a global sign-out revokes the subject's families alone. With
    /// 20,000 subjects, such neighbours are certain.
    #[test]
    fn r_rev_3_global_sign_out_never_revokes_another_subject_sharing_a_hash_tag() {
        let store = InMemoryRefreshTokenStore::new();
        let n: u32 = 20_000;
        for i in 0..n {
            let mut bytes = [0u8; 16];
            bytes[..4].copy_from_slice(&i.to_le_bytes());
            bytes[8..12].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_le_bytes());
            let mut f = family("x", 0);
            f.id = FamilyId::from_bytes(bytes);
            let mut info = (*f.info).clone();
            info.subject = format!("user-{i}").into();
            f.info = Arc::new(info);
            store.create(f).unwrap();
        }
        for i in 0..200u32 {
            assert_eq!(
                store.revoke_subject(&format!("user-{i}")).unwrap(),
                1,
                "user-{i}"
            );
        }
        // Nobody else's family was touched.
        assert_eq!(store.revoke_subject("user-19999").unwrap(), 1);
    }

    #[test]
    fn r_rev_8_global_sign_out_reads_the_subject_index_not_every_family() {
        let store = InMemoryRefreshTokenStore::new();
        for b in 1..=40u8 {
            store
                .create(family(if b % 2 == 0 { "alice" } else { "bob" }, b))
                .unwrap();
        }
        // Take alice's families out of the index (only the index): a scan would still find them.
        let hash = store.subject_hash("alice");
        for shard in store.shards.iter() {
            let mut guard = shard.0.lock();
            let shard = &mut *guard;
            shard
                .by_subject
                .retain(|id| index_hash(&store.hashers, &shard.families, id) != hash);
            shard.crowded.remove(&hash);
        }
        assert_eq!(store.revoke_subject("alice").unwrap(), 0);
        assert_eq!(store.revoke_subject("bob").unwrap(), 20);
    }

    #[test]
    fn the_subject_index_follows_purges() {
        let store = InMemoryRefreshTokenStore::new();
        for b in 1..=40u8 {
            store.create(family("alice", b)).unwrap();
        }
        let indexed = |store: &InMemoryRefreshTokenStore| -> usize {
            store
                .shards
                .iter()
                .map(|s| {
                    let shard = s.0.lock();
                    let crowded: usize = shard.crowded.values().map(Vec::len).sum();
                    shard.by_subject.len() + crowded
                })
                .sum()
        };
        assert_eq!(indexed(&store), 40);
        let cutoff = PurgeCutoff::at(Timestamp::from_unix_seconds(
            9 + PurgeCutoff::MARGIN_SECS as i64,
        ))
        .unwrap();
        assert_eq!(store.purge_expired(cutoff, 15).unwrap(), 15);
        assert_eq!(indexed(&store), 25);
        assert_eq!(store.purge_expired(cutoff, 100).unwrap(), 25);
        assert_eq!(indexed(&store), 0);
        assert!(store.shards.iter().all(|s| {
            let shard = s.0.lock();
            shard.by_subject.is_empty() && shard.crowded.is_empty()
        }));
    }

    /// R-REV-8 and the `create` cost: one user's families beyond [`INDEXED_PER_SUBJECT`] in a shard go
    /// to the shard's crowded list, so the multimap never holds a long run of one hash (whose probe
    /// sequence every insert would walk); global sign-out and purges still find every one of them.
    #[test]
    fn r_rev_8_a_subject_with_many_families_stays_bounded_in_the_multimap() {
        let store = InMemoryRefreshTokenStore::new();
        let hash = store.subject_hash("heavy");
        let id = |i: u32| {
            let mut bytes = [7u8; 16];
            bytes[..4].copy_from_slice(&i.to_le_bytes());
            FamilyId::from_bytes(bytes)
        };
        for i in 0..5_000u32 {
            let mut f = family("heavy", 0);
            f.id = id(i);
            if i % 2 == 0 {
                Arc::make_mut(&mut f.info).expires_at = Timestamp::from_unix_seconds(5);
            }
            store.create(f).unwrap();
        }
        let (mut in_multimap, mut in_lists) = (0, 0);
        for shard in store.shards.iter() {
            let shard = shard.0.lock();
            let here = shard
                .by_subject
                .iter()
                .filter(|id| index_hash(&store.hashers, &shard.families, id) == hash)
                .count();
            assert!(here <= INDEXED_PER_SUBJECT, "{here}");
            in_multimap += here;
            in_lists += shard.crowded.values().map(Vec::len).sum::<usize>();
        }
        assert_eq!(in_multimap + in_lists, 5_000);
        assert!(in_lists > 4_000, "{in_lists}");
        let cutoff = PurgeCutoff::at(Timestamp::from_unix_seconds(
            5 + PurgeCutoff::MARGIN_SECS as i64,
        ))
        .unwrap();
        assert_eq!(store.purge_expired(cutoff, usize::MAX).unwrap(), 2_500);
        assert_eq!(store.revoke_subject("heavy").unwrap(), 2_500);
    }

    /// R-REV-8 through table growth and shrinking: the subject index is rehashed by looking its
    /// families up, so every family must stay findable by its subject after both tables have grown
    /// many times, and after a purge has shrunk them.
    #[test]
    fn r_rev_8_the_subject_index_survives_growth_and_shrinking() {
        let store = InMemoryRefreshTokenStore::new();
        let id = |i: u32, subject: u8| {
            let mut bytes = [subject; 16];
            bytes[..4].copy_from_slice(&i.to_le_bytes());
            FamilyId::from_bytes(bytes)
        };
        for i in 0..4_000u32 {
            for (subject, name) in [(1, "alice"), (2, "bob")] {
                let mut f = family(name, 0);
                f.id = id(i, subject);
                if i % 8 != 0 {
                    // Most of each subject's families expire early: the purge below shrinks the tables.
                    Arc::make_mut(&mut f.info).expires_at = Timestamp::from_unix_seconds(5);
                }
                store.create(f).unwrap();
            }
        }
        let cutoff = PurgeCutoff::at(Timestamp::from_unix_seconds(
            5 + PurgeCutoff::MARGIN_SECS as i64,
        ))
        .unwrap();
        let capacity = |store: &InMemoryRefreshTokenStore| -> usize {
            store
                .shards
                .iter()
                .map(|s| s.0.lock().families.capacity())
                .sum()
        };
        let grown = capacity(&store);
        assert_eq!(store.purge_expired(cutoff, usize::MAX).unwrap(), 7_000);
        assert_eq!(store.len(), 1_000);
        assert!(capacity(&store) < grown / 2, "the tables shrank");
        assert_eq!(store.revoke_subject("alice").unwrap(), 500);
        assert_eq!(store.revoke_subject("bob").unwrap(), 500);
        // Every live family is still found by its id, and the purged ones are gone.
        for i in 0..4_000u32 {
            let found = store.read(&id(i, 1)).unwrap().family;
            assert_eq!(found.is_some(), i % 8 == 0, "{i}");
        }
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
        let r = Record::new(FamilyId::from_bytes([1; 16]), &info, FamilyState::new(7)).unwrap();
        assert_eq!(r.parts(), ("sub-é", "", Some("us-east-1_dev")));
        assert_eq!(r.state(), FamilyState::new(7));
        assert_eq!(*r.to_family().info, info);
        let no_device = FamilyInfo {
            device_key: None,
            ..info
        };
        let r = Record::new(
            FamilyId::from_bytes([1; 16]),
            &no_device,
            FamilyState::new(7),
        )
        .unwrap();
        assert_eq!(r.parts(), ("sub-é", "", None));
    }
}
