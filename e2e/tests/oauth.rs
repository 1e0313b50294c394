//! R-SRV-7 and R-OAUTH: the example service's OAuth 2.0 routes driven by a stock OAuth client library
//! (the `oauth2` crate, over plain HTTP), as any OAuth or OpenID Connect client would refresh, and raw
//! HTTP for the exact status codes, headers and error bodies.
//!
//! Pools, users and clients are made with the AWS SDK, as an administrator would; everything after the
//! sign-in goes through `/oauth2/...` only.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AuthType, ClientId, ClientSecret, EndpointNotSet, EndpointSet, RefreshToken, RequestTokenError,
    RevocationUrl, StandardRevocableToken, TokenResponse, TokenUrl,
};
use serde_json::Value;

/// The stock client with a token and a revocation endpoint.
type OAuthClient =
    BasicClient<EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet, EndpointSet>;

/// The HTTP client the `oauth2` docs ask for: no redirects followed. Plain HTTP, no TLS stack.
fn http() -> oauth2::reqwest::Client {
    oauth2::reqwest::Client::builder()
        .redirect(oauth2::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The stock client for these endpoints.
///
/// RFC 7009 §2 says a client MUST check that the revocation endpoint is HTTPS, and `oauth2` does
/// (`ConfigurationError::InsecureUrl`), while the example service speaks plain HTTP on loopback. So the
/// client is given the `https://` form of the revocation URL, and its requests go through
/// [`loopback_tls_terminator`], which stands where a TLS-terminating proxy would in a deployment.
fn oauth_client(
    token_endpoint: &str,
    revocation_endpoint: &str,
    client_id: &str,
    secret: Option<&str>,
    auth: AuthType,
) -> OAuthClient {
    let revocation = revocation_endpoint.replacen("http://", "https://", 1);
    let c = BasicClient::new(ClientId::new(client_id.to_owned()))
        .set_auth_type(auth)
        .set_token_uri(TokenUrl::new(token_endpoint.to_owned()).unwrap())
        .set_revocation_url(RevocationUrl::new(revocation).unwrap());
    match secret {
        Some(s) => c.set_client_secret(ClientSecret::new(s.to_owned())),
        None => c,
    }
}

/// The `oauth2` HTTP client with `https://` turned back into `http://`: the example service on loopback
/// plays both the TLS-terminating proxy and the service (see [`oauth_client`]).
async fn loopback_tls_terminator(
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, oauth2::HttpClientError<oauth2::reqwest::Error>> {
    use oauth2::AsyncHttpClient as _;
    let (mut parts, body) = request.into_parts();
    let uri = parts.uri.to_string();
    if let Some(rest) = uri.strip_prefix("https://") {
        parts.uri = format!("http://{rest}").parse().unwrap();
    }
    let client = http();
    client
        .call(oauth2::http::Request::from_parts(parts, body))
        .await
}

/// A client pointed at the service's endpoints by their well-known paths.
fn client_at(srv: &RunningServer, id: &str, secret: Option<&str>, auth: AuthType) -> OAuthClient {
    oauth_client(
        &format!("{}/oauth2/token", srv.url()),
        &format!("{}/oauth2/revoke", srv.url()),
        id,
        secret,
        auth,
    )
}

/// `grant_type=refresh_token` through the stock client; the OAuth error code on failure.
async fn refresh_grant(c: &OAuthClient, token: &str) -> Result<BasicTokenResponse, String> {
    c.exchange_refresh_token(&RefreshToken::new(token.to_owned()))
        .request_async(&http())
        .await
        .map_err(|e| match e {
            RequestTokenError::ServerResponse(r) => r.error().to_string(),
            other => panic!("not an OAuth error response: {other:?}"),
        })
}

/// The successor refresh token of a rotating refresh that must succeed.
async fn rotate_grant(c: &OAuthClient, token: &str) -> String {
    refresh_grant(c, token)
        .await
        .expect("refresh through /oauth2/token")
        .refresh_token()
        .expect("a rotating client gets a new refresh token")
        .secret()
        .clone()
}

async fn revoke_grant(c: &OAuthClient, token: &str) -> Result<(), String> {
    c.revoke_token(StandardRevocableToken::RefreshToken(RefreshToken::new(
        token.to_owned(),
    )))
    .unwrap()
    .request_async(&loopback_tls_terminator)
    .await
    .map_err(|e| match e {
        RequestTokenError::ServerResponse(r) => r.error().to_string(),
        other => panic!("not an OAuth error response: {other:?}"),
    })
}

/// The scenario of the issue, for one client authentication method: rotation, the grace retry, reuse
/// after the window, revocation, and a revoked token refused.
async fn rotation_scenario(auth: AuthType) {
    let srv = start(true).await;
    let sdk = sdk(&srv);
    let pool = pool(&sdk, false).await;
    let (id, secret) = client(
        &sdk,
        &pool,
        ClientOpts {
            rotation: Some(5),
            secret: true,
        },
    )
    .await;
    let t0 = sign_in(&sdk, &pool, &id, secret.as_deref(), "alice")
        .await
        .refresh_token
        .unwrap();
    let c = client_at(&srv, &id, secret.as_deref(), auth);

    // A new refresh token on each refresh.
    let r = refresh_grant(&c, &t0).await.unwrap();
    let t1 = r.refresh_token().unwrap().secret().clone();
    assert_ne!(t1, t0);
    assert_eq!(r.token_type().as_ref(), "bearer");
    assert_eq!(r.expires_in().map(|d| d.as_secs()), Some(3600));
    let claims = verify_jwt(&srv, &pool, r.access_token().secret(), None).await;
    assert_eq!(claims["client_id"], id.as_str());
    // A retry inside the grace window gets the very same successor (R-ROT-2).
    assert_eq!(rotate_grant(&c, &t0).await, t1);
    let t2 = rotate_grant(&c, &t1).await;
    assert_ne!(t2, t1);
    // After the window, the rotated-out token is reuse: invalid_grant.
    advance(&srv, 5).await;
    assert_eq!(refresh_grant(&c, &t1).await.unwrap_err(), "invalid_grant");
    // Revocation through /oauth2/revoke; the revoked token is refused, and revoking again succeeds.
    revoke_grant(&c, &t2).await.unwrap();
    assert_eq!(refresh_grant(&c, &t2).await.unwrap_err(), "invalid_grant");
    revoke_grant(&c, &t2).await.unwrap();
    // The Cognito path agrees: the family is revoked for GetTokensFromRefreshToken too.
    let (code, _) = common::refresh(&sdk, &id, &t2).await.unwrap_err();
    assert_eq!(code, "NotAuthorizedException");
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_srv_7_stock_client_rotates_with_client_secret_basic() {
    rotation_scenario(AuthType::BasicAuth).await;
}

#[tokio::test]
async fn r_srv_7_stock_client_rotates_with_client_secret_post() {
    rotation_scenario(AuthType::RequestBody).await;
}

#[tokio::test]
async fn r_srv_7_non_rotating_and_public_clients() {
    let srv = start(false).await;
    let sdk = sdk(&srv);
    let pool = pool(&sdk, false).await;

    // Rotation off: never a refresh token, and the same token keeps working.
    let (id, secret) = client(
        &sdk,
        &pool,
        ClientOpts {
            rotation: None,
            secret: true,
        },
    )
    .await;
    let t = sign_in(&sdk, &pool, &id, secret.as_deref(), "alice")
        .await
        .refresh_token
        .unwrap();
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let c = client_at(&srv, &id, secret.as_deref(), auth);
        let r = refresh_grant(&c, &t).await.unwrap();
        assert!(
            r.refresh_token().is_none(),
            "no refresh token without rotation"
        );
    }
    // A wrong secret is invalid_client, whichever way it is sent.
    for auth in [AuthType::BasicAuth, AuthType::RequestBody] {
        let c = client_at(&srv, &id, Some(&"w".repeat(51)), auth);
        assert_eq!(refresh_grant(&c, &t).await.unwrap_err(), "invalid_client");
    }

    // A public client: client_id alone (the stock client puts it in the body).
    let (id, secret) = client(
        &sdk,
        &pool,
        ClientOpts {
            rotation: Some(0),
            secret: false,
        },
    )
    .await;
    assert!(secret.is_none());
    let t0 = sign_in(&sdk, &pool, &id, None, "alice")
        .await
        .refresh_token
        .unwrap();
    let c = client_at(&srv, &id, None, AuthType::BasicAuth);
    let t1 = rotate_grant(&c, &t0).await;
    // Grace 0: the old token is invalid at once.
    assert_eq!(refresh_grant(&c, &t0).await.unwrap_err(), "invalid_grant");
    revoke_grant(&c, &t1).await.unwrap();
    assert_eq!(refresh_grant(&c, &t1).await.unwrap_err(), "invalid_grant");
    srv.stop().await.unwrap();
}

/// What a new user does: only the issuer location (the service and the pool id) is known; the
/// discovery document names everything else.
#[tokio::test]
async fn r_srv_7_a_client_finds_the_endpoints_from_the_discovery_document() {
    let srv = start(true).await;
    let sdk = sdk(&srv);
    let pool = pool(&sdk, false).await;
    let (id, secret) = client(
        &sdk,
        &pool,
        ClientOpts {
            rotation: Some(5),
            secret: true,
        },
    )
    .await;
    let t0 = sign_in(&sdk, &pool, &id, secret.as_deref(), "alice")
        .await
        .refresh_token
        .unwrap();

    let location = format!("{}/{pool}", srv.url());
    let doc: Value = http()
        .get(format!("{location}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap()
        .json_or_text()
        .await;
    assert_eq!(
        doc["issuer"],
        format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}")
    );
    assert_eq!(doc["token_endpoint"], format!("{}/oauth2/token", srv.url()));
    assert_eq!(
        doc["revocation_endpoint"],
        format!("{}/oauth2/revoke", srv.url())
    );
    assert_eq!(doc["jwks_uri"], format!("{location}/.well-known/jwks.json"));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post"])
    );
    assert!(doc.get("introspection_endpoint").is_none(), "opt-in: {doc}");

    // Everything below follows the document, not the paths this test knows.
    let c = oauth_client(
        doc["token_endpoint"].as_str().unwrap(),
        doc["revocation_endpoint"].as_str().unwrap(),
        &id,
        secret.as_deref(),
        AuthType::BasicAuth,
    );
    let r = refresh_grant(&c, &t0).await.unwrap();
    let t1 = r.refresh_token().unwrap().secret().clone();
    // The ID token (an extra field the basic client does not model) verifies against jwks_uri.
    let jwks = http()
        .get(doc["jwks_uri"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json_or_text()
        .await;
    assert!(
        jwks["keys"].as_array().is_some_and(|k| !k.is_empty()),
        "{jwks}"
    );
    let claims = verify_jwt(&srv, &pool, r.access_token().secret(), None).await;
    assert_eq!(claims["token_use"], "access");
    let t2 = rotate_grant(&c, &t1).await;
    advance(&srv, 5).await;
    assert_eq!(refresh_grant(&c, &t1).await.unwrap_err(), "invalid_grant");
    revoke_grant(&c, &t2).await.unwrap();
    assert_eq!(refresh_grant(&c, &t2).await.unwrap_err(), "invalid_grant");

    // An unknown pool has no document.
    let (status, _) = get(
        &srv,
        "/us-east-1_nosuchpool/.well-known/openid-configuration",
    )
    .await;
    assert_eq!(status, 404);
    srv.stop().await.unwrap();
}

/// R-SRV-7: bound to every interface (`0.0.0.0`, as `--allow-non-loopback` allows), the service names its
/// endpoints on the address the client reached it by, not on `0.0.0.0`, which no client can use, and
/// says `Vary: Host`.
#[tokio::test]
async fn r_srv_7_bound_to_every_interface_the_endpoints_are_named_on_the_host_asked() {
    let srv = server::start(
        ServerConfig {
            pbkdf2_iterations: 1_000,
            ..ServerConfig::default()
        },
        "0.0.0.0:0".parse().unwrap(),
    )
    .await
    .unwrap();
    let pool = pool(&sdk(&srv), false).await;
    let host = format!("127.0.0.1:{}", srv.addr().port());
    let (status, head, body) = raw_with_head(
        &srv,
        format!(
            "GET /{pool}/.well-known/openid-configuration HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // The document depends on Host: a shared cache must not give it to another host's clients.
    assert!(head.contains("vary: host"), "{head}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["token_endpoint"], format!("http://{host}/oauth2/token"));
    assert_eq!(
        doc["jwks_uri"],
        format!("http://{host}/{pool}/.well-known/jwks.json")
    );
    // A Host that is not a plain host:port is not echoed into the document.
    let (_, body) = raw(
        &srv,
        format!(
            "GET /{pool}/.well-known/openid-configuration HTTP/1.1\r\nHost: evil.example/x?\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
    .await;
    assert!(!body.contains("evil.example"), "{body}");
    srv.stop().await.unwrap();
}

trait JsonOrText {
    async fn json_or_text(self) -> Value;
}

impl JsonOrText for oauth2::reqwest::Response {
    async fn json_or_text(self) -> Value {
        assert_eq!(self.status().as_u16(), 200);
        let text = self.text().await.unwrap();
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
    }
}

/// `POST <path>` with a form body and optional extra header lines, `Connection: close`.
fn form_request(srv: &RunningServer, path: &str, extra: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         {extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        srv.addr(),
        body.len()
    )
    .into_bytes()
}

fn basic_header(id: &str, secret: &str) -> String {
    use base64::Engine as _;
    format!(
        "Authorization: Basic {}\r\n",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// The head has the header `name: value` (name in lower case).
fn has_header(head: &str, name: &str, value: &str) -> bool {
    head.lines()
        .any(|l| l.eq_ignore_ascii_case(&format!("{name}: {value}")))
}

/// Asserts an RFC 6749 §5.2 error with its caching headers; returns the description.
fn assert_oauth_error(status: u16, head: &str, body: &str, want_status: u16, code: &str) -> String {
    assert_eq!(status, want_status, "{head}\n{body}");
    assert!(has_header(head, "cache-control", "no-store"), "{head}");
    assert!(has_header(head, "pragma", "no-cache"), "{head}");
    assert!(
        has_header(head, "content-type", "application/json"),
        "{head}"
    );
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["error"], code, "{v}");
    assert_eq!(
        v.as_object().unwrap().len(),
        2,
        "error and error_description only: {v}"
    );
    v["error_description"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn r_srv_7_raw_http_pins_statuses_headers_and_error_bodies() {
    let srv = start(false).await;
    let sdk = sdk(&srv);
    let pool = pool(&sdk, false).await;
    let (id, secret) = client(
        &sdk,
        &pool,
        ClientOpts {
            rotation: Some(0),
            secret: true,
        },
    )
    .await;
    let secret = secret.unwrap();
    let t0 = sign_in(&sdk, &pool, &id, Some(&secret), "alice")
        .await
        .refresh_token
        .unwrap();
    let grant = format!("grant_type=refresh_token&refresh_token={t0}");

    // Success: 200, JSON, no-store, no-cache; refresh_token because the client rotates.
    let (status, head, body) = raw_with_head(
        &srv,
        &form_request(&srv, "/oauth2/token", &basic_header(&id, &secret), &grant),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(has_header(&head, "cache-control", "no-store"), "{head}");
    assert!(has_header(&head, "pragma", "no-cache"), "{head}");
    assert!(
        has_header(&head, "content-type", "application/json"),
        "{head}"
    );
    let v: Value = serde_json::from_str(&body).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "access_token",
            "expires_in",
            "id_token",
            "refresh_token",
            "token_type"
        ]
    );
    assert_eq!(v["token_type"], "Bearer");
    let t1 = v["refresh_token"].as_str().unwrap().to_owned();

    // invalid_client over Basic: 401 with the challenge; over the body: 400 without it.
    let wrong = "w".repeat(51);
    let grant1 = format!("grant_type=refresh_token&refresh_token={t1}");
    let (s, head, body) = raw_with_head(
        &srv,
        &form_request(&srv, "/oauth2/token", &basic_header(&id, &wrong), &grant1),
    )
    .await;
    let d = assert_oauth_error(s, &head, &body, 401, "invalid_client");
    assert!(
        has_header(&head, "www-authenticate", r#"Basic realm="oauth2""#),
        "{head}"
    );
    // The same description as for an unknown client (R-OAUTH-3): no oracle for which ids exist.
    assert_eq!(d, "Client authentication failed.");
    assert!(!body.contains(&wrong) && !body.contains(&t1));
    let (s, head, body) = raw_with_head(
        &srv,
        &form_request(
            &srv,
            "/oauth2/token",
            "",
            &format!("{grant1}&client_id={id}&client_secret={wrong}"),
        ),
    )
    .await;
    assert_oauth_error(s, &head, &body, 400, "invalid_client");
    assert!(!head.contains("www-authenticate"), "{head}");
    // A client of no pool of this service.
    let (s, head, body) = raw_with_head(
        &srv,
        &form_request(
            &srv,
            "/oauth2/token",
            "",
            &format!("{grant1}&client_id=nosuchclient"),
        ),
    )
    .await;
    assert_oauth_error(s, &head, &body, 400, "invalid_client");

    // invalid_request: two methods, a repeated parameter, a missing one.
    let (s, head, body) = raw_with_head(
        &srv,
        &form_request(
            &srv,
            "/oauth2/token",
            &basic_header(&id, &secret),
            &format!("{grant1}&client_secret={secret}"),
        ),
    )
    .await;
    assert_oauth_error(s, &head, &body, 400, "invalid_request");
    let (s, head, body) = raw_with_head(
        &srv,
        &form_request(
            &srv,
            "/oauth2/token",
            &basic_header(&id, &secret),
            &format!("{grant1}&refresh_token={t1}"),
        ),
    )
    .await;
    let d = assert_oauth_error(s, &head, &body, 400, "invalid_request");
    assert_eq!(d, "The parameter refresh_token is repeated.");
    let (s, head, body) = raw_with_head(
        &srv,
        &form_request(
            &srv,
            "/oauth2/token",
            &basic_header(&id, &secret),
            "grant_type=refresh_token",
        ),
    )
    .await;
    assert_oauth_error(s, &head, &body, 400, "invalid_request");
    // unsupported_grant_type.
    let (s, head, body) = raw_with_head(
        &srv,
        &form_request(
            &srv,
            "/oauth2/token",
            &basic_header(&id, &secret),
            "grant_type=password&username=alice",
        ),
    )
    .await;
    assert_oauth_error(s, &head, &body, 400, "unsupported_grant_type");
    // invalid_grant: grace 0, the old token is reuse at once.
    let (s, head, body) = raw_with_head(
        &srv,
        &form_request(&srv, "/oauth2/token", &basic_header(&id, &secret), &grant),
    )
    .await;
    let d = assert_oauth_error(s, &head, &body, 400, "invalid_grant");
    assert_eq!(d, "Refresh token has been invalidated by rotation.");

    // Revocation: 200 with an empty body; an access token is unsupported_token_type; no token is
    // invalid_request; a forged token is 200.
    let access = sign_in(&sdk, &pool, &id, Some(&secret), "alice")
        .await
        .access_token
        .unwrap();
    let (s, head, body) = raw_with_head(
        &srv,
        &form_request(
            &srv,
            "/oauth2/revoke",
            &basic_header(&id, &secret),
            &format!("token={access}"),
        ),
    )
    .await;
    assert_oauth_error(s, &head, &body, 400, "unsupported_token_type");
    let (s, head, body) = raw_with_head(
        &srv,
        &form_request(&srv, "/oauth2/revoke", &basic_header(&id, &secret), ""),
    )
    .await;
    assert_oauth_error(s, &head, &body, 400, "invalid_request");
    let (s, head, body) = raw_with_head(
        &srv,
        &form_request(
            &srv,
            "/oauth2/revoke",
            &basic_header(&id, &secret),
            &format!("token={t1}&token_type_hint=refresh_token"),
        ),
    )
    .await;
    assert_eq!((s, body.as_str()), (200, ""), "{head}");
    let (s, _, body) = raw_with_head(
        &srv,
        &form_request(
            &srv,
            "/oauth2/revoke",
            &basic_header(&id, &secret),
            &format!("token={t1}"),
        ),
    )
    .await;
    assert_eq!((s, body.as_str()), (200, ""), "already revoked");
    let (s, head, body) = raw_with_head(
        &srv,
        &form_request(&srv, "/oauth2/token", &basic_header(&id, &secret), &grant1),
    )
    .await;
    let d = assert_oauth_error(s, &head, &body, 400, "invalid_grant");
    assert_eq!(d, "Refresh Token has been revoked");

    // Introspection is opt-in: no route without --introspection.
    let (s, _, _) = raw_with_head(
        &srv,
        &form_request(
            &srv,
            "/oauth2/introspect",
            &basic_header(&id, &secret),
            &format!("token={t1}"),
        ),
    )
    .await;
    assert_eq!(s, 404);
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_srv_7_introspection_with_the_option() {
    let srv = start_with(ServerConfig {
        pbkdf2_iterations: 1_000,
        introspection: true,
        ..ServerConfig::default()
    })
    .await;
    let sdk = sdk(&srv);
    let pool = pool(&sdk, false).await;
    let (id, secret) = client(
        &sdk,
        &pool,
        ClientOpts {
            rotation: Some(0),
            secret: true,
        },
    )
    .await;
    let secret = secret.unwrap();
    let signed = sign_in(&sdk, &pool, &id, Some(&secret), "alice").await;
    let (t0, access) = (signed.refresh_token.unwrap(), signed.access_token.unwrap());

    let (status, doc) = get(&srv, &format!("/{pool}/.well-known/openid-configuration")).await;
    assert_eq!(status, 200);
    let doc: Value = serde_json::from_str(&doc).unwrap();
    assert_eq!(
        doc["introspection_endpoint"],
        format!("{}/oauth2/introspect", srv.url())
    );

    let introspect = |token: String| introspect_raw(&srv, &id, &secret, token);
    let v = introspect(t0.clone()).await;
    assert_eq!(
        (v["active"].as_bool(), v["token_type"].as_str()),
        (Some(true), Some("refresh_token"))
    );
    assert_eq!(v["username"], "alice");
    assert_eq!(v["client_id"], id.as_str());
    let v = introspect(access.clone()).await;
    assert_eq!(
        (v["active"].as_bool(), v["token_type"].as_str()),
        (Some(true), Some("access_token"))
    );
    // Rotated out with grace 0: inactive at once, the successor active.
    let c = client_at(&srv, &id, Some(&secret), AuthType::BasicAuth);
    let t1 = rotate_grant(&c, &t0).await;
    assert_eq!(
        introspect(t0.clone()).await,
        serde_json::json!({"active": false})
    );
    assert_eq!(introspect(t1.clone()).await["active"], true);
    // Revoked: the refresh token and the family's access token (still unexpired) are inactive.
    revoke_grant(&c, &t1).await.unwrap();
    assert_eq!(introspect(t1).await, serde_json::json!({"active": false}));
    assert_eq!(
        introspect(access).await,
        serde_json::json!({"active": false})
    );
    srv.stop().await.unwrap();
}

async fn introspect_raw(srv: &RunningServer, id: &str, secret: &str, token: String) -> Value {
    let req = form_request(
        srv,
        "/oauth2/introspect",
        &basic_header(id, secret),
        &format!("token={token}"),
    );
    let (s, head, body) = raw_with_head(srv, &req).await;
    assert_eq!(s, 200, "{body}");
    assert!(has_header(&head, "cache-control", "no-store"), "{head}");
    serde_json::from_str::<Value>(&body).unwrap()
}
