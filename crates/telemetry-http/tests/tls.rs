//! The telemetry router served over TLS (`TlsServer`, `serve_tls`) with a test PKI made at run
//! time: a client trusting the CA gets `/healthz` and an authorized status over HTTP/1.1
//! (ALPN); a client trusting another CA fails the handshake and the server logs it and keeps
//! serving; with a client CA (mTLS) a client without a certificate is refused and one with a
//! certificate is served (its chain reaches handlers as `PeerCertificates`); a stalled client
//! blocks nobody and is dropped after the handshake timeout.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use axum::routing::get;
use axum::{Extension, Router};
use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::rt::TokioIo;
use sha2::{Digest as _, Sha256};
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};
use stellaops_telemetry_core::tls::{ClientTlsConfig, ServerTlsConfig};
use stellaops_telemetry_http::tls::TLS_LOG_TARGET;
use stellaops_telemetry_http::{PeerCertificates, TlsServer, serve_tls};
use stellaops_telemetry_testkit::TestPki;
use tokio::io::AsyncReadExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::ServerName;
use tracing_subscriber::layer::SubscriberExt as _;

/// Log lines of target `telemetry.http.tls`, captured by a global subscriber.
#[derive(Clone, Default)]
struct Logs(Arc<(Mutex<Vec<String>>, Condvar)>);

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Logs {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != TLS_LOG_TARGET {
            return;
        }
        let mut fields = Fields(format!("{} ", event.metadata().level()));
        event.record(&mut fields);
        self.0.0.lock().unwrap().push(fields.0);
        self.0.1.notify_all();
    }
}

impl Logs {
    fn global() -> Logs {
        static LOGS: OnceLock<Logs> = OnceLock::new();
        LOGS.get_or_init(|| {
            let logs = Logs::default();
            tracing::subscriber::set_global_default(
                tracing_subscriber::registry().with(logs.clone()),
            )
            .unwrap();
            logs
        })
        .clone()
    }

    /// The first line mentioning `needle`, waiting for it (the server logs after the client
    /// has already seen the failure). Gives up after a minute so a broken server fails the
    /// test instead of hanging it.
    fn wait_for(&self, needle: &str) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut lines = self.0.0.lock().unwrap();
        loop {
            if let Some(line) = lines.iter().find(|l| l.contains(needle)) {
                return Some(line.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            lines = self.0.1.wait_timeout(lines, deadline - now).unwrap().0;
        }
    }
}

/// The fixture router plus `/whoami`, which reports the client certificate's fingerprint.
fn router() -> Router {
    support::Fixture::new().router.route(
        "/whoami",
        get(|peer: Option<Extension<PeerCertificates>>| async move {
            peer.and_then(|Extension(p)| p.sha256_fingerprint())
                .unwrap_or_else(|| "anonymous".to_owned())
        }),
    )
}

async fn serve(server: TlsServer) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(server.serve(listener, router()));
    addr
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    body: String,
    alpn: Option<Vec<u8>>,
}

/// One GET over a fresh TLS connection; the error says at which step it failed. `local` gets
/// the client's own address (how the server's log names it).
async fn fetch(
    addr: SocketAddr,
    client: &ClientTlsConfig,
    path: &str,
    token: Option<&str>,
    local: &mut Option<SocketAddr>,
) -> Result<Reply, String> {
    let config = client.build_client(&[b"http/1.1"]).unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    *local = Some(tcp.local_addr().unwrap());
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let alpn = tls.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .map_err(|e| format!("http: {e:?}"))?;
    tokio::spawn(connection);
    let mut request = Request::get(path).header("host", "localhost");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = sender
        .send_request(request.body(Empty::<Bytes>::new()).unwrap())
        .await
        .map_err(|e| format!("request: {e:?}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e:?}"))?
        .to_bytes();
    Ok(Reply {
        status,
        body: String::from_utf8_lossy(&body).into_owned(),
        alpn,
    })
}

async fn get_ok(
    addr: SocketAddr,
    client: &ClientTlsConfig,
    path: &str,
    token: Option<&str>,
) -> Reply {
    fetch(addr, client, path, token, &mut None).await.unwrap()
}

