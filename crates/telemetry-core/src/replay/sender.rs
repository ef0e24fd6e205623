//! Sending: the bundle visitor that sends each record as it streams out, paced by the rate
//! limit and retried with back-off on transient failures, counting the outcome per signal.
//! Not the bundle reading and verification (`replayer`).

use super::observer::ReplayObserver;
use super::pacing::Backoff;
use super::report::SignalCounts;
use super::sink::RecordSink;
use std::io;
use std::time::Duration;
use stellaops_bundle_format::BundleSignal;
use stellaops_bundle_format::{BundleVisitor, FileEntry, Signal};
use stellaops_telemetry_model::clock::Sleep;

/// The visitor that sends records as they stream out of the bundle.
pub(super) struct Sender<'a, 'o> {
    pub(super) sink: &'a mut dyn RecordSink,
    pub(super) clock: &'a dyn Sleep,
    pub(super) observer: &'o mut dyn ReplayObserver,
    pub(super) backoff: Backoff,
    pub(super) interval: Option<Duration>,
    pub(super) next_due: Option<Duration>,
    pub(super) signals: Vec<Signal>,
    pub(super) counts: Vec<(Signal, SignalCounts)>,
    /// The signal being streamed and the index of its next record.
    pub(super) current: Option<(Signal, u64)>,
    pub(super) gave_up: Option<String>,
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
        let now = Duration::from_nanos(self.clock.now_nanos());
        if let Some(due) = self.next_due
            && due > now
        {
            // At most one interval: a wall clock stepped backwards must not stall the replay.
            self.clock.sleep((due - now).min(interval));
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
