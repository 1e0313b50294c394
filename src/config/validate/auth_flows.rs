//! Refresh token rotation and the authentication flows it constrains: RefreshTokenRotation (R-CFG-8),
//! ExplicitAuthFlows' values (R-CFG-2), no mix of legacy and `ALLOW_*` values (R-CFG-6), and no
//! `ALLOW_REFRESH_TOKEN_AUTH` while rotation is on (R-CFG-7).

use crate::config::{ExplicitAuthFlow, RefreshTokenRotation, RotationFeature};
use crate::error::{ExceptionKind, Violation};

use super::check::{check_enum, check_int, missing, parse_enum_list, push, At, EnumType};
use super::input::RawConfig;

/// ExplicitAuthFlowsType.
const FLOWS: EnumType<ExplicitAuthFlow> = (
    ExplicitAuthFlow::from_wire_name,
    &[
        "ADMIN_NO_SRP_AUTH",
        "CUSTOM_AUTH_FLOW_ONLY",
        "USER_PASSWORD_AUTH",
        "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        "ALLOW_CUSTOM_AUTH",
        "ALLOW_USER_PASSWORD_AUTH",
        "ALLOW_USER_SRP_AUTH",
        "ALLOW_REFRESH_TOKEN_AUTH",
        "ALLOW_USER_AUTH",
        "ALLOW_TOKEN_EXCHANGE_DELEGATION",
        "ALLOW_TOKEN_EXCHANGE_IMPERSONATION",
    ],
);

/// FeatureType.
const FEATURE: EnumType<RotationFeature> =
    (RotationFeature::from_wire_name, &["ENABLED", "DISABLED"]);

/// `RefreshTokenRotation` (R-CFG-8): Feature required when the structure is given, the grace period
/// 0..=60. Defaults to rotation off.
pub(super) fn rotation(out: &mut Vec<Violation>, raw: &RawConfig) -> Option<RefreshTokenRotation> {
    let Some(r) = &raw.refresh_token_rotation else {
        return Some(RefreshTokenRotation::DISABLED);
    };
    let grace = match r.retry_grace_period_seconds {
        None => Some(0),
        Some(g) => check_int(
            out,
            At::member(8, "RefreshTokenRotation.RetryGracePeriodSeconds"),
            g,
            0,
            60,
        ),
    };
    let feature = match &r.feature {
        None => {
            missing(out, 8, "RefreshTokenRotation.Feature");
            None
        }
        Some(f) => check_enum(
            out,
            At::member(2, "RefreshTokenRotation.Feature"),
            f,
            FEATURE,
        ),
    };
    match (feature, grace) {
        (Some(RotationFeature::Disabled), _) => Some(RefreshTokenRotation::DISABLED),
        (Some(RotationFeature::Enabled), Some(g)) => {
            u8::try_from(g).ok().and_then(RefreshTokenRotation::enabled)
        }
        _ => None,
    }
}

/// `ExplicitAuthFlows` (R-CFG-2, R-CFG-6, R-CFG-7), given the rotation that passed (if any). Returns the
/// flows and whether they are the default (absent member): `ALLOW_REFRESH_TOKEN_AUTH`,
/// `ALLOW_USER_SRP_AUTH`, `ALLOW_CUSTOM_AUTH`, without the first when rotation is on.
pub(super) fn explicit_auth_flows(
    out: &mut Vec<Violation>,
    raw: &RawConfig,
    rotation: Option<RefreshTokenRotation>,
) -> (Vec<ExplicitAuthFlow>, bool) {
    // R-CFG-7 judges the Feature asked for, also when another member of the rotation failed its check,
    // so that the report holds every violation (R-CFG-2).
    let rotating = rotation.map_or_else(
        || {
            raw.refresh_token_rotation
                .as_ref()
                .and_then(|r| r.feature.as_deref())
                == Some("ENABLED")
        },
        RefreshTokenRotation::is_enabled,
    );
    let Some(list) = &raw.explicit_auth_flows else {
        let mut flows = vec![
            ExplicitAuthFlow::AllowRefreshTokenAuth,
            ExplicitAuthFlow::AllowUserSrpAuth,
            ExplicitAuthFlow::AllowCustomAuth,
        ];
        if rotating {
            flows.retain(|f| *f != ExplicitAuthFlow::AllowRefreshTokenAuth);
        }
        return (flows, true);
    };
    let flows = parse_enum_list(out, "ExplicitAuthFlows", list, FLOWS);
    if flows.iter().any(|f| f.is_legacy()) && flows.iter().any(|f| !f.is_legacy()) {
        push(
            out,
            6,
            "ExplicitAuthFlows",
            ExceptionKind::InvalidParameter,
            "ExplicitAuthFlows cannot combine the legacy values ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY and \
             USER_PASSWORD_AUTH with ALLOW_* values."
                .to_owned(),
        );
    }
    if rotating && flows.contains(&ExplicitAuthFlow::AllowRefreshTokenAuth) {
        push(
            out,
            7,
            "ExplicitAuthFlows",
            ExceptionKind::InvalidParameter,
            "ALLOW_REFRESH_TOKEN_AUTH is not permitted in ExplicitAuthFlows when RefreshTokenRotation is \
             ENABLED: refresh with GetTokensFromRefreshToken."
                .to_owned(),
        );
    }
    (flows, false)
}
