//! Real peers for the Stella Ops telemetry tests, started on free loopback ports and stopped
//! on drop.
//!
//! Every test in the workspace that needs something outside Rust uses this crate, so a peer is
//! located, started and checked in one place:
//!
//! - [`Collector`]: the `rotel` OTLP collector (PyPI package `rotel`) receiving OTLP gRPC and
//!   HTTP, re-exporting everything it accepted to an in-test OTLP receiver ([`OtlpSink`]);
//!   tests assert on what the collector actually forwarded, so a message rotel rejects fails.
//! - [`Promtool`]: `promtool check metrics`, `check rules` and `test rules` (Debian `prometheus`).
//! - [`Python`]: the project's virtual environment with `opentelemetry-proto` (decodes OTLP files
//!   written by Rust code) and `securesystemslib` (signs and verifies DSSE envelopes).
//!
//! Peers are installed by `scripts/install-peers.sh` (the README's test command runs it). A
//! missing peer is an error that names the install script: tests never skip silently.
//!
//! ```no_run
//! use stellaops_telemetry_testkit::Collector;
//! use std::time::Duration;
//!
//! let collector = Collector::start()?;
//! // point an OTLP exporter at collector.grpc_endpoint() or collector.http_endpoint() ...
//! let span = collector.wait_for_span("checkout", Duration::from_secs(20))?;
//! assert_eq!(span.span.name, "checkout");
//! # Ok::<(), stellaops_telemetry_testkit::PeerError>(())
//! ```
//!
//! This crate is not published: it is test support, not product.
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

mod collector;
mod container;
mod error;
mod pki;
mod ports;
mod promtool;
mod python;
mod received;
mod sink;

pub use collector::Collector;
pub use container::{gzip_bundle_container, gzip_bundle_tar};
pub use error::PeerError;
pub use pki::{CertPair, TestPki};
pub use ports::{free_loopback_port, host_non_loopback_ipv4};
pub use promtool::{Promtool, ToolOutput};
pub use python::Python;
pub use received::{FlatLogRecord, FlatSpan, Received, attr_string};
pub use sink::OtlpSink;

/// Re-exported OTLP message types, so tests can build and inspect requests without naming
/// `opentelemetry-proto` themselves.
pub use opentelemetry_proto::tonic as otlp;

use std::path::PathBuf;

/// The workspace's root directory (where `Cargo.toml` with `[workspace]` lives).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .nth(2)
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

/// The Python virtual environment holding the peers: `$STELLAOPS_PEERS_VENV` when set, else
/// `.venv` under the workspace root (where `scripts/install-peers.sh` creates it).
pub fn peers_venv() -> PathBuf {
    std::env::var_os("STELLAOPS_PEERS_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".venv"))
}
