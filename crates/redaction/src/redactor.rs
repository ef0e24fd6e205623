//! [`Redactor`]: applies a [`RedactionPolicy`] to attribute values, attribute sets, free text
//! and nested JSON, reporting what changed. Clean input comes back borrowed and nothing is
//! allocated. Counting the reports is [`crate::ScrubMetrics`]' job.

use std::borrow::Cow;
use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::audit::{OverrideAudit, OverrideUse, TracingAudit};
use crate::clock::{Clock, SystemClock};
use crate::detector::{Finding, HASH_PREFIX, MASK, is_card_number, is_marker, marker_len_at};
use crate::policy::{Mode, Override, RedactionPolicy, ReplacementKind};
use crate::reason::{Reason, Report};
use crate::url::{QueryAllowList, sanitize_query, sanitize_url};

/// What the key rules decide for a key, before any value is looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyDecision {
    /// Keep the value; detectors (and truncation, unless it is a text key) apply.
    Keep,
    /// An unexpired override keeps the value untouched (the use has been audited).
    Overridden,
    /// Replace the whole value (reason `pattern`).
    Redact,
    /// Drop the key (allow-list mode, reason `not_allowed`).
    Drop,
}

/// The result of [`Redactor::redact_value`]: the value to emit (`None` when the key is
/// dropped) and the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redacted<'a> {
    value: Option<Cow<'a, str>>,
    report: Report,
}

impl<'a> Redacted<'a> {
    /// The value to emit, or `None` if the key must be dropped.
    #[must_use]
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// Takes the value out.
    #[must_use]
    pub fn into_value(self) -> Option<Cow<'a, str>> {
        self.value
    }

    /// Whether the key must be dropped.
    #[must_use]
    pub fn is_dropped(&self) -> bool {
        self.value.is_none()
    }

    /// What changed.
    #[must_use]
    pub fn report(&self) -> Report {
        self.report
    }
}

enum Decision<'p> {
    Keep,
    Override(&'p Override),
    Redact,
    NotAllowed,
}

/// Applies a [`RedactionPolicy`]. Cheap to clone and shareable across threads.
///
/// ```
/// use stellaops_redaction::{Reason, RedactionPolicy, Redactor};
///
/// let redactor = Redactor::new(RedactionPolicy::default());
///
/// let (text, report) = redactor.redact_text("login failed for bob@example.com with password=hunter2");
/// assert_eq!(text, "login failed for [redacted] with password=[redacted]");
/// assert!(report.reasons().contains(Reason::Pii) && report.reasons().contains(Reason::Secret));
///
/// let value = redactor.redact_value("http.request.header.authorization", "Bearer abc.def");
/// assert_eq!(value.value(), Some("[redacted]"));
///
/// let clean = redactor.redact_value("http.route", "/api/v1/scans/{id}");
/// assert!(matches!(clean.into_value(), Some(std::borrow::Cow::Borrowed(_))));
/// ```
#[derive(Clone)]
pub struct Redactor {
    policy: Arc<RedactionPolicy>,
    clock: Arc<dyn Clock>,
    audit: Arc<dyn OverrideAudit>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// A redactor using the system clock and auditing overrides as `tracing` events.
    #[must_use]
    pub fn new(policy: RedactionPolicy) -> Self {
        Redactor {
            policy: Arc::new(policy),
            clock: Arc::new(SystemClock),
            audit: Arc::new(TracingAudit),
        }
    }

    /// Uses `clock` to decide whether an override is still in force.
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sends override uses to `audit`.
    #[must_use]
    pub fn with_audit(mut self, audit: Arc<dyn OverrideAudit>) -> Self {
        self.audit = audit;
        self
    }

    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &RedactionPolicy {
        &self.policy
    }

    /// What the key rules decide for `key` (a dotted path). An [`KeyDecision::Overridden`]
    /// answer is audited as a use. For callers holding non-string values.
    #[must_use]
    pub fn decide_key(&self, key: &str) -> KeyDecision {
        match self.decide(key.as_bytes()) {
            Decision::Keep => KeyDecision::Keep,
            Decision::Override(grant) => {
                self.audit_use(grant, key);
                KeyDecision::Overridden
            }
            Decision::Redact => KeyDecision::Redact,
            Decision::NotAllowed => KeyDecision::Drop,
        }
    }

