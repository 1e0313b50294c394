//! R-CLI: the client registry's lifecycle (SPEC 2.3).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use refresh_rotation::clock::{ManualClock, Timestamp};
use refresh_rotation::config::{ExplicitAuthFlow, OAuthFlow, RefreshTokenRotation, TimeUnit};
use refresh_rotation::random::{RandomSource, SystemRandom};
use refresh_rotation::registry::RestoreClient;
use refresh_rotation::wire::{
    from_json, CreateUserPoolClientRequest, DeleteUserPoolClientRequest,
    DescribeUserPoolClientRequest, ListUserPoolClientsRequest, UpdateUserPoolClientRequest,
    UserPoolClientOperations as _,
};
use refresh_rotation::{AppClientConfig, ClientRegistry, ClientSecret, Error, NewClientSecret};
use serde_json::json;

const POOL: &str = "us-east-1_Example";
const T0: i64 = 1_700_000_000;

fn setup() -> (ClientRegistry, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_seconds(T0)));
    let r = ClientRegistry::new(POOL, clock.clone(), Arc::new(SystemRandom::new()));
    (r, clock)
}

fn create_json(r: &ClientRegistry, v: serde_json::Value) -> Result<String, Error> {
    let req: CreateUserPoolClientRequest = from_json(&serde_json::to_vec(&v).unwrap())?;
    let resp = r.create_user_pool_client(&req)?;
    Ok(resp.user_pool_client.unwrap().client_id.unwrap())
}

fn update_json(r: &ClientRegistry, v: serde_json::Value) -> Result<(), Error> {
    let req: UpdateUserPoolClientRequest = from_json(&serde_json::to_vec(&v).unwrap())?;
    r.update_user_pool_client(&req).map(|_| ())
}

#[test]
fn r_cli_1_ids_and_secrets_have_cognitos_shape_and_are_unique() {
    let (r, _) = setup();
    let mut ids = BTreeSet::new();
    for _ in 0..50 {
        let c = r
            .create_client(AppClientConfig::builder("app"), NewClientSecret::Generate)
            .unwrap();
        let id = c.client_id();
        assert_eq!(id.len(), 26);
        assert!(
            id.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{id}"
        );
        let s = c.secret().unwrap().expose_secret();
        assert_eq!(s.len(), 51);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{s}"
        );
        assert!(ids.insert(id.to_string()));
    }
    let public = r
        .create_client(AppClientConfig::builder("spa"), NewClientSecret::None)
        .unwrap();
    assert!(public.secret().is_none());
    let custom = r
        .create_client(
            AppClientConfig::builder("m2m"),
            NewClientSecret::Provided(ClientSecret::new("my_custom_secret_of_30_chars_x")),
        )
        .unwrap();
    assert!(custom
        .secret()
        .unwrap()
        .verify("my_custom_secret_of_30_chars_x"));
}

/// A random source that repeats one byte pattern: every id it yields is the same.
struct Stuck;
impl RandomSource for Stuck {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        dest.iter_mut().enumerate().for_each(|(i, b)| *b = i as u8);
        Ok(())
    }
}

#[test]
fn r_cli_1_client_ids_stay_unique_even_with_a_broken_random_source() {
    let r = ClientRegistry::new(
        POOL,
        Arc::new(ManualClock::new(Timestamp::EPOCH)),
        Arc::new(Stuck),
    );
    r.create_client(AppClientConfig::builder("a"), NewClientSecret::None)
        .unwrap();
    let e = r
        .create_client(AppClientConfig::builder("b"), NewClientSecret::None)
        .unwrap_err();
    assert_eq!(e.exception_name(), "InternalErrorException");
    assert_eq!(r.len().unwrap(), 1);
}

/// A random source whose every byte is one rejection sampling throws away.
struct AllRejected;

impl RandomSource for AllRejected {
    fn fill(&self, dest: &mut [u8]) -> Result<(), Error> {
        dest.fill(0xFF);
        Ok(())
    }
}

/// R-SAFE-1 with R-CLI-1: a random source that only gives bytes the client id's rejection sampling
/// throws away makes Create fail with an internal error, not spin forever; nothing is created.
#[test]
fn r_safe_1_a_random_source_of_rejected_bytes_fails_create_instead_of_hanging() {
    let r = ClientRegistry::new(
        POOL,
        Arc::new(ManualClock::new(Timestamp::EPOCH)),
        Arc::new(AllRejected),
    );
    let e = r
        .create_client(AppClientConfig::builder("a"), NewClientSecret::None)
        .unwrap_err();
    assert_eq!(e.exception_name(), "InternalErrorException");
    assert_eq!(r.len().unwrap(), 0);
}

