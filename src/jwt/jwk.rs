//! The crate's own JSON Web Key types (RFC 7517): the public half of a signing key, and the JWKS a pool
//! publishes (R-JWT-5) and a verifier is built from (R-JWT-6).
//!
//! They hold exactly the members this crate writes and reads, as the strings of the JSON document: `kty`,
//! `use`, `alg`, `kid`, and the key parameters `n`, `e` (RSA), `crv`, `x`, `y` (EC and OKP). Unknown
//! members of a fetched JWKS (`x5c`, `key_ops`, ...) are skipped without being kept, and nothing is
//! decoded here: [`JwtVerifier`](super::JwtVerifier) decides which keys it can use, after checking the
//! bounds of R-SAFE-8. Public keys only: there is no member for private key material.

use serde::{Deserialize, Serialize};

/// A JSON Web Key, public parameters only (RFC 7517 §4, RFC 7518 §6).
///
/// Values are kept as written: base64url strings stay encoded. Absent members are `None` and are not
/// written.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Jwk {
    /// `kty`: `RSA`, `EC` or `OKP` for the keys this crate signs with.
    pub kty: String,
    /// `use`: `sig` for the keys this crate publishes.
    #[serde(rename = "use", default, skip_serializing_if = "Option::is_none")]
    pub key_use: Option<String>,
    /// `alg`: `RS256`, `ES256` or `EdDSA` for the keys this crate publishes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// `kid`: the key id that token headers name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// `n`: an RSA modulus, base64url, big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// `e`: an RSA public exponent, base64url, big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// `crv`: the curve of an EC (`P-256`) or OKP (`Ed25519`) key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// `x`: the x coordinate of an EC key, or the public key of an OKP key, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// `y`: the y coordinate of an EC key, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
}

impl Jwk {
    /// The key id, if the key has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Every string member, with its JSON name, for the size check of R-SAFE-8.
    pub(crate) fn members(&self) -> [(&'static str, Option<&str>); 9] {
        [
            ("kty", Some(self.kty.as_str())),
            ("use", self.key_use.as_deref()),
            ("alg", self.alg.as_deref()),
            ("kid", self.kid.as_deref()),
            ("n", self.n.as_deref()),
            ("e", self.e.as_deref()),
            ("crv", self.crv.as_deref()),
            ("x", self.x.as_deref()),
            ("y", self.y.as_deref()),
        ]
    }
}

/// A JSON Web Key Set: `{"keys": [...]}` (RFC 7517 §5), as served at
/// `/<userPoolId>/.well-known/jwks.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys, in the order published.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// The first key whose kid is `kid`.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|k| k.kid() == Some(kid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_jwt_5_json_shape() {
        let jwk = Jwk {
            kty: "OKP".into(),
            key_use: Some("sig".into()),
            alg: Some("EdDSA".into()),
            kid: Some("k1".into()),
            crv: Some("Ed25519".into()),
            x: Some("AAAA".into()),
            ..Jwk::default()
        };
        let set = JwkSet { keys: vec![jwk] };
        let text = serde_json::to_string(&set).unwrap();
        assert_eq!(
            text,
            r#"{"keys":[{"kty":"OKP","use":"sig","alg":"EdDSA","kid":"k1","crv":"Ed25519","x":"AAAA"}]}"#
        );
        assert_eq!(serde_json::from_str::<JwkSet>(&text).unwrap(), set);
        assert_eq!(set.find("k1"), set.keys.first());
        assert_eq!(set.find("k2"), None);
        // Members this crate does not use are skipped, not refused.
        let other: JwkSet = serde_json::from_str(
            r#"{"keys":[{"kty":"RSA","x5c":["MIIB"],"key_ops":["verify"],"n":"AQAB","e":"AQAB"}]}"#,
        )
        .unwrap();
        assert_eq!(other.keys[0].n.as_deref(), Some("AQAB"));
    }
}
