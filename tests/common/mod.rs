//! A test fixture: one pool with one client, two users, a manual clock and the in-memory store.
#![allow(dead_code)]

pub mod yielding;

use std::collections::HashMap;
use std::sync::{Arc, Barrier, Mutex};

use base64::Engine as _;
use refresh_rotation::clock::{ManualClock, Timestamp};
use refresh_rotation::config::{ExplicitAuthFlow, RefreshTokenRotation, TimeUnit};
use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
use refresh_rotation::engine::{ClientId, PresentedSecret, SecretHash};
use refresh_rotation::error::StoreError;
use refresh_rotation::hook::{ClaimsOverride, PreTokenGenerationEvent};
use refresh_rotation::jwt::{Algorithm, JwtVerifier, SigningKey, TokenSigner, VerifiedClaims};
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::{
    Advance, Family, FamilyId, FamilyRead, InMemoryRefreshTokenStore, PurgeCutoff,
    RefreshTokenStore,
};
use refresh_rotation::wire::AuthenticationResult;
use refresh_rotation::{
    AppClientConfig, ClientRegistry, ClientSecret, Error, NewClientSecret, RefreshRequest,
    RefreshToken, RefreshTokenKey, RefreshTokenKeys, ReusePolicy, SignInRequest, TokenIssuer,
};

/// What a test slips in just before an `advance` of [`Intercepted`]: a concurrent request's write, a
/// key rotation, a clock moving on. It is given the store and the `advance`'s family.
pub type Interloper = Box<dyn FnOnce(&InMemoryRefreshTokenStore, &FamilyId) + Send>;

/// A store's read, as a test answers it.
pub type ReadHook = Box<
    dyn Fn(&InMemoryRefreshTokenStore, &FamilyId) -> Result<FamilyRead, StoreError> + Send + Sync,
>;

/// An in-memory store with a test's hands on it, every other call passed through: reads go through
/// `read` (a store that keeps the time, one that answers for another family), and something armed with
/// [`arm`](Self::arm) runs just before the next `advance`, whose compare-and-set then runs and may lose.
pub struct Intercepted {
    pub inner: Arc<InMemoryRefreshTokenStore>,
    read: ReadHook,
    before_advance: Mutex<Option<Interloper>>,
}

impl Intercepted {
    /// Over `inner`, with reads answered by `read`.
    pub fn on_read(
        inner: Arc<InMemoryRefreshTokenStore>,
        read: impl Fn(&InMemoryRefreshTokenStore, &FamilyId) -> Result<FamilyRead, StoreError>
            + Send
            + Sync
            + 'static,
    ) -> Self {
        Intercepted {
            inner,
            read: Box::new(read),
            before_advance: Mutex::new(None),
        }
    }

    /// Over `inner`, reads passed through.
    pub fn over(inner: Arc<InMemoryRefreshTokenStore>) -> Self {
        Self::on_read(inner, |s, id| s.read(id))
    }

    /// Runs `before` just before the next `advance`.
    pub fn arm(&self, before: impl FnOnce(&InMemoryRefreshTokenStore, &FamilyId) + Send + 'static) {
        *self.before_advance.lock().unwrap() = Some(Box::new(before));
    }
}

impl RefreshTokenStore for Intercepted {
    fn create(&self, family: Family) -> Result<(), StoreError> {
        self.inner.create(family)
    }
    fn read(&self, id: &FamilyId) -> Result<FamilyRead, StoreError> {
        (self.read)(&self.inner, id)
    }
    fn advance(
        &self,
        id: &FamilyId,
        expected: u32,
        deadline: Timestamp,
        key_id: u32,
    ) -> Result<Advance, StoreError> {
        let before = self.before_advance.lock().unwrap().take();
        if let Some(before) = before {
            before(&self.inner, id);
        }
        self.inner.advance(id, expected, deadline, key_id)
    }
    fn bind_device(&self, id: &FamilyId, key: &str) -> Result<Option<Family>, StoreError> {
        self.inner.bind_device(id, key)
    }
    fn confirm_device(&self, id: &FamilyId, key: &str) -> Result<bool, StoreError> {
        self.inner.confirm_device(id, key)
    }
    fn revoke(&self, id: &FamilyId) -> Result<bool, StoreError> {
        self.inner.revoke(id)
    }
    fn revoke_subject(&self, subject: &str) -> Result<usize, StoreError> {
        self.inner.revoke_subject(subject)
    }
    fn revoke_client(&self, client_id: &str) -> Result<usize, StoreError> {
        self.inner.revoke_client(client_id)
    }
    fn purge_expired(&self, cutoff: PurgeCutoff, max: usize) -> Result<usize, StoreError> {
        self.inner.purge_expired(cutoff, max)
    }
}

