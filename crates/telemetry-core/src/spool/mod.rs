//! The spool: per-signal, time-segmented files of framed OTLP records on local disk, kept by
//! retention (30 days default, 180 forensic), a total size cap, and incident holds; it
//! survives restarts (a torn final frame is truncated and the segment sealed). Window
//! capture ([`Capture`]) turns it into signed bundles.
//!
//! Layout: `<dir>/{traces,metrics,logs}/<seq>.open` while a segment is written, renamed to
//! `<seq>_<from-unix-ms>_<to-unix-ms>.otlp` when sealed (the earliest and latest record time
//! inside), plus `<dir>/holds.json`. Directories are 0700, files 0600; a world-readable
//! existing directory or file is refused. See `docs/spool.md`.
//!
//! Not the exporter: `export::Destination` decides what goes here.
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use stellaops_telemetry_core::spool::{ManualClock, Spool, SpoolConfig};
//! use stellaops_telemetry_core::window::Window;
//! use stellaops_bundle_format::Signal;
//!
//! let dir = tempfile::tempdir()?;
//! let clock = ManualClock::new("2025-03-01T00:00:00Z".parse()?);
//! let spool = Spool::builder(dir.path().join("spool"))
//!     .config(SpoolConfig::default())
//!     .clock(clock.clone())
//!     .open()?;
//! // An empty ExportTraceServiceRequest: no items, so it is stamped with the clock's time.
//! spool.append(Signal::Traces, &[])?;
//! clock.advance(chrono::Duration::hours(2));
//! spool.append(Signal::Traces, &[])?; // the first segment was older than 1 h: sealed
//! let all = Window::parse("1d", clock.now() + chrono::Duration::minutes(1))?;
//! assert_eq!(spool.segments(Signal::Traces, &all)?.len(), 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod capture;
mod fsutil;
mod holds;
pub(crate) mod records;
pub(crate) mod retention;

pub use capture::{ALL_TENANTS, Capture, CaptureError, CaptureObserver, CaptureSummary};
pub use holds::{HOLDS_FILE, Hold};
pub use records::TENANT_ATTRIBUTE;
pub use retention::{LogClass, LogRetention};

use crate::export::ExportRequest;
use crate::profile::Profile;
use crate::window::Window;
use chrono::{DateTime, TimeDelta, Utc};
use fsutil::{check_private, create_private, private_dir, sync_dir};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use stellaops_bundle_format::Signal;
use stellaops_bundle_format::framing::{self, RecordReader};

/// The spool's time source (the bundle-format clock trait): inject [`ManualClock`] in tests.
pub use stellaops_bundle_format::Clock as SpoolClock;
pub use stellaops_bundle_format::SystemClock;

/// Default age at which the open segment is sealed (1 hour).
pub const DEFAULT_SEGMENT_MAX_AGE: Duration = Duration::from_secs(3600);
/// Default size at which the open segment is sealed (64 MiB).
pub const DEFAULT_SEGMENT_MAX_BYTES: u64 = 64 * 1024 * 1024;
/// Default retention (30 days, the `default` profile).
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(30 * 86_400);
/// Retention of the `forensic` profile and of segments under an incident hold (180 days).
pub const FORENSIC_RETENTION: Duration = Duration::from_secs(180 * 86_400);
/// Default total size cap (10 GiB).
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 10 * 1024 * 1024 * 1024;

/// How the spool segments, keeps and caps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpoolConfig {
    /// The open segment is sealed once it is this old (by the spool clock).
    pub segment_max_age: Duration,
    /// The open segment is sealed before a record would take it past this size.
    pub segment_max_bytes: u64,
    /// Sealed segments are deleted this long after their last record.
    pub retention: Duration,
    /// Sealed segments are deleted, oldest first, while the spool is larger than this
    /// (segments under a hold excepted).
    pub max_total_bytes: u64,
    /// Segments overlapping a hold are kept this long after their last record, over the
    /// retention and over the size cap.
    pub hold_retention: Duration,
    /// Retention of log records by class (error 180 d, warn 90 d, info 30 d, debug 7 d);
    /// [`retention`](Self::retention) applies to traces and metrics.
    pub log_retention: LogRetention,
}

impl Default for SpoolConfig {
    fn default() -> Self {
        Self {
            segment_max_age: DEFAULT_SEGMENT_MAX_AGE,
            segment_max_bytes: DEFAULT_SEGMENT_MAX_BYTES,
            retention: DEFAULT_RETENTION,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            hold_retention: FORENSIC_RETENTION,
            log_retention: LogRetention::default(),
        }
    }
}

impl SpoolConfig {
    /// The defaults with `profile`'s retention (30 days `default`/`airgap`, 180 `forensic`).
    pub fn for_profile(profile: &Profile) -> Self {
        Self {
            retention: profile.retention,
            ..Self::default()
        }
    }

    /// The defaults with 180-day retention.
    pub fn forensic() -> Self {
        Self::for_profile(&Profile::forensic())
    }

    /// Sets [`retention`](Self::retention).
    #[must_use]
    pub fn retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Sets [`segment_max_age`](Self::segment_max_age).
    #[must_use]
    pub fn segment_max_age(mut self, age: Duration) -> Self {
        self.segment_max_age = age;
        self
    }

    /// Sets [`segment_max_bytes`](Self::segment_max_bytes).
    #[must_use]
    pub fn segment_max_bytes(mut self, bytes: u64) -> Self {
        self.segment_max_bytes = bytes;
        self
    }

    /// Sets [`max_total_bytes`](Self::max_total_bytes).
    #[must_use]
    pub fn max_total_bytes(mut self, bytes: u64) -> Self {
        self.max_total_bytes = bytes;
        self
    }

    /// Sets [`hold_retention`](Self::hold_retention).
    #[must_use]
    pub fn hold_retention(mut self, retention: Duration) -> Self {
        self.hold_retention = retention;
        self
    }

    /// Sets [`log_retention`](Self::log_retention).
    #[must_use]
    pub fn log_retention(mut self, retention: LogRetention) -> Self {
        self.log_retention = retention;
        self
    }

