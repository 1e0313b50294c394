//! App client configuration: Cognito's fields, defaults and validation (SPEC section 2).
//!
//! An [`AppClientConfig`] is a validated configuration: its fields are private and the only ways to get
//! one are validating constructors, [`AppClientConfigBuilder::build`] for Rust callers and the client
//! registry's Create/Update operations for wire requests. Both run the same validator, which checks every
//! rule R-CFG-1..15 and reports **every** violation at once ([`ValidationErrors`]); rule R-CFG-16 (unknown
//! wire members) belongs to the wire layer. A configuration stores effective values: defaults filled in
//! (SPEC 2.1), `RefreshTokenValidity` 0 replaced by 30 days, the grace period cleared when rotation is
//! off and duplicate flows folded, so that the issuer never re-derives a default.

use std::collections::BTreeSet;

use crate::error::StoreError;
pub use crate::error::{ValidationErrors, Violation};

pub(crate) mod patterns;
mod validate;

pub(crate) use validate::{
    check_client_id, check_client_type, check_list_sizes, check_max_results, check_next_token,
    check_secret_request, check_user_pool_id, validate_config, RawAnalytics, RawConfig,
    RawRotation, RawUnits, ValidationContext,
};

/// A unit for a token validity value (`TimeUnitsType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeUnit {
    /// `seconds`
    Seconds,
    /// `minutes`
    Minutes,
    /// `hours`
    Hours,
    /// `days`
    Days,
}

impl TimeUnit {
    /// Every unit, in the model's order.
    pub const ALL: [TimeUnit; 4] = [
        TimeUnit::Seconds,
        TimeUnit::Minutes,
        TimeUnit::Hours,
        TimeUnit::Days,
    ];

    /// Seconds in one unit.
    pub const fn seconds(self) -> u64 {
        match self {
            TimeUnit::Seconds => 1,
            TimeUnit::Minutes => 60,
            TimeUnit::Hours => 3_600,
            TimeUnit::Days => 86_400,
        }
    }

    /// The wire value: `seconds`, `minutes`, `hours` or `days`.
    pub const fn wire_name(self) -> &'static str {
        match self {
            TimeUnit::Seconds => "seconds",
            TimeUnit::Minutes => "minutes",
            TimeUnit::Hours => "hours",
            TimeUnit::Days => "days",
        }
    }

    /// Parses a wire value (case-sensitive, as the model's enum).
    pub fn from_wire_name(s: &str) -> Option<TimeUnit> {
        Self::ALL.into_iter().find(|u| u.wire_name() == s)
    }
}

/// The units of the three token validities (`TokenValidityUnitsType`).
///
/// Defaults to access `hours`, ID `hours`, refresh `days` (SPEC 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenValidityUnits {
    /// Unit of `AccessTokenValidity`. Defaults to `hours`.
    pub access_token: TimeUnit,
    /// Unit of `IdTokenValidity`. Defaults to `hours`.
    pub id_token: TimeUnit,
    /// Unit of `RefreshTokenValidity`. Defaults to `days`.
    pub refresh_token: TimeUnit,
}

impl Default for TokenValidityUnits {
    fn default() -> Self {
        TokenValidityUnits {
            access_token: TimeUnit::Hours,
            id_token: TimeUnit::Hours,
            refresh_token: TimeUnit::Days,
        }
    }
}

/// Whether refresh token rotation is on for a client (`FeatureType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RotationFeature {
    /// `ENABLED`: each refresh returns a new refresh token (SPEC 6, R-ROT-1..5).
    Enabled,
    /// `DISABLED` (the default): refreshes return ID and access tokens only (R-ROT-6, R-ROT-7).
    #[default]
    Disabled,
}

impl RotationFeature {
    /// The wire value: `ENABLED` or `DISABLED`.
    pub const fn wire_name(self) -> &'static str {
        match self {
            RotationFeature::Enabled => "ENABLED",
            RotationFeature::Disabled => "DISABLED",
        }
    }

    /// Parses a wire value (case-sensitive).
    pub fn from_wire_name(s: &str) -> Option<RotationFeature> {
        match s {
            "ENABLED" => Some(RotationFeature::Enabled),
            "DISABLED" => Some(RotationFeature::Disabled),
            _ => None,
        }
    }
}

