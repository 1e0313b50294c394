//! The user directory: who a family's user is now (SPEC 1, R-REF-8).
//!
//! Cognito reads its own user table at every refresh, so a disabled or deleted user cannot refresh and a
//! changed attribute or group shows up in the next ID token. The issuer does the same through the
//! [`UserDirectory`] trait, which the host implements over its own user store.
//! [`InMemoryUserDirectory`] serves tests, examples and single-process services.

use std::collections::hash_map::RandomState;
use std::collections::BTreeMap;
use std::hash::BuildHasher as _;
use std::sync::Arc;

use hashbrown::HashTable;
use parking_lot::RwLock;

use crate::future::{ready, BoxFuture};
use crate::Error;

/// A user as the directory knows them now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// The immutable `sub`, unique in the pool.
    pub subject: String,
    /// The username, unique in the pool.
    pub username: String,
    /// Whether the user may sign in and refresh (R-REF-8).
    pub enabled: bool,
    /// User attributes as Cognito's ID token carries them (`email`, `email_verified`, `custom:*`, ...),
    /// every value a string. `sub` is not among them: it is [`UserRecord::subject`].
    pub attributes: BTreeMap<String, String>,
    /// Group names, in precedence order (`cognito:groups`).
    pub groups: Vec<String>,
}

impl UserRecord {
    /// An enabled user with no attributes and no groups.
    pub fn new(subject: impl Into<String>, username: impl Into<String>) -> Self {
        UserRecord {
            subject: subject.into(),
            username: username.into(),
            enabled: true,
            attributes: BTreeMap::new(),
            groups: Vec::new(),
        }
    }

    /// Adds an attribute (builder style).
    pub fn with_attribute(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.attributes.insert(name.into(), value.into());
        self
    }

    /// Adds a group (builder style).
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.groups.push(group.into());
        self
    }
}

/// Where the issuer looks users up.
///
/// Contract: answers reflect the directory's state at the time of the call (no caching that outlives a
/// disable or delete by more than the host accepts); `Err` is for the directory being unreachable, never
/// for "no such user", which is `Ok(None)`. Implementations are called on the refresh path and should be
/// quick; returning an `Arc` lets an in-memory implementation answer without copying.
pub trait UserDirectory: Send + Sync {
    /// The user whose `sub` is `subject`, if they exist. A refresh refuses a user of another `sub`
    /// with `InternalErrorException` rather than mint that user's tokens.
    fn user_by_subject(&self, subject: &str) -> Result<Option<Arc<UserRecord>>, Error>;

    /// The user whose username is `username`, if they exist.
    ///
    /// The answer is taken as the user named: a sign-in mints its tokens and a global sign-out by
    /// username revokes its families, without comparing its username with `username`. This is what
    /// lets a directory resolve an alias (an email, a `preferred_username`) or compare usernames
    /// without regard to case, as a Cognito pool may; it also means the engine has no way to catch a
    /// directory that answers another user here (a misrouted query, a cache keyed wrongly), as it
    /// catches one in [`user_by_subject`](Self::user_by_subject), so an implementation must not.
    fn user_by_username(&self, username: &str) -> Result<Option<Arc<UserRecord>>, Error>;
}

impl<D: UserDirectory + ?Sized> UserDirectory for Arc<D> {
    fn user_by_subject(&self, subject: &str) -> Result<Option<Arc<UserRecord>>, Error> {
        (**self).user_by_subject(subject)
    }
    fn user_by_username(&self, username: &str) -> Result<Option<Arc<UserRecord>>, Error> {
        (**self).user_by_username(username)
    }
}

/// The asynchronous form of [`UserDirectory`] (R-ENG-2), for directories that await I/O. The contract
/// is [`UserDirectory`]'s; every synchronous directory is also an asynchronous one.
pub trait AsyncUserDirectory: Send + Sync {
    /// As [`UserDirectory::user_by_subject`].
    fn user_by_subject<'a>(
        &'a self,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<UserRecord>>, Error>>;

