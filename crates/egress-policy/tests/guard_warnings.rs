//! The egress guard warns once per refused exporter (not per decision), with the named
//! fields an operator's log search relies on, and counts every decision in a metric that
//! promtool accepts.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use prometheus_client::encoding::text::encode;
use prometheus_client::registry::Registry;
use stellaops_egress_policy::*;
use stellaops_telemetry_testkit::Promtool;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

#[derive(Debug, Clone)]
struct Captured {
    level: Level,
    target: String,
    fields: BTreeMap<String, String>,
}

/// A tracing layer that keeps every event it sees.
#[derive(Clone, Default)]
struct CaptureLayer {
    events: Arc<Mutex<Vec<Captured>>>,
}

struct FieldVisitor<'a>(&'a mut BTreeMap<String, String>);

impl Visit for FieldVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

impl<S: Subscriber> Layer<S> for CaptureLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut FieldVisitor(&mut fields));
        self.events.lock().unwrap().push(Captured {
            level: *event.metadata().level(),
            target: event.metadata().target().to_owned(),
            fields,
        });
    }
}

impl CaptureLayer {
    fn at(&self, level: Level) -> Vec<Captured> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.level == level)
            .cloned()
            .collect()
    }
}

/// Runs `f` with a capturing subscriber and returns what it captured.
fn captured(f: impl FnOnce()) -> CaptureLayer {
    let layer = CaptureLayer::default();
    let subscriber = tracing_subscriber::registry().with(layer.clone());
    tracing::subscriber::with_default(subscriber, f);
    layer
}

fn request(component: &str, signal: Signal, endpoint: &str) -> EgressRequest {
    EgressRequest::new(component, signal, Endpoint::parse(endpoint))
}

#[test]
fn a_refused_exporter_warns_once_with_named_fields_however_often_it_is_decided() {
    let guard = EgressGuard::new(SealedModePolicy::new(SealedMode::new(SealState::Sealed)));
    let traces = request("otlp", Signal::Traces, "https://collector.example:4318")
        .with_intent("export spans");
    let events = captured(|| {
        for _ in 0..5 {
            assert!(!guard.decide(&traces).allowed());
        }
    });
    let warnings = events.at(Level::WARN);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let warning = &warnings[0];
    assert_eq!(warning.target, EVENT_TARGET);
    let field = |name: &str| warning.fields.get(name).map(String::as_str).unwrap_or("");
    assert_eq!(field("component"), "otlp");
    assert_eq!(field("intent"), "export spans");
    assert_eq!(field("signal"), "traces");
    assert_eq!(field("endpoint"), "https://collector.example:4318");
    assert_eq!(field("class"), "public");
    assert!(
        field("reason").contains("sealed mode is on"),
        "{}",
        field("reason")
    );
    assert!(
        field("reason").contains("collector.example"),
        "{}",
        field("reason")
    );
    assert!(
        field("remediation").contains("http://127.0.0.1:4317"),
        "{}",
        field("remediation")
    );
    assert!(field("message").contains("refused"));
    assert_eq!(guard.metrics().count(Signal::Traces, false), 5);
    assert_eq!(guard.metrics().count(Signal::Traces, true), 0);
}

#[test]
fn each_refused_exporter_warns_and_allowed_ones_stay_quiet() {
    let guard = EgressGuard::new(SealedModePolicy::new(SealedMode::new(SealState::Sealed)));
    let events = captured(|| {
        for _ in 0..3 {
            guard.decide(&request("otlp", Signal::Traces, "collector:4317"));
            guard.decide(&request("otlp", Signal::Logs, "collector:4317"));
            guard.decide(&request("scanner.otlp", Signal::Traces, "10.0.0.7:4317"));
            guard.decide(&request("otlp", Signal::Metrics, "http://127.0.0.1:4317"));
            guard.decide(&request(
                "spool",
                Signal::Logs,
                "./logs/telemetry-sealed.otlp",
            ));
        }
    });
    let warnings = events.at(Level::WARN);
    let refused: Vec<(String, String, String)> = warnings
        .iter()
        .map(|w| {
            (
                w.fields["component"].clone(),
                w.fields["signal"].clone(),
                w.fields["class"].clone(),
            )
        })
        .collect();
    assert_eq!(
        refused,
        [
            ("otlp".into(), "traces".into(), "public".into()),
            ("otlp".into(), "logs".into(), "public".into()),
            ("scanner.otlp".into(), "traces".into(), "private".into()),
        ]
    );
    assert!(events.at(Level::INFO).is_empty());
    assert_eq!(guard.metrics().count(Signal::Traces, false), 6);
    assert_eq!(guard.metrics().count(Signal::Metrics, true), 3);
    assert_eq!(guard.metrics().count(Signal::Logs, true), 3);
}

