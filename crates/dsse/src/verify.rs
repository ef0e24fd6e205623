//! Verification: the [`EnvelopeVerifier`] extension point, the [`TrustedKeys`] set, and the
//! threshold [`Verifier`] that turns an [`Envelope`] into a [`VerifiedPayload`].
//!
//! Follows DSSE's multi-signature rules: a `(t, n)` envelope is valid when its signatures verify
//! with at least `t` distinct trusted keys. The `keyid` hint only orders the keys tried; every
//! trusted key is tried for every signature, so a wrong or missing hint never changes the
//! outcome. The verified bytes are returned by the verification itself, so callers never
//! re-parse an envelope after checking it.

use crate::envelope::Envelope;
use crate::error::DsseError;
use sha2::{Digest as _, Sha256};
use std::sync::Arc;

/// What makes two trusted keys "the same key" for threshold counting: a SHA-256 over the key's
/// algorithm and material. Two entries with the same identity count once.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyIdentity([u8; 32]);

impl KeyIdentity {
    /// The identity of key `material` (public key bytes, or a secret) for `algorithm`.
    pub fn of(algorithm: &str, material: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(algorithm.as_bytes());
        h.update([0u8]);
        h.update(material);
        Self(h.finalize().into())
    }
}

impl std::fmt::Debug for KeyIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head = self.0.get(..6).unwrap_or_default();
        write!(f, "KeyIdentity({}..)", hex::encode(head))
    }
}

/// Something that checks a signature over DSSE PAE bytes with one trusted key (the reference
/// implementation's `IFederationDsseEnvelopeVerifier`).
///
/// Implemented by [`PublicKeyVerifier`](crate::PublicKeyVerifier),
/// [`HmacSha256Key`](crate::HmacSha256Key) and [`TrustedKey`](crate::TrustedKey); implement it
/// for other key types and put it in [`TrustedKeys`].
pub trait EnvelopeVerifier: Send + Sync {
    /// The key id this trusted key is known by (matched against signatures' hints).
    fn key_id(&self) -> &str;

    /// The identity of the key material, for counting distinct keys toward a threshold.
    /// Defaults to one derived from [`key_id`](Self::key_id); built-in keys use their material,
    /// so the same key under two key ids counts once.
    fn key_identity(&self) -> KeyIdentity {
        KeyIdentity::of("keyid", self.key_id().as_bytes())
    }

    /// Whether `signature` is a valid signature of `pae` by this key. Never panics on any input.
    fn verify(&self, pae: &[u8], signature: &[u8]) -> bool;

    /// Like [`verify`](Self::verify) with the PAE given as consecutive parts
    /// (`PAE = parts[0] || parts[1] || ...`), which is what [`Verifier`] calls. The default joins
    /// the parts; the built-in keys override it to verify without copying the payload.
    fn verify_parts(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        self.verify(&parts.concat(), signature)
    }
}

impl<T: EnvelopeVerifier + ?Sized> EnvelopeVerifier for Box<T> {
    fn key_id(&self) -> &str {
        (**self).key_id()
    }
    fn key_identity(&self) -> KeyIdentity {
        (**self).key_identity()
    }
    fn verify(&self, pae: &[u8], signature: &[u8]) -> bool {
        (**self).verify(pae, signature)
    }
    fn verify_parts(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        (**self).verify_parts(parts, signature)
    }
}

impl<T: EnvelopeVerifier + ?Sized> EnvelopeVerifier for Arc<T> {
    fn key_id(&self) -> &str {
        (**self).key_id()
    }
    fn key_identity(&self) -> KeyIdentity {
        (**self).key_identity()
    }
    fn verify(&self, pae: &[u8], signature: &[u8]) -> bool {
        (**self).verify(pae, signature)
    }
    fn verify_parts(&self, parts: &[&[u8]], signature: &[u8]) -> bool {
        (**self).verify_parts(parts, signature)
    }
}

struct Entry {
    identity: KeyIdentity,
    key: Arc<dyn EnvelopeVerifier>,
}

/// The keys a [`Verifier`] trusts. Cheap to clone (keys are shared).
///
/// Key ids must be unambiguous: adding a second key with the same key id but different
/// material fails; adding the same key again under the same key id is a no-op.
#[derive(Clone, Default)]
pub struct TrustedKeys {
    entries: Vec<Arc<Entry>>,
    distinct: usize,
}

