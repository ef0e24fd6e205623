//! Public keys (Ed25519, ECDSA P-256) in SPKI PEM and securesystemslib's JSON key format,
//! their securesystemslib key ids, signature verification, and [`PublicKeyVerifier`] (a public
//! key trusted under a key id). Private keys and HMAC secrets live in the sibling modules.

use super::key_type::KeyType;
use crate::canonical_json::to_canonical_json;
use crate::error::DsseError;
use crate::verify::{EnvelopeVerifier, KeyIdentity};
use ed25519_dalek::ed25519::signature::MultipartVerifier as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// securesystemslib's `keytype` and `scheme` for Ed25519.
const ED25519: &str = "ed25519";
/// securesystemslib's `keytype` for ECDSA.
const ECDSA: &str = "ecdsa";
/// securesystemslib's `scheme` (and legacy `keytype`) for ECDSA P-256 with SHA-256.
const ECDSA_P256_SCHEME: &str = "ecdsa-sha2-nistp256";

/// A public key: Ed25519 or ECDSA P-256.
#[derive(Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// An Ed25519 public key.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// An ECDSA P-256 public key.
    EcdsaP256(p256::ecdsa::VerifyingKey),
}

impl PublicKey {
    /// The key's algorithm.
    pub fn key_type(&self) -> KeyType {
        match self {
            Self::Ed25519(_) => KeyType::Ed25519,
            Self::EcdsaP256(_) => KeyType::EcdsaP256,
        }
    }

    /// Parses a SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`) Ed25519 or P-256 key.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] when it is neither.
    pub fn from_spki_pem(pem: &str) -> Result<Self, DsseError> {
        use p256::pkcs8::DecodePublicKey as _;
        if !pem.contains("-----BEGIN PUBLIC KEY-----") {
            return Err(DsseError::invalid_key(
                "SPKI PEM",
                format!(
                    "expected a `-----BEGIN PUBLIC KEY-----` PEM block, found {}",
                    describe_pem(pem)
                ),
            ));
        }
        if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
            return Ok(Self::Ed25519(key));
        }
        p256::ecdsa::VerifyingKey::from_public_key_pem(pem)
            .map(Self::EcdsaP256)
            .map_err(|e| {
                DsseError::invalid_key(
                    "SPKI PEM",
                    format!("expected an Ed25519 or ECDSA P-256 public key: {e}"),
                )
            })
    }

    /// The key as SubjectPublicKeyInfo PEM, byte for byte as `openssl` and Python's
    /// `cryptography` write it.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] if encoding fails.
    pub fn to_spki_pem(&self) -> Result<String, DsseError> {
        use p256::pkcs8::{EncodePublicKey as _, LineEnding};
        match self {
            Self::Ed25519(key) => key.to_public_key_pem(LineEnding::LF),
            Self::EcdsaP256(key) => key.to_public_key_pem(LineEnding::LF),
        }
        .map_err(|e| DsseError::invalid_key("public key", format!("SPKI encoding: {e}")))
    }

    /// Parses securesystemslib's JSON key format, returning the key and its key id (the
    /// `keyid` field when present and non-empty, else securesystemslib's default).
    ///
    /// Accepted: `keytype`/`scheme` `ed25519`/`ed25519` with `keyval.public` in hex, and
    /// `ecdsa`/`ecdsa-sha2-nistp256` (or the legacy `ecdsa-sha2-nistp256` keytype) with
    /// `keyval.public` in SPKI PEM. Other fields are ignored.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] naming what was expected and found.
    pub fn from_securesystemslib_json(json: &[u8]) -> Result<(Self, String), DsseError> {
        let bad = |detail: String| DsseError::invalid_key("securesystemslib JSON key", detail);
        let value: Value =
            serde_json::from_slice(json).map_err(|e| bad(format!("expected JSON: {e}")))?;
        let text = |name: &str| value.get(name).and_then(Value::as_str);
        let (Some(keytype), Some(scheme)) = (text("keytype"), text("scheme")) else {
            return Err(bad(
                "expected string fields `keytype` and `scheme`, found none".to_owned(),
            ));
        };
        let keyval = value
            .get("keyval")
            .filter(|v| v.is_object())
            .ok_or_else(|| bad("expected an object `keyval`, found none".to_owned()))?;
        let public = keyval
            .get("public")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("expected a string `keyval.public`, found none".to_owned()))?;
        let key = match (keytype, scheme) {
            (ED25519, ED25519) => {
                let bytes: [u8; 32] = hex::decode(public)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| {
                        bad(format!(
                            "expected `keyval.public` as 64 hex digits, found {} characters",
                            public.len()
                        ))
                    })?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map(Self::Ed25519)
                    .map_err(|e| bad(format!("not an Ed25519 public key: {e}")))?
            }
            (ECDSA | ECDSA_P256_SCHEME, ECDSA_P256_SCHEME) => {
                match Self::from_spki_pem(public)
                    .map_err(|e| bad(format!("`keyval.public`: {e}")))?
                {
                    key @ Self::EcdsaP256(_) => key,
                    Self::Ed25519(_) => {
                        return Err(bad(
                            "expected a P-256 key in `keyval.public`, found an Ed25519 key"
                                .to_owned(),
                        ));
                    }
                }
            }
            _ => {
                return Err(bad(format!(
                    "expected keytype/scheme ed25519/ed25519 or ecdsa/ecdsa-sha2-nistp256, \
                     found {keytype}/{scheme}"
                )));
            }
        };
        let key_id = match text("keyid") {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => default_key_id(keytype, scheme, keyval)?,
        };
        Ok((key, key_id))
    }

    /// The key in securesystemslib's JSON format (compact JSON, no `keyid` field), as
    /// `SSlibKey.to_dict()` has it.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] if PEM encoding fails.
    pub fn to_securesystemslib_json(&self) -> Result<String, DsseError> {
        let (keytype, scheme, keyval) = self.securesystemslib_parts()?;
        let value = json!({"keytype": keytype, "keyval": keyval, "scheme": scheme});
        serde_json::to_string(&value)
            .map_err(|e| DsseError::invalid_key("public key", format!("JSON encoding: {e}")))
    }

    /// securesystemslib's default key id for this key: the SHA-256 hex of the canonical JSON
    /// of `{"keytype", "scheme", "keyval": {"public"}}` (what `SSlibKey.from_crypto` assigns).
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] if PEM encoding fails.
    pub fn securesystemslib_key_id(&self) -> Result<String, DsseError> {
        let (keytype, scheme, keyval) = self.securesystemslib_parts()?;
        default_key_id(keytype, scheme, &keyval)
    }

    /// The Ed25519 key id, which needs no fallible encoding.
    pub(crate) fn ed25519_key_id(&self) -> String {
        let hex = match self {
            Self::Ed25519(key) => hex::encode(key.as_bytes()),
            Self::EcdsaP256(_) => String::new(),
        };
        // Canonical JSON of {"keytype":"ed25519","keyval":{"public":HEX},"scheme":"ed25519"}:
        // hex needs no escaping, so this is exactly securesystemslib's encoding.
        let canonical = format!(
            "{{\"keytype\":\"{ED25519}\",\"keyval\":{{\"public\":\"{hex}\"}},\"scheme\":\"{ED25519}\"}}"
        );
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }

    fn securesystemslib_parts(&self) -> Result<(&'static str, &'static str, Value), DsseError> {
        Ok(match self {
            Self::Ed25519(key) => (
                ED25519,
                ED25519,
                json!({"public": hex::encode(key.as_bytes())}),
            ),
            Self::EcdsaP256(_) => (
                ECDSA,
                ECDSA_P256_SCHEME,
                json!({"public": self.to_spki_pem()?}),
            ),
        })
    }

    /// Whether `signature` is this key's signature of `message` (Ed25519: RFC 8032, with
    /// non-canonical `S` and small-order public keys refused; P-256: SHA-256, DER or raw
    /// `r || s`).
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verify_parts(&[message], signature)
    }

    /// Like [`PublicKey::verify`], with the message given as consecutive parts.
    pub fn verify_parts(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        match self {
            Self::Ed25519(key) => {
                !key.is_weak()
                    && ed25519_dalek::Signature::from_slice(signature)
                        .is_ok_and(|sig| key.multipart_verify(parts, &sig).is_ok())
            }
            Self::EcdsaP256(key) => verify_ecdsa_p256(key, parts, signature),
        }
    }

    /// This key as a trusted key under `key_id`.
    pub fn verifier(&self, key_id: impl Into<String>) -> PublicKeyVerifier {
        PublicKeyVerifier {
            key_id: key_id.into(),
            identity: self.identity(),
            key: self.clone(),
        }
    }

    fn identity(&self) -> KeyIdentity {
        match self {
            Self::Ed25519(key) => KeyIdentity::of(ED25519, key.as_bytes()),
            Self::EcdsaP256(key) => {
                KeyIdentity::of(ECDSA_P256_SCHEME, key.to_sec1_point(true).as_bytes())
            }
        }
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Ed25519(key) => write!(f, "PublicKey::Ed25519({})", hex::encode(key.as_bytes())),
            Self::EcdsaP256(key) => write!(
                f,
                "PublicKey::EcdsaP256({})",
                hex::encode(key.to_sec1_point(true).as_bytes())
            ),
        }
    }
}

