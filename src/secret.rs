//! Secret values: client secrets, refresh tokens, and the other secret strings requests carry.
//!
//! Each lives in a newtype whose `Debug` prints `Name([REDACTED])`, that implements neither `Display` nor
//! `Serialize`, and whose value is read only through an explicitly named method (`expose_secret`), so a
//! secret cannot reach a log line or a JSON body by accident (R-SAFE-2). Comparisons go through
//! [`ring::hmac::verify`], which compares in constant time (R-SAFE-3).

use std::fmt;

use base64::Engine as _;
use ring::hmac;

/// The key under which secrets are compared. It need not be secret: it only turns a comparison of
/// attacker-chosen bytes into a constant-time comparison of MAC tags, via `hmac::verify`.
fn comparison_key() -> hmac::Key {
    hmac::Key::new(hmac::HMAC_SHA256, b"refresh-rotation/secret-comparison/v1")
}

/// Whether `a` and `b` are equal, in time that depends on their lengths only, never on their content
/// (R-SAFE-3): both are MACed under [`comparison_key`] and the tags compared by [`hmac::verify`].
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let key = comparison_key();
    hmac::verify(&key, b, hmac::sign(&key, a).as_ref()).is_ok()
}

/// The longest value [`ClientSecret::verify`] and [`ClientSecret::verify_secret_hash`] look at: 256
/// bytes, well above a ClientSecretType (64), a SECRET_HASH (44) or a DeviceKeyType (55).
pub(crate) const MAX_PRESENTED_LEN: usize = 256;

/// The longest SECRET_HASH looked at: a Base64 HMAC-SHA-256 is 44 characters.
pub(crate) const MAX_SECRET_HASH_LEN: usize = 128;

/// An app client's secret (R-CLI-1, R-CFG-5).
///
/// Everything a check needs is computed once, when the secret is wrapped: the MAC tag of the secret
/// under the comparison key (so [`ClientSecret::verify`] MACs only the presented value) and the HMAC key
/// made from the secret (so [`ClientSecret::verify_secret_hash`] does not rebuild it). The client secret
/// is checked on every refresh of a confidential client, on the hot path.
#[derive(Clone)]
pub struct ClientSecret(Box<Precomputed>);

#[derive(Clone)]
struct Precomputed {
    value: String,
    /// HMAC under [`comparison_key`] of `value`.
    tag: hmac::Tag,
    /// [`comparison_key`], kept to avoid deriving it per check.
    comparison: hmac::Key,
    /// `value` as an HMAC-SHA-256 key, for SECRET_HASH.
    hash_key: hmac::Key,
}

impl ClientSecret {
    /// Wraps a secret value. Validation against the model's ClientSecretType constraint is the
    /// configuration's job (R-CFG-5); this type only keeps the value out of sight.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        let comparison = comparison_key();
        ClientSecret(Box::new(Precomputed {
            tag: hmac::sign(&comparison, value.as_bytes()),
            hash_key: hmac::Key::new(hmac::HMAC_SHA256, value.as_bytes()),
            comparison,
            value,
        }))
    }

    /// The secret itself. Call only to hand it to its owner (Create/Describe output).
    pub fn expose_secret(&self) -> &str {
        &self.0.value
    }

    /// Whether `presented` equals this secret, in constant time with respect to the secret's content
    /// (R-REF-3, R-SAFE-3).
    ///
    /// A presented value longer than 256 bytes is refused before any work
    /// proportional to it (R-SAFE-1); no secret is that long, and the refusal depends only on the
    /// presented length, never on the secret.
    pub fn verify(&self, presented: &str) -> bool {
        if presented.len() > MAX_PRESENTED_LEN {
            return false;
        }
        hmac::verify(
            &self.0.comparison,
            presented.as_bytes(),
            self.0.tag.as_ref(),
        )
        .is_ok()
    }

    /// Whether `presented` is a valid SECRET_HASH for `username` and `client_id`:
    /// `Base64(HMAC-SHA-256(secret, username + client_id))`, compared in constant time by
    /// `hmac::verify` (R-SIGN-1, R-SAFE-3).
    ///
    /// A presented hash longer than 128 bytes is refused before it is decoded
    /// (R-SAFE-1): a real one is 44 characters.
    pub fn verify_secret_hash(&self, username: &str, client_id: &str, presented: &str) -> bool {
        if presented.len() > MAX_SECRET_HASH_LEN {
            return false;
        }
        let Ok(mac) = base64::engine::general_purpose::STANDARD.decode(presented) else {
            return false;
        };
        let mut msg = Vec::with_capacity(username.len() + client_id.len());
        msg.extend_from_slice(username.as_bytes());
        msg.extend_from_slice(client_id.as_bytes());
        hmac::verify(&self.0.hash_key, &msg, &mac).is_ok()
    }

    /// Computes the SECRET_HASH a client would send for `username` (for tests and SDK-style callers).
    pub fn secret_hash(&self, username: &str, client_id: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.0.hash_key);
        ctx.update(username.as_bytes());
        ctx.update(client_id.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(ctx.sign().as_ref())
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientSecret([REDACTED])")
    }
}

