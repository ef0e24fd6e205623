//! Typed span attribute values: owned, as `tracing` recorded them or as the incident
//! controller adds them to forensic spans, and borrowed, as a span record hands them out.
//!
//! Not the record that stores them (`span_layer`) and not their redaction (`scrub`).

use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value};

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
    pub(crate) fn into_proto(self) -> AnyValue {
        let value = match self {
            AttrValue::Str(s) => any_value::Value::StringValue(s),
            AttrValue::I64(i) => any_value::Value::IntValue(i),
            AttrValue::F64(f) => any_value::Value::DoubleValue(f),
            AttrValue::Bool(b) => any_value::Value::BoolValue(b),
        };
        AnyValue { value: Some(value) }
    }
}

/// A borrowed attribute value of a [`SpanRecord`](crate::span_layer::SpanRecord).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_value_to_proto_keeps_types() {
        assert_eq!(
            AttrValue::Bool(true).into_proto().value,
            Some(any_value::Value::BoolValue(true))
        );
    }
}
