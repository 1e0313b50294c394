//! InitiateAuth and AdminInitiateAuth: the request parsed into an [`AuthCall`], and the one issuer method
//! that answers it, [`TokenIssuer::initiate_auth`].
//!
//! Two kinds of flow are served. The password flows (`USER_PASSWORD_AUTH` on InitiateAuth,
//! `ADMIN_USER_PASSWORD_AUTH` on AdminInitiateAuth) ask the host's [`PasswordVerifier`] whether the
//! password is right and then sign the user in (SPEC 4); the crate never sees how passwords are stored.
//! The refresh flows (`REFRESH_TOKEN_AUTH`, `REFRESH_TOKEN`) are the legacy path of R-ROT-8. Flows that
//! need challenges (SRP, custom auth, passwordless) are refused as unsupported.

use std::collections::HashMap;

use crate::config::{ExplicitAuthFlow, PreventUserExistenceErrors};
use crate::driver::telemetry::record_refusal;
use crate::engine::{
    checks, ClientId, DeviceKey, LegacyRefreshRequest, Operation, SecretHash, SignInRequest,
};
use crate::error::Error;
use crate::future::BoxFuture;
use crate::secret::{RefreshToken, SecretString};
use crate::wire::ops::{required, user_pool_id};
use crate::wire::password::{AsyncPasswordVerifier, PasswordCheck, PasswordVerifier};
use crate::wire::{
    AdminInitiateAuthRequest, AnalyticsMetadata, AuthParameters, InitiateAuthRequest,
    InitiateAuthResponse, SensitiveString,
};
use crate::{AsyncTokenIssuer, TokenIssuer};

/// The AuthFlow values of the model (AuthFlowType), for the enum check of R-CFG-2.
const AUTH_FLOW_VALUES: [&str; 8] = [
    "USER_SRP_AUTH",
    "REFRESH_TOKEN_AUTH",
    "REFRESH_TOKEN",
    "CUSTOM_AUTH",
    "ADMIN_NO_SRP_AUTH",
    "USER_PASSWORD_AUTH",
    "ADMIN_USER_PASSWORD_AUTH",
    "USER_AUTH",
];

/// The longest USERNAME accepted (UsernameType's max).
const MAX_USERNAME_LEN: usize = 128;
/// The longest PASSWORD accepted (PasswordType's max).
const MAX_PASSWORD_LEN: usize = 256;

/// Which InitiateAuth-style operation a call came from: the flows each accepts differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    InitiateAuth,
    AdminInitiateAuth,
}

/// The flow's AuthParameters, parsed. Every secret member is in a redacting type, so the derived
/// `Debug` shows the username and nothing secret (R-SAFE-2).
#[derive(Debug)]
enum Flow {
    /// `USER_PASSWORD_AUTH` (InitiateAuth) or `ADMIN_USER_PASSWORD_AUTH` / `ADMIN_NO_SRP_AUTH`
    /// (AdminInitiateAuth).
    Password {
        username: String,
        password: SecretString,
        secret_hash: Option<SecretString>,
    },
    /// `REFRESH_TOKEN_AUTH` or `REFRESH_TOKEN` (R-ROT-8).
    Refresh {
        token: RefreshToken,
        secret_hash: Option<SecretString>,
        device_key: Option<SecretString>,
    },
}

/// An InitiateAuth or AdminInitiateAuth request that has passed its shape checks.
///
/// Build with [`AuthCall::from_initiate_auth`] or [`AuthCall::from_admin_initiate_auth`]; route by
/// [`client_id`](Self::client_id) (and [`user_pool_id`](Self::user_pool_id) for the admin operation);
/// answer with [`TokenIssuer::initiate_auth`]. `Debug` never shows the password, token, SECRET_HASH or
/// device key: they are held in redacting types, so the derived `Debug` prints them as `[REDACTED]`.
#[derive(Debug)]
pub struct AuthCall {
    api: Api,
    user_pool_id: Option<String>,
    client_id: String,
    flow: Flow,
    client_metadata: Option<HashMap<String, String>>,
}

fn invalid(message: String) -> Error {
    Error::InvalidParameter { message }
}

fn param<'a>(params: Option<&'a AuthParameters>, name: &str) -> Option<&'a str> {
    params.and_then(|p| p.get(name))
}

