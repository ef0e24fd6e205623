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
//! use stellaops_telemetry_core::spool::{Clock, ManualClock, Spool, SpoolConfig};
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

mod append;
mod builder;
mod capture;
mod clock;
mod config;
mod error;
mod fsutil;
mod handle;
mod holds;
mod listing;
mod metrics;
mod prune_abort;
mod pruning;
pub(crate) mod records;
mod recovery;
pub(crate) mod retention;
mod sealing;
mod segment;
mod slot;
mod stream;

pub use builder::SpoolBuilder;
pub use capture::{ALL_TENANTS, Capture, CaptureError, CaptureObserver, CaptureSummary};
pub use clock::Clock;
pub use clock::{ManualClock, SystemClock};
pub use config::{
    DEFAULT_MAX_TOTAL_BYTES, DEFAULT_RETENTION, DEFAULT_SEGMENT_MAX_AGE, DEFAULT_SEGMENT_MAX_BYTES,
    FORENSIC_RETENTION, SpoolConfig,
};
pub use error::SpoolError;
pub use handle::Spool;
pub use holds::{HOLDS_FILE, Hold};
pub use listing::{SignalStats, SpoolStats};
pub use metrics::SpoolMetrics;
#[cfg(feature = "test-hooks")]
pub use prune_abort::PRUNE_ABORT_ENV;
pub use pruning::{PruneReport, PrunedGroup};
pub use records::TENANT_ATTRIBUTE;
pub use recovery::Recovery;
pub use retention::{LogClass, LogRetention};
pub use segment::SegmentInfo;
pub(crate) use slot::SpoolSlot;
