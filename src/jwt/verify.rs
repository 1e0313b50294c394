//! Verifying ID and access tokens against a JWKS (R-JWT-6).
//!
//! A [`JwtVerifier`] is built once from a JWKS (the signer's own, or one a resource server fetched); each
//! key's public parameters are decoded then, and each key is pinned to one algorithm. Verification takes
//! `now` as a parameter, checks the signature with the key the `kid` names and the algorithm that key is
//! pinned to (the header's `alg` must agree, and is never used to choose), then the claims, then asks a
//! [`RevocationCheck`] about the token's `origin_jti`. Refusals carry Cognito's coarse messages only.
//!
//! A JWKS may come from elsewhere (a resource server fetches it), so building a verifier is bounded
//! (R-SAFE-8): at most [`MAX_JWKS_KEYS`] keys and no member longer than [`MAX_JWK_MEMBER_LEN`], both
//! checked before any key is decoded, and at most [`MAX_JWKS_JSON_LEN`] bytes of JSON, checked before
//! parsing, for [`JwtVerifier::from_jwks_json`]. Keys are found by kid in a hash map, and the clock-skew
//! allowance is capped at [`MAX_LEEWAY_SECS`].

use std::collections::HashMap;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::signature::{
    RsaPublicKeyComponents, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED, ED25519,
    RSA_PKCS1_2048_8192_SHA256,
};
use serde_json::{Map, Value};

use super::{Algorithm, Jwk, JwkSet};
use crate::clock::Timestamp;
use crate::Error;

/// Tokens longer than this many bytes are refused before any decoding (R-SAFE-1).
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The default clock-skew allowance, in seconds, for `exp` and `iat`: none, as Cognito's own endpoints
/// apply. Raise it with [`JwtVerifier::with_leeway`] when verifying on another host's clock.
pub const DEFAULT_LEEWAY_SECS: u64 = 0;

/// The largest clock-skew allowance, in seconds (R-SAFE-8): five minutes. [`JwtVerifier::with_leeway`]
/// clamps a larger value to this one: a leeway is a tolerance for clocks that disagree, and a larger one
/// would keep expired tokens usable. Purging keeps families this long past the last instant one of
/// their JWTs can verify (R-REV-6).
pub const MAX_LEEWAY_SECS: u64 = 300;

/// The most keys a JWKS may hold (R-SAFE-8). Cognito publishes two per pool; a larger set is refused
/// before any of its keys is decoded.
pub const MAX_JWKS_KEYS: usize = 100;

/// The longest string member of a JWK, in bytes (R-SAFE-8): 1367, the unpadded base64url length of 1025
/// bytes, which is an RSA-8192 modulus (1024 bytes, 1366 characters) with the one leading zero byte some
/// publishers write. No member of a key this crate verifies with is longer. Every member of every key is
/// checked against it before any key is decoded.
pub const MAX_JWK_MEMBER_LEN: usize = 1367;

/// The largest JWKS document [`JwtVerifier::from_jwks_json`] parses, in bytes: 256 KiB, room for
/// [`MAX_JWKS_KEYS`] RSA-8192 keys (about 1.5 KiB each) with whitespace and members the crate skips
/// (`x5c` chains). A larger document is refused before it is parsed.
pub const MAX_JWKS_JSON_LEN: usize = 256 * 1024;

/// Which kind of token a caller expects (the `token_use` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenUse {
    /// An access token, `token_use` = `access`; bound to its client by `client_id`.
    Access,
    /// An ID token, `token_use` = `id`; bound to its client by `aud`.
    Id,
}

impl TokenUse {
    /// The `token_use` claim value: `access` or `id`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenUse::Access => "access",
            TokenUse::Id => "id",
        }
    }

    /// The reason for a token that is malformed, badly signed, or not for this issuer, use or client.
    pub const fn invalid_reason(self) -> &'static str {
        match self {
            TokenUse::Access => "Invalid Access Token",
            TokenUse::Id => "Invalid ID Token",
        }
    }

    /// The reason for a token past its `exp` (plus leeway).
    pub const fn expired_reason(self) -> &'static str {
        match self {
            TokenUse::Access => "Access Token has expired",
            TokenUse::Id => "ID Token has expired",
        }
    }

    /// The reason for a token whose `origin_jti` was revoked (R-REV-2).
    pub const fn revoked_reason(self) -> &'static str {
        match self {
            TokenUse::Access => "Access Token has been revoked",
            TokenUse::Id => "ID Token has been revoked",
        }
    }
}