/// The model's constraints (R-CFG-2) on the members of an InitiateAuth or AdminInitiateAuth request that
/// the flow's own checks do not look at, before those checks: StringType (`max=131072`) on
/// AuthParameters' keys and values, AnalyticsMetadata and the context members (the crate ignores most
/// of them, but not their bounds), then SessionType.
fn check_model_members<'a>(
    params: Option<&AuthParameters>,
    analytics: Option<&'a AnalyticsMetadata>,
    context: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
    session: Option<&SensitiveString>,
) -> Result<(), Error> {
    if let Some(params) = params {
        checks::check_string_map("AuthParameters", &params.0)?;
    }
    let endpoint = analytics.and_then(|a| a.analytics_endpoint_id.as_deref());
    let members = [("AnalyticsMetadata.AnalyticsEndpointId", endpoint)];
    for (member, value) in members.into_iter().chain(context) {
        if let Some(value) = value {
            checks::check_string_type(member, value)?;
        }
    }
    match session {
        Some(session) => checks::check_session(session.expose_secret()),
        None => Ok(()),
    }
}

impl AuthCall {
    /// Parses an InitiateAuth request: ClientId and AuthFlow required; AuthFlow one of
    /// `USER_PASSWORD_AUTH`, `REFRESH_TOKEN_AUTH`, `REFRESH_TOKEN`; the flow's AuthParameters present.
    pub fn from_initiate_auth(req: InitiateAuthRequest) -> Result<AuthCall, Error> {
        let context = req.user_context_data.as_ref();
        check_model_members(
            req.auth_parameters.as_ref(),
            req.analytics_metadata.as_ref(),
            [
                (
                    "UserContextData.IpAddress",
                    context.and_then(|c| c.ip_address.as_deref()),
                ),
                (
                    "UserContextData.EncodedData",
                    context.and_then(|c| c.encoded_data.as_deref()),
                ),
            ],
            req.session.as_ref(),
        )?;
        Self::parse(
            Api::InitiateAuth,
            None,
            req.client_id.as_deref(),
            req.auth_flow.as_deref(),
            req.auth_parameters.as_ref(),
            req.client_metadata,
        )
    }

    /// Parses an AdminInitiateAuth request: UserPoolId, ClientId and AuthFlow required; AuthFlow one of
    /// `ADMIN_USER_PASSWORD_AUTH` (or its legacy name `ADMIN_NO_SRP_AUTH`), `REFRESH_TOKEN_AUTH`,
    /// `REFRESH_TOKEN`; the flow's AuthParameters present.
    pub fn from_admin_initiate_auth(req: AdminInitiateAuthRequest) -> Result<AuthCall, Error> {
        // UserPoolIdType (R-CFG-2) before anything else, as the pool routes the call.
        let pool = user_pool_id(Some(required("UserPoolId", req.user_pool_id.as_deref())?))?;
        let context = req.context_data.as_ref();
        let headers = context.map_or(&[][..], |c| &c.http_headers[..]);
        check_model_members(
            req.auth_parameters.as_ref(),
            req.analytics_metadata.as_ref(),
            [
                (
                    "ContextData.IpAddress",
                    context.map(|c| c.ip_address.as_str()),
                ),
                (
                    "ContextData.ServerName",
                    context.map(|c| c.server_name.as_str()),
                ),
                (
                    "ContextData.ServerPath",
                    context.map(|c| c.server_path.as_str()),
                ),
                (
                    "ContextData.EncodedData",
                    context.and_then(|c| c.encoded_data.as_deref()),
                ),
            ]
            .into_iter()
            .chain(headers.iter().flat_map(|h| {
                [
                    (
                        "ContextData.HttpHeaders.headerName",
                        h.header_name.as_deref(),
                    ),
                    (
                        "ContextData.HttpHeaders.headerValue",
                        h.header_value.as_deref(),
                    ),
                ]
            })),
            req.session.as_ref(),
        )?;
        Self::parse(
            Api::AdminInitiateAuth,
            Some(pool.to_owned()),
            req.client_id.as_deref(),
            req.auth_flow.as_deref(),
            req.auth_parameters.as_ref(),
            req.client_metadata,
        )
    }

