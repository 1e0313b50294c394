//! The token issuer: sign-in, GetTokensFromRefreshToken, the legacy refresh flow, RevokeToken and global
//! sign-out for one user pool (SPEC 4 to 7).
//!
//! The issuer performs no I/O of its own. Time, randomness, the family store, the user directory and the
//! client registry come in as trait objects.
//!
//! A refresh is ordered so that it either advances the family and returns its successor, or changes
//! nothing: the checks of R-REF-1 to R-REF-9 and the rotation decision only read; the hook may still
//! refuse; only then does the one compare-and-set on the generation happen, and the ID and access tokens
//! are signed after it, once the answer is certain (signing first would waste two signatures on every
//! race loser and every refused hook, and the signatures do not depend on the generation). A refusal
//! anywhere before the compare-and-set leaves the family untouched; a failure after it (the signer or the
//! random source failing) is like an answer lost on the way, which a retry in the grace window repairs.
//!
//! The time of a decision (R-ROT-9, R-ROT-11) is read after the store read it is based on, and read
//! again after a lost compare-and-set; a store that keeps the time (the PostgreSQL store reads the
//! database clock) supplies it, so that every host decides on the same clock.

use std::collections::HashMap;
use std::sync::Arc;

use crate::clock::{Clock, Timestamp};
use crate::directory::{UserDirectory, UserRecord};
use crate::error::Error;
use crate::hook::{ClaimsOverride, PreTokenGenerationEvent, PreTokenGenerationHook, TriggerSource};
use crate::jwt::{AccessTokenClaims, IdTokenClaims, TokenSigner};
use crate::random::{
    hyphenated_text, random_array, uuid_string, uuid_text, BufferedRandom, RandomSource,
};
use crate::registry::{AppClient, ClientRegistry};
use crate::secret::constant_time_eq;
use crate::store::{
    Advance, Family, FamilyId, FamilyInfo, FamilyState, PurgeCutoff, RefreshTokenStore,
};
use crate::token::{DecodedRefreshToken, RefreshTokenKeys, TokenRejection};
use crate::wire::{AuthenticationResult, NewDeviceMetadata};
use crate::RefreshToken;

pub(crate) mod checks;

use checks::{check_client_id, check_client_metadata, check_client_secret, check_device_key};

/// The scope of tokens issued to API sign-ins (R-JWT-2).
pub const API_SIGN_IN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// What happens, besides the RefreshTokenReuseException, when a rotated-out refresh token is presented
/// after its grace window (R-ROT-4, R-ROT-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReusePolicy {
    /// Nothing else changes: Cognito parity. The default.
    #[default]
    Reject,
    /// The whole family is revoked, signing out both a thief and the victim (OAuth 2.0 Security BCP,
    /// RFC 9700 §4.14.2).
    ///
    /// Combined with a grace period of 0 this also signs out a benign client that submits the same
    /// refresh twice at once: the second request is reuse (R-ROT-5). Give such clients a few seconds of
    /// grace.
    RevokeFamily,
}

/// Everything an issuer needs, with the defaults of SPEC 1. Build with [`TokenIssuer::builder`].
pub struct TokenIssuerBuilder {
    region: String,
    issuer_url: Option<String>,
    signer: TokenSigner,
    refresh_keys: RefreshTokenKeys,
    registry: Arc<ClientRegistry>,
    store: Arc<dyn RefreshTokenStore>,
    directory: Arc<dyn UserDirectory>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn RandomSource>,
    device_tracking: bool,
    reuse_policy: ReusePolicy,
    hook: Option<Arc<dyn PreTokenGenerationHook>>,
}

impl TokenIssuerBuilder {
    /// The issuer URL (`iss`). Defaults to `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`
    /// (R-JWT-4).
    pub fn issuer_url(mut self, url: impl Into<String>) -> Self {
        self.issuer_url = Some(url.into());
        self
    }

    /// Whether the pool tracks devices (R-REF-9). Defaults to `false`.
    pub fn device_tracking(mut self, on: bool) -> Self {
        self.device_tracking = on;
        self
    }

    /// The reuse policy (R-ROT-4). Defaults to [`ReusePolicy::Reject`].
    pub fn reuse_policy(mut self, policy: ReusePolicy) -> Self {
        self.reuse_policy = policy;
        self
    }

    /// Installs a pre-token-generation hook (R-REF-11). Defaults to none.
    pub fn pre_token_generation(mut self, hook: Arc<dyn PreTokenGenerationHook>) -> Self {
        self.hook = Some(hook);
        self
    }

    /// The clock. Defaults to [`SystemClock`](crate::SystemClock).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The random source. Defaults to [`SystemRandom`](crate::SystemRandom).
    pub fn random(mut self, rng: Arc<dyn RandomSource>) -> Self {
        self.rng = rng;
        self
    }

