//! R-SAFE-1: every input that can be large is refused before work proportional to it is done.
//!
//! Each test hands one operation a 10 MiB input (one huge string, or a huge list or map) and asserts the
//! exception it answers with. There are no timing assertions: the point is that the call returns
//! cleanly with the expected error, and that the error does not copy the input (every message stays
//! short).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashMap;

use common::{Fixture, Opts};
use refresh_rotation::clock::Timestamp;
use refresh_rotation::engine::{DeviceKey, PresentedSecret, SecretHash};
use refresh_rotation::error::ExceptionKind;
use refresh_rotation::jwt::{NoRevocationCheck, TokenUse};
use refresh_rotation::token::TokenRejection;
use refresh_rotation::wire::password::{PasswordCheck, PasswordVerifier};
use refresh_rotation::wire::{
    self, AdminInitiateAuthRequest, AuthCall, CreateUserPoolClientRequest,
    DeleteUserPoolClientRequest, DescribeUserPoolClientRequest, GetTokensFromRefreshTokenRequest,
    InitiateAuthRequest, ListUserPoolClientsRequest, RevokeTokenRequest,
    UpdateUserPoolClientRequest, UserPoolClientOperations as _,
};
use refresh_rotation::ClientId;
use refresh_rotation::{
    AppClientConfig, Error, NewClientSecret, RefreshRequest, RefreshToken, RefreshTokenKey,
    RefreshTokenKeys, SignInRequest,
};

const TEN_MIB: usize = 10 << 20;
const POOL: &str = "us-east-1_TestPool";

/// A 10 MiB string of `c`.
fn huge(c: char) -> String {
    std::iter::repeat_n(c, TEN_MIB).collect()
}

/// A string of `c` as long as a request body can carry one (half a MiB; bodies stop at 1 MiB), for
/// the checks that only an adapter that has read the body can make.
fn below_body_limit(c: char) -> String {
    std::iter::repeat_n(c, 512 << 10).collect()
}

/// `body` parsed by the wire adapter as GetTokensFromRefreshToken (if it names a `RefreshToken`) or
/// RevokeToken: refused as InvalidParameterException naming `member`.
#[track_caller]
fn refused_by_wire(body: &str, member: &str) {
    let parsed = if body.contains("\"RefreshToken\"") {
        wire::from_json::<GetTokensFromRefreshTokenRequest>(body.as_bytes())
            .and_then(GetTokensFromRefreshTokenRequest::into_call)
            .map(drop)
    } else {
        wire::from_json::<RevokeTokenRequest>(body.as_bytes())
            .and_then(RevokeTokenRequest::into_call)
            .map(drop)
    };
    let e = assert_refused(parsed, ExceptionKind::InvalidParameter);
    assert!(e.message().contains(member), "{}", e.message());
}

/// A password verifier for operations that never ask it (the legacy refresh flow).
struct NoPasswords;

impl PasswordVerifier for NoPasswords {
    fn check_password(&self, _: &str, _: &str) -> Result<PasswordCheck, Error> {
        Ok(PasswordCheck::NoSuchUser)
    }
}

/// About 10 MiB of short list entries (one million entries of ten bytes).
fn huge_list(entry: &str) -> Vec<String> {
    vec![entry.to_owned(); TEN_MIB / entry.len().max(1)]
}

/// The error answers as `kind`, and its message and wire body stay small: the input is not echoed.
#[track_caller]
fn assert_refused(r: Result<impl std::fmt::Debug, Error>, kind: ExceptionKind) -> Error {
    let e = r.expect_err("a 10 MiB input must be refused");
    assert_eq!(
        e.exception(),
        kind,
        "{}",
        &e.message()[..e.message().len().min(300)]
    );
    assert!(
        e.message().len() < 4096,
        "message copies the input: {} bytes",
        e.message().len()
    );
    assert!(e.to_wire_body().len() < 4096);
    e
}

// ---------------------------------------------------------------- refresh token

