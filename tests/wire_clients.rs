//! R-WIRE-1, R-CFG-16: the client operations' JSON exactly as AWS SDKs send and read it, and property
//! tests of the round trip and of validation on arbitrary input.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use proptest::prelude::*;
use refresh_rotation::clock::{ManualClock, Timestamp};
use refresh_rotation::config::{
    AnalyticsConfiguration, AppClientConfigBuilder, ExplicitAuthFlow, OAuthFlow,
    PreventUserExistenceErrors, RefreshTokenRotation, TimeUnit,
};
use refresh_rotation::random::RandomSource;
use refresh_rotation::wire::{
    from_json, to_json, CreateUserPoolClientRequest, DescribeUserPoolClientRequest,
    DescribeUserPoolClientResponse, ListUserPoolClientsRequest, UpdateUserPoolClientRequest,
    UserPoolClientOperations as _, UserPoolClientType,
};
use refresh_rotation::{AppClientConfig, ClientRegistry, Error};
use serde_json::{json, Value};

const POOL: &str = "us-east-1_Example";
const T0: i64 = 1_700_000_000;

/// A deterministic random source (splitmix64 over a counter).
struct Counter(AtomicU64);
impl RandomSource for Counter {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        for chunk in dest.chunks_mut(8) {
            let mut z = self.0.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

fn registry() -> ClientRegistry {
    let r = ClientRegistry::new(
        POOL,
        Arc::new(ManualClock::new(Timestamp::from_unix_seconds(T0))),
        Arc::new(Counter(AtomicU64::new(1))),
    );
    r.declare_custom_scope("https://api.example.com/orders.read")
        .unwrap();
    r
}

/// A CreateUserPoolClient body as an AWS SDK (for example boto3 or the JS SDK v3) writes it.
const SDK_CREATE_BODY: &str = r#"{
    "UserPoolId": "us-east-1_Example",
    "ClientName": "web-app",
    "GenerateSecret": true,
    "RefreshTokenValidity": 10,
    "AccessTokenValidity": 15,
    "IdTokenValidity": 20,
    "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
    "ReadAttributes": ["email", "email_verified", "custom:tenant"],
    "WriteAttributes": ["email"],
    "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH"],
    "SupportedIdentityProviders": ["COGNITO"],
    "CallbackURLs": ["https://app.example.com/callback", "http://localhost:3000/callback"],
    "LogoutURLs": ["https://app.example.com/logout"],
    "DefaultRedirectURI": "https://app.example.com/callback",
    "AllowedOAuthFlows": ["code"],
    "AllowedOAuthScopes": ["openid", "email", "https://api.example.com/orders.read"],
    "AllowedOAuthFlowsUserPoolClient": true,
    "AnalyticsConfiguration": {
        "ApplicationArn": "arn:aws:mobiletargeting:us-east-1:123456789012:apps/0123456789abcdef",
        "RoleArn": "arn:aws:iam::123456789012:role/pinpoint-role",
        "UserDataShared": false
    },
    "PreventUserExistenceErrors": "ENABLED",
    "EnableTokenRevocation": true,
    "EnablePropagateAdditionalUserContextData": true,
    "AuthSessionValidity": 5,
    "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 10}
}"#;

