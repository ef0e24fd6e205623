//! The smallest real Stella Ops service setup: one `init`, spans with the conventions, a
//! redacted log line, catalogue metrics, and `/metrics` text. Runs with no collector: without
//! `OTEL_EXPORTER_OTLP_ENDPOINT` everything goes to the spool files under
//! `./logs/telemetry-spool` (set `STELLAOPS_TELEMETRY_SPOOL_DIR` to move them).
//!
//! Run: `cargo run --example quickstart`

use stellaops_telemetry::spans;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let telemetry = stellaops_telemetry::builder("scanner")
        .trace_sampling_ratio(1.0)
        .service_version(env!("CARGO_PKG_VERSION"))
        .init()?;

    let request = spans::http_request("POST", "/api/scan");
    spans::record_tenant(&request, "acme-corp");
    {
        let _request = request.enter();
        let started = std::time::Instant::now();
        let scan = spans::scan_image("registry.local/app:1.2.3", "sha256:4f1c");
        let _scan = scan.enter();
        // The token below never reaches stdout, the spool or a collector.
        tracing::info!(
            componentCount = 245_u64,
            vulnerabilityCount = 12_u64,
            authorization = "Bearer s3cr3t",
            "Scan completed"
        );
        telemetry
            .metrics()
            .scanner_sbom_components("npm")
            .inc_by(245);
        telemetry.metrics().request_total("scanner", "ok").inc();
        telemetry
            .metrics()
            .request_duration("scanner", "/api/scan")
            .observe(started.elapsed().as_secs_f64());
    }
    spans::record_http_status(&request, 200);
    drop(request);

    telemetry.flush();
    let metrics = telemetry.render_prometheus();
    let shown: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("stellaops_request_total"))
        .collect();
    eprintln!("/metrics excerpt: {shown:?}");
    eprintln!("spool: {}", telemetry.settings().spool_dir.display());
    Ok(())
}