/// A client's refresh token rotation setting (`RefreshTokenRotationType`).
///
/// Defaults to `{Feature: DISABLED, RetryGracePeriodSeconds: 0}` (SPEC 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct RefreshTokenRotation {
    feature: RotationFeature,
    retry_grace_period_seconds: u8,
}

impl RefreshTokenRotation {
    /// Rotation off; the stored grace period is 0.
    pub const DISABLED: RefreshTokenRotation = RefreshTokenRotation {
        feature: RotationFeature::Disabled,
        retry_grace_period_seconds: 0,
    };

    /// Rotation on with a grace period of `seconds`, or `None` if `seconds` is above 60 (R-CFG-8).
    pub const fn enabled(seconds: u8) -> Option<RefreshTokenRotation> {
        if seconds > 60 {
            return None;
        }
        Some(RefreshTokenRotation {
            feature: RotationFeature::Enabled,
            retry_grace_period_seconds: seconds,
        })
    }

    /// Whether rotation is on.
    pub const fn feature(self) -> RotationFeature {
        self.feature
    }

    /// Whether rotation is on.
    pub const fn is_enabled(self) -> bool {
        matches!(self.feature, RotationFeature::Enabled)
    }

    /// The retry grace period, 0..=60 seconds; always 0 when rotation is off.
    pub const fn retry_grace_period_seconds(self) -> u8 {
        self.retry_grace_period_seconds
    }
}

/// A value of `ExplicitAuthFlowsType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExplicitAuthFlow {
    /// `ADMIN_NO_SRP_AUTH` (legacy)
    AdminNoSrpAuth,
    /// `CUSTOM_AUTH_FLOW_ONLY` (legacy)
    CustomAuthFlowOnly,
    /// `USER_PASSWORD_AUTH` (legacy)
    UserPasswordAuth,
    /// `ALLOW_ADMIN_USER_PASSWORD_AUTH`
    AllowAdminUserPasswordAuth,
    /// `ALLOW_CUSTOM_AUTH`
    AllowCustomAuth,
    /// `ALLOW_USER_PASSWORD_AUTH`
    AllowUserPasswordAuth,
    /// `ALLOW_USER_SRP_AUTH`
    AllowUserSrpAuth,
    /// `ALLOW_REFRESH_TOKEN_AUTH`
    AllowRefreshTokenAuth,
    /// `ALLOW_USER_AUTH`
    AllowUserAuth,
    /// `ALLOW_TOKEN_EXCHANGE_DELEGATION`
    AllowTokenExchangeDelegation,
    /// `ALLOW_TOKEN_EXCHANGE_IMPERSONATION`
    AllowTokenExchangeImpersonation,
}

impl ExplicitAuthFlow {
    /// Every value, in the model's order.
    pub const ALL: [ExplicitAuthFlow; 11] = [
        ExplicitAuthFlow::AdminNoSrpAuth,
        ExplicitAuthFlow::CustomAuthFlowOnly,
        ExplicitAuthFlow::UserPasswordAuth,
        ExplicitAuthFlow::AllowAdminUserPasswordAuth,
        ExplicitAuthFlow::AllowCustomAuth,
        ExplicitAuthFlow::AllowUserPasswordAuth,
        ExplicitAuthFlow::AllowUserSrpAuth,
        ExplicitAuthFlow::AllowRefreshTokenAuth,
        ExplicitAuthFlow::AllowUserAuth,
        ExplicitAuthFlow::AllowTokenExchangeDelegation,
        ExplicitAuthFlow::AllowTokenExchangeImpersonation,
    ];

