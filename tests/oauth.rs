//! The OAuth 2.0 adapter in process (SPEC 14, R-OAUTH-1..7): requests as bytes into
//! `refresh_rotation::oauth` over a `TokenIssuer` fixture, responses checked as bytes.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use base64::Engine as _;
use common::{Fixture, Opts};
use proptest::prelude::*;
use refresh_rotation::oauth::{self, Endpoints, OAuthRequest, OAuthResponse};
use refresh_rotation::ReusePolicy;
use serde_json::Value;

const FORM: &[u8] = b"application/x-www-form-urlencoded";

/// How a test request authenticates its client.
#[derive(Clone, Copy)]
enum Auth<'a> {
    /// `client_secret_basic` with this id and secret.
    Basic(&'a str, &'a str),
    /// `client_id` (and `client_secret`, if the fixture has one) in the body.
    Body,
    /// Nothing added.
    Nothing,
}

fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn basic(id: &str, secret: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", enc(id), enc(secret)))
    )
}

type Endpoint = fn(&refresh_rotation::TokenIssuer, &OAuthRequest<'_>) -> OAuthResponse;

fn call(f: &Fixture, endpoint: Endpoint, auth: Auth<'_>, params: &[(&str, &str)]) -> OAuthResponse {
    let mut pairs: Vec<(&str, &str)> = params.to_vec();
    let header;
    let mut req_header: Option<&[u8]> = None;
    match auth {
        Auth::Basic(id, secret) => {
            header = basic(id, secret);
            req_header = Some(header.as_bytes());
        }
        Auth::Body => {
            pairs.push(("client_id", &f.client_id));
            if let Some(s) = &f.secret {
                pairs.push(("client_secret", s));
            }
        }
        Auth::Nothing => {}
    }
    let body = form(&pairs);
    let mut req = OAuthRequest::new("POST", body.as_bytes()).header("Content-Type", FORM);
    if let Some(h) = req_header {
        req = req.header("Authorization", h);
    }
    endpoint(&f.issuer, &req)
}

fn refresh(f: &Fixture, auth: Auth<'_>, token: &str) -> OAuthResponse {
    call(
        f,
        oauth::token_endpoint,
        auth,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
}

fn json(r: &OAuthResponse) -> Value {
    serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("JSON body: {r:?}"))
}

/// Asserts an RFC 6749 §5.2 error and returns its description.
fn assert_error(r: &OAuthResponse, status: u16, code: &str) -> String {
    let v = json(r);
    assert_eq!((r.status, v["error"].as_str()), (status, Some(code)), "{v}");
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    v["error_description"].as_str().unwrap().to_owned()
}

fn refresh_token_of(r: &OAuthResponse) -> Option<String> {
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    json(r)["refresh_token"].as_str().map(str::to_owned)
}

#[test]
fn r_oauth_1_client_authentication_methods_and_ambiguity() {
    // client_secret_basic and client_secret_post on a confidential client.
    let f = Fixture::new(Opts::non_rotating().with_secret());
    let secret = f.secret.clone().unwrap();
    let t = f.sign_in();
    assert_eq!(
        refresh(&f, Auth::Basic(&f.client_id, &secret), &t).status,
        200
    );
    assert_eq!(refresh(&f, Auth::Body, &t).status, 200);

    // A refresh with client_secret_basic and these body parameters besides grant_type and the token.
    let basic = |extra: &[(&str, &str)]| {
        let mut params = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", t.as_str()),
        ];
        params.extend_from_slice(extra);
        call(
            &f,
            oauth::token_endpoint,
            Auth::Basic(&f.client_id, &secret),
            &params,
        )
    };
    // Two methods at once.
    assert_error(
        &basic(&[("client_secret", &secret)]),
        400,
        "invalid_request",
    );
    // A client_id in the body that differs from the header's; the same one is fine.
    assert_error(&basic(&[("client_id", "other")]), 400, "invalid_request");
    assert_eq!(basic(&[("client_id", &f.client_id)]).status, 200);
    // A parameter no endpoint reads is ignored, repeated too (RFC 6749 §3.2): two RFC 8707 resource
    // indicators do not fail the refresh.
    let resources = [
        ("resource", "https://a.example"),
        ("resource", "https://b.example"),
    ];
    assert_eq!(basic(&resources).status, 200);
    // A repeated parameter, a missing one, no client at all.
    let r = call(
        &f,
        oauth::token_endpoint,
        Auth::Body,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &t),
            ("refresh_token", &t),
        ],
    );
    assert_error(&r, 400, "invalid_request");
    let r = call(
        &f,
        oauth::token_endpoint,
        Auth::Body,
        &[("grant_type", "refresh_token")],
    );
    assert_eq!(
        assert_error(&r, 400, "invalid_request"),
        "The parameter refresh_token is missing."
    );
    let r = call(
        &f,
        oauth::token_endpoint,
        Auth::Body,
        &[("refresh_token", &t)],
    );
    assert_eq!(
        assert_error(&r, 400, "invalid_request"),
        "The parameter grant_type is missing."
    );
    let r = refresh(&f, Auth::Nothing, &t);
    assert_eq!(
        assert_error(&r, 400, "invalid_request"),
        "The parameter client_id is missing."
    );
    // Not a form, not a POST.
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", &t),
        ("client_id", &f.client_id),
    ]);
    let r = oauth::token_endpoint(
        &f.issuer,
        &OAuthRequest::new("POST", body.as_bytes()).header("content-type", b"application/json"),
    );
    assert_error(&r, 400, "invalid_request");
    let r = oauth::token_endpoint(
        &f.issuer,
        &OAuthRequest::new("GET", b"").header("content-type", FORM),
    );
    assert_error(&r, 405, "invalid_request");
    assert_eq!(r.header("allow"), Some("POST"));
    // Method names are case-sensitive (RFC 9110 §9.1): `post` is not POST.
    let r = oauth::token_endpoint(
        &f.issuer,
        &OAuthRequest::new("post", body.as_bytes()).header("content-type", FORM),
    );
    assert_error(&r, 405, "invalid_request");

    // A public client: client_id alone.
    let p = Fixture::new(Opts::rotating(0));
    let t = p.sign_in();
    assert!(refresh_token_of(&refresh(&p, Auth::Body, &t)).is_some());
}

