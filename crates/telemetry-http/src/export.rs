//! Forensic exports: the [`ForensicExporter`] trait the service implements over its spool
//! (one signed bundle per tenant and window, written into any `io::Write`), and
//! [`MemoryExporter`], which builds real signed bundles from records held in memory.
//!
//! The router runs an exporter on a blocking thread and streams what it writes to the client
//! through a bounded channel, so memory stays flat whatever the bundle size.

use crate::clock::Clock;
use crate::window::Window;
use chrono::{DateTime, Utc};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use stellaops_bundle_format::{BundleOptions, BundleWriter, ManualClock, Signal};
use stellaops_dsse::EnvelopeSigner;
use stellaops_telemetry_model::sync::lock;

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

#[derive(Debug, Clone)]
struct Record {
    tenant: String,
    at: DateTime<Utc>,
    signal: Signal,
    bytes: Vec<u8>,
}

/// An exporter over records held in memory: it writes a real signed bundle
/// (stellaops-bundle-format, profile `forensic`, the window in the manifest) of the tenant's
/// records inside the window, ordered by time, through a temporary file.
///
/// ```
/// use std::sync::Arc;
/// use stellaops_bundle_format::Signal;
/// use stellaops_dsse::HmacSha256Key;
/// use stellaops_telemetry_http::{ForensicExporter, ManualClock, MemoryExporter};
/// use stellaops_telemetry_http::window::Window;
///
/// let now = "2025-03-01T12:00:00Z".parse()?;
/// let clock = Arc::new(ManualClock::new(now));
/// let key = Arc::new(HmacSha256Key::new("site", vec![7u8; 32])?);
/// let exporter = MemoryExporter::new(key, clock.clone());
/// exporter.push("acme", "2025-03-01T11:00:00Z".parse()?, Signal::Traces, b"\x0a\x00".to_vec());
/// let mut bundle = Vec::new();
/// exporter.export("acme", &Window::parse("24h", now)?, &mut bundle)?;
/// assert_eq!(&bundle[..2], &[0x1f, 0x8b]); // gzip
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MemoryExporter {
    signer: Arc<dyn EnvelopeSigner>,
    clock: Arc<dyn Clock>,
    records: Mutex<Vec<Record>>,
    temp_dir: PathBuf,
}

impl std::fmt::Debug for MemoryExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryExporter")
            .field("signer", &self.signer.key_id())
            .field("temp_dir", &self.temp_dir)
            .finish_non_exhaustive()
    }
}

impl MemoryExporter {
    /// No records yet; bundles are signed by `signer` and dated by `clock`; temporary files go
    /// to the system temporary directory.
    pub fn new(signer: Arc<dyn EnvelopeSigner>, clock: Arc<dyn Clock>) -> Self {
        Self {
            signer,
            clock,
            records: Mutex::new(Vec::new()),
            temp_dir: std::env::temp_dir(),
        }
    }

    /// Puts temporary bundle files in `dir`.
    pub fn with_temp_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.temp_dir = dir.into();
        self
    }

    /// Adds one OTLP `Export*ServiceRequest` record of `tenant` observed `at`.
    pub fn push(&self, tenant: &str, at: DateTime<Utc>, signal: Signal, bytes: Vec<u8>) {
        lock(&self.records).push(Record {
            tenant: tenant.to_owned(),
            at,
            signal,
            bytes,
        });
    }
}

impl ForensicExporter for MemoryExporter {
    fn export(
        &self,
        tenant: &str,
        window: &Window,
        out: &mut dyn Write,
    ) -> Result<(), ExportError> {
        let mut selected: Vec<Record> = lock(&self.records)
            .iter()
            .filter(|r| r.tenant == tenant && window.contains(r.at))
            .cloned()
            .collect();
        selected.sort_by_key(|r| r.at);
        let dir = tempfile::Builder::new()
            .prefix("stellaops-forensic-")
            .tempdir_in(&self.temp_dir)?;
        let path = dir.path().join("forensic.tar.gz");
        let mut options = BundleOptions::new(tenant, "forensic");
        options.window = Some(stellaops_bundle_format::Window::new(
            window.start,
            window.end,
        )?);
        let clock = ManualClock::new(self.clock.now());
        let mut writer = BundleWriter::create(&path, options, &clock)?;
        for signal in [Signal::Traces, Signal::Metrics, Signal::Logs] {
            writer.include_signal(signal)?;
        }
        for record in &selected {
            writer.write_record(record.signal, &record.bytes)?;
        }
        writer.finish(&[self.signer.as_ref()])?;
        let mut file = std::fs::File::open(&path)?;
        io::copy(&mut file, out)?;
        out.flush()?;
        Ok(())
    }
}
