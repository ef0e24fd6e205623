//! The socket under both OTLP clients: TCP, wrapped in rustls when the endpoint is `https://`.
//! One connector serves tonic (gRPC, ALPN `h2`) and the hyper client (OTLP/HTTP).
//!
//! Not a policy: whether plain text is allowed is decided at `init`; this only connects.

use hyper_util::client::legacy::connect::{Connected, Connection, HttpConnector};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use stellaops_telemetry_model::sync::lock;
use tokio::net::TcpStream;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A TLS handshake that failed (unknown CA, name mismatch, the server wants a client
/// certificate...): its message starts with `TLS` so export failures say what went wrong.
#[derive(Debug, thiserror::Error)]
#[error("TLS handshake with {server_name} failed: {source}")]
pub(crate) struct TlsHandshakeError {
    server_name: String,
    source: std::io::Error,
}

/// The last TLS error a connection of one client met after its handshake (a fatal alert from
/// the server, such as `CertificateRequired` when mTLS refuses the client): HTTP/2 and
/// HTTP/1 report such a connection only as "closed", so the client looks here to say why.
#[derive(Clone, Debug, Default)]
pub struct TlsErrorSlot(Arc<Mutex<Option<String>>>);

impl TlsErrorSlot {
    fn record(&self, error: &std::io::Error) {
        if let Some(tls) = error.get_ref().filter(|e| e.is::<rustls::Error>()) {
            *lock(&self.0) = Some(tls.to_string());
        }
    }

    fn set(&self, message: &str) {
        *lock(&self.0) = Some(message.to_owned());
    }

    /// Takes the recorded error, if any.
    pub fn take(&self) -> Option<String> {
        lock(&self.0).take()
    }
}

/// Wraps the client-certificate resolver to notice a server that asks for a client
/// certificate when none is configured: with TLS 1.3 the server refuses such a client only
/// after the client's handshake has finished, so the error would otherwise read "connection
/// closed".
#[derive(Debug)]
struct NoticeCertificateRequest {
    inner: Arc<dyn rustls::client::ResolvesClientCert>,
    errors: TlsErrorSlot,
}

impl rustls::client::ResolvesClientCert for NoticeCertificateRequest {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[rustls::SignatureScheme],
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        let resolved = self.inner.resolve(root_hint_subjects, sigschemes);
        if resolved.is_none() {
            self.errors.set(
                "the server requires a client certificate (mTLS) and none is configured: set ClientTlsConfig::client_identity_files or OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and OTEL_EXPORTER_OTLP_CLIENT_KEY",
            );
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

#[derive(Clone)]
struct TlsSetup {
    connector: tokio_rustls::TlsConnector,
    server_name: Option<ServerName<'static>>,
}

/// Connects to one OTLP endpoint: plain TCP, or TLS when built with a rustls configuration.
#[derive(Clone)]
pub struct OtlpConnector {
    http: HttpConnector,
    tls: Option<TlsSetup>,
    errors: TlsErrorSlot,
}

impl OtlpConnector {
    /// A connector with a connect timeout; TLS with `tls` (and the name to verify, if not the
    /// endpoint's host) when given.
    pub fn new(
        timeout: Duration,
        tls: Option<(Arc<rustls::ClientConfig>, Option<ServerName<'static>>)>,
    ) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(timeout));
        let errors = TlsErrorSlot::default();
        Self {
            http,
            tls: tls.map(|(config, server_name)| {
                let mut config = (*config).clone();
                config.client_auth_cert_resolver = Arc::new(NoticeCertificateRequest {
                    inner: config.client_auth_cert_resolver.clone(),
                    errors: errors.clone(),
                });
                TlsSetup {
                    connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
                    server_name,
                }
            }),
            errors,
        }
    }

    /// Where this connector's connections record TLS errors met after the handshake.
    pub fn tls_errors(&self) -> TlsErrorSlot {
        self.errors.clone()
    }
}

impl tower_service::Service<http::Uri> for OtlpConnector {
    type Response = OtlpStream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<OtlpStream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.http.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let tls = self.tls.clone();
        let errors = self.errors.clone();
        let host = uri
            .host()
            .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned());
        let connecting = self.http.call(uri);
        Box::pin(async move {
            let tcp = connecting.await?;
            let Some(tls) = tls else {
                return Ok(OtlpStream::Plain(tcp));
            };
            let name = match tls.server_name {
                Some(name) => name,
                None => {
                    let host = host.ok_or("the endpoint has no host to verify")?;
                    ServerName::try_from(host.clone())
                        .map_err(|_| format!("TLS: {host:?} is not a valid server name"))?
                }
            };
            let shown = name.to_str().into_owned();
            let stream = tls
                .connector
                .connect(name, tcp.into_inner())
                .await
                .map_err(|source| TlsHandshakeError {
                    server_name: shown,
                    source,
                })?;
            Ok(OtlpStream::Tls(Box::new(TlsIo {
                io: TokioIo::new(stream),
                errors,
            })))
        })
    }
}

