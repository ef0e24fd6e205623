//! Where one signal's export requests go: OTLP to a collector when the egress guard allows
//! the endpoint, else (and whenever the collector fails) the local file exporter.
//!
//! The route is decided when the worker starts and again whenever sealing changes, before the
//! next request: once sealed, no connection to a non-local collector is even attempted.

use super::file::{DEFAULT_KEEP_FILES, DEFAULT_ROTATE_BYTES, OtlpFileWriter};
use super::otlp::{ExportRequest, OtlpClient};
use crate::metrics::MetricCatalogue;
use crate::settings::{OtlpTarget, Protocol, Signal};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use stellaops_egress_policy::{EgressGuard, EgressRequest, Endpoint, SealedMode};

/// Component name used in egress requests and warnings.
pub const EXPORTER_COMPONENT: &str = "telemetry-core";

enum Route {
    Otlp(Box<OtlpClient>),
    File,
}

/// The destination of one signal (owned by its export worker thread).
pub struct Destination {
    signal: Signal,
    target: Option<OtlpTarget>,
    guard: Arc<EgressGuard>,
    sealed: Option<SealedMode>,
    generation: u64,
    route: Option<Route>,
    file_path: PathBuf,
    file: Option<OtlpFileWriter>,
    file_failing: bool,
    otlp_failing: bool,
    catalogue: Arc<MetricCatalogue>,
    runtime: Option<tokio::runtime::Runtime>,
    timeout: Duration,
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destination")
            .field("signal", &self.signal)
            .field("target", &self.target)
            .field("file_path", &self.file_path)
            .finish_non_exhaustive()
    }
}

impl Destination {
    /// A destination for `signal`: OTLP `target` if given and allowed, the file
    /// `<spool_dir>/<signal>.otlp` otherwise.
    pub fn new(
        signal: Signal,
        target: Option<OtlpTarget>,
        guard: Arc<EgressGuard>,
        sealed: Option<SealedMode>,
        spool_dir: &std::path::Path,
        catalogue: Arc<MetricCatalogue>,
        timeout: Duration,
    ) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .ok();
        Self {
            signal,
            target,
            guard,
            generation: sealed.as_ref().map_or(0, SealedMode::generation),
            sealed,
            route: None,
            file_path: spool_dir.join(format!("{}.otlp", signal.as_str())),
            file: None,
            file_failing: false,
            otlp_failing: false,
            catalogue,
            runtime,
            timeout,
        }
    }

    /// Decides the route now if it is not decided yet (the first delivery does it otherwise).
    pub fn start(&mut self) {
        if self.route.is_none() {
            self.decide();
        }
    }

    /// Whether requests currently go to a collector (`true`) or to the file (`false`).
    pub fn is_otlp(&self) -> bool {
        matches!(self.route, Some(Route::Otlp(_)))
    }

    fn exporter_name(&self) -> &'static str {
        match (&self.route, self.target.as_ref().map(|t| t.protocol)) {
            (Some(Route::Otlp(_)), Some(Protocol::Grpc)) => "otlp-grpc",
            (Some(Route::Otlp(_)), _) => "otlp-http",
            _ => "file",
        }
    }

    /// Decides the route through the egress guard (which warns once per refused exporter).
    fn decide(&mut self) {
        self.route = Some(Route::File);
        let Some(target) = &self.target else { return };
        let request = EgressRequest::new(
            EXPORTER_COMPONENT,
            self.signal,
            Endpoint::parse(&target.endpoint),
        )
        .with_intent("otlp-export");
        if !self.guard.decide(&request).allowed() {
            return;
        }
        let Some(runtime) = &self.runtime else { return };
        let _entered = runtime.enter();
        match OtlpClient::new(target, self.timeout) {
            Ok(client) => self.route = Some(Route::Otlp(Box::new(client))),
            Err(e) => tracing::warn!(
                signal = self.signal.as_str(),
                error = %e,
                remediation = "fix the OTLP endpoint; telemetry is written to the local file exporter meanwhile",
                "OTLP exporter could not be created"
            ),
        }
    }

    fn refresh(&mut self) {
        if let Some(sealed) = &self.sealed {
            let now = sealed.generation();
            if now != self.generation {
                self.generation = now;
                self.decide();
            }
        }
    }

    /// Sends one request: to the collector if allowed (falling back to the file when the
    /// collector fails, so nothing accepted is lost), else to the file.
    pub fn deliver(&mut self, request: &ExportRequest) {
        self.start();
        self.refresh();
        if let (Some(Route::Otlp(client)), Some(runtime)) = (&self.route, &self.runtime) {
            match runtime.block_on(client.send(request)) {
                Ok(()) => {
                    if self.otlp_failing {
                        self.otlp_failing = false;
                        tracing::info!(
                            signal = self.signal.as_str(),
                            endpoint = client.endpoint(),
                            "OTLP export resumed"
                        );
                    }
                    return;
                }
                Err(e) => {
                    let exporter = self.exporter_name();
                    self.catalogue
                        .collector_export_failures(self.signal.as_str(), exporter)
                        .inc();
                    self.catalogue
                        .otlp_export_failures(self.signal.as_str())
                        .inc();
                    if !self.otlp_failing {
                        self.otlp_failing = true;
                        tracing::warn!(
                            signal = self.signal.as_str(),
                            endpoint = client.endpoint(),
                            error = %e,
                            spool = %self.file_path.display(),
                            remediation = "check that the collector is running and reachable; failed batches are kept in the spool file",
                            "OTLP export failed"
                        );
                    }
                }
            }
        }
        self.write_file(request);
    }

    fn write_file(&mut self, request: &ExportRequest) {
        if self.file.is_none() {
            match OtlpFileWriter::open(&self.file_path, DEFAULT_ROTATE_BYTES, DEFAULT_KEEP_FILES) {
                Ok(w) => self.file = Some(w),
                Err(e) => return self.file_failed(&e),
            }
        }
        if let Some(writer) = &mut self.file {
            if let Err(e) = writer.append(&request.encode()) {
                self.file_failed(&e);
            } else {
                self.file_failing = false;
            }
        }
    }

    fn file_failed(&mut self, error: &dyn std::fmt::Display) {
        self.catalogue
            .collector_export_failures(self.signal.as_str(), "file")
            .inc();
        if !self.file_failing {
            self.file_failing = true;
            tracing::error!(
                signal = self.signal.as_str(),
                path = %self.file_path.display(),
                error = %error,
                remediation = "make the spool directory writable by the service only (mode 0700) and its files 0600",
                "telemetry file export failed"
            );
        }
    }

    /// Flushes the file to disk.
    pub fn sync(&mut self) {
        if let Some(writer) = &mut self.file {
            let _ = writer.sync();
        }
    }
}
