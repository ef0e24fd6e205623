//! Adapters from a running [`Telemetry`] to the router's traits, so a service mounts the
//! router over its own spool and incident controller:
//!
//! - [`TelemetryExporter`]: [`ForensicExporter`] over [`Telemetry::capture`]: flushes what is
//!   queued, then writes the signed bundle of the tenant's records in the window from the
//!   spool, with the service's profile, its redaction policy digest, the collector
//!   configuration rendered for that profile (`config/collector.yaml`, plus the gateway tier
//!   when the profile has one) and the standard Grafana dashboards (`config/dashboards/`).
//! - [`TelemetryIncidents`]: [`IncidentApi`] over [`Telemetry::incidents`] (the
//!   `IncidentController` that drives sampling, debug logs, export interval and spool holds),
//!   remembering the last state of tenants whose incident has ended so status can report it.

use crate::error::{ApiError, ApiErrorKind};
use crate::export::{ExportError, ForensicExporter};
use crate::incident::{IncidentApi, IncidentView};
use crate::window::Window;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stellaops_dsse::EnvelopeSigner;
use stellaops_telemetry_core::Telemetry;
use stellaops_telemetry_core::incident::{
    IncidentError, IncidentEvent, IncidentRequest, IncidentStatus,
};
use stellaops_telemetry_core::spool::CaptureError;
use stellaops_telemetry_deploy::collector::{Site, render};
use stellaops_telemetry_deploy::dashboards::standard_dashboards;
use stellaops_telemetry_model::sync::lock;

/// [`ForensicExporter`] over a running [`Telemetry`]'s spool.
///
/// ```no_run
/// use std::sync::Arc;
/// use stellaops_dsse::HmacSha256Key;
/// use stellaops_telemetry_http::TelemetryExporter;
///
/// let telemetry = Arc::new(stellaops_telemetry_core::builder("scanner").build()?.0);
/// let key = Arc::new(HmacSha256Key::new("site", vec![7u8; 32])?);
/// let exporter = TelemetryExporter::new(telemetry, key)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TelemetryExporter {
    telemetry: Arc<Telemetry>,
    signer: Arc<dyn EnvelopeSigner>,
    configs: Vec<(String, Vec<u8>)>,
}

impl std::fmt::Debug for TelemetryExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryExporter")
            .field("key_id", &self.signer.key_id())
            .field(
                "configs",
                &self.configs.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl TelemetryExporter {
    /// An exporter signing with `signer` and carrying the collector configuration rendered
    /// for the service's profile (at its built-in site, [`Site::for_profile`]) and the
    /// standard dashboards.
    ///
    /// # Errors
    /// [`ExportError::Unavailable`] when the profile's collector configuration cannot be
    /// rendered (its egress policy refuses it).
    pub fn new(
        telemetry: Arc<Telemetry>,
        signer: Arc<dyn EnvelopeSigner>,
    ) -> Result<Self, ExportError> {
        let profile = telemetry.settings().profile.clone();
        let rendered = render(&profile, &Site::for_profile(&profile)).map_err(|e| {
            ExportError::Unavailable(format!(
                "rendering the collector configuration of profile {}: {e}",
                profile.name
            ))
        })?;
        let mut configs = Vec::new();
        for (name, text) in rendered.files() {
            let path = if name == "agent.yaml" {
                "config/collector.yaml".to_owned()
            } else {
                format!("config/collector/{name}")
            };
            configs.push((path, text.into_bytes()));
        }
        for dashboard in standard_dashboards() {
            configs.push((
                format!("config/dashboards/{}.json", dashboard.uid),
                dashboard.to_json_text().into_bytes(),
            ));
        }
        Ok(Self {
            telemetry,
            signer,
            configs,
        })
    }

    /// Replaces the configuration files every bundle carries (path in the bundle, bytes).
    #[must_use]
    pub fn with_config_files(mut self, files: Vec<(String, Vec<u8>)>) -> Self {
        self.configs = files;
        self
    }
}

impl ForensicExporter for TelemetryExporter {
    fn export(
        &self,
        tenant: &str,
        window: &Window,
        out: &mut dyn Write,
    ) -> Result<(), ExportError> {
        // Records still queued in the export workers belong in the bundle.
        self.telemetry.flush();
        let mut capture = self
            .telemetry
            .capture(*window)
            .tenant(tenant)
            .shared_signer(self.signer.clone());
        for (path, bytes) in &self.configs {
            capture = capture.config_file(path.clone(), bytes.clone());
        }
        capture.write(out).map(|_| ()).map_err(|e| match e {
            CaptureError::NoSpool => ExportError::Unavailable(e.to_string()),
            CaptureError::Io { source, .. } => ExportError::Io(source),
            other => ExportError::Bundle {
                code: other.code().to_owned(),
                message: other.to_string(),
            },
        })
    }
}

/// [`IncidentApi`] over a running [`Telemetry`]'s incident controller.
///
/// Starting an incident through the router is `IncidentController::start` with source
/// `manual` (a second start extends it, never shortens it); stopping an inactive tenant
/// reports its state instead of failing; status lists the active incidents and the last state
/// of every tenant whose incident ended while this adapter was watching.
///
/// ```no_run
/// use std::sync::Arc;
/// use stellaops_telemetry_http::TelemetryIncidents;
///
/// let telemetry = Arc::new(stellaops_telemetry_core::builder("scanner").build()?.0);
/// let incidents = TelemetryIncidents::new(telemetry);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct TelemetryIncidents {
    telemetry: Arc<Telemetry>,
    ended: Arc<Mutex<BTreeMap<String, IncidentView>>>,
}

