//! The per-signal export worker: a bounded queue the application pushes into without ever
//! blocking (a full queue drops and counts), a thread that batches, builds OTLP requests,
//! and delivers them to the destination the egress guard allows.
//!
//! A push only appends under a short lock; the thread is woken when a full batch is waiting
//! (or for a flush, a shutdown, or its interval), never once per item: a wake-up costs a
//! system call and a context switch, which at thousands of log lines a second would cost more
//! than the telemetry itself.
//!
//! Not the place where data is redacted or converted: the `build` function given at spawn
//! does that, so the application thread pays only for the push.

use super::destination::Destination;
use super::otlp::ExportRequest;
use prometheus_client::metrics::counter::Counter;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use stellaops_telemetry_model::sync::{lock, wait_timeout};

enum Control {
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

struct State<T> {
    items: Vec<T>,
    control: Vec<Control>,
    /// The thread has stopped: pushes and requests are refused.
    closed: bool,
    /// The thread is waiting for a full batch (pushes below it need not wake it).
    waiting: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    wake: Condvar,
    capacity: usize,
    max_batch: usize,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        lock(&self.state)
    }
}

/// A queue and its export thread for one signal.
pub struct ExportWorker<T> {
    shared: Arc<Shared<T>>,
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
        let max_batch = config.max_batch.max(1);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                items: Vec::with_capacity(max_batch),
                control: Vec::new(),
                closed: false,
                waiting: false,
            }),
            wake: Condvar::new(),
            capacity: config.queue_capacity.max(1),
            max_batch,
        });
        let interval_ms = Arc::new(AtomicU64::new(millis(interval)));
        let shared_interval = interval_ms.clone();
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name(format!("stellaops-export-{name}"))
            .spawn(move || {
                run(&thread_shared, &shared_interval, build, destination);
            })?;
        Ok(Self {
            shared,
            dropped,
            interval_ms,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Queues one item; never blocks for longer than an append under a lock. A full queue
    /// (collector slow or down) drops the item and counts it.
    pub fn push(&self, item: T) {
        self.push_all(std::iter::once(item));
    }

    /// Queues several items at once (one lock); what does not fit is dropped and counted. The
    /// thread is woken only when this makes a full batch wait.
    pub fn push_all(&self, items: impl IntoIterator<Item = T>) {
        let mut refused = 0_u64;
        let mut state = self.shared.lock();
        for item in items {
            if state.closed || state.items.len() >= self.shared.capacity {
                refused += 1;
            } else {
                state.items.push(item);
            }
        }
        let wake = state.waiting && state.items.len() >= self.shared.max_batch;
        if wake {
            state.waiting = false;
        }
        drop(state);
        if wake {
            self.shared.wake.notify_one();
        }
        if refused > 0 {
            self.dropped.inc_by(refused);
        }
    }

    /// Makes the worker thread log through `dispatch` (the service's own subscriber), then
    /// decides its route: the egress guard's warnings land in the service's logs.
    pub fn attach(&self, dispatch: tracing::Dispatch) {
        self.control(Control::Attach(dispatch));
    }

    /// Changes how often the worker exports (takes effect at the next wake-up).
    pub fn set_interval(&self, interval: Duration) {
        self.interval_ms.store(millis(interval), Ordering::Relaxed);
    }

    /// Exports everything queued so far; waits at most `timeout`. Returns whether it finished.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.request(timeout, Control::Flush)
    }

    /// Exports what is queued and stops the thread; waits at most `timeout` (the thread is left
    /// to finish on its own after that). Returns whether it finished in time.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        let done = self.request(timeout, Control::Shutdown);
        let thread = lock(&self.thread).take();
        if let (true, Some(thread)) = (done, thread) {
            let _ = thread.join();
        }
        done
    }

    fn control(&self, message: Control) -> bool {
        let mut state = self.shared.lock();
        if state.closed {
            return false;
        }
        state.control.push(message);
        state.waiting = false;
        drop(state);
        self.shared.wake.notify_one();
        true
    }

    fn request(&self, timeout: Duration, make: fn(SyncSender<()>) -> Control) -> bool {
        let (done_tx, done_rx) = sync_channel(1);
        if !self.control(make(done_tx)) {
            return false;
        }
        done_rx.recv_timeout(timeout).is_ok()
    }
}

impl<T> Drop for ExportWorker<T> {
    fn drop(&mut self) {
        // The thread exports what is left and stops (like a closed channel did).
        let mut state = self.shared.lock();
        if !state.closed {
            state.control.push(Control::Shutdown(sync_channel(1).0));
            state.waiting = false;
        }
        drop(state);
        self.shared.wake.notify_one();
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

thread_local! {
    static EXPORT_THREAD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether the calling thread is an export worker. The level filter lets only warnings and
/// errors through there: at debug level the transport's own chatter (h2, hyper, tonic) would
/// otherwise become log records, exported by the same thread, which logs again.
pub(crate) fn on_export_thread() -> bool {
    EXPORT_THREAD.with(std::cell::Cell::get)
}

fn run<T>(
    shared: &Shared<T>,
    interval_ms: &AtomicU64,
    mut build: BuildFn<T>,
    mut destination: Destination,
) {
    EXPORT_THREAD.with(|flag| flag.set(true));
    let max_batch = shared.max_batch;
    let mut _logging: Option<tracing::dispatcher::DefaultGuard> = None;
    let mut next_tick = Instant::now() + Duration::from_millis(interval_ms.load(Ordering::Relaxed));
    let mut export = |mut items: Vec<T>, tick: bool, destination: &mut Destination| {
        // Requests hold at most `max_batch` items; the last carries the tick.
        while items.len() > max_batch {
            let rest = items.split_off(max_batch);
            if let Some(request) = build(items, false) {
                destination.deliver(&request);
            }
            items = rest;
        }
        if let Some(request) = build(items, tick) {
            destination.deliver(&request);
        }
    };
    loop {
        let (items, control, tick) = {
            let mut state = shared.lock();
            loop {
                let now = Instant::now();
                if !state.control.is_empty() || state.items.len() >= max_batch || now >= next_tick {
                    break;
                }
                state.waiting = true;
                state = wait_timeout(&shared.wake, state, next_tick - now).0;
            }
            state.waiting = false;
            let tick = Instant::now() >= next_tick;
            let items = if tick || !state.control.is_empty() || state.items.len() >= max_batch {
                std::mem::replace(&mut state.items, Vec::with_capacity(max_batch))
            } else {
                Vec::new()
            };
            let control = std::mem::take(&mut state.control);
            if control.iter().any(|c| matches!(c, Control::Shutdown(_))) {
                state.closed = true;
            }
            (items, control, tick)
        };
        if tick {
            next_tick = Instant::now() + Duration::from_millis(interval_ms.load(Ordering::Relaxed));
        }
        let mut pending = Some(items);
        for message in control {
            match message {
                Control::Attach(dispatch) => {
                    _logging = Some(tracing::dispatcher::set_default(&dispatch));
                    destination.start();
                }
                Control::Flush(done) => {
                    export(pending.take().unwrap_or_default(), true, &mut destination);
                    destination.sync();
                    let _ = done.send(());
                }
                Control::Shutdown(done) => {
                    export(pending.take().unwrap_or_default(), true, &mut destination);
                    destination.sync();
                    let _ = done.send(());
                    return;
                }
            }
        }
        if let Some(items) = pending
            && (tick || !items.is_empty())
        {
            export(items, tick, &mut destination);
        }
    }
}
