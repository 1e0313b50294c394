//! JWT and JWKS (SPEC 8, R-JWT-1..6): issued tokens checked by an independent implementation
//! (jsonwebtoken with its RustCrypto backend) against the served JWKS, and the crate's own verifier
//! checked against forged, tampered, expired, misdirected and revoked tokens.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use proptest::prelude::*;
use refresh_rotation::clock::Timestamp;
use refresh_rotation::error::StoreError;
use refresh_rotation::jwt::{
    AccessTokenClaims, Algorithm, IdTokenClaims, Jwk, JwkSet, JwtVerifier, NoRevocationCheck,
    RevocationCheck, SigningKey, TokenSigner, TokenUse, DEFAULT_LEEWAY_SECS, MAX_JWKS_JSON_LEN,
    MAX_JWKS_KEYS, MAX_JWK_MEMBER_LEN, MAX_LEEWAY_SECS, MAX_TOKEN_LEN, PROTECTED_CLAIMS,
};
use refresh_rotation::store::{
    Advance, Family, FamilyId, FamilyInfo, FamilyRead, FamilyState, PurgeCutoff, RefreshTokenStore,
};
use refresh_rotation::Error;
use serde_json::{json, Map, Value};

const RSA_A: &str = include_str!("fixtures/test-only-rsa-2048.pk8.pem");
const RSA_B: &str = include_str!("fixtures/test-only-rsa-2048-b.pk8.pem");
const RSA_A_PKCS1: &str = include_str!("fixtures/test-only-rsa-2048.pkcs1.pem");
const EC: &str = include_str!("fixtures/test-only-ec-p256.pk8.pem");
const ED: &str = include_str!("fixtures/test-only-ed25519.pk8.pem");
const RSA_4096: &str = include_str!("fixtures/test-only-rsa-4096.pk8.pem");

const ISS: &str = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Test0001";
const CLIENT: &str = "1example23456789abcdefghij";
const SUB: &str = "0b8c3a5e-8d0e-4a3b-9f7e-1d2c3b4a5f60";
const ORIGIN: &str = "7f3b0c2a-1d4e-4f5a-8b6c-9d0e1f2a3b4c";
const EVENT: &str = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";
const JTI: &str = "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9";
/// A fixed "now" for the crate's own verifier (it never reads the system clock).
const T0: i64 = 1_700_000_000;

fn key(alg: Algorithm, kid: &str, pem: &str) -> Arc<SigningKey> {
    Arc::new(SigningKey::from_pkcs8_pem(alg, kid, pem).unwrap())
}

fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn access_claims(iat: i64) -> AccessTokenClaims<'static> {
    AccessTokenClaims {
        sub: SUB,
        iss: ISS,
        client_id: CLIENT,
        origin_jti: ORIGIN,
        event_id: EVENT,
        scope: "aws.cognito.signin.user.admin",
        auth_time: iat,
        exp: iat + 3600,
        iat,
        jti: JTI,
        username: "alice",
        groups: &[],
        device_key: None,
        extra: None,
    }
}

fn id_claims<'a>(iat: i64, attributes: &'a BTreeMap<String, String>) -> IdTokenClaims<'a> {
    IdTokenClaims {
        sub: SUB,
        iss: ISS,
        aud: CLIENT,
        username: "alice",
        origin_jti: ORIGIN,
        event_id: EVENT,
        auth_time: iat,
        exp: iat + 3600,
        iat,
        jti: JTI,
        groups: &[],
        attributes,
        extra: None,
    }
}

fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn at(t: i64) -> Timestamp {
    Timestamp::from_unix_seconds(t)
}

fn segments(token: &str) -> (Value, Value, Vec<u8>) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "compact JWS has three segments");
    let h = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let p = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    (h, p, URL_SAFE_NO_PAD.decode(parts[2]).unwrap())
}

fn names(v: &Value) -> Vec<&str> {
    let mut n: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    n.sort_unstable();
    n
}

fn jose_alg(alg: Algorithm) -> jsonwebtoken::Algorithm {
    match alg {
        Algorithm::RS256 => jsonwebtoken::Algorithm::RS256,
        Algorithm::ES256 => jsonwebtoken::Algorithm::ES256,
        Algorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
    }
}

/// The independent verifier: jsonwebtoken (RustCrypto) with the key found by kid in the JWKS as served
/// (serialised to JSON and parsed back), pinned to `alg`, validating exp, iss and, for ID tokens, aud.
fn independent_verify(
    jwks_json: &str,
    token: &str,
    alg: Algorithm,
    use_: TokenUse,
) -> Result<Value, jsonwebtoken::errors::Error> {
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_str(jwks_json).unwrap();
    let header = jsonwebtoken::decode_header(token)?;
    let jwk = set
        .find(header.kid.as_deref().expect("kid in header"))
        .expect("kid published in the JWKS");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk)?;
    let mut v = jsonwebtoken::Validation::new(jose_alg(alg));
    v.set_issuer(&[ISS]);
    v.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
    match use_ {
        TokenUse::Id => v.set_audience(&[CLIENT]),
        TokenUse::Access => v.validate_aud = false,
    }
    Ok(jsonwebtoken::decode::<Value>(token, &key, &v)?.claims)
}

fn all_keys() -> Vec<(&'static str, Arc<SigningKey>)> {
    vec![
        ("rs256-pkcs8", key(Algorithm::RS256, "rsa-a", RSA_A)),
        ("rs256-pkcs1", key(Algorithm::RS256, "rsa-a1", RSA_A_PKCS1)),
        ("es256-openssl", key(Algorithm::ES256, "ec-1", EC)),
        (
            "es256-generated",
            Arc::new(SigningKey::generate(Algorithm::ES256, "ec-gen").unwrap()),
        ),
        ("eddsa-openssl", key(Algorithm::EdDSA, "ed-1", ED)),
        (
            "eddsa-generated",
            Arc::new(SigningKey::generate(Algorithm::EdDSA, "ed-gen").unwrap()),
        ),
    ]
}

fn reason(e: Error) -> &'static str {
    match e {
        Error::InvalidJwt { reason } => reason,
        other => panic!("expected InvalidJwt, got {other:?}"),
    }
}

const INVALID_ACCESS: &str = "Invalid Access Token";
const INVALID_ID: &str = "Invalid ID Token";

#[test]
fn r_jwt_1_every_algorithm_verifies_independently_against_the_served_jwks() {
    let now = real_now();
    let attributes = attrs(&[("email", "alice@example.com"), ("email_verified", "true")]);
    for (name, k) in all_keys() {
        let alg = k.algorithm();
        let signer = TokenSigner::new(Arc::clone(&k));
        let jwks = signer.jwks_json();
        let access = signer.sign_access_token(&access_claims(now)).unwrap();
        let id = signer.sign_id_token(&id_claims(now, &attributes)).unwrap();

        for (token, use_) in [(&access, TokenUse::Access), (&id, TokenUse::Id)] {
            let (header, _, sig) = segments(token);
            assert_eq!(
                header,
                json!({"alg": alg.as_str(), "kid": k.kid()}),
                "{name}: header is exactly alg and kid"
            );
            assert_eq!(sig.len(), k.signature_len(), "{name}");
            let claims = independent_verify(&jwks, token, alg, use_)
                .unwrap_or_else(|e| panic!("{name} {use_:?}: jsonwebtoken refused: {e}"));
            assert_eq!(claims["token_use"], use_.as_str());
            // The crate's own verifier agrees.
            let ours = signer
                .verifier(ISS)
                .unwrap()
                .verify(token, use_, CLIENT, at(now), &NoRevocationCheck)
                .unwrap();
            assert_eq!(Value::Object(ours.into_claims()), claims, "{name}");
        }
        // The independent verifier is not lenient: another algorithm for the same key fails.
        let other = if alg == Algorithm::ES256 {
            Algorithm::EdDSA
        } else {
            Algorithm::ES256
        };
        assert!(independent_verify(&jwks, &access, other, TokenUse::Access).is_err());
    }
}