impl TrustedKeys {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set of HMAC-SHA256 keys from a map of key id -> secret (the reference
    /// implementation's offline trusted key map).
    ///
    /// ```
    /// use stellaops_dsse::{sign_envelope, HmacSha256Key, TrustedKeys, Verifier};
    /// let trusted = TrustedKeys::from_hmac_secrets([
    ///     ("site-a", vec![1u8; 32]),
    ///     ("site-b", vec![2u8; 32]),
    /// ])?;
    /// let signer = HmacSha256Key::new("site-b", vec![2u8; 32])?;
    /// let envelope = sign_envelope(&[&signer], "t", b"x")?;
    /// assert_eq!(Verifier::new(trusted).verify(&envelope, "t")?.verified_key_ids(), ["site-b"]);
    /// # Ok::<(), stellaops_dsse::DsseError>(())
    /// ```
    ///
    /// # Errors
    /// [`DsseError::InvalidKey`] for a secret shorter than
    /// [`HmacSha256Key::MIN_SECRET_LEN`](crate::HmacSha256Key::MIN_SECRET_LEN),
    /// [`DsseError::DuplicateKeyId`] for a key id given twice with different secrets.
    pub fn from_hmac_secrets<K, S>(
        secrets: impl IntoIterator<Item = (K, S)>,
    ) -> Result<Self, DsseError>
    where
        K: Into<String>,
        S: Into<Vec<u8>>,
    {
        let mut keys = Self::new();
        for (key_id, secret) in secrets {
            keys.add(crate::HmacSha256Key::new(key_id, secret)?)?;
        }
        Ok(keys)
    }

    /// Adds a key, builder style.
    ///
    /// # Errors
    /// [`DsseError::DuplicateKeyId`] when a different key already has this key id.
    pub fn with(mut self, key: impl EnvelopeVerifier + 'static) -> Result<Self, DsseError> {
        self.add(key)?;
        Ok(self)
    }

    /// Adds a key.
    ///
    /// # Errors
    /// [`DsseError::DuplicateKeyId`] when a different key already has this key id.
    pub fn add(&mut self, key: impl EnvelopeVerifier + 'static) -> Result<&mut Self, DsseError> {
        self.add_shared(Arc::new(key))
    }

    /// Adds a shared key.
    ///
    /// # Errors
    /// [`DsseError::DuplicateKeyId`] when a different key already has this key id.
    pub fn add_shared(&mut self, key: Arc<dyn EnvelopeVerifier>) -> Result<&mut Self, DsseError> {
        let identity = key.key_identity();
        if let Some(existing) = self.entries.iter().find(|e| e.key.key_id() == key.key_id()) {
            if existing.identity == identity {
                return Ok(self);
            }
            return Err(DsseError::DuplicateKeyId {
                key_id: key.key_id().to_owned(),
                location: "trusted keys",
            });
        }
        if !self.entries.iter().any(|e| e.identity == identity) {
            self.distinct += 1;
        }
        self.entries.push(Arc::new(Entry { identity, key }));
        Ok(self)
    }

    /// How many keys were added (same key under two key ids counts twice here).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no key was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many distinct keys (by [`KeyIdentity`]) the set holds: the largest threshold that can
    /// be met.
    pub fn distinct_keys(&self) -> usize {
        self.distinct
    }

    /// The key ids, in the order the keys were added.
    pub fn key_ids(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| e.key.key_id().to_owned())
            .collect()
    }
}

impl std::fmt::Debug for TrustedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedKeys")
            .field("key_ids", &self.key_ids())
            .finish()
    }
}

/// A payload whose envelope passed verification, with who signed it.
///
/// Only a [`Verifier`] creates one, so holding a `VerifiedPayload` is proof the checks ran.
#[derive(Clone, PartialEq, Eq)]
pub struct VerifiedPayload {
    payload_type: String,
    payload: Vec<u8>,
    verified_key_ids: Vec<String>,
    unsigned_fallback: bool,
}

impl VerifiedPayload {
    /// The payload type (equal to the one the caller expected).
    pub fn payload_type(&self) -> &str {
        &self.payload_type
    }

