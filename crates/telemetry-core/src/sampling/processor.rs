//! The OpenTelemetry span processor in front of the export worker: feeds ended spans to the
//! [`TailSampler`], hands kept spans to a [`SpanSink`], and runs a housekeeping thread that
//! decides traces whose grace period or maximum wait has passed.
//!
//! Not the exporter: the sink (the trace export worker in `init`) batches and sends.

use super::engine::TailSampler;
use crate::export::ExportWorker;
use opentelemetry::trace::{Span as _, TraceContextExt as _};
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use stellaops_telemetry_model::sync::lock;

/// How long `force_flush` waits for the sink.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Default housekeeping period of [`TailSamplingProcessor::with_housekeeping`].
pub const DEFAULT_HOUSEKEEPING: Duration = Duration::from_millis(200);

/// Where kept spans go.
pub trait SpanSink: Send + Sync + std::fmt::Debug {
    /// Takes kept spans (never blocks for long).
    fn export(&self, spans: Vec<SpanData>);
    /// Exports everything taken so far; returns whether it finished within `timeout`.
    fn flush(&self, timeout: Duration) -> bool;
    /// Flushes and stops; returns whether it finished within `timeout`.
    fn shutdown(&self, timeout: Duration) -> bool;
}

impl SpanSink for ExportWorker<SpanData> {
    fn export(&self, spans: Vec<SpanData>) {
        for span in spans {
            self.push(span);
        }
    }

    fn flush(&self, timeout: Duration) -> bool {
        ExportWorker::flush(self, timeout)
    }

    fn shutdown(&self, timeout: Duration) -> bool {
        ExportWorker::shutdown(self, timeout)
    }
}

/// A sink that keeps spans in memory (tests, examples, benches).
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Default)]
pub struct InMemorySpanSink {
    spans: Mutex<Vec<SpanData>>,
}

#[cfg(any(test, feature = "testing"))]
impl InMemorySpanSink {
    /// Everything exported so far, removed from the sink.
    pub fn take(&self) -> Vec<SpanData> {
        std::mem::take(&mut *lock(&self.spans))
    }

    /// How many spans are held.
    pub fn len(&self) -> usize {
        lock(&self.spans).len()
    }

    /// Whether no span is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(any(test, feature = "testing"))]
impl SpanSink for InMemorySpanSink {
    fn export(&self, spans: Vec<SpanData>) {
        lock(&self.spans).extend(spans);
    }

    fn flush(&self, _timeout: Duration) -> bool {
        true
    }

    fn shutdown(&self, _timeout: Duration) -> bool {
        true
    }
}

struct Housekeeping {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

/// Tail sampling as an OpenTelemetry [`SpanProcessor`].
///
/// ```
/// use opentelemetry::trace::{Tracer as _, TracerProvider as _};
/// use stellaops_telemetry_core::sampling::{
///     InMemorySpanSink, ManualClock, SamplingConfig, TailSampler, TailSamplingProcessor,
/// };
/// use std::sync::Arc;
///
/// let clock = Arc::new(ManualClock::at_unix_nanos(0));
/// let sampler = TailSampler::new(SamplingConfig { ratio: 1.0, ..Default::default() }, clock).unwrap();
/// let sink = Arc::new(InMemorySpanSink::default());
/// let processor = TailSamplingProcessor::new(Arc::new(sampler), sink.clone());
/// let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
///     .with_span_processor(processor)
///     .build();
/// provider.tracer("doc").in_span("work", |_| {});
/// provider.force_flush().unwrap();
/// assert_eq!(sink.len(), 1);
/// ```
pub struct TailSamplingProcessor {
    sampler: Arc<TailSampler<SpanData>>,
    sink: Arc<dyn SpanSink>,
    enricher: Option<Arc<dyn SpanEnricher>>,
    on_tick: Option<Tick>,
    housekeeping: Mutex<Option<Housekeeping>>,
}

/// Extra work for each housekeeping tick (init expires incidents there).
pub type Tick = Arc<dyn Fn() + Send + Sync>;

/// Adds attributes to an ended span before the sampler sees it (init passes the incident
/// controller, which tags the spans of tenants in forensic mode: see
/// `IncidentController`'s implementation).
pub trait SpanEnricher: Send + Sync + std::fmt::Debug {
    /// Adds what it knows to `span`.
    fn enrich(&self, span: &mut SpanData);
}

impl std::fmt::Debug for TailSamplingProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TailSamplingProcessor")
            .field("sampler", &self.sampler)
            .field("sink", &self.sink)
            .finish_non_exhaustive()
    }
}

