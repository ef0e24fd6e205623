//! How the tail sampler sees a span record ([`SampledSpan`]), and where it gives a trace's
//! emptied buffer back (the local traces' spare buffers).
//!
//! Not the sampling rules (`crate::sampling`).

use super::local_trace::{MAX_KEPT_TRACE_BUFFER, TRACE_SPARE};
use super::record::{SpanRecord, SpanStatus};
use crate::attribute::AttrRef;
use crate::sampling::SampledSpan;

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
