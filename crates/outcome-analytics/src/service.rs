//! The specification's `IOutcomeAnalyticsService` ([`OutcomeAnalyticsService`]), its
//! implementation over the DORA service's store ([`DoraOutcomeAnalyticsService`]), and
//! [`DoraAnalytics`], the one call that wires both over one store (the specification's
//! `AddDoraMetrics` registering outcome analytics too). Not for the computation itself: see
//! [`crate::report`].

use crate::error::OutcomeError;
use crate::report::{OutcomeExecutiveReport, ReportAccumulator};
use std::fmt;
use std::sync::Arc;
use stellaops_dora_metrics::{DoraMetricsService, DoraMetricsServiceBuilder, Scope, Window};

/// Produces executive outcome reports.
pub trait OutcomeAnalyticsService: Send + Sync + fmt::Debug {
    /// The report of `scope` (a tenant and optionally one environment) over `window`. The
    /// same stored events always give an identical report.
    ///
    /// # Errors
    /// [`OutcomeError::WindowTooLong`], or [`OutcomeError::Store`] when reading events fails.
    fn executive_report(
        &self,
        scope: &Scope,
        window: &Window,
    ) -> Result<OutcomeExecutiveReport, OutcomeError>;
}

/// Outcome analytics over the events a [`DoraMetricsService`] recorded: reads its store with
/// the same window selection as its summaries.
#[derive(Debug, Clone)]
pub struct DoraOutcomeAnalyticsService {
    dora: Arc<DoraMetricsService>,
}

impl DoraOutcomeAnalyticsService {
    /// Reports over `dora`'s store.
    pub fn new(dora: Arc<DoraMetricsService>) -> Self {
        Self { dora }
    }

    /// The DORA service whose events are reported.
    pub fn dora(&self) -> &Arc<DoraMetricsService> {
        &self.dora
    }
}

impl OutcomeAnalyticsService for DoraOutcomeAnalyticsService {
    fn executive_report(
        &self,
        scope: &Scope,
        window: &Window,
    ) -> Result<OutcomeExecutiveReport, OutcomeError> {
        let mut acc = ReportAccumulator::new(scope.clone(), *window)?;
        let store = self.dora.store();
        store.visit_deployments(scope, window, &mut |d| acc.add_deployment(d))?;
        store.visit_incidents(scope, window, &mut |i| acc.add_incident(i))?;
        Ok(acc.finish())
    }
}

/// The DORA metrics service and outcome analytics, wired over one store in one call.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use stellaops_outcome_analytics::{DoraAnalytics, OutcomeAnalyticsService};
/// use stellaops_dora_metrics::{Scope, Window};
///
/// let analytics = DoraAnalytics::new();
/// let at = |h| Utc.with_ymd_and_hms(2025, 3, 3, h, 0, 0).unwrap();
/// analytics.dora().deployment("d-1").tenant("acme").environment("prod")
///     .pipeline("Checkout API").committed_at(at(8)).deployed_at(at(10)).succeeded().record()?;
///
/// let window = Window::new(at(0), at(0) + chrono::TimeDelta::days(1))?;
/// let report = analytics.outcomes().executive_report(&Scope::environment("acme", "prod"), &window)?;
/// assert_eq!(report.pipelines[0].pipeline, "checkout-api");
/// assert_eq!(report.totals.median_lead_time_hours.map(|h| h.to_string()), Some("2.00".into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct DoraAnalytics {
    dora: Arc<DoraMetricsService>,
    outcomes: Arc<DoraOutcomeAnalyticsService>,
}

impl Default for DoraAnalytics {
    fn default() -> Self {
        Self::new()
    }
}

impl DoraAnalytics {
    /// Both services with the DORA defaults (in-memory store, system clock).
    pub fn new() -> Self {
        Self::with_dora(DoraMetricsService::builder())
    }

    /// Builds the DORA service from `builder` (its store, clock, options, thresholds) and
    /// outcome analytics over the same store.
    pub fn with_dora(builder: DoraMetricsServiceBuilder) -> Self {
        Self::over(Arc::new(builder.build()))
    }

    /// Outcome analytics over an existing DORA service.
    pub fn over(dora: Arc<DoraMetricsService>) -> Self {
        let outcomes = Arc::new(DoraOutcomeAnalyticsService::new(Arc::clone(&dora)));
        Self { dora, outcomes }
    }

    /// The DORA service (record events, summaries, metrics).
    pub fn dora(&self) -> &Arc<DoraMetricsService> {
        &self.dora
    }

    /// Outcome analytics over the same events.
    pub fn outcomes(&self) -> &Arc<DoraOutcomeAnalyticsService> {
        &self.outcomes
    }

    /// Outcome analytics as the trait object a service hands to its handlers.
    pub fn outcome_service(&self) -> Arc<dyn OutcomeAnalyticsService> {
        self.outcomes.clone()
    }

    /// Both services.
    pub fn into_parts(self) -> (Arc<DoraMetricsService>, Arc<DoraOutcomeAnalyticsService>) {
        (self.dora, self.outcomes)
    }
}
