//! Sign-in: the first token set of a new family (SPEC 4), as a state machine.

use std::sync::Arc;

use crate::client::AppClient;
use crate::clock::Timestamp;
use crate::directory::UserRecord;
use crate::error::Error;
use crate::events::{RevocationCause, SecurityEvent};
use crate::hook::{ClaimsOverride, TriggerSource};
use crate::keyring::KeySet;
use crate::random::random_array;
use crate::store::{Family, FamilyId, FamilyInfo, FamilyState};

use super::checks;
use super::client_auth::{authenticate, Credential};
use super::device::NewDevice;
use super::mint::{split_halves, MintInput};
use super::refresh::hook_event;
use super::{
    out_of_order, Engine, Flow, Input, Need, Operation, Outcome, Report, SignInRequest, TokenSet,
    API_SIGN_IN_SCOPE,
};

enum State {
    Start,
    AwaitClient,
    AwaitUser,
    AwaitHook,
    AwaitCreated,
    AwaitRecheck,
    AwaitDeletedRevoke,
    Finished,
}

/// A sign-in in progress: drive it through [`Flow`] (see the [engine](super)).
pub struct SignInFlow<'r> {
    engine: &'r Engine,
    /// The keys of this request, from start to end (R-OPS-4).
    keys: Arc<KeySet>,
    req: SignInRequest<'r>,
    now: Timestamp,
    state: State,
    client: Option<Arc<AppClient>>,
    /// The scopes to grant, decided once the client is read.
    scopes: Option<Arc<str>>,
    user: Option<Arc<UserRecord>>,
    family_id: Option<FamilyId>,
    tokens: Option<TokenSet>,
    report: Report,
}

impl std::fmt::Debug for SignInFlow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInFlow")
            .field("client_id", &self.req.client_id)
            .finish_non_exhaustive()
    }
}

type Step<'f> = Need<'f, TokenSet>;

/// A function rather than a constant, so that `ok_or_else` builds (and drops) the error only when it
/// is needed: an `ok_or` with a constant drops one on every success, about twenty times a refresh.
fn missing() -> Error {
    Error::Internal {
        detail: "sign-in flow state incomplete",
    }
}

impl Flow for SignInFlow<'_> {
    type Output = TokenSet;

    fn next(&mut self, input: Input) -> Step<'_> {
        // `step` leaves the state `Finished` unless it asks for something, so an error ends the flow.
        self.step(input).unwrap_or_else(|e| Need::Done(Err(e)))
    }

    fn report(&mut self) -> &mut Report {
        &mut self.report
    }
}

impl<'r> SignInFlow<'r> {
    pub(crate) fn new(engine: &'r Engine, req: SignInRequest<'r>, now: Timestamp) -> Self {
        SignInFlow {
            engine,
            keys: engine.keys.load(),
            req,
            now,
            state: State::Start,
            client: None,
            scopes: None,
            user: None,
            family_id: None,
            tokens: None,
            report: Report::new(Operation::SignIn),
        }
    }

