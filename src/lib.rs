//! Amazon Cognito-style app clients and **refresh token rotation**, in-process.
//!
//! `refresh-rotation` gives a Rust auth service Cognito's GetTokensFromRefreshToken semantics without
//! Cognito: app clients with Cognito's defaults and validation, refresh-token families that rotate on use
//! with an optional retry grace window, reuse detection, revocation and global sign-out, and RS256 /
//! ES256 / EdDSA JWTs signed with ring. It performs no I/O: the clock, randomness, the family store and
//! the user directory are traits, so every behaviour can be tested deterministically.
//!
//! # The pieces
//! - [`AppClientConfig`] and the [`ClientRegistry`]: CreateUserPoolClient / Describe / Update / Delete /
//!   List semantics, every violation reported at once ([`ValidationErrors`]).
//! - [`RefreshTokenStore`]: one small record per family, never a token; rotation is one compare-and-set
//!   on the generation. [`InMemoryRefreshTokenStore`] is sharded and about 230 bytes per family.
//! - [`RefreshTokenKeys`]: the opaque, HMAC-authenticated `(family, generation)` token format.
//! - [`TokenIssuer`]: sign-in, GetTokensFromRefreshToken, the legacy refresh flow, RevokeToken and global
//!   sign-out. [`jwt`] holds the keys, claim sets, JWKS and a verifier.
//! - [`wire`]: the Cognito JSON adapter at the edge: serde types for Cognito's bodies, the client
//!   operations over a registry ([`wire::UserPoolClientOperations`]), InitiateAuth's password flow;
//!   [`Error::to_wire_body`] renders errors. The core never imports it.
//! - [`oauth`]: the OAuth 2.0 adapter: the token, revocation, discovery and introspection endpoints,
//!   framework-agnostic.
//!
//! # Getting started
//! ```
//! use std::sync::Arc;
//! use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
//! use refresh_rotation::*;
//!
//! # fn main() -> Result<(), Error> {
//! let clock = Arc::new(ManualClock::starting_now());
//! let rng = Arc::new(SystemRandom::new());
//! let registry = Arc::new(ClientRegistry::new("us-east-1_Example", clock.clone(), rng.clone()));
//! let users = Arc::new(InMemoryUserDirectory::new());
//! users.put(UserRecord::new("0f6c3a4e-0000-4000-8000-000000000001", "alice"))?;
//!
//! // An app client with rotation on and a 10-second retry grace period.
//! let client = registry.create_client(
//!     AppClientConfig::builder("web")
//!         .refresh_token_rotation(RefreshTokenRotation::enabled(10).expect("0..=60")),
//!     NewClientSecret::None,
//! )?;
//!
//! let issuer = TokenIssuer::builder(
//!     "us-east-1",
//!     TokenSigner::new(Arc::new(SigningKey::generate(Algorithm::EdDSA, "key-1")?)),
//!     RefreshTokenKeys::new(RefreshTokenKey::generate(1, &*rng)?),
//!     registry.clone(),
//!     Arc::new(InMemoryRefreshTokenStore::new()),
//!     users.clone(),
//! )
//! .clock(clock.clone())
//! .build();
//!
//! // The host authenticated alice; the issuer starts a family.
//! let first = issuer.sign_in(&SignInRequest::new(client.client_id(), "alice"))?;
//! let t0 = first.refresh_token.expect("sign-in returns a refresh token");
//!
//! // First use rotates; a retry inside the grace window gets the very same successor.
//! let r1 = issuer.get_tokens_from_refresh_token(&RefreshRequest::new(&t0, client.client_id()))?;
//! let retry = issuer.get_tokens_from_refresh_token(&RefreshRequest::new(&t0, client.client_id()))?;
//! assert_eq!(r1.refresh_token, retry.refresh_token);
//!
//! // After the window, the old token is reuse.
//! clock.advance(10);
//! let err = issuer
//!     .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, client.client_id()))
//!     .unwrap_err();
//! assert_eq!(err.exception_name(), "RefreshTokenReuseException");
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
mod clock;
mod config;
mod directory;
pub mod driver;
pub mod engine;
mod error;
mod future;
pub mod hook;
pub mod jwt;
pub mod oauth;
mod random;
mod registry;
mod secret;
pub mod store;
#[cfg(feature = "test-kit")]
pub mod testkit;
mod token;
pub mod wire;

/// The behaviour contract: every rule the crate implements, with the ids its tests are named after.
#[doc = include_str!("../docs/behaviour.md")]
pub mod behaviour {}

pub use client::AppClient;
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use config::{
    AnalyticsConfiguration, AppClientConfig, AppClientConfigBuilder, ExplicitAuthFlow, OAuthFlow,
    PreventUserExistenceErrors, RefreshTokenRotation, RotationFeature, TimeUnit,
    TokenValidityUnits,
};
pub use directory::{AsyncUserDirectory, InMemoryUserDirectory, UserDirectory, UserRecord};
pub use driver::{AsyncTokenIssuer, TokenIssuer, TokenIssuerBuilder};
pub use engine::{
    LegacyRefreshRequest, NewDevice, RefreshRequest, ReusePolicy, SignInRequest, TokenSet,
    API_SIGN_IN_SCOPE,
};
pub use error::{Error, ExceptionKind, StoreError, ValidationErrors, Violation};
pub use random::{RandomSource, SystemRandom};
pub use registry::{
    ClientPage, ClientRegistry, NewClientSecret, RestoreClient, CLIENT_ID_LEN, CLIENT_SECRET_LEN,
    DEFAULT_MAX_CLIENTS, MAX_CUSTOM_SCOPES,
};
pub use secret::{ClientSecret, RefreshToken};
pub use store::{
    Advance, Family, FamilyId, FamilyInfo, FamilyRead, FamilyState, InMemoryRefreshTokenStore,
    PurgeCutoff, RefreshTokenStore,
};
pub use token::{DecodedRefreshToken, RefreshTokenKey, RefreshTokenKeys, TokenRejection};
pub use wire::password::{AsyncPasswordVerifier, PasswordCheck, PasswordHash, PasswordVerifier};

/// The README's code blocks, compiled and run as doctests so the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
