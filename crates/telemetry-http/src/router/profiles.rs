//! The config handlers: `GET /telemetry/config/profiles` (the signed bundles' summaries) and
//! `GET /telemetry/config/profile/{name}` (one signed bundle, with `ETag` and
//! `If-None-Match`). Not where bundles are rendered or signed: see [`crate::config`].

use super::access::require_scope;
use super::response::json_response;
use super::state::AppState;
use crate::auth::SCOPE_READ;
use crate::config::summary;
use crate::error::{ApiError, ApiErrorKind};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::{Value, json};
use stellaops_telemetry_model::profile::Profile;

pub(super) async fn list_profiles(State(state): AppState, headers: HeaderMap) -> Response {
    let principal = match state.authenticate(&headers) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = require_scope(&principal, SCOPE_READ) {
        return e.into_response();
    }
    let profiles: Vec<Value> = state.profiles.all().iter().map(summary).collect();
    json_response(StatusCode::OK, &json!({ "profiles": profiles }))
}

fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|candidate| {
            candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
        })
}

pub(super) async fn get_profile(
    State(state): AppState,
    headers: HeaderMap,
    name: Result<Path<String>, PathRejection>,
) -> Response {
    let principal = match state.authenticate(&headers) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = require_scope(&principal, SCOPE_READ) {
        return e.into_response();
    }
    let Ok(Path(name)) = name else {
        return ApiError::bad_request(
            "telemetry.config.invalid_profile",
            "name: the profile name is not valid UTF-8",
            "name",
        )
        .into_response();
    };
    let Some(bundle) = state.profiles.get(&name) else {
        return ApiError::new(
            ApiErrorKind::NotFound,
            "telemetry.config.unknown_profile",
            format!(
                "no profile {name:?}; expected one of {}",
                Profile::NAMES.join(", ")
            ),
        )
        .with_field("name")
        .into_response();
    };
    let etag = HeaderValue::from_str(&bundle.etag).ok();
    let mut response = if etag_matches(&headers, &bundle.etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = (StatusCode::OK, bundle.body.clone()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    let h = response.headers_mut();
    if let Some(etag) = etag {
        h.insert(header::ETAG, etag);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
