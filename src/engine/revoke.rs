//! RevokeToken (R-REV-1, R-REV-2) as a state machine.

use std::sync::Arc;

use crate::client::AppClient;
use crate::clock::Timestamp;
use crate::error::Error;
use crate::events::{RevocationCause, SecurityEvent};
use crate::secret::RefreshToken;
use crate::token::TokenRejection;

use super::checks;
use super::client_auth::client_with_secret;
use super::ids::{ClientId, PresentedSecret};
use super::{out_of_order, Engine, Flow, Input, Need, Operation, Outcome, Report};

enum State {
    Start,
    AwaitClient,
    AwaitFamily,
    AwaitRevoke,
    Finished,
}

/// A revocation in progress: drive it through [`Flow`] (see the [engine](super)).
pub struct RevokeFlow<'r> {
    engine: &'r Engine,
    token: &'r RefreshToken,
    client_id: ClientId<'r>,
    client_secret: Option<PresentedSecret<'r>>,
    state: State,
    generation: u32,
    /// The time of the read, for the security event.
    now: Timestamp,
    /// The family's `sub`, for the security event.
    subject: Option<Box<str>>,
    report: Report,
}

impl std::fmt::Debug for RevokeFlow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevokeFlow")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

type Step<'f> = Need<'f, ()>;

impl Flow for RevokeFlow<'_> {
    type Output = ();

    fn next(&mut self, input: Input) -> Step<'_> {
        // `step` leaves the state `Finished` unless it asks for something, so an error ends the flow.
        self.step(input).unwrap_or_else(|e| Need::Done(Err(e)))
    }

    fn report(&mut self) -> &mut Report {
        &mut self.report
    }
}

impl<'r> RevokeFlow<'r> {
    pub(crate) fn new(
        engine: &'r Engine,
        token: &'r RefreshToken,
        client_id: ClientId<'r>,
        client_secret: Option<PresentedSecret<'r>>,
    ) -> Self {
        RevokeFlow {
            engine,
            token,
            client_id,
            client_secret,
            state: State::Start,
            generation: 0,
            now: Timestamp::EPOCH,
            subject: None,
            report: Report::new(Operation::Revoke),
        }
    }

    fn step(&mut self, input: Input) -> Result<Step<'_>, Error> {
        let state = std::mem::replace(&mut self.state, State::Finished);
        match (state, input) {
            (State::Start, Input::Start) => {
                checks::check_token_shape("Token", self.token.expose_secret())?;
                self.state = State::AwaitClient;
                Ok(Need::Client(self.client_id.as_str()))
            }
            (State::AwaitClient, Input::Client(client)) => self.on_client(client),
            (State::AwaitFamily, Input::Family { read, host_time }) => {
                self.now = read.time.unwrap_or(host_time);
                // RFC 7009 §2.2: an unknown family, or a generation it never reached, is answered with
                // success and changes nothing.
                let Some(family) = read.family else {
                    return Ok(self.unchanged());
                };
                checks::answered_for(self.report.family(), &family)?;
                if self.generation > family.state.generation {
                    return Ok(self.unchanged());
                }
                if *family.info.client_id != *self.client_id.as_str() {
                    return Err(Error::TokenOfOtherClient {
                        client_id: self.client_id.as_str().to_owned(),
                    });
                }
                if family.state.revoked {
                    return Ok(self.unchanged());
                }
                self.subject = Some(family.info.subject.clone());
                self.state = State::AwaitRevoke;
                Ok(Need::Revoke(family.id))
            }
            (State::AwaitRevoke, Input::Revoked(was_live)) => {
                if !was_live {
                    // Revoked by another request between the read and the write: that one reports it.
                    return Ok(self.unchanged());
                }
                let family = self.report.family().ok_or(Error::Internal {
                    detail: "revoke flow state incomplete",
                })?;
                let event = SecurityEvent::FamilyRevoked {
                    family: family.to_uuid_string(),
                    client_id: self.client_id.as_str().to_owned(),
                    subject: self.subject.take().unwrap_or_default().into(),
                    cause: RevocationCause::RevokeToken,
                    time: self.now,
                };
                self.report.event(event);
                self.report.succeeded(Outcome::Revoked);
                Ok(Need::Done(Ok(())))
            }
            _ => Ok(out_of_order()),
        }
    }

    /// Success that changed nothing (RFC 7009 §2.2).
    fn unchanged<'f>(&mut self) -> Step<'f> {
        self.report.succeeded(Outcome::Unchanged);
        Need::Done(Ok(()))
    }

    fn on_client(&mut self, client: Option<Arc<AppClient>>) -> Result<Step<'_>, Error> {
        let client = client_with_secret(client, self.client_id.as_str(), self.client_secret)?;
        if !client.config().enable_token_revocation() {
            return Err(Error::RevocationDisabled);
        }
        let decoded = match self
            .engine
            .keys
            .load()
            .refresh_keys()
            .decode(self.token.expose_secret())
        {
            Ok(d) => d,
            Err(TokenRejection::Malformed) => return Err(Error::UnsupportedTokenType),
            // RFC 7009 §2.2: an invalid token is answered with success.
            Err(_) => return Ok(self.unchanged()),
        };
        self.report.family_is(decoded.family());
        self.generation = decoded.generation();
        self.state = State::AwaitFamily;
        Ok(Need::Family(decoded.family()))
    }
}
