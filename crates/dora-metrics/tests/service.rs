//! The service: SLO breach counting and when it happens, window evaluation, tenant and
//! environment isolation, open incidents against an injected clock, store queries.

mod common;

use chrono::{NaiveDate, TimeDelta};
use common::{dep, dep_in, inc, t, window};
use std::sync::Arc;
use stellaops_dora_metrics::{
    DoraMetricsOptions, DoraMetricsService, DoraStore, InMemoryDoraStore, ManualClock, Outcome,
    PerformanceLevel, Scope, SloMetric, Window, compute_summary,
};

fn service_at(now_h: f64) -> (DoraMetricsService, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(t(now_h)));
    let dora = DoraMetricsService::builder().clock(clock.clone()).build();
    (dora, clock)
}

fn breaches(dora: &DoraMetricsService, metric: SloMetric) -> u64 {
    dora.metrics().slo_breach_count("acme", "prod", metric)
}

#[test]
fn lead_time_slo_is_evaluated_per_new_deployment_and_only_above_the_target() {
    let (dora, _) = service_at(0.0);
    dora.record_deployment(&dep("d-1", 0.0, 24.0, Outcome::Success))
        .unwrap(); // exactly 24 h
    assert_eq!(breaches(&dora, SloMetric::LeadTime), 0);
    dora.record_deployment(&dep("d-2", 0.0, 24.5, Outcome::Success))
        .unwrap();
    assert_eq!(breaches(&dora, SloMetric::LeadTime), 1);
    // An identical repeat is not counted again.
    dora.record_deployment(&dep("d-2", 0.0, 24.5, Outcome::Success))
        .unwrap();
    assert_eq!(breaches(&dora, SloMetric::LeadTime), 1);
    assert_eq!(dora.metrics().deployment_count("acme", "prod"), 2);
}

#[test]
fn mttr_slo_is_evaluated_when_an_incident_becomes_resolved() {
    let (dora, _) = service_at(0.0);
    dora.record_incident(&inc("i-1", 0.0, None, None)).unwrap();
    assert_eq!(
        breaches(&dora, SloMetric::Mttr),
        0,
        "open incidents are not evaluated"
    );
    dora.resolve("acme", "prod", "i-1", t(2.0)).unwrap();
    assert_eq!(breaches(&dora, SloMetric::Mttr), 1);
    dora.resolve("acme", "prod", "i-1", t(2.0)).unwrap();
    assert_eq!(
        breaches(&dora, SloMetric::Mttr),
        1,
        "repeated resolution counts once"
    );
    // Recorded already resolved: evaluated at record time.
    dora.record_incident(&inc("i-2", 0.0, None, Some(1.0)))
        .unwrap(); // exactly 1 h: no breach
    dora.record_incident(&inc("i-3", 0.0, None, Some(3.0)))
        .unwrap();
    assert_eq!(breaches(&dora, SloMetric::Mttr), 2);
}

