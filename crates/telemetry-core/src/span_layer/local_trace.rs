//! The records of a trace buffered beside its open local root (handed to the sampler when
//! the root ends, or in batches of [`LOCAL_TRACE_BATCH`]), and the spare buffers they reuse.
//!
//! Not the hand-over itself (`housekeeping`).

use super::record::SpanRecord;
use crate::recycle::{Recycler, Stash};
use std::sync::{Arc, Mutex, MutexGuard};
use stellaops_telemetry_model::sync::lock;

/// Spans of one trace buffered beside its open local root before they go to the sampler in
/// one batch (a long-running root with many children hands them over in batches of this size,
/// so memory stays bounded).
pub const LOCAL_TRACE_BATCH: usize = 64;

thread_local! {
    static TRACE_STASH: Stash<Vec<SpanRecord>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Spare trace buffers (a local trace's ended spans), given back by the sampler.
pub(super) static TRACE_SPARE: Recycler<Vec<SpanRecord>> = Recycler::new(&TRACE_STASH, 2048);

/// A trace buffer that grew beyond this (a trace with many spans) is freed, not kept.
pub(super) const MAX_KEPT_TRACE_BUFFER: usize = LOCAL_TRACE_BATCH;

/// The records of one trace waiting beside its open local root.
#[derive(Debug)]
pub(super) struct LocalTrace {
    /// Key in the layer's map of open traces (`Inner::open`), so flush can reach traces
    /// whose root is still open.
    pub(super) key: u64,
    pub(super) state: Mutex<LocalState>,
}

#[derive(Debug, Default)]
pub(super) struct LocalState {
    pub(super) spans: Vec<SpanRecord>,
    /// The local root ended (or a flush took the buffer over): later spans go straight to the
    /// sampler.
    pub(super) handed_over: bool,
}

impl LocalTrace {
    pub(super) fn lock(&self) -> MutexGuard<'_, LocalState> {
        lock(&self.state)
    }
}

/// What the layer keeps in each open span's extensions.
#[derive(Debug)]
pub(super) struct LeanSpan {
    pub(super) record: SpanRecord,
    pub(super) trace: Arc<LocalTrace>,
}
