//! The per-signal export worker: a bounded queue the application pushes into without ever
//! blocking (a full queue drops and counts), a thread that batches, builds OTLP requests,
//! and delivers them to the destination the egress guard allows.
//!
//! Not the place where data is redacted or converted: the `build` function given at spawn
//! does that, so the application thread pays only for the push.

use super::destination::Destination;
use super::otlp::ExportRequest;
use prometheus_client::metrics::counter::Counter;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

enum Msg<T> {
    Item(T),
    Attach(tracing::Dispatch),
    Flush(SyncSender<()>),
    Shutdown(SyncSender<()>),
}

/// How a worker batches.
#[derive(Debug, Clone, Copy)]
pub struct BatchConfig {
    /// Items the queue holds before pushes are dropped.
    pub queue_capacity: usize,
    /// Items per export request at most.
    pub max_batch: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            queue_capacity: 8192,
            max_batch: 512,
        }
    }
}

/// Builds one export request from a batch; `tick` is true when the interval elapsed (metrics
/// take their snapshot then). Returns `None` when there is nothing to send.
pub type BuildFn<T> = Box<dyn FnMut(Vec<T>, bool) -> Option<ExportRequest> + Send>;

/// A queue and its export thread for one signal.
pub struct ExportWorker<T> {
    tx: SyncSender<Msg<T>>,
    dropped: Counter,
    interval_ms: Arc<AtomicU64>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl<T> std::fmt::Debug for ExportWorker<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportWorker")
            .field("interval_ms", &self.interval_ms)
            .finish_non_exhaustive()
    }
}

impl<T: Send + 'static> ExportWorker<T> {
    /// Starts the thread. `dropped` counts items refused because the queue was full.
    ///
    /// # Errors
    /// When the operating system refuses a thread.
    pub fn spawn(
        name: &str,
        config: BatchConfig,
        interval: Duration,
        dropped: Counter,
        build: BuildFn<T>,
        destination: Destination,
    ) -> std::io::Result<Self> {
        let (tx, rx) = sync_channel(config.queue_capacity.max(1));
        let interval_ms = Arc::new(AtomicU64::new(millis(interval)));
        let shared_interval = interval_ms.clone();
        let thread = std::thread::Builder::new()
            .name(format!("stellaops-export-{name}"))
            .spawn(move || {
                run(
                    &rx,
                    config.max_batch.max(1),
                    &shared_interval,
                    build,
                    destination,
                );
            })?;
        Ok(Self {
            tx,
            dropped,
            interval_ms,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues one item; never blocks. A full queue (collector slow or down) drops the item
    /// and counts it.
    pub fn push(&self, item: T) {
        match self.tx.try_send(Msg::Item(item)) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.dropped.inc();
            }
        }
    }

    /// Makes the worker thread log through `dispatch` (the service's own subscriber), then
    /// decides its route: the egress guard's warnings land in the service's logs.
    pub fn attach(&self, dispatch: tracing::Dispatch) {
        let _ = self.tx.try_send(Msg::Attach(dispatch));
    }

    /// Changes how often the worker exports (takes effect at the next wake-up).
    pub fn set_interval(&self, interval: Duration) {
        self.interval_ms.store(millis(interval), Ordering::Relaxed);
    }

    /// Exports everything queued so far; waits at most `timeout`. Returns whether it finished.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.request(timeout, Msg::Flush)
    }

    /// Exports what is queued and stops the thread; waits at most `timeout` (the thread is left
    /// to finish on its own after that). Returns whether it finished in time.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        let done = self.request(timeout, Msg::Shutdown);
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let (true, Some(thread)) = (done, thread) {
            let _ = thread.join();
        }
        done
    }

    fn request(&self, timeout: Duration, make: fn(SyncSender<()>) -> Msg<T>) -> bool {
        let (done_tx, done_rx) = sync_channel(1);
        let deadline = Instant::now() + timeout;
        let mut msg = make(done_tx);
        // Control messages wait for room (bounded by the deadline) rather than being dropped.
        loop {
            match self.tx.try_send(msg) {
                Ok(()) => break,
                Err(TrySendError::Disconnected(_)) => return false,
                Err(TrySendError::Full(back)) => {
                    if Instant::now() >= deadline {
                        return false;
                    }
                    msg = back;
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
        }
        done_rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn run<T>(
    rx: &Receiver<Msg<T>>,
    max_batch: usize,
    interval_ms: &AtomicU64,
    mut build: BuildFn<T>,
    mut destination: Destination,
) {
    let mut batch: Vec<T> = Vec::with_capacity(max_batch);
    let mut _logging: Option<tracing::dispatcher::DefaultGuard> = None;
    let mut next_tick = Instant::now() + Duration::from_millis(interval_ms.load(Ordering::Relaxed));
    let mut export = |batch: &mut Vec<T>, tick: bool, destination: &mut Destination| {
        let items = std::mem::replace(batch, Vec::with_capacity(max_batch));
        if let Some(request) = build(items, tick) {
            destination.deliver(&request);
        }
    };
    loop {
        let wait = next_tick.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(Msg::Item(item)) => {
                batch.push(item);
                if batch.len() >= max_batch {
                    export(&mut batch, false, &mut destination);
                }
            }
            Ok(Msg::Attach(dispatch)) => {
                _logging = Some(tracing::dispatcher::set_default(&dispatch));
                destination.start();
            }
            Ok(Msg::Flush(done)) => {
                export(&mut batch, true, &mut destination);
                destination.sync();
                let _ = done.send(());
            }
            Ok(Msg::Shutdown(done)) => {
                drain(rx, &mut batch);
                export(&mut batch, true, &mut destination);
                destination.sync();
                let _ = done.send(());
                return;
            }
            Err(RecvTimeoutError::Timeout) => {
                export(&mut batch, true, &mut destination);
                next_tick =
                    Instant::now() + Duration::from_millis(interval_ms.load(Ordering::Relaxed));
            }
            Err(RecvTimeoutError::Disconnected) => {
                export(&mut batch, true, &mut destination);
                destination.sync();
                return;
            }
        }
    }
}

fn drain<T>(rx: &Receiver<Msg<T>>, batch: &mut Vec<T>) {
    while let Ok(msg) = rx.try_recv() {
        match msg {
            Msg::Item(item) => batch.push(item),
            Msg::Attach(_) => {}
            Msg::Flush(done) | Msg::Shutdown(done) => {
                let _ = done.send(());
            }
        }
    }
}
