//! Redirect URLs: CallbackURLs and LogoutURLs (at most 100 each, R-CFG-9), each an acceptable redirect
//! URI (R-CFG-9), and a DefaultRedirectURI that is one of the CallbackURLs (R-CFG-10).

use crate::error::{ExceptionKind, Violation};

use super::check::{check_each, check_list_len, check_string, push, shown, At, REDIRECT_URL_TYPE};
use super::input::RawConfig;

/// The URL members after their checks. The lists are the members as given (empty when absent).
pub(super) struct Urls<'a> {
    pub callback_urls: &'a [String],
    pub logout_urls: &'a [String],
}

/// Checks CallbackURLs, LogoutURLs and DefaultRedirectURI, in that order.
pub(super) fn check_urls<'a>(out: &mut Vec<Violation>, raw: &'a RawConfig) -> Urls<'a> {
    let callback_urls = raw.callback_urls.as_deref().unwrap_or_default();
    check_url_list(out, "CallbackURLs", callback_urls);
    let logout_urls = raw.logout_urls.as_deref().unwrap_or_default();
    check_url_list(out, "LogoutURLs", logout_urls);
    if let Some(uri) = &raw.default_redirect_uri {
        if check_string(
            out,
            At::member(2, "DefaultRedirectURI"),
            uri,
            REDIRECT_URL_TYPE,
        ) {
            check_redirect(out, "DefaultRedirectURI", uri);
        }
        if !callback_urls.contains(uri) {
            push(
                out,
                10,
                "DefaultRedirectURI",
                ExceptionKind::InvalidParameter,
                format!(
                    "DefaultRedirectURI '{}' must be one of the CallbackURLs.",
                    shown(uri)
                ),
            );
        }
    }
    Urls {
        callback_urls,
        logout_urls,
    }
}

/// A URL list member (CallbackURLs, LogoutURLs): at most 100 (R-CFG-9), each a RedirectUrlType (R-CFG-2)
/// and an acceptable redirect URI (R-CFG-9).
fn check_url_list(out: &mut Vec<Violation>, field: &str, list: &[String]) {
    check_list_len(out, At::member(9, field), list, 100);
    for uri in check_each(out, field, list, REDIRECT_URL_TYPE) {
        check_redirect(out, field, uri);
    }
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
}
