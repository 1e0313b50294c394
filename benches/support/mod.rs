//! The benchmark workloads, shared by the criterion benches (`benches/issuance.rs`) and the report
//! command (`examples/bench_report.rs`, which includes this file by path), so both measure exactly the
//! same thing.
//!
//! A [`Pool`] is one user pool: a confidential app client with rotation (grace 60 s) and one without, a
//! directory of users with Cognito-like attributes, a manual clock that never moves, and an in-memory store
//! pre-populated with `families` families through [`RefreshTokenStore::create`] (no signatures are made to
//! fill it). Even-numbered families belong to the rotating client, odd ones to the other. Issuers for any
//! algorithm can be built over the same pool, so the million-family store is filled once.
//!
//! Every refresh presents a different family's current token, cycling through a working set spread over
//! the whole store, so the store's hash lookups are those of a store of that size, not of one hot entry.
#![allow(dead_code)] // each includer uses a different subset

use std::sync::Arc;

use base64::Engine as _;
use refresh_rotation::clock::{ManualClock, Timestamp};
use refresh_rotation::config::RefreshTokenRotation;
use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
use refresh_rotation::engine::{ClientId, PresentedSecret};
use refresh_rotation::jwt::{AccessTokenClaims, Algorithm, IdTokenClaims, SigningKey, TokenSigner};
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::{
    Family, FamilyId, FamilyInfo, FamilyState, InMemoryRefreshTokenStore, RefreshTokenStore,
};
use refresh_rotation::{
    AppClientConfig, ClientRegistry, NewClientSecret, RefreshRequest, RefreshToken,
    RefreshTokenKey, RefreshTokenKeys, SignInRequest, TokenIssuer,
};

/// The benchmarks' fixed "now".
pub const NOW: i64 = 1_700_000_000;
/// Grace window of the rotating client (the maximum Cognito allows), so the retry bench stays inside it.
pub const GRACE_SECS: u8 = 60;
/// Distinct users behind the families.
const USERS: usize = 1_000;
/// The most families a refresh workload cycles through (tokens are held for these only).
pub const WORKING_SET: usize = 65_536;
const REFRESH_KEY: &[u8] = b"bench-only-refresh-token-key-0123456789abcdef";

const RSA_PK8: &str = include_str!("../../tests/fixtures/test-only-rsa-2048.pk8.pem");
const RSA_PKCS1: &str = include_str!("../../tests/fixtures/test-only-rsa-2048.pkcs1.pem");
const EC_PK8: &str = include_str!("../../tests/fixtures/test-only-ec-p256.pk8.pem");
const ED_PK8: &str = include_str!("../../tests/fixtures/test-only-ed25519.pk8.pem");

/// The three algorithms, in report order.
pub const ALGS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// `rs256`, `es256`, `eddsa`: the suffix of the RESULT names.
pub fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => "rs256",
        Algorithm::ES256 => "es256",
        Algorithm::EdDSA => "eddsa",
    }
}

fn pem(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::RS256 => RSA_PK8,
        Algorithm::ES256 => EC_PK8,
        Algorithm::EdDSA => ED_PK8,
    }
}

/// The DER body of the first PEM block of `text`.
fn pem_der(text: &str) -> Vec<u8> {
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .expect("fixture PEM is base64")
}

/// The test-only fixture key of `alg`, parsed by ring once.
pub fn signing_key(alg: Algorithm) -> Arc<SigningKey> {
    Arc::new(SigningKey::from_pkcs8_pem(alg, "bench-key-1", pem(alg)).expect("fixture key"))
}

/// The same key for `jsonwebtoken` (rust_crypto backend), with the header it signs under.
pub fn naive_key(alg: Algorithm) -> (jsonwebtoken::Header, jsonwebtoken::EncodingKey) {
    use jsonwebtoken::{Algorithm as J, EncodingKey};
    let (j, key) = match alg {
        Algorithm::RS256 => (J::RS256, EncodingKey::from_rsa_der(&pem_der(RSA_PKCS1))),
        Algorithm::ES256 => (J::ES256, EncodingKey::from_ec_der(&pem_der(EC_PK8))),
        Algorithm::EdDSA => (J::EdDSA, EncodingKey::from_ed_der(&pem_der(ED_PK8))),
    };
    let mut header = jsonwebtoken::Header::new(j);
    header.kid = Some("bench-key-1".into());
    (header, key)
}

