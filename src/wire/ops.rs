//! What an HTTP front end needs between the bytes of a request and one call into the issuer or the
//! registry: the operation named by `X-Amz-Target` (R-WIRE-3, R-SRV-2), and the token operations'
//! requests parsed once into typed calls that have passed the request-shape checks of R-REF-1.
//!
//! The shape checks run here, before the host has even chosen the pool a request belongs to, so that a
//! request with a missing or malformed member is answered `InvalidParameterException` whatever pool its
//! client might be in, in the order SPEC 5 gives. The issuer runs the same checks again (they are cheap);
//! these types only move them earlier.

use std::collections::HashMap;

use crate::engine::checks;
use crate::engine::{ClientId, DeviceKey, PresentedSecret, RefreshRequest};
use crate::error::Error;
use crate::secret::{RefreshToken, SecretString};
use crate::wire::{GetTokensFromRefreshTokenRequest, RevokeTokenRequest};

/// The prefix of every Cognito `X-Amz-Target` value.
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// The longest part of an unknown target echoed back in an error message.
const MAX_ECHOED_TARGET: usize = 128;

macro_rules! operations {
    ($($(#[$doc:meta])* $variant:ident),* $(,)?) => {
        /// An operation a Cognito-compatible service can be asked for, named as in `X-Amz-Target`.
        ///
        /// These are the operations of R-SRV-2. The crate implements the token and client operations;
        /// the user and pool operations are the host's, listed here so that one dispatch covers them all.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Operation {
            $($(#[$doc])* $variant,)*
        }

        impl Operation {
            /// Every operation, in declaration order.
            pub const ALL: &'static [Operation] = &[$(Operation::$variant),*];

            /// The operation's name, for example `GetTokensFromRefreshToken`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Operation::$variant => stringify!($variant),)*
                }
            }
        }
    };
}

operations! {
    /// `CreateUserPool` (host).
    CreateUserPool,
    /// `CreateUserPoolClient`.
    CreateUserPoolClient,
    /// `DescribeUserPoolClient`.
    DescribeUserPoolClient,
    /// `UpdateUserPoolClient`.
    UpdateUserPoolClient,
    /// `DeleteUserPoolClient`.
    DeleteUserPoolClient,
    /// `ListUserPoolClients`.
    ListUserPoolClients,
    /// `AdminCreateUser` (host).
    AdminCreateUser,
    /// `AdminSetUserPassword` (host).
    AdminSetUserPassword,
    /// `AdminDisableUser` (host).
    AdminDisableUser,
    /// `AdminEnableUser` (host).
    AdminEnableUser,
    /// `AdminDeleteUser` (host).
    AdminDeleteUser,
    /// `AdminUserGlobalSignOut`.
    AdminUserGlobalSignOut,
    /// `AdminInitiateAuth`.
    AdminInitiateAuth,
    /// `InitiateAuth`.
    InitiateAuth,
    /// `GetTokensFromRefreshToken`.
    GetTokensFromRefreshToken,
    /// `RevokeToken`.
    RevokeToken,
}

impl Operation {
    /// The operation named by an `X-Amz-Target` header value (R-WIRE-3).
    ///
    /// A missing header, a value without the `AWSCognitoIdentityProviderService.` prefix, or a name that
    /// is not one of [`Operation::ALL`] is `UnknownOperationException` (R-SRV-2).
    pub fn from_target(target: Option<&str>) -> Result<Operation, Error> {
        let Some(target) = target else {
            return Err(Error::UnknownOperation {
                message: "Missing X-Amz-Target header.".into(),
            });
        };
        let found = target
            .strip_prefix(TARGET_PREFIX)
            .and_then(|name| Operation::ALL.iter().find(|op| op.name() == name));
        match found {
            Some(op) => Ok(*op),
            None => {
                let shown = crate::error::echoed(target, MAX_ECHOED_TARGET);
                Err(Error::UnknownOperation {
                    message: format!("Unknown operation: '{shown}'."),
                })
            }
        }
    }

    /// The full `X-Amz-Target` value, for example
    /// `AWSCognitoIdentityProviderService.GetTokensFromRefreshToken`.
    pub fn target(self) -> String {
        format!("{TARGET_PREFIX}{}", self.name())
    }
}

fn missing(member: &str) -> Error {
    Error::InvalidParameter {
        message: format!("Missing required parameter {member}"),
    }
}

/// A required member: present and non-empty, else `Missing required parameter <member>`.
pub(crate) fn required<'a>(member: &str, value: Option<&'a str>) -> Result<&'a str, Error> {
    match value {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(missing(member)),
    }
}

