//! InitiateAuth / AdminInitiateAuth through `AuthCall` and `TokenIssuer::initiate_auth`: the password
//! flows (R-SRV-2, R-SIGN-1) and the legacy refresh flow (R-ROT-8), with a host password verifier.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::sync::Arc;

use refresh_rotation::clock::{ManualClock, Timestamp};
use refresh_rotation::config::{
    ExplicitAuthFlow, PreventUserExistenceErrors, RefreshTokenRotation,
};
use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::InMemoryRefreshTokenStore;
use refresh_rotation::wire::password::{PasswordCheck, PasswordHash, PasswordVerifier};
use refresh_rotation::wire::{from_json, AuthCall, InitiateAuthResponse};
use refresh_rotation::{
    AppClientConfig, ClientRegistry, Error, NewClientSecret, RefreshTokenKey, RefreshTokenKeys,
    TokenIssuer,
};

const POOL: &str = "us-east-1_AuthPool";

struct Passwords(HashMap<String, PasswordHash>);

impl PasswordVerifier for Passwords {
    fn check_password(&self, username: &str, password: &str) -> Result<PasswordCheck, Error> {
        Ok(match self.0.get(username) {
            None => PasswordCheck::NoSuchUser,
            Some(h) if h.verify(password) => PasswordCheck::Valid,
            Some(_) => PasswordCheck::Invalid,
        })
    }
}

struct Pool {
    issuer: TokenIssuer,
    directory: Arc<InMemoryUserDirectory>,
    passwords: Passwords,
    registry: Arc<ClientRegistry>,
}

impl Pool {
    fn new() -> Self {
        let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(
            1_700_000_000,
        )));
        let rng = Arc::new(SystemRandom::new());
        let registry = Arc::new(ClientRegistry::new(POOL, clock.clone(), rng.clone()));
        let directory = Arc::new(InMemoryUserDirectory::new());
        directory
            .put(UserRecord::new("sub-alice", "alice"))
            .unwrap();
        directory.put(UserRecord::new("sub-bob", "bob")).unwrap();
        directory.set_enabled("sub-bob", false);
        let mut hashes = HashMap::new();
        for u in ["alice", "bob"] {
            hashes.insert(
                u.to_owned(),
                PasswordHash::with_iterations("Passw0rd!", 1_000, &*rng).unwrap(),
            );
        }
        let issuer = TokenIssuer::builder(
            "us-east-1",
            TokenSigner::new(Arc::new(
                SigningKey::generate(Algorithm::EdDSA, "k1").unwrap(),
            )),
            RefreshTokenKeys::new(RefreshTokenKey::generate(1, &*rng).unwrap()),
            registry.clone(),
            Arc::new(InMemoryRefreshTokenStore::new()),
            directory.clone(),
        )
        .clock(clock)
        .build();
        Pool {
            issuer,
            directory,
            passwords: Passwords(hashes),
            registry,
        }
    }

    fn client(
        &self,
        flows: &[ExplicitAuthFlow],
        secret: bool,
        existence: PreventUserExistenceErrors,
    ) -> (String, Option<String>) {
        let c = self
            .registry
            .create_client(
                AppClientConfig::builder("app")
                    .explicit_auth_flows(flows.iter().copied())
                    .prevent_user_existence_errors(existence)
                    .refresh_token_rotation(RefreshTokenRotation::DISABLED),
                if secret {
                    NewClientSecret::Generate
                } else {
                    NewClientSecret::None
                },
            )
            .unwrap();
        (
            c.client_id().to_string(),
            c.secret().map(|s| s.expose_secret().to_owned()),
        )
    }

    fn initiate(&self, json: &str) -> Result<InitiateAuthResponse, Error> {
        let call = AuthCall::from_initiate_auth(from_json(json.as_bytes())?)?;
        self.issuer.initiate_auth(&call, &self.passwords)
    }

    fn admin(&self, json: &str) -> Result<InitiateAuthResponse, Error> {
        let call = AuthCall::from_admin_initiate_auth(from_json(json.as_bytes())?)?;
        self.issuer.initiate_auth(&call, &self.passwords)
    }
}

fn password_body(client: &str, user: &str, pw: &str) -> String {
    format!(
        r#"{{"ClientId":"{client}","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{{"USERNAME":"{user}","PASSWORD":"{pw}"}}}}"#
    )
}

