//! The error type of federation (consent, aggregation, bundles, verification, sync), with one
//! stable machine code per failure (`federation.consent.*`, `federation.bundle.*`, ...).
//!
//! Envelope-level failures keep the DSSE codes of [`DsseError`] (`federation.dsse.*`).

use stellaops_dsse::error::DsseError;

/// Everything that can go wrong while granting consent, aggregating, building, verifying or
/// sending a federated telemetry bundle.
///
/// Match on [`FederationError::code`] for a stable identifier; the `Display` text is for people.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FederationError {
    /// [`FederatedTelemetryOptions`](crate::FederatedTelemetryOptions) or a privacy parameter
    /// is out of range.
    #[error("invalid federation options: {detail}")]
    InvalidOptions {
        /// What was expected and what was found.
        detail: String,
    },

    /// A consent grant breaks a rule (empty tenant, `grantedAt` in the future, `expiresAt` not
    /// after `grantedAt`).
    #[error("invalid consent grant for tenant `{tenant_id}`: {detail}")]
    InvalidConsent {
        /// The tenant.
        tenant_id: String,
        /// What was expected and what was found.
        detail: String,
    },

    /// The tenant never granted consent: nothing may be aggregated or built for it.
    #[error(
        "no federation consent for tenant `{tenant_id}`: expected a granted consent, found none"
    )]
    ConsentNotGranted {
        /// The tenant.
        tenant_id: String,
    },

    /// The tenant's consent expired: nothing may be aggregated or built until it is granted
    /// again.
    #[error(
        "federation consent for tenant `{tenant_id}` expired at {expires_at}; it is now {now}: \
         expected an unexpired consent"
    )]
    ConsentExpired {
        /// The tenant.
        tenant_id: String,
        /// When it expired (RFC 3339).
        expires_at: String,
        /// The clock's time (RFC 3339).
        now: String,
    },

    /// The tenant's consent was revoked: no new bundle may be built until it is granted again.
    #[error(
        "federation consent for tenant `{tenant_id}` was revoked at {revoked_at} by \
         `{revoked_by}`: expected a granted consent"
    )]
    ConsentRevoked {
        /// The tenant.
        tenant_id: String,
        /// When it was revoked (RFC 3339).
        revoked_at: String,
        /// Who revoked it.
        revoked_by: String,
    },

    /// A consent envelope's payload is not a `stella.ops/federatedConsent@v1` predicate.
    #[error("malformed consent proof: {detail}")]
    MalformedConsent {
        /// What was expected and what was found.
        detail: String,
    },

    /// The consent envelope that a bundle links to does not verify with the trusted keys.
    #[error("the consent proof's DSSE envelope does not verify ({}): {source}", .source.code())]
    ConsentSignature {
        /// The DSSE failure (its own code says which).
        #[source]
        source: DsseError,
    },

    /// A fact handed to aggregation is unusable.
    #[error("invalid fact #{index}: {detail}")]
    InvalidFact {
        /// Its position in the input.
        index: usize,
        /// What was expected and what was found.
        detail: String,
    },

    /// Signing, or verifying the bundle's own DSSE envelope, failed; [`DsseError::code`] says
    /// how (`federation.dsse.bad_signature`, `federation.dsse.payload_type_mismatch`, ...).
    #[error(transparent)]
    Dsse(#[from] DsseError),

    /// The bundle's envelope bytes do not hash to the digest the bundle claims.
    #[error(
        "bundle envelope digest mismatch: the bundle claims `{expected}`, the envelope bytes \
         hash to `{found}`"
    )]
    DigestMismatch {
        /// The digest the bundle carries.
        expected: String,
        /// `sha256:<hex>` of the envelope bytes received.
        found: String,
    },

    /// The bundle (or its payload) is not the expected JSON shape, or not canonical.
    #[error("malformed federated bundle: {detail}")]
    MalformedBundle {
        /// What was expected and what was found.
        detail: String,
    },

    /// The payload's `bundleId` is not the one derived from the payload.
    #[error(
        "bundle id mismatch: the payload derives to `{expected}`, it carries `{found}` in \
         `bundleId`"
    )]
    BundleIdMismatch {
        /// The id derived from the canonical payload.
        expected: String,
        /// The id the payload carries.
        found: String,
    },

    /// The payload's `consentDigest` is not the digest of the consent envelope that came with
    /// the bundle.
    #[error(
        "consent digest linkage broken: the signed payload names consent `{expected}`, the \
         consent envelope received hashes to `{found}`"
    )]
    ConsentDigestMismatch {
        /// The payload's `consentDigest`.
        expected: String,
        /// `sha256:<hex>` of the consent envelope bytes received.
        found: String,
    },

    /// The bundle's tenant is not the tenant who consented.
    #[error(
        "tenant mismatch: the bundle is for tenant `{bundle}`, the consent was granted by \
         tenant `{consent}`"
    )]
    TenantMismatch {
        /// The bundle payload's `tenantId`.
        bundle: String,
        /// The consent predicate's `tenantId`.
        consent: String,
    },

    /// The bundle was created before the consent was granted.
    #[error(
        "consent not yet valid: the bundle was created at {created_at}, the consent was only \
         granted at {granted_at}"
    )]
    BundleBeforeConsent {
        /// The payload's `createdAt`.
        created_at: String,
        /// The consent's `grantedAt`.
        granted_at: String,
    },

    /// The consent had expired when the bundle was created (the signatures may be valid).
    #[error(
        "consent expired: the bundle was created at {created_at}, the consent expired at \
         {expires_at}"
    )]
    BundleConsentExpired {
        /// The payload's `createdAt`.
        created_at: String,
        /// The consent's `expiresAt`.
        expires_at: String,
    },

    /// The consent had been revoked when the bundle was created.
    #[error(
        "consent revoked: the bundle was created at {created_at}, the consent `{consent_digest}` \
         was revoked at {revoked_at}"
    )]
    BundleConsentRevoked {
        /// The payload's `createdAt`.
        created_at: String,
        /// The revoked consent's digest.
        consent_digest: String,
        /// When it was revoked.
        revoked_at: String,
    },

    /// Sending was refused because the site is sealed (building is still allowed).
    #[error(
        "federation sync refused: the site is sealed, so no bundle leaves it; keep the bundle \
         and send it after unsealing, or carry it out through the offline kit"
    )]
    Sealed,

    /// Sending was refused by the egress policy.
    #[error("federation sync refused by the egress policy: {reason}")]
    EgressDenied {
        /// The policy's reason.
        reason: String,
        /// What an operator can do, when the policy says.
        remediation: Option<String>,
    },
}

