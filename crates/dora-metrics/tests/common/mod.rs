//! Shared fixtures: fixed times and terse event constructors.
#![allow(dead_code)]

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use stellaops_dora_metrics::{DeploymentEvent, IncidentEvent, Outcome, Severity, Window};

/// 2025-03-03T00:00:00Z plus `hours` (fractions allowed, to the nanosecond).
pub(crate) fn t(hours: f64) -> DateTime<Utc> {
    let base = Utc.with_ymd_and_hms(2025, 3, 3, 0, 0, 0).unwrap();
    base + TimeDelta::nanoseconds((hours * 3_600e9).round() as i64)
}

/// The window [t(from_h), t(to_h)).
pub(crate) fn window(from_h: f64, to_h: f64) -> Window {
    Window::new(t(from_h), t(to_h)).unwrap()
}

/// A deployment of pipeline `api` in acme/prod.
pub(crate) fn dep(
    id: &str,
    committed_h: f64,
    deployed_h: f64,
    outcome: Outcome,
) -> DeploymentEvent {
    dep_in("acme", "prod", "api", id, committed_h, deployed_h, outcome)
}

pub(crate) fn dep_in(
    tenant: &str,
    environment: &str,
    pipeline: &str,
    id: &str,
    committed_h: f64,
    deployed_h: f64,
    outcome: Outcome,
) -> DeploymentEvent {
    DeploymentEvent {
        tenant: tenant.into(),
        environment: environment.into(),
        deployment_id: id.into(),
        pipeline: pipeline.into(),
        committed_at: t(committed_h),
        deployed_at: t(deployed_h),
        outcome,
        remediates_incident_id: None,
    }
}

/// An incident in acme/prod.
pub(crate) fn inc(
    id: &str,
    started_h: f64,
    acked_h: Option<f64>,
    resolved_h: Option<f64>,
) -> IncidentEvent {
    IncidentEvent {
        tenant: "acme".into(),
        environment: "prod".into(),
        incident_id: id.into(),
        severity: Severity::High,
        started_at: t(started_h),
        acknowledged_at: acked_h.map(t),
        resolved_at: resolved_h.map(t),
        caused_by_deployment_id: None,
    }
}
