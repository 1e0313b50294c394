//! The in-memory [`RefreshTokenStore`](super::RefreshTokenStore). SKELETON: filled in by issue 3.

/// A sharded in-memory store. SKELETON.
#[derive(Debug, Default)]
pub struct InMemoryRefreshTokenStore {}
