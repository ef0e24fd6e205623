//! Ed25519 signing keys (RFC 8032, pure Ed25519 over the PAE), as securesystemslib's `ed25519`
//! scheme.

use super::public::PublicKey;
use super::random::random_bytes;
use crate::error::DsseError;
use crate::sign::EnvelopeSigner;
use ed25519_dalek::ed25519::signature::MultipartSigner as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, KeypairBytes};
use zeroize::Zeroizing;

/// An Ed25519 private key with the key id it signs under.
///
/// The key id defaults to securesystemslib's (see [`PublicKey::securesystemslib_key_id`]).
#[derive(Clone)]
pub struct Ed25519Signer {
    key_id: String,
    key: ed25519_dalek::SigningKey,
}

impl Ed25519Signer {
    /// A new key from the operating system's random number generator.
    ///
    /// # Errors
    /// [`DsseError::KeyGeneration`] when the random number generator fails.
    pub fn generate() -> Result<Self, DsseError> {
        let seed = random_bytes::<32>()?;
        Ok(Self::from_seed(&seed))
    }

    /// The key with this 32-byte secret seed (RFC 8032's private key).
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        let key_id = PublicKey::Ed25519(key.verifying_key()).ed25519_key_id();
        Self { key_id, key }
    }

    /// Parses an unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) Ed25519 key.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] when it is not one.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, DsseError> {
        let key = ed25519_dalek::SigningKey::from_pkcs8_pem(pem).map_err(|e| {
            DsseError::invalid_key(
                "PKCS#8 PEM",
                format!("expected an unencrypted PKCS#8 Ed25519 private key: {e}"),
            )
        })?;
        let key_id = PublicKey::Ed25519(key.verifying_key()).ed25519_key_id();
        Ok(Self { key_id, key })
    }

    /// The key as unencrypted PKCS#8 v1 PEM (RFC 8410, no embedded public key), as `openssl`
    /// and Python's `cryptography` write it and as `cryptography` requires it to read it.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] if encoding fails.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, DsseError> {
        let v1 = KeypairBytes {
            secret_key: self.key.to_bytes(),
            public_key: None,
        };
        v1.to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| DsseError::invalid_key("Ed25519 key", format!("PKCS#8 encoding: {e}")))
    }

    /// Signs under `key_id` instead.
    #[must_use]
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = key_id.into();
        self
    }

    /// The key id signatures carry.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::Ed25519(self.key.verifying_key())
    }
}

impl EnvelopeSigner for Ed25519Signer {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, DsseError> {
        self.sign_parts(&[pae])
    }

    fn sign_parts(&self, parts: &[&[u8]]) -> Result<Vec<u8>, DsseError> {
        self.key
            .try_multipart_sign(parts)
            .map(|sig| sig.to_bytes().to_vec())
            .map_err(|e| DsseError::SignFailed {
                key_id: self.key_id.clone(),
                reason: format!("Ed25519 signing: {e}"),
            })
    }
}

impl std::fmt::Debug for Ed25519Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ed25519Signer")
            .field("key_id", &self.key_id)
            .field("public", &hex::encode(self.key.verifying_key().as_bytes()))
            .finish_non_exhaustive()
    }
}
