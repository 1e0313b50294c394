//! The Cognito claim sets of access and ID tokens (R-JWT-2, R-JWT-3), as borrowed, zero-copy views.
//!
//! The issuer fills a claim struct with references to what it already holds (the family record, the
//! user's attributes, the hook's output) and the signer serialises it in one pass. The `Serialize`
//! implementations are written by hand so that the fixed claims (`token_use`, `version`) cannot be set
//! wrongly, optional claims are omitted exactly when Cognito omits them, and no claim name is ever written
//! twice: user attributes and hook claims that collide with a claim the issuer owns are skipped.

use std::collections::BTreeMap;

use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::{Map, Value};

/// Claims the issuer owns: a pre-token-generation hook cannot set or override them (R-REF-11).
///
/// [`IdTokenClaims::extra`], [`AccessTokenClaims::extra`] and [`IdTokenClaims::attributes`] entries with
/// these names are skipped when a token is serialised, as are the other claims each struct writes itself
/// (`cognito:username`, `cognito:groups`, `event_id`, and for access tokens `scope`, `username`,
/// `version`, `device_key`), so a claim never appears twice in a token.
pub const PROTECTED_CLAIMS: [&str; 10] = [
    "iss",
    "sub",
    "token_use",
    "exp",
    "iat",
    "jti",
    "origin_jti",
    "auth_time",
    "client_id",
    "aud",
];

/// Claims an access token writes itself, besides [`PROTECTED_CLAIMS`].
const ACCESS_OWNED: [&str; 6] = [
    "cognito:groups",
    "device_key",
    "event_id",
    "scope",
    "username",
    "version",
];

/// Claims an ID token writes itself, besides [`PROTECTED_CLAIMS`].
const ID_OWNED: [&str; 3] = ["cognito:groups", "cognito:username", "event_id"];

/// Further claims a hook may not set although SPEC R-REF-11 does not list them, because Cognito refuses
/// them too and a wrong value would break every verifier (a future `nbf`) or forge provenance (`amr`,
/// `identities`, any `cognito:` claim).
pub const RESERVED_CLAIMS: [&str; 8] = [
    "nbf",
    "acr",
    "amr",
    "azp",
    "at_hash",
    "nonce",
    "identities",
    "cognito:roles",
];

fn is_protected(name: &str) -> bool {
    PROTECTED_CLAIMS.contains(&name)
        || RESERVED_CLAIMS.contains(&name)
        || name.starts_with("cognito:")
}

/// The claims of an access token, exactly Cognito's (R-JWT-2). Times are epoch seconds.
///
/// Serialises as `sub`, `cognito:groups` (only when `groups` is non-empty), `device_key` (only when set),
/// `iss`, `version` (always `2`), `client_id`, `origin_jti`, `event_id`, `token_use` (always `"access"`),
/// `scope`, `auth_time`, `exp`, `iat`, `jti`, `username`, then the `extra` claims.
#[derive(Debug, Clone, Copy)]
pub struct AccessTokenClaims<'a> {
    /// The user's `sub` (a UUID).
    pub sub: &'a str,
    /// The issuer URL (R-JWT-4).
    pub iss: &'a str,
    /// The app client the token was issued to.
    pub client_id: &'a str,
    /// The family id as a UUID string: what revocation is keyed on (R-SIGN-2, R-REV-2).
    pub origin_jti: &'a str,
    /// The sign-in's event id (UUID).
    pub event_id: &'a str,
    /// Granted scopes, space-separated (`aws.cognito.signin.user.admin` for API sign-ins).
    pub scope: &'a str,
    /// When the user authenticated.
    pub auth_time: i64,
    /// Expiry.
    pub exp: i64,
    /// Issue time.
    pub iat: i64,
    /// This token's unique id (UUID).
    pub jti: &'a str,
    /// The user's username.
    pub username: &'a str,
    /// `cognito:groups`; omitted from the token when empty, as Cognito does.
    pub groups: &'a [String],
    /// `device_key`, when the session is bound to a tracked device.
    pub device_key: Option<&'a str>,
    /// Further claims (from the pre-token-generation hook). Entries named in [`PROTECTED_CLAIMS`] or
    /// written by this struct are skipped; the caller should not put them here.
    pub extra: Option<&'a Map<String, Value>>,
}