pub const START: i64 = 1_700_000_000;
const REFRESH_KEY: &[u8] = b"0123456789abcdef0123456789abcdef-test-only";
const OTHER_KEY: &[u8] = b"fedcba9876543210fedcba9876543210-test-only";

/// How the fixture's client and issuer are configured.
#[derive(Debug, Clone)]
pub struct Opts {
    rotation: Option<u8>,
    secret: bool,
    refresh_minutes: Option<u32>,
    device_tracking: bool,
    hook: bool,
    revocation: bool,
    refresh_flow: bool,
    policy: ReusePolicy,
}

impl Opts {
    pub fn rotating(grace: u8) -> Self {
        Opts {
            rotation: Some(grace),
            secret: false,
            refresh_minutes: None,
            device_tracking: false,
            hook: false,
            revocation: true,
            refresh_flow: true,
            policy: ReusePolicy::Reject,
        }
    }
    pub fn non_rotating() -> Self {
        Opts {
            rotation: None,
            ..Opts::rotating(0)
        }
    }
    pub fn with_secret(mut self) -> Self {
        self.secret = true;
        self
    }
    pub fn refresh_validity_minutes(mut self, m: u32) -> Self {
        self.refresh_minutes = Some(m);
        self
    }
    pub fn device_tracking(mut self) -> Self {
        self.device_tracking = true;
        self
    }
    pub fn with_hook(mut self) -> Self {
        self.hook = true;
        self
    }
    pub fn revocation_disabled(mut self) -> Self {
        self.revocation = false;
        self
    }
    pub fn without_refresh_flow(mut self) -> Self {
        self.refresh_flow = false;
        self
    }
    pub fn reuse_policy(mut self, p: ReusePolicy) -> Self {
        self.policy = p;
        self
    }

    fn rotation_setting(&self) -> RefreshTokenRotation {
        match self.rotation {
            Some(g) => RefreshTokenRotation::enabled(g).expect("grace <= 60"),
            None => RefreshTokenRotation::DISABLED,
        }
    }

    fn builder(&self) -> refresh_rotation::config::AppClientConfigBuilder {
        let mut b = AppClientConfig::builder("test-app")
            .refresh_token_rotation(self.rotation_setting())
            .enable_token_revocation(self.revocation);
        if let Some(m) = self.refresh_minutes {
            b = b.refresh_token_validity(m, TimeUnit::Minutes);
        }
        if !self.refresh_flow {
            b = b.explicit_auth_flows([ExplicitAuthFlow::AllowUserSrpAuth]);
        }
        b
    }
}

/// The pool under test.
pub struct Fixture {
    pub issuer: TokenIssuer,
    pub clock: Arc<ManualClock>,
    pub directory: Arc<InMemoryUserDirectory>,
    pub store: Arc<InMemoryRefreshTokenStore>,
    pub registry: Arc<ClientRegistry>,
    pub client_id: String,
    pub secret: Option<String>,
    pub subject: String,
    keys: RefreshTokenKeys,
    signer: TokenSigner,
    opts: Opts,
}

fn hook(event: &PreTokenGenerationEvent<'_>) -> Result<ClaimsOverride, String> {
    if event.client_metadata.contains_key("refuse") {
        return Err("refused by hook".into());
    }
    let mut o = ClaimsOverride::default();
    if let Some(t) = event.client_metadata.get("tenant") {
        o.claims_to_add_or_override
            .insert("tenant".into(), serde_json::json!(t));
    }
    // `nest` = N: a claim of N nested arrays, for the R-JWT-6 depth bound.
    if let Some(n) = event.client_metadata.get("nest") {
        let levels: usize = n.parse().unwrap_or(0);
        // Built by moving each level into the next (`json!([v])` would serialise `v`, recursively).
        let nested = (0..levels).fold(serde_json::json!(1), |v, _| {
            serde_json::Value::Array(vec![v])
        });
        o.claims_to_add_or_override.insert("nested".into(), nested);
    }
    o.claims_to_add_or_override.insert(
        "trigger".into(),
        serde_json::json!(event.trigger_source.as_str()),
    );
    o.claims_to_add_or_override
        .insert("iss".into(), serde_json::json!("https://attacker.example"));
    o.claims_to_add_or_override
        .insert("nbf".into(), serde_json::json!(4_000_000_000i64));
    o.claims_to_add_or_override
        .insert("cognito:preferred_role".into(), serde_json::json!("admin"));
    o.claims_to_suppress.push("phone_number".into());
    // `add_suppressed`: the suppressed claim added too, which leaves it suppressed (R-REF-11).
    if event.client_metadata.contains_key("add_suppressed") {
        o.claims_to_add_or_override
            .insert("phone_number".into(), serde_json::json!("+15550100"));
    }
    o.groups_to_override = Some(vec!["overridden".into()]);
    Ok(o)
}