#[test]
fn r_wire_1_full_sdk_request_creates_the_client_and_describe_returns_every_member() {
    let r = registry();
    let req: CreateUserPoolClientRequest = from_json(SDK_CREATE_BODY.as_bytes()).unwrap();
    let created = r.create_user_pool_client(&req).unwrap();
    let client = created.user_pool_client.unwrap();
    let id = client.client_id.clone().unwrap();
    let secret = client
        .client_secret
        .clone()
        .unwrap()
        .expose_secret()
        .to_owned();
    assert_eq!(secret.len(), 51);

    let describe: DescribeUserPoolClientRequest =
        from_json(format!(r#"{{"UserPoolId":"{POOL}","ClientId":"{id}"}}"#).as_bytes()).unwrap();
    let described = r.describe_user_pool_client(&describe).unwrap();
    let text = to_json(&described).unwrap();
    let expected = json!({"UserPoolClient": {
        "UserPoolId": POOL,
        "ClientName": "web-app",
        "ClientId": id,
        "ClientSecret": secret,
        "LastModifiedDate": T0,
        "CreationDate": T0,
        "RefreshTokenValidity": 10,
        "AccessTokenValidity": 15,
        "IdTokenValidity": 20,
        "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
        "ReadAttributes": ["email", "email_verified", "custom:tenant"],
        "WriteAttributes": ["email"],
        "ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH"],
        "SupportedIdentityProviders": ["COGNITO"],
        "CallbackURLs": ["https://app.example.com/callback", "http://localhost:3000/callback"],
        "LogoutURLs": ["https://app.example.com/logout"],
        "DefaultRedirectURI": "https://app.example.com/callback",
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthScopes": ["openid", "email", "https://api.example.com/orders.read"],
        "AllowedOAuthFlowsUserPoolClient": true,
        "AnalyticsConfiguration": {
            "ApplicationArn": "arn:aws:mobiletargeting:us-east-1:123456789012:apps/0123456789abcdef",
            "RoleArn": "arn:aws:iam::123456789012:role/pinpoint-role",
            "UserDataShared": false
        },
        "PreventUserExistenceErrors": "ENABLED",
        "EnableTokenRevocation": true,
        "EnablePropagateAdditionalUserContextData": true,
        "AuthSessionValidity": 5,
        "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 10},
        "ClientType": "REGULAR"
    }});
    assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), expected);
    // Dates are JSON integers, the irregular names are spelled as the model spells them.
    assert!(text.contains(&format!(r#""CreationDate":{T0}"#)), "{text}");
    for name in [
        r#""CallbackURLs""#,
        r#""LogoutURLs""#,
        r#""DefaultRedirectURI""#,
        r#""AllowedOAuthFlows""#,
    ] {
        assert!(text.contains(name), "{name} in {text}");
    }
    // Create's response is the same view.
    assert_eq!(Some(client), described.user_pool_client.clone());

    // Describe's output parses back unchanged, also from an SDK that writes fractional dates.
    let back: DescribeUserPoolClientResponse = from_json(text.as_bytes()).unwrap();
    assert_eq!(back, described);
    let fractional = text.replace(
        &format!(r#""CreationDate":{T0}"#),
        &format!(r#""CreationDate":{T0}.25"#),
    );
    let back: DescribeUserPoolClientResponse = from_json(fractional.as_bytes()).unwrap();
    assert_eq!(back, described);

    let config = r.get(&id).unwrap().unwrap().config().clone();
    assert_eq!(config.access_token_validity_secs(), 900);
    assert_eq!(config.id_token_validity_secs(), 1_200);
    assert_eq!(config.refresh_token_validity_secs(), 864_000);
    assert_eq!(
        config.refresh_token_rotation(),
        RefreshTokenRotation::enabled(10).unwrap()
    );
}

#[test]
fn r_wire_1_minimal_describe_as_aws_writes_it() {
    let r = registry();
    let req: CreateUserPoolClientRequest =
        from_json(br#"{"UserPoolId":"us-east-1_Example","ClientName":"cli"}"#).unwrap();
    let c = r
        .create_user_pool_client(&req)
        .unwrap()
        .user_pool_client
        .unwrap();
    let v: Value = serde_json::from_str(&to_json(&c).unwrap()).unwrap();
    let id = c.client_id.unwrap();
    assert_eq!(
        v,
        json!({
            "UserPoolId": POOL, "ClientName": "cli", "ClientId": id,
            "LastModifiedDate": T0, "CreationDate": T0,
            "RefreshTokenValidity": 30, "AccessTokenValidity": 1, "IdTokenValidity": 1,
            "TokenValidityUnits": {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"},
            "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"],
            "AllowedOAuthFlowsUserPoolClient": false,
            "PreventUserExistenceErrors": "LEGACY",
            "EnableTokenRevocation": true,
            "EnablePropagateAdditionalUserContextData": false,
            "AuthSessionValidity": 3,
            "RefreshTokenRotation": {"Feature": "DISABLED", "RetryGracePeriodSeconds": 0},
            "ClientType": "REGULAR"
        })
    );
}

#[test]
fn r_cfg_16_unknown_members_in_every_request_are_named() {
    type Parse = fn(&[u8]) -> Result<(), Error>;
    let cases: [(&str, Parse); 5] = [
        ("CreateUserPoolClient", |b| {
            from_json::<CreateUserPoolClientRequest>(b).map(drop)
        }),
        ("UpdateUserPoolClient", |b| {
            from_json::<UpdateUserPoolClientRequest>(b).map(drop)
        }),
        ("DescribeUserPoolClient", |b| {
            from_json::<DescribeUserPoolClientRequest>(b).map(drop)
        }),
        ("DeleteUserPoolClient", |b| {
            from_json::<refresh_rotation::wire::DeleteUserPoolClientRequest>(b).map(drop)
        }),
        ("ListUserPoolClients", |b| {
            from_json::<ListUserPoolClientsRequest>(b).map(drop)
        }),
    ];
    for (op, parse) in cases {
        let e = parse(br#"{"UserPoolId":"us-east-1_Example","Bogus":1}"#).unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException", "{op}");
        assert!(e.message().contains("'Bogus'"), "{op}: {}", e.message());
    }
    // A typo must not silently turn rotation off.
    let e = from_json::<UpdateUserPoolClientRequest>(
        br#"{"UserPoolId":"us-east-1_Example","ClientId":"abc","RefreshTokenRotaton":{"Feature":"ENABLED"}}"#,
    )
    .unwrap_err();
    assert!(e.message().contains("RefreshTokenRotaton"));
    // Malformed JSON and wrong types are InvalidParameterException too.
    for bad in [
        &b"{"[..],
        b"[]",
        b"{\"ClientName\": 5}",
        b"{\"AccessTokenValidity\": 1.5}",
        b"\xff",
    ] {
        assert_eq!(
            from_json::<CreateUserPoolClientRequest>(bad)
                .unwrap_err()
                .exception_name(),
            "InvalidParameterException"
        );
    }
}

#[test]
fn r_cfg_2_invalid_enums_and_integers_reach_the_validator() {
    let r = registry();
    let req: CreateUserPoolClientRequest = from_json(
        br#"{"UserPoolId":"us-east-1_Example","ClientName":"a","AccessTokenValidity":9223372036854775807,
             "TokenValidityUnits":{"IdToken":"fortnights"},"ExplicitAuthFlows":["allow_user_srp_auth"],
             "RefreshTokenRotation":{"Feature":"MAYBE","RetryGracePeriodSeconds":-9223372036854775808}}"#,
    )
    .unwrap();
    let Err(Error::InvalidConfig(v)) = r.create_user_pool_client(&req) else {
        panic!("expected InvalidConfig")
    };
    for field in [
        "AccessTokenValidity",
        "TokenValidityUnits.IdToken",
        "ExplicitAuthFlows",
        "RefreshTokenRotation.Feature",
        "RefreshTokenRotation.RetryGracePeriodSeconds",
    ] {
        assert!(
            v.violations().iter().any(|x| x.field == field),
            "{field}: {v}"
        );
    }
    assert!(r.is_empty().unwrap());
}

#[test]
fn update_request_from_a_config_round_trips() {
    let r = registry();
    let c = r
        .create_client(
            AppClientConfig::builder("a"),
            refresh_rotation::NewClientSecret::Generate,
        )
        .unwrap();
    let target = AppClientConfig::builder("renamed")
        .id_token_validity(300, TimeUnit::Seconds)
        .refresh_token_rotation(RefreshTokenRotation::enabled(5).unwrap())
        .build()
        .unwrap();
    let req = UpdateUserPoolClientRequest::from_config(POOL, c.client_id(), &target);
    let parsed: UpdateUserPoolClientRequest = from_json(to_json(&req).unwrap().as_bytes()).unwrap();
    assert_eq!(parsed, req);
    let updated = r
        .update_user_pool_client(&parsed)
        .unwrap()
        .user_pool_client
        .unwrap();
    assert_eq!(r.get(c.client_id()).unwrap().unwrap().config(), &target);
    assert!(
        updated.client_secret.is_some(),
        "the secret survives Update"
    );
}

// ------------------------------------------------------------------------------------------ proptest

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

fn unit() -> impl Strategy<Value = TimeUnit> {
    prop::sample::select(TimeUnit::ALL.to_vec())
}

/// A value of `unit` whose length in seconds lies in `lo..=hi`.
fn value_in(unit: TimeUnit, lo: u64, hi: u64) -> impl Strategy<Value = u32> {
    let s = unit.seconds();
    let (a, b) = (lo.div_ceil(s), hi / s);
    (a as u32)..=(b as u32)
}

fn short_validity() -> impl Strategy<Value = (u32, TimeUnit)> {
    unit().prop_flat_map(|u| (value_in(u, 300, 86_400), Just(u)))
}

fn refresh_validity() -> impl Strategy<Value = (u32, TimeUnit)> {
    prop_oneof![
        unit().prop_map(|u| (0, u)),
        unit().prop_flat_map(|u| (value_in(u, 86_400, 315_360_000), Just(u))),
    ]
}

fn valid_config() -> impl Strategy<Value = AppClientConfig> {
    let allow_flows = prop::sample::subsequence(
        ExplicitAuthFlow::ALL
            .iter()
            .copied()
            .filter(|f| !f.is_legacy())
            .collect::<Vec<_>>(),
        0..=8,
    );
    let legacy_flows = prop::sample::subsequence(
        ExplicitAuthFlow::ALL
            .iter()
            .copied()
            .filter(|f| f.is_legacy())
            .collect::<Vec<_>>(),
        0..=3,
    );
    let flows = prop_oneof![
        Just(None),
        allow_flows.prop_map(Some),
        legacy_flows.prop_map(Some)
    ];
    let rotation = prop_oneof![
        Just(RefreshTokenRotation::DISABLED),
        (0u8..=60).prop_map(|g| RefreshTokenRotation::enabled(g).unwrap()),
    ];
    let urls = prop::collection::vec("https://[a-z]{1,8}\\.example\\.com/[a-z0-9]{0,6}|myapp://[a-z]{1,6}|http://localhost:[0-9]{2,4}/cb", 0..4);
    let oauth = prop_oneof![
        Just(None),
        (
            prop::sample::subsequence(vec![OAuthFlow::Code, OAuthFlow::Implicit], 1..=2),
            prop::sample::subsequence(
                vec![
                    "openid",
                    "email",
                    "phone",
                    "profile",
                    "aws.cognito.signin.user.admin",
                    "https://api.example.com/orders.read"
                ],
                1..=6
            ),
        )
            .prop_map(Some),
    ];
    let analytics = prop::option::of((
        prop::option::of("[0-9a-f]{1,32}"),
        prop::option::of(Just("arn:aws:iam::123456789012:role/r".to_owned())),
        prop::option::of("[a-z]{0,10}"),
        any::<bool>(),
    ));
    (
        (
            "[A-Za-z0-9 _+=,.@-]{1,40}",
            short_validity(),
            short_validity(),
            refresh_validity(),
            flows,
            rotation,
        ),
        (
            urls,
            any::<bool>(),
            oauth,
            prop::collection::vec("[a-z_:]{1,16}", 0..3),
            prop::collection::vec("[A-Za-z ]{1,16}", 0..3),
        ),
        (analytics, any::<bool>(), any::<bool>(), 3u32..=15),
    )
        .prop_map(
            |(
                (name, a, i, r, flows, rot),
                (urls, use_default, oauth, attrs, idps),
                (an, prevent, revoke, session),
            )| {
                let mut b: AppClientConfigBuilder = AppClientConfig::builder(name)
                    .access_token_validity(a.0, a.1)
                    .id_token_validity(i.0, i.1)
                    .refresh_token_validity(r.0, r.1)
                    .refresh_token_rotation(rot);
                if let Some(mut f) = flows {
                    if rot.is_enabled() {
                        f.retain(|x| *x != ExplicitAuthFlow::AllowRefreshTokenAuth);
                    }
                    b = b.explicit_auth_flows(f);
                }
                let mut callbacks = urls;
                if let Some((flows, scopes)) = oauth {
                    if callbacks.is_empty() {
                        callbacks.push("https://app.example.com/cb".to_owned());
                    }
                    b = b
                        .allowed_oauth_flows_user_pool_client(true)
                        .allowed_oauth_flows(flows)
                        .allowed_oauth_scopes(scopes);
                }
                if use_default && !callbacks.is_empty() {
                    b = b.default_redirect_uri(Some(callbacks[0].clone()));
                }
                b.callback_urls(callbacks.clone())
                    .logout_urls(callbacks)
                    .read_attributes(attrs.clone())
                    .write_attributes(attrs)
                    .supported_identity_providers(idps)
                    .analytics_configuration(an.map(|(id, role, ext, shared)| {
                        AnalyticsConfiguration {
                            application_id: id,
                            application_arn: None,
                            role_arn: role,
                            external_id: ext,
                            user_data_shared: shared,
                        }
                    }))
                    .prevent_user_existence_errors(if prevent {
                        PreventUserExistenceErrors::Enabled
                    } else {
                        PreventUserExistenceErrors::Legacy
                    })
                    .enable_token_revocation(revoke)
                    .auth_session_validity(session)
            },
        )
        .prop_filter_map("valid", |b| {
            let r = registry();
            r.create_client(b, refresh_rotation::NewClientSecret::None)
                .ok()
                .map(|c| c.config().clone())
        })
}

/// Arbitrary JSON, with the client members' names as likely keys so that validation is reached.
fn arbitrary_json() -> impl Strategy<Value = Value> {
    const KEYS: &[&str] = &[
        "UserPoolId",
        "ClientName",
        "ClientId",
        "GenerateSecret",
        "ClientSecret",
        "RefreshTokenValidity",
        "AccessTokenValidity",
        "IdTokenValidity",
        "TokenValidityUnits",
        "AccessToken",
        "IdToken",
        "RefreshToken",
        "ReadAttributes",
        "WriteAttributes",
        "ExplicitAuthFlows",
        "SupportedIdentityProviders",
        "CallbackURLs",
        "LogoutURLs",
        "DefaultRedirectURI",
        "AllowedOAuthFlows",
        "AllowedOAuthScopes",
        "AllowedOAuthFlowsUserPoolClient",
        "AnalyticsConfiguration",
        "ApplicationId",
        "RoleArn",
        "PreventUserExistenceErrors",
        "EnableTokenRevocation",
        "EnablePropagateAdditionalUserContextData",
        "AuthSessionValidity",
        "RefreshTokenRotation",
        "Feature",
        "RetryGracePeriodSeconds",
        "MaxResults",
        "NextToken",
        "ClientType",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just(0i64),
            Just(-1),
            Just(60),
            Just(61),
            Just(86_400),
            Just(315_360_001)
        ]
        .prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        ".{0,24}".prop_map(Value::from),
        prop::sample::select(vec![
            "us-east-1_Example",
            "ENABLED",
            "DISABLED",
            "LEGACY",
            "code",
            "client_credentials",
            "days",
            "seconds",
            "ALLOW_REFRESH_TOKEN_AUTH",
            "ADMIN_NO_SRP_AUTH",
            "https://e.com/cb",
            "http://x.com/#",
            "openid",
            "a/b",
            "REGULAR",
        ])
        .prop_map(Value::from),
    ];
    let key = prop_oneof![4 => prop::sample::select(KEYS.to_vec()).prop_map(str::to_owned), 1 => "[A-Za-z]{1,8}"];
    leaf.prop_recursive(3, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Any valid configuration survives config -> CreateUserPoolClient JSON -> registry -> config, and its
    /// Describe output survives JSON -> UserPoolClientType unchanged.
    #[test]
    fn r_wire_1_valid_configuration_survives_a_json_round_trip(config in valid_config()) {
        let r = registry();
        let req = CreateUserPoolClientRequest::from_config(POOL, &config);
        let body = to_json(&req).unwrap();
        let parsed: CreateUserPoolClientRequest = from_json(body.as_bytes()).unwrap();
        prop_assert_eq!(&parsed, &req);
        let created = r.create_user_pool_client(&parsed).unwrap().user_pool_client.unwrap();
        let id = created.client_id.clone().unwrap();
        let stored = r.get(&id).unwrap().unwrap();
        prop_assert_eq!(stored.config(), &config);

        let described = to_json(&created).unwrap();
        let back: UserPoolClientType = from_json(described.as_bytes()).unwrap();
        prop_assert_eq!(&back, &created);

        // The builder's own round trip: to_builder() rebuilds an equal configuration (validated in the
        // registry, which knows the declared custom scope).
        let replaced = r.replace_client(&id, config.to_builder()).unwrap();
        prop_assert_eq!(replaced.config(), &config);
    }

    /// No JSON value, however malformed, makes parsing or validation panic; every failure is a client
    /// error, and a failure stores nothing.
    #[test]
    fn r_safe_1_validating_arbitrary_json_never_panics(v in arbitrary_json()) {
        let body = serde_json::to_vec(&v).unwrap();
        let r = registry();
        let existing = r.create_client(AppClientConfig::builder("x"), refresh_rotation::NewClientSecret::None).unwrap();
        if let Ok(req) = from_json::<CreateUserPoolClientRequest>(&body) {
            if let Err(e) = r.create_user_pool_client(&req) {
                prop_assert_eq!(e.http_status(), 400, "{}", e.message());
                prop_assert_eq!(r.len().unwrap(), 1);
            }
        }
        if let Ok(mut req) = from_json::<UpdateUserPoolClientRequest>(&body) {
            if req.client_id.is_some() && req.user_pool_id.is_some() {
                req.client_id = Some(existing.client_id().to_string());
            }
            match r.update_user_pool_client(&req) {
                Ok(_) => {}
                Err(e) => prop_assert_eq!(e.http_status(), 400, "{}", e.message()),
            }
        }
        if let Ok(req) = from_json::<ListUserPoolClientsRequest>(&body) {
            if let Err(e) = r.list_user_pool_clients(&req) {
                prop_assert_eq!(e.http_status(), 400, "{}", e.message());
            }
        }
        if let Ok(req) = from_json::<DescribeUserPoolClientRequest>(&body) {
            let _ = r.describe_user_pool_client(&req);
        }
    }
}

#[test]
fn r_safe_2_a_value_of_the_wrong_type_is_not_echoed() {
    let body = br#"{"UserPoolId":"us-east-1_Abc","ClientName":"n","GenerateSecret":"SUPERSECRETVALUE1234567890"}"#;
    let e =
        refresh_rotation::wire::from_json::<refresh_rotation::wire::CreateUserPoolClientRequest>(
            body,
        )
        .unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert!(!e.message().contains("SUPERSECRETVALUE"), "{e}");
    assert!(e.message().contains("line 1"), "{e}");
    let e =
        refresh_rotation::wire::from_json::<refresh_rotation::wire::CreateUserPoolClientRequest>(
            br#"{"UserPoolId":"us-east-1_Abc","UserPoolId":"us-east-1_Abc","ClientName":"n"}"#,
        )
        .unwrap_err();
    assert!(e.message().contains("UserPoolId"), "{e}");
}

/// An asynchronous client store whose every answer comes after one `Pending`: what a database store
/// looks like to the registry. Wraps the in-memory store.
struct Slow(refresh_rotation::store::InMemoryClientStore);

/// The answer of `op`, run only at the second poll, as a database answers after a round trip.
fn later<'a, T: Send + 'a>(
    op: impl FnOnce() -> T + Send + 'a,
) -> refresh_rotation::store::BoxFuture<'a, T> {
    let mut op = Some(op);
    let mut polled = false;
    Box::pin(std::future::poll_fn(move |cx| {
        if polled {
            std::task::Poll::Ready((op.take().expect("polled after completion"))())
        } else {
            polled = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    }))
}

impl refresh_rotation::store::AsyncClientStore for Slow {
    fn get<'a>(
        &'a self,
        id: &'a str,
    ) -> refresh_rotation::store::BoxFuture<
        'a,
        Result<
            Option<Arc<refresh_rotation::store::AppClient>>,
            refresh_rotation::error::StoreError,
        >,
    > {
        later(move || refresh_rotation::store::ClientStore::get(&self.0, id))
    }
    fn insert(
        &self,
        c: Arc<refresh_rotation::store::AppClient>,
        max: usize,
    ) -> refresh_rotation::store::BoxFuture<'_, Result<(), refresh_rotation::error::StoreError>>
    {
        later(move || refresh_rotation::store::ClientStore::insert(&self.0, c, max))
    }
    fn replace(
        &self,
        c: Arc<refresh_rotation::store::AppClient>,
        rev: u64,
    ) -> refresh_rotation::store::BoxFuture<
        '_,
        Result<refresh_rotation::store::Replace, refresh_rotation::error::StoreError>,
    > {
        later(move || refresh_rotation::store::ClientStore::replace(&self.0, c, rev))
    }
    fn delete<'a>(
        &'a self,
        id: &'a str,
    ) -> refresh_rotation::store::BoxFuture<'a, Result<bool, refresh_rotation::error::StoreError>>
    {
        later(move || refresh_rotation::store::ClientStore::delete(&self.0, id))
    }
    fn list<'a>(
        &'a self,
        after: Option<&'a str>,
        limit: usize,
    ) -> refresh_rotation::store::BoxFuture<
        'a,
        Result<Vec<Arc<refresh_rotation::store::AppClient>>, refresh_rotation::error::StoreError>,
    > {
        later(move || refresh_rotation::store::ClientStore::list(&self.0, after, limit))
    }
    fn count(
        &self,
    ) -> refresh_rotation::store::BoxFuture<'_, Result<usize, refresh_rotation::error::StoreError>>
    {
        later(move || refresh_rotation::store::ClientStore::count(&self.0))
    }
    fn declare_scope<'a>(
        &'a self,
        scope: &'a str,
        max: usize,
    ) -> refresh_rotation::store::BoxFuture<'a, Result<(), refresh_rotation::error::StoreError>>
    {
        later(move || refresh_rotation::store::ClientStore::declare_scope(&self.0, scope, max))
    }
    fn is_scope_declared<'a>(
        &'a self,
        scope: &'a str,
    ) -> refresh_rotation::store::BoxFuture<'a, Result<bool, refresh_rotation::error::StoreError>>
    {
        later(move || refresh_rotation::store::ClientStore::is_scope_declared(&self.0, scope))
    }
    fn scopes(
        &self,
    ) -> refresh_rotation::store::BoxFuture<
        '_,
        Result<Vec<String>, refresh_rotation::error::StoreError>,
    > {
        later(move || refresh_rotation::store::ClientStore::scopes(&self.0))
    }
}

