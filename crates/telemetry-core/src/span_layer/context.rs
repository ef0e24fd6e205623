//! What other layers read from the spans this layer recorded: the span context that
//! `traceparent`/`tracestate` carry, and an event's trace and span ids and tenant.
//!
//! Not the propagation headers themselves (`crate::propagation`).

use super::local_trace::LeanSpan;
use crate::sampling::SampledSpan;
use tracing::span::Id;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

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
