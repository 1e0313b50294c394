//! Request-shape checks of the token operations (R-REF-1, R-SAFE-1): the model's lengths and patterns
//! for RefreshToken, ClientId, ClientSecret and DeviceKey, and the crate's own bounds on ClientMetadata.
//! Each check runs before any work proportional to the input and answers InvalidParameterException.
//! Secret members are never echoed: their messages name the member only.

use std::collections::HashMap;

use crate::store::{Family, FamilyId};
use crate::Error;

/// The longest refresh token accepted (R-SAFE-1); anything longer is refused before parsing.
const MAX_TOKEN_LEN: usize = crate::token::RefreshTokenKeys::MAX_PRESENTED_LEN;
/// At most this many ClientMetadata entries.
const MAX_METADATA_ENTRIES: usize = 64;
/// At most this many bytes of ClientMetadata keys and values together.
const MAX_METADATA_BYTES: usize = 16 * 1024;
/// At most this many scopes in a sign-in (ScopeListType's max).
const MAX_SCOPES: usize = 50;

fn invalid(message: String) -> Error {
    Error::InvalidParameter { message }
}

/// `[\w+]`, the class of ClientId and ClientSecret, with `\w` as the model's (Java) patterns mean it:
/// ASCII letters, digits and underscore.
fn is_word_or_plus(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'+'
}

/// `s`'s length in characters, counted no further than just past `max`, and whether every character is
/// in the ASCII class `class`. A valid value is ASCII and at most `max` bytes long, so one pass over at
/// most `max` bytes decides both; any other value is decoded to count its characters (for the length
/// message, which comes first), but only up to `max + 1` of them, and an over-long one is not scanned
/// for the class at all: the work stays bounded by `max` whatever the input's size (R-SAFE-1).
fn chars_in_class(s: &str, max: usize, class: impl Fn(u8) -> bool) -> (usize, bool) {
    if s.len() <= max && s.bytes().all(&class) {
        return (s.len(), true);
    }
    let n = s.chars().take(max.saturating_add(1)).count();
    (n, n <= max && s.bytes().all(&class))
}

/// A store's answer is about the family asked for (`asked`, the one the token names), or it is the
/// service's fault: acted on, another family's answer would be revoked, described or minted for in the
/// token's name (a misrouted query, a cache keyed wrongly).
pub(crate) fn answered_for(asked: Option<FamilyId>, answer: &Family) -> Result<(), Error> {
    if Some(answer.id) == asked {
        Ok(())
    } else {
        Err(Error::Internal {
            detail: "store answered another family than the one asked for",
        })
    }
}

/// `[A-Za-z0-9-_=.]`, the class of a refresh token, as a table: the token is the longest member checked
/// on every refresh.
const TOKEN_CLASS: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'=' | b'.');
        b += 1;
    }
    t
};

/// An AWS-form constraint message that names the member and never shows its value: every member these
/// checks see is a credential or travels next to one.
fn constraint(member: &str, rule: &str) -> Error {
    invalid(format!(
        "1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must {rule}"
    ))
}

/// StringType's bound (`max=131072` characters): the model's type of every AuthParameters key and
/// value, and of the context and analytics members InitiateAuth accepts and ignores.
pub(crate) const MAX_STRING_TYPE: usize = 131_072;

/// Whether `value` is within [`MAX_STRING_TYPE`] characters. Counting stops just past the bound, and a
/// value of at most that many bytes is not counted at all (R-SAFE-1).
fn within_string_type(value: &str) -> bool {
    value.len() <= MAX_STRING_TYPE || value.chars().nth(MAX_STRING_TYPE).is_none()
}

/// A StringType member (R-CFG-2): at most [`MAX_STRING_TYPE`] characters.
pub(crate) fn check_string_type(member: &str, value: &str) -> Result<(), Error> {
    if within_string_type(value) {
        return Ok(());
    }
    Err(constraint(
        member,
        &format!("have length less than or equal to {MAX_STRING_TYPE}"),
    ))
}

