//! Wire types of the five client operations (CreateUserPoolClient, DescribeUserPoolClient,
//! UpdateUserPoolClient, DeleteUserPoolClient, ListUserPoolClients), exactly as AWS writes them (R-WIRE-1).
//!
//! Requests are parsed leniently where Cognito itself reports errors (enum members are strings, integers
//! any `i64`), so that an invalid value is reported by the configuration validator together with every
//! other violation, in AWS's words; they are strict about shape: an unknown member is refused with an
//! error that names it (R-CFG-16). Parse request bodies with [`from_json`], which also bounds their size.
//! The secret member `ClientSecret` is a [`WireClientSecret`], whose `Debug` is redacted.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::{AppClientConfig, RawAnalytics, RawConfig, RawRotation, RawUnits};
use crate::error::Error;
use crate::registry::AppClient;
use crate::secret::ClientSecret;

/// The largest request body [`from_json`] parses: 1 MiB, far above any valid client request.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// Parses a JSON request body into `T`.
///
/// Bodies above [`MAX_REQUEST_BYTES`] are refused before parsing. Any failure, an unknown member
/// included (R-CFG-16), is an [`Error::InvalidParameter`] whose message names the offending member.
pub fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(Error::InvalidParameter {
            message: format!(
                "The request body is {} bytes; at most {MAX_REQUEST_BYTES} bytes are accepted.",
                body.len()
            ),
        });
    }
    serde_json::from_slice(body).map_err(|e| Error::InvalidParameter {
        message: describe_json_error(&e),
    })
}

/// Serialises a response body. Serialising these types cannot fail; an error would be a bug, reported as
/// an internal error rather than a panic.
pub fn to_json<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|_| Error::Internal {
        detail: "response serialisation failed",
    })
}

/// A readable message for a JSON error: the unknown member by name, or serde's own text (which names the
/// member and position), cut to a sane length.
fn describe_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix("unknown field `") {
        if let Some(end) = rest.find('`') {
            let name: String = rest[..end].chars().take(128).collect();
            return format!(
                "Unknown member '{name}' in the request: it is not a member of this operation's input."
            );
        }
    }
    // serde quotes the offending value (`invalid type: string "..."`), which may be a secret sent in the
    // wrong member: keep only its description of the problem and the position (R-SAFE-2).
    let what = match e.classify() {
        serde_json::error::Category::Syntax => "malformed JSON",
        serde_json::error::Category::Eof => "unexpected end of JSON",
        serde_json::error::Category::Data => "a member has the wrong type or value",
        serde_json::error::Category::Io => "unreadable body",
    };
    // "missing field `X`" and "duplicate field `X`" carry a member name and no value: keep those.
    let member = if text.starts_with("missing field") || text.starts_with("duplicate field") {
        let m: String = text
            .split(" at line")
            .next()
            .unwrap_or("")
            .chars()
            .take(160)
            .collect();
        format!(" ({m})")
    } else {
        String::new()
    };
    format!(
        "Invalid request body: {what}{member} at line {} column {}",
        e.line(),
        e.column()
    )
}

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
    fn eq(&self, other: &Self) -> bool {
        self.0.verify(other.0.expose_secret())
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

/// CreateUserPoolClient input. Required: `UserPoolId`, `ClientName` (R-CFG-1, checked by the registry so
/// that a missing member is reported with the other violations).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateUserPoolClientRequest {
    /// `UserPoolId` (required).
    #[serde(rename = "UserPoolId", skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// `ClientName` (ClientNameType: 1..=128, `[\w\s+=,.@-]+`).
    #[serde(rename = "ClientName", skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// `GenerateSecret`: give the client a 51-character generated secret.
    #[serde(rename = "GenerateSecret", skip_serializing_if = "Option::is_none")]
    pub generate_secret: Option<bool>,
    /// `ClientSecret`: a custom secret (ClientSecretType: 24..=64, `[\w+]+`); exclusive with GenerateSecret.
    #[serde(rename = "ClientSecret", skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<WireClientSecret>,
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
    /// `PublishSecretsInAWSSecretsManager`: accepted only as false (the crate has no Secrets Manager).
    #[serde(
        rename = "PublishSecretsInAWSSecretsManager",
        skip_serializing_if = "Option::is_none"
    )]
    pub publish_secrets_in_aws_secrets_manager: Option<bool>,
}

