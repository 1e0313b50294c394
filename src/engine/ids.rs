//! The identifiers and credentials a token request names, each checked once, where the host turns its
//! input into a request (R-REF-1, R-SAFE-1).
//!
//! A host parses what arrived (`ClientId::parse(&body.client_id)?`) and builds the request from the
//! parsed values; the engine then knows every member has its model's shape and does not check it again.
//! The types borrow, as the requests do, and cost nothing to copy. A parse that fails answers
//! `InvalidParameterException` with a message that names the member, never its value.
//!
//! A client secret, a SECRET_HASH and a device key are credentials: their `Debug` is redacted
//! (R-SAFE-2), they implement no `Display`, and their text is reached through `expose_secret`.

use std::fmt;

use super::checks;
use crate::Error;

/// An app client id: 1 to 128 characters of `[\w+]` (ClientIdType).
///
/// ```
/// use refresh_rotation::ClientId;
///
/// let id = ClientId::parse("6rm3n6h2example0client0id42")?;
/// assert_eq!(id.as_str(), "6rm3n6h2example0client0id42");
/// let err = ClientId::parse("not an id").unwrap_err();
/// assert_eq!(err.exception_name(), "InvalidParameterException");
/// # Ok::<(), refresh_rotation::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientId<'a>(&'a str);

impl<'a> ClientId<'a> {
    /// Checks `id` against ClientIdType: `InvalidParameterException` if it is empty, longer than 128
    /// characters or outside `[\w+]+`.
    pub fn parse(id: &'a str) -> Result<Self, Error> {
        checks::check_client_id(id)?;
        Ok(ClientId(id))
    }

    /// `id`, which a [`parse`](Self::parse) already accepted: for an adapter that checked it when it
    /// parsed its input and keeps the text.
    pub(crate) fn checked(id: &'a str) -> Self {
        debug_assert!(checks::check_client_id(id).is_ok());
        ClientId(id)
    }

    /// The id's text.
    pub fn as_str(self) -> &'a str {
        self.0
    }
}

impl<'a> TryFrom<&'a str> for ClientId<'a> {
    type Error = Error;

    fn try_from(id: &'a str) -> Result<Self, Error> {
        ClientId::parse(id)
    }
}

impl PartialEq<str> for ClientId<'_> {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<String> for ClientId<'_> {
    fn eq(&self, other: &String) -> bool {
        self.0 == other.as_str()
    }
}

impl PartialEq<&str> for ClientId<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl fmt::Debug for ClientId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ClientId").field(&self.0).finish()
    }
}

impl fmt::Display for ClientId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// Defines a borrowed, checked credential type with a redacted `Debug` and no `Display`.
macro_rules! credential {
    ($(#[$doc:meta])* $name:ident, $check:path, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub struct $name<'a>(&'a str);

        impl<'a> $name<'a> {
            #[doc = concat!("Checks ", $what, ": `InvalidParameterException` if it does not have the \
                model's shape; the message names the member, never the value.")]
            pub fn parse(value: &'a str) -> Result<Self, Error> {
                $check(value)?;
                Ok($name(value))
            }

            /// `value`, which a [`parse`](Self::parse) already accepted: for an adapter that checked it
            /// when it parsed its input and keeps the text.
            #[allow(dead_code)] // not every adapter keeps every credential
            pub(crate) fn checked(value: &'a str) -> Self {
                debug_assert!($check(value).is_ok());
                $name(value)
            }

            /// The credential's text, for the one comparison that needs it.
            pub fn expose_secret(self) -> &'a str {
                self.0
            }
        }

        impl<'a> TryFrom<&'a str> for $name<'a> {
            type Error = Error;

            fn try_from(value: &'a str) -> Result<Self, Error> {
                $name::parse(value)
            }
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([REDACTED])"))
            }
        }
    };
}

credential!(
    /// A client secret as a request presents it: 24 to 64 characters of `[\w+]` (ClientSecretType).
    /// The client's own secret, as the registry keeps it, is [`ClientSecret`](crate::ClientSecret).
    PresentedSecret,
    checks::check_client_secret,
    "a presented client secret against ClientSecretType"
);

credential!(
    /// A `SECRET_HASH`: Base64 of an HMAC-SHA-256 (44 characters), refused above 128 characters or
    /// outside the Base64 alphabet before anything decodes it.
    SecretHash,
    checks::check_secret_hash,
    "a SECRET_HASH's length and alphabet"
);

impl SecretHash<'static> {
    /// A SECRET_HASH that matches no secret (empty, it decodes to no MAC): what an adapter passes on for
    /// a value without the shape of one where Cognito answers it as a wrong hash, since SECRET_HASH sits
    /// in `AuthParameters`, whose values the model does not constrain (R-ROT-8, R-REF-3).
    pub(crate) const UNMATCHABLE: SecretHash<'static> = SecretHash("");
}

credential!(
    /// A device key: 1 to 55 characters matching `[\w-]+_[0-9a-f-]+` (DeviceKeyType).
    DeviceKey,
    checks::check_device_key,
    "a device key against DeviceKeyType"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_ref_1_each_member_is_checked_when_parsed() {
        assert!(ClientId::parse("abc_123+x").is_ok());
        for bad in ["", "a b", "a-b", &"a".repeat(129)] {
            let e = ClientId::parse(bad).unwrap_err();
            assert_eq!(e.exception_name(), "InvalidParameterException", "{bad:?}");
        }
        assert!(PresentedSecret::parse(&"s".repeat(24)).is_ok());
        assert!(PresentedSecret::parse(&"s".repeat(23)).is_err());
        assert!(PresentedSecret::parse(&"s".repeat(65)).is_err());
        assert!(SecretHash::parse("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").is_ok());
        assert!(SecretHash::parse("not base64!").is_err());
        assert!(DeviceKey::parse("us-east-1_0a1b-c").is_ok());
        assert!(DeviceKey::parse("no-underscore").is_err());
    }

    #[test]
    fn r_safe_2_credentials_never_show_their_value() {
        let secret = "sssssssssssssssssssssssss";
        let p = PresentedSecret::parse(secret).unwrap();
        let h = SecretHash::parse("q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=").unwrap();
        let d = DeviceKey::parse("us-east-1_0a1b").unwrap();
        assert_eq!(format!("{p:?}"), "PresentedSecret([REDACTED])");
        assert_eq!(format!("{h:?}"), "SecretHash([REDACTED])");
        assert_eq!(format!("{d:?}"), "DeviceKey([REDACTED])");
        let e = PresentedSecret::parse("short!").unwrap_err();
        assert!(!format!("{e:?} {e}").contains("short!"));
        // A client id is not a credential: it shows.
        let c = ClientId::parse("client1").unwrap();
        assert_eq!(format!("{c:?} {c}"), "ClientId(\"client1\") client1");
    }
}
