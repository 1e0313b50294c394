//! The engine: every rule of sign-in, GetTokensFromRefreshToken, the legacy refresh flow, RevokeToken
//! (sections 4 to 7 of the behaviour contract) and introspection (R-OAUTH-7), decided without any I/O
//! (R-ENG-1).
//!
//! An operation is a small state machine, after the manner of rustls and quinn-proto: the engine says
//! what it needs next ([`Need`]: a client, a family as stored, a user, the hook's answer, a
//! compare-and-set), the driver performs it, synchronously or asynchronously, and feeds the result back
//! ([`Input`]); at the end the engine hands over the answer. The engine holds the pool's keys and
//! settings and mints the JWTs; time, the stores, the user directory and the hook stay with the driver.
//! So every rule lives here once, and a driver is a loop of a few dozen lines:
//!
//! ```text
//! let mut flow = engine.refresh(&request);
//! let mut input = Input::Start;
//! loop {
//!     input = match flow.next(input) {
//!         Need::Client(id) => Input::Client(clients.get(id)?),
//!         Need::Family(id) => Input::Family { read: store.read(&id)?, host_time: clock.now() },
//!         ...
//!         Need::Done(result) => return result,
//!     };
//! }
//! ```
//!
//! After [`Need::Done`] the flow's [`Report`] says what the operation came to (its [`Outcome`], the
//! family, the security events it caused), for the driver to trace, count and hand to the host's sink
//! (R-OPS-1 to R-OPS-3): the classification is the engine's, the emitting the driver's.
//!
//! Keys live in a [`KeyRing`] that can change while the engine serves (R-OPS-4); each flow
//! takes one snapshot when it starts and uses it to the end.
//!
//! A store error ends the operation in the driver. Every refusal the engine decides happens before the
//! first write, except where a rule says otherwise (the reuse policy's revocation, R-ROT-4).

// Time, generation and counter arithmetic here is checked (R-SAFE-4): no silent wrap.
#![deny(clippy::arithmetic_side_effects)]

use std::sync::Arc;

use crate::client::AppClient;
use crate::clock::Timestamp;
use crate::directory::UserRecord;
use crate::error::Error;
use crate::hook::{ClaimsOverride, PreTokenGenerationEvent};
use crate::jwt::TokenSigner;
use crate::keyring::KeyRing;
use crate::random::{BufferedRandom, RandomSource};
use crate::secret::RefreshToken;
use crate::store::{Advance, Family, FamilyId, FamilyRead, PurgeCutoff, ReadWitness};
use crate::token::RefreshTokenKeys;

pub(crate) mod checks;
mod client_auth;
mod device;
mod global_sign_out;
mod ids;
mod introspect;
mod mint;
mod refresh;
mod report;
mod requests;
mod revoke;
mod sign_in;

pub use crate::policy::ReusePolicy;
pub use device::NewDevice;
pub use global_sign_out::GlobalSignOutFlow;
pub use ids::{ClientId, DeviceKey, PresentedSecret, SecretHash};
pub use introspect::{ActiveToken, IntrospectFlow, IntrospectedTokenType, Introspection};
pub use refresh::RefreshFlow;
pub use report::{Operation, Outcome, Report};
pub use requests::{LegacyRefreshRequest, RefreshRequest, SignInRequest};
pub use revoke::RevokeFlow;
pub use sign_in::SignInFlow;

/// The scope of tokens issued to API sign-ins (R-JWT-2).
pub(crate) const API_SIGN_IN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// The answer to a sign-in or a refresh (R-SIGN-3, R-REF-12): the crate's own result type, which the
/// adapters render (Cognito's `AuthenticationResult`, an OAuth 2.0 token response).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSet {
    /// The access token (R-JWT-2).
    pub access_token: String,
    /// The ID token (R-JWT-3).
    pub id_token: String,
    /// The refresh token: after a sign-in, and after a refresh that rotated (R-ROT-1, R-ROT-2); `None`
    /// after a refresh without rotation (R-ROT-6).
    pub refresh_token: Option<RefreshToken>,
    /// The access token's lifetime in seconds (`ExpiresIn`, `expires_in`).
    pub expires_in: u64,
    /// The device this answer announces, if device tracking issued one (R-REF-9).
    pub new_device: Option<NewDevice>,
}

