//! GetTokensFromRefreshToken and the legacy refresh flow (SPEC 5 and 6) as a state machine.
//!
//! Order: the checks of R-REF-1 to R-REF-9 and the rotation decision only read; the hook may still
//! refuse (R-REF-11); then the one compare-and-set on the generation (R-REF-10); then the device binding
//! or confirmation of R-REF-9, for an answer that will be given; then minting (R-REF-12). The ID and
//! access tokens are signed after the write, once the answer is certain: signing first would spend two
//! signatures on every race loser and every refusal. A failure after the write (the signer or the random
//! source failing) is like an answer lost on the way, which a retry in the grace window repairs.
//!
//! The time of a decision (R-ROT-9, R-ROT-11) is read after the store read it is based on, and again
//! after a lost compare-and-set: the store's time if it keeps one, else the host's clock.

use std::sync::Arc;

use crate::client::AppClient;
use crate::clock::Timestamp;
use crate::directory::UserRecord;
use crate::error::Error;
use crate::events::{RevocationCause, SecurityEvent};
use crate::hook::{ClaimsOverride, PreTokenGenerationEvent, TriggerSource};
use crate::keyring::KeySet;
use crate::secret::constant_time_eq;
use crate::store::{Advance, Family, FamilyId, FamilyRead, FamilyState, ReadWitness};
use crate::token::DecodedRefreshToken;

use super::checks;
use super::client_auth::{authenticate, Credential};
use super::device::{device_step, DeviceStep, NewDevice};
use super::ids::SecretHash;
use super::mint::MintInput;
use super::{
    out_of_order, Engine, Flow, Input, Need, Operation, Outcome, RefreshRequest, Report,
    ReusePolicy, TokenSet,
};

/// The outcome of the rotation decision for one presented generation (SPEC 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
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
pub(crate) fn decide(
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

/// Where a refresh stands.
enum State {
    Start,
    AwaitClient,
    AwaitClientAndFamily,
    AwaitUser,
    AwaitHook,
    /// The compare-and-set from generation `current`, recording refresh-token key `key_id`.
    AwaitAdvance {
        current: u32,
        key_id: u32,
    },
    AwaitReread,
    AwaitReuseRevoke,
    AwaitConfirm,
    AwaitBind,
    Finished,
}

/// A refresh in progress: drive it through [`Flow`] (see the [module docs](super)).
pub struct RefreshFlow<'r> {
    engine: &'r Engine,
    /// The keys of this request, from start to end (R-OPS-4).
    keys: Arc<KeySet>,
    req: RefreshRequest<'r>,
    /// `Some` on the legacy path: the SECRET_HASH, checked against the family's username.
    legacy: Option<Option<SecretHash<'r>>>,
    state: State,
    client: Option<Arc<AppClient>>,
    decoded: Option<DecodedRefreshToken>,
    family: Option<Family>,
    now: Timestamp,
    user: Option<Arc<UserRecord>>,
    overrides: Option<ClaimsOverride>,
    decision: Decision,
    device: DeviceStep,
    refresh_token: Option<crate::secret::RefreshToken>,
    new_device_key: Option<String>,
    new_device: Option<NewDevice>,
    /// Compare-and-set attempts left: a lost race moves the family past the presented generation, so a
    /// second loss cannot happen to a correct store.
    attempts: u8,
    /// The witness of an answer from the store's memory this flow is deciding on (R-PER-5).
    witness: Option<ReadWitness>,
    /// Whether the first read asked for is a read: then a witness that comes with it is ignored.
    fresh: bool,
    report: Report,
}

impl std::fmt::Debug for RefreshFlow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshFlow")
            .field("client_id", &self.req.client_id)
            .field("decision", &self.decision)
            .finish_non_exhaustive()
    }
}

type Step<'f> = Need<'f, TokenSet>;

