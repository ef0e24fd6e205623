//! Automatic incident triggers: a policy-violation threshold counter per tenant and a
//! circuit-breaker hook. Each starts (or extends) an incident through the controller.
//!
//! Not detectors: the service tells them what happened (a violation, a breaker opening).

use super::controller::{
    IncidentController, IncidentError, IncidentRequest, IncidentSource, IncidentStatus,
};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;
use stellaops_telemetry_model::sync::lock;

/// Starts an incident (source `policy_violation_threshold`) for a tenant when `threshold`
/// policy violations are recorded for it within `window`.
///
/// ```
/// use stellaops_telemetry_core::incident::{IncidentController, ThresholdTrigger};
/// use stellaops_telemetry_core::sampling::ManualClock;
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let incidents = IncidentController::new(Arc::new(ManualClock::at_unix_nanos(0)));
/// let trigger = ThresholdTrigger::new(incidents.clone(), 3, Duration::from_secs(60));
/// assert!(trigger.record_violation("acme", "deny-critical").unwrap().is_none());
/// assert!(trigger.record_violation("acme", "deny-critical").unwrap().is_none());
/// assert!(trigger.record_violation("acme", "deny-critical").unwrap().is_some());
/// assert!(incidents.is_active("acme"));
/// ```
#[derive(Debug)]
pub struct ThresholdTrigger {
    controller: IncidentController,
    threshold: usize,
    window: u64,
    ttl: Option<Duration>,
    seen: Mutex<BTreeMap<String, VecDeque<u64>>>,
}

impl ThresholdTrigger {
    /// A trigger firing at `threshold` violations (at least 1) within `window`.
    pub fn new(controller: IncidentController, threshold: usize, window: Duration) -> Self {
        Self {
            controller,
            threshold: threshold.max(1),
            window: u64::try_from(window.as_nanos()).unwrap_or(u64::MAX),
            ttl: None,
            seen: Mutex::new(BTreeMap::new()),
        }
    }

    /// Incidents it starts last `ttl` (default: the controller's).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Records one violation for `tenant`. Returns the incident when this violation crossed
    /// the threshold (the count then starts again from zero).
    ///
    /// # Errors
    /// As [`IncidentController::start`] (an empty tenant).
    pub fn record_violation(
        &self,
        tenant: &str,
        policy: &str,
    ) -> Result<Option<IncidentStatus>, IncidentError> {
        let now = self.controller.clock().now_nanos();
        let crossed = {
            let mut seen = lock(&self.seen);
            let times = seen.entry(tenant.to_owned()).or_default();
            times.push_back(now);
            while times
                .front()
                .is_some_and(|t| now.saturating_sub(*t) >= self.window)
            {
                times.pop_front();
            }
            let crossed = times.len() >= self.threshold;
            if crossed {
                times.clear();
            }
            crossed
        };
        if !crossed {
            return Ok(None);
        }
        let mut request = IncidentRequest::manual(
            tenant,
            format!(
                "{} policy violations within {:?} (last: {policy})",
                self.threshold,
                Duration::from_nanos(self.window)
            ),
            "policy-violation-threshold",
        )
        .source(IncidentSource::PolicyViolationThreshold);
        request.ttl = self.ttl;
        self.controller.start(request).map(Some)
    }

    /// Violations counted for `tenant` within the window now.
    pub fn count(&self, tenant: &str) -> usize {
        let now = self.controller.clock().now_nanos();
        lock(&self.seen).get(tenant).map_or(0, |t| {
            t.iter()
                .filter(|x| now.saturating_sub(**x) < self.window)
                .count()
        })
    }
}

/// Starts an incident (source `circuit_breaker`) for a tenant when a circuit breaker that
/// serves it opens.
///
/// ```
/// use stellaops_telemetry_core::incident::{CircuitBreakerTrigger, IncidentController};
/// use stellaops_telemetry_core::sampling::ManualClock;
/// use std::sync::Arc;
///
/// let incidents = IncidentController::new(Arc::new(ManualClock::at_unix_nanos(0)));
/// let trigger = CircuitBreakerTrigger::new(incidents.clone());
/// trigger.on_open("acme", "scanner-db").unwrap();
/// assert!(incidents.is_active("acme"));
/// ```
#[derive(Debug, Clone)]
pub struct CircuitBreakerTrigger {
    controller: IncidentController,
    ttl: Option<Duration>,
}

impl CircuitBreakerTrigger {
    /// A trigger starting incidents through `controller`.
    pub fn new(controller: IncidentController) -> Self {
        Self {
            controller,
            ttl: None,
        }
    }

    /// Incidents it starts last `ttl` (default: the controller's).
    #[must_use]
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// The breaker `breaker` opened for `tenant`: starts (or extends) its incident.
    ///
    /// # Errors
    /// As [`IncidentController::start`] (an empty tenant).
    pub fn on_open(&self, tenant: &str, breaker: &str) -> Result<IncidentStatus, IncidentError> {
        let mut request = IncidentRequest::manual(
            tenant,
            format!("circuit breaker `{breaker}` opened"),
            "circuit-breaker",
        )
        .source(IncidentSource::CircuitBreaker);
        request.ttl = self.ttl;
        self.controller.start(request)
    }
}
