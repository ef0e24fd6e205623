//! The report does not depend on the order events were recorded in, and it agrees with
//! dora-metrics' own summary on the metrics both compute (same definitions, same window rules).

mod common;

use common::*;
use proptest::prelude::*;
use stellaops_dora_metrics::{DoraEvent, compute_summary};
use stellaops_outcome_analytics::Rounded2;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn event_order_is_irrelevant(events in Just(fixture_events()).prop_shuffle()) {
        let shuffled = report_of(&events, &acme_prod(), &fixture_window());
        prop_assert_eq!(shuffled.to_json().unwrap(), fixture_report().to_json().unwrap());
    }
}

#[test]
fn totals_agree_with_the_dora_summary() {
    let events = fixture_events();
    let in_scope = |tenant: &str, environment: &str| tenant == "acme" && environment == "prod";
    let deployments: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            DoraEvent::Deployment(d) if in_scope(&d.tenant, &d.environment) => Some(d),
            _ => None,
        })
        .collect();
    let incidents: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            DoraEvent::Incident(i) if in_scope(&i.tenant, &i.environment) => Some(i),
            _ => None,
        })
        .collect();
    let summary = compute_summary(
        deployments.iter().copied(),
        incidents.iter().copied(),
        &fixture_window(),
    );
    let totals = fixture_report().totals;
    let round = |v: Option<f64>| v.and_then(Rounded2::from_f64);
    assert_eq!(totals.deployments, summary.deployment_count);
    assert_eq!(totals.incidents, summary.incident_count);
    assert_eq!(
        totals.change_failure_rate_percent,
        round(summary.change_failure_rate_percent)
    );
    assert_eq!(
        totals.median_lead_time_hours,
        round(summary.lead_time_median_hours)
    );
    assert_eq!(totals.mttr_hours, round(summary.mttr_hours));
    assert_eq!(totals.mtta_hours, round(summary.mtta_hours));
}
