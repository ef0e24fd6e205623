//! `stellaops-telemetry-core`: the front door of Stella Ops telemetry.
//!
//! ```
//! use stellaops_telemetry_core::propagation::PropagationContext;
//!
//! let mut headers = http::HeaderMap::new();
//! headers.insert("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse().unwrap());
//! headers.insert("x-stella-tenant", "acme-corp".parse().unwrap());
//! let extracted = PropagationContext::extract(&headers);
//! assert!(extracted.problems.is_empty());
//! assert_eq!(extracted.context.tenant.as_deref(), Some("acme-corp"));
//! ```
//!
//! # Feature flags
//!
//! - `testing` (off by default): in-memory test doubles (`sampling::InMemorySpanSink`).
//! - `test-hooks` (off by default): only for this crate's own crash-safety tests.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod attribute;
pub mod export;
pub mod incident;
mod init;
pub mod level;
pub mod logging;
pub mod metrics;
mod pipeline;
pub use stellaops_telemetry_model::profile;
pub mod propagation;
mod recycle;
pub mod replay;
pub mod sampling;
pub mod scrub;
pub mod settings;
pub mod span_layer;
pub mod spans;
pub mod spool;
pub mod tls;
pub use stellaops_telemetry_model::window;

pub use init::{
    DEFAULT_EXPORT_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT, FORENSIC_EXPORT_INTERVAL, InitError,
    SCOPE_NAME, Telemetry, TelemetryBuilder, builder, init,
};
