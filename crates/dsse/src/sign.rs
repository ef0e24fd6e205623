//! Signing: the [`EnvelopeSigner`] extension point and the functions that build a signed
//! [`Envelope`] from a payload.
//!
//! Every signer signs the same PAE bytes; the envelope gets one signature per signer, in order.
//! The unsigned fallback (the reference implementation's `AllowUnsignedDsseFallback`) is an
//! explicit argument, never a default. Key types live in [`crate::keys`].

use crate::envelope::{Envelope, Signature, UNSIGNED_FALLBACK_KEYID};
use crate::error::DsseError;
use std::sync::Arc;

/// Something that signs DSSE PAE bytes with one key (the reference implementation's
/// `IFederationDsseEnvelopeSigner`).
///
/// Implemented by [`Ed25519Signer`](crate::Ed25519Signer),
/// [`EcdsaP256Signer`](crate::EcdsaP256Signer), [`HmacSha256Key`](crate::HmacSha256Key) and
/// [`PrivateKey`](crate::PrivateKey); implement it for a key store or HSM. Return
/// [`DsseError::SignerUnavailable`] when the backend cannot be reached (so the unsigned fallback
/// may apply) and [`DsseError::SignFailed`] for any other failure.
pub trait EnvelopeSigner: Send + Sync {
    /// The key id written into the signature's `keyid` (a hint for verifiers).
    fn key_id(&self) -> &str;

    /// Signs `pae`, the Pre-Authentication Encoding of the payload type and payload.
    ///
    /// # Errors
    /// [`DsseError::SignerUnavailable`] or [`DsseError::SignFailed`].
    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, DsseError>;

    /// Signs the PAE given as consecutive parts (`PAE = parts[0] || parts[1] || ...`), which
    /// is what [`sign_envelope`] calls. The default joins the parts and calls
    /// [`sign`](Self::sign); the built-in keys override it to sign without copying the
    /// payload. An override must produce a signature [`sign`](Self::sign) would accept as
    /// equivalent.
    ///
    /// # Errors
    /// As [`sign`](Self::sign).
    fn sign_parts(&self, parts: &[&[u8]]) -> Result<Vec<u8>, DsseError> {
        self.sign(&parts.concat())
    }
}

impl<T: EnvelopeSigner + ?Sized> EnvelopeSigner for &T {
    fn key_id(&self) -> &str {
        (**self).key_id()
    }
    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, DsseError> {
        (**self).sign(pae)
    }
    fn sign_parts(&self, parts: &[&[u8]]) -> Result<Vec<u8>, DsseError> {
        (**self).sign_parts(parts)
    }
}

impl<T: EnvelopeSigner + ?Sized> EnvelopeSigner for Box<T> {
    fn key_id(&self) -> &str {
        (**self).key_id()
    }
    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, DsseError> {
        (**self).sign(pae)
    }
    fn sign_parts(&self, parts: &[&[u8]]) -> Result<Vec<u8>, DsseError> {
        (**self).sign_parts(parts)
    }
}

impl<T: EnvelopeSigner + ?Sized> EnvelopeSigner for Arc<T> {
    fn key_id(&self) -> &str {
        (**self).key_id()
    }
    fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, DsseError> {
        (**self).sign(pae)
    }
    fn sign_parts(&self, parts: &[&[u8]]) -> Result<Vec<u8>, DsseError> {
        (**self).sign_parts(parts)
    }
}

/// Whether [`sign_envelope_with_fallback`] may emit an unsigned envelope when no signer is
/// available (the reference implementation's `AllowUnsignedDsseFallback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnsignedFallback {
    /// Fail with `federation.dsse.signer_unavailable` (the default).
    #[default]
    Refuse,
    /// Emit the payload with the single [`UNSIGNED_FALLBACK_KEYID`] marker signature, which
    /// every verifier rejects unless told to accept unsigned envelopes.
    Allow,
}

impl From<bool> for UnsignedFallback {
    /// `true` (an `AllowUnsignedDsseFallback` setting) is [`UnsignedFallback::Allow`].
    fn from(allow: bool) -> Self {
        if allow { Self::Allow } else { Self::Refuse }
    }
}