impl TokenSet {
    /// The token type: always `Bearer`.
    pub const TOKEN_TYPE: &'static str = "Bearer";
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"[REDACTED]")
            .field("id_token", &"[REDACTED]")
            .field("refresh_token", &self.refresh_token)
            .field("expires_in", &self.expires_in)
            .field("new_device", &self.new_device)
            .finish()
    }
}

/// What a flow needs from its driver next. `T` is the flow's answer.
#[derive(Debug)]
pub enum Need<'f, T> {
    /// The app client with this id, or `None` if there is none: answer [`Input::Client`].
    Client(&'f str),
    /// A read of this family: answer [`Input::Family`] with the store's read and the host's clock
    /// read after it (R-ROT-9).
    Family(FamilyId),
    /// The app client with this id and a read of this family, which a store may answer in one round
    /// trip (R-PER-5): answer [`Input::ClientAndFamily`]. The family's id comes from a refresh token
    /// whose MAC has been verified; the engine checks the client before it looks at the family.
    ClientAndFamily {
        /// The client's id.
        client_id: &'f str,
        /// The family to read.
        family: FamilyId,
        /// `true`: read them; an answer from the store's memory
        /// ([`remembered`](crate::store::AsyncRefreshTokenStore::remembered)) will not do. Set when an
        /// answer from memory did not lead to an advance, and for an engine with a hook. After a
        /// witnessed advance that did not happen, the read it made
        /// ([`WitnessedAdvance::read`](crate::store::WitnessedAdvance::read)) is such a read.
        fresh: bool,
    },
    /// The user with this `sub`: answer [`Input::User`].
    UserBySubject(&'f str),
    /// The user with this username: answer [`Input::User`].
    UserByUsername(&'f str),
    /// The pre-token-generation hook's answer to this event (R-REF-11): answer [`Input::Hook`]. Asked
    /// only of an engine built with a hook.
    Hook(PreTokenGenerationEvent<'f>),
    /// Store this new family: answer [`Input::Created`].
    CreateFamily(Family),
    /// The compare-and-set of a rotation (R-ROT-1, R-ROT-10): answer [`Input::Advanced`].
    Advance {
        /// The family.
        family: FamilyId,
        /// The generation it must still be at.
        expected: u32,
        /// The grace deadline of the generation it leaves.
        grace_deadline: Timestamp,
        /// The refresh-token key id of the generation it reaches.
        key_id: u32,
        /// For a decision on an answer from the store's memory, its witness: advance with
        /// [`advance_witnessed`](crate::store::AsyncRefreshTokenStore::advance_witnessed).
        witness: Option<ReadWitness>,
    },
    /// Bind this device, unconfirmed, if the family has none (R-REF-9): answer [`Input::DeviceBound`].
    BindDevice {
        /// The family.
        family: FamilyId,
        /// The device key to bind.
        device_key: &'f str,
    },
    /// Confirm the family's device (R-REF-9): answer [`Input::DeviceConfirmed`].
    ConfirmDevice {
        /// The family.
        family: FamilyId,
        /// Its device key.
        device_key: &'f str,
    },
    /// Revoke this family (R-REV-2, R-ROT-4 with [`ReusePolicy::RevokeFamily`], R-REV-7): answer
    /// [`Input::Revoked`].
    Revoke(FamilyId),
    /// Revoke every family of the user with this `sub` (R-REV-3): answer [`Input::RevokedSubject`].
    RevokeSubject(&'f str),
    /// The operation is over.
    Done(Result<T, Error>),
}

/// What the driver feeds a flow: [`Input::Start`] first, then the answer to each [`Need`].
#[derive(Debug)]
pub enum Input {
    /// The first call.
    Start,
    /// The app client asked for, if it exists.
    Client(Option<Arc<AppClient>>),
    /// The family asked for, as the store read it, and the host's clock read after that read.
    Family {
        /// The store's answer (with the store's time, if it keeps it, R-ROT-11).
        read: FamilyRead,
        /// The host's clock, read after the store read.
        host_time: Timestamp,
    },
    /// The client and the family asked for together.
    ClientAndFamily {
        /// The app client, if it exists.
        client: Option<Arc<AppClient>>,
        /// The store's read of the family (with the store's time, if it keeps it, R-ROT-11), or the
        /// store's failure: the engine reports it only after the client's checks, so that a request
        /// from an unknown or unauthenticated client gets the answer it would have got on its own.
        read: Result<FamilyRead, Error>,
        /// The host's clock, read after the family read.
        host_time: Timestamp,
        /// The family's user, if the store read it with the family (see
        /// [`FamilyAndClient::user`](crate::store::FamilyAndClient::user)); `None` and the engine asks
        /// for the user by `sub`.
        user: Option<Option<Arc<UserRecord>>>,
        /// The witness of an answer from the store's memory, `None` for a read.
        witness: Option<ReadWitness>,
    },
    /// The user asked for, if the directory knows them.
    User(Option<Arc<UserRecord>>),
    /// The hook's answer: the override, or a refusal with its message.
    Hook(Result<ClaimsOverride, String>),
    /// The family was stored.
    Created,
    /// The outcome of the compare-and-set.
    Advanced(Advance),
    /// The family after the bind, `None` if it has gone.
    DeviceBound(Option<Family>),
    /// Whether the device is now confirmed.
    DeviceConfirmed(bool),
    /// Whether the family was live before the revocation.
    Revoked(bool),
    /// How many live families the revocation of a user's families revoked.
    RevokedSubject(usize),
}

/// An operation in progress. Drivers run any flow with one loop: feed [`Input::Start`], then the answer
/// to each [`Need`], until [`Need::Done`].
pub trait Flow {
    /// The operation's answer.
    type Output;

    /// Feeds the answer to the previous [`Need`] (or [`Input::Start`]) and returns the next one.
    fn next(&mut self, input: Input) -> Need<'_, Self::Output>;

    /// What the operation came to (R-OPS-1 to R-OPS-3): complete once the flow answered [`Need::Done`],
    /// or once the driver stopped it on an error of its own.
    fn report(&mut self) -> &mut Report;
}

/// The error a flow answers to an input it did not ask for: a bug in the driver.
fn out_of_order<'f, T>() -> Need<'f, T> {
    Need::Done(Err(Error::Internal {
        detail: "driver answered a step the engine did not ask for",
    }))
}

/// One user pool's keys and settings, and every rule of its token operations (R-ENG-1).
///
/// Build one through a driver's builder ([`TokenIssuerBuilder`](crate::driver::TokenIssuerBuilder)); a driver
/// holds it and runs its flows.
pub struct Engine {
    /// What device keys start with: the region, made to fit DeviceKeyType ([`device_key_prefix`]).
    device_prefix: Box<str>,
    issuer_url: Box<str>,
    keys: KeyRing,
    rng: BufferedRandom,
    device_tracking: bool,
    reuse_policy: ReusePolicy,
    hook: bool,
    api_scope: Arc<str>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("issuer_url", &self.issuer_url)
            .field("device_tracking", &self.device_tracking)
            .field("reuse_policy", &self.reuse_policy)
            .field("hook", &self.hook)
            .finish_non_exhaustive()
    }
}

/// The longest region a device key can start with: DeviceKeyType allows 55 characters, and `_` and a
/// UUID take 37.
const MAX_DEVICE_REGION: usize = 55 - 37;

/// The start of every device key the pool issues, `<region>_<uuid>` as Cognito writes them (R-REF-9):
/// the region, with any character outside `[A-Za-z0-9_-]` made `-` and cut to 18 characters (a
/// Cognito region has at most 14), so that every key issued matches DeviceKeyType and the client can
/// present it again. An empty region gives `device`.
fn device_key_prefix(region: &str) -> Box<str> {
    let prefix: String = region
        .chars()
        .take(MAX_DEVICE_REGION)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if prefix.is_empty() {
        "device".into()
    } else {
        prefix.into_boxed_str()
    }
}

/// An engine's settings, from a driver's builder.
pub(crate) struct EngineSettings {
    pub(crate) region: String,
    pub(crate) issuer_url: String,
    pub(crate) signer: TokenSigner,
    pub(crate) refresh_keys: RefreshTokenKeys,
    pub(crate) rng: Arc<dyn RandomSource>,
    pub(crate) device_tracking: bool,
    pub(crate) reuse_policy: ReusePolicy,
    pub(crate) hook: bool,
}

impl Engine {
    pub(crate) fn new(s: EngineSettings) -> Engine {
        Engine {
            device_prefix: device_key_prefix(&s.region),
            issuer_url: s.issuer_url.into_boxed_str(),
            keys: KeyRing::new(s.signer, s.refresh_keys),
            // One `getrandom` per 16 token sets instead of two per token set: see `BufferedRandom`.
            rng: BufferedRandom::new(s.rng),
            device_tracking: s.device_tracking,
            reuse_policy: s.reuse_policy,
            hook: s.hook,
            api_scope: Arc::from(API_SIGN_IN_SCOPE),
        }
    }

    /// The issuer URL (`iss`, R-JWT-4).
    pub fn issuer_url(&self) -> &str {
        &self.issuer_url
    }

    /// The live keys (R-OPS-4): rotate them here while the engine serves.
    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// The signer now, for the JWKS (R-JWT-5) and for building a verifier.
    pub fn signer(&self) -> Arc<TokenSigner> {
        self.keys.signer()
    }

    /// The refresh-token key ring now (R-FAM-6).
    pub fn refresh_keys(&self) -> Arc<RefreshTokenKeys> {
        self.keys.refresh_keys()
    }

    /// The reuse policy (R-ROT-4).
    pub fn reuse_policy(&self) -> ReusePolicy {
        self.reuse_policy
    }

    /// Starts a sign-in (SPEC 4) at `now`.
    pub fn sign_in<'r>(&'r self, req: &SignInRequest<'r>, now: Timestamp) -> SignInFlow<'r> {
        SignInFlow::new(self, *req, now)
    }

    /// Starts a GetTokensFromRefreshToken (SPEC 5 and 6).
    pub fn refresh<'r>(&'r self, req: &RefreshRequest<'r>) -> RefreshFlow<'r> {
        RefreshFlow::new(self, *req, None)
    }

    /// Starts a legacy refresh: InitiateAuth / AdminInitiateAuth with `REFRESH_TOKEN_AUTH` (R-ROT-8).
    pub fn legacy_refresh<'r>(&'r self, req: &LegacyRefreshRequest<'r>) -> RefreshFlow<'r> {
        RefreshFlow::new(self, req.as_refresh(), Some(req.secret_hash))
    }

    /// Starts a RevokeToken (R-REV-1, R-REV-2).
    pub fn revoke<'r>(
        &'r self,
        token: &'r RefreshToken,
        client_id: ClientId<'r>,
        client_secret: Option<PresentedSecret<'r>>,
    ) -> RevokeFlow<'r> {
        RevokeFlow::new(self, token, client_id, client_secret)
    }

    /// Starts an introspection of `token` (any token: refresh, access or ID) by the client `client_id`
    /// (R-OAUTH-7). The client authenticates as for a refresh (R-REF-3); the token's state is then
    /// read, never written, and judged at the store's time when it keeps one, else at the host's time
    /// the driver hands in with the read (R-ROT-11).
    pub fn introspect<'r>(
        &'r self,
        token: &'r str,
        client_id: ClientId<'r>,
        client_secret: Option<PresentedSecret<'r>>,
    ) -> IntrospectFlow<'r> {
        IntrospectFlow::new(self, token, client_id, client_secret)
    }

    /// Starts a global sign-out of the user with this `sub` (R-REV-3) at `now`.
    pub fn global_sign_out<'r>(
        &'r self,
        subject: &'r str,
        now: Timestamp,
    ) -> GlobalSignOutFlow<'r> {
        GlobalSignOutFlow::by_subject(subject, now)
    }

    /// Starts a global sign-out of the user with this username (AdminUserGlobalSignOut) at `now`.
    pub fn global_sign_out_username<'r>(
        &'r self,
        username: &'r str,
        now: Timestamp,
    ) -> GlobalSignOutFlow<'r> {
        GlobalSignOutFlow::by_username(username, now)
    }

    /// The cutoff of a purge run at `now` (R-REV-6).
    pub fn purge_cutoff(&self, now: Timestamp) -> Result<PurgeCutoff, Error> {
        PurgeCutoff::at(now).ok_or(Error::Internal {
            detail: "purge cutoff underflows",
        })
    }
}

#[cfg(test)]
mod tests;
