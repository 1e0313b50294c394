//! The API model's string patterns, matched by hand.
//!
//! The crate takes no regex dependency: each pattern of the model that a client-operation member carries
//! is a small character-class language, so a direct matcher is shorter than a regex engine and cannot
//! blow up on hostile input (every matcher is linear in the input). AWS evaluates these patterns with
//! Java's `java.util.regex`, where `\w` is ASCII `[a-zA-Z_0-9]` and `\s` is `[ \t\n\x0B\f\r]`; the matchers
//! follow those definitions. The Unicode-category patterns (`\p{L}` and friends) are approximated with the
//! standard library's character predicates; each approximation is stated on its function.

/// Java's `\w`: `[a-zA-Z_0-9]`.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Java's `\s`: `[ \t\n\x0B\f\r]`.
fn is_java_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\x0B' | '\x0C' | '\r')
}

/// `[\w+]+` (ClientIdType, ClientSecretType).
pub(crate) fn word_plus(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| is_word(c) || c == '+')
}

/// `[\w-]+_[0-9a-zA-Z]+` (UserPoolIdType).
///
/// `[\w-]` contains `_`, so the separator is the last `_`: everything before it must be non-empty
/// `[\w-]`, everything after it non-empty `[0-9a-zA-Z]`.
pub(crate) fn user_pool_id(s: &str) -> bool {
    let Some(i) = s.rfind('_') else {
        return false;
    };
    let (prefix, suffix) = (&s[..i], &s[i + 1..]);
    !prefix.is_empty()
        && prefix.chars().all(|c| is_word(c) || c == '-')
        && !suffix.is_empty()
        && suffix.chars().all(|c| c.is_ascii_alphanumeric())
}

/// `[\w\s+=,.@-]+` (ClientNameType).
pub(crate) fn client_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            is_word(c) || is_java_space(c) || matches!(c, '+' | '=' | ',' | '.' | '@' | '-')
        })
}

/// Characters in Unicode category Cf (format), which the standard library has no predicate for: every
/// one of Unicode 15.1 (soft hyphen, Arabic and Syriac marks, zero-width and directional marks, BOM,
/// interlinear annotation, Kaithi, Egyptian, shorthand and musical format controls, the tag block).
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
        | '\u{0890}'..='\u{0891}' | '\u{08E2}' | '\u{180E}'
        | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

/// Private-use code points (category Co) and the noncharacters U+FFFE/U+FFFF (category Cn).
fn is_private_or_nonchar(c: char) -> bool {
    matches!(c,
        '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{FFFFD}' | '\u{100000}'..='\u{10FFFD}'
        | '\u{FFFE}' | '\u{FFFF}')
}

/// `[\p{L}\p{M}\p{S}\p{N}\p{P}]+` (RedirectUrlType): letters, marks, symbols, numbers, punctuation.
///
/// Approximation: a character matches unless it is whitespace or a separator (Unicode `White_Space`,
/// which covers category Z), a control (Cc), a format character (Cf, see `is_format`), private use (Co)
/// or a noncharacter. Unassigned code points (Cn) are accepted, as the standard library cannot tell them
/// apart without Unicode tables.
pub(crate) fn redirect_url(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| {
            !c.is_whitespace() && !c.is_control() && !is_format(c) && !is_private_or_nonchar(c)
        })
}

/// `[\p{L}\p{M}\p{S}\p{N}\p{P}\p{Z}]+` (ProviderNameType): as [`redirect_url`] plus separators
/// (spaces), with the same approximation. Controls such as tab and newline stay excluded (they are Cc,
/// not Z).
pub(crate) fn provider_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| !c.is_control() && !is_format(c) && !is_private_or_nonchar(c))
}

/// `[\x21\x23-\x5B\x5D-\x7E]+` (ScopeType): printable ASCII except space, `"` and `\`.
pub(crate) fn scope(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E))
}

