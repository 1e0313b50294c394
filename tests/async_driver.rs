//! The asynchronous driver (R-ENG-1, R-ENG-2): the same flows as the synchronous one, awaited, with
//! collaborators that really await (a store whose every call yields to the executor first).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::yielding::YieldingStore;
use common::{Fixture, Opts};
use refresh_rotation::clock::Timestamp;
use refresh_rotation::error::StoreError;
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::store::AsyncRefreshTokenStore;
use refresh_rotation::store::BoxFuture;
use refresh_rotation::store::{
    Advance, Family, FamilyAndClient, FamilyId, FamilyRead, InMemoryRefreshTokenStore, PurgeCutoff,
    ReadWitness, RefreshTokenStore, WitnessedAdvance,
};
use refresh_rotation::ClientId;
use refresh_rotation::{AsyncTokenIssuer, Error, RefreshRequest, SignInRequest};

/// A sign-in of alice through `issuer`: its refresh token.
async fn signed_in(issuer: &AsyncTokenIssuer, f: &Fixture) -> refresh_rotation::RefreshToken {
    issuer
        .sign_in(&SignInRequest::new(f.id(), "alice"))
        .await
        .unwrap()
        .refresh_token
        .unwrap()
}

fn async_issuer(f: &Fixture, store: Arc<dyn AsyncRefreshTokenStore>) -> AsyncTokenIssuer {
    AsyncTokenIssuer::builder(
        "us-east-1",
        TokenSigner::new(Arc::new(
            SigningKey::generate(Algorithm::EdDSA, "async-key").unwrap(),
        )),
        f.refresh_keys(),
        f.registry.clone(),
        store,
        f.directory.clone(),
    )
    .clock(f.clock.clone())
    .build()
}

#[tokio::test]
async fn r_eng_2_rotation_grace_reuse_and_revocation_through_the_async_driver() {
    let f = Fixture::new(Opts::rotating(10));
    let issuer = async_issuer(&f, Arc::new(YieldingStore::default()));
    let t0 = signed_in(&issuer, &f).await;
    let req = RefreshRequest::new(&t0, f.id());
    let t1 = issuer
        .get_tokens_from_refresh_token(&req)
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    // R-ROT-2: a retry gets the same successor.
    let retry = issuer.get_tokens_from_refresh_token(&req).await.unwrap();
    assert_eq!(retry.refresh_token.as_ref(), Some(&t1));
    // R-ROT-4: after the window, reuse.
    f.clock.advance(10);
    assert_eq!(
        issuer
            .get_tokens_from_refresh_token(&req)
            .await
            .unwrap_err(),
        Error::RefreshTokenReused
    );
    // R-REV-2: revoked.
    issuer.revoke_token(&t1, f.id(), None).await.unwrap();
    assert_eq!(
        issuer
            .get_tokens_from_refresh_token(&RefreshRequest::new(&t1, f.id()))
            .await
            .unwrap_err(),
        Error::RefreshTokenRevoked
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_rot_5_sixteen_tasks_presenting_one_token_advance_once_through_the_async_driver() {
    let f = Fixture::new(Opts::rotating(0));
    let issuer = Arc::new(async_issuer(&f, Arc::new(YieldingStore::default())));
    for round in 0..10 {
        let t0 = signed_in(&issuer, &f).await;
        // Spawned tasks: the driver's futures are `Send`, as a tokio service needs.
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (issuer, t0, client) = (issuer.clone(), t0.clone(), f.client_id.clone());
                tokio::spawn(async move {
                    issuer
                        .get_tokens_from_refresh_token(&RefreshRequest::new(
                            &t0,
                            ClientId::parse(&client).unwrap(),
                        ))
                        .await
                })
            })
            .collect();
        let mut wins = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(r) => {
                    assert!(r.refresh_token.is_some());
                    wins += 1;
                }
                Err(e) => assert_eq!(e, Error::RefreshTokenReused, "round {round}"),
            }
        }
        assert_eq!(wins, 1, "round {round}: grace 0, exactly one advance");
    }
}

