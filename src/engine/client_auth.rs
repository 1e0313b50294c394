//! Client authentication, one rule for every operation: R-SIGN-1 (sign-in), R-REF-3 (refresh, revoke)
//! and the legacy flow's SECRET_HASH (R-ROT-8). Comparisons are constant-time (R-SAFE-3).

use super::ids::{PresentedSecret, SecretHash};
use crate::client::AppClient;
use crate::error::Error;

/// What a caller presented to prove it holds the client's secret.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Credential<'a> {
    /// The secret itself.
    pub(crate) secret: Option<PresentedSecret<'a>>,
    /// A SECRET_HASH, `Base64(HMAC-SHA-256(secret, username + clientId))`.
    pub(crate) secret_hash: Option<SecretHash<'a>>,
}

impl Credential<'_> {
    fn is_empty(&self) -> bool {
        self.secret.is_none() && self.secret_hash.is_none()
    }
}

/// Checks `presented` against `client`'s secret. A SECRET_HASH may be computed over any of `names`
/// (the username, and on the legacy path the `sub` as well, as Cognito accepts).
pub(crate) fn authenticate(
    client: &AppClient,
    presented: Credential<'_>,
    names: &[&str],
) -> Result<(), Error> {
    let client_id = || client.client_id().to_string();
    let Some(secret) = client.secret() else {
        return if presented.is_empty() {
            Ok(())
        } else {
            Err(Error::ClientHasNoSecret {
                client_id: client_id(),
            })
        };
    };
    if presented.is_empty() {
        return Err(Error::ClientSecretMissing {
            client_id: client_id(),
        });
    }
    let by_secret = presented
        .secret
        .is_some_and(|p| secret.verify(p.expose_secret()));
    let by_hash = || {
        presented.secret_hash.is_some_and(|h| {
            names
                .iter()
                .any(|name| secret.verify_secret_hash(name, client.client_id(), h.expose_secret()))
        })
    };
    if by_secret || by_hash() {
        Ok(())
    } else {
        Err(Error::ClientSecretMismatch {
            client_id: client_id(),
        })
    }
}

/// R-REF-2 and R-REF-3 for the operations a client authenticates with its secret alone (refresh,
/// revoke, introspection): the client must exist, and the presented secret must be right.
pub(crate) fn client_with_secret(
    client: Option<std::sync::Arc<AppClient>>,
    client_id: &str,
    secret: Option<PresentedSecret<'_>>,
) -> Result<std::sync::Arc<AppClient>, Error> {
    let client = client.ok_or_else(|| Error::ClientNotFound {
        client_id: client_id.to_owned(),
    })?;
    authenticate(
        &client,
        Credential {
            secret,
            secret_hash: None,
        },
        &[],
    )?;
    Ok(client)
}
