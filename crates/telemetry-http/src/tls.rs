//! Serving the telemetry router over TLS (rustls on the `ring` provider, ALPN `http/1.1`),
//! optionally requiring client certificates (mTLS): [`TlsServer`] and [`serve_tls`].
//!
//! Not an authorizer: a client certificate is a transport gate (no valid certificate, no
//! connection); bearer tokens still decide what a request may do. The verified chain is put in
//! each request's extensions as [`PeerCertificates`] for a service's own middleware.
//!
//! ```no_run
//! use stellaops_telemetry_core::tls::ServerTlsConfig;
//! use stellaops_telemetry_http::TlsServer;
//! # async fn run(router: axum::Router) -> Result<(), Box<dyn std::error::Error>> {
//! let tls = ServerTlsConfig::from_files("/etc/stellaops/router.pem", "/etc/stellaops/router-key.pem")
//!     // mTLS: only clients with a certificate signed by this CA may connect
//!     .client_ca_file("/etc/stellaops/clients-ca.pem");
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8443").await?;
//! TlsServer::new(&tls)?.serve(listener, router).await?;
//! # Ok(())
//! # }
//! ```

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use stellaops_telemetry_core::tls::{ServerTlsConfig, TlsError};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::CertificateDer;

/// The tracing target of connection-level events (failed handshakes, accept errors).
pub const TLS_LOG_TARGET: &str = "telemetry.http.tls";

/// The ALPN protocol the server offers: the router speaks HTTP/1.1.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// How long a client may take to finish its TLS handshake before it is dropped.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The certificate chain a client presented and rustls verified against the client CA
/// (end-entity first). Present in a request's extensions only on a connection whose client
/// sent a certificate ([`ServerTlsConfig::client_ca_file`]).
///
/// The router itself authorizes by bearer token; a service's middleware may use this, e.g. to
/// pin client fingerprints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerCertificates(Arc<[CertificateDer<'static>]>);

impl PeerCertificates {
    /// The chain, end-entity certificate first (DER).
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        &self.0
    }

    /// The client's own certificate (DER).
    pub fn end_entity(&self) -> Option<&CertificateDer<'static>> {
        self.0.first()
    }

    /// The SHA-256 of the end-entity certificate's DER, lower-case hex (what
    /// `openssl x509 -noout -fingerprint -sha256` prints, without the colons).
    pub fn sha256_fingerprint(&self) -> Option<String> {
        use sha2::{Digest as _, Sha256};
        self.end_entity()
            .map(|cert| hex::encode(Sha256::digest(cert.as_ref())))
    }
}

/// Serves an axum [`Router`] over TLS: accepts TCP connections, runs each one (handshake and
/// HTTP/1.1) in its own task, so a slow or misbehaving client never blocks the others.
/// Failed handshakes are logged at WARN (target [`TLS_LOG_TARGET`], code
/// `telemetry.http.tls_handshake_failed`) and never stop the server.
///
/// Requests carry [`ConnectInfo<SocketAddr>`] (the client's address) and, on mTLS connections,
/// [`PeerCertificates`] in their extensions.
#[derive(Clone)]
pub struct TlsServer {
    acceptor: TlsAcceptor,
    handshake_timeout: Duration,
}

