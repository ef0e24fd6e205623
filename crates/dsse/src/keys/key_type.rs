//! The key algorithms as a value ([`KeyType`]) with their command-line names; what a key is
//! made of and how it signs lives in the sibling key modules, not here.

use crate::error::DsseError;
use std::str::FromStr;

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
