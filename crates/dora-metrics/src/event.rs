//! DORA events: deployments and incidents, their validation, and builders. Events are plain
//! data (public fields, serde in the camelCase JSON-lines shape); the rules that make an event
//! valid live here so every store and every front end (builder, JSON lines) applies the same.

use crate::error::{EventKind, ValidationError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How a deployment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Deployed and working.
    Success,
    /// The deployment failed.
    Failure,
    /// The deployment was rolled back.
    Rollback,
    /// The deployment needed a hotfix.
    Hotfix,
}

impl Outcome {
    /// Every outcome, in declaration order.
    pub const ALL: [Outcome; 4] = [
        Outcome::Success,
        Outcome::Failure,
        Outcome::Rollback,
        Outcome::Hotfix,
    ];

    /// The wire name: `success`, `failure`, `rollback` or `hotfix`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Rollback => "rollback",
            Outcome::Hotfix => "hotfix",
        }
    }

    /// Whether the deployment counts as a change failure (failure, rollback or hotfix): the
    /// numerator of the change failure rate and the start of a failed-deployment recovery.
    pub fn is_change_failure(self) -> bool {
        !matches!(self, Outcome::Success)
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The wire name did not name an outcome.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown outcome {found:?}: expected one of success, failure, rollback, hotfix")]
pub struct UnknownOutcome {
    /// What was given.
    pub found: String,
}

impl FromStr for Outcome {
    type Err = UnknownOutcome;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownOutcome {
                found: s.to_owned(),
            })
    }
}

/// How bad an incident is. Ordered by severity: `Low < Medium < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Minor impact.
    Low,
    /// Moderate impact.
    Medium,
    /// Major impact.
    High,
    /// Outage or equivalent.
    Critical,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    /// The wire name: `critical`, `high`, `medium` or `low`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The wire name did not name a severity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown severity {found:?}: expected one of critical, high, medium, low")]
pub struct UnknownSeverity {
    /// What was given.
    pub found: String,
}

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Severity::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownSeverity {
                found: s.to_owned(),
            })
    }
}

/// A deployment of a pipeline to an environment.
///
/// JSON (one line, `"kind":"deployment"` when wrapped in [`DoraEvent`]):
/// `{"tenant":"acme","environment":"prod","deploymentId":"d-1","pipeline":"api",
/// "commitAt":"2025-01-01T08:00:00Z","deployedAt":"2025-01-01T10:00:00Z","outcome":"success"}`
/// plus an optional `"remediatesIncidentId"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentEvent {
    /// The tenant that owns the deployment.
    pub tenant: String,
    /// The environment deployed to (`prod`, `staging`…).
    pub environment: String,
    /// Unique per tenant and environment.
    pub deployment_id: String,
    /// The pipeline (service, application) that was deployed.
    pub pipeline: String,
    /// When the first commit in the deployment was made (JSON `commitAt`).
    #[serde(rename = "commitAt")]
    pub committed_at: DateTime<Utc>,
    /// When the deployment completed.
    pub deployed_at: DateTime<Utc>,
    /// How it ended.
    pub outcome: Outcome,
    /// The incident this deployment remediates, if it is a fix for one (counts as rework).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediates_incident_id: Option<String>,
}

impl DeploymentEvent {
    /// A builder for a deployment with id `deployment_id`; [`DeploymentBuilder::build`] validates.
    pub fn builder(deployment_id: impl Into<String>) -> DeploymentBuilder<()> {
        DeploymentBuilder::new((), deployment_id.into())
    }

    /// Checks the event's own rules: non-empty tenant, environment, id, pipeline and
    /// remediated incident id; `deployedAt` not before `commitAt`.
    ///
    /// # Errors
    /// The first rule broken, naming the deployment id and the field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let kind = EventKind::Deployment;
        let id = &self.deployment_id;
        non_empty(kind, id, "deploymentId", id)?;
        non_empty(kind, id, "tenant", &self.tenant)?;
        non_empty(kind, id, "environment", &self.environment)?;
        non_empty(kind, id, "pipeline", &self.pipeline)?;
        if let Some(incident) = &self.remediates_incident_id {
            non_empty(kind, id, "remediatesIncidentId", incident)?;
        }
        if self.deployed_at < self.committed_at {
            return Err(ValidationError::DeployedBeforeCommit {
                id: id.clone(),
                committed_at: self.committed_at,
                deployed_at: self.deployed_at,
            });
        }
        Ok(())
    }

    /// The first field (JSON name) in which `other` differs from `self`, if any: what a store
    /// reports when the same id arrives again with different content.
    pub fn first_difference(&self, other: &DeploymentEvent) -> Option<&'static str> {
        [
            ("tenant", self.tenant == other.tenant),
            ("environment", self.environment == other.environment),
            ("deploymentId", self.deployment_id == other.deployment_id),
            ("pipeline", self.pipeline == other.pipeline),
            ("commitAt", self.committed_at == other.committed_at),
            ("deployedAt", self.deployed_at == other.deployed_at),
            ("outcome", self.outcome == other.outcome),
            (
                "remediatesIncidentId",
                self.remediates_incident_id == other.remediates_incident_id,
            ),
        ]
        .into_iter()
        .find_map(|(field, same)| (!same).then_some(field))
    }

    /// `deployedAt - commitAt` in hours.
    pub fn lead_time_hours(&self) -> f64 {
        crate::hours::hours_between(self.committed_at, self.deployed_at)
    }
}

