//! The time source the router, the token verifier and the in-memory registries read: the
//! workspace's one [`Clock`], so tests and the demo run on a [`ManualClock`] instead of the
//! wall clock.

pub use stellaops_telemetry_model::clock::{Clock, ManualClock, SystemClock};
