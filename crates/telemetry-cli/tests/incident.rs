//! `stella-telemetry incident start | status | stop` through the real binary against the
//! telemetry router served on loopback from the test: human and `--json` output, token from
//! flag, file and environment, and every documented exit code; and `capture --url`, which
//! streams a forensic export from the same router and verifies it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::process::{Command, Output};
use std::sync::Arc;
use stellaops_dsse::HmacSha256Key;
use stellaops_telemetry_http::{
    ApiError, AuditAction, AuditOutcome, IncidentApi, IncidentView, ManualClock, MemoryAudit,
    MemoryExporter, MemoryIncidentRegistry, Principal, StaticTokens, TelemetryRouter,
    TelemetryState,
};

struct Server {
    url: String,
    audit: Arc<MemoryAudit>,
    _runtime: tokio::runtime::Runtime,
}

fn serve() -> Server {
    let clock = Arc::new(ManualClock::new("2025-03-01T12:00:00Z".parse().unwrap()));
    serve_with(Arc::new(MemoryIncidentRegistry::new(clock.clone())), clock)
}

fn serve_with(incidents: Arc<dyn IncidentApi>, clock: Arc<ManualClock>) -> Server {
    let key = Arc::new(HmacSha256Key::new("site", vec![9u8; 32]).unwrap());
    let exporter = Arc::new(MemoryExporter::new(key.clone(), clock.clone()));
    serve_full(incidents, exporter, key, clock)
}

fn serve_full(
    incidents: Arc<dyn IncidentApi>,
    exporter: Arc<dyn stellaops_telemetry_http::ForensicExporter>,
    key: Arc<dyn stellaops_dsse::EnvelopeSigner>,
    clock: Arc<ManualClock>,
) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let audit = Arc::new(MemoryAudit::new());
    let tokens = StaticTokens::new()
        .with(
            "admin-token",
            Principal::new("ops@acme", "acme", ["telemetry:read", "telemetry:admin"]),
        )
        .with(
            "read-token",
            Principal::new("viewer@acme", "acme", ["telemetry:read"]),
        )
        .with(
            "export-token",
            Principal::new("auditor@acme", "acme", ["telemetry:export"]),
        );
    let state = TelemetryState::builder(Arc::new(tokens), incidents, exporter, key)
        .clock(clock)
        .audit(audit.clone())
        .build()
        .unwrap();
    let router = TelemetryRouter::new(state).into_router();
    let addr: SocketAddr = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        addr
    });
    Server {
        url: format!("http://{addr}"),
        audit,
        _runtime: runtime,
    }
}

