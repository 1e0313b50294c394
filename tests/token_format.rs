//! The refresh-token format through the public API (R-FAM-1, R-FAM-3, R-FAM-4, R-FAM-6, R-SAFE-1/2).

// Test and tool code: a panic here is the test (or the tool) failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use refresh_rotation::random::SystemRandom;
use refresh_rotation::store::FamilyId;
use refresh_rotation::token::TokenRejection;
use refresh_rotation::{RefreshTokenKey, RefreshTokenKeys};

fn key(id: u32, fill: u8) -> RefreshTokenKey {
    RefreshTokenKey::new(id, &[fill; 32]).unwrap()
}

fn ring() -> RefreshTokenKeys {
    RefreshTokenKeys::new(key(1, 0xA5))
}

const FAM: FamilyId = FamilyId::from_bytes([
    0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
]);

/// The characters a token may contain (R-FAM-1).
fn allowed(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'=' | b'.')
}

#[test]
fn r_fam_1_round_trip_and_alphabet() {
    let keys = ring();
    for generation in [0, 1, 2, 1000, u32::MAX - 1, u32::MAX] {
        let t = keys.encode(&FAM, generation);
        let s = t.expose_secret();
        assert_eq!(s.len(), RefreshTokenKeys::TOKEN_LEN);
        assert!(s.bytes().all(allowed), "{s}");
        let d = keys.decode(s).unwrap();
        assert_eq!(d.family(), FAM);
        assert_eq!(d.generation(), generation);
        assert_eq!(d.key_id(), 1);
    }
}

#[test]
fn r_fam_3_token_is_a_pure_function_of_family_generation_and_key() {
    let a = ring();
    let b = ring(); // same key material, built independently
    assert_eq!(a.encode(&FAM, 5), a.encode(&FAM, 5));
    assert_eq!(a.encode(&FAM, 5), b.encode(&FAM, 5));
    assert_ne!(a.encode(&FAM, 5), a.encode(&FAM, 6));
    let other = FamilyId::from_bytes([0; 16]);
    assert_ne!(a.encode(&FAM, 5), a.encode(&other, 5));
    let c = RefreshTokenKeys::new(key(1, 0x5A));
    assert_ne!(a.encode(&FAM, 5), c.encode(&FAM, 5), "the key is an input");
}

#[test]
fn r_fam_4_every_single_character_mutation_is_rejected() {
    let keys = ring();
    let token = keys.encode(&FAM, 3).into_secret();
    let alphabet: Vec<u8> = (0u8..=127).collect();
    let mut checked = 0;
    for i in 0..token.len() {
        for &c in &alphabet {
            let mut bytes = token.clone().into_bytes();
            if bytes[i] == c {
                continue;
            }
            bytes[i] = c;
            let s = String::from_utf8(bytes).unwrap();
            assert!(
                keys.decode(&s).is_err(),
                "mutation at {i} to {c:#x} accepted"
            );
            checked += 1;
        }
    }
    assert!(checked > 9_000);
}

#[test]
fn r_fam_4_every_single_bit_flip_of_the_payload_is_rejected() {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let keys = ring();
    let raw = b64.decode(keys.encode(&FAM, 3).expose_secret()).unwrap();
    for i in 0..raw.len() * 8 {
        let mut m = raw.clone();
        m[i / 8] ^= 1 << (i % 8);
        let r = keys.decode(&b64.encode(&m));
        assert!(r.is_err(), "bit {i} flip accepted");
        if i >= 8 {
            // Past the version byte the shape is right: only the MAC or key lookup can refuse it.
            assert_eq!(r, Err(TokenRejection::Unauthenticated), "bit {i}");
        }
    }
}

#[test]
fn r_fam_4_wrong_mac_is_rejected() {
    let keys = ring();
    let forged = RefreshTokenKeys::new(key(1, 0x00)); // same key id, other secret
    let t = forged.encode(&FAM, 0);
    assert_eq!(
        keys.decode(t.expose_secret()),
        Err(TokenRejection::Unauthenticated)
    );
}

#[test]
fn r_fam_4_unknown_key_id_is_rejected() {
    let keys = ring();
    let other = RefreshTokenKeys::new(key(2, 0xA5)); // same secret, unknown id
    assert_eq!(
        keys.decode(other.encode(&FAM, 0).expose_secret()),
        Err(TokenRejection::Unauthenticated)
    );
}

#[test]
fn r_fam_4_future_generation_still_decodes() {
    // The format cannot know the family's current generation: the issuer refuses it against the store.
    let keys = ring();
    let d = keys
        .decode(keys.encode(&FAM, 4_000_000).expose_secret())
        .unwrap();
    assert_eq!(d.generation(), 4_000_000);
}

#[test]
fn r_fam_4_truncated_extended_and_garbled_tokens_are_malformed() {
    let keys = ring();
    let t = keys.encode(&FAM, 9).into_secret();
    for n in 0..t.len() {
        assert_eq!(
            keys.decode(&t[..n]),
            Err(TokenRejection::Malformed),
            "len {n}"
        );
    }
    for extra in ["A", "=", "==", ".", "AAAA"] {
        assert_eq!(
            keys.decode(&format!("{t}{extra}")),
            Err(TokenRejection::Malformed)
        );
    }
    let padded = format!("{}=", &t[..t.len() - 1]);
    assert_eq!(keys.decode(&padded), Err(TokenRejection::Malformed));
    let standard_alphabet = t.replace('-', "+").replace('_', "/");
    if standard_alphabet != t {
        assert_eq!(
            keys.decode(&standard_alphabet),
            Err(TokenRejection::Malformed)
        );
    }
    let spaced = format!(" {}", &t[1..]);
    assert_eq!(keys.decode(&spaced), Err(TokenRejection::Malformed));
    let non_ascii = format!("é{}", &t[2..]); // same byte length, not base64
    assert_eq!(non_ascii.len(), t.len());
    assert_eq!(keys.decode(&non_ascii), Err(TokenRejection::Malformed));
    assert_eq!(keys.decode(""), Err(TokenRejection::Malformed));
    // An access token is not a refresh token (RevokeToken: UnsupportedTokenTypeException).
    let jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
    assert_eq!(keys.decode(jwt), Err(TokenRejection::Malformed));
}

