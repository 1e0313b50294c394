//! Token introspection (R-OAUTH-7, RFC 7662) as a state machine: is this token active, and for whom?
//!
//! Beyond Cognito, whose resource servers can only trust a JWT until it expires, this answers from the
//! family's state. A refresh token is active exactly when a refresh presenting it would pass the
//! rotation decision of SPEC 6 (the current generation, or its predecessor inside an open grace window,
//! [`decide`]) and its family is neither revoked nor expired. An ID or access token is active when it
//! verifies (signature, issuer, use, client, expiry: R-JWT-6) and its family (`origin_jti`) is not
//! revoked. Anything else, a token of another client included, is inactive: introspection never says
//! why, so it cannot be used to probe tokens (RFC 7662 §2.2).
//!
//! The caller authenticates as a client first (R-OAUTH-1): unknown client and wrong or missing secret are
//! errors, not inactive answers. The flow reads the client, then at most one family; it never writes.

use std::sync::Arc;

use crate::client::AppClient;
use crate::clock::Timestamp;
use crate::error::Error;
use crate::jwt::{JwtVerifier, TokenUse, VerifiedClaims};
use crate::store::{Family, FamilyId};
use crate::token::TokenRejection;

use super::checks;
use super::client_auth::client_with_secret;
use super::ids::{ClientId, PresentedSecret};
use super::refresh::{decide, Decision};
use super::report::{Operation, Outcome, Report};
use super::{out_of_order, Engine, Flow, Input, Need};

/// Which kind of token an introspection found, named as RFC 7009's token type hints name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IntrospectedTokenType {
    /// One of this crate's refresh tokens.
    RefreshToken,
    /// An access token (`token_use` = `access`).
    AccessToken,
    /// An ID token (`token_use` = `id`).
    IdToken,
}

impl IntrospectedTokenType {
    /// `refresh_token`, `access_token` or `id_token`: the value of an introspection's `token_type`, so
    /// that a resource server can refuse an ID or refresh token presented as an access token.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RefreshToken => "refresh_token",
            Self::AccessToken => "access_token",
            Self::IdToken => "id_token",
        }
    }
}

/// What an active token is (R-OAUTH-7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiveToken {
    /// The kind of token.
    pub token_type: IntrospectedTokenType,
    /// The app client it was issued to.
    pub client_id: Arc<str>,
    /// The user's username.
    pub username: Box<str>,
    /// The user's `sub`.
    pub subject: Box<str>,
    /// The family's scopes, space-separated.
    pub scope: Arc<str>,
    /// When it expires: the JWT's `exp`, or the family's absolute expiry for a refresh token (R-FAM-5).
    pub expires_at: Timestamp,
    /// When it was issued: the JWT's `iat`, or the sign-in that started the family (`auth_time`) for a
    /// refresh token, since the family keeps no time per generation.
    pub issued_at: Timestamp,
}

/// The answer to an introspection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Introspection {
    /// The token is active.
    Active(ActiveToken),
    /// The token is not active, or not one this pool issued to this client: `{"active": false}`.
    Inactive,
}

enum State {
    Start,
    AwaitClient,
    AwaitRefreshFamily {
        family: FamilyId,
        generation: u32,
    },
    AwaitJwtFamily {
        family: FamilyId,
        token_type: IntrospectedTokenType,
        token_use: TokenUse,
        /// Verified but for its times, which are judged once the family is read, by the time that
        /// decides the read (R-ROT-11).
        claims: VerifiedClaims,
        verifier: Box<JwtVerifier>,
    },
    Finished,
}

/// An introspection in progress: drive it through [`Flow`] (see the [engine](super)).
pub struct IntrospectFlow<'r> {
    engine: &'r Engine,
    token: &'r str,
    client_id: ClientId<'r>,
    client_secret: Option<PresentedSecret<'r>>,
    client: Option<Arc<AppClient>>,
    state: State,
    report: Report,
}

impl std::fmt::Debug for IntrospectFlow<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntrospectFlow")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

type Step<'f> = Need<'f, Introspection>;

impl Flow for IntrospectFlow<'_> {
    type Output = Introspection;

    fn report(&mut self) -> &mut Report {
        &mut self.report
    }

    fn next(&mut self, input: Input) -> Step<'_> {
        // `step` leaves the state `Finished` unless it asks for something, so an error ends the flow.
        self.step(input).unwrap_or_else(|e| Need::Done(Err(e)))
    }
}

const INACTIVE: Result<Introspection, Error> = Ok(Introspection::Inactive);

