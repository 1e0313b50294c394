//! R-SRV-6 and R-PER-4: `cognito_server --database-url` run as two separate OS processes over one
//! PostgreSQL database, driven over raw HTTP with Cognito's JSON protocol. A client created on one is
//! usable on the other at once, an update through one applies to the other's next refresh, one token
//! presented to both at once advances its family once, and a restart of both loses nothing.
//!
//! The tests need a database: they run when `REFRESH_ROTATION_PG_URL` is set (as
//! `bash stores/postgres/ci.sh cargo test --workspace` does) and otherwise skip with a note. Each test
//! makes its own pools, so the tests share the database without interfering. The example binary is
//! built first with `cargo build --example cognito_server`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const PASSWORD: &str = "Correct-Horse-42";

fn database_url() -> Option<String> {
    match std::env::var("REFRESH_ROTATION_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "skipped: REFRESH_ROTATION_PG_URL is not set (run under `bash stores/postgres/ci.sh`)"
            );
            None
        }
    }
}

/// The example binary, built once per test run so that it is never stale.
fn binary() -> &'static PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap()
            .to_path_buf();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(&root)
            .args([
                "build",
                "--quiet",
                "-p",
                "refresh-rotation",
                "--example",
                "cognito_server",
            ])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build --example cognito_server");
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join("target"));
        let bin = target
            .join("debug")
            .join("examples")
            .join(format!("cognito_server{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} not found", bin.display());
        bin
    })
}

/// One `cognito_server` process; killed when dropped.
struct Instance {
    child: Child,
    addr: SocketAddr,
}

impl Instance {
    /// Starts the binary on a free loopback port with `--database-url url` and waits for its
    /// readiness line. The sealing key is the one the database keeps (none is given).
    fn start(url: &str) -> Instance {
        Self::start_with(url, &["--algorithm", "es256"])
    }

    /// [`start`](Self::start) with more arguments. A cheap PBKDF2 keeps debug builds quick; the pools
    /// are made with whatever signs (`--algorithm`) the instance that creates them has.
    fn start_with(url: &str, args: &[&str]) -> Instance {
        let mut child = Command::new(binary())
            .args(["--listen", "127.0.0.1:0", "--database-url", url])
            .args(["--pbkdf2-iterations", "1000"])
            .args(args)
            .env_remove("COGNITO_SERVER_SECRET_KEY")
            .env("RUST_LOG", "error")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start cognito_server");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let line = lines
            .next()
            .expect("a readiness line")
            .expect("readable stdout");
        let addr = line
            .split("listening on http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        assert!(line.contains("state in PostgreSQL"), "{line}");
        // Keep draining stdout so that the process never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Instance { child, addr }
    }

    /// An AWS JSON 1.1 call: `(status, body)`.
    async fn call(&self, op: &str, body: Value) -> (u16, Value) {
        let body = body.to_string();
        let req = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.1\r\n\
             X-Amz-Target: AWSCognitoIdentityProviderService.{op}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        let (status, text) = self.raw(req.as_bytes()).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A call that must succeed.
    async fn ok(&self, op: &str, body: Value) -> Value {
        let (status, v) = self.call(op, body).await;
        assert_eq!(status, 200, "{op}: {v}");
        v
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        );
        self.raw(req.as_bytes()).await
    }

    async fn raw(&self, req: &[u8]) -> (u16, String) {
        let mut s = tokio::net::TcpStream::connect(self.addr).await.unwrap();
        s.write_all(req).await.unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        let text = String::from_utf8_lossy(&buf);
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

    /// Stops the process (as a crash or `kill` would: nothing is flushed on the way out).
    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A pool with user `alice` (password [`PASSWORD`]) and a client with rotation on and the given grace
/// period, made through `on`: `(pool id, client id)`.
async fn pool_with_client(on: &Instance, grace: u32) -> (String, String) {
    let pool = on
        .ok("CreateUserPool", json!({"PoolName": "persistence"}))
        .await["UserPool"]["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    on.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "alice", "MessageAction": "SUPPRESS"}),
    )
    .await;
    on.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "alice", "Password": PASSWORD, "Permanent": true}),
    )
    .await;
    let client = on
        .ok("CreateUserPoolClient", client_config(&pool, None, grace))
        .await["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    (pool, client)
}

/// A Create (without `client`) or Update (with it) request: password sign-in, rotation with `grace`.
fn client_config(pool: &str, client: Option<&str>, grace: u32) -> Value {
    let mut v = json!({
        "UserPoolId": pool,
        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"],
        "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": grace},
    });
    match client {
        Some(id) => v["ClientId"] = json!(id),
        None => v["ClientName"] = json!("app"),
    }
    v
}