    /// Finishes the issuer, and links the registry to the family store so that deleting a client revokes
    /// its families (R-REV-7).
    pub fn build(self) -> TokenIssuer {
        self.registry.link_family_store(&self.store);
        let user_pool_id: Arc<str> = Arc::from(self.registry.user_pool_id());
        let issuer_url = self.issuer_url.unwrap_or_else(|| {
            format!(
                "https://cognito-idp.{}.amazonaws.com/{}",
                self.region, user_pool_id
            )
        });
        TokenIssuer {
            region: self.region,
            issuer_url,
            signer: self.signer,
            refresh_keys: self.refresh_keys,
            registry: self.registry,
            store: self.store,
            directory: self.directory,
            clock: self.clock,
            // One `getrandom` per 16 token sets instead of two per token set: see `BufferedRandom`.
            rng: Arc::new(BufferedRandom::new(self.rng)),
            device_tracking: self.device_tracking,
            reuse_policy: self.reuse_policy,
            hook: self.hook,
            api_scope: Arc::from(API_SIGN_IN_SCOPE),
        }
    }
}

/// A request for the first token set of a session, after the host authenticated the user (SPEC 4).
///
/// `Debug` shows whether a secret, SECRET_HASH or device key is present, never its value (R-SAFE-2).
#[derive(Clone)]
pub struct SignInRequest<'a> {
    /// The app client.
    pub client_id: &'a str,
    /// The user's username.
    pub username: &'a str,
    /// The client secret, for a client that has one (or use `secret_hash`).
    pub client_secret: Option<&'a str>,
    /// A SECRET_HASH computed by the client, instead of the secret itself (R-SIGN-1).
    pub secret_hash: Option<&'a str>,
    /// Scopes to grant, space-separated in the access token: each must be `aws.cognito.signin.user.admin`
    /// or one of the client's AllowedOAuthScopes. Defaults to `aws.cognito.signin.user.admin`, as for
    /// API sign-ins.
    pub scopes: Option<&'a [String]>,
    /// A device the host already knows for this user, to bind the family to.
    pub device_key: Option<&'a str>,
    /// ClientMetadata for the hook.
    pub client_metadata: Option<&'a HashMap<String, String>>,
}

impl<'a> SignInRequest<'a> {
    /// A sign-in of `username` at `client_id`, with nothing else set.
    pub fn new(client_id: &'a str, username: &'a str) -> Self {
        SignInRequest {
            client_id,
            username,
            client_secret: None,
            secret_hash: None,
            scopes: None,
            device_key: None,
            client_metadata: None,
        }
    }
}

/// A GetTokensFromRefreshToken request (SPEC 5).
///
/// `Debug` shows whether a secret or device key is present, never its value (R-SAFE-2).
#[derive(Clone)]
pub struct RefreshRequest<'a> {
    /// The refresh token as the client sent it.
    pub refresh_token: &'a RefreshToken,
    /// The app client.
    pub client_id: &'a str,
    /// The client secret, if sent.
    pub client_secret: Option<&'a str>,
    /// The device key, if sent.
    pub device_key: Option<&'a str>,
    /// ClientMetadata for the hook.
    pub client_metadata: Option<&'a HashMap<String, String>>,
}

impl<'a> RefreshRequest<'a> {
    /// A refresh of `refresh_token` at `client_id`, with nothing else set.
    pub fn new(refresh_token: &'a RefreshToken, client_id: &'a str) -> Self {
        RefreshRequest {
            refresh_token,
            client_id,
            client_secret: None,
            device_key: None,
            client_metadata: None,
        }
    }
}

/// What R-REF-9 asks of a refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
enum DeviceStep {
    /// Nothing: the family is bound to a confirmed device and the request named it, or the pool tracks
    /// no devices.
    Keep,
    /// The request presented the family's unconfirmed device: confirm it once an answer is certain.
    Confirm,
    /// Bind a new device once an answer is certain, and announce it.
    Issue,
    /// The family's device is unconfirmed and the request named none: the answer that announced it may
    /// have been lost, so announce it again.
    Reannounce,
}

/// `Some("[REDACTED]")` or `None`: what a `Debug` of a request shows of a secret member.
fn redacted(v: Option<&str>) -> Option<&'static str> {
    v.map(|_| "[REDACTED]")
}

impl std::fmt::Debug for SignInRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRequest")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("client_secret", &redacted(self.client_secret))
            .field("secret_hash", &redacted(self.secret_hash))
            .field("scopes", &self.scopes)
            .field("device_key", &redacted(self.device_key))
            .field("client_metadata", &self.client_metadata)
            .finish()
    }
}

impl std::fmt::Debug for RefreshRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRequest")
            .field("refresh_token", &self.refresh_token)
            .field("client_id", &self.client_id)
            .field("client_secret", &redacted(self.client_secret))
            .field("device_key", &redacted(self.device_key))
            .field("client_metadata", &self.client_metadata)
            .finish()
    }
}

/// The outcome of the rotation decision for one presented generation (SPEC 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    /// R-ROT-1: advance from the current generation.
    Advance { current: u32 },
    /// R-ROT-2: answer with the existing successor of this generation.
    Retry { successor: u32 },
    /// R-ROT-6: no refresh token in the answer.
    NoRotation,
    /// R-ROT-4 / R-ROT-7.
    Reuse,
}

