//! Grafana dashboards (the service overview plus the telemetry stack itself) as provisioning-ready
//! JSON models, built from catalogue metrics only, and the reverse report of catalogue
//! metrics that no panel shows.
//!
//! Not a Grafana client: files are written for Grafana's file provisioning.

use crate::promql::{owning_metric, referenced_series};
use crate::yaml::Yaml;
use serde_json::{Value, json};
use stellaops_telemetry_model::catalogue::CATALOGUE;

/// One panel query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// PromQL.
    pub expr: String,
    /// Grafana legend template (`{{service}}`).
    pub legend: &'static str,
}

/// One time-series panel.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Panel title.
    pub title: &'static str,
    /// Grafana unit (`reqps`, `s`, `percentunit`, `short`).
    pub unit: &'static str,
    /// Queries drawn in the panel.
    pub queries: Vec<Query>,
}

/// One dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    /// Stable uid (also the file stem).
    pub uid: &'static str,
    /// Title.
    pub title: &'static str,
    /// What it is for.
    pub description: &'static str,
    /// Panels, laid out two per row.
    pub panels: Vec<Panel>,
}

fn q(expr: &str, legend: &'static str) -> Query {
    Query {
        expr: expr.to_owned(),
        legend,
    }
}

fn panel(title: &'static str, unit: &'static str, queries: Vec<Query>) -> Panel {
    Panel {
        title,
        unit,
        queries,
    }
}

const ERRORS: &str = r#"status=~"error|5..""#;

