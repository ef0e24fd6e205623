//! DORA events as JSON lines: one object per line, `"kind":"deployment"` or `"incident"`,
//! camelCase fields, RFC 3339 times. Parsing is strict (unknown fields and fields of the other
//! kind are rejected) and every problem names the line, the event id and the field.

use crate::error::{EventKind, ValidationError};
use crate::event::{DeploymentEvent, DoraEvent, IncidentEvent, Outcome, Severity};
use crate::raw_event::RawEvent;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::io::BufRead;

const DEPLOYMENT_FIELDS: [&str; 9] = [
    "kind",
    "tenant",
    "environment",
    "deploymentId",
    "pipeline",
    "commitAt",
    "deployedAt",
    "outcome",
    "remediatesIncidentId",
];

const INCIDENT_FIELDS: [&str; 9] = [
    "kind",
    "tenant",
    "environment",
    "incidentId",
    "severity",
    "startedAt",
    "acknowledgedAt",
    "resolvedAt",
    "deploymentId",
];

impl TryFrom<RawEvent> for DoraEvent {
    type Error = ValidationError;

    fn try_from(raw: RawEvent) -> Result<Self, Self::Error> {
        let mut fields = raw.0;
        let id_hint = ["deploymentId", "incidentId"]
            .iter()
            .find_map(|k| fields.get(*k).and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned();
        let kind = match fields.get("kind") {
            Some(Value::String(k)) if k == "deployment" => EventKind::Deployment,
            Some(Value::String(k)) if k == "incident" => EventKind::Incident,
            Some(other) => {
                return Err(ValidationError::UnknownKind {
                    id: id_hint,
                    found: other.to_string(),
                });
            }
            None => {
                return Err(ValidationError::UnknownKind {
                    id: id_hint,
                    found: "no `kind` field".to_owned(),
                });
            }
        };
        match kind {
            EventKind::Deployment => deployment(&mut fields).map(DoraEvent::Deployment),
            EventKind::Incident => incident(&mut fields).map(DoraEvent::Incident),
        }
    }
}

struct Fields<'a> {
    kind: EventKind,
    id: String,
    map: &'a mut Map<String, Value>,
}

impl Fields<'_> {
    fn take_string(&mut self, field: &'static str) -> Result<Option<String>, ValidationError> {
        match self.map.remove(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.invalid(field, "a string", &other)),
        }
    }

    fn require_string(&mut self, field: &'static str) -> Result<String, ValidationError> {
        self.take_string(field)?.ok_or_else(|| self.missing(field))
    }

    fn take_time(&mut self, field: &'static str) -> Result<Option<DateTime<Utc>>, ValidationError> {
        const EXPECTED: &str = "an RFC 3339 time such as \"2025-01-31T12:00:00Z\"";
        match self.map.remove(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => DateTime::parse_from_rfc3339(&s)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| self.invalid(field, EXPECTED, &Value::String(s))),
            Some(other) => Err(self.invalid(field, EXPECTED, &other)),
        }
    }

    fn require_time(&mut self, field: &'static str) -> Result<DateTime<Utc>, ValidationError> {
        self.take_time(field)?.ok_or_else(|| self.missing(field))
    }

    fn missing(&self, field: &'static str) -> ValidationError {
        ValidationError::MissingField {
            kind: self.kind,
            id: self.id.clone(),
            field,
        }
    }

    fn invalid(
        &self,
        field: &'static str,
        expected: &'static str,
        found: &Value,
    ) -> ValidationError {
        ValidationError::InvalidField {
            kind: self.kind,
            id: self.id.clone(),
            field,
            expected,
            found: found.to_string(),
        }
    }

    fn reject_unknown(&self, allowed: &[&str]) -> Result<(), ValidationError> {
        match self.map.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(field) => Err(ValidationError::UnexpectedField {
                kind: self.kind,
                id: self.id.clone(),
                field: field.clone(),
            }),
            None => Ok(()),
        }
    }
}

