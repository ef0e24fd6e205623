//! Prometheus alert rules over the metric catalogue: High Error Rate, Slow
//! Scans, Queue Backlog, Circuit Open, plus export failures and incident mode stuck on.
//!
//! Not an evaluator: the rules are checked by `promtool` and a real Prometheus in the tests.

use crate::yaml::Yaml;

/// How urgent an alert is (the `severity` label Alertmanager routes on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Page someone now.
    Critical,
    /// Look at it today.
    Warning,
}

impl Severity {
    /// `critical` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
        }
    }
}

/// One alerting rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    /// The alert name (`HighErrorRate`).
    pub name: &'static str,
    /// The PromQL condition.
    pub expr: String,
    /// How long the condition must hold before the alert fires (Prometheus duration).
    pub for_duration: &'static str,
    /// Severity label.
    pub severity: Severity,
    /// One-line summary annotation (may use `{{ $labels.x }}` templates).
    pub summary: &'static str,
    /// Description annotation.
    pub description: &'static str,
}

/// The name of the rule group every rule lives in.
pub const RULE_GROUP: &str = "stellaops-telemetry";

/// The file name the rules are written to in bundles and by the CLI.
pub const RULES_FILE: &str = "stellaops-alerts.yaml";

/// Error-rate threshold of High Error Rate (5%).
pub const ERROR_RATE_THRESHOLD: f64 = 0.05;
/// p95 scan duration threshold of Slow Scans, in seconds (5 minutes).
pub const SLOW_SCAN_SECONDS: u32 = 300;
/// Queue depth threshold of Queue Backlog.
pub const QUEUE_BACKLOG_DEPTH: u32 = 1000;

/// The standard alert rules.
pub fn standard_rules() -> Vec<AlertRule> {
    vec![
        AlertRule {
            name: "HighErrorRate",
            expr: format!(
                "sum by (service) (rate(stellaops_request_total{{status=~\"error|5..\"}}[5m])) \
                 / sum by (service) (rate(stellaops_request_total[5m])) > {ERROR_RATE_THRESHOLD}"
            ),
            for_duration: "5m",
            severity: Severity::Critical,
            summary: "{{ $labels.service }}: more than 5% of requests fail",
            description: "{{ $labels.service }} answered {{ $value | humanizePercentage }} of its requests with an error over the last 5 minutes.",
        },
        AlertRule {
            name: "SlowScans",
            expr: format!(
                "histogram_quantile(0.95, sum by (le, tenant) \
                 (rate(stellaops_scan_duration_seconds_bucket[10m]))) > {SLOW_SCAN_SECONDS}"
            ),
            for_duration: "10m",
            severity: Severity::Warning,
            summary: "Scans for tenant {{ $labels.tenant }} are slow (p95 over 5 minutes)",
            description: "The 95th percentile scan duration for {{ $labels.tenant }} is {{ $value | humanizeDuration }}.",
        },
        AlertRule {
            name: "QueueBacklog",
            expr: format!("max by (queue) (stellaops_queue_depth) > {QUEUE_BACKLOG_DEPTH}"),
            for_duration: "10m",
            severity: Severity::Warning,
            summary: "Queue {{ $labels.queue }} holds more than 1000 items",
            description: "Queue {{ $labels.queue }} has held {{ $value }} items for 10 minutes; workers are not keeping up.",
        },
        AlertRule {
            name: "CircuitOpen",
            expr: "max by (service, breaker) (stellaops_circuit_breaker_open) == 1".to_owned(),
            for_duration: "1m",
            severity: Severity::Critical,
            summary: "Circuit breaker {{ $labels.breaker }} of {{ $labels.service }} is open",
            description: "{{ $labels.service }} stopped calling {{ $labels.breaker }}; calls fail fast until the breaker closes.",
        },
        AlertRule {
            name: "TelemetryExportFailing",
            expr: "sum by (signal) (rate(telemetry_otlp_export_failures_total[5m])) > 0".to_owned(),
            for_duration: "10m",
            severity: Severity::Warning,
            summary: "OTLP {{ $labels.signal }} export keeps failing",
            description: "Services fail to export {{ $labels.signal }} over OTLP; data is spooled locally until the collector is reachable.",
        },
        AlertRule {
            name: "CollectorExportFailing",
            expr: "sum by (signal, exporter) (rate(collector_export_failures_total[5m])) > 0"
                .to_owned(),
            for_duration: "10m",
            severity: Severity::Warning,
            summary: "Collector exporter {{ $labels.exporter }} fails for {{ $labels.signal }}",
            description: "Batches of {{ $labels.signal }} do not reach {{ $labels.exporter }}; check the backend and the egress policy.",
        },
        AlertRule {
            name: "IncidentModeStuck",
            expr: "max(telemetry_incident_mode{state=\"active\"}) > 0".to_owned(),
            for_duration: "2h",
            severity: Severity::Warning,
            summary: "Incident (forensic) mode has been on for over 2 hours",
            description: "Forensic mode expires after 30 minutes by default; on for 2 hours means it was extended or its expiry is not running. It costs 100% sampling and extended retention.",
        },
    ]
}

/// The rules as a Prometheus rule file (one group, fixed order).
pub fn rules_yaml(rules: &[AlertRule]) -> String {
    let rules: Vec<Yaml> = rules
        .iter()
        .map(|r| {
            Yaml::map()
                .with("alert", r.name)
                .with("expr", r.expr.as_str())
                .with("for", r.for_duration)
                .with("labels", Yaml::map().with("severity", r.severity.as_str()))
                .with(
                    "annotations",
                    Yaml::map()
                        .with("summary", r.summary)
                        .with("description", r.description),
                )
        })
        .collect();
    Yaml::map()
        .with(
            "groups",
            vec![
                Yaml::map()
                    .with("name", RULE_GROUP)
                    .with("interval", "30s")
                    .with("rules", rules),
            ],
        )
        .to_text()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promql::unknown_series;

    #[test]
    fn every_rule_references_only_catalogue_metrics() {
        for rule in standard_rules() {
            assert!(
                unknown_series(&rule.expr).is_empty(),
                "{}: {:?}",
                rule.name,
                unknown_series(&rule.expr)
            );
        }
    }

    #[test]
    fn the_advisorys_alerts_have_its_severities() {
        let rules = standard_rules();
        let severity = |name: &str| rules.iter().find(|r| r.name == name).map(|r| r.severity);
        assert_eq!(severity("HighErrorRate"), Some(Severity::Critical));
        assert_eq!(severity("SlowScans"), Some(Severity::Warning));
        assert_eq!(severity("QueueBacklog"), Some(Severity::Warning));
        assert_eq!(severity("CircuitOpen"), Some(Severity::Critical));
    }
}
