//! The raw request, its form body and client authentication (R-OAUTH-1, R-SAFE-1).
//!
//! An [`OAuthRequest`] is what any HTTP server has in hand: a method, some headers and the body bytes.
//! It is parsed once, here, into a [`Form`] of the parameters the endpoints read, each unique and
//! non-empty (others are ignored, RFC 6749 §3.2), and into [`ClientCredentials`] that name one client
//! authentication method. Every ambiguity RFC 6749 forbids (a repeated parameter the endpoints read,
//! two authentication methods, a `client_id` in the body that differs from the
//! one in the `Authorization` header) is `invalid_request` before any client is looked up. Bodies are
//! bounded: at most [`MAX_FORM_BYTES`] bytes, checked before parsing, and [`MAX_FORM_PARAMS`]
//! non-empty parameters, counted while parsing.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;

use crate::engine::{ClientId, PresentedSecret};
use crate::secret::SecretString;

use super::render::OAuthError;

/// The largest form body accepted, in bytes: room for a refresh or ID token of the largest size any
/// check accepts (16 KiB) percent-encoded three times over, and the other parameters. A larger body is
/// refused before it is parsed.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// The most parameters a form may carry; the endpoints read at most five.
pub const MAX_FORM_PARAMS: usize = 32;

/// The longest `Authorization` header value decoded: `Basic ` and the base64 of a 128-character client
/// id, a colon and a 64-character secret, all percent-encoded, with room to spare.
const MAX_AUTHORIZATION_LEN: usize = 2048;

/// A header's value, as far as the adapter cares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot<'a> {
    Absent,
    One(&'a [u8]),
    Repeated,
}

impl<'a> Slot<'a> {
    fn add(self, value: &'a [u8]) -> Self {
        match self {
            Slot::Absent => Slot::One(value),
            _ => Slot::Repeated,
        }
    }
}

/// An HTTP request to one of the OAuth 2.0 endpoints, as any server framework has it: the method, the
/// headers and the body bytes. Only `Authorization` and `Content-Type` are kept; other headers are
/// ignored.
///
/// ```
/// use refresh_rotation::oauth::OAuthRequest;
///
/// let body = b"grant_type=refresh_token&refresh_token=abc&client_id=xyz";
/// let request = OAuthRequest::new("POST", body)
///     .header("Content-Type", b"application/x-www-form-urlencoded");
/// assert_eq!(
///     format!("{request:?}"),
///     "OAuthRequest { method: \"POST\", authorization: None, content_type: Some(\"application/x-www-form-urlencoded\"), body: \"[REDACTED; 56 bytes]\" }"
/// );
/// ```
#[derive(Clone, Copy)]
pub struct OAuthRequest<'a> {
    method: &'a str,
    authorization: Slot<'a>,
    content_type: Slot<'a>,
    body: &'a [u8],
}

impl<'a> OAuthRequest<'a> {
    /// A request with this method and body, and no headers yet.
    pub fn new(method: &'a str, body: &'a [u8]) -> Self {
        OAuthRequest {
            method,
            authorization: Slot::Absent,
            content_type: Slot::Absent,
            body,
        }
    }

    /// Adds a header (the name in any case). A header the adapter reads that is given twice makes the
    /// request `invalid_request`.
    pub fn header(mut self, name: &str, value: &'a [u8]) -> Self {
        if name.eq_ignore_ascii_case("authorization") {
            self.authorization = self.authorization.add(value);
        } else if name.eq_ignore_ascii_case("content-type") {
            self.content_type = self.content_type.add(value);
        }
        self
    }

    /// Adds every header of an iterator of `(name, value)` pairs, for example
    /// `parts.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))` with the `http` crate.
    pub fn headers<I>(self, headers: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a [u8])>,
    {
        headers
            .into_iter()
            .fold(self, |req, (name, value)| req.header(name, value))
    }

    /// The method.
    pub fn method(&self) -> &str {
        self.method
    }
}

impl fmt::Debug for OAuthRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The Authorization header holds a client secret and the body holds tokens (R-SAFE-2).
        let authorization = match self.authorization {
            Slot::Absent => None,
            Slot::One(_) | Slot::Repeated => Some("[REDACTED]"),
        };
        let content_type = match self.content_type {
            Slot::Absent => None,
            Slot::One(v) => Some(String::from_utf8_lossy(v)),
            Slot::Repeated => Some(Cow::Borrowed("[repeated]")),
        };
        f.debug_struct("OAuthRequest")
            .field("method", &self.method)
            .field("authorization", &authorization)
            .field("content_type", &content_type)
            .field("body", &format!("[REDACTED; {} bytes]", self.body.len()))
            .finish()
    }
}

