//! The DORA computations over one window: a pure function of the events given
//! ([`compute_summary`]) and the streaming [`SummaryAccumulator`] behind it, which a store can
//! feed without collecting events first. Not for choosing events by tenant (callers pass the
//! events of one scope; see [`crate::Scope`]) and not for recording anything.
//!
//! Definitions (all over the half-open window `[from, to)`; see `docs/dora-metrics.md`):
//! - deployment frequency per day = deployments with `deployedAt` in the window / window
//!   length in days;
//! - lead time = `deployedAt - commitAt` in hours; median (mean of the two middle values for an
//!   even count) and p90 (nearest rank: the value at rank ⌈0.9·n⌉ of the sorted lead times);
//! - change failure rate % = deployments with outcome failure, rollback or hotfix × 100 /
//!   deployments;
//! - MTTR hours = mean of `resolvedAt - startedAt` over incidents started in the window and
//!   resolved (at any time);
//! - MTTA hours = mean of `acknowledgedAt - startedAt` over incidents started in the window and
//!   acknowledged (at any time);
//! - failed deployment recovery hours = median, over deployments in the window with outcome
//!   failure, rollback or hotfix that were followed by a successful deployment of the same
//!   pipeline and environment (at any later time), of the time to the first such success;
//! - rework rate % = deployments that remediate an incident × 100 / deployments.

use crate::classification::{ClassificationThresholds, DoraLevels};
use crate::event::{DeploymentEvent, IncidentEvent};
use crate::hours::{duration_nanos, hours_between, nanos_to_hours};
use crate::window::Window;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The DORA metrics of one scope and window, with their levels. Serializes to exactly the
/// CLI's JSON keys; a metric without data is `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DoraSummary {
    /// Deployments with `deployedAt` in the window.
    pub deployment_count: u64,
    /// `deployment_count` / window length in days (0 for a window without deployments).
    pub deployment_frequency_per_day: f64,
    /// Median lead time in hours; `None` without deployments.
    pub lead_time_median_hours: Option<f64>,
    /// p90 (nearest rank) lead time in hours; `None` without deployments.
    pub lead_time_p90_hours: Option<f64>,
    /// Change failure rate in percent; `None` without deployments.
    pub change_failure_rate_percent: Option<f64>,
    /// Mean time to recovery in hours; `None` without a resolved incident.
    pub mttr_hours: Option<f64>,
    /// Mean time to acknowledge in hours; `None` without an acknowledged incident.
    pub mtta_hours: Option<f64>,
    /// Median failed-deployment recovery time in hours; `None` without a recovered failure.
    pub failed_deployment_recovery_hours: Option<f64>,
    /// Rework rate in percent; `None` without deployments.
    pub rework_rate_percent: Option<f64>,
    /// Incidents with `startedAt` in the window, open or resolved.
    pub incident_count: u64,
    /// Per-metric and overall performance levels.
    pub levels: DoraLevels,
}

impl DoraSummary {
    /// The same metrics classified against another table.
    #[must_use]
    pub fn classified_with(mut self, thresholds: &ClassificationThresholds) -> Self {
        self.levels = classify(
            thresholds,
            self.deployment_count,
            self.deployment_frequency_per_day,
            self.lead_time_median_hours,
            self.change_failure_rate_percent,
            self.mttr_hours,
        );
        self
    }
}

fn classify(
    thresholds: &ClassificationThresholds,
    deployment_count: u64,
    frequency: f64,
    lead_time_median: Option<f64>,
    change_failure_rate: Option<f64>,
    mttr: Option<f64>,
) -> DoraLevels {
    // Without a deployment there is nothing to classify the frequency from: Unknown, not Low.
    let frequency = (deployment_count > 0).then_some(frequency);
    DoraLevels::from_metrics(
        thresholds.deployment_frequency.classify(frequency),
        thresholds.lead_time.classify(lead_time_median),
        thresholds.change_failure_rate.classify(change_failure_rate),
        thresholds.mttr.classify(mttr),
    )
}

/// Computes the summary of `deployments` and `incidents` over `window`, classified with
/// [`ClassificationThresholds::seed_default`]. Events outside the window are ignored, except
/// successful deployments after a failed one, which end its recovery. The caller selects the
/// tenant and environment. Order of the events does not matter.
pub fn compute_summary<'a>(
    deployments: impl IntoIterator<Item = &'a DeploymentEvent>,
    incidents: impl IntoIterator<Item = &'a IncidentEvent>,
    window: &Window,
) -> DoraSummary {
    compute_summary_with(
        deployments,
        incidents,
        window,
        &ClassificationThresholds::seed_default(),
    )
}

