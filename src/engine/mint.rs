//! Minting the ID and access tokens of an answer (R-REF-12, R-JWT-2, R-JWT-3).

use crate::client::AppClient;
use crate::clock::Timestamp;
use crate::directory::UserRecord;
use crate::error::Error;
use crate::hook::ClaimsOverride;
use crate::jwt::{AccessTokenClaims, IdTokenClaims, TokenSigner, JSON_CAPACITY, MAX_TOKEN_LEN};
use crate::random::{hyphenated_text, random_array, uuid_text};
use crate::store::Family;

use super::{Engine, NewDevice, TokenSet};

/// Two 16-byte values from one draw of 32 random bytes.
pub(crate) fn split_halves(bytes: [u8; 32]) -> [[u8; 16]; 2] {
    let mut out = [[0u8; 16]; 2];
    out[0].copy_from_slice(&bytes[..16]);
    out[1].copy_from_slice(&bytes[16..]);
    out
}

/// The user's view after the hook: claims and groups to mint.
pub(crate) struct MintInput<'u> {
    pub(crate) user: &'u UserRecord,
    pub(crate) overrides: Option<&'u ClaimsOverride>,
}

impl Engine {
    /// New ID and access tokens for `family` at `now`, with fresh `jti`s; `origin_jti`, `auth_time` and
    /// `event_id` are the sign-in's (R-REF-12).
    pub(crate) fn mint(
        &self,
        signer: &TokenSigner,
        client: &AppClient,
        family: &Family,
        input: &MintInput<'_>,
        now: Timestamp,
        new_device: Option<NewDevice>,
    ) -> Result<TokenSet, Error> {
        let cfg = client.config();
        let access_secs = cfg.access_token_validity_secs();
        let overflow = || Error::Internal {
            detail: "token expiry overflows",
        };
        let access_exp = now.checked_add_secs(access_secs).ok_or_else(overflow)?;
        let id_exp = now
            .checked_add_secs(cfg.id_token_validity_secs())
            .ok_or_else(overflow)?;
        // Formatted on the stack: four UUIDs per token set would otherwise be four allocations.
        let origin_jti = hyphenated_text(family.id.as_bytes());
        let event_id = uuid_text(family.info.event_id);
        let [access_jti, id_jti] = split_halves(random_array(&self.rng)?);
        let (access_jti, id_jti) = (uuid_text(access_jti), uuid_text(id_jti));
        let (origin_jti, event_id) = (origin_jti.as_str(), event_id.as_str());

        let user = input.user;
        let overrides = input.overrides;
        let groups: &[String] = overrides
            .and_then(|o| o.groups_to_override.as_deref())
            .unwrap_or(&user.groups);
        // Suppression is the hook's slow path: only then is a filtered copy of the attributes made.
        let filtered;
        let attributes = match overrides {
            Some(o) if !o.claims_to_suppress.is_empty() => {
                let mut a = user.attributes.clone();
                a.retain(|k, _| !o.claims_to_suppress.contains(k));
                filtered = a;
                &filtered
            }
            _ => &user.attributes,
        };
        let extra = overrides
            .map(|o| &o.claims_to_add_or_override)
            .filter(|m| !m.is_empty());

        let access = AccessTokenClaims {
            sub: &user.subject,
            iss: &self.issuer_url,
            client_id: client.client_id(),
            origin_jti,
            event_id,
            scope: &family.info.scopes,
            auth_time: family.info.auth_time.unix_seconds(),
            exp: access_exp.unix_seconds(),
            iat: now.unix_seconds(),
            jti: access_jti.as_str(),
            username: &user.username,
            groups,
            device_key: family.info.device_key.as_deref(),
            extra: None,
        };
        let id = IdTokenClaims {
            sub: &user.subject,
            iss: &self.issuer_url,
            aud: client.client_id(),
            username: &user.username,
            origin_jti,
            event_id,
            auth_time: family.info.auth_time.unix_seconds(),
            exp: id_exp.unix_seconds(),
            iat: now.unix_seconds(),
            jti: id_jti.as_str(),
            groups,
            attributes,
            extra,
        };
        // One scratch buffer holds each token's claims in turn.
        let mut json = Vec::with_capacity(JSON_CAPACITY);
        let access_token = signer.sign_access_token_in(&access, &mut json)?;
        let id_token = signer.sign_id_token_in(&id, &mut json)?;
        // R-JWT-6: never a token that the crate's own verifier, and introspection, would refuse.
        if access_token.len() > MAX_TOKEN_LEN || id_token.len() > MAX_TOKEN_LEN {
            return Err(match extra {
                Some(_) => Error::HookRejected {
                    message: "the claims it adds make the ID token longer than 16 KiB".to_owned(),
                },
                None => Error::Internal {
                    detail: "the user's attributes make the ID token longer than 16 KiB",
                },
            });
        }
        Ok(TokenSet {
            access_token,
            id_token,
            refresh_token: None,
            expires_in: access_secs,
            new_device,
        })
    }

    /// A new device key, `<region>_<uuid>` as Cognito writes them.
    pub(crate) fn new_device_key(&self) -> Result<String, Error> {
        Ok(format!(
            "{}_{}",
            self.region,
            crate::random::uuid_string(random_array(&self.rng)?)
        ))
    }
}