    /// Redacts one attribute value under `key` (a dotted path).
    #[must_use]
    pub fn redact_value<'a>(&self, key: &str, value: &'a str) -> Redacted<'a> {
        match self.decide(key.as_bytes()) {
            Decision::Override(grant) => {
                self.audit_use(grant, key);
                Redacted {
                    value: Some(Cow::Borrowed(value)),
                    report: Report::CLEAN,
                }
            }
            Decision::Redact => {
                if is_marker(value) {
                    return Redacted {
                        value: Some(Cow::Borrowed(value)),
                        report: Report::CLEAN,
                    };
                }
                let (replacement, report) = self.replace_whole(value);
                Redacted {
                    value: Some(Cow::Owned(replacement)),
                    report,
                }
            }
            Decision::NotAllowed => Redacted {
                value: None,
                report: Report::with_reason(Reason::NotAllowed),
            },
            Decision::Keep => {
                let truncate = !self.policy.text.matches(key.as_bytes());
                let (value, report) = self.redact_kept(key.as_bytes(), value, truncate);
                Redacted {
                    value: Some(value),
                    report,
                }
            }
        }
    }

    /// Redacts a set of string attributes in place: dropped keys are removed, values
    /// rewritten. Returns the combined report.
    pub fn redact_attributes<K: AsRef<str>>(&self, attributes: &mut Vec<(K, String)>) -> Report {
        let mut report = Report::CLEAN;
        attributes.retain_mut(|(key, value)| {
            let redacted = self.redact_value(key.as_ref(), value);
            report.merge(redacted.report);
            match redacted.value {
                None => false,
                Some(Cow::Borrowed(kept)) => {
                    let len = kept.len();
                    value.truncate(len);
                    true
                }
                Some(Cow::Owned(replaced)) => {
                    *value = replaced;
                    true
                }
            }
        });
        report
    }

    /// Redacts free text (a log message): only the secret and personal-data spans are
    /// replaced, so the rest stays readable. Text is never truncated.
    #[must_use]
    pub fn redact_text<'a>(&self, text: &'a str) -> (Cow<'a, str>, Report) {
        let mut findings = Vec::new();
        self.policy.scanner.scan(text, &mut findings);
        if findings.is_empty() {
            return (Cow::Borrowed(text), Report::CLEAN);
        }
        let (out, report) = self.replace_findings(text, &mut findings);
        (Cow::Owned(out), report)
    }

    /// Redacts a URL or a request target (`https://u:p@host/p?a=1`, `/r?token=x&page=2`): the
    /// user-info and the value of every query parameter not on the policy's
    /// [`RedactionPolicy::url_query_allow`] list become `[redacted]` ([`crate::sanitize_url`],
    /// reason `secret`); scheme, host and path stay, then the detectors run over the result
    /// (a token in the path is still caught). Never truncated.
    ///
    /// ```
    /// use stellaops_redaction::{RedactionPolicy, Redactor};
    ///
    /// let redactor = Redactor::new(RedactionPolicy::default());
    /// let (url, report) = redactor.redact_url("https://app:pw@api.example/v1/items?page=2&sig=abc");
    /// assert_eq!(url, "https://[redacted]@api.example/v1/items?page=2&sig=[redacted]");
    /// assert!(report.scrubbed());
    /// ```
    #[must_use]
    pub fn redact_url<'a>(&self, url: &'a str) -> (Cow<'a, str>, Report) {
        self.redact_url_part(url, UrlPart::Url, false)
    }

    /// Redacts a JSON value in place, walking maps and arrays. Map keys are joined into dotted
    /// paths (`{"http": {"method": …}}` is `http.method`); array elements share their array's
    /// path. Returns the combined report.
    pub fn redact_json(&self, value: &mut Value) -> Report {
        let mut report = Report::CLEAN;
        let mut path = KeyPath::new();
        match value {
            Value::Object(map) => self.walk_object(&mut path, map, &mut report),
            Value::Array(items) => {
                for item in items {
                    self.walk_kept(&mut path, item, &mut report);
                }
            }
            Value::String(s) => {
                let (out, r) = self.redact_text(s);
                report.merge(r);
                if let Cow::Owned(out) = out {
                    *s = out;
                }
            }
            other => self.walk_kept(&mut path, other, &mut report),
        }
        report
    }

    fn decide(&self, key: &[u8]) -> Decision<'_> {
        let policy = &*self.policy;
        if !policy.overrides.is_empty() {
            for (grant, pattern) in &policy.overrides {
                if pattern.matches(key) && self.clock.now() < grant.expires_at() {
                    return Decision::Override(grant);
                }
            }
        }
        if policy.always_kept.matches(key) {
            return Decision::Keep;
        }
        if policy.mode() == Mode::AllowList && !policy.allowed.matches(key) {
            return Decision::NotAllowed;
        }
        if policy.blocked.matches(key) {
            return Decision::Redact;
        }
        Decision::Keep
    }

    fn audit_use(&self, grant: &Override, key: &str) {
        self.audit.override_used(&OverrideUse {
            ticket: grant.ticket(),
            pattern: grant.key(),
            key,
            granted_by: grant.granter(),
            expires_at: grant.expires_at(),
        });
    }

    fn walk_object(
        &self,
        path: &mut KeyPath,
        map: &mut serde_json::Map<String, Value>,
        report: &mut Report,
    ) {
        map.retain(|key, value| {
            let mark = path.push(key);
            let keep = match self.decide(path.as_bytes()) {
                Decision::Override(grant) => {
                    self.audit_use(grant, path.as_str());
                    true
                }
                Decision::Redact => {
                    self.redact_whole_json(value, report);
                    true
                }
                Decision::NotAllowed => match value {
                    Value::Object(inner) if !inner.is_empty() => {
                        self.walk_object(path, inner, report);
                        !inner.is_empty()
                    }
                    _ => {
                        report.add(Reason::NotAllowed);
                        false
                    }
                },
                Decision::Keep => {
                    self.walk_kept(path, value, report);
                    true
                }
            };
            path.truncate(mark);
            keep
        });
    }

    /// A value whose key is kept: strings are scanned (and truncated unless the key is a text
    /// key), numbers checked for card numbers, containers walked.
    fn walk_kept(&self, path: &mut KeyPath, value: &mut Value, report: &mut Report) {
        match value {
            Value::String(s) => {
                let truncate = !self.policy.text.matches(path.as_bytes());
                let (out, r) = self.redact_kept(path.as_bytes(), s, truncate);
                report.merge(r);
                match out {
                    Cow::Borrowed(kept) => {
                        let len = kept.len();
                        s.truncate(len);
                    }
                    Cow::Owned(out) => *s = out,
                }
            }
            Value::Number(n) => {
                if n.as_u64().is_some_and(is_card_number) {
                    let text = n.to_string();
                    let (out, r) = self.replace_span(&text, Reason::Pii);
                    report.merge(r);
                    *value = Value::String(out);
                }
            }
            Value::Object(map) => self.walk_object(path, map, report),
            Value::Array(items) => {
                for item in items {
                    self.walk_kept(path, item, report);
                }
            }
            Value::Bool(_) | Value::Null => {}
        }
    }

    fn redact_whole_json(&self, value: &mut Value, report: &mut Report) {
        let replacement = match value {
            Value::Null => return,
            Value::String(s) if is_marker(s) => return,
            Value::String(s) => self.replace_whole(s),
            Value::Number(_) | Value::Bool(_) => self.replace_whole(&value.to_string()),
            Value::Object(_) | Value::Array(_) => {
                (MASK.to_owned(), Report::with_reason(Reason::Pattern))
            }
        };
        report.merge(replacement.1);
        *value = Value::String(replacement.0);
    }

    /// A kept string value: URL sanitizing for the [`URL_KEYS`](crate::URL_KEYS), then [`Redactor::redact_str`].
    fn redact_kept<'a>(
        &self,
        key: &[u8],
        value: &'a str,
        truncate: bool,
    ) -> (Cow<'a, str>, Report) {
        if !self.policy.url_keys.matches(key) {
            return self.redact_str(value, truncate);
        }
        let part = if ends_with_segment(key, b"url.query") {
            UrlPart::Query
        } else {
            UrlPart::Url
        };
        self.redact_url_part(value, part, truncate)
    }

    /// Sanitizes, runs the detectors (and the cut), and sanitizes the cut value again: a cut
    /// inside a parameter leaves a name-only parameter that must be masked too, so a second
    /// pass changes nothing.
    fn redact_url_part<'a>(
        &self,
        value: &'a str,
        part: UrlPart,
        truncate: bool,
    ) -> (Cow<'a, str>, Report) {
        let allowed = &self.policy.url_query_allow;
        let (out, mut report) = match part.sanitize(value, allowed) {
            Cow::Borrowed(kept) => self.redact_str(kept, truncate),
            Cow::Owned(sanitized) => {
                let (out, mut report) = self.redact_str(&sanitized, truncate);
                report.add(Reason::Secret);
                let out = match out {
                    Cow::Borrowed(same) if same.len() == sanitized.len() => sanitized,
                    other => other.into_owned(),
                };
                (Cow::Owned(out), report)
            }
        };
        if !report.reasons().contains(Reason::Length) {
            return (out, report);
        }
        match part.sanitize(&out, allowed) {
            Cow::Borrowed(_) => (out, report),
            Cow::Owned(again) => {
                report.add(Reason::Secret);
                (Cow::Owned(again), report)
            }
        }
    }

    /// Detectors, then truncation (markers count as one character), then detectors again on
    /// the cut, so a token split by the cut is still caught and a second pass changes nothing.
    fn redact_str<'a>(&self, value: &'a str, truncate: bool) -> (Cow<'a, str>, Report) {
        let (once, mut report) = self.redact_text(value);
        if !truncate {
            return (once, report);
        }
        let Some(cut) = self.cut_point(&once) else {
            return (once, report);
        };
        report.add(Reason::Length);
        match once {
            Cow::Borrowed(original) => {
                let prefix = original.get(..cut).unwrap_or(original);
                let (again, r) = self.redact_text(prefix);
                report.merge(r);
                (again, report)
            }
            Cow::Owned(mut replaced) => {
                replaced.truncate(cut);
                let (again, r) = self.redact_text(&replaced);
                report.merge(r);
                let again = match again {
                    Cow::Borrowed(_) => None,
                    Cow::Owned(again) => Some(again),
                };
                (Cow::Owned(again.unwrap_or(replaced)), report)
            }
        }
    }

    /// The byte offset at which `s` exceeds `max_value_length` characters, counting each
    /// replacement marker as one character; `None` if it fits.
    fn cut_point(&self, s: &str) -> Option<usize> {
        let max = self.policy.max_value_length();
        if s.len() <= max {
            return None;
        }
        let bytes = s.as_bytes();
        let mut chars = 0;
        let mut i = 0;
        while i < s.len() {
            if chars == max {
                return Some(i);
            }
            let step = match bytes.get(i) {
                Some(b'[' | b's') => marker_len_at(bytes.get(i..).unwrap_or_default()),
                _ => None,
            }
            .or_else(|| {
                s.get(i..)
                    .and_then(|rest| rest.chars().next())
                    .map(char::len_utf8)
            })
            .unwrap_or(1);
            chars += 1;
            i += step;
        }
        None
    }

    fn replace_findings(&self, text: &str, findings: &mut [Finding]) -> (String, Report) {
        findings.sort_unstable_by_key(|f| (f.range.start, std::cmp::Reverse(f.range.end)));
        let mut out = String::with_capacity(text.len());
        let mut report = Report::CLEAN;
        let mut copied_to = 0;
        let mut i = 0;
        while let Some(first) = findings.get(i) {
            let start = first.range.start.max(copied_to);
            let mut end = first.range.end;
            let mut secret = false;
            while let Some(f) = findings.get(i) {
                if f.range.start >= end {
                    break;
                }
                end = end.max(f.range.end);
                let reason = f.detector.reason();
                secret |= reason == Reason::Secret;
                report.add(reason);
                i += 1;
            }
            if end <= start {
                continue;
            }
            out.push_str(text.get(copied_to..start).unwrap_or_default());
            let span = text.get(start..end).unwrap_or_default();
            if !secret && self.policy.replacement() == ReplacementKind::Hash {
                out.push_str(&self.hash(span));
                report.mark_hashed();
            } else {
                out.push_str(MASK);
            }
            copied_to = end;
        }
        out.push_str(text.get(copied_to..).unwrap_or_default());
        (out, report)
    }

    /// A whole value under a blocked key: the salted hash of its truncated form in hash mode,
    /// else the mask.
    fn replace_whole(&self, value: &str) -> (String, Report) {
        self.replace_span(value, Reason::Pattern)
    }

    fn replace_span(&self, value: &str, reason: Reason) -> (String, Report) {
        let mut report = Report::with_reason(reason);
        if self.policy.replacement() == ReplacementKind::Hash {
            let basis = match self.cut_point(value) {
                Some(cut) => {
                    report.add(Reason::Length);
                    value.get(..cut).unwrap_or(value)
                }
                None => value,
            };
            report.mark_hashed();
            (self.hash(basis), report)
        } else {
            (MASK.to_owned(), report)
        }
    }

    fn hash(&self, value: &str) -> String {
        let mut hasher = Sha256::new();
        hasher.update(self.policy.hash_salt().as_bytes());
        hasher.update(value.as_bytes());
        let digest = hasher.finalize();
        let mut out = String::with_capacity(HASH_PREFIX.len() + 64);
        out.push_str(HASH_PREFIX);
        out.push_str(&hex::encode(digest.as_slice()));
        out
    }
}

