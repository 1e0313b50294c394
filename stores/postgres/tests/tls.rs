//! R-SAFE-9: connections to PostgreSQL through verified TLS (rustls with ring). A server whose
//! certificate chains to the given CA and names the host is accepted, and the session is encrypted; a
//! server whose certificate does not (another CA, another name), or that declines TLS, is refused with
//! a `StoreError` that says why, never a panic and never a silent fallback to plain text.
//!
//! `ci.sh` serves TLS with a CA made for the run and names it in `REFRESH_ROTATION_PG_CA` (and an
//! unrelated one in `REFRESH_ROTATION_PG_WRONG_CA`).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{family, ts};
use refresh_rotation::error::StoreError;
use refresh_rotation::store::{Advance, RefreshTokenStore};
use refresh_rotation_postgres::{PgRefreshTokenStore, PgTls};

const FAR: i64 = 4_000_000_000;

/// The PEM file named by `var`, or `None` (loudly) when the test server has no TLS.
fn pem(var: &str) -> Option<Vec<u8>> {
    match std::env::var(var) {
        Ok(path) if !path.is_empty() => {
            Some(std::fs::read(&path).expect("the CA file ci.sh wrote"))
        }
        _ => {
            assert!(
                std::env::var("CI").map_or(true, |v| v.is_empty() || v == "false" || v == "0"),
                "{var} is not set but CI is: run the tests through stores/postgres/ci.sh"
            );
            eprintln!(
                "\n*** SKIPPED: {var} is not set; this TLS test did not run (use ci.sh). ***"
            );
            None
        }
    }
}

/// The test database's URL and both CAs, or `None` when the test server is not set up for TLS.
fn setup() -> Option<(String, Vec<u8>, Vec<u8>)> {
    let url = common::pg_url()?;
    Some((
        url,
        pem("REFRESH_ROTATION_PG_CA")?,
        pem("REFRESH_ROTATION_PG_WRONG_CA")?,
    ))
}

/// `url` as key=value settings, with the host replaced by `host` and, when given, the address to
/// reach it at (`hostaddr`), so that the name TLS verifies differs from the address dialled.
fn rehost(url: &str, host: &str, hostaddr: Option<&str>) -> String {
    let cfg: postgres::Config = url.parse().unwrap();
    let mut s = format!(
        "host={host} port={} user={} dbname={} password={}",
        cfg.get_ports().first().copied().unwrap_or(5432),
        cfg.get_user().unwrap(),
        cfg.get_dbname().unwrap(),
        String::from_utf8(cfg.get_password().unwrap().to_vec()).unwrap(),
    );
    if let Some(a) = hostaddr {
        s.push_str(&format!(" hostaddr={a}"));
    }
    s
}

#[test]
fn r_safe_9_verified_tls_connection_works_and_is_encrypted() {
    let Some((url, ca, _)) = setup() else { return };
    // By IP address (the certificate names 127.0.0.1) and by name (it names localhost).
    for url in [url.clone(), rehost(&url, "localhost", None)] {
        let app = format!("rr_tls_{}", common::unique_table());
        let url = common::with_param(&url, "application_name", &app);
        let s = PgRefreshTokenStore::builder()
            .table(&common::unique_table())
            .max_connections(1)
            .tls(PgTls::from_pem(&ca).unwrap())
            .connect_blocking(&url, common::rt())
            .unwrap_or_else(|e| panic!("verified TLS to {url:?}: {e:?}"));
        s.migrate().unwrap();
        let f = family("tls", FAR);
        s.create(f.clone()).unwrap();
        assert!(matches!(
            s.advance(&f.id, 0, ts(5), 1).unwrap(),
            Advance::Advanced(_)
        ));
        // The server's view: every session of the store is encrypted.
        let (encrypted, plain): (i64, i64) = {
            let row = common::raw_client(&url)
                .query_one(
                    "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
                     FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
                     WHERE a.application_name = $1",
                    &[&app],
                )
                .unwrap();
            (row.get(0), row.get(1))
        };
        // The raw client that asks is itself one plain session with the same application name.
        assert!(encrypted >= 1, "{url}: {encrypted} encrypted sessions");
        assert_eq!(plain, 1, "{url}: only the asking client is plain");
    }
}