/// [`compute_summary`] with another classification table.
pub fn compute_summary_with<'a>(
    deployments: impl IntoIterator<Item = &'a DeploymentEvent>,
    incidents: impl IntoIterator<Item = &'a IncidentEvent>,
    window: &Window,
    thresholds: &ClassificationThresholds,
) -> DoraSummary {
    let mut acc = SummaryAccumulator::new(*window);
    let deployments = deployments.into_iter();
    acc.reserve(deployments.size_hint().0);
    for deployment in deployments {
        acc.add_deployment(deployment);
    }
    for incident in incidents {
        acc.add_incident(incident);
    }
    acc.finish(thresholds)
}

#[derive(Debug, Default)]
struct RecoveryTrack {
    failures: Vec<DateTime<Utc>>,
    successes: Vec<DateTime<Utc>>,
}

/// Accumulates events one at a time (no per-event allocation beyond a growing buffer of lead
/// times) and computes the [`DoraSummary`] at the end.
#[derive(Debug)]
pub struct SummaryAccumulator {
    window: Window,
    deployments: u64,
    change_failures: u64,
    remediations: u64,
    lead_times_hours: Vec<f64>,
    /// environment -> pipeline -> index into `tracks`.
    track_index: TrackIndex,
    /// Per (environment, pipeline): failures in the window, successes from the window start.
    tracks: Vec<RecoveryTrack>,
    incidents: u64,
    resolved: u64,
    resolve_nanos: i128,
    acknowledged: u64,
    acknowledge_nanos: i128,
}

impl SummaryAccumulator {
    /// An empty accumulator for `window`.
    pub fn new(window: Window) -> Self {
        Self {
            window,
            deployments: 0,
            change_failures: 0,
            remediations: 0,
            lead_times_hours: Vec::new(),
            track_index: TrackIndex::default(),
            tracks: Vec::new(),
            incidents: 0,
            resolved: 0,
            resolve_nanos: 0,
            acknowledged: 0,
            acknowledge_nanos: 0,
        }
    }

    /// Reserves room for `deployments` lead times (avoids regrowing for large windows).
    pub fn reserve(&mut self, deployments: usize) {
        self.lead_times_hours.reserve(deployments);
    }

    /// The window being summarised.
    pub fn window(&self) -> &Window {
        &self.window
    }

    /// Adds one deployment. Deployments before the window are ignored; those at or after its
    /// end only serve as the success that ends a failed deployment's recovery.
    pub fn add_deployment(&mut self, deployment: &DeploymentEvent) {
        let at = deployment.deployed_at;
        if at < self.window.from() {
            return;
        }
        let in_window = at < self.window.to();
        let failure = deployment.outcome.is_change_failure();
        if in_window {
            self.deployments += 1;
            self.lead_times_hours
                .push(hours_between(deployment.committed_at, at));
            if failure {
                self.change_failures += 1;
            }
            if deployment.remediates_incident_id.is_some() {
                self.remediations += 1;
            }
        }
        if failure && !in_window {
            return;
        }
        let track = self.track_index(&deployment.environment, &deployment.pipeline);
        if let Some(track) = self.tracks.get_mut(track) {
            if failure {
                track.failures.push(at);
            } else {
                track.successes.push(at);
            }
        }
    }

    /// The index in `tracks` of the (environment, pipeline) track, created on first use.
    fn track_index(&mut self, environment: &str, pipeline: &str) -> usize {
        if let Some(&index) = self
            .track_index
            .get(environment)
            .and_then(|by_pipeline| by_pipeline.get(pipeline))
        {
            return index;
        }
        let index = self.tracks.len();
        self.tracks.push(RecoveryTrack::default());
        self.track_index
            .entry(environment.to_owned())
            .or_default()
            .insert(pipeline.to_owned(), index);
        index
    }

    /// Adds one incident; only incidents with `startedAt` in the window count.
    pub fn add_incident(&mut self, incident: &IncidentEvent) {
        if !self.window.contains(incident.started_at) {
            return;
        }
        self.incidents += 1;
        if let Some(resolved_at) = incident.resolved_at {
            self.resolved += 1;
            self.resolve_nanos += duration_nanos(resolved_at - incident.started_at);
        }
        if let Some(acknowledged_at) = incident.acknowledged_at {
            self.acknowledged += 1;
            self.acknowledge_nanos += duration_nanos(acknowledged_at - incident.started_at);
        }
    }