#[test]
fn r_cli_2_dates_come_from_the_clock() {
    let (r, clock) = setup();
    let c = r
        .create_client(AppClientConfig::builder("app"), NewClientSecret::None)
        .unwrap();
    assert_eq!(c.creation_date().unix_seconds(), T0);
    assert_eq!(c.last_modified_date().unix_seconds(), T0);
    clock.advance(500);
    let u = r
        .replace_client(c.client_id(), AppClientConfig::builder("app2"))
        .unwrap();
    assert_eq!(u.creation_date().unix_seconds(), T0);
    assert_eq!(u.last_modified_date().unix_seconds(), T0 + 500);
}

/// A clock that steps back (an NTP correction), or a restored client whose dates came from a machine
/// ahead of this one, must not give an update a LastModifiedDate before the client's CreationDate or
/// before its previous modification.
#[test]
fn r_cli_2_last_modified_date_never_moves_backwards() {
    let (r, clock) = setup();
    let c = r
        .create_client(AppClientConfig::builder("app"), NewClientSecret::None)
        .unwrap();
    clock.advance(500);
    let u = r
        .replace_client(c.client_id(), AppClientConfig::builder("app2"))
        .unwrap();
    assert_eq!(u.last_modified_date().unix_seconds(), T0 + 500);
    clock.set(Timestamp::from_unix_seconds(T0 - 100));
    let back = r
        .replace_client(c.client_id(), AppClientConfig::builder("app3"))
        .unwrap();
    assert_eq!(back.last_modified_date().unix_seconds(), T0 + 500);
    assert_eq!(back.creation_date().unix_seconds(), T0);

    // Restored with dates ahead of this machine's clock.
    let mut ahead = restore_request(KNOWN_ID, None);
    ahead.creation_date = Timestamp::from_unix_seconds(T0 + 1_000);
    ahead.last_modified_date = Timestamp::from_unix_seconds(T0 + 2_000);
    r.restore_client(ahead).unwrap();
    let u = r
        .update_client_with(KNOWN_ID, |b| b.client_name("renamed"))
        .unwrap();
    assert_eq!(u.creation_date().unix_seconds(), T0 + 1_000);
    assert_eq!(u.last_modified_date().unix_seconds(), T0 + 2_000);
}

#[test]
fn r_cli_3_update_resets_omitted_fields_to_defaults_and_keeps_the_secret() {
    let (r, clock) = setup();
    let id = create_json(
        &r,
        json!({
            "UserPoolId": POOL, "ClientName": "web", "GenerateSecret": true,
            "AccessTokenValidity": 10, "IdTokenValidity": 10, "RefreshTokenValidity": 7,
            "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
            "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH"],
            "RefreshTokenRotation": {"Feature": "ENABLED", "RetryGracePeriodSeconds": 30},
            "EnableTokenRevocation": false, "AuthSessionValidity": 10,
            "PreventUserExistenceErrors": "ENABLED"
        }),
    )
    .unwrap();
    let before = r.get(&id).unwrap().unwrap();
    assert!(before.config().refresh_token_rotation().is_enabled());
    clock.advance(60);

    update_json(&r, json!({"UserPoolId": POOL, "ClientId": id})).unwrap();
    let after = r.get(&id).unwrap().unwrap();
    let c = after.config();
    assert_eq!(
        c.client_name(),
        "web",
        "ClientName has no default and is kept"
    );
    assert_eq!(c.access_token_validity_secs(), 3_600);
    assert_eq!(c.id_token_validity_secs(), 3_600);
    assert_eq!(c.refresh_token_validity_secs(), 30 * 86_400);
    assert_eq!(c.refresh_token_rotation(), RefreshTokenRotation::DISABLED);
    assert!(c.allows_flow(ExplicitAuthFlow::AllowRefreshTokenAuth));
    assert!(!c.allows_flow(ExplicitAuthFlow::AllowUserPasswordAuth));
    assert!(c.enable_token_revocation());
    assert_eq!(c.auth_session_validity(), 3);
    assert_eq!(
        *c,
        AppClientConfig::builder("web")
            .build()
            .unwrap()
            .to_builder()
            .build()
            .unwrap()
    );

    let s_before = before.secret().unwrap().expose_secret();
    assert_eq!(
        after.secret().unwrap().expose_secret(),
        s_before,
        "secret kept"
    );
    assert_eq!(after.creation_date(), before.creation_date());
    assert_eq!(after.last_modified_date().unix_seconds(), T0 + 60);
}

#[test]
fn r_cli_3_update_cannot_touch_the_secret() {
    let (r, _) = setup();
    let id = create_json(
        &r,
        json!({"UserPoolId": POOL, "ClientName": "a", "GenerateSecret": true}),
    )
    .unwrap();
    for member in [
        json!({"ClientSecret": "x".repeat(30)}),
        json!({"GenerateSecret": false}),
    ] {
        let mut body = json!({"UserPoolId": POOL, "ClientId": id});
        for (k, v) in member.as_object().unwrap() {
            body[k] = v.clone();
        }
        let e = update_json(&r, body).unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
    }
    assert!(r.get(&id).unwrap().unwrap().secret().is_some());
}