impl std::fmt::Debug for TlsServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsServer")
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl TlsServer {
    /// Reads the certificate, key and optional client CA of `tls` and builds the rustls
    /// configuration (ALPN `http/1.1`).
    ///
    /// # Errors
    /// [`TlsError`] (`telemetry.tls.*`) naming the file and the setting it came from.
    pub fn new(tls: &ServerTlsConfig) -> Result<Self, TlsError> {
        let config = tls.build_server(&[ALPN_HTTP11])?;
        Ok(Self::from_rustls(Arc::new(config)))
    }

    /// A server with a rustls configuration built elsewhere (its ALPN list should offer
    /// `http/1.1` or nothing: the router speaks HTTP/1.1 only).
    pub fn from_rustls(config: Arc<rustls::ServerConfig>) -> Self {
        Self {
            acceptor: TlsAcceptor::from(config),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// How long a client may take to complete its handshake (default
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`]); a slower one is dropped and logged.
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Serves `router` on `listener` until the listener fails for good.
    ///
    /// # Errors
    /// Never in practice: errors accepting a connection are logged and retried; the result
    /// type leaves room for a listener that cannot go on.
    pub async fn serve(self, listener: TcpListener, router: Router) -> std::io::Result<()> {
        self.serve_with_shutdown(listener, router, std::future::pending())
            .await
    }

    /// Serves `router` on `listener` until `shutdown` completes, then stops accepting new
    /// connections (connections already open finish in their own tasks).
    ///
    /// # Errors
    /// See [`TlsServer::serve`].
    pub async fn serve_with_shutdown(
        self,
        listener: TcpListener,
        router: Router,
        shutdown: impl Future<Output = ()> + Send,
    ) -> std::io::Result<()> {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let accepted = tokio::select! {
                () = &mut shutdown => return Ok(()),
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((tcp, peer)) => {
                    let connection = self.clone().connection(tcp, peer, router.clone());
                    tokio::spawn(connection);
                }
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(
                        target: TLS_LOG_TARGET,
                        code = "telemetry.http.accept_failed",
                        error = %e,
                        "accepting a connection failed; retrying in 1s"
                    );
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// One connection: handshake (bounded), then HTTP/1.1 until the client is done.
    async fn connection(self, tcp: TcpStream, peer: SocketAddr, router: Router) {
        let _ = tcp.set_nodelay(true);
        let tls =
            match tokio::time::timeout(self.handshake_timeout, self.acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    tracing::warn!(
                        target: TLS_LOG_TARGET,
                        code = "telemetry.http.tls_handshake_failed",
                        peer = %peer,
                        error = %e,
                        "TLS handshake with {peer} failed: {e}"
                    );
                    return;
                }
                Err(_) => {
                    tracing::warn!(
                        target: TLS_LOG_TARGET,
                        code = "telemetry.http.tls_handshake_failed",
                        peer = %peer,
                        "TLS handshake with {peer} did not finish within {:?}",
                        self.handshake_timeout
                    );
                    return;
                }
            };
        let certificates = tls.get_ref().1.peer_certificates().map(|chain| {
            PeerCertificates(
                chain
                    .iter()
                    .map(|c| c.clone().into_owned())
                    .collect::<Vec<_>>()
                    .into(),
            )
        });
        let service = hyper::service::service_fn(move |mut request: http::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            if let Some(certificates) = &certificates {
                request.extensions_mut().insert(certificates.clone());
            }
            let mut router = router.clone();
            tower_service::Service::call(&mut router, request)
        });
        let served = hyper::server::conn::http1::Builder::new()
            // with a timer, hyper drops a client that does not send its headers within 30 s
            .timer(TokioTimer::new())
            .serve_connection(TokioIo::new(tls), service)
            .await;
        if let Err(e) = served {
            tracing::debug!(target: TLS_LOG_TARGET, peer = %peer, error = %e, "connection ended with an error");
        }
    }
}

/// Serves `router` on `listener` over TLS configured by `tls` (see [`TlsServer`]).
///
/// The configuration is read before anything is served, so a bad certificate file fails here,
/// not at the first connection.
///
/// # Errors
/// [`TlsError`] when the certificate, key or client CA cannot be read or used.
pub fn serve_tls(
    listener: TcpListener,
    router: Router,
    tls: &ServerTlsConfig,
) -> Result<impl Future<Output = std::io::Result<()>> + Send + 'static, TlsError> {
    let server = TlsServer::new(tls)?;
    Ok(server.serve(listener, router))
}

/// Errors that concern one connection only (the client went away before it was accepted).
fn is_connection_error(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}
