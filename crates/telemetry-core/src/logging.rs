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
mod processor;
pub(crate) mod record;
pub(crate) mod tenant;

use crate::export::ExportWorker;
use crate::incident::IncidentController;
use crate::level::DynamicLevel;
use crate::scrub::NonText;
use capture::{Capture, RawEvent, RawField, RawValue};
pub(crate) use processor::LogProcessor;
use record::{Attribute, LogEntry, Output, TextRange, Value};
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;
use stellaops_redaction::{Redactor, Report};
use stellaops_telemetry_model::clock::{Clock, unix_nanos};
use stellaops_telemetry_model::sync::lock;
pub use tenant::TENANT_FIELD;
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Where JSON lines go (stdout by default; tests pass a buffer).
pub type LogSink = Arc<Mutex<Box<dyn Write + Send>>>;

/// The field that holds an event's message.
const MESSAGE_FIELD: &str = "message";

/// The OTLP attribute an error field becomes (as opentelemetry-appender-tracing named it).
const EXCEPTION_MESSAGE: &str = "exception.message";

/// A sink writing to the process's standard output.
pub fn stdout_sink() -> LogSink {
    Arc::new(Mutex::new(Box::new(std::io::stdout())))
}

/// What processing a captured event needs (shared by the layer and the processor).
pub(crate) struct Outputs {
    /// The service name as a JSON string, quotes included.
    service_json: String,
    redactor: Arc<Redactor>,
    export: Arc<ExportWorker<LogEntry>>,
    /// Where JSON lines go; `None`: no JSON lines.
    stdout: Option<LogSink>,
}

impl Outputs {
    /// Redacts one captured event once, appends its JSON line to `lines` (when JSON lines are
    /// on) and returns its OTLP record.
    fn process(&self, event: &RawEvent, lines: &mut String) -> LogEntry {
        let meta = event.meta;
        let mut fields = EventFields::new(&self.redactor, event.fields.len());
        for field in &event.fields {
            fields.replay(&event.text, field);
        }
        if self.stdout.is_some() {
            self.write_line(lines, event, &fields);
        }
        let EventFields {
            text,
            body,
            attributes,
            report,
            ..
        } = fields;
        LogEntry {
            observed_unix_nanos: event.observed_unix_nanos,
            level: *meta.level(),
            target: meta.target(),
            name: meta.name(),
            ids: event.ids,
            text,
            body,
            attributes,
            report,
        }
    }

    /// Appends the event's JSON line (the shape in the module docs) to `line`.
    fn write_line(&self, line: &mut String, event: &RawEvent, fields: &EventFields<'_>) {
        let text = fields.text.as_str();
        line.push_str("{\"timestamp\":\"");
        json::push_timestamp(line, event.json_time.0, event.json_time.1);
        line.push_str("\",\"level\":\"");
        line.push_str(lower_level(event.meta.level()));
        line.push_str("\",\"message\":");
        json::push_str(line, fields.json_message.map_or("", |r| r.of(text)));
        line.push_str(",\"service\":");
        line.push_str(&self.service_json);
        if let Some((trace_id, span_id)) = event.ids {
            line.push_str(",\"traceId\":\"");
            json::push_hex(line, &trace_id);
            line.push_str("\",\"spanId\":\"");
            json::push_hex(line, &span_id);
            line.push('"');
        }
        if let Some(t) = event.tenant() {
            line.push_str(",\"tenant\":");
            json::push_str(line, t);
        }
        for attribute in &fields.attributes {
            if attribute.output == Output::Otlp {
                continue;
            }
            line.push(',');
            json::push_str(line, attribute.key);
            line.push(':');
            match &attribute.value {
                Value::Str(r) | Value::Wide(r) => json::push_str(line, r.of(text)),
                Value::I64(i) => {
                    let _ = write!(line, "{i}");
                }
                Value::U64(u) => {
                    let _ = write!(line, "{u}");
                }
                Value::F64(f) if f.is_finite() => {
                    let _ = write!(line, "{f}");
                }
                Value::F64(f) => {
                    let _ = write!(line, "\"{f}\"");
                }
                Value::Bool(b) => line.push_str(if *b { "true" } else { "false" }),
                // Never a JSON attribute: bytes show as their hex text.
                Value::Bytes(_) => line.push_str("null"),
            }
        }
        if fields.json_scrubbed {
            line.push_str(",\"scrubbed\":true");
        }
        if event.incident {
            line.push_str(",\"incident\":true");
        }
        line.push_str("}\n");
    }

    /// Writes a batch of JSON lines with one write.
    fn write_lines(&self, lines: &str) {
        if let (Some(sink), false) = (&self.stdout, lines.is_empty()) {
            let mut sink = lock(sink);
            let _ = sink.write_all(lines.as_bytes());
            let _ = sink.flush();
        }
    }
}

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

