//! Joining propagated context to `tracing` spans: make an incoming `traceparent` the parent of
//! a server span, and build the context for an outgoing call from the current span.

use super::{PropagationContext, TraceParent, TraceState};
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState as OtelTraceState,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;

impl PropagationContext {
    /// Makes the caller's span (from `traceparent`, with `tracestate`) the remote parent of
    /// `span`, so the server span continues the caller's trace. Without a valid `traceparent`
    /// the span starts a new trace. Call before the span is first entered.
    pub fn attach_as_parent(&self, span: &tracing::Span) {
        let Some(tp) = self.traceparent else { return };
        let state = OtelTraceState::from_key_value(
            self.tracestate
                .members()
                .map(|(k, v)| (k.to_owned(), v.to_owned())),
        )
        .unwrap_or_default();
        let remote = SpanContext::new(
            TraceId::from_bytes(tp.trace_id),
            SpanId::from_bytes(tp.parent_id),
            TraceFlags::new(tp.flags),
            true,
            state,
        );
        let _ = span.set_parent(opentelemetry::Context::new().with_remote_span_context(remote));
    }

    /// The context to send on a call made from inside `span`: this context's tenant, actor,
    /// imposed rule and baggage, with `traceparent`/`tracestate` of `span` itself (or of this
    /// context when `span` is not traced).
    pub fn outgoing_from(&self, span: &tracing::Span) -> Self {
        let cx = span.context();
        let otel_span = cx.span();
        let sc = otel_span.span_context();
        if !sc.is_valid() {
            return self.clone();
        }
        let tracestate = TraceState::parse(&sc.trace_state().header()).unwrap_or_default();
        Self {
            traceparent: Some(TraceParent {
                version: 0,
                trace_id: sc.trace_id().to_bytes(),
                parent_id: sc.span_id().to_bytes(),
                flags: sc.trace_flags().to_u8(),
            }),
            tracestate,
            ..self.clone()
        }
    }
}
