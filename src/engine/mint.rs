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

/// The user's view after the hook: claims and groups to mint. `overrides` went through
/// [`accept_hook_answer`], which refused any claim nested too deep.
pub(crate) struct MintInput<'u> {
    pub(crate) user: &'u UserRecord,
    pub(crate) overrides: Option<&'u ClaimsOverride>,
}

impl Engine {
    /// New ID and access tokens for `family` at `now`, with fresh `jti`s; `origin_jti`, `auth_time` and
    /// `event_id` are the sign-in's (R-REF-12).
    ///
    /// The flows call [`check_token_sizes`](Self::check_token_sizes) before their store write; the
    /// check here is the last line, for a caller that did not.
    pub(crate) fn mint(
        &self,
        signer: &TokenSigner,
        client: &AppClient,
        family: &Family,
        input: &MintInput<'_>,
        now: Timestamp,
        new_device: Option<NewDevice>,
    ) -> Result<TokenSet, Error> {
        let (access_token, id_token) =
            self.with_claims(client, family, input, now, |access, id| {
                // One scratch buffer holds each token's claims in turn.
                let mut json = Vec::with_capacity(JSON_CAPACITY);
                Ok((
                    signer.sign_access_token_in(access, &mut json)?,
                    signer.sign_id_token_in(id, &mut json)?,
                ))
            })?;
        refuse_oversized((access_token.len(), id_token.len()), input, |bare| {
            self.with_claims(client, family, bare, now, |a, i| {
                signer.token_lengths(a, i, 0)
            })
        })?;
        Ok(TokenSet {
            access_token,
            id_token,
            refresh_token: None,
            expires_in: client.config().access_token_validity_secs(),
            new_device,
        })
    }

    /// R-JWT-6, before a flow's store write: refuses a sign-in or refresh whose tokens would be longer
    /// than [`MAX_TOKEN_LEN`] (which the crate's verifier and introspection refuse), so that such a
    /// refusal writes nothing, as the hook's does: a refresh that rotated and then could not mint would
    /// leave its client with a rotated-out token and no successor. A cheap upper bound of the claims'
    /// size settles it for nearly every user; only one whose claims could come near the bound (large
    /// attributes, or claims a hook adds) has both claim sets written, unsigned, to be measured.
    pub(crate) fn check_token_sizes(
        &self,
        signer: &TokenSigner,
        client: &AppClient,
        family: &Family,
        input: &MintInput<'_>,
        now: Timestamp,
        may_bind_device: bool,
    ) -> Result<(), Error> {
        // A refresh that is to issue a device binds one before the mint (its own, or one a concurrent
        // request bound first, R-REF-9): room for `,"device_key":"<region>_<uuid>"` in the access
        // token's claims. No room otherwise, so that every token within the bound is issued.
        let device = if may_bind_device && family.info.device_key.is_none() {
            self.device_prefix.len().saturating_add(DEVICE_KEY_CLAIM)
        } else {
            0
        };
        if claims_len_bound(self, client, family, input)
            .and_then(|json| json.checked_add(device))
            .is_some_and(|json| signer.token_len_bound(json) <= MAX_TOKEN_LEN)
        {
            return Ok(());
        }
        let measure = |input: &MintInput<'_>| {
            self.with_claims(client, family, input, now, |a, i| {
                signer.token_lengths(a, i, device)
            })
        };
        refuse_oversized(measure(input)?, input, measure)
    }

    /// Builds the access and ID token claims of `family` at `now` (fresh `jti`s) and hands them to `f`.
    fn with_claims<R>(
        &self,
        client: &AppClient,
        family: &Family,
        input: &MintInput<'_>,
        now: Timestamp,
        f: impl FnOnce(&AccessTokenClaims<'_>, &IdTokenClaims<'_>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let cfg = client.config();
        let overflow = || Error::Internal {
            detail: "token expiry overflows",
        };
        let access_exp = now
            .checked_add_secs(cfg.access_token_validity_secs())
            .ok_or_else(overflow)?;
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
        // A claim both suppressed and added is suppressed, as Cognito has it: only then is a filtered
        // copy of the added claims made.
        let kept_extra;
        let extra = match overrides {
            Some(o)
                if o.claims_to_add_or_override
                    .keys()
                    .any(|k| o.claims_to_suppress.contains(k)) =>
            {
                kept_extra = o
                    .claims_to_add_or_override
                    .iter()
                    .filter(|(k, _)| !o.claims_to_suppress.contains(k))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<serde_json::Map<_, _>>();
                Some(&kept_extra)
            }
            Some(o) => Some(&o.claims_to_add_or_override),
            None => None,
        }
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
        f(&access, &id)
    }

    /// A new device key, `<region>_<uuid>` as Cognito writes them.
    pub(crate) fn new_device_key(&self) -> Result<String, Error> {
        Ok(format!(
            "{}_{}",
            self.device_prefix,
            crate::random::uuid_string(random_array(&self.rng)?)
        ))
    }
}

