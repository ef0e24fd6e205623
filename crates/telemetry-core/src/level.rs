//! The log level that can change at run time (profile, operator, incident mode): applied by
//! the log layer itself and, as a `tracing-subscriber` filter, to the span layer.
//!
//! While a tenant is in forensic mode (see [`crate::incident`]), its events pass at debug
//! level whatever the process level (the tenant comes from the event's `tenant` field or
//! the innermost span that recorded one).
//!
//! Not a per-target directive parser: one level for the process, plus the per-tenant
//! incident override.

use crate::incident::IncidentController;
use crate::profile::LogLevel;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};
use tracing_subscriber::registry::LookupSpan;

/// A level shared by every layer; cheap to clone, changed with [`DynamicLevel::set`].
#[derive(Debug, Clone)]
pub struct DynamicLevel(Arc<AtomicU8>, Option<IncidentController>);

/// The rank of `WARN`: the finest level that passes on an export thread.
const WARN_RANK: u8 = 1;
/// The rank of `DEBUG`: what tenants in forensic mode log at.
const DEBUG_RANK: u8 = 3;

fn rank(level: &tracing::Level) -> u8 {
    match *level {
        tracing::Level::ERROR => 0,
        tracing::Level::WARN => 1,
        tracing::Level::INFO => 2,
        tracing::Level::DEBUG => 3,
        tracing::Level::TRACE => 4,
    }
}

impl DynamicLevel {
    /// Starts at `level`.
    pub fn new(level: LogLevel) -> Self {
        Self(Arc::new(AtomicU8::new(rank(&level.to_tracing()))), None)
    }

    /// The same switch, letting the events of tenants in forensic mode through at debug
    /// level (per-tenant override). Clones made before this call do not have the override.
    #[must_use]
    pub fn with_incidents(mut self, incidents: IncidentController) -> Self {
        self.1 = Some(incidents);
        self
    }

    /// Whether an event at `level` of `tenant` passes (the process level, or debug for a
    /// tenant in forensic mode).
    pub fn enabled_for(&self, level: &tracing::Level, tenant: Option<&str>) -> bool {
        self.enabled(level)
            || (rank(level) <= DEBUG_RANK
                && tenant.is_some_and(|t| self.1.as_ref().is_some_and(|c| c.is_active(t))))
    }

    fn override_possible(&self, meta: &Metadata<'_>) -> bool {
        meta.is_event()
            && rank(meta.level()) <= DEBUG_RANK
            && self.1.as_ref().is_some_and(IncidentController::any_active)
    }

    /// Whether a span or event callsite may pass: at the level, or (events only) possibly
    /// through the forensic override, which [`Self::event_passes`] then decides.
    pub(crate) fn passes(&self, meta: &Metadata<'_>) -> bool {
        if rank(meta.level()) > WARN_RANK && crate::export::worker::on_export_thread() {
            return false;
        }
        self.enabled(meta.level()) || self.override_possible(meta)
    }

    /// Whether `event` passes: at the level, or below it (down to debug) when its tenant
    /// (`logging::tenant::event_tenant`) is in forensic mode.
    pub(crate) fn event_passes<S>(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let level = event.metadata().level();
        if self.enabled(level) {
            return true;
        }
        if !self.override_possible(event.metadata()) {
            return false;
        }
        let own = crate::logging::tenant::tenant_of_event(event);
        let tenant = crate::logging::tenant::event_tenant(event, cx, own.as_deref());
        self.enabled_for(level, tenant.as_deref())
    }

    /// Changes the level; takes effect for the next event or span.
    pub fn set(&self, level: LogLevel) {
        self.0.store(rank(&level.to_tracing()), Ordering::Relaxed);
    }

    /// The current level.
    pub fn get(&self) -> LogLevel {
        match self.0.load(Ordering::Relaxed) {
            0 => LogLevel::Error,
            1 => LogLevel::Warn,
            2 => LogLevel::Info,
            3 => LogLevel::Debug,
            _ => LogLevel::Trace,
        }
    }

    /// Whether something at `level` passes.
    pub fn enabled(&self, level: &tracing::Level) -> bool {
        rank(level) <= self.0.load(Ordering::Relaxed)
    }
}

impl<S> Filter<S> for DynamicLevel
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        self.passes(meta)
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        self.event_passes(event, cx)
    }

    fn callsite_enabled(&self, _meta: &'static Metadata<'static>) -> Interest {
        // The level changes at run time, so every callsite is asked each time.
        Interest::sometimes()
    }
}
