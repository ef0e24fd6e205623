//! OTLP replay: streams the records of a verified offline bundle into a collector, in bundle
//! order, with retries and exponential back-off on transient failures, an optional rate limit
//! and per-signal counts of records sent, retried and failed.
//!
//! Not a verifier (bundle-format's [`BundleReader`] is) and not an egress guard: the caller
//! decides whether the endpoint may be used before it builds an [`OtlpRecordSink`].
//!
//! ```
//! use stellaops_bundle_format::{BundleOptions, BundleReader, BundleWriter, FixedClock, Signal};
//! use stellaops_dsse::{Ed25519Signer, TrustedKeys, Verifier};
//! use stellaops_telemetry_core::replay::{ManualClock, RecordSink, Replayer, SendFailure};
//!
//! // A signed bundle with three trace records.
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("window.tar.gz");
//! let clock = FixedClock("2025-03-01T00:00:00Z".parse()?);
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
//! let replay_clock = ManualClock::new(); // back-off without real sleeps
//! let report = Replayer::new(&mut sink, &replay_clock).replay_file(&reader, &path)?;
//!
//! let traces = report.signal(Signal::Traces).unwrap();
//! assert_eq!((traces.sent, traces.retried, traces.failed), (3, 1, 0));
//! assert_eq!(sink.got, [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
//! assert_eq!(replay_clock.sleeps(), [std::time::Duration::from_millis(100)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::export::{ExportRequest, OtlpClient, OtlpSendError};
use crate::settings::{OtlpTarget, Protocol};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::path::Path;
use std::str::FromStr;
use std::time::{Duration, Instant};
use stellaops_bundle_format::{
    BundleError, BundleReader, BundleVisitor, FileEntry, Signal, SignatureStatus, VerifiedBundle,
};

/// The first back-off delay: 100 ms.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// The longest back-off delay: 5 s.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Retries of one record before the collector counts as unreachable: 10 (about 26 s of
/// back-off with the default delays).
pub const DEFAULT_MAX_RETRIES: u32 = 10;
/// How long one send may wait for the collector's answer: 10 s.
pub const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// The highest accepted `--rate`: one million records per second.
pub const MAX_RATE: f64 = 1_000_000.0;

/// Exponential back-off: retry `n` (1-based) waits `initial * 2^(n-1)`, capped at `max`; a
/// record is retried at most `max_retries` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    max_retries: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: DEFAULT_INITIAL_BACKOFF,
            max: DEFAULT_MAX_BACKOFF,
            max_retries: DEFAULT_MAX_RETRIES,
        }
    }
}

impl Backoff {
    /// A back-off starting at `initial`, doubling up to `max`, giving up after `max_retries`
    /// retries of the same record. `max` below `initial` is raised to `initial`.
    pub fn new(initial: Duration, max: Duration, max_retries: u32) -> Self {
        Self {
            initial,
            max: max.max(initial),
            max_retries,
        }
    }

    /// The delay before retry `retry` (1-based; 0 is treated as 1).
    ///
    /// ```
    /// use std::time::Duration;
    /// use stellaops_telemetry_core::replay::Backoff;
    /// let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 5);
    /// let delays: Vec<_> = (1..=5).map(|n| b.delay(n).as_millis()).collect();
    /// assert_eq!(delays, [100, 200, 400, 800, 1000]);
    /// ```
    pub fn delay(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(32);
        self.initial
            .checked_mul(1u32 << doublings.min(31))
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// Retries of one record before giving up.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }
}

/// A replay rate in records per second: finite, above zero, at most [`MAX_RATE`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate(f64);

/// A rate that could not be parsed or is out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid rate {text:?}: expected {expected}")]
#[non_exhaustive]
pub struct RateError {
    /// What was given.
    pub text: String,
    /// What would have been accepted.
    pub expected: &'static str,
}

impl RateError {
    /// The stable machine code, `replay.invalid_rate`.
    pub fn code(&self) -> &'static str {
        "replay.invalid_rate"
    }
}

const RATE_GRAMMAR: &str =
    "records per second as a decimal number above 0 and at most 1000000, such as 50 or 0.5";

