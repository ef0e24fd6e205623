//! The tail sampling engine: buffers each trace's spans, decides when the local root ends
//! (after a grace period for stragglers, bounded by a maximum wait), and remembers recent
//! decisions so late spans follow them. Hard bounds on traces and spans in flight: when a
//! bound is reached the oldest trace is decided early instead of growing.
//!
//! Not an OpenTelemetry processor (see [`super::TailSamplingProcessor`]) and not a timer:
//! [`TailSampler::expire_due`] is called by the processor's housekeeping thread or by tests.

use super::clock::{Clock, duration_nanos};
use super::config::{SamplingConfig, SamplingConfigError, UpstreamPolicy};
use super::decision::{
    DECISIONS, Decision, DropReason, EARLY_CAUSES, EarlyCause, KeepReason, SamplerStats,
};
use super::hash::IdHashBuilder;
use super::ratio::TraceIdRatio;
use crate::metrics::MetricCatalogue;
use opentelemetry::Value;
use opentelemetry::trace::Status;
use opentelemetry_sdk::trace::SpanData;
use prometheus_client::metrics::counter::Counter;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use stellaops_telemetry_model::sync::lock;

/// The span attribute that names a span's tenant.
pub const TENANT_ATTRIBUTE: &str = "tenant";
/// The span attribute that marks an audit span (`audit=true` keeps its trace).
pub const AUDIT_ATTRIBUTE: &str = "audit";

/// What the engine needs to know about a span. Implemented for the SDK's [`SpanData`]; tests
/// and benches may implement it for smaller types.
pub trait SampledSpan: Send + 'static {
    /// The 16-byte trace id.
    fn trace_id(&self) -> [u8; 16];
    /// Whether this span is the local root of its trace (no parent, or a remote parent):
    /// its end starts the grace period.
    fn is_local_root(&self) -> bool;
    /// Whether the span's status is error.
    fn is_error(&self) -> bool;
    /// Start time, nanoseconds since the Unix epoch.
    fn start_nanos(&self) -> u64;
    /// End time, nanoseconds since the Unix epoch.
    fn end_nanos(&self) -> u64;
    /// The span's `tenant` attribute, if any.
    fn tenant(&self) -> Option<&str>;
    /// Whether the span has `audit=true`.
    fn is_audit(&self) -> bool;
    /// Whether the span's tenant was in forensic mode when the span ended, as recorded then
    /// (a span may reach the engine a little later, after the incident ended; it is still
    /// kept). Spans that do not record it answer `false` and are asked about when pushed.
    fn forensic_when_ended(&self) -> bool {
        false
    }
    /// Takes back a trace's emptied span buffer when the engine is done with it (the lean span
    /// layer reuses it for the next trace instead of allocating one). Drops it by default.
    fn recycle(buffer: Vec<Self>)
    where
        Self: Sized,
    {
        drop(buffer);
    }
}

impl SampledSpan for SpanData {
    fn trace_id(&self) -> [u8; 16] {
        self.span_context.trace_id().to_bytes()
    }

    fn is_local_root(&self) -> bool {
        self.parent_span_id == opentelemetry::trace::SpanId::INVALID || self.parent_span_is_remote
    }

    fn is_error(&self) -> bool {
        matches!(self.status, Status::Error { .. })
    }

    fn start_nanos(&self) -> u64 {
        super::clock::unix_nanos(self.start_time)
    }

    fn end_nanos(&self) -> u64 {
        super::clock::unix_nanos(self.end_time)
    }

    fn tenant(&self) -> Option<&str> {
        self.attributes.iter().find_map(|kv| {
            if kv.key.as_str() != TENANT_ATTRIBUTE {
                return None;
            }
            match &kv.value {
                Value::String(s) => Some(s.as_str()),
                _ => None,
            }
        })
    }

    fn is_audit(&self) -> bool {
        self.attributes.iter().any(|kv| {
            kv.key.as_str() == AUDIT_ATTRIBUTE
                && match &kv.value {
                    Value::Bool(b) => *b,
                    Value::String(s) => s.as_str() == "true",
                    _ => false,
                }
        })
    }
}

/// Answers whether a tenant is in forensic (incident) mode; the
/// [`IncidentController`](crate::incident::IncidentController) implements it.
pub trait ForensicTenants: Send + Sync + std::fmt::Debug {
    /// Whether `tenant`'s traces are kept 100%.
    fn is_forensic(&self, tenant: &str) -> bool;

    /// Whether any tenant may be in forensic mode now (a cheap check first: when false, no
    /// span's tenant is looked at).
    fn any_forensic(&self) -> bool {
        true
    }
}

