//! Reports computed by hand: the golden week (`tests/golden/events.jsonl`), empty windows,
//! missing acknowledgements, unknown pipelines, scope selection, repeated calls.

mod common;

use chrono::TimeDelta;
use common::*;
use serde_json::{Value, json};
use stellaops_dora_metrics::{DeploymentEvent, IncidentEvent, Outcome, Scope, Severity, Window};
use stellaops_outcome_analytics::{
    DoraAnalytics, MAX_REPORT_DAYS, OutcomeAnalyticsService, OutcomeError, compute_report,
};

fn day(date: &str, deployments: u64, failed: u64, incidents: u64, resolved: u64) -> Value {
    json!({
        "date": date,
        "deployments": deployments,
        "failedDeployments": failed,
        "incidents": incidents,
        "resolvedIncidents": resolved
    })
}

/// Every number of the golden week, worked out by hand:
/// - in the window: d-01..d-09 (d-10 is deployed at the exclusive end, d-00 the minute before
///   the start; staging and globex are other scopes); failures d-02 (rollback), d-05 (failure),
///   d-07 (hotfix): 3 of 9 = 33.33 %;
/// - lead times (h): 2, 3.5, 1, 2⅓, 12, 0.75, 1, 6, 2⅔; sorted, the 5th of 9 is 2⅓ = 2.33;
/// - billing: 2⅓, 12, 2⅔ -> median 2.67, 1 failure of 3; checkout-api: 2, 3.5, 1 -> 2.00;
///   search-indexer: 0.75 and 6 -> (0.75 + 6) / 2 = 3.375 -> 3.38 (a tie, rounded away from
///   zero); `__` has nothing left after normalization -> unknown: 1 hotfix, 1 h;
/// - incidents i-01..i-05 (i-06 starts after the window): critical ack 5 min, resolved 1.5 h;
///   high: i-02 ack 30 min, resolved 4 h; i-03 never acknowledged, resolved 50 min ->
///   MTTR (4 + 5/6) / 2 = 2.4166.. -> 2.42; medium: ack 20 min, still open; low: never
///   acknowledged, resolved after the window end (counts) in 4 h;
/// - MTTA (5 + 30 + 20) / 3 min = 0.3055.. h -> 0.31; MTTR (1.5 + 4 + 5/6 + 4) / 4 =
///   2.5833.. -> 2.58.
#[test]
fn the_golden_week_matches_the_hand_computed_report() {
    let report = fixture_report();
    let json: Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    let expected = json!({
        "tenant": "acme",
        "environment": "prod",
        "window": {"from": "2025-03-03T00:00:00Z", "to": "2025-03-10T00:00:00Z"},
        "totals": {
            "deployments": 9,
            "failedDeployments": 3,
            "changeFailureRatePercent": 33.33,
            "medianLeadTimeHours": 2.33,
            "incidents": 5,
            "resolvedIncidents": 4,
            "acknowledgedIncidents": 3,
            "mttaHours": 0.31,
            "mttrHours": 2.58
        },
        "pipelines": [
            {"pipeline": "billing", "deployments": 3, "failedDeployments": 1,
             "changeFailureRatePercent": 33.33, "medianLeadTimeHours": 2.67},
            {"pipeline": "checkout-api", "deployments": 3, "failedDeployments": 1,
             "changeFailureRatePercent": 33.33, "medianLeadTimeHours": 2.0},
            {"pipeline": "search-indexer", "deployments": 2, "failedDeployments": 0,
             "changeFailureRatePercent": 0.0, "medianLeadTimeHours": 3.38},
            {"pipeline": "unknown", "deployments": 1, "failedDeployments": 1,
             "changeFailureRatePercent": 100.0, "medianLeadTimeHours": 1.0}
        ],
        "severities": [
            {"severity": "critical", "incidents": 1, "resolved": 1, "acknowledged": 1,
             "mttaHours": 0.08, "mttrHours": 1.5},
            {"severity": "high", "incidents": 2, "resolved": 2, "acknowledged": 1,
             "mttaHours": 0.5, "mttrHours": 2.42},
            {"severity": "medium", "incidents": 1, "resolved": 0, "acknowledged": 1,
             "mttaHours": 0.33, "mttrHours": null},
            {"severity": "low", "incidents": 1, "resolved": 1, "acknowledged": 0,
             "mttaHours": null, "mttrHours": 4.0}
        ],
        "daily": [
            day("2025-03-03", 3, 1, 1, 1),
            day("2025-03-04", 1, 0, 0, 0),
            day("2025-03-05", 1, 1, 1, 1),
            day("2025-03-06", 1, 0, 0, 0),
            day("2025-03-07", 1, 1, 1, 1),
            day("2025-03-08", 1, 0, 1, 0),
            day("2025-03-09", 1, 0, 1, 1)
        ]
    });
    assert_eq!(json, expected);
}

