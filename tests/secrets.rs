//! Secret hygiene (R-SAFE-2, R-SAFE-3).
//!
//! - At compile time: no secret type implements `Display` or `Serialize` by accident. The wire types that
//!   must be written into request and response bodies (`SensitiveString`, `WireClientSecret`,
//!   `AuthParameters`, `AuthenticationResult`) implement `Serialize` on purpose, asserted as such, and
//!   still no `Display`.
//! - The exact `Debug` text of every secret type.
//! - Failing requests carrying recognisable secret strings, through every operation: no error message,
//!   wire body or `Debug` output contains them.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;
use std::fmt::Display;
use std::sync::Arc;

use common::{Fixture, Opts};
use refresh_rotation::clock::Timestamp;
use refresh_rotation::engine::{DeviceKey, PresentedSecret, SecretHash};
use refresh_rotation::jwt::{Algorithm, NoRevocationCheck, SigningKey, TokenSigner, TokenUse};
use refresh_rotation::wire::{
    self, AdminInitiateAuthRequest, AuthCall, AuthParameters, AuthenticationResult,
    CreateUserPoolClientRequest, GetTokensFromRefreshTokenRequest, InitiateAuthRequest,
    RefreshCall, RevokeCall, RevokeTokenRequest, SensitiveString, ToWire as _,
    UpdateUserPoolClientRequest, UserPoolClientOperations as _, WireClientSecret,
};
use refresh_rotation::ClientId;
use refresh_rotation::{
    AppClient, ClientSecret, Error, RefreshRequest, RefreshToken, RefreshTokenKey,
    RefreshTokenKeys, SignInRequest, TokenIssuer,
};
use serde::Serialize;
use static_assertions::{assert_impl_all, assert_not_impl_any};

// ---------------------------------------------------------------- compile-time proofs

// Secret-holding types of the core: neither printable with `{}` nor serialisable.
assert_not_impl_any!(ClientSecret: Display, Serialize);
assert_not_impl_any!(RefreshToken: Display, Serialize);
assert_not_impl_any!(RefreshTokenKey: Display, Serialize);
assert_not_impl_any!(RefreshTokenKeys: Display, Serialize);
assert_not_impl_any!(SigningKey: Display, Serialize);
assert_not_impl_any!(TokenSigner: Display, Serialize);
assert_not_impl_any!(AppClient: Display, Serialize);
assert_not_impl_any!(TokenIssuer: Display, Serialize);