/// A refresh token as handed to a client: an opaque bearer credential (R-FAM-1).
///
/// It is `Clone` because a client legitimately presents the same token again (a retry inside the grace
/// window, R-ROT-2); it is still never printed.
///
/// Equality is constant-time: it never stops at the first differing byte (R-SAFE-3).
#[derive(Clone)]
pub struct RefreshToken(String);

impl PartialEq for RefreshToken {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl Eq for RefreshToken {}

impl RefreshToken {
    /// Wraps a token string received from a client or a store of the host's.
    pub fn new(value: impl Into<String>) -> Self {
        RefreshToken(value.into())
    }

    /// The token string, to send to its owner.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Consumes the wrapper and returns the token string.
    pub fn into_secret(self) -> String {
        self.0
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshToken([REDACTED])")
    }
}

/// Any other secret string a request carries once parsed: a password, a SECRET_HASH, a client secret
/// presented by a caller, a device key (R-SAFE-2).
///
/// Request types hold these members in this type rather than in `String`, so that `#[derive(Debug)]` on
/// a request is safe by construction: it prints `SecretString([REDACTED])`, and a field added later cannot
/// leak through a hand-written `Debug` that was not updated. No `Display`, no `Serialize`; equality is
/// constant-time (R-SAFE-3). Unlike [`ClientSecret`] it precomputes nothing: these values are looked at
/// once.
#[derive(Clone)]
pub(crate) struct SecretString(String);

impl SecretString {
    pub(crate) fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    /// The value, for the one check that needs it.
    pub(crate) fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl PartialEq for SecretString {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl Eq for SecretString {}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString([REDACTED])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_safe_2_debug_is_redacted() {
        let s = ClientSecret::new("supersecretvalue123456789012");
        assert_eq!(format!("{s:?}"), "ClientSecret([REDACTED])");
        let t = RefreshToken::new("tok.en");
        assert_eq!(format!("{t:?}"), "RefreshToken([REDACTED])");
        assert_eq!(format!("{:?}", Some(&t)), "Some(RefreshToken([REDACTED]))");
        let p = SecretString::new("hunter2");
        assert_eq!(format!("{p:?}"), "SecretString([REDACTED])");
        assert_eq!(format!("{p:#?}"), "SecretString([REDACTED])");
        assert_eq!(p.expose_secret(), "hunter2");
    }

    #[test]
    fn r_safe_3_constant_time_eq() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"same value", b"same value"));
        assert!(!constant_time_eq(b"same value", b"same valuf"));
        assert!(!constant_time_eq(b"same value", b"same valu"));
        assert!(!constant_time_eq(b"", b"x"));
        assert_eq!(RefreshToken::new("a.b"), RefreshToken::new("a.b"));
        assert_ne!(RefreshToken::new("a.b"), RefreshToken::new("a.c"));
        assert_eq!(SecretString::new("pw"), SecretString::new("pw"));
        assert_ne!(SecretString::new("pw"), SecretString::new("pX"));
    }

    #[test]
    fn r_safe_1_oversized_presented_values_are_refused_unread() {
        let s = ClientSecret::new("abcdefghijklmnopqrstuvwxyz");
        let long = "a".repeat(MAX_PRESENTED_LEN + 1);
        assert!(!s.verify(&long));
        assert!(!s.verify_secret_hash("alice", "client1", &long));
        // A secret of exactly the bound still verifies.
        let max = ClientSecret::new("b".repeat(MAX_PRESENTED_LEN));
        assert!(max.verify(&"b".repeat(MAX_PRESENTED_LEN)));
    }

    #[test]
    fn r_safe_3_secret_verification() {
        let s = ClientSecret::new("abcdefghijklmnopqrstuvwxyz");
        assert!(s.verify("abcdefghijklmnopqrstuvwxyz"));
        assert!(!s.verify("abcdefghijklmnopqrstuvwxy"));
        assert!(!s.verify(""));
        let h = s.secret_hash("alice", "client1");
        assert!(s.verify_secret_hash("alice", "client1", &h));
        assert!(!s.verify_secret_hash("alice", "client2", &h));
        assert!(!s.verify_secret_hash("alice", "client1", "not base64!"));
        assert!(!s.verify_secret_hash("alice", "client1", ""));
    }
}
