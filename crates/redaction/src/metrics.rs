//! The `telemetry_scrub_events_total{tenant,reason}` counter family (prometheus-client), fed
//! from [`Report`]s. Registering it is the service's choice; this module does not own a
//! registry.

use std::fmt::Write as _;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use crate::reason::{Reason, Report};

/// The labels of `telemetry_scrub_events_total`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, EncodeLabelSet)]
pub struct ScrubLabels {
    /// The tenant whose record was scrubbed.
    pub tenant: String,
    /// Why.
    pub reason: Reason,
}

impl EncodeLabelValue for Reason {
    fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> std::fmt::Result {
        encoder.write_str(self.as_str())
    }
}

/// Counts scrub events per tenant and reason: `telemetry_scrub_events_total`.
///
/// ```
/// use prometheus_client::registry::Registry;
/// use stellaops_redaction::{RedactionPolicy, Redactor, ScrubMetrics};
///
/// let redactor = Redactor::new(RedactionPolicy::default());
/// let metrics = ScrubMetrics::new();
/// let mut registry = Registry::default();
/// metrics.register(&mut registry);
///
/// let (_, report) = redactor.redact_text("login with password=hunter2");
/// metrics.record("acme", report);
/// assert_eq!(metrics.count("acme", stellaops_redaction::Reason::Secret), 1);
///
/// let mut text = String::new();
/// prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
/// assert!(text.contains(r#"telemetry_scrub_events_total{tenant="acme",reason="secret"} 1"#));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ScrubMetrics {
    events: Family<ScrubLabels, Counter>,
}

impl ScrubMetrics {
    /// The metric's name without the `_total` suffix prometheus-client appends to counters.
    pub const NAME: &'static str = "telemetry_scrub_events";

    /// An empty family.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers the family as `telemetry_scrub_events_total` in `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            Self::NAME,
            "Values, text spans and keys redacted before telemetry left the process, by tenant and reason",
            self.events.clone(),
        );
    }

    /// Adds one event per reason in `report` (nothing for a clean report).
    pub fn record(&self, tenant: &str, report: Report) {
        for reason in report.reasons().iter() {
            self.events
                .get_or_create(&ScrubLabels {
                    tenant: tenant.to_owned(),
                    reason,
                })
                .inc();
        }
    }

    /// The current count for one tenant and reason.
    #[must_use]
    pub fn count(&self, tenant: &str, reason: Reason) -> u64 {
        self.events
            .get(&ScrubLabels {
                tenant: tenant.to_owned(),
                reason,
            })
            .map_or(0, |counter| counter.get())
    }

    /// The underlying family, for callers that register or encode it themselves.
    #[must_use]
    pub fn family(&self) -> &Family<ScrubLabels, Counter> {
        &self.events
    }
}
