//! The Python opentelemetry-proto peer works: records written by Rust in the collector file
//! exporter's `proto` framing decode in Python with their content; a truncated file is an error.

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use stellaops_telemetry_testkit::Python;

fn request(name: &str) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: name.to_owned(),
                    attributes: vec![KeyValue {
                        key: "tenant".into(),
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue("acme-corp".into())),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

fn framed(requests: &[ExportTraceServiceRequest]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in requests {
        let body = r.encode_to_vec();
        out.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
        out.extend_from_slice(&body);
    }
    out
}

#[test]
fn python_decodes_length_delimited_records_written_by_rust() {
    let python = Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("traces.pb");
    std::fs::write(
        &file,
        framed(&[request("http.request"), request("db.query")]),
    )
    .unwrap();

    let records = python.decode_otlp_file("traces", &file).unwrap();
    assert_eq!(records.len(), 2);
    let span = &records[1]["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(span["name"], "db.query");
    assert_eq!(span["attributes"][0]["key"], "tenant");
    assert_eq!(span["attributes"][0]["value"]["stringValue"], "acme-corp");
}

#[test]
fn python_reports_a_truncated_file() {
    let python = Python::locate().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("traces.pb");
    let mut bytes = framed(&[request("http.request")]);
    bytes.truncate(bytes.len() - 3);
    std::fs::write(&file, bytes).unwrap();
    let err = python.decode_otlp_file("traces", &file).unwrap_err();
    assert!(err.to_string().contains("runs past the end"), "{err}");
}