#[test]
fn json_keys_come_in_the_documented_order() {
    let json = fixture_report().to_json().unwrap();
    let order = [
        "\"tenant\"",
        "\"environment\"",
        "\"window\"",
        "\"totals\"",
        "\"deployments\"",
        "\"failedDeployments\"",
        "\"changeFailureRatePercent\"",
        "\"medianLeadTimeHours\"",
        "\"incidents\"",
        "\"resolvedIncidents\"",
        "\"acknowledgedIncidents\"",
        "\"mttaHours\"",
        "\"mttrHours\"",
        "\"pipelines\"",
        "\"severities\"",
        "\"daily\"",
    ];
    let positions: Vec<usize> = order.iter().map(|k| json.find(k).unwrap()).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "keys out of order: {positions:?}"
    );
    assert!(json.ends_with("}\n"));
}

#[test]
fn repeated_calls_give_identical_bytes() {
    let analytics = analytics_with(&fixture_events());
    let service = analytics.outcome_service();
    let first = service
        .executive_report(&acme_prod(), &fixture_window())
        .unwrap();
    for _ in 0..3 {
        let again = service
            .executive_report(&acme_prod(), &fixture_window())
            .unwrap();
        assert_eq!(again, first);
        assert_eq!(again.to_json().unwrap(), first.to_json().unwrap());
        assert_eq!(again.to_markdown(), first.to_markdown());
        assert_eq!(again.to_html(), first.to_html());
    }
}

#[test]
fn a_window_without_events_lists_every_day_with_zeros_and_nulls() {
    let window = Window::new(utc(20, 0, 0), utc(23, 0, 0)).unwrap();
    let report = report_of(&fixture_events(), &acme_prod(), &window);
    let json: Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(
        json["totals"],
        json!({
            "deployments": 0, "failedDeployments": 0, "changeFailureRatePercent": null,
            "medianLeadTimeHours": null, "incidents": 0, "resolvedIncidents": 0,
            "acknowledgedIncidents": 0, "mttaHours": null, "mttrHours": null
        })
    );
    assert_eq!(json["pipelines"], json!([]));
    let severities: Vec<&str> = report
        .severities
        .iter()
        .map(|s| s.severity.as_str())
        .collect();
    assert_eq!(severities, ["critical", "high", "medium", "low"]);
    assert!(
        report
            .severities
            .iter()
            .all(|s| s.incidents == 0 && s.mtta_hours.is_none() && s.mttr_hours.is_none())
    );
    assert_eq!(
        json["daily"],
        json!([
            day("2025-03-20", 0, 0, 0, 0),
            day("2025-03-21", 0, 0, 0, 0),
            day("2025-03-22", 0, 0, 0, 0)
        ])
    );
    let md = report.to_markdown();
    assert!(md.contains("No deployments in this window."), "{md}");
    assert!(md.contains("| change failure rate (%) | n/a |"), "{md}");
    let html = report.to_html();
    assert!(html.contains("No deployments in this window."));
    assert_eq!(
        html.matches("<rect class=\"bar\"").count(),
        6,
        "3 days × 2 zero bars"
    );
}