    /// The verified payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The verified payload bytes, by value.
    pub fn into_payload(self) -> Vec<u8> {
        self.payload
    }

    /// The key ids (as known to the trusted key set, not the envelope's hints) of the distinct
    /// trusted keys whose signatures verified, in signature order. Empty only for an accepted
    /// unsigned fallback.
    pub fn verified_key_ids(&self) -> &[String] {
        &self.verified_key_ids
    }

    /// Whether this payload was accepted unsigned, as an `offline-unsigned-fallback` envelope,
    /// because the verifier was told to
    /// ([`Verifier::dangerous_accept_unsigned_fallback`]).
    pub fn is_unsigned_fallback(&self) -> bool {
        self.unsigned_fallback
    }
}

impl std::fmt::Debug for VerifiedPayload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedPayload")
            .field("payload_type", &self.payload_type)
            .field("payload_len", &self.payload.len())
            .field("verified_key_ids", &self.verified_key_ids)
            .field("unsigned_fallback", &self.unsigned_fallback)
            .finish()
    }
}

/// Verifies envelopes against trusted keys with a threshold (default 1).
///
/// ```
/// use stellaops_dsse::{sign_envelope, Ed25519Signer, TrustedKeys, Verifier};
///
/// let alice = Ed25519Signer::generate()?;
/// let bob = Ed25519Signer::generate()?;
/// let envelope = sign_envelope(&[&alice, &bob], "application/vnd.example+json", b"{}")?;
///
/// let trusted = TrustedKeys::new()
///     .with(alice.public_key().verifier(alice.key_id()))?
///     .with(bob.public_key().verifier(bob.key_id()))?;
/// let verified = Verifier::new(trusted)
///     .threshold(2)
///     .verify_json(envelope.to_json().as_bytes(), "application/vnd.example+json")?;
/// assert_eq!(verified.verified_key_ids().len(), 2);
/// # Ok::<(), stellaops_dsse::DsseError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Verifier {
    trusted: TrustedKeys,
    threshold: usize,
    accept_unsigned: bool,
}

impl Verifier {
    /// A verifier for `trusted` keys with threshold 1.
    pub fn new(trusted: TrustedKeys) -> Self {
        Self {
            trusted,
            threshold: 1,
            accept_unsigned: false,
        }
    }

