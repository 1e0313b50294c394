//! The future type of the asynchronous collaborator traits: boxed, so that the traits stay object-safe
//! (`Arc<dyn AsyncRefreshTokenStore>`) without a macro crate, and `Send`, so that a tokio service can
//! await them from any handler.

use std::future::Future;
use std::pin::Pin;

/// A boxed, `Send` future: what every method of the asynchronous collaborator traits returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A future that is already complete, boxed: how a synchronous implementation answers an asynchronous
/// trait.
pub(crate) fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}
