//! [`FederatedTelemetryOptions`]: everything a site decides about federation, validated once
//! by a builder. Risky choices have their own clearly named door
//! ([`FederatedTelemetryOptionsBuilder::dangerous_allow_unsigned_fallback`]).

use crate::budget::{PrivacyBudget, to_micros};
use crate::error::FederationError;
use chrono::TimeDelta;
use stellaops_dsse::sign::UnsignedFallback;
use stellaops_dsse::verify::TrustedKeys;

/// The federation settings of one site (the reference implementation's
/// `FederatedTelemetryOptions`).
#[derive(Debug, Clone)]
pub struct FederatedTelemetryOptions {
    site_id: String,
    k_anonymity: u64,
    epsilon_budget: f64,
    epsilon_per_query: f64,
    budget_period: TimeDelta,
    sensitivity: f64,
    trusted_keys: TrustedKeys,
    threshold: usize,
    signer_key_id: Option<String>,
    unsigned_fallback: UnsignedFallback,
    sealed: bool,
    /// A fresh budget with these settings (validated by the builder).
    budget: PrivacyBudget,
}

impl FederatedTelemetryOptions {
    /// The default k: buckets with fewer distinct artifact digests are suppressed.
    pub const DEFAULT_K_ANONYMITY: u64 = 5;
    /// The default epsilon per budget period.
    pub const DEFAULT_EPSILON_BUDGET: f64 = 1.0;
    /// The default budget period: 24 h (a UTC day).
    pub const DEFAULT_BUDGET_PERIOD: TimeDelta = TimeDelta::hours(24);
    /// How many aggregations fit in a period by default: the default epsilon per query is the
    /// budget divided by this.
    pub const DEFAULT_QUERIES_PER_PERIOD: u32 = 4;

    /// A builder for site `site_id` with the defaults: k = 5, epsilon 1.0 per 24 h, 0.25 per
    /// aggregation, sensitivity 1, no trusted keys, threshold 1, every configured signer,
    /// unsigned fallback refused, not sealed.
    pub fn builder(site_id: impl Into<String>) -> FederatedTelemetryOptionsBuilder {
        FederatedTelemetryOptionsBuilder {
            site_id: site_id.into(),
            k_anonymity: Self::DEFAULT_K_ANONYMITY,
            epsilon_budget: Self::DEFAULT_EPSILON_BUDGET,
            epsilon_per_query: None,
            budget_period: Self::DEFAULT_BUDGET_PERIOD,
            sensitivity: 1.0,
            trusted_keys: TrustedKeys::new(),
            threshold: 1,
            signer_key_id: None,
            unsigned_fallback: UnsignedFallback::Refuse,
            sealed: false,
        }
    }

    /// This site's id, written into every bundle.
    pub fn site_id(&self) -> &str {
        &self.site_id
    }
    /// k: the fewest distinct artifact digests a published bucket has.
    pub fn k_anonymity(&self) -> u64 {
        self.k_anonymity
    }
    /// Epsilon per budget period, per tenant.
    pub fn epsilon_budget(&self) -> f64 {
        self.epsilon_budget
    }
    /// Epsilon one aggregation spends (split across its published buckets).
    pub fn epsilon_per_query(&self) -> f64 {
        self.epsilon_per_query
    }
    /// The budget period.
    pub fn budget_period(&self) -> TimeDelta {
        self.budget_period
    }
    /// How much one artifact can change one bucket's noised count (1: each artifact is counted
    /// once per bucket).
    pub fn sensitivity(&self) -> f64 {
        self.sensitivity
    }
    /// The keys bundles and consent proofs from peers must be signed with.
    pub fn trusted_keys(&self) -> &TrustedKeys {
        &self.trusted_keys
    }
    /// How many distinct trusted keys must sign.
    pub fn threshold(&self) -> usize {
        self.threshold
    }
    /// The key id this site signs with; `None` signs with every configured signer.
    pub fn signer_key_id(&self) -> Option<&str> {
        self.signer_key_id.as_deref()
    }
    /// Whether an `offline-unsigned-fallback` envelope may be written when no signer is
    /// available, and accepted from peers.
    pub fn unsigned_fallback(&self) -> UnsignedFallback {
        self.unsigned_fallback
    }
    /// Whether the site starts sealed (no bundle leaves; building is allowed).
    pub fn sealed(&self) -> bool {
        self.sealed
    }
    /// A fresh per-tenant budget with these settings.
    pub(crate) fn new_budget(&self) -> PrivacyBudget {
        self.budget.clone()
    }
}

