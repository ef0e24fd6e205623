//! DORA summary over 1 million deployments and 100 thousand incidents (one tenant, three
//! environments, twenty pipelines, 90 days, recorded in the order they happened), on one core.
//!
//! - `compute_summary`: the pure computation over slices (what the CLI and outcome analytics
//!   use);
//! - `service_summary`: the same through `DoraMetricsService` over the in-memory store (window
//!   range scans, no event cloning);
//! - baseline `scan_sum_lead_times`: one pass that only sums lead times — the floor set by
//!   reading the events;
//! - baseline `sort_lead_times`: the textbook median/p90, a full sort of the lead times.
//!
//! `cargo bench --bench dora -- --warm-up-time 1 --measurement-time 3`. Run as a test
//! (`cargo nextest run --all-targets`) it uses 2 000 deployments so it stays quick.

#![allow(missing_docs)] // criterion_group! defines an undocumented public function

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use stellaops_dora_metrics::{
    DeploymentEvent, DoraMetricsService, IncidentEvent, Outcome, Scope, Severity, Window,
    compute_summary,
};

struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 1, 1, 0, 0, 0).unwrap()
}

const DAYS: i64 = 90;
const ENVIRONMENTS: [&str; 3] = ["prod", "staging", "dev"];

/// Events as a release orchestrator reports them: in the order they complete (deployments by
/// `deployedAt`, incidents by `startedAt`), with random environments, pipelines and outcomes.
fn events(deployments: usize, incidents: usize) -> (Vec<DeploymentEvent>, Vec<IncidentEvent>) {
    let mut rng = SplitMix(42);
    let span_s = (DAYS * 86_400) as u64;
    let pipelines: Vec<String> = (0..20).map(|i| format!("pipeline-{i}")).collect();
    let mut deployed: Vec<i64> = (0..deployments).map(|_| rng.below(span_s) as i64).collect();
    deployed.sort_unstable();
    let mut started: Vec<i64> = (0..incidents).map(|_| rng.below(span_s) as i64).collect();
    started.sort_unstable();
    let ds = deployed
        .into_iter()
        .enumerate()
        .map(|(i, offset)| {
            let deployed_at = start() + TimeDelta::seconds(offset);
            let outcome = match rng.below(100) {
                0..=84 => Outcome::Success,
                85..=92 => Outcome::Failure,
                93..=97 => Outcome::Rollback,
                _ => Outcome::Hotfix,
            };
            DeploymentEvent {
                tenant: "acme".into(),
                environment: ENVIRONMENTS[rng.below(3) as usize].into(),
                deployment_id: format!("d-{i}"),
                pipeline: pipelines[rng.below(20) as usize].clone(),
                committed_at: deployed_at - TimeDelta::seconds(rng.below(7 * 86_400) as i64),
                deployed_at,
                outcome,
                remediates_incident_id: (rng.below(50) == 0).then(|| format!("i-{i}")),
            }
        })
        .collect();
    let is = started
        .into_iter()
        .enumerate()
        .map(|(i, offset)| {
            let started_at = start() + TimeDelta::seconds(offset);
            IncidentEvent {
                tenant: "acme".into(),
                environment: ENVIRONMENTS[rng.below(3) as usize].into(),
                incident_id: format!("i-{i}"),
                severity: Severity::ALL[rng.below(4) as usize],
                started_at,
                acknowledged_at: (rng.below(10) < 9)
                    .then(|| started_at + TimeDelta::seconds(rng.below(3600) as i64)),
                resolved_at: (rng.below(10) < 8)
                    .then(|| started_at + TimeDelta::seconds(rng.below(86_400) as i64)),
                caused_by_deployment_id: None,
            }
        })
        .collect();
    (ds, is)
}

fn bench(c: &mut Criterion) {
    let full = std::env::args().any(|a| a == "--bench");
    let (n_deployments, n_incidents) = if full {
        (1_000_000, 100_000)
    } else {
        (2_000, 200)
    };
    let (deployments, incidents) = events(n_deployments, n_incidents);
    let window = Window::new(start(), start() + TimeDelta::days(DAYS)).unwrap();
    let dora = DoraMetricsService::new();
    for d in &deployments {
        dora.record_deployment(d).unwrap();
    }
    for i in &incidents {
        dora.record_incident(i).unwrap();
    }
    let scope = Scope::tenant("acme");
    let summary = compute_summary(&deployments, &incidents, &window);
    assert_eq!(summary.deployment_count as usize, n_deployments);
    assert_eq!(dora.summary(&scope, &window).unwrap(), summary);

    let label = format!("{n_deployments}_deployments_{n_incidents}_incidents");
    let mut group = c.benchmark_group("dora_summary");
    group.sample_size(10);
    group.bench_function(BenchmarkId::new("compute_summary", &label), |b| {
        b.iter(|| {
            black_box(compute_summary(
                &deployments,
                &incidents,
                black_box(&window),
            ))
        });
    });
    group.bench_function(BenchmarkId::new("service_summary", &label), |b| {
        b.iter(|| black_box(dora.summary(&scope, black_box(&window)).unwrap()));
    });
    group.bench_function(
        BenchmarkId::new("baseline_scan_sum_lead_times", &label),
        |b| {
            b.iter(|| {
                let total: f64 = deployments
                    .iter()
                    .filter(|d| window.contains_deployment(d))
                    .map(DeploymentEvent::lead_time_hours)
                    .sum();
                black_box(total)
            });
        },
    );
    group.bench_function(BenchmarkId::new("baseline_sort_lead_times", &label), |b| {
        b.iter(|| {
            let mut leads: Vec<f64> = deployments
                .iter()
                .filter(|d| window.contains_deployment(d))
                .map(DeploymentEvent::lead_time_hours)
                .collect();
            leads.sort_by(f64::total_cmp);
            let n = leads.len();
            black_box((leads[n / 2], leads[(9 * n).div_ceil(10) - 1]))
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
