//! [`RedactionPolicy`]: which keys keep their values, which are masked or dropped, which
//! detectors run, how values are replaced, and the ticketed overrides. Built with
//! [`RedactionPolicy::builder`] or loaded from a JSON policy file ([`PolicyFile`]); applying
//! it is [`crate::Redactor`]'s job.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use crate::clock::{Clock, SystemClock};
use crate::detector::{Detector, DetectorSet, Scanner};
use crate::error::PolicyError;
use crate::key_pattern::{Anchoring, KeyPatterns};
use crate::url::{DEFAULT_URL_QUERY_ALLOW, QueryAllowList};

/// Keys that are never dropped or masked by key rules (their values still pass the detectors):
/// the reference implementation's list, plus the camel-case `traceId`/`spanId` of OTLP JSON.
pub const DEFAULT_ALWAYS_KEPT: &[&str] = &[
    "tenant", "trace_id", "span_id", "traceId", "spanId", "endpoint", "result", "sealed",
];

/// Key patterns blocked by default (matched against every run of whole segments, ignoring
/// case).
pub const DEFAULT_BLOCKED_KEYS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "password",
    "*password*",
    "*passwd*",
    "pwd",
    "*passphrase*",
    "secretRef",
    "*secret*",
    "*token*",
    "*api[-_]key*",
    "*apikey*",
    "*access[-_]key*",
    "*private[-_]key*",
    "*session[-_]id*",
    "*credential*",
];

/// Keys whose string values are free text (log message bodies): detectors run on them but
/// they are not truncated to `max_value_length`.
pub const DEFAULT_TEXT_KEYS: &[&str] = &["message", "msg", "body", "stacktrace"];

/// The default `max_value_length`.
pub const DEFAULT_MAX_VALUE_LENGTH: usize = 256;

/// The default override time to live: 24 hours.
pub const DEFAULT_OVERRIDE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// Which keys keep their values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Everything is kept except blocked keys (the default).
    #[default]
    BlockList,
    /// Fail closed: only allowed and always-kept keys survive; every other key is dropped
    /// (reason `not_allowed`), like the OpenTelemetry collector's redaction processor.
    AllowList,
}

/// What a redacted value or span becomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplacementKind {
    /// `[redacted]`.
    #[default]
    Mask,
    /// `sha256:<hex>` of the salt followed by the (truncated) value, so equal values stay
    /// correlatable; applies to blocked keys and personal data. Detected secrets are always
    /// masked: a hash of a credential would be an offline guessing oracle.
    Hash,
}

/// A time-limited, ticketed exception: values under `key` (the key or its subtree) are kept
/// as they are, bypassing key rules and detectors, until the override expires. Every use is
/// audited ([`crate::OverrideAudit`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Override {
    key: String,
    ticket: String,
    granted_at: DateTime<Utc>,
    #[serde(default = "default_ttl_seconds")]
    ttl_seconds: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    granted_by: Option<String>,
}

fn default_ttl_seconds() -> u64 {
    DEFAULT_OVERRIDE_TTL.as_secs()
}

impl Override {
    /// An override of `key` (a key pattern, matching the key and its subtree) under `ticket`,
    /// granted at `granted_at`, with the default TTL of 24 hours.
    pub fn new(
        key: impl Into<String>,
        ticket: impl Into<String>,
        granted_at: DateTime<Utc>,
    ) -> Self {
        Override {
            key: key.into(),
            ticket: ticket.into(),
            granted_at,
            ttl_seconds: default_ttl_seconds(),
            granted_by: None,
        }
    }