/// The rotation decision of SPEC 6 for a presented generation, from the family's state as read, the
/// client's rotation setting and grace period now, and the time of the decision (R-ROT-9).
fn decide(
    presented: u32,
    state: &FamilyState,
    rotation_on: bool,
    grace_secs: u8,
    now: Timestamp,
) -> Decision {
    let current = state.generation;
    if presented == current {
        return if rotation_on {
            Decision::Advance { current }
        } else {
            Decision::NoRotation
        };
    }
    // `presented < current` here: the caller has refused generations from the future (R-FAM-4). With a
    // grace period of 0 nothing is ever a retry, whatever the clocks say (R-ROT-9).
    if rotation_on
        && grace_secs > 0
        && presented.checked_add(1) == Some(current)
        && now < state.grace_deadline
    {
        return Decision::Retry { successor: current };
    }
    Decision::Reuse
}

/// Two 16-byte values from one draw of 32 random bytes.
fn split_halves(bytes: [u8; 32]) -> [[u8; 16]; 2] {
    let mut out = [[0u8; 16]; 2];
    out[0].copy_from_slice(&bytes[..16]);
    out[1].copy_from_slice(&bytes[16..]);
    out
}

/// Issues and refreshes tokens for one user pool.
///
/// Keys are fixed for the life of an issuer. To rotate the refresh-token key (R-FAM-6) or a signing key
/// (R-JWT-5), build a new issuer from the same registry, store and directory with the new key ring or
/// signer (the old refresh key kept for verification, the old signing key retired into the JWKS) and
/// swap it in, for example behind an `ArcSwap` or a `RwLock<Arc<TokenIssuer>>`; issuers are cheap to
/// build because everything shared is behind an `Arc`.
pub struct TokenIssuer {
    region: String,
    issuer_url: String,
    signer: TokenSigner,
    refresh_keys: RefreshTokenKeys,
    registry: Arc<ClientRegistry>,
    store: Arc<dyn RefreshTokenStore>,
    directory: Arc<dyn UserDirectory>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn RandomSource>,
    device_tracking: bool,
    reuse_policy: ReusePolicy,
    hook: Option<Arc<dyn PreTokenGenerationHook>>,
    api_scope: Arc<str>,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("issuer_url", &self.issuer_url)
            .field("device_tracking", &self.device_tracking)
            .field("reuse_policy", &self.reuse_policy)
            .field("hook", &self.hook.is_some())
            .finish_non_exhaustive()
    }
}

/// The user's view after the hook: claims and groups to mint.
struct MintInput<'u> {
    user: &'u UserRecord,
    overrides: Option<ClaimsOverride>,
}

impl TokenIssuer {
    /// Starts an issuer for the pool of `registry` in `region`, with the given keys, store and
    /// directory; everything else takes its default (system clock, system randomness, no device
    /// tracking, [`ReusePolicy::Reject`], no hook).
    pub fn builder(
        region: impl Into<String>,
        signer: TokenSigner,
        refresh_keys: RefreshTokenKeys,
        registry: Arc<ClientRegistry>,
        store: Arc<dyn RefreshTokenStore>,
        directory: Arc<dyn UserDirectory>,
    ) -> TokenIssuerBuilder {
        TokenIssuerBuilder {
            region: region.into(),
            issuer_url: None,
            signer,
            refresh_keys,
            registry,
            store,
            directory,
            clock: Arc::new(crate::SystemClock),
            rng: Arc::new(crate::SystemRandom::new()),
            device_tracking: false,
            reuse_policy: ReusePolicy::Reject,
            hook: None,
        }
    }

    /// The issuer URL (`iss`).
    pub fn issuer_url(&self) -> &str {
        &self.issuer_url
    }

    /// The pool's client registry.
    pub fn registry(&self) -> &Arc<ClientRegistry> {
        &self.registry
    }

    /// The family store.
    pub fn store(&self) -> &Arc<dyn RefreshTokenStore> {
        &self.store
    }

    /// The signer, for the JWKS (R-JWT-5) and for building a verifier.
    pub fn signer(&self) -> &TokenSigner {
        &self.signer
    }

