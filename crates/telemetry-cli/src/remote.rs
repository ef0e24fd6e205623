//! The HTTP/1.1 client the `incident` commands and `capture --url` use to talk to a service's
//! telemetry router (crates/telemetry-http): `https://` (rustls on ring, the server verified
//! against `--ca` or the Mozilla roots, optional client certificate for mTLS) or plain
//! `http://` over hyper on a single-threaded tokio runtime, bearer token, JSON error bodies
//! mapped to the documented exit codes.
//!
//! Not a general HTTP client: no redirects, no retries, no proxies.

use crate::failure::{Exit, Failure};
use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use stellaops_telemetry_core::tls::{ClientTlsConfig, PemSource, TlsError};
use tokio_rustls::rustls;

/// The router address when `--url` is not given.
pub(crate) const DEFAULT_URL: &str = "http://127.0.0.1:8080";
/// The environment variable holding the bearer token when neither `--token` nor
/// `--token-file` is given.
pub(crate) const TOKEN_ENV: &str = "STELLA_TELEMETRY_TOKEN";
/// The environment variable naming the CA bundle for `https://` URLs when `--ca` is not given.
pub(crate) const CA_ENV: &str = "STELLA_TELEMETRY_CA";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// TLS settings for `https://` URLs (flattened into the `incident` and `capture` arguments).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct TlsArgs {
    /// PEM bundle of the CAs that may sign the router's certificate (`https://` URLs; else
    /// `$STELLA_TELEMETRY_CA`, else the Mozilla root programme's CAs).
    #[arg(long, value_name = "FILE")]
    pub(crate) ca: Option<PathBuf>,
    /// Client certificate chain (PEM) presented to a router that requires mTLS.
    #[arg(long, value_name = "FILE", requires = "client_key")]
    pub(crate) client_cert: Option<PathBuf>,
    /// Private key (PEM) of `--client-cert`.
    #[arg(long, value_name = "FILE", requires = "client_cert")]
    pub(crate) client_key: Option<PathBuf>,
}

impl TlsArgs {
    /// The client TLS configuration: `--ca`, else `$STELLA_TELEMETRY_CA`, else webpki roots.
    fn client_config(&self) -> ClientTlsConfig {
        let mut config = ClientTlsConfig::new();
        config.ca = match &self.ca {
            Some(path) => Some(PemSource::file(path, "--ca")),
            None => std::env::var_os(CA_ENV)
                .filter(|v| !v.is_empty())
                .map(|path| PemSource::file(path, CA_ENV)),
        };
        config.client_certificate = self
            .client_cert
            .as_ref()
            .map(|path| PemSource::file(path, "--client-cert"));
        config.client_key = self
            .client_key
            .as_ref()
            .map(|path| PemSource::file(path, "--client-key"));
        config
    }
}

/// Why a call to the router failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RemoteError {
    /// The URL is not an `http://host[:port][/prefix]` URL.
    #[error("bad --url {url:?}: {detail}")]
    BadUrl { url: String, detail: String },
    /// Nothing answered (refused, unresolvable, timed out, connection dropped).
    #[error("cannot reach {url}: {detail}")]
    Unreachable { url: String, detail: String },
    /// The TLS settings could not be used (an unreadable or invalid `--ca`, `--client-cert`
    /// or `--client-key`).
    #[error("TLS settings: {0}")]
    TlsConfig(#[from] TlsError),
    /// The TLS connection failed: the router's certificate is not trusted or not for this
    /// host, or the router refused the client (certificate missing or not trusted).
    #[error("TLS with {url}: {detail}")]
    Tls { url: String, detail: String },
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The router answered with an error status.
    #[error("{status} [{code}] {message}{}", .field.as_deref().map(|f| format!(" (field: {f})")).unwrap_or_default())]
    Http {
        status: StatusCode,
        code: String,
        message: String,
        field: Option<String>,
    },
}

