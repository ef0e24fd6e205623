//! The one error type every endpoint answers with: an HTTP status and the JSON body
//! `{"error": {"code": "...", "message": "...", "field": "..."}}` (`field` only when one
//! input field is to blame).

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

/// What kind of failure, which decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// 400: malformed input.
    BadRequest,
    /// 401: missing or bad credentials.
    Unauthorized,
    /// 403: missing scope or another tenant's data.
    Forbidden,
    /// 404: unknown route or resource.
    NotFound,
    /// 405: the route exists with another method.
    MethodNotAllowed,
    /// 409: the request conflicts with the current state.
    Conflict,
    /// 503: a dependency is not ready.
    Unavailable,
    /// 500: anything else.
    Internal,
}

impl ApiErrorKind {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            ApiErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ApiErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ApiErrorKind::NotFound => StatusCode::NOT_FOUND,
            ApiErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiErrorKind::Conflict => StatusCode::CONFLICT,
            ApiErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An API failure with a stable dotted code.
///
/// ```
/// use stellaops_telemetry_http::ApiError;
///
/// let err = ApiError::bad_request("telemetry.http.invalid_ttl", "ttl \"x\": expected 30m", "ttl");
/// assert_eq!(err.status().as_u16(), 400);
/// assert_eq!(err.field(), Some("ttl"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[{code}] {message}")]
pub struct ApiError {
    kind: ApiErrorKind,
    code: String,
    message: String,
    field: Option<String>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: Inner<'a>,
}

#[derive(Serialize)]
struct Inner<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl ApiError {
    /// An error of `kind`.
    pub fn new(kind: ApiErrorKind, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind,
            code: code.into(),
            message: message.into(),
            field: None,
        }
    }

    /// A 400 naming the input `field` to blame.
    pub fn bad_request(
        code: impl Into<String>,
        message: impl Into<String>,
        field: impl Into<String>,
    ) -> Self {
        Self::new(ApiErrorKind::BadRequest, code, message).with_field(field)
    }

    /// A 403.
    pub fn forbidden(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::Forbidden, code, message)
    }

    /// A 500.
    pub fn internal(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(ApiErrorKind::Internal, code, message)
    }

    /// Names the input field to blame.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The kind.
    pub fn kind(&self) -> ApiErrorKind {
        self.kind
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// The stable code (`telemetry.http.invalid_body`...).
    pub fn code(&self) -> &str {
        &self.code
    }

    /// The human message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The input field to blame, if one is.
    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    /// The JSON body bytes.
    pub fn to_json(&self) -> Vec<u8> {
        let body = Body {
            error: Inner {
                code: &self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        };
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), self.to_json()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if self.kind == ApiErrorKind::Unauthorized {
            // RFC 6750 §3: no error attribute when the request carried no token.
            let challenge = if self.code == "telemetry.auth.missing_token" {
                "Bearer realm=\"stellaops-telemetry\"".to_owned()
            } else {
                format!(
                    "Bearer realm=\"stellaops-telemetry\", error=\"invalid_token\", error_description=\"{}\"",
                    self.code
                )
            };
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_str(&challenge)
                    .unwrap_or_else(|_| HeaderValue::from_static("Bearer")),
            );
        }
        response
    }
}
