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

use super::{AttrRef, AttrValue, SpanRecord, SpanStatus};
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
    super::span_flags(record.flags, record.parent_remote)
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
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::super::SpanEventRecord;
    use super::*;
    use crate::export::ExportRequest;
    use crate::logging::encode::tests::{SCHEMA, resource, scrub_metrics_text};
    use crate::spool::records;
    use crate::window::Window;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans};
    use proptest::prelude::*;
    use stellaops_redaction::{Reason, RedactionPolicy, Redactor, ScrubMetrics};
    use tracing::Metadata;
    use tracing::callsite::{Callsite, Identifier};
    use tracing::field::FieldSet;
    use tracing::metadata::Kind;
    use tracing::subscriber::Interest;

    /// The callsite of the test spans' metadata.
    struct TestCallsite;

    impl Callsite for TestCallsite {
        fn set_interest(&self, _: Interest) {}

        fn metadata(&self) -> &Metadata<'_> {
            &FULL
        }
    }

    static CALLSITE: TestCallsite = TestCallsite;

    /// A callsite with a code location.
    static FULL: Metadata<'static> = Metadata::new(
        "GET /orders",
        "app::http",
        tracing::Level::INFO,
        Some("src/http.rs"),
        Some(42),
        Some("app::http"),
        FieldSet::new(&[], Identifier(&CALLSITE)),
        Kind::SPAN,
    );

    /// A callsite without one (and an empty name).
    static BARE: Metadata<'static> = Metadata::new(
        "",
        "",
        tracing::Level::INFO,
        None,
        None,
        None,
        FieldSet::new(&[], Identifier(&CALLSITE)),
        Kind::SPAN,
    );

    /// Everything a test span is made of.
    #[derive(Debug, Clone)]
    struct SpanSpec {
        trace_id: [u8; 16],
        span_id: [u8; 8],
        parent_span_id: [u8; 8],
        parent_remote: bool,
        flags: u8,
        trace_state: Option<String>,
        bare: bool,
        name_override: Option<String>,
        kind: SpanKind,
        start_nanos: u64,
        end_nanos: u64,
        attributes: Vec<(&'static str, AttrValue)>,
        status: SpanStatus,
        events: Vec<SpanEventRecord>,
    }

    fn record(spec: &SpanSpec) -> SpanRecord {
        let mut record = SpanRecord {
            trace_id: spec.trace_id,
            span_id: spec.span_id,
            parent_span_id: spec.parent_span_id,
            parent_remote: spec.parent_remote,
            flags: spec.flags,
            trace_state: spec.trace_state.clone(),
            metadata: if spec.bare { &BARE } else { &FULL },
            name_override: spec.name_override.clone(),
            kind: spec.kind,
            start_nanos: spec.start_nanos,
            end_nanos: spec.end_nanos,
            attributes: smallvec::SmallVec::new(),
            text: smallvec::SmallVec::new(),
            tenant: None,
            audit: None,
            status: spec.status.clone(),
            events: spec.events.clone(),
            forensic: false,
        };
        for (key, value) in &spec.attributes {
            record.set(key, value.clone());
        }
        record
    }

    fn scrubber(policy: RedactionPolicy) -> (OtlpScrubber, ScrubMetrics) {
        let metrics = ScrubMetrics::new();
        let scrubber =
            OtlpScrubber::new(std::sync::Arc::new(Redactor::new(policy)), metrics.clone());
        (scrubber, metrics)
    }

    /// An allow-list policy: keys other than these are dropped.
    fn allow_list() -> RedactionPolicy {
        RedactionPolicy::builder()
            .allow_list()
            .allow_key("user")
            .allow_key("http.*")
            .allow_key("target")
            .build()
            .unwrap()
    }

    /// A policy that hashes personal data and blocked keys (`hashed=true`).
    fn hashing() -> RedactionPolicy {
        RedactionPolicy::builder()
            .hash_with_salt("pepper")
            .build()
            .unwrap()
    }

    fn encoder(scrubber: OtlpScrubber, schema: &str) -> TracesEncoder {
        TracesEncoder::new(&resource(), schema.into(), &super::super::scope(), scrubber)
    }

    /// The request the export thread built before direct encoding (`build_trace_records`:
    /// `into_proto`, then `OtlpScrubber::spans`).
    fn old_request(
        records: &[SpanRecord],
        scrubber: &OtlpScrubber,
        schema: &str,
    ) -> ExportTraceServiceRequest {
        let mut resource_spans = vec![ResourceSpans {
            resource: Some(resource()),
            scope_spans: vec![ScopeSpans {
                scope: Some(super::super::scope()),
                spans: records
                    .iter()
                    .cloned()
                    .map(SpanRecord::into_proto)
                    .collect(),
                schema_url: String::new(),
            }],
            schema_url: schema.into(),
        }];
        scrubber.spans(&mut resource_spans);
        ExportTraceServiceRequest { resource_spans }
    }

    fn event(name: &str, time: u64, attributes: Vec<(&'static str, AttrValue)>) -> SpanEventRecord {
        SpanEventRecord {
            name: name.into(),
            time_nanos: time,
            attributes,
        }
    }

    fn root(start: u64) -> SpanSpec {
        SpanSpec {
            trace_id: [1; 16],
            span_id: [2; 8],
            parent_span_id: [0; 8],
            parent_remote: false,
            flags: 1,
            trace_state: None,
            bare: false,
            name_override: None,
            kind: SpanKind::Server,
            start_nanos: start,
            end_nanos: start + 10,
            attributes: vec![
                ("tenant", AttrValue::Str("t1".into())),
                ("http.status", AttrValue::I64(200)),
                ("ratio", AttrValue::F64(0.5)),
                ("cached", AttrValue::Bool(true)),
            ],
            status: SpanStatus::Unset,
            events: Vec::new(),
        }
    }

    /// Roots and children, remote parents with trace state, name overrides, every kind and
    /// status, events, text needing redaction, blocked keys, a `u64` beyond `i64`, empty text.
    fn batch() -> Vec<SpanSpec> {
        let mut child = root(50);
        child.parent_span_id = [2; 8];
        child.span_id = [3; 8];
        child.kind = SpanKind::Client;
        child.name_override = Some("SELECT orders".into());
        child.status = SpanStatus::Ok;
        child.attributes.push((
            "authorization",
            AttrValue::Str("Bearer eyJhbGciOiJIUzI1NiJ9.e30.abcdefghijklmnop".into()),
        ));
        child
            .attributes
            .push(("user.email", AttrValue::Str("jane.doe@example.com".into())));
        child.attributes.push(("api_key", AttrValue::I64(7)));
        child
            .attributes
            .push(("session_id", AttrValue::Bool(false)));
        child
            .attributes
            .push(("big", AttrValue::Str(u64::MAX.to_string())));
        child
            .attributes
            .push(("empty", AttrValue::Str(String::new())));
        child
            .attributes
            .push(("note", AttrValue::Str("x".repeat(300))));

        let mut remote = root(5);
        remote.parent_span_id = [9; 8];
        remote.parent_remote = true;
        remote.trace_state = Some("vendor=abc,other=1".into());
        remote.kind = SpanKind::Consumer;
        remote.status = SpanStatus::Error("failed for jane.doe@example.com".into());
        remote.events = vec![
            event(
                "token Bearer eyJhbGciOiJIUzI1NiJ9.e30.abcdefghijklmnop leaked",
                7,
                vec![
                    ("level", AttrValue::Str("ERROR".into())),
                    ("password", AttrValue::Str("hunter2".into())),
                    ("count", AttrValue::I64(-1)),
                ],
            ),
            event("", 0, Vec::new()),
        ];

        let mut plain = root(0);
        plain.bare = true;
        plain.kind = SpanKind::Unspecified;
        plain.flags = 0;
        plain.end_nanos = 0;
        plain.attributes.clear();
        plain.status = SpanStatus::Error(String::new());

        let mut producer = root(30);
        producer.kind = SpanKind::Producer;
        producer.name_override = Some(String::new());
        producer.attributes = vec![("tenant", AttrValue::I64(5))];
        producer.events = vec![event("retry", 31, vec![("attempt", AttrValue::I64(2))])];

        let mut internal = root(20);
        internal.kind = SpanKind::Internal;
        internal.attributes.insert(
            0,
            ("tenant", AttrValue::Str("mail jane.doe@example.com".into())),
        );

        vec![root(100), child, remote, plain, producer, internal]
    }

    fn assert_identical(specs: &[SpanSpec], policy: fn() -> RedactionPolicy, schema: &str) {
        let records: Vec<SpanRecord> = specs.iter().map(record).collect();
        let (new_scrubber, new_metrics) = scrubber(policy());
        let encoded = encoder(new_scrubber, schema).encode(&records);
        let (old_scrubber, old_metrics) = scrubber(policy());
        let old = ExportRequest::Traces(old_request(&records, &old_scrubber, schema));
        assert_eq!(encoded.as_bytes(), old.encode().as_slice());
        assert_eq!(
            scrub_metrics_text(&new_metrics),
            scrub_metrics_text(&old_metrics)
        );
        let new = ExportRequest::EncodedTraces(encoded);
        assert_eq!(new.item_count(), old.item_count());
        assert_eq!(records::time_range(&new), records::time_range(&old));
        assert_eq!(new.signal(), old.signal());
    }

    #[test]
    fn a_batch_is_byte_identical_to_the_old_request() {
        assert_identical(&batch(), RedactionPolicy::default, SCHEMA);
        assert_identical(&batch(), RedactionPolicy::default, "");
    }

    #[test]
    fn an_allow_list_policy_drops_the_same_attributes() {
        assert_identical(&batch(), allow_list, SCHEMA);
        let (scrubber, _) = scrubber(allow_list());
        let records: Vec<SpanRecord> = batch().iter().map(record).collect();
        let decoded = encoder(scrubber, SCHEMA).encode(&records).decode().unwrap();
        let root = &decoded.resource_spans[0].scope_spans[0].spans[0];
        assert!(root.attributes.iter().all(|kv| kv.key != "ratio"));
        assert!(root.attributes.iter().any(|kv| kv.key == "tenant"));
    }

    #[test]
    fn a_hashing_policy_marks_the_same_spans_hashed() {
        assert_identical(&batch(), hashing, SCHEMA);
        let (scrubber, _) = scrubber(hashing());
        let records: Vec<SpanRecord> = batch().iter().map(record).collect();
        let decoded = encoder(scrubber, SCHEMA).encode(&records).decode().unwrap();
        let child = &decoded.resource_spans[0].scope_spans[0].spans[1];
        assert!(child.attributes.iter().any(|kv| kv.key == "hashed"));
    }

    #[test]
    fn redacted_spans_are_marked_and_counted() {
        let (scrubber, metrics) = scrubber(RedactionPolicy::default());
        let encoded =
            encoder(scrubber, SCHEMA).encode(&batch().iter().map(record).collect::<Vec<_>>());
        // The child (tenant `t1`) had a bearer token, an e-mail and blocked keys.
        assert!(metrics.count("t1", Reason::Pattern) >= 1);
        let decoded = encoded.decode().unwrap();
        let spans = &decoded.resource_spans[0].scope_spans[0].spans;
        assert_eq!(spans.len(), 6);
        let child = &spans[1];
        assert!(child.attributes.iter().any(|kv| kv.key == "scrubbed"));
        assert!(child.attributes.iter().any(|kv| kv.key == "scrub.reasons"));
        let text = format!("{child:?}");
        assert!(!text.contains("jane.doe@example.com"), "{text}");
        assert!(!text.contains("abcdefghijklmnop"), "{text}");
        // The root had nothing to redact.
        assert!(!spans[0].attributes.iter().any(|kv| kv.key == "scrubbed"));
    }

    #[test]
    fn capture_filters_an_encoded_request_like_the_struct_one() {
        let records: Vec<SpanRecord> = batch().iter().map(record).collect();
        let (scrubber, _) = scrubber(RedactionPolicy::default());
        let encoded =
            ExportRequest::EncodedTraces(encoder(scrubber.clone(), SCHEMA).encode(&records));
        let old = ExportRequest::Traces(old_request(&records, &scrubber, SCHEMA));
        let window = Window {
            start: chrono::DateTime::from_timestamp_nanos(1),
            end: chrono::DateTime::from_timestamp_nanos(60),
        };
        let filtered = records::filter(encoded, &window, Some("t1"));
        assert!(filtered.as_ref().is_some_and(|(_, _, items)| *items >= 2));
        assert_eq!(filtered, records::filter(old, &window, Some("t1")));
    }

    fn value() -> impl Strategy<Value = AttrValue> {
        prop_oneof![
            ".{0,12}".prop_map(AttrValue::Str),
            Just(AttrValue::Str(String::new())),
            Just(AttrValue::Str(
                "Bearer eyJhbGciOiJIUzI1NiJ9.e30.abcdefghijklmnop".into()
            )),
            Just(AttrValue::Str("jane.doe@example.com".into())),
            (i64::MAX as u64..=u64::MAX).prop_map(|u| AttrValue::Str(u.to_string())),
            "[a-z ]{250,270}".prop_map(AttrValue::Str),
            any::<i64>().prop_map(AttrValue::I64),
            any::<f64>().prop_map(AttrValue::F64),
            any::<bool>().prop_map(AttrValue::Bool),
        ]
    }

    fn key() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "tenant",
            "user",
            "",
            "http.route",
            "password",
            "api_key",
            "message",
            "k",
        ])
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            ".{0,16}",
            Just(String::new()),
            Just("mail jane.doe@example.com now".to_owned()),
            Just("Bearer eyJhbGciOiJIUzI1NiJ9.e30.abcdefghijklmnop".to_owned()),
        ]
    }

    fn kind() -> impl Strategy<Value = SpanKind> {
        prop::sample::select(vec![
            SpanKind::Unspecified,
            SpanKind::Internal,
            SpanKind::Server,
            SpanKind::Client,
            SpanKind::Producer,
            SpanKind::Consumer,
        ])
    }

    fn status() -> impl Strategy<Value = SpanStatus> {
        prop_oneof![
            Just(SpanStatus::Unset),
            Just(SpanStatus::Ok),
            text().prop_map(SpanStatus::Error),
        ]
    }

    fn span_event() -> impl Strategy<Value = SpanEventRecord> {
        (
            text(),
            prop_oneof![Just(0u64), any::<u64>()],
            proptest::collection::vec((key(), value()), 0..4),
        )
            .prop_map(|(name, time_nanos, attributes)| SpanEventRecord {
                name,
                time_nanos,
                attributes,
            })
    }

    fn span_spec() -> impl Strategy<Value = SpanSpec> {
        (
            (
                any::<[u8; 16]>(),
                any::<[u8; 8]>(),
                prop_oneof![Just([0u8; 8]), any::<[u8; 8]>()],
                any::<bool>(),
                any::<u8>(),
                proptest::option::of("[a-z=,]{0,12}"),
                any::<bool>(),
            ),
            (
                proptest::option::of(text()),
                kind(),
                prop_oneof![Just(0u64), any::<u64>()],
                prop_oneof![Just(0u64), any::<u64>()],
                proptest::collection::vec((key(), value()), 0..6),
                status(),
                proptest::collection::vec(span_event(), 0..3),
            ),
        )
            .prop_map(
                |(
                    (trace_id, span_id, parent_span_id, parent_remote, flags, trace_state, bare),
                    (name_override, kind, start_nanos, end_nanos, attributes, status, events),
                )| SpanSpec {
                    trace_id,
                    span_id,
                    parent_span_id,
                    parent_remote,
                    flags,
                    trace_state,
                    bare,
                    name_override,
                    kind,
                    start_nanos,
                    end_nanos,
                    attributes,
                    status,
                    events,
                },
            )
    }

    proptest! {
        #[test]
        fn random_batches_are_byte_identical_with_the_same_scrub_metrics(
            specs in proptest::collection::vec(span_spec(), 1..8),
            schema in prop::sample::select(vec!["", SCHEMA]),
            policy in prop::sample::select(vec![
                RedactionPolicy::default as fn() -> RedactionPolicy,
                allow_list,
                hashing,
            ]),
        ) {
            let records: Vec<SpanRecord> = specs.iter().map(record).collect();
            let (new_scrubber, new_metrics) = scrubber(policy());
            let encoded = encoder(new_scrubber, schema).encode(&records);
            let (old_scrubber, old_metrics) = scrubber(policy());
            let old = old_request(&records, &old_scrubber, schema);
            let want = prost::Message::encode_to_vec(&old);
            prop_assert_eq!(encoded.as_bytes(), want.as_slice());
            prop_assert_eq!(scrub_metrics_text(&new_metrics), scrub_metrics_text(&old_metrics));
            let old = ExportRequest::Traces(old);
            prop_assert_eq!(encoded.span_count(), old.item_count());
            let new = ExportRequest::EncodedTraces(encoded);
            prop_assert_eq!(records::time_range(&new), records::time_range(&old));
        }
    }
}