/// Signs `payload` as `payload_type` with every signer, in order.
///
/// ```
/// use stellaops_dsse::{sign_envelope, HmacSha256Key, TrustedKeys, Verifier};
///
/// let key = HmacSha256Key::new("federation-hmac", vec![7u8; 32])?;
/// let envelope = sign_envelope(&[&key], "application/vnd.stellaops.test+json", b"{}")?;
/// assert_eq!(envelope.signatures[0].keyid, "federation-hmac");
///
/// let verified = Verifier::new(TrustedKeys::new().with(key)?)
///     .verify(&envelope, "application/vnd.stellaops.test+json")?;
/// assert_eq!(verified.payload(), b"{}");
/// # Ok::<(), stellaops_dsse::DsseError>(())
/// ```
///
/// # Errors
/// [`DsseError::SignerUnavailable`] when `signers` is empty or a signer is unavailable,
/// [`DsseError::DuplicateKeyId`] when two signers share a non-empty key id,
/// [`DsseError::SignFailed`] when a signer fails, returns an empty signature, or uses the
/// reserved key id [`UNSIGNED_FALLBACK_KEYID`].
pub fn sign_envelope(
    signers: &[&dyn EnvelopeSigner],
    payload_type: &str,
    payload: impl Into<Vec<u8>>,
) -> Result<Envelope, DsseError> {
    sign_envelope_with_fallback(signers, payload_type, payload, UnsignedFallback::Refuse)
}

