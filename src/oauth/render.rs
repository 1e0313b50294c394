//! Responses: the [`OAuthResponse`] every endpoint returns, the RFC 6749 §5.2 error body, and the
//! mapping from the engine's [`Error`] to an OAuth error code and status (R-OAUTH-3, R-OAUTH-5).
//!
//! Every response of the token, revocation and introspection endpoints carries `Cache-Control: no-store`
//! and `Pragma: no-cache` (RFC 6749 §5.1): successes carry tokens, and errors must not be cached either.
//! Descriptions come from the crate's error messages, which never contain a secret or a token
//! (R-SAFE-2), or are fixed text.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

use crate::driver::telemetry::record_refusal;
use crate::engine::Operation;
use crate::error::Error;

use super::request::{ClientAuthMethod, CLIENT_AUTHENTICATION_FAILED};

/// The challenge of a 401: `Basic` with the realm that RFC 7617 §2 requires.
const BASIC_CHALLENGE: &str = r#"Basic realm="oauth2""#;

/// An HTTP response for the host's framework to send: status, headers and body bytes.
///
/// `Debug` does not show the body, which may hold tokens (R-SAFE-2).
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthResponse {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl OAuthResponse {
    /// The value of the header `name` (lower case), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// A JSON response with this status.
    pub(crate) fn json(status: u16, body: Vec<u8>) -> Self {
        OAuthResponse {
            status,
            headers: vec![("content-type", "application/json".to_owned())],
            body,
        }
    }

    /// Marks the response uncacheable (RFC 6749 §5.1, R-OAUTH-2, R-OAUTH-3).
    pub(crate) fn no_store(mut self) -> Self {
        self.headers.push(("cache-control", "no-store".to_owned()));
        self.headers.push(("pragma", "no-cache".to_owned()));
        self
    }
}

impl fmt::Debug for OAuthResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body", &format!("[REDACTED; {} bytes]", self.body.len()))
            .finish()
    }
}

/// The `error` codes of RFC 6749 §5.2 and RFC 7009 §2.2.1 this adapter answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request`: malformed, ambiguous or incomplete.
    InvalidRequest,
    /// `invalid_client`: client authentication failed.
    InvalidClient,
    /// `invalid_grant`: the refresh token is refused.
    InvalidGrant,
    /// `unauthorized_client`: the token belongs to another client (revocation).
    UnauthorizedClient,
    /// `unsupported_grant_type`: a grant other than `refresh_token`.
    UnsupportedGrantType,
    /// `unsupported_token_type`: revocation of something that is not a refresh token of this crate.
    UnsupportedTokenType,
    /// `server_error`: the store or the crate failed (HTTP 500).
    ServerError,
    /// `temporarily_unavailable`: the host sheds load (HTTP 503).
    TemporarilyUnavailable,
}

impl ErrorCode {
    /// The code as it appears in the `error` member.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::UnsupportedTokenType => "unsupported_token_type",
            Self::ServerError => "server_error",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
        }
    }
}

/// An OAuth 2.0 error: code, description, status, and whether the response challenges for Basic
/// credentials. Turn it into a response with [`OAuthError::to_response`].
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthError {
    code: ErrorCode,
    description: Cow<'static, str>,
    status: u16,
    basic_challenge: bool,
    method_not_allowed: bool,
    /// The client id a refused client authentication named, if it had one: for the refusal's trace.
    named_client: Option<String>,
}

