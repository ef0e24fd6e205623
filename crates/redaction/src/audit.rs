//! Auditing of override use. An override lets an operator see a value the policy would hide,
//! so every use is reported to an [`OverrideAudit`]: by default a `tracing` event
//! ([`TracingAudit`]); [`RecordingAudit`] keeps the uses in memory for tests and for tools
//! that print a summary.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use stellaops_telemetry_model::sync::lock;

/// One use of an override: a value that the policy would have redacted was kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OverrideUse<'a> {
    /// The ticket that authorised the override.
    pub ticket: &'a str,
    /// The override's key pattern.
    pub pattern: &'a str,
    /// The key (dotted path) whose value was kept.
    pub key: &'a str,
    /// Who granted the override, when the policy says.
    pub granted_by: Option<&'a str>,
    /// When the override stops applying.
    pub expires_at: DateTime<Utc>,
}

/// Receives every use of an override.
pub trait OverrideAudit: Send + Sync {
    /// Called each time an override keeps a value. Runs on the redaction path: keep it cheap.
    fn override_used(&self, used: &OverrideUse<'_>);
}

/// Emits each use as a `tracing` event at `WARN` on target `stellaops_redaction::audit`,
/// named `telemetry.redaction.override_used`, with the ticket, pattern, key, granter and
/// expiry as fields.
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingAudit;

impl OverrideAudit for TracingAudit {
    fn override_used(&self, used: &OverrideUse<'_>) {
        tracing::warn!(
            target: "stellaops_redaction::audit",
            event = "telemetry.redaction.override_used",
            ticket = used.ticket,
            pattern = used.pattern,
            key = used.key,
            granted_by = used.granted_by.unwrap_or(""),
            expires_at = %used.expires_at.to_rfc3339(),
            "redaction override kept a value"
        );
    }
}

/// An owned copy of an [`OverrideUse`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideRecord {
    /// The ticket that authorised the override.
    pub ticket: String,
    /// The override's key pattern.
    pub pattern: String,
    /// The key whose value was kept.
    pub key: String,
    /// Who granted the override.
    pub granted_by: Option<String>,
    /// When the override stops applying.
    pub expires_at: DateTime<Utc>,
}

/// Keeps every use in memory.
#[derive(Debug, Default)]
pub struct RecordingAudit {
    records: Mutex<Vec<OverrideRecord>>,
}

impl RecordingAudit {
    /// An empty recorder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The uses recorded so far, oldest first.
    #[must_use]
    pub fn records(&self) -> Vec<OverrideRecord> {
        lock(&self.records).clone()
    }
}

impl OverrideAudit for RecordingAudit {
    fn override_used(&self, used: &OverrideUse<'_>) {
        lock(&self.records).push(OverrideRecord {
            ticket: used.ticket.to_owned(),
            pattern: used.pattern.to_owned(),
            key: used.key.to_owned(),
            granted_by: used.granted_by.map(str::to_owned),
            expires_at: used.expires_at,
        });
    }
}
