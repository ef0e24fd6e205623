//! Invalid events are rejected with errors naming the event id and the field; identical
//! duplicates are idempotent; JSON lines are parsed strictly.

mod common;

use common::{dep, inc, t};
use std::io::Cursor;
use stellaops_dora_metrics::{
    DoraError, DoraEvent, DoraMetricsService, EventKind, LineError, Outcome, Recorded, Severity,
    ValidationError, event_to_json_line, parse_event_line, read_event_lines,
};

fn invalid(e: DoraError) -> ValidationError {
    match e {
        DoraError::Invalid(v) => v,
        other => panic!("expected a validation error, got {other:?}"),
    }
}

#[test]
fn builder_records_a_complete_deployment_and_reports_missing_fields_by_name() {
    let dora = DoraMetricsService::new();
    let recorded = dora
        .deployment("d-1")
        .tenant("acme")
        .environment("prod")
        .pipeline("api")
        .committed_at(t(1.0))
        .deployed_at(t(2.0))
        .succeeded()
        .record()
        .unwrap();
    assert_eq!(recorded, Recorded::New);

    let err = invalid(
        dora.deployment("d-2")
            .tenant("acme")
            .environment("prod")
            .pipeline("api")
            .committed_at(t(1.0))
            .succeeded()
            .record()
            .unwrap_err(),
    );
    assert_eq!(
        err,
        ValidationError::MissingField {
            kind: EventKind::Deployment,
            id: "d-2".into(),
            field: "deployedAt"
        }
    );
    assert!(err.to_string().contains("d-2") && err.to_string().contains("deployedAt"));

    let err = invalid(
        dora.deployment("d-3")
            .tenant("acme")
            .environment("prod")
            .pipeline("api")
            .committed_at(t(1.0))
            .deployed_at(t(2.0))
            .record()
            .unwrap_err(),
    );
    assert!(matches!(
        err,
        ValidationError::MissingField {
            field: "outcome",
            ..
        }
    ));
}

#[test]
fn deploy_before_commit_is_rejected_with_both_times() {
    let dora = DoraMetricsService::new();
    let err = invalid(
        dora.deployment("d-1")
            .tenant("acme")
            .environment("prod")
            .pipeline("api")
            .committed_at(t(5.0))
            .deployed_at(t(4.0))
            .failed()
            .record()
            .unwrap_err(),
    );
    assert!(matches!(err, ValidationError::DeployedBeforeCommit { ref id, .. } if id == "d-1"));
    assert_eq!(err.code(), "dora.event.deployed_before_commit");
    let text = err.to_string();
    assert!(
        text.contains("deployedAt") && text.contains("commitAt"),
        "{text}"
    );
    // Nothing was stored or counted.
    assert_eq!(dora.metrics().deployment_count("acme", "prod"), 0);
}

#[test]
fn empty_identifiers_are_rejected() {
    let err = stellaops_dora_metrics::DeploymentEvent::builder("d-1")
        .tenant(" ")
        .environment("prod")
        .pipeline("api")
        .committed_at(t(1.0))
        .deployed_at(t(1.0))
        .hotfix()
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        ValidationError::EmptyField {
            field: "tenant",
            ..
        }
    ));
}

#[test]
fn incident_rules_resolve_and_acknowledge_not_before_start() {
    let dora = DoraMetricsService::new();
    let err = invalid(
        dora.incident("i-1")
            .tenant("acme")
            .environment("prod")
            .severity(Severity::Critical)
            .started_at(t(5.0))
            .resolved_at(t(4.0))
            .record()
            .unwrap_err(),
    );
    assert!(matches!(err, ValidationError::ResolvedBeforeStart { ref id, .. } if id == "i-1"));

    dora.incident("i-2")
        .tenant("acme")
        .environment("prod")
        .severity(Severity::Low)
        .started_at(t(5.0))
        .caused_by("d-9")
        .record()
        .unwrap();
    let err = invalid(dora.acknowledge("acme", "prod", "i-2", t(4.0)).unwrap_err());
    assert!(matches!(
        err,
        ValidationError::AcknowledgedBeforeStart { .. }
    ));
    let err = invalid(dora.resolve("acme", "prod", "i-2", t(4.5)).unwrap_err());
    assert!(matches!(err, ValidationError::ResolvedBeforeStart { .. }));
}