    fn parse(
        api: Api,
        user_pool_id: Option<String>,
        client_id: Option<&str>,
        auth_flow: Option<&str>,
        params: Option<&AuthParameters>,
        client_metadata: Option<HashMap<String, String>>,
    ) -> Result<AuthCall, Error> {
        let client_id = required("ClientId", client_id)?;
        ClientId::parse(client_id)?;
        let auth_flow = required("AuthFlow", auth_flow)?;
        if !AUTH_FLOW_VALUES.contains(&auth_flow) {
            let shown = crate::error::echoed(auth_flow, 64);
            return Err(invalid(format!(
                "1 validation error detected: Value '{shown}' at 'authFlow' failed to satisfy \
                 constraint: Member must satisfy enum value set: [{}]",
                AUTH_FLOW_VALUES.join(", ")
            )));
        }
        if let Some(m) = &client_metadata {
            checks::check_client_metadata(m)?;
        }
        let secret_hash = param(params, "SECRET_HASH").map(SecretString::new);
        let flow = match (api, auth_flow) {
            (_, "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN") => {
                let token = required("REFRESH_TOKEN", param(params, "REFRESH_TOKEN"))?;
                checks::check_token_shape("REFRESH_TOKEN", token)?;
                // SECRET_HASH is parsed after the pool is checked (`initiate_auth`); one without the
                // shape of one is then taken for a wrong one.
                let device_key = param(params, "DEVICE_KEY").map(SecretString::new);
                if let Some(d) = &device_key {
                    DeviceKey::parse(d.expose_secret())?;
                }
                Flow::Refresh {
                    token: RefreshToken::new(token),
                    secret_hash,
                    device_key,
                }
            }
            (Api::InitiateAuth, "USER_PASSWORD_AUTH")
            | (Api::AdminInitiateAuth, "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH") => {
                let username = required("USERNAME", param(params, "USERNAME"))?;
                let password = required("PASSWORD", param(params, "PASSWORD"))?;
                if username.chars().count() > MAX_USERNAME_LEN {
                    return Err(invalid(format!(
                        "USERNAME must have length less than or equal to {MAX_USERNAME_LEN}"
                    )));
                }
                if password.chars().count() > MAX_PASSWORD_LEN {
                    return Err(invalid(format!(
                        "PASSWORD must have length less than or equal to {MAX_PASSWORD_LEN}"
                    )));
                }
                Flow::Password {
                    username: username.to_owned(),
                    password: SecretString::new(password),
                    secret_hash,
                }
            }
            (_, other) => {
                let api_name = match api {
                    Api::InitiateAuth => "InitiateAuth",
                    Api::AdminInitiateAuth => "AdminInitiateAuth",
                };
                return Err(invalid(format!(
                    "Unsupported AuthFlow {other} for {api_name}: only password and refresh flows are served."
                )));
            }
        };
        Ok(AuthCall {
            api,
            user_pool_id,
            client_id: client_id.to_owned(),
            flow,
            client_metadata,
        })
    }

    /// The app client, checked against the model's ClientIdType when the call was parsed.
    pub fn client_id(&self) -> ClientId<'_> {
        ClientId::checked(&self.client_id)
    }

    /// The UserPoolId of an AdminInitiateAuth request; `None` for InitiateAuth.
    pub fn user_pool_id(&self) -> Option<&str> {
        self.user_pool_id.as_deref()
    }

    /// Whether this is a refresh (R-ROT-8) rather than a password sign-in.
    pub fn is_refresh(&self) -> bool {
        matches!(self.flow, Flow::Refresh { .. })
    }
}

/// What the one implementation of InitiateAuth needs from a driver: the sync [`TokenIssuer`] and the
/// [`AsyncTokenIssuer`] answer the same calls, so the flow checks below are written once.
trait AuthDriver: Sync {
    fn registry(&self) -> &crate::ClientRegistry;
    fn sign_in<'a>(
        &'a self,
        req: &'a SignInRequest<'a>,
    ) -> BoxFuture<'a, Result<crate::engine::TokenSet, Error>>;
    fn legacy_refresh<'a>(
        &'a self,
        req: &'a LegacyRefreshRequest<'a>,
    ) -> BoxFuture<'a, Result<crate::engine::TokenSet, Error>>;
}

