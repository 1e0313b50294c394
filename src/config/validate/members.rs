//! The members that stand on their own: ClientName (R-CFG-1, R-CFG-2), the attribute lists and
//! identity providers, AnalyticsConfiguration and PreventUserExistenceErrors (R-CFG-2), and
//! AuthSessionValidity (R-CFG-15).

use crate::config::{AnalyticsConfiguration, PreventUserExistenceErrors};
use crate::error::Violation;

use super::check::{
    check_each, check_enum, check_int, check_string, missing, At, EnumType, ARN_TYPE, ATTRIBUTE,
    CLIENT_NAME_TYPE, EXTERNAL_ID, HEX_STRING, PROVIDER_NAME_TYPE,
};
use super::input::{RawAnalytics, RawConfig, ValidationContext};

/// PreventUserExistenceErrorTypes.
const PREVENT: EnumType<PreventUserExistenceErrors> = (
    PreventUserExistenceErrors::from_wire_name,
    &["LEGACY", "ENABLED"],
);

/// `ClientName`: required when the context says so (R-CFG-1), ClientNameType (R-CFG-2). An absent name
/// that is not required is empty.
pub(super) fn client_name(
    out: &mut Vec<Violation>,
    raw: &RawConfig,
    ctx: &ValidationContext<'_>,
) -> String {
    match &raw.client_name {
        None => {
            if ctx.require_client_name {
                missing(out, 1, "ClientName");
            }
            String::new()
        }
        Some(n) => {
            check_string(out, At::member(2, "ClientName"), n, CLIENT_NAME_TYPE);
            n.clone()
        }
    }
}

/// `ReadAttributes`, `WriteAttributes` and `SupportedIdentityProviders`, entry by entry (R-CFG-2).
pub(super) fn check_attribute_lists(out: &mut Vec<Violation>, raw: &RawConfig) {
    for (field, list, ty) in [
        ("ReadAttributes", &raw.read_attributes, ATTRIBUTE),
        ("WriteAttributes", &raw.write_attributes, ATTRIBUTE),
        (
            "SupportedIdentityProviders",
            &raw.supported_identity_providers,
            PROVIDER_NAME_TYPE,
        ),
    ] {
        check_each(out, field, list.as_deref().unwrap_or_default(), ty);
    }
}

/// `AnalyticsConfiguration` (R-CFG-2). `UserDataShared` defaults to false.
pub(super) fn analytics(out: &mut Vec<Violation>, a: &RawAnalytics) -> AnalyticsConfiguration {
    const F: &str = "AnalyticsConfiguration";
    if let Some(id) = &a.application_id {
        let f = "AnalyticsConfiguration.ApplicationId";
        check_string(out, At::member(2, f), id, HEX_STRING);
    }
    for (name, v) in [
        ("ApplicationArn", &a.application_arn),
        ("RoleArn", &a.role_arn),
    ] {
        if let Some(arn) = v {
            let f = format!("{F}.{name}");
            check_string(out, At::member(2, &f), arn, ARN_TYPE);
        }
    }
    if let Some(ext) = &a.external_id {
        let f = "AnalyticsConfiguration.ExternalId";
        check_string(out, At::member(2, f), ext, EXTERNAL_ID);
    }
    AnalyticsConfiguration {
        application_id: a.application_id.clone(),
        application_arn: a.application_arn.clone(),
        role_arn: a.role_arn.clone(),
        external_id: a.external_id.clone(),
        user_data_shared: a.user_data_shared.unwrap_or(false),
    }
}

/// `PreventUserExistenceErrors` (R-CFG-2). Defaults to `LEGACY`.
pub(super) fn prevent_user_existence_errors(
    out: &mut Vec<Violation>,
    raw: &RawConfig,
) -> Option<PreventUserExistenceErrors> {
    match &raw.prevent_user_existence_errors {
        None => Some(PreventUserExistenceErrors::default()),
        Some(v) => check_enum(out, At::member(2, "PreventUserExistenceErrors"), v, PREVENT),
    }
}

/// `AuthSessionValidity` in minutes, 3..=15 (R-CFG-15). Defaults to 3.
pub(super) fn auth_session_validity(out: &mut Vec<Violation>, raw: &RawConfig) -> Option<u8> {
    check_int(
        out,
        At::member(15, "AuthSessionValidity"),
        raw.auth_session_validity.unwrap_or(3),
        3,
        15,
    )
    .and_then(|v| u8::try_from(v).ok())
}
