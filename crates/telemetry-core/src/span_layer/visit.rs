//! How `tracing` fields become span data: a span's fields onto its record (with the
//! `otel.*` special fields of `tracing-opentelemetry`), and a `WARN`/`ERROR` event's fields
//! onto a span event.
//!
//! Not when either happens (`layer`).

use super::record::{Slot, SpanRecord, SpanStatus};
use crate::attribute::AttrValue;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use std::fmt::Write as _;
use tracing::field::{Field, Visit};

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
pub(super) struct RecordVisitor<'a>(pub(super) &'a mut SpanRecord);

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
pub(super) struct EventVisitor {
    pub(super) message: Option<String>,
    pub(super) attributes: Vec<(&'static str, AttrValue)>,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_unsigned_values_stay_exact_as_text() {
        assert_eq!(u64_value(5), AttrValue::I64(5));
        assert_eq!(u64_value(u64::MAX), AttrValue::Str(u64::MAX.to_string()));
    }
}