impl Rate {
    /// A rate of `per_second` records per second.
    ///
    /// # Errors
    /// [`RateError`] when it is not finite, not above zero or above [`MAX_RATE`].
    pub fn new(per_second: f64) -> Result<Self, RateError> {
        if per_second.is_finite() && per_second > 0.0 && per_second <= MAX_RATE {
            Ok(Self(per_second))
        } else {
            Err(RateError {
                text: per_second.to_string(),
                expected: RATE_GRAMMAR,
            })
        }
    }

    /// Parses `DIGITS[.DIGITS]` (surrounding spaces allowed; no sign, exponent, `inf`, `nan`
    /// or hex).
    ///
    /// ```
    /// use stellaops_telemetry_core::replay::Rate;
    /// assert_eq!(Rate::parse("50")?.per_second(), 50.0);
    /// assert_eq!(Rate::parse("0.5")?.interval().as_millis(), 2000);
    /// assert!(Rate::parse("0").is_err());
    /// assert!(Rate::parse("1e3").is_err());
    /// # Ok::<(), stellaops_telemetry_core::replay::RateError>(())
    /// ```
    ///
    /// # Errors
    /// [`RateError`] naming the text and the accepted form.
    pub fn parse(text: &str) -> Result<Self, RateError> {
        let bad = || RateError {
            text: text.to_owned(),
            expected: RATE_GRAMMAR,
        };
        let trimmed = text.trim();
        let (whole, fraction) = match trimmed.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (trimmed, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
            return Err(bad());
        }
        let value: f64 = trimmed.parse().map_err(|_| bad())?;
        Self::new(value).map_err(|_| bad())
    }

    /// Records per second.
    pub fn per_second(&self) -> f64 {
        self.0
    }

    /// The time between two records.
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.0)
    }
}

impl FromStr for Rate {
    type Err = RateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

/// Monotonic time and sleeping, injected so tests replay without real sleeps.
pub trait ReplayClock {
    /// Time elapsed since an arbitrary fixed start.
    fn now(&self) -> Duration;
    /// Waits for `duration`.
    fn sleep(&self, duration: Duration);
}

/// The real clock: [`Instant`] and [`std::thread::sleep`].
#[derive(Debug, Clone, Copy)]
pub struct SystemReplayClock {
    start: Instant,
}

impl Default for SystemReplayClock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
        }
    }
}

impl ReplayClock for SystemReplayClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }
    fn sleep(&self, duration: Duration) {
        std::thread::sleep(duration);
    }
}

/// A clock that only moves when slept on or advanced, and remembers every sleep.
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Cell<Duration>,
    sleeps: RefCell<Vec<Duration>>,
}

impl ManualClock {
    /// A clock at zero.
    pub fn new() -> Self {
        Self::default()
    }
    /// Moves the clock forward without recording a sleep (time spent sending).
    pub fn advance(&self, by: Duration) {
        self.now.set(self.now.get().saturating_add(by));
    }
    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.sleeps.borrow().clone()
    }
}

impl ReplayClock for ManualClock {
    fn now(&self) -> Duration {
        self.now.get()
    }
    fn sleep(&self, duration: Duration) {
        self.sleeps.borrow_mut().push(duration);
        self.advance(duration);
    }
}

/// Why one send failed, and whether sending it again may succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    transient: bool,
    message: String,
}

impl SendFailure {
    /// A failure worth retrying (collector unreachable, overloaded, timed out).
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            transient: true,
            message: message.into(),
        }
    }
    /// A failure that retrying cannot fix (the record was rejected).
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            transient: false,
            message: message.into(),
        }
    }
    /// Whether a retry may succeed.
    pub fn is_transient(&self) -> bool {
        self.transient
    }
    /// What happened.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for SendFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<OtlpSendError> for SendFailure {
    fn from(e: OtlpSendError) -> Self {
        Self {
            transient: e.is_transient(),
            message: e.to_string(),
        }
    }
}

/// Where replayed records go. `Ok` means the receiver acknowledged the record: it is never
/// sent again.
pub trait RecordSink {
    /// Sends one framed record's bytes (an `Export{Traces,Metrics,Logs}ServiceRequest`).
    ///
    /// # Errors
    /// A [`SendFailure`], transient or permanent.
    fn send(&mut self, signal: Signal, record: &[u8]) -> Result<(), SendFailure>;
}

