//! The lean span path: a `tracing` layer that records each span as a compact [`SpanRecord`]
//! (ids, name, times, typed attributes, status) and buffers the records of a trace beside its
//! local root. When the local root ends, the whole trace goes to the [`TailSampler`] in one
//! call; only the traces it keeps are turned into OTLP spans, on the export thread.
//!
//! Why not `tracing-opentelemetry` + the SDK: that path materialises full OpenTelemetry span
//! data (builder, attribute vectors, an SDK span, a `SpanData` copy) for every span, and most
//! spans belong to traces the tail sampler drops (90% by default). Measured in
//! `benches/workload.rs`, that materialisation alone cost more than the whole telemetry budget.
//! See ADR 0008.
//!
//! What a span carries (the conventions of `tracing-opentelemetry`, so instrumentation does
//! not change): fields become attributes with their types (`i64`, `u64` (as `i64` when it
//! fits, otherwise text), `f64`, `bool`, text); `otel.name` renames the span, `otel.kind` sets
//! its kind, `otel.status_code` (`ok`/`error`) and `otel.status_description` (an error with that
//! message) set its status; the callsite's target and code location become `target`,
//! `code.file.path`, `code.module.name` and `code.line.number`. A `WARN` or `ERROR` event
//! inside a span becomes a span event (message as name, fields as attributes), and an
//! `ERROR` event sets an unset status to error. `INFO` and finer events are not copied onto
//! spans: they are log records, correlated by trace and span id.
//!
//! Not an exporter and not the sampling rules: records go to the [`TailSampler`], kept ones to
//! the trace export worker, whose build function (`build_trace_records`) encodes them straight
//! to OTLP protobuf (`span_layer::encode`).

pub(crate) mod encode;

use crate::export::ExportWorker;
use crate::incident::IncidentController;
use crate::recycle::{Recycler, Stash};
use crate::sampling::hash::IdHashBuilder;
use crate::sampling::{Clock, SampledSpan, TailSampler, Tick};
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::span::{Event as ProtoEvent, SpanKind};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{Span as ProtoSpan, Status as ProtoStatus};
use smallvec::SmallVec;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Spans of one trace buffered beside its open local root before they go to the sampler in
/// one batch (a long-running root with many children hands them over in batches of this size,
/// so memory stays bounded).
pub const LOCAL_TRACE_BATCH: usize = 64;

/// Ended spans queued for the housekeeping thread beyond which the emitting thread hands the
/// queue to the sampler itself (so memory stays bounded when housekeeping falls behind; the
/// thread was woken at [`WAKE_PENDING_SPANS`]).
const MAX_PENDING_SPANS: usize = 8_192;

/// A typed attribute value, as `tracing` recorded it.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// Text.
    Str(String),
    /// A signed integer (unsigned ones that fit are stored here too).
    I64(i64),
    /// A floating-point number.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

impl AttrValue {
    fn into_proto(self) -> AnyValue {
        let value = match self {
            AttrValue::Str(s) => any_value::Value::StringValue(s),
            AttrValue::I64(i) => any_value::Value::IntValue(i),
            AttrValue::F64(f) => any_value::Value::DoubleValue(f),
            AttrValue::Bool(b) => any_value::Value::BoolValue(b),
        };
        AnyValue { value: Some(value) }
    }
}

/// An attribute value as stored in a record: numbers inline, text as a range of the
/// record's one text buffer (one allocation for all of a span's text, not one per value).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Text { start: u32, len: u32 },
    I64(i64),
    F64(f64),
    Bool(bool),
}

/// A borrowed attribute value of a [`SpanRecord`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttrRef<'a> {
    /// Text.
    Str(&'a str),
    /// A signed integer.
    I64(i64),
    /// A floating-point number.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

/// A span's status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SpanStatus {
    /// Not set.
    #[default]
    Unset,
    /// Explicitly successful.
    Ok,
    /// Failed, with a description (may be empty).
    Error(String),
}

