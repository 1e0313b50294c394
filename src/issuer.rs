//! The token issuer: sign-in, GetTokensFromRefreshToken, the legacy refresh flow, RevokeToken and global
//! sign-out for one user pool (SPEC 4 to 7).
//!
//! The issuer performs no I/O of its own. Time, randomness, the family store, the user directory and the
//! client registry come in as trait objects; every operation reads the clock once and works from that
//! `now`.
//!
//! A refresh is ordered so that it either advances the family and returns its successor, or changes
//! nothing: the checks of R-REF-1 to R-REF-9 and the rotation decision only read; the hook runs and both
//! JWTs are signed (they do not depend on the generation); only then does the one compare-and-set on the
//! generation happen. A failure anywhere before it leaves the family untouched, and the loser of a race is
//! answered from the state the winner wrote (R-ROT-5).

use std::collections::HashMap;
use std::sync::Arc;

use crate::clock::{Clock, Timestamp};
use crate::config::ExplicitAuthFlow;
use crate::directory::{UserDirectory, UserRecord};
use crate::error::Error;
use crate::hook::{ClaimsOverride, PreTokenGenerationEvent, PreTokenGenerationHook, TriggerSource};
use crate::jwt::{AccessTokenClaims, IdTokenClaims, TokenSigner};
use crate::random::{random_array, random_string, uuid_string, RandomSource};
use crate::registry::{AppClient, ClientRegistry};
use crate::store::{Advance, Family, FamilyId, FamilyInfo, FamilyState, RefreshTokenStore};
use crate::token::{RefreshTokenKeys, TokenRejection};
use crate::wire::{AuthenticationResult, NewDeviceMetadata};
use crate::RefreshToken;

