//! `init`'s stack against a real collector (rotel via the test kit): conventional spans, logs
//! carrying trace and span ids, and catalogue metrics arrive; secrets never leave the process;
//! `/metrics` is promtool-clean; a collector outage neither blocks nor loses the service.

mod support;

use std::time::Duration;
use stellaops_telemetry_core::settings::Protocol;
use stellaops_telemetry_testkit::{Collector, Promtool};
use support::{Captured, fixed_clock};

const WAIT: Duration = Duration::from_secs(30);

fn started(
    collector: &Collector,
    protocol: Protocol,
    logs: &Captured,
    spool: &std::path::Path,
) -> (stellaops_telemetry_core::Telemetry, tracing::Dispatch) {
    let endpoint = match protocol {
        Protocol::Grpc => collector.grpc_endpoint(),
        Protocol::HttpProtobuf => collector.http_endpoint(),
    };
    stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .service_version("1.2.3")
        .environment("test")
        .otlp_endpoint(endpoint)
        .protocol(protocol)
        .spool_dir(spool)
        .export_interval(Duration::from_secs(1))
        .log_sink(logs.sink())
        .clock(fixed_clock())
        .build()
        .unwrap()
}

fn exercise(telemetry: &stellaops_telemetry_core::Telemetry, dispatch: &tracing::Dispatch) {
    tracing::dispatcher::with_default(dispatch, || {
        let root = tracing::info_span!(
            "http.request",
            http.request.method = "POST",
            url.path = "/api/scan",
            tenant = "acme-corp"
        );
        let _entered = root.enter();
        {
            let child = tracing::info_span!("scan.image", image.ref = "registry.local/app:1.2.3", image.digest = "sha256:abc");
            let _c = child.enter();
            tracing::info!(componentCount = 245_u64, "Scan completed");
        }
        telemetry.metrics().request_total("scanner", "ok").inc();
    });
}

#[test]
fn spans_logs_and_metrics_arrive_over_grpc_with_correlation() {
    let collector = Collector::start().unwrap();
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = started(&collector, Protocol::Grpc, &logs, dir.path());
    exercise(&telemetry, &dispatch);
    assert!(telemetry.flush());

    let root = collector.wait_for_span("http.request", WAIT).unwrap();
    assert_eq!(root.attr("http.request.method").as_deref(), Some("POST"));
    assert_eq!(root.attr("url.path").as_deref(), Some("/api/scan"));
    assert_eq!(
        root.resource_attr("service.name").as_deref(),
        Some("scanner")
    );
    assert_eq!(
        root.resource_attr("service.version").as_deref(),
        Some("1.2.3")
    );
    let child = collector.wait_for_span("scan.image", WAIT).unwrap();
    assert_eq!(child.span.trace_id, root.span.trace_id);
    assert_eq!(child.span.parent_span_id, root.span.span_id);

    let log = collector.wait_for_log("Scan completed", WAIT).unwrap();
    assert_eq!(
        log.record.trace_id, child.span.trace_id,
        "log carries the trace id"
    );
    assert_eq!(
        log.record.span_id, child.span.span_id,
        "log carries the span id"
    );
    assert_eq!(log.attr("componentCount").as_deref(), Some("245"));

    collector
        .wait_for_metric("stellaops_request_total", WAIT)
        .unwrap();

    let line = logs
        .lines()
        .into_iter()
        .find(|l| l["message"] == "Scan completed")
        .unwrap();
    assert_eq!(line["timestamp"], "2025-11-29T12:00:00.123Z");
    assert_eq!(line["level"], "info");
    assert_eq!(line["service"], "scanner");
    assert_eq!(line["tenant"], "acme-corp");
    assert_eq!(line["componentCount"], 245);
    assert_eq!(line["traceId"], hex(&child.span.trace_id));
    assert_eq!(line["spanId"], hex(&child.span.span_id));
    let first = logs
        .text()
        .lines()
        .find(|l| l.contains("Scan completed"))
        .unwrap()
        .to_owned();
    let order: Vec<usize> = [
        "\"timestamp\"",
        "\"level\"",
        "\"message\"",
        "\"service\"",
        "\"traceId\"",
        "\"spanId\"",
        "\"tenant\"",
        "\"componentCount\"",
    ]
    .iter()
    .map(|k| {
        first
            .find(k)
            .unwrap_or_else(|| panic!("{k} missing in {first}"))
    })
    .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "fields out of the advisory's order: {first}"
    );
}

