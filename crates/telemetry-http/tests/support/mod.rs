//! A router over in-memory parts, fixed tokens and a manual clock, plus request helpers.
#![allow(dead_code, unreachable_pub)]

use axum::Router;
use axum::body::Body;
use chrono::{DateTime, Utc};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use std::sync::Arc;
use stellaops_bundle_format::Signal;
use stellaops_dsse::HmacSha256Key;
use stellaops_telemetry_http::{
    AuditSink, ForensicExporter, ManualClock, MemoryAudit, MemoryExporter, MemoryIncidentRegistry,
    Principal, StaticTokens, TelemetryRouter, TelemetryState, TelemetryStateBuilder,
};
use tower::ServiceExt as _;

pub const NOW: &str = "2025-03-01T12:00:00Z";
pub const SECRET: [u8; 32] = [7; 32];

pub fn now() -> DateTime<Utc> {
    NOW.parse().unwrap()
}

pub fn key() -> HmacSha256Key {
    HmacSha256Key::new("site-key", SECRET.to_vec()).unwrap()
}

/// `(token, subject, tenant, scopes)` of every fixture token.
pub const TOKENS: &[(&str, &str, &str, &[&str])] = &[
    ("acme-read", "reader@acme", "acme", &["telemetry:read"]),
    ("acme-admin", "admin@acme", "acme", &["telemetry:admin"]),
    ("acme-export", "auditor@acme", "acme", &["telemetry:export"]),
    ("acme-none", "nobody@acme", "acme", &[]),
    (
        "acme-all",
        "ops@acme",
        "acme",
        &["telemetry:read", "telemetry:admin", "telemetry:export"],
    ),
    (
        "globex-all",
        "ops@globex",
        "globex",
        &["telemetry:read", "telemetry:admin", "telemetry:export"],
    ),
];

pub struct Fixture {
    pub router: Router,
    pub audit: Arc<MemoryAudit>,
    pub clock: Arc<ManualClock>,
    pub exporter: Arc<MemoryExporter>,
    pub incidents: Arc<MemoryIncidentRegistry>,
}

pub fn tokens() -> StaticTokens {
    let mut tokens = StaticTokens::new();
    for (token, subject, tenant, scopes) in TOKENS {
        tokens.insert(
            token,
            Principal::new(*subject, *tenant, scopes.iter().copied()),
        );
    }
    tokens
}

impl Fixture {
    pub fn new() -> Self {
        Self::with(|b| b)
    }

    pub fn with(customise: impl FnOnce(TelemetryStateBuilder) -> TelemetryStateBuilder) -> Self {
        Self::build(None, customise)
    }

    /// A fixture whose router uses `exporter` instead of the in-memory one.
    pub fn with_exporter(exporter: Arc<dyn ForensicExporter>) -> Self {
        Self::build(Some(exporter), |b| b)
    }

    /// A fixture with an optional replacement exporter and builder changes.
    pub fn build(
        exporter_override: Option<Arc<dyn ForensicExporter>>,
        customise: impl FnOnce(TelemetryStateBuilder) -> TelemetryStateBuilder,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(now()));
        let audit = Arc::new(MemoryAudit::new());
        let exporter = Arc::new(MemoryExporter::new(Arc::new(key()), clock.clone()));
        let incidents = Arc::new(MemoryIncidentRegistry::new(clock.clone()));
        let hour = chrono::Duration::hours(1);
        exporter.push(
            "acme",
            now() - hour,
            Signal::Traces,
            b"acme-trace-1h".to_vec(),
        );
        exporter.push(
            "acme",
            now() - hour * 2,
            Signal::Logs,
            b"acme-log-2h".to_vec(),
        );
        exporter.push(
            "acme",
            now() - hour * 48,
            Signal::Traces,
            b"acme-trace-48h".to_vec(),
        );
        exporter.push(
            "globex",
            now() - hour,
            Signal::Traces,
            b"globex-secret".to_vec(),
        );
        let builder = TelemetryState::builder(
            Arc::new(tokens()),
            incidents.clone(),
            exporter_override.unwrap_or_else(|| exporter.clone()),
            Arc::new(key()),
        )
        .clock(clock.clone())
        .audit(audit.clone() as Arc<dyn AuditSink>)
        .metrics(Arc::new(|| {
            "# TYPE stellaops_request_total counter\nstellaops_request_total{service=\"demo\",status=\"200\"} 3\n# EOF\n"
                .to_owned()
        }));
        let state = customise(builder).build().unwrap();
        Fixture {
            router: TelemetryRouter::new(state).into_router(),
            audit,
            clock,
            exporter,
            incidents,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> Reply {
        send(&self.router, method, uri, token, body, &[]).await
    }
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// `(code, field)` of a JSON error body.
    pub fn error(&self) -> (String, Option<String>) {
        let json = self.json();
        let error = &json["error"];
        assert!(
            error["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{json}"
        );
        (
            error["code"].as_str().unwrap().to_owned(),
            error["field"].as_str().map(str::to_owned),
        )
    }
}

pub async fn send(
    router: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}
