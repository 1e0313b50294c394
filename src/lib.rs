//! Amazon Cognito-style app clients and **refresh token rotation**, in-process.
//!
//! `refresh-rotation` gives a Rust auth service Cognito's GetTokensFromRefreshToken semantics without
//! Cognito: app clients with Cognito's defaults and validation, refresh-token families that rotate on use
//! with an optional retry grace window, reuse detection, revocation and global sign-out, and RS256 /
//! ES256 / EdDSA JWTs signed with ring. It performs no I/O: the clock, randomness, the family store and
//! the user directory are traits, so every behaviour can be tested deterministically.
//!
//! # The surface, by audience
//! A host that issues tokens needs the root items: [`ClientRegistry`] with [`AppClientConfig`] (Cognito's
//! client management, every violation reported at once), [`TokenIssuer`] or [`AsyncTokenIssuer`] with
//! [`SignInRequest`], [`RefreshRequest`], [`LegacyRefreshRequest`] (whose members are parsed once, as
//! [`ClientId`] and the credential types of [`engine`]) and [`TokenSet`], the secret types
//! [`RefreshToken`] and [`ClientSecret`], the refresh-token key ring [`RefreshTokenKeys`], and [`Error`].
//! Everything else lives in a module for its audience:
//! - [`store`]: for store implementers: the family store ([`store::RefreshTokenStore`] and its async
//!   form), the client store, their in-memory implementations, the family types and errors;
//! - [`config`], [`directory`] (the user directory), [`hook`] (pre-token generation), [`clock`],
//!   [`random`], [`token`] (the refresh-token format), [`jwt`] (keys, claims, JWKS, a verifier);
//! - the adapters at the edge: [`wire`] (Cognito's JSON, the client operations, InitiateAuth's password
//!   flow) and [`oauth`] (the OAuth 2.0 token, revocation, discovery and introspection endpoints); the
//!   core never imports them;
//! - the machinery: [`engine`] (every rule, without I/O) and [`driver`] (the loops that run it);
//! - `testkit` (feature `test-kit`): the conformance suites for store implementations;
//! - [`behaviour`]: the behaviour contract, with the rule ids the tests are named after.
//!
//! # Getting started
//! ```
//! use std::sync::Arc;
//! use refresh_rotation::clock::ManualClock;
//! use refresh_rotation::config::RefreshTokenRotation;
//! use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
//! use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
//! use refresh_rotation::random::SystemRandom;
//! use refresh_rotation::store::InMemoryRefreshTokenStore;
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
//! .build(); // the clock and randomness are the registry's: given once for the pool
//!
//! // The host authenticated alice; the issuer starts a family. The client id a request names is
//! // parsed once, where it enters the host.
//! let client_id = ClientId::parse(client.client_id())?;
//! let first = issuer.sign_in(&SignInRequest::new(client_id, "alice"))?;
//! let t0 = first.refresh_token.expect("sign-in returns a refresh token");
//!
//! // First use rotates; a retry inside the grace window gets the very same successor.
//! let r1 = issuer.get_tokens_from_refresh_token(&RefreshRequest::new(&t0, client_id))?;
//! let retry = issuer.get_tokens_from_refresh_token(&RefreshRequest::new(&t0, client_id))?;
//! assert_eq!(r1.refresh_token, retry.refresh_token);
//!
//! // After the window, the old token is reuse.
//! clock.advance(10);
//! let err = issuer
//!     .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, client_id))
//!     .unwrap_err();
//! assert_eq!(err.exception_name(), "RefreshTokenReuseException");
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod client;
pub mod clock;
pub mod config;
pub mod directory;
pub mod driver;
pub mod engine;
pub mod error;
pub mod events;
mod future;
pub mod hook;
pub mod jwt;
pub mod keyring;
pub mod oauth;
mod policy;
pub mod random;
pub mod registry;
mod secret;
pub mod store;
#[cfg(feature = "test-kit")]
pub mod testkit;
pub mod token;
pub mod wire;

/// The behaviour contract: every rule the crate implements, with the ids its tests are named after.
#[doc = include_str!("../docs/behaviour.md")]
pub mod behaviour {}

// The items a host that issues tokens needs; everything else lives in the modules by audience:
// `store` for store implementers, `config`, `jwt`, `hook`, `directory`, `clock`, `random`, `token`,
// the adapters `wire` and `oauth`, `engine` and `driver` for the machinery, `testkit`.
pub use client::AppClient;
pub use config::AppClientConfig;
pub use driver::{AsyncTokenIssuer, TokenIssuer};
pub use engine::{
    ClientId, LegacyRefreshRequest, RefreshRequest, ReusePolicy, SignInRequest, TokenSet,
};
pub use error::Error;
pub use registry::{ClientRegistry, NewClientSecret};
pub use secret::{ClientSecret, RefreshToken};
pub use token::{RefreshTokenKey, RefreshTokenKeys};

/// The README's code blocks, compiled and run as doctests so the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