async fn sign_in(on: &Instance, client: &str) -> String {
    let v = on
        .ok(
            "InitiateAuth",
            json!({
                "ClientId": client,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD},
            }),
        )
        .await;
    v["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn refresh(on: &Instance, client: &str, token: &str) -> (u16, Value) {
    on.call(
        "GetTokensFromRefreshToken",
        json!({"ClientId": client, "RefreshToken": token}),
    )
    .await
}

/// `POST /oauth2/introspect` on `on` for a public client: `(status, body)`.
async fn introspect_raw(on: &Instance, client: &str, token: &str) -> (u16, String) {
    let body = format!("token={token}&client_id={client}");
    let req = format!(
        "POST /oauth2/introspect HTTP/1.1\r\nHost: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        on.addr,
        body.len()
    );
    on.raw(req.as_bytes()).await
}

/// [`introspect_raw`] that must succeed: the RFC 7662 answer.
async fn introspect(on: &Instance, client: &str, token: &str) -> Value {
    let (status, text) = introspect_raw(on, client, token).await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// A refresh that must succeed and rotate: the new refresh token.
async fn rotate(on: &Instance, client: &str, token: &str) -> String {
    let (status, v) = refresh(on, client, token).await;
    assert_eq!(status, 200, "{v}");
    v["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no rotated refresh token in {v}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_per_4_a_client_created_on_one_instance_is_used_on_the_other() {
    let Some(url) = database_url() else { return };
    let (a, b) = (Instance::start(&url), Instance::start(&url));
    let (pool, client) = pool_with_client(&a, 0).await;

    // B sees the client at once: Describe, and the JWKS of a pool it never saw created.
    let d = b
        .ok(
            "DescribeUserPoolClient",
            json!({"UserPoolId": pool, "ClientId": client}),
        )
        .await;
    assert_eq!(d["UserPoolClient"]["ClientName"], "app");
    let (status, jwks) = b.get(&format!("/{pool}/.well-known/jwks.json")).await;
    assert_eq!(status, 200, "{jwks}");
    assert_eq!(
        jwks,
        a.get(&format!("/{pool}/.well-known/jwks.json")).await.1
    );

    // Signed in on A, refreshed on B, and B's successor refreshes on A.
    let t0 = sign_in(&a, &client).await;
    let t1 = rotate(&b, &client, &t0).await;
    let t2 = rotate(&a, &client, &t1).await;
    assert_ne!(t1, t2);

    // The OAuth 2.0 token endpoint of B rotates a token issued through A (R-SRV-7 over the database).
    let form = format!("grant_type=refresh_token&client_id={client}&refresh_token={t2}");
    let req = format!(
        "POST /oauth2/token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{form}",
        b.addr,
        form.len()
    );
    let (status, body) = b.raw(req.as_bytes()).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let t3 = v["refresh_token"].as_str().unwrap().to_owned();
    let t2 = rotate(&a, &client, &t3).await;

    // A client created on B signs in on A.
    let c2 = b
        .ok("CreateUserPoolClient", client_config(&pool, None, 0))
        .await["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    let u0 = sign_in(&a, &c2).await;
    rotate(&b, &c2, &u0).await;

    // A user disabled through B cannot refresh through A.
    b.ok(
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "alice"}),
    )
    .await;
    let (status, v) = refresh(&a, &client, &t2).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["__type"], "NotAuthorizedException", "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_per_4_an_update_through_one_applies_to_the_others_next_refresh() {
    let Some(url) = database_url() else { return };
    let (a, b) = (Instance::start(&url), Instance::start(&url));
    let (pool, client) = pool_with_client(&a, 0).await;

    // Grace 0: the rotated-out token is refused at once on B.
    let t0 = sign_in(&a, &client).await;
    let t1 = rotate(&b, &client, &t0).await;
    let (status, v) = refresh(&b, &client, &t0).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["__type"], "RefreshTokenReuseException", "{v}");

    // Grace raised through A: B's next rotation opens a window in which the old token is retried.
    a.ok(
        "UpdateUserPoolClient",
        client_config(&pool, Some(&client), 60),
    )
    .await;
    let t2 = rotate(&b, &client, &t1).await;
    let (status, v) = refresh(&b, &client, &t1).await;
    assert_eq!(
        status, 200,
        "the grace window set through A applies on B: {v}"
    );
    let _ = t2;

    // Rotation turned off through A: B's next refresh returns no new refresh token.
    let mut off = client_config(&pool, Some(&client), 0);
    off["RefreshTokenRotation"] = json!({"Feature": "DISABLED"});
    off["ExplicitAuthFlows"] = json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]);
    a.ok("UpdateUserPoolClient", off).await;
    let u0 = sign_in(&a, &client).await;
    let (status, v) = b
        .call(
            "InitiateAuth",
            json!({
                "ClientId": client,
                "AuthFlow": "REFRESH_TOKEN_AUTH",
                "AuthParameters": {"REFRESH_TOKEN": u0},
            }),
        )
        .await;
    assert_eq!(status, 200, "{v}");
    assert!(
        v["AuthenticationResult"]["RefreshToken"].is_null(),
        "rotation off: no new refresh token: {v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_per_4_one_token_presented_to_both_advances_once() {
    let Some(url) = database_url() else { return };
    let (a, b) = (Instance::start(&url), Instance::start(&url));
    let (_pool, client) = pool_with_client(&a, 0).await;
    let mut token = sign_in(&a, &client).await;
    for round in 0..20 {
        let (ra, rb) = tokio::join!(refresh(&a, &client, &token), refresh(&b, &client, &token));
        let winners: Vec<&Value> = [&ra, &rb]
            .into_iter()
            .filter(|(s, _)| *s == 200)
            .map(|(_, v)| v)
            .collect();
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one of the two advances: {ra:?} {rb:?}"
        );
        for (status, v) in [&ra, &rb] {
            if *status != 200 {
                assert_eq!(status, &400, "{v}");
                assert_eq!(v["__type"], "RefreshTokenReuseException", "{v}");
            }
        }
        token = winners[0]["AuthenticationResult"]["RefreshToken"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    // The family is alive at its 20th successor, on both.
    let next = rotate(&b, &client, &token).await;
    rotate(&a, &client, &next).await;
}

/// R-SRV-7 and R-OAUTH-7 on PostgreSQL: an instance started with `--introspection` answers for a token
/// another instance issued and rotated, from the family's state in the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_srv_7_introspection_on_postgresql_sees_the_other_instances_writes() {
    let Some(url) = database_url() else { return };
    let a = Instance::start(&url);
    let b = Instance::start_with(&url, &["--algorithm", "es256", "--introspection"]);
    let (pool, client) = pool_with_client(&a, 0).await;
    let t0 = sign_in(&a, &client).await;
    let v = introspect(&b, &client, &t0).await;
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(v["client_id"], client.as_str());
    // Rotated on the other instance with grace 0: inactive at once, the successor active.
    let t1 = rotate(&a, &client, &t0).await;
    assert_eq!(introspect(&b, &client, &t0).await, json!({"active": false}));
    assert_eq!(introspect(&b, &client, &t1).await["active"], true);
    let (_, doc) = b
        .get(&format!("/{pool}/.well-known/openid-configuration"))
        .await;
    assert!(doc.contains("/oauth2/introspect"), "{doc}");
    // Without the option, the other instance neither routes nor names the endpoint.
    let (_, doc) = a
        .get(&format!("/{pool}/.well-known/openid-configuration"))
        .await;
    assert!(!doc.contains("introspect"), "{doc}");
    assert_eq!(introspect_raw(&a, &client, &t1).await.0, 404);
}