#[test]
fn r_jwt_1_id_and_access_tokens_may_use_different_keys() {
    let now = real_now();
    let signer = TokenSigner::with_keys(
        key(Algorithm::RS256, "id-key", RSA_A),
        key(Algorithm::ES256, "access-key", EC),
    )
    .unwrap();
    let empty = BTreeMap::new();
    let id = signer.sign_id_token(&id_claims(now, &empty)).unwrap();
    let access = signer.sign_access_token(&access_claims(now)).unwrap();
    assert_eq!(segments(&id).0["kid"], "id-key");
    assert_eq!(segments(&access).0["kid"], "access-key");
    let jwks = signer.jwks_json();
    independent_verify(&jwks, &id, Algorithm::RS256, TokenUse::Id).unwrap();
    independent_verify(&jwks, &access, Algorithm::ES256, TokenUse::Access).unwrap();
    assert_eq!(signer.jwks().keys.len(), 2);

    // Same kid for two different keys is refused.
    assert!(matches!(
        TokenSigner::with_keys(
            key(Algorithm::RS256, "same", RSA_A),
            key(Algorithm::RS256, "same", RSA_B)
        ),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn r_jwt_2_access_token_claims_are_exactly_cognitos() {
    let signer = TokenSigner::new(key(Algorithm::RS256, "rsa-a", RSA_A));
    let (_, p, _) = segments(&signer.sign_access_token(&access_claims(T0)).unwrap());
    assert_eq!(
        names(&p),
        [
            "auth_time",
            "client_id",
            "event_id",
            "exp",
            "iat",
            "iss",
            "jti",
            "origin_jti",
            "scope",
            "sub",
            "token_use",
            "username",
            "version"
        ],
        "no cognito:groups or device_key when absent"
    );
    assert_eq!(
        p,
        json!({
            "sub": SUB, "iss": ISS, "version": 2, "client_id": CLIENT, "origin_jti": ORIGIN,
            "event_id": EVENT, "token_use": "access", "scope": "aws.cognito.signin.user.admin",
            "auth_time": T0, "exp": T0 + 3600, "iat": T0, "jti": JTI, "username": "alice"
        })
    );

    let groups = vec!["admins".to_owned(), "readers".to_owned()];
    let mut extra = Map::new();
    extra.insert("tenant".into(), json!({"id": 7}));
    extra.insert("token_use".into(), json!("id"));
    extra.insert("exp".into(), json!(i64::MAX));
    let claims = AccessTokenClaims {
        groups: &groups,
        device_key: Some("us-east-1_device-1"),
        extra: Some(&extra),
        scope: "openid email",
        ..access_claims(T0)
    };
    let (_, p, _) = segments(&signer.sign_access_token(&claims).unwrap());
    assert_eq!(p["cognito:groups"], json!(["admins", "readers"]));
    assert_eq!(p["device_key"], "us-east-1_device-1");
    assert_eq!(p["scope"], "openid email");
    assert_eq!(
        p["tenant"],
        json!({"id": 7}),
        "hook claims of any JSON type"
    );
    assert_eq!(
        p["token_use"], "access",
        "protected claims cannot be overridden"
    );
    assert_eq!(p["exp"], T0 + 3600);
    assert_eq!(names(&p).len(), 16);
}

#[test]
fn r_jwt_3_id_token_claims_are_exactly_cognitos() {
    let signer = TokenSigner::new(key(Algorithm::RS256, "rsa-a", RSA_A));
    let empty = BTreeMap::new();
    let (_, p, _) = segments(&signer.sign_id_token(&id_claims(T0, &empty)).unwrap());
    assert_eq!(
        p,
        json!({
            "sub": SUB, "iss": ISS, "cognito:username": "alice", "origin_jti": ORIGIN, "aud": CLIENT,
            "event_id": EVENT, "token_use": "id", "auth_time": T0, "exp": T0 + 3600, "iat": T0,
            "jti": JTI
        }),
        "exactly the R-JWT-3 claims, no cognito:groups when the user has none"
    );

    let attributes = attrs(&[
        ("email", "alice@example.com"),
        ("email_verified", "true"),
        ("phone_number", "+15555550100"),
        ("phone_number_verified", "false"),
        ("custom:tier", "3"),
        ("custom:flag", "true"),
        ("sub", "ignored-directory-sub"),
        ("cognito:username", "ignored"),
    ]);
    let groups = vec!["admins".to_owned()];
    let mut extra = Map::new();
    extra.insert("department".into(), json!(["r&d", 1]));
    extra.insert("email".into(), json!("override@example.com"));
    for name in PROTECTED_CLAIMS {
        extra.insert(name.into(), json!("hook-tried"));
    }
    let claims = IdTokenClaims {
        groups: &groups,
        extra: Some(&extra),
        ..id_claims(T0, &attributes)
    };
    let token = signer.sign_id_token(&claims).unwrap();
    let (_, p, _) = segments(&token);
    assert!(!p.to_string().contains("hook-tried"), "{p}");
    assert!(!p.to_string().contains("ignored"), "{p}");
    assert_eq!(p["cognito:groups"], json!(["admins"]));
    assert_eq!(p["custom:tier"], "3", "custom attributes are strings");
    assert_eq!(p["custom:flag"], "true", "even when they look boolean");
    assert_eq!(p["email_verified"], true, "as Cognito writes it");
    assert_eq!(p["phone_number_verified"], false);
    assert_eq!(p["phone_number"], "+15555550100");
    assert_eq!(
        p["email"], "override@example.com",
        "hook overrides attribute"
    );
    assert_eq!(p["department"], json!(["r&d", 1]));
    assert_eq!(p["aud"], CLIENT);
    assert_eq!(p["sub"], SUB);
    assert_eq!(names(&p).len(), 11 + 1 + 6 + 1);
}

#[test]
fn r_jwt_5_jwks_lists_kid_kty_alg_and_use_for_every_key() {
    for (name, k) in all_keys() {
        let signer = TokenSigner::new(Arc::clone(&k));
        let doc: Value = serde_json::from_str(&signer.jwks_json()).unwrap();
        let keys = doc["keys"].as_array().unwrap();
        assert_eq!(keys.len(), 1, "{name}: one key, deduplicated");
        let jwk = &keys[0];
        assert_eq!(jwk["kid"], k.kid());
        assert_eq!(jwk["alg"], k.algorithm().as_str());
        assert_eq!(jwk["use"], "sig");
        let mut expected = vec!["alg", "kid", "kty", "use"];
        match k.algorithm() {
            Algorithm::RS256 => {
                assert_eq!(jwk["kty"], "RSA");
                assert_eq!(jwk["e"], "AQAB");
                let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
                assert_eq!(n.len(), 256);
                assert_ne!(n[0], 0, "no leading zero");
                expected.extend(["e", "n"]);
            }
            Algorithm::ES256 => {
                assert_eq!(jwk["kty"], "EC");
                assert_eq!(jwk["crv"], "P-256");
                for c in ["x", "y"] {
                    let b = URL_SAFE_NO_PAD.decode(jwk[c].as_str().unwrap()).unwrap();
                    assert_eq!(b.len(), 32);
                }
                expected.extend(["crv", "x", "y"]);
            }
            Algorithm::EdDSA => {
                assert_eq!(jwk["kty"], "OKP");
                assert_eq!(jwk["crv"], "Ed25519");
                let b = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
                assert_eq!(b.len(), 32);
                expected.extend(["crv", "x"]);
            }
        }
        expected.sort_unstable();
        assert_eq!(names(jwk), expected, "{name}: no private member");
    }
}

#[test]
fn r_jwt_5_retired_keys_stay_published_and_their_tokens_still_verify() {
    let now = real_now();
    let old = key(Algorithm::RS256, "2024-rsa", RSA_A);
    let mut signer = TokenSigner::new(Arc::clone(&old));
    let empty = BTreeMap::new();
    let old_access = signer.sign_access_token(&access_claims(now)).unwrap();
    let old_id = signer.sign_id_token(&id_claims(now, &empty)).unwrap();

    signer
        .rotate_access_key(key(Algorithm::RS256, "2025-rsa", RSA_B))
        .unwrap();
    signer
        .rotate_id_key(Arc::new(
            SigningKey::generate(Algorithm::EdDSA, "2025-ed").unwrap(),
        ))
        .unwrap();
    let kids: Vec<String> = signer
        .jwks()
        .keys
        .iter()
        .map(|k| k.kid.clone().unwrap())
        .collect();
    assert_eq!(kids, ["2025-ed", "2025-rsa", "2024-rsa"]);
    assert_eq!(
        signer.retired_keys().len(),
        1,
        "retired once, though it held both roles"
    );

    let new_access = signer.sign_access_token(&access_claims(now)).unwrap();
    let new_id = signer.sign_id_token(&id_claims(now, &empty)).unwrap();
    assert_eq!(segments(&new_access).0["kid"], "2025-rsa");
    assert_eq!(segments(&new_id).0["kid"], "2025-ed");

    let jwks = signer.jwks_json();
    let verifier = signer.verifier(ISS).unwrap();
    for (token, alg, use_) in [
        (&old_access, Algorithm::RS256, TokenUse::Access),
        (&old_id, Algorithm::RS256, TokenUse::Id),
        (&new_access, Algorithm::RS256, TokenUse::Access),
        (&new_id, Algorithm::EdDSA, TokenUse::Id),
    ] {
        independent_verify(&jwks, token, alg, use_).unwrap();
        verifier
            .verify(token, use_, CLIENT, at(now), &NoRevocationCheck)
            .unwrap();
    }

    // Once the host drops the retired key, its tokens stop verifying.
    assert!(signer.remove_retired_key("2024-rsa"));
    assert!(!signer.remove_retired_key("2024-rsa"));
    let verifier = signer.verifier(ISS).unwrap();
    assert_eq!(
        reason(
            verifier
                .verify_access_token(&old_access, CLIENT, at(now), &NoRevocationCheck)
                .unwrap_err()
        ),
        INVALID_ACCESS
    );

    // A retired key can be re-published from its JWK (after a restart, say).
    signer.add_retired_key(old.public_jwk().clone()).unwrap();
    let verifier = signer.verifier(ISS).unwrap();
    verifier
        .verify_access_token(&old_access, CLIENT, at(now), &NoRevocationCheck)
        .unwrap();
}

/// R-JWT-5, R-OPS-4: rotating one kind of token's key retires the old key only once it signs neither
/// kind: the retired list holds only keys that stopped signing, so a host removing a retired key never
/// unpublishes one that signs.
#[test]
fn r_jwt_5_a_key_that_still_signs_the_other_kind_is_not_retired() {
    let a = key(Algorithm::RS256, "A", RSA_A);
    for rotate_id_first in [true, false] {
        let mut signer = TokenSigner::new(Arc::clone(&a));
        let (first, second) = (
            key(Algorithm::RS256, "B", RSA_B),
            key(Algorithm::ES256, "C", EC),
        );
        if rotate_id_first {
            signer.rotate_id_key(first).unwrap();
            assert_eq!(signer.access_key().kid(), "A");
        } else {
            signer.rotate_access_key(first).unwrap();
            assert_eq!(signer.id_key().kid(), "A");
        }
        assert!(signer.retired_keys().is_empty(), "A still signs");
        assert!(!signer.remove_retired_key("A"));
        assert!(signer
            .jwks()
            .keys
            .iter()
            .any(|k| k.kid.as_deref() == Some("A")));
        // Once the other kind moves on too, A is retired, once.
        if rotate_id_first {
            signer.rotate_access_key(second).unwrap();
        } else {
            signer.rotate_id_key(second).unwrap();
        }
        let retired: Vec<_> = signer
            .retired_keys()
            .iter()
            .map(|k| k.kid.clone())
            .collect();
        assert_eq!(retired, [Some("A".to_owned())]);
    }
}

/// R-OPS-4: a key is in one state at a time. A staged key that a rotation puts to use is no longer
/// staged, and a current or staged key cannot be published as retired, so that "retired" always means a
/// key that signs no more and cannot be promoted again.
#[test]
fn r_ops_4_a_key_is_staged_current_or_retired_not_two_at_once() {
    let mut signer = TokenSigner::new(key(Algorithm::RS256, "A", RSA_A));
    let staged = key(Algorithm::ES256, "S", EC);
    signer.add_key(Arc::clone(&staged)).unwrap();
    let e = signer
        .add_retired_key(staged.public_jwk().clone())
        .unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    let current = signer.id_key().public_jwk().clone();
    assert!(signer.add_retired_key(current).is_err());
    assert!(signer.retired_keys().is_empty());

    signer.rotate_id_key(Arc::clone(&staged)).unwrap();
    assert!(signer.staged_keys().is_empty(), "in use, no longer staged");
    signer
        .rotate_id_key(key(Algorithm::RS256, "B", RSA_B))
        .unwrap();
    let retired: Vec<_> = signer
        .retired_keys()
        .iter()
        .map(|k| k.kid.clone())
        .collect();
    assert_eq!(retired, [Some("S".to_owned())]);
    assert!(
        signer.promote("S").is_err(),
        "a retired key cannot sign again"
    );
}

#[test]
fn r_jwt_5_a_kid_cannot_name_two_different_keys() {
    let mut signer = TokenSigner::new(key(Algorithm::RS256, "k1", RSA_A));
    signer
        .rotate_access_key(key(Algorithm::RS256, "k2", RSA_B))
        .unwrap();
    let clash = key(Algorithm::ES256, "k1", EC);
    assert!(signer.rotate_id_key(Arc::clone(&clash)).is_err());
    assert!(signer.rotate_access_key(Arc::clone(&clash)).is_err());
    assert!(signer.add_retired_key(clash.public_jwk().clone()).is_err());
    assert_eq!(signer.id_key().kid(), "k1", "nothing changed");
    assert_eq!(signer.access_key().kid(), "k2");
    // Re-installing the same key is not a clash.
    signer
        .rotate_id_key(key(Algorithm::RS256, "k2", RSA_B))
        .unwrap();
    assert_eq!(signer.jwks().keys.len(), 2);
}

/// R-OPS-4, R-JWT-5: a retired key does not sign again through a rotation either, and a kid removed
/// from the JWKS is not given to another key (resource servers cache keys by kid); only the same key
/// may be published again, as retired.
#[test]
fn r_jwt_5_a_retired_or_removed_kid_never_signs_again() {
    let a = key(Algorithm::RS256, "A", RSA_A);
    let mut signer = TokenSigner::new(Arc::clone(&a));
    signer
        .rotate_id_key(key(Algorithm::RS256, "B", RSA_B))
        .unwrap();
    signer
        .rotate_access_key(key(Algorithm::RS256, "B", RSA_B))
        .unwrap();
    assert_eq!(signer.retired_keys().len(), 1, "A retired");
    assert!(signer.rotate_id_key(Arc::clone(&a)).is_err());
    assert!(signer.rotate_access_key(Arc::clone(&a)).is_err());
    assert_eq!(signer.id_key().kid(), "B", "nothing changed");
    // Removed: its kid stays taken, for the same key or another.
    assert!(signer.remove_key("A").unwrap());
    assert!(signer.add_key(Arc::clone(&a)).is_err());
    assert!(signer.add_key(key(Algorithm::ES256, "A", EC)).is_err());
    assert!(signer
        .rotate_id_key(key(Algorithm::ES256, "A", EC))
        .is_err());
    assert!(signer
        .add_retired_key(key(Algorithm::ES256, "A", EC).public_jwk().clone())
        .is_err());
    assert_eq!(signer.jwks().keys.len(), 1);
    // The same key may be published again as retired (its tokens verify again), and no more.
    signer.add_retired_key(a.public_jwk().clone()).unwrap();
    assert_eq!(signer.jwks().keys.len(), 2);
    assert!(signer.rotate_id_key(Arc::clone(&a)).is_err());
}

/// Builds `header.payload.signature` from raw parts, for forgeries.
fn compact(header: &Value, payload: &[u8], sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(sig)
    )
}

#[test]
fn r_jwt_6_alg_is_pinned_by_key() {
    let rsa = key(Algorithm::RS256, "rsa-a", RSA_A);
    let ec = key(Algorithm::ES256, "ec-1", EC);
    let ed = key(Algorithm::EdDSA, "ed-1", ED);
    let mut signer = TokenSigner::new(Arc::clone(&rsa));
    signer.add_retired_key(ec.public_jwk().clone()).unwrap();
    signer.add_retired_key(ed.public_jwk().clone()).unwrap();
    let verifier = signer.verifier(ISS).unwrap();
    let payload = serde_json::to_vec(&access_claims(T0)).unwrap();
    let check =
        |token: &str| verifier.verify_access_token(token, CLIENT, at(T0), &NoRevocationCheck);

    // Control: a correct token of each key verifies.
    for k in [&rsa, &ec, &ed] {
        check(&k.sign_jwt(&access_claims(T0)).unwrap()).unwrap();
    }

    // HS256 with the RSA public key (as published) as the HMAC secret: the classic confusion attack.
    let jwk_json = serde_json::to_string(rsa.public_jwk()).unwrap();
    for secret in [jwk_json.as_bytes(), RSA_A.as_bytes(), b"".as_slice()] {
        for alg in ["HS256", "HS384", "HS512"] {
            let header = json!({"alg": alg, "kid": "rsa-a"});
            let msg = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(&payload)
            );
            let mac = ring::hmac::sign(
                &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret),
                msg.as_bytes(),
            );
            let token = format!("{msg}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref()));
            assert_eq!(reason(check(&token).unwrap_err()), INVALID_ACCESS, "{alg}");
        }
    }

    // `none`, with and without a signature segment.
    for kid in ["rsa-a", "ec-1", "ed-1"] {
        let header = json!({"alg": "none", "kid": kid});
        let unsigned = compact(&header, &payload, b"");
        assert_eq!(reason(check(&unsigned).unwrap_err()), INVALID_ACCESS);
        assert!(check(unsigned.trim_end_matches('.')).is_err());
        for alg in ["None", "NONE", "nOnE"] {
            let t = compact(&json!({"alg": alg, "kid": kid}), &payload, b"");
            assert!(check(&t).is_err());
        }
    }

    // A real signature of one key presented under another key's kid, with the header naming the
    // signer's algorithm: the kid's key decides, so it fails.
    for (signer_key, victim_kid) in [(&ed, "rsa-a"), (&ec, "ed-1"), (&rsa, "ec-1"), (&ed, "ec-1")] {
        let header = json!({"alg": signer_key.algorithm().as_str(), "kid": victim_kid});
        let msg = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(&payload)
        );
        let sig = signer_key.sign_raw(msg.as_bytes()).unwrap();
        let token = format!("{msg}.{}", URL_SAFE_NO_PAD.encode(sig));
        assert_eq!(reason(check(&token).unwrap_err()), INVALID_ACCESS);
    }

    // A genuine token whose header is rewritten to another algorithm (signature re-made for the new
    // header by the right key, so only the alg differs from the key's): refused.
    for k in [&rsa, &ec, &ed] {
        for alg in ["RS256", "ES256", "EdDSA", "PS256", "RS512", "ES384"] {
            if alg == k.algorithm().as_str() {
                continue;
            }
            let header = json!({"alg": alg, "kid": k.kid()});
            let msg = format!(
                "{}.{}",
                URL_SAFE_NO_PAD.encode(header.to_string()),
                URL_SAFE_NO_PAD.encode(&payload)
            );
            let sig = k.sign_raw(msg.as_bytes()).unwrap();
            let token = format!("{msg}.{}", URL_SAFE_NO_PAD.encode(sig));
            assert_eq!(reason(check(&token).unwrap_err()), INVALID_ACCESS, "{alg}");
        }
    }

    // A JWKS entry whose `alg` contradicts its key type is not used at all.
    let mut lying = rsa.public_jwk().clone();
    lying.alg = Some("HS256".into());
    lying.kid = Some("liar".into());
    let mut set = signer.jwks();
    set.keys.push(lying);
    let v = JwtVerifier::new(ISS, &set).unwrap();
    assert!(!v.kids().any(|k| k == "liar"));
}

