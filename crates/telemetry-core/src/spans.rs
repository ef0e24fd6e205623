//! Span conventions: `http.request`, `db.query`, `policy.evaluate`,
//! `scan.image` and `sign.dsse`, with OpenTelemetry semantic-convention attribute names where
//! one exists and the specification's names otherwise; errors set the span status.
//!
//! ```
//! use stellaops_telemetry_core::spans;
//!
//! let span = spans::http_request("POST", "/api/scan");
//! let _entered = span.enter();
//! let db = spans::db_query("scans", "insert");
//! spans::record_error(&db, &std::io::Error::other("duplicate key"));
//! spans::record_http_status(&span, 500);
//! ```
//!
//! Not an instrumentation framework: these only name spans and attributes consistently.

use tracing::Span;
use tracing::field::Empty;

/// `http.request` (server side): `http.request.method`, `url.path`, and later
/// `http.response.status_code` (see [`record_http_status`]).
pub fn http_request(method: &str, path: &str) -> Span {
    tracing::info_span!(
        "http.request",
        otel.kind = "server",
        http.request.method = method,
        url.path = path,
        http.response.status_code = Empty,
        tenant = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
    )
}

/// `db.query` (MongoDB): `db.system.name`, `db.collection.name`, `db.operation.name`.
pub fn db_query(collection: &str, operation: &str) -> Span {
    tracing::info_span!(
        "db.query",
        otel.kind = "client",
        db.system.name = "mongodb",
        db.collection.name = collection,
        db.operation.name = operation,
        otel.status_code = Empty,
        otel.status_description = Empty,
    )
}

/// `policy.evaluate`: the specification's `policyId` and `version`.
pub fn policy_evaluate(policy_id: &str, version: &str) -> Span {
    tracing::info_span!(
        "policy.evaluate",
        policyId = policy_id,
        version = version,
        tenant = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
    )
}

/// `scan.image`: the specification's `imageRef` and `digest`.
pub fn scan_image(image_ref: &str, digest: &str) -> Span {
    tracing::info_span!(
        "scan.image",
        imageRef = image_ref,
        digest = digest,
        tenant = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
    )
}

/// `sign.dsse`: the specification's `predicateType`.
pub fn sign_dsse(predicate_type: &str) -> Span {
    tracing::info_span!(
        "sign.dsse",
        predicateType = predicate_type,
        otel.status_code = Empty,
        otel.status_description = Empty,
    )
}

/// Records the HTTP status; 5xx marks the span as an error (the server's fault), 4xx does not.
pub fn record_http_status(span: &Span, status: u16) {
    span.record("http.response.status_code", i64::from(status));
    if status >= 500 {
        span.record("otel.status_description", format!("HTTP {status}").as_str());
    }
}

/// Marks the span as failed with the error's message (the tail sampler keeps such traces).
pub fn record_error(span: &Span, error: &dyn std::error::Error) {
    // tracing-opentelemetry turns `otel.status_description` into an error status with this
    // message (`otel.status_code = "ERROR"` alone would lose the message).
    span.record("otel.status_description", error.to_string().as_str());
}

/// Records the tenant on a span made by these helpers.
pub fn record_tenant(span: &Span, tenant: &str) {
    span.record("tenant", tenant);
}
