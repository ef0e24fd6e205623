//! W3C Trace Context and Baggage conformance, from the specifications' rules (the cases of the
//! W3C trace-context test suite), plus the Stella headers.

use http::HeaderMap;
use proptest::prelude::*;
use stellaops_telemetry_core::propagation::{
    Carrier, PropagationContext, PropagationError, TraceParent, TraceState,
};

const TRACE: &str = "12345678901234567890123456789012";
const PARENT: &str = "1234567890123456";

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    h
}

fn valid_tp() -> String {
    format!("00-{TRACE}-{PARENT}-01")
}

#[test]
fn accepts_a_valid_version_00_header_and_round_trips_it() {
    let tp = TraceParent::parse(&valid_tp()).unwrap();
    assert!(tp.sampled());
    assert_eq!(tp.to_header(), valid_tp());
    let unsampled = TraceParent::parse(&format!("00-{TRACE}-{PARENT}-00")).unwrap();
    assert!(!unsampled.sampled());
}

#[test]
fn optional_whitespace_around_traceparent_is_accepted() {
    for v in [
        format!(" {}", valid_tp()),
        format!("{}\t", valid_tp()),
        format!("\t {} \t", valid_tp()),
    ] {
        assert!(TraceParent::parse(&v).is_ok(), "{v:?}");
    }
}

#[test]
fn version_ff_and_bad_versions_are_rejected() {
    for version in ["ff", "0g", "GG", "0", "000", "0A", ".0"] {
        let v = format!("{version}-{TRACE}-{PARENT}-01");
        assert!(TraceParent::parse(&v).is_err(), "{v:?} accepted");
    }
}

#[test]
fn future_versions_read_the_known_fields_and_ignore_the_rest() {
    let tp = TraceParent::parse(&format!(
        "cc-{TRACE}-{PARENT}-01-what-the-future-will-be-like"
    ))
    .unwrap();
    assert_eq!(tp.version, 0xcc);
    assert_eq!(tp.to_header(), valid_tp(), "we always send version 00");
    assert!(TraceParent::parse(&format!("cc-{TRACE}-{PARENT}-01")).is_ok());
    assert!(TraceParent::parse(&format!("cc-{TRACE}-{PARENT}-01.what")).is_err());
}

#[test]
fn version_00_with_trailing_data_is_rejected() {
    assert!(
        TraceParent::parse(&format!(
            "00-{TRACE}-{PARENT}-01-what-the-future-will-be-like"
        ))
        .is_err()
    );
    assert!(TraceParent::parse(&format!("00-{TRACE}-{PARENT}-01-")).is_err());
}

#[test]
fn malformed_ids_and_flags_are_rejected_naming_the_field() {
    let cases = [
        (format!("00-{}-{PARENT}-01", "0".repeat(32)), "trace-id"),
        (format!("00-{TRACE}-{}-01", "0".repeat(16)), "parent-id"),
        (
            format!("00-{}-{PARENT}-01", TRACE.to_uppercase().replace('1', "A")),
            "trace-id",
        ),
        (
            format!("00-{}-{PARENT}-01", "a".repeat(31) + "."),
            "trace-id",
        ),
        (format!("00-{TRACE}-{}-01", "A".repeat(16)), "parent-id"),
        (format!("00-{TRACE}-{PARENT}-.0"), "trace-flags"),
        (format!("00-{TRACE}-{PARENT}-0x"), "trace-flags"),
        (format!("00-{TRACE}{PARENT}-01-0"), "trace-id"),
    ];
    for (value, field) in cases {
        match TraceParent::parse(&value) {
            Err(PropagationError::TraceParent { field: f, .. }) => {
                assert_eq!(f, field, "{value:?}");
            }
            other => panic!("{value:?}: expected a {field} error, got {other:?}"),
        }
    }
    for short in ["", "00", &format!("00-{TRACE}-{PARENT}-0")] {
        assert!(TraceParent::parse(short).is_err(), "{short:?}");
    }
}

#[test]
fn duplicated_traceparent_starts_a_new_trace() {
    let h = headers(&[("traceparent", &valid_tp()), ("traceparent", &valid_tp())]);
    let got = PropagationContext::extract(&h);
    assert_eq!(got.context.traceparent, None);
    assert_eq!(
        got.problems,
        vec![PropagationError::DuplicateTraceParent { count: 2 }]
    );
}

