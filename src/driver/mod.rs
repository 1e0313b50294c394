//! Drivers: they perform the I/O the [engine](crate::engine) asks for. [`TokenIssuer`] is the
//! synchronous driver, for hosts that call the stores, the user directory and the hook on the calling
//! thread.

mod sync;

pub use sync::{TokenIssuer, TokenIssuerBuilder};
