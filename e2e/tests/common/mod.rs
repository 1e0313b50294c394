//! Shared by the end-to-end tests: the example's server compiled in, an SDK client pointed at it, raw
//! HTTP for what the SDK cannot send, and an independent JWT verifier.
#![allow(dead_code)]

#[path = "../../../examples/cognito_server/server.rs"]
pub mod server;

use aws_sdk_cognitoidentityprovider as cip;
use cip::config::{BehaviorVersion, Credentials, Region};
use cip::error::ProvideErrorMetadata;
use cip::types::{
    AuthFlowType, AuthenticationResultType, ExplicitAuthFlowsType, FeatureType, MessageActionType,
    RefreshTokenRotationType,
};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub use server::{RunningServer, ServerConfig};

pub const PASSWORD: &str = "Correct-Horse-42";

/// A service on a free loopback port, with a cheap PBKDF2 so debug builds stay quick.
pub async fn start(manual_clock: bool) -> RunningServer {
    start_with(ServerConfig {
        manual_clock,
        pbkdf2_iterations: 1_000,
        ..ServerConfig::default()
    })
    .await
}

pub async fn start_with(config: ServerConfig) -> RunningServer {
    server::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("bind a loopback port")
}

/// The unmodified SDK client: plain HTTP (no TLS stack), static test credentials, a fixed region, and no
/// retries so that every call is sent exactly once.
pub fn sdk(srv: &RunningServer) -> cip::Client {
    let conf = cip::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDE2ETEST",
            "e2e-test-secret",
            None,
            None,
            "e2e",
        ))
        .endpoint_url(srv.url())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(cip::config::retry::RetryConfig::disabled())
        .build();
    cip::Client::from_conf(conf)
}

/// The exception name and message of a failed SDK call.
pub fn err<E: ProvideErrorMetadata>(e: E) -> (String, String) {
    (
        e.code().unwrap_or("<no code>").to_owned(),
        e.message().unwrap_or("").to_owned(),
    )
}

/// A raw HTTP/1.1 exchange: `(status, body)`.
pub async fn raw(srv: &RunningServer, request: &[u8]) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    // The server may close while we are still writing a large body; read whatever came back.
    let _ = s.read_to_end(&mut buf).await;
    parse_response(&buf)
}