    /// The clock the issuer reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Issues the first token set of a new family after the host authenticated the user (SPEC 4).
    pub fn sign_in(&self, req: &SignInRequest<'_>) -> Result<AuthenticationResult, Error> {
        let now = self.clock.now();
        check_client_id(req.client_id)?;
        checks::check_username(req.username)?;
        if let Some(s) = req.client_secret {
            check_client_secret(s)?;
        }
        if let Some(h) = req.secret_hash {
            checks::check_secret_hash(h)?;
        }
        if let Some(d) = req.device_key {
            check_device_key(d)?;
        }
        if let Some(m) = req.client_metadata {
            check_client_metadata(m)?;
        }
        let client = self.client(req.client_id)?;
        // R-SIGN-1: a client with a secret needs the secret or a valid SECRET_HASH.
        match (client.secret(), req.client_secret, req.secret_hash) {
            (None, None, None) => {}
            (None, _, _) => {
                return Err(Error::ClientHasNoSecret {
                    client_id: req.client_id.to_owned(),
                })
            }
            (Some(_), None, None) => {
                return Err(Error::ClientSecretMissing {
                    client_id: req.client_id.to_owned(),
                })
            }
            (Some(secret), presented, hash) => {
                let ok = presented.is_some_and(|p| secret.verify(p))
                    || hash
                        .is_some_and(|h| secret.verify_secret_hash(req.username, req.client_id, h));
                if !ok {
                    return Err(Error::ClientSecretMismatch {
                        client_id: req.client_id.to_owned(),
                    });
                }
            }
        }
        let user = self.current_user_by_username(req.username)?;
        let scopes: Arc<str> = match req.scopes {
            None => Arc::clone(&self.api_scope),
            Some(list) => {
                // Only scopes the client may grant: the API scope, or one of its AllowedOAuthScopes.
                let allowed = client.config().allowed_oauth_scopes();
                if let Some(s) = list
                    .iter()
                    .find(|s| s.as_str() != API_SIGN_IN_SCOPE && !allowed.contains(s))
                {
                    return Err(Error::InvalidParameter {
                        message: format!(
                            "Scope {} is not allowed for client {}",
                            s.chars().take(256).collect::<String>(),
                            req.client_id
                        ),
                    });
                }
                Arc::from(checks::join_scopes(list)?)
            }
        };
        let overrides = self.run_hook(
            TriggerSource::Authentication,
            &client,
            &user,
            req.client_metadata,
        )?;

        let [family_id, event_id]: [[u8; 16]; 2] = split_halves(random_array(&*self.rng)?);
        let family_id = FamilyId::from_bytes(family_id);
        let expires_at = now
            .checked_add_secs(client.config().refresh_token_validity_secs())
            .ok_or(Error::Internal {
                detail: "refresh token expiry overflows",
            })?;
        let (device_key, new_device) = match req.device_key {
            Some(d) => (Some(Box::from(d)), None),
            None if self.device_tracking => {
                let key = self.new_device_key()?;
                let meta = device_metadata(&key);
                (Some(Box::from(key.as_str())), Some(meta))
            }
            None => (None, None),
        };
        let family = Family {
            id: family_id,
            info: Arc::new(FamilyInfo {
                client_id: Arc::clone(client.client_id()),
                subject: Box::from(user.subject.as_str()),
                username: Box::from(user.username.as_str()),
                device_key,
                scopes,
                auth_time: now,
                event_id,
                expires_at,
            }),
            state: FamilyState::new(self.refresh_keys.current_key_id()),
        };
        let mut result = self.mint(
            &client,
            &family,
            &MintInput {
                user: &user,
                overrides,
            },
            now,
        )?;
        self.store.create(family)?;
        // A client deleted while this sign-in ran had its families revoked before this one existed
        // (R-REV-7): revoke it too, so that none of its JWTs passes store-backed verification.
        if self.registry.get(req.client_id).is_none() {
            self.store.revoke(&family_id)?;
            return Err(Error::ClientNotFound {
                client_id: req.client_id.to_owned(),
            });
        }
        result.refresh_token = Some(self.refresh_keys.encode(&family_id, 0).into_secret());
        result.new_device_metadata = new_device;
        Ok(result)
    }

    /// GetTokensFromRefreshToken (SPEC 5 and 6): the checks of R-REF-1 to R-REF-12, in that order.
    pub fn get_tokens_from_refresh_token(
        &self,
        req: &RefreshRequest<'_>,
    ) -> Result<AuthenticationResult, Error> {
        self.refresh_inner(req, None, None)
    }

    /// The legacy refresh flow: InitiateAuth / AdminInitiateAuth with `REFRESH_TOKEN_AUTH` or
    /// `REFRESH_TOKEN` (R-ROT-8). Needs `ALLOW_REFRESH_TOKEN_AUTH`; refused on a client with rotation
    /// enabled; otherwise behaves as R-ROT-6 and R-ROT-7.
    ///
    /// `secret_hash` is the SECRET_HASH auth parameter. Because it is computed over the username, which
    /// only the family knows, it is checked after the token (the one place where the order differs from
    /// R-REF-3/R-REF-4); it may be computed over the username or the `sub`, as Cognito accepts.
    pub fn initiate_auth_refresh(
        &self,
        refresh_token: &RefreshToken,
        client_id: &str,
        secret_hash: Option<&str>,
        device_key: Option<&str>,
        client_metadata: Option<&HashMap<String, String>>,
    ) -> Result<AuthenticationResult, Error> {
        check_client_id(client_id)?;
        if let Some(h) = secret_hash {
            checks::check_secret_hash(h)?;
        }
        // One snapshot of the client serves the whole request, so a concurrent Update cannot turn
        // rotation on between the check below and the refresh (R-ROT-8).
        let client = self.client(client_id)?;
        // Rotation first: such a client never has ALLOW_REFRESH_TOKEN_AUTH (R-CFG-7), and the caller is
        // better served by being pointed at GetTokensFromRefreshToken.
        if client.config().refresh_token_rotation().is_enabled() {
            return Err(Error::UseGetTokensFromRefreshToken {
                client_id: client_id.to_owned(),
            });
        }
        if !client.config().allows_refresh_token_auth() {
            return Err(Error::AuthFlowNotEnabled {
                flow: "REFRESH_TOKEN_AUTH".into(),
            });
        }
        if client.secret().is_none() && secret_hash.is_some() {
            return Err(Error::ClientHasNoSecret {
                client_id: client_id.to_owned(),
            });
        }
        let req = RefreshRequest {
            refresh_token,
            client_id,
            client_secret: None,
            device_key,
            client_metadata,
        };
        // The SECRET_HASH check needs the family's username: pass it down as a deferred check.
        self.refresh_inner(&req, Some(client), Some(secret_hash))
    }

