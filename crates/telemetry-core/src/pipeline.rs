//! The build functions that turn batches into OTLP requests on the export worker threads:
//! kept span records (from `span_layer`) become OTLP spans and are redacted here; log records arrive
//! already redacted by the log layer (`logging`) and are only encoded and grouped.
//!
//! Not the subscriber assembly (`init` does that).

use crate::export::ExportRequest;
use crate::logging::encode::LogsEncoder;
use crate::logging::record::{self, LogEntry};
use crate::scrub::OtlpScrubber;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
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

/// Turns a batch of kept span records (the lean span layer) into one redacted trace export:
/// the OTLP spans are built here, on the export thread, only for kept traces.
pub(crate) fn build_trace_records(
    resource: ResourceAttributesWithSchema,
    scrubber: OtlpScrubber,
) -> impl FnMut(Vec<crate::span_layer::SpanRecord>, bool) -> Option<ExportRequest> + Send {
    move |records, _tick| {
        if records.is_empty() {
            return None;
        }
        let mut resource_spans = vec![ResourceSpans {
            resource: Some(proto_resource(&resource)),
            scope_spans: vec![ScopeSpans {
                scope: Some(crate::span_layer::scope()),
                spans: records
                    .into_iter()
                    .map(crate::span_layer::SpanRecord::into_proto)
                    .collect(),
                schema_url: String::new(),
            }],
            schema_url: resource.schema_url.clone().unwrap_or_default(),
        }];
        scrubber.spans(&mut resource_spans);
        Some(ExportRequest::Traces(ExportTraceServiceRequest {
            resource_spans,
        }))
    }
}

/// Turns a batch of log records (redacted by the log layer) into one log export, encoded
/// straight to protobuf: one `ResourceLogs` per retention class present, grouped by scope
/// (the event's target), with the scrub marks and `telemetry_scrub_events_total`.
pub(crate) fn build_logs(
    resource: &ResourceAttributesWithSchema,
    scrubber: OtlpScrubber,
) -> impl FnMut(Vec<LogEntry>, bool) -> Option<ExportRequest> + Send + use<> {
    let encoder = LogsEncoder::new(
        &proto_resource(resource),
        resource.schema_url.clone().unwrap_or_default(),
        scrubber,
    );
    move |entries, _tick| {
        if entries.is_empty() {
            return None;
        }
        let encoded = encoder.encode(&entries);
        record::give_back(entries.into_iter().map(LogEntry::into_buffers).collect());
        Some(ExportRequest::EncodedLogs(encoded))
    }
}
