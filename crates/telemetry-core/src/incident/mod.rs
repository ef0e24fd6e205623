//! Forensic (incident) mode per tenant: start, escalate, stop and expire incidents, tell
//! the hot path cheaply whether a tenant is in forensic mode, notify observers (sampling,
//! log level, export interval, spool retention) and emit audit events. See
//! `docs/forensic-mode.md`.
//!
//! Not the HTTP or CLI front end (they call [`IncidentController`]), and not a timer:
//! [`IncidentController::expire_due`] is driven by the caller's clock tick.

mod controller;
mod trigger;

pub use controller::{
    AUDIT_TARGET, DEFAULT_INCIDENT_TTL, INCIDENT_ATTRIBUTE, IncidentController, IncidentError,
    IncidentEvent, IncidentObserver, IncidentRequest, IncidentSource, IncidentStatus,
};
pub use trigger::{CircuitBreakerTrigger, ThresholdTrigger};
