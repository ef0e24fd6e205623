//! Where one signal's export requests go: OTLP to a collector when the egress guard allows
//! the endpoint, else (and whenever the collector fails) the spool; with spool copy on, the
//! spool also keeps a copy of what the collector accepted.
//!
//! The route is decided when the worker starts and again whenever sealing changes, before the
//! next request: once sealed, no connection to a non-local collector is even attempted.

use super::otlp::{ExportRequest, OtlpClient, OtlpTls};
use crate::metrics::MetricCatalogue;
use crate::settings::{OtlpTarget, Protocol, Signal};
use crate::spool::{SpoolConfig, SpoolSlot};
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
    spool: SpoolSlot,
    spool_copy: bool,
    file_failing: bool,
    otlp_failing: bool,
    catalogue: Arc<MetricCatalogue>,
    runtime: Option<tokio::runtime::Runtime>,
    timeout: Duration,
    tls: Option<OtlpTls>,
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destination")
            .field("signal", &self.signal)
            .field("target", &self.target)
            .field("spool", &self.spool.dir())
            .field("spool_copy", &self.spool_copy)
            .finish_non_exhaustive()
    }
}

impl Destination {
    /// A destination for `signal`: OTLP `target` if given and allowed, the spool in
    /// `spool_dir` (default [`SpoolConfig`], opened on first use) otherwise.
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
            spool: SpoolSlot::new(
                spool_dir.to_path_buf(),
                SpoolConfig::default(),
                Arc::new(crate::spool::SystemClock),
                crate::spool::SpoolMetrics::default(),
            ),
            spool_copy: false,
            file_failing: false,
            otlp_failing: false,
            catalogue,
            runtime,
            timeout,
            tls: None,
        }
    }

    /// Uses `tls` (CA bundle, client certificate, server name) for an `https://` endpoint;
    /// without it an `https://` endpoint trusts the `webpki-roots` CAs.
    pub fn with_tls(mut self, tls: Option<OtlpTls>) -> Self {
        self.tls = tls;
        self
    }

    /// Uses `spool` (shared with the other signals and `Telemetry::spool`) and, when
    /// `spool_copy`, also spools what the collector accepted.
    pub(crate) fn with_spool(mut self, spool: SpoolSlot, spool_copy: bool) -> Self {
        self.spool = spool;
        self.spool_copy = spool_copy;
        self
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
        match OtlpClient::with_tls(target, self.timeout, self.tls.as_ref()) {
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
                    if self.spool_copy {
                        self.write_file(request);
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
                            spool = %self.spool.dir().display(),
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
        // Every write also seals the other signals' segments that aged out while idle.
        let result = self.spool.get_or_open().and_then(|spool| {
            spool.append_request(request)?;
            spool.seal_expired().map(drop)
        });
        match result {
            Ok(()) => self.file_failing = false,
            Err(e) => {
                self.spool.metrics().write_failed(self.signal);
                self.file_failed(&e);
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
                path = %self.spool.dir().display(),
                error = %error,
                remediation = "make the spool directory writable by the service only (mode 0700) and its files 0600",
                "telemetry file export failed"
            );
        }
    }

    /// Flushes the spool to disk.
    pub fn sync(&mut self) {
        if let Some(spool) = self.spool.get() {
            let _ = spool.sync();
        }
    }
}