impl AuthDriver for TokenIssuer {
    fn registry(&self) -> &crate::ClientRegistry {
        TokenIssuer::registry(self)
    }
    fn sign_in<'a>(
        &'a self,
        req: &'a SignInRequest<'a>,
    ) -> BoxFuture<'a, Result<crate::engine::TokenSet, Error>> {
        crate::future::ready(TokenIssuer::sign_in(self, req))
    }
    fn legacy_refresh<'a>(
        &'a self,
        req: &'a LegacyRefreshRequest<'a>,
    ) -> BoxFuture<'a, Result<crate::engine::TokenSet, Error>> {
        crate::future::ready(TokenIssuer::legacy_refresh(self, req))
    }
}

impl AuthDriver for AsyncTokenIssuer {
    fn registry(&self) -> &crate::ClientRegistry {
        AsyncTokenIssuer::registry(self)
    }
    fn sign_in<'a>(
        &'a self,
        req: &'a SignInRequest<'a>,
    ) -> BoxFuture<'a, Result<crate::engine::TokenSet, Error>> {
        Box::pin(AsyncTokenIssuer::sign_in(self, req))
    }
    fn legacy_refresh<'a>(
        &'a self,
        req: &'a LegacyRefreshRequest<'a>,
    ) -> BoxFuture<'a, Result<crate::engine::TokenSet, Error>> {
        Box::pin(AsyncTokenIssuer::legacy_refresh(self, req))
    }
}

impl TokenIssuer {
    /// Answers an InitiateAuth or AdminInitiateAuth call.
    ///
    /// A password flow checks, in order: the client exists (ResourceNotFoundException); the flow is in
    /// its ExplicitAuthFlows (`ALLOW_USER_PASSWORD_AUTH` or legacy `USER_PASSWORD_AUTH`, resp.
    /// `ALLOW_ADMIN_USER_PASSWORD_AUTH` or legacy `ADMIN_NO_SRP_AUTH`; else InvalidParameterException); the
    /// SECRET_HASH as in R-SIGN-1; the password through `passwords` (a wrong password is
    /// NotAuthorizedException `Incorrect username or password.`; an unknown user is UserNotFoundException,
    /// or the same NotAuthorizedException when the client's PreventUserExistenceErrors is `ENABLED`);
    /// then signs the user in (SPEC 4), which refuses a disabled user. A refresh flow is
    /// [`legacy_refresh`](TokenIssuer::legacy_refresh) (R-ROT-8).
    ///
    /// The caller routes the call to this issuer; an AdminInitiateAuth for another pool is
    /// ResourceNotFoundException.
    pub fn initiate_auth(
        &self,
        call: &AuthCall,
        passwords: &dyn PasswordVerifier,
    ) -> Result<InitiateAuthResponse, Error> {
        self.registry()
            .poll_now(initiate_auth(self, call, &SyncVerifier(passwords)))
    }
}

/// A synchronous verifier behind a reference, as the asynchronous one the shared flow takes.
struct SyncVerifier<'a>(&'a dyn PasswordVerifier);

impl PasswordVerifier for SyncVerifier<'_> {
    fn check_password(&self, username: &str, password: &str) -> Result<PasswordCheck, Error> {
        self.0.check_password(username, password)
    }
}

impl AsyncTokenIssuer {
    /// Answers an InitiateAuth or AdminInitiateAuth call, awaiting the stores, the user directory and
    /// `passwords` (R-ENG-2). The same checks, in the same order, as
    /// [`TokenIssuer::initiate_auth`].
    pub async fn initiate_auth(
        &self,
        call: &AuthCall,
        passwords: &dyn AsyncPasswordVerifier,
    ) -> Result<InitiateAuthResponse, Error> {
        initiate_auth(self, call, passwords).await
    }
}

