//! Incident (forensic) mode as the API sees it: the [`IncidentApi`] trait the service
//! implements over its incident controller, the [`IncidentView`] it reports, and
//! `testing::MemoryIncidentRegistry` (feature `testing`), an in-memory implementation with an injected clock.
//!
//! Not the controller itself: sampling, log level and retention changes belong to
//! telemetry-core; this module only names the operations the router calls.

use crate::error::ApiError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The default incident TTL (30 minutes), as in the reference implementation.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30 * 60);
/// The longest TTL an incident may be started with (7 days).
pub const MAX_TTL: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// One tenant's incident state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentView {
    /// The tenant.
    pub tenant: String,
    /// Whether forensic mode is on now.
    pub active: bool,
    /// Why it was started (the last start, kept after it ends).
    pub reason: Option<String>,
    /// Who started or stopped it last.
    pub actor: Option<String>,
    /// What changed it last (`api` for this router; a controller may report `orchestrator`,
    /// `policy`, `circuit_breaker`...).
    pub source: String,
    /// When the current or last incident started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ends by itself (or ended).
    pub expires_at: Option<DateTime<Utc>>,
}

impl IncidentView {
    /// A tenant that never had an incident.
    pub fn inactive(tenant: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            active: false,
            reason: None,
            actor: None,
            source: "api".to_owned(),
            started_at: None,
            expires_at: None,
        }
    }
}

/// The incident operations behind `POST /telemetry/incidents/mode` and
/// `GET /telemetry/incidents/status`. Tenant checks are done by the router before any call.
pub trait IncidentApi: Send + Sync {
    /// Turns forensic mode on for `tenant` for `ttl` (restarting the TTL if it is on).
    ///
    /// # Errors
    /// An [`ApiError`] when the controller refuses (its status and code are returned).
    fn start(
        &self,
        tenant: &str,
        reason: &str,
        actor: &str,
        ttl: Duration,
    ) -> Result<IncidentView, ApiError>;

    /// Turns forensic mode off for `tenant` (a no-op that reports the state when it is off).
    ///
    /// # Errors
    /// An [`ApiError`] when the controller refuses.
    fn stop(&self, tenant: &str, actor: &str) -> Result<IncidentView, ApiError>;

    /// The state of `tenant`, or of every known tenant when `None`, ordered by tenant.
    fn status(&self, tenant: Option<&str>) -> Vec<IncidentView>;
}

/// Parses a TTL like `30m`, `2h`, `90s`, `1d` (a positive integer and one unit).
///
/// ```
/// use stellaops_telemetry_http::incident::parse_ttl;
/// assert_eq!(parse_ttl("30m"), Some(std::time::Duration::from_secs(1800)));
/// assert_eq!(parse_ttl("30"), None);
/// ```
pub fn parse_ttl(text: &str) -> Option<Duration> {
    let unit = text.chars().last()?;
    let digits = text.get(..text.len() - unit.len_utf8())?;
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    let seconds = match unit {
        's' => n,
        'm' => n.checked_mul(60)?,
        'h' => n.checked_mul(3600)?,
        'd' => n.checked_mul(86_400)?,
        _ => return None,
    };
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

/// Formats a TTL the way [`parse_ttl`] reads it (largest exact unit).
pub fn format_ttl(ttl: Duration) -> String {
    let s = ttl.as_secs();
    if s > 0 && s.is_multiple_of(86_400) {
        format!("{}d", s / 86_400)
    } else if s > 0 && s.is_multiple_of(3600) {
        format!("{}h", s / 3600)
    } else if s > 0 && s.is_multiple_of(60) {
        format!("{}m", s / 60)
    } else {
        format!("{s}s")
    }
}