/// The `UserPoolId` of a request, for routing it to a pool before the pool's registry or issuer sees it:
/// present and a UserPoolIdType (`[\w-]+_[0-9a-zA-Z]+`, 1..=55 characters), else
/// `InvalidParameterException` in the words of R-CFG-1/R-CFG-2. The host answers an id it does not
/// serve with [`Error::UserPoolNotFound`].
///
/// Routing first means a request without a valid pool id reports that violation alone, not together
/// with the rest of its violations as a registry would.
pub fn user_pool_id(id: Option<&str>) -> Result<&str, Error> {
    let mut out = Vec::new();
    let well_formed = crate::config::check_user_pool_id(&mut out, id);
    match id {
        Some(id) if well_formed && out.is_empty() => Ok(id),
        _ => Err(Error::invalid_request(out)),
    }
}

/// A GetTokensFromRefreshToken request that has passed R-REF-1.
///
/// Parse with [`GetTokensFromRefreshTokenRequest::into_call`]; route by [`client_id`](Self::client_id);
/// run with [`TokenIssuer::get_tokens_from_refresh_token`](crate::TokenIssuer::get_tokens_from_refresh_token)
/// and [`as_request`](Self::as_request).
///
/// Every secret member is held in a redacting type (R-SAFE-2), so the derived `Debug` shows the client
/// id and metadata and prints the token, client secret and device key as `[REDACTED]`.
#[derive(Debug, Clone)]
pub struct RefreshCall {
    refresh_token: RefreshToken,
    client_id: String,
    client_secret: Option<SecretString>,
    device_key: Option<SecretString>,
    client_metadata: Option<HashMap<String, String>>,
}

impl RefreshCall {
    /// The app client, checked against the model's ClientIdType when the call was parsed.
    pub fn client_id(&self) -> ClientId<'_> {
        ClientId::checked(&self.client_id)
    }

    /// The request for the issuer, borrowing from this call; its members were checked once, when the
    /// call was parsed.
    pub fn as_request(&self) -> RefreshRequest<'_> {
        RefreshRequest {
            refresh_token: &self.refresh_token,
            client_id: self.client_id(),
            client_secret: self
                .client_secret
                .as_ref()
                .map(|s| PresentedSecret::checked(s.expose_secret())),
            device_key: self
                .device_key
                .as_ref()
                .map(|d| DeviceKey::checked(d.expose_secret())),
            client_metadata: self.client_metadata.as_ref(),
            announces_device: true,
        }
    }
}

impl GetTokensFromRefreshTokenRequest {
    /// Checks the request shape (R-REF-1): RefreshToken and ClientId present, and the model's lengths and
    /// patterns for RefreshToken, ClientId, ClientSecret and DeviceKey, and the bounds on ClientMetadata.
    /// Every failure is `InvalidParameterException`; secret values are never echoed.
    pub fn into_call(self) -> Result<RefreshCall, Error> {
        let token = required(
            "RefreshToken",
            self.refresh_token.as_ref().map(|t| t.expose_secret()),
        )?;
        checks::check_refresh_token_shape(token)?;
        let client_id = required("ClientId", self.client_id.as_deref())?;
        ClientId::parse(client_id)?;
        if let Some(s) = &self.client_secret {
            PresentedSecret::parse(s.expose_secret())?;
        }
        if let Some(d) = &self.device_key {
            DeviceKey::parse(d)?;
        }
        if let Some(m) = &self.client_metadata {
            checks::check_client_metadata(m)?;
        }
        Ok(RefreshCall {
            refresh_token: RefreshToken::new(token),
            client_id: client_id.to_owned(),
            client_secret: self
                .client_secret
                .map(|s| SecretString::new(s.expose_secret())),
            device_key: self.device_key.map(SecretString::new),
            client_metadata: self.client_metadata,
        })
    }
}

