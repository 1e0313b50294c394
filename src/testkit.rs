//! The `RefreshTokenStore` conformance suite. SKELETON: filled in by issue 3.
