//! The example's command line (R-SRV-1, R-SRV-4) and readiness line.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../examples/cognito_server/cli.rs"]
mod cli;

use cli::{parse, readiness_line, Command, HELP};
use refresh_rotation::jwt::Algorithm;
use refresh_rotation::ReusePolicy;

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

fn run(a: &[&str]) -> cli::Cli {
    match parse(args(a)).unwrap() {
        Command::Run(c) => c,
        Command::Help => panic!("help"),
    }
}

#[test]
fn r_srv_1_defaults_and_options() {
    let c = run(&[]);
    assert_eq!(c.listen.to_string(), "127.0.0.1:9229");
    assert_eq!(c.region, "us-east-1");
    assert!(!c.manual_clock);
    assert_eq!(c.reuse_policy, ReusePolicy::Reject);

    let c = run(&[
        "--listen",
        "127.0.0.1:0",
        "--region",
        "eu-west-1",
        "--manual-clock",
        "--reuse-policy",
        "revoke-family",
    ]);
    assert_eq!(c.listen.port(), 0);
    assert_eq!(c.region, "eu-west-1");
    assert!(c.manual_clock);
    assert_eq!(c.reuse_policy, ReusePolicy::RevokeFamily);
    assert_eq!(
        run(&["--listen=[::1]:8080"]).listen.to_string(),
        "[::1]:8080"
    );
}

#[test]
fn r_srv_1_bad_arguments_are_refused() {
    for bad in [
        &["--listen"][..],
        &["--listen", "localhost"],
        &["--reuse-policy", "sometimes"],
        &["--region", "US East"],
        &["--frobnicate"],
        &["--manual-clock=yes"],
        // A flag takes no value: `--metrics=false` must not turn metrics on.
        &["--metrics=false"],
        &["--introspection=false"],
        // Loopback only, unless asked.
        &["--listen", "0.0.0.0:9229"],
    ] {
        assert!(parse(args(bad)).is_err(), "{bad:?}");
    }
    assert!(parse(args(&["--listen", "0.0.0.0:9229", "--allow-non-loopback"])).is_ok());
}

#[test]
fn r_srv_4_help_says_there_is_no_sigv4_check() {
    assert_eq!(parse(args(&["--help"])).unwrap(), Command::Help);
    assert_eq!(parse(args(&["-h"])).unwrap(), Command::Help);
    assert!(HELP.contains("NO SigV4 CHECK"));
    assert!(HELP.contains("local"));
    for opt in ["--listen", "--region", "--manual-clock", "--reuse-policy"] {
        assert!(HELP.contains(opt), "{opt}");
    }
}

#[test]
fn r_srv_1_readiness_line_names_the_actual_address() {
    let c = run(&["--listen", "127.0.0.1:0"]);
    let line = readiness_line("127.0.0.1:43210".parse().unwrap(), &c);
    assert!(
        line.contains("listening on http://127.0.0.1:43210"),
        "{line}"
    );
}

#[test]
fn r_srv_5_algorithm_and_signing_keys_options() {
    let c = run(&[]);
    assert_eq!(
        c.algorithm,
        Algorithm::RS256,
        "RS256 by default, as Cognito"
    );
    assert_eq!(c.signing_keys, None);
    assert_eq!(run(&["--algorithm", "es256"]).algorithm, Algorithm::ES256);
    assert_eq!(run(&["--algorithm=EdDSA"]).algorithm, Algorithm::EdDSA);
    assert_eq!(run(&["--algorithm", "RS256"]).algorithm, Algorithm::RS256);
    let c = run(&["--signing-keys", "/etc/keys.pem", "--algorithm", "es256"]);
    assert_eq!(
        c.signing_keys.as_deref(),
        Some(std::path::Path::new("/etc/keys.pem"))
    );
    for bad in [
        &["--algorithm", "hs256"][..],
        &["--algorithm"],
        &["--signing-keys"],
        &["--signing-keys="],
    ] {
        assert!(parse(args(bad)).is_err(), "{bad:?}");
    }
    for opt in ["--algorithm", "--signing-keys", "rs256", "es256", "eddsa"] {
        assert!(HELP.contains(opt), "{opt}");
    }
    let line = readiness_line("127.0.0.1:9229".parse().unwrap(), &run(&[]));
    assert!(line.contains("RS256"), "{line}");
}

#[test]
fn r_srv_6_database_url_and_its_options() {
    let c = run(&[]);
    assert_eq!(c.database_url, None);
    assert!(!readiness_line("127.0.0.1:9229".parse().unwrap(), &c).contains("PostgreSQL"));

    let c = run(&[
        "--database-url",
        "postgres://u:p@127.0.0.1/db",
        "--secret-key-file",
        "key.hex",
        "--pbkdf2-iterations",
        "1000",
        "--database-timeout",
        "5",
    ]);
    assert_eq!(c.database_timeout, 5);
    assert_eq!(run(&[]).database_timeout, 30);
    assert_eq!(
        c.database_url.as_deref(),
        Some("postgres://u:p@127.0.0.1/db")
    );
    assert_eq!(c.secret_key_file, Some("key.hex".into()));
    assert_eq!(c.pbkdf2_iterations, 1000);
    let line = readiness_line("127.0.0.1:9229".parse().unwrap(), &c);
    assert!(line.contains("state in PostgreSQL"), "{line}");
    assert!(
        !line.contains("u:p@"),
        "the URL (and its password) is not printed: {line}"
    );

    for bad in [
        &["--database-url", "mysql://x"][..],
        &["--secret-key-file", "key.hex"],
        &["--pbkdf2-iterations", "0"],
        &["--database-timeout", "5"],
        &[
            "--database-url",
            "postgres://x/db",
            "--database-timeout",
            "0",
        ],
        &[
            "--database-url",
            "postgres://x/db",
            "--database-timeout",
            "soon",
        ],
    ] {
        assert!(parse(args(bad)).is_err(), "{bad:?}");
    }
    assert!(
        HELP.contains("--database-url")
            && HELP.contains("--secret-key-file")
            && HELP.contains("--database-timeout")
    );
    // Introspection is served on PostgreSQL too.
    let both = parse(args(&[
        "--database-url",
        "postgres://x/db",
        "--introspection",
    ]));
    assert!(
        matches!(both, Ok(Command::Run(ref c)) if c.introspection),
        "{both:?}"
    );
}
