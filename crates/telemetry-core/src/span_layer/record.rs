//! The compact record of one span ([`SpanRecord`]): ids, name, times, typed attributes in
//! one inline text buffer, status and events, and its OTLP struct form.
//!
//! Not how records are filled (`visit`, `layer`) nor the direct protobuf encoder (`encode`).

use crate::attribute::{AttrRef, AttrValue};
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::trace::v1::span::{Event as ProtoEvent, SpanKind};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{Span as ProtoSpan, Status as ProtoStatus};
use smallvec::SmallVec;
use std::fmt::Write as _;
use tracing::Metadata;

/// An attribute value as stored in a record: numbers inline, text as a range of the
/// record's one text buffer (one allocation for all of a span's text, not one per value).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Slot {
    Text { start: u32, len: u32 },
    I64(i64),
    F64(f64),
    Bool(bool),
}

/// A span's status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SpanStatus {
    /// Not set.
    #[default]
    Unset,
    /// Explicitly successful.
    Ok,
    /// Failed, with a description (may be empty).
    Error(String),
}

/// A `WARN`/`ERROR` event recorded on a span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanEventRecord {
    /// The event's message.
    pub name: String,
    /// When it happened, nanoseconds since the Unix epoch.
    pub time_nanos: u64,
    /// Its fields, plus `level` and `target`.
    pub attributes: Vec<(&'static str, AttrValue)>,
}

/// One span, compactly: what the tail sampler needs and what OTLP export needs, nothing else.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    /// The trace id.
    pub trace_id: [u8; 16],
    /// The span id.
    pub span_id: [u8; 8],
    /// The parent's span id (zero for a root).
    pub parent_span_id: [u8; 8],
    /// Whether the parent is in another process (a propagated `traceparent`).
    pub parent_remote: bool,
    /// W3C trace flags (bit 0: sampled upstream).
    pub flags: u8,
    /// The propagated `tracestate` header, if any.
    pub trace_state: Option<String>,
    /// The callsite (name, target, code location).
    pub metadata: &'static Metadata<'static>,
    /// `otel.name`, when set.
    pub name_override: Option<String>,
    /// The OTLP span kind.
    pub kind: SpanKind,
    /// Start, nanoseconds since the Unix epoch.
    pub start_nanos: u64,
    /// End, nanoseconds since the Unix epoch (0 while open).
    pub end_nanos: u64,
    /// Attributes in the order recorded (a re-recorded key replaces its value); inline up to
    /// [`INLINE_ATTRIBUTES`].
    pub(super) attributes: SmallVec<[(&'static str, Slot); INLINE_ATTRIBUTES]>,
    /// The text of every text attribute, back to back (UTF-8); inline up to [`INLINE_TEXT`]
    /// bytes.
    pub(super) text: SmallVec<[u8; INLINE_TEXT]>,
    /// Where the `tenant` attribute is (looked up on every hand-over and log line).
    pub(super) tenant: Option<Slot>,
    /// Where the `audit` attribute is (looked up on every hand-over).
    pub(super) audit: Option<Slot>,
    /// The status.
    pub status: SpanStatus,
    /// `WARN`/`ERROR` events inside the span.
    pub events: Vec<SpanEventRecord>,
    /// The span's tenant was in forensic mode when the span ended.
    pub(super) forensic: bool,
}

/// Attributes a [`SpanRecord`] holds without a heap allocation (most spans have fewer).
const INLINE_ATTRIBUTES: usize = 4;
/// Bytes of attribute text a [`SpanRecord`] holds without a heap allocation.
const INLINE_TEXT: usize = 48;

/// Appends formatted text to a record's text buffer.
pub(super) struct TextWriter<'a>(&'a mut SmallVec<[u8; INLINE_TEXT]>);

impl std::fmt::Write for TextWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl SpanRecord {
    /// The span's name (`otel.name` or the callsite's).
    pub fn name(&self) -> &str {
        self.name_override
            .as_deref()
            .unwrap_or_else(|| self.metadata.name())
    }

