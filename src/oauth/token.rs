//! The token endpoint's refresh grant (R-OAUTH-1 to R-OAUTH-4): `grant_type=refresh_token` parsed into a
//! [`TokenRequest`], run as GetTokensFromRefreshToken, and the answer rendered as RFC 6749 §5.1/§5.2.
//!
//! Every rule of SPEC 5 and 6 is the engine's, unchanged: the grace retry gets the same successor, reuse
//! after the window is `invalid_grant`. The endpoint has no device parameter, so a family bound to a
//! confirmed device is refused (R-REF-9 asks for its DeviceKey), as Cognito refuses it (R-OAUTH-4).

use serde::Serialize;

use crate::engine::{checks, ClientId, Operation, RefreshRequest, TokenSet};
use crate::error::Error;
use crate::secret::RefreshToken;

use super::render::{json_body, OAuthError, OAuthResponse};
use super::request::{ClientAuthMethod, ClientCredentials, Form, OAuthRequest};

/// Stands in for a presented token that cannot be one of this crate's (bad characters, too long): it
/// fails to decode like any forged token, so the client is still authenticated first and the answer is
/// `invalid_grant` (or `unsupported_token_type` on revocation), never `invalid_request` with the
/// token's shape described.
pub(crate) const NOT_A_TOKEN: &str = "not-a-token";

/// The presented token, or [`NOT_A_TOKEN`] if it could not be one of ours.
pub(crate) fn presented_token(token: &str) -> RefreshToken {
    if checks::check_refresh_token_shape(token).is_ok() {
        RefreshToken::new(token)
    } else {
        RefreshToken::new(NOT_A_TOKEN)
    }
}

/// A refresh grant, parsed (R-OAUTH-1). `Debug` shows neither the token nor the secret.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    client: ClientCredentials,
    refresh_token: RefreshToken,
}

impl TokenRequest {
    /// Parses a token endpoint request: `POST`, a form body with `grant_type=refresh_token` and
    /// `refresh_token`, and the client authentication of R-OAUTH-1. A `scope` is accepted and ignored
    /// (R-OAUTH-2).
    ///
    /// A refusal is traced and counted as a refresh's (R-OPS-1).
    pub fn parse(req: &OAuthRequest<'_>) -> Result<Self, OAuthError> {
        Self::parse_form(req).inspect_err(|e| e.record_as(Operation::Refresh))
    }

    fn parse_form(req: &OAuthRequest<'_>) -> Result<Self, OAuthError> {
        let form = Form::parse(req)?;
        if form.required("grant_type")? != "refresh_token" {
            return Err(OAuthError::unsupported_grant_type());
        }
        let client = ClientCredentials::parse(req, &form)?;
        let refresh_token = presented_token(form.required("refresh_token")?);
        Ok(TokenRequest {
            client,
            refresh_token,
        })
    }

    /// The client id, from the header or the body: the host may need it to find the pool.
    pub fn client_id(&self) -> ClientId<'_> {
        self.client.id()
    }

    /// How the client authenticated.
    pub fn auth_method(&self) -> ClientAuthMethod {
        self.client.method
    }

    /// The GetTokensFromRefreshToken this grant asks for, for any driver.
    pub fn refresh_request(&self) -> RefreshRequest<'_> {
        let mut req = RefreshRequest::new(&self.refresh_token, self.client.id());
        req.client_secret = self.client.secret();
        // The answer has no place for NewDeviceMetadata (R-OAUTH-4).
        req.announces_device = false;
        req
    }

    /// Renders the driver's answer: RFC 6749 §5.1 on success (R-OAUTH-2), §5.2 on error (R-OAUTH-3).
    pub fn respond(&self, result: Result<TokenSet, Error>) -> OAuthResponse {
        match result {
            Ok(tokens) => token_response(&tokens).unwrap_or_else(OAuthResponse::from),
            Err(e) => OAuthError::from_engine(&e, self.client.method).to_response(),
        }
    }
}

/// `{"access_token", "id_token", "token_type", "expires_in"}` and `refresh_token` only after a rotation.
fn token_response(tokens: &TokenSet) -> Result<OAuthResponse, OAuthError> {
    #[derive(Serialize)]
    struct Body<'a> {
        access_token: &'a str,
        id_token: &'a str,
        token_type: &'static str,
        expires_in: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        refresh_token: Option<&'a str>,
    }
    let body = json_body(&Body {
        access_token: &tokens.access_token,
        id_token: &tokens.id_token,
        token_type: TokenSet::TOKEN_TYPE,
        expires_in: tokens.expires_in,
        refresh_token: tokens
            .refresh_token
            .as_ref()
            .map(RefreshToken::expose_secret),
    })?;
    Ok(OAuthResponse::json(200, body).no_store())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_safe_2_token_request_debug_is_redacted() {
        let body = b"grant_type=refresh_token&refresh_token=abc.def&client_id=client1&client_secret=abcdefghijklmnopqrstuvwxyz";
        let req = OAuthRequest::new("POST", body)
            .header("content-type", b"application/x-www-form-urlencoded");
        let parsed = TokenRequest::parse(&req).unwrap();
        assert_eq!(
            format!("{parsed:?}"),
            "TokenRequest { client: ClientCredentials { method: ClientSecretPost, client_id: \"client1\", \
             secret: Some(SecretString([REDACTED])) }, refresh_token: RefreshToken([REDACTED]) }"
        );
    }
}