    /// How long a segment of `signal` (and log `class`) is kept after its last record:
    /// the class's retention for log classes, the longest log retention for a legacy
    /// `logs/` segment of mixed classes, [`retention`](Self::retention) otherwise.
    pub fn retention_of(&self, signal: Signal, class: Option<LogClass>) -> Duration {
        match (signal, class) {
            (Signal::Logs, Some(class)) => self.log_retention.of(class),
            (Signal::Logs, None) => self.log_retention.longest().max(self.retention),
            _ => self.retention,
        }
    }
}

/// Why the spool refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpoolError {
    /// A spool directory or file exists and others can read it.
    #[error(
        "{path}: spool path is readable by other users (mode {mode:o}); chmod it (0700 directories, 0600 files) or choose another directory"
    )]
    WorldReadable {
        /// The offending path.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// `holds.json` is not what this crate writes.
    #[error("{path}: unreadable incident holds: {detail}")]
    HoldsFile {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        detail: String,
    },
    /// A hold whose end is before its start.
    #[error("incident hold for tenant {tenant:?}: expected start <= end, found {start} > {end}")]
    InvalidHold {
        /// The tenant.
        tenant: String,
        /// Its start.
        start: DateTime<Utc>,
        /// Its end.
        end: DateTime<Utc>,
    },
    /// A record larger than a frame can describe.
    #[error("record of {len} bytes is larger than the 4 GiB frame limit")]
    RecordTooLarge {
        /// Its size.
        len: usize,
    },
    /// A write to a spool opened read-only.
    #[error("{path}: the spool is opened read-only (capture tools never write a service's spool)")]
    ReadOnly {
        /// The spool directory.
        path: PathBuf,
    },
    /// A record that is not an OTLP export request of its signal.
    #[error("{signal} record is not an OTLP Export{kind}ServiceRequest: {detail}")]
    InvalidRecord {
        /// The signal.
        signal: Signal,
        /// `Trace`, `Metrics` or `Logs`.
        kind: &'static str,
        /// The decoder's complaint.
        detail: String,
    },
    /// The operating system refused.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl SpoolError {
    /// A stable machine code: `telemetry.spool.world_readable`, `.holds_file`,
    /// `.invalid_hold`, `.record_too_large`, `.invalid_record`, `.read_only` or `.io`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::WorldReadable { .. } => "telemetry.spool.world_readable",
            Self::HoldsFile { .. } => "telemetry.spool.holds_file",
            Self::InvalidHold { .. } => "telemetry.spool.invalid_hold",
            Self::RecordTooLarge { .. } => "telemetry.spool.record_too_large",
            Self::InvalidRecord { .. } => "telemetry.spool.invalid_record",
            Self::ReadOnly { .. } => "telemetry.spool.read_only",
            Self::Io { .. } => "telemetry.spool.io",
        }
    }
}

/// A clock tests move by hand. Clones share the time.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock showing `now`.
    pub fn new(now: DateTime<Utc>) -> Self {
        Self(Arc::new(Mutex::new(now)))
    }

    /// Sets the time.
    pub fn set(&self, now: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = now;
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: TimeDelta) {
        let mut t = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *t = t.checked_add_signed(by).unwrap_or(*t);
    }

    /// The current time.
    pub fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SpoolClock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        ManualClock::now(self)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PruneLabels {
    reason: &'static str,
    signal: &'static str,
    class: &'static str,
}

/// The `class` label value of a segment: its log class, `mixed` for a legacy `logs/` segment,
/// `all` for traces and metrics.
fn class_label(signal: Signal, class: Option<LogClass>) -> &'static str {
    match (signal, class) {
        (_, Some(c)) => c.as_str(),
        (Signal::Logs, None) => "mixed",
        _ => "all",
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignalLabel {
    signal: &'static str,
}

/// The spool's own metrics; [`register`](Self::register) them with the service's registry.
#[derive(Clone, Debug, Default)]
pub struct SpoolMetrics {
    recovered: Counter,
    truncated_bytes: Counter,
    pruned: Family<PruneLabels, Counter>,
    pruned_by_reason: Family<ReasonLabel, Counter>,
    pruned_records: Family<PruneLabels, Counter>,
    held_over_cap: Gauge,
    bytes: Family<SignalLabel, Gauge>,
    write_failures: Family<SignalLabel, Counter>,
}

impl SpoolMetrics {
    /// Registers `telemetry_spool_recovered_segments_total`,
    /// `telemetry_spool_truncated_bytes_total`,
    /// `telemetry_spool_pruned_segments_total{reason,signal,class}` and
    /// `telemetry_spool_pruned_records_total{reason,signal,class}` (reason `retention` or
    /// `size_cap`; class `error`, `warn`, `info`, `debug`, `mixed` or `all`),
    /// `telemetry_spool_held_over_cap_bytes`,
    /// `telemetry_spool_bytes{signal}` and `telemetry_spool_write_failures_total{signal}`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "telemetry_spool_recovered_segments",
            "Open spool segments recovered at start-up whose torn final frame was truncated",
            self.recovered.clone(),
        );
        registry.register(
            "telemetry_spool_truncated_bytes",
            "Bytes of torn final frames truncated from recovered spool segments",
            self.truncated_bytes.clone(),
        );
        registry.register(
            "telemetry_spool_pruned_segments",
            "Spool segments deleted, by reason (retention or size_cap), signal and retention class",
            self.pruned.clone(),
        );
        registry.register(
            "telemetry_spool_pruned_records",
            "OTLP export records in deleted spool segments, by reason, signal and retention class",
            self.pruned_records.clone(),
        );
        registry.register(
            "telemetry_spool_held_over_cap_bytes",
            "Bytes the spool holds over its size cap because incident holds keep them",
            self.held_over_cap.clone(),
        );
        registry.register(
            "telemetry_spool_bytes",
            "Bytes of spool segments on disk, by signal",
            self.bytes.clone(),
        );
        registry.register(
            "telemetry_spool_write_failures",
            "Records the spool failed to write, by signal",
            self.write_failures.clone(),
        );
    }

    /// Segments recovered with a torn final frame so far.
    pub fn recovered_segments(&self) -> u64 {
        self.recovered.get()
    }

    /// Segments pruned for `reason` (`retention` or `size_cap`), every signal and class.
    pub fn pruned_segments(&self, reason: &'static str) -> u64 {
        self.pruned_by_reason
            .get_or_create(&ReasonLabel { reason })
            .get()
    }

    /// Segments pruned for `reason` of `signal` and log `class` (`None`: traces, metrics or
    /// legacy mixed-class logs).
    pub fn pruned_segments_of(
        &self,
        reason: &'static str,
        signal: Signal,
        class: Option<LogClass>,
    ) -> u64 {
        self.pruned
            .get_or_create(&PruneLabels {
                reason,
                signal: signal.as_str(),
                class: class_label(signal, class),
            })
            .get()
    }

    /// Bytes kept over the cap by holds at the last prune.
    pub fn held_over_cap_bytes(&self) -> i64 {
        self.held_over_cap.get()
    }

    /// Counts a record the spool failed to write.
    pub fn write_failed(&self, signal: Signal) {
        self.write_failures
            .get_or_create(&SignalLabel {
                signal: signal.as_str(),
            })
            .inc();
    }
}

