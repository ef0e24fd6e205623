//! `stella-telemetry incident ...` and `capture --url` against the telemetry router served over
//! TLS (`stellaops_telemetry_http::TlsServer`) with a test PKI made at run time: `--ca` (and
//! `$STELLA_TELEMETRY_CA`) verify the router; without them the Mozilla roots do not know the
//! test CA and the command exits 7 with a TLS message; mTLS with `--client-cert/--client-key`;
//! unusable TLS files are bad input (2); plain `http://` to a host that is not loopback warns.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use stellaops_dsse::{EnvelopeSigner, PrivateKey};
use stellaops_telemetry_core::tls::ServerTlsConfig;
use stellaops_telemetry_http::{
    ManualClock, MemoryExporter, MemoryIncidentRegistry, Principal, StaticTokens, TelemetryRouter,
    TelemetryState, TlsServer,
};
use stellaops_telemetry_testkit::TestPki;

struct Server {
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

impl Server {
    fn https(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }
}

fn stella(args: &[&str]) -> Output {
    stella_env(args, None)
}

fn stella_env(args: &[&str], ca_env: Option<&Path>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"));
    command
        .args(args)
        .env_remove("STELLA_TELEMETRY_TOKEN")
        .env_remove("STELLA_TELEMETRY_CA");
    if let Some(ca) = ca_env {
        command.env("STELLA_TELEMETRY_CA", ca);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The router with an ed25519 site key (`<dir>/site.key`, `.pub`) and two acme traces in the
/// last hour, served over TLS with `tls` (or plain HTTP when `None`).
fn serve(dir: &Path, tls: Option<&ServerTlsConfig>) -> Server {
    let prefix = dir.join("site");
    if !prefix.with_extension("key").exists() {
        let out = stella(&["dsse", "keygen", "--type", "ed25519", "--out", p(&prefix)]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let signer: Arc<dyn EnvelopeSigner> =
        Arc::new(PrivateKey::read(&prefix.with_extension("key")).unwrap());
    let now: chrono::DateTime<chrono::Utc> = "2025-03-01T12:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let exporter = MemoryExporter::new(signer.clone(), clock.clone());
    let traces = stellaops_bundle_format::Signal::Traces;
    exporter.push(
        "acme",
        now - chrono::Duration::minutes(10),
        traces,
        b"acme-1".to_vec(),
    );
    exporter.push(
        "acme",
        now - chrono::Duration::minutes(5),
        traces,
        b"acme-2".to_vec(),
    );
    let tokens = StaticTokens::new()
        .with(
            "admin-token",
            Principal::new("ops@acme", "acme", ["telemetry:read", "telemetry:admin"]),
        )
        .with(
            "export-token",
            Principal::new("auditor@acme", "acme", ["telemetry:export"]),
        );
    let state = TelemetryState::builder(
        Arc::new(tokens),
        Arc::new(MemoryIncidentRegistry::new(clock.clone())),
        Arc::new(exporter),
        signer,
    )
    .clock(clock)
    .build()
    .unwrap();
    let router = TelemetryRouter::new(state).into_router();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = tls.map(|tls| TlsServer::new(tls).unwrap());
    let addr = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        match server {
            Some(server) => drop(tokio::spawn(server.serve(listener, router))),
            None => drop(tokio::spawn(
                async move { axum::serve(listener, router).await },
            )),
        }
        addr
    });
    Server {
        addr,
        _runtime: runtime,
    }
}

fn start(url: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "incident",
        "start",
        "--tenant",
        "acme",
        "--reason",
        "CVE-2025-12345 investigation",
        "--url",
        url,
        "--token",
        "admin-token",
    ];
    args.extend_from_slice(extra);
    stella(&args)
}

#[test]
fn incident_over_https_with_ca_succeeds_and_without_it_fails_with_a_tls_error() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(dir.path(), "router").unwrap();
    let tls = ServerTlsConfig::from_files(&pki.server.cert_path, &pki.server.key_path);
    let server = serve(dir.path(), Some(&tls));
    let url = server.https();

    let out = start(&url, &["--ca", p(&pki.ca_path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("tenant acme: forensic mode ON until"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );

    // the CA from the environment, `localhost` as the verified name
    let localhost = format!("https://localhost:{}", server.addr.port());
    let out = stella_env(
        &[
            "incident",
            "status",
            "--url",
            &localhost,
            "--token",
            "admin-token",
            "--json",
        ],
        Some(&pki.ca_path),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["incidents"][0]["active"], true, "{json}");

    // no --ca: the Mozilla roots do not know the test CA
    let out = start(&url, &[]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.starts_with("error[cli.remote.tls]: TLS with "), "{err}");
    assert!(
        err.contains("UnknownIssuer") && err.contains("--ca FILE"),
        "{err}"
    );

    // a CA that did not sign the router's certificate
    let other = TestPki::generate(dir.path(), "other").unwrap();
    let out = start(&url, &["--ca", p(&other.ca_path)]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not signed by a CA in the --ca bundle"));

    // an unusable --ca is bad input, reported before connecting
    let missing = dir.path().join("missing-ca.pem");
    let out = start(&url, &["--ca", p(&missing)]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("telemetry.tls.pem_unreadable") && err.contains("--ca"),
        "{err}"
    );
}

#[test]
fn mtls_needs_the_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(dir.path(), "router").unwrap();
    let tls = ServerTlsConfig::from_files(&pki.server.cert_path, &pki.server.key_path)
        .client_ca_file(&pki.ca_path);
    let server = serve(dir.path(), Some(&tls));
    let url = server.https();

    let out = start(&url, &["--ca", p(&pki.ca_path)]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("requires a client certificate"), "{err}");
    assert!(
        err.contains("--client-cert FILE --client-key FILE"),
        "{err}"
    );

    let out = start(
        &url,
        &[
            "--ca",
            p(&pki.ca_path),
            "--client-cert",
            p(&pki.client.cert_path),
            "--client-key",
            p(&pki.client.key_path),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    // a certificate alone is a usage error (clap: --client-key is required with it)
    let out = start(
        &url,
        &[
            "--ca",
            p(&pki.ca_path),
            "--client-cert",
            p(&pki.client.cert_path),
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn capture_url_over_https_downloads_and_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(dir.path(), "router").unwrap();
    let tls = ServerTlsConfig::from_files(&pki.server.cert_path, &pki.server.key_path);
    let server = serve(dir.path(), Some(&tls));
    let out_file = dir.path().join("acme.tar.gz");
    let trusted = dir.path().join("site.pub");
    let capture = |extra: &[&str]| {
        let mut args = vec!["capture", "--url"];
        let url = server.https();
        args.push(&url);
        args.extend_from_slice(&[
            "--token",
            "export-token",
            "--window",
            "1h",
            "--trusted",
            p(&trusted),
            "--out",
            p(&out_file),
            "--json",
        ]);
        args.extend_from_slice(extra);
        stella(&args)
    };
    let out = capture(&["--ca", p(&pki.ca_path)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["signature"], "verified");
    assert_eq!(summary["records"]["traces"], 2);
    assert_eq!(
        summary["size"],
        std::fs::read(&out_file).unwrap().len() as u64
    );

    std::fs::remove_file(&out_file).unwrap();
    let out = capture(&[]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("cli.remote.tls"),
        "{}",
        text(&out.stderr)
    );
    assert!(!out_file.exists());
}

#[test]
fn plain_http_warns_only_for_hosts_that_are_not_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(dir.path(), None);
    let loopback = format!("http://127.0.0.1:{}", server.addr.port());
    let out = start(&loopback, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );

    // TLS flags with a plain URL: a mistake, refused before anything is sent
    let out = start(&loopback, &["--ca", "/etc/ssl/ca.pem"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("apply to https:// URLs only"));

    // 0.0.0.0 is not a loopback name (Linux delivers it to this host: no traffic leaves)
    let unspecified = format!("http://0.0.0.0:{}", server.addr.port());
    let out = start(&unspecified, &[]);
    let err = text(&out.stderr);
    assert!(
        err.starts_with("warning [cli.remote.plaintext]: ") && err.contains("unencrypted"),
        "{err}"
    );
}

/// An OTLP/HTTP traces receiver served over TLS: counts the requests it accepted.
fn otlp_https_receiver(
    tls: &ServerTlsConfig,
) -> (
    SocketAddr,
    Arc<std::sync::atomic::AtomicUsize>,
    tokio::runtime::Runtime,
) {
    use axum::routing::post;
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    let router = axum::Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| {
            let counter = counter.clone();
            async move {
                use prost::Message as _;
                // Only a well-formed OTLP request counts.
                if opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest::decode(body)
                    .is_ok()
                {
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                ([("content-type", "application/x-protobuf")], Vec::<u8>::new())
            }
        }),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = TlsServer::new(tls).unwrap();
    let addr = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(tokio::spawn(server.serve(listener, router)));
        addr
    });
    (addr, accepted, runtime)
}

#[test]
fn bundle_replay_sends_to_an_https_collector_verified_with_ca() {
    use prost::Message as _;
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(dir.path(), "collector").unwrap();
    let tls = ServerTlsConfig::from_files(&pki.server.cert_path, &pki.server.key_path);
    let (addr, accepted, _runtime) = otlp_https_receiver(&tls);

    // A signed bundle of five trace records.
    let input = dir.path().join("input");
    std::fs::create_dir_all(&input).unwrap();
    let mut framed = Vec::new();
    for i in 0..5u8 {
        let record = opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
            resource_spans: vec![opentelemetry_proto::tonic::trace::v1::ResourceSpans {
                scope_spans: vec![opentelemetry_proto::tonic::trace::v1::ScopeSpans {
                    spans: vec![opentelemetry_proto::tonic::trace::v1::Span {
                        trace_id: vec![i + 1; 16],
                        span_id: vec![i + 1; 8],
                        name: format!("scan-{i}"),
                        start_time_unix_nano: 1_735_689_600_000_000_000 + u64::from(i),
                        end_time_unix_nano: 1_735_689_600_000_000_500 + u64::from(i),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec();
        framed.extend_from_slice(&u32::try_from(record.len()).unwrap().to_be_bytes());
        framed.extend_from_slice(&record);
    }
    std::fs::write(input.join("traces.pb"), framed).unwrap();
    let prefix = dir.path().join("site");
    let out = stella(&["dsse", "keygen", "--type", "ed25519", "--out", p(&prefix)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bundle = dir.path().join("b.tar.gz");
    let out = stella(&[
        "bundle",
        "create",
        "--input",
        p(&input),
        "--out",
        p(&bundle),
        "--key",
        p(&prefix.with_extension("key")),
        "--tenant",
        "acme",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let endpoint = format!("https://127.0.0.1:{}", addr.port());
    let replay = |extra: &[&str]| {
        let mut args = vec![
            "bundle",
            "replay",
            p(&bundle),
            "--endpoint",
            &endpoint,
            "--protocol",
            "http",
            "--signal",
            "traces",
            "--max-retries",
            "0",
            "--trusted",
        ];
        let public = prefix.with_extension("pub");
        let public = p(&public).to_owned();
        args.push(&public);
        args.extend_from_slice(extra);
        let owned: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        stella(&refs)
    };

    // The webpki roots do not know the test CA: nothing is accepted.
    let refused = replay(&[]);
    assert!(!refused.status.success(), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("TLS"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 0);

    // With the CA every record arrives.
    let sent = replay(&["--ca", p(&pki.ca_path)]);
    assert!(sent.status.success(), "{}", text(&sent.stderr));
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 5);

    // --ca with a plain-text endpoint is a mistake, not silently ignored.
    let plain = stella(&[
        "bundle",
        "replay",
        p(&bundle),
        "--endpoint",
        &format!("http://127.0.0.1:{}", addr.port()),
        "--ca",
        p(&pki.ca_path),
        "--trusted",
        p(&prefix.with_extension("pub")),
    ]);
    assert!(!plain.status.success());
    assert!(
        text(&plain.stderr).contains("apply to an https:// collector"),
        "{}",
        text(&plain.stderr)
    );
}
