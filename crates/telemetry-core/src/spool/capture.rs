//! Window capture: the spool segments overlapping a window, each record filtered to the
//! window and (optionally) one tenant, ordered by (timestamp, traceId), written as a signed
//! bundle with the caller's config files and redaction policy digest.
//!
//! Nothing here opens a connection: capture writes local files only, sealed or not.

use super::clock::Clock;
use super::error::SpoolError;
use super::handle::Spool;
use super::records::{self, SortKey};
use super::segment::SegmentInfo;
use crate::window::Window;
use prometheus_client::metrics::histogram::Histogram;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use stellaops_bundle_format::framing::RecordReader;
use stellaops_bundle_format::{
    BundleError, BundleOptions, BundleWriter, Compression, Manifest, Signal,
};
use stellaops_dsse::EnvelopeSigner;

/// The manifest tenant of a capture over every tenant.
pub const ALL_TENANTS: &str = "*";

/// Why a capture failed; nothing is written at the target then.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// Telemetry runs without a spool (OTLP only, no spool copy).
    #[error(
        "no spool to capture from: enable the file exporter or spool_copy(true), or pass a spool directory"
    )]
    NoSpool,
    /// The spool could not be listed.
    #[error(transparent)]
    Spool(#[from] SpoolError),
    /// A sealed segment holds a frame or record that is not valid OTLP.
    #[error("{path}: {detail}")]
    CorruptSegment {
        /// The segment.
        path: PathBuf,
        /// What was wrong, naming the record.
        detail: String,
    },
    /// The bundle could not be written.
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// A temporary file failed.
    #[error("{action}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl CaptureError {
    /// A stable machine code: `telemetry.capture.no_spool`, `telemetry.capture.corrupt_segment`,
    /// `telemetry.capture.io`, the spool's `telemetry.spool.*` or the bundle's `bundle.*` code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoSpool => "telemetry.capture.no_spool",
            Self::Spool(e) => e.code(),
            Self::CorruptSegment { .. } => "telemetry.capture.corrupt_segment",
            Self::Bundle(e) => e.code(),
            Self::Io { .. } => "telemetry.capture.io",
        }
    }
}

fn io_err(action: &'static str) -> impl FnOnce(io::Error) -> CaptureError {
    move |source| CaptureError::Io { action, source }
}

/// Hooks a progress display implements; every hook does nothing by default.
pub trait CaptureObserver {
    /// The segments chosen, before any is read.
    fn planned(&mut self, _segments: &[SegmentInfo]) {}
    /// One segment was read and filtered.
    fn segment_done(&mut self, _segment: &SegmentInfo, _records_kept: u64) {}
}

struct NoObserver;
impl CaptureObserver for NoObserver {}

/// What a capture wrote.
#[derive(Clone, Debug)]
pub struct CaptureSummary {
    /// Where the bundle is (`None` for [`Capture::write`]).
    pub path: Option<PathBuf>,
    /// `sha256:<hex>` of the bundle.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its manifest.
    pub manifest: Manifest,
    /// Items (spans, data points, log records) per signal, `logs, metrics, traces` order.
    pub items: Vec<(Signal, u64)>,
    /// Segments read.
    pub segments_read: usize,
}

