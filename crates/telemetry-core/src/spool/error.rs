//! Why the spool refused or failed: [`SpoolError`] and its stable machine codes.

use chrono::{DateTime, Utc};
use std::path::PathBuf;
use stellaops_bundle_format::Signal;

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