    /// An attribute's value.
    pub fn attribute(&self, key: &str) -> Option<AttrRef<'_>> {
        self.attributes
            .iter()
            .find_map(|(k, v)| (*k == key).then(|| self.view(*v)))
    }

    /// Every attribute, in the order recorded.
    pub fn attributes(&self) -> impl Iterator<Item = (&'static str, AttrRef<'_>)> + '_ {
        self.attributes.iter().map(|(k, v)| (*k, self.view(*v)))
    }

    fn text_of(&self, start: u32, len: u32) -> &str {
        let start = start as usize;
        // Ranges are whole `&str`s appended back to back, so always UTF-8.
        self.text
            .get(start..start + len as usize)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or_default()
    }

    pub(super) fn view(&self, slot: Slot) -> AttrRef<'_> {
        match slot {
            Slot::Text { start, len } => AttrRef::Str(self.text_of(start, len)),
            Slot::I64(i) => AttrRef::I64(i),
            Slot::F64(f) => AttrRef::F64(f),
            Slot::Bool(b) => AttrRef::Bool(b),
        }
    }

    pub(super) fn set_slot(&mut self, key: &'static str, slot: Slot) {
        if key == crate::sampling::TENANT_ATTRIBUTE {
            self.tenant = Some(slot);
        } else if key == crate::sampling::AUDIT_ATTRIBUTE {
            self.audit = Some(slot);
        }
        match self.attributes.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = slot,
            None => self.attributes.push((key, slot)),
        }
    }

    /// Appends text written by `write` to the buffer and returns its slot (no allocation
    /// while the record's text fits inline).
    pub(super) fn push_text(&mut self, write: impl FnOnce(&mut TextWriter<'_>)) -> Slot {
        let start = self.text.len();
        write(&mut TextWriter(&mut self.text));
        let len = self.text.len() - start;
        Slot::Text {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(len).unwrap_or(0),
        }
    }

    pub(super) fn set_text(&mut self, key: &'static str, value: &str) {
        let slot = self.push_text(|t| {
            let _ = t.write_str(value);
        });
        self.set_slot(key, slot);
    }

    /// Sets an attribute (a re-recorded key replaces its value).
    pub fn set(&mut self, key: &'static str, value: AttrValue) {
        let slot = match value {
            AttrValue::Str(s) => self.push_text(|t| {
                let _ = t.write_str(&s);
            }),
            AttrValue::I64(i) => Slot::I64(i),
            AttrValue::F64(f) => Slot::F64(f),
            AttrValue::Bool(b) => Slot::Bool(b),
        };
        self.set_slot(key, slot);
    }

    /// The OTLP span (the export path encodes records directly, see `span_layer::encode`;
    /// this is the struct form, for tools and as the encoder's test reference).
    pub fn into_proto(mut self) -> ProtoSpan {
        let meta = self.metadata;
        let name = self
            .name_override
            .take()
            .unwrap_or_else(|| meta.name().to_owned());
        let mut attributes: Vec<KeyValue> = Vec::with_capacity(self.attributes.len() + 4);
        attributes.extend(self.attributes.iter().map(|(k, v)| {
            let value = match self.view(*v) {
                AttrRef::Str(s) => AttrValue::Str(s.to_owned()),
                AttrRef::I64(i) => AttrValue::I64(i),
                AttrRef::F64(f) => AttrValue::F64(f),
                AttrRef::Bool(b) => AttrValue::Bool(b),
            };
            kv(k, value.into_proto())
        }));
        attributes.push(kv(
            "target",
            AttrValue::Str(meta.target().to_owned()).into_proto(),
        ));
        if let Some(file) = meta.file() {
            attributes.push(kv(
                "code.file.path",
                AttrValue::Str(file.to_owned()).into_proto(),
            ));
        }
        if let Some(module) = meta.module_path() {
            attributes.push(kv(
                "code.module.name",
                AttrValue::Str(module.to_owned()).into_proto(),
            ));
        }
        if let Some(line) = meta.line() {
            attributes.push(kv(
                "code.line.number",
                AttrValue::I64(i64::from(line)).into_proto(),
            ));
        }
        let status = match std::mem::take(&mut self.status) {
            SpanStatus::Unset => None,
            SpanStatus::Ok => Some(ProtoStatus {
                message: String::new(),
                code: StatusCode::Ok as i32,
            }),
            SpanStatus::Error(message) => Some(ProtoStatus {
                message,
                code: StatusCode::Error as i32,
            }),
        };
        ProtoSpan {
            trace_id: self.trace_id.to_vec(),
            span_id: self.span_id.to_vec(),
            trace_state: self.trace_state.take().unwrap_or_default(),
            parent_span_id: if self.parent_span_id == [0; 8] {
                Vec::new()
            } else {
                self.parent_span_id.to_vec()
            },
            flags: span_flags(self.flags, self.parent_remote),
            name,
            kind: self.kind as i32,
            start_time_unix_nano: self.start_nanos,
            end_time_unix_nano: self.end_nanos,
            attributes,
            dropped_attributes_count: 0,
            events: std::mem::take(&mut self.events)
                .into_iter()
                .map(|e| ProtoEvent {
                    time_unix_nano: e.time_nanos,
                    name: e.name,
                    attributes: e
                        .attributes
                        .into_iter()
                        .map(|(k, v)| kv(k, v.into_proto()))
                        .collect(),
                    dropped_attributes_count: 0,
                })
                .collect(),
            dropped_events_count: 0,
            links: Vec::new(),
            dropped_links_count: 0,
            status,
        }
    }
}

/// OTLP span flags: the W3C flags plus "has is-remote" and "is remote" for the parent.
pub(super) fn span_flags(w3c: u8, parent_remote: bool) -> u32 {
    const HAS_IS_REMOTE: u32 = 0x100;
    const IS_REMOTE: u32 = 0x200;
    u32::from(w3c) | HAS_IS_REMOTE | if parent_remote { IS_REMOTE } else { 0 }
}

fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(value),
        ..Default::default()
    }
}

/// The OTLP scope of spans recorded by the layer.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: crate::SCOPE_NAME.to_owned(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_flags_mark_remote_parents() {
        assert_eq!(span_flags(1, true), 0x301);
        assert_eq!(span_flags(0, false), 0x100);
    }
}
