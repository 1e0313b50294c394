//! R-SRV-9: the example service bounds its own resources: deadlines for a request's headers and body, a
//! cap on requests in flight with the excess answered 503 at once, the pool limit decided before any key
//! is generated, and `Cache-Control: no-store` on every response that carries a token.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

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

// ------------------------------------------------------------------ as an internet-facing endpoint

fn assert_oauth_error(status: u16, head: &str, body: &str, want_status: u16, code: &str) {
    assert_eq!(status, want_status, "{head}\n{body}");
    assert!(head.contains("cache-control: no-store"), "{head}");
    assert!(head.contains("pragma: no-cache"), "{head}");
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body:?}"));
    assert_eq!(v["error"], code, "{v}");
}

/// R-OAUTH-1: any method but POST on the OAuth endpoints is the adapter's 405 `invalid_request` with
/// `Allow: POST`, in the R-OAUTH-3 error shape, not the router's empty 405.
#[tokio::test]
async fn r_oauth_1_a_get_on_the_oauth_endpoints_is_405_invalid_request() {
    let srv = start_with(ServerConfig {
        introspection: true,
        ..ServerConfig::default()
    })
    .await;
    for path in ["/oauth2/token", "/oauth2/revoke", "/oauth2/introspect"] {
        let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        let (s, head, body) = raw_with_head(&srv, req.as_bytes()).await;
        assert!(head.contains("allow: POST"), "{head}");
        assert_oauth_error(s, &head, &body, 405, "invalid_request");
    }
    srv.stop().await.unwrap();
}