    /// The wire value, for example `ALLOW_USER_SRP_AUTH`.
    pub const fn wire_name(self) -> &'static str {
        match self {
            Self::AdminNoSrpAuth => "ADMIN_NO_SRP_AUTH",
            Self::CustomAuthFlowOnly => "CUSTOM_AUTH_FLOW_ONLY",
            Self::UserPasswordAuth => "USER_PASSWORD_AUTH",
            Self::AllowAdminUserPasswordAuth => "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            Self::AllowCustomAuth => "ALLOW_CUSTOM_AUTH",
            Self::AllowUserPasswordAuth => "ALLOW_USER_PASSWORD_AUTH",
            Self::AllowUserSrpAuth => "ALLOW_USER_SRP_AUTH",
            Self::AllowRefreshTokenAuth => "ALLOW_REFRESH_TOKEN_AUTH",
            Self::AllowUserAuth => "ALLOW_USER_AUTH",
            Self::AllowTokenExchangeDelegation => "ALLOW_TOKEN_EXCHANGE_DELEGATION",
            Self::AllowTokenExchangeImpersonation => "ALLOW_TOKEN_EXCHANGE_IMPERSONATION",
        }
    }

    /// Parses a wire value (case-sensitive).
    pub fn from_wire_name(s: &str) -> Option<ExplicitAuthFlow> {
        Self::ALL.into_iter().find(|f| f.wire_name() == s)
    }

    /// Whether this is one of the legacy names that cannot be combined with `ALLOW_*` names (R-CFG-6).
    pub const fn is_legacy(self) -> bool {
        matches!(
            self,
            Self::AdminNoSrpAuth | Self::CustomAuthFlowOnly | Self::UserPasswordAuth
        )
    }
}

/// A value of `OAuthFlowType` (`AllowedOAuthFlows`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OAuthFlow {
    /// `code`: authorization code grant.
    Code,
    /// `implicit`: implicit grant.
    Implicit,
    /// `client_credentials`: machine-to-machine grant; needs a client secret (R-CFG-11).
    ClientCredentials,
}

impl OAuthFlow {
    /// Every value, in the model's order.
    pub const ALL: [OAuthFlow; 3] = [
        OAuthFlow::Code,
        OAuthFlow::Implicit,
        OAuthFlow::ClientCredentials,
    ];

    /// The wire value: `code`, `implicit` or `client_credentials`.
    pub const fn wire_name(self) -> &'static str {
        match self {
            OAuthFlow::Code => "code",
            OAuthFlow::Implicit => "implicit",
            OAuthFlow::ClientCredentials => "client_credentials",
        }
    }

    /// Parses a wire value (case-sensitive).
    pub fn from_wire_name(s: &str) -> Option<OAuthFlow> {
        Self::ALL.into_iter().find(|f| f.wire_name() == s)
    }
}

/// A value of `PreventUserExistenceErrorTypes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PreventUserExistenceErrors {
    /// `LEGACY` (the default): errors may reveal that a user does not exist.
    #[default]
    Legacy,
    /// `ENABLED`: errors do not reveal whether a user exists.
    Enabled,
}

impl PreventUserExistenceErrors {
    /// The wire value: `LEGACY` or `ENABLED`.
    pub const fn wire_name(self) -> &'static str {
        match self {
            Self::Legacy => "LEGACY",
            Self::Enabled => "ENABLED",
        }
    }

    /// Parses a wire value (case-sensitive).
    pub fn from_wire_name(s: &str) -> Option<PreventUserExistenceErrors> {
        match s {
            "LEGACY" => Some(Self::Legacy),
            "ENABLED" => Some(Self::Enabled),
            _ => None,
        }
    }
}

/// Amazon Pinpoint analytics settings (`AnalyticsConfigurationType`).
///
/// The crate sends no analytics; the setting is validated against the model, stored and described so
/// that a client configuration round-trips unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AnalyticsConfiguration {
    /// `ApplicationId`: the Pinpoint project id (hexadecimal).
    pub application_id: Option<String>,
    /// `ApplicationArn`: the Pinpoint project ARN.
    pub application_arn: Option<String>,
    /// `RoleArn`: the IAM role Cognito would assume.
    pub role_arn: Option<String>,
    /// `ExternalId`: the external id of that role.
    pub external_id: Option<String>,
    /// `UserDataShared`. Defaults to false.
    pub user_data_shared: bool,
}

