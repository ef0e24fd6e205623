//! The [`OutcomeExecutiveReport`] model and its computation ([`ReportAccumulator`],
//! [`compute_report`]). The metric definitions and window rules are those of
//! `stellaops-dora-metrics`; this module only groups them (per pipeline, per severity, per UTC
//! day) and rounds them exactly. Not for rendering (see the `render` module).

use crate::error::OutcomeError;
use crate::pipeline::normalize_pipeline;
use crate::rounding::Rounded2;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use stellaops_dora_metrics::{DeploymentEvent, IncidentEvent, Scope, Severity, Window};

/// The longest window a report covers, in UTC days (about ten years): a report lists every
/// day, so the limit bounds its size.
pub const MAX_REPORT_DAYS: u64 = 3660;

const NANOS_PER_HOUR: i128 = 3_600_000_000_000;

/// The executive outcome report of one tenant (and optionally one environment) over one
/// window. Serializes to the stable JSON shape (camelCase, fields in declaration order, a
/// metric without data is `null`); see `docs/outcome-analytics.md` for every field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct OutcomeExecutiveReport {
    /// The tenant reported on.
    pub tenant: String,
    /// The environment reported on; `None` (JSON `null`) for all of the tenant's environments.
    pub environment: Option<String>,
    /// The half-open window `[from, to)`: deployments by `deployedAt`, incidents by
    /// `startedAt`.
    pub window: Window,
    /// The whole scope and window.
    pub totals: OutcomeTotals,
    /// Per normalized pipeline, sorted by name.
    pub pipelines: Vec<PipelineOutcome>,
    /// Per severity, always all four, in the order critical, high, medium, low.
    pub severities: Vec<SeverityOutcome>,
    /// One entry per UTC day the window touches, in date order, empty days included.
    pub daily: Vec<DailyOutcome>,
}

/// The report's totals (the dora-metrics definitions, rounded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct OutcomeTotals {
    /// Deployments with `deployedAt` in the window.
    pub deployments: u64,
    /// Of those, outcome `failure`, `rollback` or `hotfix`.
    pub failed_deployments: u64,
    /// `failedDeployments` × 100 / `deployments`; `None` without deployments.
    pub change_failure_rate_percent: Option<Rounded2>,
    /// Median of `deployedAt - commitAt` in hours (mean of the two middle values for an even
    /// count); `None` without deployments.
    pub median_lead_time_hours: Option<Rounded2>,
    /// Incidents with `startedAt` in the window, open or resolved.
    pub incidents: u64,
    /// Of those, resolved (at any time, also after the window).
    pub resolved_incidents: u64,
    /// Of those, acknowledged (at any time).
    pub acknowledged_incidents: u64,
    /// Mean of `acknowledgedAt - startedAt` in hours over acknowledged incidents; `None`
    /// without one.
    pub mtta_hours: Option<Rounded2>,
    /// Mean of `resolvedAt - startedAt` in hours over resolved incidents; `None` without one.
    pub mttr_hours: Option<Rounded2>,
}

/// Deployment outcomes of one normalized pipeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct PipelineOutcome {
    /// The normalized pipeline name (see [`normalize_pipeline`]).
    pub pipeline: String,
    /// Deployments of the pipeline in the window (at least 1).
    pub deployments: u64,
    /// Of those, outcome `failure`, `rollback` or `hotfix`.
    pub failed_deployments: u64,
    /// `failedDeployments` × 100 / `deployments`.
    pub change_failure_rate_percent: Rounded2,
    /// Median lead time of the pipeline's deployments, in hours.
    pub median_lead_time_hours: Rounded2,
}

/// Incidents of one severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct SeverityOutcome {
    /// The severity.
    pub severity: Severity,
    /// Incidents of this severity started in the window.
    pub incidents: u64,
    /// Of those, resolved.
    pub resolved: u64,
    /// Of those, acknowledged.
    pub acknowledged: u64,
    /// Mean time to acknowledge, hours; `None` without an acknowledged incident.
    pub mtta_hours: Option<Rounded2>,
    /// Mean time to recover, hours; `None` without a resolved incident.
    pub mttr_hours: Option<Rounded2>,
}

/// One UTC day of the window: the day's cohort of deployments and incidents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[non_exhaustive]
pub struct DailyOutcome {
    /// The UTC date (`2025-03-03`).
    pub date: NaiveDate,
    /// Deployments in the window deployed on this day.
    pub deployments: u64,
    /// Of those, failed (failure, rollback or hotfix).
    pub failed_deployments: u64,
    /// Incidents in the window started on this day.
    pub incidents: u64,
    /// Of those, resolved (at any time): the day's cohort, so the days add up to the totals.
    pub resolved_incidents: u64,
}

#[derive(Debug, Default)]
struct PipelineAcc {
    deployments: u64,
    failed: u64,
    lead_nanos: Vec<i128>,
}

#[derive(Debug, Default, Clone, Copy)]
struct SeverityAcc {
    incidents: u64,
    resolved: u64,
    resolve_nanos: i128,
    acknowledged: u64,
    acknowledge_nanos: i128,
}

