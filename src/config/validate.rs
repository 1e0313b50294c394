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

use std::collections::BTreeSet;

use crate::error::{ExceptionKind, Violation};
use crate::secret::ClientSecret;

use super::patterns;
use super::{
    AnalyticsConfiguration, AppClientConfig, ExplicitAuthFlow, OAuthFlow,
    PreventUserExistenceErrors, RefreshTokenRotation, RotationFeature, TimeUnit,
    TokenValidityUnits,
};

/// `TokenValidityUnits` before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawUnits {
    pub access_token: Option<String>,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// `RefreshTokenRotation` before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawRotation {
    pub feature: Option<String>,
    pub retry_grace_period_seconds: Option<i64>,
}

/// `AnalyticsConfiguration` before validation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RawAnalytics {
    pub application_id: Option<String>,
    pub application_arn: Option<String>,
    pub role_arn: Option<String>,
    pub external_id: Option<String>,
    pub user_data_shared: Option<bool>,
}

/// The configuration members of CreateUserPoolClient / UpdateUserPoolClient, unchecked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
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

/// The standard scopes every pool knows (R-CFG-13).
const STANDARD_SCOPES: [&str; 5] = [
    "phone",
    "email",
    "openid",
    "profile",
    "aws.cognito.signin.user.admin",
];

/// Longest echo of a value in a message, in characters.
const MAX_SHOWN: usize = 256;

/// A value as a message shows it: cut at [`MAX_SHOWN`] characters.
fn shown(v: &str) -> String {
    match v.char_indices().nth(MAX_SHOWN) {
        None => v.to_owned(),
        Some((i, _)) => format!("{}...", &v[..i]),
    }
}

fn push(out: &mut Vec<Violation>, rule: u8, field: &str, kind: ExceptionKind, message: String) {
    out.push(Violation {
        rule,
        field: field.to_owned(),
        message,
        kind,
    });
}

/// An AWS-form model-constraint violation (InvalidParameterException).
fn constraint(
    out: &mut Vec<Violation>,
    rule: u8,
    field: &str,
    path: &str,
    value: &str,
    must: &str,
) {
    push(
        out,
        rule,
        field,
        ExceptionKind::InvalidParameter,
        format!("Value '{value}' at '{path}' failed to satisfy constraint: Member must {must}"),
    );
}

/// A required member is absent (R-CFG-1 and nested required members).
pub(crate) fn missing(out: &mut Vec<Violation>, rule: u8, field: &str) {
    push(
        out,
        rule,
        field,
        ExceptionKind::InvalidParameter,
        format!("Value null at '{field}' failed to satisfy constraint: Member must not be null"),
    );
}

