//! Serde types for Cognito's JSON request and response bodies (SPEC 9, R-WIRE-1).
//!
//! Member names are exactly the model's (PascalCase, including `CallbackURLs`, `LogoutURLs` and
//! `DefaultRedirectURI`); timestamps are epoch seconds; unknown members are rejected (R-CFG-16).

mod clients;
mod tokens;

pub use clients::*;
pub use tokens::*;
