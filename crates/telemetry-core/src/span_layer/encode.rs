//! Direct protobuf encoding of trace exports: the bytes of one OTLP
//! `ExportTraceServiceRequest` written straight from the kept [`SpanRecord`]s, exactly as prost
//! encodes the request `SpanRecord::into_proto` + `OtlpScrubber::spans` used to build, without
//! building it (building, scrubbing, encoding and dropping those structs was the trace export
//! thread's main cost).
//!
//! Redaction is the same: every value goes through the same `Redactor` call, in the same order
//! ([`OtlpScrubber::scalar`] reproduces `OtlpScrubber::attributes` for the scalar values a span
//! record holds), so the output, the scrub marks and `telemetry_scrub_events_total` are
//! identical. Lengths are computed first, then the bytes written once into a buffer of the
//! exact size. The protobuf wire helpers and the scrub marks are the log encoder's
//! (`logging::encode`). Not the sending or spooling of the bytes (`export::otlp`, `spool`).

use super::record::{SpanRecord, SpanStatus};
use crate::attribute::{AttrRef, AttrValue};
use crate::export::EncodedTraces;
use crate::logging::encode::{
    AnyScalar, ScrubMarks, delimited_len, key_value_len, nonempty_len, put_delimited,
    put_delimited_header, put_nonempty,
};
use crate::scrub::{OtlpScrubber, Scalar};
use bytes::BufMut;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use prost::Message as _;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len};
use std::borrow::Cow;
use std::ops::Range;
use stellaops_redaction::Report;

/// The attribute `OtlpScrubber::spans` counts a scrubbed span under.
const TENANT: &str = "tenant";

/// One attribute after redaction.
struct Attr<'a> {
    /// The attribute's key.
    key: &'a str,
    /// Its value as redaction left it.
    value: Scalar<'a>,
}

impl Attr<'_> {
    /// The OTLP `AnyValue` of the attribute.
    fn scalar(&self) -> AnyScalar<'_> {
        match &self.value {
            Scalar::Str(s) => AnyScalar::Str(s.as_bytes()),
            Scalar::I64(i) => AnyScalar::Int(*i),
            Scalar::F64(f) => AnyScalar::Double(*f),
            Scalar::Bool(b) => AnyScalar::Bool(*b),
        }
    }

    /// The length of the `KeyValue` body.
    fn len(&self) -> usize {
        key_value_len(self.key, &self.scalar())
    }

    /// Writes the attribute as field `tag` (a `KeyValue`).
    fn put(&self, tag: u32, buf: &mut Vec<u8>) {
        put_key_value(tag, self.key, &self.scalar(), buf);
    }
}

/// Writes a `KeyValue` as field `tag`.
fn put_key_value(tag: u32, key: &str, value: &AnyScalar<'_>, buf: &mut Vec<u8>) {
    put_delimited_header(tag, key_value_len(key, value), buf);
    put_nonempty(1, key.as_bytes(), buf);
    put_delimited_header(2, value.len(), buf);
    value.put(buf);
}

/// The view of an event attribute's value.
fn view(value: &AttrValue) -> AttrRef<'_> {
    match value {
        AttrValue::Str(s) => AttrRef::Str(s),
        AttrValue::I64(i) => AttrRef::I64(*i),
        AttrValue::F64(f) => AttrRef::F64(*f),
        AttrValue::Bool(b) => AttrRef::Bool(*b),
    }
}

/// One span event, redacted, with its encoded length.
struct Event<'a> {
    /// When it happened (Unix ns; 0 is not written).
    time: u64,
    /// Its name, redacted.
    name: Cow<'a, str>,
    /// Its attributes in the batch's attribute list.
    attributes: Range<usize>,
    /// The length of the `Event` body.
    len: usize,
}

/// One span, redacted, with its encoded length.
struct Prepared<'a> {
    /// The span record.
    record: &'a SpanRecord,
    /// Its attributes (user fields, then the callsite's) in the batch's attribute list.
    attributes: Range<usize>,
    /// Its events in the batch's event list.
    events: Range<usize>,
    /// The status code and redacted message (`None`: unset, not written).
    status: Option<(i32, Cow<'a, str>)>,
    /// The scrub marks of a span redaction changed.
    marks: Option<ScrubMarks>,
    /// The length of the `Span` body.
    len: usize,
}

/// The length of a `Status` body.
fn status_len(code: i32, message: &str) -> usize {
    nonempty_len(2, message.len())
        + if code == 0 {
            0
        } else {
            key_len(3) + encoded_len_varint(code as u64)
        }
}

/// The OTLP `flags` of a span (never 0: "has is-remote" is always set).
fn flags(record: &SpanRecord) -> u32 {
    super::record::span_flags(record.flags, record.parent_remote)
}

