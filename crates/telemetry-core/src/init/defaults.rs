//! The fixed times and names of start-up (export and shutdown timeouts, the forensic export
//! interval, the instrumentation scope) and the export intervals derived from the metrics one.
//!
//! Not settings a service chooses (`crate::settings`, the builder).

use std::time::Duration;

/// The export interval while any tenant is in forensic mode.
pub const FORENSIC_EXPORT_INTERVAL: Duration = Duration::from_secs(10);

/// How long the guard waits for each signal to flush when it is dropped.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// How long one OTLP export may take before it counts as failed.
pub const DEFAULT_EXPORT_TIMEOUT: Duration = Duration::from_secs(10);
/// Name of the instrumentation scope for spans and metrics made by this crate.
pub const SCOPE_NAME: &str = "stellaops-telemetry";

/// Spans and logs are exported at least every 120th of the metrics export interval, between
/// 250 ms and 1 s (500 ms by default, 250 ms in forensic mode), and sooner whenever a full
/// batch is waiting: a log line reaches the collector well within 5 s even when the service
/// is quiet (see the ingestion benchmark in docs/benchmarks.md).
pub(super) fn batch_interval(export_interval: Duration) -> Duration {
    (export_interval / 120).clamp(Duration::from_millis(250), Duration::from_secs(1))
}

pub(super) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