#[test]
fn r_safe_1_oversized_tokens_are_refused_early() {
    let keys = ring();
    let just_over = "A".repeat(RefreshTokenKeys::MAX_PRESENTED_LEN + 1);
    assert_eq!(keys.decode(&just_over), Err(TokenRejection::Malformed));
    let ten_mib = "A".repeat(10 * 1024 * 1024);
    assert_eq!(keys.decode(&ten_mib), Err(TokenRejection::Malformed));
}

#[test]
fn r_fam_6_older_key_still_verifies_after_rotation() {
    let mut keys = ring();
    let old_token = keys.encode(&FAM, 2);
    keys.rotate(key(2, 0x77)).unwrap();
    assert_eq!(keys.current_key_id(), 2);
    let new_token = keys.encode(&FAM, 2);
    assert_ne!(old_token, new_token, "new tokens use the newest key");
    assert_eq!(keys.decode(new_token.expose_secret()).unwrap().key_id(), 2);
    let d = keys.decode(old_token.expose_secret()).unwrap();
    assert_eq!((d.family(), d.generation(), d.key_id()), (FAM, 2, 1));
    assert_eq!(keys.key_ids().collect::<Vec<_>>(), vec![2, 1]);
}

#[test]
fn r_fam_6_removed_key_tokens_are_invalid() {
    let mut keys = ring();
    let old_token = keys.encode(&FAM, 0);
    keys.rotate(key(2, 0x77)).unwrap();
    assert_eq!(keys.remove(1), Ok(true));
    assert_eq!(
        keys.decode(old_token.expose_secret()),
        Err(TokenRejection::Unauthenticated)
    );
    assert_eq!(keys.remove(1), Ok(false));
    assert!(keys.remove(2).is_err(), "the signing key stays");
}

#[test]
fn r_fam_6_previous_keys_can_be_configured_up_front() {
    let old = RefreshTokenKeys::new(key(1, 0xA5));
    let t = old.encode(&FAM, 1);
    let keys = RefreshTokenKeys::new(key(3, 0x33))
        .with_previous(key(1, 0xA5))
        .unwrap();
    assert_eq!(keys.decode(t.expose_secret()).unwrap().key_id(), 1);
    assert!(RefreshTokenKeys::new(key(3, 0x33))
        .with_previous(key(3, 0x44))
        .is_err());
}

#[test]
fn short_secrets_are_refused() {
    let e = RefreshTokenKey::new(1, &[7; 31]).unwrap_err();
    assert_eq!(e.exception_name(), "InvalidParameterException");
    assert!(RefreshTokenKey::new(1, &[]).is_err());
    assert!(RefreshTokenKey::new(1, &[7; RefreshTokenKey::MIN_SECRET_LEN]).is_ok());
}

#[test]
fn generated_keys_differ() {
    let rng = SystemRandom::new();
    let a = RefreshTokenKeys::new(RefreshTokenKey::generate(1, &rng).unwrap());
    let b = RefreshTokenKeys::new(RefreshTokenKey::generate(1, &rng).unwrap());
    assert_ne!(a.encode(&FAM, 0), b.encode(&FAM, 0));
    assert!(b.decode(a.encode(&FAM, 0).expose_secret()).is_err());
}

#[test]
fn r_safe_2_key_debug_is_redacted() {
    let secret = [0x61u8; 40]; // "aaaa..."
    let k = RefreshTokenKey::new(42, &secret).unwrap();
    assert_eq!(
        format!("{k:?}"),
        "RefreshTokenKey { key_id: 42, secret: [REDACTED] }"
    );
    let ring = RefreshTokenKeys::new(k);
    let dbg = format!("{ring:?}");
    assert!(dbg.contains("[REDACTED]") && !dbg.contains("aaaa"), "{dbg}");
    let t = ring.encode(&FAM, 0);
    assert_eq!(format!("{t:?}"), "RefreshToken([REDACTED])");
    let decoded = format!("{:?}", ring.decode(t.expose_secret()).unwrap());
    assert!(!decoded.contains(t.expose_secret()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn r_fam_4_arbitrary_strings_never_decode_or_panic(s in ".{0,200}") {
        prop_assert!(ring().decode(&s).is_err());
    }

    #[test]
    fn r_fam_4_random_token_shaped_strings_are_unauthenticated(s in "[A-Za-z0-9_-]{76}") {
        // Right length and alphabet, so only the version byte or the MAC can refuse it.
        prop_assert!(ring().decode(&s).is_err());
    }

    #[test]
    fn r_fam_1_round_trip_any_family_and_generation(bytes in any::<[u8; 16]>(), generation in any::<u32>()) {
        let keys = ring();
        let family = FamilyId::from_bytes(bytes);
        let d = keys.decode(keys.encode(&family, generation).expose_secret()).unwrap();
        prop_assert_eq!((d.family(), d.generation()), (family, generation));
    }
}
