//! How fast and how persistently a replay sends: the retry [`Backoff`] and the [`Rate`]
//! limit with their defaults. Not the sending itself (`sender`), which applies them.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The first back-off delay: 100 ms.
pub const DEFAULT_INITIAL_BACKOFF: Duration = Duration::from_millis(100);
/// The longest back-off delay: 5 s.
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Retries of one record before the collector counts as unreachable: 10 (about 26 s of
/// back-off with the default delays).
pub const DEFAULT_MAX_RETRIES: u32 = 10;
/// The highest accepted `--rate`: one million records per second.
pub const MAX_RATE: f64 = 1_000_000.0;

/// Exponential back-off: retry `n` (1-based) waits `initial * 2^(n-1)`, capped at `max`; a
/// record is retried at most `max_retries` times.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    max_retries: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: DEFAULT_INITIAL_BACKOFF,
            max: DEFAULT_MAX_BACKOFF,
            max_retries: DEFAULT_MAX_RETRIES,
        }
    }
}

impl Backoff {
    /// A back-off starting at `initial`, doubling up to `max`, giving up after `max_retries`
    /// retries of the same record. `max` below `initial` is raised to `initial`.
    pub fn new(initial: Duration, max: Duration, max_retries: u32) -> Self {
        Self {
            initial,
            max: max.max(initial),
            max_retries,
        }
    }

    /// The delay before retry `retry` (1-based; 0 is treated as 1).
    ///
    /// ```
    /// use std::time::Duration;
    /// use stellaops_telemetry_core::replay::Backoff;
    /// let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 5);
    /// let delays: Vec<_> = (1..=5).map(|n| b.delay(n).as_millis()).collect();
    /// assert_eq!(delays, [100, 200, 400, 800, 1000]);
    /// ```
    pub fn delay(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(32);
        self.initial
            .checked_mul(1u32 << doublings.min(31))
            .unwrap_or(self.max)
            .min(self.max)
    }

    /// Retries of one record before giving up.
    pub fn max_retries(&self) -> u32 {
        self.max_retries
    }
}

/// A replay rate in records per second: finite, above zero, at most [`MAX_RATE`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate(f64);

/// A rate that could not be parsed or is out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid rate {text:?}: expected {expected}")]
#[non_exhaustive]
pub struct RateError {
    /// What was given.
    pub text: String,
    /// What would have been accepted.
    pub expected: &'static str,
}

impl RateError {
    /// The stable machine code, `replay.invalid_rate`.
    pub fn code(&self) -> &'static str {
        "replay.invalid_rate"
    }
}

const RATE_GRAMMAR: &str =
    "records per second as a decimal number above 0 and at most 1000000, such as 50 or 0.5";

impl Rate {
    /// A rate of `per_second` records per second.
    ///
    /// # Errors
    /// [`RateError`] when it is not finite, not above zero or above [`MAX_RATE`].
    pub fn new(per_second: f64) -> Result<Self, RateError> {
        if per_second.is_finite() && per_second > 0.0 && per_second <= MAX_RATE {
            Ok(Self(per_second))
        } else {
            Err(RateError {
                text: per_second.to_string(),
                expected: RATE_GRAMMAR,
            })
        }
    }

    /// Parses `DIGITS[.DIGITS]` (surrounding spaces allowed; no sign, exponent, `inf`, `nan`
    /// or hex).
    ///
    /// ```
    /// use stellaops_telemetry_core::replay::Rate;
    /// assert_eq!(Rate::parse("50")?.per_second(), 50.0);
    /// assert_eq!(Rate::parse("0.5")?.interval().as_millis(), 2000);
    /// assert!(Rate::parse("0").is_err());
    /// assert!(Rate::parse("1e3").is_err());
    /// # Ok::<(), stellaops_telemetry_core::replay::RateError>(())
    /// ```
    ///
    /// # Errors
    /// [`RateError`] naming the text and the accepted form.
    pub fn parse(text: &str) -> Result<Self, RateError> {
        let bad = || RateError {
            text: text.to_owned(),
            expected: RATE_GRAMMAR,
        };
        let trimmed = text.trim();
        let (whole, fraction) = match trimmed.split_once('.') {
            Some((w, f)) => (w, Some(f)),
            None => (trimmed, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
            return Err(bad());
        }
        let value: f64 = trimmed.parse().map_err(|_| bad())?;
        Self::new(value).map_err(|_| bad())
    }

    /// Records per second.
    pub fn per_second(&self) -> f64 {
        self.0
    }

    /// The time between two records.
    pub fn interval(&self) -> Duration {
        Duration::from_secs_f64(1.0 / self.0)
    }
}

impl FromStr for Rate {
    type Err = RateError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/s", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Backoff::default();
        assert_eq!(b.delay(1), Duration::from_millis(100));
        assert_eq!(b.delay(2), Duration::from_millis(200));
        assert_eq!(b.delay(6), Duration::from_millis(3200));
        assert_eq!(b.delay(7), Duration::from_secs(5));
        assert_eq!(b.delay(u32::MAX), Duration::from_secs(5));
        assert_eq!(b.delay(0), Duration::from_millis(100));
    }

    #[test]
    fn rate_rejects_what_is_not_a_plain_positive_decimal() {
        for bad in [
            "", " ", "0", "0.0", "-1", "+1", "1e3", "inf", "NaN", "0x10", "1.", ".5", "1,5",
            "1000001", "1 000",
        ] {
            let err = Rate::parse(bad).unwrap_err();
            assert_eq!(err.code(), "replay.invalid_rate");
            assert!(err.to_string().contains("records per second"), "{err}");
        }
        assert_eq!(Rate::parse(" 2.5 ").unwrap().per_second(), 2.5);
        assert_eq!(Rate::parse("1000000").unwrap().per_second(), MAX_RATE);
    }

    proptest! {
        #[test]
        fn rate_parse_never_panics(text in "\\PC{0,24}") {
            let _ = Rate::parse(&text);
        }

        #[test]
        fn rate_round_trips_decimal_numbers(whole in 0u32..1_000_000, frac in 0u32..1000) {
            let text = format!("{whole}.{frac:03}");
            let value = f64::from(whole) + f64::from(frac) / 1000.0;
            match Rate::parse(&text) {
                Ok(rate) => {
                    prop_assert!(value > 0.0 && value <= MAX_RATE);
                    prop_assert!((rate.per_second() - value).abs() < 1e-9);
                    prop_assert!(rate.interval() > Duration::ZERO);
                }
                Err(_) => prop_assert!(value == 0.0 || value > MAX_RATE),
            }
        }

        #[test]
        fn backoff_is_monotonic_and_bounded(initial_ms in 1u64..10_000, max_ms in 1u64..100_000, retry in 1u32..200) {
            let b = Backoff::new(Duration::from_millis(initial_ms), Duration::from_millis(max_ms), 10);
            prop_assert!(b.delay(retry) <= b.delay(retry + 1));
            prop_assert!(b.delay(retry) <= Duration::from_millis(max_ms.max(initial_ms)));
            prop_assert!(b.delay(retry) >= Duration::from_millis(initial_ms));
        }
    }
}