impl TailSamplingProcessor {
    /// A processor deciding with `sampler` and exporting kept spans to `sink`. Without
    /// [`Self::with_housekeeping`], traces are decided only by [`Self::expire_due`], by
    /// bounds, and on flush or shutdown.
    pub fn new(sampler: Arc<TailSampler<SpanData>>, sink: Arc<dyn SpanSink>) -> Self {
        Self {
            sampler,
            sink,
            enricher: None,
            on_tick: None,
            housekeeping: Mutex::new(None),
        }
    }

    /// Passes every ended span through `enricher` first.
    #[must_use]
    pub fn with_enricher(mut self, enricher: Arc<dyn SpanEnricher>) -> Self {
        self.enricher = Some(enricher);
        self
    }

    /// Also runs `tick` on every housekeeping tick (set before [`Self::with_housekeeping`]).
    #[must_use]
    pub fn on_tick(mut self, tick: Tick) -> Self {
        self.on_tick = Some(tick);
        self
    }

    /// Starts a thread that calls [`Self::expire_due`] every `every`.
    ///
    /// # Errors
    /// When the operating system refuses a thread.
    pub fn with_housekeeping(self, every: Duration) -> std::io::Result<Self> {
        let (stop, rx) = channel::<()>();
        let sampler = self.sampler.clone();
        let sink = self.sink.clone();
        let tick = self.on_tick.clone();
        let thread = std::thread::Builder::new()
            .name("stellaops-tail-sampler".to_owned())
            .spawn(move || {
                // Ends on the stop message or when the processor is gone.
                while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                    if let Some(tick) = &tick {
                        tick();
                    }
                    let mut out = Vec::new();
                    sampler.expire_due(&mut out);
                    if !out.is_empty() {
                        sink.export(out);
                    }
                }
            })?;
        *lock(&self.housekeeping) = Some(Housekeeping { stop, thread });
        Ok(self)
    }

    /// The engine.
    pub fn sampler(&self) -> &Arc<TailSampler<SpanData>> {
        &self.sampler
    }

    /// Decides the traces that are due now and exports the kept ones; returns how many
    /// spans were exported.
    pub fn expire_due(&self) -> usize {
        let mut out = Vec::new();
        self.sampler.expire_due(&mut out);
        let n = out.len();
        if n > 0 {
            self.sink.export(out);
        }
        n
    }

    fn decide_all(&self) {
        let mut out = Vec::new();
        self.sampler.decide_all(&mut out);
        if !out.is_empty() {
            self.sink.export(out);
        }
    }

    fn stop_housekeeping(&self) {
        let hk = lock(&self.housekeeping).take();
        if let Some(hk) = hk {
            let _ = hk.stop.send(());
            let _ = hk.thread.join();
        }
    }
}

impl SpanProcessor for TailSamplingProcessor {
    fn on_start(&self, span: &mut opentelemetry_sdk::trace::Span, cx: &opentelemetry::Context) {
        if !cx.has_active_span() {
            return;
        }
        let parent = cx.span().span_context().clone();
        if parent.is_valid() && parent.is_remote() {
            let trace_id = span.span_context().trace_id().to_bytes();
            let mut out = Vec::new();
            self.sampler
                .note_upstream(trace_id, parent.is_sampled(), &mut out);
            if !out.is_empty() {
                self.sink.export(out);
            }
        }
    }

    fn on_end(&self, mut span: SpanData) {
        if let Some(enricher) = &self.enricher {
            enricher.enrich(&mut span);
        }
        let mut out = Vec::new();
        self.sampler.push(span, &mut out);
        if !out.is_empty() {
            self.sink.export(out);
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.decide_all();
        if self.sink.flush(FLUSH_TIMEOUT) {
            Ok(())
        } else {
            Err(OTelSdkError::Timeout(FLUSH_TIMEOUT))
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.stop_housekeeping();
        self.decide_all();
        if self.sink.shutdown(timeout) {
            Ok(())
        } else {
            Err(OTelSdkError::Timeout(timeout))
        }
    }
}

impl Drop for TailSamplingProcessor {
    fn drop(&mut self) {
        self.stop_housekeeping();
    }
}