fn lower_level(level: &tracing::Level) -> &'static str {
    match *level {
        tracing::Level::TRACE => "trace",
        tracing::Level::DEBUG => "debug",
        tracing::Level::INFO => "info",
        tracing::Level::WARN => "warn",
        tracing::Level::ERROR => "error",
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

/// How a text value is redacted.
#[derive(Clone, Copy)]
enum How<'k> {
    /// Free text (the message): `Redactor::redact_text`.
    Message,
    /// An attribute value under a key: `Redactor::redact_value`.
    Value(&'k str),
}

/// What redaction made of a text.
enum Outcome {
    /// A prefix of the text (all of it when unchanged).
    Kept(usize),
    Replaced(String),
    Dropped,
}

/// The result of redacting one text of [`EventFields::text`].
struct Redacted {
    range: Option<TextRange>,
    report: Report,
    unchanged: bool,
}

/// The event's fields as they are visited: text values appended to one buffer and redacted
/// there, attributes typed, what each output's redaction changed.
struct EventFields<'r> {
    redactor: &'r Redactor,
    text: String,
    /// The redacted message, OTLP body.
    body: Option<TextRange>,
    attributes: Vec<Attribute>,
    /// What redaction changed in the OTLP record.
    report: Report,
    /// The redacted message of the JSON line (the body, except for the odd error or bytes
    /// field named `message`).
    json_message: Option<TextRange>,
    /// Whether redaction changed the JSON line.
    json_scrubbed: bool,
}

impl<'r> EventFields<'r> {
    fn new(redactor: &'r Redactor, field_count: usize) -> Self {
        let buffers = record::take_buffers(field_count);
        Self {
            redactor,
            text: buffers.text,
            body: None,
            attributes: buffers.attributes,
            report: Report::CLEAN,
            json_message: None,
            json_scrubbed: false,
        }
    }

    fn push_raw(&mut self, raw: &str) -> TextRange {
        let start = self.text.len();
        self.text.push_str(raw);
        TextRange {
            start,
            end: self.text.len(),
        }
    }

    /// The range of what was appended since `start`.
    fn since(&self, start: usize) -> TextRange {
        TextRange {
            start,
            end: self.text.len(),
        }
    }

    /// Redacts the text at `range`. In place (`range` must end the buffer), the result
    /// replaces it; otherwise the text stays and a replacement is appended.
    fn redact(&mut self, range: TextRange, how: How<'_>, in_place: bool) -> Redacted {
        let (outcome, report) = {
            let raw = range.of(&self.text);
            let (value, report) = match how {
                How::Message => {
                    let (value, report) = self.redactor.redact_text(raw);
                    (Some(value), report)
                }
                How::Value(key) => {
                    let redacted = self.redactor.redact_value(key, raw);
                    let report = redacted.report();
                    (redacted.into_value(), report)
                }
            };
            let outcome = match value {
                None => Outcome::Dropped,
                Some(Cow::Borrowed(kept)) if kept.as_ptr() == raw.as_ptr() => {
                    Outcome::Kept(kept.len())
                }
                Some(other) => Outcome::Replaced(other.into_owned()),
            };
            (outcome, report)
        };
        let in_place = in_place && range.end == self.text.len();
        let (range, unchanged) = match outcome {
            Outcome::Kept(len) => {
                let kept = TextRange {
                    start: range.start,
                    end: range.start + len,
                };
                if in_place {
                    self.text.truncate(kept.end);
                }
                (Some(kept), kept == range)
            }
            Outcome::Replaced(replacement) => {
                if in_place {
                    self.text.truncate(range.start);
                }
                (Some(self.push_raw(&replacement)), false)
            }
            Outcome::Dropped => {
                if in_place {
                    self.text.truncate(range.start);
                }
                (None, false)
            }
        };
        Redacted {
            range,
            report,
            unchanged: unchanged && !report.scrubbed(),
        }
    }

    fn attribute(&mut self, key: &'static str, output: Output, value: Value) {
        self.attributes.push(Attribute { key, output, value });
    }

    /// A text field (`record_str`, `record_debug`) whose raw text ends the buffer.
    fn text_field(&mut self, name: &'static str, range: TextRange) {
        match name {
            MESSAGE_FIELD => {
                let r = self.redact(range, How::Message, true);
                self.body = r.range;
                self.json_message = r.range;
                self.json_scrubbed |= r.report.scrubbed();
                self.report.merge(r.report);
            }
            TENANT_FIELD => {
                // The JSON line shows the tenant as given (see `capture`); OTLP gets it
                // redacted.
                let r = self.redact(range, How::Value(TENANT_FIELD), false);
                self.report.merge(r.report);
                if let Some(value) = r.range {
                    self.attribute(TENANT_FIELD, Output::Otlp, Value::Str(value));
                }
            }
            key => {
                let r = self.redact(range, How::Value(key), true);
                self.json_scrubbed |= r.report.scrubbed();
                self.report.merge(r.report);
                if let Some(value) = r.range {
                    self.attribute(key, Output::Both, Value::Str(value));
                }
            }
        }
    }

