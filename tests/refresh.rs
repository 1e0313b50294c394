//! GetTokensFromRefreshToken: one scenario per check of SPEC section 5 (R-REF-1..12), plus the family
//! rules of section 3 and sign-in of section 4 that they rely on.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use common::{claims_of, Fixture, Opts};
use refresh_rotation::directory::UserRecord;
use refresh_rotation::engine::{DeviceKey, PresentedSecret, SecretHash};
use refresh_rotation::ClientId;
use refresh_rotation::{ClientSecret, Error, RefreshRequest, RefreshToken, SignInRequest};

#[test]
fn r_ref_1_request_shape_is_checked_first() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = f.sign_in();
    // The client id, client secret and device key are checked when the host parses them: a request
    // holds only parsed ones.
    let e = ClientId::parse("not a client id").unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException", "{e}");
    // The wire adapter parses them as the request arrives: a live token does not get past a malformed
    // client id.
    use refresh_rotation::wire::{self, GetTokensFromRefreshTokenRequest};
    let body = format!(r#"{{"ClientId":"not a client id","RefreshToken":"{t0}"}}"#);
    let e = wire::from_json::<GetTokensFromRefreshTokenRequest>(body.as_bytes())
        .and_then(GetTokensFromRefreshTokenRequest::into_call)
        .unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException", "{e}");
    // Pattern of the token itself, before the client is looked up.
    let garbled = RefreshToken::new("has spaces in it");
    let e = f
        .get_tokens(&RefreshRequest::new(
            &garbled,
            ClientId::parse("unknownclient").unwrap(),
        ))
        .unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    // Oversized (16 KiB + 1) and 10 MiB tokens are refused early (R-SAFE-1).
    for n in [16 * 1024 + 1, 10 * 1024 * 1024] {
        let big = RefreshToken::new("a".repeat(n));
        let e = f
            .get_tokens(&RefreshRequest::new(&big, f.id()))
            .unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
    }
    // A malformed DeviceKey and a short ClientSecret.
    assert_eq!(
        DeviceKey::parse("no-underscore")
            .unwrap_err()
            .exception_name(),
        "InvalidParameterException"
    );
    assert_eq!(
        PresentedSecret::parse("short")
            .unwrap_err()
            .exception_name(),
        "InvalidParameterException"
    );
}

#[test]
fn r_ref_2_unknown_client_is_resource_not_found() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = RefreshToken::new(f.sign_in());
    let e = f
        .get_tokens(&RefreshRequest::new(
            &t0,
            ClientId::parse("abcdefghijklmnopqrstuvwxyz").unwrap(),
        ))
        .unwrap_err();
    assert_eq!(e.exception_name(), "ResourceNotFoundException");
    assert_eq!(
        e.message(),
        "User pool client abcdefghijklmnopqrstuvwxyz does not exist."
    );
}

#[test]
fn r_ref_3_client_secret_rules() {
    let f = Fixture::new(Opts::rotating(10).with_secret());
    let secret = f.secret.clone().unwrap();
    let t0 = RefreshToken::new(f.sign_in());
    let id = f.client_id.clone();
    let run = |s: Option<&str>| {
        let mut req = RefreshRequest::new(&t0, ClientId::parse(&id).unwrap());
        req.client_secret = s.map(|s| PresentedSecret::parse(s).unwrap());
        f.get_tokens(&req)
    };
    assert_eq!(
        run(None).unwrap_err().message(),
        format!("Client {id} is configured for secret but secret was not received")
    );
    let wrong = "x".repeat(secret.len());
    let e = run(Some(&wrong)).unwrap_err();
    assert_eq!(
        e.message(),
        format!("Unable to verify secret for client {id}")
    );
    assert!(!e.message().contains(&wrong));
    assert!(run(Some(&secret)).is_ok());

    // A secret sent to a client that has none.
    let f = Fixture::new(Opts::rotating(10));
    let t0 = RefreshToken::new(f.sign_in());
    let mut req = RefreshRequest::new(&t0, f.id());
    let s = "a".repeat(30);
    req.client_secret = Some(PresentedSecret::parse(&s).unwrap());
    assert_eq!(
        f.get_tokens(&req).unwrap_err().message(),
        format!("Client {} has no secret", f.client_id)
    );
}

#[test]
fn r_ref_4_garbled_truncated_forged_and_future_tokens_are_invalid() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = f.sign_in();
    let mut cases = vec![
        t0[..t0.len() - 1].to_owned(),
        format!("{t0}A"),
        "A".to_owned(),
        "....".to_owned(),
    ];
    // Flip one character in every position.
    for i in 0..t0.len() {
        let mut b = t0.clone().into_bytes();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        cases.push(String::from_utf8(b).unwrap());
    }
    for c in cases {
        if c == t0 {
            continue;
        }
        let e = f.refresh(&c).unwrap_err();
        assert_eq!(e, Error::InvalidRefreshToken, "{c}");
        assert_eq!(e.message(), "Invalid Refresh Token.");
    }
    // A correctly MACed token of a generation the family has not reached (R-FAM-4).
    let future = f.token_of_generation(&t0, 5);
    assert_eq!(f.refresh(&future).unwrap_err(), Error::InvalidRefreshToken);
    // A correctly MACed token of a family that does not exist.
    assert_eq!(
        f.refresh(&f.token_of_unknown_family()).unwrap_err(),
        Error::InvalidRefreshToken
    );
}

