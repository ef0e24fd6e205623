//! Window capture from the spool against a plain `BundleWriter` of the same records.
//!
//! The spool holds N trace and log records (8 spans / 4 log records each, 13 tenants as the
//! span and log `tenant` attribute) in hourly segments. Measured, each signed with Ed25519,
//! gzip level 6, fsync and rename:
//!
//! - `capture/all-tenants`: `Spool::capture(window)` over every record (read segments, decode,
//!   filter to the window, re-encode, order by (timestamp, traceId), bundle).
//! - `capture/one-tenant`: the same with `.tenant("tenant-3")` (1/13 of the items kept).
//! - `baseline/bundle-writer`: `BundleWriter` fed the same records from memory, already in
//!   order (what capture costs over writing a bundle at all).
//!
//! Run with `cargo bench --bench capture -- --warm-up-time 1 --measurement-time 3`; results are
//! recorded in `docs/benchmarks.md`. Under `cargo test`/nextest N is small.
// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use stellaops_telemetry::bundle::{BundleOptions, BundleWriter, ManualClock, Signal};
use stellaops_telemetry::dsse::Ed25519Signer;
use stellaops_telemetry::telemetry_core::export::ExportRequest;
use stellaops_telemetry::telemetry_core::spool::Spool;
use stellaops_telemetry::telemetry_core::window::Window;

fn kv(key: &str, value: String) -> KeyValue {
    KeyValue {
        key: key.into(),
        key_strindex: 0,
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value)),
        }),
    }
}

/// `n` trace records and `n` log records, one of each per millisecond-spaced step.
fn records(n: u64, base: u64) -> Vec<ExportRequest> {
    let mut out = Vec::new();
    for i in 0..n {
        let t = base + i * 1_000_000;
        let trace_id: Vec<u8> = (0..16)
            .map(|b| (i as u8).wrapping_mul(31).wrapping_add(b))
            .collect();
        let resource = Some(Resource {
            attributes: vec![kv("service.name", format!("scanner-{}", i % 7))],
            ..Default::default()
        });
        let spans = (0..8)
            .map(|j| Span {
                trace_id: trace_id.clone(),
                span_id: vec![j as u8; 8],
                name: format!("policy.evaluate rule-{}", (i + j) % 97),
                start_time_unix_nano: t + j * 1000,
                end_time_unix_nano: t + j * 1000 + 250_000,
                attributes: vec![
                    kv(
                        "http.route",
                        format!("/api/v1/scans/{}", (i * 8 + j) % 1000),
                    ),
                    kv("tenant", format!("tenant-{}", (i + j) % 13)),
                ],
                ..Default::default()
            })
            .collect();
        out.push(ExportRequest::Traces(ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource.clone(),
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }));
        out.push(ExportRequest::Logs(ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource,
                scope_logs: vec![ScopeLogs {
                    log_records: (0..4)
                        .map(|j| LogRecord {
                            time_unix_nano: t + j,
                            body: Some(AnyValue {
                                value: Some(any_value::Value::StringValue(format!(
                                    "scan {} finished: {} findings",
                                    i * 4 + j,
                                    (i * 31 + j) % 50
                                ))),
                            }),
                            attributes: vec![kv("tenant", format!("tenant-{}", (i + j) % 13))],
                            trace_id: trace_id.clone(),
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }));
    }
    out
}

fn bench(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let n = if full { 20_000 } else { 200 };
    let start: chrono::DateTime<chrono::Utc> = "2025-03-01T00:00:00Z".parse().unwrap();
    let base = u64::try_from(start.timestamp_nanos_opt().unwrap()).unwrap();
    let records = records(n, base);
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(start);
    let spool = Spool::builder(dir.path().join("spool"))
        .clock(clock.clone())
        .open()
        .unwrap();
    for (i, r) in records.iter().enumerate() {
        if i % 2000 == 0 {
            clock.advance(chrono::Duration::hours(1)); // hourly segments
        }
        spool.append_request(r).unwrap();
    }
    spool.seal_all().unwrap();
    let encoded: Vec<(Signal, Vec<u8>)> =
        records.iter().map(|r| (r.signal(), r.encode())).collect();
    let bytes: u64 = encoded.iter().map(|(_, r)| r.len() as u64 + 4).sum();
    let window = Window::new(start, start + chrono::Duration::days(1)).unwrap();
    let signer = Ed25519Signer::generate().unwrap();
    let fixed = ManualClock::new("2025-03-02T00:00:00Z".parse().unwrap());
    let out = dir.path().join("out.tar.gz");

    let mut group = c.benchmark_group("capture");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.bench_function("baseline/bundle-writer", |b| {
        b.iter(|| {
            let mut w =
                BundleWriter::create(&out, BundleOptions::new("*", "default"), &fixed).unwrap();
            for signal in stellaops_telemetry::bundle::BUNDLE_ORDER {
                w.include_signal(signal).unwrap();
                for (_, r) in encoded.iter().filter(|(s, _)| *s == signal) {
                    w.write_record(signal, r).unwrap();
                }
            }
            w.finish(&[&signer]).unwrap()
        });
    });
    group.bench_function("capture/all-tenants", |b| {
        b.iter(|| {
            spool
                .capture(window)
                .shared_signer(std::sync::Arc::new(signer.clone()))
                .created_at_clock(fixed.clone())
                .write_to(&out)
                .unwrap()
        });
    });
    group.bench_function("capture/one-tenant", |b| {
        b.iter(|| {
            spool
                .capture(window)
                .tenant("tenant-3")
                .shared_signer(std::sync::Arc::new(signer.clone()))
                .created_at_clock(fixed.clone())
                .write_to(&out)
                .unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
