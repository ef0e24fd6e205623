//! The shared vocabulary of Stella Ops telemetry: what several crates read and none of them
//! owns. Profiles as data, the metric catalogue's specifications, the telemetry [`Signal`], the
//! capture [`Window`] and the one [`Clock`] of the workspace.
//!
//! Nothing here does I/O, starts a thread or depends on OpenTelemetry: configuration
//! generators (`stellaops-telemetry-deploy`) and clients (`stellaops-telemetry-cli`) read this
//! crate without linking the pipeline.
//!
//! ```
//! use stellaops_telemetry_model::{Clock, ManualClock, Profile, Signal, Window};
//! use std::time::Duration;
//!
//! let clock = ManualClock::new("2026-03-02T00:00:00Z".parse()?);
//! clock.advance(Duration::from_secs(90));
//! let window = Window::parse("90s", clock.now())?;
//! assert_eq!(window.to_string(), "2026-03-02T00:00:00Z/2026-03-02T00:01:30Z");
//!
//! assert_eq!(Profile::forensic().trace_sampling_ratio, 1.0);
//! assert_eq!("logs".parse::<Signal>()?, Signal::Logs);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Feature flags
//! None: the crate is small and always whole.
//!
//! # Supported Rust versions
//! The workspace's `rust-version` (1.88) and later.

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

pub mod catalogue;
pub mod clock;
pub mod profile;
pub mod signal;
pub mod sync;
pub mod window;

pub use catalogue::{CATALOGUE, MetricKind, MetricSpec};
pub use clock::{Clock, ManualClock, Sleep, SystemClock};
pub use profile::{ExporterKind, LogLevel, Profile};
pub use signal::{Signal, UnknownSignal};
pub use window::{Window, WindowError};