/// Encodes batches of kept [`SpanRecord`]s into [`EncodedTraces`] for one service resource.
#[derive(Debug, Clone)]
pub(crate) struct TracesEncoder {
    /// The encoded `Resource` message body (it never changes).
    resource: Vec<u8>,
    /// The encoded `InstrumentationScope` message body (the span layer's scope).
    scope: Vec<u8>,
    /// The resource's schema URL (`ResourceSpans.schema_url`).
    schema_url: String,
    /// Redacts the values and counts the scrubbed spans.
    scrubber: OtlpScrubber,
}

impl TracesEncoder {
    /// An encoder for spans of `resource` (with `schema_url`) in `scope`, redacting with
    /// `scrubber`.
    pub(crate) fn new(
        resource: &Resource,
        schema_url: String,
        scope: &InstrumentationScope,
        scrubber: OtlpScrubber,
    ) -> Self {
        Self {
            resource: resource.encode_to_vec(),
            scope: scope.encode_to_vec(),
            schema_url,
            scrubber,
        }
    }

    /// Redacts `value` under `key` into `attributes` (unless the policy drops it).
    fn push<'a>(
        &self,
        attributes: &mut Vec<Attr<'a>>,
        key: &'a str,
        value: AttrRef<'a>,
        report: &mut Report,
    ) {
        if let Some(value) = self.scrubber.scalar(key, value, report) {
            attributes.push(Attr { key, value });
        }
    }

    /// Redacts one span as `into_proto` + `OtlpScrubber::spans` did (attributes, then each
    /// event's name and attributes, then the status message), counts it when redaction
    /// changed it and computes its length.
    fn prepare<'a>(
        &self,
        record: &'a SpanRecord,
        attributes: &mut Vec<Attr<'a>>,
        events: &mut Vec<Event<'a>>,
    ) -> Prepared<'a> {
        let redactor = self.scrubber.redactor();
        let mut report = Report::default();
        let start = attributes.len();
        for (key, value) in record.attributes() {
            self.push(attributes, key, value, &mut report);
        }
        let meta = record.metadata;
        self.push(
            attributes,
            "target",
            AttrRef::Str(meta.target()),
            &mut report,
        );
        if let Some(file) = meta.file() {
            self.push(
                attributes,
                "code.file.path",
                AttrRef::Str(file),
                &mut report,
            );
        }
        if let Some(module) = meta.module_path() {
            self.push(
                attributes,
                "code.module.name",
                AttrRef::Str(module),
                &mut report,
            );
        }
        if let Some(line) = meta.line() {
            self.push(
                attributes,
                "code.line.number",
                AttrRef::I64(i64::from(line)),
                &mut report,
            );
        }
        let span_attributes = start..attributes.len();

        let first_event = events.len();
        for event in &record.events {
            let (name, r) = redactor.redact_text(&event.name);
            report.merge(r);
            let start = attributes.len();
            for (key, value) in &event.attributes {
                self.push(attributes, key, view(value), &mut report);
            }
            let event_attributes = start..attributes.len();
            let len = if event.time_nanos == 0 {
                0
            } else {
                key_len(1) + 8
            } + nonempty_len(2, name.len())
                + attributes
                    .get(event_attributes.clone())
                    .unwrap_or_default()
                    .iter()
                    .map(|a| delimited_len(3, a.len()))
                    .sum::<usize>();
            events.push(Event {
                time: event.time_nanos,
                name,
                attributes: event_attributes,
                len,
            });
        }
        let span_events = first_event..events.len();

        let status = match &record.status {
            SpanStatus::Unset => None,
            SpanStatus::Ok => Some((StatusCode::Ok as i32, "")),
            SpanStatus::Error(message) => Some((StatusCode::Error as i32, message.as_str())),
        }
        .map(|(code, message)| {
            let (message, r) = redactor.redact_text(message);
            report.merge(r);
            (code, message)
        });

        let own = attributes.get(span_attributes.clone()).unwrap_or_default();
        let marks = ScrubMarks::of(report);
        if marks.is_some() {
            // The first `tenant` attribute left, when its value is text.
            let tenant = own
                .iter()
                .find(|a| a.key == TENANT)
                .and_then(|a| match &a.value {
                    Scalar::Str(s) => Some(s.as_ref()),
                    _ => None,
                });
            self.scrubber.count_marked(tenant, report);
        }

        let name = record.name();
        let kind = record.kind as i32;
        let mut len = delimited_len(1, record.trace_id.len())
            + delimited_len(2, record.span_id.len())
            + nonempty_len(3, record.trace_state.as_deref().map_or(0, str::len))
            + if record.parent_span_id == [0; 8] {
                0
            } else {
                delimited_len(4, record.parent_span_id.len())
            }
            + nonempty_len(5, name.len())
            + if kind == 0 {
                0
            } else {
                key_len(6) + encoded_len_varint(kind as u64)
            }
            + if record.start_nanos == 0 {
                0
            } else {
                key_len(7) + 8
            }
            + if record.end_nanos == 0 {
                0
            } else {
                key_len(8) + 8
            };
        len += own.iter().map(|a| delimited_len(9, a.len())).sum::<usize>();
        if let Some(marks) = &marks {
            marks.for_each(|key, value| len += delimited_len(9, key_value_len(key, value)));
        }
        len += events
            .get(span_events.clone())
            .unwrap_or_default()
            .iter()
            .map(|e| delimited_len(11, e.len))
            .sum::<usize>();
        if let Some((code, message)) = &status {
            len += delimited_len(15, status_len(*code, message));
        }
        if flags(record) != 0 {
            len += key_len(16) + 4;
        }
        Prepared {
            record,
            attributes: span_attributes,
            events: span_events,
            status,
            marks,
            len,
        }
    }

    /// Writes the body of one prepared span, [`Prepared::len`] bytes, fields in tag order.
    fn put_span(
        span: &Prepared<'_>,
        attributes: &[Attr<'_>],
        events: &[Event<'_>],
        buf: &mut Vec<u8>,
    ) {
        let record = span.record;
        put_delimited(1, &record.trace_id, buf);
        put_delimited(2, &record.span_id, buf);
        put_nonempty(
            3,
            record.trace_state.as_deref().unwrap_or_default().as_bytes(),
            buf,
        );
        if record.parent_span_id != [0; 8] {
            put_delimited(4, &record.parent_span_id, buf);
        }
        put_nonempty(5, record.name().as_bytes(), buf);
        let kind = record.kind as i32;
        if kind != 0 {
            encode_key(6, WireType::Varint, buf);
            encode_varint(kind as u64, buf);
        }
        if record.start_nanos != 0 {
            encode_key(7, WireType::SixtyFourBit, buf);
            buf.put_u64_le(record.start_nanos);
        }
        if record.end_nanos != 0 {
            encode_key(8, WireType::SixtyFourBit, buf);
            buf.put_u64_le(record.end_nanos);
        }
        for attribute in attributes.get(span.attributes.clone()).unwrap_or_default() {
            attribute.put(9, buf);
        }
        if let Some(marks) = &span.marks {
            marks.for_each(|key, value| put_key_value(9, key, value, buf));
        }
        for event in events.get(span.events.clone()).unwrap_or_default() {
            put_delimited_header(11, event.len, buf);
            if event.time != 0 {
                encode_key(1, WireType::SixtyFourBit, buf);
                buf.put_u64_le(event.time);
            }
            put_nonempty(2, event.name.as_bytes(), buf);
            for attribute in attributes.get(event.attributes.clone()).unwrap_or_default() {
                attribute.put(3, buf);
            }
        }
        if let Some((code, message)) = &span.status {
            put_delimited_header(15, status_len(*code, message), buf);
            put_nonempty(2, message.as_bytes(), buf);
            if *code != 0 {
                encode_key(3, WireType::Varint, buf);
                encode_varint(*code as u64, buf);
            }
        }
        let flags = flags(record);
        if flags != 0 {
            encode_key(16, WireType::ThirtyTwoBit, buf);
            buf.put_u32_le(flags);
        }
    }

    /// Encodes `records` as one `ExportTraceServiceRequest` with one `ResourceSpans` and one
    /// `ScopeSpans`, spans in the given order, redacted and marked (and counted in
    /// `telemetry_scrub_events_total`) as `OtlpScrubber::spans` does.
    pub(crate) fn encode(&self, records: &[SpanRecord]) -> EncodedTraces {
        let mut attributes: Vec<Attr<'_>> =
            Vec::with_capacity(records.iter().map(|r| r.attributes.len() + 4).sum());
        let mut events: Vec<Event<'_>> = Vec::new();
        let spans: Vec<Prepared<'_>> = records
            .iter()
            .map(|record| self.prepare(record, &mut attributes, &mut events))
            .collect();

        let scope_spans_len = delimited_len(1, self.scope.len())
            + spans.iter().map(|s| delimited_len(2, s.len)).sum::<usize>();
        let resource_spans_len = delimited_len(1, self.resource.len())
            + delimited_len(2, scope_spans_len)
            + nonempty_len(3, self.schema_url.len());
        let total = delimited_len(1, resource_spans_len);

        let mut buf = Vec::with_capacity(total);
        // ExportTraceServiceRequest.resource_spans (1)
        put_delimited_header(1, resource_spans_len, &mut buf);
        // ResourceSpans.resource (1)
        put_delimited(1, &self.resource, &mut buf);
        // ResourceSpans.scope_spans (2)
        put_delimited_header(2, scope_spans_len, &mut buf);
        // ScopeSpans.scope (1)
        put_delimited(1, &self.scope, &mut buf);
        let mut time: Option<(u64, u64)> = None;
        for span in &spans {
            // ScopeSpans.spans (2)
            put_delimited_header(2, span.len, &mut buf);
            Self::put_span(span, &attributes, &events, &mut buf);
            let t = span.record.start_nanos;
            time = Some(time.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
        }
        // ResourceSpans.schema_url (3)
        put_nonempty(3, self.schema_url.as_bytes(), &mut buf);
        debug_assert_eq!(buf.len(), total, "computed and written lengths differ");
        EncodedTraces::new(bytes::Bytes::from(buf), records.len(), time)
    }
}

#[cfg(test)]
mod tests;