#[test]
fn r_cli_3_update_validates_in_the_clients_secret_context() {
    let (r, _) = setup();
    let public = create_json(&r, json!({"UserPoolId": POOL, "ClientName": "p"})).unwrap();
    let confidential = create_json(
        &r,
        json!({"UserPoolId": POOL, "ClientName": "c", "GenerateSecret": true}),
    )
    .unwrap();
    let body = |id: &str| json!({"UserPoolId": POOL, "ClientId": id, "EnablePropagateAdditionalUserContextData": true});
    assert!(update_json(&r, body(&confidential)).is_ok());
    let e = update_json(&r, body(&public)).unwrap_err();
    let Error::InvalidConfig(v) = e else { panic!() };
    assert!(v.has(14, "EnablePropagateAdditionalUserContextData"));
}

#[test]
fn r_cli_4_merge_update_changes_named_fields_only() {
    let (r, _) = setup();
    let c = r
        .create_client(
            AppClientConfig::builder("app")
                .access_token_validity(15, TimeUnit::Minutes)
                .enable_token_revocation(false)
                .callback_urls(["https://e.com/cb"]),
            NewClientSecret::None,
        )
        .unwrap();
    let u = r
        .update_client_with(c.client_id(), |b| {
            b.refresh_token_rotation(RefreshTokenRotation::enabled(10).unwrap())
        })
        .unwrap();
    let cfg = u.config();
    assert_eq!(cfg.access_token_validity_secs(), 900, "kept");
    assert!(!cfg.enable_token_revocation(), "kept");
    assert_eq!(cfg.callback_urls(), ["https://e.com/cb"]);
    assert_eq!(
        cfg.refresh_token_rotation().retry_grace_period_seconds(),
        10
    );
    // The defaulted flows follow rotation rather than being frozen with ALLOW_REFRESH_TOKEN_AUTH.
    assert!(!cfg.allows_flow(ExplicitAuthFlow::AllowRefreshTokenAuth));

    // Validated the same way: an invalid merge changes nothing.
    let e = r
        .update_client_with(c.client_id(), |b| {
            b.auth_session_validity(99)
                .access_token_validity(2, TimeUnit::Days)
        })
        .unwrap_err();
    let Error::InvalidConfig(v) = &e else {
        panic!("{e:?}")
    };
    assert!(v.has(15, "AuthSessionValidity") && v.has(3, "AccessTokenValidity"));
    assert!(Arc::ptr_eq(&r.get(c.client_id()).unwrap().unwrap(), &u));
}

#[test]
fn r_cli_5_unknown_client() {
    let (r, _) = setup();
    let msg = "User pool client nosuchclient does not exist.";
    let e = r.describe_client("nosuchclient").unwrap_err();
    assert_eq!(
        (e.exception_name(), e.message().as_str()),
        ("ResourceNotFoundException", msg)
    );
    let e = r.delete_client("nosuchclient").unwrap_err();
    assert_eq!(e.message(), msg);
    let e = r
        .replace_client("nosuchclient", AppClientConfig::builder("x"))
        .unwrap_err();
    assert_eq!(e.message(), msg);
    let e = r.update_client_with("nosuchclient", |b| b).unwrap_err();
    assert_eq!(e.message(), msg);

    let ids = json!({"UserPoolId": POOL, "ClientId": "nosuchclient"});
    let e = r
        .describe_user_pool_client(
            &serde_json::from_value::<DescribeUserPoolClientRequest>(ids.clone()).unwrap(),
        )
        .unwrap_err();
    assert_eq!(
        (e.exception_name(), e.message().as_str()),
        ("ResourceNotFoundException", msg)
    );
    let e = r
        .delete_user_pool_client(
            &serde_json::from_value::<DeleteUserPoolClientRequest>(ids.clone()).unwrap(),
        )
        .unwrap_err();
    assert_eq!(e.message(), msg);
    // Update of an unknown client is not found even when its configuration would be invalid.
    let mut body = ids.clone();
    body["EnablePropagateAdditionalUserContextData"] = json!(true);
    let e = update_json(&r, body).unwrap_err();
    assert_eq!(e.message(), msg);
}

