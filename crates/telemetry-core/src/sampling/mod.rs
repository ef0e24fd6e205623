//! In-process tail sampling: keep every error trace, every slow trace, every trace of a
//! tenant in forensic mode and every audit trace; keep a trace-id ratio (OpenTelemetry's
//! TraceIdRatioBased rule) of the rest. Bounded memory; late spans follow the decision.
//! See `docs/sampling.md`.
//!
//! Not head sampling: the SDK records everything and this module decides at the end.

mod clock;
mod config;
mod decision;
mod engine;
pub(crate) mod hash;
mod processor;
mod ratio;

pub use clock::{Clock, ManualClock, SystemClock, nanos_to_utc, unix_nanos};
pub use config::{SamplingConfig, SamplingConfigError, UpstreamPolicy};
pub use decision::{
    DECISIONS, Decision, DropReason, EARLY_CAUSES, EarlyCause, KeepReason, SamplerStats,
};
pub use engine::{AUDIT_ATTRIBUTE, ForensicTenants, SampledSpan, TENANT_ATTRIBUTE, TailSampler};
#[cfg(any(test, feature = "testing"))]
pub use processor::InMemorySpanSink;
pub use processor::{DEFAULT_HOUSEKEEPING, SpanEnricher, SpanSink, TailSamplingProcessor, Tick};
pub use ratio::TraceIdRatio;