/// Catalogue counters, created once so the hot path skips the label lookup.
#[derive(Debug, Clone)]
struct SamplerMetrics {
    traces: Vec<Counter>,
    spans: Vec<Counter>,
    early: Vec<Counter>,
}

impl SamplerMetrics {
    fn new(catalogue: &MetricCatalogue) -> Self {
        Self {
            traces: DECISIONS
                .iter()
                .map(|d| catalogue.sampler_traces(d.decision_label(), d.reason_label()))
                .collect(),
            spans: DECISIONS
                .iter()
                .map(|d| catalogue.sampler_spans(d.decision_label(), d.reason_label()))
                .collect(),
            early: EARLY_CAUSES
                .iter()
                .map(|c| catalogue.sampler_early_decisions(c.label()))
                .collect(),
        }
    }
}

struct TraceBuf<S> {
    seq: u64,
    first_seen: u64,
    root_ended_at: Option<u64>,
    start: u64,
    end: u64,
    error: bool,
    audit: bool,
    forensic: bool,
    upstream: Option<bool>,
    spans: Vec<S>,
}

#[derive(Debug, Clone, Copy)]
struct Cached {
    decision: Decision,
    trace_start: u64,
}

struct State<S> {
    traces: HashMap<[u8; 16], TraceBuf<S>, IdHashBuilder>,
    order: BTreeMap<u64, [u8; 16]>,
    next_seq: u64,
    spans: usize,
    cache: HashMap<[u8; 16], Cached, IdHashBuilder>,
    cache_order: VecDeque<[u8; 16]>,
    stats: SamplerStats,
}

/// The tail sampling engine, generic over the span type.
///
/// Guarantee (see `docs/sampling.md`): every span with error status that reaches
/// [`TailSampler::push`] is handed back for export, whatever the load and the bounds: a
/// buffered error span makes its trace's decision keep, and an error span arriving after
/// its trace was dropped (decided early, or a straggler after the grace period) is kept and
/// flips the remembered decision to keep, so the rest of that trace's late spans are kept
/// too. Spans of that trace discarded before the error arrived stay discarded.
///
/// ```
/// use stellaops_telemetry_core::sampling::{ManualClock, SampledSpan, SamplingConfig, TailSampler};
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// struct S { trace: u8, error: bool }
/// impl SampledSpan for S {
///     fn trace_id(&self) -> [u8; 16] { [self.trace; 16] }
///     fn is_local_root(&self) -> bool { true }
///     fn is_error(&self) -> bool { self.error }
///     fn start_nanos(&self) -> u64 { 0 }
///     fn end_nanos(&self) -> u64 { 1 }
///     fn tenant(&self) -> Option<&str> { None }
///     fn is_audit(&self) -> bool { false }
/// }
///
/// let clock = Arc::new(ManualClock::at_unix_nanos(0));
/// let config = SamplingConfig { ratio: 0.0, ..SamplingConfig::default() };
/// let sampler = TailSampler::new(config, clock.clone()).unwrap();
/// let mut out = Vec::new();
/// sampler.push(S { trace: 1, error: true }, &mut out);
/// sampler.push(S { trace: 2, error: false }, &mut out);
/// clock.advance(Duration::from_millis(100));
/// sampler.expire_due(&mut out);
/// assert_eq!(out.len(), 1); // the error trace; ratio 0 drops the other
/// assert!(out[0].error);
/// ```
pub struct TailSampler<S> {
    config: SamplingConfig,
    ratio: TraceIdRatio,
    slow: u64,
    grace: u64,
    max_wait: u64,
    clock: Arc<dyn Clock>,
    forensic: Option<Arc<dyn ForensicTenants>>,
    metrics: Option<SamplerMetrics>,
    state: Mutex<State<S>>,
}

