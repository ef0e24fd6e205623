//! Aggregation: facts (CVE id, artifact digest, when observed) become one bucket per CVE with
//! its distinct artifact count and observation count; buckets with fewer than k distinct
//! artifacts are suppressed (k-anonymity); the rest get a Laplace-noised count.
//!
//! The privacy unit is an artifact: each artifact adds at most 1 to a bucket's noised count.
//! The budget check lives in [`FederationSite`](crate::FederationSite); this module is the pure
//! computation.

use crate::clock::format_time;
use crate::error::FederationError;
use crate::noise::LaplaceNoise;
use chrono::{DateTime, Utc};
use rand::RngCore;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

/// One observation: artifact `artifact_digest` is affected by `cve_id`, seen at `observed_at`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fact {
    /// The vulnerability (`CVE-2025-12345`, or any advisory id).
    pub cve_id: String,
    /// The affected artifact's digest (`sha256:...`).
    pub artifact_digest: String,
    /// When it was observed.
    pub observed_at: DateTime<Utc>,
}

impl Fact {
    /// A fact.
    pub fn new(
        cve_id: impl Into<String>,
        artifact_digest: impl Into<String>,
        observed_at: DateTime<Utc>,
    ) -> Self {
        Self {
            cve_id: cve_id.into(),
            artifact_digest: artifact_digest.into(),
            observed_at,
        }
    }
}

/// The half-open time window `[start, end)` a bundle covers; facts outside it are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Window {
    /// `[start, end)`, in whole seconds.
    ///
    /// # Errors
    /// [`FederationError::InvalidOptions`] unless `start < end` and both are whole seconds.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, FederationError> {
        if start.timestamp_subsec_nanos() != 0 || end.timestamp_subsec_nanos() != 0 {
            return Err(FederationError::options(format!(
                "expected a window in whole seconds, found {start} .. {end}"
            )));
        }
        if start >= end {
            return Err(FederationError::options(format!(
                "expected a window start before its end, found {} .. {}",
                format_time(start),
                format_time(end)
            )));
        }
        Ok(Self { start, end })
    }

    /// The first instant covered.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }

    /// The first instant after the window.
    pub fn end(&self) -> DateTime<Utc> {
        self.end
    }

    /// Whether `t` is in the window.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

/// One published CVE bucket.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AggregateBucket {
    /// The CVE.
    pub cve_id: String,
    /// `artifact_count` plus Laplace noise, rounded, clamped at 0.
    pub noisy_count: u64,
    /// Distinct artifact digests (at least k).
    pub artifact_count: u64,
    /// Facts (observations).
    pub observation_count: u64,
}

impl AggregateBucket {
    /// The payload order: `cveId` ordinal (byte order), then `noisyCount` descending, then
    /// `artifactCount` and `observationCount` ascending.
    pub fn payload_order(a: &Self, b: &Self) -> Ordering {
        a.cve_id
            .as_bytes()
            .cmp(b.cve_id.as_bytes())
            .then(b.noisy_count.cmp(&a.noisy_count))
            .then(a.artifact_count.cmp(&b.artifact_count))
            .then(a.observation_count.cmp(&b.observation_count))
    }
}

/// Exact per-CVE counts before suppression and noise (private: never leaves the site).
#[derive(Debug, Default)]
struct Exact {
    artifacts: BTreeSet<String>,
    observations: u64,
}

/// What [`aggregate_buckets`] returns: the published buckets and how many were suppressed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Buckets {
    pub(crate) buckets: Vec<AggregateBucket>,
    pub(crate) suppressed: u64,
    pub(crate) epsilon_per_bucket: Option<f64>,
}