/// A pattern: the matcher and the model's spelling of it.
type Pattern = (fn(&str) -> bool, &'static str);

const CLIENT_NAME: Pattern = (patterns::client_name, r"[\w\s+=,.@-]+");
const WORD_PLUS: Pattern = (patterns::word_plus, r"[\w+]+");
const USER_POOL_ID: Pattern = (patterns::user_pool_id, r"[\w-]+_[0-9a-zA-Z]+");
const REDIRECT_URL: Pattern = (patterns::redirect_url, r"[\p{L}\p{M}\p{S}\p{N}\p{P}]+");
const PROVIDER_NAME: Pattern = (
    patterns::provider_name,
    r"[\p{L}\p{M}\p{S}\p{N}\p{P}\p{Z}]+",
);
const SCOPE: Pattern = (patterns::scope, r"[\x21\x23-\x5B\x5D-\x7E]+");
const HEX: Pattern = (patterns::hex_string, r"^[0-9a-fA-F]+$");
const NON_SPACE: Pattern = (patterns::non_space, r"[\S]+");
const ARN: Pattern = (
    patterns::arn,
    r"arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?",
);

/// Checks a string member's length and pattern; returns whether it passed. With `secret`, the value is
/// shown as `***`.
#[allow(clippy::too_many_arguments)]
fn check_string(
    out: &mut Vec<Violation>,
    rule: u8,
    field: &str,
    path: &str,
    value: &str,
    min: usize,
    max: usize,
    pattern: Option<Pattern>,
    secret: bool,
) -> bool {
    let before = out.len();
    let show = if secret {
        "***".to_owned()
    } else {
        shown(value)
    };
    // Counting stops just past `max`: the exact length of an over-long value does not matter.
    let len = value.chars().take(max.saturating_add(1)).count();
    if len < min {
        let must = format!("have length greater than or equal to {min}");
        constraint(out, rule, field, path, &show, &must);
    }
    if len > max {
        let must = format!("have length less than or equal to {max}");
        constraint(out, rule, field, path, &show, &must);
    }
    // An over-long value has already failed; its pattern is not scanned, so the work stays bounded by
    // `max` whatever its size (R-SAFE-1).
    if let Some((matches, spelled)) = pattern.filter(|_| len <= max) {
        if !matches(value) {
            let must = format!("satisfy regular expression pattern: {spelled}");
            constraint(out, rule, field, path, &show, &must);
        }
    }
    out.len() == before
}

/// Checks an integer member's range; returns the value when it passed.
fn check_int(
    out: &mut Vec<Violation>,
    rule: u8,
    field: &str,
    value: i64,
    min: i64,
    max: i64,
) -> Option<i64> {
    if value < min {
        let must = format!("have value greater than or equal to {min}");
        constraint(out, rule, field, field, &value.to_string(), &must);
        None
    } else if value > max {
        let must = format!("have value less than or equal to {max}");
        constraint(out, rule, field, field, &value.to_string(), &must);
        None
    } else {
        Some(value)
    }
}

/// Checks a list's size against the model's bounds; returns whether it passed.
fn check_list_len(
    out: &mut Vec<Violation>,
    rule: u8,
    field: &str,
    list: &[String],
    max: usize,
) -> bool {
    if list.len() <= max {
        return true;
    }
    // Only as much of the list as a message shows is joined (R-SAFE-1).
    let mut joined = String::from("[");
    for (i, item) in list.iter().enumerate() {
        if joined.len() > MAX_SHOWN {
            break;
        }
        if i > 0 {
            joined.push_str(", ");
        }
        joined.extend(item.chars().take(MAX_SHOWN));
    }
    joined.push(']');
    let value = shown(&joined);
    let must = format!("have length less than or equal to {max}");
    constraint(out, rule, field, field, &value, &must);
    false
}

/// Parses an enum member, reporting an unknown value in AWS's words.
fn check_enum<T: Copy>(
    out: &mut Vec<Violation>,
    field: &str,
    path: &str,
    value: &str,
    parse: fn(&str) -> Option<T>,
    set: &[&str],
) -> Option<T> {
    let parsed = parse(value);
    if parsed.is_none() {
        let must = format!("satisfy enum value set: [{}]", set.join(", "));
        constraint(out, 2, field, path, &shown(value), &must);
    }
    parsed
}

fn member_path(field: &str, index: usize) -> String {
    format!("{field}.{}.member", index.saturating_add(1))
}

/// The most entries of one list member that are checked one by one. A longer list is refused with a
/// single length violation and its entries are not looked at, so neither the work nor the number of
/// violations grows with its size (R-SAFE-1). No model list allows more than 100 entries; the lists
/// without a model maximum (ReadAttributes, WriteAttributes, ExplicitAuthFlows,
/// SupportedIdentityProviders) are held to this bound too.
pub(crate) const MAX_LIST_ENTRIES: usize = 1_000;

/// The model's maximum length of a list member, if it has one.
fn model_list_max(field: &str) -> Option<(u8, usize)> {
    match field {
        "CallbackURLs" | "LogoutURLs" => Some((9, 100)),
        "AllowedOAuthFlows" => Some((2, 3)),
        "AllowedOAuthScopes" => Some((2, 50)),
        _ => None,
    }
}

/// Refuses every list over [`MAX_LIST_ENTRIES`] before the request is copied or validated: one length
/// violation per such list (against the model's maximum where there is one). Returns whether all
/// lists are within the bound; the registry then validates as usual.
pub(crate) fn check_list_sizes<'a>(
    out: &mut Vec<Violation>,
    lists: impl IntoIterator<Item = (&'a str, Option<&'a Vec<String>>)>,
) -> bool {
    let before = out.len();
    for (field, list) in lists {
        let Some(list) = list.filter(|l| l.len() > MAX_LIST_ENTRIES) else {
            continue;
        };
        let (rule, max) = model_list_max(field).unwrap_or((2, MAX_LIST_ENTRIES));
        check_list_len(out, rule, field, list, max);
    }
    out.len() == before
}

