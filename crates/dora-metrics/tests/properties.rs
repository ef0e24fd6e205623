//! Properties: metrics do not depend on event order (pure function and store-backed service
//! alike); medians and p90 match a brute-force sort; windows partition events; JSON lines round
//! trip; classification is monotonic.

mod common;

use chrono::TimeDelta;
use common::t;
use proptest::prelude::*;
use stellaops_dora_metrics::{
    ClassificationThresholds, DeploymentEvent, DoraEvent, DoraMetricsService, IncidentEvent,
    Outcome, Scope, Severity, Window, compute_summary, event_to_json_line, median,
    nearest_rank_percentile, parse_event_line,
};

fn outcome() -> impl Strategy<Value = Outcome> {
    prop::sample::select(Outcome::ALL.to_vec())
}

/// Deployments over ~10 days in two environments and two pipelines, times to the nanosecond;
/// half of them on whole hours of the first two days, so equal times (ties) are common.
fn deployments() -> impl Strategy<Value = Vec<DeploymentEvent>> {
    prop::collection::vec(
        (
            prop_oneof![0i64..240 * 3600, (0i64..48).prop_map(|h| h * 3600)],
            prop_oneof![Just(0i64), 0i64..1_000_000_000],
            0i64..72 * 3600,
            outcome(),
            prop::bool::ANY,
            prop::bool::ANY,
            prop::bool::weighted(0.2),
        ),
        0..60,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(
                |(i, (at_s, nanos, lead_s, outcome, staging, web, remediates))| {
                    let deployed_at =
                        t(0.0) + TimeDelta::seconds(at_s) + TimeDelta::nanoseconds(nanos);
                    DeploymentEvent {
                        tenant: "acme".into(),
                        environment: if staging { "staging" } else { "prod" }.into(),
                        deployment_id: format!("d-{i}"),
                        pipeline: if web { "web" } else { "api" }.into(),
                        committed_at: deployed_at - TimeDelta::seconds(lead_s),
                        deployed_at,
                        outcome,
                        remediates_incident_id: remediates.then(|| format!("i-{i}")),
                    }
                },
            )
            .collect()
    })
}

fn incidents() -> impl Strategy<Value = Vec<IncidentEvent>> {
    prop::collection::vec(
        (
            0i64..240 * 3600,
            prop::option::of(0i64..10 * 3600),
            prop::option::of(0i64..100 * 3600),
            prop::sample::select(Severity::ALL.to_vec()),
            prop::bool::ANY,
        ),
        0..30,
    )
    .prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(i, (start_s, ack_s, resolve_s, severity, staging))| {
                let started_at = t(0.0) + TimeDelta::seconds(start_s);
                IncidentEvent {
                    tenant: "acme".into(),
                    environment: if staging { "staging" } else { "prod" }.into(),
                    incident_id: format!("i-{i}"),
                    severity,
                    started_at,
                    acknowledged_at: ack_s.map(|s| started_at + TimeDelta::seconds(s)),
                    resolved_at: resolve_s.map(|s| started_at + TimeDelta::seconds(s)),
                    caused_by_deployment_id: None,
                }
            })
            .collect()
    })
}

fn window() -> impl Strategy<Value = Window> {
    (0i64..200, 1i64..120).prop_map(|(from_h, len_h)| {
        Window::new(
            t(0.0) + TimeDelta::hours(from_h),
            t(0.0) + TimeDelta::hours(from_h + len_h),
        )
        .unwrap()
    })
}

