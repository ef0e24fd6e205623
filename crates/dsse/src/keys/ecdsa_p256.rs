//! ECDSA over NIST P-256 with SHA-256 (securesystemslib's `ecdsa-sha2-nistp256`) signing keys:
//! deterministic RFC 6979 signatures written as ASN.1 DER, as securesystemslib, sigstore and
//! Go's `crypto/ecdsa` write them. Verification (DER, or raw `r || s` too) is [`PublicKey`]'s.

use super::public::PublicKey;
use super::random::random_bytes;
use crate::error::DsseError;
use crate::sign::EnvelopeSigner;
use p256::ecdsa::signature::MultipartSigner as _;
use p256::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _, LineEnding};
use zeroize::Zeroizing;

/// An ECDSA P-256 private key with the key id it signs under.
///
/// The key id defaults to securesystemslib's (see [`PublicKey::securesystemslib_key_id`]).
#[derive(Clone)]
pub struct EcdsaP256Signer {
    key_id: String,
    key: p256::ecdsa::SigningKey,
}

impl EcdsaP256Signer {
    /// A new key from the operating system's random number generator.
    ///
    /// # Errors
    /// [`DsseError::KeyGeneration`] when the random number generator fails.
    pub fn generate() -> Result<Self, DsseError> {
        // A random 32-byte string is a valid scalar (0 < d < n) with probability 1 - 2^-32;
        // retrying a few times makes failure impossible in practice.
        let mut last = None;
        for _ in 0..8 {
            let bytes = random_bytes::<32>()?;
            match Self::from_scalar_bytes(bytes.as_slice()) {
                Ok(key) => return Ok(key),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or(DsseError::KeyGeneration {
            detail: "no valid P-256 scalar".to_owned(),
        }))
    }

    /// The key with this 32-byte big-endian private scalar `d`.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] unless `0 < d < n`.
    pub fn from_scalar_bytes(d: &[u8]) -> Result<Self, DsseError> {
        let key = p256::ecdsa::SigningKey::from_slice(d).map_err(|_| {
            DsseError::invalid_key(
                "P-256 scalar",
                format!(
                    "expected 32 big-endian bytes of a scalar between 1 and n-1, found {} bytes \
                     that are not one",
                    d.len()
                ),
            )
        })?;
        Self::from_key(key)
    }

    /// Parses an unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) P-256 key.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] when it is not one.
    pub fn from_pkcs8_pem(pem: &str) -> Result<Self, DsseError> {
        let key = p256::ecdsa::SigningKey::from_pkcs8_pem(pem).map_err(|e| {
            DsseError::invalid_key(
                "PKCS#8 PEM",
                format!("expected an unencrypted PKCS#8 ECDSA P-256 private key: {e}"),
            )
        })?;
        Self::from_key(key)
    }

    fn from_key(key: p256::ecdsa::SigningKey) -> Result<Self, DsseError> {
        let key_id = PublicKey::EcdsaP256(*key.verifying_key()).securesystemslib_key_id()?;
        Ok(Self { key_id, key })
    }

    /// The key as unencrypted PKCS#8 PEM, as `openssl` and Python's `cryptography` write it.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] if encoding fails.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, DsseError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| DsseError::invalid_key("P-256 key", format!("PKCS#8 encoding: {e}")))
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
        PublicKey::EcdsaP256(*self.key.verifying_key())
    }
}

impl EnvelopeSigner for EcdsaP256Signer {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, DsseError> {
        self.sign_parts(&[pae])
    }

    fn sign_parts(&self, parts: &[&[u8]]) -> Result<Vec<u8>, DsseError> {
        let signature: p256::ecdsa::Signature =
            self.key
                .try_multipart_sign(parts)
                .map_err(|e| DsseError::SignFailed {
                    key_id: self.key_id.clone(),
                    reason: format!("ECDSA P-256 signing: {e}"),
                })?;
        Ok(signature.to_der().as_bytes().to_vec())
    }
}

impl std::fmt::Debug for EcdsaP256Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EcdsaP256Signer")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}