/// `Basic` credentials sent without the form encoding of RFC 6749 §2.3.1, so that the secret holds a
/// raw `=` or `&`.
fn raw_basic(id: &str, secret: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// R-OAUTH-3, R-REF-3: a Basic secret that does not decode is a failed client authentication (401,
/// `invalid_client`), never taken for an absent secret: a public client does not get tokens or a
/// revocation with it, and a confidential client is not told that no secret was received.
#[test]
fn r_oauth_3_an_undecodable_basic_secret_is_invalid_client() {
    let post = |f: &Fixture, endpoint: Endpoint, header: &str, params: &[(&str, &str)]| {
        let body = form(params);
        let req = OAuthRequest::new("POST", body.as_bytes())
            .header("Content-Type", FORM)
            .header("Authorization", header.as_bytes());
        endpoint(&f.issuer, &req)
    };
    let public = Fixture::new(Opts::rotating(0));
    let t = public.sign_in();
    for secret in ["totally=wrong", "a&b"] {
        let h = raw_basic(&public.client_id, secret);
        let grant = [
            ("grant_type", "refresh_token"),
            ("refresh_token", t.as_str()),
        ];
        let r = post(&public, oauth::token_endpoint, &h, &grant);
        assert_error(&r, 401, "invalid_client");
        assert_eq!(
            r.header("www-authenticate"),
            Some(r#"Basic realm="oauth2""#)
        );
        let r = post(
            &public,
            oauth::revocation_endpoint,
            &h,
            &[("token", t.as_str())],
        );
        assert_error(&r, 401, "invalid_client");
    }
    assert!(
        refresh_token_of(&refresh(&public, Auth::Body, &t)).is_some(),
        "not revoked"
    );

    let confidential = Fixture::new(Opts::rotating(0).with_secret());
    let t = confidential.sign_in();
    let secret = confidential.secret.clone().unwrap();
    let h = raw_basic(&confidential.client_id, &format!("{secret}="));
    let grant = [
        ("grant_type", "refresh_token"),
        ("refresh_token", t.as_str()),
    ];
    let description = assert_error(
        &post(&confidential, oauth::token_endpoint, &h, &grant),
        401,
        "invalid_client",
    );
    assert!(!description.contains("not received"), "{description}");
    assert!(!description.contains(&secret), "{description}");
    // Basic credentials with an empty client id are no Basic credentials: 401 `invalid_client`, with
    // or without a client_id in the body.
    let h = raw_basic("", &secret);
    let with_id = [
        ("grant_type", "refresh_token"),
        ("refresh_token", t.as_str()),
        ("client_id", confidential.client_id.as_str()),
    ];
    for params in [&grant[..], &with_id[..]] {
        let description = assert_error(
            &post(&confidential, oauth::token_endpoint, &h, params),
            401,
            "invalid_client",
        );
        assert_eq!(
            description,
            "The Authorization header is not valid Basic client credentials."
        );
    }
}

#[test]
fn r_oauth_2_success_rotates_exactly_as_get_tokens_from_refresh_token() {
    let f = Fixture::new(Opts::rotating(10).with_secret());
    let secret = f.secret.clone().unwrap();
    let t0 = f.sign_in();
    let r = refresh(&f, Auth::Basic(&f.client_id, &secret), &t0);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    let v = json(&r);
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
    assert_eq!(v["expires_in"], 3600);
    let t1 = v["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(t1, t0);
    // R-ROT-2: a retry in the grace window gets the very same successor, through either adapter.
    let retry = refresh(&f, Auth::Body, &t0);
    assert_eq!(refresh_token_of(&retry).as_deref(), Some(t1.as_str()));
    assert_eq!(
        f.refresh(&t0).unwrap().refresh_token.as_deref(),
        Some(t1.as_str())
    );
    // `scope` is accepted and ignored: the tokens carry the family's scopes.
    let r = call(
        &f,
        oauth::token_endpoint,
        Auth::Body,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &t1),
            ("scope", "openid admin"),
        ],
    );
    let t2 = refresh_token_of(&r).unwrap();
    let claims = f
        .verify_access(&f.verifier(), json(&r)["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        claims.get_str("scope"),
        Some("aws.cognito.signin.user.admin")
    );
    assert_ne!(t2, t1);

    // R-ROT-6: no refresh token from a client that does not rotate, and the token keeps working.
    let n = Fixture::new(Opts::non_rotating());
    let t = n.sign_in();
    for _ in 0..2 {
        let r = refresh(&n, Auth::Body, &t);
        assert_eq!(refresh_token_of(&r), None);
        assert!(json(&r)["id_token"].is_string());
    }
}

#[test]
fn r_oauth_3_errors_codes_statuses_and_descriptions() {
    let f = Fixture::new(Opts::rotating(5).with_secret());
    let secret = f.secret.clone().unwrap();
    let t0 = f.sign_in();

    // invalid_client: 401 with a Basic challenge over the header, 400 without it.
    let wrong = "x".repeat(51);
    let r = refresh(&f, Auth::Basic(&f.client_id, &wrong), &t0);
    let d = assert_error(&r, 401, "invalid_client");
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Basic realm="oauth2""#)
    );
    assert!(!d.contains(&wrong));
    let r = refresh(&f, Auth::Basic("nosuchclient", &wrong), &t0);
    assert_error(&r, 401, "invalid_client");
    let r = oauth::token_endpoint(
        &f.issuer,
        &OAuthRequest::new(
            "POST",
            form(&[("grant_type", "refresh_token"), ("refresh_token", &t0)]).as_bytes(),
        )
        .header("content-type", FORM)
        .header("authorization", b"Bearer abc"),
    );
    assert_error(&r, 401, "invalid_client");
    let body_wrong = [
        ("grant_type", "refresh_token"),
        ("refresh_token", t0.as_str()),
        ("client_id", f.client_id.as_str()),
        ("client_secret", wrong.as_str()),
    ];
    let r = call(&f, oauth::token_endpoint, Auth::Nothing, &body_wrong);
    assert_error(&r, 400, "invalid_client");
    assert_eq!(r.header("www-authenticate"), None);
    // Missing secret for a confidential client.
    let no_secret = [
        ("grant_type", "refresh_token"),
        ("refresh_token", t0.as_str()),
        ("client_id", f.client_id.as_str()),
    ];
    let r = call(&f, oauth::token_endpoint, Auth::Nothing, &no_secret);
    assert_error(&r, 400, "invalid_client");
    // A malformed secret is an authentication failure too, not a malformed request.
    let r = refresh(&f, Auth::Basic(&f.client_id, "short"), &t0);
    assert_error(&r, 401, "invalid_client");

    // unsupported_grant_type.
    let r = call(
        &f,
        oauth::token_endpoint,
        Auth::Body,
        &[("grant_type", "client_credentials")],
    );
    assert_error(&r, 400, "unsupported_grant_type");
    // Told before the client is authenticated: without any client at all too.
    let req = OAuthRequest::new("POST", b"grant_type=authorization_code&code=abc")
        .header("Content-Type", FORM);
    assert_error(
        &oauth::token_endpoint(&f.issuer, &req),
        400,
        "unsupported_grant_type",
    );

    // invalid_grant for every refused token; descriptions never echo a token.
    let t1 = refresh_token_of(&refresh(&f, Auth::Body, &t0)).unwrap();
    f.clock.advance(5);
    let d = assert_error(&refresh(&f, Auth::Body, &t0), 400, "invalid_grant");
    assert_eq!(d, "Refresh token has been invalidated by rotation.");
    let d = assert_error(
        &refresh(&f, Auth::Body, "not a token!"),
        400,
        "invalid_grant",
    );
    assert_eq!(d, "Invalid Refresh Token.");
    assert_error(
        &refresh(&f, Auth::Body, &"a".repeat(20_000)),
        400,
        "invalid_grant",
    );
    assert_error(
        &refresh(&f, Auth::Body, &f.token_with_wrong_mac(&t1)),
        400,
        "invalid_grant",
    );
    f.directory.set_enabled(&f.subject, false);
    let d = assert_error(&refresh(&f, Auth::Body, &t1), 400, "invalid_grant");
    assert_eq!(d, "User is disabled.");
    f.directory.set_enabled(&f.subject, true);
    f.revoke(&t1).unwrap();
    let d = assert_error(&refresh(&f, Auth::Body, &t1), 400, "invalid_grant");
    assert_eq!(d, "Refresh Token has been revoked");
    for r in [
        refresh(&f, Auth::Body, &t1),
        refresh(&f, Auth::Basic(&f.client_id, &wrong), &t1),
    ] {
        let body = String::from_utf8(r.body).unwrap();
        assert!(
            !body.contains(&t1) && !body.contains(&secret) && !body.contains(&wrong),
            "{body}"
        );
    }

    // Expired family, deleted user.
    let e = Fixture::new(Opts::non_rotating().refresh_validity_minutes(60));
    let t = e.sign_in();
    e.clock.advance(3600);
    assert_eq!(
        assert_error(&refresh(&e, Auth::Body, &t), 400, "invalid_grant"),
        "Refresh Token has expired"
    );
    let u = Fixture::new(Opts::non_rotating());
    let t = u.sign_in();
    u.directory.remove(&u.subject);
    assert_error(&refresh(&u, Auth::Body, &t), 400, "invalid_grant");

    // The reuse policy applies unchanged: reuse after the window revokes the family.
    let p = Fixture::new(Opts::rotating(0).reuse_policy(ReusePolicy::RevokeFamily));
    let t0 = p.sign_in();
    let t1 = refresh_token_of(&refresh(&p, Auth::Body, &t0)).unwrap();
    assert_error(&refresh(&p, Auth::Body, &t0), 400, "invalid_grant");
    let d = assert_error(&refresh(&p, Auth::Body, &t1), 400, "invalid_grant");
    assert_eq!(d, "Refresh Token has been revoked");
}

/// R-OAUTH-3: every refused client authentication has one description, at the token, revocation and
/// introspection endpoints alike, so that none of them tells which client ids exist or which clients
/// are confidential (RFC 6749 §5.2 groups these cases as one `invalid_client`).
#[test]
fn r_oauth_3_invalid_client_says_the_same_for_every_cause() {
    let confidential = Fixture::new(Opts::rotating(0).with_secret());
    let public = Fixture::new(Opts::rotating(0));
    let t = confidential.sign_in();
    let wrong = "x".repeat(51);
    let mut descriptions = Vec::new();
    // A missing secret is 400 at the token and revocation endpoints, 401 at introspection (R-OAUTH-7).
    for (endpoint, missing_status) in [
        (oauth::token_endpoint as Endpoint, 400),
        (oauth::revocation_endpoint, 400),
        (oauth::introspection_endpoint, 401),
    ] {
        let params = [
            ("grant_type", "refresh_token"),
            ("refresh_token", t.as_str()),
            ("token", t.as_str()),
        ];
        let cases = [
            (&confidential, Auth::Basic("nosuchclient", &wrong)),
            (&confidential, Auth::Basic(&confidential.client_id, &wrong)),
            (&public, Auth::Basic(&public.client_id, &wrong)),
        ];
        for (f, auth) in cases {
            let r = call(f, endpoint, auth, &params);
            descriptions.push(assert_error(&r, 401, "invalid_client"));
        }
        let missing = [("client_id", confidential.client_id.as_str())];
        let r = call(
            &confidential,
            endpoint,
            Auth::Nothing,
            &[params.as_slice(), missing.as_slice()].concat(),
        );
        descriptions.push(assert_error(&r, missing_status, "invalid_client"));
    }
    assert_eq!(descriptions.len(), 12);
    for d in &descriptions {
        assert_eq!(d, "Client authentication failed.");
    }
}

#[test]
fn r_oauth_4_a_family_bound_to_a_device_is_refused() {
    let f = Fixture::new(Opts::rotating(10).device_tracking());
    let signed = f.sign_in_full();
    assert!(
        signed.new_device_metadata.is_some(),
        "sign-in bound a device"
    );
    let t = signed.refresh_token.unwrap();
    let d = assert_error(&refresh(&f, Auth::Body, &t), 400, "invalid_grant");
    assert_eq!(d, "Invalid Refresh Token.");
    // GetTokensFromRefreshToken with the DeviceKey still works: nothing was changed.
    assert_eq!(f.generation_of(&t), 0);
}

#[test]
fn r_oauth_4_the_token_endpoint_binds_no_device_it_cannot_announce() {
    // A pool that tracks devices, a family without one: GetTokensFromRefreshToken would issue a device
    // and announce it (R-REF-9), but the token endpoint's answer has no place for NewDeviceMetadata.
    let f = Fixture::new(Opts::rotating(10).device_tracking());
    let t0 = f.sign_in_without_device();
    let r = refresh(&f, Auth::Body, &t0);
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let answer: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    let access = answer["access_token"].as_str().unwrap();
    let payload = access.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    assert!(claims.get("device_key").is_none(), "{claims}");
    // The family is still without a device: GetTokensFromRefreshToken issues and announces one.
    let t1 = answer["refresh_token"].as_str().unwrap();
    let d = f.refresh_keys().decode(t1).unwrap();
    use refresh_rotation::store::RefreshTokenStore;
    let family = f.store.get(&d.family()).unwrap().unwrap();
    assert!(family.info.device_key.is_none(), "no device bound");
}

fn revoke(f: &Fixture, auth: Auth<'_>, token: &str) -> OAuthResponse {
    call(
        f,
        oauth::revocation_endpoint,
        auth,
        &[("token", token), ("token_type_hint", "access_token")],
    )
}

#[test]
fn r_oauth_5_revocation_follows_rfc_7009() {
    let f = Fixture::new(Opts::rotating(10).with_secret());
    let secret = f.secret.clone().unwrap();
    let t0 = f.sign_in();
    let access = f.sign_in_full().access_token;

    // Revoked: 200, empty body; the family is gone for every token of it (R-REV-2).
    let r = revoke(&f, Auth::Basic(&f.client_id, &secret), &t0);
    assert_eq!((r.status, r.body.len()), (200, 0));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_error(&refresh(&f, Auth::Body, &t0), 400, "invalid_grant");
    // Already revoked, unknown family, forged: 200 as well.
    for t in [
        t0.clone(),
        f.token_of_unknown_family(),
        f.token_with_wrong_mac(&t0),
    ] {
        let r = revoke(&f, Auth::Body, &t);
        assert_eq!((r.status, r.body.len()), (200, 0));
    }
    // Not a refresh token of this crate: an access token, or text that cannot be a token.
    assert_error(
        &revoke(&f, Auth::Body, &access),
        400,
        "unsupported_token_type",
    );
    assert_error(
        &revoke(&f, Auth::Body, "not a token!"),
        400,
        "unsupported_token_type",
    );
    // Missing token; bad client credentials.
    let r = call(&f, oauth::revocation_endpoint, Auth::Body, &[]);
    assert_eq!(
        assert_error(&r, 400, "invalid_request"),
        "The parameter token is missing."
    );
    let r = revoke(&f, Auth::Basic(&f.client_id, &"y".repeat(51)), &t0);
    assert_error(&r, 401, "invalid_client");
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Basic realm="oauth2""#)
    );
    // Another client's refresh token.
    let other = f.create_client(Opts::rotating(0));
    let t = f.sign_in();
    let r = call(
        &f,
        oauth::revocation_endpoint,
        Auth::Nothing,
        &[("token", &t), ("client_id", &other)],
    );
    assert_error(&r, 400, "unauthorized_client");
    assert_eq!(refresh(&f, Auth::Body, &t).status, 200, "not revoked");

    // A client with EnableTokenRevocation=false.
    let d = Fixture::new(Opts::rotating(0).revocation_disabled());
    let t = d.sign_in();
    assert_error(&revoke(&d, Auth::Body, &t), 400, "invalid_request");
}