    /// As [`UserDirectory::user_by_username`].
    fn user_by_username<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<UserRecord>>, Error>>;
}

impl<D: UserDirectory + ?Sized> AsyncUserDirectory for D {
    fn user_by_subject<'a>(
        &'a self,
        subject: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<UserRecord>>, Error>> {
        ready(UserDirectory::user_by_subject(self, subject))
    }
    fn user_by_username<'a>(
        &'a self,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<Arc<UserRecord>>, Error>> {
        ready(UserDirectory::user_by_username(self, username))
    }
}

/// The directory's users, each held once and indexed twice. The tables hold the records themselves,
/// under the hash of their subject and of their username, rather than a copy of either string as a
/// key: a lookup compares the record's own field, which the caller reads next anyway, so finding a user
/// costs no extra cache line for a key (R-REF-8 runs one such lookup on every refresh).
#[derive(Default)]
struct Users {
    by_subject: HashTable<Arc<UserRecord>>,
    by_username: HashTable<Arc<UserRecord>>,
    /// Keys both hashes with per-directory random keys, so nobody can choose names that collide.
    hasher: RandomState,
}

impl Users {
    fn subject_hash(&self, subject: &str) -> u64 {
        self.hasher.hash_one(subject)
    }

    fn username_hash(&self, username: &str) -> u64 {
        self.hasher.hash_one(username)
    }

    fn by_subject(&self, subject: &str) -> Option<&Arc<UserRecord>> {
        self.by_subject
            .find(self.subject_hash(subject), |u| u.subject == subject)
    }

    fn by_username(&self, username: &str) -> Option<&Arc<UserRecord>> {
        self.by_username
            .find(self.username_hash(username), |u| u.username == username)
    }

    /// Removes the user with this subject from both tables and returns them.
    fn remove(&mut self, subject: &str) -> Option<Arc<UserRecord>> {
        let hash = self.subject_hash(subject);
        let (user, _) = self
            .by_subject
            .find_entry(hash, |u| u.subject == subject)
            .ok()?
            .remove();
        // Both tables hold the same `Arc`: the user's entry under its username is that one.
        let hash = self.username_hash(&user.username);
        if let Ok(entry) = self.by_username.find_entry(hash, |u| Arc::ptr_eq(u, &user)) {
            entry.remove();
        }
        Some(user)
    }

    /// Adds a user whose subject and username no other user has.
    fn insert(&mut self, user: Arc<UserRecord>) {
        let Users {
            by_subject,
            by_username,
            hasher,
        } = self;
        by_subject.insert_unique(hasher.hash_one(&*user.subject), Arc::clone(&user), |u| {
            hasher.hash_one(&*u.subject)
        });
        by_username.insert_unique(hasher.hash_one(&*user.username), user, |u| {
            hasher.hash_one(&*u.username)
        });
    }
}

/// A thread-safe in-memory [`UserDirectory`].
#[derive(Default)]
pub struct InMemoryUserDirectory {
    users: RwLock<Users>,
}

impl std::fmt::Debug for InMemoryUserDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryUserDirectory")
            .field("users", &self.users.read().by_subject.len())
            .finish()
    }
}

