//! An executive outcome report: a release orchestrator records a week of deployments and
//! incidents; the report attributes outcomes to pipelines and incidents to severities, and is
//! written as stable JSON (fields in declaration order), Markdown and a self-contained HTML page (open it in a browser).
//!
//! Run: `cargo run --example outcome_report` (writes `./outcome-report.{json,md,html}`).

use chrono::{TimeDelta, TimeZone, Utc};
use stellaops_telemetry::dora::{Scope, Severity, Window};
use stellaops_telemetry::outcomes::{DoraAnalytics, OutcomeAnalyticsService, ReportFormat};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let analytics = DoraAnalytics::new();
    let dora = analytics.dora();
    let day = |d: i64, h: i64| {
        Utc.with_ymd_and_hms(2025, 3, 3, 0, 0, 0).unwrap()
            + TimeDelta::days(d)
            + TimeDelta::hours(h)
    };

    let pipelines = ["Checkout API", "billing", "search_indexer"];
    for i in 0..18_i64 {
        let pipeline = pipelines[usize::try_from(i).unwrap_or(0) % pipelines.len()];
        let deploy = dora
            .deployment(format!("d-{i}"))
            .tenant("acme")
            .environment("prod")
            .pipeline(pipeline)
            .committed_at(day(i / 3, 8))
            .deployed_at(day(i / 3, 9 + i % 3));
        let deploy = if i % 5 == 4 {
            deploy.rolled_back()
        } else {
            deploy.succeeded()
        };
        deploy.record()?;
    }
    for (i, severity) in [
        Severity::Critical,
        Severity::High,
        Severity::High,
        Severity::Medium,
    ]
    .into_iter()
    .enumerate()
    {
        let start = day(i64::try_from(i).unwrap_or(0) + 1, 14);
        dora.incident(format!("i-{i}"))
            .tenant("acme")
            .environment("prod")
            .severity(severity)
            .started_at(start)
            .acknowledged_at(start + TimeDelta::minutes(10 + 5 * i64::try_from(i).unwrap_or(0)))
            .resolved_at(start + TimeDelta::hours(2))
            .record()?;
    }

    let window = Window::new(day(0, 0), day(7, 0))?;
    let report = analytics
        .outcomes()
        .executive_report(&Scope::environment("acme", "prod"), &window)?;
    for format in ReportFormat::ALL {
        let path = format!("outcome-report.{}", format.extension());
        std::fs::write(&path, report.render(format)?)?;
        println!("wrote {path}");
    }
    println!("{}", report.to_markdown());
    Ok(())
}
