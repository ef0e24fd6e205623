//! DORA metrics in a service: record deployments and incidents with the builder API, compute
//! the summary of a day, evaluate the day's SLOs, and print the summary JSON and the metrics a
//! Prometheus scrape would see.
//!
//! Run: `cargo run --example dora`

use chrono::{TimeDelta, TimeZone, Utc};
use prometheus_client::registry::Registry;
use std::sync::Arc;
use stellaops_telemetry::dora::{
    ClassificationThresholds, DoraMetricsService, ManualClock, Scope, Severity, Window,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let day = Utc
        .with_ymd_and_hms(2025, 3, 3, 0, 0, 0)
        .single()
        .ok_or("bad date")?;
    let at = |h: i64, m: i64| day + TimeDelta::hours(h) + TimeDelta::minutes(m);
    // "Now" is the next morning; the service asks the clock when it evaluates "yesterday".
    let clock = Arc::new(ManualClock::new(at(24 + 6, 0)));
    let dora = DoraMetricsService::builder().clock(clock).build();

    // Release orchestration reports each promotion or rollback as it completes.
    dora.deployment("rel-101")
        .tenant("acme")
        .environment("prod")
        .pipeline("checkout")
        .committed_at(at(7, 0))
        .deployed_at(at(9, 30))
        .succeeded()
        .record()?;
    dora.deployment("rel-102")
        .tenant("acme")
        .environment("prod")
        .pipeline("checkout")
        .committed_at(at(10, 0))
        .deployed_at(at(13, 0))
        .rolled_back()
        .record()?;
    dora.incident("inc-7")
        .tenant("acme")
        .environment("prod")
        .severity(Severity::High)
        .started_at(at(13, 5))
        .caused_by("rel-102")
        .record()?;
    dora.acknowledge("acme", "prod", "inc-7", at(13, 12))?;
    dora.deployment("rel-103")
        .tenant("acme")
        .environment("prod")
        .pipeline("checkout")
        .committed_at(at(13, 20))
        .deployed_at(at(13, 50))
        .hotfix()
        .remediates("inc-7")
        .record()?;
    dora.resolve("acme", "prod", "inc-7", at(14, 0))?;
    dora.deployment("rel-104")
        .tenant("acme")
        .environment("prod")
        .pipeline("checkout")
        .committed_at(at(15, 0))
        .deployed_at(at(16, 0))
        .succeeded()
        .record()?;

    let window = Window::utc_day(day.date_naive())?;
    let summary = dora.summary(&Scope::environment("acme", "prod"), &window)?;
    println!("summary of {} .. {}:", window.from(), window.to());
    println!("{}", serde_json::to_string_pretty(&summary)?);
    let dora_2023 = summary
        .clone()
        .classified_with(&ClassificationThresholds::dora_2023());
    println!(
        "overall level: {} (seed table), {} (DORA 2023 table)",
        summary.levels.overall, dora_2023.levels.overall
    );

    let evaluation = dora.evaluate_previous_utc_day("acme", "prod")?;
    println!("window SLO breaches yesterday: {:?}", evaluation.breaches);

    let mut registry = Registry::default();
    dora.metrics().register(&mut registry);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)?;
    println!("\n/metrics (OpenMetrics), DORA families:");
    for line in text.lines().filter(|l| !l.contains("_bucket{")) {
        println!("{line}");
    }
    Ok(())
}
