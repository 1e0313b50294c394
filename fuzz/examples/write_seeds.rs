//! Writes the seed corpora under `fuzz/seeds/<target>/` from valid inputs of the fuzz world.
//!
//! Run from `fuzz/`: `cargo run --example write_seeds`. The world is deterministic (fixed keys, a seeded
//! random source), so the refresh tokens, client ids and JWTs written here are valid in every fuzz run.

use std::fs;
use std::path::Path;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use refresh_rotation::ClientSecret;
use refresh_rotation_fuzz::{
    valid_jwts, World, BOUND_DEVICE, ISSUER, JWT_CLIENT, POOL, SECRET_B, SECRET_C,
};
use serde_json::json;

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    fs::create_dir_all(&dir).expect("seed dir");
    fs::write(dir.join(name), bytes).expect("seed file");
}

fn with(first: u8, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![first];
    v.extend_from_slice(rest);
    v
}

fn main() {
    let w = World::new(false);
    let c = &w.clients;
    let t = &w.tokens;

    // refresh_token: mode 0 (string), 1 (edits of a valid token), 2 (raw layout); bit 7 runs the issuer.
    for (i, tok) in t.iter().enumerate() {
        write(
            "refresh_token",
            &format!("str-{i}"),
            &with(0x00, tok.as_bytes()),
        );
        write(
            "refresh_token",
            &format!("issuer-{i}"),
            &with(0x80, tok.as_bytes()),
        );
        write(
            "refresh_token",
            &format!("device-{i}"),
            &with(0xe0, tok.as_bytes()),
        );
        let raw = URL_SAFE_NO_PAD.decode(tok).expect("own token");
        write("refresh_token", &format!("raw-{i}"), &with(0x82, &raw));
    }
    write("refresh_token", "edit", &[0x81, 0, 10, b'A', 75, 0]);

    // wire_ops: data[0] % 9 is the operation (see OPS); bits 4..8 device tracking and clock moves.
    let ops: Vec<(u8, serde_json::Value)> = vec![
        (
            0,
            json!({"UserPoolId": POOL, "ClientName": "seed-app", "GenerateSecret": true,
                "RefreshTokenValidity": 10, "AccessTokenValidity": 60, "IdTokenValidity": 60,
                "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
                "ReadAttributes": ["email"], "WriteAttributes": ["email"],
                "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"],
                "SupportedIdentityProviders": ["COGNITO"],
                "CallbackURLs": ["https://example.com/cb", "http://localhost:3000/cb", "myapp://cb"],
                "LogoutURLs": ["https://example.com/out"], "DefaultRedirectURI": "https://example.com/cb",
                "AllowedOAuthFlows": ["code"], "AllowedOAuthScopes": ["openid", "fuzz-api/read"],
                "AllowedOAuthFlowsUserPoolClient": true, "PreventUserExistenceErrors": "ENABLED",
                "EnableTokenRevocation": true, "EnablePropagateAdditionalUserContextData": true,
                "AuthSessionValidity": 5,
                "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 30}}),
        ),
        (
            0,
            json!({"UserPoolId": POOL, "ClientName": "custom-secret", "ClientSecret": "customSecret0123456789abcdef",
                "AnalyticsConfiguration": {"ApplicationId": "abcdef0123", "RoleArn": "arn:aws:iam::123456789012:role/x",
                    "ExternalId": "ext", "UserDataShared": true}}),
        ),
        (
            0,
            json!({"UserPoolId": POOL, "ClientName": "bad", "RefreshTokenRotaton": {}}),
        ),
        (
            1,
            json!({"UserPoolId": POOL, "ClientId": c[0], "ClientName": "renamed",
                "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 60},
                "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH"]}),
        ),
        (1, json!({"UserPoolId": POOL, "ClientId": c[2]})),
        (2, json!({"UserPoolId": POOL, "ClientId": c[1]})),
        (3, json!({"UserPoolId": POOL, "ClientId": c[3]})),
        (4, json!({"UserPoolId": POOL, "MaxResults": 1})),
        (
            4,
            json!({"UserPoolId": POOL, "MaxResults": 2, "ClientType": "REGULAR", "NextToken": "djEKdXMtZWFzdC0xX0Z1enpQb29sCmE"}),
        ),
        (5, json!({"RefreshToken": t[0], "ClientId": c[0]})),
        (
            5,
            json!({"RefreshToken": t[1], "ClientId": c[0], "ClientMetadata": {"tenant": "t1", "iss": "x", "suppress": "1"}}),
        ),
        (
            5,
            json!({"RefreshToken": t[2], "ClientId": c[0], "DeviceKey": BOUND_DEVICE}),
        ),
        (
            5,
            json!({"RefreshToken": t[3], "ClientId": c[1], "ClientSecret": SECRET_B}),
        ),
        (
            5,
            json!({"RefreshToken": t[4], "ClientId": c[2], "ClientSecret": SECRET_C}),
        ),
        (
            5,
            json!({"RefreshToken": t[6], "ClientId": c[3], "ClientMetadata": {"refuse": ""}}),
        ),
        (6, json!({"Token": t[0], "ClientId": c[0]})),
        (
            6,
            json!({"Token": t[3], "ClientId": c[1], "ClientSecret": SECRET_B, "RevokeAssociatedSessions": "LINKED"}),
        ),
        (6, json!({"Token": t[5], "ClientId": c[3]})),
        (
            7,
            json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": c[2],
                "AuthParameters": {"REFRESH_TOKEN": t[4],
                    "SECRET_HASH": ClientSecret::new(SECRET_C).secret_hash("alice", &c[2])}}),
        ),
        (
            7,
            json!({"AuthFlow": "REFRESH_TOKEN", "ClientId": c[3], "AuthParameters": {"REFRESH_TOKEN": t[5]}}),
        ),
        (
            7,
            json!({"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": c[0], "AuthParameters": {"REFRESH_TOKEN": t[0]}}),
        ),
        (
            8,
            json!({"UserPoolId": POOL, "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": c[3],
                "AuthParameters": {"REFRESH_TOKEN": t[6], "DEVICE_KEY": BOUND_DEVICE},
                "ClientMetadata": {"k": "v"}, "ContextData": {"IpAddress": "127.0.0.1"}}),
        ),
    ];
    for (i, (op, body)) in ops.iter().enumerate() {
        let body = serde_json::to_vec(body).expect("json");
        write("wire_ops", &format!("op{op}-{i}"), &with(*op, &body));
    }
    // Clock moves and device tracking on a few of them.
    let refresh =
        serde_json::to_vec(&json!({"RefreshToken": t[0], "ClientId": c[0]})).expect("json");
    for sel in [0x25u8, 0x45, 0x85, 0x15, 0xe5] {
        write("wire_ops", &format!("sel-{sel:02x}"), &with(sel, &refresh));
    }

    // jwt_verify: mode 0 (string), 1 (edits), 2 (header 0xff payload, signed), 3 (header over a valid
    // payload, signed), 4 (JWKS).
    let (access, id) = valid_jwts();
    write("jwt_verify", "access", &with(0, access.as_bytes()));
    write("jwt_verify", "id", &with(0, id.as_bytes()));
    write("jwt_verify", "edit-access", &[1, 30, b'x']);
    write("jwt_verify", "edit-id", &[0x81, 5, 0]);
    let payload = json!({"token_use": "id", "iss": ISSUER, "aud": JWT_CLIENT, "sub": "s", "jti": "j",
        "origin_jti": "1", "exp": 1_700_003_600i64, "iat": 1_700_000_000i64, "nbf": 1_700_000_000i64});
    let mut signed = br#"{"alg":"EdDSA","kid":"fuzz-id-key"}"#.to_vec();
    signed.push(0xff);
    signed.extend_from_slice(&serde_json::to_vec(&payload).expect("json"));
    write("jwt_verify", "signed", &with(2, &signed));
    write(
        "jwt_verify",
        "header",
        &with(3, br#"{"alg":"EdDSA","kid":"fuzz-id-key","typ":"JWT"}"#),
    );
    let jwks = refresh_rotation_fuzz::signer().jwks_json();
    write("jwt_verify", "jwks", &with(4, jwks.as_bytes()));
    println!("seeds written");
}
