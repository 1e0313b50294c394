//! Wire types of the token operations: GetTokensFromRefreshToken, RevokeToken, InitiateAuth and
//! AdminInitiateAuth, and the AuthenticationResult they return (R-WIRE-1).

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::secret::constant_time_eq;

/// A string member the model marks `sensitive`: deserialised like a string, never printed by `Debug`.
///
/// It implements `Serialize` on purpose (a client writes request bodies with it) and no `Display`;
/// equality is constant-time.
#[derive(Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct SensitiveString(String);

impl PartialEq for SensitiveString {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl Eq for SensitiveString {}

impl SensitiveString {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        SensitiveString(value.into())
    }
    /// The value.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SensitiveString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SensitiveString([REDACTED])")
    }
}

/// `GetTokensFromRefreshTokenRequest`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct GetTokensFromRefreshTokenRequest {
    /// `RefreshToken` (required).
    pub refresh_token: Option<SensitiveString>,
    /// `ClientId` (required).
    pub client_id: Option<String>,
    /// `ClientSecret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SensitiveString>,
    /// `DeviceKey`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
    /// `ClientMetadata`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::json::unique_string_map"
    )]
    pub client_metadata: Option<HashMap<String, String>>,
}

/// `NewDeviceMetadataType`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct NewDeviceMetadata {
    /// `DeviceKey`.
    pub device_key: String,
    /// `DeviceGroupKey`.
    pub device_group_key: String,
}

/// `AuthenticationResultType`.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct AuthenticationResult {
    /// `AccessToken`.
    pub access_token: String,
    /// `ExpiresIn`: the access token's lifetime in seconds.
    pub expires_in: u64,
    /// `TokenType`: always `Bearer`.
    pub token_type: String,
    /// `RefreshToken`: present after sign-in and after a rotating refresh.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// `IdToken`.
    pub id_token: String,
    /// `NewDeviceMetadata`, when a device was issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_device_metadata: Option<NewDeviceMetadata>,
}

impl From<crate::engine::TokenSet> for AuthenticationResult {
    /// The engine's answer in Cognito's shape (R-SIGN-3, R-REF-12).
    fn from(t: crate::engine::TokenSet) -> Self {
        AuthenticationResult {
            access_token: t.access_token,
            expires_in: t.expires_in,
            token_type: crate::engine::TokenSet::TOKEN_TYPE.to_owned(),
            refresh_token: t.refresh_token.map(crate::RefreshToken::into_secret),
            id_token: t.id_token,
            new_device_metadata: t.new_device.map(|d| NewDeviceMetadata {
                device_key: d.device_key,
                device_group_key: d.device_group_key,
            }),
        }
    }
}

impl fmt::Debug for AuthenticationResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthenticationResult")
            .field("access_token", &"[REDACTED]")
            .field("expires_in", &self.expires_in)
            .field("token_type", &self.token_type)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("id_token", &"[REDACTED]")
            .field("new_device_metadata", &self.new_device_metadata)
            .finish()
    }
}

/// `GetTokensFromRefreshTokenResponse`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct GetTokensFromRefreshTokenResponse {
    /// `AuthenticationResult`.
    pub authentication_result: AuthenticationResult,
}

/// `RevokeTokenRequest`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct RevokeTokenRequest {
    /// `Token` (required).
    pub token: Option<SensitiveString>,
    /// `ClientId` (required).
    pub client_id: Option<String>,
    /// `ClientSecret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SensitiveString>,
    /// `RevokeAssociatedSessions` (`NONE` | `LINKED`); accepted and validated, revocation always covers
    /// the whole family (R-REV-2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoke_associated_sessions: Option<String>,
}

/// `RevokeTokenResponse`: an empty object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeTokenResponse {}

/// `InitiateAuthRequest`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct InitiateAuthRequest {
    /// `AuthFlow` (required).
    pub auth_flow: Option<String>,
    /// `AuthParameters`: `REFRESH_TOKEN`, `SECRET_HASH`, `DEVICE_KEY`, `USERNAME`, `PASSWORD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_parameters: Option<AuthParameters>,
    /// `ClientMetadata`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::json::unique_string_map"
    )]
    pub client_metadata: Option<HashMap<String, String>>,
    /// `ClientId` (required).
    pub client_id: Option<String>,
    /// `AnalyticsMetadata`: accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics_metadata: Option<AnalyticsMetadata>,
    /// `UserContextData`: accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_context_data: Option<UserContextData>,
    /// `Session`: accepted and ignored (no challenges are issued).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SensitiveString>,
}

/// `AdminInitiateAuthRequest`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct AdminInitiateAuthRequest {
    /// `UserPoolId` (required).
    pub user_pool_id: Option<String>,
    /// `ClientId` (required).
    pub client_id: Option<String>,
    /// `AuthFlow` (required).
    pub auth_flow: Option<String>,
    /// `AuthParameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_parameters: Option<AuthParameters>,
    /// `ClientMetadata`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "super::json::unique_string_map"
    )]
    pub client_metadata: Option<HashMap<String, String>>,
    /// `AnalyticsMetadata`: accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics_metadata: Option<AnalyticsMetadata>,
    /// `ContextData`: accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_data: Option<ContextData>,
    /// `Session`: accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SensitiveString>,
}

/// `AnalyticsMetadataType`, as the model has it (its one member, no other): accepted and ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct AnalyticsMetadata {
    /// `AnalyticsEndpointId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub analytics_endpoint_id: Option<String>,
}

