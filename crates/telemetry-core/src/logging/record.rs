//! The compact log record the log layer queues for export: one per event, already redacted,
//! with its text in one buffer and numbers kept typed. The export thread encodes a batch of
//! them straight into an OTLP request (`encode`, byte for byte the prost encoding of the
//! `LogRecord` that `LogEntry::to_proto`, the reference its tests compare with, builds)
//! without redacting again.
//!
//! Not the JSON line (written on the emitting thread) and not the grouping by scope
//! (`pipeline::build_logs`).

use crate::recycle::{Recycler, Stash};
#[cfg(test)]
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
#[cfg(test)]
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::logs::v1::SeverityNumber;
use std::cell::RefCell;
use stellaops_redaction::Report;

/// A byte range of [`LogEntry::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextRange {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl TextRange {
    pub(crate) fn of(self, text: &str) -> &str {
        text.get(self.start..self.end).unwrap_or_default()
    }
}

/// Which output an attribute belongs to. Nearly all are [`Output::Both`]; the others keep
/// what each output showed before the two were merged (an error field is `exception.message`
/// in OTLP but keeps its name in JSON; the `tenant` field is an OTLP attribute but the JSON
/// line's top-level `tenant`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Output {
    Both,
    Json,
    Otlp,
}

/// A redacted attribute value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// Text (in [`LogEntry::text`]).
    Str(TextRange),
    I64(i64),
    /// OTLP: an int when it fits in `i64`, else its decimal text (as the appender did).
    U64(u64),
    F64(f64),
    Bool(bool),
    /// An `i128`/`u128` as decimal text: a JSON string; OTLP: an int when it fits in `i64`.
    Wide(TextRange),
    /// Raw bytes (OTLP only; JSON shows them as hex text).
    Bytes(Box<[u8]>),
}

/// One attribute of a [`LogEntry`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Attribute {
    pub(crate) key: &'static str,
    pub(crate) output: Output,
    pub(crate) value: Value,
}

/// One log event, redacted, as queued for the logs export worker.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogEntry {
    /// When the event was seen (Unix nanoseconds): the record's observed timestamp.
    pub(crate) observed_unix_nanos: u64,
    pub(crate) level: tracing::Level,
    /// The event's target: the OTLP instrumentation scope name.
    pub(crate) target: &'static str,
    /// The event's callsite name (`event src/main.rs:12`): the OTLP `event_name`.
    pub(crate) name: &'static str,
    /// Trace and span id of the span the event happened in.
    pub(crate) ids: Option<([u8; 16], [u8; 8])>,
    /// Every text value, back to back.
    pub(crate) text: String,
    /// The redacted message (OTLP body), when the event has one.
    pub(crate) body: Option<TextRange>,
    pub(crate) attributes: Vec<Attribute>,
    /// What redaction changed in the OTLP record (body and OTLP attributes).
    pub(crate) report: Report,
}

/// `TraceFlags::SAMPLED`: every span is recorded and sampled at the head (the tail sampler
/// decides later), so a log inside a span carries the sampled flag, as before.
pub(crate) const SAMPLED: u32 = 1;

#[cfg(test)]
fn any(value: any_value::Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(value) })
}

/// The OTLP severity of a `tracing` level.
pub(crate) fn severity(level: tracing::Level) -> SeverityNumber {
    match level {
        tracing::Level::TRACE => SeverityNumber::Trace,
        tracing::Level::DEBUG => SeverityNumber::Debug,
        tracing::Level::INFO => SeverityNumber::Info,
        tracing::Level::WARN => SeverityNumber::Warn,
        tracing::Level::ERROR => SeverityNumber::Error,
    }
}

impl LogEntry {
    /// The OTLP record, without the scrub marks (`OtlpScrubber::mark_log` adds them from
    /// [`LogEntry::report`]): the reference the direct encoding (`encode`) is tested against,
    /// as the export thread built it before.
    #[cfg(test)]
    pub(crate) fn to_proto(&self) -> LogRecord {
        let text = self.text.as_str();
        let mut attributes = Vec::with_capacity(self.attributes.len() + 3);
        for attribute in &self.attributes {
            if attribute.output == Output::Json {
                continue;
            }
            let value = match &attribute.value {
                Value::Str(range) => any_value::Value::StringValue(range.of(text).to_owned()),
                Value::I64(i) => any_value::Value::IntValue(*i),
                Value::U64(u) => match i64::try_from(*u) {
                    Ok(i) => any_value::Value::IntValue(i),
                    Err(_) => any_value::Value::StringValue(u.to_string()),
                },
                Value::F64(f) => any_value::Value::DoubleValue(*f),
                Value::Bool(b) => any_value::Value::BoolValue(*b),
                Value::Wide(range) => {
                    let s = range.of(text);
                    match s.parse::<i64>() {
                        Ok(i) => any_value::Value::IntValue(i),
                        Err(_) => any_value::Value::StringValue(s.to_owned()),
                    }
                }
                Value::Bytes(bytes) => any_value::Value::BytesValue(bytes.to_vec()),
            };
            attributes.push(KeyValue {
                key: attribute.key.to_owned(),
                value: any(value),
                ..Default::default()
            });
        }
        let (trace_id, span_id, flags) = match self.ids {
            Some((trace, span)) => (trace.to_vec(), span.to_vec(), SAMPLED),
            None => (Vec::new(), Vec::new(), 0),
        };
        LogRecord {
            time_unix_nano: 0,
            observed_time_unix_nano: self.observed_unix_nanos,
            severity_number: severity(self.level) as i32,
            severity_text: self.level.as_str().to_owned(),
            body: self.body.map(|range| AnyValue {
                value: Some(any_value::Value::StringValue(range.of(text).to_owned())),
            }),
            attributes,
            dropped_attributes_count: 0,
            flags,
            trace_id,
            span_id,
            event_name: self.name.to_owned(),
        }
    }

    /// The entry's buffers, emptied, for [`give_back`].
    pub(crate) fn into_buffers(self) -> Buffers {
        let mut buffers = Buffers {
            text: self.text,
            attributes: self.attributes,
        };
        buffers.text.clear();
        buffers.attributes.clear();
        buffers
    }
}

/// The two heap buffers of a [`LogEntry`]. They are recycled: the export thread gives them
/// back after building the OTLP records, and the emitting threads take them again, instead of
/// allocating two buffers per event that another thread frees (measured at about a fifth of
/// the layer's cost on the emitting thread with glibc's allocator).
#[derive(Debug)]
pub(crate) struct Buffers {
    pub(crate) text: String,
    pub(crate) attributes: Vec<Attribute>,
}

/// A text buffer that grew beyond this (one huge event) is freed, not kept.
const MAX_KEPT_TEXT: usize = 4096;

thread_local! {
    /// This thread's share of the spare buffers.
    static STASH: Stash<Buffers> = const { RefCell::new(Vec::new()) };
}

/// Emptied buffers waiting for an emitting thread (at most 2048 shared).
static SPARE: Recycler<Buffers> = Recycler::new(&STASH, 2048);

/// Buffers for one event: recycled ones when there are, else new ones sized for a typical
/// event with `field_count` fields.
pub(crate) fn take_buffers(field_count: usize) -> Buffers {
    SPARE.take().unwrap_or_else(|| Buffers {
        text: String::with_capacity(64 + 32 * field_count),
        attributes: Vec::with_capacity(field_count),
    })
}

/// Returns emptied buffers for reuse.
pub(crate) fn give_back(buffers: Vec<Buffers>) {
    for b in buffers {
        if b.text.capacity() <= MAX_KEPT_TEXT {
            SPARE.give(b);
        }
    }
}
