//! The log layer: one visit and one redaction per event feed both outputs, so the
//! JSON line and the exported OTLP record of an event agree (message, fields, trace and span
//! ids) and hold no secret; the exported values are exactly what one redaction of the input
//! gives, for arbitrary input (property); shutdown drains the logs worker. The log processor
//! (ADR 0009) writes warnings and errors before the call returns, in order after what was
//! queued, loses and reorders nothing in a burst beyond its queue bound, marks incident lines
//! as of when they were logged, and writes lines at once after shutdown.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use prost::Message;
use std::time::Duration;
use stellaops_redaction::{RedactionPolicy, Redactor};
use support::{Captured, fixed_clock};

const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2lnbmF0dXJl";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn started(
    dir: &std::path::Path,
    logs: &Captured,
) -> (stellaops_telemetry_core::Telemetry, tracing::Dispatch) {
    stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .spool_dir(dir)
        .log_sink(logs.sink())
        .clock(fixed_clock())
        .build()
        .unwrap()
}

/// Every log record in the spool, in order.
fn exported(dir: &std::path::Path) -> Vec<LogRecord> {
    support::spooled(dir, "logs")
        .iter()
        .map(|bytes| ExportLogsServiceRequest::decode(bytes.as_slice()).unwrap())
        .flat_map(|request| request.resource_logs)
        .flat_map(|rl| rl.scope_logs)
        .flat_map(|sl| sl.log_records)
        .collect()
}

fn text_of(value: Option<&AnyValue>) -> Option<String> {
    match value?.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        other => Some(format!("{other:?}")),
    }
}

fn attribute(record: &LogRecord, key: &str) -> Option<String> {
    record
        .attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| text_of(kv.value.as_ref()))
}

fn body(record: &LogRecord) -> Option<String> {
    text_of(record.body.as_ref())
}

/// A JSON line's value as the text OTLP would show.
fn json_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

const TOP_LEVEL: [&str; 9] = [
    "timestamp",
    "level",
    "message",
    "service",
    "traceId",
    "spanId",
    "tenant",
    "scrubbed",
    "incident",
];

#[test]
fn the_json_line_and_the_otlp_record_of_an_event_agree_and_hold_no_secret() {
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = started(dir.path(), &logs);
    tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("http.request", tenant = "acme-corp");
        let _r = root.enter();
        let child = tracing::info_span!("policy.evaluate");
        let _c = child.enter();
        tracing::warn!(
            authorization = format_args!("Bearer {JWT}"),
            contact = "alice@example.com",
            upstream = "registry.local",
            attempts = 3_u64,
            cached = true,
            "login for bob@example.com failed with password=hunter2"
        );
    });
    assert!(telemetry.flush());

    let lines = logs.lines();
    assert_eq!(lines.len(), 1, "{}", logs.text());
    let line = &lines[0];
    let records = exported(dir.path());
    assert_eq!(records.len(), 1);
    let record = &records[0];

    // Same redacted message.
    assert_eq!(
        line["message"],
        "login for [redacted] failed with password=[redacted]"
    );
    assert_eq!(body(record).as_deref(), line["message"].as_str());
    // Same trace and span ids (the child span's), present in both.
    assert_eq!(line["traceId"].as_str().unwrap(), hex(&record.trace_id));
    assert_eq!(line["spanId"].as_str().unwrap(), hex(&record.span_id));
    assert_eq!(record.trace_id.len(), 16);
    assert_eq!(record.span_id.len(), 8);
    assert_eq!(record.flags, 1, "sampled");
    // Same fields, same redacted values, same types.
    let fields: Vec<(&String, &serde_json::Value)> = line
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !TOP_LEVEL.contains(&k.as_str()))
        .collect();
    assert_eq!(fields.len(), 5, "{line}");
    for (key, value) in &fields {
        assert_eq!(
            attribute(record, key),
            Some(json_text(value)),
            "field {key}"
        );
    }
    assert_eq!(line["authorization"], "[redacted]");
    assert_eq!(line["contact"], "[redacted]");
    assert_eq!(line["upstream"], "registry.local");
    assert_eq!(line["attempts"], 3);
    assert_eq!(line["cached"], true);
    assert!(matches!(
        record
            .attributes
            .iter()
            .find(|kv| kv.key == "attempts")
            .unwrap()
            .value
            .as_ref()
            .unwrap()
            .value,
        Some(any_value::Value::IntValue(3))
    ));
    // Both say they were scrubbed; OTLP says why; the tenant is the span's.
    assert_eq!(line["scrubbed"], true);
    assert_eq!(attribute(record, "scrubbed").as_deref(), Some("true"));
    assert_eq!(
        attribute(record, "scrub.reasons").as_deref(),
        Some("secret,pii,pattern")
    );
    assert_eq!(line["tenant"], "acme-corp");
    assert_eq!(line["level"], "warn");
    assert_eq!(record.severity_text, "WARN");
    assert_eq!(record.severity_number, 13);
    assert!(record.observed_time_unix_nano > 0);
    // No secret in either output, anywhere.
    for secret in [JWT, "hunter2", "bob@example.com", "alice@example.com"] {
        assert!(!logs.text().contains(secret), "{secret} in the JSON line");
        let spooled = support::spooled(dir.path(), "logs").concat();
        assert!(
            !spooled
                .windows(secret.len())
                .any(|w| w == secret.as_bytes()),
            "{secret} in the spooled OTLP record"
        );
    }
}

