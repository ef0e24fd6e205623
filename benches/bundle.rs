//! Bundle write and verify throughput against the plain shell pipeline over the same files.
//!
//! The window: realistic framed OTLP records (spans with attributes, logs with bodies, gauge
//! and sum metrics), written once to `traces.pb`, `metrics.pb`, `logs.pb`.
//!
//! - `write/bundle-writer`: `BundleWriter` from the records in memory (spool, manifest,
//!   Ed25519 signature, reproducible tar + gzip level 6, fsync, rename).
//! - `write/tar|gzip+sha256sum`: `sha256sum *.pb > SHA256SUMS && tar -cf - ... | gzip -6`.
//! - `verify/bundle-reader`: `BundleReader::verify` (every digest, count, the signature).
//! - `verify/gzip -d|tar -x+sha256sum -c`: the same checks with the shell tools.
//!
//! Throughput is over the uncompressed OTLP bytes. Run with
//! `cargo bench --bench bundle -- --warm-up-time 1 --measurement-time 3`;
//! results are recorded in `docs/benchmarks.md`. Under `cargo test`/nextest the window is small.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use prost::Message as _;
use std::path::Path;
use std::process::Command;
use stellaops_telemetry::bundle::{
    BundleOptions, BundleReader, BundleWriter, ManualClock, Signal, framing::write_record,
};
use stellaops_telemetry::dsse::{Ed25519Signer, TrustedKeys, Verifier};

fn kv(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.into(),
        key_strindex: 0,
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
    }
}

fn resource(i: u64) -> Option<Resource> {
    Some(Resource {
        attributes: vec![
            kv("service.name", format!("scanner-{}", i % 7)),
            kv("deployment.environment", "production".into()),
            kv("host.name", format!("node-{:03}", i % 41)),
        ],
        ..Default::default()
    })
}

/// A deterministic pseudo-random id stream (xorshift).
fn id(state: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            *state as u8
        })
        .collect()
}

/// Records for a window of about `target` bytes, ordered by (timestamp, traceId).
fn window(target: usize) -> Vec<(Signal, Vec<u8>)> {
    let mut out = Vec::new();
    let mut bytes = 0;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let base = 1_735_689_600_000_000_000u64;
    let mut i = 0u64;
    while bytes < target {
        let t = base + i * 1_000_000;
        let trace_id = id(&mut state, 16);
        let spans = (0..8)
            .map(|j| Span {
                trace_id: trace_id.clone(),
                span_id: id(&mut state, 8),
                name: format!("policy.evaluate rule-{}", (i + j) % 97),
                kind: span::SpanKind::Server as i32,
                start_time_unix_nano: t + j * 1000,
                end_time_unix_nano: t + j * 1000 + 250_000,
                attributes: vec![
                    kv(
                        "http.route",
                        format!("/api/v1/scans/{}", (i * 8 + j) % 1000),
                    ),
                    kv("tenant", format!("tenant-{}", i % 13)),
                ],
                ..Default::default()
            })
            .collect();
        let traces = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource(i),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec();
        let logs = ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: resource(i),
                scope_logs: vec![ScopeLogs {
                    log_records: (0..4)
                        .map(|j| LogRecord {
                            time_unix_nano: t + j,
                            severity_number: 9,
                            severity_text: "INFO".into(),
                            body: Some(AnyValue {
                                value: Some(any_value::Value::StringValue(format!(
                                    "scan {} finished: {} findings in {} ms",
                                    i * 4 + j,
                                    (i * 31 + j) % 50,
                                    (i * 17 + j) % 900
                                ))),
                            }),
                            trace_id: trace_id.clone(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec();
        let metrics = ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: resource(i),
                scope_metrics: vec![ScopeMetrics {
                    metrics: (0..4)
                        .map(|j| Metric {
                            name: format!("scanner_queue_depth_{j}"),
                            data: Some(metric::Data::Gauge(Gauge {
                                data_points: vec![NumberDataPoint {
                                    time_unix_nano: t,
                                    value: Some(number_data_point::Value::AsInt(
                                        ((i * 7 + j) % 300) as i64,
                                    )),
                                    attributes: vec![kv("queue", format!("q{j}"))],
                                    ..Default::default()
                                }],
                            })),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec();
        bytes += traces.len() + logs.len() + metrics.len() + 12;
        out.push((Signal::Traces, traces));
        out.push((Signal::Logs, logs));
        out.push((Signal::Metrics, metrics));
        i += 1;
    }
    out
}

fn sh(dir: &Path, script: &str) {
    let status = Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .status()
        .unwrap();
    assert!(status.success(), "{script}");
}

fn bench(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let records = window(if full { 32 << 20 } else { 256 << 10 });
    let total: usize = records.iter().map(|(_, r)| r.len() + 4).sum();
    let dir = tempfile::tempdir().unwrap();
    let files = dir.path().join("files");
    std::fs::create_dir(&files).unwrap();
    for signal in stellaops_telemetry::bundle::BUNDLE_ORDER {
        let mut buf = Vec::new();
        for (_, r) in records.iter().filter(|(s, _)| *s == signal) {
            write_record(&mut buf, r).unwrap();
        }
        std::fs::write(files.join(format!("{}.pb", signal.as_str())), buf).unwrap();
    }
    let signer = Ed25519Signer::generate().unwrap();
    let trusted = TrustedKeys::new()
        .with(signer.public_key().verifier(signer.key_id()))
        .unwrap();
    let reader = BundleReader::new(Verifier::new(trusted));
    let clock = ManualClock::new("2025-01-02T00:00:00Z".parse().unwrap());
    let bundle = dir.path().join("bundle.tar.gz");
    let write_ours = || {
        let mut w =
            BundleWriter::create(&bundle, BundleOptions::new("acme", "forensic"), &clock).unwrap();
        for (s, r) in &records {
            w.write_record(*s, r).unwrap();
        }
        w.finish(&[&signer]).unwrap()
    };
    let write_plain = || {
        sh(
            &files,
            "sha256sum logs.pb metrics.pb traces.pb > SHA256SUMS && \
             tar -cf - SHA256SUMS logs.pb metrics.pb traces.pb | gzip -6 > ../plain.tar.gz",
        );
    };
    // Both archives exist before any benchmark runs: nextest runs each one on its own.
    write_ours();
    write_plain();

    let mut group = c.benchmark_group("bundle/write");
    group.throughput(Throughput::Bytes(total as u64));
    group.sample_size(10);
    group.bench_function("bundle-writer", |b| b.iter(write_ours));
    group.bench_function("tar|gzip+sha256sum", |b| b.iter(write_plain));
    group.finish();

    let mut group = c.benchmark_group("bundle/verify");
    group.throughput(Throughput::Bytes(total as u64));
    group.sample_size(10);
    group.bench_function("bundle-reader", |b| {
        b.iter(|| reader.verify_file(&bundle).unwrap());
    });
    group.bench_function("gzip -d|tar -x+sha256sum -c", |b| {
        b.iter(|| {
            sh(
                dir.path(),
                "rm -rf x && mkdir x && gzip -dc plain.tar.gz | tar -xf - -C x && \
                 cd x && sha256sum --quiet -c SHA256SUMS",
            );
        });
    });
    group.finish();
    if full {
        eprintln!(
            "window: {} records, {total} bytes; bundle {} bytes",
            records.len(),
            std::fs::metadata(&bundle).unwrap().len()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
