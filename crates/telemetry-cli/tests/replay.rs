//! `stella-telemetry bundle replay` through the real binary into the real collector (rotel,
//! via the test kit): exact counts and content, an outage healed by retries without
//! duplicates, sealed mode refusing a non-local endpoint with the remediation, and tampered
//! or unverified bundles refused before any connection is made.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use stellaops_telemetry_testkit::{Collector, Received};

const TRACE_RECORDS: u8 = 40;
/// Spans per trace record: record i holds 1 + i % 3 spans.
fn spans_in(i: u8) -> u8 {
    1 + i % 3
}
const METRIC_RECORDS: u8 = 5;
const LOG_RECORDS: u8 = 7;
const WAIT: Duration = Duration::from_secs(60);

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args(args)
        .env_remove("STELLAOPS_TELEMETRY_SEALED")
        .output()
        .unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn kv(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        key_strindex: 0,
        value: Some(AnyValue { value: Some(value) }),
    }
}

fn resource() -> Option<Resource> {
    Some(Resource {
        attributes: vec![kv(
            "service.name",
            any_value::Value::StringValue("scanner".into()),
        )],
        ..Default::default()
    })
}

fn span_name(i: u8, j: u8) -> String {
    format!("scan.image {i}.{j}")
}

fn frame(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        stellaops_bundle_format::framing::write_record(&mut out, r).unwrap();
    }
    out
}

fn total_spans() -> usize {
    (0..TRACE_RECORDS).map(|i| usize::from(spans_in(i))).sum()
}

struct Fixture {
    dir: tempfile::TempDir,
    bundle: PathBuf,
    public: PathBuf,
}

