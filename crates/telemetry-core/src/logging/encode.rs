//! Direct protobuf encoding of log exports: the bytes of OTLP `ExportLogsServiceRequest`s
//! written straight from the compact [`LogEntry`] records, exactly as prost encodes the
//! `LogRecord`s that `LogEntry::to_proto` builds, without building them (the export
//! thread's main cost was building, encoding and dropping those structs).
//!
//! A batch is split by retention class ([`LogClass`]): one complete request per class present,
//! back to back, so the spool writes each part to its class stream without decoding. Not the
//! sending or spooling of the bytes (`export::otlp`, `spool`). The protobuf wire helpers and
//! the scrub marks here are shared with the direct span encoder (`span_layer::encode`).

use super::record::{LogEntry, Output, SAMPLED, Value, severity};
use crate::export::{EncodedLogs, LogPart};
use crate::scrub::OtlpScrubber;
use crate::spool::LogClass;
use bytes::BufMut;
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;
use prost::encoding::{WireType, encode_key, encode_varint, encoded_len_varint, key_len};
use std::borrow::Cow;
use stellaops_redaction::Report;

/// The attribute `OtlpScrubber::mark_log` counts a scrubbed record under.
const TENANT: &str = "tenant";

/// The length of a length-delimited field of `tag` whose body is `body` bytes long.
pub(crate) fn delimited_len(tag: u32, body: usize) -> usize {
    key_len(tag) + encoded_len_varint(body as u64) + body
}

/// Writes the key and length of a length-delimited field of `tag` (its body follows).
pub(crate) fn put_delimited_header(tag: u32, body: usize, buf: &mut Vec<u8>) {
    encode_key(tag, WireType::LengthDelimited, buf);
    encode_varint(body as u64, buf);
}

/// Writes a whole length-delimited field.
pub(crate) fn put_delimited(tag: u32, bytes: &[u8], buf: &mut Vec<u8>) {
    put_delimited_header(tag, bytes.len(), buf);
    buf.put_slice(bytes);
}

/// Writes a `string`/`bytes` field unless it is empty (proto3 skips the default).
pub(crate) fn put_nonempty(tag: u32, bytes: &[u8], buf: &mut Vec<u8>) {
    if !bytes.is_empty() {
        put_delimited(tag, bytes, buf);
    }
}

/// The length of a `string`/`bytes` field, `0` when it is empty and so not written.
pub(crate) fn nonempty_len(tag: u32, len: usize) -> usize {
    if len == 0 { 0 } else { delimited_len(tag, len) }
}

