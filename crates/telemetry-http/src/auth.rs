//! Who is calling: the [`Authorizer`] trait a service implements with its Authority token
//! validation, and two provided implementations, [`StaticTokens`] and [`JwtHs256`].
//!
//! Authorization decisions (which scope an endpoint needs, tenant isolation) are the router's;
//! an authorizer only turns a bearer token into a [`Principal`] or refuses it.

use crate::clock::Clock;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde_json::Value;
use sha2::{Digest as _, Sha256};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Scope for reading configuration profiles and incident status.
pub const SCOPE_READ: &str = "telemetry:read";
/// Scope for toggling incident (forensic) mode.
pub const SCOPE_ADMIN: &str = "telemetry:admin";
/// Scope for streaming forensic exports.
pub const SCOPE_EXPORT: &str = "telemetry:export";

/// The longest bearer token accepted (bytes).
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// An authenticated caller. A principal acts on its own tenant only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who (the token's subject), recorded in audit events.
    pub subject: String,
    /// The tenant the caller belongs to.
    pub tenant: String,
    /// Granted scopes (`telemetry:read`, `telemetry:admin`, `telemetry:export`...).
    pub scopes: BTreeSet<String>,
}

impl Principal {
    /// A principal with `scopes`.
    pub fn new<I, S>(subject: impl Into<String>, tenant: impl Into<String>, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            subject: subject.into(),
            tenant: tenant.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
        }
    }

    /// Whether the principal holds `scope` (exact match; no scope implies another).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.contains(scope)
    }
}

/// Why a bearer token was refused (always HTTP 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("expected an Authorization: Bearer token, found none")]
    Missing,
    /// The token is not well-formed.
    #[error("malformed bearer token: {0}")]
    Malformed(String),
    /// Unknown token or bad signature.
    #[error("bearer token not recognised: {0}")]
    Invalid(String),
    /// Past its `exp`.
    #[error("bearer token expired at {0}")]
    Expired(DateTime<Utc>),
    /// Before its `nbf`.
    #[error("bearer token not valid before {0}")]
    NotYetValid(DateTime<Utc>),
}

impl AuthError {
    /// Stable code: `telemetry.auth.missing_token`, `telemetry.auth.malformed_token`,
    /// `telemetry.auth.invalid_token`, `telemetry.auth.expired_token`,
    /// `telemetry.auth.token_not_yet_valid`.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "telemetry.auth.missing_token",
            AuthError::Malformed(_) => "telemetry.auth.malformed_token",
            AuthError::Invalid(_) => "telemetry.auth.invalid_token",
            AuthError::Expired(_) => "telemetry.auth.expired_token",
            AuthError::NotYetValid(_) => "telemetry.auth.token_not_yet_valid",
        }
    }
}

/// Turns the bearer token of a request (without the `Bearer ` prefix; `None` when the request
/// has none) into a [`Principal`].
pub trait Authorizer: Send + Sync {
    /// Authenticates `bearer`.
    ///
    /// # Errors
    /// [`AuthError`] when the token is missing, malformed, unknown, badly signed or outside
    /// its validity period.
    fn authorize(&self, bearer: Option<&str>) -> Result<Principal, AuthError>;
}

impl<A: Authorizer + ?Sized> Authorizer for Arc<A> {
    fn authorize(&self, bearer: Option<&str>) -> Result<Principal, AuthError> {
        (**self).authorize(bearer)
    }
}

/// A fixed token → principal map (demo, tests, single-operator sites). Tokens are kept only
/// as SHA-256 digests, so lookups do not compare secret bytes.
///
/// ```
/// use stellaops_telemetry_http::{Authorizer, Principal, StaticTokens};
///
/// let tokens = StaticTokens::new().with("s3cret", Principal::new("ops", "acme", ["telemetry:read"]));
/// assert_eq!(tokens.authorize(Some("s3cret"))?.tenant, "acme");
/// assert_eq!(tokens.authorize(Some("guess")).unwrap_err().code(), "telemetry.auth.invalid_token");
/// # Ok::<(), stellaops_telemetry_http::AuthError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct StaticTokens {
    by_digest: HashMap<[u8; 32], Principal>,
}

