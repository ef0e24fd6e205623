//! The incident controller: start, escalate, stop and expire incidents per tenant, tell the
//! hot path cheaply whether a tenant is in forensic mode, notify observers and emit audit
//! events.
//!
//! Not the triggers that start incidents on their own (`trigger`).

use crate::metrics::MetricCatalogue;
use crate::sampling::{Clock, ForensicTenants, nanos_to_utc};
use chrono::{DateTime, Utc};
use prometheus_client::metrics::gauge::Gauge;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use stellaops_telemetry_model::sync::{read, write};

/// How long an incident lasts unless its request says otherwise: 30 minutes.
pub const DEFAULT_INCIDENT_TTL: Duration = Duration::from_secs(30 * 60);

/// The `tracing` target of incident audit events.
pub const AUDIT_TARGET: &str = "stellaops_telemetry::incident";

/// What started an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IncidentSource {
    /// An operator (CLI, HTTP).
    Manual,
    /// The orchestrator escalated an incident.
    OrchestratorEscalation,
    /// Policy violations crossed a threshold ([`ThresholdTrigger`](super::ThresholdTrigger)).
    PolicyViolationThreshold,
    /// A circuit breaker opened ([`CircuitBreakerTrigger`](super::CircuitBreakerTrigger)).
    CircuitBreaker,
}

impl IncidentSource {
    /// `manual`, `orchestrator_escalation`, `policy_violation_threshold` or `circuit_breaker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Manual => "manual",
            Self::OrchestratorEscalation => "orchestrator_escalation",
            Self::PolicyViolationThreshold => "policy_violation_threshold",
            Self::CircuitBreaker => "circuit_breaker",
        }
    }
}

impl std::fmt::Display for IncidentSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request to put a tenant in forensic mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRequest {
    /// The tenant.
    pub tenant: String,
    /// Why (free text, e.g. a CVE investigation).
    pub reason: String,
    /// Who asked (user, service account, trigger name).
    pub actor: String,
    /// What asked.
    pub source: IncidentSource,
    /// How long; `None` means [`DEFAULT_INCIDENT_TTL`] (or the controller's default).
    pub ttl: Option<Duration>,
}

impl IncidentRequest {
    /// A manual request with the default TTL.
    pub fn manual(
        tenant: impl Into<String>,
        reason: impl Into<String>,
        actor: impl Into<String>,
    ) -> Self {
        Self {
            tenant: tenant.into(),
            reason: reason.into(),
            actor: actor.into(),
            source: IncidentSource::Manual,
            ttl: None,
        }
    }

    /// The same request from `source`.
    #[must_use]
    pub fn source(mut self, source: IncidentSource) -> Self {
        self.source = source;
        self
    }

    /// The same request lasting `ttl`.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }
}

/// One active incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentStatus {
    /// The tenant.
    pub tenant: String,
    /// Why it started (the first request's reason).
    pub reason: String,
    /// Who started it.
    pub actor: String,
    /// What started it.
    pub source: IncidentSource,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ends by itself unless extended or stopped.
    pub expires_at: DateTime<Utc>,
    /// Requests that extended it after it started (escalations, repeated triggers).
    pub extensions: u32,
}

/// What happened to an incident; observers receive one per change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IncidentEvent {
    /// A tenant entered forensic mode.
    Activated {
        /// The tenant.
        tenant: String,
        /// Who.
        actor: String,
        /// What.
        source: IncidentSource,
        /// Why.
        reason: String,
        /// When it started.
        started_at: DateTime<Utc>,
        /// When it expires.
        expires_at: DateTime<Utc>,
    },
    /// An active incident was extended (a later start or escalation).
    Extended {
        /// The tenant.
        tenant: String,
        /// Who extended it.
        actor: String,
        /// What extended it.
        source: IncidentSource,
        /// Why it was extended.
        reason: String,
        /// When the incident started.
        started_at: DateTime<Utc>,
        /// The new expiry.
        expires_at: DateTime<Utc>,
    },
    /// An operator stopped an incident.
    Stopped {
        /// The tenant.
        tenant: String,
        /// Who stopped it.
        actor: String,
        /// What had started it.
        source: IncidentSource,
        /// Why it had started.
        reason: String,
        /// When it started.
        started_at: DateTime<Utc>,
        /// When it was stopped.
        ended_at: DateTime<Utc>,
    },
    /// An incident reached its expiry.
    Expired {
        /// The tenant.
        tenant: String,
        /// Who had started it.
        actor: String,
        /// What had started it.
        source: IncidentSource,
        /// Why it had started.
        reason: String,
        /// When it started.
        started_at: DateTime<Utc>,
        /// When it expired (its `expires_at`).
        ended_at: DateTime<Utc>,
    },
}

