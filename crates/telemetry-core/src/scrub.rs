//! Redaction of OTLP records before they leave the process: span attributes, span events,
//! status messages, log bodies and log attributes, walked recursively (arrays and key-value
//! lists, with dotted keys). Records that changed get `scrubbed=true` and `scrub.reasons`, and
//! `telemetry_scrub_events_total{tenant,reason}` is counted.
//!
//! Not the policy: `stellaops-redaction` decides; this applies it to OTLP shapes.

use crate::span_layer::AttrRef;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
#[cfg(test)]
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::logs::v1::ResourceLogs;
use opentelemetry_proto::tonic::trace::v1::ResourceSpans;
use stellaops_redaction::{KeyDecision, Reason, Redactor, Report, ScrubMetrics};

/// A scalar attribute value after redaction ([`OtlpScrubber::scalar`]): text borrowed when
/// redaction kept it (or cut it), owned when it rewrote it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar<'a> {
    /// Text (`string_value`).
    Str(std::borrow::Cow<'a, str>),
    /// `int_value`.
    I64(i64),
    /// `double_value`.
    F64(f64),
    /// `bool_value`.
    Bool(bool),
}

/// What a refused non-text value becomes.
pub(crate) const REDACTED: &str = "[redacted]";

/// What the key rules make of a value with no text to scan (a number, a boolean, bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NonText {
    /// Kept as it is.
    Keep,
    /// Replaced by [`REDACTED`] (reason `pattern`).
    Mask,
    /// Dropped (reason `not_allowed`).
    Drop,
}

/// The key rules for a value with no text to scan under `key`, the reason added to `report`:
/// one decision for the struct path, the direct span encoder and the log processor.
pub(crate) fn non_text(redactor: &Redactor, key: &str, report: &mut Report) -> NonText {
    match redactor.decide_key(key) {
        KeyDecision::Drop => {
            report.add(Reason::NotAllowed);
            NonText::Drop
        }
        KeyDecision::Redact => {
            report.add(Reason::Pattern);
            NonText::Mask
        }
        // `Keep` and an audited override (`Overridden`).
        _ => NonText::Keep,
    }
}

/// Applies a redactor to OTLP records and counts what it scrubbed.
#[derive(Debug, Clone)]
pub struct OtlpScrubber {
    redactor: std::sync::Arc<Redactor>,
    metrics: ScrubMetrics,
}

fn string_value(s: String) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(s)),
    })
}

fn kv(key: &str, value: Option<AnyValue>) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value,
        ..Default::default()
    }
}

fn tenant_of(attributes: &[KeyValue]) -> Option<String> {
    attributes
        .iter()
        .find(|kv| kv.key == "tenant")
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.clone()),
            _ => None,
        })
}

impl OtlpScrubber {
    /// A scrubber applying `redactor`, counting into `metrics`.
    pub fn new(redactor: std::sync::Arc<Redactor>, metrics: ScrubMetrics) -> Self {
        Self { redactor, metrics }
    }

    /// The redactor.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Redacts a list of attributes in place (dropping those the policy does not allow).
    pub fn attributes(&self, attributes: &mut Vec<KeyValue>, prefix: &str) -> Report {
        let mut report = Report::default();
        attributes.retain_mut(|kv| {
            let key = if prefix.is_empty() {
                kv.key.clone()
            } else {
                format!("{prefix}.{}", kv.key)
            };
            match kv.value.as_mut() {
                Some(value) => self.value(&key, value, &mut report),
                None => true,
            }
        });
        report
    }

    /// Redacts one value under `key`; returns whether it is kept.
    fn value(&self, key: &str, value: &mut AnyValue, report: &mut Report) -> bool {
        match value.value.as_mut() {
            Some(any_value::Value::StringValue(s)) => {
                let redacted = self.redactor.redact_value(key, s);
                report.merge(redacted.report());
                match redacted.into_value() {
                    None => false,
                    Some(std::borrow::Cow::Borrowed(kept)) => {
                        // Kept, or cut to a prefix (reason `length`).
                        let len = kept.len();
                        s.truncate(len);
                        true
                    }
                    Some(std::borrow::Cow::Owned(v)) => {
                        *s = v;
                        true
                    }
                }
            }
            Some(any_value::Value::ArrayValue(array)) => {
                array.values.retain_mut(|v| self.value(key, v, report));
                true
            }
            Some(any_value::Value::KvlistValue(list)) => {
                report.merge(self.attributes(&mut list.values, key));
                true
            }
            // Numbers, booleans, bytes: no text to scan, but the key rules still apply.
            Some(_) => match non_text(&self.redactor, key, report) {
                NonText::Drop => false,
                NonText::Mask => {
                    value.value = Some(any_value::Value::StringValue(REDACTED.to_owned()));
                    true
                }
                NonText::Keep => true,
            },
            None => true,
        }
    }

