//! Signed, reproducible offline OTLP bundles: the forensic archives operators carry out of an
//! air-gapped site and verify on an analysis workstation.
//!
//! A bundle is a gzip-compressed ustar archive holding `manifest.json` (canonical JSON: per
//! file path, size, SHA-256 and record count), `signatures/manifest.sig` (a DSSE envelope over
//! the manifest bytes) and the payload: `otlp/{logs,metrics,traces}.pb` in the collector file
//! exporter's framing, plus optional `config/` files. The same records and manifest always
//! give the same bytes. The format is specified in `docs/bundle-format.md`.
//!
//! ```
//! use stellaops_bundle_format::{BundleOptions, BundleReader, BundleWriter, ManualClock, Signal};
//! use stellaops_dsse::{Ed25519Signer, TrustedKeys, Verifier};
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("window.tar.gz");
//! let clock = ManualClock::new("2025-03-01T00:00:00Z".parse()?);
//!
//! // Write: records stream to disk; finish() signs, fsyncs and renames into place.
//! let mut writer = BundleWriter::create(&path, BundleOptions::new("acme", "forensic"), &clock)?;
//! writer.write_record(Signal::Traces, b"first record")?;
//! writer.write_record(Signal::Traces, b"second record")?;
//! writer.add_config_file("config/collector.yaml", &b"receivers: {}\n"[..])?;
//! let signer = Ed25519Signer::generate()?;
//! writer.finish(&[&signer])?;
//!
//! // Verify and read back: every digest, size, count and the signature are checked.
//! let trusted = TrustedKeys::new().with(signer.public_key().verifier(signer.key_id()))?;
//! let reader = BundleReader::new(Verifier::new(trusted));
//! let (verified, records) = reader.read_records(std::fs::File::open(&path)?)?;
//! assert_eq!(records.len(), 2);
//! assert_eq!(records[0], (Signal::Traces, b"first record".to_vec()));
//! assert_eq!(verified.manifest().tenant, "acme");
//!
//! // Any other key is refused.
//! let stranger = Ed25519Signer::generate()?;
//! let other = TrustedKeys::new().with(stranger.public_key().verifier(stranger.key_id()))?;
//! let err = BundleReader::new(Verifier::new(other)).verify_file(&path).unwrap_err();
//! assert_eq!(err.code(), "bundle.signature");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Modules
//!
//! - [`framing`]: the 4-byte big-endian length framing shared with the spool.
//! - [`manifest`]: the manifest schema, canonical form, bundle id and path rules.
//! - [`writer`]: [`BundleWriter`] (streaming, atomic, reproducible).
//! - [`reader`]: [`BundleReader`] (strict streaming verifier, record iteration, extraction).
//! - [`error`]: [`BundleError`] with stable `bundle.*` codes.
//!
//! # Feature flags
//!
//! None.
//!
//! # Supported Rust versions
//!
//! The workspace's `rust-version` (1.88) and newer; developed on stable 1.95.
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

pub mod error;
pub mod framing;
pub mod manifest;
pub mod reader;
pub mod writer;

pub use error::BundleError;
pub use manifest::{
    BUNDLE_ORDER, BundleSignal, FileEntry, MANIFEST_PAYLOAD_TYPE, Manifest, Signal, Window,
};
pub use reader::{
    BundleReader, BundleVisitor, Limits, SignalRecords, SignatureStatus, VerifiedBundle,
};
/// Where a bundle's creation time comes from: the workspace's one clock. Inject a
/// [`ManualClock`] standing at a fixed time for reproducible output (tests, `SOURCE_DATE_EPOCH`).
pub use stellaops_telemetry_model::clock::{Clock, ManualClock, SystemClock};
pub use writer::{BundleOptions, BundleWriter, Compression, WrittenBundle};
