//! Why a propagated header was refused: one error type for every header the propagation
//! module reads.

use super::headers::HTTP_TENANT;

/// Why a propagated header was not accepted. The request still proceeds: an invalid
/// `traceparent` starts a new trace, an invalid `tracestate` is dropped without losing the
/// `traceparent`, an invalid Stella header is treated as absent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PropagationError {
    /// `traceparent` broke the Trace Context rules.
    #[error("invalid traceparent {field}: {detail}")]
    TraceParent {
        /// The part that is wrong (`version`, `trace-id`, `parent-id`, `trace-flags`, `header`).
        field: &'static str,
        /// What was expected and what was found.
        detail: String,
    },
    /// More than one `traceparent` header arrived.
    #[error("{count} traceparent headers; exactly one is allowed")]
    DuplicateTraceParent {
        /// How many arrived.
        count: usize,
    },
    /// `tracestate` broke the grammar or limits; the whole header is dropped.
    #[error("invalid tracestate member {member:?}: {detail}")]
    TraceState {
        /// The offending member.
        member: String,
        /// What was wrong.
        detail: String,
    },
    /// A Stella header had an invalid value.
    #[error("invalid {header}: {detail}")]
    StellaHeader {
        /// The header name.
        header: &'static str,
        /// What was wrong.
        detail: String,
    },
    /// The request carries no tenant where one is required.
    #[error("missing {HTTP_TENANT}: every request must name its tenant")]
    MissingTenant,
    /// `unknown` was used as a tenant outside a sealed diagnostics job.
    #[error("tenant \"unknown\" is allowed only for sealed diagnostics jobs")]
    UnknownTenantNotAllowed,
}