#[test]
fn wrong_pool_is_user_pool_not_found_and_malformed_ids_are_invalid_parameter() {
    let (r, _) = setup();
    let e = create_json(
        &r,
        json!({"UserPoolId": "eu-west-1_Other", "ClientName": "a"}),
    )
    .unwrap_err();
    assert_eq!(e.exception_name(), "ResourceNotFoundException");
    assert!(matches!(e, Error::UserPoolNotFound { .. }));
    let e = r
        .describe_user_pool_client(&DescribeUserPoolClientRequest {
            user_pool_id: Some("eu-west-1_Other".into()),
            client_id: Some("abc".into()),
        })
        .unwrap_err();
    assert!(matches!(e, Error::UserPoolNotFound { .. }));
    let e = r
        .describe_user_pool_client(&DescribeUserPoolClientRequest {
            user_pool_id: None,
            client_id: Some("a-b".into()),
        })
        .unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert!(
        e.message().starts_with("2 validation errors detected: "),
        "{}",
        e.message()
    );
    assert!(
        e.message().contains("UserPoolId") && e.message().contains(r"[\w+]+"),
        "{}",
        e.message()
    );
}

#[test]
fn failed_create_and_update_change_nothing() {
    let (r, _) = setup();
    let e = create_json(
        &r,
        json!({"UserPoolId": POOL, "ClientName": "a", "AuthSessionValidity": 1}),
    )
    .unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert!(r.is_empty().unwrap());
    assert!(r
        .create_client(
            AppClientConfig::builder("a").auth_session_validity(1),
            NewClientSecret::Generate
        )
        .is_err());
    assert!(r.is_empty().unwrap());

    let id = create_json(
        &r,
        json!({"UserPoolId": POOL, "ClientName": "a", "AccessTokenValidity": 2}),
    )
    .unwrap();
    let before = r.get(&id).unwrap().unwrap();
    let e = update_json(
        &r,
        json!({"UserPoolId": POOL, "ClientId": id, "ClientName": "b", "AccessTokenValidity": 99}),
    )
    .unwrap_err();
    assert!(matches!(e, Error::InvalidConfig(_)));
    assert!(
        Arc::ptr_eq(&before, &r.get(&id).unwrap().unwrap()),
        "stored client untouched"
    );
    assert!(r
        .replace_client(&id, AppClientConfig::builder("c").auth_session_validity(0))
        .is_err());
    assert!(Arc::ptr_eq(&before, &r.get(&id).unwrap().unwrap()));
    assert_eq!(r.len().unwrap(), 1);
}

#[test]
fn r_cli_6_deleted_client_is_gone() {
    let (r, _) = setup();
    let id = create_json(&r, json!({"UserPoolId": POOL, "ClientName": "a"})).unwrap();
    let held = r.get(&id).unwrap().unwrap();
    r.delete_user_pool_client(&DeleteUserPoolClientRequest {
        user_pool_id: Some(POOL.into()),
        client_id: Some(id.clone()),
    })
    .unwrap();
    assert!(
        r.get(&id).unwrap().is_none(),
        "the issuer's lookup fails from now on"
    );
    assert_eq!(held.client_id().as_ref(), id, "snapshots stay readable");
    assert_eq!(
        r.delete_client(&id).unwrap_err().exception_name(),
        "ResourceNotFoundException"
    );
}

#[test]
fn r_cli_7_list_paginates_130_clients() {
    let (r, _) = setup();
    let mut created = BTreeSet::new();
    for i in 0..130 {
        let c = r
            .create_client(
                AppClientConfig::builder(format!("app {i}")),
                NewClientSecret::None,
            )
            .unwrap();
        created.insert(c.client_id().to_string());
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let req = ListUserPoolClientsRequest {
            user_pool_id: Some(POOL.into()),
            max_results: Some(60),
            next_token: token.clone(),
            client_type: None,
        };
        let resp = r.list_user_pool_clients(&req).unwrap();
        let page = resp.user_pool_clients.unwrap();
        pages.push(page.len());
        for d in page {
            assert_eq!(d.user_pool_id.as_deref(), Some(POOL));
            assert!(d.client_name.unwrap().starts_with("app "));
            seen.push(d.client_id.unwrap());
        }
        match resp.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(pages, [60, 60, 10]);
    assert_eq!(seen.len(), 130);
    assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), created);

    // Deleting the client a token points after does not break the walk.
    let first = r.list_clients(1, None).unwrap();
    let t = first.next_token.unwrap();
    r.delete_client(first.clients[0].client_id()).unwrap();
    assert_eq!(r.list_clients(60, Some(&t)).unwrap().clients.len(), 60);
    // More than a page left: a next token.
    assert!(r.list_clients(60, None).unwrap().next_token.is_some());
    let all = r.list_user_pool_clients(&ListUserPoolClientsRequest {
        user_pool_id: Some(POOL.into()),
        ..Default::default()
    });
    assert_eq!(
        all.unwrap().user_pool_clients.unwrap().len(),
        60,
        "MaxResults defaults to 60"
    );
}

