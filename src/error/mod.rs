//! The crate's one error type.
//!
//! Every failure a caller can see is an [`Error`] variant named in the caller's terms. Each variant knows
//! the Cognito exception it stands for ([`Error::exception_name`]), the HTTP status a service should answer
//! with ([`Error::http_status`]) and the exact message Cognito would send ([`Error::message`]), so a host can
//! render the R-WIRE-2 body with [`Error::to_wire_body`] without a mapping table of its own.
//!
//! Messages never carry secrets: no client secret, refresh token or key material is ever formatted into
//! one (R-SAFE-2). Reasons a presented token was refused stay as coarse as Cognito's own messages.
//!
//! The leaves an [`Error`] is built from, [`ExceptionKind`] and the configuration violations
//! ([`Violation`], [`ValidationErrors`]), live in submodules that import nothing else of the crate: the
//! validator in `config` produces violations and this module never imports `config` back (R-ENG-3).

mod kind;
mod violation;

pub use kind::ExceptionKind;
pub use violation::{ValidationErrors, Violation};

/// Why a request failed.
///
/// `Display` renders the Cognito message ([`Error::message`]); [`Error::exception`] gives the exception.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A client configuration broke one or more R-CFG rules; every violation is listed (R-CFG).
    #[error("{0}")]
    InvalidConfig(ValidationErrors),

    /// A request member is missing, malformed or out of the model's range (R-CFG-2, R-REF-1).
    #[error("{message}")]
    InvalidParameter {
        /// What is wrong, naming the member; never contains a secret value.
        message: String,
    },

    /// The user pool named in a request is not the one this registry or issuer serves.
    #[error("User pool {user_pool_id} does not exist.")]
    UserPoolNotFound {
        /// The pool id from the request.
        user_pool_id: String,
    },

    /// No app client with this id exists in the pool (R-CLI-5, R-REF-2, R-REV-1).
    #[error("User pool client {client_id} does not exist.")]
    ClientNotFound {
        /// The client id from the request.
        client_id: String,
    },

    /// The client has a secret and the request carried none (R-REF-3).
    #[error("Client {client_id} is configured for secret but secret was not received")]
    ClientSecretMissing {
        /// The client id.
        client_id: String,
    },

    /// The secret or SECRET_HASH sent does not match the client's (R-REF-3, R-SIGN-1).
    #[error("Unable to verify secret for client {client_id}")]
    ClientSecretMismatch {
        /// The client id.
        client_id: String,
    },

    /// A secret was sent for a client that has none (R-REF-3).
    #[error("Client {client_id} has no secret")]
    ClientHasNoSecret {
        /// The client id.
        client_id: String,
    },

    /// The refresh token does not parse, fails its MAC, names an unknown key or family, is from the
    /// future, or lacks the device it is bound to (R-FAM-4, R-REF-4, R-REF-9).
    #[error("Invalid Refresh Token.")]
    InvalidRefreshToken,

    /// The refresh token belongs to another app client (R-REF-5).
    #[error("Refresh Token has different Client")]
    RefreshTokenOfOtherClient,

    /// The refresh token's family was revoked (R-REF-6, R-REV).
    #[error("Refresh Token has been revoked")]
    RefreshTokenRevoked,

    /// The refresh token's family is past its absolute expiry (R-REF-7).
    #[error("Refresh Token has expired")]
    RefreshTokenExpired,

    /// The refresh token was rotated out and its grace window, if any, is over (R-ROT-4, R-ROT-7).
    #[error("Refresh token has been invalidated by rotation.")]
    RefreshTokenReused,

    /// The legacy REFRESH_TOKEN_AUTH flow was used on a client with rotation enabled (R-ROT-8).
    #[error("Refresh token rotation is enabled for client {client_id}; use GetTokensFromRefreshToken to refresh tokens.")]
    UseGetTokensFromRefreshToken {
        /// The client id.
        client_id: String,
    },

    /// The authentication flow is not enabled in the client's ExplicitAuthFlows (R-ROT-8, R-SRV-2):
    /// `InvalidParameterException`, as Cognito answers it.
    #[error("{flow} flow not enabled for this client")]
    AuthFlowNotEnabled {
        /// The flow's wire name, for example `REFRESH_TOKEN_AUTH`.
        flow: String,
    },

    /// The user no longer exists in the directory (R-REF-8).
    #[error("User does not exist.")]
    UserNotFound,

    /// The user is disabled in the directory (R-REF-8).
    #[error("User is disabled.")]
    UserDisabled,

    /// The host's pre-token-generation hook refused the request (R-REF-11).
    #[error("PreTokenGeneration failed with error {message}.")]
    HookRejected {
        /// The hook's own message.
        message: String,
    },

    /// RevokeToken on a client whose EnableTokenRevocation is false (R-REV-1).
    #[error("Token revocation is not enabled for this client.")]
    RevocationDisabled,

    /// RevokeToken with something that is not one of this crate's refresh tokens (R-REV-1).
    #[error("Unsupported token type.")]
    UnsupportedTokenType,

    /// RevokeToken with a refresh token issued to another client (R-REV-1).
    #[error("Token is not issued to client {client_id}.")]
    TokenOfOtherClient {
        /// The client id from the request.
        client_id: String,
    },

    /// A JWT was refused by the verifier (R-JWT-6). The reason is deliberately coarse.
    #[error("{reason}")]
    InvalidJwt {
        /// Why, in Cognito's words (for example `Access Token has expired`).
        reason: &'static str,
    },

    /// A password sign-in failed: the password is wrong, or (with PreventUserExistenceErrors `ENABLED`)
    /// the user does not exist. The message does not say which.
    #[error("Incorrect username or password.")]
    IncorrectUsernameOrPassword,

    /// A user with this username already exists in the pool (AdminCreateUser).
    #[error("User account already exists")]
    UsernameExists,

    /// The `X-Amz-Target` of a request is missing or names no operation this service offers (R-SRV-2).
    #[error("{message}")]
    UnknownOperation {
        /// What was wrong with the target; the target is echoed cut to a sane length.
        message: String,
    },

    /// A resource limit was reached (for example a registry full of clients).
    #[error("{message}")]
    LimitExceeded {
        /// Which limit.
        message: String,
    },

    /// A store failed: the family store, or the client or scope store behind a registry. The request
    /// gets no tokens. A write whose answer was lost may still have happened (a rotation, say); a retry
    /// of the same refresh inside the grace window then gets the very same successor (R-ROT-2).
    #[error("Internal error: a store is unavailable.")]
    Store(#[source] StoreError),

    /// Something inside the crate or the host failed (random source, signing, a broken invariant).
    #[error("Internal error.")]
    Internal {
        /// A short description for logs; never a secret, never sent to clients.
        detail: &'static str,
    },
}

