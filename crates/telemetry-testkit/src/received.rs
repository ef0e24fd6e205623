//! What an OTLP receiver got, as the raw export requests and as flat spans and log records.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;

/// Every export request a receiver accepted, in arrival order per signal.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// Trace export requests.
    pub traces: Vec<ExportTraceServiceRequest>,
    /// Metric export requests.
    pub metrics: Vec<ExportMetricsServiceRequest>,
    /// Log export requests.
    pub logs: Vec<ExportLogsServiceRequest>,
    /// When each entry of `logs` arrived (nanoseconds since the Unix epoch, the receiver's
    /// wall clock): with each record's `time_unix_nano` this gives the ingestion latency.
    pub log_arrivals: Vec<u64>,
}

/// One span with the resource attributes it was exported under.
#[derive(Debug, Clone)]
pub struct FlatSpan {
    /// Attributes of the span's resource (`service.name`, ...).
    pub resource: Vec<KeyValue>,
    /// Name of the instrumentation scope.
    pub scope: String,
    /// The span itself.
    pub span: Span,
}

impl FlatSpan {
    /// The string form of one of the span's attributes.
    pub fn attr(&self, key: &str) -> Option<String> {
        attr_string(&self.span.attributes, key)
    }

    /// The string form of one of the resource's attributes.
    pub fn resource_attr(&self, key: &str) -> Option<String> {
        attr_string(&self.resource, key)
    }
}

/// One log record with the resource attributes it was exported under.
#[derive(Debug, Clone)]
pub struct FlatLogRecord {
    /// Attributes of the record's resource.
    pub resource: Vec<KeyValue>,
    /// The log record itself.
    pub record: LogRecord,
}

impl FlatLogRecord {
    /// The body as a string (string bodies as-is, others in their debug form).
    pub fn body(&self) -> Option<String> {
        self.record.body.as_ref().map(any_value_string)
    }

    /// The string form of one of the record's attributes.
    pub fn attr(&self, key: &str) -> Option<String> {
        attr_string(&self.record.attributes, key)
    }
}

impl Received {
    /// Every span received, flattened out of resource and scope groups.
    pub fn spans(&self) -> Vec<FlatSpan> {
        let mut out = Vec::new();
        for request in &self.traces {
            for rs in &request.resource_spans {
                let resource = rs
                    .resource
                    .as_ref()
                    .map(|r| r.attributes.clone())
                    .unwrap_or_default();
                for ss in &rs.scope_spans {
                    let scope = ss
                        .scope
                        .as_ref()
                        .map(|s| s.name.clone())
                        .unwrap_or_default();
                    for span in &ss.spans {
                        out.push(FlatSpan {
                            resource: resource.clone(),
                            scope: scope.clone(),
                            span: span.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    /// Every log record received, flattened out of resource and scope groups.
    pub fn log_records(&self) -> Vec<FlatLogRecord> {
        let mut out = Vec::new();
        for request in &self.logs {
            for rl in &request.resource_logs {
                let resource = rl
                    .resource
                    .as_ref()
                    .map(|r| r.attributes.clone())
                    .unwrap_or_default();
                for sl in &rl.scope_logs {
                    for record in &sl.log_records {
                        out.push(FlatLogRecord {
                            resource: resource.clone(),
                            record: record.clone(),
                        });
                    }
                }
            }
        }
        out
    }

    /// The names of every metric received (with repeats, in arrival order).
    pub fn metric_names(&self) -> Vec<String> {
        self.metrics
            .iter()
            .flat_map(|r| &r.resource_metrics)
            .flat_map(|rm| &rm.scope_metrics)
            .flat_map(|sm| &sm.metrics)
            .map(|m| m.name.clone())
            .collect()
    }

    /// A one-line summary for error messages.
    pub fn summary(&self) -> String {
        let spans: Vec<String> = self.spans().iter().map(|s| s.span.name.clone()).collect();
        format!(
            "{} trace requests (spans {:?}), {} metric requests, {} log requests ({} records)",
            self.traces.len(),
            spans,
            self.metrics.len(),
            self.logs.len(),
            self.log_records().len()
        )
    }
}

/// The string form of attribute `key` in `attributes`: strings as-is, numbers and booleans
/// formatted, other kinds in their debug form; `None` when the key is absent.
pub fn attr_string(attributes: &[KeyValue], key: &str) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .map(any_value_string)
}

fn any_value_string(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}