    /// Sets the time to live (whole seconds).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl_seconds = ttl.as_secs();
        self
    }

    /// Records who granted it.
    #[must_use]
    pub fn granted_by(mut self, actor: impl Into<String>) -> Self {
        self.granted_by = Some(actor.into());
        self
    }

    /// The key pattern.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The ticket id.
    #[must_use]
    pub fn ticket(&self) -> &str {
        &self.ticket
    }

    /// Who granted it, if recorded.
    #[must_use]
    pub fn granter(&self) -> Option<&str> {
        self.granted_by.as_deref()
    }

    /// When it was granted.
    #[must_use]
    pub fn granted_at(&self) -> DateTime<Utc> {
        self.granted_at
    }

    /// When it stops applying: `granted_at + ttl`.
    #[must_use]
    pub fn expires_at(&self) -> DateTime<Utc> {
        let ttl = i64::try_from(self.ttl_seconds)
            .ok()
            .and_then(TimeDelta::try_seconds)
            .unwrap_or(TimeDelta::MAX);
        self.granted_at
            .checked_add_signed(ttl)
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// The policy file: the serde form of a [`RedactionPolicy`] (JSON), shipped in the Offline
/// Kit. Every field is optional; unknown fields are rejected so a typo cannot weaken a policy.
/// Lists add to the built-in defaults unless the matching `default_*` flag is `false`.
///
/// ```
/// use stellaops_redaction::RedactionPolicy;
///
/// let policy = RedactionPolicy::from_json(r#"{
///     "mode": "allow_list",
///     "allowed_keys": ["http.method", "http.route", "service.*"],
///     "blocked_keys": ["x-internal-*"],
///     "disabled_detectors": ["email"],
///     "replacement": "hash",
///     "hash_salt": "per-site-salt",
///     "max_value_length": 512
/// }"#)?;
/// assert_eq!(policy.max_value_length(), 512);
/// # Ok::<(), stellaops_redaction::PolicyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct PolicyFile {
    /// `block_list` (default) or `allow_list`.
    pub mode: Mode,
    /// Allow-list mode: key patterns whose values (and subtrees) are kept.
    pub allowed_keys: Vec<String>,
    /// Keys never dropped or masked by key rules, in addition to [`DEFAULT_ALWAYS_KEPT`].
    pub always_kept: Vec<String>,
    /// Whether [`DEFAULT_ALWAYS_KEPT`] applies (default `true`).
    pub default_always_kept: bool,
    /// Blocked key patterns, in addition to [`DEFAULT_BLOCKED_KEYS`].
    pub blocked_keys: Vec<String>,
    /// Whether [`DEFAULT_BLOCKED_KEYS`] applies (default `true`).
    pub default_blocked_keys: bool,
    /// Free-text keys, in addition to [`DEFAULT_TEXT_KEYS`].
    pub text_keys: Vec<String>,
    /// Whether [`DEFAULT_TEXT_KEYS`] applies (default `true`).
    pub default_text_keys: bool,
    /// Detectors to switch off (all run by default).
    pub disabled_detectors: Vec<Detector>,
    /// `mask` (default) or `hash`.
    pub replacement: ReplacementKind,
    /// The salt for `hash` replacement (required with it).
    pub hash_salt: Option<String>,
    /// Values longer than this many characters are truncated (default 256).
    pub max_value_length: usize,
    /// Ticketed, expiring overrides.
    pub overrides: Vec<Override>,
    /// Query parameter names whose values URLs keep, in addition to
    /// [`DEFAULT_URL_QUERY_ALLOW`]; every other query value is masked.
    pub url_query_allow: Vec<String>,
    /// Whether [`DEFAULT_URL_QUERY_ALLOW`] applies (default `true`).
    pub default_url_query_allow: bool,
}

impl Default for PolicyFile {
    fn default() -> Self {
        PolicyFile {
            mode: Mode::BlockList,
            allowed_keys: Vec::new(),
            always_kept: Vec::new(),
            default_always_kept: true,
            blocked_keys: Vec::new(),
            default_blocked_keys: true,
            text_keys: Vec::new(),
            default_text_keys: true,
            disabled_detectors: Vec::new(),
            replacement: ReplacementKind::Mask,
            hash_salt: None,
            max_value_length: DEFAULT_MAX_VALUE_LENGTH,
            overrides: Vec::new(),
            url_query_allow: Vec::new(),
            default_url_query_allow: true,
        }
    }
}