/// Checks every fact (non-empty CVE id and digest, no control characters).
pub(crate) fn check_facts(facts: &[Fact]) -> Result<(), FederationError> {
    for (index, fact) in facts.iter().enumerate() {
        for (name, value) in [
            ("cveId", &fact.cve_id),
            ("artifactDigest", &fact.artifact_digest),
        ] {
            if value.is_empty() || value.chars().any(char::is_control) {
                return Err(FederationError::InvalidFact {
                    index,
                    detail: format!(
                        "expected a non-empty `{name}` without control characters, found {value:?}"
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Buckets facts in `window` per CVE, suppresses those with fewer than `k` distinct artifacts,
/// and noises the rest with `epsilon` split evenly across them. Noise is drawn in `cveId`
/// order, so the result does not depend on the order of `facts`.
pub(crate) fn aggregate_buckets<R: RngCore + ?Sized>(
    facts: &[Fact],
    window: Window,
    k: u64,
    sensitivity: f64,
    epsilon: f64,
    rng: &mut R,
) -> Result<Buckets, FederationError> {
    check_facts(facts)?;
    let mut exact: BTreeMap<&str, Exact> = BTreeMap::new();
    for fact in facts.iter().filter(|f| window.contains(f.observed_at)) {
        let entry = exact.entry(fact.cve_id.as_str()).or_default();
        entry.artifacts.insert(fact.artifact_digest.clone());
        entry.observations += 1;
    }
    let before = exact.len() as u64;
    exact.retain(|_, e| e.artifacts.len() as u64 >= k);
    let suppressed = before - exact.len() as u64;
    if exact.is_empty() {
        return Ok(Buckets {
            buckets: Vec::new(),
            suppressed,
            epsilon_per_bucket: None,
        });
    }
    let epsilon_per_bucket = epsilon / exact.len() as f64;
    let noise = LaplaceNoise::new(sensitivity, epsilon_per_bucket)?;
    let mut buckets: Vec<AggregateBucket> = exact
        .into_iter()
        .map(|(cve_id, e)| {
            let artifact_count = e.artifacts.len() as u64;
            AggregateBucket {
                cve_id: cve_id.to_owned(),
                noisy_count: noise.noisy_count(artifact_count, rng),
                artifact_count,
                observation_count: e.observations,
            }
        })
        .collect();
    buckets.sort_by(AggregateBucket::payload_order);
    Ok(Buckets {
        buckets,
        suppressed,
        epsilon_per_bucket: Some(epsilon_per_bucket),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::seeded_rng;
    use proptest::prelude::*;

    const NOW: i64 = 1_772_618_400;
    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }
    fn window() -> Window {
        Window::new(t(NOW - 86_400), t(NOW)).unwrap()
    }
    fn facts(cve: &str, artifacts: usize, per_artifact: usize) -> Vec<Fact> {
        (0..artifacts)
            .flat_map(|a| {
                (0..per_artifact).map(move |o| {
                    Fact::new(cve, format!("sha256:{a:064x}"), t(NOW - 3600 - o as i64))
                })
            })
            .collect()
    }

    #[test]
    fn k_anonymity_suppresses_at_k_minus_1_and_publishes_at_k() {
        let mut all = facts("CVE-2025-0001", 4, 3); // k - 1 distinct artifacts
        all.extend(facts("CVE-2025-0002", 5, 2)); // k
        all.extend(facts("CVE-2025-0003", 6, 1)); // k + 1
        let out = aggregate_buckets(&all, window(), 5, 1.0, 1.0, &mut seeded_rng(1)).unwrap();
        let cves: Vec<&str> = out.buckets.iter().map(|b| b.cve_id.as_str()).collect();
        assert_eq!(cves, ["CVE-2025-0002", "CVE-2025-0003"]);
        assert_eq!(out.suppressed, 1);
        assert_eq!(out.buckets[0].artifact_count, 5);
        assert_eq!(out.buckets[0].observation_count, 10);
        assert_eq!(out.buckets[1].artifact_count, 6);
        assert_eq!(out.epsilon_per_bucket, Some(0.5));
        // Many observations of 4 artifacts are still 4 artifacts: suppressed.
        let many = facts("CVE-2025-0001", 4, 50);
        let out = aggregate_buckets(&many, window(), 5, 1.0, 1.0, &mut seeded_rng(1)).unwrap();
        assert!(out.buckets.is_empty());
        assert_eq!((out.suppressed, out.epsilon_per_bucket), (1, None));
    }

    #[test]
    fn facts_outside_the_window_do_not_count() {
        let mut all = facts("CVE-2025-0002", 5, 1);
        all.push(Fact::new("CVE-2025-0002", "sha256:late", t(NOW)));
        all.push(Fact::new("CVE-2025-0002", "sha256:early", t(NOW - 86_401)));
        let out = aggregate_buckets(&all, window(), 5, 1.0, 1.0, &mut seeded_rng(1)).unwrap();
        assert_eq!(out.buckets[0].artifact_count, 5);
        assert_eq!(out.buckets[0].observation_count, 5);
    }

    #[test]
    fn bad_facts_and_windows_are_refused() {
        let bad = [
            Fact::new("CVE-1", "sha256:a", t(NOW)),
            Fact::new("", "sha256:a", t(NOW)),
        ];
        let err = aggregate_buckets(&bad, window(), 5, 1.0, 1.0, &mut seeded_rng(1)).unwrap_err();
        assert_eq!(err.code(), "federation.aggregate.invalid_fact");
        assert!(
            err.to_string().contains("#1") && err.to_string().contains("cveId"),
            "{err}"
        );
        assert!(Window::new(t(NOW), t(NOW)).is_err());
        assert!(Window::new(DateTime::from_timestamp(NOW, 1).unwrap(), t(NOW + 1)).is_err());
    }

    #[test]
    fn payload_order_is_cve_then_noisy_desc_then_counts() {
        let b = |cve: &str, n, a, o| AggregateBucket {
            cve_id: cve.into(),
            noisy_count: n,
            artifact_count: a,
            observation_count: o,
        };
        let mut v = vec![
            b("CVE-b", 1, 1, 1),
            b("CVE-a", 1, 2, 1),
            b("CVE-a", 3, 9, 9),
            b("CVE-a", 1, 2, 0),
            b("CVE-B", 0, 0, 0),
        ];
        v.sort_by(AggregateBucket::payload_order);
        assert_eq!(
            v,
            [
                b("CVE-B", 0, 0, 0),
                b("CVE-a", 3, 9, 9),
                b("CVE-a", 1, 2, 0),
                b("CVE-a", 1, 2, 1),
                b("CVE-b", 1, 1, 1)
            ]
        );
    }

    proptest! {
        /// Aggregation (and so the bundle) does not depend on the order facts arrive in.
        #[test]
        fn order_of_facts_does_not_matter(
            spec in proptest::collection::vec((0u8..6, 0u8..12, 0i64..90_000), 0..120),
            seed in any::<u64>(),
            k in 1u64..6,
        ) {
            let facts: Vec<Fact> = spec.iter().map(|(c, a, o)| {
                Fact::new(format!("CVE-2025-{c:04}"), format!("sha256:{a:02x}"), t(NOW - o))
            }).collect();
            let mut reversed = facts.clone();
            reversed.reverse();
            let mut rotated = facts.clone();
            if !rotated.is_empty() { let n = seed as usize % rotated.len(); rotated.rotate_left(n); }
            let a = aggregate_buckets(&facts, window(), k, 1.0, 1.0, &mut seeded_rng(seed)).unwrap();
            let b = aggregate_buckets(&reversed, window(), k, 1.0, 1.0, &mut seeded_rng(seed)).unwrap();
            let c = aggregate_buckets(&rotated, window(), k, 1.0, 1.0, &mut seeded_rng(seed)).unwrap();
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(&a, &c);
            for bucket in &a.buckets {
                prop_assert!(bucket.artifact_count >= k);
                prop_assert!(bucket.observation_count >= bucket.artifact_count);
            }
        }
    }
}