/// `UserContextDataType` (sensitive in the model), as the model has it: accepted and ignored. `Debug`
/// shows neither member.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct UserContextData {
    /// `IpAddress`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
    /// `EncodedData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded_data: Option<String>,
}

impl fmt::Debug for UserContextData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("UserContextData([REDACTED])")
    }
}

/// `ContextDataType`, as the model has it (`IpAddress`, `ServerName`, `ServerPath` and `HttpHeaders`
/// required): accepted and ignored. `Debug` shows neither the headers' values (the end user's
/// `Authorization` or `Cookie`, say) nor `EncodedData` (R-SAFE-2).
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct ContextData {
    /// `IpAddress`.
    pub ip_address: String,
    /// `ServerName`.
    pub server_name: String,
    /// `ServerPath`.
    pub server_path: String,
    /// `HttpHeaders`.
    pub http_headers: Vec<HttpHeader>,
    /// `EncodedData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded_data: Option<String>,
}

impl fmt::Debug for ContextData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextData")
            .field("ip_address", &self.ip_address)
            .field("server_name", &self.server_name)
            .field("server_path", &self.server_path)
            .field("http_headers", &self.http_headers)
            .field(
                "encoded_data",
                &self.encoded_data.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// `HttpHeader` of a [`ContextData`] (its members are camel-case in the model). `Debug` shows the
/// name, never the value.
#[derive(Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HttpHeader {
    /// `headerName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_name: Option<String>,
    /// `headerValue`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_value: Option<String>,
}

impl fmt::Debug for HttpHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpHeader")
            .field("header_name", &self.header_name)
            .field(
                "header_value",
                &self.header_value.as_ref().map(|_| "[REDACTED]"),
            )
            .finish()
    }
}

/// `AuthParametersType`: a sensitive string map. `Debug` shows the keys only; equality compares the
/// values in constant time; `Serialize` is there on purpose (request bodies), `Display` is not.
#[derive(Clone, Default, Serialize)]
#[serde(transparent)]
pub struct AuthParameters(pub HashMap<String, String>);

impl<'de> Deserialize<'de> for AuthParameters {
    /// A key that appears twice is refused (see `UniqueStringMap`).
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        super::json::UniqueStringMap::deserialize(d).map(|m| AuthParameters(m.0))
    }
}

impl PartialEq for AuthParameters {
    fn eq(&self, other: &Self) -> bool {
        // Every value is compared, whatever the outcome of the others, so the time does not tell which.
        self.0.len() == other.0.len()
            && self.0.iter().fold(true, |equal, (k, v)| {
                let same = other
                    .0
                    .get(k)
                    .is_some_and(|w| constant_time_eq(v.as_bytes(), w.as_bytes()));
                equal & same
            })
    }
}

impl Eq for AuthParameters {}

impl AuthParameters {
    /// The value of one parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl fmt::Debug for AuthParameters {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&str> = self.0.keys().map(String::as_str).collect();
        keys.sort_unstable();
        write!(f, "AuthParameters({keys:?} [values REDACTED])")
    }
}

/// `InitiateAuthResponse` / `AdminInitiateAuthResponse` (no challenges are issued by this crate).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub struct InitiateAuthResponse {
    /// `ChallengeParameters`: always an empty map, as Cognito sends when no challenge follows.
    #[serde(default)]
    pub challenge_parameters: HashMap<String, String>,
    /// `AuthenticationResult`.
    pub authentication_result: AuthenticationResult,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_safe_2_wire_debug_redacts_tokens_and_secrets() {
        let req: GetTokensFromRefreshTokenRequest = serde_json::from_str(
            r#"{"RefreshToken":"tok-secret","ClientId":"c1","ClientSecret":"sec-secret"}"#,
        )
        .unwrap();
        let dbg = format!("{req:?}");
        assert!(
            !dbg.contains("tok-secret") && !dbg.contains("sec-secret"),
            "{dbg}"
        );
        let p = AuthParameters(HashMap::from([("PASSWORD".into(), "hunter2".into())]));
        assert!(!format!("{p:?}").contains("hunter2"));
        let r = AuthenticationResult {
            access_token: "aaa.bbb.ccc".into(),
            expires_in: 3600,
            token_type: "Bearer".into(),
            refresh_token: Some("rrr".into()),
            id_token: "iii.jjj.kkk".into(),
            new_device_metadata: None,
        };
        let dbg = format!("{r:?}");
        assert!(!dbg.contains("aaa.") && !dbg.contains("rrr") && !dbg.contains("iii."));
    }

    #[test]
    fn r_cfg_16_unknown_members_are_rejected() {
        let e = serde_json::from_str::<GetTokensFromRefreshTokenRequest>(
            r#"{"RefreshToken":"t","ClientId":"c","RefreshTokn":"x"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("RefreshTokn"), "{e}");
    }

    #[test]
    fn r_wire_1_authentication_result_uses_model_names() {
        let r = AuthenticationResult {
            access_token: "a".into(),
            expires_in: 300,
            token_type: "Bearer".into(),
            refresh_token: None,
            id_token: "i".into(),
            new_device_metadata: Some(NewDeviceMetadata {
                device_key: "us-east-1_x".into(),
                device_group_key: "-g".into(),
            }),
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"AccessToken":"a","ExpiresIn":300,"TokenType":"Bearer","IdToken":"i","NewDeviceMetadata":{"DeviceKey":"us-east-1_x","DeviceGroupKey":"-g"}}"#
        );
    }
}
