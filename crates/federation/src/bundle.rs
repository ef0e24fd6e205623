//! The bundle a site sends to peers: the canonical JSON payload (buckets, consent digest, site,
//! tenant, window, privacy parameters), its deterministic id, and the [`FederatedBundle`] that
//! carries the signed payload and the consent proof together.
//!
//! Identical logical input gives identical bytes: keys sorted, buckets in one order, times in
//! one form, decimals written as their shortest round-trip text.

use crate::aggregate::{AggregateBucket, Window};
use crate::clock::{format_time, parse_time};
use crate::error::FederationError;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use stellaops_dsse::canonical_json::to_canonical_json;

/// The payload's `schema`.
pub const BUNDLE_SCHEMA: &str = "stella.ops/federatedTelemetry@v1";

/// The DSSE `payloadType` of bundle envelopes.
pub const BUNDLE_PAYLOAD_TYPE: &str = "application/vnd.stellaops.federation.bundle+json";

/// The signed content of a federated bundle.
///
/// Canonical JSON (keys sorted, no whitespace), for example:
///
/// ```json
/// {"buckets":[{"artifactCount":6,"cveId":"CVE-2025-0002","noisyCount":7,"observationCount":9}],
///  "budgetExhausted":false,"bundleId":"<32 hex>","consentDigest":"sha256:<hex>",
///  "createdAt":"2026-03-04T10:00:00Z","epsilon":"0.25","kAnonymity":5,
///  "schema":"stella.ops/federatedTelemetry@v1","sensitivity":"1","siteId":"site-a",
///  "suppressedBuckets":1,"tenantId":"tenant-a",
///  "window":{"end":"2026-03-04T00:00:00Z","start":"2026-03-03T00:00:00Z"}}
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct BundlePayload {
    /// The deterministic id ([`BundlePayload::derive_bundle_id`]).
    pub bundle_id: String,
    /// The sending site.
    pub site_id: String,
    /// The tenant whose data was aggregated.
    pub tenant_id: String,
    /// `sha256:<hex>` of the consent proof's envelope bytes.
    pub consent_digest: String,
    /// When the bundle was built (the injected clock, whole seconds).
    pub created_at: DateTime<Utc>,
    /// The window the facts were taken from.
    pub window: Window,
    /// k of the k-anonymity filter.
    pub k_anonymity: u64,
    /// Epsilon this bundle spent (0 when the budget was exhausted).
    pub epsilon: f64,
    /// Sensitivity of one bucket's noised count.
    pub sensitivity: f64,
    /// How many CVE buckets were withheld by the k-anonymity filter.
    pub suppressed_buckets: u64,
    /// Whether the privacy budget was exhausted (then `buckets` is empty).
    pub budget_exhausted: bool,
    /// The published buckets (written in [`AggregateBucket::payload_order`]).
    pub buckets: Vec<AggregateBucket>,
}

/// A decimal written as Rust's shortest round-trip text (`0.25`, `1`, `0.1`).
fn decimal(value: f64) -> String {
    format!("{value}")
}

impl BundlePayload {
    fn to_value(&self, bundle_id: &str) -> Value {
        let mut buckets = self.buckets.clone();
        buckets.sort_by(AggregateBucket::payload_order);
        let buckets: Vec<Value> = buckets
            .iter()
            .map(|b| {
                json!({
                    "cveId": b.cve_id,
                    "noisyCount": b.noisy_count,
                    "artifactCount": b.artifact_count,
                    "observationCount": b.observation_count,
                })
            })
            .collect();
        json!({
            "schema": BUNDLE_SCHEMA,
            "bundleId": bundle_id,
            "siteId": self.site_id,
            "tenantId": self.tenant_id,
            "consentDigest": self.consent_digest,
            "createdAt": format_time(self.created_at),
            "window": {
                "start": format_time(self.window.start()),
                "end": format_time(self.window.end()),
            },
            "kAnonymity": self.k_anonymity,
            "epsilon": decimal(self.epsilon),
            "sensitivity": decimal(self.sensitivity),
            "suppressedBuckets": self.suppressed_buckets,
            "budgetExhausted": self.budget_exhausted,
            "buckets": buckets,
        })
    }

    /// The canonical JSON bytes: the DSSE payload. Buckets are written in payload order
    /// whatever their order in `self.buckets`.
    ///
    /// # Errors
    /// [`FederationError::MalformedBundle`] if a value has no canonical form (it cannot happen
    /// for payloads this crate builds).
    pub fn to_canonical_json(&self) -> Result<Vec<u8>, FederationError> {
        to_canonical_json(&self.to_value(&self.bundle_id))
            .map_err(|e| FederationError::bundle(e.to_string()))
    }