/// Whether RFC 6749 §5.2 allows `c` in an `error_description`: `%x20-21 / %x23-5B / %x5D-7E`, printable
/// ASCII without `"` and `\\`.
fn allowed_in_description(c: char) -> bool {
    matches!(c, '\x20'..='\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// `text` within the characters an `error_description` may hold: a text from elsewhere (a hook's
/// refusal, a host's message) keeps its words, `"` becomes `'` and any other character outside the set
/// becomes `?`. The crate's own descriptions pass unchanged, without a copy.
fn description_chars(text: Cow<'static, str>) -> Cow<'static, str> {
    if text.chars().all(allowed_in_description) {
        return text;
    }
    text.chars()
        .map(|c| match c {
            c if allowed_in_description(c) => c,
            '"' => '\'',
            _ => '?',
        })
        .collect::<String>()
        .into()
}

impl fmt::Debug for OAuthError {
    /// What the response says; never the client id a refused request named, which may be anything (a
    /// secret pasted in the wrong field included): only its trace records it, and only if it has a
    /// client id's shape (R-SAFE-2).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthError")
            .field("code", &self.code)
            .field("description", &self.description)
            .field("status", &self.status)
            .field("basic_challenge", &self.basic_challenge)
            .field("method_not_allowed", &self.method_not_allowed)
            .finish_non_exhaustive()
    }
}

impl OAuthError {
    fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>, status: u16) -> Self {
        OAuthError {
            code,
            description: description_chars(description.into()),
            status,
            basic_challenge: false,
            method_not_allowed: false,
            named_client: None,
        }
    }

    /// This error, naming `client_id` as the client a refused request named (for its trace only: the
    /// response does not show it).
    pub(crate) fn naming(self, client_id: &str) -> Self {
        OAuthError {
            named_client: Some(client_id.to_owned()),
            ..self
        }
    }

    /// Records this refusal of a request the adapter could not hand to an issuer as `operation`'s, as
    /// the drivers record theirs (R-OPS-1, R-OPS-2): an operation span with its outcome, counted.
    /// Client-authentication failures are recorded as a wrong secret, the rest as a malformed request;
    /// the client id is recorded only if it has a client id's shape, and nothing secret is.
    pub(crate) fn record_as(&self, operation: Operation) {
        let client_id = self.named_client.as_deref();
        let error = if self.code == ErrorCode::InvalidClient {
            Error::ClientSecretMismatch {
                client_id: client_id.unwrap_or("***").to_owned(),
            }
        } else {
            Error::InvalidParameter {
                message: self.description.clone().into_owned(),
            }
        };
        record_refusal(operation, client_id, &error);
    }

    /// `invalid_request` (400) with this description, for what the host itself refuses before the
    /// adapter sees the request (a body over its limit or too slow to arrive). The description must not
    /// contain a secret or a token.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, description, 400)
    }

    /// `server_error` (500), `Internal error.`, for a failure of the host's own (a handler that panicked).
    pub fn server_error() -> Self {
        Self::new(ErrorCode::ServerError, "Internal error.", 500)
    }

    /// `temporarily_unavailable` (503) with this description, for a host that sheds load before the
    /// adapter sees the request (a cap on requests in flight). The description must not contain a
    /// secret or a token.
    pub fn temporarily_unavailable(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::TemporarilyUnavailable, description, 503)
    }

    /// `invalid_client`: 401 with `WWW-Authenticate: Basic realm="oauth2"` when the client used the `Authorization`
    /// header, else 400 (RFC 6749 §5.2, R-OAUTH-3).
    pub(crate) fn invalid_client(
        description: impl Into<Cow<'static, str>>,
        method: ClientAuthMethod,
    ) -> Self {
        let basic = method == ClientAuthMethod::ClientSecretBasic;
        OAuthError {
            basic_challenge: basic,
            ..Self::new(
                ErrorCode::InvalidClient,
                description,
                if basic { 401 } else { 400 },
            )
        }
    }

    /// The error as the introspection endpoint answers it: `invalid_client` is always 401 with the
    /// `Basic` challenge there, however the client authenticated (RFC 7662 §2.3, R-OAUTH-7).
    pub(crate) fn into_introspection_error(self) -> Self {
        if self.code != ErrorCode::InvalidClient {
            return self;
        }
        OAuthError {
            basic_challenge: true,
            status: 401,
            ..self
        }
    }

    pub(crate) fn unsupported_grant_type() -> Self {
        Self::new(
            ErrorCode::UnsupportedGrantType,
            "Only the refresh_token grant is supported here.",
            400,
        )
    }

    pub(crate) fn method_not_allowed() -> Self {
        OAuthError {
            method_not_allowed: true,
            ..Self::new(ErrorCode::InvalidRequest, "Use POST.", 405)
        }
    }

    /// The engine's refusal as an OAuth error, for a client that authenticated with `method`.
    pub(crate) fn from_engine(e: &Error, method: ClientAuthMethod) -> Self {
        let message = || Cow::Owned(e.message());
        match e {
            // One description for all four, as RFC 6749 §5.2 groups them: the endpoint does not tell
            // which client ids exist, or which clients have a secret (R-OAUTH-3).
            Error::ClientNotFound { .. }
            | Error::ClientSecretMissing { .. }
            | Error::ClientSecretMismatch { .. }
            | Error::ClientHasNoSecret { .. } => {
                Self::invalid_client(CLIENT_AUTHENTICATION_FAILED, method)
            }
            Error::InvalidRefreshToken
            | Error::RefreshTokenOfOtherClient
            | Error::RefreshTokenRevoked
            | Error::RefreshTokenExpired
            | Error::RefreshTokenReused
            | Error::UseGetTokensFromRefreshToken { .. }
            | Error::AuthFlowNotEnabled { .. }
            | Error::UserNotFound
            | Error::UserDisabled
            | Error::HookRejected { .. }
            | Error::InvalidJwt { .. } => Self::new(ErrorCode::InvalidGrant, message(), 400),
            Error::RevocationDisabled => Self::invalid_request(message()),
            Error::UnsupportedTokenType => {
                Self::new(ErrorCode::UnsupportedTokenType, message(), 400)
            }
            Error::TokenOfOtherClient { .. } => {
                Self::new(ErrorCode::UnauthorizedClient, message(), 400)
            }
            // Store and internal failures say no more than their fixed messages ("Internal error.",
            // "Internal error: a store is unavailable."): never the store's or the detail's words.
            other if other.http_status() >= 500 => {
                Self::new(ErrorCode::ServerError, message(), 500)
            }
            _ => Self::invalid_request(message()),
        }
    }

    /// The error code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The `error_description`: never a secret or a token.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The HTTP status: 400, 401 (`invalid_client` over Basic, and at the introspection endpoint however
    /// the client authenticated), 405 (not `POST`), 500, or 503 (`temporarily_unavailable`).
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response: `{"error", "error_description"}` as JSON, uncacheable, with
    /// `WWW-Authenticate: Basic realm="oauth2"` on a 401 and `Allow: POST` on a 405.
    pub fn to_response(&self) -> OAuthResponse {
        #[derive(Serialize)]
        struct Body<'a> {
            error: &'static str,
            error_description: &'a str,
        }
        let body = serde_json::to_vec(&Body {
            error: self.code.as_str(),
            error_description: &self.description,
        })
        // Two strings into a Vec cannot fail; fall back to a fixed body all the same.
        .unwrap_or_else(|_| br#"{"error":"server_error"}"#.to_vec());
        let mut resp = OAuthResponse::json(self.status, body).no_store();
        if self.basic_challenge {
            resp.headers
                .push(("www-authenticate", BASIC_CHALLENGE.to_owned()));
        }
        if self.method_not_allowed {
            resp.headers.push(("allow", "POST".to_owned()));
        }
        resp
    }
}