/// Builds [`FederatedTelemetryOptions`]; [`build`](Self::build) validates.
#[derive(Debug, Clone)]
#[must_use]
pub struct FederatedTelemetryOptionsBuilder {
    site_id: String,
    k_anonymity: u64,
    epsilon_budget: f64,
    epsilon_per_query: Option<f64>,
    budget_period: TimeDelta,
    sensitivity: f64,
    trusted_keys: TrustedKeys,
    threshold: usize,
    signer_key_id: Option<String>,
    unsigned_fallback: UnsignedFallback,
    sealed: bool,
}

impl FederatedTelemetryOptionsBuilder {
    /// k for k-anonymity (at least 1; 1 disables suppression).
    pub fn k_anonymity(mut self, k: u64) -> Self {
        self.k_anonymity = k;
        self
    }
    /// Epsilon per budget period, per tenant.
    pub fn epsilon_budget(mut self, epsilon: f64) -> Self {
        self.epsilon_budget = epsilon;
        self
    }
    /// Epsilon one aggregation spends (default: the budget / 4).
    pub fn epsilon_per_query(mut self, epsilon: f64) -> Self {
        self.epsilon_per_query = Some(epsilon);
        self
    }
    /// The budget period (whole seconds).
    pub fn budget_period(mut self, period: TimeDelta) -> Self {
        self.budget_period = period;
        self
    }
    /// The sensitivity of one bucket's count.
    pub fn sensitivity(mut self, sensitivity: f64) -> Self {
        self.sensitivity = sensitivity;
        self
    }
    /// The keys peers' bundles and consent proofs must verify with.
    pub fn trusted_keys(mut self, keys: TrustedKeys) -> Self {
        self.trusted_keys = keys;
        self
    }
    /// How many distinct trusted keys must sign (default 1).
    pub fn threshold(mut self, threshold: usize) -> Self {
        self.threshold = threshold;
        self
    }
    /// Sign with the configured signer of this key id only.
    pub fn signer_key_id(mut self, key_id: impl Into<String>) -> Self {
        self.signer_key_id = Some(key_id.into());
        self
    }
    /// Write an unsigned `offline-unsigned-fallback` envelope when no signer is available, and
    /// accept such envelopes from peers. Their payloads are **not authenticated**.
    pub fn dangerous_allow_unsigned_fallback(mut self) -> Self {
        self.unsigned_fallback = UnsignedFallback::Allow;
        self
    }
    /// Start sealed: bundles can be built but not sent.
    pub fn sealed(mut self, sealed: bool) -> Self {
        self.sealed = sealed;
        self
    }