pub fn parse_response(buf: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(buf);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// `POST /` with a target and a body, `Connection: close`.
pub async fn post(srv: &RunningServer, target: Option<&str>, body: &str) -> (u16, Value) {
    let mut req = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n",
        srv.addr(),
        body.len()
    );
    if let Some(t) = target {
        req.push_str(&format!("X-Amz-Target: {t}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    let (status, body) = raw(srv, req.as_bytes()).await;
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

pub async fn get(srv: &RunningServer, path: &str) -> (u16, String) {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        srv.addr()
    );
    raw(srv, req.as_bytes()).await
}

/// `POST /_clock`: moves the manual clock; returns the new time.
pub async fn advance(srv: &RunningServer, seconds: u64) -> i64 {
    let body = format!(r#"{{"AdvanceSeconds":{seconds}}}"#);
    let req = format!(
        "POST /_clock HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        srv.addr(),
        body.len()
    );
    let (status, body) = raw(srv, req.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    v["Now"].as_i64().unwrap()
}

/// A pool with one user `alice` (password [`PASSWORD`]).
pub async fn pool(c: &cip::Client, devices: bool) -> String {
    let mut req = c.create_user_pool().pool_name("e2e");
    if devices {
        req = req.device_configuration(
            cip::types::DeviceConfigurationType::builder()
                .challenge_required_on_new_device(false)
                .device_only_remembered_on_user_prompt(false)
                .build(),
        );
    }
    let pool = req.send().await.unwrap().user_pool.unwrap().id.unwrap();
    add_user(c, &pool, "alice").await;
    pool
}

pub async fn add_user(c: &cip::Client, pool: &str, username: &str) {
    c.admin_create_user()
        .user_pool_id(pool)
        .username(username)
        .message_action(MessageActionType::Suppress)
        .user_attributes(
            cip::types::AttributeType::builder()
                .name("email")
                .value(format!("{username}@example.com"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    c.admin_set_user_password()
        .user_pool_id(pool)
        .username(username)
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
}

/// How a test client is configured.
#[derive(Clone, Copy)]
pub struct ClientOpts {
    /// `Some(grace)`: rotation ENABLED with that grace; `None`: DISABLED.
    pub rotation: Option<i32>,
    pub secret: bool,
}

/// An app client allowing the password flows (and REFRESH_TOKEN_AUTH when rotation is off).
/// Returns `(client_id, secret)`.
pub async fn client(c: &cip::Client, pool: &str, o: ClientOpts) -> (String, Option<String>) {
    let mut flows = vec![
        ExplicitAuthFlowsType::AllowUserPasswordAuth,
        ExplicitAuthFlowsType::AllowAdminUserPasswordAuth,
    ];
    let rotation = match o.rotation {
        Some(g) => RefreshTokenRotationType::builder()
            .feature(FeatureType::Enabled)
            .retry_grace_period_seconds(g)
            .build()
            .unwrap(),
        None => {
            flows.push(ExplicitAuthFlowsType::AllowRefreshTokenAuth);
            RefreshTokenRotationType::builder()
                .feature(FeatureType::Disabled)
                .build()
                .unwrap()
        }
    };
    let out = c
        .create_user_pool_client()
        .user_pool_id(pool)
        .client_name("e2e-app")
        .generate_secret(o.secret)
        .set_explicit_auth_flows(Some(flows))
        .refresh_token_rotation(rotation)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    (out.client_id.unwrap(), out.client_secret)
}

/// `Base64(HMAC-SHA-256(secret, username + clientId))`, computed here independently of the crate.
pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    use base64::Engine as _;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, format!("{username}{client_id}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(tag.as_ref())
}

/// AdminInitiateAuth with ADMIN_USER_PASSWORD_AUTH as `username`.
pub async fn sign_in(
    c: &cip::Client,
    pool: &str,
    client_id: &str,
    secret: Option<&str>,
    username: &str,
) -> AuthenticationResultType {
    let mut req = c
        .admin_initiate_auth()
        .user_pool_id(pool)
        .client_id(client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", PASSWORD);
    if let Some(s) = secret {
        req = req.auth_parameters("SECRET_HASH", secret_hash(s, username, client_id));
    }
    req.send().await.unwrap().authentication_result.unwrap()
}

/// GetTokensFromRefreshToken.
pub async fn refresh(
    c: &cip::Client,
    client_id: &str,
    token: &str,
) -> Result<AuthenticationResultType, (String, String)> {
    c.get_tokens_from_refresh_token()
        .client_id(client_id)
        .refresh_token(token)
        .send()
        .await
        .map(|r| r.authentication_result.unwrap())
        .map_err(err)
}

/// A rotating GetTokensFromRefreshToken that must succeed: the successor refresh token.
pub async fn rotate(c: &cip::Client, client_id: &str, token: &str) -> String {
    refresh(c, client_id, token)
        .await
        .expect("refresh")
        .refresh_token
        .expect("a rotating refresh returns a refresh token")
}

/// Verifies a JWT with jsonwebtoken against the JWKS the service serves for `pool`, pinned to RS256 as
/// most resource servers are (the service's default, R-SRV-5); returns the claims.
pub async fn verify_jwt(
    srv: &RunningServer,
    pool: &str,
    token: &str,
    audience: Option<&str>,
) -> Value {
    verify_jwt_with(srv, pool, token, audience, jsonwebtoken::Algorithm::RS256).await
}

/// [`verify_jwt`] with the verifier pinned to `alg`.
pub async fn verify_jwt_with(
    srv: &RunningServer,
    pool: &str,
    token: &str,
    audience: Option<&str>,
    alg: jsonwebtoken::Algorithm,
) -> Value {
    let (status, jwks) = get(srv, &format!("/{pool}/.well-known/jwks.json")).await;
    assert_eq!(status, 200, "{jwks}");
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&jwks).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let kid = header.kid.expect("kid in the header");
    let jwk = set
        .find(&kid)
        .expect("the token's kid is in the served JWKS");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    // The algorithm is pinned by the verifier, never taken from the token.
    let mut v = jsonwebtoken::Validation::new(alg);
    v.set_issuer(&[format!(
        "https://cognito-idp.us-east-1.amazonaws.com/{pool}"
    )]);
    match audience {
        Some(a) => v.set_audience(&[a]),
        None => v.validate_aud = false,
    }
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap_or_else(|e| panic!("jsonwebtoken ({alg:?} pinned) refused the token: {e}"))
        .claims
}

/// A raw HTTP/1.1 exchange that keeps the response's head: `(status, head, body)`, the head with its
/// header names lower-cased.
pub async fn raw_with_head(srv: &RunningServer, request: &[u8]) -> (u16, String, String) {
    let mut s = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let head = head
        .lines()
        .map(|l| match l.split_once(':') {
            Some((n, v)) => format!("{}:{v}", n.to_ascii_lowercase()),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    (status, head, body.to_owned())
}

/// `POST /` with a target and a body, `Connection: close`, as bytes for [`raw_with_head`].
pub fn post_request(srv: &RunningServer, target: &str, body: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: AWSCognitoIdentityProviderService.{target}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        srv.addr(),
        body.len()
    )
    .into_bytes()
}
