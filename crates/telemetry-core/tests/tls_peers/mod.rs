//! TLS peers for the exporter tests: the testkit's run-time test PKI and OTLP receivers
//! over TLS — a tonic gRPC server and a hyper OTLP/HTTP server — that record what arrives and
//! which handshakes failed. Server TLS comes from `stellaops_telemetry_core::tls`.
#![allow(dead_code, unreachable_pub, missing_docs)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use stellaops_telemetry_core::tls::ServerTlsConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub use stellaops_telemetry_testkit::TestPki;

/// Server TLS from a test PKI.
pub trait ServerTls {
    /// Server TLS presenting the server certificate; `mtls` requires client certificates of
    /// this CA.
    fn server_tls(&self, mtls: bool) -> ServerTlsConfig;
}

impl ServerTls for TestPki {
    fn server_tls(&self, mtls: bool) -> ServerTlsConfig {
        let config =
            ServerTlsConfig::from_pem(self.server.cert_pem.clone(), self.server.key_pem.clone());
        if mtls {
            config.client_ca_pem(self.ca_pem.clone())
        } else {
            config
        }
    }
}

/// What a TLS receiver saw.
#[derive(Default, Debug)]
pub struct Seen {
    pub traces: Vec<ExportTraceServiceRequest>,
    pub logs: Vec<ExportLogsServiceRequest>,
    pub metrics: Vec<ExportMetricsServiceRequest>,
    pub handshakes_ok: usize,
    pub handshake_failures: Vec<String>,
}

impl Seen {
    pub fn span_names(&self) -> Vec<String> {
        self.traces
            .iter()
            .flat_map(|r| &r.resource_spans)
            .flat_map(|rs| &rs.scope_spans)
            .flat_map(|ss| &ss.spans)
            .map(|s| s.name.clone())
            .collect()
    }

    pub fn log_bodies(&self) -> Vec<String> {
        self.logs
            .iter()
            .flat_map(|r| &r.resource_logs)
            .flat_map(|rl| &rl.scope_logs)
            .flat_map(|sl| &sl.log_records)
            .filter_map(|l| l.body.as_ref())
            .map(|b| format!("{:?}", b.value))
            .collect()
    }

    pub fn items(&self) -> usize {
        self.traces.len() + self.logs.len() + self.metrics.len()
    }
}

#[derive(Default)]
struct Shared {
    seen: Mutex<Seen>,
    changed: Condvar,
}

impl Shared {
    fn push(&self, f: impl FnOnce(&mut Seen)) {
        f(&mut self.seen.lock().unwrap());
        self.changed.notify_all();
    }
}

#[derive(Clone)]
struct Receiver(Arc<Shared>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.0.push(|s| s.traces.push(request.into_inner()));
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.0.push(|s| s.logs.push(request.into_inner()));
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.0.push(|s| s.metrics.push(request.into_inner()));
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// A server-side TLS connection that tonic can serve.
struct TlsConn(tokio_rustls::server::TlsStream<tokio::net::TcpStream>);

impl tonic::transport::server::Connected for TlsConn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for TlsConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.get_mut().0).poll_write(cx, buf)
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().0).poll_shutdown(cx)
    }
}

/// Which OTLP transport a receiver speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    Grpc,
    Http,
}

/// An OTLP receiver over TLS on a free loopback port. Dropping it stops it.
pub struct TlsReceiver {
    shared: Arc<Shared>,
    pub addr: SocketAddr,
    wire: Wire,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TlsReceiver {
    pub fn start(wire: Wire, tls: &ServerTlsConfig) -> Self {
        let alpn: &[&[u8]] = match wire {
            Wire::Grpc => &[b"h2"],
            Wire::Http => &[b"http/1.1"],
        };
        let config = Arc::new(tls.build_server(alpn).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let state = shared.clone();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
            let (tx, rx) = tokio::sync::mpsc::channel::<Result<TlsConn, std::io::Error>>(16);
            if wire == Wire::Grpc {
                let receiver = Receiver(state.clone());
                tokio::spawn(
                    tonic::transport::Server::builder()
                        .add_service(TraceServiceServer::new(receiver.clone()))
                        .add_service(LogsServiceServer::new(receiver.clone()))
                        .add_service(MetricsServiceServer::new(receiver))
                        .serve_with_incoming(tokio_stream::wrappers::ReceiverStream::new(rx)),
                );
            }
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let acceptor = acceptor.clone();
                let state = state.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    match acceptor.accept(tcp).await {
                        Ok(tls) => {
                            state.push(|s| s.handshakes_ok += 1);
                            match wire {
                                Wire::Grpc => {
                                    let _ = tx.send(Ok(TlsConn(tls))).await;
                                }
                                Wire::Http => serve_http(tls, state).await,
                            }
                        }
                        Err(e) => state.push(|s| s.handshake_failures.push(e.to_string())),
                    }
                });
            }
        });
        Self {
            shared,
            addr,
            wire,
            runtime: Some(runtime),
        }
    }

    /// The endpoint to configure: `https://<host>:<port>` (gRPC) or the base URL (HTTP).
    pub fn endpoint(&self, host: &str) -> String {
        format!("https://{host}:{}", self.addr.port())
    }

    /// Waits until `check` holds (or `timeout` passes) and returns its last answer.
    pub fn wait_until(&self, timeout: Duration, check: impl Fn(&Seen) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut seen = self.shared.seen.lock().unwrap();
        loop {
            if check(&seen) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            seen = self
                .shared
                .changed
                .wait_timeout(seen, deadline - now)
                .unwrap()
                .0;
        }
    }

    pub fn with_seen<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.shared.seen.lock().unwrap())
    }
}

impl Drop for TlsReceiver {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

async fn serve_http(
    tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    state: Arc<Shared>,
) {
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let state = state.clone();
        async move {
            let path = req.uri().path().to_owned();
            let body = req.into_body().collect().await?.to_bytes();
            let status = match path.as_str() {
                "/v1/traces" => match ExportTraceServiceRequest::decode(body) {
                    Ok(r) => {
                        state.push(|s| s.traces.push(r));
                        200
                    }
                    Err(_) => 400,
                },
                "/v1/logs" => match ExportLogsServiceRequest::decode(body) {
                    Ok(r) => {
                        state.push(|s| s.logs.push(r));
                        200
                    }
                    Err(_) => 400,
                },
                "/v1/metrics" => match ExportMetricsServiceRequest::decode(body) {
                    Ok(r) => {
                        state.push(|s| s.metrics.push(r));
                        200
                    }
                    Err(_) => 400,
                },
                _ => 404,
            };
            Ok::<_, hyper::Error>(
                hyper::Response::builder()
                    .status(status)
                    .header("content-type", "application/x-protobuf")
                    .body(Full::new(Bytes::new()))
                    .unwrap(),
            )
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
        .await;
}
