//! `telemetry_scrub_events_total{tenant,reason}`: counts one event per reason of each report,
//! and its exposition passes `promtool check metrics` (the real Prometheus linter).

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use stellaops_redaction::{Reason, RedactionPolicy, Redactor, ScrubMetrics};
use stellaops_telemetry_testkit::Promtool;

#[test]
fn reports_become_counted_events_that_promtool_accepts() {
    let redactor = Redactor::new(RedactionPolicy::default());
    let metrics = ScrubMetrics::new();
    let mut registry = Registry::default();
    metrics.register(&mut registry);

    let (_, both) = redactor.redact_text("bob@example.com used password=hunter2");
    metrics.record("acme", both);
    metrics.record("acme", redactor.redact_value("session_id", "abc").report());
    metrics.record("globex", redactor.redact_text("GET /healthz").1);

    assert_eq!(metrics.count("acme", Reason::Secret), 1);
    assert_eq!(metrics.count("acme", Reason::Pii), 1);
    assert_eq!(metrics.count("acme", Reason::Pattern), 1);
    assert_eq!(
        metrics.count("globex", Reason::Secret),
        0,
        "a clean report counts nothing"
    );

    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("# TYPE telemetry_scrub_events counter"),
        "{text}"
    );
    assert!(
        text.contains(r#"telemetry_scrub_events_total{tenant="acme",reason="pattern"} 1"#),
        "{text}"
    );
    assert!(!text.contains("globex"), "{text}");

    // prometheus-client writes OpenMetrics, where a counter family is named without `_total`;
    // promtool lints the Prometheus 0.0.4 text format, where HELP and TYPE carry the sample
    // name. Same samples, same labels: only the metadata lines are renamed.
    let prometheus_text: String = text
        .lines()
        .filter(|line| *line != "# EOF")
        .map(|line| {
            line.replace(
                "# HELP telemetry_scrub_events ",
                "# HELP telemetry_scrub_events_total ",
            )
            .replace(
                "# TYPE telemetry_scrub_events ",
                "# TYPE telemetry_scrub_events_total ",
            ) + "\n"
        })
        .collect();
    let lint = Promtool::locate()
        .unwrap()
        .check_metrics(&prometheus_text)
        .unwrap();
    assert!(
        lint.success,
        "promtool rejected the exposition: {}\n{prometheus_text}",
        lint.combined()
    );
    assert!(
        lint.combined().trim().is_empty(),
        "promtool lint: {}",
        lint.combined()
    );
}
