//! Conversions between the wire shapes and the core's types: requests into the validator's raw input,
//! configurations back into requests, and registered clients into the shapes Describe and List return.
//!
//! The core knows nothing of these shapes (R-ENG-3); every conversion lives here, on the adapter's side.

use crate::client::AppClient;
use crate::config::{AppClientConfig, RawAnalytics, RawConfig, RawRotation, RawUnits};

use super::create::CreateUserPoolClientRequest;
use super::list::UserPoolClientDescription;
use super::shapes::{
    AnalyticsConfigurationType, RefreshTokenRotationType, TokenValidityUnitsType,
    UserPoolClientType, WireClientSecret,
};
use super::update::UpdateUserPoolClientRequest;

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