fn default_key_id(keytype: &str, scheme: &str, keyval: &Value) -> Result<String, DsseError> {
    let canonical =
        to_canonical_json(&json!({"keytype": keytype, "scheme": scheme, "keyval": keyval}))?;
    Ok(hex::encode(Sha256::digest(&canonical)))
}

/// What a PEM-ish text looks like, for error messages (never its content).
pub(super) fn describe_pem(text: &str) -> String {
    text.lines()
        .find(|l| l.starts_with("-----BEGIN "))
        .map_or_else(|| "no PEM block".to_owned(), |l| format!("`{}`", l.trim()))
}

/// A public key trusted under a key id: an [`EnvelopeVerifier`].
#[derive(Clone, Debug)]
pub struct PublicKeyVerifier {
    key_id: String,
    key: PublicKey,
    identity: KeyIdentity,
}

impl PublicKeyVerifier {
    /// The public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.key
    }
}

impl EnvelopeVerifier for PublicKeyVerifier {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn key_identity(&self) -> KeyIdentity {
        self.identity
    }

    fn verify(&self, pae: &[u8], signature: &[u8]) -> bool {
        self.key.verify(pae, signature)
    }

    fn verify_parts(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        self.key.verify_parts(parts, signature)
    }
}

/// Verifies a DER or raw `r || s` ECDSA P-256/SHA-256 signature of the message
/// `parts[0] || parts[1] || ...`.
fn verify_ecdsa_p256(key: &p256::ecdsa::VerifyingKey, parts: &[&[u8]], signature: &[u8]) -> bool {
    if let Ok(sig) = p256::ecdsa::Signature::from_der(signature)
        && key.multipart_verify(parts, &sig).is_ok()
    {
        return true;
    }
    signature.len() == 64
        && p256::ecdsa::Signature::from_slice(signature)
            .is_ok_and(|sig| key.multipart_verify(parts, &sig).is_ok())
}
