//! The metric catalogue: names and labels exactly as the advisory lists them, clean under
//! `promtool check metrics`, guarded against cardinality blow-ups, and convertible to OTLP.

use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use opentelemetry_proto::tonic::metrics::v1::number_data_point::Value;
use opentelemetry_proto::tonic::resource::v1::Resource;
use prometheus_client::registry::Registry;
use proptest::prelude::*;
use std::sync::Arc;
use stellaops_telemetry_core::metrics::{
    CATALOGUE, CardinalityGuard, MetricCatalogue, MetricKind, OVERFLOW_VALUE, encode_openmetrics,
    encode_prometheus_text, openmetrics_to_otlp,
};

fn exercised() -> (MetricCatalogue, Registry) {
    let m = MetricCatalogue::new(Arc::new(CardinalityGuard::new(8)));
    let mut registry = Registry::default();
    m.register(&mut registry);
    m.request_duration("scanner", "/api/scan").observe(0.2);
    m.request_total("scanner", "ok").inc_by(3);
    m.request_total("scanner", "error").inc();
    m.active_jobs("acme-corp", "scan").set(4);
    m.queue_depth("scans").set(17);
    m.scan_duration("acme-corp").observe(42.0);
    m.circuit_breaker_open("scanner", "registry").set(1);
    m.policy_run("full", "acme-corp", "baseline").observe(1.5);
    m.policy_rules_fired("baseline", "no-critical").inc();
    m.policy_vex_overrides("baseline", "redhat").inc();
    m.scanner_sbom_components("npm").inc_by(245);
    m.scanner_vulnerabilities_found("critical").inc_by(2);
    m.scanner_attestations_logged().inc();
    m.authority_token_issued("client_credentials", "scanner")
        .inc();
    m.authority_token_rejected("expired").inc();
    m.authority_dpop_nonce_miss().inc();
    m.collector_export_failures("traces", "otlp-grpc").inc();
    m.otlp_export_failures("traces").inc();
    m.export_dropped("logs").inc();
    m.bundle_generation().observe(3.0);
    m.incident_mode("active").set(1);
    m.sampler_traces("keep", "error").inc();
    m.sampler_spans("drop", "ratio").inc_by(4);
    m.sampler_early_decisions("spans_full").inc();
    m.scrub_events().record(
        "acme-corp",
        stellaops_redaction::Report::with_reason(stellaops_redaction::Reason::Secret),
    );
    for i in 0..9 {
        m.authority_token_rejected(&format!("reason-{i}")).inc();
    }
    (m, registry)
}

/// `(family, type)` from the `# TYPE` lines, and every sample's label names.
fn families(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .map(|l| {
            let (name, kind) = l.split_once(' ').unwrap();
            (name.to_owned(), kind.to_owned())
        })
        .collect()
}

#[test]
fn catalogue_matches_exposition() {
    let (_, registry) = exercised();
    let text = encode_openmetrics(&registry).unwrap();
    let families = families(&text);
    for spec in CATALOGUE {
        let (family, kind) = match spec.kind {
            MetricKind::Counter => (spec.name.trim_end_matches("_total"), "counter"),
            MetricKind::Gauge => (spec.name, "gauge"),
            MetricKind::Histogram => (spec.name, "histogram"),
        };
        assert!(
            families.iter().any(|(n, k)| n == family && k == kind),
            "{} ({kind}) missing from the exposition:\n{text}",
            spec.name
        );
        let sample_prefix = match spec.kind {
            MetricKind::Histogram => format!("{}_count", spec.name),
            _ => spec.name.to_owned(),
        };
        let sample = text
            .lines()
            .find(|l| l.starts_with(&sample_prefix) && !l.starts_with('#'))
            .unwrap_or_else(|| panic!("no sample for {}", spec.name));
        for label in spec.labels {
            assert!(
                sample.contains(&format!("{label}=\"")),
                "{} lacks label {label}: {sample}",
                spec.name
            );
        }
        let label_count = sample.matches("=\"").count();
        assert_eq!(
            label_count,
            spec.labels.len(),
            "{}: unexpected labels in {sample}",
            spec.name
        );
    }
    assert_eq!(
        families.len(),
        CATALOGUE.len(),
        "exposition has families outside the catalogue"
    );
}

#[test]
fn standard_metric_names_are_exactly_the_advisorys() {
    let names: Vec<&str> = CATALOGUE.iter().map(|s| s.name).collect();
    for expected in [
        "stellaops_request_duration_seconds",
        "stellaops_request_total",
        "stellaops_active_jobs",
        "stellaops_queue_depth",
        "stellaops_scan_duration_seconds",
        "policy_run_seconds",
        "policy_rules_fired_total",
        "policy_vex_overrides_total",
        "scanner_sbom_components_total",
        "scanner_vulnerabilities_found_total",
        "scanner_attestations_logged_total",
        "authority_token_issued_total",
        "authority_token_rejected_total",
        "authority_dpop_nonce_miss_total",
        "collector_export_failures_total",
        "telemetry_bundle_generation_seconds",
        "telemetry_incident_mode",
        "telemetry_sampler_traces_total",
        "telemetry_sampler_spans_total",
        "telemetry_sampler_early_decisions_total",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from the catalogue"
        );
    }
    let active = CATALOGUE
        .iter()
        .find(|s| s.name == "stellaops_active_jobs")
        .unwrap();
    assert_eq!(
        active.labels,
        ["tenant", "job_type"],
        "jobType in snake_case, as promtool requires (ADR 0004)"
    );
}

