//! OTLP replay: streams the records of a verified offline bundle into a collector, in bundle
//! order, with retries and exponential back-off on transient failures, an optional rate limit
//! and per-signal counts of records sent, retried and failed.
//!
//! Not a verifier (bundle-format's [`BundleReader`](stellaops_bundle_format::BundleReader)
//! is) and not an egress guard: the caller decides whether the endpoint may be used before it
//! builds an [`OtlpRecordSink`].
//!
//! ```
//! use stellaops_bundle_format::{BundleOptions, BundleReader, BundleWriter, Signal};
//! use stellaops_dsse::{Ed25519Signer, TrustedKeys, Verifier};
//! use stellaops_telemetry_core::replay::{ManualClock, RecordSink, Replayer, SendFailure};
//!
//! // A signed bundle with three trace records.
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("window.tar.gz");
//! let clock = ManualClock::new("2025-03-01T00:00:00Z".parse()?);
//! let mut writer = BundleWriter::create(&path, BundleOptions::new("acme", "forensic"), &clock)?;
//! for record in [&b"one"[..], b"two", b"three"] {
//!     writer.write_record(Signal::Traces, record)?;
//! }
//! let signer = Ed25519Signer::generate()?;
//! writer.finish(&[&signer])?;
//!
//! // A collector that is unavailable once, then accepts everything.
//! struct Flaky { refused: bool, got: Vec<Vec<u8>> }
//! impl RecordSink for Flaky {
//!     fn send(&mut self, _: Signal, record: &[u8]) -> Result<(), SendFailure> {
//!         if !self.refused {
//!             self.refused = true;
//!             return Err(SendFailure::transient("UNAVAILABLE"));
//!         }
//!         self.got.push(record.to_vec());
//!         Ok(())
//!     }
//! }
//! let mut sink = Flaky { refused: false, got: Vec::new() };
//! let trusted = TrustedKeys::new().with(signer.public_key().verifier(signer.key_id()))?;
//! let reader = BundleReader::new(Verifier::new(trusted));
//! let replay_clock = ManualClock::default(); // back-off without real sleeps
//! let report = Replayer::new(&mut sink, &replay_clock).replay_file(&reader, &path)?;
//!
//! let traces = report.signal(Signal::Traces).unwrap();
//! assert_eq!((traces.sent, traces.retried, traces.failed), (3, 1, 0));
//! assert_eq!(sink.got, [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
//! assert_eq!(replay_clock.sleeps(), [std::time::Duration::from_millis(100)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod observer;
mod otlp;
mod pacing;
mod replayer;
mod report;
mod sender;
mod sink;

pub use observer::ReplayObserver;
pub use otlp::{DEFAULT_SEND_TIMEOUT, OtlpRecordSink, decode_record, http_base};
pub use pacing::{
    Backoff, DEFAULT_INITIAL_BACKOFF, DEFAULT_MAX_BACKOFF, DEFAULT_MAX_RETRIES, MAX_RATE, Rate,
    RateError,
};
pub use replayer::Replayer;
pub use report::{ReplayError, ReplayReport, SignalCounts};
pub use sink::{RecordSink, SendFailure};
/// Replay paces itself on the workspace's one clock: a [`Sleep`] (the system clock in the CLI,
/// a [`ManualClock`] in tests, which records every sleep instead of waiting).
pub use stellaops_telemetry_model::clock::{ManualClock, Sleep, SystemClock};
