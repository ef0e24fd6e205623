//! The egress guard: applies a policy to exporters, warns once per refused exporter, counts
//! decisions.
//!
//! Exporters are decided when they are built and again when sealing changes, not per batch;
//! the guard remembers each exporter's last decision so a repeated denial stays quiet until
//! the decision changes.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::policy::{EgressDecision, EgressPolicy, EgressRequest, Unrestricted};
use stellaops_telemetry_model::Signal;
use stellaops_telemetry_model::sync::lock;

/// The `tracing` target of the guard's events.
pub const EVENT_TARGET: &str = "stellaops_egress_policy";

/// The counter's name as exposed: `telemetry_egress_decisions_total`.
pub const DECISIONS_METRIC: &str = "telemetry_egress_decisions_total";

/// How many exporters the guard remembers; beyond that, new exporters warn on every denial
/// (loud rather than silent) and memory stays bounded.
pub const MAX_TRACKED_EXPORTERS: usize = 1024;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    signal: &'static str,
    decision: &'static str,
}

/// The guard's counter family `telemetry_egress_decisions_total{signal, decision}`, where
/// `signal` is `traces|metrics|logs` and `decision` is `allowed|denied`. Every combination is
/// exposed from the start (at 0), so alerts on denials need no `absent()`.
#[derive(Debug, Clone)]
pub struct EgressMetrics {
    decisions: Family<DecisionLabels, Counter>,
}

impl EgressMetrics {
    /// A new family with every series at 0.
    pub fn new() -> Self {
        let decisions = Family::<DecisionLabels, Counter>::default();
        for signal in Signal::ALL {
            for decision in ["allowed", "denied"] {
                decisions
                    .get_or_create(&DecisionLabels {
                        signal: signal.as_str(),
                        decision,
                    })
                    .get();
            }
        }
        EgressMetrics { decisions }
    }

    /// Registers the family into `registry` (as `telemetry_egress_decisions_total`, or under
    /// the registry's prefix).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "telemetry_egress_decisions",
            "Egress decisions taken for telemetry exporters, by signal and decision (allowed or denied)",
            self.decisions.clone(),
        );
    }

    /// How many decisions for `signal` were allowing (`allowed = true`) or denying.
    pub fn count(&self, signal: Signal, allowed: bool) -> u64 {
        self.decisions
            .get_or_create(&DecisionLabels {
                signal: signal.as_str(),
                decision: decision_label(allowed),
            })
            .get()
    }

    fn record(&self, signal: Signal, allowed: bool) {
        self.decisions
            .get_or_create(&DecisionLabels {
                signal: signal.as_str(),
                decision: decision_label(allowed),
            })
            .inc();
    }
}

impl Default for EgressMetrics {
    fn default() -> Self {
        EgressMetrics::new()
    }
}

fn decision_label(allowed: bool) -> &'static str {
    if allowed { "allowed" } else { "denied" }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct ExporterKey {
    component: String,
    signal: Signal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Remembered {
    allowed: bool,
    endpoint: String,
    reason: String,
}

/// Applies an [`EgressPolicy`] to exporters.
///
/// For each [`decide`](Self::decide) it counts the decision and, when an exporter (a
/// component and signal) is refused, emits one `WARN` event with target [`EVENT_TARGET`] and
/// the fields `component`, `intent`, `signal`, `endpoint` (redacted), `class`, `reason` and
/// `remediation`. Deciding the same exporter again with the same outcome emits nothing; a
/// different outcome (another endpoint, another reason, or allowed in between) warns again.
/// An exporter allowed after a refusal emits one `INFO` event with the same fields.
///
/// ```
/// use stellaops_egress_policy::*;
///
/// let mode = SealedMode::new(SealState::Sealed);
/// let guard = EgressGuard::new(SealedModePolicy::new(mode.clone()));
/// let mut registry = prometheus_client::registry::Registry::default();
/// guard.metrics().register(&mut registry);
///
/// let traces = EgressRequest::new("otlp", Signal::Traces, Endpoint::parse("collector:4317"));
/// assert!(!guard.decide(&traces).allowed()); // one warning
/// assert!(!guard.decide(&traces).allowed()); // no second warning
/// mode.unseal();
/// assert!(guard.decide(&traces).allowed());
/// assert_eq!(guard.metrics().count(Signal::Traces, false), 2);
/// ```
pub struct EgressGuard {
    policy: Arc<dyn EgressPolicy>,
    metrics: EgressMetrics,
    last: Mutex<HashMap<ExporterKey, Remembered>>,
}

impl EgressGuard {
    /// A guard applying `policy`.
    pub fn new(policy: impl EgressPolicy + 'static) -> Self {
        EgressGuard::with_shared(Arc::new(policy))
    }

    /// A guard applying a shared policy.
    pub fn with_shared(policy: Arc<dyn EgressPolicy>) -> Self {
        EgressGuard {
            policy,
            metrics: EgressMetrics::new(),
            last: Mutex::new(HashMap::new()),
        }
    }

    /// A guard for "no policy configured": every valid endpoint is allowed.
    pub fn unrestricted() -> Self {
        EgressGuard::new(Unrestricted)
    }

    /// The guard's decision counters.
    pub fn metrics(&self) -> &EgressMetrics {
        &self.metrics
    }

    /// The policy applied.
    pub fn policy(&self) -> &Arc<dyn EgressPolicy> {
        &self.policy
    }

    /// Decides `request`, counts it, and warns if this exporter is newly refused.
    pub fn decide(&self, request: &EgressRequest) -> EgressDecision {
        let decision = self.policy.decide(request);
        self.metrics.record(request.signal(), decision.allowed());
        let now = Remembered {
            allowed: decision.allowed(),
            endpoint: request.endpoint().as_str().to_owned(),
            reason: decision.reason().to_owned(),
        };
        let key = ExporterKey {
            component: request.component().to_owned(),
            signal: request.signal(),
        };
        let previous = {
            let mut last = lock(&self.last);
            if last.len() >= MAX_TRACKED_EXPORTERS && !last.contains_key(&key) {
                None
            } else {
                last.insert(key, now.clone())
            }
        };
        if previous.as_ref() == Some(&now) {
            return decision;
        }
        let endpoint = request.endpoint();
        if !decision.allowed() {
            tracing::warn!(
                target: EVENT_TARGET,
                component = request.component(),
                intent = request.intent(),
                signal = request.signal().as_str(),
                endpoint = %endpoint.redacted(),
                class = endpoint.class().as_str(),
                reason = decision.reason(),
                remediation = decision.remediation().unwrap_or_default(),
                "telemetry exporter refused by the egress policy"
            );
        } else if previous.is_some_and(|p| !p.allowed) {
            tracing::info!(
                target: EVENT_TARGET,
                component = request.component(),
                intent = request.intent(),
                signal = request.signal().as_str(),
                endpoint = %endpoint.redacted(),
                class = endpoint.class().as_str(),
                reason = decision.reason(),
                remediation = "",
                "telemetry exporter allowed again by the egress policy"
            );
        }
        decision
    }

    /// Forgets an exporter (when it is removed), so a later refusal warns again.
    pub fn forget(&self, component: &str, signal: Signal) {
        let key = ExporterKey {
            component: component.to_owned(),
            signal,
        };
        lock(&self.last).remove(&key);
    }
}

impl fmt::Debug for EgressGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tracked = lock(&self.last).len();
        f.debug_struct("EgressGuard")
            .field("tracked_exporters", &tracked)
            .finish_non_exhaustive()
    }
}