/// R-OAUTH-6: while an algorithm change is under way, discovery lists every algorithm an ID token that
/// verifies may carry: the signing key's first, then a staged key's (it signs once promoted) and a
/// retired key's (its tokens verify until it is removed). A client that takes its accepted algorithms
/// from discovery keeps accepting the pool's tokens across the change.
#[test]
fn r_oauth_6_discovery_lists_the_algorithms_of_staged_and_retired_keys() {
    use refresh_rotation::jwt::{Algorithm, SigningKey};
    let f = Fixture::new(Opts::rotating(0));
    let endpoints = Endpoints::at("http://127.0.0.1:9229", "us-east-1_TestPool");
    let algs = |f: &Fixture| {
        json(&oauth::discovery_endpoint(&f.issuer, &endpoints))
            ["id_token_signing_alg_values_supported"]
            .clone()
    };
    assert_eq!(algs(&f), serde_json::json!(["EdDSA"]));
    let es = std::sync::Arc::new(SigningKey::generate(Algorithm::ES256, "next-es").unwrap());
    f.issuer.keys().add_signing_key(es).unwrap();
    assert_eq!(algs(&f), serde_json::json!(["EdDSA", "ES256"]), "staged");
    f.issuer.keys().promote_signing_key("next-es").unwrap();
    assert_eq!(algs(&f), serde_json::json!(["ES256", "EdDSA"]), "promoted");
    let old = f.issuer.keys().signer().retired_keys()[0]
        .kid()
        .unwrap()
        .to_owned();
    assert!(f.issuer.keys().remove_signing_key(&old).unwrap());
    assert_eq!(algs(&f), serde_json::json!(["ES256"]), "removed");
}