    /// The summary of everything added, classified with `thresholds`.
    pub fn finish(mut self, thresholds: &ClassificationThresholds) -> DoraSummary {
        let count = self.deployments;
        let frequency = count as f64 / self.window.length_days();
        let percent_of_deployments =
            |n: u64| (count > 0).then(|| (n as f64 * 100.0) / count as f64);
        let change_failure_rate = percent_of_deployments(self.change_failures);
        let rework_rate = percent_of_deployments(self.remediations);
        let lead_time_median = median(&mut self.lead_times_hours);
        let lead_time_p90 = nearest_rank_percentile(&mut self.lead_times_hours, 90);
        let mean_hours = |sum: i128, n: u64| (n > 0).then(|| nanos_to_hours(sum) / n as f64);
        let mttr = mean_hours(self.resolve_nanos, self.resolved);
        let mtta = mean_hours(self.acknowledge_nanos, self.acknowledged);
        let mut recoveries = recovery_hours(self.tracks);
        let recovery = median(&mut recoveries);
        DoraSummary {
            deployment_count: count,
            deployment_frequency_per_day: frequency,
            lead_time_median_hours: lead_time_median,
            lead_time_p90_hours: lead_time_p90,
            change_failure_rate_percent: change_failure_rate,
            mttr_hours: mttr,
            mtta_hours: mtta,
            failed_deployment_recovery_hours: recovery,
            rework_rate_percent: rework_rate,
            incident_count: self.incidents,
            levels: classify(
                thresholds,
                count,
                frequency,
                lead_time_median,
                change_failure_rate,
                mttr,
            ),
        }
    }
}

/// For each failed deployment, the hours to the first success of the same track strictly after
/// it; failures without a later success are left out.
///
/// Only the failures (the minority) are sorted. Each success `s` falls after the first `k`
/// failures (`k` = failures strictly before `s`); it can be the next success only of those, so
/// keeping the earliest success per `k` and taking suffix minima gives, for the `j`th failure,
/// the earliest success with `k > j`: O(S log F) instead of sorting the successes.
fn recovery_hours(tracks: Vec<RecoveryTrack>) -> Vec<f64> {
    let mut hours = Vec::new();
    for track in tracks {
        let mut failures = track.failures;
        if failures.is_empty() {
            continue;
        }
        failures.sort_unstable();
        let mut earliest_after: Vec<Option<DateTime<Utc>>> = vec![None; failures.len() + 1];
        for success in track.successes {
            let k = failures.partition_point(|f| *f < success);
            if let Some(slot) = earliest_after.get_mut(k) {
                *slot = Some(slot.map_or(success, |e| e.min(success)));
            }
        }
        let mut next: Option<DateTime<Utc>> = None;
        // Walk k = F..1; the failure at index k - 1 recovers at the earliest success with index
        // >= k.
        for (failed_at, candidate) in failures.iter().rev().zip(earliest_after.iter().rev()) {
            next = match (next, *candidate) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if let Some(recovered_at) = next {
                hours.push(hours_between(*failed_at, recovered_at));
            }
        }
    }
    hours
}

/// Two-level map environment -> pipeline -> track index, hashed with FxHash: the keys are a
/// handful of short strings looked up once per deployment, where SipHash dominated the cost.
type TrackIndex = HashMap<String, HashMap<String, usize, FxBuild>, FxBuild>;
type FxBuild = BuildHasherDefault<FxHasher>;

/// The Firefox/rustc hash: a multiply-rotate over 8-byte words. Not DoS resistant; the maps it
/// backs live for one summary computation.
#[derive(Debug, Default, Clone, Copy)]
struct FxHasher(u64);

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            for (dst, src) in word.iter_mut().zip(rest) {
                *dst = *src;
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The median of `values` (the mean of the two middle values for an even count); `None` when
/// empty. Reorders `values` (linear-time selection, no sort). Values must not be NaN.
pub fn median(values: &mut [f64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mid = n / 2;
    let (lower, upper, _) = values.select_nth_unstable_by(mid, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return Some(upper);
    }
    let below = lower.iter().copied().max_by(f64::total_cmp)?;
    Some(below / 2.0 + upper / 2.0)
}

/// The `p`th percentile by nearest rank: the value at 1-based rank ⌈p·n/100⌉ of the sorted
/// values (rank at least 1); `None` when empty. Reorders `values`. `p` is clamped to 1..=100.
pub fn nearest_rank_percentile(values: &mut [f64], p: u32) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let p = u128::from(p.clamp(1, 100));
    let rank = (p * n as u128).div_ceil(100).max(1);
    let index = usize::try_from(rank - 1).ok()?.min(n - 1);
    let (_, value, _) = values.select_nth_unstable_by(index, f64::total_cmp);
    Some(*value)
}
