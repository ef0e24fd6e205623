//! Consent: per tenant, Not granted -> Granted (optional TTL) -> Expired or Revoked. A grant
//! is a DSSE-signed `stella.ops/federatedConsent@v1` predicate (the [`ConsentProof`]) whose
//! digest, `sha256:<hex>` over the envelope bytes, every bundle names.
//!
//! This module keeps the site's own consent state; peers learn of revocations through
//! [`ConsentRevocation`] records given to their [`BundleVerifier`](crate::BundleVerifier).

use crate::clock::{format_time, parse_time, whole_seconds};
use crate::digest::sha256_digest;
use crate::error::FederationError;
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use stellaops_dsse::canonical_json::to_canonical_json;
use stellaops_dsse::envelope::Envelope;
use stellaops_dsse::sign::{EnvelopeSigner, UnsignedFallback, sign_envelope_with_fallback};

/// The consent predicate type, written as the predicate's `type`.
pub const CONSENT_PREDICATE_TYPE: &str = "stella.ops/federatedConsent@v1";

/// The DSSE `payloadType` of consent envelopes.
pub const CONSENT_PAYLOAD_TYPE: &str = "application/vnd.stellaops.federation.consent+json";

/// What a tenant consented to: the signed content of a [`ConsentProof`].
///
/// Written as canonical JSON:
/// `{"expiresAt":..,"grantedAt":..,"grantedBy":..,"tenantId":..,"type":"stella.ops/federatedConsent@v1"}`
/// (`expiresAt` only when the grant has a TTL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentPredicate {
    /// The tenant whose data may be federated.
    pub tenant_id: String,
    /// Who granted it (an operator or service identity).
    pub granted_by: String,
    /// When it was granted (whole seconds).
    pub granted_at: DateTime<Utc>,
    /// When it expires, if it does (after `granted_at`).
    pub expires_at: Option<DateTime<Utc>>,
}

impl ConsentPredicate {
    /// The canonical JSON bytes (the DSSE payload).
    pub fn to_canonical_json(&self) -> Vec<u8> {
        let mut map = Map::new();
        map.insert("type".into(), CONSENT_PREDICATE_TYPE.into());
        map.insert("tenantId".into(), self.tenant_id.clone().into());
        map.insert("grantedBy".into(), self.granted_by.clone().into());
        map.insert("grantedAt".into(), format_time(self.granted_at).into());
        if let Some(expires_at) = self.expires_at {
            map.insert("expiresAt".into(), format_time(expires_at).into());
        }
        // Only strings: canonical JSON cannot fail here.
        to_canonical_json(&Value::Object(map)).unwrap_or_default()
    }

    /// Parses and checks a predicate: the `type`, non-empty `tenantId` and `grantedBy`, times
    /// in the one written form, `expiresAt` after `grantedAt`. Unknown fields are ignored.
    ///
    /// # Errors
    /// [`FederationError::MalformedConsent`] naming the field.
    pub fn from_json(json: &[u8]) -> Result<Self, FederationError> {
        let bad = |detail: String| FederationError::MalformedConsent { detail };
        let value: Value = serde_json::from_slice(json)
            .map_err(|e| bad(format!("expected a JSON object: {e}")))?;
        let text = |name: &str| -> Result<String, FederationError> {
            match value.get(name) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                Some(Value::String(_)) => Err(bad(format!("expected a non-empty `{name}`"))),
                Some(other) => Err(bad(format!("expected `{name}` as a string, found {other}"))),
                None => Err(bad(format!("expected a string `{name}`, found none"))),
            }
        };
        let kind = text("type")?;
        if kind != CONSENT_PREDICATE_TYPE {
            return Err(bad(format!(
                "expected `type` `{CONSENT_PREDICATE_TYPE}`, found `{kind}`"
            )));
        }
        let granted_at = parse_time("grantedAt", &text("grantedAt")?).map_err(bad)?;
        let expires_at = match value.get("expiresAt") {
            None | Some(Value::Null) => None,
            Some(_) => Some(parse_time("expiresAt", &text("expiresAt")?).map_err(bad)?),
        };
        if let Some(expires_at) = expires_at
            && expires_at <= granted_at
        {
            return Err(bad(format!(
                "expected `expiresAt` after `grantedAt` ({}), found {}",
                format_time(granted_at),
                format_time(expires_at)
            )));
        }
        Ok(Self {
            tenant_id: text("tenantId")?,
            granted_by: text("grantedBy")?,
            granted_at,
            expires_at,
        })
    }

    /// Whether the consent covers time `at`: granted at or before it and not yet expired.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.granted_at <= at && self.expires_at.is_none_or(|e| at < e)
    }
}

