//! The spool stage of start-up: the one spool slot every destination shares, its metrics,
//! and whether exports also keep a spool copy; the spool is opened now when it is sure to be
//! used, otherwise on the first fallback write.
//!
//! Not the spool itself (`crate::spool`).

use super::error::InitError;
use crate::profile::ExporterKind;
use crate::settings::{Settings, Signal};
use crate::spool::{SpoolConfig, SpoolMetrics, SpoolSlot};
use prometheus_client::registry::Registry;
use std::sync::{Arc, Mutex};
use stellaops_telemetry_model::clock::Clock;
use stellaops_telemetry_model::sync::lock;

/// The spool as start-up leaves it.
pub(super) struct SpoolSetup {
    /// The slot (open, or opened on first use).
    pub(super) slot: SpoolSlot,
    /// Whether the spool also keeps what an OTLP collector accepted.
    pub(super) copy: bool,
}

impl SpoolSetup {
    /// Registers the spool's metrics in `registry` and makes its slot with `config` (default:
    /// the profile's) and `clock` (default: the system's); `copy` overrides the profile's
    /// spool copy. Opens the spool now when the file exporter, a signal without a collector,
    /// the spool copy or an explicit `config` will write to it.
    ///
    /// # Errors
    /// [`InitError::Spool`] when the spool must open and cannot.
    pub(super) fn open(
        settings: &Settings,
        registry: &Mutex<Registry>,
        config: Option<SpoolConfig>,
        clock: Arc<dyn Clock>,
        copy: Option<bool>,
    ) -> Result<Self, InitError> {
        let spool_metrics = SpoolMetrics::default();
        spool_metrics.register(&mut lock(registry));
        let spool_copy = copy.unwrap_or(settings.profile.spool_copy);
        let explicit_config = config.is_some();
        let spool = SpoolSlot::new(
            settings.spool_dir.clone(),
            config.unwrap_or_else(|| SpoolConfig::for_profile(&settings.profile)),
            clock,
            spool_metrics,
        );
        // Opened now when it is sure to be used; otherwise on the first fallback write.
        let some_signal_without_collector = [Signal::Traces, Signal::Metrics, Signal::Logs]
            .iter()
            .any(|signal| !settings.otlp.contains_key(signal));
        if settings.profile.exporter == ExporterKind::File
            || some_signal_without_collector
            || spool_copy
            || explicit_config
        {
            spool.get_or_open()?;
        }
        Ok(Self {
            slot: spool,
            copy: spool_copy,
        })
    }
}