#[test]
fn a_changed_decision_warns_again() {
    let mode = SealedMode::new(SealState::Sealed);
    let guard = EgressGuard::new(SealedModePolicy::new(mode.clone()));
    let remote = request("otlp", Signal::Traces, "collector:4317");
    let events = captured(|| {
        guard.decide(&remote); // warn 1
        mode.unseal();
        assert!(guard.decide(&remote).allowed()); // info: allowed again
        guard.decide(&remote);
        mode.seal();
        guard.decide(&remote); // warn 2: refused again after being allowed
        guard.decide(&request("otlp", Signal::Traces, "collector-b:4317")); // warn 3: new endpoint
        guard.decide(&request("otlp", Signal::Traces, "collector-b:4317"));
        guard.forget("otlp", Signal::Traces);
        guard.decide(&request("otlp", Signal::Traces, "collector-b:4317")); // warn 4: forgotten
    });
    let endpoints: Vec<String> = events
        .at(Level::WARN)
        .iter()
        .map(|w| w.fields["endpoint"].clone())
        .collect();
    assert_eq!(
        endpoints,
        [
            "collector:4317",
            "collector:4317",
            "collector-b:4317",
            "collector-b:4317"
        ]
    );
    let infos = events.at(Level::INFO);
    assert_eq!(infos.len(), 1, "{infos:#?}");
    assert!(infos[0].fields["message"].contains("allowed again"));
    assert!(infos[0].fields["reason"].contains("sealed mode is off"));
}

#[test]
fn warnings_never_carry_credentials() {
    let guard = EgressGuard::new(SealedModePolicy::new(SealedMode::new(SealState::Sealed)));
    let events = captured(|| {
        guard.decide(&request(
            "otlp",
            Signal::Logs,
            "https://svc:hunter2@collector.example:4318/v1/logs?api_key=abc123",
        ));
    });
    let warnings = events.at(Level::WARN);
    assert_eq!(warnings.len(), 1);
    let all: String = warnings[0].fields.values().cloned().collect();
    assert!(!all.contains("hunter2"), "{all}");
    assert!(!all.contains("abc123"), "{all}");
    assert_eq!(
        warnings[0].fields["endpoint"],
        "https://[redacted]@collector.example:4318/v1/logs?[redacted]"
    );
}

#[test]
fn invalid_endpoints_warn_with_class_invalid() {
    let guard = EgressGuard::unrestricted();
    let events = captured(|| {
        assert!(
            !guard
                .decide(&request("otlp", Signal::Metrics, "ftp://x"))
                .allowed()
        );
        assert!(
            guard
                .decide(&request("otlp", Signal::Traces, "https://x.example"))
                .allowed()
        );
    });
    let warnings = events.at(Level::WARN);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].fields["class"], "invalid");
    assert!(warnings[0].fields["remediation"].contains("fix the exporter's endpoint"));
}

#[test]
fn the_decision_counter_is_exposed_and_passes_promtool() {
    let guard = EgressGuard::new(SealedModePolicy::new(SealedMode::new(SealState::Sealed)));
    let mut registry = Registry::default();
    guard.metrics().register(&mut registry);
    for _ in 0..2 {
        guard.decide(&request("otlp", Signal::Traces, "collector:4317"));
    }
    guard.decide(&request("otlp", Signal::Logs, "unix:///run/otel.sock"));
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(
        text.contains("# TYPE telemetry_egress_decisions counter"),
        "{text}"
    );
    for line in [
        "telemetry_egress_decisions_total{signal=\"traces\",decision=\"denied\"} 2",
        "telemetry_egress_decisions_total{signal=\"logs\",decision=\"allowed\"} 1",
        "telemetry_egress_decisions_total{signal=\"metrics\",decision=\"denied\"} 0",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
    assert!(text.contains(DECISIONS_METRIC));
    let lint = Promtool::locate()
        .unwrap()
        .check_metrics(&openmetrics_to_prometheus_text(&text))
        .unwrap();
    assert!(lint.success, "{}", lint.combined());
    assert!(lint.combined().trim().is_empty(), "{}", lint.combined());
}

/// prometheus-client writes OpenMetrics, where a counter family `x` has samples `x_total`;
/// promtool 2.42 `check metrics` lints the Prometheus text format, where HELP and TYPE name
/// `x_total`. Rewrites the first into the second (what a text-format scrape would return).
fn openmetrics_to_prometheus_text(openmetrics: &str) -> String {
    let counters: Vec<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::new();
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let rewritten = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(&name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        out.push_str(rewritten.as_deref().unwrap_or(line));
        out.push('\n');
    }
    out
}
