//! Time windows and tenant/environment scopes: the selection rules every DORA computation
//! (here and in outcome analytics) shares. Not for computing metrics: see [`crate::summary`].
//!
//! A [`Window`] is half-open, `[from, to)`: a deployment belongs to it when
//! `from <= deployedAt < to`, an incident when `from <= startedAt < to`. Consecutive windows
//! (`[a, b)`, `[b, c)`) therefore never count an event twice and never miss one.

use crate::error::WindowError;
use crate::event::{DeploymentEvent, IncidentEvent};
use crate::hours::duration_nanos;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// A half-open time window `[from, to)` with `from < to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "RawWindow")]
pub struct Window {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

#[derive(Deserialize)]
struct RawWindow {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl TryFrom<RawWindow> for Window {
    type Error = WindowError;
    fn try_from(raw: RawWindow) -> Result<Self, Self::Error> {
        Window::new(raw.from, raw.to)
    }
}

const NANOS_PER_DAY: f64 = 86_400e9;

impl Window {
    /// The window `[from, to)`.
    ///
    /// # Errors
    /// [`WindowError`] when `from` is not strictly before `to` (an empty or reversed window has
    /// no length to divide by).
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Self, WindowError> {
        if from < to {
            Ok(Self { from, to })
        } else {
            Err(WindowError { from, to })
        }
    }

    /// The window of `length` ending at `to` (exclusive): `[to - length, to)`.
    ///
    /// # Errors
    /// [`WindowError`] when `length` is not positive (or reaches before the earliest
    /// representable time).
    pub fn ending_at(to: DateTime<Utc>, length: TimeDelta) -> Result<Self, WindowError> {
        let from = to.checked_sub_signed(length).unwrap_or(to);
        Self::new(from, to)
    }

    /// The UTC calendar day `date`: `[date 00:00Z, date+1 00:00Z)`.
    ///
    /// # Errors
    /// [`WindowError`] only for the last representable date, which has no following midnight.
    pub fn utc_day(date: NaiveDate) -> Result<Self, WindowError> {
        let from = date.and_time(chrono::NaiveTime::MIN).and_utc();
        let to = date
            .succ_opt()
            .map_or(from, |next| next.and_time(chrono::NaiveTime::MIN).and_utc());
        Self::new(from, to)
    }

    /// All of representable time; used to look up events regardless of when they happened.
    pub fn all_time() -> Self {
        Self {
            from: DateTime::<Utc>::MIN_UTC,
            to: DateTime::<Utc>::MAX_UTC,
        }
    }

    /// The inclusive start.
    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    /// The exclusive end.
    pub fn to(&self) -> DateTime<Utc> {
        self.to
    }

    /// Whether `at` lies in `[from, to)`.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.to
    }

    /// Whether the deployment belongs to the window (by its `deployedAt`).
    pub fn contains_deployment(&self, deployment: &DeploymentEvent) -> bool {
        self.contains(deployment.deployed_at)
    }

    /// Whether the incident belongs to the window (by its `startedAt`).
    pub fn contains_incident(&self, incident: &IncidentEvent) -> bool {
        self.contains(incident.started_at)
    }

    /// `to - from`.
    pub fn length(&self) -> TimeDelta {
        self.to - self.from
    }

    /// The window's length in days of 86 400 s, as a fraction (a 36-hour window is 1.5 days).
    pub fn length_days(&self) -> f64 {
        // i128 nanoseconds: exact for every representable window.
        duration_nanos(self.length()) as f64 / NANOS_PER_DAY
    }
}

/// Which events a query selects: one tenant, and one environment or all of the tenant's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    /// The tenant whose events are selected.
    pub tenant: String,
    /// One environment, or `None` for every environment of the tenant.
    pub environment: Option<String>,
}

impl Scope {
    /// Every environment of `tenant`.
    pub fn tenant(tenant: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            environment: None,
        }
    }

    /// One environment of `tenant`.
    pub fn environment(tenant: impl Into<String>, environment: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            environment: Some(environment.into()),
        }
    }

    /// Whether an event of `tenant` in `environment` is selected.
    pub fn includes(&self, tenant: &str, environment: &str) -> bool {
        self.tenant == tenant && self.environment.as_deref().is_none_or(|e| e == environment)
    }

    /// Whether the deployment is selected (tenant and environment only; not the window).
    pub fn includes_deployment(&self, deployment: &DeploymentEvent) -> bool {
        self.includes(&deployment.tenant, &deployment.environment)
    }

    /// Whether the incident is selected (tenant and environment only; not the window).
    pub fn includes_incident(&self, incident: &IncidentEvent) -> bool {
        self.includes(&incident.tenant, &incident.environment)
    }
}
