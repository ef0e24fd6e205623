//! Context propagation: W3C `traceparent`, `tracestate` and `baggage`, and the Stella headers
//! `x-stella-tenant`, `x-stella-actor`, `x-stella-imposed-rule` (gRPC metadata without the
//! `x-` prefix), extracted from and injected into `http::HeaderMap`, plus a tower layer for
//! servers and a helper for outgoing requests.
//!
//! Not for span creation or sampling: the core's tracing layers take the parent from here.

mod baggage;
mod context;
mod error;
mod headers;
mod layer;
mod otel;
mod traceparent;
mod tracestate;

pub use baggage::{Baggage, BaggageMember, MAX_BAGGAGE_BYTES, MAX_BAGGAGE_MEMBERS};
pub use context::{Carrier, Extracted, PropagationContext};
pub use error::PropagationError;
pub use headers::{
    BAGGAGE, GRPC_ACTOR, GRPC_IMPOSED_RULE, GRPC_TENANT, HTTP_ACTOR, HTTP_IMPOSED_RULE,
    HTTP_TENANT, MAX_STELLA_VALUE_LEN, TRACEPARENT, TRACESTATE, UNKNOWN_TENANT,
};
pub use layer::{PropagationLayer, PropagationService};
pub use traceparent::TraceParent;
pub use tracestate::{MAX_TRACESTATE_MEMBERS, MIN_PROPAGATED_LEN, TraceState};
