//! [`DoraMetricsService`]: the specification's `IDoraMetricsService`. Records deployments and
//! incidents (builder API), keeps the Prometheus metrics and SLO breach counts current, and
//! computes summaries over a [`DoraStore`]. Not for the definitions themselves (see
//! [`crate::summary`]) or storage (see [`crate::store`]).

use crate::classification::ClassificationThresholds;
use crate::clock::{Clock, SystemClock};
use crate::error::DoraError;
use crate::event::{
    DeploymentBuilder, DeploymentEvent, DoraEvent, IncidentBuilder, IncidentEvent, IncidentUpdate,
};
use crate::hours::hours_between;
use crate::metrics::{DoraMetrics, MetricUnits};
use crate::slo::{DoraMetricsOptions, SloMetric};
use crate::store::{DoraStore, InMemoryDoraStore, Recorded};
use crate::summary::{DoraSummary, SummaryAccumulator};
use crate::window::{Scope, Window};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use stellaops_telemetry_model::sync::lock;

/// Records DORA events and answers DORA questions for many tenants and environments.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use stellaops_dora_metrics::{DoraMetricsService, Scope, Window};
///
/// let dora = DoraMetricsService::new();
/// let at = |h| Utc.with_ymd_and_hms(2025, 3, 3, h, 0, 0).unwrap();
/// dora.deployment("d-1")
///     .tenant("acme")
///     .environment("prod")
///     .pipeline("api")
///     .committed_at(at(8))
///     .deployed_at(at(10))
///     .succeeded()
///     .record()?;
/// let day = Window::new(at(0), at(0) + chrono::TimeDelta::days(1))?;
/// let summary = dora.summary(&Scope::environment("acme", "prod"), &day)?;
/// assert_eq!(summary.lead_time_median_hours, Some(2.0));
/// # Ok::<(), stellaops_dora_metrics::DoraError>(())
/// ```
#[derive(Debug)]
pub struct DoraMetricsService {
    store: Arc<dyn DoraStore>,
    clock: Arc<dyn Clock>,
    options: DoraMetricsOptions,
    thresholds: ClassificationThresholds,
    metrics: DoraMetrics,
    /// Per (tenant, environment): the end of the latest window whose SLO breaches were counted.
    counted_until: Mutex<HashMap<(String, String), DateTime<Utc>>>,
}

impl Default for DoraMetricsService {
    fn default() -> Self {
        Self::new()
    }
}

/// The result of [`DoraMetricsService::evaluate_window`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WindowEvaluation {
    /// The window's summary.
    pub summary: DoraSummary,
    /// The window-level SLOs breached (deployment frequency, change failure rate).
    pub breaches: Vec<SloMetric>,
    /// Whether the breaches were counted in `dora_slo_breach_total` (false when a window ending
    /// at or before this one was already counted for the tenant and environment).
    pub counted: bool,
}

/// An incident not yet resolved, with its age at the clock's "now".
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenIncident {
    /// The incident.
    pub incident: IncidentEvent,
    /// Hours from `startedAt` to now (0 if it starts in the future).
    pub open_hours: f64,
}

/// Configures a [`DoraMetricsService`].
#[derive(Debug)]
#[must_use = "call build() to get the service"]
pub struct DoraMetricsServiceBuilder {
    store: Arc<dyn DoraStore>,
    clock: Arc<dyn Clock>,
    options: DoraMetricsOptions,
    thresholds: ClassificationThresholds,
    units: MetricUnits,
}

impl DoraMetricsServiceBuilder {
    /// Where events are stored (default: a new [`InMemoryDoraStore`]).
    pub fn store(mut self, store: Arc<dyn DoraStore>) -> Self {
        self.store = store;
        self
    }

    /// Where "now" comes from (default: [`SystemClock`]).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// SLO targets (default: [`DoraMetricsOptions::default`]).
    pub fn options(mut self, options: DoraMetricsOptions) -> Self {
        self.options = options;
        self
    }

    /// Classification table (default: [`ClassificationThresholds::seed_default`]).
    pub fn thresholds(mut self, thresholds: ClassificationThresholds) -> Self {
        self.thresholds = thresholds;
        self
    }

    /// Unit of the duration histograms (default: [`MetricUnits::Hours`]).
    pub fn metric_units(mut self, units: MetricUnits) -> Self {
        self.units = units;
        self
    }

    /// The service.
    pub fn build(self) -> DoraMetricsService {
        DoraMetricsService {
            store: self.store,
            clock: self.clock,
            options: self.options,
            thresholds: self.thresholds,
            metrics: DoraMetrics::new(self.units),
            counted_until: Mutex::new(HashMap::new()),
        }
    }
}

impl DoraMetricsService {
    /// A service with an in-memory store, the system clock and all defaults.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// A builder with all defaults.
    pub fn builder() -> DoraMetricsServiceBuilder {
        DoraMetricsServiceBuilder {
            store: Arc::new(InMemoryDoraStore::new()),
            clock: Arc::new(SystemClock),
            options: DoraMetricsOptions::default(),
            thresholds: ClassificationThresholds::seed_default(),
            units: MetricUnits::default(),
        }
    }

