//! The synchronous driver: [`TokenIssuer`] runs the engine's flows against synchronous collaborators
//! (SPEC 4 to 7, R-ENG-1).

use std::sync::Arc;

use crate::clock::Clock;
use crate::directory::UserDirectory;
use crate::engine::{
    ClientId, Engine, Flow, Input, LegacyRefreshRequest, Need, PresentedSecret, RefreshRequest,
    SignInRequest, TokenSet,
};
use crate::error::Error;
use crate::events::SecurityEventSink;
use crate::hook::PreTokenGenerationHook;
use crate::jwt::TokenSigner;
use crate::keyring::KeyRing;
use crate::registry::ClientRegistry;
use crate::secret::RefreshToken;
use crate::store::RefreshTokenStore;
use crate::token::RefreshTokenKeys;

use super::builder::IssuerBuilder;
use super::telemetry::{record_client_deletion, Observation};

/// The synchronous collaborators of a [`TokenIssuer`].
#[allow(missing_debug_implementations)] // trait objects without Debug; the issuer's Debug shows the engine
pub struct SyncParts {
    store: Arc<dyn RefreshTokenStore>,
    directory: Arc<dyn UserDirectory>,
    hook: Option<Arc<dyn PreTokenGenerationHook>>,
    events: Option<Arc<dyn SecurityEventSink>>,
}

/// The builder of a [`TokenIssuer`]: start from [`TokenIssuer::builder`].
pub type TokenIssuerBuilder = IssuerBuilder<SyncParts>;

impl IssuerBuilder<SyncParts> {
    /// Installs a pre-token-generation hook (R-REF-11). Defaults to none.
    pub fn pre_token_generation(mut self, hook: Arc<dyn PreTokenGenerationHook>) -> Self {
        self.parts.hook = Some(hook);
        self
    }

    /// Installs a security-event sink (R-OPS-3): called once per reuse detection, family revocation and
    /// global sign-out, after the store write. Families revoked by deleting their client reach no sink
    /// (they are counted and traced only). Defaults to none (the events are still traced and counted).
    pub fn security_events(mut self, sink: Arc<dyn SecurityEventSink>) -> Self {
        self.parts.events = Some(sink);
        self
    }

    /// Finishes the issuer, and links the registry to the family store so that deleting a client revokes
    /// its families (R-REV-7).
    pub fn build(self) -> TokenIssuer {
        self.registry
            .link_family_store(&self.parts.store, record_client_deletion);
        let hook = self.parts.hook.is_some();
        let (engine, registry, clock, parts) = self.into_engine(hook);
        TokenIssuer {
            engine,
            registry,
            store: parts.store,
            directory: parts.directory,
            clock,
            hook: parts.hook,
            events: parts.events,
        }
    }
}

