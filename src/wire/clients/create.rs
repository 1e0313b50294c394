//! CreateUserPoolClient: its input and output (R-WIRE-1).

use serde::{Deserialize, Serialize};

use super::shapes::{
    AnalyticsConfigurationType, RefreshTokenRotationType, TokenValidityUnitsType,
    UserPoolClientType, WireClientSecret,
};

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

/// CreateUserPoolClient output.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateUserPoolClientResponse {
    /// `UserPoolClient`: the new client, its secret included.
    #[serde(rename = "UserPoolClient", skip_serializing_if = "Option::is_none")]
    pub user_pool_client: Option<UserPoolClientType>,
}