#[tokio::test]
async fn r_eng_1_both_drivers_give_the_same_answers_over_one_store() {
    // One pool, one in-memory store, a synchronous and an asynchronous issuer: a token rotated by one is
    // retried and reused through the other with the same answers.
    let f = Fixture::new(Opts::rotating(10));
    let store: Arc<InMemoryRefreshTokenStore> = f.store.clone();
    let issuer = async_issuer(&f, store);
    let t0 = f.sign_in();
    let first = f.refresh(&t0).unwrap().refresh_token.unwrap();
    let t0 = refresh_rotation::RefreshToken::new(t0);
    let retry = issuer
        .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))
        .await
        .unwrap();
    assert_eq!(retry.refresh_token.unwrap().expose_secret(), first);
    assert_eq!(
        issuer.global_sign_out_username("alice").await.unwrap(),
        1,
        "R-REV-3 through the async driver"
    );
    assert_eq!(f.refresh(&first).unwrap_err(), Error::RefreshTokenRevoked);
}

/// R-OAUTH-7 through the asynchronous driver: its introspection answers as the synchronous driver's over
/// one store, for a refresh token before and after its revocation and for the access token it minted.
#[tokio::test]
async fn r_oauth_7_the_async_driver_introspects_as_the_sync_one() {
    use refresh_rotation::engine::Introspection;
    let f = Fixture::new(Opts::rotating(10));
    let store: Arc<InMemoryRefreshTokenStore> = f.store.clone();
    let issuer = async_issuer(&f, store);
    let set = issuer
        .sign_in(&SignInRequest::new(f.id(), "alice"))
        .await
        .unwrap();
    let t0 = set.refresh_token.unwrap();
    let token = t0.expose_secret();
    let sync = f.issuer.introspect(token, f.id(), None).unwrap();
    let nonblocking = issuer.introspect(token, f.id(), None).await.unwrap();
    assert!(matches!(nonblocking, Introspection::Active(_)));
    assert_eq!(format!("{sync:?}"), format!("{nonblocking:?}"));
    // The access token this issuer signed (its own key: the fixture's issuer does not know it).
    let access = issuer
        .introspect(&set.access_token, f.id(), None)
        .await
        .unwrap();
    assert!(matches!(access, Introspection::Active(_)), "{access:?}");
    issuer.revoke_token(&t0, f.id(), None).await.unwrap();
    let sync = f.issuer.introspect(token, f.id(), None).unwrap();
    let nonblocking = issuer.introspect(token, f.id(), None).await.unwrap();
    assert!(matches!(nonblocking, Introspection::Inactive));
    assert!(matches!(sync, Introspection::Inactive));
}

#[tokio::test]
async fn r_rev_7_deleting_a_client_through_the_async_driver_revokes_its_families() {
    let f = Fixture::new(Opts::rotating(10));
    let store = Arc::new(YieldingStore::default());
    let issuer = async_issuer(&f, store.clone());
    let t0 = signed_in(&issuer, &f).await;
    issuer.delete_client(&f.client_id).await.unwrap();
    let d = f.refresh_keys().decode(t0.expose_secret()).unwrap();
    let family = RefreshTokenStore::get(&store.0, &d.family())
        .unwrap()
        .unwrap();
    assert!(family.state.revoked);
}

/// R-REV-7: the asynchronous issuer links its store to the registry, so that deleting the client
/// through the registry or the wire adapter (as a host's admin endpoint does) revokes its families there
/// too; the synchronous forms refuse before deleting anything, as that revocation must be awaited.
#[tokio::test]
async fn r_rev_7_deleting_a_client_through_the_registry_revokes_in_the_async_issuers_store() {
    use refresh_rotation::wire::{DeleteUserPoolClientRequest, UserPoolClientOperations};
    use refresh_rotation::RefreshToken;
    let f = Fixture::new(Opts::rotating(10));
    let store = Arc::new(YieldingStore::default());
    let issuer = async_issuer(&f, store.clone());
    let family_of = |t: &RefreshToken| {
        let d = f.refresh_keys().decode(t.expose_secret()).unwrap();
        RefreshTokenStore::get(&store.0, &d.family())
            .unwrap()
            .unwrap()
    };
    let t0 = signed_in(&issuer, &f).await;
    let req = DeleteUserPoolClientRequest {
        user_pool_id: Some(f.registry.user_pool_id().to_owned()),
        client_id: Some(f.client_id.clone()),
    };
    let refused = f.registry.delete_user_pool_client(&req).unwrap_err();
    assert_eq!(
        refused.exception_name(),
        "InternalErrorException",
        "{refused}"
    );
    assert!(f.registry.delete_client(&f.client_id).is_err());
    assert!(
        f.registry.get(&f.client_id).unwrap().is_some(),
        "nothing deleted"
    );
    assert!(!family_of(&t0).state.revoked);

    f.registry
        .delete_user_pool_client_async(&req)
        .await
        .unwrap();
    assert!(f.registry.get(&f.client_id).unwrap().is_none());
    assert!(family_of(&t0).state.revoked);
}