#[test]
fn r_cli_7_list_refuses_bad_parameters() {
    let (r, _) = setup();
    r.create_client(AppClientConfig::builder("a"), NewClientSecret::None)
        .unwrap();
    r.create_client(AppClientConfig::builder("b"), NewClientSecret::None)
        .unwrap();
    let list = |max: Option<i64>, token: Option<&str>, ty: Option<&str>| {
        r.list_user_pool_clients(&ListUserPoolClientsRequest {
            user_pool_id: Some(POOL.into()),
            max_results: max,
            next_token: token.map(str::to_owned),
            client_type: ty.map(str::to_owned),
        })
    };
    for (max, token, ty) in [
        (Some(0), None, None),
        (Some(61), None, None),
        (Some(-5), None, None),
        (None, Some("garbled!token"), None),
        (None, Some("Z2FyYmFnZQ"), None),
        (None, Some(""), None),
        (None, None, Some("OTHER")),
    ] {
        let e = list(max, token, ty).unwrap_err();
        assert_eq!(
            e.exception_name(),
            "InvalidParameterException",
            "{max:?} {token:?} {ty:?}"
        );
    }
    assert_eq!(
        list(Some(1), None, None)
            .unwrap()
            .user_pool_clients
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        list(None, None, Some("REGULAR"))
            .unwrap()
            .user_pool_clients
            .unwrap()
            .len(),
        2
    );
    let exact = list(Some(2), None, None).unwrap();
    assert_eq!(exact.user_pool_clients.unwrap().len(), 2);
    assert_eq!(exact.next_token, None, "exactly one page: no NextToken");
    assert_eq!(
        list(None, None, Some("DCR"))
            .unwrap()
            .user_pool_clients
            .unwrap()
            .len(),
        0
    );

    // A token from another pool's registry is refused.
    let other = ClientRegistry::new(
        "us-east-1_Other",
        Arc::new(ManualClock::new(Timestamp::EPOCH)),
        Arc::new(SystemRandom::new()),
    );
    other
        .create_client(AppClientConfig::builder("a"), NewClientSecret::None)
        .unwrap();
    other
        .create_client(AppClientConfig::builder("b"), NewClientSecret::None)
        .unwrap();
    let foreign = other.list_clients(1, None).unwrap().next_token.unwrap();
    // With the DCR filter (an empty page: no such clients here) too.
    assert_eq!(
        list(None, Some(&foreign), Some("DCR"))
            .unwrap_err()
            .exception_name(),
        "InvalidParameterException"
    );
    assert_eq!(
        r.list_clients(1, Some(&foreign))
            .unwrap_err()
            .exception_name(),
        "InvalidParameterException"
    );
}

#[test]
fn registry_size_is_bounded() {
    let clock = Arc::new(ManualClock::new(Timestamp::EPOCH));
    let r = ClientRegistry::new(POOL, clock, Arc::new(SystemRandom::new())).with_max_clients(3);
    for _ in 0..3 {
        r.create_client(AppClientConfig::builder("a"), NewClientSecret::None)
            .unwrap();
    }
    let e = r
        .create_client(AppClientConfig::builder("a"), NewClientSecret::None)
        .unwrap_err();
    assert_eq!(e.exception_name(), "LimitExceededException");
    assert_eq!(r.len().unwrap(), 3);
}

#[test]
fn r_cfg_13_custom_scopes_are_declared_with_checks() {
    let (r, _) = setup();
    r.declare_custom_scope("https://api.example.com/read")
        .unwrap();
    r.declare_custom_scope("https://api.example.com/read")
        .unwrap();
    assert!(r
        .is_custom_scope_declared("https://api.example.com/read")
        .unwrap());
    for bad in ["noslash", "/name", "id/", "has space/x", "a\"b/c", ""] {
        assert_eq!(
            r.declare_custom_scope(bad).unwrap_err().exception_name(),
            "InvalidParameterException",
            "{bad}"
        );
    }
    let cfg = AppClientConfig::builder("a")
        .allowed_oauth_flows_user_pool_client(true)
        .allowed_oauth_flows([refresh_rotation::config::OAuthFlow::ClientCredentials])
        .allowed_oauth_scopes(["https://api.example.com/read"]);
    r.create_client(cfg, NewClientSecret::Generate).unwrap();
}

/// A deterministic random source for reproducible ids (splitmix64 over a counter).
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

#[test]
fn ids_come_from_the_injected_random_source() {
    let make = || {
        ClientRegistry::new(
            POOL,
            Arc::new(ManualClock::new(Timestamp::EPOCH)),
            Arc::new(Counter(AtomicU64::new(7))),
        )
    };
    let a = make()
        .create_client(AppClientConfig::builder("a"), NewClientSecret::Generate)
        .unwrap();
    let b = make()
        .create_client(AppClientConfig::builder("a"), NewClientSecret::Generate)
        .unwrap();
    assert_eq!(a.client_id(), b.client_id());
    assert_eq!(
        a.secret().unwrap().expose_secret(),
        b.secret().unwrap().expose_secret()
    );
}

