//! The conformance suite for client stores ([`ClientStore`](crate::store::ClientStore) and
//! [`AsyncClientStore`]), R-PER-3.
//!
//! The registry's guarantees rest on two conditional writes of the store: an insert that refuses a taken
//! id or a full pool, and a replace that is a compare-and-set on the client's revision, so that no merge
//! update is lost (R-CLI-4). Each check exercises one of them, or reads, deletion (R-REV-7 through the
//! registry), pagination and scopes, through the asynchronous trait, so the same suite runs against a
//! synchronous store (every one is also asynchronous) and a store that awaits I/O.
//!
//! ```ignore
//! refresh_rotation::client_store_conformance_tests!(pg_clients, || my_crate::PgClientStore::fresh_schema());
//! ```
//!
//! expands to a module with one `#[test]` per check. The factory is called once per check and must
//! return an **empty store that no other running check shares**: the capacity and listing checks count.
//! It may return any [`AsyncClientStore`] (a synchronous store, an `Arc` of one, an asynchronous store).
//! Elsewhere, iterate over [`CHECKS`] or call [`run_all`].
//!
//! The checks drive the store's futures on the calling thread (they park it while a future is pending,
//! so the store's futures must make progress without that thread: tokio-postgres futures do when the
//! connection task runs on a runtime). The concurrency checks start 8 threads.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Barrier};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;

use crate::client::{AppClient, AppClientParts};
use crate::clock::ManualClock;
use crate::error::StoreError;
use crate::random::{random_string, SystemRandom};
use crate::store::RefreshTokenStore;
use crate::store::{AsyncClientStore, BoxFuture, InMemoryRefreshTokenStore, Replace};
use crate::{AppClientConfig, ClientRegistry, ClientSecret, NewClientSecret};

use super::{random_family_id, sample_family, T0};

/// A client-store conformance check: panics if the store breaks the contract.
pub type ClientCheck = fn(&Arc<dyn AsyncClientStore>);

/// The pool of the checks' clients.
pub const POOL: &str = "us-east-1_Conformance";

const THREADS: usize = 8;

/// Any asynchronous client store, as the checks take it. Implemented for every
/// [`AsyncClientStore`], hence for every synchronous store and `Arc` of one.
pub trait IntoClientStore {
    /// The store behind an `Arc<dyn AsyncClientStore>`.
    fn into_client_store(self) -> Arc<dyn AsyncClientStore>;
}

impl<S: AsyncClientStore + 'static> IntoClientStore for S {
    fn into_client_store(self) -> Arc<dyn AsyncClientStore> {
        Arc::new(self)
    }
}

impl IntoClientStore for Arc<dyn AsyncClientStore> {
    fn into_client_store(self) -> Arc<dyn AsyncClientStore> {
        self
    }
}

struct Unpark(thread::Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread, parking it while the future is pending.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        thread::park();
    }
}

/// A fresh random client id of the shape Create assigns (26 characters of `[a-z0-9]`).
pub fn random_client_id() -> String {
    random_string(
        &SystemRandom::new(),
        b"abcdefghijklmnopqrstuvwxyz0123456789",
        crate::AppClient::ID_LEN,
    )
    .expect("system random")
}

/// A client of [`POOL`] with id `client_id`, a secret, and a configuration named `name`, at revision 0.
pub fn sample_client(client_id: &str, name: &str) -> Arc<AppClient> {
    let config = AppClientConfig::builder(name)
        .read_attributes(["email"])
        .build()
        .expect("valid configuration");
    Arc::new(AppClient::from_parts(AppClientParts {
        client_id: client_id.into(),
        user_pool_id: POOL.into(),
        secret: Some(ClientSecret::new(format!("secret{client_id}"))),
        config,
        creation_date: T0,
        last_modified_date: T0,
        revision: 0,
    }))
}

/// `client` with its configuration renamed `name` and read attributes `attrs`, at the next revision.
fn next_revision(client: &AppClient, name: &str, attrs: Vec<String>) -> Arc<AppClient> {
    let config = client
        .config()
        .to_builder()
        .client_name(name)
        .read_attributes(attrs)
        .build()
        .expect("valid configuration");
    let mut parts = client.to_parts();
    parts.config = config;
    parts.revision += 1;
    parts.last_modified_date = T0.checked_add_secs(parts.revision).expect("time");
    Arc::new(AppClient::from_parts(parts))
}