#[test]
fn r_safe_1_huge_refresh_token_is_refused_by_the_parser() {
    let keys = RefreshTokenKeys::new(RefreshTokenKey::new(1, &[7; 32]).unwrap());
    assert_eq!(keys.decode(&huge('A')), Err(TokenRejection::Malformed));
    const { assert!(RefreshTokenKeys::MAX_PRESENTED_LEN < TEN_MIB) };
}

#[test]
fn r_safe_1_huge_refresh_token_is_refused_by_every_token_operation() {
    let f = Fixture::new(Opts::non_rotating());
    let t = RefreshToken::new(huge('A'));
    let refresh = f.get_tokens(&RefreshRequest::new(&t, f.id()));
    assert_refused(refresh, ExceptionKind::InvalidParameter);
    let legacy = f
        .issuer
        .legacy_refresh(&refresh_rotation::LegacyRefreshRequest {
            refresh_token: &t,
            client_id: f.id(),
            secret_hash: None,
            device_key: None,
            client_metadata: None,
        });
    assert_refused(legacy, ExceptionKind::InvalidParameter);
    let revoke = f.issuer.revoke_token(&t, f.id(), None);
    assert_refused(revoke, ExceptionKind::InvalidParameter);
}

// ---------------------------------------------------------------- JWT

#[test]
fn r_safe_1_huge_jwt_is_refused() {
    let f = Fixture::new(Opts::rotating(0));
    let v = f.verifier();
    let now = Timestamp::from_unix_seconds(common::START);
    for token in [huge('a'), format!("{}.{}.{}", huge('a'), "b", "c")] {
        for use_ in [TokenUse::Access, TokenUse::Id] {
            let r = v.verify(&token, use_, &f.client_id, now, &NoRevocationCheck);
            assert_refused(r, ExceptionKind::NotAuthorized);
        }
    }
}

// ---------------------------------------------------------------- ClientMetadata

#[test]
fn r_safe_1_huge_client_metadata_is_refused() {
    let f = Fixture::new(Opts::rotating(0).with_hook());
    let token = f.sign_in();
    let one_big = HashMap::from([("k".to_owned(), huge('v'))]);
    assert_refused(
        f.refresh_with_metadata(&token, &one_big),
        ExceptionKind::InvalidParameter,
    );
    let many: HashMap<String, String> = (0..TEN_MIB / 16)
        .map(|i| (format!("{i:08}"), "01234567".to_owned()))
        .collect();
    assert_refused(
        f.refresh_with_metadata(&token, &many),
        ExceptionKind::InvalidParameter,
    );
    let mut req = SignInRequest::new(f.id(), "alice");
    req.client_metadata = Some(&one_big);
    assert_refused(f.issuer.sign_in(&req), ExceptionKind::InvalidParameter);
    // The token is untouched by the refused requests.
    assert!(f.refresh(&token).is_ok());
}

// ---------------------------------------------------------------- AuthParameters

