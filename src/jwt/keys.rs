//! Signing keys: parsed once when loaded, never per token (R-JWT-1).
//!
//! A [`SigningKey`] holds ring's key pair together with everything a token needs that depends only on the
//! key: the base64url-encoded JOSE header and the public JWK. Signing a token is then serialise, encode and
//! one ring signature, with no key parsing on the hot path (the signature bound of README *Benchmarks*).

use std::fmt;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_SHA256,
};
use zeroize::Zeroizing;

use super::Jwk;
use crate::Error;

/// A JWS signature algorithm the crate issues and verifies (R-JWT-1).
///
/// Defaults to [`Algorithm::RS256`], as Cognito.
// The variant names are the JOSE algorithm names (RFC 7518), which readers search for verbatim.
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256, keys of 2048 to 4096 bits (8192 to verify). Cognito's algorithm.
    #[default]
    RS256,
    /// ECDSA on P-256 with SHA-256, fixed-length (r || s) signatures.
    ES256,
    /// Ed25519.
    EdDSA,
}

impl Algorithm {
    /// The JOSE name as written in a JWT header's `alg` and a JWK's `alg`: `RS256`, `ES256` or `EdDSA`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::ES256 => "ES256",
            Algorithm::EdDSA => "EdDSA",
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Longest accepted key id. Cognito's are 44 characters; the bound keeps headers small.
const MAX_KID_LEN: usize = 128;
/// Largest PEM text accepted; a 4096-bit RSA key in PEM is about 3.3 KiB.
const MAX_PEM_LEN: usize = 64 * 1024;
/// Largest RSA signature ring produces for a signing key (4096-bit modulus).
const MAX_RSA_SIG_LEN: usize = 512;

enum KeyPair {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private signing key with its key id and algorithm.
///
/// Parsed once by a constructor; afterwards signing costs one ring signature plus the encoding around it.
/// `Debug` prints only the kid and algorithm (`SigningKey { kid: "...", alg: RS256, key: [REDACTED] }`);
/// there is no `Display`, no `Serialize` and no way to read the private key back (R-SAFE-2).
pub struct SigningKey {
    kid: String,
    alg: Algorithm,
    pair: KeyPair,
    // ring wants its own sealed `SecureRandom` for RSA blinding and ECDSA nonces; the crate's injectable
    // `RandomSource` cannot stand in for it, so the operating system's CSPRNG is held here.
    rng: ring::rand::SystemRandom,
    header_b64: String,
    jwk: Jwk,
    signature_len: usize,
    /// Encodes payloads and signatures; chosen once, when the key is loaded.
    b64: UrlEncoder,
}

/// base64url without padding, on the CPU's vector unit (AVX2, NEON) where the base64 crate has a kernel
/// for it. The payload's encoding is the largest cost of a token after the signature itself.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
type UrlEncoder = base64::engine::Simd;
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
type UrlEncoder = base64::engine::GeneralPurpose;

/// The [`UrlEncoder`] for this CPU: the SIMD engine detects its instruction set here, once, and falls
/// back to the scalar engine by itself.
fn url_encoder() -> UrlEncoder {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    return base64::engine::Simd::url_safe(base64::engine::general_purpose::NO_PAD);
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    return URL_SAFE_NO_PAD;
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("key", &format_args!("[REDACTED]"))
            .finish()
    }
}

fn invalid(message: impl Into<String>) -> Error {
    Error::InvalidParameter {
        message: message.into(),
    }
}

fn check_kid(kid: &str) -> Result<(), Error> {
    let ok = !kid.is_empty()
        && kid.len() <= MAX_KID_LEN
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._~+/=-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "signing key id (kid) must be 1 to 128 characters from [A-Za-z0-9._~+/=-]",
        ))
    }
}