/// Hears what a replay does, for progress bars and logs. Every hook does nothing by default.
pub trait ReplayObserver {
    /// The bundle passed verification; sending starts next.
    fn bundle_verified(&mut self, _bundle: &VerifiedBundle) {}
    /// A signal's file starts; `records` is its manifest count.
    fn signal_started(&mut self, _signal: Signal, _records: u64) {}
    /// Record `index` (0-based within its signal) was acknowledged.
    fn record_sent(&mut self, _signal: Signal, _index: u64) {}
    /// Record `index` failed transiently; retry `retry` (1-based) follows after `delay`.
    fn retrying(
        &mut self,
        _signal: Signal,
        _index: u64,
        _retry: u32,
        _delay: Duration,
        _failure: &SendFailure,
    ) {
    }
    /// Record `index` was rejected permanently and is counted failed; replay goes on.
    fn record_failed(&mut self, _signal: Signal, _index: u64, _failure: &SendFailure) {}
    /// Record `index` still failed after every retry: the collector counts as unreachable and
    /// this and every later record are counted failed without being sent.
    fn gave_up(&mut self, _signal: Signal, _index: u64, _failure: &SendFailure) {}
}

struct Silent;
impl ReplayObserver for Silent {}

/// What happened to one signal's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignalCounts {
    /// Records in the bundle (the manifest's count).
    pub records: u64,
    /// Records the collector acknowledged (each exactly once).
    pub sent: u64,
    /// Records that needed at least one retry (sent or not in the end).
    pub retried: u64,
    /// Records not acknowledged: rejected, or not sent after the collector became unreachable.
    pub failed: u64,
}

/// The outcome of a replay.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    verified: VerifiedBundle,
    counts: Vec<(Signal, SignalCounts)>,
    gave_up: Option<String>,
}

impl ReplayReport {
    /// The verification result of the replayed bundle.
    pub fn verified(&self) -> &VerifiedBundle {
        &self.verified
    }
    /// Counts per replayed signal, in bundle order (signals absent from the bundle or not
    /// selected are not listed).
    pub fn counts(&self) -> &[(Signal, SignalCounts)] {
        &self.counts
    }
    /// The counts of one signal.
    pub fn signal(&self, signal: Signal) -> Option<&SignalCounts> {
        self.counts
            .iter()
            .find(|(s, _)| *s == signal)
            .map(|(_, c)| c)
    }
    /// Records not acknowledged, over every signal.
    pub fn failed(&self) -> u64 {
        self.counts.iter().map(|(_, c)| c.failed).sum()
    }
    /// Records acknowledged, over every signal.
    pub fn sent(&self) -> u64 {
        self.counts.iter().map(|(_, c)| c.sent).sum()
    }
    /// Why replay stopped sending early (the last transient failure), if it did.
    pub fn gave_up(&self) -> Option<&str> {
        self.gave_up.as_deref()
    }
}

/// Why a replay could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// The bundle failed verification; nothing was sent.
    #[error("bundle refused, nothing sent: {0}")]
    Bundle(#[from] BundleError),
    /// The bundle is intact but its signature was not verified against a trusted key, and
    /// the replayer was not told to accept that; nothing was sent.
    #[error(
        "bundle refused, nothing sent: signatures/manifest.sig: expected a signature verified by a trusted key, found {found}"
    )]
    Unverified {
        /// What was found (`an unsigned bundle`, `a signature not checked against any key`).
        found: &'static str,
    },
    /// The bundle file changed between verification and replay.
    #[error("the bundle changed while it was replayed: {detail}")]
    Changed {
        /// What differed.
        detail: String,
    },
    /// The OTLP client could not be built.
    #[error(transparent)]
    Endpoint(#[from] OtlpSendError),
    /// The TLS configuration for an `https://` collector is unusable (a file, a key).
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// A file system error.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        #[source]
        source: io::Error,
    },
}

