//! In-memory test doubles for services that mount the router: [`MemoryAudit`] keeps audit
//! records, [`MemoryExporter`] builds real signed bundles from records held in memory, and
//! [`MemoryIncidentRegistry`] keeps incidents with an injected clock.
//!
//! Behind the `testing` feature: not for production, where the service implements the traits
//! over its own spool and incident controller.

use crate::audit::{AuditRecord, AuditSink};
use crate::clock::Clock;
use crate::error::ApiError;
use crate::export::{ExportError, ForensicExporter};
use crate::incident::{IncidentApi, IncidentView};
use crate::window::Window;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stellaops_bundle_format::{BundleOptions, BundleWriter, ManualClock, Signal};
use stellaops_dsse::EnvelopeSigner;
use stellaops_telemetry_model::sync::lock;

/// Keeps every record in memory, in arrival order.
#[derive(Debug, Default)]
pub struct MemoryAudit {
    records: Mutex<Vec<AuditRecord>>,
}

impl MemoryAudit {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every record so far.
    pub fn records(&self) -> Vec<AuditRecord> {
        lock(&self.records).clone()
    }

    /// How many records so far.
    pub fn len(&self) -> usize {
        lock(&self.records).len()
    }

    /// Whether no record arrived yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl AuditSink for MemoryAudit {
    fn record(&self, record: &AuditRecord) {
        lock(&self.records).push(record.clone());
    }
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

/// An in-memory [`IncidentApi`]: incidents expire by themselves when the clock passes their
/// `expiresAt`.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use stellaops_telemetry_http::{IncidentApi, ManualClock, MemoryIncidentRegistry};
///
/// let clock = Arc::new(ManualClock::new("2025-03-01T00:00:00Z".parse()?));
/// let registry = MemoryIncidentRegistry::new(clock.clone());
/// let view = registry.start("acme", "CVE-2025-12345", "ops", Duration::from_secs(1800))?;
/// assert!(view.active);
/// clock.advance(chrono::Duration::minutes(31));
/// assert!(!registry.status(Some("acme"))[0].active);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct MemoryIncidentRegistry {
    clock: Arc<dyn Clock>,
    entries: Mutex<BTreeMap<String, Entry>>,
}

impl MemoryIncidentRegistry {
    /// An empty registry reading time from `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            entries: Mutex::new(BTreeMap::new()),
        }
    }

    fn view(&self, tenant: &str, entry: &Entry, now: DateTime<Utc>) -> IncidentView {
        IncidentView {
            tenant: tenant.to_owned(),
            active: entry.expires_at.is_some_and(|e| now < e),
            reason: entry.reason.clone(),
            actor: entry.actor.clone(),
            source: "api".to_owned(),
            started_at: entry.started_at,
            expires_at: entry.expires_at,
        }
    }
}

impl IncidentApi for MemoryIncidentRegistry {
    fn start(
        &self,
        tenant: &str,
        reason: &str,
        actor: &str,
        ttl: Duration,
    ) -> Result<IncidentView, ApiError> {
        let now = self.clock.now();
        let ttl = chrono::Duration::from_std(ttl).map_err(|e| {
            ApiError::bad_request(
                "telemetry.incident.invalid_ttl",
                format!("ttl is out of range: {e}"),
                "ttl",
            )
        })?;
        let entry = Entry {
            reason: Some(reason.to_owned()),
            actor: Some(actor.to_owned()),
            started_at: Some(now),
            expires_at: Some(now + ttl),
        };
        let view = self.view(tenant, &entry, now);
        lock(&self.entries).insert(tenant.to_owned(), entry);
        Ok(view)
    }

    fn stop(&self, tenant: &str, actor: &str) -> Result<IncidentView, ApiError> {
        let now = self.clock.now();
        let mut entries = lock(&self.entries);
        let Some(entry) = entries.get_mut(tenant) else {
            return Ok(IncidentView::inactive(tenant));
        };
        if entry.expires_at.is_some_and(|e| now < e) {
            entry.expires_at = Some(now);
            entry.actor = Some(actor.to_owned());
        }
        Ok(self.view(tenant, entry, now))
    }

    fn status(&self, tenant: Option<&str>) -> Vec<IncidentView> {
        let now = self.clock.now();
        let entries = lock(&self.entries);
        match tenant {
            Some(tenant) => vec![entries.get(tenant).map_or_else(
                || IncidentView::inactive(tenant),
                |e| self.view(tenant, e, now),
            )],
            None => entries
                .iter()
                .map(|(tenant, e)| self.view(tenant, e, now))
                .collect(),
        }
    }
}

#[derive(Debug, Clone)]
struct Record {
    tenant: String,
    at: DateTime<Utc>,
    signal: Signal,
    bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
struct Entry {
    reason: Option<String>,
    actor: Option<String>,
    started_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}
