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
mod key_type;
mod public;
mod random;

pub use ecdsa_p256::EcdsaP256Signer;
pub use ed25519::Ed25519Signer;
pub use hmac::{HMAC_SHA256_KEYTYPE, HmacSha256Key};
pub use key_type::KeyType;
pub use public::{PublicKey, PublicKeyVerifier};

use crate::error::DsseError;
use crate::sign::EnvelopeSigner;
use crate::verify::{EnvelopeVerifier, KeyIdentity};
use public::describe_pem;
use serde_json::Value;
use std::io::Write as _;
use std::path::Path;
use zeroize::Zeroizing;

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
