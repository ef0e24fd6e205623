//! The hand-over of ended spans to the sampler: the state every clone of the layer shares,
//! the queue ended traces wait in, and the housekeeping thread that delivers it and lets the
//! sampler decide due traces.
//!
//! Not span recording (`layer`) and not the sampling rules (`crate::sampling`).

use super::ids::IdGenerator;
use super::local_trace::LocalTrace;
use super::record::SpanRecord;
use crate::export::ExportWorker;
use crate::incident::IncidentController;
use crate::sampling::hash::IdHashBuilder;
use crate::sampling::{Clock, TailSampler, Tick};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use stellaops_telemetry_model::sync::{get_mut, lock};

/// Ended spans queued for the housekeeping thread beyond which the emitting thread hands the
/// queue to the sampler itself (so memory stays bounded when housekeeping falls behind; the
/// thread was woken at [`WAKE_PENDING_SPANS`]).
const MAX_PENDING_SPANS: usize = 8_192;

/// What every clone of the layer shares: the sampler and export worker, the id generator,
/// the traces whose local root is still open, and the queue of ended ones.
pub(super) struct Inner {
    pub(super) sampler: Arc<TailSampler<SpanRecord>>,
    pub(super) sink: Arc<ExportWorker<SpanRecord>>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) ids: IdGenerator,
    pub(super) incidents: Option<IncidentController>,
    pub(super) next_key: AtomicU64,
    pub(super) open: Mutex<HashMap<u64, std::sync::Weak<LocalTrace>, IdHashBuilder>>,
    /// Ended traces (and late spans) waiting for the housekeeping thread.
    pub(super) pending: Mutex<Pending>,
    /// Whether a housekeeping thread delivers [`Self::pending`]; without one, ended traces go
    /// to the sampler at once on the thread that ended them.
    pub(super) deferred: AtomicBool,
    pub(super) housekeeping: Mutex<Option<(Sender<Housekeeping>, JoinHandle<()>)>>,
    /// Wakes the housekeeping thread to deliver the queue before its tick.
    pub(super) wake: Mutex<Option<Sender<Housekeeping>>>,
}

/// Messages to the housekeeping thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Housekeeping {
    /// Hand the queued traces to the sampler now (the queue reached [`WAKE_PENDING_SPANS`]).
    Deliver,
    Stop,
}

/// Queued spans that wake the housekeeping thread before its tick: a burst is handed to the
/// sampler while its records are still in cache, off the emitting thread.
const WAKE_PENDING_SPANS: usize = 1_024;

/// Ended spans handed over by the emitting threads, in the order they were handed over.
#[derive(Debug, Default)]
pub(super) struct Pending {
    batches: Vec<Vec<SpanRecord>>,
    spans: usize,
    /// The housekeeping thread was woken for this queue.
    woken: bool,
}

impl Pending {
    /// Empties the queue (for delivery).
    fn take(&mut self) -> Vec<Vec<SpanRecord>> {
        self.spans = 0;
        self.woken = false;
        std::mem::take(&mut self.batches)
    }
}

impl std::fmt::Debug for Inner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpanLayer")
            .field("sampler", &self.sampler)
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// Hands ended spans (usually a whole local trace) over for sampling. With a housekeeping
    /// thread they are queued (one short lock on the emitting thread; the sampler's
    /// bookkeeping runs in batches on that thread); without one, or when the queue is full,
    /// they go to the sampler now.
    pub(super) fn hand_over(&self, spans: Vec<SpanRecord>) {
        if spans.is_empty() {
            return;
        }
        if !self.deferred.load(Ordering::Acquire) {
            self.deliver(vec![spans]);
            return;
        }
        let mut pending = lock(&self.pending);
        pending.spans += spans.len();
        pending.batches.push(spans);
        if pending.spans < WAKE_PENDING_SPANS {
            return;
        }
        if !pending.woken {
            pending.woken = true;
            drop(pending);
            if let Some(wake) = &*lock(&self.wake) {
                let _ = wake.send(Housekeeping::Deliver);
            }
            return;
        }
        if pending.spans < MAX_PENDING_SPANS {
            return;
        }
        let batches = pending.take();
        drop(pending);
        self.deliver(batches);
    }

    /// Pushes `batches` into the sampler and what it decides to keep into the export worker.
    fn deliver(&self, batches: Vec<Vec<SpanRecord>>) {
        let mut out = Vec::new();
        for spans in batches {
            self.sampler.push_all(spans, &mut out);
        }
        if !out.is_empty() {
            self.sink.push_all(out);
        }
    }

    /// Delivers every queued hand-over to the sampler.
    pub(super) fn deliver_pending(&self) {
        let batches = lock(&self.pending).take();
        if !batches.is_empty() {
            self.deliver(batches);
        }
    }

    /// Moves every queued hand-over and every record still waiting beside an open local root
    /// into the sampler.
    fn drain_open(&self) {
        self.deliver_pending();
        let open: Vec<Arc<LocalTrace>> = lock(&self.open)
            .values()
            .filter_map(std::sync::Weak::upgrade)
            .collect();
        let batches: Vec<Vec<SpanRecord>> = open
            .iter()
            .map(|trace| std::mem::take(&mut trace.lock().spans))
            .filter(|spans| !spans.is_empty())
            .collect();
        self.deliver(batches);
    }

    pub(super) fn decide_all(&self) {
        self.drain_open();
        let mut out = Vec::new();
        self.sampler.decide_all(&mut out);
        if !out.is_empty() {
            self.sink.push_all(out);
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Only tells the thread to stop: the last handle may be dropped on that very thread.
        if let Some((stop, _thread)) = get_mut(&mut self.housekeeping).take() {
            let _ = stop.send(Housekeeping::Stop);
        }
    }
}

/// The housekeeping thread: every `every`, runs `tick`, delivers the queued hand-overs and
/// lets the sampler decide due traces; delivers early when woken. Returns when told to stop,
/// when every sender is gone, or when the layer is dropped.
pub(super) fn run(
    inner: &Weak<Inner>,
    rx: &Receiver<Housekeeping>,
    every: Duration,
    tick: Option<&Tick>,
) {
    let mut next_tick = Instant::now() + every;
    loop {
        let wait = next_tick.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Housekeeping::Deliver) => {
                let Some(inner) = inner.upgrade() else { return };
                inner.deliver_pending();
                continue;
            }
            Ok(Housekeeping::Stop) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        next_tick = Instant::now() + every;
        if let Some(tick) = tick {
            tick();
        }
        let Some(inner) = inner.upgrade() else { return };
        inner.deliver_pending();
        let mut out = Vec::new();
        inner.sampler.expire_due(&mut out);
        if !out.is_empty() {
            inner.sink.push_all(out);
        }
    }
}