    /// The refresh pipeline. `client` is a snapshot the caller already took (the legacy path), else the
    /// client is looked up here. `legacy_secret_hash` is `Some` on the legacy path: the client-secret
    /// check then happens against the family's username after the token checks.
    ///
    /// Order: the checks of R-REF-1 to R-REF-9 and the rotation decision only read; the hook may refuse
    /// (R-REF-11); then the one compare-and-set on the generation (R-REF-10); then the device binding
    /// or confirmation of R-REF-9, for an answer that will be given; then minting (R-REF-12).
    fn refresh_inner(
        &self,
        req: &RefreshRequest<'_>,
        client: Option<Arc<AppClient>>,
        legacy_secret_hash: Option<Option<&str>>,
    ) -> Result<AuthenticationResult, Error> {
        // R-REF-1: request shape.
        let token = req.refresh_token.expose_secret();
        checks::check_refresh_token_shape(token)?;
        check_client_id(req.client_id)?;
        if let Some(s) = req.client_secret {
            check_client_secret(s)?;
        }
        if let Some(d) = req.device_key {
            check_device_key(d)?;
        }
        if let Some(m) = req.client_metadata {
            check_client_metadata(m)?;
        }
        // R-REF-2: the client.
        let client = match client {
            Some(c) => c,
            None => self.client(req.client_id)?,
        };
        // R-REF-3: the client secret (the legacy flow defers it, see `initiate_auth_refresh`).
        if legacy_secret_hash.is_none() {
            self.check_secret(&client, req.client_secret)?;
        }
        // R-REF-4: token format and MAC, before any store access.
        let decoded = self
            .refresh_keys
            .decode(token)
            .map_err(|_| Error::InvalidRefreshToken)?;
        let (mut family, mut now) = self.read_family(&decoded)?;
        // R-REF-5: the client the family was issued to.
        if *family.info.client_id != *req.client_id {
            return Err(Error::RefreshTokenOfOtherClient);
        }
        if let Some(hash) = legacy_secret_hash {
            self.check_legacy_secret_hash(&client, &family.info, hash)?;
        }
        // R-REF-6 and R-REF-7.
        check_live(&family, now)?;
        // R-REF-8: the user as the directory knows them now.
        let user = self
            .directory
            .user_by_subject(&family.info.subject)?
            .ok_or(Error::UserNotFound)?;
        if !user.enabled {
            return Err(Error::UserDisabled);
        }
        // The rotation decision (R-REF-10) is a pure function of what was read.
        let rotation = client.config().refresh_token_rotation();
        let (rotation_on, grace) = (rotation.is_enabled(), rotation.retry_grace_period_seconds());
        let mut decision = decide(decoded.generation(), &family.state, rotation_on, grace, now);
        // R-REF-9.
        let device = self.check_device(&family, req.device_key)?;
        // R-REF-10.
        if decision == Decision::Reuse {
            return self.reuse(&family.id);
        }
        // R-REF-11: the hook may still refuse; nothing has been written yet.
        let overrides = self.run_hook(
            TriggerSource::RefreshTokens,
            &client,
            &user,
            req.client_metadata,
        )?;

        // The one write: at most two rounds, since a lost race moves the family past `presented`.
        let mut refresh_token = None;
        for _ in 0..2 {
            match decision {
                Decision::NoRotation => break,
                Decision::Reuse => return self.reuse(&family.id),
                Decision::Retry { successor } => {
                    // The successor as the advance issued it, under the key it recorded (R-ROT-10).
                    refresh_token = Some(
                        self.refresh_keys
                            .encode_with_key(family.state.key_id, &family.id, successor)
                            .ok_or(Error::InvalidRefreshToken)?,
                    );
                    break;
                }
                Decision::Advance { current } => {
                    let deadline =
                        now.checked_add_secs(u64::from(grace))
                            .ok_or(Error::Internal {
                                detail: "grace deadline overflows",
                            })?;
                    let key_id = self.refresh_keys.current_key_id();
                    match self.store.advance(&family.id, current, deadline, key_id)? {
                        Advance::Advanced(state) => {
                            family.state = state;
                            refresh_token =
                                Some(self.refresh_keys.encode(&family.id, state.generation));
                            break;
                        }
                        Advance::Unchanged(state) if state.revoked => {
                            return Err(Error::RefreshTokenRevoked)
                        }
                        Advance::Unchanged(state) if state.generation == current => {
                            // Only a generation at `u32::MAX` cannot advance.
                            return Err(Error::Internal {
                                detail: "refresh token generation exhausted",
                            });
                        }
                        // R-ROT-5: lost the race. Decide again from a fresh read, on a time taken after
                        // it (R-ROT-9): the winner's grace deadline is later than the time this request
                        // started with, so that time would make a grace-0 loser a retry.
                        Advance::Unchanged(_) => {
                            (family, now) = self.read_family(&decoded)?;
                            check_live(&family, now)?;
                            decision =
                                decide(decoded.generation(), &family.state, true, grace, now);
                        }
                        Advance::NotFound => return Err(Error::InvalidRefreshToken),
                    }
                }
            }
        }
        if matches!(decision, Decision::Advance { .. }) && refresh_token.is_none() {
            return Err(Error::Internal {
                detail: "rotation did not settle",
            });
        }
        // R-REF-9: now that an answer will be given, bind or confirm the device.
        let (family, new_device) = match (device, req.device_key) {
            (DeviceStep::Keep, _) => (family, None),
            (DeviceStep::Confirm, Some(key)) => {
                self.store.confirm_device(&family.id, key)?;
                (family, None)
            }
            (DeviceStep::Reannounce, _) => {
                let meta = family.info.device_key.as_deref().map(device_metadata);
                (family, meta)
            }
            (DeviceStep::Issue, _) => self.bind_new_device(family)?,
            (DeviceStep::Confirm, None) => {
                return Err(Error::Internal {
                    detail: "device confirmation without a device key",
                })
            }
        };
        // R-REF-12.
        let mut result = self.mint(
            &client,
            &family,
            &MintInput {
                user: &user,
                overrides,
            },
            now,
        )?;
        result.refresh_token = refresh_token.map(RefreshToken::into_secret);
        result.new_device_metadata = new_device;
        Ok(result)
    }