/// An incident in an environment, possibly still open.
///
/// JSON: `{"tenant":"acme","environment":"prod","incidentId":"i-1","severity":"high",
/// "startedAt":"2025-01-01T11:00:00Z"}` plus optional `"acknowledgedAt"`, `"resolvedAt"` and
/// `"deploymentId"` (the deployment that caused it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IncidentEvent {
    /// The tenant that owns the incident.
    pub tenant: String,
    /// The environment where it happened.
    pub environment: String,
    /// Unique per tenant and environment.
    pub incident_id: String,
    /// How bad it is.
    pub severity: Severity,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When someone acknowledged it; `None` while unacknowledged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// When it was resolved; `None` while open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<DateTime<Utc>>,
    /// The deployment that caused it, if known (JSON `deploymentId`).
    #[serde(
        rename = "deploymentId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub caused_by_deployment_id: Option<String>,
}

impl IncidentEvent {
    /// A builder for an incident with id `incident_id`; [`IncidentBuilder::build`] validates.
    pub fn builder(incident_id: impl Into<String>) -> IncidentBuilder<()> {
        IncidentBuilder::new((), incident_id.into())
    }

    /// Checks the event's own rules: non-empty tenant, environment, id and causing deployment
    /// id; `acknowledgedAt` and `resolvedAt` not before `startedAt`.
    ///
    /// # Errors
    /// The first rule broken, naming the incident id and the field.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let kind = EventKind::Incident;
        let id = &self.incident_id;
        non_empty(kind, id, "incidentId", id)?;
        non_empty(kind, id, "tenant", &self.tenant)?;
        non_empty(kind, id, "environment", &self.environment)?;
        if let Some(deployment) = &self.caused_by_deployment_id {
            non_empty(kind, id, "deploymentId", deployment)?;
        }
        if let Some(acknowledged_at) = self.acknowledged_at
            && acknowledged_at < self.started_at
        {
            return Err(ValidationError::AcknowledgedBeforeStart {
                id: id.clone(),
                started_at: self.started_at,
                acknowledged_at,
            });
        }
        if let Some(resolved_at) = self.resolved_at
            && resolved_at < self.started_at
        {
            return Err(ValidationError::ResolvedBeforeStart {
                id: id.clone(),
                started_at: self.started_at,
                resolved_at,
            });
        }
        Ok(())
    }

    /// The first field (JSON name) in which `other` differs from `self`, if any.
    pub fn first_difference(&self, other: &IncidentEvent) -> Option<&'static str> {
        [
            ("tenant", self.tenant == other.tenant),
            ("environment", self.environment == other.environment),
            ("incidentId", self.incident_id == other.incident_id),
            ("severity", self.severity == other.severity),
            ("startedAt", self.started_at == other.started_at),
            (
                "acknowledgedAt",
                self.acknowledged_at == other.acknowledged_at,
            ),
            ("resolvedAt", self.resolved_at == other.resolved_at),
            (
                "deploymentId",
                self.caused_by_deployment_id == other.caused_by_deployment_id,
            ),
        ]
        .into_iter()
        .find_map(|(field, same)| (!same).then_some(field))
    }

    /// Whether the incident is still open (not resolved).
    pub fn is_open(&self) -> bool {
        self.resolved_at.is_none()
    }

    /// Applies an acknowledgement or a resolution. Applying the same time again changes
    /// nothing (`Ok(false)`); a different time for a field already set is a conflict.
    ///
    /// # Errors
    /// [`ValidationError::AcknowledgedBeforeStart`], [`ValidationError::ResolvedBeforeStart`],
    /// or [`ValidationError::ConflictingUpdate`] when the field already holds another time.
    pub fn apply(&mut self, update: IncidentUpdate) -> Result<bool, ValidationError> {
        let (field, slot, at) = match update {
            IncidentUpdate::Acknowledge(at) => {
                if at < self.started_at {
                    return Err(ValidationError::AcknowledgedBeforeStart {
                        id: self.incident_id.clone(),
                        started_at: self.started_at,
                        acknowledged_at: at,
                    });
                }
                ("acknowledgedAt", &mut self.acknowledged_at, at)
            }
            IncidentUpdate::Resolve(at) => {
                if at < self.started_at {
                    return Err(ValidationError::ResolvedBeforeStart {
                        id: self.incident_id.clone(),
                        started_at: self.started_at,
                        resolved_at: at,
                    });
                }
                ("resolvedAt", &mut self.resolved_at, at)
            }
        };
        match *slot {
            Some(existing) if existing == at => Ok(false),
            Some(existing) => Err(ValidationError::ConflictingUpdate {
                id: self.incident_id.clone(),
                field,
                existing,
                requested: at,
            }),
            None => {
                *slot = Some(at);
                Ok(true)
            }
        }
    }
}

