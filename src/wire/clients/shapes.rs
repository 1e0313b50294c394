//! The shapes the client operations share: a client as Create, Describe and Update return it
//! ([`UserPoolClientType`]), its nested members, and the secret member on the wire.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::secret::ClientSecret;

/// `ClientSecret` on the wire: a [`ClientSecret`] that can be read from and written to JSON.
///
/// It exists only in request and response bodies, which must carry the secret; `Debug` stays redacted and
/// equality is constant-time.
#[derive(Clone)]
pub struct WireClientSecret(pub ClientSecret);

impl WireClientSecret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        WireClientSecret(ClientSecret::new(value))
    }

    /// The secret itself.
    pub fn expose_secret(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for WireClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WireClientSecret([REDACTED])")
    }
}

impl PartialEq for WireClientSecret {
    /// In constant time (R-SAFE-3), and reflexive at any length: `ClientSecret::verify` refuses a
    /// presented value longer than 256 bytes, which would make a long secret unequal to itself.
    fn eq(&self, other: &Self) -> bool {
        crate::secret::constant_time_eq(
            self.0.expose_secret().as_bytes(),
            other.0.expose_secret().as_bytes(),
        )
    }
}

impl Eq for WireClientSecret {}

impl Serialize for WireClientSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.expose_secret())
    }
}

impl<'de> Deserialize<'de> for WireClientSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(WireClientSecret::new)
    }
}

/// Epoch-second timestamps: written as JSON integers; read from integers or from the fractional numbers
/// some AWS responses carry (truncated toward negative infinity).
mod epoch_seconds {
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        Int(i64),
        Float(f64),
    }

    pub(super) fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(t) => s.serialize_i64(*t),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(match Option::<Num>::deserialize(d)? {
            None => None,
            Some(Num::Int(i)) => Some(i),
            // `as` saturates at the i64 bounds (and maps NaN to 0); it cannot panic.
            Some(Num::Float(f)) => Some(f.floor() as i64),
        })
    }
}

/// `TokenValidityUnitsType`: units as the model's strings (`seconds`, `minutes`, `hours`, `days`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenValidityUnitsType {
    /// `AccessToken`. Defaults to `hours`.
    #[serde(rename = "AccessToken", skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// `IdToken`. Defaults to `hours`.
    #[serde(rename = "IdToken", skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// `RefreshToken`. Defaults to `days`.
    #[serde(rename = "RefreshToken", skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// `RefreshTokenRotationType`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshTokenRotationType {
    /// `Feature`: `ENABLED` or `DISABLED`; required when the structure is given (R-CFG-8).
    #[serde(rename = "Feature", skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// `RetryGracePeriodSeconds` (0..=60). Defaults to 0.
    #[serde(
        rename = "RetryGracePeriodSeconds",
        skip_serializing_if = "Option::is_none"
    )]
    pub retry_grace_period_seconds: Option<i64>,
}

/// `AnalyticsConfigurationType`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticsConfigurationType {
    /// `ApplicationId` (HexStringType).
    #[serde(rename = "ApplicationId", skip_serializing_if = "Option::is_none")]
    pub application_id: Option<String>,
    /// `ApplicationArn` (ArnType).
    #[serde(rename = "ApplicationArn", skip_serializing_if = "Option::is_none")]
    pub application_arn: Option<String>,
    /// `RoleArn` (ArnType).
    #[serde(rename = "RoleArn", skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// `ExternalId`.
    #[serde(rename = "ExternalId", skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// `UserDataShared`.
    #[serde(rename = "UserDataShared", skip_serializing_if = "Option::is_none")]
    pub user_data_shared: Option<bool>,
}