/// A form body's parameters that the endpoints read: each at most once, empty ones dropped (RFC 6749
/// §3.1: "parameters sent without a value MUST be treated as if they were omitted"), others ignored
/// (RFC 6749 §3.2).
pub(crate) struct Form<'a> {
    pairs: Vec<(&'static str, Cow<'a, str>)>,
}

impl<'a> Form<'a> {
    /// Parses a `POST` with an `application/x-www-form-urlencoded` body of at most [`MAX_FORM_BYTES`].
    pub(crate) fn parse(req: &OAuthRequest<'a>) -> Result<Self, OAuthError> {
        // Method names are case-sensitive (RFC 9110 §9.1): only `POST` is POST.
        if req.method != "POST" {
            return Err(OAuthError::method_not_allowed());
        }
        match req.content_type {
            Slot::One(v) if is_form_content_type(v) => {}
            Slot::Repeated => {
                return Err(OAuthError::invalid_request(
                    "The Content-Type header is repeated.",
                ))
            }
            _ => {
                return Err(OAuthError::invalid_request(
                    "The body must be application/x-www-form-urlencoded.",
                ))
            }
        }
        if req.body.len() > MAX_FORM_BYTES {
            return Err(OAuthError::invalid_request(format!(
                "The request body is larger than {MAX_FORM_BYTES} bytes."
            )));
        }
        // Only the parameters the endpoints read are kept, and only they must not repeat: others are
        // ignored, as RFC 6749 §3.2 requires, repeated or not (RFC 8707 sends `resource` several
        // times, say), but counted.
        let mut pairs: Vec<(&'static str, Cow<'a, str>)> = Vec::new();
        let mut count = 0usize;
        for (name, value) in form_urlencoded::parse(req.body) {
            if value.is_empty() {
                continue;
            }
            if count == MAX_FORM_PARAMS {
                return Err(OAuthError::invalid_request(format!(
                    "The request has more than {MAX_FORM_PARAMS} parameters."
                )));
            }
            count = count.saturating_add(1);
            let Some(known) = KNOWN.iter().copied().find(|k| *k == name) else {
                continue;
            };
            if pairs.iter().any(|(n, _)| *n == known) {
                return Err(OAuthError::invalid_request(format!(
                    "The parameter {known} is repeated."
                )));
            }
            pairs.push((known, value));
        }
        Ok(Form { pairs })
    }

    /// The parameter's value, if it was sent and is not empty.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_ref())
    }

    /// The parameter's value, or `invalid_request` naming it.
    pub(crate) fn required(&self, name: &'static str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::invalid_request(format!("The parameter {name} is missing.")))
    }
}

/// Every parameter name an endpoint reads.
const KNOWN: &[&str] = &[
    "grant_type",
    "refresh_token",
    "scope",
    "client_id",
    "client_secret",
    "token",
    "token_type_hint",
];

/// `application/x-www-form-urlencoded`, in any case, with or without parameters (`; charset=UTF-8`).
fn is_form_content_type(v: &[u8]) -> bool {
    let media = v.split(|b| *b == b';').next().unwrap_or_default();
    media
        .trim_ascii()
        .eq_ignore_ascii_case(b"application/x-www-form-urlencoded")
}

/// How a client authenticated to an endpoint (R-OAUTH-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientAuthMethod {
    /// `client_secret_basic`: `Authorization: Basic` with the form-urlencoded `client_id:client_secret`
    /// (RFC 6749 §2.3.1).
    ClientSecretBasic,
    /// `client_secret_post`: `client_id` and `client_secret` in the body.
    ClientSecretPost,
    /// `none`: a public client, `client_id` in the body and no secret.
    None,
}

impl ClientAuthMethod {
    /// The method's name in discovery documents: `client_secret_basic`, `client_secret_post`, `none`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::None => "none",
        }
    }
}

/// The client a request authenticates as, and how.
#[derive(Debug, Clone)]
pub(crate) struct ClientCredentials {
    pub(crate) method: ClientAuthMethod,
    pub(crate) client_id: String,
    pub(crate) secret: Option<SecretString>,
}

