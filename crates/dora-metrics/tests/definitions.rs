//! Each DORA definition on hand-made event sets: empty windows, single events, odd and even
//! medians, p90 ranks, open incidents, window boundaries.

mod common;

use common::{dep, dep_in, inc, window};
use stellaops_dora_metrics::{
    DoraSummary, Outcome, PerformanceLevel, compute_summary, median, nearest_rank_percentile,
};

fn summary(
    deployments: &[stellaops_dora_metrics::DeploymentEvent],
    incidents: &[stellaops_dora_metrics::IncidentEvent],
    from_h: f64,
    to_h: f64,
) -> DoraSummary {
    compute_summary(deployments, incidents, &window(from_h, to_h))
}

#[test]
fn an_empty_window_has_zero_counts_zero_frequency_and_null_metrics() {
    let s = summary(&[], &[], 0.0, 24.0);
    assert_eq!(s.deployment_count, 0);
    assert_eq!(s.incident_count, 0);
    assert_eq!(s.deployment_frequency_per_day, 0.0);
    assert_eq!(s.lead_time_median_hours, None);
    assert_eq!(s.lead_time_p90_hours, None);
    assert_eq!(s.change_failure_rate_percent, None);
    assert_eq!(s.mttr_hours, None);
    assert_eq!(s.mtta_hours, None);
    assert_eq!(s.failed_deployment_recovery_hours, None);
    assert_eq!(s.rework_rate_percent, None);
    assert_eq!(s.levels.overall, PerformanceLevel::Unknown);
    assert_eq!(s.levels.deployment_frequency, PerformanceLevel::Unknown);
    let json = serde_json::to_value(&s).unwrap();
    assert!(json["leadTimeMedianHours"].is_null());
    assert!(json["mttrHours"].is_null());
    assert_eq!(json["deploymentFrequencyPerDay"], 0.0);
}

#[test]
fn events_outside_the_window_leave_it_empty() {
    let s = summary(
        &[dep("d-1", 20.0, 30.0, Outcome::Success)],
        &[inc("i-1", 30.0, Some(31.0), Some(32.0))],
        0.0,
        24.0,
    );
    assert_eq!(s.deployment_count, 0);
    assert_eq!(s.incident_count, 0);
    assert_eq!(s.mttr_hours, None);
}

#[test]
fn deployment_frequency_is_count_over_window_days() {
    let deployments: Vec<_> = (0..6)
        .map(|i| dep(&format!("d-{i}"), 0.0, 1.0 + f64::from(i), Outcome::Success))
        .collect();
    // 6 deployments over 2 days = 3 per day.
    assert_eq!(
        summary(&deployments, &[], 0.0, 48.0).deployment_frequency_per_day,
        3.0
    );
    // The same 6 over 12 hours = 12 per day.
    assert_eq!(
        summary(&deployments, &[], 0.0, 12.0).deployment_frequency_per_day,
        12.0
    );
    // A 7-day window with one deployment: 1/7 per day exactly.
    let one = summary(&deployments[..1], &[], 0.0, 24.0 * 7.0);
    assert_eq!(one.deployment_frequency_per_day, 1.0 / 7.0);
}

#[test]
fn window_is_half_open_deployed_at_from_counts_deployed_at_to_does_not() {
    let deployments = [
        dep("at-from", 0.0, 24.0, Outcome::Success),
        dep(
            "just-before-to",
            0.0,
            48.0 - 1e-9 / 3600.0,
            Outcome::Success,
        ),
        dep("at-to", 0.0, 48.0, Outcome::Success),
        dep("before-from", 0.0, 24.0 - 1e-9 / 3600.0, Outcome::Success),
    ];
    let s = summary(&deployments, &[], 24.0, 48.0);
    assert_eq!(s.deployment_count, 2);
    // The next window picks up exactly the one left out.
    assert_eq!(summary(&deployments, &[], 48.0, 72.0).deployment_count, 1);
}

#[test]
fn incidents_belong_to_the_window_by_started_at() {
    let incidents = [
        inc("at-from", 24.0, None, Some(26.0)),
        inc("at-to", 48.0, None, Some(49.0)),
        inc("started-before", 23.0, None, Some(25.0)),
    ];
    let s = summary(&[], &incidents, 24.0, 48.0);
    assert_eq!(s.incident_count, 1);
    assert_eq!(s.mttr_hours, Some(2.0));
}

#[test]
fn lead_time_of_a_single_deployment_is_its_median_and_p90() {
    let s = summary(&[dep("d-1", 1.0, 3.5, Outcome::Success)], &[], 0.0, 24.0);
    assert_eq!(s.lead_time_median_hours, Some(2.5));
    assert_eq!(s.lead_time_p90_hours, Some(2.5));
}

