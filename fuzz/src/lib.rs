//! The harness shared by the fuzz targets (R-SAFE-1..3).
//!
//! Each target feeds attacker-controlled bytes to one surface of the crate and checks, besides "no
//! panic, no hang, no unbounded allocation" (libFuzzer's own `-timeout` and `-rss_limit_mb`), a few
//! properties that must hold for any input:
//!
//! - [`refresh_token`]: a token that [`RefreshTokenKeys::decode`] accepts is exactly the canonical encoding
//!   of what it decodes to, under the key it names: nothing else verifies (R-FAM-1, R-FAM-4). The issuer's
//!   refresh and revoke paths answer every such string without panicking.
//! - [`wire_op`]: JSON bytes → [`wire::from_json`] → the operation on a fresh pool. An error never
//!   echoes a secret member of the request or of the pool (R-SAFE-2); a configuration the validator
//!   accepted validates again from its own description; tokens the issuer returns verify.
//! - [`jwt`]: [`JwtVerifier::verify`] on arbitrary strings, on mutations of valid tokens (only the
//!   signed bytes of a valid token can verify) and on arbitrary headers and payloads signed with the real
//!   key (an accepted token satisfies every claim check, re-checked here independently).
//!
//! Every pool is built afresh for each input from a deterministic random source and fixed keys, so the
//! refresh tokens and client ids in the seed corpora (written by `examples/write_seeds.rs`) are valid in
//! every run.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use refresh_rotation::clock::{ManualClock, Timestamp};
use refresh_rotation::config::{OAuthFlow, RefreshTokenRotation};
use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
use refresh_rotation::engine::{DeviceKey, PresentedSecret, SecretHash};
use refresh_rotation::hook::{ClaimsOverride, PreTokenGenerationEvent};
use refresh_rotation::jwt::{
    AccessTokenClaims, Algorithm, IdTokenClaims, JwtVerifier, RevocationCheck, SigningKey,
    TokenSigner, TokenUse,
};
use refresh_rotation::random::RandomSource;
use refresh_rotation::store::InMemoryRefreshTokenStore;
use refresh_rotation::wire::{
    self, AdminInitiateAuthRequest, CreateUserPoolClientRequest, DeleteUserPoolClientRequest,
    DescribeUserPoolClientRequest, GetTokensFromRefreshTokenRequest,
    GetTokensFromRefreshTokenResponse, InitiateAuthRequest, InitiateAuthResponse,
    ListUserPoolClientsRequest, RevokeTokenRequest, RevokeTokenResponse,
    UpdateUserPoolClientRequest, UserPoolClientOperations as _,
};
use refresh_rotation::{
    AppClientConfig, ClientId, ClientRegistry, ClientSecret, Error, NewClientSecret,
    RefreshRequest, RefreshToken, RefreshTokenKey, RefreshTokenKeys, SignInRequest, TokenIssuer,
};
use serde_json::Value;

/// The pool every fuzz world serves.
pub const POOL: &str = "us-east-1_FuzzPool";
/// The manual clock's start.
pub const START: i64 = 1_700_000_000;
/// The issuer URL of the pool (R-JWT-4).
pub const ISSUER: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_FuzzPool";
/// The current refresh-token key (id 2) and a previous one (id 1), both still verifying (R-FAM-6).
pub const REFRESH_KEY_2: &[u8] = b"fuzz-refresh-token-key-two-32-bytes!";
/// The previous refresh-token key (id 1).
pub const REFRESH_KEY_1: &[u8] = b"fuzz-refresh-token-key-one-32-bytes!";
/// The secret of client `rotating-secret`.
pub const SECRET_B: &str = "FuzzSecretB0123456789abcdefghij";
/// The secret of client `legacy-secret`.
pub const SECRET_C: &str = "FuzzSecretC0123456789abcdefghij";
/// The device the family of `bob` at the rotating client is bound to.
pub const BOUND_DEVICE: &str = "us-east-1_0a1b2c3d-0000-4000-8000-00000000beef";

/// SplitMix64: a deterministic [`RandomSource`], for fuzzing only (so ids and tokens repeat across runs).
#[derive(Debug)]
pub struct DetRng(AtomicU64);

impl DetRng {
    /// A source seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        DetRng(AtomicU64::new(seed))
    }
}

