//! `stella-telemetry dora summary` run as a real binary: the JSON contract, nulls without data,
//! tenant and environment selection, invalid lines reported with their number (exit 1).

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output};

const EVENTS: &str = r#"{"kind":"deployment","tenant":"acme","environment":"prod","deploymentId":"d-1","pipeline":"api","commitAt":"2025-03-03T01:00:00Z","deployedAt":"2025-03-03T03:00:00Z","outcome":"success"}
{"kind":"deployment","tenant":"acme","environment":"prod","deploymentId":"d-2","pipeline":"api","commitAt":"2025-03-03T04:00:00Z","deployedAt":"2025-03-03T08:00:00Z","outcome":"rollback"}

{"kind":"incident","tenant":"acme","environment":"prod","incidentId":"i-1","severity":"high","startedAt":"2025-03-03T08:00:00Z","acknowledgedAt":"2025-03-03T08:30:00Z","resolvedAt":"2025-03-03T10:00:00Z","deploymentId":"d-2"}
{"kind":"deployment","tenant":"acme","environment":"prod","deploymentId":"d-3","pipeline":"api","commitAt":"2025-03-03T08:00:00Z","deployedAt":"2025-03-03T09:00:00Z","outcome":"success","remediatesIncidentId":"i-1"}
{"kind":"incident","tenant":"acme","environment":"prod","incidentId":"i-2","severity":"low","startedAt":"2025-03-03T20:00:00Z"}
{"kind":"deployment","tenant":"acme","environment":"staging","deploymentId":"d-1","pipeline":"api","commitAt":"2025-03-02T01:00:00Z","deployedAt":"2025-03-03T12:00:00Z","outcome":"failure"}
{"kind":"deployment","tenant":"globex","environment":"prod","deploymentId":"g-1","pipeline":"api","commitAt":"2025-03-03T01:00:00Z","deployedAt":"2025-03-03T02:00:00Z","outcome":"success"}
{"kind":"deployment","tenant":"acme","environment":"prod","deploymentId":"d-4","pipeline":"api","commitAt":"2025-03-03T23:00:00Z","deployedAt":"2025-03-04T00:00:00Z","outcome":"success"}
"#;

fn run(events: &str, args: &[&str]) -> Output {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(events.as_bytes()).unwrap();
    let path = file.path().to_str().unwrap().to_owned();
    Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args(["dora", "summary", "--events", &path])
        .args(args)
        .output()
        .unwrap()
}

const DAY: [&str; 4] = [
    "--from",
    "2025-03-03T00:00:00Z",
    "--to",
    "2025-03-04T00:00:00Z",
];

fn summary(events: &str, extra: &[&str]) -> Value {
    let mut args = extra.to_vec();
    args.extend(DAY);
    let out = run(events, &args);
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn summary_prints_exactly_the_contract_keys_with_exact_values() {
    let json = summary(EVENTS, &["--tenant", "acme", "--environment", "prod"]);
    let expected = serde_json::json!({
        "deploymentCount": 3,
        "deploymentFrequencyPerDay": 3.0,
        "leadTimeMedianHours": 2.0,
        "leadTimeP90Hours": 4.0,
        "changeFailureRatePercent": 100.0 / 3.0,
        "mttrHours": 2.0,
        "mttaHours": 0.5,
        "failedDeploymentRecoveryHours": 1.0,
        "reworkRatePercent": 100.0 / 3.0,
        "incidentCount": 2,
        "levels": {
            "deploymentFrequency": "Elite",
            "leadTime": "Elite",
            "changeFailureRate": "Medium",
            "mttr": "High",
            "overall": "Medium"
        }
    });
    assert_eq!(json, expected);
}

#[test]
fn without_environment_every_environment_of_the_tenant_counts() {
    let json = summary(EVENTS, &["--tenant", "acme"]);
    assert_eq!(json["deploymentCount"], 4);
    assert_eq!(json["changeFailureRatePercent"], 50.0);
    // Staging's lead time is 35 h: p90 of [1, 2, 4, 35] is 35.
    assert_eq!(json["leadTimeP90Hours"], 35.0);
    assert_eq!(json["leadTimeMedianHours"], 3.0);
}

#[test]
fn a_tenant_without_events_gets_nulls_and_unknown_levels() {
    let json = summary(EVENTS, &["--tenant", "initech"]);
    assert_eq!(json["deploymentCount"], 0);
    assert_eq!(json["incidentCount"], 0);
    assert_eq!(json["deploymentFrequencyPerDay"], 0.0);
    for key in [
        "leadTimeMedianHours",
        "leadTimeP90Hours",
        "changeFailureRatePercent",
        "mttrHours",
        "mttaHours",
        "failedDeploymentRecoveryHours",
        "reworkRatePercent",
    ] {
        assert!(json[key].is_null(), "{key} = {}", json[key]);
    }
    for key in [
        "deploymentFrequency",
        "leadTime",
        "changeFailureRate",
        "mttr",
        "overall",
    ] {
        assert_eq!(json["levels"][key], "Unknown", "{key}");
    }
}

#[test]
fn an_invalid_line_is_reported_with_its_number_and_exit_code_1() {
    let bad = EVENTS.replacen(r#""outcome":"rollback""#, r#""outcome":"exploded""#, 1);
    let out = run(&bad, &["--tenant", "acme", DAY[0], DAY[1], DAY[2], DAY[3]]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 2:"), "{stderr}");
    assert!(
        stderr.contains("d-2") && stderr.contains("outcome") && stderr.contains("exploded"),
        "{stderr}"
    );

    let garbage = format!("{EVENTS}not json\n");
    let out = run(
        &garbage,
        &["--tenant", "acme", DAY[0], DAY[1], DAY[2], DAY[3]],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 10:"));

    // A conflicting duplicate is an invalid line too.
    let conflict = format!(
        "{EVENTS}{}\n",
        r#"{"kind":"deployment","tenant":"acme","environment":"prod","deploymentId":"d-1","pipeline":"web","commitAt":"2025-03-03T01:00:00Z","deployedAt":"2025-03-03T03:00:00Z","outcome":"success"}"#
    );
    let out = run(
        &conflict,
        &["--tenant", "acme", DAY[0], DAY[1], DAY[2], DAY[3]],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("line 10:") && stderr.contains("pipeline"),
        "{stderr}"
    );
}

#[test]
fn an_identical_duplicate_line_is_accepted_once() {
    let first_line = EVENTS.lines().next().unwrap();
    let doubled = format!("{EVENTS}{first_line}\n");
    let json = summary(&doubled, &["--tenant", "acme", "--environment", "prod"]);
    assert_eq!(json["deploymentCount"], 3);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let out = run(
        EVENTS,
        &[
            "--tenant",
            "acme",
            "--from",
            "yesterday",
            "--to",
            "2025-03-04T00:00:00Z",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("RFC 3339"));
    let out = run(
        EVENTS,
        &[
            "--tenant",
            "acme",
            "--from",
            "2025-03-04T00:00:00Z",
            "--to",
            "2025-03-03T00:00:00Z",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let missing = Command::new(env!("CARGO_BIN_EXE_stella-telemetry"))
        .args([
            "dora",
            "summary",
            "--events",
            "/nonexistent/events.jsonl",
            "--tenant",
            "acme",
        ])
        .args(DAY)
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/events.jsonl"));
}