/// Issues and refreshes tokens for one user pool: the synchronous driver of the [engine](crate::engine).
///
/// Keys rotate while it serves, through [`TokenIssuer::keys`] (R-OPS-4). Every operation runs in a
/// `tracing` span and is counted through the `metrics` facade; security events go to the sink installed
/// with [`security_events`](IssuerBuilder::security_events) (R-OPS-1 to R-OPS-3, see
/// [`telemetry`](crate::driver::telemetry)).
pub struct TokenIssuer {
    engine: Engine,
    registry: Arc<ClientRegistry>,
    store: Arc<dyn RefreshTokenStore>,
    directory: Arc<dyn UserDirectory>,
    clock: Arc<dyn Clock>,
    hook: Option<Arc<dyn PreTokenGenerationHook>>,
    events: Option<Arc<dyn SecurityEventSink>>,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl TokenIssuer {
    /// Starts an issuer for the pool of `registry` in `region`, with the given keys, store and
    /// directory; everything else takes its default (the registry's clock and randomness, no device
    /// tracking, [`ReusePolicy::Reject`](crate::ReusePolicy::Reject), no hook).
    pub fn builder(
        region: impl Into<String>,
        signer: TokenSigner,
        refresh_keys: RefreshTokenKeys,
        registry: Arc<ClientRegistry>,
        store: Arc<dyn RefreshTokenStore>,
        directory: Arc<dyn UserDirectory>,
    ) -> TokenIssuerBuilder {
        IssuerBuilder::new(
            region.into(),
            signer,
            refresh_keys,
            registry,
            SyncParts {
                store,
                directory,
                hook: None,
                events: None,
            },
        )
    }

    /// The engine this issuer drives: its keys and settings.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The issuer URL (`iss`).
    pub fn issuer_url(&self) -> &str {
        self.engine.issuer_url()
    }

    /// The pool's client registry.
    pub fn registry(&self) -> &Arc<ClientRegistry> {
        &self.registry
    }

    /// The family store.
    pub fn store(&self) -> &Arc<dyn RefreshTokenStore> {
        &self.store
    }

    /// The signer now, for the JWKS (R-JWT-5) and for building a verifier.
    pub fn signer(&self) -> Arc<TokenSigner> {
        self.engine.signer()
    }

    /// The live keys (R-OPS-4): add, promote, retire and remove signing keys and refresh-token keys
    /// while the issuer serves. The JWKS ([`KeyRing::jwks_json`]) reflects each change at once.
    pub fn keys(&self) -> &KeyRing {
        self.engine.keys()
    }

    /// The clock the issuer reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Issues the first token set of a new family after the host authenticated the user (SPEC 4).
    pub fn sign_in(&self, req: &SignInRequest<'_>) -> Result<TokenSet, Error> {
        self.run(
            &mut self.engine.sign_in(req, self.clock.now()),
            Some(req.client_id.as_str()),
        )
    }

    /// GetTokensFromRefreshToken (SPEC 5 and 6): the checks of R-REF-1 to R-REF-12, in that order.
    pub fn get_tokens_from_refresh_token(
        &self,
        req: &RefreshRequest<'_>,
    ) -> Result<TokenSet, Error> {
        self.run(&mut self.engine.refresh(req), Some(req.client_id.as_str()))
    }

    /// The legacy refresh flow: InitiateAuth / AdminInitiateAuth with `REFRESH_TOKEN_AUTH` or
    /// `REFRESH_TOKEN` (R-ROT-8). Needs `ALLOW_REFRESH_TOKEN_AUTH` (or only legacy flow names);
    /// refused on a client with rotation enabled; otherwise behaves as R-ROT-6 and R-ROT-7.
    pub fn legacy_refresh(&self, req: &LegacyRefreshRequest<'_>) -> Result<TokenSet, Error> {
        self.run(
            &mut self.engine.legacy_refresh(req),
            Some(req.client_id.as_str()),
        )
    }

    /// RevokeToken (R-REV-1, R-REV-2).
    pub fn revoke_token(
        &self,
        token: &RefreshToken,
        client_id: ClientId<'_>,
        client_secret: Option<PresentedSecret<'_>>,
    ) -> Result<(), Error> {
        self.run(
            &mut self.engine.revoke(token, client_id, client_secret),
            Some(client_id.as_str()),
        )
    }

    /// Token introspection (R-OAUTH-7, RFC 7662): whether `token` (refresh, access or ID) is active for
    /// the client `client_id`, which authenticates as for a refresh. Reads, never writes.
    pub fn introspect(
        &self,
        token: &str,
        client_id: ClientId<'_>,
        client_secret: Option<PresentedSecret<'_>>,
    ) -> Result<crate::engine::Introspection, Error> {
        self.run(
            &mut self.engine.introspect(token, client_id, client_secret),
            Some(client_id.as_str()),
        )
    }

    /// Global sign-out of the user with this `sub`: revokes every family of theirs (R-REV-3). Returns how
    /// many live families were revoked.
    pub fn global_sign_out(&self, subject: &str) -> Result<usize, Error> {
        self.run(
            &mut self.engine.global_sign_out(subject, self.clock.now()),
            None,
        )
    }

    /// Global sign-out by username (AdminUserGlobalSignOut). `UserNotFoundException` if there is no such
    /// user.
    pub fn global_sign_out_username(&self, username: &str) -> Result<usize, Error> {
        self.run(
            &mut self
                .engine
                .global_sign_out_username(username, self.clock.now()),
            None,
        )
    }

    /// Deletes up to `max` families whose absolute expiry is at least
    /// [`PurgeCutoff::MARGIN_SECS`](crate::store::PurgeCutoff::MARGIN_SECS) in the past (R-REV-4, R-REV-5,
    /// R-REV-6); call it until it returns less than `max`.
    ///
    /// The margin exists because the verifier learns that a JWT was revoked from its family's record
    /// (R-REV-2, R-JWT-6): an ID or access token minted just before the family expired may live one
    /// validity period (at most a day, R-CFG-3) past it, plus the verifier's leeway, and its family must
    /// still say "revoked" until then. Until it is purged, an expired family answers
    /// `Refresh Token has expired`.
    pub fn purge_expired(&self, max: usize) -> Result<usize, Error> {
        let cutoff = self.engine.purge_cutoff(self.clock.now())?;
        Ok(self.store.purge_expired(cutoff, max)?)
    }

    /// Runs a flow to its end inside its span, then records what it came to and hands its security
    /// events to the sink (R-OPS-1 to R-OPS-3), after every store write it made.
    fn run<F: Flow>(&self, flow: &mut F, client_id: Option<&str>) -> Result<F::Output, Error> {
        let observation = Observation::start(flow.report().operation(), client_id);
        let _span = observation.span().enter();
        let result = self.drive(flow);
        let events = observation.finish(flow.report(), &result);
        if let Some(sink) = &self.events {
            for event in &events {
                sink.security_event(event);
            }
        }
        result
    }

    /// Performs each step a flow asks for, on the calling thread, until it is done.
    fn drive<F: Flow>(&self, flow: &mut F) -> Result<F::Output, Error> {
        let mut input = Input::Start;
        loop {
            input = match flow.next(input) {
                Need::Client(id) => Input::Client(self.registry.get(id)?),
                Need::Family(id) => {
                    let read = self.store.read(&id)?;
                    // R-ROT-9: the host's clock is read after the store read.
                    let host_time = self.clock.now();
                    Input::Family { read, host_time }
                }
                // A synchronous store keeps no memory for the engine: every first read is a read.
                Need::ClientAndFamily {
                    client_id, family, ..
                } => {
                    let client = self.registry.get(client_id)?;
                    // A failed read is the engine's to report, after the client's checks.
                    let read = self.store.read(&family).map_err(Error::from);
                    // R-ROT-9: the host's clock is read after the store read.
                    let host_time = self.clock.now();
                    Input::ClientAndFamily {
                        client,
                        read,
                        host_time,
                        user: None,
                        witness: None,
                    }
                }
                Need::UserBySubject(sub) => Input::User(self.directory.user_by_subject(sub)?),
                Need::UserByUsername(name) => Input::User(self.directory.user_by_username(name)?),
                Need::Hook(event) => Input::Hook(match &self.hook {
                    Some(hook) => hook.pre_token_generation(&event),
                    None => Ok(Default::default()),
                }),
                Need::CreateFamily(family) => {
                    self.store.create(family)?;
                    Input::Created
                }
                Need::Advance {
                    family,
                    expected,
                    grace_deadline,
                    key_id,
                    witness: None,
                } => Input::Advanced(self.store.advance(
                    &family,
                    expected,
                    grace_deadline,
                    key_id,
                )?),
                Need::Advance { .. } => {
                    return Err(Error::Internal {
                        detail: "a witnessed advance without an answer from memory",
                    })
                }
                Need::BindDevice { family, device_key } => {
                    Input::DeviceBound(self.store.bind_device(&family, device_key)?)
                }
                Need::ConfirmDevice { family, device_key } => {
                    Input::DeviceConfirmed(self.store.confirm_device(&family, device_key)?)
                }
                Need::Revoke(family) => Input::Revoked(self.store.revoke(&family)?),
                Need::RevokeSubject(subject) => {
                    Input::RevokedSubject(self.store.revoke_subject(subject)?)
                }
                Need::Done(result) => return result,
            };
        }
    }
}