    /// Reads the family of a decoded token and the time of the decision: the store's, if it keeps the
    /// time, else the injected clock read after the store read (R-ROT-9, R-ROT-11). A token of an unknown
    /// family, or of a generation the family has not reached, is invalid (R-FAM-4).
    fn read_family(&self, decoded: &DecodedRefreshToken) -> Result<(Family, Timestamp), Error> {
        let read = self.store.read(&decoded.family())?;
        let now = read.time.unwrap_or_else(|| self.clock.now());
        let family = read.family.ok_or(Error::InvalidRefreshToken)?;
        if decoded.generation() > family.state.generation {
            return Err(Error::InvalidRefreshToken);
        }
        Ok((family, now))
    }

    /// RevokeToken (R-REV-1, R-REV-2).
    pub fn revoke_token(
        &self,
        token: &RefreshToken,
        client_id: &str,
        client_secret: Option<&str>,
    ) -> Result<(), Error> {
        let raw = token.expose_secret();
        checks::check_refresh_token_shape(raw)?;
        check_client_id(client_id)?;
        if let Some(s) = client_secret {
            check_client_secret(s)?;
        }
        let client = self.client(client_id)?;
        self.check_secret(&client, client_secret)?;
        if !client.config().enable_token_revocation() {
            return Err(Error::RevocationDisabled);
        }
        let decoded = match self.refresh_keys.decode(raw) {
            Ok(d) => d,
            Err(TokenRejection::Malformed) => return Err(Error::UnsupportedTokenType),
            // RFC 7009 §2.2: an invalid token is answered with success.
            Err(_) => return Ok(()),
        };
        let Some(family) = self.store.get(&decoded.family())? else {
            return Ok(());
        };
        if decoded.generation() > family.state.generation {
            return Ok(());
        }
        if *family.info.client_id != *client_id {
            return Err(Error::TokenOfOtherClient {
                client_id: client_id.to_owned(),
            });
        }
        if !family.state.revoked {
            self.store.revoke(&family.id)?;
        }
        Ok(())
    }

    /// Global sign-out of the user with this `sub`: revokes every family of theirs (R-REV-3). Returns how
    /// many live families were revoked.
    pub fn global_sign_out(&self, subject: &str) -> Result<usize, Error> {
        Ok(self.store.revoke_subject(subject)?)
    }

    /// Global sign-out by username (AdminUserGlobalSignOut). `UserNotFoundException` if there is no such
    /// user.
    pub fn global_sign_out_username(&self, username: &str) -> Result<usize, Error> {
        let user = self
            .directory
            .user_by_username(username)?
            .ok_or(Error::UserNotFound)?;
        self.global_sign_out(&user.subject)
    }

    /// Deletes up to `max` families whose absolute expiry is at least [`PurgeCutoff::MARGIN_SECS`] in
    /// the past (R-REV-4, R-REV-5, R-REV-6); call it until it returns less than `max`.
    ///
    /// The margin exists because the verifier learns that a JWT was revoked from its family's record
    /// (R-REV-2, R-JWT-6): an ID or access token minted just before the family expired may live one
    /// validity period (at most a day, R-CFG-3) past it, plus the verifier's leeway, and its family must
    /// still say "revoked" until then. Until it is purged, an expired family answers
    /// `Refresh Token has expired`.
    pub fn purge_expired(&self, max: usize) -> Result<usize, Error> {
        let cutoff = PurgeCutoff::at(self.clock.now()).ok_or(Error::Internal {
            detail: "purge cutoff underflows",
        })?;
        Ok(self.store.purge_expired(cutoff, max)?)
    }

    fn client(&self, client_id: &str) -> Result<Arc<AppClient>, Error> {
        self.registry
            .get(client_id)
            .ok_or_else(|| Error::ClientNotFound {
                client_id: client_id.to_owned(),
            })
    }