/// A map of StringType to StringType (`AuthParametersType`, R-CFG-2): every key and every value at
/// most [`MAX_STRING_TYPE`] characters. The message names the map, never a key or value (they may be
/// secrets).
pub(crate) fn check_string_map<'a>(
    member: &str,
    entries: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<(), Error> {
    for (key, value) in entries {
        for (part, text) in [("key", key), ("value", value)] {
            if !within_string_type(text) {
                return Err(invalid(format!(
                    "1 validation error detected: Value at '{member}' failed to satisfy constraint: \
                     Map {part} must satisfy constraint: [Member must have length less than or equal \
                     to {MAX_STRING_TYPE}]"
                )));
            }
        }
    }
    Ok(())
}

/// The model's shape of a refresh token sent as `RefreshToken` (R-REF-1).
pub(crate) fn check_refresh_token_shape(token: &str) -> Result<(), Error> {
    check_token_shape("RefreshToken", token)
}

/// The model's shape of a token sent as `member` (`RefreshToken`, RevokeToken's `Token`, InitiateAuth's
/// `REFRESH_TOKEN`): the refusal names the member the caller sent (R-CFG-2).
pub(crate) fn check_token_shape(member: &str, token: &str) -> Result<(), Error> {
    if token.is_empty() {
        return Err(invalid(format!("Missing required parameter {member}")));
    }
    if token.len() > MAX_TOKEN_LEN {
        return Err(constraint(
            member,
            "have length less than or equal to 16384",
        ));
    }
    if !token.bytes().all(|b| TOKEN_CLASS[usize::from(b)]) {
        return Err(constraint(
            member,
            "satisfy regular expression pattern: [A-Za-z0-9-_=.]+",
        ));
    }
    Ok(())
}

pub(crate) fn check_client_id(id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(invalid("Missing required parameter ClientId".into()));
    }
    let (n, in_class) = chars_in_class(id, 128, is_word_or_plus);
    if n > 128 {
        return Err(constraint(
            "ClientId",
            "have length less than or equal to 128",
        ));
    }
    if !in_class {
        return Err(constraint(
            "ClientId",
            "satisfy regular expression pattern: [\\w+]+",
        ));
    }
    Ok(())
}

pub(crate) fn check_client_secret(secret: &str) -> Result<(), Error> {
    let (n, in_class) = chars_in_class(secret, 64, is_word_or_plus);
    if n < 24 {
        return Err(constraint(
            "ClientSecret",
            "have length greater than or equal to 24",
        ));
    }
    if n > 64 {
        return Err(constraint(
            "ClientSecret",
            "have length less than or equal to 64",
        ));
    }
    if !in_class {
        return Err(constraint(
            "ClientSecret",
            "satisfy regular expression pattern: [\\w+]+",
        ));
    }
    Ok(())
}

/// A SECRET_HASH: Base64 of an HMAC-SHA-256 (44 characters); anything longer than
/// [`MAX_SECRET_HASH_LEN`](crate::secret::MAX_SECRET_HASH_LEN) or outside the Base64 alphabet is refused
/// before it is decoded. The value is never echoed.
pub(crate) fn check_secret_hash(hash: &str) -> Result<(), Error> {
    let ok = !hash.is_empty()
        && hash.len() <= crate::secret::MAX_SECRET_HASH_LEN
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
    if ok {
        Ok(())
    } else {
        Err(invalid("SECRET_HASH is not a valid secret hash".into()))
    }
}

/// A username (UsernameType: 1..=128 characters of `[\p{L}\p{M}\p{S}\p{N}\p{P}]+`, approximated as
/// "no white space or control characters"), checked before the directory is asked, so an oversized name
/// costs nothing (R-SAFE-1): at most 129 characters are looked at.
pub(crate) fn check_username(username: &str) -> Result<(), Error> {
    if username.is_empty() || username.chars().nth(128).is_some() {
        return Err(constraint("Username", "have length between 1 and 128"));
    }
    if username
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(constraint(
            "Username",
            "satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+",
        ));
    }
    Ok(())
}

