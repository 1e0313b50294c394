//! The validator's input: a configuration as a request or the builder gave it, before any check, and
//! what the validator needs to know beyond it ([`ValidationContext`]).
//!
//! Enum members are still strings and numbers still `i64`, so that every wrong value can be reported
//! with the others instead of failing at deserialisation.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::config::AppClientConfig;

/// `TokenValidityUnits` before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawUnits {
    pub access_token: Option<String>,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// `RefreshTokenRotation` before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawRotation {
    pub feature: Option<String>,
    pub retry_grace_period_seconds: Option<i64>,
}

/// `AnalyticsConfiguration` before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawAnalytics {
    pub application_id: Option<String>,
    pub application_arn: Option<String>,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub user_data_shared: Option<bool>,
}

/// The configuration members of CreateUserPoolClient / UpdateUserPoolClient, unchecked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawConfig {
    pub client_name: Option<String>,
    pub refresh_token_validity: Option<i64>,
    pub access_token_validity: Option<i64>,
    pub id_token_validity: Option<i64>,
    pub token_validity_units: Option<RawUnits>,
    pub read_attributes: Option<Vec<String>>,
    pub write_attributes: Option<Vec<String>>,
    pub explicit_auth_flows: Option<Vec<String>>,
    pub supported_identity_providers: Option<Vec<String>>,
    pub callback_urls: Option<Vec<String>>,
    pub logout_urls: Option<Vec<String>>,
    pub default_redirect_uri: Option<String>,
    pub allowed_oauth_flows: Option<Vec<String>>,
    pub allowed_oauth_scopes: Option<Vec<String>>,
    pub allowed_oauth_flows_user_pool_client: Option<bool>,
    pub analytics_configuration: Option<RawAnalytics>,
    pub prevent_user_existence_errors: Option<String>,
    pub enable_token_revocation: Option<bool>,
    pub enable_propagate_additional_user_context_data: Option<bool>,
    pub auth_session_validity: Option<i64>,
    pub refresh_token_rotation: Option<RawRotation>,
}

fn strings<'a>(v: impl IntoIterator<Item = &'a String>) -> Option<Vec<String>> {
    Some(v.into_iter().cloned().collect())
}

impl RawConfig {
    /// The raw form of a validated configuration: validating it again yields an equal configuration.
    pub(crate) fn from_config(c: &AppClientConfig) -> RawConfig {
        RawConfig {
            client_name: Some(c.client_name.clone()),
            refresh_token_validity: Some(i64::from(c.refresh_token_validity)),
            access_token_validity: Some(i64::from(c.access_token_validity)),
            id_token_validity: Some(i64::from(c.id_token_validity)),
            token_validity_units: Some(RawUnits {
                access_token: Some(c.units.access_token.wire_name().to_owned()),
                id_token: Some(c.units.id_token.wire_name().to_owned()),
                refresh_token: Some(c.units.refresh_token.wire_name().to_owned()),
            }),
            read_attributes: strings(&c.read_attributes),
            write_attributes: strings(&c.write_attributes),
            explicit_auth_flows: if c.explicit_auth_flows_defaulted {
                None
            } else {
                Some(
                    c.explicit_auth_flows
                        .iter()
                        .map(|f| f.wire_name().to_owned())
                        .collect(),
                )
            },
            supported_identity_providers: strings(&c.supported_identity_providers),
            callback_urls: strings(&c.callback_urls),
            logout_urls: strings(&c.logout_urls),
            default_redirect_uri: c.default_redirect_uri.clone(),
            allowed_oauth_flows: Some(
                c.allowed_oauth_flows
                    .iter()
                    .map(|f| f.wire_name().to_owned())
                    .collect(),
            ),
            allowed_oauth_scopes: strings(&c.allowed_oauth_scopes),
            allowed_oauth_flows_user_pool_client: Some(c.allowed_oauth_flows_user_pool_client),
            analytics_configuration: c.analytics_configuration.as_ref().map(|a| RawAnalytics {
                application_id: a.application_id.clone(),
                application_arn: a.application_arn.clone(),
                role_arn: a.role_arn.clone(),
                external_id: a.external_id.clone(),
                user_data_shared: Some(a.user_data_shared),
            }),
            prevent_user_existence_errors: Some(
                c.prevent_user_existence_errors.wire_name().to_owned(),
            ),
            enable_token_revocation: Some(c.enable_token_revocation),
            enable_propagate_additional_user_context_data: Some(
                c.enable_propagate_additional_user_context_data,
            ),
            auth_session_validity: Some(i64::from(c.auth_session_validity)),
            refresh_token_rotation: Some(RawRotation {
                feature: Some(c.rotation.feature().wire_name().to_owned()),
                retry_grace_period_seconds: Some(i64::from(
                    c.rotation.retry_grace_period_seconds(),
                )),
            }),
        }
    }
}

/// What the validator needs to know beyond the request itself.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ValidationContext<'a> {
    /// Whether the client has (or will have) a secret; `None` when unknown (the client could not be
    /// identified), in which case the rules that depend on it (R-CFG-11, R-CFG-14) are not checked.
    pub has_secret: Option<bool>,
    /// Custom scopes declared to the registry (R-CFG-13); `None` means none.
    pub custom_scopes: Option<&'a BTreeSet<String>>,
    /// Whether a missing ClientName is an R-CFG-1 violation.
    pub require_client_name: bool,
}
