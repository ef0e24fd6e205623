//! The collector peer works: spans exported over OTLP gRPC and log records over OTLP HTTP by
//! the plain OpenTelemetry SDK arrive, as forwarded by rotel, with their names and attributes;
//! and an outage (stop, restart on the same ports) behaves like a real one.

use opentelemetry::KeyValue;
use opentelemetry::logs::{AnyValue, LogRecord, Logger, LoggerProvider};
use opentelemetry::trace::{Span, Tracer, TracerProvider};
use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::time::Duration;
use stellaops_telemetry_testkit::Collector;

const WAIT: Duration = Duration::from_secs(30);

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn tracer_provider(endpoint: String) -> SdkTracerProvider {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .build()
        .unwrap();
    SdkTracerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name("testkit-smoke")
                .build(),
        )
        .with_simple_exporter(exporter)
        .build()
}

#[test]
fn span_over_grpc_arrives_with_name_and_attributes() {
    let collector = Collector::start().unwrap();
    let rt = runtime();
    let _entered = rt.enter();
    let provider = tracer_provider(collector.grpc_endpoint());
    let tracer = provider.tracer("smoke");
    let mut span = tracer.start("scan.image");
    span.set_attribute(KeyValue::new("image.digest", "sha256:abc"));
    span.set_attribute(KeyValue::new("tenant", "acme-corp"));
    span.end();
    provider.force_flush().unwrap();

    let got = collector.wait_for_span("scan.image", WAIT).unwrap();
    assert_eq!(got.attr("image.digest").as_deref(), Some("sha256:abc"));
    assert_eq!(got.attr("tenant").as_deref(), Some("acme-corp"));
    assert_eq!(
        got.resource_attr("service.name").as_deref(),
        Some("testkit-smoke")
    );
    assert_eq!(got.scope, "smoke");
    provider.shutdown().unwrap();
}

#[test]
fn log_record_over_http_arrives_with_body_and_attributes() {
    let collector = Collector::start().unwrap();
    let rt = runtime();
    let _entered = rt.enter();
    let exporter = opentelemetry_otlp::LogExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/logs", collector.http_endpoint()))
        .with_timeout(Duration::from_secs(10))
        .with_headers(Default::default())
        .build()
        .unwrap();
    let provider = SdkLoggerProvider::builder()
        .with_resource(
            Resource::builder()
                .with_service_name("testkit-smoke")
                .build(),
        )
        .with_simple_exporter(exporter)
        .build();
    let logger = provider.logger("smoke");
    let mut record = logger.create_log_record();
    record.set_body(AnyValue::from("Scan completed"));
    record.add_attribute("componentCount", 245_i64);
    logger.emit(record);
    provider.force_flush().unwrap();

    let got = collector.wait_for_log("Scan completed", WAIT).unwrap();
    assert_eq!(got.attr("componentCount").as_deref(), Some("245"));
    assert_eq!(
        got.resource
            .iter()
            .filter(|kv| kv.key == "service.name")
            .count(),
        1
    );
    provider.shutdown().unwrap();
}

#[test]
fn collector_outage_refuses_then_recovers_on_the_same_port() {
    let mut collector = Collector::start().unwrap();
    let endpoint = collector.grpc_endpoint();
    collector.stop();
    assert!(!collector.is_running());
    let addr = endpoint.trim_start_matches("http://").parse().unwrap();
    assert!(
        std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err(),
        "a stopped collector must refuse connections"
    );
    collector.restart().unwrap();
    assert_eq!(collector.grpc_endpoint(), endpoint);

    let rt = runtime();
    let _entered = rt.enter();
    let provider = tracer_provider(endpoint);
    provider.tracer("smoke").start("after.restart").end();
    provider.force_flush().unwrap();
    collector.wait_for_span("after.restart", WAIT).unwrap();
    provider.shutdown().unwrap();
}
