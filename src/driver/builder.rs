//! The one builder of both drivers: the engine's settings are the same whichever driver runs it; only
//! the kind of collaborators (synchronous or asynchronous trait objects) differs.

use std::sync::Arc;

use crate::clock::Clock;
use crate::engine::{Engine, EngineSettings, ReusePolicy};
use crate::jwt::TokenSigner;
use crate::random::RandomSource;
use crate::registry::ClientRegistry;
use crate::token::RefreshTokenKeys;

/// Everything a driver needs, with the defaults of SPEC 1. `C` is the driver's collaborators (store,
/// directory, hook). Start from [`TokenIssuer::builder`](crate::TokenIssuer::builder) or
/// [`AsyncTokenIssuer::builder`](crate::AsyncTokenIssuer::builder).
pub struct IssuerBuilder<C> {
    pub(crate) region: String,
    pub(crate) issuer_url: Option<String>,
    pub(crate) signer: TokenSigner,
    pub(crate) refresh_keys: RefreshTokenKeys,
    pub(crate) registry: Arc<ClientRegistry>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) rng: Arc<dyn RandomSource>,
    pub(crate) device_tracking: bool,
    pub(crate) reuse_policy: ReusePolicy,
    pub(crate) parts: C,
}

impl<C> std::fmt::Debug for IssuerBuilder<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerBuilder")
            .field("region", &self.region)
            .field("issuer_url", &self.issuer_url)
            .field("device_tracking", &self.device_tracking)
            .field("reuse_policy", &self.reuse_policy)
            .finish_non_exhaustive()
    }
}

impl<C> IssuerBuilder<C> {
    pub(crate) fn new(
        region: String,
        signer: TokenSigner,
        refresh_keys: RefreshTokenKeys,
        registry: Arc<ClientRegistry>,
        parts: C,
    ) -> Self {
        // The pool's clock and randomness are given once, to the registry.
        let (clock, rng) = (Arc::clone(registry.clock()), Arc::clone(registry.random()));
        IssuerBuilder {
            region,
            issuer_url: None,
            signer,
            refresh_keys,
            registry,
            clock,
            rng,
            device_tracking: false,
            reuse_policy: ReusePolicy::Reject,
            parts,
        }
    }

    /// The issuer URL (`iss`). Defaults to `https://cognito-idp.<region>.amazonaws.com/<userPoolId>`
    /// (R-JWT-4).
    pub fn issuer_url(mut self, url: impl Into<String>) -> Self {
        self.issuer_url = Some(url.into());
        self
    }

    /// Whether the pool tracks devices (R-REF-9). Defaults to `false`.
    ///
    /// Device keys are `<region>_<uuid>`. DeviceKeyType allows 55 characters, so the region is cut to
    /// its first 18 characters there (an AWS region has at most 14), and any character outside
    /// `[A-Za-z0-9_-]` becomes `-`: every key issued is one a client can present again.
    pub fn device_tracking(mut self, on: bool) -> Self {
        self.device_tracking = on;
        self
    }

    /// The reuse policy (R-ROT-4). Defaults to [`ReusePolicy::Reject`].
    pub fn reuse_policy(mut self, policy: ReusePolicy) -> Self {
        self.reuse_policy = policy;
        self
    }

    /// The clock. Defaults to the registry's: a pool has one clock. Override it only to give one host
    /// of a pool another view of time (tests of clock skew).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The random source. Defaults to the registry's.
    pub fn random(mut self, rng: Arc<dyn RandomSource>) -> Self {
        self.rng = rng;
        self
    }

    /// The engine these settings describe, and what is left for the driver.
    pub(crate) fn into_engine(
        self,
        hook: bool,
    ) -> (Engine, Arc<ClientRegistry>, Arc<dyn Clock>, C) {
        let issuer_url = self.issuer_url.unwrap_or_else(|| {
            format!(
                "https://cognito-idp.{}.amazonaws.com/{}",
                self.region,
                self.registry.user_pool_id()
            )
        });
        let engine = Engine::new(EngineSettings {
            region: self.region,
            issuer_url,
            signer: self.signer,
            refresh_keys: self.refresh_keys,
            rng: self.rng,
            device_tracking: self.device_tracking,
            reuse_policy: self.reuse_policy,
            hook,
        });
        (engine, self.registry, self.clock, self.parts)
    }
}
