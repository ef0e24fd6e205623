//! The names of the propagated headers (HTTP and gRPC metadata) and the limits on the Stella
//! header values.

/// `traceparent`.
pub const TRACEPARENT: &str = "traceparent";
/// `tracestate`.
pub const TRACESTATE: &str = "tracestate";
/// `baggage`.
pub const BAGGAGE: &str = "baggage";
/// The tenant on HTTP.
pub const HTTP_TENANT: &str = "x-stella-tenant";
/// The acting principal on HTTP.
pub const HTTP_ACTOR: &str = "x-stella-actor";
/// The imposed policy rule on HTTP.
pub const HTTP_IMPOSED_RULE: &str = "x-stella-imposed-rule";
/// The tenant in gRPC metadata.
pub const GRPC_TENANT: &str = "stella-tenant";
/// The acting principal in gRPC metadata.
pub const GRPC_ACTOR: &str = "stella-actor";
/// The imposed policy rule in gRPC metadata.
pub const GRPC_IMPOSED_RULE: &str = "stella-imposed-rule";
/// The tenant value reserved for sealed diagnostics jobs.
pub const UNKNOWN_TENANT: &str = "unknown";

/// Longest tenant, actor or imposed-rule value accepted.
pub const MAX_STELLA_VALUE_LEN: usize = 128;