    /// Redacts one scalar attribute (`value` under the top-level `key`) exactly as
    /// [`Self::attributes`] redacts a `KeyValue` holding that value, with the same redactor
    /// calls and reasons merged into `report`: `None` when it is dropped. What the direct
    /// span encoder (`span_layer::encode`) uses, without building `KeyValue`s.
    pub(crate) fn scalar<'a>(
        &self,
        key: &str,
        value: AttrRef<'a>,
        report: &mut Report,
    ) -> Option<Scalar<'a>> {
        let kept = match value {
            AttrRef::Str(s) => {
                let redacted = self.redactor.redact_value(key, s);
                report.merge(redacted.report());
                return match redacted.into_value()? {
                    // Kept, or cut to a prefix (reason `length`), as `String::truncate` does.
                    std::borrow::Cow::Borrowed(kept) => Some(Scalar::Str(
                        std::borrow::Cow::Borrowed(s.get(..kept.len()).unwrap_or(kept)),
                    )),
                    std::borrow::Cow::Owned(v) => Some(Scalar::Str(std::borrow::Cow::Owned(v))),
                };
            }
            AttrRef::I64(i) => Scalar::I64(i),
            AttrRef::F64(f) => Scalar::F64(f),
            AttrRef::Bool(b) => Scalar::Bool(b),
        };
        match non_text(&self.redactor, key, report) {
            NonText::Drop => None,
            NonText::Mask => Some(Scalar::Str(std::borrow::Cow::Borrowed(REDACTED))),
            NonText::Keep => Some(kept),
        }
    }

    fn mark(&self, attributes: &mut Vec<KeyValue>, report: Report, tenant: Option<&str>) {
        if !report.scrubbed() {
            return;
        }
        let reasons: Vec<&str> = report.reasons().iter().map(|r| r.as_str()).collect();
        attributes.push(kv(
            "scrubbed",
            Some(AnyValue {
                value: Some(any_value::Value::BoolValue(true)),
            }),
        ));
        attributes.push(kv("scrub.reasons", string_value(reasons.join(","))));
        if report.hashed() {
            attributes.push(kv(
                "hashed",
                Some(AnyValue {
                    value: Some(any_value::Value::BoolValue(true)),
                }),
            ));
        }
        self.metrics.record(tenant.unwrap_or("unknown"), report);
    }

    /// Counts a record redaction changed (`report`) in `telemetry_scrub_events_total` under
    /// `tenant` (`unknown` when `None`), as [`Self::spans`] and [`Self::logs`] do when they
    /// mark it: the direct encoders (`logging::encode`, `span_layer::encode`) write the
    /// marks themselves.
    pub(crate) fn count_marked(&self, tenant: Option<&str>, report: Report) {
        if report.scrubbed() {
            self.metrics.record(tenant.unwrap_or("unknown"), report);
        }
    }

    /// Marks a log record the log layer already redacted (`report` is what it changed):
    /// `scrubbed=true`, `scrub.reasons`, `hashed=true` and `telemetry_scrub_events_total`
    /// by the record's `tenant` attribute, as [`Self::logs`] does, without redacting again: the
    /// reference the log encoder's direct marks are tested against.
    #[cfg(test)]
    pub(crate) fn mark_log(&self, record: &mut LogRecord, report: Report) {
        if !report.scrubbed() {
            return;
        }
        let tenant = tenant_of(&record.attributes);
        self.mark(&mut record.attributes, report, tenant.as_deref());
    }

    /// Redacts every span of a trace export in place.
    pub fn spans(&self, resource_spans: &mut [ResourceSpans]) {
        for rs in resource_spans {
            for ss in &mut rs.scope_spans {
                for span in &mut ss.spans {
                    let mut report = self.attributes(&mut span.attributes, "");
                    for event in &mut span.events {
                        let (name, r) = self.redactor.redact_text(&event.name);
                        if let std::borrow::Cow::Owned(n) = name {
                            event.name = n;
                        }
                        report.merge(r);
                        report.merge(self.attributes(&mut event.attributes, ""));
                    }
                    if let Some(status) = span.status.as_mut() {
                        let (message, r) = self.redactor.redact_text(&status.message);
                        if let std::borrow::Cow::Owned(m) = message {
                            status.message = m;
                        }
                        report.merge(r);
                    }
                    let tenant = tenant_of(&span.attributes);
                    self.mark(&mut span.attributes, report, tenant.as_deref());
                }
            }
        }
    }

    /// Redacts every log record of a log export in place.
    pub fn logs(&self, resource_logs: &mut [ResourceLogs]) {
        for rl in resource_logs {
            for sl in &mut rl.scope_logs {
                for record in &mut sl.log_records {
                    let mut report = self.attributes(&mut record.attributes, "");
                    if let Some(body) = record.body.as_mut() {
                        match body.value.as_mut() {
                            Some(any_value::Value::StringValue(text)) => {
                                let (redacted, r) = self.redactor.redact_text(text);
                                if let std::borrow::Cow::Owned(t) = redacted {
                                    *text = t;
                                }
                                report.merge(r);
                            }
                            Some(_) => {
                                let _ = self.value("body", body, &mut report);
                            }
                            None => {}
                        }
                    }
                    let tenant = tenant_of(&record.attributes);
                    self.mark(&mut record.attributes, report, tenant.as_deref());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use stellaops_redaction::RedactionPolicy;

    #[test]
    fn a_value_over_the_length_limit_is_cut_not_only_reported() {
        let scrubber = OtlpScrubber::new(
            std::sync::Arc::new(Redactor::new(RedactionPolicy::default())),
            ScrubMetrics::new(),
        );
        let long = "x".repeat(300);
        let mut attributes = vec![kv("note", string_value(long))];
        let report = scrubber.attributes(&mut attributes, "");
        assert!(report.reasons().contains(Reason::Length));
        let Some(any_value::Value::StringValue(kept)) =
            attributes[0].value.as_ref().and_then(|v| v.value.as_ref())
        else {
            panic!("not a string: {attributes:?}");
        };
        assert_eq!(kept.len(), 256);
    }
}
