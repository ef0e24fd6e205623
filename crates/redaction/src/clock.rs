//! Where "now" comes from: override expiry is checked against an injected
//! [`Clock`](stellaops_telemetry_model::Clock) (the workspace's one clock), so tests and replays
//! use a [`ManualClock`] instead of the wall clock.

pub use stellaops_telemetry_model::clock::{Clock, ManualClock, SystemClock};