impl Flow for RefreshFlow<'_> {
    type Output = TokenSet;

    fn next(&mut self, input: Input) -> Step<'_> {
        // `step` leaves the state `Finished` unless it asks for something, so an error ends the flow.
        self.step(input).unwrap_or_else(|e| Need::Done(Err(e)))
    }

    fn report(&mut self) -> &mut Report {
        &mut self.report
    }
}

impl<'r> RefreshFlow<'r> {
    pub(crate) fn new(
        engine: &'r Engine,
        req: RefreshRequest<'r>,
        legacy: Option<Option<SecretHash<'r>>>,
    ) -> Self {
        RefreshFlow {
            engine,
            keys: engine.keys.load(),
            req,
            legacy,
            state: State::Start,
            client: None,
            decoded: None,
            family: None,
            now: Timestamp::EPOCH,
            user: None,
            overrides: None,
            decision: Decision::Reuse,
            device: DeviceStep::Keep,
            refresh_token: None,
            new_device_key: None,
            new_device: None,
            attempts: 2,
            witness: None,
            // The hook sees the client and user the decision is made on.
            fresh: engine.hook,
            report: Report::new(Self::operation(legacy.is_some())),
        }
    }

    fn operation(legacy: bool) -> Operation {
        if legacy {
            Operation::LegacyRefresh
        } else {
            Operation::Refresh
        }
    }

