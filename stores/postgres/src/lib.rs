//! An asynchronous PostgreSQL family store for `refresh-rotation` (SPEC R-PER-5).
//!
//! The in-memory store serves one process. When an auth service runs on several machines, every instance
//! must see the same refresh-token families and a rotation must stay atomic across all of them.
//! [`PgRefreshTokenStore`] keeps one row per family in one table and rotates with a single conditional
//! `UPDATE ... WHERE family_id = $1 AND generation = $2 AND NOT revoked` (SPEC R-SAFE-5), so however many
//! processes present the same refresh token at once, the family advances at most once. It runs on
//! tokio-postgres with a bb8 pool and implements
//! [`AsyncRefreshTokenStore`](refresh_rotation::store::AsyncRefreshTokenStore) natively; a successful
//! refresh costs two round trips (the read and the conditional update).
//!
//! From an async service, with [`AsyncTokenIssuer`](refresh_rotation::AsyncTokenIssuer):
//!
//! ```no_run
//! use std::sync::Arc;
//! use refresh_rotation_postgres::{PgRefreshTokenStore, PgTls};
//!
//! # async fn start() -> Result<(), refresh_rotation::error::StoreError> {
//! let ca = std::fs::read("/etc/auth/db-ca.pem").expect("the database's CA");
//! let store = PgRefreshTokenStore::builder()
//!     .table("refresh_token_families")
//!     .max_connections(16)
//!     .tls(PgTls::from_pem(&ca)?) // verified TLS (R-SAFE-9); omit on loopback
//!     .connect("postgresql://auth@db.internal/auth")
//!     .await?;
//! store.migrate().await?; // explicit and idempotent: creates the table and indexes if missing
//! let store: Arc<dyn refresh_rotation::store::AsyncRefreshTokenStore> = Arc::new(store);
//! // AsyncTokenIssuer::builder(..., store, ...).build(); purge with `issuer.purge_expired(1_000).await`.
//! # Ok(()) }
//! ```
//!
//! From synchronous code, with [`TokenIssuer`](refresh_rotation::TokenIssuer), through the
//! [`BlockingPgStore`] adapter on a multi-thread runtime the host keeps alive:
//!
//! ```no_run
//! use std::sync::Arc;
//! use refresh_rotation::store::RefreshTokenStore;
//! use refresh_rotation_postgres::PgRefreshTokenStore;
//!
//! # fn main() -> Result<(), refresh_rotation::error::StoreError> {
//! let runtime = tokio::runtime::Builder::new_multi_thread()
//!     .worker_threads(2)
//!     .enable_all()
//!     .build()
//!     .expect("a tokio runtime");
//! let store = PgRefreshTokenStore::builder()
//!     .connect_blocking("postgresql://auth@127.0.0.1/auth", runtime.handle())?;
//! store.migrate()?;
//! let store: Arc<dyn RefreshTokenStore> = Arc::new(store);
//! // TokenIssuer::builder(..., store, ...).build(); keep `runtime` alive as long as the store.
//! # Ok(()) }
//! ```
//!
//! Every error is a [`StoreError`](refresh_rotation::error::StoreError): `Unavailable` when the server cannot be
//! reached, dropped the connection or timed out, `Backend` otherwise, `AlreadyExists` for a colliding
//! `create`. Error messages never contain the password. An error is ambiguous when the reply was lost
//! after the server committed (a dropped connection, a crashed server): a failed `advance` may then have
//! advanced the family, and the client's retry inside the grace window gets the successor it missed
//! (R-ROT-2). The README's "When an operation fails" has the table for every operation.
//!
//! The store's sessions run at READ COMMITTED whatever the server's or role's default, which the
//! conditional `UPDATE` needs to answer the loser of a race (R-ROT-5). By default the store supplies the
//! time of every decision from the database clock (R-ROT-11).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod blocking;
mod clients;
mod error;
mod joined;
mod pool;
mod schema;
mod store;
mod tls;

pub use blocking::BlockingPgStore;
pub use clients::PgClientStore;
pub use joined::{PgPoolFamilies, PgUserJoin};
pub use store::{PgRefreshTokenStore, PgStoreBuilder};
pub use tls::PgTls;

/// The rustls version the store is built on, for [`PgTls::with_roots`] and
/// [`PgTls::from_client_config`].
pub use rustls;
/// The tokio version the store is built on, for the runtime handle of [`PgRefreshTokenStore::blocking`].
pub use tokio;
/// The tokio-postgres version the store is built on, for the rows a [`PgUserJoin`] decodes.
pub use tokio_postgres;

/// Compiles the README's examples as doctests, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
