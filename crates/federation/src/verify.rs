//! Verifying a received [`FederatedBundle`] at a peer: envelope digest integrity, payload type,
//! trusted-key signatures (threshold), a canonical payload with its derived id, consent digest
//! linkage, the consent's own signatures, and that the consent covered the bundle's creation
//! time (granted, not expired, not revoked). Each failure has its own code.

use crate::bundle::{BUNDLE_PAYLOAD_TYPE, BundlePayload, FederatedBundle};
use crate::clock::format_time;
use crate::consent::{CONSENT_PAYLOAD_TYPE, ConsentPredicate, ConsentRevocation};
use crate::digest::sha256_digest;
use crate::error::FederationError;
use crate::options::FederatedTelemetryOptions;
use stellaops_dsse::sign::UnsignedFallback;
use stellaops_dsse::verify::{TrustedKeys, Verifier};

/// Verifies bundles from peers against trusted keys, a threshold, and known revocations.
#[derive(Debug, Clone)]
pub struct BundleVerifier {
    verifier: Verifier,
    revocations: Vec<ConsentRevocation>,
}

/// A bundle that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedBundle {
    payload: BundlePayload,
    consent: ConsentPredicate,
    signer_key_ids: Vec<String>,
    unsigned_fallback: bool,
}

impl VerifiedBundle {
    /// The verified payload (buckets, site, tenant, window, privacy parameters).
    pub fn payload(&self) -> &BundlePayload {
        &self.payload
    }
    /// The verified consent the bundle links to.
    pub fn consent(&self) -> &ConsentPredicate {
        &self.consent
    }
    /// The trusted key ids whose signatures verified on the bundle envelope.
    pub fn signer_key_ids(&self) -> &[String] {
        &self.signer_key_ids
    }
    /// Whether the bundle (or its consent) was accepted unsigned, because the verifier was told
    /// to accept `offline-unsigned-fallback` envelopes.
    pub fn is_unsigned_fallback(&self) -> bool {
        self.unsigned_fallback
    }
}

impl BundleVerifier {
    /// A verifier for `trusted` keys, threshold 1, refusing unsigned envelopes.
    pub fn new(trusted: TrustedKeys) -> Self {
        Self {
            verifier: Verifier::new(trusted),
            revocations: Vec::new(),
        }
    }

    /// The verifier `options` describe: its trusted keys, threshold, and (if the options allow
    /// the unsigned fallback) acceptance of unsigned envelopes.
    pub fn from_options(options: &FederatedTelemetryOptions) -> Self {
        let mut verifier =
            Verifier::new(options.trusted_keys().clone()).threshold(options.threshold());
        if options.unsigned_fallback() == UnsignedFallback::Allow {
            verifier = verifier.dangerous_accept_unsigned_fallback();
        }
        Self {
            verifier,
            revocations: Vec::new(),
        }
    }

    /// Requires signatures from at least `threshold` distinct trusted keys on the bundle and
    /// on the consent.
    #[must_use]
    pub fn threshold(mut self, threshold: usize) -> Self {
        self.verifier = self.verifier.threshold(threshold);
        self
    }

    /// Also accepts `offline-unsigned-fallback` envelopes; their content is **not
    /// authenticated** ([`VerifiedBundle::is_unsigned_fallback`] says so).
    #[must_use]
    pub fn dangerous_accept_unsigned_fallback(mut self) -> Self {
        self.verifier = self.verifier.dangerous_accept_unsigned_fallback();
        self
    }

    /// Knows of `revocation`: bundles linking that consent created at or after its
    /// `revokedAt` are refused.
    #[must_use]
    pub fn with_revocation(mut self, revocation: ConsentRevocation) -> Self {
        self.add_revocation(revocation);
        self
    }

    /// Adds a revocation.
    pub fn add_revocation(&mut self, revocation: ConsentRevocation) {
        self.revocations.push(revocation);
    }