#[test]
fn acknowledge_and_resolve_are_idempotent_for_the_same_time_and_conflict_otherwise() {
    let dora = DoraMetricsService::new();
    dora.record_incident(&inc("i-1", 1.0, None, None)).unwrap();
    assert_eq!(
        dora.acknowledge("acme", "prod", "i-1", t(1.5)).unwrap(),
        Recorded::New
    );
    assert_eq!(
        dora.acknowledge("acme", "prod", "i-1", t(1.5)).unwrap(),
        Recorded::Unchanged
    );
    let err = invalid(dora.acknowledge("acme", "prod", "i-1", t(1.7)).unwrap_err());
    assert!(matches!(
        err,
        ValidationError::ConflictingUpdate {
            field: "acknowledgedAt",
            ..
        }
    ));
    assert_eq!(
        dora.resolve("acme", "prod", "i-1", t(3.0)).unwrap(),
        Recorded::New
    );
    assert_eq!(
        dora.resolve("acme", "prod", "i-1", t(3.0)).unwrap(),
        Recorded::Unchanged
    );
    let err = invalid(dora.resolve("acme", "prod", "i-1", t(4.0)).unwrap_err());
    assert!(matches!(
        err,
        ValidationError::ConflictingUpdate {
            field: "resolvedAt",
            ..
        }
    ));
}

#[test]
fn acknowledging_an_unknown_incident_names_tenant_environment_and_id() {
    let dora = DoraMetricsService::new();
    dora.record_incident(&inc("i-1", 1.0, None, None)).unwrap();
    let err = invalid(
        dora.acknowledge("acme", "staging", "i-1", t(2.0))
            .unwrap_err(),
    );
    assert_eq!(
        err,
        ValidationError::UnknownIncident {
            tenant: "acme".into(),
            environment: "staging".into(),
            id: "i-1".into()
        }
    );
}

#[test]
fn identical_duplicates_are_idempotent_and_different_content_is_a_conflict() {
    let dora = DoraMetricsService::new();
    let d = dep("d-1", 1.0, 2.0, Outcome::Success);
    assert_eq!(dora.record_deployment(&d).unwrap(), Recorded::New);
    assert_eq!(dora.record_deployment(&d).unwrap(), Recorded::Unchanged);
    assert_eq!(dora.metrics().deployment_count("acme", "prod"), 1);

    let mut changed = d.clone();
    changed.outcome = Outcome::Rollback;
    let err = invalid(dora.record_deployment(&changed).unwrap_err());
    assert_eq!(
        err,
        ValidationError::ConflictingDuplicate {
            kind: EventKind::Deployment,
            tenant: "acme".into(),
            environment: "prod".into(),
            id: "d-1".into(),
            field: "outcome"
        }
    );
    // The same id in another environment is another deployment.
    let mut elsewhere = d.clone();
    elsewhere.environment = "staging".into();
    assert_eq!(dora.record_deployment(&elsewhere).unwrap(), Recorded::New);

    let i = inc("i-1", 1.0, None, Some(2.0));
    assert_eq!(dora.record_incident(&i).unwrap(), Recorded::New);
    assert_eq!(dora.record_incident(&i).unwrap(), Recorded::Unchanged);
    let mut changed = i.clone();
    changed.severity = Severity::Low;
    let err = invalid(dora.record_incident(&changed).unwrap_err());
    assert!(matches!(
        err,
        ValidationError::ConflictingDuplicate {
            field: "severity",
            ..
        }
    ));
}

const DEPLOYMENT_LINE: &str = r#"{"kind":"deployment","tenant":"acme","environment":"prod","deploymentId":"d-1","pipeline":"api","commitAt":"2025-03-03T01:00:00Z","deployedAt":"2025-03-03T03:00:00+01:00","outcome":"hotfix","remediatesIncidentId":"i-0"}"#;
const INCIDENT_LINE: &str = r#"{"kind":"incident","tenant":"acme","environment":"prod","incidentId":"i-1","severity":"critical","startedAt":"2025-03-03T04:00:00Z","acknowledgedAt":"2025-03-03T04:10:00Z","resolvedAt":null,"deploymentId":"d-1"}"#;