#[test]
fn promtool_finds_nothing_to_lint() {
    let (_, registry) = exercised();
    let text = encode_prometheus_text(&registry).unwrap();
    let promtool = stellaops_telemetry_testkit::Promtool::locate().unwrap();
    let out = promtool.check_metrics(&text).unwrap();
    assert!(
        out.success && out.combined().trim().is_empty(),
        "promtool: {}\n{text}",
        out.combined()
    );
}

#[test]
fn cardinality_guard_folds_excess_tenants_and_says_so() {
    let m = MetricCatalogue::new(Arc::new(CardinalityGuard::new(3)));
    let mut registry = Registry::default();
    m.register(&mut registry);
    for tenant in ["t1", "t2", "t3", "t4", "t5"] {
        m.scan_duration(tenant).observe(1.0);
    }
    let long = "x".repeat(200);
    m.queue_depth(&long).set(1);
    let text = encode_openmetrics(&registry).unwrap();
    assert!(
        text.contains(&format!(
            "stellaops_scan_duration_seconds_count{{tenant=\"{OVERFLOW_VALUE}\"}} 2"
        )),
        "{text}"
    );
    assert!(
        text.contains("telemetry_label_overflow_total{metric=\"stellaops_scan_duration_seconds\",label=\"tenant\"} 2"),
        "{text}"
    );
    assert!(
        text.contains(&format!("queue=\"{}\"", "x".repeat(64))),
        "{text}"
    );
    assert!(!text.contains(&"x".repeat(65)));
}

#[test]
fn registry_converts_to_otlp_with_the_same_values() {
    let (_, registry) = exercised();
    let text = encode_openmetrics(&registry).unwrap();
    let request =
        openmetrics_to_otlp(&text, Resource::default(), "stellaops", 1_000, 2_000).unwrap();
    let metrics = &request.resource_metrics[0].scope_metrics[0].metrics;
    let find = |name: &str| {
        metrics
            .iter()
            .find(|m| m.name == name)
            .unwrap_or_else(|| panic!("{name} not converted"))
    };

    let Some(Data::Sum(sum)) = &find("stellaops_request_total").data else {
        panic!("not a sum")
    };
    assert!(sum.is_monotonic);
    let ok = sum
        .data_points
        .iter()
        .find(|p| {
            p.attributes
                .iter()
                .any(|kv| kv.key == "status" && format!("{:?}", kv.value).contains("\"ok\""))
        })
        .unwrap();
    assert_eq!(ok.value, Some(Value::AsDouble(3.0)));
    assert_eq!((ok.start_time_unix_nano, ok.time_unix_nano), (1_000, 2_000));

    let Some(Data::Gauge(g)) = &find("stellaops_queue_depth").data else {
        panic!("not a gauge")
    };
    assert_eq!(g.data_points[0].value, Some(Value::AsDouble(17.0)));

    let duration = find("stellaops_request_duration_seconds");
    assert_eq!(duration.unit, "seconds");
    let Some(Data::Histogram(h)) = &duration.data else {
        panic!("not a histogram")
    };
    let p = &h.data_points[0];
    assert_eq!(p.count, 1);
    assert_eq!(p.sum, Some(0.2));
    assert_eq!(
        p.explicit_bounds,
        vec![
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0
        ]
    );
    assert_eq!(p.bucket_counts.len(), p.explicit_bounds.len() + 1);
    assert_eq!(p.bucket_counts.iter().sum::<u64>(), 1);
    assert_eq!(p.bucket_counts[5], 1, "0.2 falls in (0.1, 0.25]");
}

#[test]
fn bad_openmetrics_names_the_line() {
    let err = openmetrics_to_otlp(
        "# TYPE a counter\na_total{x=\"1\" 3\n",
        Resource::default(),
        "s",
        0,
        0,
    )
    .unwrap_err();
    assert_eq!(err.line, 2);
    let err = openmetrics_to_otlp("orphan 1\n", Resource::default(), "s", 0, 0).unwrap_err();
    assert!(err.detail.contains("no preceding # TYPE"), "{err}");
}

proptest! {
    #[test]
    fn openmetrics_parsing_never_panics(text in "(# (TYPE|HELP|UNIT) [a-z_]{1,8} [a-z ]{0,10}\n|[a-z_]{1,8}(\\{[a-z]{1,3}=\"[^\"]{0,5}\"\\})? [0-9.eE+-]{1,6}\n|.{0,30}\n){0,12}") {
        let _ = openmetrics_to_otlp(&text, Resource::default(), "s", 0, 0);
    }

    #[test]
    fn counter_values_survive_conversion(values in proptest::collection::vec(0u64..1_000_000, 1..8)) {
        let m = MetricCatalogue::default();
        let mut registry = Registry::default();
        m.register(&mut registry);
        for (i, v) in values.iter().enumerate() {
            m.scanner_sbom_components(&format!("eco{i}")).inc_by(*v);
        }
        let text = encode_openmetrics(&registry).unwrap();
        let request = openmetrics_to_otlp(&text, Resource::default(), "s", 0, 0).unwrap();
        let metric = request.resource_metrics[0].scope_metrics[0]
            .metrics
            .iter()
            .find(|m| m.name == "scanner_sbom_components_total")
            .unwrap();
        let Some(Data::Sum(sum)) = &metric.data else { panic!() };
        let mut got: Vec<u64> = sum.data_points.iter().map(|p| match p.value { Some(Value::AsDouble(d)) => d as u64, _ => u64::MAX }).collect();
        let mut want = values.clone();
        got.sort_unstable();
        want.sort_unstable();
        prop_assert_eq!(got, want);
    }
}