#[test]
fn r_ref_5_token_of_another_client() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = RefreshToken::new(f.sign_in());
    let other = f.create_client(Opts::rotating(10));
    let e = f
        .get_tokens(&RefreshRequest::new(&t0, ClientId::parse(&other).unwrap()))
        .unwrap_err();
    assert_eq!(e.message(), "Refresh Token has different Client");
    assert_eq!(e.exception_name(), "NotAuthorizedException");
}

#[test]
fn r_ref_6_revoked_family() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = f.sign_in();
    f.revoke(&t0).unwrap();
    let e = f.refresh(&t0).unwrap_err();
    assert_eq!(e.message(), "Refresh Token has been revoked");
}

#[test]
fn r_ref_7_and_r_fam_5_expiry_is_fixed_at_sign_in_and_never_extended() {
    // Refresh validity: 60 minutes.
    let f = Fixture::new(Opts::rotating(10).refresh_validity_minutes(60));
    let t0 = f.sign_in();
    f.clock.advance(1800);
    let t1 = f.refresh(&t0).unwrap().refresh_token.unwrap();
    f.clock.advance(1799);
    let t2 = f.refresh(&t1).unwrap().refresh_token.unwrap();
    f.clock.advance(1); // exactly auth_time + 3600
    let e = f.refresh(&t2).unwrap_err();
    assert_eq!(e.message(), "Refresh Token has expired");
}

#[test]
fn r_cli_8_refresh_validity_change_does_not_move_an_existing_familys_expiry() {
    let f = Fixture::new(Opts::rotating(10).refresh_validity_minutes(60));
    let t0 = f.sign_in();
    f.set_refresh_validity_days(30);
    f.clock.advance(3600);
    assert_eq!(f.refresh(&t0).unwrap_err(), Error::RefreshTokenExpired);
}

#[test]
fn r_ref_8_deleted_and_disabled_users() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = f.sign_in();
    f.directory.set_enabled(&f.subject, false);
    let e = f.refresh(&t0).unwrap_err();
    assert_eq!(e.message(), "User is disabled.");
    assert_eq!(e.exception_name(), "NotAuthorizedException");
    f.directory.set_enabled(&f.subject, true);
    assert!(f.refresh(&t0).is_ok());
    f.directory.remove(&f.subject);
    let e = f.refresh(&t0).unwrap_err();
    assert_eq!(e.exception_name(), "UserNotFoundException");
}

#[test]
fn r_ref_9_device_binding() {
    // A pool that tracks devices: sign-in issues one and binds the family to it.
    let f = Fixture::new(Opts::rotating(10).device_tracking());
    let signed = f.sign_in_full();
    let device = signed
        .new_device_metadata
        .clone()
        .expect("device issued")
        .device_key;
    assert!(device.starts_with("us-east-1_"));
    let t0 = RefreshToken::new(signed.refresh_token.unwrap());
    let no_device = f.get_tokens(&RefreshRequest::new(&t0, f.id())).unwrap_err();
    assert_eq!(no_device, Error::InvalidRefreshToken);
    let mut req = RefreshRequest::new(&t0, f.id());
    let wrong = "us-east-1_0000";
    req.device_key = Some(DeviceKey::parse(wrong).unwrap());
    assert_eq!(f.get_tokens(&req).unwrap_err(), Error::InvalidRefreshToken);
    req.device_key = Some(DeviceKey::parse(&device).unwrap());
    let r = f.get_tokens(&req).unwrap();
    assert!(r.new_device_metadata.is_none());
    assert_eq!(claims_of(&r.access_token)["device_key"], device.as_str());

    // A pool without device tracking ignores a DeviceKey.
    let f = Fixture::new(Opts::rotating(10));
    let t0 = RefreshToken::new(f.sign_in());
    let mut req = RefreshRequest::new(&t0, f.id());
    req.device_key = Some(DeviceKey::parse("us-east-1_abc").unwrap());
    let r = f.get_tokens(&req).unwrap();
    assert!(r.new_device_metadata.is_none());
    assert!(claims_of(&r.access_token).get("device_key").is_none());
}

/// R-REF-9: a device the host names at sign-in (a device it remembered) binds the family to it: no
/// new device is issued, the access token names it, and a refresh needs it.
#[test]
fn r_ref_9_a_device_the_host_names_at_sign_in_binds_the_family() {
    let f = Fixture::new(Opts::rotating(10).device_tracking());
    let device = "us-east-1_0b3c5d7e-1111-2222-3333-444455556666";
    let mut req = SignInRequest::new(f.id(), "alice");
    req.client_secret = f.presented();
    req.device_key = Some(DeviceKey::parse(device).unwrap());
    let first = f.issuer.sign_in(&req).unwrap();
    assert!(first.new_device.is_none(), "the host's device is used");
    assert_eq!(claims_of(&first.access_token)["device_key"], device);
    let t0 = first.refresh_token.unwrap();
    assert_eq!(
        f.refresh(t0.expose_secret()).unwrap_err(),
        Error::InvalidRefreshToken
    );
    let mut r = RefreshRequest::new(&t0, f.id());
    r.client_secret = f.presented();
    r.device_key = Some(DeviceKey::parse(device).unwrap());
    f.issuer.get_tokens_from_refresh_token(&r).unwrap();
}