impl ReplayError {
    /// A stable machine code: the bundle error's `bundle.*` code, `replay.unverified`,
    /// `replay.bundle_changed`, `replay.invalid_endpoint`, the TLS error's `telemetry.tls.*`
    /// or `replay.io`.
    pub fn code(&self) -> &'static str {
        match self {
            ReplayError::Bundle(e) => e.code(),
            ReplayError::Unverified { .. } => "replay.unverified",
            ReplayError::Changed { .. } => "replay.bundle_changed",
            ReplayError::Endpoint(_) => "replay.invalid_endpoint",
            ReplayError::Tls(e) => e.code(),
            ReplayError::Io { .. } => "replay.io",
        }
    }
}

/// Replays bundles into a [`RecordSink`].
///
/// The bundle is read twice from one open file: first verified completely (nothing is sent
/// unless every digest, size, count and, by default, the signature check out), then streamed
/// record by record to the sink. Memory holds one record at a time, whatever the bundle's size.
pub struct Replayer<'a> {
    sink: &'a mut dyn RecordSink,
    clock: &'a dyn ReplayClock,
    observer: Option<&'a mut dyn ReplayObserver>,
    backoff: Backoff,
    rate: Option<Rate>,
    signals: Vec<Signal>,
    allow_unverified: bool,
}

impl fmt::Debug for Replayer<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Replayer")
            .field("backoff", &self.backoff)
            .field("rate", &self.rate)
            .field("signals", &self.signals)
            .field("allow_unverified", &self.allow_unverified)
            .finish_non_exhaustive()
    }
}

impl<'a> Replayer<'a> {
    /// A replayer of every signal, with the default [`Backoff`], no rate limit, and a
    /// required verified signature.
    pub fn new(sink: &'a mut dyn RecordSink, clock: &'a dyn ReplayClock) -> Self {
        Self {
            sink,
            clock,
            observer: None,
            backoff: Backoff::default(),
            rate: None,
            signals: Signal::ALL.to_vec(),
            allow_unverified: false,
        }
    }

    /// Replaces the back-off.
    #[must_use]
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sends at most `rate` records per second (`None`: as fast as the collector answers).
    #[must_use]
    pub fn rate(mut self, rate: Option<Rate>) -> Self {
        self.rate = rate;
        self
    }

    /// Replays only these signals (an empty list means all).
    #[must_use]
    pub fn signals(mut self, signals: &[Signal]) -> Self {
        self.signals = if signals.is_empty() {
            Signal::ALL.to_vec()
        } else {
            signals.to_vec()
        };
        self
    }