/// R-ENG-2: the five client operations in Cognito's JSON run over a store that awaits I/O through
/// their `_async` forms, with the answers of the synchronous forms; the synchronous forms say to use
/// the `_async` ones instead of blocking.
#[test]
fn r_eng_2_wire_client_operations_await_an_asynchronous_store() {
    use refresh_rotation::testkit::clients::block_on;
    use refresh_rotation::wire::{DeleteUserPoolClientRequest, ListUserPoolClientsRequest};
    let registry = ClientRegistry::new(
        POOL,
        Arc::new(ManualClock::new(Timestamp::from_unix_seconds(T0))),
        Arc::new(Counter(AtomicU64::new(1))),
    )
    .with_store(Arc::new(Slow(Default::default())));
    let create: CreateUserPoolClientRequest = from_json(
        json!({"UserPoolId": POOL, "ClientName": "web", "GenerateSecret": true})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    let e = registry.create_user_pool_client(&create).unwrap_err();
    assert!(
        matches!(e, Error::Internal { detail } if detail.contains("_async")),
        "{e:?}"
    );
    let created = block_on(registry.create_user_pool_client_async(&create)).unwrap();
    let client = created.user_pool_client.unwrap();
    let id = client.client_id.clone().unwrap();
    let described = block_on(registry.describe_user_pool_client_async(
        &DescribeUserPoolClientRequest {
            user_pool_id: Some(POOL.into()),
            client_id: Some(id.clone()),
        },
    ))
    .unwrap()
    .user_pool_client
    .unwrap();
    assert_eq!(to_json(&described).unwrap(), to_json(&client).unwrap());
    let update: UpdateUserPoolClientRequest = from_json(
        json!({"UserPoolId": POOL, "ClientId": id, "ClientName": "renamed",
               "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 20}})
        .to_string()
        .as_bytes(),
    )
    .unwrap();
    let updated = block_on(registry.update_user_pool_client_async(&update))
        .unwrap()
        .user_pool_client
        .unwrap();
    assert_eq!(updated.client_name.as_deref(), Some("renamed"));
    let listed = block_on(
        registry.list_user_pool_clients_async(&ListUserPoolClientsRequest {
            user_pool_id: Some(POOL.into()),
            ..Default::default()
        }),
    )
    .unwrap();
    assert_eq!(listed.user_pool_clients.unwrap().len(), 1);
    block_on(
        registry.delete_user_pool_client_async(&DeleteUserPoolClientRequest {
            user_pool_id: Some(POOL.into()),
            client_id: Some(id.clone()),
        }),
    )
    .unwrap();
    let e = block_on(
        registry.describe_user_pool_client_async(&DescribeUserPoolClientRequest {
            user_pool_id: Some(POOL.into()),
            client_id: Some(id),
        }),
    )
    .unwrap_err();
    assert_eq!(e.exception_name(), "ResourceNotFoundException");
}

/// R-SAFE-2: ClientIdType is a sensitive member in the API model: a malformed ClientId is refused
/// without its value in the message, as the token operations refuse it.
#[test]
fn r_safe_2_a_malformed_client_id_is_not_echoed() {
    let r = registry();
    let describe: DescribeUserPoolClientRequest =
        from_json(format!(r#"{{"UserPoolId":"{POOL}","ClientId":"my id!"}}"#).as_bytes()).unwrap();
    let e = r.describe_user_pool_client(&describe).unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert!(e.message().contains("'ClientId'"), "{}", e.message());
    assert!(!e.message().contains("my id!"), "{}", e.message());
}

/// R-CLI-3 under concurrency: an UpdateUserPoolClient without ClientName keeps the name the client has
/// when the update is stored, so it never undoes a rename that landed between its read and its write.
mod update_race {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use refresh_rotation::clock::{ManualClock, Timestamp};
    use refresh_rotation::random::SystemRandom;
    use refresh_rotation::store::{
        AppClient, ClientStore, InMemoryClientStore, Replace, StoreError,
    };
    use refresh_rotation::wire::*;
    use refresh_rotation::{AppClientConfig, ClientRegistry};

    const POOL: &str = "us-east-1_Example";

    /// A client store that, the first time a replacement is attempted while `armed`, lets another
    /// writer rename the client first (a concurrent UpdateUserPoolClient that landed in between).
    struct RacingStore {
        inner: InMemoryClientStore,
        armed: AtomicBool,
    }

    impl ClientStore for RacingStore {
        fn get(&self, id: &str) -> Result<Option<Arc<AppClient>>, StoreError> {
            self.inner.get(id)
        }
        fn insert(&self, c: Arc<AppClient>, max: usize) -> Result<(), StoreError> {
            self.inner.insert(c, max)
        }
        fn replace(&self, c: Arc<AppClient>, expected: u64) -> Result<Replace, StoreError> {
            if self.armed.swap(false, Ordering::SeqCst) {
                // The other writer: renames the client, one revision on.
                let stored = self.inner.get(c.client_id()).unwrap().unwrap();
                let mut parts = stored.to_parts();
                parts.config = stored
                    .config()
                    .to_builder()
                    .client_name("renamed-by-other-writer")
                    .build()
                    .unwrap();
                parts.revision += 1;
                assert_eq!(
                    self.inner
                        .replace(Arc::new(AppClient::from_parts(parts)), stored.revision())
                        .unwrap(),
                    Replace::Replaced
                );
            }
            self.inner.replace(c, expected)
        }
        fn delete(&self, id: &str) -> Result<bool, StoreError> {
            self.inner.delete(id)
        }
        fn list(
            &self,
            after: Option<&str>,
            limit: usize,
        ) -> Result<Vec<Arc<AppClient>>, StoreError> {
            self.inner.list(after, limit)
        }
        fn count(&self) -> Result<usize, StoreError> {
            self.inner.count()
        }
        fn declare_scope(&self, s: &str, max: usize) -> Result<(), StoreError> {
            self.inner.declare_scope(s, max)
        }
        fn is_scope_declared(&self, s: &str) -> Result<bool, StoreError> {
            self.inner.is_scope_declared(s)
        }
        fn scopes(&self) -> Result<Vec<String>, StoreError> {
            self.inner.scopes()
        }
    }

    fn registry(armed: bool) -> (Arc<RacingStore>, ClientRegistry, String) {
        let store = Arc::new(RacingStore {
            inner: InMemoryClientStore::new(),
            armed: AtomicBool::new(false),
        });
        let registry = ClientRegistry::new(
            POOL,
            Arc::new(ManualClock::new(Timestamp::from_unix_seconds(
                1_700_000_000,
            ))),
            Arc::new(SystemRandom::new()),
        )
        .with_store(store.clone());
        let id = registry
            .create_client(AppClientConfig::builder("original"), Default::default())
            .unwrap()
            .client_id()
            .to_string();
        store.armed.store(armed, Ordering::SeqCst);
        (store, registry, id)
    }

    fn update(registry: &ClientRegistry, body: String) {
        let req: UpdateUserPoolClientRequest = from_json(body.as_bytes()).unwrap();
        registry.update_user_pool_client(&req).unwrap();
    }

    #[test]
    fn r_cli_3_update_without_client_name_does_not_revert_a_concurrent_rename() {
        let (_, registry, id) = registry(true);
        update(
            &registry,
            format!(r#"{{"UserPoolId":"{POOL}","ClientId":"{id}","AuthSessionValidity":10}}"#),
        );
        let now = registry.describe_client(&id).unwrap();
        assert_eq!(now.config().auth_session_validity(), 10);
        // Whichever order the two updates are taken in, the rename survives.
        assert_eq!(now.config().client_name(), "renamed-by-other-writer");
    }

    #[test]
    fn r_cli_3_update_with_client_name_sets_it_even_over_a_concurrent_rename() {
        let (_, registry, id) = registry(true);
        update(
            &registry,
            format!(r#"{{"UserPoolId":"{POOL}","ClientId":"{id}","ClientName":"mine"}}"#),
        );
        // This update named the client: as the later of the two, its name is the one kept.
        assert_eq!(
            registry
                .describe_client(&id)
                .unwrap()
                .config()
                .client_name(),
            "mine"
        );
    }
}

/// R-CFG-2 and the model's order: a request member that breaks a constraint of the API model
/// (AccessTokenValidityType min=1, ClientNameType pattern `[\w\s+=,.@-]+`) is reported as
/// InvalidParameterException before the pool or the client is looked up, as Cognito validates a request
/// against its model before the operation runs. Update of an unknown client and Create in another pool
/// must not answer ResourceNotFoundException for such a request.
#[test]
fn r_cfg_2_model_violations_come_before_resource_not_found() {
    let r = registry();
    let update: UpdateUserPoolClientRequest = from_json(
        br#"{"UserPoolId":"us-east-1_Example","ClientId":"nosuchclient","AccessTokenValidity":0}"#,
    )
    .unwrap();
    let e = r.update_user_pool_client(&update).unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException", "{e}");
    assert!(e.message().contains("'AccessTokenValidity'"), "{e}");
    let create: CreateUserPoolClientRequest =
        from_json(br#"{"UserPoolId":"us-east-1_Other","ClientName":"a/b"}"#).unwrap();
    let e = r.create_user_pool_client(&create).unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException", "{e}");
    assert!(e.message().contains("'ClientName'"), "{e}");
    // The service's own rules (R-CFG-3's token validity range, here) are judged in the pool the request
    // names, so a pool or client that does not exist comes first (R-CLI-5).
    let days = r#""AccessTokenValidity":2,"TokenValidityUnits":{"AccessToken":"days"}"#;
    let create: CreateUserPoolClientRequest = from_json(
        format!(r#"{{"UserPoolId":"us-east-1_Other","ClientName":"app",{days}}}"#).as_bytes(),
    )
    .unwrap();
    let e = r.create_user_pool_client(&create).unwrap_err();
    assert_eq!(e.exception_name(), "ResourceNotFoundException", "{e}");
    let update: UpdateUserPoolClientRequest = from_json(
        format!(r#"{{"UserPoolId":"us-east-1_Example","ClientId":"nosuchclient",{days}}}"#)
            .as_bytes(),
    )
    .unwrap();
    let e = r.update_user_pool_client(&update).unwrap_err();
    assert_eq!(e.exception_name(), "ResourceNotFoundException", "{e}");
    // In the registry's own pool, the rule is judged.
    let create: CreateUserPoolClientRequest = from_json(
        format!(r#"{{"UserPoolId":"us-east-1_Example","ClientName":"app",{days}}}"#).as_bytes(),
    )
    .unwrap();
    let e = r.create_user_pool_client(&create).unwrap_err();
    assert!(
        e.message().starts_with("Invalid range for token validity."),
        "{e}"
    );
}

/// R-CFG-2: model constraints the validator files under rules other than 1 and 2 (AuthSessionValidityType
/// 3..15, RetryGracePeriodSeconds 0..60, RefreshTokenRotation.Feature required, ClientSecretType,
/// CallbackURLs at most 100 items) are API-model constraints too (docs R-CFG-2 table), so they must come
/// before ResourceNotFoundException as well.
#[test]
fn r_cfg_2_every_model_constraint_comes_before_resource_not_found() {
    let r = registry();
    let urls: Vec<String> = (0..101).map(|i| format!("https://e.example/{i}")).collect();
    let urls = serde_json::to_string(&urls).unwrap();
    for member in [
        r#""AuthSessionValidity":99"#.to_owned(),
        r#""RefreshTokenRotation":{"Feature":"ENABLED","RetryGracePeriodSeconds":999}"#.to_owned(),
        r#""RefreshTokenRotation":{"RetryGracePeriodSeconds":10}"#.to_owned(),
        format!(r#""CallbackURLs":{urls}"#),
    ] {
        let update: UpdateUserPoolClientRequest = from_json(
            format!(r#"{{"UserPoolId":"us-east-1_Example","ClientId":"nosuchclient",{member}}}"#)
                .as_bytes(),
        )
        .unwrap();
        let e = r.update_user_pool_client(&update).unwrap_err();
        assert_eq!(
            e.exception_name(),
            "InvalidParameterException",
            "update {member}: {e}"
        );
    }
    let create: CreateUserPoolClientRequest =
        from_json(br#"{"UserPoolId":"us-east-1_Other","ClientName":"app","ClientSecret":"a b"}"#)
            .unwrap();
    let e = r.create_user_pool_client(&create).unwrap_err();
    assert_eq!(
        e.exception_name(),
        "InvalidParameterException",
        "create ClientSecret: {e}"
    );
}

/// R-CFG-11, R-CFG-14: the rules that depend on the client's secret are judged only for a client the
/// request identifies. An Update of a client that cannot be found (a malformed ClientId, or an unknown
/// one with a model violation) reports its own violations, not "needs a client secret", which would
/// claim of a client nobody identified that it has none.
#[test]
fn r_cfg_11_r_cfg_14_are_not_judged_for_a_client_the_update_does_not_identify() {
    let r = registry();
    let needs_secret = r#""AllowedOAuthFlowsUserPoolClient":true,"AllowedOAuthFlows":["client_credentials"],
        "AllowedOAuthScopes":["https://api.example.com/orders.read"],
        "EnablePropagateAdditionalUserContextData":true"#;
    for (ids, field) in [
        (r#""ClientId":"a-b""#, "ClientId"),
        (
            r#""ClientId":"nosuchclient","AccessTokenValidity":0"#,
            "AccessTokenValidity",
        ),
    ] {
        let update: UpdateUserPoolClientRequest = from_json(
            format!(r#"{{"UserPoolId":"us-east-1_Example",{ids},{needs_secret}}}"#).as_bytes(),
        )
        .unwrap();
        let e = r.update_user_pool_client(&update).unwrap_err();
        let Error::InvalidConfig(v) = &e else {
            panic!("{e:?}")
        };
        let fields: Vec<(u8, &str)> = v
            .violations()
            .iter()
            .map(|x| (x.rule, x.field.as_str()))
            .collect();
        assert_eq!(fields, [(2, field)], "{e}");
        assert_eq!(e.exception_name(), "InvalidParameterException");
    }
}

/// R-WIRE-1: a fractional epoch-second date is truncated toward negative infinity, also before 1970.
#[test]
fn r_wire_1_fractional_dates_are_floored() {
    let c: UserPoolClientType =
        serde_json::from_str(r#"{"CreationDate":-0.5,"LastModifiedDate":-1700000000.25}"#).unwrap();
    assert_eq!(c.creation_date, Some(-1));
    assert_eq!(c.last_modified_date, Some(-1_700_000_001));
}
