//! Fail-closed redaction for every signal that leaves a Stella Ops process: span and log
//! attributes, log messages, and nested JSON records.
//!
//! ```
//! use stellaops_redaction::{Reason, RedactionPolicy, Redactor};
//!
//! let redactor = Redactor::new(RedactionPolicy::default());
//!
//! // Log messages: only the secret spans go, the message stays readable.
//! let (message, report) = redactor.redact_text("login failed for bob@example.com with password=hunter2");
//! assert_eq!(message, "login failed for [redacted] with password=[redacted]");
//! assert!(report.scrubbed());
//!
//! // Attributes: blocked keys are masked whole, matched on any dotted segment.
//! let value = redactor.redact_value("http.request.header.authorization", "Bearer abc123");
//! assert_eq!(value.value(), Some("[redacted]"));
//! assert!(value.report().reasons().contains(Reason::Pattern));
//!
//! // Records: maps and arrays are walked.
//! let mut record = serde_json::json!({"tenant": "acme", "headers": {"Cookie": "sid=1"}});
//! redactor.redact_json(&mut record);
//! assert_eq!(record, serde_json::json!({"tenant": "acme", "headers": {"Cookie": "[redacted]"}}));
//! ```
//!
//! - [`RedactionPolicy`]: block-list or fail-closed allow-list mode, always-kept keys, blocked
//!   key patterns, detectors, `[redacted]` or salted SHA-256 replacement, `max_value_length`,
//!   ticketed overrides that expire. Built in code ([`RedactionPolicy::builder`]) or loaded from
//!   a JSON policy file ([`PolicyFile`]).
//! - [`Redactor`]: applies a policy and returns a [`Report`] (reasons `secret`, `pii`,
//!   `length`, `pattern`, `not_allowed`, and whether a hash was written). Clean input comes
//!   back borrowed; nothing is allocated.
//! - [`sanitize_url`], [`sanitize_query`], [`Redactor::redact_url`]: URLs keep scheme, host
//!   and path; the user-info and every query value not on a [`QueryAllowList`] are masked.
//!   [`Redactor::redact_value`] applies this to the [`URL_KEYS`] attributes.
//! - [`ScrubMetrics`]: the `telemetry_scrub_events_total{tenant,reason}` counter family.
//! - [`OverrideAudit`]: where override uses are reported (a `tracing` event by default).
//!
//! The detectors ([`Detector`]) sit behind three prefilter passes (a SIMD search for token
//! prefixes, a `memchr3` search for `@`, `=` and `:`, a skip-ahead digit scan), so clean text
//! costs three fast linear passes and no allocation. See `docs/redaction.md` for the policy
//! file format and what each reason means.
//!
//! # Feature flags
//!
//! None.
//!
//! # Supported Rust versions
//!
//! The workspace's `rust-version` (1.88) and later.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![warn(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod audit;
mod clock;
mod detector;
mod error;
mod key_pattern;
mod metrics;
mod policy;
mod reason;
mod redactor;
mod url;

pub use audit::{OverrideAudit, OverrideRecord, OverrideUse, RecordingAudit, TracingAudit};
pub use clock::{Clock, ManualClock, SystemClock};
pub use detector::{Detector, DetectorSet};
pub use error::PolicyError;
pub use metrics::{ScrubLabels, ScrubMetrics};
pub use policy::{
    DEFAULT_ALWAYS_KEPT, DEFAULT_BLOCKED_KEYS, DEFAULT_MAX_VALUE_LENGTH, DEFAULT_OVERRIDE_TTL,
    DEFAULT_TEXT_KEYS, Mode, Override, PolicyFile, RedactionPolicy, RedactionPolicyBuilder,
    ReplacementKind,
};
pub use reason::{Reason, ReasonSet, Report};
pub use redactor::{KeyDecision, Redacted, Redactor};
pub use url::URL_KEYS;
pub use url::{DEFAULT_URL_QUERY_ALLOW, QueryAllowList, sanitize_query, sanitize_url};