#[test]
fn r_ref_9_a_family_bound_while_the_pool_tracked_devices_refreshes_without_one_after() {
    let f = Fixture::new(Opts::non_rotating().device_tracking());
    let signed = f.sign_in_full();
    let device = signed.new_device_metadata.unwrap().device_key;
    let t0 = RefreshToken::new(signed.refresh_token.unwrap());
    // The same pool, served by an issuer that no longer tracks devices.
    let untracked = f.issuer_without_device_tracking();
    let r = untracked
        .get_tokens_from_refresh_token(&RefreshRequest::new(&t0, f.id()))
        .unwrap();
    assert!(r.new_device.is_none());
    // The family keeps its device: it is still in the access token.
    assert_eq!(claims_of(&r.access_token)["device_key"], device.as_str());
}

#[test]
fn r_ref_9_family_without_device_gets_one_at_refresh_when_the_pool_tracks_devices() {
    let f = Fixture::new(Opts::rotating(10).device_tracking());
    let t0 = f.sign_in_without_device();
    let r = f.refresh(&t0).unwrap();
    let announced = r.new_device_metadata.expect("device issued at refresh");
    let device = announced.device_key.clone();
    // Until a request presents it, the device is unconfirmed: the client may never have received the
    // answer that announced it, so a request without it gets the same device announced again.
    let t1 = RefreshToken::new(r.refresh_token.unwrap());
    let again = f.get_tokens(&RefreshRequest::new(&t1, f.id())).unwrap();
    assert_eq!(again.new_device_metadata, Some(announced));
    // The first request that presents it confirms it; from then on the family needs it.
    let t2 = RefreshToken::new(again.refresh_token.unwrap());
    let mut req = RefreshRequest::new(&t2, f.id());
    req.device_key = Some(DeviceKey::parse(&device).unwrap());
    let confirmed = f.get_tokens(&req).unwrap();
    assert!(confirmed.new_device_metadata.is_none());
    let t3 = RefreshToken::new(confirmed.refresh_token.unwrap());
    assert_eq!(
        f.get_tokens(&RefreshRequest::new(&t3, f.id())).unwrap_err(),
        Error::InvalidRefreshToken
    );
    let mut req = RefreshRequest::new(&t3, f.id());
    req.device_key = Some(DeviceKey::parse(&device).unwrap());
    assert!(f.get_tokens(&req).is_ok());
}

#[test]
fn r_ref_9_with_rotation_off_a_lost_device_announcement_is_repeated_until_confirmed() {
    // Rotation off: the refresh token never changes, so a lost answer that issued a device used to lock
    // the client out until the user signed in again.
    let f = Fixture::new(Opts::non_rotating().device_tracking());
    let t0 = RefreshToken::new(f.sign_in_without_device());
    let plain = RefreshRequest::new(&t0, f.id());
    let lost = f.get_tokens(&plain).unwrap();
    let device = lost.new_device_metadata.clone().expect("device issued");
    let again = f.get_tokens(&plain).unwrap();
    assert_eq!(again.new_device_metadata, Some(device.clone()));
    assert!(again.refresh_token.is_none(), "R-ROT-6");
    let mut with_device = RefreshRequest::new(&t0, f.id());
    with_device.device_key = Some(DeviceKey::parse(&device.device_key).unwrap());
    let r = f.get_tokens(&with_device).unwrap();
    assert!(r.new_device_metadata.is_none());
    assert_eq!(
        claims_of(&r.access_token)["device_key"],
        device.device_key.as_str()
    );
    // Confirmed: a request without it is refused, one with another device too.
    assert_eq!(
        f.get_tokens(&plain).unwrap_err(),
        Error::InvalidRefreshToken
    );
    let mut wrong = RefreshRequest::new(&t0, f.id());
    wrong.device_key =
        Some(DeviceKey::parse("us-east-1_00000000-0000-4000-8000-000000000000").unwrap());
    assert_eq!(
        f.get_tokens(&wrong).unwrap_err(),
        Error::InvalidRefreshToken
    );
}

#[test]
fn r_ref_9_an_unconfirmed_device_refuses_another_device_key() {
    let f = Fixture::new(Opts::non_rotating().device_tracking());
    let t0 = RefreshToken::new(f.sign_in_without_device());
    let plain = RefreshRequest::new(&t0, f.id());
    f.get_tokens(&plain).unwrap();
    let mut wrong = RefreshRequest::new(&t0, f.id());
    wrong.device_key =
        Some(DeviceKey::parse("us-east-1_00000000-0000-4000-8000-000000000000").unwrap());
    assert_eq!(
        f.get_tokens(&wrong).unwrap_err(),
        Error::InvalidRefreshToken
    );
}

#[test]
fn r_ref_10_rotation_follows_the_clients_current_configuration() {
    let f = Fixture::new(Opts::non_rotating());
    let t0 = f.sign_in();
    assert!(f.refresh(&t0).unwrap().refresh_token.is_none());
    f.set_rotation(Some(10));
    assert!(f.refresh(&t0).unwrap().refresh_token.is_some());
}

