//! The DORA Prometheus metrics, defined once with prometheus-client and labelled by `tenant`
//! and `environment`. Not for deciding what to count: the service calls these hooks when
//! events are recorded and windows evaluated.
//!
//! | metric | type | updated |
//! |---|---|---|
//! | `dora_deployments_total` | counter | each new deployment |
//! | `dora_deployment_failure_total` | counter | each new deployment with outcome failure, rollback or hotfix |
//! | `dora_lead_time_hours` | histogram | each new deployment (`deployedAt - commitAt`) |
//! | `dora_time_to_recovery_hours` | histogram | each incident when it becomes resolved |
//! | `dora_deployment_frequency_per_day` | gauge | each window evaluation |
//! | `dora_change_failure_rate_percent` | gauge | each window evaluation (removed when the window has no deployment) |
//! | `dora_slo_breach_total` | counter, + label `metric` | see [`SloMetric`] |
//!
//! With [`MetricUnits::Seconds`] the two histograms are `dora_lead_time_seconds` and
//! `dora_time_to_recovery_seconds` instead (Prometheus base units; see `docs/dora-metrics.md`).

use crate::event::DeploymentEvent;
use crate::slo::SloMetric;
use crate::summary::DoraSummary;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::{Family, MetricConstructor};
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// Upper bounds of the lead-time histogram buckets, in hours (15 min … 180 days).
pub const LEAD_TIME_BUCKETS_HOURS: [f64; 15] = [
    0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 12.0, 24.0, 48.0, 72.0, 168.0, 336.0, 720.0, 2160.0, 4320.0,
];

/// Upper bounds of the time-to-recovery histogram buckets, in hours (6 min … 30 days).
pub const RECOVERY_BUCKETS_HOURS: [f64; 14] = [
    0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 12.0, 24.0, 48.0, 72.0, 168.0, 336.0, 720.0,
];

/// Every family name these metrics can expose in the Prometheus text format (counters with
/// their `_total` suffix), under either [`MetricUnits`]: what generated dashboards and alert
/// rules may reference.
pub const EXPOSED_FAMILIES: &[&str] = &[
    "dora_deployments_total",
    "dora_deployment_failure_total",
    "dora_deployment_frequency_per_day",
    "dora_change_failure_rate_percent",
    "dora_lead_time_hours",
    "dora_lead_time_seconds",
    "dora_time_to_recovery_hours",
    "dora_time_to_recovery_seconds",
    "dora_slo_breach_total",
];

/// The unit of the two duration histograms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MetricUnits {
    /// The specification's names and unit: `dora_lead_time_hours`,
    /// `dora_time_to_recovery_hours`, observed in hours. `promtool check metrics` reports
    /// these two names (it wants base unit seconds); everything else is lint-clean.
    #[default]
    Hours,
    /// Prometheus base units: `dora_lead_time_seconds`, `dora_time_to_recovery_seconds`,
    /// observed in seconds (buckets scaled by 3600). Fully lint-clean.
    Seconds,
}

impl MetricUnits {
    fn scale(self) -> f64 {
        match self {
            MetricUnits::Hours => 1.0,
            MetricUnits::Seconds => 3600.0,
        }
    }

