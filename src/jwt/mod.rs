//! ID and access tokens: signing keys, Cognito claim sets, signing, the JWKS and verification (SPEC 8).
//!
//! - [`SigningKey`]: a ring key pair (RS256, ES256 or EdDSA) parsed once at load, with its kid, its
//!   precomputed JOSE header and its public JWK.
//! - [`AccessTokenClaims`] and [`IdTokenClaims`]: Cognito's claim sets (R-JWT-2, R-JWT-3), borrowed.
//! - [`TokenSigner`]: the pool's ID-token and access-token keys plus retired keys; signs tokens and
//!   publishes the JWKS (R-JWT-1, R-JWT-5).
//! - [`JwtVerifier`]: checks a token against a JWKS with the algorithm pinned by the key, the claims, and
//!   revocation through a [`RevocationCheck`] (R-JWT-6), within the bounds of R-SAFE-8.
//! - [`Jwk`] and [`JwkSet`]: the crate's own JWK types, for the JWKS it publishes and verifies against.
//!
//! ring is the only cryptography used.
//!
//! ```
//! use std::sync::Arc;
//! use refresh_rotation::jwt::{AccessTokenClaims, Algorithm, NoRevocationCheck, SigningKey, TokenSigner};
//! use refresh_rotation::clock::Timestamp;
//!
//! let key = Arc::new(SigningKey::generate(Algorithm::ES256, "key-1")?);
//! let signer = TokenSigner::new(key);
//! let iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_example";
//! let claims = AccessTokenClaims {
//!     sub: "0b8c3a5e-8d0e-4a3b-9f7e-1d2c3b4a5f60",
//!     iss,
//!     client_id: "client1",
//!     origin_jti: "7f3b0c2a-1d4e-4f5a-8b6c-9d0e1f2a3b4c",
//!     event_id: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
//!     scope: "aws.cognito.signin.user.admin",
//!     auth_time: 1_700_000_000,
//!     exp: 1_700_003_600,
//!     iat: 1_700_000_000,
//!     jti: "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
//!     username: "alice",
//!     groups: &[],
//!     device_key: None,
//!     extra: None,
//! };
//! let token = signer.sign_access_token(&claims)?;
//! let verifier = signer.verifier(iss)?;
//! let now = Timestamp::from_unix_seconds(1_700_000_100);
//! let verified = verifier.verify_access_token(&token, "client1", now, &NoRevocationCheck)?;
//! assert_eq!(verified.sub(), claims.sub);
//! # Ok::<(), refresh_rotation::Error>(())
//! ```

mod claims;
mod jwk;
mod keys;
mod sign;
mod verify;

pub use claims::{AccessTokenClaims, IdTokenClaims, PROTECTED_CLAIMS};
pub use jwk::{Jwk, JwkSet};
pub use keys::{Algorithm, SigningKey};
pub use sign::TokenSigner;
pub(crate) use sign::JSON_CAPACITY;
pub use verify::{
    JwtVerifier, NoRevocationCheck, RevocationCheck, TokenUse, VerifiedClaims, DEFAULT_LEEWAY_SECS,
    MAX_JWKS_JSON_LEN, MAX_JWKS_KEYS, MAX_JWK_MEMBER_LEN, MAX_LEEWAY_SECS, MAX_TOKEN_LEN,
};