impl FederationError {
    /// The stable machine code of this error. DSSE failures keep their `federation.dsse.*` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidOptions { .. } => "federation.options.invalid",
            Self::InvalidConsent { .. } => "federation.consent.invalid",
            Self::ConsentNotGranted { .. } => "federation.consent.not_granted",
            Self::ConsentExpired { .. } => "federation.consent.expired",
            Self::ConsentRevoked { .. } => "federation.consent.revoked",
            Self::MalformedConsent { .. } => "federation.consent.malformed",
            Self::ConsentSignature { .. } => "federation.consent.signature_invalid",
            Self::InvalidFact { .. } => "federation.aggregate.invalid_fact",
            Self::Dsse(inner) => inner.code(),
            Self::DigestMismatch { .. } => "federation.bundle.digest_mismatch",
            Self::MalformedBundle { .. } => "federation.bundle.malformed",
            Self::BundleIdMismatch { .. } => "federation.bundle.id_mismatch",
            Self::ConsentDigestMismatch { .. } => "federation.bundle.consent_digest_mismatch",
            Self::TenantMismatch { .. } => "federation.bundle.tenant_mismatch",
            Self::BundleBeforeConsent { .. } => "federation.bundle.consent_not_yet_valid",
            Self::BundleConsentExpired { .. } => "federation.bundle.consent_expired",
            Self::BundleConsentRevoked { .. } => "federation.bundle.consent_revoked",
            Self::Sealed => "federation.sync.sealed",
            Self::EgressDenied { .. } => "federation.sync.egress_denied",
        }
    }

    pub(crate) fn options(detail: impl Into<String>) -> Self {
        Self::InvalidOptions {
            detail: detail.into(),
        }
    }

    pub(crate) fn bundle(detail: impl Into<String>) -> Self {
        Self::MalformedBundle {
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_failure_has_its_own_code() {
        let s = String::new;
        let all = [
            FederationError::options("d"),
            FederationError::InvalidConsent {
                tenant_id: s(),
                detail: s(),
            },
            FederationError::ConsentNotGranted { tenant_id: s() },
            FederationError::ConsentExpired {
                tenant_id: s(),
                expires_at: s(),
                now: s(),
            },
            FederationError::ConsentRevoked {
                tenant_id: s(),
                revoked_at: s(),
                revoked_by: s(),
            },
            FederationError::MalformedConsent { detail: s() },
            FederationError::ConsentSignature {
                source: DsseError::UnsignedEnvelope,
            },
            FederationError::InvalidFact {
                index: 0,
                detail: s(),
            },
            FederationError::Dsse(DsseError::UnsignedEnvelope),
            FederationError::DigestMismatch {
                expected: s(),
                found: s(),
            },
            FederationError::bundle("d"),
            FederationError::BundleIdMismatch {
                expected: s(),
                found: s(),
            },
            FederationError::ConsentDigestMismatch {
                expected: s(),
                found: s(),
            },
            FederationError::TenantMismatch {
                bundle: s(),
                consent: s(),
            },
            FederationError::BundleBeforeConsent {
                created_at: s(),
                granted_at: s(),
            },
            FederationError::BundleConsentExpired {
                created_at: s(),
                expires_at: s(),
            },
            FederationError::BundleConsentRevoked {
                created_at: s(),
                consent_digest: s(),
                revoked_at: s(),
            },
            FederationError::Sealed,
            FederationError::EgressDenied {
                reason: s(),
                remediation: None,
            },
        ];
        let codes: Vec<&str> = all.iter().map(FederationError::code).collect();
        let mut unique = codes.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), codes.len(), "{codes:?}");
        assert!(codes.iter().all(|c| c.starts_with("federation.")));
        assert_eq!(codes[8], "federation.dsse.unsigned_envelope");
    }
}
