//! The asynchronous driver: [`AsyncTokenIssuer`] runs the engine's flows against asynchronous
//! collaborators, awaiting each step (R-ENG-2). Its operations are those of
//! [`TokenIssuer`](crate::TokenIssuer), with the same answers.

use std::sync::Arc;
use std::task::{Context, Waker};

use tracing::Instrument;

use crate::clock::Clock;
use crate::directory::AsyncUserDirectory;
use crate::engine::{
    ClientId, Engine, Flow, Input, LegacyRefreshRequest, Need, PresentedSecret, RefreshRequest,
    SignInRequest, TokenSet,
};
use crate::error::Error;
use crate::events::AsyncSecurityEventSink;
use crate::hook::AsyncPreTokenGenerationHook;
use crate::jwt::TokenSigner;
use crate::keyring::KeyRing;
use crate::registry::ClientRegistry;
use crate::secret::RefreshToken;
use crate::store::{Advance, AsyncRefreshTokenStore, FamilyAndClient, FamilyId};
use crate::token::RefreshTokenKeys;

use super::builder::IssuerBuilder;
use super::telemetry::{record_client_deletion, Observation};

/// The asynchronous collaborators of an [`AsyncTokenIssuer`].
#[allow(missing_debug_implementations)] // trait objects without Debug; the issuer's Debug shows the engine
pub struct AsyncParts {
    store: Arc<dyn AsyncRefreshTokenStore>,
    directory: Arc<dyn AsyncUserDirectory>,
    hook: Option<Arc<dyn AsyncPreTokenGenerationHook>>,
    events: Option<Arc<dyn AsyncSecurityEventSink>>,
}

/// The builder of an [`AsyncTokenIssuer`]: start from [`AsyncTokenIssuer::builder`].
pub type AsyncTokenIssuerBuilder = IssuerBuilder<AsyncParts>;

impl IssuerBuilder<AsyncParts> {
    /// Installs a pre-token-generation hook (R-REF-11). Defaults to none.
    pub fn pre_token_generation(mut self, hook: Arc<dyn AsyncPreTokenGenerationHook>) -> Self {
        self.parts.hook = Some(hook);
        self
    }

    /// Installs a security-event sink (R-OPS-3): called once per reuse detection, family revocation and
    /// global sign-out, after the store write. Families revoked by deleting their client reach no sink
    /// (they are counted and traced only). Defaults to none (the events are still traced and counted).
    pub fn security_events(mut self, sink: Arc<dyn AsyncSecurityEventSink>) -> Self {
        self.parts.events = Some(sink);
        self
    }