impl Serialize for AccessTokenClaims<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("sub", self.sub)?;
        if !self.groups.is_empty() {
            m.serialize_entry("cognito:groups", self.groups)?;
        }
        if let Some(device_key) = self.device_key {
            m.serialize_entry("device_key", device_key)?;
        }
        m.serialize_entry("iss", self.iss)?;
        m.serialize_entry("version", &2)?;
        m.serialize_entry("client_id", self.client_id)?;
        m.serialize_entry("origin_jti", self.origin_jti)?;
        m.serialize_entry("event_id", self.event_id)?;
        m.serialize_entry("token_use", "access")?;
        m.serialize_entry("scope", self.scope)?;
        m.serialize_entry("auth_time", &self.auth_time)?;
        m.serialize_entry("exp", &self.exp)?;
        m.serialize_entry("iat", &self.iat)?;
        m.serialize_entry("jti", self.jti)?;
        m.serialize_entry("username", self.username)?;
        if let Some(extra) = self.extra {
            for (name, value) in extra {
                if !is_protected(name) && !ACCESS_OWNED.contains(&name.as_str()) {
                    m.serialize_entry(name, value)?;
                }
            }
        }
        m.end()
    }
}

/// The claims of an ID token, exactly Cognito's (R-JWT-3). Times are epoch seconds.
///
/// Serialises as `sub`, `cognito:groups` (only when `groups` is non-empty), `iss`, `cognito:username`,
/// `origin_jti`, `aud`, `event_id`, `token_use` (always `"id"`), `auth_time`, `exp`, `iat`, `jti`, then
/// the user's attributes, then the `extra` claims.
#[derive(Debug, Clone, Copy)]
pub struct IdTokenClaims<'a> {
    /// The user's `sub` (a UUID).
    pub sub: &'a str,
    /// The issuer URL (R-JWT-4).
    pub iss: &'a str,
    /// `aud`: the app client id.
    pub aud: &'a str,
    /// `cognito:username`.
    pub username: &'a str,
    /// The family id as a UUID string: what revocation is keyed on (R-SIGN-2, R-REV-2).
    pub origin_jti: &'a str,
    /// The sign-in's event id (UUID).
    pub event_id: &'a str,
    /// When the user authenticated.
    pub auth_time: i64,
    /// Expiry.
    pub exp: i64,
    /// Issue time.
    pub iat: i64,
    /// This token's unique id (UUID).
    pub jti: &'a str,
    /// `cognito:groups`; omitted from the token when empty, as Cognito does.
    pub groups: &'a [String],
    /// The user's attributes (`email`, `email_verified`, `custom:*`, ...), written as JSON strings, except
    /// `email_verified` and `phone_number_verified` whose values `"true"`/`"false"` are written as JSON
    /// booleans, as Cognito does. An attribute also present in `extra` is written from `extra` only;
    /// attributes named in [`PROTECTED_CLAIMS`] (a directory's `sub`, say) or written by this struct are
    /// skipped.
    pub attributes: &'a BTreeMap<String, String>,
    /// Further claims of any JSON type (from the pre-token-generation hook); they override attributes of
    /// the same name. Entries named in [`PROTECTED_CLAIMS`] or written by this struct are skipped; the
    /// caller should not put them here.
    pub extra: Option<&'a Map<String, Value>>,
}

fn id_owned(name: &str) -> bool {
    is_protected(name) || ID_OWNED.contains(&name)
}

impl Serialize for IdTokenClaims<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("sub", self.sub)?;
        if !self.groups.is_empty() {
            m.serialize_entry("cognito:groups", self.groups)?;
        }
        m.serialize_entry("iss", self.iss)?;
        m.serialize_entry("cognito:username", self.username)?;
        m.serialize_entry("origin_jti", self.origin_jti)?;
        m.serialize_entry("aud", self.aud)?;
        m.serialize_entry("event_id", self.event_id)?;
        m.serialize_entry("token_use", "id")?;
        m.serialize_entry("auth_time", &self.auth_time)?;
        m.serialize_entry("exp", &self.exp)?;
        m.serialize_entry("iat", &self.iat)?;
        m.serialize_entry("jti", self.jti)?;
        for (name, value) in self.attributes {
            if id_owned(name) || self.extra.is_some_and(|e| e.contains_key(name)) {
                continue;
            }
            let boolean = matches!(name.as_str(), "email_verified" | "phone_number_verified");
            match value.as_str() {
                "true" if boolean => m.serialize_entry(name, &true)?,
                "false" if boolean => m.serialize_entry(name, &false)?,
                _ => m.serialize_entry(name, value)?,
            }
        }
        if let Some(extra) = self.extra {
            for (name, value) in extra {
                if !id_owned(name) {
                    m.serialize_entry(name, value)?;
                }
            }
        }
        m.end()
    }
}