/// The `AnyValue` of one attribute as OTLP carries it (see `LogEntry::to_proto`).
pub(crate) enum AnyScalar<'a> {
    /// `string_value` (tag 1).
    Str(&'a [u8]),
    /// `bool_value` (tag 2).
    Bool(bool),
    /// `int_value` (tag 3).
    Int(i64),
    /// `double_value` (tag 4).
    Double(f64),
    /// `bytes_value` (tag 7).
    Bytes(&'a [u8]),
}

/// The decimal digits of `value` in `scratch`.
fn decimal(mut value: u64, scratch: &mut [u8; 20]) -> &[u8] {
    let mut at = scratch.len();
    loop {
        at -= 1;
        if let Some(digit) = scratch.get_mut(at) {
            // `value % 10` is below 10.
            *digit = b'0' + (value % 10) as u8;
        }
        value /= 10;
        if value == 0 || at == 0 {
            break;
        }
    }
    scratch.get(at..).unwrap_or_default()
}

impl<'a> AnyScalar<'a> {
    /// The OTLP value of `value` (text in `text`; `scratch` holds the digits of a `u64` above
    /// `i64::MAX`, sent as text).
    fn of(value: &'a Value, text: &'a str, scratch: &'a mut [u8; 20]) -> Self {
        match value {
            Value::Str(range) => AnyScalar::Str(range.of(text).as_bytes()),
            Value::I64(i) => AnyScalar::Int(*i),
            Value::U64(u) => match i64::try_from(*u) {
                Ok(i) => AnyScalar::Int(i),
                Err(_) => AnyScalar::Str(decimal(*u, scratch)),
            },
            Value::F64(f) => AnyScalar::Double(*f),
            Value::Bool(b) => AnyScalar::Bool(*b),
            Value::Wide(range) => {
                let s = range.of(text);
                match s.parse::<i64>() {
                    Ok(i) => AnyScalar::Int(i),
                    Err(_) => AnyScalar::Str(s.as_bytes()),
                }
            }
            Value::Bytes(bytes) => AnyScalar::Bytes(bytes),
        }
    }

    /// The length of the `AnyValue` message body (the oneof is always written).
    pub(crate) fn len(&self) -> usize {
        match self {
            AnyScalar::Str(s) => delimited_len(1, s.len()),
            AnyScalar::Bool(_) => key_len(2) + 1,
            AnyScalar::Int(i) => key_len(3) + encoded_len_varint(*i as u64),
            AnyScalar::Double(_) => key_len(4) + 8,
            AnyScalar::Bytes(b) => delimited_len(7, b.len()),
        }
    }

    /// Writes the `AnyValue` message body.
    pub(crate) fn put(&self, buf: &mut Vec<u8>) {
        match self {
            AnyScalar::Str(s) => put_delimited(1, s, buf),
            AnyScalar::Bool(b) => {
                encode_key(2, WireType::Varint, buf);
                encode_varint(u64::from(*b), buf);
            }
            AnyScalar::Int(i) => {
                encode_key(3, WireType::Varint, buf);
                encode_varint(*i as u64, buf);
            }
            AnyScalar::Double(d) => {
                encode_key(4, WireType::SixtyFourBit, buf);
                buf.put_f64_le(*d);
            }
            AnyScalar::Bytes(b) => put_delimited(7, b, buf),
        }
    }
}

/// The length of a `KeyValue` body: `key` (tag 1, skipped when empty) and `value` (tag 2,
/// always present); `key_strindex` is 0 and skipped.
pub(crate) fn key_value_len(key: &str, value: &AnyScalar<'_>) -> usize {
    nonempty_len(1, key.len()) + delimited_len(2, value.len())
}

/// The scrub marks of a record redaction changed: the attributes `OtlpScrubber::mark_log`
/// appends (`scrubbed=true`, `scrub.reasons`, `hashed=true` when a value was hashed).
pub(crate) struct ScrubMarks {
    /// The reasons, comma-separated.
    reasons: String,
    hashed: bool,
}

impl ScrubMarks {
    /// The marks for `report`, `None` when nothing was redacted.
    pub(crate) fn of(report: Report) -> Option<Self> {
        if !report.scrubbed() {
            return None;
        }
        let mut reasons = String::new();
        for reason in report.reasons().iter() {
            if !reasons.is_empty() {
                reasons.push(',');
            }
            reasons.push_str(reason.as_str());
        }
        Some(Self {
            reasons,
            hashed: report.hashed(),
        })
    }

    /// Calls `f` with each mark attribute, in the order `mark_log` appends them.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&'static str, &AnyScalar<'_>)) {
        f("scrubbed", &AnyScalar::Bool(true));
        f("scrub.reasons", &AnyScalar::Str(self.reasons.as_bytes()));
        if self.hashed {
            f("hashed", &AnyScalar::Bool(true));
        }
    }
}

impl LogEntry {
    /// The attributes OTLP carries, in order, with their values.
    fn for_each_otlp_attribute(&self, mut f: impl FnMut(&'static str, &AnyScalar<'_>)) {
        let mut scratch = [0u8; 20];
        for attribute in &self.attributes {
            if attribute.output == Output::Json {
                continue;
            }
            f(
                attribute.key,
                &AnyScalar::of(&attribute.value, &self.text, &mut scratch),
            );
        }
    }