    /// Finishes the issuer, and links the registry to the family store so that deleting a client revokes
    /// its families (R-REV-7), through the registry, the wire adapter or
    /// [`AsyncTokenIssuer::delete_client`] alike.
    pub fn build(self) -> AsyncTokenIssuer {
        self.registry
            .link_async_family_store(&self.parts.store, record_client_deletion);
        let hook = self.parts.hook.is_some();
        let (engine, registry, clock, parts) = self.into_engine(hook);
        AsyncTokenIssuer {
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

/// Issues and refreshes tokens for one user pool, awaiting its collaborators: the asynchronous driver
/// of the [engine](crate::engine).
///
/// ```
/// # use std::sync::Arc;
/// # use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
/// # use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
/// # use refresh_rotation::random::SystemRandom;
/// # use refresh_rotation::store::InMemoryRefreshTokenStore;
/// # use refresh_rotation::*;
/// # async fn example(registry: Arc<ClientRegistry>, client_id: ClientId<'_>) -> Result<(), Error> {
/// let users = Arc::new(InMemoryUserDirectory::new());
/// users.put(UserRecord::new("0f6c3a4e-0000-4000-8000-000000000001", "alice"))?;
/// let issuer = AsyncTokenIssuer::builder(
///     "us-east-1",
///     TokenSigner::new(Arc::new(SigningKey::generate(Algorithm::EdDSA, "key-1")?)),
///     RefreshTokenKeys::new(RefreshTokenKey::generate(1, &SystemRandom::new())?),
///     registry,
///     Arc::new(InMemoryRefreshTokenStore::new()),
///     users,
/// )
/// .build();
/// let first = issuer.sign_in(&SignInRequest::new(client_id, "alice")).await?;
/// let t0 = first.refresh_token.expect("sign-in returns a refresh token");
/// let next = issuer
///     .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, client_id))
///     .await?;
/// # let _ = next; Ok(()) }
/// ```
pub struct AsyncTokenIssuer {
    engine: Engine,
    registry: Arc<ClientRegistry>,
    store: Arc<dyn AsyncRefreshTokenStore>,
    directory: Arc<dyn AsyncUserDirectory>,
    clock: Arc<dyn Clock>,
    hook: Option<Arc<dyn AsyncPreTokenGenerationHook>>,
    events: Option<Arc<dyn AsyncSecurityEventSink>>,
}

impl std::fmt::Debug for AsyncTokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncTokenIssuer")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl AsyncTokenIssuer {
    /// Starts an issuer for the pool of `registry` in `region`, with the given keys, store and
    /// directory; everything else takes its default, as for [`TokenIssuer::builder`](crate::TokenIssuer::builder).
    pub fn builder(
        region: impl Into<String>,
        signer: TokenSigner,
        refresh_keys: RefreshTokenKeys,
        registry: Arc<ClientRegistry>,
        store: Arc<dyn AsyncRefreshTokenStore>,
        directory: Arc<dyn AsyncUserDirectory>,
    ) -> AsyncTokenIssuerBuilder {
        IssuerBuilder::new(
            region.into(),
            signer,
            refresh_keys,
            registry,
            AsyncParts {
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
    pub fn store(&self) -> &Arc<dyn AsyncRefreshTokenStore> {
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

    /// As [`TokenIssuer::sign_in`](crate::TokenIssuer::sign_in).
    pub async fn sign_in(&self, req: &SignInRequest<'_>) -> Result<TokenSet, Error> {
        self.run(
            &mut self.engine.sign_in(req, self.clock.now()),
            Some(req.client_id.as_str()),
        )
        .await
    }

    /// As [`TokenIssuer::get_tokens_from_refresh_token`](crate::TokenIssuer::get_tokens_from_refresh_token).
    pub async fn get_tokens_from_refresh_token(
        &self,
        req: &RefreshRequest<'_>,
    ) -> Result<TokenSet, Error> {
        self.run(&mut self.engine.refresh(req), Some(req.client_id.as_str()))
            .await
    }

    /// As [`TokenIssuer::legacy_refresh`](crate::TokenIssuer::legacy_refresh).
    pub async fn legacy_refresh(&self, req: &LegacyRefreshRequest<'_>) -> Result<TokenSet, Error> {
        self.run(
            &mut self.engine.legacy_refresh(req),
            Some(req.client_id.as_str()),
        )
        .await
    }

    /// As [`TokenIssuer::revoke_token`](crate::TokenIssuer::revoke_token).
    pub async fn revoke_token(
        &self,
        token: &RefreshToken,
        client_id: ClientId<'_>,
        client_secret: Option<PresentedSecret<'_>>,
    ) -> Result<(), Error> {
        self.run(
            &mut self.engine.revoke(token, client_id, client_secret),
            Some(client_id.as_str()),
        )
        .await
    }

    /// As [`TokenIssuer::introspect`](crate::TokenIssuer::introspect): whether `token` (refresh, access
    /// or ID) is active for the client `client_id` (R-OAUTH-7). Reads, never writes.
    pub async fn introspect(
        &self,
        token: &str,
        client_id: ClientId<'_>,
        client_secret: Option<PresentedSecret<'_>>,
    ) -> Result<crate::engine::Introspection, Error> {
        self.run(
            &mut self.engine.introspect(token, client_id, client_secret),
            Some(client_id.as_str()),
        )
        .await
    }

    /// As [`TokenIssuer::global_sign_out`](crate::TokenIssuer::global_sign_out).
    pub async fn global_sign_out(&self, subject: &str) -> Result<usize, Error> {
        self.run(
            &mut self.engine.global_sign_out(subject, self.clock.now()),
            None,
        )
        .await
    }

    /// As [`TokenIssuer::global_sign_out_username`](crate::TokenIssuer::global_sign_out_username).
    pub async fn global_sign_out_username(&self, username: &str) -> Result<usize, Error> {
        self.run(
            &mut self
                .engine
                .global_sign_out_username(username, self.clock.now()),
            None,
        )
        .await
    }

    /// Deletes client `client_id` from the registry, which revokes its families in this issuer's store
    /// (R-CLI-6, R-REV-7), as [`ClientRegistry::delete_client_async`](crate::ClientRegistry::delete_client_async).
    /// Unknown client: `ResourceNotFoundException`.
    pub async fn delete_client(&self, client_id: &str) -> Result<(), Error> {
        self.registry.delete_client_async(client_id).await
    }

    /// As [`TokenIssuer::purge_expired`](crate::TokenIssuer::purge_expired).
    pub async fn purge_expired(&self, max: usize) -> Result<usize, Error> {
        let cutoff = self.engine.purge_cutoff(self.clock.now())?;
        Ok(self.store.purge_expired(cutoff, max).await?)
    }

    /// Runs a flow to its end inside its span, then records what it came to and hands its security
    /// events to the sink (R-OPS-1 to R-OPS-3), after every store write it made. If the returned future
    /// is dropped before the flow ends, [`InFlight`] records the request as cancelled.
    async fn run<F: Flow + Send>(
        &self,
        flow: &mut F,
        client_id: Option<&str>,
    ) -> Result<F::Output, Error> {
        let mut in_flight = InFlight {
            observation: Observation::start(flow.report().operation(), client_id),
            flow,
            sink: self.events.as_ref(),
            ended: false,
        };
        let span = in_flight.observation.span().clone();
        let result = self
            .drive(&mut *in_flight.flow)
            .instrument(span.clone())
            .await;
        in_flight.ended = true;
        let events = in_flight
            .observation
            .finish(in_flight.flow.report(), &result);
        if let Some(sink) = &self.events {
            // Awaited inside the request's future: dropping it here leaves the later events unsent to
            // the sink (they are traced and counted already); see R-OPS-3 on cancellation.
            for event in &events {
                sink.security_event(event).instrument(span.clone()).await;
            }
        }
        result
    }

    /// Awaits each step a flow asks for, until it is done.
    async fn drive<F: Flow + Send>(&self, flow: &mut F) -> Result<F::Output, Error> {
        let mut input = Input::Start;
        // What a witnessed advance that did not happen read in its round trip, for the read the
        // engine asks for next (R-PER-5).
        let mut read_made: Option<(FamilyId, FamilyAndClient)> = None;
        loop {
            input = match flow.next(input) {
                Need::Client(id) => Input::Client(self.registry.get_async(id).await?),
                Need::Family(id) => {
                    let read = self.store.read(&id).await?;
                    // R-ROT-9: the host's clock is read after the store read.
                    let host_time = self.clock.now();
                    Input::Family { read, host_time }
                }
                Need::ClientAndFamily {
                    client_id,
                    family,
                    fresh,
                } => {
                    // The client is the store's only if it is the one asked for, of this pool.
                    let ours = |c: &Option<Arc<crate::client::AppClient>>| {
                        c.as_ref().is_none_or(|c| {
                            &**c.client_id() == client_id
                                && c.user_pool_id() == self.registry.user_pool_id()
                        })
                    };
                    // No round trip where the store remembers them and may answer from memory, or
                    // where the witnessed advance that proved the memory stale read them already; else
                    // one where it also keeps the clients (R-PER-5).
                    let remembered = (!fresh)
                        .then(|| self.store.remembered(&family, client_id))
                        .flatten()
                        .filter(|r| r.client.as_ref().is_some_and(&ours));
                    let made = read_made
                        .take()
                        .filter(|(id, _)| fresh && *id == family)
                        .map(|(_, read)| read);
                    let joint = match remembered {
                        Some(answer) => Ok(answer),
                        None => {
                            let read = match made {
                                Some(read) => Ok(read),
                                None => self.store.read_with_client(&family, client_id).await,
                            };
                            // A read carries no witness, whatever the store says.
                            read.map(|read| FamilyAndClient {
                                witness: None,
                                ..read
                            })
                        }
                    };
                    // R-ROT-9: the host's clock is read after the store read.
                    let host_time = self.clock.now();
                    let (read, client, user, witness) = match joint {
                        Ok(j) => (Ok(j.family), j.client, j.user, j.witness),
                        // The engine reports a failed read after the client's checks.
                        Err(e) => (Err(Error::from(e)), None, None, None),
                    };
                    let client = match client.filter(&ours) {
                        Some(client) => client,
                        None => self.registry.get_async(client_id).await?,
                    };
                    Input::ClientAndFamily {
                        client,
                        read,
                        host_time,
                        user,
                        witness,
                    }
                }
                Need::UserBySubject(sub) => Input::User(self.directory.user_by_subject(sub).await?),
                Need::UserByUsername(name) => {
                    Input::User(self.directory.user_by_username(name).await?)
                }
                Need::Hook(event) => Input::Hook(match &self.hook {
                    Some(hook) => hook.pre_token_generation(&event).await,
                    None => Ok(Default::default()),
                }),
                Need::CreateFamily(family) => {
                    self.store.create(family).await?;
                    Input::Created
                }
                Need::Advance {
                    family,
                    expected,
                    grace_deadline,
                    key_id,
                    witness,
                } => Input::Advanced(match &witness {
                    Some(w) => {
                        let answer = self
                            .store
                            .advance_witnessed(&family, expected, grace_deadline, key_id, w)
                            .await?;
                        if !matches!(answer.advance, Advance::Advanced(_)) {
                            read_made = answer.read.map(|read| (family, read));
                        }
                        answer.advance
                    }
                    None => {
                        self.store
                            .advance(&family, expected, grace_deadline, key_id)
                            .await?
                    }
                }),
                Need::BindDevice { family, device_key } => {
                    Input::DeviceBound(self.store.bind_device(&family, device_key).await?)
                }
                Need::ConfirmDevice { family, device_key } => {
                    Input::DeviceConfirmed(self.store.confirm_device(&family, device_key).await?)
                }
                Need::Revoke(family) => Input::Revoked(self.store.revoke(&family).await?),
                Need::RevokeSubject(subject) => {
                    Input::RevokedSubject(self.store.revoke_subject(subject).await?)
                }
                Need::Done(result) => return result,
            };
        }
    }
}

/// A request whose flow is being driven. Dropped before the flow ended (the request's future dropped at
/// an await: a caller that hung up, a timeout), it records the request as cancelled, with the security
/// events it had come to, and offers those to the sink with one poll each: a sink that completes at once
/// (a channel send) receives them; one that would wait does not.
struct InFlight<'a, F: Flow> {
    observation: Observation,
    flow: &'a mut F,
    sink: Option<&'a Arc<dyn AsyncSecurityEventSink>>,
    ended: bool,
}

impl<F: Flow> Drop for InFlight<'_, F> {
    fn drop(&mut self) {
        // A panic unwinding through the request (a collaborator's bug) is not a cancellation, and a
        // sink called now could panic again and abort the process: record nothing, as before.
        if self.ended || std::thread::panicking() {
            return;
        }
        let events = self.observation.cancelled(self.flow.report());
        let Some(sink) = self.sink else {
            return;
        };
        let _entered = self.observation.span().enter();
        let mut cx = Context::from_waker(Waker::noop());
        for event in &events {
            // Pending means the sink would wait: it cannot be awaited here, so it is dropped.
            let _ = sink.security_event(event).as_mut().poll(&mut cx);
        }
    }
}
