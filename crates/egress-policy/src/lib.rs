//! Sealed-mode egress guard for Stella Ops telemetry exporters: when an air-gapped site is
//! sealed, no telemetry leaves the host.
//!
//! ```
//! use stellaops_egress_policy::*;
//!
//! // Run-time state, shared with whatever seals and unseals the site.
//! let mode = SealedMode::new(SealState::Sealed);
//! let guard = EgressGuard::new(
//!     AllOf::new()
//!         .with(SealedModePolicy::new(mode.clone()))
//!         .with(ExporterAllowList::builder().endpoint("*.corp.example:4317")?.build()),
//! );
//!
//! let remote = EgressRequest::new(
//!     "otlp",
//!     Signal::Traces,
//!     Endpoint::parse("https://otel.corp.example:4317"),
//! );
//! let refused = guard.decide(&remote); // emits one structured tracing warning
//! assert!(!refused.allowed());
//! assert!(refused.remediation().unwrap().contains("http://127.0.0.1:4317"));
//!
//! let local = EgressRequest::new("otlp", Signal::Traces, Endpoint::parse("http://127.0.0.1:4317"));
//! assert!(guard.decide(&local).allowed());
//!
//! // Exporters are decided again when sealing changes.
//! let mut watcher = mode.subscribe();
//! mode.unseal();
//! assert!(watcher.changed().is_some());
//! assert!(guard.decide(&remote).allowed());
//! # Ok::<(), PatternError>(())
//! ```
//!
//! The pieces:
//! - [`Endpoint`]: parsed the way HTTP clients parse URLs (user info, `@`/`#`/backslash
//!   tricks, IPv4-mapped IPv6, brackets, ports, case) and classified into an
//!   [`EndpointClass`] without DNS. Only `localhost`, `127.0.0.0/8`, `::1` (and its
//!   IPv4-mapped form), Unix sockets and files are local; whatever clients could read in more
//!   than one way is remote.
//! - [`EgressPolicy`] decides an [`EgressRequest`] into an [`EgressDecision`] with a reason
//!   and, for denials, a remediation: [`SealedModePolicy`] (local only while sealed),
//!   [`ExporterAllowList`] (named exporters and endpoint patterns), [`AllOf`], and
//!   [`Unrestricted`] ("no policy configured means allow").
//! - [`SealedMode`]: sealed/unsealed state that changes at run time, observed through
//!   [`SealWatcher`] or [`SealedMode::on_change`].
//! - [`EgressGuard`]: one structured warning per refused exporter, and the counter
//!   `telemetry_egress_decisions_total{signal, decision}` ([`EgressMetrics`]).
//!
//! The classification table, with examples, is in `docs/egress-policy.md`.
//!
//! # Feature flags
//!
//! None. The crate needs no async runtime and does no I/O.
//!
//! # Supported Rust versions
//!
//! The workspace's `rust-version` (1.88) and later; developed on stable 1.95.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod allow_list;
mod endpoint;
mod error;
mod guard;
mod host;
mod policy;
mod sealed;

pub use allow_list::{AllowRule, EndpointPattern, ExporterAllowList, ExporterAllowListBuilder};
pub use endpoint::{Endpoint, EndpointClass, Scheme};
pub use error::{EndpointError, PatternError};
pub use guard::{
    DECISIONS_METRIC, EVENT_TARGET, EgressGuard, EgressMetrics, MAX_TRACKED_EXPORTERS,
};
pub use host::{Ambiguity, Host};
pub use policy::{AllOf, EgressDecision, EgressPolicy, EgressRequest, Unrestricted};
pub use sealed::{
    ListenerHandle, SealChange, SealState, SealWatcher, SealedMode, SealedModePolicy,
    UnknownSealState,
};
pub use stellaops_telemetry_model::signal::{Signal, UnknownSignal};
