//! [`OutcomeError`]: why a report could not be produced or encoded, with a stable machine
//! `code()` for each case.

use chrono::{DateTime, Utc};
use stellaops_dora_metrics::DoraError;

/// Why an outcome report could not be produced or encoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutcomeError {
    /// The window spans more UTC days than a report lists (one daily entry per day).
    #[error(
        "window {from} to {to} spans {days} UTC days; expected at most {max} (a report has one daily entry per day)"
    )]
    WindowTooLong {
        /// Window start.
        from: DateTime<Utc>,
        /// Window end (exclusive).
        to: DateTime<Utc>,
        /// UTC days the window touches.
        days: u64,
        /// The limit, [`MAX_REPORT_DAYS`](crate::MAX_REPORT_DAYS).
        max: u64,
    },
    /// Reading events from the DORA store failed.
    #[error("reading DORA events: {0}")]
    Store(#[from] DoraError),
    /// The report could not be encoded as JSON.
    #[error("encoding the report as JSON: {0}")]
    Encode(#[source] serde_json::Error),
    /// The name of a report format was not one of `json`, `md`/`markdown` or `html`.
    #[error("unknown report format {found:?}: expected json, md (or markdown) or html")]
    UnknownFormat {
        /// What was given.
        found: String,
    },
}

impl OutcomeError {
    /// A stable machine code: `outcome.window_too_long`, `outcome.store_failed`,
    /// `outcome.encode_failed` or `outcome.unknown_format`.
    pub fn code(&self) -> &'static str {
        match self {
            OutcomeError::WindowTooLong { .. } => "outcome.window_too_long",
            OutcomeError::Store(_) => "outcome.store_failed",
            OutcomeError::Encode(_) => "outcome.encode_failed",
            OutcomeError::UnknownFormat { .. } => "outcome.unknown_format",
        }
    }
}
