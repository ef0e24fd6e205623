//! The span path of start-up: the tail sampling configuration (checked before any thread
//! starts), the incident controller, the tail sampler, the span layer with its housekeeping
//! thread, and what incidents change (the export interval, spool holds).
//!
//! Not the sampling rules (`crate::sampling`) nor span recording (`crate::span_layer`).

use super::defaults::{FORENSIC_EXPORT_INTERVAL, millis};
use super::error::{InitError, thread_error};
use super::export_workers::ExportWorkers;
use crate::incident::{IncidentController, IncidentEvent};
use crate::metrics::MetricCatalogue;
use crate::sampling::{Clock, DEFAULT_HOUSEKEEPING, SamplingConfig, TailSampler};
use crate::settings::Settings;
use crate::span_layer::{IdGenerator, SpanLayer, SpanRecord};
use crate::spool::SpoolSlot;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tracing::dispatcher::WeakDispatch;

/// The tail sampling configuration: `config` (default: [`SamplingConfig::default`] with the
/// profile's ratio and slow threshold), with `ratio` over it.
///
/// # Errors
/// [`InitError::Sampling`] when the configuration is unusable.
pub(super) fn sampling_config(
    settings: &Settings,
    config: Option<SamplingConfig>,
    ratio: Option<f64>,
) -> Result<SamplingConfig, InitError> {
    let mut sampling = config.unwrap_or_else(|| SamplingConfig {
        ratio: settings.profile.trace_sampling_ratio,
        slow_threshold: settings.profile.slow_trace_threshold,
        ..SamplingConfig::default()
    });
    if let Some(ratio) = ratio {
        sampling.ratio = ratio;
    }
    sampling.validate()?;
    Ok(sampling)
}

/// The running span path.
pub(super) struct SpanPath {
    pub(super) incidents: IncidentController,
    pub(super) sampler: Arc<TailSampler<SpanRecord>>,
    pub(super) span_layer: SpanLayer,
    /// The metrics export interval in force, in milliseconds.
    pub(super) export_interval: Arc<AtomicU64>,
    /// Where the service's dispatcher goes once it exists: the housekeeping thread expires
    /// incidents, and their audit events go to the service's subscriber (a weak handle: the
    /// subscriber owns the span layer).
    pub(super) tick_dispatch: Arc<OnceLock<WeakDispatch>>,
}

impl SpanPath {
    /// Starts the span path: the incident controller and the tail sampler on `clock`
    /// (default: the system's), spans exported through `workers.traces`, ids from `id_seed`
    /// (default: random), and the housekeeping thread.
    ///
    /// # Errors
    /// [`InitError::Sampling`] when `sampling` is unusable, [`InitError::Thread`] when the
    /// housekeeping thread cannot start.
    pub(super) fn start(
        settings: &Settings,
        sampling: SamplingConfig,
        clock: Arc<dyn Clock>,
        id_seed: Option<u64>,
        catalogue: &MetricCatalogue,
        workers: &ExportWorkers,
        spool: &SpoolSlot,
    ) -> Result<Self, InitError> {
        let sampling_clock = clock;
        let incidents = IncidentController::with_metrics(sampling_clock.clone(), catalogue);
        let export_interval = Arc::new(AtomicU64::new(millis(settings.profile.export_interval)));
        let sampler = Arc::new(
            TailSampler::new(sampling, sampling_clock.clone())?
                .with_forensic(Arc::new(incidents.clone()))
                .with_metrics(catalogue),
        );
        follow_incidents_in_export_interval(
            &incidents,
            workers.clone(),
            export_interval.clone(),
            settings.profile.export_interval,
        );
        hold_spool_segments_of_incidents(&incidents, spool.clone());
        let tick_incidents = incidents.clone();
        let tick_dispatch: Arc<OnceLock<WeakDispatch>> = Arc::default();
        let tick_target = tick_dispatch.clone();
        let span_layer = SpanLayer::new(
            sampler.clone(),
            workers.traces.clone(),
            sampling_clock.clone(),
            id_seed.map_or_else(IdGenerator::random, IdGenerator::seeded),
        )
        .with_incidents(incidents.clone());
        span_layer
            .start_housekeeping(
                DEFAULT_HOUSEKEEPING,
                Some(Arc::new(move || {
                    if !tick_incidents.any_active() {
                        return;
                    }
                    match tick_target.get().and_then(|d| d.upgrade()) {
                        Some(d) => tracing::dispatcher::with_default(&d, || {
                            tick_incidents.expire_due();
                        }),
                        None => {
                            tick_incidents.expire_due();
                        }
                    }
                })),
            )
            .map_err(thread_error("sampler"))?;
        Ok(Self {
            incidents,
            sampler,
            span_layer,
            export_interval,
            tick_dispatch,
        })
    }
}

/// Exports every [`FORENSIC_EXPORT_INTERVAL`] (or the `base` interval when shorter) while any
/// incident is active; restores `base` when the last ends. `current` shows the interval in
/// force.
fn follow_incidents_in_export_interval(
    incidents: &IncidentController,
    workers: ExportWorkers,
    current: Arc<AtomicU64>,
    base: Duration,
) {
    let active = AtomicUsize::new(0);
    incidents.observe(Box::new(move |event: &IncidentEvent| {
        let before = match event {
            IncidentEvent::Activated { .. } => active.fetch_add(1, Ordering::SeqCst),
            IncidentEvent::Stopped { .. } | IncidentEvent::Expired { .. } => active
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    Some(n.saturating_sub(1))
                })
                .unwrap_or(0),
            IncidentEvent::Extended { .. } => return,
        };
        let now = active.load(Ordering::SeqCst);
        let interval = match (before, now) {
            (0, 1..) => base.min(FORENSIC_EXPORT_INTERVAL),
            (1.., 0) => base,
            _ => return,
        };
        current.store(millis(interval), Ordering::SeqCst);
        workers.set_interval(interval);
    }));
}

/// Spool segments that overlap an incident keep the forensic retention (180 days from their
/// end): every activation or extension becomes a persisted hold.
fn hold_spool_segments_of_incidents(incidents: &IncidentController, holds: SpoolSlot) {
    incidents.observe(Box::new(move |event: &IncidentEvent| {
        if !matches!(
            event,
            IncidentEvent::Activated { .. } | IncidentEvent::Extended { .. }
        ) {
            return;
        }
        // Opens the spool when nothing has written to it yet, so the hold is on
        // disk before the incident's data arrives.
        let held = holds
            .get_or_open()
            .and_then(|spool| spool.add_hold(event.tenant(), event.started_at(), event.ends_at()));
        if let Err(e) = held {
            tracing::warn!(
                target: "stellaops_telemetry::incident",
                tenant = event.tenant(),
                code = e.code(),
                "telemetry.incident.hold_failed: {e}"
            );
        }
    }));
}
