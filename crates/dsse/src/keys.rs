//! Keys: generation, PKCS#8 / SPKI PEM, securesystemslib's JSON key format and default key
//! ids, key files written with mode 0600.
//!
//! - [`PrivateKey`]: what signs (Ed25519, ECDSA P-256, HMAC-SHA256), read from PKCS#8 PEM or
//!   the HMAC key file.
//! - [`PublicKey`]: Ed25519 or P-256, read from SPKI PEM or securesystemslib JSON
//!   (`{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"<hex>"}}`,
//!   `{"keytype":"ecdsa","scheme":"ecdsa-sha2-nistp256","keyval":{"public":"<SPKI PEM>"}}`).
//! - [`TrustedKey`]: what a verifier trusts (a public key, or an HMAC secret).
//!
//! Key ids default to securesystemslib's: the SHA-256 hex of the canonical JSON of
//! `{"keytype", "scheme", "keyval"}`, so envelopes carry the key ids in-toto and securesystemslib
//! expect.

mod ecdsa_p256;
mod ed25519;
mod hmac;

pub use ecdsa_p256::EcdsaP256Signer;
pub use ed25519::Ed25519Signer;
pub use hmac::{HMAC_SHA256_KEYTYPE, HmacSha256Key};

use crate::canonical_json::to_canonical_json;
use crate::error::DsseError;
use crate::sign::EnvelopeSigner;
use crate::verify::{EnvelopeVerifier, KeyIdentity};
use ed25519_dalek::ed25519::signature::MultipartVerifier as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::io::Write as _;
use std::path::Path;
use std::str::FromStr;
use zeroize::Zeroizing;

/// securesystemslib's `keytype` and `scheme` for Ed25519.
const ED25519: &str = "ed25519";
/// securesystemslib's `keytype` for ECDSA.
const ECDSA: &str = "ecdsa";
/// securesystemslib's `scheme` (and legacy `keytype`) for ECDSA P-256 with SHA-256.
const ECDSA_P256_SCHEME: &str = "ecdsa-sha2-nistp256";

/// The key algorithms this crate signs and verifies with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// Ed25519 (RFC 8032).
    Ed25519,
    /// ECDSA over NIST P-256 with SHA-256.
    EcdsaP256,
    /// HMAC-SHA256 with a shared secret.
    HmacSha256,
}

impl KeyType {
    /// Every key type, in a stable order.
    pub const ALL: [Self; 3] = [Self::Ed25519, Self::EcdsaP256, Self::HmacSha256];

    /// The name used on the command line: `ed25519`, `ecdsa-p256`, `hmac-sha256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ed25519 => "ed25519",
            Self::EcdsaP256 => "ecdsa-p256",
            Self::HmacSha256 => "hmac-sha256",
        }
    }
}

impl std::fmt::Display for KeyType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for KeyType {
    type Err = DsseError;

    fn from_str(s: &str) -> Result<Self, DsseError> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                DsseError::invalid_key(
                    "key type",
                    format!("expected ed25519, ecdsa-p256 or hmac-sha256, found `{s}`"),
                )
            })
    }
}