#[test]
fn tracestate_with_32_members_is_kept_and_33_is_dropped_without_losing_traceparent() {
    let members = |n: usize| {
        (0..n)
            .map(|i| format!("k{i}=v{i}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let ok = PropagationContext::extract(&headers(&[
        ("traceparent", &valid_tp()),
        ("tracestate", &members(32)),
    ]));
    assert!(ok.problems.is_empty());
    assert_eq!(ok.context.tracestate.members().count(), 32);

    let over = PropagationContext::extract(&headers(&[
        ("traceparent", &valid_tp()),
        ("tracestate", &members(33)),
    ]));
    assert!(
        over.context.traceparent.is_some(),
        "traceparent must survive an invalid tracestate"
    );
    assert!(over.context.tracestate.is_empty());
    assert!(matches!(
        over.problems.as_slice(),
        [PropagationError::TraceState { .. }]
    ));
}

#[test]
fn multiple_tracestate_headers_combine_in_order() {
    let h = headers(&[
        ("traceparent", &valid_tp()),
        ("tracestate", "foo=1,bar=2"),
        ("tracestate", "baz=3"),
    ]);
    let got = PropagationContext::extract(&h);
    let keys: Vec<&str> = got.context.tracestate.members().map(|(k, _)| k).collect();
    assert_eq!(keys, ["foo", "bar", "baz"]);
    let mut out = HeaderMap::new();
    got.context.inject(&mut out);
    assert_eq!(out["tracestate"], "foo=1,bar=2,baz=3");
    assert_eq!(out["traceparent"], valid_tp().as_str());
}

#[test]
fn tracestate_key_and_value_grammar() {
    let good = [
        "foo=1",
        "foo_-*/9=1",
        "t1@sys=1",
        "0tenant@vendor=x",
        &format!("{}=v", "a".repeat(256)),
        &format!("{}@{}=v", "t".repeat(241), "s".repeat(14)),
        &format!("k={}", "v".repeat(256)),
        "k=a b",
        " foo=1 , , bar=2 ",
    ];
    for v in good {
        assert!(TraceState::parse(v).is_ok(), "{v:?} rejected");
    }
    let bad = [
        "Foo=1",
        "1foo=1",
        "foo",
        "foo=",
        "foo=1,foo=2",
        &format!("{}=v", "a".repeat(257)),
        &format!("{}@{}=v", "t".repeat(242), "s"),
        &format!("t@{}=v", "s".repeat(15)),
        "t@1sys=v",
        &format!("k={}", "v".repeat(257)),
        "k=a=b",
        "k=a,b",
        "k=a\tb",
        "k=é",
        "foo=1,@bar=2",
    ];
    for v in bad {
        assert!(TraceState::parse(v).is_err(), "{v:?} accepted");
    }
}

#[test]
fn tracestate_without_valid_traceparent_is_ignored() {
    let h = headers(&[("traceparent", "ff-bad"), ("tracestate", "foo=1")]);
    let got = PropagationContext::extract(&h);
    assert!(got.context.traceparent.is_none());
    assert!(got.context.tracestate.is_empty());
    let mut out = HeaderMap::new();
    got.context.inject(&mut out);
    assert!(out.get("tracestate").is_none());
}

#[test]
fn our_tracestate_member_goes_first_and_long_headers_are_trimmed_to_512() {
    let mut ts = TraceState::parse("a=1,b=2").unwrap();
    ts.upsert("stella", "t1").unwrap();
    ts.upsert("b", "3").unwrap();
    assert_eq!(ts.to_header(), "b=3,stella=t1,a=1");

    let big = (0..32)
        .map(|i| format!("k{i:02}={}", "x".repeat(30)))
        .collect::<Vec<_>>()
        .join(",");
    let ts = TraceState::parse(&big).unwrap();
    let header = ts.to_header();
    assert!(header.len() <= 512, "{}", header.len());
    assert!(header.starts_with("k00="), "the first members are kept");
}

#[test]
fn baggage_limits_64_members_and_8192_bytes_are_propagated() {
    let members: Vec<String> = (0..64)
        .map(|i| format!("key{i}={}", "v".repeat(120)))
        .collect();
    let value = members.join(",");
    assert!(value.len() <= 8192);
    let got = PropagationContext::extract(&headers(&[("baggage", &value)]));
    assert_eq!(got.context.baggage.members().len(), 64);
    let mut out = HeaderMap::new();
    got.context.inject(&mut out);
    assert_eq!(out["baggage"].to_str().unwrap(), value);
}

#[test]
fn baggage_over_8192_bytes_drops_whole_members_only() {
    let members: Vec<String> = (0..100)
        .map(|i| format!("key{i}={}", "v".repeat(120)))
        .collect();
    let got = PropagationContext::extract(&headers(&[("baggage", &members.join(","))]));
    let mut out = HeaderMap::new();
    got.context.inject(&mut out);
    let sent = out["baggage"].to_str().unwrap();
    assert!(sent.len() <= 8192);
    for member in sent.split(',') {
        assert!(members.contains(&member.to_owned()), "member cut: {member}");
    }
}