#[test]
fn r_ref_11_hook_adds_overrides_suppresses_and_refuses() {
    let f = Fixture::new(Opts::rotating(10).with_hook());
    let t0 = f.sign_in();
    let mut meta = HashMap::new();
    meta.insert("tenant".to_owned(), "acme".to_owned());
    meta.insert("add_suppressed".to_owned(), "yes".to_owned());
    let r = f.refresh_with_metadata(&t0, &meta).unwrap();
    let id = claims_of(&r.id_token);
    assert_eq!(id["tenant"], "acme", "claim added from ClientMetadata");
    assert_eq!(id["trigger"], "TokenGeneration_RefreshTokens");
    assert!(
        id.get("phone_number").is_none(),
        "suppressed, though added too"
    );
    assert_eq!(id["iss"], f.issuer.issuer_url(), "protected claim kept");
    assert!(id.get("nbf").is_none(), "reserved claim not settable");
    assert!(
        id.get("cognito:preferred_role").is_none(),
        "cognito:* not settable"
    );
    assert_eq!(id["cognito:groups"], serde_json::json!(["overridden"]));
    assert_eq!(
        claims_of(&r.access_token)["cognito:groups"],
        serde_json::json!(["overridden"])
    );
    // Refusal.
    meta.insert("refuse".to_owned(), "yes".to_owned());
    let e = f
        .refresh_with_metadata(&r.refresh_token.unwrap(), &meta)
        .unwrap_err();
    assert_eq!(e.exception_name(), "UserLambdaValidationException");
    assert!(e.message().contains("refused by hook"), "{e}");
}

#[test]
fn r_ref_11_a_refused_refresh_changes_nothing() {
    let f = Fixture::new(Opts::rotating(0).with_hook());
    let t0 = f.sign_in();
    let meta = HashMap::from([("refuse".to_owned(), "yes".to_owned())]);
    assert!(f.refresh_with_metadata(&t0, &meta).is_err());
    assert_eq!(f.generation_of(&t0), 0, "the family did not advance");
    assert!(f.refresh(&t0).is_ok(), "the token is still live");
}

#[test]
fn r_ref_12_new_jwts_keep_the_sign_ins_origin_auth_time_and_event_id() {
    let f = Fixture::new(Opts::rotating(10));
    let signed = f.sign_in_full();
    let first = claims_of(&signed.access_token);
    f.clock.advance(100);
    let r = f.refresh(signed.refresh_token.as_ref().unwrap()).unwrap();
    let access = claims_of(&r.access_token);
    let id = claims_of(&r.id_token);
    for c in [&access, &id] {
        assert_eq!(c["origin_jti"], first["origin_jti"]);
        assert_eq!(c["auth_time"], first["auth_time"]);
        assert_eq!(c["event_id"], first["event_id"]);
        assert_eq!(c["iat"], first["iat"].as_i64().unwrap() + 100);
    }
    assert_ne!(access["jti"], first["jti"]);
    assert_ne!(access["jti"], id["jti"]);
    assert_eq!(r.expires_in, 3600);
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        3600
    );
}

#[test]
fn r_sign_1_secret_or_secret_hash_required() {
    let f = Fixture::new(Opts::rotating(10).with_secret());
    assert_eq!(
        f.try_sign_in(None, None).unwrap_err().exception_name(),
        "NotAuthorizedException"
    );
    assert!(f.try_sign_in(f.secret.as_deref(), None).is_ok());
    let hash = f.secret_hash();
    assert!(f.try_sign_in(None, Some(&hash)).is_ok());
    assert_eq!(
        f.try_sign_in(None, Some("AAAA"))
            .unwrap_err()
            .exception_name(),
        "NotAuthorizedException"
    );
}

#[test]
fn r_sign_2_and_r_sign_3_first_token_set() {
    let f = Fixture::new(Opts::rotating(10));
    let r = f.sign_in_full();
    assert_eq!(r.token_type, "Bearer");
    assert_eq!(r.expires_in, 3600);
    assert!(r.refresh_token.is_some());
    let access = claims_of(&r.access_token);
    assert_eq!(access["auth_time"], f.clock_now());
    let origin = access["origin_jti"].as_str().unwrap();
    // origin_jti is the family id as a UUID string, and maps back to it.
    let family = refresh_rotation::store::FamilyId::from_uuid_str(origin).expect("UUID format");
    assert_eq!(family.to_uuid_string(), origin);
    assert_eq!(f.generation_of(r.refresh_token.as_ref().unwrap()), 0);
}

#[test]
fn r_ref_8_attributes_and_groups_are_read_at_each_refresh() {
    let f = Fixture::new(Opts::rotating(10));
    let t0 = f.sign_in();
    f.directory
        .put(
            UserRecord::new(f.subject.clone(), "alice")
                .with_attribute("email", "new@example.com")
                .with_group("admins"),
        )
        .unwrap();
    let r = f.refresh(&t0).unwrap();
    let id = claims_of(&r.id_token);
    assert_eq!(id["email"], "new@example.com");
    assert_eq!(id["cognito:groups"], serde_json::json!(["admins"]));
}

