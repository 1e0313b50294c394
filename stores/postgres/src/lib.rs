//! A PostgreSQL [`RefreshTokenStore`](refresh_rotation::RefreshTokenStore) for `refresh-rotation`.
//!
//! The in-memory store serves one process. When an auth service runs on several machines, every instance
//! must see the same refresh-token families and a rotation must stay atomic across all of them.
//! [`PgRefreshTokenStore`] keeps one row per family in one table and rotates with a single conditional
//! `UPDATE ... WHERE family_id = $1 AND generation = $2 AND NOT revoked` (SPEC R-SAFE-5), so however many
//! processes present the same refresh token at once, the family advances at most once.
//!
//! ```no_run
//! use refresh_rotation::RefreshTokenStore;
//! use refresh_rotation_postgres::PgRefreshTokenStore;
//!
//! # fn main() -> Result<(), refresh_rotation::StoreError> {
//! let store = PgRefreshTokenStore::builder()
//!     .table("refresh_token_families")
//!     .max_connections(16)
//!     .connect("postgresql://auth@db.internal/auth")?;
//! store.migrate()?; // explicit and idempotent: creates the table and indexes if missing
//!
//! // On a schedule (say every few minutes), delete expired families in bounded batches. The cutoff
//! // keeps families a day and the verifier's leeway past their expiry, so that their revoked JWTs stay
//! // revoked (R-REV-6); `TokenIssuer::purge_expired` does the same from its clock.
//! let now = refresh_rotation::Timestamp::from_unix_seconds(1_750_000_000);
//! let cutoff = refresh_rotation::PurgeCutoff::at(now).expect("in range");
//! while store.purge_expired(cutoff, 1_000)? == 1_000 {}
//! # Ok(()) }
//! ```
//!
//! Every error is a [`StoreError`](refresh_rotation::StoreError): `Unavailable` when the server cannot be
//! reached, dropped the connection or timed out, `Backend` otherwise, `AlreadyExists` for a colliding
//! `create`. Error messages never contain the password. An error is ambiguous when the reply was lost
//! after the server committed (a dropped connection, a crashed server): a failed `advance` may then have
//! advanced the family, and the client's retry inside the grace window gets the successor it missed
//! (R-ROT-2). The README's "When an operation fails" has the table for every operation.
//!
//! The store's sessions run at READ COMMITTED whatever the server's or role's default, which the
//! conditional `UPDATE` needs to answer the loser of a race (R-ROT-5).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod pool;
mod schema;
mod store;

pub use store::{PgRefreshTokenStore, PgStoreBuilder};

/// Compiles the README's examples as doctests, so they cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