/// R-OAUTH-3 with R-SRV-9: the in-flight cap's 503 on an OAuth endpoint is an OAuth error
/// (`temporarily_unavailable`), uncacheable, with `Retry-After`.
#[tokio::test]
async fn r_oauth_3_the_in_flight_cap_answers_the_oauth_endpoints_in_their_shape() {
    let srv = start_with(ServerConfig {
        max_in_flight: 1,
        ..ServerConfig::default()
    })
    .await;
    // Holds the only permit: a body that has not arrived yet.
    let mut holder = TcpStream::connect(srv.addr()).await.unwrap();
    holder
        .write_all(b"POST /oauth2/revoke HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n")
        .await
        .unwrap();
    let req = b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=b";
    // The first tries may come before the server has read the holder's head.
    let started = Instant::now();
    let (s, head, body) = loop {
        let (s, head, body) = raw_with_head(&srv, req).await;
        if s == 503 || started.elapsed() > PROMPT {
            break (s, head, body);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    drop(holder);
    assert_oauth_error(s, &head, &body, 503, "temporarily_unavailable");
    assert!(head.contains("retry-after: 1"), "{head}");
    srv.stop().await.unwrap();
}

/// R-SRV-9: a client that pipelines requests and never reads the answers does not hold its connection,
/// nor the service's shutdown: a response that cannot be written for the write-stall timeout closes the
/// connection, and connections still open after the shutdown grace are closed.
#[tokio::test]
async fn r_srv_9_a_client_that_never_reads_does_not_hold_the_connection_or_the_shutdown() {
    let srv = start_with(ServerConfig {
        header_read_timeout: Duration::from_millis(500),
        body_read_timeout: Duration::from_millis(500),
        write_stall_timeout: Duration::from_millis(500),
        shutdown_grace: Duration::from_millis(500),
        ..ServerConfig::default()
    })
    .await;
    let one = b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
    let mut s = TcpStream::connect(srv.addr()).await.unwrap();
    // Writes until the socket buffers are full on both sides; never reads.
    let many = one.repeat(20_000);
    let _ = tokio::time::timeout(Duration::from_secs(3), s.write_all(&many)).await;
    let started = Instant::now();
    let stopped = tokio::time::timeout(Duration::from_secs(20), srv.stop()).await;
    drop(s);
    assert!(
        stopped.is_ok(),
        "stop() still waiting after {:?}: a client that does not read holds the shutdown",
        started.elapsed()
    );
}

/// R-SRV-9: the write-stall timeout closes such a connection by itself, without a shutdown.
#[tokio::test]
async fn r_srv_9_a_response_the_client_does_not_take_closes_the_connection() {
    // Only the write stall can close the connection within the test: the idle timeout is far away.
    let srv = start_with(ServerConfig {
        write_stall_timeout: Duration::from_millis(300),
        header_read_timeout: Duration::from_secs(60),
        ..ServerConfig::default()
    })
    .await;
    // A small receive buffer, so that the server's answers fill it after a few requests.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(srv.addr()).await.unwrap();
    let one = b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n";
    let many = one.repeat(100_000);
    let _ = tokio::time::timeout(Duration::from_secs(3), s.write_all(&many)).await;
    // Never read (reading would let the server go on): wait for it to give the connection up. It
    // closes with requests it never read, hence a reset, however long a loaded machine takes to answer
    // enough of them to fill the buffers.
    let deadline = Instant::now() + Duration::from_secs(30);
    let reset = loop {
        if let Some(e) = s.take_error().unwrap() {
            break Some(e);
        }
        if Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(reset.is_some(), "the connection is still open");
    srv.stop().await.unwrap();
}

/// R-WIRE-2 with R-SRV-9: a malformed chunked body is a bad request (400), not "exceeds 1048576 bytes"
/// (413); likewise at the OAuth endpoints.
#[tokio::test]
async fn r_srv_9_a_malformed_chunked_body_is_not_called_too_large() {
    let srv = start_with(ServerConfig::default()).await;
    let req = b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSCognitoIdentityProviderService.CreateUserPool\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
    let (s, _, body) = raw_with_head(&srv, req).await;
    assert_eq!(s, 400, "{body}");
    assert!(!body.contains("exceeds"), "{body}");
    let req = b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\nabc\r\n0\r\n\r\n";
    let (s, head, body) = raw_with_head(&srv, req).await;
    assert_oauth_error(s, &head, &body, 400, "invalid_request");
    assert!(!body.contains("larger than"), "{body}");
    srv.stop().await.unwrap();
}

/// R-SAFE-1 with R-SRV-9: the OAuth endpoints refuse a declared length above their 64 KiB before
/// reading, as `POST /` refuses one above its own limit, instead of answering `100 Continue` and
/// waiting for the upload.
#[tokio::test]
async fn r_safe_1_the_token_endpoint_refuses_a_declared_oversized_body_at_once() {
    let srv = start_with(ServerConfig::default()).await;
    let req = b"POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nExpect: 100-continue\r\nContent-Length: 10000000000\r\n\r\n";
    let (s, head, body) = raw_with_head(&srv, req).await;
    assert!(
        !head.starts_with("HTTP/1.1 100"),
        "asked to upload 10 GB:\n{head}"
    );
    assert_oauth_error(s, &head, &body, 400, "invalid_request");
    srv.stop().await.unwrap();
}

/// R-SRV-9: blocking work a request started (a password hash, a key generation) keeps the request's
/// in-flight permit until it ends, even once the request itself is gone (its caller hung up and the
/// connection dropped its future): callers that send and hang up cannot run more of it than the cap.
#[tokio::test]
async fn r_srv_9_blocking_work_keeps_its_permit_after_its_request_is_dropped() {
    let cap = Arc::new(Semaphore::new(1));
    let permit = Arc::new(cap.clone().try_acquire_owned().unwrap());
    let (release, wait) = std::sync::mpsc::channel::<()>();
    // The request starts the work and ends without awaiting it (its future is then dropped).
    let (started, work) = tokio::sync::oneshot::channel();
    server::run_counted(permit, async move {
        let _ = started.send(server::spawn_counted(move || wait.recv()));
    })
    .await;
    let work = work.await.unwrap();
    // The request's future is over and dropped; the work it started still runs and holds the permit.
    assert_eq!(cap.available_permits(), 0);
    release.send(()).unwrap();
    work.await.unwrap().unwrap();
    assert_eq!(cap.available_permits(), 1);
}
