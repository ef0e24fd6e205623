//! Tests of the direct span encoder: its bytes, scrub marks and counts against the struct
//! path (`SpanRecord::into_proto` + `OtlpScrubber::spans` + prost), fixed cases and proptests.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use super::super::record::{SpanEventRecord, scope};
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
    let scrubber = OtlpScrubber::new(std::sync::Arc::new(Redactor::new(policy)), metrics.clone());
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
    TracesEncoder::new(&resource(), schema.into(), &scope(), scrubber)
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
            scope: Some(scope()),
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
    let encoded = encoder(scrubber, SCHEMA).encode(&batch().iter().map(record).collect::<Vec<_>>());
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
    let encoded = ExportRequest::EncodedTraces(encoder(scrubber.clone(), SCHEMA).encode(&records));
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