#[test]
fn r_jwt_6_header_must_be_strict() {
    let rsa = key(Algorithm::RS256, "rsa-a", RSA_A);
    let verifier = TokenSigner::new(Arc::clone(&rsa)).verifier(ISS).unwrap();
    let payload = serde_json::to_vec(&access_claims(T0)).unwrap();
    // A token of `header` and `payload`, validly signed by the verifier's key.
    let signed = |header: &str, payload: &[u8]| {
        let msg = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let sig = rsa.sign_raw(msg.as_bytes()).unwrap();
        format!("{msg}.{}", URL_SAFE_NO_PAD.encode(sig))
    };
    let refused = |token: &str| {
        verifier
            .verify_access_token(token, CLIENT, at(T0), &NoRevocationCheck)
            .is_err()
    };
    for header in [
        json!({"alg": "RS256"}),
        json!({"kid": "rsa-a"}),
        json!({"alg": "RS256", "kid": "rsa-a", "crit": ["exp"]}),
        json!({"alg": ["RS256"], "kid": "rsa-a"}),
        json!({"alg": "RS256", "kid": 1}),
        json!("RS256"),
        // A header is a JSON object (RFC 7515 §4), not an array that a derived struct would accept;
        // and `crit` may not be present at all, not even as null.
        json!(["RS256", "rsa-a"]),
        json!({"alg": "RS256", "kid": "rsa-a", "crit": null}),
    ] {
        assert!(refused(&signed(&header.to_string(), &payload)), "{header}");
    }
    // Duplicate header members are refused too, any member, not only those the verifier reads: a
    // party that reads `typ` or `b64` may take the other copy.
    for header in [
        r#"{"alg":"HS256","alg":"RS256","kid":"rsa-a"}"#,
        r#"{"alg":"RS256","kid":"rsa-a","typ":"JWT","typ":"at+jwt"}"#,
        r#"{"alg":"RS256","kid":"rsa-a","b64":true,"b64":false}"#,
        r#"{"alg":"RS256","kid":"rsa-a","jku":"https://a","jku":"https://b"}"#,
    ] {
        assert!(refused(&signed(header, &payload)), "{header}");
    }
    // Duplicate claims are refused: another JWT library may read the first where this one would read
    // the last (`token_use` twice, say).
    let mut duplicated = serde_json::to_string(&access_claims(T0)).unwrap();
    duplicated.pop();
    duplicated.push_str(r#","token_use":"id"}"#);
    let token = signed(r#"{"alg":"RS256","kid":"rsa-a"}"#, duplicated.as_bytes());
    for token_use in [TokenUse::Access, TokenUse::Id] {
        assert!(verifier
            .verify(&token, token_use, CLIENT, at(T0), &NoRevocationCheck)
            .is_err());
    }
    // `typ` is allowed.
    assert!(!refused(&signed(
        r#"{"alg":"RS256","kid":"rsa-a","typ":"JWT"}"#,
        &payload
    )));
}

#[test]
fn r_jwt_6_unknown_kid_is_refused() {
    let signer = TokenSigner::new(key(Algorithm::ES256, "ec-1", EC));
    let other = SigningKey::generate(Algorithm::ES256, "ec-2").unwrap();
    let verifier = signer.verifier(ISS).unwrap();
    let token = other.sign_jwt(&access_claims(T0)).unwrap();
    assert_eq!(
        reason(
            verifier
                .verify_access_token(&token, CLIENT, at(T0), &NoRevocationCheck)
                .unwrap_err()
        ),
        INVALID_ACCESS
    );
    // Same kid, different key (an attacker's key claiming the pool's kid): signature fails.
    let impostor = SigningKey::generate(Algorithm::ES256, "ec-1").unwrap();
    let token = impostor.sign_jwt(&access_claims(T0)).unwrap();
    assert!(verifier
        .verify_access_token(&token, CLIENT, at(T0), &NoRevocationCheck)
        .is_err());
}

#[test]
fn r_jwt_6_tampered_payload_or_signature_is_refused() {
    for (name, k) in all_keys() {
        let signer = TokenSigner::new(Arc::clone(&k));
        let verifier = signer.verifier(ISS).unwrap();
        let token = signer.sign_access_token(&access_claims(T0)).unwrap();
        let check = |t: &str| verifier.verify_access_token(t, CLIENT, at(T0), &NoRevocationCheck);
        check(&token).unwrap();
        let parts: Vec<&str> = token.split('.').collect();

        // Payload changed to claim another user, signature kept.
        let forged = AccessTokenClaims {
            username: "mallory",
            ..access_claims(T0)
        };
        let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let t = format!("{}.{}.{}", parts[0], p, parts[2]);
        assert_eq!(reason(check(&t).unwrap_err()), INVALID_ACCESS, "{name}");

        // Every single bit of the signature matters.
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        for i in [0, sig.len() / 2, sig.len() - 1] {
            let mut s = sig.clone();
            s[i] ^= 0x01;
            let t = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(&s));
            assert!(check(&t).is_err(), "{name} byte {i}");
        }
        // Truncated, extended, empty, or non-canonical signature encodings.
        let mut longer = sig.clone();
        longer.push(0);
        for s in [
            URL_SAFE_NO_PAD.encode(&sig[..sig.len() - 1]),
            URL_SAFE_NO_PAD.encode(&longer),
            String::new(),
            format!("{}=", parts[2]),
            base64::engine::general_purpose::STANDARD.encode(&sig),
        ] {
            let t = format!("{}.{}.{}", parts[0], parts[1], s);
            if t != token {
                assert!(check(&t).is_err(), "{name}: {s}");
            }
        }
        // Payload bytes moved between segments or re-encoded with padding.
        let t = format!("{}.{}=.{}", parts[0], parts[1], parts[2]);
        assert!(check(&t).is_err());
        let t = format!("{}.{}.{}.{}", parts[0], parts[1], parts[2], parts[2]);
        assert!(check(&t).is_err());
    }
}

#[test]
fn r_jwt_6_exp_is_checked_at_the_leeway_boundary_on_both_sides() {
    assert_eq!(DEFAULT_LEEWAY_SECS, 0);
    let signer = TokenSigner::new(key(Algorithm::EdDSA, "ed-1", ED));
    let token = signer.sign_access_token(&access_claims(T0)).unwrap();
    let exp = T0 + 3600;
    let expired = "Access Token has expired";

    let v0 = signer.verifier(ISS).unwrap();
    let check = |v: &JwtVerifier, now: i64| {
        v.verify_access_token(&token, CLIENT, at(now), &NoRevocationCheck)
    };
    check(&v0, exp - 1).unwrap();
    assert_eq!(reason(check(&v0, exp).unwrap_err()), expired);
    assert_eq!(reason(check(&v0, exp + 1).unwrap_err()), expired);
    assert_eq!(reason(check(&v0, i64::MAX).unwrap_err()), expired);

    let v5 = signer.verifier(ISS).unwrap().with_leeway(5);
    check(&v5, exp + 4).unwrap();
    assert_eq!(reason(check(&v5, exp + 5).unwrap_err()), expired);

    // A huge leeway is clamped to five minutes (R-SAFE-8), without overflowing.
    let vmax = signer.verifier(ISS).unwrap().with_leeway(u64::MAX);
    assert_eq!(vmax.leeway(), MAX_LEEWAY_SECS);
    check(&vmax, exp + 299).unwrap();
    assert_eq!(reason(check(&vmax, exp + 300).unwrap_err()), expired);
    assert_eq!(reason(check(&vmax, i64::MAX).unwrap_err()), expired);

    // ID tokens say so in their own words.
    let empty = BTreeMap::new();
    let id = signer.sign_id_token(&id_claims(T0, &empty)).unwrap();
    let e = v0
        .verify_id_token(&id, CLIENT, at(exp), &NoRevocationCheck)
        .unwrap_err();
    assert_eq!(reason(e), "ID Token has expired");
    assert_eq!(e_exception(&v0, &id, exp), "NotAuthorizedException");
}

fn e_exception(v: &JwtVerifier, token: &str, now: i64) -> &'static str {
    v.verify_id_token(token, CLIENT, at(now), &NoRevocationCheck)
        .unwrap_err()
        .exception_name()
}

#[test]
fn r_jwt_6_iat_in_the_future_beyond_the_leeway_is_refused() {
    let signer = TokenSigner::new(key(Algorithm::ES256, "ec-1", EC));
    let token = signer.sign_access_token(&access_claims(T0)).unwrap();
    let check = |v: &JwtVerifier, now: i64| {
        v.verify_access_token(&token, CLIENT, at(now), &NoRevocationCheck)
    };
    let v0 = signer.verifier(ISS).unwrap();
    check(&v0, T0).unwrap();
    assert_eq!(reason(check(&v0, T0 - 1).unwrap_err()), INVALID_ACCESS);
    let v5 = signer.verifier(ISS).unwrap().with_leeway(5);
    check(&v5, T0 - 5).unwrap();
    assert_eq!(reason(check(&v5, T0 - 6).unwrap_err()), INVALID_ACCESS);
}

