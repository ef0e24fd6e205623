//! A tour of the real peers the tests use: starts the rotel collector on loopback, exports one
//! span to it with the plain OpenTelemetry SDK, and prints what the collector forwarded; then
//! lints a metric exposition with promtool.
//!
//! Run: `bash scripts/install-peers.sh && cargo run --example peer_tour`
//! (the README's demo command until the product demo lands).

use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, Tracer, TracerProvider};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use std::time::Duration;
use stellaops_telemetry_testkit::{Collector, Promtool};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let collector = Collector::start()?;
    println!(
        "rotel collector: OTLP gRPC {}  OTLP HTTP {}",
        collector.grpc_endpoint(),
        collector.http_endpoint()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let _entered = runtime.enter();
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(collector.grpc_endpoint())
        .build()?;
    let provider = SdkTracerProvider::builder()
        .with_resource(Resource::builder().with_service_name("scanner").build())
        .with_simple_exporter(exporter)
        .build();
    let mut span = provider.tracer("peer-tour").start("scan.image");
    span.set_attribute(KeyValue::new("image.ref", "registry.local/app:1.2.3"));
    span.end();
    provider.force_flush()?;

    let got = collector.wait_for_span("scan.image", Duration::from_secs(20))?;
    println!(
        "collector forwarded span {:?} from service {:?} with image.ref = {:?}",
        got.span.name,
        got.resource_attr("service.name").unwrap_or_default(),
        got.attr("image.ref").unwrap_or_default()
    );
    provider.shutdown()?;

    let promtool = Promtool::locate()?;
    let lint = promtool.check_metrics(
        "# HELP stellaops_request_total Request count.\n# TYPE stellaops_request_total counter\nstellaops_request_total{service=\"scanner\",status=\"ok\"} 1\n",
    )?;
    println!(
        "promtool check metrics: {}",
        if lint.success {
            "clean"
        } else {
            "problems found"
        }
    );
    Ok(())
}
