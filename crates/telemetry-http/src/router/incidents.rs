//! The incident handlers: `POST /telemetry/incidents/mode` (validated body, scope and tenant
//! checks, the toggle on a blocking thread, an audit record for every attempt) and
//! `GET /telemetry/incidents/status`. Not where incidents are kept: see [`crate::incident`].

use super::access::{require_scope, require_tenant};
use super::input::{MAX_TENANT_LEN, check_tenant, query_tenant, truncate};
use super::response::json_response;
use super::state::AppState;
use crate::audit::{AuditAction, AuditOutcome};
use crate::auth::{Principal, SCOPE_ADMIN, SCOPE_READ};
use crate::error::ApiError;
use crate::incident::{DEFAULT_TTL, MAX_TTL, format_ttl, parse_ttl};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, StatusCode, Uri};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The longest incident reason accepted.
pub const MAX_REASON_LEN: usize = 1024;

/// The validated body of `POST /telemetry/incidents/mode`.
struct ModeRequest {
    tenant: String,
    enabled: bool,
    reason: Option<String>,
    ttl: Duration,
}

fn invalid(field: &str, message: String) -> ApiError {
    ApiError::bad_request("telemetry.http.invalid_field", message, field)
}

fn parse_mode(body: &[u8]) -> Result<ModeRequest, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            "telemetry.http.invalid_json",
            format!("expected a JSON object {{tenant, enabled, reason, ttl}}: {e}"),
            "body",
        )
    })?;
    let Value::Object(map) = value else {
        return Err(ApiError::bad_request(
            "telemetry.http.invalid_json",
            "expected a JSON object {tenant, enabled, reason, ttl}",
            "body",
        ));
    };
    if let Some(unknown) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "tenant" | "enabled" | "reason" | "ttl"))
    {
        return Err(ApiError::bad_request(
            "telemetry.http.unknown_field",
            format!("unknown field {unknown:?}; expected tenant, enabled, reason, ttl"),
            unknown.as_str(),
        ));
    }
    let missing = |field: &str| {
        ApiError::bad_request(
            "telemetry.http.missing_field",
            format!("the body has no {field}"),
            field,
        )
    };
    let tenant = match map.get("tenant") {
        None | Some(Value::Null) => return Err(missing("tenant")),
        Some(Value::String(t)) => t.clone(),
        Some(other) => {
            return Err(invalid(
                "tenant",
                format!("tenant: expected a string, found {other}"),
            ));
        }
    };
    check_tenant(&tenant, "tenant")?;
    let enabled = match map.get("enabled") {
        None | Some(Value::Null) => return Err(missing("enabled")),
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(invalid(
                "enabled",
                format!("enabled: expected true or false, found {other}"),
            ));
        }
    };
    let reason = match map.get("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(r)) if !r.trim().is_empty() && r.len() <= MAX_REASON_LEN => {
            Some(r.clone())
        }
        Some(other) => {
            return Err(invalid(
                "reason",
                format!(
                    "reason: expected a non-empty string of at most {MAX_REASON_LEN} bytes, found {}",
                    truncate(&other.to_string(), 80)
                ),
            ));
        }
    };
    if enabled && reason.is_none() {
        return Err(missing("reason"));
    }
    let ttl = match map.get("ttl") {
        None | Some(Value::Null) => DEFAULT_TTL,
        Some(Value::String(t)) => match parse_ttl(t.trim()) {
            Some(ttl) if ttl <= MAX_TTL => ttl,
            _ => {
                return Err(ApiError::bad_request(
                    "telemetry.incident.invalid_ttl",
                    format!(
                        "ttl: expected a positive duration like 30m, 2h or 1d of at most {}, found {t:?}",
                        format_ttl(MAX_TTL)
                    ),
                    "ttl",
                ));
            }
        },
        Some(other) => {
            return Err(ApiError::bad_request(
                "telemetry.incident.invalid_ttl",
                format!("ttl: expected a string like \"30m\", found {other}"),
                "ttl",
            ));
        }
    };
    Ok(ModeRequest {
        tenant,
        enabled,
        reason,
        ttl,
    })
}

/// Best-effort fields of a body for the audit record of a refused attempt.
fn audit_fields(body: &[u8], principal: &Principal) -> (String, AuditAction) {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let tenant = value
        .get("tenant")
        .and_then(Value::as_str)
        .map_or_else(|| principal.tenant.clone(), |t| truncate(t, MAX_TENANT_LEN));
    let action = AuditAction::IncidentToggle {
        enabled: value
            .get("enabled")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        reason: value
            .get("reason")
            .and_then(Value::as_str)
            .map(|r| truncate(r, MAX_REASON_LEN)),
        ttl_seconds: value
            .get("ttl")
            .and_then(Value::as_str)
            .and_then(parse_ttl)
            .map(|t| t.as_secs()),
    };
    (tenant, action)
}

pub(super) async fn set_mode(State(state): AppState, headers: HeaderMap, body: Bytes) -> Response {
    let at = state.clock.now();
    let principal = match state.authenticate(&headers) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = require_scope(&principal, SCOPE_ADMIN) {
        let (tenant, action) = audit_fields(&body, &principal);
        state.audit(
            at,
            &principal,
            &tenant,
            action,
            AuditOutcome::Denied,
            Some(e.code()),
        );
        return e.into_response();
    }
    let request = match parse_mode(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let action = AuditAction::IncidentToggle {
        enabled: request.enabled,
        reason: request.reason.clone(),
        ttl_seconds: request.enabled.then_some(request.ttl.as_secs()),
    };
    if let Err(e) = require_tenant(&principal, &request.tenant) {
        state.audit(
            at,
            &principal,
            &request.tenant,
            action,
            AuditOutcome::Denied,
            Some(e.code()),
        );
        return e.into_response();
    }
    let incidents = Arc::clone(&state.incidents);
    let subject = principal.subject.clone();
    let tenant = request.tenant.clone();
    let result = tokio::task::spawn_blocking(move || {
        if request.enabled {
            let reason = request.reason.unwrap_or_default();
            incidents.start(&tenant, &reason, &subject, request.ttl)
        } else {
            incidents.stop(&tenant, &subject)
        }
    })
    .await
    .unwrap_or_else(|e| {
        Err(ApiError::internal(
            "telemetry.incident.failed",
            format!("the incident controller failed: {e}"),
        ))
    });
    match result {
        Ok(view) => {
            state.audit(
                at,
                &principal,
                &request.tenant,
                action,
                AuditOutcome::Ok,
                None,
            );
            json_response(StatusCode::OK, &json!(view))
        }
        Err(e) => {
            state.audit(
                at,
                &principal,
                &request.tenant,
                action,
                AuditOutcome::Failed,
                Some(e.code()),
            );
            e.into_response()
        }
    }
}

pub(super) async fn status(State(state): AppState, headers: HeaderMap, uri: Uri) -> Response {
    let principal = match state.authenticate(&headers) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = require_scope(&principal, SCOPE_READ) {
        return e.into_response();
    }
    let tenant = match query_tenant(&uri) {
        Ok(t) => t.unwrap_or_else(|| principal.tenant.clone()),
        Err(e) => return e.into_response(),
    };
    if let Err(e) = require_tenant(&principal, &tenant) {
        return e.into_response();
    }
    let incidents = state.incidents.status(Some(&tenant));
    json_response(StatusCode::OK, &json!({ "incidents": incidents }))
}
