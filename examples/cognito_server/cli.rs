//! The command line of `cognito_server` (R-SRV-1, R-SRV-4), parsed without a dependency, and the
//! readiness line it prints once it listens.

#![allow(dead_code)] // The e2e tests include this file for its parser only.

use std::net::SocketAddr;
use std::path::PathBuf;

use refresh_rotation::jwt::Algorithm;
use refresh_rotation::ReusePolicy;

/// The address used without `--listen`: loopback, on the port cognito-local also uses.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9229";

/// What `--help` prints.
pub const HELP: &str = "\
cognito_server: a Cognito-compatible identity provider service for local use, in memory
or (with --database-url) in PostgreSQL.

Speaks the AWS JSON 1.1 protocol of Amazon Cognito user pools (POST / with X-Amz-Target
AWSCognitoIdentityProviderService.<Operation>), so AWS SDK clients can be pointed at it with
an endpoint URL. Serves the JWKS of each pool at GET /<userPoolId>/.well-known/jwks.json.

Also speaks OAuth 2.0 for every pool: POST /oauth2/token (grant_type=refresh_token, with
client_secret_basic, client_secret_post or a public client), POST /oauth2/revoke (RFC 7009),
and the discovery document GET /<userPoolId>/.well-known/openid-configuration.

THIS SERVICE PERFORMS NO SigV4 CHECK: any caller can run any operation, admin operations
included. It is for local development and tests only, and binds to loopback by default.
Without --database-url all state (pools, clients, users, tokens) is lost when it stops.

USAGE:
    cargo run --release --example cognito_server -- [OPTIONS]