/// A store that answers the client itself with the family (as a store keeping both would, R-PER-5),
/// with the answer it is given.
struct JoiningStore {
    inner: YieldingStore,
    client: Option<Arc<refresh_rotation::store::AppClient>>,
    /// `Some`: every first read is answered from memory, and every witnessed advance refused as if the
    /// memory had proved stale, with the read it made in the same round trip if `Some(true)`.
    stale_memory: Option<bool>,
    /// A read that (wrongly) carries a witness, as if it were an answer from memory.
    witness_on_read: bool,
    /// Every first read answered from memory without the client (as a store not keeping clients).
    memory_without_client: bool,
    /// Calls of `read_with_client` and of `advance_witnessed`.
    reads: AtomicUsize,
    witnessed: AtomicUsize,
}

impl JoiningStore {
    fn new(client: Option<Arc<refresh_rotation::store::AppClient>>) -> Self {
        JoiningStore {
            inner: YieldingStore::default(),
            client,
            stale_memory: None,
            witness_on_read: false,
            memory_without_client: false,
            reads: AtomicUsize::new(0),
            witnessed: AtomicUsize::new(0),
        }
    }

    /// The family and the client as they are now, as a read answers them (`witness` aside).
    fn now(&self, id: &FamilyId, witness: Option<ReadWitness>) -> FamilyAndClient {
        FamilyAndClient {
            family: RefreshTokenStore::read(&self.inner.0, id).unwrap(),
            client: Some(self.client.clone()),
            user: None,
            witness,
        }
    }
}

impl AsyncRefreshTokenStore for JoiningStore {
    fn remembered(&self, id: &FamilyId, _client_id: &str) -> Option<FamilyAndClient> {
        if self.memory_without_client {
            return Some(FamilyAndClient {
                client: None,
                ..self.now(id, Some(ReadWitness::new(())))
            });
        }
        self.stale_memory?;
        Some(self.now(id, Some(ReadWitness::new(()))))
    }
    fn advance_witnessed<'a>(
        &'a self,
        id: &'a FamilyId,
        _expected: u32,
        _deadline: Timestamp,
        _key_id: u32,
        _witness: &'a ReadWitness,
    ) -> BoxFuture<'a, Result<WitnessedAdvance, StoreError>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            self.witnessed.fetch_add(1, Ordering::SeqCst);
            // The read carries a witness, which must be ignored: a read is never an answer from memory.
            let read = self.now(id, Some(ReadWitness::new(())));
            let state = read.family.family.as_ref().unwrap().state;
            Ok(WitnessedAdvance {
                advance: Advance::Unchanged(state),
                read: self
                    .stale_memory
                    .filter(|with_read| *with_read)
                    .map(|_| read),
            })
        })
    }
    fn create(&self, family: Family) -> BoxFuture<'_, Result<(), StoreError>> {
        self.inner.create(family)
    }
    fn read<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<FamilyRead, StoreError>> {
        self.inner.read(id)
    }
    fn read_with_client<'a>(
        &'a self,
        id: &'a FamilyId,
        _client_id: &'a str,
    ) -> BoxFuture<'a, Result<refresh_rotation::store::FamilyAndClient, StoreError>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            Ok(refresh_rotation::store::FamilyAndClient {
                family: self.inner.read(id).await?,
                client: Some(self.client.clone()),
                user: None,
                witness: self.witness_on_read.then(|| ReadWitness::new(())),
            })
        })
    }
    fn advance<'a>(
        &'a self,
        id: &'a FamilyId,
        expected: u32,
        deadline: Timestamp,
        key_id: u32,
    ) -> BoxFuture<'a, Result<Advance, StoreError>> {
        self.inner.advance(id, expected, deadline, key_id)
    }
    fn bind_device<'a>(
        &'a self,
        id: &'a FamilyId,
        key: &'a str,
    ) -> BoxFuture<'a, Result<Option<Family>, StoreError>> {
        self.inner.bind_device(id, key)
    }
    fn confirm_device<'a>(
        &'a self,
        id: &'a FamilyId,
        key: &'a str,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.inner.confirm_device(id, key)
    }
    fn revoke<'a>(&'a self, id: &'a FamilyId) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.inner.revoke(id)
    }
    fn revoke_subject<'a>(&'a self, s: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        self.inner.revoke_subject(s)
    }
    fn revoke_client<'a>(&'a self, c: &'a str) -> BoxFuture<'a, Result<usize, StoreError>> {
        self.inner.revoke_client(c)
    }
    fn purge_expired(
        &self,
        cutoff: PurgeCutoff,
        max: usize,
    ) -> BoxFuture<'_, Result<usize, StoreError>> {
        self.inner.purge_expired(cutoff, max)
    }
}