fn get(store: &Arc<dyn AsyncClientStore>, id: &str) -> Option<Arc<AppClient>> {
    block_on(store.get(id)).expect("get")
}

fn insert_new(store: &Arc<dyn AsyncClientStore>, name: &str) -> Arc<AppClient> {
    let client = sample_client(&random_client_id(), name);
    block_on(store.insert(client.clone(), 1_000)).expect("insert");
    client
}

fn registry_over(store: &Arc<dyn AsyncClientStore>) -> ClientRegistry {
    ClientRegistry::new(
        POOL,
        Arc::new(ManualClock::new(T0)),
        Arc::new(SystemRandom::new()),
    )
    .with_store(Arc::clone(store))
}

// ---------------------------------------------------------------- checks

/// R-PER-1: what is inserted reads back whole: id, pool, secret, configuration, dates, revision.
pub fn r_per_3_insert_then_get_round_trips(store: &Arc<dyn AsyncClientStore>) {
    let client = insert_new(store, "round-trip");
    let read = get(store, client.client_id()).expect("stored");
    assert_eq!(read.client_id(), client.client_id());
    assert_eq!(read.user_pool_id(), POOL);
    assert_eq!(
        read.secret().map(ClientSecret::expose_secret),
        client.secret().map(ClientSecret::expose_secret),
        "the secret is given back (R-PER-1)"
    );
    assert_eq!(read.config(), client.config());
    assert_eq!(read.creation_date(), T0);
    assert_eq!(read.last_modified_date(), T0);
    assert_eq!(read.revision(), 0);
    assert_eq!(block_on(store.count()).expect("count"), 1);
}

/// A client without a secret stays without one.
pub fn r_per_3_public_client_has_no_secret(store: &Arc<dyn AsyncClientStore>) {
    let mut parts = sample_client(&random_client_id(), "public").to_parts();
    parts.secret = None;
    let client = Arc::new(AppClient::from_parts(parts));
    block_on(store.insert(client.clone(), 10)).expect("insert");
    assert!(get(store, client.client_id())
        .expect("stored")
        .secret()
        .is_none());
}

/// An unknown id reads as `None`.
pub fn r_per_3_get_of_unknown_client_is_none(store: &Arc<dyn AsyncClientStore>) {
    assert!(get(store, &random_client_id()).is_none());
}

/// R-CLI-5: a lookup by an id or scope no stored client can have (one holding U+0000, which an SQL
/// text column cannot store) answers as for any unknown one: `None`, nothing deleted, not declared;
/// never a backend error (which callers would report as an internal error).
pub fn r_cli_5_lookups_by_unstorable_names_find_nothing(store: &Arc<dyn AsyncClientStore>) {
    let id = "abc\u{0}def";
    assert!(block_on(store.get(id)).expect("get").is_none());
    assert!(!block_on(store.delete(id)).expect("delete"));
    assert!(!block_on(store.is_scope_declared("res/x\u{0}")).expect("is_scope_declared"));
}

/// R-CLI-1: an insert of a taken id fails with `AlreadyExists` and leaves the original as it was.
pub fn r_per_3_insert_of_taken_id_fails_and_keeps_the_original(store: &Arc<dyn AsyncClientStore>) {
    let original = insert_new(store, "original");
    let intruder = sample_client(original.client_id(), "intruder");
    assert_eq!(
        block_on(store.insert(intruder, 1_000)),
        Err(StoreError::AlreadyExists)
    );
    let read = get(store, original.client_id()).expect("stored");
    assert_eq!(read.config().client_name(), "original");
    assert_eq!(block_on(store.count()).expect("count"), 1);
}

/// The pool's bound: an insert at `max_clients` fails with `Full` and stores nothing.
pub fn r_per_3_insert_beyond_max_clients_is_full(store: &Arc<dyn AsyncClientStore>) {
    for _ in 0..3 {
        block_on(store.insert(sample_client(&random_client_id(), "c"), 3)).expect("insert");
    }
    let extra = sample_client(&random_client_id(), "extra");
    assert_eq!(
        block_on(store.insert(extra.clone(), 3)),
        Err(StoreError::Full)
    );
    assert!(get(store, extra.client_id()).is_none());
    assert_eq!(block_on(store.count()).expect("count"), 3);
}