/// The standard dashboards: Platform Health, Scan Operations, Policy Engine, Job
/// Orchestration and Telemetry Stack.
pub fn standard_dashboards() -> Vec<Dashboard> {
    vec![
        Dashboard {
            uid: "stellaops-platform-health",
            title: "Stella Ops / Platform Health",
            description: "Overall status: request rate, error rate, latency, circuit breakers, token service",
            panels: vec![
                panel(
                    "Request rate",
                    "reqps",
                    vec![q(
                        "sum by (service) (rate(stellaops_request_total[5m]))",
                        "{{service}}",
                    )],
                ),
                panel(
                    "Error rate",
                    "percentunit",
                    vec![q(
                        &format!(
                            "sum by (service) (rate(stellaops_request_total{{{ERRORS}}}[5m])) / sum by (service) (rate(stellaops_request_total[5m]))"
                        ),
                        "{{service}}",
                    )],
                ),
                panel(
                    "Latency p95",
                    "s",
                    vec![q(
                        "histogram_quantile(0.95, sum by (le, service) (rate(stellaops_request_duration_seconds_bucket[5m])))",
                        "{{service}}",
                    )],
                ),
                panel(
                    "Open circuit breakers",
                    "short",
                    vec![q(
                        "sum by (service, breaker) (stellaops_circuit_breaker_open)",
                        "{{service}} {{breaker}}",
                    )],
                ),
                panel(
                    "Tokens issued and rejected",
                    "ops",
                    vec![
                        q(
                            "sum by (grant_type) (rate(authority_token_issued_total[5m]))",
                            "issued {{grant_type}}",
                        ),
                        q(
                            "sum by (reason) (rate(authority_token_rejected_total[5m]))",
                            "rejected {{reason}}",
                        ),
                        q(
                            "rate(authority_dpop_nonce_miss_total[5m])",
                            "DPoP nonce miss",
                        ),
                    ],
                ),
            ],
        },
        Dashboard {
            uid: "stellaops-scan-operations",
            title: "Stella Ops / Scan Operations",
            description: "Scanner: scan rate, duration, findings, SBOM components, attestations",
            panels: vec![
                panel(
                    "Scan rate",
                    "ops",
                    vec![q(
                        "sum by (tenant) (rate(stellaops_scan_duration_seconds_count[5m]))",
                        "{{tenant}}",
                    )],
                ),
                panel(
                    "Scan duration",
                    "s",
                    vec![
                        q(
                            "histogram_quantile(0.5, sum by (le) (rate(stellaops_scan_duration_seconds_bucket[15m])))",
                            "p50",
                        ),
                        q(
                            "histogram_quantile(0.95, sum by (le) (rate(stellaops_scan_duration_seconds_bucket[15m])))",
                            "p95",
                        ),
                    ],
                ),
                panel(
                    "Findings by severity",
                    "short",
                    vec![q(
                        "sum by (severity) (increase(scanner_vulnerabilities_found_total[1h]))",
                        "{{severity}}",
                    )],
                ),
                panel(
                    "SBOM components by ecosystem",
                    "short",
                    vec![q(
                        "sum by (ecosystem) (increase(scanner_sbom_components_total[1h]))",
                        "{{ecosystem}}",
                    )],
                ),
                panel(
                    "Attestations logged",
                    "ops",
                    vec![q(
                        "sum(rate(scanner_attestations_logged_total[5m]))",
                        "attestations",
                    )],
                ),
            ],
        },
        Dashboard {
            uid: "stellaops-policy-engine",
            title: "Stella Ops / Policy Engine",
            description: "Policy: evaluation rate and duration, rule hits, VEX overrides (verdicts)",
            panels: vec![
                panel(
                    "Evaluation rate",
                    "ops",
                    vec![q(
                        "sum by (mode) (rate(policy_run_seconds_count[5m]))",
                        "{{mode}}",
                    )],
                ),
                panel(
                    "Evaluation duration p95",
                    "s",
                    vec![q(
                        "histogram_quantile(0.95, sum by (le, policy) (rate(policy_run_seconds_bucket[5m])))",
                        "{{policy}}",
                    )],
                ),
                panel(
                    "Rule hits (top 10)",
                    "ops",
                    vec![q(
                        "topk(10, sum by (policy, rule) (rate(policy_rules_fired_total[5m])))",
                        "{{policy}} / {{rule}}",
                    )],
                ),
                panel(
                    "VEX overrides by vendor",
                    "ops",
                    vec![q(
                        "sum by (vendor) (rate(policy_vex_overrides_total[5m]))",
                        "{{vendor}}",
                    )],
                ),
            ],
        },
        Dashboard {
            uid: "stellaops-job-orchestration",
            title: "Stella Ops / Job Orchestration",
            description: "Queues: depth, active jobs, job latency, failures",
            panels: vec![
                panel(
                    "Queue depth",
                    "short",
                    vec![q("max by (queue) (stellaops_queue_depth)", "{{queue}}")],
                ),
                panel(
                    "Active jobs by type",
                    "short",
                    vec![q(
                        "sum by (job_type) (stellaops_active_jobs)",
                        "{{job_type}}",
                    )],
                ),
                panel(
                    "Job latency p95",
                    "s",
                    vec![q(
                        r#"histogram_quantile(0.95, sum by (le, endpoint) (rate(stellaops_request_duration_seconds_bucket{service="orchestrator"}[5m])))"#,
                        "{{endpoint}}",
                    )],
                ),
                panel(
                    "Job failures",
                    "ops",
                    vec![q(
                        &format!(
                            "sum by (service) (rate(stellaops_request_total{{service=\"orchestrator\",{ERRORS}}}[5m]))"
                        ),
                        "{{service}}",
                    )],
                ),
            ],
        },
        Dashboard {
            uid: "stellaops-telemetry-stack",
            title: "Stella Ops / Telemetry Stack",
            description: "The telemetry pipeline itself: ingestion and scrubbing, export failures, incident mode, tail sampling, bundle generation",
            panels: vec![
                panel(
                    "Values scrubbed (ingestion)",
                    "ops",
                    vec![q(
                        "sum by (reason) (rate(telemetry_scrub_events_total[5m]))",
                        "{{reason}}",
                    )],
                ),
                panel(
                    "Export failures",
                    "ops",
                    vec![
                        q(
                            "sum by (signal) (rate(telemetry_otlp_export_failures_total[5m]))",
                            "service OTLP {{signal}}",
                        ),
                        q(
                            "sum by (signal, exporter) (rate(collector_export_failures_total[5m]))",
                            "collector {{exporter}} {{signal}}",
                        ),
                    ],
                ),
                panel(
                    "Dropped items",
                    "ops",
                    vec![q(
                        "sum by (signal) (rate(telemetry_export_dropped_total[5m]))",
                        "{{signal}}",
                    )],
                ),
                panel(
                    "Incident mode",
                    "short",
                    vec![q("sum by (state) (telemetry_incident_mode)", "{{state}}")],
                ),
                panel(
                    "Tail sampler: traces by decision and reason",
                    "ops",
                    vec![q(
                        "sum by (decision, reason) (rate(telemetry_sampler_traces_total[5m]))",
                        "{{decision}} {{reason}}",
                    )],
                ),
                panel(
                    "Tail sampler: spans by decision and reason",
                    "ops",
                    vec![q(
                        "sum by (decision, reason) (rate(telemetry_sampler_spans_total[5m]))",
                        "{{decision}} {{reason}}",
                    )],
                ),
                panel(
                    "Tail sampler: early decisions (bounds reached, max wait)",
                    "ops",
                    vec![q(
                        "sum by (cause) (rate(telemetry_sampler_early_decisions_total[5m]))",
                        "{{cause}}",
                    )],
                ),
                panel(
                    "Bundle generation p95",
                    "s",
                    vec![q(
                        "histogram_quantile(0.95, sum by (le) (rate(telemetry_bundle_generation_seconds_bucket[1h])))",
                        "p95",
                    )],
                ),
                panel(
                    "Label values folded by the cardinality guard",
                    "ops",
                    vec![q(
                        "sum by (metric, label) (rate(telemetry_label_overflow_total[5m]))",
                        "{{metric}} {{label}}",
                    )],
                ),
            ],
        },
    ]
}

