//! `init()` and its builder: resolve settings, assemble the subscriber (the log layer: JSON
//! stdout and OTLP records; the span bridge; one run-time level), start one export worker per
//! signal behind the egress guard, and return the [`Telemetry`] guard that flushes and shuts
//! down on drop.
//!
//! Start-up runs in stages, one file each: the shared pieces every signal uses (`shared`),
//! the spool (`spool_slot`), the transport security of the OTLP endpoints (`transport`), the
//! export workers (`export_workers`), the span path (`span_path`: tail sampler, incidents,
//! span layer) and the log path (`log_path`); `builder` runs them in order and `telemetry` is
//! the running handle.
//!
//! Not a place for business logic: services record through `tracing` and the catalogue.

mod builder;
mod defaults;
mod error;
mod export_workers;
mod log_path;
mod shared;
mod span_path;
mod spool_slot;
mod telemetry;
mod transport;

pub use builder::{TelemetryBuilder, builder, init};
pub use defaults::{
    DEFAULT_EXPORT_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT, FORENSIC_EXPORT_INTERVAL, SCOPE_NAME,
};
pub use error::InitError;
pub use telemetry::Telemetry;
