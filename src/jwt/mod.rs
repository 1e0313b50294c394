//! ID and access tokens: keys, signing, JWKS and verification (SPEC 8). SKELETON: filled in by issue 3.
