//! The alert rules under promtool: `check rules` accepts them, and `test rules` shows each
//! alert firing on synthetic series that cross its threshold and staying quiet on series
//! that do not.

use stellaops_telemetry_deploy::alerts::{RULES_FILE, rules_yaml, standard_rules};
use stellaops_telemetry_testkit::Promtool;

fn write_rules(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join(RULES_FILE);
    std::fs::write(&path, rules_yaml(&standard_rules())).unwrap();
    path
}

#[test]
fn promtool_check_rules_accepts_the_rule_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_rules(dir.path());
    let out = Promtool::locate().unwrap().check_rules(&path).unwrap();
    assert!(out.success, "{}", out.combined());
    assert!(
        out.combined()
            .contains(&format!("{} rules found", standard_rules().len())),
        "{}",
        out.combined()
    );
}

/// Synthetic series per alert: one set crossing the threshold, one set staying under it.
const UNIT_TESTS: &str = r#"
rule_files:
  - stellaops-alerts.yaml
evaluation_interval: 30s
tests:
  # High Error Rate: scanner fails 10% of requests, policy 1%.
  - interval: 1m
    input_series:
      - series: 'stellaops_request_total{service="scanner",status="ok"}'
        values: '0+90x20'
      - series: 'stellaops_request_total{service="scanner",status="error"}'
        values: '0+10x20'
      - series: 'stellaops_request_total{service="policy",status="ok"}'
        values: '0+99x20'
      - series: 'stellaops_request_total{service="policy",status="error"}'
        values: '0+1x20'
    alert_rule_test:
      - eval_time: 15m
        alertname: HighErrorRate
        exp_alerts:
          - exp_labels: {severity: critical, service: scanner}
            exp_annotations:
              summary: 'scanner: more than 5% of requests fail'
              description: 'scanner answered 10% of its requests with an error over the last 5 minutes.'
  # High Error Rate stays quiet at 4%.
  - interval: 1m
    input_series:
      - series: 'stellaops_request_total{service="scanner",status="ok"}'
        values: '0+96x20'
      - series: 'stellaops_request_total{service="scanner",status="error"}'
        values: '0+4x20'
    alert_rule_test:
      - eval_time: 15m
        alertname: HighErrorRate
        exp_alerts: []
  # Slow Scans: every acme scan takes ~10 minutes (bucket 600), globex scans ~1 minute.
  - interval: 1m
    input_series:
      - series: 'stellaops_scan_duration_seconds_bucket{tenant="acme",le="300"}'
        values: '0x40'
      - series: 'stellaops_scan_duration_seconds_bucket{tenant="acme",le="600"}'
        values: '0+5x40'
      - series: 'stellaops_scan_duration_seconds_bucket{tenant="acme",le="+Inf"}'
        values: '0+5x40'
      - series: 'stellaops_scan_duration_seconds_bucket{tenant="globex",le="60"}'
        values: '0+5x40'
      - series: 'stellaops_scan_duration_seconds_bucket{tenant="globex",le="300"}'
        values: '0+5x40'
      - series: 'stellaops_scan_duration_seconds_bucket{tenant="globex",le="600"}'
        values: '0+5x40'
      - series: 'stellaops_scan_duration_seconds_bucket{tenant="globex",le="+Inf"}'
        values: '0+5x40'
    alert_rule_test:
      - eval_time: 5m
        alertname: SlowScans
        exp_alerts: []
      - eval_time: 30m
        alertname: SlowScans
        exp_alerts:
          - exp_labels: {severity: warning, tenant: acme}
            exp_annotations:
              summary: 'Scans for tenant acme are slow (p95 over 5 minutes)'
              description: 'The 95th percentile scan duration for acme is 9m 45s.'
  # Queue Backlog: scans grows past 1000, reports stays at 10.
  - interval: 1m
    input_series:
      - series: 'stellaops_queue_depth{queue="scans"}'
        values: '500 1500x30'
      - series: 'stellaops_queue_depth{queue="reports"}'
        values: '10x30'
    alert_rule_test:
      - eval_time: 5m
        alertname: QueueBacklog
        exp_alerts: []
      - eval_time: 20m
        alertname: QueueBacklog
        exp_alerts:
          - exp_labels: {severity: warning, queue: scans}
            exp_annotations:
              summary: 'Queue scans holds more than 1000 items'
              description: 'Queue scans has held 1500 items for 10 minutes; workers are not keeping up.'
  # Circuit Open: the registry breaker opens at minute 3, the db breaker stays closed.
  - interval: 1m
    input_series:
      - series: 'stellaops_circuit_breaker_open{service="scanner",breaker="registry"}'
        values: '0 0 0 1x10'
      - series: 'stellaops_circuit_breaker_open{service="scanner",breaker="db"}'
        values: '0x13'
    alert_rule_test:
      - eval_time: 3m
        alertname: CircuitOpen
        exp_alerts: []
      - eval_time: 6m
        alertname: CircuitOpen
        exp_alerts:
          - exp_labels: {severity: critical, service: scanner, breaker: registry}
            exp_annotations:
              summary: 'Circuit breaker registry of scanner is open'
              description: 'scanner stopped calling registry; calls fail fast until the breaker closes.'
  # Export failures: traces fail every minute, logs never.
  - interval: 1m
    input_series:
      - series: 'telemetry_otlp_export_failures_total{signal="traces"}'
        values: '0+2x30'
      - series: 'telemetry_otlp_export_failures_total{signal="logs"}'
        values: '3x30'
      - series: 'collector_export_failures_total{signal="metrics",exporter="prometheusremotewrite"}'
        values: '0+1x30'
      - series: 'collector_export_failures_total{signal="traces",exporter="otlp/tempo"}'
        values: '7x30'
    alert_rule_test:
      - eval_time: 20m
        alertname: TelemetryExportFailing
        exp_alerts:
          - exp_labels: {severity: warning, signal: traces}
            exp_annotations:
              summary: 'OTLP traces export keeps failing'
              description: 'Services fail to export traces over OTLP; data is spooled locally until the collector is reachable.'
      - eval_time: 20m
        alertname: CollectorExportFailing
        exp_alerts:
          - exp_labels: {severity: warning, signal: metrics, exporter: prometheusremotewrite}
            exp_annotations:
              summary: 'Collector exporter prometheusremotewrite fails for metrics'
              description: 'Batches of metrics do not reach prometheusremotewrite; check the backend and the egress policy.'
  # Incident mode: on for 3 hours fires; switched off after 30 minutes stays quiet.
  - interval: 1m
    input_series:
      - series: 'telemetry_incident_mode{state="active"}'
        values: '1x200'
    alert_rule_test:
      - eval_time: 1h
        alertname: IncidentModeStuck
        exp_alerts: []
      - eval_time: 3h
        alertname: IncidentModeStuck
        exp_alerts:
          - exp_labels: {severity: warning}
            exp_annotations:
              summary: 'Incident (forensic) mode has been on for over 2 hours'
              description: 'Forensic mode expires after 30 minutes by default; on for 2 hours means it was extended or its expiry is not running. It costs 100% sampling and extended retention.'
  - interval: 1m
    input_series:
      - series: 'telemetry_incident_mode{state="active"}'
        values: '1x30 0x170'
    alert_rule_test:
      - eval_time: 3h
        alertname: IncidentModeStuck
        exp_alerts: []