/// A connection to a collector, plain or TLS.
pub enum OtlpStream {
    /// Plain TCP.
    Plain(TokioIo<TcpStream>),
    /// TLS over TCP.
    Tls(Box<TlsIo>),
}

/// A TLS connection that records TLS errors it meets into its client's [`TlsErrorSlot`].
pub struct TlsIo {
    io: TokioIo<tokio_rustls::client::TlsStream<TcpStream>>,
    errors: TlsErrorSlot,
}

impl TlsIo {
    fn seen<T>(&self, result: Poll<std::io::Result<T>>) -> Poll<std::io::Result<T>> {
        if let Poll::Ready(Err(e)) = &result {
            self.errors.record(e);
        }
        result
    }
}

impl Connection for OtlpStream {
    fn connected(&self) -> Connected {
        match self {
            OtlpStream::Plain(io) => io.connected(),
            OtlpStream::Tls(io) => {
                let (tcp, session) = io.io.inner().get_ref();
                let connected = tcp.connected();
                if session.alpn_protocol() == Some(b"h2") {
                    connected.negotiated_h2()
                } else {
                    connected
                }
            }
        }
    }
}

impl hyper::rt::Read for OtlpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            OtlpStream::Plain(io) => Pin::new(io).poll_read(cx, buf),
            OtlpStream::Tls(tls) => {
                let result = Pin::new(&mut tls.io).poll_read(cx, buf);
                tls.seen(result)
            }
        }
    }
}

impl hyper::rt::Write for OtlpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            OtlpStream::Plain(io) => Pin::new(io).poll_write(cx, buf),
            OtlpStream::Tls(tls) => {
                let result = Pin::new(&mut tls.io).poll_write(cx, buf);
                tls.seen(result)
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            OtlpStream::Plain(io) => Pin::new(io).poll_flush(cx),
            OtlpStream::Tls(tls) => {
                let result = Pin::new(&mut tls.io).poll_flush(cx);
                tls.seen(result)
            }
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            OtlpStream::Plain(io) => Pin::new(io).poll_shutdown(cx),
            OtlpStream::Tls(tls) => Pin::new(&mut tls.io).poll_shutdown(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            OtlpStream::Plain(io) => io.is_write_vectored(),
            OtlpStream::Tls(tls) => tls.io.is_write_vectored(),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            OtlpStream::Plain(io) => Pin::new(io).poll_write_vectored(cx, bufs),
            OtlpStream::Tls(tls) => {
                let result = Pin::new(&mut tls.io).poll_write_vectored(cx, bufs);
                tls.seen(result)
            }
        }
    }
}

/// Describes a failure with its causes, and whether TLS was the cause (a handshake error or
/// a TLS alert from the peer, such as a refused or missing client certificate).
pub(crate) fn describe_chain(error: &(dyn std::error::Error + 'static)) -> (String, bool) {
    let mut text = error.to_string();
    let mut is_tls = false;
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = current {
        if e.is::<TlsHandshakeError>() || e.is::<rustls::Error>() {
            is_tls = true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
        {
            is_tls = true;
        }
        current = e.source();
        if let Some(cause) = current {
            let cause_text = cause.to_string();
            if !text.contains(&cause_text) {
                text.push_str(": ");
                text.push_str(&cause_text);
            }
        }
    }
    if is_tls && !text.starts_with("TLS") {
        text = format!("TLS: {text}");
    }
    (text, is_tls)
}