/// A JSON object written straight into a byte buffer, byte for byte as `serde_json`'s compact
/// serialiser writes the same entries (same escapes, same number format), without serde's per-entry
/// machinery: the issuer's two claim sets per refresh are its largest cost after the signatures.
/// The `Serialize` impls above stay the definition; a unit test holds the two writers to the same bytes.
struct JsonObject<'b> {
    out: &'b mut Vec<u8>,
    empty: bool,
}

impl<'b> JsonObject<'b> {
    fn new(out: &'b mut Vec<u8>) -> Self {
        out.push(b'{');
        JsonObject { out, empty: true }
    }

    /// An entry's name as it comes: attribute and hook claim names go through the escaper.
    fn key(&mut self, name: &str) {
        self.comma();
        write_json_str(self.out, name);
        self.out.push(b':');
    }

    /// A claim name the code writes itself: plain ASCII that JSON never escapes, copied as it is.
    fn fixed(&mut self, name: &'static str) {
        debug_assert!(name.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\'));
        self.comma();
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn comma(&mut self) {
        if !std::mem::replace(&mut self.empty, false) {
            self.out.push(b',');
        }
    }

    fn str(&mut self, name: &'static str, value: &str) {
        self.fixed(name);
        write_json_str(self.out, value);
    }

    fn int(&mut self, name: &'static str, value: i64) {
        self.fixed(name);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
    }

    fn any_bool(&mut self, name: &str, value: bool) {
        self.key(name);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    fn strs(&mut self, name: &'static str, values: &[String]) {
        self.fixed(name);
        self.out.push(b'[');
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.out.push(b',');
            }
            write_json_str(self.out, v);
        }
        self.out.push(b']');
    }

    fn any_str(&mut self, name: &str, value: &str) {
        self.key(name);
        write_json_str(self.out, value);
    }

    fn any_value(&mut self, name: &str, value: &Value) -> Result<(), serde_json::Error> {
        self.key(name);
        serde_json::to_writer(&mut *self.out, value)
    }

    fn end(self) {
        self.out.push(b'}');
    }
}

/// A JSON string literal with `serde_json`'s escapes: `"` and `\` backslashed, the control characters
/// with a short form as `\b \t \n \f \r`, the other ones below 0x20 as `\u00xx`; all else as is.
fn write_json_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Claim values almost never need an escape: one branch-free pass over the whole value (which the
    // compiler vectorises) settles it, and a clean value is copied in one piece.
    let dirty = bytes.iter().fold(false, |acc, &b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    out.reserve(bytes.len().saturating_add(2));
    out.push(b'"');
    if dirty {
        write_escaped(out, bytes);
    } else {
        out.extend_from_slice(bytes);
    }
    out.push(b'"');
}

/// The body of a JSON string literal that needs at least one escape (see [`write_json_str`]).
fn write_escaped(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 0x0f)],
            ]),
        }
    }
    out.extend_from_slice(&bytes[run..]);
}

impl AccessTokenClaims<'_> {
    /// Appends exactly what `serde_json::to_writer(out, self)` would write.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        let mut m = JsonObject::new(out);
        m.str("sub", self.sub);
        if !self.groups.is_empty() {
            m.strs("cognito:groups", self.groups);
        }
        if let Some(device_key) = self.device_key {
            m.str("device_key", device_key);
        }
        m.str("iss", self.iss);
        m.int("version", 2);
        m.str("client_id", self.client_id);
        m.str("origin_jti", self.origin_jti);
        m.str("event_id", self.event_id);
        m.str("token_use", "access");
        m.str("scope", self.scope);
        m.int("auth_time", self.auth_time);
        m.int("exp", self.exp);
        m.int("iat", self.iat);
        m.str("jti", self.jti);
        m.str("username", self.username);
        if let Some(extra) = self.extra {
            for (name, value) in extra {
                if !is_protected(name) && !ACCESS_OWNED.contains(&name.as_str()) {
                    m.any_value(name, value)?;
                }
            }
        }
        m.end();
        Ok(())
    }
}