/// SessionType: 20..=4096 characters. Sensitive, so never echoed; InitiateAuth accepts it and issues no
/// challenge that would use it.
pub(crate) fn check_session(session: &str) -> Result<(), Error> {
    // Counting stops just past the bound (R-SAFE-1): an over-long session is not read to its end.
    match session.chars().take(4097).count() {
        ..20 => Err(constraint(
            "Session",
            "have length greater than or equal to 20",
        )),
        4097.. => Err(constraint(
            "Session",
            "have length less than or equal to 4096",
        )),
        _ => Ok(()),
    }
}

/// DeviceKeyType: 1..=55 characters matching `[\w-]+_[0-9a-f-]+`.
pub(crate) fn check_device_key(key: &str) -> Result<(), Error> {
    // Counting stops just past 55, and an over-long key is refused before its pattern is scanned: the
    // work stays bounded whatever the input's size (R-SAFE-1).
    let n = key.chars().take(56).count();
    let ok_len = (1..=55).contains(&n);
    // The suffix cannot hold '_', so the pattern matches iff the text after the last '_' is a non-empty
    // run of [0-9a-f-] and the text before it a non-empty run of [\w-].
    let ok_pattern = || {
        key.rsplit_once('_').is_some_and(|(head, tail)| {
            !head.is_empty()
                && !tail.is_empty()
                && head
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
                && tail
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-')
        })
    };
    if !ok_len {
        let rule = if n == 0 {
            "have length greater than or equal to 1"
        } else {
            "have length less than or equal to 55"
        };
        return Err(constraint("DeviceKey", rule));
    }
    if !ok_pattern() {
        // The value is not echoed: a device key is a credential the family is bound to (R-REF-9), and
        // it arrives inside AuthParameters, which the model marks sensitive (R-SAFE-2).
        return Err(constraint(
            "DeviceKey",
            "satisfy regular expression pattern: [\\w-]+_[0-9a-f-]+",
        ));
    }
    Ok(())
}