/// A request to grant consent, builder style.
#[derive(Debug, Clone)]
#[must_use]
pub struct ConsentGrant {
    tenant_id: String,
    granted_by: String,
    granted_at: Option<DateTime<Utc>>,
    ttl: Option<TimeDelta>,
    expires_at: Option<DateTime<Utc>>,
}

impl ConsentGrant {
    /// Consent for `tenant_id`, granted by `granted_by`, now, without expiry.
    pub fn new(tenant_id: impl Into<String>, granted_by: impl Into<String>) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            granted_by: granted_by.into(),
            granted_at: None,
            ttl: None,
            expires_at: None,
        }
    }

    /// Expires `ttl` after it was granted.
    pub fn ttl(mut self, ttl: TimeDelta) -> Self {
        self.ttl = Some(ttl);
        self.expires_at = None;
        self
    }

    /// Expires at `expires_at`.
    pub fn expires_at(mut self, expires_at: DateTime<Utc>) -> Self {
        self.expires_at = Some(expires_at);
        self.ttl = None;
        self
    }

    /// Records a grant given earlier (for example on paper) instead of now; it must not be in
    /// the future.
    pub fn granted_at(mut self, granted_at: DateTime<Utc>) -> Self {
        self.granted_at = Some(granted_at);
        self
    }

    /// The predicate this grant produces at `now`, checked.
    fn predicate(self, now: DateTime<Utc>) -> Result<ConsentPredicate, FederationError> {
        let invalid = |detail: String| FederationError::InvalidConsent {
            tenant_id: self.tenant_id.clone(),
            detail,
        };
        if self.tenant_id.is_empty() {
            return Err(invalid("expected a non-empty tenant id".into()));
        }
        if self.granted_by.is_empty() {
            return Err(invalid("expected a non-empty `grantedBy`".into()));
        }
        let now = whole_seconds(now);
        let granted_at = whole_seconds(self.granted_at.unwrap_or(now));
        if granted_at > now {
            return Err(invalid(format!(
                "expected `grantedAt` not in the future (now {}), found {}",
                format_time(now),
                format_time(granted_at)
            )));
        }
        let expires_at = match (self.ttl, self.expires_at) {
            (Some(ttl), _) => Some(granted_at.checked_add_signed(ttl).ok_or_else(|| {
                invalid(format!(
                    "expected a TTL that ends in a representable time, found {ttl}"
                ))
            })?),
            (None, at) => at.map(whole_seconds),
        };
        if let Some(expires_at) = expires_at
            && expires_at <= granted_at
        {
            return Err(invalid(format!(
                "expected `expiresAt` after `grantedAt` ({}), found {} (TTLs are positive and \
                 at least one second)",
                format_time(granted_at),
                format_time(expires_at)
            )));
        }
        Ok(ConsentPredicate {
            tenant_id: self.tenant_id,
            granted_by: self.granted_by,
            granted_at,
            expires_at,
        })
    }
}

/// A signed consent: the predicate, its DSSE envelope, and the envelope's digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentProof {
    predicate: ConsentPredicate,
    envelope: Envelope,
    envelope_json: String,
    digest: String,
}

