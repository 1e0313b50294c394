//! R-SRV-9: the example service bounds its own resources: deadlines for a request's headers and body, a
//! cap on requests in flight with the excess answered 503 at once, the pool limit decided before any key
//! is generated, and `Cache-Control: no-store` on every response that carries a token.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous bound for "at once" and "promptly" on a loaded 2-core machine; the deadlines under test are
/// a fraction of it.
const PROMPT: Duration = Duration::from_secs(5);

/// The head of a CreateUserPool request whose body is `len` bytes, without the body.
fn create_pool_head(srv: &RunningServer, len: usize) -> String {
    format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: AWSCognitoIdentityProviderService.CreateUserPool\r\nContent-Length: {len}\r\n\
         Connection: close\r\n\r\n",
        srv.addr()
    )
}

/// Reads until the server closes, or fails the test after `limit`.
async fn read_all(s: &mut TcpStream, limit: Duration) -> String {
    let mut buf = Vec::new();
    tokio::time::timeout(limit, s.read_to_end(&mut buf))
        .await
        .unwrap_or_else(|_| panic!("the server kept the connection open past {limit:?}"))
        .ok();
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test]
async fn r_srv_9_requests_beyond_the_in_flight_cap_are_answered_503_at_once() {
    let srv = start_with(ServerConfig {
        pbkdf2_iterations: 1_000,
        max_in_flight: 2,
        ..ServerConfig::default()
    })
    .await;
    let body = r#"{"PoolName":"held"}"#;
    // Two requests hold the two permits: their handlers wait for bodies that have not arrived yet.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(srv.addr()).await.unwrap();
        s.write_all(create_pool_head(&srv, body.len()).as_bytes())
            .await
            .unwrap();
        s.write_all(&body.as_bytes()[..1]).await.unwrap();
        held.push(s);
    }
    // The third is refused as soon as both permits are taken (the first tries may come before the
    // server has read the two heads).
    let started = Instant::now();
    let (status, head, body_503) = loop {
        let started_try = Instant::now();
        let (status, head, body) = raw_with_head(
            &srv,
            &post_request(&srv, "CreateUserPool", r#"{"PoolName":"third"}"#),
        )
        .await;
        if status == 503 {
            assert!(started_try.elapsed() < PROMPT, "503 at once, not queued");
            break (status, head, body);
        }
        assert!(
            started.elapsed() < PROMPT,
            "no 503 with two requests in flight and a cap of 2: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status, 503);
    let v: Value = serde_json::from_str(&body_503).unwrap();
    assert_eq!(v["__type"], "TooManyRequestsException", "{v}");
    assert!(head.contains("retry-after: 1"), "{head}");

    // The held requests complete normally once their bodies arrive, and the permits come back.
    for mut s in held {
        s.write_all(&body.as_bytes()[1..]).await.unwrap();
        let resp = read_all(&mut s, PROMPT).await;
        assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    }
    let (status, _, body) = raw_with_head(
        &srv,
        &post_request(&srv, "CreateUserPool", r#"{"PoolName":"after"}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_srv_9_a_body_that_does_not_arrive_in_time_is_answered_408() {
    let srv = start_with(ServerConfig {
        pbkdf2_iterations: 1_000,
        body_read_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await;
    let mut s = TcpStream::connect(srv.addr()).await.unwrap();
    s.write_all(create_pool_head(&srv, 100).as_bytes())
        .await
        .unwrap();
    s.write_all(b"{\"PoolName\"").await.unwrap();
    let started = Instant::now();
    let resp = read_all(&mut s, PROMPT).await;
    assert!(started.elapsed() >= Duration::from_millis(250), "{resp}");
    assert!(resp.starts_with("HTTP/1.1 408"), "{resp}");
    let (_, body) = parse_response(resp.as_bytes());
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["__type"], "InvalidParameterException", "{v}");
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_srv_9_headers_that_do_not_arrive_in_time_close_the_connection() {
    let srv = start_with(ServerConfig {
        pbkdf2_iterations: 1_000,
        header_read_timeout: Duration::from_millis(300),
        ..ServerConfig::default()
    })
    .await;
    // Half a request head, then nothing (slowloris).
    let mut slow = TcpStream::connect(srv.addr()).await.unwrap();
    slow.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSCognito")
        .await
        .unwrap();
    // A connection that never sends a byte.
    let mut idle = TcpStream::connect(srv.addr()).await.unwrap();
    let started = Instant::now();
    read_all(&mut slow, PROMPT).await;
    read_all(&mut idle, PROMPT).await;
    assert!(started.elapsed() >= Duration::from_millis(250));
    // The service still serves.
    let (status, _, body) = raw_with_head(
        &srv,
        &post_request(&srv, "CreateUserPool", r#"{"PoolName":"fine"}"#),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_srv_9_the_pool_limit_is_checked_before_key_generation() {
    let srv = start_with(ServerConfig {
        pbkdf2_iterations: 1_000,
        max_pools: 2,
        ..ServerConfig::default()
    })
    .await;
    let create = || post_request(&srv, "CreateUserPool", r#"{"PoolName":"p"}"#);
    for _ in 0..2 {
        let (status, _, body) = raw_with_head(&srv, &create()).await;
        assert_eq!(status, 200, "{body}");
    }
    assert_eq!(srv.keys_generated(), 4);
    for _ in 0..5 {
        let (status, _, body) = raw_with_head(&srv, &create()).await;
        assert_eq!(status, 400, "{body}");
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["__type"], "LimitExceededException", "{v}");
    }
    assert_eq!(
        srv.keys_generated(),
        4,
        "a CreateUserPool over the limit generates no key"
    );
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_srv_9_responses_that_carry_tokens_are_not_cacheable() {
    let srv = start(false).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    let (client_id, _) = client(
        &c,
        &pool,
        ClientOpts {
            rotation: Some(5),
            secret: false,
        },
    )
    .await;
    let sign_in = format!(
        r#"{{"UserPoolId":"{pool}","ClientId":"{client_id}","AuthFlow":"ADMIN_USER_PASSWORD_AUTH","AuthParameters":{{"USERNAME":"alice","PASSWORD":"{PASSWORD}"}}}}"#
    );
    let (status, head, body) =
        raw_with_head(&srv, &post_request(&srv, "AdminInitiateAuth", &sign_in)).await;
    assert_eq!(status, 200, "{body}");
    assert!(head.contains("cache-control: no-store"), "{head}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let refresh_token = v["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let user_sign_in = format!(
        r#"{{"ClientId":"{client_id}","AuthFlow":"USER_PASSWORD_AUTH","AuthParameters":{{"USERNAME":"alice","PASSWORD":"{PASSWORD}"}}}}"#
    );
    let refresh = format!(r#"{{"ClientId":"{client_id}","RefreshToken":"{refresh_token}"}}"#);
    let bad_refresh = format!(r#"{{"ClientId":"{client_id}","RefreshToken":"forged"}}"#);
    for (target, body, want) in [
        ("InitiateAuth", user_sign_in.as_str(), 200),
        ("GetTokensFromRefreshToken", refresh.as_str(), 200),
        ("GetTokensFromRefreshToken", bad_refresh.as_str(), 400),
    ] {
        let (status, head, resp) = raw_with_head(&srv, &post_request(&srv, target, body)).await;
        assert_eq!(status, want, "{target}: {resp}");
        assert!(head.contains("cache-control: no-store"), "{target}: {head}");
        if want == 200 {
            assert!(resp.contains("AccessToken"), "{target}: {resp}");
        }
    }
    srv.stop().await.unwrap();
}