/// A window capture: build it with [`Spool::capture`] or `Telemetry::capture`, then
/// [`write_to`](Self::write_to) a file or [`write`](Self::write) to any writer.
///
/// Rules: a record's items are kept when their time is in the window (span start, log time
/// or observed time, data point time) and, when a tenant is asked for, their `tenant`
/// attribute (the item's own, else the resource's) equals it; items without a tenant are
/// left out then. Records left empty are dropped; records are ordered by their earliest item's
/// (time, traceId), items inside by the same key.
///
/// ```
/// use stellaops_bundle_format::{BundleReader, Signal};
/// use stellaops_dsse::{Ed25519Signer, TrustedKeys, Verifier};
/// use stellaops_telemetry_core::spool::{Clock, ManualClock, Spool};
/// use stellaops_telemetry_core::window::Window;
///
/// let dir = tempfile::tempdir()?;
/// let clock = ManualClock::new("2025-03-01T00:00:00Z".parse()?);
/// let spool = Spool::builder(dir.path().join("spool")).clock(clock.clone()).open()?;
/// let signer = Ed25519Signer::generate()?;
/// let key = signer.public_key().verifier(signer.key_id());
/// let out = dir.path().join("capture.tar.gz");
/// let summary = spool
///     .capture(Window::parse("24h", clock.now())?)
///     .tenant("acme")
///     .config_file("config/collector.yaml", b"receivers: {}\n".to_vec())
///     .signer(signer)
///     .write_to(&out)?;
/// let verified = BundleReader::new(Verifier::new(TrustedKeys::new().with(key)?)).verify_file(&out)?;
/// assert_eq!(verified.manifest().tenant, "acme");
/// assert_eq!(summary.sha256, verified.sha256());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct Capture {
    spool: Option<Spool>,
    window: Window,
    tenant: Option<String>,
    profile: String,
    signers: Vec<Arc<dyn EnvelopeSigner>>,
    configs: Vec<(String, Vec<u8>)>,
    redaction_digest: Option<String>,
    compression: Compression,
    clock: Option<Arc<dyn Clock>>,
    generation: Option<Histogram>,
}