impl std::fmt::Debug for TelemetryIncidents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryIncidents").finish_non_exhaustive()
    }
}

impl TelemetryIncidents {
    /// Watches `telemetry.incidents()` and serves it to the router.
    pub fn new(telemetry: Arc<Telemetry>) -> Self {
        let ended = Arc::new(Mutex::new(BTreeMap::new()));
        let sink = Arc::clone(&ended);
        telemetry
            .incidents()
            .observe(Box::new(move |event: &IncidentEvent| {
                let mut ended = lock(&sink);
                let tenant = event.tenant().to_owned();
                if event.is_active() {
                    ended.remove(&tenant);
                    return;
                }
                let view = IncidentView {
                    tenant: tenant.clone(),
                    active: false,
                    reason: Some(event.reason().to_owned()),
                    actor: Some(event.actor().to_owned()),
                    source: event.source().as_str().to_owned(),
                    started_at: Some(event.started_at()),
                    expires_at: Some(event.ends_at()),
                };
                ended.insert(tenant, view);
            }));
        Self { telemetry, ended }
    }

    fn ended(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, IncidentView>> {
        lock(&self.ended)
    }
}

fn active_view(status: &IncidentStatus) -> IncidentView {
    IncidentView {
        tenant: status.tenant.clone(),
        active: true,
        reason: Some(status.reason.clone()),
        actor: Some(status.actor.clone()),
        source: status.source.as_str().to_owned(),
        started_at: Some(status.started_at),
        expires_at: Some(status.expires_at),
    }
}

fn refused(e: &IncidentError) -> ApiError {
    ApiError::new(ApiErrorKind::BadRequest, e.code(), e.to_string())
}

impl IncidentApi for TelemetryIncidents {
    fn start(
        &self,
        tenant: &str,
        reason: &str,
        actor: &str,
        ttl: Duration,
    ) -> Result<IncidentView, ApiError> {
        let request = IncidentRequest::manual(tenant, reason, actor).ttl(ttl);
        let status = self
            .telemetry
            .incidents()
            .start(request)
            .map_err(|e| refused(&e))?;
        Ok(active_view(&status))
    }

    fn stop(&self, tenant: &str, actor: &str) -> Result<IncidentView, ApiError> {
        match self.telemetry.incidents().stop(tenant, actor) {
            Ok(_) | Err(IncidentError::NotActive(_)) => Ok(self
                .ended()
                .get(tenant)
                .cloned()
                .unwrap_or_else(|| IncidentView::inactive(tenant))),
            Err(e) => Err(refused(&e)),
        }
    }

    fn status(&self, tenant: Option<&str>) -> Vec<IncidentView> {
        let controller = self.telemetry.incidents();
        // Incidents past their TTL end now, not at the next housekeeping tick.
        controller.expire_due();
        if let Some(tenant) = tenant {
            let view = controller.status_of(tenant).map_or_else(
                || {
                    self.ended()
                        .get(tenant)
                        .cloned()
                        .unwrap_or_else(|| IncidentView::inactive(tenant))
                },
                |s| active_view(&s),
            );
            return vec![view];
        }
        let mut all: BTreeMap<String, IncidentView> = self.ended().clone();
        for status in controller.status() {
            all.insert(status.tenant.clone(), active_view(&status));
        }
        all.into_values().collect()
    }
}