#[test]
fn r_jwt_6_issuer_token_use_and_client_are_checked() {
    let signer = TokenSigner::new(key(Algorithm::RS256, "rsa-a", RSA_A));
    let verifier = signer.verifier(ISS).unwrap();
    let empty = BTreeMap::new();
    let access = signer.sign_access_token(&access_claims(T0)).unwrap();
    let id = signer.sign_id_token(&id_claims(T0, &empty)).unwrap();
    let none = &NoRevocationCheck;

    // Wrong issuer: a token of another pool, or a verifier expecting another pool.
    let other_pool = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other";
    let foreign = signer
        .sign_access_token(&AccessTokenClaims {
            iss: other_pool,
            ..access_claims(T0)
        })
        .unwrap();
    assert_eq!(
        reason(
            verifier
                .verify_access_token(&foreign, CLIENT, at(T0), none)
                .unwrap_err()
        ),
        INVALID_ACCESS
    );
    let elsewhere = signer.verifier(other_pool).unwrap();
    assert!(elsewhere
        .verify_access_token(&access, CLIENT, at(T0), none)
        .is_err());
    assert!(signer
        .verifier(format!("{ISS}/"))
        .unwrap()
        .verify_access_token(&access, CLIENT, at(T0), none)
        .is_err());

    // Wrong token_use: an ID token where an access token is expected, and the reverse.
    assert_eq!(
        reason(
            verifier
                .verify_access_token(&id, CLIENT, at(T0), none)
                .unwrap_err()
        ),
        INVALID_ACCESS
    );
    assert_eq!(
        reason(
            verifier
                .verify_id_token(&access, CLIENT, at(T0), none)
                .unwrap_err()
        ),
        INVALID_ID
    );

    // Wrong client: client_id for access tokens, aud for ID tokens.
    for other in ["2other", "", "1example23456789abcdefghi"] {
        assert!(verifier
            .verify_access_token(&access, other, at(T0), none)
            .is_err());
        assert!(verifier.verify_id_token(&id, other, at(T0), none).is_err());
    }
    verifier.verify_id_token(&id, CLIENT, at(T0), none).unwrap();

    // A token missing a required claim is refused even if properly signed.
    let mut claims = serde_json::to_value(access_claims(T0)).unwrap();
    for required in [
        "sub",
        "jti",
        "origin_jti",
        "exp",
        "iat",
        "client_id",
        "iss",
        "token_use",
    ] {
        let mut c = claims.clone();
        c.as_object_mut().unwrap().remove(required);
        let t = signer.access_key().sign_jwt(&c).unwrap();
        assert!(
            verifier
                .verify_access_token(&t, CLIENT, at(T0), none)
                .is_err(),
            "{required}"
        );
    }
    // exp as a string or a float is not a NumericDate this crate issues.
    claims["exp"] = json!("1700003600");
    let t = signer.access_key().sign_jwt(&claims).unwrap();
    assert!(verifier
        .verify_access_token(&t, CLIENT, at(T0), none)
        .is_err());
    claims["exp"] = json!(1_700_003_600.5);
    let t = signer.access_key().sign_jwt(&claims).unwrap();
    assert!(verifier
        .verify_access_token(&t, CLIENT, at(T0), none)
        .is_err());
    // nbf, if present, is honoured to the second: refused one second before, accepted at it.
    claims["exp"] = json!(T0 + 3600);
    claims["nbf"] = json!(T0 + 10);
    let t = signer.access_key().sign_jwt(&claims).unwrap();
    assert!(verifier
        .verify_access_token(&t, CLIENT, at(T0 + 9), none)
        .is_err());
    verifier
        .verify_access_token(&t, CLIENT, at(T0 + 10), none)
        .unwrap();
    // The leeway applies to nbf as to exp and iat (`with_leeway`), and no further.
    let lenient = signer.verifier(ISS).unwrap().with_leeway(5);
    lenient
        .verify_access_token(&t, CLIENT, at(T0 + 5), none)
        .unwrap();
    assert!(lenient
        .verify_access_token(&t, CLIENT, at(T0 + 4), none)
        .is_err());
}

/// R-JWT-6: an ID token is bound to its client by `aud` alone; a `client_id` claim naming the client
/// does not make an ID token of another audience the client's.
#[test]
fn r_jwt_6_an_id_token_is_bound_to_its_client_by_aud_only() {
    let signer = TokenSigner::new(key(Algorithm::EdDSA, "ed-1", ED));
    let verifier = signer.verifier(ISS).unwrap();
    let other = "2otherclient3456789abcdefg";
    let mut claims = serde_json::to_value(id_claims(T0, &attrs(&[]))).unwrap();
    claims["aud"] = json!(other);
    claims["client_id"] = json!(CLIENT);
    let t = signer.id_key().sign_jwt(&claims).unwrap();
    assert!(verifier
        .verify_id_token(&t, CLIENT, at(T0), &NoRevocationCheck)
        .is_err());
    verifier
        .verify_id_token(&t, other, at(T0), &NoRevocationCheck)
        .unwrap();
}

/// A store that only knows `get` and `revoke`, and can be told to fail.
#[derive(Default)]
struct TestStore {
    families: Mutex<HashMap<FamilyId, Family>>,
    broken: std::sync::atomic::AtomicBool,
}

impl TestStore {
    fn add(&self, uuid: &str) -> FamilyId {
        let hex: String = uuid.chars().filter(|c| *c != '-').collect();
        let mut bytes = [0u8; 16];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
        }
        let id = FamilyId::from_bytes(bytes);
        assert_eq!(id.to_uuid_string(), uuid, "test uuids carry v4 bits");
        let info = FamilyInfo {
            client_id: CLIENT.into(),
            subject: SUB.into(),
            username: "alice".into(),
            device_key: None,
            scopes: "openid".into(),
            auth_time: at(T0),
            event_id: [0; 16],
            expires_at: at(T0 + 86_400),
        };
        self.create(Family {
            id,
            info: Arc::new(info),
            state: FamilyState::new(1),
        })
        .unwrap();
        id
    }
    fn fail(&self) -> Result<(), StoreError> {
        if self.broken.load(std::sync::atomic::Ordering::SeqCst) {
            Err(StoreError::Unavailable("test".into()))
        } else {
            Ok(())
        }
    }
}

impl RefreshTokenStore for TestStore {
    fn create(&self, family: Family) -> Result<(), StoreError> {
        self.families.lock().unwrap().insert(family.id, family);
        Ok(())
    }
    fn read(&self, id: &FamilyId) -> Result<FamilyRead, StoreError> {
        self.fail()?;
        Ok(FamilyRead {
            family: self.families.lock().unwrap().get(id).cloned(),
            time: None,
        })
    }
    fn advance(&self, _: &FamilyId, _: u32, _: Timestamp, _: u32) -> Result<Advance, StoreError> {
        Err(StoreError::Backend("unused".into()))
    }
    fn bind_device(&self, _: &FamilyId, _: &str) -> Result<Option<Family>, StoreError> {
        Err(StoreError::Backend("unused".into()))
    }
    fn confirm_device(&self, _: &FamilyId, _: &str) -> Result<bool, StoreError> {
        Err(StoreError::Backend("unused".into()))
    }
    fn revoke_client(&self, _: &str) -> Result<usize, StoreError> {
        Err(StoreError::Backend("unused".into()))
    }
    fn revoke(&self, id: &FamilyId) -> Result<bool, StoreError> {
        let mut f = self.families.lock().unwrap();
        Ok(f.get_mut(id)
            .map(|f| !std::mem::replace(&mut f.state.revoked, true))
            .unwrap_or(false))
    }
    fn revoke_subject(&self, _: &str) -> Result<usize, StoreError> {
        Err(StoreError::Backend("unused".into()))
    }
    fn purge_expired(&self, _: PurgeCutoff, _: usize) -> Result<usize, StoreError> {
        Err(StoreError::Backend("unused".into()))
    }
}

#[test]
fn r_jwt_6_revoked_origin_jti_is_refused_through_the_store() {
    let signer = TokenSigner::new(key(Algorithm::ES256, "ec-1", EC));
    let verifier = signer.verifier(ISS).unwrap();
    let store = TestStore::default();
    let id = store.add(ORIGIN);
    let empty = BTreeMap::new();
    let access = signer.sign_access_token(&access_claims(T0)).unwrap();
    let id_token = signer.sign_id_token(&id_claims(T0, &empty)).unwrap();

    verifier
        .verify_access_token(&access, CLIENT, at(T0), &store)
        .unwrap();
    verifier
        .verify_id_token(&id_token, CLIENT, at(T0), &store)
        .unwrap();

    assert!(store.revoke(&id).unwrap());
    assert_eq!(
        reason(
            verifier
                .verify_access_token(&access, CLIENT, at(T0), &store)
                .unwrap_err()
        ),
        "Access Token has been revoked"
    );
    assert_eq!(
        reason(
            verifier
                .verify_id_token(&id_token, CLIENT, at(T0), &store)
                .unwrap_err()
        ),
        "ID Token has been revoked"
    );
    // Through a trait object and an Arc as well.
    let shared: Arc<dyn RefreshTokenStore> = Arc::new(TestStore::default());
    verifier
        .verify_access_token(&access, CLIENT, at(T0), &shared)
        .unwrap();

    // A family that is gone (purged after its expiry) is not revoked.
    let fresh = TestStore::default();
    assert!(!fresh.is_revoked(ORIGIN));
    // A store failure fails closed.
    fresh.add(ORIGIN);
    fresh
        .broken
        .store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(fresh.is_revoked(ORIGIN));
    assert!(verifier
        .verify_access_token(&access, CLIENT, at(T0), &fresh)
        .is_err());
    // An origin_jti that is not a UUID is no family of this crate: refused.
    let store = TestStore::default();
    for bad in ["", "not-a-uuid", "7f3b0c2a1d4e4f5a8b6c9d0e1f2a3b4c"] {
        assert!(store.is_revoked(bad), "{bad}");
        let t = signer
            .sign_access_token(&AccessTokenClaims {
                origin_jti: bad,
                ..access_claims(T0)
            })
            .unwrap();
        assert!(verifier
            .verify_access_token(&t, CLIENT, at(T0), &store)
            .is_err());
    }
    // Revocation is checked last: an expired token of a revoked family reads as expired.
    let store = TestStore::default();
    store.revoke(&store.add(ORIGIN)).unwrap();
    assert_eq!(
        reason(
            verifier
                .verify_access_token(&access, CLIENT, at(T0 + 3600), &store)
                .unwrap_err()
        ),
        "Access Token has expired"
    );
}

#[test]
fn r_safe_1_garbage_and_oversized_tokens_are_refused_without_panic() {
    let signer = TokenSigner::new(key(Algorithm::RS256, "rsa-a", RSA_A));
    let verifier = signer.verifier(ISS).unwrap();
    let token = signer.sign_access_token(&access_claims(T0)).unwrap();
    let huge = "a".repeat(MAX_TOKEN_LEN + 1);
    let dots = ".".repeat(1000);
    let deep = format!(
        "{}.{}.AAAA",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"rsa-a"}"#),
        URL_SAFE_NO_PAD.encode("[".repeat(5000))
    );
    for garbage in [
        "",
        ".",
        "..",
        "a.b.c",
        "ééé.ééé.ééé",
        "\0\0\0",
        &token[..token.len() / 2],
        &huge,
        &dots,
        &deep,
        "eyJhbGciOiJub25lIn0.e30.",
    ] {
        assert_eq!(
            reason(
                verifier
                    .verify_access_token(garbage, CLIENT, at(T0), &NoRevocationCheck)
                    .unwrap_err()
            ),
            INVALID_ACCESS
        );
    }

    // A genuine token just over the limit is refused before any work; one under it is fine.
    let mut extra = Map::new();
    let sized = |pad: usize, extra: &mut Map<String, Value>| {
        extra.insert("pad".into(), Value::from("x".repeat(pad)));
        signer
            .sign_access_token(&AccessTokenClaims {
                extra: Some(extra),
                ..access_claims(T0)
            })
            .unwrap()
    };
    let mut pad = 11_000;
    let mut t = sized(pad, &mut extra);
    while t.len() <= MAX_TOKEN_LEN {
        pad += 1;
        t = sized(pad, &mut extra);
    }
    assert_eq!(
        t.len(),
        MAX_TOKEN_LEN + 1,
        "padding grows the token a byte at a time here"
    );
    assert!(verifier
        .verify_access_token(&t, CLIENT, at(T0), &NoRevocationCheck)
        .is_err());
    let t = sized(pad - 3, &mut extra);
    assert!(t.len() <= MAX_TOKEN_LEN);
    verifier
        .verify_access_token(&t, CLIENT, at(T0), &NoRevocationCheck)
        .unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn r_safe_1_arbitrary_input_never_panics(s in "\\PC{0,300}", dots in proptest::collection::vec(0usize..300, 0..4)) {
        static VERIFIER: std::sync::OnceLock<JwtVerifier> = std::sync::OnceLock::new();
        let v = VERIFIER.get_or_init(|| {
            TokenSigner::new(Arc::new(SigningKey::generate(Algorithm::EdDSA, "ed").unwrap()))
                .verifier(ISS)
                .unwrap()
        });
        let mut s = s;
        for d in dots {
            let mut at = d.min(s.len());
            while !s.is_char_boundary(at) { at -= 1; }
            s.insert(at, '.');
        }
        prop_assert!(v.verify(&s, TokenUse::Id, CLIENT, at(T0), &NoRevocationCheck).is_err());
    }

    #[test]
    fn r_safe_1_mutated_tokens_never_verify(pos in 0usize..400, byte in any::<u8>()) {
        static SIGNED: std::sync::OnceLock<(JwtVerifier, String)> = std::sync::OnceLock::new();
        let (v, token) = SIGNED.get_or_init(|| {
            let s = TokenSigner::new(Arc::new(SigningKey::generate(Algorithm::ES256, "ec").unwrap()));
            (s.verifier(ISS).unwrap(), s.sign_access_token(&access_claims(T0)).unwrap())
        });
        let mut bytes = token.clone().into_bytes();
        let i = pos % bytes.len();
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        if let Ok(t) = String::from_utf8(bytes) {
            prop_assert!(v.verify_access_token(&t, CLIENT, at(T0), &NoRevocationCheck).is_err());
        }
    }
}

