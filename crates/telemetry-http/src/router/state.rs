//! What the router serves from: [`TelemetryState`] and its builder, the `/metrics` and
//! `/readyz` sources it holds, and the audit record every toggle and export writes. Not where
//! requests are handled.

use crate::audit::{AuditAction, AuditOutcome, AuditRecord, AuditSink, TracingAudit};
use crate::auth::{Authorizer, Principal};
use crate::clock::{Clock, SystemClock};
use crate::config::{ConfigError, ProfileBundles};
use crate::export::ForensicExporter;
use crate::incident::IncidentApi;
use axum::extract::State;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use stellaops_dsse::EnvelopeSigner;
use stellaops_telemetry_deploy::collector::Site;
use stellaops_telemetry_model::profile::Profile;

/// The OpenMetrics text `GET /metrics` serves (a prometheus-client registry encoder, usually).
pub trait MetricsSource: Send + Sync {
    /// The exposition, ending with `# EOF`.
    fn encode(&self) -> String;
}

impl<F: Fn() -> String + Send + Sync> MetricsSource for F {
    fn encode(&self) -> String {
        self()
    }
}

/// What `GET /readyz` asks: `Ok` when the service can take traffic, else why not.
pub trait Readiness: Send + Sync {
    /// Checks readiness.
    ///
    /// # Errors
    /// A description of what is not ready (returned in the 503 body).
    fn check(&self) -> Result<(), String>;
}

impl<F: Fn() -> Result<(), String> + Send + Sync> Readiness for F {
    fn check(&self) -> Result<(), String> {
        self()
    }
}

/// Everything the router needs; build with [`TelemetryState::builder`].
#[derive(Clone)]
pub struct TelemetryState {
    pub(super) authorizer: Arc<dyn Authorizer>,
    pub(super) incidents: Arc<dyn IncidentApi>,
    pub(super) exporter: Arc<dyn ForensicExporter>,
    pub(super) audit: Arc<dyn AuditSink>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) profiles: Arc<ProfileBundles>,
    pub(super) metrics: Arc<dyn MetricsSource>,
    pub(super) readiness: Arc<dyn Readiness>,
}

impl std::fmt::Debug for TelemetryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryState")
            .field("clock", &self.clock)
            .field("profiles", &self.profiles.all().len())
            .finish_non_exhaustive()
    }
}

/// Builds a [`TelemetryState`]: the authorizer, the incident API, the exporter and the config
/// signer are required; audit defaults to [`TracingAudit`], the clock to [`SystemClock`],
/// metrics to an empty exposition, readiness to always ready, sites to
/// [`Site::for_profile`].
pub struct TelemetryStateBuilder {
    authorizer: Arc<dyn Authorizer>,
    incidents: Arc<dyn IncidentApi>,
    exporter: Arc<dyn ForensicExporter>,
    signer: Arc<dyn EnvelopeSigner>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn MetricsSource>,
    readiness: Arc<dyn Readiness>,
    site_for: Box<dyn Fn(&Profile) -> Site + Send + Sync>,
}

impl std::fmt::Debug for TelemetryStateBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryStateBuilder")
            .field("signer", &self.signer.key_id())
            .finish_non_exhaustive()
    }
}

impl TelemetryState {
    /// Starts a builder with the required parts.
    pub fn builder(
        authorizer: Arc<dyn Authorizer>,
        incidents: Arc<dyn IncidentApi>,
        exporter: Arc<dyn ForensicExporter>,
        config_signer: Arc<dyn EnvelopeSigner>,
    ) -> TelemetryStateBuilder {
        TelemetryStateBuilder {
            authorizer,
            incidents,
            exporter,
            signer: config_signer,
            audit: Arc::new(TracingAudit),
            clock: Arc::new(SystemClock),
            metrics: Arc::new(|| "# EOF\n".to_owned()),
            readiness: Arc::new(|| Ok(())),
            site_for: Box::new(Site::for_profile),
        }
    }
}

impl TelemetryStateBuilder {
    /// Where audit records go.
    pub fn audit(mut self, audit: Arc<dyn AuditSink>) -> Self {
        self.audit = audit;
        self
    }

    /// The clock for windows and audit times.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The `/metrics` exposition.
    pub fn metrics(mut self, metrics: Arc<dyn MetricsSource>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The `/readyz` check.
    pub fn readiness(mut self, readiness: Arc<dyn Readiness>) -> Self {
        self.readiness = readiness;
        self
    }

    /// The site each profile's collector config is rendered for.
    pub fn site_for(mut self, site_for: impl Fn(&Profile) -> Site + Send + Sync + 'static) -> Self {
        self.site_for = Box::new(site_for);
        self
    }

    /// Renders and signs the config bundles and returns the state.
    ///
    /// # Errors
    /// [`ConfigError`] when a profile cannot be rendered or signed.
    pub fn build(self) -> Result<TelemetryState, ConfigError> {
        let profiles = ProfileBundles::render(self.signer.as_ref(), &*self.site_for)?;
        Ok(TelemetryState {
            authorizer: self.authorizer,
            incidents: self.incidents,
            exporter: self.exporter,
            audit: self.audit,
            clock: self.clock,
            profiles: Arc::new(profiles),
            metrics: self.metrics,
            readiness: self.readiness,
        })
    }
}

/// The state every handler extracts.
pub(super) type AppState = State<Arc<TelemetryState>>;

impl TelemetryState {
    /// Writes one audit record for `principal` acting on `tenant`.
    pub(super) fn audit(
        &self,
        at: DateTime<Utc>,
        principal: &Principal,
        tenant: &str,
        action: AuditAction,
        outcome: AuditOutcome,
        code: Option<&str>,
    ) {
        self.audit.record(&AuditRecord {
            at,
            actor: principal.subject.clone(),
            actor_tenant: principal.tenant.clone(),
            tenant: tenant.to_owned(),
            action,
            outcome,
            code: code.map(str::to_owned),
        });
    }
}