impl RemoteError {
    /// The stable code printed before the message.
    pub(crate) fn code(&self) -> &str {
        match self {
            RemoteError::BadUrl { .. } => "cli.remote.bad_url",
            RemoteError::Unreachable { .. } => "cli.remote.unreachable",
            RemoteError::TlsConfig(e) => e.code(),
            RemoteError::Tls { .. } => "cli.remote.tls",
            RemoteError::Io { .. } => "cli.remote.io",
            RemoteError::Http { code, .. } => code,
        }
    }

    /// The process exit code: 1 local I/O, 2 bad input (bad URL, 400/404/405/409/413),
    /// 4 unauthorized or forbidden (401/403), 5 server error (5xx or a malformed answer),
    /// 6 unreachable, 7 TLS failure (untrusted or misnamed server certificate, client
    /// certificate required or refused). Unusable TLS files are bad input (2).
    pub(crate) fn exit_code(&self) -> Exit {
        match self {
            RemoteError::BadUrl { .. } | RemoteError::TlsConfig(_) => Exit::Usage,
            RemoteError::Unreachable { .. } => Exit::Unreachable,
            RemoteError::Tls { .. } => Exit::Tls,
            RemoteError::Io { .. } => Exit::Failed,
            RemoteError::Http { status, .. } => match status.as_u16() {
                401 | 403 => Exit::Unauthorized,
                400..=499 => Exit::Usage,
                _ => Exit::ServerError,
            },
        }
    }
}

impl From<RemoteError> for Failure {
    fn from(e: RemoteError) -> Self {
        Failure::new(e.exit_code(), e.code().to_owned(), e.to_string())
    }
}

/// The bearer token: `--token`, else the first line of `--token-file`, else
/// `$STELLA_TELEMETRY_TOKEN`, else none (the router answers 401).
pub(crate) fn resolve_token(
    token: Option<String>,
    token_file: Option<&Path>,
) -> Result<Option<String>, RemoteError> {
    if let Some(token) = token {
        return Ok(Some(token.trim().to_owned()));
    }
    if let Some(path) = token_file {
        let text = std::fs::read_to_string(path).map_err(|source| RemoteError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        return Ok(Some(
            text.lines().next().unwrap_or_default().trim().to_owned(),
        ));
    }
    Ok(std::env::var(TOKEN_ENV)
        .ok()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty()))
}

/// Percent-encodes `text` for one path segment or query value (RFC 3986 unreserved kept).
pub(crate) fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Target {
    tls: bool,
    host: String,
    port: u16,
    authority: String,
    prefix: String,
}

fn target(url: &str) -> Result<Target, RemoteError> {
    let bad = |detail: &str| RemoteError::BadUrl {
        url: url.to_owned(),
        detail: detail.to_owned(),
    };
    let uri: Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad(&format!("not a URL ({e})")))?;
    let tls = match uri.scheme_str() {
        Some("http") => false,
        Some("https") => true,
        _ => return Err(bad("expected https://host[:port] or http://host[:port]")),
    };
    let authority = uri
        .authority()
        .ok_or_else(|| bad("expected a host"))?
        .clone();
    if authority.as_str().contains('@') {
        return Err(bad("credentials in the URL are not supported; use --token"));
    }
    let host = authority
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
    Ok(Target {
        tls,
        host,
        port,
        authority: authority.to_string(),
        prefix: uri.path().trim_end_matches('/').to_owned(),
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, RemoteError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| RemoteError::Io {
            path: PathBuf::from("<tokio runtime>"),
            source,
        })
}

/// Whether `host` is a loopback destination (`localhost`, 127.0.0.0/8, `::1`); decided
/// without DNS, like the egress policy.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Notices a router that asks for a client certificate when none is configured: with TLS 1.3
/// the router refuses such a client only after the client's handshake has finished, and the
/// failure would otherwise read as a dropped connection.
#[derive(Debug)]
struct NoticeCertificateRequest {
    inner: Arc<dyn rustls::client::ResolvesClientCert>,
    requested_without_certificate: Arc<AtomicBool>,
}

