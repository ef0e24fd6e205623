//! The `tracing` layer itself ([`SpanLayer`]): opens a record for each new span, records its
//! fields and `WARN`/`ERROR` events, and when the span closes buffers it beside its local root
//! or hands the local trace over to the sampler.
//!
//! Not the hand-over queue or the housekeeping thread (`housekeeping`), not field mapping
//! (`visit`).

use super::context::RemoteParent;
use super::housekeeping::{self, Housekeeping, Inner, Pending};
use super::ids::IdGenerator;
use super::local_trace::{LOCAL_TRACE_BATCH, LeanSpan, LocalState, LocalTrace, TRACE_SPARE};
use super::record::{SpanEventRecord, SpanRecord, SpanStatus};
use super::visit::{EventVisitor, RecordVisitor};
use crate::attribute::AttrValue;
use crate::export::ExportWorker;
use crate::incident::IncidentController;
use crate::sampling::hash::IdHashBuilder;
use crate::sampling::{Clock, SampledSpan, TailSampler, Tick};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use smallvec::SmallVec;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::channel;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use stellaops_telemetry_model::sync::lock;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The lean span layer (see the module docs). Cheap to clone; clones share everything.
#[derive(Debug, Clone)]
pub struct SpanLayer {
    inner: Arc<Inner>,
}

impl SpanLayer {
    /// A layer recording into `sampler` and exporting kept records to `sink`; span times come
    /// from `clock` (the sampler's), ids from `ids`.
    pub fn new(
        sampler: Arc<TailSampler<SpanRecord>>,
        sink: Arc<ExportWorker<SpanRecord>>,
        clock: Arc<dyn Clock>,
        ids: IdGenerator,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                sampler,
                sink,
                clock,
                ids,
                incidents: None,
                next_key: AtomicU64::new(0),
                open: Mutex::new(HashMap::with_hasher(IdHashBuilder::default())),
                pending: Mutex::new(Pending::default()),
                wake: Mutex::new(None),
                deferred: AtomicBool::new(false),
                housekeeping: Mutex::new(None),
            }),
        }
    }

    /// Tags the spans of tenants in forensic mode with the incident attributes when they end
    /// (see [`IncidentController::incident_attributes`]). Call before the layer is shared.
    #[must_use]
    pub fn with_incidents(mut self, incidents: IncidentController) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.incidents = Some(incidents);
        }
        self
    }

    /// Starts a thread that, every `every`, runs `tick`, hands the traces ended since the last
    /// round to the sampler (from then on, ending a trace only queues it) and decides due
    /// traces.
    ///
    /// # Errors
    /// When the operating system refuses a thread.
    pub fn start_housekeeping(&self, every: Duration, tick: Option<Tick>) -> std::io::Result<()> {
        let (stop, rx) = channel::<Housekeeping>();
        let inner = Arc::downgrade(&self.inner);
        let thread = std::thread::Builder::new()
            .name("stellaops-tail-sampler".to_owned())
            .spawn(move || housekeeping::run(&inner, &rx, every, tick.as_ref()))?;
        *lock(&self.inner.wake) = Some(stop.clone());
        *lock(&self.inner.housekeeping) = Some((stop, thread));
        self.inner.deferred.store(true, Ordering::Release);
        Ok(())
    }

    /// Hands every ended trace still queued for the housekeeping thread to the sampler now
    /// (so its statistics count them).
    pub fn deliver_pending(&self) {
        self.inner.deliver_pending();
    }

    /// The tail sampler.
    pub fn sampler(&self) -> &Arc<TailSampler<SpanRecord>> {
        &self.inner.sampler
    }

    /// Decides every trace now (including spans waiting beside open roots) and exports the
    /// kept spans; returns whether the export finished within `timeout`.
    pub fn flush(&self, timeout: Duration) -> bool {
        self.inner.decide_all();
        self.inner.sink.flush(timeout)
    }

    /// Stops housekeeping, decides every trace, and stops the export worker.
    pub fn shutdown(&self, timeout: Duration) -> bool {
        let hk = lock(&self.inner.housekeeping).take();
        if let Some((stop, thread)) = hk {
            let _ = stop.send(Housekeeping::Stop);
            let _ = thread.join();
        }
        // Spans ending from now on go straight to the sampler (nothing delivers a queue).
        self.inner.deferred.store(false, Ordering::Release);
        *lock(&self.inner.wake) = None;
        self.inner.decide_all();
        self.inner.sink.shutdown(timeout)
    }

    /// Makes `parent` (a caller's span from a propagated `traceparent`) the remote parent of
    /// the span `id`: the span continues the caller's trace. Only for a span that has no
    /// local parent and no children yet.
    pub(crate) fn attach_remote_parent<S>(&self, registry: &S, id: &Id, parent: RemoteParent)
    where
        S: for<'a> LookupSpan<'a>,
    {
        let Some(span) = registry.span(id) else {
            return;
        };
        let mut ext = span.extensions_mut();
        let Some(lean) = ext.get_mut::<LeanSpan>() else {
            return;
        };
        if lean.record.parent_span_id != [0; 8] && !lean.record.parent_remote {
            return;
        }
        lean.record.trace_id = parent.trace_id;
        lean.record.parent_span_id = parent.span_id;
        lean.record.parent_remote = true;
        lean.record.flags = parent.flags;
        lean.record.trace_state = parent.trace_state;
        let mut out = Vec::new();
        self.inner
            .sampler
            .note_upstream(parent.trace_id, parent.flags & 1 == 1, &mut out);
        if !out.is_empty() {
            self.inner.sink.push_all(out);
        }
    }
}

