//! R-SRV-5: the example service signs RS256 by default, as Cognito does, so that a verifier pinned to
//! RS256 (most are) accepts its tokens unchanged; `--algorithm` picks ES256 or EdDSA, and
//! `--signing-keys` signs every pool with the keys of a PEM file.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use aws_sdk_cognitoidentityprovider::types::AuthenticationResultType;
use base64::Engine as _;
use common::server::{signing_keys_from_file, signing_keys_from_pem, Signing};
use common::*;
use refresh_rotation::jwt::Algorithm;
use serde_json::Value;

async fn jwks(srv: &RunningServer, pool: &str) -> Value {
    let (status, body) = get(srv, &format!("/{pool}/.well-known/jwks.json")).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn header(token: &str) -> Value {
    let h = token.split('.').next().unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(h)
            .unwrap(),
    )
    .unwrap()
}

/// Signs in and refreshes once on a new pool and client; returns the pool, the client and both results'
/// (ID, access) tokens.
async fn tokens(srv: &RunningServer) -> (String, String, Vec<(String, String)>) {
    let c = sdk(srv);
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
    let first = sign_in(&c, &pool, &client_id, None, "alice").await;
    let second = refresh(&c, &client_id, first.refresh_token.as_deref().unwrap())
        .await
        .unwrap();
    let pair = |r: &AuthenticationResultType| {
        (r.id_token.clone().unwrap(), r.access_token.clone().unwrap())
    };
    (pool, client_id, vec![pair(&first), pair(&second)])
}