impl Error {
    /// Violations of the configuration rules (R-CFG), reported together: the exception is that of the
    /// lowest-numbered rule violated.
    pub(crate) fn invalid_config(violations: Vec<Violation>) -> Self {
        Error::InvalidConfig(ValidationErrors::new(violations))
    }

    /// Violations of a request's own members (ids, paging), reported together as one
    /// `InvalidParameterException` in AWS's words.
    pub(crate) fn invalid_request(violations: Vec<Violation>) -> Self {
        Error::InvalidParameter {
            message: ValidationErrors::new(violations).to_string(),
        }
    }

    /// The Cognito exception this error answers as.
    pub fn exception(&self) -> ExceptionKind {
        use ExceptionKind as K;
        match self {
            Self::InvalidConfig(v) => v.exception(),
            // Cognito answers a flow the client does not allow as a bad parameter.
            Self::InvalidParameter { .. } | Self::AuthFlowNotEnabled { .. } => K::InvalidParameter,
            Self::UserPoolNotFound { .. } | Self::ClientNotFound { .. } => K::ResourceNotFound,
            Self::ClientSecretMissing { .. }
            | Self::ClientSecretMismatch { .. }
            | Self::ClientHasNoSecret { .. }
            | Self::InvalidRefreshToken
            | Self::RefreshTokenOfOtherClient
            | Self::RefreshTokenRevoked
            | Self::RefreshTokenExpired
            | Self::UseGetTokensFromRefreshToken { .. }
            | Self::UserDisabled
            | Self::IncorrectUsernameOrPassword
            | Self::InvalidJwt { .. } => K::NotAuthorized,
            Self::RefreshTokenReused => K::RefreshTokenReuse,
            Self::UserNotFound => K::UserNotFound,
            Self::HookRejected { .. } => K::UserLambdaValidation,
            Self::RevocationDisabled => K::UnsupportedOperation,
            Self::UnsupportedTokenType => K::UnsupportedTokenType,
            Self::TokenOfOtherClient { .. } => K::Unauthorized,
            Self::LimitExceeded { .. } => K::LimitExceeded,
            Self::UsernameExists => K::UsernameExists,
            Self::UnknownOperation { .. } => K::UnknownOperation,
            Self::Store(_) | Self::Internal { .. } => K::InternalError,
        }
    }