/// SplitMix64: cheap, well-mixed ids without a syscall per family.
pub struct SplitMix(pub u64);

impl SplitMix {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn bytes16(&mut self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        out[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        out
    }
}

fn subject_of(user: usize) -> String {
    format!("5b0e7c4e-1f7a-4d0e-9a51-{user:012x}")
}

fn username_of(user: usize) -> String {
    format!("user{user:08}")
}

/// One user pool with its store filled; see the module docs.
pub struct Pool {
    pub registry: Arc<ClientRegistry>,
    pub directory: Arc<InMemoryUserDirectory>,
    pub store: Arc<InMemoryRefreshTokenStore>,
    pub clock: Arc<ManualClock>,
    pub keys: RefreshTokenKeys,
    pub rotating: Arc<str>,
    pub non_rotating: Arc<str>,
    pub secret_rotating: String,
    pub secret_non_rotating: String,
    /// Families of the rotating client (even indices), at most [`WORKING_SET`].
    pub rotating_ids: Vec<FamilyId>,
    /// Families of the non-rotating client (odd indices), at most [`WORKING_SET`].
    pub non_rotating_ids: Vec<FamilyId>,
    /// A rotating family at generation 1 whose grace window never closes under the fixed clock.
    pub in_grace: FamilyId,
}

/// A family of `client` for user `user`, expiring at `expires_at`.
pub fn family(
    rng: &mut SplitMix,
    client: &Arc<str>,
    scopes: &Arc<str>,
    user: usize,
    expires_at: Timestamp,
) -> Family {
    Family {
        id: FamilyId::from_bytes(rng.bytes16()),
        info: Arc::new(FamilyInfo {
            client_id: Arc::clone(client),
            subject: subject_of(user).into_boxed_str(),
            username: username_of(user).into_boxed_str(),
            device_key: None,
            scopes: Arc::clone(scopes),
            auth_time: Timestamp::from_unix_seconds(NOW - 600),
            event_id: rng.bytes16(),
            expires_at,
        }),
        state: FamilyState::new(1),
    }
}

impl Pool {
    /// A pool whose store holds `families` families (plus the one in-grace family).
    pub fn new(families: usize) -> Pool {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(NOW)));
        let rng = Arc::new(SystemRandom::new());
        let registry = Arc::new(ClientRegistry::new(
            "us-east-1_BenchPool",
            clock.clone(),
            rng,
        ));
        let make = |rotation| {
            registry
                .create_client(
                    AppClientConfig::builder("bench-app").refresh_token_rotation(rotation),
                    NewClientSecret::Generate,
                )
                .expect("valid bench client")
        };
        let rot = make(RefreshTokenRotation::enabled(GRACE_SECS).expect("grace <= 60"));
        let non = make(RefreshTokenRotation::DISABLED);
        let directory = Arc::new(InMemoryUserDirectory::new());
        for u in 0..USERS {
            directory
                .put(
                    UserRecord::new(subject_of(u), username_of(u))
                        .with_attribute("email", format!("{}@example.com", username_of(u)))
                        .with_attribute("email_verified", "true")
                        .with_attribute("name", "Bench User")
                        .with_group("users"),
                )
                .expect("distinct users");
        }
        let store = Arc::new(InMemoryRefreshTokenStore::with_capacity(families + 1));
        let scopes: Arc<str> = Arc::from(refresh_rotation::SignInRequest::API_SCOPE);
        let expires_at = Timestamp::from_unix_seconds(NOW + 30 * 86_400);
        let mut ids = SplitMix(0x5eed ^ families as u64);
        let (mut rotating_ids, mut non_rotating_ids) = (Vec::new(), Vec::new());
        for i in 0..families {
            let client = if i % 2 == 0 {
                rot.client_id()
            } else {
                non.client_id()
            };
            let f = family(&mut ids, client, &scopes, i % USERS, expires_at);
            let list = if i % 2 == 0 {
                &mut rotating_ids
            } else {
                &mut non_rotating_ids
            };
            if list.len() < WORKING_SET {
                list.push(f.id);
            }
            store.create(f).expect("fresh id");
        }
        let mut grace = family(&mut ids, rot.client_id(), &scopes, 0, expires_at);
        grace.state = FamilyState {
            generation: 1,
            grace_deadline: Timestamp::from_unix_seconds(NOW + i64::from(GRACE_SECS)),
            ..FamilyState::new(1)
        };
        let in_grace = grace.id;
        store.create(grace).expect("fresh id");
        let secret = |c: &refresh_rotation::AppClient| {
            c.secret()
                .expect("generated secret")
                .expose_secret()
                .to_owned()
        };
        Pool {
            secret_rotating: secret(&rot),
            secret_non_rotating: secret(&non),
            rotating: Arc::clone(rot.client_id()),
            non_rotating: Arc::clone(non.client_id()),
            registry,
            directory,
            store,
            clock,
            keys: RefreshTokenKeys::new(RefreshTokenKey::new(1, REFRESH_KEY).expect("long key")),
            rotating_ids,
            non_rotating_ids,
            in_grace,
        }
    }

    /// An issuer over this pool signing with `key` (ID and access tokens with the same key).
    pub fn issuer(&self, key: &Arc<SigningKey>) -> TokenIssuer {
        TokenIssuer::builder(
            "us-east-1",
            TokenSigner::new(Arc::clone(key)),
            self.keys.clone(),
            self.registry.clone(),
            self.store.clone(),
            self.directory.clone(),
        )
        .clock(self.clock.clone())
        .build()
    }

    /// The current tokens of the rotating families `from..to` of the working set (generation 0 until a
    /// rotating workload has advanced them; pass the tokens back in to keep going).
    pub fn rotating_tokens(&self, from: usize, to: usize) -> Vec<RefreshToken> {
        self.rotating_ids[from.min(self.rotating_ids.len())..to.min(self.rotating_ids.len())]
            .iter()
            .map(|id| {
                let generation = self
                    .store
                    .get(id)
                    .expect("in-memory store")
                    .expect("family exists")
                    .state
                    .generation;
                self.keys.encode(id, generation)
            })
            .collect()
    }

    /// The (unchanging) tokens of the non-rotating working set.
    pub fn non_rotating_tokens(&self) -> Vec<RefreshToken> {
        self.non_rotating_ids
            .iter()
            .map(|id| self.keys.encode(id, 0))
            .collect()
    }

    /// The previous token of the in-grace family: presenting it is the R-ROT-2 retry.
    pub fn grace_token(&self) -> RefreshToken {
        self.keys.encode(&self.in_grace, 0)
    }
}

