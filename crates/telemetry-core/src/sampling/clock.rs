//! The time source of the tail sampler and the incident controller: the system clock in
//! services, a manual clock in tests (advanced by hand, so no test sleeps).
//!
//! Not a timer: nothing here wakes anybody up; callers poll (`expire_due`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A source of the current time, as nanoseconds since the Unix epoch.
///
/// ```
/// use stellaops_telemetry_core::sampling::{Clock, ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::at_unix_nanos(1_000);
/// clock.advance(Duration::from_nanos(500));
/// assert_eq!(clock.now_nanos(), 1_500);
/// ```
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Nanoseconds since the Unix epoch.
    fn now_nanos(&self) -> u64;

    /// The same instant as a UTC timestamp (audit events, incident status).
    fn now_utc(&self) -> chrono::DateTime<chrono::Utc> {
        nanos_to_utc(self.now_nanos())
    }
}

/// Nanoseconds since the Unix epoch as a UTC timestamp.
pub fn nanos_to_utc(nanos: u64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_nanos(i64::try_from(nanos).unwrap_or(i64::MAX))
}

/// A `SystemTime` as nanoseconds since the Unix epoch (0 before the epoch, saturating).
pub fn system_time_nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// A duration in nanoseconds, saturating.
pub(crate) fn duration_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// The operating system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_nanos(&self) -> u64 {
        system_time_nanos(SystemTime::now())
    }
}

/// A clock that only moves when told to (tests, benches, simulations).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    /// A clock standing at `nanos` since the Unix epoch.
    pub fn at_unix_nanos(nanos: u64) -> Self {
        Self(AtomicU64::new(nanos))
    }

    /// A clock standing at `time`.
    pub fn at(time: SystemTime) -> Self {
        Self::at_unix_nanos(system_time_nanos(time))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.0.fetch_add(duration_nanos(by), Ordering::SeqCst);
    }

    /// Sets the clock to `nanos` since the Unix epoch (may go backwards).
    pub fn set_unix_nanos(&self, nanos: u64) {
        self.0.store(nanos, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_nanos(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}
