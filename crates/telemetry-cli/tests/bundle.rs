//! The `stella-telemetry bundle` contract, run through the real binary: create (reproducible
//! under SOURCE_DATE_EPOCH), verify with and without trusted keys, inspect, extract, and
//! Python `opentelemetry-proto` decoding every record of an extracted bundle.

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
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use stellaops_telemetry_testkit::Python;

fn cli(args: &[&str], epoch: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"));
    cmd.args(args);
    match epoch {
        Some(e) => cmd.env("SOURCE_DATE_EPOCH", e),
        None => cmd.env_remove("SOURCE_DATE_EPOCH"),
    };
    cmd.output().unwrap()
}

fn stdout_json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn service() -> Option<Resource> {
    Some(Resource {
        attributes: vec![KeyValue {
            key: "service.name".into(),
            key_strindex: 0,
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue("scanner".into())),
            }),
        }],
        ..Default::default()
    })
}

fn frame(records: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        stellaops_bundle_format::framing::write_record(&mut out, r).unwrap();
    }
    out
}

/// An input directory with realistic spans, metrics and logs (ordered by time) and config.
fn input(dir: &Path) -> PathBuf {
    let input = dir.join("input");
    std::fs::create_dir_all(input.join("config/dashboards")).unwrap();
    let base = 1_735_689_600_000_000_000u64;
    let traces: Vec<Vec<u8>> = (0..5u8)
        .map(|i| {
            ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    resource: service(),
                    scope_spans: vec![ScopeSpans {
                        spans: vec![Span {
                            trace_id: vec![i + 1; 16],
                            span_id: vec![i + 1; 8],
                            name: format!("scan.image {i}"),
                            start_time_unix_nano: base + u64::from(i) * 1_000_000,
                            end_time_unix_nano: base + u64::from(i) * 1_000_000 + 500,
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
    let metrics = vec![
        ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: service(),
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![Metric {
                        name: "telemetry_bundle_generation_seconds".into(),
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: vec![NumberDataPoint {
                                time_unix_nano: base,
                                value: Some(number_data_point::Value::AsDouble(1.5)),
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
        .encode_to_vec(),
    ];
    let logs: Vec<Vec<u8>> = (0..3u8)
        .map(|i| {
            ExportLogsServiceRequest {
                resource_logs: vec![ResourceLogs {
                    resource: service(),
                    scope_logs: vec![ScopeLogs {
                        log_records: vec![LogRecord {
                            time_unix_nano: base + u64::from(i),
                            severity_text: "INFO".into(),
                            body: Some(AnyValue {
                                value: Some(any_value::Value::StringValue(format!(
                                    "scan {i} done"
                                ))),
                            }),
                            trace_id: vec![i + 1; 16],
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
    std::fs::write(
        input.join("config/collector.yaml"),
        "receivers:\n  otlp: {}\n",
    )
    .unwrap();
    std::fs::write(
        input.join("config/dashboards/platform.json"),
        "{\"panels\":[]}",
    )
    .unwrap();
    input
}

fn keygen(dir: &Path) -> (PathBuf, PathBuf) {
    let prefix = dir.join("site");
    let out = cli(
        &["dsse", "keygen", "--type", "ed25519", "--out", p(&prefix)],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir.join("site.key"), dir.join("site.pub"))
}

fn create(input: &Path, out: &Path, key: &Path, epoch: Option<&str>) -> Value {
    stdout_json(&cli(
        &[
            "bundle",
            "create",
            "--input",
            p(input),
            "--out",
            p(out),
            "--key",
            p(key),
            "--tenant",
            "acme",
            "--profile",
            "forensic",
            "--from",
            "2025-01-01T00:00:00Z",
            "--to",
            "2025-01-02T00:00:00Z",
        ],
        epoch,
    ))
}

#[test]
fn create_is_reproducible_under_source_date_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let input = input(dir.path());
    let (key, _) = keygen(dir.path());
    let a = dir.path().join("a.tar.gz");
    let b = dir.path().join("b.tar.gz");
    let sa = create(&input, &a, &key, Some("1735689600"));
    let sb = create(&input, &b, &key, Some("1735689600"));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(sa["sha256"], sb["sha256"]);
    assert_eq!(
        sa["records"],
        serde_json::json!({"logs": 3, "metrics": 1, "traces": 5})
    );
    let c = dir.path().join("c.tar.gz");
    create(&input, &c, &key, Some("1735689601"));
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&c).unwrap());
}

#[test]
fn verify_inspect_and_extract_contract() {
    let dir = tempfile::tempdir().unwrap();
    let input = input(dir.path());
    let (key, public) = keygen(dir.path());
    let bundle = dir.path().join("window.tar.gz");
    create(&input, &bundle, &key, Some("1735689600"));

    let ok = stdout_json(&cli(
        &["bundle", "verify", p(&bundle), "--trusted", p(&public)],
        None,
    ));
    assert_eq!(ok["signature"]["status"], "verified");
    assert_eq!(ok["tenant"], "acme");
    assert_eq!(ok["createdAt"], "2025-01-01T00:00:00Z");

    // Without --trusted: reported, exit 1, code on stderr.
    let out = cli(&["bundle", "verify", p(&bundle)], None);
    assert_eq!(out.status.code(), Some(1));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["signature"]["status"], "unverified");
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("error[bundle.signature_unverified]: ")
    );

    // Another key: exit 1 with the signature code.
    let other = tempfile::tempdir().unwrap();
    let (_, other_pub) = keygen(other.path());
    let out = cli(
        &["bundle", "verify", p(&bundle), "--trusted", p(&other_pub)],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[bundle.signature]: "));

    // A flipped byte: exit 1.
    let mut bytes = std::fs::read(&bundle).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    let bad = dir.path().join("bad.tar.gz");
    std::fs::write(&bad, bytes).unwrap();
    let out = cli(
        &["bundle", "verify", p(&bad), "--trusted", p(&public)],
        None,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[bundle."));

    let inspect = stdout_json(&cli(&["bundle", "inspect", p(&bundle)], None));
    assert_eq!(inspect["manifest"]["schemaVersion"], 1);
    assert_eq!(
        inspect["manifest"]["window"]["from"],
        "2025-01-01T00:00:00Z"
    );
    assert_eq!(inspect["records"]["traces"], 5);
    assert_eq!(inspect["manifest"]["files"].as_array().unwrap().len(), 5);

    let out_dir = dir.path().join("extracted");
    let ex = stdout_json(&cli(
        &[
            "bundle",
            "extract",
            p(&bundle),
            "--out",
            p(&out_dir),
            "--trusted",
            p(&public),
        ],
        None,
    ));
    assert_eq!(ex["signature"]["status"], "verified");
    for name in ["traces.pb", "metrics.pb", "logs.pb"] {
        assert_eq!(
            std::fs::read(out_dir.join("otlp").join(name)).unwrap(),
            std::fs::read(input.join(name)).unwrap()
        );
    }
    let out = cli(
        &["bundle", "extract", p(&bundle), "--out", p(&out_dir)],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "existing target refused");
}

#[test]
fn zstd_bundles_are_reproducible_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let input = input(dir.path());
    let (key, public) = keygen(dir.path());
    let mut outputs = Vec::new();
    for name in ["a.tar.zst", "b.tar.zst"] {
        let out = dir.path().join(name);
        stdout_json(&cli(
            &[
                "bundle",
                "create",
                "--input",
                p(&input),
                "--out",
                p(&out),
                "--key",
                p(&key),
                "--zstd",
            ],
            Some("1735689600"),
        ));
        outputs.push(std::fs::read(&out).unwrap());
    }
    assert_eq!(outputs[0], outputs[1]);
    // The stream-digest skippable frame, then the zstd frame.
    assert_eq!(outputs[0][..4], [0x5d, 0x2a, 0x4d, 0x18]);
    assert_eq!(outputs[0][40..44], [0x28, 0xb5, 0x2f, 0xfd]);
    let a = dir.path().join("a.tar.zst");
    let ok = stdout_json(&cli(
        &["bundle", "verify", p(&a), "--trusted", p(&public)],
        None,
    ));
    assert_eq!(ok["signature"]["status"], "verified");
    let inspect = stdout_json(&cli(&["bundle", "inspect", p(&a)], None));
    assert_eq!(inspect["manifest"]["compression"], "zstd");
}

#[test]
fn unsigned_bundles_fail_verification() {
    let dir = tempfile::tempdir().unwrap();
    let input = input(dir.path());
    let bundle = dir.path().join("u.tar.gz");
    stdout_json(&cli(
        &[
            "bundle",
            "create",
            "--input",
            p(&input),
            "--out",
            p(&bundle),
        ],
        Some("0"),
    ));
    let out = cli(&["bundle", "verify", p(&bundle)], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error[bundle.unsigned]: "));
}

#[test]
fn python_opentelemetry_proto_decodes_every_extracted_record() {
    let dir = tempfile::tempdir().unwrap();
    let input = input(dir.path());
    let (key, public) = keygen(dir.path());
    let bundle = dir.path().join("window.tar.gz");
    create(&input, &bundle, &key, Some("1735689600"));
    let out_dir = dir.path().join("x");
    stdout_json(&cli(
        &[
            "bundle",
            "extract",
            p(&bundle),
            "--out",
            p(&out_dir),
            "--trusted",
            p(&public),
        ],
        None,
    ));
    let python = Python::locate().unwrap();
    let traces = python
        .decode_otlp_file("traces", &out_dir.join("otlp/traces.pb"))
        .unwrap();
    assert_eq!(traces.len(), 5);
    assert_eq!(
        traces[4]["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"],
        "scan.image 4"
    );
    let metrics = python
        .decode_otlp_file("metrics", &out_dir.join("otlp/metrics.pb"))
        .unwrap();
    assert_eq!(
        metrics[0]["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["name"],
        "telemetry_bundle_generation_seconds"
    );
    let logs = python
        .decode_otlp_file("logs", &out_dir.join("otlp/logs.pb"))
        .unwrap();
    assert_eq!(logs.len(), 3);
    assert_eq!(
        logs[2]["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0]["body"]["stringValue"],
        "scan 2 done"
    );
}
