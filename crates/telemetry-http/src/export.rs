//! Forensic exports: the [`ForensicExporter`] trait the service implements over its spool
//! (one signed bundle per tenant and window, written into any `io::Write`), and
//! `testing::MemoryExporter` (feature `testing`), which builds real signed bundles from records held in memory.
//!
//! The router runs an exporter on a blocking thread and streams what it writes to the client
//! through a bounded channel, so memory stays flat whatever the bundle size.

use crate::window::Window;
use std::io::{self, Write};
use std::sync::Arc;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Writing failed (for the router: the client went away).
    #[error("writing the forensic bundle failed: {0}")]
    Io(#[from] io::Error),
    /// The bundle could not be built.
    #[error("building the forensic bundle failed [{code}]: {message}")]
    Bundle {
        /// The bundle library's code (`bundle.io`...).
        code: String,
        /// What went wrong.
        message: String,
    },
    /// The data source is not available now.
    #[error("forensic export unavailable: {0}")]
    Unavailable(String),
}

impl ExportError {
    /// Stable code: `telemetry.export.io`, `telemetry.export.bundle`,
    /// `telemetry.export.unavailable`.
    pub fn code(&self) -> &'static str {
        match self {
            ExportError::Io(_) => "telemetry.export.io",
            ExportError::Bundle { .. } => "telemetry.export.bundle",
            ExportError::Unavailable(_) => "telemetry.export.unavailable",
        }
    }
}

impl From<stellaops_bundle_format::BundleError> for ExportError {
    fn from(e: stellaops_bundle_format::BundleError) -> Self {
        ExportError::Bundle {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

/// Writes the signed forensic bundle of `tenant` for `window`. Called on a blocking thread;
/// `out` applies back-pressure (a write blocks while the client is slow) and fails once the
/// client has gone away, after which the exporter should stop.
pub trait ForensicExporter: Send + Sync {
    /// Writes the bundle into `out`.
    ///
    /// # Errors
    /// [`ExportError`] when the data cannot be read, the bundle cannot be built, or `out`
    /// fails.
    fn export(&self, tenant: &str, window: &Window, out: &mut dyn Write)
    -> Result<(), ExportError>;
}

impl<E: ForensicExporter + ?Sized> ForensicExporter for Arc<E> {
    fn export(
        &self,
        tenant: &str,
        window: &Window,
        out: &mut dyn Write,
    ) -> Result<(), ExportError> {
        (**self).export(tenant, window, out)
    }
}