impl std::fmt::Debug for Capture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Capture")
            .field("window", &self.window)
            .field("tenant", &self.tenant)
            .field("profile", &self.profile)
            .field(
                "configs",
                &self.configs.iter().map(|(p, _)| p).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Spool {
    /// Starts a window capture of this spool (see [`Capture`]).
    pub fn capture(&self, window: Window) -> Capture {
        Capture::new(self.clone(), window)
    }
}

impl Capture {
    /// A capture of `window` from `spool` (profile `default`, gzip, unsigned until a signer
    /// is added, creation time from the spool clock).
    pub fn new(spool: Spool, window: Window) -> Self {
        Self::from_parts(Some(spool), window)
    }

    pub(crate) fn from_parts(spool: Option<Spool>, window: Window) -> Self {
        Self {
            spool,
            window,
            tenant: None,
            profile: "default".into(),
            signers: Vec::new(),
            configs: Vec::new(),
            redaction_digest: None,
            compression: Compression::Gzip,
            clock: None,
            generation: None,
        }
    }

    /// Only this tenant's items (the manifest's tenant); default: every tenant (`*`).
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = Some(tenant.into());
        self
    }

    /// The profile recorded in the manifest.
    pub fn profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = profile.into();
        self
    }

    /// Signs the manifest with `signer` (repeatable). Without any, the bundle carries the
    /// explicit unsigned marker verifiers refuse.
    pub fn signer(mut self, signer: impl EnvelopeSigner + 'static) -> Self {
        self.signers.push(Arc::new(signer));
        self
    }

    /// A shared signer.
    pub fn shared_signer(mut self, signer: Arc<dyn EnvelopeSigner>) -> Self {
        self.signers.push(signer);
        self
    }

    /// Adds a file under `config/` (`config/collector.yaml`, `config/dashboards/x.json`).
    pub fn config_file(mut self, path_in_bundle: impl Into<String>, bytes: Vec<u8>) -> Self {
        self.configs.push((path_in_bundle.into(), bytes));
        self
    }

    /// `sha256:<hex>` of the redaction policy in force, recorded in the manifest.
    pub fn redaction_policy_digest(mut self, digest: impl Into<String>) -> Self {
        self.redaction_digest = Some(digest.into());
        self
    }

    /// The archive compression (default gzip).
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Where the bundle's creation time comes from (default: the spool's clock); pass a
    /// fixed clock for reproducible captures (`SOURCE_DATE_EPOCH`).
    pub fn created_at_clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Records the generation time into this histogram
    /// (`telemetry_bundle_generation_seconds`; `Telemetry::capture` sets it).
    pub fn generation_metric(mut self, histogram: Histogram) -> Self {
        self.generation = Some(histogram);
        self
    }

    /// The window.
    pub fn window(&self) -> &Window {
        &self.window
    }

    /// Writes the bundle to `path` (atomically: a temporary file renamed into place).
    ///
    /// # Errors
    /// [`CaptureError`]; the target is then untouched.
    pub fn write_to(self, path: impl AsRef<Path>) -> Result<CaptureSummary, CaptureError> {
        self.write_to_observed(path, &mut NoObserver)
    }

    /// As [`write_to`](Self::write_to), reporting progress to `observer`.
    ///
    /// # Errors
    /// As [`write_to`](Self::write_to).
    pub fn write_to_observed(
        self,
        path: impl AsRef<Path>,
        observer: &mut dyn CaptureObserver,
    ) -> Result<CaptureSummary, CaptureError> {
        let started = std::time::Instant::now();
        let generation = self.generation.clone();
        let result = self.build(path.as_ref(), observer);
        if let (Ok(_), Some(h)) = (&result, generation) {
            h.observe(started.elapsed().as_secs_f64());
        }
        result
    }

    /// Writes the bundle to `out` (built in a private temporary directory first).
    ///
    /// # Errors
    /// [`CaptureError`]; `out` may then hold a partial copy only if the copy itself failed.
    pub fn write(self, out: &mut dyn Write) -> Result<CaptureSummary, CaptureError> {
        let dir = tempfile::tempdir().map_err(io_err("creating a temporary directory"))?;
        let path = dir.path().join("capture.bundle");
        let mut summary = self.write_to(&path)?;
        let mut file = File::open(&path).map_err(io_err("reopening the bundle"))?;
        io::copy(&mut file, out).map_err(io_err("copying the bundle"))?;
        out.flush().map_err(io_err("flushing the output"))?;
        summary.path = None;
        Ok(summary)
    }

    fn build(
        self,
        target: &Path,
        observer: &mut dyn CaptureObserver,
    ) -> Result<CaptureSummary, CaptureError> {
        let spool = self.spool.ok_or(CaptureError::NoSpool)?;
        let window = self.window;
        let tenant = self.tenant.as_deref();
        let mut options = BundleOptions::new(tenant.unwrap_or(ALL_TENANTS), self.profile.clone());
        options.compression = self.compression;
        options.window = Some(stellaops_bundle_format::Window::new(
            window.start,
            window.end,
        )?);
        options.redaction_policy_sha256 = self.redaction_digest.clone();
        let clock = self.clock.clone().unwrap_or_else(|| spool.clock());
        let mut writer = BundleWriter::create(target, options, clock.as_ref())?;

        let mut plan = Vec::new();
        for signal in stellaops_bundle_format::BUNDLE_ORDER {
            plan.extend(spool.segments(signal, &window)?);
        }
        observer.planned(&plan);
        let mut items = Vec::new();
        for signal in stellaops_bundle_format::BUNDLE_ORDER {
            writer.include_signal(signal)?;
            let segments: Vec<&SegmentInfo> = plan.iter().filter(|s| s.signal == signal).collect();
            let mut sorter = Sorter::new()?;
            let mut count = 0u64;
            for segment in segments {
                let kept = filter_segment(segment, &window, tenant, &mut sorter, &mut count)?;
                observer.segment_done(segment, kept);
            }
            sorter.drain(|record| writer.write_record(signal, record).map_err(Into::into))?;
            items.push((signal, count));
        }
        for (path, bytes) in &self.configs {
            writer.add_config_file(path, &bytes[..])?;
        }
        let signers: Vec<&dyn EnvelopeSigner> = self.signers.iter().map(|s| s.as_ref()).collect();
        let written = writer.finish(&signers)?;
        Ok(CaptureSummary {
            path: Some(written.path),
            sha256: written.sha256,
            size: written.size,
            manifest: written.manifest,
            items,
            segments_read: plan.len(),
        })
    }
}

