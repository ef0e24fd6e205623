//! The OpenTelemetry side of the pipeline: a log processor that pushes into the export
//! worker without blocking (spans go through `sampling::TailSamplingProcessor`), and the build functions that turn batches into
//! redacted OTLP requests on the worker threads.
//!
//! Not the subscriber assembly (`init` does that).

use crate::export::{ExportRequest, ExportWorker};
use crate::scrub::OtlpScrubber;
use opentelemetry::InstrumentationScope;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope as ProtoScope;
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::logs::{LogProcessor, SdkLogRecord};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How long `force_flush` waits for a worker.
pub(crate) const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// A log record converted to OTLP on the emitting thread, with its scope name.
pub(crate) type QueuedLog = (String, LogRecord);

/// Converts each log record to OTLP and hands it to the log export worker.
#[derive(Debug, Clone)]
pub(crate) struct QueueLogProcessor {
    pub(crate) worker: Arc<ExportWorker<QueuedLog>>,
}

impl LogProcessor for QueueLogProcessor {
    fn emit(&self, data: &mut SdkLogRecord, instrumentation: &InstrumentationScope) {
        let record = LogRecord::from(&*data);
        let scope = data
            .target()
            .map_or_else(|| instrumentation.name().to_owned(), |t| t.to_string());
        self.worker.push((scope, record));
    }

    fn force_flush(&self) -> OTelSdkResult {
        if self.worker.flush(FLUSH_TIMEOUT) {
            Ok(())
        } else {
            Err(OTelSdkError::Timeout(FLUSH_TIMEOUT))
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        if self.worker.shutdown(timeout) {
            Ok(())
        } else {
            Err(OTelSdkError::Timeout(timeout))
        }
    }
}

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

/// Turns a batch of log records into one redacted log export, grouped by scope.
pub(crate) fn build_logs(
    resource: ResourceAttributesWithSchema,
    scrubber: OtlpScrubber,
) -> impl FnMut(Vec<QueuedLog>, bool) -> Option<ExportRequest> + Send {
    move |records, _tick| {
        if records.is_empty() {
            return None;
        }
        let mut by_scope: BTreeMap<String, Vec<LogRecord>> = BTreeMap::new();
        for (scope, record) in records {
            by_scope.entry(scope).or_default().push(record);
        }
        let mut resource_logs = vec![ResourceLogs {
            resource: Some(proto_resource(&resource)),
            scope_logs: by_scope
                .into_iter()
                .map(|(name, log_records)| ScopeLogs {
                    scope: Some(ProtoScope {
                        name,
                        ..Default::default()
                    }),
                    log_records,
                    schema_url: String::new(),
                })
                .collect(),
            schema_url: resource.schema_url.clone().unwrap_or_default(),
        }];
        scrubber.logs(&mut resource_logs);
        Some(ExportRequest::Logs(ExportLogsServiceRequest {
            resource_logs,
        }))
    }
}