/// One segment file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Its signal.
    pub signal: Signal,
    /// Its log retention class (`logs/<class>/`); `None` for traces, metrics and legacy
    /// mixed-class `logs/` segments.
    pub log_class: Option<LogClass>,
    /// Its sequence number (per signal, increasing).
    pub seq: u64,
    /// Its path.
    pub path: PathBuf,
    /// Earliest record time inside (millisecond precision, rounded down).
    pub from: DateTime<Utc>,
    /// Latest record time inside (millisecond precision, rounded down).
    pub to: DateTime<Utc>,
    /// Size in bytes.
    pub size: u64,
    /// Whether it is sealed (`false`: the open segment, still written).
    pub sealed: bool,
}

impl SegmentInfo {
    /// Whether a record inside may fall in `window` (`to` is widened by the millisecond
    /// rounding).
    pub fn overlaps(&self, window: &Window) -> bool {
        let to = self
            .to
            .checked_add_signed(TimeDelta::milliseconds(1))
            .unwrap_or(self.to);
        window.overlaps(self.from, to)
    }
}

/// A segment recovered at open.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recovery {
    /// The sealed segment (`None` when nothing valid was left and the file was removed).
    pub segment: Option<SegmentInfo>,
    /// The `.open` file it came from.
    pub from_path: PathBuf,
    /// Valid records kept.
    pub records: u64,
    /// Bytes of a torn final frame truncated (0 when the file ended cleanly).
    pub truncated_bytes: u64,
}

/// Per-signal numbers of [`SpoolStats`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SignalStats {
    /// Segments on disk (sealed and open).
    pub segments: usize,
    /// Their bytes.
    pub bytes: u64,
}

/// What the spool holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpoolStats {
    /// Per signal (`logs`, `metrics`, `traces` order).
    pub signals: Vec<(Signal, SignalStats)>,
    /// Bytes of every segment.
    pub total_bytes: u64,
    /// Incident holds in force.
    pub holds: usize,
}

/// What one prune removed of one signal and class for one reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrunedGroup {
    /// `retention` or `size_cap`.
    pub reason: &'static str,
    /// The signal.
    pub signal: Signal,
    /// The log class (`None`: traces, metrics, or legacy mixed-class logs).
    pub log_class: Option<LogClass>,
    /// Segments deleted.
    pub segments: usize,
    /// Their bytes.
    pub bytes: u64,
    /// OTLP export records (frames) they held.
    pub records: u64,
}

/// What one [`Spool::prune`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// What was deleted, per reason, signal and class (in that order).
    pub removed: Vec<PrunedGroup>,
    /// Segments deleted because their retention passed.
    pub expired: Vec<PathBuf>,
    /// Segments deleted, oldest first, to get under the size cap.
    pub over_cap: Vec<PathBuf>,
    /// Segments kept past retention or the cap because a hold covers them.
    pub held: usize,
    /// Bytes over the cap the spool still holds because of holds (0 when under the cap).
    pub held_over_cap_bytes: u64,
    /// Holds dropped because every segment they could cover is past its hold retention.
    pub holds_expired: usize,
}

impl PruneReport {
    /// The group of `reason`, `signal` and `class`, if anything of it was deleted.
    pub fn group(
        &self,
        reason: &str,
        signal: Signal,
        class: Option<LogClass>,
    ) -> Option<&PrunedGroup> {
        self.removed
            .iter()
            .find(|g| g.reason == reason && g.signal == signal && g.log_class == class)
    }

    fn count(&mut self, reason: &'static str, segment: &SegmentInfo, records: u64) {
        let (signal, log_class) = (segment.signal, segment.log_class);
        let index = match self
            .removed
            .iter()
            .position(|g| g.reason == reason && g.signal == signal && g.log_class == log_class)
        {
            Some(i) => i,
            None => {
                self.removed.push(PrunedGroup {
                    reason,
                    signal,
                    log_class,
                    segments: 0,
                    bytes: 0,
                    records: 0,
                });
                self.removed.len() - 1
            }
        };
        if let Some(group) = self.removed.get_mut(index) {
            group.segments += 1;
            group.bytes += segment.size;
            group.records += records;
        }
    }
}

struct OpenSegment {
    seq: u64,
    path: PathBuf,
    file: File,
    size: u64,
    opened_at: DateTime<Utc>,
    range: Option<(i64, i64)>,
}

struct SignalState {
    dir: PathBuf,
    /// Whether `dir` is known to exist (class directories are made on first write).
    ready: bool,
    next_seq: u64,
    open: Option<OpenSegment>,
}

/// One directory of segments: a signal's, or one log class's (`logs/<class>/`). The plain
/// `logs/` stream only holds segments written before log classes existed.
struct Stream {
    signal: Signal,
    class: Option<LogClass>,
    state: Mutex<SignalState>,
}

/// Every stream: `logs/` (legacy), `logs/<class>/` for each class, `metrics/`, `traces/`.
fn stream_layout() -> Vec<(Signal, Option<LogClass>)> {
    let mut out = Vec::new();
    for signal in Signal::ALL {
        out.push((signal, None));
        if signal == Signal::Logs {
            out.extend(LogClass::ALL.map(|c| (Signal::Logs, Some(c))));
        }
    }
    out
}

fn stream_dir(dir: &Path, signal: Signal, class: Option<LogClass>) -> PathBuf {
    match class {
        Some(c) => dir.join(signal.as_str()).join(c.as_str()),
        None => dir.join(signal.as_str()),
    }
}

