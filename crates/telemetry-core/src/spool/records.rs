//! What the spool and capture need to know about an OTLP record: the time range of the items
//! it carries, and a copy filtered to a window and a tenant with its items in
//! (timestamp, traceId) order.
//!
//! Item time: a span's start time; a log record's time (its observed time when the time is
//! unset); a metric data point's time. Item tenant: the item's own `tenant` attribute (span,
//! log record or data point attribute), else the resource's `tenant` attribute.

use crate::export::ExportRequest;
use crate::window::Window;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::metric::Data;
use prost::Message as _;
use stellaops_bundle_format::Signal;

/// The attribute naming an item's tenant.
pub const TENANT_ATTRIBUTE: &str = "tenant";

/// The order key of a record: its earliest item's (time in ns, trace id).
pub(crate) type SortKey = (u64, Vec<u8>);

/// Decodes one framed record of `signal`.
pub(crate) fn decode(signal: Signal, bytes: &[u8]) -> Result<ExportRequest, prost::DecodeError> {
    Ok(match signal {
        Signal::Traces => ExportRequest::Traces(ExportTraceServiceRequest::decode(bytes)?),
        Signal::Metrics => ExportRequest::Metrics(ExportMetricsServiceRequest::decode(bytes)?),
        Signal::Logs => ExportRequest::Logs(ExportLogsServiceRequest::decode(bytes)?),
    })
}

fn tenant_of(attributes: &[KeyValue]) -> Option<&str> {
    attributes
        .iter()
        .find(|kv| kv.key == TENANT_ATTRIBUTE)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| match &v.value {
            Some(any_value::Value::StringValue(s)) => Some(s.as_str()),
            _ => None,
        })
}

fn log_time(time: u64, observed: u64) -> u64 {
    if time == 0 { observed } else { time }
}

/// Calls `f` with the time of every item of `request` (of an encoded logs or traces request:
/// only the earliest and latest, which is all [`time_range`] needs).
fn for_each_time(request: &ExportRequest, mut f: impl FnMut(u64)) {
    match request {
        ExportRequest::Traces(r) => r
            .resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .flat_map(|ss| &ss.spans)
            .for_each(|s| f(s.start_time_unix_nano)),
        ExportRequest::Logs(r) => for_each_log_time(r, f),
        ExportRequest::EncodedLogs(r) => {
            if let Some((lo, hi)) = r.time_range() {
                f(lo);
                f(hi);
            }
        }
        ExportRequest::EncodedTraces(r) => {
            if let Some((lo, hi)) = r.time_range() {
                f(lo);
                f(hi);
            }
        }
        ExportRequest::Metrics(r) => r
            .resource_metrics
            .iter()
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .filter_map(|m| m.data.as_ref())
            .for_each(|d| match d {
                Data::Gauge(g) => g.data_points.iter().for_each(|p| f(p.time_unix_nano)),
                Data::Sum(s) => s.data_points.iter().for_each(|p| f(p.time_unix_nano)),
                Data::Histogram(h) => h.data_points.iter().for_each(|p| f(p.time_unix_nano)),
                Data::ExponentialHistogram(h) => {
                    h.data_points.iter().for_each(|p| f(p.time_unix_nano));
                }
                Data::Summary(s) => s.data_points.iter().for_each(|p| f(p.time_unix_nano)),
            }),
    }
}

fn for_each_log_time(
    request: &opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest,
    mut f: impl FnMut(u64),
) {
    request
        .resource_logs
        .iter()
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
        .for_each(|l| f(log_time(l.time_unix_nano, l.observed_time_unix_nano)));
}

/// The earliest and latest record time of a logs request (Unix ns).
pub(crate) fn logs_time_range(
    request: &opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest,
) -> Option<(u64, u64)> {
    let mut range: Option<(u64, u64)> = None;
    for_each_log_time(request, |t| {
        range = Some(range.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
    });
    range
}

/// The earliest and latest item time (Unix ns), or `None` for a request without items.
pub(crate) fn time_range(request: &ExportRequest) -> Option<(u64, u64)> {
    let mut range: Option<(u64, u64)> = None;
    for_each_time(request, |t| {
        range = Some(range.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
    });
    range
}

/// Whether an item at `time` (ns) with `tenant` is kept.
struct Keep<'a> {
    start: u64,
    end: u64,
    tenant: Option<&'a str>,
}

impl Keep<'_> {
    fn new<'a>(window: &Window, tenant: Option<&'a str>) -> Keep<'a> {
        Keep {
            start: nanos(window.start),
            end: nanos(window.end),
            tenant,
        }
    }

    fn keep(&self, time: u64, item: Option<&str>, resource: Option<&str>) -> bool {
        if time < self.start || time >= self.end {
            return false;
        }
        match self.tenant {
            None => true,
            Some(want) => item.or(resource) == Some(want),
        }
    }
}