    /// The JSON side of a value the JSON line shows as text but OTLP shows otherwise (an
    /// error, bytes, a 128-bit integer named `message` or `tenant`). Leaves the raw text.
    fn json_text(&mut self, name: &'static str, range: TextRange) {
        match name {
            MESSAGE_FIELD => {
                let r = self.redact(range, How::Message, false);
                self.json_message = r.range;
                self.json_scrubbed |= r.report.scrubbed();
            }
            // The JSON line's top-level `tenant` (see `capture`).
            TENANT_FIELD => {}
            key => {
                let r = self.redact(range, How::Value(key), false);
                self.json_scrubbed |= r.report.scrubbed();
                if let Some(value) = r.range {
                    self.attribute(key, Output::Json, Value::Str(value));
                }
            }
        }
    }

    /// A number or boolean whose JSON text ends the buffer. Redacted as that text (key
    /// rules, and the detectors: a card number in a `u64` is masked); kept typed when
    /// redaction changes nothing. A field named `tenant` is OTLP only (the JSON line skips it).
    fn typed(&mut self, name: &'static str, range: TextRange, typed: Value) {
        let output = if name == TENANT_FIELD {
            Output::Otlp
        } else {
            Output::Both
        };
        let r = self.redact(range, How::Value(name), true);
        if output == Output::Both {
            self.json_scrubbed |= r.report.scrubbed();
        }
        self.report.merge(r.report);
        let Some(value) = r.range else {
            return;
        };
        let value = if r.unchanged {
            self.text.truncate(value.start);
            typed
        } else {
            Value::Str(value)
        };
        self.attribute(name, output, value);
    }

    /// An `i128` or `u128` whose decimal text ends the buffer: a JSON string, an OTLP int
    /// when it fits in `i64`.
    fn wide(&mut self, name: &'static str, range: TextRange) {
        // `message` and `tenant` are the JSON line's message / top-level tenant (`json_text`);
        // the value below is their OTLP attribute only.
        let otlp_only = name == MESSAGE_FIELD || name == TENANT_FIELD;
        if otlp_only {
            self.json_text(name, range);
        }
        let r = self.redact(range, How::Value(name), !otlp_only);
        if !otlp_only {
            self.json_scrubbed |= r.report.scrubbed();
        }
        self.report.merge(r.report);
        if let Some(value) = r.range {
            let value = if r.unchanged {
                Value::Wide(value)
            } else {
                Value::Str(value)
            };
            let output = if otlp_only {
                Output::Otlp
            } else {
                Output::Both
            };
            self.attribute(name, output, value);
        }
    }
}

impl EventFields<'_> {
    /// Takes one captured field (`raw` is the captured event's text): what the value's
    /// `Visit` call would have done (redaction, typing, both outputs).
    fn replay(&mut self, raw: &str, field: &RawField) {
        let name = field.name;
        match &field.value {
            RawValue::Text(r) => {
                let range = self.push_raw(r.of(raw));
                self.text_field(name, range);
            }
            RawValue::I64(value) => {
                let start = self.text.len();
                let _ = write!(self.text, "{value}");
                let range = self.since(start);
                self.typed(name, range, Value::I64(*value));
            }
            RawValue::U64(value) => {
                let start = self.text.len();
                let _ = write!(self.text, "{value}");
                let range = self.since(start);
                self.typed(name, range, Value::U64(*value));
            }
            RawValue::F64(value) => {
                let start = self.text.len();
                let _ = if value.is_finite() {
                    write!(self.text, "{value}")
                } else {
                    write!(self.text, "\"{value}\"")
                };
                let range = self.since(start);
                self.typed(name, range, Value::F64(*value));
            }
            RawValue::Bool(value) => {
                let range = self.push_raw(if *value { "true" } else { "false" });
                self.typed(name, range, Value::Bool(*value));
            }
            RawValue::Wide(r) => {
                let range = self.push_raw(r.of(raw));
                self.wide(name, range);
            }
            RawValue::Bytes(hex, bytes) => {
                // JSON: the hex text, redacted as text; OTLP: the bytes, under the key rules.
                let range = self.push_raw(hex.of(raw));
                self.json_text(name, range);
                match crate::scrub::non_text(self.redactor, name, &mut self.report) {
                    NonText::Drop => {}
                    NonText::Mask => {
                        let masked = self.push_raw(crate::scrub::REDACTED);
                        self.attribute(name, Output::Otlp, Value::Str(masked));
                    }
                    NonText::Keep => {
                        self.attribute(name, Output::Otlp, Value::Bytes(bytes.clone()));
                    }
                }
            }
            RawValue::Error(r) => {
                // JSON: the error's text under the field's name; OTLP: `exception.message`.
                let range = self.push_raw(r.of(raw));
                self.json_text(name, range);
                let r = self.redact(range, How::Value(EXCEPTION_MESSAGE), false);
                self.report.merge(r.report);
                if let Some(value) = r.range {
                    self.attribute(EXCEPTION_MESSAGE, Output::Otlp, Value::Str(value));
                }
            }
        }
    }
}
