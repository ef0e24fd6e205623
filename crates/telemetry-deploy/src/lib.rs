//! Everything an OpenTelemetry Collector fleet needs, rendered from the same profiles and
//! metric catalogue the Stella Ops libraries use, so the two never drift: collector configs
//! per profile, Grafana dashboards, Prometheus alert rules, and a signed config bundle.
//!
//! ```
//! use stellaops_telemetry_deploy::alerts::{rules_yaml, standard_rules};
//! use stellaops_telemetry_deploy::promql::unknown_series;
//!
//! let rules = standard_rules();
//! let yaml = rules_yaml(&rules);
//! assert!(yaml.contains("alert: CircuitOpen"));
//! // every rule names only metrics a service exposes
//! assert!(rules.iter().all(|r| unknown_series(&r.expr).is_empty()));
//! ```
//!
//! - [`alerts`]: the standard alert rules as a Prometheus rule file.
//! - [`bundle`]: the signed config bundle (files, SHA-256 manifest, DSSE envelope).
//! - [`collector`]: OpenTelemetry Collector configs per profile (agent and gateway tiers, or
//!   one sealed file-only tier), every endpoint decided by the site's egress policy.
//! - [`dashboards`]: Grafana JSON models built from catalogue metrics only.
//! - [`offline_kit`]: the signed Offline Kit (configs, dashboards, rules, redaction policy,
//!   README) as a directory and a reproducible tarball, and its verifier.
//! - [`promql`]: the metric names a PromQL expression references, checked against the
//!   catalogue.
//! - [`yaml`]: the deterministic YAML emitter every rendered file goes through.
//!
//! # Feature flags
//!
//! None.
//!
//! # Supported Rust versions
//!
//! The workspace's `rust-version` (1.88) and later; developed on stable 1.95.
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

pub mod alerts;
pub mod bundle;
pub mod collector;
pub mod dashboards;
pub mod offline_kit;
pub mod promql;
pub mod yaml;