pub(crate) fn check_client_metadata(m: &HashMap<String, String>) -> Result<(), Error> {
    if m.len() > MAX_METADATA_ENTRIES {
        return Err(invalid(format!(
            "ClientMetadata has more than {MAX_METADATA_ENTRIES} entries"
        )));
    }
    let bytes = m.iter().fold(0usize, |acc, (k, v)| {
        acc.saturating_add(k.len()).saturating_add(v.len())
    });
    if bytes > MAX_METADATA_BYTES {
        return Err(invalid(format!(
            "ClientMetadata is larger than {MAX_METADATA_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Validates a scope list: 1 to [`MAX_SCOPES`] scopes, each a ScopeType (1..=256 characters of
/// `[\x21\x23-\x5B\x5D-\x7E]`, so none holds the space that joins them in the `scope` claim).
pub(crate) fn check_scopes(scopes: &[String]) -> Result<(), Error> {
    if scopes.is_empty() || scopes.len() > MAX_SCOPES {
        return Err(invalid(format!(
            "Scopes must list between 1 and {MAX_SCOPES} scopes"
        )));
    }
    let is_scope_byte =
        |b: u8| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b);
    for s in scopes {
        let (n, in_class) = chars_in_class(s, 256, is_scope_byte);
        if !(1..=256).contains(&n) {
            return Err(constraint("Scopes", "have length between 1 and 256"));
        }
        if !in_class {
            return Err(constraint(
                "Scopes",
                "satisfy regular expression pattern: [\\x21\\x23-\\x5B\\x5D-\\x7E]+",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        static CLASS_CALLS: Cell<usize> = const { Cell::new(0) };
    }

    /// `is_word_or_plus`, counting its calls.
    fn counted_class(b: u8) -> bool {
        CLASS_CALLS.with(|c| c.set(c.get().saturating_add(1)));
        is_word_or_plus(b)
    }

    #[test]
    fn r_safe_1_the_class_scan_is_bounded_by_the_maximum_length() {
        for huge in [
            "a".repeat(1 << 20),
            "é".repeat(1 << 20),
            format!("{}!", "a".repeat(1 << 20)),
        ] {
            CLASS_CALLS.with(|c| c.set(0));
            let (n, in_class) = chars_in_class(&huge, 128, counted_class);
            assert_eq!((n, in_class), (129, false));
            let calls = CLASS_CALLS.with(Cell::get);
            assert!(
                calls <= 129,
                "{calls} bytes classified for a 128-character bound"
            );
        }
        // In range: one pass, every byte classified once.
        CLASS_CALLS.with(|c| c.set(0));
        assert_eq!(chars_in_class("abc", 128, counted_class), (3, true));
        assert_eq!(CLASS_CALLS.with(Cell::get), 3);
        assert_eq!(chars_in_class("a b", 128, is_word_or_plus), (3, false));
        assert_eq!(chars_in_class("éé", 128, is_word_or_plus), (2, false));
    }

    /// SessionType is 20 to 4096 characters, counted as characters (a multi-byte one is one). (That the
    /// count stops just past the bound shows only in time, which tests do not measure.)
    #[test]
    fn r_safe_1_session_length_bounds_in_characters() {
        let message = |n: usize| check_session(&"é".repeat(n)).err().map(|e| e.message());
        assert_eq!(message(20), None);
        assert_eq!(message(4096), None);
        assert!(message(19).unwrap().contains("greater than or equal to 20"));
        for n in [4097, 1 << 20] {
            assert!(
                message(n).unwrap().contains("less than or equal to 4096"),
                "{n}"
            );
        }
    }

    /// R-SIGN-3: a scope of the wrong length is refused for its length (ScopeType: 1 to 256), not as a
    /// pattern violation; one of the right length with a character outside the class, for its pattern.
    #[test]
    fn r_sign_3_a_scope_of_the_wrong_length_is_refused_for_its_length() {
        let message = |s: String| check_scopes(&[s]).unwrap_err().message();
        for s in [String::new(), "a".repeat(257)] {
            let m = message(s);
            assert!(m.contains("have length between 1 and 256"), "{m}");
        }
        assert!(check_scopes(&["a".repeat(256)]).is_ok());
        let m = message("a b".into());
        assert!(m.contains("regular expression pattern"), "{m}");
    }

    #[test]
    fn r_safe_1_huge_device_keys_are_refused_by_length() {
        for huge in [
            "a".repeat(1 << 20),
            format!("us-east-1_{}", "0".repeat(1 << 20)),
        ] {
            let e = check_device_key(&huge).unwrap_err();
            assert!(e.to_string().contains("less than or equal to 55"), "{e}");
        }
    }

    #[test]
    fn r_ref_1_shapes() {
        assert!(check_client_id("abc123").is_ok());
        assert!(check_client_id("").is_err());
        assert!(check_client_id(&"a".repeat(129)).is_err());
        assert!(check_client_id("a-b").is_err());
        assert!(check_client_secret(&"a".repeat(24)).is_ok());
        assert!(check_client_secret(&"a".repeat(23)).is_err());
        assert!(check_client_secret(&"a".repeat(65)).is_err());
        assert!(check_device_key("us-east-1_0a1b2c3d-aaaa").is_ok());
        assert!(check_device_key("us-east-1_xyz").is_err());
        assert!(check_device_key("_abc").is_err());
        assert!(check_device_key("abc_").is_err());
        assert!(check_device_key(&format!("a_{}", "a".repeat(54))).is_err());
        assert!(check_refresh_token_shape("abc.DEF-_=").is_ok());
        assert!(check_refresh_token_shape("abc def").is_err());
        assert!(check_refresh_token_shape(&"a".repeat(MAX_TOKEN_LEN + 1)).is_err());
        assert!(check_refresh_token_shape("").is_err());
    }

    /// R-REF-1: every bound is inclusive, and `[\w-]` before the device key's last `_` includes `_`.
    #[test]
    fn r_ref_1_bounds_are_inclusive() {
        assert!(check_refresh_token_shape(&"a".repeat(MAX_TOKEN_LEN)).is_ok());
        assert!(check_client_id(&"a".repeat(128)).is_ok());
        assert!(check_client_secret(&"a".repeat(64)).is_ok());
        assert!(check_device_key(&format!("a_{}", "0".repeat(53))).is_ok());
        assert!(check_device_key("us_east_1_0a1b2c3d-aaaa").is_ok());
    }

    /// R-SIGN-1: a SECRET_HASH is checked against the whole Base64 alphabet (`+`, `/` and `=` padding
    /// included; a real one, 44 characters, often holds them) and at most 128 characters.
    #[test]
    fn r_sign_1_secret_hash_shape() {
        assert!(check_secret_hash("ab+/cd/+ef0123456789ABCDEFGHIJKLMNOPQRSTUVW=").is_ok());
        assert!(check_secret_hash(&"/".repeat(crate::secret::MAX_SECRET_HASH_LEN)).is_ok());
        assert!(check_secret_hash(&"a".repeat(crate::secret::MAX_SECRET_HASH_LEN + 1)).is_err());
        assert!(check_secret_hash("").is_err());
        for bad in ["ab-c", "ab_c", "ab c", "ab.c", "abé"] {
            assert!(check_secret_hash(bad).is_err(), "{bad}");
        }
    }

    /// R-SAFE-1: ClientMetadata of exactly 64 entries, or of exactly 16 KiB, is accepted.
    #[test]
    fn r_safe_1_client_metadata_bounds_are_inclusive() {
        let most: HashMap<String, String> = (0..MAX_METADATA_ENTRIES)
            .map(|i| (i.to_string(), String::new()))
            .collect();
        assert!(check_client_metadata(&most).is_ok());
        let largest = HashMap::from([("k".to_owned(), "v".repeat(MAX_METADATA_BYTES - 1))]);
        assert!(check_client_metadata(&largest).is_ok());
    }

    /// The model's definitions, character by character, as the byte-level checks must read them.
    fn model_message(
        value: &str,
        min: usize,
        max: usize,
        class: fn(char) -> bool,
    ) -> Option<String> {
        let n = value.chars().count();
        if n < min || n > max {
            return Some("length".into());
        }
        (!value.chars().all(class)).then(|| "pattern".into())
    }

    fn verdict(result: Result<(), Error>) -> Option<String> {
        result.err().map(|e| {
            if e.message().contains("length") {
                "length".into()
            } else {
                "pattern".into()
            }
        })
    }

    proptest::proptest! {
        /// R-REF-1: ClientId and ClientSecret are judged as the model's `[\w+]+` patterns and lengths
        /// count characters, not bytes, with the length refusal first, for any text (non-ASCII too).
        #[test]
        fn r_ref_1_byte_checks_match_the_character_patterns(
            value in "[a-zA-Z0-9_+é€ -]{1,70}|[a-z+]{1,130}",
        ) {
            let word_or_plus = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '+';
            proptest::prop_assert_eq!(
                verdict(check_client_id(&value)),
                model_message(&value, 1, 128, word_or_plus)
            );
            proptest::prop_assert_eq!(
                verdict(check_client_secret(&value)),
                model_message(&value, 24, 64, word_or_plus)
            );
            let token_class =
                |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=' | '.');
            proptest::prop_assert_eq!(
                verdict(check_refresh_token_shape(&value)),
                model_message(&value, 1, MAX_TOKEN_LEN, token_class)
            );
        }
    }

    #[test]
    fn r_safe_2_secret_values_are_not_echoed() {
        let e = check_client_secret("short-secret-value!").unwrap_err();
        assert!(!e.message().contains("short-secret-value"), "{e}");
        let e = check_client_id("bad id").unwrap_err();
        assert!(!e.message().contains("bad id"), "{e}");
    }

    #[test]
    fn r_safe_1_client_metadata_is_bounded() {
        let many: HashMap<String, String> =
            (0..65).map(|i| (i.to_string(), String::new())).collect();
        assert!(check_client_metadata(&many).is_err());
        let big = HashMap::from([("k".to_owned(), "v".repeat(MAX_METADATA_BYTES))]);
        assert!(check_client_metadata(&big).is_err());
        let ok = HashMap::from([("k".to_owned(), "v".to_owned())]);
        assert!(check_client_metadata(&ok).is_ok());
    }
}