/// Refuses a list over [`MAX_LIST_ENTRIES`]; returns whether its entries may be checked.
fn check_list_bound(out: &mut Vec<Violation>, field: &str, list: &[String]) -> bool {
    if list.len() <= MAX_LIST_ENTRIES {
        return true;
    }
    // A list with a model maximum has had its length violation reported already.
    let reported = out
        .iter()
        .any(|v| v.field == field && v.message.contains("have length less than or equal to"));
    if !reported {
        check_list_len(out, 2, field, list, MAX_LIST_ENTRIES);
    }
    false
}

/// Checks each string of a list member; returns the members that passed. A list over
/// [`MAX_LIST_ENTRIES`] gets one length violation and no entry check.
fn check_each<'a>(
    out: &mut Vec<Violation>,
    field: &str,
    list: &'a [String],
    min: usize,
    max: usize,
    pattern: Option<Pattern>,
) -> Vec<&'a String> {
    if !check_list_bound(out, field, list) {
        return Vec::new();
    }
    list.iter()
        .enumerate()
        .filter(|(i, s)| {
            check_string(
                out,
                2,
                field,
                &member_path(field, *i),
                s,
                min,
                max,
                pattern,
                false,
            )
        })
        .map(|(_, s)| s)
        .collect()
}

/// `UserPoolId`: required (R-CFG-1), UserPoolIdType (R-CFG-2).
pub(crate) fn check_user_pool_id(out: &mut Vec<Violation>, id: Option<&str>) -> bool {
    match id {
        None => {
            missing(out, 1, "UserPoolId");
            false
        }
        Some(id) => check_string(
            out,
            2,
            "UserPoolId",
            "UserPoolId",
            id,
            1,
            55,
            Some(USER_POOL_ID),
            false,
        ),
    }
}

/// `ClientId`: required (R-CFG-1), ClientIdType (R-CFG-2).
pub(crate) fn check_client_id(out: &mut Vec<Violation>, id: Option<&str>) -> bool {
    match id {
        None => {
            missing(out, 1, "ClientId");
            false
        }
        Some(id) => check_string(
            out,
            2,
            "ClientId",
            "ClientId",
            id,
            1,
            128,
            Some(WORD_PLUS),
            false,
        ),
    }
}

/// `MaxResults` of ListUserPoolClients: QueryLimit 1..=60.
pub(crate) fn check_max_results(out: &mut Vec<Violation>, v: i64) -> Option<usize> {
    check_int(out, 2, "MaxResults", v, 1, 60).and_then(|v| usize::try_from(v).ok())
}

/// `NextToken`: PaginationKey (1..=131072, `[\S]+`).
pub(crate) fn check_next_token(out: &mut Vec<Violation>, token: &str) -> bool {
    check_string(
        out,
        2,
        "NextToken",
        "NextToken",
        token,
        1,
        131_072,
        Some(NON_SPACE),
        false,
    )
}

/// `ClientType` filter of ListUserPoolClients: `REGULAR` or `DCR`; returns whether DCR was asked for.
pub(crate) fn check_client_type(out: &mut Vec<Violation>, v: &str) -> Option<bool> {
    check_enum(
        out,
        "ClientType",
        "ClientType",
        v,
        |s| match s {
            "REGULAR" => Some(false),
            "DCR" => Some(true),
            _ => None,
        },
        &["REGULAR", "DCR"],
    )
}