/// `N` bytes from the operating system's random number generator, zeroized on drop.
pub(crate) fn random_bytes<const N: usize>() -> Result<Zeroizing<[u8; N]>, DsseError> {
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::fill(bytes.as_mut_slice()).map_err(|e| DsseError::KeyGeneration {
        detail: e.to_string(),
    })?;
    Ok(bytes)
}

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
            Self::EcdsaP256(key) => ecdsa_p256::verify(key, parts, signature),
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
fn describe_pem(text: &str) -> String {
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

/// A key a verifier trusts, as read from a key file: a public key or an HMAC secret.
#[derive(Clone, Debug)]
pub enum TrustedKey {
    /// An Ed25519 or P-256 public key.
    Public(Box<PublicKeyVerifier>),
    /// An HMAC-SHA256 shared secret.
    HmacSha256(HmacSha256Key),
}

impl TrustedKey {
    /// Parses a trusted key file: SPKI PEM (key id: securesystemslib's default),
    /// securesystemslib JSON, or the HMAC-SHA256 key file.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] naming `source_name` and what was expected.
    pub fn from_key_file(contents: &[u8], source_name: &str) -> Result<Self, DsseError> {
        let in_source = |e: DsseError| e.in_source(source_name);
        if is_json(contents) {
            if json_keytype(contents).as_deref() == Some(HMAC_SHA256_KEYTYPE) {
                return HmacSha256Key::from_key_file(contents)
                    .map(Self::HmacSha256)
                    .map_err(in_source);
            }
            let (key, key_id) =
                PublicKey::from_securesystemslib_json(contents).map_err(in_source)?;
            return Ok(Self::Public(Box::new(key.verifier(key_id))));
        }
        let text = std::str::from_utf8(contents).map_err(|_| {
            DsseError::invalid_key(
                source_name,
                "expected a PEM public key or a JSON key, found binary data",
            )
        })?;
        if text.contains("PRIVATE KEY-----") {
            return Err(DsseError::invalid_key(
                source_name,
                "expected a public key, found a private key: trust the `.pub` file instead",
            ));
        }
        let key = PublicKey::from_spki_pem(text).map_err(in_source)?;
        let key_id = key.securesystemslib_key_id()?;
        Ok(Self::Public(Box::new(key.verifier(key_id))))
    }

    /// Reads and parses a trusted key file.
    ///
    /// # Errors
    /// [`DsseError::KeyFile`] when it cannot be read, else as [`TrustedKey::from_key_file`].
    pub fn read(path: &Path) -> Result<Self, DsseError> {
        let contents = read_key_file(path)?;
        Self::from_key_file(&contents, &path.display().to_string())
    }
}

impl EnvelopeVerifier for TrustedKey {
    fn key_id(&self) -> &str {
        match self {
            Self::Public(k) => k.key_id(),
            Self::HmacSha256(k) => EnvelopeVerifier::key_id(k),
        }
    }

    fn key_identity(&self) -> KeyIdentity {
        match self {
            Self::Public(k) => k.key_identity(),
            Self::HmacSha256(k) => k.key_identity(),
        }
    }

    fn verify(&self, pae: &[u8], signature: &[u8]) -> bool {
        self.verify_parts(&[pae], signature)
    }

    fn verify_parts(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        match self {
            Self::Public(k) => k.verify_parts(parts, signature),
            Self::HmacSha256(k) => k.verify_parts(parts, signature),
        }
    }
}

/// A signing key of any supported type.
#[derive(Clone, Debug)]
pub enum PrivateKey {
    /// Ed25519.
    Ed25519(Ed25519Signer),
    /// ECDSA P-256.
    EcdsaP256(EcdsaP256Signer),
    /// HMAC-SHA256.
    HmacSha256(HmacSha256Key),
}

impl PrivateKey {
    /// A new key of `key_type` from the operating system's random number generator.
    ///
    /// # Errors
    /// [`DsseError::KeyGeneration`] when the random number generator fails.
    pub fn generate(key_type: KeyType) -> Result<Self, DsseError> {
        Ok(match key_type {
            KeyType::Ed25519 => Self::Ed25519(Ed25519Signer::generate()?),
            KeyType::EcdsaP256 => Self::EcdsaP256(EcdsaP256Signer::generate()?),
            KeyType::HmacSha256 => Self::HmacSha256(HmacSha256Key::generate()?),
        })
    }

    /// Parses a private key file: unencrypted PKCS#8 PEM (Ed25519 or P-256) or the HMAC-SHA256
    /// key file.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] naming `source_name` and what was expected.
    pub fn from_key_file(contents: &[u8], source_name: &str) -> Result<Self, DsseError> {
        let in_source = |e: DsseError| e.in_source(source_name);
        if is_json(contents) {
            return HmacSha256Key::from_key_file(contents)
                .map(Self::HmacSha256)
                .map_err(in_source);
        }
        let text = std::str::from_utf8(contents).map_err(|_| {
            DsseError::invalid_key(
                source_name,
                "expected a PKCS#8 PEM or an HMAC-SHA256 JSON key, found binary data",
            )
        })?;
        if text.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            return Err(DsseError::invalid_key(
                source_name,
                "expected an unencrypted PKCS#8 key, found an encrypted one \
                 (decrypt it with `openssl pkcs8 -in KEY -out PLAIN.key`)",
            ));
        }
        if !text.contains("-----BEGIN PRIVATE KEY-----") {
            return Err(DsseError::invalid_key(
                source_name,
                format!(
                    "expected a `-----BEGIN PRIVATE KEY-----` (PKCS#8) PEM block, found {} \
                     (convert with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.p8`)",
                    describe_pem(text)
                ),
            ));
        }
        if let Ok(key) = Ed25519Signer::from_pkcs8_pem(text) {
            return Ok(Self::Ed25519(key));
        }
        EcdsaP256Signer::from_pkcs8_pem(text)
            .map(Self::EcdsaP256)
            .map_err(|_| {
                DsseError::invalid_key(
                    source_name,
                    "expected an Ed25519 or ECDSA P-256 PKCS#8 private key, found another \
                     algorithm or a damaged key",
                )
            })
    }

    /// Reads and parses a private key file.
    ///
    /// # Errors
    /// [`DsseError::KeyFile`] when it cannot be read, else as [`PrivateKey::from_key_file`].
    pub fn read(path: &Path) -> Result<Self, DsseError> {
        let contents = read_key_file(path)?;
        Self::from_key_file(&contents, &path.display().to_string())
    }

    /// The key file contents: PKCS#8 PEM, or the HMAC JSON key file. Write it with
    /// [`write_private_key_file`].
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] if encoding fails.
    pub fn to_key_file(&self) -> Result<Zeroizing<String>, DsseError> {
        match self {
            Self::Ed25519(k) => k.to_pkcs8_pem(),
            Self::EcdsaP256(k) => k.to_pkcs8_pem(),
            Self::HmacSha256(k) => Ok(k.to_key_file()),
        }
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        match self {
            Self::Ed25519(_) => KeyType::Ed25519,
            Self::EcdsaP256(_) => KeyType::EcdsaP256,
            Self::HmacSha256(_) => KeyType::HmacSha256,
        }
    }

    /// The key id signatures carry.
    pub fn key_id(&self) -> &str {
        match self {
            Self::Ed25519(k) => k.key_id(),
            Self::EcdsaP256(k) => k.key_id(),
            Self::HmacSha256(k) => k.key_id(),
        }
    }

    /// Signs under `key_id` instead.
    #[must_use]
    pub fn with_key_id(self, key_id: impl Into<String>) -> Self {
        match self {
            Self::Ed25519(k) => Self::Ed25519(k.with_key_id(key_id)),
            Self::EcdsaP256(k) => Self::EcdsaP256(k.with_key_id(key_id)),
            Self::HmacSha256(k) => Self::HmacSha256(k.with_key_id(key_id)),
        }
    }

    /// The public key (`None` for HMAC, which has none).
    pub fn public_key(&self) -> Option<PublicKey> {
        match self {
            Self::Ed25519(k) => Some(k.public_key()),
            Self::EcdsaP256(k) => Some(k.public_key()),
            Self::HmacSha256(_) => None,
        }
    }

    /// What a verifier must trust to accept this key's signatures, under this key's key id.
    pub fn trusted_key(&self) -> TrustedKey {
        match self {
            Self::Ed25519(k) => TrustedKey::Public(Box::new(k.public_key().verifier(k.key_id()))),
            Self::EcdsaP256(k) => TrustedKey::Public(Box::new(k.public_key().verifier(k.key_id()))),
            Self::HmacSha256(k) => TrustedKey::HmacSha256(k.clone()),
        }
    }
}