/// How deeply a claim a hook adds may nest arrays and objects. The crate's verifier (and introspection)
/// parse a token's payload with serde_json, which refuses more than 128 levels, the payload object
/// being one: a token with a deeper claim would be handed out and never verify (R-JWT-6).
pub(crate) const MAX_HOOK_CLAIM_DEPTH: usize = 64;

/// The hook's answer as a flow keeps it (R-REF-11): its refusal as [`Error::HookRejected`], and so is an
/// answer with a claim nested deeper than [`MAX_HOOK_CLAIM_DEPTH`]. Such an answer is taken apart
/// without recursion: dropping a value nested far deeper than the thread's stack allows would recurse
/// once per level and overflow it.
pub(crate) fn accept_hook_answer(
    answer: Result<ClaimsOverride, String>,
) -> Result<ClaimsOverride, Error> {
    let overrides = answer.map_err(|message| Error::HookRejected { message })?;
    let deep = overrides
        .claims_to_add_or_override
        .values()
        .any(|v| nests_deeper_than(v, MAX_HOOK_CLAIM_DEPTH));
    if !deep {
        return Ok(overrides);
    }
    let mut stack: Vec<serde_json::Value> = overrides
        .claims_to_add_or_override
        .into_iter()
        .map(|(_, v)| v)
        .collect();
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(members) => stack.extend(members.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    Err(deep_claims_refused())
}

fn deep_claims_refused() -> Error {
    Error::HookRejected {
        message: format!("the claims it adds nest more than {MAX_HOOK_CLAIM_DEPTH} levels deep"),
    }
}

/// Whether `value` nests arrays and objects more than `max` levels deep (a scalar is 0 levels, `[1]`
/// one). Walked with an explicit stack, so a value nested far deeper than the thread's stack allows is
/// measured, not recursed into; the walk stops at the first container past `max`.
fn nests_deeper_than(value: &serde_json::Value, max: usize) -> bool {
    use serde_json::Value;
    let mut stack = vec![(value, 0usize)];
    while let Some((v, above)) = stack.pop() {
        let children: &mut dyn Iterator<Item = &Value> = match v {
            Value::Array(items) => &mut items.iter(),
            Value::Object(members) => &mut members.values(),
            _ => continue,
        };
        let depth = above.saturating_add(1);
        if depth > max {
            return true;
        }
        stack.extend(children.map(|c| (c, depth)));
    }
    false
}

/// The JSON of a device-key claim besides the region: `,"device_key":"` (15), `_`, the UUID (36), `"`.
const DEVICE_KEY_CLAIM: usize = 15 + 1 + 36 + 1;

/// The error for tokens of `access` and `id` bytes, if either is longer than [`MAX_TOKEN_LEN`]
/// (R-JWT-6). It is the hook's failure when what its answer adds is what makes them so: measured
/// without the claims it adds and without groups it lengthens (keeping what it suppresses, and groups it
/// shortens or removes), both tokens fit. Otherwise the user's attributes or groups are too long,
/// whatever the hook answered (claims it adds that the issuer owns reach no token).
fn refuse_oversized(
    (access, id): (usize, usize),
    input: &MintInput<'_>,
    measure: impl FnOnce(&MintInput<'_>) -> Result<(usize, usize), Error>,
) -> Result<(), Error> {
    let fits = |(access, id): (usize, usize)| access <= MAX_TOKEN_LEN && id <= MAX_TOKEN_LEN;
    if fits((access, id)) {
        return Ok(());
    }
    let hook_made_it = match input.overrides {
        Some(o) => {
            let text = |groups: &[String]| groups.iter().map(String::len).sum::<usize>();
            let shortened = o
                .groups_to_override
                .as_ref()
                .filter(|groups| text(groups) <= text(&input.user.groups));
            let without_additions = ClaimsOverride {
                claims_to_suppress: o.claims_to_suppress.clone(),
                groups_to_override: shortened.cloned(),
                ..ClaimsOverride::default()
            };
            fits(measure(&MintInput {
                user: input.user,
                overrides: Some(&without_additions),
            })?)
        }
        None => false,
    };
    Err(if hook_made_it {
        Error::HookRejected {
            message: "the claims or groups it adds make a token longer than 16 KiB".to_owned(),
        }
    } else {
        Error::Internal {
            detail: "the user's attributes make a token longer than 16 KiB",
        }
    })
}

/// An upper bound of the longer claim set's JSON length, or `None` when there is no cheap one (a hook
/// adds claims). Every string counts at its longest escape (6 bytes per byte, `\u00XX`), names and
/// punctuation included, plus a fixed allowance for the claim names the code writes, the numbers and
/// the three UUIDs.
fn claims_len_bound(
    engine: &Engine,
    client: &AppClient,
    family: &Family,
    input: &MintInput<'_>,
) -> Option<usize> {
    const FIXED: usize = 1024;
    const ESCAPED: usize = 6;
    let o = input.overrides;
    if o.is_some_and(|o| !o.claims_to_add_or_override.is_empty()) {
        return None;
    }
    let user = input.user;
    let groups = o
        .and_then(|o| o.groups_to_override.as_deref())
        .unwrap_or(&user.groups);
    let text = [
        user.subject.len(),
        user.username.len(),
        engine.issuer_url.len(),
        client.client_id().len(),
        family.info.scopes.len(),
        family.info.device_key.as_deref().map_or(0, str::len),
    ];
    let strings = text
        .into_iter()
        .chain(
            user.attributes
                .iter()
                .map(|(k, v)| k.len().saturating_add(v.len())),
        )
        .chain(groups.iter().map(String::len))
        .try_fold(0usize, usize::checked_add)?;
    // Punctuation: `,"name":"value"` is six bytes besides name and value, `,"group"` three.
    let punctuation = user
        .attributes
        .len()
        .checked_mul(6)?
        .checked_add(groups.len().checked_mul(3)?)?;
    strings
        .checked_mul(ESCAPED)?
        .checked_add(punctuation)?
        .checked_add(FIXED)
}

#[cfg(test)]
mod tests {
    use super::nests_deeper_than;
    use serde_json::{json, Value};

    fn nested(levels: usize) -> Value {
        let mut v = json!(1);
        for i in 0..levels {
            v = if i % 2 == 0 {
                Value::Array(vec![v])
            } else {
                json!({ "k": v })
            };
        }
        v
    }

    #[test]
    fn r_jwt_6_nesting_is_measured_in_containers() {
        assert!(!nests_deeper_than(&json!("scalar"), 0));
        assert!(nests_deeper_than(&json!([]), 0));
        assert!(!nests_deeper_than(&json!([1, {"a": 2}]), 2));
        assert!(nests_deeper_than(&json!([1, {"a": [3]}]), 2));
        for levels in [1, 63, 64, 65, 200] {
            assert_eq!(
                nests_deeper_than(&nested(levels), 64),
                levels > 64,
                "{levels}"
            );
        }
    }
}