struct Inner {
    dir: PathBuf,
    config: SpoolConfig,
    clock: Arc<dyn SpoolClock>,
    streams: Vec<Stream>,
    holds: Mutex<Vec<Hold>>,
    metrics: SpoolMetrics,
    recovered: Vec<Recovery>,
    read_only: bool,
}

/// The spool of one service. Cheap to clone (shared state); safe to use from every thread.
#[derive(Clone)]
pub struct Spool {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("dir", &self.inner.dir)
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Opens a [`Spool`]: [`Spool::builder`].
#[must_use]
pub struct SpoolBuilder {
    dir: PathBuf,
    config: SpoolConfig,
    clock: Arc<dyn SpoolClock>,
    metrics: SpoolMetrics,
    read_only: bool,
}

impl std::fmt::Debug for SpoolBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpoolBuilder")
            .field("dir", &self.dir)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SpoolBuilder {
    /// The configuration (default: [`SpoolConfig::default`]).
    pub fn config(mut self, config: SpoolConfig) -> Self {
        self.config = config;
        self
    }

    /// The clock every time decision reads (default: the system clock).
    pub fn clock(mut self, clock: impl SpoolClock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// A shared clock.
    pub fn shared_clock(mut self, clock: Arc<dyn SpoolClock>) -> Self {
        self.clock = clock;
        self
    }

    /// Metrics to count into (default: fresh, unregistered ones).
    pub fn metrics(mut self, metrics: SpoolMetrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Opens an existing spool for reading only (an operator's capture beside a running
    /// service): no recovery, no pruning, no directory created; every write fails with
    /// [`SpoolError::ReadOnly`]. `.open` segments are listed as covering all time and read up
    /// to their last whole frame.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Creates or reopens the spool: checks permissions, loads holds, recovers every leftover
    /// `.open` segment (truncating a torn final frame, counting and logging it, sealing what
    /// is valid), then prunes.
    ///
    /// # Errors
    /// [`SpoolError::WorldReadable`] for a directory or file others can read,
    /// [`SpoolError::HoldsFile`] for an unreadable `holds.json`, [`SpoolError::Io`].
    pub fn open(self) -> Result<Spool, SpoolError> {
        let Self {
            dir,
            config,
            clock,
            metrics,
            read_only,
        } = self;
        if read_only {
            return open_read_only(dir, config, clock, metrics);
        }
        private_dir(&dir)?;
        let holds = holds::load(&dir)?;
        let mut recovered = Vec::new();
        let mut streams = Vec::new();
        for (signal, class) in stream_layout() {
            let sdir = stream_dir(&dir, signal, class);
            // Signal directories are made now; class directories on their first record.
            let ready = if class.is_none() || sdir.exists() {
                private_dir(&sdir)?;
                true
            } else {
                false
            };
            let mut next_seq = 0;
            for entry in if ready { list(&sdir)? } else { Vec::new() } {
                next_seq = next_seq.max(entry.seq + 1);
                if entry.sealed {
                    check_private(&entry.path)?;
                } else {
                    let r = recover(signal, class, &sdir, entry.seq, &entry.path, clock.now())?;
                    if r.truncated_bytes > 0 {
                        metrics.recovered.inc();
                        metrics.truncated_bytes.inc_by(r.truncated_bytes);
                        tracing::warn!(
                            path = %r.from_path.display(),
                            records = r.records,
                            truncated_bytes = r.truncated_bytes,
                            "spool segment recovered after an interrupted write: torn final frame truncated, valid records kept and sealed"
                        );
                    }
                    recovered.push(r);
                }
            }
            streams.push(Stream {
                signal,
                class,
                state: Mutex::new(SignalState {
                    dir: sdir,
                    ready,
                    next_seq,
                    open: None,
                }),
            });
        }
        let spool = Spool {
            inner: Arc::new(Inner {
                dir,
                config,
                clock,
                streams,
                holds: Mutex::new(holds),
                metrics,
                recovered,
                read_only: false,
            }),
        };
        spool.prune()?;
        Ok(spool)
    }
}

fn open_read_only(
    dir: PathBuf,
    config: SpoolConfig,
    clock: Arc<dyn SpoolClock>,
    metrics: SpoolMetrics,
) -> Result<Spool, SpoolError> {
    if !dir.is_dir() {
        return Err(SpoolError::Io {
            path: dir,
            action: "open spool directory",
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        });
    }
    let holds = holds::load(&dir)?;
    let streams = stream_layout()
        .into_iter()
        .map(|(signal, class)| Stream {
            signal,
            class,
            state: Mutex::new(SignalState {
                dir: stream_dir(&dir, signal, class),
                ready: false,
                next_seq: 0,
                open: None,
            }),
        })
        .collect();
    Ok(Spool {
        inner: Arc::new(Inner {
            dir,
            config,
            clock,
            streams,
            holds: Mutex::new(holds),
            metrics,
            recovered: Vec::new(),
            read_only: true,
        }),
    })
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn millis_to_time(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

fn ns_to_ms(ns: u64) -> i64 {
    i64::try_from(ns / 1_000_000).unwrap_or(i64::MAX)
}

fn kind(signal: Signal) -> &'static str {
    match signal {
        Signal::Traces => "Trace",
        Signal::Metrics => "Metrics",
        Signal::Logs => "Logs",
    }
}

/// A segment file name parsed.
struct Entry {
    seq: u64,
    path: PathBuf,
    sealed: bool,
    range: Option<(i64, i64)>,
}

/// A segment's record time range in Unix milliseconds.
type MsRange = (i64, i64);

fn parse_name(name: &str) -> Option<(u64, bool, Option<MsRange>)> {
    if let Some(seq) = name.strip_suffix(".open") {
        return Some((seq.parse().ok()?, false, None));
    }
    let stem = name.strip_suffix(".otlp")?;
    let mut parts = stem.splitn(3, '_');
    let seq = parts.next()?.parse().ok()?;
    let from = parts.next()?.parse().ok()?;
    let to = parts.next()?.parse().ok()?;
    Some((seq, true, Some((from, to))))
}

fn sealed_name(seq: u64, from: i64, to: i64) -> String {
    format!("{seq:020}_{from}_{to}.otlp")
}

fn list(dir: &Path) -> Result<Vec<Entry>, SpoolError> {
    let io = |source| SpoolError::Io {
        path: dir.to_owned(),
        action: "list",
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let name = entry.file_name();
        let Some((seq, sealed, range)) = name.to_str().and_then(parse_name) else {
            continue;
        };
        out.push(Entry {
            seq,
            path: entry.path(),
            sealed,
            range,
        });
    }
    out.sort_by_key(|e| (e.seq, e.sealed));
    Ok(out)
}

/// Recovers a leftover `.open` segment: keeps every whole, decodable record, truncates the
/// rest, and seals it (or removes it when nothing is left).
fn recover(
    signal: Signal,
    class: Option<LogClass>,
    dir: &Path,
    seq: u64,
    path: &Path,
    now: DateTime<Utc>,
) -> Result<Recovery, SpoolError> {
    check_private(path)?;
    let io = |action: &'static str| {
        move |source| SpoolError::Io {
            path: path.to_owned(),
            action,
            source,
        }
    };
    let file = File::open(path).map_err(io("open"))?;
    let len = file.metadata().map_err(io("stat"))?.len();
    let mut reader = RecordReader::new(BufReader::new(file));
    let mut valid = 0u64;
    let mut records = 0u64;
    let mut range: Option<(i64, i64)> = None;
    while let Ok(Some(bytes)) = reader.next_record() {
        // A frame whose body is not a request of its signal is as torn as a short one.
        let Ok(request) = records::decode(signal, bytes) else {
            break;
        };
        let (lo, hi) = records::time_range(&request).map_or_else(
            || (now.timestamp_millis(), now.timestamp_millis()),
            |(a, b)| (ns_to_ms(a), ns_to_ms(b)),
        );
        range = Some(range.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        records += 1;
        valid = reader.bytes_read();
    }
    drop(reader);
    let truncated_bytes = len.saturating_sub(valid);
    if truncated_bytes > 0 {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io("open for truncation"))?;
        f.set_len(valid).map_err(io("truncate"))?;
        f.sync_all().map_err(io("sync"))?;
    }
    let segment = match range {
        Some((from, to)) => {
            let sealed = dir.join(sealed_name(seq, from, to));
            std::fs::rename(path, &sealed).map_err(io("seal"))?;
            sync_dir(Some(dir));
            Some(SegmentInfo {
                signal,
                log_class: class,
                seq,
                path: sealed,
                from: millis_to_time(from),
                to: millis_to_time(to),
                size: valid,
                sealed: true,
            })
        }
        None => {
            std::fs::remove_file(path).map_err(io("remove empty segment"))?;
            None
        }
    };
    Ok(Recovery {
        segment,
        from_path: path.to_owned(),
        records,
        truncated_bytes,
    })
}

impl Spool {
    /// Starts opening the spool in `dir`.
    pub fn builder(dir: impl Into<PathBuf>) -> SpoolBuilder {
        SpoolBuilder {
            dir: dir.into(),
            config: SpoolConfig::default(),
            clock: Arc::new(SystemClock),
            metrics: SpoolMetrics::default(),
            read_only: false,
        }
    }

    fn writable(&self) -> Result<(), SpoolError> {
        if self.inner.read_only {
            return Err(SpoolError::ReadOnly {
                path: self.inner.dir.clone(),
            });
        }
        Ok(())
    }

    /// Whether this spool was opened read-only.
    pub fn is_read_only(&self) -> bool {
        self.inner.read_only
    }

    /// Opens the spool in `dir` with `config` and the system clock.
    ///
    /// # Errors
    /// As [`SpoolBuilder::open`].
    pub fn open(dir: impl Into<PathBuf>, config: SpoolConfig) -> Result<Self, SpoolError> {
        Self::builder(dir).config(config).open()
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The configuration.
    pub fn config(&self) -> &SpoolConfig {
        &self.inner.config
    }

    /// The spool's clock.
    pub fn clock(&self) -> Arc<dyn SpoolClock> {
        self.inner.clock.clone()
    }

    /// The spool's metrics.
    pub fn metrics(&self) -> &SpoolMetrics {
        &self.inner.metrics
    }

    /// Segments recovered when this spool was opened.
    pub fn recovered(&self) -> &[Recovery] {
        &self.inner.recovered
    }

    /// The stream records of `signal` (and log `class`) are written to.
    fn stream(&self, signal: Signal, class: Option<LogClass>) -> Result<&Stream, SpoolError> {
        self.inner
            .streams
            .iter()
            .find(|s| s.signal == signal && s.class == class)
            .ok_or_else(|| SpoolError::Io {
                path: self.inner.dir.clone(),
                action: "find the segment stream",
                source: std::io::Error::other(format!(
                    "no stream for {signal} {}",
                    class_label(signal, class)
                )),
            })
    }

    /// Appends one encoded `Export*ServiceRequest` of `signal` (decoded once to learn the time
    /// range of its items).
    ///
    /// # Errors
    /// [`SpoolError::InvalidRecord`] when `record` does not decode as `signal`'s request, and
    /// the errors of [`append_request`](Self::append_request).
    pub fn append(&self, signal: Signal, record: &[u8]) -> Result<(), SpoolError> {
        let request = records::decode(signal, record).map_err(|e| SpoolError::InvalidRecord {
            signal,
            kind: kind(signal),
            detail: e.to_string(),
        })?;
        match &request {
            ExportRequest::Logs(logs) => self.append_logs(logs, Some(record)),
            _ => self.append_encoded(signal, None, record, records::time_range(&request)),
        }
    }

    /// Appends one export request to its signal's open segment, sealing the segment first
    /// when it is older than [`SpoolConfig::segment_max_age`] or the record would take it past
    /// [`SpoolConfig::segment_max_bytes`]. The frame is written with one `write` call.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when the segment cannot be created, written or sealed;
    /// [`SpoolError::RecordTooLarge`].
    pub fn append_request(&self, request: &ExportRequest) -> Result<(), SpoolError> {
        match request {
            ExportRequest::Logs(logs) => self.append_logs(logs, None),
            // Already split by class: each part goes to its class stream as it is.
            ExportRequest::EncodedLogs(encoded) => {
                for part in encoded.parts() {
                    self.append_encoded(
                        Signal::Logs,
                        Some(part.class),
                        encoded.part_bytes(part),
                        part.time,
                    )?;
                }
                Ok(())
            }
            // Written as it is, without copying.
            ExportRequest::EncodedTraces(encoded) => self.append_encoded(
                Signal::Traces,
                None,
                encoded.as_bytes(),
                encoded.time_range(),
            ),
            _ => self.append_encoded(
                request.signal(),
                None,
                &request.encode(),
                records::time_range(request),
            ),
        }
    }

    /// Appends a logs request to the stream of each log class it holds (split per class;
    /// `encoded` is written as is when every record is of one class).
    fn append_logs(
        &self,
        request: &opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest,
        encoded: Option<&[u8]>,
    ) -> Result<(), SpoolError> {
        let classes = retention::classes_of(request);
        if let [] | [_] = classes.as_slice() {
            // One class (the usual batch): written as is, without copying the request.
            let class = classes.first().copied().unwrap_or(LogClass::Info);
            let range = records::logs_time_range(request);
            return match encoded {
                Some(bytes) => self.append_encoded(Signal::Logs, Some(class), bytes, range),
                None => self.append_encoded(
                    Signal::Logs,
                    Some(class),
                    &prost::Message::encode_to_vec(request),
                    range,
                ),
            };
        }
        for class in classes {
            let part = retention::only_class(request, class);
            let range = records::logs_time_range(&part);
            self.append_encoded(
                Signal::Logs,
                Some(class),
                &prost::Message::encode_to_vec(&part),
                range,
            )?;
        }
        Ok(())
    }

    fn append_encoded(
        &self,
        signal: Signal,
        class: Option<LogClass>,
        record: &[u8],
        range_ns: Option<(u64, u64)>,
    ) -> Result<(), SpoolError> {
        self.writable()?;
        let now = self.inner.clock.now();
        let (lo, hi) = range_ns.map_or_else(
            || (now.timestamp_millis(), now.timestamp_millis()),
            |(a, b)| (ns_to_ms(a), ns_to_ms(b)),
        );
        let mut framed = Vec::with_capacity(record.len() + framing::LENGTH_PREFIX_LEN);
        framing::write_record(&mut framed, record)
            .map_err(|_| SpoolError::RecordTooLarge { len: record.len() })?;
        let stream = self.stream(signal, class)?;
        let sealed_one = {
            let mut state = lock(&stream.state);
            if !state.ready {
                private_dir(&state.dir)?;
                state.ready = true;
            }
            let mut sealed = false;
            if let Some(open) = &state.open {
                let age = now.signed_duration_since(open.opened_at);
                let too_old = age
                    .to_std()
                    .is_ok_and(|a| a >= self.inner.config.segment_max_age);
                let too_big = open.size > 0
                    && open.size + framed.len() as u64 > self.inner.config.segment_max_bytes;
                if too_old || too_big {
                    seal(&mut state)?;
                    sealed = true;
                }
            }
            if state.open.is_none() {
                let seq = state.next_seq;
                let path = state.dir.join(format!("{seq:020}.open"));
                let file = create_private(&path)?;
                state.next_seq += 1;
                state.open = Some(OpenSegment {
                    seq,
                    path,
                    file,
                    size: 0,
                    opened_at: now,
                    range: None,
                });
            }
            if let Some(open) = &mut state.open {
                open.file
                    .write_all(&framed)
                    .map_err(|source| SpoolError::Io {
                        path: open.path.clone(),
                        action: "write",
                        source,
                    })?;
                open.size += framed.len() as u64;
                open.range = Some(open.range.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
            }
            sealed
        };
        if sealed_one {
            self.prune()?;
        }
        Ok(())
    }

    /// Flushes every open segment to disk.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when a sync fails.
    pub fn sync(&self) -> Result<(), SpoolError> {
        for stream in &self.inner.streams {
            let state = lock(&stream.state);
            if let Some(open) = &state.open {
                open.file.sync_data().map_err(|source| SpoolError::Io {
                    path: open.path.clone(),
                    action: "sync",
                    source,
                })?;
            }
        }
        Ok(())
    }

    /// Seals every open segment older than the maximum age (call periodically; appends also
    /// do it), then prunes when one was sealed. Returns how many were sealed.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when sealing or pruning fails.
    pub fn seal_expired(&self) -> Result<usize, SpoolError> {
        self.writable()?;
        let now = self.inner.clock.now();
        let mut sealed = 0;
        for stream in &self.inner.streams {
            let mut state = lock(&stream.state);
            let due = state.open.as_ref().is_some_and(|o| {
                now.signed_duration_since(o.opened_at)
                    .to_std()
                    .is_ok_and(|a| a >= self.inner.config.segment_max_age)
            });
            if due {
                seal(&mut state)?;
                sealed += 1;
            }
        }
        if sealed > 0 {
            self.prune()?;
        }
        Ok(sealed)
    }

    /// Seals every open segment now (shutdown, or before handing the directory over), then
    /// prunes.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when a rename or the prune fails.
    pub fn seal_all(&self) -> Result<(), SpoolError> {
        self.writable()?;
        for stream in &self.inner.streams {
            seal(&mut lock(&stream.state))?;
        }
        self.prune()?;
        Ok(())
    }

    /// Segments of `signal` whose record time range overlaps `window`, by sequence number;
    /// includes the open segment.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when the directory cannot be listed.
    pub fn segments(
        &self,
        signal: Signal,
        window: &Window,
    ) -> Result<Vec<SegmentInfo>, SpoolError> {
        Ok(self
            .all_segments(signal)?
            .into_iter()
            .filter(|s| s.overlaps(window))
            .collect())
    }

    /// Every segment of `signal`: stream by stream (legacy `logs/` first, then each log
    /// class, most severe first), each by sequence number, its open segment last.
    fn all_segments(&self, signal: Signal) -> Result<Vec<SegmentInfo>, SpoolError> {
        let mut out = Vec::new();
        for stream in self.inner.streams.iter().filter(|s| s.signal == signal) {
            self.stream_segments(stream, &mut out)?;
        }
        Ok(out)
    }

    fn stream_segments(
        &self,
        stream: &Stream,
        out: &mut Vec<SegmentInfo>,
    ) -> Result<(), SpoolError> {
        let (signal, class) = (stream.signal, stream.class);
        let state = lock(&stream.state);
        if !state.ready && !state.dir.is_dir() {
            return Ok(());
        }
        for entry in list(&state.dir)? {
            let (from, to, sealed) = match (entry.sealed, entry.range, &state.open) {
                (true, Some((f, t)), _) => (millis_to_time(f), millis_to_time(t), true),
                (false, _, Some(open)) if open.seq == entry.seq => match open.range {
                    Some((f, t)) => (millis_to_time(f), millis_to_time(t), false),
                    None => continue,
                },
                // Another process's open segment: its range is unknown until sealed.
                (false, _, _) if self.inner.read_only => {
                    (DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC, false)
                }
                _ => continue,
            };
            let size = std::fs::metadata(&entry.path).map_or(0, |m| m.len());
            out.push(SegmentInfo {
                signal,
                log_class: class,
                seq: entry.seq,
                path: entry.path,
                from,
                to,
                size,
                sealed,
            });
        }
        Ok(())
    }

    /// Adds an incident hold (persisted in `holds.json` before returning): segments
    /// overlapping `[start, end]` are kept [`SpoolConfig::hold_retention`] after their end,
    /// over the retention and over the size cap. Adding the same hold twice is a no-op.
    ///
    /// # Errors
    /// [`SpoolError::InvalidHold`] when `end < start`; [`SpoolError::Io`] when the file
    /// cannot be written (the hold is then not added).
    pub fn add_hold(
        &self,
        tenant: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<(), SpoolError> {
        self.writable()?;
        if end < start {
            return Err(SpoolError::InvalidHold {
                tenant: tenant.to_owned(),
                start,
                end,
            });
        }
        let hold = Hold {
            tenant: tenant.to_owned(),
            start,
            end,
        };
        let mut holds = lock(&self.inner.holds);
        if holds.contains(&hold) {
            return Ok(());
        }
        let mut next = holds.clone();
        next.push(hold);
        next.sort();
        holds::save(&self.inner.dir, &next)?;
        *holds = next;
        tracing::info!(
            tenant,
            start = %start,
            end = %end,
            "spool incident hold added: overlapping segments are kept past retention and the size cap"
        );
        Ok(())
    }

    /// The holds in force.
    pub fn holds(&self) -> Vec<Hold> {
        lock(&self.inner.holds).clone()
    }

    /// Deletes sealed segments past retention, then the oldest sealed segments while the
    /// spool is over its size cap. Segments a hold covers are kept until
    /// [`SpoolConfig::hold_retention`] after their end, even over the cap: holds win over the
    /// cap, and `telemetry_spool_held_over_cap_bytes` plus a warning report it. The open
    /// segments are never deleted. Holds that can no longer keep anything are dropped.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when a segment cannot be listed or deleted, or `holds.json` written.
    pub fn prune(&self) -> Result<PruneReport, SpoolError> {
        self.writable()?;
        let now = self.inner.clock.now();
        let config = &self.inner.config;
        let delta = |d: Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        let retention = delta(config.retention);
        let hold_retention = delta(config.hold_retention).max(retention);
        let holds = self.holds();
        let mut report = PruneReport::default();
        let mut abort_hook = PruneAbortHook::from_env();
        // (segment, held, past its ordinary retention)
        let mut live: Vec<(SegmentInfo, bool, bool)> = Vec::new();
        for signal in Signal::ALL {
            for seg in self.all_segments(signal)? {
                let held = holds.iter().any(|h| h.covers(seg.from, seg.to));
                // Traces and metrics by the profile's retention, logs by their class.
                let own = delta(config.retention_of(seg.signal, seg.log_class));
                let past = |keep: TimeDelta| {
                    seg.to
                        .checked_add_signed(keep)
                        .is_some_and(|expires| now >= expires)
                };
                let past_retention = past(own);
                let keep = if held {
                    delta(config.hold_retention).max(own)
                } else {
                    own
                };
                if seg.sealed && past(keep) {
                    let records = count_records(&seg.path);
                    remove(&seg.path)?;
                    self.pruned("retention", &seg, records);
                    report.count("retention", &seg, records);
                    report.expired.push(seg.path);
                    abort_hook.deleted();
                } else {
                    live.push((seg, held, past_retention));
                }
            }
        }
        let mut total: u64 = live.iter().map(|(s, _, _)| s.size).sum();
        if total > config.max_total_bytes {
            let mut candidates: Vec<&SegmentInfo> = live
                .iter()
                .filter(|(s, held, _)| s.sealed && !held)
                .map(|(s, _, _)| s)
                .collect();
            candidates.sort_by_key(|s| (s.to, s.from, s.signal, s.log_class, s.seq));
            let mut removed = Vec::new();
            for seg in candidates {
                if total <= config.max_total_bytes {
                    break;
                }
                let records = count_records(&seg.path);
                remove(&seg.path)?;
                self.pruned("size_cap", seg, records);
                report.count("size_cap", seg, records);
                total = total.saturating_sub(seg.size);
                removed.push(seg.path.clone());
                abort_hook.deleted();
            }
            live.retain(|(s, _, _)| !removed.contains(&s.path));
            report.over_cap = removed;
        }
        let over_cap = total > config.max_total_bytes;
        if over_cap {
            let held_bytes: u64 = live
                .iter()
                .filter(|(_, held, _)| *held)
                .map(|(s, _, _)| s.size)
                .sum();
            report.held_over_cap_bytes = (total - config.max_total_bytes).min(held_bytes);
            if report.held_over_cap_bytes > 0 {
                tracing::warn!(
                    total_bytes = total,
                    max_total_bytes = config.max_total_bytes,
                    held_over_cap_bytes = report.held_over_cap_bytes,
                    "spool is over its size cap because incident holds keep segments (holds win over the cap)"
                );
            }
        }
        report.held = live
            .iter()
            .filter(|(s, held, past)| s.sealed && *held && (*past || over_cap))
            .count();
        self.inner
            .metrics
            .held_over_cap
            .set(i64::try_from(report.held_over_cap_bytes).unwrap_or(i64::MAX));
        for signal in Signal::ALL {
            let bytes: u64 = live
                .iter()
                .filter(|(s, _, _)| s.signal == signal)
                .map(|(s, _, _)| s.size)
                .sum();
            self.inner
                .metrics
                .bytes
                .get_or_create(&SignalLabel {
                    signal: signal.as_str(),
                })
                .set(i64::try_from(bytes).unwrap_or(i64::MAX));
        }
        // A hold whose end is past the hold retention covers only deletable segments.
        let keep: Vec<Hold> = holds
            .iter()
            .filter(|h| {
                h.end
                    .checked_add_signed(hold_retention)
                    .is_none_or(|e| now < e)
            })
            .cloned()
            .collect();
        if keep.len() != holds.len() {
            report.holds_expired = holds.len() - keep.len();
            let mut guard = lock(&self.inner.holds);
            guard.retain(|h| keep.contains(h));
            holds::save(&self.inner.dir, &guard)?;
        }
        for group in &report.removed {
            tracing::info!(
                reason = group.reason,
                signal = group.signal.as_str(),
                class = class_label(group.signal, group.log_class),
                segments = group.segments,
                bytes = group.bytes,
                records = group.records,
                "spool segments pruned"
            );
        }
        Ok(report)
    }

    fn pruned(&self, reason: &'static str, segment: &SegmentInfo, records: u64) {
        let metrics = &self.inner.metrics;
        let labels = PruneLabels {
            reason,
            signal: segment.signal.as_str(),
            class: class_label(segment.signal, segment.log_class),
        };
        metrics.pruned.get_or_create(&labels).inc();
        metrics
            .pruned_records
            .get_or_create(&labels)
            .inc_by(records);
        metrics
            .pruned_by_reason
            .get_or_create(&ReasonLabel { reason })
            .inc();
    }

    /// Segment counts and sizes per signal, total bytes and holds.
    ///
    /// # Errors
    /// [`SpoolError::Io`] when a directory cannot be listed.
    pub fn stats(&self) -> Result<SpoolStats, SpoolError> {
        let mut stats = SpoolStats {
            holds: lock(&self.inner.holds).len(),
            ..SpoolStats::default()
        };
        for signal in Signal::ALL {
            let segs = self.all_segments(signal)?;
            let s = SignalStats {
                segments: segs.len(),
                bytes: segs.iter().map(|s| s.size).sum(),
            };
            stats.total_bytes += s.bytes;
            stats.signals.push((signal, s));
        }
        Ok(stats)
    }

    /// Starts a window capture of this spool (see [`Capture`]).
    pub fn capture(&self, window: Window) -> Capture {
        Capture::new(self.clone(), window)
    }
}

/// Test hook for crash-safety tests: with this variable set to `N`, a prune aborts the
/// process (`std::process::abort`, as a kill would) right after deleting its `N`-th segment.
/// Unset (the only sensible production setting), it costs one environment lookup per prune.
pub const PRUNE_ABORT_ENV: &str = "STELLAOPS_TELEMETRY_SPOOL_TEST_ABORT_PRUNE_AFTER";

struct PruneAbortHook {
    after: Option<u64>,
    deleted: u64,
}

impl PruneAbortHook {
    fn from_env() -> Self {
        Self {
            after: std::env::var(PRUNE_ABORT_ENV)
                .ok()
                .and_then(|v| v.trim().parse().ok()),
            deleted: 0,
        }
    }

    fn deleted(&mut self) {
        self.deleted += 1;
        if self.after == Some(self.deleted) {
            std::process::abort();
        }
    }
}

/// How many whole frames a segment holds (for the prune report; a torn tail is not counted).
fn count_records(path: &Path) -> u64 {
    let Ok(file) = File::open(path) else {
        return 0;
    };
    let mut reader = RecordReader::new(BufReader::new(file));
    while let Ok(Some(_)) = reader.next_record() {}
    reader.records_read()
}

fn remove(path: &Path) -> Result<(), SpoolError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(SpoolError::Io {
            path: path.to_owned(),
            action: "remove",
            source,
        }),
    }
}

/// Seals the open segment of `state`: fsync, rename to its final name (an empty one is
/// removed).
fn seal(state: &mut SignalState) -> Result<(), SpoolError> {
    let Some(open) = state.open.take() else {
        return Ok(());
    };
    let io = |action: &'static str, path: &Path| {
        let path = path.to_owned();
        move |source| SpoolError::Io {
            path,
            action,
            source,
        }
    };
    open.file.sync_all().map_err(io("sync", &open.path))?;
    drop(open.file);
    match open.range {
        Some((from, to)) if open.size > 0 => {
            let target = state.dir.join(sealed_name(open.seq, from, to));
            std::fs::rename(&open.path, &target).map_err(io("seal", &open.path))?;
            sync_dir(Some(&state.dir));
        }
        _ => remove(&open.path)?,
    }
    Ok(())
}

/// The spool of a running service, opened at start-up or on first use (shared by the export
/// workers and `Telemetry`).
#[derive(Clone)]
pub(crate) struct SpoolSlot {
    inner: Arc<SlotInner>,
}

struct SlotInner {
    dir: PathBuf,
    config: SpoolConfig,
    clock: Arc<dyn SpoolClock>,
    metrics: SpoolMetrics,
    cell: std::sync::OnceLock<Spool>,
    opening: Mutex<()>,
}

impl SpoolSlot {
    pub(crate) fn new(
        dir: PathBuf,
        config: SpoolConfig,
        clock: Arc<dyn SpoolClock>,
        metrics: SpoolMetrics,
    ) -> Self {
        Self {
            inner: Arc::new(SlotInner {
                dir,
                config,
                clock,
                metrics,
                cell: std::sync::OnceLock::new(),
                opening: Mutex::new(()),
            }),
        }
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.inner.dir
    }

    pub(crate) fn metrics(&self) -> &SpoolMetrics {
        &self.inner.metrics
    }

    /// The spool if it is open.
    pub(crate) fn get(&self) -> Option<&Spool> {
        self.inner.cell.get()
    }

    /// The spool, opening it now if needed (a failed open is retried on the next call).
    pub(crate) fn get_or_open(&self) -> Result<&Spool, SpoolError> {
        if let Some(s) = self.inner.cell.get() {
            return Ok(s);
        }
        let _opening = lock(&self.inner.opening);
        if let Some(s) = self.inner.cell.get() {
            return Ok(s);
        }
        let spool = Spool::builder(self.inner.dir.clone())
            .config(self.inner.config.clone())
            .shared_clock(self.inner.clock.clone())
            .metrics(self.inner.metrics.clone())
            .open()?;
        Ok(self.inner.cell.get_or_init(|| spool))
    }
}