    /// Reports progress to `observer`.
    #[must_use]
    pub fn observer(mut self, observer: &'a mut dyn ReplayObserver) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Replays a bundle whose signature was not verified against a trusted key (a reader
    /// built with [`BundleReader::dangerous_skip_signature`], or an unsigned bundle).
    /// Integrity checks still apply. Anyone could have written such a bundle.
    #[must_use]
    pub fn dangerous_allow_unverified(mut self) -> Self {
        self.allow_unverified = true;
        self
    }

    /// Verifies the bundle at `path` with `reader`, then replays it.
    ///
    /// # Errors
    /// [`ReplayError::Bundle`] or [`ReplayError::Unverified`] before anything is sent;
    /// [`ReplayError::Changed`] when the file changes during the replay; [`ReplayError::Io`].
    /// Records the collector refuses are counted in the report, not errors.
    pub fn replay_file(
        self,
        reader: &BundleReader,
        path: &Path,
    ) -> Result<ReplayReport, ReplayError> {
        let io = |context: String| {
            move |source| ReplayError::Io {
                context: context.clone(),
                source,
            }
        };
        let mut file = File::open(path).map_err(io(format!("opening {}", path.display())))?;
        let before = file
            .metadata()
            .map_err(io(format!("reading {}", path.display())))?;
        let verified = reader.verify(&mut file)?;
        match verified.signature() {
            SignatureStatus::Verified { .. } => {}
            SignatureStatus::NotChecked { unsigned, .. } if !self.allow_unverified => {
                return Err(ReplayError::Unverified {
                    found: if *unsigned {
                        "an unsigned bundle (unsigned-fallback marker)"
                    } else {
                        "a signature not checked against any trusted key"
                    },
                });
            }
            _ if self.allow_unverified => {}
            _ => {
                return Err(ReplayError::Unverified {
                    found: "a signature status this replayer does not know",
                });
            }
        }
        file.seek(SeekFrom::Start(0))
            .map_err(io(format!("rewinding {}", path.display())))?;
        let after = file
            .metadata()
            .map_err(io(format!("reading {}", path.display())))?;
        if before.len() != after.len() || before.modified().ok() != after.modified().ok() {
            return Err(ReplayError::Changed {
                detail: format!(
                    "{} was modified after it was verified; nothing was sent",
                    path.display()
                ),
            });
        }
        let mut silent = Silent;
        let observer = self.observer.unwrap_or(&mut silent);
        observer.bundle_verified(&verified);
        let mut visitor = Sender {
            sink: self.sink,
            clock: self.clock,
            observer,
            backoff: self.backoff,
            interval: self.rate.map(|r| r.interval()),
            next_due: None,
            signals: self.signals,
            counts: Vec::new(),
            current: None,
            gave_up: None,
        };
        let second = reader
            .read(&mut file, &mut visitor)
            .map_err(|e| ReplayError::Changed {
                detail: format!(
                    "{} failed verification while replaying: {e}",
                    path.display()
                ),
            })?;
        if second.sha256() != verified.sha256() {
            return Err(ReplayError::Changed {
                detail: format!(
                    "expected {} to stay {}, found {}",
                    path.display(),
                    verified.sha256(),
                    second.sha256()
                ),
            });
        }
        Ok(ReplayReport {
            verified,
            counts: visitor.counts,
            gave_up: visitor.gave_up,
        })
    }
}

/// The visitor that sends records as they stream out of the bundle.
struct Sender<'a, 'o> {
    sink: &'a mut dyn RecordSink,
    clock: &'a dyn ReplayClock,
    observer: &'o mut dyn ReplayObserver,
    backoff: Backoff,
    interval: Option<Duration>,
    next_due: Option<Duration>,
    signals: Vec<Signal>,
    counts: Vec<(Signal, SignalCounts)>,
    /// The signal being streamed and the index of its next record.
    current: Option<(Signal, u64)>,
    gave_up: Option<String>,
}

impl Sender<'_, '_> {
    fn counts_mut(&mut self, signal: Signal) -> Option<&mut SignalCounts> {
        self.counts
            .iter_mut()
            .find(|(s, _)| *s == signal)
            .map(|(_, c)| c)
    }

    fn pace(&mut self) {
        let Some(interval) = self.interval else {
            return;
        };
        let now = self.clock.now();
        if let Some(due) = self.next_due
            && due > now
        {
            self.clock.sleep(due - now);
        }
        let sent_at = self.next_due.map_or(now, |due| due.max(now));
        self.next_due = Some(sent_at.saturating_add(interval));
    }

    fn send(&mut self, signal: Signal, index: u64, record: &[u8]) -> SignalCounts {
        let mut outcome = SignalCounts::default();
        if self.gave_up.is_some() {
            outcome.failed = 1;
            return outcome;
        }
        self.pace();
        let mut retry = 0u32;
        loop {
            match self.sink.send(signal, record) {
                Ok(()) => {
                    outcome.sent = 1;
                    self.observer.record_sent(signal, index);
                    return outcome;
                }
                Err(failure) if !failure.is_transient() => {
                    outcome.failed = 1;
                    self.observer.record_failed(signal, index, &failure);
                    return outcome;
                }
                Err(failure) if retry >= self.backoff.max_retries() => {
                    outcome.failed = 1;
                    self.observer.gave_up(signal, index, &failure);
                    self.gave_up = Some(failure.message().to_owned());
                    return outcome;
                }
                Err(failure) => {
                    retry += 1;
                    outcome.retried = 1;
                    let delay = self.backoff.delay(retry);
                    self.observer
                        .retrying(signal, index, retry, delay, &failure);
                    self.clock.sleep(delay);
                }
            }
        }
    }
}

impl BundleVisitor for Sender<'_, '_> {
    fn begin_file(&mut self, entry: &FileEntry) -> io::Result<()> {
        self.current = None;
        if let Some(signal) = Signal::from_bundle_path(&entry.path)
            && self.signals.contains(&signal)
        {
            let records = entry.records.unwrap_or(0);
            self.counts.push((
                signal,
                SignalCounts {
                    records,
                    ..SignalCounts::default()
                },
            ));
            self.current = Some((signal, 0));
            self.observer.signal_started(signal, records);
        }
        Ok(())
    }

