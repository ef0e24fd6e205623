//! Shared fixtures: the golden event stream (`tests/golden/events.jsonl`, hand-computed in
//! `tests/report.rs`), its window, and helpers that run events through the real services.
#![allow(dead_code, unreachable_pub)]

use chrono::{DateTime, TimeZone, Utc};
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::Arc;
use stellaops_dora_metrics::{
    DoraEvent, DoraMetricsService, ManualClock, Scope, Window, read_event_lines,
};
use stellaops_outcome_analytics::{DoraAnalytics, OutcomeAnalyticsService, OutcomeExecutiveReport};

pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
}

pub fn utc(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, day, hour, minute, 0).unwrap()
}

/// The golden events, in file order.
pub fn fixture_events() -> Vec<DoraEvent> {
    let file = std::fs::File::open(golden_dir().join("events.jsonl")).unwrap();
    read_event_lines(BufReader::new(file))
        .map(|item| item.unwrap().1)
        .collect()
}

/// The golden window: the week 2025-03-03 to 2025-03-10 (exclusive).
pub fn fixture_window() -> Window {
    Window::new(utc(3, 0, 0), utc(10, 0, 0)).unwrap()
}

pub fn acme_prod() -> Scope {
    Scope::environment("acme", "prod")
}

/// Both services over one store, with a fixed clock, holding `events`.
pub fn analytics_with(events: &[DoraEvent]) -> DoraAnalytics {
    let clock = Arc::new(ManualClock::new(utc(20, 0, 0)));
    let analytics = DoraAnalytics::with_dora(DoraMetricsService::builder().clock(clock));
    for event in events {
        analytics.dora().record(event).unwrap();
    }
    analytics
}

/// The report of `events` through the service.
pub fn report_of(events: &[DoraEvent], scope: &Scope, window: &Window) -> OutcomeExecutiveReport {
    analytics_with(events)
        .outcomes()
        .executive_report(scope, window)
        .unwrap()
}

/// The golden report.
pub fn fixture_report() -> OutcomeExecutiveReport {
    report_of(&fixture_events(), &acme_prod(), &fixture_window())
}