const LEGACY: PreventUserExistenceErrors = PreventUserExistenceErrors::Legacy;
const ALLOW_PW: ExplicitAuthFlow = ExplicitAuthFlow::AllowUserPasswordAuth;
const ALLOW_REFRESH: ExplicitAuthFlow = ExplicitAuthFlow::AllowRefreshTokenAuth;

#[test]
fn r_srv_2_password_sign_in_issues_a_token_set() {
    let p = Pool::new();
    let (client, _) = p.client(&[ALLOW_PW, ALLOW_REFRESH], false, LEGACY);
    let r = p
        .initiate(&password_body(&client, "alice", "Passw0rd!"))
        .unwrap();
    assert!(r.challenge_parameters.is_empty());
    let a = &r.authentication_result;
    assert_eq!(a.token_type, "Bearer");
    assert!(a.refresh_token.is_some() && !a.id_token.is_empty());
}

#[test]
fn r_srv_2_password_flow_needs_its_allow_flow() {
    let p = Pool::new();
    let (client, _) = p.client(&[ALLOW_REFRESH], false, LEGACY);
    let e = p
        .initiate(&password_body(&client, "alice", "Passw0rd!"))
        .unwrap_err();
    // As Cognito answers it: a bad parameter, not a failed authentication.
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert_eq!(
        e.message(),
        "USER_PASSWORD_AUTH flow not enabled for this client"
    );
    // The admin flow needs ALLOW_ADMIN_USER_PASSWORD_AUTH (or legacy ADMIN_NO_SRP_AUTH), not the user one.
    let (client, _) = p.client(&[ALLOW_PW], false, LEGACY);
    let admin = format!(
        r#"{{"UserPoolId":"{POOL}","ClientId":"{client}","AuthFlow":"ADMIN_USER_PASSWORD_AUTH","AuthParameters":{{"USERNAME":"alice","PASSWORD":"Passw0rd!"}}}}"#
    );
    assert_eq!(
        p.admin(&admin).unwrap_err().message(),
        "ADMIN_USER_PASSWORD_AUTH flow not enabled for this client"
    );
    let (client, _) = p.client(&[ExplicitAuthFlow::AdminNoSrpAuth], false, LEGACY);
    let body = format!(
        r#"{{"UserPoolId":"{POOL}","ClientId":"{client}","AuthFlow":"ADMIN_USER_PASSWORD_AUTH","AuthParameters":{{"USERNAME":"alice","PASSWORD":"Passw0rd!"}}}}"#
    );
    assert!(p.admin(&body).is_ok(), "legacy ADMIN_NO_SRP_AUTH allows it");
}

#[test]
fn wrong_password_and_unknown_user() {
    let p = Pool::new();
    let (legacy, _) = p.client(&[ALLOW_PW], false, LEGACY);
    let e = p
        .initiate(&password_body(&legacy, "alice", "nope"))
        .unwrap_err();
    assert_eq!(e.exception_name(), "NotAuthorizedException");
    assert_eq!(e.message(), "Incorrect username or password.");
    let e = p
        .initiate(&password_body(&legacy, "carol", "x"))
        .unwrap_err();
    assert_eq!(e.exception_name(), "UserNotFoundException");
    // PreventUserExistenceErrors ENABLED: an unknown user looks like a wrong password.
    let (enabled, _) = p.client(&[ALLOW_PW], false, PreventUserExistenceErrors::Enabled);
    let e = p
        .initiate(&password_body(&enabled, "carol", "x"))
        .unwrap_err();
    assert_eq!(e.message(), "Incorrect username or password.");
}

#[test]
fn r_ref_8_disabled_user_cannot_sign_in() {
    let p = Pool::new();
    let (client, _) = p.client(&[ALLOW_PW], false, LEGACY);
    let e = p
        .initiate(&password_body(&client, "bob", "Passw0rd!"))
        .unwrap_err();
    assert_eq!(e.message(), "User is disabled.");
    p.directory.set_enabled("sub-bob", true);
    assert!(p
        .initiate(&password_body(&client, "bob", "Passw0rd!"))
        .is_ok());
}