/// R-WIRE-2, R-SAFE-1, R-SRV-6: a NUL character, which PostgreSQL text cannot hold, is the request's
/// fault: a 400, never a 500 that would report the database unavailable, and the same answer as in
/// memory: a user named with one does not exist; an attribute value with one is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_wire_2_a_nul_character_is_a_client_error_on_postgresql() {
    let Some(url) = database_url() else { return };
    let a = Instance::start(&url);
    let (pool, client) = pool_with_client(&a, 0).await;
    let (status, v) = a
        .call(
            "InitiateAuth",
            json!({
                "ClientId": client,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "x\u{0}y", "PASSWORD": PASSWORD},
            }),
        )
        .await;
    assert_eq!(status, 400, "{v}");
    assert_ne!(v["__type"], "InvalidParameterException", "{v}");
    for op in ["AdminDisableUser", "AdminDeleteUser"] {
        let (status, v) = a
            .call(op, json!({"UserPoolId": pool, "Username": "x\u{0}y"}))
            .await;
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some("UserNotFoundException")),
            "{op}: {v}"
        );
    }
    let (status, v) = a
        .call(
            "AdminCreateUser",
            json!({
                "UserPoolId": pool, "Username": "bob", "MessageAction": "SUPPRESS",
                "UserAttributes": [{"Name": "email", "Value": "a\u{0}b@example.com"}],
            }),
        )
        .await;
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("InvalidParameterException")),
        "{v}"
    );
    // The model's bound on a value is told before the pool is looked up, as in memory.
    let (status, v) = a
        .call(
            "AdminCreateUser",
            json!({
                "UserPoolId": "us-east-1_nowhere00", "Username": "bob", "MessageAction": "SUPPRESS",
                "UserAttributes": [{"Name": "name", "Value": "x".repeat(2049)}],
            }),
        )
        .await;
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("InvalidParameterException")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("userAttributes.1.member.value"),
        "{v}"
    );
    // The service is still up and serving.
    sign_in(&a, &client).await;
}

