//! Request input checks the handlers share: the tenant name rules, the `tenant` query
//! parameter, and cutting echoed input to a bounded length for messages and audit records.
//! Not where a request body is parsed.

use crate::error::ApiError;
use http::Uri;

/// The longest tenant name accepted.
pub const MAX_TENANT_LEN: usize = 128;

/// Refuses a tenant name that is empty, too long or holds control characters; `field` names
/// where it came from.
pub(super) fn check_tenant(tenant: &str, field: &str) -> Result<(), ApiError> {
    if tenant.trim().is_empty()
        || tenant.len() > MAX_TENANT_LEN
        || tenant.chars().any(char::is_control)
    {
        return Err(ApiError::bad_request(
            "telemetry.http.invalid_tenant",
            format!(
                "{field}: expected a non-empty tenant of at most {MAX_TENANT_LEN} bytes without control characters, found {tenant:?}"
            ),
            field,
        ));
    }
    Ok(())
}

/// The `tenant` query parameter, percent-decoded (`+` as space), if given.
pub(super) fn query_tenant(uri: &Uri) -> Result<Option<String>, ApiError> {
    let Some(query) = uri.query() else {
        return Ok(None);
    };
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "tenant" {
            continue;
        }
        let value = value.replace('+', " ");
        let decoded = percent_encoding::percent_decode_str(&value)
            .decode_utf8()
            .map_err(|_| {
                ApiError::bad_request(
                    "telemetry.http.invalid_tenant",
                    "tenant: the query value is not UTF-8 once percent-decoded",
                    "tenant",
                )
            })?
            .into_owned();
        check_tenant(&decoded, "tenant")?;
        return Ok(Some(decoded));
    }
    Ok(None)
}

/// `text` cut to at most `max` bytes on a character boundary, with `…` when it was cut.
pub(super) fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}