fn shuffled<T: Clone + std::fmt::Debug>(items: Vec<T>) -> impl Strategy<Value = (Vec<T>, Vec<T>)> {
    Just(items.clone())
        .prop_shuffle()
        .prop_map(move |s| (items.clone(), s))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn summary_does_not_depend_on_event_order(
        (ds, ds_shuffled) in deployments().prop_flat_map(shuffled),
        (is, is_shuffled) in incidents().prop_flat_map(shuffled),
        w in window(),
    ) {
        let a = compute_summary(&ds, &is, &w);
        let b = compute_summary(&ds_shuffled, &is_shuffled, &w);
        prop_assert_eq!(&a, &b);
        // Reversed order too (a permutation proptest may not pick).
        let c = compute_summary(ds.iter().rev(), is.iter().rev(), &w);
        prop_assert_eq!(&a, &c);
    }

    #[test]
    fn service_over_a_store_agrees_with_the_pure_computation_in_any_order(
        (ds, ds_shuffled) in deployments().prop_flat_map(shuffled),
        is in incidents(),
        w in window(),
    ) {
        let dora = DoraMetricsService::new();
        for d in &ds_shuffled {
            dora.record_deployment(d).unwrap();
        }
        for i in is.iter().rev() {
            dora.record_incident(i).unwrap();
        }
        for scope in [Scope::tenant("acme"), Scope::environment("acme", "prod")] {
            let selected_d: Vec<_> = ds.iter().filter(|d| scope.includes_deployment(d)).collect();
            let selected_i: Vec<_> = is.iter().filter(|i| scope.includes_incident(i)).collect();
            let expected = compute_summary(selected_d, selected_i, &w);
            prop_assert_eq!(dora.summary(&scope, &w).unwrap(), expected);
        }
    }

    #[test]
    fn median_and_p90_match_a_brute_force_sort(values in prop::collection::vec(0.0f64..1e6, 0..200)) {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let expected_median = match n {
            0 => None,
            _ if n % 2 == 1 => Some(sorted[n / 2]),
            _ => Some(sorted[n / 2 - 1] / 2.0 + sorted[n / 2] / 2.0),
        };
        // Nearest rank: the smallest value with at least 90 % of values at or below it.
        let expected_p90 = (1..=n).find(|k| k * 100 >= 90 * n).map(|k| sorted[k - 1]);
        prop_assert_eq!(median(&mut values.clone()), expected_median);
        prop_assert_eq!(nearest_rank_percentile(&mut values.clone(), 90), expected_p90);
    }

    #[test]
    fn lead_time_statistics_match_a_brute_force_reference(ds in deployments(), w in window()) {
        let mut leads: Vec<f64> = ds
            .iter()
            .filter(|d| w.contains_deployment(d))
            .map(DeploymentEvent::lead_time_hours)
            .collect();
        leads.sort_by(f64::total_cmp);
        let s = compute_summary(&ds, &[], &w);
        prop_assert_eq!(s.deployment_count as usize, leads.len());
        let n = leads.len();
        let median = (n > 0).then(|| if n % 2 == 1 { leads[n / 2] } else { leads[n / 2 - 1] / 2.0 + leads[n / 2] / 2.0 });
        prop_assert_eq!(s.lead_time_median_hours, median);
        let p90 = (n > 0).then(|| leads[(9 * n).div_ceil(10) - 1]);
        prop_assert_eq!(s.lead_time_p90_hours, p90);
    }

    #[test]
    fn failed_deployment_recovery_matches_a_brute_force_reference(ds in deployments(), w in window()) {
        let mut recoveries: Vec<f64> = ds
            .iter()
            .filter(|f| w.contains_deployment(f) && f.outcome.is_change_failure())
            .filter_map(|f| {
                ds.iter()
                    .filter(|s| {
                        s.outcome == Outcome::Success
                            && s.environment == f.environment
                            && s.pipeline == f.pipeline
                            && s.deployed_at > f.deployed_at
                    })
                    .map(|s| s.deployed_at)
                    .min()
                    .map(|s| stellaops_dora_metrics::hours_between(f.deployed_at, s))
            })
            .collect();
        recoveries.sort_by(f64::total_cmp);
        let n = recoveries.len();
        let expected = (n > 0).then(|| {
            if n % 2 == 1 { recoveries[n / 2] } else { recoveries[n / 2 - 1] / 2.0 + recoveries[n / 2] / 2.0 }
        });
        prop_assert_eq!(compute_summary(&ds, &[], &w).failed_deployment_recovery_hours, expected);
    }

    #[test]
    fn consecutive_windows_partition_the_events(ds in deployments(), is in incidents(), a in 0i64..100, b in 1i64..100, c in 1i64..100) {
        let at = |h: i64| t(0.0) + TimeDelta::hours(h);
        let first = Window::new(at(a), at(a + b)).unwrap();
        let second = Window::new(at(a + b), at(a + b + c)).unwrap();
        let whole = Window::new(at(a), at(a + b + c)).unwrap();
        let (s1, s2, sw) = (compute_summary(&ds, &is, &first), compute_summary(&ds, &is, &second), compute_summary(&ds, &is, &whole));
        prop_assert_eq!(s1.deployment_count + s2.deployment_count, sw.deployment_count);
        prop_assert_eq!(s1.incident_count + s2.incident_count, sw.incident_count);
    }

    #[test]
    fn json_lines_round_trip(ds in deployments(), is in incidents()) {
        let events: Vec<DoraEvent> = ds.into_iter().map(DoraEvent::from).chain(is.into_iter().map(DoraEvent::from)).collect();
        for event in events {
            let line = event_to_json_line(&event);
            prop_assert!(!line.contains('\n'));
            prop_assert_eq!(parse_event_line(&line).unwrap(), event);
        }
    }

    #[test]
    fn classification_is_monotonic(x in 0.0f64..10_000.0, y in 0.0f64..10_000.0) {
        let (lo, hi) = if x <= y { (x, y) } else { (y, x) };
        for table in [ClassificationThresholds::seed_default(), ClassificationThresholds::dora_2023()] {
            for bounds in [table.lead_time, table.change_failure_rate, table.mttr] {
                prop_assert!(bounds.classify(Some(lo)).rank() <= bounds.classify(Some(hi)).rank());
            }
            let df = table.deployment_frequency;
            prop_assert!(df.classify(Some(hi)).rank() <= df.classify(Some(lo)).rank());
        }
    }
}