impl EnvelopeSigner for PrivateKey {
    fn key_id(&self) -> &str {
        Self::key_id(self)
    }

    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, DsseError> {
        self.sign_parts(&[pae])
    }

    fn sign_parts(&self, parts: &[&[u8]]) -> Result<Vec<u8>, DsseError> {
        match self {
            Self::Ed25519(k) => k.sign_parts(parts),
            Self::EcdsaP256(k) => k.sign_parts(parts),
            Self::HmacSha256(k) => k.sign_parts(parts),
        }
    }
}

fn is_json(contents: &[u8]) -> bool {
    contents.trim_ascii_start().first() == Some(&b'{')
}

fn json_keytype(contents: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(contents).ok()?;
    value.get("keytype")?.as_str().map(str::to_owned)
}

fn read_key_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, DsseError> {
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|source| DsseError::KeyFile {
            action: "read",
            path: path.to_owned(),
            source,
        })
}

/// Writes a private key file with mode 0600 (owner read/write only) on Unix. Refuses to
/// overwrite an existing file, so a key is never replaced by accident and never briefly
/// readable by others.
///
/// # Errors
/// [`DsseError::KeyFile`] when the file exists or cannot be written.
pub fn write_private_key_file(path: &Path, contents: &[u8]) -> Result<(), DsseError> {
    write_new_file(path, contents, 0o600)
}

/// Writes a public key file (mode 0644 on Unix, before the umask). Refuses to overwrite an
/// existing file.
///
/// # Errors
/// [`DsseError::KeyFile`] when the file exists or cannot be written.
pub fn write_public_key_file(path: &Path, contents: &[u8]) -> Result<(), DsseError> {
    write_new_file(path, contents, 0o644)
}

fn write_new_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), DsseError> {
    let io = |source| DsseError::KeyFile {
        action: "write",
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)
}
