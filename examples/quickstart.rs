//! The semantics of refresh token rotation, step by step.
//!
//! Creates an app client with rotation ENABLED and a 10-second retry grace period, signs a user in,
//! refreshes, retries the old token inside the window (same successor), moves a manual clock past the
//! window (RefreshTokenReuseException), revokes the session, and prints what happens at each step.
//!
//! Run with `cargo run --example quickstart`.

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use refresh_rotation::clock::{Clock, ManualClock};
use refresh_rotation::config::RefreshTokenRotation;
use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::InMemoryRefreshTokenStore;
use refresh_rotation::{
    AppClientConfig, ClientId, ClientRegistry, Error, NewClientSecret, RefreshRequest,
    RefreshToken, RefreshTokenKey, RefreshTokenKeys, SignInRequest, TokenIssuer, TokenSet,
};

fn short(token: &str) -> String {
    // Show only the last characters (part of the MAC): enough to tell tokens apart, not to use one.
    format!("…{}", &token[token.len().saturating_sub(10)..])
}

fn outcome(step: &str, result: &Result<TokenSet, Error>) {
    match result {
        Ok(r) => println!(
            "{step:<58} -> ok, refresh token {}",
            r.refresh_token
                .as_ref()
                .map_or("(none)".to_owned(), |t| short(t.expose_secret()))
        ),
        Err(e) => println!("{step:<58} -> {}: {}", e.exception_name(), e.message()),
    }
}

fn main() -> Result<(), Error> {
    // Everything the issuer needs comes in from outside: clock, randomness, store, users, keys.
    let clock = Arc::new(ManualClock::starting_now());
    let rng = Arc::new(SystemRandom::new());
    let registry = Arc::new(ClientRegistry::new(
        "us-east-1_Quickstart",
        clock.clone(),
        rng.clone(),
    ));
    let store = Arc::new(InMemoryRefreshTokenStore::new());
    let users = Arc::new(InMemoryUserDirectory::new());
    users.put(
        UserRecord::new("7d2c1f0e-0000-4000-8000-000000000001", "alice")
            .with_attribute("email", "alice@example.com"),
    )?;

    // A client with rotation ENABLED and a 10-second retry grace period.
    let rotation = RefreshTokenRotation::enabled(10).ok_or(Error::Internal {
        detail: "grace above 60 seconds",
    })?;
    let client = registry.create_client(
        AppClientConfig::builder("quickstart-app").refresh_token_rotation(rotation),
        NewClientSecret::None,
    )?;
    // A host parses the client id a request names once, at its edge; the issuer does not check it again.
    let client_id = ClientId::parse(client.client_id())?;
    println!("created client {client_id} with rotation ENABLED, grace 10 s\n");

    let signer = TokenSigner::new(Arc::new(SigningKey::generate(
        Algorithm::ES256,
        "quickstart-1",
    )?));
    let refresh_keys = RefreshTokenKeys::new(RefreshTokenKey::generate(1, &*rng)?);
    let issuer = TokenIssuer::builder(
        "us-east-1",
        signer,
        refresh_keys,
        registry.clone(),
        store.clone(),
        users.clone(),
    )
    .build();

    let refresh = |token: &RefreshToken| {
        issuer.get_tokens_from_refresh_token(&RefreshRequest::new(token, client_id))
    };

    let signed_in = issuer.sign_in(&SignInRequest::new(client_id, "alice"));
    outcome("1. sign in alice", &signed_in);
    let missing = || Error::Internal {
        detail: "no refresh token in the answer",
    };
    let t0 = signed_in?.refresh_token.ok_or_else(missing)?;

    let first = refresh(&t0);
    outcome("2. refresh with T0 (first use: rotates)", &first);
    let t1 = first?.refresh_token.ok_or_else(missing)?;

    clock.advance(3);
    let retry = refresh(&t0);
    outcome("3. retry T0 3 s later (inside the grace window)", &retry);
    let same = retry?.refresh_token.as_ref() == Some(&t1);
    println!("   same successor as step 2: {same}");

    clock.advance(10);
    outcome("4. retry T0 after the window closed", &refresh(&t0));

    let next = refresh(&t1);
    outcome("5. refresh with T1 (the live token)", &next);
    let t2 = next?.refresh_token.ok_or_else(missing)?;

    issuer.revoke_token(&t1, client_id, None)?;
    println!(
        "{:<58} -> ok",
        "6. revoke the session (with any of its tokens)"
    );
    outcome("7. refresh with T2 after revocation", &refresh(&t2));

    println!(
        "\nclock now at {} (moved by hand; the issuer never reads the system clock itself)",
        clock.now()
    );
    Ok(())
}