#[test]
fn a_scrubbed_line_is_counted_once_not_once_per_output() {
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = started(dir.path(), &logs);
    // Outside any span: nothing but the log line is exported.
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(
            authorization = format_args!("Bearer {JWT}"),
            tenant = "acme-corp",
            "mail bob@example.com with password=hunter2"
        );
    });
    assert!(telemetry.flush());
    assert_eq!(logs.lines()[0]["scrubbed"], true);
    let metrics = telemetry.render_prometheus();
    for reason in ["pattern", "secret", "pii"] {
        let sample =
            format!("telemetry_scrub_events_total{{tenant=\"acme-corp\",reason=\"{reason}\"}} 1");
        assert!(metrics.contains(&sample), "{sample} missing in\n{metrics}");
    }
}

#[test]
fn shutdown_drains_the_log_worker_without_a_flush() {
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = started(dir.path(), &logs);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..3_u64 {
            tracing::info!(i, "queued line");
        }
    });
    assert!(telemetry.shutdown(Duration::from_secs(10)));
    let bodies: Vec<Option<String>> = exported(dir.path()).iter().map(body).collect();
    assert_eq!(bodies, vec![Some("queued line".to_owned()); 3]);
    // After shutdown, events are dropped (and counted), never block.
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("after shutdown"));
    assert_eq!(exported(dir.path()).len(), 3);
}

/// Text that is sometimes a secret, personal data, a card number, long, or plain.
/// The `message` of every JSON line written so far.
fn messages(logs: &Captured) -> Vec<String> {
    logs.lines()
        .iter()
        .map(|l| l["message"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_warning_is_written_before_the_call_returns_after_every_line_queued_before_it() {
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = started(dir.path(), &logs);
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!("one");
        tracing::debug!("hidden at info");
        tracing::info!("two");
        tracing::warn!(retry = 3_u64, "three");
        // No flush: the warning made the emitting thread process the queue.
        assert_eq!(messages(&logs), ["one", "two", "three"]);
        tracing::error!("four");
        assert_eq!(messages(&logs), ["one", "two", "three", "four"]);
    });
    assert!(telemetry.flush());
    // Every line is exported once (the spool keeps each log class in its own stream, so
    // files are not in emit order across classes).
    let mut bodies: Vec<Option<String>> = exported(dir.path()).iter().map(body).collect();
    bodies.sort();
    let expected: Vec<Option<String>> = ["four", "one", "three", "two"]
        .iter()
        .map(|m| Some((*m).to_owned()))
        .collect();
    assert_eq!(bodies, expected);
}

#[test]
fn a_burst_beyond_the_processor_queue_loses_and_reorders_no_line() {
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("scanner")
        .spool_dir(dir.path())
        .log_sink(logs.sink())
        .clock(fixed_clock())
        // Room in the export queue for the whole burst: this test is about the processor.
        .batch(stellaops_telemetry_core::export::BatchConfig {
            queue_capacity: 40_000,
            max_batch: 512,
        })
        .build()
        .unwrap();
    let burst: u64 = 20_000;
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..burst {
            tracing::info!(i, "burst");
        }
    });
    assert!(telemetry.flush());
    let seen: Vec<u64> = logs
        .lines()
        .iter()
        .map(|l| l["i"].as_u64().unwrap())
        .collect();
    assert_eq!(seen, (0..burst).collect::<Vec<_>>());
    assert_eq!(exported(dir.path()).len(), usize::try_from(burst).unwrap());
}

#[test]
fn after_shutdown_lines_are_written_as_they_happen() {
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = started(dir.path(), &logs);
    assert!(telemetry.shutdown(Duration::from_secs(10)));
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("late line"));
    assert_eq!(messages(&logs), ["late line"]);
}