#[test]
fn r_jwt_6_verifier_from_a_fetched_jwks() {
    let signer = TokenSigner::with_keys(
        key(Algorithm::RS256, "rsa-a", RSA_A),
        key(Algorithm::EdDSA, "ed-1", ED),
    )
    .unwrap();
    let mut doc: Value = serde_json::from_str(&signer.jwks_json()).unwrap();
    let keys = doc["keys"].as_array_mut().unwrap();
    // Keys the crate does not verify with are ignored: symmetric, encryption, other algorithms, no kid.
    keys.push(json!({"kty": "oct", "k": "c2VjcmV0", "kid": "hmac", "alg": "HS256"}));
    let mut enc = keys[0].clone();
    enc["use"] = json!("enc");
    enc["kid"] = json!("enc-key");
    keys.push(enc);
    let mut ps = keys[0].clone();
    ps["alg"] = json!("PS256");
    ps["kid"] = json!("pss");
    keys.push(ps);
    let mut no_kid = keys[1].clone();
    no_kid.as_object_mut().unwrap().remove("kid");
    keys.push(no_kid);
    // An RSA key published with a leading zero byte in n and without alg is still RS256 only.
    let mut padded = keys[0].clone();
    let n = URL_SAFE_NO_PAD
        .decode(padded["n"].as_str().unwrap())
        .unwrap();
    padded["n"] = json!(URL_SAFE_NO_PAD.encode([&[0u8][..], &n].concat()));
    padded["kid"] = json!("rsa-padded");
    padded.as_object_mut().unwrap().remove("alg");
    keys.push(padded);
    let set: JwkSet = serde_json::from_value(doc.clone()).unwrap();
    let v = JwtVerifier::new(ISS, &set).unwrap();
    let mut kids: Vec<&str> = v.kids().collect();
    kids.sort_unstable();
    assert_eq!(kids, ["ed-1", "rsa-a", "rsa-padded"]);
    let empty = BTreeMap::new();
    let id = signer.sign_id_token(&id_claims(T0, &empty)).unwrap();
    v.verify_id_token(&id, CLIENT, at(T0), &NoRevocationCheck)
        .unwrap();
    let via_padded = SigningKey::from_pkcs8_pem(Algorithm::RS256, "rsa-padded", RSA_A)
        .unwrap()
        .sign_jwt(&access_claims(T0))
        .unwrap();
    v.verify_access_token(&via_padded, CLIENT, at(T0), &NoRevocationCheck)
        .unwrap();

    // Malformed supported keys, duplicate kids and sets with nothing usable are configuration errors.
    let bad = |mutate: &dyn Fn(&mut Value)| {
        let mut d: Value = serde_json::from_str(&signer.jwks_json()).unwrap();
        mutate(&mut d);
        let set: JwkSet = serde_json::from_value(d).unwrap();
        matches!(
            JwtVerifier::new(ISS, &set),
            Err(Error::InvalidParameter { .. })
        )
    };
    assert!(bad(&|d| d["keys"][0]["n"] = json!("!!")));
    assert!(bad(&|d| d["keys"][0]["n"] = json!("AQAB")));
    assert!(bad(&|d| d["keys"][1]["x"] = json!("AQAB")));
    assert!(bad(&|d| d["keys"][1]["kid"] = json!("rsa-a")));
    assert!(bad(&|d| d["keys"] = json!([])));
    assert!(bad(
        &|d| d["keys"] = json!([{"kty": "oct", "k": "c2VjcmV0", "kid": "h"}])
    ));
}

#[test]
fn r_jwt_1_key_loading_rejects_the_wrong_material_with_a_clear_error() {
    let cases: [(Algorithm, &str); 6] = [
        (Algorithm::RS256, EC),
        (Algorithm::RS256, ED),
        (Algorithm::ES256, RSA_A),
        (Algorithm::ES256, RSA_A_PKCS1),
        (Algorithm::EdDSA, EC),
        (Algorithm::EdDSA, RSA_A),
    ];
    for (alg, pem) in cases {
        let e = SigningKey::from_pkcs8_pem(alg, "k", pem).unwrap_err();
        let Error::InvalidParameter { message } = &e else {
            panic!("{e:?}")
        };
        assert!(message.starts_with("signing key"), "{message}");
        // No key material in the message.
        let body_line = pem.lines().nth(1).unwrap();
        assert!(!message.contains(&body_line[..20]), "{message}");
        assert_eq!(e.exception_name(), "InvalidParameterException");
    }
    // DER works as well as PEM.
    let der = base64::engine::general_purpose::STANDARD
        .decode(
            EC.lines()
                .filter(|l| !l.starts_with("-----"))
                .collect::<String>(),
        )
        .unwrap();
    let k = SigningKey::from_pkcs8_der(Algorithm::ES256, "ec-der", &der).unwrap();
    assert_eq!(
        k.public_jwk(),
        key(Algorithm::ES256, "ec-der", EC).public_jwk()
    );
    // PKCS#1 and PKCS#8 of the same RSA key give the same public key.
    assert_eq!(
        key(Algorithm::RS256, "x", RSA_A).public_jwk(),
        key(Algorithm::RS256, "x", RSA_A_PKCS1).public_jwk()
    );
}

/// R-JWT-6: a supported key that cannot be a key of its kind is refused when it is loaded, by
/// `JwtVerifier::new` and by `add_retired_key` (which would publish it), not kept to verify nothing: an
/// RSA modulus that is even or not of 2048 to 8192 bits (counted in bits, not bytes), an exponent that
/// is even or out of ring's range, a P-256 point off the curve. The valid forms of each are taken.
#[test]
fn r_jwt_6_malformed_keys_are_refused_when_loaded() {
    let b64 = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
    let rsa = key(Algorithm::RS256, "rsa-a", RSA_A).public_jwk().clone();
    let ec = key(Algorithm::ES256, "ec-1", EC).public_jwk().clone();
    let with = |base: &Jwk, kid: &str, f: &dyn Fn(&mut Jwk)| {
        let mut j = base.clone();
        j.kid = Some(kid.into());
        f(&mut j);
        j
    };
    let modulus = |bytes: Vec<u8>| move |j: &mut Jwk| j.n = Some(b64(&bytes));
    let mut n_2041_bits = vec![0xff; 256];
    n_2041_bits[0] = 1;
    let mut n_even = URL_SAFE_NO_PAD.decode(rsa.n.as_deref().unwrap()).unwrap();
    *n_even.last_mut().unwrap() &= 0xfe;
    let malformed = [
        with(&rsa, "rsa-2041-bits", &modulus(n_2041_bits)),
        with(&rsa, "rsa-8200-bits", &modulus(vec![0xff; 1025])),
        with(&rsa, "rsa-even-n", &modulus(n_even)),
        with(&rsa, "rsa-even-e", &|j| j.e = Some(b64(&[2]))),
        with(&rsa, "rsa-e-1", &|j| j.e = Some(b64(&[1]))),
        with(&rsa, "rsa-e-2^33+1", &|j| j.e = Some(b64(&[2, 0, 0, 0, 1]))),
        // 2^64 + 3: its last eight bytes read 3.
        with(&rsa, "rsa-e-2^64+3", &|j| {
            j.e = Some(b64(&[1, 0, 0, 0, 0, 0, 0, 0, 3]))
        }),
        with(&ec, "ec-zero", &|j| {
            j.x = Some(b64(&[0; 32]));
            j.y = Some(b64(&[0; 32]));
        }),
        with(&ec, "ec-off-curve", &|j| {
            let mut y = URL_SAFE_NO_PAD.decode(j.y.as_deref().unwrap()).unwrap();
            y[31] ^= 1;
            j.y = Some(b64(&y));
        }),
    ];
    for jwk in malformed {
        let kid = jwk.kid.clone().unwrap();
        let set = JwkSet {
            keys: vec![jwk.clone(), rsa.clone()],
        };
        let e = JwtVerifier::new(ISS, &set).unwrap_err();
        assert!(e.to_string().contains(&kid), "{kid}: {e}");
        let mut signer = TokenSigner::new(key(Algorithm::EdDSA, "current", ED));
        assert!(signer.add_retired_key(jwk).is_err(), "{kid}");
        assert_eq!(signer.jwks().keys.len(), 1, "{kid} published");
    }
    // The valid ones: the keys themselves, a modulus with a leading zero byte, 65537 as 00 01 00 01.
    let valid = [
        rsa.clone(),
        ec.clone(),
        with(&rsa, "rsa-padded-n", &|j| {
            let mut n = vec![0];
            n.extend(URL_SAFE_NO_PAD.decode(j.n.as_deref().unwrap()).unwrap());
            j.n = Some(b64(&n));
        }),
        with(&rsa, "rsa-padded-e", &|j| j.e = Some(b64(&[0, 1, 0, 1]))),
    ];
    let verifier = JwtVerifier::new(
        ISS,
        &JwkSet {
            keys: valid.to_vec(),
        },
    )
    .unwrap();
    assert_eq!(verifier.kids().count(), 4);
    // A padded key verifies what the key signs.
    let token = key(Algorithm::RS256, "rsa-padded-n", RSA_A)
        .sign_jwt(&access_claims(T0))
        .unwrap();
    verifier
        .verify_access_token(&token, CLIENT, at(T0), &NoRevocationCheck)
        .unwrap();
}

#[test]
fn r_safe_2_signing_key_debug_is_redacted() {
    for (_, k) in all_keys() {
        let text = format!("{k:?}");
        assert_eq!(
            text,
            format!(
                "SigningKey {{ kid: {:?}, alg: {:?}, key: [REDACTED] }}",
                k.kid(),
                k.algorithm()
            )
        );
    }
    let signer = TokenSigner::new(key(Algorithm::RS256, "rsa-a", RSA_A));
    let text = format!("{signer:?}");
    assert!(text.contains("[REDACTED]"));
    for line in RSA_A.lines().skip(1).take(5) {
        assert!(!text.contains(&line[..16]));
    }
}

#[test]
fn sign_raw_is_the_signature_inside_the_token() {
    // Ed25519 is deterministic, so the bare signature of `header.payload` equals the token's.
    let k = key(Algorithm::EdDSA, "ed-1", ED);
    let token = k.sign_jwt(&access_claims(T0)).unwrap();
    let (signed, sig) = token.rsplit_once('.').unwrap();
    assert_eq!(
        URL_SAFE_NO_PAD.decode(sig).unwrap(),
        k.sign_raw(signed.as_bytes()).unwrap()
    );
    // RSA PKCS#1 v1.5 is deterministic too.
    let k = key(Algorithm::RS256, "rsa-a", RSA_A);
    let token = k.sign_jwt(&access_claims(T0)).unwrap();
    let (signed, sig) = token.rsplit_once('.').unwrap();
    assert_eq!(
        URL_SAFE_NO_PAD.decode(sig).unwrap(),
        k.sign_raw(signed.as_bytes()).unwrap()
    );
}

#[test]
fn r_jwt_6_id_token_aud_must_be_the_client_id_itself() {
    // Cognito writes `aud` as a string (R-JWT-3); an array naming the client is not one of its tokens.
    let k = key(Algorithm::ES256, "ec-aud", EC);
    let signer = TokenSigner::new(k.clone());
    let verifier = signer.verifier(ISS).unwrap();
    let mut claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&serde_json::to_string(&id_claims(T0, &BTreeMap::new())).unwrap())
            .unwrap();
    claims.insert("aud".into(), serde_json::json!([CLIENT, "other"]));
    let token = k.sign_jwt(&claims).unwrap();
    assert!(verifier
        .verify_id_token(&token, CLIENT, at(T0), &NoRevocationCheck)
        .is_err());
    claims.insert("aud".into(), serde_json::json!(CLIENT));
    let token = k.sign_jwt(&claims).unwrap();
    assert!(verifier
        .verify_id_token(&token, CLIENT, at(T0), &NoRevocationCheck)
        .is_ok());
}

#[test]
fn r_jwt_4_issuer_url_defaults_to_cognitos_and_can_be_set() {
    use refresh_rotation::clock::SystemClock;
    use refresh_rotation::directory::InMemoryUserDirectory;
    use refresh_rotation::random::SystemRandom;
    use refresh_rotation::store::InMemoryRefreshTokenStore;
    use refresh_rotation::{ClientRegistry, RefreshTokenKey, RefreshTokenKeys, TokenIssuer};
    use std::sync::Arc;
    let build = || {
        TokenIssuer::builder(
            "eu-west-1",
            TokenSigner::new(key(Algorithm::ES256, "ec-iss", EC)),
            RefreshTokenKeys::new(RefreshTokenKey::new(1, &[1; 32]).unwrap()),
            Arc::new(ClientRegistry::new(
                "eu-west-1_AbC123",
                Arc::new(SystemClock),
                Arc::new(SystemRandom::new()),
            )),
            Arc::new(InMemoryRefreshTokenStore::new()),
            Arc::new(InMemoryUserDirectory::new()),
        )
    };
    assert_eq!(
        build().build().issuer_url(),
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
    );
    assert_eq!(
        build()
            .issuer_url("https://auth.example.com/pool")
            .build()
            .issuer_url(),
        "https://auth.example.com/pool"
    );
}