/// What a URL key holds.
#[derive(Clone, Copy)]
enum UrlPart {
    /// A URL or a request target.
    Url,
    /// A query string (`url.query`).
    Query,
}

impl UrlPart {
    /// `value` with user-info and the non-allow-listed query values masked.
    fn sanitize<'v>(self, value: &'v str, allowed: &QueryAllowList) -> Cow<'v, str> {
        match self {
            UrlPart::Url => sanitize_url(value, allowed),
            UrlPart::Query => sanitize_query(value, allowed),
        }
    }
}

/// Whether `key` is `segment` or ends with `.` + `segment` (ASCII case ignored).
fn ends_with_segment(key: &[u8], segment: &[u8]) -> bool {
    key.len().checked_sub(segment.len()).is_some_and(|start| {
        key.get(start..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(segment))
            && (start == 0 || key.get(start - 1) == Some(&b'.'))
    })
}

/// The dotted path of the key being visited, built without allocating for paths up to
/// `INLINE` bytes.
struct KeyPath {
    inline: [u8; KeyPath::INLINE],
    len: usize,
    spilled: Option<String>,
}

impl KeyPath {
    const INLINE: usize = 256;

    fn new() -> Self {
        KeyPath {
            inline: [0; Self::INLINE],
            len: 0,
            spilled: None,
        }
    }