    /// Parses a received bundle's JSON and verifies it.
    ///
    /// # Errors
    /// [`FederationError::MalformedBundle`], then as [`verify`](Self::verify).
    pub fn verify_json(&self, json: &[u8]) -> Result<VerifiedBundle, FederationError> {
        self.verify(&FederatedBundle::from_json(json)?)
    }

    /// Verifies a received bundle, in this order:
    ///
    /// 1. `sha256:` of the envelope bytes equals `envelopeDigest`
    ///    (`federation.bundle.digest_mismatch`);
    /// 2. the envelope's payload type and signatures (`federation.dsse.*`:
    ///    `payload_type_mismatch`, `bad_signature`, `untrusted_key`, `threshold_not_met`,
    ///    `unsigned_envelope`, `malformed_envelope`);
    /// 3. the payload is canonical (`federation.bundle.malformed`) and its id the derived one,
    ///    also in the unsigned summary (`federation.bundle.id_mismatch`);
    /// 4. the payload's `consentDigest` is the digest of the consent envelope received
    ///    (`federation.bundle.consent_digest_mismatch`);
    /// 5. the consent envelope verifies (`federation.consent.signature_invalid`) and holds a
    ///    consent predicate (`federation.consent.malformed`);
    /// 6. the consent is the bundle tenant's (`federation.bundle.tenant_mismatch`) and covered
    ///    the bundle's `createdAt`: `federation.bundle.consent_not_yet_valid`,
    ///    `federation.bundle.consent_expired`, `federation.bundle.consent_revoked`.
    ///
    /// # Errors
    /// The first check that fails.
    pub fn verify(&self, bundle: &FederatedBundle) -> Result<VerifiedBundle, FederationError> {
        let found = sha256_digest(bundle.envelope.as_bytes());
        if found != bundle.envelope_digest {
            return Err(FederationError::DigestMismatch {
                expected: bundle.envelope_digest.clone(),
                found,
            });
        }
        let verified = self
            .verifier
            .verify_json(bundle.envelope.as_bytes(), BUNDLE_PAYLOAD_TYPE)?;
        let payload = BundlePayload::from_canonical_json(verified.payload())?;
        if payload.bundle_id != bundle.bundle_id {
            return Err(FederationError::BundleIdMismatch {
                expected: payload.bundle_id,
                found: bundle.bundle_id.clone(),
            });
        }
        let consent_digest = sha256_digest(bundle.consent.as_bytes());
        if consent_digest != payload.consent_digest {
            return Err(FederationError::ConsentDigestMismatch {
                expected: payload.consent_digest,
                found: consent_digest,
            });
        }
        let consent = self
            .verifier
            .verify_json(bundle.consent.as_bytes(), CONSENT_PAYLOAD_TYPE)
            .map_err(|source| FederationError::ConsentSignature { source })?;
        let predicate = ConsentPredicate::from_json(consent.payload())?;
        if predicate.tenant_id != payload.tenant_id {
            return Err(FederationError::TenantMismatch {
                bundle: payload.tenant_id,
                consent: predicate.tenant_id,
            });
        }
        let created_at = payload.created_at;
        if created_at < predicate.granted_at {
            return Err(FederationError::BundleBeforeConsent {
                created_at: format_time(created_at),
                granted_at: format_time(predicate.granted_at),
            });
        }
        if let Some(expires_at) = predicate.expires_at
            && created_at >= expires_at
        {
            return Err(FederationError::BundleConsentExpired {
                created_at: format_time(created_at),
                expires_at: format_time(expires_at),
            });
        }
        if let Some(revocation) = self
            .revocations
            .iter()
            .filter(|r| r.consent_digest == consent_digest && r.revoked_at <= created_at)
            .min_by_key(|r| r.revoked_at)
        {
            return Err(FederationError::BundleConsentRevoked {
                created_at: format_time(created_at),
                consent_digest,
                revoked_at: format_time(revocation.revoked_at),
            });
        }
        Ok(VerifiedBundle {
            unsigned_fallback: verified.is_unsigned_fallback() || consent.is_unsigned_fallback(),
            signer_key_ids: verified.verified_key_ids().to_vec(),
            payload,
            consent: predicate,
        })
    }
}