/// InitiateAuth and AdminInitiateAuth, once for both drivers.
async fn initiate_auth<D: AuthDriver + ?Sized>(
    driver: &D,
    call: &AuthCall,
    passwords: &(dyn AsyncPasswordVerifier + '_),
) -> Result<InitiateAuthResponse, Error> {
    if let Some(pool) = call.user_pool_id() {
        if pool != driver.registry().user_pool_id() {
            let error = Error::UserPoolNotFound {
                user_pool_id: pool.to_owned(),
            };
            let operation = match call.flow {
                Flow::Refresh { .. } => Operation::LegacyRefresh,
                _ => Operation::SignIn,
            };
            record_refusal(operation, Some(&call.client_id), &error);
            return Err(error);
        }
    }
    let result = match &call.flow {
        Flow::Refresh {
            token,
            secret_hash,
            device_key,
        } => driver
            .legacy_refresh(&LegacyRefreshRequest {
                refresh_token: token,
                client_id: ClientId::checked(&call.client_id),
                // A SECRET_HASH without the shape of one is a wrong one, refused in the engine's
                // order (R-ROT-8), as the password flow refuses it (`check_password_flow`).
                secret_hash: secret_hash.as_ref().map(|h| {
                    SecretHash::parse(h.expose_secret()).unwrap_or(SecretHash::UNMATCHABLE)
                }),
                device_key: device_key
                    .as_ref()
                    .map(|d| DeviceKey::checked(d.expose_secret())),
                client_metadata: call.client_metadata.as_ref(),
            })
            .await?
            .into(),
        Flow::Password {
            username,
            password,
            secret_hash,
        } => {
            let secret_hash = check_password_flow(
                driver,
                call,
                username,
                password.expose_secret(),
                secret_hash.as_ref().map(SecretString::expose_secret),
                passwords,
            )
            .await
            // Refused before the driver's sign-in: recorded as the driver records its own (R-OPS-1).
            .inspect_err(|e| record_refusal(Operation::SignIn, Some(&call.client_id), e))?;
            let mut req = SignInRequest::new(ClientId::checked(&call.client_id), username);
            req.secret_hash = secret_hash;
            req.client_metadata = call.client_metadata.as_ref();
            driver.sign_in(&req).await?.into()
        }
    };
    Ok(InitiateAuthResponse {
        challenge_parameters: HashMap::new(),
        authentication_result: result,
    })
}

/// The password flow's own checks, before the engine's sign-in: the flow is allowed, the client's
/// secret is proven (R-SIGN-1), the password is right. Answers the SECRET_HASH, parsed, for the sign-in.
async fn check_password_flow<'h, D: AuthDriver + ?Sized>(
    driver: &D,
    call: &AuthCall,
    username: &str,
    password: &str,
    secret_hash: Option<&'h str>,
    passwords: &(dyn AsyncPasswordVerifier + '_),
) -> Result<Option<SecretHash<'h>>, Error> {
    let client = driver
        .registry()
        .get_async(&call.client_id)
        .await?
        .ok_or_else(|| Error::ClientNotFound {
            client_id: call.client_id.clone(),
        })?;
    let config = client.config();
    let (allow, legacy, name) = match call.api {
        Api::InitiateAuth => (
            ExplicitAuthFlow::AllowUserPasswordAuth,
            ExplicitAuthFlow::UserPasswordAuth,
            "USER_PASSWORD_AUTH",
        ),
        Api::AdminInitiateAuth => (
            ExplicitAuthFlow::AllowAdminUserPasswordAuth,
            ExplicitAuthFlow::AdminNoSrpAuth,
            "ADMIN_USER_PASSWORD_AUTH",
        ),
    };
    if !config.allows_flow(allow) && !config.allows_flow(legacy) {
        return Err(Error::AuthFlowNotEnabled { flow: name.into() });
    }
    // R-SIGN-1 before the password: a caller without the client's secret learns nothing about users.
    let parsed = match (client.secret(), secret_hash) {
        (None, None) => None,
        (None, Some(_)) => {
            return Err(Error::ClientHasNoSecret {
                client_id: call.client_id.clone(),
            })
        }
        (Some(_), None) => {
            return Err(Error::ClientSecretMissing {
                client_id: call.client_id.clone(),
            })
        }
        // A SECRET_HASH without the shape of one is a mismatch here, as Cognito answers it (it sits
        // in AuthParameters, whose values the model does not constrain).
        (Some(secret), Some(h)) => match SecretHash::parse(h) {
            Ok(parsed) if secret.verify_secret_hash(username, &call.client_id, h) => Some(parsed),
            _ => {
                return Err(Error::ClientSecretMismatch {
                    client_id: call.client_id.clone(),
                })
            }
        },
    };
    match passwords.check_password(username, password).await? {
        PasswordCheck::Valid => Ok(parsed),
        PasswordCheck::Invalid => Err(Error::IncorrectUsernameOrPassword),
        PasswordCheck::NoSuchUser => match config.prevent_user_existence_errors() {
            PreventUserExistenceErrors::Enabled => Err(Error::IncorrectUsernameOrPassword),
            PreventUserExistenceErrors::Legacy => Err(Error::UserNotFound),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::from_json;

    fn initiate(json: &str) -> Result<AuthCall, Error> {
        AuthCall::from_initiate_auth(from_json(json.as_bytes())?)
    }

    fn admin(json: &str) -> Result<AuthCall, Error> {
        AuthCall::from_admin_initiate_auth(from_json(json.as_bytes())?)
    }

    #[test]
    fn required_members_are_named() {
        let cases = [
            (r#"{"AuthFlow":"USER_PASSWORD_AUTH"}"#, "ClientId"),
            (r#"{"ClientId":"c1"}"#, "AuthFlow"),
            (
                r#"{"ClientId":"c1","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"PASSWORD":"p"}}"#,
                "USERNAME",
            ),
            (
                r#"{"ClientId":"c1","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"u"}}"#,
                "PASSWORD",
            ),
            (
                r#"{"ClientId":"c1","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{}}"#,
                "REFRESH_TOKEN",
            ),
        ];
        for (json, member) in cases {
            let e = initiate(json).unwrap_err();
            assert_eq!(
                e.message(),
                format!("Missing required parameter {member}"),
                "{json}"
            );
        }
        let e = admin(r#"{"ClientId":"c1","AuthFlow":"ADMIN_USER_PASSWORD_AUTH"}"#).unwrap_err();
        assert_eq!(e.message(), "Missing required parameter UserPoolId");
    }

    #[test]
    fn flows_are_checked_per_operation() {
        let pw = r#""AuthParameters":{"USERNAME":"u","PASSWORD":"p"}"#;
        assert!(initiate(&format!(
            r#"{{"ClientId":"c1","AuthFlow":"USER_PASSWORD_AUTH",{pw}}}"#
        ))
        .is_ok());
        // The admin flow is not an InitiateAuth flow, and the other way round.
        for (api_admin, flow) in [
            (false, "ADMIN_USER_PASSWORD_AUTH"),
            (true, "USER_PASSWORD_AUTH"),
            (false, "USER_SRP_AUTH"),
            (true, "CUSTOM_AUTH"),
        ] {
            let body = if api_admin {
                format!(
                    r#"{{"UserPoolId":"us-east-1_X","ClientId":"c1","AuthFlow":"{flow}",{pw}}}"#
                )
            } else {
                format!(r#"{{"ClientId":"c1","AuthFlow":"{flow}",{pw}}}"#)
            };
            let e = if api_admin {
                admin(&body)
            } else {
                initiate(&body)
            }
            .unwrap_err();
            assert!(e.message().starts_with("Unsupported AuthFlow"), "{e}");
        }
        let e = initiate(r#"{"ClientId":"c1","AuthFlow":"PASSWORD"}"#).unwrap_err();
        assert!(e.message().contains("enum value set"), "{e}");
        let call = admin(&format!(
            r#"{{"UserPoolId":"us-east-1_X","ClientId":"c1","AuthFlow":"ADMIN_NO_SRP_AUTH",{pw}}}"#
        ))
        .unwrap();
        assert_eq!(call.user_pool_id(), Some("us-east-1_X"));
        assert!(!call.is_refresh());
        let call = initiate(
            r#"{"ClientId":"c1","AuthFlow":"REFRESH_TOKEN","AuthParameters":{"REFRESH_TOKEN":"abc"}}"#,
        )
        .unwrap();
        assert!(call.is_refresh());
        assert_eq!(call.client_id(), "c1");
    }

    #[test]
    fn r_safe_2_debug_hides_password_and_token() {
        let call = initiate(
            r#"{"ClientId":"c1","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{"USERNAME":"alice","PASSWORD":"hunter2","SECRET_HASH":"h4sh"}}"#,
        )
        .unwrap();
        let dbg = format!("{call:?}");
        assert!(dbg.contains("alice"), "{dbg}");
        assert!(!dbg.contains("hunter2") && !dbg.contains("h4sh"), "{dbg}");
        let call = initiate(
            r#"{"ClientId":"c1","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{"REFRESH_TOKEN":"s3cr3ttoken"}}"#,
        )
        .unwrap();
        assert!(!format!("{call:?}").contains("s3cr3ttoken"));
    }

    #[test]
    fn oversized_credentials_are_refused() {
        let long = "u".repeat(129);
        let e = initiate(&format!(
            r#"{{"ClientId":"c1","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{{"USERNAME":"{long}","PASSWORD":"p"}}}}"#
        ))
        .unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
    }
}
