//! The log layer: one `tracing` layer that turns each event into a redacted JSON line on
//! stdout (in this shape: `timestamp` RFC 3339 UTC with milliseconds, `level`,
//! `message`, `service`, `traceId`, `spanId`, `tenant`, then the event's own fields) and one
//! compact, already-redacted record for the OTLP logs export worker.
//!
//! On the emitting thread the layer only captures each event (`capture`: field values as
//! given, span ids and tenant, time); the log processor (`processor`, ADR 0009) redacts each
//! value once and writes both outputs from that one result, in batches, so both carry the same
//! redacted values; the export thread encodes the OTLP request from the compact records
//! without a second redaction pass (`pipeline::build_logs`, `encode`). Warnings and errors
//! are processed before the event call returns. The layer also applies the run-time level
//! ([`DynamicLevel`], with its per-tenant forensic override) itself, instead of through a
//! per-layer filter.
//!
//! Not a formatter for humans, and not where spans are exported.

mod capture;
pub(crate) mod encode;
mod json;
mod outputs;
mod processor;
pub(crate) mod record;
pub(crate) mod tenant;

use crate::export::ExportWorker;
use crate::incident::IncidentController;
use crate::level::DynamicLevel;
use capture::{Capture, RawEvent};
pub(crate) use outputs::Outputs;
pub use outputs::{LogSink, stdout_sink};
pub(crate) use processor::LogProcessor;
use record::LogEntry;
use std::sync::Arc;
use std::time::SystemTime;
use stellaops_redaction::Redactor;
use stellaops_telemetry_model::clock::{Clock, unix_nanos};
pub use tenant::TENANT_FIELD;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The one log layer `init` installs: level filter, capture of each event for the log
/// processor (JSON line and OTLP record).
pub(crate) struct LogLayer {
    outputs: Outputs,
    level: DynamicLevel,
    /// `None`: the system clock, read once per event for both the line and the record.
    clock: Option<Arc<dyn Clock>>,
    incidents: Option<IncidentController>,
}

impl std::fmt::Debug for LogLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLayer")
            .field("service", &self.outputs.service_json)
            .field("level", &self.level)
            .field("stdout", &self.outputs.stdout.is_some())
            .finish_non_exhaustive()
    }
}

impl LogLayer {
    /// A layer for `service` that lets events at `level` through, redacts with `redactor` and
    /// queues one record per event on `export`. No JSON lines until [`Self::with_stdout`].
    pub(crate) fn new(
        service: &str,
        redactor: Arc<Redactor>,
        level: DynamicLevel,
        export: Arc<ExportWorker<LogEntry>>,
    ) -> Self {
        let mut service_json = String::new();
        json::push_str(&mut service_json, service);
        Self {
            outputs: Outputs {
                service_json,
                redactor,
                export,
                stdout: None,
            },
            level,
            clock: None,
            incidents: None,
        }
    }

    /// Also writes each event as one JSON line to `sink`.
    #[must_use]
    pub(crate) fn with_stdout(mut self, sink: LogSink) -> Self {
        self.outputs.stdout = Some(sink);
        self
    }

    /// Timestamps lines and records by `clock` instead of reading the system clock.
    #[must_use]
    pub(crate) fn with_clock(mut self, clock: Option<Arc<dyn Clock>>) -> Self {
        self.clock = clock;
        self
    }

    /// Tags the JSON lines of tenants in forensic mode with `"incident":true`.
    #[must_use]
    pub(crate) fn with_incidents(mut self, incidents: IncidentController) -> Self {
        self.incidents = Some(incidents);
        self
    }

    /// The layer and the processor that turns its captured events into JSON lines and OTLP
    /// records (start its thread with [`LogProcessor::start`]).
    pub(crate) fn into_parts(self) -> (CaptureLayer, LogProcessor) {
        let processor = LogProcessor::new(self.outputs);
        (
            CaptureLayer {
                processor: processor.clone(),
                level: self.level,
                clock: self.clock,
                incidents: self.incidents,
            },
            processor,
        )
    }
}

/// The layer half of [`LogLayer`]: filters by level and captures each event.
pub(crate) struct CaptureLayer {
    processor: LogProcessor,
    level: DynamicLevel,
    clock: Option<Arc<dyn Clock>>,
    incidents: Option<IncidentController>,
}

impl std::fmt::Debug for CaptureLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureLayer")
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}
impl<S> tracing_subscriber::Layer<S> for CaptureLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, _meta: &'static Metadata<'static>) -> Interest {
        // The level changes at run time, so every callsite is asked each time.
        Interest::sometimes()
    }

    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        self.level.passes(meta)
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.level.event_passes(event, &ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        // The builder's clock when one was given (tests, reproducible runs); otherwise the
        // system clock, read once for both the line and the record.
        let observed_unix_nanos = match &self.clock {
            Some(clock) => clock.now_nanos(),
            None => unix_nanos(SystemTime::now()),
        };
        let mut capture = Capture::new(meta.fields().len());
        event.record(&mut capture);
        // One walk of the scope: the ids, and the span's tenant for the JSON line (copied into
        // the event's text buffer) unless the event names its own.
        let mut tenant = capture.own_tenant;
        let ids = if self.processor.json_lines() && tenant.is_none() {
            let mut copy = |t: &str| tenant = Some(capture.push_raw(t));
            crate::span_layer::event_context(event, &ctx, Some(&mut copy))
        } else {
            crate::span_layer::event_context(event, &ctx, None)
        };
        // Decided now: the incident may end before the line is written.
        let incident = match (&self.incidents, tenant) {
            (Some(incidents), Some(t)) => {
                incidents.any_active() && incidents.is_active(t.of(&capture.text))
            }
            _ => false,
        };
        let json_time = (
            i64::try_from(observed_unix_nanos / 1_000_000_000).unwrap_or(i64::MAX),
            u32::try_from(observed_unix_nanos % 1_000_000_000 / 1_000_000).unwrap_or(0),
        );
        let Capture { text, fields, .. } = capture;
        self.processor.submit(
            RawEvent {
                meta,
                observed_unix_nanos,
                json_time,
                ids,
                tenant,
                incident,
                text,
                fields,
            },
            *meta.level() <= tracing::Level::WARN,
        );
    }
}
