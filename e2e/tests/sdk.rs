//! The cognito_server example driven end to end by the unmodified AWS SDK for Rust
//! (`aws-sdk-cognitoidentityprovider`), over plain HTTP on loopback. Each test starts its own service
//! in-process on a free port and stops it at the end.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;

use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ExplicitAuthFlowsType, FeatureType, RefreshTokenRotationType, TimeUnitsType,
    TokenValidityUnitsType,
};
use common::*;

const ROT10: ClientOpts = ClientOpts {
    rotation: Some(10),
    secret: false,
};
const ROT0: ClientOpts = ClientOpts {
    rotation: Some(0),
    secret: false,
};
const NO_ROT: ClientOpts = ClientOpts {
    rotation: None,
    secret: false,
};

#[tokio::test]
async fn r_cli_client_lifecycle_and_rejected_configurations() {
    let srv = start(false).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;

    let created = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("web")
        .refresh_token_rotation(
            RefreshTokenRotationType::builder()
                .feature(FeatureType::Enabled)
                .retry_grace_period_seconds(15)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    let id = created.client_id.clone().unwrap();
    assert_eq!(id.len(), 26, "R-CLI-1");
    assert!(created.client_secret.is_none());
    assert!(created.creation_date.is_some() && created.last_modified_date.is_some());

    let described = c
        .describe_user_pool_client()
        .user_pool_id(&pool)
        .client_id(&id)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    let rot = described.refresh_token_rotation.clone().unwrap();
    assert_eq!(rot.feature, FeatureType::Enabled);
    assert_eq!(rot.retry_grace_period_seconds, Some(15));
    assert_eq!(described.client_name.as_deref(), Some("web"));
    assert_eq!(described.refresh_token_validity, 30, "default 30 days");
    assert!(
        !described
            .explicit_auth_flows()
            .contains(&ExplicitAuthFlowsType::AllowRefreshTokenAuth),
        "no ALLOW_REFRESH_TOKEN_AUTH by default with rotation on"
    );

    // R-CLI-3: Update replaces the whole configuration; absent rotation means DISABLED.
    let updated = c
        .update_user_pool_client()
        .user_pool_id(&pool)
        .client_id(&id)
        .client_name("web-2")
        .access_token_validity(30)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .access_token(TimeUnitsType::Minutes)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    assert_eq!(updated.client_name.as_deref(), Some("web-2"));
    assert_eq!(updated.access_token_validity, Some(30));
    assert_eq!(
        updated.refresh_token_rotation.unwrap().feature,
        FeatureType::Disabled
    );

    // Rejected configurations, each a clean InvalidParameterException naming the problem.
    let e = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("bad")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .refresh_token_rotation(
            RefreshTokenRotationType::builder()
                .feature(FeatureType::Enabled)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    let (code, msg) = err(e);
    assert_eq!(code, "InvalidParameterException");
    assert!(msg.contains("ALLOW_REFRESH_TOKEN_AUTH"), "R-CFG-7: {msg}");
    let e = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("bad")
        .refresh_token_rotation(
            RefreshTokenRotationType::builder()
                .feature(FeatureType::Enabled)
                .retry_grace_period_seconds(61)
                .build()
                .unwrap(),
        )
        .access_token_validity(2)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .access_token(TimeUnitsType::Days)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let (code, msg) = err(e);
    assert_eq!(code, "InvalidParameterException");
    assert!(msg.contains("RetryGracePeriodSeconds"), "R-CFG-8: {msg}");
    assert!(
        msg.contains("token validity"),
        "R-CFG-3, reported together: {msg}"
    );
    let e = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("bad")
        .generate_secret(true)
        .allowed_o_auth_flows(
            aws_sdk_cognitoidentityprovider::types::OAuthFlowType::ClientCredentials,
        )
        .allowed_o_auth_flows(aws_sdk_cognitoidentityprovider::types::OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_flows_user_pool_client(true)
        .callback_urls("https://example.com/cb")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err(e).0, "InvalidOAuthFlowException", "R-CFG-11");

    // R-CLI-7: pagination.
    for n in 0..3 {
        c.create_user_pool_client()
            .user_pool_id(&pool)
            .client_name(format!("extra-{n}"))
            .send()
            .await
            .unwrap();
    }
    let mut seen = HashSet::new();
    let mut next = None;
    loop {
        let page = c
            .list_user_pool_clients()
            .user_pool_id(&pool)
            .max_results(2)
            .set_next_token(next)
            .send()
            .await
            .unwrap();
        assert!(page.user_pool_clients().len() <= 2);
        for d in page.user_pool_clients() {
            assert_eq!(d.user_pool_id.as_deref(), Some(pool.as_str()));
            seen.insert(d.client_id.clone().unwrap());
        }
        next = page.next_token;
        if next.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 4);

    c.delete_user_pool_client()
        .user_pool_id(&pool)
        .client_id(&id)
        .send()
        .await
        .unwrap();
    let e = c
        .describe_user_pool_client()
        .user_pool_id(&pool)
        .client_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err(e),
        (
            "ResourceNotFoundException".into(),
            format!("User pool client {id} does not exist.")
        )
    );
    let e = c
        .describe_user_pool_client()
        .user_pool_id("us-east-1_NoSuchPool")
        .client_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err(e).0, "ResourceNotFoundException");
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_sign_sign_in_and_tokens_verified_against_the_served_jwks() {
    let srv = start(false).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    let (client, _) = client(&c, &pool, ROT10).await;

    let admin = sign_in(&c, &pool, &client, None, "alice").await;
    assert_eq!(admin.token_type.as_deref(), Some("Bearer"));
    assert_eq!(admin.expires_in, 3600);
    assert!(admin.refresh_token.is_some());

    let user = c
        .initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap()
        .authentication_result
        .unwrap();

    for result in [&admin, &user] {
        let id = verify_jwt(
            &srv,
            &pool,
            result.id_token.as_deref().unwrap(),
            Some(&client),
        )
        .await;
        assert_eq!(id["token_use"], "id");
        assert_eq!(id["cognito:username"], "alice");
        assert_eq!(id["email"], "alice@example.com");
        let access = verify_jwt(&srv, &pool, result.access_token.as_deref().unwrap(), None).await;
        assert_eq!(access["token_use"], "access");
        assert_eq!(access["client_id"], client.as_str());
        assert_eq!(access["username"], "alice");
        assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
        assert_eq!(id["sub"], access["sub"]);
        assert_eq!(id["origin_jti"], access["origin_jti"]);
    }
    // Refreshed tokens verify too, and keep the sign-in's origin_jti (R-REF-12).
    let first_origin = verify_jwt(&srv, &pool, admin.access_token.as_deref().unwrap(), None).await
        ["origin_jti"]
        .clone();
    let r = refresh(&c, &client, admin.refresh_token.as_deref().unwrap())
        .await
        .unwrap();
    let access = verify_jwt(&srv, &pool, r.access_token.as_deref().unwrap(), None).await;
    assert_eq!(access["origin_jti"], first_origin);

    // Wrong password; unknown user; a flow the client does not allow.
    let e = c
        .initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", "wrong-password")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err(e),
        (
            "NotAuthorizedException".into(),
            "Incorrect username or password.".into()
        )
    );
    let e = c
        .initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "mallory")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err(e).0, "UserNotFoundException");
    let plain = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("srp-only")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    let e = c
        .initiate_auth()
        .client_id(&plain)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap_err();
    // A flow the client does not allow is a bad parameter, as Cognito answers it.
    assert_eq!(
        err(e),
        (
            "InvalidParameterException".to_owned(),
            "USER_PASSWORD_AUTH flow not enabled for this client".to_owned()
        )
    );
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_rot_rotation_retry_in_grace_and_reuse_after_the_window() {
    let srv = start(true).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    let (client, _) = client(&c, &pool, ROT10).await;
    let t0 = sign_in(&c, &pool, &client, None, "alice")
        .await
        .refresh_token
        .unwrap();

    // R-ROT-1: a new refresh token.
    let t1 = rotate(&c, &client, &t0).await;
    assert_ne!(t0, t1);
    // R-ROT-2: a retry inside the grace window gets the very same successor.
    advance(&srv, 9).await;
    let retry = refresh(&c, &client, &t0).await.unwrap();
    assert_eq!(retry.refresh_token.as_deref(), Some(t1.as_str()));
    assert!(retry.access_token.is_some());
    // R-ROT-4: after the window, reuse.
    advance(&srv, 1).await;
    assert_eq!(
        refresh(&c, &client, &t0).await.unwrap_err(),
        (
            "RefreshTokenReuseException".into(),
            "Refresh token has been invalidated by rotation.".into()
        )
    );
    // Default policy Reject: the successor still works (Cognito parity).
    let t2 = rotate(&c, &client, &t1).await;
    // R-ROT-3: presenting the successor closes the older token's window at once.
    let t3 = rotate(&c, &client, &t2).await;
    assert_eq!(
        refresh(&c, &client, &t1).await.unwrap_err().0,
        "RefreshTokenReuseException"
    );
    assert!(refresh(&c, &client, &t3).await.is_ok());
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_rot_4_revoke_family_policy_signs_out_thief_and_victim() {
    let srv = start_with(ServerConfig {
        manual_clock: true,
        reuse_policy: refresh_rotation::ReusePolicy::RevokeFamily,
        pbkdf2_iterations: 1_000,
        ..ServerConfig::default()
    })
    .await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    let (client, _) = client(&c, &pool, ROT0).await;
    let t0 = sign_in(&c, &pool, &client, None, "alice")
        .await
        .refresh_token
        .unwrap();
    let t1 = rotate(&c, &client, &t0).await;
    assert_eq!(
        refresh(&c, &client, &t0).await.unwrap_err().0,
        "RefreshTokenReuseException"
    );
    assert_eq!(
        refresh(&c, &client, &t1).await.unwrap_err(),
        (
            "NotAuthorizedException".into(),
            "Refresh Token has been revoked".into()
        )
    );
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_rot_zero_grace_invalidates_at_once() {
    let srv = start(false).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    let (client, _) = client(&c, &pool, ROT0).await;
    let t0 = sign_in(&c, &pool, &client, None, "alice")
        .await
        .refresh_token
        .unwrap();
    let t1 = rotate(&c, &client, &t0).await;
    assert_eq!(
        refresh(&c, &client, &t0).await.unwrap_err().0,
        "RefreshTokenReuseException"
    );
    assert!(refresh(&c, &client, &t1).await.is_ok());
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_rot_6_rotation_off_returns_no_refresh_token() {
    let srv = start(false).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    let (client, _) = client(&c, &pool, NO_ROT).await;
    let t0 = sign_in(&c, &pool, &client, None, "alice")
        .await
        .refresh_token
        .unwrap();
    for _ in 0..3 {
        let r = refresh(&c, &client, &t0).await.unwrap();
        assert!(r.refresh_token.is_none(), "R-ROT-6");
        assert!(r.access_token.is_some() && r.id_token.is_some());
    }
    srv.stop().await.unwrap();
}

/// 16 presentations of one token at once (R-ROT-5). The tokio runtime is multi-threaded so the requests
/// really overlap on the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn r_rot_5_sixteen_concurrent_presentations_advance_once() {
    let srv = start(false).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    for (opts, grace_open) in [(ROT10, true), (ROT0, false)] {
        let (client, _) = client(&c, &pool, opts).await;
        let t0 = sign_in(&c, &pool, &client, None, "alice")
            .await
            .refresh_token
            .unwrap();
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(16));
        let mut tasks = Vec::new();
        for _ in 0..16 {
            let (c, client, t0, barrier) = (c.clone(), client.clone(), t0.clone(), barrier.clone());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                refresh(&c, &client, &t0).await
            }));
        }
        let mut successors = HashSet::new();
        let mut reuse = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(r) => {
                    successors.insert(r.refresh_token.unwrap());
                }
                Err((code, _)) => {
                    assert_eq!(code, "RefreshTokenReuseException");
                    reuse += 1;
                }
            }
        }
        assert_eq!(successors.len(), 1, "exactly one successor");
        if grace_open {
            assert_eq!(reuse, 0, "every loser is a retry inside the grace window");
        } else {
            assert_eq!(reuse, 15, "grace 0: exactly one success");
        }
        // The family advanced exactly once: the one successor is current.
        let s = successors.into_iter().next().unwrap();
        assert!(refresh(&c, &client, &s).await.is_ok());
    }
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_rev_revocation_and_global_sign_out() {
    let srv = start(false).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    let (client, _) = client(&c, &pool, ROT10).await;

    let t0 = sign_in(&c, &pool, &client, None, "alice")
        .await
        .refresh_token
        .unwrap();
    let t1 = rotate(&c, &client, &t0).await;
    // R-REV-2: revoking any generation revokes the family.
    c.revoke_token()
        .client_id(&client)
        .token(&t0)
        .send()
        .await
        .unwrap();
    let revoked = (
        "NotAuthorizedException".to_owned(),
        "Refresh Token has been revoked".to_owned(),
    );
    assert_eq!(refresh(&c, &client, &t1).await.unwrap_err(), revoked);
    // RFC 7009: revoking again is still a success.
    c.revoke_token()
        .client_id(&client)
        .token(&t1)
        .send()
        .await
        .unwrap();
    // Not a refresh token at all.
    let e = c
        .revoke_token()
        .client_id(&client)
        .token("eyJhbGciOiJFUzI1NiJ9.e30.c2ln")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err(e).0, "UnsupportedTokenTypeException");

    // R-REV-3: global sign-out revokes every family of the user, and only theirs.
    add_user(&c, &pool, "bob").await;
    let a1 = sign_in(&c, &pool, &client, None, "alice")
        .await
        .refresh_token
        .unwrap();
    let a2 = sign_in(&c, &pool, &client, None, "alice")
        .await
        .refresh_token
        .unwrap();
    let b1 = sign_in(&c, &pool, &client, None, "bob")
        .await
        .refresh_token
        .unwrap();
    c.admin_user_global_sign_out()
        .user_pool_id(&pool)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(refresh(&c, &client, &a1).await.unwrap_err(), revoked);
    assert_eq!(refresh(&c, &client, &a2).await.unwrap_err(), revoked);
    assert!(refresh(&c, &client, &b1).await.is_ok());
    let e = c
        .admin_user_global_sign_out()
        .user_pool_id(&pool)
        .username("nobody")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err(e).0, "UserNotFoundException");
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_ref_8_disabled_and_deleted_users() {
    let srv = start(false).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    let (client, _) = client(&c, &pool, NO_ROT).await;
    let t = sign_in(&c, &pool, &client, None, "alice")
        .await
        .refresh_token
        .unwrap();

    c.admin_disable_user()
        .user_pool_id(&pool)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(
        refresh(&c, &client, &t).await.unwrap_err(),
        ("NotAuthorizedException".into(), "User is disabled.".into())
    );
    let e = c
        .admin_initiate_auth()
        .user_pool_id(&pool)
        .client_id(&client)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err(e).1, "User is disabled.");

    c.admin_enable_user()
        .user_pool_id(&pool)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert!(refresh(&c, &client, &t).await.is_ok());

    c.admin_delete_user()
        .user_pool_id(&pool)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(
        refresh(&c, &client, &t).await.unwrap_err().0,
        "UserNotFoundException"
    );
    // A new user with the same name is another subject: the old family stays dead.
    add_user(&c, &pool, "alice").await;
    assert_eq!(
        refresh(&c, &client, &t).await.unwrap_err().0,
        "UserNotFoundException"
    );
    let e = c
        .admin_create_user()
        .user_pool_id(&pool)
        .username("alice")
        .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err(e).0, "UsernameExistsException");
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_ref_3_client_secrets_and_secret_hash() {
    let srv = start(false).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    let (client, secret) = client(
        &c,
        &pool,
        ClientOpts {
            rotation: Some(5),
            secret: true,
        },
    )
    .await;
    let secret = secret.expect("GenerateSecret gives a secret");
    assert_eq!(secret.len(), 51, "R-CLI-1");

    // Password sign-in needs the SECRET_HASH.
    let e = c
        .initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err(e).1,
        format!("Client {client} is configured for secret but secret was not received")
    );
    let t0 = c
        .initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .auth_parameters("SECRET_HASH", secret_hash(&secret, "alice", &client))
        .send()
        .await
        .unwrap()
        .authentication_result
        .unwrap()
        .refresh_token
        .unwrap();

    // GetTokensFromRefreshToken: secret missing, wrong, right.
    assert_eq!(
        refresh(&c, &client, &t0).await.unwrap_err().1,
        format!("Client {client} is configured for secret but secret was not received")
    );
    let wrong = c
        .get_tokens_from_refresh_token()
        .client_id(&client)
        .client_secret("x".repeat(51))
        .refresh_token(&t0)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        err(wrong).1,
        format!("Unable to verify secret for client {client}")
    );
    let ok = c
        .get_tokens_from_refresh_token()
        .client_id(&client)
        .client_secret(&secret)
        .refresh_token(&t0)
        .send()
        .await
        .unwrap();
    assert!(ok.authentication_result.unwrap().refresh_token.is_some());
    // RevokeToken with the secret.
    c.revoke_token()
        .client_id(&client)
        .client_secret(&secret)
        .token(&t0)
        .send()
        .await
        .unwrap();
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_ref_9_device_keys_in_a_pool_that_tracks_devices() {
    let srv = start(false).await;
    let c = sdk(&srv);
    let pool = pool(&c, true).await;
    let (client, _) = client(&c, &pool, ROT10).await;
    let first = sign_in(&c, &pool, &client, None, "alice").await;
    let device = first
        .new_device_metadata
        .expect("a device is issued")
        .device_key
        .unwrap();
    assert!(device.starts_with("us-east-1_"), "{device}");
    let access = verify_jwt(&srv, &pool, first.access_token.as_deref().unwrap(), None).await;
    assert_eq!(access["device_key"], device.as_str());

    let t0 = first.refresh_token.unwrap();
    // The family is bound to the device: without it, or with another, the token is invalid.
    assert_eq!(
        refresh(&c, &client, &t0).await.unwrap_err(),
        (
            "NotAuthorizedException".into(),
            "Invalid Refresh Token.".into()
        )
    );
    let other = c
        .get_tokens_from_refresh_token()
        .client_id(&client)
        .refresh_token(&t0)
        .device_key("us-east-1_00000000-0000-4000-8000-000000000000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err(other).1, "Invalid Refresh Token.");
    let ok = c
        .get_tokens_from_refresh_token()
        .client_id(&client)
        .refresh_token(&t0)
        .device_key(&device)
        .send()
        .await
        .unwrap()
        .authentication_result
        .unwrap();
    assert!(ok.new_device_metadata.is_none());
    let access = verify_jwt(&srv, &pool, ok.access_token.as_deref().unwrap(), None).await;
    assert_eq!(access["device_key"], device.as_str());
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_rot_8_legacy_refresh_token_auth() {
    let srv = start(false).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    let (legacy, _) = client(&c, &pool, NO_ROT).await;
    let t = sign_in(&c, &pool, &legacy, None, "alice")
        .await
        .refresh_token
        .unwrap();
    for flow in [AuthFlowType::RefreshTokenAuth, AuthFlowType::RefreshToken] {
        let r = c
            .initiate_auth()
            .client_id(&legacy)
            .auth_flow(flow.clone())
            .auth_parameters("REFRESH_TOKEN", &t)
            .send()
            .await
            .unwrap()
            .authentication_result
            .unwrap();
        assert!(r.refresh_token.is_none() && r.access_token.is_some());
        let r = c
            .admin_initiate_auth()
            .user_pool_id(&pool)
            .client_id(&legacy)
            .auth_flow(flow)
            .auth_parameters("REFRESH_TOKEN", &t)
            .send()
            .await
            .unwrap()
            .authentication_result
            .unwrap();
        assert!(r.refresh_token.is_none());
    }
    // A rotating client refuses the legacy path and points at GetTokensFromRefreshToken.
    let (rotating, _) = client(&c, &pool, ROT10).await;
    let t = sign_in(&c, &pool, &rotating, None, "alice")
        .await
        .refresh_token
        .unwrap();
    let e = c
        .initiate_auth()
        .client_id(&rotating)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &t)
        .send()
        .await
        .unwrap_err();
    let (code, msg) = err(e);
    assert_eq!(code, "NotAuthorizedException");
    assert!(msg.contains("GetTokensFromRefreshToken"), "{msg}");
    srv.stop().await.unwrap();
}

#[tokio::test]
async fn r_ref_7_family_expires_at_its_absolute_expiry() {
    let srv = start(true).await;
    let c = sdk(&srv);
    let pool = pool(&c, false).await;
    let client = c
        .create_user_pool_client()
        .user_pool_id(&pool)
        .client_name("short")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .refresh_token_validity(60)
        .access_token_validity(5)
        .id_token_validity(5)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .refresh_token(TimeUnitsType::Minutes)
                .access_token(TimeUnitsType::Minutes)
                .id_token(TimeUnitsType::Minutes)
                .build(),
        )
        .refresh_token_rotation(
            RefreshTokenRotationType::builder()
                .feature(FeatureType::Enabled)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    let t0 = sign_in(&c, &pool, &client, None, "alice")
        .await
        .refresh_token
        .unwrap();
    advance(&srv, 1800).await;
    let t1 = rotate(&c, &client, &t0).await;
    advance(&srv, 1800).await;
    assert_eq!(
        refresh(&c, &client, &t1).await.unwrap_err(),
        (
            "NotAuthorizedException".into(),
            "Refresh Token has expired".into()
        ),
        "R-FAM-5: rotation never extends the family"
    );
    srv.stop().await.unwrap();
}