/// Unix nanoseconds of `t`, clamped to `u64` (times before 1970 are 0).
pub(crate) fn nanos(t: chrono::DateTime<chrono::Utc>) -> u64 {
    t.timestamp_nanos_opt()
        .map_or(if t.timestamp() < 0 { 0 } else { u64::MAX }, |n| {
            u64::try_from(n).unwrap_or(0)
        })
}

/// A record reduced to the items inside `window` belonging to `tenant` (all tenants when
/// `None`), items sorted by (time, traceId) inside each scope; `None` when nothing is left.
/// Returns the record, its sort key and how many items it holds.
pub(crate) fn filter(
    request: ExportRequest,
    window: &Window,
    tenant: Option<&str>,
) -> Option<(ExportRequest, SortKey, u64)> {
    let keep = Keep::new(window, tenant);
    let mut key: Option<SortKey> = None;
    let mut items = 0u64;
    let mut see = |time: u64, trace: &[u8]| {
        items += 1;
        let candidate = (time, trace.to_vec());
        if key.as_ref().is_none_or(|k| candidate < *k) {
            key = Some(candidate);
        }
    };
    let request = match request {
        ExportRequest::EncodedLogs(encoded) => {
            // Decoded (only capture filters records, never the export path).
            return encoded
                .decode()
                .ok()
                .and_then(|r| filter(ExportRequest::Logs(r), window, tenant));
        }
        ExportRequest::EncodedTraces(encoded) => {
            // Decoded (only capture filters records, never the export path).
            return encoded
                .decode()
                .ok()
                .and_then(|r| filter(ExportRequest::Traces(r), window, tenant));
        }
        ExportRequest::Traces(mut r) => {
            for rs in &mut r.resource_spans {
                let rt = rs
                    .resource
                    .as_ref()
                    .and_then(|res| tenant_of(&res.attributes))
                    .map(str::to_owned);
                for ss in &mut rs.scope_spans {
                    ss.spans.retain(|s| {
                        keep.keep(
                            s.start_time_unix_nano,
                            tenant_of(&s.attributes),
                            rt.as_deref(),
                        )
                    });
                    ss.spans.sort_by(|a, b| {
                        (a.start_time_unix_nano, &a.trace_id)
                            .cmp(&(b.start_time_unix_nano, &b.trace_id))
                    });
                    for s in &ss.spans {
                        see(s.start_time_unix_nano, &s.trace_id);
                    }
                }
                rs.scope_spans.retain(|ss| !ss.spans.is_empty());
            }
            r.resource_spans.retain(|rs| !rs.scope_spans.is_empty());
            ExportRequest::Traces(r)
        }
        ExportRequest::Logs(mut r) => {
            for rl in &mut r.resource_logs {
                let rt = rl
                    .resource
                    .as_ref()
                    .and_then(|res| tenant_of(&res.attributes))
                    .map(str::to_owned);
                for sl in &mut rl.scope_logs {
                    sl.log_records.retain(|l| {
                        keep.keep(
                            log_time(l.time_unix_nano, l.observed_time_unix_nano),
                            tenant_of(&l.attributes),
                            rt.as_deref(),
                        )
                    });
                    sl.log_records.sort_by(|a, b| {
                        (
                            log_time(a.time_unix_nano, a.observed_time_unix_nano),
                            &a.trace_id,
                        )
                            .cmp(&(
                                log_time(b.time_unix_nano, b.observed_time_unix_nano),
                                &b.trace_id,
                            ))
                    });
                    for l in &sl.log_records {
                        see(
                            log_time(l.time_unix_nano, l.observed_time_unix_nano),
                            &l.trace_id,
                        );
                    }
                }
                rl.scope_logs.retain(|sl| !sl.log_records.is_empty());
            }
            r.resource_logs.retain(|rl| !rl.scope_logs.is_empty());
            ExportRequest::Logs(r)
        }
        ExportRequest::Metrics(mut r) => {
            for rm in &mut r.resource_metrics {
                let rt = rm
                    .resource
                    .as_ref()
                    .and_then(|res| tenant_of(&res.attributes))
                    .map(str::to_owned);
                let rt = rt.as_deref();
                for sm in &mut rm.scope_metrics {
                    for m in &mut sm.metrics {
                        let Some(data) = m.data.as_mut() else {
                            continue;
                        };
                        macro_rules! points {
                            ($points:expr) => {{
                                $points.retain(|p| {
                                    keep.keep(p.time_unix_nano, tenant_of(&p.attributes), rt)
                                });
                                $points.sort_by_key(|p| p.time_unix_nano);
                                for p in $points.iter() {
                                    see(p.time_unix_nano, &[]);
                                }
                                $points.is_empty()
                            }};
                        }
                        let empty = match data {
                            Data::Gauge(g) => points!(g.data_points),
                            Data::Sum(s) => points!(s.data_points),
                            Data::Histogram(h) => points!(h.data_points),
                            Data::ExponentialHistogram(h) => points!(h.data_points),
                            Data::Summary(s) => points!(s.data_points),
                        };
                        if empty {
                            m.data = None;
                        }
                    }
                    sm.metrics.retain(|m| m.data.is_some());
                }
                rm.scope_metrics.retain(|sm| !sm.metrics.is_empty());
            }
            r.resource_metrics.retain(|rm| !rm.scope_metrics.is_empty());
            ExportRequest::Metrics(r)
        }
    };
    key.map(|k| (request, k, items))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use opentelemetry_proto::tonic::common::v1::AnyValue;
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use opentelemetry_proto::tonic::metrics::v1::{
        HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    };

    fn kv(key: &str, value: &str) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Some(AnyValue {
                value: Some(any_value::Value::StringValue(value.into())),
            }),
            ..KeyValue::default()
        }
    }

    fn window(from_s: i64, to_s: i64) -> Window {
        Window::new(
            chrono::DateTime::from_timestamp(from_s, 0).unwrap(),
            chrono::DateTime::from_timestamp(to_s, 0).unwrap(),
        )
        .unwrap()
    }

    const S: u64 = 1_000_000_000;

    #[test]
    fn a_log_without_time_uses_its_observed_time() {
        let log = |time, observed| LogRecord {
            time_unix_nano: time,
            observed_time_unix_nano: observed,
            attributes: vec![kv("tenant", "acme")],
            ..LogRecord::default()
        };
        let request = ExportRequest::Logs(ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![log(0, 15 * S), log(25 * S, 12 * S), log(0, 0)],
                    ..ScopeLogs::default()
                }],
                ..ResourceLogs::default()
            }],
        });
        assert_eq!(time_range(&request), Some((0, 25 * S)));
        let (kept, key, items) = filter(request, &window(10, 20), Some("acme")).unwrap();
        assert_eq!((key.0, items), (15 * S, 1));
        let ExportRequest::Logs(r) = kept else {
            unreachable!()
        };
        assert_eq!(
            r.resource_logs[0].scope_logs[0].log_records[0].observed_time_unix_nano,
            15 * S
        );
    }

    #[test]
    fn metric_points_are_filtered_per_type_and_empty_metrics_dropped() {
        let point = |t: u64, tenant: &str| NumberDataPoint {
            time_unix_nano: t,
            attributes: vec![kv("tenant", tenant)],
            ..NumberDataPoint::default()
        };
        let request = ExportRequest::Metrics(ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                scope_metrics: vec![ScopeMetrics {
                    metrics: vec![
                        Metric {
                            name: "sum".into(),
                            data: Some(Data::Sum(Sum {
                                data_points: vec![
                                    point(12 * S, "acme"),
                                    point(11 * S, "acme"),
                                    point(13 * S, "globex"),
                                ],
                                ..Sum::default()
                            })),
                            ..Metric::default()
                        },
                        Metric {
                            name: "histogram".into(),
                            data: Some(Data::Histogram(
                                opentelemetry_proto::tonic::metrics::v1::Histogram {
                                    data_points: vec![HistogramDataPoint {
                                        time_unix_nano: 30 * S,
                                        attributes: vec![kv("tenant", "acme")],
                                        ..HistogramDataPoint::default()
                                    }],
                                    ..Default::default()
                                },
                            )),
                            ..Metric::default()
                        },
                    ],
                    ..ScopeMetrics::default()
                }],
                ..ResourceMetrics::default()
            }],
        });
        let (kept, key, items) = filter(request, &window(10, 20), Some("acme")).unwrap();
        assert_eq!((key.0, items), (11 * S, 2));
        let ExportRequest::Metrics(r) = kept else {
            unreachable!()
        };
        let metrics = &r.resource_metrics[0].scope_metrics[0].metrics;
        assert_eq!(metrics.len(), 1, "the histogram had no point left");
        let Some(Data::Sum(sum)) = &metrics[0].data else {
            unreachable!()
        };
        let times: Vec<u64> = sum.data_points.iter().map(|p| p.time_unix_nano).collect();
        assert_eq!(times, [11 * S, 12 * S], "sorted by time");
    }

    #[test]
    fn nothing_left_is_none() {
        let request = ExportRequest::Traces(ExportTraceServiceRequest::default());
        assert!(filter(request, &window(0, 10), None).is_none());
    }
}
