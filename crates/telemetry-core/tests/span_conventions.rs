//! The span conventions produce the advisory's span names and attributes, with semantic
//! convention names where they exist, and errors set the span status.

mod support;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::{Span, status::StatusCode};
use prost::Message;
use stellaops_telemetry_core::spans;

fn attr(span: &Span, key: &str) -> Option<String> {
    stellaops_telemetry_testkit::attr_string(&span.attributes, key)
}

#[test]
fn conventions_name_spans_and_attributes_and_set_error_status() {
    let dir = support::private_tempdir();
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("policy-engine")
        .trace_sampling_ratio(1.0)
        .profile("airgap")
        .spool_dir(dir.path())
        .stdout_logs(false)
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        let http = spans::http_request("POST", "/api/policy/run");
        spans::record_tenant(&http, "acme-corp");
        let _h = http.enter();
        {
            let db = spans::db_query("findings", "find");
            let _d = db.enter();
        }
        {
            let policy = spans::policy_evaluate("baseline", "7");
            let _p = policy.enter();
            spans::record_error(&policy, &std::io::Error::other("rule crashed"));
        }
        {
            let _s = spans::scan_image("registry.local/app:1.2.3", "sha256:abc").entered();
            let _g = spans::sign_dsse("https://slsa.dev/provenance/v1").entered();
        }
        spans::record_http_status(&http, 503);
    });
    assert!(telemetry.flush());
    let all: Vec<Span> = support::spooled(dir.path(), "traces")
        .iter()
        .map(|b| ExportTraceServiceRequest::decode(b.as_slice()).unwrap())
        .flat_map(|r| r.resource_spans)
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .collect();
    let find = |name: &str| {
        all.iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };

    let http = find("http.request");
    assert_eq!(attr(http, "http.request.method").as_deref(), Some("POST"));
    assert_eq!(attr(http, "url.path").as_deref(), Some("/api/policy/run"));
    assert_eq!(
        attr(http, "http.response.status_code").as_deref(),
        Some("503")
    );
    assert_eq!(attr(http, "tenant").as_deref(), Some("acme-corp"));
    assert_eq!(
        http.status.as_ref().map(|s| s.code),
        Some(StatusCode::Error as i32)
    );

    let db = find("db.query");
    assert_eq!(attr(db, "db.system.name").as_deref(), Some("mongodb"));
    assert_eq!(attr(db, "db.collection.name").as_deref(), Some("findings"));
    assert_eq!(attr(db, "db.operation.name").as_deref(), Some("find"));
    assert_eq!(db.parent_span_id, http.span_id);

    let policy = find("policy.evaluate");
    assert_eq!(attr(policy, "policyId").as_deref(), Some("baseline"));
    assert_eq!(attr(policy, "version").as_deref(), Some("7"));
    let status = policy.status.as_ref().unwrap();
    assert_eq!(status.code, StatusCode::Error as i32);
    assert_eq!(status.message, "rule crashed");

    assert_eq!(
        attr(find("scan.image"), "imageRef").as_deref(),
        Some("registry.local/app:1.2.3")
    );
    assert_eq!(
        attr(find("scan.image"), "digest").as_deref(),
        Some("sha256:abc")
    );
    assert_eq!(
        attr(find("sign.dsse"), "predicateType").as_deref(),
        Some("https://slsa.dev/provenance/v1")
    );
    assert_eq!(
        find("db.query").status.as_ref().map_or(0, |s| s.code),
        StatusCode::Unset as i32
    );
}
