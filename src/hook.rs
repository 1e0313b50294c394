//! The pre-token-generation hook (R-REF-11): the in-process counterpart of Cognito's Lambda trigger.
//!
//! The host may install one [`PreTokenGenerationHook`] per issuer. It runs before every token set is
//! minted, sees the user's claims, the client and the request's ClientMetadata, and may add, override or
//! suppress ID-token claims, replace the groups, or refuse. Claims the issuer owns
//! (`jwt::PROTECTED_CLAIMS`) can never be changed by a hook: such entries are
//! ignored.

use std::collections::{BTreeMap, HashMap};

use crate::future::{ready, BoxFuture};

/// Why the hook is being called, as Cognito's `triggerSource` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TriggerSource {
    /// `TokenGeneration_Authentication`: the first token set after sign-in.
    Authentication,
    /// `TokenGeneration_RefreshTokens`: GetTokensFromRefreshToken or the legacy refresh flow.
    RefreshTokens,
}

impl TriggerSource {
    /// The wire name, for example `TokenGeneration_RefreshTokens`.
    pub const fn as_str(self) -> &'static str {
        match self {
            TriggerSource::Authentication => "TokenGeneration_Authentication",
            TriggerSource::RefreshTokens => "TokenGeneration_RefreshTokens",
        }
    }
}

/// What the hook is shown.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct PreTokenGenerationEvent<'a> {
    /// Why the hook runs.
    pub trigger_source: TriggerSource,
    /// The app client.
    pub client_id: &'a str,
    /// The user's username.
    pub username: &'a str,
    /// The user's `sub`.
    pub subject: &'a str,
    /// The user's current attributes.
    pub user_attributes: &'a BTreeMap<String, String>,
    /// The user's current groups.
    pub groups: &'a [String],
    /// The request's ClientMetadata (empty when none was sent).
    pub client_metadata: &'a HashMap<String, String>,
}

/// What the hook asks for. The default changes nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimsOverride {
    /// ID-token claims to add or override (`claimsToAddOrOverride`). Protected claims are ignored.
    pub claims_to_add_or_override: serde_json::Map<String, serde_json::Value>,
    /// ID-token claims to remove (`claimsToSuppress`). Protected claims are ignored. A claim both
    /// suppressed and added is suppressed, as in Cognito.
    pub claims_to_suppress: Vec<String>,
    /// Replacement for `cognito:groups` in both tokens (`groupsToOverride`); `Some(vec![])` removes it.
    pub groups_to_override: Option<Vec<String>>,
}

/// A host-supplied pre-token-generation hook.
///
/// Contract: deterministic enough for the host's purpose, quick (it runs on every refresh), and free of
/// secrets in its refusal message: `Err(message)` is returned to the client as
/// `UserLambdaValidationException` carrying that message.
pub trait PreTokenGenerationHook: Send + Sync {
    /// Inspects the event and returns the changes to apply, or a refusal message.
    fn pre_token_generation(
        &self,
        event: &PreTokenGenerationEvent<'_>,
    ) -> Result<ClaimsOverride, String>;
}

impl<F> PreTokenGenerationHook for F
where
    F: Fn(&PreTokenGenerationEvent<'_>) -> Result<ClaimsOverride, String> + Send + Sync,
{
    fn pre_token_generation(
        &self,
        event: &PreTokenGenerationEvent<'_>,
    ) -> Result<ClaimsOverride, String> {
        self(event)
    }
}

/// The asynchronous form of [`PreTokenGenerationHook`] (R-ENG-2), for a hook that awaits I/O (a call to
/// a function service, say). The contract is [`PreTokenGenerationHook`]'s; every synchronous hook is also
/// an asynchronous one.
pub trait AsyncPreTokenGenerationHook: Send + Sync {
    /// As [`PreTokenGenerationHook::pre_token_generation`].
    fn pre_token_generation<'a>(
        &'a self,
        event: &'a PreTokenGenerationEvent<'a>,
    ) -> BoxFuture<'a, Result<ClaimsOverride, String>>;
}

impl<H: PreTokenGenerationHook + ?Sized> AsyncPreTokenGenerationHook for H {
    fn pre_token_generation<'a>(
        &'a self,
        event: &'a PreTokenGenerationEvent<'a>,
    ) -> BoxFuture<'a, Result<ClaimsOverride, String>> {
        ready(PreTokenGenerationHook::pre_token_generation(self, event))
    }
}
