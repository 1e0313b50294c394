//! Token validities and their units: the model's raw ranges and unit enum (R-CFG-2), the unit-aware
//! ranges (R-CFG-3), and no ID or access token outliving the refresh token (R-CFG-4).

use crate::config::{TimeUnit, TokenValidityUnits};
use crate::error::{ExceptionKind, Violation};

use super::check::{check_enum, check_int, push, At, EnumType};
use super::input::{RawConfig, RawUnits};

const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;

/// TimeUnitsType.
const TIME_UNITS: EnumType<TimeUnit> = (
    TimeUnit::from_wire_name,
    &["seconds", "minutes", "hours", "days"],
);

/// The rules of one token validity member.
struct Validity {
    /// The member, for example `AccessTokenValidity`.
    field: &'static str,
    /// The default when the member is absent (or, for the refresh token, 0): a length of time.
    default_secs: u64,
    /// The model's range of the raw number, whatever its unit (R-CFG-2).
    raw_min: i64,
    raw_max: i64,
    /// The allowed length of time in seconds (R-CFG-3), and how a message writes it.
    range: (u64, u64),
    range_text: &'static str,
}

const ACCESS: Validity = Validity {
    field: "AccessTokenValidity",
    default_secs: HOUR,
    raw_min: 1,
    raw_max: 86_400,
    range: (300, DAY),
    range_text: "5 minutes and 1 day",
};

const ID: Validity = Validity {
    field: "IdTokenValidity",
    ..ACCESS
};

const REFRESH: Validity = Validity {
    field: "RefreshTokenValidity",
    default_secs: 30 * DAY,
    raw_min: 0,
    raw_max: 315_360_000,
    range: (HOUR, 3_650 * DAY),
    range_text: "60 minutes and 3650 days",
};

/// The three validities as far as they passed: each is the effective value in its unit and its length
/// in seconds, `None` when it (or its unit) broke a rule.
pub(super) struct Validities {
    pub access_unit: Option<TimeUnit>,
    pub id_unit: Option<TimeUnit>,
    pub refresh_unit: Option<TimeUnit>,
    pub access: Option<(u32, u64)>,
    pub id: Option<(u32, u64)>,
    pub refresh: Option<(u32, u64)>,
}

/// Checks the units, then each validity in its unit, then R-CFG-4.
pub(super) fn check_validities(out: &mut Vec<Violation>, raw: &RawConfig) -> Validities {
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
    let access = validity(out, &ACCESS, raw.access_token_validity, access_unit);
    let id = validity(out, &ID, raw.id_token_validity, id_unit);
    let refresh = validity(out, &REFRESH, raw.refresh_token_validity, refresh_unit);
    if let Some((_, r)) = refresh {
        for (field, v) in [("AccessTokenValidity", access), ("IdTokenValidity", id)] {
            if let Some((_, s)) = v {
                if s > r {
                    push(
                        out,
                        4,
                        field,
                        ExceptionKind::InvalidParameter,
                        format!("{field} ({s} seconds) must not be longer than RefreshTokenValidity ({r} seconds)."),
                    );
                }
            }
        }
    }
    Validities {
        access_unit,
        id_unit,
        refresh_unit,
        access,
        id,
        refresh,
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
        Some(s) => check_enum(out, At::member(2, field), s, TIME_UNITS),
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
fn validity(
    out: &mut Vec<Violation>,
    rules: &Validity,
    given: Option<i64>,
    unit: Option<TimeUnit>,
) -> Option<(u32, u64)> {
    let Validity {
        field,
        default_secs,
        raw_min,
        raw_max,
        range,
        range_text,
    } = *rules;
    let value = match given {
        // RefreshTokenValidity 0 means the default (30 days); the raw range check below still applies.
        Some(v) if v != 0 || raw_min > 0 => {
            Some(check_int(out, At::member(2, field), v, raw_min, raw_max)?)
        }
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