    fn record(&mut self, signal: Signal, record: &[u8]) -> io::Result<()> {
        let Some((current, index)) = self.current else {
            return Ok(());
        };
        if current != signal {
            return Ok(());
        }
        self.current = Some((current, index + 1));
        let outcome = self.send(signal, index, record);
        if let Some(counts) = self.counts_mut(signal) {
            counts.sent += outcome.sent;
            counts.retried += outcome.retried;
            counts.failed += outcome.failed;
        }
        Ok(())
    }
}

/// A [`RecordSink`] that decodes each record and sends it with an [`OtlpClient`] (gRPC or
/// HTTP/protobuf), blocking on its own single-threaded Tokio runtime.
///
/// For HTTP, `endpoint` is the base URL: records post to `<endpoint>/v1/<signal>`.
pub struct OtlpRecordSink {
    runtime: tokio::runtime::Runtime,
    clients: Vec<(Signal, OtlpClient)>,
}

impl fmt::Debug for OtlpRecordSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpRecordSink")
            .field(
                "endpoints",
                &self
                    .clients
                    .iter()
                    .map(|(s, c)| (s.as_str(), c.endpoint()))
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl OtlpRecordSink {
    /// A sink for `endpoint` over `protocol`, each send bounded by `timeout`. No connection
    /// is opened here.
    ///
    /// # Errors
    /// [`ReplayError::Endpoint`] when the endpoint is not a URL, [`ReplayError::Io`] when the
    /// runtime cannot start.
    pub fn new(endpoint: &str, protocol: Protocol, timeout: Duration) -> Result<Self, ReplayError> {
        Self::with_tls(endpoint, protocol, timeout, None)
    }

    /// As [`Self::new`], with `tls` (CA bundle, client certificate, server name) for an
    /// `https://` endpoint; without it an `https://` collector is verified against the
    /// `webpki-roots` CAs. Ignored for `http://`.
    ///
    /// # Errors
    /// As [`Self::new`], and [`ReplayError::Tls`] when a TLS file is unreadable or invalid.
    pub fn with_tls(
        endpoint: &str,
        protocol: Protocol,
        timeout: Duration,
        tls: Option<&crate::tls::ClientTlsConfig>,
    ) -> Result<Self, ReplayError> {
        let tls = tls
            .map(|config| crate::export::OtlpTls::build(config, protocol))
            .transpose()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| ReplayError::Io {
                context: "starting the OTLP client runtime".into(),
                source,
            })?;
        let mut clients = Vec::new();
        {
            let _entered = runtime.enter();
            let base = http_base(endpoint);
            for signal in Signal::ALL {
                let endpoint = match protocol {
                    Protocol::Grpc => endpoint.to_owned(),
                    Protocol::HttpProtobuf => format!("{base}/v1/{}", signal.as_str()),
                };
                let client = OtlpClient::with_tls(
                    &OtlpTarget { endpoint, protocol },
                    timeout,
                    tls.as_ref(),
                )?;
                clients.push((signal, client));
            }
        }
        Ok(Self { runtime, clients })
    }

    /// The URL records of `signal` are sent to.
    pub fn endpoint_for(&self, signal: Signal) -> Option<&str> {
        self.clients
            .iter()
            .find(|(s, _)| *s == signal)
            .map(|(_, c)| c.endpoint())
    }
}

/// The base of an OTLP/HTTP endpoint: trailing slashes and a signal path (`/v1/traces`,
/// `/v1/metrics`, `/v1/logs`) removed, so `http://h:4318` and `http://h:4318/v1/traces` both
/// post each signal to its own path.
///
/// ```
/// use stellaops_telemetry_core::replay::http_base;
/// assert_eq!(http_base("http://127.0.0.1:4318/"), "http://127.0.0.1:4318");
/// assert_eq!(http_base("http://127.0.0.1:4318/v1/logs"), "http://127.0.0.1:4318");
/// assert_eq!(http_base("http://gw/otlp/v1/traces/"), "http://gw/otlp");
/// ```
pub fn http_base(endpoint: &str) -> &str {
    let trimmed = endpoint.trim_end_matches('/');
    Signal::ALL
        .into_iter()
        .find_map(|s| trimmed.strip_suffix(&format!("/v1/{}", s.as_str())))
        .map_or(trimmed, |base| base.trim_end_matches('/'))
}

/// Decodes one framed record as its signal's export request.
///
/// # Errors
/// A permanent [`SendFailure`] naming the expected message type.
pub fn decode_record(signal: Signal, record: &[u8]) -> Result<ExportRequest, SendFailure> {
    let bad = |kind: &str, e: prost::DecodeError| {
        SendFailure::permanent(format!(
            "expected an {kind}, found bytes that do not decode: {e}"
        ))
    };
    match signal {
        Signal::Traces => ExportTraceServiceRequest::decode(record)
            .map(ExportRequest::Traces)
            .map_err(|e| bad("ExportTraceServiceRequest", e)),
        Signal::Metrics => ExportMetricsServiceRequest::decode(record)
            .map(ExportRequest::Metrics)
            .map_err(|e| bad("ExportMetricsServiceRequest", e)),
        Signal::Logs => ExportLogsServiceRequest::decode(record)
            .map(ExportRequest::Logs)
            .map_err(|e| bad("ExportLogsServiceRequest", e)),
    }
}

impl RecordSink for OtlpRecordSink {
    fn send(&mut self, signal: Signal, record: &[u8]) -> Result<(), SendFailure> {
        let request = decode_record(signal, record)?;
        let Some((_, client)) = self.clients.iter().find(|(s, _)| *s == signal) else {
            return Err(SendFailure::permanent(format!(
                "no OTLP client for signal {signal}"
            )));
        };
        self.runtime
            .block_on(client.send(&request))
            .map_err(SendFailure::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Backoff::default();
        assert_eq!(b.delay(1), Duration::from_millis(100));
        assert_eq!(b.delay(2), Duration::from_millis(200));
        assert_eq!(b.delay(6), Duration::from_millis(3200));
        assert_eq!(b.delay(7), Duration::from_secs(5));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(5));
        assert_eq!(b.delay(0), Duration::from_millis(100));
    }

