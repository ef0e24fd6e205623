//! Export windows: `24h`, `90m`, `7d` (the last N units up to now) or an explicit
//! `start/end` range of two RFC 3339 instants; half-open `[start, end)`, at most 31 days.
//!
//! A private copy of `stellaops_telemetry_core::window::Window` with exactly its API, so the
//! core type can replace it with a one-line `use` change once it lands.

use chrono::{DateTime, Duration, Utc};

/// The longest window an export may cover.
pub const MAX_WINDOW: Duration = Duration::days(31);

/// A half-open UTC time window `[start, end)`.
///
/// ```
/// use stellaops_telemetry_http::window::Window;
///
/// let now = "2025-03-02T00:00:00Z".parse()?;
/// let last_day = Window::parse("24h", now)?;
/// assert_eq!(last_day.start.to_rfc3339(), "2025-03-01T00:00:00+00:00");
/// assert_eq!(last_day.end, now);
///
/// let range = Window::parse("2025-03-01T00:00:00Z/2025-03-01T06:00:00Z", now)?;
/// assert_eq!(range.end - range.start, chrono::Duration::hours(6));
/// assert_eq!(Window::parse("0h", now).unwrap_err().code(), "telemetry.capture.invalid_window");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Window {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

/// Why a window text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// Neither a duration (`24h`) nor a `start/end` range.
    #[error(
        "window {text:?}: expected a duration like 24h, 90m or 7d, or an RFC 3339 range start/end"
    )]
    Syntax {
        /// What was given.
        text: String,
    },
    /// One end of a range is not an RFC 3339 instant.
    #[error("window {text:?}: the {which} {value:?} is not an RFC 3339 instant ({detail})")]
    Instant {
        /// What was given.
        text: String,
        /// `start` or `end`.
        which: &'static str,
        /// The offending part.
        value: String,
        /// The parser's explanation.
        detail: String,
    },
    /// Empty or inverted window.
    #[error("window {text:?}: expected start before end")]
    Empty {
        /// What was given.
        text: String,
    },
    /// Longer than [`MAX_WINDOW`].
    #[error("window {text:?}: covers more than the maximum of 31 days")]
    TooLong {
        /// What was given.
        text: String,
    },
}

impl WindowError {
    /// The stable code of every window error: `telemetry.capture.invalid_window`.
    pub fn code(&self) -> &'static str {
        "telemetry.capture.invalid_window"
    }
}

impl Window {
    /// Parses `text` relative to `now`.
    ///
    /// # Errors
    /// [`WindowError`] naming what is wrong: syntax, a bad instant, an empty or inverted
    /// range, or more than 31 days.
    pub fn parse(text: &str, now: DateTime<Utc>) -> Result<Window, WindowError> {
        let trimmed = text.trim();
        let window = if let Some((start, end)) = trimmed.split_once('/') {
            let start = instant(text, "start", start)?;
            let end = instant(text, "end", end)?;
            Window { start, end }
        } else {
            let length = duration(trimmed).ok_or_else(|| WindowError::Syntax {
                text: text.to_owned(),
            })?;
            if length > MAX_WINDOW {
                return Err(WindowError::TooLong {
                    text: text.to_owned(),
                });
            }
            let start = now
                .checked_sub_signed(length)
                .ok_or_else(|| WindowError::TooLong {
                    text: text.to_owned(),
                })?;
            Window { start, end: now }
        };
        if window.start >= window.end {
            return Err(WindowError::Empty {
                text: text.to_owned(),
            });
        }
        if window.end - window.start > MAX_WINDOW {
            return Err(WindowError::TooLong {
                text: text.to_owned(),
            });
        }
        Ok(window)
    }

    /// Whether `at` falls inside `[start, end)`.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at < self.end
    }
}

fn instant(text: &str, which: &'static str, value: &str) -> Result<DateTime<Utc>, WindowError> {
    DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| WindowError::Instant {
            text: text.to_owned(),
            which,
            value: value.to_owned(),
            detail: e.to_string(),
        })
}

/// `<digits><m|h|d>`, positive, without overflow.
fn duration(text: &str) -> Option<Duration> {
    let unit = text.chars().last()?;
    let digits = text.get(..text.len() - unit.len_utf8())?;
    if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    if n == 0 {
        return None;
    }
    match unit {
        'm' => Some(Duration::minutes(n)),
        'h' => Some(Duration::hours(n)),
        'd' => Some(Duration::days(n)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn now() -> DateTime<Utc> {
        "2025-03-02T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn durations_end_now() {
        for (text, len) in [
            ("24h", Duration::hours(24)),
            ("90m", Duration::minutes(90)),
            ("7d", Duration::days(7)),
            ("31d", Duration::days(31)),
        ] {
            let w = Window::parse(text, now()).unwrap();
            assert_eq!((w.end, w.end - w.start), (now(), len), "{text}");
        }
    }

    #[test]
    fn ranges_are_half_open_and_bounded() {
        let w = Window::parse("2025-03-01T00:00:00+01:00/2025-03-01T01:00:00Z", now()).unwrap();
        assert_eq!(w.end - w.start, Duration::hours(2));
        assert!(w.contains(w.start));
        assert!(!w.contains(w.end));
        for bad in [
            "",
            "24",
            "h",
            "-1h",
            "0m",
            "1w",
            "32d",
            "745h",
            "2025-03-01T00:00:00Z/2025-03-01T00:00:00Z",
            "2025-03-02T00:00:00Z/2025-03-01T00:00:00Z",
            "2025-01-01T00:00:00Z/2025-03-01T00:00:00Z",
            "2025-03-01/2025-03-02",
            "999999999999d",
        ] {
            let err = Window::parse(bad, now()).unwrap_err();
            assert_eq!(err.code(), "telemetry.capture.invalid_window", "{bad}");
        }
    }
}
