//! `stellaops-telemetry`: the one dependency a Stella Ops service adds.
//!
//! This umbrella crate re-exports the workspace's libraries under short names as they land,
//! and hosts the workspace's cross-crate tests (`tests/`), examples (`examples/`) and criterion
//! benches (`benches/`). The README below is the project's front page.
//!
//! # Feature flags
//!
//! - `testing` (off by default): the member crates' in-memory test doubles
//!   (`http::testing::{MemoryAudit, MemoryExporter, MemoryIncidentRegistry}`,
//!   `sampling::InMemorySpanSink`), for a service's own tests; enable it in
//!   `[dev-dependencies]`.
//!
#![doc = include_str!("../README.md")]
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

/// DORA metrics: deployment and incident events, the DORA computations, performance levels,
/// SLO breaches and Prometheus metrics (the `stellaops-dora-metrics` crate).
pub use stellaops_dora_metrics as dora;
/// DSSE envelopes (PAE, signing, threshold verification) over HMAC-SHA256, Ed25519 and ECDSA
/// P-256 that securesystemslib, in-toto and sigstore verify: the `stellaops-dsse` crate.
pub use stellaops_dsse as dsse;
/// Sealed-mode egress guard: endpoint classification without DNS, the `EgressPolicy` trait,
/// run-time sealed state, the exporter allow-list, one warning per refused exporter
/// (crate `stellaops-egress-policy`).
pub use stellaops_egress_policy as egress;
/// Consented, privacy-preserving federated telemetry: DSSE-signed consent proofs, k-anonymous
/// Laplace-noised per-CVE aggregates within a privacy budget, verifiable bundles (the
/// `stellaops-federation` crate).
pub use stellaops_federation as federation;
/// Fail-closed redaction of attributes, log messages and records: allow/block key policies,
/// secret and personal-data detectors, salted hashing, audited overrides
/// (`stellaops-redaction`).
pub use stellaops_redaction as redaction;
/// `init()`, the metric catalogue, span conventions, context propagation and the exporters
/// (crate `stellaops-telemetry-core`); the most used items are re-exported at the top level.
pub use stellaops_telemetry_core as telemetry_core;
pub use stellaops_telemetry_core::{
    InitError, Telemetry, TelemetryBuilder, builder, incident, init, metrics, profile, propagation,
    sampling, spans, spool, window,
};
/// The shared vocabulary: profiles, the metric catalogue's specifications, `Signal`, `Window`
/// and the one `Clock` (`SystemClock`, `ManualClock`) every crate reads (the
/// `stellaops-telemetry-model` crate).
pub use stellaops_telemetry_model as model;
pub use stellaops_telemetry_model::{Clock, ManualClock, SystemClock};

/// The HTTP surface a service mounts: the axum router for incident mode, forensic exports,
/// signed config bundles, `/metrics` and health, with bearer authorization and audit; and the
/// adapters over a running [`Telemetry`] (crate `stellaops-telemetry-http`).
pub use stellaops_telemetry_http as http;

/// Signed, reproducible offline OTLP bundles (streaming writer, strict verifier, record
/// framing): the `stellaops-bundle-format` crate.
pub use stellaops_bundle_format as bundle;

/// Deterministic executive outcome reports over DORA events, as JSON, Markdown and HTML with
/// SVG charts (the `stellaops-outcome-analytics` crate).
pub use stellaops_outcome_analytics as outcomes;
