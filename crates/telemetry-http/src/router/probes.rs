//! The unauthenticated probe handlers: `GET /metrics` (OpenMetrics text from the state's
//! [`MetricsSource`](super::state::MetricsSource)), `GET /healthz` and `GET /readyz`. Not where
//! metrics are collected.

use super::response::json_response;
use super::state::AppState;
use crate::error::{ApiError, ApiErrorKind};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;

/// The OpenMetrics content type of `GET /metrics`.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub(super) async fn metrics(State(state): AppState) -> Response {
    let text = state.metrics.encode();
    let mut response = (StatusCode::OK, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(OPENMETRICS_CONTENT_TYPE),
    );
    response
}

pub(super) async fn healthz() -> Response {
    json_response(StatusCode::OK, &json!({ "status": "ok" }))
}

pub(super) async fn readyz(State(state): AppState) -> Response {
    match state.readiness.check() {
        Ok(()) => json_response(StatusCode::OK, &json!({ "status": "ready" })),
        Err(why) => ApiError::new(
            ApiErrorKind::Unavailable,
            "telemetry.http.not_ready",
            format!("not ready: {why}"),
        )
        .into_response(),
    }
}