/// R-OPS-2 in PostgreSQL mode: a refresh refused because its client was deleted is counted once, as in
/// memory, although the instance first tried the pool it remembered for the client (whose issuer
/// records the refusal) and then looked the client up in every pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_ops_2_a_refresh_after_its_client_was_deleted_is_counted_once_on_postgresql() {
    let Some(url) = database_url() else { return };
    let a = Instance::start_with(&url, &["--algorithm", "es256", "--metrics"]);
    let (pool, client) = pool_with_client(&a, 0).await;
    let t0 = sign_in(&a, &client).await;
    let t1 = rotate(&a, &client, &t0).await;
    a.ok(
        "DeleteUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client}),
    )
    .await;
    let (status, v) = refresh(&a, &client, &t1).await;
    assert_eq!(
        (status, v["__type"].as_str()),
        (400, Some("ResourceNotFoundException")),
        "{v}"
    );
    let (status, text) = a.get("/metrics").await;
    assert_eq!(status, 200, "{text}");
    let counted: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.starts_with("refresh_rotation_refresh_total{")
                && l.contains(r#"outcome="client_error""#)
        })
        .collect();
    assert_eq!(counted.len(), 1, "{text}");
    assert!(counted[0].ends_with(" 1"), "counted once: {}", counted[0]);
}

/// R-REF-4, R-REV-1 in PostgreSQL mode as in memory: one pool's refresh token presented with another
/// pool's client is unknown there (each pool has its own refresh-token key), not "another client's"
/// token, which would tell its holder that it is live in some other pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_ref_4_another_pools_refresh_token_is_unknown_on_postgresql() {
    let Some(url) = database_url() else { return };
    let a = Instance::start(&url);
    let (_, client_a) = pool_with_client(&a, 0).await;
    let (_, client_b) = pool_with_client(&a, 0).await;
    let token = sign_in(&a, &client_a).await;
    let (status, v) = refresh(&a, &client_b, &token).await;
    assert_eq!(
        (status, v["__type"].as_str(), v["message"].as_str()),
        (
            400,
            Some("NotAuthorizedException"),
            Some("Invalid Refresh Token.")
        ),
        "{v}"
    );
    let (status, v) = a
        .call("RevokeToken", json!({"ClientId": client_b, "Token": token}))
        .await;
    assert_eq!((status, &v), (200, &json!({})), "{v}");
    // The token still works in its own pool.
    rotate(&a, &client_a, &token).await;
}