/// A validated app client configuration: every CreateUserPoolClient field except the pool id and the
/// secret, with effective values (SPEC 2.1).
///
/// Obtain one from [`AppClientConfigBuilder::build`] or from the client registry; both validate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppClientConfig {
    pub(crate) client_name: String,
    pub(crate) access_token_validity: u32,
    pub(crate) id_token_validity: u32,
    pub(crate) refresh_token_validity: u32,
    pub(crate) units: TokenValidityUnits,
    pub(crate) access_token_validity_secs: u64,
    pub(crate) id_token_validity_secs: u64,
    pub(crate) refresh_token_validity_secs: u64,
    pub(crate) read_attributes: Vec<String>,
    pub(crate) write_attributes: Vec<String>,
    pub(crate) explicit_auth_flows: Vec<ExplicitAuthFlow>,
    /// Whether ExplicitAuthFlows took its default; a merge-style update then re-derives the default
    /// (which depends on rotation) instead of freezing the old one.
    pub(crate) explicit_auth_flows_defaulted: bool,
    pub(crate) supported_identity_providers: Vec<String>,
    pub(crate) callback_urls: Vec<String>,
    pub(crate) logout_urls: Vec<String>,
    pub(crate) default_redirect_uri: Option<String>,
    pub(crate) allowed_oauth_flows: Vec<OAuthFlow>,
    pub(crate) allowed_oauth_scopes: Vec<String>,
    pub(crate) allowed_oauth_flows_user_pool_client: bool,
    pub(crate) analytics_configuration: Option<AnalyticsConfiguration>,
    pub(crate) prevent_user_existence_errors: PreventUserExistenceErrors,
    pub(crate) enable_token_revocation: bool,
    pub(crate) enable_propagate_additional_user_context_data: bool,
    pub(crate) auth_session_validity: u8,
    pub(crate) rotation: RefreshTokenRotation,
}

impl AppClientConfig {
    /// A builder for a configuration named `client_name`, every other field at its default.
    pub fn builder(client_name: impl Into<String>) -> AppClientConfigBuilder {
        AppClientConfigBuilder::new(client_name)
    }

    /// A builder holding this configuration's values, for a merge-style change (R-CLI-4).
    pub fn to_builder(&self) -> AppClientConfigBuilder {
        AppClientConfigBuilder {
            raw: RawConfig::from_config(self),
        }
    }

