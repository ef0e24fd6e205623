//! The router: exactly the routes of advisory §9 plus `/metrics`, `/healthz` and `/readyz`,
//! with bearer authentication, per-endpoint scopes, tenant isolation, JSON errors and audit.
//!
//! | route | scope |
//! |---|---|
//! | `GET /telemetry/config/profiles` | `telemetry:read` |
//! | `GET /telemetry/config/profile/{name}` | `telemetry:read` |
//! | `POST /telemetry/incidents/mode` | `telemetry:admin` |
//! | `GET /telemetry/incidents/status` | `telemetry:read` |
//! | `GET /telemetry/exports/forensic/{window}` | `telemetry:export` |
//! | `GET /metrics`, `GET /healthz`, `GET /readyz` | none |

use crate::audit::{AuditAction, AuditOutcome, AuditRecord, AuditSink, TracingAudit};
use crate::auth::{Authorizer, Principal, SCOPE_ADMIN, SCOPE_EXPORT, SCOPE_READ};
use crate::clock::{Clock, SystemClock};
use crate::config::{ConfigError, ProfileBundles, summary};
use crate::error::{ApiError, ApiErrorKind};
use crate::export::ForensicExporter;
use crate::incident::{DEFAULT_TTL, IncidentApi, MAX_TTL, format_ttl, parse_ttl};
use crate::window::parse_export_window;
use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;
use stellaops_federation_dsse::EnvelopeSigner;
use stellaops_telemetry_core::profile::Profile;
use stellaops_telemetry_deploy::collector::Site;
use tokio::sync::mpsc;

/// Size of one streamed export chunk.
pub const EXPORT_CHUNK: usize = 64 * 1024;
/// Chunks buffered between the exporter thread and the client (memory bound per export is
/// about `EXPORT_CHUNK * (EXPORT_QUEUE + 2)`).
pub const EXPORT_QUEUE: usize = 4;
/// The longest tenant name accepted.
pub const MAX_TENANT_LEN: usize = 128;
/// The longest incident reason accepted.
pub const MAX_REASON_LEN: usize = 1024;
/// The OpenMetrics content type of `GET /metrics`.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The OpenMetrics text `GET /metrics` serves (a prometheus-client registry encoder, usually).
pub trait MetricsSource: Send + Sync {
    /// The exposition, ending with `# EOF`.
    fn encode(&self) -> String;
}

impl<F: Fn() -> String + Send + Sync> MetricsSource for F {
    fn encode(&self) -> String {
        self()
    }
}

/// What `GET /readyz` asks: `Ok` when the service can take traffic, else why not.
pub trait Readiness: Send + Sync {
    /// Checks readiness.
    ///
    /// # Errors
    /// A description of what is not ready (returned in the 503 body).
    fn check(&self) -> Result<(), String>;
}

impl<F: Fn() -> Result<(), String> + Send + Sync> Readiness for F {
    fn check(&self) -> Result<(), String> {
        self()
    }
}

/// Everything the router needs; build with [`TelemetryState::builder`].
#[derive(Clone)]
pub struct TelemetryState {
    authorizer: Arc<dyn Authorizer>,
    incidents: Arc<dyn IncidentApi>,
    exporter: Arc<dyn ForensicExporter>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
    profiles: Arc<ProfileBundles>,
    metrics: Arc<dyn MetricsSource>,
    readiness: Arc<dyn Readiness>,
}

impl std::fmt::Debug for TelemetryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryState")
            .field("clock", &self.clock)
            .field("profiles", &self.profiles.all().len())
            .finish_non_exhaustive()
    }
}

/// Builds a [`TelemetryState`]: the authorizer, the incident API, the exporter and the config
/// signer are required; audit defaults to [`TracingAudit`], the clock to [`SystemClock`],
/// metrics to an empty exposition, readiness to always ready, sites to
/// [`Site::for_profile`].
pub struct TelemetryStateBuilder {
    authorizer: Arc<dyn Authorizer>,
    incidents: Arc<dyn IncidentApi>,
    exporter: Arc<dyn ForensicExporter>,
    signer: Arc<dyn EnvelopeSigner>,
    audit: Arc<dyn AuditSink>,
    clock: Arc<dyn Clock>,
    metrics: Arc<dyn MetricsSource>,
    readiness: Arc<dyn Readiness>,
    site_for: Box<dyn Fn(&Profile) -> Site + Send + Sync>,
}

impl std::fmt::Debug for TelemetryStateBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryStateBuilder")
            .field("signer", &self.signer.key_id())
            .finish_non_exhaustive()
    }
}