"#;

#[test]
fn promtool_unit_tests_fire_and_stay_quiet() {
    let dir = tempfile::tempdir().unwrap();
    write_rules(dir.path());
    let tests = dir.path().join("alerts_test.yaml");
    std::fs::write(&tests, UNIT_TESTS).unwrap();
    let out = Promtool::locate().unwrap().test_rules(&tests).unwrap();
    assert!(out.success, "{}", out.combined());
    assert!(out.combined().contains("SUCCESS"), "{}", out.combined());
}

#[test]
fn a_broken_threshold_is_caught_by_the_unit_tests() {
    // The unit tests can fail: with Queue Backlog at 2000 the scans queue never alerts.
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_yaml(&standard_rules()).replace("> 1000", "> 2000");
    std::fs::write(dir.path().join(RULES_FILE), rules).unwrap();
    let tests = dir.path().join("alerts_test.yaml");
    std::fs::write(&tests, UNIT_TESTS).unwrap();
    let out = Promtool::locate().unwrap().test_rules(&tests).unwrap();
    assert!(!out.success, "{}", out.combined());
    assert!(
        out.combined().contains("QueueBacklog"),
        "{}",
        out.combined()
    );
}

#[test]
fn dora_family_names_match_the_dora_exposition() {
    use stellaops_dora_metrics::{DoraMetrics, MetricUnits, SloMetric};
    for units in [MetricUnits::Hours, MetricUnits::Seconds] {
        let m = DoraMetrics::new(units);
        m.observe_recovery("acme", "prod", 1.5);
        m.count_slo_breach("acme", "prod", SloMetric::LeadTime);
        let text = m.encode_prometheus_text().unwrap();
        let families: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        assert!(families.len() >= 2, "{text}");
        for family in families {
            assert!(
                stellaops_telemetry_deploy::promql::DORA_FAMILIES.contains(&family),
                "{family} is exposed by dora-metrics but unknown to the rule checks"
            );
        }
    }
}