    /// `ClientName`.
    pub fn client_name(&self) -> &str {
        &self.client_name
    }
    /// `AccessTokenValidity` in its unit. Defaults to 1 hour expressed in the unit (3600 seconds,
    /// 60 minutes, 1 hour); with the unit days it must be given, as 1 hour is no whole number of days.
    pub fn access_token_validity(&self) -> u32 {
        self.access_token_validity
    }
    /// `IdTokenValidity` in its unit. Defaults to 1 hour expressed in the unit; with the unit days it must
    /// be given, as for [`access_token_validity`](Self::access_token_validity).
    pub fn id_token_validity(&self) -> u32 {
        self.id_token_validity
    }
    /// `RefreshTokenValidity` in its unit. Defaults to 30 days expressed in the unit (30 days, 720 hours,
    /// ...); a requested 0 is stored the same way.
    pub fn refresh_token_validity(&self) -> u32 {
        self.refresh_token_validity
    }
    /// `TokenValidityUnits`. Defaults to hours, hours, days.
    pub fn token_validity_units(&self) -> TokenValidityUnits {
        self.units
    }
    /// Access token lifetime in seconds (300..=86400).
    pub fn access_token_validity_secs(&self) -> u64 {
        self.access_token_validity_secs
    }
    /// ID token lifetime in seconds (300..=86400).
    pub fn id_token_validity_secs(&self) -> u64 {
        self.id_token_validity_secs
    }
    /// Refresh token (family) lifetime in seconds (3600..=3650 days).
    pub fn refresh_token_validity_secs(&self) -> u64 {
        self.refresh_token_validity_secs
    }
    /// `ReadAttributes`. Defaults to empty (the pool's standard readable attributes).
    pub fn read_attributes(&self) -> &[String] {
        &self.read_attributes
    }
    /// `WriteAttributes`. Defaults to empty (the pool's standard writable attributes).
    pub fn write_attributes(&self) -> &[String] {
        &self.write_attributes
    }
    /// `ExplicitAuthFlows`, duplicates folded (R-CFG-6). Defaults to `ALLOW_REFRESH_TOKEN_AUTH`,
    /// `ALLOW_USER_SRP_AUTH`, `ALLOW_CUSTOM_AUTH`, without `ALLOW_REFRESH_TOKEN_AUTH` when rotation is
    /// enabled.
    pub fn explicit_auth_flows(&self) -> &[ExplicitAuthFlow] {
        &self.explicit_auth_flows
    }
    /// Whether `flow` is among the client's ExplicitAuthFlows.
    pub fn allows_flow(&self, flow: ExplicitAuthFlow) -> bool {
        self.explicit_auth_flows.contains(&flow)
    }
    /// Whether the legacy refresh flow, InitiateAuth with `REFRESH_TOKEN_AUTH`, is allowed (R-ROT-8):
    /// with `ALLOW_REFRESH_TOKEN_AUTH`, or implicitly for a client whose flows are all legacy names
    /// (R-CFG-6), as Cognito allowed refresh before the `ALLOW_` names existed.
    pub fn allows_refresh_token_auth(&self) -> bool {
        self.allows_flow(ExplicitAuthFlow::AllowRefreshTokenAuth)
            || (!self.explicit_auth_flows.is_empty()
                && self.explicit_auth_flows.iter().all(|f| f.is_legacy()))
    }
    /// `SupportedIdentityProviders`. Defaults to empty.
    pub fn supported_identity_providers(&self) -> &[String] {
        &self.supported_identity_providers
    }
    /// `CallbackURLs`. Defaults to empty.
    pub fn callback_urls(&self) -> &[String] {
        &self.callback_urls
    }
    /// `LogoutURLs`. Defaults to empty.
    pub fn logout_urls(&self) -> &[String] {
        &self.logout_urls
    }
    /// `DefaultRedirectURI`, one of the callback URLs. Defaults to none.
    pub fn default_redirect_uri(&self) -> Option<&str> {
        self.default_redirect_uri.as_deref()
    }
    /// `AllowedOAuthFlows`, duplicates folded. Defaults to empty.
    pub fn allowed_oauth_flows(&self) -> &[OAuthFlow] {
        &self.allowed_oauth_flows
    }
    /// `AllowedOAuthScopes`. Defaults to empty.
    pub fn allowed_oauth_scopes(&self) -> &[String] {
        &self.allowed_oauth_scopes
    }
    /// `AllowedOAuthFlowsUserPoolClient`. Defaults to false.
    pub fn allowed_oauth_flows_user_pool_client(&self) -> bool {
        self.allowed_oauth_flows_user_pool_client
    }
    /// `AnalyticsConfiguration`. Defaults to none.
    pub fn analytics_configuration(&self) -> Option<&AnalyticsConfiguration> {
        self.analytics_configuration.as_ref()
    }
    /// `PreventUserExistenceErrors`. Defaults to `LEGACY`.
    pub fn prevent_user_existence_errors(&self) -> PreventUserExistenceErrors {
        self.prevent_user_existence_errors
    }
    /// `EnableTokenRevocation`. Defaults to true.
    pub fn enable_token_revocation(&self) -> bool {
        self.enable_token_revocation
    }
    /// `EnablePropagateAdditionalUserContextData`. Defaults to false.
    pub fn enable_propagate_additional_user_context_data(&self) -> bool {
        self.enable_propagate_additional_user_context_data
    }
    /// `AuthSessionValidity` in minutes (3..=15). Defaults to 3.
    pub fn auth_session_validity(&self) -> u8 {
        self.auth_session_validity
    }
    /// The rotation setting. Defaults to [`RefreshTokenRotation::DISABLED`].
    pub fn refresh_token_rotation(&self) -> RefreshTokenRotation {
        self.rotation
    }

