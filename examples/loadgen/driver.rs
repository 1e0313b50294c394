//! The load generator of the service benchmark: drives a running `cognito_server` over loopback HTTP/1.1
//! and measures throughput and latency. Shared by `examples/loadgen` (the command) and
//! `examples/service_report.rs` (which includes this file by path).
//!
//! Each simulated client owns one connection and one refresh-token family and always presents the token
//! it got last, so every request advances a family: nothing is served from a retry cache or a replay.
//! One request is in flight per connection (a client waits for its new token before it can refresh
//! again), so N connections is N requests in flight.
//!
//! It speaks to the service with hyper's low-level HTTP/1.1 connection (no pool, no TLS, no retries), and
//! takes the new refresh token out of the response with a substring search rather than a JSON parse: the
//! load generator shares the machine's cores with the service, and every microsecond it spends is one the
//! service does not get.
#![allow(dead_code)] // `loadgen` and `service_report` each use a different part.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::Barrier;

pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The password of the benchmark user; it meets the default pool policy.
pub const PASSWORD: &str = "Correct-Horse-42";
/// The client's retry grace period: the longest Cognito allows, so a retry run never outlives it.
pub const GRACE_SECS: u64 = 60;
const AMZ_JSON: &str = "application/x-amz-json-1.1";
const FORM: &str = "application/x-www-form-urlencoded";

/// What each request of a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `GetTokensFromRefreshToken` over AWS JSON 1.1 (`POST /`, `X-Amz-Target`), rotating.
    Refresh,
    /// `POST /oauth2/token` with `grant_type=refresh_token` and `client_secret_basic`, rotating.
    OAuth,
    /// `GetTokensFromRefreshToken` presenting the token just rotated out, within the grace period: the
    /// service answers with the same successor every time (R-ROT-2), so the family does not advance.
    RetryInGrace,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Refresh, Mode::OAuth, Mode::RetryInGrace];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Refresh => "refresh",
            Mode::OAuth => "oauth",
            Mode::RetryInGrace => "retry",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// One kept-alive HTTP/1.1 connection to the service.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: String,
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> Res<Conn> {
        let stream = TcpStream::connect(addr).await?;
        // Requests are small and the next waits for the answer: Nagle would only add delay.
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn {
            sender,
            host: addr.to_string(),
        })
    }

    /// `POST path` with these headers and body: the status and the whole response body.
    pub async fn post(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        body: String,
    ) -> Res<(StatusCode, Bytes)> {
        self.sender.ready().await?;
        let mut req = Request::post(path).header("host", &self.host);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let resp = self
            .sender
            .send_request(req.body(Full::new(Bytes::from(body)))?)
            .await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// One AWS JSON 1.1 operation; its raw answer.
    pub async fn call_raw(&mut self, op: &str, body: String) -> Res<(StatusCode, Bytes)> {
        let target = format!("AWSCognitoIdentityProviderService.{op}");
        self.post(
            "/",
            &[("content-type", AMZ_JSON), ("x-amz-target", &target)],
            body,
        )
        .await
    }

    /// One AWS JSON 1.1 operation that must succeed; its parsed answer.
    pub async fn call(&mut self, op: &str, body: Value) -> Res<Value> {
        let (status, bytes) = self.call_raw(op, body.to_string()).await?;
        if status != StatusCode::OK {
            return Err(format!("{op}: {status}: {}", String::from_utf8_lossy(&bytes)).into());
        }
        Ok(serde_json::from_slice(&bytes)?)
    }
}

/// The app client the families belong to: confidential (every refresh checks the secret, as in the
/// in-process benchmark), rotating, with a grace period for the retry mode.
#[derive(Debug, Clone)]
pub struct BenchClient {
    pub pool_id: String,
    pub client_id: String,
    pub client_secret: String,
    /// `Authorization: Basic ...` for the OAuth token endpoint.
    basic: String,
}

/// `SECRET_HASH` of a sign-in: Base64(HMAC-SHA256(secret, username + client id)).
fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(username.as_bytes());
    ctx.update(client_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(ctx.sign().as_ref())
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> Res<&'a str> {
    let mut cur = v;
    for p in path {
        cur = &cur[*p];
    }
    cur.as_str()
        .ok_or_else(|| format!("no {} in {v}", path.join(".")).into())
}

