//! The rules about the client secret: the Create-only secret members (R-CFG-5) and the setting that
//! needs a secret (R-CFG-14). The rules of the OAuth flows that need one (R-CFG-11) are in `oauth`.

use crate::error::{ExceptionKind, Violation};
use crate::secret::ClientSecret;

use super::check::{check_secret_string, push, At, CLIENT_SECRET_TYPE};
use super::input::{RawConfig, ValidationContext};

/// The Create-only secret members (R-CFG-5): GenerateSecret and ClientSecret are exclusive, a custom
/// secret must be a ClientSecretType, and PublishSecretsInAWSSecretsManager cannot be honoured.
pub(crate) fn check_secret_request(
    out: &mut Vec<Violation>,
    generate: bool,
    secret: Option<&ClientSecret>,
    publish_in_secrets_manager: bool,
) {
    if let Some(s) = secret {
        if generate {
            push(
                out,
                5,
                "ClientSecret",
                ExceptionKind::InvalidParameter,
                "Cannot specify both GenerateSecret as true and a ClientSecret value.".to_owned(),
            );
        }
        check_secret_string(
            out,
            At::member(5, "ClientSecret"),
            s.expose_secret(),
            CLIENT_SECRET_TYPE,
        );
    }
    if publish_in_secrets_manager {
        push(
            out,
            5,
            "PublishSecretsInAWSSecretsManager",
            ExceptionKind::InvalidParameter,
            "PublishSecretsInAWSSecretsManager is not supported: this implementation has no Secrets Manager \
             and returns the client secret itself."
                .to_owned(),
        );
    }
}

/// `EnablePropagateAdditionalUserContextData` (R-CFG-14): true only for a client with a secret.
/// Returns the effective value. Defaults to false.
pub(super) fn propagate_user_context(
    out: &mut Vec<Violation>,
    raw: &RawConfig,
    ctx: &ValidationContext<'_>,
) -> bool {
    let propagate = raw
        .enable_propagate_additional_user_context_data
        .unwrap_or(false);
    if propagate && ctx.has_secret == Some(false) {
        push(
            out,
            14,
            "EnablePropagateAdditionalUserContextData",
            ExceptionKind::InvalidParameter,
            "EnablePropagateAdditionalUserContextData can be true only for a client with a client secret.".to_owned(),
        );
    }
    propagate
}