impl ConsentProof {
    /// Checks `grant` at `now` and signs its predicate with `signers` (or, when none is
    /// available and `fallback` allows, writes an unsigned-fallback envelope).
    ///
    /// # Errors
    /// [`FederationError::InvalidConsent`] for a grant that breaks a rule,
    /// [`FederationError::Dsse`] when signing fails.
    pub fn sign(
        grant: ConsentGrant,
        now: DateTime<Utc>,
        signers: &[&dyn EnvelopeSigner],
        fallback: UnsignedFallback,
    ) -> Result<Self, FederationError> {
        let predicate = grant.predicate(now)?;
        let envelope = sign_envelope_with_fallback(
            signers,
            CONSENT_PAYLOAD_TYPE,
            predicate.to_canonical_json(),
            fallback,
        )?;
        let envelope_json = envelope.to_json();
        Ok(Self {
            digest: sha256_digest(envelope_json.as_bytes()),
            predicate,
            envelope,
            envelope_json,
        })
    }

    /// Reads a consent envelope as received (DSSE JSON), **without verifying** its signatures
    /// ([`BundleVerifier`](crate::BundleVerifier) does that). The digest is over exactly these
    /// bytes.
    ///
    /// # Errors
    /// DSSE parse errors ([`FederationError::Dsse`]), a wrong payload type, or
    /// [`FederationError::MalformedConsent`].
    pub fn from_envelope_json(json: &str) -> Result<Self, FederationError> {
        let envelope = Envelope::from_json(json.as_bytes())?;
        if envelope.payload_type != CONSENT_PAYLOAD_TYPE {
            return Err(FederationError::MalformedConsent {
                detail: format!(
                    "expected payload type `{CONSENT_PAYLOAD_TYPE}`, found `{}`",
                    envelope.payload_type
                ),
            });
        }
        Ok(Self {
            predicate: ConsentPredicate::from_json(&envelope.payload)?,
            digest: sha256_digest(json.as_bytes()),
            envelope,
            envelope_json: json.to_owned(),
        })
    }

    /// The signed predicate.
    pub fn predicate(&self) -> &ConsentPredicate {
        &self.predicate
    }
    /// The tenant.
    pub fn tenant_id(&self) -> &str {
        &self.predicate.tenant_id
    }
    /// The DSSE envelope.
    pub fn envelope(&self) -> &Envelope {
        &self.envelope
    }
    /// The envelope bytes, exactly as signed and hashed: what travels with every bundle.
    pub fn envelope_json(&self) -> &str {
        &self.envelope_json
    }
    /// `sha256:<hex>` over [`envelope_json`](Self::envelope_json).
    pub fn digest(&self) -> &str {
        &self.digest
    }
    /// The key ids named by the envelope's signatures (signer identity, for audit; unverified).
    pub fn signer_key_ids(&self) -> Vec<&str> {
        self.envelope
            .signatures
            .iter()
            .map(|s| s.keyid.as_str())
            .collect()
    }
    /// Whether the envelope is an `offline-unsigned-fallback` one.
    pub fn is_unsigned_fallback(&self) -> bool {
        self.envelope.is_unsigned_fallback()
    }
}

/// A revocation: from `revoked_at` on, bundles linking consent `consent_digest` are refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentRevocation {
    /// The tenant.
    pub tenant_id: String,
    /// The revoked consent's digest (`sha256:<hex>`).
    pub consent_digest: String,
    /// Who revoked it.
    pub revoked_by: String,
    /// When (whole seconds).
    pub revoked_at: DateTime<Utc>,
}

/// A tenant's consent at one instant.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConsentState {
    /// Never granted (the default).
    NotGranted,
    /// Granted and not expired.
    Granted(ConsentProof),
    /// Granted with a TTL that has run out.
    Expired(ConsentProof),
    /// Revoked.
    Revoked {
        /// The consent that was revoked.
        proof: ConsentProof,
        /// The revocation.
        revocation: ConsentRevocation,
    },
}

