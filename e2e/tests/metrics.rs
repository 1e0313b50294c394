//! `GET /metrics` (R-SRV-8): the service started with metrics on, driven by the unmodified SDK, serves
//! the refresh outcomes and the reuse detection of SPEC 15 in the Prometheus text format.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::*;

/// The value of the sample of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            l.split(['{', ' ']).next() == Some(name) && labels.iter().all(|want| l.contains(want))
        })
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn r_srv_8_metrics_show_refresh_outcomes_and_one_reuse_detection() {
    // The one recorder of this test process, as `--metrics` installs it.
    let handle = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .expect("the only recorder of this test binary");
    refresh_rotation::driver::telemetry::describe_metrics();
    let srv = start_with(ServerConfig {
        manual_clock: true,
        pbkdf2_iterations: 1_000,
        metrics: Some(handle),
        ..ServerConfig::default()
    })
    .await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    let (client, _) = client(
        &c,
        &pool,
        ClientOpts {
            rotation: Some(5),
            secret: false,
        },
    )
    .await;
    let t0 = sign_in(&c, &pool, &client, None, "alice")
        .await
        .refresh_token
        .unwrap();
    let t1 = rotate(&c, &client, &t0).await;
    assert_eq!(rotate(&c, &client, &t0).await, t1, "a retry in the window");
    let _t2 = rotate(&c, &client, &t1).await;
    advance(&srv, 10).await;
    let (name, _) = refresh(&c, &client, &t0).await.unwrap_err();
    assert_eq!(name, "RefreshTokenReuseException");
    // A refresh naming a client no pool has is refused before any issuer runs: counted all the same
    // (R-OPS-2), without the client id in a label.
    let (name, _) = refresh(&c, "nosuchclient0123456789", &t1)
        .await
        .unwrap_err();
    assert_eq!(name, "ResourceNotFoundException");

    let (status, text) = get(&srv, "/metrics").await;
    assert_eq!(status, 200, "{text}");
    let refresh = |outcome: &str| {
        sample(
            &text,
            "refresh_rotation_refresh_total",
            &[r#"operation="refresh""#, &format!(r#"outcome="{outcome}""#)],
        )
    };
    assert_eq!(refresh("advanced"), Some(2.0), "{text}");
    assert_eq!(refresh("retry"), Some(1.0), "{text}");
    assert_eq!(refresh("reuse"), Some(1.0), "{text}");
    assert_eq!(refresh("client_error"), Some(1.0), "{text}");
    assert!(!text.contains("nosuchclient"), "{text}");
    assert_eq!(
        sample(
            &text,
            "refresh_rotation_reuse_detected_total",
            &[r#"policy="reject""#]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "refresh_rotation_sign_in_total",
            &[r#"outcome="issued""#]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            "refresh_rotation_refresh_duration_seconds_count",
            &[r#"operation="refresh""#]
        ),
        // Every refresh an issuer answered; the one no pool took is counted above (client_error)
        // but has no latency sample: it never reached an issuer.
        Some(4.0),
        "{text}"
    );
    assert!(
        text.contains("# HELP refresh_rotation_refresh_total"),
        "{text}"
    );
    // No client or user identifier in any label.
    assert!(!text.contains(&client) && !text.contains("alice"), "{text}");
}
