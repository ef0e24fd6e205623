//! Spool retention classes: log records kept by level (error 180 d, warn 90 d,
//! info 30 d, debug 7 d) with a manual clock, traces and metrics by profile, holds extending
//! every class, prune reports and metrics per signal and class, capture reading every class
//! in time order, and crash safety: a process aborted in the middle of a prune loses no record
//! still in retention, and the next open completes the prune.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod otlp_records;

use chrono::{DateTime, Duration as Delta, Utc};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use otlp_records::{gauge, log_bodies, logs, spans, t};
use prost::Message as _;
use std::path::Path;
use stellaops_bundle_format::{BundleReader, Signal};
use stellaops_telemetry_core::export::ExportRequest;
use stellaops_telemetry_core::spool::{
    LogClass, ManualClock, PRUNE_ABORT_ENV, Spool, SpoolConfig, SpoolMetrics,
};
use stellaops_telemetry_core::window::Window;

const T0: &str = "2025-01-01T00:00:00Z";

fn open(dir: &Path, clock: &ManualClock, config: SpoolConfig) -> Spool {
    Spool::builder(dir)
        .config(config)
        .clock(clock.clone())
        .open()
        .unwrap()
}

/// Log records `(body, time, severity_number)` in one request.
fn leveled(items: &[(&str, DateTime<Utc>, i32)]) -> ExportRequest {
    let plain: Vec<(&str, DateTime<Utc>, Option<&str>)> =
        items.iter().map(|(b, t, _)| (*b, *t, None)).collect();
    let ExportRequest::Logs(mut request) = logs(None, &plain) else {
        unreachable!()
    };
    for (record, (_, _, severity)) in request.resource_logs[0].scope_logs[0]
        .log_records
        .iter_mut()
        .zip(items)
    {
        record.severity_number = *severity;
    }
    ExportRequest::Logs(request)
}

fn everything() -> Window {
    Window::new(t("2000-01-01T00:00:00Z"), t("2100-01-01T00:00:00Z")).unwrap()
}

/// Every log body the spool holds, sorted.
fn log_bodies_kept(spool: &Spool) -> Vec<String> {
    let mut out: Vec<String> = spool
        .segments(Signal::Logs, &everything())
        .unwrap()
        .iter()
        .flat_map(|s| {
            stellaops_bundle_format::framing::RecordReader::new(
                std::fs::File::open(&s.path).unwrap(),
            )
            .map(Result::unwrap)
            .collect::<Vec<_>>()
        })
        .flat_map(|r| log_bodies(&r))
        .collect();
    out.sort();
    out
}

fn segments(spool: &Spool, signal: Signal) -> usize {
    spool.segments(signal, &everything()).unwrap().len()
}

/// One request with a record of every level at T0, plus a span and a gauge at T0; sealed.
fn fill(spool: &Spool) {
    let t0 = t(T0);
    spool
        .append_request(&leveled(&[
            ("fatal", t0, 21),
            ("error", t0, 17),
            ("warn", t0, 13),
            ("info", t0, 9),
            ("no-severity", t0, 0),
            ("debug", t0, 5),
            ("trace", t0, 1),
        ]))
        .unwrap();
    spool
        .append_request(&spans(None, &[("span", t0, None)]))
        .unwrap();
    spool
        .append_request(&gauge(None, "queue_depth", &[(t0, None)]))
        .unwrap();
    spool.seal_all().unwrap();
}