impl<'r> IntrospectFlow<'r> {
    /// The answer, with its outcome recorded for the driver (R-OPS-1).
    fn done(&mut self, answer: Result<Introspection, Error>) -> Step<'static> {
        if let Ok(a) = &answer {
            self.report.succeeded(match a {
                Introspection::Inactive => Outcome::Inactive,
                Introspection::Active(_) => Outcome::Active,
            });
        }
        Need::Done(answer)
    }

    pub(crate) fn new(
        engine: &'r Engine,
        token: &'r str,
        client_id: ClientId<'r>,
        client_secret: Option<PresentedSecret<'r>>,
    ) -> Self {
        IntrospectFlow {
            engine,
            token,
            client_id,
            client_secret,
            client: None,
            state: State::Start,
            report: Report::new(Operation::Introspect),
        }
    }

    fn step(&mut self, input: Input) -> Result<Step<'_>, Error> {
        let state = std::mem::replace(&mut self.state, State::Finished);
        match (state, input) {
            (State::Start, Input::Start) => {
                self.state = State::AwaitClient;
                Ok(Need::Client(self.client_id.as_str()))
            }
            (State::AwaitClient, Input::Client(client)) => self.on_client(client),
            (
                State::AwaitRefreshFamily { family, generation },
                Input::Family { read, host_time },
            ) => {
                if let Some(answer) = &read.family {
                    checks::answered_for(Some(family), answer)?;
                }
                // R-ROT-11: the store's time when it keeps one, else the host's, read after the read.
                let now = read.time.unwrap_or(host_time);
                Ok(self.done(Ok(self.refresh_answer(read.family, generation, now))))
            }
            (
                State::AwaitJwtFamily {
                    family,
                    token_type,
                    token_use,
                    claims,
                    verifier,
                },
                Input::Family { read, host_time },
            ) => {
                if let Some(answer) = &read.family {
                    checks::answered_for(Some(family), answer)?;
                }
                // R-ROT-11: expiry is judged by the time that decides the read (the store's when it
                // keeps one, else the host's, read after the read). The token was minted on the store's
                // clock (a refresh over such a store) or on a host's (a sign-in): it is issued already
                // if either clock says so.
                let now = read.time.unwrap_or(host_time);
                if verifier
                    .check_times(&claims, token_use, now, now.max(host_time))
                    .is_err()
                {
                    return Ok(self.done(INACTIVE));
                }
                // A family that is gone answers inactive: the active answer names the family's user
                // and scopes, which are gone with it. (The store-backed revocation check lets such a
                // token verify; it is purged only long after every JWT it minted expired, R-REV-6.)
                let Some(family) = read.family else {
                    return Ok(self.done(INACTIVE));
                };
                if family.state.revoked || *family.info.client_id != *self.client_id.as_str() {
                    return Ok(self.done(INACTIVE));
                }
                let (iat, exp) = (claims.issued_at(), claims.expires_at());
                Ok(self.done(Ok(active(&family, token_type, iat, exp))))
            }
            _ => Ok(out_of_order()),
        }
    }

    fn on_client(&mut self, client: Option<Arc<AppClient>>) -> Result<Step<'_>, Error> {
        let client = client_with_secret(client, self.client_id.as_str(), self.client_secret)?;
        self.client = Some(client);
        // R-SAFE-1: nothing longer than a token can be is decoded or verified.
        if self.token.is_empty() || self.token.len() > crate::jwt::MAX_TOKEN_LEN {
            return Ok(self.done(INACTIVE));
        }
        match self.engine.keys.load().refresh_keys().decode(self.token) {
            Ok(decoded) => {
                self.state = State::AwaitRefreshFamily {
                    family: decoded.family(),
                    generation: decoded.generation(),
                };
                Ok(Need::Family(decoded.family()))
            }
            // The right shape under no key of ours, or a bad MAC: a forged refresh token.
            Err(TokenRejection::Unauthenticated) => Ok(self.done(INACTIVE)),
            // Not a refresh token at all: perhaps an ID or access token.
            Err(TokenRejection::Malformed) => self.jwt(),
        }
    }

    /// An ID or access token: verified by the pool's own keys for this client, then its family is read
    /// for revocation.
    fn jwt(&mut self) -> Result<Step<'_>, Error> {
        // The pool's own JWKS always loads (the signer publishes no more keys than a verifier takes);
        // should it not, that is the service's fault, not the request's.
        let verifier = self
            .engine
            .keys
            .load()
            .signer()
            .verifier(self.engine.issuer_url())
            .map_err(|_| Error::Internal {
                detail: "the pool's JWKS does not load",
            })?;
        // Its times are judged after the family read, by the time that decides it (R-ROT-11).
        let verified = [
            (TokenUse::Access, IntrospectedTokenType::AccessToken),
            (TokenUse::Id, IntrospectedTokenType::IdToken),
        ]
        .into_iter()
        .find_map(|(use_, kind)| {
            verifier
                .verify_untimed(self.token, use_, self.client_id.as_str())
                .ok()
                .map(|claims| (use_, kind, claims))
        });
        let Some((token_use, token_type, claims)) = verified else {
            return Ok(self.done(INACTIVE));
        };
        let Some(family) = FamilyId::from_uuid_str(claims.origin_jti()) else {
            return Ok(self.done(INACTIVE));
        };
        self.state = State::AwaitJwtFamily {
            family,
            token_type,
            token_use,
            claims,
            verifier: Box::new(verifier),
        };
        Ok(Need::Family(family))
    }

    /// The rule on family state for a refresh token of generation `generation` at `now`.
    fn refresh_answer(
        &self,
        family: Option<Family>,
        generation: u32,
        now: Timestamp,
    ) -> Introspection {
        let Some(family) = family else {
            return Introspection::Inactive;
        };
        let Some(client) = self.client.as_deref() else {
            return Introspection::Inactive;
        };
        if *family.info.client_id != *self.client_id.as_str()
            || generation > family.state.generation
            || family.state.revoked
            || now >= family.info.expires_at
        {
            return Introspection::Inactive;
        }
        let rotation = client.config().refresh_token_rotation();
        let decision = decide(
            generation,
            &family.state,
            rotation.is_enabled(),
            rotation.retry_grace_period_seconds(),
            now,
        );
        if decision == Decision::Reuse {
            return Introspection::Inactive;
        }
        active(
            &family,
            IntrospectedTokenType::RefreshToken,
            family.info.auth_time,
            family.info.expires_at,
        )
    }
}

fn active(
    family: &Family,
    token_type: IntrospectedTokenType,
    issued_at: Timestamp,
    expires_at: Timestamp,
) -> Introspection {
    let info = &family.info;
    Introspection::Active(ActiveToken {
        token_type,
        client_id: info.client_id.clone(),
        username: info.username.clone(),
        subject: info.subject.clone(),
        scope: info.scopes.clone(),
        expires_at,
        issued_at,
    })
}
