//! The whole product on one machine, with no collector: a simulated scanner + policy service
//! calls `init`, mounts the telemetry router on loopback and serves traffic for three tenants
//! (some scans fail, some are slow). An operator then turns on forensic mode for one tenant over
//! HTTP, more traffic arrives, and the operator downloads a signed forensic bundle of the last
//! minutes for that tenant and verifies it. The summary shows what the tail sampler kept and
//! why, the bundle's path and digest, and where `/metrics` is.
//!
//! Without `OTEL_EXPORTER_OTLP_ENDPOINT` everything goes to the spool under
//! `target/demo/spool`; with it, spans, metrics and logs go to that collector (and the spool
//! keeps a copy only if the profile says so).
//!
//! The router also answers `POST /test` as a W3C trace-context test endpoint: the body is a
//! JSON array of `{"url": ..., "arguments": [...]}`; each url is called (POST, JSON body
//! `arguments`) with the trace context propagated from the incoming request.
//!
//! Run: `cargo run --example demo` (add `-- --serve` to keep the router up afterwards).

use axum::routing::post;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use std::error::Error;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use stellaops_telemetry::bundle::{BundleReader, SignalRecords};
use stellaops_telemetry::dsse::{KeyType, PrivateKey, TrustedKey, TrustedKeys, Verifier};
use stellaops_telemetry::http::{
    Principal, StaticTokens, TelemetryExporter, TelemetryIncidents, TelemetryRouter, TelemetryState,
};
use stellaops_telemetry::propagation::PropagationContext;
use stellaops_telemetry::sampling::{Decision, KeepReason, SamplingConfig};
use stellaops_telemetry::spans;

type BoxError = Box<dyn Error + Send + Sync>;

const TENANTS: [&str; 3] = ["acme", "globex", "initech"];
/// The tenant the operator investigates.
const SUSPECT: &str = "globex";
/// Requests before and after forensic mode is turned on.
const REQUESTS_PER_PHASE: usize = 300;
/// A trace this slow is kept whatever its ratio decision (the demo lowers the 2 s default so
/// a few slow scans do not make the demo slow).
const SLOW: Duration = Duration::from_millis(200);