#[test]
fn window_slos_count_once_per_window_and_set_the_gauges() {
    let (dora, _) = service_at(0.0);
    // Day 1: 2 deployments, 1 rollback: frequency 2/day (ok), CFR 50 % (breach).
    dora.record_deployment(&dep("d-1", 0.0, 1.0, Outcome::Success))
        .unwrap();
    dora.record_deployment(&dep("d-2", 0.0, 2.0, Outcome::Rollback))
        .unwrap();
    let day1 = window(0.0, 24.0);
    let eval = dora.evaluate_window("acme", "prod", &day1).unwrap();
    assert_eq!(eval.breaches, [SloMetric::ChangeFailureRate]);
    assert!(eval.counted);
    assert_eq!(breaches(&dora, SloMetric::ChangeFailureRate), 1);
    assert_eq!(breaches(&dora, SloMetric::DeploymentFrequency), 0);
    // Evaluating the same window again does not count again.
    let again = dora.evaluate_window("acme", "prod", &day1).unwrap();
    assert!(!again.counted);
    assert_eq!(breaches(&dora, SloMetric::ChangeFailureRate), 1);
    // Day 2: no deployments: frequency 0 < 1 breaches; no CFR, no CFR breach.
    let day2 = window(24.0, 48.0);
    let eval = dora.evaluate_window("acme", "prod", &day2).unwrap();
    assert_eq!(eval.breaches, [SloMetric::DeploymentFrequency]);
    assert_eq!(breaches(&dora, SloMetric::DeploymentFrequency), 1);
    assert_eq!(breaches(&dora, SloMetric::ChangeFailureRate), 1);
    let text = dora.metrics().encode_openmetrics().unwrap();
    assert!(
        text.contains(r#"dora_deployment_frequency_per_day{tenant="acme",environment="prod"} 0.0"#),
        "{text}"
    );
    assert!(
        !text.contains("dora_change_failure_rate_percent{"),
        "stale CFR kept: {text}"
    );
}

#[test]
fn window_slo_targets_come_from_the_options() {
    let dora = DoraMetricsService::builder()
        .options(DoraMetricsOptions {
            deployment_frequency_slo_per_day: 0.5,
            change_failure_rate_slo_percent: 50.0,
            lead_time_slo_hours: 0.5,
            mttr_slo_hours: 10.0,
        })
        .build();
    dora.record_deployment(&dep("d-1", 0.0, 1.0, Outcome::Success))
        .unwrap();
    dora.record_deployment(&dep("d-2", 0.0, 2.0, Outcome::Rollback))
        .unwrap();
    dora.record_incident(&inc("i-1", 0.0, None, Some(3.0)))
        .unwrap();
    let eval = dora
        .evaluate_window("acme", "prod", &window(0.0, 48.0))
        .unwrap();
    assert!(eval.breaches.is_empty(), "{:?}", eval.breaches);
    assert_eq!(breaches(&dora, SloMetric::LeadTime), 2);
    assert_eq!(breaches(&dora, SloMetric::Mttr), 0);
}

#[test]
fn evaluate_previous_utc_day_uses_the_clock() {
    let (dora, clock) = service_at(24.0 + 5.0); // 2025-03-04T05:00Z
    dora.record_deployment(&dep("d-1", 0.0, 3.0, Outcome::Success))
        .unwrap();
    let eval = dora.evaluate_previous_utc_day("acme", "prod").unwrap();
    assert_eq!(eval.summary.deployment_count, 1);
    assert_eq!(eval.breaches, [] as [SloMetric; 0]);
    clock.advance(TimeDelta::days(1));
    let eval = dora.evaluate_previous_utc_day("acme", "prod").unwrap();
    assert_eq!(eval.summary.deployment_count, 0);
    assert_eq!(eval.breaches, [SloMetric::DeploymentFrequency]);
    assert_eq!(
        Window::utc_day(NaiveDate::from_ymd_opt(2025, 3, 3).unwrap()).unwrap(),
        window(0.0, 24.0)
    );
}

#[test]
fn tenants_and_environments_are_isolated() {
    let (dora, _) = service_at(0.0);
    let events = [
        dep_in("acme", "prod", "api", "d-1", 0.0, 1.0, Outcome::Success),
        dep_in("acme", "prod", "api", "d-2", 0.0, 2.0, Outcome::Failure),
        dep_in("acme", "staging", "api", "d-1", 0.0, 3.0, Outcome::Success),
        dep_in("globex", "prod", "api", "d-1", 0.0, 4.0, Outcome::Rollback),
    ];
    for e in &events {
        dora.record_deployment(e).unwrap();
    }
    let day = window(0.0, 24.0);
    let prod = dora
        .summary(&Scope::environment("acme", "prod"), &day)
        .unwrap();
    assert_eq!(prod.deployment_count, 2);
    assert_eq!(prod.change_failure_rate_percent, Some(50.0));
    let staging = dora
        .summary(&Scope::environment("acme", "staging"), &day)
        .unwrap();
    assert_eq!(staging.deployment_count, 1);
    assert_eq!(staging.change_failure_rate_percent, Some(0.0));
    let acme = dora.summary(&Scope::tenant("acme"), &day).unwrap();
    assert_eq!(acme.deployment_count, 3);
    // The staging success does not recover the prod failure.
    assert_eq!(acme.failed_deployment_recovery_hours, None);
    let globex = dora.summary(&Scope::tenant("globex"), &day).unwrap();
    assert_eq!(globex.deployment_count, 1);
    assert_eq!(globex.change_failure_rate_percent, Some(100.0));
    let nobody = dora.summary(&Scope::tenant("acm"), &day).unwrap();
    assert_eq!(nobody.deployment_count, 0);
    assert_eq!(dora.metrics().deployment_failure_count("acme", "prod"), 1);
    assert_eq!(
        dora.metrics().deployment_failure_count("acme", "staging"),
        0
    );
    assert_eq!(dora.metrics().deployment_failure_count("globex", "prod"), 1);
    assert_eq!(
        dora.store().environments("acme").unwrap(),
        ["prod", "staging"]
    );
}

#[test]
fn open_incidents_report_their_age_at_the_clock() {
    let (dora, clock) = service_at(10.0);
    dora.record_incident(&inc("i-2", 4.0, Some(5.0), None))
        .unwrap();
    dora.record_incident(&inc("i-1", 2.0, None, None)).unwrap();
    dora.record_incident(&inc("i-3", 1.0, None, Some(3.0)))
        .unwrap();
    let open = dora
        .open_incidents(&Scope::environment("acme", "prod"))
        .unwrap();
    let ids: Vec<_> = open
        .iter()
        .map(|o| o.incident.incident_id.as_str())
        .collect();
    assert_eq!(ids, ["i-1", "i-2"]);
    assert_eq!(open[0].open_hours, 8.0);
    clock.set(t(12.0));
    dora.resolve("acme", "prod", "i-1", t(11.0)).unwrap();
    let open = dora.open_incidents(&Scope::tenant("acme")).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].open_hours, 8.0);
}