/// A `WARN`/`ERROR` event recorded on a span.
#[derive(Debug, Clone, PartialEq)]
pub struct SpanEventRecord {
    /// The event's message.
    pub name: String,
    /// When it happened, nanoseconds since the Unix epoch.
    pub time_nanos: u64,
    /// Its fields, plus `level` and `target`.
    pub attributes: Vec<(&'static str, AttrValue)>,
}

/// One span, compactly: what the tail sampler needs and what OTLP export needs, nothing else.
#[derive(Debug, Clone)]
pub struct SpanRecord {
    /// The trace id.
    pub trace_id: [u8; 16],
    /// The span id.
    pub span_id: [u8; 8],
    /// The parent's span id (zero for a root).
    pub parent_span_id: [u8; 8],
    /// Whether the parent is in another process (a propagated `traceparent`).
    pub parent_remote: bool,
    /// W3C trace flags (bit 0: sampled upstream).
    pub flags: u8,
    /// The propagated `tracestate` header, if any.
    pub trace_state: Option<String>,
    /// The callsite (name, target, code location).
    pub metadata: &'static Metadata<'static>,
    /// `otel.name`, when set.
    pub name_override: Option<String>,
    /// The OTLP span kind.
    pub kind: SpanKind,
    /// Start, nanoseconds since the Unix epoch.
    pub start_nanos: u64,
    /// End, nanoseconds since the Unix epoch (0 while open).
    pub end_nanos: u64,
    /// Attributes in the order recorded (a re-recorded key replaces its value); inline up to
    /// [`INLINE_ATTRIBUTES`].
    attributes: SmallVec<[(&'static str, Slot); INLINE_ATTRIBUTES]>,
    /// The text of every text attribute, back to back (UTF-8); inline up to [`INLINE_TEXT`]
    /// bytes.
    text: SmallVec<[u8; INLINE_TEXT]>,
    /// Where the `tenant` attribute is (looked up on every hand-over and log line).
    tenant: Option<Slot>,
    /// Where the `audit` attribute is (looked up on every hand-over).
    audit: Option<Slot>,
    /// The status.
    pub status: SpanStatus,
    /// `WARN`/`ERROR` events inside the span.
    pub events: Vec<SpanEventRecord>,
    /// The span's tenant was in forensic mode when the span ended.
    forensic: bool,
}

/// Attributes a [`SpanRecord`] holds without a heap allocation (most spans have fewer).
const INLINE_ATTRIBUTES: usize = 4;
/// Bytes of attribute text a [`SpanRecord`] holds without a heap allocation.
const INLINE_TEXT: usize = 48;

/// Appends formatted text to a record's text buffer.
struct TextWriter<'a>(&'a mut SmallVec<[u8; INLINE_TEXT]>);

impl std::fmt::Write for TextWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

impl SpanRecord {
    /// The span's name (`otel.name` or the callsite's).
    pub fn name(&self) -> &str {
        self.name_override
            .as_deref()
            .unwrap_or_else(|| self.metadata.name())
    }

    /// An attribute's value.
    pub fn attribute(&self, key: &str) -> Option<AttrRef<'_>> {
        self.attributes
            .iter()
            .find_map(|(k, v)| (*k == key).then(|| self.view(*v)))
    }

    /// Every attribute, in the order recorded.
    pub fn attributes(&self) -> impl Iterator<Item = (&'static str, AttrRef<'_>)> + '_ {
        self.attributes.iter().map(|(k, v)| (*k, self.view(*v)))
    }

    fn text_of(&self, start: u32, len: u32) -> &str {
        let start = start as usize;
        // Ranges are whole `&str`s appended back to back, so always UTF-8.
        self.text
            .get(start..start + len as usize)
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .unwrap_or_default()
    }

