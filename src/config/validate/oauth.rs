//! The OAuth members: AllowedOAuthFlows and AllowedOAuthScopes (R-CFG-2), the flows that exclude each
//! other or need a secret or a callback (R-CFG-11), AllowedOAuthFlowsUserPoolClient (R-CFG-12) and
//! scopes the pool knows (R-CFG-13).

use crate::config::OAuthFlow;
use crate::error::{ExceptionKind, Violation};

use super::check::{
    check_each, check_list_len, parse_enum_list, push, shown, At, EnumType, SCOPE_TYPE,
};
use super::input::{RawConfig, ValidationContext};

/// The standard scopes every pool knows (R-CFG-13).
const STANDARD_SCOPES: [&str; 5] = [
    "phone",
    "email",
    "openid",
    "profile",
    "aws.cognito.signin.user.admin",
];

/// OAuthFlowType.
const OAUTH_FLOWS: EnumType<OAuthFlow> = (
    OAuthFlow::from_wire_name,
    &["code", "implicit", "client_credentials"],
);

/// The OAuth members after their checks.
pub(super) struct OAuth<'a> {
    /// The known flows, duplicates folded.
    pub flows: Vec<OAuthFlow>,
    /// The scopes as given (empty when absent).
    pub scopes: &'a [String],
    /// AllowedOAuthFlowsUserPoolClient. Defaults to false.
    pub user_pool_client: bool,
}

/// Checks the OAuth members; `callback_urls` are the client's CallbackURLs (R-CFG-11).
pub(super) fn check_oauth<'a>(
    out: &mut Vec<Violation>,
    raw: &'a RawConfig,
    ctx: &ValidationContext<'_>,
    callback_urls: &[String],
) -> OAuth<'a> {
    use ExceptionKind as K;
    let oauth_raw = raw.allowed_oauth_flows.as_deref().unwrap_or_default();
    check_list_len(out, At::member(2, "AllowedOAuthFlows"), oauth_raw, 3);
    let oauth_flows = parse_enum_list(out, "AllowedOAuthFlows", oauth_raw, OAUTH_FLOWS);
    let scopes = raw.allowed_oauth_scopes.as_deref().unwrap_or_default();
    check_list_len(out, At::member(2, "AllowedOAuthScopes"), scopes, 50);
    for s in check_each(out, "AllowedOAuthScopes", scopes, SCOPE_TYPE) {
        let known = STANDARD_SCOPES.contains(&s.as_str())
            || (s.contains('/') && ctx.custom_scopes.is_some_and(|c| c.contains(s)));
        if !known {
            push(
                out,
                13,
                "AllowedOAuthScopes",
                K::ScopeDoesNotExist,
                format!("Invalid scope requested: {}", shown(s)),
            );
        }
    }
    let has = |f: OAuthFlow| oauth_flows.contains(&f);
    if has(OAuthFlow::ClientCredentials) {
        if has(OAuthFlow::Code) || has(OAuthFlow::Implicit) {
            push(
                out,
                11,
                "AllowedOAuthFlows",
                K::InvalidOAuthFlow,
                "client_credentials flow can not be selected together with code or implicit flow."
                    .to_owned(),
            );
        }
        if ctx.has_secret == Some(false) {
            push(
                out,
                11,
                "AllowedOAuthFlows",
                K::InvalidOAuthFlow,
                "client_credentials flow can not be selected if client does not have a client secret.".to_owned(),
            );
        }
    }
    if (has(OAuthFlow::Code) || has(OAuthFlow::Implicit)) && callback_urls.is_empty() {
        push(
            out,
            11,
            "CallbackURLs",
            K::InvalidParameter,
            "CallbackURLs must contain at least one URL when AllowedOAuthFlows contains code or implicit.".to_owned(),
        );
    }
    let oauth_client = raw.allowed_oauth_flows_user_pool_client.unwrap_or(false);
    for (field, is_empty) in [
        ("AllowedOAuthFlows", oauth_raw.is_empty()),
        ("AllowedOAuthScopes", scopes.is_empty()),
    ] {
        if oauth_client && is_empty {
            push(
                out,
                12,
                field,
                K::InvalidParameter,
                format!("{field} must not be empty when AllowedOAuthFlowsUserPoolClient is true."),
            );
        } else if !oauth_client && !is_empty {
            push(
                out,
                12,
                field,
                K::InvalidParameter,
                format!("{field} can be set only when AllowedOAuthFlowsUserPoolClient is true."),
            );
        }
    }
    OAuth {
        flows: oauth_flows,
        scopes,
        user_pool_client: oauth_client,
    }
}
