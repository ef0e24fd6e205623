//! The time source of the tail sampler and the incident controller: the workspace's one
//! [`Clock`] (the system clock in services, a [`ManualClock`] advanced by hand in tests, so no
//! test sleeps).
//!
//! Not a timer: nothing here wakes anybody up; callers poll (`expire_due`).
//!
//! ```
//! use stellaops_telemetry_core::sampling::{Clock, ManualClock};
//! use std::time::Duration;
//!
//! let clock = ManualClock::at_unix_nanos(1_000);
//! clock.advance(Duration::from_nanos(500));
//! assert_eq!(clock.now_nanos(), 1_500);
//! ```

pub(crate) use stellaops_telemetry_model::clock::duration_nanos;
pub use stellaops_telemetry_model::clock::{
    Clock, ManualClock, SystemClock, nanos_to_utc, unix_nanos,
};