OPTIONS:
    --listen <ADDR:PORT>        Address to listen on [default: 127.0.0.1:9229]; port 0 picks
                                a free port, printed in the readiness line
    --region <REGION>           Region in pool ids and token issuers [default: us-east-1]
    --manual-clock              Start the clock at the real time and move it only with
                                POST /_clock {\"AdvanceSeconds\": <n>}, answered {\"Now\": <epoch>}
    --reuse-policy <POLICY>     On reuse of a rotated-out refresh token: `reject` (Cognito's
                                behaviour) or `revoke-family` (RFC 9700) [default: reject]
    --algorithm <ALG>           How ID and access tokens are signed: rs256 (as Cognito; two fresh
                                RSA-2048 keys per pool), es256 (P-256) or eddsa (Ed25519)
                                [default: rs256]
    --signing-keys <FILE>       Sign with these keys instead of generating keys per pool: a PEM
                                file with one or two unencrypted private keys of --algorithm
                                (-----BEGIN PRIVATE KEY-----, PKCS#8; for rs256 also PKCS#1).
                                The first signs ID tokens, the second access tokens; one key
                                signs both. Every pool uses them. Make one with
                                openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048
    --introspection             Also serve POST /oauth2/introspect (RFC 7662; not part of
                                Cognito) and name it in the discovery documents
    --metrics                   Serve the metrics of the token operations at GET /metrics in the
                                Prometheus text format (refresh outcomes, sign-ins, revocations,
                                reuse detections, refresh latency)
    --database-url <URL>        Keep pools, users, app clients, refresh-token families and keys
                                in this PostgreSQL database (postgres://user:pass@host/db; no
                                TLS): a restart loses nothing, and every instance started with
                                the same URL serves the same pools. Tables (srv_*) are created
                                at start
    --secret-key-file <FILE>    With --database-url: the key that seals client secrets and
                                signing keys in the database (32 bytes, raw or as 64 hex
                                digits); also from env COGNITO_SERVER_SECRET_KEY (hex). Without
                                either, one is generated at first start and kept in the
                                database itself (for local use only; a warning says so)
    --database-timeout <SECS>   With --database-url: how long the start, and each call to the
                                database, may go unanswered before the request fails as an
                                outage [default: 30]
    --pbkdf2-iterations <N>     PBKDF2-HMAC-SHA256 rounds of new password hashes [default:
                                600000]; lower it only for tests (debug builds hash slowly)
    --allow-non-loopback        Allow a --listen address that is not loopback (dangerous:
                                there is no authentication)
    -h, --help                  Print this help

Logs go to stderr through tracing-subscriber, filtered by RUST_LOG [default: info,refresh_rotation=warn:
the crate's warnings, such as reuse detected, with their fields]; RUST_LOG=info also opens the crate's
span for every request (its client id and outcome), as context for the lines logged inside it. Once
ready it prints a line containing `listening on http://<addr>`.
";

/// The parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cli {
    /// `--listen`.
    pub listen: SocketAddr,
    /// `--region`.
    pub region: String,
    /// `--manual-clock`.
    pub manual_clock: bool,
    /// `--reuse-policy`.
    pub reuse_policy: ReusePolicy,
    /// `--algorithm`.
    pub algorithm: Algorithm,
    /// `--signing-keys`.
    pub signing_keys: Option<PathBuf>,
    /// `--introspection`.
    pub introspection: bool,
    /// `--metrics`.
    pub metrics: bool,
    /// `--database-url`.
    pub database_url: Option<String>,
    /// `--secret-key-file`.
    pub secret_key_file: Option<PathBuf>,
    /// `--pbkdf2-iterations`.
    pub pbkdf2_iterations: u32,
    /// `--database-timeout`, in seconds.
    pub database_timeout: u64,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the service.
    Run(Cli),
    /// Print [`HELP`] and exit.
    Help,
}

/// Parses the arguments after the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut listen: SocketAddr = DEFAULT_LISTEN
        .parse()
        .map_err(|e| format!("default address: {e}"))?;
    let mut region = "us-east-1".to_owned();
    let mut manual_clock = false;
    let mut reuse_policy = ReusePolicy::Reject;
    let mut allow_non_loopback = false;
    let mut algorithm = Algorithm::RS256;
    let mut signing_keys = None;
    let mut introspection = false;
    let mut metrics = false;
    let mut database_url = None;
    let mut secret_key_file = None;
    let mut pbkdf2_iterations = 600_000;
    let mut database_timeout = 30;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        // Accept both `--opt value` and `--opt=value`.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value ({what})"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--metrics" if inline.is_none() => metrics = true,
            "--listen" => {
                let v = value("ADDR:PORT")?;
                listen = v.parse().map_err(|_| {
                    format!("--listen: '{v}' is not an ADDR:PORT such as 127.0.0.1:9229")
                })?;
            }
            "--region" => {
                let v = value("REGION")?;
                let ok = !v.is_empty()
                    && v.len() <= 32
                    && v.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
                if !ok {
                    return Err(format!(
                        "--region: '{v}' is not a region name such as us-east-1"
                    ));
                }
                region = v;
            }
            "--manual-clock" if inline.is_none() => manual_clock = true,
            "--allow-non-loopback" if inline.is_none() => allow_non_loopback = true,
            "--introspection" if inline.is_none() => introspection = true,
            "--reuse-policy" => {
                reuse_policy = match value("reject|revoke-family")?.as_str() {
                    "reject" => ReusePolicy::Reject,
                    "revoke-family" => ReusePolicy::RevokeFamily,
                    other => {
                        return Err(format!(
                            "--reuse-policy: '{other}' is not one of reject, revoke-family"
                        ))
                    }
                }
            }
            "--algorithm" => {
                algorithm = match value("rs256|es256|eddsa")?.to_ascii_lowercase().as_str() {
                    "rs256" => Algorithm::RS256,
                    "es256" => Algorithm::ES256,
                    "eddsa" => Algorithm::EdDSA,
                    other => {
                        return Err(format!(
                            "--algorithm: '{other}' is not one of rs256, es256, eddsa"
                        ))
                    }
                }
            }
            "--signing-keys" => {
                let v = value("FILE")?;
                if v.is_empty() {
                    return Err("--signing-keys needs a file name".into());
                }
                signing_keys = Some(PathBuf::from(v));
            }
            "--database-url" => {
                let v = value("URL")?;
                if !(v.starts_with("postgres://") || v.starts_with("postgresql://")) {
                    return Err(
                        "--database-url: expected a URL such as postgres://user:password@127.0.0.1/db"
                            .into(),
                    );
                }
                database_url = Some(v);
            }
            "--pbkdf2-iterations" => {
                let v = value("N")?;
                pbkdf2_iterations = v.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    format!("--pbkdf2-iterations: '{v}' is not a count of at least 1")
                })?;
            }
            "--database-timeout" => {
                let v = value("SECONDS")?;
                database_timeout = v
                    .parse()
                    .ok()
                    .filter(|n| (1..=3600).contains(n))
                    .ok_or_else(|| {
                        format!(
                            "--database-timeout: '{v}' is not a count of seconds from 1 to 3600"
                        )
                    })?;
            }
            "--secret-key-file" => {
                let v = value("FILE")?;
                if v.is_empty() {
                    return Err("--secret-key-file needs a file name".into());
                }
                secret_key_file = Some(PathBuf::from(v));
            }
            other => return Err(format!("unknown argument '{other}' (see --help)")),
        }
    }
    if !listen.ip().is_loopback() && !allow_non_loopback {
        return Err(format!(
            "--listen {listen} is not a loopback address; this service has no authentication. \
             Pass --allow-non-loopback if you really mean it."
        ));
    }
    if database_url.is_none() && secret_key_file.is_some() {
        return Err("--secret-key-file is for --database-url".into());
    }
    if database_url.is_none() && database_timeout != 30 {
        return Err("--database-timeout is for --database-url".into());
    }
    Ok(Command::Run(Cli {
        database_url,
        secret_key_file,
        pbkdf2_iterations,
        database_timeout,
        metrics,
        listen,
        region,
        manual_clock,
        reuse_policy,
        algorithm,
        signing_keys,
        introspection,
    }))
}

/// The line printed once the service accepts connections (R-SRV-1).
pub fn readiness_line(addr: SocketAddr, cli: &Cli) -> String {
    format!(
        "cognito_server: listening on http://{addr} (region {}, {} tokens, {} clock, reuse policy {}{}; no SigV4 check, local use only)",
        cli.region,
        cli.algorithm,
        if cli.manual_clock { "manual" } else { "system" },
        match cli.reuse_policy {
            ReusePolicy::RevokeFamily => "revoke-family",
            _ => "reject",
        },
        if cli.database_url.is_some() {
            ", state in PostgreSQL"
        } else {
            ""
        }
    )
}