impl<S> tracing_subscriber::Layer<S> for SpanLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let inner = &*self.inner;
        // The nearest enclosing span this layer recorded: usually the parent itself (one
        // lookup), else further up.
        let recorded = |p: &tracing_subscriber::registry::SpanRef<'_, S>| {
            p.extensions().get::<LeanSpan>().map(|l| {
                (
                    l.record.trace_id,
                    l.record.span_id,
                    l.record.flags,
                    l.trace.clone(),
                )
            })
        };
        let parent = span
            .parent()
            .and_then(|p| recorded(&p).or_else(|| p.scope().skip(1).find_map(|q| recorded(&q))));
        let (trace_id, parent_span_id, flags, trace) = match parent {
            Some((trace_id, span_id, flags, trace)) => (trace_id, span_id, flags, trace),
            None => {
                let key = inner.next_key.fetch_add(1, Ordering::Relaxed);
                let trace = Arc::new(LocalTrace {
                    key,
                    state: Mutex::new(LocalState::default()),
                });
                lock(&inner.open).insert(key, Arc::downgrade(&trace));
                (inner.ids.trace_id(), [0; 8], 0, trace)
            }
        };
        let mut record = SpanRecord {
            trace_id,
            span_id: inner.ids.span_id(),
            parent_span_id,
            parent_remote: false,
            flags,
            trace_state: None,
            metadata: attrs.metadata(),
            name_override: None,
            kind: SpanKind::Internal,
            start_nanos: inner.clock.now_nanos(),
            end_nanos: 0,
            attributes: SmallVec::new(),
            text: SmallVec::new(),
            tenant: None,
            audit: None,
            status: SpanStatus::Unset,
            events: Vec::new(),
            forensic: false,
        };
        attrs.record(&mut RecordVisitor(&mut record));
        span.extensions_mut().insert(LeanSpan { record, trace });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(lean) = span.extensions_mut().get_mut::<LeanSpan>()
        {
            values.record(&mut RecordVisitor(&mut lean.record));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let level = *event.metadata().level();
        if level > Level::WARN {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut ext = span.extensions_mut();
        let Some(lean) = ext.get_mut::<LeanSpan>() else {
            return;
        };
        let mut visitor = EventVisitor::default();
        event.record(&mut visitor);
        visitor
            .attributes
            .push(("level", AttrValue::Str(level.as_str().to_owned())));
        visitor.attributes.push((
            "target",
            AttrValue::Str(event.metadata().target().to_owned()),
        ));
        lean.record.events.push(SpanEventRecord {
            name: visitor.message.unwrap_or_default(),
            time_nanos: self.inner.clock.now_nanos(),
            attributes: visitor.attributes,
        });
        if level == Level::ERROR && lean.record.status == SpanStatus::Unset {
            lean.record.status = SpanStatus::Error(String::new());
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(LeanSpan { mut record, trace }) = span.extensions_mut().remove::<LeanSpan>()
        else {
            return;
        };
        let inner = &*self.inner;
        record.end_nanos = inner.clock.now_nanos();
        if let Some(incidents) = &inner.incidents
            && incidents.any_active()
            && let Some(extra) = record
                .tenant()
                .and_then(|t| incidents.incident_attributes(t))
        {
            // Kept by the sampler even if the incident ends before the trace reaches it.
            record.forensic = true;
            for (key, value) in extra {
                record.set(key, value);
            }
        }
        if record.is_local_root() {
            let mut state = trace.lock();
            state.handed_over = true;
            let mut spans = std::mem::take(&mut state.spans);
            drop(state);
            lock(&inner.open).remove(&trace.key);
            spans.push(record);
            inner.hand_over(spans);
            return;
        }
        let mut state = trace.lock();
        if state.handed_over {
            drop(state);
            inner.hand_over(vec![record]);
            return;
        }
        if state.spans.capacity() == 0 {
            match TRACE_SPARE.take() {
                Some(spare) => state.spans = spare,
                None => state.spans.reserve(8),
            }
        }
        state.spans.push(record);
        if state.spans.len() >= LOCAL_TRACE_BATCH {
            let spans = std::mem::take(&mut state.spans);
            drop(state);
            inner.hand_over(spans);
        }
    }
}
