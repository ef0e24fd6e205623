//! The running telemetry handle ([`Telemetry`]): metrics registry and rendering, the
//! run-time switches (level, sealed mode, export interval, incidents), spool captures, flush
//! and shutdown (also on drop).
//!
//! Not start-up (`builder` and its stages).

use super::defaults::{DEFAULT_SHUTDOWN_TIMEOUT, millis};
use super::export_workers::ExportWorkers;
use crate::incident::IncidentController;
use crate::level::DynamicLevel;
use crate::logging::LogProcessor;
use crate::metrics::{MetricCatalogue, encode_openmetrics, encode_prometheus_text};
use crate::pipeline::FLUSH_TIMEOUT;
use crate::sampling::{SamplerStats, TailSampler};
use crate::settings::Settings;
use crate::span_layer::{SpanLayer, SpanRecord};
use crate::spool::{Capture, Spool, SpoolSlot};
use crate::window::Window;
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stellaops_egress_policy::{EgressGuard, SealedMode};
use stellaops_redaction::{RedactionPolicy, Redactor};
use stellaops_telemetry_model::sync::lock;

/// Running telemetry. Keep it for the life of the service: dropping it flushes every signal
/// and stops the export threads (bounded by [`DEFAULT_SHUTDOWN_TIMEOUT`] per signal).
pub struct Telemetry {
    pub(super) settings: Settings,
    pub(super) registry: Arc<Mutex<Registry>>,
    pub(super) catalogue: Arc<MetricCatalogue>,
    pub(super) level: DynamicLevel,
    pub(super) sealed: SealedMode,
    pub(super) egress: Arc<EgressGuard>,
    pub(super) redactor: Arc<Redactor>,
    pub(super) span_layer: SpanLayer,
    pub(super) log_processor: LogProcessor,
    pub(super) workers: ExportWorkers,
    pub(super) shut_down: AtomicBool,
    pub(super) spool: SpoolSlot,
    pub(super) incidents: IncidentController,
    pub(super) sampler: Arc<TailSampler<SpanRecord>>,
    /// The metrics export interval in force, in milliseconds.
    pub(super) export_interval: Arc<AtomicU64>,
}

impl std::fmt::Debug for Telemetry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telemetry")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Telemetry {
    /// The resolved settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The metric catalogue: record standard and module metrics through it.
    pub fn metrics(&self) -> &MetricCatalogue {
        &self.catalogue
    }

    /// A shared handle to the catalogue.
    pub fn metrics_handle(&self) -> Arc<MetricCatalogue> {
        self.catalogue.clone()
    }

    /// Registers more metrics (a module's own, DORA metrics...) into the same registry, so
    /// they appear on `/metrics` and in OTLP pushes.
    pub fn register_metrics(&self, register: impl FnOnce(&mut Registry)) {
        register(&mut lock(&self.registry));
    }

    /// `/metrics` in the Prometheus text format 0.0.4.
    pub fn render_prometheus(&self) -> String {
        encode_prometheus_text(&lock(&self.registry)).unwrap_or_default()
    }

    /// `/metrics` in OpenMetrics text.
    pub fn render_openmetrics(&self) -> String {
        encode_openmetrics(&lock(&self.registry)).unwrap_or_default()
    }

    /// The run-time log level switch.
    pub fn log_level(&self) -> &DynamicLevel {
        &self.level
    }

    /// The sealed-mode switch (seal to stop all egress before the next export).
    pub fn sealed_mode(&self) -> &SealedMode {
        &self.sealed
    }

    /// The egress guard every exporter passes.
    pub fn egress(&self) -> &EgressGuard {
        &self.egress
    }

    /// The redactor every signal passes.
    pub fn redactor(&self) -> &Arc<Redactor> {
        &self.redactor
    }

    /// Changes how often metrics are exported (spans and logs follow at a 120th, 250 ms–1 s).
    pub fn set_export_interval(&self, interval: Duration) {
        self.export_interval
            .store(millis(interval), Ordering::SeqCst);
        self.workers.set_interval(interval);
    }

    /// The spool, when it is open (file exporter, spool copy, an explicit spool config, or
    /// after a collector failure made an export fall back to it).
    pub fn spool(&self) -> Option<&Spool> {
        self.spool.get()
    }

    /// A capture of `window` from the spool with this service's profile, the digest of its
    /// redaction policy and `telemetry_bundle_generation_seconds`; add a tenant, signers and
    /// config files, then write it. Without a spool, writing fails with
    /// `telemetry.capture.no_spool`. Call [`flush`](Self::flush) first to include what is
    /// still queued.
    pub fn capture(&self, window: Window) -> Capture {
        let mut capture = Capture::from_parts(self.spool.get().cloned(), window)
            .profile(self.settings.profile.name)
            .generation_metric(self.catalogue.bundle_generation());
        if let Some(digest) = redaction_policy_digest(self.redactor.policy()) {
            capture = capture.redaction_policy_digest(digest);
        }
        capture
    }

    /// The per-tenant forensic (incident) mode switch. Starting an incident keeps 100% of
    /// the tenant's traces, lets its debug events through, tags its log lines
    /// `incident=true` and exports every 10 s until the last incident ends.
    pub fn incidents(&self) -> &IncidentController {
        &self.incidents
    }

    /// The metrics export interval in force (the profile's,
    /// [`FORENSIC_EXPORT_INTERVAL`](crate::FORENSIC_EXPORT_INTERVAL) while an incident is
    /// active, or the last [`Self::set_export_interval`]).
    pub fn export_interval(&self) -> Duration {
        Duration::from_millis(self.export_interval.load(Ordering::SeqCst))
    }

    /// The tail sampler's counters and occupancy.
    pub fn sampler_stats(&self) -> SamplerStats {
        self.span_layer.deliver_pending();
        self.sampler.stats()
    }

    /// Exports everything recorded so far. Returns whether every signal finished in time.
    pub fn flush(&self) -> bool {
        let spans = self.span_layer.flush(FLUSH_TIMEOUT);
        self.log_processor.flush();
        let logs = self.workers.logs.flush(FLUSH_TIMEOUT);
        let metrics = self.workers.metrics.flush(FLUSH_TIMEOUT);
        spans && logs && metrics
    }

    /// Flushes and stops every signal, waiting at most `timeout` per signal. Called by drop;
    /// calling it earlier makes drop a no-op. Returns whether everything finished in time.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        if self.shut_down.swap(true, Ordering::SeqCst) {
            return true;
        }
        let spans = self.span_layer.shutdown(timeout);
        self.log_processor.shutdown();
        let logs = self.workers.logs.shutdown(timeout);
        let metrics = self.workers.metrics.shutdown(timeout);
        // A clean stop leaves sealed segments (a crash leaves `.open` ones, recovered at start).
        let spool = self.spool.get().is_none_or(|s| s.seal_all().is_ok());
        spans && logs && metrics && spool
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.shutdown(DEFAULT_SHUTDOWN_TIMEOUT);
    }
}

/// `sha256:<hex>` of the canonical JSON of the policy file.
fn redaction_policy_digest(policy: &RedactionPolicy) -> Option<String> {
    let value = serde_json::to_value(policy.to_file()).ok()?;
    let bytes = stellaops_dsse::canonical_json::to_canonical_json(&value).ok()?;
    Some(stellaops_bundle_format::manifest::sha256_digest(&bytes))
}