/// Like [`sign_envelope`], but with `fallback` = [`UnsignedFallback::Allow`] an unavailable
/// signer set yields an unsigned-fallback envelope instead of an error.
///
/// "Unavailable" means `signers` is empty, or every signer returned
/// [`DsseError::SignerUnavailable`]. Any other failure, and a partly available signer set, is
/// still an error: the fallback never hides a broken key or silently drops a signer.
///
/// # Errors
/// As [`sign_envelope`].
pub fn sign_envelope_with_fallback(
    signers: &[&dyn EnvelopeSigner],
    payload_type: &str,
    payload: impl Into<Vec<u8>>,
    fallback: UnsignedFallback,
) -> Result<Envelope, DsseError> {
    let payload = payload.into();
    for (i, signer) in signers.iter().enumerate() {
        let key_id = signer.key_id();
        if key_id == UNSIGNED_FALLBACK_KEYID {
            return Err(DsseError::SignFailed {
                key_id: key_id.to_owned(),
                reason: "this key id is reserved for the unsigned-fallback marker; \
                         expected any other key id"
                    .to_owned(),
            });
        }
        // Signer lists are short: a quadratic scan beats hashing here.
        let earlier = signers.iter().take(i);
        if !key_id.is_empty() && earlier.map(|s| s.key_id()).any(|k| k == key_id) {
            return Err(DsseError::DuplicateKeyId {
                key_id: key_id.to_owned(),
                location: "signers",
            });
        }
    }
    if signers.is_empty() {
        return match fallback {
            UnsignedFallback::Allow => Ok(Envelope::unsigned_fallback(payload_type, payload)),
            UnsignedFallback::Refuse => Err(DsseError::SignerUnavailable {
                detail: "expected at least one signer, none is configured".to_owned(),
            }),
        };
    }

    let header = crate::pae::pae_header(payload_type, payload.len(), 0);
    let pae: [&[u8]; 2] = [&header, &payload];
    let mut signatures = Vec::with_capacity(signers.len());
    let mut unavailable = Vec::new();
    for signer in signers {
        match signer.sign_parts(&pae) {
            Ok(sig) if sig.is_empty() => {
                return Err(DsseError::SignFailed {
                    key_id: signer.key_id().to_owned(),
                    reason: "the signer returned an empty signature".to_owned(),
                });
            }
            Ok(sig) => signatures.push(Signature {
                keyid: signer.key_id().to_owned(),
                sig,
            }),
            Err(DsseError::SignerUnavailable { detail }) => {
                unavailable.push(format!("`{}`: {detail}", signer.key_id()));
            }
            Err(other) => return Err(other),
        }
    }

    if unavailable.is_empty() {
        return Ok(Envelope {
            payload_type: payload_type.to_owned(),
            payload,
            signatures,
        });
    }
    if signatures.is_empty() && fallback == UnsignedFallback::Allow {
        return Ok(Envelope::unsigned_fallback(payload_type, payload));
    }
    Err(DsseError::SignerUnavailable {
        detail: format!(
            "{} of {} signer(s) unavailable: {}",
            unavailable.len(),
            signers.len(),
            unavailable.join("; ")
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed(&'static str, Result<Vec<u8>, fn() -> DsseError>);

    impl EnvelopeSigner for Fixed {
        fn key_id(&self) -> &str {
            self.0
        }
        fn sign(&self, _pae: &[u8]) -> Result<Vec<u8>, DsseError> {
            self.1.clone().map_err(|f| f())
        }
    }

    fn down() -> DsseError {
        DsseError::SignerUnavailable {
            detail: "kms unreachable".into(),
        }
    }

    fn broken() -> DsseError {
        DsseError::SignFailed {
            key_id: "b".into(),
            reason: "hsm error".into(),
        }
    }

    struct Echo;
    impl EnvelopeSigner for Echo {
        fn key_id(&self) -> &str {
            "echo"
        }
        fn sign(&self, pae: &[u8]) -> Result<Vec<u8>, DsseError> {
            Ok(pae.to_vec())
        }
    }

    #[test]
    fn signs_the_pae_with_every_signer_in_order() {
        let other = Fixed("other", Ok(vec![9]));
        let e = sign_envelope(&[&Echo, &other], "t", b"body").unwrap();
        assert_eq!(e.payload, b"body");
        assert_eq!(e.payload_type, "t");
        assert_eq!(e.signatures.len(), 2);
        assert_eq!(e.signatures[0].keyid, "echo");
        assert_eq!(e.signatures[0].sig, b"DSSEv1 1 t 4 body");
        assert_eq!(e.signatures[1].sig, [9]);
    }

    #[test]
    fn no_signer_is_unavailable_unless_fallback_allowed() {
        let err = sign_envelope(&[], "t", b"x").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.signer_unavailable");
        let e = sign_envelope_with_fallback(&[], "t", b"x", UnsignedFallback::Allow).unwrap();
        assert!(e.is_unsigned_fallback());
        assert_eq!(e.payload, b"x");
    }

    #[test]
    fn all_signers_unavailable_falls_back_only_when_allowed() {
        let a = Fixed("a", Err(down));
        let b = Fixed("b", Err(down));
        let err = sign_envelope(&[&a, &b], "t", b"x").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.signer_unavailable");
        assert!(err.to_string().contains("2 of 2"), "{err}");
        assert!(err.to_string().contains("kms unreachable"), "{err}");
        let e = sign_envelope_with_fallback(&[&a, &b], "t", b"x", true.into()).unwrap();
        assert!(e.is_unsigned_fallback());
    }

    #[test]
    fn partial_availability_is_an_error_even_with_fallback() {
        let a = Fixed("a", Ok(vec![1]));
        let b = Fixed("b", Err(down));
        let err =
            sign_envelope_with_fallback(&[&a, &b], "t", b"x", UnsignedFallback::Allow).unwrap_err();
        assert_eq!(err.code(), "federation.dsse.signer_unavailable");
        assert!(err.to_string().contains("1 of 2"), "{err}");
    }

    #[test]
    fn a_failing_signer_is_never_hidden_by_the_fallback() {
        let b = Fixed("b", Err(broken));
        let err =
            sign_envelope_with_fallback(&[&b], "t", b"x", UnsignedFallback::Allow).unwrap_err();
        assert_eq!(err.code(), "federation.dsse.sign_failed");
        let empty = Fixed("e", Ok(vec![]));
        let err = sign_envelope(&[&empty], "t", b"x").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.sign_failed");
        assert!(err.to_string().contains("empty signature"), "{err}");
    }

    #[test]
    fn duplicate_and_reserved_key_ids_are_refused() {
        let a = Fixed("a", Ok(vec![1]));
        let a2 = Fixed("a", Ok(vec![2]));
        let err = sign_envelope(&[&a, &a2], "t", b"x").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.duplicate_keyid");
        let anon = Fixed("", Ok(vec![1]));
        let anon2 = Fixed("", Ok(vec![2]));
        assert_eq!(
            sign_envelope(&[&anon, &anon2], "t", b"x")
                .unwrap()
                .signatures
                .len(),
            2
        );
        let reserved = Fixed(UNSIGNED_FALLBACK_KEYID, Ok(vec![1]));
        let err = sign_envelope(&[&reserved], "t", b"x").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.sign_failed");
        assert!(err.to_string().contains("reserved"), "{err}");
    }

    #[test]
    fn smart_pointers_are_signers() {
        let boxed: Box<dyn EnvelopeSigner> = Box::new(Echo);
        let shared: Arc<dyn EnvelopeSigner> = Arc::new(Fixed("s", Ok(vec![3])));
        let e = sign_envelope(&[&boxed, &shared], "t", Vec::new()).unwrap();
        assert_eq!(e.signatures[0].keyid, "echo");
        assert_eq!(e.signatures[1].keyid, "s");
        assert_eq!(UnsignedFallback::default(), UnsignedFallback::Refuse);
        assert_eq!(UnsignedFallback::from(false), UnsignedFallback::Refuse);
    }
}