#[test]
fn a_line_logged_during_an_incident_is_marked_even_if_the_incident_ends_before_it_is_written() {
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = started(dir.path(), &logs);
    tracing::dispatcher::with_default(&dispatch, || {
        telemetry
            .incidents()
            .start(stellaops_telemetry_core::incident::IncidentRequest::manual(
                "acme-corp",
                "CVE-2025-12345",
                "alice",
            ))
            .unwrap();
        let span = tracing::info_span!("scan", tenant = "acme-corp");
        span.in_scope(|| tracing::info!("during the incident"));
        telemetry.incidents().stop("acme-corp", "alice").unwrap();
        span.in_scope(|| tracing::info!("after the incident"));
    });
    assert!(telemetry.flush());
    let lines = logs.lines();
    let of = |message: &str| {
        lines
            .iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no line {message:?} in {lines:?}"))
            .clone()
    };
    assert_eq!(of("during the incident")["incident"], true);
    assert_eq!(of("during the incident")["tenant"], "acme-corp");
    assert!(of("after the incident").get("incident").is_none());
}

fn value() -> impl Strategy<Value = String> {
    let plain = "[ -~]{0,24}";
    prop_oneof![
        plain.prop_map(|s| s),
        (plain, plain).prop_map(|(a, b)| format!("{a}Bearer {JWT}{b}")),
        (plain, "[a-z]{1,8}").prop_map(|(a, u)| format!("{a} {u}@example.com")),
        (plain, "[a-z0-9]{1,12}").prop_map(|(a, p)| format!("{a} password={p}")),
        plain.prop_map(|a| format!("{a} 4111 1111 1111 1111")),
        plain.prop_map(|a| format!("{a}AKIAIOSFODNN7EXAMPLE")),
        "[a-z ]{250,300}",
        "[ -~]{0,12}(\\[redacted\\])?[ -~]{0,12}",
    ]
}

/// What `init`'s default redactor makes of one input.
fn one_redaction(redactor: &Redactor, key: &str, raw: &str) -> Option<String> {
    redactor.redact_value(key, raw).value().map(str::to_owned)
}

#[test]
fn exported_values_are_exactly_one_redaction_of_the_input() {
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = started(dir.path(), &logs);
    let redactor = Redactor::new(RedactionPolicy::default());
    let seen = std::cell::Cell::new(0_usize);
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &(value(), value(), value(), value(), any::<u64>()),
            |(message, note, authorization, detail, count)| {
                tracing::dispatcher::with_default(&dispatch, || {
                    tracing::info!(
                        note = note.as_str(),
                        authorization = %authorization,
                        detail = ?detail,
                        count,
                        "{message}"
                    );
                });
                prop_assert!(telemetry.flush());
                let records = exported(dir.path());
                prop_assert_eq!(records.len(), seen.get() + 1);
                seen.set(seen.get() + 1);
                let record = records.last().unwrap();
                let line = logs.lines().pop().unwrap();

                // The body and each field: exactly one redaction of the input...
                let (expected_body, _) = redactor.redact_text(&message);
                prop_assert_eq!(body(record), Some(expected_body.to_string()));
                prop_assert_eq!(line["message"].as_str(), Some(&*expected_body));
                let debug_detail = format!("{detail:?}");
                let count_text = count.to_string();
                for (key, raw) in [
                    ("note", note.as_str()),
                    ("authorization", authorization.as_str()),
                    ("detail", debug_detail.as_str()),
                    ("count", count_text.as_str()),
                ] {
                    let expected = one_redaction(&redactor, key, raw);
                    prop_assert_eq!(&attribute(record, key), &expected, "OTLP {}", key);
                    prop_assert_eq!(
                        line.get(key).map(json_text),
                        expected.clone(),
                        "JSON {}",
                        key
                    );
                    // ...so redacting what was exported again changes nothing.
                    if let Some(out) = &expected {
                        let again = redactor.redact_value(key, out);
                        prop_assert_eq!(again.value(), Some(out.as_str()), "twice {}", key);
                    }
                }
                let (again, report) = redactor.redact_text(&expected_body);
                prop_assert_eq!(&*again, &*expected_body);
                prop_assert!(!report.scrubbed());
                // The JSON line and the record say the same about scrubbing.
                prop_assert_eq!(
                    line.get("scrubbed").is_some(),
                    attribute(record, "scrubbed").is_some()
                );
                Ok(())
            },
        )
        .unwrap();
}