/// A RevokeToken request that has passed its shape checks. Parse with
/// [`RevokeTokenRequest::into_call`]; run with
/// [`TokenIssuer::revoke_token`](crate::TokenIssuer::revoke_token).
///
/// The token and client secret are held in redacting types (R-SAFE-2): the derived `Debug` never
/// prints them.
#[derive(Debug, Clone)]
pub struct RevokeCall {
    token: RefreshToken,
    client_id: String,
    client_secret: Option<SecretString>,
}

impl RevokeCall {
    /// The token to revoke.
    pub fn token(&self) -> &RefreshToken {
        &self.token
    }

    /// The app client, checked against the model's ClientIdType when the call was parsed.
    pub fn client_id(&self) -> ClientId<'_> {
        ClientId::checked(&self.client_id)
    }

    /// The client secret, if sent, checked against ClientSecretType when the call was parsed.
    pub fn client_secret(&self) -> Option<PresentedSecret<'_>> {
        self.client_secret
            .as_ref()
            .map(|s| PresentedSecret::checked(s.expose_secret()))
    }
}

impl RevokeTokenRequest {
    /// Checks the request shape: Token and ClientId present, the model's lengths and patterns for
    /// Token (as a refresh token), ClientId and ClientSecret, and RevokeAssociatedSessions one of `NONE`
    /// and `LINKED`. Every failure is `InvalidParameterException`.
    pub fn into_call(self) -> Result<RevokeCall, Error> {
        let token = required("Token", self.token.as_ref().map(|t| t.expose_secret()))?;
        checks::check_token_shape("Token", token)?;
        let client_id = required("ClientId", self.client_id.as_deref())?;
        ClientId::parse(client_id)?;
        if let Some(s) = &self.client_secret {
            PresentedSecret::parse(s.expose_secret())?;
        }
        if let Some(r) = self.revoke_associated_sessions.as_deref() {
            if !matches!(r, "NONE" | "LINKED") {
                let shown = crate::error::echoed(r, 64);
                return Err(Error::InvalidParameter {
                    message: format!(
                        "1 validation error detected: Value '{shown}' at 'revokeAssociatedSessions' \
                         failed to satisfy constraint: Member must satisfy enum value set: [NONE, LINKED]"
                    ),
                });
            }
        }
        Ok(RevokeCall {
            token: RefreshToken::new(token),
            client_id: client_id.to_owned(),
            client_secret: self
                .client_secret
                .map(|s| SecretString::new(s.expose_secret())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::from_json;

    #[test]
    fn r_wire_3_every_operation_round_trips_through_its_target() {
        for op in Operation::ALL {
            assert_eq!(Operation::from_target(Some(&op.target())).unwrap(), *op);
        }
        assert_eq!(Operation::ALL.len(), 16, "the operations of R-SRV-2");
        assert_eq!(
            Operation::from_target(Some(
                "AWSCognitoIdentityProviderService.GetTokensFromRefreshToken"
            ))
            .unwrap(),
            Operation::GetTokensFromRefreshToken
        );
    }

    #[test]
    fn r_srv_2_unknown_or_missing_target_is_unknown_operation() {
        for t in [
            None,
            Some(""),
            Some("AWSCognitoIdentityProviderService."),
            Some("AWSCognitoIdentityProviderService.ForgotPassword"),
            Some("AWSCognitoIdentityProviderService.getTokensFromRefreshToken"),
            Some("DynamoDB_20120810.GetItem"),
            Some("GetTokensFromRefreshToken"),
        ] {
            let e = Operation::from_target(t).unwrap_err();
            assert_eq!(e.exception_name(), "UnknownOperationException", "{t:?}");
            assert_eq!(e.http_status(), 400);
        }
        let long = format!("{}\n{}", "x".repeat(10), "y".repeat(10_000));
        let e = Operation::from_target(Some(&long)).unwrap_err();
        assert!(e.message().len() < 200, "echo is bounded");
        assert!(!e.message().contains('\n'), "control characters dropped");
    }

    #[test]
    fn r_cfg_1_pool_id_for_routing() {
        assert_eq!(
            user_pool_id(Some("us-east-1_Abc123")).unwrap(),
            "us-east-1_Abc123"
        );
        for bad in [
            None,
            Some(""),
            Some("nounderscore"),
            Some("us-east-1_"),
            Some("a b_c"),
        ] {
            let e = user_pool_id(bad).unwrap_err();
            assert_eq!(e.exception_name(), "InvalidParameterException", "{bad:?}");
            assert!(
                e.message().contains("UserPoolId") || e.message().contains("userPoolId"),
                "{e}"
            );
        }
    }

    fn refresh(json: &str) -> Result<RefreshCall, Error> {
        from_json::<GetTokensFromRefreshTokenRequest>(json.as_bytes())?.into_call()
    }

    #[test]
    fn r_ref_1_required_members_and_shapes() {
        let e = refresh(r#"{"ClientId":"abc"}"#).unwrap_err();
        assert_eq!(e.message(), "Missing required parameter RefreshToken");
        let e = refresh(r#"{"RefreshToken":"t"}"#).unwrap_err();
        assert_eq!(e.message(), "Missing required parameter ClientId");
        let e = refresh(r#"{"RefreshToken":"t","ClientId":""}"#).unwrap_err();
        assert_eq!(e.message(), "Missing required parameter ClientId");
        for bad in [
            r#"{"RefreshToken":"a b","ClientId":"abc"}"#,
            r#"{"RefreshToken":"t","ClientId":"a-b"}"#,
            r#"{"RefreshToken":"t","ClientId":"abc","ClientSecret":"short"}"#,
            r#"{"RefreshToken":"t","ClientId":"abc","DeviceKey":"nounderscore"}"#,
        ] {
            let e = refresh(bad).unwrap_err();
            assert_eq!(e.exception_name(), "InvalidParameterException", "{bad}");
        }
    }

    #[test]
    fn r_ref_1_a_valid_request_maps_every_member() {
        let call = refresh(
            r#"{"RefreshToken":"tok","ClientId":"client1","ClientSecret":"sssssssssssssssssssssssss",
                "DeviceKey":"us-east-1_0a1b","ClientMetadata":{"k":"v"}}"#,
        )
        .unwrap();
        assert_eq!(call.client_id(), "client1");
        let req = call.as_request();
        assert_eq!(req.refresh_token.expose_secret(), "tok");
        assert_eq!(req.client_id, "client1");
        assert_eq!(
            req.client_secret.map(PresentedSecret::expose_secret),
            Some("sssssssssssssssssssssssss")
        );
        assert_eq!(
            req.device_key.map(DeviceKey::expose_secret),
            Some("us-east-1_0a1b")
        );
        assert_eq!(req.client_metadata.unwrap()["k"], "v");
        assert!(!format!("{call:?}").contains("tok\""), "token redacted");
    }

    fn revoke(json: &str) -> Result<RevokeCall, Error> {
        from_json::<RevokeTokenRequest>(json.as_bytes())?.into_call()
    }

    #[test]
    fn r_rev_1_revoke_request_shape() {
        assert_eq!(
            revoke(r#"{"ClientId":"abc"}"#).unwrap_err().message(),
            "Missing required parameter Token"
        );
        assert_eq!(
            revoke(r#"{"Token":"t"}"#).unwrap_err().message(),
            "Missing required parameter ClientId"
        );
        let e = revoke(r#"{"Token":"t","ClientId":"abc","RevokeAssociatedSessions":"ALL"}"#)
            .unwrap_err();
        assert!(e.message().contains("[NONE, LINKED]"), "{e}");
        let call = revoke(r#"{"Token":"t","ClientId":"abc","RevokeAssociatedSessions":"LINKED"}"#)
            .unwrap();
        assert_eq!(call.token().expose_secret(), "t");
        assert_eq!(call.client_id(), "abc");
        assert!(call.client_secret().is_none());
    }
}
