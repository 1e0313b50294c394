//! The checks every rule is written with: model constraints on strings, integers, enums and lists, and
//! the messages they produce, in AWS's words.
//!
//! A check appends its violations to the one list a validation collects ([`Violation`]s, in the order
//! the rules run) and returns what passed. Where a violation is filed is an [`At`] and what a string
//! must be is a [`StringType`], so that no check needs more than a handful of arguments.

use crate::error::{ExceptionKind, Violation};

use crate::config::patterns;

/// Longest echo of a value in a message, in characters.
pub(super) const MAX_SHOWN: usize = 256;

/// A value as a message shows it: cut at [`MAX_SHOWN`] characters.
pub(super) fn shown(v: &str) -> String {
    // Without control, separator or direction characters (`echoed`), so that a logged message cannot
    // forge a line or read reversed.
    match v.char_indices().nth(MAX_SHOWN) {
        None => crate::error::echoed(v, usize::MAX),
        Some((i, _)) => format!("{}...", crate::error::echoed(&v[..i], usize::MAX)),
    }
}

/// Where a violation is filed: the rule it breaks (R-CFG-`rule`), the field it is reported under, and
/// the path its message names (the field itself, or `Field.N.member` for an entry of a list).
#[derive(Debug, Clone, Copy)]
pub(super) struct At<'a> {
    pub rule: u8,
    pub field: &'a str,
    pub path: &'a str,
}

impl<'a> At<'a> {
    /// A member named by its own field.
    pub const fn member(rule: u8, field: &'a str) -> Self {
        At {
            rule,
            field,
            path: field,
        }
    }
}

/// Appends a violation of `rule` on `field`.
pub(super) fn push(
    out: &mut Vec<Violation>,
    rule: u8,
    field: &str,
    kind: ExceptionKind,
    message: String,
) {
    out.push(Violation {
        rule,
        field: field.to_owned(),
        message,
        kind,
    });
}

/// An AWS-form model-constraint violation (InvalidParameterException).
fn constraint(out: &mut Vec<Violation>, at: At<'_>, value: &str, must: &str) {
    push(
        out,
        at.rule,
        at.field,
        ExceptionKind::InvalidParameter,
        format!(
            "Value '{value}' at '{}' failed to satisfy constraint: Member must {must}",
            at.path
        ),
    );
}

/// A required member is absent (R-CFG-1 and nested required members).
pub(super) fn missing(out: &mut Vec<Violation>, rule: u8, field: &str) {
    push(
        out,
        rule,
        field,
        ExceptionKind::InvalidParameter,
        format!("Value null at '{field}' failed to satisfy constraint: Member must not be null"),
    );
}