    /// The id this payload must carry: 32 lowercase hex digits, the first 16 bytes of the
    /// SHA-256 of the canonical JSON with `bundleId` = `""`. Everything in the payload feeds
    /// it, including `createdAt` from the injected clock.
    ///
    /// # Errors
    /// As [`to_canonical_json`](Self::to_canonical_json).
    pub fn derive_bundle_id(&self) -> Result<String, FederationError> {
        let bytes = to_canonical_json(&self.to_value(""))
            .map_err(|e| FederationError::bundle(e.to_string()))?;
        let digest = Sha256::digest(bytes);
        Ok(hex::encode(digest.get(..16).unwrap_or_default()))
    }

    /// Parses a payload and checks it completely: schema, every field's type and form, the
    /// bytes are canonical, and `bundleId` is the derived one.
    ///
    /// # Errors
    /// [`FederationError::MalformedBundle`] naming the field or the non-canonical form, and
    /// [`FederationError::BundleIdMismatch`].
    pub fn from_canonical_json(bytes: &[u8]) -> Result<Self, FederationError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| {
            FederationError::bundle(format!("expected the payload as a JSON object: {e}"))
        })?;
        let root = value
            .as_object()
            .ok_or_else(|| FederationError::bundle("expected the payload as a JSON object"))?;
        let schema = text(root, "schema")?;
        if schema != BUNDLE_SCHEMA {
            return Err(FederationError::bundle(format!(
                "expected `schema` `{BUNDLE_SCHEMA}`, found `{schema}`"
            )));
        }
        let window = root
            .get("window")
            .and_then(Value::as_object)
            .ok_or_else(|| FederationError::bundle("expected an object `window`, found none"))?;
        let time = |map: &Map<String, Value>, field: &str, path: &str| {
            parse_time(path, &text(map, field)?).map_err(FederationError::bundle)
        };
        let window = Window::new(
            time(window, "start", "window.start")?,
            time(window, "end", "window.end")?,
        )
        .map_err(|e| FederationError::bundle(e.to_string()))?;
        let buckets = root
            .get("buckets")
            .and_then(Value::as_array)
            .ok_or_else(|| FederationError::bundle("expected an array `buckets`, found none"))?
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let b = b.as_object().ok_or_else(|| {
                    FederationError::bundle(format!("expected `buckets[{i}]` as an object"))
                })?;
                Ok(AggregateBucket {
                    cve_id: text(b, "cveId")?,
                    noisy_count: count(b, "noisyCount")?,
                    artifact_count: count(b, "artifactCount")?,
                    observation_count: count(b, "observationCount")?,
                })
            })
            .collect::<Result<Vec<_>, FederationError>>()?;
        let payload = Self {
            bundle_id: text(root, "bundleId")?,
            site_id: text(root, "siteId")?,
            tenant_id: text(root, "tenantId")?,
            consent_digest: text(root, "consentDigest")?,
            created_at: time(root, "createdAt", "createdAt")?,
            window,
            k_anonymity: count(root, "kAnonymity")?,
            epsilon: number_text(root, "epsilon")?,
            sensitivity: number_text(root, "sensitivity")?,
            suppressed_buckets: count(root, "suppressedBuckets")?,
            budget_exhausted: root
                .get("budgetExhausted")
                .and_then(Value::as_bool)
                .ok_or_else(|| {
                    FederationError::bundle("expected a boolean `budgetExhausted`, found none")
                })?,
            buckets,
        };
        if payload.to_canonical_json()? != bytes {
            return Err(FederationError::bundle(
                "expected canonical JSON (sorted keys, no whitespace, no unknown fields, buckets \
                 in payload order), found other bytes",
            ));
        }
        let derived = payload.derive_bundle_id()?;
        if derived != payload.bundle_id {
            return Err(FederationError::BundleIdMismatch {
                expected: derived,
                found: payload.bundle_id,
            });
        }
        Ok(payload)
    }
}

fn text(map: &Map<String, Value>, field: &str) -> Result<String, FederationError> {
    match map.get(field) {
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => Err(FederationError::bundle(format!(
            "expected `{field}` as a string, found {other}"
        ))),
        None => Err(FederationError::bundle(format!(
            "expected a string `{field}`, found none"
        ))),
    }
}

