//! The spool's time source: the bundle-format clock trait, the system clock, and
//! [`ManualClock`] for tests. Every time decision of the spool (sealing, retention, stamping
//! records without timestamps) reads one of these.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::{Arc, Mutex, PoisonError};

// Documented where `spool` re-exports it.
pub use stellaops_bundle_format::Clock as SpoolClock;
pub use stellaops_bundle_format::SystemClock;

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