impl StaticTokens {
    /// An empty map (refuses every token).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `token` for `principal` (replacing an earlier mapping of the same token).
    pub fn with(mut self, token: &str, principal: Principal) -> Self {
        self.insert(token, principal);
        self
    }

    /// Adds `token` for `principal`.
    pub fn insert(&mut self, token: &str, principal: Principal) {
        self.by_digest
            .insert(Sha256::digest(token.as_bytes()).into(), principal);
    }
}

impl Authorizer for StaticTokens {
    fn authorize(&self, bearer: Option<&str>) -> Result<Principal, AuthError> {
        let token = bearer.ok_or(AuthError::Missing)?;
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        self.by_digest
            .get(&digest)
            .cloned()
            .ok_or_else(|| AuthError::Invalid("unknown token".to_owned()))
    }
}

/// HMAC-SHA256 signed JWT bearer tokens (RFC 7519, `alg` `HS256` only), verified by hand.
///
/// Claims: `sub` (string, required), `tenant` (non-empty string, required), `scope`
/// (space-separated string, optional), `exp` (NumericDate, required), `nbf` (optional).
/// `exp`/`nbf` are checked against the injected clock with a leeway (default 0 s). Headers
/// with `crit` are refused; `iss`/`aud` are not checked (wrap this type to add them).
///
/// ```
/// use std::sync::Arc;
/// use stellaops_telemetry_http::{Authorizer, JwtHs256, ManualClock};
///
/// let clock = Arc::new(ManualClock::new("2025-03-01T00:00:00Z".parse()?));
/// let jwt = JwtHs256::new(b"0123456789abcdef0123456789abcdef".to_vec(), clock.clone());
/// let exp = "2025-03-01T01:00:00Z".parse()?;
/// let token = jwt.issue("ops@acme", "acme", &["telemetry:read"], exp);
/// let principal = jwt.authorize(Some(&token))?;
/// assert!(principal.has_scope("telemetry:read"));
/// clock.advance(chrono::Duration::hours(2));
/// assert_eq!(jwt.authorize(Some(&token)).unwrap_err().code(), "telemetry.auth.expired_token");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct JwtHs256 {
    secret: Vec<u8>,
    clock: Arc<dyn Clock>,
    leeway: chrono::Duration,
}

impl std::fmt::Debug for JwtHs256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtHs256")
            .field("secret", &"[redacted]")
            .field("clock", &self.clock)
            .field("leeway", &self.leeway)
            .finish()
    }
}

type HmacSha256 = Hmac<Sha256>;

impl JwtHs256 {
    /// A verifier for tokens signed with `secret`, reading time from `clock`.
    pub fn new(secret: Vec<u8>, clock: Arc<dyn Clock>) -> Self {
        Self {
            secret,
            clock,
            leeway: chrono::Duration::zero(),
        }
    }

    /// Accepts tokens up to `leeway` past `exp` or before `nbf` (clock skew).
    pub fn with_leeway(mut self, leeway: chrono::Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Issues a token for `subject` in `tenant` with `scopes`, expiring at `exp` (for tests,
    /// the demo and single-site tooling; the Authority issues production tokens).
    pub fn issue(
        &self,
        subject: &str,
        tenant: &str,
        scopes: &[&str],
        exp: DateTime<Utc>,
    ) -> String {
        let claims = serde_json::json!({
            "sub": subject,
            "tenant": tenant,
            "scope": scopes.join(" "),
            "exp": exp.timestamp(),
        });
        self.sign_claims(&claims)
    }

    /// Signs arbitrary `claims` as an HS256 JWT (header `{"alg":"HS256","typ":"JWT"}`).
    pub fn sign_claims(&self, claims: &Value) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{payload}");
        let signature = URL_SAFE_NO_PAD.encode(self.mac(signing_input.as_bytes()));
        format!("{signing_input}.{signature}")
    }

    fn mac(&self, input: &[u8]) -> Vec<u8> {
        match HmacSha256::new_from_slice(&self.secret) {
            Ok(mut mac) => {
                mac.update(input);
                mac.finalize().into_bytes().to_vec()
            }
            // HMAC accepts keys of any length; nothing to sign with otherwise.
            Err(_) => Vec::new(),
        }
    }

    fn verify_signature(&self, input: &[u8], signature: &[u8]) -> bool {
        match HmacSha256::new_from_slice(&self.secret) {
            Ok(mut mac) => {
                mac.update(input);
                mac.verify_slice(signature).is_ok()
            }
            Err(_) => false,
        }
    }
}

fn segment(part: &str, what: &str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|e| AuthError::Malformed(format!("{what} is not base64url: {e}")))
}

