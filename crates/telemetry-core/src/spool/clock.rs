//! The spool's time source: the workspace's one clock. Every time decision of the spool
//! (sealing, retention, stamping records without timestamps) reads a [`SpoolClock`]: the
//! system clock in services, a [`ManualClock`] in tests.

/// The clock trait the spool reads (the workspace's one [`Clock`](stellaops_telemetry_model::Clock)).
pub use stellaops_telemetry_model::clock::Clock as SpoolClock;
pub use stellaops_telemetry_model::clock::{ManualClock, SystemClock};