mod checks;

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

    /// Finishes the issuer.
    pub fn build(self) -> TokenIssuer {
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
            rng: self.rng,
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
    /// Scopes to grant, space-separated in the access token. Defaults to
    /// `aws.cognito.signin.user.admin`, as for API sign-ins.
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

fn decide(presented: u32, state: &FamilyState, rotation_on: bool, now: Timestamp) -> Decision {
    let current = state.generation;
    if presented == current {
        return if rotation_on {
            Decision::Advance { current }
        } else {
            Decision::NoRotation
        };
    }
    // `presented < current` here: the caller has refused generations from the future (R-FAM-4).
    if rotation_on && presented.checked_add(1) == Some(current) && now < state.grace_deadline {
        return Decision::Retry { successor: current };
    }
    Decision::Reuse
}

/// Issues and refreshes tokens for one user pool.
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
            Some(list) => Arc::from(checks::join_scopes(list)?),
        };
        let overrides = self.run_hook(
            TriggerSource::Authentication,
            &client,
            &user,
            req.client_metadata,
        )?;

        let family_id = FamilyId::from_bytes(random_array(&*self.rng)?);
        let event_id: [u8; 16] = random_array(&*self.rng)?;
        let expires_at = now
            .checked_add_secs(client.config().refresh_token_validity_secs())
            .ok_or(Error::Internal {
                detail: "refresh token expiry overflows",
            })?;
        let (device_key, new_device) = match req.device_key {
            Some(d) => (Some(Box::from(d)), None),
            None if self.device_tracking => {
                let meta = self.new_device()?;
                (Some(Box::from(meta.device_key.as_str())), Some(meta))
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
            state: FamilyState::NEW,
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
        result.refresh_token = Some(self.refresh_keys.encode(&family_id, 0).into_secret());
        result.new_device_metadata = new_device;
        Ok(result)
    }

    /// GetTokensFromRefreshToken (SPEC 5 and 6): the checks of R-REF-1 to R-REF-12, in that order.
    pub fn get_tokens_from_refresh_token(
        &self,
        req: &RefreshRequest<'_>,
    ) -> Result<AuthenticationResult, Error> {
        self.refresh_inner(req, TriggerSource::RefreshTokens, None)
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
        let client = self.client(client_id)?;
        // Rotation first: such a client never has ALLOW_REFRESH_TOKEN_AUTH (R-CFG-7), and the caller is
        // better served by being pointed at GetTokensFromRefreshToken.
        if client.config().refresh_token_rotation().is_enabled() {
            return Err(Error::UseGetTokensFromRefreshToken {
                client_id: client_id.to_owned(),
            });
        }
        if !client
            .config()
            .allows_flow(ExplicitAuthFlow::AllowRefreshTokenAuth)
        {
            return Err(Error::AuthFlowNotEnabled {
                flow: "REFRESH_TOKEN_AUTH".into(),
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
        self.refresh_inner(&req, TriggerSource::RefreshTokens, Some(secret_hash))
    }

    /// The refresh pipeline. `legacy_secret_hash` is `Some` on the legacy path: the client-secret check
    /// then happens against the family's username after the token checks.
    fn refresh_inner(
        &self,
        req: &RefreshRequest<'_>,
        trigger: TriggerSource,
        legacy_secret_hash: Option<Option<&str>>,
    ) -> Result<AuthenticationResult, Error> {
        let now = self.clock.now();
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
        let client = self.client(req.client_id)?;
        // R-REF-3: the client secret (the legacy flow defers it, see `initiate_auth_refresh`).
        if legacy_secret_hash.is_none() {
            self.check_secret(&client, req.client_secret)?;
        }
        // R-REF-4: token format and MAC, before any store access.
        let decoded = self
            .refresh_keys
            .decode(token)
            .map_err(|_| Error::InvalidRefreshToken)?;
        let family = self
            .store
            .get(&decoded.family())?
            .ok_or(Error::InvalidRefreshToken)?;
        if decoded.generation() > family.state.generation {
            return Err(Error::InvalidRefreshToken);
        }
        // R-REF-5: the client the family was issued to.
        if *family.info.client_id != *req.client_id {
            return Err(Error::RefreshTokenOfOtherClient);
        }
        if let Some(hash) = legacy_secret_hash {
            self.check_legacy_secret_hash(&client, &family.info, hash)?;
        }
        // R-REF-6 and R-REF-7.
        if family.state.revoked {
            return Err(Error::RefreshTokenRevoked);
        }
        if now >= family.info.expires_at {
            return Err(Error::RefreshTokenExpired);
        }
        // R-REF-8: the user as the directory knows them now.
        let user = self
            .directory
            .user_by_subject(&family.info.subject)?
            .ok_or(Error::UserNotFound)?;
        if !user.enabled {
            return Err(Error::UserDisabled);
        }
        // R-REF-9: the device.
        let (family, new_device) = self.check_device(family, req.device_key)?;
        // R-REF-10: rotation, decided by the client's configuration now (R-CLI-8).
        let rotation = client.config().refresh_token_rotation();
        let mut decision = decide(
            decoded.generation(),
            &family.state,
            rotation.is_enabled(),
            now,
        );
        if decision == Decision::Reuse {
            return self.reuse(&family.id);
        }
        // R-REF-11 and R-REF-12: hook, then both JWTs, before anything is written.
        let overrides = self.run_hook(trigger, &client, &user, req.client_metadata)?;
        let mut result = self.mint(
            &client,
            &family,
            &MintInput {
                user: &user,
                overrides,
            },
            now,
        )?;
        result.new_device_metadata = new_device;

        // The one write: at most two rounds, since a lost race moves the family past `presented`.
        for _ in 0..2 {
            match decision {
                Decision::NoRotation => return Ok(result),
                Decision::Reuse => return self.reuse(&family.id),
                Decision::Retry { successor } => {
                    result.refresh_token = Some(
                        self.refresh_keys
                            .encode(&family.id, successor)
                            .into_secret(),
                    );
                    return Ok(result);
                }
                Decision::Advance { current } => {
                    let deadline = now
                        .checked_add_secs(u64::from(rotation.retry_grace_period_seconds()))
                        .ok_or(Error::Internal {
                            detail: "grace deadline overflows",
                        })?;
                    match self.store.advance(&family.id, current, deadline)? {
                        Advance::Advanced(state) => {
                            result.refresh_token = Some(
                                self.refresh_keys
                                    .encode(&family.id, state.generation)
                                    .into_secret(),
                            );
                            return Ok(result);
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
                        // R-ROT-5: lost the race; answer from the winner's state.
                        Advance::Unchanged(state) => {
                            decision = decide(decoded.generation(), &state, true, now);
                        }
                        Advance::NotFound => return Err(Error::InvalidRefreshToken),
                    }
                }
            }
        }
        Err(Error::Internal {
            detail: "rotation did not settle",
        })
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

    /// Deletes up to `max` families past their absolute expiry (R-REV-4, R-REV-5).
    pub fn purge_expired(&self, max: usize) -> Result<usize, Error> {
        Ok(self.store.purge_expired(self.clock.now(), max)?)
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

    /// R-REF-9. Returns the family (rebound if a device was issued) and the device to announce.
    fn check_device(
        &self,
        family: Family,
        presented: Option<&str>,
    ) -> Result<(Family, Option<NewDeviceMetadata>), Error> {
        if let Some(bound) = family.info.device_key.as_deref() {
            // A bound family needs its device; compared in constant time like any credential.
            let ok = presented.is_some_and(|p| crate::ClientSecret::new(bound).verify(p));
            return if ok {
                Ok((family, None))
            } else {
                Err(Error::InvalidRefreshToken)
            };
        }
        if !self.device_tracking {
            // Without device tracking, a DeviceKey in the request is ignored.
            return Ok((family, None));
        }
        let meta = self.new_device()?;
        let rebound = self
            .store
            .bind_device(&family.id, &meta.device_key)?
            .ok_or(Error::InvalidRefreshToken)?;
        // Another request may have bound its device first: announce whichever device is bound.
        let announced = match rebound.info.device_key.as_deref() {
            Some(k) if k == meta.device_key => meta,
            Some(k) => NewDeviceMetadata {
                device_key: k.to_owned(),
                device_group_key: meta.device_group_key,
            },
            None => {
                return Err(Error::Internal {
                    detail: "store did not bind the device",
                })
            }
        };
        Ok((rebound, Some(announced)))
    }

    fn new_device(&self) -> Result<NewDeviceMetadata, Error> {
        let id = uuid_string(random_array(&*self.rng)?);
        let group = random_string(
            &*self.rng,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            9,
        )?;
        Ok(NewDeviceMetadata {
            device_key: format!("{}_{}", self.region, id),
            device_group_key: format!("-{group}"),
        })
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
        let origin_jti = family.id.to_uuid_string();
        let event_id = uuid_string(family.info.event_id);
        let access_jti = uuid_string(random_array(&*self.rng)?);
        let id_jti = uuid_string(random_array(&*self.rng)?);

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
            origin_jti: &origin_jti,
            event_id: &event_id,
            scope: &family.info.scopes,
            auth_time: family.info.auth_time.unix_seconds(),
            exp: access_exp.unix_seconds(),
            iat: now.unix_seconds(),
            jti: &access_jti,
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
            origin_jti: &origin_jti,
            event_id: &event_id,
            auth_time: family.info.auth_time.unix_seconds(),
            exp: id_exp.unix_seconds(),
            iat: now.unix_seconds(),
            jti: &id_jti,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn state(generation: u32, grace_deadline: i64) -> FamilyState {
        FamilyState {
            generation,
            grace_deadline: Timestamp::from_unix_seconds(grace_deadline),
            revoked: false,
        }
    }

    #[test]
    fn decision_table_matches_spec_section_6() {
        let now = Timestamp::from_unix_seconds(100);
        // R-ROT-1
        assert_eq!(
            decide(3, &state(3, 0), true, now),
            Decision::Advance { current: 3 }
        );
        // R-ROT-2: inside the window (now < d)
        assert_eq!(
            decide(2, &state(3, 101), true, now),
            Decision::Retry { successor: 3 }
        );
        // grace 0 means d == now at the advance: closed at once
        assert_eq!(decide(2, &state(3, 100), true, now), Decision::Reuse);
        // R-ROT-3/R-ROT-4: two generations behind, even inside the window
        assert_eq!(decide(1, &state(3, 1_000), true, now), Decision::Reuse);
        // R-ROT-6, R-ROT-7
        assert_eq!(decide(3, &state(3, 0), false, now), Decision::NoRotation);
        assert_eq!(decide(2, &state(3, 1_000), false, now), Decision::Reuse);
    }
}
