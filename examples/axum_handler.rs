//! GetTokensFromRefreshToken behind a minimal axum handler, on the asynchronous driver.
//!
//! One route, `POST /refresh`, takes Cognito's JSON request body and answers Cognito's JSON: the request
//! is parsed and shape-checked once (`wire`), the async issuer runs the rotation (awaiting its store, no
//! `spawn_blocking`), and errors become Cognito's `{"__type", "message"}` bodies with their HTTP status.
//!
//! Run with `cargo run --example axum_handler`; it signs a user in, prints a curl command with the
//! refresh token, and serves on 127.0.0.1:3000 until Ctrl-C.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use refresh_rotation::clock::SystemClock;
use refresh_rotation::config::RefreshTokenRotation;
use refresh_rotation::directory::{InMemoryUserDirectory, UserRecord};
use refresh_rotation::jwt::{Algorithm, SigningKey, TokenSigner};
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::InMemoryRefreshTokenStore;
use refresh_rotation::wire::{self, GetTokensFromRefreshTokenRequest};
use refresh_rotation::{
    AppClientConfig, AsyncTokenIssuer, ClientId, ClientRegistry, Error, NewClientSecret,
    RefreshTokenKey, RefreshTokenKeys, SignInRequest,
};

/// The handler: Cognito JSON in, Cognito JSON out.
async fn refresh(State(issuer): State<Arc<AsyncTokenIssuer>>, body: Bytes) -> Response {
    let answer = async {
        let call = wire::from_json::<GetTokensFromRefreshTokenRequest>(&body)?.into_call()?;
        let tokens = issuer
            .get_tokens_from_refresh_token(&call.as_request())
            .await?;
        wire::to_json(&wire::GetTokensFromRefreshTokenResponse {
            authentication_result: tokens.into(),
        })
    };
    match answer.await {
        Ok(json) => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], json).into_response(),
        Err(e) => {
            let status =
                StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (
                status,
                [(header::CACHE_CONTROL, "no-store")],
                e.to_wire_body(),
            )
                .into_response()
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rng = Arc::new(SystemRandom::new());
    let registry = Arc::new(ClientRegistry::new(
        "us-east-1_Axum",
        Arc::new(SystemClock),
        rng.clone(),
    ));
    let rotation = RefreshTokenRotation::enabled(10).ok_or("grace above 60 s")?;
    let client = registry.create_client(
        AppClientConfig::builder("axum-app").refresh_token_rotation(rotation),
        NewClientSecret::None,
    )?;
    let users = Arc::new(InMemoryUserDirectory::new());
    users.put(UserRecord::new(
        "7d2c1f0e-0000-4000-8000-000000000001",
        "alice",
    ))?;
    let issuer = Arc::new(
        AsyncTokenIssuer::builder(
            "us-east-1",
            TokenSigner::new(Arc::new(SigningKey::generate(Algorithm::ES256, "axum-1")?)),
            RefreshTokenKeys::new(RefreshTokenKey::generate(1, &*rng)?),
            registry,
            Arc::new(InMemoryRefreshTokenStore::new()),
            users,
        )
        .build(),
    );

    // The host authenticated alice somehow; the issuer starts her session.
    let first = issuer
        .sign_in(&SignInRequest::new(
            ClientId::parse(client.client_id())?,
            "alice",
        ))
        .await?;
    let token = first.refresh_token.ok_or(Error::Internal {
        detail: "sign-in returns a refresh token",
    })?;
    println!(
        "curl -s localhost:3000/refresh -d '{{\"ClientId\":\"{}\",\"RefreshToken\":\"{}\"}}'",
        client.client_id(),
        token.expose_secret()
    );

    let app = Router::new()
        .route("/refresh", post(refresh))
        .with_state(issuer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
