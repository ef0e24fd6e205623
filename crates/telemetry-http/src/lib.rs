//! `stellaops-telemetry-http`: the HTTP surface of Stella Ops telemetry. One axum router a
//! service mounts: signed collector config bundles per profile, incident (forensic) mode
//! toggles and status, streamed signed forensic exports, `/metrics`, `/healthz`, `/readyz`;
//! bearer authentication behind the [`Authorizer`] trait, one scope per endpoint, strict
//! tenant isolation (no cross-tenant access, ever), JSON errors naming the offending field, and
//! an audit record for every toggle and export, refused attempts included.
//!
//! ```
//! use std::sync::Arc;
//! use axum::body::Body;
//! use http::Request;
//! use stellaops_dsse::HmacSha256Key;
//! use stellaops_telemetry_http::{
//!     ManualClock, MemoryAudit, MemoryExporter, MemoryIncidentRegistry, Principal,
//!     StaticTokens, TelemetryRouter, TelemetryState,
//! };
//! use tower::ServiceExt as _;
//!
//! # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
//! let clock = Arc::new(ManualClock::new("2025-03-01T00:00:00Z".parse()?));
//! let key = Arc::new(HmacSha256Key::new("site", vec![7u8; 32])?);
//! let tokens = StaticTokens::new()
//!     .with("admin-token", Principal::new("ops@acme", "acme", ["telemetry:admin"]));
//! let audit = Arc::new(MemoryAudit::new());
//! let state = TelemetryState::builder(
//!     Arc::new(tokens),
//!     Arc::new(MemoryIncidentRegistry::new(clock.clone())),
//!     Arc::new(MemoryExporter::new(key.clone(), clock.clone())),
//!     key,
//! )
//! .clock(clock)
//! .audit(audit.clone())
//! .build()?;
//! let router = TelemetryRouter::new(state).into_router();
//!
//! let request = Request::post("/telemetry/incidents/mode")
//!     .header("authorization", "Bearer admin-token")
//!     .body(Body::from(r#"{"tenant":"acme","enabled":true,"reason":"CVE-2025-12345","ttl":"30m"}"#))?;
//! let response = router.oneshot(request).await?;
//! assert_eq!(response.status(), 200);
//! assert_eq!(audit.records()[0].actor, "ops@acme");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Modules: [`auth`] (principals, scopes, [`StaticTokens`], [`JwtHs256`]), [`router`]
//! ([`TelemetryRouter`], [`TelemetryState`]), [`incident`] ([`IncidentApi`],
//! `MemoryIncidentRegistry`), [`export`] ([`ForensicExporter`], `MemoryExporter`),
//! [`audit`] ([`AuditSink`], [`TracingAudit`], `MemoryAudit`, [`FanOut`]), [`window`]
//! (export windows), [`config`] (signed config bundles), [`error`] ([`ApiError`]),
//! [`clock`], [`tls`] (serving the router over TLS: [`TlsServer`], [`serve_tls`]). The HTTP API is specified in `docs/http-api.md`.
//!
//! # Feature flags
//!
//! - `testing` (off by default): the in-memory test doubles `MemoryAudit`, `MemoryExporter`
//!   and `MemoryIncidentRegistry` (module `testing`), for a service's tests of the router.
//!   The example above uses them; enable the feature in `[dev-dependencies]`.
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

pub mod audit;
pub mod auth;
pub mod clock;
pub mod config;
pub mod error;
pub mod export;
pub mod incident;
pub mod router;
pub mod service;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tls;
pub mod window;

pub use audit::{AuditAction, AuditOutcome, AuditRecord, AuditSink, FanOut, TracingAudit};
pub use auth::{
    AuthError, Authorizer, JwtHs256, Principal, SCOPE_ADMIN, SCOPE_EXPORT, SCOPE_READ, StaticTokens,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{ConfigError, ProfileBundle, ProfileBundles};
pub use error::{ApiError, ApiErrorKind};
pub use export::{ExportError, ForensicExporter};
pub use incident::{IncidentApi, IncidentView};
pub use router::{
    MetricsSource, Readiness, TelemetryRouter, TelemetryState, TelemetryStateBuilder,
};
pub use service::{TelemetryExporter, TelemetryIncidents};
#[cfg(any(test, feature = "testing"))]
pub use testing::{MemoryAudit, MemoryExporter, MemoryIncidentRegistry};
pub use tls::{PeerCertificates, TlsServer, serve_tls};