/// R-CFG-2 before R-CLI-5, in PostgreSQL mode as in memory: a client operation naming a pool the
/// database does not have is judged against the API model first.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_cfg_2_client_operations_on_a_missing_pool_are_judged_against_the_model_first_on_postgresql(
) {
    let Some(url) = database_url() else { return };
    let a = Instance::start(&url);
    for (op, body, want) in [
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": "us-east-1_NoSuchPool", "ClientName": "a/b"}),
            "InvalidParameterException",
        ),
        (
            "UpdateUserPoolClient",
            json!({"UserPoolId": "us-east-1_NoSuchPool", "ClientId": "abc", "AccessTokenValidity": 0}),
            "InvalidParameterException",
        ),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": "us-east-1_NoSuchPool", "ClientName": "ok"}),
            "ResourceNotFoundException",
        ),
        (
            "DeleteUserPoolClient",
            json!({"UserPoolId": "us-east-1_NoSuchPool", "ClientId": "abc"}),
            "ResourceNotFoundException",
        ),
    ] {
        let (status, v) = a.call(op, body).await;
        assert_eq!(
            (status, v["__type"].as_str()),
            (400, Some(want)),
            "{op}: {v}"
        );
    }
}

/// R-JWT-4, R-PER-4: a pool's issuer URL is its own region's, from its id, whatever `--region` the
/// instance serving it was started with, so two instances on one database give a pool one `iss`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_jwt_4_instances_started_with_other_regions_give_a_pool_one_issuer() {
    let Some(url) = database_url() else { return };
    let a = Instance::start(&url);
    let b = Instance::start_with(&url, &["--region", "eu-west-1"]);
    let (pool, _) = pool_with_client(&a, 0).await;
    let issuer = |doc: &str| {
        serde_json::from_str::<Value>(doc).unwrap()["issuer"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let path = format!("/{pool}/.well-known/openid-configuration");
    let (on_a, on_b) = (a.get(&path).await.1, b.get(&path).await.1);
    let region = pool.split_once('_').unwrap().0;
    assert_eq!(
        issuer(&on_a),
        format!("https://cognito-idp.{region}.amazonaws.com/{pool}")
    );
    assert_eq!(issuer(&on_b), issuer(&on_a));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_srv_6_a_restart_loses_nothing() {
    let Some(url) = database_url() else { return };
    // RS256 here, as Cognito: the pool's two RSA keys are what must survive.
    let rs256 = ["--algorithm", "rs256"];
    let (a, b) = (
        Instance::start_with(&url, &rs256),
        Instance::start_with(&url, &rs256),
    );
    let (pool, client) = pool_with_client(&a, 0).await;
    let t0 = sign_in(&a, &client).await;
    let t1 = rotate(&b, &client, &t0).await;
    let described = a
        .ok(
            "DescribeUserPoolClient",
            json!({"UserPoolId": pool, "ClientId": client}),
        )
        .await;
    let jwks = a.get(&format!("/{pool}/.well-known/jwks.json")).await.1;
    a.stop();
    b.stop();

    let (a, b) = (Instance::start(&url), Instance::start(&url));
    // The token issued before the restart refreshes after it, on either.
    let t2 = rotate(&a, &client, &t1).await;
    rotate(&b, &client, &t2).await;
    // The rotated-out token is still known as rotated out.
    let (status, v) = refresh(&b, &client, &t0).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["__type"], "RefreshTokenReuseException", "{v}");
    // The client (its secret-free configuration), the user's password and the signing keys survive.
    assert_eq!(
        b.ok(
            "DescribeUserPoolClient",
            json!({"UserPoolId": pool, "ClientId": client}),
        )
        .await,
        described
    );
    sign_in(&b, &client).await;
    assert_eq!(
        b.get(&format!("/{pool}/.well-known/jwks.json")).await.1,
        jwks
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_srv_6_a_client_secret_survives_a_restart() {
    let Some(url) = database_url() else { return };
    let a = Instance::start(&url);
    let (pool, _) = pool_with_client(&a, 0).await;
    let mut req = client_config(&pool, None, 0);
    req["GenerateSecret"] = json!(true);
    let created = a.ok("CreateUserPoolClient", req).await;
    let id = created["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret = created["UserPoolClient"]["ClientSecret"]
        .as_str()
        .unwrap()
        .to_owned();
    a.stop();
    let b = Instance::start(&url);
    let d = b
        .ok(
            "DescribeUserPoolClient",
            json!({"UserPoolId": pool, "ClientId": id}),
        )
        .await;
    assert_eq!(d["UserPoolClient"]["ClientSecret"], secret.as_str());
}

/// A TCP proxy to the database that can stop answering: it keeps accepting connections and reading
/// what it is sent, but forwards nothing either way while `stalled` is set (a database host that went
/// silent behind a network fault, say).
struct StallingProxy {
    addr: SocketAddr,
    stalled: Arc<std::sync::atomic::AtomicBool>,
}

impl StallingProxy {
    async fn start(upstream: SocketAddr) -> StallingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stalled.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let Ok(outbound) = tokio::net::TcpStream::connect(upstream).await else {
                    continue;
                };
                let (ri, wi) = inbound.into_split();
                let (ro, wo) = outbound.into_split();
                tokio::spawn(Self::pump(ri, wo, flag.clone()));
                tokio::spawn(Self::pump(ro, wi, flag.clone()));
            }
        });
        StallingProxy { addr, stalled }
    }

    async fn pump(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        stalled: Arc<std::sync::atomic::AtomicBool>,
    ) {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            while stalled.load(std::sync::atomic::Ordering::SeqCst) {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            if to.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    }

    fn stall(&self, stalled: bool) {
        self.stalled
            .store(stalled, std::sync::atomic::Ordering::SeqCst);
    }
}

/// R-SRV-6, R-SRV-9: with `--database-timeout`, a database that accepts connections and stops answering
/// fails each request as an outage after that long (never 404, never a wait without end), in the
/// operations' and the OAuth endpoints' error shapes; once it answers again, so does the service.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_srv_6_a_database_that_stops_answering_fails_requests_after_the_timeout() {
    let Some(url) = database_url() else { return };
    let (head, rest) = url.split_once('@').expect("a URL with credentials");
    let (host_port, db) = rest.split_once('/').expect("a URL with a database");
    let upstream: SocketAddr = tokio::net::lookup_host(host_port)
        .await
        .unwrap()
        .next()
        .unwrap();
    let proxy = StallingProxy::start(upstream).await;
    let proxied = format!("{head}@{}/{db}", proxy.addr);
    let a = Instance::start_with(
        &proxied,
        &["--algorithm", "es256", "--database-timeout", "2"],
    );
    let (pool, client) = pool_with_client(&a, 0).await;
    let token = sign_in(&a, &client).await;

    proxy.stall(true);
    // A pool this instance has not loaded: its own connection asks the database.
    let (status, body) = tokio::time::timeout(
        Duration::from_secs(30),
        a.get("/us-east-1_NotLoadedYet/.well-known/jwks.json"),
    )
    .await
    .expect("answered, not left waiting");
    assert!(status >= 500, "{status} {body}");
    let (status, v) = tokio::time::timeout(
        Duration::from_secs(30),
        a.call(
            "DescribeUserPoolClient",
            json!({"UserPoolId": pool, "ClientId": client}),
        ),
    )
    .await
    .expect("answered, not left waiting");
    assert!(status >= 500, "{status} {v}");

    proxy.stall(false);
    let t1 = rotate(&a, &client, &token).await;
    assert_ne!(t1, token);

    // The bound is on waits for the database, not on a request's own work: a password hash longer
    // than the timeout (two million PBKDF2 rounds in a debug build) still sets the password.
    let slow = Instance::start_with(
        &url,
        &[
            "--algorithm",
            "es256",
            "--database-timeout",
            "1",
            "--pbkdf2-iterations",
            "2000000",
        ],
    );
    slow.ok(
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": "alice", "Password": PASSWORD, "Permanent": true}),
    )
    .await;
}
