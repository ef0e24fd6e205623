//! The lean span layer under `init`'s subscriber: parent/child links and ids, span kinds and
//! typed attributes, error events setting the status and keeping the trace, spans waiting
//! beside an open root reached by flush, bounded local buffering, reproducible ids with a
//! seed, and the JSON log line carrying the ids of the exported span.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::{Span, status::StatusCode};
use prost::Message;
use std::time::Duration;
use stellaops_telemetry_core::sampling::ManualClock;
use stellaops_telemetry_core::span_layer::LOCAL_TRACE_BATCH;
use stellaops_telemetry_core::{Telemetry, builder};

fn spans_in(dir: &std::path::Path) -> Vec<Span> {
    support::spooled(dir, "traces")
        .iter()
        .map(|b| ExportTraceServiceRequest::decode(b.as_slice()).unwrap())
        .flat_map(|r| r.resource_spans)
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .collect()
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.value.as_ref())
}

fn start(
    dir: &std::path::Path,
    ratio: f64,
    seed: u64,
    logs: Option<&support::Captured>,
) -> (Telemetry, tracing::Dispatch) {
    let mut b = builder("span-layer")
        .profile("airgap")
        .spool_dir(dir)
        .trace_sampling_ratio(ratio)
        .id_seed(seed)
        .clock(ManualClock::at_unix_nanos(1_764_417_600_000_000_000));
    b = match logs {
        Some(c) => b.log_sink(c.sink()),
        None => b.stdout_logs(false),
    };
    b.build().unwrap()
}

#[test]
fn links_kinds_and_typed_attributes_survive_and_log_lines_carry_the_span_ids() {
    let dir = support::private_tempdir();
    let logs = support::Captured::default();
    let (telemetry, dispatch) = start(dir.path(), 1.0, 1, Some(&logs));
    tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("root", otel.kind = "server", count = 3_u64, ok = true);
        let _r = root.enter();
        let child = tracing::info_span!(
            "child",
            otel.name = "renamed",
            ratio = 0.5_f64,
            delta = -2_i64,
            huge = u64::MAX
        );
        let _c = child.enter();
        tracing::info!(answer = 42, "inside the child");
    });
    assert!(telemetry.flush());
    let spans = spans_in(dir.path());
    assert_eq!(spans.len(), 2, "{spans:?}");
    let root = spans.iter().find(|s| s.name == "root").unwrap();
    let child = spans.iter().find(|s| s.name == "renamed").unwrap();
    assert_eq!(child.trace_id, root.trace_id);
    assert_eq!(child.parent_span_id, root.span_id);
    assert!(root.parent_span_id.is_empty());
    assert_eq!(root.kind, SpanKind::Server as i32);
    assert_eq!(child.kind, SpanKind::Internal as i32);
    assert_eq!(attr(root, "count"), Some(&Value::IntValue(3)));
    assert_eq!(attr(root, "ok"), Some(&Value::BoolValue(true)));
    assert_eq!(attr(child, "ratio"), Some(&Value::DoubleValue(0.5)));
    assert_eq!(attr(child, "delta"), Some(&Value::IntValue(-2)));
    assert_eq!(
        attr(child, "huge"),
        Some(&Value::StringValue(u64::MAX.to_string()))
    );
    assert!(attr(child, "code.line.number").is_some());
    assert!(child.end_time_unix_nano >= child.start_time_unix_nano);

    let line = logs
        .lines()
        .into_iter()
        .find(|l| l["message"] == "inside the child")
        .unwrap();
    assert_eq!(line["traceId"], hex(&child.trace_id));
    assert_eq!(line["spanId"], hex(&child.span_id));
}

#[test]
fn an_error_event_sets_the_status_and_keeps_the_trace_at_ratio_zero() {
    let dir = support::private_tempdir();
    let (telemetry, dispatch) = start(dir.path(), 0.0, 2, None);
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..20 {
            let root = tracing::info_span!("request", i);
            let _r = root.enter();
            let db = tracing::info_span!("db");
            let _d = db.enter();
            if i == 7 {
                tracing::error!(code = "E42", "query failed");
            } else {
                tracing::warn!("slow query");
            }
        }
    });
    assert!(telemetry.flush());
    let spans = spans_in(dir.path());
    assert_eq!(spans.len(), 2, "only the error trace is kept: {spans:?}");
    let db = spans.iter().find(|s| s.name == "db").unwrap();
    assert_eq!(
        db.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );
    assert_eq!(db.events.len(), 1);
    assert_eq!(db.events[0].name, "query failed");
    let stats = telemetry.sampler_stats();
    assert_eq!(stats.traces_kept(), 1);
    assert_eq!(stats.traces_dropped(), 19);
}

#[test]
fn flush_reaches_spans_waiting_beside_a_root_that_is_still_open() {
    let dir = support::private_tempdir();
    let (telemetry, dispatch) = start(dir.path(), 1.0, 3, None);
    let root = tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("long-job");
        {
            let _r = root.enter();
            let step = tracing::info_span!("step");
            let _s = step.enter();
        }
        root
    });
    assert!(telemetry.flush());
    let spans = spans_in(dir.path());
    assert_eq!(
        spans.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["step"],
        "the ended child is exported on flush, the open root is not"
    );
    drop(root);
    assert!(telemetry.flush());
    assert_eq!(spans_in(dir.path()).len(), 2);
}

#[test]
fn a_long_root_hands_its_children_over_in_bounded_batches() {
    let dir = support::private_tempdir();
    let (telemetry, dispatch) = start(dir.path(), 1.0, 4, None);
    let children = LOCAL_TRACE_BATCH * 2 + 5;
    let root = tracing::dispatcher::with_default(&dispatch, || {
        let root = tracing::info_span!("batch-job");
        let _r = root.enter();
        for _ in 0..children {
            let _s = tracing::info_span!("item").entered();
        }
        drop(_r);
        root
    });
    // Two full batches reached the sampler; the last five still wait beside the root.
    assert_eq!(
        telemetry.sampler_stats().buffered_spans,
        LOCAL_TRACE_BATCH * 2
    );
    drop(root);
    assert!(telemetry.flush());
    assert_eq!(spans_in(dir.path()).len(), children + 1);
}

#[test]
fn the_same_seed_gives_the_same_ids() {
    let ids = |seed| {
        let dir = support::private_tempdir();
        let (telemetry, dispatch) = start(dir.path(), 1.0, seed, None);
        tracing::dispatcher::with_default(&dispatch, || {
            let _r = tracing::info_span!("a").entered();
            let _c = tracing::info_span!("b").entered();
        });
        assert!(telemetry.flush());
        let mut ids: Vec<(Vec<u8>, Vec<u8>)> = spans_in(dir.path())
            .into_iter()
            .map(|s| (s.trace_id, s.span_id))
            .collect();
        ids.sort();
        telemetry.shutdown(Duration::from_secs(5));
        ids
    };
    assert_eq!(ids(99), ids(99));
    assert_ne!(ids(99), ids(100));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
