//! The build functions that turn batches into OTLP requests on the export worker threads:
//! spans (from `sampling::TailSamplingProcessor`) are redacted here; log records arrive
//! already redacted by the log layer (`logging`) and are only converted and grouped.
//!
//! Not the subscriber assembly (`init` does that).

use crate::export::ExportRequest;
use crate::logging::record::{self, LogEntry};
use crate::scrub::OtlpScrubber;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope as ProtoScope;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::trace::SpanData;
use std::collections::BTreeMap;
use std::time::Duration;

/// How long `force_flush` waits for a worker.
pub(crate) const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// The proto form of the service's resource.
pub(crate) fn proto_resource(resource: &ResourceAttributesWithSchema) -> ProtoResource {
    ProtoResource {
        attributes: resource.attributes.0.clone(),
        ..Default::default()
    }
}

/// Turns a batch of spans into one redacted trace export.
pub(crate) fn build_traces(
    resource: ResourceAttributesWithSchema,
    scrubber: OtlpScrubber,
) -> impl FnMut(Vec<SpanData>, bool) -> Option<ExportRequest> + Send {
    move |spans, _tick| {
        if spans.is_empty() {
            return None;
        }
        let mut resource_spans = group_spans_by_resource_and_scope(spans, &resource);
        scrubber.spans(&mut resource_spans);
        Some(ExportRequest::Traces(ExportTraceServiceRequest {
            resource_spans,
        }))
    }
}

/// Turns a batch of log records (redacted by the log layer) into one log export, grouped by
/// scope (the event's target), with the scrub marks and `telemetry_scrub_events_total`.
pub(crate) fn build_logs(
    resource: ResourceAttributesWithSchema,
    scrubber: OtlpScrubber,
) -> impl FnMut(Vec<LogEntry>, bool) -> Option<ExportRequest> + Send {
    move |entries, _tick| {
        if entries.is_empty() {
            return None;
        }
        let mut by_scope: BTreeMap<&'static str, Vec<LogRecord>> = BTreeMap::new();
        let mut spare = Vec::with_capacity(entries.len());
        for entry in entries {
            let mut record = entry.to_proto();
            scrubber.mark_log(&mut record, entry.report);
            by_scope.entry(entry.target).or_default().push(record);
            spare.push(entry.into_buffers());
        }
        record::give_back(spare);
        let resource_logs = vec![ResourceLogs {
            resource: Some(proto_resource(&resource)),
            scope_logs: by_scope
                .into_iter()
                .map(|(name, log_records)| ScopeLogs {
                    scope: Some(ProtoScope {
                        name: name.to_owned(),
                        ..Default::default()
                    }),
                    log_records,
                    schema_url: String::new(),
                })
                .collect(),
            schema_url: resource.schema_url.clone().unwrap_or_default(),
        }];
        Some(ExportRequest::Logs(ExportLogsServiceRequest {
            resource_logs,
        }))
    }
}