impl TelemetryState {
    /// Starts a builder with the required parts.
    pub fn builder(
        authorizer: Arc<dyn Authorizer>,
        incidents: Arc<dyn IncidentApi>,
        exporter: Arc<dyn ForensicExporter>,
        config_signer: Arc<dyn EnvelopeSigner>,
    ) -> TelemetryStateBuilder {
        TelemetryStateBuilder {
            authorizer,
            incidents,
            exporter,
            signer: config_signer,
            audit: Arc::new(TracingAudit),
            clock: Arc::new(SystemClock),
            metrics: Arc::new(|| "# EOF\n".to_owned()),
            readiness: Arc::new(|| Ok(())),
            site_for: Box::new(Site::for_profile),
        }
    }
}

impl TelemetryStateBuilder {
    /// Where audit records go.
    pub fn audit(mut self, audit: Arc<dyn AuditSink>) -> Self {
        self.audit = audit;
        self
    }

    /// The clock for windows and audit times.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The `/metrics` exposition.
    pub fn metrics(mut self, metrics: Arc<dyn MetricsSource>) -> Self {
        self.metrics = metrics;
        self
    }

    /// The `/readyz` check.
    pub fn readiness(mut self, readiness: Arc<dyn Readiness>) -> Self {
        self.readiness = readiness;
        self
    }

    /// The site each profile's collector config is rendered for.
    pub fn site_for(mut self, site_for: impl Fn(&Profile) -> Site + Send + Sync + 'static) -> Self {
        self.site_for = Box::new(site_for);
        self
    }

    /// Renders and signs the config bundles and returns the state.
    ///
    /// # Errors
    /// [`ConfigError`] when a profile cannot be rendered or signed.
    pub fn build(self) -> Result<TelemetryState, ConfigError> {
        let profiles = ProfileBundles::render(self.signer.as_ref(), &*self.site_for)?;
        Ok(TelemetryState {
            authorizer: self.authorizer,
            incidents: self.incidents,
            exporter: self.exporter,
            audit: self.audit,
            clock: self.clock,
            profiles: Arc::new(profiles),
            metrics: self.metrics,
            readiness: self.readiness,
        })
    }
}

/// The telemetry router.
///
/// ```
/// use std::sync::Arc;
/// use stellaops_federation_dsse::HmacSha256Key;
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

type AppState = State<Arc<TelemetryState>>;