#[test]
fn lead_time_median_of_an_odd_count_is_the_middle_value() {
    let leads = [5.0, 1.0, 3.0];
    let deployments: Vec<_> = leads
        .iter()
        .enumerate()
        .map(|(i, l)| dep(&format!("d-{i}"), 10.0 - l, 10.0, Outcome::Success))
        .collect();
    let s = summary(&deployments, &[], 0.0, 24.0);
    assert_eq!(s.lead_time_median_hours, Some(3.0));
    // p90 nearest rank: ceil(0.9 * 3) = 3rd value = 5.
    assert_eq!(s.lead_time_p90_hours, Some(5.0));
}

#[test]
fn lead_time_median_of_an_even_count_is_the_mean_of_the_two_middle_values() {
    let leads = [8.0, 1.0, 2.0, 4.0];
    let deployments: Vec<_> = leads
        .iter()
        .enumerate()
        .map(|(i, l)| dep(&format!("d-{i}"), 10.0 - l, 10.0, Outcome::Success))
        .collect();
    let s = summary(&deployments, &[], 0.0, 24.0);
    assert_eq!(s.lead_time_median_hours, Some(3.0));
    assert_eq!(s.lead_time_p90_hours, Some(8.0));
}

#[test]
fn p90_uses_the_nearest_rank() {
    // 10 values 1..=10: rank ceil(9) = 9 -> 9. 11 values 1..=11: rank ceil(9.9) = 10 -> 10.
    let mut ten: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_eq!(nearest_rank_percentile(&mut ten, 90), Some(9.0));
    let mut eleven: Vec<f64> = (1..=11).rev().map(f64::from).collect();
    assert_eq!(nearest_rank_percentile(&mut eleven, 90), Some(10.0));
    let mut two = vec![7.0, 3.0];
    assert_eq!(nearest_rank_percentile(&mut two, 90), Some(7.0));
    assert_eq!(median(&mut two), Some(5.0));
    assert_eq!(median(&mut []), None);
    assert_eq!(nearest_rank_percentile(&mut [], 90), None);
}

#[test]
fn a_deployment_at_its_commit_time_has_zero_lead_time() {
    let s = summary(&[dep("d-1", 5.0, 5.0, Outcome::Success)], &[], 0.0, 24.0);
    assert_eq!(s.lead_time_median_hours, Some(0.0));
}

#[test]
fn change_failure_rate_counts_failure_rollback_and_hotfix() {
    let deployments = [
        dep("d-1", 0.0, 1.0, Outcome::Success),
        dep("d-2", 0.0, 2.0, Outcome::Failure),
        dep("d-3", 0.0, 3.0, Outcome::Rollback),
        dep("d-4", 0.0, 4.0, Outcome::Hotfix),
        dep("d-5", 0.0, 5.0, Outcome::Success),
    ];
    let s = summary(&deployments, &[], 0.0, 24.0);
    assert_eq!(s.change_failure_rate_percent, Some(60.0));
    let s = summary(&deployments[..1], &[], 0.0, 24.0);
    assert_eq!(s.change_failure_rate_percent, Some(0.0));
}

#[test]
fn change_failure_rate_is_exact_at_round_percentages() {
    // 3 of 20 is exactly 15 (multiplying first avoids 15.000000000000002).
    let deployments: Vec<_> = (0..20)
        .map(|i| {
            let outcome = if i < 3 {
                Outcome::Failure
            } else {
                Outcome::Success
            };
            dep(&format!("d-{i}"), 0.0, 1.0, outcome)
        })
        .collect();
    let s = summary(&deployments, &[], 0.0, 24.0);
    assert_eq!(s.change_failure_rate_percent, Some(15.0));
    assert_eq!(s.levels.change_failure_rate, PerformanceLevel::High);
}

#[test]
fn mttr_is_the_mean_over_resolved_incidents_started_in_the_window() {
    let incidents = [
        inc("i-1", 1.0, None, Some(2.0)),   // 1 h
        inc("i-2", 2.0, None, Some(5.0)),   // 3 h
        inc("i-3", 3.0, None, None),        // open: not in MTTR
        inc("i-4", 20.0, None, Some(30.0)), // resolved after the window end: counts (10 h)
    ];
    let s = summary(&[], &incidents, 0.0, 24.0);
    assert_eq!(s.incident_count, 4);
    assert_eq!(s.mttr_hours, Some(14.0 / 3.0));
}

#[test]
fn open_incidents_count_but_give_no_mttr_or_mtta() {
    let s = summary(&[], &[inc("i-1", 1.0, None, None)], 0.0, 24.0);
    assert_eq!(s.incident_count, 1);
    assert_eq!(s.mttr_hours, None);
    assert_eq!(s.mtta_hours, None);
    assert_eq!(s.levels.mttr, PerformanceLevel::Unknown);
}

#[test]
fn mtta_is_the_mean_over_acknowledged_incidents() {
    let incidents = [
        inc("i-1", 1.0, Some(1.25), None),
        inc("i-2", 2.0, Some(2.75), Some(4.0)),
        inc("i-3", 3.0, None, Some(4.0)),
    ];
    let s = summary(&[], &incidents, 0.0, 24.0);
    assert_eq!(s.mtta_hours, Some(0.5));
    assert_eq!(s.mttr_hours, Some(1.5));
}

