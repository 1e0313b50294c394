//! The validator: unchecked input ([`RawConfig`]) in, an [`AppClientConfig`] or the full list of
//! violations out (R-CFG-1..15).
//!
//! Both the Rust builder and the wire requests produce a `RawConfig`: enum members are still strings and
//! numbers still `i64`, so an out-of-range number or an unknown enum value is reported together with every
//! other violation, in AWS's words, instead of failing at deserialisation. Model-constraint messages have
//! AWS's form `Value '<v>' at '<member>' failed to satisfy constraint: Member must ...`; the member is
//! written with its wire name (AWS itself writes camelCase) so that each message names the field exactly as
//! the request spelled it. Lengths count characters (Unicode scalar values; AWS counts UTF-16 code units,
//! which differs only outside the Basic Multilingual Plane). Echoed values are cut at 256 characters, and
//! secret values are never echoed (`***`).
//!
//! One file per group of rules, run in this order, which is the order violations are reported in:
//! `members` (ClientName first, R-CFG-1/2), `validity` (R-CFG-2/3/4), `auth_flows` (R-CFG-8, then
//! R-CFG-2/6/7), `members` again (attribute lists and providers), `redirect` (R-CFG-9/10), `oauth`
//! (R-CFG-2/11/12/13), `members` (analytics, PreventUserExistenceErrors), `secrets` (R-CFG-14; its
//! R-CFG-5 part checks the Create-only secret members, before this validator runs) and `members`
//! (R-CFG-15). `check` holds the model-constraint checks they are written with; `request` the members
//! of a request that are not configuration (ids, paging); `input` the unchecked input and its context.

use crate::error::Violation;

use super::{AppClientConfig, TokenValidityUnits};

mod auth_flows;
mod check;
mod input;
mod members;
mod oauth;
mod redirect;
mod request;
mod secrets;
mod validity;

pub(crate) use check::check_list_sizes;
pub(crate) use input::{RawAnalytics, RawConfig, RawRotation, RawUnits, ValidationContext};
pub(crate) use request::{
    check_client_id, check_client_type, check_max_results, check_next_token, check_user_pool_id,
};
pub(crate) use secrets::check_secret_request;

/// Validates `raw` against R-CFG-1..15 (the secret members of R-CFG-5 are checked by
/// [`check_secret_request`]). Appends every violation to `out`; returns the configuration only when
/// this call found none.
pub(crate) fn validate_config(
    raw: &RawConfig,
    ctx: &ValidationContext<'_>,
    out: &mut Vec<Violation>,
) -> Option<AppClientConfig> {
    let start = out.len();
    let client_name = members::client_name(out, raw, ctx);
    let validity = validity::check_validities(out, raw);
    let rotation = auth_flows::rotation(out, raw);
    let (explicit_auth_flows, defaulted) = auth_flows::explicit_auth_flows(out, raw, rotation);
    members::check_attribute_lists(out, raw);
    let urls = redirect::check_urls(out, raw);
    let oauth = oauth::check_oauth(out, raw, ctx, urls.callback_urls);
    let analytics_configuration = raw
        .analytics_configuration
        .as_ref()
        .map(|a| members::analytics(out, a));
    let prevent = members::prevent_user_existence_errors(out, raw);
    let propagate = secrets::propagate_user_context(out, raw, ctx);
    let auth_session_validity = members::auth_session_validity(out, raw);

    if out.len() != start {
        return None;
    }
    let (access_token_validity, access_token_validity_secs) = validity.access?;
    let (id_token_validity, id_token_validity_secs) = validity.id?;
    let (refresh_token_validity, refresh_token_validity_secs) = validity.refresh?;
    Some(AppClientConfig {
        client_name,
        access_token_validity,
        id_token_validity,
        refresh_token_validity,
        units: TokenValidityUnits {
            access_token: validity.access_unit?,
            id_token: validity.id_unit?,
            refresh_token: validity.refresh_unit?,
        },
        access_token_validity_secs,
        id_token_validity_secs,
        refresh_token_validity_secs,
        read_attributes: raw.read_attributes.clone().unwrap_or_default(),
        write_attributes: raw.write_attributes.clone().unwrap_or_default(),
        explicit_auth_flows,
        explicit_auth_flows_defaulted: defaulted,
        supported_identity_providers: raw.supported_identity_providers.clone().unwrap_or_default(),
        callback_urls: urls.callback_urls.to_vec(),
        logout_urls: urls.logout_urls.to_vec(),
        default_redirect_uri: raw.default_redirect_uri.clone(),
        allowed_oauth_flows: oauth.flows,
        allowed_oauth_scopes: oauth.scopes.to_vec(),
        allowed_oauth_flows_user_pool_client: oauth.user_pool_client,
        analytics_configuration,
        prevent_user_existence_errors: prevent?,
        enable_token_revocation: raw.enable_token_revocation.unwrap_or(true),
        enable_propagate_additional_user_context_data: propagate,
        auth_session_validity: auth_session_validity?,
        rotation: rotation?,
    })
}