#[test]
fn concurrent_merge_updates_are_not_lost() {
    let (r, _) = setup();
    let r = Arc::new(r);
    let id = r
        .create_client(
            AppClientConfig::builder("a").read_attributes(Vec::<String>::new()),
            NewClientSecret::None,
        )
        .unwrap()
        .client_id()
        .clone();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (r, id) = (r.clone(), id.clone());
            std::thread::spawn(move || {
                let mut ok = 0;
                for i in 0..10 {
                    let attr = format!("custom:t{t}_{i}");
                    // Contention may exhaust the retries; only successful merges must all be kept.
                    ok += usize::from(
                        r.update_client_with(&id, |b| {
                            let mut attrs = r_attrs(&b);
                            attrs.push(attr.clone());
                            b.read_attributes(attrs)
                        })
                        .is_ok(),
                    );
                }
                ok
            })
        })
        .collect();
    let successes: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let n = r
        .get(&id)
        .unwrap()
        .unwrap()
        .config()
        .read_attributes()
        .len();
    assert!(successes > 0);
    assert_eq!(n, successes, "every successful merge is kept");

    fn r_attrs(b: &refresh_rotation::config::AppClientConfigBuilder) -> Vec<String> {
        b.clone()
            .build()
            .map(|c| c.read_attributes().to_vec())
            .unwrap_or_default()
    }
}

#[test]
fn r_cli_8_get_sees_a_changed_rotation_setting_at_once() {
    let (r, _) = setup();
    let c = r
        .create_client(AppClientConfig::builder("a"), NewClientSecret::None)
        .unwrap();
    let before = r.get(c.client_id()).unwrap().unwrap();
    r.update_client_with(c.client_id(), |b| {
        b.refresh_token_rotation(RefreshTokenRotation::enabled(20).unwrap())
            .access_token_validity(10, TimeUnit::Minutes)
    })
    .unwrap();
    let now = r.get(c.client_id()).unwrap().unwrap();
    assert!(
        !before.config().refresh_token_rotation().is_enabled(),
        "old snapshot unchanged"
    );
    assert_eq!(
        now.config()
            .refresh_token_rotation()
            .retry_grace_period_seconds(),
        20
    );
    assert_eq!(now.config().access_token_validity_secs(), 600);
}

// ---------------------------------------------------------------- Restore (R-PER-2)

const KNOWN_ID: &str = "1example23456789abcdefghij";

fn restore_request(id: &str, secret: Option<&str>) -> RestoreClient {
    RestoreClient {
        client_id: id.to_owned(),
        secret: secret.map(ClientSecret::new),
        creation_date: Timestamp::from_unix_seconds(1_600_000_000),
        last_modified_date: Timestamp::from_unix_seconds(1_650_000_000),
        config: AppClientConfig::builder("imported")
            .refresh_token_rotation(RefreshTokenRotation::enabled(10).unwrap()),
    }
}

#[test]
fn r_per_2_restore_keeps_id_secret_and_dates() {
    let (r, _) = setup();
    let secret = "restoredsecret0123456789abcdef";
    let c = r
        .restore_client(restore_request(KNOWN_ID, Some(secret)))
        .unwrap();
    let stored = r.describe_client(KNOWN_ID).unwrap();
    assert!(Arc::ptr_eq(&c, &stored));
    assert_eq!(stored.secret().unwrap().expose_secret(), secret);
    assert_eq!(
        stored.creation_date(),
        Timestamp::from_unix_seconds(1_600_000_000)
    );
    assert_eq!(
        stored.last_modified_date(),
        Timestamp::from_unix_seconds(1_650_000_000)
    );
    // A random start (R-CLI-4: no update of a deleted client of this id can match it).
    assert!((1 << 32..1 << 62).contains(&stored.revision()));
    assert_eq!(
        stored
            .config()
            .refresh_token_rotation()
            .retry_grace_period_seconds(),
        10
    );
    // The restored client is a client like any other: updates keep its id, secret and CreationDate.
    let u = r
        .update_client_with(KNOWN_ID, |b| b.client_name("renamed"))
        .unwrap();
    assert_eq!(
        u.creation_date(),
        Timestamp::from_unix_seconds(1_600_000_000)
    );
    assert_eq!(u.secret().unwrap().expose_secret(), secret);
}