#[derive(Debug, Default, Clone, Copy)]
struct DayAcc {
    deployments: u64,
    failed: u64,
    incidents: u64,
    resolved: u64,
}

/// Builds a report from events given one at a time, in any order; events outside the scope or
/// the window are ignored. Memory: one lead time per deployment in the window, one counter set
/// per pipeline and per day.
#[derive(Debug)]
pub struct ReportAccumulator {
    scope: Scope,
    window: Window,
    first_day: NaiveDate,
    pipelines: BTreeMap<String, PipelineAcc>,
    severities: [SeverityAcc; 4],
    daily: Vec<DayAcc>,
}

impl ReportAccumulator {
    /// An empty report of `scope` over `window`.
    ///
    /// # Errors
    /// [`OutcomeError::WindowTooLong`] when the window touches more than
    /// [`MAX_REPORT_DAYS`] UTC days.
    pub fn new(scope: Scope, window: Window) -> Result<Self, OutcomeError> {
        let first_day = window.from().date_naive();
        let last_moment = window
            .to()
            .checked_sub_signed(TimeDelta::nanoseconds(1))
            .unwrap_or(window.from());
        let last_day = last_moment.date_naive().max(first_day);
        let days = u64::try_from((last_day - first_day).num_days())
            .unwrap_or(0)
            .saturating_add(1);
        if days > MAX_REPORT_DAYS {
            return Err(OutcomeError::WindowTooLong {
                from: window.from(),
                to: window.to(),
                days,
                max: MAX_REPORT_DAYS,
            });
        }
        let days = usize::try_from(days).unwrap_or(0);
        Ok(Self {
            scope,
            window,
            first_day,
            pipelines: BTreeMap::new(),
            severities: [SeverityAcc::default(); 4],
            daily: vec![DayAcc::default(); days],
        })
    }

    fn day(&mut self, at: DateTime<Utc>) -> Option<&mut DayAcc> {
        let offset = usize::try_from((at.date_naive() - self.first_day).num_days()).ok()?;
        self.daily.get_mut(offset)
    }

    /// Adds a deployment of the scope deployed in the window; ignores any other.
    pub fn add_deployment(&mut self, deployment: &DeploymentEvent) {
        if !self.scope.includes_deployment(deployment)
            || !self.window.contains(deployment.deployed_at)
        {
            return;
        }
        let failed = deployment.outcome.is_change_failure();
        let lead = duration_nanos(deployment.deployed_at - deployment.committed_at);
        let name = normalize_pipeline(&deployment.pipeline);
        let pipeline = match self.pipelines.get_mut(name.as_ref()) {
            Some(pipeline) => pipeline,
            None => self.pipelines.entry(name.into_owned()).or_default(),
        };
        pipeline.deployments += 1;
        pipeline.failed += u64::from(failed);
        pipeline.lead_nanos.push(lead);
        if let Some(day) = self.day(deployment.deployed_at) {
            day.deployments += 1;
            day.failed += u64::from(failed);
        }
    }

    /// Adds an incident of the scope started in the window; ignores any other.
    pub fn add_incident(&mut self, incident: &IncidentEvent) {
        if !self.scope.includes_incident(incident) || !self.window.contains(incident.started_at) {
            return;
        }
        let index = severity_index(incident.severity);
        let resolved = incident.resolved_at.is_some();
        if let Some(severity) = self.severities.get_mut(index) {
            severity.incidents += 1;
            if let Some(resolved_at) = incident.resolved_at {
                severity.resolved += 1;
                severity.resolve_nanos += duration_nanos(resolved_at - incident.started_at);
            }
            if let Some(acknowledged_at) = incident.acknowledged_at {
                severity.acknowledged += 1;
                severity.acknowledge_nanos += duration_nanos(acknowledged_at - incident.started_at);
            }
        }
        if let Some(day) = self.day(incident.started_at) {
            day.incidents += 1;
            day.resolved += u64::from(resolved);
        }
    }