#[test]
fn spans_arrive_over_http_protobuf() {
    let collector = Collector::start().unwrap();
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = started(&collector, Protocol::HttpProtobuf, &logs, dir.path());
    exercise(&telemetry, &dispatch);
    assert!(telemetry.flush());
    collector.wait_for_span("scan.image", WAIT).unwrap();
    collector.wait_for_log("Scan completed", WAIT).unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn secrets_reach_neither_the_collector_nor_stdout() {
    let collector = Collector::start().unwrap();
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = started(&collector, Protocol::Grpc, &logs, dir.path());
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlc2lnbmF0dXJl";
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!(
            "http.request",
            http.request.header.authorization = "Bearer hunter2-token-value",
            user.email = "alice@example.com"
        );
        let _e = span.enter();
        tracing::info!(
            token = jwt,
            "login by bob@example.com with password=hunter2 ok"
        );
        tracing::error!(
            note = "aws key AKIAIOSFODNN7EXAMPLE leaked",
            "request failed"
        );
    });
    assert!(telemetry.flush());
    collector.wait_for_span("http.request", WAIT).unwrap();
    collector.wait_for_log("request failed", WAIT).unwrap();
    let received = format!("{:?}", collector.received());
    let stdout = logs.text();
    for secret in [
        "hunter2",
        "alice@example.com",
        "bob@example.com",
        jwt,
        "AKIAIOSFODNN7EXAMPLE",
    ] {
        assert!(!received.contains(secret), "{secret} reached the collector");
        assert!(
            !stdout.contains(secret),
            "{secret} reached stdout: {stdout}"
        );
    }
    assert!(stdout.contains("[redacted]"));
    let span = collector.wait_for_span("http.request", WAIT).unwrap();
    assert_eq!(span.attr("scrubbed").as_deref(), Some("true"));
}

#[test]
fn metrics_output_is_promtool_clean() {
    let dir = support::private_tempdir();
    let (telemetry, _dispatch) = stellaops_telemetry_core::builder("policy")
        .trace_sampling_ratio(1.0)
        .spool_dir(dir.path())
        .stdout_logs(false)
        .build()
        .unwrap();
    telemetry
        .metrics()
        .policy_run("full", "acme-corp", "baseline")
        .observe(0.3);
    telemetry.metrics().active_jobs("acme-corp", "scan").set(2);
    let text = telemetry.render_prometheus();
    let out = Promtool::locate().unwrap().check_metrics(&text).unwrap();
    assert!(
        out.success && out.combined().trim().is_empty(),
        "{}\n{text}",
        out.combined()
    );
}

#[test]
fn collector_outage_never_blocks_counts_failures_and_recovers() {
    let mut collector = Collector::start().unwrap();
    let dir = support::private_tempdir();
    let logs = Captured::default();
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .otlp_endpoint(collector.grpc_endpoint())
        .protocol(Protocol::Grpc)
        .spool_dir(dir.path())
        .export_timeout(Duration::from_secs(2))
        .batch(stellaops_telemetry_core::export::BatchConfig {
            queue_capacity: 64,
            max_batch: 16,
        })
        .stdout_logs(false)
        .log_sink(logs.sink())
        .build()
        .unwrap();
    collector.stop();

    // The application keeps emitting while nothing listens: pushes never wait for the
    // collector; a full queue drops and counts instead.
    tracing::dispatcher::with_default(&dispatch, || {
        for i in 0..20_000 {
            let span = tracing::info_span!(
                "db.query",
                db.collection.name = "scans",
                db.operation.name = "find",
                i
            );
            let _e = span.enter();
        }
    });
    telemetry.flush();
    let value = |t: &stellaops_telemetry_core::Telemetry, series: &str| {
        t.render_prometheus()
            .lines()
            .filter(|l| l.starts_with(series))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>()
    };
    let metrics = telemetry.render_prometheus();
    assert!(
        value(
            &telemetry,
            "telemetry_otlp_export_failures_total{signal=\"traces\"}"
        ) >= 1.0,
        "{metrics}"
    );
    assert!(
        value(
            &telemetry,
            "collector_export_failures_total{signal=\"traces\",exporter=\"otlp-grpc\"}"
        ) >= 1.0,
        "{metrics}"
    );
    assert!(
        value(
            &telemetry,
            "telemetry_export_dropped_total{signal=\"traces\"}"
        ) >= 1.0,
        "a full queue drops: {metrics}"
    );
    // Nothing accepted is lost: failed batches went to the spool.
    assert!(!support::spooled(dir.path(), "traces").is_empty());

    collector.restart().unwrap();
    // The backlog the outage left in the (64-span) queue drains to the collector first; a span
    // pushed while the queue is still full would be dropped and counted, as above.
    let _ = telemetry.flush();
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("after.outage").entered();
    });
    assert!(telemetry.flush());
    collector.wait_for_span("after.outage", WAIT).unwrap();
}