    /// The lead-time histogram's name.
    pub fn lead_time_name(self) -> &'static str {
        match self {
            MetricUnits::Hours => "dora_lead_time_hours",
            MetricUnits::Seconds => "dora_lead_time_seconds",
        }
    }

    /// The time-to-recovery histogram's name.
    pub fn time_to_recovery_name(self) -> &'static str {
        match self {
            MetricUnits::Hours => "dora_time_to_recovery_hours",
            MetricUnits::Seconds => "dora_time_to_recovery_seconds",
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EnvironmentLabels {
    tenant: String,
    environment: String,
}

impl EnvironmentLabels {
    fn new(tenant: &str, environment: &str) -> Self {
        Self {
            tenant: tenant.to_owned(),
            environment: environment.to_owned(),
        }
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SloBreachLabels {
    tenant: String,
    environment: String,
    metric: String,
}

#[derive(Debug, Clone)]
struct Buckets(Vec<f64>);

impl MetricConstructor<Histogram> for Buckets {
    fn new_metric(&self) -> Histogram {
        Histogram::new(self.0.iter().copied())
    }
}

type HistogramFamily = Family<EnvironmentLabels, Histogram, Buckets>;

/// The DORA metric families. Cloning shares the same series (prometheus-client families are
/// reference counted), so one clone can be registered while another is updated.
#[derive(Debug, Clone)]
pub struct DoraMetrics {
    units: MetricUnits,
    deployments: Family<EnvironmentLabels, Counter>,
    deployment_failures: Family<EnvironmentLabels, Counter>,
    deployment_frequency: Family<EnvironmentLabels, Gauge<f64, AtomicU64>>,
    change_failure_rate: Family<EnvironmentLabels, Gauge<f64, AtomicU64>>,
    lead_time: HistogramFamily,
    time_to_recovery: HistogramFamily,
    slo_breaches: Family<SloBreachLabels, Counter>,
}

impl Default for DoraMetrics {
    fn default() -> Self {
        Self::new(MetricUnits::default())
    }
}

impl DoraMetrics {
    /// Empty families with the histograms in `units`.
    pub fn new(units: MetricUnits) -> Self {
        let scaled = |buckets: &[f64]| Buckets(buckets.iter().map(|b| b * units.scale()).collect());
        Self {
            units,
            deployments: Family::default(),
            deployment_failures: Family::default(),
            deployment_frequency: Family::default(),
            change_failure_rate: Family::default(),
            lead_time: Family::new_with_constructor(scaled(&LEAD_TIME_BUCKETS_HOURS)),
            time_to_recovery: Family::new_with_constructor(scaled(&RECOVERY_BUCKETS_HOURS)),
            slo_breaches: Family::default(),
        }
    }

    /// The histograms' unit.
    pub fn units(&self) -> MetricUnits {
        self.units
    }

    /// Registers every family in `registry`. Register into a registry (or sub-registry) without
    /// a prefix to keep the specification's names.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "dora_deployments",
            "Deployments recorded, by tenant and environment",
            self.deployments.clone(),
        );
        registry.register(
            "dora_deployment_failure",
            "Deployments recorded with outcome failure, rollback or hotfix",
            self.deployment_failures.clone(),
        );
        registry.register(
            "dora_deployment_frequency_per_day",
            "Deployments per day over the last evaluated window",
            self.deployment_frequency.clone(),
        );
        registry.register(
            "dora_change_failure_rate_percent",
            "Change failure rate in percent over the last evaluated window",
            self.change_failure_rate.clone(),
        );
        registry.register(
            self.units.lead_time_name(),
            "Lead time for changes, from first commit to deployment",
            self.lead_time.clone(),
        );
        registry.register(
            self.units.time_to_recovery_name(),
            "Time from incident start to resolution",
            self.time_to_recovery.clone(),
        );
        registry.register(
            "dora_slo_breach",
            "DORA SLO breaches, by metric",
            self.slo_breaches.clone(),
        );
    }

    /// The families as OpenMetrics text (a fresh registry holding only them).
    ///
    /// # Errors
    /// Only if formatting fails, which writing to a `String` does not.
    pub fn encode_openmetrics(&self) -> Result<String, std::fmt::Error> {
        let mut registry = Registry::default();
        self.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry)?;
        Ok(text)
    }

    /// The families in the Prometheus text format 0.0.4 (see [`openmetrics_to_prometheus_text`]),
    /// which is what `promtool check metrics` lints and what older scrapers accept.
    ///
    /// # Errors
    /// Only if formatting fails, which writing to a `String` does not.
    pub fn encode_prometheus_text(&self) -> Result<String, std::fmt::Error> {
        Ok(openmetrics_to_prometheus_text(&self.encode_openmetrics()?))
    }

    /// Counts a newly recorded deployment and observes its lead time.
    pub fn observe_deployment(&self, deployment: &DeploymentEvent) {
        let labels = EnvironmentLabels::new(&deployment.tenant, &deployment.environment);
        self.deployments.get_or_create(&labels).inc();
        // Touch the failure series so it exists (at 0) from the first deployment on.
        let failures = self.deployment_failures.get_or_create(&labels);
        if deployment.outcome.is_change_failure() {
            failures.inc();
        }
        drop(failures);
        self.lead_time
            .get_or_create(&labels)
            .observe(deployment.lead_time_hours() * self.units.scale());
    }

    /// Observes one incident's time to recovery.
    pub fn observe_recovery(&self, tenant: &str, environment: &str, recovery_hours: f64) {
        self.time_to_recovery
            .get_or_create(&EnvironmentLabels::new(tenant, environment))
            .observe(recovery_hours * self.units.scale());
    }

    /// Counts one SLO breach.
    pub fn count_slo_breach(&self, tenant: &str, environment: &str, metric: SloMetric) {
        self.slo_breaches
            .get_or_create(&SloBreachLabels {
                tenant: tenant.to_owned(),
                environment: environment.to_owned(),
                metric: metric.as_str().to_owned(),
            })
            .inc();
    }

    /// Sets the window gauges from an evaluated window's summary; the change failure rate
    /// series is removed when the window had no deployment (no rate to report).
    pub fn set_window_gauges(&self, tenant: &str, environment: &str, summary: &DoraSummary) {
        let labels = EnvironmentLabels::new(tenant, environment);
        self.deployment_frequency
            .get_or_create(&labels)
            .set(summary.deployment_frequency_per_day);
        match summary.change_failure_rate_percent {
            Some(rate) => {
                self.change_failure_rate.get_or_create(&labels).set(rate);
            }
            None => {
                self.change_failure_rate.remove(&labels);
            }
        }
    }

    /// The current value of `dora_slo_breach_total` for one series (0 if never counted).
    pub fn slo_breach_count(&self, tenant: &str, environment: &str, metric: SloMetric) -> u64 {
        self.slo_breaches
            .get(&SloBreachLabels {
                tenant: tenant.to_owned(),
                environment: environment.to_owned(),
                metric: metric.as_str().to_owned(),
            })
            .map_or(0, |c| c.get())
    }

    /// The current value of `dora_deployments_total` for one series.
    pub fn deployment_count(&self, tenant: &str, environment: &str) -> u64 {
        self.deployments
            .get(&EnvironmentLabels::new(tenant, environment))
            .map_or(0, |c| c.get())
    }

    /// The current value of `dora_deployment_failure_total` for one series.
    pub fn deployment_failure_count(&self, tenant: &str, environment: &str) -> u64 {
        self.deployment_failures
            .get(&EnvironmentLabels::new(tenant, environment))
            .map_or(0, |c| c.get())
    }
}

/// Rewrites prometheus-client's OpenMetrics text as Prometheus text format 0.0.4: a counter
/// family `x` (samples `x_total`) gets its `# HELP` and `# TYPE` lines renamed to `x_total`,
/// and the `# UNIT` and `# EOF` lines, which that format lacks, are dropped. Gauge and
/// histogram families are unchanged. Prometheus itself reads OpenMetrics counters this way;
/// `promtool check metrics` parses only the 0.0.4 format.
pub fn openmetrics_to_prometheus_text(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|line| line.strip_prefix("# TYPE "))
        .filter_map(|rest| rest.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|prefix| {
            let rest = line.strip_prefix(prefix)?;
            let (name, tail) = rest.split_once(' ')?;
            counters
                .contains(name)
                .then(|| format!("{prefix}{name}_total {tail}"))
        });
        match renamed {
            Some(renamed) => out.push_str(&renamed),
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}
