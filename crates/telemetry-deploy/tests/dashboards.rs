//! Dashboards: every panel query parses as PromQL (promtool) and names only metrics that
//! exist; the reverse report lists catalogue metrics with no panel.

use stellaops_telemetry_deploy::dashboards::{
    metrics_without_panel, provider_yaml, standard_dashboards,
};
use stellaops_telemetry_deploy::promql::{referenced_series, unknown_series};
use stellaops_telemetry_deploy::yaml::Yaml;
use stellaops_telemetry_testkit::Promtool;

/// Every `expr` of every target, read back from the rendered JSON text.
fn rendered_exprs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for dashboard in standard_dashboards() {
        let json: serde_json::Value = serde_json::from_str(&dashboard.to_json_text()).unwrap();
        for panel in json["panels"].as_array().unwrap() {
            for target in panel["targets"].as_array().unwrap() {
                out.push((
                    format!("{} / {}", json["title"], panel["title"]),
                    target["expr"].as_str().unwrap().to_owned(),
                ));
            }
        }
    }
    out
}

#[test]
fn the_advisorys_dashboards_exist() {
    let titles: Vec<&str> = standard_dashboards().iter().map(|d| d.title).collect();
    for name in [
        "Platform Health",
        "Scan Operations",
        "Policy Engine",
        "Job Orchestration",
        "Telemetry Stack",
    ] {
        assert!(
            titles.iter().any(|t| t.ends_with(name)),
            "{name} missing: {titles:?}"
        );
    }
}

#[test]
fn every_panel_query_names_only_existing_metrics() {
    let exprs = rendered_exprs();
    assert!(exprs.len() >= 20, "{}", exprs.len());
    for (panel, expr) in &exprs {
        assert!(
            !referenced_series(expr).is_empty(),
            "{panel}: no metric in {expr}"
        );
        assert!(
            unknown_series(expr).is_empty(),
            "{panel}: unknown metrics {:?} in {expr}",
            unknown_series(expr)
        );
    }
}

#[test]
fn every_panel_query_is_valid_promql() {
    // promtool parses recording rules' expressions, so each query becomes one.
    let rules: Vec<Yaml> = rendered_exprs()
        .into_iter()
        .enumerate()
        .map(|(i, (_, expr))| {
            Yaml::map()
                .with("record", format!("stellaops:panel_{i}"))
                .with("expr", expr)
        })
        .collect();
    let file = Yaml::map()
        .with(
            "groups",
            vec![Yaml::map().with("name", "panels").with("rules", rules)],
        )
        .to_text();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("panels.yaml");
    std::fs::write(&path, file).unwrap();
    let out = Promtool::locate().unwrap().check_rules(&path).unwrap();
    assert!(out.success, "{}", out.combined());
}

#[test]
fn reverse_report_every_catalogue_metric_has_a_panel() {
    assert_eq!(
        metrics_without_panel(&standard_dashboards()),
        Vec::<&str>::new()
    );
    // and the report does report: drop the telemetry stack dashboard
    let mut fewer = standard_dashboards();
    fewer.retain(|d| d.uid != "stellaops-telemetry-stack");
    let missing = metrics_without_panel(&fewer);
    assert!(missing.contains(&"telemetry_incident_mode"), "{missing:?}");
    assert!(
        missing.contains(&"telemetry_bundle_generation_seconds"),
        "{missing:?}"
    );
}

#[test]
fn dashboards_are_provisioning_ready() {
    for dashboard in standard_dashboards() {
        let json = dashboard.to_json();
        assert_eq!(json["uid"], dashboard.uid);
        assert_eq!(json["templating"]["list"][0]["name"], "datasource");
        let panels = json["panels"].as_array().unwrap();
        let mut ids: Vec<u64> = panels.iter().map(|p| p["id"].as_u64().unwrap()).collect();
        ids.dedup();
        assert_eq!(ids.len(), panels.len(), "panel ids are unique");
        for panel in panels {
            assert_eq!(panel["datasource"]["uid"], "${datasource}");
        }
        assert_eq!(
            dashboard.to_json_text(),
            dashboard.to_json_text(),
            "deterministic"
        );
    }
    let provider = provider_yaml("/var/lib/grafana/dashboards/stellaops");
    assert!(
        provider.contains("path: /var/lib/grafana/dashboards/stellaops"),
        "{provider}"
    );
    assert!(provider.starts_with("apiVersion: 1\n"), "{provider}");
}