fn strings(items: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = items.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

#[test]
fn log_records_are_kept_by_level_and_traces_and_metrics_by_profile() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t(T0));
    let metrics = SpoolMetrics::default();
    let spool = Spool::builder(tmp.path())
        .clock(clock.clone())
        .metrics(metrics.clone())
        .open()
        .unwrap();
    fill(&spool);
    // One segment per class present, in logs/<class>/.
    for class in ["error", "warn", "info", "debug"] {
        assert!(tmp.path().join("logs").join(class).is_dir(), "{class}");
    }
    assert_eq!(segments(&spool, Signal::Logs), 4);

    clock.set(t(T0) + Delta::days(7) - Delta::seconds(1));
    assert!(
        spool.prune().unwrap().removed.is_empty(),
        "7 days minus a second: all kept"
    );

    clock.set(t(T0) + Delta::days(8));
    let report = spool.prune().unwrap();
    let debug = report
        .group("retention", Signal::Logs, Some(LogClass::Debug))
        .unwrap();
    assert_eq!((debug.segments, debug.records), (1, 1));
    assert!(debug.bytes > 0);
    assert_eq!(report.removed.len(), 1, "{report:?}");
    assert_eq!(
        log_bodies_kept(&spool),
        strings(&["fatal", "error", "warn", "info", "no-severity"]),
        "debug and trace are gone at 8 days"
    );

    clock.set(t(T0) + Delta::days(31));
    let report = spool.prune().unwrap();
    assert!(
        report
            .group("retention", Signal::Logs, Some(LogClass::Info))
            .is_some()
    );
    assert!(report.group("retention", Signal::Traces, None).is_some());
    assert!(report.group("retention", Signal::Metrics, None).is_some());
    assert_eq!(
        log_bodies_kept(&spool),
        strings(&["fatal", "error", "warn"]),
        "info (and records without a severity) are gone at 31 days"
    );
    assert_eq!(
        segments(&spool, Signal::Traces),
        0,
        "traces: 30 days by default"
    );
    assert_eq!(
        segments(&spool, Signal::Metrics),
        0,
        "metrics: 30 days by default"
    );

    clock.set(t(T0) + Delta::days(91));
    spool.prune().unwrap();
    assert_eq!(
        log_bodies_kept(&spool),
        strings(&["fatal", "error"]),
        "warn gone at 91 days"
    );

    clock.set(t(T0) + Delta::days(100));
    assert!(spool.prune().unwrap().removed.is_empty());
    assert_eq!(
        log_bodies_kept(&spool),
        strings(&["fatal", "error"]),
        "error kept at 100 days"
    );

    clock.set(t(T0) + Delta::days(180));
    spool.prune().unwrap();
    assert!(log_bodies_kept(&spool).is_empty(), "error gone at 180 days");

    // Metrics by reason, signal and class.
    for class in LogClass::ALL {
        assert_eq!(
            metrics.pruned_segments_of("retention", Signal::Logs, Some(class)),
            1,
            "{class}"
        );
    }
    assert_eq!(
        metrics.pruned_segments_of("retention", Signal::Traces, None),
        1
    );
    assert_eq!(metrics.pruned_segments("retention"), 6);
    let mut registry = prometheus_client::registry::Registry::default();
    metrics.register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    assert!(
        text.contains(
            "telemetry_spool_pruned_segments_total{reason=\"retention\",signal=\"logs\",class=\"debug\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "telemetry_spool_pruned_records_total{reason=\"retention\",signal=\"traces\",class=\"all\"} 1"
        ),
        "{text}"
    );
}

#[test]
fn the_forensic_profile_keeps_traces_and_metrics_180_days_and_logs_by_level() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t(T0));
    let spool = open(tmp.path(), &clock, SpoolConfig::forensic());
    fill(&spool);
    clock.set(t(T0) + Delta::days(100));
    spool.prune().unwrap();
    assert_eq!(segments(&spool, Signal::Traces), 1);
    assert_eq!(segments(&spool, Signal::Metrics), 1);
    assert_eq!(log_bodies_kept(&spool), strings(&["fatal", "error"]));
    clock.set(t(T0) + Delta::days(180));
    spool.prune().unwrap();
    assert_eq!(segments(&spool, Signal::Traces), 0);
    assert_eq!(segments(&spool, Signal::Metrics), 0);
}

#[test]
fn an_incident_hold_extends_every_class_it_covers() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t(T0));
    let spool = open(tmp.path(), &clock, SpoolConfig::default());
    fill(&spool);
    // A second batch, outside the hold, to show the hold is selective.
    let later = t(T0) + Delta::days(2);
    clock.set(later);
    spool
        .append_request(&leveled(&[
            ("debug-later", later, 5),
            ("info-later", later, 9),
        ]))
        .unwrap();
    spool.seal_all().unwrap();
    spool
        .add_hold("acme", t(T0) - Delta::hours(1), t(T0) + Delta::hours(1))
        .unwrap();

    clock.set(later + Delta::days(31));
    let report = spool.prune().unwrap();
    assert_eq!(
        log_bodies_kept(&spool),
        strings(&[
            "fatal",
            "error",
            "warn",
            "info",
            "no-severity",
            "debug",
            "trace"
        ]),
        "the held batch is kept whole; the later one expired by level"
    );
    assert!(report.held >= 4, "{report:?}");
    assert_eq!(segments(&spool, Signal::Traces), 1, "held spans kept");

    clock.set(t(T0) + Delta::days(180));
    spool.prune().unwrap();
    assert!(
        log_bodies_kept(&spool).is_empty(),
        "hold retention (180 d) ended"
    );
    assert_eq!(segments(&spool, Signal::Traces), 0);
}

#[test]
fn capture_reads_every_log_class_in_time_order() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t(T0));
    let spool = open(&tmp.path().join("spool"), &clock, SpoolConfig::default());
    let at = |s: i64| t(T0) + Delta::seconds(s);
    spool
        .append_request(&leveled(&[("b-error", at(2), 17), ("a-debug", at(1), 5)]))
        .unwrap();
    spool
        .append_request(&leveled(&[("c-info", at(3), 9), ("d-warn", at(4), 13)]))
        .unwrap();
    // Read back from the spool with one sealed and one open class segment.
    spool.seal_all().unwrap();
    spool
        .append_request(&leveled(&[("e-debug", at(5), 5)]))
        .unwrap();
    let out = tmp.path().join("capture.tar.gz");
    let summary = spool
        .capture(Window::new(at(0), at(60)).unwrap())
        .write_to(&out)
        .unwrap();
    assert!(
        summary.items.contains(&(Signal::Logs, 5)),
        "{:?}",
        summary.items
    );
    let (_, records) = BundleReader::dangerous_skip_signature()
        .read_records(std::fs::File::open(&out).unwrap())
        .unwrap();
    let bodies: Vec<String> = records
        .iter()
        .filter(|(s, _)| *s == Signal::Logs)
        .flat_map(|(_, r)| log_bodies(r))
        .collect();
    assert_eq!(
        bodies,
        vec!["a-debug", "b-error", "c-info", "d-warn", "e-debug"],
        "records of every class, in time order"
    );
}