#[test]
fn an_unknown_tenant_gets_an_empty_report_not_an_error() {
    let report = report_of(
        &fixture_events(),
        &Scope::tenant("initech"),
        &fixture_window(),
    );
    assert_eq!(report.totals.deployments, 0);
    assert_eq!(report.daily.len(), 7);
    assert_eq!(report.environment, None);
}

#[test]
fn a_partial_day_window_lists_the_days_it_touches() {
    // 2025-03-03 12:00 to 2025-03-05 06:00: three UTC days, events outside the hours ignored.
    let window = Window::new(utc(3, 12, 0), utc(5, 6, 0)).unwrap();
    let report = report_of(&fixture_events(), &acme_prod(), &window);
    let days: Vec<(String, u64)> = report
        .daily
        .iter()
        .map(|d| (d.date.to_string(), d.deployments))
        .collect();
    assert_eq!(
        days,
        [
            ("2025-03-03".to_owned(), 2),
            ("2025-03-04".to_owned(), 1),
            ("2025-03-05".to_owned(), 0)
        ]
    );
    assert_eq!(report.totals.deployments, 3);
}

#[test]
fn missing_acknowledgements_leave_mtta_null_but_count_the_incident() {
    let analytics = DoraAnalytics::new();
    let dora = analytics.dora();
    for (id, severity, start_min, resolve_min) in [
        ("i-1", Severity::High, 0, Some(90)),
        ("i-2", Severity::High, 60, None),
        ("i-3", Severity::Low, 120, Some(150)),
    ] {
        let mut incident = dora
            .incident(id)
            .tenant("acme")
            .environment("prod")
            .severity(severity)
            .started_at(utc(3, 0, 0) + TimeDelta::minutes(start_min));
        if let Some(minutes) = resolve_min {
            incident = incident.resolved_at(utc(3, 0, 0) + TimeDelta::minutes(minutes));
        }
        incident.record().unwrap();
    }
    let window = Window::new(utc(3, 0, 0), utc(4, 0, 0)).unwrap();
    let report = analytics
        .outcomes()
        .executive_report(&acme_prod(), &window)
        .unwrap();
    assert_eq!(report.totals.incidents, 3);
    assert_eq!(report.totals.acknowledged_incidents, 0);
    assert_eq!(report.totals.mtta_hours, None);
    assert_eq!(report.totals.mttr_hours.unwrap().to_string(), "1.00"); // (1.5 + 0.5) / 2
    let high = &report.severities[1];
    assert_eq!(
        (high.incidents, high.resolved, high.acknowledged),
        (2, 1, 0)
    );
    assert_eq!(high.mttr_hours.unwrap().to_string(), "1.50");

    // Acknowledging later changes the next report, and only MTTA.
    dora.acknowledge("acme", "prod", "i-2", utc(3, 1, 12))
        .unwrap();
    let after = analytics
        .outcomes()
        .executive_report(&acme_prod(), &window)
        .unwrap();
    assert_eq!(after.totals.acknowledged_incidents, 1);
    assert_eq!(after.totals.mtta_hours.unwrap().to_string(), "0.20");
    assert_eq!(after.severities[1].mtta_hours.unwrap().to_string(), "0.20");
    assert_eq!(after.totals.mttr_hours, report.totals.mttr_hours);
    let md = report.to_markdown();
    assert!(md.contains("| MTTA (h) | n/a |"), "{md}");
    assert!(md.contains("| high | 2 | 1 | 0 | n/a | 1.50 |"), "{md}");
}