/// Cycles through a set of rotating families, presenting each one's current token and keeping the
/// successor.
pub struct Rotating {
    tokens: Vec<RefreshToken>,
    next: usize,
}

impl Rotating {
    pub fn new(tokens: Vec<RefreshToken>) -> Self {
        assert!(!tokens.is_empty());
        Rotating { tokens, next: 0 }
    }

    /// One GetTokensFromRefreshToken with rotation.
    pub fn refresh(&mut self, issuer: &TokenIssuer, pool: &Pool) {
        let i = self.next;
        self.next = (i + 1) % self.tokens.len();
        let mut req =
            RefreshRequest::new(&self.tokens[i], ClientId::parse(&pool.rotating).unwrap());
        req.client_secret = Some(PresentedSecret::parse(&pool.secret_rotating).unwrap());
        let out = issuer
            .get_tokens_from_refresh_token(&req)
            .expect("rotating refresh");
        self.tokens[i] = out.refresh_token.expect("rotated");
    }
}

/// Cycles through the non-rotating families.
pub struct NonRotating {
    tokens: Vec<RefreshToken>,
    next: usize,
}

impl NonRotating {
    pub fn new(pool: &Pool) -> Self {
        NonRotating {
            tokens: pool.non_rotating_tokens(),
            next: 0,
        }
    }