#[test]
fn r_ref_9_device_is_bound_only_when_an_answer_is_given() {
    // A hook refusal, then a reuse: neither binds a device to an unbound family.
    let f = Fixture::new(Opts::rotating(0).device_tracking().with_hook());
    let t0 = f.sign_in_without_device();
    let refuse = HashMap::from([("refuse".to_owned(), "yes".to_owned())]);
    assert!(f.refresh_with_metadata(&t0, &refuse).is_err());
    let r = f.refresh_with_metadata(&t0, &HashMap::new()).unwrap();
    let device = r.new_device_metadata.expect("issued with the first answer");
    assert_eq!(
        claims_of(&r.access_token)["device_key"],
        device.device_key.as_str()
    );

    let f = Fixture::new(Opts::rotating(0).device_tracking());
    let t0 = f.sign_in_without_device();
    let t1 = f.sign_in_without_device();
    f.refresh(&t0).unwrap(); // binds t0's family, unconfirmed; t0 is now rotated out (grace 0)
    assert_eq!(f.refresh(&t0).unwrap_err(), Error::RefreshTokenReused);
    // t1's family is untouched by the other family's reuse and still gets its device.
    assert!(f.refresh(&t1).unwrap().new_device_metadata.is_some());
}

#[test]
fn r_ref_9_concurrent_first_refreshes_announce_one_device() {
    let f = Fixture::new(Opts::rotating(30).device_tracking());
    let t0 = f.sign_in_without_device();
    let results = f.refresh_concurrently(&t0, 8);
    let devices: Vec<_> = results
        .iter()
        .map(|r| r.as_ref().unwrap().new_device_metadata.clone().unwrap())
        .collect();
    assert!(devices.iter().all(|d| *d == devices[0]), "{devices:?}");
    for r in &results {
        let claims = claims_of(&r.as_ref().unwrap().access_token);
        assert_eq!(claims["device_key"], devices[0].device_key.as_str());
    }
}

#[test]
fn r_ref_3_legacy_secret_hash_rules() {
    // A SECRET_HASH sent to a client without a secret.
    let f = Fixture::new(Opts::non_rotating());
    let t0 = RefreshToken::new(f.sign_in());
    let e = f
        .issuer
        .legacy_refresh(&refresh_rotation::LegacyRefreshRequest {
            refresh_token: &t0,
            client_id: f.id(),
            secret_hash: Some(SecretHash::parse("AAAA").unwrap()),
            device_key: None,
            client_metadata: None,
        })
        .unwrap_err();
    assert_eq!(e.message(), format!("Client {} has no secret", f.client_id));
    // It is a client check: told before anything of the token, for a token of no family and for a
    // token that is not one at all as for a live one.
    for token in [f.token_of_unknown_family(), "garbled".to_owned()] {
        let token = RefreshToken::new(token);
        let mut req = refresh_rotation::LegacyRefreshRequest::new(&token, f.id());
        req.secret_hash = Some(SecretHash::parse("AAAA").unwrap());
        let e = f.issuer.legacy_refresh(&req).unwrap_err();
        assert_eq!(e.message(), format!("Client {} has no secret", f.client_id));
    }
    // A client with a secret: missing, wrong, over-long, right.
    let f = Fixture::new(Opts::non_rotating().with_secret());
    let t0 = RefreshToken::new(f.sign_in());
    let legacy = |h: Option<&str>| {
        f.issuer
            .legacy_refresh(&refresh_rotation::LegacyRefreshRequest {
                refresh_token: &t0,
                client_id: f.id(),
                secret_hash: h.map(|h| SecretHash::parse(h).unwrap()),
                device_key: None,
                client_metadata: None,
            })
    };
    assert_eq!(
        legacy(None).unwrap_err().exception_name(),
        "NotAuthorizedException"
    );
    let wrong = ClientSecret::new("x".repeat(40)).secret_hash("alice", &f.client_id);
    assert_eq!(
        legacy(Some(&wrong)).unwrap_err().message(),
        format!("Unable to verify secret for client {}", f.client_id)
    );
    let huge = "A".repeat(8 * 1024 * 1024);
    assert_eq!(
        SecretHash::parse(&huge).unwrap_err().exception_name(),
        "InvalidParameterException"
    );
    assert!(legacy(Some(&f.secret_hash())).is_ok());
    // Computed over the family's `sub` instead of its username, as Cognito takes either (R-ROT-8).
    let over_sub =
        ClientSecret::new(f.secret.clone().unwrap()).secret_hash(&f.subject, &f.client_id);
    assert!(legacy(Some(&over_sub)).is_ok());
}

