//! Many concurrent clients toggling incidents and exporting bundles over a real loopback
//! listener (tokio multi-thread): every request is answered, no audit record is lost, and
//! nothing deadlocks (the whole run is bounded by a timeout that fails the test).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use axum::body::Body;
use chrono::{DateTime, Utc};
use http::{Request, StatusCode};
use http_body_util::BodyExt as _;
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use stellaops_bundle_format::{BundleReader, Signal};
use stellaops_dsse::{HmacSha256Key, TrustedKeys, Verifier};
use stellaops_telemetry_http::{
    AuditAction, AuditOutcome, FanOut, IncidentApi as _, ManualClock, MemoryAudit, MemoryExporter,
    MemoryIncidentRegistry, Principal, StaticTokens, TelemetryRouter, TelemetryState, TracingAudit,
};

const TENANTS: usize = 8;
const CLIENTS_PER_TENANT: usize = 4;
const ROUNDS: usize = 6;

fn key() -> HmacSha256Key {
    HmacSha256Key::new("site-key", vec![3u8; 32]).unwrap()
}

async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Option<String>,
) -> (StatusCode, Vec<u8>) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("authorization", format!("Bearer {token}"))
        .body(body.map_or_else(Body::empty, Body::from))
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, bytes)
}

#[test]
fn concurrent_toggles_and_exports_lose_no_audit_record() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(120), run())
            .await
            .expect("the load run did not finish within 120 s: a deadlock or a lost response");
    });
}

async fn run() {
    let now: DateTime<Utc> = "2025-03-01T12:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let audit = Arc::new(MemoryAudit::new());
    let exporter = Arc::new(MemoryExporter::new(Arc::new(key()), clock.clone()));
    let incidents = Arc::new(MemoryIncidentRegistry::new(clock.clone()));
    let mut tokens = StaticTokens::new();
    for t in 0..TENANTS {
        let tenant = format!("tenant-{t}");
        tokens.insert(
            &format!("token-{t}"),
            Principal::new(
                format!("ops@{tenant}"),
                &tenant,
                ["telemetry:read", "telemetry:admin", "telemetry:export"],
            ),
        );
        for i in 0..20 {
            exporter.push(
                &tenant,
                now - chrono::Duration::minutes(i + 1),
                Signal::Traces,
                format!("{tenant}-record-{i}").into_bytes(),
            );
        }
    }
    let state = TelemetryState::builder(
        Arc::new(tokens),
        incidents.clone(),
        exporter,
        Arc::new(key()),
    )
    .clock(clock)
    .audit(Arc::new(
        FanOut::new()
            .with(audit.clone())
            .with(Arc::new(TracingAudit)),
    ))
    .build()
    .unwrap();
    let router = TelemetryRouter::new(state).into_router();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let mut clients = Vec::new();
    for t in 0..TENANTS {
        for c in 0..CLIENTS_PER_TENANT {
            clients.push(tokio::spawn(async move {
                let tenant = format!("tenant-{t}");
                let token = format!("token-{t}");
                let mut done = BTreeMap::<&str, usize>::new();
                for round in 0..ROUNDS {
                    let enabled = (round + c) % 2 == 0;
                    let body = serde_json::json!({
                        "tenant": tenant, "enabled": enabled, "reason": format!("load {c}/{round}"), "ttl": "10m"
                    });
                    let (status, reply) =
                        call(addr, "POST", "/telemetry/incidents/mode", &token, Some(body.to_string())).await;
                    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&reply));
                    *done.entry("toggle").or_default() += 1;

                    let (status, bundle) =
                        call(addr, "GET", "/telemetry/exports/forensic/1h", &token, None).await;
                    assert_eq!(status, StatusCode::OK);
                    let verifier = Verifier::new(TrustedKeys::new().with(key()).unwrap());
                    let (verified, records) = BundleReader::new(verifier)
                        .read_records(std::io::Cursor::new(&bundle))
                        .unwrap();
                    assert_eq!(verified.manifest().tenant, tenant);
                    assert_eq!(records.len(), 20);
                    assert!(records.iter().all(|(_, r)| r.starts_with(tenant.as_bytes())));
                    *done.entry("export").or_default() += 1;

                    // a cross-tenant attempt in the middle of the load is refused and audited
                    let other = format!("tenant-{}", (t + 1) % TENANTS);
                    let (status, _) = call(
                        addr,
                        "GET",
                        &format!("/telemetry/exports/forensic/1h?tenant={other}"),
                        &token,
                        None,
                    )
                    .await;
                    assert_eq!(status, StatusCode::FORBIDDEN);
                    *done.entry("denied").or_default() += 1;
                }
                done
            }));
        }
    }
    let mut expected = BTreeMap::<&str, usize>::new();
    for client in clients {
        for (kind, n) in client.await.unwrap() {
            *expected.entry(kind).or_default() += n;
        }
    }
    server.abort();

    let records = audit.records();
    let mut seen = BTreeMap::<&str, usize>::new();
    for r in &records {
        let kind = match (&r.action, r.outcome) {
            (AuditAction::IncidentToggle { .. }, AuditOutcome::Ok) => "toggle",
            (
                AuditAction::ForensicExport {
                    bytes,
                    digest: Some(_),
                    ..
                },
                AuditOutcome::Ok,
            ) if *bytes > 0 => "export",
            (AuditAction::ForensicExport { .. }, AuditOutcome::Denied) => "denied",
            other => panic!("unexpected audit record {other:?}"),
        };
        assert_eq!(r.actor, format!("ops@{}", r.actor_tenant));
        *seen.entry(kind).or_default() += 1;
    }
    let total = TENANTS * CLIENTS_PER_TENANT * ROUNDS;
    assert_eq!(
        expected,
        BTreeMap::from([("denied", total), ("export", total), ("toggle", total)])
    );
    assert_eq!(seen, expected);
    assert_eq!(records.len(), 3 * total);
    // every tenant's state is one of the states its clients set; none leaked to another
    assert_eq!(incidents.status(None).len(), TENANTS);
}
