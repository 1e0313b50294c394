//! Implementing the family store: a minimal `RefreshTokenStore` over one mutex-guarded map, checked with
//! the crate's public conformance suite.
//!
//! The one operation that carries the crate's security guarantee is `advance`: read and write the
//! generation in one atomic step, or two concurrent refreshes could both advance a family and leave two
//! valid successors of one token. Everything else is bookkeeping. A real store (SQL, Redis, DynamoDB)
//! does the same with one conditional write; see the trait's documentation.
//!
//! Run with `cargo run --example custom_store`: it runs every conformance check and prints the result.

use std::collections::HashMap;
use std::sync::Mutex;

use refresh_rotation::clock::Timestamp;
use refresh_rotation::store::{
    Advance, Family, FamilyId, FamilyRead, PurgeCutoff, RefreshTokenStore, StoreError,
};

/// Every family in one map behind one lock: correct, if not fast.
#[derive(Debug, Default)]
struct MapStore {
    families: Mutex<HashMap<FamilyId, Family>>,
}

impl MapStore {
    fn with<T>(
        &self,
        f: impl FnOnce(&mut HashMap<FamilyId, Family>) -> T,
    ) -> Result<T, StoreError> {
        let mut map = self
            .families
            .lock()
            .map_err(|_| StoreError::Backend("a thread panicked while holding the lock".into()))?;
        Ok(f(&mut map))
    }
}

impl RefreshTokenStore for MapStore {
    fn create(&self, family: Family) -> Result<(), StoreError> {
        self.with(|m| match m.entry(family.id) {
            std::collections::hash_map::Entry::Occupied(_) => Err(StoreError::AlreadyExists),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(family);
                Ok(())
            }
        })?
    }

    fn read(&self, id: &FamilyId) -> Result<FamilyRead, StoreError> {
        // `time: None`: decisions use the host's clock. A store shared by several hosts should supply
        // its own (the PostgreSQL store reads the database clock in the same statement).
        let family = self.with(|m| m.get(id).cloned())?;
        Ok(FamilyRead { family, time: None })
    }

    fn advance(
        &self,
        id: &FamilyId,
        expected: u32,
        grace_deadline: Timestamp,
        key_id: u32,
    ) -> Result<Advance, StoreError> {
        // The compare-and-set: the check and the write happen under one lock.
        self.with(|m| {
            let Some(family) = m.get_mut(id) else {
                return Advance::NotFound;
            };
            let s = &mut family.state;
            match s.generation.checked_add(1) {
                Some(next) if !s.revoked && s.generation == expected => {
                    s.generation = next;
                    s.grace_deadline = grace_deadline;
                    s.key_id = key_id;
                    Advance::Advanced(*s)
                }
                _ => Advance::Unchanged(*s),
            }
        })
    }

    fn bind_device(&self, id: &FamilyId, device_key: &str) -> Result<Option<Family>, StoreError> {
        self.with(|m| {
            let family = m.get_mut(id)?;
            if family.info.device_key.is_none() {
                let mut info = (*family.info).clone();
                info.device_key = Some(device_key.into());
                family.info = info.into();
                family.state.device_confirmed = false;
            }
            Some(family.clone())
        })
    }

    fn confirm_device(&self, id: &FamilyId, device_key: &str) -> Result<bool, StoreError> {
        self.with(|m| match m.get_mut(id) {
            Some(f) if f.info.device_key.as_deref() == Some(device_key) => {
                f.state.device_confirmed = true;
                true
            }
            _ => false,
        })
    }

    fn revoke(&self, id: &FamilyId) -> Result<bool, StoreError> {
        self.with(|m| {
            m.get_mut(id)
                .is_some_and(|f| !std::mem::replace(&mut f.state.revoked, true))
        })
    }

    fn revoke_subject(&self, subject: &str) -> Result<usize, StoreError> {
        // A scan: fine for an example; a real store keeps an index by subject (R-REV-8).
        self.with(|m| {
            let mut live = 0;
            for f in m.values_mut().filter(|f| &*f.info.subject == subject) {
                if !std::mem::replace(&mut f.state.revoked, true) {
                    live += 1;
                }
            }
            live
        })
    }

    fn revoke_client(&self, client_id: &str) -> Result<usize, StoreError> {
        self.with(|m| {
            let mut live = 0;
            for f in m.values_mut().filter(|f| &*f.info.client_id == client_id) {
                if !std::mem::replace(&mut f.state.revoked, true) {
                    live += 1;
                }
            }
            live
        })
    }

    fn purge_expired(&self, cutoff: PurgeCutoff, max: usize) -> Result<usize, StoreError> {
        let cutoff = cutoff.expired_at_or_before();
        self.with(|m| {
            let doomed: Vec<FamilyId> = m
                .iter()
                .filter(|(_, f)| f.info.expires_at <= cutoff)
                .map(|(id, _)| *id)
                .take(max)
                .collect();
            for id in &doomed {
                m.remove(id);
            }
            doomed.len()
        })
    }
}

fn main() {
    // Each check gets a fresh store; a failing check panics with its name.
    for (name, check) in refresh_rotation::testkit::CHECKS {
        check(&MapStore::default());
        println!("ok   {name}");
    }
    println!(
        "MapStore passes all {} conformance checks",
        refresh_rotation::testkit::CHECKS.len()
    );
}