/// The Create-only secret members (R-CFG-5): GenerateSecret and ClientSecret are exclusive, a custom
/// secret must be a ClientSecretType, and PublishSecretsInAWSSecretsManager cannot be honoured.
pub(crate) fn check_secret_request(
    out: &mut Vec<Violation>,
    generate: bool,
    secret: Option<&ClientSecret>,
    publish_in_secrets_manager: bool,
) {
    if let Some(s) = secret {
        if generate {
            push(
                out,
                5,
                "ClientSecret",
                ExceptionKind::InvalidParameter,
                "Cannot specify both GenerateSecret as true and a ClientSecret value.".to_owned(),
            );
        }
        check_string(
            out,
            5,
            "ClientSecret",
            "ClientSecret",
            s.expose_secret(),
            24,
            64,
            Some(WORD_PLUS),
            true,
        );
    }
    if publish_in_secrets_manager {
        push(
            out,
            5,
            "PublishSecretsInAWSSecretsManager",
            ExceptionKind::InvalidParameter,
            "PublishSecretsInAWSSecretsManager is not supported: this implementation has no Secrets Manager \
             and returns the client secret itself."
                .to_owned(),
        );
    }
}

/// Why a redirect URI breaks R-CFG-9, if it does.
fn redirect_uri_problem(s: &str) -> Option<&'static str> {
    if s.contains('#') {
        return Some("it must not contain a fragment");
    }
    const NOT_ABSOLUTE: &str = "it must be an absolute URI with a scheme";
    let Some((scheme, rest)) = s.split_once(':') else {
        return Some(NOT_ABSOLUTE);
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok || rest.is_empty() {
        return Some(NOT_ABSOLUTE);
    }
    let scheme = scheme.to_ascii_lowercase();
    // Schemes that run or embed content where a redirect lands are never a callback.
    if matches!(
        scheme.as_str(),
        "javascript" | "data" | "vbscript" | "file" | "blob"
    ) {
        return Some("its scheme can execute or embed content and is not allowed");
    }
    if scheme != "http" && scheme != "https" {
        // Custom schemes such as `myapp://callback` are allowed (R-CFG-9).
        return None;
    }
    let Some(after) = rest.strip_prefix("//") else {
        return Some("an http or https URI must have a host");
    };
    let authority = &after[..after.find(['/', '?']).unwrap_or(after.len())];
    if authority.contains('@') {
        return Some("it must not contain user information");
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        match v6.find(']') {
            Some(end) => (&authority[..end + 2], &v6[end + 1..]),
            None => return Some("its host is malformed"),
        }
    } else {
        match authority.rfind(':') {
            Some(i) => (&authority[..i], &authority[i..]),
            None => (authority, ""),
        }
    };
    if host.is_empty() || host == "[]" {
        return Some("an http or https URI must have a host");
    }
    if !port.is_empty() {
        // After an IPv6 literal anything may follow `]`, so the `:` is checked, not assumed.
        let valid = port.strip_prefix(':').is_some_and(|d| {
            !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()) && d.parse::<u16>().is_ok()
        });
        if !valid {
            return Some("its port is malformed");
        }
    }
    if scheme == "http" {
        let host = host.to_ascii_lowercase();
        if !matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") {
            return Some("http is allowed only for localhost, 127.0.0.1 and [::1]; use https");
        }
    }
    None
}

fn check_redirect(out: &mut Vec<Violation>, field: &str, uri: &str) {
    if let Some(why) = redirect_uri_problem(uri) {
        push(
            out,
            9,
            field,
            ExceptionKind::InvalidParameter,
            format!("Invalid {field} value '{}': {why}.", shown(uri)),
        );
    }
}

/// A URL list member (CallbackURLs, LogoutURLs): at most 100 (R-CFG-9), each a RedirectUrlType (R-CFG-2)
/// and an acceptable redirect URI (R-CFG-9).
fn check_url_list(out: &mut Vec<Violation>, field: &str, list: &[String]) {
    check_list_len(out, 9, field, list, 100);
    for uri in check_each(out, field, list, 1, 1024, Some(REDIRECT_URL)) {
        check_redirect(out, field, uri);
    }
}

