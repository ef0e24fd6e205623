//! An in-test OTLP gRPC receiver built on opentelemetry-proto's tonic server stubs.
//!
//! The collector re-exports to it, so tests see exactly what the collector accepted and
//! forwarded. It is not a collector: it stores requests in memory and answers success.

use crate::error::PeerError;
use crate::received::Received;
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
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use stellaops_telemetry_model::sync::{lock, wait_timeout};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

/// Collectors compress by default (rotel ignores `--otlp-exporter-compression none` for some
/// signals), so the sink accepts gzip like a real collector does.
const GZIP: CompressionEncoding = CompressionEncoding::Gzip;

#[derive(Default)]
struct Shared {
    received: Mutex<Received>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Received> {
        lock(&self.received)
    }

    fn push(&self, f: impl FnOnce(&mut Received)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }
}

#[derive(Clone)]
struct Receiver(Arc<Shared>);

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        self.0.push(|r| r.traces.push(request.into_inner()));
        Ok(Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        self.0.push(|r| r.metrics.push(request.into_inner()));
        Ok(Response::new(ExportMetricsServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl LogsService for Receiver {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let arrived = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        self.0.push(|r| {
            r.logs.push(request.into_inner());
            r.log_arrivals.push(arrived);
        });
        Ok(Response::new(ExportLogsServiceResponse::default()))
    }
}

/// An OTLP gRPC receiver on a free loopback port, running on its own Tokio runtime thread.
/// Dropping it stops the server.
pub struct OtlpSink {
    shared: Arc<Shared>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for OtlpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpSink")
            .field("addr", &self.addr)
            .finish()
    }
}

impl OtlpSink {
    /// Starts the receiver on a free port of 127.0.0.1.
    ///
    /// # Errors
    /// Fails when the runtime or the listening socket cannot be created.
    pub fn start() -> Result<Self, PeerError> {
        let io = |action: &str| {
            let action = action.to_owned();
            move |source| PeerError::Io {
                peer: "otlp sink",
                action,
                source,
            }
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(io("build runtime"))?;
        let std_listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .map_err(io("bind 127.0.0.1:0"))?;
        std_listener
            .set_nonblocking(true)
            .map_err(io("set non-blocking"))?;
        let addr = std_listener.local_addr().map_err(io("local address"))?;
        let shared = Arc::new(Shared::default());
        let receiver = Receiver(shared.clone());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), std::io::Error>>();
        let thread = std::thread::Builder::new()
            .name("otlp-sink".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(std_listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
                    let _ = tonic::transport::Server::builder()
                        .add_service(
                            TraceServiceServer::new(receiver.clone()).accept_compressed(GZIP),
                        )
                        .add_service(
                            MetricsServiceServer::new(receiver.clone()).accept_compressed(GZIP),
                        )
                        .add_service(LogsServiceServer::new(receiver).accept_compressed(GZIP))
                        .serve_with_incoming_shutdown(incoming, async {
                            let _ = rx.await;
                        })
                        .await;
                });
            })
            .map_err(io("spawn thread"))?;
        match ready_rx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(io("register listener")(e)),
            Err(_) => {
                return Err(PeerError::BadOutput {
                    peer: "otlp sink",
                    detail: "server thread ended before it was ready".into(),
                });
            }
        }
        Ok(Self {
            shared,
            addr,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// The `http://127.0.0.1:PORT` endpoint to export to with OTLP gRPC.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the receiver listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A snapshot of everything received so far.
    pub fn received(&self) -> Received {
        self.shared.lock().clone()
    }

    /// Forgets everything received so far.
    pub fn clear(&self) {
        *self.shared.lock() = Received::default();
    }

    /// Waits until `check` returns `Some` on what has been received, or `timeout` passes.
    /// `check` runs again whenever a new request arrives (no polling).
    ///
    /// # Errors
    /// [`PeerError::Timeout`] naming `what` and summarising what did arrive.
    pub fn wait_for<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&Received) -> Option<T>,
    ) -> Result<T, PeerError> {
        let deadline = Instant::now() + timeout;
        let mut guard = self.shared.lock();
        loop {
            if let Some(found) = check(&guard) {
                return Ok(found);
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(PeerError::Timeout {
                    what: what.to_owned(),
                    waited: timeout,
                    seen: guard.summary(),
                });
            }
            guard = wait_timeout(&self.shared.changed, guard, deadline - now).0;
        }
    }
}

impl Drop for OtlpSink {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