    /// The report of everything added.
    pub fn finish(self) -> OutcomeExecutiveReport {
        let mut all_leads = Vec::new();
        let mut deployments = 0;
        let mut failed_deployments = 0;
        let pipelines = self
            .pipelines
            .into_iter()
            .map(|(pipeline, mut acc)| {
                deployments += acc.deployments;
                failed_deployments += acc.failed;
                let median = median_hours(&mut acc.lead_nanos).unwrap_or(Rounded2::ZERO);
                all_leads.extend_from_slice(&acc.lead_nanos);
                PipelineOutcome {
                    pipeline,
                    deployments: acc.deployments,
                    failed_deployments: acc.failed,
                    change_failure_rate_percent: percent(acc.failed, acc.deployments)
                        .unwrap_or(Rounded2::ZERO),
                    median_lead_time_hours: median,
                }
            })
            .collect();
        let mut all = SeverityAcc::default();
        let severities = Severity::ALL
            .into_iter()
            .zip(self.severities)
            .map(|(severity, acc)| {
                all.incidents += acc.incidents;
                all.resolved += acc.resolved;
                all.resolve_nanos += acc.resolve_nanos;
                all.acknowledged += acc.acknowledged;
                all.acknowledge_nanos += acc.acknowledge_nanos;
                SeverityOutcome {
                    severity,
                    incidents: acc.incidents,
                    resolved: acc.resolved,
                    acknowledged: acc.acknowledged,
                    mtta_hours: mean_hours(acc.acknowledge_nanos, acc.acknowledged),
                    mttr_hours: mean_hours(acc.resolve_nanos, acc.resolved),
                }
            })
            .collect();
        let daily = self
            .daily
            .iter()
            .zip(self.first_day.iter_days())
            .map(|(acc, date)| DailyOutcome {
                date,
                deployments: acc.deployments,
                failed_deployments: acc.failed,
                incidents: acc.incidents,
                resolved_incidents: acc.resolved,
            })
            .collect();
        OutcomeExecutiveReport {
            tenant: self.scope.tenant,
            environment: self.scope.environment,
            window: self.window,
            totals: OutcomeTotals {
                deployments,
                failed_deployments,
                change_failure_rate_percent: percent(failed_deployments, deployments),
                median_lead_time_hours: median_hours(&mut all_leads),
                incidents: all.incidents,
                resolved_incidents: all.resolved,
                acknowledged_incidents: all.acknowledged,
                mtta_hours: mean_hours(all.acknowledge_nanos, all.acknowledged),
                mttr_hours: mean_hours(all.resolve_nanos, all.resolved),
            },
            pipelines,
            severities,
            daily,
        }
    }
}

/// The report of `scope` over `window` from events in any order. Events of other tenants or
/// environments, and outside the window, are ignored, so the caller may pass everything it
/// has. Events are taken as given (validation is the store's job); a deployment whose pipeline
/// is empty is attributed to `unknown`.
///
/// # Errors
/// [`OutcomeError::WindowTooLong`] when the window touches more than [`MAX_REPORT_DAYS`] UTC
/// days.
pub fn compute_report<'a>(
    scope: &Scope,
    window: &Window,
    deployments: impl IntoIterator<Item = &'a DeploymentEvent>,
    incidents: impl IntoIterator<Item = &'a IncidentEvent>,
) -> Result<OutcomeExecutiveReport, OutcomeError> {
    let mut acc = ReportAccumulator::new(scope.clone(), *window)?;
    for deployment in deployments {
        acc.add_deployment(deployment);
    }
    for incident in incidents {
        acc.add_incident(incident);
    }
    Ok(acc.finish())
}

fn severity_index(severity: Severity) -> usize {
    match severity {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
    }
}

fn duration_nanos(delta: TimeDelta) -> i128 {
    i128::from(delta.num_seconds()) * 1_000_000_000 + i128::from(delta.subsec_nanos())
}

fn percent(part: u64, whole: u64) -> Option<Rounded2> {
    Rounded2::from_ratio(i128::from(part) * 100, i128::from(whole))
}

fn mean_hours(sum_nanos: i128, count: u64) -> Option<Rounded2> {
    Rounded2::from_ratio(sum_nanos, i128::from(count).checked_mul(NANOS_PER_HOUR)?)
}

/// The median (mean of the two middle values for an even count) of nanosecond durations, in
/// hours, rounded from the exact value. Reorders `nanos`.
fn median_hours(nanos: &mut [i128]) -> Option<Rounded2> {
    let n = nanos.len();
    if n == 0 {
        return None;
    }
    let (lower, upper, _) = nanos.select_nth_unstable(n / 2);
    let upper = *upper;
    if n % 2 == 1 {
        return Rounded2::from_ratio(upper, NANOS_PER_HOUR);
    }
    let below = lower.iter().copied().max()?;
    Rounded2::from_ratio(below + upper, 2 * NANOS_PER_HOUR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, day, hour, minute, 0).unwrap()
    }

    #[test]
    fn days_cover_partial_first_and_last_days() {
        let window = Window::new(at(3, 12, 0), at(5, 0, 1)).unwrap();
        let report = ReportAccumulator::new(Scope::tenant("t"), window)
            .unwrap()
            .finish();
        let dates: Vec<String> = report.daily.iter().map(|d| d.date.to_string()).collect();
        assert_eq!(dates, ["2025-03-03", "2025-03-04", "2025-03-05"]);
    }

    #[test]
    fn a_window_ending_at_midnight_does_not_touch_the_next_day() {
        let window = Window::new(at(3, 0, 0), at(4, 0, 0)).unwrap();
        let report = ReportAccumulator::new(Scope::tenant("t"), window)
            .unwrap()
            .finish();
        assert_eq!(report.daily.len(), 1);
    }

    #[test]
    fn medians_are_exact() {
        let hour = NANOS_PER_HOUR;
        assert_eq!(median_hours(&mut []), None);
        assert_eq!(
            median_hours(&mut [3 * hour, hour, 2 * hour]),
            Some(Rounded2::from_hundredths(200))
        );
        // (1 h + 4 h 21 min) / 2 = 2.675 h exactly: rounds up.
        let upper = 4 * hour + 21 * 60 * 1_000_000_000;
        assert_eq!(
            median_hours(&mut [upper, hour, 9 * hour, 0]),
            Some(Rounded2::from_hundredths(268))
        );
    }
}