    /// The exception name, for example `NotAuthorizedException`.
    pub fn exception_name(&self) -> &'static str {
        self.exception().name()
    }

    /// The HTTP status to answer with (R-WIRE-2).
    pub fn http_status(&self) -> u16 {
        self.exception().http_status()
    }

    /// The message Cognito would send, the same text as `Display`.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// The R-WIRE-2 JSON body: `{"__type": "<ExceptionName>", "message": "<text>"}`.
    pub fn to_wire_body(&self) -> String {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            #[serde(rename = "__type")]
            kind: &'static str,
            message: &'a str,
        }
        let message = self.message();
        serde_json::to_string(&Body {
            kind: self.exception_name(),
            message: &message,
        })
        // Serialising two strings into a `String` cannot fail; fall back to a fixed body all the same.
        .unwrap_or_else(|_| {
            r#"{"__type":"InternalErrorException","message":"Internal error."}"#.to_owned()
        })
    }
}

/// A failure reported by a [`RefreshTokenStore`](crate::store::RefreshTokenStore) implementation.
///
/// The issuer turns it into [`Error::Store`] (`InternalErrorException`, HTTP 500). The description is for
/// the host's logs and must not contain secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backing service could not be reached or timed out.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// A family with this id already exists (a create collided).
    #[error("family already exists")]
    AlreadyExists,
    /// The store holds as many families as it is allowed to.
    #[error("store is full")]
    Full,
    /// Any other failure of the backing service.
    #[error("store failure: {0}")]
    Backend(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

/// At most `max` characters of a caller's `value`, to be shown in an error message, without control
/// characters, the Unicode line and paragraph separators or the Unicode controls of text direction (the
/// bidi marks and embeddings, overrides and isolates): an echoed value cannot break a log line in two or
/// make it read otherwise than it is written.
pub(crate) fn echoed(value: &str, max: usize) -> String {
    value
        .chars()
        .take(max)
        .filter(|c| {
            !c.is_control()
                && !matches!(
                    c,
                    '\u{061C}'
                        | '\u{200E}'
                        | '\u{200F}'
                        | '\u{2028}'
                        | '\u{2029}'
                        | '\u{202A}'..='\u{202E}'
                        | '\u{2066}'..='\u{2069}'
                )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_wire_2_error_body_has_type_and_message() {
        let e = Error::ClientSecretMissing {
            client_id: "abc".into(),
        };
        assert_eq!(
            e.to_wire_body(),
            r#"{"__type":"NotAuthorizedException","message":"Client abc is configured for secret but secret was not received"}"#
        );
        assert_eq!(e.http_status(), 400);
        assert_eq!(
            Error::Internal { detail: "x" }.http_status(),
            500,
            "InternalErrorException maps to 500"
        );
        assert_eq!(
            Error::Store(StoreError::Unavailable("db down".into())).exception_name(),
            "InternalErrorException"
        );
    }

    #[test]
    fn store_failure_message_does_not_leak_backend_detail() {
        let e = Error::Store(StoreError::Backend("password=hunter2".into()));
        assert!(!e.message().contains("hunter2"));
        // Any store: the family store's, or a client or scope store's behind a registry.
        assert_eq!(e.message(), "Internal error: a store is unavailable.");
    }

    #[test]
    fn messages_follow_cognito() {
        assert_eq!(
            Error::InvalidRefreshToken.message(),
            "Invalid Refresh Token."
        );
        assert_eq!(
            Error::RefreshTokenReused.message(),
            "Refresh token has been invalidated by rotation."
        );
        assert_eq!(
            Error::RefreshTokenReused.exception_name(),
            "RefreshTokenReuseException"
        );
        assert_eq!(
            Error::ClientNotFound {
                client_id: "x1".into()
            }
            .message(),
            "User pool client x1 does not exist."
        );
    }
}