#[tokio::test]
async fn r_per_5_a_client_read_with_the_family_is_used_only_if_it_is_the_one_asked_for() {
    let f = Fixture::new(Opts::rotating(10));
    let real = f.registry.get(&f.client_id).unwrap().unwrap();
    let refresh = |client: Option<Arc<refresh_rotation::store::AppClient>>| {
        let f = &f;
        async move {
            let issuer = async_issuer(f, Arc::new(JoiningStore::new(client)));
            let t0 = signed_in(&issuer, f).await;
            issuer
                .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))
                .await
        }
    };
    // The store's answer "no such client" stands, though the registry has it: the store was used.
    assert!(matches!(
        refresh(None).await,
        Err(Error::ClientNotFound { .. })
    ));
    // The store's copy of the client, told apart from the registry's by rotation turned off: used
    // (R-ROT-6: no refresh token in the answer).
    let mut copy = real.to_parts();
    copy.config = refresh_rotation::AppClientConfig::builder("copy")
        .build()
        .unwrap();
    let copy = Arc::new(refresh_rotation::store::AppClient::from_parts(copy));
    assert!(refresh(Some(copy.clone()))
        .await
        .unwrap()
        .refresh_token
        .is_none());
    // The same copy under another id, or of another pool: not taken for the one asked for; the
    // registry's client (rotation on) answers.
    let mut other_id = copy.to_parts();
    other_id.client_id = Arc::from("0000000000otherclient00000");
    let mut other_pool = copy.to_parts();
    other_pool.user_pool_id = Arc::from("us-east-1_OtherPool");
    for foreign in [other_id, other_pool] {
        let foreign = Arc::new(refresh_rotation::store::AppClient::from_parts(foreign));
        assert!(refresh(Some(foreign))
            .await
            .unwrap()
            .refresh_token
            .is_some());
    }
}

#[tokio::test]
async fn r_per_5_a_memory_proved_stale_is_followed_by_the_read_its_witnessed_advance_made() {
    let f = Fixture::new(Opts::rotating(10));
    let client = f.registry.get(&f.client_id).unwrap();
    for with_read in [true, false] {
        let store = Arc::new(JoiningStore {
            stale_memory: Some(with_read),
            ..JoiningStore::new(client.clone())
        });
        let issuer = async_issuer(&f, store.clone());
        let t0 = signed_in(&issuer, &f).await;
        let t1 = issuer
            .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))
            .await
            .unwrap()
            .refresh_token
            .expect("rotated");
        // The answer from memory led to a witnessed advance, refused; the engine then decided on the
        // read that advance made (no read of its own) and advanced once.
        assert_eq!(
            store.witnessed.load(Ordering::SeqCst),
            1,
            "with_read {with_read}"
        );
        let reads = usize::from(!with_read);
        assert_eq!(
            store.reads.load(Ordering::SeqCst),
            reads,
            "with_read {with_read}"
        );
        let family = f
            .refresh_keys()
            .decode(t1.expose_secret())
            .unwrap()
            .family();
        let state = RefreshTokenStore::read(&store.inner.0, &family)
            .unwrap()
            .family
            .unwrap()
            .state;
        assert_eq!(state.generation, 1, "with_read {with_read}: one advance");
    }
}

/// R-PER-5: only an answer from memory that has the client asked for leads to a witnessed advance. A
/// read carries no witness whatever the store says, and a memory without the client is not used: in
/// both cases the refresh reads and advances with the plain compare-and-set.
#[tokio::test]
async fn r_per_5_only_a_memory_with_the_client_leads_to_a_witnessed_advance() {
    let f = Fixture::new(Opts::rotating(10));
    let client = f.registry.get(&f.client_id).unwrap();
    for (witness_on_read, memory_without_client) in [(true, false), (false, true)] {
        let store = Arc::new(JoiningStore {
            witness_on_read,
            memory_without_client,
            ..JoiningStore::new(client.clone())
        });
        let issuer = async_issuer(&f, store.clone());
        let t0 = signed_in(&issuer, &f).await;
        let answer = issuer
            .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))
            .await;
        assert!(
            answer.unwrap().refresh_token.is_some(),
            "witness on read {witness_on_read}, memory without client {memory_without_client}"
        );
        assert_eq!(store.witnessed.load(Ordering::SeqCst), 0);
    }
}
