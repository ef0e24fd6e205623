//! Where "now" comes from. The service asks a [`Clock`] (the workspace's one clock) whenever
//! the current time matters (the age of open incidents, the UTC day that just ended); tests
//! inject a [`ManualClock`]. Event times themselves are always given by the caller, never read
//! from a clock.

pub use stellaops_telemetry_model::clock::{Clock, ManualClock, SystemClock};