impl ConsentState {
    /// `not_granted`, `granted`, `expired` or `revoked`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::NotGranted => "not_granted",
            Self::Granted(_) => "granted",
            Self::Expired(_) => "expired",
            Self::Revoked { .. } => "revoked",
        }
    }
}

#[derive(Debug, Clone)]
struct Record {
    proof: ConsentProof,
    revocation: Option<ConsentRevocation>,
}

/// The site's consent state per tenant.
#[derive(Debug, Clone, Default)]
pub struct ConsentRegistry {
    tenants: BTreeMap<String, Record>,
}

impl ConsentRegistry {
    /// No tenant has consented.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a signed grant; it replaces the tenant's earlier consent (granted, expired or
    /// revoked): a new grant is a new consent with a new digest.
    pub fn record_grant(&mut self, proof: ConsentProof) {
        self.tenants.insert(
            proof.tenant_id().to_owned(),
            Record {
                proof,
                revocation: None,
            },
        );
    }

    /// Revokes the tenant's consent at `now`. Revoking a revoked consent returns the first
    /// revocation.
    ///
    /// # Errors
    /// [`FederationError::ConsentNotGranted`] when the tenant never consented,
    /// [`FederationError::InvalidConsent`] for an empty `revoked_by`.
    pub fn revoke(
        &mut self,
        tenant_id: &str,
        revoked_by: &str,
        now: DateTime<Utc>,
    ) -> Result<ConsentRevocation, FederationError> {
        if revoked_by.is_empty() {
            return Err(FederationError::InvalidConsent {
                tenant_id: tenant_id.to_owned(),
                detail: "expected a non-empty `revokedBy`".into(),
            });
        }
        let record =
            self.tenants
                .get_mut(tenant_id)
                .ok_or_else(|| FederationError::ConsentNotGranted {
                    tenant_id: tenant_id.to_owned(),
                })?;
        Ok(record
            .revocation
            .get_or_insert_with(|| ConsentRevocation {
                tenant_id: tenant_id.to_owned(),
                consent_digest: record.proof.digest().to_owned(),
                revoked_by: revoked_by.to_owned(),
                revoked_at: whole_seconds(now),
            })
            .clone())
    }

    /// The tenant's consent at `now`.
    pub fn state(&self, tenant_id: &str, now: DateTime<Utc>) -> ConsentState {
        match self.tenants.get(tenant_id) {
            None => ConsentState::NotGranted,
            Some(Record {
                proof,
                revocation: Some(revocation),
            }) => ConsentState::Revoked {
                proof: proof.clone(),
                revocation: revocation.clone(),
            },
            Some(Record { proof, .. }) if proof.predicate.covers(now) => {
                ConsentState::Granted(proof.clone())
            }
            Some(Record { proof, .. }) => ConsentState::Expired(proof.clone()),
        }
    }

