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
/// included (R-CFG-16), is an [`Error::InvalidParameter`]: its message names an unknown, missing or
/// repeated member (or map key), and locates any other fault (a member of the wrong type, say) by line
/// and column, never quoting a value.
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

/// A string map (`ClientMetadata`, `AuthParameters`) in which no key appears twice. With a duplicate, a
/// proxy, firewall or log that reads the first value and this crate, which would read the last, would
/// see two different requests (another token, another SECRET_HASH); the duplicate is refused, by name.
pub(crate) struct UniqueStringMap(pub(crate) std::collections::HashMap<String, String>);

impl<'de> serde::Deserialize<'de> for UniqueStringMap {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = UniqueStringMap;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut entries: A,
            ) -> Result<Self::Value, A::Error> {
                let mut map = std::collections::HashMap::new();
                while let Some((key, value)) = entries.next_entry::<String, String>()? {
                    if map.contains_key(&key) {
                        let shown = crate::error::echoed(&key, 128);
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate key `{shown}` in a map"
                        )));
                    }
                    map.insert(key, value);
                }
                Ok(UniqueStringMap(map))
            }
        }
        d.deserialize_map(Entries)
    }
}

/// `deserialize_with` for an optional [`UniqueStringMap`] member.
pub(crate) fn unique_string_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<std::collections::HashMap<String, String>>, D::Error> {
    Ok(<Option<UniqueStringMap> as serde::Deserialize>::deserialize(d)?.map(|m| m.0))
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
            let name = crate::error::echoed(&rest[..end], 128);
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
    // "missing field `X`", "duplicate field `X`" and our own "duplicate key `X` in a map" carry a
    // member name and no value: keep those.
    let member = if text.starts_with("missing field")
        || text.starts_with("duplicate field")
        || text.starts_with("duplicate key")
    {
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
    fn r_safe_1_a_key_twice_in_auth_parameters_or_client_metadata_is_refused_by_name() {
        use crate::wire::{GetTokensFromRefreshTokenRequest, InitiateAuthRequest};
        let e = from_json::<InitiateAuthRequest>(
            br#"{"ClientId":"c","AuthFlow":"REFRESH_TOKEN_AUTH",
                 "AuthParameters":{"REFRESH_TOKEN":"first-value","REFRESH_TOKEN":"second-value"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
        assert!(e.message().contains("REFRESH_TOKEN"), "{}", e.message());
        assert!(
            !e.message().contains("-value"),
            "no value echoed: {}",
            e.message()
        );
        let e = from_json::<GetTokensFromRefreshTokenRequest>(
            br#"{"RefreshToken":"t","ClientId":"c","ClientMetadata":{"k":"1","k":"2"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
        // Distinct keys, and null for the whole map, still parse.
        let ok = from_json::<GetTokensFromRefreshTokenRequest>(
            br#"{"RefreshToken":"t","ClientId":"c","ClientMetadata":{"k":"1","l":"2"}}"#,
        )
        .unwrap();
        assert_eq!(ok.client_metadata.map(|m| m.len()), Some(2));
        let ok = from_json::<GetTokensFromRefreshTokenRequest>(
            br#"{"RefreshToken":"t","ClientId":"c","ClientMetadata":null}"#,
        )
        .unwrap();
        assert!(ok.client_metadata.is_none());
    }

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
