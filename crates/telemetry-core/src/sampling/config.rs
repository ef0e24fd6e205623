//! Tail sampling settings ([`SamplingConfig`]) and why a setting is refused.
//!
//! Not the engine that applies them (`engine`).

use std::time::Duration;

/// What to do with the sampled flag of a remote parent (the upstream service's decision).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UpstreamPolicy {
    /// Ignore it: decide by the local rules only.
    Ignore,
    /// Keep the trace when upstream sampled it; otherwise decide by the local rules.
    #[default]
    KeepSampled,
    /// Follow it both ways (after error, slow, forensic and audit, which always keep).
    Follow,
}

/// Tail sampling settings. [`SamplingConfig::validate`] refuses unusable values.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingConfig {
    /// Ratio of ordinary traces kept (the TraceIdRatioBased rule); default 0.10.
    pub ratio: f64,
    /// Traces at least this long are kept; default 2 s.
    pub slow_threshold: Duration,
    /// How long after the local root ends stragglers are still awaited; default 100 ms.
    pub grace_period: Duration,
    /// The longest a trace is buffered, root ended or not; default 30 s.
    pub max_wait: Duration,
    /// Most traces buffered at once; default 10 000.
    pub max_traces: usize,
    /// Most spans buffered at once (all traces); default 100 000.
    pub max_spans: usize,
    /// Decisions remembered for late spans; default 50 000.
    pub decision_cache: usize,
    /// What to do with an upstream sampled flag; default [`UpstreamPolicy::KeepSampled`].
    pub upstream: UpstreamPolicy,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        Self {
            ratio: 0.10,
            slow_threshold: Duration::from_secs(2),
            grace_period: Duration::from_millis(100),
            max_wait: Duration::from_secs(30),
            max_traces: 10_000,
            max_spans: 100_000,
            decision_cache: 50_000,
            upstream: UpstreamPolicy::default(),
        }
    }
}

/// A sampling setting that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SamplingConfigError {
    /// The ratio is not a number between 0 and 1.
    #[error("sampling ratio must be a number between 0 and 1 (inclusive), found {0}")]
    Ratio(f64),
    /// A bound is zero.
    #[error("sampling bound `{0}` must be at least 1, found 0")]
    ZeroBound(&'static str),
    /// The maximum wait is shorter than the grace period.
    #[error(
        "sampling max_wait ({max_wait:?}) must be at least the grace period ({grace_period:?})"
    )]
    MaxWait {
        /// The configured maximum wait.
        max_wait: Duration,
        /// The configured grace period.
        grace_period: Duration,
    },
}

impl SamplingConfigError {
    /// Stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Ratio(_) => "telemetry.sampling.invalid_ratio",
            Self::ZeroBound(_) => "telemetry.sampling.zero_bound",
            Self::MaxWait { .. } => "telemetry.sampling.invalid_max_wait",
        }
    }
}

impl SamplingConfig {
    /// Checks the ratio (in `[0, 1]`), the bounds (at least 1) and that `max_wait` is not
    /// shorter than `grace_period`.
    ///
    /// # Errors
    /// The first [`SamplingConfigError`] found.
    pub fn validate(&self) -> Result<(), SamplingConfigError> {
        if !(0.0..=1.0).contains(&self.ratio) {
            return Err(SamplingConfigError::Ratio(self.ratio));
        }
        for (name, v) in [
            ("max_traces", self.max_traces),
            ("max_spans", self.max_spans),
            ("decision_cache", self.decision_cache),
        ] {
            if v == 0 {
                return Err(SamplingConfigError::ZeroBound(name));
            }
        }
        if self.max_wait < self.grace_period {
            return Err(SamplingConfigError::MaxWait {
                max_wait: self.max_wait,
                grace_period: self.grace_period,
            });
        }
        Ok(())
    }
}
