//! The discovery document (R-OAUTH-6): OpenID Connect Discovery / RFC 8414 metadata naming the issuer,
//! its JWKS and the endpoints this adapter serves, so that a client library finds them from one URL.

use serde::Serialize;

use crate::engine::Engine;
use crate::jwt::Algorithm;

use super::render::{json_body, OAuthResponse};
use super::request::ClientAuthMethod;

/// Where the host serves each endpoint: absolute URLs, as the document must name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The JWKS (R-JWT-5).
    pub jwks_uri: String,
    /// The token endpoint (R-OAUTH-1).
    pub token_endpoint: String,
    /// The revocation endpoint (R-OAUTH-5).
    pub revocation_endpoint: String,
    /// The introspection endpoint (R-OAUTH-7), if the host serves it. Defaults to `None`.
    pub introspection_endpoint: Option<String>,
    /// The host's own authorization endpoint, if it has one (this crate issues first tokens through
    /// [`TokenIssuer::sign_in`](crate::TokenIssuer::sign_in), after the host authenticated the user).
    /// Defaults to `None`.
    pub authorization_endpoint: Option<String>,
}

impl Endpoints {
    /// The layout of the example service, for a service at `base_url` (no trailing slash) serving the
    /// pool `user_pool_id`: `/oauth2/token`, `/oauth2/revoke` and `/<userPoolId>/.well-known/jwks.json`;
    /// no introspection and no authorization endpoint.
    pub fn at(base_url: &str, user_pool_id: &str) -> Self {
        let base = base_url.trim_end_matches('/');
        Endpoints {
            jwks_uri: format!("{base}/{user_pool_id}/.well-known/jwks.json"),
            token_endpoint: format!("{base}/oauth2/token"),
            revocation_endpoint: format!("{base}/oauth2/revoke"),
            introspection_endpoint: None,
            authorization_endpoint: None,
        }
    }

    /// The same, with introspection served at `url` (R-OAUTH-7).
    pub fn with_introspection(mut self, url: impl Into<String>) -> Self {
        self.introspection_endpoint = Some(url.into());
        self
    }
}

/// The client authentication methods the endpoints accept for confidential clients (R-OAUTH-6).
const AUTH_METHODS: [&str; 2] = [
    ClientAuthMethod::ClientSecretBasic.as_str(),
    ClientAuthMethod::ClientSecretPost.as_str(),
];

/// The discovery document of the pool `engine` serves, as a `200 application/json` response.
///
/// `issuer` is the issuer URL of the tokens (R-JWT-4); `id_token_signing_alg_values_supported` lists
/// the algorithm of the pool's ID-token key, then those of its staged and retired keys
/// ([`TokenSigner::id_token_algorithms`](crate::jwt::TokenSigner::id_token_algorithms)); `grant_types_supported` is `refresh_token`, the one grant the
/// token endpoint serves; `response_types_supported` is Cognito's (`code`, `token`), since the
/// authorization endpoint, if any, is the host's.
pub fn discovery_document(engine: &Engine, endpoints: &Endpoints) -> OAuthResponse {
    #[derive(Serialize)]
    struct Document<'a> {
        issuer: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        authorization_endpoint: Option<&'a str>,
        token_endpoint: &'a str,
        revocation_endpoint: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        introspection_endpoint: Option<&'a str>,
        jwks_uri: &'a str,
        id_token_signing_alg_values_supported: Vec<&'static str>,
        token_endpoint_auth_methods_supported: [&'static str; 2],
        revocation_endpoint_auth_methods_supported: [&'static str; 2],
        #[serde(skip_serializing_if = "Option::is_none")]
        introspection_endpoint_auth_methods_supported: Option<[&'static str; 2]>,
        grant_types_supported: [&'static str; 1],
        response_types_supported: [&'static str; 2],
        subject_types_supported: [&'static str; 1],
    }
    let doc = Document {
        issuer: engine.issuer_url(),
        authorization_endpoint: endpoints.authorization_endpoint.as_deref(),
        token_endpoint: &endpoints.token_endpoint,
        revocation_endpoint: &endpoints.revocation_endpoint,
        introspection_endpoint: endpoints.introspection_endpoint.as_deref(),
        jwks_uri: &endpoints.jwks_uri,
        id_token_signing_alg_values_supported: engine
            .signer()
            .id_token_algorithms()
            .into_iter()
            .map(Algorithm::as_str)
            .collect(),
        token_endpoint_auth_methods_supported: AUTH_METHODS,
        revocation_endpoint_auth_methods_supported: AUTH_METHODS,
        introspection_endpoint_auth_methods_supported: endpoints
            .introspection_endpoint
            .as_ref()
            .map(|_| AUTH_METHODS),
        grant_types_supported: ["refresh_token"],
        response_types_supported: ["code", "token"],
        subject_types_supported: ["public"],
    };
    match json_body(&doc) {
        Ok(body) => OAuthResponse::json(200, body),
        Err(e) => e.to_response(),
    }
}