    /// Back to the first read, which must now be a read: an answer from the store's memory led to
    /// something other than an advance, or its advance did not happen. Nothing was written and nothing
    /// reported; the flow starts over from the decoded token.
    fn read_again(&mut self, family: FamilyId) -> Step<'_> {
        self.client = None;
        self.family = None;
        self.now = Timestamp::EPOCH;
        self.user = None;
        self.overrides = None;
        self.decision = Decision::Reuse;
        self.device = DeviceStep::Keep;
        self.refresh_token = None;
        self.new_device_key = None;
        self.new_device = None;
        self.attempts = 2;
        self.witness = None;
        self.fresh = true;
        self.report = Report::new(Self::operation(self.legacy.is_some()));
        self.state = State::AwaitClientAndFamily;
        Need::ClientAndFamily {
            client_id: self.req.client_id.as_str(),
            family,
            fresh: true,
        }
    }

    /// An error on an answer from memory is not the answer: read and decide again. Otherwise `e`.
    fn or_read_again(&mut self, e: Error) -> Result<Step<'_>, Error> {
        match (&self.witness, self.decoded) {
            (Some(_), Some(decoded)) => Ok(self.read_again(decoded.family())),
            _ => Err(e),
        }
    }

    fn step(&mut self, input: Input) -> Result<Step<'_>, Error> {
        let state = std::mem::replace(&mut self.state, State::Finished);
        match (state, input) {
            (State::Start, Input::Start) => {
                self.check_shape()?;
                // R-REF-4: format and MAC, before any store access. A token that fails is reported
                // after the client's checks (R-REF-2, R-REF-3), as if it had been decoded after them;
                // one that passes names the family, read with the client (R-PER-5).
                self.decoded = self
                    .keys
                    .refresh_keys()
                    .decode(self.req.refresh_token.expose_secret())
                    .ok();
                Ok(match self.decoded {
                    Some(decoded) => {
                        self.state = State::AwaitClientAndFamily;
                        Need::ClientAndFamily {
                            client_id: self.req.client_id.as_str(),
                            family: decoded.family(),
                            fresh: self.fresh,
                        }
                    }
                    None => {
                        self.state = State::AwaitClient;
                        Need::Client(self.req.client_id.as_str())
                    }
                })
            }
            (State::AwaitClient, Input::Client(client)) => {
                self.on_client(client)?;
                Err(Error::InvalidRefreshToken)
            }
            (
                State::AwaitClientAndFamily,
                Input::ClientAndFamily {
                    client,
                    read,
                    host_time,
                    user,
                    witness,
                },
            ) => {
                // An answer from memory only where one may be given (not after asking for a read).
                self.witness = witness.filter(|_| !self.fresh);
                if let Err(e) = self.on_first_read(client, read, host_time) {
                    return self.or_read_again(e);
                }
                // The family's user, if the store read it too: used only if it is the family's `sub`.
                let subject = &*self.family()?.info.subject;
                match user.filter(|u| u.as_ref().is_none_or(|u| *u.subject == *subject)) {
                    Some(user) => {
                        self.state = State::Finished;
                        self.on_user(user)
                    }
                    None => Ok(Need::UserBySubject(&self.family()?.info.subject)),
                }
            }
            (State::AwaitUser, Input::User(user)) => self.on_user(user),
            (State::AwaitHook, Input::Hook(answer)) => {
                let overrides = super::mint::accept_hook_answer(answer)?;
                self.overrides = Some(overrides);
                self.write()
            }
            (State::AwaitAdvance { current, key_id }, Input::Advanced(advance)) => {
                self.on_advance(current, key_id, advance)
            }
            (State::AwaitReread, Input::Family { read, host_time }) => {
                let family = self.found(read.family)?;
                // R-ROT-9: the time of the new decision is read after the new read.
                self.now = read.time.unwrap_or(host_time);
                check_live(&family, self.now)?;
                let grace = self.grace()?;
                self.decision = decide(self.presented()?, &family.state, true, grace, self.now);
                // R-REF-9 on what was read again: the winner may have bound or confirmed the device.
                self.device = self.device_step(&family)?;
                self.family = Some(family);
                self.write()
            }
            (State::AwaitReuseRevoke, Input::Revoked(was_live)) => {
                // After the write (R-OPS-3): the reuse, and the revocation if this request made it.
                self.report.write_answered();
                if was_live {
                    let family = self.family()?;
                    let event = SecurityEvent::FamilyRevoked {
                        family: family.id.to_uuid_string(),
                        client_id: self.req.client_id.as_str().to_owned(),
                        subject: family.info.subject.to_string(),
                        cause: RevocationCause::Reuse,
                        time: self.now,
                    };
                    self.report.event(event);
                }
                Err(Error::RefreshTokenReused)
            }
            (State::AwaitConfirm, Input::DeviceConfirmed(_)) => self.finish(),
            (State::AwaitBind, Input::DeviceBound(bound)) => self.on_bound(bound),
            _ => Ok(out_of_order()),
        }
    }

    /// R-REF-1: the request's shape, for what its types do not guarantee (the client id, secret and
    /// device key were checked when the host parsed them).
    fn check_shape(&self) -> Result<(), Error> {
        checks::check_refresh_token_shape(self.req.refresh_token.expose_secret())?;
        if let Some(m) = self.req.client_metadata {
            checks::check_client_metadata(m)?;
        }
        Ok(())
    }

    /// The client's checks, then the family's (R-REF-2 to R-REF-7), on the first read.
    fn on_first_read(
        &mut self,
        client: Option<Arc<AppClient>>,
        read: Result<FamilyRead, Error>,
        host_time: Timestamp,
    ) -> Result<(), Error> {
        self.on_client(client)?;
        let read = read?;
        let family = self.found(read.family)?;
        self.now = read.time.unwrap_or(host_time);
        self.on_family(family)
    }

    /// R-REF-2, R-REF-3 and R-ROT-8: the client, before anything of the family is looked at.
    fn on_client(&mut self, client: Option<Arc<AppClient>>) -> Result<(), Error> {
        // R-REF-2.
        let client = client.ok_or_else(|| Error::ClientNotFound {
            client_id: self.req.client_id.as_str().to_owned(),
        })?;
        match self.legacy {
            // R-ROT-8: rotation first (such a client never allows the legacy flow, R-CFG-7, and the
            // caller is better served by being pointed at GetTokensFromRefreshToken), then the flow.
            Some(hash) => {
                let config = client.config();
                if config.refresh_token_rotation().is_enabled() {
                    return Err(Error::UseGetTokensFromRefreshToken {
                        client_id: self.req.client_id.as_str().to_owned(),
                    });
                }
                if !config.allows_refresh_token_auth() {
                    return Err(Error::AuthFlowNotEnabled {
                        flow: "REFRESH_TOKEN_AUTH".into(),
                    });
                }
                if client.secret().is_none() && hash.is_some() {
                    return Err(Error::ClientHasNoSecret {
                        client_id: self.req.client_id.as_str().to_owned(),
                    });
                }
                // R-REF-3: a missing SECRET_HASH is refused with the client's checks, before anything
                // of the token or the family is told; only verifying one needs the family's username.
                if client.secret().is_some() && hash.is_none() {
                    return Err(Error::ClientSecretMissing {
                        client_id: self.req.client_id.as_str().to_owned(),
                    });
                }
            }
            // R-REF-3.
            None => authenticate(
                &client,
                Credential {
                    secret: self.req.client_secret,
                    secret_hash: None,
                },
                &[],
            )?,
        }
        if let Some(decoded) = self.decoded {
            self.report.family_is(decoded.family());
        }
        self.client = Some(client);
        Ok(())
    }

    /// A family as read: it must exist and have reached the presented generation (R-FAM-4).
    fn found(&self, family: Option<Family>) -> Result<Family, Error> {
        let family = family.ok_or(Error::InvalidRefreshToken)?;
        checks::answered_for(self.decoded.map(|d| d.family()), &family)?;
        if self.presented()? > family.state.generation {
            return Err(Error::InvalidRefreshToken);
        }
        Ok(family)
    }

    /// R-REF-5 to R-REF-7; then the user is needed.
    fn on_family(&mut self, family: Family) -> Result<(), Error> {
        // R-REF-3 on the legacy path: a SECRET_HASH that was sent is verified as soon as the family's
        // username is known, before anything else of the family (R-REF-5 onwards) is told.
        if let Some(hash) = self.legacy {
            let info = &family.info;
            authenticate(
                self.client()?,
                Credential {
                    secret: None,
                    secret_hash: hash,
                },
                &[&info.username, &info.subject],
            )?;
        }
        // R-REF-5.
        if *family.info.client_id != *self.req.client_id.as_str() {
            return Err(Error::RefreshTokenOfOtherClient);
        }
        // R-REF-6 and R-REF-7.
        check_live(&family, self.now)?;
        self.family = Some(family);
        self.state = State::AwaitUser;
        Ok(())
    }

    fn on_user(&mut self, user: Option<Arc<UserRecord>>) -> Result<Step<'_>, Error> {
        if let Err(e) = self.decide_with(user) {
            return self.or_read_again(e);
        }
        // On an answer from memory, only an advance (whose compare-and-set verifies the answer) goes on.
        if self.witness.is_some() && !matches!(self.decision, Decision::Advance { .. }) {
            return self.or_read_again(Error::Internal {
                detail: "a remembered answer is only for an advance",
            });
        }
        if self.decision == Decision::Reuse {
            return self.reuse();
        }
        // R-REF-11: the hook may still refuse; nothing has been written yet.
        if self.engine.hook {
            self.state = State::AwaitHook;
            let client = self.client.as_deref().ok_or_else(missing)?;
            let user = self.user.as_deref().ok_or_else(missing)?;
            return Ok(Need::Hook(hook_event(
                TriggerSource::RefreshTokens,
                client,
                user,
                self.req.client_metadata,
            )));
        }
        self.write()
    }

    /// R-REF-8, then the decision (R-REF-10) and the device step (R-REF-9).
    fn decide_with(&mut self, user: Option<Arc<UserRecord>>) -> Result<(), Error> {
        // R-REF-8.
        let user = user.ok_or(Error::UserNotFound)?;
        // The family's user, and no other: tokens are minted from this record (R-REF-12), so a
        // directory answering for another `sub` (a misrouted query) must not lend it its identity.
        if *user.subject != *self.family()?.info.subject {
            return Err(Error::Internal {
                detail: "user directory answered another user than the one asked for",
            });
        }
        if !user.enabled {
            return Err(Error::UserDisabled);
        }
        self.user = Some(user);
        // R-REF-10: the decision, a pure function of what was read.
        let rotation_on = self
            .client()?
            .config()
            .refresh_token_rotation()
            .is_enabled();
        let grace = self.grace()?;
        let family = self.family()?;
        let decision = decide(
            self.presented()?,
            &family.state,
            rotation_on,
            grace,
            self.now,
        );
        // R-REF-9.
        let device = self.device_step(family)?;
        (self.decision, self.device) = (decision, device);
        Ok(())
    }

    /// R-ROT-4 / R-ROT-7, with the reuse policy.
    fn reuse(&mut self) -> Result<Step<'_>, Error> {
        let event = self.reuse_detected()?;
        if self.engine.reuse_policy == ReusePolicy::RevokeFamily {
            // The event follows the revocation's answer; a request cancelled while it awaits that
            // answer still traces and counts the reuse.
            self.report.event_after_write(event);
            self.state = State::AwaitReuseRevoke;
            return Ok(Need::Revoke(self.family()?.id));
        }
        // Nothing to write: the event follows the decision.
        self.report.event(event);
        Err(Error::RefreshTokenReused)
    }

    /// R-OPS-3: one event per request answered with the reuse exception.
    fn reuse_detected(&self) -> Result<SecurityEvent, Error> {
        let family = self.family()?;
        Ok(SecurityEvent::ReuseDetected {
            family: family.id.to_uuid_string(),
            client_id: self.req.client_id.as_str().to_owned(),
            subject: family.info.subject.to_string(),
            presented_generation: self.presented()?,
            current_generation: family.state.generation,
            policy: self.engine.reuse_policy,
            time: self.now,
        })
    }

    /// The one write of a rotation, or the token a retry gets, per the decision.
    fn write(&mut self) -> Result<Step<'_>, Error> {
        if self.decision != Decision::Reuse {
            // R-JWT-6: tokens that could not be issued are refused before anything is written; on an
            // answer from memory, that refusal is decided again on a read (R-PER-5).
            if let Err(e) = self.check_token_sizes() {
                return self.or_read_again(e);
            }
        }
        match self.decision {
            Decision::NoRotation => self.device(),
            Decision::Reuse => self.reuse(),
            Decision::Retry { successor } => {
                let family = self.family()?;
                let (key_id, id) = (family.state.key_id, family.id);
                // The successor as the advance issued it, under the key it recorded (R-ROT-10). A key
                // added and promoted since this request took its keys (R-OPS-4) is in the live ones.
                let encode =
                    |keys: &KeySet| keys.refresh_keys().encode_with_key(key_id, &id, successor);
                let token = match encode(&self.keys) {
                    Some(token) => token,
                    None => {
                        self.keys = self.engine.keys.load();
                        encode(&self.keys).ok_or(Error::InvalidRefreshToken)?
                    }
                };
                self.refresh_token = Some(token);
                self.device()
            }
            Decision::Advance { current } => {
                self.attempts = self.attempts.checked_sub(1).ok_or(Error::Internal {
                    detail: "rotation did not settle",
                })?;
                let grace = self.grace()?;
                let grace_deadline =
                    self.now
                        .checked_add_secs(u64::from(grace))
                        .ok_or(Error::Internal {
                            detail: "grace deadline overflows",
                        })?;
                let key_id = self.keys.refresh_keys().current_key_id();
                self.state = State::AwaitAdvance { current, key_id };
                Ok(Need::Advance {
                    family: self.family()?.id,
                    expected: current,
                    grace_deadline,
                    key_id,
                    witness: self.witness.clone(),
                })
            }
        }
    }

    fn on_advance(
        &mut self,
        current: u32,
        key_id: u32,
        advance: Advance,
    ) -> Result<Step<'_>, Error> {
        // A witnessed advance that did not happen: something the answer from memory said is no longer
        // true. Read, and decide on what is.
        if self.witness.is_some() && !matches!(advance, Advance::Advanced(_)) {
            return self.or_read_again(Error::Internal {
                detail: "a witnessed advance did not happen",
            });
        }
        match advance {
            // The state after the write is the one asked for, or the store did something else: no
            // token is minted on it.
            Advance::Advanced(state)
                if Some(state.generation) != current.checked_add(1) || state.key_id != key_id =>
            {
                Err(Error::Internal {
                    detail: "store answered an advance other than the one asked for",
                })
            }
            Advance::Advanced(state) => {
                let family = self.family.as_mut().ok_or_else(missing)?;
                family.state = state;
                // Under the key recorded at the advance (R-ROT-10): this request's current key.
                self.refresh_token = Some(
                    self.keys
                        .refresh_keys()
                        .encode_with_key(state.key_id, &family.id, state.generation)
                        .ok_or(Error::Internal {
                            detail: "store recorded a refresh token key the request did not name",
                        })?,
                );
                self.device()
            }
            Advance::Unchanged(state) if state.revoked => Err(Error::RefreshTokenRevoked),
            // Only a generation at `u32::MAX` cannot advance. A store may refuse at another for a
            // reason of its own (an expiry it checks too): that is decided on a read, below.
            Advance::Unchanged(state) if state.generation == current && current == u32::MAX => {
                Err(Error::Internal {
                    detail: "refresh token generation exhausted",
                })
            }
            // R-ROT-5: lost the race (or refused, above). Decide again from a fresh read, on a time
            // taken after it (R-ROT-9): the winner's grace deadline is later than the time this
            // request started with, so that time could make a loser a retry after the window closed.
            Advance::Unchanged(_) => {
                self.state = State::AwaitReread;
                Ok(Need::Family(self.family()?.id))
            }
            Advance::NotFound => Err(Error::InvalidRefreshToken),
        }
    }

    /// The family after the bind: the device this request issued is announced; one another request bound
    /// first decides again what this one may do (R-REF-9), as if it had been read.
    fn on_bound(&mut self, bound: Option<Family>) -> Result<Step<'_>, Error> {
        let bound = bound.ok_or(Error::InvalidRefreshToken)?;
        if bound.id != self.family()?.id {
            return Err(Error::Internal {
                detail: "store bound another family than the one asked for",
            });
        }
        let not_bound = Error::Internal {
            detail: "store did not bind the device",
        };
        let key = bound
            .info
            .device_key
            .as_deref()
            .ok_or_else(|| not_bound.clone())?;
        let issued = self.new_device_key.as_deref().unwrap_or("");
        let ours = constant_time_eq(key.as_bytes(), issued.as_bytes());
        self.family = Some(bound);
        if ours {
            self.new_device = Some(NewDevice::announcing(issued));
            return self.finish();
        }
        self.device = self.device_step(self.family()?)?;
        if self.device == DeviceStep::Issue {
            return Err(not_bound);
        }
        self.device()
    }

    /// What R-REF-9 asks of `family` for this request; where the answer cannot announce a device, none
    /// is issued (R-OAUTH-4).
    fn device_step(&self, family: &Family) -> Result<DeviceStep, Error> {
        let step = device_step(self.engine.device_tracking, family, self.req.device_key)?;
        Ok(match step {
            DeviceStep::Issue if !self.req.announces_device => DeviceStep::Keep,
            step => step,
        })
    }

    /// R-REF-9: now that an answer will be given, bind or confirm the device.
    fn device(&mut self) -> Result<Step<'_>, Error> {
        match self.device {
            DeviceStep::Keep => self.finish(),
            DeviceStep::Reannounce => {
                self.new_device = self
                    .family()?
                    .info
                    .device_key
                    .as_deref()
                    .map(NewDevice::announcing);
                self.finish()
            }
            DeviceStep::Confirm => {
                let device_key = self.req.device_key.ok_or_else(missing)?.expose_secret();
                self.state = State::AwaitConfirm;
                Ok(Need::ConfirmDevice {
                    family: self.family()?.id,
                    device_key,
                })
            }
            DeviceStep::Issue => {
                let family = self.family()?.id;
                let key = self.engine.new_device_key()?;
                self.state = State::AwaitBind;
                Ok(Need::BindDevice {
                    family,
                    device_key: self.new_device_key.insert(key),
                })
            }
        }
    }

    /// R-JWT-6 before the write ([`Engine::check_token_sizes`]).
    fn check_token_sizes(&self) -> Result<(), Error> {
        let user = self.user.as_deref().ok_or_else(missing)?;
        self.engine.check_token_sizes(
            self.keys.signer(),
            self.client.as_deref().ok_or_else(missing)?,
            self.family.as_ref().ok_or_else(missing)?,
            &MintInput {
                user,
                overrides: self.overrides.as_ref(),
            },
            self.now,
            self.device == DeviceStep::Issue,
        )
    }

    /// R-REF-12: mint, and hand over the answer.
    fn finish(&mut self) -> Result<Step<'_>, Error> {
        self.state = State::Finished;
        let client = self.client.as_deref().ok_or_else(missing)?;
        let family = self.family.as_ref().ok_or_else(missing)?;
        let user = self.user.as_deref().ok_or_else(missing)?;
        let mut tokens = self.engine.mint(
            self.keys.signer(),
            client,
            family,
            &MintInput {
                user,
                overrides: self.overrides.as_ref(),
            },
            self.now,
            self.new_device.take(),
        )?;
        tokens.refresh_token = self.refresh_token.take();
        self.report.succeeded(match self.decision {
            Decision::Advance { .. } => Outcome::Advanced,
            Decision::Retry { .. } => Outcome::Retry,
            Decision::NoRotation => Outcome::NoRotation,
            Decision::Reuse => Outcome::Reuse,
        });
        Ok(Need::Done(Ok(tokens)))
    }

    fn presented(&self) -> Result<u32, Error> {
        Ok(self.decoded.as_ref().ok_or_else(missing)?.generation())
    }

    fn client(&self) -> Result<&AppClient, Error> {
        self.client.as_deref().ok_or_else(missing)
    }

    fn family(&self) -> Result<&Family, Error> {
        self.family.as_ref().ok_or_else(missing)
    }

    fn grace(&self) -> Result<u8, Error> {
        Ok(self
            .client()?
            .config()
            .refresh_token_rotation()
            .retry_grace_period_seconds())
    }
}

/// What a flow's state lacks when the driver skipped a step: never, for a driver that answers what it
/// is asked. A function rather than a constant, so that `ok_or_else` builds (and drops) the error only when it
/// is needed: an `ok_or` with a constant drops one on every success, about twenty times a refresh.
fn missing() -> Error {
    Error::Internal {
        detail: "refresh flow state incomplete",
    }
}

/// The hook's event (R-REF-11).
pub(crate) fn hook_event<'a>(
    trigger: TriggerSource,
    client: &'a AppClient,
    user: &'a UserRecord,
    client_metadata: Option<&'a std::collections::HashMap<String, String>>,
) -> PreTokenGenerationEvent<'a> {
    static EMPTY: std::sync::OnceLock<std::collections::HashMap<String, String>> =
        std::sync::OnceLock::new();
    PreTokenGenerationEvent {
        trigger_source: trigger,
        client_id: client.client_id(),
        username: &user.username,
        subject: &user.subject,
        user_attributes: &user.attributes,
        groups: &user.groups,
        client_metadata: client_metadata.unwrap_or_else(|| EMPTY.get_or_init(Default::default)),
    }
}
