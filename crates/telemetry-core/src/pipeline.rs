//! The build functions that turn batches into OTLP requests on the export worker threads:
//! kept span records (from `span_layer`) are redacted and encoded straight to OTLP protobuf here;
//! log records arrive already redacted by the log layer (`logging`) and are only encoded and
//! grouped.
//!
//! Not the subscriber assembly (`init` does that).

use crate::export::ExportRequest;
use crate::logging::encode::LogsEncoder;
use crate::logging::record::{self, LogEntry};
use crate::scrub::OtlpScrubber;
use crate::span_layer::SpanRecord;
use crate::span_layer::encode::TracesEncoder;
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
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

/// Turns a batch of kept span records (the lean span layer) into one redacted trace export,
/// encoded straight to protobuf here, on the export thread, only for kept traces: one
/// `ResourceSpans` with the span layer's scope, the scrub marks and
/// `telemetry_scrub_events_total` (see `span_layer::encode`).
pub(crate) fn build_trace_records(
    resource: &ResourceAttributesWithSchema,
    scrubber: OtlpScrubber,
) -> impl FnMut(Vec<SpanRecord>, bool) -> Option<ExportRequest> + Send + use<> {
    let encoder = TracesEncoder::new(
        &proto_resource(resource),
        resource.schema_url.clone().unwrap_or_default(),
        &crate::span_layer::scope(),
        scrubber,
    );
    move |records, _tick| {
        if records.is_empty() {
            return None;
        }
        Some(ExportRequest::EncodedTraces(encoder.encode(&records)))
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