    fn step(&mut self, input: Input) -> Result<Step<'_>, Error> {
        let state = std::mem::replace(&mut self.state, State::Finished);
        match (state, input) {
            (State::Start, Input::Start) => {
                let r = &self.req;
                // The client id, secret, SECRET_HASH and device key were checked when parsed.
                checks::check_username(r.username)?;
                if let Some(m) = r.client_metadata {
                    checks::check_client_metadata(m)?;
                }
                // The scope list's shape too (R-SIGN-3, R-SAFE-1); whether the client allows them is
                // decided once it is read.
                if let Some(scopes) = r.scopes {
                    checks::check_scopes(scopes)?;
                }
                self.state = State::AwaitClient;
                Ok(Need::Client(self.req.client_id.as_str()))
            }
            (State::AwaitClient, Input::Client(client)) => {
                let client = client.ok_or_else(|| Error::ClientNotFound {
                    client_id: self.req.client_id.as_str().to_owned(),
                })?;
                // R-SIGN-1: the secret, or a valid SECRET_HASH over the username.
                let presented = Credential {
                    secret: self.req.client_secret,
                    secret_hash: self.req.secret_hash,
                };
                authenticate(&client, presented, &[self.req.username])?;
                // R-SIGN-3: a scope the client does not allow is refused now, before the user is
                // looked up or the hook runs for a sign-in that can only fail.
                self.scopes = Some(self.granted_scopes(&client)?);
                self.client = Some(client);
                self.state = State::AwaitUser;
                Ok(Need::UserByUsername(self.req.username))
            }
            (State::AwaitUser, Input::User(user)) => {
                let user = user.ok_or(Error::UserNotFound)?;
                if !user.enabled {
                    return Err(Error::UserDisabled);
                }
                self.user = Some(user);
                if self.engine.hook {
                    self.state = State::AwaitHook;
                    let client = self.client.as_deref().ok_or_else(missing)?;
                    let user = self.user.as_deref().ok_or_else(missing)?;
                    return Ok(Need::Hook(hook_event(
                        TriggerSource::Authentication,
                        client,
                        user,
                        self.req.client_metadata,
                    )));
                }
                self.start_family(None)
            }
            (State::AwaitHook, Input::Hook(answer)) => {
                let overrides = super::mint::accept_hook_answer(answer)?;
                self.start_family(Some(overrides))
            }
            (State::AwaitCreated, Input::Created) => {
                // A client deleted while this sign-in ran had its families revoked before this one
                // existed (R-REV-7): look again, and revoke this one too if it has gone.
                self.state = State::AwaitRecheck;
                Ok(Need::Client(self.req.client_id.as_str()))
            }
            (State::AwaitRecheck, Input::Client(Some(_))) => {
                self.state = State::Finished;
                self.report.succeeded(Outcome::Issued);
                Ok(Need::Done(self.tokens.take().ok_or_else(missing)))
            }
            (State::AwaitRecheck, Input::Client(None)) => {
                self.state = State::AwaitDeletedRevoke;
                Ok(Need::Revoke(self.family_id.ok_or_else(missing)?))
            }
            (State::AwaitDeletedRevoke, Input::Revoked(was_live)) => {
                if was_live {
                    let event = SecurityEvent::FamilyRevoked {
                        family: self.family_id.ok_or_else(missing)?.to_uuid_string(),
                        client_id: self.req.client_id.as_str().to_owned(),
                        subject: self.user.as_deref().ok_or_else(missing)?.subject.clone(),
                        cause: RevocationCause::ClientDeleted,
                        time: self.now,
                    };
                    self.report.event(event);
                }
                Err(Error::ClientNotFound {
                    client_id: self.req.client_id.as_str().to_owned(),
                })
            }
            _ => Ok(out_of_order()),
        }
    }

    /// The scopes to grant: the API scope by default, else each must be the API scope or one of the
    /// client's AllowedOAuthScopes.
    fn granted_scopes(&self, client: &AppClient) -> Result<Arc<str>, Error> {
        let Some(list) = self.req.scopes else {
            return Ok(Arc::clone(&self.engine.api_scope));
        };
        // Shape and count were checked at the start: a list too long was refused before it is walked
        // here, and a scope that is not a scope (control characters, say) is never quoted below.
        let joined = list.join(" ");
        let allowed = client.config().allowed_oauth_scopes();
        if let Some(s) = list
            .iter()
            .find(|s| s.as_str() != API_SIGN_IN_SCOPE && !allowed.contains(s))
        {
            return Err(Error::InvalidParameter {
                message: format!(
                    "Scope {} is not allowed for client {}",
                    s.chars().take(256).collect::<String>(),
                    self.req.client_id
                ),
            });
        }
        Ok(Arc::from(joined))
    }

    /// R-SIGN-2, R-SIGN-3: a new family, its first tokens, and the store write.
    fn start_family(&mut self, overrides: Option<ClaimsOverride>) -> Result<Step<'_>, Error> {
        let engine = self.engine;
        let client = self.client.as_deref().ok_or_else(missing)?;
        let user = self.user.as_deref().ok_or_else(missing)?;
        let scopes = self.scopes.clone().ok_or_else(missing)?;
        let [family_id, event_id] = split_halves(random_array(&engine.rng)?);
        let family_id = FamilyId::from_bytes(family_id);
        let expires_at = self
            .now
            .checked_add_secs(client.config().refresh_token_validity_secs())
            .ok_or(Error::Internal {
                detail: "refresh token expiry overflows",
            })?;
        // A device the host names is confirmed: the host knows it. One the pool issues now is announced
        // in the same answer as the family's first refresh token, so it is confirmed too.
        let (device_key, new_device) = match self.req.device_key {
            Some(d) => (Some(Box::from(d.expose_secret())), None),
            None if engine.device_tracking => {
                let key = engine.new_device_key()?;
                let meta = NewDevice::announcing(&key);
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
                auth_time: self.now,
                event_id,
                expires_at,
            }),
            state: FamilyState::new(self.keys.refresh_keys().current_key_id()),
        };
        let mut tokens = engine.mint(
            self.keys.signer(),
            client,
            &family,
            &MintInput {
                user,
                overrides: overrides.as_ref(),
            },
            self.now,
            new_device,
        )?;
        tokens.refresh_token = Some(self.keys.refresh_keys().encode(&family_id, 0));
        self.tokens = Some(tokens);
        self.family_id = Some(family_id);
        self.report.family_is(family_id);
        self.state = State::AwaitCreated;
        Ok(Need::CreateFamily(family))
    }
}