impl rustls::client::ResolvesClientCert for NoticeCertificateRequest {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let resolved = self.inner.resolve(root_hint_subjects, sigschemes);
        if resolved.is_none() {
            self.requested_without_certificate
                .store(true, Ordering::Relaxed);
        }
        resolved
    }

    fn only_raw_public_keys(&self) -> bool {
        self.inner.only_raw_public_keys()
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

/// The TLS reason in an error's source chain (a rustls error inside an I/O error), if any.
fn tls_cause(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls.to_string());
        }
        if let Some(tls) = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(tls.to_string());
        }
        current = e.source();
    }
    None
}

/// Explains a rustls failure in operator terms (what to change), keeping rustls' reason.
fn explain_tls(reason: &str, tls: &TlsArgs) -> String {
    let hint = if reason.contains("UnknownIssuer") {
        if tls.ca.is_some() || std::env::var_os(CA_ENV).is_some_and(|v| !v.is_empty()) {
            " (the router's certificate is not signed by a CA in the --ca bundle)"
        } else {
            " (the router's certificate is not signed by a public CA: pass its CA bundle with --ca FILE or $STELLA_TELEMETRY_CA)"
        }
    } else if reason.contains("NotValidForName") {
        " (the router's certificate does not name the host in --url)"
    } else if reason.contains("Expired") || reason.contains("NotValidYet") {
        " (the router's certificate is outside its validity period)"
    } else if reason.contains("CertificateRequired") {
        " (the router requires a client certificate: pass --client-cert FILE --client-key FILE)"
    } else if reason.contains("received fatal alert") && tls.client_cert.is_some() {
        " (the router refused the client certificate: is it signed by a CA the router trusts?)"
    } else {
        ""
    };
    format!("{reason}{hint}")
}

/// One request over an established connection (plain or TLS).
async fn exchange<T>(
    io: T,
    request: Request<Full<Bytes>>,
) -> Result<http::Response<hyper::body::Incoming>, hyper::Error>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(io)).await?;
    tokio::spawn(connection);
    sender.send_request(request).await
}

