//! Security events (R-OPS-3): what a security team wants to be told of, handed to a sink the host
//! installs.
//!
//! The [engine](crate::engine) decides that an event happened; the drivers hand it to the host's
//! [`SecurityEventSink`] (or [`AsyncSecurityEventSink`]) once the store write it depends on has been
//! made, exactly once per event. When they are emitted, and how many there are when several requests
//! race, is part of the behaviour contract (`docs/behaviour.md`, R-OPS-3):
//!
//! - [`SecurityEvent::ReuseDetected`]: once per request answered `RefreshTokenReuseException`. With
//!   [`ReusePolicy::RevokeFamily`] it follows the revocation write.
//! - [`SecurityEvent::FamilyRevoked`]: once per family that a request took from live to revoked
//!   (RevokeToken, or the reuse policy); a request that finds the family already revoked emits none.
//! - [`SecurityEvent::GlobalSignOut`]: once per global sign-out, after the store write.
//!
//! An event carries no secret and no token: the family appears only as its `origin_jti`
//! ([`FamilyId::to_uuid_string`](crate::store::FamilyId::to_uuid_string)), the user as their `sub`.

use crate::clock::Timestamp;
use crate::future::{ready, BoxFuture};
use crate::policy::ReusePolicy;

/// Why a family was revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationCause {
    /// RevokeToken (R-REV-2).
    RevokeToken,
    /// A rotated-out token was presented after its grace window, under [`ReusePolicy::RevokeFamily`]
    /// (R-ROT-4).
    Reuse,
    /// The client was deleted (R-REV-7): the families its deletion revoked, and one a sign-in revoked
    /// because its client was deleted while it ran.
    ClientDeleted,
    /// Global sign-out (R-REV-3).
    GlobalSignOut,
}

impl RevocationCause {
    /// The snake-case name used in metric labels and traces: `revoke_token`, `reuse`,
    /// `client_deleted`, `global_sign_out`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RevocationCause::RevokeToken => "revoke_token",
            RevocationCause::Reuse => "reuse",
            RevocationCause::ClientDeleted => "client_deleted",
            RevocationCause::GlobalSignOut => "global_sign_out",
        }
    }
}

/// A security event (R-OPS-3), with what an alert needs and nothing secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecurityEvent {
    /// A rotated-out refresh token was presented after its grace window (R-ROT-4, R-ROT-7), or with
    /// rotation off a token other than the current one: the request was answered
    /// `RefreshTokenReuseException`.
    ReuseDetected {
        /// The family, as its `origin_jti` (the claim of every ID and access token it issued).
        family: String,
        /// The app client.
        client_id: String,
        /// The user's `sub`.
        subject: String,
        /// The generation presented.
        presented_generation: u32,
        /// The family's generation when the reuse was detected.
        current_generation: u32,
        /// The policy applied: with [`ReusePolicy::RevokeFamily`] the family has been revoked (see
        /// also [`SecurityEvent::FamilyRevoked`]).
        policy: ReusePolicy,
        /// When it was decided (the time of the decision, R-ROT-9).
        time: Timestamp,
    },
    /// A live family was revoked: its refresh tokens no longer refresh and its ID and access tokens fail
    /// a verifier that checks revocation (R-REV-2, R-JWT-6).
    FamilyRevoked {
        /// The family, as its `origin_jti`.
        family: String,
        /// The app client.
        client_id: String,
        /// The user's `sub`.
        subject: String,
        /// Why.
        cause: RevocationCause,
        /// When, by the issuer's clock (or the store's, R-ROT-11).
        time: Timestamp,
    },
    /// Every family of a user was revoked (R-REV-3).
    GlobalSignOut {
        /// The user's `sub`.
        subject: String,
        /// How many live families were revoked.
        families_revoked: usize,
        /// When, by the issuer's clock.
        time: Timestamp,
    },
}

impl SecurityEvent {
    /// The snake-case name of the event: `reuse_detected`, `family_revoked`, `global_sign_out`.
    pub const fn name(&self) -> &'static str {
        match self {
            SecurityEvent::ReuseDetected { .. } => "reuse_detected",
            SecurityEvent::FamilyRevoked { .. } => "family_revoked",
            SecurityEvent::GlobalSignOut { .. } => "global_sign_out",
        }
    }
}

/// A host-supplied receiver of security events (R-OPS-3): a pager, a SIEM forwarder, an audit log.
///
/// Contract: called on the request's own thread, after the store write the event depends on and before
/// the request is answered, exactly once per event (see the [module docs](self) for what one event is).
/// It must be quick and must not panic: a slow sink slows the request it reports on. A sink that does I/O
/// should queue the event and return, or implement [`AsyncSecurityEventSink`] for an asynchronous
/// issuer. A sink cannot fail the request: the answer is already decided.
pub trait SecurityEventSink: Send + Sync {
    /// Receives one event.
    fn security_event(&self, event: &SecurityEvent);
}

impl<F> SecurityEventSink for F
where
    F: Fn(&SecurityEvent) + Send + Sync,
{
    fn security_event(&self, event: &SecurityEvent) {
        self(event)
    }
}

/// The asynchronous form of [`SecurityEventSink`] (R-ENG-2), awaited by
/// [`AsyncTokenIssuer`](crate::AsyncTokenIssuer). The contract is [`SecurityEventSink`]'s; every
/// synchronous sink is also an asynchronous one.
pub trait AsyncSecurityEventSink: Send + Sync {
    /// As [`SecurityEventSink::security_event`].
    fn security_event<'a>(&'a self, event: &'a SecurityEvent) -> BoxFuture<'a, ()>;
}

impl<S: SecurityEventSink + ?Sized> AsyncSecurityEventSink for S {
    fn security_event<'a>(&'a self, event: &'a SecurityEvent) -> BoxFuture<'a, ()> {
        SecurityEventSink::security_event(self, event);
        ready(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable() {
        let e = SecurityEvent::GlobalSignOut {
            subject: "s".into(),
            families_revoked: 2,
            time: Timestamp::EPOCH,
        };
        assert_eq!(e.name(), "global_sign_out");
        assert_eq!(RevocationCause::Reuse.as_str(), "reuse");
    }
}
