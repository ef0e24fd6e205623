//! The promtool peer works: clean exposition passes `check metrics`, a badly named counter is
//! reported; a rule file passes `check rules` and its unit test passes `test rules`, while a
//! wrong expectation fails it.

use stellaops_telemetry_testkit::Promtool;

const CLEAN: &str = "\
# HELP stellaops_request_total Request count.
# TYPE stellaops_request_total counter
stellaops_request_total{service=\"scanner\",status=\"ok\"} 3
";

const BAD: &str = "\
# HELP stellaops_requests Request count.
# TYPE stellaops_requests counter
stellaops_requests{service=\"scanner\"} 3
";

#[test]
fn check_metrics_accepts_clean_text_and_reports_bad_counter_names() {
    let promtool = Promtool::locate().unwrap();
    let clean = promtool.check_metrics(CLEAN).unwrap();
    assert!(
        clean.success,
        "clean exposition rejected: {}",
        clean.combined()
    );
    assert!(
        clean.combined().trim().is_empty(),
        "unexpected lint: {}",
        clean.combined()
    );

    let bad = promtool.check_metrics(BAD).unwrap();
    assert!(!bad.success, "promtool accepted a counter without _total");
    assert!(
        bad.combined().contains("_total"),
        "lint does not name the problem: {}",
        bad.combined()
    );
}

const RULES: &str = r#"groups:
  - name: smoke
    rules:
      - alert: QueueBacklog
        expr: stellaops_queue_depth > 1000
        for: 5m
        labels:
          severity: warning
        annotations:
          summary: "Queue {{ $labels.queue }} is backlogged"
"#;

fn rule_test(expected_alerts: &str) -> String {
    format!(
        r#"rule_files:
  - rules.yaml
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'stellaops_queue_depth{{queue="scans"}}'
        values: '2000x10'
    alert_rule_test:
      - eval_time: 10m
        alertname: QueueBacklog
        exp_alerts:
{expected_alerts}
"#
    )
}

#[test]
fn check_rules_and_test_rules_work_on_real_files() {
    let promtool = Promtool::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, RULES).unwrap();
    let checked = promtool.check_rules(&rules).unwrap();
    assert!(checked.success, "{}", checked.combined());
    assert!(
        checked.combined().contains("1 rules found"),
        "{}",
        checked.combined()
    );

    let fires = "          - exp_labels:\n              severity: warning\n              queue: scans\n            exp_annotations:\n              summary: \"Queue scans is backlogged\"";
    let test = dir.path().join("test.yaml");
    std::fs::write(&test, rule_test(fires)).unwrap();
    let passed = promtool.test_rules(&test).unwrap();
    assert!(passed.success, "{}", passed.combined());

    // An alert that is firing must fail a test that expects silence.
    std::fs::write(&test, rule_test("          []")).unwrap();
    let failed = promtool.test_rules(&test).unwrap();
    assert!(
        !failed.success,
        "promtool passed a wrong expectation: {}",
        failed.combined()
    );
}