async fn send(
    url: &str,
    tls: &TlsArgs,
    method: Method,
    path_and_query: &str,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> Result<http::Response<hyper::body::Incoming>, RemoteError> {
    let target = target(url)?;
    let unreachable = |detail: String| RemoteError::Unreachable {
        url: url.to_owned(),
        detail,
    };
    let tls_failed = |detail: String| RemoteError::Tls {
        url: url.to_owned(),
        detail,
    };
    // Read the TLS material before connecting: a bad --ca is bad input, whatever the network.
    let connector = if target.tls {
        let mut config = tls.client_config().build_client(&[b"http/1.1"])?;
        let requested = Arc::new(AtomicBool::new(false));
        config.client_auth_cert_resolver = Arc::new(NoticeCertificateRequest {
            inner: config.client_auth_cert_resolver.clone(),
            requested_without_certificate: requested.clone(),
        });
        let name = rustls::pki_types::ServerName::try_from(target.host.clone()).map_err(|_| {
            RemoteError::BadUrl {
                url: url.to_owned(),
                detail: format!("{:?} is not a valid TLS server name", target.host),
            }
        })?;
        Some((
            tokio_rustls::TlsConnector::from(Arc::new(config)),
            name,
            requested,
        ))
    } else {
        if tls.ca.is_some() || tls.client_cert.is_some() {
            return Err(RemoteError::BadUrl {
                url: url.to_owned(),
                detail:
                    "--ca, --client-cert and --client-key apply to https:// URLs only; use https://"
                        .to_owned(),
            });
        }
        if !is_loopback(&target.host) {
            eprintln!(
                "warning [cli.remote.plaintext]: {url} is plain http:// to a host that is not loopback: the bearer token and the answer cross the network unencrypted; use https:// (with --ca FILE for a private CA)"
            );
        }
        None
    };
    let stream = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio::net::TcpStream::connect((target.host.as_str(), target.port)),
    )
    .await
    .map_err(|_| unreachable(format!("no connection within {CONNECT_TIMEOUT:?}")))?
    .map_err(|e| unreachable(e.to_string()))?;
    let mut request = Request::builder()
        .method(method)
        .uri(format!("{}{path_and_query}", target.prefix))
        .header(http::header::HOST, &target.authority)
        .header(
            http::header::USER_AGENT,
            concat!("stella-telemetry/", env!("CARGO_PKG_VERSION")),
        )
        .header(http::header::ACCEPT, "application/json, application/gzip");
    if let Some(token) = token {
        request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if body.is_some() {
        request = request.header(http::header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(Full::new(Bytes::from(body.unwrap_or_default())))
        .map_err(|e| RemoteError::BadUrl {
            url: url.to_owned(),
            detail: e.to_string(),
        })?;
    let response = match connector {
        None => tokio::time::timeout(RESPONSE_TIMEOUT, exchange(stream, request))
            .await
            .map_err(|_| unreachable(format!("no response within {RESPONSE_TIMEOUT:?}")))?
            .map_err(|e| unreachable(e.to_string()))?,
        Some((connector, name, requested)) => {
            let exchanged = tokio::time::timeout(RESPONSE_TIMEOUT, async {
                let stream = connector
                    .connect(name, stream)
                    .await
                    .map_err(|e| match tls_cause(&e) {
                        Some(reason) => tls_failed(format!(
                            "handshake failed: {}",
                            explain_tls(&reason, tls)
                        )),
                        None => unreachable(format!("during the TLS handshake: {e}")),
                    })?;
                exchange(stream, request).await.map_err(|e| {
                    if requested.load(Ordering::Relaxed) {
                        tls_failed(
                            "the router requires a client certificate (mTLS) and none was given: pass --client-cert FILE --client-key FILE".to_owned(),
                        )
                    } else if let Some(reason) = tls_cause(&e) {
                        tls_failed(format!(
                            "the router ended the connection: {}",
                            explain_tls(&reason, tls)
                        ))
                    } else {
                        unreachable(e.to_string())
                    }
                })
            })
            .await
            .map_err(|_| unreachable(format!("no response within {RESPONSE_TIMEOUT:?}")))?;
            exchanged?
        }
    };
    if response.status().is_success() || response.status() == StatusCode::NOT_MODIFIED {
        return Ok(response);
    }
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    Err(http_error(status, &bytes))
}

fn http_error(status: StatusCode, body: &[u8]) -> RemoteError {
    let json: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let error = &json["error"];
    RemoteError::Http {
        status,
        code: error["code"]
            .as_str()
            .map_or_else(|| format!("http.{}", status.as_u16()), str::to_owned),
        message: error["message"].as_str().map_or_else(
            || String::from_utf8_lossy(body).chars().take(200).collect(),
            str::to_owned,
        ),
        field: error["field"].as_str().map(str::to_owned),
    }
}

/// Sends one request and returns the JSON body of a successful answer.
pub(crate) fn json_call(
    url: &str,
    tls: &TlsArgs,
    method: Method,
    path_and_query: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Result<serde_json::Value, RemoteError> {
    let body = body.map(|b| b.to_string().into_bytes());
    runtime()?.block_on(async {
        let response = send(url, tls, method, path_and_query, token, body).await?;
        let status = response.status();
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| RemoteError::Unreachable {
                url: url.to_owned(),
                detail: format!("the response was cut short: {e}"),
            })?
            .to_bytes();
        serde_json::from_slice(&bytes).map_err(|e| RemoteError::Http {
            status,
            code: "cli.remote.bad_response".to_owned(),
            message: format!("expected a JSON answer: {e}"),
            field: None,
        })
    })
}

/// Streams `GET /telemetry/exports/forensic/{window}` into a temporary file next to `out`,
/// fsyncs it and renames it to `out`; returns the bytes written. `progress` is called after
/// every received chunk with (bytes so far, total when the server announced one). A transfer
/// cut short leaves no file at `out`.
pub(crate) fn fetch_forensic(
    url: &str,
    tls: &TlsArgs,
    token: Option<&str>,
    window: &str,
    out: &Path,
    progress: &mut dyn FnMut(u64, Option<u64>),
) -> Result<u64, RemoteError> {
    let io = |source| RemoteError::Io {
        path: out.to_path_buf(),
        source,
    };
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".stella-capture-")
        .suffix(".part")
        .tempfile_in(&dir)
        .map_err(io)?;
    let path = format!("/telemetry/exports/forensic/{}", encode_component(window));
    let written = runtime()?.block_on(async {
        let response = send(url, tls, Method::GET, &path, token, None).await?;
        let total = response
            .headers()
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let mut body = response.into_body();
        let mut written = 0u64;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| RemoteError::Unreachable {
                url: url.to_owned(),
                detail: format!("the export was cut short after {written} bytes: {e}"),
            })?;
            if let Ok(data) = frame.into_data() {
                file.write_all(&data).map_err(io)?;
                written += data.len() as u64;
                progress(written, total);
            }
        }
        Ok::<u64, RemoteError>(written)
    })?;
    file.as_file().sync_all().map_err(io)?;
    file.persist(out).map_err(|e| io(e.error))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_before_connecting() {
        for (url, ok) in [
            ("http://127.0.0.1:8080", true),
            ("http://localhost", true),
            ("http://[::1]:9/api/", true),
            ("https://example.org", true),
            ("ftp://x", false),
            ("127.0.0.1:8080", false),
            ("http://user:pw@host", false),
        ] {
            assert_eq!(target(url).is_ok(), ok, "{url}");
        }
        let t = target("http://[::1]:9/api/").unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            (t.host.as_str(), t.port, t.prefix.as_str()),
            ("::1", 9, "/api")
        );
    }

    #[test]
    fn https_defaults_to_443_and_loopback_is_decided_without_dns() {
        let t = target("https://router.internal/api").unwrap_or_else(|e| unreachable!("{e}"));
        assert!(t.tls);
        assert_eq!((t.host.as_str(), t.port), ("router.internal", 443));
        for (host, loopback) in [
            ("localhost", true),
            ("LOCALHOST", true),
            ("127.0.0.1", true),
            ("127.8.9.10", true),
            ("::1", true),
            ("::ffff:127.0.0.1", true),
            ("0.0.0.0", false),
            ("10.0.0.1", false),
            ("localhost.example", false),
            ("router.internal", false),
        ] {
            assert_eq!(is_loopback(host), loopback, "{host}");
        }
        let tls = RemoteError::Tls {
            url: "https://x".to_owned(),
            detail: "handshake failed".to_owned(),
        };
        assert_eq!(
            (tls.code(), tls.exit_code().number()),
            ("cli.remote.tls", 7)
        );
        assert!(tls.to_string().starts_with("TLS with https://x: "));
        let bad = RemoteError::from(
            ClientTlsConfig::new()
                .ca_pem("not pem")
                .build_client(&[])
                .err()
                .unwrap_or_else(|| unreachable!("not PEM")),
        );
        assert_eq!(
            (bad.code(), bad.exit_code().number()),
            ("telemetry.tls.pem_invalid", 2)
        );
    }

    #[test]
    fn components_are_percent_encoded() {
        assert_eq!(
            encode_component("2025-03-01T00:00:00+01:00/2025-03-02T00:00:00Z"),
            "2025-03-01T00%3A00%3A00%2B01%3A00%2F2025-03-02T00%3A00%3A00Z"
        );
        assert_eq!(encode_component("acme corp"), "acme%20corp");
    }

    #[test]
    fn http_errors_map_to_exit_codes() {
        let body = br#"{"error":{"code":"telemetry.incident.invalid_ttl","message":"ttl: bad","field":"ttl"}}"#;
        let e = http_error(StatusCode::BAD_REQUEST, body);
        assert_eq!(
            (e.code(), e.exit_code().number()),
            ("telemetry.incident.invalid_ttl", 2)
        );
        assert!(e.to_string().contains("(field: ttl)"));
        assert_eq!(
            http_error(StatusCode::FORBIDDEN, b"").exit_code().number(),
            4
        );
        assert_eq!(
            http_error(StatusCode::UNAUTHORIZED, b"")
                .exit_code()
                .number(),
            4
        );
        assert_eq!(
            http_error(StatusCode::BAD_GATEWAY, b"oops").code(),
            "http.502"
        );
        assert_eq!(
            http_error(StatusCode::INTERNAL_SERVER_ERROR, b"")
                .exit_code()
                .number(),
            5
        );
    }

    /// Serves a telemetry router with one acme record on loopback; returns its URL.
    fn serve(runtime: &tokio::runtime::Runtime) -> String {
        use std::sync::Arc;
        use stellaops_dsse::HmacSha256Key;
        use stellaops_telemetry_http::{
            ManualClock, MemoryExporter, MemoryIncidentRegistry, Principal, StaticTokens,
            TelemetryRouter, TelemetryState,
        };
        let now = "2025-03-01T12:00:00Z".parse().unwrap_or_default();
        let clock = Arc::new(ManualClock::new(now));
        let key = HmacSha256Key::new("site", vec![9u8; 32]).unwrap_or_else(|e| unreachable!("{e}"));
        let exporter = MemoryExporter::new(Arc::new(key.clone()), clock.clone());
        exporter.push(
            "acme",
            now - chrono::Duration::minutes(5),
            stellaops_bundle_format::Signal::Traces,
            b"record".to_vec(),
        );
        let tokens = StaticTokens::new()
            .with(
                "export-token",
                Principal::new("auditor@acme", "acme", ["telemetry:export"]),
            )
            .with(
                "read-token",
                Principal::new("viewer@acme", "acme", ["telemetry:read"]),
            );
        let state = TelemetryState::builder(
            Arc::new(tokens),
            Arc::new(MemoryIncidentRegistry::new(clock.clone())),
            Arc::new(exporter),
            Arc::new(key),
        )
        .clock(clock)
        .build()
        .unwrap_or_else(|e| unreachable!("{e}"));
        let router = TelemetryRouter::new(state).into_router();
        runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .unwrap_or_else(|e| unreachable!("{e}"));
            let addr = listener
                .local_addr()
                .unwrap_or_else(|e| unreachable!("{e}"));
            tokio::spawn(async move { axum::serve(listener, router).await });
            format!("http://{addr}")
        })
    }

    #[test]
    fn fetch_forensic_streams_to_a_temp_file_then_renames() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap_or_else(|e| unreachable!("{e}"));
        let url = serve(&runtime);
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let out = dir.path().join("bundle.tar.gz");
        let mut calls = Vec::new();
        let written = fetch_forensic(
            &url,
            &TlsArgs::default(),
            Some("export-token"),
            "2025-03-01T11:00:00Z/2025-03-01T12:00:00Z",
            &out,
            &mut |n, _| calls.push(n),
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let bytes = std::fs::read(&out).unwrap_or_default();
        assert_eq!(written, bytes.len() as u64);
        assert_eq!(calls.last().copied(), Some(written));
        let verified = stellaops_bundle_format::BundleReader::dangerous_skip_signature()
            .verify(std::io::Cursor::new(&bytes))
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(verified.manifest().tenant, "acme");

        // refused: exit 4, and nothing is left behind (no bundle, no temp file)
        let refused = dir.path().join("refused.tar.gz");
        let err = fetch_forensic(
            &url,
            &TlsArgs::default(),
            Some("read-token"),
            "24h",
            &refused,
            &mut |_, _| {},
        )
        .err()
        .unwrap_or_else(|| unreachable!("a read token may not export"));
        assert_eq!(
            (err.code(), err.exit_code().number()),
            ("telemetry.auth.missing_scope", 4)
        );
        let err = fetch_forensic(
            &url,
            &TlsArgs::default(),
            Some("export-token"),
            "40d",
            &refused,
            &mut |_, _| {},
        )
        .err()
        .unwrap_or_else(|| unreachable!("40d is longer than 31 days"));
        assert_eq!(err.exit_code().number(), 2);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap_or_else(|e| unreachable!("{e}"))
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("bundle.tar.gz")]);
    }
}