fn deployment(id: &str, pipeline: &str, hour: u32) -> DeploymentEvent {
    DeploymentEvent {
        tenant: "acme".into(),
        environment: "prod".into(),
        deployment_id: id.into(),
        pipeline: pipeline.into(),
        committed_at: utc(3, hour, 0),
        deployed_at: utc(3, hour + 1, 0),
        outcome: Outcome::Success,
        remediates_incident_id: None,
    }
}

#[test]
fn pipeline_variants_merge_and_unusable_names_are_unknown() {
    // compute_report takes events as given, so names a store would reject still land in
    // `unknown` rather than vanishing.
    let deployments = [
        deployment("d-1", "Pipeline A", 1),
        deployment("d-2", "pipeline_a", 2),
        deployment("d-3", " PIPELINE-A ", 3),
        deployment("d-4", "", 4),
        deployment("d-5", "   ", 5),
        deployment("d-6", "_-_", 6),
        deployment("d-7", "Pipeline B", 7),
    ];
    let window = Window::new(utc(3, 0, 0), utc(4, 0, 0)).unwrap();
    let report =
        compute_report(&acme_prod(), &window, &deployments, &[] as &[IncidentEvent]).unwrap();
    let pipelines: Vec<(&str, u64)> = report
        .pipelines
        .iter()
        .map(|p| (p.pipeline.as_str(), p.deployments))
        .collect();
    assert_eq!(
        pipelines,
        [("pipeline-a", 3), ("pipeline-b", 1), ("unknown", 3)]
    );
    assert_eq!(report.totals.deployments, 7);
}

#[test]
fn all_environments_of_a_tenant_when_no_environment_is_given() {
    let report = report_of(&fixture_events(), &Scope::tenant("acme"), &fixture_window());
    // prod's 9 plus staging's failed checkout deployment.
    assert_eq!(report.totals.deployments, 10);
    assert_eq!(report.totals.failed_deployments, 4);
    assert_eq!(report.totals.incidents, 6);
    let checkout = report
        .pipelines
        .iter()
        .find(|p| p.pipeline == "checkout-api")
        .unwrap();
    assert_eq!((checkout.deployments, checkout.failed_deployments), (4, 2));
    assert_eq!(checkout.change_failure_rate_percent.to_string(), "50.00");
    let json: Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(json["environment"], Value::Null);
    assert!(
        report
            .to_markdown()
            .contains("- Environment: all environments")
    );
}

#[test]
fn windows_longer_than_the_limit_are_refused_with_a_code() {
    let from = utc(1, 0, 0);
    let window = Window::new(from, from + TimeDelta::days(MAX_REPORT_DAYS as i64 + 1)).unwrap();
    let err = compute_report(
        &acme_prod(),
        &window,
        &[] as &[DeploymentEvent],
        &[] as &[IncidentEvent],
    )
    .unwrap_err();
    assert_eq!(err.code(), "outcome.window_too_long");
    assert!(matches!(err, OutcomeError::WindowTooLong { days, .. } if days == MAX_REPORT_DAYS + 1));
    assert!(err.to_string().contains("expected at most 3660"), "{err}");
    let longest = Window::new(from, from + TimeDelta::days(MAX_REPORT_DAYS as i64)).unwrap();
    let report = compute_report(
        &acme_prod(),
        &longest,
        &[] as &[DeploymentEvent],
        &[] as &[IncidentEvent],
    )
    .unwrap();
    assert_eq!(report.daily.len() as u64, MAX_REPORT_DAYS);
}

#[test]
fn the_json_parses_back_into_the_same_report() {
    let report = fixture_report();
    let back: stellaops_outcome_analytics::OutcomeExecutiveReport =
        serde_json::from_str(&report.to_json().unwrap()).unwrap();
    assert_eq!(back, report);
}

