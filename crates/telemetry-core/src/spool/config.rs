//! How the spool segments, keeps and caps: [`SpoolConfig`] and its defaults.
//!
//! Not the enforcement: sealing and pruning read these numbers.

use super::retention::{LogClass, LogRetention};
use crate::profile::Profile;
use std::time::Duration;
use stellaops_bundle_format::Signal;

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