    /// Requires valid signatures from at least `threshold` distinct trusted keys. A threshold of
    /// 0, or above the number of distinct trusted keys, fails every verification with
    /// [`DsseError::InvalidThreshold`].
    #[must_use]
    pub fn threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold;
        self
    }

    /// Also accepts `offline-unsigned-fallback` envelopes (written while no signer was
    /// available), returning their payload with
    /// [`VerifiedPayload::is_unsigned_fallback`] set and no verified key ids. The payload is
    /// **not authenticated**; use this only where an operator explicitly allowed it.
    #[must_use]
    pub fn dangerous_accept_unsigned_fallback(mut self) -> Self {
        self.accept_unsigned = true;
        self
    }

    /// The trusted keys.
    pub fn trusted_keys(&self) -> &TrustedKeys {
        &self.trusted
    }

    /// Verifies `envelope` and returns a copy of its payload.
    ///
    /// # Errors
    /// [`DsseError::PayloadTypeMismatch`], [`DsseError::InvalidThreshold`],
    /// [`DsseError::UntrustedKey`] (no signature verified and none names a trusted key id),
    /// [`DsseError::BadSignature`] (no signature verified otherwise),
    /// [`DsseError::ThresholdNotMet`] (some verified, too few distinct keys),
    /// [`DsseError::UnsignedEnvelope`] (an unsigned fallback, not accepted).
    pub fn verify(
        &self,
        envelope: &Envelope,
        expected_payload_type: &str,
    ) -> Result<VerifiedPayload, DsseError> {
        let (verified_key_ids, unsigned_fallback) = self.check(envelope, expected_payload_type)?;
        Ok(VerifiedPayload {
            payload_type: envelope.payload_type.clone(),
            payload: envelope.payload.clone(),
            verified_key_ids,
            unsigned_fallback,
        })
    }

    /// Verifies `envelope` and moves its payload into the result (no copy).
    ///
    /// # Errors
    /// As [`Verifier::verify`].
    pub fn verify_owned(
        &self,
        envelope: Envelope,
        expected_payload_type: &str,
    ) -> Result<VerifiedPayload, DsseError> {
        let (verified_key_ids, unsigned_fallback) = self.check(&envelope, expected_payload_type)?;
        Ok(VerifiedPayload {
            payload_type: envelope.payload_type,
            payload: envelope.payload,
            verified_key_ids,
            unsigned_fallback,
        })
    }

    /// Parses DSSE JSON and verifies it.
    ///
    /// # Errors
    /// The parse errors of [`Envelope::from_json`], then as [`Verifier::verify`].
    pub fn verify_json(
        &self,
        json: &[u8],
        expected_payload_type: &str,
    ) -> Result<VerifiedPayload, DsseError> {
        self.verify_owned(Envelope::from_json(json)?, expected_payload_type)
    }

    fn check(
        &self,
        envelope: &Envelope,
        expected_payload_type: &str,
    ) -> Result<(Vec<String>, bool), DsseError> {
        if envelope.payload_type != expected_payload_type {
            return Err(DsseError::PayloadTypeMismatch {
                expected: expected_payload_type.to_owned(),
                found: envelope.payload_type.clone(),
            });
        }
        if self.accept_unsigned && envelope.is_unsigned_fallback() {
            return Ok((Vec::new(), true));
        }
        let distinct_trusted = self.trusted.distinct_keys();
        if self.threshold == 0 || self.threshold > distinct_trusted {
            return Err(DsseError::InvalidThreshold {
                threshold: self.threshold,
                distinct_trusted,
            });
        }

        let header = crate::pae::pae_header(&envelope.payload_type, envelope.payload.len(), 0);
        let pae: [&[u8]; 2] = [&header, &envelope.payload];
        // Trusted key sets are small: a vector beats hashing here.
        let mut accepted: Vec<KeyIdentity> = Vec::new();
        let mut verified_key_ids = Vec::new();
        for signature in &envelope.signatures {
            // The hint orders the candidates; it never excludes one.
            let hinted = self
                .trusted
                .entries
                .iter()
                .filter(|e| !signature.keyid.is_empty() && e.key.key_id() == signature.keyid);
            let others = self
                .trusted
                .entries
                .iter()
                .filter(|e| signature.keyid.is_empty() || e.key.key_id() != signature.keyid);
            for entry in hinted.chain(others) {
                if accepted.contains(&entry.identity) {
                    continue;
                }
                if entry.key.verify_parts(&pae, &signature.sig) {
                    accepted.push(entry.identity);
                    verified_key_ids.push(entry.key.key_id().to_owned());
                    break;
                }
            }
        }
        if accepted.len() >= self.threshold {
            return Ok((verified_key_ids, false));
        }
        Err(self.failure(envelope, verified_key_ids))
    }

    fn failure(&self, envelope: &Envelope, verified_key_ids: Vec<String>) -> DsseError {
        let signatures = envelope.signatures.len();
        if !verified_key_ids.is_empty() || signatures == 0 {
            return DsseError::ThresholdNotMet {
                required: self.threshold,
                verified: verified_key_ids.len(),
                verified_key_ids,
                signatures,
            };
        }
        if envelope.is_unsigned_fallback() {
            return DsseError::UnsignedEnvelope;
        }
        // Which error to report is chosen from the hints; the decision above was not.
        let trusted_key_ids = self.trusted.key_ids();
        let names_untrusted_keys_only = envelope
            .signatures
            .iter()
            .all(|s| !s.keyid.is_empty() && !trusted_key_ids.contains(&s.keyid));
        if names_untrusted_keys_only {
            DsseError::UntrustedKey {
                key_ids: envelope
                    .signatures
                    .iter()
                    .map(|s| s.keyid.clone())
                    .collect(),
                trusted_key_ids,
            }
        } else {
            DsseError::BadSignature {
                signatures,
                trusted: self.trusted.len(),
                payload_type: envelope.payload_type.clone(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::Signature;

    /// A toy key: a signature is valid when it equals `tag || len(pae)`.
    struct Toy {
        id: &'static str,
        tag: u8,
    }

    impl EnvelopeVerifier for Toy {
        fn key_id(&self) -> &str {
            self.id
        }
        fn key_identity(&self) -> KeyIdentity {
            KeyIdentity::of("toy", &[self.tag])
        }
        fn verify(&self, pae: &[u8], signature: &[u8]) -> bool {
            signature.first() == Some(&self.tag)
                && signature.get(1..) == Some(&pae.len().to_be_bytes()[..])
        }
    }

    fn toy_sig(tag: u8, envelope: &Envelope) -> Vec<u8> {
        let mut s = vec![tag];
        s.extend_from_slice(&envelope.pae().len().to_be_bytes());
        s
    }

    fn envelope(sigs: &[(&str, u8)]) -> Envelope {
        let mut e = Envelope {
            payload_type: "t".into(),
            payload: b"payload".to_vec(),
            signatures: vec![],
        };
        for (keyid, tag) in sigs {
            let sig = toy_sig(*tag, &e);
            e.signatures.push(Signature {
                keyid: (*keyid).into(),
                sig,
            });
        }
        e
    }

    fn trusted() -> TrustedKeys {
        TrustedKeys::new()
            .with(Toy { id: "a", tag: 1 })
            .unwrap()
            .with(Toy { id: "b", tag: 2 })
            .unwrap()
            .with(Toy { id: "c", tag: 3 })
            .unwrap()
    }

    #[test]
    fn keyid_is_only_a_hint() {
        // Wrong hint, no hint, right hint: all verify with key b.
        for hint in ["zzz", "", "b", "a"] {
            let v = Verifier::new(trusted())
                .verify(&envelope(&[(hint, 2)]), "t")
                .unwrap();
            assert_eq!(v.verified_key_ids(), ["b"], "hint {hint:?}");
            assert_eq!(v.payload(), b"payload");
            assert!(!v.is_unsigned_fallback());
        }
    }

    #[test]
    fn threshold_counts_distinct_keys() {
        let v = Verifier::new(trusted()).threshold(2);
        let ok = v.verify(&envelope(&[("a", 1), ("b", 2)]), "t").unwrap();
        assert_eq!(ok.verified_key_ids(), ["a", "b"]);
        // The same key twice under different hints counts once.
        let err = v.verify(&envelope(&[("a", 1), ("x", 1)]), "t").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.threshold_not_met");
        assert!(err.to_string().contains("found 1 (a)"), "{err}");
        // One good and one bad signature.
        let err = v.verify(&envelope(&[("a", 1), ("b", 9)]), "t").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.threshold_not_met");
        // Three of three.
        let all = Verifier::new(trusted()).threshold(3);
        assert!(
            all.verify(&envelope(&[("", 3), ("", 1), ("", 2)]), "t")
                .is_ok()
        );
    }

    #[test]
    fn same_material_under_two_key_ids_counts_once() {
        let keys = TrustedKeys::new()
            .with(Toy { id: "a", tag: 1 })
            .unwrap()
            .with(Toy {
                id: "a-alias",
                tag: 1,
            })
            .unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys.distinct_keys(), 1);
        let err = Verifier::new(keys.clone())
            .threshold(2)
            .verify(&envelope(&[("a", 1), ("a-alias", 1)]), "t")
            .unwrap_err();
        assert_eq!(err.code(), "federation.dsse.invalid_threshold");
        let ok = Verifier::new(keys)
            .verify(&envelope(&[("a", 1), ("a-alias", 1)]), "t")
            .unwrap();
        assert_eq!(ok.verified_key_ids(), ["a"]);
    }

    #[test]
    fn invalid_thresholds_are_refused() {
        for t in [0, 4] {
            let err = Verifier::new(trusted())
                .threshold(t)
                .verify(&envelope(&[("a", 1)]), "t")
                .unwrap_err();
            assert_eq!(err.code(), "federation.dsse.invalid_threshold");
        }
        let err = Verifier::new(TrustedKeys::new())
            .verify(&envelope(&[("a", 1)]), "t")
            .unwrap_err();
        assert_eq!(err.code(), "federation.dsse.invalid_threshold");
    }

    #[test]
    fn trusted_key_ids_are_unambiguous() {
        let mut keys = trusted();
        let err = keys.add(Toy { id: "a", tag: 7 }).err().unwrap();
        assert_eq!(err.code(), "federation.dsse.duplicate_keyid");
        keys.add(Toy { id: "a", tag: 1 }).unwrap();
        assert_eq!(keys.len(), 3);
        assert_eq!(
            format!("{keys:?}"),
            r#"TrustedKeys { key_ids: ["a", "b", "c"] }"#
        );
    }

    #[test]
    fn payload_type_is_checked_first() {
        let err = Verifier::new(trusted())
            .verify(&envelope(&[("a", 1)]), "other")
            .unwrap_err();
        assert_eq!(err.code(), "federation.dsse.payload_type_mismatch");
    }

    #[test]
    fn failure_codes_follow_the_hints() {
        let v = Verifier::new(trusted());
        let err = v.verify(&envelope(&[("zzz", 9)]), "t").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.untrusted_key");
        assert!(err.to_string().contains("[zzz]"), "{err}");
        assert!(err.to_string().contains("[a, b, c]"), "{err}");
        let err = v.verify(&envelope(&[("a", 9)]), "t").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.bad_signature");
        let err = v.verify(&envelope(&[("", 9)]), "t").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.bad_signature");
        let err = v.verify(&envelope(&[]), "t").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.threshold_not_met");
        assert!(err.to_string().contains("among 0 signature(s)"), "{err}");
    }

    #[test]
    fn unsigned_fallback_is_rejected_unless_explicitly_accepted() {
        let e = Envelope::unsigned_fallback("t", b"p".to_vec());
        let err = Verifier::new(trusted()).verify(&e, "t").unwrap_err();
        assert_eq!(err.code(), "federation.dsse.unsigned_envelope");
        let err = Verifier::new(TrustedKeys::new())
            .verify(&e, "t")
            .unwrap_err();
        assert_eq!(err.code(), "federation.dsse.invalid_threshold");

        let v = Verifier::new(TrustedKeys::new()).dangerous_accept_unsigned_fallback();
        let ok = v.verify(&e, "t").unwrap();
        assert!(ok.is_unsigned_fallback());
        assert!(ok.verified_key_ids().is_empty());
        assert_eq!(ok.into_payload(), b"p");
        // Still type-checked.
        assert_eq!(
            v.verify(&e, "u").unwrap_err().code(),
            "federation.dsse.payload_type_mismatch"
        );
        // A signed envelope through an accepting verifier is verified normally.
        let ok = Verifier::new(trusted())
            .dangerous_accept_unsigned_fallback()
            .verify(&envelope(&[("a", 1)]), "t")
            .unwrap();
        assert!(!ok.is_unsigned_fallback());
    }

    #[test]
    fn verify_owned_and_json_return_the_same_payload() {
        let e = envelope(&[("a", 1)]);
        let v = Verifier::new(trusted());
        let borrowed = v.verify(&e, "t").unwrap();
        let owned = v.verify_owned(e.clone(), "t").unwrap();
        let parsed = v.verify_json(e.to_json().as_bytes(), "t").unwrap();
        assert_eq!(borrowed, owned);
        assert_eq!(owned, parsed);
        assert_eq!(parsed.payload_type(), "t");
        assert_eq!(
            format!("{parsed:?}"),
            r#"VerifiedPayload { payload_type: "t", payload_len: 7, verified_key_ids: ["a"], unsigned_fallback: false }"#
        );
        assert_eq!(
            v.verify_json(b"{", "t").unwrap_err().code(),
            "federation.dsse.malformed_envelope"
        );
    }

    #[test]
    fn default_identity_is_per_key_id() {
        struct Named(&'static str);
        impl EnvelopeVerifier for Named {
            fn key_id(&self) -> &str {
                self.0
            }
            fn verify(&self, _: &[u8], _: &[u8]) -> bool {
                false
            }
        }
        assert_ne!(Named("a").key_identity(), Named("b").key_identity());
        assert_eq!(Named("a").key_identity(), Named("a").key_identity());
        let boxed: Box<dyn EnvelopeVerifier> = Box::new(Named("a"));
        assert_eq!(boxed.key_identity(), Named("a").key_identity());
        assert!(format!("{:?}", boxed.key_identity()).starts_with("KeyIdentity("));
    }
}