impl IncidentEvent {
    /// The tenant.
    pub fn tenant(&self) -> &str {
        match self {
            Self::Activated { tenant, .. }
            | Self::Extended { tenant, .. }
            | Self::Stopped { tenant, .. }
            | Self::Expired { tenant, .. } => tenant,
        }
    }

    /// When the incident started.
    pub fn started_at(&self) -> DateTime<Utc> {
        match self {
            Self::Activated { started_at, .. }
            | Self::Extended { started_at, .. }
            | Self::Stopped { started_at, .. }
            | Self::Expired { started_at, .. } => *started_at,
        }
    }

    /// When it ends: the expiry for `Activated`/`Extended`, the actual end otherwise.
    pub fn ends_at(&self) -> DateTime<Utc> {
        match self {
            Self::Activated { expires_at, .. } | Self::Extended { expires_at, .. } => *expires_at,
            Self::Stopped { ended_at, .. } | Self::Expired { ended_at, .. } => *ended_at,
        }
    }

    /// Whether the tenant is in forensic mode after this event.
    pub fn is_active(&self) -> bool {
        matches!(self, Self::Activated { .. } | Self::Extended { .. })
    }

    /// The audit event name: `telemetry.incident.activated`, `.extended`, `.stopped` or
    /// `.expired`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Activated { .. } => "telemetry.incident.activated",
            Self::Extended { .. } => "telemetry.incident.extended",
            Self::Stopped { .. } => "telemetry.incident.stopped",
            Self::Expired { .. } => "telemetry.incident.expired",
        }
    }

    /// Who started the incident (or stopped it, for `Stopped`).
    pub fn actor(&self) -> &str {
        match self {
            Self::Activated { actor, .. }
            | Self::Extended { actor, .. }
            | Self::Stopped { actor, .. }
            | Self::Expired { actor, .. } => actor,
        }
    }

    /// What started the incident.
    pub fn source(&self) -> IncidentSource {
        match self {
            Self::Activated { source, .. }
            | Self::Extended { source, .. }
            | Self::Stopped { source, .. }
            | Self::Expired { source, .. } => *source,
        }
    }

    /// Why it was started.
    pub fn reason(&self) -> &str {
        match self {
            Self::Activated { reason, .. }
            | Self::Extended { reason, .. }
            | Self::Stopped { reason, .. }
            | Self::Expired { reason, .. } => reason,
        }
    }
}

/// A request the controller refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IncidentError {
    /// The tenant is empty.
    #[error("incident request needs a tenant, found an empty string")]
    EmptyTenant,
    /// The TTL is zero.
    #[error("incident TTL for tenant `{0}` must be longer than zero")]
    ZeroTtl(String),
    /// `stop` for a tenant with no active incident.
    #[error("no active incident for tenant `{0}`")]
    NotActive(String),
}

impl IncidentError {
    /// Stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyTenant => "telemetry.incident.empty_tenant",
            Self::ZeroTtl(_) => "telemetry.incident.zero_ttl",
            Self::NotActive(_) => "telemetry.incident.not_active",
        }
    }
}

/// An observer of incident events.
pub type IncidentObserver = Box<dyn Fn(&IncidentEvent) + Send + Sync>;

#[derive(Debug, Clone)]
struct Active {
    status: IncidentStatus,
    expires_nanos: u64,
}