impl SigningKey {
    /// Loads a key from an unencrypted PKCS#8 DER document.
    ///
    /// RS256 needs an RSA key of 2048 to 4096 bits, ES256 a P-256 key (with its public key inside, as
    /// OpenSSL writes it), EdDSA an Ed25519 key (PKCS#8 v1 or v2). Fails with
    /// [`Error::InvalidParameter`] when the document is not a key of that algorithm or `kid` is not
    /// 1 to 128 characters from `[A-Za-z0-9._~+/=-]`. The message never contains key material.
    pub fn from_pkcs8_der(
        alg: Algorithm,
        kid: impl Into<String>,
        der: &[u8],
    ) -> Result<Self, Error> {
        let kid = kid.into();
        check_kid(&kid)?;
        let rng = ring::rand::SystemRandom::new();
        let rejected = |e: ring::error::KeyRejected| {
            invalid(format!(
                "signing key {kid}: not a usable {alg} PKCS#8 private key ({e})"
            ))
        };
        let pair = match alg {
            Algorithm::RS256 => KeyPair::Rsa(RsaKeyPair::from_pkcs8(der).map_err(rejected)?),
            Algorithm::ES256 => KeyPair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
                    .map_err(rejected)?,
            ),
            // Accepts v1 (what `openssl genpkey` writes) as well as v2; a v2 document's public key is
            // checked against the private key.
            Algorithm::EdDSA => {
                KeyPair::Ed25519(Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(rejected)?)
            }
        };
        Self::from_pair(alg, kid, pair, rng)
    }

    /// Loads a key from PEM text: `PRIVATE KEY` (unencrypted PKCS#8) for every algorithm, or
    /// `RSA PRIVATE KEY` (PKCS#1) for RS256. Text outside the first PEM block is ignored.
    ///
    /// Fails with [`Error::InvalidParameter`] as [`SigningKey::from_pkcs8_der`] does, and for PEM that is
    /// malformed, encrypted or of another type.
    pub fn from_pkcs8_pem(
        alg: Algorithm,
        kid: impl Into<String>,
        pem: &str,
    ) -> Result<Self, Error> {
        let kid = kid.into();
        check_kid(&kid)?;
        let (label, der) = parse_pem(pem)?;
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(alg, kid, &der),
            "RSA PRIVATE KEY" if alg == Algorithm::RS256 => {
                let pair = RsaKeyPair::from_der(&der).map_err(|e| {
                    invalid(format!(
                        "signing key {kid}: not a usable PKCS#1 RSA private key ({e})"
                    ))
                })?;
                Self::from_pair(
                    alg,
                    kid,
                    KeyPair::Rsa(pair),
                    ring::rand::SystemRandom::new(),
                )
            }
            "ENCRYPTED PRIVATE KEY" => Err(invalid(format!(
                "signing key {kid}: encrypted PEM is not supported; decrypt it first"
            ))),
            _ => Err(invalid(format!(
                "signing key {kid}: PEM block is not a {alg} private key"
            ))),
        }
    }

    /// Generates a fresh ES256 or EdDSA key from the operating system's CSPRNG.
    ///
    /// The key exists only in memory (there is no way to export it): suited to tests and to pools whose
    /// tokens need not survive a restart. ring cannot generate RSA keys, so RS256 fails with
    /// [`Error::InvalidParameter`]; load one with [`SigningKey::from_pkcs8_pem`] instead.
    ///
    /// This takes no [`RandomSource`](crate::random::RandomSource): ring's key generation accepts only its own
    /// sealed `SecureRandom`, so a deterministic test source could not be honoured.
    pub fn generate(alg: Algorithm, kid: impl Into<String>) -> Result<Self, Error> {
        let rng = ring::rand::SystemRandom::new();
        let failed = |_| Error::Internal {
            detail: "key generation failed",
        };
        let doc = match alg {
            Algorithm::RS256 => {
                return Err(invalid(
                    "RS256 keys cannot be generated by this crate; load a PKCS#8 RSA key \
                     (openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048)",
                ))
            }
            Algorithm::ES256 => {
                EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(failed)?
            }
            Algorithm::EdDSA => Ed25519KeyPair::generate_pkcs8(&rng).map_err(failed)?,
        };
        Self::from_pkcs8_der(alg, kid, doc.as_ref())
    }

    fn from_pair(
        alg: Algorithm,
        kid: String,
        pair: KeyPair,
        rng: ring::rand::SystemRandom,
    ) -> Result<Self, Error> {
        let mut jwk = Jwk {
            key_use: Some("sig".to_owned()),
            alg: Some(alg.as_str().to_owned()),
            kid: Some(kid.clone()),
            ..Jwk::default()
        };
        match &pair {
            KeyPair::Rsa(p) => {
                let c: ring::rsa::PublicKeyComponents<Vec<u8>> = p.public().into();
                jwk.kty = "RSA".to_owned();
                jwk.n = Some(URL_SAFE_NO_PAD.encode(&c.n));
                jwk.e = Some(URL_SAFE_NO_PAD.encode(&c.e));
            }
            KeyPair::Ecdsa(p) => {
                // ring's P-256 public key is the uncompressed point 0x04 || x || y.
                let point = p.public_key().as_ref();
                if point.len() != 65 || point[0] != 0x04 {
                    return Err(Error::Internal {
                        detail: "unexpected P-256 public key encoding",
                    });
                }
                jwk.kty = "EC".to_owned();
                jwk.crv = Some("P-256".to_owned());
                jwk.x = Some(URL_SAFE_NO_PAD.encode(&point[1..33]));
                jwk.y = Some(URL_SAFE_NO_PAD.encode(&point[33..65]));
            }
            KeyPair::Ed25519(p) => {
                jwk.kty = "OKP".to_owned();
                jwk.crv = Some("Ed25519".to_owned());
                jwk.x = Some(URL_SAFE_NO_PAD.encode(p.public_key().as_ref()));
            }
        }
        let signature_len = match &pair {
            KeyPair::Rsa(p) => p.public().modulus_len(),
            KeyPair::Ecdsa(_) => 64,
            KeyPair::Ed25519(_) => 64,
        };
        if signature_len > MAX_RSA_SIG_LEN {
            return Err(invalid(format!(
                "signing key {kid}: RSA keys above 4096 bits are not supported"
            )));
        }
        // `kid` was checked to hold no character that JSON would escape.
        let header = format!(r#"{{"alg":"{}","kid":"{}"}}"#, alg.as_str(), kid);
        let header_b64 = URL_SAFE_NO_PAD.encode(header.as_bytes());
        Ok(SigningKey {
            kid,
            alg,
            pair,
            rng,
            header_b64,
            jwk,
            signature_len,
            b64: url_encoder(),
        })
    }

    /// The key id, written in each token's header (`kid`) and in the JWK.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The algorithm this key signs with; it is pinned to the key (R-JWT-6).
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The public half as a JWK with kty, alg, `use`=`sig`, kid and the key's parameters (R-JWT-5).
    pub fn public_jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Length in bytes of this key's signatures (the RSA modulus length, or 64).
    pub fn signature_len(&self) -> usize {
        self.signature_len
    }

    /// The bare signature of `msg` with the parsed key: the primitive that the `bound` benchmark
    /// measures. Every other cost of issuing a token is overhead against this one.
    ///
    /// Fails with [`Error::Internal`] only if ring refuses to sign (a broken random source).
    pub fn sign_raw(&self, msg: &[u8]) -> Result<Vec<u8>, Error> {
        self.with_signature(msg, <[u8]>::to_vec)
    }

    /// Signs `msg` and hands the signature to `f`, without allocating for it.
    pub(crate) fn with_signature<R>(
        &self,
        msg: &[u8],
        f: impl FnOnce(&[u8]) -> R,
    ) -> Result<R, Error> {
        let failed = |_| Error::Internal {
            detail: "signing failed",
        };
        match &self.pair {
            KeyPair::Rsa(p) => {
                let mut buf = [0u8; MAX_RSA_SIG_LEN];
                // `signature_len <= MAX_RSA_SIG_LEN` was checked at load; `get_mut` keeps this panic-free
                // regardless.
                let sig = buf.get_mut(..self.signature_len).ok_or(Error::Internal {
                    detail: "RSA signature longer than supported",
                })?;
                p.sign(&RSA_PKCS1_SHA256, &self.rng, msg, sig)
                    .map_err(failed)?;
                Ok(f(sig))
            }
            KeyPair::Ecdsa(p) => {
                let sig = p.sign(&self.rng, msg).map_err(failed)?;
                Ok(f(sig.as_ref()))
            }
            KeyPair::Ed25519(p) => Ok(f(p.sign(msg).as_ref())),
        }
    }

    /// Signs any serialisable claim set as a compact JWS with this key: `header.payload.signature`.
    ///
    /// The claims are serialised with `serde_json` into one buffer, base64url-encoded straight into the
    /// output, and `header.payload` is signed. The issuer-facing entry points are
    /// [`TokenSigner::sign_id_token`](super::TokenSigner::sign_id_token) and
    /// [`TokenSigner::sign_access_token`](super::TokenSigner::sign_access_token); this one exists for
    /// callers with claim sets of their own.
    pub fn sign_jwt<T: serde::Serialize + ?Sized>(&self, claims: &T) -> Result<String, Error> {
        let mut json = Vec::with_capacity(768);
        serde_json::to_writer(&mut json, claims).map_err(|_| Error::Internal {
            detail: "claims could not be serialised",
        })?;
        self.sign_json_payload(&json)
    }

    /// The length of the compact JWS of a claim set of `json_len` bytes under this key (saturating).
    pub(crate) fn jws_len(&self, json_len: usize) -> usize {
        self.header_b64
            .len()
            .saturating_add(b64_len(json_len))
            .saturating_add(b64_len(self.signature_len))
            .saturating_add(2)
    }

    /// The compact JWS of an already serialised claim set. The token is assembled in one exactly sized
    /// buffer with base64url written straight into it (no intermediate strings, no chunked encoder), and
    /// `header.payload` is signed in place.
    pub(crate) fn sign_json_payload(&self, json: &[u8]) -> Result<String, Error> {
        let internal = |detail| Error::Internal { detail };
        let header = self.header_b64.as_bytes();
        let payload_len = b64_len(json.len());
        let signed_len = header.len() + 1 + payload_len;
        // Allocated, then filled, rather than `vec![0; n]`: a zeroed allocation is a `calloc`, which
        // glibc serves past its per-thread cache.
        let total = signed_len + 1 + b64_len(self.signature_len);
        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(header);
        out.push(b'.');
        out.resize(total, 0);
        let written = self
            .b64
            .encode_slice(json, &mut out[header.len() + 1..signed_len])
            .map_err(|_| internal("payload encoding overflows its buffer"))?;
        let (signed, rest) = out.split_at_mut(signed_len);
        let sig_written = self.with_signature(signed, |sig| {
            rest[0] = b'.';
            self.b64.encode_slice(sig, &mut rest[1..])
        })?;
        let sig_written =
            sig_written.map_err(|_| internal("signature encoding overflows its buffer"))?;
        // Both lengths were computed from the same inputs; a mismatch would leave zero bytes behind.
        if written != payload_len || 1 + sig_written != rest.len() {
            return Err(internal("token length mismatch"));
        }
        // Only the base64url alphabet and '.' were written.
        String::from_utf8(out).map_err(|_| internal("token is not ASCII"))
    }
}