/// Concurrent inserts never grow the pool past its bound.
pub fn r_per_3_concurrent_inserts_respect_max_clients(store: &Arc<dyn AsyncClientStore>) {
    let stored = race(|_| {
        let client = sample_client(&random_client_id(), "racer");
        move || match block_on(store.insert(client, 3)) {
            Ok(()) => true,
            Err(StoreError::Full) => false,
            Err(e) => panic!("insert: {e:?}"),
        }
    });
    assert_eq!(stored, 3);
    assert_eq!(block_on(store.count()).expect("count"), 3);
}

/// R-CLI-4: a replace at the stored revision replaces; the new value reads back.
pub fn r_cli_4_replace_at_expected_revision_replaces(store: &Arc<dyn AsyncClientStore>) {
    let client = insert_new(store, "before");
    let next = next_revision(&client, "after", vec!["name".into()]);
    assert_eq!(
        block_on(store.replace(next.clone(), 0)).expect("replace"),
        Replace::Replaced
    );
    let read = get(store, client.client_id()).expect("stored");
    assert_eq!(read.config().client_name(), "after");
    assert_eq!(read.revision(), 1);
    assert_eq!(read.creation_date(), T0);
    assert_eq!(read.last_modified_date(), next.last_modified_date());
    assert_eq!(
        read.secret().map(ClientSecret::expose_secret),
        client.secret().map(ClientSecret::expose_secret)
    );
}

/// R-CLI-4: a replace at a stale revision is a `Conflict` and writes nothing.
pub fn r_cli_4_replace_at_stale_revision_conflicts(store: &Arc<dyn AsyncClientStore>) {
    let client = insert_new(store, "v0");
    let first = next_revision(&client, "v1", vec![]);
    assert_eq!(
        block_on(store.replace(first, 0)).expect("replace"),
        Replace::Replaced
    );
    let stale = next_revision(&client, "stale", vec![]);
    assert_eq!(
        block_on(store.replace(stale, 0)).expect("replace"),
        Replace::Conflict
    );
    assert_eq!(
        get(store, client.client_id())
            .expect("stored")
            .config()
            .client_name(),
        "v1"
    );
}

/// A replace of an unknown client is `NotFound` and creates nothing.
pub fn r_cli_4_replace_of_unknown_client_is_not_found(store: &Arc<dyn AsyncClientStore>) {
    let ghost = sample_client(&random_client_id(), "ghost");
    let next = next_revision(&ghost, "ghost", vec![]);
    assert_eq!(
        block_on(store.replace(next, 0)).expect("replace"),
        Replace::NotFound
    );
    assert!(get(store, ghost.client_id()).is_none());
}

/// Runs [`THREADS`] racers released together: `racer(t)` prepares thread `t`'s attempt before the
/// start, and the attempt says whether it won. Returns how many won.
fn race<F: FnOnce() -> bool>(racer: impl Fn(usize) -> F + Sync) -> usize {
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let (barrier, racer) = (&barrier, &racer);
                s.spawn(move || {
                    let attempt = racer(t);
                    barrier.wait();
                    attempt()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .filter(|&won| won)
            .count()
    })
}

/// R-CLI-4: 8 threads racing one compare-and-set from the same revision: exactly one wins.
pub fn r_cli_4_concurrent_replaces_at_one_revision_succeed_once(store: &Arc<dyn AsyncClientStore>) {
    let client = insert_new(store, "v0");
    let wins = race(|t| {
        let next = next_revision(&client, &format!("t{t}"), vec![]);
        move || block_on(store.replace(next, 0)).expect("replace") == Replace::Replaced
    });
    assert_eq!(wins, 1, "one compare-and-set per revision");
    assert_eq!(
        get(store, client.client_id()).expect("stored").revision(),
        1
    );
}