impl InMemoryUserDirectory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a user. Fails with `InvalidParameterException` if the username already belongs
    /// to another subject.
    pub fn put(&self, user: UserRecord) -> Result<(), Error> {
        let mut users = self.users.write();
        if users
            .by_username(&user.username)
            .is_some_and(|owner| owner.subject != user.subject)
        {
            return Err(Error::InvalidParameter {
                message: "User account already exists".into(),
            });
        }
        users.remove(&user.subject);
        users.insert(Arc::new(user));
        Ok(())
    }

    /// Enables or disables a user; returns whether the user exists.
    pub fn set_enabled(&self, subject: &str, enabled: bool) -> bool {
        let mut users = self.users.write();
        match users.remove(subject) {
            Some(mut user) => {
                Arc::make_mut(&mut user).enabled = enabled;
                users.insert(user);
                true
            }
            None => false,
        }
    }

    /// Removes a user; returns whether the user existed.
    pub fn remove(&self, subject: &str) -> bool {
        self.users.write().remove(subject).is_some()
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.read().by_subject.len()
    }

    /// Whether the directory is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl UserDirectory for InMemoryUserDirectory {
    fn user_by_subject(&self, subject: &str) -> Result<Option<Arc<UserRecord>>, Error> {
        Ok(self.users.read().by_subject(subject).cloned())
    }

    fn user_by_username(&self, username: &str) -> Result<Option<Arc<UserRecord>>, Error> {
        Ok(self.users.read().by_username(username).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::{InMemoryUserDirectory, UserDirectory, UserRecord};

    #[test]
    fn r_ref_8_directory_reflects_disable_and_delete() {
        let d = InMemoryUserDirectory::new();
        d.put(UserRecord::new("s1", "alice").with_attribute("email", "a@example.com"))
            .unwrap();
        assert!(d.user_by_subject("s1").unwrap().unwrap().enabled);
        assert!(d.set_enabled("s1", false));
        assert!(!d.user_by_username("alice").unwrap().unwrap().enabled);
        assert!(d.remove("s1"));
        assert!(d.user_by_subject("s1").unwrap().is_none());
        assert!(d.user_by_username("alice").unwrap().is_none());
        assert!(!d.set_enabled("s1", true));
    }

    #[test]
    fn lookups_by_either_name_agree_through_growth_renames_and_removals() {
        let d = InMemoryUserDirectory::new();
        for i in 0..500 {
            d.put(UserRecord::new(format!("s{i}"), format!("u{i}")))
                .unwrap();
        }
        // A subject that is another user's username is still only looked up as a subject.
        d.put(UserRecord::new("u7", "name-of-u7")).unwrap();
        for i in (0..500).step_by(2) {
            assert!(d.set_enabled(&format!("s{i}"), false));
        }
        for i in (0..500).step_by(3) {
            d.put(UserRecord::new(format!("s{i}"), format!("renamed{i}")))
                .unwrap();
        }
        for i in (0..500).step_by(5) {
            assert!(d.remove(&format!("s{i}")));
        }
        assert_eq!(d.len(), 401);
        for i in 0..500 {
            let (subject, old_name) = (format!("s{i}"), format!("u{i}"));
            let by_subject = d.user_by_subject(&subject).unwrap();
            if i % 5 == 0 {
                assert!(by_subject.is_none(), "{subject}");
                assert!(d.user_by_username(&old_name).unwrap().is_none());
                continue;
            }
            let user = by_subject.unwrap();
            let name = if i % 3 == 0 {
                format!("renamed{i}")
            } else {
                old_name.clone()
            };
            assert_eq!(user.username, name);
            // A rename replaces the record, enabled again; a disabled user is seen so by either name.
            assert_eq!(user.enabled, i % 2 == 1 || i % 3 == 0, "{subject}");
            assert_eq!(d.user_by_username(&name).unwrap(), Some(user));
            if i % 3 == 0 {
                assert!(d.user_by_username(&old_name).unwrap().is_none());
            }
        }
        assert_eq!(
            d.user_by_subject("u7").unwrap().unwrap().username,
            "name-of-u7"
        );
        assert_eq!(d.user_by_username("u7").unwrap().unwrap().subject, "s7");
    }

    #[test]
    fn usernames_are_unique() {
        let d = InMemoryUserDirectory::new();
        d.put(UserRecord::new("s1", "alice")).unwrap();
        assert!(d.put(UserRecord::new("s2", "alice")).is_err());
        // Renaming a user frees the old name.
        d.put(UserRecord::new("s1", "alicia")).unwrap();
        d.put(UserRecord::new("s2", "alice")).unwrap();
        assert_eq!(d.len(), 2);
    }
}
