//! R-CFG: the configuration validation table, boundary values on both sides in every time unit, all
//! violations at once, exception kinds and defaults (SPEC 2.1, 2.2).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use refresh_rotation::clock::{ManualClock, Timestamp};
use refresh_rotation::config::{
    ExplicitAuthFlow, OAuthFlow, PreventUserExistenceErrors, RefreshTokenRotation, TimeUnit,
};
use refresh_rotation::error::ExceptionKind;
use refresh_rotation::random::SystemRandom;
use refresh_rotation::wire::{
    from_json, CreateUserPoolClientRequest, UserPoolClientOperations as _, UserPoolClientType,
};
use refresh_rotation::{AppClientConfig, ClientRegistry, Error};
use serde_json::{json, Value};

const POOL: &str = "us-east-1_Example";
const DECLARED: &str = "api.example.com/read";

fn registry() -> ClientRegistry {
    let r = ClientRegistry::new(
        POOL,
        Arc::new(ManualClock::new(Timestamp::from_unix_seconds(
            1_700_000_000,
        ))),
        Arc::new(SystemRandom::new()),
    );
    r.declare_custom_scope(DECLARED).unwrap();
    r
}

/// A CreateUserPoolClient body: `{UserPoolId, ClientName: "app"}` with `patch`'s members on top (a
/// `null` member removes it).
fn body(patch: &Value) -> Vec<u8> {
    let mut base = json!({"UserPoolId": POOL, "ClientName": "app"});
    for (k, v) in patch.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    serde_json::to_vec(&base).unwrap()
}

fn create(patch: Value) -> Result<UserPoolClientType, Error> {
    let req: CreateUserPoolClientRequest = from_json(&body(&patch))?;
    registry()
        .create_user_pool_client(&req)
        .map(|r| r.user_pool_client.unwrap())
}