fn main() -> Result<(), BoxError> {
    let serve = std::env::args().any(|a| a == "--serve");
    let out = PathBuf::from("target/demo");
    fresh_private_dir(&out)?;

    // The site's signing key; its public half is what an auditor trusts.
    let site_key = PrivateKey::generate(KeyType::Ed25519)?;
    let public_pem = site_key
        .public_key()
        .ok_or("an Ed25519 key has a public half")?
        .to_spki_pem()?;
    let public_path = out.join("site.pub");
    std::fs::write(&public_path, public_pem)?;
    let signer = Arc::new(site_key);

    let telemetry = stellaops_telemetry::builder("scanner")
        .service_version(env!("CARGO_PKG_VERSION"))
        .environment("demo")
        .spool_dir(out.join("spool"))
        .stdout_logs(false)
        .sampling(SamplingConfig {
            slow_threshold: SLOW,
            ..SamplingConfig::default()
        })
        .init()?;
    let telemetry = Arc::new(telemetry);

    let tokens = StaticTokens::new()
        .with(
            "globex-admin",
            Principal::new(
                "oncall@globex",
                SUSPECT,
                ["telemetry:admin", "telemetry:read"],
            ),
        )
        .with(
            "globex-export",
            Principal::new("auditor@globex", SUSPECT, ["telemetry:export"]),
        );
    let metrics_source = telemetry.clone();
    let state = TelemetryState::builder(
        Arc::new(tokens),
        Arc::new(TelemetryIncidents::new(telemetry.clone())),
        Arc::new(TelemetryExporter::new(telemetry.clone(), signer.clone())?),
        signer,
    )
    .metrics(Arc::new(move || metrics_source.render_openmetrics()))
    .build()?;
    let router = TelemetryRouter::new(state)
        .into_router()
        .route("/test", post(trace_context_test));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let addr: SocketAddr = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, router).await });
        Ok::<_, BoxError>(addr)
    })?;
    let base = format!("http://{addr}");

    // Phase 1: ordinary traffic.
    let mut traffic = Traffic::default();
    for i in 0..REQUESTS_PER_PHASE {
        traffic.request(&telemetry, i);
    }

    // Phase 2: the operator turns on forensic mode for the suspect tenant.
    let enable = format!(
        r#"{{"tenant":"{SUSPECT}","enabled":true,"reason":"demo: CVE-2026-0001 investigation","ttl":"30m"}}"#
    );
    let (status, body) = runtime.block_on(call(
        addr,
        Method::POST,
        "/telemetry/incidents/mode",
        Some("globex-admin"),
        HeaderMap::new(),
        Some(enable),
    ))?;
    expect_ok("enable forensic mode", status, &body)?;

    // Phase 3: traffic while the incident is active.
    for i in REQUESTS_PER_PHASE..2 * REQUESTS_PER_PHASE {
        traffic.request(&telemetry, i);
    }
    let (status, incident) = runtime.block_on(call(
        addr,
        Method::GET,
        "/telemetry/incidents/status",
        Some("globex-admin"),
        HeaderMap::new(),
        None,
    ))?;
    expect_ok("incident status", status, &incident)?;

    // Phase 4: the auditor downloads the last 15 minutes of the suspect tenant and verifies
    // the bundle against the site's public key, as they would on an analysis workstation.
    telemetry.flush();
    let (status, bundle) = runtime.block_on(call(
        addr,
        Method::GET,
        "/telemetry/exports/forensic/15m",
        Some("globex-export"),
        HeaderMap::new(),
        None,
    ))?;
    expect_ok("forensic export", status, &bundle)?;
    let bundle_path = out.join(format!("{SUSPECT}-forensic.tar.gz"));
    std::fs::write(&bundle_path, &bundle)?;
    let verified = BundleReader::new(Verifier::new(
        TrustedKeys::new().with(TrustedKey::read(&public_path)?)?,
    ))
    .verify_file(&bundle_path)?;
    let (_, records): (_, SignalRecords) = BundleReader::new(Verifier::new(
        TrustedKeys::new().with(TrustedKey::read(&public_path)?)?,
    ))
    .read_records(std::fs::File::open(&bundle_path)?)?;
    let other_tenants = records
        .iter()
        .filter(|(_, r)| {
            TENANTS
                .iter()
                .filter(|t| **t != SUSPECT)
                .any(|t| contains(r, t.as_bytes()))
        })
        .count();

    // Phase 5: the incident is over.
    let (status, body) = runtime.block_on(call(
        addr,
        Method::POST,
        "/telemetry/incidents/mode",
        Some("globex-admin"),
        HeaderMap::new(),
        Some(format!(
            r#"{{"tenant":"{SUSPECT}","enabled":false,"reason":"demo: resolved"}}"#
        )),
    ))?;
    expect_ok("disable forensic mode", status, &body)?;
    let (_, metrics) = runtime.block_on(call(
        addr,
        Method::GET,
        "/metrics",
        None,
        HeaderMap::new(),
        None,
    ))?;

    let stats = telemetry.sampler_stats();
    let kept = |reason| stats.traces_with(Decision::Keep(reason));
    let counts: Vec<String> = verified
        .manifest()
        .record_counts()
        .into_iter()
        .map(|(signal, n)| format!("{} {n}", signal.as_str()))
        .collect();
    let incident: serde_json::Value = serde_json::from_slice(&incident)?;
    println!("Stella Ops telemetry demo");
    println!(
        "  requests        {} over tenants {} ({} failed, {} slow)",
        traffic.requests,
        TENANTS.join(", "),
        traffic.errors,
        traffic.slow
    );
    println!(
        "  traces kept     {} of {}: error {}, slow {}, forensic {}, ratio {} (dropped {})",
        stats.traces.iter().take(6).sum::<u64>(),
        stats.traces.iter().sum::<u64>(),
        kept(KeepReason::Error),
        kept(KeepReason::Slow),
        kept(KeepReason::Forensic),
        kept(KeepReason::Ratio),
        stats.traces.iter().skip(6).sum::<u64>(),
    );
    println!(
        "  forensic mode   {SUSPECT} from {} (reason: {}), now off",
        incident["incidents"][0]["startedAt"]
            .as_str()
            .unwrap_or("?"),
        incident["incidents"][0]["reason"].as_str().unwrap_or("?"),
    );
    println!(
        "  bundle          {} ({} bytes)",
        bundle_path.display(),
        bundle.len()
    );
    println!("  bundle sha256   {}", verified.sha256());
    println!(
        "  bundle content  {} for tenant {}; records of other tenants: {other_tenants}",
        counts.join(", "),
        verified.manifest().tenant
    );
    println!(
        "  verify offline  cargo run -p stellaops-telemetry-cli -- bundle verify {} --trusted {}",
        bundle_path.display(),
        public_path.display()
    );
    println!(
        "  /metrics        {base}/metrics ({} lines), also /healthz, /readyz, /telemetry/...",
        metrics.split(|b| *b == b'\n').count()
    );
    println!(
        "  spool           {}",
        telemetry.settings().spool_dir.display()
    );

    if serve {
        println!(
            "serving {base} until interrupted (Ctrl-C); POST {base}/test for trace-context tests"
        );
        loop {
            std::thread::park();
        }
    }
    telemetry.shutdown(Duration::from_secs(5));
    Ok(())
}