    /// The record's `tenant` attribute as `OtlpScrubber::mark_log` finds it: the first OTLP
    /// attribute named `tenant`, when OTLP carries its value as text.
    fn otlp_tenant(&self) -> Option<Cow<'_, str>> {
        let attribute = self
            .attributes
            .iter()
            .find(|a| a.output != Output::Json && a.key == TENANT)?;
        match &attribute.value {
            Value::Str(range) => Some(Cow::Borrowed(range.of(&self.text))),
            Value::Wide(range) => {
                let s = range.of(&self.text);
                s.parse::<i64>().is_err().then_some(Cow::Borrowed(s))
            }
            Value::U64(u) => i64::try_from(*u)
                .is_err()
                .then(|| Cow::Owned(u.to_string())),
            Value::I64(_) | Value::F64(_) | Value::Bool(_) | Value::Bytes(_) => None,
        }
    }

    /// The length of the body of the `LogRecord` `LogEntry::to_proto` builds (with
    /// `marks` appended to its attributes), as prost encodes it.
    fn otlp_len(&self, marks: Option<&ScrubMarks>) -> usize {
        let severity_number = severity(self.level) as i32;
        let mut len = 0;
        // 1 time_unix_nano: always 0.
        if severity_number != 0 {
            len += key_len(2) + encoded_len_varint(severity_number as u64);
        }
        len += nonempty_len(3, self.level.as_str().len());
        if let Some(body) = self.body {
            len += delimited_len(5, delimited_len(1, body.of(&self.text).len()));
        }
        let mut attribute = |key: &str, value: &AnyScalar<'_>| {
            len += delimited_len(6, key_value_len(key, value));
        };
        self.for_each_otlp_attribute(&mut attribute);
        if let Some(marks) = marks {
            marks.for_each(&mut attribute);
        }
        // 7 dropped_attributes_count: always 0.
        if self.ids.is_some() {
            len += key_len(8) + 4 + delimited_len(9, 16) + delimited_len(10, 8);
        }
        if self.observed_unix_nanos != 0 {
            len += key_len(11) + 8;
        }
        len + nonempty_len(12, self.name.len())
    }

    /// Appends the body of the `LogRecord` `LogEntry::to_proto` builds (with `marks`
    /// appended to its attributes, as `OtlpScrubber::mark_log` does), byte for byte as prost
    /// encodes it (fields in tag order, proto3 defaults skipped), [`Self::otlp_len`] bytes
    /// long.
    fn put_otlp(&self, marks: Option<&ScrubMarks>, buf: &mut Vec<u8>) {
        let severity_number = severity(self.level) as i32;
        if severity_number != 0 {
            encode_key(2, WireType::Varint, buf);
            encode_varint(severity_number as u64, buf);
        }
        put_nonempty(3, self.level.as_str().as_bytes(), buf);
        if let Some(body) = self.body {
            let body = AnyScalar::Str(body.of(&self.text).as_bytes());
            put_delimited_header(5, body.len(), buf);
            body.put(buf);
        }
        let mut attribute = |key: &str, value: &AnyScalar<'_>| {
            put_delimited_header(6, key_value_len(key, value), buf);
            put_nonempty(1, key.as_bytes(), buf);
            put_delimited_header(2, value.len(), buf);
            value.put(buf);
        };
        self.for_each_otlp_attribute(&mut attribute);
        if let Some(marks) = marks {
            marks.for_each(&mut attribute);
        }
        if let Some((trace, span)) = &self.ids {
            encode_key(8, WireType::ThirtyTwoBit, buf);
            buf.put_u32_le(SAMPLED);
            put_delimited(9, trace, buf);
            put_delimited(10, span, buf);
        }
        if self.observed_unix_nanos != 0 {
            encode_key(11, WireType::SixtyFourBit, buf);
            buf.put_u64_le(self.observed_unix_nanos);
        }
        put_nonempty(12, self.name.as_bytes(), buf);
    }

    /// The retention class of the entry's record ([`LogClass::of`] its severity).
    pub(crate) fn class(&self) -> LogClass {
        LogClass::from_severity(severity(self.level) as i32, self.level.as_str())
    }
}

/// One entry of a batch, with what encoding it needs.
struct Item<'a> {
    entry: &'a LogEntry,
    class: LogClass,
    /// The length of the record body.
    len: usize,
    /// The scrub marks of an entry redaction changed.
    marks: Option<ScrubMarks>,
}

/// Encodes batches of [`LogEntry`] records into [`EncodedLogs`] for one service resource.
#[derive(Debug, Clone)]
pub(crate) struct LogsEncoder {
    /// The encoded `Resource` message body (it never changes).
    resource: Vec<u8>,
    /// The resource's schema URL (`ResourceLogs.schema_url`).
    schema_url: String,
    scrubber: OtlpScrubber,
}

impl LogsEncoder {
    /// An encoder for records of `resource` (with `schema_url`), marking scrubbed records with
    /// `scrubber`.
    pub(crate) fn new(resource: &Resource, schema_url: String, scrubber: OtlpScrubber) -> Self {
        Self {
            resource: resource.encode_to_vec(),
            schema_url,
            scrubber,
        }
    }