impl RandomSource for DetRng {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        for chunk in dest.chunks_mut(8) {
            let mut z = self
                .0
                .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
                .wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// The refresh-token key ring of every world: key 2 signs, key 1 still verifies.
pub fn refresh_keys() -> RefreshTokenKeys {
    RefreshTokenKeys::new(RefreshTokenKey::new(2, REFRESH_KEY_2).expect("32+ byte key"))
        .with_previous(RefreshTokenKey::new(1, REFRESH_KEY_1).expect("32+ byte key"))
        .expect("distinct key ids")
}

fn key_alone(key_id: u32) -> Option<RefreshTokenKeys> {
    let secret = match key_id {
        1 => REFRESH_KEY_1,
        2 => REFRESH_KEY_2,
        _ => return None,
    };
    Some(RefreshTokenKeys::new(
        RefreshTokenKey::new(key_id, secret).expect("32+ byte key"),
    ))
}

/// An Ed25519 PKCS#8 v1 document for a fixed seed, so signatures (deterministic in Ed25519) and
/// therefore the JWTs in the seed corpora are the same in every run.
fn ed25519_pkcs8(seed: u8) -> Vec<u8> {
    let mut der = vec![
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    der.extend_from_slice(&[seed; 32]);
    der
}

/// The ID-token key and the access-token key (both EdDSA, fixed), loaded once per process.
pub fn signer() -> &'static TokenSigner {
    static SIGNER: OnceLock<TokenSigner> = OnceLock::new();
    SIGNER.get_or_init(|| {
        let load = |kid: &str, seed| {
            Arc::new(
                SigningKey::from_pkcs8_der(Algorithm::EdDSA, kid, &ed25519_pkcs8(seed))
                    .expect("fixed Ed25519 key"),
            )
        };
        TokenSigner::with_keys(load("fuzz-id-key", 1), load("fuzz-access-key", 2))
            .expect("distinct kids")
    })
}

/// A verifier for [`signer`]'s tokens of [`ISSUER`].
pub fn verifier() -> &'static JwtVerifier {
    static VERIFIER: OnceLock<JwtVerifier> = OnceLock::new();
    VERIFIER.get_or_init(|| signer().verifier(ISSUER).expect("own JWKS"))
}

/// The pre-token-generation hook of every world: refuses on `refuse`, otherwise adds every
/// ClientMetadata entry as a claim (so the protected-claim filter sees fuzzer-chosen names).
fn hook(event: &PreTokenGenerationEvent<'_>) -> Result<ClaimsOverride, String> {
    if event.client_metadata.contains_key("refuse") {
        return Err("refused by the fuzz hook".into());
    }
    let mut o = ClaimsOverride::default();
    for (k, v) in event.client_metadata {
        o.claims_to_add_or_override
            .insert(k.clone(), Value::String(v.clone()));
    }
    if event.client_metadata.contains_key("suppress") {
        o.claims_to_suppress.push("email".into());
        o.groups_to_override = Some(vec!["g".into()]);
    }
    Ok(o)
}

/// One pool with four clients, two users and a few live families.
pub struct World {
    /// The issuer.
    pub issuer: TokenIssuer,
    /// Its registry.
    pub registry: Arc<ClientRegistry>,
    /// Its clock.
    pub clock: Arc<ManualClock>,
    /// Client ids: `rotating` (grace 10 s), `rotating-secret` (grace 0, secret B), `legacy-secret`
    /// (no rotation, secret C), `legacy-public` (no rotation, revocation disabled).
    pub clients: Vec<String>,
    /// Refresh tokens that are valid when the world is built.
    pub tokens: Vec<String>,
    /// Every secret of the pool: client secrets and refresh tokens.
    pub secrets: Vec<String>,
}

impl World {
    /// A fresh pool; with `device_tracking`, refreshes of unbound families issue devices (R-REF-9).
    pub fn new(device_tracking: bool) -> World {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(START)));
        let rng = Arc::new(DetRng::new(0x5eed));
        let registry = Arc::new(ClientRegistry::new(POOL, clock.clone(), rng.clone()));
        registry
            .declare_custom_scope("fuzz-api/read")
            .expect("valid scope");
        let make = |name: &str, rotation, secret: Option<&str>, revocation: bool| {
            let mut b = AppClientConfig::builder(name)
                .refresh_token_rotation(rotation)
                .enable_token_revocation(revocation);
            if name == "rotating" {
                // An OAuth client, so that sign-in may grant it scopes beyond the API scope.
                b = b
                    .allowed_oauth_flows_user_pool_client(true)
                    .allowed_oauth_flows([OAuthFlow::Code])
                    .allowed_oauth_scopes(["openid", "fuzz-api/read"])
                    .callback_urls(["https://example.com/callback"]);
            }
            let s = secret.map_or(NewClientSecret::None, |s| {
                NewClientSecret::Provided(ClientSecret::new(s))
            });
            registry
                .create_client(b, s)
                .expect("valid fuzz client")
                .client_id()
                .to_string()
        };
        let on = |g| RefreshTokenRotation::enabled(g).expect("grace <= 60");
        let clients = vec![
            make("rotating", on(10), None, true),
            make("rotating-secret", on(0), Some(SECRET_B), true),
            make(
                "legacy-secret",
                RefreshTokenRotation::DISABLED,
                Some(SECRET_C),
                true,
            ),
            make("legacy-public", RefreshTokenRotation::DISABLED, None, false),
        ];
        let directory = Arc::new(InMemoryUserDirectory::new());
        directory
            .put(
                UserRecord::new("5b0e7c4e-1f7a-4d0e-9a51-0c3e6a8f0001", "alice")
                    .with_attribute("email", "alice@example.com")
                    .with_group("users"),
            )
            .expect("user");
        directory
            .put(UserRecord::new(
                "5b0e7c4e-1f7a-4d0e-9a51-0c3e6a8f0002",
                "bob",
            ))
            .expect("user");
        let store = Arc::new(InMemoryRefreshTokenStore::new());
        let build = |tracking: bool| {
            TokenIssuer::builder(
                "us-east-1",
                signer().clone(),
                refresh_keys(),
                registry.clone(),
                store.clone(),
                directory.clone(),
            )
            .clock(clock.clone())
            .random(rng.clone())
            .device_tracking(tracking)
            .pre_token_generation(Arc::new(hook))
            .build()
        };
        // The fixture's families are made without device tracking, so that they (and the seed corpora's
        // tokens) are the same in both kinds of world; the fuzzed operations run on an issuer over the
        // same pool with tracking as asked.
        let issuer = build(false);
        let mut tokens = Vec::new();
        let sign_in = |req: SignInRequest<'_>| -> String {
            issuer
                .sign_in(&req)
                .expect("fixture sign-in")
                .refresh_token
                .expect("sign-in returns a refresh token")
                .into_secret()
        };
        // Rotating client: alice at generation 0 then rotated to 1 (0 stays in its grace window).
        let a0 = sign_in(SignInRequest::new(
            ClientId::parse(&clients[0]).unwrap(),
            "alice",
        ));
        let a1 = issuer
            .get_tokens_from_refresh_token(&RefreshRequest::new(
                &RefreshToken::new(a0.clone()),
                ClientId::parse(&clients[0]).unwrap(),
            ))
            .expect("fixture refresh")
            .refresh_token
            .expect("rotation returns a refresh token")
            .into_secret();
        // bob at the rotating client, bound to a device.
        let scopes = vec!["openid".to_owned(), "fuzz-api/read".to_owned()];
        let bob = sign_in(SignInRequest {
            device_key: Some(DeviceKey::parse(BOUND_DEVICE).unwrap()),
            scopes: Some(&scopes),
            ..SignInRequest::new(ClientId::parse(&clients[0]).unwrap(), "bob")
        });
        let b0 = sign_in(SignInRequest {
            client_secret: Some(PresentedSecret::parse(SECRET_B).unwrap()),
            ..SignInRequest::new(ClientId::parse(&clients[1]).unwrap(), "alice")
        });
        let hash = ClientSecret::new(SECRET_C).secret_hash("alice", &clients[2]);
        let c0 = sign_in(SignInRequest {
            secret_hash: Some(SecretHash::parse(&hash).unwrap()),
            ..SignInRequest::new(ClientId::parse(&clients[2]).unwrap(), "alice")
        });
        let d0 = sign_in(SignInRequest::new(
            ClientId::parse(&clients[3]).unwrap(),
            "bob",
        ));
        // The same family as `d0`, encoded under the previous key (R-FAM-6).
        let keys = refresh_keys();
        let d_family = keys.decode(&d0).expect("own token").family();
        let d0_old = key_alone(1)
            .expect("key 1")
            .encode(&d_family, 0)
            .into_secret();
        tokens.extend([a0, a1, bob, b0, c0, d0, d0_old]);
        let mut secrets: Vec<String> = vec![SECRET_B.into(), SECRET_C.into()];
        secrets.extend(tokens.iter().cloned());
        World {
            issuer: if device_tracking { build(true) } else { issuer },
            registry,
            clock,
            clients,
            tokens,
            secrets,
        }
    }
}