    /// Appends a segment; returns the length to truncate back to.
    fn push(&mut self, segment: &str) -> usize {
        let mark = self.len;
        let dot = usize::from(mark > 0);
        let new_len = mark + dot + segment.len();
        match &mut self.spilled {
            Some(heap) => {
                if dot == 1 {
                    heap.push('.');
                }
                heap.push_str(segment);
            }
            None if new_len <= Self::INLINE => {
                if let Some(slot) = self.inline.get_mut(mark..new_len) {
                    if let Some((first, rest)) = slot.split_first_mut().filter(|_| dot == 1) {
                        *first = b'.';
                        rest.copy_from_slice(segment.as_bytes());
                    } else {
                        slot.copy_from_slice(segment.as_bytes());
                    }
                }
            }
            None => {
                let mut heap = String::with_capacity(new_len * 2);
                heap.push_str(self.inline_str());
                if dot == 1 {
                    heap.push('.');
                }
                heap.push_str(segment);
                self.spilled = Some(heap);
            }
        }
        self.len = new_len;
        mark
    }

    fn truncate(&mut self, mark: usize) {
        self.len = mark;
        if let Some(heap) = &mut self.spilled {
            heap.truncate(mark);
        }
    }

    /// Always valid UTF-8: only whole `&str` segments and `.` are ever written, and
    /// truncation goes back to a segment boundary. Checked anyway (no `unsafe`).
    fn inline_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }

    fn as_bytes(&self) -> &[u8] {
        match &self.spilled {
            Some(heap) => heap.as_bytes(),
            None => self.inline.get(..self.len).unwrap_or_default(),
        }
    }

    /// The path as text, for audit records (not on the clean path).
    fn as_str(&self) -> &str {
        match &self.spilled {
            Some(heap) => heap,
            None => self.inline_str(),
        }
    }
}

#[cfg(test)]
mod tests;
