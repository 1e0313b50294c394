//! What an operation came to, for operators (R-OPS-1 to R-OPS-3): its outcome, the family it touched and
//! the security events it caused.
//!
//! The classification lives here, with the rules, so that the drivers only emit it (R-ENG-1): a flow
//! fills its [`Report`] as it decides, and a driver reads it after [`Need::Done`](super::Need::Done) to
//! record the span, the metrics and the security events.

use crate::error::Error;
use crate::events::SecurityEvent;
use crate::store::FamilyId;

/// The operations the drivers run, as traces and metrics name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Sign-in (SPEC 4).
    SignIn,
    /// GetTokensFromRefreshToken (SPEC 5 and 6).
    Refresh,
    /// The legacy refresh flow, `REFRESH_TOKEN_AUTH` (R-ROT-8).
    LegacyRefresh,
    /// RevokeToken (R-REV-1, R-REV-2).
    Revoke,
    /// Global sign-out (R-REV-3).
    GlobalSignOut,
    /// Token introspection (R-OAUTH-7).
    Introspect,
}

impl Operation {
    /// The snake-case name: the span name and the `operation` label (`sign_in`, `refresh`,
    /// `legacy_refresh`, `revoke`, `global_sign_out`, `introspect`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::SignIn => "sign_in",
            Operation::Refresh => "refresh",
            Operation::LegacyRefresh => "legacy_refresh",
            Operation::Revoke => "revoke",
            Operation::GlobalSignOut => "global_sign_out",
            Operation::Introspect => "introspect",
        }
    }

    /// Whether this is one of the two refresh operations.
    pub const fn is_refresh(self) -> bool {
        matches!(self, Operation::Refresh | Operation::LegacyRefresh)
    }
}

/// How an operation ended (R-OPS-1), coarse enough to be a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// A sign-in issued a new family.
    Issued,
    /// A refresh rotated: the family advanced one generation (R-ROT-1).
    Advanced,
    /// A retry inside the grace window, or a race loser, got the existing successor (R-ROT-2, R-ROT-5).
    Retry,
    /// A refresh on a client without rotation (R-ROT-6).
    NoRotation,
    /// A rotated-out token was refused as reuse (R-ROT-4, R-ROT-7).
    Reuse,
    /// The family had been revoked (R-REV-2), or this request revoked it (RevokeToken, global sign-out).
    Revoked,
    /// The family had expired (R-REF-7).
    Expired,
    /// The token was not valid: malformed, unauthenticated, unknown, of another client (R-REF-4, R-REF-5).
    Invalid,
    /// A revocation that changed nothing: an unknown, invalid or already revoked token (RFC 7009 §2.2),
    /// or a global sign-out of a user with no live family.
    Unchanged,
    /// Any other refusal of the caller's request: parameters, client authentication, flows, user, hook.
    ClientError,
    /// The issuer or its store failed.
    Internal,
    /// An introspected token is active (R-OAUTH-7).
    Active,
    /// An introspected token is not active: unknown, forged, expired, revoked, rotated out, or of
    /// another client (R-OAUTH-7).
    Inactive,
    /// The request was dropped before it ended (its future, with the asynchronous driver: a caller that
    /// hung up, a timeout). A store write it was awaiting may or may not have happened.
    Cancelled,
}

impl Outcome {
    /// The snake-case name: the span's `outcome` field and the `outcome` label.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Issued => "issued",
            Outcome::Advanced => "advanced",
            Outcome::Retry => "retry",
            Outcome::NoRotation => "no_rotation",
            Outcome::Reuse => "reuse",
            Outcome::Revoked => "revoked",
            Outcome::Expired => "expired",
            Outcome::Invalid => "invalid",
            Outcome::Unchanged => "unchanged",
            Outcome::ClientError => "client_error",
            Outcome::Internal => "internal",
            Outcome::Active => "active",
            Outcome::Inactive => "inactive",
            Outcome::Cancelled => "cancelled",
        }
    }

    /// The outcome of an operation that failed with `error`.
    pub fn of_error(error: &Error) -> Outcome {
        match error {
            Error::RefreshTokenReused => Outcome::Reuse,
            Error::RefreshTokenRevoked => Outcome::Revoked,
            Error::RefreshTokenExpired => Outcome::Expired,
            Error::InvalidRefreshToken | Error::RefreshTokenOfOtherClient => Outcome::Invalid,
            Error::Internal { .. } | Error::Store(_) => Outcome::Internal,
            _ => Outcome::ClientError,
        }
    }
}

