//! The lean span path: a `tracing` layer that records each span as a compact [`SpanRecord`]
//! (ids, name, times, typed attributes, status) and buffers the records of a trace beside its
//! local root. When the local root ends, the whole trace goes to the
//! [`TailSampler`](crate::sampling::TailSampler) in one call; only the traces it keeps are
//! turned into OTLP spans, on the export thread.
//!
//! Why not `tracing-opentelemetry` + the SDK: that path materialises full OpenTelemetry span
//! data (builder, attribute vectors, an SDK span, a `SpanData` copy) for every span, and most
//! spans belong to traces the tail sampler drops (90% by default). Measured in
//! `benches/workload.rs`, that materialisation alone cost more than the whole telemetry budget.
//! See ADR 0008.
//!
//! What a span carries (the conventions of `tracing-opentelemetry`, so instrumentation does
//! not change): fields become attributes with their types (`i64`, `u64` (as `i64` when it
//! fits, otherwise text), `f64`, `bool`, text); `otel.name` renames the span, `otel.kind` sets
//! its kind, `otel.status_code` (`ok`/`error`) and `otel.status_description` (an error with that
//! message) set its status; the callsite's target and code location become `target`,
//! `code.file.path`, `code.module.name` and `code.line.number`. A `WARN` or `ERROR` event
//! inside a span becomes a span event (message as name, fields as attributes), and an
//! `ERROR` event sets an unset status to error. `INFO` and finer events are not copied onto
//! spans: they are log records, correlated by trace and span id.
//!
//! Not an exporter and not the sampling rules: records go to the
//! [`TailSampler`](crate::sampling::TailSampler), kept ones to the trace export worker, whose
//! build function (`build_trace_records`) encodes them straight to OTLP protobuf
//! (`span_layer::encode`).

pub(crate) mod encode;

mod context;
mod housekeeping;
mod ids;
mod layer;
mod local_trace;
mod record;
mod sampled;
mod visit;

pub use crate::attribute::{AttrRef, AttrValue};
pub(crate) use context::{RemoteParent, event_context, event_tenant, span_context_of};
pub use ids::IdGenerator;
pub use layer::SpanLayer;
pub use local_trace::LOCAL_TRACE_BATCH;
pub(crate) use record::scope;
pub use record::{SpanEventRecord, SpanRecord, SpanStatus};