    /// The tenant's proof if consent is granted at `now`.
    ///
    /// # Errors
    /// [`FederationError::ConsentNotGranted`], [`FederationError::ConsentExpired`] or
    /// [`FederationError::ConsentRevoked`].
    pub fn require_granted(
        &self,
        tenant_id: &str,
        now: DateTime<Utc>,
    ) -> Result<&ConsentProof, FederationError> {
        let Some(record) = self.tenants.get(tenant_id) else {
            return Err(FederationError::ConsentNotGranted {
                tenant_id: tenant_id.to_owned(),
            });
        };
        if let Some(r) = &record.revocation {
            return Err(FederationError::ConsentRevoked {
                tenant_id: tenant_id.to_owned(),
                revoked_at: format_time(r.revoked_at),
                revoked_by: r.revoked_by.clone(),
            });
        }
        if !record.proof.predicate.covers(now) {
            return Err(FederationError::ConsentExpired {
                tenant_id: tenant_id.to_owned(),
                expires_at: record
                    .proof
                    .predicate
                    .expires_at
                    .map(format_time)
                    .unwrap_or_default(),
                now: format_time(now),
            });
        }
        Ok(&record.proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stellaops_dsse::HmacSha256Key;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }
    const NOW: i64 = 1_772_618_400; // 2026-03-04T10:00:00Z

    fn key() -> HmacSha256Key {
        HmacSha256Key::new("site-a-hmac", vec![9; 32]).unwrap()
    }

    #[test]
    fn grant_signs_the_predicate_and_digests_the_envelope() {
        let k = key();
        let grant = ConsentGrant::new("tenant-a", "alice").ttl(TimeDelta::days(30));
        let proof =
            ConsentProof::sign(grant.clone(), t(NOW), &[&k], UnsignedFallback::Refuse).unwrap();
        assert_eq!(
            String::from_utf8(proof.envelope().payload.clone()).unwrap(),
            r#"{"expiresAt":"2026-04-03T10:00:00Z","grantedAt":"2026-03-04T10:00:00Z","grantedBy":"alice","tenantId":"tenant-a","type":"stella.ops/federatedConsent@v1"}"#
        );
        assert_eq!(proof.envelope().payload_type, CONSENT_PAYLOAD_TYPE);
        assert!(proof.digest().starts_with("sha256:"));
        assert_eq!(proof.digest().len(), 7 + 64);
        assert_eq!(proof.signer_key_ids(), ["site-a-hmac"]);
        // Reading it back gives the same proof and digest.
        let back = ConsentProof::from_envelope_json(proof.envelope_json()).unwrap();
        assert_eq!(back, proof);
        // Same grant, same clock, same key: same bytes.
        let again =
            ConsentProof::sign(grant.clone(), t(NOW), &[&k], UnsignedFallback::Refuse).unwrap();
        assert_eq!(again.digest(), proof.digest());
    }

    #[test]
    fn grant_rules() {
        let k = key();
        let sign = |g: ConsentGrant| ConsentProof::sign(g, t(NOW), &[&k], UnsignedFallback::Refuse);
        let cases = [
            (ConsentGrant::new("", "alice"), "tenant id"),
            (ConsentGrant::new("t", ""), "grantedBy"),
            (
                ConsentGrant::new("t", "a").granted_at(t(NOW + 1)),
                "not in the future",
            ),
            (
                ConsentGrant::new("t", "a").ttl(TimeDelta::zero()),
                "after `grantedAt`",
            ),
            (
                ConsentGrant::new("t", "a").ttl(TimeDelta::seconds(-5)),
                "after `grantedAt`",
            ),
            (
                ConsentGrant::new("t", "a").expires_at(t(NOW - 1)),
                "after `grantedAt`",
            ),
        ];
        for (grant, needle) in cases {
            let err = sign(grant).unwrap_err();
            assert_eq!(err.code(), "federation.consent.invalid");
            assert!(err.to_string().contains(needle), "{err}");
        }
        // A backdated grant with an explicit expiry is fine; sub-seconds are dropped.
        let proof = sign(
            ConsentGrant::new("t", "a")
                .granted_at(t(NOW - 60))
                .expires_at(DateTime::from_timestamp(NOW + 60, 5).unwrap()),
        )
        .unwrap();
        assert_eq!(proof.predicate().expires_at, Some(t(NOW + 60)));
        // No signer: refused unless the fallback is allowed.
        let g = ConsentGrant::new("t", "a");
        let err = ConsentProof::sign(g.clone(), t(NOW), &[], UnsignedFallback::Refuse).unwrap_err();
        assert_eq!(err.code(), "federation.dsse.signer_unavailable");
        let p = ConsentProof::sign(g.clone(), t(NOW), &[], UnsignedFallback::Allow).unwrap();
        assert!(p.is_unsigned_fallback());
    }

    #[test]
    fn lifecycle_not_granted_granted_expired_revoked() {
        let k = key();
        let mut reg = ConsentRegistry::new();
        assert_eq!(reg.state("tenant-a", t(NOW)), ConsentState::NotGranted);
        let err = reg.require_granted("tenant-a", t(NOW)).unwrap_err();
        assert_eq!(err.code(), "federation.consent.not_granted");
        let err = reg.revoke("tenant-a", "bob", t(NOW)).unwrap_err();
        assert_eq!(err.code(), "federation.consent.not_granted");

        let grant = ConsentGrant::new("tenant-a", "alice").ttl(TimeDelta::hours(1));
        let proof =
            ConsentProof::sign(grant.clone(), t(NOW), &[&k], UnsignedFallback::Refuse).unwrap();
        reg.record_grant(proof.clone());
        assert_eq!(reg.state("tenant-a", t(NOW)).as_str(), "granted");
        assert_eq!(
            reg.require_granted("tenant-a", t(NOW + 3599)).unwrap(),
            &proof
        );
        assert_eq!(reg.state("tenant-b", t(NOW)).as_str(), "not_granted");

        // Expiry at exactly expiresAt.
        assert_eq!(reg.state("tenant-a", t(NOW + 3600)).as_str(), "expired");
        let err = reg.require_granted("tenant-a", t(NOW + 3600)).unwrap_err();
        assert_eq!(err.code(), "federation.consent.expired");
        assert!(err.to_string().contains("2026-03-04T11:00:00Z"), "{err}");

        // Re-grant, then revoke.
        let proof2 = ConsentProof::sign(
            ConsentGrant::new("tenant-a", "alice"),
            t(NOW + 7200),
            &[&k],
            UnsignedFallback::Refuse,
        )
        .unwrap();
        reg.record_grant(proof2.clone());
        assert_eq!(reg.state("tenant-a", t(NOW + 7200)).as_str(), "granted");
        let rev = reg.revoke("tenant-a", "bob", t(NOW + 7300)).unwrap();
        assert_eq!(rev.consent_digest, proof2.digest());
        assert_eq!(rev.revoked_at, t(NOW + 7300));
        let again = reg.revoke("tenant-a", "carol", t(NOW + 9000)).unwrap();
        assert_eq!(again, rev);
        assert_eq!(reg.state("tenant-a", t(NOW + 7300)).as_str(), "revoked");
        let err = reg.require_granted("tenant-a", t(NOW + 7300)).unwrap_err();
        assert_eq!(err.code(), "federation.consent.revoked");
        assert!(err.to_string().contains("bob"), "{err}");
        // Revocations travel as JSON.
        let json = serde_json::to_string(&rev).unwrap();
        assert!(json.contains("\"consentDigest\""), "{json}");
        assert_eq!(
            serde_json::from_str::<ConsentRevocation>(&json).unwrap(),
            rev
        );
    }

    #[test]
    fn malformed_predicates_are_refused_by_field() {
        let cases = [
            (r#"[]"#, "`type`"),
            (r#"{"type":"other@v1"}"#, "other@v1"),
            (
                r#"{"type":"stella.ops/federatedConsent@v1","tenantId":"t","grantedBy":"a","grantedAt":"2026-03-04T10:00:00.5Z"}"#,
                "grantedAt",
            ),
            (
                r#"{"type":"stella.ops/federatedConsent@v1","tenantId":"t","grantedBy":"a","grantedAt":"2026-03-04T10:00:00Z","expiresAt":"2026-03-04T10:00:00Z"}"#,
                "expiresAt",
            ),
            (
                r#"{"type":"stella.ops/federatedConsent@v1","tenantId":"","grantedBy":"a","grantedAt":"2026-03-04T10:00:00Z"}"#,
                "tenantId",
            ),
            (
                r#"{"type":"stella.ops/federatedConsent@v1","tenantId":"t","grantedBy":7,"grantedAt":"2026-03-04T10:00:00Z"}"#,
                "grantedBy",
            ),
            ("not json", "JSON"),
        ];
        for (json, needle) in cases {
            let err = ConsentPredicate::from_json(json.as_bytes()).unwrap_err();
            assert_eq!(err.code(), "federation.consent.malformed");
            assert!(err.to_string().contains(needle), "{err} / {needle}");
        }
    }
}
