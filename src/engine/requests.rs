//! The requests of the token operations, as a host builds them after parsing its own input.
//!
//! They borrow: a host keeps its parsed request and lends the engine views of it. `Debug` shows whether a
//! secret, SECRET_HASH or device key is present, never its value (R-SAFE-2).

use std::collections::HashMap;
use std::fmt;

use crate::secret::RefreshToken;

/// `Some("[REDACTED]")` or `None`: what a `Debug` of a request shows of a secret member.
fn redacted(v: Option<&str>) -> Option<&'static str> {
    v.map(|_| "[REDACTED]")
}

/// A request for the first token set of a session, after the host authenticated the user (SPEC 4).
#[derive(Clone, Copy)]
pub struct SignInRequest<'a> {
    /// The app client.
    pub client_id: &'a str,
    /// The user's username.
    pub username: &'a str,
    /// The client secret, for a client that has one (or use `secret_hash`).
    pub client_secret: Option<&'a str>,
    /// A SECRET_HASH computed by the client, instead of the secret itself (R-SIGN-1).
    pub secret_hash: Option<&'a str>,
    /// Scopes to grant, space-separated in the access token: each must be `aws.cognito.signin.user.admin`
    /// or one of the client's AllowedOAuthScopes. Defaults to `aws.cognito.signin.user.admin`, as for
    /// API sign-ins.
    pub scopes: Option<&'a [String]>,
    /// A device the host already knows for this user, to bind the family to (confirmed).
    pub device_key: Option<&'a str>,
    /// ClientMetadata for the hook.
    pub client_metadata: Option<&'a HashMap<String, String>>,
}

impl SignInRequest<'_> {
    /// The scope of tokens issued to API sign-ins, and the default of [`scopes`](Self::scopes):
    /// `aws.cognito.signin.user.admin` (R-JWT-2).
    pub const API_SCOPE: &'static str = super::API_SIGN_IN_SCOPE;
}

impl<'a> SignInRequest<'a> {
    /// A sign-in of `username` at `client_id`, with nothing else set.
    pub fn new(client_id: &'a str, username: &'a str) -> Self {
        SignInRequest {
            client_id,
            username,
            client_secret: None,
            secret_hash: None,
            scopes: None,
            device_key: None,
            client_metadata: None,
        }
    }
}

impl fmt::Debug for SignInRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInRequest")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("client_secret", &redacted(self.client_secret))
            .field("secret_hash", &redacted(self.secret_hash))
            .field("scopes", &self.scopes)
            .field("device_key", &redacted(self.device_key))
            .field("client_metadata", &self.client_metadata)
            .finish()
    }
}

/// A GetTokensFromRefreshToken request (SPEC 5).
#[derive(Clone, Copy)]
pub struct RefreshRequest<'a> {
    /// The refresh token as the client sent it.
    pub refresh_token: &'a RefreshToken,
    /// The app client.
    pub client_id: &'a str,
    /// The client secret, if sent.
    pub client_secret: Option<&'a str>,
    /// The device key, if sent.
    pub device_key: Option<&'a str>,
    /// ClientMetadata for the hook.
    pub client_metadata: Option<&'a HashMap<String, String>>,
}

impl<'a> RefreshRequest<'a> {
    /// A refresh of `refresh_token` at `client_id`, with nothing else set.
    pub fn new(refresh_token: &'a RefreshToken, client_id: &'a str) -> Self {
        RefreshRequest {
            refresh_token,
            client_id,
            client_secret: None,
            device_key: None,
            client_metadata: None,
        }
    }
}

impl fmt::Debug for RefreshRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshRequest")
            .field("refresh_token", &self.refresh_token)
            .field("client_id", &self.client_id)
            .field("client_secret", &redacted(self.client_secret))
            .field("device_key", &redacted(self.device_key))
            .field("client_metadata", &self.client_metadata)
            .finish()
    }
}

/// A legacy refresh: InitiateAuth / AdminInitiateAuth with `REFRESH_TOKEN_AUTH` or `REFRESH_TOKEN`
/// (R-ROT-8). The client authenticates with a SECRET_HASH, not the secret.
#[derive(Clone, Copy)]
pub struct LegacyRefreshRequest<'a> {
    /// The refresh token as the client sent it.
    pub refresh_token: &'a RefreshToken,
    /// The app client.
    pub client_id: &'a str,
    /// The `SECRET_HASH` auth parameter. It is computed over the username, which only the family knows,
    /// so it is checked after the token (the one place where the order differs from R-REF-3/R-REF-4);
    /// it may be computed over the username or the `sub`, as Cognito accepts.
    pub secret_hash: Option<&'a str>,
    /// The `DEVICE_KEY` auth parameter, if sent.
    pub device_key: Option<&'a str>,
    /// ClientMetadata for the hook.
    pub client_metadata: Option<&'a HashMap<String, String>>,
}

impl<'a> LegacyRefreshRequest<'a> {
    /// A legacy refresh of `refresh_token` at `client_id`, with nothing else set.
    pub fn new(refresh_token: &'a RefreshToken, client_id: &'a str) -> Self {
        LegacyRefreshRequest {
            refresh_token,
            client_id,
            secret_hash: None,
            device_key: None,
            client_metadata: None,
        }
    }

    /// The refresh this request asks for, without a client secret.
    pub(crate) fn as_refresh(&self) -> RefreshRequest<'a> {
        RefreshRequest {
            refresh_token: self.refresh_token,
            client_id: self.client_id,
            client_secret: None,
            device_key: self.device_key,
            client_metadata: self.client_metadata,
        }
    }
}

impl fmt::Debug for LegacyRefreshRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LegacyRefreshRequest")
            .field("refresh_token", &self.refresh_token)
            .field("client_id", &self.client_id)
            .field("secret_hash", &redacted(self.secret_hash))
            .field("device_key", &redacted(self.device_key))
            .field("client_metadata", &self.client_metadata)
            .finish()
    }
}