/// `^[0-9a-fA-F]+$` (HexStringType).
pub(crate) fn hex_string(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `[\S]+` (PaginationKey): no Java whitespace.
pub(crate) fn non_space(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(is_java_space)
}

/// ArnType:
/// `arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?`.
///
/// The part class excludes `:`, so splitting on `:` recovers the groups exactly: `arn`, partition
/// (non-empty), service (non-empty), region (may be empty), account (digits), then one to three
/// non-empty resource parts.
pub(crate) fn arn(s: &str) -> bool {
    fn part(p: &str) -> bool {
        p.chars()
            .all(|c| is_word(c) || matches!(c, '+' | '=' | '/' | ',' | '.' | '@' | '-'))
    }
    let parts: Vec<&str> = s.split(':').collect();
    if !(6..=8).contains(&parts.len()) || parts[0] != "arn" {
        return false;
    }
    let nonempty = |p: &str| !p.is_empty() && part(p);
    nonempty(parts[1])
        && nonempty(parts[2])
        && part(parts[3])
        && !parts[4].is_empty()
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5..].iter().all(|p| nonempty(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_plus_matches_client_ids_and_secrets() {
        assert!(word_plus("abc_DEF+123"));
        assert!(!word_plus(""));
        assert!(!word_plus("a-b"));
        assert!(!word_plus("é"));
    }

    #[test]
    fn user_pool_id_needs_region_underscore_suffix() {
        assert!(user_pool_id("us-east-1_AbC123"));
        assert!(user_pool_id("a_b_c"));
        assert!(!user_pool_id("us-east-1_"));
        assert!(!user_pool_id("_abc"));
        assert!(!user_pool_id("us-east-1"));
        assert!(!user_pool_id("us-east-1_ab-c"));
        assert!(!user_pool_id("us east_1"));
    }

    #[test]
    fn client_name_class() {
        assert!(client_name(
            "My app, v2 (no)".replace(['(', ')'], "").as_str()
        ));
        assert!(client_name("a+b=c@d.e-f_g\t"));
        assert!(!client_name("a/b"));
        assert!(!client_name(""));
    }

    #[test]
    fn redirect_url_class() {
        assert!(redirect_url("https://example.com/cb?x=1"));
        assert!(redirect_url("myapp://callback/ü"));
        assert!(!redirect_url("https://example.com/a b"));
        assert!(!redirect_url("https://example.com/\u{200B}"));
        assert!(!redirect_url("https://example.com/\n"));
        // Format characters (Cf) outside the common ones: not letters, marks, symbols, numbers or
        // punctuation either.
        for c in [
            '\u{0890}',
            '\u{08E2}',
            '\u{110BD}',
            '\u{13430}',
            '\u{1BCA0}',
            '\u{1D173}',
        ] {
            assert!(!redirect_url(&format!("https://example.com/{c}")), "{c:?}");
        }
        assert!(provider_name("My SAML IdP"));
        assert!(!provider_name("a\tb"));
    }

    #[test]
    fn scope_hex_pagination_and_arn() {
        assert!(scope("aws.cognito.signin.user.admin"));
        assert!(scope("https://api.example.com/read"));
        assert!(!scope("a b"));
        assert!(!scope("a\"b"));
        assert!(!scope("a\\b"));
        assert!(hex_string("0aF9"));
        assert!(!hex_string("0g"));
        assert!(non_space("abc"));
        assert!(!non_space("a c"));
        assert!(arn(
            "arn:aws:mobiletargeting:us-east-1:123456789012:apps/abc"
        ));
        assert!(arn("arn:aws:iam::123456789012:role/my-role"));
        assert!(arn("arn:aws:s:r:1:a:b:c"));
        assert!(!arn("arn:aws:s:r:1:a:b:c:d"));
        assert!(!arn("arn:aws:iam::x:role/r"));
        assert!(!arn("aws:iam::1:role/r"));
        assert!(!arn("arn::iam::1:role/r"));
    }
}
