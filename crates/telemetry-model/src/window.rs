//! Capture windows: `24h`, `90m`, `7d`, `30s` (the last span of time before `now`) or an
//! RFC 3339 range `START/END`, always half-open `[start, end)`.
//!
//! Used by spool capture, the CLI and the HTTP layer; it knows nothing about the spool.
//!
//! ```
//! use chrono::{DateTime, Utc};
//! use stellaops_telemetry_model::window::Window;
//!
//! let now: DateTime<Utc> = "2025-03-02T00:00:00Z".parse()?;
//! let last_day = Window::parse("24h", now)?;
//! assert_eq!(last_day.to_string(), "2025-03-01T00:00:00Z/2025-03-02T00:00:00Z");
//! assert!(last_day.contains("2025-03-01T12:00:00Z".parse()?));
//! assert!(!last_day.contains(now)); // the end is exclusive
//!
//! let range = Window::parse("2025-01-01T00:00:00Z/2025-01-01T06:00:00Z", now)?;
//! assert_eq!(range.end - range.start, chrono::Duration::hours(6));
//!
//! let err = Window::parse("24x", now).unwrap_err();
//! assert_eq!(err.code(), "telemetry.capture.invalid_window");
//! assert!(err.to_string().contains("unit \"x\""), "{err}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// The longest relative window accepted: 3660 days (about ten years).
pub const MAX_RELATIVE_DAYS: i64 = 3660;

/// A half-open time window `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Window {
    /// Inclusive start.
    pub start: DateTime<Utc>,
    /// Exclusive end.
    pub end: DateTime<Utc>,
}

/// Why a window text was refused; the message names the part that was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WindowError {
    /// Nothing was given.
    #[error(
        "window is empty: expected a duration such as 24h, 90m, 7d or an RFC 3339 range START/END"
    )]
    Empty,
    /// A relative duration (`24h`) could not be used.
    #[error("window duration {text:?}: {reason}")]
    Duration {
        /// The duration text.
        text: String,
        /// What was wrong with it.
        reason: String,
    },
    /// The start of a range is not an RFC 3339 time.
    #[error("window start {text:?}: expected an RFC 3339 time such as 2025-01-01T00:00:00Z")]
    Start {
        /// The start text.
        text: String,
    },
    /// The end of a range is not an RFC 3339 time.
    #[error("window end {text:?}: expected an RFC 3339 time such as 2025-01-02T00:00:00Z")]
    End {
        /// The end text.
        text: String,
    },
    /// The end of a range is not after its start.
    #[error("window range {start}/{end}: expected the end after the start")]
    Order {
        /// The start, as given.
        start: String,
        /// The end, as given.
        end: String,
    },
}

impl WindowError {
    /// The stable machine code: always `telemetry.capture.invalid_window`.
    pub fn code(&self) -> &'static str {
        "telemetry.capture.invalid_window"
    }
}

impl Window {
    /// A window from `start` (inclusive) to `end` (exclusive).
    ///
    /// # Errors
    /// [`WindowError::Order`] when `end` is not after `start`.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<Self, WindowError> {
        if end <= start {
            return Err(WindowError::Order {
                start: rfc3339(start),
                end: rfc3339(end),
            });
        }
        Ok(Self { start, end })
    }

    /// Parses `text`: a positive whole number with a unit `s`, `m`, `h` or `d` (the window
    /// ending at `now`), or `START/END` in RFC 3339 (`now` unused). Surrounding whitespace is
    /// ignored.
    ///
    /// # Errors
    /// [`WindowError`] naming the part that is wrong (code
    /// `telemetry.capture.invalid_window`).
    pub fn parse(text: &str, now: DateTime<Utc>) -> Result<Self, WindowError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(WindowError::Empty);
        }
        if let Some((start, end)) = text.split_once('/') {
            let (start, end) = (start.trim(), end.trim());
            let s = DateTime::parse_from_rfc3339(start)
                .map_err(|_| WindowError::Start {
                    text: start.to_owned(),
                })?
                .with_timezone(&Utc);
            let e = DateTime::parse_from_rfc3339(end)
                .map_err(|_| WindowError::End {
                    text: end.to_owned(),
                })?
                .with_timezone(&Utc);
            if e <= s {
                return Err(WindowError::Order {
                    start: start.to_owned(),
                    end: end.to_owned(),
                });
            }
            return Ok(Self { start: s, end: e });
        }
        let span = parse_duration(text)?;
        let start = now
            .checked_sub_signed(span)
            .ok_or_else(|| WindowError::Duration {
                text: text.to_owned(),
                reason: "reaches before the earliest representable time".into(),
            })?;
        Ok(Self { start, end: now })
    }

    /// Whether `t` is inside (`start <= t < end`).
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }

    /// Whether the closed interval `[start, end]` shares any instant with the window.
    pub fn overlaps(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> bool {
        start < self.end && end >= self.start
    }

    /// The window's length.
    pub fn duration(&self) -> TimeDelta {
        self.end - self.start
    }
}

impl std::fmt::Display for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", rfc3339(self.start), rfc3339(self.end))
    }
}

impl std::str::FromStr for Window {
    type Err = WindowError;

    /// Parses an absolute `START/END` range (relative durations need a `now`: use
    /// [`Window::parse`]).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if !s.contains('/') {
            return Err(WindowError::Duration {
                text: s.trim().to_owned(),
                reason: "a relative duration needs the current time; use Window::parse".into(),
            });
        }
        Self::parse(s, DateTime::<Utc>::UNIX_EPOCH)
    }
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

