//! The log processor: turns the events the log layer captured into redacted JSON lines and
//! OTLP records, in batches, off the emitting threads (ADR 0009).
//!
//! On the emitting thread an event costs its capture (field values copied, span ids and tenant
//! looked up, one append under a short lock). Redaction, the JSON line and the OTLP record
//! are made here, in batches: on the processor's thread every [`PROCESS_INTERVAL`] (sooner
//! when [`WAKE_AT`] events wait), or at once on the emitting thread when the event is a
//! warning or an error (that thread first processes everything queued before it, so lines
//! keep their order and a warning or error is on stdout before the call returns), when the
//! queue holds [`MAX_QUEUED`] events (memory stays bounded, nothing is dropped), and when
//! no processor thread runs (before `start`, after `shutdown`). `flush` processes what is
//! queued; `shutdown` stops the thread after processing everything.
//!
//! Not where OTLP is exported: the processed records go to the logs export worker.

use super::capture::{self, RawEvent};
use super::outputs::Outputs;
use super::record::LogEntry;
use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::Duration;
use stellaops_telemetry_model::sync::{lock, wait_timeout};

/// How often the processor's thread processes what the emitting threads captured: the most
/// an info line waits before it is on stdout.
pub(crate) const PROCESS_INTERVAL: Duration = Duration::from_millis(100);
/// Queued events that wake the processor's thread before its interval.
pub(crate) const WAKE_AT: usize = 1024;
/// Queued events beyond which the emitting thread processes the queue itself.
pub(crate) const MAX_QUEUED: usize = 16_384;
/// A JSON-lines buffer larger than this (a batch of huge events) is not kept.
const MAX_KEPT_LINES: usize = 1 << 20;

thread_local! {
    /// This thread is processing a batch: events it emits meanwhile are only queued.
    static PROCESSING: Cell<bool> = const { Cell::new(false) };
}

#[derive(Default)]
struct Queue {
    events: Vec<RawEvent>,
    /// A processor thread runs (events may wait for it).
    running: bool,
    /// The thread sleeps until its interval (a push reaching [`WAKE_AT`] wakes it).
    waiting: bool,
    stop: bool,
}

/// What one processing pass reuses.
#[derive(Default)]
struct Work {
    batch: Vec<RawEvent>,
    lines: String,
}

struct Shared {
    outputs: Outputs,
    queue: Mutex<Queue>,
    wake: Condvar,
    /// Held while a batch is processed: batches are processed, and their lines written, in
    /// the order they were queued.
    work: Mutex<Work>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Shared {
    fn queue(&self) -> MutexGuard<'_, Queue> {
        lock(&self.queue)
    }
}

/// A handle on the log processor (see the module docs). Cheap to clone.
#[derive(Clone)]
pub(crate) struct LogProcessor {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for LogProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogProcessor").finish_non_exhaustive()
    }
}

/// Clears [`PROCESSING`] when a pass ends, even by a panic.
struct ProcessingGuard;

impl Drop for ProcessingGuard {
    fn drop(&mut self) {
        let _ = PROCESSING.try_with(|p| p.set(false));
    }
}

impl LogProcessor {
    pub(super) fn new(outputs: Outputs) -> Self {
        Self {
            shared: Arc::new(Shared {
                outputs,
                queue: Mutex::new(Queue::default()),
                wake: Condvar::new(),
                work: Mutex::new(Work::default()),
                thread: Mutex::new(None),
            }),
        }
    }

    /// Whether events become JSON lines (the capture then also copies the span's tenant).
    pub(super) fn json_lines(&self) -> bool {
        self.shared.outputs.stdout.is_some()
    }

    /// Queues a captured event; processes the queue now when `urgent` (a warning or an error),
    /// when the queue is full or when no processor thread runs.
    pub(super) fn submit(&self, event: RawEvent, urgent: bool) {
        let mut queue = self.shared.queue();
        queue.events.push(event);
        let queued = queue.events.len();
        let deferred = queue.running;
        let wake = queue.waiting && queued >= WAKE_AT;
        if wake {
            queue.waiting = false;
        }
        drop(queue);
        let now = !deferred || urgent || queued >= MAX_QUEUED;
        if now && !PROCESSING.try_with(Cell::get).unwrap_or(true) {
            self.process_pending();
        } else if wake {
            self.shared.wake.notify_one();
        }
    }

    /// Processes every queued event (JSON lines written, OTLP records handed to the logs
    /// export worker) before returning.
    pub(crate) fn process_pending(&self) {
        let shared = &*self.shared;
        let mut work = lock(&shared.work);
        let _ = PROCESSING.try_with(|p| p.set(true));
        let _guard = ProcessingGuard;
        let Work { batch, lines } = &mut *work;
        loop {
            std::mem::swap(&mut shared.queue().events, batch);
            if batch.is_empty() {
                break;
            }
            let mut entries: Vec<LogEntry> = Vec::with_capacity(batch.len());
            for event in batch.drain(..) {
                entries.push(shared.outputs.process(&event, lines));
                capture::recycle(event);
            }
            shared.outputs.write_lines(lines);
            lines.clear();
            if lines.capacity() > MAX_KEPT_LINES {
                *lines = String::new();
            }
            shared.outputs.export.push_all(entries);
        }
    }

    /// Starts the processor's thread (from then on, info and finer events wait for it).
    ///
    /// # Errors
    /// When the operating system refuses a thread.
    pub(crate) fn start(&self) -> std::io::Result<()> {
        let weak: Weak<Shared> = Arc::downgrade(&self.shared);
        let thread = std::thread::Builder::new()
            .name("stellaops-log-processor".to_owned())
            .spawn(move || {
                loop {
                    let Some(shared) = weak.upgrade() else { return };
                    let stop = {
                        let mut queue = shared.queue();
                        if !queue.stop && queue.events.len() < WAKE_AT {
                            queue.waiting = true;
                            queue = wait_timeout(&shared.wake, queue, PROCESS_INTERVAL).0;
                            queue.waiting = false;
                        }
                        queue.stop
                    };
                    LogProcessor { shared }.process_pending();
                    if stop {
                        return;
                    }
                }
            })?;
        self.shared.queue().running = true;
        *lock(&self.shared.thread) = Some(thread);
        Ok(())
    }

    /// Processes everything queued so far (the same as [`Self::process_pending`]).
    pub(crate) fn flush(&self) {
        self.process_pending();
    }

    /// Stops the processor's thread and processes everything queued; later events are
    /// processed as they happen.
    pub(crate) fn shutdown(&self) {
        {
            let mut queue = self.shared.queue();
            queue.stop = true;
            queue.running = false;
        }
        self.shared.wake.notify_one();
        let thread = lock(&self.shared.thread).take();
        if let Some(thread) = thread
            && thread.thread().id() != std::thread::current().id()
        {
            let _ = thread.join();
        }
        self.process_pending();
    }
}