impl From<OAuthError> for OAuthResponse {
    fn from(e: OAuthError) -> Self {
        e.to_response()
    }
}

/// Serialises a response body; `server_error` if that fails (it cannot, for the crate's own types).
pub(crate) fn json_body<T: Serialize>(value: &T) -> Result<Vec<u8>, OAuthError> {
    serde_json::to_vec(value)
        .map_err(|_| OAuthError::new(ErrorCode::ServerError, "Internal error.", 500))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// R-OAUTH-3 (RFC 6749 §5.2): a description from elsewhere (a hook's refusal) is kept within
    /// `%x20-21 / %x23-5B / %x5D-7E`, its words otherwise intact; the crate's own pass unchanged.
    #[test]
    fn r_oauth_3_descriptions_keep_to_the_rfc_character_set() {
        let hook = Error::HookRejected {
            message: "Nope: \"blocked\" \\ ünïcode\nnext line\u{7f}".into(),
        };
        let e = OAuthError::from_engine(&hook, ClientAuthMethod::ClientSecretPost);
        assert_eq!(
            e.description(),
            "PreTokenGeneration failed with error Nope: 'blocked' ? ?n?code?next line?."
        );
        assert!(e.description().chars().all(allowed_in_description));
        let e = OAuthError::invalid_request("Use \"POST\".");
        assert_eq!(e.description(), "Use 'POST'.");
        let own = OAuthError::unsupported_grant_type();
        assert!(matches!(own.description, Cow::Borrowed(_)));
    }

    #[test]
    fn r_oauth_3_error_mapping() {
        let basic = ClientAuthMethod::ClientSecretBasic;
        let post = ClientAuthMethod::ClientSecretPost;
        let e = OAuthError::from_engine(
            &Error::ClientSecretMismatch {
                client_id: "c1".into(),
            },
            basic,
        );
        let r = e.to_response();
        assert_eq!(r.status, 401);
        assert_eq!(
            r.header("www-authenticate"),
            Some(r#"Basic realm="oauth2""#)
        );
        assert_eq!(r.header("cache-control"), Some("no-store"));
        assert_eq!(r.header("pragma"), Some("no-cache"));
        assert_eq!(
            String::from_utf8(r.body).unwrap(),
            r#"{"error":"invalid_client","error_description":"Client authentication failed."}"#
        );
        let r = OAuthError::from_engine(
            &Error::ClientNotFound {
                client_id: "c1".into(),
            },
            post,
        )
        .to_response();
        assert_eq!(r.status, 400);
        assert_eq!(r.header("www-authenticate"), None);
        for e in [
            Error::InvalidRefreshToken,
            Error::RefreshTokenReused,
            Error::RefreshTokenRevoked,
            Error::RefreshTokenExpired,
            Error::RefreshTokenOfOtherClient,
            Error::UserDisabled,
            Error::UserNotFound,
            Error::HookRejected {
                message: "no".into(),
            },
        ] {
            let o = OAuthError::from_engine(&e, basic);
            assert_eq!(
                (o.code(), o.status()),
                (ErrorCode::InvalidGrant, 400),
                "{e:?}"
            );
        }
        let o = OAuthError::from_engine(&Error::Internal { detail: "x" }, post);
        assert_eq!(
            (o.code(), o.status(), o.description()),
            (ErrorCode::ServerError, 500, "Internal error.")
        );
    }

    #[test]
    fn r_safe_2_response_debug_hides_the_body() {
        let r = OAuthResponse::json(200, br#"{"access_token":"eyJ.secret"}"#.to_vec());
        assert_eq!(
            format!("{r:?}"),
            "OAuthResponse { status: 200, headers: [(\"content-type\", \"application/json\")], body: \"[REDACTED; 29 bytes]\" }"
        );
    }
}