    /// Validates and builds.
    ///
    /// # Errors
    /// [`FederationError::InvalidOptions`]: an empty or padded site id, k = 0, an epsilon that
    /// is not finite and positive (or below 0.000001), an epsilon per query above the budget,
    /// a period that is not whole seconds of at least 1 s, a sensitivity that is not finite and
    /// positive, a threshold of 0, or an empty signer key id.
    pub fn build(self) -> Result<FederatedTelemetryOptions, FederationError> {
        if self.site_id.is_empty() || self.site_id.trim() != self.site_id {
            return Err(FederationError::options(format!(
                "expected a non-empty site id without surrounding whitespace, found `{}`",
                self.site_id
            )));
        }
        if self.k_anonymity == 0 {
            return Err(FederationError::options(
                "expected k-anonymity k of at least 1, found 0",
            ));
        }
        let budget = to_micros("the epsilon budget", self.epsilon_budget)?;
        let per_query = self.epsilon_per_query.unwrap_or(
            self.epsilon_budget / f64::from(FederatedTelemetryOptions::DEFAULT_QUERIES_PER_PERIOD),
        );
        if to_micros("the epsilon per query", per_query)? > budget {
            return Err(FederationError::options(format!(
                "expected the epsilon per query ({per_query}) to be at most the epsilon budget \
                 ({})",
                self.epsilon_budget
            )));
        }
        let budget = PrivacyBudget::new(self.epsilon_budget, self.budget_period)?;
        crate::noise::LaplaceNoise::new(self.sensitivity, per_query)?;
        if self.threshold == 0 {
            return Err(FederationError::options(
                "expected a signature threshold of at least 1, found 0",
            ));
        }
        if self.signer_key_id.as_deref() == Some("") {
            return Err(FederationError::options(
                "expected a non-empty signer key id, found an empty one",
            ));
        }
        Ok(FederatedTelemetryOptions {
            site_id: self.site_id,
            k_anonymity: self.k_anonymity,
            epsilon_budget: self.epsilon_budget,
            epsilon_per_query: per_query,
            budget_period: self.budget_period,
            sensitivity: self.sensitivity,
            trusted_keys: self.trusted_keys,
            threshold: self.threshold,
            signer_key_id: self.signer_key_id,
            unsigned_fallback: self.unsigned_fallback,
            sealed: self.sealed,
            budget,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_reference() {
        let o = FederatedTelemetryOptions::builder("site-a")
            .build()
            .unwrap();
        assert_eq!(o.site_id(), "site-a");
        assert_eq!(o.k_anonymity(), 5);
        assert_eq!(o.epsilon_budget(), 1.0);
        assert_eq!(o.epsilon_per_query(), 0.25);
        assert_eq!(o.budget_period(), TimeDelta::hours(24));
        assert_eq!(o.sensitivity(), 1.0);
        assert_eq!(o.threshold(), 1);
        assert_eq!(o.signer_key_id(), None);
        assert_eq!(o.unsigned_fallback(), UnsignedFallback::Refuse);
        assert!(!o.sealed());
        let o = FederatedTelemetryOptions::builder("s")
            .epsilon_budget(2.0)
            .dangerous_allow_unsigned_fallback()
            .sealed(true)
            .signer_key_id("k")
            .build()
            .unwrap();
        assert_eq!(o.epsilon_per_query(), 0.5);
        assert_eq!(o.unsigned_fallback(), UnsignedFallback::Allow);
        assert!(o.sealed());
        assert_eq!(o.signer_key_id(), Some("k"));
    }

    #[test]
    fn refuses_what_cannot_work() {
        let b = || FederatedTelemetryOptions::builder("site-a");
        let cases = [
            (FederatedTelemetryOptions::builder(""), "site id"),
            (FederatedTelemetryOptions::builder(" a"), "site id"),
            (b().k_anonymity(0), "k-anonymity"),
            (b().epsilon_budget(0.0), "epsilon budget"),
            (b().epsilon_budget(f64::INFINITY), "epsilon budget"),
            (b().epsilon_per_query(1.5), "at most the epsilon budget"),
            (b().epsilon_per_query(-0.1), "epsilon per query"),
            (b().budget_period(TimeDelta::zero()), "period"),
            (b().sensitivity(0.0), "sensitivity"),
            (b().threshold(0), "threshold"),
            (b().signer_key_id(""), "signer key id"),
        ];
        for (builder, needle) in cases {
            let err = builder.build().unwrap_err();
            assert_eq!(err.code(), "federation.options.invalid");
            assert!(err.to_string().contains(needle), "{err} / {needle}");
        }
    }
}