/// Length of unpadded base64 for `n` bytes.
const fn b64_len(n: usize) -> usize {
    (n / 3) * 4
        + match n % 3 {
            0 => 0,
            1 => 2,
            _ => 3,
        }
}

/// Finds the first PEM block and returns its label and decoded body.
///
/// The key's base64 text and its decoded DER are private key material: both are wiped when dropped
/// (`Zeroizing`), and the text is collected into a buffer sized up front, so that no reallocation leaves
/// a copy behind.
fn parse_pem(pem: &str) -> Result<(&str, Zeroizing<Vec<u8>>), Error> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let bad = || invalid("signing key: malformed PEM");
    if pem.len() > MAX_PEM_LEN {
        return Err(invalid("signing key: PEM text is larger than 64 KiB"));
    }
    let start = pem.find(BEGIN).ok_or_else(bad)? + BEGIN.len();
    let rest = &pem[start..];
    let label_end = rest.find(DASHES).ok_or_else(bad)?;
    let label = &rest[..label_end];
    let body_and_end = &rest[label_end + DASHES.len()..];
    let end_marker = format!("-----END {label}-----");
    let body_end = body_and_end.find(&end_marker).ok_or_else(bad)?;
    let text = &body_and_end[..body_end];
    let mut body = Zeroizing::new(String::with_capacity(text.len()));
    body.extend(text.chars().filter(|c| !c.is_ascii_whitespace()));
    if body.contains(':') {
        // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`) mean an encrypted legacy key.
        return Err(invalid(
            "signing key: encrypted PEM is not supported; decrypt it first",
        ));
    }
    let mut der = Zeroizing::new(Vec::with_capacity(body.len() / 4 * 3 + 3));
    STANDARD
        .decode_vec(body.as_bytes(), &mut der)
        .map_err(|_| bad())?;
    Ok((label, der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn b64_len_matches_the_engine() {
        for n in 0..20 {
            assert_eq!(b64_len(n), URL_SAFE_NO_PAD.encode(vec![0u8; n]).len());
        }
    }

    /// The vector engine that encodes payloads writes what the scalar one does, at every length around
    /// its block sizes (24 and 48 input bytes for AVX2, 12 and 48 for NEON) and at token lengths.
    #[test]
    fn the_payload_encoder_matches_the_scalar_engine() {
        let simd = url_encoder();
        let bytes: Vec<u8> = (0..1200u32)
            .map(|i| (i.wrapping_mul(151) >> 2) as u8)
            .collect();
        for n in (0..200).chain([511, 512, 513, 767, 768, 769, 1199, 1200]) {
            let input = &bytes[..n];
            let expected = URL_SAFE_NO_PAD.encode(input);
            assert_eq!(simd.encode(input), expected, "{n} bytes");
            let mut out = vec![0u8; b64_len(n)];
            assert_eq!(simd.encode_slice(input, &mut out), Ok(b64_len(n)));
            assert_eq!(out, expected.as_bytes(), "{n} bytes into a slice");
        }
        // All 256 byte values, in every position of a 3-byte group.
        let all: Vec<u8> = (0..=255u8).chain(0..=255u8).chain(0..=255u8).collect();
        for shift in 0..3 {
            let input = &all[shift..];
            assert_eq!(simd.encode(input), URL_SAFE_NO_PAD.encode(input));
        }
    }

    #[test]
    fn r_safe_2_debug_is_redacted() {
        let k = SigningKey::generate(Algorithm::EdDSA, "k1").unwrap();
        assert_eq!(
            format!("{k:?}"),
            r#"SigningKey { kid: "k1", alg: EdDSA, key: [REDACTED] }"#
        );
    }

    #[test]
    fn kid_is_restricted() {
        for kid in ["", "a\"b", "a b", "é", &"k".repeat(129)] {
            assert!(
                SigningKey::generate(Algorithm::ES256, kid).is_err(),
                "{kid:?}"
            );
        }
        assert!(SigningKey::generate(Algorithm::ES256, "Ab0._~+/=-").is_ok());
    }

    #[test]
    fn rsa_cannot_be_generated() {
        let e = SigningKey::generate(Algorithm::RS256, "k").unwrap_err();
        assert!(matches!(e, Error::InvalidParameter { .. }));
    }

    #[test]
    fn pem_garbage_is_an_error_not_a_panic() {
        for pem in [
            "",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "-----BEGIN -----\n-----END -----",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----",
        ] {
            for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
                assert!(SigningKey::from_pkcs8_pem(alg, "k", pem).is_err());
            }
        }
    }

    #[test]
    fn header_is_alg_then_kid() {
        let k = SigningKey::generate(Algorithm::ES256, "kid-1").unwrap();
        let token = k.sign_jwt(&serde_json::json!({})).unwrap();
        let h = URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap();
        assert_eq!(h, br#"{"alg":"ES256","kid":"kid-1"}"#);
    }
}
