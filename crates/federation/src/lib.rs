//! Federated telemetry: sites share aggregated vulnerability telemetry with peers only with a
//! signed consent, only in aggregates that protect individual artifacts, and only in DSSE
//! envelopes a peer can verify.
//!
//! The pipeline (`docs/federation.md`): facts -> per-CVE buckets -> k-anonymity -> Laplace
//! noise within a per-period privacy budget -> consent check -> canonical payload -> DSSE
//! signature -> egress decision -> sync. Time and randomness are injected, so a replay with the
//! same clock and seed yields the same bytes.
//!
//! ```
//! use std::sync::Arc;
//! use chrono::{DateTime, TimeDelta};
//! use stellaops_federation::*;
//! use stellaops_dsse::{HmacSha256Key, TrustedKeys};
//!
//! let key = HmacSha256Key::new("site-a", vec![7u8; 32])?;
//! let options = FederatedTelemetryOptions::builder("site-a")
//!     .trusted_keys(TrustedKeys::new().with(key.clone())?)
//!     .build()?;
//! let now = DateTime::from_timestamp(1_772_618_400, 0).unwrap(); // 2026-03-04T10:00:00Z
//! let clock = Arc::new(ManualClock::new(now));
//! let mut site = FederationSite::new(options.clone(), clock).with_signer(Arc::new(key));
//!
//! site.grant_consent(ConsentGrant::new("tenant-a", "alice").ttl(TimeDelta::days(30)))?;
//! let facts: Vec<Fact> = (0..6)
//!     .map(|i| Fact::new("CVE-2025-0001", format!("sha256:{i:064x}"), now - TimeDelta::hours(1)))
//!     .collect();
//! let window = Window::new(now - TimeDelta::days(1), now)?;
//! let aggregation = site.aggregate("tenant-a", window, &facts, &mut seeded_rng(42))?;
//! let bundle = site.build_bundle(&aggregation)?;
//!
//! // At a peer that trusts site-a's key:
//! let verified = BundleVerifier::from_options(&options).verify_json(bundle.to_json().as_bytes())?;
//! assert_eq!(verified.payload().buckets[0].artifact_count, 6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Modules
//!
//! The modules are private; everything a caller needs is re-exported at the crate root.
//!
//! - `consent`: DSSE-signed consent proofs (`stella.ops/federatedConsent@v1`), revocations and
//!   the [`ConsentRegistry`].
//! - `aggregate`: per-CVE buckets with k-anonymity ([`Fact`], [`Window`], [`AggregateBucket`]).
//! - `noise` and `budget`: seeded Laplace noise ([`LaplaceNoise`]) within a per-period
//!   [`PrivacyBudget`].
//! - `bundle`: canonical bundle payloads with deterministic ids ([`FederatedBundle`]).
//! - `site`: [`FederationSite`], the pipeline from facts to a signed bundle and its egress
//!   decision.
//! - `verify`: [`BundleVerifier`], bundle verification at a peer.
//! - `options`: [`FederatedTelemetryOptions`]; `clock`: the injected [`Clock`]; `error`:
//!   [`FederationError`] with stable codes.
//!
//! The DSSE envelopes, keys and canonical JSON this crate signs with are the `stellaops-dsse`
//! crate; see `docs/federation.md` for the protocol.
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

mod aggregate;
mod budget;
mod bundle;
mod clock;
mod consent;
mod digest;
mod error;
mod noise;
mod options;
mod site;
mod verify;

pub use aggregate::{AggregateBucket, Fact, Window};
pub use budget::{BudgetReport, PrivacyBudget};
pub use bundle::{BUNDLE_PAYLOAD_TYPE, BUNDLE_SCHEMA, BundlePayload, FederatedBundle};
pub use clock::{Clock, ManualClock, SystemClock};
pub use consent::{
    CONSENT_PAYLOAD_TYPE, CONSENT_PREDICATE_TYPE, ConsentGrant, ConsentPredicate, ConsentProof,
    ConsentRegistry, ConsentRevocation, ConsentState,
};
pub use digest::sha256_digest;
pub use error::FederationError;
pub use noise::{LaplaceNoise, os_seeded_rng, seeded_rng};
pub use options::{FederatedTelemetryOptions, FederatedTelemetryOptionsBuilder};
pub use rand_chacha::ChaCha20Rng;
pub use site::{Aggregation, FederationSite, SYNC_COMPONENT, SYNC_INTENT};
pub use verify::{BundleVerifier, VerifiedBundle};