impl ClientCredentials {
    /// Reads the client authentication of R-OAUTH-1 from the `Authorization` header and the form.
    pub(crate) fn parse(req: &OAuthRequest<'_>, form: &Form<'_>) -> Result<Self, OAuthError> {
        let body_id = form.get("client_id");
        let body_secret = form.get("client_secret");
        let creds = match req.authorization {
            Slot::Repeated => {
                return Err(OAuthError::invalid_request(
                    "The Authorization header is repeated.",
                ))
            }
            Slot::One(header) => {
                let (id, secret) = basic_credentials(header)?;
                if body_secret.is_some() {
                    return Err(OAuthError::invalid_request(
                        "The client authenticated with both the Authorization header and \
                         client_secret in the body; use one method.",
                    ));
                }
                if body_id.is_some_and(|b| b != id) {
                    return Err(OAuthError::invalid_request(
                        "The client_id in the body differs from the one in the Authorization header.",
                    ));
                }
                ClientCredentials {
                    method: ClientAuthMethod::ClientSecretBasic,
                    client_id: id,
                    secret: secret.map(SecretString::new),
                }
            }
            Slot::Absent => {
                let Some(id) = body_id else {
                    return Err(OAuthError::invalid_request(
                        "The parameter client_id is missing.",
                    ));
                };
                ClientCredentials {
                    method: if body_secret.is_some() {
                        ClientAuthMethod::ClientSecretPost
                    } else {
                        ClientAuthMethod::None
                    },
                    client_id: id.to_owned(),
                    secret: body_secret.map(SecretString::new),
                }
            }
        };
        // A client id or secret that could not belong to any client is an authentication failure, not a
        // malformed request (R-OAUTH-3); the engine would call it InvalidParameterException.
        let shape_ok = ClientId::parse(&creds.client_id).is_ok()
            && creds
                .secret
                .as_ref()
                .is_none_or(|s| PresentedSecret::parse(s.expose_secret()).is_ok());
        if !shape_ok {
            return Err(
                OAuthError::invalid_client(CLIENT_AUTHENTICATION_FAILED, creds.method)
                    .naming(&creds.client_id),
            );
        }
        Ok(creds)
    }

    /// The client id, checked when the credentials were parsed.
    pub(crate) fn id(&self) -> ClientId<'_> {
        ClientId::checked(&self.client_id)
    }

    /// The secret, if one was presented, checked when the credentials were parsed.
    pub(crate) fn secret(&self) -> Option<PresentedSecret<'_>> {
        self.secret
            .as_ref()
            .map(|s| PresentedSecret::checked(s.expose_secret()))
    }
}

/// The description of an `invalid_client` for a client id or secret that is refused (R-OAUTH-3): one
/// text for an unknown client, a wrong, missing or malformed secret and a secret sent to a public client.
pub(crate) const CLIENT_AUTHENTICATION_FAILED: &str = "Client authentication failed.";
/// `Basic base64(urlencode(id) ":" urlencode(secret))` (RFC 6749 §2.3.1, RFC 7617). An empty secret
/// means none (a public client that still uses the header). Any other scheme, or a value that does not
/// decode, is `invalid_client` with a `Basic` challenge.
fn basic_credentials(header: &[u8]) -> Result<(String, Option<String>), OAuthError> {
    let fail = || {
        OAuthError::invalid_client(
            "The Authorization header is not valid Basic client credentials.",
            ClientAuthMethod::ClientSecretBasic,
        )
    };
    if header.len() > MAX_AUTHORIZATION_LEN {
        return Err(fail());
    }
    let header = header.trim_ascii();
    let (scheme, rest) = match header.iter().position(|b| *b == b' ') {
        Some(i) => (&header[..i], &header[i + 1..]),
        None => return Err(fail()),
    };
    if !scheme.eq_ignore_ascii_case(b"Basic") {
        return Err(fail());
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim_ascii())
        .map_err(|_| fail())?;
    let colon = decoded.iter().position(|b| *b == b':').ok_or_else(fail)?;
    let id = form_component(&decoded[..colon]).ok_or_else(fail)?;
    // A secret that does not decode is a failed authentication, not an absent secret (R-OAUTH-3).
    let secret = form_component(&decoded[colon + 1..]).ok_or_else(fail)?;
    if id.is_empty() {
        return Err(fail());
    }
    Ok((id, Some(secret).filter(|s| !s.is_empty())))
}