enum Expect {
    Ok,
    /// The rule and field of (at least) one violation, and the only rules violated.
    Err(u8, &'static str),
}
use Expect::{Err as Bad, Ok as Good};

fn units(access: &str, id: &str, refresh: &str) -> Value {
    json!({"AccessToken": access, "IdToken": id, "RefreshToken": refresh})
}

fn access(v: i64, unit: &str) -> Value {
    json!({"AccessTokenValidity": v, "TokenValidityUnits": units(unit, "hours", "days")})
}
fn id_token(v: i64, unit: &str) -> Value {
    json!({"IdTokenValidity": v, "TokenValidityUnits": units("hours", unit, "days")})
}
/// Refresh validity with 5-minute access and ID tokens, so that R-CFG-4 does not interfere.
fn refresh(v: i64, unit: &str) -> Value {
    json!({"RefreshTokenValidity": v, "AccessTokenValidity": 5, "IdTokenValidity": 5,
           "TokenValidityUnits": units("minutes", "minutes", unit)})
}

fn run(table: Vec<(&str, Value, Expect)>) {
    let mut failures = Vec::new();
    for (name, patch, expect) in table {
        let got = create(patch.clone());
        match (&expect, &got) {
            (Good, Ok(_)) => {}
            (Bad(rule, field), Err(Error::InvalidConfig(v))) => {
                let only_rule = v.violations().iter().all(|x| x.rule == *rule);
                if !v.has(*rule, field) || !only_rule {
                    failures.push(format!(
                        "{name}: expected R-CFG-{rule} on {field}, got {v:?}"
                    ));
                }
            }
            _ => failures.push(format!("{name}: patch {patch}: got {got:?}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn r_cfg_3_access_token_validity_bounds_in_every_unit() {
    run(vec![
        ("300 seconds", access(300, "seconds"), Good),
        (
            "299 seconds",
            access(299, "seconds"),
            Bad(3, "AccessTokenValidity"),
        ),
        ("86400 seconds", access(86_400, "seconds"), Good),
        (
            "86401 seconds (model max)",
            access(86_401, "seconds"),
            Bad(2, "AccessTokenValidity"),
        ),
        ("5 minutes", access(5, "minutes"), Good),
        (
            "4 minutes",
            access(4, "minutes"),
            Bad(3, "AccessTokenValidity"),
        ),
        ("1440 minutes", access(1_440, "minutes"), Good),
        (
            "1441 minutes",
            access(1_441, "minutes"),
            Bad(3, "AccessTokenValidity"),
        ),
        ("1 hour", access(1, "hours"), Good),
        (
            "0 hours (model min)",
            access(0, "hours"),
            Bad(2, "AccessTokenValidity"),
        ),
        ("24 hours", access(24, "hours"), Good),
        (
            "25 hours",
            access(25, "hours"),
            Bad(3, "AccessTokenValidity"),
        ),
        ("1 day", access(1, "days"), Good),
        ("2 days", access(2, "days"), Bad(3, "AccessTokenValidity")),
        ("-1", access(-1, "hours"), Bad(2, "AccessTokenValidity")),
        (
            "i64::MAX",
            access(i64::MAX, "seconds"),
            Bad(2, "AccessTokenValidity"),
        ),
    ]);
}

#[test]
fn r_cfg_3_id_token_validity_bounds_in_every_unit() {
    run(vec![
        ("300 seconds", id_token(300, "seconds"), Good),
        (
            "299 seconds",
            id_token(299, "seconds"),
            Bad(3, "IdTokenValidity"),
        ),
        ("5 minutes", id_token(5, "minutes"), Good),
        (
            "4 minutes",
            id_token(4, "minutes"),
            Bad(3, "IdTokenValidity"),
        ),
        ("1440 minutes", id_token(1_440, "minutes"), Good),
        (
            "1441 minutes",
            id_token(1_441, "minutes"),
            Bad(3, "IdTokenValidity"),
        ),
        ("24 hours", id_token(24, "hours"), Good),
        ("25 hours", id_token(25, "hours"), Bad(3, "IdTokenValidity")),
        ("1 day", id_token(1, "days"), Good),
        ("2 days", id_token(2, "days"), Bad(3, "IdTokenValidity")),
        ("0", id_token(0, "minutes"), Bad(2, "IdTokenValidity")),
    ]);
}

#[test]
fn r_cfg_3_refresh_token_validity_bounds_in_every_unit() {
    run(vec![
        ("3600 seconds", refresh(3_600, "seconds"), Good),
        (
            "3599 seconds",
            refresh(3_599, "seconds"),
            Bad(3, "RefreshTokenValidity"),
        ),
        ("315360000 seconds", refresh(315_360_000, "seconds"), Good),
        (
            "315360001 seconds (model max)",
            refresh(315_360_001, "seconds"),
            Bad(2, "RefreshTokenValidity"),
        ),
        ("60 minutes", refresh(60, "minutes"), Good),
        (
            "59 minutes",
            refresh(59, "minutes"),
            Bad(3, "RefreshTokenValidity"),
        ),
        ("5256000 minutes", refresh(5_256_000, "minutes"), Good),
        (
            "5256001 minutes",
            refresh(5_256_001, "minutes"),
            Bad(3, "RefreshTokenValidity"),
        ),
        ("1 hour", refresh(1, "hours"), Good),
        ("87600 hours", refresh(87_600, "hours"), Good),
        (
            "87601 hours",
            refresh(87_601, "hours"),
            Bad(3, "RefreshTokenValidity"),
        ),
        ("1 day", refresh(1, "days"), Good),
        ("3650 days", refresh(3_650, "days"), Good),
        (
            "3651 days",
            refresh(3_651, "days"),
            Bad(3, "RefreshTokenValidity"),
        ),
        ("0 means 30 days", refresh(0, "days"), Good),
        ("0 hours means 30 days", refresh(0, "hours"), Good),
        ("-1", refresh(-1, "days"), Bad(2, "RefreshTokenValidity")),
    ]);
}

#[test]
fn r_cfg_3_message_is_cognitos() {
    let Err(Error::InvalidConfig(v)) = create(access(4, "minutes")) else {
        panic!("expected a violation")
    };
    assert!(
        v.to_string()
            .starts_with("Invalid range for token validity."),
        "{v}"
    );
    assert!(v.to_string().contains("AccessTokenValidity"), "{v}");
    assert_eq!(v.exception(), ExceptionKind::InvalidParameter);
}

#[test]
fn r_cfg_3_refresh_zero_is_stored_as_thirty_days_in_its_unit() {
    let c = create(refresh(0, "hours")).unwrap();
    assert_eq!(c.refresh_token_validity, Some(720));
    let c = create(json!({"RefreshTokenValidity": 0})).unwrap();
    assert_eq!(c.refresh_token_validity, Some(30));
}

#[test]
fn r_cfg_4_access_and_id_not_longer_than_refresh_compared_in_seconds() {
    run(vec![
        (
            "access 1 day > refresh 60 minutes",
            json!({"AccessTokenValidity": 1, "RefreshTokenValidity": 60,
                   "IdTokenValidity": 5, "TokenValidityUnits": units("days", "minutes", "minutes")}),
            Bad(4, "AccessTokenValidity"),
        ),
        (
            "id 2 hours > refresh 3600 seconds",
            json!({"IdTokenValidity": 2, "RefreshTokenValidity": 3600,
                   "TokenValidityUnits": units("hours", "hours", "seconds")}),
            Bad(4, "IdTokenValidity"),
        ),
        (
            "access 60 minutes == refresh 1 hour",
            json!({"AccessTokenValidity": 60, "IdTokenValidity": 3600, "RefreshTokenValidity": 1,
                   "TokenValidityUnits": units("minutes", "seconds", "hours")}),
            Good,
        ),
        (
            "access 61 minutes > refresh 1 hour",
            json!({"AccessTokenValidity": 61, "RefreshTokenValidity": 1,
                   "TokenValidityUnits": units("minutes", "hours", "hours")}),
            Bad(4, "AccessTokenValidity"),
        ),
    ]);
}

#[test]
fn r_cfg_1_required_members() {
    run(vec![
        (
            "no ClientName",
            json!({"ClientName": null}),
            Bad(1, "ClientName"),
        ),
        (
            "no UserPoolId",
            json!({"UserPoolId": null}),
            Bad(1, "UserPoolId"),
        ),
    ]);
    let Err(Error::InvalidConfig(v)) = create(json!({"ClientName": null})) else {
        panic!()
    };
    assert_eq!(
        v.to_string(),
        "1 validation error detected: Value null at 'ClientName' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn r_cfg_2_model_constraints() {
    let scopes51: Vec<String> = (0..51).map(|_| "openid".to_owned()).collect();
    run(vec![
        (
            "ClientName 128",
            json!({"ClientName": "a".repeat(128)}),
            Good,
        ),
        (
            "ClientName 129",
            json!({"ClientName": "a".repeat(129)}),
            Bad(2, "ClientName"),
        ),
        (
            "ClientName empty",
            json!({"ClientName": ""}),
            Bad(2, "ClientName"),
        ),
        (
            "ClientName pattern",
            json!({"ClientName": "a/b"}),
            Bad(2, "ClientName"),
        ),
        (
            "ClientName allowed chars",
            json!({"ClientName": "My app +=,.@-_ 2"}),
            Good,
        ),
        (
            "UserPoolId pattern",
            json!({"UserPoolId": "nounderscore"}),
            Bad(2, "UserPoolId"),
        ),
        (
            "UserPoolId 56",
            json!({"UserPoolId": format!("us-east-1_{}", "a".repeat(46))}),
            Bad(2, "UserPoolId"),
        ),
        (
            "unit enum",
            json!({"TokenValidityUnits": {"AccessToken": "weeks"}}),
            Bad(2, "TokenValidityUnits.AccessToken"),
        ),
        (
            "unit enum is case-sensitive",
            json!({"TokenValidityUnits": {"RefreshToken": "Days"}}),
            Bad(2, "TokenValidityUnits.RefreshToken"),
        ),
        (
            "PreventUserExistenceErrors enum",
            json!({"PreventUserExistenceErrors": "ON"}),
            Bad(2, "PreventUserExistenceErrors"),
        ),
        (
            "PreventUserExistenceErrors ENABLED",
            json!({"PreventUserExistenceErrors": "ENABLED"}),
            Good,
        ),
        (
            "ExplicitAuthFlows enum",
            json!({"ExplicitAuthFlows": ["ALLOW_MAGIC"]}),
            Bad(2, "ExplicitAuthFlows"),
        ),
        (
            "Feature enum",
            json!({"RefreshTokenRotation": {"Feature": "on"}}),
            Bad(2, "RefreshTokenRotation.Feature"),
        ),
        (
            "ReadAttributes empty member",
            json!({"ReadAttributes": [""]}),
            Bad(2, "ReadAttributes"),
        ),
        (
            "WriteAttributes 2049",
            json!({"WriteAttributes": ["a".repeat(2049)]}),
            Bad(2, "WriteAttributes"),
        ),
        (
            "WriteAttributes 2048",
            json!({"WriteAttributes": ["a".repeat(2048)]}),
            Good,
        ),
        (
            "provider 32",
            json!({"SupportedIdentityProviders": ["a".repeat(32)]}),
            Good,
        ),
        (
            "provider 33",
            json!({"SupportedIdentityProviders": ["a".repeat(33)]}),
            Bad(2, "SupportedIdentityProviders"),
        ),
        (
            "provider with space",
            json!({"SupportedIdentityProviders": ["My IdP", "COGNITO"]}),
            Good,
        ),
        (
            "provider with tab",
            json!({"SupportedIdentityProviders": ["a\tb"]}),
            Bad(2, "SupportedIdentityProviders"),
        ),
        (
            "AllowedOAuthFlows 4",
            json!({"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthScopes": ["openid"],
                   "CallbackURLs": ["https://e.com/cb"], "AllowedOAuthFlows": ["code", "code", "implicit", "code"]}),
            Bad(2, "AllowedOAuthFlows"),
        ),
        (
            "AllowedOAuthFlows enum",
            json!({"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthScopes": ["openid"],
                   "AllowedOAuthFlows": ["password"]}),
            Bad(2, "AllowedOAuthFlows"),
        ),
        (
            "scopes 51",
            json!({"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": ["implicit"],
                   "CallbackURLs": ["https://e.com/cb"], "AllowedOAuthScopes": scopes51}),
            Bad(2, "AllowedOAuthScopes"),
        ),
        (
            "scope pattern",
            json!({"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": ["implicit"],
                   "CallbackURLs": ["https://e.com/cb"], "AllowedOAuthScopes": ["open id"]}),
            Bad(2, "AllowedOAuthScopes"),
        ),
        (
            "callback URL 1025",
            json!({"CallbackURLs": [format!("https://e.com/{}", "a".repeat(1011))]}),
            Bad(2, "CallbackURLs"),
        ),
        (
            "callback URL with space",
            json!({"CallbackURLs": ["https://e.com/a b"]}),
            Bad(2, "CallbackURLs"),
        ),
        (
            "ApplicationId hex",
            json!({"AnalyticsConfiguration": {"ApplicationId": "xyz"}}),
            Bad(2, "AnalyticsConfiguration.ApplicationId"),
        ),
        (
            "RoleArn pattern",
            json!({"AnalyticsConfiguration": {"RoleArn": "not-an-arn-but-long-enough"}}),
            Bad(2, "AnalyticsConfiguration.RoleArn"),
        ),
        (
            "analytics valid",
            json!({"AnalyticsConfiguration": {"ApplicationId": "0123abcdef", "RoleArn": "arn:aws:iam::123456789012:role/pinpoint",
                   "ExternalId": "ext", "UserDataShared": true}}),
            Good,
        ),
    ]);
}

#[test]
fn r_cfg_2_messages_have_the_aws_form() {
    let msg = |patch: Value| match create(patch) {
        Err(e) => e.message(),
        Ok(_) => panic!("expected an error"),
    };
    assert_eq!(
        msg(json!({"ClientName": "a".repeat(129)})),
        format!(
            "1 validation error detected: Value '{}' at 'ClientName' failed to satisfy constraint: Member must have length less than or equal to 128",
            "a".repeat(129)
        )
    );
    assert_eq!(
        msg(json!({"PreventUserExistenceErrors": "ON"})),
        "1 validation error detected: Value 'ON' at 'PreventUserExistenceErrors' failed to satisfy constraint: Member must satisfy enum value set: [LEGACY, ENABLED]"
    );
    assert_eq!(
        msg(json!({"RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 61}})),
        "1 validation error detected: Value '61' at 'RefreshTokenRotation.RetryGracePeriodSeconds' failed to satisfy constraint: Member must have value less than or equal to 60"
    );
    assert_eq!(
        msg(json!({"ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "NOPE"]})),
        "1 validation error detected: Value 'NOPE' at 'ExplicitAuthFlows.2.member' failed to satisfy constraint: Member must satisfy enum value set: [ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY, USER_PASSWORD_AUTH, ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_CUSTOM_AUTH, ALLOW_USER_PASSWORD_AUTH, ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_AUTH, ALLOW_TOKEN_EXCHANGE_DELEGATION, ALLOW_TOKEN_EXCHANGE_IMPERSONATION]"
    );
    assert_eq!(
        msg(json!({"ClientSecret": "short-secret!"})),
        "2 validation errors detected: Value '***' at 'ClientSecret' failed to satisfy constraint: Member must have length greater than or equal to 24; Value '***' at 'ClientSecret' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+]+"
    );
}

#[test]
fn r_cfg_5_secret_rules_and_no_echo() {
    let secret = "s3cr3t".repeat(5); // 30 characters of [\w]
    run(vec![
        (
            "GenerateSecret + ClientSecret",
            json!({"GenerateSecret": true, "ClientSecret": secret}),
            Bad(5, "ClientSecret"),
        ),
        (
            "GenerateSecret false + ClientSecret",
            json!({"GenerateSecret": false, "ClientSecret": secret}),
            Good,
        ),
        (
            "ClientSecret 24",
            json!({"ClientSecret": "a".repeat(24)}),
            Good,
        ),
        (
            "ClientSecret 23",
            json!({"ClientSecret": "a".repeat(23)}),
            Bad(5, "ClientSecret"),
        ),
        (
            "ClientSecret 64",
            json!({"ClientSecret": "a+".repeat(32)}),
            Good,
        ),
        (
            "ClientSecret 65",
            json!({"ClientSecret": "a".repeat(65)}),
            Bad(5, "ClientSecret"),
        ),
        (
            "ClientSecret pattern",
            json!({"ClientSecret": format!("{}-", "a".repeat(30))}),
            Bad(5, "ClientSecret"),
        ),
        (
            "Secrets Manager",
            json!({"GenerateSecret": true, "PublishSecretsInAWSSecretsManager": true}),
            Bad(5, "PublishSecretsInAWSSecretsManager"),
        ),
        (
            "Secrets Manager off",
            json!({"GenerateSecret": true, "PublishSecretsInAWSSecretsManager": false}),
            Good,
        ),
    ]);
    let bad = format!("{}-{}", "x".repeat(20), "topsecretvalue");
    let e = create(json!({"ClientSecret": bad, "GenerateSecret": true})).unwrap_err();
    assert!(!e.message().contains("topsecretvalue"), "{}", e.message());
    assert!(!format!("{e:?}").contains("topsecretvalue"));
    assert!(!e.to_wire_body().contains("topsecretvalue"));
}

#[test]
fn r_cfg_6_legacy_and_allow_flows_do_not_mix_and_duplicates_fold() {
    run(vec![
        (
            "legacy + ALLOW",
            json!({"ExplicitAuthFlows": ["ADMIN_NO_SRP_AUTH", "ALLOW_USER_SRP_AUTH"]}),
            Bad(6, "ExplicitAuthFlows"),
        ),
        (
            "legacy only",
            json!({"ExplicitAuthFlows": ["ADMIN_NO_SRP_AUTH", "USER_PASSWORD_AUTH", "CUSTOM_AUTH_FLOW_ONLY"]}),
            Good,
        ),
        (
            "ALLOW only",
            json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
            Good,
        ),
        ("empty", json!({"ExplicitAuthFlows": []}), Good),
    ]);
    let c = create(json!({"ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_USER_SRP_AUTH"]})).unwrap();
    assert_eq!(
        c.explicit_auth_flows.unwrap(),
        ["ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"]
    );
}

#[test]
fn r_cfg_7_rotation_enabled_forbids_allow_refresh_token_auth() {
    run(vec![
        (
            "ENABLED + ALLOW_REFRESH_TOKEN_AUTH",
            json!({"RefreshTokenRotation": {"Feature": "ENABLED"}, "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
            Bad(7, "ExplicitAuthFlows"),
        ),
        (
            "DISABLED + ALLOW_REFRESH_TOKEN_AUTH",
            json!({"RefreshTokenRotation": {"Feature": "DISABLED"}, "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH"]}),
            Good,
        ),
        (
            "ENABLED with default flows",
            json!({"RefreshTokenRotation": {"Feature": "ENABLED"}}),
            Good,
        ),
    ]);
    let c = create(json!({"RefreshTokenRotation": {"Feature": "ENABLED"}})).unwrap();
    assert_eq!(
        c.explicit_auth_flows.unwrap(),
        ["ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"]
    );
}

#[test]
fn r_cfg_8_rotation_grace_period_and_feature() {
    let rot = |v: Value| json!({ "RefreshTokenRotation": v });
    run(vec![
        (
            "grace 0",
            rot(json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": 0})),
            Good,
        ),
        (
            "grace 60",
            rot(json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": 60})),
            Good,
        ),
        (
            "grace 61",
            rot(json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": 61})),
            Bad(8, "RefreshTokenRotation.RetryGracePeriodSeconds"),
        ),
        (
            "grace -1",
            rot(json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": -1})),
            Bad(8, "RefreshTokenRotation.RetryGracePeriodSeconds"),
        ),
        (
            "grace 61 while DISABLED",
            rot(json!({"Feature": "DISABLED", "RetryGracePeriodSeconds": 61})),
            Bad(8, "RefreshTokenRotation.RetryGracePeriodSeconds"),
        ),
        (
            "no Feature",
            rot(json!({"RetryGracePeriodSeconds": 5})),
            Bad(8, "RefreshTokenRotation.Feature"),
        ),
        (
            "empty structure",
            rot(json!({})),
            Bad(8, "RefreshTokenRotation.Feature"),
        ),
    ]);
    let c = create(rot(
        json!({"Feature": "DISABLED", "RetryGracePeriodSeconds": 30}),
    ))
    .unwrap();
    let r = c.refresh_token_rotation.unwrap();
    assert_eq!(
        (r.feature.as_deref(), r.retry_grace_period_seconds),
        (Some("DISABLED"), Some(0))
    );
    let c = create(rot(json!({"Feature": "ENABLED"}))).unwrap();
    assert_eq!(
        c.refresh_token_rotation.unwrap().retry_grace_period_seconds,
        Some(0)
    );
}

#[test]
fn r_cfg_9_redirect_urls() {
    let cb = |v: Value| json!({ "CallbackURLs": v });
    let hundred: Vec<String> = (0..100).map(|i| format!("https://e.com/{i}")).collect();
    let hundred_one: Vec<String> = (0..101).map(|i| format!("https://e.com/{i}")).collect();
    run(vec![
        ("https", cb(json!(["https://example.com/cb"])), Good),
        (
            "http localhost any port",
            cb(json!(["http://localhost:3000/cb", "http://localhost/cb"])),
            Good,
        ),
        (
            "http 127.0.0.1",
            cb(json!(["http://127.0.0.1:8080/cb"])),
            Good,
        ),
        ("http [::1]", cb(json!(["http://[::1]:9000/cb"])), Good),
        ("custom scheme", cb(json!(["myapp://callback"])), Good),
        (
            "script scheme",
            cb(json!(["javascript:alert(1)"])),
            Bad(9, "CallbackURLs"),
        ),
        (
            "data scheme",
            cb(json!(["data:text/html,hi"])),
            Bad(9, "CallbackURLs"),
        ),
        (
            "http elsewhere",
            cb(json!(["http://example.com/cb"])),
            Bad(9, "CallbackURLs"),
        ),
        (
            "http localhost lookalike",
            cb(json!(["http://localhost.example.com/cb"])),
            Bad(9, "CallbackURLs"),
        ),
        (
            "fragment",
            cb(json!(["https://example.com/cb#x"])),
            Bad(9, "CallbackURLs"),
        ),
        ("relative", cb(json!(["/cb"])), Bad(9, "CallbackURLs")),
        ("100 URLs", cb(json!(hundred)), Good),
        ("101 URLs", cb(json!(hundred_one)), Bad(9, "CallbackURLs")),
        (
            "logout http",
            json!({"LogoutURLs": ["http://example.com/bye"]}),
            Bad(9, "LogoutURLs"),
        ),
        (
            "logout 101",
            json!({"LogoutURLs": hundred_one}),
            Bad(9, "LogoutURLs"),
        ),
        (
            "default http",
            json!({"CallbackURLs": ["http://example.com/cb"], "DefaultRedirectURI": "http://example.com/cb"}),
            Bad(9, "DefaultRedirectURI"),
        ),
    ]);
}

#[test]
fn r_cfg_10_default_redirect_uri_is_a_callback_url() {
    run(vec![
        (
            "in list",
            json!({"CallbackURLs": ["https://a.com/cb", "https://b.com/cb"], "DefaultRedirectURI": "https://b.com/cb"}),
            Good,
        ),
        (
            "not in list",
            json!({"CallbackURLs": ["https://a.com/cb"], "DefaultRedirectURI": "https://c.com/cb"}),
            Bad(10, "DefaultRedirectURI"),
        ),
        (
            "no list",
            json!({"DefaultRedirectURI": "https://c.com/cb"}),
            Bad(10, "DefaultRedirectURI"),
        ),
    ]);
}

fn oauth(flows: Value, extra: Value) -> Value {
    let mut v = json!({"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": flows,
                       "AllowedOAuthScopes": ["openid"], "CallbackURLs": ["https://e.com/cb"]});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v
}

#[test]
fn r_cfg_11_oauth_flow_combinations() {
    run(vec![
        ("code", oauth(json!(["code"]), json!({})), Good),
        (
            "code + implicit",
            oauth(json!(["code", "implicit"]), json!({})),
            Good,
        ),
        (
            "client_credentials + secret",
            oauth(
                json!(["client_credentials"]),
                json!({"GenerateSecret": true, "AllowedOAuthScopes": [DECLARED]}),
            ),
            Good,
        ),
        (
            "client_credentials without secret",
            oauth(
                json!(["client_credentials"]),
                json!({"AllowedOAuthScopes": [DECLARED]}),
            ),
            Bad(11, "AllowedOAuthFlows"),
        ),
        (
            "client_credentials + code",
            oauth(
                json!(["client_credentials", "code"]),
                json!({"GenerateSecret": true}),
            ),
            Bad(11, "AllowedOAuthFlows"),
        ),
        (
            "code without callback",
            oauth(json!(["code"]), json!({"CallbackURLs": []})),
            Bad(11, "CallbackURLs"),
        ),
        (
            "implicit without callback",
            oauth(json!(["implicit"]), json!({"CallbackURLs": null})),
            Bad(11, "CallbackURLs"),
        ),
    ]);
    let kind = |p| match create(p) {
        Err(e) => e.exception(),
        Ok(_) => panic!("expected an error"),
    };
    assert_eq!(
        kind(oauth(json!(["client_credentials"]), json!({}))),
        ExceptionKind::InvalidOAuthFlow
    );
    assert_eq!(
        kind(oauth(
            json!(["client_credentials", "code"]),
            json!({"GenerateSecret": true})
        )),
        ExceptionKind::InvalidOAuthFlow
    );
}

#[test]
fn r_cfg_12_oauth_switch() {
    run(vec![
        (
            "switch without flows",
            json!({"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthScopes": ["openid"]}),
            Bad(12, "AllowedOAuthFlows"),
        ),
        (
            "switch without scopes",
            json!({"AllowedOAuthFlowsUserPoolClient": true, "AllowedOAuthFlows": ["code"], "CallbackURLs": ["https://e.com/cb"]}),
            Bad(12, "AllowedOAuthScopes"),
        ),
        (
            "flows without switch",
            json!({"AllowedOAuthFlows": ["code"], "CallbackURLs": ["https://e.com/cb"]}),
            Bad(12, "AllowedOAuthFlows"),
        ),
        (
            "scopes without switch",
            json!({"AllowedOAuthScopes": ["openid"]}),
            Bad(12, "AllowedOAuthScopes"),
        ),
        (
            "empty lists without switch",
            json!({"AllowedOAuthScopes": [], "AllowedOAuthFlows": []}),
            Good,
        ),
    ]);
}

#[test]
fn r_cfg_13_scopes_must_exist() {
    let with = |s: Value| oauth(json!(["code"]), json!({ "AllowedOAuthScopes": s }));
    run(vec![
        (
            "standard scopes",
            with(json!([
                "phone",
                "email",
                "openid",
                "profile",
                "aws.cognito.signin.user.admin"
            ])),
            Good,
        ),
        ("declared custom", with(json!([DECLARED])), Good),
        (
            "undeclared custom",
            with(json!(["api.example.com/write"])),
            Bad(13, "AllowedOAuthScopes"),
        ),
        (
            "unknown plain",
            with(json!(["superuser"])),
            Bad(13, "AllowedOAuthScopes"),
        ),
    ]);
    let e = create(with(json!(["api.example.com/write"]))).unwrap_err();
    assert_eq!(e.exception_name(), "ScopeDoesNotExistException");
    assert!(e.message().contains("api.example.com/write"));
}

#[test]
fn r_cfg_14_user_context_data_needs_a_secret() {
    run(vec![
        (
            "without secret",
            json!({"EnablePropagateAdditionalUserContextData": true}),
            Bad(14, "EnablePropagateAdditionalUserContextData"),
        ),
        (
            "with generated secret",
            json!({"EnablePropagateAdditionalUserContextData": true, "GenerateSecret": true}),
            Good,
        ),
        (
            "with custom secret",
            json!({"EnablePropagateAdditionalUserContextData": true, "ClientSecret": "b".repeat(40)}),
            Good,
        ),
        (
            "false without secret",
            json!({"EnablePropagateAdditionalUserContextData": false}),
            Good,
        ),
    ]);
}

#[test]
fn r_cfg_15_auth_session_validity() {
    run(vec![
        ("3", json!({"AuthSessionValidity": 3}), Good),
        ("15", json!({"AuthSessionValidity": 15}), Good),
        (
            "2",
            json!({"AuthSessionValidity": 2}),
            Bad(15, "AuthSessionValidity"),
        ),
        (
            "16",
            json!({"AuthSessionValidity": 16}),
            Bad(15, "AuthSessionValidity"),
        ),
    ]);
}

#[test]
fn r_cfg_16_unknown_members_are_refused_by_name() {
    for (json, name) in [
        (
            json!({"RefreshTokenRotaton": {"Feature": "ENABLED"}}),
            "RefreshTokenRotaton",
        ),
        (
            json!({"TokenValidityUnits": {"AccessTokens": "hours"}}),
            "AccessTokens",
        ),
        (json!({"AnalyticsConfiguration": {"AppId": "ab"}}), "AppId"),
        (json!({"callbackURLs": ["https://e.com"]}), "callbackURLs"),
    ] {
        let e = create(json).unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
        assert!(
            e.message().contains(&format!("'{name}'")),
            "{}",
            e.message()
        );
    }
}

#[test]
fn r_cfg_all_violations_are_reported_at_once() {
    let e = create(json!({
        "ClientName": "bad/name",
        "AccessTokenValidity": 4,
        "TokenValidityUnits": {"AccessToken": "minutes"},
        "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 61},
        "AuthSessionValidity": 16,
        "PreventUserExistenceErrors": "SOMETIMES",
        "CallbackURLs": ["http://example.com/cb"],
    }))
    .unwrap_err();
    let Error::InvalidConfig(v) = &e else {
        panic!("{e:?}")
    };
    let mut seen: Vec<(u8, &str)> = v
        .violations()
        .iter()
        .map(|x| (x.rule, x.field.as_str()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            (2, "ClientName"),
            (2, "PreventUserExistenceErrors"),
            (3, "AccessTokenValidity"),
            (8, "RefreshTokenRotation.RetryGracePeriodSeconds"),
            (9, "CallbackURLs"),
            (15, "AuthSessionValidity"),
        ]
    );
    assert!(
        e.message().starts_with("6 validation errors detected: "),
        "{}",
        e.message()
    );
    for field in [
        "ClientName",
        "AccessTokenValidity",
        "RetryGracePeriodSeconds",
        "AuthSessionValidity",
        "PreventUserExistenceErrors",
        "CallbackURLs",
    ] {
        assert!(
            e.message().contains(field),
            "{field} missing from {}",
            e.message()
        );
    }
}

#[test]
fn r_cfg_exception_is_that_of_the_lowest_rule() {
    let kind = |p| create(p).unwrap_err().exception();
    // R-CFG-11 (InvalidOAuthFlow) + R-CFG-13 (ScopeDoesNotExist): 11 wins.
    assert_eq!(
        kind(oauth(
            json!(["client_credentials"]),
            json!({"AllowedOAuthScopes": ["nope/x"]})
        )),
        ExceptionKind::InvalidOAuthFlow
    );
    // R-CFG-13 alone.
    assert_eq!(
        kind(oauth(
            json!(["code"]),
            json!({"AllowedOAuthScopes": ["nope/x"]})
        )),
        ExceptionKind::ScopeDoesNotExist
    );
    // R-CFG-3 (InvalidParameter) + R-CFG-13: 3 wins, and the message still lists both.
    let e = create(oauth(json!(["code"]), json!({"AllowedOAuthScopes": ["nope/x"], "AuthSessionValidity": 1, "AccessTokenValidity": 25})))
        .unwrap_err();
    assert_eq!(e.exception(), ExceptionKind::InvalidParameter);
    assert!(
        e.message().contains("nope/x") && e.message().contains("Invalid range"),
        "{}",
        e.message()
    );
}

#[test]
fn defaults_fill_every_member() {
    let c = create(json!({})).unwrap();
    assert_eq!(c.access_token_validity, Some(1));
    assert_eq!(c.id_token_validity, Some(1));
    assert_eq!(c.refresh_token_validity, Some(30));
    let u = c.token_validity_units.unwrap();
    assert_eq!(
        (
            u.access_token.as_deref(),
            u.id_token.as_deref(),
            u.refresh_token.as_deref()
        ),
        (Some("hours"), Some("hours"), Some("days"))
    );
    assert_eq!(
        c.explicit_auth_flows.unwrap(),
        [
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_CUSTOM_AUTH"
        ]
    );
    assert_eq!(c.prevent_user_existence_errors.as_deref(), Some("LEGACY"));
    assert_eq!(c.enable_token_revocation, Some(true));
    assert_eq!(c.enable_propagate_additional_user_context_data, Some(false));
    assert_eq!(c.allowed_oauth_flows_user_pool_client, Some(false));
    assert_eq!(c.auth_session_validity, Some(3));
    let r = c.refresh_token_rotation.unwrap();
    assert_eq!(
        (r.feature.as_deref(), r.retry_grace_period_seconds),
        (Some("DISABLED"), Some(0))
    );
    assert!(c.client_secret.is_none());

    let cfg = AppClientConfig::builder("app").build().unwrap();
    assert_eq!(cfg.access_token_validity_secs(), 3_600);
    assert_eq!(cfg.id_token_validity_secs(), 3_600);
    assert_eq!(cfg.refresh_token_validity_secs(), 30 * 86_400);
    assert_eq!(cfg.refresh_token_rotation(), RefreshTokenRotation::DISABLED);
    assert!(cfg.allows_flow(ExplicitAuthFlow::AllowRefreshTokenAuth));
    assert!(cfg.enable_token_revocation());
    assert_eq!(
        cfg.prevent_user_existence_errors(),
        PreventUserExistenceErrors::Legacy
    );
    assert_eq!(cfg.auth_session_validity(), 3);
}

#[test]
fn builder_validates_like_the_wire() {
    // Boundaries through the Rust builder, every unit.
    let ok = |v, u| {
        AppClientConfig::builder("a")
            .access_token_validity(v, u)
            .build()
            .is_ok()
    };
    assert!(ok(300, TimeUnit::Seconds) && !ok(299, TimeUnit::Seconds));
    assert!(ok(5, TimeUnit::Minutes) && !ok(4, TimeUnit::Minutes));
    assert!(ok(24, TimeUnit::Hours) && !ok(25, TimeUnit::Hours));
    assert!(ok(1, TimeUnit::Days) && !ok(2, TimeUnit::Days));
    let rok = |v, u| {
        AppClientConfig::builder("a")
            .access_token_validity(5, TimeUnit::Minutes)
            .id_token_validity(5, TimeUnit::Minutes)
            .refresh_token_validity(v, u)
            .build()
            .is_ok()
    };
    assert!(rok(3_600, TimeUnit::Seconds) && !rok(3_599, TimeUnit::Seconds));
    assert!(rok(60, TimeUnit::Minutes) && !rok(59, TimeUnit::Minutes));
    assert!(rok(87_600, TimeUnit::Hours) && !rok(87_601, TimeUnit::Hours));
    assert!(rok(3_650, TimeUnit::Days) && !rok(3_651, TimeUnit::Days));

    // The standalone builder assumes no secret and no custom scopes.
    let e = AppClientConfig::builder("a")
        .allowed_oauth_flows_user_pool_client(true)
        .allowed_oauth_flows([OAuthFlow::ClientCredentials])
        .allowed_oauth_scopes([DECLARED])
        .auth_session_validity(2)
        .build()
        .unwrap_err();
    assert!(
        e.has(11, "AllowedOAuthFlows")
            && e.has(13, "AllowedOAuthScopes")
            && e.has(15, "AuthSessionValidity")
    );
    // The session validity's range is the API model's own, so its violation is one of R-CFG-2: it
    // answers InvalidParameterException, as Cognito refuses it before any rule of its own.
    assert_eq!(e.exception(), ExceptionKind::InvalidParameter);
    let e = AppClientConfig::builder("a")
        .allowed_oauth_flows_user_pool_client(true)
        .allowed_oauth_flows([OAuthFlow::ClientCredentials])
        .allowed_oauth_scopes([DECLARED])
        .build()
        .unwrap_err();
    assert_eq!(e.exception(), ExceptionKind::InvalidOAuthFlow);

    let c = AppClientConfig::builder("a")
        .refresh_token_rotation(RefreshTokenRotation::enabled(60).unwrap())
        .build()
        .unwrap();
    assert!(!c.allows_flow(ExplicitAuthFlow::AllowRefreshTokenAuth));
    assert!(RefreshTokenRotation::enabled(61).is_none());
}

#[test]
fn r_cfg_3_a_default_validity_that_is_no_whole_number_of_its_unit_must_be_given() {
    // 1 hour is no whole number of days: rounding up would silently give 24-hour tokens.
    run(vec![
        (
            "access unit days, no value",
            json!({ "TokenValidityUnits": units("days", "hours", "days") }),
            Bad(3, "AccessTokenValidity"),
        ),
        (
            "id unit days, no value",
            json!({ "TokenValidityUnits": units("hours", "days", "days") }),
            Bad(3, "IdTokenValidity"),
        ),
        (
            "unit minutes, no value: 60 minutes",
            json!({ "TokenValidityUnits": units("minutes", "minutes", "days") }),
            Good,
        ),
    ]);
    let c = create(json!({ "TokenValidityUnits": units("minutes", "seconds", "hours") })).unwrap();
    assert_eq!(c.access_token_validity, Some(60));
    assert_eq!(c.id_token_validity, Some(3600));
    assert_eq!(c.refresh_token_validity, Some(720));
}

/// R-CFG-2, R-CFG-7: every violation is reported, R-CFG-7's too when the grace period is also out of
/// range (the Feature asked for is ENABLED either way).
#[test]
fn r_cfg_7_is_reported_when_the_grace_period_is_also_invalid() {
    let Err(Error::InvalidConfig(v)) = create(json!({
        "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 61},
        "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    })) else {
        panic!("expected InvalidConfig")
    };
    assert!(
        v.has(8, "RefreshTokenRotation.RetryGracePeriodSeconds"),
        "{v}"
    );
    assert!(v.has(7, "ExplicitAuthFlows"), "{v}");
    assert!(
        v.to_string().starts_with("2 validation errors detected: "),
        "{v}"
    );
}

/// R-CFG-2: HexStringType has a pattern and no length bound, so an empty ApplicationId is one
/// violation, the pattern's.
#[test]
fn r_cfg_2_hex_string_type_has_no_length_bound() {
    let Err(Error::InvalidConfig(v)) =
        create(json!({"AnalyticsConfiguration": {"ApplicationId": ""}}))
    else {
        panic!("expected InvalidConfig")
    };
    assert_eq!(
        v.to_string(),
        "1 validation error detected: Value '' at 'AnalyticsConfiguration.ApplicationId' failed to \
         satisfy constraint: Member must satisfy regular expression pattern: ^[0-9a-fA-F]+$"
    );
}

/// R-CFG-2 (crate's choice) with R-PER-3: U+0000 is refused in the members the model leaves without a
/// pattern, since no PostgreSQL text or JSON column can store it; so the in-memory and PostgreSQL client
/// stores keep the same configurations.
#[test]
fn r_cfg_2_unpatterned_members_refuse_nul() {
    let e = AppClientConfig::builder("nul")
        .read_attributes(["email\u{0}x"])
        .write_attributes(["name\u{0}"])
        .build()
        .unwrap_err();
    let text = e.to_string();
    assert_eq!(
        text.matches("not contain the character U+0000").count(),
        2,
        "{text}"
    );
    assert!(AppClientConfig::builder("ok")
        .read_attributes(["email"])
        .build()
        .is_ok());
}

/// SPEC 2.2, R-CFG-2..15: one Create that breaks every rule from R-CFG-2 to R-CFG-15 at once gets every
/// violation, none hidden by an earlier one, in the order the validator runs its rules (the request's
/// own secret members, then ClientName, the validities, rotation and flows, the URLs, OAuth, the
/// remaining members): the order the message lists them in.
#[test]
fn r_cfg_every_rule_is_reported_at_once_in_the_validators_order() {
    let e = create(json!({
        "ClientName": "bad/name",
        "PublishSecretsInAWSSecretsManager": true,
        "AccessTokenValidity": 4,
        "IdTokenValidity": 2,
        "RefreshTokenValidity": 60,
        "TokenValidityUnits": units("minutes", "hours", "minutes"),
        "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 61},
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH", "USER_PASSWORD_AUTH"],
        "CallbackURLs": ["http://example.com/cb"],
        "DefaultRedirectURI": "https://example.com/other",
        "AllowedOAuthFlows": ["client_credentials", "code"],
        "AllowedOAuthScopes": ["nope/x"],
        "PreventUserExistenceErrors": "SOMETIMES",
        "EnablePropagateAdditionalUserContextData": true,
        "AuthSessionValidity": 16,
    }))
    .unwrap_err();
    let Error::InvalidConfig(v) = &e else {
        panic!("{e:?}")
    };
    let seen: Vec<(u8, &str)> = v
        .violations()
        .iter()
        .map(|x| (x.rule, x.field.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            (5, "PublishSecretsInAWSSecretsManager"),
            (2, "ClientName"),
            (3, "AccessTokenValidity"),
            (4, "IdTokenValidity"),
            (8, "RefreshTokenRotation.RetryGracePeriodSeconds"),
            (6, "ExplicitAuthFlows"),
            (7, "ExplicitAuthFlows"),
            (9, "CallbackURLs"),
            (10, "DefaultRedirectURI"),
            (13, "AllowedOAuthScopes"),
            (11, "AllowedOAuthFlows"),
            (11, "AllowedOAuthFlows"),
            (12, "AllowedOAuthFlows"),
            (12, "AllowedOAuthScopes"),
            (2, "PreventUserExistenceErrors"),
            (14, "EnablePropagateAdditionalUserContextData"),
            (15, "AuthSessionValidity"),
        ],
        "{e}"
    );
    assert!(
        e.message().starts_with("17 validation errors detected: "),
        "{}",
        e.message()
    );
    let messages: Vec<&str> = v.violations().iter().map(|x| x.message.as_str()).collect();
    assert!(
        e.message().ends_with(&messages.join("; ")),
        "{}",
        e.message()
    );
}

/// R-CFG-13: a custom scope is `<resource-server-identifier>/<name>`. A name without a `/` is never one,
/// even when the declared scopes a store hands back to `from_stored_json` list it.
#[test]
fn r_cfg_13_a_name_without_a_slash_is_never_a_custom_scope() {
    let config = AppClientConfig::builder("web")
        .allowed_oauth_flows([OAuthFlow::Code])
        .allowed_oauth_flows_user_pool_client(true)
        .callback_urls(["https://example.com/cb"])
        .allowed_oauth_scopes(["openid"])
        .build()
        .unwrap();
    let json = config.to_stored_json().unwrap();
    assert!(AppClientConfig::from_stored_json(&json, false, []).is_ok());
    let custom = json.replace("\"openid\"", "\"api/read\"");
    assert_ne!(custom, json);
    assert!(AppClientConfig::from_stored_json(&custom, false, ["api/read"]).is_ok());
    let plain = json.replace("\"openid\"", "\"superuser\"");
    let e = AppClientConfig::from_stored_json(&plain, false, ["superuser"]).unwrap_err();
    assert!(
        e.to_string().contains("Invalid scope requested: superuser"),
        "{e}"
    );
}
