//! Errors: [`ValidationError`] when an event or an update is rejected (always naming the event
//! id and the field), [`WindowError`] for an empty window, [`StoreError`] for a failing storage
//! backend, and [`DoraError`] that folds them for the service's operations.

use chrono::{DateTime, Utc};
use std::fmt;

/// Which kind of event an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// A deployment (`"kind":"deployment"`).
    Deployment,
    /// An incident (`"kind":"incident"`).
    Incident,
}

impl EventKind {
    /// `deployment` or `incident`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Deployment => "deployment",
            EventKind::Incident => "incident",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event, or a change to one, that is rejected. Field names are the JSON (camelCase) names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// A required field was not given.
    #[error("{kind} {id:?}: field `{field}` is required but missing")]
    MissingField {
        /// Deployment or incident.
        kind: EventKind,
        /// The event id (empty when the id itself is missing).
        id: String,
        /// The missing field.
        field: &'static str,
    },
    /// A text field was empty or only whitespace.
    #[error("{kind} {id:?}: field `{field}` must not be empty")]
    EmptyField {
        /// Deployment or incident.
        kind: EventKind,
        /// The event id.
        id: String,
        /// The empty field.
        field: &'static str,
    },
    /// A field had the wrong type or shape (a time that is not RFC 3339, a number for a
    /// string…).
    #[error("{kind} {id:?}: field `{field}`: expected {expected}, found {found}")]
    InvalidField {
        /// Deployment or incident.
        kind: EventKind,
        /// The event id.
        id: String,
        /// The field.
        field: &'static str,
        /// What the field must hold.
        expected: &'static str,
        /// What it held (JSON).
        found: String,
    },
    /// A field that does not belong to this kind of event.
    #[error("{kind} {id:?}: unexpected field `{field}` (it does not belong to a {kind})")]
    UnexpectedField {
        /// Deployment or incident.
        kind: EventKind,
        /// The event id.
        id: String,
        /// The field.
        field: String,
    },
    /// `kind` was neither `deployment` nor `incident`.
    #[error("event {id:?}: field `kind`: expected \"deployment\" or \"incident\", found {found:?}")]
    UnknownKind {
        /// The event id, if one could be read.
        id: String,
        /// What `kind` held.
        found: String,
    },
    /// The outcome is not one of success, failure, rollback, hotfix.
    #[error(
        "deployment {id:?}: field `outcome`: expected one of success, failure, rollback, hotfix, found {found:?}"
    )]
    UnknownOutcome {
        /// The deployment id.
        id: String,
        /// What was given.
        found: String,
    },
    /// The severity is not one of critical, high, medium, low.
    #[error(
        "incident {id:?}: field `severity`: expected one of critical, high, medium, low, found {found:?}"
    )]
    UnknownSeverity {
        /// The incident id.
        id: String,
        /// What was given.
        found: String,
    },
    /// `deployedAt` is earlier than `commitAt`.
    #[error(
        "deployment {id:?}: field `deployedAt` ({deployed_at}) is before `commitAt` ({committed_at}); expected a deployment at or after its first commit"
    )]
    DeployedBeforeCommit {
        /// The deployment id.
        id: String,
        /// The commit time.
        committed_at: DateTime<Utc>,
        /// The deploy time.
        deployed_at: DateTime<Utc>,
    },
    /// `resolvedAt` is earlier than `startedAt`.
    #[error(
        "incident {id:?}: field `resolvedAt` ({resolved_at}) is before `startedAt` ({started_at}); expected a resolution at or after the start"
    )]
    ResolvedBeforeStart {
        /// The incident id.
        id: String,
        /// The start.
        started_at: DateTime<Utc>,
        /// The resolution.
        resolved_at: DateTime<Utc>,
    },
    /// `acknowledgedAt` is earlier than `startedAt`.
    #[error(
        "incident {id:?}: field `acknowledgedAt` ({acknowledged_at}) is before `startedAt` ({started_at}); expected an acknowledgement at or after the start"
    )]
    AcknowledgedBeforeStart {
        /// The incident id.
        id: String,
        /// The start.
        started_at: DateTime<Utc>,
        /// The acknowledgement.
        acknowledged_at: DateTime<Utc>,
    },
    /// The same id was recorded before with different content.
    #[error(
        "{kind} {id:?} (tenant {tenant:?}, environment {environment:?}) was already recorded with a different `{field}`; a repeated event must be identical"
    )]
    ConflictingDuplicate {
        /// Deployment or incident.
        kind: EventKind,
        /// The tenant.
        tenant: String,
        /// The environment.
        environment: String,
        /// The event id.
        id: String,
        /// The first field that differs.
        field: &'static str,
    },
    /// An acknowledgement or resolution with a different time than the one already recorded.
    #[error("incident {id:?}: field `{field}` is already {existing}; cannot set it to {requested}")]
    ConflictingUpdate {
        /// The incident id.
        id: String,
        /// `acknowledgedAt` or `resolvedAt`.
        field: &'static str,
        /// The recorded time.
        existing: DateTime<Utc>,
        /// The time asked for.
        requested: DateTime<Utc>,
    },
    /// Acknowledge or resolve named an incident that was never recorded.
    #[error(
        "incident {id:?}: not recorded for tenant {tenant:?}, environment {environment:?}; record it before acknowledging or resolving it"
    )]
    UnknownIncident {
        /// The tenant.
        tenant: String,
        /// The environment.
        environment: String,
        /// The incident id.
        id: String,
    },
}