    /// Encodes `entries`: grouped by class ([`LogClass::ALL`] order), then by scope (the
    /// entry's target, sorted), each class one `ExportLogsServiceRequest` with one
    /// `ResourceLogs`. Scrubbed entries get their marks (encoded directly too) and count in
    /// `telemetry_scrub_events_total`, as `OtlpScrubber::mark_log` does.
    pub(crate) fn encode(&self, entries: &[LogEntry]) -> EncodedLogs {
        let mut items: Vec<Item<'_>> = entries
            .iter()
            .map(|entry| {
                let marks = ScrubMarks::of(entry.report);
                if marks.is_some() {
                    self.scrubber
                        .count_marked(entry.otlp_tenant().as_deref(), entry.report);
                }
                Item {
                    entry,
                    class: entry.class(),
                    len: entry.otlp_len(marks.as_ref()),
                    marks,
                }
            })
            .collect();
        // Stable: records keep their order inside a scope.
        items.sort_by(|a, b| (a.class, a.entry.target).cmp(&(b.class, b.entry.target)));

        let scope_len = |scope: &[Item<'_>]| {
            let target = scope.first().map_or("", |i| i.entry.target);
            delimited_len(1, nonempty_len(1, target.len()))
                + scope.iter().map(|i| delimited_len(2, i.len)).sum::<usize>()
        };
        let resource_logs_len = |class: &[Item<'_>]| {
            delimited_len(1, self.resource.len())
                + class
                    .chunk_by(|a, b| a.entry.target == b.entry.target)
                    .map(|scope| delimited_len(2, scope_len(scope)))
                    .sum::<usize>()
                + nonempty_len(3, self.schema_url.len())
        };
        let total: usize = items
            .chunk_by(|a, b| a.class == b.class)
            .map(|class| delimited_len(1, resource_logs_len(class)))
            .sum();

        let mut buf = Vec::with_capacity(total);
        let mut parts = Vec::with_capacity(1);
        for class in items.chunk_by(|a, b| a.class == b.class) {
            let start = buf.len();
            let mut time: Option<(u64, u64)> = None;
            // ExportLogsServiceRequest.resource_logs (1)
            put_delimited_header(1, resource_logs_len(class), &mut buf);
            // ResourceLogs.resource (2)
            put_delimited(1, &self.resource, &mut buf);
            for scope in class.chunk_by(|a, b| a.entry.target == b.entry.target) {
                let target = scope.first().map_or("", |i| i.entry.target);
                // ResourceLogs.scope_logs (2)
                put_delimited_header(2, scope_len(scope), &mut buf);
                // ScopeLogs.scope (1): InstrumentationScope { name }
                put_delimited_header(1, nonempty_len(1, target.len()), &mut buf);
                put_nonempty(1, target.as_bytes(), &mut buf);
                for item in scope {
                    // ScopeLogs.log_records (2)
                    put_delimited_header(2, item.len, &mut buf);
                    item.entry.put_otlp(item.marks.as_ref(), &mut buf);
                    // The record's time is unset: its time is the observed time.
                    let t = item.entry.observed_unix_nanos;
                    time = Some(time.map_or((t, t), |(lo, hi)| (lo.min(t), hi.max(t))));
                }
            }
            // ResourceLogs.schema_url (3)
            put_nonempty(3, self.schema_url.as_bytes(), &mut buf);
            if let Some(first) = class.first() {
                parts.push(LogPart {
                    class: first.class,
                    range: start..buf.len(),
                    time,
                });
            }
        }
        debug_assert_eq!(buf.len(), total, "computed and written lengths differ");
        EncodedLogs::new(bytes::Bytes::from(buf), parts, entries.len())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::export::ExportRequest;
    use crate::logging::record::{Attribute, TextRange};
    use crate::spool::records;
    use crate::spool::retention::only_class;
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{
        AnyValue, InstrumentationScope, KeyValue, any_value,
    };
    use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    use proptest::prelude::*;
    use std::collections::BTreeMap;
    use stellaops_redaction::{Reason, RedactionPolicy, Redactor, Report, ScrubMetrics};

    /// An attribute value before it is laid out in an entry's text.
    #[derive(Debug, Clone)]
    enum Spec {
        Str(String),
        I64(i64),
        U64(u64),
        F64(f64),
        Bool(bool),
        Wide(String),
        Bytes(Vec<u8>),
    }

    /// Everything a test entry is made of.
    #[derive(Debug, Clone)]
    struct EntrySpec {
        observed: u64,
        level: tracing::Level,
        target: &'static str,
        name: &'static str,
        ids: Option<([u8; 16], [u8; 8])>,
        body: Option<String>,
        attributes: Vec<(&'static str, Output, Spec)>,
        report: Report,
    }

    fn push(text: &mut String, s: &str) -> TextRange {
        let start = text.len();
        text.push_str(s);
        TextRange {
            start,
            end: text.len(),
        }
    }

    fn entry(spec: &EntrySpec) -> LogEntry {
        let mut text = String::new();
        // Text before the body, so ranges do not start at 0.
        push(&mut text, "prefix");
        let body = spec.body.as_deref().map(|b| push(&mut text, b));
        let attributes = spec
            .attributes
            .iter()
            .map(|(key, output, value)| Attribute {
                key,
                output: *output,
                value: match value {
                    Spec::Str(s) => Value::Str(push(&mut text, s)),
                    Spec::I64(i) => Value::I64(*i),
                    Spec::U64(u) => Value::U64(*u),
                    Spec::F64(f) => Value::F64(*f),
                    Spec::Bool(b) => Value::Bool(*b),
                    Spec::Wide(s) => Value::Wide(push(&mut text, s)),
                    Spec::Bytes(b) => Value::Bytes(b.clone().into_boxed_slice()),
                },
            })
            .collect();
        LogEntry {
            observed_unix_nanos: spec.observed,
            level: spec.level,
            target: spec.target,
            name: spec.name,
            ids: spec.ids,
            text,
            body,
            attributes,
            report: spec.report,
        }
    }

    fn scrubber() -> (OtlpScrubber, ScrubMetrics) {
        let metrics = ScrubMetrics::new();
        let scrubber = OtlpScrubber::new(
            std::sync::Arc::new(Redactor::new(RedactionPolicy::default())),
            metrics.clone(),
        );
        (scrubber, metrics)
    }

    /// A service resource for the encoders' tests (shared with `span_layer::encode`).
    pub(crate) fn resource() -> Resource {
        Resource {
            attributes: vec![KeyValue {
                key: "service.name".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue("svc".into())),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    pub(crate) const SCHEMA: &str = "https://opentelemetry.io/schemas/1.30.0";

    /// The request the export thread built before direct encoding (`pipeline::build_logs`).
    fn old_request(entries: &[LogEntry], scrubber: &OtlpScrubber) -> ExportLogsServiceRequest {
        let mut by_scope: BTreeMap<&'static str, Vec<LogRecord>> = BTreeMap::new();
        for entry in entries {
            let mut record = entry.to_proto();
            scrubber.mark_log(&mut record, entry.report);
            by_scope.entry(entry.target).or_default().push(record);
        }
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: Some(resource()),
                scope_logs: by_scope
                    .into_iter()
                    .map(|(name, log_records)| ScopeLogs {
                        scope: Some(InstrumentationScope {
                            name: name.to_owned(),
                            ..Default::default()
                        }),
                        log_records,
                        schema_url: String::new(),
                    })
                    .collect(),
                schema_url: SCHEMA.into(),
            }],
        }
    }

    fn sample(level: tracing::Level, target: &'static str, observed: u64) -> EntrySpec {
        EntrySpec {
            observed,
            level,
            target,
            name: "event src/main.rs:12",
            ids: Some(([7; 16], [9; 8])),
            body: Some("order placed".into()),
            attributes: vec![
                ("tenant", Output::Otlp, Spec::Str("t1".into())),
                ("count", Output::Both, Spec::I64(-3)),
                ("big", Output::Both, Spec::U64(u64::MAX)),
                ("small", Output::Both, Spec::U64(42)),
                ("ratio", Output::Both, Spec::F64(0.25)),
                ("ok", Output::Both, Spec::Bool(false)),
                ("wide", Output::Both, Spec::Wide(i128::MIN.to_string())),
                ("narrow", Output::Both, Spec::Wide("-17".into())),
                ("raw", Output::Otlp, Spec::Bytes(vec![0, 1, 2])),
                ("json_only", Output::Json, Spec::Str("not in OTLP".into())),
                ("empty", Output::Both, Spec::Str(String::new())),
            ],
            report: Report::CLEAN,
        }
    }

    #[test]
    fn a_one_class_batch_is_byte_identical_to_the_prost_encoding() {
        let (scrubber, _) = scrubber();
        let mut quiet = sample(tracing::Level::INFO, "app::db", 0);
        quiet.ids = None;
        quiet.body = None;
        quiet.attributes.clear();
        let mut redacted = sample(tracing::Level::INFO, "app", 5);
        redacted.report = Report::with_reason(Reason::Pii);
        let mut hashed_one = sample(tracing::Level::INFO, "app::http", 6);
        hashed_one.report = hashed();
        let specs = [
            sample(tracing::Level::INFO, "app::http", 30),
            sample(tracing::Level::INFO, "app", 10),
            quiet,
            redacted,
            sample(tracing::Level::INFO, "app::http", 20),
            hashed_one,
            sample(tracing::Level::INFO, "", 1),
        ];
        let entries: Vec<LogEntry> = specs.iter().map(entry).collect();
        let encoder = LogsEncoder::new(&resource(), SCHEMA.into(), scrubber.clone());
        let encoded = encoder.encode(&entries);
        let old = ExportRequest::Logs(old_request(&entries, &scrubber));
        assert_eq!(encoded.as_bytes(), old.encode().as_slice());
        assert_eq!(encoded.classes().collect::<Vec<_>>(), [LogClass::Info]);
        let request = ExportRequest::EncodedLogs(encoded);
        assert_eq!(request.item_count(), old.item_count());
        assert_eq!(records::time_range(&request), records::time_range(&old));
        assert_eq!(request.signal(), old.signal());
    }

    #[test]
    fn a_scrubbed_record_is_marked_and_counted_once() {
        let (scrubber, metrics) = scrubber();
        let mut spec = sample(tracing::Level::WARN, "app", 5);
        spec.report = Report::with_reason(Reason::Secret);
        let encoded =
            LogsEncoder::new(&resource(), SCHEMA.into(), scrubber).encode(&[entry(&spec)]);
        assert_eq!(metrics.count("t1", Reason::Secret), 1);
        let decoded = encoded.decode().unwrap();
        let record = &decoded.resource_logs[0].scope_logs[0].log_records[0];
        assert!(record.attributes.iter().any(|kv| kv.key == "scrubbed"));
        assert!(record.attributes.iter().any(|kv| kv.key == "scrub.reasons"));
    }

    #[test]
    fn a_mixed_batch_has_one_part_per_class_most_severe_first() {
        let (scrubber, _) = scrubber();
        let specs = [
            sample(tracing::Level::DEBUG, "a", 4),
            sample(tracing::Level::ERROR, "b", 3),
            sample(tracing::Level::TRACE, "a", 2),
            sample(tracing::Level::INFO, "a", 1),
        ];
        let entries: Vec<LogEntry> = specs.iter().map(entry).collect();
        let encoded = LogsEncoder::new(&resource(), SCHEMA.into(), scrubber).encode(&entries);
        assert_eq!(
            encoded.classes().collect::<Vec<_>>(),
            [LogClass::Error, LogClass::Info, LogClass::Debug]
        );
        let times: Vec<_> = encoded.parts().iter().map(|p| p.time).collect();
        assert_eq!(times, [Some((3, 3)), Some((1, 1)), Some((2, 4))]);
        assert_eq!(encoded.record_count(), 4);
        assert_eq!(encoded.decode().unwrap().resource_logs.len(), 3);
    }

    #[test]
    fn decimal_digits_match_to_string() {
        for value in [0, 7, 10, 9_223_372_036_854_775_808, u64::MAX] {
            let mut scratch = [0u8; 20];
            assert_eq!(decimal(value, &mut scratch), value.to_string().as_bytes());
        }
    }

    /// A report with two reasons and a hashed value.
    fn hashed() -> Report {
        let mut report = Report::with_reason(Reason::Secret);
        report.add(Reason::Pattern);
        report.mark_hashed();
        report
    }

    /// `telemetry_scrub_events_total` as text lines, sorted (the family is a hash map).
    pub(crate) fn scrub_metrics_text(metrics: &ScrubMetrics) -> Vec<String> {
        let mut registry = prometheus_client::registry::Registry::default();
        metrics.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    }

    fn level() -> impl Strategy<Value = tracing::Level> {
        prop_oneof![
            Just(tracing::Level::TRACE),
            Just(tracing::Level::DEBUG),
            Just(tracing::Level::INFO),
            Just(tracing::Level::WARN),
            Just(tracing::Level::ERROR),
        ]
    }

    fn value() -> impl Strategy<Value = Spec> {
        prop_oneof![
            ".{0,12}".prop_map(Spec::Str),
            any::<i64>().prop_map(Spec::I64),
            any::<u64>().prop_map(Spec::U64),
            (i64::MAX as u64..=u64::MAX).prop_map(Spec::U64),
            any::<f64>().prop_map(Spec::F64),
            any::<bool>().prop_map(Spec::Bool),
            any::<i128>().prop_map(|i| Spec::Wide(i.to_string())),
            any::<i64>().prop_map(|i| Spec::Wide(i.to_string())),
            proptest::collection::vec(any::<u8>(), 0..6).prop_map(Spec::Bytes),
        ]
    }

    fn attribute() -> impl Strategy<Value = (&'static str, Output, Spec)> {
        (
            prop::sample::select(vec!["tenant", "tenant", "user", "", "k"]),
            prop::sample::select(vec![Output::Both, Output::Json, Output::Otlp]),
            value(),
        )
    }

    fn entry_spec() -> impl Strategy<Value = EntrySpec> {
        (
            prop_oneof![Just(0u64), any::<u64>(), 0u64..1000],
            level(),
            prop::sample::select(vec!["app", "app::db", "", "z"]),
            prop::sample::select(vec!["event a.rs:1", ""]),
            proptest::option::of(any::<([u8; 16], [u8; 8])>()),
            proptest::option::of(".{0,20}"),
            proptest::collection::vec(attribute(), 0..6),
            prop::sample::select(vec![
                Report::CLEAN,
                Report::CLEAN,
                Report::CLEAN,
                Report::with_reason(Reason::Pii),
                hashed(),
            ]),
        )
            .prop_map(
                |(observed, level, target, name, ids, body, attributes, report)| EntrySpec {
                    observed,
                    level,
                    target,
                    name,
                    ids,
                    body,
                    attributes,
                    report,
                },
            )
    }

    proptest! {
        #[test]
        fn parts_are_the_old_request_split_by_class(
            specs in proptest::collection::vec(entry_spec(), 1..12),
            schema in prop::sample::select(vec!["", SCHEMA]),
        ) {
            let entries: Vec<LogEntry> = specs.iter().map(entry).collect();
            let (scrubber, new_metrics) = scrubber();
            let encoded = LogsEncoder::new(&resource(), schema.into(), scrubber).encode(&entries);
            let (old_scrubber, old_metrics) = self::scrubber();
            let mut old = old_request(&entries, &old_scrubber);
            old.resource_logs[0].schema_url = schema.into();
            // The same scrub events, under the same tenants.
            prop_assert_eq!(scrub_metrics_text(&new_metrics), scrub_metrics_text(&old_metrics));

            let classes = crate::spool::retention::classes_of(&old);
            prop_assert_eq!(encoded.classes().collect::<Vec<_>>(), classes.clone());
            prop_assert_eq!(encoded.record_count(), entries.len());
            if let [_] = classes.as_slice() {
                prop_assert_eq!(encoded.as_bytes(), ExportRequest::Logs(old.clone()).encode());
            }
            let mut end = 0;
            for (part, class) in encoded.parts().iter().zip(&classes) {
                prop_assert_eq!(part.range.start, end);
                end = part.range.end;
                let expected = only_class(&old, *class);
                let bytes = encoded.part_bytes(part);
                let want = expected.encode_to_vec();
                prop_assert_eq!(bytes, want.as_slice());
                let decoded = ExportLogsServiceRequest::decode(bytes).unwrap();
                prop_assert_eq!(crate::spool::retention::classes_of(&decoded), vec![*class]);
                prop_assert_eq!(part.time, records::logs_time_range(&decoded));
            }
            prop_assert_eq!(end, encoded.as_bytes().len());

            // The concatenation decodes as one request with a `ResourceLogs` per class,
            // holding every record once.
            let all = encoded.decode().unwrap();
            prop_assert_eq!(all.resource_logs.len(), classes.len());
            // Every record's encoding, in a fixed order.
            let records = |request: &ExportLogsServiceRequest| {
                let mut records: Vec<Vec<u8>> = request
                    .resource_logs
                    .iter()
                    .flat_map(|rl| &rl.scope_logs)
                    .flat_map(|sl| &sl.log_records)
                    .map(prost::Message::encode_to_vec)
                    .collect();
                records.sort();
                records
            };
            prop_assert_eq!(records(&all), records(&old));
        }
    }
}
