//! Who is asking and what they may do: the bearer token read from `Authorization` and
//! handed to the [`Authorizer`](crate::auth::Authorizer), then the scope and tenant checks
//! each handler applies. Not where tokens are verified: that is the authorizer's job.

use super::state::TelemetryState;
use crate::auth::Principal;
use crate::error::{ApiError, ApiErrorKind};
use http::{HeaderMap, header};

impl TelemetryState {
    /// The principal of the request's bearer token (`None` when there is no
    /// `Authorization` header: the authorizer decides).
    pub(super) fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let unauthorized =
            |code: &str, message: String| ApiError::new(ApiErrorKind::Unauthorized, code, message);
        let bearer = match headers.get(header::AUTHORIZATION) {
            None => None,
            Some(value) => {
                let text = value.to_str().map_err(|_| {
                    unauthorized(
                        "telemetry.auth.malformed_token",
                        "the Authorization header is not visible ASCII".to_owned(),
                    )
                })?;
                let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
                if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
                    return Err(unauthorized(
                        "telemetry.auth.malformed_token",
                        "expected Authorization: Bearer <token>".to_owned(),
                    ));
                }
                Some(token.trim())
            }
        };
        self.authorizer
            .authorize(bearer)
            .map_err(|e| unauthorized(e.code(), e.to_string()))
    }
}

/// Refuses a principal without `scope`.
pub(super) fn require_scope(principal: &Principal, scope: &str) -> Result<(), ApiError> {
    if principal.has_scope(scope) {
        return Ok(());
    }
    let granted: Vec<&str> = principal.scopes.iter().map(String::as_str).collect();
    Err(ApiError::forbidden(
        "telemetry.auth.missing_scope",
        format!(
            "this endpoint needs scope {scope}; the token grants [{}]",
            granted.join(" ")
        ),
    ))
}

/// Refuses a principal of another tenant.
pub(super) fn require_tenant(principal: &Principal, tenant: &str) -> Result<(), ApiError> {
    if principal.tenant == tenant {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "telemetry.auth.tenant_forbidden",
        format!(
            "a principal of tenant {:?} may not act on tenant {tenant:?}",
            principal.tenant
        ),
    ))
}