    /// This configuration in its stored form, for a client store that persists clients (R-PER-1): a
    /// JSON object of the configuration's members (the validator's input, not Cognito's wire shape, so
    /// the core stays free of the wire adapter). [`from_stored_json`](Self::from_stored_json) reads it
    /// back. The form holds no secret.
    pub fn to_stored_json(&self) -> Result<String, StoreError> {
        serde_json::to_string(&RawConfig::from_config(self))
            .map_err(|_| StoreError::Backend("client configuration not encodable".to_owned()))
    }

    /// Reads a configuration written by [`to_stored_json`](Self::to_stored_json), validating it again
    /// as Create does (R-CFG-1..15) in the context the store knows: whether the client has a secret,
    /// and which of the scopes it names are declared custom scopes of its pool. A stored form that does
    /// not parse or no longer validates (a row altered by hand, or written by another program) is a
    /// [`StoreError::Backend`] naming the first violation, never a configuration the validator would
    /// refuse.
    pub fn from_stored_json<'a>(
        json: &str,
        has_secret: bool,
        declared_scopes: impl IntoIterator<Item = &'a str>,
    ) -> Result<AppClientConfig, StoreError> {
        let raw: RawConfig = serde_json::from_str(json).map_err(|e| {
            StoreError::Backend(format!("stored client configuration unreadable: {e}"))
        })?;
        let scopes: BTreeSet<String> = declared_scopes.into_iter().map(str::to_owned).collect();
        let ctx = ValidationContext {
            has_secret: Some(has_secret),
            custom_scopes: Some(&scopes),
            require_client_name: true,
        };
        let mut violations = Vec::new();
        match validate::validate_config(&raw, &ctx, &mut violations) {
            Some(c) if violations.is_empty() => Ok(c),
            _ => Err(StoreError::Backend(format!(
                "stored client configuration invalid: {}",
                violations.first().map_or("unknown", |v| v.message.as_str())
            ))),
        }
    }
}

/// Builds an [`AppClientConfig`] from Rust, with the same validation as a wire request.
///
/// Every field not set takes its default (SPEC 2.1). Setters take typed values; numbers are still range
/// checked by [`build`](Self::build), which reports every violation at once.
///
/// ```
/// use refresh_rotation::AppClientConfig;
/// use refresh_rotation::config::{RefreshTokenRotation, TimeUnit};
///
/// let config = AppClientConfig::builder("web")
///     .access_token_validity(15, TimeUnit::Minutes)
///     .refresh_token_validity(7, TimeUnit::Days)
///     .refresh_token_rotation(RefreshTokenRotation::enabled(10).unwrap())
///     .build()
///     .unwrap();
/// assert_eq!(config.access_token_validity_secs(), 900);
/// assert_eq!(config.refresh_token_rotation().retry_grace_period_seconds(), 10);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AppClientConfigBuilder {
    pub(crate) raw: RawConfig,
}

impl AppClientConfigBuilder {
    /// A builder for a configuration named `client_name`, every other field at its default.
    pub fn new(client_name: impl Into<String>) -> Self {
        AppClientConfigBuilder {
            raw: RawConfig {
                client_name: Some(client_name.into()),
                ..RawConfig::default()
            },
        }
    }