#[test]
fn json_lines_parse_into_events_with_offsets_normalised_to_utc() {
    let DoraEvent::Deployment(d) = parse_event_line(DEPLOYMENT_LINE).unwrap() else {
        panic!("not a deployment");
    };
    assert_eq!(d.deployed_at, t(2.0));
    assert_eq!(d.outcome, Outcome::Hotfix);
    assert_eq!(d.remediates_incident_id.as_deref(), Some("i-0"));
    let DoraEvent::Incident(i) = parse_event_line(INCIDENT_LINE).unwrap() else {
        panic!("not an incident");
    };
    assert_eq!(i.severity, Severity::Critical);
    assert_eq!(i.resolved_at, None);
    assert_eq!(i.caused_by_deployment_id.as_deref(), Some("d-1"));
    // Round trip through the writer.
    let again = parse_event_line(&event_to_json_line(&DoraEvent::Incident(i.clone()))).unwrap();
    assert_eq!(again, DoraEvent::Incident(i));
    let line = event_to_json_line(&DoraEvent::Deployment(d));
    assert!(line.starts_with(r#"{"kind":"deployment","#), "{line}");
    assert!(
        line.contains(r#""commitAt":"2025-03-03T01:00:00Z""#),
        "{line}"
    );
}

fn line_error(line: &str) -> ValidationError {
    match parse_event_line(line) {
        Err(LineError::Invalid(e)) => e,
        other => panic!("expected a validation error for {line}, got {other:?}"),
    }
}

#[test]
fn json_problems_name_the_id_and_the_field() {
    let e = line_error(&DEPLOYMENT_LINE.replace("hotfix", "exploded"));
    assert_eq!(
        e,
        ValidationError::UnknownOutcome {
            id: "d-1".into(),
            found: "exploded".into()
        }
    );
    let e = line_error(&INCIDENT_LINE.replace("critical", "meh"));
    assert!(matches!(e, ValidationError::UnknownSeverity { ref found, .. } if found == "meh"));
    let e = line_error(&DEPLOYMENT_LINE.replace("2025-03-03T01:00:00Z", "yesterday"));
    assert!(
        matches!(e, ValidationError::InvalidField { field: "commitAt", ref id, .. } if id == "d-1"),
        "{e}"
    );
    let e = line_error(&DEPLOYMENT_LINE.replace(r#""pipeline":"api","#, ""));
    assert!(matches!(
        e,
        ValidationError::MissingField {
            field: "pipeline",
            ..
        }
    ));
    let e = line_error(&DEPLOYMENT_LINE.replace(r#""tenant":"acme""#, r#""tenant":7"#));
    assert!(matches!(
        e,
        ValidationError::InvalidField {
            field: "tenant",
            ..
        }
    ));
    let e = line_error(&DEPLOYMENT_LINE.replace("outcome", "severity"));
    assert!(matches!(e, ValidationError::UnexpectedField { ref field, .. } if field == "severity"));
    let e = line_error(&DEPLOYMENT_LINE.replace(r#""kind":"deployment""#, r#""kind":"release""#));
    assert!(matches!(e, ValidationError::UnknownKind { .. }));
    let e = line_error(&DEPLOYMENT_LINE.replace("03T03:00:00+01:00", "03T00:30:00Z"));
    assert!(matches!(e, ValidationError::DeployedBeforeCommit { .. }));
    let e = line_error(&INCIDENT_LINE.replace(
        r#""resolvedAt":null"#,
        r#""resolvedAt":"2025-03-03T03:00:00Z""#,
    ));
    assert!(matches!(e, ValidationError::ResolvedBeforeStart { .. }));
    assert!(matches!(
        parse_event_line("{not json"),
        Err(LineError::Json(_))
    ));
    assert!(matches!(parse_event_line("[1,2]"), Err(LineError::Json(_))));
}

#[test]
fn reader_numbers_lines_and_skips_blank_ones() {
    let text = format!("{DEPLOYMENT_LINE}\n\n   \n{INCIDENT_LINE}\n{{\"kind\":\"incident\"}}\n");
    let items: Vec<_> = read_event_lines(Cursor::new(text)).collect();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().0, 1);
    assert_eq!(items[1].as_ref().unwrap().0, 4);
    let err = items[2].as_ref().unwrap_err();
    assert_eq!(err.line, 5);
    assert!(err.to_string().starts_with("line 5: incident"), "{err}");
}

#[test]
fn serde_deserialization_of_events_validates_too() {
    let e = serde_json::from_str::<DoraEvent>(&DEPLOYMENT_LINE.replace("hotfix", "nope"));
    let text = e.unwrap_err().to_string();
    assert!(text.contains("outcome") && text.contains("d-1"), "{text}");
}
