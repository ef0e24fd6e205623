//! The metric catalogue: every metric a Stella Ops service exposes (specifications from
//! `stellaops-telemetry-model`), typed label sets, and handles that skip the label lookup on hot
//! paths.
//!
//! Not an aggregation engine: values live in prometheus-client metrics, encoded on scrape.

pub use stellaops_telemetry_model::catalogue::*;

use super::guard::{CardinalityGuard, LabelValue};
use prometheus_client::encoding::{EncodeLabel, EncodeLabelSet, LabelSetEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use std::sync::Arc;

macro_rules! label_set {
    ($(#[$meta:meta])* $name:ident { $($field:ident => $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name {
            $(
                #[doc = concat!("Label `", $label, "`.")]
                pub $field: LabelValue,
            )+
        }

        impl EncodeLabelSet for $name {
            fn encode(&self, encoder: &mut LabelSetEncoder<'_>) -> Result<(), std::fmt::Error> {
                $( ($label, self.$field.clone()).encode(encoder.encode_label())?; )+
                Ok(())
            }
        }
    };
}

label_set!(/// `{service, endpoint}`
    ServiceEndpoint { service => "service", endpoint => "endpoint" });
label_set!(/// `{service, status}`
    ServiceStatus { service => "service", status => "status" });
label_set!(/// `{tenant, job_type}` (the specification writes `jobType`; see ADR 0004)
    TenantJobType { tenant => "tenant", job_type => "job_type" });
label_set!(/// `{service, breaker}`
    ServiceBreaker { service => "service", breaker => "breaker" });
label_set!(/// `{queue}`
    QueueLabel { queue => "queue" });
label_set!(/// `{tenant}`
    TenantLabel { tenant => "tenant" });
label_set!(/// `{mode, tenant, policy}`
    PolicyRun { mode => "mode", tenant => "tenant", policy => "policy" });
label_set!(/// `{policy, rule}`
    PolicyRule { policy => "policy", rule => "rule" });
label_set!(/// `{policy, vendor}`
    PolicyVendor { policy => "policy", vendor => "vendor" });
label_set!(/// `{ecosystem}`
    EcosystemLabel { ecosystem => "ecosystem" });
label_set!(/// `{severity}`
    SeverityLabel { severity => "severity" });
label_set!(/// `{grant_type, audience}`
    GrantAudience { grant_type => "grant_type", audience => "audience" });
label_set!(/// `{reason}`
    ReasonLabel { reason => "reason" });
label_set!(/// `{signal, exporter}`
    SignalExporter { signal => "signal", exporter => "exporter" });
label_set!(/// `{signal}`
    SignalLabel { signal => "signal" });
label_set!(/// `{state}`
    StateLabel { state => "state" });
label_set!(/// `{decision, reason}`
    DecisionReason { decision => "decision", reason => "reason" });
label_set!(/// `{cause}`
    CauseLabel { cause => "cause" });

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_buckets() -> Histogram {
    Histogram::new([
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0,
    ])
}

fn long_run_buckets() -> Histogram {
    Histogram::new([
        1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0,
    ])
}

fn policy_buckets() -> Histogram {
    Histogram::new([0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0])
}

/// Every metric of the catalogue, registered together. Cheap to share (`Arc` it); handles
/// returned by the accessor methods are clones of the underlying atomics and can be kept by
/// hot paths to skip the label lookup.
#[derive(Debug)]
pub struct MetricCatalogue {
    guard: Arc<CardinalityGuard>,
    request_duration: HistogramFamily<ServiceEndpoint>,
    request_total: Family<ServiceStatus, Counter>,
    active_jobs: Family<TenantJobType, Gauge>,
    queue_depth: Family<QueueLabel, Gauge>,
    scan_duration: HistogramFamily<TenantLabel>,
    circuit_breaker_open: Family<ServiceBreaker, Gauge>,
    policy_run: HistogramFamily<PolicyRun>,
    policy_rules_fired: Family<PolicyRule, Counter>,
    policy_vex_overrides: Family<PolicyVendor, Counter>,
    scanner_sbom_components: Family<EcosystemLabel, Counter>,
    scanner_vulnerabilities: Family<SeverityLabel, Counter>,
    scanner_attestations: Counter,
    authority_token_issued: Family<GrantAudience, Counter>,
    authority_token_rejected: Family<ReasonLabel, Counter>,
    authority_dpop_nonce_miss: Counter,
    collector_export_failures: Family<SignalExporter, Counter>,
    otlp_export_failures: Family<SignalLabel, Counter>,
    export_dropped: Family<SignalLabel, Counter>,
    bundle_generation: Histogram,
    incident_mode: Family<StateLabel, Gauge>,
    sampler_traces: Family<DecisionReason, Counter>,
    sampler_spans: Family<DecisionReason, Counter>,
    sampler_early: Family<CauseLabel, Counter>,
    scrub_events: stellaops_redaction::ScrubMetrics,
}

impl Default for MetricCatalogue {
    fn default() -> Self {
        Self::new(Arc::new(CardinalityGuard::default()))
    }
}

impl MetricCatalogue {
    /// A catalogue whose label values pass through `guard`.
    pub fn new(guard: Arc<CardinalityGuard>) -> Self {
        Self {
            guard,
            request_duration: Family::new_with_constructor(latency_buckets),
            request_total: Family::default(),
            active_jobs: Family::default(),
            queue_depth: Family::default(),
            scan_duration: Family::new_with_constructor(long_run_buckets),
            circuit_breaker_open: Family::default(),
            policy_run: Family::new_with_constructor(policy_buckets),
            policy_rules_fired: Family::default(),
            policy_vex_overrides: Family::default(),
            scanner_sbom_components: Family::default(),
            scanner_vulnerabilities: Family::default(),
            scanner_attestations: Counter::default(),
            authority_token_issued: Family::default(),
            authority_token_rejected: Family::default(),
            authority_dpop_nonce_miss: Counter::default(),
            collector_export_failures: Family::default(),
            otlp_export_failures: Family::default(),
            export_dropped: Family::default(),
            bundle_generation: long_run_buckets(),
            incident_mode: Family::default(),
            sampler_traces: Family::default(),
            sampler_spans: Family::default(),
            sampler_early: Family::default(),
            scrub_events: stellaops_redaction::ScrubMetrics::new(),
        }
    }

    /// Registers every metric into `registry` under its catalogue name.
    pub fn register(&self, registry: &mut Registry) {
        // prometheus-client appends `_total` to counters and the unit suffix when a unit is
        // given, so register the stems; the `catalogue_matches_exposition` test keeps both
        // in step with `CATALOGUE`.
        let stem = |spec: MetricSpec| spec.name.trim_end_matches("_total");
        fn seconds(
            r: &mut Registry,
            spec: MetricSpec,
            m: impl prometheus_client::registry::Metric,
        ) {
            let stem = spec.name.trim_end_matches("_seconds");
            r.register_with_unit(stem, spec.help, Unit::Seconds, m);
        }
        seconds(registry, REQUEST_DURATION, self.request_duration.clone());
        registry.register(
            stem(REQUEST_TOTAL),
            REQUEST_TOTAL.help,
            self.request_total.clone(),
        );
        registry.register(ACTIVE_JOBS.name, ACTIVE_JOBS.help, self.active_jobs.clone());
        registry.register(QUEUE_DEPTH.name, QUEUE_DEPTH.help, self.queue_depth.clone());
        seconds(registry, SCAN_DURATION, self.scan_duration.clone());
        registry.register(
            CIRCUIT_BREAKER_OPEN.name,
            CIRCUIT_BREAKER_OPEN.help,
            self.circuit_breaker_open.clone(),
        );
        seconds(registry, POLICY_RUN, self.policy_run.clone());
        registry.register(
            stem(POLICY_RULES_FIRED),
            POLICY_RULES_FIRED.help,
            self.policy_rules_fired.clone(),
        );
        registry.register(
            stem(POLICY_VEX_OVERRIDES),
            POLICY_VEX_OVERRIDES.help,
            self.policy_vex_overrides.clone(),
        );
        registry.register(
            stem(SCANNER_SBOM_COMPONENTS),
            SCANNER_SBOM_COMPONENTS.help,
            self.scanner_sbom_components.clone(),
        );
        registry.register(
            stem(SCANNER_VULNERABILITIES),
            SCANNER_VULNERABILITIES.help,
            self.scanner_vulnerabilities.clone(),
        );
        registry.register(
            stem(SCANNER_ATTESTATIONS),
            SCANNER_ATTESTATIONS.help,
            self.scanner_attestations.clone(),
        );
        registry.register(
            stem(AUTHORITY_TOKEN_ISSUED),
            AUTHORITY_TOKEN_ISSUED.help,
            self.authority_token_issued.clone(),
        );
        registry.register(
            stem(AUTHORITY_TOKEN_REJECTED),
            AUTHORITY_TOKEN_REJECTED.help,
            self.authority_token_rejected.clone(),
        );
        registry.register(
            stem(AUTHORITY_DPOP_NONCE_MISS),
            AUTHORITY_DPOP_NONCE_MISS.help,
            self.authority_dpop_nonce_miss.clone(),
        );
        registry.register(
            stem(COLLECTOR_EXPORT_FAILURES),
            COLLECTOR_EXPORT_FAILURES.help,
            self.collector_export_failures.clone(),
        );
        registry.register(
            stem(OTLP_EXPORT_FAILURES),
            OTLP_EXPORT_FAILURES.help,
            self.otlp_export_failures.clone(),
        );
        registry.register(
            stem(EXPORT_DROPPED),
            EXPORT_DROPPED.help,
            self.export_dropped.clone(),
        );
        seconds(registry, BUNDLE_GENERATION, self.bundle_generation.clone());
        registry.register(
            INCIDENT_MODE.name,
            INCIDENT_MODE.help,
            self.incident_mode.clone(),
        );
        registry.register(
            stem(SAMPLER_TRACES),
            SAMPLER_TRACES.help,
            self.sampler_traces.clone(),
        );
        registry.register(
            stem(SAMPLER_SPANS),
            SAMPLER_SPANS.help,
            self.sampler_spans.clone(),
        );
        registry.register(
            stem(SAMPLER_EARLY_DECISIONS),
            SAMPLER_EARLY_DECISIONS.help,
            self.sampler_early.clone(),
        );
        // `telemetry_scrub_events_total` is the redaction crate's counter family (it counts
        // what it scrubbed); registered here so the catalogue stays the one list of names.
        self.scrub_events.register(registry);
        registry.register(
            stem(LABEL_OVERFLOW),
            LABEL_OVERFLOW.help,
            self.guard.overflow_counter().clone(),
        );
    }

    /// The cardinality guard every label value passes through.
    pub fn guard(&self) -> &CardinalityGuard {
        &self.guard
    }

    fn v(&self, spec: MetricSpec, label: &'static str, raw: &str) -> LabelValue {
        self.guard.admit(spec.name, label, raw)
    }

    /// `stellaops_request_duration_seconds{service,endpoint}`.
    pub fn request_duration(&self, service: &str, endpoint: &str) -> Histogram {
        let l = ServiceEndpoint {
            service: self.v(REQUEST_DURATION, "service", service),
            endpoint: self.v(REQUEST_DURATION, "endpoint", endpoint),
        };
        self.request_duration.get_or_create_owned(&l)
    }

    /// `stellaops_request_total{service,status}`.
    pub fn request_total(&self, service: &str, status: &str) -> Counter {
        let l = ServiceStatus {
            service: self.v(REQUEST_TOTAL, "service", service),
            status: self.v(REQUEST_TOTAL, "status", status),
        };
        self.request_total.get_or_create_owned(&l)
    }

    /// `stellaops_active_jobs{tenant,job_type}` (the specification's `jobType`, see ADR 0004).
    pub fn active_jobs(&self, tenant: &str, job_type: &str) -> Gauge {
        let l = TenantJobType {
            tenant: self.v(ACTIVE_JOBS, "tenant", tenant),
            job_type: self.v(ACTIVE_JOBS, "job_type", job_type),
        };
        self.active_jobs.get_or_create_owned(&l)
    }

    /// `stellaops_queue_depth{queue}`.
    pub fn queue_depth(&self, queue: &str) -> Gauge {
        let l = QueueLabel {
            queue: self.v(QUEUE_DEPTH, "queue", queue),
        };
        self.queue_depth.get_or_create_owned(&l)
    }

    /// `stellaops_scan_duration_seconds{tenant}`.
    pub fn scan_duration(&self, tenant: &str) -> Histogram {
        let l = TenantLabel {
            tenant: self.v(SCAN_DURATION, "tenant", tenant),
        };
        self.scan_duration.get_or_create_owned(&l)
    }

    /// `stellaops_circuit_breaker_open{service,breaker}`: set 1 when the breaker opens and 0
    /// when it closes (the Circuit Open alert fires on 1).
    pub fn circuit_breaker_open(&self, service: &str, breaker: &str) -> Gauge {
        let l = ServiceBreaker {
            service: self.v(CIRCUIT_BREAKER_OPEN, "service", service),
            breaker: self.v(CIRCUIT_BREAKER_OPEN, "breaker", breaker),
        };
        self.circuit_breaker_open.get_or_create_owned(&l)
    }

    /// `policy_run_seconds{mode,tenant,policy}`.
    pub fn policy_run(&self, mode: &str, tenant: &str, policy: &str) -> Histogram {
        let l = PolicyRun {
            mode: self.v(POLICY_RUN, "mode", mode),
            tenant: self.v(POLICY_RUN, "tenant", tenant),
            policy: self.v(POLICY_RUN, "policy", policy),
        };
        self.policy_run.get_or_create_owned(&l)
    }

    /// `policy_rules_fired_total{policy,rule}`.
    pub fn policy_rules_fired(&self, policy: &str, rule: &str) -> Counter {
        let l = PolicyRule {
            policy: self.v(POLICY_RULES_FIRED, "policy", policy),
            rule: self.v(POLICY_RULES_FIRED, "rule", rule),
        };
        self.policy_rules_fired.get_or_create_owned(&l)
    }

    /// `policy_vex_overrides_total{policy,vendor}`.
    pub fn policy_vex_overrides(&self, policy: &str, vendor: &str) -> Counter {
        let l = PolicyVendor {
            policy: self.v(POLICY_VEX_OVERRIDES, "policy", policy),
            vendor: self.v(POLICY_VEX_OVERRIDES, "vendor", vendor),
        };
        self.policy_vex_overrides.get_or_create_owned(&l)
    }

    /// `scanner_sbom_components_total{ecosystem}`.
    pub fn scanner_sbom_components(&self, ecosystem: &str) -> Counter {
        let l = EcosystemLabel {
            ecosystem: self.v(SCANNER_SBOM_COMPONENTS, "ecosystem", ecosystem),
        };
        self.scanner_sbom_components.get_or_create_owned(&l)
    }

    /// `scanner_vulnerabilities_found_total{severity}`.
    pub fn scanner_vulnerabilities_found(&self, severity: &str) -> Counter {
        let l = SeverityLabel {
            severity: self.v(SCANNER_VULNERABILITIES, "severity", severity),
        };
        self.scanner_vulnerabilities.get_or_create_owned(&l)
    }

    /// `scanner_attestations_logged_total`.
    pub fn scanner_attestations_logged(&self) -> Counter {
        self.scanner_attestations.clone()
    }

    /// `authority_token_issued_total{grant_type,audience}`.
    pub fn authority_token_issued(&self, grant_type: &str, audience: &str) -> Counter {
        let l = GrantAudience {
            grant_type: self.v(AUTHORITY_TOKEN_ISSUED, "grant_type", grant_type),
            audience: self.v(AUTHORITY_TOKEN_ISSUED, "audience", audience),
        };
        self.authority_token_issued.get_or_create_owned(&l)
    }

    /// `authority_token_rejected_total{reason}`.
    pub fn authority_token_rejected(&self, reason: &str) -> Counter {
        let l = ReasonLabel {
            reason: self.v(AUTHORITY_TOKEN_REJECTED, "reason", reason),
        };
        self.authority_token_rejected.get_or_create_owned(&l)
    }

    /// `authority_dpop_nonce_miss_total`.
    pub fn authority_dpop_nonce_miss(&self) -> Counter {
        self.authority_dpop_nonce_miss.clone()
    }

    /// `collector_export_failures_total{signal,exporter}`.
    pub fn collector_export_failures(&self, signal: &str, exporter: &str) -> Counter {
        let l = SignalExporter {
            signal: self.v(COLLECTOR_EXPORT_FAILURES, "signal", signal),
            exporter: self.v(COLLECTOR_EXPORT_FAILURES, "exporter", exporter),
        };
        self.collector_export_failures.get_or_create_owned(&l)
    }

    /// `telemetry_otlp_export_failures_total{signal}`.
    pub fn otlp_export_failures(&self, signal: &str) -> Counter {
        let l = SignalLabel {
            signal: self.v(OTLP_EXPORT_FAILURES, "signal", signal),
        };
        self.otlp_export_failures.get_or_create_owned(&l)
    }

    /// `telemetry_export_dropped_total{signal}`.
    pub fn export_dropped(&self, signal: &str) -> Counter {
        let l = SignalLabel {
            signal: self.v(EXPORT_DROPPED, "signal", signal),
        };
        self.export_dropped.get_or_create_owned(&l)
    }

    /// `telemetry_bundle_generation_seconds`.
    pub fn bundle_generation(&self) -> Histogram {
        self.bundle_generation.clone()
    }

    /// `telemetry_incident_mode{state}`.
    pub fn incident_mode(&self, state: &str) -> Gauge {
        let l = StateLabel {
            state: self.v(INCIDENT_MODE, "state", state),
        };
        self.incident_mode.get_or_create_owned(&l)
    }

    /// `telemetry_sampler_traces_total{decision,reason}`.
    pub fn sampler_traces(&self, decision: &str, reason: &str) -> Counter {
        let l = DecisionReason {
            decision: self.v(SAMPLER_TRACES, "decision", decision),
            reason: self.v(SAMPLER_TRACES, "reason", reason),
        };
        self.sampler_traces.get_or_create_owned(&l)
    }

    /// `telemetry_sampler_spans_total{decision,reason}`.
    pub fn sampler_spans(&self, decision: &str, reason: &str) -> Counter {
        let l = DecisionReason {
            decision: self.v(SAMPLER_SPANS, "decision", decision),
            reason: self.v(SAMPLER_SPANS, "reason", reason),
        };
        self.sampler_spans.get_or_create_owned(&l)
    }

    /// `telemetry_sampler_early_decisions_total{cause}`.
    pub fn sampler_early_decisions(&self, cause: &str) -> Counter {
        let l = CauseLabel {
            cause: self.v(SAMPLER_EARLY_DECISIONS, "cause", cause),
        };
        self.sampler_early.get_or_create_owned(&l)
    }

    /// `telemetry_scrub_events_total{tenant,reason}` (the redaction crate's counter family).
    pub fn scrub_events(&self) -> &stellaops_redaction::ScrubMetrics {
        &self.scrub_events
    }
}