/// UpdateUserPoolClient input: a full replacement; absent members take their defaults (R-CLI-3), except
/// `ClientName`, which has no default and is kept. The secret cannot be changed here.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserPoolClientRequest {
    /// `UserPoolId` (required).
    #[serde(rename = "UserPoolId", skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// `ClientId` (required).
    #[serde(rename = "ClientId", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `ClientName` (ClientNameType: 1..=128, `[\w\s+=,.@-]+`).
    #[serde(rename = "ClientName", skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
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
    /// `PublishSecretsInAWSSecretsManager`: accepted only as false (the crate has no Secrets Manager).
    #[serde(
        rename = "PublishSecretsInAWSSecretsManager",
        skip_serializing_if = "Option::is_none"
    )]
    pub publish_secrets_in_aws_secrets_manager: Option<bool>,
}

/// DescribeUserPoolClient input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DescribeUserPoolClientRequest {
    /// `UserPoolId` (required).
    #[serde(rename = "UserPoolId", skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// `ClientId` (required).
    #[serde(rename = "ClientId", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// DeleteUserPoolClient input. The operation has no output; an endpoint answers `{}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteUserPoolClientRequest {
    /// `UserPoolId` (required).
    #[serde(rename = "UserPoolId", skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// `ClientId` (required).
    #[serde(rename = "ClientId", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// ListUserPoolClients input.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListUserPoolClientsRequest {
    /// `UserPoolId` (required).
    #[serde(rename = "UserPoolId", skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// `MaxResults` (1..=60). Defaults to 60.
    #[serde(rename = "MaxResults", skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i64>,
    /// `NextToken`: the opaque token of the previous page.
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
    /// `ClientType` filter: `REGULAR` or `DCR` (this crate creates only REGULAR clients).
    #[serde(rename = "ClientType", skip_serializing_if = "Option::is_none")]
    pub client_type: Option<String>,
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

/// `UserPoolClientDescription`: one entry of ListUserPoolClients (R-CLI-7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserPoolClientDescription {
    /// `ClientId`.
    #[serde(rename = "ClientId", skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// `UserPoolId`.
    #[serde(rename = "UserPoolId", skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    /// `ClientName`.
    #[serde(rename = "ClientName", skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
}

/// CreateUserPoolClient output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateUserPoolClientResponse {
    /// `UserPoolClient`: the new client, its secret included.
    #[serde(rename = "UserPoolClient", skip_serializing_if = "Option::is_none")]
    pub user_pool_client: Option<UserPoolClientType>,
}

/// DescribeUserPoolClient output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribeUserPoolClientResponse {
    /// `UserPoolClient`.
    #[serde(rename = "UserPoolClient", skip_serializing_if = "Option::is_none")]
    pub user_pool_client: Option<UserPoolClientType>,
}

/// UpdateUserPoolClient output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateUserPoolClientResponse {
    /// `UserPoolClient`: the client as updated.
    #[serde(rename = "UserPoolClient", skip_serializing_if = "Option::is_none")]
    pub user_pool_client: Option<UserPoolClientType>,
}

/// ListUserPoolClients output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListUserPoolClientsResponse {
    /// `UserPoolClients`.
    #[serde(rename = "UserPoolClients", skip_serializing_if = "Option::is_none")]
    pub user_pool_clients: Option<Vec<UserPoolClientDescription>>,
    /// `NextToken`: present when more clients follow.
    #[serde(rename = "NextToken", skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

