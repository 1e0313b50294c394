//! The Cognito exception names the crate can answer with (R-WIRE-2).
//!
//! A leaf: every other error type maps onto an [`ExceptionKind`], and it maps onto nothing.

use std::fmt;

/// A Cognito exception name, as it appears in the `__type` member of an error body (R-WIRE-2).
///
/// Only the exceptions this crate can raise are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum ExceptionKind {
    /// `InvalidParameterException`.
    InvalidParameter,
    /// `InvalidOAuthFlowException`.
    InvalidOAuthFlow,
    /// `ScopeDoesNotExistException`.
    ScopeDoesNotExist,
    /// `ResourceNotFoundException`.
    ResourceNotFound,
    /// `NotAuthorizedException`.
    NotAuthorized,
    /// `RefreshTokenReuseException`.
    RefreshTokenReuse,
    /// `UserNotFoundException`.
    UserNotFound,
    /// `UserLambdaValidationException`.
    UserLambdaValidation,
    /// `UnsupportedOperationException`.
    UnsupportedOperation,
    /// `UnsupportedTokenTypeException`.
    UnsupportedTokenType,
    /// `UnauthorizedException`.
    Unauthorized,
    /// `LimitExceededException`.
    LimitExceeded,
    /// `UsernameExistsException`.
    UsernameExists,
    /// `UnknownOperationException`: the `X-Amz-Target` names no operation (R-SRV-2).
    UnknownOperation,
    /// `InternalErrorException`.
    InternalError,
}

impl ExceptionKind {
    /// The exception name exactly as Cognito spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::InvalidParameter => "InvalidParameterException",
            Self::InvalidOAuthFlow => "InvalidOAuthFlowException",
            Self::ScopeDoesNotExist => "ScopeDoesNotExistException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::NotAuthorized => "NotAuthorizedException",
            Self::RefreshTokenReuse => "RefreshTokenReuseException",
            Self::UserNotFound => "UserNotFoundException",
            Self::UserLambdaValidation => "UserLambdaValidationException",
            Self::UnsupportedOperation => "UnsupportedOperationException",
            Self::UnsupportedTokenType => "UnsupportedTokenTypeException",
            Self::Unauthorized => "UnauthorizedException",
            Self::LimitExceeded => "LimitExceededException",
            Self::UsernameExists => "UsernameExistsException",
            Self::UnknownOperation => "UnknownOperationException",
            Self::InternalError => "InternalErrorException",
        }
    }

    /// The HTTP status an endpoint answers with: 500 for `InternalErrorException`, 400 for every client
    /// error (R-WIRE-2).
    pub const fn http_status(self) -> u16 {
        match self {
            Self::InternalError => 500,
            _ => 400,
        }
    }
}

impl fmt::Display for ExceptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