#[test]
fn r_oauth_6_discovery_document() {
    let f = Fixture::new(Opts::rotating(0));
    let base = "http://127.0.0.1:9229";
    let endpoints = Endpoints::at(base, "us-east-1_TestPool");
    let r = oauth::discovery_endpoint(&f.issuer, &endpoints);
    assert_eq!(
        (r.status, r.header("content-type")),
        (200, Some("application/json"))
    );
    let v = json(&r);
    assert_eq!(
        v["issuer"],
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_TestPool"
    );
    assert_eq!(
        v["jwks_uri"],
        format!("{base}/us-east-1_TestPool/.well-known/jwks.json")
    );
    assert_eq!(v["token_endpoint"], format!("{base}/oauth2/token"));
    assert_eq!(v["revocation_endpoint"], format!("{base}/oauth2/revoke"));
    assert_eq!(
        v["id_token_signing_alg_values_supported"],
        serde_json::json!(["EdDSA"])
    );
    assert_eq!(
        v["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post"])
    );
    assert_eq!(
        v["grant_types_supported"],
        serde_json::json!(["refresh_token"])
    );
    assert_eq!(
        v["response_types_supported"],
        serde_json::json!(["code", "token"])
    );
    assert_eq!(v["subject_types_supported"], serde_json::json!(["public"]));
    assert!(v.get("introspection_endpoint").is_none());
    let with = endpoints.with_introspection(format!("{base}/oauth2/introspect"));
    let v = json(&oauth::discovery_endpoint(&f.issuer, &with));
    assert_eq!(
        v["introspection_endpoint"],
        format!("{base}/oauth2/introspect")
    );
}

fn introspect(f: &Fixture, token: &str) -> Value {
    let r = call(
        f,
        oauth::introspection_endpoint,
        Auth::Body,
        &[("token", token)],
    );
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.header("cache-control"), Some("no-store"));
    json(&r)
}

