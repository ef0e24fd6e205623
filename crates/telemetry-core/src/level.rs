//! The log level that can change at run time (profile, operator, incident mode), as a
//! `tracing-subscriber` filter shared by the stdout, OTLP log and span layers.
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
        if rank(meta.level()) > WARN_RANK && crate::export::worker::on_export_thread() {
            return false;
        }
        DynamicLevel::enabled(self, meta.level()) || self.override_possible(meta)
    }

    fn event_enabled(&self, event: &Event<'_>, cx: &Context<'_, S>) -> bool {
        let level = event.metadata().level();
        if DynamicLevel::enabled(self, level) {
            return true;
        }
        if !self.override_possible(event.metadata()) {
            return false;
        }
        let tenant = crate::logging::tenant_of_event(event)
            .or_else(|| crate::logging::scope_tenant(event, cx));
        self.enabled_for(level, tenant.as_deref())
    }

    fn callsite_enabled(&self, _meta: &'static Metadata<'static>) -> Interest {
        // The level changes at run time, so every callsite is asked each time.
        Interest::sometimes()
    }
}

/// The same switch as a global filter: placed under every other layer (`init` does), it
/// decides once per span or event for all of them, without the per-layer filter bookkeeping
/// of `Filtered` (a thread-local bitmap per callsite check and per span).
impl<S> tracing_subscriber::Layer<S> for DynamicLevel
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, _meta: &'static Metadata<'static>) -> Interest {
        // The level changes at run time, so every callsite is asked each time.
        Interest::sometimes()
    }

    fn enabled(&self, meta: &Metadata<'_>, cx: Context<'_, S>) -> bool {
        <Self as Filter<S>>::enabled(self, meta, &cx)
    }

    fn event_enabled(&self, event: &Event<'_>, cx: Context<'_, S>) -> bool {
        <Self as Filter<S>>::event_enabled(self, event, &cx)
    }
}
