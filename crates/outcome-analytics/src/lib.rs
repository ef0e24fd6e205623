//! Deterministic executive outcome reports over DORA events: per tenant, environment and
//! window, the delivery outcomes attributed to (normalized) pipelines, incidents grouped by
//! severity with MTTA and MTTR, and a daily cohort of every UTC day of the window; rendered as
//! stable JSON (fields in declaration order, fixed number formatting), Markdown, or a
//! self-contained HTML page with SVG charts.
//!
//! ```
//! use chrono::{TimeDelta, TimeZone, Utc};
//! use stellaops_dora_metrics::{Scope, Severity, Window};
//! use stellaops_outcome_analytics::{DoraAnalytics, OutcomeAnalyticsService};
//!
//! // One call wires the DORA service and outcome analytics over one store.
//! let analytics = DoraAnalytics::new();
//! let dora = analytics.dora();
//! let t = |h: i64| Utc.with_ymd_and_hms(2025, 3, 3, 0, 0, 0).unwrap() + TimeDelta::hours(h);
//!
//! dora.deployment("d-1").tenant("acme").environment("prod").pipeline("Pipeline A")
//!     .committed_at(t(1)).deployed_at(t(3)).succeeded().record()?;
//! dora.deployment("d-2").tenant("acme").environment("prod").pipeline("pipeline_a")
//!     .committed_at(t(4)).deployed_at(t(8)).rolled_back().record()?;
//! dora.incident("i-1").tenant("acme").environment("prod").severity(Severity::High)
//!     .started_at(t(8)).acknowledged_at(t(8) + TimeDelta::minutes(15))
//!     .resolved_at(t(10)).record()?;
//!
//! let window = Window::new(t(0), t(48))?;
//! let report = analytics.outcomes().executive_report(&Scope::environment("acme", "prod"), &window)?;
//! assert_eq!(report.totals.deployments, 2);
//! assert_eq!(report.totals.change_failure_rate_percent.map(|r| r.to_string()), Some("50.00".into()));
//! assert_eq!(report.totals.median_lead_time_hours.map(|r| r.to_string()), Some("3.00".into()));
//! assert_eq!(report.pipelines.len(), 1);
//! assert_eq!(report.pipelines[0].pipeline, "pipeline-a");
//! assert_eq!(report.severities[1].mtta_hours.map(|r| r.to_string()), Some("0.25".into()));
//! assert_eq!(report.daily.len(), 2);                      // 2025-03-03 and the empty 03-04
//!
//! let json = report.to_json()?;                           // stable, identical every call
//! assert!(json.contains(r#""changeFailureRatePercent": 50.0"#));
//! assert!(report.to_markdown().contains("| pipeline-a | 2 | 1 | 50.00 | 3.00 |"));
//! assert!(report.to_html().contains(r#"data-chart="daily""#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The pieces:
//! - [`OutcomeExecutiveReport`] with [`OutcomeTotals`], [`PipelineOutcome`],
//!   [`SeverityOutcome`] and [`DailyOutcome`]; every field is described in
//!   `docs/outcome-analytics.md`;
//! - [`compute_report`] (pure, events in any order) and [`ReportAccumulator`] (streaming);
//!   the metric definitions and window rules are dora-metrics' ([`stellaops_dora_metrics::summary`]),
//!   so both crates agree on the same events;
//! - [`normalize_pipeline`]: `Pipeline A`, `pipeline_a` and ` PIPELINE-A ` are `pipeline-a`;
//!   a name with nothing left is [`UNKNOWN_PIPELINE`];
//! - [`Rounded2`]: two decimals, half away from zero, rounded from the exact value in integers;
//! - [`OutcomeAnalyticsService`], the specification's `IOutcomeAnalyticsService`, implemented
//!   by [`DoraOutcomeAnalyticsService`] over a `DoraMetricsService`'s store;
//!   [`DoraAnalytics`] wires both in one call;
//! - renderers: [`OutcomeExecutiveReport::to_json`], [`to_markdown`](OutcomeExecutiveReport::to_markdown),
//!   [`to_html`](OutcomeExecutiveReport::to_html), or [`render`](OutcomeExecutiveReport::render)
//!   with a [`ReportFormat`].
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

mod error;
mod pipeline;
mod render;
mod report;
mod rounding;
mod service;

pub use error::OutcomeError;
pub use pipeline::{UNKNOWN_PIPELINE, normalize_pipeline};
pub use render::ReportFormat;
pub use report::{
    DailyOutcome, MAX_REPORT_DAYS, OutcomeExecutiveReport, OutcomeTotals, PipelineOutcome,
    ReportAccumulator, SeverityOutcome, compute_report,
};
pub use rounding::Rounded2;
pub use service::{DoraAnalytics, DoraOutcomeAnalyticsService, OutcomeAnalyticsService};
