//! A Cognito-compatible identity provider service, in memory or in PostgreSQL (`--database-url`), built
//! on `refresh-rotation` (SPEC 11).
//!
//! ```text
//! cargo run --release --example cognito_server -- --listen 127.0.0.1:9229
//! ```
//!
//! See the root `README.md` (section *Putting it behind HTTP*), `--help`, and `server.rs` for the
//! operations. It performs no SigV4
//! check and is for local use only.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod cli;
mod server;

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match cli::parse(std::env::args().skip(1)) {
        Ok(cli::Command::Run(cli)) => cli,
        Ok(cli::Command::Help) => {
            print!("{}", cli::HELP);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("cognito_server: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cognito_server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cognito_server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The signing keys the command line asks for: generated per pool, or read from `--signing-keys`.
fn signing(cli: &cli::Cli) -> Result<server::Signing, String> {
    match &cli.signing_keys {
        None => Ok(server::Signing::Generate(cli.algorithm)),
        Some(path) => server::signing_keys_from_file(cli.algorithm, path),
    }
}

/// Logs through `tracing-subscriber` to stderr, filtered by `RUST_LOG`. The default,
/// `info,refresh_rotation=warn`, keeps the crate's warnings (reuse detected, with its fields) and leaves
/// out its per-request spans (R-OPS-1): a log that prints events only would show nothing of them but
/// context, and formatting their fields costs every request about 4% of its time here. `RUST_LOG=info`
/// opens them.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,refresh_rotation=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// With `--metrics`, installs the Prometheus recorder (R-SRV-8): the one process-wide recorder, which the
/// crate's `metrics` calls reach from then on.
fn init_metrics(
    cli: &cli::Cli,
) -> std::io::Result<Option<metrics_exporter_prometheus::PrometheusHandle>> {
    if !cli.metrics {
        return Ok(None);
    }
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .map_err(std::io::Error::other)?;
    refresh_rotation::driver::telemetry::describe_metrics();
    Ok(Some(handle))
}

/// With `--database-url`, the sealing key: from `--secret-key-file`, else from the environment
/// variable `COGNITO_SERVER_SECRET_KEY`, else none (the backend keeps one in the database).
fn sealing_key(cli: &cli::Cli) -> Result<Option<server::pg::SealingKey>, String> {
    if cli.database_url.is_none() {
        return Ok(None);
    }
    if let Some(path) = &cli.secret_key_file {
        return server::pg::SealingKey::from_file(path).map(Some);
    }
    match std::env::var("COGNITO_SERVER_SECRET_KEY") {
        Ok(hex) => server::pg::SealingKey::parse(hex.as_bytes())
            .map(Some)
            .map_err(|e| format!("COGNITO_SERVER_SECRET_KEY: {e}")),
        Err(_) => Ok(None),
    }
}

async fn run(cli: cli::Cli) -> std::io::Result<()> {
    init_logging();
    let metrics = init_metrics(&cli)?;
    // Keys first: a bad key file is reported before the port is taken.
    let signing = signing(&cli).map_err(std::io::Error::other)?;
    let sealing_key = sealing_key(&cli).map_err(std::io::Error::other)?;
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    let addr = listener.local_addr()?;
    let config = server::ServerConfig {
        region: cli.region.clone(),
        manual_clock: cli.manual_clock,
        reuse_policy: cli.reuse_policy,
        signing,
        introspection: cli.introspection,
        metrics,
        pbkdf2_iterations: cli.pbkdf2_iterations,
        database_url: cli.database_url.clone(),
        sealing_key,
        database_timeout: std::time::Duration::from_secs(cli.database_timeout),
        ..server::ServerConfig::default()
    };
    // With a database, connect (and create the tables) before announcing readiness.
    let state = server::AppState::connect(config).await?;
    // Printed after the bind, so a reader of this line can connect at once (R-SRV-1).
    println!("{}", cli::readiness_line(addr, &cli));
    server::serve_with(listener, state, async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("cognito_server: shutting down");
    })
    .await
}
