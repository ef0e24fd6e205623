//! The HTTP/1.1 client the `incident` commands and `capture --url` use to talk to a service's
//! telemetry router (crates/telemetry-http): plain `http://` over hyper on a single-threaded
//! tokio runtime, bearer token, JSON error bodies mapped to the documented exit codes.
//!
//! Not a general HTTP client: no TLS (put a local proxy or an SSH tunnel in front of remote
//! routers), no redirects, no retries.

use bytes::Bytes;
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The router address when `--url` is not given.
pub(crate) const DEFAULT_URL: &str = "http://127.0.0.1:8080";
/// The environment variable holding the bearer token when neither `--token` nor
/// `--token-file` is given.
pub(crate) const TOKEN_ENV: &str = "STELLA_TELEMETRY_TOKEN";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// Exit codes (docs/cli.md, "incident").
pub(crate) const EXIT_IO: u8 = 1;
pub(crate) const EXIT_BAD_INPUT: u8 = 2;
pub(crate) const EXIT_UNAUTHORIZED: u8 = 4;
pub(crate) const EXIT_SERVER: u8 = 5;
pub(crate) const EXIT_UNREACHABLE: u8 = 6;

/// Why a call to the router failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RemoteError {
    /// The URL is not an `http://host[:port][/prefix]` URL.
    #[error("bad --url {url:?}: {detail}")]
    BadUrl { url: String, detail: String },
    /// Nothing answered (refused, unresolvable, timed out, connection dropped).
    #[error("cannot reach {url}: {detail}")]
    Unreachable { url: String, detail: String },
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
            RemoteError::Io { .. } => "cli.remote.io",
            RemoteError::Http { code, .. } => code,
        }
    }

    /// The process exit code: 1 local I/O, 2 bad input (bad URL, 400/404/405/409/413),
    /// 4 unauthorized or forbidden (401/403), 5 server error (5xx or a malformed answer),
    /// 6 unreachable.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            RemoteError::BadUrl { .. } => EXIT_BAD_INPUT,
            RemoteError::Unreachable { .. } => EXIT_UNREACHABLE,
            RemoteError::Io { .. } => EXIT_IO,
            RemoteError::Http { status, .. } => match status.as_u16() {
                401 | 403 => EXIT_UNAUTHORIZED,
                400..=499 => EXIT_BAD_INPUT,
                _ => EXIT_SERVER,
            },
        }
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
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => {
            return Err(bad(
                "https is not supported by this client; use an http:// address (a local proxy or tunnel)",
            ));
        }
        _ => return Err(bad("expected http://host[:port]")),
    }
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
    let port = authority.port_u16().unwrap_or(80);
    Ok(Target {
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

async fn send(
    url: &str,
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
    let stream = tokio::time::timeout(
        CONNECT_TIMEOUT,
        tokio::net::TcpStream::connect((target.host.as_str(), target.port)),
    )
    .await
    .map_err(|_| unreachable(format!("no connection within {CONNECT_TIMEOUT:?}")))?
    .map_err(|e| unreachable(e.to_string()))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| unreachable(e.to_string()))?;
    tokio::spawn(connection);
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
    let response = tokio::time::timeout(RESPONSE_TIMEOUT, sender.send_request(request))
        .await
        .map_err(|_| unreachable(format!("no response within {RESPONSE_TIMEOUT:?}")))?
        .map_err(|e| unreachable(e.to_string()))?;
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
    method: Method,
    path_and_query: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> Result<serde_json::Value, RemoteError> {
    let body = body.map(|b| b.to_string().into_bytes());
    runtime()?.block_on(async {
        let response = send(url, method, path_and_query, token, body).await?;
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
        let response = send(url, Method::GET, &path, token, None).await?;
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
            ("https://example.org", false),
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
            (e.code(), e.exit_code()),
            ("telemetry.incident.invalid_ttl", 2)
        );
        assert!(e.to_string().contains("(field: ttl)"));
        assert_eq!(http_error(StatusCode::FORBIDDEN, b"").exit_code(), 4);
        assert_eq!(http_error(StatusCode::UNAUTHORIZED, b"").exit_code(), 4);
        assert_eq!(
            http_error(StatusCode::BAD_GATEWAY, b"oops").code(),
            "http.502"
        );
        assert_eq!(
            http_error(StatusCode::INTERNAL_SERVER_ERROR, b"").exit_code(),
            5
        );
    }

    /// Serves a telemetry router with one acme record on loopback; returns its URL.
    fn serve(runtime: &tokio::runtime::Runtime) -> String {
        use std::sync::Arc;
        use stellaops_federation_dsse::HmacSha256Key;
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
        let err = fetch_forensic(&url, Some("read-token"), "24h", &refused, &mut |_, _| {})
            .err()
            .unwrap_or_else(|| unreachable!("a read token may not export"));
        assert_eq!(
            (err.code(), err.exit_code()),
            ("telemetry.auth.missing_scope", 4)
        );
        let err = fetch_forensic(&url, Some("export-token"), "40d", &refused, &mut |_, _| {})
            .err()
            .unwrap_or_else(|| unreachable!("40d is longer than 31 days"));
        assert_eq!(err.exit_code(), 2);
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap_or_else(|e| unreachable!("{e}"))
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("bundle.tar.gz")]);
    }
}