#[test]
fn r_per_2_restore_refuses_an_existing_id_and_keeps_the_original() {
    let (r, _) = setup();
    r.restore_client(restore_request(KNOWN_ID, None)).unwrap();
    let mut again = restore_request(KNOWN_ID, Some("anothersecret0123456789abcdef"));
    again.config = AppClientConfig::builder("intruder");
    let e = r.restore_client(again).unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert!(e.message().contains("already exists"), "{}", e.message());
    let kept = r.describe_client(KNOWN_ID).unwrap();
    assert_eq!(kept.config().client_name(), "imported");
    assert!(kept.secret().is_none());
}

#[test]
fn r_per_2_restore_checks_id_secret_dates_and_config_together() {
    let (r, _) = setup();
    let mut bad = restore_request("Not-An-Id", Some("short"));
    bad.last_modified_date = Timestamp::from_unix_seconds(1_500_000_000);
    bad.config = AppClientConfig::builder("imported").access_token_validity(2, TimeUnit::Days);
    let e = r.restore_client(bad).unwrap_err();
    let Error::InvalidConfig(v) = &e else {
        panic!("{e:?}")
    };
    assert!(v.has(2, "ClientId"), "{e}");
    assert!(v.has(5, "ClientSecret"), "{e}");
    assert!(v.has(2, "LastModifiedDate"), "{e}");
    assert!(v.has(3, "AccessTokenValidity"), "{e}");
    assert!(
        !e.message().contains("short"),
        "secrets are never echoed: {e}"
    );
    assert!(r.is_empty().unwrap(), "nothing stored");
    for id in [
        "",
        "abcdefghijklmnopqrstuvwxyz0",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    ] {
        assert!(
            r.restore_client(restore_request(id, None)).is_err(),
            "{id:?}"
        );
    }
}

#[test]
fn r_per_2_restore_validates_in_the_pool_context() {
    let (r, _) = setup();
    // client_credentials needs a secret (R-CFG-11) and a custom scope must be declared (R-CFG-13).
    let mut req = restore_request(KNOWN_ID, None);
    req.config = AppClientConfig::builder("m2m")
        .allowed_oauth_flows_user_pool_client(true)
        .allowed_oauth_flows([OAuthFlow::ClientCredentials])
        .allowed_oauth_scopes(["api/read"]);
    assert!(r.restore_client(req.clone()).is_err());
    req.secret = Some(ClientSecret::new("machinesecret0123456789abcdef"));
    assert_eq!(
        r.restore_client(req.clone()).unwrap_err().exception_name(),
        "ScopeDoesNotExistException"
    );
    r.declare_custom_scope("api/read").unwrap();
    r.restore_client(req).unwrap();
}

#[test]
fn r_per_2_restore_respects_the_pool_bound() {
    let (r, _) = setup();
    let r = r.with_max_clients(1);
    r.create_client(AppClientConfig::builder("first"), NewClientSecret::None)
        .unwrap();
    let e = r
        .restore_client(restore_request(KNOWN_ID, None))
        .unwrap_err();
    assert_eq!(e.exception_name(), "LimitExceededException");
}

#[test]
fn r_cli_4_updates_advance_the_revision() {
    let (r, _) = setup();
    let c = r
        .create_client(AppClientConfig::builder("rev"), NewClientSecret::None)
        .unwrap();
    assert_eq!(c.revision(), 0);
    let u = r
        .update_client_with(c.client_id(), |b| b.client_name("rev1"))
        .unwrap();
    assert_eq!(u.revision(), 1);
    let u = r
        .replace_client(c.client_id(), AppClientConfig::builder("rev2"))
        .unwrap();
    assert_eq!(u.revision(), 2);
}

/// R-CLI-4: a merge update computed from a client that was deleted and then restored under the same id
/// (a leaked secret replaced, say) must not land on the restored client: it would bring back the
/// deleted client's secret, dates and configuration. It runs again on the restored client instead.
#[test]
fn r_cli_4_an_update_of_a_deleted_client_never_lands_on_the_one_restored_under_its_id() {
    let r = ClientRegistry::new(
        "us-east-1_Test",
        Arc::new(ManualClock::new(Timestamp::from_unix_seconds(
            1_700_000_000,
        ))),
        Arc::new(SystemRandom::new()),
    );
    let old = r
        .create_client(AppClientConfig::builder("old"), NewClientSecret::Generate)
        .unwrap();
    let id = old.client_id().to_string();
    let new_secret = "newsecretnewsecretnewsecret0123456789";
    let mut runs = 0;
    r.update_client_with(&id, |b| {
        runs += 1;
        if runs == 1 {
            // Between this update's read and its compare-and-set, another admin deletes the client
            // and restores it with a new secret, in the same second.
            r.delete_client(&id).unwrap();
            r.restore_client(RestoreClient {
                client_id: id.clone(),
                secret: Some(ClientSecret::new(new_secret)),
                creation_date: Timestamp::from_unix_seconds(1_700_000_000),
                last_modified_date: Timestamp::from_unix_seconds(1_700_000_000),
                config: AppClientConfig::builder("restored"),
            })
            .unwrap();
        }
        b.client_name("renamed")
    })
    .unwrap();
    let now = r.describe_client(&id).unwrap();
    assert_eq!(now.secret().unwrap().expose_secret(), new_secret);
    assert_eq!(runs, 2, "the change ran again on the restored client");
    assert_eq!(now.config().client_name(), "renamed");
}

