//! The metrics as Prometheus sees them: names, labels and values in the OpenMetrics text, and
//! `promtool check metrics` (the real promtool, via the test kit). promtool lints the
//! Prometheus 0.0.4 text format, so the OpenMetrics text is checked after
//! `openmetrics_to_prometheus_text` (counter HELP/TYPE named `x_total`, no `# EOF`).

mod common;

use common::{dep, inc, t, window};
use prometheus_client::registry::Registry;
use stellaops_dora_metrics::{
    DoraMetricsService, EXPOSED_FAMILIES, MetricUnits, Outcome, openmetrics_to_prometheus_text,
};
use stellaops_telemetry_testkit::Promtool;

fn busy_service(units: MetricUnits) -> DoraMetricsService {
    let dora = DoraMetricsService::builder().metric_units(units).build();
    dora.record_deployment(&dep("d-1", 0.0, 2.0, Outcome::Success))
        .unwrap();
    dora.record_deployment(&dep("d-2", 0.0, 30.0, Outcome::Rollback))
        .unwrap();
    dora.record_incident(&inc("i-1", 1.0, Some(1.5), None))
        .unwrap();
    dora.resolve("acme", "prod", "i-1", t(3.0)).unwrap();
    dora.evaluate_window("acme", "prod", &window(0.0, 48.0))
        .unwrap();
    dora
}

fn encode(dora: &DoraMetricsService) -> String {
    let mut registry = Registry::default();
    dora.metrics().register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    text
}

#[test]
fn every_metric_of_the_specification_is_exposed_with_tenant_and_environment() {
    let text = encode(&busy_service(MetricUnits::Hours));
    let labels = r#"tenant="acme",environment="prod""#;
    for sample in [
        format!("dora_deployments_total{{{labels}}} 2"),
        format!("dora_deployment_failure_total{{{labels}}} 1"),
        format!("dora_deployment_frequency_per_day{{{labels}}} 1.0"),
        format!("dora_change_failure_rate_percent{{{labels}}} 50.0"),
        format!("dora_lead_time_hours_count{{{labels}}} 2"),
        format!("dora_lead_time_hours_sum{{{labels}}} 32.0"),
        format!("dora_lead_time_hours_bucket{{le=\"2.0\",{labels}}} 1"),
        format!("dora_time_to_recovery_hours_count{{{labels}}} 1"),
        format!("dora_time_to_recovery_hours_sum{{{labels}}} 2.0"),
        format!("dora_slo_breach_total{{{labels},metric=\"lead_time\"}} 1"),
        format!("dora_slo_breach_total{{{labels},metric=\"mttr\"}} 1"),
        format!("dora_slo_breach_total{{{labels},metric=\"change_failure_rate\"}} 1"),
    ] {
        assert!(text.contains(&sample), "missing {sample} in\n{text}");
    }
    for family in [
        "# TYPE dora_deployments counter",
        "# TYPE dora_deployment_failure counter",
        "# TYPE dora_deployment_frequency_per_day gauge",
        "# TYPE dora_change_failure_rate_percent gauge",
        "# TYPE dora_lead_time_hours histogram",
        "# TYPE dora_time_to_recovery_hours histogram",
        "# TYPE dora_slo_breach counter",
    ] {
        assert!(text.contains(family), "missing {family} in\n{text}");
    }
    // The convenience encoder gives the same lines (series order within a family may differ).
    let sorted = |s: &str| {
        let mut lines: Vec<String> = s.lines().map(String::from).collect();
        lines.sort();
        lines
    };
    let again = busy_service(MetricUnits::Hours)
        .metrics()
        .encode_openmetrics()
        .unwrap();
    assert_eq!(sorted(&again), sorted(&text));
    assert!(text.ends_with("# EOF\n"));
}

#[test]
fn base_unit_histograms_are_promtool_clean() {
    let text = encode(&busy_service(MetricUnits::Seconds));
    assert!(
        text.contains(r#"dora_lead_time_seconds_sum{tenant="acme",environment="prod"} 115200.0"#),
        "{text}"
    );
    assert!(text.contains(r#"dora_time_to_recovery_seconds_bucket{le="7200.0",tenant="acme",environment="prod"} 1"#), "{text}");
    let text = openmetrics_to_prometheus_text(&text);
    assert!(
        text.contains("# TYPE dora_slo_breach_total counter\n"),
        "{text}"
    );
    let out = Promtool::locate().unwrap().check_metrics(&text).unwrap();
    assert!(
        out.success,
        "promtool rejected:\n{}\n{text}",
        out.combined()
    );
    assert!(
        out.combined().trim().is_empty(),
        "promtool lint:\n{}",
        out.combined()
    );
}

#[test]
fn spec_named_hour_histograms_are_the_only_promtool_findings() {
    let text = busy_service(MetricUnits::Hours)
        .metrics()
        .encode_prometheus_text()
        .unwrap();
    let out = Promtool::locate().unwrap().check_metrics(&text).unwrap();
    let combined = out.combined();
    let mut findings: Vec<&str> = combined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    findings.sort_unstable();
    assert_eq!(
        findings,
        [
            r#"dora_lead_time_hours use base unit "seconds" instead of "hours""#,
            r#"dora_time_to_recovery_hours use base unit "seconds" instead of "hours""#,
        ],
        "{text}"
    );
    // Without the two histograms, everything the spec names is clean.
    let rest: String = text
        .split_inclusive('\n')
        .filter(|line| !line.contains("_hours"))
        .collect();
    let out = Promtool::locate().unwrap().check_metrics(&rest).unwrap();
    assert!(
        out.success && out.combined().trim().is_empty(),
        "{}\n{rest}",
        out.combined()
    );
}

#[test]
fn conversion_renames_only_counter_families_and_drops_openmetrics_only_lines() {
    let open = "# HELP a_requests Requests.\n# TYPE a_requests counter\n# UNIT a_requests requests\na_requests_total 3\n# HELP a_depth Depth.\n# TYPE a_depth gauge\na_depth 2\n# EOF\n";
    assert_eq!(
        openmetrics_to_prometheus_text(open),
        "# HELP a_requests_total Requests.\n# TYPE a_requests_total counter\na_requests_total 3\n# HELP a_depth Depth.\n# TYPE a_depth gauge\na_depth 2\n"
    );
}

#[test]
fn exposed_families_lists_every_family_under_both_units() {
    let mut exposed = std::collections::BTreeSet::new();
    for units in [MetricUnits::Hours, MetricUnits::Seconds] {
        let text = openmetrics_to_prometheus_text(&encode(&busy_service(units)));
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                exposed.insert(rest.split(' ').next().unwrap_or_default().to_owned());
            }
        }
    }
    let listed: std::collections::BTreeSet<String> =
        EXPOSED_FAMILIES.iter().map(|f| (*f).to_owned()).collect();
    assert_eq!(exposed, listed);
}
