//! What the log processor does with a captured event: one redaction per value, then the JSON
//! line and the compact record for the OTLP logs export worker, both from that one result.
//!
//! Not the capture (the layer's half, `capture`) and not the batching thread (`processor`).

use super::capture::{RawEvent, RawField, RawValue};
use super::json;
use super::record::{self, Attribute, LogEntry, Output, TextRange, Value};
use super::tenant::TENANT_FIELD;
use crate::export::ExportWorker;
use crate::scrub::NonText;
use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex};
use stellaops_redaction::{Redactor, Report};
use stellaops_telemetry_model::sync::lock;
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
    pub(super) service_json: String,
    pub(super) redactor: Arc<Redactor>,
    pub(super) export: Arc<ExportWorker<LogEntry>>,
    /// Where JSON lines go; `None`: no JSON lines.
    pub(super) stdout: Option<LogSink>,
}

impl Outputs {
    /// Redacts one captured event once, appends its JSON line to `lines` (when JSON lines are
    /// on) and returns its OTLP record.
    pub(super) fn process(&self, event: &RawEvent, lines: &mut String) -> LogEntry {
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
    pub(super) fn write_lines(&self, lines: &str) {
        if let (Some(sink), false) = (&self.stdout, lines.is_empty()) {
            let mut sink = lock(sink);
            let _ = sink.write_all(lines.as_bytes());
            let _ = sink.flush();
        }
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