/// A client store in which, right before the registry's second read of a client, another instance
/// deletes the client and restores its id without a secret.
struct RestoredWithoutSecret {
    inner: refresh_rotation::store::InMemoryClientStore,
    gets: std::sync::atomic::AtomicUsize,
    armed: std::sync::atomic::AtomicBool,
}

impl refresh_rotation::store::ClientStore for RestoredWithoutSecret {
    fn get(
        &self,
        id: &str,
    ) -> Result<Option<Arc<refresh_rotation::store::AppClient>>, refresh_rotation::error::StoreError>
    {
        if self.armed.load(Ordering::SeqCst) && self.gets.fetch_add(1, Ordering::SeqCst) == 1 {
            let current = self.inner.get(id)?.unwrap();
            self.inner.delete(id)?;
            let restored = refresh_rotation::store::AppClient::from_parts(
                refresh_rotation::store::AppClientParts {
                    secret: None,
                    config: AppClientConfig::builder("restored").build().unwrap(),
                    revision: 0,
                    ..current.to_parts()
                },
            );
            self.inner.insert(Arc::new(restored), 100)?;
        }
        self.inner.get(id)
    }
    fn insert(
        &self,
        c: Arc<refresh_rotation::store::AppClient>,
        max: usize,
    ) -> Result<(), refresh_rotation::error::StoreError> {
        self.inner.insert(c, max)
    }
    fn replace(
        &self,
        c: Arc<refresh_rotation::store::AppClient>,
        expected: u64,
    ) -> Result<refresh_rotation::store::Replace, refresh_rotation::error::StoreError> {
        self.inner.replace(c, expected)
    }
    fn delete(&self, id: &str) -> Result<bool, refresh_rotation::error::StoreError> {
        self.inner.delete(id)
    }
    fn list(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Arc<refresh_rotation::store::AppClient>>, refresh_rotation::error::StoreError>
    {
        self.inner.list(after, limit)
    }
    fn count(&self) -> Result<usize, refresh_rotation::error::StoreError> {
        self.inner.count()
    }
    fn declare_scope(
        &self,
        s: &str,
        max: usize,
    ) -> Result<(), refresh_rotation::error::StoreError> {
        self.inner.declare_scope(s, max)
    }
    fn is_scope_declared(&self, s: &str) -> Result<bool, refresh_rotation::error::StoreError> {
        self.inner.is_scope_declared(s)
    }
    fn scopes(&self) -> Result<Vec<String>, refresh_rotation::error::StoreError> {
        self.inner.scopes()
    }
}

/// R-CFG, R-CLI-3: a replacement is validated against the client it is stored on. If the client is
/// deleted and restored without a secret between the validation and the write, a configuration that
/// needs a secret (the client_credentials flow) is refused, not stored on a client it makes unreadable.
#[test]
fn r_cli_3_a_replacement_is_validated_against_the_client_it_replaces() {
    use refresh_rotation::config::OAuthFlow;
    let store = Arc::new(RestoredWithoutSecret {
        inner: refresh_rotation::store::InMemoryClientStore::new(),
        gets: Default::default(),
        armed: Default::default(),
    });
    let r = ClientRegistry::new(
        "us-east-1_Test",
        Arc::new(ManualClock::new(Timestamp::from_unix_seconds(
            1_700_000_000,
        ))),
        Arc::new(SystemRandom::new()),
    )
    .with_store(store.clone());
    r.declare_custom_scope("api/read").unwrap();
    let c = r
        .create_client(AppClientConfig::builder("m2m"), NewClientSecret::Generate)
        .unwrap();
    store.armed.store(true, Ordering::SeqCst);
    let refused = r.replace_client(
        c.client_id(),
        AppClientConfig::builder("m2m")
            .allowed_oauth_flows([OAuthFlow::ClientCredentials])
            .allowed_oauth_flows_user_pool_client(true)
            .allowed_oauth_scopes(["api/read"]),
    );
    assert!(
        matches!(refused, Err(Error::InvalidConfig(_))),
        "{refused:?}"
    );
    let now = r.describe_client(c.client_id()).unwrap();
    assert_eq!(now.config().client_name(), "restored", "nothing stored");
}
