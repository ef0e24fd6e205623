//! SLO targets for the DORA keys (`DoraMetricsOptions`) and the rules that decide a breach.
//! Not for counting breaches: the service counts them in `dora_slo_breach_total{metric}` at
//! the moments documented on [`SloMetric`].

use crate::summary::DoraSummary;
use serde::{Deserialize, Serialize};
use std::fmt;

/// SLO targets. Defaults: lead time 24 h, deployment frequency 1 per day, change failure rate
/// 15 %, MTTR 1 h.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DoraMetricsOptions {
    /// A deployment whose lead time is greater than this many hours breaches.
    pub lead_time_slo_hours: f64,
    /// A window with fewer deployments per day than this breaches.
    pub deployment_frequency_slo_per_day: f64,
    /// A window whose change failure rate is greater than this percentage breaches.
    pub change_failure_rate_slo_percent: f64,
    /// An incident whose time to recovery is greater than this many hours breaches.
    pub mttr_slo_hours: f64,
}

impl Default for DoraMetricsOptions {
    fn default() -> Self {
        Self {
            lead_time_slo_hours: 24.0,
            deployment_frequency_slo_per_day: 1.0,
            change_failure_rate_slo_percent: 15.0,
            mttr_slo_hours: 1.0,
        }
    }
}

/// The metric an SLO is about: the `metric` label of `dora_slo_breach_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SloMetric {
    /// Evaluated for every newly recorded deployment: breach when its lead time is greater
    /// than `lead_time_slo_hours`.
    LeadTime,
    /// Evaluated per window by `DoraMetricsService::evaluate_window`: breach when the
    /// deployment frequency is below `deployment_frequency_slo_per_day` (a window without
    /// deployments has frequency 0 and breaches).
    DeploymentFrequency,
    /// Evaluated per window by `DoraMetricsService::evaluate_window`: breach when the change
    /// failure rate is greater than `change_failure_rate_slo_percent` (no deployments, no
    /// rate, no breach).
    ChangeFailureRate,
    /// Evaluated when an incident becomes resolved (recorded resolved, or resolved later):
    /// breach when `resolvedAt - startedAt` is greater than `mttr_slo_hours`.
    Mttr,
}

impl SloMetric {
    /// Every SLO metric.
    pub const ALL: [SloMetric; 4] = [
        SloMetric::LeadTime,
        SloMetric::DeploymentFrequency,
        SloMetric::ChangeFailureRate,
        SloMetric::Mttr,
    ];

    /// The label value: `lead_time`, `deployment_frequency`, `change_failure_rate`, `mttr`.
    pub fn as_str(self) -> &'static str {
        match self {
            SloMetric::LeadTime => "lead_time",
            SloMetric::DeploymentFrequency => "deployment_frequency",
            SloMetric::ChangeFailureRate => "change_failure_rate",
            SloMetric::Mttr => "mttr",
        }
    }
}

impl fmt::Display for SloMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl DoraMetricsOptions {
    /// Whether one deployment's lead time breaches.
    pub fn lead_time_breached(&self, lead_time_hours: f64) -> bool {
        lead_time_hours > self.lead_time_slo_hours
    }

    /// Whether one incident's time to recovery breaches.
    pub fn recovery_breached(&self, recovery_hours: f64) -> bool {
        recovery_hours > self.mttr_slo_hours
    }

    /// The window-level SLOs (deployment frequency, change failure rate) that `summary`
    /// breaches, in [`SloMetric`] order.
    pub fn window_breaches(&self, summary: &DoraSummary) -> Vec<SloMetric> {
        let mut breaches = Vec::new();
        if summary.deployment_frequency_per_day < self.deployment_frequency_slo_per_day {
            breaches.push(SloMetric::DeploymentFrequency);
        }
        if summary
            .change_failure_rate_percent
            .is_some_and(|rate| rate > self.change_failure_rate_slo_percent)
        {
            breaches.push(SloMetric::ChangeFailureRate);
        }
        breaches
    }
}