/// The simulated service: per request a root `http.request` span, a `scan.image` child with a
/// `db.query` and a `policy.evaluate`, a log line, and catalogue metrics.
#[derive(Default)]
struct Traffic {
    requests: usize,
    errors: usize,
    slow: usize,
}

impl Traffic {
    fn request(&mut self, telemetry: &stellaops_telemetry::Telemetry, i: usize) {
        let tenant = TENANTS[i % TENANTS.len()];
        let failing = i % 37 == 5;
        let slow = i % 97 == 11;
        let started = std::time::Instant::now();
        let request = spans::http_request("POST", "/api/scan");
        spans::record_tenant(&request, tenant);
        {
            let _request = request.enter();
            let scan =
                spans::scan_image(&format!("registry.local/{tenant}/app:{i}"), "sha256:4f1c");
            spans::record_tenant(&scan, tenant);
            let _scan = scan.enter();
            {
                let db = spans::db_query("scans", "insert");
                let _db = db.enter();
                if slow {
                    std::thread::sleep(SLOW + Duration::from_millis(20));
                }
            }
            let policy = spans::policy_evaluate("baseline", "7");
            spans::record_tenant(&policy, tenant);
            {
                let _policy = policy.enter();
                if failing {
                    spans::record_error(
                        &policy,
                        &std::io::Error::other("policy bundle signature expired"),
                    );
                }
            }
            // The token never reaches the spool, the bundle or a collector.
            tracing::info!(
                tenant,
                componentCount = 120 + i as u64 % 200,
                authorization = "Bearer s3cr3t",
                "scan completed"
            );
            telemetry
                .metrics()
                .request_total("scanner", if failing { "error" } else { "ok" })
                .inc();
            telemetry
                .metrics()
                .request_duration("scanner", "/api/scan")
                .observe(started.elapsed().as_secs_f64());
        }
        spans::record_http_status(&request, if failing { 500 } else { 200 });
        self.requests += 1;
        self.errors += usize::from(failing);
        self.slow += usize::from(slow);
    }
}

/// `POST /test` of the W3C trace-context test suite: continue the caller's trace and call
/// each url with the context of this request's span.
async fn trace_context_test(headers: HeaderMap, body: Bytes) -> StatusCode {
    let Ok(calls) = serde_json::from_slice::<Vec<serde_json::Value>>(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let incoming = PropagationContext::extract(&headers).context;
    let span = tracing::info_span!("trace_context.test", otel.kind = "server");
    incoming.attach_as_parent(&span);
    let outgoing = incoming.outgoing_from(&span);
    for call_spec in calls {
        let Some(url) = call_spec["url"].as_str() else {
            return StatusCode::BAD_REQUEST;
        };
        let Some((addr, path)) = split_url(url) else {
            return StatusCode::BAD_REQUEST;
        };
        let mut headers = HeaderMap::new();
        outgoing.inject(&mut headers);
        let arguments = call_spec["arguments"].to_string();
        // The harness's own endpoints may answer anything; only transport errors matter.
        let _ = call(addr, Method::POST, &path, None, headers, Some(arguments)).await;
    }
    StatusCode::OK
}

/// `http://host:port/path` -> (address, path); IP literals only (no DNS in a sealed site).
fn split_url(url: &str) -> Option<(SocketAddr, String)> {
    let rest = url.strip_prefix("http://")?;
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    let addr = authority.replace("localhost", "127.0.0.1").parse().ok()?;
    Some((addr, format!("/{path}")))
}

/// One HTTP/1.1 request over a fresh connection.
async fn call(
    addr: SocketAddr,
    method: Method,
    path: &str,
    token: Option<&str>,
    headers: HeaderMap,
    body: Option<String>,
) -> Result<(StatusCode, Vec<u8>), BoxError> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string());
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    for (name, value) in &headers {
        request = request.header(name, value);
    }
    let request = request.body(Full::new(Bytes::from(body.unwrap_or_default())))?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes().to_vec();
    Ok((status, bytes))
}

fn expect_ok(what: &str, status: StatusCode, body: &[u8]) -> Result<(), BoxError> {
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("{what}: HTTP {status}: {}", String::from_utf8_lossy(body)).into())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The demo's output directory, emptied and private (the spool refuses a world-readable one).
fn fresh_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}
