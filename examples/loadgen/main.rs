//! The load generator on its own, against a service that is already running.
//!
//! ```text
//! cargo run --release --example cognito_server -- --listen 127.0.0.1:9229 --algorithm es256 &
//! cargo run --release --example loadgen -- --url http://127.0.0.1:9229 --connections 16 --secs 5 --mode refresh
//! ```
//!
//! It creates its own user pool, client and user on the service, signs in once per connection (one
//! refresh-token family each), then drives the families for `--secs` and prints throughput and p50/p99
//! latency. `--mode refresh|oauth|retry`: GetTokensFromRefreshToken over AWS JSON 1.1, the OAuth 2.0 token
//! endpoint, or retries within the grace period (see `driver.rs`). `service_report` runs the whole matrix
//! and starts the services itself.

// Tool code: a panic here is the tool failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod driver;

use std::net::SocketAddr;
use std::time::Duration;

use driver::{Mode, Res};

fn main() -> Res<()> {
    let mut addr: SocketAddr = "127.0.0.1:9229".parse()?;
    let (mut connections, mut secs, mut mode) = (16usize, 5.0f64, Mode::Refresh);
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--url" => {
                let v = value()?;
                addr = v
                    .strip_prefix("http://")
                    .unwrap_or(&v)
                    .trim_end_matches('/')
                    .parse()?;
            }
            "--connections" | "-c" => connections = value()?.parse()?,
            "--secs" => secs = value()?.parse()?,
            "--mode" => {
                let v = value()?;
                mode =
                    Mode::parse(&v).ok_or(format!("--mode {v}: one of refresh, oauth, retry"))?;
            }
            "-h" | "--help" => {
                println!("loadgen [--url http://127.0.0.1:9229] [--connections N] [--secs S] [--mode refresh|oauth|retry]");
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if connections == 0 || secs <= 0.0 {
        return Err("--connections and --secs must be positive".into());
    }
    // One thread for every connection, as `service_report` runs it: the generator needs a few
    // microseconds a request, and a second thread on cores shared with the service only adds wake-ups.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        eprintln!("loadgen: signing in {connections} families on {addr}");
        let (client, mut tokens) = driver::set_up(addr, connections, 2).await?;
        let st = driver::run(
            addr,
            &client,
            mode,
            &mut tokens,
            Duration::from_secs_f64(secs),
        )
        .await?;
        println!(
            "mode {} connections {} requests {} errors {} rps {:.0} p50_ms {:.3} p99_ms {:.3}",
            mode.name(),
            connections,
            st.ok,
            st.errors,
            st.rps(),
            st.percentile_ms(50.0),
            st.percentile_ms(99.0)
        );
        if let Some(e) = st.first_error {
            eprintln!("loadgen: first error: {e}");
        }
        Ok(())
    })
}