    /// R-REF-3.
    fn check_secret(&self, client: &AppClient, presented: Option<&str>) -> Result<(), Error> {
        let client_id = || client.client_id().to_string();
        match (client.secret(), presented) {
            (None, None) => Ok(()),
            (None, Some(_)) => Err(Error::ClientHasNoSecret {
                client_id: client_id(),
            }),
            (Some(_), None) => Err(Error::ClientSecretMissing {
                client_id: client_id(),
            }),
            (Some(secret), Some(p)) if secret.verify(p) => Ok(()),
            (Some(_), Some(_)) => Err(Error::ClientSecretMismatch {
                client_id: client_id(),
            }),
        }
    }

    fn check_legacy_secret_hash(
        &self,
        client: &AppClient,
        info: &FamilyInfo,
        hash: Option<&str>,
    ) -> Result<(), Error> {
        let client_id = client.client_id();
        match (client.secret(), hash) {
            (None, _) => Ok(()),
            (Some(_), None) => Err(Error::ClientSecretMissing {
                client_id: client_id.to_string(),
            }),
            (Some(secret), Some(h)) => {
                if secret.verify_secret_hash(&info.username, client_id, h)
                    || secret.verify_secret_hash(&info.subject, client_id, h)
                {
                    Ok(())
                } else {
                    Err(Error::ClientSecretMismatch {
                        client_id: client_id.to_string(),
                    })
                }
            }
        }
    }

    /// R-REF-9, the reading half. A pool that tracks no devices ignores them. A family bound to a
    /// confirmed device needs that DeviceKey, compared in constant time. A family bound to a device that
    /// no request has presented yet may be refreshed without it, and the device is announced again,
    /// because the answer that announced it may be the one that was lost. A pool that tracks devices
    /// issues one to an unbound family; a DeviceKey sent for an unbound family is not trusted to bind it.
    fn check_device(&self, family: &Family, presented: Option<&str>) -> Result<DeviceStep, Error> {
        if !self.device_tracking {
            return Ok(DeviceStep::Keep);
        }
        let Some(bound) = family.info.device_key.as_deref() else {
            return Ok(DeviceStep::Issue);
        };
        let confirmed = family.state.device_confirmed;
        match presented {
            Some(p) if constant_time_eq(bound.as_bytes(), p.as_bytes()) => Ok(if confirmed {
                DeviceStep::Keep
            } else {
                DeviceStep::Confirm
            }),
            None if !confirmed => Ok(DeviceStep::Reannounce),
            _ => Err(Error::InvalidRefreshToken),
        }
    }

    /// R-REF-9, the writing half: binds a new device, unconfirmed, and returns the family as bound, with
    /// the device to announce (the one bound, should another request have bound first).
    fn bind_new_device(
        &self,
        family: Family,
    ) -> Result<(Family, Option<NewDeviceMetadata>), Error> {
        let ours = self.new_device_key()?;
        let bound = self
            .store
            .bind_device(&family.id, &ours)?
            .ok_or(Error::InvalidRefreshToken)?;
        let meta = bound
            .info
            .device_key
            .as_deref()
            .map(device_metadata)
            .ok_or(Error::Internal {
                detail: "store did not bind the device",
            })?;
        Ok((bound, Some(meta)))
    }

    /// A new device key, `<region>_<uuid>` as Cognito writes them.
    fn new_device_key(&self) -> Result<String, Error> {
        Ok(format!(
            "{}_{}",
            self.region,
            uuid_string(random_array(&*self.rng)?)
        ))
    }

    /// R-ROT-4 / R-ROT-7, with the reuse policy.
    fn reuse(&self, family: &FamilyId) -> Result<AuthenticationResult, Error> {
        if self.reuse_policy == ReusePolicy::RevokeFamily {
            self.store.revoke(family)?;
        }
        Err(Error::RefreshTokenReused)
    }

    fn current_user_by_username(&self, username: &str) -> Result<Arc<UserRecord>, Error> {
        let user = self
            .directory
            .user_by_username(username)?
            .ok_or(Error::UserNotFound)?;
        if !user.enabled {
            return Err(Error::UserDisabled);
        }
        Ok(user)
    }

    /// R-REF-11.
    fn run_hook(
        &self,
        trigger: TriggerSource,
        client: &AppClient,
        user: &UserRecord,
        client_metadata: Option<&HashMap<String, String>>,
    ) -> Result<Option<ClaimsOverride>, Error> {
        let Some(hook) = &self.hook else {
            return Ok(None);
        };
        let empty = HashMap::new();
        let event = PreTokenGenerationEvent {
            trigger_source: trigger,
            client_id: client.client_id(),
            username: &user.username,
            subject: &user.subject,
            user_attributes: &user.attributes,
            groups: &user.groups,
            client_metadata: client_metadata.unwrap_or(&empty),
        };
        hook.pre_token_generation(&event)
            .map(Some)
            .map_err(|message| Error::HookRejected { message })
    }