#[test]
fn r_safe_1_sign_in_secrets_and_usernames_are_bounded() {
    let f = Fixture::new(Opts::rotating(10).with_secret());
    let huge = "A".repeat(8 * 1024 * 1024);
    for (secret, hash) in [(Some(huge.as_str()), None), (None, Some(huge.as_str()))] {
        let e = f.try_sign_in(secret, hash).unwrap_err();
        assert_eq!(e.exception_name(), "InvalidParameterException");
        assert!(e.message().len() < 300);
    }
    let name = "a".repeat(10 * 1024 * 1024);
    let e = f
        .issuer
        .sign_in(&SignInRequest::new(f.id(), &name))
        .unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    // UsernameType is 1 to 128 characters, counted as characters: 128 of them pass the shape check
    // (and the user is then looked up), 129 do not.
    let sign_in = |name: &str| {
        let mut req = SignInRequest::new(f.id(), name);
        req.client_secret = f.presented();
        f.issuer.sign_in(&req).unwrap_err().exception_name()
    };
    assert_eq!(sign_in(&"é".repeat(128)), "UserNotFoundException");
    assert_eq!(sign_in(&"é".repeat(129)), "InvalidParameterException");
}

#[test]
fn r_ref_9_a_retry_of_the_refresh_that_issued_the_device_gets_it_again() {
    let f = Fixture::new(Opts::rotating(30).device_tracking());
    let t0 = f.sign_in_without_device();
    let lost = f.refresh(&t0).unwrap(); // this answer never reaches the client
    let device = lost.new_device_metadata.clone().unwrap();
    let retry = f.refresh(&t0).unwrap();
    assert_eq!(retry.new_device_metadata, Some(device.clone()));
    assert_eq!(retry.refresh_token, lost.refresh_token);
    // The successor presents the device and confirms it; its own successor then needs it.
    let t1 = RefreshToken::new(retry.refresh_token.unwrap());
    let mut req = RefreshRequest::new(&t1, f.id());
    req.device_key = Some(DeviceKey::parse(&device.device_key).unwrap());
    let t2 = f.get_tokens(&req).unwrap();
    assert_eq!(
        f.refresh(&t2.refresh_token.unwrap()).unwrap_err(),
        Error::InvalidRefreshToken
    );
    // A device bound at sign-in is never handed out to a request without it, even inside the window.
    let f = Fixture::new(Opts::rotating(30).device_tracking());
    let signed = f.sign_in_full();
    let device = signed.new_device_metadata.unwrap().device_key;
    let t0 = RefreshToken::new(signed.refresh_token.unwrap());
    let mut req = RefreshRequest::new(&t0, f.id());
    req.device_key = Some(DeviceKey::parse(&device).unwrap());
    f.get_tokens(&req).unwrap();
    assert_eq!(
        f.refresh(t0.expose_secret()).unwrap_err(),
        Error::InvalidRefreshToken
    );
}

#[test]
fn r_sign_3_sign_in_scopes_must_be_allowed_for_the_client() {
    let f = Fixture::new(Opts::rotating(10));
    let scopes = vec!["openid".to_owned()];
    let mut req = SignInRequest::new(f.id(), "alice");
    req.scopes = Some(&scopes);
    let e = f.issuer.sign_in(&req).unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    let api = vec!["aws.cognito.signin.user.admin".to_owned()];
    req.scopes = Some(&api);
    let r = f.issuer.sign_in(&req).unwrap();
    assert_eq!(
        claims_of(&r.access_token)["scope"],
        "aws.cognito.signin.user.admin"
    );
}

/// R-JWT-6, R-SAFE-1: the verifier refuses tokens over 16 KiB unread, so the issuer never signs one.
/// Attributes within Cognito's limits can make an ID token that long: that sign-in fails, while one just
/// under the bound verifies.
#[test]
fn r_jwt_6_the_issuer_never_signs_a_token_its_verifier_refuses() {
    let f = Fixture::new(Opts::rotating(0));
    let user = |name: &str, subject: &str, attributes: usize| {
        (0..attributes).fold(UserRecord::new(subject, name), |u, i| {
            u.with_attribute(format!("custom:a{i}"), "x".repeat(2048))
        })
    };
    f.directory
        .put(user("carol", "5b0e7c4e-1f7a-4d0e-9a51-0c3e6a8f0009", 8))
        .unwrap();
    f.directory
        .put(user("dave", "5b0e7c4e-1f7a-4d0e-9a51-0c3e6a8f0010", 5))
        .unwrap();

    let err = f
        .issuer
        .sign_in(&SignInRequest::new(f.id(), "carol"))
        .unwrap_err();
    assert_eq!(err.exception_name(), "InternalErrorException", "{err:?}");

    let ok = f
        .issuer
        .sign_in(&SignInRequest::new(f.id(), "dave"))
        .unwrap();
    assert!(ok.id_token.len() > 12 * 1024, "{}", ok.id_token.len());
    let v = f.verifier();
    f.verify_id(&v, &ok.id_token).unwrap();
    f.verify_access(&v, &ok.access_token).unwrap();
}

/// R-JWT-6 with the hook (R-REF-11): claims it adds that make the ID token longer than 16 KiB are the
/// hook's failure.
#[test]
fn r_jwt_6_hook_claims_that_overflow_the_token_bound_are_the_hooks_failure() {
    let f = Fixture::new(Opts::rotating(0).with_hook());
    let metadata: HashMap<String, String> = [("tenant".to_owned(), "t".repeat(13 * 1024))].into();
    let mut req = SignInRequest::new(f.id(), "alice");
    req.client_metadata = Some(&metadata);
    let err = f.issuer.sign_in(&req).unwrap_err();
    assert_eq!(
        err.exception_name(),
        "UserLambdaValidationException",
        "{err:?}"
    );
    assert!(err.to_string().contains("16 KiB"), "{err}");
}