fn parse_duration(text: &str) -> Result<TimeDelta, WindowError> {
    let bad = |reason: String| WindowError::Duration {
        text: text.to_owned(),
        reason,
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    if digits.is_empty() {
        return Err(bad(format!(
            "expected a whole number before the unit, found {unit:?} (e.g. 24h, 90m, 7d, or START/END)"
        )));
    }
    let value: i64 = digits
        .parse()
        .map_err(|_| bad(format!("number {digits:?} is too large")))?;
    if value == 0 {
        return Err(bad("expected a duration above zero, found 0".into()));
    }
    let seconds_per_unit: i64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "" => {
            return Err(bad(
                "missing unit: expected one of s, m, h, d (e.g. 24h)".into()
            ));
        }
        other => {
            return Err(bad(format!(
                "unit {other:?} is unknown: expected one of s, m, h, d"
            )));
        }
    };
    let seconds = value
        .checked_mul(seconds_per_unit)
        .filter(|s| *s <= MAX_RELATIVE_DAYS * 86_400)
        .ok_or_else(|| bad(format!("expected at most {MAX_RELATIVE_DAYS} days")))?;
    TimeDelta::try_seconds(seconds).ok_or_else(|| bad("duration out of range".into()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use proptest::prelude::*;

    fn now() -> DateTime<Utc> {
        "2025-06-01T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn relative_windows_end_now() {
        for (text, secs) in [("24h", 86_400), ("90m", 5400), ("7d", 604_800), ("30s", 30)] {
            let w = Window::parse(text, now()).unwrap();
            assert_eq!(w.end, now());
            assert_eq!(w.duration().num_seconds(), secs, "{text}");
        }
        assert_eq!(
            Window::parse(" 1h ", now()).unwrap(),
            Window::parse("60m", now()).unwrap()
        );
    }

    #[test]
    fn ranges_accept_offsets_and_fractions() {
        let w = Window::parse("2025-01-01T01:00:00+01:00/2025-01-01T00:30:00.5Z", now()).unwrap();
        assert_eq!(
            w.start,
            "2025-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            w.to_string(),
            "2025-01-01T00:00:00Z/2025-01-01T00:30:00.500Z"
        );
    }

    #[test]
    fn errors_name_the_bad_part() {
        let cases = [
            ("", "empty"),
            ("24", "missing unit"),
            ("24x", "unit \"x\""),
            ("h", "whole number"),
            ("0h", "above zero"),
            ("-5h", "whole number"),
            ("99999999999999999999h", "too large"),
            ("4000d", "at most 3660 days"),
            (
                "yesterday/2025-01-01T00:00:00Z",
                "window start \"yesterday\"",
            ),
            ("2025-01-01T00:00:00Z/tomorrow", "window end \"tomorrow\""),
            (
                "2025-01-02T00:00:00Z/2025-01-01T00:00:00Z",
                "end after the start",
            ),
            (
                "2025-01-01T00:00:00Z/2025-01-01T00:00:00Z",
                "end after the start",
            ),
        ];
        for (text, needle) in cases {
            let err = Window::parse(text, now()).unwrap_err();
            assert_eq!(err.code(), "telemetry.capture.invalid_window");
            assert!(err.to_string().contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn overlaps_and_contains_are_half_open() {
        let w = Window::parse("2025-01-01T00:00:00Z/2025-01-02T00:00:00Z", now()).unwrap();
        let t = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert!(w.contains(t("2025-01-01T00:00:00Z")));
        assert!(!w.contains(t("2025-01-02T00:00:00Z")));
        assert!(w.overlaps(t("2024-12-31T00:00:00Z"), t("2025-01-01T00:00:00Z")));
        assert!(!w.overlaps(t("2025-01-02T00:00:00Z"), t("2025-01-03T00:00:00Z")));
        assert!(!w.overlaps(t("2024-12-30T00:00:00Z"), t("2024-12-31T23:59:59Z")));
    }

    #[test]
    fn serde_round_trip() {
        let w = Window::parse("2h", now()).unwrap();
        let json = serde_json::to_string(&w).unwrap();
        assert_eq!(serde_json::from_str::<Window>(&json).unwrap(), w);
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,40}") {
            let _ = Window::parse(&text, now());
        }

        #[test]
        fn durations_parse_exactly(value in 1i64..10_000, unit in prop::sample::select(vec![("s", 1i64), ("m", 60), ("h", 3600), ("d", 86_400)])) {
            let text = format!("{value}{}", unit.0);
            match Window::parse(&text, now()) {
                Ok(w) => {
                    prop_assert_eq!(w.end, now());
                    prop_assert_eq!(w.duration().num_seconds(), value * unit.1);
                }
                Err(e) => prop_assert!(value * unit.1 > MAX_RELATIVE_DAYS * 86_400, "{}", e),
            }
        }

        #[test]
        fn display_round_trips(start in 0i64..4_000_000_000, len in 1i64..1_000_000_000, nanos in 0u32..1_000_000_000) {
            let s = DateTime::from_timestamp(start, nanos).unwrap();
            let e = s + TimeDelta::milliseconds(len);
            let w = Window::new(s, e).unwrap();
            prop_assert_eq!(Window::parse(&w.to_string(), now()).unwrap(), w);
            prop_assert_eq!(w.to_string().parse::<Window>().unwrap(), w);
        }

        #[test]
        fn contains_implies_overlaps(a in 0i64..1000, b in 1i64..1000, t in 0i64..3000) {
            let base = now();
            let w = Window::new(base + TimeDelta::seconds(a), base + TimeDelta::seconds(a + b)).unwrap();
            let at = base + TimeDelta::seconds(t);
            if w.contains(at) { prop_assert!(w.overlaps(at, at)); }
            else { prop_assert!(!w.overlaps(at, at)); }
        }
    }
}