#[test]
fn r_oauth_7_introspection_answers_from_the_family_state() {
    let f = Fixture::new(Opts::rotating(10).with_secret());
    let signed = f.sign_in_full();
    let t0 = signed.refresh_token.clone().unwrap();
    let v = introspect(&f, &t0);
    assert_eq!(v["active"], true);
    assert_eq!(v["token_type"], "refresh_token");
    assert_eq!(v["client_id"], f.client_id.as_str());
    assert_eq!(v["username"], "alice");
    assert_eq!(v["sub"], f.subject.as_str());
    assert_eq!(v["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(v["iat"], f.clock_now());
    assert_eq!(v["exp"], f.clock_now() + 30 * 86_400);
    for (token, kind) in [
        (&signed.access_token, "access_token"),
        (&signed.id_token, "id_token"),
    ] {
        let v = introspect(&f, token);
        assert_eq!(
            (v["active"].as_bool(), v["token_type"].as_str()),
            (Some(true), Some(kind)),
            "{v}"
        );
        assert_eq!(v["sub"], f.subject.as_str());
    }

    // Rotation: the predecessor is active inside its grace window only; the successor is.
    let t1 = f.refresh(&t0).unwrap().refresh_token.unwrap();
    assert_eq!(introspect(&f, &t0)["active"], true);
    assert_eq!(introspect(&f, &t1)["active"], true);
    f.clock.advance(10);
    assert_eq!(introspect(&f, &t0), serde_json::json!({"active": false}));
    assert_eq!(introspect(&f, &t1)["active"], true);
    // A generation the family never reached, a forged token, garbage: inactive.
    assert_eq!(
        introspect(&f, &f.token_of_generation(&t1, 9))["active"],
        false
    );
    assert_eq!(
        introspect(&f, &f.token_with_wrong_mac(&t1))["active"],
        false
    );
    assert_eq!(introspect(&f, "garbage")["active"], false);

    // Revocation makes the refresh token and the family's JWTs inactive (R-REV-2).
    f.revoke(&t1).unwrap();
    for t in [&t1, &signed.access_token, &signed.id_token] {
        assert_eq!(introspect(&f, t), serde_json::json!({"active": false}));
    }

    // Another client's tokens are inactive for this one; bad credentials are an error, not inactive.
    let other = f.create_client(Opts::rotating(0));
    let t = f.sign_in();
    let r = call(
        &f,
        oauth::introspection_endpoint,
        Auth::Nothing,
        &[("token", &t), ("client_id", &other)],
    );
    assert_eq!(json(&r), serde_json::json!({"active": false}));
    let r = call(
        &f,
        oauth::introspection_endpoint,
        Auth::Basic(&f.client_id, &"z".repeat(51)),
        &[("token", &t)],
    );
    assert_error(&r, 401, "invalid_client");
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Basic realm="oauth2""#)
    );
    // RFC 7662 §2.3: at this endpoint, credentials in the body that fail are 401 too.
    let z = "z".repeat(51);
    let r = call(
        &f,
        oauth::introspection_endpoint,
        Auth::Nothing,
        &[
            ("token", &t),
            ("client_id", &f.client_id),
            ("client_secret", &z),
        ],
    );
    assert_error(&r, 401, "invalid_client");
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Basic realm="oauth2""#)
    );

    // An expired family is inactive; an expired access token too.
    let e = Fixture::new(Opts::non_rotating().refresh_validity_minutes(60));
    let s = e.sign_in_full();
    let rt = s.refresh_token.unwrap();
    assert_eq!(introspect(&e, &rt)["active"], true);
    e.clock.advance(3600);
    assert_eq!(introspect(&e, &rt)["active"], false);
    assert_eq!(introspect(&e, &s.access_token)["active"], false);
}

#[test]
fn r_safe_2_oauth_requests_never_print_secrets() {
    let body = form(&[
        ("token", "secret-token-value"),
        ("client_id", "client1"),
        ("client_secret", "abcdefghijklmnopqrstuvwxyz"),
    ]);
    let req = OAuthRequest::new("POST", body.as_bytes()).header("content-type", FORM);
    let revocation = oauth::RevocationRequest::parse(&req).unwrap();
    assert_eq!(
        format!("{revocation:?}"),
        "RevocationRequest { client: ClientCredentials { method: ClientSecretPost, client_id: \"client1\", \
         secret: Some(SecretString([REDACTED])) }, token: RefreshToken([REDACTED]) }"
    );
    let introspection = oauth::IntrospectionRequest::parse(&req).unwrap();
    assert_eq!(
        format!("{introspection:?}"),
        "IntrospectionRequest { client: ClientCredentials { method: ClientSecretPost, client_id: \"client1\", \
         secret: Some(SecretString([REDACTED])) }, token: SecretString([REDACTED]) }"
    );
    let header = basic("client1", "abcdefghijklmnopqrstuvwxyz");
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", "secret-token-value"),
    ]);
    let req = OAuthRequest::new("POST", body.as_bytes())
        .header("content-type", FORM)
        .header("authorization", header.as_bytes());
    let token = oauth::TokenRequest::parse(&req).unwrap();
    assert_eq!(
        format!("{token:?}"),
        "TokenRequest { client: ClientCredentials { method: ClientSecretBasic, client_id: \"client1\", \
         secret: Some(SecretString([REDACTED])) }, refresh_token: RefreshToken([REDACTED]) }"
    );
    assert!(!format!("{req:?}").contains("secret-token-value"));
}

/// R-SAFE-8, R-OAUTH-7: the signer publishes at most as many keys as a verifier accepts
/// (`MAX_JWKS_KEYS`): the key that would make the JWKS larger is refused, so introspection and every
/// verifier of the pool's JWKS keep working however many keys are rotated in.
#[test]
fn r_safe_8_the_jwks_never_grows_past_what_a_verifier_accepts() {
    use refresh_rotation::jwt::{Algorithm, JwtVerifier, SigningKey, MAX_JWKS_KEYS};
    let f = Fixture::new(Opts::rotating(10).with_secret());
    let signed = f.sign_in_full();
    let keys = f.issuer.keys();
    let mut added = 0;
    for i in 0..MAX_JWKS_KEYS + 5 {
        let key = std::sync::Arc::new(
            SigningKey::generate(Algorithm::EdDSA, format!("extra-{i}")).unwrap(),
        );
        if keys.add_signing_key(key).is_ok() {
            added += 1;
        }
    }
    let jwks = keys.jwks_json();
    let verifier = JwtVerifier::from_jwks_json(f.issuer.issuer_url(), jwks.as_bytes());
    assert!(verifier.is_ok(), "{:?}", verifier.err());
    assert!(
        added < MAX_JWKS_KEYS + 5,
        "the keys past the bound were refused"
    );
    let v = introspect(&f, &signed.access_token);
    assert_eq!(v["active"], true);
    let v = introspect(&f, "not-a-token");
    assert_eq!(v["active"], false);
}

