//! HMAC-SHA256 shared-secret keys: the offline-safe default of the reference implementation
//! (a local map of key id -> secret). The same key signs and verifies; tags are compared in
//! constant time.
//!
//! Key file (written 0600), shaped like securesystemslib's key JSON:
//! `{"keytype":"hmac-sha256","scheme":"hmac-sha256","keyid":"<id>","keyval":{"secret":"<hex>"}}`.

use super::random::random_bytes;
use crate::error::DsseError;
use crate::sign::EnvelopeSigner;
use crate::verify::{EnvelopeVerifier, KeyIdentity};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// The `keytype` and `scheme` of HMAC-SHA256 key files.
pub const HMAC_SHA256_KEYTYPE: &str = "hmac-sha256";

const KEY_ID_LABEL: &[u8] = b"stellaops.federation.dsse/hmac-sha256/keyid/v1";

/// An HMAC-SHA256 secret with its key id; it is both an [`EnvelopeSigner`] and an
/// [`EnvelopeVerifier`]. The secret is zeroized on drop and never printed.
#[derive(Clone)]
pub struct HmacSha256Key {
    key_id: String,
    secret: Zeroizing<Vec<u8>>,
}

impl HmacSha256Key {
    /// The shortest secret accepted, in bytes (128 bits). Generated secrets are 32 bytes.
    pub const MIN_SECRET_LEN: usize = 16;

    /// A key with this id and secret.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] when the secret is shorter than
    /// [`MIN_SECRET_LEN`](Self::MIN_SECRET_LEN).
    pub fn new(key_id: impl Into<String>, secret: impl Into<Vec<u8>>) -> Result<Self, DsseError> {
        let secret = Zeroizing::new(secret.into());
        if secret.len() < Self::MIN_SECRET_LEN {
            return Err(DsseError::invalid_key(
                "HMAC-SHA256 secret",
                format!(
                    "expected at least {} bytes, found {}",
                    Self::MIN_SECRET_LEN,
                    secret.len()
                ),
            ));
        }
        Ok(Self {
            key_id: key_id.into(),
            secret,
        })
    }

    /// A new 32-byte secret from the operating system's random number generator, with the
    /// default key id ([`HmacSha256Key::default_key_id`]).
    ///
    /// # Errors
    /// [`DsseError::KeyGeneration`] when the random number generator fails.
    pub fn generate() -> Result<Self, DsseError> {
        let secret = random_bytes::<32>()?;
        let key_id = Self::default_key_id(secret.as_slice());
        Self::new(key_id, secret.to_vec())
    }

    /// The default key id of a secret: the hex HMAC-SHA256, under the secret, of a fixed label.
    /// It identifies the secret without revealing anything about it.
    pub fn default_key_id(secret: &[u8]) -> String {
        tag(secret, &[KEY_ID_LABEL])
            .map(hex::encode)
            .unwrap_or_default()
    }

    /// Parses the key file format (see the module documentation). A missing or empty `keyid`
    /// takes the default.
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] naming what was expected and found.
    pub fn from_key_file(json: &[u8]) -> Result<Self, DsseError> {
        let bad = |detail: String| DsseError::invalid_key("HMAC-SHA256 key file", detail);
        let value: serde_json::Value =
            serde_json::from_slice(json).map_err(|e| bad(format!("expected JSON: {e}")))?;
        let field = |name: &str| value.get(name).and_then(serde_json::Value::as_str);
        for name in ["keytype", "scheme"] {
            if field(name) != Some(HMAC_SHA256_KEYTYPE) {
                return Err(bad(format!(
                    "expected `{name}` to be \"{HMAC_SHA256_KEYTYPE}\", found {}",
                    value
                        .get(name)
                        .map_or("nothing".to_owned(), ToString::to_string)
                )));
            }
        }
        let secret_hex = value
            .get("keyval")
            .and_then(|v| v.get("secret"))
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| bad("expected `keyval.secret` as a hex string, found none".into()))?;
        let secret = Zeroizing::new(
            hex::decode(secret_hex)
                .map_err(|e| bad(format!("expected `keyval.secret` in hex: {e}")))?,
        );
        let key_id = match field("keyid") {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => Self::default_key_id(&secret),
        };
        Self::new(key_id, secret.to_vec())
    }

    /// The key file (see the module documentation). It contains the secret: write it with
    /// [`write_private_key_file`](crate::write_private_key_file).
    pub fn to_key_file(&self) -> Zeroizing<String> {
        let secret = Zeroizing::new(hex::encode(&*self.secret));
        let value = serde_json::json!({
            "keytype": HMAC_SHA256_KEYTYPE,
            "scheme": HMAC_SHA256_KEYTYPE,
            "keyid": self.key_id,
            "keyval": { "secret": &*secret },
        });
        let mut text = Zeroizing::new(value.to_string());
        text.push('\n');
        text
    }

    /// Uses `key_id` instead.
    #[must_use]
    pub fn with_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.key_id = key_id.into();
        self
    }

    /// The key id.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }
}

/// The HMAC-SHA256 tag of `parts[0] || parts[1] || ...` under `secret` (`None` only if the
/// MAC refused the key, which HMAC never does: it accepts keys of any length).
fn tag(secret: &[u8], parts: &[&[u8]]) -> Option<[u8; 32]> {
    let mut mac = HmacSha256::new_from_slice(secret).ok()?;
    for part in parts {
        mac.update(part);
    }
    Some(mac.finalize().into_bytes().into())
}

impl EnvelopeSigner for HmacSha256Key {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, DsseError> {
        self.sign_parts(&[pae])
    }

    fn sign_parts(&self, parts: &[&[u8]]) -> Result<Vec<u8>, DsseError> {
        tag(&self.secret, parts)
            .map(|t| t.to_vec())
            .ok_or_else(|| DsseError::SignFailed {
                key_id: self.key_id.clone(),
                reason: "the HMAC-SHA256 implementation refused the key".to_owned(),
            })
    }
}

impl EnvelopeVerifier for HmacSha256Key {
    fn key_id(&self) -> &str {
        &self.key_id
    }

    fn key_identity(&self) -> KeyIdentity {
        KeyIdentity::of(HMAC_SHA256_KEYTYPE, &self.secret)
    }

    fn verify(&self, pae: &[u8], signature: &[u8]) -> bool {
        self.verify_parts(&[pae], signature)
    }

    fn verify_parts(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        tag(&self.secret, parts).is_some_and(|expected| {
            signature.len() == expected.len() && bool::from(expected.as_slice().ct_eq(signature))
        })
    }
}

impl std::fmt::Debug for HmacSha256Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HmacSha256Key")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}