// Request types that hold secrets once parsed: printable only through their redacting `Debug`.
assert_not_impl_any!(RefreshCall: Display, Serialize);
assert_not_impl_any!(RevokeCall: Display, Serialize);
assert_not_impl_any!(AuthCall: Display, Serialize);
assert_not_impl_any!(RefreshRequest<'static>: Display, Serialize);
assert_not_impl_any!(SignInRequest<'static>: Display, Serialize);

// Wire types carry secrets into JSON bodies by design: `Serialize` is deliberate, `Display` is not there.
assert_not_impl_any!(SensitiveString: Display);
assert_not_impl_any!(WireClientSecret: Display);
assert_not_impl_any!(AuthParameters: Display);
assert_not_impl_any!(AuthenticationResult: Display);
assert_impl_all!(SensitiveString: Serialize);
assert_impl_all!(WireClientSecret: Serialize);
assert_impl_all!(AuthParameters: Serialize);
assert_impl_all!(AuthenticationResult: Serialize);

// ---------------------------------------------------------------- exact Debug text

#[test]
fn r_safe_2_debug_of_client_secret() {
    let s = ClientSecret::new("S3cretMarker0123456789abcdef");
    assert_eq!(format!("{s:?}"), "ClientSecret([REDACTED])");
    assert_eq!(format!("{s:#?}"), "ClientSecret([REDACTED])");
}

#[test]
fn r_safe_2_debug_of_refresh_token() {
    let t = RefreshToken::new("S3cretMarkerRefreshToken");
    assert_eq!(format!("{t:?}"), "RefreshToken([REDACTED])");
}

#[test]
fn r_safe_2_debug_of_refresh_token_key_and_ring() {
    let k = RefreshTokenKey::new(7, b"S3cretMarker-refresh-key-material-32b").unwrap();
    assert_eq!(
        format!("{k:?}"),
        "RefreshTokenKey { key_id: 7, secret: [REDACTED] }"
    );
    let ring = RefreshTokenKeys::new(RefreshTokenKey::new(2, &[2; 32]).unwrap())
        .with_previous(k)
        .unwrap();
    assert_eq!(
        format!("{ring:?}"),
        "RefreshTokenKeys { current: RefreshTokenKey { key_id: 2, secret: [REDACTED] }, \
         previous: [RefreshTokenKey { key_id: 7, secret: [REDACTED] }] }"
    );
}

#[test]
fn r_safe_2_debug_of_signing_key() {
    let k = SigningKey::generate(Algorithm::EdDSA, "kid-1").unwrap();
    assert_eq!(
        format!("{k:?}"),
        r#"SigningKey { kid: "kid-1", alg: EdDSA, key: [REDACTED] }"#
    );
    let signer = TokenSigner::new(Arc::new(k));
    let dbg = format!("{signer:?}");
    assert!(dbg.contains("key: [REDACTED]"), "{dbg}");
}

#[test]
fn r_safe_2_debug_of_wire_secrets() {
    assert_eq!(
        format!("{:?}", SensitiveString::new("S3cretMarker")),
        "SensitiveString([REDACTED])"
    );
    assert_eq!(
        format!("{:?}", WireClientSecret::new("S3cretMarker")),
        "WireClientSecret([REDACTED])"
    );
    let p = AuthParameters(HashMap::from([
        ("SECRET_HASH".to_owned(), "S3cretMarker".to_owned()),
        ("REFRESH_TOKEN".to_owned(), "S3cretMarker".to_owned()),
    ]));
    assert_eq!(
        format!("{p:?}"),
        r#"AuthParameters(["REFRESH_TOKEN", "SECRET_HASH"] [values REDACTED])"#
    );
    let r = AuthenticationResult {
        access_token: "S3cretMarker.a.a".into(),
        expires_in: 3600,
        token_type: "Bearer".into(),
        refresh_token: Some("S3cretMarker".into()),
        id_token: "S3cretMarker.i.i".into(),
        new_device_metadata: None,
    };
    assert_eq!(
        format!("{r:?}"),
        r#"AuthenticationResult { access_token: "[REDACTED]", expires_in: 3600, token_type: "Bearer", refresh_token: Some("[REDACTED]"), id_token: "[REDACTED]", new_device_metadata: None }"#
    );
}

#[test]
fn r_safe_2_debug_of_requests_clients_and_issuer_hides_secrets() {
    let f = Fixture::new(Opts::rotating(0).with_secret());
    let secret = f.secret.clone().unwrap();
    let token = f.sign_in();
    let client = f.registry.get(&f.client_id).unwrap().unwrap();
    let t = RefreshToken::new(token.clone());
    let mut req = RefreshRequest::new(&t, f.id());
    req.client_secret = Some(PresentedSecret::parse(&secret).unwrap());
    let sign_in = SignInRequest {
        client_secret: Some(PresentedSecret::parse(&secret).unwrap()),
        ..SignInRequest::new(f.id(), "alice")
    };
    // SignInRequest and RefreshRequest hold secrets as borrowed credential types whose Debug is
    // redacted; the requests' Debug must not print them (found by this test when they were `&str`).
    for dbg in [
        format!("{client:?}"),
        format!("{:?}", f.registry),
        format!("{:?}", f.issuer),
        format!("{req:?}"),
        format!("{sign_in:?}"),
        format!("{:?}", client.to_wire()),
    ] {
        assert!(!dbg.contains(&secret), "{dbg}");
        assert!(!dbg.contains(&token), "{dbg}");
    }
    assert_eq!(
        format!("{req:?}"),
        format!(
            r#"RefreshRequest {{ refresh_token: RefreshToken([REDACTED]), client_id: ClientId("{}"), client_secret: Some(PresentedSecret([REDACTED])), device_key: None, client_metadata: None, announces_device: true }}"#,
            f.client_id
        )
    );
}

// ---------------------------------------------------------------- exact Debug text of every request

/// Marker values for the secret members of requests. Each has the shape its member's checks accept, so
/// the request parses, and each contains [`MARK`].
const M_TOKEN: &str = "S3cretMarkerRefreshToken.AAAA";
const M_SECRET: &str = "S3cretMarkerClientSecret0123456789";
const M_DEVICE: &str = "S3cretMarkerDevice_0a1b2c3d";
const M_PASSWORD: &str = "S3cretMarker Password!";
const M_HASH: &str = "S3cretMarkerSecretHash0123456789abcdefghijk=";
// SessionType is 20 to 4096 characters.
const M_SESSION: &str = "S3cretMarkerSession-2024";

/// `value`'s `Debug` is exactly `expected`, and neither it nor the alternate (`{:#?}`) form contains a
/// secret marker.
#[track_caller]
fn assert_debug(value: &dyn std::fmt::Debug, expected: &str) {
    let plain = format!("{value:?}");
    let pretty = format!("{value:#?}");
    assert!(!plain.contains(MARK), "Debug shows a secret: {plain}");
    assert!(!pretty.contains(MARK), "Debug shows a secret: {pretty}");
    assert_eq!(plain, expected);
}

fn json<T: serde::de::DeserializeOwned>(body: serde_json::Value) -> T {
    wire::from_json(body.to_string().as_bytes()).expect("a well-formed request body")
}

#[test]
fn r_safe_2_debug_of_get_tokens_from_refresh_token_request_and_call() {
    let req: GetTokensFromRefreshTokenRequest = json(serde_json::json!({
        "RefreshToken": M_TOKEN, "ClientId": "client1", "ClientSecret": M_SECRET,
        "DeviceKey": M_DEVICE, "ClientMetadata": {"k": "v"},
    }));
    // The wire body keeps DeviceKey as the model does (an identifier, not a sensitive member; R-REF-9):
    // only the token and the secret are redacted here.
    let shown = format!("{req:?}");
    assert_eq!(
        shown.replace(M_DEVICE, "<device>"),
        r#"GetTokensFromRefreshTokenRequest { refresh_token: Some(SensitiveString([REDACTED])), client_id: Some("client1"), client_secret: Some(SensitiveString([REDACTED])), device_key: Some("<device>"), client_metadata: Some({"k": "v"}) }"#
    );
    // The parsed call redacts the device key too, as the issuer's `RefreshRequest` does.
    let call = req.into_call().unwrap();
    assert_debug(
        &call,
        r#"RefreshCall { refresh_token: RefreshToken([REDACTED]), client_id: "client1", client_secret: Some(SecretString([REDACTED])), device_key: Some(SecretString([REDACTED])), client_metadata: Some({"k": "v"}) }"#,
    );
    // The request for the issuer, borrowed from the call.
    assert_debug(
        &call.as_request(),
        r#"RefreshRequest { refresh_token: RefreshToken([REDACTED]), client_id: ClientId("client1"), client_secret: Some(PresentedSecret([REDACTED])), device_key: Some(DeviceKey([REDACTED])), client_metadata: Some({"k": "v"}), announces_device: true }"#,
    );
    // Nothing is lost by the redaction.
    let r = call.as_request();
    assert_eq!(r.refresh_token.expose_secret(), M_TOKEN);
    assert_eq!(
        r.client_secret.map(PresentedSecret::expose_secret),
        Some(M_SECRET)
    );
    assert_eq!(r.device_key.map(DeviceKey::expose_secret), Some(M_DEVICE));
}

#[test]
fn r_safe_2_debug_of_revoke_token_request_and_call() {
    let req: RevokeTokenRequest = json(serde_json::json!({
        "Token": M_TOKEN, "ClientId": "client1", "ClientSecret": M_SECRET,
        "RevokeAssociatedSessions": "LINKED",
    }));
    assert_debug(
        &req,
        r#"RevokeTokenRequest { token: Some(SensitiveString([REDACTED])), client_id: Some("client1"), client_secret: Some(SensitiveString([REDACTED])), revoke_associated_sessions: Some("LINKED") }"#,
    );
    let call = req.into_call().unwrap();
    assert_debug(
        &call,
        r#"RevokeCall { token: RefreshToken([REDACTED]), client_id: "client1", client_secret: Some(SecretString([REDACTED])) }"#,
    );
    assert_eq!(call.token().expose_secret(), M_TOKEN);
    assert_eq!(
        call.client_secret().map(PresentedSecret::expose_secret),
        Some(M_SECRET)
    );
}

#[test]
fn r_safe_2_debug_of_initiate_auth_requests_and_calls() {
    // Password flow: PASSWORD and SECRET_HASH in AuthParameters, and a Session.
    let req: InitiateAuthRequest = json(serde_json::json!({
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "client1", "Session": M_SESSION,
        "AuthParameters": {"USERNAME": "alice", "PASSWORD": M_PASSWORD, "SECRET_HASH": M_HASH},
    }));
    assert_debug(
        &req,
        r#"InitiateAuthRequest { auth_flow: Some("USER_PASSWORD_AUTH"), auth_parameters: Some(AuthParameters(["PASSWORD", "SECRET_HASH", "USERNAME"] [values REDACTED])), client_metadata: None, client_id: Some("client1"), analytics_metadata: None, user_context_data: None, session: Some(SensitiveString([REDACTED])) }"#,
    );
    assert_debug(
        &AuthCall::from_initiate_auth(req).unwrap(),
        r#"AuthCall { api: InitiateAuth, user_pool_id: None, client_id: "client1", flow: Password { username: "alice", password: SecretString([REDACTED]), secret_hash: Some(SecretString([REDACTED])) }, client_metadata: None }"#,
    );

    // Refresh flow: REFRESH_TOKEN, SECRET_HASH and DEVICE_KEY in AuthParameters.
    let req: InitiateAuthRequest = json(serde_json::json!({
        "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": "client1",
        "AuthParameters": {"REFRESH_TOKEN": M_TOKEN, "SECRET_HASH": M_HASH, "DEVICE_KEY": M_DEVICE},
    }));
    assert_debug(
        &AuthCall::from_initiate_auth(req).unwrap(),
        r#"AuthCall { api: InitiateAuth, user_pool_id: None, client_id: "client1", flow: Refresh { token: RefreshToken([REDACTED]), secret_hash: Some(SecretString([REDACTED])), device_key: Some(SecretString([REDACTED])) }, client_metadata: None }"#,
    );

    // AdminInitiateAuth, both flows.
    let req: AdminInitiateAuthRequest = json(serde_json::json!({
        "UserPoolId": "us-east-1_TestPool", "ClientId": "client1",
        "AuthFlow": "ADMIN_USER_PASSWORD_AUTH", "Session": M_SESSION,
        "AuthParameters": {"USERNAME": "alice", "PASSWORD": M_PASSWORD, "SECRET_HASH": M_HASH},
        "ClientMetadata": {"k": "v"},
    }));
    assert_debug(
        &req,
        r#"AdminInitiateAuthRequest { user_pool_id: Some("us-east-1_TestPool"), client_id: Some("client1"), auth_flow: Some("ADMIN_USER_PASSWORD_AUTH"), auth_parameters: Some(AuthParameters(["PASSWORD", "SECRET_HASH", "USERNAME"] [values REDACTED])), client_metadata: Some({"k": "v"}), analytics_metadata: None, context_data: None, session: Some(SensitiveString([REDACTED])) }"#,
    );
    assert_debug(
        &AuthCall::from_admin_initiate_auth(req).unwrap(),
        r#"AuthCall { api: AdminInitiateAuth, user_pool_id: Some("us-east-1_TestPool"), client_id: "client1", flow: Password { username: "alice", password: SecretString([REDACTED]), secret_hash: Some(SecretString([REDACTED])) }, client_metadata: Some({"k": "v"}) }"#,
    );
    // ContextData carries the end user's own request headers (a bearer token, a cookie) and a
    // fingerprint: names shown, values not.
    let req: AdminInitiateAuthRequest = json(serde_json::json!({
        "UserPoolId": "us-east-1_TestPool", "ClientId": "client1", "AuthFlow": "REFRESH_TOKEN",
        "AuthParameters": {"REFRESH_TOKEN": M_TOKEN},
        "ContextData": {
            "IpAddress": "192.0.2.1", "ServerName": "app.example", "ServerPath": "/login",
            "HttpHeaders": [{"headerName": "Authorization", "headerValue": format!("Bearer {M_TOKEN}")}],
            "EncodedData": M_DEVICE,
        },
    }));
    assert_debug(
        req.context_data.as_ref().unwrap(),
        r#"ContextData { ip_address: "192.0.2.1", server_name: "app.example", server_path: "/login", http_headers: [HttpHeader { header_name: Some("Authorization"), header_value: Some("[REDACTED]") }], encoded_data: Some("[REDACTED]") }"#,
    );
    assert_debug(
        &AuthCall::from_admin_initiate_auth(req).unwrap(),
        r#"AuthCall { api: AdminInitiateAuth, user_pool_id: Some("us-east-1_TestPool"), client_id: "client1", flow: Refresh { token: RefreshToken([REDACTED]), secret_hash: None, device_key: None }, client_metadata: None }"#,
    );
}

#[test]
fn r_safe_2_debug_of_issuer_requests() {
    let token = RefreshToken::new(M_TOKEN);
    let metadata = HashMap::from([("k".to_owned(), "v".to_owned())]);
    let scopes = vec!["openid".to_owned()];
    let sign_in = SignInRequest {
        client_secret: Some(PresentedSecret::parse(M_SECRET).unwrap()),
        secret_hash: Some(SecretHash::parse(M_HASH).unwrap()),
        device_key: Some(DeviceKey::parse(M_DEVICE).unwrap()),
        scopes: Some(&scopes),
        client_metadata: Some(&metadata),
        ..SignInRequest::new(ClientId::parse("client1").unwrap(), "alice")
    };
    assert_debug(
        &sign_in,
        r#"SignInRequest { client_id: ClientId("client1"), username: "alice", client_secret: Some(PresentedSecret([REDACTED])), secret_hash: Some(SecretHash([REDACTED])), scopes: Some(["openid"]), device_key: Some(DeviceKey([REDACTED])), client_metadata: Some({"k": "v"}) }"#,
    );
    assert_debug(
        &SignInRequest::new(ClientId::parse("client1").unwrap(), "alice"),
        r#"SignInRequest { client_id: ClientId("client1"), username: "alice", client_secret: None, secret_hash: None, scopes: None, device_key: None, client_metadata: None }"#,
    );
    let mut refresh = RefreshRequest::new(&token, ClientId::parse("client1").unwrap());
    refresh.client_secret = Some(PresentedSecret::parse(M_SECRET).unwrap());
    refresh.device_key = Some(DeviceKey::parse(M_DEVICE).unwrap());
    assert_debug(
        &refresh,
        r#"RefreshRequest { refresh_token: RefreshToken([REDACTED]), client_id: ClientId("client1"), client_secret: Some(PresentedSecret([REDACTED])), device_key: Some(DeviceKey([REDACTED])), client_metadata: None, announces_device: true }"#,
    );
}

#[test]
fn r_safe_2_debug_of_client_requests_hides_the_secret() {
    // CreateUserPoolClient is the one client operation whose request carries a secret. Its other members
    // are configuration, so only the secret's part of the text is pinned.
    let req: CreateUserPoolClientRequest = json(serde_json::json!({
        "UserPoolId": "us-east-1_TestPool", "ClientName": "app", "ClientSecret": M_SECRET,
    }));
    let shown = format!("{req:?}");
    assert!(
        shown.contains("client_secret: Some(WireClientSecret([REDACTED]))"),
        "{shown}"
    );
    assert!(
        !shown.contains(MARK) && !format!("{req:#?}").contains(MARK),
        "{shown}"
    );
}

// ---------------------------------------------------------------- errors never echo secrets

/// Every secret-shaped marker used below. Each is recognisable and long enough not to occur by chance.
const MARK: &str = "S3cretMarker";

fn markers() -> Vec<String> {
    vec![
        format!("{MARK}RefreshTokenValueAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        format!("{MARK}ClientSecret0123456789"),
        format!("{MARK}!bad-shape secret"),
        format!("{MARK}SecretHash0123456789abcdefghijklmno="),
        format!("{MARK}_0a1b2c3d"),
        format!("{MARK}-device!key"),
        format!("{MARK}.not.a.jwt"),
    ]
}

#[track_caller]
fn assert_clean(e: &Error, secrets: &[&str]) {
    let texts = [
        e.message(),
        e.to_wire_body(),
        format!("{e:?}"),
        e.to_string(),
    ];
    for text in &texts {
        assert!(!text.contains(MARK), "error echoes a secret marker: {text}");
        for s in secrets {
            assert!(!text.contains(s), "error echoes a secret: {text}");
        }
    }
}

/// A marker parsed as a credential: `None`, after checking that the refusal does not echo it, if it
/// does not have the credential's shape.
#[track_caller]
fn parsed<T>(r: Result<T, Error>, secrets: &[&str]) -> Option<T> {
    r.inspect_err(|e| assert_clean(e, secrets)).ok()
}

fn fail<T: std::fmt::Debug>(r: Result<T, Error>) -> Error {
    r.expect_err("the request must fail")
}

#[test]
fn r_safe_2_token_operations_never_echo_presented_secrets() {
    for opts in [
        Opts::rotating(0),
        Opts::rotating(0).with_secret(),
        Opts::non_rotating(),
        Opts::non_rotating().with_secret(),
        Opts::rotating(0).device_tracking(),
    ] {
        let f = Fixture::new(opts);
        let real_token = f.sign_in();
        let mut pool_secrets = vec![real_token.as_str()];
        if let Some(s) = &f.secret {
            pool_secrets.push(s);
        }
        for m in markers() {
            let m = m.as_str();
            let presented = RefreshToken::new(m);
            let real = RefreshToken::new(real_token.clone());
            // GetTokensFromRefreshToken: marker as token, secret, device key.
            let r = f.get_tokens(&RefreshRequest::new(&presented, f.id()));
            assert_clean(&fail(r), &pool_secrets);
            // A marker is a secret, a SECRET_HASH or a device key only if it parses as one; the refusal
            // of one that does not must not echo it either.
            let secret = parsed(PresentedSecret::parse(m), &pool_secrets);
            let hash = parsed(SecretHash::parse(m), &pool_secrets);
            let device = parsed(DeviceKey::parse(m), &pool_secrets);
            if let Some(secret) = secret {
                let mut req = RefreshRequest::new(&real, f.id());
                req.client_secret = Some(secret);
                if let Err(e) = f.get_tokens(&req) {
                    assert_clean(&e, &pool_secrets);
                }
            }
            if let Some(device) = device {
                let mut req = RefreshRequest::new(&real, f.id());
                req.client_secret = f.presented();
                req.device_key = Some(device);
                if let Err(e) = f.get_tokens(&req) {
                    assert_clean(&e, &pool_secrets);
                }
            }
            // Legacy refresh: marker as token, SECRET_HASH, DEVICE_KEY.
            for (tok, hash, dev) in [
                (&presented, None, None),
                (&real, hash, None),
                (&real, f.secret.as_ref().and(hash), device),
            ] {
                if let Err(e) = f
                    .issuer
                    .legacy_refresh(&refresh_rotation::LegacyRefreshRequest {
                        refresh_token: tok,
                        client_id: f.id(),
                        secret_hash: hash,
                        device_key: dev,
                        client_metadata: None,
                    })
                {
                    assert_clean(&e, &pool_secrets);
                }
            }
            // RevokeToken: marker as token and as secret.
            if let Err(e) = f.issuer.revoke_token(&presented, f.id(), f.presented()) {
                assert_clean(&e, &pool_secrets);
            }
            if let Some(secret) = secret {
                if let Err(e) = f.issuer.revoke_token(&real, f.id(), Some(secret)) {
                    assert_clean(&e, &pool_secrets);
                }
            }
            // Sign-in: marker as secret, as SECRET_HASH, as device key.
            for (s, h) in [(Some(m), None), (None, Some(m))] {
                if let Err(e) = f.try_sign_in(s, h) {
                    assert_clean(&e, &pool_secrets);
                }
            }
            if let Some(device) = device {
                let req = SignInRequest {
                    device_key: Some(device),
                    client_secret: f.presented(),
                    ..SignInRequest::new(f.id(), "alice")
                };
                if let Err(e) = f.issuer.sign_in(&req) {
                    assert_clean(&e, &pool_secrets);
                }
            }
            // The JWT verifier.
            let v = f.verifier();
            let now = Timestamp::from_unix_seconds(common::START);
            for use_ in [TokenUse::Access, TokenUse::Id] {
                let e = fail(v.verify(m, use_, &f.client_id, now, &NoRevocationCheck));
                assert_clean(&e, &pool_secrets);
            }
        }
    }
}

#[test]
fn r_safe_2_client_operations_never_echo_secrets() {
    let f = Fixture::new(Opts::rotating(0).with_secret());
    let pool_secret = f.secret.clone().unwrap();
    for m in markers() {
        // A custom secret of the wrong shape, or together with GenerateSecret.
        for generate in [None, Some(true)] {
            let req = CreateUserPoolClientRequest {
                user_pool_id: Some("us-east-1_TestPool".into()),
                client_name: Some("app".into()),
                client_secret: Some(WireClientSecret::new(m.clone())),
                generate_secret: generate,
                // Another violation, so the secret's own check is not the only one reported.
                auth_session_validity: Some(99),
                ..Default::default()
            };
            let e = fail(f.registry.create_user_pool_client(&req));
            assert_clean(&e, &[&pool_secret]);
        }
        // Bodies that fail to parse after a secret member.
        let bodies = [
            format!(r#"{{"UserPoolId":"us-east-1_TestPool","ClientSecret":"{m}","Bogus":1}}"#),
            format!(r#"{{"ClientSecret":"{m}"#),
            format!(r#"{{"ClientSecret":"{m}","ClientSecret":"{m}"}}"#),
        ];
        for body in &bodies {
            let e = fail(wire::from_json::<CreateUserPoolClientRequest>(
                body.as_bytes(),
            ));
            assert_clean(&e, &[]);
            // Update has no ClientSecret member: refused by name, without its value.
            let e = fail(wire::from_json::<UpdateUserPoolClientRequest>(
                body.as_bytes(),
            ));
            assert_clean(&e, &[]);
        }
        let token_bodies = [
            format!(r#"{{"RefreshToken":"{m}","ClientId":"c","Extra":true}}"#),
            format!(r#"{{"RefreshToken":"{m}","ClientId":7}}"#),
            format!(r#"{{"Token":"{m}","ClientSecret":"{m}","ClientId":[1]}}"#),
            format!(r#"{{"AuthParameters":{{"SECRET_HASH":"{m}","X":1}},"ClientId":"c"}}"#),
        ];
        for body in &token_bodies {
            let b = body.as_bytes();
            if let Err(e) = wire::from_json::<GetTokensFromRefreshTokenRequest>(b) {
                assert_clean(&e, &[]);
            }
            if let Err(e) = wire::from_json::<RevokeTokenRequest>(b) {
                assert_clean(&e, &[]);
            }
            if let Err(e) = wire::from_json::<InitiateAuthRequest>(b) {
                assert_clean(&e, &[]);
            }
        }
    }
}

/// Found by the `wire_ops` fuzz target: a malformed DEVICE_KEY inside AuthParameters, a map the
/// model marks sensitive, was echoed in the InvalidParameterException message.
#[test]
fn fuzz_regression_device_key_from_auth_parameters_is_not_echoed() {
    let f = Fixture::new(Opts::non_rotating());
    let token = f.sign_in();
    let device = "us-east-1_0a1b2c3d-0000-+000-8000-00000000beef";
    let req: InitiateAuthRequest = json(serde_json::json!({
        "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": f.client_id,
        "AuthParameters": {"REFRESH_TOKEN": token, "DEVICE_KEY": device},
    }));
    // Refused where the wire adapter parses it, and by the parse itself, in the same words.
    for e in [
        fail(AuthCall::from_initiate_auth(req)),
        fail(DeviceKey::parse(device)),
    ] {
        assert_eq!(e.exception_name(), "InvalidParameterException");
        assert!(e.message().contains("'DeviceKey'"), "{}", e.message());
        assert!(!e.message().contains(device), "{}", e.message());
    }
}