#[test]
fn service_summary_matches_the_pure_computation_and_uses_later_recoveries() {
    let store = Arc::new(InMemoryDoraStore::new());
    let dora = DoraMetricsService::builder().store(store.clone()).build();
    let deployments = [
        dep("d-1", 0.0, 1.0, Outcome::Success),
        dep("d-2", 0.0, 20.0, Outcome::Failure),
        dep("d-3", 0.0, 30.0, Outcome::Success),
    ];
    let incidents = [
        inc("i-1", 5.0, Some(6.0), Some(8.0)),
        inc("i-2", 6.0, None, None),
    ];
    for d in &deployments {
        dora.record_deployment(d).unwrap();
    }
    for i in &incidents {
        dora.record_incident(i).unwrap();
    }
    let day = window(0.0, 24.0);
    let from_service = dora
        .summary(&Scope::environment("acme", "prod"), &day)
        .unwrap();
    assert_eq!(
        from_service,
        compute_summary(&deployments, &incidents, &day)
    );
    assert_eq!(from_service.failed_deployment_recovery_hours, Some(10.0));
    assert_eq!(from_service.mttr_hours, Some(3.0));
    assert_eq!(from_service.levels.mttr, PerformanceLevel::High);
    // Queries follow the window rules.
    let listed = store.deployments(&Scope::tenant("acme"), &day).unwrap();
    let ids: Vec<_> = listed.iter().map(|d| d.deployment_id.as_str()).collect();
    assert_eq!(ids, ["d-1", "d-2"]);
    let listed = dora
        .incidents(&Scope::tenant("acme"), &window(6.0, 7.0))
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].incident_id, "i-2");
}