impl IdTokenClaims<'_> {
    /// Appends exactly what `serde_json::to_writer(out, self)` would write.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        let mut m = JsonObject::new(out);
        m.str("sub", self.sub);
        if !self.groups.is_empty() {
            m.strs("cognito:groups", self.groups);
        }
        m.str("iss", self.iss);
        m.str("cognito:username", self.username);
        m.str("origin_jti", self.origin_jti);
        m.str("aud", self.aud);
        m.str("event_id", self.event_id);
        m.str("token_use", "id");
        m.int("auth_time", self.auth_time);
        m.int("exp", self.exp);
        m.int("iat", self.iat);
        m.str("jti", self.jti);
        for (name, value) in self.attributes {
            if id_owned(name) || self.extra.is_some_and(|e| e.contains_key(name)) {
                continue;
            }
            let boolean = matches!(name.as_str(), "email_verified" | "phone_number_verified");
            match value.as_str() {
                "true" if boolean => m.any_bool(name, true),
                "false" if boolean => m.any_bool(name, false),
                _ => m.any_str(name, value),
            }
        }
        if let Some(extra) = self.extra {
            for (name, value) in extra {
                if !id_owned(name) {
                    m.any_value(name, value)?;
                }
            }
        }
        m.end();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written writer and the `Serialize` impl must give the same bytes.
    fn same_bytes_as_serde_json(access: &AccessTokenClaims<'_>, id: &IdTokenClaims<'_>) {
        let mut fast = Vec::new();
        access.write_json(&mut fast).unwrap();
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            serde_json::to_string(access).unwrap()
        );
        let mut fast = Vec::new();
        id.write_json(&mut fast).unwrap();
        assert_eq!(
            String::from_utf8(fast).unwrap(),
            serde_json::to_string(id).unwrap()
        );
    }

    #[test]
    fn write_json_matches_serde_json_byte_for_byte() {
        let tricky = "q\"b\\s/\u{7f}\u{0}\u{1f}\u{8}\t\n\u{c}\r é 日本 🦀 </script>";
        let attrs: BTreeMap<String, String> = [
            ("email", "a@example.com"),
            ("email_verified", "true"),
            ("phone_number_verified", "no"),
            ("custom:x", tricky),
            (tricky, "v"),
            ("sub", "directory-sub"),
            ("locale", "fr"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut extra = Map::new();
        extra.insert("locale".into(), Value::from("de"));
        extra.insert(
            "n".into(),
            serde_json::json!([1, -2.5, null, {"k": tricky}]),
        );
        extra.insert("aud".into(), Value::from("evil"));
        let groups = ["admins".to_owned(), tricky.to_owned()];
        for (groups, extra, device, times) in [
            (&groups[..], Some(&extra), Some(tricky), (i64::MIN, -1, 0)),
            (&[][..], None, None, (1_700_000_000, i64::MAX, 9)),
        ] {
            let access = AccessTokenClaims {
                sub: tricky,
                iss: "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_x",
                client_id: "c",
                origin_jti: "o",
                event_id: "",
                scope: "openid profile",
                auth_time: times.0,
                exp: times.1,
                iat: times.2,
                jti: "j",
                username: tricky,
                groups,
                device_key: device,
                extra,
            };
            let id = IdTokenClaims {
                sub: "s",
                iss: "i",
                aud: tricky,
                username: "u",
                origin_jti: "o",
                event_id: "e",
                auth_time: times.0,
                exp: times.1,
                iat: times.2,
                jti: "j",
                groups,
                attributes: &attrs,
                extra,
            };
            same_bytes_as_serde_json(&access, &id);
        }
        let empty = BTreeMap::new();
        let id = IdTokenClaims {
            sub: "",
            iss: "",
            aud: "",
            username: "",
            origin_jti: "",
            event_id: "",
            auth_time: 0,
            exp: 0,
            iat: 0,
            jti: "",
            groups: &[],
            attributes: &empty,
            extra: None,
        };
        let mut fast = Vec::new();
        id.write_json(&mut fast).unwrap();
        assert_eq!(fast, serde_json::to_vec(&id).unwrap());
    }

    proptest::proptest! {
        /// Any text in any string claim, claim name or group: the hand-written writer's bytes are
        /// `serde_json`'s (escapes at every position, multi-byte characters, empty values).
        #[test]
        fn write_json_matches_serde_json_on_arbitrary_text(
            text in proptest::collection::vec("(\\PC|[\u{0}-\u{1f}\"\\\\\u{7f}]){0,40}", 6),
        ) {
            let attrs: BTreeMap<String, String> =
                [(text[0].clone(), text[1].clone()), ("email".to_owned(), text[2].clone())]
                    .into_iter()
                    .collect();
            let groups = [text[3].clone(), text[4].clone()];
            let access = AccessTokenClaims {
                sub: &text[0],
                iss: &text[1],
                client_id: &text[2],
                origin_jti: &text[3],
                event_id: &text[4],
                scope: &text[5],
                auth_time: 1,
                exp: 2,
                iat: 3,
                jti: &text[5],
                username: &text[4],
                groups: &groups,
                device_key: Some(&text[2]),
                extra: None,
            };
            let id = IdTokenClaims {
                sub: &text[5],
                iss: &text[4],
                aud: &text[3],
                username: &text[2],
                origin_jti: &text[1],
                event_id: &text[0],
                auth_time: 1,
                exp: 2,
                iat: 3,
                jti: &text[0],
                groups: &groups,
                attributes: &attrs,
                extra: None,
            };
            let mut fast = Vec::new();
            access.write_json(&mut fast).unwrap();
            proptest::prop_assert_eq!(&fast, &serde_json::to_vec(&access).unwrap());
            fast.clear();
            id.write_json(&mut fast).unwrap();
            proptest::prop_assert_eq!(&fast, &serde_json::to_vec(&id).unwrap());
        }
    }

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(String::as_str).collect()
    }

    #[test]
    fn r_jwt_2_access_claims_skip_owned_names_in_extra() {
        let mut extra = Map::new();
        for n in PROTECTED_CLAIMS.iter().chain(ACCESS_OWNED.iter()) {
            extra.insert((*n).to_owned(), Value::from("evil"));
        }
        extra.insert("tenant".into(), Value::from(7));
        let c = AccessTokenClaims {
            sub: "s",
            iss: "i",
            client_id: "c",
            origin_jti: "o",
            event_id: "e",
            scope: "openid",
            auth_time: 1,
            exp: 3,
            iat: 2,
            jti: "j",
            username: "u",
            groups: &[],
            device_key: None,
            extra: Some(&extra),
        };
        let v = serde_json::to_value(c).unwrap();
        assert!(!v.to_string().contains("evil"), "{v}");
        assert_eq!(v["tenant"], 7);
        assert_eq!(v["version"], 2);
        assert_eq!(v["token_use"], "access");
        // serde_json::Value sorts keys; the text keeps our order and has no duplicate.
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(text.matches("\"sub\"").count(), 1);
        assert_eq!(keys(&v).len(), 14, "13 own claims and tenant");
    }

    #[test]
    fn r_jwt_3_id_attributes_are_strings_verified_flags_booleans_and_extra_wins() {
        let attrs: BTreeMap<String, String> = [
            ("email", "a@example.com"),
            ("email_verified", "true"),
            ("phone_number_verified", "false"),
            ("custom:tier", "3"),
            ("sub", "directory-sub"),
            ("cognito:username", "other"),
            ("locale", "fr"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let mut extra = Map::new();
        extra.insert("locale".into(), Value::from("de"));
        extra.insert("aud".into(), Value::from("evil"));
        let groups = vec!["admins".to_owned()];
        let c = IdTokenClaims {
            sub: "s",
            iss: "i",
            aud: "c",
            username: "u",
            origin_jti: "o",
            event_id: "e",
            auth_time: 1,
            exp: 3,
            iat: 2,
            jti: "j",
            groups: &groups,
            attributes: &attrs,
            extra: Some(&extra),
        };
        let text = serde_json::to_string(&c).unwrap();
        assert_eq!(text.matches("\"locale\"").count(), 1, "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["custom:tier"], "3");
        assert_eq!(v["email_verified"], true);
        assert_eq!(v["phone_number_verified"], false);
        assert_eq!(v["sub"], "s");
        assert_eq!(v["cognito:username"], "u");
        assert_eq!(v["aud"], "c");
        assert_eq!(v["locale"], "de");
        assert_eq!(v["cognito:groups"], serde_json::json!(["admins"]));
        assert!(text.starts_with(r#"{"sub":"s","cognito:groups":["admins"],"iss":"i""#));
    }
}