impl<S> std::fmt::Debug for TailSampler<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TailSampler")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<S: SampledSpan> TailSampler<S> {
    /// A sampler with `config`, reading time from `clock`.
    ///
    /// # Errors
    /// [`SamplingConfigError`] when `config` is unusable.
    pub fn new(config: SamplingConfig, clock: Arc<dyn Clock>) -> Result<Self, SamplingConfigError> {
        config.validate()?;
        Ok(Self {
            ratio: TraceIdRatio::new(config.ratio),
            slow: duration_nanos(config.slow_threshold),
            grace: duration_nanos(config.grace_period),
            max_wait: duration_nanos(config.max_wait),
            clock,
            forensic: None,
            metrics: None,
            state: Mutex::new(State {
                traces: HashMap::with_capacity_and_hasher(
                    config.max_traces.min(4096),
                    IdHashBuilder::default(),
                ),
                order: BTreeMap::new(),
                next_seq: 0,
                spans: 0,
                cache: HashMap::with_capacity_and_hasher(
                    config.decision_cache.min(4096),
                    IdHashBuilder::default(),
                ),
                cache_order: VecDeque::with_capacity(config.decision_cache.min(4096)),
                stats: SamplerStats::default(),
            }),
            config,
        })
    }

    /// Keeps 100% of the traces of tenants `forensic` names.
    #[must_use]
    pub fn with_forensic(mut self, forensic: Arc<dyn ForensicTenants>) -> Self {
        self.forensic = Some(forensic);
        self
    }

    /// Counts decisions into the catalogue's `telemetry_sampler_*` metrics.
    #[must_use]
    pub fn with_metrics(mut self, catalogue: &MetricCatalogue) -> Self {
        self.metrics = Some(SamplerMetrics::new(catalogue));
        self
    }

    /// The settings.
    pub fn config(&self) -> &SamplingConfig {
        &self.config
    }

    /// The clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<S>> {
        lock(&self.state)
    }

    fn is_forensic(&self, tenant: &str) -> bool {
        self.forensic
            .as_ref()
            .is_some_and(|f| f.is_forensic(tenant))
    }

    /// Whether `span`'s tenant is in forensic mode (no tenant lookup when none can be).
    fn span_forensic(&self, span: &S) -> bool {
        span.forensic_when_ended()
            || self.forensic.as_ref().is_some_and(|f| {
                f.any_forensic() && span.tenant().is_some_and(|t| f.is_forensic(t))
            })
    }

    /// Records the sampled flag of a trace's remote parent (called when a span with a
    /// remote parent starts). Ignored for a trace already decided.
    pub fn note_upstream(&self, trace_id: [u8; 16], sampled: bool, out: &mut Vec<S>) {
        if self.config.upstream == UpstreamPolicy::Ignore {
            return;
        }
        let now = self.clock.now_nanos();
        let mut st = self.lock();
        if st.cache.contains_key(&trace_id) {
            return;
        }
        if !st.traces.contains_key(&trace_id) {
            while st.traces.len() >= self.config.max_traces {
                self.evict_oldest(&mut st, EarlyCause::TracesFull, out);
            }
            self.open_trace(&mut st, trace_id, now, 0);
        }
        if let Some(t) = st.traces.get_mut(&trace_id) {
            t.upstream = Some(sampled);
        }
    }

    fn open_trace(&self, st: &mut State<S>, key: [u8; 16], now: u64, capacity: usize) {
        let seq = st.next_seq;
        st.next_seq += 1;
        st.order.insert(seq, key);
        st.traces.insert(
            key,
            TraceBuf {
                seq,
                first_seen: now,
                root_ended_at: None,
                start: u64::MAX,
                end: 0,
                error: false,
                audit: false,
                forensic: false,
                upstream: None,
                spans: Vec::with_capacity(capacity),
            },
        );
    }

    /// Takes one ended span. Spans to export now (late spans of kept traces, traces decided
    /// early to make room) are appended to `out`; the rest wait for [`Self::expire_due`].
    pub fn push(&self, span: S, out: &mut Vec<S>) {
        let now = self.clock.now_nanos();
        let span_forensic = self.span_forensic(&span);
        let mut st = self.lock();
        self.push_locked(&mut st, span, span_forensic, now, 1, out);
    }

    /// Takes several ended spans under one lock (the lean span layer hands over a whole
    /// trace when its local root ends); the same as pushing them one by one.
    pub fn push_all(&self, spans: Vec<S>, out: &mut Vec<S>) {
        let now = self.clock.now_nanos();
        let mut st = self.lock();
        let spans = match self.adopt(&mut st, spans, now) {
            Ok(()) => return,
            Err(spans) => spans,
        };
        // A batch is usually one trace: make room for all of it at once.
        let capacity = spans.len();
        if let Some(first) = spans.first()
            && let Some(t) = st.traces.get_mut(&first.trace_id())
        {
            t.spans.reserve(capacity);
        }
        for span in spans {
            // Asked under the lock, as `decide` does (the incident controller never calls
            // back into the sampler).
            let span_forensic = self.span_forensic(&span);
            self.push_locked(&mut st, span, span_forensic, now, capacity, out);
        }
    }

    /// The common hand-over: every span of a trace the sampler has not seen, with room for
    /// all of them. The trace is opened with `spans` as its buffer (no copy); the same result
    /// as pushing them one by one. Otherwise `spans` come back unchanged.
    fn adopt(&self, st: &mut State<S>, spans: Vec<S>, now: u64) -> Result<(), Vec<S>> {
        let Some(key) = spans.first().map(SampledSpan::trace_id) else {
            return Ok(());
        };
        let fits = st.traces.len() < self.config.max_traces
            && st.spans.saturating_add(spans.len()) <= self.config.max_spans;
        if !fits
            || st.traces.contains_key(&key)
            || st.cache.contains_key(&key)
            || spans.iter().any(|s| s.trace_id() != key)
        {
            return Err(spans);
        }
        self.open_trace(st, key, now, 0);
        let State {
            traces,
            spans: count,
            ..
        } = st;
        if let Some(t) = traces.get_mut(&key) {
            for span in &spans {
                let forensic = self.span_forensic(span);
                Self::absorb(t, span, forensic, now);
            }
            *count += spans.len();
            t.spans = spans;
        }
        Ok(())
    }

    /// Folds one span's times and flags into its trace's buffer (not the span itself).
    fn absorb(t: &mut TraceBuf<S>, span: &S, forensic: bool, now: u64) {
        t.start = t.start.min(span.start_nanos());
        t.end = t.end.max(span.end_nanos());
        t.error |= span.is_error();
        t.audit |= span.is_audit();
        t.forensic |= forensic;
        if span.is_local_root() {
            t.root_ended_at = Some(now);
        }
    }

    fn push_locked(
        &self,
        st: &mut State<S>,
        span: S,
        span_forensic: bool,
        now: u64,
        capacity: usize,
        out: &mut Vec<S>,
    ) {
        let key = span.trace_id();
        loop {
            if st.cache.contains_key(&key) {
                self.late(st, key, span, span_forensic, out);
                return;
            }
            let open = st.traces.contains_key(&key);
            if !open && st.traces.len() >= self.config.max_traces {
                self.evict_oldest(st, EarlyCause::TracesFull, out);
                continue;
            }
            if st.spans >= self.config.max_spans {
                self.evict_oldest(st, EarlyCause::SpansFull, out);
                continue;
            }
            if !open {
                self.open_trace(st, key, now, capacity);
            }
            break;
        }
        let State { traces, spans, .. } = st;
        if let Some(t) = traces.get_mut(&key) {
            Self::absorb(t, &span, span_forensic, now);
            t.spans.push(span);
            *spans += 1;
        }
    }

    /// A span of a trace already decided.
    fn late(&self, st: &mut State<S>, key: [u8; 16], span: S, forensic: bool, out: &mut Vec<S>) {
        let Some(cached) = st.cache.get_mut(&key) else {
            return;
        };
        let decision = match cached.decision {
            keep @ Decision::Keep(_) => keep,
            Decision::Drop(_) => {
                let flip = if span.is_error() {
                    Some(KeepReason::Error)
                } else if span.end_nanos().saturating_sub(cached.trace_start) >= self.slow {
                    Some(KeepReason::Slow)
                } else if forensic {
                    Some(KeepReason::Forensic)
                } else if span.is_audit() {
                    Some(KeepReason::Audit)
                } else {
                    None
                };
                match flip {
                    Some(reason) => {
                        let keep = Decision::Keep(reason);
                        cached.decision = keep;
                        st.stats.flipped_to_keep += 1;
                        self.count_trace(&mut st.stats, keep);
                        keep
                    }
                    None => cached.decision,
                }
            }
        };
        self.count_spans(&mut st.stats, decision, 1);
        if decision.is_keep() {
            out.push(span);
        }
    }

    /// Decides every trace whose local root ended at least the grace period ago, and (early,
    /// cause `max_wait`) every trace buffered for `max_wait`. Kept spans go to `out`.
    pub fn expire_due(&self, out: &mut Vec<S>) {
        let now = self.clock.now_nanos();
        let mut st = self.lock();
        let mut due: Vec<(u64, [u8; 16], bool)> = Vec::new();
        for (key, t) in &st.traces {
            let rooted = t
                .root_ended_at
                .is_some_and(|r| now >= r.saturating_add(self.grace));
            let waited = now >= t.first_seen.saturating_add(self.max_wait);
            if rooted || waited {
                due.push((t.seq, *key, !rooted));
            }
        }
        due.sort_unstable();
        for (_, key, early) in due {
            if let Some(t) = st.traces.remove(&key) {
                if early {
                    self.count_early(&mut st.stats, EarlyCause::MaxWait);
                }
                self.finish(&mut st, key, t, out);
            }
        }
    }

    /// Decides every buffered trace now (flush and shutdown), by the same rules.
    pub fn decide_all(&self, out: &mut Vec<S>) {
        let mut st = self.lock();
        let keys: Vec<[u8; 16]> = st.order.values().copied().collect();
        for key in keys {
            if let Some(t) = st.traces.remove(&key) {
                self.finish(&mut st, key, t, out);
            }
        }
    }

    fn evict_oldest(&self, st: &mut State<S>, cause: EarlyCause, out: &mut Vec<S>) {
        let Some((_, key)) = st.order.first_key_value().map(|(s, k)| (*s, *k)) else {
            return;
        };
        match st.traces.remove(&key) {
            Some(t) => {
                self.count_early(&mut st.stats, cause);
                self.finish(st, key, t, out);
            }
            None => {
                st.order.pop_first();
            }
        }
    }

    fn decide(&self, key: &[u8; 16], t: &TraceBuf<S>) -> Decision {
        if t.error {
            return Decision::Keep(KeepReason::Error);
        }
        if !t.spans.is_empty() && t.end.saturating_sub(t.start) >= self.slow {
            return Decision::Keep(KeepReason::Slow);
        }
        if t.forensic
            || (self.forensic.as_ref().is_some_and(|f| f.any_forensic())
                && t.spans
                    .iter()
                    .filter_map(SampledSpan::tenant)
                    .any(|tenant| self.is_forensic(tenant)))
        {
            return Decision::Keep(KeepReason::Forensic);
        }
        if t.audit {
            return Decision::Keep(KeepReason::Audit);
        }
        match (self.config.upstream, t.upstream) {
            (UpstreamPolicy::KeepSampled | UpstreamPolicy::Follow, Some(true)) => {
                return Decision::Keep(KeepReason::Upstream);
            }
            (UpstreamPolicy::Follow, Some(false)) => return Decision::Drop(DropReason::Upstream),
            _ => {}
        }
        if self.ratio.keeps(key) {
            Decision::Keep(KeepReason::Ratio)
        } else {
            Decision::Drop(DropReason::Ratio)
        }
    }

    /// Decides a trace already removed from `traces`, exports or discards its spans and
    /// remembers the decision.
    fn finish(&self, st: &mut State<S>, key: [u8; 16], t: TraceBuf<S>, out: &mut Vec<S>) {
        let decision = self.decide(&key, &t);
        st.order.remove(&t.seq);
        st.spans = st.spans.saturating_sub(t.spans.len());
        self.count_trace(&mut st.stats, decision);
        self.count_spans(&mut st.stats, decision, t.spans.len() as u64);
        let mut spans = t.spans;
        if decision.is_keep() {
            out.append(&mut spans);
        } else {
            spans.clear();
        }
        S::recycle(spans);
        let trace_start = if t.start == u64::MAX {
            t.first_seen
        } else {
            t.start
        };
        if st
            .cache
            .insert(
                key,
                Cached {
                    decision,
                    trace_start,
                },
            )
            .is_none()
        {
            st.cache_order.push_back(key);
            while st.cache_order.len() > self.config.decision_cache {
                if let Some(old) = st.cache_order.pop_front() {
                    st.cache.remove(&old);
                }
            }
        }
    }

    fn count_trace(&self, stats: &mut SamplerStats, d: Decision) {
        if let Some(c) = stats.traces.get_mut(d.index()) {
            *c += 1;
        }
        if let Some(m) = self.metrics.as_ref().and_then(|m| m.traces.get(d.index())) {
            m.inc();
        }
    }

    fn count_spans(&self, stats: &mut SamplerStats, d: Decision, n: u64) {
        if n == 0 {
            return;
        }
        if let Some(c) = stats.spans.get_mut(d.index()) {
            *c += n;
        }
        if let Some(m) = self.metrics.as_ref().and_then(|m| m.spans.get(d.index())) {
            m.inc_by(n);
        }
    }

    fn count_early(&self, stats: &mut SamplerStats, cause: EarlyCause) {
        if let Some(c) = stats.early.get_mut(cause.index()) {
            *c += 1;
        }
        if let Some(m) = self
            .metrics
            .as_ref()
            .and_then(|m| m.early.get(cause.index()))
        {
            m.inc();
        }
    }

    /// Counters and current occupancy.
    pub fn stats(&self) -> SamplerStats {
        let st = self.lock();
        let mut stats = st.stats.clone();
        stats.in_flight_traces = st.traces.len();
        stats.buffered_spans = st.spans;
        stats.cached_decisions = st.cache.len();
        stats
    }

    /// The remembered decision for a trace, if any.
    pub fn decision_of(&self, trace_id: &[u8; 16]) -> Option<Decision> {
        self.lock().cache.get(trace_id).map(|c| c.decision)
    }
}