/// R-CLI-4, R-PER-3: read-modify-write loops from 8 threads, each adding its own attribute: every
/// addition survives (no lost update).
pub fn r_per_3_concurrent_read_modify_write_loses_no_update(store: &Arc<dyn AsyncClientStore>) {
    let client = insert_new(store, "shared");
    let id = client.client_id().clone();
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (barrier, id) = (&barrier, &id);
            s.spawn(move || {
                barrier.wait();
                loop {
                    let current = get(store, id).expect("stored");
                    let mut attrs = current.config().read_attributes().to_vec();
                    attrs.push(format!("custom:t{t}"));
                    let next = next_revision(&current, "shared", attrs);
                    match block_on(store.replace(next, current.revision())).expect("replace") {
                        Replace::Replaced => return,
                        Replace::Conflict => continue,
                        Replace::NotFound => panic!("client vanished"),
                    }
                }
            });
        }
    });
    let read = get(store, &id).expect("stored");
    let attrs: BTreeSet<&str> = read
        .config()
        .read_attributes()
        .iter()
        .map(String::as_str)
        .collect();
    for t in 0..THREADS {
        assert!(
            attrs.contains(format!("custom:t{t}").as_str()),
            "lost update t{t}: {attrs:?}"
        );
    }
    assert_eq!(read.revision(), THREADS as u64);
}

/// R-CLI-4 through the registry: concurrent merge updates over this store all land.
pub fn r_cli_4_registry_merge_updates_lose_nothing_under_concurrency(
    store: &Arc<dyn AsyncClientStore>,
) {
    let registry = registry_over(store);
    let client = block_on(
        registry.create_client_async(AppClientConfig::builder("merge"), NewClientSecret::None),
    )
    .expect("create");
    let id = client.client_id().clone();
    let barrier = Barrier::new(THREADS);
    thread::scope(|s| {
        for t in 0..THREADS {
            let (barrier, id, registry) = (&barrier, &id, &registry);
            s.spawn(move || {
                barrier.wait();
                block_on(registry.update_client_with_async(id, |b| {
                    let mut attrs = b
                        .clone()
                        .build()
                        .map(|c| c.read_attributes().to_vec())
                        .unwrap_or_default();
                    attrs.push(format!("custom:t{t}"));
                    b.read_attributes(attrs)
                }))
                .expect("each updater gets through: every conflict is another's success");
            });
        }
    });
    let read = block_on(registry.get_async(&id))
        .expect("get")
        .expect("stored");
    assert_eq!(
        read.config().read_attributes().len(),
        THREADS,
        "{:?}",
        read.config().read_attributes()
    );
    assert_eq!(read.revision(), THREADS as u64);
}

/// Delete removes the client and says whether it existed.
pub fn r_per_3_delete_removes_and_reports(store: &Arc<dyn AsyncClientStore>) {
    let keep = insert_new(store, "keep");
    let gone = insert_new(store, "gone");
    assert!(block_on(store.delete(gone.client_id())).expect("delete"));
    assert!(!block_on(store.delete(gone.client_id())).expect("delete"));
    assert!(get(store, gone.client_id()).is_none());
    assert!(get(store, keep.client_id()).is_some());
    assert_eq!(block_on(store.count()).expect("count"), 1);
    let listed = block_on(store.list(None, 10)).expect("list");
    assert_eq!(listed.len(), 1);
}

/// R-REV-7: deleting a client through a registry over this store revokes its families in the linked
/// family store, and leaves other clients' families alone.
pub fn r_rev_7_registry_delete_over_this_store_revokes_families(store: &Arc<dyn AsyncClientStore>) {
    let registry = registry_over(store);
    let families: Arc<dyn RefreshTokenStore> = Arc::new(InMemoryRefreshTokenStore::new());
    registry.link_family_store(&families, |_, _| {});
    let create = || {
        block_on(registry.create_client_async(AppClientConfig::builder("c"), NewClientSecret::None))
            .expect("create")
    };
    let (doomed, other) = (create(), create());
    let family_of = |client: &AppClient| {
        let mut f = sample_family(
            random_family_id(),
            "subject",
            T0.checked_add_secs(86_400).expect("time"),
        );
        let mut info = (*f.info).clone();
        info.client_id = client.client_id().clone();
        f.info = Arc::new(info);
        families.create(f.clone()).expect("create family");
        f.id
    };
    let (f_doomed, f_other) = (family_of(&doomed), family_of(&other));
    block_on(registry.delete_client_async(doomed.client_id())).expect("delete");
    assert!(get(store, doomed.client_id()).is_none());
    assert!(
        families
            .get(&f_doomed)
            .expect("read")
            .expect("kept")
            .state
            .revoked
    );
    assert!(
        !families
            .get(&f_other)
            .expect("read")
            .expect("kept")
            .state
            .revoked
    );
    assert!(
        block_on(registry.delete_client_async(doomed.client_id())).is_err(),
        "deleting again is ResourceNotFoundException (R-CLI-5)"
    );
}