impl From<&TokenValidityUnitsType> for RawUnits {
    fn from(u: &TokenValidityUnitsType) -> Self {
        RawUnits {
            access_token: u.access_token.clone(),
            id_token: u.id_token.clone(),
            refresh_token: u.refresh_token.clone(),
        }
    }
}

impl From<&RefreshTokenRotationType> for RawRotation {
    fn from(r: &RefreshTokenRotationType) -> Self {
        RawRotation {
            feature: r.feature.clone(),
            retry_grace_period_seconds: r.retry_grace_period_seconds,
        }
    }
}

impl From<&AnalyticsConfigurationType> for RawAnalytics {
    fn from(a: &AnalyticsConfigurationType) -> Self {
        RawAnalytics {
            application_id: a.application_id.clone(),
            application_arn: a.application_arn.clone(),
            role_arn: a.role_arn.clone(),
            external_id: a.external_id.clone(),
            user_data_shared: a.user_data_shared,
        }
    }
}

/// Builds the wire form of the configuration members from a raw configuration.
macro_rules! config_members_from_raw {
    ($raw:expr) => {{
        let raw: RawConfig = $raw;
        (
            raw.client_name,
            raw.refresh_token_validity,
            raw.access_token_validity,
            raw.id_token_validity,
            raw.token_validity_units.map(|u| TokenValidityUnitsType {
                access_token: u.access_token,
                id_token: u.id_token,
                refresh_token: u.refresh_token,
            }),
            raw.read_attributes,
            raw.write_attributes,
            raw.explicit_auth_flows,
            raw.supported_identity_providers,
            raw.callback_urls,
            raw.logout_urls,
            raw.default_redirect_uri,
            raw.allowed_oauth_flows,
            raw.allowed_oauth_scopes,
            raw.allowed_oauth_flows_user_pool_client,
            raw.analytics_configuration
                .map(|a| AnalyticsConfigurationType {
                    application_id: a.application_id,
                    application_arn: a.application_arn,
                    role_arn: a.role_arn,
                    external_id: a.external_id,
                    user_data_shared: a.user_data_shared,
                }),
            raw.prevent_user_existence_errors,
            raw.enable_token_revocation,
            raw.enable_propagate_additional_user_context_data,
            raw.auth_session_validity,
            raw.refresh_token_rotation
                .map(|r| RefreshTokenRotationType {
                    feature: r.feature,
                    retry_grace_period_seconds: r.retry_grace_period_seconds,
                }),
        )
    }};
}

