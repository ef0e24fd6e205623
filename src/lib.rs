//! `stellaops-telemetry`: the one dependency a Stella Ops service adds.
//!
//! This umbrella crate re-exports the workspace's libraries under short names as they land,
//! and hosts the workspace's cross-crate tests (`tests/`), examples (`examples/`) and criterion
//! benches (`benches/`). The README below is the project's front page.
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

/// DSSE envelopes (PAE, signing, threshold verification) over HMAC-SHA256, Ed25519 and ECDSA
/// P-256 that securesystemslib, in-toto and sigstore verify: the `stellaops-federation-dsse`
/// crate.
pub use stellaops_federation_dsse as dsse;
