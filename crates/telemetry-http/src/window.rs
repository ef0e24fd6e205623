//! Export windows: the window grammar of `stellaops_telemetry_model::window` (`24h`, `90m`,
//! `7d`, or an RFC 3339 `start/end` range; half-open `[start, end)`), limited to 31 days for
//! exports over HTTP.

use chrono::{DateTime, Duration, Utc};
pub use stellaops_telemetry_model::window::{Window, WindowError};

/// The longest window an export over HTTP may cover.
pub const MAX_WINDOW: Duration = Duration::days(31);

/// Why an export window was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ExportWindowError {
    /// Not a window at all (syntax, a bad instant, empty or inverted).
    #[error(transparent)]
    Invalid(#[from] WindowError),
    /// A valid window longer than [`MAX_WINDOW`].
    #[error("window {text:?}: covers more than the maximum of 31 days")]
    TooLong {
        /// What was given.
        text: String,
    },
}

impl ExportWindowError {
    /// The stable code of every window error: `telemetry.capture.invalid_window`.
    pub fn code(&self) -> &'static str {
        "telemetry.capture.invalid_window"
    }
}

/// Parses an export window relative to `now`: [`Window::parse`] plus the 31-day limit.
///
/// ```
/// use stellaops_telemetry_http::window::parse_export_window;
///
/// let now = "2025-03-02T00:00:00Z".parse()?;
/// let last_day = parse_export_window("24h", now)?;
/// assert_eq!(last_day.start.to_rfc3339(), "2025-03-01T00:00:00+00:00");
/// assert_eq!(last_day.end, now);
///
/// let range = parse_export_window("2025-03-01T00:00:00Z/2025-03-01T06:00:00Z", now)?;
/// assert_eq!(range.end - range.start, chrono::Duration::hours(6));
/// assert_eq!(parse_export_window("0h", now).unwrap_err().code(), "telemetry.capture.invalid_window");
/// assert_eq!(parse_export_window("32d", now).unwrap_err().code(), "telemetry.capture.invalid_window");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
/// [`ExportWindowError`] naming what is wrong.
pub fn parse_export_window(text: &str, now: DateTime<Utc>) -> Result<Window, ExportWindowError> {
    let window = Window::parse(text, now)?;
    if window.end - window.start > MAX_WINDOW {
        return Err(ExportWindowError::TooLong {
            text: text.to_owned(),
        });
    }
    Ok(window)
}
