//! Amazon Cognito-style app clients and refresh token rotation, in-process.
//!
//! SKELETON: crate documentation and the getting-started doctest come with the issuer.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod clock;
mod config;
mod error;
pub mod jwt;
mod random;
mod registry;
mod secret;
mod store;
#[cfg(feature = "test-kit")]
pub mod testkit;
mod token;
pub mod wire;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use config::{
    AnalyticsConfiguration, AppClientConfig, AppClientConfigBuilder, ExplicitAuthFlow, OAuthFlow,
    PreventUserExistenceErrors, RefreshTokenRotation, RotationFeature, TimeUnit,
    TokenValidityUnits, ValidationErrors, Violation,
};
pub use error::{Error, ExceptionKind, StoreError};
pub use random::{RandomSource, SystemRandom};
pub use registry::{
    AppClient, ClientPage, ClientRegistry, NewClientSecret, CLIENT_ID_LEN, CLIENT_SECRET_LEN,
    DEFAULT_MAX_CLIENTS, MAX_CUSTOM_SCOPES,
};
pub use secret::{ClientSecret, RefreshToken};
pub use store::{
    Advance, Family, FamilyId, FamilyInfo, FamilyState, InMemoryRefreshTokenStore,
    RefreshTokenStore,
};
