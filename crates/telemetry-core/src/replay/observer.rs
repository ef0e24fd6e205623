//! Progress hooks of a replay ([`ReplayObserver`]), for progress bars and logs. Not the
//! final counts (`report`).

use super::sink::SendFailure;
use std::time::Duration;
use stellaops_bundle_format::{Signal, VerifiedBundle};

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

/// The observer of a replay nobody watches.
pub(super) struct Silent;
impl ReplayObserver for Silent {}