/// R-SAFE-9: libpq's `sslmode=verify-ca` and `verify-full`, as managed databases give them in their
/// connection strings, in either syntax: accepted with a TLS configuration (which verifies the
/// certificate and the name whatever the mode), refused without one, with the reason.
#[test]
fn r_safe_9_libpq_verify_modes_in_the_connection_string() {
    let Some((url, ca, _)) = setup() else { return };
    for mode in ["verify-ca", "verify-full"] {
        for url in [url.clone(), rehost(&url, "localhost", None)] {
            let url = common::with_param(&url, "sslmode", mode);
            let s = PgRefreshTokenStore::builder()
                .table(&common::unique_table())
                .max_connections(1)
                .tls(PgTls::from_pem(&ca).unwrap())
                .connect_blocking(&url, common::rt())
                .unwrap_or_else(|e| panic!("{mode}: {e:?}"));
            s.migrate().unwrap();
            let e = PgRefreshTokenStore::builder()
                .max_connections(1)
                .connect_blocking(&url, common::rt())
                .unwrap_err();
            assert!(
                matches!(&e, StoreError::Backend(m) if m.contains(".tls(")),
                "{mode}: {e:?}"
            );
        }
    }
}

fn assert_refused(e: &StoreError, password: &str) {
    let text = format!("{e} / {e:?}");
    assert!(matches!(e, StoreError::Unavailable(_)), "{text}");
    assert!(
        text.contains("certificate") || text.contains("Certificate"),
        "the error says it is the certificate: {text}"
    );
    assert!(!text.contains(password), "password leaked: {text}");
}

#[test]
fn r_safe_9_a_server_certificate_from_another_ca_is_refused_with_a_clear_error() {
    let Some((url, _, wrong)) = setup() else {
        return;
    };
    let password = String::from_utf8(
        url.parse::<postgres::Config>()
            .unwrap()
            .get_password()
            .unwrap()
            .to_vec(),
    )
    .unwrap();
    let builder = || {
        PgRefreshTokenStore::builder()
            .connect_timeout(Duration::from_millis(500))
            .tls(PgTls::from_pem(&wrong).unwrap())
    };
    let e = builder().connect_blocking(&url, common::rt()).unwrap_err();
    eprintln!("refused at connect: {e}");
    assert_refused(&e, &password);
    // A lazily connected store fails each operation the same way.
    let s = common::connect_lazy(builder(), &url).unwrap();
    let e = s.get(&common::new_id()).unwrap_err();
    eprintln!("refused on use: {e}");
    assert_refused(&e, &password);
}

#[test]
fn r_safe_9_a_server_certificate_for_another_name_is_refused() {
    let Some((url, ca, _)) = setup() else { return };
    // The right CA, the right server, but dialled as a name its certificate does not carry.
    let url = rehost(&url, "db.example.invalid", Some("127.0.0.1"));
    let e = PgRefreshTokenStore::builder()
        .connect_timeout(Duration::from_millis(500))
        .tls(PgTls::from_pem(&ca).unwrap())
        .connect_blocking(&url, common::rt())
        .unwrap_err();
    assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}");
    assert!(e.to_string().contains("certificate"), "{e}");
}

/// A loopback "server" that declines TLS (answers `N` to the SSLRequest) and would then accept a plain
/// session without authentication, as an attacker in the middle stripping TLS would.
fn server_declining_tls() -> u16 {
    use std::io::{Read, Write};
    common::fake_server(|mut s| {
        let mut req = [0u8; 8];
        s.read_exact(&mut req)?; // SSLRequest: length 8, code 80877103
        s.write_all(b"N")?;
        // A client that fell back would now send its StartupMessage: accept it.
        common::accept_startup(&mut s)?;
        std::thread::sleep(Duration::from_secs(5));
        Ok(())
    })
}

#[test]
fn r_safe_9_tls_required_and_the_server_declines_is_refused_not_downgraded() {
    // Needs no database: the store is given a CA of its own making (any PEM CA will do, it is never
    // reached). Without ci.sh's CA, use a built-in throwaway.
    let ca = std::env::var("REFRESH_ROTATION_PG_CA")
        .ok()
        .and_then(|p| std::fs::read(p).ok());
    let Some(ca) = ca else {
        eprintln!("\n*** SKIPPED: REFRESH_ROTATION_PG_CA is not set (use ci.sh). ***");
        return;
    };
    let port = server_declining_tls();
    for sslmode in ["", "?sslmode=prefer", "?sslmode=disable"] {
        let url = format!("postgresql://rr:pw@127.0.0.1:{port}/x{sslmode}");
        let e = PgRefreshTokenStore::builder()
            .connect_timeout(Duration::from_millis(500))
            .tls(PgTls::from_pem(&ca).unwrap())
            .connect_blocking(&url, common::rt())
            .unwrap_err();
        assert!(matches!(e, StoreError::Unavailable(_)), "{sslmode}: {e:?}");
    }
}
