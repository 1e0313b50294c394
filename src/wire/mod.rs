//! Serde types for Cognito's JSON request and response bodies (SPEC 9, R-WIRE-1).
//!
//! Member names are exactly the model's (PascalCase, including `CallbackURLs`, `LogoutURLs` and
//! `DefaultRedirectURI`); timestamps are epoch seconds; unknown members are rejected (R-CFG-16).
//!
//! [`Operation`] names the operation of an `X-Amz-Target` (R-WIRE-3); [`RefreshCall`], [`RevokeCall`]
//! and [`AuthCall`] are the token operations' requests after their shape checks, ready to be routed to a
//! pool and handed to its issuer.
//!
//! The password flow is the adapter's too: [`password`] holds the salted hashes a host that answers
//! Cognito's password flows can keep, and the trait through which [`AuthCall`]s ask it whether a password
//! is right. The core never sees a password.

mod auth;
mod clients;
mod json;
mod ops;
pub mod password;
mod tokens;

pub use auth::AuthCall;
pub use clients::*;
pub use json::{from_json, to_json, MAX_REQUEST_BYTES};
pub use ops::{user_pool_id, Operation, RefreshCall, RevokeCall, TARGET_PREFIX};
pub use tokens::*;
