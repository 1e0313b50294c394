//! The revocation endpoint (R-OAUTH-5, RFC 7009): `token` (and an ignored `token_type_hint`) parsed into
//! a [`RevocationRequest`], run as RevokeToken (R-REV-1, R-REV-2), and answered 200 with an empty body
//! whenever the token is now unusable, including when it was unknown, forged or already revoked.

use crate::engine::{ClientId, Operation, PresentedSecret};
use crate::error::Error;
use crate::secret::RefreshToken;

use super::render::{OAuthError, OAuthResponse};
use super::request::{ClientAuthMethod, ClientCredentials, Form, OAuthRequest};
use super::token::presented_token;

/// A revocation request, parsed. `Debug` shows neither the token nor the secret.
#[derive(Debug, Clone)]
pub struct RevocationRequest {
    client: ClientCredentials,
    token: RefreshToken,
}

impl RevocationRequest {
    /// Parses a revocation request: `POST`, a form body with `token`, and the client authentication of
    /// R-OAUTH-1.
    ///
    /// A refusal is traced and counted as a RevokeToken's (R-OPS-1).
    pub fn parse(req: &OAuthRequest<'_>) -> Result<Self, OAuthError> {
        Self::parse_form(req).inspect_err(|e| e.record_as(Operation::Revoke))
    }

    fn parse_form(req: &OAuthRequest<'_>) -> Result<Self, OAuthError> {
        let form = Form::parse(req)?;
        let client = ClientCredentials::parse(req, &form)?;
        let token = presented_token(form.required("token")?);
        Ok(RevocationRequest { client, token })
    }

    /// The client id.
    pub fn client_id(&self) -> ClientId<'_> {
        self.client.id()
    }

    /// How the client authenticated.
    pub fn auth_method(&self) -> ClientAuthMethod {
        self.client.method
    }

    /// The token to revoke, for a driver's `revoke_token`.
    pub fn token(&self) -> &RefreshToken {
        &self.token
    }

    /// The client secret presented, if any, for a driver's `revoke_token`.
    pub fn client_secret(&self) -> Option<PresentedSecret<'_>> {
        self.client.secret()
    }

    /// Renders the driver's answer: 200 with an empty body, or the error of R-OAUTH-5.
    pub fn respond(&self, result: Result<(), Error>) -> OAuthResponse {
        match result {
            Ok(()) => OAuthResponse {
                status: 200,
                headers: Vec::new(),
                body: Vec::new(),
            }
            .no_store(),
            Err(e) => OAuthError::from_engine(&e, self.client.method).to_response(),
        }
    }
}
