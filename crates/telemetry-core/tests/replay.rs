//! The `Replayer` contract with scripted sinks and a manual clock: order, retries with
//! exponential back-off, no duplicates of acknowledged records, permanent rejections, giving
//! up on an unreachable collector, rate pacing, signal selection, and refusing tampered or
//! unverified bundles before anything is sent.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;
use stellaops_bundle_format::{BundleOptions, BundleReader, BundleWriter, ManualClock, Signal};
use stellaops_dsse::{Ed25519Signer, TrustedKeys, Verifier};
use stellaops_telemetry_core::replay::{
    Backoff, Rate, RecordSink, ReplayObserver, Replayer, SendFailure,
};

struct Fixture {
    _dir: tempfile::TempDir,
    path: PathBuf,
    signer: Ed25519Signer,
}

fn record(signal: Signal, i: usize) -> Vec<u8> {
    format!("{signal}-{i:03}").into_bytes()
}

/// A signed bundle with `traces` trace records, `logs` log records and 2 metric records.
fn bundle(traces: usize, logs: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.tar.gz");
    let clock = ManualClock::new("2025-03-01T00:00:00Z".parse().unwrap());
    let mut writer =
        BundleWriter::create(&path, BundleOptions::new("acme", "forensic"), &clock).unwrap();
    for signal in stellaops_bundle_format::BUNDLE_ORDER {
        writer.include_signal(signal).unwrap();
    }
    for i in 0..logs {
        writer
            .write_record(Signal::Logs, &record(Signal::Logs, i))
            .unwrap();
    }
    for i in 0..2 {
        writer
            .write_record(Signal::Metrics, &record(Signal::Metrics, i))
            .unwrap();
    }
    for i in 0..traces {
        writer
            .write_record(Signal::Traces, &record(Signal::Traces, i))
            .unwrap();
    }
    let signer = Ed25519Signer::generate().unwrap();
    writer.finish(&[&signer]).unwrap();
    Fixture {
        _dir: dir,
        path,
        signer,
    }
}

fn reader(f: &Fixture) -> BundleReader {
    let trusted = TrustedKeys::new()
        .with(f.signer.public_key().verifier(f.signer.key_id()))
        .unwrap();
    BundleReader::new(Verifier::new(trusted))
}

/// Answers each send with the next scripted result (success once the script runs out) and
/// keeps what it acknowledged.
#[derive(Default)]
struct Scripted {
    script: VecDeque<Result<(), SendFailure>>,
    attempts: Vec<(Signal, Vec<u8>)>,
    acknowledged: Vec<(Signal, Vec<u8>)>,
}

impl Scripted {
    fn with(script: impl IntoIterator<Item = Result<(), SendFailure>>) -> Self {
        Self {
            script: script.into_iter().collect(),
            ..Self::default()
        }
    }
}

impl RecordSink for Scripted {
    fn send(&mut self, signal: Signal, record: &[u8]) -> Result<(), SendFailure> {
        self.attempts.push((signal, record.to_vec()));
        let result = self.script.pop_front().unwrap_or(Ok(()));
        if result.is_ok() {
            self.acknowledged.push((signal, record.to_vec()));
        }
        result
    }
}

fn unavailable() -> Result<(), SendFailure> {
    Err(SendFailure::transient(
        "status: Unavailable, connection refused",
    ))
}

fn expected_order(traces: usize, logs: usize) -> Vec<(Signal, Vec<u8>)> {
    let mut out: Vec<_> = (0..logs)
        .map(|i| (Signal::Logs, record(Signal::Logs, i)))
        .collect();
    out.extend((0..2).map(|i| (Signal::Metrics, record(Signal::Metrics, i))));
    out.extend((0..traces).map(|i| (Signal::Traces, record(Signal::Traces, i))));
    out
}

#[test]
fn every_record_is_sent_once_in_bundle_order() {
    let f = bundle(5, 3);
    let mut sink = Scripted::default();
    let clock = ManualClock::default();
    let report = Replayer::new(&mut sink, &clock)
        .replay_file(&reader(&f), &f.path)
        .unwrap();
    assert_eq!(sink.acknowledged, expected_order(5, 3));
    assert_eq!(sink.attempts.len(), 10);
    let traces = report.signal(Signal::Traces).unwrap();
    assert_eq!(
        (traces.records, traces.sent, traces.retried, traces.failed),
        (5, 5, 0, 0)
    );
    assert_eq!(report.sent(), 10);
    assert_eq!(report.failed(), 0);
    assert!(clock.sleeps().is_empty(), "no retries, no rate: no sleeps");
}