/// Implements the conversions shared by the Create and Update requests.
macro_rules! config_request {
    ($ty:ident) => {
        impl $ty {
            /// The list members by wire name, for the size check that runs before anything is copied.
            pub(crate) fn lists(&self) -> [(&'static str, Option<&Vec<String>>); 8] {
                [
                    ("ReadAttributes", self.read_attributes.as_ref()),
                    ("WriteAttributes", self.write_attributes.as_ref()),
                    ("ExplicitAuthFlows", self.explicit_auth_flows.as_ref()),
                    (
                        "SupportedIdentityProviders",
                        self.supported_identity_providers.as_ref(),
                    ),
                    ("CallbackURLs", self.callback_urls.as_ref()),
                    ("LogoutURLs", self.logout_urls.as_ref()),
                    ("AllowedOAuthFlows", self.allowed_oauth_flows.as_ref()),
                    ("AllowedOAuthScopes", self.allowed_oauth_scopes.as_ref()),
                ]
            }

            /// The configuration members, unchecked.
            pub(crate) fn raw_config(&self) -> RawConfig {
                RawConfig {
                    client_name: self.client_name.clone(),
                    read_attributes: self.read_attributes.clone(),
                    write_attributes: self.write_attributes.clone(),
                    explicit_auth_flows: self.explicit_auth_flows.clone(),
                    supported_identity_providers: self.supported_identity_providers.clone(),
                    callback_urls: self.callback_urls.clone(),
                    logout_urls: self.logout_urls.clone(),
                    default_redirect_uri: self.default_redirect_uri.clone(),
                    allowed_oauth_flows: self.allowed_oauth_flows.clone(),
                    allowed_oauth_scopes: self.allowed_oauth_scopes.clone(),
                    prevent_user_existence_errors: self.prevent_user_existence_errors.clone(),
                    refresh_token_validity: self.refresh_token_validity,
                    access_token_validity: self.access_token_validity,
                    id_token_validity: self.id_token_validity,
                    token_validity_units: self.token_validity_units.as_ref().map(RawUnits::from),
                    allowed_oauth_flows_user_pool_client: self.allowed_oauth_flows_user_pool_client,
                    analytics_configuration: self
                        .analytics_configuration
                        .as_ref()
                        .map(RawAnalytics::from),
                    enable_token_revocation: self.enable_token_revocation,
                    enable_propagate_additional_user_context_data: self
                        .enable_propagate_additional_user_context_data,
                    auth_session_validity: self.auth_session_validity,
                    refresh_token_rotation: self
                        .refresh_token_rotation
                        .as_ref()
                        .map(RawRotation::from),
                }
            }

            fn set_config_members(&mut self, raw: RawConfig) {
                (
                    self.client_name,
                    self.refresh_token_validity,
                    self.access_token_validity,
                    self.id_token_validity,
                    self.token_validity_units,
                    self.read_attributes,
                    self.write_attributes,
                    self.explicit_auth_flows,
                    self.supported_identity_providers,
                    self.callback_urls,
                    self.logout_urls,
                    self.default_redirect_uri,
                    self.allowed_oauth_flows,
                    self.allowed_oauth_scopes,
                    self.allowed_oauth_flows_user_pool_client,
                    self.analytics_configuration,
                    self.prevent_user_existence_errors,
                    self.enable_token_revocation,
                    self.enable_propagate_additional_user_context_data,
                    self.auth_session_validity,
                    self.refresh_token_rotation,
                ) = config_members_from_raw!(raw);
            }
        }
    };
}

config_request!(CreateUserPoolClientRequest);
config_request!(UpdateUserPoolClientRequest);

impl CreateUserPoolClientRequest {
    /// The request that creates a client with exactly `config` in pool `user_pool_id` (no secret): every
    /// member written out, so validating it yields an equal configuration.
    pub fn from_config(user_pool_id: &str, config: &AppClientConfig) -> Self {
        let mut req = CreateUserPoolClientRequest {
            user_pool_id: Some(user_pool_id.to_owned()),
            ..Default::default()
        };
        req.set_config_members(RawConfig::from_config(config));
        req
    }
}

impl UpdateUserPoolClientRequest {
    /// The request that sets client `client_id` of pool `user_pool_id` to exactly `config`.
    pub fn from_config(user_pool_id: &str, client_id: &str, config: &AppClientConfig) -> Self {
        let mut req = UpdateUserPoolClientRequest {
            user_pool_id: Some(user_pool_id.to_owned()),
            client_id: Some(client_id.to_owned()),
            ..Default::default()
        };
        req.set_config_members(RawConfig::from_config(config));
        req
    }
}

fn non_empty(v: &[String]) -> Option<Vec<String>> {
    (!v.is_empty()).then(|| v.to_vec())
}

impl From<&AppClient> for UserPoolClientType {
    /// Describe's view of a client: every member with its effective value, the secret included when the
    /// client has one (as Cognito returns it). Empty lists are omitted, as Cognito omits unset lists;
    /// `ExplicitAuthFlows` is always present.
    fn from(c: &AppClient) -> Self {
        let cfg = c.config();
        let units = cfg.token_validity_units();
        let rotation = cfg.refresh_token_rotation();
        UserPoolClientType {
            user_pool_id: Some(c.user_pool_id().to_owned()),
            client_name: Some(cfg.client_name().to_owned()),
            client_id: Some(c.client_id().to_string()),
            client_secret: c.secret().cloned().map(WireClientSecret),
            client_secret_arn: None,
            last_modified_date: Some(c.last_modified_date().unix_seconds()),
            creation_date: Some(c.creation_date().unix_seconds()),
            refresh_token_validity: Some(i64::from(cfg.refresh_token_validity())),
            access_token_validity: Some(i64::from(cfg.access_token_validity())),
            id_token_validity: Some(i64::from(cfg.id_token_validity())),
            token_validity_units: Some(TokenValidityUnitsType {
                access_token: Some(units.access_token.wire_name().to_owned()),
                id_token: Some(units.id_token.wire_name().to_owned()),
                refresh_token: Some(units.refresh_token.wire_name().to_owned()),
            }),
            read_attributes: non_empty(cfg.read_attributes()),
            write_attributes: non_empty(cfg.write_attributes()),
            explicit_auth_flows: Some(
                cfg.explicit_auth_flows()
                    .iter()
                    .map(|f| f.wire_name().to_owned())
                    .collect(),
            ),
            supported_identity_providers: non_empty(cfg.supported_identity_providers()),
            callback_urls: non_empty(cfg.callback_urls()),
            logout_urls: non_empty(cfg.logout_urls()),
            default_redirect_uri: cfg.default_redirect_uri().map(str::to_owned),
            allowed_oauth_flows: (!cfg.allowed_oauth_flows().is_empty()).then(|| {
                cfg.allowed_oauth_flows()
                    .iter()
                    .map(|f| f.wire_name().to_owned())
                    .collect()
            }),
            allowed_oauth_scopes: non_empty(cfg.allowed_oauth_scopes()),
            allowed_oauth_flows_user_pool_client: Some(cfg.allowed_oauth_flows_user_pool_client()),
            analytics_configuration: cfg.analytics_configuration().map(|a| {
                AnalyticsConfigurationType {
                    application_id: a.application_id.clone(),
                    application_arn: a.application_arn.clone(),
                    role_arn: a.role_arn.clone(),
                    external_id: a.external_id.clone(),
                    user_data_shared: Some(a.user_data_shared),
                }
            }),
            prevent_user_existence_errors: Some(
                cfg.prevent_user_existence_errors().wire_name().to_owned(),
            ),
            enable_token_revocation: Some(cfg.enable_token_revocation()),
            enable_propagate_additional_user_context_data: Some(
                cfg.enable_propagate_additional_user_context_data(),
            ),
            auth_session_validity: Some(i64::from(cfg.auth_session_validity())),
            refresh_token_rotation: Some(RefreshTokenRotationType {
                feature: Some(rotation.feature().wire_name().to_owned()),
                retry_grace_period_seconds: Some(i64::from(rotation.retry_grace_period_seconds())),
            }),
            client_type: Some("REGULAR".to_owned()),
        }
    }
}

impl From<&AppClient> for UserPoolClientDescription {
    fn from(c: &AppClient) -> Self {
        UserPoolClientDescription {
            client_id: Some(c.client_id().to_string()),
            user_pool_id: Some(c.user_pool_id().to_owned()),
            client_name: Some(c.config().client_name().to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_cfg_16_unknown_member_is_named() {
        let e = from_json::<CreateUserPoolClientRequest>(
            br#"{"UserPoolId":"us-east-1_a","ClientName":"x","RefreshTokenRotaton":{"Feature":"ENABLED"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
        assert!(
            e.message().contains("'RefreshTokenRotaton'"),
            "{}",
            e.message()
        );
        let e = from_json::<CreateUserPoolClientRequest>(
            br#"{"RefreshTokenRotation":{"Feature":"ENABLED","RetryGracePeriod":5}}"#,
        )
        .unwrap_err();
        assert!(
            e.message().contains("'RetryGracePeriod'"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn r_safe_1_oversized_body_is_refused_before_parsing() {
        let body = vec![b' '; MAX_REQUEST_BYTES + 1];
        let e = from_json::<DescribeUserPoolClientRequest>(&body).unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
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