/// `UserPoolClientType`: a client as Describe, Create and Update return it, every member with its
/// effective value (SPEC 2.1). Unknown members are tolerated when reading one (it is an output shape).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPoolClientType {
    /// `UserPoolId` (required).
    #[serde(rename = "UserPoolId", skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// `ClientName` (ClientNameType: 1..=128, `[\w\s+=,.@-]+`).
    #[serde(rename = "ClientName", skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// `ClientId`.
    #[serde(rename = "ClientId", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `ClientSecret`, when the client has one (Cognito returns it).
    #[serde(rename = "ClientSecret", skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<WireClientSecret>,
    /// `ClientSecretArn`: never set by this crate.
    #[serde(rename = "ClientSecretArn", skip_serializing_if = "Option::is_none")]
    pub client_secret_arn: Option<String>,
    /// `LastModifiedDate`, epoch seconds.
    #[serde(
        rename = "LastModifiedDate",
        skip_serializing_if = "Option::is_none",
        default,
        with = "epoch_seconds"
    )]
    pub last_modified_date: Option<i64>,
    /// `CreationDate`, epoch seconds.
    #[serde(
        rename = "CreationDate",
        skip_serializing_if = "Option::is_none",
        default,
        with = "epoch_seconds"
    )]
    pub creation_date: Option<i64>,
    /// `RefreshTokenValidity`, in `TokenValidityUnits.RefreshToken` (0..=315360000; 0 means 30 days).
    #[serde(
        rename = "RefreshTokenValidity",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh_token_validity: Option<i64>,
    /// `AccessTokenValidity`, in `TokenValidityUnits.AccessToken` (1..=86400).
    #[serde(
        rename = "AccessTokenValidity",
        skip_serializing_if = "Option::is_none"
    )]
    pub access_token_validity: Option<i64>,
    /// `IdTokenValidity`, in `TokenValidityUnits.IdToken` (1..=86400).
    #[serde(rename = "IdTokenValidity", skip_serializing_if = "Option::is_none")]
    pub id_token_validity: Option<i64>,
    /// `TokenValidityUnits`.
    #[serde(rename = "TokenValidityUnits", skip_serializing_if = "Option::is_none")]
    pub token_validity_units: Option<TokenValidityUnitsType>,
    /// `ReadAttributes`.
    #[serde(rename = "ReadAttributes", skip_serializing_if = "Option::is_none")]
    pub read_attributes: Option<Vec<String>>,
    /// `WriteAttributes`.
    #[serde(rename = "WriteAttributes", skip_serializing_if = "Option::is_none")]
    pub write_attributes: Option<Vec<String>>,
    /// `ExplicitAuthFlows` (ExplicitAuthFlowsType values).
    #[serde(rename = "ExplicitAuthFlows", skip_serializing_if = "Option::is_none")]
    pub explicit_auth_flows: Option<Vec<String>>,
    /// `SupportedIdentityProviders`.
    #[serde(
        rename = "SupportedIdentityProviders",
        skip_serializing_if = "Option::is_none"
    )]
    pub supported_identity_providers: Option<Vec<String>>,
    /// `CallbackURLs` (at most 100).
    #[serde(rename = "CallbackURLs", skip_serializing_if = "Option::is_none")]
    pub callback_urls: Option<Vec<String>>,
    /// `LogoutURLs` (at most 100).
    #[serde(rename = "LogoutURLs", skip_serializing_if = "Option::is_none")]
    pub logout_urls: Option<Vec<String>>,
    /// `DefaultRedirectURI`.
    #[serde(rename = "DefaultRedirectURI", skip_serializing_if = "Option::is_none")]
    pub default_redirect_uri: Option<String>,
    /// `AllowedOAuthFlows` (`code`, `implicit`, `client_credentials`).
    #[serde(rename = "AllowedOAuthFlows", skip_serializing_if = "Option::is_none")]
    pub allowed_oauth_flows: Option<Vec<String>>,
    /// `AllowedOAuthScopes` (at most 50).
    #[serde(rename = "AllowedOAuthScopes", skip_serializing_if = "Option::is_none")]
    pub allowed_oauth_scopes: Option<Vec<String>>,
    /// `AllowedOAuthFlowsUserPoolClient`.
    #[serde(
        rename = "AllowedOAuthFlowsUserPoolClient",
        skip_serializing_if = "Option::is_none"
    )]
    pub allowed_oauth_flows_user_pool_client: Option<bool>,
    /// `AnalyticsConfiguration`.
    #[serde(
        rename = "AnalyticsConfiguration",
        skip_serializing_if = "Option::is_none"
    )]
    pub analytics_configuration: Option<AnalyticsConfigurationType>,
    /// `PreventUserExistenceErrors` (`LEGACY` or `ENABLED`).
    #[serde(
        rename = "PreventUserExistenceErrors",
        skip_serializing_if = "Option::is_none"
    )]
    pub prevent_user_existence_errors: Option<String>,
    /// `EnableTokenRevocation`.
    #[serde(
        rename = "EnableTokenRevocation",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_token_revocation: Option<bool>,
    /// `EnablePropagateAdditionalUserContextData`.
    #[serde(
        rename = "EnablePropagateAdditionalUserContextData",
        skip_serializing_if = "Option::is_none"
    )]
    pub enable_propagate_additional_user_context_data: Option<bool>,
    /// `AuthSessionValidity` in minutes (3..=15).
    #[serde(
        rename = "AuthSessionValidity",
        skip_serializing_if = "Option::is_none"
    )]
    pub auth_session_validity: Option<i64>,
    /// `RefreshTokenRotation`.
    #[serde(
        rename = "RefreshTokenRotation",
        skip_serializing_if = "Option::is_none"
    )]
    pub refresh_token_rotation: Option<RefreshTokenRotationType>,
    /// `ClientType`: always `REGULAR` here.
    #[serde(rename = "ClientType", skip_serializing_if = "Option::is_none")]
    pub client_type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::CreateUserPoolClientRequest;

    #[test]
    fn r_safe_3_wire_secret_equality_is_an_equivalence_at_any_length() {
        for len in [0, 24, 256, 257, 4096] {
            let a = WireClientSecret::new("s".repeat(len));
            assert_eq!(a, WireClientSecret::new("s".repeat(len)), "length {len}");
            assert_ne!(
                a,
                WireClientSecret::new("t".repeat(len.max(1))),
                "length {len}"
            );
        }
        assert_ne!(WireClientSecret::new("ab"), WireClientSecret::new("abc"));
    }

    #[test]
    fn r_safe_2_wire_secret_debug_is_redacted() {
        let req = CreateUserPoolClientRequest {
            client_secret: Some(WireClientSecret::new("abcdefghijklmnopqrstuvwxyz")),
            ..Default::default()
        };
        let dbg = format!("{req:?}");
        assert!(!dbg.contains("abcdefghij"), "{dbg}");
        assert!(dbg.contains("WireClientSecret([REDACTED])"));
    }

    #[test]
    fn dates_accept_fractional_epoch_seconds() {
        let c: UserPoolClientType =
            serde_json::from_str(r#"{"CreationDate":1700000000.75,"LastModifiedDate":1700000001}"#)
                .unwrap();
        assert_eq!(c.creation_date, Some(1_700_000_000));
        assert_eq!(c.last_modified_date, Some(1_700_000_001));
        assert_eq!(
            serde_json::to_string(&c).unwrap(),
            r#"{"LastModifiedDate":1700000001,"CreationDate":1700000000}"#
        );
    }
}