/// A unit of TokenValidityUnits, or its default.
fn unit(
    out: &mut Vec<Violation>,
    field: &str,
    v: Option<&String>,
    default: TimeUnit,
) -> Option<TimeUnit> {
    match v {
        None => Some(default),
        Some(s) => check_enum(
            out,
            field,
            field,
            s,
            TimeUnit::from_wire_name,
            &["seconds", "minutes", "hours", "days"],
        ),
    }
}

/// `value` seconds expressed in `unit`, rounded up to at least one unit.
fn in_unit(seconds: u64, unit: TimeUnit) -> u32 {
    let v = seconds.div_ceil(unit.seconds()).max(1);
    u32::try_from(v).unwrap_or(u32::MAX)
}

fn fmt_unit(value: u32, unit: TimeUnit) -> String {
    format!("{value} {}", unit.wire_name())
}

/// One token validity: the model's raw range (R-CFG-2), then the unit-aware range (R-CFG-3). Returns
/// the effective value and its length in seconds.
#[allow(clippy::too_many_arguments)]
fn validity(
    out: &mut Vec<Violation>,
    field: &str,
    given: Option<i64>,
    unit: Option<TimeUnit>,
    default_secs: u64,
    raw_min: i64,
    raw_max: i64,
    range: (u64, u64),
    range_text: &str,
) -> Option<(u32, u64)> {
    let value = match given {
        // RefreshTokenValidity 0 means the default (30 days); the raw range check below still applies.
        Some(v) if v != 0 || raw_min > 0 => Some(check_int(out, 2, field, v, raw_min, raw_max)?),
        _ => None,
    };
    let unit = unit?;
    let value = match value {
        Some(v) => u32::try_from(v).ok()?,
        // The default is a length of time (SPEC 2.1), not a number: when it is no whole number of the
        // chosen unit (1 hour in days), rounding would silently lengthen it, so the value is required.
        None if !default_secs.is_multiple_of(unit.seconds()) => {
            push(
                out,
                3,
                field,
                ExceptionKind::InvalidParameter,
                format!(
                    "Invalid range for token validity. {field} must be given when its unit is {}: the default ({default_secs} seconds) is not a whole number of {}.",
                    unit.wire_name(),
                    unit.wire_name()
                ),
            );
            return None;
        }
        None => in_unit(default_secs, unit),
    };
    let secs = u64::from(value).checked_mul(unit.seconds());
    match secs {
        Some(s) if (range.0..=range.1).contains(&s) => Some((value, s)),
        _ => {
            push(
                out,
                3,
                field,
                ExceptionKind::InvalidParameter,
                format!(
                    "Invalid range for token validity. {field} is {}; it must be between {range_text}.",
                    fmt_unit(value, unit)
                ),
            );
            None
        }
    }
}

/// Folds duplicates, keeping the first occurrence's position.
fn fold<T: PartialEq + Copy>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

fn parse_enum_list<T: Copy + PartialEq>(
    out: &mut Vec<Violation>,
    field: &str,
    list: &[String],
    parse: fn(&str) -> Option<T>,
    set: &[&str],
) -> Vec<T> {
    if !check_list_bound(out, field, list) {
        return Vec::new();
    }
    let parsed: Vec<T> = list
        .iter()
        .enumerate()
        .filter_map(|(i, s)| check_enum(out, field, &member_path(field, i), s, parse, set))
        .collect();
    fold(parsed)
}

fn analytics(out: &mut Vec<Violation>, a: &RawAnalytics) -> AnalyticsConfiguration {
    const F: &str = "AnalyticsConfiguration";
    if let Some(id) = &a.application_id {
        let f = "AnalyticsConfiguration.ApplicationId";
        check_string(out, 2, f, f, id, 1, usize::MAX, Some(HEX), false);
    }
    for (name, v) in [
        ("ApplicationArn", &a.application_arn),
        ("RoleArn", &a.role_arn),
    ] {
        if let Some(arn) = v {
            let f = format!("{F}.{name}");
            check_string(out, 2, &f, &f, arn, 20, 2048, Some(ARN), false);
        }
    }
    if let Some(ext) = &a.external_id {
        let f = "AnalyticsConfiguration.ExternalId";
        check_string(out, 2, f, f, ext, 0, 131_072, None, false);
    }
    AnalyticsConfiguration {
        application_id: a.application_id.clone(),
        application_arn: a.application_arn.clone(),
        role_arn: a.role_arn.clone(),
        external_id: a.external_id.clone(),
        user_data_shared: a.user_data_shared.unwrap_or(false),
    }
}