#[test]
fn baggage_values_are_percent_decoded_and_invalid_members_skipped() {
    let got = PropagationContext::extract(&headers(&[(
        "baggage",
        "userId=alice%20smith;ttl=60, bad key=1, serverNode = DF%2028 ,x=%zz",
    )]));
    let b = &got.context.baggage;
    assert_eq!(b.get("userId"), Some("alice smith"));
    assert_eq!(b.get("serverNode"), Some("DF 28"));
    assert_eq!(b.skipped(), 2);
    let mut out = HeaderMap::new();
    got.context.inject(&mut out);
    assert_eq!(
        out["baggage"],
        "userId=alice%20smith;ttl=60,serverNode=DF%2028"
    );
}

#[test]
fn stella_headers_round_trip_over_http_and_grpc_names() {
    let h = headers(&[
        ("x-stella-tenant", "acme-corp"),
        ("x-stella-actor", "user:alice@example"),
        ("x-stella-imposed-rule", "policy/no-critical"),
    ]);
    let got = PropagationContext::extract(&h);
    assert!(got.problems.is_empty(), "{:?}", got.problems);
    assert_eq!(got.context.require_tenant(false).unwrap(), "acme-corp");
    let mut grpc = HeaderMap::new();
    got.context.inject_into(&mut grpc, Carrier::Grpc);
    assert_eq!(grpc["stella-tenant"], "acme-corp");
    assert_eq!(grpc["stella-actor"], "user:alice@example");
    assert_eq!(grpc["stella-imposed-rule"], "policy/no-critical");
    let back = PropagationContext::extract_from(&grpc, Carrier::Grpc);
    assert_eq!(back.context, got.context);
}

#[test]
fn tenant_is_required_and_unknown_is_reserved_for_sealed_diagnostics() {
    let none = PropagationContext::extract(&HeaderMap::new());
    assert_eq!(
        none.context.require_tenant(false),
        Err(PropagationError::MissingTenant)
    );
    let unknown = PropagationContext::extract(&headers(&[("x-stella-tenant", "unknown")]));
    assert_eq!(
        unknown.context.require_tenant(false),
        Err(PropagationError::UnknownTenantNotAllowed)
    );
    assert_eq!(unknown.context.require_tenant(true), Ok("unknown"));
    let bad = PropagationContext::extract(&headers(&[("x-stella-tenant", "acme corp;drop")]));
    assert!(bad.context.tenant.is_none());
    assert!(matches!(
        bad.problems.as_slice(),
        [PropagationError::StellaHeader {
            header: "x-stella-tenant",
            ..
        }]
    ));
}

#[test]
fn child_context_keeps_the_trace_and_changes_the_parent() {
    let got = PropagationContext::extract(&headers(&[
        ("traceparent", &valid_tp()),
        ("x-stella-tenant", "t1"),
    ]));
    let child = got.context.for_child([0xab; 8]);
    let tp = child.traceparent.unwrap();
    assert_eq!(tp.trace_id, got.context.traceparent.unwrap().trace_id);
    assert_eq!(tp.parent_id, [0xab; 8]);
    assert_eq!(child.tenant.as_deref(), Some("t1"));
}

proptest! {
    #[test]
    fn traceparent_parse_never_panics(s in ".{0,80}") {
        let _ = TraceParent::parse(&s);
    }

    #[test]
    fn tracestate_and_baggage_parse_never_panic(s in ".{0,600}") {
        let _ = TraceState::parse(&s);
        let _ = stellaops_telemetry_core::propagation::Baggage::parse(&s);
    }

    #[test]
    fn valid_traceparents_round_trip(trace in any::<[u8; 16]>(), parent in any::<[u8; 8]>(), flags in any::<u8>()) {
        prop_assume!(trace != [0; 16] && parent != [0; 8]);
        let tp = TraceParent { version: 0, trace_id: trace, parent_id: parent, flags };
        prop_assert_eq!(TraceParent::parse(&tp.to_header()).unwrap(), tp);
    }

    #[test]
    fn valid_tracestates_round_trip(members in proptest::collection::btree_map("[a-z][a-z0-9_*/-]{0,10}", "[!-+\\--<>-~]{1,20}", 0..12)) {
        let header = members.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
        let ts = TraceState::parse(&header).unwrap();
        prop_assert_eq!(ts.to_header(), header);
    }

    #[test]
    fn baggage_values_round_trip_through_encoding(key in "[A-Za-z0-9_.-]{1,12}", value in "\\PC{0,40}") {
        let mut b = stellaops_telemetry_core::propagation::Baggage::default();
        prop_assert!(b.insert(&key, &value));
        let back = stellaops_telemetry_core::propagation::Baggage::parse(&b.to_header());
        prop_assert_eq!(back.get(&key), Some(value.as_str()));
    }
}