/// Reads one segment, filters each record and queues the survivors; returns records kept.
fn filter_segment(
    segment: &SegmentInfo,
    window: &Window,
    tenant: Option<&str>,
    sorter: &mut Sorter,
    items: &mut u64,
) -> Result<u64, CaptureError> {
    let corrupt = |detail: String| CaptureError::CorruptSegment {
        path: segment.path.clone(),
        detail,
    };
    let file = match File::open(&segment.path) {
        Ok(f) => f,
        // The open segment was sealed (renamed) between listing and reading: read the sealed
        // file, which starts with the same bytes.
        Err(e) if e.kind() == io::ErrorKind::NotFound && !segment.sealed => {
            match sealed_successor(segment) {
                Some(f) => f,
                None => return Ok(0),
            }
        }
        Err(e) => {
            return Err(CaptureError::Io {
                action: "opening a spool segment",
                source: e,
            });
        }
    };
    // The open segment is read up to its size when listed: a frame being appended is not read.
    let mut reader = RecordReader::new(BufReader::new(file.take(segment.size)));
    let mut kept = 0u64;
    loop {
        let index = reader.records_read();
        let bytes = match reader.next_record() {
            Ok(Some(b)) => b,
            Ok(None) => break,
            Err(_) if !segment.sealed => break,
            Err(e) => return Err(corrupt(e.to_string())),
        };
        let request = records::decode(segment.signal, bytes).map_err(|e| {
            corrupt(format!(
                "record {index}: not an OTLP {} request: {e}",
                segment.signal
            ))
        })?;
        if let Some((filtered, key, n)) = records::filter(request, window, tenant) {
            sorter.push(key, &filtered.encode())?;
            kept += 1;
            *items += n;
        }
    }
    Ok(kept)
}

/// The sealed file of a segment listed while open (`<seq>_<from>_<to>.otlp`), if any.
fn sealed_successor(segment: &SegmentInfo) -> Option<File> {
    let dir = segment.path.parent()?;
    let prefix = format!("{:020}_", segment.seq);
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .find(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".otlp"))
        })
        .and_then(|e| File::open(e.path()).ok())
}

/// Orders records by key with flat memory: bodies go to an unnamed temporary file, only
/// (key, offset, length) stay in memory.
struct Sorter {
    file: BufWriter<File>,
    offset: u64,
    index: Vec<(SortKey, u64, u64, u32)>,
}

impl Sorter {
    fn new() -> Result<Self, CaptureError> {
        Ok(Self {
            file: BufWriter::new(tempfile::tempfile().map_err(io_err("creating a sort file"))?),
            offset: 0,
            index: Vec::new(),
        })
    }

    fn push(&mut self, key: SortKey, record: &[u8]) -> Result<(), CaptureError> {
        let len = u32::try_from(record.len()).map_err(|_| CaptureError::Io {
            action: "sorting records",
            source: io::Error::new(io::ErrorKind::InvalidData, "record larger than 4 GiB"),
        })?;
        self.file
            .write_all(record)
            .map_err(io_err("writing the sort file"))?;
        let seq = self.index.len() as u64;
        self.index.push((key, seq, self.offset, len));
        self.offset += u64::from(len);
        Ok(())
    }

    fn drain(
        mut self,
        mut emit: impl FnMut(&[u8]) -> Result<(), CaptureError>,
    ) -> Result<(), CaptureError> {
        self.index.sort();
        let mut file = self.file.into_inner().map_err(|e| CaptureError::Io {
            action: "flushing the sort file",
            source: e.into_error(),
        })?;
        let mut buf = Vec::new();
        for (_, _, offset, len) in self.index {
            buf.resize(len as usize, 0);
            file.seek(SeekFrom::Start(offset))
                .map_err(io_err("reading the sort file"))?;
            file.read_exact(&mut buf)
                .map_err(io_err("reading the sort file"))?;
            emit(&buf)?;
        }
        Ok(())
    }
}
