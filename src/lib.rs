//! Amazon Cognito-style app clients and refresh token rotation, in-process.
//!
//! SKELETON: crate documentation and the getting-started doctest come with the issuer.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod clock;
mod config;
mod directory;
mod error;
pub mod hook;
mod issuer;
pub mod jwt;
mod password;
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
pub use directory::{InMemoryUserDirectory, UserDirectory, UserRecord};
pub use error::{Error, ExceptionKind, StoreError};
pub use issuer::{
    RefreshRequest, ReusePolicy, SignInRequest, TokenIssuer, TokenIssuerBuilder, API_SIGN_IN_SCOPE,
};
pub use password::{PasswordCheck, PasswordHash, PasswordVerifier};
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
pub use token::{DecodedRefreshToken, RefreshTokenKey, RefreshTokenKeys, TokenRejection};
