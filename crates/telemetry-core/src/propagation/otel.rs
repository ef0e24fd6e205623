//! Joining propagated context to `tracing` spans: make an incoming `traceparent` the parent of
//! a server span, and build the context for an outgoing call from the current span.
//!
//! Both work on spans recorded by telemetry's span layer (`init`'s subscriber); under another
//! subscriber they do nothing (`attach_as_parent`) or return the context unchanged
//! (`outgoing_from`).

use super::context::PropagationContext;
use super::traceparent::TraceParent;
use super::tracestate::TraceState;
use crate::span_layer::{RemoteParent, SpanLayer, span_context_of};
use tracing_subscriber::registry::Registry;

impl PropagationContext {
    /// Makes the caller's span (from `traceparent`, with `tracestate`) the remote parent of
    /// `span`, so the server span continues the caller's trace. Without a valid `traceparent`
    /// the span starts a new trace. Call before the span is first entered.
    pub fn attach_as_parent(&self, span: &tracing::Span) {
        let Some(tp) = self.traceparent else { return };
        let header = self.tracestate.to_header();
        let parent = RemoteParent {
            trace_id: tp.trace_id,
            span_id: tp.parent_id,
            flags: tp.flags,
            trace_state: (!header.is_empty()).then_some(header),
        };
        span.with_subscriber(|(id, dispatch)| {
            if let (Some(layer), Some(registry)) = (
                dispatch.downcast_ref::<SpanLayer>(),
                dispatch.downcast_ref::<Registry>(),
            ) {
                layer.attach_remote_parent(registry, id, parent);
            }
        });
    }

    /// The context to send on a call made from inside `span`: this context's tenant, actor,
    /// imposed rule and baggage, with `traceparent`/`tracestate` of `span` itself (or of this
    /// context when `span` is not traced).
    pub fn outgoing_from(&self, span: &tracing::Span) -> Self {
        let ids = span
            .with_subscriber(|(id, dispatch)| {
                dispatch
                    .downcast_ref::<Registry>()
                    .and_then(|registry| span_context_of(registry, id))
            })
            .flatten();
        let Some(RemoteParent {
            trace_id,
            span_id,
            flags,
            trace_state,
        }) = ids
        else {
            return self.clone();
        };
        let tracestate = trace_state
            .as_deref()
            .and_then(|h| TraceState::parse(h).ok())
            .unwrap_or_default();
        Self {
            traceparent: Some(TraceParent {
                version: 0,
                trace_id,
                parent_id: span_id,
                flags,
            }),
            tracestate,
            ..self.clone()
        }
    }
}