// ---------------------------------------------------------------- R-SAFE-8: verifier bounds

/// `n` copies of the Ed25519 fixture's public JWK, with kids `k0`, `k1`, ...
fn ed_keys(n: usize) -> Vec<Jwk> {
    let ed = key(Algorithm::EdDSA, "k0", ED);
    (0..n)
        .map(|i| Jwk {
            kid: Some(format!("k{i}")),
            ..ed.public_jwk().clone()
        })
        .collect()
}

fn invalid_parameter(r: Result<JwtVerifier, Error>) -> String {
    match r {
        Err(Error::InvalidParameter { message }) => message,
        other => panic!("expected InvalidParameter, got {other:?}"),
    }
}

#[test]
fn r_safe_8_a_jwks_of_more_than_100_keys_is_refused_before_any_key_is_decoded() {
    assert_eq!(MAX_JWKS_KEYS, 100);
    // 100 keys are accepted, and a token is found by the kid of the last one.
    let set = JwkSet {
        keys: ed_keys(MAX_JWKS_KEYS),
    };
    let v = JwtVerifier::new(ISS, &set).unwrap();
    assert_eq!(v.kids().count(), 100);
    assert_eq!(v.kids().last(), Some("k99"), "kids in JWKS order");
    let token = key(Algorithm::EdDSA, "k99", ED)
        .sign_jwt(&access_claims(T0))
        .unwrap();
    v.verify_access_token(&token, CLIENT, at(T0), &NoRevocationCheck)
        .unwrap();
    let unknown = key(Algorithm::EdDSA, "k100", ED)
        .sign_jwt(&access_claims(T0))
        .unwrap();
    assert_eq!(
        reason(
            v.verify_access_token(&unknown, CLIENT, at(T0), &NoRevocationCheck)
                .unwrap_err()
        ),
        INVALID_ACCESS
    );

    // 101 keys are refused for their number, even when the first is malformed: nothing was decoded.
    let mut keys = ed_keys(MAX_JWKS_KEYS + 1);
    keys[0].x = Some("!!".into());
    let message = invalid_parameter(JwtVerifier::new(ISS, &JwkSet { keys }));
    assert_eq!(message, "JWKS has 101 keys; at most 100 are accepted");
    // Keys the verifier would ignore count too.
    let mut keys = ed_keys(1);
    keys.extend((0..MAX_JWKS_KEYS).map(|i| Jwk {
        kty: "oct".into(),
        kid: Some(format!("h{i}")),
        ..Jwk::default()
    }));
    assert!(invalid_parameter(JwtVerifier::new(ISS, &JwkSet { keys })).contains("101 keys"));
}

#[test]
fn r_safe_8_a_member_longer_than_an_rsa_8192_modulus_is_refused_before_decoding() {
    assert_eq!(MAX_JWK_MEMBER_LEN, 1367);
    // The bound itself: an RSA-8192 modulus with a leading zero byte, base64url, is 1367 characters,
    // and is accepted.
    let modulus: Vec<u8> = [&[0u8][..], &[0xc5; 1024][..]].concat();
    let n = URL_SAFE_NO_PAD.encode(&modulus);
    assert_eq!(n.len(), MAX_JWK_MEMBER_LEN);
    let rsa_8192 = Jwk {
        kty: "RSA".into(),
        kid: Some("rsa-8192".into()),
        n: Some(n),
        e: Some("AQAB".into()),
        ..Jwk::default()
    };
    let v = JwtVerifier::new(
        ISS,
        &JwkSet {
            keys: vec![rsa_8192.clone()],
        },
    )
    .unwrap();
    assert_eq!(v.kids().collect::<Vec<_>>(), ["rsa-8192"]);

    // One character more, in any member of any key, usable or ignored, is refused by size, not
    // reported as bad base64url: it was never decoded.
    let long = "!".repeat(MAX_JWK_MEMBER_LEN + 1);
    type Mutation = fn(&mut Jwk, String);
    let mutations: [(&str, Mutation); 9] = [
        ("n", |k, v| k.n = Some(v)),
        ("e", |k, v| k.e = Some(v)),
        ("x", |k, v| k.x = Some(v)),
        ("y", |k, v| k.y = Some(v)),
        ("crv", |k, v| k.crv = Some(v)),
        ("kid", |k, v| k.kid = Some(v)),
        ("alg", |k, v| k.alg = Some(v)),
        ("use", |k, v| k.key_use = Some(v)),
        ("kty", |k, v| k.kty = v),
    ];
    for (name, mutate) in mutations {
        let mut keys = ed_keys(2);
        mutate(&mut keys[1], long.clone());
        let message = invalid_parameter(JwtVerifier::new(ISS, &JwkSet { keys }));
        assert_eq!(
            message,
            format!("JWKS key #1: `{name}` is longer than 1367 bytes"),
            "{name}"
        );
        assert!(
            !message.contains("!!!"),
            "the oversized value is not echoed"
        );
    }
    // A retired key added to a signer is held to the same bound.
    let mut signer = TokenSigner::new(key(Algorithm::EdDSA, "ed-1", ED));
    let mut big = rsa_8192;
    big.e = Some(long);
    assert!(matches!(
        signer.add_retired_key(big),
        Err(Error::InvalidParameter { .. })
    ));
}

#[test]
fn r_safe_8_leeway_is_capped_at_300_seconds() {
    assert_eq!(MAX_LEEWAY_SECS, 300);
    let signer = TokenSigner::new(key(Algorithm::EdDSA, "ed-1", ED));
    let base = signer.verifier(ISS).unwrap();
    assert_eq!(base.leeway(), DEFAULT_LEEWAY_SECS);
    for (asked, got) in [
        (0, 0),
        (5, 5),
        (300, 300),
        (301, 300),
        (86_400, 300),
        (u64::MAX, 300),
    ] {
        assert_eq!(base.clone().with_leeway(asked).leeway(), got, "{asked}");
    }
    // The cap applies to exp and to iat alike.
    let token = signer.sign_access_token(&access_claims(T0)).unwrap();
    let exp = T0 + 3600;
    let v = base.with_leeway(10_000);
    let check = |now: i64| v.verify_access_token(&token, CLIENT, at(now), &NoRevocationCheck);
    check(exp + 299).unwrap();
    assert_eq!(
        reason(check(exp + 300).unwrap_err()),
        "Access Token has expired"
    );
    check(T0 - 300).unwrap();
    assert_eq!(reason(check(T0 - 301).unwrap_err()), INVALID_ACCESS);
}

#[test]
fn r_safe_8_a_verifier_from_jwks_json_bounds_the_document_before_parsing() {
    assert_eq!(MAX_JWKS_JSON_LEN, 256 * 1024);
    let signer = TokenSigner::with_keys(
        key(Algorithm::RS256, "rsa-a", RSA_A),
        key(Algorithm::EdDSA, "ed-1", ED),
    )
    .unwrap();
    let served = signer.jwks_json();
    let v = JwtVerifier::from_jwks_json(ISS, served.as_bytes()).unwrap();
    assert_eq!(v.kids().collect::<Vec<_>>(), ["rsa-a", "ed-1"]);
    let empty = BTreeMap::new();
    let id = signer.sign_id_token(&id_claims(T0, &empty)).unwrap();
    v.verify_id_token(&id, CLIENT, at(T0), &NoRevocationCheck)
        .unwrap();
    // Members the crate does not use (a certificate chain, key operations) are skipped.
    let mut doc: Value = serde_json::from_str(&served).unwrap();
    doc["keys"][0]["x5c"] = json!(["MIIC".repeat(400)]);
    doc["keys"][0]["key_ops"] = json!(["verify"]);
    JwtVerifier::from_jwks_json(ISS, doc.to_string().as_bytes()).unwrap();

    // A valid document padded past the bound with whitespace: refused for its size alone.
    let mut padded = served.clone().into_bytes();
    padded.resize(MAX_JWKS_JSON_LEN + 1, b' ');
    assert_eq!(
        invalid_parameter(JwtVerifier::from_jwks_json(ISS, &padded)),
        "JWKS document is 262145 bytes; at most 262144 are accepted"
    );
    padded.truncate(MAX_JWKS_JSON_LEN);
    JwtVerifier::from_jwks_json(ISS, &padded).unwrap();

    // Not a JWKS: the position is given, the content is not echoed.
    for bad in [
        r#"{"keys": "S3cretMarker"}"#,
        r#"{"keys": [{"kid": "S3cretMarker"}]}"#,
        "S3cretMarker",
        "",
    ] {
        let message = invalid_parameter(JwtVerifier::from_jwks_json(ISS, bad.as_bytes()));
        assert!(
            message.starts_with("JWKS document is not a JSON Web Key Set"),
            "{message}"
        );
        assert!(!message.contains("S3cretMarker"), "{message}");
    }
    // The key-count bound holds here too.
    let many = serde_json::to_string(&JwkSet {
        keys: ed_keys(MAX_JWKS_KEYS + 1),
    })
    .unwrap();
    assert!(
        invalid_parameter(JwtVerifier::from_jwks_json(ISS, many.as_bytes()))
            .contains("at most 100")
    );
}

#[test]
fn r_jwt_5_the_crates_jwks_is_read_alike_by_an_independent_implementation() {
    let signer = TokenSigner::with_keys(
        key(Algorithm::RS256, "rsa-a", RSA_A),
        key(Algorithm::ES256, "ec-1", EC),
    )
    .unwrap();
    let mut signer = signer;
    signer
        .add_retired_key(key(Algorithm::EdDSA, "ed-1", ED).public_jwk().clone())
        .unwrap();
    let json = signer.jwks_json();
    let theirs: jsonwebtoken::jwk::JwkSet = serde_json::from_str(&json).unwrap();
    let kids: Vec<_> = theirs
        .keys
        .iter()
        .map(|k| k.common.key_id.clone().unwrap())
        .collect();
    assert_eq!(kids, ["rsa-a", "ec-1", "ed-1"]);
    // And back: what jsonwebtoken writes, the crate reads as the same keys.
    let back: JwkSet = serde_json::from_str(&serde_json::to_string(&theirs).unwrap()).unwrap();
    assert_eq!(back, signer.jwks());
}

/// R-SAFE-8 / R-JWT-5: re-publishing a removed key through `add_retired_key` must respect the JWKS bound,
/// or the pool's own JWKS stops loading in any verifier (introspection included).
#[test]
fn r_safe_8_republishing_a_removed_key_cannot_exceed_the_jwks_bound() {
    let ed = |kid: String| Arc::new(SigningKey::generate(Algorithm::EdDSA, kid).unwrap());
    let mut signer = TokenSigner::new(ed("k0".into()));
    // Fill the JWKS to the bound: 1 current + 99 staged.
    for i in 1..MAX_JWKS_KEYS {
        signer.add_key(ed(format!("k{i}"))).unwrap();
    }
    assert_eq!(signer.jwks().keys.len(), MAX_JWKS_KEYS);
    // Retire and remove one: 99 published, one removed.
    let gone = format!("k{}", MAX_JWKS_KEYS - 1);
    let gone_jwk = signer.jwks().find(&gone).unwrap().clone();
    signer.retire(&gone).unwrap();
    assert_eq!(signer.remove_key(&gone), Ok(true));
    // A new key takes the freed place: 100 published again.
    signer.add_key(ed("fresh".into())).unwrap();
    assert_eq!(signer.jwks().keys.len(), MAX_JWKS_KEYS);
    // Publishing the removed key again would make 101: it must be refused...
    let r = signer.add_retired_key(gone_jwk);
    let n = signer.jwks().keys.len();
    let v = signer.verifier("https://issuer.example");
    // ...and a verifier must still load the JWKS.
    assert!(
        r.is_err() && n <= MAX_JWKS_KEYS && v.is_ok(),
        "add_retired_key -> {r:?}; JWKS now has {n} keys; verifier() -> {:?}",
        v.err()
    );
}

