//! The OAuth 2.0 adapter (SPEC section 14, R-OAUTH): the token endpoint's refresh grant, revocation
//! (RFC 7009), discovery and introspection (RFC 7662), over the same engine as the Cognito JSON adapter
//! ([`wire`](crate::wire)), and framework-agnostic.
//!
//! Cognito refreshes three ways: GetTokensFromRefreshToken, the legacy InitiateAuth flow, and the OAuth
//! 2.0 token endpoint of a pool with a domain, which every OAuth and OpenID Connect client library speaks.
//! This module is the third. Every rule is the engine's: rotation, the grace retry's identical successor,
//! reuse, revocation and expiry answer here exactly as through GetTokensFromRefreshToken, in OAuth's
//! words (`invalid_grant`, `invalid_client`, ...).
//!
//! # Shape
//! A request is an [`OAuthRequest`] (method, headers, body bytes) and a response an [`OAuthResponse`]
//! (status, headers, body bytes), so any HTTP server can carry them. Each endpoint is two halves with the
//! driver call in between, so a synchronous or an asynchronous driver can sit there:
//! - parse: [`TokenRequest::parse`], [`RevocationRequest::parse`], [`IntrospectionRequest::parse`] give
//!   a typed request or an [`OAuthError`];
//! - call the driver: `issuer.get_tokens_from_refresh_token(&req.refresh_request())`, ...;
//! - render: `req.respond(result)`.
//!
//! For a synchronous host, [`token_endpoint`], [`revocation_endpoint`], [`introspection_endpoint`] and
//! [`discovery_endpoint`] do all three over a [`TokenIssuer`].
//!
//! # Mounting it in axum
//! ```no_run
//! use std::sync::Arc;
//! use axum::{body::Bytes, extract::State, http::{HeaderMap, HeaderValue, Method, StatusCode}};
//! use axum::response::{IntoResponse, Response};
//! use refresh_rotation::{oauth, TokenIssuer};
//!
//! /// `POST /oauth2/token`.
//! async fn token(
//!     State(issuer): State<Arc<TokenIssuer>>,
//!     method: Method,
//!     headers: HeaderMap,
//!     body: Bytes,
//! ) -> Response {
//!     // The synchronous issuer may block on its store: keep it off the I/O threads.
//!     let resp = tokio::task::spawn_blocking(move || {
//!         let req = oauth::OAuthRequest::new(method.as_str(), &body)
//!             .headers(headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())));
//!         oauth::token_endpoint(&issuer, &req)
//!     })
//!     .await
//!     .unwrap_or_else(|_| oauth::OAuthError::server_error().to_response());
//!     let status = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
//!     let mut out = (status, resp.body).into_response();
//!     for (name, value) in resp.headers {
//!         if let Ok(value) = HeaderValue::from_str(&value) {
//!             out.headers_mut().insert(name, value);
//!         }
//!     }
//!     out
//! }
//!
//! # fn app(issuer: Arc<TokenIssuer>) -> axum::Router {
//! axum::Router::new()
//!     .route("/oauth2/token", axum::routing::post(token))
//!     .with_state(issuer)
//! # }
//! ```
//! The revocation and introspection routes are the same with [`revocation_endpoint`] and
//! [`introspection_endpoint`]; the discovery route answers [`discovery_endpoint`].
//!
//! # Rules
//! - R-OAUTH-1: `POST`, `application/x-www-form-urlencoded`, `grant_type=refresh_token`. Client
//!   authentication: `client_secret_basic`, `client_secret_post`, or a public client's `client_id`
//!   alone. Two methods at once, a repeated parameter the endpoints read, a missing one:
//!   `invalid_request`; parameters they do not read are ignored, repeated or not (RFC 6749 §3.2).
//!   Bodies are bounded ([`MAX_FORM_BYTES`] before parsing, [`MAX_FORM_PARAMS`] while parsing,
//!   R-SAFE-1).
//! - R-OAUTH-2: 200 `{"access_token", "id_token", "token_type": "Bearer", "expires_in"}` and
//!   `refresh_token` only after a rotation; `Cache-Control: no-store`, `Pragma: no-cache`. `scope` is
//!   ignored.
//! - R-OAUTH-3: `{"error", "error_description"}`: `invalid_client` is 401 with
//!   `WWW-Authenticate: Basic realm="oauth2"` when the client used the `Authorization` header, else 400
//!   (at the introspection endpoint, always 401); every refused token and a hook refusal
//!   are `invalid_grant`; `unsupported_grant_type`. Descriptions never hold a secret or a token.
//! - R-OAUTH-4: a family bound to a confirmed device is refused with `invalid_grant`.
//! - R-OAUTH-5: revocation answers 200 with an empty body, also for an unknown, forged or revoked
//!   token; `unsupported_token_type`, `invalid_request` (missing token, revocation disabled),
//!   `unauthorized_client` (another client's token).
//! - R-OAUTH-6: [`discovery_document`].
//! - R-OAUTH-7: introspection, opt-in for the host: see [`Introspection`](crate::engine::Introspection).

mod discovery;
mod introspect;
mod render;
mod request;
mod revoke;
mod token;

pub use discovery::{discovery_document, Endpoints};
pub use introspect::IntrospectionRequest;
pub use render::{ErrorCode, OAuthError, OAuthResponse};
pub use request::{ClientAuthMethod, OAuthRequest, MAX_FORM_BYTES, MAX_FORM_PARAMS};
pub use revoke::RevocationRequest;
pub use token::TokenRequest;

use crate::driver::TokenIssuer;

/// The token endpoint over a synchronous issuer: parse, GetTokensFromRefreshToken, render
/// (R-OAUTH-1 to R-OAUTH-4).
pub fn token_endpoint(issuer: &TokenIssuer, request: &OAuthRequest<'_>) -> OAuthResponse {
    match TokenRequest::parse(request) {
        Ok(req) => req.respond(issuer.get_tokens_from_refresh_token(&req.refresh_request())),
        Err(e) => e.to_response(),
    }
}

/// The revocation endpoint over a synchronous issuer: parse, RevokeToken, render (R-OAUTH-5).
pub fn revocation_endpoint(issuer: &TokenIssuer, request: &OAuthRequest<'_>) -> OAuthResponse {
    match RevocationRequest::parse(request) {
        Ok(req) => {
            req.respond(issuer.revoke_token(req.token(), req.client_id(), req.client_secret()))
        }
        Err(e) => e.to_response(),
    }
}

/// The introspection endpoint over a synchronous issuer: parse, introspect, render (R-OAUTH-7). Serve
/// it only if resource servers should be able to ask; it is not part of Cognito.
pub fn introspection_endpoint(issuer: &TokenIssuer, request: &OAuthRequest<'_>) -> OAuthResponse {
    match IntrospectionRequest::parse(request) {
        Ok(req) => {
            req.respond(issuer.introspect(req.expose_token(), req.client_id(), req.client_secret()))
        }
        Err(e) => e.to_response(),
    }
}

/// The discovery document of the issuer's pool (R-OAUTH-6).
pub fn discovery_endpoint(issuer: &TokenIssuer, endpoints: &Endpoints) -> OAuthResponse {
    discovery_document(issuer.engine(), endpoints)
}