    /// The store (for queries by other components such as outcome analytics).
    pub fn store(&self) -> &dyn DoraStore {
        self.store.as_ref()
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The SLO targets.
    pub fn options(&self) -> &DoraMetricsOptions {
        &self.options
    }

    /// The classification table.
    pub fn thresholds(&self) -> &ClassificationThresholds {
        &self.thresholds
    }

    /// The metric families; register them with [`DoraMetrics::register`].
    pub fn metrics(&self) -> &DoraMetrics {
        &self.metrics
    }

    /// Starts a deployment: `dora.deployment("d-1").tenant(..)…succeeded().record()?`.
    pub fn deployment(&self, deployment_id: impl Into<String>) -> DeploymentBuilder<&Self> {
        DeploymentBuilder::new(self, deployment_id.into())
    }

    /// Starts an incident: `dora.incident("i-1").tenant(..)…started_at(..).record()?`.
    pub fn incident(&self, incident_id: impl Into<String>) -> IncidentBuilder<&Self> {
        IncidentBuilder::new(self, incident_id.into())
    }

    /// Records a deployment. A new one is counted in `dora_deployments_total` (and
    /// `dora_deployment_failure_total`), observed in the lead-time histogram, and checked
    /// against the lead-time SLO; an identical repeat changes nothing.
    ///
    /// # Errors
    /// Validation errors, a conflicting duplicate, or a store failure.
    pub fn record_deployment(&self, deployment: &DeploymentEvent) -> Result<Recorded, DoraError> {
        deployment.validate()?;
        let recorded = self.store.insert_deployment(deployment)?;
        if recorded == Recorded::New {
            self.metrics.observe_deployment(deployment);
            if self
                .options
                .lead_time_breached(deployment.lead_time_hours())
            {
                self.metrics.count_slo_breach(
                    &deployment.tenant,
                    &deployment.environment,
                    SloMetric::LeadTime,
                );
            }
        }
        Ok(recorded)
    }

    /// Records an incident. A new incident that is already resolved is observed in the
    /// time-to-recovery histogram and checked against the MTTR SLO.
    ///
    /// # Errors
    /// Validation errors, a conflicting duplicate, or a store failure.
    pub fn record_incident(&self, incident: &IncidentEvent) -> Result<Recorded, DoraError> {
        incident.validate()?;
        let recorded = self.store.insert_incident(incident)?;
        if recorded == Recorded::New {
            self.on_resolved(incident);
        }
        Ok(recorded)
    }

    /// Records either kind of event.
    ///
    /// # Errors
    /// See [`record_deployment`](Self::record_deployment) and
    /// [`record_incident`](Self::record_incident).
    pub fn record(&self, event: &DoraEvent) -> Result<Recorded, DoraError> {
        match event {
            DoraEvent::Deployment(d) => self.record_deployment(d),
            DoraEvent::Incident(i) => self.record_incident(i),
        }
    }

    /// Marks a recorded incident acknowledged at `at`. Repeating the same time is a no-op.
    ///
    /// # Errors
    /// Unknown incident, acknowledgement before the start, a different acknowledgement time
    /// already recorded, or a store failure.
    pub fn acknowledge(
        &self,
        tenant: &str,
        environment: &str,
        incident_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Recorded, DoraError> {
        let (recorded, _) = self.store.update_incident(
            tenant,
            environment,
            incident_id,
            IncidentUpdate::Acknowledge(at),
        )?;
        Ok(recorded)
    }

    /// Marks a recorded incident resolved at `at`: observes its time to recovery and checks it
    /// against the MTTR SLO. Repeating the same time is a no-op.
    ///
    /// # Errors
    /// Unknown incident, resolution before the start, a different resolution time already
    /// recorded, or a store failure.
    pub fn resolve(
        &self,
        tenant: &str,
        environment: &str,
        incident_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Recorded, DoraError> {
        let (recorded, incident) = self.store.update_incident(
            tenant,
            environment,
            incident_id,
            IncidentUpdate::Resolve(at),
        )?;
        if recorded == Recorded::New {
            self.on_resolved(&incident);
        }
        Ok(recorded)
    }

    fn on_resolved(&self, incident: &IncidentEvent) {
        let Some(resolved_at) = incident.resolved_at else {
            return;
        };
        let hours = hours_between(incident.started_at, resolved_at);
        self.metrics
            .observe_recovery(&incident.tenant, &incident.environment, hours);
        if self.options.recovery_breached(hours) {
            self.metrics
                .count_slo_breach(&incident.tenant, &incident.environment, SloMetric::Mttr);
        }
    }

    /// The DORA summary of `scope` over `window`, classified with the service's table.
    /// Successful deployments after the window still end the recovery of a failure inside it.
    ///
    /// # Errors
    /// A store failure.
    pub fn summary(&self, scope: &Scope, window: &Window) -> Result<DoraSummary, DoraError> {
        let mut acc = SummaryAccumulator::new(*window);
        self.store
            .visit_deployments(scope, window, &mut |d| acc.add_deployment(d))?;
        if window.to() < DateTime::<Utc>::MAX_UTC {
            let after = Window::new(window.to(), DateTime::<Utc>::MAX_UTC)?;
            self.store
                .visit_deployments(scope, &after, &mut |d| acc.add_deployment(d))?;
        }
        self.store
            .visit_incidents(scope, window, &mut |i| acc.add_incident(i))?;
        Ok(acc.finish(&self.thresholds))
    }

    /// The deployments of `scope` in `window` (the same selection the summary uses).
    ///
    /// # Errors
    /// A store failure.
    pub fn deployments(
        &self,
        scope: &Scope,
        window: &Window,
    ) -> Result<Vec<DeploymentEvent>, DoraError> {
        self.store.deployments(scope, window)
    }

    /// The incidents of `scope` started in `window`.
    ///
    /// # Errors
    /// A store failure.
    pub fn incidents(
        &self,
        scope: &Scope,
        window: &Window,
    ) -> Result<Vec<IncidentEvent>, DoraError> {
        self.store.incidents(scope, window)
    }

    /// Incidents of `scope` not yet resolved, oldest first, with their age at the clock's now.
    ///
    /// # Errors
    /// A store failure.
    pub fn open_incidents(&self, scope: &Scope) -> Result<Vec<OpenIncident>, DoraError> {
        let now = self.clock.now();
        let mut open = Vec::new();
        self.store
            .visit_incidents(scope, &Window::all_time(), &mut |i| {
                if i.is_open() {
                    open.push(OpenIncident {
                        incident: i.clone(),
                        open_hours: if now > i.started_at {
                            hours_between(i.started_at, now)
                        } else {
                            0.0
                        },
                    });
                }
            })?;
        open.sort_by(|a, b| {
            (
                a.incident.started_at,
                &a.incident.incident_id,
                &a.incident.environment,
            )
                .cmp(&(
                    b.incident.started_at,
                    &b.incident.incident_id,
                    &b.incident.environment,
                ))
        });
        Ok(open)
    }

    /// Evaluates the window-level SLOs of one tenant and environment over `window`: sets the
    /// `dora_deployment_frequency_per_day` and `dora_change_failure_rate_percent` gauges, and
    /// counts each breached SLO once in `dora_slo_breach_total` — unless a window ending at or
    /// after `window.to()` was already counted for this tenant and environment (re-evaluating a
    /// window, or an older one, never counts twice). Call it when a window closes, e.g. daily
    /// with [`evaluate_previous_utc_day`](Self::evaluate_previous_utc_day).
    ///
    /// # Errors
    /// A store failure.
    pub fn evaluate_window(
        &self,
        tenant: &str,
        environment: &str,
        window: &Window,
    ) -> Result<WindowEvaluation, DoraError> {
        let summary = self.summary(&Scope::environment(tenant, environment), window)?;
        let breaches = self.options.window_breaches(&summary);
        self.metrics
            .set_window_gauges(tenant, environment, &summary);
        let counted = {
            let mut counted_until = lock(&self.counted_until);
            let key = (tenant.to_owned(), environment.to_owned());
            let fresh = counted_until
                .get(&key)
                .is_none_or(|until| window.to() > *until);
            if fresh {
                counted_until.insert(key, window.to());
            }
            fresh
        };
        if counted {
            for metric in &breaches {
                self.metrics.count_slo_breach(tenant, environment, *metric);
            }
        }
        Ok(WindowEvaluation {
            summary,
            breaches,
            counted,
        })
    }

    /// [`evaluate_window`](Self::evaluate_window) over the UTC day before the clock's today.
    ///
    /// # Errors
    /// A store failure.
    pub fn evaluate_previous_utc_day(
        &self,
        tenant: &str,
        environment: &str,
    ) -> Result<WindowEvaluation, DoraError> {
        let today = self.clock.now().date_naive();
        let yesterday = today
            .checked_sub_signed(TimeDelta::days(1))
            .unwrap_or(today);
        let window = Window::utc_day(yesterday)?;
        self.evaluate_window(tenant, environment, &window)
    }
}

impl DeploymentBuilder<&DoraMetricsService> {
    /// Validates and records the deployment (see [`DoraMetricsService::record_deployment`]).
    ///
    /// # Errors
    /// A missing or invalid field, a conflicting duplicate, or a store failure.
    pub fn record(self) -> Result<Recorded, DoraError> {
        let service = self.target;
        service.record_deployment(&self.build()?)
    }
}

impl IncidentBuilder<&DoraMetricsService> {
    /// Validates and records the incident (see [`DoraMetricsService::record_incident`]).
    ///
    /// # Errors
    /// A missing or invalid field, a conflicting duplicate, or a store failure.
    pub fn record(self) -> Result<Recorded, DoraError> {
        let service = self.target;
        service.record_incident(&self.build()?)
    }
}
