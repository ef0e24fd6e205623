//! The JSON stdout log layer: one line per event in advisory §6.1's shape (`timestamp`
//! RFC 3339 UTC with milliseconds, `level`, `message`, `service`, `traceId`, `spanId`,
//! `tenant`, then the event's own fields), redacted before it is written.
//!
//! Not the OTLP log bridge (opentelemetry-appender-tracing does that) and not a formatter for
//! humans.

use std::fmt::Write as _;
use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use stellaops_redaction::Redactor;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// Where JSON lines go (stdout by default; tests pass a buffer).
pub type LogSink = Arc<Mutex<Box<dyn Write + Send>>>;

/// The span field that names the tenant.
pub const TENANT_FIELD: &str = "tenant";

/// The tenant recorded on a span (stored in its extensions).
#[derive(Debug, Clone)]
pub(crate) struct SpanTenant(pub(crate) String);

/// A time source for log timestamps (tests inject a fixed one).
pub type LogClock = Arc<dyn Fn() -> chrono::DateTime<chrono::Utc> + Send + Sync>;

/// Writes each event as one redacted JSON line.
pub struct JsonLogLayer {
    service: String,
    sink: LogSink,
    redactor: Arc<Redactor>,
    clock: LogClock,
    incidents: Option<crate::incident::IncidentController>,
}

impl std::fmt::Debug for JsonLogLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLogLayer")
            .field("service", &self.service)
            .finish_non_exhaustive()
    }
}

impl JsonLogLayer {
    /// A layer writing to `sink` for `service`, redacting with `redactor`.
    pub fn new(
        service: impl Into<String>,
        sink: LogSink,
        redactor: Arc<Redactor>,
        clock: LogClock,
    ) -> Self {
        Self {
            service: service.into(),
            sink,
            redactor,
            clock,
            incidents: None,
        }
    }

    /// Tags the lines of tenants in forensic mode with `"incident":true`.
    #[must_use]
    pub fn with_incidents(mut self, incidents: crate::incident::IncidentController) -> Self {
        self.incidents = Some(incidents);
        self
    }

    /// A sink writing to the process's standard output.
    pub fn stdout_sink() -> LogSink {
        Arc::new(Mutex::new(Box::new(std::io::stdout())))
    }
}

#[derive(Default)]
struct Fields {
    message: Option<String>,
    tenant: Option<String>,
    pairs: Vec<(&'static str, FieldValue)>,
}

enum FieldValue {
    Str(String),
    Raw(String),
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.record_str(field, &format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = Some(value.to_owned()),
            name => {
                if name == TENANT_FIELD {
                    self.tenant = Some(value.to_owned());
                }
                self.pairs.push((name, FieldValue::Str(value.to_owned())));
            }
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.pairs
            .push((field.name(), FieldValue::Raw(value.to_string())));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.pairs
            .push((field.name(), FieldValue::Raw(value.to_string())));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        let raw = if value.is_finite() {
            value.to_string()
        } else {
            format!("\"{value}\"")
        };
        self.pairs.push((field.name(), FieldValue::Raw(raw)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.pairs
            .push((field.name(), FieldValue::Raw(value.to_string())));
    }
}

struct TenantVisitor(Option<String>);

impl Visit for TenantVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == TENANT_FIELD {
            self.0 = Some(format!("{value:?}").trim_matches('"').to_owned());
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == TENANT_FIELD {
            self.0 = Some(value.to_owned());
        }
    }
}

/// Stores `tenant` (if any) in the span's extensions, so events inside inherit it.
pub(crate) fn remember_tenant<S>(tenant: Option<String>, id: &Id, ctx: &Context<'_, S>)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if let (Some(tenant), Some(span)) = (tenant, ctx.span(id)) {
        span.extensions_mut().replace(SpanTenant(tenant));
    }
}

/// The `tenant` field of new span attributes.
pub(crate) fn tenant_of_attrs(attrs: &Attributes<'_>) -> Option<String> {
    let mut v = TenantVisitor(None);
    attrs.record(&mut v);
    v.0
}

/// The `tenant` field of a span's later-recorded values.
pub(crate) fn tenant_of_record(values: &Record<'_>) -> Option<String> {
    let mut v = TenantVisitor(None);
    values.record(&mut v);
    v.0
}

/// The `tenant` field of an event.
pub(crate) fn tenant_of_event(event: &Event<'_>) -> Option<String> {
    let mut v = TenantVisitor(None);
    event.record(&mut v);
    v.0
}

/// The tenant of the innermost span that has one.
pub(crate) fn scope_tenant<S>(event: &Event<'_>, ctx: &Context<'_, S>) -> Option<String>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let scope = ctx.event_scope(event)?;
    for span in scope {
        if let Some(t) = span.extensions().get::<SpanTenant>() {
            return Some(t.0.clone());
        }
    }
    None
}