struct Inner {
    clock: Arc<dyn Clock>,
    default_ttl: Duration,
    /// Number of entries in `active`: lets the hot path skip the lock when nothing is active.
    count: AtomicUsize,
    active: RwLock<BTreeMap<String, Active>>,
    observers: RwLock<Vec<IncidentObserver>>,
    gauge: Option<Gauge>,
}

/// Per-tenant forensic mode. Cheap to clone (shared state); thread-safe.
///
/// ```
/// use stellaops_telemetry_core::incident::{IncidentController, IncidentRequest};
/// use stellaops_telemetry_core::sampling::ManualClock;
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// let clock = Arc::new(ManualClock::at_unix_nanos(0));
/// let incidents = IncidentController::new(clock.clone());
/// incidents.start(IncidentRequest::manual("acme-corp", "CVE-2025-12345", "alice")).unwrap();
/// assert!(incidents.is_active("acme-corp"));
/// clock.advance(Duration::from_secs(30 * 60));
/// assert_eq!(incidents.expire_due().len(), 1);
/// assert!(!incidents.is_active("acme-corp"));
/// ```
#[derive(Clone)]
pub struct IncidentController {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for IncidentController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncidentController")
            .field("active", &self.inner.count.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl IncidentController {
    /// A controller reading time from `clock`, default TTL 30 minutes, no metrics.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self::build(clock, DEFAULT_INCIDENT_TTL, None)
    }

    /// A controller that also sets `telemetry_incident_mode{state="active"}` to the number of
    /// tenants in forensic mode.
    pub fn with_metrics(clock: Arc<dyn Clock>, catalogue: &MetricCatalogue) -> Self {
        let gauge = catalogue.incident_mode("active");
        gauge.set(0);
        Self::build(clock, DEFAULT_INCIDENT_TTL, Some(gauge))
    }

    fn build(clock: Arc<dyn Clock>, default_ttl: Duration, gauge: Option<Gauge>) -> Self {
        Self {
            inner: Arc::new(Inner {
                clock,
                default_ttl,
                count: AtomicUsize::new(0),
                active: RwLock::new(BTreeMap::new()),
                observers: RwLock::new(Vec::new()),
                gauge,
            }),
        }
    }

    /// Adds an observer, called (on the thread that made the change, after the change is
    /// visible to [`Self::is_active`]) for every event.
    pub fn observe(&self, observer: IncidentObserver) {
        write(&self.inner.observers).push(observer);
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Puts `request.tenant` in forensic mode until `now + ttl`. If it already is, the
    /// incident is extended (its expiry never moves earlier) and `Extended` is emitted.
    ///
    /// # Errors
    /// [`IncidentError::EmptyTenant`], [`IncidentError::ZeroTtl`].
    pub fn start(&self, request: IncidentRequest) -> Result<IncidentStatus, IncidentError> {
        if request.tenant.is_empty() {
            return Err(IncidentError::EmptyTenant);
        }
        let ttl = request.ttl.unwrap_or(self.inner.default_ttl);
        if ttl.is_zero() {
            return Err(IncidentError::ZeroTtl(request.tenant));
        }
        let now = self.inner.clock.now_nanos();
        let expires_nanos = now.saturating_add(u64::try_from(ttl.as_nanos()).unwrap_or(u64::MAX));
        let (status, event) = {
            let mut active = write(&self.inner.active);
            match active.get_mut(&request.tenant) {
                Some(a) if a.expires_nanos > now => {
                    if expires_nanos > a.expires_nanos {
                        a.expires_nanos = expires_nanos;
                        a.status.expires_at = nanos_to_utc(expires_nanos);
                    }
                    a.status.extensions = a.status.extensions.saturating_add(1);
                    let event = IncidentEvent::Extended {
                        tenant: request.tenant.clone(),
                        actor: request.actor,
                        source: request.source,
                        reason: request.reason,
                        started_at: a.status.started_at,
                        expires_at: a.status.expires_at,
                    };
                    (a.status.clone(), event)
                }
                _ => {
                    let status = IncidentStatus {
                        tenant: request.tenant.clone(),
                        reason: request.reason.clone(),
                        actor: request.actor.clone(),
                        source: request.source,
                        started_at: nanos_to_utc(now),
                        expires_at: nanos_to_utc(expires_nanos),
                        extensions: 0,
                    };
                    active.insert(
                        request.tenant.clone(),
                        Active {
                            status: status.clone(),
                            expires_nanos,
                        },
                    );
                    self.inner.count.store(active.len(), Ordering::Release);
                    self.set_gauge(active.len());
                    let event = IncidentEvent::Activated {
                        tenant: request.tenant,
                        actor: request.actor,
                        source: request.source,
                        reason: request.reason,
                        started_at: status.started_at,
                        expires_at: status.expires_at,
                    };
                    (status, event)
                }
            }
        };
        self.emit(&event);
        Ok(status)
    }

    /// An orchestrator escalation: [`Self::start`] with source `orchestrator_escalation`.
    ///
    /// # Errors
    /// As [`Self::start`].
    pub fn escalate(
        &self,
        tenant: impl Into<String>,
        reason: impl Into<String>,
        actor: impl Into<String>,
        ttl: Option<Duration>,
    ) -> Result<IncidentStatus, IncidentError> {
        let mut request = IncidentRequest::manual(tenant, reason, actor)
            .source(IncidentSource::OrchestratorEscalation);
        request.ttl = ttl;
        self.start(request)
    }

    /// Ends `tenant`'s incident now.
    ///
    /// # Errors
    /// [`IncidentError::NotActive`] when the tenant has no active incident.
    pub fn stop(&self, tenant: &str, actor: &str) -> Result<IncidentStatus, IncidentError> {
        let now = self.inner.clock.now_nanos();
        let removed = {
            let mut active = write(&self.inner.active);
            let removed = active.remove(tenant);
            self.inner.count.store(active.len(), Ordering::Release);
            self.set_gauge(active.len());
            removed
        };
        let Some(a) = removed else {
            return Err(IncidentError::NotActive(tenant.to_owned()));
        };
        if a.expires_nanos <= now {
            // Already past its expiry: report it as expired, not stopped.
            self.emit(&expired_event(&a));
            return Err(IncidentError::NotActive(tenant.to_owned()));
        }
        self.emit(&IncidentEvent::Stopped {
            tenant: a.status.tenant.clone(),
            actor: actor.to_owned(),
            source: a.status.source,
            reason: a.status.reason.clone(),
            started_at: a.status.started_at,
            ended_at: nanos_to_utc(now),
        });
        Ok(a.status)
    }

    /// Ends every incident whose expiry has passed; returns their final status.
    pub fn expire_due(&self) -> Vec<IncidentStatus> {
        if self.inner.count.load(Ordering::Acquire) == 0 {
            return Vec::new();
        }
        let now = self.inner.clock.now_nanos();
        let expired: Vec<Active> = {
            let mut active = write(&self.inner.active);
            let due: Vec<String> = active
                .iter()
                .filter(|(_, a)| a.expires_nanos <= now)
                .map(|(t, _)| t.clone())
                .collect();
            let expired = due.iter().filter_map(|t| active.remove(t)).collect();
            self.inner.count.store(active.len(), Ordering::Release);
            self.set_gauge(active.len());
            expired
        };
        for a in &expired {
            self.emit(&expired_event(a));
        }
        expired.into_iter().map(|a| a.status).collect()
    }

    /// Whether `tenant` is in forensic mode now (an incident past its expiry but not yet
    /// reaped by [`Self::expire_due`] counts as ended). One atomic load when no incident is
    /// active; a read lock and a map lookup otherwise.
    pub fn is_active(&self, tenant: &str) -> bool {
        if self.inner.count.load(Ordering::Acquire) == 0 {
            return false;
        }
        let expires = read(&self.inner.active)
            .get(tenant)
            .map(|a| a.expires_nanos);
        expires.is_some_and(|e| self.inner.clock.now_nanos() < e)
    }

    /// Whether any tenant is in forensic mode (reaped state).
    pub fn any_active(&self) -> bool {
        self.inner.count.load(Ordering::Acquire) > 0
    }

    /// Every active incident, by tenant.
    pub fn status(&self) -> Vec<IncidentStatus> {
        let now = self.inner.clock.now_nanos();
        read(&self.inner.active)
            .values()
            .filter(|a| a.expires_nanos > now)
            .map(|a| a.status.clone())
            .collect()
    }

    /// `tenant`'s active incident, if any.
    pub fn status_of(&self, tenant: &str) -> Option<IncidentStatus> {
        let now = self.inner.clock.now_nanos();
        read(&self.inner.active)
            .get(tenant)
            .filter(|a| a.expires_nanos > now)
            .map(|a| a.status.clone())
    }

    fn set_gauge(&self, n: usize) {
        if let Some(g) = &self.inner.gauge {
            g.set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    fn emit(&self, event: &IncidentEvent) {
        audit(event);
        for observer in read(&self.inner.observers).iter() {
            observer(event);
        }
    }
}

impl ForensicTenants for IncidentController {
    fn is_forensic(&self, tenant: &str) -> bool {
        self.is_active(tenant)
    }

    fn any_forensic(&self) -> bool {
        self.any_active()
    }
}

/// The extended attributes of forensic mode: a span whose `tenant` is in forensic mode gets
/// `incident=true`, `incident.reason`, `incident.source`, `incident.actor` and
/// `incident.started_at` (RFC 3339), so an investigator can tell from the span alone why it
/// was kept and under which incident. Spans of other tenants are untouched (one atomic load
/// when no incident is active).
impl crate::sampling::SpanEnricher for IncidentController {
    fn enrich(&self, span: &mut opentelemetry_sdk::trace::SpanData) {
        if !self.any_active() {
            return;
        }
        let Some(extra) =
            crate::sampling::SampledSpan::tenant(span).and_then(|t| self.incident_attributes(t))
        else {
            return;
        };
        span.attributes
            .extend(extra.into_iter().map(|(key, value)| match value {
                crate::attribute::AttrValue::Bool(b) => opentelemetry::KeyValue::new(key, b),
                crate::attribute::AttrValue::Str(s) => opentelemetry::KeyValue::new(key, s),
                crate::attribute::AttrValue::I64(i) => opentelemetry::KeyValue::new(key, i),
                crate::attribute::AttrValue::F64(f) => opentelemetry::KeyValue::new(key, f),
            }));
    }
}

impl IncidentController {
    /// The extended attributes for a span of `tenant` while it is in forensic mode
    /// (`incident=true`, `incident.reason`, `incident.source`, `incident.actor`,
    /// `incident.started_at`), or `None` when it is not.
    pub fn incident_attributes(
        &self,
        tenant: &str,
    ) -> Option<Vec<(&'static str, crate::attribute::AttrValue)>> {
        use crate::attribute::AttrValue;
        let status = self.status_of(tenant)?;
        Some(vec![
            (INCIDENT_ATTRIBUTE, AttrValue::Bool(true)),
            ("incident.reason", AttrValue::Str(status.reason)),
            (
                "incident.source",
                AttrValue::Str(status.source.as_str().to_owned()),
            ),
            ("incident.actor", AttrValue::Str(status.actor)),
            (
                "incident.started_at",
                AttrValue::Str(
                    status
                        .started_at
                        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                ),
            ),
        ])
    }
}

/// The span attribute (and log field) that marks data recorded during an incident.
pub const INCIDENT_ATTRIBUTE: &str = "incident";

fn expired_event(a: &Active) -> IncidentEvent {
    IncidentEvent::Expired {
        tenant: a.status.tenant.clone(),
        actor: a.status.actor.clone(),
        source: a.status.source,
        reason: a.status.reason.clone(),
        started_at: a.status.started_at,
        ended_at: a.status.expires_at,
    }
}

/// Emits the audit event for `event` through `tracing` (target [`AUDIT_TARGET`]);
/// `expires_at` is when the incident ends (or ended).
fn audit(event: &IncidentEvent) {
    let ends_at = event
        .ends_at()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    tracing::warn!(
        target: AUDIT_TARGET,
        event = event.name(),
        tenant = event.tenant(),
        actor = event.actor(),
        source = event.source().as_str(),
        reason = event.reason(),
        expires_at = ends_at.as_str(),
        "{}",
        event.name()
    );
}