    pub fn refresh(&mut self, issuer: &TokenIssuer, pool: &Pool) {
        let i = self.next;
        self.next = (i + 1) % self.tokens.len();
        let mut req = RefreshRequest::new(
            &self.tokens[i],
            ClientId::parse(&pool.non_rotating).unwrap(),
        );
        req.client_secret = Some(PresentedSecret::parse(&pool.secret_non_rotating).unwrap());
        let out = issuer
            .get_tokens_from_refresh_token(&req)
            .expect("non-rotating refresh");
        debug_assert!(out.refresh_token.is_none());
    }
}

/// The R-ROT-2 retry: the previous token of a family inside its grace window, again and again.
pub fn retry_in_grace(issuer: &TokenIssuer, pool: &Pool, token: &RefreshToken) {
    let mut req = RefreshRequest::new(token, ClientId::parse(&pool.rotating).unwrap());
    req.client_secret = Some(PresentedSecret::parse(&pool.secret_rotating).unwrap());
    let out = issuer
        .get_tokens_from_refresh_token(&req)
        .expect("retry in grace");
    debug_assert!(out.refresh_token.is_some());
}

/// A sign-in of one of the pool's users (creates a family each time).
pub fn sign_in(issuer: &TokenIssuer, pool: &Pool, user: usize) {
    let username = username_of(user % USERS);
    let mut req = SignInRequest::new(ClientId::parse(&pool.rotating).unwrap(), &username);
    req.client_secret = Some(PresentedSecret::parse(&pool.secret_rotating).unwrap());
    issuer.sign_in(&req).expect("sign-in");
}

/// The store's compare-and-set alone, cycling through the rotating working set.
pub struct Advancer {
    ids: Vec<(FamilyId, u32)>,
    next: usize,
}

impl Advancer {
    pub fn new(pool: &Pool) -> Self {
        let ids = pool
            .rotating_ids
            .iter()
            .map(|id| {
                let g = pool.store.get(id).expect("store").expect("family");
                (*id, g.state.generation)
            })
            .collect();
        Advancer { ids, next: 0 }
    }

    pub fn advance(&mut self, pool: &Pool) {
        let i = self.next;
        self.next = (i + 1) % self.ids.len();
        let (id, generation) = &mut self.ids[i];
        let deadline = Timestamp::from_unix_seconds(NOW + i64::from(GRACE_SECS));
        match pool.store.advance(id, *generation, deadline, 1) {
            Ok(refresh_rotation::store::Advance::Advanced(s)) => *generation = s.generation,
            other => panic!("advance failed: {other:?}"),
        }
    }
}

/// The signing inputs (`header.payload`) of a representative access and ID token of `alg`, as the issuer
/// writes them, and the claims that produced them (for the naive baseline).
pub struct Representative {
    pub access_input: Vec<u8>,
    pub id_input: Vec<u8>,
    pub claims: OwnedClaims,
}

/// Owned copies of a representative claim set, lent out as the crate's claim structs.
pub struct OwnedClaims {
    sub: String,
    iss: String,
    client_id: String,
    origin_jti: String,
    event_id: String,
    jti: String,
    username: String,
    groups: Vec<String>,
    attributes: std::collections::BTreeMap<String, String>,
}

impl OwnedClaims {
    pub fn access(&self) -> AccessTokenClaims<'_> {
        AccessTokenClaims {
            sub: &self.sub,
            iss: &self.iss,
            client_id: &self.client_id,
            origin_jti: &self.origin_jti,
            event_id: &self.event_id,
            scope: refresh_rotation::SignInRequest::API_SCOPE,
            auth_time: NOW - 600,
            exp: NOW + 3600,
            iat: NOW,
            jti: &self.jti,
            username: &self.username,
            groups: &self.groups,
            device_key: None,
            extra: None,
        }
    }

    pub fn id(&self) -> IdTokenClaims<'_> {
        IdTokenClaims {
            sub: &self.sub,
            iss: &self.iss,
            aud: &self.client_id,
            username: &self.username,
            origin_jti: &self.origin_jti,
            event_id: &self.event_id,
            auth_time: NOW - 600,
            exp: NOW + 3600,
            iat: NOW,
            jti: &self.jti,
            groups: &self.groups,
            attributes: &self.attributes,
            extra: None,
        }
    }
}

