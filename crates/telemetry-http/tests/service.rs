//! The router over a real running `Telemetry`: the forensic export endpoint backed by
//! [`TelemetryExporter`] returns the caller's tenant's spans from the service's spool in a
//! signed bundle carrying the profile's collector configuration and dashboards.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use http::{Method, StatusCode};
use std::io::Cursor;
use std::sync::Arc;
use stellaops_bundle_format::{BundleReader, Signal};
use stellaops_federation_dsse::{TrustedKeys, Verifier};
use stellaops_telemetry_http::TelemetryExporter;
use support::Fixture;

fn private_tempdir() -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    dir
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_export_endpoint_serves_the_tenants_spans_from_the_services_spool() {
    let spool = private_tempdir();
    let (telemetry, dispatch) = stellaops_telemetry_core::builder("scanner")
        .trace_sampling_ratio(1.0)
        .spool_dir(spool.path())
        .stdout_logs(false)
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        for tenant in ["acme", "globex"] {
            let span = tracing::info_span!("scan", tenant, otel.name = format!("scan-{tenant}"));
            let _entered = span.enter();
            tracing::info!(tenant, "scanned an image for {tenant}");
        }
    });
    let telemetry = Arc::new(telemetry);
    let exporter = TelemetryExporter::new(telemetry.clone(), Arc::new(support::key())).unwrap();
    // The spans carry the real time: the router's window ends at the real now.
    let f = Fixture::build(Some(Arc::new(exporter)), |b| {
        b.clock(Arc::new(stellaops_telemetry_http::SystemClock))
    });

    let reply = f
        .send(
            Method::GET,
            "/telemetry/exports/forensic/1h",
            Some("acme-export"),
            None,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let verifier = Verifier::new(TrustedKeys::new().with(support::key()).unwrap());
    let (verified, records) = BundleReader::new(verifier)
        .read_records(Cursor::new(&reply.body))
        .unwrap();
    let manifest = verified.manifest();
    assert_eq!(manifest.tenant, "acme");
    assert_eq!(manifest.profile, "default");
    let paths: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    assert!(paths.contains(&"config/collector.yaml"), "{paths:?}");
    assert!(
        paths.iter().any(|p| p.starts_with("config/dashboards/")),
        "{paths:?}"
    );
    assert!(manifest.redaction_policy_sha256.is_some());
    let spans: Vec<&Vec<u8>> = records
        .iter()
        .filter(|(s, _)| *s == Signal::Traces)
        .map(|(_, r)| r)
        .collect();
    assert!(
        spans.iter().any(|r| contains(r, b"scan-acme")),
        "no acme span"
    );
    assert!(
        !records.iter().any(|(_, r)| contains(r, b"globex")),
        "another tenant's data in acme's export"
    );
    // The export was audited.
    assert_eq!(f.audit.records().len(), 1);
    telemetry.shutdown(std::time::Duration::from_secs(5));
}
