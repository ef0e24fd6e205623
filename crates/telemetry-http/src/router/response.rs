//! The JSON response every handler's success body is written as. Not where error bodies are
//! written: that is [`ApiError`](crate::error::ApiError)'s `IntoResponse`.

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::Value;

/// `value` as `application/json` with a final newline.
pub(super) fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