    fn view(&self, slot: Slot) -> AttrRef<'_> {
        match slot {
            Slot::Text { start, len } => AttrRef::Str(self.text_of(start, len)),
            Slot::I64(i) => AttrRef::I64(i),
            Slot::F64(f) => AttrRef::F64(f),
            Slot::Bool(b) => AttrRef::Bool(b),
        }
    }

    fn set_slot(&mut self, key: &'static str, slot: Slot) {
        if key == crate::sampling::TENANT_ATTRIBUTE {
            self.tenant = Some(slot);
        } else if key == crate::sampling::AUDIT_ATTRIBUTE {
            self.audit = Some(slot);
        }
        match self.attributes.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = slot,
            None => self.attributes.push((key, slot)),
        }
    }

    /// Appends text written by `write` to the buffer and returns its slot (no allocation
    /// while the record's text fits inline).
    fn push_text(&mut self, write: impl FnOnce(&mut TextWriter<'_>)) -> Slot {
        let start = self.text.len();
        write(&mut TextWriter(&mut self.text));
        let len = self.text.len() - start;
        Slot::Text {
            start: u32::try_from(start).unwrap_or(u32::MAX),
            len: u32::try_from(len).unwrap_or(0),
        }
    }

    fn set_text(&mut self, key: &'static str, value: &str) {
        let slot = self.push_text(|t| {
            let _ = t.write_str(value);
        });
        self.set_slot(key, slot);
    }

    /// Sets an attribute (a re-recorded key replaces its value).
    pub fn set(&mut self, key: &'static str, value: AttrValue) {
        let slot = match value {
            AttrValue::Str(s) => self.push_text(|t| {
                let _ = t.write_str(&s);
            }),
            AttrValue::I64(i) => Slot::I64(i),
            AttrValue::F64(f) => Slot::F64(f),
            AttrValue::Bool(b) => Slot::Bool(b),
        };
        self.set_slot(key, slot);
    }

    /// The OTLP span (the export path encodes records directly, see `span_layer::encode`;
    /// this is the struct form, for tools and as the encoder's test reference).
    pub fn into_proto(mut self) -> ProtoSpan {
        let meta = self.metadata;
        let name = self
            .name_override
            .take()
            .unwrap_or_else(|| meta.name().to_owned());
        let mut attributes: Vec<KeyValue> = Vec::with_capacity(self.attributes.len() + 4);
        attributes.extend(self.attributes.iter().map(|(k, v)| {
            let value = match self.view(*v) {
                AttrRef::Str(s) => AttrValue::Str(s.to_owned()),
                AttrRef::I64(i) => AttrValue::I64(i),
                AttrRef::F64(f) => AttrValue::F64(f),
                AttrRef::Bool(b) => AttrValue::Bool(b),
            };
            kv(k, value.into_proto())
        }));
        attributes.push(kv(
            "target",
            AttrValue::Str(meta.target().to_owned()).into_proto(),
        ));
        if let Some(file) = meta.file() {
            attributes.push(kv(
                "code.file.path",
                AttrValue::Str(file.to_owned()).into_proto(),
            ));
        }
        if let Some(module) = meta.module_path() {
            attributes.push(kv(
                "code.module.name",
                AttrValue::Str(module.to_owned()).into_proto(),
            ));
        }
        if let Some(line) = meta.line() {
            attributes.push(kv(
                "code.line.number",
                AttrValue::I64(i64::from(line)).into_proto(),
            ));
        }
        let status = match std::mem::take(&mut self.status) {
            SpanStatus::Unset => None,
            SpanStatus::Ok => Some(ProtoStatus {
                message: String::new(),
                code: StatusCode::Ok as i32,
            }),
            SpanStatus::Error(message) => Some(ProtoStatus {
                message,
                code: StatusCode::Error as i32,
            }),
        };
        ProtoSpan {
            trace_id: self.trace_id.to_vec(),
            span_id: self.span_id.to_vec(),
            trace_state: self.trace_state.take().unwrap_or_default(),
            parent_span_id: if self.parent_span_id == [0; 8] {
                Vec::new()
            } else {
                self.parent_span_id.to_vec()
            },
            flags: span_flags(self.flags, self.parent_remote),
            name,
            kind: self.kind as i32,
            start_time_unix_nano: self.start_nanos,
            end_time_unix_nano: self.end_nanos,
            attributes,
            dropped_attributes_count: 0,
            events: std::mem::take(&mut self.events)
                .into_iter()
                .map(|e| ProtoEvent {
                    time_unix_nano: e.time_nanos,
                    name: e.name,
                    attributes: e
                        .attributes
                        .into_iter()
                        .map(|(k, v)| kv(k, v.into_proto()))
                        .collect(),
                    dropped_attributes_count: 0,
                })
                .collect(),
            dropped_events_count: 0,
            links: Vec::new(),
            dropped_links_count: 0,
            status,
        }
    }
}

/// OTLP span flags: the W3C flags plus "has is-remote" and "is remote" for the parent.
fn span_flags(w3c: u8, parent_remote: bool) -> u32 {
    const HAS_IS_REMOTE: u32 = 0x100;
    const IS_REMOTE: u32 = 0x200;
    u32::from(w3c) | HAS_IS_REMOTE | if parent_remote { IS_REMOTE } else { 0 }
}

fn kv(key: &str, value: AnyValue) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(value),
        ..Default::default()
    }
}

impl SampledSpan for SpanRecord {
    fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    fn is_local_root(&self) -> bool {
        self.parent_span_id == [0; 8] || self.parent_remote
    }

    fn is_error(&self) -> bool {
        matches!(self.status, SpanStatus::Error(_))
    }