fn trusting(pki: &TestPki) -> ClientTlsConfig {
    ClientTlsConfig::new().ca_pem(pki.ca_pem.clone())
}

fn server_tls(pki: &TestPki) -> ServerTlsConfig {
    ServerTlsConfig::from_files(&pki.server.cert_path, &pki.server.key_path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trusting_the_ca_gets_health_and_an_authorized_status_over_http11() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(dir.path(), "router").unwrap();
    let addr = serve(TlsServer::new(&server_tls(&pki)).unwrap()).await;
    let client = trusting(&pki);

    let health = get_ok(addr, &client, "/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.alpn.as_deref(), Some(&b"http/1.1"[..]));
    let json: serde_json::Value = serde_json::from_str(&health.body).unwrap();
    assert_eq!(json["status"], "ok");

    let status = get_ok(
        addr,
        &client,
        "/telemetry/incidents/status",
        Some("acme-read"),
    )
    .await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
    let json: serde_json::Value = serde_json::from_str(&status.body).unwrap();
    assert!(json["incidents"].is_array(), "{json}");

    // TLS is transport only: the bearer token still decides
    let denied = get_ok(addr, &client, "/telemetry/incidents/status", None).await;
    assert_eq!(denied.status, StatusCode::UNAUTHORIZED);
    let denied = get_ok(
        addr,
        &client,
        "/telemetry/incidents/status",
        Some("acme-admin"),
    )
    .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);

    // no client CA configured: no certificate is asked for, none reaches the handlers
    assert_eq!(
        get_ok(addr, &client, "/whoami", None).await.body,
        "anonymous"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_trusting_another_ca_fails_the_handshake_and_the_server_logs_it_and_goes_on() {
    let logs = Logs::global();
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(dir.path(), "router").unwrap();
    let other = TestPki::generate(dir.path(), "other").unwrap();
    let addr = serve(TlsServer::new(&server_tls(&pki)).unwrap()).await;

    let mut local = None;
    let err = fetch(addr, &trusting(&other), "/healthz", None, &mut local)
        .await
        .unwrap_err();
    assert!(
        err.starts_with("handshake:") && err.contains("UnknownIssuer"),
        "{err}"
    );
    let line = logs
        .wait_for(&format!("peer={}", local.unwrap()))
        .expect("the failed handshake is logged");
    assert!(line.starts_with("WARN "), "{line}");
    assert!(
        line.contains("telemetry.http.tls_handshake_failed"),
        "{line}"
    );

    // the server is still there for everyone else
    assert_eq!(
        get_ok(addr, &trusting(&pki), "/healthz", None).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_client_ca_a_client_without_a_certificate_is_refused_and_one_with_is_served() {
    let logs = Logs::global();
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(dir.path(), "router").unwrap();
    let strangers = TestPki::generate(dir.path(), "strangers").unwrap();
    let tls = server_tls(&pki).client_ca_file(&pki.ca_path);
    let addr = serve(TlsServer::new(&tls).unwrap()).await;

    // no certificate: the server refuses it at the handshake (TLS 1.3: the client learns on
    // its first read) and logs why
    let mut local = None;
    let err = fetch(addr, &trusting(&pki), "/healthz", None, &mut local)
        .await
        .unwrap_err();
    assert!(
        !err.starts_with("body:"),
        "refused before any answer: {err}"
    );
    let line = logs.wait_for(&format!("peer={}", local.unwrap())).unwrap();
    assert!(line.contains("no certificates"), "{line}");

    // a certificate from a CA the server does not trust: refused too
    let stranger = trusting(&pki)
        .client_identity_files(&strangers.client.cert_path, &strangers.client.key_path);
    let mut local = None;
    assert!(
        fetch(addr, &stranger, "/healthz", None, &mut local)
            .await
            .is_err()
    );
    let line = logs.wait_for(&format!("peer={}", local.unwrap())).unwrap();
    assert!(line.contains("UnknownIssuer"), "{line}");

    // the right certificate: served, and the verified chain reaches the handlers
    let client = trusting(&pki).client_identity_files(&pki.client.cert_path, &pki.client.key_path);
    let health = get_ok(addr, &client, "/healthz", None).await;
    assert_eq!(health.status, StatusCode::OK);
    let status = get_ok(
        addr,
        &client,
        "/telemetry/incidents/status",
        Some("acme-read"),
    )
    .await;
    assert_eq!(status.status, StatusCode::OK);
    let whoami = get_ok(addr, &client, "/whoami", None).await;
    assert_eq!(
        whoami.body,
        hex::encode(Sha256::digest(&pki.client.cert_der))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_client_auth_serves_anonymous_clients_and_names_certified_ones() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(dir.path(), "router").unwrap();
    let strangers = TestPki::generate(dir.path(), "strangers").unwrap();
    let tls = ServerTlsConfig::from_pem(pki.server.cert_pem.clone(), pki.server.key_pem.clone())
        .client_ca_pem(pki.ca_pem.clone())
        .client_auth_optional();
    let addr = serve(TlsServer::new(&tls).unwrap()).await;

    assert_eq!(
        get_ok(addr, &trusting(&pki), "/whoami", None).await.body,
        "anonymous"
    );
    let client =
        trusting(&pki).client_identity_pem(pki.client.cert_pem.clone(), pki.client.key_pem.clone());
    assert_eq!(
        get_ok(addr, &client, "/whoami", None).await.body,
        hex::encode(Sha256::digest(&pki.client.cert_der))
    );
    // a presented certificate must still verify
    let stranger = trusting(&pki)
        .client_identity_files(&strangers.client.cert_path, &strangers.client.key_path);
    assert!(
        fetch(addr, &stranger, "/whoami", None, &mut None)
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_blocks_nobody_and_is_dropped_after_the_handshake_timeout() {
    let logs = Logs::global();
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(dir.path(), "router").unwrap();
    let server = TlsServer::new(&server_tls(&pki))
        .unwrap()
        .handshake_timeout(Duration::from_millis(300));
    let addr = serve(server).await;

    // connects and never says hello
    let mut stalled = TcpStream::connect(addr).await.unwrap();
    let stalled_addr = stalled.local_addr().unwrap();
    // others are served meanwhile
    for _ in 0..3 {
        assert_eq!(
            get_ok(addr, &trusting(&pki), "/healthz", None).await.status,
            StatusCode::OK
        );
    }
    // the server hangs up on it (EOF or reset), bounded so a broken server fails the test
    let mut buf = [0u8; 16];
    let ended = tokio::time::timeout(Duration::from_secs(60), stalled.read(&mut buf)).await;
    assert!(matches!(ended, Ok(Ok(0) | Err(_))), "{ended:?}");
    let line = logs.wait_for(&format!("peer={stalled_addr}")).unwrap();
    assert!(line.contains("did not finish within"), "{line}");
}

#[tokio::test]
async fn serve_tls_reads_the_files_before_serving() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = serve_tls(
        listener,
        router(),
        &ServerTlsConfig::from_files("/nonexistent/router.pem", "/nonexistent/router-key.pem"),
    )
    .err()
    .expect("a missing certificate file fails before serving");
    assert_eq!(err.code(), "telemetry.tls.pem_unreadable");
    assert!(err.to_string().contains("/nonexistent/router.pem"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(dir.path(), "router").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(serve_tls(listener, router(), &server_tls(&pki)).unwrap());
    assert_eq!(
        get_ok(addr, &trusting(&pki), "/healthz", None).await.status,
        StatusCode::OK
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_shutdown_stops_accepting_when_the_signal_fires() {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::generate(dir.path(), "router").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serving = tokio::spawn(
        TlsServer::new(&server_tls(&pki))
            .unwrap()
            .serve_with_shutdown(listener, router(), async move {
                let _ = stopped.await;
            }),
    );
    assert_eq!(
        get_ok(addr, &trusting(&pki), "/healthz", None).await.status,
        StatusCode::OK
    );
    stop.send(()).unwrap();
    serving.await.unwrap().unwrap();
    // the listener is gone with the server
    assert!(TcpStream::connect(addr).await.is_err());
}
