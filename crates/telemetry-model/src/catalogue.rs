//! The metric catalogue's specifications: every metric a Stella Ops service exposes, with its
//! exposed name, kind, label names and help text, in exposition order: the standard request,
//! job and queue metrics, the policy, scanner and authority module metrics, and the
//! telemetry pipeline's own meta-metrics.
//!
//! Not the metrics themselves: `stellaops-telemetry-core` registers and records them;
//! dashboards and alert rules are generated from these specifications.

/// The kind of a catalogue metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Monotonic counter (exposed with `_total`).
    Counter,
    /// Gauge.
    Gauge,
    /// Histogram (exposed as `_bucket`, `_sum`, `_count`).
    Histogram,
}

/// One catalogue entry, as exposed on `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricSpec {
    /// The exposed family name (counters include `_total`).
    pub name: &'static str,
    /// Counter, gauge or histogram.
    pub kind: MetricKind,
    /// Label names, in order.
    pub labels: &'static [&'static str],
    /// What it measures.
    pub help: &'static str,
}

macro_rules! catalogue {
    ($( $konst:ident = $name:literal, $kind:ident, [$($label:literal),*], $help:literal; )*) => {
        $(
            #[doc = concat!("`", $name, "`: ", $help)]
            pub const $konst: MetricSpec = MetricSpec {
                name: $name,
                kind: MetricKind::$kind,
                labels: &[$($label),*],
                help: $help,
            };
        )*
        /// Every metric of the catalogue, in exposition order.
        pub const CATALOGUE: &[MetricSpec] = &[$($konst),*];
    };
}

catalogue! {
    REQUEST_DURATION = "stellaops_request_duration_seconds", Histogram, ["service", "endpoint"], "Request latency";
    REQUEST_TOTAL = "stellaops_request_total", Counter, ["service", "status"], "Request count";
    ACTIVE_JOBS = "stellaops_active_jobs", Gauge, ["tenant", "job_type"], "Active job count";
    QUEUE_DEPTH = "stellaops_queue_depth", Gauge, ["queue"], "Queue depth";
    SCAN_DURATION = "stellaops_scan_duration_seconds", Histogram, ["tenant"], "Scan duration";
    CIRCUIT_BREAKER_OPEN = "stellaops_circuit_breaker_open", Gauge, ["service", "breaker"], "Whether a circuit breaker is open (1) or closed (0)";
    POLICY_RUN = "policy_run_seconds", Histogram, ["mode", "tenant", "policy"], "Policy run duration";
    POLICY_RULES_FIRED = "policy_rules_fired_total", Counter, ["policy", "rule"], "Policy rules fired";
    POLICY_VEX_OVERRIDES = "policy_vex_overrides_total", Counter, ["policy", "vendor"], "VEX overrides applied by policy";
    SCANNER_SBOM_COMPONENTS = "scanner_sbom_components_total", Counter, ["ecosystem"], "SBOM components catalogued";
    SCANNER_VULNERABILITIES = "scanner_vulnerabilities_found_total", Counter, ["severity"], "Vulnerabilities found";
    SCANNER_ATTESTATIONS = "scanner_attestations_logged_total", Counter, [], "Attestations logged";
    AUTHORITY_TOKEN_ISSUED = "authority_token_issued_total", Counter, ["grant_type", "audience"], "Tokens issued";
    AUTHORITY_TOKEN_REJECTED = "authority_token_rejected_total", Counter, ["reason"], "Tokens rejected";
    AUTHORITY_DPOP_NONCE_MISS = "authority_dpop_nonce_miss_total", Counter, [], "DPoP nonce misses";
    COLLECTOR_EXPORT_FAILURES = "collector_export_failures_total", Counter, ["signal", "exporter"], "Export batches that failed to reach their destination";
    OTLP_EXPORT_FAILURES = "telemetry_otlp_export_failures_total", Counter, ["signal"], "OTLP export batches that failed";
    EXPORT_DROPPED = "telemetry_export_dropped_total", Counter, ["signal"], "Items dropped because an export queue was full";
    BUNDLE_GENERATION = "telemetry_bundle_generation_seconds", Histogram, [], "Time to generate a signed offline bundle";
    INCIDENT_MODE = "telemetry_incident_mode", Gauge, ["state"], "Tenants by incident (forensic) mode state";
    SAMPLER_TRACES = "telemetry_sampler_traces_total", Counter, ["decision", "reason"], "Traces decided by the tail sampler, by decision and reason";
    SAMPLER_SPANS = "telemetry_sampler_spans_total", Counter, ["decision", "reason"], "Spans exported or discarded by the tail sampler, by the decision that applied";
    SAMPLER_EARLY_DECISIONS = "telemetry_sampler_early_decisions_total", Counter, ["cause"], "Traces the tail sampler decided early because a bound was reached or the maximum wait passed";
    SCRUB_EVENTS = "telemetry_scrub_events_total", Counter, ["tenant", "reason"], "Values redacted before leaving the process";
    LABEL_OVERFLOW = "telemetry_label_overflow_total", Counter, ["metric", "label"], "Label values folded into the overflow value by the cardinality guard";
}
