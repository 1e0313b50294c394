//! The requests of the token operations, as a host builds them after parsing its own input.
//!
//! They borrow: a host keeps its parsed request and lends the engine views of it. Identifiers and
//! credentials are typed ([`ClientId`], [`PresentedSecret`], [`SecretHash`], [`DeviceKey`]), so each was
//! checked once, when the host parsed it, and a secret cannot land in the device key's place. `Debug`
//! shows whether a secret, SECRET_HASH or device key is present, never its value (R-SAFE-2).

use std::collections::HashMap;

use super::ids::{ClientId, DeviceKey, PresentedSecret, SecretHash};
use crate::secret::RefreshToken;

/// A request for the first token set of a session, after the host authenticated the user (SPEC 4).
#[derive(Clone, Copy, Debug)]
pub struct SignInRequest<'a> {
    /// The app client.
    pub client_id: ClientId<'a>,
    /// The user's username.
    pub username: &'a str,
    /// The client secret, for a client that has one (or use `secret_hash`).
    pub client_secret: Option<PresentedSecret<'a>>,
    /// A SECRET_HASH computed by the client, instead of the secret itself (R-SIGN-1).
    pub secret_hash: Option<SecretHash<'a>>,
    /// Scopes to grant, space-separated in the access token: each must be `aws.cognito.signin.user.admin`
    /// or one of the client's AllowedOAuthScopes. Defaults to `aws.cognito.signin.user.admin`, as for
    /// API sign-ins.
    pub scopes: Option<&'a [String]>,
    /// A device the host already knows for this user, to bind the family to (confirmed).
    pub device_key: Option<DeviceKey<'a>>,
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
    pub fn new(client_id: ClientId<'a>, username: &'a str) -> Self {
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

/// A GetTokensFromRefreshToken request (SPEC 5).
#[derive(Clone, Copy, Debug)]
pub struct RefreshRequest<'a> {
    /// The refresh token as the client sent it.
    pub refresh_token: &'a RefreshToken,
    /// The app client.
    pub client_id: ClientId<'a>,
    /// The client secret, if sent.
    pub client_secret: Option<PresentedSecret<'a>>,
    /// The device key, if sent.
    pub device_key: Option<DeviceKey<'a>>,
    /// ClientMetadata for the hook.
    pub client_metadata: Option<&'a HashMap<String, String>>,
    /// Whether the answer can announce a new device (`NewDeviceMetadata`): `true` from
    /// [`RefreshRequest::new`]. `false` where it cannot, as at the OAuth 2.0 token endpoint: a family
    /// without a device is then refreshed without one, rather than bound to a device its client never
    /// learns (R-REF-9, R-OAUTH-4).
    pub announces_device: bool,
}

impl<'a> RefreshRequest<'a> {
    /// A refresh of `refresh_token` at `client_id`, with nothing else set.
    pub fn new(refresh_token: &'a RefreshToken, client_id: ClientId<'a>) -> Self {
        RefreshRequest {
            refresh_token,
            client_id,
            client_secret: None,
            device_key: None,
            client_metadata: None,
            announces_device: true,
        }
    }
}

/// A legacy refresh: InitiateAuth / AdminInitiateAuth with `REFRESH_TOKEN_AUTH` or `REFRESH_TOKEN`
/// (R-ROT-8). The client authenticates with a SECRET_HASH, not the secret.
#[derive(Clone, Copy, Debug)]
pub struct LegacyRefreshRequest<'a> {
    /// The refresh token as the client sent it.
    pub refresh_token: &'a RefreshToken,
    /// The app client.
    pub client_id: ClientId<'a>,
    /// The `SECRET_HASH` auth parameter. A missing one (for a client with a secret) is refused with the
    /// client's checks (R-REF-3); one that was sent is computed over the username, which only the
    /// family knows, so it is verified after the token (the one place where the order differs from
    /// R-REF-3/R-REF-4), and before any check of the family (R-REF-5 onwards). It may be computed
    /// over the username or the `sub`, as Cognito accepts.
    pub secret_hash: Option<SecretHash<'a>>,
    /// The `DEVICE_KEY` auth parameter, if sent.
    pub device_key: Option<DeviceKey<'a>>,
    /// ClientMetadata for the hook.
    pub client_metadata: Option<&'a HashMap<String, String>>,
}

impl<'a> LegacyRefreshRequest<'a> {
    /// A legacy refresh of `refresh_token` at `client_id`, with nothing else set.
    pub fn new(refresh_token: &'a RefreshToken, client_id: ClientId<'a>) -> Self {
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
            announces_device: true,
        }
    }
}
