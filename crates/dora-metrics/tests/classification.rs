//! Classification at every threshold edge, for both tables, and the overall level.

mod common;

use stellaops_dora_metrics::{
    Bound, ClassificationThresholds, DoraLevels, LevelBounds, PerformanceLevel as L,
};

fn seed() -> ClassificationThresholds {
    ClassificationThresholds::seed_default()
}

#[test]
fn deployment_frequency_edges_are_inclusive_lower_bounds() {
    let df = seed().deployment_frequency;
    assert_eq!(df.classify(Some(1.0)), L::Elite); // daily
    assert_eq!(df.classify(Some(0.999_999)), L::High);
    assert_eq!(df.classify(Some(1.0 / 7.0)), L::High); // weekly
    assert_eq!(df.classify(Some(2.0 / 14.0)), L::High); // weekly, computed another way
    assert_eq!(df.classify(Some(1.0 / 7.0 - 1e-12)), L::Medium);
    assert_eq!(df.classify(Some(1.0 / 30.0)), L::Medium); // monthly
    assert_eq!(df.classify(Some(1.0 / 30.0 - 1e-12)), L::Low);
    assert_eq!(df.classify(Some(0.0)), L::Low);
    assert_eq!(df.classify(None), L::Unknown);
}

#[test]
fn lead_time_edges_are_strict_upper_bounds() {
    let lt = seed().lead_time;
    assert_eq!(lt.classify(Some(0.0)), L::Elite);
    assert_eq!(lt.classify(Some(23.999)), L::Elite);
    assert_eq!(lt.classify(Some(24.0)), L::High);
    assert_eq!(lt.classify(Some(167.999)), L::High);
    assert_eq!(lt.classify(Some(168.0)), L::Medium);
    assert_eq!(lt.classify(Some(4319.999)), L::Medium);
    assert_eq!(lt.classify(Some(4320.0)), L::Low);
    assert_eq!(lt.classify(None), L::Unknown);
}

#[test]
fn change_failure_rate_edges_are_strict_upper_bounds() {
    let cfr = seed().change_failure_rate;
    assert_eq!(cfr.classify(Some(0.0)), L::Elite);
    assert_eq!(cfr.classify(Some(14.99)), L::Elite);
    assert_eq!(cfr.classify(Some(15.0)), L::High);
    assert_eq!(cfr.classify(Some(29.99)), L::High);
    assert_eq!(cfr.classify(Some(30.0)), L::Medium);
    assert_eq!(cfr.classify(Some(44.99)), L::Medium);
    assert_eq!(cfr.classify(Some(45.0)), L::Low);
    assert_eq!(cfr.classify(Some(100.0)), L::Low);
}

#[test]
fn mttr_edges_are_strict_upper_bounds() {
    let mttr = seed().mttr;
    assert_eq!(mttr.classify(Some(0.999)), L::Elite);
    assert_eq!(mttr.classify(Some(1.0)), L::High);
    assert_eq!(mttr.classify(Some(23.999)), L::High);
    assert_eq!(mttr.classify(Some(24.0)), L::Medium);
    assert_eq!(mttr.classify(Some(167.999)), L::Medium);
    assert_eq!(mttr.classify(Some(168.0)), L::Low);
}

#[test]
fn dora_2023_table_differs_where_the_report_differs() {
    let t = ClassificationThresholds::dora_2023();
    // Lead time: Medium ends at one month, not six.
    assert_eq!(t.lead_time.classify(Some(719.999)), L::Medium);
    assert_eq!(t.lead_time.classify(Some(720.0)), L::Low);
    assert_eq!(seed().lead_time.classify(Some(720.0)), L::Medium);
    // Change failure rate: the cluster values are inclusive ceilings.
    assert_eq!(t.change_failure_rate.classify(Some(5.0)), L::Elite);
    assert_eq!(t.change_failure_rate.classify(Some(5.01)), L::High);
    assert_eq!(t.change_failure_rate.classify(Some(10.0)), L::High);
    assert_eq!(t.change_failure_rate.classify(Some(10.01)), L::Medium);
    assert_eq!(t.change_failure_rate.classify(Some(15.0)), L::Medium);
    assert_eq!(t.change_failure_rate.classify(Some(15.01)), L::Low);
    // Frequency and recovery are as in the seed table.
    assert_eq!(t.deployment_frequency, seed().deployment_frequency);
    assert_eq!(t.mttr, seed().mttr);
}

#[test]
fn overall_is_the_worst_known_level_and_unknown_only_without_any_data() {
    let levels = DoraLevels::from_metrics(L::Elite, L::High, L::Elite, L::Unknown);
    assert_eq!(levels.overall, L::High);
    let levels = DoraLevels::from_metrics(L::Elite, L::Elite, L::Low, L::Medium);
    assert_eq!(levels.overall, L::Low);
    let levels = DoraLevels::from_metrics(L::Elite, L::Elite, L::Elite, L::Elite);
    assert_eq!(levels.overall, L::Elite);
    let levels = DoraLevels::from_metrics(L::Unknown, L::Unknown, L::Unknown, L::Unknown);
    assert_eq!(levels.overall, L::Unknown);
}

#[test]
fn thresholds_are_configurable_and_serializable() {
    let mut custom = seed();
    custom.lead_time = LevelBounds {
        elite: Bound::Below(1.0),
        high: Bound::AtMost(12.0),
        medium: Bound::Below(48.0),
    };
    assert_eq!(custom.lead_time.classify(Some(12.0)), L::High);
    assert_eq!(custom.lead_time.classify(Some(2.0)), L::High);
    let json = serde_json::to_string(&custom).unwrap();
    let back: ClassificationThresholds = serde_json::from_str(&json).unwrap();
    assert_eq!(back, custom);
}

#[test]
fn summary_levels_follow_the_table_used() {
    use common::{dep, window};
    use stellaops_dora_metrics::{Outcome, compute_summary, compute_summary_with};
    // 12 deployments over 1 day, 1 failure: CFR 8.33 %, lead time 30 h.
    let deployments: Vec<_> = (0..12)
        .map(|i| {
            let outcome = if i == 0 {
                Outcome::Failure
            } else {
                Outcome::Success
            };
            dep(
                &format!("d-{i}"),
                -30.0 + f64::from(i),
                f64::from(i),
                outcome,
            )
        })
        .collect();
    let w = window(0.0, 24.0);
    let seed_summary = compute_summary(&deployments, &[], &w);
    assert_eq!(seed_summary.levels.change_failure_rate, L::Elite);
    assert_eq!(seed_summary.levels.lead_time, L::High);
    assert_eq!(seed_summary.levels.overall, L::High);
    let dora = compute_summary_with(
        &deployments,
        &[],
        &w,
        &ClassificationThresholds::dora_2023(),
    );
    assert_eq!(dora.levels.change_failure_rate, L::High);
    assert_eq!(
        seed_summary
            .clone()
            .classified_with(&ClassificationThresholds::dora_2023()),
        dora
    );
}