impl Fixture {
    pub fn new(opts: Opts) -> Self {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(START)));
        let rng = Arc::new(SystemRandom::new());
        let registry = Arc::new(ClientRegistry::new(
            "us-east-1_TestPool",
            clock.clone(),
            rng.clone(),
        ));
        let secret = if opts.secret {
            NewClientSecret::Generate
        } else {
            NewClientSecret::None
        };
        let client = registry
            .create_client(opts.builder(), secret)
            .expect("valid test client");
        let directory = Arc::new(InMemoryUserDirectory::new());
        let subject = "5b0e7c4e-1f7a-4d0e-9a51-0c3e6a8f0001".to_owned();
        directory
            .put(
                UserRecord::new(subject.clone(), "alice")
                    .with_attribute("email", "alice@example.com")
                    .with_attribute("email_verified", "true")
                    .with_attribute("phone_number", "+15550100")
                    .with_group("users"),
            )
            .unwrap();
        directory
            .put(UserRecord::new(
                "5b0e7c4e-1f7a-4d0e-9a51-0c3e6a8f0002",
                "bob",
            ))
            .unwrap();
        let store = Arc::new(InMemoryRefreshTokenStore::new());
        let key = SigningKey::generate(Algorithm::EdDSA, "test-key-1").unwrap();
        let signer = TokenSigner::new(Arc::new(key));
        let keys = RefreshTokenKeys::new(RefreshTokenKey::new(1, REFRESH_KEY).unwrap());
        let mut f = Fixture {
            issuer: Self::build_issuer(
                &opts,
                opts.device_tracking,
                signer.clone(),
                &registry,
                &store,
                &directory,
                &clock,
            ),
            clock,
            directory,
            store,
            registry,
            client_id: client.client_id().to_string(),
            secret: client.secret().map(|s| s.expose_secret().to_owned()),
            subject,
            keys,
            signer,
            opts,
        };
        f.keys = RefreshTokenKeys::new(RefreshTokenKey::new(1, REFRESH_KEY).unwrap());
        f
    }

    fn build_issuer(
        opts: &Opts,
        device_tracking: bool,
        signer: TokenSigner,
        registry: &Arc<ClientRegistry>,
        store: &Arc<InMemoryRefreshTokenStore>,
        directory: &Arc<InMemoryUserDirectory>,
        clock: &Arc<ManualClock>,
    ) -> TokenIssuer {
        let keys = RefreshTokenKeys::new(RefreshTokenKey::new(1, REFRESH_KEY).unwrap());
        Self::build_issuer_with_keys(
            opts,
            device_tracking,
            signer,
            keys,
            registry,
            store,
            directory,
            clock,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build_issuer_with_keys(
        opts: &Opts,
        device_tracking: bool,
        signer: TokenSigner,
        keys: RefreshTokenKeys,
        registry: &Arc<ClientRegistry>,
        store: &Arc<InMemoryRefreshTokenStore>,
        directory: &Arc<InMemoryUserDirectory>,
        clock: &Arc<ManualClock>,
    ) -> TokenIssuer {
        let mut b = TokenIssuer::builder(
            "us-east-1",
            signer,
            keys,
            registry.clone(),
            store.clone(),
            directory.clone(),
        )
        .clock(clock.clone())
        .device_tracking(device_tracking)
        .reuse_policy(opts.policy);
        if opts.hook {
            b = b.pre_token_generation(Arc::new(hook));
        }
        b.build()
    }

    /// The same pool served by an issuer whose refresh-token key ring has been rotated to a new key
    /// (id 2), the fixture's key kept for verification (R-FAM-6).
    pub fn issuer_after_refresh_key_rotation(&self) -> TokenIssuer {
        let mut keys = RefreshTokenKeys::new(RefreshTokenKey::new(1, REFRESH_KEY).unwrap());
        keys.rotate(RefreshTokenKey::new(2, OTHER_KEY).unwrap())
            .unwrap();
        Self::build_issuer_with_keys(
            &self.opts,
            self.opts.device_tracking,
            self.signer.clone(),
            keys,
            &self.registry,
            &self.store,
            &self.directory,
            &self.clock,
        )
    }

    /// An issuer of the same pool (registry, directory, signer, refresh key, options) over another
    /// family store and clock, for tests that interpose on the store or move a host's clock.
    pub fn issuer_over(
        &self,
        store: Arc<dyn refresh_rotation::store::RefreshTokenStore>,
        clock: Arc<dyn refresh_rotation::clock::Clock>,
    ) -> TokenIssuer {
        TokenIssuer::builder(
            "us-east-1",
            self.signer.clone(),
            RefreshTokenKeys::new(RefreshTokenKey::new(1, REFRESH_KEY).unwrap()),
            self.registry.clone(),
            store,
            self.directory.clone(),
        )
        .clock(clock)
        .reuse_policy(self.opts.policy)
        .device_tracking(self.opts.device_tracking)
        .build()
    }

    /// The pool's refresh-token key ring, for another driver over the same pool.
    #[allow(dead_code)]
    pub fn refresh_keys(&self) -> RefreshTokenKeys {
        self.keys.clone()
    }

    /// The same pool served by an issuer that does not track devices.
    pub fn issuer_without_device_tracking(&self) -> TokenIssuer {
        Self::build_issuer(
            &self.opts,
            false,
            self.signer.clone(),
            &self.registry,
            &self.store,
            &self.directory,
            &self.clock,
        )
    }

    /// The fixture's client id, parsed as a host parses the one a request names.
    pub fn id(&self) -> ClientId<'_> {
        ClientId::parse(&self.client_id).unwrap()
    }

    /// The fixture client's secret, if it has one, as a request presents it.
    pub fn presented(&self) -> Option<PresentedSecret<'_>> {
        self.secret
            .as_deref()
            .map(|s| PresentedSecret::parse(s).unwrap())
    }

    pub fn clock_now(&self) -> i64 {
        refresh_rotation::clock::Clock::now(&*self.clock).unix_seconds()
    }

    pub fn try_sign_in(
        &self,
        secret: Option<&str>,
        hash: Option<&str>,
    ) -> Result<AuthenticationResult, Error> {
        let mut req = SignInRequest::new(self.id(), "alice");
        req.client_secret = secret.map(PresentedSecret::parse).transpose()?;
        req.secret_hash = hash.map(SecretHash::parse).transpose()?;
        self.issuer.sign_in(&req).map(Into::into)
    }

    pub fn sign_in_full_as(&self, username: &str) -> AuthenticationResult {
        let mut req = SignInRequest::new(self.id(), username);
        req.client_secret = self.presented();
        self.issuer.sign_in(&req).expect("sign-in").into()
    }

    pub fn sign_in_full(&self) -> AuthenticationResult {
        self.sign_in_full_as("alice")
    }

    pub fn sign_in_as(&self, username: &str) -> String {
        self.sign_in_full_as(username).refresh_token.unwrap()
    }

    pub fn sign_in(&self) -> String {
        self.sign_in_as("alice")
    }

    /// A family with no device, in a pool that tracks devices: signed in through an issuer of the same
    /// pool that does not track them.
    pub fn sign_in_without_device(&self) -> String {
        let other = Self::build_issuer(
            &self.opts,
            false,
            self.signer.clone(),
            &self.registry,
            &self.store,
            &self.directory,
            &self.clock,
        );
        let mut req = SignInRequest::new(self.id(), "alice");
        req.client_secret = self.presented();
        other
            .sign_in(&req)
            .unwrap()
            .refresh_token
            .unwrap()
            .into_secret()
    }

    pub fn secret_hash(&self) -> String {
        ClientSecret::new(self.secret.clone().unwrap()).secret_hash("alice", &self.client_id)
    }

    pub fn refresh_with_metadata(
        &self,
        token: &str,
        meta: &HashMap<String, String>,
    ) -> Result<AuthenticationResult, Error> {
        let t = RefreshToken::new(token);
        let mut req = RefreshRequest::new(&t, self.id());
        req.client_secret = self.presented();
        req.client_metadata = Some(meta);
        self.issuer
            .get_tokens_from_refresh_token(&req)
            .map(Into::into)
    }

    /// A GetTokensFromRefreshToken through the fixture's issuer, answered as a Cognito client sees it.
    pub fn get_tokens(&self, req: &RefreshRequest<'_>) -> Result<AuthenticationResult, Error> {
        self.issuer
            .get_tokens_from_refresh_token(req)
            .map(Into::into)
    }

    pub fn refresh(&self, token: &str) -> Result<AuthenticationResult, Error> {
        let t = RefreshToken::new(token);
        let mut req = RefreshRequest::new(&t, self.id());
        req.client_secret = self.presented();
        self.issuer
            .get_tokens_from_refresh_token(&req)
            .map(Into::into)
    }

    /// `n` threads present `token` at the same moment.
    pub fn refresh_concurrently(
        &self,
        token: &str,
        n: usize,
    ) -> Vec<Result<AuthenticationResult, Error>> {
        let barrier = Barrier::new(n);
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        self.refresh(token)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    }

    pub fn legacy_refresh(&self, token: &str) -> Result<AuthenticationResult, Error> {
        let hash = self.secret.as_ref().map(|_| self.secret_hash());
        let token = RefreshToken::new(token);
        let mut req = refresh_rotation::LegacyRefreshRequest::new(&token, self.id());
        req.secret_hash = hash.as_deref().map(|h| SecretHash::parse(h).unwrap());
        self.issuer.legacy_refresh(&req).map(Into::into)
    }

    pub fn revoke(&self, token: &str) -> Result<(), Error> {
        self.issuer
            .revoke_token(&RefreshToken::new(token), self.id(), self.presented())
    }

    /// The family's current generation, read from the store.
    pub fn generation_of(&self, token: &str) -> u32 {
        let d = self.keys.decode(token).unwrap();
        use refresh_rotation::store::RefreshTokenStore;
        self.store
            .get(&d.family())
            .unwrap()
            .unwrap()
            .state
            .generation
    }

    pub fn token_of_generation(&self, token: &str, generation: u32) -> String {
        let d = self.keys.decode(token).unwrap();
        self.keys
            .encode(&d.family(), generation)
            .expose_secret()
            .to_owned()
    }

    pub fn token_of_unknown_family(&self) -> String {
        self.keys
            .encode(&FamilyId::from_bytes([7; 16]), 0)
            .expose_secret()
            .to_owned()
    }

    /// The same family and generation, MACed under another secret with the same key id.
    pub fn token_with_wrong_mac(&self, token: &str) -> String {
        let d = self.keys.decode(token).unwrap();
        RefreshTokenKeys::new(RefreshTokenKey::new(1, OTHER_KEY).unwrap())
            .encode(&d.family(), d.generation())
            .expose_secret()
            .to_owned()
    }

    pub fn set_rotation(&self, grace: Option<u8>) {
        let refresh_flow = self.opts.refresh_flow;
        self.registry
            .update_client_with(&self.client_id, |b| {
                let rotation = match grace {
                    Some(g) => RefreshTokenRotation::enabled(g).unwrap(),
                    None => RefreshTokenRotation::DISABLED,
                };
                let b = b.refresh_token_rotation(rotation);
                if refresh_flow {
                    b.default_explicit_auth_flows()
                } else {
                    b
                }
            })
            .expect("valid rotation change");
    }

    pub fn set_refresh_validity_days(&self, days: u32) {
        self.registry
            .update_client_with(&self.client_id, |b| {
                b.refresh_token_validity(days, TimeUnit::Days)
            })
            .expect("valid validity change");
    }

    /// Another client in the same pool; returns its id.
    pub fn create_client(&self, opts: Opts) -> String {
        self.registry
            .create_client(opts.builder(), NewClientSecret::None)
            .unwrap()
            .client_id()
            .to_string()
    }

    pub fn delete_client(&self) {
        self.registry.delete_client(&self.client_id).unwrap();
    }

    pub fn verifier(&self) -> JwtVerifier {
        self.issuer
            .signer()
            .verifier(self.issuer.issuer_url())
            .unwrap()
    }

    pub fn verify_access(&self, v: &JwtVerifier, token: &str) -> Result<VerifiedClaims, Error> {
        v.verify_access_token(
            token,
            &self.client_id,
            Timestamp::from_unix_seconds(self.clock_now()),
            &*self.store,
        )
    }

    pub fn verify_id(&self, v: &JwtVerifier, token: &str) -> Result<VerifiedClaims, Error> {
        v.verify_id_token(
            token,
            &self.client_id,
            Timestamp::from_unix_seconds(self.clock_now()),
            &*self.store,
        )
    }
}

/// The payload of a JWT, unverified (the JWT tests verify signatures; here only claims matter).
pub fn claims_of(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).expect("a compact JWS");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