/// A validated, compiled redaction policy. Cheap to clone.
///
/// Key rules, in order of precedence, for a key (a dotted path; nested map keys are joined
/// with `.`):
/// 1. an unexpired override matching the key or a parent keeps the value untouched (audited);
/// 2. an always-kept key keeps its value (detectors still run);
/// 3. in allow-list mode, a key that is neither allowed nor under an allowed key is dropped
///    (reason `not_allowed`); a map under such a key is kept only as the container of allowed
///    descendants;
/// 4. a blocked key has its whole value replaced (reason `pattern`), also under an allowed
///    key;
/// 5. otherwise the value is kept: truncated to `max_value_length` (reason `length`) unless
///    it is a text key, and scanned by the detectors (reasons `secret`, `pii`).
#[derive(Clone, Debug)]
pub struct RedactionPolicy {
    file: PolicyFile,
    pub(crate) allowed: KeyPatterns,
    pub(crate) always_kept: KeyPatterns,
    pub(crate) blocked: KeyPatterns,
    pub(crate) text: KeyPatterns,
    pub(crate) overrides: Vec<(Override, KeyPatterns)>,
    pub(crate) scanner: Scanner,
    pub(crate) detectors: DetectorSet,
    pub(crate) url_query_allow: QueryAllowList,
    pub(crate) url_keys: KeyPatterns,
}

impl Default for RedactionPolicy {
    /// Block-list mode, the default key lists, every detector, `[redacted]`, 256 characters.
    #[allow(
        clippy::expect_used,
        reason = "the default lists are constants that the unit tests compile; no input reaches this"
    )]
    fn default() -> Self {
        RedactionPolicy::builder()
            .build()
            .expect("the built-in default policy compiles")
    }
}

impl RedactionPolicy {
    /// A builder starting from the defaults.
    pub fn builder() -> RedactionPolicyBuilder {
        RedactionPolicyBuilder {
            file: PolicyFile::default(),
        }
    }

    /// Parses and validates a policy file, checking override expiry against the system clock.
    ///
    /// # Errors
    /// [`PolicyError::Parse`] for malformed JSON or unknown fields, and every error
    /// [`RedactionPolicyBuilder::build`] returns.
    pub fn from_json(json: &str) -> Result<Self, PolicyError> {
        Self::from_json_with_clock(json, &SystemClock)
    }

