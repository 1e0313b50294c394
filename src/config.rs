//! App client configuration: Cognito's fields, defaults and validation (SPEC section 2).
//!
//! SKELETON: the types and accessors below are the interface the rest of the crate relies on. The
//! validation (R-CFG-1..16) and the construction from wire requests are filled in by the configuration
//! work (issue 2).

use std::fmt;

use crate::error::ExceptionKind;

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
    /// Seconds in one unit.
    pub const fn seconds(self) -> u64 {
        match self {
            TimeUnit::Seconds => 1,
            TimeUnit::Minutes => 60,
            TimeUnit::Hours => 3_600,
            TimeUnit::Days => 86_400,
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

/// One R-CFG violation: which rule, which field (wire name) and what is wrong, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The SPEC rule number, for example `3` for R-CFG-3.
    pub rule: u8,
    /// The wire member name, for example `AccessTokenValidity`.
    pub field: String,
    /// The message; never contains a secret value.
    pub message: String,
    /// The exception this violation alone would raise.
    pub kind: ExceptionKind,
}

/// Every violation found in one Create or Update (R-CFG): never only the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    violations: Vec<Violation>,
}

impl ValidationErrors {
    /// The violations, in the order they were found.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The exception of the lowest-numbered rule violated (SPEC 2.2).
    pub fn exception(&self) -> ExceptionKind {
        self.violations
            .iter()
            .min_by_key(|v| v.rule)
            .map_or(ExceptionKind::InvalidParameter, |v| v.kind)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msgs: Vec<&str> = self.violations.iter().map(|v| v.message.as_str()).collect();
        f.write_str(&msgs.join("; "))
    }
}

/// A validated app client configuration. SKELETON: fields and constructor are filled in by issue 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppClientConfig {
    access_token_validity_secs: u64,
    id_token_validity_secs: u64,
    refresh_token_validity_secs: u64,
    rotation: RefreshTokenRotation,
    explicit_auth_flows: Vec<ExplicitAuthFlow>,
    enable_token_revocation: bool,
}

impl AppClientConfig {
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
    /// The rotation setting.
    pub fn refresh_token_rotation(&self) -> RefreshTokenRotation {
        self.rotation
    }
    /// Whether `flow` is among the client's ExplicitAuthFlows.
    pub fn allows_flow(&self, flow: ExplicitAuthFlow) -> bool {
        self.explicit_auth_flows.contains(&flow)
    }
    /// EnableTokenRevocation.
    pub fn enable_token_revocation(&self) -> bool {
        self.enable_token_revocation
    }
}