/// R-SAFE-8 / R-JWT-5: the signer never publishes a JWKS larger than a verifier parses
/// (`JwtVerifier::from_jwks_json`, at most `MAX_JWKS_JSON_LEN` bytes), though each key is within the
/// member bound: retired keys' kids of control characters, six bytes each once written, reach it long
/// before `MAX_JWKS_KEYS` keys. The key that would cross it is refused, changing nothing.
#[test]
fn r_safe_8_the_signers_jwks_stays_within_what_a_verifier_parses() {
    let rsa = key(Algorithm::RS256, "rsa-a", RSA_A);
    let mut signer = TokenSigner::new(key(Algorithm::EdDSA, "current", ED));
    let mut refused = None;
    for i in 0..MAX_JWKS_KEYS {
        let mut jwk = rsa.public_jwk().clone();
        let mut kid = format!("{i:03}");
        kid.push_str(&"\u{1}".repeat(MAX_JWK_MEMBER_LEN - 3));
        jwk.kid = Some(kid);
        if let Err(e) = signer.add_retired_key(jwk) {
            refused = Some((i, e));
            break;
        }
    }
    let (at, e) = refused.expect("a key past the JSON bound was published");
    assert!(at < MAX_JWKS_KEYS - 1, "refused only at key {at}");
    assert!(e.to_string().contains("bytes"), "{e}");
    assert_eq!(
        signer.jwks().keys.len(),
        at + 1,
        "the refused key was published"
    );
    let json = signer.jwks_json();
    assert!(json.len() <= MAX_JWKS_JSON_LEN, "{} bytes", json.len());
    JwtVerifier::from_jwks_json(ISS, json.as_bytes()).unwrap();
}

/// R-JWT-5: every key of the JWKS carries `kid`, `kty`, `alg` and `use` = `sig`, retired keys included.
#[test]
fn r_jwt_5_a_retired_key_added_back_is_published_with_alg_and_use() {
    let current = Arc::new(SigningKey::generate(Algorithm::EdDSA, "current").unwrap());
    let old = SigningKey::generate(Algorithm::ES256, "old").unwrap();
    // The retired key as a host may list it in its configuration: kty, kid and the key parameters.
    let mut jwk = old.public_jwk().clone();
    jwk.alg = None;
    jwk.key_use = None;
    let mut signer = TokenSigner::new(current);
    signer.add_retired_key(jwk).unwrap();
    let published = signer.jwks();
    let entry = published.find("old").unwrap();
    assert_eq!(
        (entry.alg.as_deref(), entry.key_use.as_deref()),
        (Some("ES256"), Some("sig")),
        "published: {}",
        signer.jwks_json()
    );
    // Written either way, it is the same key: removed and listed again without `alg` and `use`, it is
    // accepted, as the same key under its kid.
    let bare = {
        let mut j = old.public_jwk().clone();
        j.alg = None;
        j.key_use = None;
        j
    };
    assert!(signer.remove_retired_key("old"));
    signer.add_retired_key(bare).unwrap();
    assert!(signer.jwks().find("old").is_some());
    // One that names another algorithm or another use is not this key's JWK: refused.
    for (alg, key_use) in [(Some("RS256"), None), (None, Some("enc"))] {
        let mut j = old.public_jwk().clone();
        j.kid = Some("other".into());
        j.alg = alg.map(str::to_owned);
        j.key_use = key_use.map(str::to_owned);
        assert!(signer.add_retired_key(j).is_err(), "{alg:?} {key_use:?}");
    }
}

/// R-JWT-6 (the verifier's order of refusals): an expired token is "expired" even when it also carries
/// an `nbf` that is not an integer; the `nbf` is judged with the times, after `exp`.
#[test]
fn r_jwt_6_an_expired_token_with_a_non_integer_nbf_is_expired() {
    let signer = TokenSigner::new(key(Algorithm::ES256, "ec-1", EC));
    let verifier = signer.verifier(ISS).unwrap();
    let mut claims = serde_json::to_value(access_claims(T0)).unwrap();
    claims["nbf"] = serde_json::json!(T0 as f64 + 0.5);
    let t = signer.access_key().sign_jwt(&claims).unwrap();
    let exp = claims["exp"].as_i64().unwrap();
    let e = verifier
        .verify_access_token(&t, CLIENT, at(exp + 1), &NoRevocationCheck)
        .unwrap_err();
    assert_eq!(reason(e), "Access Token has expired");
    // Not yet expired, the non-integer `nbf` is refused.
    let e = verifier
        .verify_access_token(&t, CLIENT, at(T0 + 1), &NoRevocationCheck)
        .unwrap_err();
    assert_eq!(reason(e), "Invalid Access Token");
}

// ---------------------------------------------------------------- bounds and rules a mutation round found unpinned

/// R-SAFE-1: the bound on a token's length is inclusive: a genuine token of exactly `MAX_TOKEN_LEN`
/// bytes verifies (the issuer signs tokens up to that length).
#[test]
fn r_safe_1_a_token_of_exactly_16_kib_verifies() {
    let signer = TokenSigner::new(key(Algorithm::EdDSA, "ed-1", ED));
    let verifier = signer.verifier(ISS).unwrap();
    let sized = |pad: usize| {
        let mut extra = Map::new();
        extra.insert("pad".into(), Value::from("x".repeat(pad)));
        signer
            .sign_access_token(&AccessTokenClaims {
                extra: Some(&extra),
                ..access_claims(T0)
            })
            .unwrap()
    };
    let token = (11_000..13_000)
        .map(sized)
        .find(|t| t.len() == MAX_TOKEN_LEN)
        .expect("a token of exactly MAX_TOKEN_LEN bytes");
    verifier
        .verify_access_token(&token, CLIENT, at(T0), &NoRevocationCheck)
        .unwrap();
}

/// R-JWT-6: the RSA exponents a verifier takes are the odd ones from 3 to 2^33 - 1, both ends
/// included (ring's range), by `JwtVerifier::new` and by `add_retired_key` alike.
#[test]
fn r_jwt_6_rsa_exponents_from_3_to_2_pow_33_minus_1_are_taken() {
    let rsa = key(Algorithm::RS256, "rsa-a", RSA_A).public_jwk().clone();
    let exponents: [(&str, &[u8]); 3] = [
        ("rsa-e-3", &[3]),
        ("rsa-e-2^32+1", &[1, 0, 0, 0, 1]),
        ("rsa-e-2^33-1", &[1, 0xff, 0xff, 0xff, 0xff]),
    ];
    for (kid, e) in exponents {
        let jwk = Jwk {
            kid: Some(kid.into()),
            e: Some(URL_SAFE_NO_PAD.encode(e)),
            ..rsa.clone()
        };
        let v = JwtVerifier::new(
            ISS,
            &JwkSet {
                keys: vec![jwk.clone()],
            },
        )
        .unwrap();
        assert_eq!(v.kids().collect::<Vec<_>>(), [kid]);
        let mut signer = TokenSigner::new(key(Algorithm::EdDSA, "current", ED));
        signer.add_retired_key(jwk).unwrap();
        assert!(signer.jwks().find(kid).is_some(), "{kid}");
    }
}

/// R-SAFE-8: a retired key added to a signer is held to the member bound in its kid too (a kid is
/// never decoded, so only the bound catches it): published, it would make the signer's own JWKS one
/// that no verifier loads. A kid of exactly the bound is taken.
#[test]
fn r_safe_8_a_retired_key_whose_kid_is_longer_than_the_member_bound_is_refused() {
    let rsa = key(Algorithm::RS256, "rsa-a", RSA_A).public_jwk().clone();
    let mut signer = TokenSigner::new(key(Algorithm::EdDSA, "current", ED));
    let long = Jwk {
        kid: Some("k".repeat(MAX_JWK_MEMBER_LEN + 1)),
        ..rsa.clone()
    };
    assert!(matches!(
        signer.add_retired_key(long),
        Err(Error::InvalidParameter { .. })
    ));
    assert_eq!(signer.jwks().keys.len(), 1, "nothing published");
    let at_bound = Jwk {
        kid: Some("k".repeat(MAX_JWK_MEMBER_LEN)),
        ..rsa
    };
    signer.add_retired_key(at_bound).unwrap();
    assert_eq!(signer.jwks().keys.len(), 2);
    signer.verifier(ISS).unwrap();
    JwtVerifier::from_jwks_json(ISS, signer.jwks_json().as_bytes()).unwrap();
}

/// R-SAFE-4: the leeway is added to `exp`, `iat` and `nbf` without overflow: a genuine token whose
/// `exp` is the last representable second verifies up to the second before it, with any leeway, and
/// is expired at it (not a panic, not an expiry wrapped around into the past).
#[test]
fn r_safe_4_times_at_the_end_of_the_clock_do_not_overflow_with_a_leeway() {
    let signer = TokenSigner::new(key(Algorithm::ES256, "ec-1", EC));
    let mut claims = serde_json::to_value(access_claims(T0)).unwrap();
    claims["exp"] = json!(i64::MAX);
    claims["nbf"] = json!(T0);
    let t = signer.access_key().sign_jwt(&claims).unwrap();
    for leeway in [0, 5, MAX_LEEWAY_SECS] {
        let v = signer.verifier(ISS).unwrap().with_leeway(leeway);
        for now in [T0, i64::MAX - 1] {
            v.verify_access_token(&t, CLIENT, at(now), &NoRevocationCheck)
                .unwrap_or_else(|e| panic!("leeway {leeway}, now {now}: {e:?}"));
        }
        assert_eq!(
            reason(
                v.verify_access_token(&t, CLIENT, at(i64::MAX), &NoRevocationCheck)
                    .unwrap_err()
            ),
            "Access Token has expired"
        );
    }
}

/// R-JWT-1: a kid is 1 to 128 characters, both ends included: a key with a kid of 128 characters
/// loads, and its tokens name it and verify.
#[test]
fn r_jwt_1_a_kid_of_128_characters_is_taken_and_129_are_not() {
    let kid = "k".repeat(128);
    let k = key(Algorithm::EdDSA, &kid, ED);
    let signer = TokenSigner::new(k);
    let token = signer.sign_access_token(&access_claims(T0)).unwrap();
    assert_eq!(segments(&token).0["kid"], kid.as_str());
    signer
        .verifier(ISS)
        .unwrap()
        .verify_access_token(&token, CLIENT, at(T0), &NoRevocationCheck)
        .unwrap();
    assert!(SigningKey::from_pkcs8_pem(Algorithm::EdDSA, "k".repeat(129), ED).is_err());
}

/// R-SAFE-1: PEM text is read up to 64 KiB, both ends included (text after the first block is
/// ignored); longer text is refused for its size, before it is searched.
#[test]
fn r_safe_1_pem_text_is_read_up_to_64_kib() {
    const MAX_PEM_LEN: usize = 64 * 1024;
    let mut pem = EC.to_owned();
    pem.push_str(&"\n".repeat(MAX_PEM_LEN - pem.len()));
    assert_eq!(pem.len(), MAX_PEM_LEN);
    SigningKey::from_pkcs8_pem(Algorithm::ES256, "ec-1", &pem).unwrap();
    pem.push('\n');
    let e = SigningKey::from_pkcs8_pem(Algorithm::ES256, "ec-1", &pem).unwrap_err();
    assert!(e.to_string().contains("larger than 64 KiB"), "{e}");
}

/// R-JWT-1: an encrypted PEM is refused as encrypted, so that the operator knows to decrypt it: a
/// PKCS#8 `ENCRYPTED PRIVATE KEY` and a legacy one with RFC 1421 headers (`Proc-Type`, as
/// `openssl rsa -des3` writes it) alike, for every algorithm.
#[test]
fn r_jwt_1_an_encrypted_pem_is_refused_as_encrypted() {
    let legacy = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\
                  DEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\nAAAA\n\
                  -----END RSA PRIVATE KEY-----\n";
    let pkcs8 =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
    for pem in [legacy, pkcs8] {
        for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
            let e = SigningKey::from_pkcs8_pem(alg, "k", pem).unwrap_err();
            assert!(
                e.to_string().contains("encrypted PEM is not supported"),
                "{alg}: {e}"
            );
        }
    }
}

/// R-JWT-1: RS256 signs with RSA keys of 2048 to 4096 bits, both ends included: a 4096-bit key loads,
/// signs 512-byte signatures, and its tokens verify, by the crate and independently.
#[test]
fn r_jwt_1_a_4096_bit_rsa_key_signs_and_its_tokens_verify() {
    let k = key(Algorithm::RS256, "rsa-4096", RSA_4096);
    assert_eq!(k.signature_len(), 512);
    let signer = TokenSigner::new(k);
    let now = real_now();
    let token = signer.sign_access_token(&access_claims(now)).unwrap();
    assert_eq!(segments(&token).2.len(), 512);
    signer
        .verifier(ISS)
        .unwrap()
        .verify_access_token(&token, CLIENT, at(now), &NoRevocationCheck)
        .unwrap();
    independent_verify(
        &signer.jwks_json(),
        &token,
        Algorithm::RS256,
        TokenUse::Access,
    )
    .unwrap();
}