/// R-CLI-7: list walks every client once, in client-id order, page by page, and a page starts after the
/// given id whether or not that id still exists.
pub fn r_per_3_list_pages_in_client_id_order(store: &Arc<dyn AsyncClientStore>) {
    let mut ids: Vec<String> = (0..7)
        .map(|i| insert_new(store, &format!("c{i}")).client_id().to_string())
        .collect();
    ids.sort();
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = block_on(store.list(after.as_deref(), 3)).expect("list");
        assert!(page.len() <= 3);
        walked.extend(page.iter().map(|c| c.client_id().to_string()));
        match page.last() {
            Some(last) if page.len() == 3 => after = Some(last.client_id().to_string()),
            _ => break,
        }
    }
    assert_eq!(walked, ids);
    // Keyset: after a deleted id, the walk goes on from where it was.
    assert!(block_on(store.delete(&ids[2])).expect("delete"));
    let page = block_on(store.list(Some(&ids[2]), 2)).expect("list");
    let got: Vec<String> = page.iter().map(|c| c.client_id().to_string()).collect();
    assert_eq!(got, ids[3..5].to_vec());
    assert!(block_on(store.list(Some(&ids[6]), 5))
        .expect("list")
        .is_empty());
}

/// Scopes: declared ones are known, declaring again is harmless even at the bound, a new one beyond
/// the bound is `Full`.
pub fn r_per_3_scopes_are_declared_once_and_bounded(store: &Arc<dyn AsyncClientStore>) {
    assert!(!block_on(store.is_scope_declared("api/read")).expect("read"));
    block_on(store.declare_scope("api/read", 2)).expect("declare");
    block_on(store.declare_scope("api/write", 2)).expect("declare");
    block_on(store.declare_scope("api/read", 2)).expect("declaring again at the bound");
    assert_eq!(
        block_on(store.declare_scope("api/admin", 2)),
        Err(StoreError::Full)
    );
    assert!(block_on(store.is_scope_declared("api/read")).expect("read"));
    assert!(!block_on(store.is_scope_declared("api/admin")).expect("read"));
    let all: BTreeSet<String> = block_on(store.scopes())
        .expect("scopes")
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = ["api/read", "api/write"].map(String::from).into();
    assert_eq!(all, expected);
}

/// R-ENG-2: a store that says it answers at once ([`AsyncClientStore::answers_at_once`]), as the
/// registry's synchronous methods require, completes every operation's future on its first poll. Each
/// operation is polled once, with a waker that does nothing, and must be ready. A store that does not
/// say so (one that awaits I/O) is not held to this, and the check has nothing to check.
pub fn r_eng_2_a_store_that_answers_at_once_completes_on_the_first_poll(
    store: &Arc<dyn AsyncClientStore>,
) {
    if !store.answers_at_once() {
        return;
    }
    let client = sample_client(&random_client_id(), "first-poll");
    let id = client.client_id();
    first_poll("insert", store.insert(client.clone(), 10)).expect("insert");
    assert!(first_poll("get", store.get(id)).expect("get").is_some());
    let next = next_revision(&client, "first-poll, again", vec!["name".into()]);
    assert_eq!(
        first_poll("replace", store.replace(next, 0)).expect("replace"),
        Replace::Replaced
    );
    assert_eq!(
        first_poll("list", store.list(None, 10))
            .expect("list")
            .len(),
        1
    );
    assert_eq!(first_poll("count", store.count()).expect("count"), 1);
    first_poll("declare_scope", store.declare_scope("api/first-poll", 10)).expect("declare");
    assert!(first_poll(
        "is_scope_declared",
        store.is_scope_declared("api/first-poll")
    )
    .expect("is_scope_declared"));
    assert_eq!(
        first_poll("scopes", store.scopes()).expect("scopes").len(),
        1
    );
    assert!(first_poll("delete", store.delete(id)).expect("delete"));
}

/// The answer of `future` on its first poll; panics naming `operation` if it is pending.
fn first_poll<T>(operation: &str, future: BoxFuture<'_, T>) -> T {
    let mut future = future;
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(answer) => answer,
        Poll::Pending => {
            panic!("`{operation}` was pending on its first poll, though the store answers at once")
        }
    }
}