    fn start_nanos(&self) -> u64 {
        self.start_nanos
    }

    fn end_nanos(&self) -> u64 {
        self.end_nanos
    }

    fn tenant(&self) -> Option<&str> {
        match self.tenant.map(|slot| self.view(slot)) {
            Some(AttrRef::Str(s)) => Some(s),
            _ => None,
        }
    }

    fn is_audit(&self) -> bool {
        match self.audit.map(|slot| self.view(slot)) {
            Some(AttrRef::Bool(b)) => b,
            Some(AttrRef::Str(s)) => s == "true",
            _ => false,
        }
    }

    fn forensic_when_ended(&self) -> bool {
        self.forensic
    }

    fn recycle(buffer: Vec<Self>) {
        if buffer.capacity() > 0 && buffer.capacity() <= MAX_KEPT_TRACE_BUFFER {
            TRACE_SPARE.give(buffer);
        }
    }
}

thread_local! {
    static TRACE_STASH: Stash<Vec<SpanRecord>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Spare trace buffers (a local trace's ended spans), given back by the sampler.
static TRACE_SPARE: Recycler<Vec<SpanRecord>> = Recycler::new(&TRACE_STASH, 2048);

/// A trace buffer that grew beyond this (a trace with many spans) is freed, not kept.
const MAX_KEPT_TRACE_BUFFER: usize = LOCAL_TRACE_BATCH;

/// Span and trace ids: SplitMix64 over one atomic counter, so ids are unique within the
/// process (the mix is a bijection of the counter) and, with a fixed seed, reproducible.
#[derive(Debug)]
pub struct IdGenerator {
    state: AtomicU64,
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl IdGenerator {
    /// A generator starting from `seed` (tests pass a fixed one).
    pub fn seeded(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed),
        }
    }

    /// A generator seeded from the operating system's randomness (via `RandomState`).
    pub fn random() -> Self {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(std::process::id().into());
        Self::seeded(hasher.finish())
    }

    fn next(&self) -> u64 {
        let mut z = self
            .state
            .fetch_add(GOLDEN, Ordering::Relaxed)
            .wrapping_add(GOLDEN);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A non-zero span id.
    pub fn span_id(&self) -> [u8; 8] {
        loop {
            let v = self.next();
            if v != 0 {
                return v.to_be_bytes();
            }
        }
    }

    /// A non-zero trace id.
    pub fn trace_id(&self) -> [u8; 16] {
        let mut id = [0; 16];
        id[..8].copy_from_slice(&self.next().to_be_bytes());
        id[8..].copy_from_slice(&self.span_id());
        id
    }
}

/// The records of one trace waiting beside its open local root.
#[derive(Debug)]
struct LocalTrace {
    /// Key in [`Inner::open`], so flush can reach traces whose root is still open.
    key: u64,
    state: Mutex<LocalState>,
}

#[derive(Debug, Default)]
struct LocalState {
    spans: Vec<SpanRecord>,
    /// The local root ended (or a flush took the buffer over): later spans go straight to the
    /// sampler.
    handed_over: bool,
}

impl LocalTrace {
    fn lock(&self) -> MutexGuard<'_, LocalState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the layer keeps in each open span's extensions.
#[derive(Debug)]
struct LeanSpan {
    record: SpanRecord,
    trace: Arc<LocalTrace>,
}

struct Inner {
    sampler: Arc<TailSampler<SpanRecord>>,
    sink: Arc<ExportWorker<SpanRecord>>,
    clock: Arc<dyn Clock>,
    ids: IdGenerator,
    incidents: Option<IncidentController>,
    next_key: AtomicU64,
    open: Mutex<HashMap<u64, std::sync::Weak<LocalTrace>, IdHashBuilder>>,
    /// Ended traces (and late spans) waiting for the housekeeping thread.
    pending: Mutex<Pending>,
    /// Whether a housekeeping thread delivers [`Self::pending`]; without one, ended traces go
    /// to the sampler at once on the thread that ended them.
    deferred: AtomicBool,
    housekeeping: Mutex<Option<(Sender<Housekeeping>, JoinHandle<()>)>>,
    /// Wakes the housekeeping thread to deliver the queue before its tick.
    wake: Mutex<Option<Sender<Housekeeping>>>,
}

/// Messages to the housekeeping thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Housekeeping {
    /// Hand the queued traces to the sampler now (the queue reached [`WAKE_PENDING_SPANS`]).
    Deliver,
    Stop,
}

/// Queued spans that wake the housekeeping thread before its tick: a burst is handed to the
/// sampler while its records are still in cache, off the emitting thread.
const WAKE_PENDING_SPANS: usize = 1_024;

/// Ended spans handed over by the emitting threads, in the order they were handed over.
#[derive(Debug, Default)]
struct Pending {
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
    fn hand_over(&self, spans: Vec<SpanRecord>) {
        if spans.is_empty() {
            return;
        }
        if !self.deferred.load(Ordering::Acquire) {
            self.deliver(vec![spans]);
            return;
        }
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.spans += spans.len();
        pending.batches.push(spans);
        if pending.spans < WAKE_PENDING_SPANS {
            return;
        }
        if !pending.woken {
            pending.woken = true;
            drop(pending);
            if let Some(wake) = &*self.wake.lock().unwrap_or_else(PoisonError::into_inner) {
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
    fn deliver_pending(&self) {
        let batches = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if !batches.is_empty() {
            self.deliver(batches);
        }
    }

    /// Moves every queued hand-over and every record still waiting beside an open local root
    /// into the sampler.
    fn drain_open(&self) {
        self.deliver_pending();
        let open: Vec<Arc<LocalTrace>> = self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
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

    fn decide_all(&self) {
        self.drain_open();
        let mut out = Vec::new();
        self.sampler.decide_all(&mut out);
        if !out.is_empty() {
            self.sink.push_all(out);
        }
    }
}

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
            .spawn(move || {
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
                    if let Some(tick) = &tick {
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
            })?;
        *self
            .inner
            .wake
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(stop.clone());
        *self
            .inner
            .housekeeping
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some((stop, thread));
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
        let hk = self
            .inner
            .housekeeping
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some((stop, thread)) = hk {
            let _ = stop.send(Housekeeping::Stop);
            let _ = thread.join();
        }
        // Spans ending from now on go straight to the sampler (nothing delivers a queue).
        self.inner.deferred.store(false, Ordering::Release);
        *self
            .inner
            .wake
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
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

/// A span context as propagated (`traceparent`/`tracestate`): a remote parent coming in, or
/// the current span going out.
#[derive(Debug, Clone)]
pub(crate) struct RemoteParent {
    pub(crate) trace_id: [u8; 16],
    pub(crate) span_id: [u8; 8],
    pub(crate) flags: u8,
    pub(crate) trace_state: Option<String>,
}

/// The context of an open span recorded by the layer (what `traceparent`/`tracestate` carry).
pub(crate) fn span_context_of<S>(registry: &S, id: &Id) -> Option<RemoteParent>
where
    S: for<'a> LookupSpan<'a>,
{
    let span = registry.span(id)?;
    let ext = span.extensions();
    let lean = ext.get::<LeanSpan>()?;
    Some(RemoteParent {
        trace_id: lean.record.trace_id,
        span_id: lean.record.span_id,
        flags: lean.record.flags,
        trace_state: lean.record.trace_state.clone(),
    })
}

/// In one walk of `event`'s scope: the trace and span id of the innermost recorded span, and,
/// when `tenant` is given, the `tenant` attribute of the innermost span that has one, passed
/// to `tenant` (not called when no span has one).
pub(crate) fn event_context<S>(
    event: &Event<'_>,
    ctx: &Context<'_, S>,
    mut tenant: Option<&mut dyn FnMut(&str)>,
) -> Option<([u8; 16], [u8; 8])>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let scope = ctx.event_scope(event)?;
    let mut ids = None;
    for span in scope {
        let ext = span.extensions();
        let Some(lean) = ext.get::<LeanSpan>() else {
            continue;
        };
        if ids.is_none() {
            ids = Some((lean.record.trace_id, lean.record.span_id));
        }
        if let Some(found) = lean.record.tenant()
            && let Some(give) = tenant.take()
        {
            give(found);
        }
        if tenant.is_none() {
            break;
        }
    }
    ids
}

/// The `tenant` attribute of the innermost recorded span around `event` that has one.
pub(crate) fn event_tenant<S>(event: &Event<'_>, ctx: &Context<'_, S>) -> Option<String>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut tenant = None;
    event_context(event, ctx, Some(&mut |t: &str| tenant = Some(t.to_owned())));
    tenant
}

fn u64_value(v: u64) -> AttrValue {
    i64::try_from(v).map_or_else(|_| AttrValue::Str(v.to_string()), AttrValue::I64)
}

fn span_kind(s: &str) -> Option<SpanKind> {
    [
        ("server", SpanKind::Server),
        ("client", SpanKind::Client),
        ("producer", SpanKind::Producer),
        ("consumer", SpanKind::Consumer),
        ("internal", SpanKind::Internal),
    ]
    .into_iter()
    .find_map(|(name, kind)| s.eq_ignore_ascii_case(name).then_some(kind))
}

/// Records fields onto a span record with `tracing-opentelemetry`'s special fields.
struct RecordVisitor<'a>(&'a mut SpanRecord);

impl RecordVisitor<'_> {
    fn text(&mut self, field: &Field, value: &str) {
        match field.name() {
            "otel.name" => self.0.name_override = Some(value.to_owned()),
            "otel.kind" => {
                if let Some(kind) = span_kind(value) {
                    self.0.kind = kind;
                }
            }
            "otel.status_code" => {
                if value.eq_ignore_ascii_case("ok") {
                    self.0.status = SpanStatus::Ok;
                } else if value.eq_ignore_ascii_case("error") {
                    let message = match &self.0.status {
                        SpanStatus::Error(m) => m.clone(),
                        _ => String::new(),
                    };
                    self.0.status = SpanStatus::Error(message);
                }
            }
            "otel.status_description" => self.0.status = SpanStatus::Error(value.to_owned()),
            name => self.0.set_text(name, value),
        }
    }
}

impl Visit for RecordVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let name = field.name();
        if name.starts_with("otel.") {
            self.text(field, &format!("{value:?}"));
        } else {
            // Formatted straight into the record's text buffer.
            let slot = self.0.push_text(|t| {
                let _ = write!(t, "{value:?}");
            });
            self.0.set_slot(name, slot);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.text(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.set_slot(field.name(), Slot::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        match i64::try_from(value) {
            Ok(v) => self.0.set_slot(field.name(), Slot::I64(v)),
            Err(_) => {
                let slot = self.0.push_text(|t| {
                    let _ = write!(t, "{value}");
                });
                self.0.set_slot(field.name(), slot);
            }
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.set_slot(field.name(), Slot::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.set_slot(field.name(), Slot::Bool(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.text(field, &value.to_string());
    }
}

/// Collects an event's fields for a span event.
#[derive(Default)]
struct EventVisitor {
    message: Option<String>,
    attributes: Vec<(&'static str, AttrValue)>,
}

impl Visit for EventVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.attributes
                .push((field.name(), AttrValue::Str(value.to_owned())));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.attributes.push((field.name(), AttrValue::I64(value)));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.attributes.push((field.name(), u64_value(value)));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.attributes.push((field.name(), AttrValue::F64(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.attributes.push((field.name(), AttrValue::Bool(value)));
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
                inner
                    .open
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(key, Arc::downgrade(&trace));
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
            inner
                .open
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&trace.key);
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

impl Drop for Inner {
    fn drop(&mut self) {
        // Only tells the thread to stop: the last handle may be dropped on that very thread.
        if let Some((stop, _thread)) = self
            .housekeeping
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            let _ = stop.send(Housekeeping::Stop);
        }
    }
}

/// The OTLP scope of spans recorded by the layer.
pub(crate) fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: crate::SCOPE_NAME.to_owned(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ids_are_unique_non_zero_and_reproducible_with_a_seed() {
        let a = IdGenerator::seeded(7);
        let b = IdGenerator::seeded(7);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = a.span_id();
            assert_ne!(id, [0; 8]);
            assert!(seen.insert(id), "span id repeated");
            assert_eq!(id, b.span_id());
        }
        assert_ne!(
            IdGenerator::seeded(8).trace_id(),
            IdGenerator::seeded(7).trace_id()
        );
    }

    #[test]
    fn large_unsigned_values_stay_exact_as_text() {
        assert_eq!(u64_value(5), AttrValue::I64(5));
        assert_eq!(u64_value(u64::MAX), AttrValue::Str(u64::MAX.to_string()));
    }

    #[test]
    fn proto_flags_mark_remote_parents() {
        assert_eq!(span_flags(1, true), 0x301);
        assert_eq!(span_flags(0, false), 0x100);
    }

    #[test]
    fn attr_value_to_proto_keeps_types() {
        assert_eq!(
            AttrValue::Bool(true).into_proto().value,
            Some(any_value::Value::BoolValue(true))
        );
    }
}