/// A pattern: the matcher and the model's spelling of it.
pub(super) type Pattern = (fn(&str) -> bool, &'static str);

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

/// A string type of the model: length bounds in characters and a pattern, if it has one.
#[derive(Debug, Clone, Copy)]
pub(super) struct StringType {
    pub min: usize,
    pub max: usize,
    pub pattern: Option<Pattern>,
}

impl StringType {
    const fn new(min: usize, max: usize, pattern: Option<Pattern>) -> Self {
        StringType { min, max, pattern }
    }
}

/// ClientNameType.
pub(super) const CLIENT_NAME_TYPE: StringType = StringType::new(1, 128, Some(CLIENT_NAME));
/// UserPoolIdType.
pub(super) const USER_POOL_ID_TYPE: StringType = StringType::new(1, 55, Some(USER_POOL_ID));
/// ClientIdType.
pub(super) const CLIENT_ID_TYPE: StringType = StringType::new(1, 128, Some(WORD_PLUS));
/// ClientSecretType.
pub(super) const CLIENT_SECRET_TYPE: StringType = StringType::new(24, 64, Some(WORD_PLUS));
/// PaginationKey.
pub(super) const PAGINATION_KEY: StringType = StringType::new(1, 131_072, Some(NON_SPACE));
/// An entry of ReadAttributes or WriteAttributes (ClientPermissionType).
pub(super) const ATTRIBUTE: StringType = StringType::new(1, 2048, None);
/// ProviderNameType.
pub(super) const PROVIDER_NAME_TYPE: StringType = StringType::new(1, 32, Some(PROVIDER_NAME));
/// RedirectUrlType.
pub(super) const REDIRECT_URL_TYPE: StringType = StringType::new(1, 1024, Some(REDIRECT_URL));
/// ScopeType.
pub(super) const SCOPE_TYPE: StringType = StringType::new(1, 256, Some(SCOPE));
/// HexStringType (no length bound of its own).
pub(super) const HEX_STRING: StringType = StringType::new(0, usize::MAX, Some(HEX));
/// ArnType.
pub(super) const ARN_TYPE: StringType = StringType::new(20, 2048, Some(ARN));
/// StringType as AnalyticsConfiguration.ExternalId uses it.
pub(super) const EXTERNAL_ID: StringType = StringType::new(0, 131_072, None);

/// Checks a string member's length and pattern; returns whether it passed.
pub(super) fn check_string(
    out: &mut Vec<Violation>,
    at: At<'_>,
    value: &str,
    ty: StringType,
) -> bool {
    check_shown_as(out, at, value, &shown(value), ty)
}

/// [`check_string`] for a secret member: its value is shown as `***`.
pub(super) fn check_secret_string(
    out: &mut Vec<Violation>,
    at: At<'_>,
    value: &str,
    ty: StringType,
) -> bool {
    check_shown_as(out, at, value, "***", ty)
}

fn check_shown_as(
    out: &mut Vec<Violation>,
    at: At<'_>,
    value: &str,
    show: &str,
    ty: StringType,
) -> bool {
    let before = out.len();
    let StringType { min, max, pattern } = ty;
    // Counting stops just past `max`: the exact length of an over-long value does not matter.
    let len = value.chars().take(max.saturating_add(1)).count();
    if len < min {
        let must = format!("have length greater than or equal to {min}");
        constraint(out, at, show, &must);
    }
    if len > max {
        let must = format!("have length less than or equal to {max}");
        constraint(out, at, show, &must);
    }
    // An over-long value has already failed; its pattern is not scanned, so the work stays bounded by
    // `max` whatever its size (R-SAFE-1).
    if let Some((matches, spelled)) = pattern.filter(|_| len <= max) {
        if !matches(value) {
            let must = format!("satisfy regular expression pattern: {spelled}");
            constraint(out, at, show, &must);
        }
    } else if len <= max && value.contains('\0') {
        // Crate's choice (R-CFG-2): a member the model leaves without a pattern may hold anything but
        // U+0000, which no SQL text or JSON column can store, so that a configuration either store
        // keeps is one both keep.
        constraint(out, at, show, "not contain the character U+0000");
    }
    out.len() == before
}

/// Checks an integer member's range; returns the value when it passed.
pub(super) fn check_int(
    out: &mut Vec<Violation>,
    at: At<'_>,
    value: i64,
    min: i64,
    max: i64,
) -> Option<i64> {
    if value < min {
        let must = format!("have value greater than or equal to {min}");
        constraint(out, at, &value.to_string(), &must);
        None
    } else if value > max {
        let must = format!("have value less than or equal to {max}");
        constraint(out, at, &value.to_string(), &must);
        None
    } else {
        Some(value)
    }
}

/// Checks a list's size against the model's bounds; returns whether it passed.
pub(super) fn check_list_len(
    out: &mut Vec<Violation>,
    at: At<'_>,
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
    constraint(out, at, &value, &must);
    false
}

/// An enum of the model: the parser of its wire values and the values, as a message lists them.
pub(super) type EnumType<T> = (fn(&str) -> Option<T>, &'static [&'static str]);

/// Parses an enum member, reporting an unknown value in AWS's words.
pub(super) fn check_enum<T: Copy>(
    out: &mut Vec<Violation>,
    at: At<'_>,
    value: &str,
    (parse, set): EnumType<T>,
) -> Option<T> {
    let parsed = parse(value);
    if parsed.is_none() {
        let must = format!("satisfy enum value set: [{}]", set.join(", "));
        constraint(out, at, &shown(value), &must);
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
pub(super) const MAX_LIST_ENTRIES: usize = 1_000;

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
        check_list_len(out, At::member(rule, field), list, max);
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
        check_list_len(out, At::member(2, field), list, MAX_LIST_ENTRIES);
    }
    false
}

/// Checks each string of a list member against `ty` (R-CFG-2); returns the members that passed. A list
/// over [`MAX_LIST_ENTRIES`] gets one length violation and no entry check.
pub(super) fn check_each<'a>(
    out: &mut Vec<Violation>,
    field: &str,
    list: &'a [String],
    ty: StringType,
) -> Vec<&'a String> {
    if !check_list_bound(out, field, list) {
        return Vec::new();
    }
    list.iter()
        .enumerate()
        .filter(|(i, s)| {
            let path = member_path(field, *i);
            check_string(
                out,
                At {
                    rule: 2,
                    field,
                    path: &path,
                },
                s,
                ty,
            )
        })
        .map(|(_, s)| s)
        .collect()
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

/// Parses each entry of an enum list member (R-CFG-2); returns the known values, duplicates folded.
pub(super) fn parse_enum_list<T: Copy + PartialEq>(
    out: &mut Vec<Violation>,
    field: &str,
    list: &[String],
    ty: EnumType<T>,
) -> Vec<T> {
    if !check_list_bound(out, field, list) {
        return Vec::new();
    }
    let parsed: Vec<T> = list
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let path = member_path(field, i);
            let at = At {
                rule: 2,
                field,
                path: &path,
            };
            check_enum(out, at, s, ty)
        })
        .collect();
    fold(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_values_are_cut() {
        let long = "é".repeat(1000);
        let s = shown(&long);
        assert_eq!(s.chars().count(), MAX_SHOWN + 3);
    }
}