#[test]
fn an_outage_mid_replay_is_retried_with_exponential_backoff_and_no_duplicates() {
    let f = bundle(6, 0);
    // Metrics 0 and 1 and traces 0..2 go through; then the collector is down for four
    // attempts at trace 3; then everything is accepted.
    let mut script: Vec<Result<(), SendFailure>> = vec![Ok(()); 5];
    script.extend([unavailable(), unavailable(), unavailable(), unavailable()]);
    let mut sink = Scripted::with(script);
    let clock = ManualClock::default();
    let report = Replayer::new(&mut sink, &clock)
        .replay_file(&reader(&f), &f.path)
        .unwrap();
    assert_eq!(
        sink.acknowledged,
        expected_order(6, 0),
        "each record once, in order"
    );
    // Trace 3 was attempted five times; nothing acknowledged before it was sent again.
    let attempts_of_3 = sink
        .attempts
        .iter()
        .filter(|(_, r)| *r == record(Signal::Traces, 3))
        .count();
    assert_eq!(attempts_of_3, 5);
    assert_eq!(sink.attempts.len(), 8 + 4);
    assert_eq!(
        clock.sleeps(),
        [100, 200, 400, 800].map(Duration::from_millis)
    );
    let traces = report.signal(Signal::Traces).unwrap();
    assert_eq!((traces.sent, traces.retried, traces.failed), (6, 1, 0));
}

#[test]
fn a_permanent_rejection_fails_that_record_and_replay_goes_on() {
    let f = bundle(3, 0);
    let mut sink = Scripted::with([
        Ok(()),
        Ok(()),
        Ok(()),
        Err(SendFailure::permanent("InvalidArgument: bad span")),
    ]);
    let clock = ManualClock::default();
    let report = Replayer::new(&mut sink, &clock)
        .replay_file(&reader(&f), &f.path)
        .unwrap();
    let traces = report.signal(Signal::Traces).unwrap();
    assert_eq!((traces.sent, traces.retried, traces.failed), (2, 0, 1));
    assert_eq!(sink.attempts.len(), 5, "a rejected record is not retried");
    assert!(report.gave_up().is_none());
    assert!(clock.sleeps().is_empty());
}

#[test]
fn an_unreachable_collector_stops_sending_and_counts_the_rest_failed() {
    let f = bundle(4, 2);
    let mut sink = Scripted::with(std::iter::repeat_with(unavailable).take(1000));
    let clock = ManualClock::default();
    let report = Replayer::new(&mut sink, &clock)
        .backoff(Backoff::new(
            Duration::from_millis(10),
            Duration::from_millis(40),
            3,
        ))
        .replay_file(&reader(&f), &f.path)
        .unwrap();
    assert_eq!(
        sink.attempts.len(),
        4,
        "one record: first try and three retries"
    );
    assert_eq!(clock.sleeps(), [10, 20, 40].map(Duration::from_millis));
    assert!(report.gave_up().unwrap().contains("Unavailable"));
    assert_eq!(report.sent(), 0);
    assert_eq!(report.failed(), 8);
    let logs = report.signal(Signal::Logs).unwrap();
    assert_eq!((logs.records, logs.retried, logs.failed), (2, 1, 2));
}

#[test]
fn rate_paces_records_without_real_sleeps() {
    let f = bundle(4, 0);
    let mut sink = Scripted::default();
    let clock = ManualClock::default();
    Replayer::new(&mut sink, &clock)
        .rate(Some(Rate::parse("4").unwrap()))
        .signals(&[Signal::Traces])
        .replay_file(&reader(&f), &f.path)
        .unwrap();
    // Four records at 4/s: the first goes at once, then one every 250 ms.
    assert_eq!(clock.sleeps(), [Duration::from_millis(250); 3]);
    assert_eq!(sink.acknowledged.len(), 4);
}