#[tokio::test]
async fn r_srv_5_tokens_are_rs256_by_default_and_a_verifier_pinned_to_rs256_accepts_them() {
    let srv = start(false).await;
    let (pool, client_id, results) = tokens(&srv).await;

    let set = jwks(&srv, &pool).await;
    let keys = set["keys"].as_array().unwrap();
    assert_eq!(
        keys.len(),
        2,
        "one key for ID tokens, one for access tokens: {set}"
    );
    for k in keys {
        assert_eq!(k["kty"], "RSA", "{k}");
        assert_eq!(k["alg"], "RS256", "{k}");
        assert_eq!(k["use"], "sig", "{k}");
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(k["n"].as_str().unwrap())
            .unwrap();
        assert_eq!(n.len() * 8, 2048, "RSA-2048, as Cognito");
    }
    assert_ne!(keys[0]["kid"], keys[1]["kid"]);

    for (id, access) in &results {
        assert_eq!(header(id)["alg"], "RS256");
        assert_eq!(header(access)["alg"], "RS256");
        let claims = verify_jwt_with(
            &srv,
            &pool,
            id,
            Some(&client_id),
            jsonwebtoken::Algorithm::RS256,
        )
        .await;
        assert_eq!(claims["token_use"], "id");
        let claims =
            verify_jwt_with(&srv, &pool, access, None, jsonwebtoken::Algorithm::RS256).await;
        assert_eq!(claims["token_use"], "access");
    }
    assert_eq!(srv.keys_generated(), 2, "two RSA keys for the one pool");
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_srv_5_algorithm_option_picks_es256_or_eddsa() {
    for (alg, pinned, kty) in [
        (Algorithm::ES256, jsonwebtoken::Algorithm::ES256, "EC"),
        (Algorithm::EdDSA, jsonwebtoken::Algorithm::EdDSA, "OKP"),
    ] {
        let srv = start_with(ServerConfig {
            pbkdf2_iterations: 1_000,
            signing: Signing::Generate(alg),
            ..ServerConfig::default()
        })
        .await;
        let (pool, client_id, results) = tokens(&srv).await;
        let set = jwks(&srv, &pool).await;
        for k in set["keys"].as_array().unwrap() {
            assert_eq!(k["kty"], kty, "{k}");
            assert_eq!(k["alg"], alg.as_str(), "{k}");
        }
        for (id, access) in &results {
            assert_eq!(header(id)["alg"], alg.as_str());
            verify_jwt_with(&srv, &pool, id, Some(&client_id), pinned).await;
            verify_jwt_with(&srv, &pool, access, None, pinned).await;
        }
        srv.stop().await.unwrap();
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn rsa_pem() -> String {
    use rsa::pkcs8::EncodePrivateKey as _;
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    key.to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap()
        .to_string()
}

fn p256_pem() -> String {
    let rng = ring::rand::SystemRandom::new();
    let doc = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    pem("PRIVATE KEY", doc.as_ref())
}

fn kids(set: &Value) -> Vec<String> {
    set["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn r_srv_5_signing_keys_file_signs_every_pool_with_its_keys() {
    // One RSA key: it signs both token types of every pool, and no key is generated.
    let dir = std::env::temp_dir().join(format!("rr-e2e-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("one-rsa.pem");
    std::fs::write(&file, format!("# made for a test\n{}", rsa_pem())).unwrap();
    let signing = signing_keys_from_file(Algorithm::RS256, &file).unwrap();
    let srv = start_with(ServerConfig {
        pbkdf2_iterations: 1_000,
        signing: signing.clone(),
        ..ServerConfig::default()
    })
    .await;
    let (pool_a, client_id, results) = tokens(&srv).await;
    let (pool_b, _, _) = tokens(&srv).await;
    let set_a = jwks(&srv, &pool_a).await;
    assert_eq!(kids(&set_a), kids(&jwks(&srv, &pool_b).await));
    let kid = kids(&set_a)[0].clone();
    assert!(
        kid.starts_with("rs256-") && kid.len() == "rs256-".len() + 16,
        "{kid}"
    );
    for (id, access) in &results {
        assert_eq!(header(id)["kid"], kid.as_str());
        assert_eq!(header(access)["kid"], kid.as_str());
        verify_jwt(&srv, &pool_a, id, Some(&client_id)).await;
        verify_jwt(&srv, &pool_a, access, None).await;
    }
    assert_eq!(
        srv.keys_generated(),
        0,
        "no key generated with --signing-keys"
    );
    srv.stop().await.unwrap();

    // The kid depends only on the key: the same file gives the same kid on every start.
    let again = signing_keys_from_file(Algorithm::RS256, &file).unwrap();
    match (&signing, &again) {
        (Signing::Keys { id: a, .. }, Signing::Keys { id: b, .. }) => assert_eq!(a.kid(), b.kid()),
        other => panic!("{other:?}"),
    }

    // Two ES256 keys: the first signs ID tokens, the second access tokens.
    let signing =
        signing_keys_from_pem(Algorithm::ES256, &format!("{}\n{}", p256_pem(), p256_pem()))
            .unwrap();
    let (id_kid, access_kid) = match &signing {
        Signing::Keys { id, access } => (id.kid().to_owned(), access.kid().to_owned()),
        other => panic!("{other:?}"),
    };
    assert_ne!(id_kid, access_kid);
    let srv = start_with(ServerConfig {
        pbkdf2_iterations: 1_000,
        signing,
        ..ServerConfig::default()
    })
    .await;
    let (pool, client_id, results) = tokens(&srv).await;
    for (id, access) in &results {
        assert_eq!(header(id)["kid"], id_kid.as_str());
        assert_eq!(header(access)["kid"], access_kid.as_str());
        let pinned = jsonwebtoken::Algorithm::ES256;
        verify_jwt_with(&srv, &pool, id, Some(&client_id), pinned).await;
        verify_jwt_with(&srv, &pool, access, None, pinned).await;
    }
    srv.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn r_srv_5_bad_signing_key_files_are_refused_with_clear_errors() {
    let p256 = p256_pem();
    let err = |alg, text: &str| match signing_keys_from_pem(alg, text) {
        Ok(s) => panic!("accepted: {s:?}"),
        Err(e) => e,
    };

    let e = err(Algorithm::RS256, "");
    assert!(e.contains("no PEM key found"), "{e}");
    let e = err(Algorithm::RS256, "just some text\n");
    assert!(e.contains("no PEM key found"), "{e}");

    let e = err(Algorithm::ES256, &format!("{p256}{p256}{p256}"));
    assert!(e.contains("3 PEM blocks found"), "{e}");

    // A P-256 key where an RSA key is expected: the error says which key and what to do.
    let e = err(Algorithm::RS256, &p256);
    assert!(e.starts_with("key 1:"), "{e}");
    assert!(e.contains("--algorithm es256"), "{e}");
    // The second key is the wrong one.
    let e = err(
        Algorithm::ES256,
        &format!("{p256}{}", pem("PRIVATE KEY", b"garbage")),
    );
    assert!(e.starts_with("key 2:"), "{e}");

    let e = err(
        Algorithm::RS256,
        &pem("ENCRYPTED PRIVATE KEY", b"not really encrypted"),
    );
    assert!(e.contains("encrypted"), "{e}");
    let e = err(Algorithm::ES256, "-----BEGIN PRIVATE KEY-----\nAAAA");
    assert!(e.starts_with("key 1:"), "{e}");

    // No key material in any message.
    let body_line = p256.lines().nth(1).unwrap();
    for e in [err(Algorithm::RS256, &p256), err(Algorithm::EdDSA, &p256)] {
        assert!(!e.contains(body_line), "{e}");
    }

    // A missing or oversized file is named.
    let missing = std::path::Path::new("/nonexistent/keys.pem");
    let e = signing_keys_from_file(Algorithm::RS256, missing).unwrap_err();
    assert!(
        e.contains("/nonexistent/keys.pem") && e.contains("cannot read"),
        "{e}"
    );
    let big = std::env::temp_dir().join(format!("rr-e2e-big-{}.pem", std::process::id()));
    std::fs::write(&big, vec![b'#'; 2 * 1024 * 1024]).unwrap();
    let e = signing_keys_from_file(Algorithm::RS256, &big).unwrap_err();
    assert!(e.contains("larger than"), "{e}");
    let _ = std::fs::remove_file(&big);
}
