//! The tenant an event belongs to: its own `tenant` field, else the `tenant` attribute of
//! the innermost span around it. Shared by the log layer (the JSON line's `tenant`,
//! `"incident":true`) and the run-time level (the forensic override).
//!
//! Not where tenants are put into forensic mode (`crate::incident`).

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The span field that names the tenant.
pub const TENANT_FIELD: &str = "tenant";

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

/// The `tenant` field of an event.
pub(crate) fn tenant_of_event(event: &Event<'_>) -> Option<String> {
    let mut v = TenantVisitor(None);
    event.record(&mut v);
    v.0
}

/// The tenant of `event`: its own `tenant` field (`own`), else the innermost span's `tenant`
/// attribute (the span layer's record). What the JSON line's `tenant`
/// shows, what `"incident":true` and the level's forensic override are decided on.
pub(crate) fn event_tenant<S>(
    event: &Event<'_>,
    ctx: &Context<'_, S>,
    own: Option<&str>,
) -> Option<String>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    match own {
        Some(tenant) => Some(tenant.to_owned()),
        None => crate::span_layer::event_tenant(event, ctx),
    }
}