/// R-JWT-6 with the hook (R-REF-11): a claim it adds nested deeper than the verifier parses (serde_json
/// stops at 128 levels) is the hook's failure, at sign-in and at refresh, with nothing written; one at
/// the crate's bound of 64 levels is issued, and verifies.
#[test]
fn r_jwt_6_hook_claims_nested_too_deep_are_the_hooks_failure() {
    let f = Fixture::new(Opts::rotating(0).with_hook());
    let deep: HashMap<String, String> = [("nest".to_owned(), "200".to_owned())].into();
    let mut req = SignInRequest::new(f.id(), "alice");
    req.client_metadata = Some(&deep);
    let err = f.issuer.sign_in(&req).unwrap_err();
    assert_eq!(
        err.exception_name(),
        "UserLambdaValidationException",
        "{err:?}"
    );
    assert!(err.to_string().contains("64 levels"), "{err}");

    let t0 = f.sign_in();
    let err = f.refresh_with_metadata(&t0, &deep).unwrap_err();
    assert_eq!(err.exception_name(), "UserLambdaValidationException");
    assert_eq!(f.generation_of(&t0), 0, "nothing was written");

    let at_bound: HashMap<String, String> = [("nest".to_owned(), "64".to_owned())].into();
    let tokens = f.refresh_with_metadata(&t0, &at_bound).unwrap();
    let v = f.verifier();
    let id = f.verify_id(&v, &tokens.id_token).unwrap();
    assert!(id.claims().contains_key("nested"));
}

/// R-SAFE-1 with R-REF-11: a hook claim nested a million levels deep (far deeper than a thread's stack
/// could recurse through) is refused as the hook's failure, at sign-in and at refresh, and taken apart
/// without recursion: the process does not overflow its stack dropping it.
#[test]
fn r_safe_1_a_hook_claim_nested_a_million_deep_is_refused_without_overflowing_the_stack() {
    let f = Fixture::new(Opts::rotating(0).with_hook());
    let deep: HashMap<String, String> = [("nest".to_owned(), "1000000".to_owned())].into();
    let mut req = SignInRequest::new(f.id(), "alice");
    req.client_metadata = Some(&deep);
    let err = f.issuer.sign_in(&req).unwrap_err();
    assert_eq!(err.exception_name(), "UserLambdaValidationException");
    let t0 = f.sign_in();
    let err = f.refresh_with_metadata(&t0, &deep).unwrap_err();
    assert_eq!(err.exception_name(), "UserLambdaValidationException");
    assert_eq!(f.generation_of(&t0), 0, "nothing was written");
}

/// R-JWT-6 with R-ROT-1: a refresh whose tokens would be too long is refused before anything is
/// written, so the client's token is still the live one (a rotation without a delivered successor would
/// leave it with a rotated-out token).
#[test]
fn r_jwt_6_a_refresh_refused_for_token_size_writes_nothing() {
    let f = Fixture::new(Opts::rotating(0).with_hook());
    let t0 = f.sign_in();
    let big: HashMap<String, String> = [("tenant".to_owned(), "t".repeat(13 * 1024))].into();
    let err = f.refresh_with_metadata(&t0, &big).unwrap_err();
    assert_eq!(err.exception_name(), "UserLambdaValidationException");
    assert_eq!(f.generation_of(&t0), 0, "nothing was written");
    // The same token, without the oversized claims, still rotates.
    assert!(f.refresh(&t0).is_ok());

    // Attributes grown past the bound since sign-in: refused the same way, without the hook.
    let g = Fixture::new(Opts::rotating(0));
    let t0 = g.sign_in();
    let alice =
        refresh_rotation::directory::UserDirectory::user_by_username(&*g.directory, "alice")
            .unwrap()
            .unwrap();
    let grown = (0..8).fold((*alice).clone(), |u, i| {
        u.with_attribute(format!("custom:a{i}"), "x".repeat(2048))
    });
    g.directory.put(grown).unwrap();
    let err = g.refresh(&t0).unwrap_err();
    assert_eq!(err.exception_name(), "InternalErrorException", "{err:?}");
    assert_eq!(g.generation_of(&t0), 0, "nothing was written");
}

/// R-JWT-6 near the bound: attributes whose every character JSON escapes (six bytes each), in sizes
/// across 16 KiB. Whatever the size, a refresh either answers tokens within the bound or is refused
/// with nothing written: the cheap bound that spares most refreshes the exact check never lets an
/// oversized token through to the write.
#[test]
fn r_jwt_6_near_the_bound_no_refresh_writes_without_issuing() {
    let f = Fixture::new(Opts::rotating(0));
    let t0 = f.sign_in();
    let alice =
        refresh_rotation::directory::UserDirectory::user_by_username(&*f.directory, "alice")
            .unwrap()
            .unwrap();
    let mut token = t0;
    for n in (100..400).step_by(7) {
        let grown = (0..12).fold((*alice).clone(), |u, i| {
            u.with_attribute(format!("custom:e{i}"), "\u{1}".repeat(n))
        });
        f.directory.put(grown).unwrap();
        let generation = f.generation_of(&token);
        match f.refresh(&token) {
            Ok(out) => {
                assert!(out.id_token.len() <= 16 * 1024, "n = {n}");
                assert!(out.access_token.len() <= 16 * 1024, "n = {n}");
                token = out.refresh_token.unwrap();
            }
            Err(e) => {
                assert_eq!(
                    e.exception_name(),
                    "InternalErrorException",
                    "n = {n}: {e:?}"
                );
                assert_eq!(f.generation_of(&token), generation, "n = {n}: written");
            }
        }
    }
}