// ------------------------------------------------------------------------------------------------
// Refresh-token parser.

/// Builds a token string from fuzz input. `mode` chooses how: the bytes as a string; a valid token
/// with byte edits; or 57 raw bytes written as base64url (so the fuzzer explores the decoded layout).
fn token_from(world_tokens: &[String], mode: u8, rest: &[u8]) -> String {
    match mode % 3 {
        0 => String::from_utf8_lossy(rest).into_owned(),
        1 => {
            let Some((&pick, edits)) = rest.split_first() else {
                return String::new();
            };
            let mut t = world_tokens[usize::from(pick) % world_tokens.len()]
                .clone()
                .into_bytes();
            for e in edits.chunks(2) {
                match e {
                    [pos, b] if *b == 0 => {
                        let n = t.len();
                        if n > 0 {
                            t.remove(usize::from(*pos) % n);
                        }
                    }
                    [pos, b] => {
                        let n = t.len().max(1);
                        let i = usize::from(*pos) % n;
                        if i < t.len() {
                            t[i] = *b;
                        }
                    }
                    [b] => t.push(*b),
                    _ => {}
                }
            }
            String::from_utf8_lossy(&t).into_owned()
        }
        _ => URL_SAFE_NO_PAD.encode(rest),
    }
}

/// The refresh-token target: [`RefreshTokenKeys::decode`], then the issuer's refresh, legacy refresh and
/// revoke paths with the same string, at each client.
pub fn refresh_token(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    // Cheap world-independent part first: decoding needs only the keys.
    let keys = refresh_keys();
    let world_tokens = fixture_tokens();
    let token = token_from(world_tokens, mode, rest);
    if let Ok(d) = keys.decode(&token) {
        // R-FAM-1/R-FAM-4: only the canonical encoding under a configured key verifies.
        let again = key_alone(d.key_id())
            .expect("decode accepted an unknown key id")
            .encode(&d.family(), d.generation());
        assert_eq!(
            again.expose_secret(),
            token,
            "a token that is not the canonical encoding verified"
        );
    }
    if mode & 0x80 == 0 {
        return;
    }
    let world = World::new(mode & 0x40 != 0);
    let presented = RefreshToken::new(token.clone());
    for (i, client) in world.clients.iter().enumerate() {
        let secret = match i {
            1 => Some(SECRET_B),
            2 => Some(SECRET_C),
            _ => None,
        };
        let secret =
            secret.map(|s| PresentedSecret::parse(s).expect("the fixture's secrets parse"));
        let device = DeviceKey::parse(BOUND_DEVICE).expect("the fixture's device key parses");
        let req = RefreshRequest {
            client_secret: secret,
            device_key: (mode & 0x20 != 0).then_some(device),
            ..RefreshRequest::new(&presented, ClientId::parse(client).unwrap())
        };
        let outcome = world.issuer.get_tokens_from_refresh_token(&req);
        check_outcome(&world, outcome.as_ref().map(|_| ()), &[&token]);
        if let Ok(r) = outcome {
            assert!(
                keys.decode(&token).is_ok(),
                "refresh succeeded with a token that does not decode"
            );
            check_tokens(&r, client);
        }
        let hash =
            secret.map(|s| ClientSecret::new(s.expose_secret()).secret_hash("alice", client));
        let legacy = world
            .issuer
            .legacy_refresh(&refresh_rotation::LegacyRefreshRequest {
                refresh_token: &presented,
                client_id: ClientId::parse(client).unwrap(),
                secret_hash: hash.as_deref().map(|h| SecretHash::parse(h).unwrap()),
                device_key: None,
                client_metadata: None,
            });
        check_outcome(&world, legacy.as_ref().map(|_| ()), &[&token]);
        let revoked =
            world
                .issuer
                .revoke_token(&presented, ClientId::parse(client).unwrap(), secret);
        check_outcome(&world, revoked.as_ref(), &[&token]);
    }
}