#[test]
fn a_raw_append_of_one_class_is_stored_byte_for_byte() {
    let tmp = otlp_records::private_tempdir();
    let clock = ManualClock::new(t(T0));
    let spool = open(tmp.path(), &clock, SpoolConfig::default());
    let ExportRequest::Logs(request) = leveled(&[("w1", t(T0), 13), ("w2", t(T0), 14)]) else {
        unreachable!()
    };
    let bytes = request.encode_to_vec();
    spool.append(Signal::Logs, &bytes).unwrap();
    spool.seal_all().unwrap();
    let seg = &spool.segments(Signal::Logs, &everything()).unwrap()[0];
    assert_eq!(seg.log_class, Some(LogClass::Warn));
    let stored: Vec<Vec<u8>> = stellaops_bundle_format::framing::RecordReader::new(
        std::fs::File::open(&seg.path).unwrap(),
    )
    .map(Result::unwrap)
    .collect();
    assert_eq!(stored, vec![bytes]);
    let decoded = ExportLogsServiceRequest::decode(stored[0].as_slice()).unwrap();
    assert_eq!(decoded, request);
}

// ---- crash safety: a prune aborted part-way (child process), then reopened ----

const CHILD_DIR: &str = "STELLAOPS_SPOOL_RETENTION_TEST_CHILD_DIR";
const CHILD_NOW: &str = "STELLAOPS_SPOOL_RETENTION_TEST_CHILD_NOW";

/// Runs in the child process only: opens the spool (which prunes) at the given time, with
/// the abort hook set by the parent. Does nothing when run directly.
#[test]
fn child_opens_and_prunes_the_spool() {
    let (Some(dir), Some(now)) = (std::env::var_os(CHILD_DIR), std::env::var_os(CHILD_NOW)) else {
        return;
    };
    let clock = ManualClock::new(t(now.to_str().unwrap()));
    let spool = open(Path::new(&dir), &clock, SpoolConfig::default());
    // Only reached when the hook did not fire: the prune completed.
    drop(spool);
}

fn run_child(dir: &Path, now: DateTime<Utc>, abort_after: Option<u64>) -> std::process::ExitStatus {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_opens_and_prunes_the_spool",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir)
        .env(CHILD_NOW, now.to_rfc3339())
        .env_remove(PRUNE_ABORT_ENV)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if let Some(n) = abort_after {
        command.env(PRUNE_ABORT_ENV, n.to_string());
    }
    command.status().unwrap()
}

#[test]
fn a_prune_killed_midway_loses_nothing_in_retention_and_completes_on_reopen() {
    use std::os::unix::process::ExitStatusExt;
    let tmp = otlp_records::private_tempdir();
    let dir = tmp.path().join("spool");
    let clock = ManualClock::new(t(T0));
    let expected_kept: Vec<String>;
    {
        let spool = open(&dir, &clock, SpoolConfig::default());
        // Ten hours of mixed logs, one sealed segment per class per hour.
        let mut kept = Vec::new();
        for hour in 0..10 {
            let at = t(T0) + Delta::hours(hour);
            clock.set(at);
            let names: Vec<String> = ["error", "warn", "info", "debug"]
                .iter()
                .map(|l| format!("{l}-{hour}"))
                .collect();
            spool
                .append_request(&leveled(&[
                    (names[0].as_str(), at, 17),
                    (names[1].as_str(), at, 13),
                    (names[2].as_str(), at, 9),
                    (names[3].as_str(), at, 5),
                ]))
                .unwrap();
            spool.seal_all().unwrap();
            kept.extend(names[..3].iter().cloned());
        }
        kept.sort();
        expected_kept = kept;
        assert_eq!(segments(&spool, Signal::Logs), 40);
    }
    // Eight days later every debug segment (ten) has expired; the child is aborted right
    // after deleting the fourth.
    let later = t(T0) + Delta::days(8) + Delta::hours(10);
    let status = run_child(&dir, later, Some(4));
    assert_eq!(
        status.signal(),
        Some(6),
        "the child aborted (SIGABRT): {status:?}"
    );
    let debug_left = std::fs::read_dir(dir.join("logs/debug")).unwrap().count();
    assert_eq!(
        debug_left, 6,
        "four debug segments were deleted before the crash"
    );

    // Nothing still in retention was lost, and the next open finishes the prune.
    let reader_clock = ManualClock::new(later);
    let spool = open(&dir, &reader_clock, SpoolConfig::default());
    assert_eq!(log_bodies_kept(&spool), expected_kept);
    assert_eq!(
        std::fs::read_dir(dir.join("logs/debug")).unwrap().count(),
        0
    );
    assert_eq!(segments(&spool, Signal::Logs), 30);

    // A run without the hook completes normally.
    drop(spool);
    assert!(run_child(&dir, later, None).success());
}