/// R-JWT-6 with R-REF-9: a device issued by the refresh itself adds its claim to the access token after
/// the check; the check leaves room for it, so no refresh rotates and then fails to mint.
#[test]
fn r_jwt_6_a_device_issued_at_refresh_is_counted_before_the_write() {
    for n in (11_600..11_800).step_by(4) {
        let f = Fixture::new(Opts::rotating(10).device_tracking());
        let t0 = f.sign_in_without_device();
        // Groups only: the access token is the longer one.
        let u = UserRecord::new(f.subject.clone(), "alice").with_group("g".repeat(n));
        f.directory.put(u).unwrap();
        match f.refresh(&t0) {
            Ok(out) => assert!(out.access_token.len() <= 16 * 1024, "n = {n}"),
            Err(e) => assert_eq!(f.generation_of(&t0), 0, "n = {n}: rotated, then {e:?}"),
        }
    }
}

/// R-JWT-6, as a property: whatever the user (names, attributes and groups made mostly of characters
/// JSON escapes to six bytes, so the cheap bound is as tight as it gets), a refresh either answers
/// tokens within 16 KiB or is refused with nothing written.
mod token_size_bound {
    use super::common::{Fixture, Opts};
    use proptest::prelude::*;
    use refresh_rotation::directory::UserRecord;

    fn text() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                4 => Just('\u{1}'),
                1 => Just('"'),
                1 => Just('a'),
                1 => Just('é'),
                1 => Just('🦀'),
            ],
            0..600,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn r_jwt_6_no_refresh_writes_without_issuing(
            username in text(),
            attrs in prop::collection::vec((text(), text()), 0..12),
            groups in prop::collection::vec(text(), 0..12),
            verified in prop::bool::ANY,
        ) {
            let f = Fixture::new(Opts::rotating(0));
            let t0 = f.sign_in();
            let mut u = UserRecord::new(f.subject.clone(), username);
            for (k, v) in attrs {
                u = u.with_attribute(format!("custom:{k}"), v);
            }
            u = u.with_attribute("email_verified", if verified { "true" } else { "false" });
            for g in groups {
                u = u.with_group(g);
            }
            f.directory.put(u).unwrap();
            match f.refresh(&t0) {
                Ok(out) => {
                    prop_assert!(out.id_token.len() <= 16 * 1024);
                    prop_assert!(out.access_token.len() <= 16 * 1024);
                }
                Err(_) => prop_assert_eq!(f.generation_of(&t0), 0),
            }
        }
    }
}

/// R-JWT-6: room for a device claim is left only when the refresh may bind a device, so in a pool
/// that tracks none, tokens right up to the 16 KiB bound are issued.
#[test]
fn r_jwt_6_tokens_up_to_the_bound_are_issued_when_no_device_can_be_bound() {
    let mut largest = 0usize;
    for n in (11_560..11_720).step_by(2) {
        let f = Fixture::new(Opts::rotating(10));
        let t0 = f.sign_in();
        let u = UserRecord::new(f.subject.clone(), "alice").with_group("g".repeat(n));
        f.directory.put(u).unwrap();
        match f.refresh(&t0) {
            Ok(out) => largest = largest.max(out.access_token.len()),
            Err(e) => assert_eq!(f.generation_of(&t0), 0, "n = {n}: rotated, then {e:?}"),
        }
    }
    assert!(
        largest >= 16 * 1024 - 3,
        "the largest access token issued is {largest} bytes"
    );
}

#[test]
fn r_ref_3_legacy_wrong_secret_hash_is_refused_before_the_family_client_is_told() {
    // R-REF-3 comes before R-REF-5, and R-ROT-8 verifies a SECRET_HASH that was sent "once the family is
    // read": a caller without the client's secret must not learn that a token belongs to another client.
    let f = Fixture::new(Opts::non_rotating().with_secret());
    let other = f.create_client(Opts::non_rotating());
    let t_other = f
        .issuer
        .sign_in(&SignInRequest::new(
            ClientId::parse(&other).unwrap(),
            "alice",
        ))
        .unwrap()
        .refresh_token
        .unwrap();
    let wrong = ClientSecret::new("x".repeat(40)).secret_hash("alice", &f.client_id);
    let mut req = refresh_rotation::LegacyRefreshRequest::new(&t_other, f.id());
    req.secret_hash = Some(SecretHash::parse(&wrong).unwrap());
    let e = f.issuer.legacy_refresh(&req).unwrap_err();
    assert_eq!(
        e.message(),
        format!("Unable to verify secret for client {}", f.client_id),
        "an unauthenticated caller was told: {e}"
    );
}