fn fixture_tokens() -> &'static [String] {
    static TOKENS: OnceLock<Vec<String>> = OnceLock::new();
    TOKENS.get_or_init(|| World::new(false).tokens)
}

// ------------------------------------------------------------------------------------------------
// Wire operations.

/// The operations [`wire_op`] dispatches on, by `data[0] % 9`.
pub const OPS: [&str; 9] = [
    "CreateUserPoolClient",
    "UpdateUserPoolClient",
    "DescribeUserPoolClient",
    "DeleteUserPoolClient",
    "ListUserPoolClients",
    "GetTokensFromRefreshToken",
    "RevokeToken",
    "InitiateAuth",
    "AdminInitiateAuth",
];

/// Clock moves selected by bits 5..8 of the selector byte: none, into and past the grace windows, an
/// hour, past the 30-day refresh validity, far future.
const ADVANCE: [u64; 8] = [0, 5, 11, 3_600, 31 * 86_400, 1, 60, 400 * 86_400];

/// Members the model marks sensitive, whose values must never be echoed in an error.
const SENSITIVE: [&str; 5] = [
    "RefreshToken",
    "ClientSecret",
    "Token",
    "Session",
    "AuthParameters",
];

/// Splits the strings of a JSON body into secrets (values of sensitive members) and public strings
/// (everything else, member names included).
fn classify(v: &Value, secret: bool, secrets: &mut Vec<String>, public: &mut Vec<String>) {
    match v {
        Value::String(s) if secret => secrets.push(s.clone()),
        Value::String(s) => public.push(s.clone()),
        Value::Number(n) => public.push(n.to_string()),
        Value::Array(a) => a.iter().for_each(|x| classify(x, secret, secrets, public)),
        Value::Object(m) => {
            for (k, x) in m {
                public.push(k.clone());
                classify(
                    x,
                    secret || SENSITIVE.contains(&k.as_str()),
                    secrets,
                    public,
                );
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// R-SAFE-2: no secret of the request or the pool appears in an error's message or wire body, unless
/// the same text was also sent in a public member (an echoed ClientId may legitimately equal it).
fn check_error(world: &World, e: &Error, secrets: &[&str], public: &[String]) {
    let debug = format!("{e:?}");
    // A variant without fields (`RevocationDisabled`) carries nothing of the request: its texts are
    // constant, and a secret the fuzzer made equal to part of them is no echo.
    if !debug.contains(['(', '{']) {
        return;
    }
    let rendered = [e.message(), e.to_wire_body(), debug];
    let mut scrubbed: Vec<String> = rendered.to_vec();
    let mut public: Vec<&String> = public.iter().filter(|p| !p.is_empty()).collect();
    public.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for text in &mut scrubbed {
        for p in &public {
            *text = text.replace(p.as_str(), "\u{1}");
        }
    }
    let pool_secrets = world.secrets.iter().map(String::as_str);
    for s in secrets.iter().copied().chain(pool_secrets) {
        // 24 characters: every secret of the fixture is at least that long (client secrets 24 to 64, a
        // token 76), and a fuzzed value that short or shorter could be a piece of an error's constant
        // text, which the fuzzer learns from the comparisons below. A real echo echoes a value of any
        // length, so it is still found with longer ones.
        if s.len() < 24 || public.iter().any(|p| p.contains(s)) {
            continue;
        }
        for text in &scrubbed {
            assert!(
                !text.contains(s),
                "error echoes a secret value: {e:?} / {}",
                e.message()
            );
        }
    }
}

fn check_outcome<T>(world: &World, outcome: Result<T, &Error>, secrets: &[&str]) {
    if let Err(e) = outcome {
        check_error(world, e, secrets, &world.clients);
    }
}

/// The `iat` a token claims, unverified: the time [`check_tokens`] verifies it at.
fn claimed_iat(token: &str) -> Timestamp {
    let payload = token.split('.').nth(1).expect("three parts");
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url payload"))
            .expect("JSON payload");
    Timestamp::from_unix_seconds(claims["iat"].as_i64().expect("iat"))
}

/// Tokens the issuer hands out verify with the pool's JWKS at the issuing time.
fn check_tokens(r: &refresh_rotation::TokenSet, client_id: &str) {
    // The clock may have moved up to 400 days, beyond any leeway (capped at 300 s, R-SAFE-8): verify
    // each token at the time it claims to be issued, which its signature covers.
    let v = verifier();
    v.verify(
        &r.access_token,
        TokenUse::Access,
        client_id,
        claimed_iat(&r.access_token),
        &NeverRevoked,
    )
    .expect("issued access token verifies");
    v.verify(
        &r.id_token,
        TokenUse::Id,
        client_id,
        claimed_iat(&r.id_token),
        &NeverRevoked,
    )
    .expect("issued ID token verifies");
    if let Some(t) = &r.refresh_token {
        refresh_keys()
            .decode(t.expose_secret())
            .expect("issued refresh token decodes");
    }
}

struct NeverRevoked;
impl RevocationCheck for NeverRevoked {
    fn is_revoked(&self, _origin_jti: &str) -> bool {
        false
    }
}

/// The wire target: `data[0]` selects the operation (`% 9`, see [`OPS`]), device tracking (bit 4) and a
/// clock move (bits 5..8, see [`ADVANCE`]); the rest is the JSON request body.
pub fn wire_op(data: &[u8]) {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let world = World::new(sel & 0x10 != 0);
    world.clock.advance(ADVANCE[usize::from(sel >> 5)]);
    let (mut secrets, mut public) = (Vec::new(), Vec::new());
    match serde_json::from_slice::<Value>(body) {
        Ok(v) => classify(&v, false, &mut secrets, &mut public),
        // Not JSON: serde's message may quote any part of it, so all of it counts as public text.
        Err(_) => public.push(String::from_utf8_lossy(body).into_owned()),
    }
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let outcome = run_op(&world, usize::from(sel) % OPS.len(), body);
    if let Err(e) = outcome {
        check_error(&world, &e, &secrets, &public);
    }
}

fn run_op(world: &World, op: usize, body: &[u8]) -> Result<(), Error> {
    let reg = &world.registry;
    let issuer = &world.issuer;
    match op {
        0 => {
            let req: CreateUserPoolClientRequest = wire::from_json(body)?;
            let resp = reg.create_user_pool_client(&req)?;
            round_trip(&resp);
            revalidate(world, resp.user_pool_client.as_ref());
        }
        1 => {
            let req: UpdateUserPoolClientRequest = wire::from_json(body)?;
            let resp = reg.update_user_pool_client(&req)?;
            round_trip(&resp);
            revalidate(world, resp.user_pool_client.as_ref());
        }
        2 => {
            let req: DescribeUserPoolClientRequest = wire::from_json(body)?;
            round_trip(&reg.describe_user_pool_client(&req)?);
        }
        3 => {
            let req: DeleteUserPoolClientRequest = wire::from_json(body)?;
            reg.delete_user_pool_client(&req)?;
        }
        4 => {
            let req: ListUserPoolClientsRequest = wire::from_json(body)?;
            let resp = reg.list_user_pool_clients(&req)?;
            round_trip(&resp);
            // Following the NextToken must work.
            if let Some(next) = resp.next_token {
                let again = ListUserPoolClientsRequest {
                    next_token: Some(next),
                    ..req
                };
                reg.list_user_pool_clients(&again)
                    .expect("a NextToken the registry returned is accepted");
            }
        }
        5 => {
            let req: GetTokensFromRefreshTokenRequest = wire::from_json(body)?;
            let token =
                RefreshToken::new(req.refresh_token.as_ref().map_or("", |t| t.expose_secret()));
            // As a host maps the request: each member parsed once, on the way in.
            let client_id = ClientId::parse(req.client_id.as_deref().unwrap_or_default())?;
            let r = RefreshRequest {
                refresh_token: &token,
                client_id,
                client_secret: req
                    .client_secret
                    .as_ref()
                    .map(|s| PresentedSecret::parse(s.expose_secret()))
                    .transpose()?,
                device_key: req
                    .device_key
                    .as_deref()
                    .map(DeviceKey::parse)
                    .transpose()?,
                client_metadata: req.client_metadata.as_ref(),
                announces_device: true,
            };
            let result = issuer.get_tokens_from_refresh_token(&r)?;
            check_tokens(&result, client_id.as_str());
            round_trip(&GetTokensFromRefreshTokenResponse {
                authentication_result: result.into(),
            });
        }
        6 => {
            let req: RevokeTokenRequest = wire::from_json(body)?;
            let token = RefreshToken::new(req.token.as_ref().map_or("", |t| t.expose_secret()));
            issuer.revoke_token(
                &token,
                ClientId::parse(req.client_id.as_deref().unwrap_or_default())?,
                req.client_secret
                    .as_ref()
                    .map(|s| PresentedSecret::parse(s.expose_secret()))
                    .transpose()?,
            )?;
            round_trip(&RevokeTokenResponse {});
        }
        7 => {
            let req: InitiateAuthRequest = wire::from_json(body)?;
            legacy(
                issuer,
                req.auth_flow.as_deref(),
                req.auth_parameters.as_ref(),
                req.client_id.as_deref(),
                req.client_metadata.as_ref(),
            )?;
        }
        _ => {
            let req: AdminInitiateAuthRequest = wire::from_json(body)?;
            legacy(
                issuer,
                req.auth_flow.as_deref(),
                req.auth_parameters.as_ref(),
                req.client_id.as_deref(),
                req.client_metadata.as_ref(),
            )?;
        }
    }
    Ok(())
}

/// InitiateAuth / AdminInitiateAuth as a host maps them: only the refresh flows reach the issuer.
fn legacy(
    issuer: &TokenIssuer,
    flow: Option<&str>,
    params: Option<&wire::AuthParameters>,
    client_id: Option<&str>,
    metadata: Option<&HashMap<String, String>>,
) -> Result<(), Error> {
    if !matches!(flow, Some("REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN")) {
        return Ok(());
    }
    let param = |name: &str| params.and_then(|p| p.get(name));
    let token = RefreshToken::new(param("REFRESH_TOKEN").unwrap_or_default());
    let client_id = ClientId::parse(client_id.unwrap_or_default())?;
    let result = issuer.legacy_refresh(&refresh_rotation::LegacyRefreshRequest {
        refresh_token: &token,
        client_id,
        secret_hash: param("SECRET_HASH").map(SecretHash::parse).transpose()?,
        device_key: param("DEVICE_KEY").map(DeviceKey::parse).transpose()?,
        client_metadata: metadata,
    })?;
    check_tokens(&result, client_id.as_str());
    round_trip(&InitiateAuthResponse {
        challenge_parameters: HashMap::new(),
        authentication_result: result.into(),
    });
    Ok(())
}

/// A response serialises and reads back equal (R-WIRE-1).
fn round_trip<T>(value: &T)
where
    T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let json = wire::to_json(value).expect("responses serialise");
    let back: T = serde_json::from_str(&json).expect("responses read back");
    assert_eq!(&back, value, "response changed in a JSON round trip");
}

/// A configuration the validator accepted validates again, unchanged, from its own description.
fn revalidate(world: &World, client: Option<&wire::UserPoolClientType>) {
    let client_id = client
        .and_then(|c| c.client_id.as_deref())
        .expect("Create/Update return the client");
    let stored = world
        .registry
        .get(client_id)
        .expect("store answers")
        .expect("client was stored");
    let req = UpdateUserPoolClientRequest::from_config(POOL, client_id, stored.config());
    let again = world
        .registry
        .update_user_pool_client(&req)
        .expect("a stored configuration validates again");
    let now = world
        .registry
        .get(client_id)
        .expect("store answers")
        .expect("client still stored");
    assert_eq!(
        now.config(),
        stored.config(),
        "re-validating a stored configuration changed it"
    );
    round_trip(&again);
}

// ------------------------------------------------------------------------------------------------
// JWT verifier.

/// Revokes every `origin_jti` that starts with `0`, so the revocation branch is reachable.
struct RevokeZeros;
impl RevocationCheck for RevokeZeros {
    fn is_revoked(&self, origin_jti: &str) -> bool {
        origin_jti.starts_with('0')
    }
}

/// The client id the valid JWTs are issued to.
pub const JWT_CLIENT: &str = "fuzzjwtclient0123456789abc";
/// The verification time of the JWT target.
pub const JWT_NOW: i64 = START + 60;

/// A valid access token and ID token of [`ISSUER`] for [`JWT_CLIENT`].
pub fn valid_jwts() -> &'static (String, String) {
    static TOKENS: OnceLock<(String, String)> = OnceLock::new();
    TOKENS.get_or_init(|| {
        let groups = vec!["users".to_owned()];
        let access = AccessTokenClaims {
            sub: "5b0e7c4e-1f7a-4d0e-9a51-0c3e6a8f0001",
            iss: ISSUER,
            client_id: JWT_CLIENT,
            origin_jti: "7f3b0c2a-1d4e-4f5a-8b6c-9d0e1f2a3b4c",
            event_id: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
            scope: "aws.cognito.signin.user.admin",
            auth_time: START,
            exp: START + 3_600,
            iat: START,
            jti: "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
            username: "alice",
            groups: &groups,
            device_key: None,
            extra: None,
        };
        let attributes = std::collections::BTreeMap::from([(
            "email".to_owned(),
            "alice@example.com".to_owned(),
        )]);
        let id = IdTokenClaims {
            sub: access.sub,
            iss: ISSUER,
            aud: JWT_CLIENT,
            username: "alice",
            origin_jti: access.origin_jti,
            event_id: access.event_id,
            auth_time: START,
            exp: START + 3_600,
            iat: START,
            jti: "6e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
            groups: &groups,
            attributes: &attributes,
            extra: None,
        };
        let s = signer();
        (
            s.sign_access_token(&access).expect("sign"),
            s.sign_id_token(&id).expect("sign"),
        )
    })
}

/// Re-checks, independently of the verifier, what an accepted token must satisfy (R-JWT-6).
fn assert_claims_ok(claims: &serde_json::Map<String, Value>, expected: TokenUse) {
    let s = |n: &str| claims.get(n).and_then(Value::as_str);
    let i = |n: &str| claims.get(n).and_then(Value::as_i64);
    assert_eq!(s("token_use"), Some(expected.as_str()));
    assert_eq!(s("iss"), Some(ISSUER));
    match expected {
        TokenUse::Access => assert_eq!(s("client_id"), Some(JWT_CLIENT)),
        TokenUse::Id => {
            let aud_ok = match claims.get("aud") {
                Some(Value::String(a)) => a == JWT_CLIENT,
                Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(JWT_CLIENT)),
                _ => false,
            };
            assert!(aud_ok, "accepted an ID token for another audience");
        }
    }
    assert!(s("sub").is_some() && s("jti").is_some());
    let origin = s("origin_jti").expect("origin_jti");
    assert!(!origin.starts_with('0'), "accepted a revoked token");
    let exp = i("exp").expect("exp");
    let iat = i("iat").expect("iat");
    assert!(JWT_NOW < exp, "accepted an expired token");
    assert!(iat <= JWT_NOW, "accepted a token issued in the future");
    if let Some(nbf) = claims.get("nbf") {
        assert!(nbf.as_i64().is_some_and(|n| n <= JWT_NOW));
    }
}

fn verify_both(token: &str) -> [Option<serde_json::Map<String, Value>>; 2] {
    let v = verifier();
    let now = Timestamp::from_unix_seconds(JWT_NOW);
    let mut out = [None, None];
    for (slot, use_) in out.iter_mut().zip([TokenUse::Access, TokenUse::Id]) {
        match v.verify(token, use_, JWT_CLIENT, now, &RevokeZeros) {
            Ok(c) => {
                assert_claims_ok(c.claims(), use_);
                *slot = Some(c.into_claims());
            }
            Err(e) => {
                // Refusals are coarse (R-JWT-6): one of three fixed messages, so nothing of the token
                // can be echoed in them.
                assert!(matches!(e, Error::InvalidJwt { .. }), "{e:?}");
                let fixed = [
                    use_.invalid_reason(),
                    use_.expired_reason(),
                    use_.revoked_reason(),
                ];
                assert!(fixed.contains(&e.message().as_str()), "{e:?}");
            }
        }
    }
    out
}

/// The JWT target. `data[0] % 5` selects: an arbitrary string; a mutated valid token (only its own signed
/// bytes may verify); a header and payload from the input, signed with the real ID key; a fuzzed header
/// over a valid payload, signed; an arbitrary JWKS document for [`JwtVerifier::from_jwks_json`].
pub fn jwt(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => {
            verify_both(&String::from_utf8_lossy(rest));
        }
        1 => {
            let (access, id) = valid_jwts();
            let original = if mode & 0x80 == 0 { access } else { id };
            let mutated = token_from(
                std::slice::from_ref(original),
                1,
                &[&[0u8][..], rest].concat(),
            );
            let accepted = verify_both(&mutated);
            if accepted.iter().any(Option::is_some) {
                let signed = |t: &str| t.rsplit_once('.').map(|(s, _)| s.to_owned());
                assert_eq!(
                    signed(&mutated),
                    signed(original),
                    "a token whose signed part was changed verified"
                );
            }
        }
        2 | 3 => {
            let (header, payload): (Vec<u8>, Vec<u8>) = if mode % 5 == 2 {
                let mut parts = rest.splitn(2, |&b| b == 0xff);
                (
                    parts.next().unwrap_or_default().to_vec(),
                    parts.next().unwrap_or_default().to_vec(),
                )
            } else {
                let (_, id) = valid_jwts();
                let payload = id.split('.').nth(1).expect("three parts");
                (
                    rest.to_vec(),
                    URL_SAFE_NO_PAD.decode(payload).expect("own payload"),
                )
            };
            let signed = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(&header),
                URL_SAFE_NO_PAD.encode(&payload)
            );
            let key = signer().id_key();
            let sig = key.sign_raw(signed.as_bytes()).expect("sign");
            let token = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig));
            // Any key of the JWKS may sign either kind of token (Cognito's JWKS does not say which);
            // what matters is that an accepted token passes every claim check, asserted inside.
            verify_both(&token);
        }
        _ => {
            if let Ok(v) = JwtVerifier::from_jwks_json(ISSUER, rest) {
                let (access, id) = valid_jwts();
                let now = Timestamp::from_unix_seconds(JWT_NOW);
                let _ = v.verify(access, TokenUse::Access, JWT_CLIENT, now, &RevokeZeros);
                let _ = v.verify(id, TokenUse::Id, JWT_CLIENT, now, &RevokeZeros);
            }
        }
    }
}