// ------------------------------------------------------------------------------------------ proptest

/// `PROPTEST_CASES`, else 256: CI runs more.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

// R-SAFE-1: whatever bytes, headers and credentials arrive, the three endpoints answer 200, 400 or 401,
// and never panic. Raw bytes first, then forms built from the pieces a parser trips on.

/// Sends `req` to endpoint `which` (token, revocation, introspection) of `f`'s issuer: 200, 400 or 401.
fn answers_within_the_contract(f: &Fixture, which: u8, req: &OAuthRequest<'_>) {
    let r = match which {
        0 => oauth::token_endpoint(&f.issuer, req),
        1 => oauth::revocation_endpoint(&f.issuer, req),
        _ => oauth::introspection_endpoint(&f.issuer, req),
    };
    assert!(matches!(r.status, 200 | 400 | 401), "{r:?}");
}
proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]
    #[test]
    fn r_safe_1_oauth_endpoints_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..300),
        auth in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..120)),
        b64 in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..80)),
        which in 0u8..3,
    ) {
        thread_local!(static F: Fixture = Fixture::new(Opts::rotating(10).with_secret()));
        F.with(|f| {
            let b64h;
            let mut req = OAuthRequest::new("POST", &body)
                .header("content-type", b"application/x-www-form-urlencoded");
            if let Some(a) = &auth { req = req.header("authorization", a); }
            if let Some(raw) = &b64 {
                b64h = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(raw));
                req = req.header("authorization", b64h.as_bytes());
            }
            answers_within_the_contract(f, which, &req);
        });
    }
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("grant_type=refresh_token".to_owned()),
        Just("client_id=".to_owned()),
        Just("client_secret=".to_owned()),
        Just("token=".to_owned()),
        Just("refresh_token=".to_owned()),
        Just("&".to_owned()),
        Just("=".to_owned()),
        Just("%".to_owned()),
        Just("%FF".to_owned()),
        Just("%C3".to_owned()),
        Just("%00".to_owned()),
        Just("+".to_owned()),
        Just("%2".to_owned()),
        "[a-z0-9_.=-]{0,80}",
        "\\PC{0,10}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]
    #[test]
    fn r_safe_1_structured_oauth_inputs_never_panic(
        pieces in proptest::collection::vec(piece(), 0..20),
        basic in proptest::option::of(proptest::collection::vec(piece(), 0..4)),
        which in 0u8..3,
    ) {
        thread_local!(static F: Fixture = Fixture::new(Opts::rotating(10).with_secret()));
        F.with(|f| {
            let body = pieces.concat();
            let h;
            let mut req = OAuthRequest::new("POST", body.as_bytes())
                .header("content-type", b"application/x-www-form-urlencoded");
            if let Some(b) = &basic {
                h = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(b.join(":")));
                req = req.header("authorization", h.as_bytes());
            }
            answers_within_the_contract(f, which, &req);
        });
    }
}

/// R-SAFE-2 at the OAuth adapter: an `OAuthError` for a refused client authentication does not show,
/// in its `Debug` output, the client id the request named, which may be a secret pasted in the wrong
/// field; its trace records the id only if it has a client id's shape.
#[test]
fn r_safe_2_a_refused_client_id_is_not_in_the_errors_debug() {
    let pasted = "myclient:k3p9s2v7x1m4n8q5r0t6w2y9z3a7b1c5d8e2f6g4h0j";
    let body = form(&[
        ("grant_type", "refresh_token"),
        ("refresh_token", "abc"),
        ("client_id", pasted),
    ]);
    let req = OAuthRequest::new("POST", body.as_bytes()).header("Content-Type", FORM);
    let e = oauth::TokenRequest::parse(&req).unwrap_err();
    let shown = format!("{e:?}");
    assert!(shown.contains("InvalidClient"), "{shown}");
    assert!(!shown.contains("k3p9s2v7"), "{shown}");
}

// ------------------------------------------------------------------------ mutation-testing additions

/// R-OAUTH-1: a header the adapter reads, sent twice, is ambiguous: `invalid_request`, whichever copy
/// would have authenticated, and nothing is refreshed.
#[test]
fn r_oauth_1_a_repeated_content_type_or_authorization_header_is_invalid_request() {
    let f = Fixture::new(Opts::rotating(0).with_secret());
    let secret = f.secret.clone().unwrap();
    let t = f.sign_in();
    let body = form(&[("grant_type", "refresh_token"), ("refresh_token", &t)]);
    let good = basic(&f.client_id, &secret);
    let wrong = basic(&f.client_id, &"w".repeat(51));
    let r = oauth::token_endpoint(
        &f.issuer,
        &OAuthRequest::new("POST", body.as_bytes())
            .header("Content-Type", FORM)
            .header("content-type", FORM)
            .header("Authorization", good.as_bytes()),
    );
    assert_eq!(
        assert_error(&r, 400, "invalid_request"),
        "The Content-Type header is repeated."
    );
    for (first, second) in [(&wrong, &good), (&good, &wrong), (&good, &good)] {
        let r = oauth::token_endpoint(
            &f.issuer,
            &OAuthRequest::new("POST", body.as_bytes())
                .header("Content-Type", FORM)
                .header("Authorization", first.as_bytes())
                .header("authorization", second.as_bytes()),
        );
        assert_eq!(
            assert_error(&r, 400, "invalid_request"),
            "The Authorization header is repeated."
        );
    }
    assert!(
        refresh_token_of(&refresh(&f, Auth::Body, &t)).is_some(),
        "not used"
    );
}