#[test]
fn only_selected_signals_are_sent_and_counted() {
    let f = bundle(2, 3);
    let mut sink = Scripted::default();
    let clock = ManualClock::default();
    let report = Replayer::new(&mut sink, &clock)
        .signals(&[Signal::Logs])
        .replay_file(&reader(&f), &f.path)
        .unwrap();
    assert!(sink.acknowledged.iter().all(|(s, _)| *s == Signal::Logs));
    assert_eq!(sink.acknowledged.len(), 3);
    assert_eq!(report.counts().len(), 1);
    assert!(report.signal(Signal::Traces).is_none());
}

#[derive(Default)]
struct Log(Vec<String>);
impl ReplayObserver for Log {
    fn signal_started(&mut self, signal: Signal, records: u64) {
        self.0.push(format!("start {signal} {records}"));
    }
    fn record_sent(&mut self, signal: Signal, index: u64) {
        self.0.push(format!("sent {signal} {index}"));
    }
    fn retrying(
        &mut self,
        signal: Signal,
        index: u64,
        retry: u32,
        delay: Duration,
        _: &SendFailure,
    ) {
        self.0.push(format!(
            "retry {signal} {index} #{retry} {}ms",
            delay.as_millis()
        ));
    }
}

#[test]
fn the_observer_hears_every_step() {
    let f = bundle(1, 0);
    let mut sink = Scripted::with([Ok(()), Ok(()), unavailable()]);
    let clock = ManualClock::default();
    let mut log = Log::default();
    Replayer::new(&mut sink, &clock)
        .observer(&mut log)
        .replay_file(&reader(&f), &f.path)
        .unwrap();
    assert_eq!(
        log.0,
        [
            "start logs 0",
            "start metrics 2",
            "sent metrics 0",
            "sent metrics 1",
            "start traces 1",
            "retry traces 0 #1 100ms",
            "sent traces 0",
        ]
    );
}

/// Rewrites the bundle with one byte of trace record 1 changed and the original manifest,
/// wrapped again in a well-formed container (so only the per-file digest differs).
fn tamper(path: &Path) {
    let mut tar_bytes = stellaops_telemetry_testkit::gzip_bundle_tar(path).unwrap();
    let needle = b"traces-001";
    let at = tar_bytes
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    tar_bytes[at] = b'T';
    let container = stellaops_telemetry_testkit::gzip_bundle_container(&tar_bytes).unwrap();
    std::fs::write(path, container).unwrap();
}

#[test]
fn a_tampered_bundle_is_refused_before_anything_is_sent() {
    let f = bundle(3, 0);
    tamper(&f.path);
    let mut sink = Scripted::default();
    let clock = ManualClock::default();
    let err = Replayer::new(&mut sink, &clock)
        .replay_file(&reader(&f), &f.path)
        .unwrap_err();
    assert!(sink.attempts.is_empty(), "nothing may be sent: {err}");
    assert_eq!(err.code(), "bundle.digest_mismatch", "{err}");
    assert!(
        err.to_string()
            .starts_with("bundle refused, nothing sent: otlp/traces.pb: expected sha256"),
        "{err}"
    );
}

#[test]
fn an_unverified_bundle_is_refused_unless_explicitly_allowed() {
    let f = bundle(2, 0);
    let mut sink = Scripted::default();
    let clock = ManualClock::default();
    let unchecked = BundleReader::dangerous_skip_signature();
    let err = Replayer::new(&mut sink, &clock)
        .replay_file(&unchecked, &f.path)
        .unwrap_err();
    assert_eq!(err.code(), "replay.unverified");
    assert!(sink.attempts.is_empty());

    let report = Replayer::new(&mut sink, &clock)
        .dangerous_allow_unverified()
        .replay_file(&unchecked, &f.path)
        .unwrap();
    assert_eq!(report.sent(), 4);
}

#[test]
fn a_bundle_signed_by_a_stranger_is_refused() {
    let f = bundle(2, 0);
    let stranger = Ed25519Signer::generate().unwrap();
    let trusted = TrustedKeys::new()
        .with(stranger.public_key().verifier(stranger.key_id()))
        .unwrap();
    let mut sink = Scripted::default();
    let clock = ManualClock::default();
    let err = Replayer::new(&mut sink, &clock)
        .replay_file(&BundleReader::new(Verifier::new(trusted)), &f.path)
        .unwrap_err();
    assert_eq!(err.code(), "bundle.signature");
    assert!(sink.attempts.is_empty());
}
