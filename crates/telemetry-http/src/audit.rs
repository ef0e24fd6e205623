//! The audit event stream: one [`AuditRecord`] for every incident toggle and every forensic
//! export the router handles, refused attempts included, delivered to an [`AuditSink`].
//!
//! Sinks: [`TracingAudit`] (tracing events `telemetry.audit.incident_toggle` and
//! `telemetry.audit.forensic_export`, target `telemetry.audit`), `testing::MemoryAudit` (feature `testing`: tests,
//! the demo) and [`FanOut`] (several at once).

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::sync::Arc;

/// What was attempted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
#[non_exhaustive]
pub enum AuditAction {
    /// `POST /telemetry/incidents/mode`.
    IncidentToggle {
        /// Requested state.
        enabled: bool,
        /// The reason given.
        reason: Option<String>,
        /// The TTL requested (seconds), when enabling.
        ttl_seconds: Option<u64>,
    },
    /// `GET /telemetry/exports/forensic/{window}`.
    ForensicExport {
        /// The window as requested.
        window: String,
        /// Parsed start (RFC 3339), when the window parsed.
        start: Option<DateTime<Utc>>,
        /// Parsed end, when the window parsed.
        end: Option<DateTime<Utc>>,
        /// Bytes streamed to the caller.
        bytes: u64,
        /// `sha256:<hex>` of the bytes streamed, when any were.
        digest: Option<String>,
    },
}

impl AuditAction {
    /// The event name: `telemetry.audit.incident_toggle` or `telemetry.audit.forensic_export`.
    pub fn event_name(&self) -> &'static str {
        match self {
            AuditAction::IncidentToggle { .. } => "telemetry.audit.incident_toggle",
            AuditAction::ForensicExport { .. } => "telemetry.audit.forensic_export",
        }
    }
}

/// How it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditOutcome {
    /// Done.
    Ok,
    /// Refused (403: missing scope or another tenant).
    Denied,
    /// Allowed but failed (the service or the export failed, or the client went away).
    Failed,
}

impl AuditOutcome {
    /// `ok`, `denied` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Ok => "ok",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Failed => "failed",
        }
    }
}

/// One audited attempt: who, on which tenant, what, when, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// When (the router's clock).
    pub at: DateTime<Utc>,
    /// The caller's subject.
    pub actor: String,
    /// The caller's own tenant.
    pub actor_tenant: String,
    /// The tenant acted on (requested).
    pub tenant: String,
    /// What was attempted.
    pub action: AuditAction,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// The error code when refused or failed.
    pub code: Option<String>,
}

impl AuditRecord {
    /// The record as one JSON line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Receives audit records. Must not block for long: it is called on request paths.
pub trait AuditSink: Send + Sync {
    /// Records `record`.
    fn record(&self, record: &AuditRecord);
}

impl<S: AuditSink + ?Sized> AuditSink for Arc<S> {
    fn record(&self, record: &AuditRecord) {
        (**self).record(record);
    }
}

/// Emits each record as a tracing event at INFO (`Denied` and `Failed` at WARN), target
/// `telemetry.audit`, named after [`AuditAction::event_name`], with the record's fields and
/// the whole record as `audit` (JSON).
#[derive(Debug, Clone, Copy, Default)]
pub struct TracingAudit;

impl AuditSink for TracingAudit {
    fn record(&self, record: &AuditRecord) {
        let json = record.to_json();
        let code = record.code.as_deref().unwrap_or("");
        macro_rules! emit {
            ($level:expr, $name:literal) => {
                tracing::event!(
                    name: $name,
                    target: "telemetry.audit",
                    $level,
                    audit = true,
                    actor = %record.actor,
                    tenant = %record.tenant,
                    outcome = record.outcome.as_str(),
                    code,
                    record = %json,
                    "{}", $name
                )
            };
        }
        let denied = record.outcome != AuditOutcome::Ok;
        match (&record.action, denied) {
            (AuditAction::IncidentToggle { .. }, false) => {
                emit!(tracing::Level::INFO, "telemetry.audit.incident_toggle");
            }
            (AuditAction::IncidentToggle { .. }, true) => {
                emit!(tracing::Level::WARN, "telemetry.audit.incident_toggle");
            }
            (AuditAction::ForensicExport { .. }, false) => {
                emit!(tracing::Level::INFO, "telemetry.audit.forensic_export");
            }
            (AuditAction::ForensicExport { .. }, true) => {
                emit!(tracing::Level::WARN, "telemetry.audit.forensic_export");
            }
        }
    }
}

/// Delivers every record to each of several sinks, in order.
#[derive(Default, Clone)]
pub struct FanOut {
    sinks: Vec<Arc<dyn AuditSink>>,
}

impl std::fmt::Debug for FanOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanOut")
            .field("sinks", &self.sinks.len())
            .finish()
    }
}

impl FanOut {
    /// No sinks yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `sink`.
    pub fn with(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.sinks.push(sink);
        self
    }
}

impl AuditSink for FanOut {
    fn record(&self, record: &AuditRecord) {
        for sink in &self.sinks {
            sink.record(record);
        }
    }
}