    #[test]
    fn rate_rejects_what_is_not_a_plain_positive_decimal() {
        for bad in [
            "", " ", "0", "0.0", "-1", "+1", "1e3", "inf", "NaN", "0x10", "1.", ".5", "1,5",
            "1000001", "1 000",
        ] {
            let err = Rate::parse(bad).unwrap_err();
            assert_eq!(err.code(), "replay.invalid_rate");
            assert!(err.to_string().contains("records per second"), "{err}");
        }
        assert_eq!(Rate::parse(" 2.5 ").unwrap().per_second(), 2.5);
        assert_eq!(Rate::parse("1000000").unwrap().per_second(), MAX_RATE);
    }

    proptest! {
        #[test]
        fn rate_parse_never_panics(text in "\\PC{0,24}") {
            let _ = Rate::parse(&text);
        }

        #[test]
        fn rate_round_trips_decimal_numbers(whole in 0u32..1_000_000, frac in 0u32..1000) {
            let text = format!("{whole}.{frac:03}");
            let value = f64::from(whole) + f64::from(frac) / 1000.0;
            match Rate::parse(&text) {
                Ok(rate) => {
                    prop_assert!(value > 0.0 && value <= MAX_RATE);
                    prop_assert!((rate.per_second() - value).abs() < 1e-9);
                    prop_assert!(rate.interval() > Duration::ZERO);
                }
                Err(_) => prop_assert!(value == 0.0 || value > MAX_RATE),
            }
        }

        #[test]
        fn backoff_is_monotonic_and_bounded(initial_ms in 1u64..10_000, max_ms in 1u64..100_000, retry in 1u32..200) {
            let b = Backoff::new(Duration::from_millis(initial_ms), Duration::from_millis(max_ms), 10);
            prop_assert!(b.delay(retry) <= b.delay(retry + 1));
            prop_assert!(b.delay(retry) <= Duration::from_millis(max_ms.max(initial_ms)));
            prop_assert!(b.delay(retry) >= Duration::from_millis(initial_ms));
        }
    }
}