fn count(map: &Map<String, Value>, field: &str) -> Result<u64, FederationError> {
    map.get(field).and_then(Value::as_u64).ok_or_else(|| {
        FederationError::bundle(format!(
            "expected `{field}` as a non-negative integer, found {}",
            map.get(field).map_or("none".to_owned(), Value::to_string)
        ))
    })
}

fn number_text(map: &Map<String, Value>, field: &str) -> Result<f64, FederationError> {
    let s = text(map, field)?;
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 && decimal(v) == s => Ok(v),
        _ => Err(FederationError::bundle(format!(
            "expected `{field}` as a decimal string like \"0.25\", found \"{s}\""
        ))),
    }
}

/// What travels to a peer: the signed bundle envelope and the consent envelope it links to,
/// each as the exact bytes that were hashed, with their digests and the signer key ids (for
/// audit; unauthenticated).
///
/// Serialized as JSON with camelCase fields (`bundleId`, `envelope`, `envelopeDigest`,
/// `consent`, `consentDigest`, `signerKeyIds`); the envelopes are JSON strings so their bytes
/// survive any re-serialization.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FederatedBundle {
    /// The payload's `bundleId`.
    pub bundle_id: String,
    /// The bundle's DSSE envelope (JSON text).
    pub envelope: String,
    /// `sha256:<hex>` over `envelope`.
    pub envelope_digest: String,
    /// The consent proof's DSSE envelope (JSON text).
    pub consent: String,
    /// `sha256:<hex>` over `consent`.
    pub consent_digest: String,
    /// The key ids the bundle envelope's signatures name.
    pub signer_key_ids: Vec<String>,
}