/// Creates a user pool, a rotating confidential client and one user with a permanent password, then signs
/// that user in `families` times (AdminInitiateAuth, ADMIN_USER_PASSWORD_AUTH), `parallel` sign-ins at a
/// time: one family per sign-in. Sign-ins verify a PBKDF2 hash (600,000 rounds by default), so this is
/// the slow part of setting up a run.
pub async fn set_up(
    addr: SocketAddr,
    families: usize,
    parallel: usize,
) -> Res<(BenchClient, Vec<String>)> {
    let mut c = Conn::open(addr).await?;
    let pool = c
        .call("CreateUserPool", json!({ "PoolName": "service-bench" }))
        .await?;
    let pool_id = str_at(&pool, &["UserPool", "Id"])?.to_owned();
    let client = c
        .call(
            "CreateUserPoolClient",
            json!({
                "UserPoolId": pool_id,
                "ClientName": "bench",
                "GenerateSecret": true,
                "ExplicitAuthFlows": ["ALLOW_ADMIN_USER_PASSWORD_AUTH"],
                "RefreshTokenRotation": { "Feature": "ENABLED", "RetryGracePeriodSeconds": GRACE_SECS },
            }),
        )
        .await?;
    let client_id = str_at(&client, &["UserPoolClient", "ClientId"])?.to_owned();
    let client_secret = str_at(&client, &["UserPoolClient", "ClientSecret"])?.to_owned();
    let username = "bench-user";
    c.call(
        "AdminCreateUser",
        json!({ "UserPoolId": pool_id, "Username": username, "MessageAction": "SUPPRESS" }),
    )
    .await?;
    c.call(
        "AdminSetUserPassword",
        json!({ "UserPoolId": pool_id, "Username": username, "Password": PASSWORD, "Permanent": true }),
    )
    .await?;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{client_secret}"))
    );
    let client = BenchClient {
        pool_id,
        client_id,
        client_secret,
        basic,
    };
    let sign_in = json!({
        "UserPoolId": client.pool_id,
        "ClientId": client.client_id,
        "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
        "AuthParameters": {
            "USERNAME": username,
            "PASSWORD": PASSWORD,
            "SECRET_HASH": secret_hash(&client.client_secret, username, &client.client_id),
        },
    });
    let parallel = parallel.clamp(1, families.max(1));
    let mut tasks = tokio::task::JoinSet::new();
    for k in 0..parallel {
        let sign_in = sign_in.clone();
        let n = families / parallel + usize::from(k < families % parallel);
        tasks.spawn(async move {
            let mut c = Conn::open(addr).await?;
            let mut tokens = Vec::with_capacity(n);
            for _ in 0..n {
                let v = c.call("AdminInitiateAuth", sign_in.clone()).await?;
                tokens.push(str_at(&v, &["AuthenticationResult", "RefreshToken"])?.to_owned());
            }
            Res::Ok(tokens)
        });
    }
    let mut tokens = Vec::with_capacity(families);
    while let Some(joined) = tasks.join_next().await {
        tokens.extend(joined??);
    }
    Ok((client, tokens))
}

/// The string value of `"key":"..."` in a compact JSON body, without parsing the rest. `None` if absent
/// or escaped (refresh tokens never need escaping, so an escape means something unexpected).
fn json_string<'a>(body: &'a [u8], key: &str) -> Option<&'a str> {
    // str::find (two-way search) rather than comparing every window: the body is a few kB of tokens.
    let body = std::str::from_utf8(body).ok()?;
    let needle = format!("\"{key}\":\"");
    let at = body.find(&needle)? + needle.len();
    let len = body[at..].find('"')?;
    let value = &body[at..at + len];
    (!value.contains('\\')).then_some(value)
}

/// One rotating refresh in `mode` (`Refresh` or `OAuth`), presenting `token`: the successor.
async fn refresh_once(
    conn: &mut Conn,
    client: &BenchClient,
    mode: Mode,
    token: &str,
) -> Result<String, String> {
    let (status, body) = match mode {
        Mode::OAuth => {
            let grant: String = form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", "refresh_token")
                .append_pair("refresh_token", token)
                .finish();
            conn.post(
                "/oauth2/token",
                &[("content-type", FORM), ("authorization", &client.basic)],
                grant,
            )
            .await
        }
        Mode::Refresh | Mode::RetryInGrace => {
            let body = format!(
                r#"{{"ClientId":"{}","ClientSecret":"{}","RefreshToken":"{token}"}}"#,
                client.client_id, client.client_secret
            );
            conn.call_raw("GetTokensFromRefreshToken", body).await
        }
    }
    .map_err(|e| e.to_string())?;
    let key = if mode == Mode::OAuth {
        "refresh_token"
    } else {
        "RefreshToken"
    };
    match json_string(&body, key) {
        Some(t) if status == StatusCode::OK => Ok(t.to_owned()),
        _ => Err(format!("{status}: {}", String::from_utf8_lossy(&body))),
    }
}