#[test]
fn r_safe_1_huge_auth_parameters_are_refused() {
    let f = Fixture::new(Opts::non_rotating().with_secret());
    let token = f.sign_in();
    let t = RefreshToken::new(token.clone());
    // SECRET_HASH and DEVICE_KEY: refused by their shape when parsed, without being decoded; a
    // request cannot hold one that was not parsed.
    assert_refused(
        SecretHash::parse(&huge('A')),
        ExceptionKind::InvalidParameter,
    );
    assert_refused(
        DeviceKey::parse(&huge('a')),
        ExceptionKind::InvalidParameter,
    );
    // The same through the wire adapter. A value longer than the model's StringType (131,072
    // characters, and a body carries half a MiB) is refused as the call is parsed, without echoing it.
    // At that bound, DEVICE_KEY is refused as the call is parsed; SECRET_HASH, which the model bounds
    // only in length, once the issuer verifies it, as a wrong one (R-ROT-8), without being decoded.
    let wrong_secret = format!("Unable to verify secret for client {}", f.client_id);
    let at_bound = |c: char| std::iter::repeat_n(c, 131_072).collect::<String>();
    for (name, value, kind, refused) in [
        (
            "SECRET_HASH",
            below_body_limit('A'),
            ExceptionKind::InvalidParameter,
            "'AuthParameters'",
        ),
        (
            "DEVICE_KEY",
            below_body_limit('a'),
            ExceptionKind::InvalidParameter,
            "'AuthParameters'",
        ),
        (
            "SECRET_HASH",
            at_bound('A'),
            ExceptionKind::NotAuthorized,
            wrong_secret.as_str(),
        ),
        (
            "DEVICE_KEY",
            at_bound('a'),
            ExceptionKind::InvalidParameter,
            "'DeviceKey'",
        ),
    ] {
        let body = format!(
            r#"{{"AuthFlow":"REFRESH_TOKEN_AUTH","ClientId":"{}","AuthParameters":{{"REFRESH_TOKEN":"{}","{name}":"{value}"}}}}"#,
            f.client_id,
            t.expose_secret(),
        );
        let answer = wire::from_json::<InitiateAuthRequest>(body.as_bytes())
            .and_then(AuthCall::from_initiate_auth)
            .and_then(|call| f.issuer.initiate_auth(&call, &NoPasswords));
        let e = assert_refused(answer, kind);
        assert!(e.message().contains(refused), "{name}: {}", e.message());
    }
    // The whole AuthParameters map arrives in a request body, which is bounded.
    let body = format!(
        r#"{{"AuthFlow":"REFRESH_TOKEN_AUTH","ClientId":"{}","AuthParameters":{{"REFRESH_TOKEN":"{}"}}}}"#,
        f.client_id,
        huge('A')
    );
    assert_refused(
        wire::from_json::<InitiateAuthRequest>(body.as_bytes()),
        ExceptionKind::InvalidParameter,
    );
    assert!(f.legacy_refresh(&token).is_ok());
}

// ---------------------------------------------------------------- secrets, ids, usernames

