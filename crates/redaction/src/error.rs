//! Why a [`crate::RedactionPolicy`] could not be built or loaded.

use chrono::{DateTime, Utc};

/// A policy that cannot be built: every variant names what was expected, what was found and
/// where. [`PolicyError::code`] is a stable machine code.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PolicyError {
    /// The policy file is not valid JSON or does not have the policy file's shape.
    #[error(
        "policy file: expected a redaction policy JSON object, found an error at line {line} column {column}: {message}"
    )]
    Parse {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What serde_json reported.
        message: String,
    },
    /// A key pattern does not parse.
    #[error("{field}: key pattern {pattern:?} is invalid: {problem}")]
    InvalidPattern {
        /// The policy field holding the pattern (`blocked_keys`, `allowed_keys`, ...).
        field: &'static str,
        /// The pattern as written.
        pattern: String,
        /// What is wrong with it.
        problem: String,
    },
    /// An override without a ticket id.
    #[error("overrides: the override for key {key:?} has no ticket id; every override needs one")]
    MissingTicket {
        /// The override's key pattern.
        key: String,
    },
    /// An override whose TTL is zero.
    #[error(
        "overrides: the override {ticket:?} for key {key:?} has a zero TTL; expected at least one second"
    )]
    ZeroTtl {
        /// The ticket.
        ticket: String,
        /// The override's key pattern.
        key: String,
    },
    /// An override that has already expired: a service refuses to start with it.
    #[error(
        "overrides: the override {ticket:?} for key {key:?} expired at {expired_at}, before now ({now}); remove it or grant a new one"
    )]
    ExpiredOverride {
        /// The ticket.
        ticket: String,
        /// The override's key pattern.
        key: String,
        /// When it expired.
        expired_at: DateTime<Utc>,
        /// The time the policy was built at.
        now: DateTime<Utc>,
    },
    /// Hash replacement without a salt.
    #[error("hash_salt: replacement \"hash\" needs a non-empty salt, found none")]
    MissingSalt,
    /// `max_value_length` of zero.
    #[error("max_value_length: expected at least 1, found 0")]
    ZeroMaxValueLength,
    /// A `url_query_allow` entry that cannot be a query parameter name.
    #[error("url_query_allow: {name:?} is not a query parameter name: {problem}")]
    InvalidQueryName {
        /// The entry as written.
        name: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The trigger search could not be built.
    #[error("detectors: expected the trigger literal search to build, found it unsupported here")]
    Detectors,
}

impl PolicyError {
    /// A stable machine code, `redaction.policy.<what>`.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            PolicyError::Parse { .. } => "redaction.policy.parse",
            PolicyError::InvalidPattern { .. } => "redaction.policy.invalid_pattern",
            PolicyError::MissingTicket { .. } => "redaction.policy.override_ticket_missing",
            PolicyError::ZeroTtl { .. } => "redaction.policy.override_ttl_zero",
            PolicyError::ExpiredOverride { .. } => "redaction.policy.override_expired",
            PolicyError::MissingSalt => "redaction.policy.hash_salt_missing",
            PolicyError::ZeroMaxValueLength => "redaction.policy.max_value_length_zero",
            PolicyError::InvalidQueryName { .. } => "redaction.policy.invalid_url_query_allow",
            PolicyError::Detectors => "redaction.policy.detectors",
        }
    }
}