/// What one run measured.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub connections: usize,
    /// Requests answered as expected.
    pub ok: u64,
    /// Requests that failed; a connection stops at its first failure (its family may be gone).
    pub errors: u64,
    pub first_error: Option<String>,
    /// From the moment every connection was open until the last one finished.
    pub elapsed: Duration,
    /// Latency of every successful request, in microseconds.
    pub latencies_us: Vec<u32>,
    /// CPU time the service and the load generator spent during the run, where the caller measured it.
    pub service_cpu: Duration,
    pub client_cpu: Duration,
}

impl Stats {
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The `p`-th percentile latency (0 < p <= 100) in milliseconds, nearest rank.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let mut v = self.latencies_us.clone();
        if v.is_empty() {
            return f64::NAN;
        }
        v.sort_unstable();
        let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
        f64::from(v[rank.clamp(1, v.len()) - 1]) / 1000.0
    }

    /// CPU microseconds per successful request of `cpu`.
    pub fn cpu_us_per_request(&self, cpu: Duration) -> f64 {
        cpu.as_secs_f64() * 1e6 / self.ok as f64
    }

    /// Adds another run's requests and latencies (for percentiles over several rounds).
    pub fn absorb(&mut self, other: &Stats) {
        self.connections = other.connections;
        self.ok += other.ok;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error.clone_from(&other.first_error);
        }
        self.elapsed += other.elapsed;
        self.latencies_us.extend_from_slice(&other.latencies_us);
        self.service_cpu += other.service_cpu;
        self.client_cpu += other.client_cpu;
    }
}

/// Runs `mode` for `duration` with one connection per entry of `tokens` (each that family's latest
/// refresh token), and returns what it measured; `tokens` is updated to the latest tokens so the families
/// can be driven again. Connections are opened (and, for the retry mode, each family is rotated once so
/// that it has a token in grace) before the clock starts.
pub async fn run(
    addr: SocketAddr,
    client: &BenchClient,
    mode: Mode,
    tokens: &mut [String],
    duration: Duration,
) -> Res<Stats> {
    let n = tokens.len();
    let barrier = Arc::new(Barrier::new(n + 1));
    let client = Arc::new(client.clone());
    let mut tasks = Vec::with_capacity(n);
    for token in tokens.iter() {
        let (barrier, client, mut token) = (barrier.clone(), client.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut st = Stats::default();
            let fail = |st: &mut Stats, e: String| {
                st.errors += 1;
                st.first_error.get_or_insert(e);
            };
            let prepared = async {
                let mut conn = Conn::open(addr).await.map_err(|e| e.to_string())?;
                // The retry mode presents the token just rotated out: rotate once to have one.
                let retried = if mode == Mode::RetryInGrace {
                    let next = refresh_once(&mut conn, &client, Mode::Refresh, &token).await?;
                    Some(std::mem::replace(&mut token, next))
                } else {
                    None
                };
                Ok::<_, String>((conn, retried))
            }
            .await;
            barrier.wait().await;
            let (mut conn, retried) = match prepared {
                Ok(p) => p,
                Err(e) => {
                    fail(&mut st, e);
                    return (st, token);
                }
            };
            let deadline = Instant::now() + duration;
            let mut latencies = Vec::with_capacity(1 << 14);
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let presented = retried.as_deref().unwrap_or(&token);
                match refresh_once(&mut conn, &client, mode, presented).await {
                    // R-ROT-2: a retry in grace gets the very same successor.
                    Ok(next) if retried.is_some() && next != token => {
                        fail(
                            &mut st,
                            "a retry in grace returned a different token".into(),
                        );
                        break;
                    }
                    Ok(next) => {
                        latencies.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                        st.ok += 1;
                        token = next;
                    }
                    Err(e) => {
                        fail(&mut st, e);
                        break;
                    }
                }
            }
            st.latencies_us = latencies;
            (st, token)
        }));
    }
    barrier.wait().await;
    let start = Instant::now();
    let mut total = Stats {
        connections: n,
        ..Stats::default()
    };
    for (task, slot) in tasks.into_iter().zip(tokens.iter_mut()) {
        let (st, token) = task.await?;
        total.ok += st.ok;
        total.errors += st.errors;
        if total.first_error.is_none() {
            total.first_error = st.first_error;
        }
        total.latencies_us.extend_from_slice(&st.latencies_us);
        *slot = token;
    }
    total.elapsed = start.elapsed();
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_string_finds_compact_values_only() {
        let body = br#"{"AuthenticationResult":{"AccessToken":"a.b.c","RefreshToken":"xyz-1"}}"#;
        assert_eq!(json_string(body, "RefreshToken"), Some("xyz-1"));
        assert_eq!(json_string(body, "IdToken"), None);
        assert_eq!(
            json_string(br#"{"RefreshToken":"a\"b"}"#, "RefreshToken"),
            None
        );
    }
}