const FLOW_NAMES: [&str; 11] = [
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
];

/// Validates `raw` against R-CFG-1..15 (the secret members of R-CFG-5 are checked by
/// [`check_secret_request`]). Appends every violation to `out`; returns the configuration only when
/// this call found none.
pub(crate) fn validate_config(
    raw: &RawConfig,
    ctx: &ValidationContext<'_>,
    out: &mut Vec<Violation>,
) -> Option<AppClientConfig> {
    let start = out.len();
    use ExceptionKind as K;

    // R-CFG-1 / R-CFG-2: ClientName.
    let client_name = match &raw.client_name {
        None => {
            if ctx.require_client_name {
                missing(out, 1, "ClientName");
            }
            String::new()
        }
        Some(n) => {
            check_string(
                out,
                2,
                "ClientName",
                "ClientName",
                n,
                1,
                128,
                Some(CLIENT_NAME),
                false,
            );
            n.clone()
        }
    };

    // Units and validities: R-CFG-2 (raw ranges, enum), R-CFG-3 (unit-aware ranges), R-CFG-4.
    let no_units = RawUnits::default();
    let units_raw = raw.token_validity_units.as_ref().unwrap_or(&no_units);
    let defaults = TokenValidityUnits::default();
    let access_unit = unit(
        out,
        "TokenValidityUnits.AccessToken",
        units_raw.access_token.as_ref(),
        defaults.access_token,
    );
    let id_unit = unit(
        out,
        "TokenValidityUnits.IdToken",
        units_raw.id_token.as_ref(),
        defaults.id_token,
    );
    let refresh_unit = unit(
        out,
        "TokenValidityUnits.RefreshToken",
        units_raw.refresh_token.as_ref(),
        defaults.refresh_token,
    );
    const HOUR: u64 = 3_600;
    const DAY: u64 = 86_400;
    const SHORT: (u64, u64) = (300, DAY);
    let access = validity(
        out,
        "AccessTokenValidity",
        raw.access_token_validity,
        access_unit,
        HOUR,
        1,
        86_400,
        SHORT,
        "5 minutes and 1 day",
    );
    let id = validity(
        out,
        "IdTokenValidity",
        raw.id_token_validity,
        id_unit,
        HOUR,
        1,
        86_400,
        SHORT,
        "5 minutes and 1 day",
    );
    let refresh = validity(
        out,
        "RefreshTokenValidity",
        raw.refresh_token_validity,
        refresh_unit,
        30 * DAY,
        0,
        315_360_000,
        (HOUR, 3_650 * DAY),
        "60 minutes and 3650 days",
    );
    if let Some((_, r)) = refresh {
        for (field, v) in [("AccessTokenValidity", access), ("IdTokenValidity", id)] {
            if let Some((_, s)) = v {
                if s > r {
                    push(
                        out,
                        4,
                        field,
                        K::InvalidParameter,
                        format!("{field} ({s} seconds) must not be longer than RefreshTokenValidity ({r} seconds)."),
                    );
                }
            }
        }
    }

    // R-CFG-8: RefreshTokenRotation.
    let rotation = match &raw.refresh_token_rotation {
        None => Some(RefreshTokenRotation::DISABLED),
        Some(r) => {
            let grace = match r.retry_grace_period_seconds {
                None => Some(0),
                Some(g) => check_int(
                    out,
                    8,
                    "RefreshTokenRotation.RetryGracePeriodSeconds",
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
                    "RefreshTokenRotation.Feature",
                    "RefreshTokenRotation.Feature",
                    f,
                    RotationFeature::from_wire_name,
                    &["ENABLED", "DISABLED"],
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
    };

    // R-CFG-2, R-CFG-6, R-CFG-7: ExplicitAuthFlows.
    let (explicit_auth_flows, defaulted) = match &raw.explicit_auth_flows {
        None => {
            let mut flows = vec![
                ExplicitAuthFlow::AllowRefreshTokenAuth,
                ExplicitAuthFlow::AllowUserSrpAuth,
                ExplicitAuthFlow::AllowCustomAuth,
            ];
            if rotation.is_some_and(RefreshTokenRotation::is_enabled) {
                flows.retain(|f| *f != ExplicitAuthFlow::AllowRefreshTokenAuth);
            }
            (flows, true)
        }
        Some(list) => {
            let flows = parse_enum_list(
                out,
                "ExplicitAuthFlows",
                list,
                ExplicitAuthFlow::from_wire_name,
                &FLOW_NAMES,
            );
            if flows.iter().any(|f| f.is_legacy()) && flows.iter().any(|f| !f.is_legacy()) {
                push(
                    out,
                    6,
                    "ExplicitAuthFlows",
                    K::InvalidParameter,
                    "ExplicitAuthFlows cannot combine the legacy values ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY and \
                     USER_PASSWORD_AUTH with ALLOW_* values."
                        .to_owned(),
                );
            }
            if rotation.is_some_and(RefreshTokenRotation::is_enabled)
                && flows.contains(&ExplicitAuthFlow::AllowRefreshTokenAuth)
            {
                push(
                    out,
                    7,
                    "ExplicitAuthFlows",
                    K::InvalidParameter,
                    "ALLOW_REFRESH_TOKEN_AUTH is not permitted in ExplicitAuthFlows when RefreshTokenRotation is \
                     ENABLED: refresh with GetTokensFromRefreshToken."
                        .to_owned(),
                );
            }
            (flows, false)
        }
    };

    // R-CFG-2: attribute lists and identity providers.
    let empty: Vec<String> = Vec::new();
    let read_attributes = raw.read_attributes.as_ref().unwrap_or(&empty);
    check_each(out, "ReadAttributes", read_attributes, 1, 2048, None);
    let write_attributes = raw.write_attributes.as_ref().unwrap_or(&empty);
    check_each(out, "WriteAttributes", write_attributes, 1, 2048, None);
    let providers = raw.supported_identity_providers.as_ref().unwrap_or(&empty);
    check_each(
        out,
        "SupportedIdentityProviders",
        providers,
        1,
        32,
        Some(PROVIDER_NAME),
    );

    // R-CFG-9, R-CFG-10: URLs.
    let callback_urls = raw.callback_urls.as_ref().unwrap_or(&empty);
    check_url_list(out, "CallbackURLs", callback_urls);
    let logout_urls = raw.logout_urls.as_ref().unwrap_or(&empty);
    check_url_list(out, "LogoutURLs", logout_urls);
    if let Some(uri) = &raw.default_redirect_uri {
        if check_string(
            out,
            2,
            "DefaultRedirectURI",
            "DefaultRedirectURI",
            uri,
            1,
            1024,
            Some(REDIRECT_URL),
            false,
        ) {
            check_redirect(out, "DefaultRedirectURI", uri);
        }
        if !callback_urls.contains(uri) {
            push(
                out,
                10,
                "DefaultRedirectURI",
                K::InvalidParameter,
                format!(
                    "DefaultRedirectURI '{}' must be one of the CallbackURLs.",
                    shown(uri)
                ),
            );
        }
    }

    // R-CFG-2, R-CFG-11, R-CFG-12, R-CFG-13: OAuth.
    let oauth_raw = raw.allowed_oauth_flows.as_ref().unwrap_or(&empty);
    check_list_len(out, 2, "AllowedOAuthFlows", oauth_raw, 3);
    let oauth_flows = parse_enum_list(
        out,
        "AllowedOAuthFlows",
        oauth_raw,
        OAuthFlow::from_wire_name,
        &["code", "implicit", "client_credentials"],
    );
    let scopes = raw.allowed_oauth_scopes.as_ref().unwrap_or(&empty);
    check_list_len(out, 2, "AllowedOAuthScopes", scopes, 50);
    for s in check_each(out, "AllowedOAuthScopes", scopes, 1, 256, Some(SCOPE)) {
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

    // R-CFG-2: analytics and PreventUserExistenceErrors.
    let analytics_configuration = raw
        .analytics_configuration
        .as_ref()
        .map(|a| analytics(out, a));
    let prevent = match &raw.prevent_user_existence_errors {
        None => Some(PreventUserExistenceErrors::default()),
        Some(v) => check_enum(
            out,
            "PreventUserExistenceErrors",
            "PreventUserExistenceErrors",
            v,
            PreventUserExistenceErrors::from_wire_name,
            &["LEGACY", "ENABLED"],
        ),
    };

    // R-CFG-14.
    let propagate = raw
        .enable_propagate_additional_user_context_data
        .unwrap_or(false);
    if propagate && ctx.has_secret == Some(false) {
        push(
            out,
            14,
            "EnablePropagateAdditionalUserContextData",
            K::InvalidParameter,
            "EnablePropagateAdditionalUserContextData can be true only for a client with a client secret.".to_owned(),
        );
    }

    // R-CFG-15.
    let auth_session_validity = check_int(
        out,
        15,
        "AuthSessionValidity",
        raw.auth_session_validity.unwrap_or(3),
        3,
        15,
    )
    .and_then(|v| u8::try_from(v).ok());

    if out.len() != start {
        return None;
    }
    let (access_token_validity, access_token_validity_secs) = access?;
    let (id_token_validity, id_token_validity_secs) = id?;
    let (refresh_token_validity, refresh_token_validity_secs) = refresh?;
    Some(AppClientConfig {
        client_name,
        access_token_validity,
        id_token_validity,
        refresh_token_validity,
        units: TokenValidityUnits {
            access_token: access_unit?,
            id_token: id_unit?,
            refresh_token: refresh_unit?,
        },
        access_token_validity_secs,
        id_token_validity_secs,
        refresh_token_validity_secs,
        read_attributes: read_attributes.clone(),
        write_attributes: write_attributes.clone(),
        explicit_auth_flows,
        explicit_auth_flows_defaulted: defaulted,
        supported_identity_providers: providers.clone(),
        callback_urls: callback_urls.clone(),
        logout_urls: logout_urls.clone(),
        default_redirect_uri: raw.default_redirect_uri.clone(),
        allowed_oauth_flows: oauth_flows,
        allowed_oauth_scopes: scopes.clone(),
        allowed_oauth_flows_user_pool_client: oauth_client,
        analytics_configuration,
        prevent_user_existence_errors: prevent?,
        enable_token_revocation: raw.enable_token_revocation.unwrap_or(true),
        enable_propagate_additional_user_context_data: propagate,
        auth_session_validity: auth_session_validity?,
        rotation: rotation?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_cfg_9_redirect_uri_rules() {
        for ok in [
            "https://example.com/cb",
            "https://example.com:8443/cb?x=1",
            "http://localhost/cb",
            "http://localhost:3000/cb",
            "http://127.0.0.1:8080",
            "http://[::1]:9000/cb",
            "HTTP://LOCALHOST/cb",
            "myapp://callback",
            "com.example.app:/oauth2redirect",
        ] {
            assert_eq!(redirect_uri_problem(ok), None, "{ok}");
        }
        for bad in [
            "https://example.com/cb#frag",
            "http://example.com/cb",
            "http://localhost.evil.com/cb",
            "http://user@localhost/cb",
            "/relative/path",
            "1http://x",
            "myapp:",
            "https:///path",
            "https://",
            "http://localhost:99999/",
            "http://[::1",
            "http://127.0.0.1:/",
            "http://[::1]é/",
            "http://[::1]x",
            "http://localhost:+80/",
        ] {
            assert!(redirect_uri_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn shown_values_are_cut() {
        let long = "é".repeat(1000);
        let s = shown(&long);
        assert_eq!(s.chars().count(), MAX_SHOWN + 3);
    }
}