/// R-OAUTH-1: bodies *over* 64 KiB are refused before parsing; one of exactly `MAX_FORM_BYTES` is read.
#[test]
fn r_oauth_1_a_body_of_exactly_max_form_bytes_is_read() {
    let f = Fixture::new(Opts::rotating(0));
    let sized = |token: &str, len: usize| {
        let head = form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", token),
            ("client_id", &f.client_id),
        ]);
        let pad = len - head.len() - "&pad=".len();
        let body = format!("{head}&pad={}", "a".repeat(pad));
        assert_eq!(body.len(), len);
        body
    };
    let t0 = f.sign_in();
    let body = sized(&t0, oauth::MAX_FORM_BYTES);
    let req = OAuthRequest::new("POST", body.as_bytes()).header("Content-Type", FORM);
    let t1 = refresh_token_of(&oauth::token_endpoint(&f.issuer, &req)).unwrap();
    let body = sized(&t1, oauth::MAX_FORM_BYTES + 1);
    let req = OAuthRequest::new("POST", body.as_bytes()).header("Content-Type", FORM);
    assert_eq!(
        assert_error(
            &oauth::token_endpoint(&f.issuer, &req),
            400,
            "invalid_request"
        ),
        format!(
            "The request body is larger than {} bytes.",
            oauth::MAX_FORM_BYTES
        )
    );
}

/// R-OAUTH-1: `auth_method` names the method the request used: `client_secret_basic` for the header,
/// `client_secret_post` for a secret in the body, `none` for a `client_id` alone.
#[test]
fn r_oauth_1_auth_method_names_how_the_client_authenticated() {
    use refresh_rotation::oauth::{
        ClientAuthMethod, IntrospectionRequest, RevocationRequest, TokenRequest,
    };
    let secret = "abcdefghijklmnopqrstuvwxyz";
    // The method each endpoint's parser names for a request with this header and these body pairs.
    let methods = |authorization: Option<&str>, client: &[(&str, &str)]| {
        let mut pairs = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", "abc"),
            ("token", "abc"),
        ];
        pairs.extend_from_slice(client);
        let body = form(&pairs);
        let mut req = OAuthRequest::new("POST", body.as_bytes()).header("Content-Type", FORM);
        if let Some(h) = authorization {
            req = req.header("Authorization", h.as_bytes());
        }
        [
            TokenRequest::parse(&req).unwrap().auth_method(),
            RevocationRequest::parse(&req).unwrap().auth_method(),
            IntrospectionRequest::parse(&req).unwrap().auth_method(),
        ]
    };
    assert_eq!(
        methods(Some(&basic("client1", secret)), &[]),
        [ClientAuthMethod::ClientSecretBasic; 3]
    );
    assert_eq!(
        methods(None, &[("client_id", "client1"), ("client_secret", secret)]),
        [ClientAuthMethod::ClientSecretPost; 3]
    );
    assert_eq!(
        methods(None, &[("client_id", "client1")]),
        [ClientAuthMethod::None; 3]
    );
}

/// R-SAFE-1 at R-OAUTH-1: an `Authorization` header longer than any Basic credentials can be is refused
/// unread, even when trimming it would leave valid credentials.
#[test]
fn r_safe_1_an_oversized_authorization_header_is_refused_unread() {
    let f = Fixture::new(Opts::rotating(0).with_secret());
    let secret = f.secret.clone().unwrap();
    let t = f.sign_in();
    let valid = basic(&f.client_id, &secret);
    let b64 = valid.strip_prefix("Basic ").unwrap();
    let padded = format!("Basic{}{b64}", " ".repeat(4096));
    let body = form(&[("grant_type", "refresh_token"), ("refresh_token", &t)]);
    let req = OAuthRequest::new("POST", body.as_bytes())
        .header("Content-Type", FORM)
        .header("Authorization", padded.as_bytes());
    assert_eq!(
        assert_error(
            &oauth::token_endpoint(&f.issuer, &req),
            401,
            "invalid_client"
        ),
        "The Authorization header is not valid Basic client credentials."
    );
    assert!(
        refresh_token_of(&refresh(&f, Auth::Body, &t)).is_some(),
        "not used"
    );
}