#[test]
fn failed_deployment_recovery_is_the_median_time_to_the_next_success_of_the_same_track() {
    let deployments = [
        dep_in("acme", "prod", "api", "a-1", 0.0, 1.0, Outcome::Failure),
        dep_in("acme", "prod", "api", "a-2", 0.0, 2.0, Outcome::Rollback),
        dep_in("acme", "prod", "api", "a-3", 0.0, 4.0, Outcome::Success),
        // Another pipeline: its success does not recover api.
        dep_in("acme", "prod", "web", "w-1", 0.0, 1.5, Outcome::Success),
        dep_in("acme", "prod", "web", "w-2", 0.0, 5.0, Outcome::Hotfix),
        // Another environment of the same pipeline: does not recover prod's failure.
        dep_in("acme", "staging", "web", "s-1", 0.0, 6.0, Outcome::Success),
        dep_in("acme", "prod", "web", "w-3", 0.0, 11.0, Outcome::Success),
    ];
    // api: 1 -> 4 (3 h), 2 -> 4 (2 h); web: 5 -> 11 (6 h). Median of [2, 3, 6] = 3.
    let s = summary(&deployments, &[], 0.0, 24.0);
    assert_eq!(s.failed_deployment_recovery_hours, Some(3.0));
}

#[test]
fn an_unrecovered_failure_has_no_recovery_time() {
    let deployments = [
        dep("d-1", 0.0, 1.0, Outcome::Success),
        dep("d-2", 0.0, 2.0, Outcome::Failure),
    ];
    let s = summary(&deployments, &[], 0.0, 24.0);
    assert_eq!(s.failed_deployment_recovery_hours, None);
}

#[test]
fn a_success_at_the_same_instant_as_the_failure_does_not_recover_it() {
    let deployments = [
        dep("d-1", 0.0, 2.0, Outcome::Failure),
        dep("d-2", 0.0, 2.0, Outcome::Success),
        dep("d-3", 0.0, 3.5, Outcome::Success),
    ];
    let s = summary(&deployments, &[], 0.0, 24.0);
    assert_eq!(s.failed_deployment_recovery_hours, Some(1.5));
}

#[test]
fn recovery_after_the_window_end_counts_but_a_failure_before_the_window_does_not() {
    let deployments = [
        dep("before", 0.0, 1.0, Outcome::Failure),
        dep("inside", 0.0, 23.0, Outcome::Failure),
        dep("after", 0.0, 27.0, Outcome::Success),
    ];
    let s = summary(&deployments, &[], 2.0, 24.0);
    assert_eq!(s.deployment_count, 1);
    assert_eq!(s.failed_deployment_recovery_hours, Some(4.0));
    // An even number of recoveries: mean of the two middle values.
    let deployments = [
        dep("f-1", 0.0, 1.0, Outcome::Failure),
        dep("s-1", 0.0, 2.0, Outcome::Success),
        dep("f-2", 0.0, 3.0, Outcome::Failure),
        dep("s-2", 0.0, 6.0, Outcome::Success),
    ];
    let s = summary(&deployments, &[], 0.0, 24.0);
    assert_eq!(s.failed_deployment_recovery_hours, Some(2.0));
}

#[test]
fn rework_rate_counts_deployments_that_remediate_an_incident() {
    let mut fix = dep("d-2", 0.0, 2.0, Outcome::Success);
    fix.remediates_incident_id = Some("i-1".into());
    let deployments = [
        dep("d-1", 0.0, 1.0, Outcome::Success),
        fix,
        dep("d-3", 0.0, 3.0, Outcome::Success),
        dep("d-4", 0.0, 4.0, Outcome::Failure),
    ];
    let s = summary(&deployments, &[], 0.0, 24.0);
    assert_eq!(s.rework_rate_percent, Some(25.0));
}

#[test]
fn summary_json_has_exactly_the_documented_keys() {
    let s = summary(&[dep("d-1", 0.0, 1.0, Outcome::Success)], &[], 0.0, 24.0);
    let json = serde_json::to_value(&s).unwrap();
    let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "changeFailureRatePercent",
            "deploymentCount",
            "deploymentFrequencyPerDay",
            "failedDeploymentRecoveryHours",
            "incidentCount",
            "leadTimeMedianHours",
            "leadTimeP90Hours",
            "levels",
            "mttaHours",
            "mttrHours",
            "reworkRatePercent",
        ]
    );
    let mut level_keys: Vec<_> = json["levels"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    level_keys.sort();
    assert_eq!(
        level_keys,
        [
            "changeFailureRate",
            "deploymentFrequency",
            "leadTime",
            "mttr",
            "overall"
        ]
    );
    assert_eq!(json["levels"]["overall"], "Elite");
}
