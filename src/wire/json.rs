//! Request and response bodies as JSON: one size-bounded, strict parser for every operation's input and
//! one serialiser for its output (R-WIRE-1, R-CFG-16, R-SAFE-1).
//!
//! Errors never quote a value from the body, which may be a secret sent in the wrong member (R-SAFE-2);
//! an unknown member is named, so a typo is easy to find.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::Error;

/// The largest request body [`from_json`] parses: 1 MiB, far above any valid client request.
pub const MAX_REQUEST_BYTES: usize = 1 << 20;

/// Parses a JSON request body into `T`.
///
/// Bodies above [`MAX_REQUEST_BYTES`] are refused before parsing. Any failure, an unknown member
/// included (R-CFG-16), is an [`Error::InvalidParameter`] whose message names the offending member.
pub fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Error> {
    if body.len() > MAX_REQUEST_BYTES {
        return Err(Error::InvalidParameter {
            message: format!(
                "The request body is {} bytes; at most {MAX_REQUEST_BYTES} bytes are accepted.",
                body.len()
            ),
        });
    }
    serde_json::from_slice(body).map_err(|e| Error::InvalidParameter {
        message: describe_json_error(&e),
    })
}

/// Serialises a response body. Serialising these types cannot fail; an error would be a bug, reported as
/// an internal error rather than a panic.
pub fn to_json<T: Serialize>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|_| Error::Internal {
        detail: "response serialisation failed",
    })
}

/// A readable message for a JSON error: the unknown member by name, or serde's own text (which names the
/// member and position), cut to a sane length.
fn describe_json_error(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix("unknown field `") {
        if let Some(end) = rest.find('`') {
            let name: String = rest[..end].chars().take(128).collect();
            return format!(
                "Unknown member '{name}' in the request: it is not a member of this operation's input."
            );
        }
    }
    // serde quotes the offending value (`invalid type: string "..."`), which may be a secret sent in the
    // wrong member: keep only its description of the problem and the position (R-SAFE-2).
    let what = match e.classify() {
        serde_json::error::Category::Syntax => "malformed JSON",
        serde_json::error::Category::Eof => "unexpected end of JSON",
        serde_json::error::Category::Data => "a member has the wrong type or value",
        serde_json::error::Category::Io => "unreadable body",
    };
    // "missing field `X`" and "duplicate field `X`" carry a member name and no value: keep those.
    let member = if text.starts_with("missing field") || text.starts_with("duplicate field") {
        let m: String = text
            .split(" at line")
            .next()
            .unwrap_or("")
            .chars()
            .take(160)
            .collect();
        format!(" ({m})")
    } else {
        String::new()
    };
    format!(
        "Invalid request body: {what}{member} at line {} column {}",
        e.line(),
        e.column()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{CreateUserPoolClientRequest, DescribeUserPoolClientRequest};

    #[test]
    fn r_cfg_16_unknown_member_is_named() {
        let e = from_json::<CreateUserPoolClientRequest>(
            br#"{"UserPoolId":"us-east-1_a","ClientName":"x","RefreshTokenRotaton":{"Feature":"ENABLED"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
        assert!(
            e.message().contains("'RefreshTokenRotaton'"),
            "{}",
            e.message()
        );
        let e = from_json::<CreateUserPoolClientRequest>(
            br#"{"RefreshTokenRotation":{"Feature":"ENABLED","RetryGracePeriod":5}}"#,
        )
        .unwrap_err();
        assert!(
            e.message().contains("'RetryGracePeriod'"),
            "{}",
            e.message()
        );
    }

    #[test]
    fn r_safe_1_oversized_body_is_refused_before_parsing() {
        let body = vec![b' '; MAX_REQUEST_BYTES + 1];
        let e = from_json::<DescribeUserPoolClientRequest>(&body).unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
    }
}