fn push_json_str(out: &mut String, s: &str) {
    // serde_json escapes exactly as JSON requires.
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("\"\""),
    }
}

impl<S> tracing_subscriber::Layer<S> for JsonLogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        remember_tenant(tenant_of_attrs(attrs), id, &ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        remember_tenant(tenant_of_record(values), id, &ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let tenant = fields.tenant.clone().or_else(|| scope_tenant(event, &ctx));
        let (trace_id, span_id) = match crate::span_layer::event_ids(event, &ctx) {
            Some((t, s)) => (Some(hex(&t)), Some(hex(&s))),
            None => (None, None),
        };

        let mut line = String::with_capacity(256);
        line.push_str("{\"timestamp\":");
        push_json_str(
            &mut line,
            &(self.clock)().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        );
        line.push_str(",\"level\":");
        push_json_str(
            &mut line,
            &event.metadata().level().as_str().to_ascii_lowercase(),
        );
        line.push_str(",\"message\":");
        let message = fields.message.as_deref().unwrap_or_default();
        let (message, report) = self.redactor.redact_text(message);
        let mut scrubbed = report.scrubbed();
        push_json_str(&mut line, &message);
        line.push_str(",\"service\":");
        push_json_str(&mut line, &self.service);
        if let Some(t) = trace_id {
            let _ = write!(
                line,
                ",\"traceId\":\"{t}\",\"spanId\":\"{}\"",
                span_id.unwrap_or_default()
            );
        }
        if let Some(t) = &tenant {
            line.push_str(",\"tenant\":");
            push_json_str(&mut line, t);
        }
        for (key, value) in &fields.pairs {
            if *key == TENANT_FIELD {
                continue;
            }
            match value {
                FieldValue::Str(s) => {
                    let redacted = self.redactor.redact_value(key, s);
                    scrubbed |= redacted.report().scrubbed();
                    if let Some(v) = redacted.value() {
                        line.push(',');
                        push_json_str(&mut line, key);
                        line.push(':');
                        push_json_str(&mut line, v);
                    }
                }
                FieldValue::Raw(raw) => {
                    let redacted = self.redactor.redact_value(key, raw);
                    scrubbed |= redacted.report().scrubbed();
                    match redacted.value() {
                        Some(v) if v == raw => {
                            line.push(',');
                            push_json_str(&mut line, key);
                            line.push(':');
                            line.push_str(raw);
                        }
                        Some(v) => {
                            line.push(',');
                            push_json_str(&mut line, key);
                            line.push(':');
                            push_json_str(&mut line, v);
                        }
                        None => {}
                    }
                }
            }
        }
        if scrubbed {
            line.push_str(",\"scrubbed\":true");
        }
        if let (Some(incidents), Some(t)) = (&self.incidents, &tenant)
            && incidents.is_active(t)
        {
            line.push_str(",\"incident\":true");
        }
        line.push_str("}\n");
        let mut sink = self.sink.lock().unwrap_or_else(PoisonError::into_inner);
        let _ = sink.write_all(line.as_bytes());
    }
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}
