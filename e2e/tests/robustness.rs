//! The edge of the service with raw HTTP: malformed JSON, missing or unknown
//! X-Amz-Target, an oversized body refused without reading it, unknown members, unknown routes; each a
//! clean 4xx with an R-WIRE-2 body, and the service keeps serving.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const CREATE_POOL: &str = "AWSCognitoIdentityProviderService.CreateUserPool";

fn assert_wire_error(status: u16, body: &Value, want_status: u16, want_type: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["__type"], want_type, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
}

async fn still_serving(srv: &RunningServer) {
    let (status, body) = post(srv, Some(CREATE_POOL), r#"{"PoolName":"ok"}"#).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .starts_with("us-east-1_"));
}

#[tokio::test]
async fn r_wire_2_bad_requests_get_clean_errors_and_the_service_keeps_serving() {
    let srv = start(false).await;
    still_serving(&srv).await;

    let (s, b) = post(&srv, Some(CREATE_POOL), r#"{"PoolName": "x""#).await;
    assert_wire_error(s, &b, 400, "InvalidParameterException");
    let (s, b) = post(&srv, Some(CREATE_POOL), "not json at all").await;
    assert_wire_error(s, &b, 400, "InvalidParameterException");
    let (s, b) = post(&srv, Some(CREATE_POOL), "").await;
    assert_wire_error(s, &b, 400, "InvalidParameterException");
    still_serving(&srv).await;

    let (s, b) = post(&srv, None, r#"{"PoolName":"x"}"#).await;
    assert_wire_error(s, &b, 400, "UnknownOperationException");
    let (s, b) = post(
        &srv,
        Some("AWSCognitoIdentityProviderService.ForgotPassword"),
        "{}",
    )
    .await;
    assert_wire_error(s, &b, 400, "UnknownOperationException");
    let (s, b) = post(&srv, Some("Nonsense"), "{}").await;
    assert_wire_error(s, &b, 400, "UnknownOperationException");
    still_serving(&srv).await;

    // R-CFG-16: an unknown member is named, never ignored.
    let (s, b) = post(
        &srv,
        Some(CREATE_POOL),
        r#"{"PoolName":"x","PoolNmae":"y"}"#,
    )
    .await;
    assert_wire_error(s, &b, 400, "InvalidParameterException");
    assert!(b["message"].as_str().unwrap().contains("PoolNmae"), "{b}");
    let (s, b) = post(
        &srv,
        Some("AWSCognitoIdentityProviderService.GetTokensFromRefreshToken"),
        r#"{"ClientId":"abc","RefreshToken":"t","RefreshTokenRotaton":{}}"#,
    )
    .await;
    assert_wire_error(s, &b, 400, "InvalidParameterException");
    assert!(
        b["message"]
            .as_str()
            .unwrap()
            .contains("RefreshTokenRotaton"),
        "{b}"
    );
    // Wrong JSON types.
    let (s, b) = post(&srv, Some(CREATE_POOL), r#"{"PoolName":42}"#).await;
    assert_wire_error(s, &b, 400, "InvalidParameterException");
    let (s, b) = post(&srv, Some(CREATE_POOL), "[]").await;
    assert_wire_error(s, &b, 400, "InvalidParameterException");
    still_serving(&srv).await;

    // R-SRV-6: NUL, which the PostgreSQL mode cannot store, is answered as there: a user named with
    // one does not exist, an attribute value with one is refused.
    let (_, b) = post(&srv, Some(CREATE_POOL), r#"{"PoolName":"nul"}"#).await;
    let pool = b["UserPool"]["Id"].as_str().unwrap().to_owned();
    let (s, b) = post(
        &srv,
        Some("AWSCognitoIdentityProviderService.AdminDisableUser"),
        &serde_json::json!({"UserPoolId": pool, "Username": "x\u{0}y"}).to_string(),
    )
    .await;
    assert_wire_error(s, &b, 400, "UserNotFoundException");
    let create = serde_json::json!({
        "UserPoolId": pool, "Username": "bob", "MessageAction": "SUPPRESS",
        "UserAttributes": [{"Name": "email", "Value": "a\u{0}b@example.com"}],
    });
    let (s, b) = post(
        &srv,
        Some("AWSCognitoIdentityProviderService.AdminCreateUser"),
        &create.to_string(),
    )
    .await;
    assert_wire_error(s, &b, 400, "InvalidParameterException");

    // R-WIRE-3: two X-Amz-Target headers are ambiguous (a proxy may read the last): refused, and
    // neither operation runs.
    let body = r#"{"PoolName":"twice"}"#;
    let req = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         Content-Length: {}\r\nConnection: close\r\nX-Amz-Target: {CREATE_POOL}\r\n\
         X-Amz-Target: AWSCognitoIdentityProviderService.DeleteUserPool\r\n\r\n{body}",
        srv.addr(),
        body.len()
    );
    let (s, b) = raw(&srv, req.as_bytes()).await;
    assert_wire_error(
        s,
        &serde_json::from_str(&b).unwrap(),
        400,
        "UnknownOperationException",
    );

    // Routes that do not exist, and another method on `/`: each an R-WIRE-2 body.
    let (s, body) = get(&srv, "/").await;
    assert_wire_error(
        s,
        &serde_json::from_str(&body).unwrap(),
        405,
        "UnknownOperationException",
    );
    let (s, body) = get(&srv, "/nope").await;
    assert_wire_error(
        s,
        &serde_json::from_str(&body).unwrap(),
        404,
        "UnknownOperationException",
    );
    let (s, body) = get(&srv, "/us-east-1_NoSuchPool/.well-known/jwks.json").await;
    assert_wire_error(
        s,
        &serde_json::from_str(&body).unwrap(),
        404,
        "ResourceNotFoundException",
    );
    // R-SRV-3: without --manual-clock the clock route does not exist.
    let (s, _) = post_path(&srv, "/_clock", r#"{"AdvanceSeconds":1}"#).await;
    assert_eq!(s, 404);
    still_serving(&srv).await;
    srv.stop().await.unwrap();
}

async fn post_path(srv: &RunningServer, path: &str, body: &str) -> (u16, String) {
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    raw(srv, req.as_bytes()).await
}

#[tokio::test]
async fn r_safe_1_oversized_bodies_are_refused_without_reading_them() {
    let srv = start(false).await;
    // A declared length far above the limit, with no body sent at all: the answer comes without the
    // server waiting for the 1 GiB it was promised.
    let req = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {CREATE_POOL}\r\nContent-Length: {}\r\n\r\n",
        1u64 << 30
    );
    let mut s = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf))
        .await
        .expect("answered without reading the body")
        .unwrap();
    let (status, body) = parse_response(&buf);
    assert_wire_error(
        status,
        &serde_json::from_str(&body).unwrap(),
        413,
        "InvalidParameterException",
    );

    // A chunked body with no declared length is cut off once it passes the limit.
    let chunk = vec![b' '; 64 * 1024];
    let mut s = tokio::net::TcpStream::connect(srv.addr()).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {CREATE_POOL}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..32 {
        // 2 MiB in all; the server may stop reading (and close) before the end.
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if s.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n").await;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let (status, body) = parse_response(&buf);
    assert_wire_error(
        status,
        &serde_json::from_str(&body).unwrap(),
        413,
        "InvalidParameterException",
    );

    still_serving(&srv).await;
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_srv_3_manual_clock_route() {
    let srv = start(true).await;
    let t0 = advance(&srv, 0).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((t0 - now).abs() < 60, "starts at the real time");
    assert_eq!(advance(&srv, 3600).await, t0 + 3600);
    let (s, body) = post_path(&srv, "/_clock", r#"{"AdvanceSecs":1}"#).await;
    assert_wire_error(
        s,
        &serde_json::from_str(&body).unwrap(),
        400,
        "InvalidParameterException",
    );
    let (s, body) = post_path(&srv, "/_clock", r#"{"AdvanceSeconds":-1}"#).await;
    assert_wire_error(
        s,
        &serde_json::from_str(&body).unwrap(),
        400,
        "InvalidParameterException",
    );
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn stop_is_graceful_and_frees_the_port() {
    let srv = start(false).await;
    let addr = srv.addr();
    still_serving(&srv).await;
    srv.stop().await.unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "nothing listens after stop"
    );
}

/// R-CFG-2 before R-CLI-5: a client operation naming a pool the service does not have is judged against
/// the API model first, as the library judges one naming another pool: a malformed request is
/// InvalidParameterException, listing every violation, and a well-formed one ResourceNotFoundException.
#[tokio::test]
async fn r_cfg_2_client_operations_on_a_missing_pool_are_judged_against_the_model_first() {
    let srv = start(false).await;
    let op = |name: &str| format!("AWSCognitoIdentityProviderService.{name}");
    let cases = [
        (
            "CreateUserPoolClient",
            r#"{"UserPoolId":"us-east-1_NoSuchPool","ClientName":"a/b"}"#,
            "InvalidParameterException",
        ),
        (
            "UpdateUserPoolClient",
            r#"{"UserPoolId":"us-east-1_NoSuchPool","ClientId":"abc","AccessTokenValidity":0}"#,
            "InvalidParameterException",
        ),
        (
            "DescribeUserPoolClient",
            r#"{"UserPoolId":"us-east-1_NoSuchPool","ClientId":"a b"}"#,
            "InvalidParameterException",
        ),
        (
            "CreateUserPoolClient",
            r#"{"UserPoolId":"us-east-1_NoSuchPool","ClientName":"ok"}"#,
            "ResourceNotFoundException",
        ),
        (
            "DeleteUserPoolClient",
            r#"{"UserPoolId":"us-east-1_NoSuchPool","ClientId":"abc"}"#,
            "ResourceNotFoundException",
        ),
    ];
    for (name, body, want) in cases {
        let (s, b) = post(&srv, Some(&op(name)), body).await;
        assert_wire_error(s, &b, 400, want);
    }
    // A malformed pool id is reported together with the request's other violations.
    let (s, b) = post(
        &srv,
        Some(&op("CreateUserPoolClient")),
        r#"{"UserPoolId":"nopool","ClientName":"a/b"}"#,
    )
    .await;
    assert_wire_error(s, &b, 400, "InvalidParameterException");
    let message = b["message"].as_str().unwrap();
    assert!(message.starts_with("2 validation errors"), "{b}");
    still_serving(&srv).await;
}

/// R-WIRE-2: a pool's documents answer 404 only for a pool that is not there (a path that names none,
/// not UTF-8 included, in the JSON error shape); another failure (a database outage, say) keeps its own
/// status, so a verifier never takes it for a pool that is gone.
#[tokio::test]
async fn r_wire_2_pool_documents_answer_404_only_for_a_pool_that_is_not_there() {
    let srv = start(false).await;
    for path in [
        "/%ff%fe/.well-known/jwks.json",
        "/%ff%fe/.well-known/openid-configuration",
    ] {
        let (status, body) = get(&srv, path).await;
        assert_eq!(status, 404, "{path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{path}: {body}"));
        assert!(v["__type"].is_string(), "{path}: {v}");
    }
    let status = |e: &refresh_rotation::Error| server::pool_document_error(e).status().as_u16();
    let missing = refresh_rotation::Error::UserPoolNotFound {
        user_pool_id: "us-east-1_gone".into(),
    };
    assert_eq!(status(&missing), 404);
    let outage = refresh_rotation::Error::Store(refresh_rotation::error::StoreError::Unavailable(
        "connection refused".into(),
    ));
    assert_eq!(status(&outage), outage.http_status());
    assert_ne!(status(&outage), 404);
    srv.stop().await.unwrap();
}

/// R-SRV-6 with the model's AttributeValueType (at most 2048 characters): AdminCreateUser refuses a
/// longer value, naming its place, instead of cutting it (and echoing the uncut one), before it looks
/// the pool up or applies its own rules; 2048 is accepted. The operations naming a user check that a
/// Username is given before the pool too. An empty successful revocation carries no content type (R-OAUTH-5).
#[tokio::test]
async fn r_srv_6_attribute_values_over_2048_characters_are_refused_not_cut() {
    let srv = start(false).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    // The first attribute, then `name` with `value`, in pool `in_pool`.
    let create = |in_pool: &str, user: &str, first: &str, value: String, action: &str| {
        serde_json::json!({
            "UserPoolId": in_pool, "Username": user, "MessageAction": action,
            "UserAttributes": [{"Name": first, "Value": "a@example.com"}, {"Name": "name", "Value": value}],
        })
        .to_string()
    };
    let target = "AWSCognitoIdentityProviderService.AdminCreateUser";
    // Refused at the second attribute; with a `sub` given first, with a MessageAction this service
    // refuses, or in a pool that does not exist, too: the bound is the model's and so is told before
    // the pool is looked up and before the service's own rules.
    let missing_pool = "us-east-1_nowhere00";
    for (in_pool, first, action) in [
        (pool.as_str(), "email", "SUPPRESS"),
        (pool.as_str(), "sub", "SUPPRESS"),
        (pool.as_str(), "email", "RESEND"),
        (missing_pool, "email", "SUPPRESS"),
    ] {
        let body = create(in_pool, "long", first, "x".repeat(2049), action);
        let (s, b) = post(&srv, Some(target), &body).await;
        assert_wire_error(s, &b, 400, "InvalidParameterException");
        assert!(
            b["message"]
                .as_str()
                .unwrap()
                .contains("userAttributes.2.member.value"),
            "{in_pool} {first} {action}: {b}"
        );
    }
    // The operations naming a user: a missing Username is told before the pool is looked up, as the
    // model's checks come first.
    for op in [
        "AdminSetUserPassword",
        "AdminDisableUser",
        "AdminEnableUser",
        "AdminDeleteUser",
        "AdminUserGlobalSignOut",
    ] {
        let target = format!("AWSCognitoIdentityProviderService.{op}");
        let body = serde_json::json!({"UserPoolId": missing_pool}).to_string();
        let (s, b) = post(&srv, Some(&target), &body).await;
        assert_wire_error(s, &b, 400, "InvalidParameterException");
        assert!(
            b["message"].as_str().unwrap().contains("Username"),
            "{op}: {b}"
        );
    }
    // Within the bound, the missing pool is what is told.
    let body = create(missing_pool, "ok", "email", "x".repeat(2048), "SUPPRESS");
    let (s, b) = post(&srv, Some(target), &body).await;
    assert_wire_error(s, &b, 400, "ResourceNotFoundException");
    let body = create(&pool, "ok", "email", "é".repeat(2048), "SUPPRESS");
    let (s, b) = post(&srv, Some(target), &body).await;
    assert_eq!(s, 200, "{b}");

    let (client_id, _) = client(
        &c,
        &pool,
        ClientOpts {
            rotation: Some(0),
            secret: false,
        },
    )
    .await;
    let token = sign_in(&c, &pool, &client_id, None, "alice")
        .await
        .refresh_token
        .unwrap();
    let form = format!("token={token}&client_id={client_id}");
    let request = format!(
        "POST /oauth2/revoke HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{form}",
        srv.addr(),
        form.len()
    );
    let (status, head, body) = raw_with_head(&srv, request.as_bytes()).await;
    assert_eq!(status, 200, "{head}\n{body}");
    assert!(body.is_empty(), "{body}");
    assert!(!head.contains("content-type:"), "{head}");
    srv.stop().await.unwrap();
}