fn deployment(map: &mut Map<String, Value>) -> Result<DeploymentEvent, ValidationError> {
    let mut f = Fields {
        kind: EventKind::Deployment,
        id: String::new(),
        map,
    };
    f.reject_unknown(&DEPLOYMENT_FIELDS)?;
    let deployment_id = f.require_string("deploymentId")?;
    f.id.clone_from(&deployment_id);
    let tenant = f.require_string("tenant")?;
    let environment = f.require_string("environment")?;
    let pipeline = f.require_string("pipeline")?;
    let committed_at = f.require_time("commitAt")?;
    let deployed_at = f.require_time("deployedAt")?;
    let outcome = f.require_string("outcome")?;
    let outcome = outcome
        .parse::<Outcome>()
        .map_err(|e| ValidationError::UnknownOutcome {
            id: deployment_id.clone(),
            found: e.found,
        })?;
    let remediates_incident_id = f.take_string("remediatesIncidentId")?;
    let event = DeploymentEvent {
        tenant,
        environment,
        deployment_id,
        pipeline,
        committed_at,
        deployed_at,
        outcome,
        remediates_incident_id,
    };
    event.validate()?;
    Ok(event)
}

fn incident(map: &mut Map<String, Value>) -> Result<IncidentEvent, ValidationError> {
    let mut f = Fields {
        kind: EventKind::Incident,
        id: String::new(),
        map,
    };
    f.reject_unknown(&INCIDENT_FIELDS)?;
    let incident_id = f.require_string("incidentId")?;
    f.id.clone_from(&incident_id);
    let tenant = f.require_string("tenant")?;
    let environment = f.require_string("environment")?;
    let severity = f.require_string("severity")?;
    let severity = severity
        .parse::<Severity>()
        .map_err(|e| ValidationError::UnknownSeverity {
            id: incident_id.clone(),
            found: e.found,
        })?;
    let started_at = f.require_time("startedAt")?;
    let acknowledged_at = f.take_time("acknowledgedAt")?;
    let resolved_at = f.take_time("resolvedAt")?;
    let caused_by_deployment_id = f.take_string("deploymentId")?;
    let event = IncidentEvent {
        tenant,
        environment,
        incident_id,
        severity,
        started_at,
        acknowledged_at,
        resolved_at,
        caused_by_deployment_id,
    };
    event.validate()?;
    Ok(event)
}

/// Why one line of an event stream could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// Reading the input failed.
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// The line is not a JSON object.
    #[error("expected one JSON object: {0}")]
    Json(#[source] serde_json::Error),
    /// The object is not a valid event.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// A line of an event stream that could not be read, with its 1-based line number.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {error}")]
pub struct EventLineError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong with it.
    #[source]
    pub error: LineError,
}

/// Parses one JSON line into an event (validated).
///
/// # Errors
/// [`LineError::Json`] when the text is not one JSON object, [`LineError::Invalid`] when the
/// object is not a valid event.
pub fn parse_event_line(line: &str) -> Result<DoraEvent, LineError> {
    let raw: RawEvent = serde_json::from_str(line).map_err(LineError::Json)?;
    Ok(DoraEvent::try_from(raw)?)
}

/// One event as a JSON line (no trailing newline).
pub fn event_to_json_line(event: &DoraEvent) -> String {
    // Serializing these plain structs cannot fail: every key is a string and every value is a
    // string or a time.
    serde_json::to_string(event).unwrap_or_default()
}

/// Reads events from JSON lines, skipping blank lines. Yields `(line number, event)`; after an
/// error the caller decides whether to go on.
pub fn read_event_lines<R: BufRead>(reader: R) -> EventLines<R> {
    EventLines {
        lines: reader.lines(),
        line: 0,
    }
}

/// The iterator returned by [`read_event_lines`].
#[derive(Debug)]
pub struct EventLines<R> {
    lines: std::io::Lines<R>,
    line: usize,
}

impl<R: BufRead> Iterator for EventLines<R> {
    type Item = Result<(usize, DoraEvent), EventLineError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let next = self.lines.next()?;
            self.line += 1;
            let line = self.line;
            let text = match next {
                Ok(text) => text,
                Err(e) => {
                    return Some(Err(EventLineError {
                        line,
                        error: LineError::Io(e),
                    }));
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            return Some(
                parse_event_line(&text)
                    .map(|event| (line, event))
                    .map_err(|error| EventLineError { line, error }),
            );
        }
    }
}