#[test]
fn the_markdown_has_the_hand_computed_rows() {
    let md = fixture_report().to_markdown();
    for row in [
        "- Window: 2025-03-03T00:00:00Z to 2025-03-10T00:00:00Z (UTC, end exclusive; 7 days)",
        "| change failure rate (%) | 33.33 |",
        "| median lead time (h) | 2.33 |",
        "| search-indexer | 2 | 0 | 0.00 | 3.38 |",
        "| unknown | 1 | 1 | 100.00 | 1.00 |",
        "| medium | 1 | 0 | 1 | 0.33 | n/a |",
        "| 2025-03-08 | 1 | 0 | 1 | 0 |",
    ] {
        assert!(md.contains(row), "missing {row:?} in\n{md}");
    }
}

#[test]
fn the_html_has_every_chart_with_one_bar_per_value() {
    let html = fixture_report().to_html();
    let chart = |id: &str| {
        let start = html.find(&format!("data-chart=\"{id}\"")).unwrap();
        let end = start + html[start..].find("</svg>").unwrap();
        html[start..end].to_owned()
    };
    let bars = |svg: &str, series: &str| {
        svg.matches(&format!("class=\"bar\" data-series=\"{series}\""))
            .count()
    };
    let daily = chart("daily");
    assert_eq!(bars(&daily, "deployments"), 7);
    assert_eq!(bars(&daily, "failedDeployments"), 7);
    assert!(daily.contains(r#"data-category="2025-03-03" data-value="3""#));
    let cfr = chart("pipeline-cfr");
    assert_eq!(bars(&cfr, "changeFailureRatePercent"), 4);
    assert!(cfr.contains(r#"data-category="unknown" data-value="100.00""#));
    let lead = chart("pipeline-lead-time");
    assert_eq!(bars(&lead, "medianLeadTimeHours"), 4);
    assert!(lead.contains(r#"data-category="search-indexer" data-value="3.38""#));
    let response = chart("severity-response");
    // MTTA: critical, high, medium (low never acknowledged); MTTR: critical, high, low.
    assert_eq!(bars(&response, "mttaHours"), 3);
    assert_eq!(bars(&response, "mttrHours"), 3);
    assert_eq!(response.matches("class=\"no-data\"").count(), 2);
    assert!(!html.contains("<script"));
    assert!(!html.contains("src="));
    assert!(!html.contains("href="));
}

#[test]
fn text_from_events_is_escaped_in_html_and_markdown() {
    let evil = r#"<script>alert("x")</script>"#;
    let deployments = [deployment("d-1", evil, 1)];
    let window = Window::new(utc(3, 0, 0), utc(4, 0, 0)).unwrap();
    let scope = Scope::environment("acme", "prod");
    let report = compute_report(&scope, &window, &deployments, &[] as &[IncidentEvent]).unwrap();
    assert_eq!(report.pipelines[0].pipeline, evil.to_lowercase());
    let html = report.to_html();
    assert!(!html.contains("<script"), "raw script tag in the page");
    assert!(html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    let md = report.to_markdown();
    assert!(
        md.match_indices('<').all(|(i, _)| md[..i].ends_with('\\')),
        "an unescaped `<` in the Markdown:\n{md}"
    );
    assert!(
        md.contains(r#"\<script\>alert\(\"x\"\)\</script\>"#),
        "{md}"
    );

    // Tenant and environment are escaped too.
    let scope = Scope::environment("<b>acme</b>", "prod & \"qa\"");
    let mut d = deployment("d-1", "api", 1);
    d.tenant = "<b>acme</b>".into();
    d.environment = "prod & \"qa\"".into();
    let report = compute_report(&scope, &window, &[d], &[] as &[IncidentEvent]).unwrap();
    let html = report.to_html();
    assert!(!html.contains("<b>acme"));
    assert!(html.contains("&lt;b&gt;acme&lt;/b&gt;"));
    assert!(html.contains("prod &amp; &quot;qa&quot;"));
    assert!(
        report
            .to_markdown()
            .contains(r#"- Tenant: \<b\>acme\</b\>"#)
    );
}