#[test]
fn r_sign_1_secret_hash_on_password_sign_in() {
    let p = Pool::new();
    let (client, secret) = p.client(&[ALLOW_PW], true, LEGACY);
    let secret = refresh_rotation::ClientSecret::new(secret.unwrap());
    let with_hash = |h: &str| {
        format!(
            r#"{{"ClientId":"{client}","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{{"USERNAME":"alice","PASSWORD":"Passw0rd!","SECRET_HASH":"{h}"}}}}"#
        )
    };
    let e = p
        .initiate(&password_body(&client, "alice", "Passw0rd!"))
        .unwrap_err();
    assert_eq!(
        e.message(),
        format!("Client {client} is configured for secret but secret was not received")
    );
    let e = p.initiate(&with_hash("AAAA")).unwrap_err();
    assert_eq!(
        e.message(),
        format!("Unable to verify secret for client {client}")
    );
    // The secret is checked before the password: a wrong hash with a wrong password says "secret".
    let good = secret.secret_hash("alice", &client);
    assert!(p.initiate(&with_hash(&good)).is_ok());
    // A SECRET_HASH sent to a client without a secret.
    let (public, _) = p.client(&[ALLOW_PW], false, LEGACY);
    let body = password_body(&public, "alice", "Passw0rd!")
        .replace(r#""PASSWORD":"#, r#""SECRET_HASH":"AAAA","PASSWORD":"#);
    assert_eq!(
        p.initiate(&body).unwrap_err().message(),
        format!("Client {public} has no secret")
    );
}

#[test]
fn r_rot_8_refresh_flow_through_auth_call() {
    let p = Pool::new();
    let (client, _) = p.client(&[ALLOW_PW, ALLOW_REFRESH], false, LEGACY);
    let first = p
        .initiate(&password_body(&client, "alice", "Passw0rd!"))
        .unwrap()
        .authentication_result;
    let rt = first.refresh_token.unwrap();
    for flow in ["REFRESH_TOKEN_AUTH", "REFRESH_TOKEN"] {
        let r = p
            .initiate(&format!(
                r#"{{"ClientId":"{client}","AuthFlow":"{flow}","AuthParameters":{{"REFRESH_TOKEN":"{rt}"}}}}"#
            ))
            .unwrap();
        assert!(r.authentication_result.refresh_token.is_none(), "R-ROT-6");
        let r = p
            .admin(&format!(
                r#"{{"UserPoolId":"{POOL}","ClientId":"{client}","AuthFlow":"{flow}","AuthParameters":{{"REFRESH_TOKEN":"{rt}"}}}}"#
            ))
            .unwrap();
        assert!(r.authentication_result.refresh_token.is_none());
    }
}

/// R-REF-1, R-ROT-8 and R-REF-3 through the wire adapter: the legacy refresh flow refuses a malformed
/// DEVICE_KEY as the call is parsed. A SECRET_HASH without the shape of one is a wrong one, in both
/// flows (NotAuthorizedException, as Cognito answers it: AuthParameters' values are unconstrained),
/// refused where the engine verifies the hash: after the pool and the token.
#[test]
fn r_ref_1_legacy_flow_refuses_malformed_members_in_order() {
    let p = Pool::new();
    let (client, secret) = p.client(&[ALLOW_PW, ALLOW_REFRESH], true, LEGACY);
    let secret = refresh_rotation::ClientSecret::new(secret.unwrap());
    let bad_hash = "!".repeat(200);
    let bad_device = "d".repeat(200);
    let legacy = |pool: &str, params: &str| {
        format!(
            r#"{{"UserPoolId":"{pool}","ClientId":"{client}","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{{"REFRESH_TOKEN":"abc.def",{params}}}}}"#
        )
    };
    let both = format!(r#""SECRET_HASH":"{bad_hash}","DEVICE_KEY":"{bad_device}""#);
    let e = p.admin(&legacy(POOL, &both)).unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert!(e.message().contains("'DeviceKey'"), "{e}");
    let hash_only = format!(r#""SECRET_HASH":"{bad_hash}""#);
    let e = p.admin(&legacy("us-east-1_Other", &hash_only)).unwrap_err();
    assert_eq!(e.exception_name(), "ResourceNotFoundException", "{e}");
    // The token is refused first: the hash is verified once the family is read (R-ROT-8).
    let e = p.admin(&legacy(POOL, &hash_only)).unwrap_err();
    assert_eq!(e.exception_name(), "NotAuthorizedException", "{e}");
    assert_eq!(e.message(), "Invalid Refresh Token.");
    // With a real token, the malformed hash is a wrong one.
    let rt = p
        .initiate(&password_body(&client, "alice", "Passw0rd!").replace(
            r#""PASSWORD":"#,
            &format!(
                r#""SECRET_HASH":"{}","PASSWORD":"#,
                secret.secret_hash("alice", &client)
            ),
        ))
        .unwrap()
        .authentication_result
        .refresh_token
        .unwrap();
    let e = p
        .admin(&legacy(POOL, &hash_only).replace("abc.def", &rt))
        .unwrap_err();
    assert_eq!(e.exception_name(), "NotAuthorizedException", "{e}");
    assert_eq!(
        e.message(),
        format!("Unable to verify secret for client {client}")
    );
    assert!(!e.message().contains(&bad_hash));
    // The password flow: the malformed hash is a mismatch, never echoed.
    let body = password_body(&client, "alice", "Passw0rd!").replace(
        r#""PASSWORD":"#,
        &format!(r#""SECRET_HASH":"{bad_hash}","PASSWORD":"#),
    );
    let e = p.initiate(&body).unwrap_err();
    assert_eq!(
        e.message(),
        format!("Unable to verify secret for client {client}")
    );
}

#[test]
fn admin_initiate_auth_for_another_pool_is_not_found() {
    let p = Pool::new();
    let (client, _) = p.client(
        &[ExplicitAuthFlow::AllowAdminUserPasswordAuth],
        false,
        LEGACY,
    );
    let e = p
        .admin(&format!(
            r#"{{"UserPoolId":"us-east-1_Other","ClientId":"{client}","AuthFlow":"ADMIN_USER_PASSWORD_AUTH","AuthParameters":{{"USERNAME":"alice","PASSWORD":"Passw0rd!"}}}}"#
        ))
        .unwrap_err();
    assert_eq!(e.exception_name(), "ResourceNotFoundException");
    let e = p
        .initiate(&password_body("nosuchclient", "alice", "Passw0rd!"))
        .unwrap_err();
    assert_eq!(e.exception_name(), "ResourceNotFoundException");
}

/// R-CFG-2: AdminInitiateAuth checks UserPoolId against UserPoolIdType before anything else, so a
/// malformed id is InvalidParameterException (not ResourceNotFoundException), and its echo is bounded.
#[test]
fn r_cfg_2_admin_initiate_auth_checks_the_user_pool_id_shape() {
    let p = Pool::new();
    let (client, _) = p.client(&[ALLOW_PW, ALLOW_REFRESH], false, LEGACY);
    let long = format!("not a pool id {}", "x".repeat(10_000));
    for pool in ["not a pool id", "us-east-1_", long.as_str()] {
        let e = p
            .admin(&format!(
                r#"{{"UserPoolId":"{pool}","ClientId":"{client}","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{{"REFRESH_TOKEN":"abc.def"}}}}"#
            ))
            .unwrap_err();
        assert_eq!(
            e.exception_name(),
            "InvalidParameterException",
            "{pool}: {e}"
        );
        assert!(e.message().contains("'UserPoolId'"), "{e}");
        assert!(e.message().len() < 1024, "{} bytes", e.message().len());
    }
}

/// R-CFG-2: AuthFlow is one of AuthFlowType's eight values; `SRP_A` is a parameter name, not a flow.
#[test]
fn r_cfg_2_auth_flow_enum_is_the_models() {
    let p = Pool::new();
    let e = p
        .initiate(r#"{"ClientId":"c1","AuthFlow":"SRP_A","AuthParameters":{"SRP_A":"x"}}"#)
        .unwrap_err();
    assert!(e.message().contains("enum value set"), "{e}");
    assert!(
        !e.message().contains("SRP_A]") && !e.message().contains("SRP_A,"),
        "{e}"
    );
    assert!(e.message().contains("USER_AUTH]"), "{e}");
}

/// R-CFG-2: Session, accepted and otherwise ignored, is SessionType: 20 to 4096 characters, never
/// echoed (it is sensitive).
#[test]
fn r_cfg_2_session_length_is_checked_and_not_echoed() {
    let p = Pool::new();
    let (client, _) = p.client(&[ALLOW_PW, ALLOW_REFRESH], false, LEGACY);
    let with_session = |session: &str| {
        password_body(&client, "alice", "Passw0rd!").replacen(
            '{',
            &format!(r#"{{"Session":"{session}","#),
            1,
        )
    };
    let e = p.initiate(&with_session("short-session")).unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert!(e.message().contains("greater than or equal to 20"), "{e}");
    assert!(!e.message().contains("short-session"), "{e}");
    let e = p.initiate(&with_session(&"s".repeat(4097))).unwrap_err();
    assert!(e.message().contains("less than or equal to 4096"), "{e}");
    assert!(p.initiate(&with_session(&"s".repeat(20))).is_ok());
    assert!(p.initiate(&with_session(&"s".repeat(4096))).is_ok());
}

/// R-ENG-2: the asynchronous driver answers InitiateAuth with the same checks (one implementation):
/// a wrong password, then a sign-in, then the legacy refresh flow.
#[test]
fn r_eng_2_async_issuer_answers_initiate_auth_as_the_sync_one() {
    use refresh_rotation::testkit::clients::block_on;
    let p = Pool::new();
    let (client, _) = p.client(&[ALLOW_PW, ALLOW_REFRESH], false, LEGACY);
    let issuer = refresh_rotation::AsyncTokenIssuer::builder(
        "us-east-1",
        TokenSigner::new(Arc::new(
            SigningKey::generate(Algorithm::EdDSA, "k2").unwrap(),
        )),
        RefreshTokenKeys::new(RefreshTokenKey::generate(1, &SystemRandom::new()).unwrap()),
        p.registry.clone(),
        Arc::new(InMemoryRefreshTokenStore::new()),
        p.directory.clone(),
    )
    .build();
    let call =
        |json: &str| AuthCall::from_initiate_auth(from_json(json.as_bytes()).unwrap()).unwrap();
    let wrong = block_on(issuer.initiate_auth(
        &call(&password_body(&client, "alice", "nope")),
        &p.passwords,
    ))
    .unwrap_err();
    let wrong_sync = p
        .initiate(&password_body(&client, "alice", "nope"))
        .unwrap_err();
    assert_eq!(wrong.exception_name(), wrong_sync.exception_name());
    assert_eq!(wrong.message(), wrong_sync.message());
    let signed_in = block_on(issuer.initiate_auth(
        &call(&password_body(&client, "alice", "Passw0rd!")),
        &p.passwords,
    ))
    .unwrap();
    let token = signed_in
        .authentication_result
        .refresh_token
        .clone()
        .unwrap();
    let refreshed = block_on(issuer.initiate_auth(
        &call(&format!(
            r#"{{"ClientId":"{client}","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{{"REFRESH_TOKEN":"{}"}}}}"#,
            token
        )),
        &p.passwords,
    ))
    .unwrap();
    assert!(!refreshed.authentication_result.access_token.is_empty());
}

/// R-CFG-2 and R-OPS-1: a value an error message echoes (an unknown AuthFlow, RevokeToken's
/// RevokeAssociatedSessions, an unknown X-Amz-Target, a configuration value) never carries control
/// characters or the Unicode controls of text direction into the message, so that a logged error cannot
/// forge a second log line or read otherwise than it is written.
#[test]
fn r_cfg_2_echoed_values_lose_control_and_bidi_characters() {
    use refresh_rotation::wire::{self, Operation, RevokeTokenRequest};
    let hostile =
        "EVIL\n2026-11-29 INFO forged\u{202E}txt.exe\u{2066}\u{2028}line\u{2029}para\u{061C}";
    let clean = |message: &str| {
        assert!(message.contains("EVIL"), "{message}");
        assert!(
            !message.contains(['\n', '\u{202E}', '\u{2066}', '\u{2028}', '\u{2029}', '\u{061C}']),
            "{message:?}"
        );
    };
    let p = Pool::new();
    let body = serde_json::json!({"ClientId": "c1", "AuthFlow": hostile, "AuthParameters": {}});
    clean(&p.initiate(&body.to_string()).unwrap_err().message());
    let body =
        serde_json::json!({"Token": "abc", "ClientId": "c1", "RevokeAssociatedSessions": hostile});
    let e = wire::from_json::<RevokeTokenRequest>(body.to_string().as_bytes())
        .and_then(RevokeTokenRequest::into_call)
        .unwrap_err();
    clean(&e.message());
    let target = format!("AWSCognitoIdentityProviderService.{hostile}");
    clean(&Operation::from_target(Some(&target)).unwrap_err().message());
    let e = refresh_rotation::AppClientConfig::builder(hostile)
        .build()
        .unwrap_err();
    clean(&e.to_string());
    // A DefaultRedirectURI that is not one of the CallbackURLs (R-CFG-10) is named in that message too.
    let e = refresh_rotation::AppClientConfig::builder("app")
        .callback_urls(["https://a.example/cb"])
        .default_redirect_uri(Some(format!("https://a.example/{hostile}")))
        .build()
        .unwrap_err();
    clean(&e.to_string());
    // A JWKS key refused by its kid: the document may come from anywhere.
    let jwks = serde_json::json!({"keys": [{"kty": "RSA", "kid": hostile, "e": "AQAB"}]});
    let e = refresh_rotation::jwt::JwtVerifier::from_jwks_json(
        "https://issuer.example",
        jwks.to_string().as_bytes(),
    )
    .unwrap_err();
    clean(&e.message());
    // An unknown member, and a key repeated in AuthParameters.
    let key = serde_json::to_string(hostile).unwrap();
    let body = format!(r#"{{"ClientId":"c1",{key}:1}}"#);
    let e = wire::from_json::<RevokeTokenRequest>(body.as_bytes()).unwrap_err();
    clean(&e.message());
    let body = format!(
        r#"{{"ClientId":"c1","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{{{key}:"a",{key}:"b"}}}}"#
    );
    clean(&p.initiate(&body).unwrap_err().message());
}

/// R-WIRE-1 and R-CFG-16: InitiateAuth's `AnalyticsMetadata` and `UserContextData`, and
/// AdminInitiateAuth's `ContextData`, are the model's structures: accepted (and ignored) in their shape,
/// refused with another type or an unknown member inside, as every other request member is.
#[test]
fn r_wire_1_context_members_have_the_models_shape() {
    use refresh_rotation::wire::{self, AdminInitiateAuthRequest, InitiateAuthRequest};
    let initiate = |extra: &str| {
        let body = format!(
            r#"{{"ClientId":"c1","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{{"REFRESH_TOKEN":"abc"}},{extra}}}"#
        );
        wire::from_json::<InitiateAuthRequest>(body.as_bytes()).map(|_| ())
    };
    let admin = |extra: &str| {
        let body = format!(
            r#"{{"UserPoolId":"us-east-1_X","ClientId":"c1","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{{"REFRESH_TOKEN":"abc"}},{extra}}}"#
        );
        wire::from_json::<AdminInitiateAuthRequest>(body.as_bytes()).map(|_| ())
    };
    for ok in [
        r#""AnalyticsMetadata":{"AnalyticsEndpointId":"e1"}"#,
        r#""UserContextData":{"IpAddress":"192.0.2.1","EncodedData":"x"}"#,
    ] {
        assert!(initiate(ok).is_ok(), "{ok}");
    }
    let context = r#""ContextData":{"IpAddress":"192.0.2.1","ServerName":"s","ServerPath":"/","HttpHeaders":[{"headerName":"h","headerValue":"v"}]}"#;
    assert!(admin(context).is_ok());
    for bad in [
        r#""AnalyticsMetadata":5"#,
        r#""AnalyticsMetadata":{"Bogus":[1,2,3]}"#,
        r#""UserContextData":"not-an-object""#,
    ] {
        let e = initiate(bad).unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException", "{bad}");
    }
    for bad in [
        r#""ContextData":[true,null]"#,
        r#""ContextData":{"IpAddress":"192.0.2.1"}"#,
    ] {
        let e = admin(bad).unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException", "{bad}");
    }
}

/// R-CFG-2: Session is a SessionType (20 to 4096 characters), a model constraint; Cognito validates the
/// request against its model before any flow-specific check, so a malformed Session is reported even
/// when the flow's AuthParameters are incomplete or the flow is one the crate does not serve.
#[test]
fn r_cfg_2_session_is_checked_before_the_flows_parameters() {
    let p = Pool::new();
    for body in [
        r#"{"ClientId":"c1","AuthFlow":"REFRESH_TOKEN_AUTH","Session":"short"}"#,
        r#"{"ClientId":"c1","AuthFlow":"USER_SRP_AUTH","Session":"short","AuthParameters":{"USERNAME":"u","SRP_A":"a"}}"#,
    ] {
        let e = p.initiate(body).unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
        assert!(e.message().contains("'Session'"), "{body}: {}", e.message());
    }
}

/// R-CFG-2: every string member of InitiateAuth is at most a StringType (`max=131072`): the values of
/// AuthParameters (a map of StringType to StringType), `UserContextData.EncodedData`, and
/// `AnalyticsMetadata.AnalyticsEndpointId`. A longer one is InvalidParameterException, as Cognito's model
/// validation answers it, not accepted and ignored.
#[test]
fn r_cfg_2_string_type_members_are_at_most_131072_characters() {
    let p = Pool::new();
    let long = "a".repeat(131_073);
    for extra in [
        format!(r#""AuthParameters":{{"REFRESH_TOKEN":"abc","CHALLENGE":"{long}"}}"#),
        format!(
            r#""AuthParameters":{{"REFRESH_TOKEN":"abc"}},"UserContextData":{{"EncodedData":"{long}"}}"#
        ),
        format!(
            r#""AuthParameters":{{"REFRESH_TOKEN":"abc"}},"AnalyticsMetadata":{{"AnalyticsEndpointId":"{long}"}}"#
        ),
    ] {
        let body = format!(r#"{{"ClientId":"c1","AuthFlow":"REFRESH_TOKEN_AUTH",{extra}}}"#);
        let e = p.initiate(&body).unwrap_err();
        assert_eq!(
            e.exception_name(),
            "InvalidParameterException",
            "{}: {e}",
            &extra[..60]
        );
        assert!(!e.message().contains("aaaa"), "no value is echoed");
    }
    // A key over the bound, and AdminInitiateAuth's ContextData (a header's value).
    let e = p
        .initiate(&format!(
            r#"{{"ClientId":"c1","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{{"REFRESH_TOKEN":"abc","{long}":"x"}}}}"#
        ))
        .unwrap_err();
    assert!(e.message().contains("Map key must satisfy"), "{e}");
    let context = format!(
        r#""ContextData":{{"IpAddress":"192.0.2.1","ServerName":"s","ServerPath":"/","HttpHeaders":[{{"headerName":"h","headerValue":"{long}"}}]}}"#
    );
    let e = p
        .admin(&format!(
            r#"{{"UserPoolId":"us-east-1_Example","ClientId":"c1","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{{"REFRESH_TOKEN":"abc"}},{context}}}"#
        ))
        .unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException", "{e}");
    assert!(e.message().contains("headerValue"), "{e}");
    // At the bound, in characters (not bytes), each member is accepted as far as the model goes.
    let at_bound = "é".repeat(131_072);
    let e = p
        .initiate(&format!(
            r#"{{"ClientId":"c1","AuthFlow":"REFRESH_TOKEN_AUTH","AuthParameters":{{"REFRESH_TOKEN":"abc","CHALLENGE":"{at_bound}"}}}}"#
        ))
        .unwrap_err();
    assert!(!e.message().contains("131072"), "{e}");
}

/// R-SIGN-1: the client's secret is proven before the password is looked at, so a caller without the
/// secret learns nothing about users or passwords: a missing or wrong SECRET_HASH is the answer whether
/// the user exists and the password is right or not.
#[test]
fn r_sign_1_the_secret_is_checked_before_the_password() {
    let p = Pool::new();
    let (client, _) = p.client(&[ALLOW_PW], true, LEGACY);
    let missing = format!("Client {client} is configured for secret but secret was not received");
    let mismatch = format!("Unable to verify secret for client {client}");
    for (user, pw) in [("alice", "wrong"), ("carol", "Passw0rd!")] {
        let e = p.initiate(&password_body(&client, user, pw)).unwrap_err();
        assert_eq!(e.message(), missing, "{user}");
        let body = password_body(&client, user, pw)
            .replace(r#""PASSWORD":"#, r#""SECRET_HASH":"AAAA","PASSWORD":"#);
        let e = p.initiate(&body).unwrap_err();
        assert_eq!(e.message(), mismatch, "{user}");
    }
}

fn parse_password_call(user: &str, pw: &str) -> Result<AuthCall, Error> {
    AuthCall::from_initiate_auth(from_json(password_body("c1", user, pw).as_bytes())?)
}

/// R-CFG-2: USERNAME and PASSWORD may be as long as UsernameType (128 characters) and PasswordType (256)
/// allow; one character more is refused.
#[test]
fn r_cfg_2_username_and_password_lengths_are_inclusive() {
    assert!(parse_password_call(&"u".repeat(128), &"p".repeat(256)).is_ok());
    for (user, pw) in [(129, 256), (128, 257)] {
        let e = parse_password_call(&"u".repeat(user), &"p".repeat(pw)).unwrap_err();
        assert_eq!(
            e.exception_name(),
            "InvalidParameterException",
            "{user}/{pw}"
        );
    }
}
