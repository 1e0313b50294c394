//! Serde types for Cognito's JSON request and response bodies (SPEC 9). SKELETON.