/// A change to a recorded incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentUpdate {
    /// Someone acknowledged the incident at this time.
    Acknowledge(DateTime<Utc>),
    /// The incident was resolved at this time.
    Resolve(DateTime<Utc>),
}

/// One line of a DORA event stream: `{"kind":"deployment",...}` or `{"kind":"incident",...}`.
///
/// Deserializing validates (the same rules as the builders) and reports problems with the
/// event id and the field; unknown fields, and fields of the other kind, are rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
#[serde(try_from = "crate::raw_event::RawEvent")]
pub enum DoraEvent {
    /// A deployment.
    Deployment(DeploymentEvent),
    /// An incident.
    Incident(IncidentEvent),
}

impl DoraEvent {
    /// The event's tenant.
    pub fn tenant(&self) -> &str {
        match self {
            DoraEvent::Deployment(d) => &d.tenant,
            DoraEvent::Incident(i) => &i.tenant,
        }
    }

    /// The event's environment.
    pub fn environment(&self) -> &str {
        match self {
            DoraEvent::Deployment(d) => &d.environment,
            DoraEvent::Incident(i) => &i.environment,
        }
    }

    /// Checks the event's own rules.
    ///
    /// # Errors
    /// See [`DeploymentEvent::validate`] and [`IncidentEvent::validate`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        match self {
            DoraEvent::Deployment(d) => d.validate(),
            DoraEvent::Incident(i) => i.validate(),
        }
    }
}

impl From<DeploymentEvent> for DoraEvent {
    fn from(event: DeploymentEvent) -> Self {
        DoraEvent::Deployment(event)
    }
}

impl From<IncidentEvent> for DoraEvent {
    fn from(event: IncidentEvent) -> Self {
        DoraEvent::Incident(event)
    }
}

fn non_empty(
    kind: EventKind,
    id: &str,
    field: &'static str,
    value: &str,
) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        Err(ValidationError::EmptyField {
            kind,
            id: id.to_owned(),
            field,
        })
    } else {
        Ok(())
    }
}

fn required<T>(
    kind: EventKind,
    id: &str,
    field: &'static str,
    value: Option<T>,
) -> Result<T, ValidationError> {
    value.ok_or_else(|| ValidationError::MissingField {
        kind,
        id: id.to_owned(),
        field,
    })
}

/// Builds a [`DeploymentEvent`]. `T` is where it goes: `()` for a plain event
/// ([`DeploymentEvent::builder`], finish with [`build`](Self::build)), or a
/// [`DoraMetricsService`](crate::DoraMetricsService) (`dora.deployment("d-1")`, finish with
/// [`record`](DeploymentBuilder::record)).
///
/// Required: tenant, environment, pipeline, `committed_at`, `deployed_at` and an outcome
/// (`succeeded()`, `failed()`, `rolled_back()`, `hotfix()` or `outcome(..)`).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() or record() is called"]
pub struct DeploymentBuilder<T> {
    pub(crate) target: T,
    deployment_id: String,
    tenant: Option<String>,
    environment: Option<String>,
    pipeline: Option<String>,
    committed_at: Option<DateTime<Utc>>,
    deployed_at: Option<DateTime<Utc>>,
    outcome: Option<Outcome>,
    remediates_incident_id: Option<String>,
}

impl<T> DeploymentBuilder<T> {
    pub(crate) fn new(target: T, deployment_id: String) -> Self {
        Self {
            target,
            deployment_id,
            tenant: None,
            environment: None,
            pipeline: None,
            committed_at: None,
            deployed_at: None,
            outcome: None,
            remediates_incident_id: None,
        }
    }

    /// The owning tenant.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// The environment deployed to.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// The pipeline deployed.
    pub fn pipeline(mut self, pipeline: impl Into<String>) -> Self {
        self.pipeline = Some(pipeline.into());
        self
    }

    /// When the first commit in the deployment was made.
    pub fn committed_at(mut self, at: DateTime<Utc>) -> Self {
        self.committed_at = Some(at);
        self
    }