/// One form-urlencoded component (`+` is a space, `%XX` a byte). `&` and `=` cannot appear in a client
/// id or secret, and would split the component, so they are refused.
fn form_component(raw: &[u8]) -> Option<String> {
    if raw.iter().any(|b| matches!(b, b'&' | b'=')) {
        return None;
    }
    if raw.is_empty() {
        return Some(String::new());
    }
    form_urlencoded::parse(raw)
        .next()
        .map(|(name, _)| name.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(body: &[u8]) -> Result<Vec<(String, String)>, OAuthError> {
        let req = OAuthRequest::new("POST", body).header(
            "content-type",
            b"application/x-www-form-urlencoded; charset=UTF-8",
        );
        Form::parse(&req).map(|f| {
            f.pairs
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v.into_owned()))
                .collect()
        })
    }

    #[test]
    fn r_oauth_1_form_rules() {
        assert_eq!(
            form(b"scope=1&token=x+y%2B").unwrap(),
            vec![
                ("scope".into(), "1".into()),
                ("token".into(), "x y+".into())
            ]
        );
        // Empty parameters are omitted, so they do not count as repeats.
        assert_eq!(
            form(b"scope=&scope=2").unwrap(),
            vec![("scope".into(), "2".into())]
        );
        let e = form(b"client_id=a&client_id=b").unwrap_err();
        assert_eq!(e.description(), "The parameter client_id is repeated.");
        // Parameters no endpoint reads are ignored, repeated too (RFC 6749 §3.2; RFC 8707 repeats
        // `resource`), but still counted against the bound.
        assert_eq!(
            form(b"resource=https%3A%2F%2Fa&resource=https%3A%2F%2Fb&x%3Cscript%3E=1&token=t")
                .unwrap(),
            vec![("token".into(), "t".into())]
        );
        let many: String = (0..MAX_FORM_PARAMS).map(|_| "resource=r&").collect();
        assert!(form(format!("{many}token=t").as_bytes()).is_err());
    }

    #[test]
    fn r_safe_1_form_is_bounded() {
        let big = vec![b'a'; MAX_FORM_BYTES + 1];
        assert_eq!(form(&big).unwrap_err().code().as_str(), "invalid_request");
        let many: String = (0..=MAX_FORM_PARAMS).map(|i| format!("p{i}=1&")).collect();
        assert_eq!(
            form(many.as_bytes()).unwrap_err().code().as_str(),
            "invalid_request"
        );
    }

    #[test]
    fn r_oauth_1_basic_credentials_are_form_urlencoded() {
        let enc = base64::engine::general_purpose::STANDARD.encode("my+client:s%2Bcr%3At");
        let (id, secret) = basic_credentials(format!("basic  {enc}").as_bytes()).unwrap();
        assert_eq!(id, "my client");
        assert_eq!(secret.as_deref(), Some("s+cr:t"));
        let enc = base64::engine::general_purpose::STANDARD.encode("public:");
        assert_eq!(
            basic_credentials(format!("Basic {enc}").as_bytes()).unwrap(),
            ("public".into(), None)
        );
        assert!(basic_credentials(b"Bearer abc").is_err());
        assert!(basic_credentials(b"Basic !!!").is_err());
        let no_colon = base64::engine::general_purpose::STANDARD.encode("abc");
        assert!(basic_credentials(format!("Basic {no_colon}").as_bytes()).is_err());
    }

    #[test]
    fn r_safe_2_request_debug_is_redacted() {
        let req = OAuthRequest::new("POST", b"refresh_token=secret-token")
            .header("Authorization", b"Basic c2VjcmV0OnNlY3JldA==");
        assert_eq!(
            format!("{req:?}"),
            "OAuthRequest { method: \"POST\", authorization: Some(\"[REDACTED]\"), content_type: None, body: \"[REDACTED; 26 bytes]\" }"
        );
        let creds = ClientCredentials {
            method: ClientAuthMethod::ClientSecretPost,
            client_id: "client1".into(),
            secret: Some(SecretString::new("s3cr3t-value")),
        };
        assert_eq!(
            format!("{creds:?}"),
            "ClientCredentials { method: ClientSecretPost, client_id: \"client1\", secret: Some(SecretString([REDACTED])) }"
        );
    }
}
