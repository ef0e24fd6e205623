//! The router over a real running `Telemetry`: the forensic export endpoint backed by
//! [`TelemetryExporter`] returns the caller's tenant's spans from the service's spool in a
//! signed bundle carrying the profile's collector configuration and dashboards; incident
//! toggles through [`TelemetryIncidents`] drive the service's own incident controller.
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
use stellaops_dsse::{TrustedKeys, Verifier};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_toggles_drive_the_services_controller() {
    let spool = private_tempdir();
    let (telemetry, _dispatch) = stellaops_telemetry_core::builder("scanner")
        .spool_dir(spool.path())
        .stdout_logs(false)
        .build()
        .unwrap();
    let telemetry = Arc::new(telemetry);
    let state = stellaops_telemetry_http::TelemetryState::builder(
        Arc::new(support::tokens()),
        Arc::new(stellaops_telemetry_http::TelemetryIncidents::new(
            telemetry.clone(),
        )),
        Arc::new(TelemetryExporter::new(telemetry.clone(), Arc::new(support::key())).unwrap()),
        Arc::new(support::key()),
    )
    .clock(Arc::new(stellaops_telemetry_http::SystemClock))
    .build()
    .unwrap();
    let router = stellaops_telemetry_http::TelemetryRouter::new(state).into_router();
    let send = |method, uri: &'static str, token: &'static str, body: Option<&'static str>| {
        let router = router.clone();
        async move { support::send(&router, method, uri, Some(token), body, &[]).await }
    };

    let on = send(
        Method::POST,
        "/telemetry/incidents/mode",
        "acme-admin",
        Some(r#"{"tenant":"acme","enabled":true,"reason":"CVE-2025-4242","ttl":"45m"}"#),
    )
    .await;
    assert_eq!(
        on.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&on.body)
    );
    assert!(telemetry.incidents().is_active("acme"));
    assert!(!telemetry.incidents().is_active("globex"));
    let status = telemetry.incidents().status_of("acme").unwrap();
    assert_eq!(status.reason, "CVE-2025-4242");
    assert_eq!(status.actor, "admin@acme");
    assert_eq!(
        status.expires_at - status.started_at,
        chrono::Duration::minutes(45)
    );
    // The spool holds the incident's window.
    assert!(
        telemetry
            .spool()
            .unwrap()
            .holds()
            .iter()
            .any(|h| h.tenant == "acme")
    );

    let shown = send(
        Method::GET,
        "/telemetry/incidents/status",
        "acme-read",
        None,
    )
    .await;
    assert_eq!(shown.status, StatusCode::OK);
    let json = shown.json();
    let acme = json["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["tenant"] == "acme")
        .unwrap()
        .clone();
    assert_eq!(acme["active"], true, "{json}");
    assert_eq!(acme["source"], "manual");

    let off = send(
        Method::POST,
        "/telemetry/incidents/mode",
        "acme-admin",
        Some(r#"{"tenant":"acme","enabled":false,"reason":"resolved"}"#),
    )
    .await;
    assert_eq!(
        off.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&off.body)
    );
    assert!(!telemetry.incidents().is_active("acme"));
    let shown = send(
        Method::GET,
        "/telemetry/incidents/status",
        "acme-read",
        None,
    )
    .await;
    let json = shown.json();
    assert_eq!(json["incidents"][0]["tenant"], "acme", "{json}");
    assert_eq!(json["incidents"][0]["active"], false, "{json}");
    assert_eq!(json["incidents"][0]["reason"], "CVE-2025-4242", "{json}");
    telemetry.shutdown(std::time::Duration::from_secs(5));
}