/// R-OAUTH-1, R-OAUTH-3: client credentials come in the `Basic` scheme only: the same base64 pair
/// under another scheme is not valid client authentication (401 `invalid_client`), at every endpoint.
#[test]
fn r_oauth_1_only_the_basic_scheme_carries_client_credentials() {
    let f = Fixture::new(Opts::rotating(0).with_secret());
    let secret = f.secret.clone().unwrap();
    let t = f.sign_in();
    let b64 = basic(&f.client_id, &secret)
        .strip_prefix("Basic ")
        .unwrap()
        .to_owned();
    for scheme in ["Bearer", "Digest", "Basicx"] {
        let header = format!("{scheme} {b64}");
        for (endpoint, params) in [
            (
                oauth::token_endpoint as Endpoint,
                vec![
                    ("grant_type", "refresh_token"),
                    ("refresh_token", t.as_str()),
                ],
            ),
            (oauth::revocation_endpoint, vec![("token", t.as_str())]),
            (oauth::introspection_endpoint, vec![("token", t.as_str())]),
        ] {
            let body = form(&params);
            let req = OAuthRequest::new("POST", body.as_bytes())
                .header("Content-Type", FORM)
                .header("Authorization", header.as_bytes());
            let r = endpoint(&f.issuer, &req);
            assert_error(&r, 401, "invalid_client");
            assert_eq!(
                r.header("www-authenticate"),
                Some(r#"Basic realm="oauth2""#)
            );
        }
    }
    assert!(
        refresh_token_of(&refresh(&f, Auth::Body, &t)).is_some(),
        "not used, not revoked"
    );
}

/// R-SAFE-1, R-OAUTH-7: the length bound on what introspection decodes is inclusive: an ID token the
/// issuer minted at exactly `MAX_TOKEN_LEN` bytes, the longest it mints, is introspected as active.
#[test]
fn r_oauth_7_a_token_of_exactly_the_length_bound_is_introspected() {
    use refresh_rotation::directory::UserDirectory as _;
    let f = Fixture::new(Opts::rotating(10).with_secret());
    let max = refresh_rotation::jwt::MAX_TOKEN_LEN;
    let user = f.directory.user_by_subject(&f.subject).unwrap().unwrap();
    let id_token_with_pad = |pad: usize| {
        let padded = (*user)
            .clone()
            .with_attribute("custom:pad", "x".repeat(pad));
        f.directory.put(padded).unwrap();
        f.sign_in_full().id_token
    };
    // Each padding character adds 4/3 of a character to the token: aim just below the bound from a
    // first measure, then step up a character at a time, stopping before the issuer would refuse.
    let short = id_token_with_pad(0).len();
    let mut pad = (max - short) * 3 / 4 - 4;
    let token = loop {
        let token = id_token_with_pad(pad);
        assert!(token.len() <= max, "stepped over the bound at pad {pad}");
        if token.len() == max {
            break token;
        }
        pad += 1;
    };
    let v = introspect(&f, &token);
    assert_eq!(
        (v["active"].as_bool(), v["token_type"].as_str()),
        (Some(true), Some("id_token")),
        "{v}"
    );
}

/// R-OAUTH-3, R-OAUTH-7: at the introspection endpoint only `invalid_client` becomes 401 with the
/// challenge; a store failure is still 500 `server_error`, without a challenge.
#[test]
fn r_oauth_7_a_store_failure_at_introspection_is_server_error() {
    use refresh_rotation::error::StoreError;
    use refresh_rotation::store::InMemoryRefreshTokenStore;
    let f = Fixture::new(Opts::rotating(0).with_secret());
    let t = f.sign_in();
    let down = std::sync::Arc::new(common::Intercepted::on_read(
        std::sync::Arc::new(InMemoryRefreshTokenStore::new()),
        |_, _| Err(StoreError::Unavailable("connection reset".into())),
    ));
    let issuer = f.issuer_over(down, f.clock.clone());
    let body = form(&[
        ("token", t.as_str()),
        ("client_id", f.client_id.as_str()),
        ("client_secret", f.secret.as_deref().unwrap()),
    ]);
    let req = OAuthRequest::new("POST", body.as_bytes()).header("Content-Type", FORM);
    let r = oauth::introspection_endpoint(&issuer, &req);
    let d = assert_error(&r, 500, "server_error");
    assert!(!d.contains("connection reset"), "{d}");
    assert_eq!(r.header("www-authenticate"), None);
}

/// R-OAUTH-3: the grant type is matched exactly: `REFRESH_TOKEN` is another grant type.
#[test]
fn r_oauth_3_grant_type_is_case_sensitive() {
    let f = Fixture::new(Opts::rotating(0));
    let t = f.sign_in();
    for grant in ["REFRESH_TOKEN", "Refresh_Token"] {
        let r = call(
            &f,
            oauth::token_endpoint,
            Auth::Body,
            &[("grant_type", grant), ("refresh_token", &t)],
        );
        assert_error(&r, 400, "unsupported_grant_type");
    }
    assert!(
        refresh_token_of(&refresh(&f, Auth::Body, &t)).is_some(),
        "not used"
    );
}

/// R-OAUTH-6 (RFC 8414 §2): the revocation endpoint, and the introspection endpoint when served,
/// accept the same client authentication methods as the token endpoint, and the document says so.
#[test]
fn r_oauth_6_discovery_names_the_auth_methods_of_every_endpoint() {
    let f = Fixture::new(Opts::rotating(0));
    let base = "http://127.0.0.1:9229";
    let methods = serde_json::json!(["client_secret_basic", "client_secret_post"]);
    let endpoints = Endpoints::at(base, "us-east-1_TestPool");
    let v = json(&oauth::discovery_endpoint(&f.issuer, &endpoints));
    assert_eq!(v["revocation_endpoint_auth_methods_supported"], methods);
    assert!(v
        .get("introspection_endpoint_auth_methods_supported")
        .is_none());
    let with = endpoints.with_introspection(format!("{base}/oauth2/introspect"));
    let v = json(&oauth::discovery_endpoint(&f.issuer, &with));
    assert_eq!(v["introspection_endpoint_auth_methods_supported"], methods);
    assert_eq!(v["revocation_endpoint_auth_methods_supported"], methods);
}

/// R-OAUTH-7: the client authenticates first, whatever the token: bad credentials with a token too
/// long to be one are `invalid_client`, not `{"active": false}`.
#[test]
fn r_oauth_7_bad_client_credentials_are_refused_whatever_the_token() {
    let f = Fixture::new(Opts::rotating(0).with_secret());
    let huge = "a".repeat(20_000);
    let wrong = "z".repeat(51);
    for auth in [
        Auth::Basic(&f.client_id, &wrong),
        Auth::Basic("nosuchclient", &wrong),
    ] {
        let r = call(&f, oauth::introspection_endpoint, auth, &[("token", &huge)]);
        assert_eq!(
            assert_error(&r, 401, "invalid_client"),
            "Client authentication failed."
        );
    }
    let missing = [
        ("token", huge.as_str()),
        ("client_id", f.client_id.as_str()),
    ];
    let r = call(&f, oauth::introspection_endpoint, Auth::Nothing, &missing);
    assert_error(&r, 401, "invalid_client");
    // The right client gets its answer.
    assert_eq!(introspect(&f, &huge), serde_json::json!({"active": false}));
}

/// R-OAUTH-7: an access or ID token is active only for the client it was issued to: for another
/// client of the pool it is `{"active": false}`.
#[test]
fn r_oauth_7_another_clients_access_and_id_tokens_are_inactive() {
    let f = Fixture::new(Opts::rotating(10));
    let signed = f.sign_in_full();
    let other = f.create_client(Opts::rotating(0));
    for token in [&signed.access_token, &signed.id_token] {
        assert_eq!(introspect(&f, token)["active"], true);
        let r = call(
            &f,
            oauth::introspection_endpoint,
            Auth::Nothing,
            &[("token", token), ("client_id", &other)],
        );
        assert_eq!(r.status, 200);
        assert_eq!(json(&r), serde_json::json!({"active": false}));
    }
}

/// R-OAUTH-1: `token_type_hint` is read by the endpoints (and ignored), so sent twice it is
/// `invalid_request` like any repeated parameter they read; the token is not revoked.
#[test]
fn r_oauth_1_a_repeated_token_type_hint_is_invalid_request() {
    let f = Fixture::new(Opts::rotating(0));
    let t = f.sign_in();
    let params = [
        ("token", t.as_str()),
        ("token_type_hint", "refresh_token"),
        ("token_type_hint", "access_token"),
    ];
    for endpoint in [
        oauth::revocation_endpoint as Endpoint,
        oauth::introspection_endpoint,
    ] {
        let r = call(&f, endpoint, Auth::Body, &params);
        assert_eq!(
            assert_error(&r, 400, "invalid_request"),
            "The parameter token_type_hint is repeated."
        );
    }
    assert!(
        refresh_token_of(&refresh(&f, Auth::Body, &t)).is_some(),
        "not revoked"
    );
}

/// R-SRV-9 at the adapter: `temporarily_unavailable` is 503, in the error shape, uncacheable.
#[test]
fn r_srv_9_temporarily_unavailable_is_503() {
    let r =
        oauth::OAuthError::temporarily_unavailable("Too many requests in flight.").to_response();
    assert_eq!(
        assert_error(&r, 503, "temporarily_unavailable"),
        "Too many requests in flight."
    );
}