/// R-PER-3: declarations racing at the bound store no more scopes than it allows: `declare_scope` checks
/// the bound and writes in one atomic step, as `insert` does.
pub fn r_per_3_concurrent_scope_declarations_respect_the_bound(store: &Arc<dyn AsyncClientStore>) {
    let declared = race(|t| {
        let scope = format!("api/racer{t}");
        move || match block_on(store.declare_scope(&scope, 3)) {
            Ok(()) => true,
            Err(StoreError::Full) => false,
            Err(e) => panic!("declare_scope: {e:?}"),
        }
    });
    assert_eq!(declared, 3);
    assert_eq!(block_on(store.scopes()).expect("scopes").len(), 3);
}

/// Expands `$callback!` with the names of every client-store check, so the list is written once.
#[doc(hidden)]
#[macro_export]
macro_rules! __client_store_conformance_checks {
    ([$($callback:tt)*] $($prefix:tt)*) => {
        $($callback)*! { $($prefix)* ;
            r_per_3_insert_then_get_round_trips,
            r_per_3_public_client_has_no_secret,
            r_per_3_get_of_unknown_client_is_none,
            r_cli_5_lookups_by_unstorable_names_find_nothing,
            r_per_3_insert_of_taken_id_fails_and_keeps_the_original,
            r_per_3_insert_beyond_max_clients_is_full,
            r_per_3_concurrent_inserts_respect_max_clients,
            r_per_3_concurrent_scope_declarations_respect_the_bound,
            r_cli_4_replace_at_expected_revision_replaces,
            r_cli_4_replace_at_stale_revision_conflicts,
            r_cli_4_replace_of_unknown_client_is_not_found,
            r_cli_4_concurrent_replaces_at_one_revision_succeed_once,
            r_per_3_concurrent_read_modify_write_loses_no_update,
            r_cli_4_registry_merge_updates_lose_nothing_under_concurrency,
            r_per_3_delete_removes_and_reports,
            r_rev_7_registry_delete_over_this_store_revokes_families,
            r_per_3_list_pages_in_client_id_order,
            r_per_3_scopes_are_declared_once_and_bounded,
            r_eng_2_a_store_that_answers_at_once_completes_on_the_first_poll
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __client_store_conformance_each {
    (; $($check:ident),*) => {
        $(
            #[test]
            fn $check() {
                $crate::testkit::clients::$check(&__client_store());
            }
        )*
    };
}

/// Generates a module `$name` with one `#[test]` per client-store conformance check (R-PER-3), each run
/// against a fresh, empty store from `$factory` (any [`AsyncClientStore`](crate::store::AsyncClientStore):
/// a synchronous store, an `Arc` of one, or an asynchronous store).
///
/// ```
/// refresh_rotation::client_store_conformance_tests!(
///     in_memory_clients,
///     refresh_rotation::store::InMemoryClientStore::new
/// );
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! client_store_conformance_tests {
    ($name:ident, $factory:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            fn __client_store() -> ::std::sync::Arc<dyn $crate::store::AsyncClientStore> {
                $crate::testkit::clients::IntoClientStore::into_client_store(($factory)())
            }

            $crate::__client_store_conformance_checks!([$crate::__client_store_conformance_each]);
        }
    };
}

macro_rules! client_checks_table {
    (; $($check:ident),*) => {
        /// Every client-store check, with its name, for harnesses that cannot use
        /// [`client_store_conformance_tests!`](crate::client_store_conformance_tests).
        pub const CHECKS: &[(&str, ClientCheck)] = &[$((stringify!($check), $check as ClientCheck)),*];
    };
}
crate::__client_store_conformance_checks!([client_checks_table]);

/// Runs every client-store check, each against a fresh store from `factory`, and panics naming the
/// first that fails.
pub fn run_all<S: IntoClientStore>(factory: impl Fn() -> S) {
    for (name, check) in CHECKS {
        let store = factory().into_client_store();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&store)));
        if let Err(cause) = outcome {
            let detail = cause
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| cause.downcast_ref::<&str>().copied())
                .unwrap_or("");
            panic!("client store conformance check `{name}` failed: {detail}");
        }
    }
}