/// A signed bundle: 40 trace records (80 spans with distinct names and attributes), 5
/// metric records, 7 log records.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("input");
    std::fs::create_dir_all(&input).unwrap();
    let base = 1_735_689_600_000_000_000u64;
    let traces: Vec<Vec<u8>> = (0..TRACE_RECORDS)
        .map(|i| {
            let spans = (0..spans_in(i))
                .map(|j| Span {
                    trace_id: vec![i + 1; 16],
                    span_id: vec![i + 1, j + 1, 0, 0, 0, 0, 0, 1],
                    name: span_name(i, j),
                    start_time_unix_nano: base + u64::from(i) * 1_000_000,
                    end_time_unix_nano: base + u64::from(i) * 1_000_000 + 500,
                    attributes: vec![
                        kv("seq", any_value::Value::IntValue(i64::from(i))),
                        kv(
                            "image.digest",
                            any_value::Value::StringValue(format!("sha256:{i:064x}")),
                        ),
                    ],
                    ..Default::default()
                })
                .collect();
            ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: resource(),
                    scope_spans: vec![ScopeSpans {
                        spans,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            }
            .encode_to_vec()
        })
        .collect();
    let metrics: Vec<Vec<u8>> = (0..METRIC_RECORDS)
        .map(|i| {
            ExportMetricsServiceRequest {
                resource_metrics: vec![ResourceMetrics {
                    resource: resource(),
                    scope_metrics: vec![ScopeMetrics {
                        metrics: vec![Metric {
                            name: format!("stellaops_queue_depth_{i}"),
                            data: Some(metric::Data::Gauge(Gauge {
                                data_points: vec![NumberDataPoint {
                                    time_unix_nano: base + u64::from(i),
                                    value: Some(number_data_point::Value::AsDouble(f64::from(i))),
                                    ..Default::default()
                                }],
                            })),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            }
            .encode_to_vec()
        })
        .collect();
    let logs: Vec<Vec<u8>> = (0..LOG_RECORDS)
        .map(|i| {
            ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    resource: resource(),
                    scope_logs: vec![ScopeLogs {
                        log_records: vec![LogRecord {
                            time_unix_nano: base + u64::from(i),
                            severity_text: "INFO".into(),
                            body: Some(AnyValue {
                                value: Some(any_value::Value::StringValue(format!(
                                    "scan {i} done"
                                ))),
                            }),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            }
            .encode_to_vec()
        })
        .collect();
    std::fs::write(input.join("traces.pb"), frame(&traces)).unwrap();
    std::fs::write(input.join("metrics.pb"), frame(&metrics)).unwrap();
    std::fs::write(input.join("logs.pb"), frame(&logs)).unwrap();
    let prefix = dir.path().join("site");
    let keygen = cli(&["dsse", "keygen", "--type", "ed25519", "--out", p(&prefix)]);
    assert!(keygen.status.success(), "{}", text(&keygen.stderr));
    let bundle = dir.path().join("window.tar.gz");
    let created = cli(&[
        "bundle",
        "create",
        "--input",
        p(&input),
        "--out",
        p(&bundle),
        "--key",
        p(&dir.path().join("site.key")),
        "--tenant",
        "acme",
    ]);
    assert!(created.status.success(), "{}", text(&created.stderr));
    Fixture {
        public: dir.path().join("site.pub"),
        bundle,
        dir,
    }
}

fn summary(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn counts(summary: &Value, signal: &str) -> (u64, u64, u64, u64) {
    let c = &summary["signals"][signal];
    (
        c["records"].as_u64().unwrap(),
        c["sent"].as_u64().unwrap(),
        c["retried"].as_u64().unwrap(),
        c["failed"].as_u64().unwrap(),
    )
}

/// Waits until the collector forwarded at least every span and log record of the fixture.
fn wait_for_everything(collector: &Collector, signals: &[&str]) -> Received {
    let want_logs = signals.contains(&"logs");
    let want_metrics = signals.contains(&"metrics");
    collector
        .wait_for("every replayed record", WAIT, |r| {
            let spans_ok = r.spans().len() >= total_spans();
            let logs_ok = !want_logs || r.log_records().len() >= usize::from(LOG_RECORDS);
            let metrics_ok = !want_metrics || r.metric_names().len() >= usize::from(METRIC_RECORDS);
            (spans_ok && logs_ok && metrics_ok).then(|| r.clone())
        })
        .unwrap()
}

/// Exactly the fixture's spans: each name once, with its attributes.
fn assert_spans_exact(received: &Received) {
    let spans = received.spans();
    assert_eq!(spans.len(), total_spans(), "no span lost, none duplicated");
    let names: BTreeSet<String> = spans.iter().map(|s| s.span.name.clone()).collect();
    let expected: BTreeSet<String> = (0..TRACE_RECORDS)
        .flat_map(|i| (0..spans_in(i)).map(move |j| span_name(i, j)))
        .collect();
    assert_eq!(names, expected);
    for i in [0u8, 17, 38, 39] {
        let span = spans
            .iter()
            .find(|s| s.span.name == span_name(i, 0))
            .unwrap();
        assert_eq!(span.attr("seq"), Some(i.to_string()));
        assert_eq!(span.attr("image.digest"), Some(format!("sha256:{i:064x}")));
        assert_eq!(
            span.resource_attr("service.name").as_deref(),
            Some("scanner")
        );
        assert_eq!(span.span.trace_id, vec![i + 1; 16]);
    }
}

#[test]
fn replay_into_the_real_collector_is_exact() {
    let f = fixture();
    let collector = Collector::start().unwrap();
    let out = cli(&[
        "bundle",
        "replay",
        p(&f.bundle),
        "--endpoint",
        &collector.grpc_endpoint(),
        "--trusted",
        p(&f.public),
        // Sealed mode allows a loopback collector.
        "--sealed",
    ]);
    let s = summary(&out);
    assert_eq!(counts(&s, "traces"), (40, 40, 0, 0));
    assert_eq!(counts(&s, "metrics"), (5, 5, 0, 0));
    assert_eq!(counts(&s, "logs"), (7, 7, 0, 0));
    assert_eq!(s["sent"], 52);
    assert_eq!(s["failed"], 0);
    assert_eq!(s["signature"]["status"], "verified");
    assert_eq!(s["protocol"], "grpc");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("traces: 40 records, 40 sent, 0 retried, 0 failed"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\r'),
        "no progress bar when stderr is not a terminal"
    );

    let received = wait_for_everything(&collector, &["traces", "metrics", "logs"]);
    assert_spans_exact(&received);
    let mut bodies: Vec<String> = received
        .log_records()
        .iter()
        .map(|l| l.body().unwrap())
        .collect();
    bodies.sort();
    let mut expected: Vec<String> = (0..LOG_RECORDS).map(|i| format!("scan {i} done")).collect();
    expected.sort();
    assert_eq!(bodies, expected);
    let mut metrics = received.metric_names();
    metrics.sort();
    assert_eq!(
        metrics,
        (0..METRIC_RECORDS)
            .map(|i| format!("stellaops_queue_depth_{i}"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn replay_over_http_with_a_signal_filter_a_rate_and_the_loud_insecure_door() {
    let f = fixture();
    let collector = Collector::start().unwrap();
    let out = cli(&[
        "bundle",
        "replay",
        p(&f.bundle),
        "--endpoint",
        &collector.http_endpoint(),
        "--protocol",
        "http",
        "--signal",
        "traces",
        "--rate",
        "2000",
        "--insecure-skip-verify",
    ]);
    let s = summary(&out);
    assert_eq!(counts(&s, "traces"), (40, 40, 0, 0));
    assert!(s["signals"].get("logs").is_none(), "{s}");
    assert_eq!(s["signature"]["status"], "not-checked");
    assert_eq!(s["protocol"], "http/protobuf");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("WARNING: --insecure-skip-verify: the bundle's signature is NOT checked"),
        "{stderr}"
    );
    let received = wait_for_everything(&collector, &["traces"]);
    assert_spans_exact(&received);
    assert!(received.logs.is_empty() && received.metrics.is_empty());
}

#[test]
fn a_collector_down_for_part_of_the_replay_gets_every_record_once_it_is_back() {
    let f = fixture();
    let mut collector = Collector::start().unwrap();
    collector.stop();
    let mut child = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args([
            "bundle",
            "replay",
            p(&f.bundle),
            "--endpoint",
            &collector.grpc_endpoint(),
            "--trusted",
            p(&f.public),
            "--max-retries",
            "30",
        ])
        .env_remove("STELLAOPS_TELEMETRY_SEALED")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let stdout_reader = std::thread::spawn(move || {
        let mut s = String::new();
        stdout.read_to_string(&mut s).unwrap();
        s
    });
    // The replay reports its first retry (connection refused), then the collector comes back.
    let mut stderr_lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut stderr = String::new();
    for line in stderr_lines.by_ref() {
        let line = line.unwrap();
        stderr.push_str(&line);
        stderr.push('\n');
        if line.starts_with("retry 1/30: logs record 0") {
            break;
        }
    }
    assert!(stderr.contains("retry 1/30"), "{stderr}");
    collector.restart().unwrap();
    for line in stderr_lines {
        stderr.push_str(&line.unwrap());
        stderr.push('\n');
    }
    let status = child.wait().unwrap();
    let stdout = stdout_reader.join().unwrap();
    assert!(status.success(), "stdout: {stdout}\nstderr: {stderr}");
    let s: Value = serde_json::from_str(&stdout).unwrap();
    let (records, sent, retried, failed) = counts(&s, "logs");
    assert_eq!((records, sent, failed), (7, 7, 0));
    assert!(retried >= 1, "{s}");
    assert_eq!(s["sent"], 52);

    let received = wait_for_everything(&collector, &["traces", "metrics", "logs"]);
    assert_spans_exact(&received);
    assert_eq!(received.log_records().len(), usize::from(LOG_RECORDS));
    assert_eq!(received.metric_names().len(), usize::from(METRIC_RECORDS));
}

/// A listener that records whether anything connected: the kernel completes a handshake
/// before `accept`, so a connection made before the CLI exited is in the queue.
fn listener(ip: std::net::IpAddr) -> TcpListener {
    let l = TcpListener::bind((ip, 0)).unwrap();
    l.set_nonblocking(true).unwrap();
    l
}

fn nobody_connected(l: &TcpListener) {
    match l.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        other => panic!("expected no connection, found {other:?}"),
    }
}

#[test]
fn sealed_mode_refuses_a_non_local_endpoint_with_the_egress_remediation() {
    let f = fixture();
    let ip = stellaops_telemetry_testkit::host_non_loopback_ipv4().unwrap();
    let l = listener(ip.into());
    let endpoint = format!("http://{}", l.local_addr().unwrap());
    for sealed in [
        vec!["--sealed"],
        vec![], // the environment variable seals too
    ] {
        let mut args = vec![
            "bundle",
            "replay",
            p(&f.bundle),
            "--endpoint",
            &endpoint,
            "--trusted",
            p(&f.public),
        ];
        args.extend(sealed.iter().copied());
        let out = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
            .args(&args)
            .env(
                "STELLAOPS_TELEMETRY_SEALED",
                if sealed.is_empty() { "true" } else { "false" },
            )
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{stderr}");
        assert!(out.stdout.is_empty());
        assert!(
            stderr.contains("refused by the egress policy, nothing sent: sealed mode is on"),
            "{stderr}"
        );
        assert!(
            stderr.contains("remediation: sealed mode allows only loopback")
                && stderr.contains("http://127.0.0.1:4317"),
            "{stderr}"
        );
        nobody_connected(&l);
    }
}

/// Rewrites the bundle with one byte of a span name changed, keeping the manifest.
fn tamper(bundle: &Path) {
    let mut tar_bytes = stellaops_telemetry_testkit::gzip_bundle_tar(bundle).unwrap();
    let needle = span_name(7, 0);
    let at = tar_bytes
        .windows(needle.len())
        .position(|w| w == needle.as_bytes())
        .unwrap();
    tar_bytes[at] = b'S';
    // A well-formed container around the changed tar: the refusal must come from the
    // manifest's per-file digest, not from the container check.
    let container = stellaops_telemetry_testkit::gzip_bundle_container(&tar_bytes).unwrap();
    std::fs::write(bundle, container).unwrap();
}

#[test]
fn a_tampered_bundle_is_refused_before_anything_is_sent() {
    let f = fixture();
    tamper(&f.bundle);
    let l = listener(std::net::Ipv4Addr::LOCALHOST.into());
    let endpoint = format!("http://{}", l.local_addr().unwrap());
    let out = cli(&[
        "bundle",
        "replay",
        p(&f.bundle),
        "--endpoint",
        &endpoint,
        "--trusted",
        p(&f.public),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with(
            "error[bundle.digest_mismatch]: bundle refused, nothing sent: otlp/traces.pb: expected sha256"
        ),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    nobody_connected(&l);
    let _ = f.dir.path();
}

#[test]
fn an_unverified_bundle_is_refused_without_trusted_keys() {
    let f = fixture();
    let l = listener(std::net::Ipv4Addr::LOCALHOST.into());
    let endpoint = format!("http://{}", l.local_addr().unwrap());
    let out = cli(&["bundle", "replay", p(&f.bundle), "--endpoint", &endpoint]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error[replay.unverified]: nothing sent"),
        "{stderr}"
    );
    assert!(stderr.contains("--insecure-skip-verify"), "{stderr}");
    // A key that did not sign it.
    let prefix = f.dir.path().join("stranger");
    assert!(
        cli(&["dsse", "keygen", "--type", "ed25519", "--out", p(&prefix)])
            .status
            .success()
    );
    let out = cli(&[
        "bundle",
        "replay",
        p(&f.bundle),
        "--endpoint",
        &endpoint,
        "--trusted",
        p(&f.dir.path().join("stranger.pub")),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error[bundle.signature]: bundle refused, nothing sent"),
        "{stderr}"
    );
    nobody_connected(&l);
}

#[test]
fn a_collector_that_never_answers_fails_the_records_and_exits_1() {
    let f = fixture();
    // A port nobody listens on: connection refused on every attempt.
    let port = stellaops_telemetry_testkit::free_loopback_port().unwrap();
    let out = cli(&[
        "bundle",
        "replay",
        p(&f.bundle),
        "--endpoint",
        &format!("http://127.0.0.1:{port}"),
        "--trusted",
        p(&f.public),
        "--max-retries",
        "2",
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["sent"], 0);
    assert_eq!(s["failed"], 52);
    assert_eq!(counts(&s, "logs"), (7, 0, 1, 7));
    assert!(stderr.contains("retry 2/2: logs record 0"), "{stderr}");
    assert!(stderr.contains("giving up: logs record 0"), "{stderr}");
    // The run ends with one failure report naming why.
    assert!(
        stderr.lines().last().is_some_and(|l| l.starts_with(
            "error[replay.gave_up]: the collector stayed unreachable after 2 retries"
        )),
        "{stderr}"
    );
}

#[test]
fn unusable_arguments_are_usage_errors() {
    let f = fixture();
    for (flag, value, message) in [
        ("--rate", "0", "records per second"),
        ("--rate", "fast", "records per second"),
        (
            "--endpoint",
            "ftp://collector.example:4317",
            "http://127.0.0.1:4317",
        ),
        ("--client-cert", "client.pem", "--client-key"),
        (
            "--endpoint",
            "unix:///run/otel.sock",
            "not to files or sockets",
        ),
        ("--signal", "spans", "expected traces, metrics or logs"),
        (
            "--insecure-skip-verify",
            "--trusted=site.pub",
            "cannot be used with",
        ),
    ] {
        let mut args = vec!["bundle", "replay", p(&f.bundle), flag, value];
        if flag != "--endpoint" {
            args.extend(["--endpoint", "http://127.0.0.1:4317"]);
        }
        let out = cli(&args);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(message), "{flag} {value}: {stderr}");
    }
}

/// Every request a scripted collector answered: (status, body).
type Answered = std::sync::Arc<std::sync::Mutex<Vec<(u16, Vec<u8>)>>>;

/// A minimal OTLP/HTTP collector stand-in answering each request with the next scripted
/// status (200 once the script runs out), recording the status and body of every request.
fn scripted_http_collector(script: Vec<u16>) -> (String, Answered) {
    use std::sync::{Arc, Mutex};
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen: Answered = Arc::default();
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        let script = Arc::new(Mutex::new(std::collections::VecDeque::from(script)));
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let script = Arc::clone(&script);
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                loop {
                    let mut length = 0usize;
                    let mut first = true;
                    loop {
                        let mut line = String::new();
                        if reader.read_line(&mut line).unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" && !first {
                            break;
                        }
                        first = false;
                        if let Some((name, value)) = line.split_once(':')
                            && name.eq_ignore_ascii_case("content-length")
                        {
                            length = value.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0u8; length];
                    reader.read_exact(&mut body).unwrap();
                    let status = script.lock().unwrap().pop_front().unwrap_or(200);
                    log.lock().unwrap().push((status, body));
                    let response = format!(
                        "HTTP/1.1 {status} Scripted\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n"
                    );
                    if writer.write_all(response.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (endpoint, seen)
}

#[test]
fn http_429_and_503_are_retried_and_a_400_fails_only_its_record() {
    let f = fixture();
    let (endpoint, seen) = scripted_http_collector(vec![503, 429, 200, 400]);
    let out = cli(&[
        "bundle",
        "replay",
        p(&f.bundle),
        "--endpoint",
        &endpoint,
        "--protocol",
        "http",
        "--signal",
        "logs",
        "--trusted",
        p(&f.public),
    ]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(counts(&s, "logs"), (7, 6, 1, 1));
    assert!(
        stderr.contains("retry 1/10: logs record 0 in 100 ms"),
        "{stderr}"
    );
    assert!(stderr.contains("HTTP 503"), "{stderr}");
    assert!(
        stderr.contains("retry 2/10: logs record 0 in 200 ms"),
        "{stderr}"
    );
    assert!(stderr.contains("HTTP 429"), "{stderr}");
    assert!(stderr.contains("failed: logs record 1: "), "{stderr}");
    assert!(stderr.contains("HTTP 400"), "{stderr}");
    assert!(
        stderr.contains("error[replay.records_failed]: 1 record(s) failed"),
        "{stderr}"
    );

    // The collector acknowledged records 0, 2..6, each once and in order; record 1 was
    // rejected once and not retried.
    let seen = seen.lock().unwrap();
    let bodies: Vec<String> = seen
        .iter()
        .map(|(status, body)| {
            let request = ExportLogsServiceRequest::decode(body.as_slice()).unwrap();
            let record = &request.resource_logs[0].scope_logs[0].log_records[0];
            let Some(any_value::Value::StringValue(text)) =
                record.body.as_ref().and_then(|b| b.value.clone())
            else {
                panic!("no body")
            };
            format!("{status} {text}")
        })
        .collect();
    assert_eq!(
        bodies,
        [
            "503 scan 0 done",
            "429 scan 0 done",
            "200 scan 0 done",
            "400 scan 1 done",
            "200 scan 2 done",
            "200 scan 3 done",
            "200 scan 4 done",
            "200 scan 5 done",
            "200 scan 6 done",
        ]
    );
}

#[test]
fn a_terminal_gets_a_progress_bar() {
    let f = fixture();
    let collector = Collector::start().unwrap();
    let bin = env!("CARGO_BIN_EXE_stella-telemetry");
    let command = format!(
        "{bin} bundle replay {} --endpoint {} --trusted {}",
        p(&f.bundle),
        collector.grpc_endpoint(),
        p(&f.public)
    );
    // `script` runs the command on a pseudo-terminal.
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("STELLAOPS_TELEMETRY_SEALED")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let terminal = text(&out.stdout);
    assert!(out.status.success(), "{terminal}");
    assert!(terminal.contains("\r\x1b[2K["), "{terminal:?}");
    assert!(
        terminal.contains("] 100% 52/52 records (traces)"),
        "{terminal:?}"
    );
    assert!(terminal.contains("traces: 40 records, 40 sent, 0 retried, 0 failed"));
    wait_for_everything(&collector, &["traces", "metrics", "logs"]);
}