fn json_object(bytes: &[u8], what: &str) -> Result<serde_json::Map<String, Value>, AuthError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(AuthError::Malformed(format!("{what} is not a JSON object"))),
        Err(e) => Err(AuthError::Malformed(format!("{what} is not JSON: {e}"))),
    }
}

fn numeric_date(
    claims: &serde_json::Map<String, Value>,
    name: &str,
) -> Result<Option<DateTime<Utc>>, AuthError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let seconds = match value {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 1e15)
                .map(|f| f.floor() as i64)
        }),
        _ => None,
    };
    seconds
        .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
        .map(Some)
        .ok_or_else(|| AuthError::Malformed(format!("claim {name} is not a NumericDate")))
}

fn string_claim<'a>(
    claims: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<&'a str, AuthError> {
    match claims.get(name) {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s),
        Some(_) => Err(AuthError::Malformed(format!(
            "claim {name} is not a non-empty string"
        ))),
        None => Err(AuthError::Malformed(format!("claim {name} is missing"))),
    }
}

impl Authorizer for JwtHs256 {
    fn authorize(&self, bearer: Option<&str>) -> Result<Principal, AuthError> {
        let token = bearer.ok_or(AuthError::Missing)?;
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::Malformed(format!(
                "token is {} bytes, more than the {MAX_TOKEN_LEN}-byte limit",
                token.len()
            )));
        }
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::Malformed(
                "expected three dot-separated parts (header.payload.signature)".to_owned(),
            ));
        };
        let header_json = json_object(&segment(header, "header")?, "header")?;
        match header_json.get("alg") {
            Some(Value::String(alg)) if alg == "HS256" => {}
            Some(other) => {
                return Err(AuthError::Invalid(format!(
                    "expected alg HS256, found {other}"
                )));
            }
            None => return Err(AuthError::Malformed("header has no alg".to_owned())),
        }
        if header_json.contains_key("crit") {
            // RFC 7515 §4.1.11: critical extensions this verifier does not implement.
            return Err(AuthError::Invalid(
                "header lists critical extensions (crit), none of which are supported".to_owned(),
            ));
        }
        let signature = segment(signature, "signature")?;
        let signing_input_len = header.len() + 1 + payload.len();
        let signing_input = token.get(..signing_input_len).unwrap_or_default();
        if !self.verify_signature(signing_input.as_bytes(), &signature) {
            return Err(AuthError::Invalid("signature does not verify".to_owned()));
        }
        let claims = json_object(&segment(payload, "payload")?, "payload")?;
        let now = self.clock.now();
        let exp = numeric_date(&claims, "exp")?
            .ok_or_else(|| AuthError::Malformed("claim exp is missing".to_owned()))?;
        if now >= exp + self.leeway {
            return Err(AuthError::Expired(exp));
        }
        if let Some(nbf) = numeric_date(&claims, "nbf")?
            && now + self.leeway < nbf
        {
            return Err(AuthError::NotYetValid(nbf));
        }
        let subject = string_claim(&claims, "sub")?;
        let tenant = string_claim(&claims, "tenant")?;
        let scopes = match claims.get("scope") {
            None => BTreeSet::new(),
            Some(Value::String(s)) => s.split_ascii_whitespace().map(str::to_owned).collect(),
            Some(_) => {
                return Err(AuthError::Malformed(
                    "claim scope is not a space-separated string".to_owned(),
                ));
            }
        };
        Ok(Principal {
            subject: subject.to_owned(),
            tenant: tenant.to_owned(),
            scopes,
        })
    }
}