/// What a flow came to: filled by the flow as it decides, read by the driver once the flow is over
/// ([`Flow::report`](super::Flow::report)).
#[derive(Debug)]
pub struct Report {
    operation: Operation,
    outcome: Option<Outcome>,
    family: Option<FamilyId>,
    events: Vec<SecurityEvent>,
    /// An event decided before the store write it depends on, delivered once that write is answered.
    awaiting_write: Option<SecurityEvent>,
}

impl Report {
    pub(crate) fn new(operation: Operation) -> Self {
        Report {
            operation,
            outcome: None,
            family: None,
            events: Vec::new(),
            awaiting_write: None,
        }
    }

    /// Records the outcome of a success.
    pub(crate) fn succeeded(&mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
    }

    /// Records the family the operation concerns, once its token has been authenticated.
    pub(crate) fn family_is(&mut self, family: FamilyId) {
        self.family = Some(family);
    }

    /// Records a security event, after the store write it depends on.
    pub(crate) fn event(&mut self, event: SecurityEvent) {
        self.events.push(event);
    }

    /// Records a security event that the store write about to be awaited decides on: it becomes an
    /// event once the write is answered ([`write_answered`](Self::write_answered)); a request cancelled
    /// before that still traces and counts it ([`take_events_cancelled`](Self::take_events_cancelled)).
    pub(crate) fn event_after_write(&mut self, event: SecurityEvent) {
        self.awaiting_write = Some(event);
    }

    /// The write that [`event_after_write`](Self::event_after_write) awaited was answered.
    pub(crate) fn write_answered(&mut self) {
        self.events.extend(self.awaiting_write.take());
    }

    /// The operation.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The outcome, given how the operation ended: `error` is its error, if it failed (whether the flow
    /// decided it or the driver's I/O did).
    pub fn outcome(&self, error: Option<&Error>) -> Outcome {
        match error {
            Some(e) => Outcome::of_error(e),
            // A success always records its outcome; `Internal` only for a driver that stopped early.
            None => self.outcome.unwrap_or(Outcome::Internal),
        }
    }

    /// The family, once its token was authenticated: traces show it only as its `origin_jti`
    /// ([`FamilyId::to_uuid_string`]).
    pub fn family(&self) -> Option<FamilyId> {
        self.family
    }

    /// The security events so far, in order (R-OPS-3).
    pub fn events(&self) -> &[SecurityEvent] {
        &self.events
    }

    /// Takes the security events, leaving none: each is delivered once.
    pub fn take_events(&mut self) -> Vec<SecurityEvent> {
        std::mem::take(&mut self.events)
    }

    /// For a request cancelled before it ended: takes its security events, and the one whose store
    /// write it was still awaiting (a reuse detected, whose revocation may or may not have happened).
    pub fn take_events_cancelled(&mut self) -> Vec<SecurityEvent> {
        let mut events = self.take_events();
        events.extend(self.awaiting_write.take());
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::StoreError;

    #[test]
    fn r_ops_1_errors_classify_coarsely() {
        let table = [
            (Error::RefreshTokenReused, "reuse"),
            (Error::RefreshTokenRevoked, "revoked"),
            (Error::RefreshTokenExpired, "expired"),
            (Error::InvalidRefreshToken, "invalid"),
            (Error::RefreshTokenOfOtherClient, "invalid"),
            (Error::UserNotFound, "client_error"),
            (Error::Store(StoreError::Full), "internal"),
            (Error::Internal { detail: "x" }, "internal"),
        ];
        for (e, want) in table {
            assert_eq!(Outcome::of_error(&e).as_str(), want, "{e:?}");
        }
        let r = Report::new(Operation::Refresh);
        assert_eq!(r.outcome(None), Outcome::Internal);
    }
}