/// R-OPS-4, R-SAFE-8: with the JWKS at its bound of keys, a key it already publishes can still be put
/// to use (a staged key rotated in) or published again as retired: it adds nothing to the JWKS.
#[test]
fn r_ops_4_a_full_jwks_still_takes_a_key_it_already_publishes() {
    let ed = |kid: String| Arc::new(SigningKey::generate(Algorithm::EdDSA, kid).unwrap());
    let mut signer = TokenSigner::new(ed("k0".into()));
    let staged: Vec<_> = (1..MAX_JWKS_KEYS).map(|i| ed(format!("k{i}"))).collect();
    for k in &staged {
        signer.add_key(Arc::clone(k)).unwrap();
    }
    assert_eq!(signer.jwks().keys.len(), MAX_JWKS_KEYS);
    assert!(signer.add_key(ed("new".into())).is_err(), "full");
    signer.rotate_id_key(Arc::clone(&staged[0])).unwrap();
    signer.rotate_access_key(Arc::clone(&staged[1])).unwrap();
    let retired: Vec<_> = signer
        .retired_keys()
        .iter()
        .map(|k| k.kid.clone())
        .collect();
    assert_eq!(retired, [Some("k0".to_owned())]);
    assert_eq!(signer.jwks().keys.len(), MAX_JWKS_KEYS);
    let k0 = signer.retired_keys()[0].clone();
    signer.add_retired_key(k0).unwrap();
    assert_eq!(signer.jwks().keys.len(), MAX_JWKS_KEYS);
    signer.verifier(ISS).unwrap();
}

/// R-SAFE-8: the JSON bound on the signer's JWKS is inclusive: a retired key that brings the JWKS to
/// exactly `MAX_JWKS_JSON_LEN` bytes is published (and the JWKS loads), one that would bring it a byte
/// past is refused.
#[test]
fn r_safe_8_a_jwks_of_exactly_the_json_bound_is_published() {
    let rsa = key(Algorithm::RS256, "rsa-a", RSA_A).public_jwk().clone();
    let with_kid = |kid: String| Jwk {
        kid: Some(kid),
        ..rsa.clone()
    };
    // The JWKS's JSON length with `jwk` added.
    let len_with = |signer: &TokenSigner, jwk: &Jwk| {
        let mut set = signer.jwks();
        set.keys.push(jwk.clone());
        serde_json::to_string(&set).unwrap().len()
    };
    // A control character is six bytes of JSON (`\u0001`), a letter one; a kid holds at most
    // MAX_JWK_MEMBER_LEN bytes. Ten bytes of the kid are kept for its prefix and the letters.
    let most_controls = MAX_JWK_MEMBER_LEN - 10;
    let mut signer = TokenSigner::new(key(Algorithm::EdDSA, "current", ED));
    for i in 0..MAX_JWKS_KEYS {
        let prefix = format!("{i:03}");
        let room = MAX_JWKS_JSON_LEN - len_with(&signer, &with_kid(prefix.clone()));
        if room / 6 > most_controls {
            // Not the last key yet: one that leaves room for more.
            let kid = prefix + &"\u{1}".repeat(most_controls - 10);
            signer.add_retired_key(with_kid(kid)).unwrap();
            continue;
        }
        let kid = prefix + &"\u{1}".repeat(room / 6) + &"a".repeat(room % 6);
        let e = signer
            .add_retired_key(with_kid(format!("{kid}a")))
            .unwrap_err();
        assert!(e.to_string().contains("bytes"), "{e}");
        signer.add_retired_key(with_kid(kid)).unwrap();
        let json = signer.jwks_json();
        assert_eq!(json.len(), MAX_JWKS_JSON_LEN);
        JwtVerifier::from_jwks_json(ISS, json.as_bytes()).unwrap();
        return;
    }
    panic!("the JWKS never came near its JSON bound");
}

/// R-OPS-4, R-JWT-5: a key is retired once, however it came to be: promoting a staged key over a key
/// that signed both kinds retires that key once, and publishing or retiring a retired key again
/// changes nothing.
#[test]
fn r_ops_4_a_key_is_retired_once() {
    let a = key(Algorithm::RS256, "A", RSA_A);
    let mut signer = TokenSigner::new(Arc::clone(&a));
    signer.add_key(key(Algorithm::ES256, "S", EC)).unwrap();
    signer.promote("S").unwrap();
    let retired = |s: &TokenSigner| {
        s.retired_keys()
            .iter()
            .map(|k| k.kid.clone().unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(retired(&signer), ["A"]);
    signer.add_retired_key(a.public_jwk().clone()).unwrap();
    signer.retire("A").unwrap();
    assert_eq!(retired(&signer), ["A"]);
    assert!(signer.remove_retired_key("A"));
    assert_eq!(signer.jwks().keys.len(), 1);
}

/// R-OPS-4: promoting the key that already signs both kinds changes nothing; promoting the key that
/// signs one kind retires only the other. A current key is never listed as retired (a host removes
/// retired keys, and removing one would unpublish a key that signs).
#[test]
fn r_ops_4_promoting_a_current_key_retires_only_the_key_it_replaces() {
    let mut signer = TokenSigner::new(key(Algorithm::RS256, "A", RSA_A));
    signer.promote("A").unwrap();
    assert!(signer.retired_keys().is_empty());
    assert!(!signer.remove_retired_key("A"));
    assert_eq!(signer.jwks().keys.len(), 1);

    let mut signer = TokenSigner::with_keys(
        key(Algorithm::RS256, "A", RSA_A),
        key(Algorithm::ES256, "B", EC),
    )
    .unwrap();
    signer.promote("A").unwrap();
    assert_eq!(signer.access_key().kid(), "A");
    let retired: Vec<_> = signer
        .retired_keys()
        .iter()
        .map(|k| k.kid.clone())
        .collect();
    assert_eq!(retired, [Some("B".to_owned())]);
}

/// R-OPS-4, R-JWT-5: a kid removed from the JWKS is never given to a key again, whether it was removed
/// staged or retired, and the removed key itself signs no more through a rotation; only
/// `add_retired_key` may publish the same key again, as retired.
#[test]
fn r_jwt_5_a_removed_kid_stays_taken_whatever_state_it_was_removed_from() {
    let a = key(Algorithm::RS256, "A", RSA_A);
    let s = key(Algorithm::ES256, "S", EC);
    let mut signer = TokenSigner::new(Arc::clone(&a));
    // Removed while staged.
    signer.add_key(Arc::clone(&s)).unwrap();
    assert_eq!(signer.remove_key("S"), Ok(true));
    assert_eq!(signer.jwks().keys.len(), 1);
    assert!(signer.add_key(Arc::clone(&s)).is_err());
    assert!(signer.add_key(key(Algorithm::EdDSA, "S", ED)).is_err());
    assert!(signer.rotate_id_key(Arc::clone(&s)).is_err());
    assert!(signer.rotate_access_key(Arc::clone(&s)).is_err());
    assert!(signer
        .rotate_id_key(key(Algorithm::EdDSA, "S", ED))
        .is_err());
    assert!(signer.promote("S").is_err());
    // Removed once retired.
    signer.add_key(key(Algorithm::RS256, "B", RSA_B)).unwrap();
    signer.promote("B").unwrap();
    assert_eq!(signer.remove_key("A"), Ok(true));
    assert!(signer.rotate_id_key(Arc::clone(&a)).is_err());
    assert!(signer.rotate_access_key(Arc::clone(&a)).is_err());
    assert!(signer.add_key(Arc::clone(&a)).is_err());
    assert_eq!(
        (signer.id_key().kid(), signer.access_key().kid()),
        ("B", "B"),
        "nothing changed"
    );
    assert_eq!(signer.jwks().keys.len(), 1);
    // The same keys may be published again as retired.
    signer.add_retired_key(s.public_jwk().clone()).unwrap();
    signer.add_retired_key(a.public_jwk().clone()).unwrap();
    assert_eq!(signer.jwks().keys.len(), 3);
}

/// R-JWT-2, R-JWT-3 (R-REF-11): a signed token takes no claim the issuer owns from `extra`, through
/// the writer the signer uses and not only the `Serialize` impl: each is written once, with the
/// issuer's value, and the token verifies.
#[test]
fn r_jwt_2_signed_tokens_skip_owned_names_in_extra() {
    let signer = TokenSigner::new(key(Algorithm::EdDSA, "ed-1", ED));
    let verifier = signer.verifier(ISS).unwrap();
    let extra_of = |owned: &[&str]| {
        let mut extra: Map<String, Value> = PROTECTED_CLAIMS
            .iter()
            .chain(owned)
            .chain(&["nbf", "amr", "cognito:roles", "cognito:other"])
            .map(|n| ((*n).to_owned(), Value::from("evil")))
            .collect();
        extra.insert("tenant".into(), json!(7));
        extra
    };
    let access_extra = extra_of(&[
        "cognito:groups",
        "device_key",
        "event_id",
        "scope",
        "username",
        "version",
    ]);
    let id_extra = extra_of(&["cognito:groups", "cognito:username", "event_id"]);
    let empty = BTreeMap::new();
    let access = signer
        .sign_access_token(&AccessTokenClaims {
            extra: Some(&access_extra),
            ..access_claims(T0)
        })
        .unwrap();
    let id = signer
        .sign_id_token(&IdTokenClaims {
            extra: Some(&id_extra),
            ..id_claims(T0, &empty)
        })
        .unwrap();
    for (token, use_) in [(&access, TokenUse::Access), (&id, TokenUse::Id)] {
        let payload = URL_SAFE_NO_PAD
            .decode(token.split('.').nth(1).unwrap())
            .unwrap();
        let text = String::from_utf8(payload).unwrap();
        assert!(!text.contains("evil"), "{text}");
        let claims = verifier
            .verify(token, use_, CLIENT, at(T0), &NoRevocationCheck)
            .unwrap();
        assert_eq!(claims.get("tenant"), Some(&json!(7)));
    }
}

/// R-JWT-2, R-JWT-3: string claims are written as JSON with each character that needs an escape
/// escaped even when it is the value's only one (U+001F alone, say): the token verifies and reads
/// back the values given, in claim values, group names, and attribute names and values.
#[test]
fn r_jwt_2_each_character_that_needs_an_escape_is_escaped_on_its_own() {
    let signer = TokenSigner::new(key(Algorithm::EdDSA, "ed-1", ED));
    let verifier = signer.verifier(ISS).unwrap();
    for c in (0u8..0x20)
        .map(char::from)
        .chain(['"', '\\', '\u{7f}', 'é'])
    {
        let text = format!("a{c}b");
        let groups = [text.clone()];
        let access = signer
            .sign_access_token(&AccessTokenClaims {
                username: &text,
                groups: &groups,
                ..access_claims(T0)
            })
            .unwrap();
        let claims = verifier
            .verify_access_token(&access, CLIENT, at(T0), &NoRevocationCheck)
            .unwrap_or_else(|e| panic!("{c:?}: {e:?}"));
        assert_eq!(claims.get_str("username"), Some(text.as_str()));
        assert_eq!(claims.get("cognito:groups"), Some(&json!([text])));
        let attributes = attrs(&[(&text, &text)]);
        let id = signer.sign_id_token(&id_claims(T0, &attributes)).unwrap();
        let claims = verifier
            .verify_id_token(&id, CLIENT, at(T0), &NoRevocationCheck)
            .unwrap_or_else(|e| panic!("{c:?}: {e:?}"));
        assert_eq!(claims.get_str(&text), Some(text.as_str()));
    }
}

/// R-JWT-6: an RSA key published with leading zero bytes in its exponent (65537 as `00 01 00 01`) is
/// the same key: the tokens it signed verify.
#[test]
fn r_jwt_6_an_rsa_exponent_with_leading_zero_bytes_verifies() {
    let k = key(Algorithm::RS256, "rsa-padded-e", RSA_A);
    let jwk = Jwk {
        e: Some(URL_SAFE_NO_PAD.encode([0, 1, 0, 1])),
        ..k.public_jwk().clone()
    };
    let token = k.sign_jwt(&access_claims(T0)).unwrap();
    JwtVerifier::new(ISS, &JwkSet { keys: vec![jwk] })
        .unwrap()
        .verify_access_token(&token, CLIENT, at(T0), &NoRevocationCheck)
        .unwrap();
}

/// R-OPS-4: retiring or removing a key that signs now is refused as such, changing nothing, with a
/// message that says to promote another key first.
#[test]
fn r_ops_4_a_key_that_signs_now_is_not_retired_or_removed() {
    let mut signer = TokenSigner::with_keys(
        key(Algorithm::RS256, "A", RSA_A),
        key(Algorithm::ES256, "B", EC),
    )
    .unwrap();
    for kid in ["A", "B"] {
        let e = signer.retire(kid).unwrap_err();
        assert!(e.to_string().contains("promote another key first"), "{e}");
        let e = signer.remove_key(kid).unwrap_err();
        assert!(e.to_string().contains("promote another key first"), "{e}");
    }
    assert!(signer.retired_keys().is_empty());
    assert_eq!(signer.jwks().keys.len(), 2);
}
