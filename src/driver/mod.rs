//! Drivers: they perform the I/O the [engine](crate::engine) asks for. [`TokenIssuer`] is the
//! synchronous driver, for hosts that call the stores, the user directory and the hook on the calling
//! thread; [`AsyncTokenIssuer`] awaits them, for async services (a tokio handler awaits a refresh
//! directly, with no `spawn_blocking`). Both run the same flows: no rule lives in a driver.

// Time, generation and counter arithmetic here is checked (R-SAFE-4): no silent wrap.
#![deny(clippy::arithmetic_side_effects)]

mod builder;
mod nonblocking;
mod sync;
pub mod telemetry;

pub use builder::IssuerBuilder;
pub use nonblocking::{AsyncParts, AsyncTokenIssuer, AsyncTokenIssuerBuilder};
pub use sync::{SyncParts, TokenIssuer, TokenIssuerBuilder};
