//! Adapters from a running [`Telemetry`] to the router's traits, so a service mounts the
//! router over its own spool and incident controller:
//!
//! - [`TelemetryExporter`]: [`ForensicExporter`] over [`Telemetry::capture`]: flushes what is
//!   queued, then writes the signed bundle of the tenant's records in the window from the
//!   spool, with the service's profile, its redaction policy digest, the collector
//!   configuration rendered for that profile (`config/collector.yaml`, plus the gateway tier
//!   when the profile has one) and the standard Grafana dashboards (`config/dashboards/`).

use crate::export::{ExportError, ForensicExporter};
use crate::window::Window;
use std::io::Write;
use std::sync::Arc;
use stellaops_federation_dsse::EnvelopeSigner;
use stellaops_telemetry_core::Telemetry;
use stellaops_telemetry_core::spool::CaptureError;
use stellaops_telemetry_deploy::collector::{Site, render};
use stellaops_telemetry_deploy::dashboards::standard_dashboards;

/// [`ForensicExporter`] over a running [`Telemetry`]'s spool.
///
/// ```no_run
/// use std::sync::Arc;
/// use stellaops_federation_dsse::HmacSha256Key;
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
