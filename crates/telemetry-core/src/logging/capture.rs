//! What the emitting thread keeps of an event: its fields' values as given (nothing redacted
//! or formatted as JSON yet), the span ids and tenant around it, and its time. The log
//! processor (`logging::processor`) later turns a batch of these into JSON lines and OTLP
//! records, with the redaction, on its own thread or, for warnings and errors, on the
//! emitting thread before the event call returns.
//!
//! Not where anything is redacted: a [`RawEvent`] holds secrets until it is processed, in
//! memory only.

use super::record::TextRange;
use crate::recycle::{Recycler, Stash};
use std::cell::RefCell;
use std::fmt::Write as _;
use tracing::Metadata;
use tracing::field::{Field, Visit};

/// A field's value as `tracing` gave it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawValue {
    /// `record_str` or `record_debug`: the text (a `Debug` value already formatted).
    Text(TextRange),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    /// An `i128`/`u128`, as decimal text.
    Wide(TextRange),
    /// Bytes: their hex text as `tracing` shows them (`[01 ab]`) and the bytes.
    Bytes(TextRange, Box<[u8]>),
    /// An error: its `Display` text.
    Error(TextRange),
}

/// One field of a [`RawEvent`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawField {
    pub(crate) name: &'static str,
    pub(crate) value: RawValue,
}

/// An event as captured on the emitting thread (see the module docs).
#[derive(Debug)]
pub(crate) struct RawEvent {
    pub(crate) meta: &'static Metadata<'static>,
    /// When the event was seen (Unix nanoseconds).
    pub(crate) observed_unix_nanos: u64,
    /// The JSON line's timestamp: seconds and milliseconds since the Unix epoch.
    pub(crate) json_time: (i64, u32),
    /// Trace and span id of the span the event happened in.
    pub(crate) ids: Option<([u8; 16], [u8; 8])>,
    /// The JSON line's `tenant`: the event's own `tenant` field, else the span's (in `text`).
    pub(crate) tenant: Option<TextRange>,
    /// The tenant was in forensic mode when the event happened (`"incident":true`).
    pub(crate) incident: bool,
    /// Every text value, back to back.
    pub(crate) text: String,
    pub(crate) fields: Vec<RawField>,
}

impl RawEvent {
    /// The JSON line's tenant.
    pub(crate) fn tenant(&self) -> Option<&str> {
        self.tenant.map(|r| r.of(&self.text))
    }
}

/// The two buffers of a [`RawEvent`], emptied, for the next event.
pub(crate) struct RawBuffers {
    text: String,
    fields: Vec<RawField>,
}

thread_local! {
    static STASH: Stash<RawBuffers> = const { RefCell::new(Vec::new()) };
}

/// Spare raw-event buffers (taken on the emitting threads, given back by the processor).
static SPARE: Recycler<RawBuffers> = Recycler::new(&STASH, 4096);

/// A text buffer that grew beyond this (one huge event) is freed, not kept.
const MAX_KEPT_TEXT: usize = 4096;

/// Gives a processed event's buffers back for reuse.
pub(crate) fn recycle(event: RawEvent) {
    let RawEvent {
        mut text,
        mut fields,
        ..
    } = event;
    if text.capacity() > MAX_KEPT_TEXT {
        return;
    }
    text.clear();
    fields.clear();
    SPARE.give(RawBuffers { text, fields });
}

/// Records an event's fields as they are (the visitor the emitting thread runs).
pub(crate) struct Capture {
    pub(crate) text: String,
    pub(crate) fields: Vec<RawField>,
    /// The event's own `tenant` field, when it gives one as text.
    pub(crate) own_tenant: Option<TextRange>,
}

impl Capture {
    /// A capture with recycled buffers when there are, else new ones for `field_count` fields.
    pub(crate) fn new(field_count: usize) -> Self {
        let RawBuffers { text, fields } = SPARE.take().unwrap_or_else(|| RawBuffers {
            text: String::with_capacity(64 + 32 * field_count),
            fields: Vec::with_capacity(field_count),
        });
        Self {
            text,
            fields,
            own_tenant: None,
        }
    }

    /// Appends `raw` to the text buffer.
    pub(crate) fn push_raw(&mut self, raw: &str) -> TextRange {
        let start = self.text.len();
        self.text.push_str(raw);
        self.since(start)
    }

    fn since(&self, start: usize) -> TextRange {
        TextRange {
            start,
            end: self.text.len(),
        }
    }

    /// Appends the text `write` makes, notes it as the event's own tenant when `field` is
    /// `tenant`, and records it as the value `kind` makes of its range.
    fn push_text(
        &mut self,
        field: &Field,
        write: impl FnOnce(&mut String),
        kind: impl FnOnce(TextRange) -> RawValue,
    ) {
        let start = self.text.len();
        write(&mut self.text);
        let range = self.since(start);
        if field.name() == super::tenant::TENANT_FIELD {
            self.own_tenant = Some(range);
        }
        self.push(field, kind(range));
    }

    fn push(&mut self, field: &Field, value: RawValue) {
        self.fields.push(RawField {
            name: field.name(),
            value,
        });
    }
}

impl Visit for Capture {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.push_text(
            field,
            |t| {
                let _ = write!(t, "{value:?}");
            },
            RawValue::Text,
        );
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.push_text(field, |t| t.push_str(value), RawValue::Text);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, RawValue::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, RawValue::U64(value));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, RawValue::F64(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, RawValue::Bool(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.push_text(
            field,
            |t| {
                let _ = write!(t, "{value}");
            },
            RawValue::Wide,
        );
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.push_text(
            field,
            |t| {
                let _ = write!(t, "{value}");
            },
            RawValue::Wide,
        );
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        // The hex text `tracing` gives bytes ("[01 ab]").
        let write = |t: &mut String| {
            t.push('[');
            for (i, byte) in value.iter().enumerate() {
                if i > 0 {
                    t.push(' ');
                }
                super::json::push_hex(t, &[*byte]);
            }
            t.push(']');
        };
        self.push_text(field, write, |range| RawValue::Bytes(range, value.into()));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push_text(
            field,
            |t| {
                let _ = write!(t, "{value}");
            },
            RawValue::Error,
        );
    }
}