impl FederatedBundle {
    /// The bundle as JSON (what a site sends).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parses a received bundle (nothing is verified yet).
    ///
    /// # Errors
    /// [`FederationError::MalformedBundle`].
    pub fn from_json(json: &[u8]) -> Result<Self, FederationError> {
        serde_json::from_slice(json).map_err(|e| {
            FederationError::bundle(format!(
                "expected a federated bundle object (bundleId, envelope, envelopeDigest, \
                 consent, consentDigest, signerKeyIds): {e}"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn bucket(cve: &str, n: u64, a: u64, o: u64) -> AggregateBucket {
        AggregateBucket {
            cve_id: cve.into(),
            noisy_count: n,
            artifact_count: a,
            observation_count: o,
        }
    }

    fn sample() -> BundlePayload {
        let mut p = BundlePayload {
            bundle_id: String::new(),
            site_id: "site-a".into(),
            tenant_id: "tenant-a".into(),
            consent_digest: format!("sha256:{}", "ab".repeat(32)),
            created_at: t(1_772_618_400),
            window: Window::new(t(1_772_496_000), t(1_772_582_400)).unwrap(),
            k_anonymity: 5,
            epsilon: 0.25,
            sensitivity: 1.0,
            suppressed_buckets: 1,
            budget_exhausted: false,
            buckets: vec![
                bucket("CVE-2025-0003", 4, 6, 6),
                bucket("CVE-2025-0002", 7, 5, 10),
            ],
        };
        p.bundle_id = p.derive_bundle_id().unwrap();
        p
    }

    #[test]
    fn golden_canonical_payload() {
        let p = sample();
        let json = String::from_utf8(p.to_canonical_json().unwrap()).unwrap();
        assert_eq!(
            json,
            format!(
                "{{\"buckets\":[{{\"artifactCount\":5,\"cveId\":\"CVE-2025-0002\",\
                 \"noisyCount\":7,\"observationCount\":10}},{{\"artifactCount\":6,\"cveId\":\"CVE-2025-0003\",\
                 \"noisyCount\":4,\"observationCount\":6}}],\"budgetExhausted\":false,\"bundleId\":\"{}\",\"consentDigest\":\"sha256:{}\",\
                 \"createdAt\":\"2026-03-04T10:00:00Z\",\"epsilon\":\"0.25\",\"kAnonymity\":5,\
                 \"schema\":\"stella.ops/federatedTelemetry@v1\",\"sensitivity\":\"1\",\"siteId\":\"site-a\",\
                 \"suppressedBuckets\":1,\"tenantId\":\"tenant-a\",\
                 \"window\":{{\"end\":\"2026-03-04T00:00:00Z\",\"start\":\"2026-03-03T00:00:00Z\"}}}}",
                p.bundle_id,
                "ab".repeat(32)
            )
        );
        assert_eq!(p.bundle_id.len(), 32);
        assert_eq!(
            BundlePayload::from_canonical_json(json.as_bytes()).unwrap(),
            {
                let mut sorted = p.clone();
                sorted.buckets.sort_by(AggregateBucket::payload_order);
                sorted
            }
        );
    }

    #[test]
    fn the_id_follows_the_clock_and_the_content() {
        let p = sample();
        let mut later = p.clone();
        later.created_at = t(1_772_618_401);
        assert_ne!(later.derive_bundle_id().unwrap(), p.bundle_id);
        let mut other = p.clone();
        other.buckets[0].noisy_count += 1;
        assert_ne!(other.derive_bundle_id().unwrap(), p.bundle_id);
        assert_eq!(p.clone().derive_bundle_id().unwrap(), p.bundle_id);
    }

    #[test]
    fn parsing_refuses_non_canonical_and_forged_payloads() {
        let p = sample();
        let good = String::from_utf8(p.to_canonical_json().unwrap()).unwrap();
        let cases = [
            (good.replacen("{", "{ ", 1), "federation.bundle.malformed"),
            (
                good.replace("\"epsilon\":\"0.25\"", "\"epsilon\":\"0.250\""),
                "federation.bundle.malformed",
            ),
            (
                good.replace("\"epsilon\":\"0.25\"", "\"epsilon\":0.25"),
                "federation.bundle.malformed",
            ),
            (
                good.replace("\"noisyCount\":7", "\"noisyCount\":-7"),
                "federation.bundle.malformed",
            ),
            (
                good.replace("\"noisyCount\":7", "\"noisyCount\":8"),
                "federation.bundle.id_mismatch",
            ),
            (
                good.replace("stella.ops/federatedTelemetry@v1", "other@v1"),
                "federation.bundle.malformed",
            ),
            (
                good.replacen("}", ",\"extra\":1}", 1),
                "federation.bundle.malformed",
            ),
            ("[]".to_owned(), "federation.bundle.malformed"),
        ];
        for (json, code) in cases {
            let err = BundlePayload::from_canonical_json(json.as_bytes()).unwrap_err();
            assert_eq!(err.code(), code, "{err} for {json}");
        }
    }

    #[test]
    fn federated_bundle_json_round_trips_and_refuses_unknown_fields() {
        let b = FederatedBundle {
            bundle_id: "id".into(),
            envelope: "{\"a\": 1}".into(),
            envelope_digest: "sha256:00".into(),
            consent: "{}".into(),
            consent_digest: "sha256:11".into(),
            signer_key_ids: vec!["k".into()],
        };
        let json = b.to_json();
        assert!(
            json.starts_with("{\"bundleId\":\"id\",\"envelope\":\"{\\\"a\\\": 1}\""),
            "{json}"
        );
        assert_eq!(FederatedBundle::from_json(json.as_bytes()).unwrap(), b);
        let err =
            FederatedBundle::from_json(json.replacen('{', "{\"x\":1,", 1).as_bytes()).unwrap_err();
        assert_eq!(err.code(), "federation.bundle.malformed");
    }

    proptest! {
        /// Canonicalization does not depend on the order buckets are listed in, and what is
        /// written parses back to the same payload.
        #[test]
        fn canonical_bytes_are_order_independent(
            raw in proptest::collection::btree_map("CVE-20[0-9]{2}-[0-9]{1,5}", (0u64..50, 0u64..50, 0u64..90), 0..12),
            seed in any::<u64>(),
            eps_micro in 1u64..5_000_000,
        ) {
            let buckets: Vec<AggregateBucket> = raw.iter().map(|(c, (n, a, o))| bucket(c, *n, *a, *o)).collect();
            let mut p = sample();
            p.buckets = buckets.clone();
            p.epsilon = eps_micro as f64 / 1e6;
            p.bundle_id = p.derive_bundle_id().unwrap();
            let mut shuffled = p.clone();
            let len = shuffled.buckets.len().max(1);
            shuffled.buckets.rotate_left(seed as usize % len);
            shuffled.buckets.reverse();
            prop_assert_eq!(shuffled.derive_bundle_id().unwrap(), p.bundle_id.clone());
            let bytes = p.to_canonical_json().unwrap();
            prop_assert_eq!(&shuffled.to_canonical_json().unwrap(), &bytes);
            let back = BundlePayload::from_canonical_json(&bytes).unwrap();
            prop_assert_eq!(back.to_canonical_json().unwrap(), bytes);
        }
    }
}
