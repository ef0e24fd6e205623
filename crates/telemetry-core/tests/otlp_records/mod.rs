//! OTLP requests with chosen times and tenants, for the spool and capture tests.
#![allow(dead_code, unreachable_pub, missing_docs)]

use chrono::{DateTime, Utc};
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
use stellaops_bundle_format::Signal;
use stellaops_telemetry_core::export::ExportRequest;

pub fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

pub fn ns(t: DateTime<Utc>) -> u64 {
    u64::try_from(t.timestamp_nanos_opt().unwrap()).unwrap()
}

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        key_strindex: 0,
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.into())),
        }),
    }
}

fn tenant_attrs(tenant: Option<&str>) -> Vec<KeyValue> {
    tenant.map(|t| vec![kv("tenant", t)]).unwrap_or_default()
}

/// One item: (name, time, item tenant attribute).
pub type Item<'a> = (&'a str, DateTime<Utc>, Option<&'a str>);

/// Spans named `name` starting at `time` with a `tenant` attribute, under a resource with
/// `resource_tenant`.
pub fn spans(resource_tenant: Option<&str>, items: &[Item<'_>]) -> ExportRequest {
    let spans = items
        .iter()
        .enumerate()
        .map(|(i, (name, time, tenant))| Span {
            trace_id: vec![u8::try_from(i % 250).unwrap() + 1; 16],
            span_id: vec![7; 8],
            name: (*name).into(),
            start_time_unix_nano: ns(*time),
            end_time_unix_nano: ns(*time) + 1_000,
            attributes: tenant_attrs(*tenant),
            ..Span::default()
        })
        .collect();
    ExportRequest::Traces(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: [
                    vec![kv("service.name", "scanner")],
                    tenant_attrs(resource_tenant),
                ]
                .concat(),
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    })
}

/// Log records whose body is `name`.
pub fn logs(resource_tenant: Option<&str>, items: &[Item<'_>]) -> ExportRequest {
    let records = items
        .iter()
        .map(|(name, time, tenant)| LogRecord {
            time_unix_nano: ns(*time),
            observed_time_unix_nano: ns(*time),
            body: Some(AnyValue {
                value: Some(any_value::Value::StringValue((*name).into())),
            }),
            attributes: tenant_attrs(*tenant),
            ..LogRecord::default()
        })
        .collect();
    ExportRequest::Logs(ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: tenant_attrs(resource_tenant),
                ..Resource::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: records,
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    })
}

/// One gauge `name` with one data point per item (value = index).
pub fn gauge(
    resource_tenant: Option<&str>,
    name: &str,
    items: &[(DateTime<Utc>, Option<&str>)],
) -> ExportRequest {
    let points = items
        .iter()
        .enumerate()
        .map(|(i, (time, tenant))| NumberDataPoint {
            time_unix_nano: ns(*time),
            attributes: tenant_attrs(*tenant),
            value: Some(number_data_point::Value::AsInt(i64::try_from(i).unwrap())),
            ..NumberDataPoint::default()
        })
        .collect();
    ExportRequest::Metrics(ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: tenant_attrs(resource_tenant),
                ..Resource::default()
            }),
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: name.into(),
                    data: Some(metric::Data::Gauge(Gauge {
                        data_points: points,
                    })),
                    ..Metric::default()
                }],
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    })
}

/// Span names in a traces record, in order, with their start times.
pub fn span_names(record: &[u8]) -> Vec<(String, u64)> {
    ExportTraceServiceRequest::decode(record)
        .unwrap()
        .resource_spans
        .iter()
        .flat_map(|rs| &rs.scope_spans)
        .flat_map(|ss| &ss.spans)
        .map(|s| (s.name.clone(), s.start_time_unix_nano))
        .collect()
}

/// Log bodies in a logs record, in order.
pub fn log_bodies(record: &[u8]) -> Vec<String> {
    ExportLogsServiceRequest::decode(record)
        .unwrap()
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
        .map(|l| match l.body.as_ref().and_then(|b| b.value.as_ref()) {
            Some(any_value::Value::StringValue(s)) => s.clone(),
            other => panic!("unexpected body {other:?}"),
        })
        .collect()
}

/// Gauge point values (metric name, value) in a metrics record.
pub fn gauge_points(record: &[u8]) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for rm in ExportMetricsServiceRequest::decode(record)
        .unwrap()
        .resource_metrics
    {
        for sm in rm.scope_metrics {
            for m in sm.metrics {
                if let Some(metric::Data::Gauge(g)) = m.data {
                    for p in g.data_points {
                        if let Some(number_data_point::Value::AsInt(v)) = p.value {
                            out.push((m.name.clone(), v));
                        }
                    }
                }
            }
        }
    }
    out
}

/// Every record of every segment file of `signal` under `spool_dir`, in sequence order.
pub fn spooled(spool_dir: &std::path::Path, signal: Signal) -> Vec<Vec<u8>> {
    let dir = spool_dir.join(signal.as_str());
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    // Log records live in class sub-directories (`logs/<class>/`).
    let subdirs: Vec<std::path::PathBuf> = files.iter().filter(|p| p.is_dir()).cloned().collect();
    files.retain(|p| p.is_file());
    for sub in subdirs {
        files.extend(
            std::fs::read_dir(&sub)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_file()),
        );
    }
    files.sort();
    files
        .iter()
        .flat_map(|f| {
            stellaops_bundle_format::framing::RecordReader::new(std::fs::File::open(f).unwrap())
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A temporary directory only its owner can read (mode 0700): the spool refuses a
/// world-readable directory.
pub fn private_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}