    /// When the deployment completed.
    pub fn deployed_at(mut self, at: DateTime<Utc>) -> Self {
        self.deployed_at = Some(at);
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = Some(outcome);
        self
    }

    /// Outcome `success`.
    pub fn succeeded(self) -> Self {
        self.outcome(Outcome::Success)
    }

    /// Outcome `failure`.
    pub fn failed(self) -> Self {
        self.outcome(Outcome::Failure)
    }

    /// Outcome `rollback`.
    pub fn rolled_back(self) -> Self {
        self.outcome(Outcome::Rollback)
    }

    /// Outcome `hotfix`.
    pub fn hotfix(self) -> Self {
        self.outcome(Outcome::Hotfix)
    }

    /// Marks the deployment as the remediation of incident `incident_id`.
    pub fn remediates(mut self, incident_id: impl Into<String>) -> Self {
        self.remediates_incident_id = Some(incident_id.into());
        self
    }

    /// The validated event.
    ///
    /// # Errors
    /// [`ValidationError::MissingField`] for a required field not set, else whatever
    /// [`DeploymentEvent::validate`] reports.
    pub fn build(self) -> Result<DeploymentEvent, ValidationError> {
        let kind = EventKind::Deployment;
        let id = self.deployment_id.as_str();
        let event = DeploymentEvent {
            tenant: required(kind, id, "tenant", self.tenant)?,
            environment: required(kind, id, "environment", self.environment)?,
            pipeline: required(kind, id, "pipeline", self.pipeline)?,
            committed_at: required(kind, id, "commitAt", self.committed_at)?,
            deployed_at: required(kind, id, "deployedAt", self.deployed_at)?,
            outcome: required(kind, id, "outcome", self.outcome)?,
            remediates_incident_id: self.remediates_incident_id,
            deployment_id: self.deployment_id,
        };
        event.validate()?;
        Ok(event)
    }
}

/// Builds an [`IncidentEvent`]; see [`DeploymentBuilder`] for the meaning of `T`.
///
/// Required: tenant, environment, severity and `started_at`.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until build() or record() is called"]
pub struct IncidentBuilder<T> {
    pub(crate) target: T,
    incident_id: String,
    tenant: Option<String>,
    environment: Option<String>,
    severity: Option<Severity>,
    started_at: Option<DateTime<Utc>>,
    acknowledged_at: Option<DateTime<Utc>>,
    resolved_at: Option<DateTime<Utc>>,
    caused_by_deployment_id: Option<String>,
}

impl<T> IncidentBuilder<T> {
    pub(crate) fn new(target: T, incident_id: String) -> Self {
        Self {
            target,
            incident_id,
            tenant: None,
            environment: None,
            severity: None,
            started_at: None,
            acknowledged_at: None,
            resolved_at: None,
            caused_by_deployment_id: None,
        }
    }

    /// The owning tenant.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// The environment where it happened.
    pub fn environment(mut self, environment: impl Into<String>) -> Self {
        self.environment = Some(environment.into());
        self
    }

    /// How bad it is.
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = Some(severity);
        self
    }

    /// When it started.
    pub fn started_at(mut self, at: DateTime<Utc>) -> Self {
        self.started_at = Some(at);
        self
    }

    /// When it was acknowledged (if already known when recording).
    pub fn acknowledged_at(mut self, at: DateTime<Utc>) -> Self {
        self.acknowledged_at = Some(at);
        self
    }

    /// When it was resolved (if already known when recording).
    pub fn resolved_at(mut self, at: DateTime<Utc>) -> Self {
        self.resolved_at = Some(at);
        self
    }

    /// The deployment that caused it.
    pub fn caused_by(mut self, deployment_id: impl Into<String>) -> Self {
        self.caused_by_deployment_id = Some(deployment_id.into());
        self
    }

    /// The validated event.
    ///
    /// # Errors
    /// [`ValidationError::MissingField`] for a required field not set, else whatever
    /// [`IncidentEvent::validate`] reports.
    pub fn build(self) -> Result<IncidentEvent, ValidationError> {
        let kind = EventKind::Incident;
        let id = self.incident_id.as_str();
        let event = IncidentEvent {
            tenant: required(kind, id, "tenant", self.tenant)?,
            environment: required(kind, id, "environment", self.environment)?,
            severity: required(kind, id, "severity", self.severity)?,
            started_at: required(kind, id, "startedAt", self.started_at)?,
            acknowledged_at: self.acknowledged_at,
            resolved_at: self.resolved_at,
            caused_by_deployment_id: self.caused_by_deployment_id,
            incident_id: self.incident_id,
        };
        event.validate()?;
        Ok(event)
    }
}
