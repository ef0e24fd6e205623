//! Incoming `traceparent` becomes the parent of the server span; outgoing calls carry the
//! current span as the new parent, with tenant and baggage.

mod support;

use http::HeaderMap;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use stellaops_telemetry_core::propagation::PropagationContext;
use stellaops_telemetry_core::spans;

#[test]
fn server_span_continues_the_callers_trace_and_outgoing_calls_propagate_it() {
    let dir = support::private_tempdir();
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("policy")
        .trace_sampling_ratio(1.0)
        .profile("airgap")
        .spool_dir(dir.path())
        .stdout_logs(false)
        .build()
        .unwrap();
    let mut incoming = HeaderMap::new();
    incoming.insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap(),
    );
    incoming.insert("tracestate", "vendor=abc".parse().unwrap());
    incoming.insert("x-stella-tenant", "acme-corp".parse().unwrap());
    incoming.insert("baggage", "region=eu".parse().unwrap());
    let ctx = PropagationContext::extract(&incoming).context;

    let mut outgoing = HeaderMap::new();
    let span_id = tracing::dispatcher::with_default(&dispatch, || {
        let server = spans::http_request("GET", "/api/policy");
        ctx.attach_as_parent(&server);
        let _e = server.enter();
        let next = ctx.outgoing_from(&server);
        next.inject(&mut outgoing);
        next.traceparent.unwrap().parent_id
    });
    assert!(telemetry.flush());

    let tp = outgoing["traceparent"].to_str().unwrap();
    assert!(
        tp.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
        "{tp}"
    );
    assert!(
        !tp.contains("00f067aa0ba902b7"),
        "the parent is our span now: {tp}"
    );
    assert_eq!(outgoing["tracestate"], "vendor=abc");
    assert_eq!(outgoing["x-stella-tenant"], "acme-corp");
    assert_eq!(outgoing["baggage"], "region=eu");

    let span = support::spooled(dir.path(), "traces")
        .iter()
        .map(|b| ExportTraceServiceRequest::decode(b.as_slice()).unwrap())
        .flat_map(|r| r.resource_spans)
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .find(|s| s.name == "http.request")
        .unwrap();
    assert_eq!(hex(&span.trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(hex(&span.parent_span_id), "00f067aa0ba902b7");
    assert_eq!(span.span_id, span_id.to_vec());
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