fn json_response(status: StatusCode, value: &Value) -> Response {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl TelemetryState {
    fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
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

    fn audit(
        &self,
        at: DateTime<Utc>,
        principal: &Principal,
        tenant: &str,
        action: AuditAction,
        outcome: AuditOutcome,
        code: Option<&str>,
    ) {
        self.audit.record(&AuditRecord {
            at,
            actor: principal.subject.clone(),
            actor_tenant: principal.tenant.clone(),
            tenant: tenant.to_owned(),
            action,
            outcome,
            code: code.map(str::to_owned),
        });
    }
}

fn require_scope(principal: &Principal, scope: &str) -> Result<(), ApiError> {
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

fn require_tenant(principal: &Principal, tenant: &str) -> Result<(), ApiError> {
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

fn check_tenant(tenant: &str, field: &str) -> Result<(), ApiError> {
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
fn query_tenant(uri: &Uri) -> Result<Option<String>, ApiError> {
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

async fn list_profiles(State(state): AppState, headers: HeaderMap) -> Response {
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

async fn get_profile(
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

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
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

async fn set_mode(State(state): AppState, headers: HeaderMap, body: Bytes) -> Response {
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

async fn status(State(state): AppState, headers: HeaderMap, uri: Uri) -> Response {
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

/// What the exporter thread sends the response body.
enum Chunk {
    Data(Bytes),
    Failed(ApiError),
}

/// An `io::Write` that forwards `EXPORT_CHUNK`-sized chunks into the bounded channel,
/// blocking while it is full, failing once the client is gone; it hashes what it sent.
struct ChannelWriter {
    tx: mpsc::Sender<Chunk>,
    buf: Vec<u8>,
    hasher: Sha256,
    sent: u64,
}

impl ChannelWriter {
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(EXPORT_CHUNK));
        let len = chunk.len() as u64;
        self.hasher.update(&chunk);
        self.tx
            .blocking_send(Chunk::Data(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))?;
        self.sent += len;
        Ok(())
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = EXPORT_CHUNK.saturating_sub(self.buf.len());
        let n = data.len().min(room);
        self.buf
            .extend_from_slice(data.get(..n).unwrap_or_default());
        if self.buf.len() >= EXPORT_CHUNK {
            self.send_buffer()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

fn safe_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

async fn export(
    State(state): AppState,
    method: http::Method,
    headers: HeaderMap,
    uri: Uri,
    window: Result<Path<String>, PathRejection>,
) -> Response {
    let at = state.clock.now();
    let principal = match state.authenticate(&headers) {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let window_text = match &window {
        Ok(Path(w)) => w.clone(),
        Err(_) => String::new(),
    };
    let denied_action = || AuditAction::ForensicExport {
        window: truncate(&window_text, 200),
        start: None,
        end: None,
        bytes: 0,
        digest: None,
    };
    if let Err(e) = require_scope(&principal, SCOPE_EXPORT) {
        let tenant = principal.tenant.clone();
        state.audit(
            at,
            &principal,
            &tenant,
            denied_action(),
            AuditOutcome::Denied,
            Some(e.code()),
        );
        return e.into_response();
    }
    let tenant = match query_tenant(&uri) {
        Ok(t) => t.unwrap_or_else(|| principal.tenant.clone()),
        Err(e) => return e.into_response(),
    };
    if let Err(e) = require_tenant(&principal, &tenant) {
        state.audit(
            at,
            &principal,
            &tenant,
            denied_action(),
            AuditOutcome::Denied,
            Some(e.code()),
        );
        return e.into_response();
    }
    if window.is_err() {
        return ApiError::bad_request(
            "telemetry.capture.invalid_window",
            "window: not valid UTF-8 once percent-decoded",
            "window",
        )
        .into_response();
    }
    let parsed = match parse_export_window(&window_text, at) {
        Ok(w) => w,
        Err(e) => {
            return ApiError::bad_request(e.code(), e.to_string(), "window").into_response();
        }
    };

    let disposition = format!(
        "attachment; filename=\"forensic-{}-{}-{}.tar.gz\"",
        safe_name(&tenant),
        parsed.start.format("%Y%m%dT%H%M%SZ"),
        parsed.end.format("%Y%m%dT%H%M%SZ")
    );
    if method == http::Method::HEAD {
        // A probe (`curl -I`): access and window are checked, nothing is exported or audited.
        return export_response(Body::empty(), &disposition);
    }
    let (tx, mut rx) = mpsc::channel::<Chunk>(EXPORT_QUEUE);
    let task_state = Arc::clone(&state);
    let task_tenant = tenant.clone();
    let task_principal = principal.clone();
    let task_window = window_text.clone();
    tokio::task::spawn_blocking(move || {
        let mut writer = ChannelWriter {
            tx,
            buf: Vec::with_capacity(EXPORT_CHUNK),
            hasher: Sha256::new(),
            sent: 0,
        };
        let result = task_state
            .exporter
            .export(&task_tenant, &parsed, &mut writer)
            .and_then(|()| writer.flush().map_err(Into::into));
        let (outcome, code) = match &result {
            Ok(()) => (AuditOutcome::Ok, None),
            Err(e) => (AuditOutcome::Failed, Some(e.code())),
        };
        let digest = (writer.sent > 0)
            .then(|| format!("sha256:{}", hex::encode(writer.hasher.clone().finalize())));
        task_state.audit(
            at,
            &task_principal,
            &task_tenant,
            AuditAction::ForensicExport {
                window: truncate(&task_window, 200),
                start: Some(parsed.start),
                end: Some(parsed.end),
                bytes: writer.sent,
                digest,
            },
            outcome,
            code,
        );
        if let Err(e) = result {
            let error = ApiError::new(
                match e {
                    crate::export::ExportError::Unavailable(_) => ApiErrorKind::Unavailable,
                    _ => ApiErrorKind::Internal,
                },
                e.code(),
                e.to_string(),
            );
            // Ignored when the client is gone: nobody is left to tell.
            let _ = writer.tx.blocking_send(Chunk::Failed(error));
        }
    });

    let first = match rx.recv().await {
        Some(Chunk::Data(bytes)) => Some(bytes),
        Some(Chunk::Failed(e)) => return e.into_response(),
        None => None,
    };
    let stream = futures_stream(first, rx);
    export_response(Body::from_stream(stream), &disposition)
}

fn export_response(body: Body, disposition: &str) -> Response {
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/gzip"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(disposition) {
        h.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The body stream: the first chunk, then whatever the exporter sends; a failure after the
/// first byte aborts the body (the client sees a truncated transfer, never a short bundle
/// that looks complete).
fn futures_stream(
    first: Option<Bytes>,
    rx: mpsc::Receiver<Chunk>,
) -> impl tokio_stream::Stream<Item = Result<Bytes, io::Error>> + Send + 'static {
    use tokio_stream::StreamExt as _;
    let head = tokio_stream::iter(first.into_iter().map(Ok));
    let tail = tokio_stream::wrappers::ReceiverStream::new(rx).map(|chunk| match chunk {
        Chunk::Data(bytes) => Ok(bytes),
        Chunk::Failed(e) => Err(io::Error::other(e.to_string())),
    });
    head.chain(tail)
}

async fn metrics(State(state): AppState) -> Response {
    let text = state.metrics.encode();
    let mut response = (StatusCode::OK, text).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(OPENMETRICS_CONTENT_TYPE),
    );
    response
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, &json!({ "status": "ok" }))
}

async fn readyz(State(state): AppState) -> Response {
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