    /// Sets `ClientName`.
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.raw.client_name = Some(name.into());
        self
    }

    fn unit(&mut self) -> &mut RawUnits {
        self.raw
            .token_validity_units
            .get_or_insert_with(RawUnits::default)
    }

    /// Sets `AccessTokenValidity` and its unit (5 minutes..=1 day, R-CFG-3).
    pub fn access_token_validity(mut self, value: u32, unit: TimeUnit) -> Self {
        self.raw.access_token_validity = Some(i64::from(value));
        self.unit().access_token = Some(unit.wire_name().to_owned());
        self
    }

    /// Sets `IdTokenValidity` and its unit (5 minutes..=1 day, R-CFG-3).
    pub fn id_token_validity(mut self, value: u32, unit: TimeUnit) -> Self {
        self.raw.id_token_validity = Some(i64::from(value));
        self.unit().id_token = Some(unit.wire_name().to_owned());
        self
    }

    /// Sets `RefreshTokenValidity` and its unit (60 minutes..=3650 days, R-CFG-3); 0 means 30 days.
    pub fn refresh_token_validity(mut self, value: u32, unit: TimeUnit) -> Self {
        self.raw.refresh_token_validity = Some(i64::from(value));
        self.unit().refresh_token = Some(unit.wire_name().to_owned());
        self
    }

    /// Sets `ReadAttributes`.
    pub fn read_attributes<S: Into<String>>(mut self, attrs: impl IntoIterator<Item = S>) -> Self {
        self.raw.read_attributes = Some(attrs.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `WriteAttributes`.
    pub fn write_attributes<S: Into<String>>(mut self, attrs: impl IntoIterator<Item = S>) -> Self {
        self.raw.write_attributes = Some(attrs.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `ExplicitAuthFlows` (duplicates are folded, R-CFG-6).
    pub fn explicit_auth_flows(
        mut self,
        flows: impl IntoIterator<Item = ExplicitAuthFlow>,
    ) -> Self {
        self.raw.explicit_auth_flows = Some(
            flows
                .into_iter()
                .map(|f| f.wire_name().to_owned())
                .collect(),
        );
        self
    }

    /// Returns `ExplicitAuthFlows` to its default, which depends on the rotation setting (SPEC 2.1).
    pub fn default_explicit_auth_flows(mut self) -> Self {
        self.raw.explicit_auth_flows = None;
        self
    }

    /// Sets `SupportedIdentityProviders`.
    pub fn supported_identity_providers<S: Into<String>>(
        mut self,
        providers: impl IntoIterator<Item = S>,
    ) -> Self {
        self.raw.supported_identity_providers =
            Some(providers.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `CallbackURLs` (R-CFG-9).
    pub fn callback_urls<S: Into<String>>(mut self, urls: impl IntoIterator<Item = S>) -> Self {
        self.raw.callback_urls = Some(urls.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `LogoutURLs` (R-CFG-9).
    pub fn logout_urls<S: Into<String>>(mut self, urls: impl IntoIterator<Item = S>) -> Self {
        self.raw.logout_urls = Some(urls.into_iter().map(Into::into).collect());
        self
    }

    /// Sets or clears `DefaultRedirectURI` (R-CFG-9, R-CFG-10).
    pub fn default_redirect_uri(mut self, uri: Option<impl Into<String>>) -> Self {
        self.raw.default_redirect_uri = uri.map(Into::into);
        self
    }

    /// Sets `AllowedOAuthFlows` (R-CFG-11, R-CFG-12).
    pub fn allowed_oauth_flows(mut self, flows: impl IntoIterator<Item = OAuthFlow>) -> Self {
        self.raw.allowed_oauth_flows = Some(
            flows
                .into_iter()
                .map(|f| f.wire_name().to_owned())
                .collect(),
        );
        self
    }

    /// Sets `AllowedOAuthScopes` (R-CFG-12, R-CFG-13).
    pub fn allowed_oauth_scopes<S: Into<String>>(
        mut self,
        scopes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.raw.allowed_oauth_scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// Sets `AllowedOAuthFlowsUserPoolClient` (R-CFG-12).
    pub fn allowed_oauth_flows_user_pool_client(mut self, on: bool) -> Self {
        self.raw.allowed_oauth_flows_user_pool_client = Some(on);
        self
    }

    /// Sets or clears `AnalyticsConfiguration`.
    pub fn analytics_configuration(mut self, analytics: Option<AnalyticsConfiguration>) -> Self {
        self.raw.analytics_configuration = analytics.map(|a| RawAnalytics {
            application_id: a.application_id,
            application_arn: a.application_arn,
            role_arn: a.role_arn,
            external_id: a.external_id,
            user_data_shared: Some(a.user_data_shared),
        });
        self
    }

    /// Sets `PreventUserExistenceErrors`.
    pub fn prevent_user_existence_errors(mut self, v: PreventUserExistenceErrors) -> Self {
        self.raw.prevent_user_existence_errors = Some(v.wire_name().to_owned());
        self
    }

    /// Sets `EnableTokenRevocation`.
    pub fn enable_token_revocation(mut self, on: bool) -> Self {
        self.raw.enable_token_revocation = Some(on);
        self
    }

    /// Sets `EnablePropagateAdditionalUserContextData` (needs a client secret, R-CFG-14).
    pub fn enable_propagate_additional_user_context_data(mut self, on: bool) -> Self {
        self.raw.enable_propagate_additional_user_context_data = Some(on);
        self
    }

    /// Sets `AuthSessionValidity` in minutes (3..=15, R-CFG-15).
    pub fn auth_session_validity(mut self, minutes: u32) -> Self {
        self.raw.auth_session_validity = Some(i64::from(minutes));
        self
    }

    /// Sets `RefreshTokenRotation` (R-CFG-7, R-CFG-8).
    pub fn refresh_token_rotation(mut self, rotation: RefreshTokenRotation) -> Self {
        self.raw.refresh_token_rotation = Some(RawRotation {
            feature: Some(rotation.feature().wire_name().to_owned()),
            retry_grace_period_seconds: Some(i64::from(rotation.retry_grace_period_seconds())),
        });
        self
    }

    #[cfg(test)]
    fn build_in_context_for_tests(self, scopes: &[&str]) -> AppClientConfig {
        let scopes: BTreeSet<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
        let ctx = ValidationContext {
            has_secret: Some(false),
            custom_scopes: Some(&scopes),
            require_client_name: true,
        };
        let mut violations = Vec::new();
        let config = validate::validate_config(&self.raw, &ctx, &mut violations);
        assert!(violations.is_empty(), "{violations:?}");
        config.unwrap()
    }

    /// Validates the configuration on its own: as for a client **without** a secret, with only the
    /// standard OAuth scopes known. The client registry validates again in its own context (the client's
    /// secret, the pool's declared custom scopes).
    pub fn build(self) -> Result<AppClientConfig, ValidationErrors> {
        let ctx = ValidationContext {
            has_secret: Some(false),
            custom_scopes: None,
            require_client_name: true,
        };
        let mut violations = Vec::new();
        let config = validate::validate_config(&self.raw, &ctx, &mut violations);
        match config {
            Some(c) if violations.is_empty() => Ok(c),
            _ => Err(ValidationErrors::new(violations)),
        }
    }
}

#[cfg(test)]
mod stored_form_tests {
    use super::*;

    #[test]
    fn r_per_1_stored_form_round_trips_and_is_revalidated() {
        let config = AppClientConfig::builder("web")
            .access_token_validity(15, TimeUnit::Minutes)
            .refresh_token_rotation(RefreshTokenRotation::enabled(10).unwrap())
            .allowed_oauth_flows([OAuthFlow::Code])
            .allowed_oauth_flows_user_pool_client(true)
            .callback_urls(["https://example.com/cb"])
            .allowed_oauth_scopes(["openid", "api/read"])
            .build_in_context_for_tests(&["api/read"]);
        let json = config.to_stored_json().unwrap();
        assert!(!json.contains("secret\":"), "{json}");
        let back = AppClientConfig::from_stored_json(&json, false, ["api/read"]).unwrap();
        assert_eq!(back, config);
        // The declared scope is part of the context: without it, the stored form no longer validates.
        assert!(AppClientConfig::from_stored_json(&json, false, []).is_err());
        // A defaulted ExplicitAuthFlows stays defaulted (a later merge update re-derives it).
        let plain = AppClientConfig::builder("p").build().unwrap();
        let back =
            AppClientConfig::from_stored_json(&plain.to_stored_json().unwrap(), false, []).unwrap();
        assert_eq!(back, plain);
        assert!(back.explicit_auth_flows_defaulted);
        // A row altered by hand is refused, not trusted.
        let tampered = plain.to_stored_json().unwrap().replace(
            "\"auth_session_validity\":3",
            "\"auth_session_validity\":99",
        );
        assert!(AppClientConfig::from_stored_json(&tampered, false, []).is_err());
        assert!(AppClientConfig::from_stored_json("{\"nope\":1}", false, []).is_err());
        assert!(AppClientConfig::from_stored_json("not json", false, []).is_err());
    }
}
