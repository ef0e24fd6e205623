//! DORA metrics for Stella Ops: deployment and incident events with a builder API, the exact
//! DORA computations over a time window, performance classification, SLO breach counting and
//! Prometheus metrics.
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use stellaops_dora_metrics::{DoraMetricsService, PerformanceLevel, Scope, Severity, Window};
//!
//! let dora = DoraMetricsService::new();
//! let t = |h: i64| Utc.with_ymd_and_hms(2025, 3, 3, 0, 0, 0).unwrap() + TimeDelta::hours(h);
//!
//! dora.deployment("d-1").tenant("acme").environment("prod").pipeline("api")
//!     .committed_at(t(1)).deployed_at(t(3)).succeeded().record()?;
//! dora.deployment("d-2").tenant("acme").environment("prod").pipeline("api")
//!     .committed_at(t(4)).deployed_at(t(8)).failed().record()?;
//! dora.incident("i-1").tenant("acme").environment("prod")
//!     .severity(Severity::High).started_at(t(8)).caused_by("d-2").record()?;
//! dora.acknowledge("acme", "prod", "i-1", t(8) + TimeDelta::minutes(6))?;
//! dora.deployment("d-3").tenant("acme").environment("prod").pipeline("api")
//!     .committed_at(t(8)).deployed_at(t(9)).succeeded().remediates("i-1").record()?;
//! dora.resolve("acme", "prod", "i-1", t(9))?;
//!
//! let day = Window::new(t(0), t(24))?;
//! let summary = dora.summary(&Scope::environment("acme", "prod"), &day)?;
//! assert_eq!(summary.deployment_count, 3);
//! assert_eq!(summary.deployment_frequency_per_day, 3.0);
//! assert_eq!(summary.lead_time_median_hours, Some(2.0));
//! assert_eq!(summary.mttr_hours, Some(1.0));
//! assert_eq!(summary.failed_deployment_recovery_hours, Some(1.0));
//! assert_eq!(summary.levels.change_failure_rate, PerformanceLevel::Medium); // 33.3 %
//! assert_eq!(summary.levels.overall, PerformanceLevel::Medium);
//! # Ok::<(), stellaops_dora_metrics::DoraError>(())
//! ```
//!
//! The pieces:
//! - events: [`DeploymentEvent`], [`IncidentEvent`] ([`DoraEvent`] as JSON lines, see
//!   [`read_event_lines`]); builders validate, [`ValidationError`] names the id and field;
//! - windows: [`Window`] is half-open `[from, to)`; deployments belong to it by `deployedAt`,
//!   incidents by `startedAt`; [`Scope`] picks a tenant and optionally one environment;
//! - storage: the [`DoraStore`] trait, [`InMemoryDoraStore`] by default;
//! - computations: [`compute_summary`] (pure) and [`SummaryAccumulator`] give a
//!   [`DoraSummary`]; the definitions are on the [`summary`] module and in
//!   `docs/dora-metrics.md`;
//! - classification: [`ClassificationThresholds::seed_default`] and
//!   [`ClassificationThresholds::dora_2023`];
//! - SLOs: [`DoraMetricsOptions`], breaches counted as described on [`SloMetric`];
//! - metrics: [`DoraMetrics`] (prometheus-client), registered into a
//!   [`prometheus_client::registry::Registry`];
//! - [`DoraMetricsService`], the specification's `IDoraMetricsService`, ties them together.
//!
//! # Feature flags
//! None.
//!
//! # Supported Rust versions
//! The workspace's `rust-version` (1.88) and newer.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod classification;
mod clock;
mod error;
mod event;
mod hours;
mod jsonl;
mod metrics;
mod raw_event;
mod service;
mod slo;
mod store;
pub mod summary;
mod window;

pub use classification::{
    Bound, ClassificationThresholds, DoraLevels, LevelBounds, PerformanceLevel,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{DoraError, EventKind, StoreError, ValidationError, WindowError};
pub use event::{
    DeploymentBuilder, DeploymentEvent, DoraEvent, IncidentBuilder, IncidentEvent, IncidentUpdate,
    Outcome, Severity, UnknownOutcome, UnknownSeverity,
};
pub use hours::hours_between;
pub use jsonl::{
    EventLineError, EventLines, LineError, event_to_json_line, parse_event_line, read_event_lines,
};
pub use metrics::{
    DoraMetrics, EXPOSED_FAMILIES, LEAD_TIME_BUCKETS_HOURS, MetricUnits, RECOVERY_BUCKETS_HOURS,
    openmetrics_to_prometheus_text,
};
pub use service::{DoraMetricsService, DoraMetricsServiceBuilder, OpenIncident, WindowEvaluation};
pub use slo::{DoraMetricsOptions, SloMetric};
pub use store::{DoraStore, InMemoryDoraStore, Recorded};
pub use summary::{
    DoraSummary, SummaryAccumulator, compute_summary, compute_summary_with, median,
    nearest_rank_percentile,
};
pub use window::{Scope, Window};