/// Answers whether the refresh-token family a JWT came from (its `origin_jti`) was revoked (R-REV-2).
///
/// Contract: `true` means the token must be refused. An implementation that cannot tell (its backend
/// failed) should answer `true`: failing open would let revoked sessions through during an outage.
pub trait RevocationCheck {
    /// Whether tokens with this `origin_jti` are revoked.
    fn is_revoked(&self, origin_jti: &str) -> bool;
}

/// A [`RevocationCheck`] that never reports a revocation, for resource servers that have no view of the
/// issuer's store. Revoked sessions then stay usable until their tokens expire, as with Cognito's tokens
/// verified offline.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoRevocationCheck;

impl RevocationCheck for NoRevocationCheck {
    fn is_revoked(&self, _origin_jti: &str) -> bool {
        false
    }
}

/// A public key pinned to one algorithm.
#[derive(Debug, Clone)]
enum PublicKey {
    Rsa(RsaPublicKeyComponents<Vec<u8>>),
    Ecdsa(UnparsedPublicKey<Vec<u8>>),
    Ed25519(UnparsedPublicKey<Vec<u8>>),
}

#[derive(Debug, Clone)]
struct VerifyingKey {
    kid: String,
    alg: Algorithm,
    key: PublicKey,
}

impl VerifyingKey {
    fn verify(&self, msg: &[u8], sig: &[u8]) -> bool {
        match &self.key {
            PublicKey::Rsa(k) => k.verify(&RSA_PKCS1_2048_8192_SHA256, msg, sig).is_ok(),
            PublicKey::Ecdsa(k) | PublicKey::Ed25519(k) => k.verify(msg, sig).is_ok(),
        }
    }
}

/// A JWKS key refused: named by its kid, at most 64 characters of it and without control, separator or
/// direction characters, since the document may come from anywhere (`echoed`).
fn bad_jwk(kid: &str, what: &str) -> Error {
    Error::InvalidParameter {
        message: format!("JWKS key {}: {what}", crate::error::echoed(kid, 64)),
    }
}

fn b64_field(
    kid: &str,
    name: &str,
    value: Option<&str>,
    len: std::ops::RangeInclusive<usize>,
) -> Result<Vec<u8>, Error> {
    let value = value.ok_or_else(|| bad_jwk(kid, &format!("`{name}` is missing")))?;
    let bytes = URL_SAFE_NO_PAD
        .decode(value.as_bytes())
        .map_err(|_| bad_jwk(kid, &format!("`{name}` is not base64url")))?;
    if !len.contains(&bytes.len()) {
        return Err(bad_jwk(kid, &format!("`{name}` has the wrong length")));
    }
    Ok(bytes)
}