fn stella(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args(args)
        .env_remove("STELLA_TELEMETRY_TOKEN")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn start_status_stop_human_and_json() {
    let server = serve();
    let url = server.url.as_str();
    let out = stella(&[
        "incident",
        "start",
        "--tenant",
        "acme",
        "--reason",
        "CVE-2025-12345 investigation",
        "--ttl",
        "45m",
        "--url",
        url,
        "--token",
        "admin-token",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let human = text(&out.stdout);
    assert!(
        human.contains("tenant acme: forensic mode ON until 2025-03-01T12:45:00Z"),
        "{human}"
    );
    assert!(human.contains("CVE-2025-12345 investigation") && human.contains("by ops@acme"));

    let out = stella(&[
        "incident",
        "status",
        "--url",
        url,
        "--token",
        "read-token",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["incidents"][0]["tenant"], "acme");
    assert_eq!(json["incidents"][0]["active"], true);
    assert_eq!(json["incidents"][0]["expiresAt"], "2025-03-01T12:45:00Z");

    let out = stella(&[
        "incident",
        "stop",
        "--tenant",
        "acme",
        "--url",
        url,
        "--token",
        "admin-token",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["active"], false);

    let out = stella(&[
        "incident",
        "status",
        "--tenant",
        "acme",
        "--url",
        url,
        "--token",
        "read-token",
    ]);
    assert!(
        text(&out.stdout).contains("tenant acme: forensic mode OFF"),
        "{}",
        text(&out.stdout)
    );

    let audit = server.audit.records();
    assert_eq!(audit.len(), 2);
    assert!(
        audit
            .iter()
            .all(|r| r.actor == "ops@acme" && r.outcome == AuditOutcome::Ok)
    );
    assert!(matches!(
        &audit[0].action,
        AuditAction::IncidentToggle {
            enabled: true,
            ttl_seconds: Some(2700),
            ..
        }
    ));
}

#[test]
fn token_from_file_and_environment() {
    let server = serve();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "admin-token\n").unwrap();
    let out = stella(&[
        "incident",
        "start",
        "--tenant",
        "acme",
        "--reason",
        "r",
        "--url",
        &server.url,
        "--token-file",
        file.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // the default TTL is the router's (30 minutes)
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["expiresAt"], "2025-03-01T12:30:00Z");

    let out = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args(["incident", "status", "--url", &server.url, "--json"])
        .env("STELLA_TELEMETRY_TOKEN", "read-token")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    let missing = dir.path().join("nope");
    let out = stella(&[
        "incident",
        "status",
        "--url",
        &server.url,
        "--token-file",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cli.remote.io"));
}

#[test]
fn exit_codes() {
    let server = serve();
    let url = server.url.as_str();
    // 2: the router refuses the input, naming the field
    let out = stella(&[
        "incident",
        "start",
        "--tenant",
        "acme",
        "--reason",
        "r",
        "--ttl",
        "forever",
        "--url",
        url,
        "--token",
        "admin-token",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("telemetry.incident.invalid_ttl") && stderr.contains("(field: ttl)"),
        "{stderr}"
    );
    // 2: usage errors (clap) and a bad URL
    assert_eq!(
        stella(&["incident", "start", "--tenant", "acme"])
            .status
            .code(),
        Some(2)
    );
    let out = stella(&["incident", "status", "--url", "ftp://example.invalid"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    // 4: no token, an unknown token, a missing scope, another tenant
    for args in [
        vec!["incident", "status", "--url", url],
        vec!["incident", "status", "--url", url, "--token", "forged"],
        vec![
            "incident",
            "stop",
            "--tenant",
            "acme",
            "--url",
            url,
            "--token",
            "read-token",
        ],
        vec![
            "incident",
            "stop",
            "--tenant",
            "globex",
            "--url",
            url,
            "--token",
            "admin-token",
        ],
        vec![
            "incident",
            "status",
            "--tenant",
            "globex",
            "--url",
            url,
            "--token",
            "read-token",
        ],
    ] {
        let out = stella(&args);
        assert_eq!(
            out.status.code(),
            Some(4),
            "{args:?}: {}",
            text(&out.stderr)
        );
    }
    // the refused toggles were audited
    let denied = server
        .audit
        .records()
        .iter()
        .filter(|r| r.outcome == AuditOutcome::Denied)
        .count();
    assert_eq!(denied, 2);
    // 6: nothing listens there
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let out = stella(&[
        "incident",
        "status",
        "--url",
        &dead,
        "--token",
        "read-token",
    ]);
    assert_eq!(out.status.code(), Some(6), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("cli.remote.unreachable"));
}

/// A controller that is down.
struct Broken;

impl IncidentApi for Broken {
    fn start(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: std::time::Duration,
    ) -> Result<IncidentView, ApiError> {
        Err(ApiError::internal(
            "telemetry.incident.controller_down",
            "the incident controller is not running",
        ))
    }
    fn stop(&self, tenant: &str, _: &str) -> Result<IncidentView, ApiError> {
        Ok(IncidentView::inactive(tenant))
    }
    fn status(&self, _: Option<&str>) -> Vec<IncidentView> {
        Vec::new()
    }
}

#[test]
fn server_errors_exit_5() {
    let clock = Arc::new(ManualClock::new("2025-03-01T12:00:00Z".parse().unwrap()));
    let server = serve_with(Arc::new(Broken), clock);
    let out = stella(&[
        "incident",
        "start",
        "--tenant",
        "acme",
        "--reason",
        "r",
        "--url",
        &server.url,
        "--token",
        "admin-token",
    ]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("telemetry.incident.controller_down"));
    let audit = server.audit.records();
    assert_eq!((audit.len(), audit[0].outcome), (1, AuditOutcome::Failed));
}

/// A router whose exporter signs with a fresh Ed25519 key (from `dsse keygen`) and holds two
/// of acme's records and one of globex's; returns the server and the key pair's prefix.
fn serve_exports(dir: &std::path::Path) -> (Server, std::path::PathBuf) {
    let prefix = dir.join("site");
    let out = stella(&[
        "dsse",
        "keygen",
        "--type",
        "ed25519",
        "--out",
        prefix.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let signer = Arc::new(stellaops_dsse::PrivateKey::read(&prefix.with_extension("key")).unwrap());
    let now: chrono::DateTime<chrono::Utc> = "2025-03-01T12:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let exporter = Arc::new(MemoryExporter::new(signer.clone(), clock.clone()));
    let minutes = chrono::Duration::minutes;
    let traces = stellaops_bundle_format::Signal::Traces;
    exporter.push("acme", now - minutes(10), traces, b"acme-trace-1".to_vec());
    exporter.push("acme", now - minutes(5), traces, b"acme-trace-2".to_vec());
    exporter.push("globex", now - minutes(5), traces, b"globex-trace".to_vec());
    exporter.push("acme", now - minutes(120), traces, b"acme-old".to_vec());
    let server = serve_full(
        Arc::new(MemoryIncidentRegistry::new(clock.clone())),
        exporter,
        signer,
        clock,
    );
    (server, prefix)
}

#[test]
fn capture_url_streams_the_tenants_export_and_verifies_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, prefix) = serve_exports(dir.path());
    let out_file = dir.path().join("acme.tar.gz");
    let trusted = prefix.with_extension("pub");
    let out = stella(&[
        "capture",
        "--url",
        &server.url,
        "--token",
        "export-token",
        "--window",
        "1h",
        "--trusted",
        trusted.to_str().unwrap(),
        "--out",
        out_file.to_str().unwrap(),
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["signature"], "verified");
    assert_eq!(summary["tenant"], "acme");
    // The two acme records in the last hour; not globex's, not the two-hour-old one.
    assert_eq!(summary["records"]["traces"], 2);
    let bytes = std::fs::read(&out_file).unwrap();
    assert_eq!(summary["size"], bytes.len() as u64);
    assert!(!bytes.windows(6).any(|w| w == b"globex"));
    // The stand-alone verifier agrees.
    let verify = stella(&[
        "bundle",
        "verify",
        out_file.to_str().unwrap(),
        "--trusted",
        trusted.to_str().unwrap(),
    ]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    // The export was audited for the token's principal.
    let audited = server.audit.records();
    assert!(
        audited
            .iter()
            .any(|r| matches!(r.action, AuditAction::ForensicExport { .. })
                && r.actor == "auditor@acme"
                && r.tenant == "acme"
                && r.outcome == AuditOutcome::Ok),
        "{audited:?}"
    );
}

#[test]
fn capture_url_removes_a_bundle_that_fails_verification_and_refuses_bad_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = serve_exports(dir.path());
    // A key that did not sign the export.
    let other = dir.path().join("other");
    let out = stella(&[
        "dsse",
        "keygen",
        "--type",
        "ed25519",
        "--out",
        other.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out_file = dir.path().join("acme.tar.gz");
    let out = stella(&[
        "capture",
        "--url",
        &server.url,
        "--token",
        "export-token",
        "--window",
        "1h",
        "--trusted",
        other.with_extension("pub").to_str().unwrap(),
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("failed verification and was removed"),
        "{}",
        text(&out.stderr)
    );
    assert!(!out_file.exists());

    let out = stella(&[
        "capture",
        "--url",
        &server.url,
        "--token",
        "read-token",
        "--window",
        "1h",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    // A token without telemetry:export.
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("telemetry.auth.missing_scope"));
    assert!(!out_file.exists());
    let out = stella(&[
        "capture",
        "--url",
        &server.url,
        "--token",
        "export-token",
        "--window",
        "yesterday",
        "--out",
        out_file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("telemetry.capture.invalid_window"),
        "{}",
        text(&out.stderr)
    );
    assert!(!out_file.exists());
}
