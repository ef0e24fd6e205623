//! The spool's time source: the workspace's one clock. Every time decision of the spool
//! (sealing, retention, stamping records without timestamps) reads a [`Clock`]: the system
//! clock in services, a [`ManualClock`] in tests.

pub use stellaops_telemetry_model::clock::{Clock, ManualClock, SystemClock};