    /// R-REF-12, R-JWT-2, R-JWT-3: new ID and access tokens for `family`.
    fn mint(
        &self,
        client: &AppClient,
        family: &Family,
        input: &MintInput<'_>,
        now: Timestamp,
    ) -> Result<AuthenticationResult, Error> {
        let cfg = client.config();
        let access_secs = cfg.access_token_validity_secs();
        let overflow = Error::Internal {
            detail: "token expiry overflows",
        };
        let access_exp = now
            .checked_add_secs(access_secs)
            .ok_or_else(|| overflow.clone())?;
        let id_exp = now
            .checked_add_secs(cfg.id_token_validity_secs())
            .ok_or(overflow)?;
        // Formatted on the stack: four UUIDs per token set would otherwise be four allocations.
        let origin_jti = hyphenated_text(family.id.as_bytes());
        let event_id = uuid_text(family.info.event_id);
        let [access_jti, id_jti] = split_halves(random_array(&*self.rng)?);
        let (access_jti, id_jti) = (uuid_text(access_jti), uuid_text(id_jti));
        let (origin_jti, event_id) = (origin_jti.as_str(), event_id.as_str());

        let user = input.user;
        let overrides = input.overrides.as_ref();
        let groups: &[String] = overrides
            .and_then(|o| o.groups_to_override.as_deref())
            .unwrap_or(&user.groups);
        // Suppression is the hook's slow path: only then is a filtered copy of the attributes made.
        let filtered;
        let attributes = match overrides {
            Some(o) if !o.claims_to_suppress.is_empty() => {
                let mut a = user.attributes.clone();
                a.retain(|k, _| !o.claims_to_suppress.contains(k));
                filtered = a;
                &filtered
            }
            _ => &user.attributes,
        };
        let extra = overrides
            .map(|o| &o.claims_to_add_or_override)
            .filter(|m| !m.is_empty());

        let access = AccessTokenClaims {
            sub: &user.subject,
            iss: &self.issuer_url,
            client_id: client.client_id(),
            origin_jti,
            event_id,
            scope: &family.info.scopes,
            auth_time: family.info.auth_time.unix_seconds(),
            exp: access_exp.unix_seconds(),
            iat: now.unix_seconds(),
            jti: access_jti.as_str(),
            username: &user.username,
            groups,
            device_key: family.info.device_key.as_deref(),
            extra: None,
        };
        let id = IdTokenClaims {
            sub: &user.subject,
            iss: &self.issuer_url,
            aud: client.client_id(),
            username: &user.username,
            origin_jti,
            event_id,
            auth_time: family.info.auth_time.unix_seconds(),
            exp: id_exp.unix_seconds(),
            iat: now.unix_seconds(),
            jti: id_jti.as_str(),
            groups,
            attributes,
            extra,
        };
        Ok(AuthenticationResult {
            access_token: self.signer.sign_access_token(&access)?,
            expires_in: access_secs,
            token_type: "Bearer".to_owned(),
            refresh_token: None,
            id_token: self.signer.sign_id_token(&id)?,
            new_device_metadata: None,
        })
    }
}

/// R-REF-6 and R-REF-7, at the time of the decision.
fn check_live(family: &Family, now: Timestamp) -> Result<(), Error> {
    if family.state.revoked {
        return Err(Error::RefreshTokenRevoked);
    }
    if now >= family.info.expires_at {
        return Err(Error::RefreshTokenExpired);
    }
    Ok(())
}

/// The NewDeviceMetadata announcing `device_key`. The DeviceGroupKey is derived from the device key, so
/// every answer that announces one device announces the same pair.
fn device_metadata(device_key: &str) -> NewDeviceMetadata {
    let digest = ring::digest::digest(&ring::digest::SHA256, device_key.as_bytes());
    let group: String = digest
        .as_ref()
        .iter()
        .take(9)
        .map(|b| {
            char::from(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
                    [usize::from(*b) % 62],
            )
        })
        .collect();
    NewDeviceMetadata {
        device_key: device_key.to_owned(),
        device_group_key: format!("-{group}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(generation: u32, grace_deadline: i64) -> FamilyState {
        FamilyState {
            generation,
            grace_deadline: Timestamp::from_unix_seconds(grace_deadline),
            ..FamilyState::new(1)
        }
    }

    #[test]
    fn decision_table_matches_spec_section_6() {
        let now = Timestamp::from_unix_seconds(100);
        // R-ROT-1
        assert_eq!(
            decide(3, &state(3, 0), true, 10, now),
            Decision::Advance { current: 3 }
        );
        // R-ROT-2: inside the window (now < d)
        assert_eq!(
            decide(2, &state(3, 101), true, 10, now),
            Decision::Retry { successor: 3 }
        );
        // grace 0 means d == now at the advance: closed at once
        assert_eq!(decide(2, &state(3, 100), true, 10, now), Decision::Reuse);
        // R-ROT-3/R-ROT-4: two generations behind, even inside the window
        assert_eq!(decide(1, &state(3, 1_000), true, 10, now), Decision::Reuse);
        // R-ROT-6, R-ROT-7
        assert_eq!(
            decide(3, &state(3, 0), false, 10, now),
            Decision::NoRotation
        );
        assert_eq!(decide(2, &state(3, 1_000), false, 10, now), Decision::Reuse);
    }

    #[test]
    fn r_rot_9_with_grace_0_nothing_is_a_retry_whatever_the_clocks_say() {
        // A deadline in the future of `now` (a clock read before the winner's advance) must not make
        // a presentation of c - 1 a retry when the client's grace period is 0.
        let now = Timestamp::from_unix_seconds(100);
        assert_eq!(decide(2, &state(3, 105), true, 0, now), Decision::Reuse);
        assert_eq!(
            decide(2, &state(3, 105), true, 5, now),
            Decision::Retry { successor: 3 }
        );
    }
}