impl ValidationError {
    /// A stable machine code, `dora.event.<reason>`.
    pub fn code(&self) -> &'static str {
        match self {
            ValidationError::MissingField { .. } => "dora.event.missing_field",
            ValidationError::EmptyField { .. } => "dora.event.empty_field",
            ValidationError::InvalidField { .. } => "dora.event.invalid_field",
            ValidationError::UnexpectedField { .. } => "dora.event.unexpected_field",
            ValidationError::UnknownKind { .. } => "dora.event.unknown_kind",
            ValidationError::UnknownOutcome { .. } => "dora.event.unknown_outcome",
            ValidationError::UnknownSeverity { .. } => "dora.event.unknown_severity",
            ValidationError::DeployedBeforeCommit { .. } => "dora.event.deployed_before_commit",
            ValidationError::ResolvedBeforeStart { .. } => "dora.event.resolved_before_start",
            ValidationError::AcknowledgedBeforeStart { .. } => {
                "dora.event.acknowledged_before_start"
            }
            ValidationError::ConflictingDuplicate { .. } => "dora.event.conflicting_duplicate",
            ValidationError::ConflictingUpdate { .. } => "dora.event.conflicting_update",
            ValidationError::UnknownIncident { .. } => "dora.event.unknown_incident",
        }
    }
}

/// A window whose start is not before its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("window start {from} must be before its end {to}; windows are half-open [from, to)")]
pub struct WindowError {
    /// The start given.
    pub from: DateTime<Utc>,
    /// The end given.
    pub to: DateTime<Utc>,
}

/// A storage backend failed (a database error, a lost connection…).
#[derive(Debug, thiserror::Error)]
#[error("DORA store {backend}: {message}")]
pub struct StoreError {
    /// Which store (`in-memory`, `postgres`…).
    pub backend: String,
    /// What went wrong.
    pub message: String,
    /// The underlying error, if any.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// A store failure without an underlying error.
    pub fn new(backend: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            backend: backend.into(),
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
}

/// Any failure of a DORA operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DoraError {
    /// The event or update was rejected.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The window is empty or reversed.
    #[error(transparent)]
    Window(#[from] WindowError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DoraError {
    /// A stable machine code: the [`ValidationError::code`], `dora.window.empty` or
    /// `dora.store.failed`.
    pub fn code(&self) -> &'static str {
        match self {
            DoraError::Invalid(e) => e.code(),
            DoraError::Window(_) => "dora.window.empty",
            DoraError::Store(_) => "dora.store.failed",
        }
    }
}
