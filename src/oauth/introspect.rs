//! The introspection endpoint (R-OAUTH-7, RFC 7662), opt-in: `token` parsed into an
//! [`IntrospectionRequest`], answered from the family's state by the engine's introspection flow, and
//! rendered as `{"active": true, ...}` or `{"active": false}`.

use serde::Serialize;

use crate::engine::{ClientId, Introspection, Operation, PresentedSecret};
use crate::error::Error;
use crate::secret::SecretString;

use super::render::{json_body, OAuthError, OAuthResponse};
use super::request::{ClientAuthMethod, ClientCredentials, Form, OAuthRequest};

/// An introspection request, parsed. `Debug` shows neither the token nor the secret.
#[derive(Debug, Clone)]
pub struct IntrospectionRequest {
    client: ClientCredentials,
    token: SecretString,
}

impl IntrospectionRequest {
    /// Parses an introspection request: `POST`, a form body with `token` (a `token_type_hint` is
    /// ignored), and the client authentication of R-OAUTH-1.
    ///
    /// A refusal is traced and counted as an introspection's (R-OPS-1).
    pub fn parse(req: &OAuthRequest<'_>) -> Result<Self, OAuthError> {
        Self::parse_form(req).inspect_err(|e| e.record_as(Operation::Introspect))
    }

    fn parse_form(req: &OAuthRequest<'_>) -> Result<Self, OAuthError> {
        let form = Form::parse(req)?;
        let client =
            ClientCredentials::parse(req, &form).map_err(OAuthError::into_introspection_error)?;
        let token = SecretString::new(form.required("token")?);
        Ok(IntrospectionRequest { client, token })
    }

    /// The client id.
    pub fn client_id(&self) -> ClientId<'_> {
        self.client.id()
    }

    /// How the client authenticated.
    pub fn auth_method(&self) -> ClientAuthMethod {
        self.client.method
    }

    /// The token to introspect, for a driver's `introspect`.
    pub fn expose_token(&self) -> &str {
        self.token.expose_secret()
    }

    /// The client secret presented, if any, for a driver's `introspect`.
    pub fn client_secret(&self) -> Option<PresentedSecret<'_>> {
        self.client.secret()
    }

    /// Renders the driver's answer (RFC 7662 §2.2), or the error of R-OAUTH-3 for a client that failed
    /// to authenticate.
    pub fn respond(&self, result: Result<Introspection, Error>) -> OAuthResponse {
        let error = |e| OAuthError::from_engine(&e, self.client.method).into_introspection_error();
        match result.map_err(error) {
            Ok(answer) => introspection_response(&answer).unwrap_or_else(OAuthResponse::from),
            Err(e) => e.to_response(),
        }
    }
}

fn introspection_response(answer: &Introspection) -> Result<OAuthResponse, OAuthError> {
    #[derive(Serialize)]
    struct Body<'a> {
        active: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_id: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        username: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        sub: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        exp: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        iat: Option<i64>,
        #[serde(skip_serializing_if = "Option::is_none")]
        token_type: Option<&'static str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        scope: Option<&'a str>,
    }
    let body = match answer {
        Introspection::Active(t) => Body {
            active: true,
            client_id: Some(&t.client_id),
            username: Some(&t.username),
            sub: Some(&t.subject),
            exp: Some(t.expires_at.unix_seconds()),
            iat: Some(t.issued_at.unix_seconds()),
            token_type: Some(t.token_type.as_str()),
            scope: Some(&t.scope),
        },
        Introspection::Inactive => Body {
            active: false,
            client_id: None,
            username: None,
            sub: None,
            exp: None,
            iat: None,
            token_type: None,
            scope: None,
        },
    };
    Ok(OAuthResponse::json(200, json_body(&body)?).no_store())
}
