//! Configuration violations: what a Create, Update or builder validation found wrong (R-CFG).
//!
//! A leaf of the crate: [`Violation`] and [`ValidationErrors`] are produced by the configuration
//! validator and carried by [`Error::InvalidConfig`](super::Error::InvalidConfig), so they live here,
//! below both, and neither module has to import the other's.

use std::fmt;

use super::kind::ExceptionKind;

/// One R-CFG violation: which rule, which field (wire name) and what is wrong, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The SPEC rule number, for example `3` for R-CFG-3.
    pub rule: u8,
    /// The wire member name, for example `AccessTokenValidity` or `RefreshTokenRotation.Feature`.
    pub field: String,
    /// The message; never contains a secret value.
    pub message: String,
    /// The exception this violation alone would raise.
    pub kind: ExceptionKind,
}

impl Violation {
    /// Whether the violation breaks a constraint of the API model itself (a required member, a length,
    /// pattern, enum, range or list size): such a message is in AWS's own form, `Value ... at '...'
    /// failed to satisfy constraint: ...`, whichever rule checked it.
    pub(crate) fn is_model_constraint(&self) -> bool {
        self.message.starts_with("Value ")
    }
}

/// Every violation found in one Create or Update (R-CFG): never only the first.
///
/// `Display` follows AWS: a single violation of a rule of its own (R-CFG-3, say) prints its message
/// alone; otherwise the messages are joined as `N validation errors detected: <first>; <second>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    violations: Vec<Violation>,
}

impl ValidationErrors {
    /// Wraps a non-empty list of violations.
    pub(crate) fn new(violations: Vec<Violation>) -> Self {
        ValidationErrors { violations }
    }

    /// The violations, in the order they were found.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The exception of the lowest-numbered rule violated. A violation of a constraint of the API model
    /// (a length, pattern, enum, range or list size) counts as one of R-CFG-2 whichever rule checked it,
    /// as Cognito refuses such a request before it applies any rule of its own: an out-of-range
    /// `AuthSessionValidity` (R-CFG-15) beside a scope that does not exist (R-CFG-13) is
    /// `InvalidParameterException`.
    pub fn exception(&self) -> ExceptionKind {
        self.violations
            .iter()
            .min_by_key(|v| if v.is_model_constraint() { 2 } else { v.rule })
            .map_or(ExceptionKind::InvalidParameter, |v| v.kind)
    }

    /// Whether a violation of rule `rule` (R-CFG-`rule`) on `field` is among them.
    pub fn has(&self, rule: u8, field: &str) -> bool {
        self.violations
            .iter()
            .any(|v| v.rule == rule && v.field == field)
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.violations.as_slice() {
            [] => f.write_str("Invalid configuration."),
            [only] if !only.is_model_constraint() => f.write_str(&only.message),
            all => {
                let n = all.len();
                write!(
                    f,
                    "{n} validation error{} detected: ",
                    if n == 1 { "" } else { "s" }
                )?;
                for (i, v) in all.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    f.write_str(&v.message)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ValidationErrors {}
