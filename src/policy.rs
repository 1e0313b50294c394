//! The reuse policy: what happens, besides the error, when a rotated-out refresh token comes back
//! (R-ROT-4). A leaf, shared by the engine that applies it and the security events that report it.

/// What happens, besides the RefreshTokenReuseException, when a rotated-out refresh token is presented
/// after its grace window (R-ROT-4, R-ROT-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReusePolicy {
    /// Nothing else changes: Cognito parity. The default.
    #[default]
    Reject,
    /// The whole family is revoked, signing out both a thief and the victim (OAuth 2.0 Security BCP,
    /// RFC 9700 §4.14.2).
    ///
    /// Combined with a grace period of 0 this also signs out a benign client that submits the same
    /// refresh twice at once: the second request is reuse (R-ROT-5). Give such clients a few seconds of
    /// grace.
    RevokeFamily,
}