impl Dashboard {
    /// The Grafana JSON model (schema version 39), with a `datasource` variable so the same
    /// file works with whatever Prometheus data source the site provisions.
    pub fn to_json(&self) -> Value {
        let datasource = json!({"type": "prometheus", "uid": "${datasource}"});
        let panels: Vec<Value> = self
            .panels
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let targets: Vec<Value> = p
                    .queries
                    .iter()
                    .zip(b'A'..=b'Z')
                    .map(|(query, ref_id)| {
                        json!({
                            "datasource": datasource,
                            "expr": query.expr,
                            "legendFormat": query.legend,
                            "refId": char::from(ref_id).to_string(),
                        })
                    })
                    .collect();
                json!({
                    "id": i + 1,
                    "type": "timeseries",
                    "title": p.title,
                    "datasource": datasource,
                    "gridPos": {"h": 8, "w": 12, "x": (i % 2) * 12, "y": (i / 2) * 8},
                    "fieldConfig": {"defaults": {"unit": p.unit}, "overrides": []},
                    "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
                    "targets": targets,
                })
            })
            .collect();
        json!({
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": ["stellaops", "telemetry"],
            "timezone": "utc",
            "schemaVersion": 39,
            "version": 1,
            "editable": false,
            "refresh": "30s",
            "time": {"from": "now-6h", "to": "now"},
            "templating": {"list": [{
                "name": "datasource",
                "label": "Data source",
                "type": "datasource",
                "query": "prometheus",
                "current": {},
                "hide": 0,
            }]},
            "annotations": {"list": []},
            "panels": panels,
        })
    }

    /// The JSON model as pretty-printed text with sorted keys and a final newline.
    pub fn to_json_text(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.to_json()).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Every PromQL expression of every panel.
    pub fn exprs(&self) -> impl Iterator<Item = &str> {
        self.panels
            .iter()
            .flat_map(|p| p.queries.iter().map(|q| q.expr.as_str()))
    }
}

/// Grafana's dashboard provider file (`provisioning/dashboards/stellaops.yaml`), pointing at
/// `path` where the dashboard JSON files are.
pub fn provider_yaml(path: &str) -> String {
    Yaml::map()
        .with("apiVersion", 1_i64)
        .with(
            "providers",
            vec![
                Yaml::map()
                    .with("name", "stellaops")
                    .with("folder", "Stella Ops")
                    .with("type", "file")
                    .with("disableDeletion", true)
                    .with("allowUiUpdates", false)
                    .with("updateIntervalSeconds", 60_i64)
                    .with("options", Yaml::map().with("path", path)),
            ],
        )
        .to_text()
}

/// Catalogue metrics that no panel of `dashboards` shows (the reverse report).
pub fn metrics_without_panel(dashboards: &[Dashboard]) -> Vec<&'static str> {
    let shown: Vec<String> = dashboards
        .iter()
        .flat_map(Dashboard::exprs)
        .flat_map(referenced_series)
        .filter_map(|s| owning_metric(&s))
        .collect();
    CATALOGUE
        .iter()
        .map(|spec| spec.name)
        .filter(|name| !shown.iter().any(|s| s == name))
        .collect()
}