/// Refuses a JWKS of more than [`MAX_JWKS_KEYS`] keys, or with a member longer than
/// [`MAX_JWK_MEMBER_LEN`] in any key, usable or not (R-SAFE-8). Nothing is decoded. The key is named by
/// its position: its kid may be the oversized member.
fn check_jwks_bounds(jwks: &JwkSet) -> Result<(), Error> {
    if jwks.keys.len() > MAX_JWKS_KEYS {
        return Err(Error::InvalidParameter {
            message: format!(
                "JWKS has {} keys; at most {MAX_JWKS_KEYS} are accepted",
                jwks.keys.len()
            ),
        });
    }
    for (i, jwk) in jwks.keys.iter().enumerate() {
        for (name, value) in jwk.members() {
            if value.is_some_and(|v| v.len() > MAX_JWK_MEMBER_LEN) {
                return Err(Error::InvalidParameter {
                    message: format!(
                        "JWKS key #{i}: `{name}` is longer than {MAX_JWK_MEMBER_LEN} bytes"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Whether [`parse_jwk`] checks that a P-256 key is a point of the curve.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Points {
    /// Checked: a key from elsewhere.
    Checked,
    /// Taken as they are: keys of this crate's own signer, each checked when it came in (a key pair
    /// ring parsed, or a retired key through [`check_jwk`]). Their verifier is built per request.
    Trusted,
}

/// Turns a JWK into a pinned verifying key.
///
/// `Ok(None)`: the key is not one this crate verifies with (encryption key, symmetric key, another key
/// type, curve or algorithm, no kid) and is ignored. `Err`: it claims to be one but is malformed: an RSA
/// modulus that is even or not of 2048 to 8192 bits, an exponent that is even or not of 3 to 2^33 - 1
/// (what ring verifies with), a P-256 key whose coordinates are not 32 bytes or (with
/// [`Points::Checked`]) not a point of the curve, an Ed25519 key that is not 32 bytes. Whether 32 bytes
/// encode an Ed25519 point is known only when a signature is checked (ring has no other way to tell):
/// a key that does not verifies nothing.
fn parse_jwk(jwk: &Jwk, points: Points) -> Result<Option<VerifyingKey>, Error> {
    let Some(kid) = jwk.kid() else {
        return Ok(None);
    };
    if jwk.key_use.as_deref().is_some_and(|u| u != "sig") {
        return Ok(None);
    }
    // The algorithm a key verifies with is decided here, once, from the key: RSA keys only RS256, P-256
    // keys only ES256, Ed25519 keys only EdDSA. A JWK whose `alg` says otherwise is not used at all.
    let alg = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
        ("RSA", _) => Algorithm::RS256,
        ("EC", Some("P-256")) => Algorithm::ES256,
        ("OKP", Some("Ed25519")) => Algorithm::EdDSA,
        _ => return Ok(None),
    };
    if jwk.alg.as_deref().is_some_and(|a| a != alg.as_str()) {
        return Ok(None);
    }
    let key = match alg {
        Algorithm::RS256 => {
            let mut n = b64_field(kid, "n", jwk.n.as_deref(), 1..=1025)?;
            let mut e = b64_field(kid, "e", jwk.e.as_deref(), 1..=8)?;
            // ring wants minimal big-endian integers; some publishers keep a leading zero byte.
            strip_leading_zeros(&mut n);
            strip_leading_zeros(&mut e);
            if !(2048..=8192).contains(&bit_length(&n)) || n.last().is_some_and(|b| b & 1 == 0) {
                return Err(bad_jwk(
                    kid,
                    "RSA modulus is not an odd number of 2048 to 8192 bits",
                ));
            }
            // `e` is at most 8 bytes (`b64_field` above), so reading it into a u64 loses nothing.
            let exponent = e.iter().fold(0u64, |v, b| (v << 8) | u64::from(*b));
            if !(3..(1 << 33)).contains(&exponent) || exponent & 1 == 0 {
                return Err(bad_jwk(
                    kid,
                    "RSA exponent is not an odd number from 3 to 2^33 - 1",
                ));
            }
            PublicKey::Rsa(RsaPublicKeyComponents { n, e })
        }
        Algorithm::ES256 => {
            let x = b64_field(kid, "x", jwk.x.as_deref(), 32..=32)?;
            let y = b64_field(kid, "y", jwk.y.as_deref(), 32..=32)?;
            let mut point = Vec::with_capacity(65);
            point.push(0x04);
            point.extend_from_slice(&x);
            point.extend_from_slice(&y);
            if points == Points::Checked && !on_p256(&point)? {
                return Err(bad_jwk(kid, "EC key is not a point of P-256"));
            }
            PublicKey::Ecdsa(UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point))
        }
        Algorithm::EdDSA => {
            let x = b64_field(kid, "x", jwk.x.as_deref(), 32..=32)?;
            PublicKey::Ed25519(UnparsedPublicKey::new(&ED25519, x))
        }
    };
    Ok(Some(VerifyingKey {
        kid: kid.to_owned(),
        alg,
        key,
    }))
}

/// The number of bits of a big-endian integer without leading zero bytes.
fn bit_length(v: &[u8]) -> usize {
    match v.first() {
        None => 0,
        Some(top) => (v.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    }
}

/// Whether `point` (uncompressed, `04 || x || y`) is a point of P-256 other than the identity. ring
/// checks a verifying key only when it verifies, and then answers a bad key as a bad signature; it
/// checks a key agreement's peer key fully (NIST SP 800-56A), so one agreement with a throwaway key
/// tells. Its result is dropped. `Err` if the throwaway key cannot be made (no randomness): that is
/// the host's failure, not the key's.
fn on_p256(point: &[u8]) -> Result<bool, Error> {
    use ring::agreement::{agree_ephemeral, EphemeralPrivateKey, UnparsedPublicKey, ECDH_P256};
    let mine = EphemeralPrivateKey::generate(&ECDH_P256, &ring::rand::SystemRandom::new())
        .map_err(|_| Error::Internal {
            detail: "no randomness for the P-256 key check",
        })?;
    Ok(agree_ephemeral(mine, &UnparsedPublicKey::new(&ECDH_P256, point), |_| ()).is_ok())
}

fn strip_leading_zeros(v: &mut Vec<u8>) {
    let zeros = v.iter().take_while(|&&b| b == 0).count();
    v.drain(..zeros);
}

/// Checks that a JWK is usable as a verifying key; used when a retired key is added to a signer.
pub(crate) fn check_jwk(jwk: &Jwk) -> Result<Algorithm, Error> {
    if jwk
        .members()
        .iter()
        .any(|(_, v)| v.is_some_and(|v| v.len() > MAX_JWK_MEMBER_LEN))
    {
        return Err(Error::InvalidParameter {
            message: format!("JWK has a member longer than {MAX_JWK_MEMBER_LEN} bytes"),
        });
    }
    match parse_jwk(jwk, Points::Checked)? {
        Some(key) => Ok(key.alg),
        None => Err(bad_jwk(
            jwk.kid().unwrap_or("(no kid)"),
            "not an RS256, ES256 or EdDSA signature key with a kid",
        )),
    }
}

/// The claims of a token that passed every check of [`JwtVerifier::verify`].
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedClaims {
    claims: Map<String, Value>,
}

impl VerifiedClaims {
    /// All claims of the token.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// All claims of the token, owned.
    pub fn into_claims(self) -> Map<String, Value> {
        self.claims
    }

    /// A claim, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.claims.get(name)
    }

    /// A string claim, if present and a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// The `sub` claim (checked present by verification).
    pub fn sub(&self) -> &str {
        self.get_str("sub").unwrap_or_default()
    }

    /// The `origin_jti` claim (checked present by verification).
    pub fn origin_jti(&self) -> &str {
        self.get_str("origin_jti").unwrap_or_default()
    }

    /// The `jti` claim (checked present by verification).
    pub fn jti(&self) -> &str {
        self.get_str("jti").unwrap_or_default()
    }

    /// The `exp` claim (checked present by verification).
    pub fn expires_at(&self) -> Timestamp {
        Timestamp::from_unix_seconds(self.get("exp").and_then(Value::as_i64).unwrap_or_default())
    }

    /// The `iat` claim (checked present by verification).
    pub fn issued_at(&self) -> Timestamp {
        Timestamp::from_unix_seconds(self.get("iat").and_then(Value::as_i64).unwrap_or_default())
    }
}

/// The JOSE header, strictly: a JSON object (an array or anything else is refused by
/// [`UniqueMembers`]) whose members are all distinct (any repeated member, not only the ones read
/// here), with string `alg` and `kid`, and no `crit` (an extension we would have to understand),
/// whatever its value, `null` included.
struct Header {
    alg: String,
    kid: String,
}

impl Header {
    fn parse(json: &[u8]) -> Option<Header> {
        let UniqueMembers(mut members) = serde_json::from_slice(json).ok()?;
        if members.contains_key("crit") {
            return None;
        }
        let mut string = |name: &str| match members.remove(name) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        };
        Some(Header {
            alg: string("alg")?,
            kid: string("kid")?,
        })
    }
}

/// A JSON object whose members are all distinct: with a duplicate, JWT libraries disagree on which
/// value counts (serde_json keeps the last, others the first).
struct UniqueMembers(Map<String, Value>);

impl<'de> serde::Deserialize<'de> for UniqueMembers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Members;
        impl<'de> serde::de::Visitor<'de> for Members {
            type Value = UniqueMembers;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object without duplicate members")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                let mut map = Map::new();
                while let Some((k, v)) = a.next_entry::<String, Value>()? {
                    if map.contains_key(&k) {
                        return Err(serde::de::Error::custom("duplicate member"));
                    }
                    map.insert(k, v);
                }
                Ok(UniqueMembers(map))
            }
        }
        d.deserialize_map(Members)
    }
}

/// Verifies this crate's ID and access tokens (R-JWT-6).
///
/// Built once from a JWKS; cheap to share (`Sync`). Checks, in order: size (at most [`MAX_TOKEN_LEN`]
/// bytes), compact-JWS structure, header, `kid` among the keys, header `alg` equal to the algorithm the
/// key is pinned to (so `none`, `HS256` and any other algorithm are refused), signature, `token_use`,
/// `iss`, the client (`aud` for ID tokens, `client_id` for access tokens), presence of `sub`, `jti` and
/// `origin_jti`, `exp` (refused once `now >= exp + leeway`), `iat` (refused when `iat > now + leeway`),
/// `nbf` if present, and finally revocation of `origin_jti`.
///
/// Failures are [`Error::InvalidJwt`] with the reasons of [`TokenUse`]: invalid, expired or revoked;
/// nothing finer, so a refusal does not help probe the verifier.
#[derive(Debug, Clone)]
pub struct JwtVerifier {
    /// The usable keys, in JWKS order.
    keys: Vec<VerifyingKey>,
    /// kid → position in `keys`: a token's kid is found in O(1), whatever the JWKS holds (R-SAFE-8).
    by_kid: HashMap<String, usize>,
    issuer: String,
    /// At most [`MAX_LEEWAY_SECS`].
    leeway: i64,
}

impl JwtVerifier {
    /// A verifier for tokens of `issuer` signed by keys of `jwks`, with [`DEFAULT_LEEWAY_SECS`].
    ///
    /// Keys the crate does not verify with (encryption or symmetric keys, other key types, curves or
    /// algorithms, keys without a kid) are ignored. Fails with [`Error::InvalidParameter`] if the set has
    /// more than [`MAX_JWKS_KEYS`] keys or a member longer than [`MAX_JWK_MEMBER_LEN`] (both checked
    /// before any key is decoded, R-SAFE-8), a supported key is malformed (an RSA modulus that is even
    /// or not of 2048 to 8192 bits, an exponent that is even or not of 3 to 2^33 - 1, a P-256 key that
    /// is not a point of the curve, an Ed25519 key that is not 32 bytes), two keys share a kid, or no
    /// key is usable. Whether 32 bytes encode an Ed25519 point is known only when a signature is
    /// checked: a key that does not verifies nothing.
    pub fn new(issuer: impl Into<String>, jwks: &JwkSet) -> Result<Self, Error> {
        Self::with_points(issuer, jwks, Points::Checked)
    }

    /// The verifier of this crate's own signer's keys (see [`Points::Trusted`]).
    pub(crate) fn of_own_keys(issuer: impl Into<String>, jwks: &JwkSet) -> Result<Self, Error> {
        Self::with_points(issuer, jwks, Points::Trusted)
    }

    fn with_points(
        issuer: impl Into<String>,
        jwks: &JwkSet,
        points: Points,
    ) -> Result<Self, Error> {
        check_jwks_bounds(jwks)?;
        let mut keys: Vec<VerifyingKey> = Vec::with_capacity(jwks.keys.len());
        let mut by_kid: HashMap<String, usize> = HashMap::with_capacity(jwks.keys.len());
        for jwk in &jwks.keys {
            if let Some(key) = parse_jwk(jwk, points)? {
                if by_kid.contains_key(&key.kid) {
                    return Err(bad_jwk(&key.kid, "kid appears twice in the JWKS"));
                }
                by_kid.insert(key.kid.clone(), keys.len());
                keys.push(key);
            }
        }
        if keys.is_empty() {
            return Err(Error::InvalidParameter {
                message: "JWKS has no usable RS256, ES256 or EdDSA signature key".to_owned(),
            });
        }
        Ok(JwtVerifier {
            keys,
            by_kid,
            issuer: issuer.into(),
            leeway: DEFAULT_LEEWAY_SECS as i64,
        })
    }

    /// A verifier from a JWKS document as fetched (`{"keys": [...]}`), for a resource server that reads
    /// a pool's `jwks.json`.
    ///
    /// A document longer than [`MAX_JWKS_JSON_LEN`] bytes is refused before it is parsed; then as
    /// [`JwtVerifier::new`]. Fails with [`Error::InvalidParameter`]; the message gives the position of a
    /// JSON error, never the document's content.
    pub fn from_jwks_json(issuer: impl Into<String>, json: &[u8]) -> Result<Self, Error> {
        if json.len() > MAX_JWKS_JSON_LEN {
            return Err(Error::InvalidParameter {
                message: format!(
                    "JWKS document is {} bytes; at most {MAX_JWKS_JSON_LEN} are accepted",
                    json.len()
                ),
            });
        }
        let set: JwkSet = serde_json::from_slice(json).map_err(|e| Error::InvalidParameter {
            message: format!(
                "JWKS document is not a JSON Web Key Set (line {}, column {})",
                e.line(),
                e.column()
            ),
        })?;
        Self::new(issuer, &set)
    }

    /// Sets the clock-skew allowance applied to `exp`, `iat` and `nbf` (default
    /// [`DEFAULT_LEEWAY_SECS`]). A value above [`MAX_LEEWAY_SECS`] is clamped to it (R-SAFE-8): a
    /// configured leeway of hours or days would keep expired tokens valid.
    pub fn with_leeway(mut self, seconds: u64) -> Self {
        // At most 300, so the conversion cannot fail.
        self.leeway = i64::try_from(seconds.min(MAX_LEEWAY_SECS)).unwrap_or(0);
        self
    }

    /// The clock-skew allowance in seconds, after clamping.
    pub fn leeway(&self) -> u64 {
        u64::try_from(self.leeway).unwrap_or(0)
    }

    /// The issuer tokens must name in `iss`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The key ids this verifier accepts, in JWKS order.
    pub fn kids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|k| k.kid.as_str())
    }

    /// Verifies an access token issued to `client_id` (see [`JwtVerifier::verify`]).
    pub fn verify_access_token(
        &self,
        token: &str,
        client_id: &str,
        now: Timestamp,
        revocation: &dyn RevocationCheck,
    ) -> Result<VerifiedClaims, Error> {
        self.verify(token, TokenUse::Access, client_id, now, revocation)
    }

    /// Verifies an ID token issued to `client_id` (see [`JwtVerifier::verify`]).
    pub fn verify_id_token(
        &self,
        token: &str,
        client_id: &str,
        now: Timestamp,
        revocation: &dyn RevocationCheck,
    ) -> Result<VerifiedClaims, Error> {
        self.verify(token, TokenUse::Id, client_id, now, revocation)
    }

    /// Verifies a token of the `expected` use, issued to `client_id`, at time `now`, and returns its
    /// claims. The checks and their order are listed on [`JwtVerifier`].
    pub fn verify(
        &self,
        token: &str,
        expected: TokenUse,
        client_id: &str,
        now: Timestamp,
        revocation: &dyn RevocationCheck,
    ) -> Result<VerifiedClaims, Error> {
        let claims = self.verify_untimed(token, expected, client_id)?;
        self.check_times(&claims, expected, now, now)?;
        if revocation.is_revoked(claims.origin_jti()) {
            return Err(Error::InvalidJwt {
                reason: expected.revoked_reason(),
            });
        }
        Ok(claims)
    }

    /// [`verify`](Self::verify) but for the times (`exp`, `iat`, `nbf`) and the revocation check: for a
    /// caller that learns the time to judge them by only later (introspection, whose store may keep the
    /// time, R-ROT-11). `exp` and `iat` are checked present and integral here; an `nbf`'s type is checked
    /// with the times, after `exp`, as `verify` orders its refusals.
    pub(crate) fn verify_untimed(
        &self,
        token: &str,
        expected: TokenUse,
        client_id: &str,
    ) -> Result<VerifiedClaims, Error> {
        let invalid = Error::InvalidJwt {
            reason: expected.invalid_reason(),
        };
        let claims = self
            .verified_payload(token)
            .ok_or_else(|| invalid.clone())?;

        let str_claim = |name: &str| claims.get(name).and_then(Value::as_str);
        let int_claim = |name: &str| claims.get(name).and_then(Value::as_i64);

        if str_claim("token_use") != Some(expected.as_str())
            || str_claim("iss") != Some(self.issuer.as_str())
        {
            return Err(invalid);
        }
        let client_ok = match expected {
            TokenUse::Access => str_claim("client_id") == Some(client_id),
            // Cognito writes `aud` as the client id itself (R-JWT-3); an array is not one of its tokens.
            TokenUse::Id => str_claim("aud") == Some(client_id),
        };
        let (Some(_), Some(_), Some(_)) =
            (str_claim("sub"), str_claim("jti"), str_claim("origin_jti"))
        else {
            return Err(invalid);
        };
        if !client_ok {
            return Err(invalid);
        }
        let (Some(_), Some(_)) = (int_claim("exp"), int_claim("iat")) else {
            return Err(invalid);
        };
        Ok(VerifiedClaims { claims })
    }

    /// The time checks of [`verify`](Self::verify) on claims [`verify_untimed`](Self::verify_untimed)
    /// accepted: refused once `expiry_now >= exp + leeway`, when `iat > issue_now + leeway`, and when
    /// an `nbf` is not an integer or is after `issue_now + leeway`. `verify` passes one time for both;
    /// introspection judges expiry by the time that decides its read and issue by the later of that and
    /// the host's, since the token may have been minted on either clock.
    pub(crate) fn check_times(
        &self,
        claims: &VerifiedClaims,
        expected: TokenUse,
        expiry_now: Timestamp,
        issue_now: Timestamp,
    ) -> Result<(), Error> {
        let invalid = || Error::InvalidJwt {
            reason: expected.invalid_reason(),
        };
        let int_claim = |name: &str| claims.claims.get(name).and_then(Value::as_i64);
        let (Some(exp), Some(iat)) = (int_claim("exp"), int_claim("iat")) else {
            return Err(invalid());
        };
        let (expiry_now, issue_now) = (expiry_now.unix_seconds(), issue_now.unix_seconds());
        if expiry_now >= exp.saturating_add(self.leeway) {
            return Err(Error::InvalidJwt {
                reason: expected.expired_reason(),
            });
        }
        if iat > issue_now.saturating_add(self.leeway) {
            return Err(invalid());
        }
        match claims.claims.get("nbf") {
            None => Ok(()),
            Some(v) => match v.as_i64() {
                Some(nbf) if nbf <= issue_now.saturating_add(self.leeway) => Ok(()),
                _ => Err(invalid()),
            },
        }
    }

    /// Structure, header, key, algorithm and signature; the payload parsed as a JSON object. `None` for
    /// any failure: the caller reports them all alike.
    fn verified_payload(&self, token: &str) -> Option<Map<String, Value>> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let (signed, sig_b64) = token.rsplit_once('.')?;
        let (header_b64, payload_b64) = signed.split_once('.')?;
        if payload_b64.contains('.') {
            return None;
        }
        let header = Header::parse(&URL_SAFE_NO_PAD.decode(header_b64).ok()?)?;
        let key = self.keys.get(*self.by_kid.get(&header.kid)?)?;
        // The key decides the algorithm; the header may only agree with it.
        if header.alg != key.alg.as_str() {
            return None;
        }
        let sig = URL_SAFE_NO_PAD.decode(sig_b64).ok()?;
        if !key.verify(signed.as_bytes(), &sig) {
            return None;
        }
        let payload = URL_SAFE_NO_PAD.decode(payload_b64).ok()?;
        serde_json::from_slice::<UniqueMembers>(&payload)
            .ok()
            .map(|m| m.0)
    }
}
