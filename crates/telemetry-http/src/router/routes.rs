//! [`TelemetryRouter`]: the route table that joins each path and method to its handler,
//! and the JSON fallbacks for unknown routes and methods. Not where requests are handled.

use super::forensic_export::export;
use super::incidents::{set_mode, status};
use super::probes::{healthz, metrics, readyz};
use super::profiles::{get_profile, list_profiles};
use super::state::TelemetryState;
use crate::error::{ApiError, ApiErrorKind};
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::Uri;
use std::sync::Arc;

/// The telemetry router.
///
/// ```
/// use std::sync::Arc;
/// use stellaops_dsse::HmacSha256Key;
/// use stellaops_telemetry_http::{
///     ManualClock, MemoryExporter, MemoryIncidentRegistry, Principal, StaticTokens,
///     TelemetryRouter, TelemetryState,
/// };
///
/// let clock = Arc::new(ManualClock::new("2025-03-01T00:00:00Z".parse()?));
/// let key = Arc::new(HmacSha256Key::new("site", vec![7u8; 32])?);
/// let tokens = StaticTokens::new()
///     .with("t0ken", Principal::new("ops", "acme", ["telemetry:read", "telemetry:admin"]));
/// let state = TelemetryState::builder(
///     Arc::new(tokens),
///     Arc::new(MemoryIncidentRegistry::new(clock.clone())),
///     Arc::new(MemoryExporter::new(key.clone(), clock.clone())),
///     key,
/// )
/// .clock(clock)
/// .build()?;
/// let router: axum::Router = TelemetryRouter::new(state).into_router();
/// # let _ = router;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TelemetryRouter {
    state: Arc<TelemetryState>,
}

impl TelemetryRouter {
    /// A router over `state`.
    pub fn new(state: TelemetryState) -> Self {
        Self {
            state: Arc::new(state),
        }
    }

    /// The axum router (mount it, or serve it with `axum::serve`).
    pub fn into_router(self) -> Router {
        Router::new()
            .route("/telemetry/config/profiles", get(list_profiles))
            .route("/telemetry/config/profile/{name}", get(get_profile))
            .route("/telemetry/incidents/mode", post(set_mode))
            .route("/telemetry/incidents/status", get(status))
            .route("/telemetry/exports/forensic/{window}", get(export))
            .route("/metrics", get(metrics))
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .fallback(not_found)
            .method_not_allowed_fallback(method_not_allowed)
            .with_state(self.state)
    }
}

async fn not_found(uri: Uri) -> Response {
    ApiError::new(
        ApiErrorKind::NotFound,
        "telemetry.http.not_found",
        format!("no route {}", uri.path()),
    )
    .into_response()
}

async fn method_not_allowed(method: http::Method, uri: Uri) -> Response {
    ApiError::new(
        ApiErrorKind::MethodNotAllowed,
        "telemetry.http.method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
    .into_response()
}