    /// [`RedactionPolicy::from_json`] with an injected clock.
    ///
    /// # Errors
    /// As [`RedactionPolicy::from_json`].
    pub fn from_json_with_clock(json: &str, clock: &dyn Clock) -> Result<Self, PolicyError> {
        let file: PolicyFile = serde_json::from_str(json).map_err(|e| PolicyError::Parse {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        file.into_builder().build_at(clock.now())
    }

    /// The policy as a policy file (round-trips through [`RedactionPolicy::from_json`]).
    #[must_use]
    pub fn to_file(&self) -> &PolicyFile {
        &self.file
    }

    /// The mode.
    #[must_use]
    pub fn mode(&self) -> Mode {
        self.file.mode
    }

    /// The enabled detectors.
    #[must_use]
    pub fn detectors(&self) -> DetectorSet {
        self.detectors
    }

    /// The replacement kind.
    #[must_use]
    pub fn replacement(&self) -> ReplacementKind {
        self.file.replacement
    }

    pub(crate) fn hash_salt(&self) -> &str {
        self.file.hash_salt.as_deref().unwrap_or_default()
    }

    /// The maximum value length, in characters.
    #[must_use]
    pub fn max_value_length(&self) -> usize {
        self.file.max_value_length
    }

    /// The query parameter names whose values URLs keep.
    #[must_use]
    pub fn url_query_allow(&self) -> &QueryAllowList {
        &self.url_query_allow
    }

    /// The overrides.
    pub fn overrides(&self) -> impl Iterator<Item = &Override> {
        self.overrides.iter().map(|(o, _)| o)
    }
}

impl PolicyFile {
    /// A builder holding this file's settings.
    pub fn into_builder(self) -> RedactionPolicyBuilder {
        RedactionPolicyBuilder { file: self }
    }
}

/// Builds a [`RedactionPolicy`]; starts from the defaults (block-list mode, default key lists,
/// every detector, `[redacted]`, 256 characters).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use stellaops_redaction::{Detector, Override, RedactionPolicy};
///
/// let now = Utc.with_ymd_and_hms(2025, 11, 29, 12, 0, 0).unwrap();
/// let policy = RedactionPolicy::builder()
///     .allow_list()
///     .allow_key("http.method")
///     .block_key("x-internal-*")
///     .disable_detector(Detector::Email)
///     .grant_override(Override::new("user.email", "INC-1234", now))
///     .build_at(now)?;
/// assert_eq!(policy.overrides().count(), 1);
/// # Ok::<(), stellaops_redaction::PolicyError>(())
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct RedactionPolicyBuilder {
    file: PolicyFile,
}

impl RedactionPolicyBuilder {
    /// Sets the mode.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.file.mode = mode;
        self
    }

    /// Fail-closed allow-list mode.
    pub fn allow_list(self) -> Self {
        self.mode(Mode::AllowList)
    }

    /// Block-list mode (the default).
    pub fn block_list(self) -> Self {
        self.mode(Mode::BlockList)
    }

    /// Allows a key pattern (and its subtree) in allow-list mode.
    pub fn allow_key(mut self, pattern: impl Into<String>) -> Self {
        self.file.allowed_keys.push(pattern.into());
        self
    }

    /// Adds an always-kept key.
    pub fn always_keep(mut self, key: impl Into<String>) -> Self {
        self.file.always_kept.push(key.into());
        self
    }

    /// Drops [`DEFAULT_ALWAYS_KEPT`].
    pub fn without_default_always_kept(mut self) -> Self {
        self.file.default_always_kept = false;
        self
    }

    /// Blocks a key pattern.
    pub fn block_key(mut self, pattern: impl Into<String>) -> Self {
        self.file.blocked_keys.push(pattern.into());
        self
    }

    /// Drops [`DEFAULT_BLOCKED_KEYS`].
    pub fn without_default_blocked_keys(mut self) -> Self {
        self.file.default_blocked_keys = false;
        self
    }

    /// Adds a free-text key.
    pub fn text_key(mut self, key: impl Into<String>) -> Self {
        self.file.text_keys.push(key.into());
        self
    }

    /// Switches one detector off.
    pub fn disable_detector(mut self, detector: Detector) -> Self {
        if !self.file.disabled_detectors.contains(&detector) {
            self.file.disabled_detectors.push(detector);
        }
        self
    }

    /// Runs exactly these detectors.
    pub fn detectors(mut self, enabled: DetectorSet) -> Self {
        self.file.disabled_detectors = Detector::ALL
            .into_iter()
            .filter(|d| !enabled.contains(*d))
            .collect();
        self
    }

    /// Replaces blocked values and personal data with `sha256:<hex>` of `salt` + value.
    pub fn hash_with_salt(mut self, salt: impl Into<String>) -> Self {
        self.file.replacement = ReplacementKind::Hash;
        self.file.hash_salt = Some(salt.into());
        self
    }

    /// Sets the maximum value length in characters.
    pub fn max_value_length(mut self, chars: usize) -> Self {
        self.file.max_value_length = chars;
        self
    }

    /// Keeps the values of the query parameter `name` in URLs.
    pub fn url_query_allow(mut self, name: impl Into<String>) -> Self {
        self.file.url_query_allow.push(name.into());
        self
    }

    /// Drops [`DEFAULT_URL_QUERY_ALLOW`]: only the names added with
    /// [`RedactionPolicyBuilder::url_query_allow`] keep their values.
    pub fn without_default_url_query_allow(mut self) -> Self {
        self.file.default_url_query_allow = false;
        self
    }

    /// Adds a ticketed override.
    pub fn grant_override(mut self, grant: Override) -> Self {
        self.file.overrides.push(grant);
        self
    }

    /// Validates and compiles, checking override expiry against the system clock.
    ///
    /// # Errors
    /// As [`RedactionPolicyBuilder::build_at`].
    pub fn build(self) -> Result<RedactionPolicy, PolicyError> {
        self.build_at(SystemClock.now())
    }

    /// Validates and compiles the policy as of `now`.
    ///
    /// # Errors
    /// [`PolicyError::InvalidPattern`] for a key pattern that does not parse,
    /// [`PolicyError::MissingTicket`], [`PolicyError::ZeroTtl`] and
    /// [`PolicyError::ExpiredOverride`] for overrides, [`PolicyError::MissingSalt`] for hash
    /// replacement without a salt, [`PolicyError::ZeroMaxValueLength`],
    /// [`PolicyError::InvalidQueryName`] for a `url_query_allow` entry.
    pub fn build_at(self, now: DateTime<Utc>) -> Result<RedactionPolicy, PolicyError> {
        let file = self.file;
        if file.max_value_length == 0 {
            return Err(PolicyError::ZeroMaxValueLength);
        }
        if file.replacement == ReplacementKind::Hash
            && file.hash_salt.as_deref().is_none_or(str::is_empty)
        {
            return Err(PolicyError::MissingSalt);
        }
        let with_defaults = |defaults: &[&str], on: bool, extra: &[String]| -> Vec<String> {
            let mut all: Vec<String> = if on {
                defaults.iter().map(|s| (*s).to_owned()).collect()
            } else {
                Vec::new()
            };
            all.extend(extra.iter().cloned());
            all
        };
        let blocked = KeyPatterns::globs(
            "blocked_keys",
            &with_defaults(
                DEFAULT_BLOCKED_KEYS,
                file.default_blocked_keys,
                &file.blocked_keys,
            ),
            Anchoring::Window,
        )?;
        let always_kept = KeyPatterns::suffixes(
            "always_kept",
            &with_defaults(
                DEFAULT_ALWAYS_KEPT,
                file.default_always_kept,
                &file.always_kept,
            ),
        )?;
        let text = KeyPatterns::suffixes(
            "text_keys",
            &with_defaults(DEFAULT_TEXT_KEYS, file.default_text_keys, &file.text_keys),
        )?;
        let allowed = KeyPatterns::globs("allowed_keys", &file.allowed_keys, Anchoring::Prefix)?;
        let url_query_allow = QueryAllowList::new(with_defaults(
            DEFAULT_URL_QUERY_ALLOW,
            file.default_url_query_allow,
            &file.url_query_allow,
        ))?;
        let url_keys = KeyPatterns::suffixes(
            "url_keys",
            &crate::url::URL_KEYS
                .iter()
                .map(|k| (*k).to_owned())
                .collect::<Vec<_>>(),
        )?;

        let mut overrides = Vec::with_capacity(file.overrides.len());
        for grant in &file.overrides {
            if grant.ticket.trim().is_empty() {
                return Err(PolicyError::MissingTicket {
                    key: grant.key.clone(),
                });
            }
            if grant.ttl_seconds == 0 {
                return Err(PolicyError::ZeroTtl {
                    ticket: grant.ticket.clone(),
                    key: grant.key.clone(),
                });
            }
            let expired_at = grant.expires_at();
            if expired_at <= now {
                return Err(PolicyError::ExpiredOverride {
                    ticket: grant.ticket.clone(),
                    key: grant.key.clone(),
                    expired_at,
                    now,
                });
            }
            let pattern = KeyPatterns::globs(
                "overrides",
                std::slice::from_ref(&grant.key),
                Anchoring::Prefix,
            )?;
            overrides.push((grant.clone(), pattern));
        }

        let mut detectors = DetectorSet::all();
        for d in &file.disabled_detectors {
            detectors.remove(*d);
        }
        let scanner = Scanner::new(detectors).ok_or(PolicyError::Detectors)?;
        Ok(RedactionPolicy {
            file,
            allowed,
            always_kept,
            blocked,
            text,
            overrides,
            scanner,
            detectors,
            url_query_allow,
            url_keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 11, 29, 12, 0, 0).unwrap()
    }

    #[test]
    fn default_policy_blocks_the_reference_keys() {
        let p = RedactionPolicy::default();
        for key in [
            "authorization",
            "http.request.header.authorization",
            "headers.Authorization",
            "Cookie",
            "set-cookie",
            "password",
            "db.password",
            "secretRef",
            "client_secret",
            "refresh_token",
            "x-api-key",
            "private_key",
            "session_id",
        ] {
            assert!(p.blocked.matches(key.as_bytes()), "{key}");
        }
        for key in ["http.method", "tenant", "user.name", "status_code"] {
            assert!(!p.blocked.matches(key.as_bytes()), "{key}");
        }
        for key in DEFAULT_ALWAYS_KEPT {
            assert!(p.always_kept.matches(key.as_bytes()));
        }
        assert_eq!(p.max_value_length(), 256);
        assert_eq!(p.detectors(), DetectorSet::all());
    }

    #[test]
    fn override_defaults_to_a_day_and_expired_ones_refuse_to_build() {
        let grant = Override::new("user.email", "INC-7", noon());
        assert_eq!(grant.expires_at(), noon() + TimeDelta::hours(24));
        let ok = RedactionPolicy::builder()
            .grant_override(grant.clone())
            .build_at(noon() + TimeDelta::hours(23));
        assert!(ok.is_ok());
        let err = RedactionPolicy::builder()
            .grant_override(grant)
            .build_at(noon() + TimeDelta::hours(24))
            .unwrap_err();
        assert_eq!(err.code(), "redaction.policy.override_expired");
        assert!(err.to_string().contains("INC-7"), "{err}");
    }

    #[test]
    fn overrides_need_a_ticket_and_a_ttl() {
        let err = RedactionPolicy::builder()
            .grant_override(Override::new("user.email", " ", noon()))
            .build_at(noon())
            .unwrap_err();
        assert_eq!(err.code(), "redaction.policy.override_ticket_missing");
        let err = RedactionPolicy::builder()
            .grant_override(Override::new("user.email", "INC-1", noon()).ttl(Duration::ZERO))
            .build_at(noon())
            .unwrap_err();
        assert_eq!(err.code(), "redaction.policy.override_ttl_zero");
    }

    #[test]
    fn hashing_needs_a_salt_and_lengths_must_be_positive() {
        let err = RedactionPolicy::builder()
            .hash_with_salt("")
            .build_at(noon())
            .unwrap_err();
        assert_eq!(err, PolicyError::MissingSalt);
        let err = RedactionPolicy::builder()
            .max_value_length(0)
            .build_at(noon())
            .unwrap_err();
        assert_eq!(err.code(), "redaction.policy.max_value_length_zero");
    }

    #[test]
    fn url_query_allow_extends_the_default_and_rejects_bad_names() {
        let clock = crate::ManualClock::new(noon());
        let policy =
            RedactionPolicy::from_json_with_clock(r#"{"url_query_allow": ["lang"]}"#, &clock)
                .unwrap();
        assert!(policy.url_query_allow().allows("lang"));
        assert!(policy.url_query_allow().allows("page"));
        assert!(!policy.url_query_allow().allows("q"));
        let only = RedactionPolicy::from_json_with_clock(
            r#"{"url_query_allow": ["lang"], "default_url_query_allow": false}"#,
            &clock,
        )
        .unwrap();
        assert_eq!(only.url_query_allow().names().collect::<Vec<_>>(), ["lang"]);
        let err = RedactionPolicy::from_json_with_clock(r#"{"url_query_allow": ["a=b"]}"#, &clock)
            .unwrap_err();
        assert_eq!(err.code(), "redaction.policy.invalid_url_query_allow");
        assert!(err.to_string().contains("\"a=b\""), "{err}");
        let err = RedactionPolicy::builder()
            .url_query_allow("")
            .build_at(noon())
            .unwrap_err();
        assert_eq!(err.code(), "redaction.policy.invalid_url_query_allow");
    }

    #[test]
    fn policy_file_round_trips_and_rejects_unknown_fields() {
        let clock = crate::ManualClock::new(noon());
        let json = r#"{
            "mode": "allow_list",
            "allowed_keys": ["http.*"],
            "disabled_detectors": ["email", "payment_card"],
            "overrides": [{"key": "user.email", "ticket": "INC-9", "granted_at": "2025-11-29T11:00:00Z", "ttl_seconds": 7200}]
        }"#;
        let policy = RedactionPolicy::from_json_with_clock(json, &clock).unwrap();
        assert_eq!(policy.mode(), Mode::AllowList);
        assert!(!policy.detectors().contains(Detector::Email));
        assert!(policy.detectors().contains(Detector::Jwt));
        let again = serde_json::to_string(policy.to_file()).unwrap();
        let reparsed = RedactionPolicy::from_json_with_clock(&again, &clock).unwrap();
        assert_eq!(reparsed.to_file(), policy.to_file());

        let err =
            RedactionPolicy::from_json_with_clock(r#"{"blocked_key": ["x"]}"#, &clock).unwrap_err();
        assert_eq!(err.code(), "redaction.policy.parse");
        assert!(err.to_string().contains("blocked_key"), "{err}");
        assert!(err.to_string().contains("line 1"), "{err}");
    }
}