impl Representative {
    /// Refreshes one non-rotating family of `pool` through `issuer` and keeps what it signed.
    pub fn new(issuer: &TokenIssuer, pool: &Pool) -> Self {
        let token = pool.keys.encode(&pool.non_rotating_ids[0], 0);
        let mut req = RefreshRequest::new(&token, ClientId::parse(&pool.non_rotating).unwrap());
        req.client_secret = Some(PresentedSecret::parse(&pool.secret_non_rotating).unwrap());
        let out = issuer
            .get_tokens_from_refresh_token(&req)
            .expect("representative refresh");
        let input = |jwt: &str| {
            jwt.rsplit_once('.')
                .expect("compact JWS")
                .0
                .as_bytes()
                .to_vec()
        };
        let payload = |jwt: &str| -> serde_json::Value {
            let p = jwt.split('.').nth(1).expect("compact JWS");
            let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .expect("base64url");
            serde_json::from_slice(&bytes).expect("JSON")
        };
        let (a, i) = (payload(&out.access_token), payload(&out.id_token));
        let s = |v: &serde_json::Value, k: &str| v[k].as_str().expect("string claim").to_owned();
        let mut attributes = std::collections::BTreeMap::new();
        for k in ["email", "name"] {
            attributes.insert(k.to_owned(), s(&i, k));
        }
        attributes.insert("email_verified".into(), "true".into());
        Representative {
            access_input: input(&out.access_token),
            id_input: input(&out.id_token),
            claims: OwnedClaims {
                sub: s(&a, "sub"),
                iss: s(&a, "iss"),
                client_id: s(&a, "client_id"),
                origin_jti: s(&a, "origin_jti"),
                event_id: s(&a, "event_id"),
                jti: s(&a, "jti"),
                username: s(&a, "username"),
                groups: vec!["users".into()],
                attributes,
            },
        }
    }

    /// The bound: the two bare ring signatures, key pre-parsed.
    pub fn bound(&self, key: &SigningKey) {
        let a = key.sign_raw(&self.access_input).expect("sign");
        let b = key.sign_raw(&self.id_input).expect("sign");
        std::hint::black_box((a, b));
    }

    /// The naive baseline: the same two tokens through `jsonwebtoken::encode`.
    pub fn naive(&self, header: &jsonwebtoken::Header, key: &jsonwebtoken::EncodingKey) {
        let a = jsonwebtoken::encode(header, &self.claims.access(), key).expect("encode");
        let b = jsonwebtoken::encode(header, &self.claims.id(), key).expect("encode");
        std::hint::black_box((a, b));
    }
}

/// A store holding `families` families that have all expired at [`NOW`], for the purge workload.
pub fn expired_store(families: usize) -> InMemoryRefreshTokenStore {
    let store = InMemoryRefreshTokenStore::with_capacity(families);
    let client: Arc<str> = Arc::from("4j2k9c1m5n7p3q8r0s6t2v4w1x");
    let scopes: Arc<str> = Arc::from(refresh_rotation::SignInRequest::API_SCOPE);
    let mut rng = SplitMix(0xdead);
    for i in 0..families {
        let f = family(
            &mut rng,
            &client,
            &scopes,
            i % USERS,
            Timestamp::from_unix_seconds(NOW - 1),
        );
        store.create(f).expect("fresh id");
    }
    store
}

/// Purges every family of `store` in batches of 10,000, as a host's periodic job would; returns how many.
pub fn purge_all(store: &InMemoryRefreshTokenStore) -> usize {
    const BATCH: usize = 10_000;
    // Every family of the benches has expired by then, margin included (R-REV-6).
    let cutoff =
        refresh_rotation::store::PurgeCutoff::at(Timestamp::from_unix_seconds(i64::from(i32::MAX)))
            .expect("in range");
    let mut total = 0;
    loop {
        let n = store.purge_expired(cutoff, BATCH).expect("in-memory purge");
        total += n;
        if n < BATCH {
            return total;
        }
    }
}