#[test]
fn r_safe_1_huge_client_secret_client_id_and_username_are_refused() {
    let f = Fixture::new(Opts::rotating(0).with_secret());
    let token = f.sign_in();
    let big = huge('s');
    // A secret or client id above the model's length is refused by its shape when parsed, unread: a
    // refresh, revocation or sign-in cannot name one.
    assert_refused(
        PresentedSecret::parse(&big),
        ExceptionKind::InvalidParameter,
    );
    // The wire adapters parse on the way in (with the largest secret a request body can carry).
    let (id, long) = (&f.client_id, below_body_limit('s'));
    for token_member in ["RefreshToken", "Token"] {
        let body =
            format!(r#"{{"ClientId":"{id}","ClientSecret":"{long}","{token_member}":"{token}"}}"#);
        refused_by_wire(&body, "'ClientSecret'");
    }
    // Sign-in: a secret or SECRET_HASH above the model's length is refused by its shape, unread.
    assert_refused(
        f.try_sign_in(Some(&big), None),
        ExceptionKind::InvalidParameter,
    );
    assert_refused(
        f.try_sign_in(None, Some(&big)),
        ExceptionKind::InvalidParameter,
    );

    let big_id = huge('c');
    assert_refused(ClientId::parse(&big_id), ExceptionKind::InvalidParameter);
    let long_id = below_body_limit('c');
    for token_member in ["RefreshToken", "Token"] {
        let body = format!(r#"{{"ClientId":"{long_id}","{token_member}":"{token}"}}"#);
        refused_by_wire(&body, "'ClientId'");
    }
    assert_refused(
        f.registry.describe_client(&big_id),
        ExceptionKind::ResourceNotFound,
    );
    let big_name = huge('u');
    let mut req = SignInRequest::new(f.id(), &big_name);
    req.client_secret = f.presented();
    assert_refused(f.issuer.sign_in(&req), ExceptionKind::InvalidParameter);
    assert!(f.refresh(&token).is_ok());
}

#[test]
fn r_safe_1_huge_sign_in_scope_list_is_refused() {
    let f = Fixture::new(Opts::rotating(0));
    let scopes = huge_list("openid0123");
    let mut req = SignInRequest::new(f.id(), "alice");
    req.scopes = Some(&scopes);
    assert_refused(f.issuer.sign_in(&req), ExceptionKind::InvalidParameter);
    let one = vec![huge('x')];
    req.scopes = Some(&one);
    assert_refused(f.issuer.sign_in(&req), ExceptionKind::InvalidParameter);
    // A scope that is not one (a newline inside) is refused by its shape, never quoted back.
    let crafted = vec!["api/read\nX-Injected: 1".to_owned()];
    req.scopes = Some(&crafted);
    let e = f.issuer.sign_in(&req).unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert!(!e.message().contains("X-Injected"), "{}", e.message());
}

// ---------------------------------------------------------------- client configuration

fn create(f: &Fixture, req: CreateUserPoolClientRequest) -> Error {
    assert_refused(
        f.registry.create_user_pool_client(&req),
        ExceptionKind::InvalidParameter,
    )
}

fn create_req() -> CreateUserPoolClientRequest {
    CreateUserPoolClientRequest {
        user_pool_id: Some(POOL.into()),
        client_name: Some("big".into()),
        ..Default::default()
    }
}

#[test]
fn r_safe_1_huge_lists_are_refused_with_one_violation_each() {
    let f = Fixture::new(Opts::rotating(0));
    type SetList = fn(&mut CreateUserPoolClientRequest, Vec<String>);
    let lists: [(&str, SetList); 8] = [
        ("ReadAttributes", |r, l| r.read_attributes = Some(l)),
        ("WriteAttributes", |r, l| r.write_attributes = Some(l)),
        ("ExplicitAuthFlows", |r, l| r.explicit_auth_flows = Some(l)),
        ("SupportedIdentityProviders", |r, l| {
            r.supported_identity_providers = Some(l)
        }),
        ("CallbackURLs", |r, l| r.callback_urls = Some(l)),
        ("LogoutURLs", |r, l| r.logout_urls = Some(l)),
        ("AllowedOAuthFlows", |r, l| r.allowed_oauth_flows = Some(l)),
        ("AllowedOAuthScopes", |r, l| {
            r.allowed_oauth_scopes = Some(l)
        }),
    ];
    for (field, set) in lists {
        // Entries that are each invalid: checked one by one, they would be a million violations.
        let mut req = create_req();
        set(&mut req, huge_list("bad entry!"));
        let e = create(&f, req);
        let Error::InvalidConfig(v) = &e else {
            panic!("{field}: {e:?}")
        };
        let on_field: Vec<_> = v.violations().iter().filter(|x| x.field == field).collect();
        assert_eq!(on_field.len(), 1, "{field}: {}", e.message());
        assert!(on_field[0]
            .message
            .contains("have length less than or equal to"));

        let mut upd = UpdateUserPoolClientRequest {
            user_pool_id: Some(POOL.into()),
            client_id: Some(f.client_id.clone()),
            ..Default::default()
        };
        let mut tmp = create_req();
        set(&mut tmp, huge_list("bad entry!"));
        upd.read_attributes = tmp.read_attributes;
        upd.write_attributes = tmp.write_attributes;
        upd.explicit_auth_flows = tmp.explicit_auth_flows;
        upd.supported_identity_providers = tmp.supported_identity_providers;
        upd.callback_urls = tmp.callback_urls;
        upd.logout_urls = tmp.logout_urls;
        upd.allowed_oauth_flows = tmp.allowed_oauth_flows;
        upd.allowed_oauth_scopes = tmp.allowed_oauth_scopes;
        assert_refused(
            f.registry.update_user_pool_client(&upd),
            ExceptionKind::InvalidParameter,
        );
    }
    // The Rust builder path is bounded the same way.
    let b = AppClientConfig::builder("big").read_attributes(huge_list("bad entry!"));
    assert_refused(
        f.registry.create_client(b, NewClientSecret::None),
        ExceptionKind::InvalidParameter,
    );
    assert_eq!(f.registry.len().unwrap(), 1, "nothing was stored");
}

#[test]
fn r_safe_1_huge_strings_in_a_client_configuration_are_refused() {
    let f = Fixture::new(Opts::rotating(0));
    create(
        &f,
        CreateUserPoolClientRequest {
            client_name: Some(huge('n')),
            ..create_req()
        },
    );
    create(
        &f,
        CreateUserPoolClientRequest {
            client_secret: Some(wire::WireClientSecret::new(huge('s'))),
            ..create_req()
        },
    );
    create(
        &f,
        CreateUserPoolClientRequest {
            callback_urls: Some(vec![huge('u')]),
            ..create_req()
        },
    );
    create(
        &f,
        CreateUserPoolClientRequest {
            default_redirect_uri: Some(huge('u')),
            ..create_req()
        },
    );
    create(
        &f,
        CreateUserPoolClientRequest {
            read_attributes: Some(vec![huge('a')]),
            ..create_req()
        },
    );
    // An ARN of colons would split into ten million parts if its pattern were checked.
    create(
        &f,
        CreateUserPoolClientRequest {
            analytics_configuration: Some(wire::AnalyticsConfigurationType {
                role_arn: Some(huge(':')),
                ..Default::default()
            }),
            ..create_req()
        },
    );
    assert_refused(
        f.registry
            .describe_user_pool_client(&DescribeUserPoolClientRequest {
                user_pool_id: Some(huge('p')),
                client_id: Some(huge('c')),
            }),
        ExceptionKind::InvalidParameter,
    );
    assert_refused(
        f.registry
            .delete_user_pool_client(&DeleteUserPoolClientRequest {
                user_pool_id: Some(POOL.into()),
                client_id: Some(huge('c')),
            }),
        ExceptionKind::InvalidParameter,
    );
    assert_eq!(f.registry.len().unwrap(), 1, "nothing was stored");
}

// ---------------------------------------------------------------- NextToken

#[test]
fn r_safe_1_huge_next_token_is_refused() {
    let f = Fixture::new(Opts::rotating(0));
    let req = ListUserPoolClientsRequest {
        user_pool_id: Some(POOL.into()),
        next_token: Some(huge('A')),
        ..Default::default()
    };
    assert_refused(
        f.registry.list_user_pool_clients(&req),
        ExceptionKind::InvalidParameter,
    );
    assert_refused(
        f.registry.list_clients(10, Some(&huge('A'))),
        ExceptionKind::InvalidParameter,
    );
}

// ---------------------------------------------------------------- request bodies

#[test]
fn r_safe_1_huge_request_bodies_are_refused_for_every_request_type() {
    let body = format!(r#"{{"ClientId":"{}"}}"#, huge('a'));
    let b = body.as_bytes();
    fn refused<T: serde::de::DeserializeOwned + std::fmt::Debug>(b: &[u8]) {
        assert_refused(wire::from_json::<T>(b), ExceptionKind::InvalidParameter);
    }
    refused::<CreateUserPoolClientRequest>(b);
    refused::<UpdateUserPoolClientRequest>(b);
    refused::<DescribeUserPoolClientRequest>(b);
    refused::<DeleteUserPoolClientRequest>(b);
    refused::<ListUserPoolClientsRequest>(b);
    refused::<GetTokensFromRefreshTokenRequest>(b);
    refused::<RevokeTokenRequest>(b);
    refused::<InitiateAuthRequest>(b);
    refused::<AdminInitiateAuthRequest>(b);
    const { assert!(wire::MAX_REQUEST_BYTES < TEN_MIB) };
}

/// R-SAFE-1: the body limit is inclusive: a body of exactly `MAX_REQUEST_BYTES` bytes is parsed, one
/// byte more is refused before parsing.
#[test]
fn r_safe_1_a_body_of_exactly_the_limit_is_parsed() {
    let mut body = format!(r#"{{"UserPoolId":"{POOL}","ClientId":"abc"}}"#).into_bytes();
    body.resize(wire::MAX_REQUEST_BYTES, b' ');
    let req = wire::from_json::<DescribeUserPoolClientRequest>(&body).unwrap();
    assert_eq!(req.client_id.as_deref(), Some("abc"));
    body.push(b' ');
    let e = wire::from_json::<DescribeUserPoolClientRequest>(&body).unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert!(e.message().contains("at most"), "{}", e.message());
}

/// R-SAFE-1 (SPEC 2.2): only a list of more than 1,000 entries is refused on its own. A list of exactly
/// 1,000 is validated as any other: each entry checked, duplicates folded, and the rest of the request
/// judged with it.
#[test]
fn r_safe_1_a_list_of_exactly_1000_entries_is_checked_entry_by_entry() {
    let f = Fixture::new(Opts::rotating(0));
    let mut attrs = vec!["email".to_owned(); 999];
    attrs.push(String::new());
    let e = create(
        &f,
        CreateUserPoolClientRequest {
            read_attributes: Some(attrs),
            ..create_req()
        },
    );
    assert!(
        e.message().contains("'ReadAttributes.1000.member'"),
        "{}",
        e.message()
    );
    let urls: Vec<String> = (0..1000)
        .map(|i| format!("https://e.example/{i}"))
        .collect();
    let e = create(
        &f,
        CreateUserPoolClientRequest {
            callback_urls: Some(urls),
            client_name: Some("bad/name".into()),
            ..create_req()
        },
    );
    let Error::InvalidConfig(v) = &e else {
        panic!("{e:?}")
    };
    assert!(
        v.has(9, "CallbackURLs") && v.has(2, "ClientName"),
        "{}",
        e.message()
    );
    let flows = vec!["ALLOW_USER_SRP_AUTH".to_owned(); 1000];
    let created = f
        .registry
        .create_user_pool_client(&CreateUserPoolClientRequest {
            explicit_auth_flows: Some(flows),
            ..create_req()
        })
        .unwrap();
    assert_eq!(
        created
            .user_pool_client
            .unwrap()
            .explicit_auth_flows
            .unwrap(),
        ["ALLOW_USER_SRP_AUTH"]
    );
}

/// R-REF-1, R-SAFE-1: the bounds on ClientMetadata (at most 64 entries) are among the shape checks made
/// when a wire request is parsed, before the host routes it or a password is looked at.
#[test]
fn r_ref_1_client_metadata_bounds_are_checked_when_the_request_is_parsed() {
    let metadata = |n: usize| -> HashMap<String, String> {
        (0..n).map(|i| (format!("k{i}"), "v".to_owned())).collect()
    };
    let refresh = |n| {
        serde_json::json!({"RefreshToken": "abc", "ClientId": "c1", "ClientMetadata": metadata(n)})
            .to_string()
    };
    assert!(
        wire::from_json::<GetTokensFromRefreshTokenRequest>(refresh(64).as_bytes())
            .and_then(GetTokensFromRefreshTokenRequest::into_call)
            .is_ok()
    );
    refused_by_wire(&refresh(65), "ClientMetadata");
    let initiate = |n| {
        let body = serde_json::json!({"ClientId": "c1", "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "u", "PASSWORD": "p"}, "ClientMetadata": metadata(n)})
        .to_string();
        wire::from_json::<InitiateAuthRequest>(body.as_bytes())
            .and_then(AuthCall::from_initiate_auth)
    };
    assert!(initiate(64).is_ok());
    let e = assert_refused(initiate(65).map(drop), ExceptionKind::InvalidParameter);
    assert!(e.message().contains("ClientMetadata"), "{}", e.message());
}
